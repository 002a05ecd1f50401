//! A private directory (0700) for plaintext that has to exist as a file for a while: the
//! buffer `edit` hands to an editor, the file `exec-file --no-fifo` hands to a command.
//!
//! It goes in memory-backed storage (tmpfs or ramfs, checked with `statfs`) so the plaintext
//! does not reach a disk, which can keep a removed file's blocks for years: the first of
//! `$KSEC_MEMORY_DIRS` (a `:`-separated list; `$XDG_RUNTIME_DIR` and then `/dev/shm` when it is
//! not set) and the system temp directory that is memory-backed and lets us make a directory.
//! When none is, the directory is made in the system temp directory on a disk, and the caller
//! is told ([`PrivateDir::is_memory_backed`]) so it can warn before it writes anything; or,
//! with [`DiskUse::Refuse`], no directory is made at all.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::IoError;

/// Whether a private directory may be on a disk when no memory-backed one can be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskUse {
    Allow,
    Refuse,
}

/// The directory; it is removed with everything in it when dropped.
pub struct PrivateDir {
    dir: tempfile::TempDir,
    memory_backed: bool,
    /// The candidates that were not memory-backed or not usable, for messages.
    passed_over: Vec<PathBuf>,
}

impl PrivateDir {
    /// Creates the directory, in memory-backed storage if there is any.
    pub fn new(disk: DiskUse) -> Result<PrivateDir, IoError> {
        let mut passed_over = Vec::new();
        let temp = std::env::temp_dir();
        for base in memory_candidates().into_iter().chain([temp.clone()]) {
            if is_memory_backed(&base)
                && let Ok(dir) = make_private_dir(&base)
            {
                return Ok(PrivateDir {
                    dir,
                    memory_backed: true,
                    passed_over,
                });
            }
            if !passed_over.contains(&base) {
                passed_over.push(base);
            }
        }
        if disk == DiskUse::Refuse {
            return Err(IoError::NoMemoryBackedDir { tried: passed_over });
        }
        let dir = make_private_dir(&temp).map_err(|source| IoError::Write { path: temp, source })?;
        Ok(PrivateDir {
            dir,
            memory_backed: false,
            passed_over,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the directory is on tmpfs or ramfs; when it is not, what is written in it can
    /// reach a disk.
    pub fn is_memory_backed(&self) -> bool {
        self.memory_backed
    }

    /// The places tried before this one and passed over (not memory-backed, or no directory
    /// could be made there).
    pub fn passed_over(&self) -> &[PathBuf] {
        &self.passed_over
    }

    /// Writes a new 0600 file named `name` in the directory.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, IoError> {
        let path = self.dir.path().join(name);
        let error = |source| IoError::Write {
            path: path.clone(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(error)?;
        file.write_all(bytes).map_err(error)?;
        Ok(path)
    }

    /// Removes the directory now, reporting a failure (dropping it ignores failures).
    pub fn remove(self) -> Result<(), IoError> {
        let path = self.dir.path().to_path_buf();
        self.dir.close().map_err(|source| IoError::Write { path, source })
    }
}

/// The variable that replaces the default list of memory-backed places to try.
pub const MEMORY_DIRS_VAR: &str = "KSEC_MEMORY_DIRS";

/// Where memory-backed storage is looked for, best first: `$KSEC_MEMORY_DIRS` when set (so a
/// system with its tmpfs elsewhere can say so, and tests can leave `/dev/shm` out without
/// being root), else `$XDG_RUNTIME_DIR` and `/dev/shm`.
fn memory_candidates() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os(MEMORY_DIRS_VAR) {
        return std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    let mut bases = Vec::new();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        bases.push(PathBuf::from(runtime));
    }
    if cfg!(target_os = "linux") {
        bases.push(PathBuf::from("/dev/shm"));
    }
    bases
}

/// Whether `dir` is on tmpfs or ramfs (Linux's memory-backed file systems; tmpfs can still be
/// swapped out, like any memory). Elsewhere nothing is taken for memory-backed.
fn is_memory_backed(dir: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        // linux/magic.h
        const TMPFS_MAGIC: u32 = 0x0102_1994;
        const RAMFS_MAGIC: u32 = 0x8584_58f6;
        // f_type is signed and 32 bits wide on some architectures: compare the low 32 bits.
        rustix::fs::statfs(dir).is_ok_and(|s| matches!(s.f_type as u32, TMPFS_MAGIC | RAMFS_MAGIC))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        false
    }
}

fn make_private_dir(base: &Path) -> io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(".ksec-")
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(base)?;
    let mode = fs::metadata(dir.path())?.permissions().mode() & 0o777;
    if mode != 0o700 {
        return Err(io::Error::other(format!(
            "the private directory came out with mode {mode:o}"
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_0700_and_vanish() {
        use std::os::unix::fs::PermissionsExt;
        let dir = PrivateDir::new(DiskUse::Allow).unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        let file = dir.write_file("s.yaml", b"x").unwrap();
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        dir.remove().unwrap();
        assert!(!path.exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn tmpfs_is_memory_backed_and_proc_is_not() {
        if Path::new("/dev/shm").is_dir() {
            assert!(is_memory_backed(Path::new("/dev/shm")));
        }
        assert!(!is_memory_backed(Path::new("/proc")));
        assert!(!is_memory_backed(Path::new("/nonexistent/ksec")));
    }
}
