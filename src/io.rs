//! Reading inputs and writing outputs safely.
//!
//! Inputs are read whole into zeroizing buffers. Files are only ever replaced by an atomic
//! rename of a complete output written next to them (same directory, so the rename cannot
//! cross file systems), with the original's permissions, after an fsync, and under a lock
//! that serializes writers ([`replace`]). A failure at any point leaves the original
//! untouched and removes the temporary file. Plaintext that has to be a file for a while goes
//! in a private directory, memory-backed when possible ([`private_dir`]).

mod private_dir;
mod replace;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

pub use private_dir::{DiskUse, MEMORY_DIRS_VAR, PrivateDir};
pub use replace::{DEFAULT_LOCK_TIMEOUT, FileLock, check_replaceable, keep_beside};
mod limit;
pub use limit::{DEFAULT_MAX_INPUT_SIZE, MAX_INPUT_SIZE_VAR, max_input_size, parse_size};

/// Why an input could not be read or an output written. Paths name what the user named (or
/// `stdin`/`stdout`), never a temporary file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{}: no such file", .path.display())]
    InputNotFound { path: PathBuf },
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    /// Another writer held the file's lock for the whole timeout.
    #[error(
        "{}: another ksec is changing it: its lock {} stayed held for the {}s this one waits, so nothing was written",
        .path.display(),
        .lock.display(),
        .timeout.as_secs_f64()
    )]
    Locked {
        path: PathBuf,
        lock: PathBuf,
        timeout: Duration,
    },
    #[error("cannot write {}: cannot lock it with {}: {source}", .path.display(), .lock.display())]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        source: io::Error,
    },
    /// The file changed between a read made without the lock and the write.
    #[error("{}: changed since ksec read it (another writer got there first); nothing was written to it", .path.display())]
    ChangedSinceRead { path: PathBuf },
    /// Replacing it would make a new file under this name only, leaving the old content (for
    /// `encrypt -i`, the plaintext) under its other names.
    #[error(
        "{}: has {links} names (hard links); ksec replaces a file by a new one, which would leave the \
         old content under the other names, so nothing was written",
        .path.display()
    )]
    HardLinked { path: PathBuf, links: u64 },
    #[error("{}: is {kind}, not a regular file ksec can replace; nothing was written", .path.display())]
    NotRegularFile { path: PathBuf, kind: &'static str },
    /// No memory-backed directory for plaintext, and the user asked to refuse a disk.
    #[error(
        "no memory-backed (tmpfs or ramfs) directory for the decrypted file (passed over: {}), so nothing was decrypted to a file",
        .tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoMemoryBackedDir { tried: Vec<PathBuf> },
    /// An input larger than ksec reads; `size` when it was known before reading (a file).
    #[error(
        "{} {} the {} ksec reads",
        .path.display(),
        .size.map_or_else(|| "holds more than".to_string(), |size| format!("is {}, more than", limit::describe(size))),
        limit::describe(*.limit)
    )]
    TooLarge {
        path: PathBuf,
        size: Option<u64>,
        limit: u64,
    },
    /// An output larger than ksec reads: written, it could not be read back without raising
    /// the limit, so it is not written.
    #[error(
        "the output for {} would be {}, more than the {} ksec reads back",
        .path.display(),
        limit::describe(*.size),
        limit::describe(*.limit)
    )]
    OutputTooLarge { path: PathBuf, size: u64, limit: u64 },
    /// `KSEC_MAX_INPUT_SIZE` is not a size.
    #[error("{MAX_INPUT_SIZE_VAR}={value:?} is not a size in bytes (such as 1048576, 512K or 64M)")]
    InvalidMaxInputSize { value: String },
}

/// Where input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// `-` (or nothing) is stdin.
    pub fn from_arg(arg: Option<&Path>) -> Input {
        match arg {
            None => Input::Stdin,
            Some(p) if p.as_os_str() == "-" => Input::Stdin,
            Some(p) => Input::File(p.to_path_buf()),
        }
    }

    /// The name used in messages.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "stdin".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// Reads all of it, up to [`max_input_size`]: a larger input is refused, a file before any
    /// of it is read, anything else (stdin, a device) once one byte more than the limit came.
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>, IoError> {
        let limit = max_input_size()?;
        let too_large = |path: &Path, size: Option<u64>| IoError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        };
        let bytes =
            match self {
                Input::Stdin => read_to_end_zeroizing(&mut io::stdin().lock().take(limit.saturating_add(1)), 0)
                    .map_err(|source| IoError::Read {
                        path: PathBuf::from("stdin"),
                        source,
                    })?,
                Input::File(path) => {
                    let mut file = File::open(path).map_err(|source| match source.kind() {
                        io::ErrorKind::NotFound => IoError::InputNotFound { path: path.clone() },
                        _ => IoError::Read {
                            path: path.clone(),
                            source,
                        },
                    })?;
                    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                    if len > limit {
                        return Err(too_large(path, Some(len)));
                    }
                    // One more than the size: the read that finds the end needs room too.
                    let expected = usize::try_from(len.saturating_add(1)).unwrap_or(usize::MAX);
                    read_to_end_zeroizing(&mut (&mut file).take(limit.saturating_add(1)), expected).map_err(
                        |source| IoError::Read {
                            path: path.clone(),
                            source,
                        },
                    )?
                }
            };
        if bytes.len() as u64 > limit {
            let path = match self {
                Input::Stdin => PathBuf::from("stdin"),
                Input::File(path) => path.clone(),
            };
            return Err(too_large(&path, None));
        }
        Ok(bytes)
    }
}

/// Reads `reader` to its end into a zeroizing buffer, `expected` bytes long to start with. A
/// `Vec` that grows in place frees its old allocation with the plaintext still in it; this one
/// grows by copying into a buffer twice the size and zeroizing the old one.
pub fn read_to_end_zeroizing(reader: &mut impl Read, expected: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buffer = Zeroizing::new(vec![0u8; expected.max(8 * 1024)]);
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            let mut bigger = Zeroizing::new(vec![0u8; buffer.len().saturating_mul(2)]);
            bigger[..filled].copy_from_slice(&buffer[..filled]);
            buffer = bigger;
        }
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buffer.truncate(filled);
    Ok(buffer)
}

/// Whether a file's first 8000 bytes hold a NUL, Git's test for binary content: enough to skip
/// a large image or archive without reading it whole.
pub fn starts_binary(path: &Path) -> Result<bool, IoError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => IoError::InputNotFound {
            path: path.to_path_buf(),
        },
        _ => IoError::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let mut head = Zeroizing::new(Vec::with_capacity(8000));
    file.take(8000).read_to_end(&mut head).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(head.contains(&0))
}

/// The files named by `paths`, in a stable order: files as given, and the `wanted` files inside
/// directories (recursively with `recursive`, not through symbolic links to directories), each
/// directory's files sorted by path.
pub fn collect_files(paths: &[PathBuf], recursive: bool, wanted: Walk) -> Result<Vec<PathBuf>, IoError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => IoError::InputNotFound { path: path.clone() },
            _ => IoError::Read {
                path: path.clone(),
                source,
            },
        })?;
        if meta.is_dir() {
            walk(path, recursive, wanted, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Which files a directory walk picks up (hidden ones never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// `*.yaml`, `*.yml` and `*.json`: Kubernetes manifests.
    Manifests,
    /// Every file: encrypted files of any format (dotenv, INI, binary).
    AllFiles,
}

fn walk(dir: &Path, recursive: bool, wanted: Walk, files: &mut Vec<PathBuf>) -> Result<(), IoError> {
    let read_error = |source| IoError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(read_error)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_error)?;
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            // A symbolic link to a directory is not followed: it can lead back up the tree
            // (a loop) or out of it.
            let linked = fs::symlink_metadata(&entry).is_ok_and(|meta| meta.file_type().is_symlink());
            if recursive && !linked {
                walk(&entry, recursive, wanted, files)?;
            }
        } else if wanted == Walk::AllFiles
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name.ends_with(".json")
        {
            files.push(entry);
        }
    }
    Ok(())
}

/// Writes to stdout. A closed pipe (`ksec decrypt … | head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), IoError> {
    readable_size(Path::new("stdout"), bytes)?;
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(IoError::Write {
            path: PathBuf::from("stdout"),
            source,
        }),
    }
}

/// Refuses output that ksec would refuse to read ([`max_input_size`]): an encrypted file is
/// about three times the size of its plaintext, so without this check a large input would
/// encrypt into a file that no later command opens until the limit is raised.
pub fn readable_size(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let limit = max_input_size()?;
    let size = bytes.len() as u64;
    match size > limit {
        true => Err(IoError::OutputTooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        }),
        false => Ok(()),
    }
}

/// An I/O error with the OS's description only (tempfile's errors embed the temporary path).
fn without_path(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.kind().to_string()),
    }
}

#[cfg(unix)]
fn private_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private_permissions() -> fs::Permissions {
    tempfile::NamedTempFile::new()
        .and_then(|f| f.as_file().metadata())
        .map(|m| m.permissions())
        .expect("temp dir")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_input_is_exit_100() {
        let err = Input::File(PathBuf::from("/nonexistent/ksec")).read().unwrap_err();
        assert_eq!(crate::Error::from(err).exit_code(), 100);
    }
}
