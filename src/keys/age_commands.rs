//! Identities that commands print: `SOPS_AGE_KEY_CMD` (age identity text) and
//! `SOPS_AGE_SSH_PRIVATE_KEY_CMD` (an SSH private key), run as sops 3.13 runs them: only when a
//! file needs an age key, once for each recipient of the file, with `SOPS_AGE_RECIPIENT` naming
//! that recipient, so one command can fetch the matching key from a password manager or vault.
//!
//! A command that fails is recorded and the other identities are still used, as sops does.

use std::fmt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use ::age::Identity;
use zeroize::Zeroizing;

use super::sources::Outcome;

/// The variable sops sets for a key command: the recipient whose key is wanted.
pub const RECIPIENT_VAR: &str = "SOPS_AGE_RECIPIENT";

/// Identities parsed from a command's output, or why there are none (never quoting it).
pub type ParseOutput = Box<dyn Fn(&[u8]) -> Result<Vec<Box<dyn Identity + Send + Sync>>, String> + Send + Sync>;

type Loaded = Arc<Vec<Box<dyn Identity + Send + Sync>>>;

/// A command that prints identities, run at most once per recipient.
pub struct KeyCommand {
    var: &'static str,
    command: Zeroizing<String>,
    parse: ParseOutput,
    runs: Mutex<Vec<(String, Loaded)>>,
    outcome: Outcome,
}

impl fmt::Debug for KeyCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCommand")
            .field("var", &self.var)
            .finish_non_exhaustive()
    }
}

impl KeyCommand {
    /// The command in variable `var`, its output read by `parse`.
    pub fn new(var: &'static str, command: Zeroizing<String>, parse: ParseOutput) -> KeyCommand {
        KeyCommand {
            var,
            command,
            parse,
            runs: Mutex::new(Vec::new()),
            outcome: Arc::default(),
        }
    }

    /// How reports name it: the variable and the command, unless the command line holds a key.
    pub fn source_name(&self) -> String {
        format!("{}={:?}", self.var, shown_command(&self.command))
    }

    /// What happened the last time it ran.
    pub fn outcome(&self) -> Outcome {
        Arc::clone(&self.outcome)
    }

    /// The identities the command prints for `recipient` (run once per recipient; none when it
    /// fails, which the outcome then says).
    pub fn identities_for(&self, recipient: &str) -> Loaded {
        let Ok(mut runs) = self.runs.lock() else {
            return Arc::default();
        };
        if let Some((_, loaded)) = runs.iter().find(|(r, _)| r == recipient) {
            return Arc::clone(loaded);
        }
        let loaded: Loaded = match run(&self.command, recipient).and_then(|out| (self.parse)(&out)) {
            Ok(identities) => {
                self.note(format!("run for {recipient}: {} identities", identities.len()));
                Arc::new(identities)
            }
            Err(reason) => {
                self.note(format!("UNUSABLE: run for {recipient}: {reason}"));
                Arc::default()
            }
        };
        runs.push((recipient.to_owned(), Arc::clone(&loaded)));
        loaded
    }

    fn note(&self, text: String) {
        if let Ok(mut outcome) = self.outcome.lock() {
            *outcome = Some(text);
        }
    }
}

/// Runs the command without a shell, as sops does: split like a shell would, stdin empty,
/// stderr to the user's terminal (so it can prompt or explain), `SOPS_AGE_RECIPIENT` added to
/// the environment, stdout captured as the key text.
pub fn run(command: &str, recipient: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let args = Zeroizing::new(shlex::split(command).ok_or("cannot split the command line (unbalanced quotes?)")?);
    let Some((program, args)) = args.split_first() else {
        return Err("the variable is set but holds no command".into());
    };
    let output = Command::new(program)
        .args(args)
        .env(RECIPIENT_VAR, recipient)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {program:?}: {e}"))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(format!("the command failed ({})", output.status));
    }
    Ok(stdout)
}

/// The command line as it may appear in messages: whole, unless it carries a key itself.
pub fn shown_command(command: &str) -> String {
    if command.to_ascii_uppercase().contains("AGE-SECRET-KEY-") {
        let program = command.split_whitespace().next().unwrap_or_default();
        format!("{program} … (arguments hidden: they hold key material)")
    } else {
        command.to_owned()
    }
}
