//! Shared test harness: the ksec binary, the real peers (sops, age), keys and vectors.
//!
//! Peers are found through `KSEC_PEER_*` variables (`eval "$(../shared/peers/install-peers.sh)"`).
//! A missing peer fails the test when `CI` is set and skips it (with a note) otherwise.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `testdata/<name>`.
pub fn testdata(name: &str) -> PathBuf {
    root().join("testdata").join(name)
}

/// The shared vectors directory (`../shared/vectors/sops-upstream`).
pub fn vectors() -> PathBuf {
    root().join("../shared/vectors/sops-upstream")
}

/// The sample age identity shipped in `testdata/keys/`, and its recipient.
pub const SAMPLE_RECIPIENT: &str = "age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky";

pub fn sample_key() -> PathBuf {
    testdata("keys/sample.agekey")
}

/// The upstream sops test identities (vectors/keys) and their recipients.
pub const VECTOR_RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";
pub const VECTOR_RECIPIENT_2: &str = "age1afnrdrkyvy0sl5e08t9ffs4c7g5e5npc8luf7hjc77syewg5gajsls4r90";

/// The vectors that only the PGP test keys 1 and 2 (`keys/sops_functional_tests_key.asc`)
/// open, and one that mixes age and PGP keys. `tests/keys.rs` decrypts each with ksec and sops
/// and compares with its stored plaintext ([`pgp_expected_plaintext`]); `tests/interop_sops.rs`
/// checks that every PGP vector it leaves out is here or in [`PGP_VECTORS_WITH_OWN_TESTS`].
pub const PGP_VECTORS: &[&str] = &[
    "generated-by-sops-3.11.0/pgp-gpgbinary.enc.json",
    "generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml",
    "upstream-v3.11.0/example.yaml",
    "upstream-v3.11.0/example.json",
    "upstream-v3.11.0/example.ini",
    "upstream-v3.11.0/example.txt",
    "upstream-v3.11.0/examples/all_in_one.secret.enc.json",
    "upstream-v3.11.0/examples/per_file.static_github.json",
    "upstream-v3.11.0/functional-tests/res/comments.enc.yaml",
    "upstream-v3.11.0/functional-tests/res/comments_unencrypted_comments.yaml",
    "upstream-v3.11.0/functional-tests/res/multiple_keys.yaml",
    "upstream-v3.13.2/functional-tests/res/format.enc.yaml",
    "upstream-v3.13.2/functional-tests/res/format.enc.json",
    "upstream-v3.13.2/functional-tests/res/format.enc.env",
    "upstream-v3.13.2/functional-tests/res/format.enc.ini",
    "upstream-v3.13.2/functional-tests/res/format-2.enc.ini",
];

/// PGP-only vectors that `tests/keys.rs` checks in tests of their own: the Flux key's file (in
/// either keyring setup) and the file without a MAC (with and without `--ignore-mac`).
pub const PGP_VECTORS_WITH_OWN_TESTS: &[&str] = &[
    "generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json",
    "upstream-v3.11.0/functional-tests/res/no_mac.yaml",
];

/// Where the vectors keep what sops printed for a PGP vector (relative to [`vectors`]), if
/// they do: `X.decrypted.EXT` beside a generated `X.enc.EXT`, else the upstream file's path
/// with `/` as `_` in `expected-plaintext-sops-3.11.0/` (`.ignore-mac` added for no_mac.yaml,
/// which decrypts only with that flag).
pub fn pgp_expected_plaintext(rel: &str) -> Option<String> {
    let expected = match rel.strip_prefix("generated-by-sops-3.11.0/") {
        Some(name) => format!("generated-by-sops-3.11.0/{}", name.replacen(".enc.", ".decrypted.", 1)),
        None => {
            let suffix = if rel.ends_with("/no_mac.yaml") {
                ".ignore-mac"
            } else {
                ""
            };
            format!("expected-plaintext-sops-3.11.0/{}{suffix}", rel.replace('/', "_"))
        }
    };
    vectors().join(&expected).is_file().then_some(expected)
}

pub fn vector_key() -> PathBuf {
    vectors().join("keys/age-test-identity.txt")
}

pub fn vector_key_2() -> PathBuf {
    vectors().join("keys/age-test-identity-2.txt")
}

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

/// Stops the gpg-agent that a command run in this GnuPG home may have started, so no agent
/// outlives its test. Sessions call it when they end (in `Drop`); it never fails, and does
/// nothing when gpg never ran there (an agent always leaves files in its home).
pub fn stop_gpg_agent(gnupg_home: &Path) {
    let used = std::fs::read_dir(gnupg_home).is_ok_and(|mut entries| entries.next().is_some());
    let gpgconf = std::env::var_os("KSEC_PEER_GPG")
        .map(|gpg| PathBuf::from(gpg).with_file_name("gpgconf"))
        .filter(|path| path.is_file())
        .or_else(|| which("gpgconf"));
    if let (true, Some(gpgconf)) = (used, gpgconf) {
        let _ = Command::new(gpgconf)
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", gnupg_home)
            .stdin(std::process::Stdio::null())
            .output();
    }
}

/// The real sops binary, or `None` (after a note) when it is not installed outside CI.
pub fn sops() -> Option<PathBuf> {
    peer("KSEC_PEER_SOPS")
}

/// The real `age` binary.
pub fn age() -> Option<PathBuf> {
    peer("KSEC_PEER_AGE")
}

/// The real `kubectl`.
pub fn kubectl() -> Option<PathBuf> {
    match std::env::var_os("KSEC_PEER_KUBECTL") {
        Some(_) => peer("KSEC_PEER_KUBECTL"),
        None => which("kubectl").or_else(|| peer("KSEC_PEER_KUBECTL")),
    }
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

/// The real `gpg` (`KSEC_PEER_GPG`, else `gpg` on PATH), for tests that need a keyring.
pub fn gpg() -> Option<PathBuf> {
    match std::env::var_os("KSEC_PEER_GPG") {
        Some(_) => peer("KSEC_PEER_GPG"),
        None => which("gpg").or_else(|| peer("KSEC_PEER_GPG")),
    }
}

/// Makes a test script executable (0755).
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot make {} executable: {e}", path.display()));
}
