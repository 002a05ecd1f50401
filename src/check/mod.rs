//! `ksec check`: what a CI job or a pre-commit hook needs to know without any key.
//!
//! A file is a problem when it holds a Kubernetes Secret in clear (wholly or partly), when a
//! `.sops.yaml` creation rule covers it or its name says it is encrypted (`db.enc.yaml`,
//! `app.sops.json`) but it is not (an empty file left by a failed `> db.enc.yaml` redirect
//! included), when a Secret is one the API server would refuse, when its `sops` metadata is
//! malformed, or when it holds a private key ([`private_keys`]). Nothing is decrypted.

mod private_keys;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::config::Config;
use crate::crypt::cipher::Ciphertext;
use crate::error::Error;
use crate::formats::{self, Format};
use crate::io::{self, Input};
use crate::kube;
use crate::metadata::Metadata;
use crate::sops_file::EncryptedFile;
use crate::tree::Node;

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

/// What `check` found: the problems, in file order, and how many files it read.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<Problem>,
    /// Files read (binary files no name or rule claims are skipped unread and not counted).
    pub files_read: usize,
}

/// Checks each file; problems come in file order. A file that cannot be read, or that is
/// refused for the work reading it would cause (an alias bomb), fails the check: it cannot be
/// told free of Secrets in clear.
pub fn check_files(files: &[PathBuf], config: Option<&Config>) -> Result<Report, Error> {
    let mut report = Report::default();
    for file in files {
        if check_file(file, config, &mut report.problems)? {
            report.files_read += 1;
        }
    }
    Ok(report)
}

/// Whether a file's name says it is encrypted, as the usual conventions name encrypted files:
/// `enc` or `sops` as a later part of the name (`db.enc.yaml`, `app.sops.json`, `key.enc`).
/// The config file `.sops.yaml` itself is not one.
pub fn name_says_encrypted(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.trim_start_matches('.')
        .split('.')
        .skip(1)
        .any(|part| part == "enc" || part == "sops")
}

/// Checks one file; returns whether it was read.
fn check_file(path: &Path, config: Option<&Config>, problems: &mut Vec<Problem>) -> Result<bool, Error> {
    let mut report = |message: String| {
        problems.push(Problem {
            file: path.to_path_buf(),
            message,
        })
    };
    let name = path.display().to_string();
    let required = config.and_then(|c| c.rule_requiring_encryption(path).map(|_| c));
    let says_encrypted = name_says_encrypted(path);
    let named = Format::from_path(path);
    // Neither its name nor a rule says what this file holds: a README, a logo, a build log,
    // anything a pre-commit hook passes. It is judged only as the manifests or the encrypted
    // file it may be, never for its syntax; binary content is not read at all, and text that
    // mentions neither a Secret nor sops is only searched for private keys.
    let unclaimed = named.is_none() && required.is_none() && !says_encrypted;
    if unclaimed && io::starts_binary(path)? {
        return Ok(false);
    }
    let input = Input::File(path.to_path_buf()).read()?;
    for key in private_keys::find(&input) {
        report(format!(
            "line {}: {}: private keys must stay out of Git (remove it, and replace the key if it was ever pushed)",
            key.line, key.kind
        ));
    }
    if let Some(problem) = empty_but_claimed(&input, required, says_encrypted) {
        report(problem);
        return Ok(true);
    }
    if unclaimed && !may_hold_secrets(&input) {
        return Ok(true);
    }
    // sops encrypts a file of no known type whole (binary); so is such a file read here when a
    // rule or its name says it is encrypted. Others are read as YAML, the manifests they
    // usually are.
    let format = named.unwrap_or(if unclaimed { Format::Yaml } else { Format::Binary });
    let tree = match formats::parse(format, &input, &name) {
        Ok(tree) => tree,
        Err(e) if e.is_limit() => return Err(e.into()),
        // Templates (Helm charts) are not YAML; only files that claim to hold secrets matter.
        Err(e) if !unclaimed && (mentions_secrets(&input) || says_encrypted) => {
            report(format!("cannot be read: {}", without_file(&e, &name)));
            return Ok(true);
        }
        Err(_) => return Ok(true),
    };
    let encrypted = tree.documents.iter().any(|d| d.metadata.is_some());
    if unclaimed && !encrypted && !kube::is_manifest_stream(&tree) {
        return Ok(true);
    }
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
        if secrets.is_empty() {
            if let Some(config) = required {
                report(format!(
                    "a creation rule in {} covers it, but it is not encrypted",
                    config.path.display()
                ));
            } else if says_encrypted {
                report("its name says it is encrypted, but it is not".into());
            }
        }
        for finding in kube::validate(&tree, false) {
            report(finding.to_string());
        }
        return Ok(true);
    }
    if tree
        .documents
        .iter()
        .any(|d| d.metadata.is_none() && d.root.entries().next().is_some())
    {
        report("some documents have no sops metadata".into());
    }
    // sops writes the same block into every document and reads the first; a block edited in a
    // later document is reported too, with its number, unless the first has the same problem.
    let mut first = None;
    let mut seen: Vec<String> = Vec::new();
    for (i, document) in tree.documents.iter().enumerate() {
        let Some(node) = &document.metadata else { continue };
        let (meta, problems) = metadata_problems(node, &name);
        if i == 0 {
            first = meta;
        }
        for problem in problems {
            if !seen.contains(&problem) {
                report(match i {
                    0 => problem.clone(),
                    _ => format!("document {}: {problem}", i + 1),
                });
                seen.push(problem);
            }
        }
    }
    let in_secrets = kube::plaintext_in_secrets(&tree);
    let invalid = kube::validate(&tree, true);
    if first.is_some()
        && let Ok(file) = EncryptedFile::from_parsed(tree, format, name.as_str())
    {
        let rule = file.metadata().effective_rule();
        for key_path in file.values_in_clear() {
            // Secret values are reported below, with their document.
            if !in_secrets.iter().any(|f| f.field == key_path) {
                report(format!(
                    "{key_path}: in clear, though the file's {} says it is encrypted",
                    rule.field_name()
                ));
            }
        }
    }
    for finding in in_secrets.iter().chain(&invalid) {
        report(finding.to_string());
    }
    Ok(true)
}

/// The problem with a file that holds nothing (or only blanks) though a rule or its name says
/// it is encrypted: what a shell leaves of `ksec encrypt … > db.enc.yaml` when ksec refuses.
fn empty_but_claimed(input: &[u8], required: Option<&Config>, says_encrypted: bool) -> Option<String> {
    if !input.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let claim = match required {
        Some(config) => format!("a creation rule in {} covers it", config.path.display()),
        None if says_encrypted => "its name says it is encrypted".to_string(),
        None => return None,
    };
    Some(format!(
        "empty, but {claim} (a failed `ksec encrypt … > FILE` leaves such a file: \
         use --output FILE, which writes nothing on failure)"
    ))
}

/// The metadata a `sops` block reads as, and what is wrong with it.
fn metadata_problems(node: &Node, name: &str) -> (Option<Metadata>, Vec<String>) {
    match Metadata::from_node(node, name) {
        Err(e) => (
            None,
            vec![format!("malformed sops metadata: {}", without_file(&e, name))],
        ),
        Ok(meta) => {
            let mut problems = Vec::new();
            if Ciphertext::parse(&meta.mac).is_err() {
                problems.push("malformed sops metadata: the mac is missing or not a sops ciphertext".to_string());
            }
            (Some(meta), problems)
        }
    }
}

/// Whether unparseable text looks like it holds secrets: sops data, or a `kind` of `Secret`
/// written any way YAML or JSON allows (`kind: Secret # …`, `kind: "Secret"`, `"kind":"Secret"`).
fn mentions_secrets(input: &[u8]) -> bool {
    static SECRETS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"ENC\[AES256_GCM|(?:^|[\s{,"'])kind["']?[ \t]*:[ \t]*["']?Secret(?:$|[\s,}"'#])"#)
            .expect("the pattern is a valid regex")
    });
    SECRETS.is_match(input)
}

/// Whether a file no name or rule claims is worth parsing: text (no NUL, valid UTF-8) that
/// could be a manifest stream with a Secret (`apiVersion` and a Secret kind) or an encrypted
/// file (a top-level `sops` key). A few passes over the bytes, so a large log costs little.
fn may_hold_secrets(input: &[u8]) -> bool {
    static SOPS_KEY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?m:^sops:)|"sops"[ \t]*:"#).expect("the pattern is a valid regex"));
    static API_VERSION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("apiVersion").expect("the pattern is a valid regex"));
    let manifest = || API_VERSION.is_match(input) && mentions_secrets(input);
    !input.contains(&0) && std::str::from_utf8(input).is_ok() && (SOPS_KEY.is_match(input) || manifest())
}

/// An error's message without the file name the report line already starts with.
fn without_file(error: &impl std::fmt::Display, name: &str) -> String {
    let text = error.to_string();
    text.strip_prefix(name)
        .and_then(|t| t.strip_prefix(": "))
        .map(str::to_string)
        .unwrap_or(text)
}
