//! The scratch directory every integration test works in (ripgrep's `Dir` habit).
//!
//! ```text
//! <temp>/work/          the commands' current directory, with no .sops.yaml above it
//! <temp>/home/          HOME, empty but for what a test puts there
//! <temp>/home/.gnupg/   GNUPGHOME, 0700
//! <temp>/<name>/        side directories (scripts, logs, TMPDIR, XDG_RUNTIME_DIR, …)
//! ```
//!
//! Everything is removed when the `Dir` is dropped, after the gpg-agents that commands started
//! in its GnuPG homes are stopped.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use super::peers;
use super::run::TestCommand;

/// A scratch directory with an empty home; see the module documentation for its layout.
pub struct Dir {
    tmp: tempfile::TempDir,
    made: SystemTime,
    /// Directories made in memory-backed storage for this Dir, removed with it.
    memory: std::sync::Mutex<Vec<(String, tempfile::TempDir)>>,
}

impl Dir {
    pub fn new() -> Dir {
        let tmp = tempfile::tempdir().expect("temp dir");
        for dir in ["work", "home"] {
            fs::create_dir(tmp.path().join(dir)).unwrap_or_else(|e| panic!("create {dir}/: {e}"));
        }
        Dir {
            memory: std::sync::Mutex::new(Vec::new()),
            tmp,
            made: SystemTime::now(),
        }
    }

    /// A `Dir` for a test that runs the real sops, or `None` (after a note) when sops is not
    /// installed outside CI; under CI a missing sops fails the test.
    pub fn with_sops() -> Option<Dir> {
        peers::sops().map(|_| Dir::new())
    }

    /// When the directory was made: what a test left in places shared with the tests running
    /// beside it (/dev/shm) is newer.
    pub fn made(&self) -> SystemTime {
        self.made
    }

    /// The temporary directory holding `work/`, `home/` and the side directories.
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The working directory: every command runs here.
    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// `work/<name>`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work().join(name)
    }

    /// `<root>/<name>`, created when missing: a place beside the working directory for what
    /// must stay out of it (scripts, logs, a TMPDIR).
    pub fn side(&self, name: &str) -> PathBuf {
        let dir = self.root().join(name);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        dir
    }

    /// A directory on memory-backed storage (`/dev/shm`), as a real `XDG_RUNTIME_DIR` is
    /// (ksec uses one only when `statfs` says so), or a side directory where there is none.
    /// The same name gives the same directory; it is removed with the Dir.
    pub fn memory_side(&self, name: &str) -> PathBuf {
        let mut memory = self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, dir)) = memory.iter().find(|(n, _)| n == name) {
            return dir.path().to_path_buf();
        }
        match tempfile::Builder::new()
            .prefix(&format!("ksec-test-{name}-"))
            .tempdir_in("/dev/shm")
        {
            Ok(dir) => {
                let path = dir.path().to_path_buf();
                memory.push((name.to_string(), dir));
                path
            }
            Err(_) => self.side(name),
        }
    }

    /// The GnuPG home every command gets (`home/.gnupg`), created empty and 0700 (gpg warns
    /// about a home others can read) when missing.
    pub fn gnupg_home(&self) -> PathBuf {
        private_dir(&self.home().join(".gnupg"))
    }

    /// Another GnuPG home, `<root>/gnupg-<name>` (0700), for a test that needs several
    /// keyrings. Its gpg-agent is stopped with the `Dir`'s.
    pub fn extra_gnupg_home(&self, name: &str) -> PathBuf {
        private_dir(&self.root().join(format!("gnupg-{name}")))
    }

    /// Writes `work/<name>`, creating directories on the way.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        let path = self.path(name);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("UTF-8 file")
    }

    /// Copies `testdata/<from>` to `work/<to>`.
    pub fn copy_testdata(&self, from: &str, to: &str) -> PathBuf {
        self.write(
            to,
            fs::read(super::testdata(from)).unwrap_or_else(|e| panic!("read testdata/{from}: {e}")),
        )
    }

    /// The names in the working directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.work())
            .expect("list work dir")
            .map(|entry| entry.expect("dir entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// An executable `/bin/sh` script `<root>/bin/<name>`: an editor, a stand-in for a
    /// program, a command for `exec-*`.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.side("bin").join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        make_executable(&path);
        path
    }

    /// The ksec binary under test.
    pub fn ksec(&self) -> TestCommand {
        self.command(env!("CARGO_BIN_EXE_ksec"))
    }

    /// ksec run through a symbolic link named `name` (`<root>/ksec-as-<name>/<name>`), as a
    /// user who installed it under that name runs it: ksec answers to the name it is run by
    /// (`sops`). The link's directory can go first on PATH ([`TestCommand::path_first`]).
    pub fn ksec_as(&self, name: &str) -> TestCommand {
        self.command(self.link_program(&format!("ksec-as-{name}"), name, env!("CARGO_BIN_EXE_ksec")))
    }

    /// `<root>/<side>/<name>`, a symbolic link to `program` (made when missing): a program
    /// under another name, alone in a directory that [`TestCommand::path_first`] can put first
    /// on PATH so that a shell or another tool finds it by that name.
    pub fn link_program(&self, side: &str, name: &str, program: impl AsRef<Path>) -> PathBuf {
        let link = self.side(side).join(name);
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(program.as_ref(), &link)
                .unwrap_or_else(|e| panic!("link {} to {}: {e}", link.display(), program.as_ref().display()));
        }
        link
    }

    /// The real sops. The test must have found it first ([`Dir::with_sops`] or
    /// `common::sops()`), so that a machine without sops skips the test instead of failing.
    pub fn sops(&self) -> TestCommand {
        self.command(peers::sops().expect("a test that runs sops checks for it first"))
    }

    /// Any other program (a peer from `common::gpg()`, `git`, `kill`, a script), run like ksec.
    pub fn command(&self, program: impl AsRef<OsStr>) -> TestCommand {
        self.isolate(Command::new(program))
    }

    /// `cmd`, built elsewhere, run in this directory with the same isolation as the others.
    pub fn isolate(&self, cmd: Command) -> TestCommand {
        TestCommand::isolated(cmd, &self.home(), &self.gnupg_home(), &self.work())
    }
}

impl Drop for Dir {
    /// Stops the gpg-agents of this directory's GnuPG homes, so none outlives its test.
    fn drop(&mut self) {
        let extra_homes = fs::read_dir(self.root())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("gnupg-"))
            .map(|entry| entry.path());
        for home in std::iter::once(self.home().join(".gnupg")).chain(extra_homes) {
            stop_gpg_agent(&home);
        }
    }
}

/// Stops the gpg-agent that a command run in this GnuPG home may have started. It never fails,
/// and does nothing when gpg never ran there (an agent always leaves files in its home).
pub fn stop_gpg_agent(gnupg_home: &Path) {
    let used = fs::read_dir(gnupg_home).is_ok_and(|mut entries| entries.next().is_some());
    if let (true, Some(gpgconf)) = (used, peers::gpgconf()) {
        let _ = Command::new(gpgconf)
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", gnupg_home)
            .stdin(std::process::Stdio::null())
            .output();
    }
}

/// `dir`, created 0700 when missing.
fn private_dir(dir: &Path) -> PathBuf {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir.to_path_buf()
}

/// Makes a file executable (0755).
fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("cannot make {} executable: {e}", path.display()));
    }
}
