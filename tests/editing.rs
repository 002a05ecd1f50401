//! Everyday editing as a user drives it: `edit` with an editor, `set` and `unset`, `decrypt
//! --extract`, `filestatus`, `exec-env` and `exec-file`, and the Git diff and merge drivers.
//!
//! Every test is a session in its own scratch directory with an empty home and its own
//! XDG_RUNTIME_DIR, so it can check that ksec's private plaintext directories are gone
//! afterwards. Editors are small shell scripts that do to the buffer what a person would
//! (they get its path as `$1`). Every file ksec writes is decrypted by the real `sops` 3.11,
//! MAC checked; how much of a file a change rewrites is measured with `git diff --numstat` in
//! a throwaway repository. A missing sops fails the test under `CI` and skips it (with a
//! note) otherwise.
#![cfg(unix)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use common::{Dir, Run, SAMPLE_RECIPIENT, TestCommand, sample_key, testdata};

/// The sample Secret's password (`testdata/secret.enc.yaml`) and the one the tests set.
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "n3w-pa55";

/// The certificate in the sample Secret's `data`, decoded.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

/// Exit codes, sops's where sops has one.
const COULD_NOT_READ_INPUT: i32 = 2;
const INVALID_SET_FORMAT: i32 = 7;
const CONFLICTING_PARAMETERS: i32 = 8;
const INVALID_SECRET: i32 = 30;
const INVALID_TREE_PATH: i32 = 91;
const FILE_NOT_MODIFIED: i32 = 200;
const EDITOR_FAILED: i32 = 201;

const PASSWORD_PATH: &str = r#"["stringData"]["password"]"#;

// ---------------------------------------------------------------------------------------------
// The session: a Dir with the real sops, whose side directories `runtime/` (ksec's
// XDG_RUNTIME_DIR) and `log/` (where editor scripts leave what they saw) stay out of `work/`.
// ---------------------------------------------------------------------------------------------

/// ksec's XDG_RUNTIME_DIR, where its private directories go: memory-backed, as a real one
/// is (ksec skips one that is not).
fn runtime(lab: &Dir) -> PathBuf {
    lab.memory_side("runtime")
}

/// A file outside the working directory where editor scripts leave what they saw.
fn log_file(lab: &Dir, name: &str) -> PathBuf {
    lab.side("log").join(name)
}

fn read_log(lab: &Dir, name: &str) -> String {
    fs::read_to_string(log_file(lab, name)).unwrap_or_else(|e| panic!("the script did not write log {name}: {e}"))
}

/// `ksec` in the working directory with the sample identity, the session's runtime
/// directory and no editor of the developer's.
fn ksec(lab: &Dir) -> TestCommand {
    let mut cmd = lab.ksec();
    cmd.env("SOPS_AGE_KEY_FILE", sample_key())
        .env("XDG_RUNTIME_DIR", runtime(lab))
        .env_remove("EDITOR")
        .env_remove("VISUAL");
    cmd
}

/// `ksec edit ARGS` with `editor` as $EDITOR and stdin from /dev/null.
fn edit(lab: &Dir, editor: &Path, args: &[&str]) -> Run {
    ksec(lab).env("EDITOR", editor).arg("edit").args(args).run()
}

fn sops(lab: &Dir) -> TestCommand {
    let mut cmd = lab.sops();
    cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    cmd
}

/// The real sops decrypts `name` (checking its MAC): returns the plaintext.
fn assert_sops_decrypts(lab: &Dir, name: &str) -> String {
    sops(lab).args(["decrypt", name]).run().ok().stdout_text()
}

fn ksec_decrypt(lab: &Dir, name: &str) -> String {
    ksec(lab).args(["decrypt", name]).run().ok().stdout_text()
}

fn extract(lab: &Dir, name: &str, path: &str) -> Vec<u8> {
    ksec(lab).args(["decrypt", "--extract", path, name]).run().ok().stdout
}

/// `ksec encrypt --age SAMPLE` of `work/<plain_name>` into `work/<enc_name>`.
fn encrypt(lab: &Dir, plain_name: &str, plain: &str, enc_name: &str) {
    lab.write(plain_name, plain);
    let out = ksec(lab)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, plain_name])
        .run()
        .ok();
    lab.write(enc_name, &out.stdout);
}

/// `git` in the working directory, away from the developer's Git config, with the built
/// ksec on PATH (for the drivers) and the sample identity (for ksec run by Git).
fn git(lab: &Dir) -> TestCommand {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_ksec")).parent().expect("binary dir");
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let mut cmd = lab.command("git");
    cmd.env("PATH", path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .env("XDG_RUNTIME_DIR", runtime(lab))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

fn git_ok(lab: &Dir, args: &[&str]) -> String {
    git(lab).args(args).run().ok().stdout_text()
}

/// A repository on `main` holding everything in the working directory, committed.
fn init_repo(lab: &Dir) {
    git_ok(lab, &["init", "-q", "-b", "main"]);
    git_ok(lab, &["config", "user.email", "dev@example.com"]);
    git_ok(lab, &["config", "user.name", "Dev"]);
    commit_all(lab, "initial");
}

fn commit_all(lab: &Dir, message: &str) {
    git_ok(lab, &["add", "-A"]);
    git_ok(lab, &["commit", "-q", "-m", message]);
}

/// `added\tdeleted` for `name` against the index, without textconv; empty when unchanged.
fn numstat(lab: &Dir, name: &str) -> String {
    let out = git_ok(lab, &["diff", "--no-textconv", "--numstat", "--", name]);
    out.strip_suffix(&format!("\t{name}\n")).unwrap_or(&out).to_string()
}

/// What is left in the runtime directory (ksec's private directories are `.ksec-*`).
fn leftovers(lab: &Dir) -> Vec<String> {
    fs::read_dir(runtime(lab))
        .expect("list runtime dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// ksec's temporary files of atomic replaces (`.NAME.XXXXXX.ksec-tmp`) in the work dir.
fn atomic_temp_files(lab: &Dir) -> Vec<String> {
    lab.files()
        .into_iter()
        .filter(|name| name.contains(".ksec-tmp"))
        .collect()
}

/// ksec's private directories in /dev/shm (its fallback when XDG_RUNTIME_DIR does not
/// work) made since the session began and still there after a moment: /dev/shm is shared
/// with the tests running beside this one, whose directories come and go.
fn dev_shm_leftovers(lab: &Dir) -> Vec<PathBuf> {
    let since = lab.made() - Duration::from_secs(1);
    let recent = || -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir("/dev/shm") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".ksec-"))
            .filter(|e| e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t >= since))
            .map(|e| e.path())
            .collect()
    };
    let start = Instant::now();
    let mut left = recent();
    while !left.is_empty() && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
        left = recent();
    }
    left
}

fn assert_no_leftovers(lab: &Dir, what: &str) {
    assert_eq!(leftovers(lab), Vec::<String>::new(), "{what} left plaintext behind");
    assert_eq!(
        atomic_temp_files(lab),
        Vec::<String>::new(),
        "{what} left a temporary file next to the file it wrote"
    );
    assert_eq!(
        dev_shm_leftovers(lab),
        Vec::<PathBuf>::new(),
        "{what} left plaintext in /dev/shm"
    );
}

/// An editor that runs `sed -i EXPR` on the buffer.
fn sed_editor(lab: &Dir, name: &str, expr: &str) -> PathBuf {
    lab.script(name, &format!("sed -i '{expr}' \"$1\"\n"))
}

/// An editor that copies the buffer to log `name` and changes nothing.
fn viewer(lab: &Dir, name: &str) -> PathBuf {
    lab.script(
        &format!("view-{name}"),
        &format!("cp \"$1\" '{}'\n", log_file(lab, name).display()),
    )
}

/// The one line of `text` starting with `prefix`, for pointing at one ciphertext.
fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    let mut found = text.lines().filter(|l| l.starts_with(prefix));
    let line = found
        .next()
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"));
    assert!(found.next().is_none(), "several lines start {prefix:?}");
    line
}

/// Splits a view into its `# ksec:` header lines (which must all come first) and the rest.
fn split_header(view: &str) -> (Vec<&str>, String) {
    let header: Vec<&str> = view.lines().take_while(|l| l.starts_with("# ksec:")).collect();
    let body: String = view.split_inclusive('\n').skip(header.len()).collect();
    assert!(
        !body.lines().any(|l| l.starts_with("# ksec:")),
        "header lines after the body starts:\n{view}"
    );
    (header, body)
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).expect("stat").modified().expect("mtime")
}

/// Sets `path`'s mtime to an old time, so that a rewrite cannot keep it by chance.
fn age_file(path: &Path) -> SystemTime {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(old)
        .expect("set mtime");
    old
}

/// Waits until the wall clock is in a later second than when it was called, so that a file
/// written before gets a different `lastmodified` from one written after.
fn next_second() {
    let now = || {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    let start = now();
    while now() == start {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `testdata/secret.yaml`, the sample Secret in clear as ksec decrypts it.
fn sample_plain() -> String {
    fs::read_to_string(testdata("secret.yaml")).expect("read testdata/secret.yaml")
}

// ---------------------------------------------------------------------------------------------
// ksec edit
// ---------------------------------------------------------------------------------------------

#[test]
fn edit_of_one_value_rewrites_three_lines_and_sops_decrypts_the_rest_unchanged() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let sops_before = assert_sops_decrypts(&lab, "db.enc.yaml");
    assert_eq!(sops_before.matches(PASSWORD).count(), 1);

    let editor = sed_editor(&lab, "change-password", &format!("s/{PASSWORD}/{NEW_PASSWORD}/"));
    edit(&lab, &editor, &["db.enc.yaml"]).ok();

    // The value's line, `lastmodified` and `mac`: every other ciphertext is kept.
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    assert_eq!(
        assert_sops_decrypts(&lab, "db.enc.yaml"),
        sops_before.replace(PASSWORD, NEW_PASSWORD)
    );
    assert_eq!(
        ksec_decrypt(&lab, "db.enc.yaml"),
        sample_plain().replace(PASSWORD, NEW_PASSWORD)
    );
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_gives_the_editor_a_0600_file_named_like_the_original_in_a_private_dir_removed_after() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let log = log_file(&lab, "buffer.log");
    // Records the buffer's path and modes, and leaves a swap file next to it as vim would.
    let editor = lab.script(
        "record",
        &format!(
            "log='{}'\nprintf '%s\\n' \"$1\" > \"$log\"\nls -ld \"$(dirname \"$1\")\" >> \"$log\"\n\
             ls -ld \"$1\" >> \"$log\"\ntouch \"$1.swp\"\n",
            log.display()
        ),
    );
    edit(&lab, &editor, &["db.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);

    let seen = read_log(&lab, "buffer.log");
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines.len(), 3, "{seen}");
    let buffer = Path::new(lines[0]);
    let dir = buffer.parent().expect("buffer dir");
    assert_eq!(buffer.file_name().expect("name"), "db.enc.yaml");
    assert_eq!(
        dir.parent(),
        Some(runtime(&lab).as_path()),
        "not in XDG_RUNTIME_DIR: {seen}"
    );
    let dir_name = dir.file_name().expect("dir name").to_string_lossy();
    assert!(dir_name.starts_with(".ksec-"), "{dir_name}");
    assert!(lines[1].starts_with("drwx------ "), "directory mode: {}", lines[1]);
    assert!(lines[2].starts_with("-rw------- "), "buffer mode: {}", lines[2]);

    assert!(!buffer.exists() && !dir.exists(), "{} is still there", dir.display());
    assert_no_leftovers(&lab, "edit");
    assert_eq!(lab.read("db.enc.yaml"), original);
}

#[cfg(target_os = "linux")]
#[test]
fn edit_without_a_runtime_dir_keeps_the_buffer_in_dev_shm() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let editor = lab.script(
        "where",
        &format!("printf '%s\\n' \"$1\" > '{}'\n", log_file(&lab, "where.log").display()),
    );
    let tmpdir = lab.side("tmp");
    ksec(&lab)
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", &tmpdir)
        .env("EDITOR", &editor)
        .args(["edit", "db.enc.yaml"])
        .run()
        .expect_code(FILE_NOT_MODIFIED);
    let buffer = PathBuf::from(read_log(&lab, "where.log").trim_end());
    let dir = buffer.parent().expect("buffer dir");
    // Memory-backed when the system has a usable /dev/shm; the temp dir otherwise.
    let base = if tempfile::tempdir_in("/dev/shm").is_ok() {
        PathBuf::from("/dev/shm")
    } else {
        tmpdir.clone()
    };
    assert_eq!(dir.parent(), Some(base.as_path()), "{}", buffer.display());
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert_eq!(fs::read_dir(&tmpdir).expect("list tmp").count(), 0);
    assert_no_leftovers(&lab, "edit in /dev/shm");
}

#[test]
fn edit_runs_sops_editor_before_editor_split_like_a_shell() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let log = log_file(&lab, "args.log");
    let recorder = lab.script(
        "my editor",
        &format!("printf '%s\\n' \"$#\" \"$@\" > '{}'\n", log.display()),
    );
    let wrong = lab.script("wrong-editor", "exit 1\n");
    let quoted = format!("'{}' --wait 'two words'", recorder.display());

    ksec(&lab)
        .env("SOPS_EDITOR", &quoted)
        .env("EDITOR", &wrong)
        .args(["edit", "db.enc.yaml"])
        .run()
        .expect_code(FILE_NOT_MODIFIED);
    let args = read_log(&lab, "args.log");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[..3], ["3", "--wait", "two words"]);
    assert!(args[3].ends_with("/db.enc.yaml"), "{args:?}");

    // An empty SOPS_EDITOR does not count: EDITOR is used.
    fs::remove_file(&log).expect("rm log");
    ksec(&lab)
        .env("SOPS_EDITOR", "")
        .env("EDITOR", format!("'{}' -f", recorder.display()))
        .args(["edit", "db.enc.yaml"])
        .run()
        .expect_code(FILE_NOT_MODIFIED);
    let args = read_log(&lab, "args.log");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[..2], ["2", "-f"]);
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_without_sops_editor_or_editor_runs_vi_from_path() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let vi = lab.script(
        "vi",
        &format!(
            "printf '%s\\n' \"$@\" > '{}'\nsed -i 's/{PASSWORD}/{NEW_PASSWORD}/' \"$1\"\n",
            log_file(&lab, "vi-args.log").display()
        ),
    );
    let bin = vi.parent().expect("bin dir");
    // ksec() already removes EDITOR (and isolate every SOPS_ variable, SOPS_EDITOR too).
    ksec(&lab)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args(["edit", "db.enc.yaml"])
        .run()
        .ok();
    let args = read_log(&lab, "vi-args.log");
    assert!(args.trim_end().ends_with("/db.enc.yaml"), "vi got the buffer: {args}");
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    assert_eq!(
        assert_sops_decrypts(&lab, "db.enc.yaml").matches(NEW_PASSWORD).count(),
        1
    );
    assert_no_leftovers(&lab, "edit with vi");
}

#[test]
fn edit_without_changes_exits_200_and_leaves_the_file_alone() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let old = age_file(&lab.path("db.enc.yaml"));
    init_repo(&lab);
    let editor = lab.script("do-nothing", "exit 0\n");
    let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);
    assert!(
        out.stderr_text().contains("db.enc.yaml has not been modified"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(numstat(&lab, "db.enc.yaml"), "");
    assert_eq!(lab.read("db.enc.yaml"), original);
    assert_eq!(mtime(&lab.path("db.enc.yaml")), old);
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_to_invalid_yaml_without_a_terminal_exits_2_and_keeps_the_file() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let original = lab.read("db.enc.yaml");
    let editor = lab.script("break-yaml", "printf 'key: [unclosed\\n' >> \"$1\"\n");
    let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(COULD_NOT_READ_INPUT);
    assert_eq!(numstat(&lab, "db.enc.yaml"), "");
    assert!(
        out.stderr_text().contains("cannot parse db.enc.yaml") && out.stderr_text().contains(" as YAML: "),
        "the error names the file: {}",
        out.stderr_text()
    );
    assert_eq!(lab.read("db.enc.yaml"), original);
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_parse_error_gives_the_line_number_the_editor_shows() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    // Counts the buffer's lines (the `# ksec:` header included, as the editor shows them),
    // then breaks the line after the last one.
    let editor = lab.script(
        "break-last-line",
        &format!(
            "wc -l < \"$1\" > '{}'\nprintf 'key: [unclosed\\n' >> \"$1\"\n",
            log_file(&lab, "lines.log").display()
        ),
    );
    let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(COULD_NOT_READ_INPUT);
    let broken_line = read_log(&lab, "lines.log").trim().parse::<usize>().expect("line count") + 1;
    assert!(
        out.stderr_text().contains(&format!("at line {broken_line} column 6")),
        "the user is pointed at line {broken_line} of the buffer, where `[` is unclosed:\n{}",
        out.stderr_text()
    );
}

#[test]
fn edit_when_the_editor_crashes_or_fails_exits_201_and_keeps_the_file() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let original = lab.read("db.enc.yaml");
    // Both change the buffer first: a failed editor's buffer is never saved.
    let cases = [
        ("crash", "kill -SEGV $$\n", "killed by signal 11"),
        ("fail", "exit 3\n", "exited with status 3"),
    ];
    for (name, end, message) in cases {
        let editor = lab.script(name, &format!("sed -i 's/{PASSWORD}/{NEW_PASSWORD}/' \"$1\"\n{end}"));
        let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(EDITOR_FAILED);
        assert!(out.stderr_text().contains(message), "{name}: {}", out.stderr_text());
        assert_eq!(numstat(&lab, "db.enc.yaml"), "", "{name}");
        assert_eq!(lab.read("db.enc.yaml"), original, "{name}");
        assert_no_leftovers(&lab, name);
    }
}

/// Sends `signal` to ksec alone (not to its editor) while a slow editor runs; asserts that
/// the editor was ended too, the buffer is gone and the file untouched, and returns ksec's
/// exit code.
fn signal_ksec_while_the_editor_runs(signal: &str) -> Option<i32> {
    let lab = Dir::with_sops()?;
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let log = log_file(&lab, "started.log");
    // The editor records its pid and buffer, then waits (as `exec`, so its pid is sleep's).
    let editor = lab.script(
        "slow",
        &format!(
            "printf '%s\\n%s\\n' \"$$\" \"$1\" > '{}.tmp'\nmv '{0}.tmp' '{0}'\nexec sleep 30\n",
            log.display()
        ),
    );
    let mut child = ksec(&lab).env("EDITOR", &editor).args(["edit", "db.enc.yaml"]).spawn();
    let start = Instant::now();
    while !log.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the editor never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = read_log(&lab, "started.log");
    let (editor_pid, buffer) = seen.trim_end().split_once('\n').expect("pid and path");
    lab.command("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .run()
        .ok();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            lab.command("kill").args(["-KILL", editor_pid]).run();
            panic!("ksec did not end after SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let editor_alive = lab.command("kill").args(["-0", editor_pid]).run().success();
    if editor_alive {
        lab.command("kill").args(["-KILL", editor_pid]).run();
    }
    assert!(!editor_alive, "SIG{signal}: the editor was left running");
    assert!(!Path::new(buffer).exists(), "SIG{signal}: the buffer is still there");
    assert_eq!(lab.read("db.enc.yaml"), original);
    assert_no_leftovers(&lab, &format!("the edit ended by SIG{signal}"));
    // Only now: the editor, dead, no longer holds ksec's output open.
    Some(child.wait().code)
}

#[test]
fn edit_terminated_while_the_editor_runs_exits_143_and_removes_the_buffer() {
    // SIGTERM is passed on to the editor, and ksec exits 128 + 15 as a shell would report it.
    if let Some(code) = signal_ksec_while_the_editor_runs("TERM") {
        assert_eq!(code, 143);
    }
}

#[test]
fn edit_sent_sigint_while_the_editor_runs_ends_it_and_exits_85() {
    // Ctrl-C at the terminal reaches the editor itself, which decides what it means; a SIGINT
    // sent to ksec alone (`kill -INT`) is passed on, and ksec exits with sops's code for an
    // interrupted edit.
    if let Some(code) = signal_ksec_while_the_editor_runs("INT") {
        assert_eq!(code, 85);
    }
}

#[test]
fn edit_shows_secret_data_decoded_under_a_ksec_header_and_raw_as_stored() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let viewer = viewer(&lab, "view.yaml");
    edit(&lab, &viewer, &["db.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);
    let view = read_log(&lab, "view.yaml");
    let (header, body) = split_header(&view);
    assert!(!header.is_empty(), "no `# ksec:` header:\n{view}");
    assert!(
        header.iter().any(|l| l.contains("decoded")),
        "the header says why: {header:?}"
    );
    // Everything as in the file, but the PEM as text in a block instead of base64.
    let ca_line = line_starting(&sample_plain(), "  ca.crt: ").to_string();
    let decoded = format!(
        "  ca.crt: |\n{}",
        CA_PEM.lines().map(|l| format!("    {l}\n")).collect::<String>()
    );
    assert_eq!(body, sample_plain().replace(&format!("{ca_line}\n"), &decoded));

    edit(&lab, &viewer, &["--raw", "db.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);
    assert_eq!(
        read_log(&lab, "view.yaml"),
        sample_plain(),
        "--raw: data as stored, no header"
    );
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_shows_binary_data_as_binary_and_keeps_it_when_another_value_changes() {
    let Some(lab) = Dir::with_sops() else { return };
    let bytes = [0xff_u8, 0xfe, 0x00, 0x01];
    let bin = BASE64.encode(bytes);
    encrypt(
        &lab,
        "bin.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bin\ntype: Opaque\ndata:\n  bin: {bin}\n  txt: aGVsbG8=\n"
        ),
        "bin.enc.yaml",
    );
    let before = lab.read_string("bin.enc.yaml");
    let log = log_file(&lab, "view.yaml");
    let editor = lab.script(
        "hello-world",
        &format!(
            "cp \"$1\" '{}'\nsed -i 's/^  txt: hello$/  txt: world/' \"$1\"\n",
            log.display()
        ),
    );
    edit(&lab, &editor, &["bin.enc.yaml"]).ok();
    let (_, body) = split_header(&read_log(&lab, "view.yaml"));
    assert_eq!(
        body,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bin\ntype: Opaque\ndata:\n  bin: !!binary {bin}\n  txt: hello\n"
        )
    );
    let after = lab.read_string("bin.enc.yaml");
    assert_eq!(line_starting(&after, "  bin: "), line_starting(&before, "  bin: "));
    assert_ne!(line_starting(&after, "  txt: "), line_starting(&before, "  txt: "));
    assert_sops_decrypts(&lab, "bin.enc.yaml");
    let sops_txt = sops(&lab)
        .args(["decrypt", "--extract", r#"["data"]["txt"]"#, "bin.enc.yaml"])
        .run();
    assert_eq!(sops_txt.ok().stdout, BASE64.encode("world").as_bytes());
    assert_eq!(extract(&lab, "bin.enc.yaml", r#"["data"]["bin"]"#), bin.as_bytes());
}

#[test]
fn edit_stores_decoded_data_that_reads_as_a_number_or_date_as_the_text_typed() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let typed = [
        ("pin", "0755"),
        ("ver", "1.10"),
        ("mask", "0x1F"),
        ("since", "2024-01-01"),
    ];
    let lines: String = typed.iter().map(|(k, v)| format!("  {k}: {v}\\n")).collect();
    let editor = lab.script("add-typed", &format!("printf '{lines}' >> \"$1\"\n"));
    edit(&lab, &editor, &["db.enc.yaml"]).ok();
    // Four new lines, `lastmodified` and `mac`.
    assert_eq!(numstat(&lab, "db.enc.yaml"), "6\t2");
    for (key, text) in typed {
        let path = format!(r#"["data"]["{key}"]"#);
        let by_sops = sops(&lab).args(["decrypt", "--extract", &path, "db.enc.yaml"]).run();
        assert_eq!(by_sops.ok().stdout_text(), BASE64.encode(text), "data.{key}");
    }
    commit_all(&lab, "typed values");

    // `null` could mean empty or the word: the edit is refused, naming the key.
    let editor = lab.script("add-null", "printf '  token: null\\n' >> \"$1\"\n");
    let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(INVALID_SECRET);
    assert!(
        out.stderr_text().contains("data.token") && out.stderr_text().contains("is null"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(numstat(&lab, "db.enc.yaml"), "");
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_of_a_decoded_certificate_saves_it_base64_encoded_in_three_lines() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let editor = sed_editor(&lab, "edit-pem", "s/^    MIIBfake$/    MIIBedited/");
    edit(&lab, &editor, &["db.enc.yaml"]).ok();
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    let expected = BASE64.encode(CA_PEM.replace("MIIBfake", "MIIBedited"));
    let ca_path = r#"["data"]["ca.crt"]"#;
    assert_eq!(
        String::from_utf8(extract(&lab, "db.enc.yaml", ca_path)).unwrap(),
        expected
    );
    let by_sops = sops(&lab).args(["decrypt", "--extract", ca_path, "db.enc.yaml"]).run();
    assert_eq!(by_sops.ok().stdout_text(), expected);
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_of_one_value_keeps_a_line_wrapped_base64_data_value_as_stored() {
    let Some(lab) = Dir::with_sops() else { return };
    // `base64` wraps at 76 columns; Kubernetes accepts the line breaks.
    let wrapped: String = BASE64
        .encode("x".repeat(120))
        .as_bytes()
        .chunks(76)
        .map(|c| format!("    {}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    encrypt(
        &lab,
        "w.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: w\ntype: Opaque\ndata:\n  wrapped: |\n{wrapped}  txt: aGVsbG8=\n"
        ),
        "w.enc.yaml",
    );
    let before = lab.read_string("w.enc.yaml");
    let sops_before = assert_sops_decrypts(&lab, "w.enc.yaml");
    let editor = sed_editor(&lab, "hello-world", "s/^  txt: hello$/  txt: world/");
    edit(&lab, &editor, &["w.enc.yaml"]).ok();
    let after = lab.read_string("w.enc.yaml");
    // The value nobody touched keeps its ciphertext (the line under `wrapped: |`).
    let value_line = |text: &str| {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("  wrapped: "))
            .expect("wrapped");
        format!("{}\n{}", lines[at], lines[at + 1])
    };
    assert_eq!(value_line(&after), value_line(&before), "`wrapped` was re-encrypted");
    assert_eq!(
        assert_sops_decrypts(&lab, "w.enc.yaml"),
        sops_before.replace("txt: aGVsbG8=", &format!("txt: {}", BASE64.encode("world")))
    );
}

#[test]
fn edit_adding_a_string_data_key_encrypts_it() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let editor = sed_editor(
        &lab,
        "add-key",
        "s/^  username: payments$/&\\n  token: brand-new-token/",
    );
    edit(&lab, &editor, &["db.enc.yaml"]).ok();
    // One new line, `lastmodified` and `mac`.
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t2");
    let file = lab.read_string("db.enc.yaml");
    assert!(!file.contains("brand-new-token"));
    assert!(line_starting(&file, "  token: ").starts_with("  token: ENC[AES256_GCM,data:"));
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\n    token: brand-new-token\n"));
}

#[test]
fn edit_of_a_new_file_starts_from_a_template_and_encrypts_it() {
    let Some(lab) = Dir::with_sops() else { return };
    let log = log_file(&lab, "template.yaml");
    let editor = lab.script(
        "fill-template",
        &format!(
            "cp \"$1\" '{}'\nsed -i 's/change-me/s3cret-value/' \"$1\"\n",
            log.display()
        ),
    );
    edit(&lab, &editor, &["--age", SAMPLE_RECIPIENT, "new.enc.yaml"]).ok();

    let template =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: example\ntype: Opaque\nstringData:\n  password: change-me\n";
    let view = read_log(&lab, "template.yaml");
    let (header, body) = split_header(&view);
    assert!(!header.is_empty(), "no `# ksec:` header:\n{view}");
    assert_eq!(body, template);

    let file = lab.read_string("new.enc.yaml");
    assert!(!file.contains("# ksec") && !file.contains("s3cret-value"), "{file}");
    assert!(file.contains(&format!("- recipient: {SAMPLE_RECIPIENT}\n")), "{file}");
    assert_eq!(
        ksec_decrypt(&lab, "new.enc.yaml"),
        template.replace("change-me", "s3cret-value")
    );
    assert!(assert_sops_decrypts(&lab, "new.enc.yaml").contains("\n    password: s3cret-value\n"));
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_of_a_new_file_left_as_the_template_creates_nothing() {
    let Some(lab) = Dir::with_sops() else { return };
    let editor = lab.script("do-nothing", "exit 0\n");
    edit(&lab, &editor, &["--age", SAMPLE_RECIPIENT, "new.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);
    assert!(!lab.path("new.enc.yaml").exists());
    assert_eq!(fs::read_dir(lab.work()).expect("list").count(), 0);
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_of_a_new_file_without_recipients_fails_before_the_editor_opens() {
    let Some(lab) = Dir::with_sops() else { return };
    let ran = log_file(&lab, "editor-ran");
    let editor = lab.script("record-run", &format!("touch '{}'\n", ran.display()));
    let out = edit(&lab, &editor, &["new.enc.yaml"]).expect_code(1);
    assert!(
        out.stderr_text().contains("no recipients to encrypt new.enc.yaml for") && out.stderr_text().contains("--age"),
        "{}",
        out.stderr_text()
    );
    assert!(!ran.exists(), "the editor ran, and what the user typed would be lost");

    // A .sops.yaml whose rules do not cover the file says so, also before the editor.
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^prod/.*\n    age: {SAMPLE_RECIPIENT}\n"),
    );
    let out = edit(&lab, &editor, &["new.enc.yaml"]).expect_code(1);
    assert!(out.stderr_text().contains("no creation rule"), "{}", out.stderr_text());
    assert!(!ran.exists(), "the editor ran");
    assert!(!lab.path("new.enc.yaml").exists());
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn edit_to_an_invalid_secret_exits_30_without_a_terminal_and_no_validate_saves_it() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let original = lab.read("db.enc.yaml");
    // A TLS Secret needs tls.crt and tls.key, which this one has not.
    let editor = sed_editor(&lab, "make-tls", "s#^type: Opaque$#type: kubernetes.io/tls#");
    let out = edit(&lab, &editor, &["db.enc.yaml"]).expect_code(INVALID_SECRET);
    assert!(
        out.stderr_text().contains("tls.crt") && out.stderr_text().contains("tls.key"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(lab.read("db.enc.yaml"), original);
    assert_no_leftovers(&lab, "edit");

    edit(&lab, &editor, &["--no-validate", "db.enc.yaml"]).ok();
    // The `type` line (in clear), `lastmodified` and `mac`.
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\ntype: kubernetes.io/tls\n"));
}

// ---------------------------------------------------------------------------------------------
// ksec set and unset
// ---------------------------------------------------------------------------------------------

#[test]
fn set_of_one_value_rewrites_three_lines_where_sops_set_rewrites_most_of_the_file() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    lab.copy_testdata("secret.enc.yaml", "by-sops.enc.yaml");
    init_repo(&lab);
    let sops_before = assert_sops_decrypts(&lab, "db.enc.yaml");
    let value = format!("\"{NEW_PASSWORD}\"");

    ksec(&lab)
        .args(["set", "db.enc.yaml", PASSWORD_PATH, &value])
        .run()
        .ok();
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    let ours = assert_sops_decrypts(&lab, "db.enc.yaml");
    assert_eq!(ours, sops_before.replace(PASSWORD, NEW_PASSWORD));

    // sops re-indents this 2-space file to its own 4 spaces: 27 of its 36 lines (measured
    // with sops 3.11). Same plaintext, many more changed lines.
    sops(&lab)
        .args(["set", "by-sops.enc.yaml", PASSWORD_PATH, &value])
        .run()
        .ok();
    let sops_numstat = numstat(&lab, "by-sops.enc.yaml");
    let (added, deleted) = sops_numstat.split_once('\t').expect("numstat");
    let (added, deleted): (usize, usize) = (added.parse().unwrap(), deleted.parse().unwrap());
    assert!(added > 3 && deleted > 3, "sops set changed only {sops_numstat}");
    assert_eq!(assert_sops_decrypts(&lab, "by-sops.enc.yaml"), ours);
}

#[test]
fn set_on_a_file_sops_wrote_rewrites_three_lines_like_sops_set() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.yaml", "plain.yaml");
    let out = sops(&lab)
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--encrypted-regex",
            "^(data|stringData)$",
            "plain.yaml",
        ])
        .run();
    lab.write("db.enc.yaml", &out.ok().stdout);
    fs::copy(lab.path("db.enc.yaml"), lab.path("by-sops.enc.yaml")).expect("copy");
    fs::remove_file(lab.path("plain.yaml")).expect("rm");
    init_repo(&lab);
    // So that `lastmodified` changes, as it would for any edit made later than the encryption.
    next_second();
    let value = format!("\"{NEW_PASSWORD}\"");
    ksec(&lab)
        .args(["set", "db.enc.yaml", PASSWORD_PATH, &value])
        .run()
        .ok();
    sops(&lab)
        .args(["set", "by-sops.enc.yaml", PASSWORD_PATH, &value])
        .run()
        .ok();
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
    assert_eq!(numstat(&lab, "by-sops.enc.yaml"), "3\t3");
    assert_eq!(
        assert_sops_decrypts(&lab, "db.enc.yaml"),
        assert_sops_decrypts(&lab, "by-sops.enc.yaml")
    );
}

#[test]
fn set_of_the_value_already_there_leaves_the_file_byte_identical() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let old = age_file(&lab.path("db.enc.yaml"));
    let same = format!("\"{PASSWORD}\"");
    for flags in [&["--idempotent"][..], &[][..]] {
        ksec(&lab)
            .arg("set")
            .args(flags)
            .args(["db.enc.yaml", PASSWORD_PATH, &same])
            .run()
            .ok();
        assert_eq!(lab.read("db.enc.yaml"), original, "set {flags:?}");
        assert_eq!(mtime(&lab.path("db.enc.yaml")), old, "set {flags:?} rewrote the file");
    }
}

#[test]
fn set_of_a_new_key_adds_it_encrypted() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let path = r#"["stringData"]["token"]"#;
    ksec(&lab).args(["set", "db.enc.yaml", path, r#""tok-123""#]).run().ok();
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t2");
    let file = lab.read_string("db.enc.yaml");
    assert!(line_starting(&file, "  token: ").starts_with("  token: ENC[AES256_GCM,data:"));
    assert_eq!(extract(&lab, "db.enc.yaml", path), b"tok-123");
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\n    token: tok-123\n"));
}

#[test]
fn set_refuses_a_value_that_is_not_json_and_a_malformed_path_with_exit_7() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let cases = [
        (PASSWORD_PATH, "unquoted", "not valid JSON"),
        (r#"["stringData"["password"]"#, r#""x""#, "invalid path"),
        ("stringData.password", r#""x""#, "invalid path"),
        // Text after the value, and a key twice (sops would write a file YAML cannot hold).
        (PASSWORD_PATH, r#""x", "y": 1"#, "not valid JSON"),
        (PASSWORD_PATH, r#"{"a": 1, "a": 2}"#, r#"the key "a" twice"#),
    ];
    for (path, value, message) in cases {
        let out = ksec(&lab)
            .args(["set", "db.enc.yaml", path, value])
            .run()
            .expect_code(INVALID_SET_FORMAT);
        assert!(
            out.stderr_text().contains(message),
            "{path} {value}: {}",
            out.stderr_text()
        );
        assert_eq!(lab.read("db.enc.yaml"), original);
    }
    // The metadata is not a value.
    for args in [
        &["set", "db.enc.yaml", r#"["sops"]"#, "1"][..],
        &["unset", "db.enc.yaml", r#"["sops"]"#],
    ] {
        let out = ksec(&lab).args(args).run().expect_code(1);
        assert!(
            out.stderr_text().contains("holds the file's metadata"),
            "{}",
            out.stderr_text()
        );
        assert_eq!(lab.read("db.enc.yaml"), original);
    }
    // A negative number is a value, not an option.
    ksec(&lab)
        .args(["set", "--no-validate", "db.enc.yaml", r#"["stringData"]["n"]"#, "-0.5"])
        .run()
        .ok();
    assert_eq!(extract(&lab, "db.enc.yaml", r#"["stringData"]["n"]"#), b"-0.5\n");
    // yaml.v3 quotes the key `n`, a YAML 1.1 boolean.
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\n    \"n\": -0.5\n"));
}

#[test]
fn set_under_secret_data_refuses_clear_text_and_base64_encodes_it_when_asked() {
    let lab = Dir::new();
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let path = r#"["data"]["pw"]"#;
    // `hunter22` is valid base64 (of six bytes of junk), `s3cret!` is not: both are clear
    // text that Kubernetes would not give back, refused without quoting them.
    for (value, problem) in [
        ("hunter22", "valid base64, but of 6 bytes that are not text"),
        ("s3cret!", "not base64"),
    ] {
        ksec(&lab)
            .args(["set", "db.enc.yaml", path, &format!("\"{value}\"")])
            .run()
            .expect_code(INVALID_SECRET)
            .stderr_has(format!("Secret/payments/payments-db: data.pw: {problem}"))
            .stderr_has("--base64")
            .stderr_lacks(value);
        assert_eq!(lab.read("db.enc.yaml"), original);
    }
    // Base64 of text is what a data value is.
    ksec(&lab)
        .args(["set", "db.enc.yaml", path, &format!("\"{}\"", BASE64.encode("hunter2"))])
        .run()
        .ok();
    assert_eq!(extract(&lab, "db.enc.yaml", path), BASE64.encode("hunter2").as_bytes());

    // --base64 takes the value as it is, quotes and all, from stdin, a file or the argument.
    ksec(&lab)
        .args(["set", "--value-stdin", "--base64", "db.enc.yaml", path])
        .stdin(r#"hunter"22\"#)
        .run()
        .ok()
        .stderr_is("");
    assert_eq!(
        extract(&lab, "db.enc.yaml", path),
        BASE64.encode(r#"hunter"22\"#).as_bytes()
    );
    let keystore = log_file(&lab, "keystore.p12");
    fs::write(&keystore, [0xff, 0x00, 0x80]).expect("write keystore");
    ksec(&lab)
        .args([
            "set",
            "--value-file",
            "--base64",
            "db.enc.yaml",
            r#"["data"]["keystore.p12"]"#,
        ])
        .arg(&keystore)
        .run()
        .ok();
    assert_eq!(extract(&lab, "db.enc.yaml", r#"["data"]["keystore.p12"]"#), b"/wCA");
    // `echo` adds a line break that becomes part of the value: said, not dropped.
    ksec(&lab)
        .args(["set", "--value-stdin", "--base64", "db.enc.yaml", path])
        .stdin("hunter2\n")
        .run()
        .ok()
        .stderr_has("ends with a line break");
    assert_eq!(
        extract(&lab, "db.enc.yaml", path),
        BASE64.encode("hunter2\n").as_bytes()
    );
    // stringData holds clear text: base64 there would be stored as the value.
    ksec(&lab)
        .args(["set", "--base64", "db.enc.yaml", PASSWORD_PATH, "x"])
        .run()
        .expect_code(INVALID_SET_FORMAT)
        .stderr_has("stringData holds clear text");

    // The help shows the safe way.
    let help = ksec(&lab).args(["help", "set"]).run().ok().stdout_text();
    let data_example = line_starting(&help, "  printf");
    assert!(
        data_example.contains("--base64") && data_example.contains(r#"["data"]"#),
        "{help}"
    );
}

#[test]
fn set_warns_when_a_key_in_data_and_string_data_holds_two_values() {
    let lab = Dir::new();
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    // The sample has ca.crt under data: a stringData copy that says otherwise wins in the
    // cluster, and the data one is silently dropped.
    ksec(&lab)
        .args(["set", "db.enc.yaml", r#"["stringData"]["ca.crt"]"#, r#""n0t-the-ca""#])
        .run()
        .ok()
        .stderr_has(
            "ksec: warning: db.enc.yaml: Secret/payments/payments-db: stringData.ca.crt: also in \
             data, with another value: Kubernetes keeps this one and drops data.ca.crt",
        )
        .stderr_lacks("n0t-the-ca");
    // The same text in both is no trap.
    ksec(&lab)
        .args(["set", "db.enc.yaml", r#"["stringData"]["ca.crt"]"#])
        .arg(format!("{:?}", CA_PEM))
        .run()
        .ok()
        .stderr_is("");
}

#[test]
fn set_reads_the_value_from_stdin_or_from_a_file() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    ksec(&lab)
        .args(["set", "--value-stdin", "db.enc.yaml", PASSWORD_PATH])
        .stdin(br#""from-stdin""#)
        .run()
        .ok();
    assert_eq!(extract(&lab, "db.enc.yaml", PASSWORD_PATH), b"from-stdin");

    let value_file = log_file(&lab, "value.json");
    fs::write(&value_file, "\"from-file\"\n").expect("write value");
    ksec(&lab)
        .args(["set", "--value-file", "db.enc.yaml", PASSWORD_PATH])
        .arg(&value_file)
        .run()
        .ok();
    assert_eq!(extract(&lab, "db.enc.yaml", PASSWORD_PATH), b"from-file");
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\n    password: from-file\n"));
}

#[test]
fn set_refuses_a_value_given_beside_value_stdin_with_exit_8() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let value_file = log_file(&lab, "value.json");
    fs::write(&value_file, "\"from-file\"\n").expect("write value");
    let value_file = value_file.display().to_string();
    // Which value was meant cannot be told: none is used.
    for args in [
        &["set", "--value-stdin", "db.enc.yaml", PASSWORD_PATH, r#""from-args""#][..],
        &[
            "set",
            "--value-stdin",
            "--value-file",
            "db.enc.yaml",
            PASSWORD_PATH,
            &value_file,
        ],
    ] {
        let out = ksec(&lab)
            .args(args)
            .stdin(br#""from-stdin""#)
            .run()
            .expect_code(CONFLICTING_PARAMETERS);
        assert!(
            out.stderr_text().contains("cannot be used with"),
            "{}",
            out.stderr_text()
        );
        assert_eq!(lab.read("db.enc.yaml"), original, "{args:?}");
    }
}

#[test]
fn unset_of_a_key_removes_its_line() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    init_repo(&lab);
    let sops_before = assert_sops_decrypts(&lab, "db.enc.yaml");
    ksec(&lab)
        .args(["unset", "db.enc.yaml", r#"["stringData"]["port"]"#])
        .run()
        .ok();
    // `port`'s line is removed; `lastmodified` and `mac` are replaced: 2 added, 3 deleted.
    assert_eq!(numstat(&lab, "db.enc.yaml"), "2\t3");
    assert_eq!(
        assert_sops_decrypts(&lab, "db.enc.yaml"),
        sops_before.replace("    port: \"5432\"\n", "")
    );
}

/// Changes to the shape of a file's collections: ksec's `set`/`unset` on a file must leave
/// the same data as sops's on an identical copy (the MAC covers values, not structure, so a
/// lost `- ` marker would go unnoticed by both tools).
#[test]
fn set_and_unset_that_reshape_lists_flow_collections_and_nulls_agree_with_sops() {
    let Some(lab) = Dir::with_sops() else { return };
    let list = "a:\n  - b: hello\n    c: x\n  - d: 1\n";
    let env = "top:\n  env:\n  - name: A\n    value: x\n  - name: B\n    valueFrom:\n      k: v\n";
    let flow = "a: [{b: 1, c: 2}, {d: 3}]\nm: {x: 1, y: [1, 2]}\n";
    let nulls = "a:\n  - b:\n    c:\nd:\nnested:\n  - - b: 1\n      c: 2\n";
    let cases: &[(&str, &[&str])] = &[
        (list, &["unset", r#"["a"][0]["b"]"#]),
        (list, &["set", r#"["a"][0]["b"]"#, r#"{"n":[1]}"#]),
        (list, &["unset", r#"["a"][1]["d"]"#]),
        (list, &["set", r#"["a"][1]["d"]"#, r#"{"n":[1]}"#]),
        (list, &["set", r#"["a"][0]["new"]"#, "1"]),
        (env, &["unset", r#"["top"]["env"][1]["name"]"#]),
        (env, &["unset", r#"["top"]["env"][0]["name"]"#]),
        (env, &["unset", r#"["top"]["env"][0]"#]),
        (flow, &["unset", r#"["m"]["x"]"#]),
        (flow, &["unset", r#"["a"][0]["c"]"#]),
        (flow, &["set", r#"["m"]["z"]"#, "5"]),
        (nulls, &["set", r#"["a"][0]["c"]"#, r#""str""#]),
        (nulls, &["set", r#"["d"]"#, r#""str""#]),
        (nulls, &["unset", r#"["nested"][0][0]["b"]"#]),
        ("x: 1\ny:\n  z: 2\n", &["unset", r#"["y"]["z"]"#]),
        // Paths that do not exist yet: sops appends past the end of a list, creates missing
        // lists and mappings, and replaces a scalar in the way.
        (list, &["set", r#"["a"][5]"#, r#""v""#]),
        (list, &["set", r#"["a"][0]["b"]["deep"]"#, "1"]),
        ("empty: []\nmulti: text\nk: v\n", &["set", r#"["empty"][0]"#, r#""v""#]),
        ("empty: []\nmulti: text\nk: v\n", &["set", r#"["new"][0]"#, "1"]),
        ("empty: []\nmulti: text\nk: v\n", &["set", r#"["multi"]["x"]"#, "1"]),
        (env, &["set", r#"["top"]["env"][2]["name"]"#, r#""C""#]),
    ];
    let mut differences = Vec::new();
    for (i, (plain, command)) in cases.iter().enumerate() {
        let ours = format!("k{i}.enc.yaml");
        let theirs = format!("s{i}.enc.yaml");
        encrypt(&lab, &format!("p{i}.yaml"), plain, &ours);
        fs::copy(lab.path(&ours), lab.path(&theirs)).expect("copy");
        let (verb, args) = command.split_first().expect("a command");
        ksec(&lab).arg(verb).arg(&ours).args(args).run().ok();
        sops(&lab).arg(verb).arg(&theirs).args(args).run().ok();
        let as_json = |tool: TestCommand, name: &str| {
            let mut tool = tool;
            let out = tool.args(["decrypt", "--output-type", "json", name]).run().ok();
            out.stdout_text()
        };
        let by_ksec = as_json(sops(&lab), &ours);
        let by_sops = as_json(sops(&lab), &theirs);
        if by_ksec != by_sops {
            differences.push(format!(
                "{command:?} on {plain:?}:\nksec's file: {by_ksec}\nsops's file: {by_sops}"
            ));
        }
        assert_eq!(
            as_json(ksec(&lab), &ours),
            by_ksec,
            "ksec and sops read ksec's file alike"
        );
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn unset_of_a_missing_key_exits_1_unless_idempotent() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let original = lab.read("db.enc.yaml");
    let old = age_file(&lab.path("db.enc.yaml"));
    let missing = r#"["stringData"]["nope"]"#;
    let out = ksec(&lab).args(["unset", "db.enc.yaml", missing]).run().expect_code(1);
    assert!(out.stderr_text().contains("no key or index"), "{}", out.stderr_text());
    ksec(&lab)
        .args(["unset", "--idempotent", "db.enc.yaml", missing])
        .run()
        .ok();
    assert_eq!(lab.read("db.enc.yaml"), original);
    assert_eq!(mtime(&lab.path("db.enc.yaml")), old);
}

// ---------------------------------------------------------------------------------------------
// ksec decrypt --extract, ksec filestatus
// ---------------------------------------------------------------------------------------------

/// Asserts that `--extract PATH` prints exactly what sops prints, for each file and path.
fn assert_extract_like_sops(lab: &Dir, cases: &[(&str, &[&str])]) {
    let mut differences = Vec::new();
    for (name, paths) in cases {
        for path in *paths {
            let ours = ksec(lab).args(["decrypt", "--extract", path, name]).run().ok();
            let theirs = sops(lab).args(["decrypt", "--extract", path, name]).run().ok();
            if ours.stdout != theirs.stdout {
                differences.push(format!(
                    "{name} {path}:\n  ksec: {:?}\n  sops: {:?}",
                    String::from_utf8_lossy(&ours.stdout),
                    String::from_utf8_lossy(&theirs.stdout)
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn extract_prints_a_string_raw_and_a_mapping_as_a_document_like_sops() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    // A string without a line break after it; a mapping as YAML, its comment kept.
    assert_eq!(extract(&lab, "db.enc.yaml", PASSWORD_PATH), PASSWORD.as_bytes());
    assert_eq!(
        extract(&lab, "db.enc.yaml", r#"["metadata"]"#),
        b"name: payments-db\nnamespace: payments\nlabels:\n    # owner team: payments\n    app.kubernetes.io/name: payments\n"
    );
    let paths = [
        PASSWORD_PATH,
        r#"["stringData"]["port"]"#,
        r#"["stringData"]["config.ini"]"#,
        r#"["stringData"]"#,
        r#"["data"]["ca.crt"]"#,
        r#"["metadata"]"#,
        r#"["metadata"]["labels"]"#,
        r#"["kind"]"#,
    ];
    assert_extract_like_sops(&lab, &[("db.enc.yaml", &paths)]);
}

#[test]
fn extract_from_json_prints_what_sops_prints() {
    let Some(lab) = Dir::with_sops() else { return };
    let plain = fs::read_to_string(testdata("app-config.json")).expect("read");
    encrypt(&lab, "app.json", &plain, "app.enc.json");
    let paths = [
        r#"["service"]"#,
        r#"["replicas"]"#,
        r#"["database"]"#,
        r#"["database"]["pool"]"#,
        r#"["database"]["tls"]"#,
        r#"["features"][1]"#,
        r#"["api_key_unencrypted"]"#,
    ];
    assert_extract_like_sops(&lab, &[("app.enc.json", &paths)]);
}

#[test]
fn extract_of_a_list_prints_what_sops_prints() {
    let Some(lab) = Dir::with_sops() else { return };
    let plain = fs::read_to_string(testdata("app-config.json")).expect("read");
    encrypt(&lab, "app.json", &plain, "app.enc.json");
    encrypt(
        &lab,
        "list.yaml",
        "list:\n  - a\n  - b\nnested:\n  deep:\n    - x: 1\n",
        "list.enc.yaml",
    );
    // sops: "[\n\t\"a\",\n\t\"b\"\n]" and "- a\n- b\n".
    assert_extract_like_sops(
        &lab,
        &[
            ("app.enc.json", &[r#"["features"]"#]),
            ("list.enc.yaml", &[r#"["list"]"#, r#"["nested"]["deep"]"#]),
        ],
    );
}

#[test]
fn extract_of_a_missing_key_exits_1_and_of_a_malformed_path_exits_91_like_sops() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    for (path, code) in [
        (r#"["nope"]"#, 1),
        (r#"["stringData"]["nope"]"#, 1),
        (r#"["nope""#, INVALID_TREE_PATH),
    ] {
        let ours = ksec(&lab)
            .args(["decrypt", "--extract", path, "db.enc.yaml"])
            .run()
            .expect_code(code);
        assert_eq!(ours.stdout, b"", "{path}");
        sops(&lab)
            .args(["decrypt", "--extract", path, "db.enc.yaml"])
            .run()
            .expect_code(code);
    }
}

#[test]
fn filestatus_prints_what_sops_prints() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    lab.copy_testdata("secret.yaml", "db.yaml");
    lab.copy_testdata("app-config.json", "app.json");
    let plain = fs::read_to_string(testdata("app-config.json")).expect("read");
    encrypt(&lab, "app-copy.json", &plain, "app.enc.json");
    let cases = [
        ("db.enc.yaml", true),
        ("db.yaml", false),
        ("app.enc.json", true),
        ("app.json", false),
    ];
    for (name, encrypted) in cases {
        let expected = format!("{{\"encrypted\":{encrypted}}}\n");
        let ours = ksec(&lab).args(["filestatus", name]).run();
        assert_eq!(ours.ok().stdout_text(), expected, "ksec filestatus {name}");
        let theirs = sops(&lab).args(["filestatus", name]).run();
        assert_eq!(theirs.ok().stdout_text(), expected, "sops filestatus {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// ksec exec-env, ksec exec-file
// ---------------------------------------------------------------------------------------------

#[test]
fn exec_env_gives_a_secrets_keys_to_the_command() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let out = ksec(&lab)
        .env("KSEC_TEST_OUTER", "outer")
        .args([
            "exec-env",
            "db.enc.yaml",
            r#"printf '%s|%s|%s|%s' "$username" "$password" "$port" "$KSEC_TEST_OUTER""#,
        ])
        .run();
    assert_eq!(out.ok().stdout_text(), format!("payments|{PASSWORD}|5432|outer"));
}

#[test]
fn exec_env_passes_on_the_commands_exit_code() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    ksec(&lab)
        .args(["exec-env", "db.enc.yaml", "exit 7"])
        .run()
        .expect_code(7);
    ksec(&lab)
        .args(["exec-env", "db.enc.yaml", "kill -TERM $$"])
        .run()
        .expect_code(143);
}

#[cfg(target_os = "linux")]
#[test]
fn exec_env_pristine_passes_only_the_files_values_data_decoded() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    // The environment sh itself was started with, before it adds PWD and the like.
    let out = ksec(&lab)
        .env("KSEC_TEST_OUTER", "outer")
        .args(["exec-env", "--pristine", "db.enc.yaml", "cat /proc/$$/environ"])
        .run();
    let environ = out.ok().stdout_text();
    let mut vars: Vec<&str> = environ.split('\0').filter(|v| !v.is_empty()).collect();
    vars.sort();
    let ca = format!("ca.crt={CA_PEM}");
    let expected = [
        ca.as_str(),
        "config.ini=[database]\nhost = db.payments.svc\nsslmode = verify-full\n",
        "password=correct horse battery staple",
        "port=5432",
        "username=payments",
    ];
    assert_eq!(vars, expected);
}

#[test]
fn exec_env_of_other_files_gives_their_top_level_values_like_sops() {
    let Some(lab) = Dir::with_sops() else { return };
    encrypt(
        &lab,
        "flat.json",
        r#"{"service": "payments", "replicas": 3, "ratio": 1.5, "tls": true, "api_unencrypted": "pub"}"#,
        "flat.enc.json",
    );
    encrypt(
        &lab,
        "flat.yaml",
        "service: payments\nreplicas: 3\nratio: 1.50\ntls: yes\nbig: 1e3\n",
        "flat.enc.yaml",
    );
    let command = r#"printf '%s|' "$service" "$replicas" "$ratio" "$tls" "$api_unencrypted" "$big""#;
    // Numbers as sops 3.13 writes them: a JSON integer is an int (3.11 made it the float
    // 3.0), 1e3 is 1000.0.
    for (name, expected) in [
        ("flat.enc.json", "payments|3|1.5|true|pub||"),
        ("flat.enc.yaml", "payments|3|1.5|yes||1000.0|"),
    ] {
        let ours = ksec(&lab).args(["exec-env", name, command]).run();
        assert_eq!(ours.ok().stdout_text(), expected, "ksec exec-env {name}");
        let theirs = sops(&lab).args(["exec-env", name, command]).run();
        assert_eq!(theirs.ok().stdout_text(), expected, "sops exec-env {name}");
    }
}

#[test]
fn exec_env_refuses_a_nested_value_with_exit_1_like_sops() {
    let Some(lab) = Dir::with_sops() else { return };
    let plain = fs::read_to_string(testdata("app-config.json")).expect("read");
    encrypt(&lab, "app.json", &plain, "app.enc.json");
    let ours = ksec(&lab).args(["exec-env", "app.enc.json", "echo ran"]).run();
    assert_eq!(ours.stdout, b"", "the command must not run");
    assert!(
        ours.stderr_text().contains("database"),
        "the error names the key: {}",
        ours.stderr_text()
    );
    sops(&lab)
        .args(["exec-env", "app.enc.json", "echo ran"])
        .run()
        .expect_code(1);
    ours.expect_code(1);
}

#[test]
fn exec_file_serves_the_plaintext_through_a_fifo_in_a_private_dir() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let log = log_file(&lab, "path.log");
    let command = format!(
        "test -p {{}} || exit 99; printf '%s\\n' {{}} > '{}'; cat {{}}",
        log.display()
    );
    let out = ksec(&lab).args(["exec-file", "db.enc.yaml", &command]).run();
    assert_eq!(out.ok().stdout_text(), sample_plain());
    let path = PathBuf::from(read_log(&lab, "path.log").trim_end());
    assert_eq!(path.file_name().expect("name"), "db.enc.yaml");
    let dir = path.parent().expect("dir");
    assert_eq!(dir.parent(), Some(runtime(&lab).as_path()));
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert_no_leftovers(&lab, "exec-file");
}

#[test]
fn exec_file_no_fifo_writes_a_0600_file_that_can_be_read_twice() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let log = log_file(&lab, "ls.log");
    let command = format!(
        "test -f {{}} && ! test -p {{}} || exit 99; ls -l {{}} > '{}'; cat {{}} {{}}",
        log.display()
    );
    let out = ksec(&lab)
        .args(["exec-file", "--no-fifo", "db.enc.yaml", &command])
        .run();
    assert_eq!(out.ok().stdout_text(), sample_plain().repeat(2));
    let listing = read_log(&lab, "ls.log");
    assert!(listing.starts_with("-rw------- "), "{listing}");
    assert_no_leftovers(&lab, "exec-file --no-fifo");
}

#[test]
fn exec_file_filename_names_the_file_and_the_exit_code_is_passed_on() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let out = ksec(&lab)
        .args([
            "exec-file",
            "--filename",
            "x.yaml",
            "db.enc.yaml",
            "basename {}; exit 9",
        ])
        .run();
    assert_eq!(out.expect_code(9).stdout_text(), "x.yaml\n");
    let out = ksec(&lab)
        .args(["exec-file", "--no-fifo", "db.enc.yaml", "basename {}; exit 3"])
        .run();
    assert_eq!(out.expect_code(3).stdout_text(), "db.enc.yaml\n");
    // A name with directories would put the plaintext outside the private directory.
    let out = ksec(&lab)
        .args(["exec-file", "--filename", "../x.yaml", "db.enc.yaml", "echo ran"])
        .run()
        .expect_code(1);
    assert_eq!(out.stdout, b"");
    assert_no_leftovers(&lab, "exec-file");
}

#[test]
fn exec_file_quotes_the_path_so_a_file_name_runs_nothing_and_a_space_is_one_word() {
    let Some(lab) = Dir::with_sops() else { return };
    let size = fs::metadata(testdata("secret.yaml")).expect("stat").len().to_string();
    // A file name from a repository someone else pushes to, with the `{}` quoting habits
    // people have: bare, in single quotes, in double quotes.
    lab.copy_testdata("secret.enc.yaml", "a;touch PWNED;b.yaml");
    for command in ["wc -c < {}", "wc -c < '{}'", "wc -c < \"{}\""] {
        let out = ksec(&lab).args(["exec-file", "a;touch PWNED;b.yaml", command]).run();
        assert_eq!(out.ok().stdout_text().trim(), size, "{command}");
        assert!(!lab.path("PWNED").exists(), "{command}: the file name ran as a command");
        let out = ksec(&lab)
            .args(["exec-file", "a;touch PWNED;b.yaml", "basename {}"])
            .run();
        assert_eq!(out.ok().stdout_text(), "a_touch_PWNED_b.yaml\n");
    }
    // A name with a space is one word; so is a --filename with shell syntax in it.
    lab.copy_testdata("secret.enc.yaml", "my db.enc.yaml");
    let out = ksec(&lab).args(["exec-file", "my db.enc.yaml", "cat {}"]).run();
    assert_eq!(out.ok().stdout_text(), sample_plain());
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    for name in ["x;touch PWNED;y.yaml", "$(touch PWNED).yaml", "my file.yaml"] {
        let out = ksec(&lab)
            .args([
                "exec-file",
                "--no-fifo",
                "--filename",
                name,
                "db.enc.yaml",
                "basename {}; cat {}",
            ])
            .run();
        assert_eq!(
            out.ok().stdout_text(),
            format!("{name}\n{}", sample_plain()),
            "--filename {name}"
        );
        assert!(!lab.path("PWNED").exists(), "--filename {name} ran as a command");
    }
    assert_no_leftovers(&lab, "exec-file");
}

#[test]
fn exec_file_does_not_hang_when_the_command_never_reads_the_fifo() {
    let Some(lab) = Dir::with_sops() else { return };
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    let start = Instant::now();
    ksec(&lab)
        .args(["exec-file", "db.enc.yaml", "true"])
        .run_within(Duration::from_secs(10))
        .ok();
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert_no_leftovers(&lab, "exec-file");
}

// ---------------------------------------------------------------------------------------------
// Git: ksec git-setup, the textconv and the merge driver
// ---------------------------------------------------------------------------------------------

const GITATTRIBUTES: &str =
    "*.enc.yaml diff=ksec merge=ksec\n*.enc.yml diff=ksec merge=ksec\n*.enc.json diff=ksec merge=ksec\n";

#[test]
fn git_setup_prints_the_configuration_and_write_adds_it_once() {
    let Some(lab) = Dir::with_sops() else { return };
    git_ok(&lab, &["init", "-q", "-b", "main"]);
    let out = ksec(&lab).arg("git-setup").run();
    assert_eq!(
        out.ok().stdout_text(),
        format!(
            "# .gitattributes\n{GITATTRIBUTES}\n\
             # Git config (run once per clone; never set diff.ksec.cachetextconv)\n\
             git config diff.ksec.textconv 'ksec diff'\n\
             git config merge.ksec.name 'ksec: merge encrypted files by their plaintext'\n\
             git config merge.ksec.driver 'ksec merge %O %A %B %P'\n"
        )
    );
    assert!(!lab.path(".gitattributes").exists(), "printing writes nothing");

    for round in 0..2 {
        ksec(&lab).args(["git-setup", "--write"]).run().ok();
        assert_eq!(lab.read_string(".gitattributes"), GITATTRIBUTES, "round {round}");
        assert_eq!(
            git_ok(&lab, &["config", "--get", "merge.ksec.driver"]),
            "ksec merge %O %A %B %P\n"
        );
        assert_eq!(git_ok(&lab, &["config", "--get", "diff.ksec.textconv"]), "ksec diff\n");
        assert_eq!(
            git_ok(&lab, &["config", "--get-all", "merge.ksec.driver"])
                .lines()
                .count(),
            1
        );
    }
    git(&lab)
        .args(["config", "--get", "diff.ksec.cachetextconv"])
        .run()
        .expect_code(1);
}

/// A repository set up with `ksec git-setup --write`, holding the sample Secret.
fn secret_repo() -> Option<Dir> {
    let lab = Dir::with_sops()?;
    lab.copy_testdata("secret.enc.yaml", "db.enc.yaml");
    git_ok(&lab, &["init", "-q", "-b", "main"]);
    ksec(&lab).args(["git-setup", "--write"]).run().ok();
    git_ok(&lab, &["config", "user.email", "dev@example.com"]);
    git_ok(&lab, &["config", "user.name", "Dev"]);
    commit_all(&lab, "initial");
    Some(lab)
}

/// Branch `theirs` sets the password to `their-pass`, `main` (checked out) to `our-pass`: a
/// real conflict for the next merge.
fn branches_changing_the_password(lab: &Dir) {
    git_ok(lab, &["checkout", "-q", "-b", "theirs"]);
    ksec_set(lab, PASSWORD_PATH, r#""their-pass""#);
    commit_all(lab, "their password");
    git_ok(lab, &["checkout", "-q", "main"]);
    ksec_set(lab, PASSWORD_PATH, r#""our-pass""#);
    commit_all(lab, "our password");
}

fn ksec_set(lab: &Dir, path: &str, json: &str) {
    ksec(lab).args(["set", "db.enc.yaml", path, json]).run().ok();
}

#[test]
fn git_diff_shows_the_plaintext_change_through_the_textconv() {
    let Some(lab) = secret_repo() else { return };
    ksec_set(&lab, PASSWORD_PATH, &format!("\"{NEW_PASSWORD}\""));
    let diff = git_ok(&lab, &["diff"]);
    let changes: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---") && !l.starts_with("+++"))
        .collect();
    assert_eq!(
        changes,
        [
            format!("-  password: \"{PASSWORD}\"").as_str(),
            format!("+  password: \"{NEW_PASSWORD}\"").as_str()
        ],
        "{diff}"
    );
    assert!(!diff.contains("ENC["), "{diff}");
    assert_eq!(numstat(&lab, "db.enc.yaml"), "3\t3");
}

#[test]
fn git_diff_without_a_key_says_so_in_one_line_per_side() {
    let Some(lab) = secret_repo() else { return };
    ksec_set(&lab, PASSWORD_PATH, &format!("\"{NEW_PASSWORD}\""));
    let out = git(&lab)
        .env("SOPS_AGE_KEY_FILE", lab.side("no-keys").join("keys.txt"))
        .args(["diff"])
        .run()
        .ok();
    // The ciphertext changes show, as stored; stderr has one line for each side.
    assert!(out.stdout_text().contains("ENC["), "{}", out.stdout_text());
    let stderr = out.stderr_text();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    for line in lines {
        assert!(
            line.starts_with("ksec: warning: ")
                && line.ends_with(
                    "db.enc.yaml: no key here decrypts it (`ksec decrypt` of the file says why); \
                     showing the file as stored"
                ),
            "{stderr}"
        );
    }
}

#[test]
fn git_merge_of_changes_to_different_values_is_clean() {
    let Some(lab) = secret_repo() else { return };
    let sops_before = assert_sops_decrypts(&lab, "db.enc.yaml");
    let new_ca = BASE64.encode(CA_PEM.replace("MIIBfake", "MIIBrenewed"));
    git_ok(&lab, &["checkout", "-q", "-b", "renew-ca"]);
    ksec_set(&lab, r#"["data"]["ca.crt"]"#, &format!("\"{new_ca}\""));
    commit_all(&lab, "renew the CA");
    git_ok(&lab, &["checkout", "-q", "main"]);
    ksec_set(&lab, PASSWORD_PATH, &format!("\"{NEW_PASSWORD}\""));
    commit_all(&lab, "rotate the password");

    git(&lab).args(["merge", "--no-edit", "renew-ca"]).run().ok();
    assert_eq!(git_ok(&lab, &["status", "--porcelain"]), "");
    let old_ca = BASE64.encode(CA_PEM);
    assert_eq!(
        assert_sops_decrypts(&lab, "db.enc.yaml"),
        sops_before.replace(PASSWORD, NEW_PASSWORD).replace(&old_ca, &new_ca)
    );
}

#[test]
fn git_merge_of_changes_to_neighbouring_lines_merges_by_key() {
    // username and password sit on adjacent lines: a line merge conflicts, but no value was
    // changed on both sides, so the driver merges the values. A key added on one side and a
    // key removed on the other come through too.
    let Some(lab) = secret_repo() else { return };
    let sops_before = assert_sops_decrypts(&lab, "db.enc.yaml");
    git_ok(&lab, &["checkout", "-q", "-b", "theirs"]);
    ksec_set(&lab, r#"["stringData"]["username"]"#, r#""their-user""#);
    ksec_set(&lab, r#"["stringData"]["added"]"#, r#""new value""#);
    commit_all(&lab, "their user");
    git_ok(&lab, &["checkout", "-q", "main"]);
    ksec_set(&lab, PASSWORD_PATH, &format!("\"{NEW_PASSWORD}\""));
    ksec(&lab)
        .args(["unset", "db.enc.yaml", r#"["stringData"]["port"]"#])
        .run()
        .ok();
    commit_all(&lab, "our password");
    let ours = lab.read_string("db.enc.yaml");

    git(&lab).args(["merge", "--no-edit", "theirs"]).run().ok();
    assert_eq!(git_ok(&lab, &["status", "--porcelain"]), "");
    let merged = assert_sops_decrypts(&lab, "db.enc.yaml");
    let expected = sops_before
        .replace(PASSWORD, NEW_PASSWORD)
        .replace("username: payments", "username: their-user")
        .replace("    port: \"5432\"\n", "")
        .replace("\ndata:\n", "\n    added: new value\ndata:\n");
    assert_eq!(merged, expected);
    // Our unchanged lines keep their ciphertext: only their two values and the MAC (and maybe
    // lastmodified) differ from our version.
    let after = lab.read_string("db.enc.yaml");
    let changed = after.lines().filter(|l| !ours.lines().any(|o| o == *l)).count();
    assert!((3..=4).contains(&changed), "{changed} lines changed:\n{after}");
}

#[test]
fn edit_refuses_a_conflict_resolution_that_still_holds_a_marker_line() {
    let Some(lab) = secret_repo() else { return };
    branches_changing_the_password(&lab);
    let ours = lab.read_string("db.enc.yaml");
    assert_ne!(git(&lab).args(["merge", "--no-edit", "theirs"]).run().code, 0);

    // Keeps theirs but forgets the `>>>>>>>` line, and notes where it is.
    let lines = log_file(&lab, "marker-line.log");
    let resolve = lab.script(
        "forget-a-marker",
        &format!(
            "sed -i '/^<<<<<<< /,/^=======$/d' \"$1\"\ngrep -n '^>>>>>>> ' \"$1\" | cut -d: -f1 > '{}'\n",
            lines.display()
        ),
    );
    let out = edit(&lab, &resolve, &["db.enc.yaml"]).expect_code(COULD_NOT_READ_INPUT);
    let line = read_log(&lab, "marker-line.log");
    assert!(
        out.stderr_text().contains(&format!(
            "db.enc.yaml (edited text) still has a conflict marker at line {}",
            line.trim()
        )),
        "{}",
        out.stderr_text()
    );
    assert_eq!(lab.read_string("db.enc.yaml"), ours);
    assert_eq!(git_ok(&lab, &["status", "--porcelain"]), "UU db.enc.yaml\n");
    assert_no_leftovers(&lab, "edit");
}

#[test]
fn git_merge_conflict_keeps_ours_and_edit_shows_and_resolves_it() {
    let Some(lab) = secret_repo() else { return };
    branches_changing_the_password(&lab);
    let ours = git_ok(&lab, &["show", "HEAD:db.enc.yaml"]);

    let merge = git(&lab).args(["merge", "--no-edit", "theirs"]).run();
    assert_ne!(merge.code, 0, "the merge must stop on the conflict");
    assert_eq!(git_ok(&lab, &["status", "--porcelain"]), "UU db.enc.yaml\n");
    // Still encrypted, and still our version: no markers in a file sops has to read.
    assert_eq!(lab.read_string("db.enc.yaml"), ours);
    assert!(assert_sops_decrypts(&lab, "db.enc.yaml").contains("\n    password: our-pass\n"));

    let viewer = viewer(&lab, "conflict.yaml");
    edit(&lab, &viewer, &["db.enc.yaml"]).expect_code(FILE_NOT_MODIFIED);
    let view = read_log(&lab, "conflict.yaml");
    let markers = format!(
        "  username: payments\n<<<<<<< ours\n  password: \"our-pass\"\n||||||| original\n  password: \"{PASSWORD}\"\n\
         =======\n  password: \"their-pass\"\n>>>>>>> theirs\n  port: \"5432\"\n"
    );
    assert!(
        view.contains(&markers),
        "conflict markers around the two values:\n{view}"
    );
    assert!(!view.contains("ENC["), "{view}");
    assert!(
        !split_header(&view).0.is_empty(),
        "the view explains the conflict:\n{view}"
    );
    assert_no_leftovers(&lab, "edit");

    // Keep theirs: drop from `<<<<<<<` to `=======`, and the `>>>>>>>` line.
    let resolve = sed_editor(&lab, "keep-theirs", "/^<<<<<<< /,/^=======$/d; /^>>>>>>> /d");
    let out = edit(&lab, &resolve, &["db.enc.yaml"]).ok();
    assert!(
        out.stderr_text().contains("git add db.enc.yaml"),
        "{}",
        out.stderr_text()
    );
    let resolved = assert_sops_decrypts(&lab, "db.enc.yaml");
    assert!(resolved.contains("\n    password: their-pass\n"), "{resolved}");
    assert_eq!(extract(&lab, "db.enc.yaml", PASSWORD_PATH), b"their-pass");

    git_ok(&lab, &["add", "db.enc.yaml"]);
    git_ok(&lab, &["commit", "-q", "--no-edit"]);
    assert_eq!(git_ok(&lab, &["status", "--porcelain"]), "");
    let parents = git_ok(&lab, &["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "a merge commit: {parents}");
    assert_no_leftovers(&lab, "edit");
}
