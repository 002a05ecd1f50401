//! `ksec check`: what a CI job or a pre-commit hook needs to know without any key.
//!
//! A file is a problem when it holds a Kubernetes Secret in clear (wholly or partly), when a
//! `.sops.yaml` creation rule covers it but it is not encrypted, when a Secret is one the API
//! server would refuse, or when its `sops` metadata is malformed. Nothing is decrypted.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::crypt::cipher::Ciphertext;
use crate::crypt::{self, Selection};
use crate::error::Error;
use crate::formats::{self, Format};
use crate::io::Input;
use crate::kube;
use crate::metadata::Metadata;

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

/// Checks each file; problems come in file order.
pub fn check_files(files: &[PathBuf], config: Option<&Config>) -> Result<Vec<Problem>, Error> {
    let mut problems = Vec::new();
    for file in files {
        check_file(file, config, &mut problems)?;
    }
    Ok(problems)
}

/// Whether a file found in a directory is worth checking: a manifest (`*.yaml`, `*.yml`,
/// `*.json`), or any file a `.sops.yaml` rule says must be encrypted (`secrets/.*\.env`).
pub fn worth_checking(path: &Path, config: Option<&Config>) -> bool {
    matches!(Format::from_path(path), Some(Format::Yaml | Format::Json))
        || config.is_some_and(|c| c.rule_requiring_encryption(path).is_some())
}

fn check_file(path: &Path, config: Option<&Config>, problems: &mut Vec<Problem>) -> Result<(), Error> {
    let mut report = |message: String| {
        problems.push(Problem {
            file: path.to_path_buf(),
            message,
        })
    };
    let input = Input::File(path.to_path_buf()).read()?;
    let name = path.display().to_string();
    let required = config.and_then(|c| c.rule_requiring_encryption(path).map(|_| c));
    // sops encrypts a file of no known type whole (binary); so is such a file read here when a
    // rule requires it encrypted. Others are read as YAML, the manifests they usually are.
    let format = Format::from_path(path).unwrap_or(if required.is_some() {
        Format::Binary
    } else {
        Format::Yaml
    });
    let tree = match formats::parse(format, &input, &name) {
        Ok(tree) => tree,
        // Templates (Helm charts) are not YAML; only files that claim to hold secrets matter.
        Err(e) if mentions_secrets(&input) => {
            report(format!("cannot be read: {}", without_file(&e, &name)));
            return Ok(());
        }
        Err(_) => return Ok(()),
    };
    let encrypted = tree.documents.iter().any(|d| d.metadata.is_some());
    if !encrypted {
        // One line per Secret (a Secret with nothing to encrypt is fine as it is).
        let mut secrets: Vec<kube::ManifestId> = Vec::new();
        for finding in kube::plaintext_in_secrets(&tree) {
            if !secrets.contains(&finding.document) {
                secrets.push(finding.document);
            }
        }
        for id in &secrets {
            report(format!("{id}: the Secret is not encrypted"));
        }
        if let Some(config) = required
            && secrets.is_empty()
        {
            report(format!(
                "a creation rule in {} covers it, but it is not encrypted",
                config.path.display()
            ));
        }
        for finding in kube::validate(&tree, false) {
            report(finding.to_string());
        }
        return Ok(());
    }
    if tree
        .documents
        .iter()
        .any(|d| d.metadata.is_none() && d.root.entries().next().is_some())
    {
        report("some documents have no sops metadata".into());
    }
    let Ok((tree, node)) = tree.into_encrypted(&name) else {
        return Ok(());
    };
    match Metadata::from_node(&node, &name) {
        Err(e) => report(format!("malformed sops metadata: {}", without_file(&e, &name))),
        Ok(meta) => {
            if Ciphertext::parse(&meta.mac).is_err() {
                report("malformed sops metadata: the mac is missing or not a sops ciphertext".into());
            }
            let rule = meta.effective_rule();
            let selection = Selection {
                rule: &rule,
                mac_only_encrypted: meta.mac_only_encrypted,
            };
            let in_secrets: Vec<String> = kube::plaintext_in_secrets(&tree).into_iter().map(|f| f.field).collect();
            for key_path in crypt::values_in_clear(&tree, selection) {
                // Secret values are reported below, with their document.
                if !in_secrets.contains(&key_path) {
                    report(format!(
                        "{key_path}: in clear, though the file's {} says it is encrypted",
                        rule.field_name()
                    ));
                }
            }
        }
    }
    for finding in kube::plaintext_in_secrets(&tree) {
        report(finding.to_string());
    }
    for finding in kube::validate(&tree, true) {
        report(finding.to_string());
    }
    Ok(())
}

/// Whether unparseable text looks like it holds secrets (a Secret manifest or sops data).
fn mentions_secrets(input: &[u8]) -> bool {
    let text = String::from_utf8_lossy(input);
    text.contains("ENC[AES256_GCM")
        || text
            .lines()
            .any(|l| l.trim_start().trim_start_matches("- ") == "kind: Secret")
}

/// An error's message without the file name the report line already starts with.
fn without_file(error: &Error, name: &str) -> String {
    let text = error.to_string();
    text.strip_prefix(name)
        .and_then(|t| t.strip_prefix(": "))
        .map(str::to_string)
        .unwrap_or(text)
}
