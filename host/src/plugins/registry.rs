//! The providers of every library in the plugins folder, by identifier, and the files
//! that were rejected with their reasons.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use abi_stable::std_types::{ROption, RStr};
use datasync_plugin_api::abi::ProviderDescriptorRef;
use datasync_plugin_api::{is_valid_identifier, EventContext, LinkInfo, SyncError};
use serde::Serialize;

use super::discover::library_files;
use super::handle::ProviderHandle;
use super::load::{load_library, LoadError};

/// A provider registered from a library; instantiate it per event.
#[derive(Clone, Serialize)]
pub struct LoadedProvider {
    /// Unique identifier.
    pub identifier: String,
    /// Name shown to operators.
    pub display_name: String,
    /// The library file it came from.
    pub library: PathBuf,
    /// The datasync-plugin-api version the library was built against.
    pub api_version: String,
    /// Recoverable failures after which a job is parked as `exceeded`.
    pub max_attempts: u32,
    /// Joiner for list-valued fields; `None` keeps native lists.
    pub list_field_joiner: Option<String>,
    #[serde(skip)]
    descriptor: ProviderDescriptorRef,
}

impl std::fmt::Debug for LoadedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedProvider")
            .field("identifier", &self.identifier)
            .field("library", &self.library)
            .finish_non_exhaustive()
    }
}

impl LoadedProvider {
    /// Creates an instance for one event; `settings_json` is the provider's settings
    /// table as JSON. Constructor errors and panics come back as [`SyncError`]s.
    pub fn instantiate(
        &self,
        event: &EventContext,
        settings_json: &str,
    ) -> Result<ProviderHandle, SyncError> {
        let create = self.descriptor.create();
        let inner = create(event, RStr::from_str(settings_json)).into_result()?;
        Ok(ProviderHandle::new(self.identifier.clone(), inner))
    }

    /// pretix `get_external_link_info` for a stored link.
    pub fn external_link_info(
        &self,
        event: &EventContext,
        href: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<LinkInfo, SyncError> {
        let info = self.descriptor.external_link_info();
        info(
            event,
            ROption::from(href.map(RStr::from_str)),
            ROption::from(display_name.map(RStr::from_str)),
        )
        .into_result()
    }
}

/// A library file (or one provider in it) that was not registered, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// The library file.
    pub file: PathBuf,
    /// What went wrong and the way out.
    pub reason: String,
    #[serde(skip)]
    /// The classified error.
    pub error: LoadError,
}

/// Every provider loaded from a plugins folder.
#[derive(Debug, Default)]
pub struct Registry {
    providers: BTreeMap<String, LoadedProvider>,
    rejected: Vec<Rejection>,
}

impl Registry {
    /// Loads every library file in `dir`, in sorted order. A bad file is recorded in
    /// [`Registry::rejected`] and never stops the others. A missing folder gives an
    /// empty registry; an unreadable one is an error.
    pub fn load_dir(dir: &Path) -> std::io::Result<Registry> {
        let mut registry = Registry::default();
        let files = match library_files(dir) {
            Ok(files) => files,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(dir = %dir.display(), "plugins folder does not exist; no providers loaded");
                return Ok(registry);
            }
            Err(e) => return Err(e),
        };
        for file in files {
            registry.load_file(&file);
        }
        Ok(registry)
    }

    /// Loads one library and registers its providers.
    pub fn load_file(&mut self, file: &Path) {
        let _span = tracing::info_span!("load_plugin", file = %file.display()).entered();
        let library = match load_library(file) {
            Ok(library) => library,
            Err(error) => return self.reject(file, error),
        };
        let api_version = library.api_version().to_string();
        for descriptor in library.providers().iter().copied() {
            self.register(file, &api_version, descriptor);
        }
    }

    fn register(&mut self, file: &Path, api_version: &str, descriptor: ProviderDescriptorRef) {
        let identifier = descriptor.identifier().to_string();
        if !is_valid_identifier(&identifier) {
            return self.reject(file, LoadError::InvalidIdentifier { identifier });
        }
        if let Some(first) = self.providers.get(&identifier) {
            let first = first.library.display().to_string();
            return self.reject(file, LoadError::DuplicateIdentifier { identifier, first });
        }
        let provider = LoadedProvider {
            identifier: identifier.clone(),
            display_name: descriptor.display_name().to_string(),
            library: file.to_path_buf(),
            api_version: api_version.to_string(),
            max_attempts: descriptor.max_attempts(),
            list_field_joiner: descriptor
                .list_field_joiner()
                .map(|j| j.to_string())
                .into_option(),
            descriptor,
        };
        tracing::info!(provider = %identifier, file = %file.display(), "registered provider");
        self.providers.insert(identifier, provider);
    }

    fn reject(&mut self, file: &Path, error: LoadError) {
        tracing::warn!(file = %file.display(), reason = %error, "rejected plugin");
        self.rejected.push(Rejection {
            file: file.to_path_buf(),
            reason: error.to_string(),
            error,
        });
    }

    /// The provider registered under `identifier`.
    pub fn get(&self, identifier: &str) -> Option<&LoadedProvider> {
        self.providers.get(identifier)
    }

    /// Every registered provider, by identifier.
    pub fn providers(&self) -> impl Iterator<Item = &LoadedProvider> {
        self.providers.values()
    }

    /// Every rejected file or provider, in load order.
    pub fn rejected(&self) -> &[Rejection] {
        &self.rejected
    }
}
