//! What several commands share: opening the store, loading plugins, printing JSON.

use anyhow::Context as _;

use crate::config::Config;
use crate::plugins::Registry;
use crate::store::Store;

/// Opens (creating if needed) the configured database.
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    let path = config.database_path();
    Store::open(&path).with_context(|| format!("opening database {}", path.display()))
}

/// Loads every plugin of the configured folder, warning about rejected files and about
/// configured providers that no plugin registers (their jobs are kept and parked).
pub fn load_plugins(config: &Config) -> anyhow::Result<Registry> {
    let dir = config.plugins_dir();
    let registry = Registry::load_dir(&dir).with_context(|| {
        format!(
            "reading plugins folder {}; pass a readable folder with --plugins-dir",
            dir.display()
        )
    })?;
    for rejected in registry.rejected() {
        tracing::warn!(
            "plugin {} rejected: {}",
            rejected.file.display(),
            rejected.reason
        );
    }
    for provider in &config.providers {
        if registry.get(&provider.identifier).is_none() {
            tracing::warn!(
                "provider {} is configured but no plugin in {} registers it; its jobs stay queued as provider_missing until the plugin is back",
                provider.identifier,
                dir.display()
            );
        }
    }
    Ok(registry)
}

/// Prints one JSON value per line on stdout.
pub fn print_json_line(value: &serde_json::Value) {
    println!("{value}");
}

/// Prints a JSON document on stdout.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
