//! `datasync run [--once]`: the queue worker.

use serde_json::json;

use super::common::{load_plugins, open_store, print_json};
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::Config;
use crate::store::RunnerLock;
use crate::sync::{RunSummary, Worker};

/// Arguments of `datasync run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Process everything due now, then exit (0 if no job ended in a problem state, 1 otherwise)
    #[arg(long)]
    once: bool,
    /// Print the run summary as JSON
    #[arg(long)]
    json: bool,
}

pub(super) fn run(config: &Config, args: &Args) -> anyhow::Result<u8> {
    let registry = load_plugins(config)?;
    let _one_worker = RunnerLock::acquire(&config.database_path())?;
    let store = open_store(config)?;
    super::mapping::log_mapping_findings(config, &store)?;
    let worker = Worker::new(store, registry, config.clone());
    worker.recover()?;
    let summary = if args.once {
        block_on(worker.run_until_idle())??
    } else {
        tracing::info!("datasync worker running; stop with Ctrl-C or SIGTERM");
        block_on(worker.run(shutdown_signal()))??
    };
    report(&summary, args.json)?;
    Ok(if args.once && summary.problems > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

fn report(s: &RunSummary, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return print_json(&json!(s));
    }
    println!(
        "{} jobs: {} synced ({} objects), {} retrying, {} rate-limited, {} parked, {} superseded",
        s.claimed, s.succeeded, s.objects, s.retried, s.snoozed, s.parked, s.superseded
    );
    if s.problems > 0 {
        println!("see `datasync queue --problems` and `datasync log` for the errors");
    }
    Ok(())
}

/// Runs the worker on a fresh runtime. A provider call that timed out still occupies a
/// blocking thread that cannot be killed; the runtime is not waited on for it, so the
/// process can exit.
pub(super) fn block_on<T>(future: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = runtime.block_on(future);
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(out)
}

/// Completes on SIGINT or SIGTERM: stop claiming, finish the running batch, exit 0.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the running batch");
}
