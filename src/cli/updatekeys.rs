//! `ksec updatekeys PATH…`: make each encrypted file's recipients those of its creation rule.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::args::{GlobalArgs, UpdatekeysArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::config::Config;
use crate::config::ConfigError;
use crate::error::{CommandError, Error};
use crate::formats::{self, Format};
use crate::io::{self, Input, Walk};
use crate::keys::{Identities, ProcessEnv};
use crate::rekey::{self, Access};
use crate::sops_file::{EncryptedFile, MacPolicy};

pub fn run(global: &GlobalArgs, args: &UpdatekeysArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?.ok_or(CommandError::NoConfig)?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let forced = args.input_type.map(Format::from);
    let explicit_files: Vec<_> = args.paths.iter().filter(|p| !p.is_dir()).cloned().collect();
    let files = io::collect_files(&args.paths, true, Walk::AllFiles)?;
    // Every file is worked out before any is written, so nothing is half done when a plan
    // fails. As with sops, a file that fails (no creation rule, no key, no answer, a write
    // error) does not stop the others; it is reported and the run exits non-zero at the end.
    // The files are read without their locks, which would otherwise be held while the user
    // answers; each is written under its lock only if it is still as it was read.
    let mut failures = Failures::new(files.len() == 1);
    let mut planned = Vec::new();
    for path in &files {
        match plan(path, &config, &identities, forced, args, explicit_files.contains(path)) {
            Ok(Some((input, update))) => planned.push((path, input, update)),
            Ok(None) => {}
            Err(error) => failures.add(error),
        }
    }
    let considered = planned.len() + failures.errors.len();
    let mut reader = Answers::new();
    for (path, input, update) in planned {
        let name = path.display().to_string();
        let Some(output) = update.output else {
            eprintln!("{name}: already up to date");
            continue;
        };
        eprintln!("{name}: key changes:\n{}", update.changes.join("\n"));
        if args.dry_run {
            continue;
        }
        if !args.yes {
            match reader.confirm(&name) {
                Ok(true) => {}
                Ok(false) => {
                    eprintln!("{name}: left unchanged");
                    continue;
                }
                Err(error) => {
                    failures.add(error.into());
                    continue;
                }
            }
        }
        let written =
            inputs::lock_in_place(path).and_then(|lock| Ok(lock.replace_if_unchanged(Some(&input), &output.bytes)?));
        match written {
            Ok(()) => eprintln!("{name}: updated"),
            Err(error) => failures.add(error),
        }
    }
    failures.finish(considered)
}

/// The files that could not be updated.
struct Failures {
    errors: Vec<Error>,
    /// One file named on its own keeps its own error and exit code, as with sops; it is
    /// reported once, at the end.
    single: bool,
}

impl Failures {
    fn new(single: bool) -> Failures {
        Failures {
            errors: Vec::new(),
            single,
        }
    }

    /// Records a failure, reporting it now when other files follow.
    fn add(&mut self, error: Error) {
        if !self.single {
            super::report(&error);
        }
        self.errors.push(error);
    }

    fn finish(mut self, considered: usize) -> Result<(), Error> {
        match self.errors.len() {
            0 => Ok(()),
            _ if self.single => Err(self.errors.remove(0)),
            failed => Err(CommandError::SomeFilesFailed {
                failed,
                total: considered,
            }
            .into()),
        }
    }
}

/// A file as it was read, and its key update.
type Planned = (Zeroizing<Vec<u8>>, rekey::KeyUpdate);

/// The file as read and its new key groups, or `None` for a file in a directory that is not
/// encrypted (directories hold plaintext files too; a file named explicitly must be encrypted).
fn plan(
    path: &Path,
    config: &Config,
    identities: &Identities,
    forced: Option<Format>,
    args: &UpdatekeysArgs,
    explicit: bool,
) -> Result<Option<Planned>, Error> {
    let name = path.display().to_string();
    // A FIFO in a directory would block the read; one named explicitly is refused.
    if !explicit && std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
        return Ok(None);
    }
    if explicit {
        io::check_replaceable(path)?;
    }
    let input = Input::File(path.to_path_buf()).read()?;
    let parsed = match forced.or_else(|| Format::from_path(path)) {
        Some(format) => formats::parse(format, &input, &name).map(|tree| (format, tree)),
        None => formats::parse_guessing(&input, &name),
    };
    let (format, encrypted) = match parsed {
        Ok((format, tree)) => (format, tree.documents.first().is_some_and(|d| d.metadata.is_some())),
        Err(_) => (Format::Yaml, false),
    };
    if !encrypted && !explicit {
        return Ok(None);
    }
    // A file with other names (hard links) could not be updated under all of them.
    io::check_replaceable(path)?;
    let rule = config
        .rule_for(path)?
        .ok_or_else(|| ConfigError::NoMatchingCreationRule {
            config: config.path.clone(),
            file: name.clone(),
        })?;
    let groups = rule.recipient_groups()?;
    let access = Access {
        identities,
        mac: MacPolicy::from_ignore_mac_flag(args.ignore_mac),
        env: &ProcessEnv,
        output: inputs::output_options(&Default::default(), Some(config)),
    };
    let threshold = args.shamir_secret_sharing_threshold.or(rule.shamir_threshold);
    let update = rekey::update_keys(EncryptedFile::parse(&input, format, name)?, &access, &groups, threshold)?;
    Ok(Some((input, update)))
}

/// Where the yes/no answers come from: the terminal, or stdin when it is a pipe (`yes |
/// ksec updatekeys …`), as sops reads them.
struct Answers {
    stdin: std::io::Stdin,
    /// Input ended: the files still to ask about get no answer, without a prompt each.
    ended: bool,
}

impl Answers {
    fn new() -> Answers {
        Answers {
            stdin: std::io::stdin(),
            ended: false,
        }
    }

    /// Asks until the answer is yes or no; the end of input is an error that names --yes.
    fn confirm(&mut self, name: &str) -> Result<bool, CommandError> {
        let no_answer = || CommandError::NoAnswer { file: name.to_string() };
        if self.ended {
            return Err(no_answer());
        }
        loop {
            eprint!("apply these changes to {name}? [y/n] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let read = self
                .stdin
                .lock()
                .read_line(&mut answer)
                .map_err(|source| CommandError::ReadAnswer {
                    file: name.to_string(),
                    source,
                })?;
            if read == 0 {
                if !self.stdin.is_terminal() {
                    eprintln!();
                }
                self.ended = true;
                return Err(no_answer());
            }
            match answer.trim() {
                "y" | "Y" | "yes" => return Ok(true),
                "n" | "N" | "no" => return Ok(false),
                _ => {}
            }
        }
    }
}
