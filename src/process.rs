//! Running other programs around plaintext: the editor of `edit`, the commands of `exec-env`
//! and `exec-file`, `git` and `kubectl`.
//!
//! Signals belong to the program, not to the library: the editor and the commands are run
//! through a [`Supervisor`] the binary implements, which passes terminating signals on to the
//! child and says afterwards whether one arrived. The library never exits the process.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

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
    /// A terminating signal (its number) arrived while the editor ran.
    #[error("interrupted; nothing was written")]
    Interrupted { signal: i32 },
    /// A shell command the user gave (exec-env, exec-file).
    #[error("cannot run {command:?}: {source}")]
    RunCommand { command: String, source: io::Error },
    #[error("cannot quote {path:?} for the shell: {source}")]
    Unquotable { path: String, source: shlex::QuoteError },
    /// A program ksec runs itself (git, kubectl).
    #[error("cannot run {program}: {source}")]
    Run { program: String, source: io::Error },
    /// kubectl could not be started (not installed, not on PATH, not executable).
    #[error("cannot run {program}: {source}")]
    KubectlNotRun { program: String, source: io::Error },
    #[error("waiting for {program}: {source}")]
    Wait { program: String, source: io::Error },
    #[error("git {} failed: {stderr}", .args.join(" "))]
    GitFailed { args: Vec<String>, stderr: String },
    /// `--user` names no account in `/etc/passwd`.
    #[error("unknown user {user:?} (not in /etc/passwd)")]
    UnknownUser { user: String },
    #[error("cannot read /etc/passwd to find user {user:?}: {source}")]
    UserDatabase { user: String, source: io::Error },
    /// The file a command reads could not be handed to the user it runs as.
    #[error("cannot give {path} to user {user:?}: {source}")]
    GiveToUser {
        path: String,
        user: String,
        source: io::Error,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Runs children on the library's behalf while watching the process's signals: the program
/// implements it (a terminating signal while a child runs is passed on to the child), and the
/// library asks it afterwards whether one arrived.
pub trait Supervisor {
    /// Runs `command` to its end.
    fn run(&self, command: &mut Command) -> io::Result<ExitStatus>;

    /// The terminating signal that arrived while a child ran, if one did.
    fn interrupted_by(&self) -> Option<i32>;
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
pub fn run_editor(supervisor: &dyn Supervisor, editor: &[String], file: &Path) -> Result<(), ProcessError> {
    let (program, args) = editor.split_first().expect("editor_command returns a word");
    let mut command = Command::new(program);
    command.args(args).arg(file);
    let status = supervisor
        .run(&mut command)
        .map_err(|source| ProcessError::EditorNotRun {
            editor: editor.join(" "),
            source,
        })?;
    if let Some(signal) = supervisor.interrupted_by() {
        return Err(ProcessError::Interrupted { signal });
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

/// How `exec-env` and `exec-file` run their command.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// Only the given variables, not ksec's own environment.
    pub pristine: bool,
    /// Run as this user (`--user`).
    pub run_as: Option<RunAs>,
}

/// Runs `sh -c COMMAND` to its end with extra environment variables (and nothing else with
/// `pristine`).
pub fn run_shell(
    supervisor: &dyn Supervisor,
    command: &str,
    env: Environment,
    options: &ShellOptions,
) -> Result<ExitStatus, ProcessError> {
    let mut child = shell_command(command, &env, options);
    // The command holds its own copy; ours is wiped now rather than after the child ends.
    drop(env);
    supervisor.run(&mut child).map_err(|e| spawn_error(command, e))
}

/// Replaces this process with `sh -c COMMAND` (exec-env `--same-process`, as sops's
/// `syscall.Exec`): signals, the terminal and the exit status are the command's own. Returns
/// only when the exec failed.
pub fn exec_shell(command: &str, env: Environment, options: &ShellOptions) -> ProcessError {
    use std::os::unix::process::CommandExt;
    let mut child = shell_command(command, &env, options);
    drop(env);
    spawn_error(command, child.exec())
}

/// `sh -c COMMAND` with extra environment variables (and nothing else with `pristine`), as
/// another user with `run_as`.
fn shell_command(command: &str, env: &Environment, options: &ShellOptions) -> Command {
    use std::os::unix::ffi::OsStringExt;
    let mut child = Command::new("/bin/sh");
    child.arg("-c").arg(command);
    if options.pristine {
        child.env_clear();
    }
    for (name, value) in env {
        child.env(name, OsString::from_vec(value.to_vec()));
    }
    if let Some(user) = &options.run_as {
        user.apply(&mut child);
    }
    child
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    child
}

/// A user a command runs as (`--user`), found in `/etc/passwd` as Go's `os/user` finds it
/// without cgo, which is how sops is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl RunAs {
    pub fn lookup(name: &str) -> Result<RunAs, ProcessError> {
        let passwd = std::fs::read_to_string("/etc/passwd").map_err(|source| ProcessError::UserDatabase {
            user: name.to_string(),
            source,
        })?;
        RunAs::find(&passwd, name).ok_or_else(|| ProcessError::UnknownUser { user: name.to_string() })
    }

    /// The entry `name:password:uid:gid:gecos:home:shell` for `name`.
    fn find(passwd: &str, name: &str) -> Option<RunAs> {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields[..] {
                [user, _, uid, gid, _, home, ..] if user == name => Some(RunAs {
                    name: user.to_string(),
                    uid: uid.parse().ok()?,
                    gid: gid.parse().ok()?,
                    home: home.to_string(),
                }),
                _ => None,
            }
        })
    }

    /// The user's ids and the variables sops sets for them (HOME, USER, LOGNAME). The standard
    /// library drops supplementary groups when root switches users, so the command has the
    /// user's primary group only (sops also adds the user's other groups).
    fn apply(&self, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        command
            .uid(self.uid)
            .gid(self.gid)
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name);
    }

    /// Makes `path` the user's, so the command can open it in ksec's private directory.
    fn give(&self, path: &Path) -> Result<(), ProcessError> {
        let uid = rustix::process::Uid::from_raw(self.uid);
        let gid = rustix::process::Gid::from_raw(self.gid);
        rustix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| ProcessError::GiveToUser {
            path: path.display().to_string(),
            user: self.name.clone(),
            source: e.into(),
        })
    }
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
    supervisor: &dyn Supervisor,
    dir: &crate::io::PrivateDir,
    name: &str,
    content: Zeroizing<Vec<u8>>,
    command: &str,
    fifo: bool,
    run_as: Option<&RunAs>,
) -> Result<ExitStatus, ProcessError> {
    let path = dir.path().join(name);
    let write_error = |source: io::Error| IoError::Write {
        path: path.clone(),
        source,
    };
    let options = ShellOptions {
        pristine: false,
        run_as: run_as.cloned(),
    };
    let mut child = shell_command(&with_path(command, &path)?, &Vec::new(), &options);
    if let Some(user) = run_as {
        user.give(dir.path())?;
    }
    if !fifo {
        dir.write_file(name, &content)?;
        drop(content);
        if let Some(user) = run_as {
            user.give(&path)?;
        }
        return supervisor.run(&mut child).map_err(|e| spawn_error(command, e));
    }
    rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::from_raw_mode(0o600))
        .map_err(|e| write_error(e.into()))?;
    if let Some(user) = run_as {
        user.give(&path)?;
    }
    let writer_path = path.clone();
    // Opening a FIFO to write waits for a reader, so a thread serves it.
    let writer = std::thread::spawn(move || -> io::Result<()> {
        use std::io::Write;
        let mut pipe = std::fs::OpenOptions::new().write(true).open(&writer_path)?;
        pipe.write_all(&content)
    });
    let status = supervisor.run(&mut child).map_err(|e| spawn_error(command, e));
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

/// The variable naming the kubectl to run instead of `kubectl` on `PATH`.
pub const KUBECTL_VAR: &str = "KSEC_KUBECTL";

/// The kubectl `apply` runs: `$KSEC_KUBECTL` (a path or a name on `PATH`), else `kubectl`.
pub fn kubectl_program() -> OsString {
    std::env::var_os(KUBECTL_VAR).unwrap_or_else(|| "kubectl".into())
}

/// Where `program` resolves the way a command is started: a name with a directory in it as it
/// is, a bare name to the first match on `PATH`; `None` when nothing is there.
pub fn resolve_program(program: &OsStr) -> Option<PathBuf> {
    let given = Path::new(program);
    if given.components().count() > 1 {
        return given.is_file().then(|| given.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
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
        .map_err(|source| ProcessError::KubectlNotRun {
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
    #[test]
    fn users_are_found_in_passwd_lines_as_go_reads_them() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\nbad line\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(
            super::RunAs::find(passwd, "nobody"),
            Some(super::RunAs {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534,
                home: "/nonexistent".into()
            })
        );
        assert_eq!(super::RunAs::find(passwd, "alice"), None);
        assert_eq!(super::RunAs::find(passwd, "bad line"), None);
    }
}
