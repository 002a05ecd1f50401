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
use std::process::Command;

use common::{Dir, Run, TestCommand, VECTOR_RECIPIENT as AGE1, VECTOR_RECIPIENT_2 as AGE2};

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

// A session is a Dir with the real sops and gpg, two GnuPG homes beside its working directory
// (`empty` and `keyring`, holding PGP test keys 1 and 2) and age key files made on demand.

/// A fresh session, or `None` (after a note) when a peer is missing outside CI.
fn lab() -> Option<Dir> {
    let lab = Dir::with_sops()?;
    common::gpg()?;
    empty_gnupg(&lab);
    let keyring = keyring(&lab);
    gpg_in(&lab, &keyring)
        .args(["--batch", "--quiet", "--import"])
        .arg(vector("keys/sops_functional_tests_key.asc"))
        .run();
    let listed = gpg_in(&lab, &keyring)
        .args(["--batch", "--list-secret-keys", "--with-colons"])
        .run();
    assert!(
        listed.stdout_text().contains(FP1) && listed.stdout_text().contains(FP2),
        "the test keys did not import: {}",
        listed.stderr_text()
    );
    Some(lab)
}

/// The peer gpg, which [`lab`] found.
fn peer_gpg() -> PathBuf {
    common::gpg().expect("lab() checks for gpg")
}

/// The keyring holding PGP test keys 1 and 2 (secret and public).
fn keyring(lab: &Dir) -> PathBuf {
    lab.extra_gnupg_home("keyring")
}

/// A GnuPG home nothing was ever imported into.
fn empty_gnupg(lab: &Dir) -> PathBuf {
    lab.extra_gnupg_home("empty")
}

/// Runs gpg in a GnuPG home of this session.
fn gpg_in(lab: &Dir, home: &Path) -> TestCommand {
    let mut cmd = lab.command(peer_gpg());
    cmd.env("GNUPGHOME", home);
    cmd
}

/// An armored export from the keyring (`--export` or `--export-secret-keys`).
fn export(lab: &Dir, what: &str, fp: &str) -> Vec<u8> {
    let out = gpg_in(lab, &keyring(lab))
        .args(["--batch", "--armor", what, fp])
        .run()
        .ok();
    assert!(out.stdout.starts_with(b"-----BEGIN PGP"), "gpg exported nothing");
    out.stdout
}

/// Copies a vector into the working directory.
fn copy_vector(lab: &Dir, rel: &str, name: &str) -> PathBuf {
    lab.write(name, fs::read(vector(rel)).expect("vector"))
}

/// `cmd` with the peer gpg first on PATH and an empty GnuPG home unless the caller sets
/// another.
fn prepare(lab: &Dir, mut cmd: TestCommand) -> TestCommand {
    let gpg_dir = peer_gpg().parent().expect("gpg has a directory").to_path_buf();
    cmd.path_first(gpg_dir).env("GNUPGHOME", empty_gnupg(lab));
    cmd
}

fn ksec(lab: &Dir) -> TestCommand {
    prepare(lab, lab.ksec())
}

fn sops(lab: &Dir) -> TestCommand {
    prepare(lab, lab.sops())
}

/// Gives a command exactly these identities (age through `SOPS_AGE_KEY_FILE`, PGP through
/// GNUPGHOME).
fn with<'c>(lab: &Dir, cmd: &'c mut TestCommand, ids: Ids) -> &'c mut TestCommand {
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
        let file = lab.root().join(name);
        fs::write(&file, keys).expect("age key file");
        cmd.env("SOPS_AGE_KEY_FILE", file);
    }
    if ids.pgp {
        cmd.env("GNUPGHOME", keyring(lab));
    }
    cmd
}

/// `ksec decrypt FILE` with these identities.
fn ksec_decrypt(lab: &Dir, file: &str, ids: Ids) -> Run {
    with(lab, ksec(lab).args(["decrypt", file]), ids).run()
}

/// `sops decrypt FILE` with these identities.
fn sops_decrypt(lab: &Dir, file: &str, ids: Ids) -> Run {
    with(lab, sops(lab).args(["decrypt", file]), ids).run()
}

/// Both tools decrypt `file` with `ids` to `expected`.
fn both_decrypt_to(lab: &Dir, file: &str, ids: Ids, expected: &str) {
    for (tool, out) in [
        ("ksec", ksec_decrypt(lab, file, ids)),
        ("sops", sops_decrypt(lab, file, ids)),
    ] {
        let out = out.ok();
        assert_eq!(out.stdout_text(), expected, "{tool} decrypt {file} with {ids:?}");
    }
}

/// Both tools fail with exit 128 on `file` with `ids`, printing nothing on stdout.
fn both_refuse(lab: &Dir, file: &str, ids: Ids) {
    for (tool, out) in [
        ("ksec", ksec_decrypt(lab, file, ids)),
        ("sops", sops_decrypt(lab, file, ids)),
    ] {
        let out = out.expect_code(NO_KEY);
        assert!(
            out.stdout.is_empty(),
            "{tool} printed something for {file} with {ids:?}"
        );
    }
}

/// Both tools succeed with the same output, or fail with the same exit code.
fn both_agree(lab: &Dir, file: &str, ids: Ids) -> Run {
    let ksec = ksec_decrypt(lab, file, ids);
    let sops = sops_decrypt(lab, file, ids);
    assert_eq!(
        ksec.code,
        sops.code,
        "{file} with {ids:?}: ksec exits {}, sops {}\nksec:\n{}\nsops:\n{}",
        ksec.exit(),
        sops.exit(),
        ksec.stderr_text(),
        sops.stderr_text()
    );
    if sops.code == 0 {
        assert_eq!(ksec.stdout_text(), sops.stdout_text(), "{file} with {ids:?}");
    }
    ksec
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
fn agent_pid(dir: &Dir, gpg: &Path, gnupg_home: &Path) -> Option<u32> {
    let out = dir
        .command(gpg.with_file_name("gpg-connect-agent"))
        .args(["--no-autostart", "GETINFO pid", "/bye"])
        .env("GNUPGHOME", gnupg_home)
        .run();
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
    let dir = Dir::new();
    let home = dir.home();
    // The developer's shell exports GNUPGHOME: it must not reach an isolated command.
    let developer = dir.root().join("developer-gnupg");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&developer)
        .expect("GnuPG home");
    let mut import = Command::new(&gpg);
    import.env("GNUPGHOME", &developer);
    dir.isolate(import)
        .args(["--batch", "--quiet", "--import"])
        .arg(vector("keys/sops_functional_tests_key.asc"))
        .run()
        .ok();

    let isolated = dir.gnupg_home();
    assert!(isolated.starts_with(&home), "{}", isolated.display());
    assert_eq!(mode(&isolated), 0o700);
    let listed = |gnupg_home: &Path| {
        dir.command(&gpg)
            .args(["--batch", "--list-secret-keys", "--with-colons"])
            .env("GNUPGHOME", gnupg_home)
            .run()
            .stdout_text()
    };
    assert!(listed(&isolated).contains(FP1), "the key went elsewhere");
    assert!(
        !listed(&developer).contains(FP1),
        "an isolated command imported into the developer's keyring"
    );

    // Importing a secret key started an agent for the test's home; the harness stops it.
    let pid = agent_pid(&dir, &gpg, &isolated).expect("the import started a gpg-agent");
    common::stop_gpg_agent(&isolated);
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        !proc.exists() || agent_pid(&dir, &gpg, &isolated).is_none()
    });
    assert!(gone, "gpg-agent {pid} still runs after stop_gpg_agent");
    common::stop_gpg_agent(&developer);
}

// ---------------------------------------------------------------------------------------------
// OpenPGP
// ---------------------------------------------------------------------------------------------

#[test]
fn pgp_fingerprint_encrypts_through_gpg_and_both_tools_decrypt() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let out = with(&lab, ksec(&lab).args(["encrypt", "--pgp", FP1, "db.yaml"]), ONLY_PGP)
        .run()
        .ok();
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

    both_decrypt_to(&lab, "db.enc.yaml", ONLY_PGP, PLAIN);
    // The key really came from the keyring: without it, nothing decrypts.
    both_refuse(&lab, "db.enc.yaml", NOBODY);
    let refused = ksec_decrypt(&lab, "db.enc.yaml", NOBODY);
    assert!(
        refused.stderr_text().contains(&format!("pgp {FP1}:")),
        "{}",
        refused.stderr_text()
    );
    assert!(
        refused.stderr_text().contains("No secret key"),
        "gpg's reason is shown:\n{}",
        refused.stderr_text()
    );
}

/// The stored plaintext of a PGP vector, which both tools must print.
fn pgp_expected(rel: &str) -> String {
    let expected = common::pgp_expected_plaintext(rel).unwrap_or_else(|| panic!("{rel}: no stored plaintext"));
    fs::read_to_string(vector(&expected)).expect("expected plaintext")
}

#[test]
fn sops_pgp_vectors_decrypt_with_ksec_exactly_as_with_sops() {
    let Some(lab) = lab() else { return };
    for rel in common::PGP_VECTORS {
        // Only the keyring: the multi-key vector must open through its PGP key alone.
        let out = both_agree(&lab, &vector_str(rel), ONLY_PGP).ok();
        assert_eq!(out.stdout_text(), pgp_expected(rel), "{rel}");
    }

    // sops 3.3 left comments in clear; both tools warn about each and decrypt the rest.
    let old = vector_str("upstream-v3.11.0/functional-tests/res/comments_unencrypted_comments.yaml");
    let out = ksec_decrypt(&lab, &old, ONLY_PGP);
    assert_eq!(
        out.stderr_text().matches("is not encrypted; it was left as is").count(),
        2,
        "{}",
        out.stderr_text()
    );
    let out = sops_decrypt(&lab, &old, ONLY_PGP);
    assert_eq!(
        out.stderr_text().matches("possibly unencrypted comment").count(),
        2,
        "{}",
        out.stderr_text()
    );

    let rel = "upstream-v3.11.0/functional-tests/res/no_mac.yaml";
    let no_mac = vector_str(rel);
    let out = both_agree(&lab, &no_mac, ONLY_PGP).expect_code(51);
    assert!(out.stderr_text().contains("no MAC"), "{}", out.stderr_text());
    let ksec_run = with(&lab, ksec(&lab).args(["decrypt", "--ignore-mac", &no_mac]), ONLY_PGP)
        .run()
        .ok();
    let sops_run = with(&lab, sops(&lab).args(["decrypt", "--ignore-mac", &no_mac]), ONLY_PGP)
        .run()
        .ok();
    assert_eq!(ksec_run.stdout_text(), sops_run.stdout_text());
    assert_eq!(ksec_run.stdout_text(), pgp_expected(rel));
    assert_eq!(ksec_run.stdout_text(), "myapp1: t00m4nys3cr3tzupdated\n");
}

#[test]
fn flux_gocrypto_vector_decrypts_with_either_keyring_setup() {
    let Some(lab) = lab() else { return };
    let file = vector_str("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json");

    // The key imported into gpg: both tools go through the gpg binary.
    let imported = lab.extra_gnupg_home("flux-imported");
    gpg_in(&lab, &imported)
        .args(["--batch", "--quiet", "--import"])
        .arg(vector("keys/pgp-testdata/private.gpg"))
        .run()
        .ok();
    // The legacy keyrings: sops reads them with go-crypto, gpg migrates them.
    let legacy = lab.extra_gnupg_home("flux-legacy");
    for name in ["pubring.gpg", "secring.gpg"] {
        fs::copy(vector(&format!("keys/pgp-testdata/ring/{name}")), legacy.join(name)).expect("copy ring");
    }
    for home in [&imported, &legacy] {
        let ksec_run = ksec(&lab).args(["decrypt", &file]).env("GNUPGHOME", home).run().ok();
        let sops_run = sops(&lab).args(["decrypt", &file]).env("GNUPGHOME", home).run().ok();
        assert_eq!(ksec_run.stdout_text(), sops_run.stdout_text());
        assert_eq!(
            ksec_run.stdout_text(),
            pgp_expected("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json")
        );
        assert!(
            ksec_run.stdout_text().contains("\"flux\": \"secret\""),
            "{}",
            ksec_run.stdout_text()
        );
    }

    // Natively, from the exported key, with no gpg at all.
    let key = gpg_in(&lab, &imported)
        .args(["--batch", "--armor", "--export-secret-keys", FLUX_FP])
        .run()
        .ok();
    lab.write("flux.sec.asc", &key.stdout);
    let native = ksec(&lab)
        .args(["decrypt", &file])
        .env("SOPS_PGP_KEY_FILE", "flux.sec.asc")
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
        .run()
        .ok();
    assert!(native.stdout_text().contains("\"flux\": \"secret\""));
}

#[test]
fn native_pgp_secret_key_decrypts_without_gpg() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = with(&lab, ksec(&lab).args(["encrypt", "--pgp", FP1, "db.yaml"]), ONLY_PGP)
        .run()
        .ok();
    lab.write("db.enc.yaml", &enc.stdout);
    let secret = export(&lab, "--export-secret-keys", FP1);
    lab.write("key1.sec.asc", &secret);
    let empty = empty_gnupg(&lab);

    let no_gpg = |cmd: &mut TestCommand| {
        cmd.env("SOPS_GPG_EXEC", "/nonexistent/gpg").env("GNUPGHOME", &empty);
    };
    let files = [
        "db.enc.yaml".to_string(),
        vector_str("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"),
        vector_str("generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml"),
    ];
    for file in &files {
        let expected = sops_decrypt(&lab, file, ONLY_PGP).ok();
        let expected = if file == "db.enc.yaml" {
            PLAIN.to_string()
        } else {
            expected.stdout_text()
        };

        let mut cmd = ksec(&lab);
        no_gpg(cmd.args(["decrypt", file]).env("SOPS_PGP_KEY_FILE", "key1.sec.asc"));
        let out = cmd.run().ok();
        assert_eq!(out.stdout_text(), expected, "{file} with SOPS_PGP_KEY_FILE");

        let mut cmd = ksec(&lab);
        no_gpg(
            cmd.args(["decrypt", file])
                .env("SOPS_PGP_KEY", String::from_utf8(secret.clone()).expect("armored")),
        );
        let out = cmd.run().ok();
        assert_eq!(out.stdout_text(), expected, "{file} with SOPS_PGP_KEY");
    }
    assert_eq!(
        fs::read_dir(&empty).expect("empty GnuPG home").count(),
        0,
        "the native path must not touch GnuPG"
    );

    // Without the key there is nothing to decrypt with, and the report says why.
    let mut cmd = ksec(&lab);
    no_gpg(cmd.args(["decrypt", "db.enc.yaml"]));
    let out = cmd.run().expect_code(NO_KEY);
    for needle in [
        &format!("pgp {FP1}: no secret key"),
        "SOPS_PGP_KEY_FILE: not set",
        "SOPS_PGP_KEY: not set",
        "gpg: UNUSABLE: SOPS_GPG_EXEC=/nonexistent/gpg: no executable file there",
    ] {
        assert!(
            out.stderr_text().contains(needle),
            "missing {needle:?} in:\n{}",
            out.stderr_text()
        );
    }
}

/// sops 3.5 wrote these messages with golang.org/x/crypto/openpgp: the encrypted-data packet's
/// first partial body chunk is 1 byte, shorter than the 512 RFC 4880 asks for. gpg and go-crypto
/// read them, so the native path (a CI without gpg, an old repository) must too.
#[test]
fn native_pgp_secret_key_decrypts_messages_older_sops_wrote() {
    let Some(lab) = lab() else { return };
    lab.write("keys.sec.asc", export(&lab, "--export-secret-keys", FP1));
    let mut failures = Vec::new();
    for rel in [
        "upstream-v3.11.0/example.yaml",
        "upstream-v3.11.0/example.json",
        "upstream-v3.11.0/examples/all_in_one.secret.enc.json",
        "upstream-v3.11.0/examples/per_file.static_github.json",
    ] {
        let file = vector_str(rel);
        let expected = sops_decrypt(&lab, &file, ONLY_PGP).ok();
        let out = ksec(&lab)
            .args(["decrypt", &file])
            .env("SOPS_PGP_KEY_FILE", "keys.sec.asc")
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
            .run();
        if out.code != 0 || out.stdout != expected.stdout {
            failures.push(format!("{rel}: exit {}\n{}", out.code, out.stderr_text()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn armored_public_key_file_recipient_needs_no_keyring() {
    let Some(lab) = lab() else { return };
    lab.write("pub.asc", export(&lab, "--export", FP1));
    lab.write("db.yaml", PLAIN);
    let empty = empty_gnupg(&lab);
    let out = ksec(&lab)
        .args(["encrypt", "--pgp", "./pub.asc", "db.yaml"])
        .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
        .env("GNUPGHOME", &empty)
        .run()
        .ok();
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
    let opened = gpg_in(&lab, &keyring(&lab))
        .args(["--batch", "--quiet", "--decrypt"])
        .stdin(&message)
        .run();
    assert!(opened.success(), "gpg -d: {}", opened.stderr_text());
    assert_eq!(opened.stdout.len(), 32, "the message holds the 32-byte data key");

    both_decrypt_to(&lab, "db.enc.yaml", ONLY_PGP, PLAIN);
    both_refuse(&lab, "db.enc.yaml", NOBODY);
}

#[test]
fn a_key_file_path_in_a_files_metadata_is_refused_never_read() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    // Someone else's public key lies beside the secrets, and the file names it as its `fp`.
    lab.write("x.asc", export(&lab, "--export", FP2));
    let enc = with(
        &lab,
        ksec(&lab).args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    )
    .run()
    .ok();
    let tampered = enc.stdout_text().replace(&format!("fp: {FP1}"), "fp: ./x.asc");
    assert_ne!(tampered, enc.stdout_text());
    lab.write("db.enc.yaml", &tampered);
    lab.write(".sops.yaml", format!("creation_rules:\n  - age: {AGE1}\n"));

    for args in [
        vec!["rotate", "-i", "db.enc.yaml"],
        vec!["updatekeys", "--yes", "db.enc.yaml"],
        vec!["groups", "add", "-i", "-f", "db.enc.yaml", "--age", AGE2],
    ] {
        let out = with(&lab, ksec(&lab).args(&args), ONLY_AGE1).run().expect_code(1);
        assert!(
            out.stderr_text()
                .contains("db.enc.yaml: invalid sops metadata: pgp fp \"./x.asc\" is not an OpenPGP fingerprint"),
            "{args:?}: {}",
            out.stderr_text()
        );
        assert_eq!(lab.read_string("db.enc.yaml"), tampered, "{args:?} wrote the file");
    }
    // Decrypting never needs the fingerprint.
    let out = ksec_decrypt(&lab, "db.enc.yaml", ONLY_AGE1).ok();
    assert_eq!(out.stdout_text(), PLAIN);
}

#[test]
fn failure_on_a_pgp_only_file_hints_at_pgp_keys() {
    let Some(lab) = lab() else { return };
    let out = ksec_decrypt(
        &lab,
        &vector_str("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"),
        NOBODY,
    )
    .expect_code(NO_KEY);
    let stderr = out.stderr_text();
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("ksec: hint:"))
        .unwrap_or_else(|| panic!("no hint in:\n{stderr}"));
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
    let Some(lab) = lab() else { return };
    let public = fs::read_to_string(vector("keys/age-ssh-test-ed25519.pub")).expect("ssh public key");
    let private = vector_str("keys/age-ssh-test-ed25519");
    lab.write("db.yaml", PLAIN);
    let out = ksec(&lab).args(["encrypt", "--age", &public, "db.yaml"]).run().ok();
    assert!(
        out.stdout_text().contains(&format!("recipient: {}\n", public.trim())),
        "the recipient is stored as written, comment included:\n{}",
        out.stdout_text()
    );
    lab.write("db.enc.yaml", &out.stdout);

    let by_var = ksec(&lab)
        .args(["decrypt", "db.enc.yaml"])
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
        .run()
        .ok();
    assert_eq!(by_var.stdout_text(), PLAIN);
    let sops_run = sops(&lab)
        .args(["decrypt", "db.enc.yaml"])
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
        .run()
        .ok();
    assert_eq!(sops_run.stdout_text(), PLAIN);

    let missing = ksec_decrypt(&lab, "db.enc.yaml", NOBODY).expect_code(NO_KEY);
    let default_key = lab.home().join(".ssh/id_ed25519");
    assert!(
        missing
            .stderr_text()
            .contains(&format!("SSH key {}: not found", default_key.display())),
        "{}",
        missing.stderr_text()
    );

    fs::DirBuilder::new()
        .mode(0o700)
        .create(lab.home().join(".ssh"))
        .expect(".ssh");
    fs::copy(&private, &default_key).expect("copy key");
    fs::set_permissions(&default_key, fs::Permissions::from_mode(0o600)).expect("chmod");
    let by_home = ksec_decrypt(&lab, "db.enc.yaml", NOBODY).ok();
    assert_eq!(by_home.stdout_text(), PLAIN);

    // And the other way: sops encrypts to the SSH key, ksec decrypts.
    let by_sops = sops(&lab)
        .args(["encrypt", "--age", public.trim(), "db.yaml"])
        .run()
        .ok();
    lab.write("db.sops.yaml", &by_sops.stdout);
    let out = ksec_decrypt(&lab, "db.sops.yaml", NOBODY).ok();
    assert_eq!(out.stdout_text(), PLAIN);
}

/// A passphrase-protected `~/.ssh/id_ed25519`: both tools ask for the passphrase on the terminal
/// (`script` gives them one) when the file is encrypted to it, and never otherwise.
#[test]
fn a_passphrase_protected_ssh_key_is_unlocked_at_the_terminal_like_sops() {
    let Some(lab) = lab() else { return };
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
    let enc = ksec(&lab)
        .args(["encrypt", "--age", public.trim(), "db.yaml"])
        .run()
        .ok();
    lab.write("db.enc.yaml", &enc.stdout);

    let at_terminal = |tool: &Path, typed: &[u8]| -> (bool, String) {
        let out = prepare(&lab, lab.command(&script))
            .args(["-qec", &format!("{} decrypt db.enc.yaml", tool.display()), "/dev/null"])
            .stdin(typed)
            .run();
        (out.success(), out.stdout_text())
    };
    let ksec_bin = PathBuf::from(env!("CARGO_BIN_EXE_ksec"));
    let sops_bin = common::sops().expect("lab() checks for sops");
    for tool in [&ksec_bin, &sops_bin] {
        let (ok, shown) = at_terminal(tool, b"correct horse\n");
        assert!(ok, "{} with the passphrase typed:\n{shown}", tool.display());
        assert!(shown.contains("Enter passphrase for"), "{shown}");
        assert!(shown.contains("password: hunter2"), "{shown}");
    }
    let (ok, shown) = at_terminal(&ksec_bin, b"wrong horse\nstill wrong\nnope\n");
    assert!(!ok, "a wrong passphrase decrypted:\n{shown}");
    assert!(shown.contains("3 passphrases did not unlock it"), "{shown}");

    // A file for another key: nothing is asked, and the report says the key was not needed.
    let out = ksec_decrypt(&lab, &vector_str("generated-by-sops-3.11.0/types.enc.yaml"), NOBODY).expect_code(NO_KEY);
    assert!(
        out.stderr_text()
            .contains("id_ed25519: passphrase-protected; asked for on the terminal when a file is encrypted to it"),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn ssh_rsa_recipient_interoperates() {
    let Some(lab) = lab() else { return };
    let Some(ssh_keygen) = common::tool_on_path("ssh-keygen") else {
        return;
    };
    let key = lab.root().join("id_rsa_test");
    lab.command(ssh_keygen)
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "ksec@test", "-f"])
        .arg(&key)
        .run()
        .ok();
    let public = fs::read_to_string(key.with_extension("pub")).expect("public key");
    assert!(public.starts_with("ssh-rsa "), "{public}");
    lab.write("db.yaml", PLAIN);

    let out = ksec(&lab)
        .args(["encrypt", "--age", public.trim(), "db.yaml"])
        .run()
        .ok();
    assert!(
        out.stdout_text().contains("recipient: ssh-rsa "),
        "{}",
        out.stdout_text()
    );
    lab.write("db.enc.yaml", &out.stdout);
    let by_sops = sops(&lab)
        .args(["encrypt", "--age", public.trim(), "db.yaml"])
        .run()
        .ok();
    lab.write("db.sops.yaml", &by_sops.stdout);

    for file in ["db.enc.yaml", "db.sops.yaml"] {
        for (tool, mut cmd) in [("ksec", ksec(&lab)), ("sops", sops(&lab))] {
            let out = cmd
                .args(["decrypt", file])
                .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &key)
                .run()
                .ok();
            assert_eq!(out.stdout_text(), PLAIN, "{tool} decrypt {file}");
        }
        both_refuse(&lab, file, NOBODY);
    }

    // ~/.ssh/id_rsa is found too.
    fs::DirBuilder::new()
        .mode(0o700)
        .create(lab.home().join(".ssh"))
        .expect(".ssh");
    fs::copy(&key, lab.home().join(".ssh/id_rsa")).expect("copy key");
    let out = ksec_decrypt(&lab, "db.enc.yaml", NOBODY).ok();
    assert_eq!(out.stdout_text(), PLAIN);
}

// ---------------------------------------------------------------------------------------------
// Key groups and Shamir
// ---------------------------------------------------------------------------------------------

/// Any two of the three groups (age 1 | PGP key 1 | age 2) decrypt `file` in both tools, to
/// `expected` when given (else to whatever sops prints); any one alone does not.
fn check_any_two_of_three(lab: &Dir, file: &str, expected: Option<&str>) {
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
        let out = both_agree(lab, file, ids).ok();
        if let Some(expected) = expected {
            assert_eq!(out.stdout_text(), expected, "{file} with {ids:?}");
        }
    }
    for ids in [ONLY_AGE1, ONLY_PGP, ONLY_AGE2] {
        both_refuse(lab, file, ids);
    }
}

#[test]
fn shamir_2_of_3_mixing_age_and_pgp_needs_any_two_groups_in_both_tools() {
    let Some(lab) = lab() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = with(&lab, ksec(&lab).args(["encrypt", "db.yaml"]), ONLY_PGP).run().ok();
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
    let Some(lab) = lab() else { return };
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
fn check_three_of_three(lab: &Dir, file: &str) {
    let text = lab.read_string(file);
    assert!(text.contains("shamir_threshold: 3"), "{text}");
    assert_eq!(key_group_count(&text), 3, "{text}");
    both_decrypt_to(lab, file, ALL_THREE, PLAIN);
    for ids in TWO_GROUPS {
        both_refuse(lab, file, ids);
    }
}

#[test]
fn the_threshold_flag_of_encrypt_overrides_the_configs() {
    let Some(lab) = lab() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = with(
        &lab,
        ksec(&lab).args(["encrypt", "--shamir-secret-sharing-threshold", "3", "db.yaml"]),
        ONLY_PGP,
    )
    .run()
    .ok();
    lab.write("db.enc.yaml", &out.stdout);
    check_three_of_three(&lab, "db.enc.yaml");
}

#[test]
fn updatekeys_takes_the_threshold_from_the_flag_over_the_config() {
    let Some(lab) = lab() else { return };
    lab.write(".sops.yaml", shamir_config(2));
    lab.write("db.yaml", PLAIN);
    let out = with(&lab, ksec(&lab).args(["encrypt", "db.yaml"]), ONLY_PGP).run().ok();
    lab.write("db.enc.yaml", &out.stdout);
    lab.write("sops.enc.yaml", &out.stdout);
    let before = lab.read_string("db.enc.yaml");

    let out = with(
        &lab,
        ksec(&lab).args([
            "updatekeys",
            "--yes",
            "--shamir-secret-sharing-threshold",
            "3",
            "db.enc.yaml",
        ]),
        ALL_THREE,
    )
    .run()
    .ok();
    assert!(
        out.stderr_text().contains("shamir_threshold 2 -> 3"),
        "{}",
        out.stderr_text()
    );
    check_three_of_three(&lab, "db.enc.yaml");
    let after = lab.read_string("db.enc.yaml");
    assert_eq!(ciphertexts(&after), ciphertexts(&before), "values untouched");
    assert_eq!(stamp_lines(&after), stamp_lines(&before), "lastmodified and mac stay");

    // The flag is ksec's, and so is taking the threshold from .sops.yaml: sops 3.11 keeps the
    // file's ("already up to date") when only the threshold changes (README, differences).
    let flag = sops(&lab)
        .args([
            "updatekeys",
            "--yes",
            "--shamir-secret-sharing-threshold",
            "3",
            "sops.enc.yaml",
        ])
        .run();
    assert_ne!(flag.code, 0, "sops learnt the flag: {}", flag.stderr_text());
    lab.write(".sops.yaml", shamir_config(3));
    let sops_run = with(
        &lab,
        sops(&lab).args(["updatekeys", "--yes", "sops.enc.yaml"]),
        ALL_THREE,
    )
    .run()
    .ok();
    assert!(
        sops_run.stderr_text().contains("already up to date"),
        "{}",
        sops_run.stderr_text()
    );
    assert_eq!(lab.read_string("sops.enc.yaml"), before);
    with(
        &lab,
        ksec(&lab).args(["updatekeys", "--yes", "sops.enc.yaml"]),
        ALL_THREE,
    )
    .run()
    .ok();
    check_three_of_three(&lab, "sops.enc.yaml");
}

#[test]
fn sops_pgp_fp_and_a_flat_pgp_creation_rule_name_the_recipients() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let out = with(
        &lab,
        ksec(&lab)
            .args(["encrypt", "db.yaml"])
            .env("SOPS_PGP_FP", format!("{FP1},{FP2}")),
        ONLY_PGP,
    )
    .run()
    .ok();
    let text = out.stdout_text();
    assert!(
        text.contains(&format!("fp: {FP1}")) && text.contains(&format!("fp: {FP2}")),
        "{text}"
    );
    lab.write("env.enc.yaml", &out.stdout);
    both_decrypt_to(&lab, "env.enc.yaml", ONLY_PGP, PLAIN);
    both_refuse(&lab, "env.enc.yaml", NOBODY);

    lab.write(".sops.yaml", format!("creation_rules:\n  - pgp: {FP1}\n"));
    let out = with(&lab, ksec(&lab).args(["encrypt", "db.yaml"]), ONLY_PGP).run().ok();
    let text = out.stdout_text();
    assert!(text.contains(&format!("fp: {FP1}")) && !text.contains(FP2), "{text}");
    lab.write("rule.enc.yaml", &out.stdout);
    both_decrypt_to(&lab, "rule.enc.yaml", ONLY_PGP, PLAIN);
    both_refuse(&lab, "rule.enc.yaml", NOBODY);
}

#[test]
fn when_no_key_works_the_error_lists_every_group_key_and_place() {
    let Some(lab) = lab() else { return };
    let file = vector_str("generated-by-sops-3.11.0/shamir-2of3.enc.yaml");

    let out = ksec_decrypt(&lab, &file, NOBODY).expect_code(NO_KEY);
    assert!(out.stdout.is_empty());
    let err = &out.stderr_text();
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
    let empty = empty_gnupg(&lab);
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
    let out = ksec_decrypt(&lab, &file, ONLY_AGE1).expect_code(NO_KEY);
    let err = &out.stderr_text();
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
    let Some(lab) = lab() else { return };
    let file = vector_str("generated-by-sops-3.11.0/types.enc.yaml");
    let missing = lab.root().join("no-such-keys.txt");
    let identity = fs::read_to_string(vector("keys/age-test-identity.txt")).expect("age test identity");
    let broken = |cmd: &mut TestCommand| {
        cmd.env("SOPS_AGE_KEY_FILE", &missing)
            .env("SOPS_AGE_KEY_CMD", "false")
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &missing);
    };

    // A stale SOPS_AGE_KEY_FILE (and a failing command) beside a working SOPS_AGE_KEY: both
    // tools decrypt.
    let mut outs = Vec::new();
    for mut cmd in [ksec(&lab), sops(&lab)] {
        broken(&mut cmd);
        let out = cmd.env("SOPS_AGE_KEY", &identity).args(["decrypt", &file]).run().ok();
        outs.push(out.stdout);
    }
    assert_eq!(outs[0], outs[1]);

    // Only broken sources: exit 128 like sops, each broken source named, and the hint says so.
    for mut cmd in [ksec(&lab), sops(&lab)] {
        broken(&mut cmd);
        cmd.args(["decrypt", &file]).run().expect_code(NO_KEY);
    }
    let mut cmd = ksec(&lab);
    broken(&mut cmd);
    let out = cmd.args(["decrypt", &file]).run();
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
        assert!(
            out.stderr_text().contains(&needle),
            "missing {needle:?} in:\n{}",
            out.stderr_text()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --decryption-order
// ---------------------------------------------------------------------------------------------

/// An executable script `bin/<name>` that logs its arguments to `log` and then runs `then`.
fn logging_gpg(lab: &Dir, name: &str, log: &Path, then: &str) -> PathBuf {
    lab.script(name, &format!("echo \"$*\" >> '{}'\n{then}\n", log.display()))
}

fn gpg_calls(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .map(|t| t.lines().map(String::from).collect())
        .unwrap_or_default()
}

#[test]
fn gpg_is_found_and_run_as_sops_runs_it() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);

    // A `keyring` line in gpg.conf adds a keyring; the default one still counts, in both tools.
    let home = lab.extra_gnupg_home("conf-keyring");
    let public = lab.write("fp1.pub.asc", export(&lab, "--export", FP1));
    gpg_in(&lab, &home)
        .args(["--batch", "--quiet", "--import"])
        .arg(&public)
        .run()
        .ok();
    let extra = home.join("extra.kbx");
    gpg_in(&lab, &home)
        .args(["--batch", "--no-default-keyring", "--keyring"])
        .arg(&extra)
        .arg("--list-keys")
        .run()
        .ok();
    fs::write(home.join("gpg.conf"), format!("keyring {}\n", extra.display())).expect("gpg.conf");
    for (tool, mut cmd) in [("ksec", ksec(&lab)), ("sops", sops(&lab))] {
        let out = cmd
            .env("GNUPGHOME", &home)
            .args(["encrypt", "--pgp", FP1, "db.yaml"])
            .run()
            .ok();
        lab.write(&format!("{tool}.enc.yaml"), &out.stdout);
        both_decrypt_to(&lab, &format!("{tool}.enc.yaml"), ONLY_PGP, PLAIN);
    }

    // SOPS_GPG_EXEC relative to the working directory, or a bare name on PATH, is what runs.
    let log = lab.root().join("gpg-exec.log");
    logging_gpg(
        &lab,
        "logging-gpg",
        &log,
        &format!("exec '{}' \"$@\"", peer_gpg().display()),
    );
    let path = format!(
        "{}:{}",
        lab.side("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for exec in ["../bin/logging-gpg", "logging-gpg"] {
        let _ = fs::remove_file(&log);
        let out = with(
            &lab,
            ksec(&lab)
                .env("PATH", &path)
                .env("SOPS_GPG_EXEC", exec)
                .args(["decrypt", "ksec.enc.yaml"]),
            ONLY_PGP,
        )
        .run()
        .ok();
        assert_eq!(out.stdout_text(), PLAIN);
        assert!(!gpg_calls(&log).is_empty(), "SOPS_GPG_EXEC={exec} was not run");
    }
    let out = with(
        &lab,
        ksec(&lab)
            .env("SOPS_GPG_EXEC", "ksec-no-such-gpg")
            .args(["decrypt", "ksec.enc.yaml"]),
        ONLY_PGP,
    )
    .run()
    .expect_code(NO_KEY);
    assert!(
        out.stderr_text()
            .contains("gpg: UNUSABLE: SOPS_GPG_EXEC=ksec-no-such-gpg"),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn decryption_order_pgp_asks_gpg_before_age() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = with(
        &lab,
        ksec(&lab).args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    )
    .run()
    .ok();
    lab.write("db.enc.yaml", &enc.stdout);
    let both = Ids {
        age1: true,
        pgp: true,
        ..NOBODY
    };
    let log = lab.root().join("gpg.log");
    let gpg = logging_gpg(
        &lab,
        "gpg-logging",
        &log,
        &format!("exec '{}' \"$@\"", peer_gpg().display()),
    );

    // Default order (age first): gpg is never asked, in either tool.
    for (tool, mut cmd) in [("ksec", ksec(&lab)), ("sops", sops(&lab))] {
        let out = with(
            &lab,
            cmd.args(["decrypt", "db.enc.yaml"]).env("SOPS_GPG_EXEC", &gpg),
            both,
        )
        .run()
        .ok();
        assert_eq!(out.stdout_text(), PLAIN);
        assert!(
            gpg_calls(&log).is_empty(),
            "{tool} asked gpg first: {:?}",
            gpg_calls(&log)
        );
    }

    // pgp first, by flag and by variable, in ksec; by variable in sops.
    let runs: Vec<(&str, TestCommand)> = vec![
        ("ksec --decryption-order pgp", {
            let mut c = ksec(&lab);
            c.args(["decrypt", "--decryption-order", "pgp", "db.enc.yaml"]);
            c
        }),
        ("ksec SOPS_DECRYPTION_ORDER=pgp", {
            let mut c = ksec(&lab);
            c.args(["decrypt", "db.enc.yaml"]).env("SOPS_DECRYPTION_ORDER", "pgp");
            c
        }),
        ("sops SOPS_DECRYPTION_ORDER=pgp", {
            let mut c = sops(&lab);
            c.args(["decrypt", "db.enc.yaml"]).env("SOPS_DECRYPTION_ORDER", "pgp");
            c
        }),
    ];
    for (what, mut cmd) in runs {
        let _ = fs::remove_file(&log);
        let out = with(&lab, cmd.env("SOPS_GPG_EXEC", &gpg), both).run().ok();
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
    let out = with(
        &lab,
        ksec(&lab)
            .args(["decrypt", "--decryption-order", "pgp,age", "db.enc.yaml"])
            .env("SOPS_GPG_EXEC", &broken),
        both,
    )
    .run()
    .ok();
    assert_eq!(out.stdout_text(), PLAIN);
    assert_eq!(gpg_calls(&log).len(), 1, "the broken gpg was asked first");
}

#[test]
fn a_key_type_named_twice_in_the_decryption_order_exits_112() {
    let Some(lab) = lab() else { return };
    let file = vector_str("generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml");
    let runs: Vec<(&str, TestCommand, &str)> = vec![
        (
            "ksec --decryption-order age,pgp,age",
            {
                let mut c = ksec(&lab);
                c.args(["decrypt", "--decryption-order", "age,pgp,age", &file]);
                c
            },
            "age",
        ),
        (
            "ksec SOPS_DECRYPTION_ORDER=pgp,pgp",
            {
                let mut c = ksec(&lab);
                c.args(["decrypt", &file]).env("SOPS_DECRYPTION_ORDER", "pgp,pgp");
                c
            },
            "pgp",
        ),
        (
            "sops --decryption-order age,pgp,age",
            {
                let mut c = sops(&lab);
                c.args(["decrypt", "--decryption-order", "age,pgp,age", &file]);
                c
            },
            "age",
        ),
        (
            "sops SOPS_DECRYPTION_ORDER=pgp,pgp",
            {
                let mut c = sops(&lab);
                c.args(["decrypt", &file]).env("SOPS_DECRYPTION_ORDER", "pgp,pgp");
                c
            },
            "pgp",
        ),
    ];
    for (what, mut cmd, key_type) in runs {
        let out = with(&lab, &mut cmd, ONLY_AGE1).run().expect_code(112);
        assert!(out.stdout.is_empty(), "{what} printed a plaintext");
        assert!(out.stderr_text().contains(key_type), "{what}: {}", out.stderr_text());
    }
}

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

#[test]
fn rotate_swaps_age_recipients_and_reencrypts_every_value() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", LAYOUT);
    let enc = with(
        &lab,
        ksec(&lab).args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    )
    .run()
    .ok();
    let file = lab.write("db.enc.yaml", &enc.stdout);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = lab.read_string("db.enc.yaml");
    let sops_before = sops_decrypt(&lab, "db.enc.yaml", ONLY_AGE1).ok();

    // Without -i the result goes to stdout and the file stays.
    let printed = with(&lab, ksec(&lab).args(["rotate", "db.enc.yaml"]), ONLY_PGP.with_age1())
        .run()
        .ok();
    assert!(printed.stdout_text().contains("sops:"), "{}", printed.stdout_text());
    assert_eq!(
        lab.read_string("db.enc.yaml"),
        before,
        "rotate without -i wrote the file"
    );

    // Adding recipients the file already has wraps the key for each of them once.
    let again = with(
        &lab,
        ksec(&lab).args(["rotate", "--add-age", AGE1, "--add-pgp", FP1, "db.enc.yaml"]),
        ONLY_PGP.with_age1(),
    )
    .run()
    .ok();
    let text = again.stdout_text();
    assert_eq!(text.matches(AGE1).count(), 1, "{text}");
    assert_eq!(text.matches(&format!("fp: {FP1}")).count(), 1, "{text}");

    let ids = Ids {
        age1: true,
        pgp: true,
        ..NOBODY
    };
    let out = with(
        &lab,
        ksec(&lab).args(["rotate", "-i", "--rm-age", AGE1, "--add-age", AGE2, "db.enc.yaml"]),
        ids,
    )
    .run()
    .ok();
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
        let by_ksec = ksec_decrypt(&lab, "db.enc.yaml", ids).ok();
        assert_eq!(by_ksec.stdout_text(), LAYOUT, "values (and layout) unchanged");
        let by_sops = sops_decrypt(&lab, "db.enc.yaml", ids).ok();
        assert_eq!(by_sops.stdout, sops_before.stdout, "values unchanged for sops");
    }
    both_refuse(&lab, "db.enc.yaml", ONLY_AGE1);
}

#[test]
fn rotate_removes_a_pgp_key_and_adds_a_key_file() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    lab.write("pub2.asc", export(&lab, "--export", FP2));
    let enc = with(
        &lab,
        ksec(&lab).args(["encrypt", "--age", AGE1, "--pgp", FP1, "db.yaml"]),
        ONLY_PGP,
    )
    .run()
    .ok();
    lab.write("db.enc.yaml", &enc.stdout);

    with(
        &lab,
        ksec(&lab)
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
    )
    .run()
    .ok();
    let after = lab.read_string("db.enc.yaml");
    assert!(!after.contains(FP1) && after.contains(&format!("fp: {FP2}")), "{after}");

    // Key 1 alone (a keyring without key 2) can no longer decrypt; key 2 and age 1 can.
    let only_key1 = lab.extra_gnupg_home("key1");
    lab.write("key1.sec.asc", export(&lab, "--export-secret-keys", FP1));
    gpg_in(&lab, &only_key1)
        .args(["--batch", "--quiet", "--import"])
        .arg(lab.path("key1.sec.asc"))
        .run()
        .ok();
    for mut cmd in [ksec(&lab), sops(&lab)] {
        cmd.args(["decrypt", "db.enc.yaml"])
            .env("GNUPGHOME", &only_key1)
            .run()
            .expect_code(NO_KEY);
    }
    both_decrypt_to(&lab, "db.enc.yaml", ONLY_PGP, PLAIN);
    both_decrypt_to(&lab, "db.enc.yaml", ONLY_AGE1, PLAIN);

    // The key added from a file is removed by the same file; a key the file does not have is
    // named in a warning.
    let out = with(
        &lab,
        ksec(&lab)
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
    )
    .run()
    .ok();
    let after = lab.read_string("db.enc.yaml");
    assert!(!after.contains(FP2) && after.contains(AGE1), "{after}");
    assert!(
        out.stderr_text()
            .contains(&format!("{AGE2} is not a recipient of the file")),
        "{}",
        out.stderr_text()
    );
    both_refuse(&lab, "db.enc.yaml", ONLY_PGP);
}

#[test]
fn rotate_of_a_sops_shamir_file_keeps_any_two_of_three() {
    let Some(lab) = lab() else { return };
    copy_vector(&lab, "generated-by-sops-3.11.0/shamir-2of3.enc.yaml", "s.enc.yaml");
    let before = lab.read_string("s.enc.yaml");
    let plain = sops_decrypt(&lab, "s.enc.yaml", ONLY_PGP.with_age1()).ok();
    let all = Ids {
        age1: true,
        age2: true,
        pgp: true,
    };
    with(&lab, ksec(&lab).args(["rotate", "-i", "s.enc.yaml"]), all)
        .run()
        .ok();
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
    let Some(lab) = lab() else { return };
    copy_vector(&lab, "generated-by-sops-3.11.0/shamir-2of3.enc.yaml", "s.enc.yaml");
    let before = lab.read_string("s.enc.yaml");
    let all = Ids {
        age1: true,
        age2: true,
        pgp: true,
    };
    // Emptying two of the three groups would leave one group that age key 1 alone opens;
    // emptying one would leave a 2-of-2 split, still not what the file said.
    for removal in [vec!["--rm-pgp", FP1, "--rm-age", AGE2], vec!["--rm-pgp", FP1]] {
        let ksec_run = with(
            &lab,
            ksec(&lab).args(["rotate", "-i"]).args(&removal).arg("s.enc.yaml"),
            all,
        )
        .run()
        .expect_code(1);
        assert!(
            ksec_run
                .stderr_text()
                .contains("s.enc.yaml: the removal would leave key group")
                && ksec_run.stderr_text().contains("ksec groups delete -i -f s.enc.yaml 1"),
            "{}",
            ksec_run.stderr_text()
        );
        assert_eq!(lab.read_string("s.enc.yaml"), before, "a refused rotate wrote the file");

        let sops_run = with(
            &lab,
            sops(&lab).args(["rotate", "-i"]).args(&removal).arg("s.enc.yaml"),
            all,
        )
        .run()
        .expect_code(1);
        assert!(
            sops_run.stderr_text().contains("empty key group provided"),
            "{}",
            sops_run.stderr_text()
        );
        assert_eq!(lab.read_string("s.enc.yaml"), before, "sops wrote the file");
    }
    let out = with(
        &lab,
        ksec(&lab).args(["rotate", "-i", "--rm-pgp", FP1, "--rm-age", AGE2, "s.enc.yaml"]),
        all,
    )
    .run();
    assert!(
        out.stderr_text().contains("key groups 1 and 2 with no key"),
        "every emptied group is named:\n{}",
        out.stderr_text()
    );
    // Refused before any key is asked for.
    let out = ksec(&lab)
        .args(["rotate", "-i", "--rm-pgp", FP1, "s.enc.yaml"])
        .run()
        .expect_code(1);
    assert!(
        out.stderr_text().contains("leave key group 1 with no key"),
        "{}",
        out.stderr_text()
    );
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
    let Some(lab) = lab() else { return };
    lab.write("secrets/app.yaml", LAYOUT);
    let enc = ksec(&lab)
        .args(["encrypt", "--age", AGE1, "secrets/app.yaml"])
        .run()
        .ok();
    lab.write("secrets/app.enc.yaml", &enc.stdout);
    lab.write(".sops.yaml", new_recipients_config());
    let before = lab.read("secrets/app.enc.yaml");
    let ids = ONLY_PGP.with_age1();

    let dry = with(
        &lab,
        ksec(&lab).args(["updatekeys", "--dry-run", "secrets/app.enc.yaml"]),
        ids,
    )
    .run()
    .ok();
    for needle in [
        "group 0\n",
        &format!("+ age {AGE2}"),
        &format!("- age {AGE1}"),
        &format!("+ pgp {FP1}"),
    ] {
        assert!(
            dry.stderr_text().contains(needle),
            "missing {needle:?} in:\n{}",
            dry.stderr_text()
        );
    }
    assert!(dry.stdout.is_empty(), "{}", dry.stdout_text());
    assert_eq!(lab.read("secrets/app.enc.yaml"), before, "--dry-run wrote the file");

    let refused = with(&lab, ksec(&lab).args(["updatekeys", "secrets/app.enc.yaml"]), ids)
        .run()
        .expect_code(1);
    assert!(refused.stderr_text().contains("--yes"), "{}", refused.stderr_text());
    assert_eq!(
        refused.stderr_text().matches("ksec: error:").count(),
        1,
        "one file, one error:\n{}",
        refused.stderr_text()
    );
    assert!(
        refused.stderr_text().contains(&format!("+ age {AGE2}")),
        "{}",
        refused.stderr_text()
    );
    assert_eq!(lab.read("secrets/app.enc.yaml"), before, "wrote without confirmation");
    // Still exactly the old recipient.
    let out = ksec_decrypt(&lab, "secrets/app.enc.yaml", ONLY_AGE1).ok();
    assert_eq!(out.stdout_text(), LAYOUT);
    sops_decrypt(&lab, "secrets/app.enc.yaml", ONLY_AGE1).ok();
    both_refuse(&lab, "secrets/app.enc.yaml", ONLY_AGE2);
}

#[test]
fn updatekeys_yes_rewrites_only_the_sops_block() {
    let Some(lab) = lab() else { return };
    lab.write("app.yaml", PLAIN);
    let enc = ksec(&lab).args(["encrypt", "--age", AGE1, "app.yaml"]).run().ok();
    lab.write("app.enc.yaml", &enc.stdout);
    copy_vector(
        &lab,
        "generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml",
        "multi.enc.yaml",
    );
    lab.write(".sops.yaml", new_recipients_config());
    let sops_plain = sops_decrypt(&lab, "multi.enc.yaml", ONLY_AGE1).ok();

    for (name, plain) in [
        ("app.enc.yaml", PLAIN.to_string()),
        ("multi.enc.yaml", sops_plain.stdout_text()),
    ] {
        let before = lab.read_string(name);
        let out = with(
            &lab,
            ksec(&lab).args(["updatekeys", "--yes", name]),
            ONLY_PGP.with_age1(),
        )
        .run()
        .ok();
        assert!(
            out.stderr_text().contains(&format!("{name}: updated")),
            "{}",
            out.stderr_text()
        );
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

        both_decrypt_to(&lab, name, ONLY_AGE2, &plain);
        both_decrypt_to(&lab, name, ONLY_PGP, &plain);
        both_refuse(&lab, name, ONLY_AGE1);

        let again = with(&lab, ksec(&lab).args(["updatekeys", "--yes", name]), ONLY_AGE2)
            .run()
            .ok();
        assert!(
            again.stderr_text().contains("already up to date"),
            "{}",
            again.stderr_text()
        );
        assert_eq!(lab.read_string(name), after, "an up-to-date file was rewritten");
    }
}

#[test]
fn updatekeys_walks_a_directory_and_skips_plaintext_files() {
    let Some(lab) = lab() else { return };
    lab.write("k8s/app.yaml", PLAIN);
    lab.write("k8s/nested/db.json", "{\n\t\"password\": \"hunter2\"\n}\n");
    for (plain, enc) in [
        ("k8s/app.yaml", "k8s/app.enc.yaml"),
        ("k8s/nested/db.json", "k8s/nested/db.enc.json"),
    ] {
        let out = ksec(&lab).args(["encrypt", "--age", AGE1, plain]).run().ok();
        lab.write(enc, &out.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );
    let plain_yaml = lab.read("k8s/app.yaml");
    let plain_json = lab.read("k8s/nested/db.json");

    // sops cannot do this (getsops/sops#1071).
    let sops_run = with(&lab, sops(&lab).args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1).run();
    assert_ne!(
        sops_run.code,
        0,
        "sops learnt to walk directories: {}",
        sops_run.stderr_text()
    );

    let encrypted_before = [lab.read("k8s/app.enc.yaml"), lab.read("k8s/nested/db.enc.json")];
    let dry = with(&lab, ksec(&lab).args(["updatekeys", "--dry-run", "k8s"]), ONLY_AGE1)
        .run()
        .ok();
    for name in ["k8s/app.enc.yaml: key changes", "k8s/nested/db.enc.json: key changes"] {
        assert!(
            dry.stderr_text().contains(name),
            "missing {name:?} in:\n{}",
            dry.stderr_text()
        );
    }
    assert_eq!(
        [lab.read("k8s/app.enc.yaml"), lab.read("k8s/nested/db.enc.json")],
        encrypted_before,
        "--dry-run wrote a file"
    );

    let out = with(&lab, ksec(&lab).args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1)
        .run()
        .ok();
    for updated in ["k8s/app.enc.yaml: updated", "k8s/nested/db.enc.json: updated"] {
        assert!(
            out.stderr_text().contains(updated),
            "missing {updated:?} in:\n{}",
            out.stderr_text()
        );
    }
    assert!(
        !out.stderr_text().contains("k8s/app.yaml") && !out.stderr_text().contains("db.json:"),
        "plaintext files are skipped quietly:\n{}",
        out.stderr_text()
    );
    assert_eq!(lab.read("k8s/app.yaml"), plain_yaml, "a plaintext file was touched");
    assert_eq!(
        lab.read("k8s/nested/db.json"),
        plain_json,
        "a plaintext file was touched"
    );

    both_decrypt_to(&lab, "k8s/app.enc.yaml", ONLY_AGE2, PLAIN);
    both_refuse(&lab, "k8s/app.enc.yaml", ONLY_AGE1);
    let json = both_agree(&lab, "k8s/nested/db.enc.json", ONLY_AGE2).ok();
    assert!(
        json.stdout_text().contains("\"password\": \"hunter2\""),
        "{}",
        json.stdout_text()
    );
    both_refuse(&lab, "k8s/nested/db.enc.json", ONLY_AGE1);
}

#[test]
fn updatekeys_goes_on_past_a_file_it_cannot_write_or_get_an_answer_for() {
    let Some(lab) = lab() else { return };
    // The temporary file written beside this one would need a name longer than the file
    // system allows: a write error that root cannot get around either.
    let unwritable = format!("k8s/{}.enc.yaml", "a".repeat(236));
    let files = [unwritable.as_str(), "k8s/b.enc.yaml", "k8s/c.enc.yaml"];
    lab.write("db.yaml", PLAIN);
    let enc = ksec(&lab).args(["encrypt", "--age", AGE1, "db.yaml"]).run().ok();
    for file in files {
        lab.write(file, &enc.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );

    // Two answers for three files: the first file fails to write, the second is updated, the
    // third gets no answer.
    let mut cmd = ksec(&lab);
    with(&lab, cmd.args(["updatekeys", "k8s"]), ONLY_AGE1);
    let out = cmd.stdin(b"y\ny\n").run();
    let stderr = &out.stderr_text();
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

    both_decrypt_to(&lab, "k8s/b.enc.yaml", ONLY_AGE2, PLAIN);
    both_refuse(&lab, "k8s/b.enc.yaml", ONLY_AGE1);
    for file in [unwritable.as_str(), "k8s/c.enc.yaml"] {
        assert_eq!(lab.read(file), enc.stdout, "{file} changed");
    }
}

#[test]
fn updatekeys_does_not_follow_a_symlink_loop() {
    let Some(lab) = lab() else { return };
    lab.write("k8s/app.yaml", PLAIN);
    let enc = ksec(&lab).args(["encrypt", "--age", AGE1, "k8s/app.yaml"]).run().ok();
    lab.write("k8s/app.enc.yaml", &enc.stdout);
    std::os::unix::fs::symlink("..", lab.path("k8s/up")).expect("symlink");
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: k8s/\n    age: {AGE2}\n"),
    );
    let out = with(&lab, ksec(&lab).args(["updatekeys", "--yes", "k8s"]), ONLY_AGE1)
        .run()
        .ok();
    assert_eq!(
        out.stderr_text().matches(": updated").count(),
        1,
        "{}",
        out.stderr_text()
    );
    assert!(
        out.stderr_text().contains("k8s/app.enc.yaml: updated"),
        "{}",
        out.stderr_text()
    );
    both_decrypt_to(&lab, "k8s/app.enc.yaml", ONLY_AGE2, PLAIN);
}

#[test]
fn a_key_file_in_sops_yaml_is_refused_by_both_tools() {
    let Some(lab) = lab() else { return };
    lab.write("pub2.asc", export(&lab, "--export", FP2));
    lab.write("db.yaml", PLAIN);
    for config in [
        "creation_rules:\n  - pgp: ./pub2.asc\n".to_string(),
        format!("creation_rules:\n  - key_groups:\n      - age: [{AGE1}]\n      - pgp: [./pub2.asc]\n"),
    ] {
        lab.write(".sops.yaml", &config);
        let ksec_run = with(&lab, ksec(&lab).args(["encrypt", "db.yaml"]), ONLY_PGP)
            .run()
            .expect_code(1);
        assert!(
            ksec_run
                .stderr_text()
                .contains("pgp key \"./pub2.asc\" is not an OpenPGP fingerprint")
                && ksec_run.stderr_text().contains("--pgp"),
            "{}",
            ksec_run.stderr_text()
        );
        assert!(ksec_run.stdout.is_empty());
        let sops_run = with(&lab, sops(&lab).args(["encrypt", "db.yaml"]), ONLY_PGP)
            .run()
            .expect_code(1);
        assert!(
            sops_run.stderr_text().contains("./pub2.asc"),
            "{}",
            sops_run.stderr_text()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// groups add | delete
// ---------------------------------------------------------------------------------------------

#[test]
fn groups_add_and_delete_change_who_can_decrypt_in_both_tools() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = ksec(&lab).args(["encrypt", "--age", AGE1, "db.yaml"]).run().ok();
    lab.write("db.enc.yaml", &enc.stdout);
    let original = lab.read_string("db.enc.yaml");

    // Without -i the result is printed and the file stays.
    let printed = with(
        &lab,
        ksec(&lab)
            .args(["groups", "add", "-f", "db.enc.yaml", "--pgp", FP1])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_PGP.with_age1(),
    )
    .run()
    .ok();
    assert!(
        printed.stdout_text().contains("key_groups:"),
        "{}",
        printed.stdout_text()
    );
    assert_eq!(lab.read_string("db.enc.yaml"), original);

    with(
        &lab,
        ksec(&lab)
            .args(["groups", "add", "-i", "-f", "db.enc.yaml", "--pgp", FP1])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_PGP.with_age1(),
    )
    .run()
    .ok();
    let two = lab.read_string("db.enc.yaml");
    assert_eq!(key_group_count(&two), 2, "{two}");
    assert!(two.contains("shamir_threshold: 2"), "{two}");
    assert_eq!(stamp_lines(&two), stamp_lines(&original), "lastmodified and mac stay");
    assert_eq!(ciphertexts(&two), ciphertexts(&original), "values untouched");
    both_decrypt_to(&lab, "db.enc.yaml", ONLY_PGP.with_age1(), PLAIN);
    both_refuse(&lab, "db.enc.yaml", ONLY_AGE1);
    both_refuse(&lab, "db.enc.yaml", ONLY_PGP);

    // Down to one group the threshold of 2 cannot hold: both tools refuse until it is lowered.
    for (tool, args) in [
        (ksec(&lab), ["groups", "delete", "-i", "-f", "db.enc.yaml", "0"]),
        (
            sops(&lab),
            ["groups", "delete", "--in-place", "--file", "db.enc.yaml", "0"],
        ),
    ] {
        let mut tool = tool;
        let out = with(&lab, tool.args(args), ONLY_PGP.with_age1()).run();
        assert_ne!(out.code, 0, "deleting below the threshold: {}", out.stderr_text());
        assert_eq!(lab.read_string("db.enc.yaml"), two, "a refused delete wrote the file");
    }
    let out = with(
        &lab,
        ksec(&lab).args(["groups", "delete", "-i", "-f", "db.enc.yaml", "0"]),
        ONLY_PGP.with_age1(),
    )
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr_text());
    assert!(
        out.stderr_text()
            .contains("db.enc.yaml: a Shamir threshold of 2 cannot be met by 1 key groups")
            && out.stderr_text().contains("--shamir-secret-sharing-threshold"),
        "{}",
        out.stderr_text()
    );

    with(
        &lab,
        ksec(&lab)
            .args(["groups", "delete", "-i", "-f", "db.enc.yaml", "0"])
            .args(["--shamir-secret-sharing-threshold", "1"]),
        ONLY_PGP.with_age1(),
    )
    .run()
    .ok();
    let one = lab.read_string("db.enc.yaml");
    assert_eq!(key_group_count(&one), 1, "{one}");
    assert!(!one.contains(AGE1) && one.contains(&format!("fp: {FP1}")), "{one}");
    assert!(!one.contains("shamir_threshold"), "{one}");
    both_decrypt_to(&lab, "db.enc.yaml", ONLY_PGP, PLAIN);
    both_refuse(&lab, "db.enc.yaml", ONLY_AGE1);

    let out = with(
        &lab,
        ksec(&lab).args(["groups", "delete", "-i", "-f", "db.enc.yaml", "5"]),
        ONLY_PGP,
    )
    .run();
    assert_ne!(out.code, 0, "deleting a group that does not exist");
    assert!(out.stderr_text().contains("no group 5"), "{}", out.stderr_text());
    assert_eq!(lab.read_string("db.enc.yaml"), one, "a failed delete wrote the file");
}

#[test]
fn sops_groups_add_on_a_ksec_file_and_ksec_groups_add_on_a_sops_file() {
    let Some(lab) = lab() else { return };
    lab.write("db.yaml", PLAIN);
    let enc = ksec(&lab).args(["encrypt", "--age", AGE1, "db.yaml"]).run().ok();
    lab.write("k.enc.yaml", &enc.stdout);
    let by_sops = sops(&lab).args(["encrypt", "--age", AGE1, "db.yaml"]).run().ok();
    lab.write("s.enc.yaml", &by_sops.stdout);

    with(
        &lab,
        sops(&lab)
            .args(["groups", "add", "--file", "k.enc.yaml", "--in-place", "--age", AGE2])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_AGE1,
    )
    .run()
    .ok();
    with(
        &lab,
        ksec(&lab)
            .args(["groups", "add", "-i", "-f", "s.enc.yaml", "--age", AGE2])
            .args(["--shamir-secret-sharing-threshold", "2"]),
        ONLY_AGE1,
    )
    .run()
    .ok();
    let both_age = ONLY_AGE1.with_age2();
    for file in ["k.enc.yaml", "s.enc.yaml"] {
        both_agree(&lab, file, both_age).ok();
        both_refuse(&lab, file, ONLY_AGE1);
        both_refuse(&lab, file, ONLY_AGE2);
    }
    let out = ksec_decrypt(&lab, "k.enc.yaml", both_age);
    assert_eq!(out.stdout_text(), PLAIN);
}

#[test]
fn updatekeys_covers_every_format_and_goes_on_past_a_file_it_cannot_open() {
    let Some(lab) = lab() else { return };
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
        let mut cmd = if tool == "ksec" { ksec(&lab) } else { sops(&lab) };
        let out = cmd.args(["encrypt", "--age", recipient, plain]).run().ok();
        lab.write(enc, &out.stdout);
    }
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^k8s/\n    age: {AGE2}\n"),
    );
    let untouched = lab.read("k8s/other.enc.yaml");

    // The answers come from stdin when it is not a terminal, as sops reads them.
    let mut cmd = ksec(&lab);
    with(&lab, cmd.args(["updatekeys", "k8s"]), ONLY_AGE1);
    let out = cmd.stdin(b"y\nyes\n").run();
    let stderr = &out.stderr_text();
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

    let dotenv = both_agree(&lab, "k8s/app.enc.env", ONLY_AGE2).ok();
    assert_eq!(dotenv.stdout_text(), "PASSWORD=hunter2\n");
    let blob = both_agree(&lab, "k8s/blob.enc.bin", ONLY_AGE2).ok();
    assert_eq!(blob.stdout, lab.read("k8s/blob.bin"));
    for file in ["k8s/app.enc.env", "k8s/blob.enc.bin"] {
        both_refuse(&lab, file, ONLY_AGE1);
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
        "the test plugin is missing from {}: a plain `cargo test` builds examples; with a \
         `--test` filter, run `cargo build --examples` first",
        dir.display()
    );
    dir
}

/// Plugin recipients (`age1<name>1…`) and identities (`AGE-PLUGIN-<NAME>-1…`) go through the age
/// plugin protocol, as in sops: each tool decrypts what the other encrypted to the test plugin.
#[test]
fn age_plugin_recipients_and_identities_work_both_ways_with_sops() {
    let Some(lab) = lab() else { return };
    let input = lab.write("plugin.yaml", PLAIN);
    let by_ksec = ksec(&lab)
        .path_first(examples_dir())
        .args(["encrypt", "--age", PLUGIN_RECIPIENT])
        .arg(&input)
        .run()
        .ok()
        .stdout;
    let by_sops = sops(&lab)
        .path_first(examples_dir())
        .args(["encrypt", "--age", PLUGIN_RECIPIENT])
        .arg(&input)
        .run()
        .ok()
        .stdout;
    for (writer, bytes) in [("ksec", by_ksec), ("sops", by_sops)] {
        assert!(String::from_utf8_lossy(&bytes).contains(&format!("recipient: {PLUGIN_RECIPIENT}")));
        let file = lab.write(&format!("plugin.{writer}.enc.yaml"), bytes);
        for (reader, mut cmd) in [("ksec", ksec(&lab)), ("sops", sops(&lab))] {
            // The reader decrypts the writer's file with the plugin identity.
            let out = cmd
                .path_first(examples_dir())
                .env("SOPS_AGE_KEY", PLUGIN_IDENTITY)
                .arg("decrypt")
                .arg(&file)
                .run()
                .ok();
            assert_eq!(out.stdout_text(), PLAIN, "{reader} on {writer}'s file");
        }
    }
    // Without the plugin on PATH the identity cannot be used, and ksec says which program is
    // missing; the file still fails as sops fails it (no key).
    let file = lab.path("plugin.ksec.enc.yaml");
    ksec(&lab)
        .env("SOPS_AGE_KEY", PLUGIN_IDENTITY)
        .arg("decrypt")
        .arg(&file)
        .run()
        .expect_code(NO_KEY)
        .stderr_has("age-plugin-unencrypted");
}
