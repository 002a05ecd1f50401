//! The files shipped beside the code stay true: completions match the CLI definitions,
//! `.sops.yaml.example` loads and routes files as its comments say, and CI runs the test
//! command the README gives.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

mod common;

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
        let path = common::root().join("completions").join(file);
        let shipped = std::fs::read(&path).unwrap_or_default();
        assert!(
            generated == shipped,
            "{} is stale: regenerate with `cargo run -- completions {shell} > completions/{file}`",
            path.display()
        );
    }
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
