//! Saving a file without ever destroying the previous good one: write a temporary file beside
//! it, flush it to disk, then rename it over the target (a rename within one folder replaces
//! the file in one step). Checkpoints, history files, plots and PNG grids all save this way.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Replace the file at `path` with `bytes`, atomically: on any failure `path` is left as it
/// was and the temporary file is removed.
///
/// # Errors
/// [`Error::Io`] naming `path` when the temporary file cannot be written or renamed.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with_hook(path, bytes, || Ok(()))
}

/// [`write_atomically`], running `before_rename` after the temporary file is on disk and before
/// the rename (tests use it to simulate a crash at the worst moment).
pub(crate) fn write_atomically_with_hook(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        before_rename()?;
        fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `<path>.tmp-<process id>`: beside the target (so the rename stays within one file system)
/// and distinct per process.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}
