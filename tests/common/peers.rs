//! Finding the real programs the tests run beside ksec: the peers sops, gpg and kubectl
//! (through `KSEC_PEER_*`, set by `eval "$(../shared/peers/install-peers.sh)"`) and tools on
//! PATH such as git, openssl and `script`.
//!
//! A missing one fails the test when `CI` is set and skips it (with a note) otherwise: CI must
//! never pass because a peer was not installed.

use std::path::{Path, PathBuf};

/// The real sops binary, or `None` (after a note) when it is not installed outside CI.
pub fn sops() -> Option<PathBuf> {
    peer("KSEC_PEER_SOPS")
}

/// The real OpenBao server and CLI (`bao`), for the Vault transit tests.
pub fn bao_bin() -> Option<PathBuf> {
    peer("KSEC_PEER_BAO")
}

/// moto's server (`moto_server`), a local AWS KMS for the KMS tests.
pub fn moto_server_bin() -> Option<PathBuf> {
    peer("KSEC_PEER_MOTO_SERVER")
}

/// The real `kubectl`.
pub fn kubectl() -> Option<PathBuf> {
    match std::env::var_os("KSEC_PEER_KUBECTL") {
        Some(_) => peer("KSEC_PEER_KUBECTL"),
        None => which("kubectl").or_else(|| peer("KSEC_PEER_KUBECTL")),
    }
}

/// The real `gpg` (`KSEC_PEER_GPG`, else `gpg` on PATH), for tests that need a keyring.
pub fn gpg() -> Option<PathBuf> {
    match std::env::var_os("KSEC_PEER_GPG") {
        Some(_) => peer("KSEC_PEER_GPG"),
        None => which("gpg").or_else(|| peer("KSEC_PEER_GPG")),
    }
}

/// `openssl` on PATH (throwaway TLS keys for `kubectl create secret tls`).
pub fn openssl() -> Option<PathBuf> {
    tool_on_path("openssl")
}

/// A program on PATH that a test needs. Missing, it fails the test when `CI` is set and skips
/// it (with a note) otherwise, like the peers.
pub fn tool_on_path(name: &str) -> Option<PathBuf> {
    if let Some(path) = which(name) {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{name} is not on PATH: CI must run the tests that need it");
    }
    eprintln!("note: skipping a test that needs {name}: not on PATH");
    None
}

/// `gpgconf` beside the peer gpg, else on PATH; `None` quietly, for cleanup that is best effort.
pub(super) fn gpgconf() -> Option<PathBuf> {
    std::env::var_os("KSEC_PEER_GPG")
        .map(|gpg| PathBuf::from(gpg).with_file_name("gpgconf"))
        .filter(|path| path.is_file())
        .or_else(|| which("gpgconf"))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn peer(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(path) if path.is_file() => Some(path),
        other => {
            let why = match other {
                Some(p) => format!("{var}={} does not exist", p.display()),
                None => format!("{var} is not set"),
            };
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{why}: CI must run interop tests against the real peer (eval \"$(../shared/peers/install-peers.sh)\")"
                );
            }
            eprintln!("note: skipping a peer test: {why}");
            None
        }
    }
}
