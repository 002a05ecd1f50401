//! Reading inputs and writing outputs safely.
//!
//! Inputs are read whole into zeroizing buffers. Files are only ever replaced by an atomic
//! rename of a complete output written next to them (same directory, so the rename cannot
//! cross file systems), with the original's permissions, after an fsync. A failure at any
//! point leaves the original untouched and removes the temporary file.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

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

/// Replaces (or creates) `path` with `bytes` atomically. An existing file keeps its
/// permissions; a new one gets 0600, since it may hold secrets.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    // Messages name the target, never the temporary file next to it.
    let error = |source: io::Error| IoError::Write {
        path: path.to_path_buf(),
        source: without_path(source),
    };
    // Replace what a symbolic link points at, not the link (as sops and editors do).
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            resolved = fs::canonicalize(path).map_err(error)?;
            resolved.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let existing = fs::metadata(path).ok();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".ksec-tmp")
        .tempfile_in(&dir)
        .map_err(error)?;
    temp.write_all(bytes).map_err(error)?;
    let permissions = match &existing {
        Some(meta) => meta.permissions(),
        None => private_permissions(),
    };
    temp.as_file().set_permissions(permissions).map_err(error)?;
    temp.as_file().sync_all().map_err(error)?;
    temp.persist(path).map_err(|e| error(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A private directory (0700) for plaintext that has to exist as a file for a while: the
/// buffer `edit` hands to an editor, the file `exec-file` hands to a command. It is made in
/// memory-backed storage when there is some (`$XDG_RUNTIME_DIR`, then `/dev/shm`), so the
/// plaintext does not reach a disk, and removed with everything in it when dropped.
pub struct PrivateDir {
    dir: tempfile::TempDir,
}

impl PrivateDir {
    /// Creates the directory.
    pub fn new() -> Result<PrivateDir, IoError> {
        let mut last_error = None;
        for base in private_dir_bases() {
            match make_private_dir(&base) {
                Ok(dir) => return Ok(PrivateDir { dir }),
                Err(e) => last_error = Some((base, e)),
            }
        }
        let (path, source) = last_error.expect("the system temp dir is always a candidate");
        Err(IoError::Write { path, source })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
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
        #[cfg(unix)]
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

/// Where private directories are made, best first.
fn private_dir_bases() -> Vec<PathBuf> {
    let mut bases = Vec::new();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        bases.push(PathBuf::from(runtime));
    }
    if cfg!(target_os = "linux") {
        bases.push(PathBuf::from("/dev/shm"));
    }
    bases.push(std::env::temp_dir());
    bases
}

fn make_private_dir(base: &Path) -> io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ksec-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o700));
    }
    let dir = builder.tempdir_in(base)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path())?.permissions().mode() & 0o777;
        if mode != 0o700 {
            return Err(io::Error::other(format!(
                "the private directory came out with mode {mode:o}"
            )));
        }
    }
    Ok(dir)
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
    fn atomic_write_replaces_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_file_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.yaml", &link).unwrap();
        write_file_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.yaml");
        write_file_atomic(&path, b"x").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_0700_and_vanish() {
        use std::os::unix::fs::PermissionsExt;
        let dir = PrivateDir::new().unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        let file = dir.write_file("s.yaml", b"x").unwrap();
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        dir.remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn missing_input_is_exit_100() {
        let err = Input::File(PathBuf::from("/nonexistent/ksec")).read().unwrap_err();
        assert_eq!(crate::Error::from(err).exit_code(), 100);
    }
}
