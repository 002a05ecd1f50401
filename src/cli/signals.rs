//! Terminating signals while ksec holds plaintext on disk or runs a child: the program's to
//! handle, not the library's.
//!
//! While a child runs, ksec stays alive to clean up after it: Ctrl-C at the terminal belongs to
//! the child (an editor uses it; the terminal sends it to both), and SIGTERM, SIGHUP, SIGQUIT
//! and a SIGINT sent to ksec alone (`kill -INT`) are passed on to the child; ksec then exits as
//! the signal calls for once the child has ended. Outside a child, those signals end ksec only
//! after the private directory registered with [`SignalGuard::protect`] is removed. Once the
//! guard is dropped, they act as their defaults again.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::exfiltrator::WithRawSiginfo;
use signal_hook::iterator::{Handle, SignalsInfo};

use super::exit;
use crate::error::CommandError;
use crate::process::Supervisor;

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
fn guard_started() -> Result<(), CommandError> {
    let mut defaults = DEFAULTS.lock().unwrap_or_else(|e| e.into_inner());
    let defaults = match &mut *defaults {
        Some(d) => d,
        None => {
            let unguarded = Arc::new(AtomicBool::new(true));
            for signal in TERMINATING {
                signal_hook::flag::register_conditional_default(signal, Arc::clone(&unguarded))
                    .map_err(|source| CommandError::SignalHandlers { source })?;
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
    pub fn install() -> Result<SignalGuard, CommandError> {
        // The guard's own action first: a signal before `guard_started` returns still ends
        // ksec, with nothing to clean up yet.
        let mut signals = SignalsInfo::<WithRawSiginfo>::new(TERMINATING)
            .map_err(|source| CommandError::SignalHandlers { source })?;
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
}

impl Supervisor for SignalGuard {
    /// Runs a child to completion, passing terminating signals on to it.
    fn run(&self, command: &mut Command) -> io::Result<ExitStatus> {
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

    fn interrupted_by(&self) -> Option<i32> {
        match self.state.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
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

/// The exit code for a terminating signal: sops's for an edit interrupted from the keyboard,
/// 128 + N for the others, as a shell reports them.
pub(crate) fn exit_code_for(signal: i32) -> i32 {
    if signal == SIGINT {
        exit::KEYBOARD_INTERRUPT
    } else {
        128 + signal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;
    use std::time::Duration;

    /// Set in a copy of this test binary that plays one scenario and reports by how it ends:
    /// signals that end a process cannot be watched from inside it.
    const SCENARIO: &str = "KSEC_TEST_SIGNAL_SCENARIO";

    /// Runs the test `name` alone in a copy of this binary, with [`SCENARIO`] set.
    fn in_own_process(name: &str, scenario: &str) -> ExitStatus {
        Command::new(std::env::current_exe().expect("the test binary"))
            .args([&format!("cli::signals::tests::{name}"), "--exact", "--test-threads=1"])
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
        let passed_on = status.signal() == Some(SIGTERM) && guard.interrupted_by() == Some(SIGTERM);
        std::process::exit(if passed_on { 0 } else { 1 });
    }
}
