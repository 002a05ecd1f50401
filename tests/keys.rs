//! Keys as a user meets them: OpenPGP through gpg and natively, SSH recipients, key groups with
//! Shamir, `--decryption-order`, `rotate`, `updatekeys` and `groups add|delete`, each checked
//! against the real `sops` 3.11 and the real `gpg`.
//!
//! Every test is a session in its own scratch directory with an empty home and throwaway GnuPG
//! homes (mode 0700, never the user's) that hold only the (publicly known) test keys of the
//! shared vectors; the gpg-agents they start are stopped when the session ends. A missing peer fails
//! the test under `CI` and skips it (with a note) otherwise.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{VECTOR_RECIPIENT as AGE1, VECTOR_RECIPIENT_2 as AGE2};

/// PGP test key 1 and key 2 of `keys/sops_functional_tests_key.asc`.
const FP1: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
const FP2: &str = "D7229043384BCC60326C6FB9D8720D957C3D3074";
/// The Flux test key of `keys/pgp-testdata/`.
const FLUX_FP: &str = "B59DAF469E8C948138901A649732075EA221A7EA";

/// A plaintext that sops prints back byte for byte, so both tools' output can be compared
/// with it directly.
const PLAIN: &str = "password: hunter2\nport: 5432\nnested:\n    token: abc\n";

/// A file with layout sops would not keep: comments, quoting, a block scalar.
const LAYOUT: &str = "# database credentials\npassword: hunter2   # rotate yearly\nnested:\n  \
                      user: \"admin\"\n  script: |\n    echo one\n    echo two\nport_unencrypted: 5432\n";

/// `sops`' exit code when no key can decrypt the data key.
const NO_KEY: i32 = 128;

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

/// Which identities a command gets: the two age test identities and the PGP keyring.
#[derive(Debug, Clone, Copy, Default)]
struct Ids {
    age1: bool,
    age2: bool,
    /// GNUPGHOME is the keyring holding PGP keys 1 and 2 (else an empty GnuPG home).
    pgp: bool,
}

const NOBODY: Ids = Ids {
    age1: false,
    age2: false,
    pgp: false,
};
const ONLY_AGE1: Ids = Ids { age1: true, ..NOBODY };
const ONLY_AGE2: Ids = Ids { age2: true, ..NOBODY };
const ONLY_PGP: Ids = Ids { pgp: true, ..NOBODY };

impl Ids {
    fn with_age1(self) -> Ids {
        Ids { age1: true, ..self }
    }

    fn with_age2(self) -> Ids {
        Ids { age2: true, ..self }
    }
}

/// What a command did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts the exit code, showing stderr when it differs.
    fn expect(&self, code: i32, what: &str) -> &Run {
        assert_eq!(
            self.code,
            code,
            "{what}: expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout_text(),
            self.stderr
        );
        self
    }
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    Run::from(out)
}

/// [`run`] with `input` on stdin (answers to prompts, as a pipe gives them).
fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Run {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("answers");
    Run::from(child.wait_with_output().expect("the command ends"))
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// One user's scratch session with the real sops and gpg.
struct Lab {
    tmp: tempfile::TempDir,
    sops: PathBuf,
    gpg: PathBuf,
}

impl Lab {
    /// A fresh session, or `None` (after a note) when a peer is missing outside CI.
    fn new() -> Option<Lab> {
        let sops = common::sops()?;
        let gpg = common::gpg()?;
        let tmp = tempfile::tempdir().expect("temp dir");
        let lab = Lab { tmp, sops, gpg };
        fs::create_dir(lab.dir()).expect("work dir");
        fs::create_dir(lab.home()).expect("home dir");
        lab.gnupg_home("empty");
        let keyring = lab.gnupg_home("keyring");
        lab.gpg_in(&keyring)
            .args(["--batch", "--quiet", "--import"])
            .arg(vector("keys/sops_functional_tests_key.asc"))
            .output()
            .expect("gpg runs");
        let listed = run(lab
            .gpg_in(&keyring)
            .args(["--batch", "--list-secret-keys", "--with-colons"]));
        assert!(
            listed.stdout_text().contains(FP1) && listed.stdout_text().contains(FP2),
            "the test keys did not import: {}",
            listed.stderr
        );
        Some(lab)
    }

    /// The working directory: every command runs here.
    fn dir(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// A GnuPG home `gnupg-<name>` beside the working directory (created 0700 when missing).
    fn gnupg_home(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path().join(format!("gnupg-{name}"));
        if !dir.exists() {
            fs::DirBuilder::new().mode(0o700).create(&dir).expect("GnuPG home");
        }
        dir
    }

    /// The keyring holding PGP test keys 1 and 2 (secret and public).
    fn keyring(&self) -> PathBuf {
        self.gnupg_home("keyring")
    }

    /// A GnuPG home nothing was ever imported into.
    fn empty_gnupg(&self) -> PathBuf {
        self.gnupg_home("empty")
    }

    /// Runs gpg in a GnuPG home of this session.
    fn gpg_in(&self, home: &Path) -> Command {
        let mut cmd = Command::new(&self.gpg);
        cmd.env("GNUPGHOME", home).stdin(Stdio::null());
        cmd
    }

    /// An armored export from the keyring (`--export` or `--export-secret-keys`).
    fn export(&self, what: &str, fp: &str) -> Vec<u8> {
        let out = run(self.gpg_in(&self.keyring()).args(["--batch", "--armor", what, fp]));
        out.expect(0, "gpg export");
        assert!(out.stdout.starts_with(b"-----BEGIN PGP"), "gpg exported nothing");
        out.stdout
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dirs");
        }
        fs::write(&path, contents).expect("write file");
        path
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("UTF-8 file")
    }

    /// Copies a vector into the working directory.
    fn copy_vector(&self, rel: &str, name: &str) -> PathBuf {
        self.write(name, fs::read(vector(rel)).expect("vector"))
    }

    /// Points the command at this session: working directory, empty home, the peer gpg first on
    /// PATH, an empty GnuPG home unless the caller sets another.
    fn prepare(&self, cmd: &mut Command) {
        common::isolate(cmd, &self.home());
        let gpg_dir = self.gpg.parent().expect("gpg has a directory").to_path_buf();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(gpg_dir).chain(std::env::split_paths(&path))).expect("PATH joins");
        cmd.current_dir(self.dir())
            .env("PATH", path)
            .env("GNUPGHOME", self.empty_gnupg());
    }

    fn ksec(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ksec"));
        self.prepare(&mut cmd);
        cmd
    }

    fn sops(&self) -> Command {
        let mut cmd = Command::new(&self.sops);
        self.prepare(&mut cmd);
        cmd
    }

    /// Gives a command exactly these identities (age through `SOPS_AGE_KEY_FILE`, PGP through
    /// GNUPGHOME).
    fn with<'c>(&self, cmd: &'c mut Command, ids: Ids) -> &'c mut Command {
        let mut keys = String::new();
        for (wanted, file) in [
            (ids.age1, "keys/age-test-identity.txt"),
            (ids.age2, "keys/age-test-identity-2.txt"),
        ] {
            if wanted {
                keys.push_str(&fs::read_to_string(vector(file)).expect("age test identity"));
                keys.push('\n');
            }
        }
        if !keys.is_empty() {
            let name = format!("age-{}{}.txt", u8::from(ids.age1), u8::from(ids.age2));
            let file = self.tmp.path().join(name);
            fs::write(&file, keys).expect("age key file");
            cmd.env("SOPS_AGE_KEY_FILE", file);
        }
        if ids.pgp {
            cmd.env("GNUPGHOME", self.keyring());
        }
        cmd
    }

    /// `ksec decrypt FILE` with these identities.
    fn ksec_decrypt(&self, file: &str, ids: Ids) -> Run {
        run(self.with(self.ksec().args(["decrypt", file]), ids))
    }

    /// `sops decrypt FILE` with these identities.
    fn sops_decrypt(&self, file: &str, ids: Ids) -> Run {
        run(self.with(self.sops().args(["decrypt", file]), ids))
    }

    /// Both tools decrypt `file` with `ids` to `expected`.
    fn both_decrypt_to(&self, file: &str, ids: Ids, expected: &str) {
        for (tool, out) in [
            ("ksec", self.ksec_decrypt(file, ids)),
            ("sops", self.sops_decrypt(file, ids)),
        ] {
            out.expect(0, &format!("{tool} decrypt {file} with {ids:?}"));
            assert_eq!(out.stdout_text(), expected, "{tool} decrypt {file} with {ids:?}");
        }
    }

    /// Both tools fail with exit 128 on `file` with `ids`, printing nothing on stdout.
    fn both_refuse(&self, file: &str, ids: Ids) {
        for (tool, out) in [
            ("ksec", self.ksec_decrypt(file, ids)),
            ("sops", self.sops_decrypt(file, ids)),
        ] {
            out.expect(NO_KEY, &format!("{tool} decrypt {file} with {ids:?} must fail"));
            assert!(
                out.stdout.is_empty(),
                "{tool} printed something for {file} with {ids:?}"
            );
        }
    }

    /// Both tools succeed with the same output, or fail with the same exit code.
    fn both_agree(&self, file: &str, ids: Ids) -> Run {
        let ksec = self.ksec_decrypt(file, ids);
        let sops = self.sops_decrypt(file, ids);
        assert_eq!(
            ksec.code, sops.code,
            "{file} with {ids:?}: ksec exits {}, sops {}\nksec:\n{}\nsops:\n{}",
            ksec.code, sops.code, ksec.stderr, sops.stderr
        );
        if sops.code == 0 {
            assert_eq!(ksec.stdout_text(), sops.stdout_text(), "{file} with {ids:?}");
        }
        ksec
    }
}

impl Drop for Lab {
    /// Stops the gpg-agents this session's GnuPG homes started.
    fn drop(&mut self) {
        common::stop_gpg_agent(&common::gnupg_home(&self.home()));
        let Ok(entries) = fs::read_dir(self.tmp.path()) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("gnupg-") {
                common::stop_gpg_agent(&entry.path());
            }
        }
    }
}

fn vector(rel: &str) -> PathBuf {
    common::vectors().join(rel)
}

fn vector_str(rel: &str) -> String {
    vector(rel).display().to_string()
}

/// Every `ENC[…]` string of a file (values, comments and the MAC).
fn ciphertexts(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("ENC[") {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        found.insert(rest[start..start + len + 1].to_string());
        rest = &rest[start + len + 1..];
    }
    found
}

/// The lines of a YAML file before its top-level `sops:` key, and the lines after the `sops`
/// block (none, in files sops and ksec write).
fn outside_sops_block(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("sops:") {
            inside = true;
            continue;
        }
        if inside && !line.starts_with([' ', '\t', '\n']) {
            inside = false;
        }
        if !inside {
            lines.push(line);
        }
    }
    lines
}

/// The `lastmodified:` and `mac:` lines of a YAML `sops` block.
fn stamp_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("lastmodified:") || t.starts_with("mac:")
        })
        .collect()
}

/// The key groups (`key_groups` entries) of a YAML file ksec or sops wrote.
fn key_group_count(text: &str) -> usize {
    if !text.contains("key_groups:") {
        return usize::from(text.contains("recipient:") || text.contains("fp:"));
    }
    let after = &text[text.find("key_groups:").expect("checked")..];
    let indent = after
        .lines()
        .nth(1)
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or_default();
    after
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .take_while(|l| l.len() - l.trim_start().len() >= indent)
        .filter(|l| l.len() - l.trim_start().len() == indent && l.trim_start().starts_with("- "))
        .count()
}

/// The first armored OpenPGP message of a YAML file, unindented.
fn first_pgp_message(text: &str) -> String {
    let mut message = String::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim_start();
        if line == "-----BEGIN PGP MESSAGE-----" {
            inside = true;
        }
        if inside {
            message.push_str(line);
            message.push('\n');
        }
        if line == "-----END PGP MESSAGE-----" {
            break;
        }
    }
    assert!(!message.is_empty(), "no PGP message in:\n{text}");
    message
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// A `.sops.yaml` whose only rule splits the key into three groups (age 1 | PGP key 1 | age 2).
fn shamir_config(threshold: usize) -> String {
    format!(
        "creation_rules:\n  - shamir_threshold: {threshold}\n    key_groups:\n      - age:\n          - {AGE1}\n      \
         - pgp:\n          - {FP1}\n      - age:\n          - {AGE2}\n"
    )
}

/// The pid of the gpg-agent serving this GnuPG home, if one runs.
fn agent_pid(gpg: &Path, gnupg_home: &Path) -> Option<u32> {
    let out = run(Command::new(gpg.with_file_name("gpg-connect-agent"))
        .args(["--no-autostart", "GETINFO pid", "/bye"])
        .env("GNUPGHOME", gnupg_home));
    out.stdout_text()
        .lines()
        .find_map(|line| line.strip_prefix("D ")?.trim().parse().ok())
}

// ---------------------------------------------------------------------------------------------
// The test harness
// ---------------------------------------------------------------------------------------------

#[test]
fn isolated_commands_never_reach_the_developers_keyring_and_their_agent_is_stopped() {
    let Some(gpg) = common::gpg() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    // The developer's shell exports GNUPGHOME: it must not reach an isolated command.
    let developer = tmp.path().join("developer-gnupg");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&developer)
        .expect("GnuPG home");
    let mut import = Command::new(&gpg);
    import.env("GNUPGHOME", &developer);
    common::isolate(&mut import, &home);
    run(import
        .args(["--batch", "--quiet", "--import"])
        .arg(vector("keys/sops_functional_tests_key.asc")))
    .expect(0, "gpg --import in an isolated command");

    let isolated = common::gnupg_home(&home);
    assert!(isolated.starts_with(&home), "{}", isolated.display());
    assert_eq!(mode(&isolated), 0o700);
    let listed = |gnupg_home: &Path| {
        run(Command::new(&gpg)
            .args(["--batch", "--list-secret-keys", "--with-colons"])
            .env("GNUPGHOME", gnupg_home))
        .stdout_text()
    };
    assert!(listed(&isolated).contains(FP1), "the key went elsewhere");
    assert!(
        !listed(&developer).contains(FP1),
        "an isolated command imported into the developer's keyring"
    );

    // Importing a secret key started an agent for the test's home; the harness stops it.
    let pid = agent_pid(&gpg, &isolated).expect("the import started a gpg-agent");
    common::stop_gpg_agent(&isolated);
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        !proc.exists() || agent_pid(&gpg, &isolated).is_none()
    });
    assert!(gone, "gpg-agent {pid} still runs after stop_gpg_agent");
    common::stop_gpg_agent(&developer);
}

// ---------------------------------------------------------------------------------------------
// OpenPGP
// ---------------------------------------------------------------------------------------------

#[test]
fn pgp_fingerprint_encrypts_through_gpg_and_both_tools_decrypt() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let out = run(lab.with(lab.ksec().args(["encrypt", "--pgp", FP1, "db.yaml"]), ONLY_PGP));
    out.expect(0, "ksec encrypt --pgp FP1");
    let text = out.stdout_text();
    assert!(text.contains(&format!("fp: {FP1}")), "{text}");
    assert!(
        text.contains("enc: |-\n") && text.contains("-----BEGIN PGP MESSAGE-----"),
        "the PGP message is stored armored, without a trailing newline:\n{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("abc\n"),
        "a value stayed in clear:\n{text}"
    );
    lab.write("db.enc.yaml", &out.stdout);

    lab.both_decrypt_to("db.enc.yaml", ONLY_PGP, PLAIN);
    // The key really came from the keyring: without it, nothing decrypts.
    lab.both_refuse("db.enc.yaml", NOBODY);
    let refused = lab.ksec_decrypt("db.enc.yaml", NOBODY);
    assert!(refused.stderr.contains(&format!("pgp {FP1}:")), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("No secret key"),
        "gpg's reason is shown:\n{}",
        refused.stderr
    );
}

/// The stored plaintext of a PGP vector, which both tools must print.
fn pgp_expected(rel: &str) -> String {
    let expected = common::pgp_expected_plaintext(rel).unwrap_or_else(|| panic!("{rel}: no stored plaintext"));
    fs::read_to_string(vector(&expected)).expect("expected plaintext")
}

#[test]
fn sops_pgp_vectors_decrypt_with_ksec_exactly_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for rel in common::PGP_VECTORS {
        // Only the keyring: the multi-key vector must open through its PGP key alone.
        let out = lab.both_agree(&vector_str(rel), ONLY_PGP);
        out.expect(0, rel);
        assert_eq!(out.stdout_text(), pgp_expected(rel), "{rel}");
    }

    // sops 3.3 left comments in clear; both tools warn about each and decrypt the rest.
    let old = vector_str("upstream-v3.11.0/functional-tests/res/comments_unencrypted_comments.yaml");
    let out = lab.ksec_decrypt(&old, ONLY_PGP);
    assert_eq!(
        out.stderr.matches("is not encrypted; it was left as is").count(),
        2,
        "{}",
        out.stderr
    );
    let out = lab.sops_decrypt(&old, ONLY_PGP);
    assert_eq!(
        out.stderr.matches("possibly unencrypted comment").count(),
        2,
        "{}",
        out.stderr
    );

    let rel = "upstream-v3.11.0/functional-tests/res/no_mac.yaml";
    let no_mac = vector_str(rel);
    let out = lab.both_agree(&no_mac, ONLY_PGP);
    out.expect(51, "no_mac.yaml without --ignore-mac");
    assert!(out.stderr.contains("no MAC"), "{}", out.stderr);
    let ksec = run(lab.with(lab.ksec().args(["decrypt", "--ignore-mac", &no_mac]), ONLY_PGP));
    let sops = run(lab.with(lab.sops().args(["decrypt", "--ignore-mac", &no_mac]), ONLY_PGP));
    ksec.expect(0, "ksec decrypt --ignore-mac no_mac.yaml");
    sops.expect(0, "sops decrypt --ignore-mac no_mac.yaml");
    assert_eq!(ksec.stdout_text(), sops.stdout_text());
    assert_eq!(ksec.stdout_text(), pgp_expected(rel));
    assert_eq!(ksec.stdout_text(), "myapp1: t00m4nys3cr3tzupdated\n");
}

#[test]
fn flux_gocrypto_vector_decrypts_with_either_keyring_setup() {
    let Some(lab) = Lab::new() else { return };
    let file = vector_str("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json");

    // The key imported into gpg: both tools go through the gpg binary.
    let imported = lab.gnupg_home("flux-imported");
    run(lab
        .gpg_in(&imported)
        .args(["--batch", "--quiet", "--import"])
        .arg(vector("keys/pgp-testdata/private.gpg")))
    .expect(0, "gpg --import private.gpg");
    // The legacy keyrings: sops reads them with go-crypto, gpg migrates them.
    let legacy = lab.gnupg_home("flux-legacy");
    for name in ["pubring.gpg", "secring.gpg"] {
        fs::copy(vector(&format!("keys/pgp-testdata/ring/{name}")), legacy.join(name)).expect("copy ring");
    }
    for home in [&imported, &legacy] {
        let ksec = run(lab.ksec().args(["decrypt", &file]).env("GNUPGHOME", home));
        let sops = run(lab.sops().args(["decrypt", &file]).env("GNUPGHOME", home));
        ksec.expect(0, &format!("ksec with GNUPGHOME={}", home.display()));
        sops.expect(0, &format!("sops with GNUPGHOME={}", home.display()));
        assert_eq!(ksec.stdout_text(), sops.stdout_text());
        assert_eq!(
            ksec.stdout_text(),
            pgp_expected("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json")
        );
        assert!(
            ksec.stdout_text().contains("\"flux\": \"secret\""),
            "{}",
            ksec.stdout_text()
        );
    }

    // Natively, from the exported key, with no gpg at all.
    let key = run(lab
        .gpg_in(&imported)
        .args(["--batch", "--armor", "--export-secret-keys", FLUX_FP]));
    key.expect(0, "export the Flux key");
    lab.write("flux.sec.asc", &key.stdout);
    let native = run(lab
        .ksec()
        .args(["decrypt", &file])
        .env("SOPS_PGP_KEY_FILE", "flux.sec.asc")
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg"));
    native.expect(0, "ksec with SOPS_PGP_KEY_FILE (Flux key)");
    assert!(native.stdout_text().contains("\"flux\": \"secret\""));
}

#[test]
fn native_pgp_secret_key_decrypts_without_gpg() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.with(lab.ksec().args(["encrypt", "--pgp", FP1, "db.yaml"]), ONLY_PGP));
    enc.expect(0, "ksec encrypt --pgp FP1");
    lab.write("db.enc.yaml", &enc.stdout);
    let secret = lab.export("--export-secret-keys", FP1);
    lab.write("key1.sec.asc", &secret);
    let empty = lab.empty_gnupg();

    let no_gpg = |cmd: &mut Command| {
        cmd.env("SOPS_GPG_EXEC", "/nonexistent/gpg").env("GNUPGHOME", &empty);
    };
    let files = [
        "db.enc.yaml".to_string(),
        vector_str("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"),
        vector_str("generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml"),
    ];
    for file in &files {
        let expected = lab.sops_decrypt(file, ONLY_PGP);
        expected.expect(0, &format!("sops decrypt {file}"));
        let expected = if file == "db.enc.yaml" {
            PLAIN.to_string()
        } else {
            expected.stdout_text()
        };

        let mut cmd = lab.ksec();
        no_gpg(cmd.args(["decrypt", file]).env("SOPS_PGP_KEY_FILE", "key1.sec.asc"));
        let out = run(&mut cmd);
        out.expect(0, &format!("ksec decrypt {file} with SOPS_PGP_KEY_FILE and no gpg"));
        assert_eq!(out.stdout_text(), expected, "{file} with SOPS_PGP_KEY_FILE");

        let mut cmd = lab.ksec();
        no_gpg(
            cmd.args(["decrypt", file])
                .env("SOPS_PGP_KEY", String::from_utf8(secret.clone()).expect("armored")),
        );
        let out = run(&mut cmd);
        out.expect(0, &format!("ksec decrypt {file} with SOPS_PGP_KEY and no gpg"));
        assert_eq!(out.stdout_text(), expected, "{file} with SOPS_PGP_KEY");
    }
    assert_eq!(
        fs::read_dir(&empty).expect("empty GnuPG home").count(),
        0,
        "the native path must not touch GnuPG"
    );

    // Without the key there is nothing to decrypt with, and the report says why.
    let mut cmd = lab.ksec();
    no_gpg(cmd.args(["decrypt", "db.enc.yaml"]));
    let out = run(&mut cmd);
    out.expect(NO_KEY, "no key file, no gpg");
    for needle in [
        &format!("pgp {FP1}: no secret key"),
        "SOPS_PGP_KEY_FILE: not set",
        "SOPS_PGP_KEY: not set",
        "gpg: UNUSABLE: SOPS_GPG_EXEC=/nonexistent/gpg: no executable file there",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?} in:\n{}", out.stderr);
    }
}

/// sops 3.5 wrote these messages with golang.org/x/crypto/openpgp: the encrypted-data packet's
/// first partial body chunk is 1 byte, shorter than the 512 RFC 4880 asks for. gpg and go-crypto
/// read them, so the native path (a CI without gpg, an old repository) must too.
#[test]
fn native_pgp_secret_key_decrypts_messages_older_sops_wrote() {
    let Some(lab) = Lab::new() else { return };
    lab.write("keys.sec.asc", lab.export("--export-secret-keys", FP1));
    let mut failures = Vec::new();
    for rel in [
        "upstream-v3.11.0/example.yaml",
        "upstream-v3.11.0/example.json",
        "upstream-v3.11.0/examples/all_in_one.secret.enc.json",
        "upstream-v3.11.0/examples/per_file.static_github.json",
    ] {
        let file = vector_str(rel);
        let expected = lab.sops_decrypt(&file, ONLY_PGP);
        expected.expect(0, &format!("sops decrypt {rel}"));
        let out = run(lab
            .ksec()
            .args(["decrypt", &file])
            .env("SOPS_PGP_KEY_FILE", "keys.sec.asc")
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg"));
        if out.code != 0 || out.stdout != expected.stdout {
            failures.push(format!("{rel}: exit {}\n{}", out.code, out.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn armored_public_key_file_recipient_needs_no_keyring() {
    let Some(lab) = Lab::new() else { return };
    lab.write("pub.asc", lab.export("--export", FP1));
    lab.write("db.yaml", PLAIN);
    let empty = lab.empty_gnupg();
    let out = run(lab
        .ksec()
        .args(["encrypt", "--pgp", "./pub.asc", "db.yaml"])
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
        .env("GNUPGHOME", &empty));
    out.expect(0, "ksec encrypt --pgp ./pub.asc without gpg");
    let text = out.stdout_text();
    assert!(
        text.contains(&format!("fp: {FP1}")),
        "the metadata names the key's fingerprint, not the file:\n{text}"
    );
    assert!(!text.contains("pub.asc"), "{text}");
    assert_eq!(
        fs::read_dir(&empty).expect("GnuPG home").count(),
        0,
        "GnuPG was touched"
    );
    lab.write("db.enc.yaml", &out.stdout);

    // gpg itself opens the stored message: 32 bytes of data key.
    let message = first_pgp_message(&text);
    let mut gpg = lab.gpg_in(&lab.keyring());
    gpg.args(["--batch", "--quiet", "--decrypt"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = gpg.spawn().expect("gpg runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(message.as_bytes()).expect("write to gpg");
    }
    let opened = child.wait_with_output().expect("gpg finishes");
    assert!(
        opened.status.success(),
        "gpg -d: {}",
        String::from_utf8_lossy(&opened.stderr)
    );
    assert_eq!(opened.stdout.len(), 32, "the message holds the 32-byte data key");

    lab.both_decrypt_to("db.enc.yaml", ONLY_PGP, PLAIN);
    lab.both_refuse("db.enc.yaml", NOBODY);
}

#[test]
fn a_key_file_path_in_a_files_metadata_is_refused_never_read() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    // Someone else's public key lies beside the secrets, and the file names it as its `fp`.
    lab.write("x.asc", lab.export("--export", FP2));
    let enc = run(lab.with(
        lab.ksec().args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    ));
    enc.expect(0, "ksec encrypt");
    let tampered = enc.stdout_text().replace(&format!("fp: {FP1}"), "fp: ./x.asc");
    assert_ne!(tampered, enc.stdout_text());
    lab.write("db.enc.yaml", &tampered);
    lab.write(".sops.yaml", format!("creation_rules:\n  - age: {AGE1}\n"));

    for args in [
        vec!["rotate", "-i", "db.enc.yaml"],
        vec!["updatekeys", "--yes", "db.enc.yaml"],
        vec!["groups", "add", "-i", "-f", "db.enc.yaml", "--age", AGE2],
    ] {
        let out = run(lab.with(lab.ksec().args(&args), ONLY_AGE1));
        out.expect(1, &format!("ksec {args:?} on a file whose fp is a path"));
        assert!(
            out.stderr
                .contains("db.enc.yaml: invalid sops metadata: pgp fp \"./x.asc\" is not an OpenPGP fingerprint"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(lab.read_string("db.enc.yaml"), tampered, "{args:?} wrote the file");
    }
    // Decrypting never needs the fingerprint.
    let out = lab.ksec_decrypt("db.enc.yaml", ONLY_AGE1);
    out.expect(0, "ksec decrypt");
    assert_eq!(out.stdout_text(), PLAIN);
}

#[test]
fn failure_on_a_pgp_only_file_hints_at_pgp_keys() {
    let Some(lab) = Lab::new() else { return };
    let out = lab.ksec_decrypt(&vector_str("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"), NOBODY);
    out.expect(NO_KEY, "PGP-only file without the key");
    let hint = out
        .stderr
        .lines()
        .find(|l| l.starts_with("ksec: hint:"))
        .unwrap_or_else(|| panic!("no hint in:\n{}", out.stderr));
    assert!(
        hint.contains("gpg") || hint.contains("SOPS_PGP_KEY"),
        "the file has only a PGP key, so the hint must say how to provide one, not an age key:\n{hint}"
    );
}

// ---------------------------------------------------------------------------------------------
// SSH recipients
// ---------------------------------------------------------------------------------------------

#[test]
fn ssh_ed25519_recipient_decrypts_from_either_key_location_and_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let public = fs::read_to_string(vector("keys/age-ssh-test-ed25519.pub")).expect("ssh public key");
    let private = vector_str("keys/age-ssh-test-ed25519");
    lab.write("db.yaml", PLAIN);
    let out = run(lab.ksec().args(["encrypt", "--age", &public, "db.yaml"]));
    out.expect(0, "ksec encrypt --age ssh-ed25519");
    assert!(
        out.stdout_text().contains(&format!("recipient: {}\n", public.trim())),
        "the recipient is stored as written, comment included:\n{}",
        out.stdout_text()
    );
    lab.write("db.enc.yaml", &out.stdout);

    let by_var = run(lab
        .ksec()
        .args(["decrypt", "db.enc.yaml"])
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private));
    by_var.expect(0, "ksec with SOPS_AGE_SSH_PRIVATE_KEY_FILE");
    assert_eq!(by_var.stdout_text(), PLAIN);
    let sops = run(lab
        .sops()
        .args(["decrypt", "db.enc.yaml"])
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private));
    sops.expect(0, "sops with SOPS_AGE_SSH_PRIVATE_KEY_FILE");
    assert_eq!(sops.stdout_text(), PLAIN);

    let missing = lab.ksec_decrypt("db.enc.yaml", NOBODY);
    missing.expect(NO_KEY, "no SSH key anywhere");
    let default_key = lab.home().join(".ssh/id_ed25519");
    assert!(
        missing
            .stderr
            .contains(&format!("SSH key {}: not found", default_key.display())),
        "{}",
        missing.stderr
    );

    fs::DirBuilder::new()
        .mode(0o700)
        .create(lab.home().join(".ssh"))
        .expect(".ssh");
    fs::copy(&private, &default_key).expect("copy key");
    fs::set_permissions(&default_key, fs::Permissions::from_mode(0o600)).expect("chmod");
    let by_home = lab.ksec_decrypt("db.enc.yaml", NOBODY);
    by_home.expect(0, "ksec with ~/.ssh/id_ed25519");
    assert_eq!(by_home.stdout_text(), PLAIN);

    // And the other way: sops encrypts to the SSH key, ksec decrypts.
    let by_sops = run(lab.sops().args(["encrypt", "--age", public.trim(), "db.yaml"]));
    by_sops.expect(0, "sops encrypt --age ssh-ed25519");
    lab.write("db.sops.yaml", &by_sops.stdout);
    let out = lab.ksec_decrypt("db.sops.yaml", NOBODY);
    out.expect(0, "ksec decrypts sops's SSH file with ~/.ssh/id_ed25519");
    assert_eq!(out.stdout_text(), PLAIN);
}

/// A passphrase-protected `~/.ssh/id_ed25519`: both tools ask for the passphrase on the terminal
/// (`script` gives them one) when the file is encrypted to it, and never otherwise.
#[test]
fn a_passphrase_protected_ssh_key_is_unlocked_at_the_terminal_like_sops() {
    let Some(lab) = Lab::new() else { return };
    let Some(script) = common::tool_on_path("script") else {
        return;
    };
    let ssh = lab.home().join(".ssh");
    fs::create_dir_all(&ssh).expect("~/.ssh");
    let key = ssh.join("id_ed25519");
    fs::copy(common::testdata("keys/locked_ed25519"), &key).expect("copy the key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");
    let public = fs::read_to_string(common::testdata("keys/locked_ed25519.pub")).expect("public key");
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", public.trim(), "db.yaml"]));
    enc.expect(0, "ksec encrypt to the SSH key");
    lab.write("db.enc.yaml", &enc.stdout);

    let at_terminal = |tool: &Path, typed: &[u8]| -> (bool, String) {
        let mut cmd = Command::new(&script);
        lab.prepare(&mut cmd);
        cmd.args(["-qec", &format!("{} decrypt db.enc.yaml", tool.display()), "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("script starts");
        use std::io::Write as _;
        child.stdin.take().expect("stdin").write_all(typed).expect("type");
        let out = child.wait_with_output().expect("script ends");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let ksec = PathBuf::from(env!("CARGO_BIN_EXE_ksec"));
    for tool in [&ksec, &lab.sops] {
        let (ok, shown) = at_terminal(tool, b"correct horse\n");
        assert!(ok, "{} with the passphrase typed:\n{shown}", tool.display());
        assert!(shown.contains("Enter passphrase for"), "{shown}");
        assert!(shown.contains("password: hunter2"), "{shown}");
    }
    let (ok, shown) = at_terminal(&ksec, b"wrong horse\nstill wrong\nnope\n");
    assert!(!ok, "a wrong passphrase decrypted:\n{shown}");
    assert!(shown.contains("3 passphrases did not unlock it"), "{shown}");

    // A file for another key: nothing is asked, and the report says the key was not needed.
    let out = lab.ksec_decrypt(&vector_str("generated-by-sops-3.11.0/types.enc.yaml"), NOBODY);
    out.expect(NO_KEY, "a file for another key");
    assert!(
        out.stderr
            .contains("id_ed25519: passphrase-protected; asked for on the terminal when a file is encrypted to it"),
        "{}",
        out.stderr
    );
}

#[test]
fn ssh_rsa_recipient_interoperates() {
    let Some(lab) = Lab::new() else { return };
    let Some(ssh_keygen) = common::tool_on_path("ssh-keygen") else {
        return;
    };
    let key = lab.tmp.path().join("id_rsa_test");
    run(Command::new(ssh_keygen)
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "ksec@test", "-f"])
        .arg(&key))
    .expect(0, "ssh-keygen -t rsa");
    let public = fs::read_to_string(key.with_extension("pub")).expect("public key");
    assert!(public.starts_with("ssh-rsa "), "{public}");
    lab.write("db.yaml", PLAIN);

    let out = run(lab.ksec().args(["encrypt", "--age", public.trim(), "db.yaml"]));
    out.expect(0, "ksec encrypt --age ssh-rsa");
    assert!(
        out.stdout_text().contains("recipient: ssh-rsa "),
        "{}",
        out.stdout_text()
    );
    lab.write("db.enc.yaml", &out.stdout);
    let by_sops = run(lab.sops().args(["encrypt", "--age", public.trim(), "db.yaml"]));
    by_sops.expect(0, "sops encrypt --age ssh-rsa");
    lab.write("db.sops.yaml", &by_sops.stdout);

    for file in ["db.enc.yaml", "db.sops.yaml"] {
        for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
            let out = run(cmd.args(["decrypt", file]).env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &key));
            out.expect(0, &format!("{tool} decrypt {file} with the RSA key"));
            assert_eq!(out.stdout_text(), PLAIN, "{tool} decrypt {file}");
        }
        lab.both_refuse(file, NOBODY);
    }

    // ~/.ssh/id_rsa is found too.
    fs::DirBuilder::new()
        .mode(0o700)
        .create(lab.home().join(".ssh"))
        .expect(".ssh");
    fs::copy(&key, lab.home().join(".ssh/id_rsa")).expect("copy key");
    let out = lab.ksec_decrypt("db.enc.yaml", NOBODY);
    out.expect(0, "ksec with ~/.ssh/id_rsa");
    assert_eq!(out.stdout_text(), PLAIN);
}

// ---------------------------------------------------------------------------------------------
// Key groups and Shamir
// ---------------------------------------------------------------------------------------------

/// Any two of the three groups (age 1 | PGP key 1 | age 2) decrypt `file` in both tools, to
/// `expected` when given (else to whatever sops prints); any one alone does not.
fn check_any_two_of_three(lab: &Lab, file: &str, expected: Option<&str>) {
    let pairs = [
        Ids {
            age1: true,
            pgp: true,
            ..NOBODY
        },
        Ids {
            age1: true,
            age2: true,
            ..NOBODY
        },
        Ids {
            age2: true,
            pgp: true,
            ..NOBODY
        },
    ];
    for ids in pairs {
        let out = lab.both_agree(file, ids);
        out.expect(0, &format!("{file} with two groups {ids:?}"));
        if let Some(expected) = expected {
            assert_eq!(out.stdout_text(), expected, "{file} with {ids:?}");
        }
    }
    for ids in [ONLY_AGE1, ONLY_PGP, ONLY_AGE2] {
        lab.both_refuse(file, ids);
    }
}

#[test]
fn shamir_2_of_3_mixing_age_and_pgp_needs_any_two_groups_in_both_tools() {
    let Some(lab) = Lab::new() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = run(lab.with(lab.ksec().args(["encrypt", "db.yaml"]), ONLY_PGP));
    out.expect(0, "ksec encrypt with key_groups from .sops.yaml");
    let text = out.stdout_text();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    assert_eq!(key_group_count(&text), 3, "{text}");
    assert!(
        text.contains(AGE1) && text.contains(AGE2) && text.contains(&format!("fp: {FP1}")),
        "{text}"
    );
    lab.write("db.enc.yaml", &out.stdout);
    check_any_two_of_three(&lab, "db.enc.yaml", Some(PLAIN));
}

#[test]
fn sops_shamir_vectors_of_every_format_need_any_two_groups_in_both_tools() {
    let Some(lab) = Lab::new() else { return };
    for ext in ["yaml", "json", "env", "ini"] {
        let expected = fs::read_to_string(vector(&format!("generated-by-sops-3.11.0/shamir-2of3.decrypted.{ext}")))
            .expect("expected plaintext");
        let file = vector_str(&format!("generated-by-sops-3.11.0/shamir-2of3.enc.{ext}"));
        check_any_two_of_three(&lab, &file, Some(&expected));
    }
}

/// Each of the two-group pairs of the three groups (age 1 | PGP key 1 | age 2).
const TWO_GROUPS: [Ids; 3] = [
    Ids {
        age1: true,
        pgp: true,
        age2: false,
    },
    Ids {
        age1: true,
        age2: true,
        pgp: false,
    },
    Ids {
        age2: true,
        pgp: true,
        age1: false,
    },
];
const ALL_THREE: Ids = Ids {
    age1: true,
    age2: true,
    pgp: true,
};

/// `file` records a threshold of 3: all three groups decrypt it in both tools, no two do.
fn check_three_of_three(lab: &Lab, file: &str) {
    let text = lab.read_string(file);
    assert!(text.contains("shamir_threshold: 3"), "{text}");
    assert_eq!(key_group_count(&text), 3, "{text}");
    lab.both_decrypt_to(file, ALL_THREE, PLAIN);
    for ids in TWO_GROUPS {
        lab.both_refuse(file, ids);
    }
}

#[test]
fn the_threshold_flag_of_encrypt_overrides_the_configs() {
    let Some(lab) = Lab::new() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = run(lab.with(
        lab.ksec()
            .args(["encrypt", "--shamir-secret-sharing-threshold", "3", "db.yaml"]),
        ONLY_PGP,
    ));
    out.expect(0, "ksec encrypt --shamir-secret-sharing-threshold 3");
    lab.write("db.enc.yaml", &out.stdout);
    check_three_of_three(&lab, "db.enc.yaml");
}

#[test]
fn updatekeys_takes_the_threshold_from_the_flag_over_the_config() {
    let Some(lab) = Lab::new() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = run(lab.with(lab.ksec().args(["encrypt", "db.yaml"]), ONLY_PGP));
    out.expect(0, "ksec encrypt with a threshold of 2");
    lab.write("db.enc.yaml", &out.stdout);
    lab.write("sops.enc.yaml", &out.stdout);
    let before = lab.read_string("db.enc.yaml");

    let out = run(lab.with(
        lab.ksec().args([
            "updatekeys",
            "--yes",
            "--shamir-secret-sharing-threshold",
            "3",
            "db.enc.yaml",
        ]),
        ALL_THREE,
    ));
    out.expect(0, "ksec updatekeys --shamir-secret-sharing-threshold 3");
    assert!(out.stderr.contains("shamir_threshold 2 -> 3"), "{}", out.stderr);
    check_three_of_three(&lab, "db.enc.yaml");
    let after = lab.read_string("db.enc.yaml");
    assert_eq!(ciphertexts(&after), ciphertexts(&before), "values untouched");
    assert_eq!(stamp_lines(&after), stamp_lines(&before), "lastmodified and mac stay");

    // The flag is ksec's, and so is taking the threshold from .sops.yaml: sops 3.11 keeps the
    // file's ("already up to date") when only the threshold changes (README, differences).
    let flag = run(lab.sops().args([
        "updatekeys",
        "--yes",
        "--shamir-secret-sharing-threshold",
        "3",
        "sops.enc.yaml",
    ]));
    assert_ne!(flag.code, 0, "sops learnt the flag: {}", flag.stderr);
    lab.write(".sops.yaml", shamir_config(3));
    let sops = run(lab.with(lab.sops().args(["updatekeys", "--yes", "sops.enc.yaml"]), ALL_THREE));
    sops.expect(0, "sops updatekeys with a threshold of 3 in .sops.yaml");
    assert!(sops.stderr.contains("already up to date"), "{}", sops.stderr);
    assert_eq!(lab.read_string("sops.enc.yaml"), before);
    let ksec = run(lab.with(lab.ksec().args(["updatekeys", "--yes", "sops.enc.yaml"]), ALL_THREE));
    ksec.expect(0, "ksec updatekeys with a threshold of 3 in .sops.yaml");
    check_three_of_three(&lab, "sops.enc.yaml");
}

#[test]
fn sops_pgp_fp_and_a_flat_pgp_creation_rule_name_the_recipients() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let out = run(lab.with(
        lab.ksec()
            .args(["encrypt", "db.yaml"])
            .env("SOPS_PGP_FP", format!("{FP1},{FP2}")),
        ONLY_PGP,
    ));
    out.expect(0, "ksec encrypt with SOPS_PGP_FP");
    let text = out.stdout_text();
    assert!(
        text.contains(&format!("fp: {FP1}")) && text.contains(&format!("fp: {FP2}")),
        "{text}"
    );
    lab.write("env.enc.yaml", &out.stdout);
    lab.both_decrypt_to("env.enc.yaml", ONLY_PGP, PLAIN);
    lab.both_refuse("env.enc.yaml", NOBODY);

    lab.write(".sops.yaml", format!("creation_rules:\n  - pgp: {FP1}\n"));
    let out = run(lab.with(lab.ksec().args(["encrypt", "db.yaml"]), ONLY_PGP));
    out.expect(0, "ksec encrypt with a flat pgp: rule");
    let text = out.stdout_text();
    assert!(text.contains(&format!("fp: {FP1}")) && !text.contains(FP2), "{text}");
    lab.write("rule.enc.yaml", &out.stdout);
    lab.both_decrypt_to("rule.enc.yaml", ONLY_PGP, PLAIN);
    lab.both_refuse("rule.enc.yaml", NOBODY);
}

#[test]
fn when_no_key_works_the_error_lists_every_group_key_and_place() {
    let Some(lab) = Lab::new() else { return };
    let file = vector_str("generated-by-sops-3.11.0/shamir-2of3.enc.yaml");

    let out = lab.ksec_decrypt(&file, NOBODY);
    out.expect(NO_KEY, "no key at all");
    assert!(out.stdout.is_empty());
    let err = &out.stderr;
    let at = |needle: &str| {
        err.find(needle)
            .unwrap_or_else(|| panic!("missing {needle:?} in:\n{err}"))
    };
    let groups = [
        at("group 0: FAILED"),
        at(&format!("age {AGE1}: no age identity")),
        at("group 1: FAILED"),
        at(&format!("pgp {FP1}: no secret key")),
        at("group 2: FAILED"),
        at(&format!("age {AGE2}: no age identity")),
    ];
    assert!(
        groups.windows(2).all(|w| w[0] < w[1]),
        "groups and keys in file order:\n{err}"
    );
    at("0 of 3 key groups decrypted; the Shamir threshold is 2");
    let places = at("identities looked for:");
    assert!(places > groups[5], "the places come after the groups:\n{err}");
    let empty = lab.empty_gnupg();
    for place in [
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE: not set",
        "SOPS_AGE_KEY: not set",
        "SOPS_AGE_KEY_FILE: not set",
        "SOPS_AGE_KEY_CMD: not set",
        "SOPS_PGP_KEY_FILE: not set",
        "SOPS_PGP_KEY: not set",
        &format!("GnuPG home {}", empty.display()),
    ] {
        assert!(at(place) > places, "{place:?} is listed under the places:\n{err}");
    }
    assert!(
        err.lines().last().is_some_and(|l| l.starts_with("ksec: hint:")),
        "{err}"
    );

    // One group is not enough: it says which one worked and why the others did not.
    let out = lab.ksec_decrypt(&file, ONLY_AGE1);
    out.expect(NO_KEY, "one group of three");
    let err = &out.stderr;
    for needle in [
        "group 0: ok",
        &format!("age {AGE1}: ok"),
        "group 1: FAILED",
        "group 2: FAILED",
        &format!("age {AGE2}: the one age identity found does not match this recipient"),
        "1 of 3 key groups decrypted; the Shamir threshold is 2",
        "1 identity",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn a_broken_identity_source_does_not_stop_the_others() {
    let Some(lab) = Lab::new() else { return };
    let file = vector_str("generated-by-sops-3.11.0/types.enc.yaml");
    let missing = lab.tmp.path().join("no-such-keys.txt");
    let identity = fs::read_to_string(vector("keys/age-test-identity.txt")).expect("age test identity");
    let broken = |cmd: &mut Command| {
        cmd.env("SOPS_AGE_KEY_FILE", &missing)
            .env("SOPS_AGE_KEY_CMD", "false")
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &missing);
    };

    // A stale SOPS_AGE_KEY_FILE (and a failing command) beside a working SOPS_AGE_KEY: both
    // tools decrypt.
    let mut outs = Vec::new();
    for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
        broken(&mut cmd);
        let out = run(cmd.env("SOPS_AGE_KEY", &identity).args(["decrypt", &file]));
        out.expect(0, &format!("{tool} with one working and three broken sources"));
        outs.push(out.stdout);
    }
    assert_eq!(outs[0], outs[1]);

    // Only broken sources: exit 128 like sops, each broken source named, and the hint says so.
    for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
        broken(&mut cmd);
        run(cmd.args(["decrypt", &file])).expect(NO_KEY, &format!("{tool} with broken sources only"));
    }
    let mut cmd = lab.ksec();
    broken(&mut cmd);
    let out = run(cmd.args(["decrypt", &file]));
    for needle in [
        format!(
            "SOPS_AGE_KEY_FILE={}: UNUSABLE: cannot read the file",
            missing.display()
        ),
        // Run when the file needed an age key, for its recipient (SOPS_AGE_RECIPIENT).
        format!(
            "SOPS_AGE_KEY_CMD=\"false\": UNUSABLE: run for {}: the command failed",
            common::VECTOR_RECIPIENT
        ),
        format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={}: UNUSABLE", missing.display()),
        "ksec: hint: fix the identity sources marked UNUSABLE above".to_string(),
    ] {
        assert!(out.stderr.contains(&needle), "missing {needle:?} in:\n{}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// --decryption-order
// ---------------------------------------------------------------------------------------------

/// An executable script that logs its arguments to `log` and then runs `then`.
fn logging_gpg(lab: &Lab, name: &str, log: &Path, then: &str) -> PathBuf {
    let script = lab.tmp.path().join(name);
    fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> '{}'\n{then}\n", log.display()),
    )
    .expect("script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

fn gpg_calls(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .map(|t| t.lines().map(String::from).collect())
        .unwrap_or_default()
}

#[test]
fn gpg_is_found_and_run_as_sops_runs_it() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);

    // A `keyring` line in gpg.conf adds a keyring; the default one still counts, in both tools.
    let home = lab.gnupg_home("conf-keyring");
    let public = lab.write("fp1.pub.asc", lab.export("--export", FP1));
    run(lab.gpg_in(&home).args(["--batch", "--quiet", "--import"]).arg(&public)).expect(0, "import");
    let extra = home.join("extra.kbx");
    run(lab
        .gpg_in(&home)
        .args(["--batch", "--no-default-keyring", "--keyring"])
        .arg(&extra)
        .arg("--list-keys"))
    .expect(0, "create an extra keyring");
    fs::write(home.join("gpg.conf"), format!("keyring {}\n", extra.display())).expect("gpg.conf");
    for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
        let out = run(cmd.env("GNUPGHOME", &home).args(["encrypt", "--pgp", FP1, "db.yaml"]));
        out.expect(0, &format!("{tool} encrypt with a keyring line in gpg.conf"));
        lab.write(&format!("{tool}.enc.yaml"), &out.stdout);
        lab.both_decrypt_to(&format!("{tool}.enc.yaml"), ONLY_PGP, PLAIN);
    }

    // SOPS_GPG_EXEC relative to the working directory, or a bare name on PATH, is what runs.
    let log = lab.tmp.path().join("gpg-exec.log");
    logging_gpg(
        &lab,
        "logging-gpg",
        &log,
        &format!("exec '{}' \"$@\"", lab.gpg.display()),
    );
    let path = format!(
        "{}:{}",
        lab.tmp.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for exec in ["../logging-gpg", "logging-gpg"] {
        let _ = fs::remove_file(&log);
        let out = run(lab.with(
            lab.ksec()
                .env("PATH", &path)
                .env("SOPS_GPG_EXEC", exec)
                .args(["decrypt", "ksec.enc.yaml"]),
            ONLY_PGP,
        ));
        out.expect(0, &format!("SOPS_GPG_EXEC={exec}"));
        assert_eq!(out.stdout_text(), PLAIN);
        assert!(!gpg_calls(&log).is_empty(), "SOPS_GPG_EXEC={exec} was not run");
    }
    let out = run(lab.with(
        lab.ksec()
            .env("SOPS_GPG_EXEC", "ksec-no-such-gpg")
            .args(["decrypt", "ksec.enc.yaml"]),
        ONLY_PGP,
    ));
    out.expect(NO_KEY, "a SOPS_GPG_EXEC that does not exist is not replaced by gpg");
    assert!(
        out.stderr.contains("gpg: UNUSABLE: SOPS_GPG_EXEC=ksec-no-such-gpg"),
        "{}",
        out.stderr
    );
}

#[test]
fn decryption_order_pgp_asks_gpg_before_age() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.with(
        lab.ksec().args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    ));
    enc.expect(0, "ksec encrypt --age --pgp");
    lab.write("db.enc.yaml", &enc.stdout);
    let both = Ids {
        age1: true,
        pgp: true,
        ..NOBODY
    };
    let log = lab.tmp.path().join("gpg.log");
    let gpg = logging_gpg(
        &lab,
        "gpg-logging",
        &log,
        &format!("exec '{}' \"$@\"", lab.gpg.display()),
    );

    // Default order (age first): gpg is never asked, in either tool.
    for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
        let out = run(lab.with(cmd.args(["decrypt", "db.enc.yaml"]).env("SOPS_GPG_EXEC", &gpg), both));
        out.expect(0, &format!("{tool} default order"));
        assert_eq!(out.stdout_text(), PLAIN);
        assert!(
            gpg_calls(&log).is_empty(),
            "{tool} asked gpg first: {:?}",
            gpg_calls(&log)
        );
    }

    // pgp first, by flag and by variable, in ksec; by variable in sops.
    let runs: Vec<(&str, Command)> = vec![
        ("ksec --decryption-order pgp", {
            let mut c = lab.ksec();
            c.args(["decrypt", "--decryption-order", "pgp", "db.enc.yaml"]);
            c
        }),
        ("ksec SOPS_DECRYPTION_ORDER=pgp", {
            let mut c = lab.ksec();
            c.args(["decrypt", "db.enc.yaml"]).env("SOPS_DECRYPTION_ORDER", "pgp");
            c
        }),
        ("sops SOPS_DECRYPTION_ORDER=pgp", {
            let mut c = lab.sops();
            c.args(["decrypt", "db.enc.yaml"]).env("SOPS_DECRYPTION_ORDER", "pgp");
            c
        }),
    ];
    for (what, mut cmd) in runs {
        let _ = fs::remove_file(&log);
        let out = run(lab.with(cmd.env("SOPS_GPG_EXEC", &gpg), both));
        out.expect(0, what);
        assert_eq!(out.stdout_text(), PLAIN, "{what}");
        let calls = gpg_calls(&log);
        assert!(
            calls.len() == 1 && calls[0].contains("-d"),
            "{what}: gpg must be asked once, to decrypt: {calls:?}"
        );
    }

    // With gpg broken, pgp first still ends in age: ksec tried gpg, then fell back.
    let _ = fs::remove_file(&log);
    let broken = logging_gpg(
        &lab,
        "gpg-broken",
        &log,
        "echo 'gpg: fatal: broken on purpose' >&2\nexit 2",
    );
    let out = run(lab.with(
        lab.ksec()
            .args(["decrypt", "--decryption-order", "pgp,age", "db.enc.yaml"])
            .env("SOPS_GPG_EXEC", &broken),
        both,
    ));
    out.expect(0, "pgp first with a broken gpg");
    assert_eq!(out.stdout_text(), PLAIN);
    assert_eq!(gpg_calls(&log).len(), 1, "the broken gpg was asked first");
}

#[test]
fn a_key_type_named_twice_in_the_decryption_order_exits_112() {
    let Some(lab) = Lab::new() else { return };
    let file = vector_str("generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml");
    let runs: Vec<(&str, Command, &str)> = vec![
        (
            "ksec --decryption-order age,pgp,age",
            {
                let mut c = lab.ksec();
                c.args(["decrypt", "--decryption-order", "age,pgp,age", &file]);
                c
            },
            "age",
        ),
        (
            "ksec SOPS_DECRYPTION_ORDER=pgp,pgp",
            {
                let mut c = lab.ksec();
                c.args(["decrypt", &file]).env("SOPS_DECRYPTION_ORDER", "pgp,pgp");
                c
            },
            "pgp",
        ),
        (
            "sops --decryption-order age,pgp,age",
            {
                let mut c = lab.sops();
                c.args(["decrypt", "--decryption-order", "age,pgp,age", &file]);
                c
            },
            "age",
        ),
        (
            "sops SOPS_DECRYPTION_ORDER=pgp,pgp",
            {
                let mut c = lab.sops();
                c.args(["decrypt", &file]).env("SOPS_DECRYPTION_ORDER", "pgp,pgp");
                c
            },
            "pgp",
        ),
    ];
    for (what, mut cmd, key_type) in runs {
        let out = run(lab.with(&mut cmd, ONLY_AGE1));
        out.expect(112, what);
        assert!(out.stdout.is_empty(), "{what} printed a plaintext");
        assert!(out.stderr.contains(key_type), "{what}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

#[test]
fn rotate_swaps_age_recipients_and_reencrypts_every_value() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", LAYOUT);
    let enc = run(lab.with(
        lab.ksec().args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    ));
    enc.expect(0, "ksec encrypt");
    let file = lab.write("db.enc.yaml", &enc.stdout);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = lab.read_string("db.enc.yaml");
    let sops_before = lab.sops_decrypt("db.enc.yaml", ONLY_AGE1);
    sops_before.expect(0, "sops decrypt before the rotation");

    // Without -i the result goes to stdout and the file stays.
    let printed = run(lab.with(lab.ksec().args(["rotate", "db.enc.yaml"]), ONLY_PGP.with_age1()));
    printed.expect(0, "ksec rotate to stdout");
    assert!(printed.stdout_text().contains("sops:"), "{}", printed.stdout_text());
    assert_eq!(
        lab.read_string("db.enc.yaml"),
        before,
        "rotate without -i wrote the file"
    );

    // Adding recipients the file already has wraps the key for each of them once.
    let again = run(lab.with(
        lab.ksec()
            .args(["rotate", "--add-age", AGE1, "--add-pgp", FP1, "db.enc.yaml"]),
        ONLY_PGP.with_age1(),
    ));
    again.expect(0, "ksec rotate adding present recipients");
    let text = again.stdout_text();
    assert_eq!(text.matches(AGE1).count(), 1, "{text}");
    assert_eq!(text.matches(&format!("fp: {FP1}")).count(), 1, "{text}");

    let ids = Ids {
        age1: true,
        pgp: true,
        ..NOBODY
    };
    let out = run(lab.with(
        lab.ksec()
            .args(["rotate", "-i", "--rm-age", AGE1, "--add-age", AGE2, "db.enc.yaml"]),
        ids,
    ));
    out.expect(0, "ksec rotate -i --rm-age --add-age");
    assert!(out.stdout.is_empty(), "rotate -i printed something");
    assert_eq!(mode(&file), 0o640, "rotate -i keeps the file's permissions");
    let after = lab.read_string("db.enc.yaml");
    assert!(after.contains(AGE2) && !after.contains(AGE1), "{after}");
    assert!(after.contains(&format!("fp: {FP1}")), "{after}");

    let old = ciphertexts(&before);
    let new = ciphertexts(&after);
    assert_eq!(old.len(), new.len(), "same number of encrypted values and comments");
    assert!(old.is_disjoint(&new), "every ciphertext (and the MAC) changed");

    // Exactly the new set: age 2 and PGP key 1 can, age 1 no longer can. Values are unchanged:
    // ksec gives back the input, sops prints what it printed before the rotation.
    for ids in [ONLY_AGE2, ONLY_PGP] {
        let by_ksec = lab.ksec_decrypt("db.enc.yaml", ids);
        by_ksec.expect(0, &format!("ksec with {ids:?}"));
        assert_eq!(by_ksec.stdout_text(), LAYOUT, "values (and layout) unchanged");
        let by_sops = lab.sops_decrypt("db.enc.yaml", ids);
        by_sops.expect(0, &format!("sops with {ids:?}"));
        assert_eq!(by_sops.stdout, sops_before.stdout, "values unchanged for sops");
    }
    lab.both_refuse("db.enc.yaml", ONLY_AGE1);
}

#[test]
fn rotate_removes_a_pgp_key_and_adds_a_key_file() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    lab.write("pub2.asc", lab.export("--export", FP2));
    let enc = run(lab.with(
        lab.ksec().args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    ));
    enc.expect(0, "ksec encrypt");
    lab.write("db.enc.yaml", &enc.stdout);

    let out = run(lab.with(
        lab.ksec()
            .args([
                "rotate",
                "-i",
                "--rm-pgp",
                FP1,
                "--add-pgp",
                "./pub2.asc",
                "db.enc.yaml",
            ])
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg"),
        ONLY_AGE1,
    ));
    out.expect(0, "ksec rotate --rm-pgp FP1 --add-pgp pub2.asc (no gpg needed)");
    let after = lab.read_string("db.enc.yaml");
    assert!(!after.contains(FP1) && after.contains(&format!("fp: {FP2}")), "{after}");

    // Key 1 alone (a keyring without key 2) can no longer decrypt; key 2 and age 1 can.
    let only_key1 = lab.gnupg_home("key1");
    lab.write("key1.sec.asc", lab.export("--export-secret-keys", FP1));
    run(lab
        .gpg_in(&only_key1)
        .args(["--batch", "--quiet", "--import"])
        .arg(lab.path("key1.sec.asc")))
    .expect(0, "import key 1 alone");
    for (tool, mut cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
        let out = run(cmd.args(["decrypt", "db.enc.yaml"]).env("GNUPGHOME", &only_key1));
        out.expect(NO_KEY, &format!("{tool} with the removed PGP key"));
    }
    lab.both_decrypt_to("db.enc.yaml", ONLY_PGP, PLAIN);
    lab.both_decrypt_to("db.enc.yaml", ONLY_AGE1, PLAIN);

    // The key added from a file is removed by the same file; a key the file does not have is
    // named in a warning.
    let out = run(lab.with(
        lab.ksec()
            .args([
                "rotate",
                "-i",
                "--rm-pgp",
                "./pub2.asc",
                "--rm-age",
                AGE2,
                "db.enc.yaml",
            ])
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg"),
        ONLY_AGE1,
    ));
    out.expect(0, "ksec rotate --rm-pgp pub2.asc");
    let after = lab.read_string("db.enc.yaml");
    assert!(!after.contains(FP2) && after.contains(AGE1), "{after}");
    assert!(
        out.stderr.contains(&format!("{AGE2} is not a recipient of the file")),
        "{}",
        out.stderr
    );
    lab.both_refuse("db.enc.yaml", ONLY_PGP);
}

#[test]
fn rotate_of_a_sops_shamir_file_keeps_any_two_of_three() {
    let Some(lab) = Lab::new() else { return };
    lab.copy_vector("generated-by-sops-3.11.0/shamir-2of3.enc.yaml", "s.enc.yaml");
    let before = lab.read_string("s.enc.yaml");
    let plain = lab.sops_decrypt("s.enc.yaml", ONLY_PGP.with_age1());
    plain.expect(0, "sops decrypt before");
    let all = Ids {
        age1: true,
        age2: true,
        pgp: true,
    };
    run(lab.with(lab.ksec().args(["rotate", "-i", "s.enc.yaml"]), all)).expect(0, "ksec rotate -i");
    let after = lab.read_string("s.enc.yaml");
    assert!(
        ciphertexts(&before).is_disjoint(&ciphertexts(&after)),
        "every ciphertext changed"
    );
    assert!(after.contains("shamir_threshold: 2"), "{after}");
    assert_eq!(key_group_count(&after), 3, "{after}");
    check_any_two_of_three(&lab, "s.enc.yaml", Some(&plain.stdout_text()));
}

#[test]
fn rotate_refuses_to_empty_a_key_group_as_sops_does() {
    let Some(lab) = Lab::new() else { return };
    lab.copy_vector("generated-by-sops-3.11.0/shamir-2of3.enc.yaml", "s.enc.yaml");
    let before = lab.read_string("s.enc.yaml");
    let all = Ids {
        age1: true,
        age2: true,
        pgp: true,
    };
    // Emptying two of the three groups would leave one group that age key 1 alone opens;
    // emptying one would leave a 2-of-2 split, still not what the file said.
    for removal in [vec!["--rm-pgp", FP1, "--rm-age", AGE2], vec!["--rm-pgp", FP1]] {
        let ksec = run(lab.with(lab.ksec().args(["rotate", "-i"]).args(&removal).arg("s.enc.yaml"), all));
        ksec.expect(1, &format!("ksec rotate {removal:?}"));
        assert!(
            ksec.stderr.contains("s.enc.yaml: the removal would leave key group")
                && ksec.stderr.contains("ksec groups delete -i -f s.enc.yaml 1"),
            "{}",
            ksec.stderr
        );
        assert_eq!(lab.read_string("s.enc.yaml"), before, "a refused rotate wrote the file");

        let sops = run(lab.with(lab.sops().args(["rotate", "-i"]).args(&removal).arg("s.enc.yaml"), all));
        sops.expect(1, &format!("sops rotate {removal:?}"));
        assert!(sops.stderr.contains("empty key group provided"), "{}", sops.stderr);
        assert_eq!(lab.read_string("s.enc.yaml"), before, "sops wrote the file");
    }
    let out = run(lab.with(
        lab.ksec()
            .args(["rotate", "-i", "--rm-pgp", FP1, "--rm-age", AGE2, "s.enc.yaml"]),
        all,
    ));
    assert!(
        out.stderr.contains("key groups 1 and 2 with no key"),
        "every emptied group is named:\n{}",
        out.stderr
    );
    // Refused before any key is asked for.
    let out = run(lab.ksec().args(["rotate", "-i", "--rm-pgp", FP1, "s.enc.yaml"]));
    out.expect(1, "ksec rotate without identities");
    assert!(out.stderr.contains("leave key group 1 with no key"), "{}", out.stderr);
    check_any_two_of_three(&lab, "s.enc.yaml", None);
}

// ---------------------------------------------------------------------------------------------
// updatekeys
// ---------------------------------------------------------------------------------------------

/// A `.sops.yaml` whose rule for `*.yaml`/`*.json` names age 2 and PGP key 1.
fn new_recipients_config() -> String {
    format!("creation_rules:\n  - path_regex: \\.(yaml|json)$\n    age: {AGE2}\n    pgp: {FP1}\n")
}

#[test]
fn updatekeys_dry_run_and_no_terminal_write_nothing() {
    let Some(lab) = Lab::new() else { return };
    lab.write("secrets/app.yaml", LAYOUT);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "secrets/app.yaml"]));
    enc.expect(0, "ksec encrypt");
    lab.write("secrets/app.enc.yaml", &enc.stdout);
    lab.write(".sops.yaml", new_recipients_config());
    let before = lab.read("secrets/app.enc.yaml");
    let ids = ONLY_PGP.with_age1();

    let dry = run(lab.with(
        lab.ksec().args(["updatekeys", "--dry-run", "secrets/app.enc.yaml"]),
        ids,
    ));
    dry.expect(0, "updatekeys --dry-run");
    for needle in [
        "group 0\n",
        &format!("+ age {AGE2}"),
        &format!("- age {AGE1}"),
        &format!("+ pgp {FP1}"),
    ] {
        assert!(dry.stderr.contains(needle), "missing {needle:?} in:\n{}", dry.stderr);
    }
    assert!(dry.stdout.is_empty(), "{}", dry.stdout_text());
    assert_eq!(lab.read("secrets/app.enc.yaml"), before, "--dry-run wrote the file");

    let refused = run(lab.with(lab.ksec().args(["updatekeys", "secrets/app.enc.yaml"]), ids));
    refused.expect(1, "no terminal and no --yes");
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        refused.stderr.matches("ksec: error:").count(),
        1,
        "one file, one error:\n{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&format!("+ age {AGE2}")), "{}", refused.stderr);
    assert_eq!(lab.read("secrets/app.enc.yaml"), before, "wrote without confirmation");
    // Still exactly the old recipient.
    let out = lab.ksec_decrypt("secrets/app.enc.yaml", ONLY_AGE1);
    out.expect(0, "ksec with the old recipient");
    assert_eq!(out.stdout_text(), LAYOUT);
    lab.sops_decrypt("secrets/app.enc.yaml", ONLY_AGE1)
        .expect(0, "sops with the old recipient");
    lab.both_refuse("secrets/app.enc.yaml", ONLY_AGE2);
}

#[test]
fn updatekeys_yes_rewrites_only_the_sops_block() {
    let Some(lab) = Lab::new() else { return };
    lab.write("app.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "app.yaml"]));
    enc.expect(0, "ksec encrypt");
    lab.write("app.enc.yaml", &enc.stdout);
    lab.copy_vector(
        "generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml",
        "multi.enc.yaml",
    );
    lab.write(".sops.yaml", new_recipients_config());
    let sops_plain = lab.sops_decrypt("multi.enc.yaml", ONLY_AGE1);
    sops_plain.expect(0, "sops decrypt the vector");

    for (name, plain) in [
        ("app.enc.yaml", PLAIN.to_string()),
        ("multi.enc.yaml", sops_plain.stdout_text()),
    ] {
        let before = lab.read_string(name);
        let out = run(lab.with(lab.ksec().args(["updatekeys", "--yes", name]), ONLY_PGP.with_age1()));
        out.expect(0, &format!("updatekeys --yes {name}"));
        assert!(out.stderr.contains(&format!("{name}: updated")), "{}", out.stderr);
        let after = lab.read_string(name);
        assert_ne!(after, before, "{name} did not change");
        assert_eq!(
            outside_sops_block(&after),
            outside_sops_block(&before),
            "{name}: a line outside the sops block changed"
        );
        assert_eq!(
            stamp_lines(&after),
            stamp_lines(&before),
            "{name}: lastmodified and mac stay"
        );
        assert_eq!(ciphertexts(&after), ciphertexts(&before), "{name}: values untouched");
        assert!(!after.contains(AGE1) && after.contains(AGE2), "{after}");

        lab.both_decrypt_to(name, ONLY_AGE2, &plain);
        lab.both_decrypt_to(name, ONLY_PGP, &plain);
        lab.both_refuse(name, ONLY_AGE1);

        let again = run(lab.with(lab.ksec().args(["updatekeys", "--yes", name]), ONLY_AGE2));
        again.expect(0, "updatekeys on an up-to-date file");
        assert!(again.stderr.contains("already up to date"), "{}", again.stderr);
        assert_eq!(lab.read_string(name), after, "an up-to-date file was rewritten");
    }
}

#[test]
fn updatekeys_walks_a_directory_and_skips_plaintext_files() {
    let Some(lab) = Lab::new() else { return };
    lab.write("k8s/app.yaml", PLAIN);
    lab.write("k8s/nested/db.json", "{\n\t\"password\": \"hunter2\"\n}\n");
    for (plain, enc) in [
        ("k8s/app.yaml", "k8s/app.enc.yaml"),
        ("k8s/nested/db.json", "k8s/nested/db.enc.json"),
    ] {
        let out = run(lab.ksec().args(["encrypt", "--age", AGE1, plain]));
        out.expect(0, &format!("ksec encrypt {plain}"));
        lab.write(enc, &out.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );
    let plain_yaml = lab.read("k8s/app.yaml");
    let plain_json = lab.read("k8s/nested/db.json");

    // sops cannot do this (getsops/sops#1071).
    let sops = run(lab.with(lab.sops().args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1));
    assert_ne!(sops.code, 0, "sops learnt to walk directories: {}", sops.stderr);

    let encrypted_before = [lab.read("k8s/app.enc.yaml"), lab.read("k8s/nested/db.enc.json")];
    let dry = run(lab.with(lab.ksec().args(["updatekeys", "--dry-run", "k8s"]), ONLY_AGE1));
    dry.expect(0, "updatekeys --dry-run k8s");
    for name in ["k8s/app.enc.yaml: key changes", "k8s/nested/db.enc.json: key changes"] {
        assert!(dry.stderr.contains(name), "missing {name:?} in:\n{}", dry.stderr);
    }
    assert_eq!(
        [lab.read("k8s/app.enc.yaml"), lab.read("k8s/nested/db.enc.json")],
        encrypted_before,
        "--dry-run wrote a file"
    );

    let out = run(lab.with(lab.ksec().args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1));
    out.expect(0, "updatekeys --yes k8s");
    for updated in ["k8s/app.enc.yaml: updated", "k8s/nested/db.enc.json: updated"] {
        assert!(out.stderr.contains(updated), "missing {updated:?} in:\n{}", out.stderr);
    }
    assert!(
        !out.stderr.contains("k8s/app.yaml") && !out.stderr.contains("db.json:"),
        "plaintext files are skipped quietly:\n{}",
        out.stderr
    );
    assert_eq!(lab.read("k8s/app.yaml"), plain_yaml, "a plaintext file was touched");
    assert_eq!(
        lab.read("k8s/nested/db.json"),
        plain_json,
        "a plaintext file was touched"
    );

    lab.both_decrypt_to("k8s/app.enc.yaml", ONLY_AGE2, PLAIN);
    lab.both_refuse("k8s/app.enc.yaml", ONLY_AGE1);
    let json = lab.both_agree("k8s/nested/db.enc.json", ONLY_AGE2);
    json.expect(0, "the nested JSON file with the new key");
    assert!(
        json.stdout_text().contains("\"password\": \"hunter2\""),
        "{}",
        json.stdout_text()
    );
    lab.both_refuse("k8s/nested/db.enc.json", ONLY_AGE1);
}

#[test]
fn updatekeys_goes_on_past_a_file_it_cannot_write_or_get_an_answer_for() {
    let Some(lab) = Lab::new() else { return };
    // The temporary file written beside this one would need a name longer than the file
    // system allows: a write error that root cannot get around either.
    let unwritable = format!("k8s/{}.enc.yaml", "a".repeat(236));
    let files = [unwritable.as_str(), "k8s/b.enc.yaml", "k8s/c.enc.yaml"];
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "db.yaml"]));
    enc.expect(0, "ksec encrypt");
    for file in files {
        lab.write(file, &enc.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );

    // Two answers for three files: the first file fails to write, the second is updated, the
    // third gets no answer.
    let mut cmd = lab.ksec();
    lab.with(cmd.args(["updatekeys", "k8s"]), ONLY_AGE1);
    let out = run_with_stdin(&mut cmd, b"y\ny\n");
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    for needle in [
        &format!("ksec: error: cannot write {unwritable}"),
        "k8s/b.enc.yaml: updated",
        "ksec: error: k8s/c.enc.yaml: no answer (stdin ended)",
        "2 of 3 files could not be updated",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert_eq!(stderr.matches("cannot write").count(), 1, "reported once:\n{stderr}");

    lab.both_decrypt_to("k8s/b.enc.yaml", ONLY_AGE2, PLAIN);
    lab.both_refuse("k8s/b.enc.yaml", ONLY_AGE1);
    for file in [unwritable.as_str(), "k8s/c.enc.yaml"] {
        assert_eq!(lab.read(file), enc.stdout, "{file} changed");
    }
}

#[test]
fn updatekeys_does_not_follow_a_symlink_loop() {
    let Some(lab) = Lab::new() else { return };
    lab.write("k8s/app.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "k8s/app.yaml"]));
    enc.expect(0, "ksec encrypt");
    lab.write("k8s/app.enc.yaml", &enc.stdout);
    std::os::unix::fs::symlink("..", lab.path("k8s/up")).expect("symlink");
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: k8s/\n    age: {AGE2}\n"),
    );
    let out = run(lab.with(lab.ksec().args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1));
    out.expect(0, "updatekeys --yes k8s with k8s/up -> ..");
    assert_eq!(out.stderr.matches(": updated").count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("k8s/app.enc.yaml: updated"), "{}", out.stderr);
    lab.both_decrypt_to("k8s/app.enc.yaml", ONLY_AGE2, PLAIN);
}

#[test]
fn a_key_file_in_sops_yaml_is_refused_by_both_tools() {
    let Some(lab) = Lab::new() else { return };
    lab.write("pub2.asc", lab.export("--export", FP2));
    lab.write("db.yaml", PLAIN);
    for config in [
        "creation_rules:\n  - pgp: ./pub2.asc\n".to_string(),
        format!("creation_rules:\n  - key_groups:\n      - age: [{AGE1}]\n      - pgp: [./pub2.asc]\n"),
    ] {
        lab.write(".sops.yaml", &config);
        let ksec = run(lab.with(lab.ksec().args(["encrypt", "db.yaml"]), ONLY_PGP));
        ksec.expect(1, &format!("ksec encrypt with {config:?}"));
        assert!(
            ksec.stderr
                .contains("pgp key \"./pub2.asc\" is not an OpenPGP fingerprint")
                && ksec.stderr.contains("--pgp"),
            "{}",
            ksec.stderr
        );
        assert!(ksec.stdout.is_empty());
        let sops = run(lab.with(lab.sops().args(["encrypt", "db.yaml"]), ONLY_PGP));
        sops.expect(1, &format!("sops encrypt with {config:?}"));
        assert!(sops.stderr.contains("./pub2.asc"), "{}", sops.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// groups add | delete
// ---------------------------------------------------------------------------------------------

#[test]
fn groups_add_and_delete_change_who_can_decrypt_in_both_tools() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "db.yaml"]));
    enc.expect(0, "ksec encrypt");
    lab.write("db.enc.yaml", &enc.stdout);
    let original = lab.read_string("db.enc.yaml");

    // Without -i the result is printed and the file stays.
    let printed = run(lab.with(
        lab.ksec()
            .args(["groups", "add", "-f", "db.enc.yaml", "--pgp", FP1])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_PGP.with_age1(),
    ));
    printed.expect(0, "groups add to stdout");
    assert!(
        printed.stdout_text().contains("key_groups:"),
        "{}",
        printed.stdout_text()
    );
    assert_eq!(lab.read_string("db.enc.yaml"), original);

    let out = run(lab.with(
        lab.ksec()
            .args(["groups", "add", "-i", "-f", "db.enc.yaml", "--pgp", FP1])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_PGP.with_age1(),
    ));
    out.expect(0, "groups add -i");
    let two = lab.read_string("db.enc.yaml");
    assert_eq!(key_group_count(&two), 2, "{two}");
    assert!(two.contains("shamir_threshold: 2"), "{two}");
    assert_eq!(stamp_lines(&two), stamp_lines(&original), "lastmodified and mac stay");
    assert_eq!(ciphertexts(&two), ciphertexts(&original), "values untouched");
    lab.both_decrypt_to("db.enc.yaml", ONLY_PGP.with_age1(), PLAIN);
    lab.both_refuse("db.enc.yaml", ONLY_AGE1);
    lab.both_refuse("db.enc.yaml", ONLY_PGP);

    // Down to one group the threshold of 2 cannot hold: both tools refuse until it is lowered.
    for (tool, args) in [
        (lab.ksec(), ["groups", "delete", "-i", "-f", "db.enc.yaml", "0"]),
        (
            lab.sops(),
            ["groups", "delete", "--in-place", "--file", "db.enc.yaml", "0"],
        ),
    ] {
        let mut tool = tool;
        let out = run(lab.with(tool.args(args), ONLY_PGP.with_age1()));
        assert_ne!(out.code, 0, "deleting below the threshold: {}", out.stderr);
        assert_eq!(lab.read_string("db.enc.yaml"), two, "a refused delete wrote the file");
    }
    let out = run(lab.with(
        lab.ksec().args(["groups", "delete", "-i", "-f", "db.enc.yaml", "0"]),
        ONLY_PGP.with_age1(),
    ));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("db.enc.yaml: a Shamir threshold of 2 cannot be met by 1 key groups")
            && out.stderr.contains("--shamir-secret-sharing-threshold"),
        "{}",
        out.stderr
    );

    let out = run(lab.with(
        lab.ksec()
            .args(["groups", "delete", "-i", "-f", "db.enc.yaml", "0"])
            .args(["--shamir-secret-sharing-threshold", "1"]),
        ONLY_PGP.with_age1(),
    ));
    out.expect(0, "groups delete -i 0 with the threshold lowered");
    let one = lab.read_string("db.enc.yaml");
    assert_eq!(key_group_count(&one), 1, "{one}");
    assert!(!one.contains(AGE1) && one.contains(&format!("fp: {FP1}")), "{one}");
    assert!(!one.contains("shamir_threshold"), "{one}");
    lab.both_decrypt_to("db.enc.yaml", ONLY_PGP, PLAIN);
    lab.both_refuse("db.enc.yaml", ONLY_AGE1);

    let out = run(lab.with(
        lab.ksec().args(["groups", "delete", "-i", "-f", "db.enc.yaml", "5"]),
        ONLY_PGP,
    ));
    assert_ne!(out.code, 0, "deleting a group that does not exist");
    assert!(out.stderr.contains("no group 5"), "{}", out.stderr);
    assert_eq!(lab.read_string("db.enc.yaml"), one, "a failed delete wrote the file");
}

#[test]
fn sops_groups_add_on_a_ksec_file_and_ksec_groups_add_on_a_sops_file() {
    let Some(lab) = Lab::new() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = run(lab.ksec().args(["encrypt", "--age", AGE1, "db.yaml"]));
    enc.expect(0, "ksec encrypt");
    lab.write("k.enc.yaml", &enc.stdout);
    let by_sops = run(lab.sops().args(["encrypt", "--age", AGE1, "db.yaml"]));
    by_sops.expect(0, "sops encrypt");
    lab.write("s.enc.yaml", &by_sops.stdout);

    let sops = run(lab.with(
        lab.sops()
            .args(["groups", "add", "--file", "k.enc.yaml", "--in-place", "--age", AGE2])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_AGE1,
    ));
    sops.expect(0, "sops groups add on ksec's file");
    let ksec = run(lab.with(
        lab.ksec()
            .args(["groups", "add", "-i", "-f", "s.enc.yaml", "--age", AGE2])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_AGE1,
    ));
    ksec.expect(0, "ksec groups add on sops's file");
    let both_age = ONLY_AGE1.with_age2();
    for file in ["k.enc.yaml", "s.enc.yaml"] {
        let out = lab.both_agree(file, both_age);
        out.expect(0, &format!("{file} with both groups"));
        lab.both_refuse(file, ONLY_AGE1);
        lab.both_refuse(file, ONLY_AGE2);
    }
    let out = lab.ksec_decrypt("k.enc.yaml", both_age);
    assert_eq!(out.stdout_text(), PLAIN);
}

#[test]
fn updatekeys_covers_every_format_and_goes_on_past_a_file_it_cannot_open() {
    let Some(lab) = Lab::new() else { return };
    lab.write("k8s/app.env", "PASSWORD=hunter2\n");
    lab.write("k8s/blob.bin", b"\x00\x01 binary \xff\n");
    lab.write("k8s/notes.txt", "plaintext notes stay untouched\n");
    lab.write("k8s/app.yaml", PLAIN);
    for (tool, plain, enc, recipient) in [
        ("ksec", "k8s/app.env", "k8s/app.enc.env", AGE1),
        ("sops", "k8s/blob.bin", "k8s/blob.enc.bin", AGE1),
        // Nobody in this test holds the sample key: this file cannot be opened.
        ("ksec", "k8s/app.yaml", "k8s/other.enc.yaml", common::SAMPLE_RECIPIENT),
    ] {
        let mut cmd = if tool == "ksec" { lab.ksec() } else { lab.sops() };
        let out = run(cmd.args(["encrypt", "--age", recipient, plain]));
        out.expect(0, &format!("{tool} encrypt {plain}"));
        lab.write(enc, &out.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );
    let untouched = lab.read("k8s/other.enc.yaml");

    // The answers come from stdin when it is not a terminal, as sops reads them.
    let mut cmd = lab.ksec();
    lab.with(cmd.args(["updatekeys", "k8s"]), ONLY_AGE1);
    let out = run_with_stdin(&mut cmd, b"y\nyes\n");
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    for needle in [
        "k8s/app.enc.env: updated",
        "k8s/blob.enc.bin: updated",
        "k8s/other.enc.yaml: could not decrypt the data key",
        "1 of 3 files could not be updated",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert!(
        !stderr.contains("notes.txt"),
        "plaintext files are skipped quietly:\n{stderr}"
    );
    assert_eq!(lab.read("k8s/other.enc.yaml"), untouched);

    let dotenv = lab.both_agree("k8s/app.enc.env", ONLY_AGE2);
    dotenv.expect(0, "the dotenv file with the new key");
    assert_eq!(dotenv.stdout_text(), "PASSWORD=hunter2\n");
    let blob = lab.both_agree("k8s/blob.enc.bin", ONLY_AGE2);
    blob.expect(0, "the binary file with the new key");
    assert_eq!(blob.stdout, lab.read("k8s/blob.bin"));
    for file in ["k8s/app.enc.env", "k8s/blob.enc.bin"] {
        lab.both_refuse(file, ONLY_AGE1);
    }
}

// ---------------------------------------------------------------------------------------------
// age plugins
// ---------------------------------------------------------------------------------------------

/// The recipient and identity of the test plugin `examples/age-plugin-unencrypted.rs` (what it
/// prints when run alone).
const PLUGIN_RECIPIENT: &str = "age1unencrypted1ddek2cce0au87";
const PLUGIN_IDENTITY: &str = "AGE-PLUGIN-UNENCRYPTED-1DDEK2CCNGD32F";

/// `target/<profile>/examples`, where `cargo test` builds the test plugin.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let dir = profile.join("examples");
    assert!(
        dir.join("age-plugin-unencrypted").is_file(),
        "the test plugin is missing from {}: cargo test builds examples",
        dir.display()
    );
    dir
}

/// A command with the test plugin's directory first on PATH.
fn with_plugin(mut cmd: Command) -> Command {
    let path = cmd
        .get_envs()
        .find(|(name, _)| *name == "PATH")
        .and_then(|(_, value)| value.map(|v| v.to_os_string()))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(examples_dir()).chain(std::env::split_paths(&path))).expect("PATH joins");
    cmd.env("PATH", path);
    cmd
}

/// Plugin recipients (`age1<name>1…`) and identities (`AGE-PLUGIN-<NAME>-1…`) go through the age
/// plugin protocol, as in sops: each tool decrypts what the other encrypted to the test plugin.
#[test]
fn age_plugin_recipients_and_identities_work_both_ways_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let input = lab.write("plugin.yaml", PLAIN);
    let by_ksec = run(with_plugin(lab.ksec())
        .args(["encrypt", "--age", PLUGIN_RECIPIENT])
        .arg(&input))
    .expect(0, "ksec encrypts to a plugin recipient")
    .stdout
    .clone();
    let by_sops = run(with_plugin(lab.sops())
        .args(["encrypt", "--age", PLUGIN_RECIPIENT])
        .arg(&input))
    .expect(0, "sops encrypts to a plugin recipient")
    .stdout
    .clone();
    for (writer, bytes) in [("ksec", by_ksec), ("sops", by_sops)] {
        assert!(String::from_utf8_lossy(&bytes).contains(&format!("recipient: {PLUGIN_RECIPIENT}")));
        let file = lab.write(&format!("plugin.{writer}.enc.yaml"), bytes);
        for (reader, cmd) in [("ksec", lab.ksec()), ("sops", lab.sops())] {
            let mut cmd = with_plugin(cmd);
            cmd.env("SOPS_AGE_KEY", PLUGIN_IDENTITY).arg("decrypt").arg(&file);
            let out = run(&mut cmd);
            out.expect(
                0,
                &format!("{reader} decrypts {writer}'s file with the plugin identity"),
            );
            assert_eq!(out.stdout_text(), PLAIN, "{reader} on {writer}'s file");
        }
    }
    // Without the plugin on PATH the identity cannot be used, and ksec says which program is
    // missing; the file still fails as sops fails it (no key).
    let file = lab.path("plugin.ksec.enc.yaml");
    let out = run(lab
        .ksec()
        .env("SOPS_AGE_KEY", PLUGIN_IDENTITY)
        .arg("decrypt")
        .arg(&file));
    out.expect(NO_KEY, "ksec without the plugin program");
    assert!(out.stderr.contains("age-plugin-unencrypted"), "{}", out.stderr);
}
