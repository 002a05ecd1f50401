//! The one integration-test harness, shared by every file in `tests/`: a scratch [`Dir`] with an
//! empty home, the [`TestCommand`]s run in it (ksec, the real sops, other peers) and the [`Run`]
//! each gives back, the peers' lookup, and the keys and vectors the tests share.
//!
//! Peers are found through `KSEC_PEER_*` variables (`eval "$(../shared/peers/install-peers.sh)"`).
//! A missing peer fails the test when `CI` is set and skips it (with a note) otherwise.
// Every test binary compiles this module and uses a part of it: what one leaves unused, a
// function or a re-export, is no mistake.
#![allow(dead_code, unused_imports)]

mod dir;
mod fixtures;
mod peers;
mod run;

pub use dir::{Dir, stop_gpg_agent};
pub use fixtures::*;
pub use peers::*;
pub use run::{Run, Running, TestCommand, pipe};

// The helpers from before `Dir`, kept while test files move onto it one by one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `ksec` command with a clean environment: no SOPS_* variables from the developer's
/// shell, HOME and XDG_CONFIG_HOME pointing at an empty directory.
pub fn ksec(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ksec"));
    isolate(&mut cmd, home);
    cmd
}

/// Removes the caller's key and config variables, points HOME at `home` and GNUPGHOME at an
/// empty private directory inside it ([`gnupg_home`]): a GNUPGHOME in the developer's shell
/// would otherwise win over HOME and let gpg use their keyring and agent.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("SOPS_") {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GNUPGHOME", gnupg_home(home))
        .env("SOPS_DISABLE_VERSION_CHECK", "1");
}

/// `<home>/.gnupg`, the GnuPG home [`isolate`] gives commands, created empty and 0700 (gpg
/// warns about a home others can read) when missing.
pub fn gnupg_home(home: &Path) -> PathBuf {
    let dir = home.join(".gnupg");
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// A `sops` command with a clean environment (same isolation as [`ksec`]).
pub fn sops_cmd(sops: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(sops);
    isolate(&mut cmd, home);
    cmd
}

/// Runs a command and returns its output, panicking with stderr when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command starts");
    assert!(
        out.status.success(),
        "{:?} failed with {}:\n{}",
        cmd,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Makes a test script executable (0755).
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot make {} executable: {e}", path.display()));
}
