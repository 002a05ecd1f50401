//! `ksec git-setup [--write]`: the `.gitattributes` lines and Git config that make `git diff`
//! show encrypted files decrypted and `git merge` merge them by their plaintext.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::args::GitSetupArgs;
use crate::error::Error;
use crate::io::{self, IoError};
use crate::process;

const DEFAULT_PATTERNS: [&str; 3] = ["*.enc.yaml", "*.enc.yml", "*.enc.json"];

/// `git config` settings: name, value.
const CONFIG: [(&str, &str); 3] = [
    ("diff.ksec.textconv", "ksec diff"),
    ("merge.ksec.name", "ksec: merge encrypted files by their plaintext"),
    ("merge.ksec.driver", "ksec merge %O %A %B %P"),
];

pub fn run(args: &GitSetupArgs) -> Result<(), Error> {
    let patterns: Vec<&str> = if args.pattern.is_empty() {
        DEFAULT_PATTERNS.to_vec()
    } else {
        args.pattern.iter().map(String::as_str).collect()
    };
    let attributes: Vec<String> = patterns.iter().map(|p| format!("{p} diff=ksec merge=ksec")).collect();
    if !args.write {
        let mut text = String::from("# .gitattributes\n");
        for line in &attributes {
            let _ = writeln!(text, "{line}");
        }
        text.push_str("\n# Git config (run once per clone; never set diff.ksec.cachetextconv)\n");
        for (name, value) in CONFIG {
            let _ = writeln!(text, "git config {name} '{value}'");
        }
        return Ok(io::write_stdout(text.as_bytes())?);
    }
    let root = repository_root()?;
    let path = root.join(".gitattributes");
    // Read under the lock it is written under, like every file ksec changes.
    let lock = super::inputs::lock_output(&path)?;
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(IoError::Read { path, source }.into()),
    };
    let missing: Vec<&String> = attributes
        .iter()
        .filter(|line| !existing.lines().any(|l| l.trim() == line.as_str()))
        .collect();
    if !missing.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &missing {
            let _ = writeln!(text, "{line}");
        }
        if existing.is_empty() && !path.exists() {
            // Not a secret: a new .gitattributes gets the usual permissions.
            std::fs::write(&path, text.as_bytes()).map_err(|source| IoError::Write {
                path: path.clone(),
                source,
            })?;
        } else {
            lock.replace(text.as_bytes())?;
        }
    }
    for (name, value) in CONFIG {
        process::git(&root, &["config", "--local", name, value])?;
    }
    super::note(&format!(
        "added {} line(s) to {} and set {} in the repository's Git config",
        missing.len(),
        path.display(),
        CONFIG.map(|(name, _)| name).join(", ")
    ));
    Ok(())
}

fn repository_root() -> Result<PathBuf, Error> {
    let out = process::git(Path::new("."), &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}
