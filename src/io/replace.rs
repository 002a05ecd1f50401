//! Replacing a file safely while other writers may be at it too.
//!
//! A command that reads, changes and writes a file holds a [`FileLock`] from before its read to
//! after its write, so two of them cannot both start from the same old content and the second
//! silently drop the first's change (50 parallel `set` calls on one file used to keep 3 or 4 of
//! their 50 changes). The lock is an advisory `flock` on `.NAME.ksec-lock` beside the file:
//! the kernel drops it when its holder dies, so a killed ksec never leaves a file locked. The
//! holder removes the lock file when it is done; a waiter that then finds it held a lock on a
//! removed file opens the new one, so there is only ever one holder.
//!
//! The file itself is only ever replaced by a rename of a complete output written next to it,
//! which makes a new inode. That is why a file with more than one hard link is refused: its
//! other names would keep the old content, which for `encrypt -i` is the plaintext. FIFOs,
//! devices and directories are refused too: they are not files ksec can replace.
//!
//! The temporary file is `.NAME.<pid>-XXXXXX.ksec-tmp`, locked by its writer from creation to
//! rename. A writer killed in between leaves it behind (ciphertext only); the next write to the
//! same file removes such leftovers whose lock it can take, that is, whose writer is gone.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rustix::fs::{FlockOperation, flock};
use zeroize::Zeroizing;

use super::{Input, IoError, without_path};

/// How long to wait for another writer by default. A writer holds the lock for one read,
/// change and write: tens of milliseconds with age keys, so even 50 queued writers are through
/// in a couple of seconds on a small machine. One that waits at a passphrase prompt or on a
/// slow key service can hold it much longer; ten seconds lets a burst of scripted writers
/// through and still fails a script stuck behind such a writer while someone is watching.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Leftovers of ksec versions that did not lock their temporary files (`.NAME.XXXXXX.ksec-tmp`)
/// are removed only once this old: nothing tells whether such a writer is still running, and
/// none ever took this long to write one file.
const UNLOCKED_LEFTOVER_AGE: Duration = Duration::from_secs(60);

/// The right to replace one file, held from before it is read to after it is written. Dropping
/// it lets the next writer in.
#[derive(Debug)]
pub struct FileLock {
    /// The file as the user named it, for messages.
    named: PathBuf,
    /// The file that gets replaced: what a symbolic link points at.
    target: PathBuf,
    lock_path: PathBuf,
    /// Holds the `flock` for as long as it is open.
    _lock_file: File,
}

impl FileLock {
    /// Waits up to `timeout` for the right to replace `path` (which need not exist yet).
    pub fn acquire(path: &Path, timeout: Duration) -> Result<FileLock, IoError> {
        // Before a lock file is made beside it: nothing belongs beside /dev/null.
        check_replaceable(path)?;
        let target = resolve_symlink(path)?;
        let lock_path = beside(&target, "", ".ksec-lock");
        let lock_error = |source: io::Error| IoError::Lock {
            path: path.to_path_buf(),
            lock: lock_path.clone(),
            source,
        };
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let file = open_lock_file(&lock_path).map_err(|source| match source.kind() {
                // The file's directory is missing: the write would fail the same way.
                io::ErrorKind::NotFound => IoError::Write {
                    path: path.to_path_buf(),
                    source,
                },
                _ => lock_error(source),
            })?;
            let retry_now = match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) if still_named(&file, &lock_path) => {
                    let lock = FileLock {
                        named: path.to_path_buf(),
                        target,
                        lock_path,
                        _lock_file: file,
                    };
                    // Checked again under the lock: the file may have changed while we waited.
                    check_replaceable(&lock.named)?;
                    return Ok(lock);
                }
                // Its holder removed it when done: the lock now lives in a new file.
                Ok(()) => true,
                Err(rustix::io::Errno::WOULDBLOCK) => false,
                Err(e) => return Err(lock_error(e.into())),
            };
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(IoError::Locked {
                    path: path.to_path_buf(),
                    lock: lock_path,
                    timeout,
                });
            }
            if retry_now {
                continue;
            }
            std::thread::sleep(pause.min(timeout - waited));
            // Waiters that started together should not keep colliding.
            pause = (pause * 2).min(Duration::from_millis(20)) + Duration::from_micros(u64::from(jitter()));
        }
    }

    /// The file as the user named it.
    pub fn path(&self) -> &Path {
        &self.named
    }

    /// The file's current content, `None` when it does not exist.
    pub fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, IoError> {
        match Input::File(self.named.clone()).read() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(IoError::InputNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the file with `bytes` unless it changed since `expected` was read from it
    /// (`None`: it did not exist). For commands that read without the lock because they wait
    /// for a person in between (`edit`, `updatekeys`): their work is refused, not another's.
    pub fn replace_if_unchanged(&self, expected: Option<&[u8]>, bytes: &[u8]) -> Result<(), IoError> {
        if self.read()?.as_deref().map(|b| &b[..]) != expected {
            return Err(IoError::ChangedSinceRead {
                path: self.named.clone(),
            });
        }
        self.replace(bytes)
    }

    /// Replaces (or creates) the file with `bytes` atomically: a complete file written beside
    /// it, synced and renamed over it. An existing file keeps its permissions; a new one gets
    /// 0600, since it may hold secrets. Leftovers of killed writers are removed first.
    pub fn replace(&self, bytes: &[u8]) -> Result<(), IoError> {
        // Messages name the target, never the temporary file next to it.
        let error = |source: io::Error| IoError::Write {
            path: self.named.clone(),
            source: without_path(source),
        };
        super::readable_size(&self.named, bytes)?;
        let existing = check_replaceable(&self.named)?;
        let dir = parent_dir(&self.target);
        remove_leftovers(&dir, &file_name(&self.target));
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{}.{}-", file_name(&self.target), std::process::id()))
            .suffix(TEMP_SUFFIX)
            .tempfile_in(&dir)
            .map_err(error)?;
        // Held until the rename (and a little after, on the renamed file, which no one locks):
        // while it is held, no other ksec takes this file for a leftover.
        flock(temp.as_file(), FlockOperation::NonBlockingLockExclusive).map_err(|e| error(e.into()))?;
        temp.write_all(bytes).map_err(error)?;
        let permissions = match &existing {
            Some(meta) => meta.permissions(),
            None => super::private_permissions(),
        };
        temp.as_file().set_permissions(permissions).map_err(error)?;
        temp.as_file().sync_all().map_err(error)?;
        temp.persist(&self.target).map_err(|e| error(e.error))?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still held, so that no lock files pile up beside the user's files; a
        // waiter holding the removed file notices (`still_named`) and takes the new one.
        let _ = fs::remove_file(&self.lock_path);
    }
}

const TEMP_SUFFIX: &str = ".ksec-tmp";

/// Whether `path` names a file ksec may replace: missing (`None`, a new file), or a regular
/// file (after symbolic links) with one name. Returns its metadata.
pub fn check_replaceable(path: &Path) -> Result<Option<fs::Metadata>, IoError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(IoError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(IoError::NotRegularFile {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.nlink() > 1 {
        return Err(IoError::HardLinked {
            path: path.to_path_buf(),
            links: meta.nlink(),
        });
    }
    Ok(Some(meta))
}

/// Writes `bytes` to a new file beside `path` (`NAME.unsaved-XXXXXX.EXT`, so its format is still
/// told by its extension), 0600, and returns its path. For an encrypted result that could not
/// replace the file, so that the work that went into it is not lost.
pub fn keep_beside(path: &Path, label: &str, bytes: &[u8]) -> Result<PathBuf, IoError> {
    let target = resolve_symlink(path)?;
    let stem = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = target
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let error = |source: io::Error| IoError::Write {
        path: path.to_path_buf(),
        source: without_path(source),
    };
    // tempfile makes it 0600 and never reuses a name.
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{stem}.{label}-"))
        .suffix(&extension)
        .tempfile_in(parent_dir(&target))
        .map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    let (_, kept) = file.keep().map_err(|e| error(e.error))?;
    Ok(kept)
}

fn kind_of(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// What a symbolic link points at, to be replaced instead of the link (as sops and editors
/// do); anything else as it is.
fn resolve_symlink(path: &Path) -> Result<PathBuf, IoError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        }),
        _ => Ok(path.to_path_buf()),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `.NAME{middle}{suffix}` in the file's directory.
fn beside(path: &Path, middle: &str, suffix: &str) -> PathBuf {
    parent_dir(path).join(format!(".{}{middle}{suffix}", file_name(path)))
}

/// Opens (creating, 0600) the lock file, never through a symbolic link someone put there.
fn open_lock_file(path: &Path) -> io::Result<File> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Whether `path` still names the open `file` (its last holder may have removed it).
fn still_named(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// A few hundred microseconds that differ between processes.
fn jitter() -> u32 {
    std::process::id() % 500
}

/// Removes the temporary files of writers of `name` (in `dir`) that are gone. Called with the
/// file's lock held, so no live ksec is between creating its temporary file and locking it.
/// Failures are ignored: a leftover is untidy, not unsafe (it holds ciphertext only).
fn remove_leftovers(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let Some(writer) = entry_name.to_str().and_then(|n| leftover_writer(n, name)) else {
            continue;
        };
        if writer_is_gone(&entry.path(), writer) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Who wrote a temporary file of ksec's for `target`, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// `.NAME.<pid>-XXXXXX.ksec-tmp`: locked by its writer while in use.
    Locking { pid: u32 },
    /// `.NAME.XXXXXX.ksec-tmp`: a ksec from before the lock, which cannot be asked.
    Unlocking,
}

/// The writer of `file_name` when it is a temporary file of ksec's for `target` (exactly that
/// name: `.a.b.….ksec-tmp` belongs to `a.b`, never to `a`).
fn leftover_writer(file_name: &str, target: &str) -> Option<Writer> {
    let middle = file_name
        .strip_prefix('.')?
        .strip_prefix(target)?
        .strip_prefix('.')?
        .strip_suffix(TEMP_SUFFIX)?;
    // tempfile's random part: six ASCII letters and digits.
    let random = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    match middle.split_once('-') {
        Some((pid, rest)) if random(rest) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => {
            pid.parse().ok().map(|pid| Writer::Locking { pid })
        }
        None if random(middle) => Some(Writer::Unlocking),
        _ => None,
    }
}

/// Whether the writer of the temporary file at `path` is gone: its lock can be taken (the
/// kernel releases it when the writer dies, however it dies). The PID in the name only tells
/// people who wrote it, and this process from its own files: PIDs are reused, and in another
/// PID namespace (a container on a shared volume) they name someone else.
fn writer_is_gone(path: &Path, writer: Writer) -> bool {
    if writer
        == (Writer::Locking {
            pid: std::process::id(),
        })
    {
        return false;
    }
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
    else {
        return false;
    };
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        return false;
    }
    match writer {
        Writer::Locking { .. } => true,
        Writer::Unlocking => meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= UNLOCKED_LEFTOVER_AGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(path: &Path, bytes: &[u8]) {
        FileLock::acquire(path, Duration::ZERO)
            .and_then(|lock| lock.replace(bytes))
            .unwrap();
    }

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        replace(&path, b"new");
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        // Neither a temporary file nor the lock file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.yaml", &link).unwrap();
        replace(&link, b"new");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn new_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.yaml");
        replace(&path, b"x");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_held_lock_times_out_and_a_released_one_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        let held = FileLock::acquire(&path, Duration::ZERO).unwrap();
        let err = FileLock::acquire(&path, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, IoError::Locked { .. }), "{err:?}");
        drop(held);
        assert!(!dir.path().join(".s.yaml.ksec-lock").exists());
        FileLock::acquire(&path, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiter_on_a_removed_lock_file_takes_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        let lock_path = dir.path().join(".s.yaml.ksec-lock");
        // A waiter opened the old lock file before its holder removed it.
        let stale = open_lock_file(&lock_path).unwrap();
        fs::remove_file(&lock_path).unwrap();
        let held = FileLock::acquire(&path, Duration::ZERO).unwrap();
        flock(&stale, FlockOperation::NonBlockingLockExclusive).unwrap();
        assert!(
            !still_named(&stale, &lock_path),
            "the old file is not the lock any more"
        );
        drop(held);
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        fs::write(&path, "theirs").unwrap();
        let lock = FileLock::acquire(&path, Duration::ZERO).unwrap();
        let err = lock.replace_if_unchanged(Some(b"ours before"), b"ours").unwrap_err();
        assert!(matches!(err, IoError::ChangedSinceRead { .. }), "{err:?}");
        let err = lock.replace_if_unchanged(None, b"ours").unwrap_err();
        assert!(matches!(err, IoError::ChangedSinceRead { .. }), "{err:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "theirs");
        lock.replace_if_unchanged(Some(b"theirs"), b"ours").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "ours");
    }

    #[test]
    fn hard_links_and_special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.yaml");
        fs::write(&path, "x").unwrap();
        fs::hard_link(&path, dir.path().join("h2.yaml")).unwrap();
        let err = FileLock::acquire(&path, Duration::ZERO).unwrap_err();
        assert!(matches!(err, IoError::HardLinked { links: 2, .. }), "{err:?}");
        let err = check_replaceable(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::NotRegularFile {
                    kind: "a directory",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = check_replaceable(Path::new("/dev/null")).unwrap_err();
        assert!(matches!(err, IoError::NotRegularFile { .. }), "{err:?}");
    }

    #[test]
    fn leftover_names_belong_to_exactly_one_file() {
        assert_eq!(
            leftover_writer(".s.yaml.123-aB3xY9.ksec-tmp", "s.yaml"),
            Some(Writer::Locking { pid: 123 })
        );
        assert_eq!(
            leftover_writer(".s.yaml.aB3xY9.ksec-tmp", "s.yaml"),
            Some(Writer::Unlocking)
        );
        // Another file's, or not ksec's pattern.
        assert_eq!(leftover_writer(".s.yaml.123-aB3xY9.ksec-tmp", "s"), None);
        assert_eq!(leftover_writer(".s.yaml.123-aB3xY9.ksec-tmp", "s.yam"), None);
        assert_eq!(leftover_writer(".s.yaml.x-aB3xY9.ksec-tmp", "s.yaml"), None);
        assert_eq!(leftover_writer(".s.yaml.aB3xY.ksec-tmp", "s.yaml"), None);
        assert_eq!(leftover_writer(".s.yaml.ksec-lock", "s.yaml"), None);
        assert_eq!(leftover_writer("s.yaml", "s.yaml"), None);
    }

    #[test]
    fn leftovers_of_gone_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        fs::write(&path, "old").unwrap();
        let gone = dir.path().join(".s.yaml.4000000-aaaaaa.ksec-tmp");
        let live = dir.path().join(".s.yaml.4000001-bbbbbb.ksec-tmp");
        let recent_unlocked = dir.path().join(".s.yaml.cccccc.ksec-tmp");
        let old_unlocked = dir.path().join(".s.yaml.dddddd.ksec-tmp");
        let other = dir.path().join(".t.yaml.4000000-aaaaaa.ksec-tmp");
        for p in [&gone, &live, &recent_unlocked, &old_unlocked, &other] {
            fs::write(p, "ciphertext").unwrap();
        }
        // A leftover of a ksec from before the lock, older than the age that says it is gone.
        let long_ago = SystemTime::now() - UNLOCKED_LEFTOVER_AGE - Duration::from_secs(5);
        File::options()
            .write(true)
            .open(&old_unlocked)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let holder = File::open(&live).unwrap();
        flock(&holder, FlockOperation::LockExclusive).unwrap();
        // flock locks belong to open files, so this process's own lock counts as another's.
        replace(&path, b"new");
        assert!(!gone.exists());
        assert!(live.exists());
        assert!(recent_unlocked.exists());
        assert!(!old_unlocked.exists());
        assert!(other.exists());
    }
}
