//! `datasync import FILE...`

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::json;

use super::common::{open_store, print_json};
use super::progress::ProgressBar;
use super::EXIT_OK;
use crate::config::Config;
use crate::import::{import_document, ImportCounts};
use crate::store::Timestamp;

/// Arguments of `datasync import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// pretix export documents: {"event", "settings", "items", "questions", "checkinlists", "subevents", "vouchers", "orders"}
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the counts as JSON
    #[arg(long)]
    json: bool,
}

pub(super) fn run(config: &Config, args: &Args) -> anyhow::Result<u8> {
    let mut store = open_store(config)?;
    let show_progress = std::io::stderr().is_terminal();
    let mut all = Vec::new();
    for (n, file) in args.files.iter().enumerate() {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?;
        let label = format!("[{}/{}] {name}", n + 1, args.files.len());
        let mut bar = show_progress.then(|| ProgressBar::new(label));
        let mut progress = |done: usize, total: usize| {
            if let Some(bar) = bar.as_mut() {
                bar.update("importing orders", done, total);
            }
        };
        let imported = import_document(
            &mut store,
            config,
            &name,
            &text,
            Timestamp::now(),
            &mut progress,
        );
        if let Some(bar) = bar {
            bar.finish();
        }
        let counts = imported?;
        tracing::info!(file = %name, ?counts, "imported");
        all.push((name, counts));
    }
    if args.json {
        let files: Vec<_> = all
            .iter()
            .map(|(file, c)| json!({"file": file, "event": c.event, "new": c.new, "changed": c.changed, "unchanged": c.unchanged, "enqueued": c.enqueued}))
            .collect();
        print_json(&json!({ "files": files }))?;
    } else {
        for (file, c) in &all {
            print_counts(file, c);
        }
    }
    Ok(EXIT_OK)
}

fn print_counts(file: &str, c: &ImportCounts) {
    println!(
        "{file}: event {}: {} new, {} changed, {} unchanged orders; {} sync jobs enqueued",
        c.event, c.new, c.changed, c.unchanged, c.enqueued
    );
}
