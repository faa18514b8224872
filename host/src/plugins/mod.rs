//! Provider plugins: finding library files, loading them through the stable ABI, and the
//! registry of providers by identifier. This is the only host module that touches FFI;
//! everything else sees [`LoadedProvider`] and [`ProviderHandle`], which return plain
//! `Result`s.

mod discover;
mod handle;
mod load;
mod registry;

pub use discover::{library_files, LIBRARY_SUFFIX};
pub use handle::ProviderHandle;
pub use load::{load_library, LoadError};
pub use registry::{LoadedProvider, Registry, Rejection};
