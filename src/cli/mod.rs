//! The command line: clap definitions and one file per subcommand. Subcommands only wire the
//! library together; the terminal rules (messages on stderr as `ksec: error: …`, then a hint),
//! the table from typed errors to sops's exit codes and hints (`exit`) and the handling of
//! terminating signals (`signals`) live here once: the library asks, the binary acts.

mod apply;
mod args;
mod check;
mod decrypt;
mod diff;
mod edit;
mod encrypt;
mod exec;
pub(crate) mod exit;
mod filestatus;
mod git_setup;
mod groups;
mod inputs;
mod merge;
mod rotate;
mod set;
mod signals;
mod terminal;
mod unset;
mod updatekeys;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command};

use crate::error::Error;

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let mut command = Cli::command();
    if invoked_as_kubectl_plugin() {
        command = command.bin_name("kubectl ksec");
    }
    let parsed = command
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = match e.kind() {
                _ if !e.use_stderr() => 0,
                clap::error::ErrorKind::ArgumentConflict => exit::CONFLICTING_PARAMETERS as u8,
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let (Command::Apply(a), Some(("apply", m))) = (&mut cli.command, matches.subcommand()) {
        a.paths = apply::paths_in_command_line_order(m);
        a.filenames.clear();
    }
    let result = match &cli.command {
        Command::Encrypt(a) => encrypt::run(&cli.global, a).map(|()| 0),
        Command::Decrypt(a) => decrypt::run(&cli.global, a).map(|()| 0),
        Command::Apply(a) => apply::run(&cli.global, a),
        Command::Check(a) => check::run(&cli.global, a).map(|()| 0),
        Command::Rotate(a) => rotate::run(&cli.global, a).map(|()| 0),
        Command::Updatekeys(a) => updatekeys::run(&cli.global, a).map(|()| 0),
        Command::Groups(a) => groups::run(&cli.global, a).map(|()| 0),
        Command::Edit(a) => edit::run(&cli.global, a).map(|()| 0),
        Command::Set(a) => set::run(&cli.global, a).map(|()| 0),
        Command::Unset(a) => unset::run(&cli.global, a).map(|()| 0),
        Command::ExecEnv(a) => exec::run_env(a),
        Command::ExecFile(a) => exec::run_file(&cli.global, a),
        Command::Filestatus(a) => filestatus::run(a).map(|()| 0),
        Command::Diff(a) => diff::run(&cli.global, a).map(|()| 0),
        Command::Merge(a) => merge::run(&cli.global, a),
        Command::GitSetup(a) => git_setup::run(a).map(|()| 0),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "ksec", &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            report(&e);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// Whether the binary runs as `kubectl-ksec` (kubectl runs plugins by that name), so help and
/// usage show the command the user typed: `kubectl ksec`.
fn invoked_as_kubectl_plugin() -> bool {
    std::env::args_os()
        .next()
        .is_some_and(|arg0| std::path::Path::new(&arg0).file_name() == Some("kubectl-ksec".as_ref()))
}

/// Prints an error and its hint on stderr.
pub(crate) fn report(error: &Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "ksec: error: {error}");
    if let Some(hint) = error.hint() {
        let _ = writeln!(err, "ksec: hint: {hint}");
    }
}

/// Prints a note on stderr: something ksec did that the user did not spell out.
pub(crate) fn note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "ksec: note: {message}");
}

/// Prints a warning on stderr.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "ksec: warning: {message}");
}
