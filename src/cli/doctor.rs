//! `ksec doctor [FILE]`: every place ksec looks for identities and what it found there, the key
//! services' settings and the programs it would run; with FILE, the file's recipients, which of
//! them open here and why not, and the `.sops.yaml` rule that applies to it.
//!
//! It reuses what decryption itself uses (the identity sources each key type records, the config
//! lookup, [`probe`](crate::keys::probe)), so what it says is what `decrypt` would do. Public
//! keys, fingerprints and where a token comes from are shown; never a private key, a token or
//! the data key.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::args::{DoctorArgs, GlobalArgs};
use super::exit;
use super::inputs;
use super::terminal::Terminal;
use crate::config::{self, Config};
use crate::error::Error;
use crate::io::{self, Input};
use crate::keys::probe::{self, FileProbe};
use crate::keys::{Identities, ProcessEnv};
use crate::process;
use crate::sops_file::EncryptedFile;

pub fn run(global: &GlobalArgs, args: &DoctorArgs) -> Result<i32, Error> {
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    // Read and probed first: a source settled at use (a key command) reports its outcome then.
    let file = match &args.file {
        Some(path) => Some(read_and_probe(path, args, &identities)?),
        None => None,
    };
    let mut out = String::new();
    section(&mut out, "age identities", &identities.age.report());
    section(&mut out, "OpenPGP identities", &identities.pgp.report());
    section(
        &mut out,
        "key services",
        &identities.services.settings_report(&ProcessEnv),
    );
    section(&mut out, "programs", &programs(&identities));
    section(&mut out, "config", &config_lines(global, args.file.as_deref()));
    let found = !identities.age.is_empty() || !identities.pgp.is_empty();
    let code = match &file {
        Some((name, probe)) => {
            section(&mut out, &format!("file {name}"), &probe_lines(probe));
            verdict(&mut out, name, probe)
        }
        None if found => {
            out.push_str("result: identities found; name an encrypted file to see which of its recipients open here\n");
            0
        }
        None => {
            out.push_str(
                "result: no identity found; set SOPS_AGE_KEY_FILE (or put an age key in the default key file \
                 above), or import an OpenPGP secret key into gpg\n",
            );
            exit::NO_IDENTITY_FOUND
        }
    };
    io::write_stdout(out.as_bytes())?;
    Ok(code)
}

/// The file's name in the report, and how each of its keys fared.
fn read_and_probe(path: &Path, args: &DoctorArgs, identities: &Identities) -> Result<(String, FileProbe), Error> {
    let name = path.display().to_string();
    let input = Input::File(path.to_path_buf()).read()?;
    let format = inputs::format_of(path, args.input_type, &input)?;
    let file = EncryptedFile::parse(&input, format, name.clone())?;
    Ok((name, probe::probe(file.metadata(), identities)))
}

/// A heading and its lines, indented.
fn section(out: &mut String, title: &str, lines: &str) {
    let _ = writeln!(out, "{title}:");
    for line in lines.lines() {
        let _ = writeln!(out, "  {line}");
    }
}

/// The gpg and kubectl ksec would run, and the variables that choose them.
fn programs(identities: &Identities) -> String {
    let chosen_by = |var: &str| match std::env::var_os(var) {
        Some(value) => format!("{var}={}", value.to_string_lossy()),
        None => format!("{var} not set"),
    };
    let gpg = match identities.pgp.gpg_program() {
        Some(program) => program.display().to_string(),
        None => "not found".into(),
    };
    let kubectl_name = process::kubectl_program();
    let kubectl = match process::resolve_program(&kubectl_name) {
        Some(program) => program.display().to_string(),
        None => format!("{} not found", kubectl_name.to_string_lossy()),
    };
    format!(
        "gpg: {gpg} ({})\nkubectl: {kubectl} ({})",
        chosen_by("SOPS_GPG_EXEC"),
        chosen_by(process::KUBECTL_VAR)
    )
}

/// The `.sops.yaml` found (or given with `--config`) and, for a file, the rule that applies.
fn config_lines(global: &GlobalArgs, file: Option<&Path>) -> String {
    let (path, how) = match &global.config {
        Some(path) => (Some(path.clone()), "given with --config or SOPS_CONFIG".to_string()),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let lookup = config::find(&cwd);
            let how = match lookup.warning() {
                Some(warning) => format!("found above the working directory; {warning}"),
                None => "found above the working directory".to_string(),
            };
            match lookup.found {
                Some(found) => (Some(found), how),
                None => return format!(".sops.yaml: none in {} or above it", cwd.display()),
            }
        }
    };
    let Some(path) = path else {
        return String::new();
    };
    let mut text = format!(".sops.yaml: {} ({how})", path.display());
    match config::load(&path) {
        Err(e) => {
            let _ = write!(text, "\n  UNUSABLE: {e}");
        }
        Ok(config) => {
            if let Some(file) = file {
                let _ = write!(
                    text,
                    "\ncreation rule for {}: {}",
                    file.display(),
                    rule_line(&config, file)
                );
            }
        }
    }
    text
}

/// Which creation rule applies to `file` and the keys it names.
fn rule_line(config: &Config, file: &Path) -> String {
    let rule = match config.rule_for(file) {
        Ok(Some(rule)) => rule,
        Ok(None) => return "none (the config has no creation_rules)".into(),
        Err(e) => return format!("none: {e}"),
    };
    let regex = match &rule.path_regex {
        Some(re) => format!("path_regex {}", re.as_str()),
        None => "no path_regex: every file".into(),
    };
    let keys = match rule.recipient_groups() {
        Ok(groups) => groups
            .iter()
            .enumerate()
            .map(|(index, group)| {
                let names: Vec<String> = group
                    .names()
                    .iter()
                    .map(|(kind, name)| format!("{kind} {name}"))
                    .collect();
                format!("group {index}: {}", names.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("its keys cannot be used: {e}"),
    };
    format!("creation_rules[{}] ({regex}); {keys}", rule.index())
}

/// Each key group and each of its keys, and whether it opens here.
fn probe_lines(probe: &FileProbe) -> String {
    let mut text = String::new();
    for (index, group) in probe.groups.iter().enumerate() {
        let status = if group.opens() {
            "opens here"
        } else {
            "does not open here"
        };
        // Numbered from 0, as the "no key worked" report and `groups delete` count them.
        let _ = writeln!(text, "group {index}: {status}");
        for entry in &group.entries {
            let outcome = match &entry.outcome {
                Ok(()) => "OK, this machine can open it".to_string(),
                Err(reason) => format!("cannot open: {reason}"),
            };
            let _ = writeln!(text, "  {} {}: {outcome}", entry.kind, entry.name);
        }
    }
    text
}

/// The last line: whether the file opens here, and the exit code that says so.
fn verdict(out: &mut String, name: &str, probe: &FileProbe) -> i32 {
    let groups = probe.groups.len();
    if probe.can_open() {
        let _ = writeln!(
            out,
            "result: {name} can be opened here ({} of {groups} key groups open, {} needed)",
            probe.opened(),
            probe.needed
        );
        0
    } else {
        let _ = writeln!(
            out,
            "result: {name} cannot be opened here: {} of {groups} key groups open, {} needed; no identity found \
             matches enough of its recipients",
            probe.opened(),
            probe.needed
        );
        exit::COULD_NOT_RETRIEVE_KEY
    }
}
