//! ksec as a drop-in `sops`: each tool's exact command line (copied from the tool's source,
//! which a comment names; see research-sops-argv.md) is run twice, once with a `sops` symlink to
//! ksec first on PATH and once with the real sops 3.11 there, on the same files (encrypted by
//! the real sops and by ksec), and the two runs must agree: the exit code, stdout, and each file
//! written (compared by what the real sops decrypts it to, since ciphertext is random).
//!
//! Where ksec deliberately answers differently (a flag sops 3.11 lacks, a remote key service)
//! the test says so and checks ksec's answer on its own. Each case prints one line of the table
//! `tool | argv | sops | ksec` on stderr (`cargo test --test dropin -- --nocapture`).
//!
//! The real sops comes from `KSEC_PEER_SOPS`; without it these tests skip with a note, and fail
//! when `CI` is set.
#![cfg(unix)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Dir, Run, TestCommand, VECTOR_RECIPIENT as RECIPIENT};

/// A values file in sops's own layout, so both tools print it back byte for byte.
const VALUES_YAML: &str = "db:\n    password: hunter2\n    port: 5432\nreplicas: 3\n";
const VALUES_JSON: &str = "{\n\t\"password\": \"hunter2\",\n\t\"port\": 5432\n}\n";
const VALUES_ENV: &str = "PASSWORD=hunter2\nPORT=5432\n";
/// What an editor writes in the edit cases.
const EDITED_YAML: &str = "db:\n    password: changed\n    port: 5432\nreplicas: 4\n";

/// The `.sops.yaml` the tools' projects keep: every file for the vectors' age recipient.
fn sops_yaml() -> String {
    format!("creation_rules:\n    - age: {RECIPIENT}\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    /// The real sops 3.11.
    Sops,
    /// ksec through a `sops` symlink.
    Ksec,
}

const BOTH: [Tool; 2] = [Tool::Sops, Tool::Ksec];

/// A scratch [`Dir`] with two `sops` programs, each alone in a directory of its own: a link to
/// the real one (`<root>/real-sops/sops`) and a link to ksec (`<root>/ksec-as-sops/sops`). Each
/// run gets a fresh directory under `work/`, its tool's `sops` first on PATH and the vectors'
/// age identity.
struct Lab {
    dir: Dir,
}

impl Lab {
    fn new() -> Option<Lab> {
        let dir = Dir::with_sops()?;
        dir.link_program(bin_name(Tool::Sops), "sops", common::sops()?);
        // Makes `<root>/ksec-as-sops/sops` now, for the shell runs that find it on PATH.
        dir.ksec_as("sops");
        Some(Lab { dir })
    }

    /// The `sops` this tool is run as (its file name is `sops`, so ksec answers as sops).
    fn sops(&self, tool: Tool) -> TestCommand {
        match tool {
            Tool::Sops => self.dir.command(self.sops_path(tool)),
            Tool::Ksec => self.dir.ksec_as("sops"),
        }
    }

    /// The path of that `sops`, for a tool that is given it (community.sops's runner).
    fn sops_path(&self, tool: Tool) -> PathBuf {
        self.bin(tool).join("sops")
    }

    /// The directory holding this tool's `sops` alone, first on PATH in its runs.
    fn bin(&self, tool: Tool) -> PathBuf {
        self.dir.root().join(bin_name(tool))
    }

    /// A fresh directory for one run, `work/<case>-<tool>`, holding `files` (name, bytes).
    fn workdir(&self, case: &str, tool: Tool, files: &[(&str, Vec<u8>)]) -> PathBuf {
        let dir = self.dir.path(&format!("{case}-{}", bin_name(tool)));
        fs::create_dir_all(&dir).expect("work dir");
        for (name, bytes) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("dirs");
            }
            fs::write(path, bytes).expect("input file");
        }
        dir
    }

    /// `cmd` with the environment a tool gives sops: run in `dir`, the age identity, PATH
    /// with this tool's `sops` first (the Dir isolates it from the developer's keys).
    fn prepare(&self, tool: Tool, mut cmd: TestCommand, dir: &Path) -> TestCommand {
        cmd.current_dir(dir)
            .path_first(self.bin(tool))
            .env("SOPS_AGE_KEY_FILE", common::vector_key());
        cmd
    }

    /// Any program run in `dir` as the tool runs it, with this tool's `sops` first on PATH.
    fn command(&self, tool: Tool, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> TestCommand {
        self.prepare(tool, self.dir.command(program), dir)
    }

    /// Runs `sops ARGV` as the tool runs it (no shell).
    fn run(&self, tool: Tool, dir: &Path, argv: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.prepare(tool, self.sops(tool), dir);
        cmd.args(argv);
        execute(cmd, stdin, env)
    }

    /// Runs a shell command line as the tool runs it (`sh -c`), `sops` found on PATH.
    fn shell(&self, tool: Tool, dir: &Path, script: &str, stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(tool, "/bin/sh", dir);
        cmd.args(["-c", script]);
        execute(cmd, stdin, env)
    }

    /// What the real sops decrypts a file to (exit code and stdout), with the age identity.
    fn real_decrypt(&self, file: &Path, input_type: Option<&str>) -> Run {
        let dir = file.parent().expect("a directory");
        let mut cmd = self.prepare(Tool::Sops, self.dir.sops(), dir);
        cmd.args(["--config", "/dev/null", "decrypt"]);
        if let Some(t) = input_type {
            cmd.args(["--input-type", t, "--output-type", t]);
        }
        cmd.arg(file).run()
    }

    /// `plain` encrypted for the age recipient by `writer` (the real sops, or ksec by its own
    /// name), as a file named `name` would be.
    fn encrypted(&self, writer: Tool, name: &str, plain: &str) -> Vec<u8> {
        let dir = self.workdir(&format!("encrypt-{name}"), writer, &[(name, plain.as_bytes().to_vec())]);
        let program = match writer {
            Tool::Sops => self.dir.sops(),
            Tool::Ksec => self.dir.ksec(),
        };
        let mut cmd = self.prepare(writer, program, &dir);
        cmd.args(["--config", "/dev/null", "encrypt", "--age", RECIPIENT, name]);
        // The writer encrypts the file.
        cmd.run().ok().stdout
    }

    /// An executable script `<root>/bin/<name>` running `body` (an editor), by its path.
    fn script(&self, name: &str, body: &str) -> String {
        self.dir.script(name, body).display().to_string()
    }
}

fn bin_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Sops => "real-sops",
        Tool::Ksec => "ksec-as-sops",
    }
}

/// Runs `cmd` with `stdin` (none: /dev/null) and the extra variables `env`.
fn execute(mut cmd: TestCommand, stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    for (key, value) in env {
        cmd.env(key, value);
    }
    if let Some(input) = stdin {
        cmd.stdin(input);
    }
    cmd.run()
}

/// One table row on stderr: tool | argv | sops | ksec.
fn row(tool: &str, argv: &str, sops: &Run, ksec: &Run, result: &str) {
    eprintln!(
        "| {tool} | `{argv}` | exit {} | exit {} | {result} |",
        sops.code, ksec.code
    );
}

/// Both runs exit alike and print the same stdout.
fn assert_same_output(what: &str, sops: &Run, ksec: &Run) {
    assert_eq!(
        (sops.code, sops.stdout_text()),
        (ksec.code, ksec.stdout_text()),
        "{what}: sops (left) and ksec (right) differ\nsops stderr:\n{}\nksec stderr:\n{}",
        sops.stderr_text(),
        ksec.stderr_text()
    );
}

/// The bytes sops writes a file as, per tool: encrypted by the real sops and by ksec.
fn writers() -> [Tool; 2] {
    BOTH
}

// ---------------------------------------------------------------------------------------------
// helm-secrets (jkroepke/helm-secrets, scripts/lib/backends/sops.sh)
// ---------------------------------------------------------------------------------------------

/// helm-secrets' decrypt calls, on files written by both tools: to stdout (sops.sh:50), to a
/// file (sops.sh:52), in place (sops.sh:48), and a literal on stdin (sops.sh:58). Its user
/// args (HELM_SECRETS_BACKEND_ARGS) come first (sops.sh:5-9).
#[test]
fn helm_secrets_decrypts_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for writer in writers() {
        let file = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        let json = lab.encrypted(writer, "literal.json", VALUES_JSON);
        let cases: [(&str, &[&str], Option<&str>); 4] = [
            // sops.sh:50
            (
                "stdout",
                &[
                    "--decrypt",
                    "--input-type",
                    "yaml",
                    "--output-type",
                    "yaml",
                    "secrets.yaml",
                ],
                None,
            ),
            // sops.sh:52, OUT = _file_dec_name (scripts/lib/file.sh:65-73)
            (
                "output",
                &[
                    "--decrypt",
                    "--input-type",
                    "yaml",
                    "--output-type",
                    "yaml",
                    "--output",
                    "secrets.yaml.dec",
                    "secrets.yaml",
                ],
                Some("secrets.yaml.dec"),
            ),
            // sops.sh:48
            (
                "in-place",
                &[
                    "--decrypt",
                    "--input-type",
                    "yaml",
                    "--output-type",
                    "yaml",
                    "--in-place",
                    "secrets.yaml",
                ],
                Some("secrets.yaml"),
            ),
            // A user's HELM_SECRETS_BACKEND_ARGS before the call.
            (
                "backend-args",
                &[
                    "--config",
                    "/dev/null",
                    "--decrypt",
                    "--input-type",
                    "yaml",
                    "--output-type",
                    "yaml",
                    "secrets.yaml",
                ],
                None,
            ),
        ];
        for (case, argv, written) in cases {
            let [(sops, sops_dir), (ksec, ksec_dir)] = BOTH.map(|tool| {
                let dir = lab.workdir(
                    &format!("helm-{case}-{writer:?}"),
                    tool,
                    &[("secrets.yaml", file.clone())],
                );
                (lab.run(tool, &dir, argv, None, &[]), dir)
            });
            assert_same_output(&format!("helm-secrets {case} ({writer:?}'s file)"), &sops, &ksec);
            assert!(ksec.stderr.is_empty(), "ksec printed on stderr: {}", ksec.stderr_text());
            if let Some(name) = written {
                let (a, b) = (read(&sops_dir.join(name)), read(&ksec_dir.join(name)));
                assert_eq!(text(&a), text(&b), "helm-secrets {case}: the written file differs");
                assert_eq!(text(&b), VALUES_YAML);
            }
            row(
                "helm-secrets",
                &argv.join(" "),
                &sops,
                &ksec,
                "same stdout, file and exit",
            );
        }

        // sops.sh:58: printf '%s' LIT | sops --decrypt --input-type json --output-type json /dev/stdin
        let argv = [
            "--decrypt",
            "--input-type",
            "json",
            "--output-type",
            "json",
            "/dev/stdin",
        ];
        let [sops, ksec] = BOTH.map(|tool| {
            let dir = lab.workdir(&format!("helm-literal-{writer:?}"), tool, &[]);
            lab.run(tool, &dir, &argv, Some(&json), &[])
        });
        assert_same_output("helm-secrets literal on /dev/stdin", &sops, &ksec);
        assert_eq!(ksec.stdout_text(), VALUES_JSON);
        row("helm-secrets", &argv.join(" "), &sops, &ksec, "same stdout and exit");
    }
}

/// helm-secrets' encrypt calls (sops.sh:29-33), run in the file's directory with its
/// `.sops.yaml` (scripts/commands/encrypt.sh:26-31), and its "is it encrypted?" greps on the
/// result (sops.sh:11-17, 84-92).
#[test]
fn helm_secrets_encrypts_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let files = || {
        vec![
            ("secrets.yaml", VALUES_YAML.as_bytes().to_vec()),
            (".sops.yaml", sops_yaml().into_bytes()),
        ]
    };
    let cases: [(&str, &[&str], Option<&str>); 3] = [
        // sops.sh:31
        (
            "stdout",
            &[
                "--encrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "secrets.yaml",
            ],
            None,
        ),
        // sops.sh:33
        (
            "output",
            &[
                "--encrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "--output",
                "secrets.enc.yaml",
                "secrets.yaml",
            ],
            Some("secrets.enc.yaml"),
        ),
        // sops.sh:29
        (
            "in-place",
            &[
                "--encrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "--in-place",
                "secrets.yaml",
            ],
            Some("secrets.yaml"),
        ),
    ];
    for (case, argv, written) in cases {
        let mut results = Vec::new();
        for tool in BOTH {
            let dir = lab.workdir(&format!("helm-encrypt-{case}"), tool, &files());
            let run = lab.run(tool, &dir, argv, None, &[]);
            let encrypted = match written {
                Some(name) => {
                    assert!(run.stdout.is_empty(), "{tool:?} {case}: nothing on stdout");
                    dir.join(name)
                }
                None => {
                    let path = dir.join("from-stdout.yaml");
                    fs::write(&path, &run.stdout).expect("write");
                    path
                }
            };
            results.push((run, encrypted));
        }
        let (sops, ksec) = (&results[0].0, &results[1].0);
        assert_eq!(
            sops.code,
            ksec.code,
            "helm-secrets encrypt {case}: {}",
            ksec.stderr_text()
        );
        assert!(ksec.stderr.is_empty(), "ksec printed on stderr: {}", ksec.stderr_text());
        for (run, file) in &results {
            let decrypted = lab.real_decrypt(file, None);
            assert_eq!(decrypted.code, 0, "{file:?}: {}", decrypted.stderr_text());
            assert_eq!(
                decrypted.stdout_text(),
                VALUES_YAML,
                "{case}: what the real sops decrypts"
            );
            assert_eq!(run.code, 0);
        }
        // What helm-secrets greps for in an encrypted file: the MAC on one line, `sops:` alone.
        let bytes = text(&read(&results[1].1));
        assert!(
            bytes.lines().any(|l| l.contains("mac") && l.contains(",type:str]")),
            "{bytes}"
        );
        assert!(bytes.lines().any(|l| l.trim_end() == "sops:"), "{bytes}");
        row(
            "helm-secrets",
            &argv.join(" "),
            sops,
            ksec,
            "same exit; both files decrypt (real sops) to the input",
        );
    }
}

/// helm-secrets' edit (sops.sh:68): the legacy bare-file form, with the user's editor.
#[test]
fn helm_secrets_edits_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let argv = ["--input-type", "yaml", "--output-type", "yaml", "secrets.yaml"];
    for writer in writers() {
        let file = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        for (case, editor_body, code) in [("changed", Some(EDITED_YAML), 0), ("unchanged", None, 200)] {
            let runs = BOTH.map(|tool| {
                let dir = lab.workdir(
                    &format!("helm-edit-{case}-{writer:?}"),
                    tool,
                    &[("secrets.yaml", file.clone())],
                );
                let editor = write_editor(&lab, editor_body);
                let run = lab.run(tool, &dir, &argv, None, &[("EDITOR", &editor)]);
                (run, dir.join("secrets.yaml"))
            });
            let [(sops, sops_file), (ksec, ksec_file)] = runs;
            assert_eq!(
                (sops.code, ksec.code),
                (code, code),
                "edit {case}:\n{}\n{}",
                sops.stderr_text(),
                ksec.stderr_text()
            );
            let expected = editor_body.unwrap_or(VALUES_YAML);
            for file in [&sops_file, &ksec_file] {
                assert_eq!(
                    lab.real_decrypt(file, None).stdout_text(),
                    expected,
                    "edit {case}: {file:?}"
                );
            }
            if case == "unchanged" {
                assert_eq!(read(&ksec_file), file, "an unchanged edit leaves the file as it was");
            }
            row(
                "helm-secrets",
                &format!("EDITOR=… sops {}", argv.join(" ")),
                &sops,
                &ksec,
                &format!("edit {case}: same exit, same plaintext"),
            );
        }
    }
}

/// An editor script that writes `body` over the file it is given, or leaves it as it is.
fn write_editor(lab: &Lab, body: Option<&str>) -> String {
    match body {
        Some(text) => lab.script("editor-writes.sh", &format!("printf '%s' '{text}' > \"$1\"\n")),
        None => lab.script("editor-keeps.sh", "exit 0\n"),
    }
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `argv` with both tools in fresh copies of `files` and returns each run with its
/// directory.
fn both(
    lab: &Lab,
    case: &str,
    files: &[(&str, Vec<u8>)],
    argv: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> [(Run, PathBuf); 2] {
    BOTH.map(|tool| {
        let dir = lab.workdir(case, tool, files);
        (lab.run(tool, &dir, argv, stdin, env), dir)
    })
}

/// [`both`] for a shell command line.
fn both_shell(
    lab: &Lab,
    case: &str,
    files: &[(&str, Vec<u8>)],
    script: &str,
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> [(Run, PathBuf); 2] {
    BOTH.map(|tool| {
        let dir = lab.workdir(case, tool, files);
        (lab.shell(tool, &dir, script, stdin, env), dir)
    })
}

/// Both runs printed ciphertext that the real sops decrypts to `plain`, and exited 0.
fn assert_both_encrypt_to(lab: &Lab, what: &str, runs: &[(Run, PathBuf); 2], plain: &str, input_type: Option<&str>) {
    for ((run, dir), tool) in runs.iter().zip(BOTH) {
        assert_eq!(run.code, 0, "{what} with {tool:?}: {}", run.stderr_text());
        let ext = match input_type {
            Some("json") => "json",
            Some("dotenv") => "env",
            _ => "yaml",
        };
        let file = dir.join(format!("ciphertext-from-stdout.{ext}"));
        fs::write(&file, &run.stdout).expect("write");
        let decrypted = lab.real_decrypt(&file, input_type);
        assert_eq!(
            decrypted.code,
            0,
            "{what} with {tool:?}: the real sops cannot decrypt:\n{}",
            decrypted.stderr_text()
        );
        assert_eq!(decrypted.stdout_text(), plain, "{what} with {tool:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// community.sops (ansible-collections/community.sops, plugins/module_utils/sops.py)
// ---------------------------------------------------------------------------------------------

/// community.sops's command lines: the version probe (sops.py:179) matched with its regex
/// (sops.py:50), then, because the version is 3.9.0 or later, the subcommand forms of decrypt
/// (sops.py:199-239), the decrypt filter on /dev/stdin (sops.py:217-219), encrypt with
/// --filename-override in the file's directory (sops.py:241-271) and filestatus
/// (sops.py:276-294); and the legacy forms it uses for older versions.
#[test]
fn community_sops_command_lines_behave_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    // sops.py:179, matched by `^sops ([0-9]+)\.([0-9]+)\.([0-9]+)` (sops.py:50).
    let [(sops, _), (ksec, _)] = both(
        &lab,
        "ansible-version",
        &[],
        &["--version", "--disable-version-check"],
        None,
        &[],
    );
    let re = regex::Regex::new(r"^sops ([0-9]+)\.([0-9]+)\.([0-9]+)").expect("community.sops's regex");
    for run in [&sops, &ksec] {
        assert_eq!(run.code, 0, "{}", run.stderr_text());
        assert!(re.is_match(&run.stdout_text()), "{:?}", run.stdout_text());
    }
    let line = ksec.stdout_text();
    let caps = re.captures(&line).expect("matches");
    let version: Vec<u32> = (1..=3).map(|i| caps[i].parse().expect("a number")).collect();
    assert!(
        version >= vec![3, 9, 0],
        "community.sops needs 3.9.0 for its modern paths: {version:?}"
    );
    assert!(ksec.stderr.is_empty());
    row(
        "community.sops",
        "--version --disable-version-check",
        &sops,
        &ksec,
        &format!("ksec: {}", ksec.stdout_text().trim()),
    );

    for writer in writers() {
        let file = lab.encrypted(writer, "vars.sops.yaml", VALUES_YAML);
        let files = [
            ("vars.sops.yaml", file.clone()),
            (".sops.yaml", sops_yaml().into_bytes()),
        ];
        let decrypts: [&[&str]; 4] = [
            // ≥ 3.9.0, with config_path (pre).
            &[
                "--config",
                ".sops.yaml",
                "decrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "json",
                "vars.sops.yaml",
            ],
            // lookup with extract.
            &["decrypt", "--extract", "[\"db\"][\"password\"]", "vars.sops.yaml"],
            // < 3.9.0 legacy form.
            &[
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "--decrypt",
                "vars.sops.yaml",
            ],
            // sops_encrypt's change detection of content_binary (output_type binary,
            // rstrip=False; sops_encrypt.py:209-212).
            &["decrypt", "--output-type", "binary", "blob.bin"],
        ];
        let blob = lab.encrypted(writer, "blob.bin", "opaque\u{1}bytes\n\n");
        let files = [files[0].clone(), files[1].clone(), ("blob.bin", blob)];
        for argv in decrypts {
            let [(sops, _), (ksec, _)] = both(&lab, "ansible-decrypt", &files, argv, None, &[]);
            assert_same_output(&format!("community.sops {argv:?} ({writer:?}'s file)"), &sops, &ksec);
            assert!(ksec.code == 0 && ksec.stderr.is_empty(), "{}", ksec.stderr_text());
            row("community.sops", &argv.join(" "), &sops, &ksec, "same stdout and exit");
        }
        // enable_local_keyservice=false (sops.py:109) without a keyservice: the real sops then
        // has no key service at all and exits 128; ksec's keys are its own, so it decrypts
        // (a deliberate difference: the flag turns off nothing ksec has).
        let argv = ["decrypt", "--enable-local-keyservice=false", "vars.sops.yaml"];
        let [(sops, _), (ksec, _)] = both(&lab, "ansible-no-local", &files, &argv, None, &[]);
        assert_eq!((sops.code, ksec.code), (128, 0), "{}", ksec.stderr_text());
        assert_eq!(ksec.stdout_text(), VALUES_YAML);
        row(
            "community.sops",
            &argv.join(" "),
            &sops,
            &ksec,
            "differs: ksec accepts it (no key service to turn off)",
        );
        // A remote key service: sops asks it only when local keys fail, so here it decrypts;
        // ksec cannot speak the protocol and refuses the flag (128, as sops when no service works).
        let argv = ["decrypt", "--keyservice", "tcp://127.0.0.1:9", "vars.sops.yaml"];
        let [(sops, _), (ksec, _)] = both(&lab, "ansible-keyservice", &files, &argv, None, &[]);
        assert_eq!((sops.code, ksec.code), (0, 128), "{}", ksec.stderr_text());
        assert!(
            ksec.stdout.is_empty() && ksec.stderr_text().contains("tcp://127.0.0.1:9"),
            "{}",
            ksec.stderr_text()
        );
        row(
            "community.sops",
            &argv.join(" "),
            &sops,
            &ksec,
            "differs: ksec refuses a remote key service",
        );
        // The decrypt filter: data on stdin (plugins/filter/decrypt.py:117,166-177).
        let argv = ["decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"];
        let [(sops, _), (ksec, _)] = both(&lab, "ansible-filter", &[], &argv, Some(&file), &[]);
        assert_same_output("community.sops decrypt filter", &sops, &ksec);
        row("community.sops", &argv.join(" "), &sops, &ksec, "same stdout and exit");
        // filestatus on encrypted and plain files (sops.py:276-294).
        for name in ["vars.sops.yaml", ".sops.yaml"] {
            let argv = ["filestatus", name];
            let [(sops, _), (ksec, _)] = both(&lab, "ansible-filestatus", &files, &argv, None, &[]);
            assert_same_output("community.sops filestatus", &sops, &ksec);
            row("community.sops", &argv.join(" "), &sops, &ksec, "same stdout and exit");
        }
    }
    // sops_encrypt (≥ 3.9.0): data on stdin, in the file's directory, named by
    // --filename-override; and the < 3.9.0 form.
    let encrypts: [&[&str]; 2] = [
        &[
            "encrypt",
            "--age",
            RECIPIENT,
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--filename-override",
            "group_vars/all.sops.yaml",
            "/dev/stdin",
        ],
        &[
            "--age",
            RECIPIENT,
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--encrypt",
            "/dev/stdin",
        ],
    ];
    for argv in encrypts {
        let runs = both(&lab, "ansible-encrypt", &[], argv, Some(VALUES_YAML.as_bytes()), &[]);
        assert_both_encrypt_to(&lab, &format!("community.sops {argv:?}"), &runs, VALUES_YAML, None);
        assert!(runs[1].0.stderr.is_empty(), "{}", runs[1].0.stderr_text());
        row(
            "community.sops",
            &argv.join(" "),
            &runs[0].0,
            &runs[1].0,
            "same exit; both decrypt (real sops) to the input",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// VS Code: signageos/vscode-sops (src/extension.ts) and ShipitSmarter/vscode-sops-edit
// ---------------------------------------------------------------------------------------------

/// signageos/vscode-sops: decrypt a copy without an extension (extension.ts:332-350), save
/// through a fake editor that copies the plaintext over the buffer (extension.ts:27-29,
/// 368-429), and create a file with `--config` given twice, the last winning
/// (extension.ts:431-493). It ignores exit codes, so what matters is stdout and the file.
#[test]
fn vscode_sops_round_trip_behaves_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for writer in writers() {
        let file = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        // TMP: a random md5 name, no extension.
        let tmp = "5f4dcc3b5aa765d61d8327deb882cf99";
        let argv = [
            "--config",
            "/dev/null",
            "--output-type",
            "yaml",
            "--input-type",
            "yaml",
            "--decrypt",
            tmp,
        ];
        let [(sops, _), (ksec, _)] = both(&lab, "vscode-decrypt", &[(tmp, file.clone())], &argv, None, &[]);
        assert_same_output("vscode-sops decrypt", &sops, &ksec);
        assert!(ksec.stderr.is_empty(), "{}", ksec.stderr_text());
        row("vscode-sops", &argv.join(" "), &sops, &ksec, "same stdout and exit");

        let argv = [
            "--config",
            "/dev/null",
            "--output-type",
            "yaml",
            "--input-type",
            "yaml",
            tmp,
        ];
        let runs = BOTH.map(|tool| {
            let dir = lab.workdir(&format!("vscode-save-{writer:?}"), tool, &[(tmp, file.clone())]);
            fs::write(dir.join("decrypted~"), EDITED_YAML).expect("plaintext");
            let script = lab.script("vscode-editor.sh", "cat $VSCODE_SOPS_DECRYPTED_FILE_PATH > $1\n");
            let env = [
                ("EDITOR", script.as_str()),
                (
                    "VSCODE_SOPS_DECRYPTED_FILE_PATH",
                    dir.join("decrypted~").to_str().expect("utf-8"),
                ),
            ]
            .map(|(k, v)| (k, v.to_string()));
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (lab.run(tool, &dir, &argv, None, &env), dir)
        });
        let [(sops, sops_dir), (ksec, ksec_dir)] = runs;
        assert_eq!(sops.code, ksec.code, "vscode-sops save: {}", ksec.stderr_text());
        for dir in [&sops_dir, &ksec_dir] {
            assert_eq!(
                lab.real_decrypt(&dir.join(tmp), Some("yaml")).stdout_text(),
                EDITED_YAML
            );
        }
        row(
            "vscode-sops",
            &format!("EDITOR=… sops {}", argv.join(" ")),
            &sops,
            &ksec,
            "same exit, same plaintext saved",
        );
    }
    // Create: the last --config names the .sops.yaml of a temp directory.
    let runs = BOTH.map(|tool| {
        let dir = lab.workdir("vscode-create", tool, &[("cfg/.sops.yaml", sops_yaml().into_bytes())]);
        fs::create_dir_all(dir.join("cfg/app")).expect("dirs");
        fs::write(dir.join("cfg/app/new.yaml"), VALUES_YAML).expect("file");
        let config = dir.join("cfg/.sops.yaml").display().to_string();
        let target = dir.join("cfg/app/new.yaml").display().to_string();
        let argv = [
            "--config",
            "/dev/null",
            "--config",
            &config,
            "--output-type",
            "yaml",
            "--input-type",
            "yaml",
            "--encrypt",
            &target,
        ];
        (lab.run(tool, &dir, &argv, None, &[]), dir)
    });
    assert_both_encrypt_to(&lab, "vscode-sops create", &runs, VALUES_YAML, None);
    row(
        "vscode-sops",
        "--config /dev/null --config TMPDIR/.sops.yaml --output-type yaml --input-type yaml --encrypt TMPDIR/app/new.yaml",
        &runs[0].0,
        &runs[1].0,
        "same exit; both decrypt (real sops) to the input",
    );
}

/// ShipitSmarter/vscode-sops-edit's shell strings (src/utilities/constants.ts:5-7), run in the
/// file's directory; it shows any stderr as an error (functions.ts:74-83), so ksec must print
/// nothing there.
#[test]
fn vscode_sops_edit_behaves_as_with_sops_and_keeps_stderr_empty() {
    let Some(lab) = Lab::new() else { return };
    let files = || {
        vec![
            ("secrets.yaml", VALUES_YAML.as_bytes().to_vec()),
            (".sops.yaml", sops_yaml().into_bytes()),
        ]
    };
    let runs = both_shell(
        &lab,
        "shipit",
        &files(),
        "sops --in-place --encrypt secrets.yaml",
        None,
        &[],
    );
    for ((run, dir), tool) in runs.iter().zip(BOTH) {
        assert_eq!(run.code, 0, "{tool:?}: {}", run.stderr_text());
        assert_eq!(
            lab.real_decrypt(&dir.join("secrets.yaml"), None).stdout_text(),
            VALUES_YAML
        );
    }
    assert!(runs[1].0.stderr.is_empty(), "{}", runs[1].0.stderr_text());
    row(
        "vscode-sops-edit",
        "sops --in-place --encrypt F",
        &runs[0].0,
        &runs[1].0,
        "same exit and plaintext; no stderr",
    );
    for writer in writers() {
        let file = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        for script in [
            "sops --decrypt secrets.yaml > decrypted.yaml",
            "sops --in-place --decrypt secrets.yaml",
        ] {
            let [(sops, sops_dir), (ksec, ksec_dir)] = both_shell(
                &lab,
                "shipit-decrypt",
                &[("secrets.yaml", file.clone())],
                script,
                None,
                &[],
            );
            assert_eq!((sops.code, ksec.code), (0, 0), "{script}: {}", ksec.stderr_text());
            assert!(ksec.stderr.is_empty(), "{script}: {}", ksec.stderr_text());
            let written = if script.contains('>') {
                "decrypted.yaml"
            } else {
                "secrets.yaml"
            };
            assert_eq!(read(&sops_dir.join(written)), read(&ksec_dir.join(written)), "{script}");
            row(
                "vscode-sops-edit",
                script,
                &sops,
                &ksec,
                "same file and exit; no stderr",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// vim and neovim plugins
// ---------------------------------------------------------------------------------------------

/// The decrypt calls of the editor plugins, each as the plugin runs it:
/// trixnz/sops.nvim (lua/sops.lua:25-27, cwd = the file's directory), Thrimbda/sops.nvim
/// (lua/nvim_sops/sops.lua:659-675), lemarsu/sops.nvim (lua/sops/sops.lua:96-122) and
/// jsecchiero/vim-sops (plugin/sops.vim:30-33), and anokfireball/sops-edit.nvim's shell string
/// with stderr merged into the buffer (lua/sops_edit/core/decrypt.lua:21-22; utils.lua:75-82).
#[test]
fn editor_plugins_decrypt_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for writer in writers() {
        let yaml = lab.encrypted(writer, "secrets.sops.yaml", VALUES_YAML);
        let json = lab.encrypted(writer, "secrets.sops.json", VALUES_JSON);
        let files = [("secrets.sops.yaml", yaml), ("secrets.sops.json", json)];
        let cases: [(&str, &[&str]); 4] = [
            (
                "trixnz/sops.nvim",
                &[
                    "--decrypt",
                    "--input-type",
                    "yaml",
                    "--output-type",
                    "yaml",
                    "secrets.sops.yaml",
                ],
            ),
            (
                "Thrimbda/sops.nvim",
                &[
                    "--decrypt",
                    "--input-type",
                    "json",
                    "--output-type",
                    "json",
                    "secrets.sops.json",
                ],
            ),
            ("lemarsu/sops.nvim", &["-d", "secrets.sops.yaml"]),
            ("jsecchiero/vim-sops", &["-d", "secrets.sops.json"]),
        ];
        for (tool, argv) in cases {
            let [(sops, _), (ksec, _)] = both(&lab, "plugins-decrypt", &files, argv, None, &[]);
            assert_same_output(&format!("{tool} ({writer:?}'s file)"), &sops, &ksec);
            assert!(ksec.stderr.is_empty(), "{tool}: {}", ksec.stderr_text());
            row(tool, &argv.join(" "), &sops, &ksec, "same stdout and exit");
        }
        let script = "sops -d 'secrets.sops.yaml' 2>&1";
        let [(sops, _), (ksec, _)] = both_shell(&lab, "sops-edit-decrypt", &files, script, None, &[]);
        assert_same_output("sops-edit.nvim decrypt (stderr merged)", &sops, &ksec);
        assert_eq!(
            ksec.stdout_text(),
            VALUES_YAML,
            "nothing but the plaintext in the buffer"
        );
        row(
            "anokfireball/sops-edit.nvim",
            script,
            &sops,
            &ksec,
            "same merged output and exit",
        );
    }
}

/// The encrypt calls of the editor plugins: sops-edit.nvim's (encrypt.lua:256-263, stderr
/// merged into the ciphertext, and encrypt.lua:268-273 with --filename-override), Thrimbda's
/// with a FIFO as the file (sops.lua:677-710), lemarsu's `sops -e F` (sops.lua:96-122), and
/// lucidph3nx/nvim-sops' in-place calls with absolute paths (commands.lua:46-54, 74-82).
#[test]
fn editor_plugins_encrypt_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let plain = || {
        vec![
            ("secrets.sops.yaml", VALUES_YAML.as_bytes().to_vec()),
            (".sops.yaml", sops_yaml().into_bytes()),
        ]
    };
    let scripts = [
        (
            "anokfireball/sops-edit.nvim",
            format!(
                "cat secrets.sops.yaml | sops --config /dev/null --encrypt --input-type 'yaml' --output-type 'yaml' --age '{RECIPIENT}' /dev/stdin 2>&1"
            ),
        ),
        (
            "anokfireball/sops-edit.nvim",
            "cat secrets.sops.yaml | sops --encrypt --input-type 'yaml' --output-type 'yaml' --filename-override 'secrets.sops.yaml' /dev/stdin 2>&1"
                .to_string(),
        ),
        (
            "Thrimbda/sops.nvim",
            format!(
                "mkfifo buffer.fifo && (cat secrets.sops.yaml > buffer.fifo &) && sops --encrypt --input-type yaml --output-type yaml --filename-override secrets.sops.yaml --age {RECIPIENT} buffer.fifo"
            ),
        ),
        ("lemarsu/sops.nvim", "sops -e secrets.sops.yaml".to_string()),
    ];
    for (tool, script) in scripts {
        let runs = both_shell(&lab, "plugins-encrypt", &plain(), &script, None, &[]);
        assert_both_encrypt_to(&lab, tool, &runs, VALUES_YAML, None);
        row(
            tool,
            &script,
            &runs[0].0,
            &runs[1].0,
            "same exit; both decrypt (real sops) to the input",
        );
    }
    // lucidph3nx/nvim-sops: encrypt in place, then decrypt in place, by absolute path.
    let runs = BOTH.map(|tool| {
        let dir = lab.workdir("lucidph3nx", tool, &plain());
        let file = dir.join("secrets.sops.yaml").display().to_string();
        let encrypt = lab.shell(tool, &dir, &format!("sops --encrypt --in-place {file}"), None, &[]);
        let encrypted = read(&dir.join("secrets.sops.yaml"));
        let decrypt = lab.shell(tool, &dir, &format!("sops --decrypt --in-place {file}"), None, &[]);
        (encrypt, decrypt, encrypted, read(&dir.join("secrets.sops.yaml")))
    });
    for (encrypt, decrypt, encrypted, decrypted) in &runs {
        assert_eq!(
            (encrypt.code, decrypt.code),
            (0, 0),
            "{}{}",
            encrypt.stderr_text(),
            decrypt.stderr_text()
        );
        assert!(text(encrypted).contains("mac: ENC["));
        assert_eq!(text(decrypted), VALUES_YAML);
    }
    row(
        "lucidph3nx/nvim-sops",
        "sops --encrypt --in-place /abs/F; sops --decrypt --in-place /abs/F",
        &runs[0].1,
        &runs[1].1,
        "same exits and files",
    );
}

/// The editor protocol of the plugins that save through sops's edit mode: trixnz/sops.nvim runs
/// `sops edit F` with SOPS_EDITOR (lua/sops.lua:91-98; scripts/sops-editor.sh:24), lemarsu
/// runs `sops F` and accepts 0 or 200 (lua/sops/events.lua:45-62), jsecchiero/vim-sops runs
/// `EDITOR=vim' --servername VIM --remote-wait' sops F` (plugin/sops.vim:75-78: an EDITOR with
/// arguments, split like a shell would).
#[test]
fn editor_plugins_save_through_edit_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for writer in writers() {
        let file = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        for (tool, argv, editor_var, changed) in [
            ("trixnz/sops.nvim", &["edit", "secrets.yaml"][..], "SOPS_EDITOR", true),
            ("lemarsu/sops.nvim", &["secrets.yaml"][..], "EDITOR", true),
            ("lemarsu/sops.nvim", &["secrets.yaml"][..], "EDITOR", false),
            ("jsecchiero/vim-sops", &["secrets.yaml"][..], "EDITOR", true),
        ] {
            let runs = BOTH.map(|tool_run| {
                let dir = lab.workdir(
                    &format!("plugins-edit-{writer:?}"),
                    tool_run,
                    &[("secrets.yaml", file.clone())],
                );
                fs::write(dir.join("buffer.tmp"), EDITED_YAML).expect("buffer");
                // trixnz's sops-editor.sh: cat "$SOPS_NVIM_TEMP_FILE" >"$1"; the last argument
                // is the file, whatever arguments the EDITOR value carries.
                let script = if changed {
                    lab.script(
                        "plugin-editor-saves.sh",
                        "for last; do :; done\ncat \"$SOPS_NVIM_TEMP_FILE\" > \"$last\"\n",
                    )
                } else {
                    lab.script("plugin-editor-keeps.sh", "exit 0\n")
                };
                let editor = if tool == "jsecchiero/vim-sops" {
                    format!("{script} --servername VIM --remote-wait")
                } else {
                    script
                };
                let temp = dir.join("buffer.tmp").display().to_string();
                let env = [(editor_var, editor.as_str()), ("SOPS_NVIM_TEMP_FILE", temp.as_str())];
                (lab.run(tool_run, &dir, argv, None, &env), dir)
            });
            let [(sops, sops_dir), (ksec, ksec_dir)] = runs;
            assert_eq!(
                sops.code,
                ksec.code,
                "{tool}: {}\n{}",
                sops.stderr_text(),
                ksec.stderr_text()
            );
            assert_eq!(ksec.code, if changed { 0 } else { 200 });
            let expected = if changed { EDITED_YAML } else { VALUES_YAML };
            for dir in [&sops_dir, &ksec_dir] {
                assert_eq!(
                    lab.real_decrypt(&dir.join("secrets.yaml"), None).stdout_text(),
                    expected,
                    "{tool}"
                );
            }
            let what = if changed { "saved" } else { "unchanged: 200" };
            row(
                tool,
                &format!("{editor_var}=… sops {}", argv.join(" ")),
                &sops,
                &ksec,
                &format!("{what}; same exit and plaintext"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// direnv and git textconv
// ---------------------------------------------------------------------------------------------

/// direnv's `use_sops` (direnv wiki "Sops", linked from direnv#805) and its variants: dotenv
/// output, a per-key --extract, and a nested value dotenv cannot hold (exit 4).
#[test]
fn direnv_snippets_behave_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    for writer in writers() {
        let flat = lab.encrypted(writer, "secrets.yaml", "PASSWORD: hunter2\nPORT: 5432\n");
        let nested = lab.encrypted(writer, "nested.yaml", VALUES_YAML);
        let dotenv = lab.encrypted(writer, "secrets.env", VALUES_ENV);
        let files = [("secrets.yaml", flat), ("nested.yaml", nested), ("secrets.env", dotenv)];
        for argv in [
            &["-d", "--output-type", "dotenv", "secrets.yaml"][..],
            &["--decrypt", "--output-type", "dotenv", "secrets.env"][..],
            &[
                "-d",
                "--output-type",
                "dotenv",
                "--extract",
                "[\"PASSWORD\"]",
                "secrets.yaml",
            ][..],
            &["-d", "--output-type", "dotenv", "nested.yaml"][..],
        ] {
            let [(sops, _), (ksec, _)] = both(&lab, "direnv", &files, argv, None, &[]);
            assert_same_output(&format!("direnv {argv:?}"), &sops, &ksec);
            row("direnv", &argv.join(" "), &sops, &ksec, "same stdout and exit");
        }
    }
}

/// git's textconv with the drivers people configure: `sops decrypt` (sops's README),
/// `sops -d` and `sops -d --config /dev/null`; git runs them through the shell with the path of
/// a temp file holding the blob, under the file's name.
#[test]
fn git_textconv_diffs_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let Some(git) = common::tool_on_path("git") else { return };
    for writer in writers() {
        let before = lab.encrypted(writer, "secrets.yaml", VALUES_YAML);
        let after = lab.encrypted(writer, "secrets.yaml", EDITED_YAML);
        for driver in ["sops decrypt", "sops -d", "sops -d --config /dev/null"] {
            let runs = BOTH.map(|tool| {
                let dir = lab.workdir(
                    &format!("git-{writer:?}"),
                    tool,
                    &[(".gitattributes", b"*.yaml diff=sopsdiffer\n".to_vec())],
                );
                let git_run = |args: &[&str]| {
                    lab.command(tool, &git, &dir)
                        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                        .args(args)
                        .run()
                };
                git_run(&["init", "-q"]);
                git_run(&["config", "diff.sopsdiffer.textconv", driver]);
                for (message, content) in [("one", &before), ("two", &after)] {
                    fs::write(dir.join("secrets.yaml"), content).expect("write");
                    git_run(&["add", "."]);
                    git_run(&["commit", "-q", "-m", message]);
                }
                git_run(&["diff", "HEAD~1", "HEAD", "--", "secrets.yaml"])
            });
            let [sops, ksec] = runs;
            assert_same_output(&format!("git textconv `{driver}`"), &sops, &ksec);
            assert!(
                ksec.stdout_text().contains("+    password: changed"),
                "{}",
                ksec.stdout_text()
            );
            row(
                "git textconv",
                &format!("{driver} TMPFILE (git diff)"),
                &sops,
                &ksec,
                "same diff and exit",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// community.sops itself: its Python runner, driving each `sops`
// ---------------------------------------------------------------------------------------------

/// The Ansible release whose community.sops (2.2.x, with the ≥ 3.9.0 subcommand paths) the test
/// runs; the newest that installs on the Python of the build machines (3.11).
const ANSIBLE: &str = "ansible==12.3.0";

/// A Python that imports community.sops: `KSEC_PEER_COMMUNITY_SOPS_PYTHON`, else a virtualenv
/// in the peers' cache (`$KSEC_PEERS_DIR`, else `~/.cache/ksec-peers`), installed from PyPI the
/// first time. Missing, it fails the test under `CI` and skips it otherwise.
fn community_sops_python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("KSEC_PEER_COMMUNITY_SOPS_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let cache = std::env::var_os("KSEC_PEERS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ksec-peers")))?;
    let venv = cache.join("community-sops");
    let python = venv.join("bin/python");
    let imports = |python: &Path| {
        Command::new(python)
            .args([
                "-c",
                "import ansible_collections.community.sops.plugins.module_utils.sops",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !imports(&python) {
        let installed = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", ANSIBLE])
                .status()
                .is_ok_and(|s| s.success());
        if !installed || !imports(&python) {
            let why = format!("cannot install {ANSIBLE} (community.sops) into {}", venv.display());
            assert!(
                std::env::var_os("CI").is_none(),
                "{why}: CI must run community.sops itself"
            );
            eprintln!("note: skipping the community.sops runner test: {why}");
            return None;
        }
    }
    Some(python)
}

/// What the driver asks community.sops's `SopsRunner` (plugins/module_utils/sops.py:150-294)
/// to do, as its lookup, vars plugin, decrypt filter and sops_encrypt module do: it probes the
/// version itself and picks the command lines by it.
const COMMUNITY_SOPS_DRIVER: &str = r#"
import json, sys
from ansible_collections.community.sops.plugins.module_utils.sops import SopsRunner
binary, workdir, recipient = sys.argv[1:4]
runner = SopsRunner(binary)
options = {'age': [recipient], 'config_path': workdir + '/.sops.yaml'}
get = options.get
out = {'version_at_least_3_9': runner.version >= (3, 9, 0)}
path = workdir + '/vars.sops.yaml'
out['lookup'] = runner.decrypt(path, get_option_value=get)
out['lookup_json'] = runner.decrypt(path, output_type='json', rstrip=False, get_option_value=get)
out['lookup_extract'] = runner.decrypt(path, extract='["db"]["password"]', get_option_value=get)
with open(path, 'rb') as f:
    out['filter'] = runner.decrypt(None, content=f.read(), input_type='yaml', output_type='yaml', get_option_value=get)
encrypted = runner.encrypt(b'token: s3cret\n', cwd=workdir, input_type='yaml', output_type='yaml',
                           filename='new.sops.yaml', get_option_value=get)
with open(workdir + '/new.sops.yaml', 'wb') as f:
    f.write(encrypted)
out['encrypted_then_looked_up'] = runner.decrypt(workdir + '/new.sops.yaml', get_option_value=get)
out['filestatus'] = [runner.get_filestatus(path).encrypted, runner.get_filestatus(workdir + '/.sops.yaml').encrypted]
print(json.dumps(out, sort_keys=True))
"#;

/// community.sops's own Python runner, with `sops` being ksec and being the real sops: the same
/// answers (it detects 3.9.0 or later with both and takes the subcommand paths).
#[test]
fn community_sops_runner_gets_the_same_answers_from_ksec() {
    let Some(lab) = Lab::new() else { return };
    let Some(python) = community_sops_python() else { return };
    for writer in writers() {
        let file = lab.encrypted(writer, "vars.sops.yaml", VALUES_YAML);
        let files = [("vars.sops.yaml", file), (".sops.yaml", sops_yaml().into_bytes())];
        let [sops, ksec] = BOTH.map(|tool| {
            let dir = lab.workdir(&format!("community-sops-{writer:?}"), tool, &files);
            lab.command(tool, &python, &dir)
                .args(["-c", COMMUNITY_SOPS_DRIVER])
                .arg(lab.sops_path(tool))
                .arg(&dir)
                .arg(RECIPIENT)
                .run()
        });
        assert_eq!(
            sops.code,
            0,
            "community.sops with the real sops: {}",
            sops.stderr_text()
        );
        assert_eq!(ksec.code, 0, "community.sops with ksec: {}", ksec.stderr_text());
        assert_eq!(sops.stdout_text(), ksec.stdout_text(), "community.sops's answers");
        assert!(
            ksec.stdout_text().contains("\"version_at_least_3_9\": true"),
            "{}",
            ksec.stdout_text()
        );
        row(
            "community.sops (its SopsRunner)",
            "version probe, decrypt, decrypt --extract, /dev/stdin filter, encrypt --filename-override, filestatus",
            &sops,
            &ksec,
            "same answers",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The shared vectors, in the legacy form
// ---------------------------------------------------------------------------------------------

/// The age-decryptable vectors of `../shared/vectors/sops-upstream` (tests/interop_sops.rs runs
/// them with `decrypt`): with `sops -d FILE` both tools print the same bytes and exit alike,
/// failures included (a MAC mismatch also with `-d --ignore-mac`); and every vector plaintext
/// encrypted with `sops -e --age R FILE` decrypts (with the real sops) to the same bytes
/// whichever tool encrypted it.
#[test]
fn shared_vectors_in_the_legacy_form_behave_as_with_sops() {
    let Some(lab) = Lab::new() else { return };
    let root = common::vectors();
    let keys = lab.dir.side("keys").join("both-keys.txt");
    let both_keys = format!(
        "{}\n{}\n",
        fs::read_to_string(common::vector_key()).expect("key 1"),
        fs::read_to_string(common::vector_key_2()).expect("key 2")
    );
    fs::write(&keys, both_keys).expect("keys");
    let ssh = root.join("keys/age-ssh-test-ed25519");
    let env = [
        ("SOPS_AGE_KEY_FILE", keys.to_str().expect("utf-8")),
        ("SOPS_AGE_SSH_PRIVATE_KEY_FILE", ssh.to_str().expect("utf-8")),
    ];
    let mut checked = 0;
    for dir in ["generated-by-sops-3.11.0", "crafted-independent-writer"] {
        for entry in sorted(&root.join(dir)) {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let encrypted = [".enc.yaml", ".enc.json", ".enc.env", ".enc.ini", ".enc.bin"]
                .iter()
                .any(|ext| name.ends_with(ext));
            // The PGP-only vectors are tests/keys.rs's (they need a keyring).
            if !encrypted || name.starts_with("pgp-") {
                continue;
            }
            let files = [(name.as_str(), read(&entry))];
            let [(sops, _), (ksec, _)] = both(&lab, "vectors-d", &files, &["-d", &name], None, &env);
            let what = format!("sops -d {dir}/{name}");
            if name == "neg-type-bytes.enc.json" {
                // sops 3.11 panics on `type:bytes` (Go exits 2); ksec refuses the value.
                assert_eq!(sops.code, 2, "{what}");
                assert!(
                    ksec.code != 0 && ksec.stdout.is_empty(),
                    "{what}: {}",
                    ksec.stderr_text()
                );
            } else {
                assert_same_output(&what, &sops, &ksec);
            }
            if sops.code == 51 {
                let argv = ["-d", "--ignore-mac", name.as_str()];
                let [(sops, _), (ksec, _)] = both(&lab, "vectors-d-ignore-mac", &files, &argv, None, &env);
                assert_same_output(&format!("sops -d --ignore-mac {dir}/{name}"), &sops, &ksec);
            }
            checked += 1;
        }
    }
    // No key exists for these (a lost PGP key, AWS KMS): both tools exit 128.
    for entry in sorted(&root.join("upstream-v3.11.0/legacy-undecryptable")) {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let files = [(name.as_str(), read(&entry))];
        let [(sops, _), (ksec, _)] = both(&lab, "vectors-d-no-key", &files, &["-d", &name], None, &env);
        assert_same_output(&format!("sops -d legacy-undecryptable/{name}"), &sops, &ksec);
        assert_eq!(ksec.code, 128);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} vectors found under {}", root.display());
    eprintln!("legacy form: {checked} vectors decrypt with `sops -d` exactly as with the real sops");

    let mut encrypted = 0;
    for dir in ["generated-by-sops-3.11.0", "crafted-independent-writer"] {
        for entry in sorted(&root.join(dir)) {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if !name.contains(".plain.") {
                continue;
            }
            let files = [(name.as_str(), read(&entry))];
            let argv = ["-e", "--age", RECIPIENT, name.as_str()];
            let runs = both(&lab, "vectors-e", &files, &argv, None, &env);
            if ROUNDED_BY_SOPS.contains(&name.as_str()) {
                let [(sops, _), (ksec, _)] = &runs;
                assert_eq!(sops.code, 0, "sops -e {name}: {}", sops.stderr_text());
                assert_eq!(ksec.code, 2, "sops -e {name} through ksec: {}", ksec.stderr_text());
                assert!(
                    ksec.stderr_text().contains("an integer beyond 64 bits"),
                    "{}",
                    ksec.stderr_text()
                );
                assert!(ksec.stdout.is_empty());
                encrypted += 1;
                continue;
            }
            let decrypted = runs.map(|(run, dir)| {
                assert_eq!(run.code, 0, "sops -e {name}: {}", run.stderr_text());
                let file = dir.join(name.replacen(".plain.", ".enc.", 1));
                fs::write(&file, &run.stdout).expect("write");
                lab.real_decrypt(&file, None)
            });
            assert_same_output(
                &format!("the real sops on `sops -e {name}`'s output"),
                &decrypted[0],
                &decrypted[1],
            );
            encrypted += 1;
        }
    }
    assert!(encrypted >= 10, "only {encrypted} vector plaintexts found");
    eprintln!("legacy form: {encrypted} vector plaintexts encrypted with `sops -e` decrypt alike");
}

/// Vector plaintexts holding a JSON integer beyond 64 bits (`"big": 12345678901234567890`),
/// which sops encrypts as a float and decrypts rounded (`12345678901234567000`); ksec refuses
/// them with the place and exit 2 rather than change the number without a word.
const ROUNDED_BY_SOPS: &[&str] = &["types.plain.json"];

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

// ---------------------------------------------------------------------------------------------
// Failures, as scripts see them
// ---------------------------------------------------------------------------------------------

/// The failures tools branch on exit with sops's codes: no file (100), a missing file (100),
/// an unknown flag (1), `-i` with `--output` (8), a flag missing its value (1), a file without
/// sops metadata (1), a tampered value (51 MAC mismatch), no key (128), a bad --set (7), and
/// edit's unchanged (200) and failing editor (201).
#[test]
fn failures_exit_with_sops_codes() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.encrypted(Tool::Sops, "secrets.yaml", VALUES_YAML);
    // A value removed after encryption: every other value decrypts, the MAC does not match.
    let tampered: String = text(&file)
        .lines()
        .filter(|line| !line.starts_with("replicas:"))
        .map(|line| format!("{line}\n"))
        .collect();
    let files = [
        ("secrets.yaml", file.clone()),
        ("plain.yaml", VALUES_YAML.as_bytes().to_vec()),
        ("tampered.yaml", tampered.into_bytes()),
    ];
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32);
    let cases: [Case; 11] = [
        (&["-d"], &[], 100),
        (&["-d", "missing.yaml"], &[], 100),
        (&["-d", "--no-such-flag", "secrets.yaml"], &[], 1),
        (&["decrypt", "--no-such-flag", "secrets.yaml"], &[], 1),
        (&["-d", "-i", "--output", "x.yaml", "secrets.yaml"], &[], 8),
        (&["-d", "--output"], &[], 1),
        (&["-d", "plain.yaml"], &[], 1),
        (&["-d", "tampered.yaml"], &[], 51),
        (&["-d", "secrets.yaml"], &[("SOPS_AGE_KEY_FILE", "/dev/null")], 128),
        (&["--set", "no-path-here", "secrets.yaml"], &[], 7),
        (&["secrets.yaml"], &[("EDITOR", "false")], 201),
    ];
    for (argv, env, code) in cases {
        let [(sops, _), (ksec, _)] = both(&lab, "failures", &files, argv, None, env);
        assert_eq!(
            (sops.code, ksec.code),
            (code, code),
            "sops {argv:?}:\n{}\n{}",
            sops.stderr_text(),
            ksec.stderr_text()
        );
        assert!(
            ksec.stdout.is_empty(),
            "sops {argv:?}: nothing on stdout: {}",
            ksec.stdout_text()
        );
        row("scripts", &argv.join(" "), &sops, &ksec, "same exit code");
    }
}

// ---------------------------------------------------------------------------------------------
// Under its own name and as sops
// ---------------------------------------------------------------------------------------------

/// `--version` names sops 3.13.2 first only under the name `sops`; `ksec version` and
/// `ksec --version` name ksec. `completion bash|zsh` prints a script for the name `sops`.
#[test]
fn version_and_completion_answer_for_the_name_run() {
    let Some(lab) = Lab::new() else { return };
    let dir = lab.workdir("version", Tool::Ksec, &[]);
    let version = env!("CARGO_PKG_VERSION");
    let sops = lab.run(Tool::Ksec, &dir, &["--version"], None, &[]);
    assert_eq!(
        (sops.code, sops.stdout_text()),
        (0, format!("sops 3.13.2 (ksec {version})\n"))
    );
    for argv in [&["--version"][..], &["version"][..]] {
        let ksec = lab.prepare(Tool::Ksec, lab.dir.ksec(), &dir).args(argv).run();
        assert_eq!(
            (ksec.code, ksec.stdout_text()),
            (0, format!("ksec {version}\n")),
            "ksec {argv:?}"
        );
    }
    for shell in ["bash", "zsh"] {
        let [(sops, _), (ksec, _)] = both(&lab, "completion", &[], &["completion", shell], None, &[]);
        assert_eq!((sops.code, ksec.code), (0, 0), "{}", ksec.stderr_text());
        assert!(
            ksec.stdout_text().contains("sops") && ksec.stdout_text().contains("decrypt"),
            "{}",
            ksec.stdout_text()
        );
        row(
            "shells",
            &format!("completion {shell}"),
            &sops,
            &ksec,
            "both print a script for `sops`",
        );
    }
}

/// A note ksec prints under its own name (the rule it chose for Kubernetes manifests) is not
/// printed under the name `sops`, where tools read stderr as data or as an error.
#[test]
fn notes_are_silent_under_the_sops_name() {
    let Some(lab) = Lab::new() else { return };
    let manifest =
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ntype: Opaque\nstringData:\n    password: hunter2\n";
    let dir = lab.workdir("notes", Tool::Ksec, &[("secret.yaml", manifest.as_bytes().to_vec())]);
    let as_sops = lab.run(Tool::Ksec, &dir, &["-e", "--age", RECIPIENT, "secret.yaml"], None, &[]);
    assert_eq!(as_sops.code, 0, "{}", as_sops.stderr_text());
    assert_eq!(as_sops.stderr_text(), "", "nothing on stderr on success as sops");
    let as_ksec = lab
        .prepare(Tool::Ksec, lab.dir.ksec(), &dir)
        .args(["encrypt", "--age", RECIPIENT, "secret.yaml"])
        .run();
    assert!(
        as_ksec.stderr_text().contains("ksec: note:"),
        "{}",
        as_ksec.stderr_text()
    );
}

// ---------------------------------------------------------------------------------------------
// JSON integers beyond 2^53 (sops 3.13)
// ---------------------------------------------------------------------------------------------

/// sops 3.13 keeps JSON integers that fit 64 bits exactly, and so does ksec: encrypted (as
/// `type:int`, which sops 3.11 decrypts exactly too) and in clear. A file sops 3.11 wrote with
/// such an integer in clear (its MAC over the float rounding) still opens.
#[test]
fn json_integers_beyond_2_53_stay_exact() {
    let Some(lab) = Lab::new() else { return };
    let plain = "{\n\t\"id\": 9007199254740993,\n\t\"secret\": 9223372036854775807\n}\n";
    let files = [("big.json", plain.as_bytes().to_vec())];
    // Encrypted: exact with ksec, and with sops 3.11 reading ksec's file.
    let dir = lab.workdir("big-ints", Tool::Ksec, &files);
    let encrypted = lab.run(Tool::Ksec, &dir, &["-e", "--age", RECIPIENT, "big.json"], None, &[]);
    assert_eq!(encrypted.code, 0, "{}", encrypted.stderr_text());
    assert!(
        encrypted.stdout_text().contains("type:int]"),
        "{}",
        encrypted.stdout_text()
    );
    fs::write(dir.join("big.enc.json"), &encrypted.stdout).expect("write");
    let by_ksec = lab.run(Tool::Ksec, &dir, &["-d", "big.enc.json"], None, &[]);
    assert_eq!(
        (by_ksec.code, by_ksec.stdout_text()),
        (0, plain.to_string()),
        "{}",
        by_ksec.stderr_text()
    );
    assert_eq!(
        lab.real_decrypt(&dir.join("big.enc.json"), None).stdout_text(),
        plain,
        "sops 3.11 on ksec's file"
    );

    // In clear (only `secret` encrypted), as ksec 0.1 wrote it: the integer's own text, the MAC
    // over its float64 rounding (sops 3.11 writes the rounding itself, 9007199254740992).
    // sops 3.11 accepts such a file, and ksec still opens it.
    let argv = [
        "--config",
        "/dev/null",
        "encrypt",
        "--encrypted-regex",
        "^secret$",
        "--age",
        RECIPIENT,
        "big.json",
    ];
    let by_sops = lab.run(
        Tool::Sops,
        &lab.workdir("big-ints-clear", Tool::Sops, &files),
        &argv,
        None,
        &[],
    );
    assert_eq!(by_sops.code, 0, "{}", by_sops.stderr_text());
    let exact_text = text(&by_sops.stdout).replace("\"id\": 9007199254740992", "\"id\": 9007199254740993");
    assert!(exact_text.contains("\"id\": 9007199254740993"), "{exact_text}");
    let dir = lab.workdir(
        "big-ints-old-file",
        Tool::Ksec,
        &[("big.enc.json", exact_text.clone().into_bytes())],
    );
    assert_eq!(
        lab.real_decrypt(&dir.join("big.enc.json"), None).code,
        0,
        "sops 3.11 accepts it"
    );
    let opened = lab.run(Tool::Ksec, &dir, &["-d", "big.enc.json"], None, &[]);
    assert_eq!(opened.code, 0, "{}", opened.stderr_text());
    assert!(
        opened.stdout_text().contains("\"id\": 9007199254740993"),
        "{}",
        opened.stdout_text()
    );
    // Tampering is still caught: an integer with another rounding in its place.
    let tampered = exact_text.replace("9007199254740993", "9007199254741993");
    fs::write(dir.join("tampered.json"), tampered).expect("write");
    let refused = lab.run(Tool::Ksec, &dir, &["-d", "tampered.json"], None, &[]);
    assert_eq!(refused.code, 51, "{}", refused.stderr_text());
}
