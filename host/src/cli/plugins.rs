//! `datasync plugins`: what the plugins folder holds.

use serde::Serialize;

use crate::config::Config;
use crate::plugins::{LoadedProvider, Registry, Rejection};

use super::{EXIT_OK, EXIT_PLUGINS_REJECTED};

/// Arguments of `datasync plugins`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document: {"providers": [...], "rejected": [{"file", "reason"}]}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    plugins_dir: String,
    providers: Vec<&'a LoadedProvider>,
    rejected: &'a [Rejection],
}

pub(super) fn run(config: &Config, args: &Args) -> anyhow::Result<u8> {
    let dir = config.plugins_dir();
    let registry = Registry::load_dir(&dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read plugins folder {}: {e}; pass a readable folder with --plugins-dir",
            dir.display()
        )
    })?;
    let report = Report {
        plugins_dir: dir.display().to_string(),
        providers: registry.providers().collect(),
        rejected: registry.rejected(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if report.rejected.is_empty() {
        EXIT_OK
    } else {
        EXIT_PLUGINS_REJECTED
    })
}

fn print_table(report: &Report<'_>) {
    println!("plugins folder: {}", report.plugins_dir);
    if report.providers.is_empty() {
        println!("no providers loaded");
    } else {
        println!(
            "{:<24} {:<32} {:>12} {:>9}  library",
            "IDENTIFIER", "DISPLAY NAME", "MAX ATTEMPTS", "API"
        );
        for p in &report.providers {
            println!(
                "{:<24} {:<32} {:>12} {:>9}  {}",
                p.identifier,
                p.display_name,
                p.max_attempts,
                p.api_version,
                p.library.display()
            );
        }
    }
    for r in report.rejected {
        println!("rejected {}: {}", r.file.display(), r.reason);
    }
}
