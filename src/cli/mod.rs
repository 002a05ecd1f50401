//! The command line: clap definitions and one file per subcommand. Subcommands only wire the
//! library together; the terminal rules (messages on stderr as `ksec: error: …`, then a hint),
//! the table from typed errors to sops's exit codes and hints (`exit`) and the handling of
//! terminating signals (`signals`) live here once: the library asks, the binary acts.

mod apply;
mod args;
mod check;
pub mod compat;
mod decrypt;
mod diff;
mod doctor;
mod edit;
mod encrypt;
mod exec;
pub(crate) mod exit;
mod filestatus;
mod git_setup;
mod groups;
mod inputs;
mod kustomize;
mod merge;
mod rotate;
mod set;
mod signals;
mod terminal;
mod unset;
mod updatekeys;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command};
use compat::{ProgramName, Translation};

use crate::error::Error;

/// Set when ksec runs as `sops`. Notes are not printed then, because tools read sops's stderr
/// as part of the result (sops-edit.nvim merges it into the file with `2>&1`) or as an error
/// (ShipitSmarter's VS Code extension), and sops prints nothing there on success; and where
/// ksec's own defaults differ from sops's, sops's apply.
static AS_SOPS: AtomicBool = AtomicBool::new(false);

/// Whether ksec runs as `sops` (see [`AS_SOPS`]).
fn as_sops() -> bool {
    AS_SOPS.load(Ordering::Relaxed)
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    let rest = argv.split_off(argv.len().min(1));
    let arg0 = argv.pop().unwrap_or_else(|| OsString::from("ksec"));
    // kustomize runs an exec plugin by its kind's name, with the generator manifest's path.
    let rest = if std::path::Path::new(&arg0).file_name() == Some(crate::kube::GENERATOR_KIND.as_ref()) {
        std::iter::once(OsString::from("kustomize-generator"))
            .chain(rest)
            .collect()
    } else {
        rest
    };
    let name = ProgramName::from_arg0(Some(&arg0));
    if name == ProgramName::Sops {
        AS_SOPS.store(true, Ordering::Relaxed);
    }
    let args = match compat::translate(&rest, name, &compat::ProcessEnvironment) {
        Ok(None) => rest,
        Ok(Some(Translation::Run(args))) => args,
        Ok(Some(Translation::Version)) => return print_stdout(&compat::version_line(name)),
        Ok(Some(Translation::Completion(shell))) => return print_completion(shell, program_name(name)),
        Ok(Some(Translation::Print(text))) => return print_stdout(&text),
        Err(e) => {
            let e = Error::from(e);
            report(&e);
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1));
        }
    };
    let mut command = Cli::command();
    if invoked_as_kubectl_plugin() {
        command = command.bin_name("kubectl ksec");
    } else if name == ProgramName::Sops {
        command = command.bin_name("sops");
    }
    let parsed = command
        .try_get_matches_from_mut(std::iter::once(arg0).chain(args))
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    // The command's definition (every subcommand, flag and help text) is not needed past
    // parsing, and taking it apart cost a tenth of a small file's decryption: the process
    // lets it go at exit instead. It holds no secret, only the command line's shape.
    std::mem::forget(command);
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
        Command::Doctor(a) => doctor::run(&cli.global, a),
        Command::KustomizeGenerator(a) => kustomize::run(&cli.global, a).map(|()| 0),
        Command::Merge(a) => merge::run(&cli.global, a),
        Command::GitSetup(a) => git_setup::run(a).map(|()| 0),
        Command::Completion { shell } => return print_completion(*shell, "ksec"),
        Command::Version => {
            let _ = print_stdout(&compat::version_line(name));
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

/// The name completions are generated for.
fn program_name(name: ProgramName) -> &'static str {
    match name {
        ProgramName::Sops => "sops",
        ProgramName::Ksec => "ksec",
    }
}

/// Prints the completion script for `shell`, for the program called `name`. Rendered first:
/// clap_complete panics on a closed pipe (`ksec completion bash | head`).
fn print_completion(shell: clap_complete::Shell, name: &str) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), name, &mut script);
    print_stdout(&String::from_utf8_lossy(&script))
}

/// Prints text on stdout; a closed pipe is not an error (`ksec --version | head -c4`).
fn print_stdout(text: &str) -> ExitCode {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
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
    // A hint of several lines is several hints, each on a line of its own.
    for hint in error.hint().iter().flat_map(|hint| hint.lines()) {
        let _ = writeln!(err, "ksec: hint: {hint}");
    }
}

/// Prints a note on stderr: something ksec did that the user did not spell out. Not when run
/// as `sops` ([`AS_SOPS`]).
pub(crate) fn note(message: &str) {
    if as_sops() {
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "ksec: note: {message}");
}

/// Prints a warning on stderr.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "ksec: warning: {message}");
}
/// Prints what a command did when it has nothing else to say on success (`ksec: checked 3
/// files, no problems`), on stderr so stdout stays the command's output. Not when run as
/// `sops`, for the reason notes are not.
pub(crate) fn status(message: &str) {
    if as_sops() {
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "ksec: {message}");
}
