//! The datasync host: loads provider plugins through a stable ABI, maps pretix-shaped
//! order data onto each provider's external fields, and runs the durable sync queue.
//!
//! One module per concern (see `DESIGN.md`): `plugins` (discovery, loading, registry —
//! the only host code that touches FFI), `config` (`datasync.toml`), `model` (pretix
//! REST-API shaped data), `mapping` (source-field catalog and evaluation), `store`
//! (SQLite; the only module with SQL), `sync` (queue worker), `cli`.

pub mod cli;
pub mod config;
pub mod import;
pub mod mapping;
pub mod model;
pub mod plugins;
pub mod store;
pub mod sync;
