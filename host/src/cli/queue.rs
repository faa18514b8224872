//! Queue operations: `queue`, `retry`, `cancel`, `enqueue`.

use anyhow::{bail, Context as _};
use serde_json::json;

use super::common::{load_plugins, open_store, print_json};
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::{Config, TRIGGERS};
use crate::store::{QueueFilter, QueueId, QueueRow, QueueState, RetrySelection, Store, Timestamp};
use crate::sync::Worker;

/// Arguments of `datasync queue`.
#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    /// Only sync problems: parked jobs and jobs that failed at least once
    #[arg(long)]
    problems: bool,
    /// Only this event
    #[arg(long, value_name = "SLUG")]
    event: Option<String>,
    /// Only this provider
    #[arg(long, value_name = "IDENTIFIER")]
    provider: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

/// Arguments of `datasync retry`.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    /// Queue row ids (see `datasync queue`)
    #[arg(
        value_name = "ROW",
        required_unless_present = "all_problems",
        conflicts_with = "all_problems"
    )]
    rows: Vec<i64>,
    /// Every parked or failed job
    #[arg(long)]
    all_problems: bool,
    /// Then sync these jobs right away in this process (exit 1 if one ends in a problem
    /// state) instead of waiting for `datasync run`
    #[arg(long)]
    now: bool,
}

/// Arguments of `datasync cancel`.
#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// Queue row ids (see `datasync queue`); jobs in flight are refused
    #[arg(value_name = "ROW", required = true)]
    rows: Vec<i64>,
}

/// Arguments of `datasync enqueue`.
#[derive(Debug, clap::Args)]
pub struct EnqueueArgs {
    /// Event slug
    #[arg(long, value_name = "SLUG")]
    event: String,
    /// Order code
    #[arg(long, value_name = "CODE")]
    order: String,
    /// Only this provider [default: every provider configured for the event]
    #[arg(long, value_name = "IDENTIFIER")]
    provider: Option<String>,
    /// Why, recorded as the job's trigger
    #[arg(long, default_value = "user", value_name = "TRIGGER")]
    trigger: String,
    /// Then sync these jobs right away in this process (exit 1 if one ends in a problem
    /// state) instead of waiting for `datasync run`; other due jobs are left to it
    #[arg(long)]
    now: bool,
}

fn state_name(state: QueueState) -> String {
    match state {
        QueueState::Pending => "pending".into(),
        QueueState::Scheduled => "scheduled".into(),
        QueueState::InFlight => "in_flight".into(),
        QueueState::Parked(mode) => format!("parked:{mode}"),
    }
}

fn row_json(row: &QueueRow) -> serde_json::Value {
    json!({
        "id": row.id.0,
        "event": row.event,
        "order": row.order_code,
        "provider": row.provider,
        "state": match row.state { QueueState::Parked(_) => "parked".to_string(), s => state_name(s) },
        "failure_mode": row.need_manual_retry.map(|m| m.as_str()),
        "attempts": row.failed_attempts,
        "snoozes": row.snoozes,
        "not_before": row.not_before.to_string(),
        "triggered_by": row.triggered_by,
        "last_error": row.last_error,
    })
}

pub(super) fn queue(config: &Config, args: &QueueArgs) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let filter = QueueFilter {
        problems_only: args.problems,
        event: args.event.clone(),
        provider: args.provider.clone(),
    };
    let rows = store.list_queue(&filter, Timestamp::now())?;
    if args.json {
        print_json(&json!({ "jobs": rows.iter().map(row_json).collect::<Vec<_>>() }))?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        println!(
            "{}",
            if args.problems {
                "no sync problems"
            } else {
                "the queue is empty"
            }
        );
        return Ok(EXIT_OK);
    }
    println!(
        "{:>6}  {:<12} {:<10} {:<16} {:<24} {:>8}  {:<27} LAST ERROR",
        "ID", "EVENT", "ORDER", "PROVIDER", "STATE", "ATTEMPTS", "NOT BEFORE"
    );
    for row in &rows {
        println!(
            "{:>6}  {:<12} {:<10} {:<16} {:<24} {:>8}  {:<27} {}",
            row.id.0,
            row.event,
            row.order_code,
            row.provider,
            state_name(row.state),
            row.failed_attempts,
            row.not_before.to_string(),
            row.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn retry(config: &Config, args: &RetryArgs) -> anyhow::Result<u8> {
    let mut store = open_store(config)?;
    let selection = if args.all_problems {
        RetrySelection::AllProblems
    } else {
        RetrySelection::Ids(args.rows.iter().copied().map(QueueId).collect())
    };
    let retried = store.retry(&selection, Timestamp::now())?;
    if args.now {
        return sync_now(config, store, &retried);
    }
    println!(
        "{} jobs due now; `datasync run` will sync them",
        retried.len()
    );
    Ok(EXIT_OK)
}

pub(super) fn cancel(config: &Config, args: &CancelArgs) -> anyhow::Result<u8> {
    let mut store = open_store(config)?;
    let ids: Vec<QueueId> = args.rows.iter().copied().map(QueueId).collect();
    let n = store.cancel(&ids, Timestamp::now())?;
    println!("{n} jobs canceled");
    Ok(EXIT_OK)
}

pub(super) fn enqueue(config: &Config, args: &EnqueueArgs) -> anyhow::Result<u8> {
    if args.trigger != "user" && !TRIGGERS.contains(&args.trigger.as_str()) {
        bail!(
            "unknown trigger {:?}; use one of user, {}",
            args.trigger,
            TRIGGERS.join(", ")
        );
    }
    let mut store = open_store(config)?;
    let order = store.order(&args.event, &args.order)?.with_context(|| {
        format!(
            "order {} of event {} is not in the database; import it first",
            args.order, args.event
        )
    })?;
    let providers: Vec<String> = match &args.provider {
        Some(p) => vec![p.clone()],
        None => config
            .providers_for_event(&args.event)
            .map(|p| p.identifier.clone())
            .collect(),
    };
    if providers.is_empty() {
        bail!(
            "no provider is configured for event {}; add a [[provider]] to the config",
            args.event
        );
    }
    let now = Timestamp::now();
    let mut jobs = Vec::with_capacity(providers.len());
    for provider in &providers {
        let enqueued = store.enqueue(order.id, provider, &args.trigger, None, now)?;
        jobs.push(enqueued.id);
        println!(
            "job {} for {provider}: {}",
            enqueued.id,
            if enqueued.created {
                "created"
            } else {
                "updated (was already queued)"
            }
        );
    }
    if args.now {
        return sync_now(config, store, &jobs);
    }
    Ok(EXIT_OK)
}

/// Syncs the given jobs in this process (pretix's `sync_single`), next to any running
/// `datasync run`: claims keep the two from taking the same job.
fn sync_now(config: &Config, store: Store, jobs: &[QueueId]) -> anyhow::Result<u8> {
    let registry = load_plugins(config)?;
    let worker = Worker::new(store, registry, config.clone());
    let summary = super::run::block_on(worker.sync_jobs(jobs))??;
    println!(
        "synced now: {} jobs, {} succeeded, {} retrying, {} rate-limited, {} parked",
        summary.claimed, summary.succeeded, summary.retried, summary.snoozed, summary.parked
    );
    let skipped = jobs.len().saturating_sub(summary.claimed);
    if skipped > 0 {
        println!("{skipped} jobs were not due or already in flight; `datasync queue` shows them");
    }
    if summary.problems > 0 {
        println!("see `datasync queue --problems` and `datasync log` for the errors");
        return Ok(EXIT_ERROR);
    }
    Ok(EXIT_OK)
}
