//! The `datasync` command line: argument parsing, logging set-up and dispatch. Each
//! command lives in its own file and returns the process exit code.

mod plugins;

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
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
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

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.plugins_dir {
        config.plugins_dir = Some(std::path::absolute(&dir).unwrap_or(dir));
    }
    match cli.command {
        Command::Plugins(args) => plugins::run(&config, &args),
    }
}
