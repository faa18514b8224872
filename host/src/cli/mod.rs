//! The `datasync` command line: argument parsing, logging set-up and dispatch. Each
//! command lives in its own file and returns the process exit code.

mod common;
mod import;
mod inspect;
mod mapping;
mod plugins;
mod progress;
mod queue;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failed command (bad input, bad config, problems found).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of `datasync plugins` when some library file was rejected.
pub const EXIT_PLUGINS_REJECTED: u8 = 2;

/// Pushes pretix orders into external systems through provider plugins.
#[derive(Debug, Parser)]
#[command(name = "datasync", version, about, long_about = None)]
pub struct Cli {
    /// Config file [default: ./datasync.toml; embedded defaults apply when it is absent]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Folder of provider libraries (overrides the config's plugins_dir)
    #[arg(long, global = true, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the providers loaded from the plugins folder and every rejected file
    Plugins(plugins::Args),
    /// Import pretix export documents and enqueue the changes for the configured providers
    Import(import::Args),
    /// Run the sync queue (daemon; --once processes what is due and exits)
    Run(run::Args),
    /// List the sync queue
    Queue(queue::QueueArgs),
    /// Make parked or scheduled jobs due now (attempts reset)
    Retry(queue::RetryArgs),
    /// Remove queued jobs (refuses jobs in flight)
    Cancel(queue::CancelArgs),
    /// Queue an order for sync by hand
    Enqueue(queue::EnqueueArgs),
    /// Show what was synced for an order, with external links
    Results(inspect::ResultsArgs),
    /// Show the sync log: successes, failures, manual actions
    Log(inspect::LogArgs),
    /// Count orders, synced objects, actions and problems per provider
    Stats(inspect::StatsArgs),
    /// List the pretix source fields of an event, by category
    Fields(mapping::FieldsArgs),
    /// Validate datasync.toml against the loaded plugins and the imported events
    Check(mapping::CheckArgs),
    /// Show the provider calls an order would produce, without calling anything
    Preview(mapping::PreviewArgs),
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Rust ignores SIGPIPE, so `datasync queue | head` would panic on a closed pipe; a
/// command-line tool should end quietly instead, like every other Unix tool.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.plugins_dir {
        config.plugins_dir = Some(std::path::absolute(&dir).unwrap_or(dir));
    }
    match cli.command {
        Command::Plugins(args) => plugins::run(&config, &args),
        Command::Import(args) => import::run(&config, &args),
        Command::Run(args) => run::run(&config, &args),
        Command::Queue(args) => queue::queue(&config, &args),
        Command::Retry(args) => queue::retry(&config, &args),
        Command::Cancel(args) => queue::cancel(&config, &args),
        Command::Enqueue(args) => queue::enqueue(&config, &args),
        Command::Results(args) => inspect::results(&config, &args),
        Command::Log(args) => inspect::log(&config, &args),
        Command::Stats(args) => inspect::stats(&config, &args),
        Command::Fields(args) => mapping::fields(&config, &args),
        Command::Check(args) => mapping::check(&config, &args),
        Command::Preview(args) => mapping::preview(&config, &args),
    }
}
