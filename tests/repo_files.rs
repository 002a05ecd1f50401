//! The files shipped beside the code stay true: completions and man pages match the CLI
//! definitions, `.sops.yaml.example` loads and routes files as its comments say, and CI runs
//! the test command the README gives.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

mod common;

/// Set to rewrite the generated files instead of checking them: `KSEC_OVERWRITE=1 cargo test
/// --locked --test repo_files`.
const OVERWRITE: &str = "KSEC_OVERWRITE";

fn overwrite() -> bool {
    std::env::var_os(OVERWRITE).is_some_and(|v| !v.is_empty())
}

/// Checks (or with [`OVERWRITE`] writes) one generated file of the repository.
fn shipped_file_is(path: &Path, generated: &[u8]) {
    if overwrite() {
        std::fs::write(path, generated).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let shipped = std::fs::read(path).unwrap_or_default();
    assert!(
        generated == shipped,
        "{} is stale: regenerate with `{OVERWRITE}=1 cargo test --locked --test repo_files`",
        path.display()
    );
}

#[test]
fn completions_are_generated_from_the_current_cli() {
    for (shell, file) in [
        (Shell::Bash, "ksec.bash"),
        (Shell::Zsh, "ksec.zsh"),
        (Shell::Fish, "ksec.fish"),
        (Shell::Elvish, "ksec.elvish"),
        (Shell::PowerShell, "ksec.powershell"),
    ] {
        let mut generated = Vec::new();
        clap_complete::generate(shell, &mut ksec::cli::Cli::command(), "ksec", &mut generated);
        shipped_file_is(&common::root().join("completions").join(file), &generated);
    }
}

/// One man page per command (`ksec.1`, `ksec-encrypt.1`, `ksec-groups-add.1`, …), as rage
/// ships them, rendered from the same clap definitions as `--help`.
#[test]
fn man_pages_are_generated_from_the_current_cli() {
    let scratch = common::Dir::new();
    let generated_dir = scratch.side("man");
    clap_mangen::generate_to(ksec::cli::Cli::command(), &generated_dir).expect("render the man pages");
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| {
                        e.expect("read the directory")
                            .file_name()
                            .to_string_lossy()
                            .into_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let generated = names(&generated_dir);
    for page in ["ksec.1", "ksec-encrypt.1", "ksec-completion.1", "ksec-groups-add.1"] {
        assert!(generated.iter().any(|n| n == page), "no {page} in {generated:?}");
    }
    let man = common::root().join("man");
    if overwrite() {
        std::fs::create_dir_all(&man).expect("make man/");
        for stale in names(&man).iter().filter(|n| !generated.contains(n)) {
            std::fs::remove_file(man.join(stale)).expect("remove a page of a removed command");
        }
    }
    for page in &generated {
        let bytes = std::fs::read(generated_dir.join(page)).expect("read a rendered page");
        shipped_file_is(&man.join(page), &bytes);
    }
    assert_eq!(
        names(&man),
        generated,
        "man/ has pages of commands that are gone: regenerate with `{OVERWRITE}=1 cargo test --locked --test repo_files`"
    );
}

#[test]
fn sops_yaml_example_routes_files_as_documented() {
    let config = ksec::config::load(&common::root().join(".sops.yaml.example")).unwrap();
    let dir = common::root();
    let rule = |file: &str| config.rule_for(&dir.join(Path::new(file))).unwrap().unwrap();

    let k8s = rule("k8s/db.yaml");
    assert_eq!(k8s.encryption_rule.as_ref().unwrap().text(), "^(data|stringData)$");
    assert_eq!(k8s.key_groups().unwrap()[0].age.len(), 2);

    let prod = rule("prod/db.yaml");
    assert_eq!(prod.shamir_threshold, Some(2));
    assert_eq!(prod.key_groups().unwrap().len(), 3);

    let other = rule("notes/app.json");
    assert!(other.encryption_rule.is_none());
    assert_eq!(other.key_groups().unwrap()[0].age, [common::SAMPLE_RECIPIENT]);
    assert_eq!(config.stores.yaml_indent, Some(4));
}

#[test]
fn ci_runs_the_test_command_the_readme_gives() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme
        .split("Run the tests")
        .nth(1)
        .expect("README.md has a \"Run the tests\" paragraph");
    let command = section
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("\n```").next())
        .expect("a sh block after \"Run the tests\"");
    assert!(command.contains("cargo test"), "{command}");
    let ci = std::fs::read_to_string(common::root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|line| line.trim() == command.trim()),
        ".ci/run must run the README's test command verbatim: {command}"
    );
}

/// The README's Quick start, run as written by `sh -e` for a new user (an empty home, a fresh
/// Git repository), with ksec, age-keygen and kubectl on PATH; `kubectl apply` is a stand-in
/// that keeps what it was given, as there is no cluster.
#[test]
fn the_readme_quick_start_works_as_written() {
    let (Some(kubectl), Some(_), Some(_)) = (
        common::kubectl(),
        common::tool_on_path("age-keygen"),
        common::tool_on_path("git"),
    ) else {
        return;
    };
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let script = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|section| section.split("```sh\n").nth(1))
        .and_then(|block| block.split("\n```").next())
        .expect("a sh block in the Quick start");
    let lab = common::Dir::new();
    let bin = lab.side("bin");
    lab.link_program("bin", "ksec", env!("CARGO_BIN_EXE_ksec"));
    let applied = lab.root().join("applied.yaml");
    lab.script(
        "kubectl",
        &format!(
            "if [ \"$1\" = apply ]; then cat > '{}'; else exec '{}' \"$@\"; fi\n",
            applied.display(),
            kubectl.display()
        ),
    );
    lab.command("git").args(["init", "-q"]).run().ok();

    let out = lab
        .command("sh")
        .args(["-e", "-c", script])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("KUBECONFIG")
        .path_first(&bin)
        .run()
        .ok();
    let stderr = out.stderr_text();
    assert!(stderr.contains("ksec: checked 1 file, no problems"), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("AGE-SECRET-KEY"),
        "{stderr}"
    );

    // The identity is where ksec looks by default, private; the repository holds only the
    // encrypted file, staged.
    let keys = lab.home().join(".config/sops/age/keys.txt");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&keys).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the identity file is private");
    assert_eq!(lab.files(), [".git", "db.enc.yaml"]);
    let staged = lab
        .command("git")
        .args(["diff", "--cached", "--name-only"])
        .run()
        .ok()
        .stdout_text();
    assert_eq!(staged, "db.enc.yaml\n");
    let encrypted = lab.read_string("db.enc.yaml");
    assert!(encrypted.contains("password: ENC[AES256_GCM,") && !encrypted.contains("aHVudGVyMg=="));
    // What kubectl was given: the Secret, decrypted.
    let applied = std::fs::read_to_string(&applied).expect("kubectl apply ran");
    assert!(
        applied.contains("  password: aHVudGVyMg==\n") && applied.contains("kind: Secret"),
        "{applied}"
    );
}
