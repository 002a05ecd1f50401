//! Running a command and reading what it did: [`TestCommand`] (a `std::process::Command` made
//! by a [`Dir`](super::Dir), isolated from the developer's keys and config) and [`Run`] (its
//! exit code, stdout and stderr, with the assertions the tests make on them).
//!
//! Exit codes are `i32`. A process that a signal ended has no exit code; its [`Run::code`] is
//! `-1`, which no program can exit with, so every expected code fails to match it, and the
//! messages name the signal ([`Run::exit`]).

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A command to run in a [`Dir`](super::Dir): its working directory, with HOME inside the
/// scratch directory and no SOPS_* variable of the developer's shell. Stdin is /dev/null (never
/// a terminal) unless [`TestCommand::stdin`] gives input.
pub struct TestCommand {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    /// The variables `isolate` set, left out of the command line failure messages show, where
    /// they would only hide what the test set.
    isolation: Vec<(OsString, OsString)>,
}

impl TestCommand {
    /// `cmd` with the isolation every test command gets (see `isolate`).
    pub(super) fn isolated(mut cmd: Command, home: &Path, gnupg_home: &Path, work: &Path) -> TestCommand {
        let isolation = isolate(&mut cmd, home, gnupg_home);
        cmd.current_dir(work);
        TestCommand {
            cmd,
            stdin: None,
            isolation,
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut TestCommand {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut TestCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut TestCommand {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut TestCommand {
        self.cmd.env_remove(key);
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut TestCommand {
        self.cmd.current_dir(dir);
        self
    }

    /// Puts `dir` first on the command's PATH (the PATH given to it so far, else the tests'
    /// own), so that the programs there are the ones found: a peer, a stand-in, ksec under
    /// another name ([`Dir::link_program`](super::Dir::link_program)).
    pub fn path_first(&mut self, dir: impl AsRef<Path>) -> &mut TestCommand {
        let current = match self.cmd.get_envs().find(|(key, _)| *key == "PATH") {
            Some((_, value)) => value.map(OsStr::to_os_string).unwrap_or_default(),
            None => std::env::var_os("PATH").unwrap_or_default(),
        };
        let dirs = std::iter::once(dir.as_ref().to_path_buf()).chain(std::env::split_paths(&current));
        self.cmd.env("PATH", std::env::join_paths(dirs).expect("PATH joins"));
        self
    }

    /// Gives the command `input` on stdin, through a pipe, as a shell pipeline would.
    pub fn stdin(&mut self, input: impl AsRef<[u8]>) -> &mut TestCommand {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// Runs the command to its end.
    pub fn run(&mut self) -> Run {
        let (child, feeder) = self.start();
        self.finish(child, feeder)
    }

    /// Runs the command, failing the test (and killing the command) if it is still running
    /// after `limit`: a hang must be a failure, not a test run that never ends.
    pub fn run_within(&mut self, limit: Duration) -> Run {
        let (mut child, feeder) = self.start();
        let start = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within {limit:?}", self.describe());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.finish(child, feeder)
    }

    /// Starts the command with stdin, stdout and stderr piped, for a test that drives it
    /// itself: types on its stdin (input given to [`TestCommand::stdin`] is not sent), signals
    /// it, waits for something it does.
    pub fn spawn(&mut self) -> Running {
        let child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.describe()));
        Running {
            child,
            what: self.describe(),
        }
    }

    fn start(&mut self) -> (Child, Option<JoinHandle<()>>) {
        let stdin = if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = self
            .cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.describe()));
        let feeder = self.stdin.clone().map(|input| {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // From another thread, so a command that writes before it has read all its input
            // cannot block on a full stdout pipe while we block on its full stdin pipe. A
            // command that exits without reading it all is its own business: the error is
            // dropped.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })
        });
        (child, feeder)
    }

    /// Reads the output of a started command to its end.
    fn finish(&self, child: Child, feeder: Option<JoinHandle<()>>) -> Run {
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.describe()));
        finish_feeding(feeder);
        Run::new(self.describe(), out)
    }

    /// The command line as a user would type it: the variables the test set, the program's
    /// name and the arguments.
    fn describe(&self) -> String {
        let mut words: Vec<String> = self
            .cmd
            .get_envs()
            .filter_map(|(key, value)| Some((key, value?)))
            .filter(|&(key, value)| !self.isolation.iter().any(|(k, v)| k == key && v == value))
            .map(|(key, value)| format!("{}={}", key.to_string_lossy(), value.to_string_lossy()))
            .collect();
        let program = Path::new(self.cmd.get_program());
        words.push(
            program
                .file_name()
                .unwrap_or(program.as_os_str())
                .to_string_lossy()
                .into_owned(),
        );
        words.extend(self.cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
        words.join(" ")
    }
}

fn finish_feeding(feeder: Option<JoinHandle<()>>) {
    if let Some(feeder) = feeder {
        feeder.join().expect("stdin feeder");
    }
}

/// Removes the caller's key and config variables (sops's, Vault's, AWS's, Google's, Azure's,
/// ksec's key service timeout), points HOME at `home` and GNUPGHOME at an empty private
/// directory inside it: a GNUPGHOME in the developer's shell would otherwise win over HOME and
/// let gpg use their keyring and agent, a VAULT_TOKEN their Vault, and AWS_*,
/// GOOGLE_APPLICATION_CREDENTIALS or AZURE_CLIENT_SECRET their cloud account. The instance
/// metadata service is turned off (AWS_EC2_METADATA_DISABLED), so that no command looks for
/// credentials at the link-local address where a cloud machine has them; a test of that
/// source removes the variable and names a local stand-in. Returns the variables it set.
pub fn isolate(cmd: &mut Command, home: &Path, gnupg_home: &Path) -> Vec<(OsString, OsString)> {
    const CLOUD_VARS: [&str; 7] = [
        "CLOUDSDK_CONFIG",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ];
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let cloud =
            ["GOOGLE_", "AZURE_", "GCE_"].iter().any(|p| name.starts_with(p)) || CLOUD_VARS.contains(&name.as_ref());
        if name.starts_with("SOPS_")
            || name.starts_with("VAULT_")
            || name.starts_with("AWS_")
            || name == "KSEC_KEY_SERVICE_TIMEOUT"
            || cloud
        {
            cmd.env_remove(name.as_ref());
        }
    }
    let set: Vec<(OsString, OsString)> = [
        ("HOME", home.as_os_str()),
        ("XDG_CONFIG_HOME", home.join(".config").as_os_str()),
        ("GNUPGHOME", gnupg_home.as_os_str()),
        ("SOPS_DISABLE_VERSION_CHECK", OsStr::new("1")),
        ("AWS_EC2_METADATA_DISABLED", OsStr::new("true")),
    ]
    .into_iter()
    .map(|(key, value)| (key.into(), value.to_owned()))
    .collect();
    cmd.envs(set.iter().map(|(k, v)| (k, v)));
    set
}

/// Runs `producer | consumer`, a real pipe: the producer's stdout is the consumer's stdin (not
/// input given to its [`TestCommand::stdin`]). Returns both runs, the producer's with an empty
/// stdout.
pub fn pipe(producer: &mut TestCommand, consumer: &mut TestCommand) -> (Run, Run) {
    let (mut first, feeder) = producer.start();
    let second = consumer
        .cmd
        .stdin(first.stdout.take().expect("stdout is piped"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", consumer.describe()));
    // The command keeps the pipe's read end it was given: drop ours, or a producer whose
    // consumer stops reading early (`| head -c 10`) blocks on a full pipe instead of ending.
    consumer.cmd.stdin(Stdio::null());
    let second = second.wait_with_output().expect("the consumer ends");
    let first = first.wait_with_output().expect("the producer ends");
    finish_feeding(feeder);
    (
        Run::new(producer.describe(), first),
        Run::new(consumer.describe(), second),
    )
}

/// A command started with [`TestCommand::spawn`]; the `Child` it derefs to is there for the
/// test to type on its stdin, signal it or poll it.
pub struct Running {
    child: Child,
    what: String,
}

impl Running {
    /// Waits for the command to end and reads the rest of its output.
    pub fn wait(self) -> Run {
        let out = self
            .child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.what));
        Run::new(self.what, out)
    }
}

impl Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.child
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

/// What a command did. The assertions take and give back the run, so they chain:
/// `dir.ksec().args([..]).run().expect_code(2).stdout_is("")`; each failure shows the command,
/// its exit and both outputs.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `-1` when a signal ended the process.
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The signal that ended the process, if one did.
    signal: Option<i32>,
    /// The command line, for messages.
    what: String,
}

impl Run {
    fn new(what: String, out: Output) -> Run {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
        #[cfg(not(unix))]
        let signal = None;
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
            signal,
            what,
        }
    }

    /// The command exited 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// How the process ended, for messages: its exit code, or `on signal N`.
    pub fn exit(&self) -> String {
        match self.signal {
            Some(signal) => format!("on signal {signal}"),
            None => self.code.to_string(),
        }
    }

    /// Asserts the command exited 0.
    #[track_caller]
    pub fn ok(self) -> Run {
        self.expect_code(0)
    }

    /// Asserts the command exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        assert!(self.code == code, "expected exit {code}\n{}", self.report());
        self
    }

    /// Asserts stdout is exactly `expected`.
    #[track_caller]
    pub fn stdout_is(self, expected: impl AsRef<[u8]>) -> Run {
        let expected = expected.as_ref();
        assert!(
            self.stdout == expected,
            "expected stdout:\n{}\n{}",
            String::from_utf8_lossy(expected),
            self.report()
        );
        self
    }

    /// Asserts stderr is exactly `expected`.
    #[track_caller]
    pub fn stderr_is(self, expected: impl AsRef<[u8]>) -> Run {
        let expected = expected.as_ref();
        assert!(
            self.stderr == expected,
            "expected stderr:\n{}\n{}",
            String::from_utf8_lossy(expected),
            self.report()
        );
        self
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(self, needle: impl AsRef<str>) -> Run {
        let needle = needle.as_ref();
        assert!(
            self.stdout_text().contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stdout does not contain `needle` (a secret that must not show).
    #[track_caller]
    pub fn stdout_lacks(self, needle: impl AsRef<str>) -> Run {
        let needle = needle.as_ref();
        assert!(
            !self.stdout_text().contains(needle),
            "stdout holds {needle:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stdout starts with `prefix`.
    #[track_caller]
    pub fn stdout_starts_with(self, prefix: impl AsRef<str>) -> Run {
        let prefix = prefix.as_ref();
        assert!(
            self.stdout_text().starts_with(prefix),
            "stdout does not start with {prefix:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(self, needle: impl AsRef<str>) -> Run {
        let needle = needle.as_ref();
        assert!(
            self.stderr_text().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stderr does not contain `needle` (a secret that must not show).
    #[track_caller]
    pub fn stderr_lacks(self, needle: impl AsRef<str>) -> Run {
        let needle = needle.as_ref();
        assert!(
            !self.stderr_text().contains(needle),
            "stderr holds {needle:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stderr starts with `prefix`.
    #[track_caller]
    pub fn stderr_starts_with(self, prefix: impl AsRef<str>) -> Run {
        let prefix = prefix.as_ref();
        assert!(
            self.stderr_text().starts_with(prefix),
            "stderr does not start with {prefix:?}\n{}",
            self.report()
        );
        self
    }

    /// The command, how it ended and both outputs, for a failed assertion.
    fn report(&self) -> String {
        format!(
            "command: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.exit(),
            self.stdout_text(),
            self.stderr_text()
        )
    }
}

/// Asserts that `run` succeeded and printed exactly `expected`.
pub fn decrypts_to(run: Run, expected: &str) {
    let run = run.ok();
    assert_eq!(run.stdout_text(), expected);
}

/// `decrypt f.enc.yaml` run by `cmd`: it must fail with 128 (no key opened the file), print
/// nothing, and end within `limit` (the process is stopped 30 s after it); its run.
pub fn refused_within(cmd: &mut TestCommand, limit: Duration) -> Run {
    let start = Instant::now();
    let run = cmd
        .args(["decrypt", "f.enc.yaml"])
        .run_within(limit + Duration::from_secs(30))
        .expect_code(128);
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}");
    assert!(run.stdout.is_empty());
    run
}
