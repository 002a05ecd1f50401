//! Re-encrypting over an existing encrypted file keeps what did not change: the data key,
//! every unchanged value's ciphertext, and (when nothing changed) `lastmodified` and the MAC.
//!
//! Checked on every sample in `testdata/`, for files written by ksec and by the real sops:
//! `ksec decrypt` then `ksec encrypt --output SAME` gives the file back byte for byte, and a
//! one-value change touches exactly that value's line, `lastmodified` and `mac`.

mod common;

use common::*;

/// Samples with the rule Kubernetes users write, and the value each test changes.
const SAMPLES: [(&str, &str, &str); 4] = [
    ("secret.yaml", "username: payments", "username: billing"),
    (
        "kubectl-secret.yaml",
        "password: czNjcjN0LXBAc3M=",
        "password: b3RoZXI=",
    ),
    ("stream.yaml", "tls.key: a2V5", "tls.key: a2V6"),
    (
        "kubectl-secret.json",
        "\"password\": \"czNjcjN0LXBAc3M=\"",
        "\"password\": \"b3RoZXI=\"",
    ),
];

const RULE: &str = "^(data|stringData)$";

/// `ksec ARGS` with the sample identity; it must succeed.
fn ksec(lab: &Dir, args: &[&str]) -> Run {
    lab.ksec().env("SOPS_AGE_KEY_FILE", sample_key()).args(args).run().ok()
}

/// The sample encrypted by `writer` (ksec or the real sops) into `name`.
fn encrypted_by(lab: &Dir, writer: Writer, sample: &str, name: &str) {
    let input = testdata(sample);
    let input = input.to_str().expect("UTF-8 path");
    let args = ["encrypt", "--age", SAMPLE_RECIPIENT, "--encrypted-regex", RULE, input];
    let out = match writer {
        Writer::Ksec => ksec(lab, &args),
        Writer::Sops => lab.sops().args(args).run().ok(),
    };
    lab.write(name, out.stdout);
}

/// The real sops decrypts `name`, MAC checked: its plaintext (`None` without sops, outside
/// CI).
fn sops_decrypts(lab: &Dir, name: &str) -> Option<String> {
    sops()?;
    let out = lab
        .sops()
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args(["decrypt", name])
        .run()
        .ok();
    Some(out.stdout_text())
}

/// `ksec encrypt --output ENCRYPTED PLAIN` with the same recipients and rule.
fn encrypt_over(lab: &Dir, plain: &str, encrypted: &str) {
    ksec(
        lab,
        &[
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--encrypted-regex",
            RULE,
            "--output",
            encrypted,
            plain,
        ],
    );
}

#[derive(Clone, Copy)]
enum Writer {
    Ksec,
    Sops,
}

fn extension(sample: &str) -> &'static str {
    if sample.ends_with(".json") { "json" } else { "yaml" }
}

/// Lines that differ between two texts of the same length in lines (none are added or removed
/// by these edits), by their text.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "no line added or removed"
    );
    before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(_, b)| {
            b.trim_start()
                .split([':', '"'])
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn decrypt_then_encrypt_over_the_file_gives_it_back_byte_for_byte() {
    let mut writers = vec![("ksec", Writer::Ksec)];
    if sops().is_some() {
        writers.push(("sops", Writer::Sops));
    }
    for (writer_name, writer) in writers {
        for (sample, _, _) in SAMPLES {
            let lab = Dir::new();
            let ext = extension(sample);
            let encrypted = format!("s.enc.{ext}");
            let plain = format!("plain.{ext}");
            encrypted_by(&lab, writer, sample, &encrypted);
            let before = std::fs::read(lab.path(&encrypted)).expect("read");
            ksec(&lab, &["decrypt", "--output", &plain, &encrypted]);
            encrypt_over(&lab, &plain, &encrypted);
            let after = std::fs::read(lab.path(&encrypted)).expect("read");
            assert!(
                before == after,
                "{sample} written by {writer_name}: re-encrypting its unchanged decryption changed it:\n--- before\n{}\n--- after\n{}",
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&after)
            );
        }
    }
}

#[test]
fn one_changed_value_changes_its_line_lastmodified_and_mac_only() {
    let mut writers = vec![("ksec", Writer::Ksec)];
    if sops().is_some() {
        writers.push(("sops", Writer::Sops));
    }
    for (writer_name, writer) in writers {
        for (sample, from, to) in SAMPLES {
            let lab = Dir::new();
            let ext = extension(sample);
            let encrypted = format!("s.enc.{ext}");
            let plain = format!("plain.{ext}");
            encrypted_by(&lab, writer, sample, &encrypted);
            let before = std::fs::read_to_string(lab.path(&encrypted)).expect("read");
            ksec(&lab, &["decrypt", "--output", &plain, &encrypted]);
            let text = std::fs::read_to_string(lab.path(&plain)).expect("read");
            assert_eq!(
                text.matches(from).count(),
                1,
                "{sample}: the decryption holds {from:?} once:\n{text}"
            );
            std::fs::write(lab.path(&plain), text.replace(from, to)).expect("write");
            // lastmodified has one-second resolution.
            std::thread::sleep(std::time::Duration::from_millis(1100));
            encrypt_over(&lab, &plain, &encrypted);
            let after = std::fs::read_to_string(lab.path(&encrypted)).expect("read");
            let key = to.trim_start_matches('"').split(['"', ':']).next().expect("key");
            let mut changed = changed_lines(&before, &after);
            changed.sort();
            // A stream repeats the sops block in every document.
            let blocks = before.matches("lastmodified").count();
            let mut expected = vec![key.to_string()];
            expected.extend(std::iter::repeat_n(["lastmodified".to_string(), "mac".to_string()], blocks).flatten());
            expected.sort();
            assert_eq!(changed, expected, "{sample} written by {writer_name}:\n{after}");
            if let Some(decrypted) = sops_decrypts(&lab, &encrypted) {
                assert!(decrypted.contains(to.trim()), "sops decrypts the change: {decrypted}");
            }
        }
    }
}

#[test]
fn encrypt_in_place_reuses_the_version_committed_to_git() {
    let Some(git) = tool_on_path("git") else { return };
    let lab = Dir::new();
    encrypted_by(&lab, Writer::Ksec, "secret.yaml", "s.enc.yaml");
    let committed = std::fs::read(lab.path("s.enc.yaml")).expect("read");
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "i"],
    ] {
        lab.command(&git).args(args).run().ok();
    }
    // The usual round: decrypt in place, change nothing (or one value), encrypt in place.
    ksec(&lab, &["decrypt", "-i", "s.enc.yaml"]);
    let encrypt_in_place = [
        "encrypt",
        "-i",
        "--age",
        SAMPLE_RECIPIENT,
        "--encrypted-regex",
        RULE,
        "s.enc.yaml",
    ];
    ksec(&lab, &encrypt_in_place);
    assert!(
        std::fs::read(lab.path("s.enc.yaml")).expect("read") == committed,
        "unchanged: the committed bytes"
    );
    let unchanged = sops_decrypts(&lab, "s.enc.yaml");

    ksec(&lab, &["decrypt", "-i", "s.enc.yaml"]);
    let plain = std::fs::read_to_string(lab.path("s.enc.yaml")).expect("read");
    std::fs::write(
        lab.path("s.enc.yaml"),
        plain.replace("username: payments", "username: billing"),
    )
    .expect("write");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ksec(&lab, &encrypt_in_place);
    let after = std::fs::read_to_string(lab.path("s.enc.yaml")).expect("read");
    let mut changed = changed_lines(&String::from_utf8(committed).expect("UTF-8"), &after);
    changed.sort();
    assert_eq!(changed, ["lastmodified", "mac", "username"]);
    if let (Some(before), Some(after)) = (unchanged, sops_decrypts(&lab, "s.enc.yaml")) {
        assert_eq!(after, before.replace("username: payments", "username: billing"));
    }
}

#[test]
fn a_previous_version_that_fails_its_mac_check_is_encrypted_afresh() {
    let lab = Dir::new();
    encrypted_by(&lab, Writer::Ksec, "secret.yaml", "s.enc.yaml");
    // Someone edits a value in clear without re-encrypting: the stored MAC no longer matches.
    let encrypted = std::fs::read_to_string(lab.path("s.enc.yaml")).expect("read");
    let tampered = encrypted.replace("namespace: payments", "namespace: billing");
    assert_ne!(tampered, encrypted);
    std::fs::write(lab.path("s.enc.yaml"), &tampered).expect("write");
    ksec(
        &lab,
        &["decrypt", "--ignore-mac", "--output", "plain.yaml", "s.enc.yaml"],
    );

    // Encrypting that same plaintext over it must not keep the stale MAC as if nothing changed.
    encrypt_over(&lab, "plain.yaml", "s.enc.yaml");
    let after = std::fs::read_to_string(lab.path("s.enc.yaml")).expect("read");
    let mac_line = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("mac:"))
            .map(str::to_string)
    };
    assert_ne!(mac_line(&after), mac_line(&tampered), "a new MAC:\n{after}");
    ksec(&lab, &["decrypt", "s.enc.yaml"]);
    if sops().is_some() {
        lab.sops()
            .env("SOPS_AGE_KEY_FILE", sample_key())
            .args(["decrypt", "s.enc.yaml"])
            .run()
            .ok();
    }
}
