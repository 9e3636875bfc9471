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
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("lazarus-atomic-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Create `dir/name` holding `name`, last modified at `modified`.
    fn plant(dir: &Path, name: &str, modified: SystemTime) -> PathBuf {
        let path = dir.join(name);
        let file = File::create(&path).unwrap();
        file.set_modified(modified).unwrap();
        path
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn names_are_recognized_exactly() {
        let yes = |c: &str| is_temporary_of(OsStr::new("m.json"), OsStr::new(c));
        assert!(yes(".m.json.lazarus-tmp-12-0"));
        assert!(yes(".m.json.lazarus-tmp-1-99999"));
        assert!(!yes(".m.json.lazarus-tmp-12"), "both numbers");
        assert!(!yes(".m.json.lazarus-tmp-12-"));
        assert!(!yes(".m.json.lazarus-tmp--3"));
        assert!(!yes(".m.json.lazarus-tmp-12-3.bak"));
        assert!(!yes(".m.json.lazarus-tmp-1x-3"));
        assert!(!yes("m.json.lazarus-tmp-12-3"), "hidden");
        assert!(!yes("m.json.tmp-12"), "another program's convention");
        assert!(!yes(".other.json.lazarus-tmp-12-3"), "another target");
        assert!(!yes(".m.jsonx.lazarus-tmp-12-3"), "another target");
        assert!(!yes(".m.json.lazarus-tmp-12-3.lazarus-tmp-1-2"));
    }

    #[test]
    fn a_save_removes_only_abandoned_temporaries_of_its_own_target() {
        let dir = temp_dir("cleanup");
        let target = dir.join("model.safetensors");
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
        let abandoned = [
            plant(&dir, ".model.safetensors.lazarus-tmp-4000000-0", hour_ago),
            plant(&dir, ".model.safetensors.lazarus-tmp-4000001-7", hour_ago),
        ];
        // A save in progress in another process: old (a slow save) but locked.
        let held = plant(&dir, ".model.safetensors.lazarus-tmp-4000002-0", hour_ago);
        let holder = File::open(&held).unwrap();
        holder.lock().unwrap();
        let kept = [
            // Another target's, another program's, not quite our name, and newer than the save.
            plant(&dir, ".other.safetensors.lazarus-tmp-4000000-0", hour_ago),
            plant(&dir, "model.safetensors.tmp-4000000", hour_ago),
            plant(&dir, ".model.safetensors.lazarus-tmp-x-0", hour_ago),
            plant(&dir, ".model.safetensors.lazarus-tmp-4000003-0", in_an_hour),
        ];

        write_atomically(&target, b"new").unwrap();

        assert_eq!(fs::read(&target).unwrap(), b"new");
        for path in &abandoned {
            assert!(!path.exists(), "abandoned {} is removed", path.display());
        }
        assert!(held.exists(), "a locked temporary is a live save: kept");
        for path in &kept {
            assert!(path.exists(), "{} is kept", path.display());
        }
        assert_eq!(names(&dir).len(), 1 + 1 + kept.len(), "{:?}", names(&dir));
        drop(holder);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_temporary_is_hidden_recognizable_and_locked_while_it_is_written() {
        let dir = temp_dir("locked");
        let target = dir.join("history.json");
        fs::write(&target, "old").unwrap();
        let crash = write_atomically_with_hook(&target, b"new", || {
            let temporaries = temporaries_of(&target);
            assert_eq!(temporaries.len(), 1, "{temporaries:?}");
            let name = temporaries[0].file_name().unwrap().to_string_lossy();
            let expected = format!(".history.json.lazarus-tmp-{}-", std::process::id());
            assert!(name.starts_with(&expected), "{name}");
            assert_eq!(
                fs::read(&temporaries[0]).unwrap(),
                b"new",
                "on disk before the rename"
            );
            let other = File::open(&temporaries[0]).unwrap();
            assert!(other.try_lock().is_err(), "the writer holds the lock");
            Err(Error::config(
                "test",
                "crash",
                "simulated crash before rename",
            ))
        });
        assert!(
            matches!(crash, Err(Error::InvalidConfig { .. })),
            "{crash:?}"
        );
        assert_eq!(
            fs::read(&target).unwrap(),
            b"old",
            "the previous file is intact"
        );
        assert!(
            temporaries_of(&target).is_empty(),
            "a failed save removes its temporary"
        );
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_failed_save_names_the_file_and_keeps_the_previous_one() {
        let dir = temp_dir("missing");
        let target = dir.join("no-such-folder").join("m.json");
        let err = write_atomically(&target, b"x").unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if *path == target),
            "{err:?}"
        );
        let err = write_atomically(Path::new("/"), b"x").unwrap_err();
        assert!(matches!(&err, Error::Io { .. }), "{err:?}");
        fs::remove_dir_all(dir).ok();
    }

    /// Set by [`a_killed_save_leaves_a_temporary_that_the_next_save_removes`] in the child
    /// process it starts: the folder to save into.
    const CHILD_DIR: &str = "LAZARUS_ATOMIC_KILL_CHILD_DIR";

    /// The child of the kill test (does nothing when run on its own): starts a save and, with
    /// the temporary written and locked, waits to be killed.
    #[test]
    #[ignore = "run by a_killed_save_leaves_a_temporary_that_the_next_save_removes"]
    fn killed_save_child() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let _ = write_atomically_with_hook(&dir.join("model.safetensors"), &[7; 4096], || {
            fs::write(dir.join("ready"), b"").unwrap();
            std::thread::sleep(Duration::from_secs(600));
            Ok(())
        });
    }

    #[test]
    fn a_killed_save_leaves_a_temporary_that_the_next_save_removes() {
        let dir = temp_dir("kill");
        let target = dir.join("model.safetensors");
        write_atomically(&target, b"old").unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "atomic_file::tests::killed_save_child",
                "--exact",
                "--ignored",
            ])
            .env(CHILD_DIR, &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Not a timing assertion: a generous bound so that a broken child cannot hang the suite.
        let mut waited = Duration::ZERO;
        while !dir.join("ready").exists() {
            assert!(
                waited < Duration::from_secs(60) && child.try_wait().unwrap().is_none(),
                "the child never got to its save"
            );
            std::thread::sleep(Duration::from_millis(10));
            waited += Duration::from_millis(10);
        }
        assert_eq!(
            temporaries_of(&target).len(),
            1,
            "the child's save is in progress"
        );
        let locked = File::open(&temporaries_of(&target)[0])
            .unwrap()
            .try_lock()
            .is_err();
        assert!(locked, "the live child holds the lock");
        child.kill().unwrap(); // SIGKILL on Unix: no cleanup runs in the child
        child.wait().unwrap();
        assert_eq!(
            temporaries_of(&target).len(),
            1,
            "kill -9 leaves the temporary behind"
        );
        fs::remove_file(dir.join("ready")).unwrap();
        // File times can be coarse: make sure the next save starts strictly later.
        std::thread::sleep(Duration::from_millis(20));

        write_atomically(&target, b"new").unwrap();

        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(
            names(&dir),
            ["model.safetensors"],
            "the abandoned temporary is gone"
        );
        fs::remove_dir_all(dir).ok();
    }
}
