//! `ksec edit` at a terminal: an edit that does not parse is shown and the editor reopened,
//! instead of failing (what happens without a terminal, tested in tests/editing.rs).
//!
//! `script` (util-linux) gives ksec a pseudo-terminal; the Enter that answers the prompt is
//! typed on its stdin.

mod common;

use std::io::Write;
use std::path::Path;

use common::*;

/// `ksec edit s.enc.yaml` in `dir` on a pseudo-terminal, with `editor` and the sample key; the
/// shell line starts with `prefix` (`exec ` makes ksec the terminal's foreground process).
fn edit_at_a_terminal(dir: &Dir, script: &Path, editor: &Path, prefix: &str) -> TestCommand {
    let mut cmd = dir.command(script);
    cmd.env("SOPS_AGE_KEY_FILE", sample_key())
        .env("EDITOR", editor)
        .env("XDG_RUNTIME_DIR", dir.side("runtime"))
        .args([
            "-qec",
            &format!("{prefix}{} edit s.enc.yaml", env!("CARGO_BIN_EXE_ksec")),
            "/dev/null",
        ]);
    cmd
}

/// `ksec decrypt --extract '["stringData"]["username"]' s.enc.yaml`: the value the editor set.
fn username(dir: &Dir) -> Vec<u8> {
    dir.ksec()
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args(["decrypt", "--extract", "[\"stringData\"][\"username\"]", "s.enc.yaml"])
        .run()
        .ok()
        .stdout
}

#[test]
fn an_edit_that_does_not_parse_is_reopened_at_a_terminal() {
    let Some(script) = tool_on_path("script") else { return };
    let dir = Dir::new();
    let runtime = dir.side("runtime");
    dir.copy_testdata("secret.enc.yaml", "s.enc.yaml");
    // First run: break the YAML. Second run: repair it and change one value.
    let editor = dir.script(
        "editor.sh",
        "if [ ! -f \"$0.ran\" ]; then touch \"$0.ran\"; echo 'broken: [' >> \"$1\";\n\
         else sed -i -e '/^broken: \\[$/d' -e 's/^  username: payments$/  username: fixed/' \"$1\"; fi\n",
    );

    let out = edit_at_a_terminal(&dir, &script, &editor, "").stdin(b"\n").run();
    let shown = out.stdout_text();
    assert!(out.success(), "ksec edit failed at a terminal:\n{shown}");
    assert!(shown.contains("cannot parse"), "the parse error is shown:\n{shown}");
    assert!(
        shown.contains("press Enter"),
        "the user is asked before the editor reopens:\n{shown}"
    );

    assert_eq!(username(&dir), b"fixed", "the repaired edit was saved");
    let left: Vec<_> = std::fs::read_dir(&runtime).expect("read runtime dir").collect();
    assert!(left.is_empty(), "the private directory is gone: {left:?}");
}

#[test]
fn ctrl_c_at_the_terminal_belongs_to_the_editor_and_the_edit_is_saved() {
    let Some(script) = tool_on_path("script") else { return };
    let dir = Dir::new();
    let runtime = dir.side("runtime");
    dir.copy_testdata("secret.enc.yaml", "s.enc.yaml");
    // An editor that, like vim, takes Ctrl-C as its own: it waits for one, then saves a change.
    let started = dir.root().join("started");
    let got_int = dir.root().join("got-int");
    let editor = dir.script(
        "editor.sh",
        &format!(
            "trap 'touch {int}' INT\ntouch {started}\ni=0\n\
             while [ ! -f {int} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
             sleep 0.3\nsed -i 's/^  username: payments$/  username: after-ctrl-c/' \"$1\"\n",
            int = got_int.display(),
            started = started.display()
        ),
    );

    let mut child = edit_at_a_terminal(&dir, &script, &editor, "exec ").spawn();
    let begin = std::time::Instant::now();
    while !started.exists() {
        assert!(begin.elapsed().as_secs() < 10, "the editor never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Ctrl-C typed at the terminal: the terminal signals ksec and the editor alike.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x03").expect("type Ctrl-C");
    stdin.flush().expect("flush");
    let out = child.wait();
    drop(stdin);
    let shown = out.stdout_text();
    assert!(got_int.exists(), "the editor did not get the Ctrl-C:\n{shown}");
    assert!(out.success(), "ksec did not save the edit after Ctrl-C:\n{shown}");

    assert_eq!(username(&dir), b"after-ctrl-c");
    let left: Vec<_> = std::fs::read_dir(&runtime).expect("read runtime dir").collect();
    assert!(left.is_empty(), "the private directory is gone: {left:?}");
}
