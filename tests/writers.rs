//! Writers that meet: parallel commands on one file, a file with other names (hard links) or
//! that is not a file at all, plaintext working files on a disk, and the temporary files of
//! killed writers. Each test is a session a user (or an attacker sharing the directory) could
//! have; before these were handled, each of them lost data, split a file or stayed silent.
//!
//! On the shared harness (`common::Dir`); the file-system checks (inodes, FIFOs, locks) are
//! this file's own.

mod common;

use std::fs::{self, File};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Dir, Run, Running, SAMPLE_RECIPIENT, TestCommand, sample_key};
use rustix::fs::{FlockOperation, flock};

const CONCURRENT_WRITER: i32 = 34;
const COULD_NOT_WRITE_OUTPUT: i32 = 3;
const SECRET: &str = "hunter2";

/// The shared scratch directory, with the sample identity for every ksec it runs.
struct Lab {
    dir: Dir,
}

impl Lab {
    fn new() -> Lab {
        Lab { dir: Dir::new() }
    }

    fn work(&self) -> PathBuf {
        self.dir.work()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// ksec in `work/`, with the sample identity.
    fn ksec(&self) -> TestCommand {
        let mut cmd = self.dir.ksec();
        cmd.env("SOPS_AGE_KEY_FILE", sample_key());
        cmd
    }

    /// `name`, encrypted from `plaintext` for the sample recipient.
    fn encrypted(&self, name: &str, plaintext: &str) -> PathBuf {
        let plain = self.path(&format!("{name}.plain"));
        fs::write(&plain, plaintext).expect("write plaintext");
        let out = self
            .ksec()
            .args([
                "encrypt",
                "--age",
                SAMPLE_RECIPIENT,
                "--input-type",
                "yaml",
                "--output",
                name,
            ])
            .arg(&plain)
            .run();
        assert_eq!(out.code, 0, "encrypt: {}", out.stderr_text());
        fs::remove_file(plain).expect("remove plaintext");
        self.path(name)
    }

    fn decrypt(&self, name: &str) -> String {
        let out = self.ksec().args(["decrypt", name]).run();
        assert_eq!(out.code, 0, "decrypt {name}: {}", out.stderr_text());
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// An executable shell script that stops at its first failing command.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        self.dir.script(name, &format!("set -e\n{body}"))
    }

    /// The names in `work/`, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.work())
            .expect("read work")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Holds an exclusive `flock` on `path` (created if missing) for as long as it is open, as
/// another process writing the file would.
fn hold_lock(path: &Path) -> File {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("open lock file");
    flock(&file, FlockOperation::NonBlockingLockExclusive).expect("lock");
    file
}

/// Waits for `child` for up to `limit`; a child still running then is killed and the test
/// fails: the command blocked.
fn wait_bounded(mut child: Running, limit: Duration, what: &str) -> Run {
    let started = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait()
}

#[test]
fn fifty_parallel_sets_on_different_keys_keep_all_fifty_changes() {
    let lab = Lab::new();
    lab.encrypted("s.enc.yaml", "seed: x\n");
    let children: Vec<Running> = (0..50)
        .map(|i| {
            lab.ksec()
                // Generous for a loaded CI machine running a debug build: the point is that
                // they take turns, not how fast.
                .env("KSEC_LOCK_TIMEOUT", "300")
                .args(["set", "s.enc.yaml", &format!("[\"k{i}\"]"), &format!("\"v{i}\"")])
                .spawn()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait();
        assert_eq!(out.code, 0, "set k{i}: {}", out.stderr_text());
    }
    let plain = lab.decrypt("s.enc.yaml");
    let missing: Vec<usize> = (0..50).filter(|i| !plain.contains(&format!("k{i}: v{i}\n"))).collect();
    assert!(missing.is_empty(), "lost updates {missing:?}:\n{plain}");
    // No lock file and no temporary file is left beside it.
    assert_eq!(lab.listing(), ["s.enc.yaml"]);
}

#[test]
fn a_lock_held_by_another_process_times_out_with_exit_34_and_changes_nothing() {
    let lab = Lab::new();
    let file = lab.encrypted("s.enc.yaml", &format!("password: {SECRET}\n"));
    let before = fs::read(&file).expect("read");
    let holder = hold_lock(&lab.path(".s.enc.yaml.ksec-lock"));
    let started = Instant::now();
    let out = lab
        .ksec()
        .env("KSEC_LOCK_TIMEOUT", "0.5")
        .args(["set", "s.enc.yaml", "[\"password\"]", "\"new\""])
        .run();
    let waited = started.elapsed();
    let err = out.stderr_text();
    assert_eq!(out.code, CONCURRENT_WRITER, "{err}");
    assert!(
        err.contains("s.enc.yaml: another ksec is changing it") && err.contains("KSEC_LOCK_TIMEOUT"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
    assert!(waited >= Duration::from_millis(500), "gave up after {waited:?}");
    assert_eq!(fs::read(&file).expect("read"), before, "written without the lock");

    // The lock released in time, the command waits for it and goes through.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(holder);
    });
    let out = lab
        .ksec()
        .env("KSEC_LOCK_TIMEOUT", "30")
        .args(["set", "s.enc.yaml", "[\"password\"]", "\"new\""])
        .run();
    release.join().expect("release");
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    assert!(lab.decrypt("s.enc.yaml").contains("password: new"));
}

#[test]
fn encrypt_in_place_refuses_a_hard_linked_file_instead_of_leaving_the_plaintext_at_its_other_name() {
    let lab = Lab::new();
    let plaintext = format!("password: {SECRET}\n");
    fs::write(lab.path("h.yaml"), &plaintext).expect("write");
    fs::hard_link(lab.path("h.yaml"), lab.path("h2.yaml")).expect("link");
    let out = lab
        .ksec()
        .args(["encrypt", "-i", "--age", SAMPLE_RECIPIENT, "h.yaml"])
        .run();
    let err = out.stderr_text();
    assert_eq!(out.code, COULD_NOT_WRITE_OUTPUT, "{err}");
    assert!(
        err.contains("h.yaml: has 2 names (hard links)") && err.contains("cp -p"),
        "{err}"
    );
    // Still one file under both names, as it was: nothing claims to be encrypted while another
    // name keeps the plaintext.
    let (a, b) = (
        fs::metadata(lab.path("h.yaml")).expect("h"),
        fs::metadata(lab.path("h2.yaml")).expect("h2"),
    );
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
    assert_eq!(fs::read_to_string(lab.path("h.yaml")).expect("read"), plaintext);
}

#[test]
fn decrypt_in_place_and_set_refuse_a_hard_linked_file_so_no_name_gets_plaintext() {
    let lab = Lab::new();
    let file = lab.encrypted("h.enc.yaml", &format!("password: {SECRET}\n"));
    let encrypted = fs::read(&file).expect("read");
    fs::hard_link(&file, lab.path("h2.enc.yaml")).expect("link");
    for args in [
        vec!["decrypt", "-i", "h.enc.yaml"],
        vec!["set", "h.enc.yaml", "[\"password\"]", "\"x\""],
        vec!["rotate", "-i", "h.enc.yaml"],
    ] {
        let out = lab.ksec().args(&args).run();
        assert_eq!(out.code, COULD_NOT_WRITE_OUTPUT, "{args:?}: {}", out.stderr_text());
        for name in ["h.enc.yaml", "h2.enc.yaml"] {
            assert_eq!(
                fs::read(lab.path(name)).expect("read"),
                encrypted,
                "{args:?} changed {name}"
            );
        }
    }
}

#[test]
fn fifos_and_devices_are_refused_as_in_place_targets_without_blocking() {
    let lab = Lab::new();
    lab.encrypted("s.enc.yaml", "a: b\n");
    let fifo = lab.path("f.yaml");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from_raw_mode(0o600)).expect("mkfifo");
    let editor = lab.script("editor", "touch \"$1.ran\"\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["encrypt", "-i", "--age", SAMPLE_RECIPIENT, "f.yaml"], "a FIFO"),
        (vec!["decrypt", "-i", "f.yaml"], "a FIFO"),
        (vec!["set", "f.yaml", "[\"a\"]", "1"], "a FIFO"),
        (vec!["rotate", "-i", "f.yaml"], "a FIFO"),
        (vec!["edit", "f.yaml"], "a FIFO"),
        (
            vec!["encrypt", "-i", "--age", SAMPLE_RECIPIENT, "/dev/null"],
            "a character device",
        ),
        // As root this used to replace /dev/null with a regular file holding the plaintext.
        (
            vec!["decrypt", "--output", "/dev/null", "s.enc.yaml"],
            "a character device",
        ),
    ];
    for (args, kind) in cases {
        let child = lab.ksec().env("EDITOR", &editor).args(&args).spawn();
        let out = wait_bounded(child, Duration::from_secs(20), &format!("{args:?}"));
        let err = out.stderr_text();
        assert_eq!(out.code, COULD_NOT_WRITE_OUTPUT, "{args:?}: {err}");
        assert!(
            err.contains(&format!("is {kind}")) && err.contains("not a regular file"),
            "{args:?}: {err}"
        );
    }
    assert!(
        fs::metadata(&fifo).expect("fifo").file_type().is_fifo(),
        "the FIFO was replaced"
    );
    assert!(
        fs::metadata("/dev/null")
            .expect("/dev/null")
            .file_type()
            .is_char_device(),
        "/dev/null was replaced"
    );
    assert!(!lab.path("f.yaml.ran").exists(), "the editor ran");
}

/// A directory on a disk (not tmpfs) for working files, or `None` (after a note) on a machine
/// whose build directory is memory-backed.
fn disk_dir(lab: &Lab) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "writers-disk-{}",
        lab.dir.root().file_name().expect("name").to_string_lossy()
    ));
    fs::create_dir_all(&dir).expect("disk dir");
    let on_tmpfs = rustix::fs::statfs(&dir).expect("statfs").f_type as u32 == 0x0102_1994;
    if on_tmpfs {
        eprintln!("note: skipping: {} is on tmpfs", dir.display());
        return None;
    }
    Some(dir)
}

/// An editor that says on stderr that it started, records the file it was given, and changes
/// `a: b` to `a: c`.
fn recording_editor(lab: &Lab) -> PathBuf {
    lab.script(
        "editor",
        "echo 'EDITOR STARTED' >&2\nprintf '%s' \"$1\" > \"$HOME/buffer-path\"\n\
         sed 's/^a: b$/a: c/' \"$1\" > \"$1.new\"\nmv \"$1.new\" \"$1\"\n",
    )
}

#[test]
fn edit_on_a_disk_warns_before_the_plaintext_is_written_and_can_refuse_instead() {
    let lab = Lab::new();
    let Some(disk) = disk_dir(&lab) else { return };
    let file = lab.encrypted("s.enc.yaml", "a: b\n");
    let editor = recording_editor(&lab);
    let on_disk = |cmd: &mut TestCommand| {
        // KSEC_MEMORY_DIRS stands in for a machine without /dev/shm.
        cmd.env("XDG_RUNTIME_DIR", &disk)
            .env("TMPDIR", &disk)
            .env("KSEC_MEMORY_DIRS", &disk)
            .env("EDITOR", &editor);
    };
    let buffer_path = lab.dir.home().join("buffer-path");

    let mut cmd = lab.ksec();
    on_disk(&mut cmd);
    let out = cmd.args(["edit", "s.enc.yaml"]).run();
    let err = out.stderr_text();
    assert_eq!(out.code, 0, "{err}");
    let warning = err
        .find("ksec: warning: no memory-backed (tmpfs) directory")
        .expect(&err);
    let editor_started = err.find("EDITOR STARTED").expect(&err);
    assert!(
        warning < editor_started,
        "the warning came after the plaintext was written:\n{err}"
    );
    assert!(err.contains("KSEC_REQUIRE_TMPFS=1"), "{err}");
    let buffer = fs::read_to_string(&buffer_path).expect("the editor recorded its file");
    assert!(buffer.starts_with(disk.to_str().expect("utf-8")), "{buffer}");
    assert!(lab.decrypt("s.enc.yaml").contains("a: c"));
    fs::remove_file(&buffer_path).expect("remove record");

    let before = fs::read(&file).expect("read");
    let mut cmd = lab.ksec();
    on_disk(&mut cmd);
    let out = cmd.env("KSEC_REQUIRE_TMPFS", "1").args(["edit", "s.enc.yaml"]).run();
    let err = out.stderr_text();
    assert_eq!(out.code, COULD_NOT_WRITE_OUTPUT, "{err}");
    assert!(err.contains("no memory-backed (tmpfs or ramfs) directory"), "{err}");
    assert!(
        !err.contains("EDITOR STARTED") && !buffer_path.exists(),
        "the editor ran:\n{err}"
    );
    assert_eq!(fs::read(&file).expect("read"), before);
    // Nothing of either run is left in the disk directory.
    assert_eq!(fs::read_dir(&disk).expect("read disk").count(), 0);
    fs::remove_dir(&disk).expect("remove disk dir");
}

#[test]
fn exec_file_warns_for_a_file_on_a_disk_but_not_for_a_fifo() {
    let lab = Lab::new();
    let Some(disk) = disk_dir(&lab) else { return };
    lab.encrypted("s.enc.yaml", "a: b\n");
    let run = |extra: &[&str], require: bool| {
        let mut cmd = lab.ksec();
        cmd.env("XDG_RUNTIME_DIR", &disk)
            .env("TMPDIR", &disk)
            .env("KSEC_MEMORY_DIRS", &disk)
            .arg("exec-file")
            .args(extra)
            .args(["s.enc.yaml", "echo COMMAND STARTED >&2; cat {} >/dev/null"]);
        if require {
            cmd.env("KSEC_REQUIRE_TMPFS", "1");
        }
        cmd.run()
    };
    let out = run(&["--no-fifo"], false);
    let err = out.stderr_text();
    assert_eq!(out.code, 0, "{err}");
    assert!(err.find("ksec: warning: no memory-backed").expect(&err) < err.find("COMMAND STARTED").expect(&err));

    let out = run(&["--no-fifo"], true);
    assert_eq!(out.code, COULD_NOT_WRITE_OUTPUT, "{}", out.stderr_text());
    assert!(!out.stderr_text().contains("COMMAND STARTED"));

    // A FIFO's content never reaches the disk its name is on: no warning, nothing refused.
    let out = run(&[], true);
    let err = out.stderr_text();
    assert_eq!(out.code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(fs::read_dir(&disk).expect("read disk").count(), 0);
    fs::remove_dir(&disk).expect("remove disk dir");
}

#[test]
fn an_xdg_runtime_dir_on_a_disk_is_passed_over_for_dev_shm() {
    let lab = Lab::new();
    let Some(disk) = disk_dir(&lab) else { return };
    let shm_is_tmpfs = rustix::fs::statfs("/dev/shm").is_ok_and(|s| s.f_type as u32 == 0x0102_1994);
    if !shm_is_tmpfs {
        eprintln!("note: skipping: /dev/shm is not tmpfs here");
        return;
    }
    lab.encrypted("s.enc.yaml", "a: b\n");
    let out = lab
        .ksec()
        .env("XDG_RUNTIME_DIR", &disk)
        .env_remove("KSEC_MEMORY_DIRS")
        .env("EDITOR", recording_editor(&lab))
        .args(["edit", "s.enc.yaml"])
        .run();
    let err = out.stderr_text();
    assert_eq!(out.code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    let buffer = fs::read_to_string(lab.dir.home().join("buffer-path")).expect("recorded");
    assert!(buffer.starts_with("/dev/shm/"), "{buffer}");
    fs::remove_dir(&disk).expect("remove disk dir");
}

#[test]
fn a_write_removes_leftovers_of_dead_writers_and_keeps_a_live_writers_file() {
    let lab = Lab::new();
    lab.encrypted("s.enc.yaml", "a: b\n");
    // A writer that is gone: a process that has exited.
    let mut exited = std::process::Command::new("true").spawn().expect("true");
    let dead = exited.id();
    exited.wait().expect("true ends");
    let dead_leftover = lab.path(&format!(".s.enc.yaml.{dead}-Ab12Cd.ksec-tmp"));
    // A writer that is still at work: this test, holding the file's lock.
    let live_leftover = lab.path(&format!(".s.enc.yaml.{}-Xy34Zw.ksec-tmp", std::process::id()));
    // Not ksec's for this file: another file's, and a name outside the pattern.
    let others = [
        lab.path(&format!(".t.enc.yaml.{dead}-Ab12Cd.ksec-tmp")),
        lab.path(".s.enc.yaml.notes.ksec-tmp"),
    ];
    for path in [&dead_leftover, &live_leftover].into_iter().chain(&others) {
        fs::write(path, "sops:\n  partial ciphertext").expect("write leftover");
    }
    let live = hold_lock(&live_leftover);

    let out = lab.ksec().args(["set", "s.enc.yaml", "[\"a\"]", "\"c\""]).run();
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    assert!(!dead_leftover.exists(), "a dead writer's leftover was kept");
    assert!(live_leftover.exists(), "a live writer's file was removed");
    for other in &others {
        assert!(other.exists(), "{} was removed", other.display());
    }

    // Once its writer is gone, the next write takes it too.
    drop(live);
    let out = lab.ksec().args(["set", "s.enc.yaml", "[\"a\"]", "\"d\""]).run();
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    assert!(!live_leftover.exists());
}

#[test]
fn edit_leaves_the_file_unlocked_in_the_editor_and_keeps_both_changes_when_it_changed_meanwhile() {
    let lab = Lab::new();
    lab.encrypted("s.enc.yaml", "a: b\nother: one\n");
    // While the editor is open another writer changes the file; it must not have to wait.
    let editor = lab.script(
        "editor",
        "KSEC_LOCK_TIMEOUT=0 \"$KSEC_TEST_BIN\" set s.enc.yaml '[\"other\"]' '\"two\"'\n\
         sed 's/^a: b$/a: c/' \"$1\" > \"$1.new\"\nmv \"$1.new\" \"$1\"\n",
    );
    let out = lab
        .ksec()
        .env("EDITOR", &editor)
        .env("KSEC_TEST_BIN", env!("CARGO_BIN_EXE_ksec"))
        .args(["edit", "s.enc.yaml"])
        .run();
    let err = out.stderr_text();
    assert_eq!(out.code, CONCURRENT_WRITER, "{err}");
    assert!(err.contains("s.enc.yaml changed while it was in the editor"), "{err}");
    // The other writer's change stands.
    let plain = lab.decrypt("s.enc.yaml");
    assert!(plain.contains("other: two") && plain.contains("a: b"), "{plain}");
    // The edit is kept, encrypted, beside it, and named in the message.
    let kept: Vec<String> = lab
        .listing()
        .into_iter()
        .filter(|n| n.starts_with("s.enc.unsaved-edit-") && n.ends_with(".yaml"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", lab.listing());
    assert!(err.contains(&kept[0]), "{err}");
    let kept_plain = lab.decrypt(&kept[0]);
    assert!(
        kept_plain.contains("a: c") && kept_plain.contains("other: one"),
        "{kept_plain}"
    );
}
