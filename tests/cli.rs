//! The `ksec` binary as a user drives it: files, stdin pipes, kubectl, `.sops.yaml`, exit
//! codes, stdout and stderr.
//!
//! Every test is a short session in a scratch directory with an empty home: given these files
//! and these keys, this command prints that and exits so. None of them needs the real sops;
//! the kubectl ones use the real kubectl (skipped outside CI when it is missing).

mod common;

use std::fs;
use std::path::Path;

use common::{Dir, SAMPLE_RECIPIENT, TestCommand, VECTOR_RECIPIENT, pipe, sample_key, testdata, vector_key};

/// A secret value that must never show up anywhere but in decrypted output.
const MARKER: &str = "S3CR3T-MARKER-93f1";
/// `MARKER` base64-encoded, as it sits in a Secret's `data`.
const MARKER_BASE64: &str = "UzNDUjNULU1BUktFUi05M2Yx";
/// The rule every Kubernetes user passes: encrypt only what is under `data` and `stringData`.
const SECRET_REGEX: &str = "^(data|stringData)$";

/// A Secret whose password is [`MARKER`].
fn secret_with_marker() -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\n\
         stringData:\n  username: admin\n  password: {MARKER}\ndata:\n  token: {MARKER_BASE64}\n"
    )
}

/// `ksec` with the sample identity in SOPS_AGE_KEY_FILE.
fn ksec_with_key(session: &Dir) -> TestCommand {
    let mut cmd = session.ksec();
    cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    cmd
}

/// Writes `plain` as `name`, encrypts it for the sample recipient with the Secret rule,
/// and saves the result as `enc_name`.
fn encrypt_secret(session: &Dir, name: &str, plain: &str, enc_name: &str) -> String {
    session.write(name, plain);
    let out = session
        .ksec()
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--encrypted-regex",
            SECRET_REGEX,
            name,
        ])
        .run()
        .ok()
        .stderr_is("");
    let encrypted = out.stdout_text();
    session.write(enc_name, &encrypted);
    encrypted
}

/// `kubectl`, with no kubeconfig of the developer's.
fn kubectl_cmd(session: &Dir, kubectl: &Path) -> TestCommand {
    let mut cmd = session.command(kubectl);
    cmd.env_remove("KUBECONFIG");
    cmd
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Changes one character of the ciphertext of `key`'s value, keeping it valid base64.
fn tamper_ciphertext(encrypted: &str, key: &str) -> String {
    let anchor = format!("{key}: ENC[AES256_GCM,data:");
    let at = encrypted.find(&anchor).expect("the key is encrypted") + anchor.len();
    let old = &encrypted[at..at + 1];
    let new = if old == "A" { "B" } else { "A" };
    format!("{}{new}{}", &encrypted[..at], &encrypted[at + 1..])
}

/// Runs `ksec decrypt FILE` three ways (to stdout, `-i`, `--output`) with SOPS_AGE_KEY_FILE
/// set to `key`, and checks each fails with `code` without leaking: nothing on stdout, the
/// marker nowhere in stderr, FILE unchanged, no output file, no temp file left behind.
/// Returns the stderr of the stdout run.
fn assert_decrypt_fails_cleanly(session: &Dir, file: &str, key: &Path, code: i32) -> String {
    let before = session.read(file);
    let files_before = session.files();
    let runs: [&[&str]; 3] = [&[], &["-i"], &["--output", "plain-out.yaml"]];
    let mut first_stderr = None;
    for extra in runs {
        let out = session
            .ksec()
            .env("SOPS_AGE_KEY_FILE", key)
            .arg("decrypt")
            .args(extra)
            .arg(file)
            .run()
            .expect_code(code)
            .stdout_is("")
            .stderr_lacks(MARKER)
            .stderr_lacks(MARKER_BASE64);
        assert_eq!(session.read(file), before, "decrypt {extra:?} {file} changed the file");
        assert_eq!(
            session.files(),
            files_before,
            "decrypt {extra:?} {file} left files behind"
        );
        first_stderr.get_or_insert_with(|| out.stderr_text());
    }
    first_stderr.expect("three runs")
}

// ---------------------------------------------------------------------------------------------
// The README's main job

#[test]
fn readme_decrypt_prints_the_plaintext_exactly() {
    // SOPS_AGE_KEY_FILE=testdata/keys/sample.agekey ksec decrypt testdata/secret.enc.yaml
    let session = Dir::new();
    let expected = fs::read(testdata("secret.yaml")).expect("testdata/secret.yaml");
    ksec_with_key(&session)
        .arg("decrypt")
        .arg(testdata("secret.enc.yaml"))
        .run()
        .ok()
        .stdout_is(expected)
        .stderr_is("");
}

// ---------------------------------------------------------------------------------------------
// kubectl pipes

/// `kubectl create secret generic db --from-literal=password=hunter2 --dry-run=client -o <output>`.
fn kubectl_create_secret(session: &Dir, kubectl: &Path, output: &str) -> TestCommand {
    let mut cmd = kubectl_cmd(session, kubectl);
    cmd.args([
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=hunter2",
        "--dry-run=client",
        "-o",
        output,
    ]);
    cmd
}

/// `kubectl … | ksec encrypt --age R --encrypted-regex '^(data|stringData)$'`, a real pipe.
fn kubectl_piped_into_encrypt(session: &Dir, kubectl: &Path, output: &str) -> String {
    let (producer, encrypted) = pipe(
        &mut kubectl_create_secret(session, kubectl, output),
        session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--encrypted-regex", SECRET_REGEX]),
    );
    assert!(producer.success(), "kubectl failed");
    assert!(encrypted.success(), "ksec encrypt failed: {}", encrypted.stderr_text());
    assert!(encrypted.stderr.is_empty(), "{}", encrypted.stderr_text());
    encrypted.stdout_text()
}

#[test]
fn kubectl_yaml_piped_into_encrypt_decrypts_back_to_kubectls_bytes() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    let kubectl_yaml = kubectl_create_secret(&session, &kubectl, "yaml").run().ok().stdout;

    let encrypted = kubectl_piped_into_encrypt(&session, &kubectl, "yaml");
    assert!(encrypted.contains("\n  name: db\n"), "{encrypted}");
    assert!(encrypted.contains("  password: ENC[AES256_GCM,"), "{encrypted}");
    assert!(
        !encrypted.contains("aHVudGVyMg=="),
        "kubectl's base64 password leaked:\n{encrypted}"
    );
    assert!(
        encrypted.contains("encrypted_regex: ^(data|stringData)$"),
        "{encrypted}"
    );

    // Back through stdin, and from a file: kubectl's bytes exactly.
    ksec_with_key(&session)
        .arg("decrypt")
        .stdin(encrypted.clone())
        .run()
        .ok()
        .stdout_is(kubectl_yaml.clone())
        .stderr_is("");
    session.write("db.enc.yaml", &encrypted);
    ksec_with_key(&session)
        .args(["decrypt", "db.enc.yaml"])
        .run()
        .ok()
        .stdout_is(kubectl_yaml);
}

#[test]
fn kubectl_json_on_stdin_is_detected_and_round_trips() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    let kubectl_json = kubectl_create_secret(&session, &kubectl, "json")
        .run()
        .ok()
        .stdout_text();

    // No file name: the JSON is recognised from the content and stays JSON.
    let encrypted = kubectl_piped_into_encrypt(&session, &kubectl, "json");
    assert!(encrypted.starts_with('{'), "{encrypted}");
    assert!(encrypted.contains("\"sops\": {"), "{encrypted}");
    assert!(encrypted.contains("\"name\": \"db\""), "{encrypted}");
    assert!(encrypted.contains("\"password\": \"ENC[AES256_GCM,"), "{encrypted}");

    // kubectl indents with 4 spaces; `--indent 4` gives its bytes back exactly.
    ksec_with_key(&session)
        .args(["decrypt", "--indent", "4"])
        .stdin(encrypted.clone())
        .run()
        .ok()
        .stdout_is(kubectl_json.clone())
        .stderr_is("");

    // By default JSON is written as sops writes it: the same document, indented with tabs.
    let tab_indented: String = kubectl_json
        .lines()
        .map(|line| {
            let body = line.trim_start_matches(' ');
            let depth = (line.len() - body.len()) / 4;
            format!("{}{body}\n", "\t".repeat(depth))
        })
        .collect();
    ksec_with_key(&session)
        .arg("decrypt")
        .stdin(encrypted)
        .run()
        .ok()
        .stdout_is(tab_indented);
}

#[test]
fn decrypted_secret_is_parsed_by_kubectl() {
    // ksec decrypt db.enc.yaml | kubectl label --local -f - checked=true -o yaml
    // (no cluster here; `--local` makes kubectl parse the manifest without one).
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    let encrypted = kubectl_piped_into_encrypt(&session, &kubectl, "yaml");
    session.write("db.enc.yaml", encrypted);

    let (decrypt, labelled) = pipe(
        ksec_with_key(&session).args(["decrypt", "db.enc.yaml"]),
        kubectl_cmd(&session, &kubectl).args(["label", "--local", "-f", "-", "checked=true", "-o", "yaml"]),
    );
    assert!(decrypt.success());
    let labelled_text = labelled.stdout_text();
    assert!(
        labelled.success(),
        "kubectl rejected ksec's output: {}",
        labelled.stderr_text()
    );
    assert!(labelled_text.contains("password: aHVudGVyMg=="), "{labelled_text}");
    assert!(labelled_text.contains("checked: \"true\""), "{labelled_text}");
    assert!(labelled_text.contains("name: db"), "{labelled_text}");
}

// ---------------------------------------------------------------------------------------------
// Files, stdin and outputs

#[test]
fn encrypt_reads_a_file_a_dash_or_stdin() {
    let session = Dir::new();
    let plain = secret_with_marker();
    session.write("s.yaml", &plain);
    let runs: [(&[&str], bool); 3] = [(&["s.yaml"], false), (&["-"], true), (&[], true)];
    for (file_args, from_stdin) in runs {
        let mut cmd = session.ksec();
        cmd.args(["encrypt", "--age", SAMPLE_RECIPIENT]).args(file_args);
        if from_stdin {
            cmd.stdin(plain.clone());
        }
        let encrypted = cmd
            .run()
            .ok()
            .stderr_starts_with("ksec: note: ")
            .stderr_has("Kubernetes manifests")
            .stdout_text();
        assert!(encrypted.contains("\nsops:\n"), "encrypt {file_args:?}:\n{encrypted}");
        assert!(!encrypted.contains(MARKER), "encrypt {file_args:?}:\n{encrypted}");
        ksec_with_key(&session)
            .arg("decrypt")
            .stdin(encrypted)
            .run()
            .ok()
            .stdout_is(plain.clone());
    }
}

/// A private key as `openssl` writes it: neither YAML nor JSON.
fn pem_key() -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{MARKER_BASE64}\n-----END PRIVATE KEY-----\n")
}

#[test]
fn stdin_that_is_neither_yaml_nor_json_is_refused_until_its_type_is_given() {
    // A file has a name to type it by; bare stdin has none, and guessing "binary" would hide
    // what went wrong (a truncated pipe, the wrong command's output).
    let session = Dir::new();
    for stdin_arg in [None, Some("-")] {
        session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--output", "key.enc"])
            .args(stdin_arg)
            .stdin(pem_key())
            .run()
            .expect_code(2)
            .stdout_is("")
            .stderr_has("ksec: error: cannot tell the input type of stdin: it is neither YAML nor JSON")
            .stderr_has("ksec: hint: pass --input-type binary")
            .stderr_has("--filename-override")
            .stderr_lacks(MARKER_BASE64);
        assert!(
            !session.path("key.enc").exists(),
            "{stdin_arg:?}: an output was written"
        );
    }

    // Told how to read it, stdin is encrypted whole and decrypts to the same bytes.
    for flags in [&["--input-type", "binary"][..], &["--filename-override", "tls.key"][..]] {
        let encrypted = session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT])
            .args(flags)
            .stdin(pem_key())
            .run()
            .ok()
            .stdout_text();
        assert!(
            encrypted.starts_with("{\n\t\"data\": \"ENC["),
            "{flags:?}:\n{encrypted}"
        );
        ksec_with_key(&session)
            .arg("decrypt")
            .stdin(encrypted)
            .run()
            .ok()
            .stdout_is(pem_key());
    }

    // A file of a name sops does not know is a binary file, as in sops, with a note.
    session.write("tls.key", pem_key());
    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "tls.key"])
        .run()
        .ok()
        .stdout_starts_with("{\n\t\"data\": \"ENC[")
        .stderr_has("tls.key: not YAML or JSON: encrypted whole as a binary file");
}

#[test]
fn an_unknown_input_type_is_a_usage_error() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    for file_args in [&["s.yaml"][..], &[]] {
        session
            .ksec()
            .args([
                "encrypt",
                "--age",
                SAMPLE_RECIPIENT,
                "--input-type",
                "bogus",
                "--output",
                "s.enc",
            ])
            .args(file_args)
            .stdin(secret_with_marker())
            .run()
            .expect_code(1)
            .stdout_is("")
            // Refused by the parser, which lists the names (as shells complete them).
            .stderr_has("invalid value 'bogus' for '--input-type <TYPE>'")
            .stderr_has("[possible values: yaml, json, dotenv, ini, binary]");
        assert!(!session.path("s.enc").exists());
    }
}

#[cfg(unix)]
#[test]
fn output_flag_writes_a_private_new_file_and_nothing_on_stdout() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    set_mode(&session.path("s.yaml"), 0o644);

    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--output", "s.enc.yaml", "s.yaml"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_starts_with("ksec: note: ")
        .stderr_has("Kubernetes manifests");
    assert!(session.read_string("s.enc.yaml").contains("\nsops:\n"));
    assert_eq!(mode(&session.path("s.enc.yaml")), 0o600, "a new file may hold secrets");

    ksec_with_key(&session)
        .args(["decrypt", "--output", "plain.yaml", "s.enc.yaml"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_is("");
    assert_eq!(session.read_string("plain.yaml"), secret_with_marker());
    assert_eq!(mode(&session.path("plain.yaml")), 0o600);
    assert_eq!(session.files(), ["plain.yaml", "s.enc.yaml", "s.yaml"]);
}

#[cfg(unix)]
#[test]
fn in_place_replaces_the_file_atomically_and_keeps_its_permissions() {
    use std::io::Read;

    let session = Dir::new();
    let plain = secret_with_marker();
    let path = session.write("s.yaml", &plain);
    set_mode(&path, 0o640);
    // A reader that opened the file before keeps seeing the complete old content: the new
    // file is renamed over the old one, never written into it.
    let mut reader = fs::File::open(&path).expect("open before");

    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "-i", "s.yaml"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_starts_with("ksec: note: ")
        .stderr_has("Kubernetes manifests");
    let encrypted = session.read_string("s.yaml");
    assert!(
        encrypted.contains("\nsops:\n") && !encrypted.contains(MARKER),
        "{encrypted}"
    );
    assert_eq!(mode(&path), 0o640);
    assert_eq!(session.files(), ["s.yaml"], "no temp file is left in the directory");
    let mut seen = String::new();
    reader.read_to_string(&mut seen).expect("read old handle");
    assert_eq!(seen, plain);

    ksec_with_key(&session)
        .args(["decrypt", "--in-place", "s.yaml"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_is("");
    assert_eq!(session.read_string("s.yaml"), plain);
    assert_eq!(mode(&path), 0o640);
    assert_eq!(session.files(), ["s.yaml"]);
}

#[cfg(unix)]
#[test]
fn in_place_on_a_symlink_encrypts_the_target_and_keeps_the_link() {
    // sops opens the path for writing, which follows the link; the user who runs
    // `encrypt -i link.yaml` expects the secret behind it to end up encrypted.
    let session = Dir::new();
    session.write("real.yaml", secret_with_marker());
    std::os::unix::fs::symlink("real.yaml", session.path("link.yaml")).expect("symlink");

    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "-i", "link.yaml"])
        .run()
        .ok();
    let link = fs::symlink_metadata(session.path("link.yaml")).expect("lstat link");
    assert!(
        link.file_type().is_symlink(),
        "link.yaml was replaced by a regular file"
    );
    let target = session.read_string("real.yaml");
    assert!(
        target.contains("\nsops:\n") && !target.contains(MARKER),
        "the file behind the link is still plaintext:\n{target}"
    );
}

#[test]
fn output_into_a_missing_directory_exits_3_naming_the_target() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    session
        .ksec()
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--output",
            "nodir/s.enc.yaml",
            "s.yaml",
        ])
        .run()
        .expect_code(3)
        .stdout_is("")
        .stderr_has("nodir/s.enc.yaml");
    assert_eq!(session.files(), ["s.yaml"]);
}

#[test]
fn in_place_with_output_is_a_conflict() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    let runs: [&[&str]; 2] = [
        &[
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "-i",
            "--output",
            "out.yaml",
            "s.yaml",
        ],
        &["decrypt", "-i", "--output", "out.yaml", "s.yaml"],
    ];
    for args in runs {
        ksec_with_key(&session)
            .args(args)
            .run()
            .expect_code(8)
            .stdout_is("")
            .stderr_has("--in-place")
            .stderr_has("--output");
    }
    assert_eq!(session.read_string("s.yaml"), secret_with_marker());
    assert_eq!(session.files(), ["s.yaml"]);
}

#[test]
fn in_place_on_stdin_is_a_conflict() {
    let session = Dir::new();
    let runs: [&[&str]; 4] = [
        &["encrypt", "--age", SAMPLE_RECIPIENT, "-i"],
        &["encrypt", "--age", SAMPLE_RECIPIENT, "-i", "-"],
        &["decrypt", "-i"],
        &["decrypt", "-i", "-"],
    ];
    for args in runs {
        ksec_with_key(&session)
            .args(args)
            .stdin(secret_with_marker())
            .run()
            .expect_code(8)
            .stdout_is("")
            .stderr_has("stdin");
    }
}

#[test]
fn two_encryption_rule_flags_conflict_and_both_are_named() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    let out = session
        .ksec()
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--encrypted-regex",
            SECRET_REGEX,
            "--unencrypted-suffix",
            "_plain",
            "s.yaml",
        ])
        .run()
        .expect_code(8)
        .stdout_is("");
    // Either spelling (flag or .sops.yaml field) names them.
    let stderr = out.stderr_text().replace('_', "-");
    assert!(stderr.contains("encrypted-regex"), "{stderr}");
    assert!(stderr.contains("unencrypted-suffix"), "{stderr}");
}

#[test]
fn a_missing_input_file_exits_100_naming_the_path() {
    let session = Dir::new();
    let runs: [&[&str]; 2] = [
        &["encrypt", "--age", SAMPLE_RECIPIENT, "nowhere/missing.yaml"],
        &["decrypt", "nowhere/missing.yaml"],
    ];
    for args in runs {
        ksec_with_key(&session)
            .args(args)
            .run()
            .expect_code(100)
            .stdout_is("")
            .stderr_has("nowhere/missing.yaml");
    }
}

#[test]
fn encrypting_an_encrypted_file_exits_203() {
    let session = Dir::new();
    let encrypted = fs::read(testdata("secret.enc.yaml")).expect("testdata");
    session.write("s.enc.yaml", &encrypted);
    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "-i", "s.enc.yaml"])
        .run()
        .expect_code(203)
        .stdout_is("")
        .stderr_has("s.enc.yaml")
        .stderr_has("already encrypted")
        // The ways on that keep the plaintext off the disk, not `decrypt -i`.
        .stderr_has("ksec: hint: change its values with `ksec edit s.enc.yaml` (or `ksec set`), its recipients with `ksec rotate -i --add-age age1… s.enc.yaml`")
        .stderr_lacks("decrypt -i");
    assert_eq!(session.read("s.enc.yaml"), encrypted);
    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT])
        .stdin(encrypted)
        .run()
        .expect_code(203)
        .stdout_is("");
}

#[test]
fn decrypting_a_plaintext_file_exits_1() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    let stderr = ksec_with_key(&session)
        .args(["decrypt", "s.yaml"])
        .run()
        .expect_code(1)
        .stdout_is("")
        .stderr_has("s.yaml")
        .stderr_lacks(MARKER)
        .stderr_text();
    assert!(
        stderr.contains("not encrypted") || stderr.contains("metadata not found"),
        "{stderr}"
    );
}

#[test]
fn malformed_yaml_exits_2_with_line_and_column() {
    let session = Dir::new();
    session.write("bad.yaml", format!("password: {MARKER}\n  user: admin\n"));
    let out = session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "bad.yaml"])
        .run()
        .expect_code(2)
        .stdout_is("")
        .stderr_has("bad.yaml")
        .stderr_lacks(MARKER);
    let stderr = out.stderr_text();
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("column"), "{stderr}");
}

#[test]
fn empty_yaml_exits_92() {
    let session = Dir::new();
    session.write("empty.yaml", "");
    session.write("comments-only.yaml", "# nothing here yet\n");
    for name in ["empty.yaml", "comments-only.yaml"] {
        session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT, name])
            .run()
            .expect_code(92)
            .stdout_is("")
            .stderr_has(name);
    }
    session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--input-type", "yaml"])
        .stdin("")
        .run()
        .expect_code(92)
        .stdout_is("");
}

#[test]
fn encrypt_without_recipients_exits_1_with_a_hint() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    session
        .ksec()
        .args(["encrypt", "s.yaml"])
        .run()
        .expect_code(1)
        .stdout_is("")
        .stderr_has("--age")
        .stderr_has("SOPS_AGE_RECIPIENTS");
}

#[test]
fn hints_only_suggest_commands_that_exist() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    session.write("s.enc.yaml", fs::read(testdata("secret.enc.yaml")).expect("testdata"));
    let failures: [&[&str]; 4] = [
        &["encrypt", "--age", SAMPLE_RECIPIENT, "s.enc.yaml"],
        &["decrypt", "s.yaml"],
        &["encrypt", "s.yaml"],
        &["encrypt", "-i", "--output", "x", "s.yaml"],
    ];
    for args in failures {
        let failed = session.ksec().args(args).run();
        assert!(!failed.success(), "`ksec {}` succeeded", args.join(" "));
        let stderr = failed.stderr_text();
        for suggestion in stderr.split("`ksec ").skip(1) {
            let subcommand: String = suggestion
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if subcommand.is_empty() || subcommand == "help" {
                continue;
            }
            let help = session.ksec().args([subcommand.as_str(), "--help"]).run();
            assert!(
                help.success(),
                "`ksec {}` suggests `ksec {subcommand}`, which does not exist:\n{stderr}",
                args.join(" ")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors never show a secret value

#[test]
fn a_tampered_value_exits_25_naming_the_file_and_key_but_not_the_secret() {
    let session = Dir::new();
    let encrypted = encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    session.write("t.enc.yaml", tamper_ciphertext(&encrypted, "password"));

    let stderr = assert_decrypt_fails_cleanly(&session, "t.enc.yaml", &sample_key(), 25);
    assert!(stderr.contains("t.enc.yaml"), "{stderr}");
    assert!(stderr.contains("stringData.password"), "{stderr}");
    assert!(stderr.starts_with("ksec: error: "), "{stderr}");
}

#[test]
fn a_value_whose_type_was_edited_exits_25_without_echoing_the_plaintext() {
    // The type is not authenticated, so the value decrypts and then fails to parse as an
    // int/float/bool/time: the error must not quote what it failed to parse.
    let session = Dir::new();
    let encrypted = encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    let password_line = encrypted
        .lines()
        .find(|l| l.trim_start().starts_with("password: ENC["))
        .expect("password line");
    for type_name in ["int", "float", "bool", "time"] {
        let edited_line = password_line.replace("type:str]", &format!("type:{type_name}]"));
        let name = format!("{type_name}.enc.yaml");
        session.write(&name, encrypted.replace(password_line, &edited_line));
        let stderr = assert_decrypt_fails_cleanly(&session, &name, &sample_key(), 25);
        assert!(stderr.contains("stringData.password"), "{stderr}");
    }
}

#[test]
fn an_edited_cleartext_value_exits_51_until_ignore_mac_is_passed() {
    let session = Dir::new();
    let encrypted = encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    let edited = encrypted.replace("namespace: prod", "namespace: staging");
    assert_ne!(edited, encrypted);
    session.write("edited.enc.yaml", &edited);

    let stderr = assert_decrypt_fails_cleanly(&session, "edited.enc.yaml", &sample_key(), 51);
    assert!(stderr.contains("edited.enc.yaml"), "{stderr}");
    assert!(stderr.to_lowercase().contains("mac"), "{stderr}");
    assert!(
        stderr.contains("ksec: hint: ") && stderr.contains("--ignore-mac"),
        "{stderr}"
    );

    ksec_with_key(&session)
        .args(["decrypt", "--ignore-mac", "edited.enc.yaml"])
        .run()
        .ok()
        .stdout_is(secret_with_marker().replace("namespace: prod", "namespace: staging"));
}

#[test]
fn the_wrong_identity_exits_128_saying_what_was_tried() {
    let session = Dir::new();
    encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");

    let stderr = assert_decrypt_fails_cleanly(&session, "s.enc.yaml", &vector_key(), 128);
    assert!(stderr.contains("s.enc.yaml"), "{stderr}");
    assert!(stderr.contains(SAMPLE_RECIPIENT), "the recipient is listed:\n{stderr}");
    // Where identities were looked for.
    assert!(stderr.contains("SOPS_AGE_KEY_FILE"), "{stderr}");
    assert!(stderr.contains(&vector_key().display().to_string()), "{stderr}");
    assert!(stderr.contains("SOPS_AGE_KEY:"), "{stderr}");
    assert!(stderr.contains("SOPS_AGE_KEY_CMD"), "{stderr}");
    let default_keys = session.home().join(".config/sops/age/keys.txt");
    assert!(stderr.contains(&default_keys.display().to_string()), "{stderr}");
    // The identity that was found shows by its public key, so a wrong key shows as one.
    assert!(
        stderr.contains(&format!("1 identity ({VECTOR_RECIPIENT})")),
        "the found identity's recipient is shown:\n{stderr}"
    );
    assert!(!stderr.contains("AGE-SECRET-KEY"), "{stderr}");
}

#[test]
fn the_wrong_identity_report_keeps_every_line_under_the_error() {
    // Each stderr line is either `ksec: …` or indented below it, so the report reads as one
    // message (and `grep '^ksec:'` finds every message).
    let session = Dir::new();
    encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    let out = session
        .ksec()
        .env("SOPS_AGE_KEY_FILE", vector_key())
        .args(["decrypt", "s.enc.yaml"])
        .run()
        .expect_code(128);
    let stderr = out.stderr_text();
    for line in stderr.lines() {
        assert!(
            line.starts_with("ksec: ") || line.starts_with(' '),
            "line {line:?} is neither `ksec: …` nor indented:\n{stderr}"
        );
    }
}

#[test]
fn plaintext_parse_errors_do_not_quote_the_input() {
    let session = Dir::new();
    let inputs = [
        ("a.yaml", format!("password: {MARKER}\n  user: x\n")),
        ("b.yaml", format!("password: \"{MARKER}\n")),
        ("c.yaml", format!("password: !!int {MARKER}\n")),
        ("d.yaml", format!("password: [{MARKER}\n")),
        ("e.yaml", format!("{MARKER}\n")),
        ("f.json", format!("{{\"password\": {MARKER}}}")),
        ("g.json", format!("{{\"password\": \"{MARKER}\"")),
        ("h.json", format!("[\"{MARKER}\"]")),
    ];
    for (name, contents) in inputs {
        session.write(name, contents);
        session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT, name])
            .run()
            .expect_code(2)
            .stdout_is("")
            .stderr_has(name)
            .stderr_lacks(MARKER);
    }
}

// ---------------------------------------------------------------------------------------------
// Where identities and recipients come from

/// Decrypts testdata/secret.enc.yaml with `configure` setting up the identity.
fn decrypts_sample_with(session: &Dir, configure: impl FnOnce(&mut TestCommand)) {
    let mut cmd = session.ksec();
    configure(&mut cmd);
    cmd.arg("decrypt")
        .arg(testdata("secret.enc.yaml"))
        .run()
        .ok()
        .stdout_is(fs::read(testdata("secret.yaml")).expect("testdata"))
        .stderr_is("");
}

#[test]
fn identity_from_sops_age_key_file() {
    let session = Dir::new();
    decrypts_sample_with(&session, |cmd| {
        cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    });
}

#[test]
fn identity_from_sops_age_key_literal() {
    let session = Dir::new();
    let key = fs::read_to_string(sample_key()).expect("sample key");
    decrypts_sample_with(&session, |cmd| {
        cmd.env("SOPS_AGE_KEY", key);
    });
}

#[test]
fn identity_from_sops_age_key_cmd() {
    let session = Dir::new();
    let command = format!("cat '{}'", sample_key().display());
    decrypts_sample_with(&session, |cmd| {
        cmd.env("SOPS_AGE_KEY_CMD", command);
    });
}

#[test]
fn identity_from_the_default_keys_txt() {
    let session = Dir::new();
    let keys = session.home().join(".config/sops/age/keys.txt");
    fs::create_dir_all(keys.parent().expect("parent")).expect("mkdir");
    fs::copy(sample_key(), &keys).expect("copy key");
    decrypts_sample_with(&session, |_| {});
}

#[test]
fn recipients_from_sops_age_recipients() {
    let session = Dir::new();
    session.write("s.yaml", secret_with_marker());
    let out = session
        .ksec()
        .env("SOPS_AGE_RECIPIENTS", SAMPLE_RECIPIENT)
        .args(["encrypt", "s.yaml"])
        .run()
        .ok();
    let encrypted = out.stdout_text();
    assert!(
        encrypted.contains(&format!("recipient: {SAMPLE_RECIPIENT}")),
        "{encrypted}"
    );
    ksec_with_key(&session)
        .arg("decrypt")
        .stdin(encrypted)
        .run()
        .ok()
        .stdout_is(secret_with_marker());
}

// ---------------------------------------------------------------------------------------------
// .sops.yaml

fn recipients_in(encrypted: &str) -> Vec<&str> {
    encrypted
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- recipient: "))
        .collect()
}

#[test]
fn sops_yaml_is_found_above_the_current_directory_and_the_first_matching_rule_wins() {
    let session = Dir::new();
    session.write(
        "proj/.sops.yaml",
        format!(
            "creation_rules:\n  \
             - path_regex: \\.password-only\\.yaml$\n    encrypted_regex: ^password$\n    age: {SAMPLE_RECIPIENT}\n  \
             - path_regex: \\.yaml$\n    age: {VECTOR_RECIPIENT}\n"
        ),
    );
    session.write(
        "proj/apps/payments/db.password-only.yaml",
        format!("password: {MARKER}\nuser: admin\n"),
    );
    session.write("proj/apps/payments/other.yaml", format!("password: {MARKER}\n"));

    let in_payments = |file: &str| {
        let mut cmd = session.ksec();
        cmd.current_dir(session.path("proj/apps/payments"))
            .args(["encrypt", file]);
        cmd.run().ok().stdout_text()
    };
    // Both rules match db.password-only.yaml; the first one applies, fields and keys.
    let encrypted = in_payments("db.password-only.yaml");
    assert_eq!(recipients_in(&encrypted), [SAMPLE_RECIPIENT], "{encrypted}");
    assert!(
        encrypted.contains("\nuser: admin\n"),
        "only `password` is encrypted:\n{encrypted}"
    );
    assert!(encrypted.contains("encrypted_regex: ^password$"), "{encrypted}");
    assert!(!encrypted.contains(MARKER), "{encrypted}");

    let encrypted = in_payments("other.yaml");
    assert_eq!(recipients_in(&encrypted), [VECTOR_RECIPIENT], "{encrypted}");
}

#[test]
fn sops_yaml_is_searched_from_the_current_directory_not_the_files() {
    let session = Dir::new();
    session.write(
        "here/.sops.yaml",
        format!("creation_rules:\n  - age: {SAMPLE_RECIPIENT}\n"),
    );
    session.write(
        "there/.sops.yaml",
        format!("creation_rules:\n  - age: {VECTOR_RECIPIENT}\n"),
    );
    session.write("there/s.yaml", secret_with_marker());
    let out = session
        .ksec()
        .current_dir(session.path("here"))
        .args(["encrypt", "../there/s.yaml"])
        .run()
        .ok();
    assert_eq!(recipients_in(&out.stdout_text()), [SAMPLE_RECIPIENT]);
}

#[test]
fn config_flag_and_sops_config_replace_the_search() {
    let session = Dir::new();
    session.write(".sops.yaml", format!("creation_rules:\n  - age: {SAMPLE_RECIPIENT}\n"));
    session.write(
        "elsewhere/team.yaml",
        format!("creation_rules:\n  - age: {VECTOR_RECIPIENT}\n"),
    );
    session.write("s.yaml", secret_with_marker());

    let before = session.ksec().args(["encrypt", "s.yaml"]).run().ok();
    assert_eq!(recipients_in(&before.stdout_text()), [SAMPLE_RECIPIENT]);

    let runs: [&[&str]; 2] = [
        &["--config", "elsewhere/team.yaml", "encrypt", "s.yaml"],
        &["encrypt", "--config", "elsewhere/team.yaml", "s.yaml"],
    ];
    for args in runs {
        let out = session.ksec().args(args).run().ok();
        assert_eq!(recipients_in(&out.stdout_text()), [VECTOR_RECIPIENT], "{args:?}");
    }
    let out = session
        .ksec()
        .env("SOPS_CONFIG", session.path("elsewhere/team.yaml"))
        .args(["encrypt", "s.yaml"])
        .run()
        .ok();
    assert_eq!(recipients_in(&out.stdout_text()), [VECTOR_RECIPIENT]);
}

#[test]
fn no_matching_creation_rule_exits_1() {
    let session = Dir::new();
    session.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: {SAMPLE_RECIPIENT}\n"),
    );
    session.write("plain.yaml", secret_with_marker());
    session
        .ksec()
        .args(["encrypt", "plain.yaml"])
        .run()
        .expect_code(1)
        .stdout_is("")
        .stderr_has("no creation rule")
        .stderr_has("plain.yaml")
        .stderr_has(".sops.yaml");
}

#[test]
fn filename_override_picks_the_creation_rule_for_stdin() {
    let session = Dir::new();
    session.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  \
             - path_regex: ^prod/\n    encrypted_regex: ^password$\n    age: {VECTOR_RECIPIENT}\n  \
             - age: {SAMPLE_RECIPIENT}\n"
        ),
    );
    let plain = format!("password: {MARKER}\nuser: admin\n");
    let encrypt_as = |name: &str| {
        let out = session
            .ksec()
            .args(["encrypt", "--filename-override", name])
            .stdin(plain.as_str())
            .run()
            .ok();
        out.stdout_text()
    };
    let prod = encrypt_as("prod/db.yaml");
    assert_eq!(recipients_in(&prod), [VECTOR_RECIPIENT], "{prod}");
    assert!(prod.contains("\nuser: admin\n") && !prod.contains(MARKER), "{prod}");
    let other = encrypt_as("dev/db.yaml");
    assert_eq!(recipients_in(&other), [SAMPLE_RECIPIENT], "{other}");
    assert!(
        !other.contains("user: admin"),
        "the catch-all rule encrypts everything:\n{other}"
    );
}

#[test]
fn filename_override_names_the_format_of_stdin() {
    let session = Dir::new();
    // Valid YAML and valid JSON alike: the name decides, not the content.
    let plain = format!("{{\"password\": \"{MARKER}\"}}\n");
    let encrypt_as = |name: &str| {
        let out = session
            .ksec()
            .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--filename-override", name])
            .stdin(plain.as_str())
            .run()
            .ok();
        out.stdout_text()
    };
    let as_json = encrypt_as("s.json");
    assert!(as_json.starts_with("{\n\t\"password\": \"ENC[AES256_GCM,"), "{as_json}");
    let as_yaml = encrypt_as("s.yaml");
    assert!(
        as_yaml.contains("password: ENC[AES256_GCM,") && as_yaml.contains("\nsops:\n"),
        "{as_yaml}"
    );
    // A name sops does not know leaves it to the content, which is JSON here (sops would
    // encrypt the object whole, as a binary file).
    let unknown_name = encrypt_as("s.bin");
    assert!(
        unknown_name.starts_with("{\n\t\"password\": \"ENC[AES256_GCM,"),
        "{unknown_name}"
    );

    // Decryption takes the format from the override too.
    ksec_with_key(&session)
        .args(["decrypt", "--filename-override", "s.json"])
        .stdin(as_json.as_str())
        .run()
        .ok()
        .stdout_is(format!("{{\n\t\"password\": \"{MARKER}\"\n}}\n"));
    ksec_with_key(&session)
        .args(["decrypt", "--filename-override", "s.yaml"])
        .stdin(as_yaml.as_str())
        .run()
        .ok()
        .stdout_is(format!("password: {MARKER}\n"));
}

/// A project whose `.sops.yaml` splits the data key between the sample and vector identities.
fn two_group_project(session: &Dir) {
    session.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    \
             shamir_threshold: 2\n    key_groups:\n      - age:\n          - {SAMPLE_RECIPIENT}\n      \
             - age:\n          - {VECTOR_RECIPIENT}\n"
        ),
    );
    session.write("s.yaml", secret_with_marker());
}

#[test]
fn key_groups_need_an_identity_from_each_group() {
    let session = Dir::new();
    two_group_project(&session);
    session
        .ksec()
        .args(["encrypt", "--output", "s.enc.yaml", "s.yaml"])
        .run()
        .ok();
    let encrypted = session.read_string("s.enc.yaml");
    let metadata = encrypted.split("\nsops:\n").nth(1).expect("a sops block");
    let fields: Vec<&str> = metadata.lines().map(str::trim).collect();
    assert!(fields.contains(&"shamir_threshold: 2"), "{encrypted}");
    assert!(fields.contains(&"key_groups:"), "{encrypted}");
    assert_eq!(recipients_in(&encrypted), [SAMPLE_RECIPIENT, VECTOR_RECIPIENT]);

    // Both identities (from two sources): decrypts.
    let vector_identity = fs::read_to_string(vector_key()).expect("vector key");
    ksec_with_key(&session)
        .env("SOPS_AGE_KEY", vector_identity)
        .args(["decrypt", "s.enc.yaml"])
        .run()
        .ok()
        .stdout_is(secret_with_marker());
    // One of them: the threshold is not reached.
    for key in [sample_key(), vector_key()] {
        let stderr = assert_decrypt_fails_cleanly(&session, "s.enc.yaml", &key, 128);
        assert!(
            stderr.contains(SAMPLE_RECIPIENT) && stderr.contains(VECTOR_RECIPIENT),
            "{stderr}"
        );
    }
}

#[test]
fn age_on_the_command_line_replaces_the_configs_keys() {
    let session = Dir::new();
    two_group_project(&session);
    let out = session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "s.yaml"])
        .run()
        .ok();
    let encrypted = out.stdout_text();
    assert_eq!(recipients_in(&encrypted), [SAMPLE_RECIPIENT], "{encrypted}");
    assert!(!encrypted.contains("key_groups"), "{encrypted}");
    // The rule's other fields still apply.
    assert!(
        encrypted.contains("encrypted_regex: ^(data|stringData)$"),
        "{encrypted}"
    );
    ksec_with_key(&session)
        .arg("decrypt")
        .stdin(encrypted)
        .run()
        .ok()
        .stdout_is(secret_with_marker());
}

// ---------------------------------------------------------------------------------------------
// Output types

#[test]
fn output_type_json_from_yaml() {
    let session = Dir::new();
    encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    let expected = format!(
        "{{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Secret\",\n\t\"metadata\": {{\n\t\t\"name\": \"db\",\n\
         \t\t\"namespace\": \"prod\"\n\t}},\n\t\"type\": \"Opaque\",\n\t\"stringData\": {{\n\
         \t\t\"username\": \"admin\",\n\t\t\"password\": \"{MARKER}\"\n\t}},\n\t\"data\": {{\n\
         \t\t\"token\": \"{MARKER_BASE64}\"\n\t}}\n}}\n"
    );
    ksec_with_key(&session)
        .args(["decrypt", "--output-type", "json", "s.enc.yaml"])
        .run()
        .ok()
        .stdout_is(expected);
}

#[test]
fn output_type_yaml_from_json() {
    let session = Dir::new();
    let out = session
        .ksec()
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--output-type", "yaml"])
        .arg(testdata("app-config.json"))
        .run()
        .ok();
    let encrypted = out.stdout_text();
    assert!(encrypted.starts_with("service: ENC[AES256_GCM,"), "{encrypted}");
    assert!(
        encrypted.contains("\napi_key_unencrypted: public-value\n"),
        "{encrypted}"
    );
    assert!(encrypted.contains("\nsops:\n"), "{encrypted}");
    session.write("app.enc.yaml", encrypted);
    ksec_with_key(&session)
        .args(["decrypt", "app.enc.yaml"])
        .run()
        .ok()
        .stdout_is(
            "service: payments\nreplicas: 3\ndatabase:\n    user: payments\n    password: hunter2\n    \
             pool: 10.5\n    tls: true\nfeatures:\n    - a\n    - b\napi_key_unencrypted: public-value\n",
        );
}

// ---------------------------------------------------------------------------------------------
// Pipes

#[test]
fn decrypt_into_a_pipe_closed_early_exits_0_quietly() {
    // ksec decrypt big.enc.yaml | head -c 10
    let session = Dir::new();
    let big: String = (0..4000)
        .map(|i| format!("key{i:04}: value-{i}-{}\n", "x".repeat(40)))
        .collect();
    session.write("big.yaml", &big);
    session
        .ksec()
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--output",
            "big.enc.yaml",
            "big.yaml",
        ])
        .run()
        .ok();

    let (decrypt, head) = pipe(
        ksec_with_key(&session).args(["decrypt", "big.enc.yaml"]),
        session.command("head").args(["-c", "10"]),
    );
    assert_eq!(head.stdout, &big.as_bytes()[..10]);
    assert_eq!(decrypt.code, 0, "stderr: {}", decrypt.stderr_text());
    assert_eq!(decrypt.stderr_text(), "");
}

// ---------------------------------------------------------------------------------------------
// Version, help, completions

#[test]
fn version_is_printed() {
    Dir::new()
        .ksec()
        .arg("--version")
        .run()
        .ok()
        .stdout_is(format!("ksec {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_for_every_command_shows_an_example_of_it() {
    use clap::CommandFactory;
    // Every visible command, nested ones (`groups add`) included, as the words a user types.
    fn commands(command: &clap::Command, path: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
        for sub in command
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        {
            path.push(sub.get_name().to_string());
            found.push(path.clone());
            commands(sub, path, found);
            path.pop();
        }
    }
    let mut found = Vec::new();
    commands(&ksec::cli::Cli::command(), &mut Vec::new(), &mut found);
    assert!(found.len() >= 18, "fewer commands than ksec has: {found:?}");
    let session = Dir::new();
    for path in found {
        let words = path.join(" ");
        session
            .ksec()
            .arg("help")
            .args(&path)
            .run()
            .ok()
            .stdout_has("Example")
            .stdout_has(format!("ksec {words} "));
    }
}

#[test]
fn completion_is_listed_in_help_and_completions_still_works() {
    let session = Dir::new();
    let help = session.ksec().arg("--help").run().ok().stdout_text();
    assert!(
        help.lines().any(|l| l.trim_start().starts_with("completion ")),
        "`completion` is listed:\n{help}"
    );
    // sops's name, and ksec's older one, print the same script; a closed pipe is no error.
    let script = session.ksec().args(["completion", "bash"]).run().ok().stdout;
    session
        .ksec()
        .args(["completions", "bash"])
        .run()
        .ok()
        .stdout_is(script.clone())
        .stderr_is("");
    let text = String::from_utf8(script).expect("a script is text");
    // Shells complete format names after --input-type and --output-type, not file names.
    let formats = "--input-type)\n                    COMPREPLY=($(compgen -W \"yaml json dotenv ini binary\"";
    assert!(text.contains(formats), "{text}");
    // A reader that is gone before ksec writes: the write fails with a broken pipe.
    let (ksec, _) = pipe(session.ksec().args(["completion", "zsh"]), &mut session.command("true"));
    assert!(ksec.success() && ksec.stderr.is_empty(), "{}", ksec.stderr_text());
}

// ---------------------------------------------------------------------------------------------
// What an encrypted Secret looks like

#[test]
fn an_encrypted_secret_keeps_its_metadata_readable_and_hides_every_value() {
    let session = Dir::new();
    let encrypted = encrypt_secret(&session, "s.yaml", &secret_with_marker(), "s.enc.yaml");
    for readable in [
        "apiVersion: v1\n",
        "kind: Secret\n",
        "metadata:\n  name: db\n  namespace: prod\n",
        "type: Opaque\n",
        "stringData:\n  username: ENC[AES256_GCM,",
        "\n  password: ENC[AES256_GCM,",
        "data:\n  token: ENC[AES256_GCM,",
    ] {
        assert!(encrypted.contains(readable), "missing {readable:?}:\n{encrypted}");
    }
    assert!(!encrypted.contains(MARKER), "the password leaked:\n{encrypted}");
    assert!(!encrypted.contains(MARKER_BASE64), "the token leaked:\n{encrypted}");
    assert!(!encrypted.contains("admin"), "the username leaked:\n{encrypted}");
}

/// Asserts that no private age key shows anywhere in a run's output.
fn assert_no_private_key(run: &common::Run) {
    for text in [run.stdout_text(), run.stderr_text()] {
        assert!(!text.to_uppercase().contains("AGE-SECRET-KEY"), "{text}");
    }
}

#[test]
fn doctor_with_the_right_key_exits_0_naming_the_identity_and_the_recipient_it_opens() {
    let session = Dir::new();
    session.copy_testdata("secret.enc.yaml", "secret.enc.yaml");
    let run = ksec_with_key(&session).args(["doctor", "secret.enc.yaml"]).run().ok();
    let out = run.stdout_text();
    assert!(
        out.contains(&format!(
            "SOPS_AGE_KEY_FILE={}: 1 identity ({SAMPLE_RECIPIENT})",
            sample_key().display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("age {SAMPLE_RECIPIENT}: OK, this machine can open it")),
        "{out}"
    );
    assert!(out.contains("group 0: opens here"), "{out}");
    assert!(out.contains("result: secret.enc.yaml can be opened here"), "{out}");
    assert!(out.contains("kubectl: "), "the kubectl ksec would run is named:\n{out}");
    assert!(out.contains("gpg: "), "{out}");
    assert_no_private_key(&run);
}

#[test]
fn doctor_with_a_wrong_key_exits_128_naming_the_recipients_no_identity_matches() {
    let session = Dir::new();
    session.copy_testdata("secret.enc.yaml", "secret.enc.yaml");
    let run = session
        .ksec()
        .env("SOPS_AGE_KEY_FILE", vector_key())
        .args(["doctor", "secret.enc.yaml"])
        .run()
        .expect_code(128);
    let out = run.stdout_text();
    assert!(out.contains(&format!("1 identity ({VECTOR_RECIPIENT})")), "{out}");
    assert!(
        out.contains(&format!(
            "age {SAMPLE_RECIPIENT}: cannot open: the one age identity found does not match this recipient"
        )),
        "{out}"
    );
    assert!(out.contains("group 0: does not open here"), "{out}");
    assert!(
        out.contains("result: secret.enc.yaml cannot be opened here: 0 of 1 key groups open, 1 needed"),
        "{out}"
    );
    assert_no_private_key(&run);
}

#[test]
fn doctor_without_a_file_lists_every_place_looked_and_exits_35_when_nothing_is_found() {
    let session = Dir::new();
    let run = session.ksec().arg("doctor").run().expect_code(35);
    let out = run.stdout_text();
    for place in [
        "SOPS_AGE_KEY: not set",
        "SOPS_AGE_KEY_FILE: not set",
        "SOPS_AGE_KEY_CMD: not set",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE: not set",
        "SOPS_PGP_KEY_FILE: not set",
        "Vault: VAULT_ADDR not set",
        "no token",
    ] {
        assert!(out.contains(place), "{place:?} missing from:\n{out}");
    }
    let default_keys = session.home().join(".config/sops/age/keys.txt");
    assert!(
        out.contains(&format!("default key file {}: not found", default_keys.display())),
        "{out}"
    );
    assert!(out.contains("result: no identity found"), "{out}");

    let run = ksec_with_key(&session)
        .arg("doctor")
        .env("VAULT_TOKEN", MARKER)
        .run()
        .ok();
    let out = run.stdout_text();
    assert!(out.contains(SAMPLE_RECIPIENT), "{out}");
    assert!(out.contains("token from VAULT_TOKEN"), "{out}");
    assert!(!out.contains(MARKER), "the Vault token is never shown:\n{out}");
    assert_no_private_key(&run);
}

#[test]
fn doctor_names_the_sops_yaml_and_the_creation_rule_that_applies_to_the_file() {
    let session = Dir::new();
    session.copy_testdata("secret.enc.yaml", "secret.enc.yaml");
    session.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.txt$\n    age: {VECTOR_RECIPIENT}\n  \
             - path_regex: \\.enc\\.yaml$\n    age: {SAMPLE_RECIPIENT}\n"
        ),
    );
    let run = ksec_with_key(&session).args(["doctor", "secret.enc.yaml"]).run().ok();
    let out = run.stdout_text();
    assert!(
        out.contains(&format!(".sops.yaml: {}", session.path(".sops.yaml").display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "creation rule for secret.enc.yaml: creation_rules[1] (path_regex \\.enc\\.yaml$); group 0: age {SAMPLE_RECIPIENT}"
        )),
        "{out}"
    );
}

#[test]
fn the_no_key_worked_report_points_to_ksec_doctor() {
    let session = Dir::new();
    session.copy_testdata("secret.enc.yaml", "secret.enc.yaml");
    let run = session
        .ksec()
        .env("SOPS_AGE_KEY_FILE", vector_key())
        .args(["decrypt", "secret.enc.yaml"])
        .run()
        .expect_code(128);
    let stderr = run.stderr_text();
    assert!(
        stderr.contains("ksec: hint: `ksec doctor secret.enc.yaml` shows every place ksec looked for keys"),
        "{stderr}"
    );
}
