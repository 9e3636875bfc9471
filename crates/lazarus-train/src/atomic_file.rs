//! Saving a file without ever destroying the previous good one.
//!
//! [`write_atomically`] writes the new bytes to a temporary file beside the target, flushes it
//! to disk, then renames it over the target: a rename within one folder replaces the file in
//! one step, so a reader, a crash, a `kill -9` or a full disk leaves either the old file or
//! the new one, never a cut one. Every file lazarus writes goes through it: checkpoints,
//! histories, plots, PNG grids, and the examples' metrics files (the root test
//! `tests/atomic_writes_only.rs` fails if any other code writes a file).
//!
//! # Temporary files, and who removes them
//!
//! A save's temporary file is named `.<target name>.lazarus-tmp-<pid>-<n>` (`n` counts the
//! saves of the process) and lives in the target's folder: hidden, recognizable as lazarus's,
//! and tied to one target. While it writes, the save holds an exclusive advisory lock on it
//! (`flock` on Unix, `LockFileEx` on Windows). A save that fails removes its temporary; one
//! that is killed cannot, so its temporary stays behind. Each save therefore first removes
//! the abandoned temporaries of its own target. A file is removed only when all three hold:
//!
//! 1. its name is exactly `.<target name>.lazarus-tmp-<digits>-<digits>`: this target's, and
//!    made by this module (files of other targets, or of other programs, are never touched);
//! 2. it was last modified before this save started (so it is not a save running right now);
//! 3. this save can take its lock without waiting: no live save holds it. The operating system
//!    drops a lock when its process ends, however it ended, so a lock that can be taken is one
//!    whose writer is gone.
//!
//! The process id in the name is never trusted on its own (ids are reused). Where the file
//! system does not support locks, condition 3 never holds and nothing is removed. (On NFS,
//! Linux emulates these locks with POSIX record locks, which do not exclude the process that
//! holds them: two threads of one process saving the same file at the same moment could then
//! remove each other's temporary, which fails that save with an error; the target is never
//! harmed.) Cleaning is best effort: it never makes a save fail.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::{Error, Result};

/// What marks a temporary file of this module, between the target's name and the numbers.
const MARKER: &str = ".lazarus-tmp-";

/// Replace the file at `path` with `bytes`, atomically: on any failure `path` is left as it
/// was and the temporary file is removed. Also removes the temporaries that earlier saves of
/// `path` abandoned (see the [module docs](self) for the exact rule).
///
/// ```
/// use lazarus_train::atomic_file::write_atomically;
/// let path = std::env::temp_dir().join("lazarus-atomic-doc.json");
/// write_atomically(&path, b"{\"epochs\": 1}")?;
/// write_atomically(&path, b"{\"epochs\": 2}")?;
/// assert_eq!(std::fs::read(&path).unwrap(), b"{\"epochs\": 2}");
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] naming `path` when the temporary file cannot be created, written, flushed or
/// renamed (a missing folder, no permission, a full disk, a file size limit, ...).
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomically_with_hook(path.as_ref(), bytes, || Ok(()))
}

/// [`write_atomically`], running `before_rename` after the temporary file is on disk and before
/// the rename (tests use it to simulate a crash at the worst moment).
pub(crate) fn write_atomically_with_hook(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let started = SystemTime::now();
    remove_abandoned_temporaries(path, started);
    let (tmp, mut file) = create_temporary(path).map_err(Error::io(path))?;
    let result = (|| {
        file.write_all(bytes).map_err(Error::io(path))?;
        file.sync_all().map_err(Error::io(path))?;
        before_rename()?;
        fs::rename(&tmp, path).map_err(Error::io(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    // Dropping the file releases the lock, only now that the temporary is renamed or removed.
    drop(file);
    result
}

/// Create a new, locked temporary file for `path`: `(its path, the open file)`.
fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let n = SAVES.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!("{MARKER}{}-{n}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let file = match File::options().write(true).create_new(true).open(&tmp) {
            Ok(file) => file,
            // Left by an earlier process with the same id (ids are reused): take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => continue,
            Err(e) => return Err(e),
        };
        // Without lock support the save still works; only its cleanup cannot be proven safe,
        // and cleaners on the same file system will not remove anything either.
        let _ = file.lock();
        // A cleaner that started after the file was created and before it was locked may have
        // removed it (it was not locked yet and older than that cleaner's start). Now that the
        // lock is held no one else can; check it is still there, else start over.
        match fs::symlink_metadata(&tmp) {
            Ok(_) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 100 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Remove the temporaries of `path` that earlier saves abandoned: named for `path`, last
/// modified before `started`, and not locked by a live save. Errors are ignored.
fn remove_abandoned_temporaries(path: &Path, started: SystemTime) {
    for candidate in temporaries_of(path) {
        let regular = fs::symlink_metadata(&candidate).is_ok_and(|m| m.file_type().is_file());
        let Some(file) = regular.then(|| File::open(&candidate).ok()).flatten() else {
            continue;
        };
        // A save that is still running holds the lock; so, with no lock support, does nobody
        // we could prove it about: either way `try_lock` fails and the file stays.
        if file.try_lock().is_err() {
            continue;
        }
        let abandoned = file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < started);
        if abandoned {
            let _ = fs::remove_file(&candidate);
        }
        // Dropping `file` releases the lock.
    }
}

/// The temporary files in `path`'s folder whose names mark them as `path`'s (rule 1 of the
/// module docs), whoever made them and whatever their state.
pub(crate) fn temporaries_of(path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name() else {
        return Vec::new();
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| is_temporary_of(name, &entry.file_name()))
        .map(|entry| entry.path())
        .collect()
}

/// Whether `candidate` is exactly `.<target>.lazarus-tmp-<digits>-<digits>`.
fn is_temporary_of(target: &OsStr, candidate: &OsStr) -> bool {
    let prefix = [b".", target.as_encoded_bytes(), MARKER.as_bytes()].concat();
    let Some(numbers) = candidate.as_encoded_bytes().strip_prefix(prefix.as_slice()) else {
        return false;
    };
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    match numbers.iter().position(|&b| b == b'-') {
        Some(dash) => digits(&numbers[..dash]) && digits(&numbers[dash + 1..]),
        None => false,
    }
}

#[cfg(test)]
mod tests;
