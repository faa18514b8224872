//! `datasync.toml`: where the database and plugins live, and per provider which events
//! it serves, on which triggers, with which settings and mappings.
//!
//! This module only parses; `mapping::validate` checks mappings against the catalog.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sync::RetryPolicy;

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "datasync.toml";
/// The database used when the config names none.
pub const DEFAULT_DATABASE: &str = "datasync.db";
/// The plugins folder used when the config names none.
pub const DEFAULT_PLUGINS_DIR: &str = "plugins";

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}; pass an existing file with --config")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("config file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite database file.
    #[serde(default)]
    pub database: Option<PathBuf>,
    /// Folder scanned for provider libraries.
    #[serde(default)]
    pub plugins_dir: Option<PathBuf>,
    /// How the sync worker claims and schedules jobs.
    #[serde(default)]
    pub worker: WorkerConfig,
    /// Configured providers, in file order.
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProviderConfig>,
    /// The folder relative paths are resolved against (the config file's folder).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// Which events a provider serves: every event (`"*"`) or the listed slugs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum EventSelector {
    /// `"*"` (any other single string is taken as one slug).
    One(String),
    /// A list of event slugs.
    List(Vec<String>),
}

impl Default for EventSelector {
    fn default() -> Self {
        EventSelector::One("*".to_string())
    }
}

impl EventSelector {
    /// Whether this selector includes the event.
    pub fn matches(&self, event_slug: &str) -> bool {
        match self {
            EventSelector::One(s) => s == "*" || s == event_slug,
            EventSelector::List(list) => list.iter().any(|s| s == event_slug),
        }
    }
}

/// One `[[provider]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The provider's identifier, as a loaded plugin registers it.
    pub identifier: String,
    /// The events it serves.
    #[serde(default)]
    pub events: EventSelector,
    /// Order changes that enqueue a sync: `placed`, `paid`, `canceled`, `changed`.
    #[serde(default = "all_triggers")]
    pub triggers: Vec<String>,
    /// Passed to the plugin's constructor as JSON.
    #[serde(default)]
    pub settings: toml::Table,
    /// Object mappings, in the order they run.
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<MappingConfig>,
    /// Per-event replacements of settings, triggers or mappings, keyed by event slug.
    #[serde(default, rename = "event")]
    pub event_overrides: BTreeMap<String, ProviderOverride>,
    /// Provider calls that may run at the same time.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Seconds one provider call may take before the job fails as `timeout`.
    #[serde(default = "default_call_timeout")]
    pub call_timeout_secs: f64,
    /// Backoff after recoverable errors, unless the provider sets its own delay.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// `retry_after` reschedules (which consume no attempt) before a job is parked as
    /// `exceeded` anyway, so a provider that always asks to wait cannot loop forever.
    #[serde(default = "default_max_snoozes")]
    pub max_snoozes: u32,
}

fn default_concurrency() -> usize {
    4
}

fn default_call_timeout() -> f64 {
    60.0
}

fn default_max_snoozes() -> u32 {
    100
}

/// The `[worker]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Jobs claimed per batch (pretix: 1000).
    pub batch_size: usize,
    /// How often `datasync run` looks for due jobs when nothing woke it, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claim lasts before an unfinished job is considered hung, in seconds.
    pub lease_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch_size: 1000,
            poll_interval_ms: 1000,
            lease_secs: 20 * 60,
        }
    }
}

/// Per-event replacement of parts of a `[[provider]]` table (`[provider.event.SLUG]`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProviderOverride {
    /// Replaces the provider's settings for this event.
    #[serde(default)]
    pub settings: Option<toml::Table>,
    /// Replaces the provider's triggers for this event.
    #[serde(default)]
    pub triggers: Option<Vec<String>>,
    /// Replaces the provider's mappings for this event.
    #[serde(default, rename = "mapping")]
    pub mappings: Option<Vec<MappingConfig>>,
}

/// The triggers that exist, which is also the default set.
pub const TRIGGERS: [&str; 4] = ["placed", "paid", "canceled", "changed"];

fn all_triggers() -> Vec<String> {
    TRIGGERS.iter().map(|t| t.to_string()).collect()
}

/// One `[[provider.mapping]]` table. Model and modes stay text here so that
/// validation can name a bad value instead of failing the whole parse.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Unique id within the provider.
    pub id: i64,
    /// `Order` or `OrderPosition`.
    pub model: String,
    /// External object type.
    pub external_object_type: String,
    /// Catalog key of the identifying value.
    pub pretix_id_field: String,
    /// Identifier field in the external system.
    pub external_id_field: String,
    /// Property mappings, in order.
    #[serde(default)]
    pub properties: Vec<PropertyConfig>,
    /// Provider-defined extras (e.g. associations), passed to the plugin as JSON.
    #[serde(default)]
    pub extra: toml::Table,
}

/// One property mapping entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PropertyConfig {
    /// Catalog key.
    pub pretix_field: String,
    /// Target field.
    pub external_field: String,
    /// Enum option → external value.
    #[serde(default)]
    pub value_map: Option<toml::Table>,
    /// `overwrite` (default), `if_new`, `if_empty` or `append`.
    #[serde(default = "default_mode")]
    pub mode: String,
}

fn default_mode() -> String {
    "overwrite".to_string()
}

impl ProviderConfig {
    /// Settings for one event (its override, if any) as JSON text for the plugin.
    pub fn settings_json(&self, event_slug: &str) -> String {
        let table = self
            .event_overrides
            .get(event_slug)
            .and_then(|o| o.settings.as_ref())
            .unwrap_or(&self.settings);
        serde_json::to_string(table).unwrap_or_else(|_| "{}".to_string())
    }

    /// Mappings for one event (its override, if any).
    pub fn mappings_for(&self, event_slug: &str) -> &[MappingConfig] {
        self.event_overrides
            .get(event_slug)
            .and_then(|o| o.mappings.as_deref())
            .unwrap_or(&self.mappings)
    }

    /// Triggers for one event (its override, if any).
    pub fn triggers_for(&self, event_slug: &str) -> &[String] {
        self.event_overrides
            .get(event_slug)
            .and_then(|o| o.triggers.as_deref())
            .unwrap_or(&self.triggers)
    }
}

impl Config {
    /// Parses config text; `base_dir` resolves relative paths in it.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Loads `path`; when `path` is the default file and it does not exist, the embedded
    /// defaults apply (`./datasync.db`, `./plugins`, no providers).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.resolve(
            self.database
                .as_deref()
                .unwrap_or(Path::new(DEFAULT_DATABASE)),
        )
    }

    /// The plugins folder.
    pub fn plugins_dir(&self) -> PathBuf {
        self.resolve(
            self.plugins_dir
                .as_deref()
                .unwrap_or(Path::new(DEFAULT_PLUGINS_DIR)),
        )
    }

    /// The configured providers that serve an event.
    pub fn providers_for_event<'a>(
        &'a self,
        event_slug: &'a str,
    ) -> impl Iterator<Item = &'a ProviderConfig> + 'a {
        self.providers
            .iter()
            .filter(move |p| p.events.matches(event_slug))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_config_file_that_is_missing_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Config::load(Some(&dir.path().join("absent.toml"))).expect_err("must fail");
        assert!(err.to_string().contains("absent.toml"), "{err}");
    }

    #[test]
    fn embedded_defaults_are_datasync_db_and_plugins_in_the_working_folder() {
        let defaults = Config::default();
        assert_eq!(defaults.database_path(), PathBuf::from("datasync.db"));
        assert_eq!(defaults.plugins_dir(), PathBuf::from("plugins"));
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let config = Config::parse(
            "database = \"data/x.db\"\nplugins_dir = \"/abs/plugins\"\n",
            Path::new("/etc/datasync/datasync.toml"),
        )
        .expect("parses");
        assert_eq!(
            config.database_path(),
            PathBuf::from("/etc/datasync/data/x.db")
        );
        assert_eq!(config.plugins_dir(), PathBuf::from("/abs/plugins"));
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let err = Config::parse("[[provider]]\nidentifer = \"x\"\n", Path::new("c.toml"))
            .expect_err("typo must fail");
        assert!(err.to_string().contains("identifer"), "{err}");
    }

    #[test]
    fn event_override_replaces_settings_and_mappings_for_that_event_only() {
        let text = r#"
[[provider]]
identifier = "noop"
events = ["a", "b"]
settings = { x = 1 }
[provider.event.b]
settings = { x = 2 }
"#;
        let config = Config::parse(text, Path::new("c.toml")).expect("parses");
        let p = &config.providers[0];
        assert_eq!(p.settings_json("a"), r#"{"x":1}"#);
        assert_eq!(p.settings_json("b"), r#"{"x":2}"#);
        assert!(config.providers_for_event("c").next().is_none());
    }
}
