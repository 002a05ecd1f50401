//! `ksec edit` at a terminal: an edit that does not parse is shown and the editor reopened,
//! instead of failing (what happens without a terminal, tested in tests/editing.rs).
//!
//! `script` (util-linux) gives ksec a pseudo-terminal; the Enter that answers the prompt is
//! typed on its stdin.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// `ksec edit s.enc.yaml` in `dir` on a pseudo-terminal, with `editor` and the sample key; the
/// shell line starts with `prefix` (`exec ` makes ksec the terminal's foreground process).
fn edit_at_a_terminal(script: &Path, dir: &Path, editor: &Path, runtime: &Path, prefix: &str) -> Command {
    let mut cmd = Command::new(script);
    isolate(&mut cmd, dir);
    cmd.current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .env("EDITOR", editor)
        .env("XDG_RUNTIME_DIR", runtime)
        .args([
            "-qec",
            &format!("{prefix}{} edit s.enc.yaml", env!("CARGO_BIN_EXE_ksec")),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn an_edit_that_does_not_parse_is_reopened_at_a_terminal() {
    let Some(script) = tool_on_path("script") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).expect("mkdir");
    std::fs::copy(testdata("secret.enc.yaml"), dir.path().join("s.enc.yaml")).expect("copy");
    // First run: break the YAML. Second run: repair it and change one value.
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\n\
         if [ ! -f \"$0.ran\" ]; then touch \"$0.ran\"; echo 'broken: [' >> \"$1\";\n\
         else sed -i -e '/^broken: \\[$/d' -e 's/^  username: payments$/  username: fixed/' \"$1\"; fi\n",
    )
    .expect("write editor");
    make_executable(&editor);

    let mut cmd = edit_at_a_terminal(&script, dir.path(), &editor, &runtime, "");
    let mut child = cmd.spawn().expect("script starts");
    child.stdin.take().expect("stdin").write_all(b"\n").expect("type Enter");
    let out = child.wait_with_output().expect("script ends");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ksec edit failed at a terminal:\n{shown}");
    assert!(shown.contains("cannot parse"), "the parse error is shown:\n{shown}");
    assert!(
        shown.contains("press Enter"),
        "the user is asked before the editor reopens:\n{shown}"
    );

    let mut decrypt = ksec(dir.path());
    decrypt
        .current_dir(dir.path())
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args(["decrypt", "--extract", "[\"stringData\"][\"username\"]", "s.enc.yaml"]);
    assert_eq!(run_ok(&mut decrypt).stdout, b"fixed", "the repaired edit was saved");
    let left: Vec<_> = std::fs::read_dir(&runtime).expect("read runtime dir").collect();
    assert!(left.is_empty(), "the private directory is gone: {left:?}");
}

#[test]
fn ctrl_c_at_the_terminal_belongs_to_the_editor_and_the_edit_is_saved() {
    let Some(script) = tool_on_path("script") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).expect("mkdir");
    std::fs::copy(testdata("secret.enc.yaml"), dir.path().join("s.enc.yaml")).expect("copy");
    // An editor that, like vim, takes Ctrl-C as its own: it waits for one, then saves a change.
    let started = dir.path().join("started");
    let got_int = dir.path().join("got-int");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ntrap 'touch {int}' INT\ntouch {started}\ni=0\n\
             while [ ! -f {int} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
             sleep 0.3\nsed -i 's/^  username: payments$/  username: after-ctrl-c/' \"$1\"\n",
            int = got_int.display(),
            started = started.display()
        ),
    )
    .expect("write editor");
    make_executable(&editor);

    let mut cmd = edit_at_a_terminal(&script, dir.path(), &editor, &runtime, "exec ");
    let mut child = cmd.spawn().expect("script starts");
    let begin = std::time::Instant::now();
    while !started.exists() {
        assert!(begin.elapsed().as_secs() < 10, "the editor never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Ctrl-C typed at the terminal: the terminal signals ksec and the editor alike.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x03").expect("type Ctrl-C");
    stdin.flush().expect("flush");
    let out = child.wait_with_output().expect("script ends");
    drop(stdin);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(got_int.exists(), "the editor did not get the Ctrl-C:\n{shown}");
    assert!(
        out.status.success(),
        "ksec did not save the edit after Ctrl-C:\n{shown}"
    );

    let mut decrypt = ksec(dir.path());
    decrypt
        .current_dir(dir.path())
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args(["decrypt", "--extract", "[\"stringData\"][\"username\"]", "s.enc.yaml"]);
    assert_eq!(run_ok(&mut decrypt).stdout, b"after-ctrl-c");
    let left: Vec<_> = std::fs::read_dir(&runtime).expect("read runtime dir").collect();
    assert!(left.is_empty(), "the private directory is gone: {left:?}");
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
