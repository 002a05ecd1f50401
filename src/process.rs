//! Running other programs around plaintext: the editor of `edit`, the commands of `exec-env`
//! and `exec-file`, and `git`.
//!
//! While a child runs, ksec stays alive to clean up after it: Ctrl-C at the terminal belongs to
//! the child (an editor uses it; the terminal sends it to both), and SIGTERM, SIGHUP, SIGQUIT
//! and a SIGINT sent to ksec alone (`kill -INT`) are passed on to the child; ksec then exits as
//! the signal calls for once the child has ended. Outside a child, those signals end ksec only
//! after the private directory registered with [`SignalGuard::protect`] is removed. Once the
//! guard is dropped, they act as their defaults again.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::exfiltrator::WithRawSiginfo;
use signal_hook::iterator::{Handle, SignalsInfo};
use zeroize::Zeroizing;

use crate::io::IoError;

/// Why a child could not be run, or how it failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run the editor {editor:?}: cannot split it into words like a shell would")]
    EditorUnsplittable { editor: String },
    #[error("cannot run the editor {editor:?}: {source}")]
    EditorNotRun { editor: String, source: io::Error },
    #[error("the editor {editor:?} failed: {}; the file was left as it was", describe(*.status))]
    EditorFailed { editor: String, status: ExitStatus },
    /// A terminating signal arrived while the editor ran; the exit code is the guard's.
    #[error("interrupted; nothing was written")]
    Interrupted { code: i32 },
    #[error("cannot install signal handlers: {source}")]
    SignalHandlers { source: io::Error },
    /// A shell command the user gave (exec-env, exec-file).
    #[error("cannot run {command:?}: {source}")]
    RunCommand { command: String, source: io::Error },
    #[error("cannot quote {path:?} for the shell: {source}")]
    Unquotable { path: String, source: shlex::QuoteError },
    /// A program ksec runs itself (git, kubectl).
    #[error("cannot run {program}: {source}")]
    Run { program: String, source: io::Error },
    #[error("waiting for {program}: {source}")]
    Wait { program: String, source: io::Error },
    #[error("git {} failed: {stderr}", .args.join(" "))]
    GitFailed { args: Vec<String>, stderr: String },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// sops's exit code for an edit interrupted from the keyboard.
pub const EXIT_KEYBOARD_INTERRUPT: i32 = 85;

/// The signals a guard catches.
const TERMINATING: [i32; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// Catches terminating signals for as long as it lives; see the module documentation.
pub struct SignalGuard {
    state: Arc<GuardState>,
    handle: Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct GuardState {
    /// The running child's pid, or 0. Held while a child is being started, so that a signal
    /// arriving then waits to be passed on to it instead of ending ksec and orphaning it.
    child: Mutex<i32>,
    /// A terminating signal that arrived while a child ran, or 0.
    received: AtomicI32,
    /// The directory to remove before exiting on a signal.
    protected: Mutex<Option<PathBuf>>,
}

/// signal-hook's handlers stay installed once a signal has had one (removing a guard's action
/// leaves the signal ignored), so each signal also gets an action that acts as its default
/// disposition (restore it, raise the signal again) whenever no guard is alive.
struct Defaults {
    unguarded: Arc<AtomicBool>,
    guards: usize,
}

static DEFAULTS: Mutex<Option<Defaults>> = Mutex::new(None);

/// Counts a new guard, registering the default-acting actions the first time.
fn guard_started() -> Result<(), ProcessError> {
    let mut defaults = DEFAULTS.lock().unwrap_or_else(|e| e.into_inner());
    let defaults = match &mut *defaults {
        Some(d) => d,
        None => {
            let unguarded = Arc::new(AtomicBool::new(true));
            for signal in TERMINATING {
                signal_hook::flag::register_conditional_default(signal, Arc::clone(&unguarded))
                    .map_err(|source| ProcessError::SignalHandlers { source })?;
            }
            defaults.insert(Defaults { unguarded, guards: 0 })
        }
    };
    defaults.guards += 1;
    defaults.unguarded.store(false, Ordering::SeqCst);
    Ok(())
}

fn guard_ended() {
    if let Some(defaults) = &mut *DEFAULTS.lock().unwrap_or_else(|e| e.into_inner()) {
        defaults.guards = defaults.guards.saturating_sub(1);
        defaults.unguarded.store(defaults.guards == 0, Ordering::SeqCst);
    }
}

impl SignalGuard {
    /// Starts catching SIGINT, SIGTERM, SIGHUP and SIGQUIT.
    pub fn install() -> Result<SignalGuard, ProcessError> {
        // The guard's own action first: a signal before `guard_started` returns still ends
        // ksec, with nothing to clean up yet.
        let mut signals = SignalsInfo::<WithRawSiginfo>::new(TERMINATING)
            .map_err(|source| ProcessError::SignalHandlers { source })?;
        guard_started()?;
        let handle = signals.handle();
        let state = Arc::new(GuardState::default());
        let thread_state = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            for info in signals.forever() {
                // si_code <= 0: sent by a process (kill, sigqueue). The terminal's Ctrl-C
                // comes from the kernel. Other systems do not tell them apart reliably.
                let from_process = cfg!(target_os = "linux") && info.si_code <= 0;
                thread_state.on_signal(info.si_signo, from_process);
            }
        });
        Ok(SignalGuard {
            state,
            handle,
            thread: Some(thread),
        })
    }

    /// Removes `dir` before ksec exits on a signal.
    pub fn protect(&self, dir: &Path) {
        *self.state.protected.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.to_path_buf());
    }

    /// The exit code a signal that arrived while a child ran calls for, if one did.
    pub fn interrupted(&self) -> Option<i32> {
        match self.state.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(exit_code_for(signal)),
        }
    }

    /// Runs a child to completion, passing terminating signals on to it.
    pub fn run(&self, command: &mut Command) -> io::Result<ExitStatus> {
        let mut child = {
            let mut slot = self.state.child.lock().unwrap_or_else(|e| e.into_inner());
            let child = command.spawn()?;
            *slot = i32::try_from(child.id()).expect("a pid fits in pid_t");
            child
        };
        // Until the slot is cleared a signal may still be passed on: the child is reaped only
        // after that, so its pid cannot be another process's by then.
        wait_for_exit(&child);
        *self.state.child.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        child.wait()
    }
}

/// Waits until `child` has ended, leaving it to be reaped.
fn wait_for_exit(child: &Child) {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = Pid::from_child(child);
    while let Err(rustix::io::Errno::INTR) = waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT) {}
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        guard_ended();
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl GuardState {
    fn on_signal(&self, signal: i32, from_process: bool) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if *child > 0 {
            // The terminal sent Ctrl-C to the child too, which decides what it means.
            if signal == SIGINT && !from_process {
                return;
            }
            self.received.store(signal, Ordering::SeqCst);
            if let Some(pid) = rustix::process::Pid::from_raw(*child)
                && let Some(sig) = rustix::process::Signal::from_named_raw(signal)
            {
                let _ = rustix::process::kill_process(pid, sig);
            }
            return;
        }
        drop(child);
        if let Some(dir) = self.protected.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        std::process::exit(exit_code_for(signal));
    }
}

fn exit_code_for(signal: i32) -> i32 {
    if signal == SIGINT {
        EXIT_KEYBOARD_INTERRUPT
    } else {
        128 + signal
    }
}

/// The editor command: `$SOPS_EDITOR`, else `$EDITOR`, else `vi`, split like a shell would.
pub fn editor_command() -> Result<Vec<String>, ProcessError> {
    let text = ["SOPS_EDITOR", "EDITOR"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    match shlex::split(&text) {
        Some(words) if !words.is_empty() => Ok(words),
        _ => Err(ProcessError::EditorUnsplittable { editor: text }),
    }
}

/// Opens `file` in the editor and waits for it to exit. The editor keeps the terminal.
pub fn run_editor(guard: &SignalGuard, editor: &[String], file: &Path) -> Result<(), ProcessError> {
    let (program, args) = editor.split_first().expect("editor_command returns a word");
    let mut command = Command::new(program);
    command.args(args).arg(file);
    let status = guard.run(&mut command).map_err(|source| ProcessError::EditorNotRun {
        editor: editor.join(" "),
        source,
    })?;
    if let Some(code) = guard.interrupted() {
        return Err(ProcessError::Interrupted { code });
    }
    if !status.success() {
        return Err(ProcessError::EditorFailed {
            editor: editor.join(" "),
            status,
        });
    }
    Ok(())
}

/// How a child ended, for messages.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("it exited with status {code}"),
        (None, Some(signal)) => format!("it was killed by signal {signal}"),
        _ => "it failed".into(),
    }
}

/// The exit code to pass on from a child, as a shell reports it.
pub fn exit_code_of(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

/// Environment variables for a child: name and value (not necessarily UTF-8).
pub type Environment = Vec<(String, Zeroizing<Vec<u8>>)>;

/// Runs `sh -c COMMAND` to its end with extra environment variables (and nothing else with
/// `pristine`), passing terminating signals on to it.
pub fn run_shell(
    guard: &SignalGuard,
    command: &str,
    env: &Environment,
    pristine: bool,
) -> Result<ExitStatus, ProcessError> {
    guard
        .run(&mut shell_command(command, env, pristine))
        .map_err(|e| spawn_error(command, e))
}

/// `sh -c COMMAND` with extra environment variables (and nothing else with `pristine`).
fn shell_command(command: &str, env: &Environment, pristine: bool) -> Command {
    use std::os::unix::ffi::OsStringExt;
    let mut child = Command::new("/bin/sh");
    child.arg("-c").arg(command);
    if pristine {
        child.env_clear();
    }
    for (name, value) in env {
        child.env(name, OsString::from_vec(value.to_vec()));
    }
    child
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    child
}

/// The name exec-file gives the decrypted copy of `file` by default: its own name, with every
/// character a shell treats specially (and any non-ASCII one) made `_`. An encrypted file's
/// name may come from anyone who can push to the repository; this way it reaches the command
/// line as plain text whatever quotes the user put around `{}`.
pub fn private_file_name(file: &Path) -> String {
    let name: String = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '_' | '-' | '+' => c,
            _ => '_',
        })
        .collect();
    if name.is_empty() { "tmp-file".into() } else { name }
}

/// `command` with each `{}` replaced by `path`, quoted for the shell: a path with spaces stays
/// one word and one with `;` or `$(…)` runs nothing.
fn with_path(command: &str, path: &Path) -> Result<String, ProcessError> {
    let text = path.to_string_lossy();
    let quoted = shlex::try_quote(&text).map_err(|source| ProcessError::Unquotable {
        path: text.to_string(),
        source,
    })?;
    Ok(command.replace("{}", &quoted))
}

/// Runs `command` with `{}` replaced by the path of a FIFO in `dir` that serves `content`
/// once (or, with `fifo` false, of a 0600 file holding it). Returns the command's status.
pub fn run_with_file(
    guard: &SignalGuard,
    dir: &crate::io::PrivateDir,
    name: &str,
    content: Zeroizing<Vec<u8>>,
    command: &str,
    fifo: bool,
) -> Result<ExitStatus, ProcessError> {
    let path = dir.path().join(name);
    let write_error = |source: io::Error| IoError::Write {
        path: path.clone(),
        source,
    };
    let mut child = shell_command(&with_path(command, &path)?, &Vec::new(), false);
    if !fifo {
        dir.write_file(name, &content)?;
        drop(content);
        return guard.run(&mut child).map_err(|e| spawn_error(command, e));
    }
    rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::from_raw_mode(0o600))
        .map_err(|e| write_error(e.into()))?;
    let writer_path = path.clone();
    // Opening a FIFO to write waits for a reader, so a thread serves it.
    let writer = std::thread::spawn(move || -> io::Result<()> {
        use std::io::Write;
        let mut pipe = std::fs::OpenOptions::new().write(true).open(&writer_path)?;
        pipe.write_all(&content)
    });
    let status = guard.run(&mut child).map_err(|e| spawn_error(command, e));
    // A command that never read the FIFO leaves the writer waiting: a reader that opens and
    // closes it at once lets the writer through (it then fails on the closed pipe).
    while !writer.is_finished() {
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&path);
        std::thread::sleep(std::time::Duration::from_millis(5));
        drop(reader);
    }
    let _ = writer.join();
    status
}

fn spawn_error(command: &str, source: io::Error) -> ProcessError {
    ProcessError::RunCommand {
        command: command.to_string(),
        source,
    }
}

/// Runs `kubectl apply -f -` (with `args` after it), writing `stream` to its standard input;
/// returns how kubectl ended.
pub fn kubectl_apply(kubectl: &OsStr, args: &[String], stream: &[u8]) -> Result<ExitStatus, ProcessError> {
    use std::io::Write;
    let program = || kubectl.to_string_lossy().into_owned();
    let mut child = Command::new(kubectl)
        .args(["apply", "-f", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|source| ProcessError::Run {
            program: program(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // kubectl may exit early (bad flags); its exit code tells, not the broken pipe.
        let _ = stdin.write_all(stream);
    }
    child.wait().map_err(|source| ProcessError::Wait {
        program: program(),
        source,
    })
}

/// Runs `git` with `args` in `dir` and returns its standard output; `None` when git is not
/// there or fails (not a repository, no such path).
pub fn git_output(dir: &Path, args: &[&str]) -> Option<Zeroizing<Vec<u8>>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then(|| Zeroizing::new(output.stdout))
}

/// The version of `file` committed at `HEAD`, when it is in a Git work tree.
pub fn git_committed_version(file: &Path) -> Option<Zeroizing<Vec<u8>>> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file.file_name()?.to_str()?;
    git_output(dir, &["show", &format!("HEAD:./{name}")])
}

/// The three versions Git keeps of a file with a merge conflict (index stages 1, 2 and 3).
pub struct ConflictStages {
    pub base: Option<Zeroizing<Vec<u8>>>,
    pub ours: Zeroizing<Vec<u8>>,
    pub theirs: Zeroizing<Vec<u8>>,
}

/// The conflict stages of `file`, when it is in a Git work tree with an unresolved conflict.
pub fn git_conflict_stages(file: &Path) -> Option<ConflictStages> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file.file_name()?.to_str()?;
    let listing = git_output(dir, &["ls-files", "-u", "-z", "--", name])?;
    let mut objects: [Option<String>; 3] = [None, None, None];
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        // "<mode> <object> <stage>\t<path>"
        let text = std::str::from_utf8(record).ok()?;
        let (meta, _) = text.split_once('\t')?;
        let mut fields = meta.split(' ');
        let (_, object, stage) = (fields.next()?, fields.next()?, fields.next()?);
        let slot = stage.parse::<usize>().ok()?.checked_sub(1)?;
        *objects.get_mut(slot)? = Some(object.to_string());
    }
    let blob = |object: &Option<String>| {
        object
            .as_deref()
            .and_then(|o| git_output(dir, &["cat-file", "blob", o]))
    };
    Some(ConflictStages {
        base: blob(&objects[0]),
        ours: blob(&objects[1])?,
        theirs: blob(&objects[2])?,
    })
}

/// Runs `git` with `args` in `dir`; an error names the command and shows git's message.
pub fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, ProcessError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ProcessError::Run {
            program: "git".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(ProcessError::GitFailed {
            args: args.iter().map(ToString::to_string).collect(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::time::Duration;

    /// Set in a copy of this test binary that plays one scenario and reports by how it ends:
    /// signals that end a process cannot be watched from inside it.
    const SCENARIO: &str = "KSEC_TEST_SIGNAL_SCENARIO";

    /// Runs the test `name` alone in a copy of this binary, with [`SCENARIO`] set.
    fn in_own_process(name: &str, scenario: &str) -> ExitStatus {
        Command::new(std::env::current_exe().expect("the test binary"))
            .args([&format!("process::tests::{name}"), "--exact", "--test-threads=1"])
            .env(SCENARIO, scenario)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the test binary runs")
    }

    fn raise(signal: i32) {
        let signal = rustix::process::Signal::from_named_raw(signal).expect("a signal the system has");
        rustix::process::kill_process(rustix::process::getpid(), signal).expect("kill");
    }

    #[test]
    fn after_the_guard_the_signals_act_as_their_defaults_and_a_new_guard_catches_them() {
        let name = "after_the_guard_the_signals_act_as_their_defaults_and_a_new_guard_catches_them";
        match std::env::var(SCENARIO).ok().as_deref().map(|s| s.split_once(' ')) {
            Some(Some(("after", signal))) => {
                // SIGQUIT's default dumps core: not here.
                let no_core = rustix::process::Rlimit {
                    current: Some(0),
                    maximum: Some(0),
                };
                let _ = rustix::process::setrlimit(rustix::process::Resource::Core, no_core);
                drop(SignalGuard::install().expect("guard"));
                raise(signal.parse().expect("a signal number"));
                std::thread::sleep(Duration::from_secs(2));
                std::process::exit(0);
            }
            Some(Some(("again", signal))) => {
                drop(SignalGuard::install().expect("guard"));
                let _guard = SignalGuard::install().expect("second guard");
                raise(signal.parse().expect("a signal number"));
                std::thread::sleep(Duration::from_secs(2));
                std::process::exit(0);
            }
            _ => {}
        }
        for signal in TERMINATING {
            let status = in_own_process(name, &format!("after {signal}"));
            assert_eq!(
                status.signal(),
                Some(signal),
                "signal {signal} after the guard: {status}"
            );
            // A guard caught it, with no child running: ksec's exit code for it.
            let status = in_own_process(name, &format!("again {signal}"));
            assert_eq!(status.code(), Some(exit_code_for(signal)), "signal {signal}: {status}");
        }
    }

    #[test]
    fn a_signal_while_a_child_starts_is_passed_on_to_it() {
        let name = "a_signal_while_a_child_starts_is_passed_on_to_it";
        if std::env::var_os(SCENARIO).is_none() {
            let status = in_own_process(name, "play");
            assert_eq!(
                status.code(),
                Some(0),
                "ksec did not wait for the child to pass SIGTERM on: {status}"
            );
            return;
        }
        let guard = SignalGuard::install().expect("guard");
        let (mut started, mut starting) = std::io::pipe().expect("pipe");
        let mut child = Command::new("sleep");
        child.arg("30");
        // SAFETY: between fork and exec the child only writes one byte and sleeps, both plain
        // system calls that allocate nothing.
        unsafe {
            child.pre_exec(move || {
                use std::io::Write;
                starting.write_all(b"x")?;
                std::thread::sleep(Duration::from_millis(300));
                Ok(())
            });
        }
        // SIGTERM arrives once the child exists but before `spawn` has returned its pid.
        std::thread::spawn(move || {
            use std::io::Read;
            let mut byte = [0u8];
            if started.read_exact(&mut byte).is_ok() {
                raise(SIGTERM);
            }
        });
        let status = guard.run(&mut child).expect("sleep runs");
        let passed_on = status.signal() == Some(SIGTERM) && guard.interrupted() == Some(128 + SIGTERM);
        std::process::exit(if passed_on { 0 } else { 1 });
    }
}
