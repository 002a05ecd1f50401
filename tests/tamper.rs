//! A file changed after it was encrypted is refused by every command that reads it, with
//! sops's exit code (51 for a MAC mismatch, 25 for a value that does not decrypt), naming the
//! file, and nothing is written, run or shown in clear. The same tamperings go through the
//! real sops for the commands it has: it agrees everywhere except `updatekeys` and
//! `groups add|delete`, which sops runs on a tampered file (and so gives it new key stanzas
//! over values its MAC does not vouch for); ksec refuses those too unless `--ignore-mac`.

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use common::{Dir, SAMPLE_RECIPIENT, TestCommand, sample_key};

const PLAINTEXT: &str = "replicas_unencrypted: 3\npassword: hunter2\ntoken: abc\n";
const SECRET: &str = "hunter2";
/// A second recipient, for commands that add keys.
const OTHER_RECIPIENT: &str = "age1wajhr60q4p8mnt40dl53r704pcxtfgxp3ms740wargw6k9cuk3tqxl3pap";

/// Ways an attacker with write access to the repository changes an encrypted file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tampering {
    UnencryptedValue,
    EncryptedValue,
    SwappedCiphertexts,
    DeletedKey,
    AddedKey,
    LastModified,
    RemovedMac,
}

impl Tampering {
    const ALL: [Tampering; 7] = [
        Tampering::UnencryptedValue,
        Tampering::EncryptedValue,
        Tampering::SwappedCiphertexts,
        Tampering::DeletedKey,
        Tampering::AddedKey,
        Tampering::LastModified,
        Tampering::RemovedMac,
    ];

    /// sops's exit code for opening the file: a value that fails GCM is a decryption error
    /// (25), everything else a MAC failure (51).
    fn exit_code(self) -> i32 {
        match self {
            Tampering::EncryptedValue | Tampering::SwappedCiphertexts => 25,
            _ => 51,
        }
    }

    fn apply(self, encrypted: &str) -> String {
        let line_of = |key: &str| {
            encrypted
                .lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_else(|| panic!("no {key} line in:\n{encrypted}"))
                .to_string()
        };
        let changed = match self {
            Tampering::UnencryptedValue => {
                encrypted.replacen("replicas_unencrypted: 3\n", "replicas_unencrypted: 300\n", 1)
            }
            Tampering::EncryptedValue => {
                let line = line_of("password: ENC[AES256_GCM,data:");
                let at = "password: ENC[AES256_GCM,data:".len();
                let flipped = if &line[at..at + 1] == "A" { "B" } else { "A" };
                let tampered = format!("{}{flipped}{}", &line[..at], &line[at + 1..]);
                encrypted.replacen(&line, &tampered, 1)
            }
            Tampering::SwappedCiphertexts => {
                let (password, token) = (line_of("password: "), line_of("token: "));
                let swapped_password = format!("password: {}", &token["token: ".len()..]);
                let swapped_token = format!("token: {}", &password["password: ".len()..]);
                encrypted
                    .replacen(&password, "\u{0}", 1)
                    .replacen(&token, &swapped_token, 1)
                    .replacen('\u{0}', &swapped_password, 1)
            }
            Tampering::DeletedKey => encrypted.replacen(&format!("{}\n", line_of("token: ")), "", 1),
            Tampering::AddedKey => encrypted.replacen(
                "replicas_unencrypted: 3\n",
                "replicas_unencrypted: 3\nextra_unencrypted: x\n",
                1,
            ),
            Tampering::LastModified => {
                let line = line_of("    lastmodified: ");
                // One second later: still a valid time, so only the MAC can tell.
                let digit_at = line.rfind(|c: char| c.is_ascii_digit()).expect("a time");
                let digit = line.as_bytes()[digit_at];
                let next = if digit == b'9' { '0' } else { (digit + 1) as char };
                let tampered = format!("{}{next}{}", &line[..digit_at], &line[digit_at + 1..]);
                encrypted.replacen(&line, &tampered, 1)
            }
            Tampering::RemovedMac => encrypted.replacen(&format!("{}\n", line_of("    mac: ")), "", 1),
        };
        assert_ne!(changed, encrypted, "{self:?} changed nothing");
        changed
    }
}

/// A scratch directory with a fresh encrypted file, `clean.yaml` (one key group), and a copy
/// with two, `two-groups.yaml`.
fn lab() -> Dir {
    let lab = Dir::new();
    lab.write("plain.yaml", PLAINTEXT);
    let out = ksec(&lab)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT])
        .arg(lab.path("plain.yaml"))
        .run()
        .ok();
    lab.write("clean.yaml", &out.stdout);
    lab.write("two-groups.yaml", &out.stdout);
    // Both groups hold the sample identity, so it opens the 2-of-2 split.
    ksec(&lab)
        .args(["groups", "add", "-i", "--age", SAMPLE_RECIPIENT])
        .arg("-f")
        .arg(lab.path("two-groups.yaml"))
        .run()
        .ok();
    lab
}

fn clean(lab: &Dir, two_groups: bool) -> String {
    lab.read_string(if two_groups { "two-groups.yaml" } else { "clean.yaml" })
}

/// ksec with the sample identity.
fn ksec(lab: &Dir) -> TestCommand {
    let mut cmd = lab.ksec();
    cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    cmd
}

fn sops(lab: &Dir) -> TestCommand {
    let mut cmd = lab.sops();
    cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    cmd
}

/// A script that leaves `marker` behind when it runs: a command that must never start.
fn marker_script(lab: &Dir) -> PathBuf {
    lab.script(
        "leave-marker.sh",
        &format!("touch '{}'\ncat >/dev/null\n", lab.path("marker").display()),
    )
}

/// A `.sops.yaml` whose rule adds the other recipient (so `updatekeys` has work to do).
fn config_adding_a_recipient(lab: &Dir) {
    lab.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {SAMPLE_RECIPIENT},{OTHER_RECIPIENT}\n"),
    );
}

/// A command that reads an encrypted file, as a user types it.
struct Case {
    name: &'static str,
    /// Built on a two-group file (`groups delete` needs a group to spare).
    two_groups: bool,
    args: fn(&Dir, &Path) -> Vec<OsString>,
    /// Checks beyond the exit code and the untouched file.
    expect: Expect,
    /// What the real sops does with the same command line.
    sops: Sops,
}

#[derive(Clone, Copy, PartialEq)]
enum Sops {
    /// sops refuses it with the same exit code.
    Refuses,
    /// sops takes the tampered file and exits 0: ksec is stricter here.
    Accepts,
    /// sops has no such command (or ksec's differs), so there is nothing to compare.
    NotCompared,
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Refused with the tampering's exit code.
    Refused,
    /// The Git textconv driver: exit 0 with the file shown as stored and a warning.
    ShownAsStored,
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn with_file(mut args: Vec<OsString>, file: &Path) -> Vec<OsString> {
    args.push(file.into());
    args
}

fn ksec_cases() -> Vec<Case> {
    vec![
        Case {
            name: "decrypt",
            two_groups: false,
            args: |_, f| with_file(os(&["decrypt"]), f),
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "decrypt --extract",
            two_groups: false,
            args: |_, f| with_file(os(&["decrypt", "--extract", r#"["password"]"#]), f),
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "decrypt -i",
            two_groups: false,
            args: |_, f| with_file(os(&["decrypt", "-i"]), f),
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "decrypt -R",
            two_groups: false,
            args: |_, f| with_file(os(&["decrypt", "-R"]), f.parent().expect("a directory")),
            expect: Expect::Refused,
            sops: Sops::NotCompared,
        },
        Case {
            name: "apply",
            two_groups: false,
            args: |_, f| with_file(os(&["apply", "-f"]), f),
            expect: Expect::Refused,
            sops: Sops::NotCompared,
        },
        Case {
            name: "exec-env",
            two_groups: false,
            args: |lab, f| {
                let mut args = with_file(os(&["exec-env"]), f);
                args.push(marker_script(lab).into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "exec-file",
            two_groups: false,
            args: |lab, f| {
                let mut args = with_file(os(&["exec-file", "--no-fifo"]), f);
                args.push(marker_script(lab).into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "edit",
            two_groups: false,
            args: |_, f| with_file(os(&["edit"]), f),
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "set",
            two_groups: false,
            args: |_, f| {
                let mut args = with_file(os(&["set"]), f);
                args.extend(os(&[r#"["password"]"#, r#""changed""#]));
                args
            },
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "unset",
            two_groups: false,
            args: |_, f| {
                let mut args = with_file(os(&["unset"]), f);
                args.push(r#"["password"]"#.into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "rotate -i",
            two_groups: false,
            args: |_, f| with_file(os(&["rotate", "-i"]), f),
            expect: Expect::Refused,
            sops: Sops::Refuses,
        },
        Case {
            name: "updatekeys -y",
            two_groups: false,
            args: |lab, f| {
                config_adding_a_recipient(lab);
                with_file(os(&["updatekeys", "-y"]), f)
            },
            expect: Expect::Refused,
            sops: Sops::Accepts,
        },
        Case {
            name: "groups add -i",
            two_groups: false,
            args: |_, f| {
                let mut args = os(&["groups", "add", "-i", "--age", OTHER_RECIPIENT, "--file"]);
                args.push(f.into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::Accepts,
        },
        Case {
            name: "groups delete -i",
            two_groups: true,
            args: |_, f| {
                let mut args = os(&["groups", "delete", "-i", "--shamir-secret-sharing-threshold", "1", "-f"]);
                args.push(f.into());
                args.push("1".into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::Accepts,
        },
        Case {
            name: "merge (ours tampered)",
            two_groups: false,
            args: |lab, f| {
                fs::copy(lab.path("clean.yaml"), lab.path("base.yaml")).expect("copy base");
                fs::copy(lab.path("clean.yaml"), lab.path("theirs.yaml")).expect("copy theirs");
                let mut args = os(&["merge"]);
                args.push(lab.path("base.yaml").into());
                args.push(f.into());
                args.push(lab.path("theirs.yaml").into());
                args
            },
            expect: Expect::Refused,
            sops: Sops::NotCompared,
        },
        Case {
            name: "diff (textconv)",
            two_groups: false,
            args: |_, f| with_file(os(&["diff"]), f),
            expect: Expect::ShownAsStored,
            sops: Sops::NotCompared,
        },
    ]
}

/// One row of the table the test prints: command, tampering, ksec's exit code, sops's.
struct Row {
    command: &'static str,
    tampering: Tampering,
    ksec: i32,
    sops: Option<i32>,
}

#[test]
fn every_command_refuses_every_tampering_with_sops_exit_code_and_writes_nothing() {
    let lab = lab();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for case in ksec_cases() {
        for tampering in Tampering::ALL {
            let dir = lab.path("case");
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("case dir");
            let file = dir.join("secret.enc.yaml");
            let tampered = tampering.apply(&clean(&lab, case.two_groups));
            fs::write(&file, &tampered).expect("write tampered");
            let _ = fs::remove_file(lab.path("marker"));
            let _ = fs::remove_file(lab.path(".sops.yaml"));
            let args = (case.args)(&lab, &file);
            let out = ksec(&lab)
                .args(&args)
                .env("EDITOR", marker_script(&lab))
                .env("KSEC_KUBECTL", marker_script(&lab))
                .run();
            let (stdout, stderr) = (out.stdout_text(), out.stderr_text());
            let what = format!("{} on {tampering:?}", case.name);
            let expected = match case.expect {
                Expect::Refused => tampering.exit_code(),
                Expect::ShownAsStored => 0,
            };
            if out.code != expected {
                failures.push(format!("{what}: exit {} (expected {expected}): {stderr}", out.exit()));
            }
            if fs::read_to_string(&file).expect("file still there") != tampered {
                failures.push(format!("{what}: the file was written"));
            }
            if lab.path("marker").exists() {
                failures.push(format!("{what}: a command or editor ran"));
            }
            if stdout.contains(SECRET) || stderr.contains(SECRET) {
                failures.push(format!("{what}: a decrypted value was shown"));
            }
            if !stderr.contains("secret.enc.yaml") {
                failures.push(format!("{what}: the message does not name the file: {stderr}"));
            }
            if stderr.contains("ksec bug") {
                failures.push(format!("{what}: blames ksec for tampered input: {stderr}"));
            }
            if case.expect == Expect::ShownAsStored && stdout != tampered {
                failures.push(format!("{what}: not shown as stored"));
            }
            rows.push(Row {
                command: case.name,
                tampering,
                ksec: out.code,
                sops: None,
            });
        }
    }
    if common::sops().is_some() {
        compare_with_sops(&lab, &mut rows, &mut failures);
    }
    print_table(&rows);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The commands sops has, run by sops with the same arguments on the same tampered files.
fn compare_with_sops(lab: &Dir, rows: &mut [Row], failures: &mut Vec<String>) {
    for case in ksec_cases().iter().filter(|c| c.sops != Sops::NotCompared) {
        for tampering in Tampering::ALL {
            let dir = lab.path("case");
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("case dir");
            let file = dir.join("secret.enc.yaml");
            fs::write(&file, tampering.apply(&clean(lab, case.two_groups))).expect("write tampered");
            let _ = fs::remove_file(lab.path(".sops.yaml"));
            let out = sops(lab)
                .args((case.args)(lab, &file))
                .env("EDITOR", marker_script(lab))
                .run();
            let sops_code = out.code;
            let row = rows
                .iter_mut()
                .find(|r| r.command == case.name && r.tampering == tampering)
                .expect("ksec ran the same case");
            row.sops = Some(sops_code);
            let agrees = match case.sops {
                Sops::Refuses => sops_code == row.ksec,
                Sops::Accepts => sops_code == 0,
                Sops::NotCompared => true,
            };
            if !agrees {
                failures.push(format!(
                    "sops {} on {tampering:?}: exit {}, ksec {}: {}",
                    case.name,
                    out.exit(),
                    row.ksec,
                    out.stderr_text()
                ));
            }
        }
    }
}

fn print_table(rows: &[Row]) {
    eprintln!("| command | tampering | ksec | sops |");
    eprintln!("|---|---|---|---|");
    for row in rows {
        let sops = row.sops.map_or("—".to_string(), |c| c.to_string());
        eprintln!("| {} | {:?} | {} | {sops} |", row.command, row.tampering, row.ksec);
    }
}

/// The hole this suite was written for: `rotate` used to decrypt a file whose unencrypted
/// value had been changed, seal a fresh MAC over it and exit 0, after which `decrypt` printed
/// the forged value without complaint.
#[test]
fn rotate_refuses_a_changed_unencrypted_value_instead_of_sealing_a_new_mac_over_it() {
    let lab = lab();
    let file = lab.path("secret.enc.yaml");
    let tampered = Tampering::UnencryptedValue.apply(&clean(&lab, false));
    fs::write(&file, &tampered).expect("write tampered");

    ksec(&lab).args(["rotate", "-i"]).arg(&file).run().expect_code(51);
    assert_eq!(fs::read_to_string(&file).expect("read"), tampered, "nothing written");

    let decrypt = ksec(&lab).arg("decrypt").arg(&file).run();
    assert_eq!(decrypt.code, 51, "the forged value is still refused");
    assert!(!decrypt.stdout_text().contains("300"));
}

/// `--ignore-mac` is the one way past the check, and it is the user's explicit choice: the
/// file then gets a MAC over its values as they are.
#[test]
fn ignore_mac_lets_rotate_and_updatekeys_take_a_file_whose_mac_fails() {
    let lab = lab();
    let file = lab.path("secret.enc.yaml");
    fs::write(&file, Tampering::UnencryptedValue.apply(&clean(&lab, false))).expect("write tampered");

    config_adding_a_recipient(&lab);
    ksec(&lab)
        .args(["updatekeys", "-y", "--ignore-mac"])
        .arg(&file)
        .run()
        .ok();
    let decrypt = ksec(&lab).arg("decrypt").arg(&file).run();
    assert_eq!(decrypt.code, 51, "updatekeys keeps the MAC, so the file still fails it");

    ksec(&lab).args(["rotate", "-i", "--ignore-mac"]).arg(&file).run().ok();
    let decrypt = ksec(&lab).arg("decrypt").arg(&file).run();
    assert_eq!(decrypt.code, 0);
    assert!(decrypt.stdout_text().contains("replicas_unencrypted: 300"));
}
