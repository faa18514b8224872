//! Which files in the plugins folder are candidate provider libraries.

use std::io;
use std::path::{Path, PathBuf};

/// The platform's shared-library suffix (`.so`, `.dylib`, `.dll`).
pub const LIBRARY_SUFFIX: &str = std::env::consts::DLL_SUFFIX;

/// Files directly in `dir` (not recursive) whose name ends in the platform's library
/// suffix, sorted by path so that "the first" of two duplicates is well defined.
pub fn library_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_library = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(LIBRARY_SUFFIX) && n.len() > LIBRARY_SUFFIX.len());
        // `is_file` follows symlinks, so a link to a library built elsewhere counts.
        if is_library && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_library_files_sorted_and_not_recursive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = |name: &str| format!("{name}{LIBRARY_SUFFIX}");
        for name in [
            lib("b"),
            lib("a"),
            "notes.txt".to_string(),
            LIBRARY_SUFFIX.to_string(),
        ] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub").join(lib("c")), b"").expect("write");
        std::fs::create_dir(dir.path().join(lib("folder"))).expect("mkdir");

        let found: Vec<String> = library_files(dir.path())
            .expect("reads")
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        assert_eq!(found, vec![lib("a"), lib("b")]);
    }
}
