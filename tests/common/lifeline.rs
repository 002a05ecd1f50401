//! Servers that never outlive their test binary (OpenBao, moto), however the binary ends: a
//! failed test, a panic, a SIGKILL.
//!
//! The server runs under a small `sh` that waits for its stdin, a pipe only this process holds
//! the write end of (and never hands to another child: Rust opens it close-on-exec). When this
//! process ends, the kernel closes that end, the shell reads end-of-file, stops the server
//! (killing it if it lingers) and removes its scratch directory. Statics are never dropped, so
//! no destructor could do this.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// A server started by [`start`]: dropping it (or the end of this process) stops the server.
pub struct Watched {
    /// Held, never written: closing it stops the server.
    _lifeline: Mutex<ChildStdin>,
    /// The shell that watches the lifeline; it ends on its own once the lifeline closes.
    _watcher: Mutex<Child>,
}

/// Starts `bin ARGS…` with stdin from /dev/null and its output in `log`, without the
/// variables `unset`; `scratch` is removed when the server stops.
pub fn start(bin: &Path, args: &[String], log: &Path, scratch: &Path, unset: &[&str]) -> Watched {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(
            r#""$@" </dev/null >"$KSEC_SERVER_LOG" 2>&1 & pid=$!
            cat >/dev/null
            kill "$pid" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null
            rm -rf "$KSEC_SERVER_SCRATCH""#,
        )
        .arg("server-lifeline")
        .arg(bin)
        .args(args)
        .env("KSEC_SERVER_LOG", log)
        .env("KSEC_SERVER_SCRATCH", scratch)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for name in unset {
        command.env_remove(name);
    }
    let mut shell = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let lifeline = shell.stdin.take().expect("stdin is piped");
    Watched {
        _lifeline: Mutex::new(lifeline),
        _watcher: Mutex::new(shell),
    }
}
