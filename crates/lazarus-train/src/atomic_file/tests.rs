//! `write_atomically`'s unit tests: temporaries named, locked and cleaned up; failed and killed
//! saves keep the previous file.

use super::*;
use std::time::Duration;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-atomic-{}-{name}", std::process::id()));
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
