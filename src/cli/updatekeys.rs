//! `ksec updatekeys PATH…`: make each encrypted file's recipients those of its creation rule.

use std::io::{BufRead, IsTerminal, Write};

use super::args::{GlobalArgs, UpdatekeysArgs};
use super::inputs;
use crate::error::Error;
use crate::formats::{self, Format};
use crate::io::{self, Input};
use crate::keys::{Identities, ProcessEnv};
use crate::rekey::{self, Target};

pub fn run(global: &GlobalArgs, args: &UpdatekeysArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?
        .ok_or_else(|| Error::Usage("updatekeys needs a .sops.yaml (none found; pass --config)".into()))?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref())?;
    let forced = args.input_type.as_deref().map(Format::from_name).transpose()?;
    let explicit_files: Vec<_> = args.paths.iter().filter(|p| !p.is_dir()).cloned().collect();
    // Every file is worked out before any is written: a file that fails (no creation rule, no
    // key) stops the run with nothing half done.
    let mut planned = Vec::new();
    for path in io::collect_files(&args.paths, true)? {
        let name = path.display().to_string();
        let input = Input::File(path.clone()).read()?;
        // Directories hold plaintext files too; only files named explicitly must be encrypted.
        let parsed = match forced.or_else(|| Format::from_path(&path)) {
            Some(format) => formats::parse(format, &input, &name).map(|tree| (format, tree)),
            None => formats::parse_guessing(&input, &name),
        };
        let (format, encrypted) = match parsed {
            Ok((format, tree)) => (format, tree.documents.first().is_some_and(|d| d.metadata.is_some())),
            Err(_) => (Format::Yaml, false),
        };
        if !encrypted && !explicit_files.contains(&path) {
            continue;
        }
        let rule = config.rule_for(&path)?.ok_or_else(|| Error::NoMatchingCreationRule {
            config: config.path.clone(),
            file: name.clone(),
        })?;
        let groups = rule.recipient_groups()?;
        let target = Target {
            file: &name,
            format,
            identities: &identities,
            env: &ProcessEnv,
            output: inputs::output_options(&Default::default(), Some(&config)),
        };
        let threshold = args.shamir_secret_sharing_threshold.or(rule.shamir_threshold);
        let update = rekey::update_keys(&input, &target, &groups, threshold)?;
        planned.push((path, name, update));
    }
    for (path, name, update) in planned {
        let Some(output) = update.output else {
            eprintln!("{name}: already up to date");
            continue;
        };
        eprintln!("{name}: key changes:\n{}", update.changes.join("\n"));
        if args.dry_run {
            continue;
        }
        if !args.yes && !confirm(&name)? {
            eprintln!("{name}: left unchanged");
            continue;
        }
        io::write_file_atomic(&path, &output.bytes)?;
        eprintln!("{name}: updated");
    }
    Ok(())
}

/// Asks on the terminal; without one, the user must pass --yes (sops would wait forever).
fn confirm(name: &str) -> Result<bool, Error> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Usage(format!(
            "{name}: not a terminal to ask on; pass --yes to write the change"
        )));
    }
    eprint!("apply these changes to {name}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("reading the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
