//! What the commands share: where input comes from, where output goes (under the file's lock,
//! so writers take turns), which `.sops.yaml` applies, the output layout it asks for, and where
//! plaintext may be put as a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{FormatName, GlobalArgs, IoArgs};
use super::terminal::Terminal;
use crate::config::{self, Config};
use crate::error::{CommandError, Error};
use crate::formats::{Format, OutputOptions, json::JsonIndent};
use crate::io::{self, DiskUse, FileLock, Input, IoError, PrivateDir};

/// Where the result goes.
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// The resolved input/output plan of one command.
pub struct Plan {
    pub input: Input,
    /// The path used for the format and for creation-rule matching.
    pub name: Option<PathBuf>,
    pub destination: Destination,
    pub input_format: Option<Format>,
    pub output_format: Option<Format>,
    /// YAML or JSON, as the `--output` file's name says (not when run as `sops`, which writes
    /// the input's format whatever the name).
    pub output_format_by_name: Option<Format>,
    in_place: bool,
    lock: Option<FileLock>,
}

impl Plan {
    pub fn new(file: Option<&Path>, io_args: &IoArgs) -> Result<Plan, Error> {
        let input = Input::from_arg(file);
        if io_args.in_place && io_args.output.is_some() {
            return Err(CommandError::ConflictingOptions("--in-place and --output cannot be used together").into());
        }
        let destination = match (&input, io_args.in_place, &io_args.output) {
            (Input::Stdin, true, _) => {
                return Err(CommandError::ConflictingOptions("--in-place needs a file to replace, not stdin").into());
            }
            (Input::File(path), true, _) => Destination::File(path.clone()),
            (_, false, Some(path)) => Destination::File(path.clone()),
            (_, false, None) => Destination::Stdout,
        };
        let name = io_args.filename_override.clone().or_else(|| match &input {
            Input::File(p) => Some(p.clone()),
            Input::Stdin => None,
        });
        let input_format = match io_args.input_type {
            Some(t) => Some(t.into()),
            None => name.as_deref().and_then(Format::from_path),
        };
        let output_format = io_args.output_type.map(Format::from);
        let output_format_by_name = io_args
            .output
            .as_deref()
            .and_then(Format::from_path)
            .filter(|format| matches!(format, Format::Yaml | Format::Json) && !super::as_sops());
        Ok(Plan {
            input,
            name,
            destination,
            input_format,
            output_format,
            output_format_by_name,
            in_place: io_args.in_place,
            lock: None,
        })
    }

    /// Takes the lock of the file the output goes to, if it goes to one. Called before the
    /// input (or the file's previous version) is read, it makes the read, the change and the
    /// write one step for other writers; `write` takes the lock itself otherwise.
    pub fn lock(&mut self) -> Result<(), Error> {
        if let (Destination::File(path), None) = (&self.destination, &self.lock) {
            self.lock = Some(if self.in_place {
                lock_in_place(path)?
            } else {
                lock_output(path)?
            });
        }
        Ok(())
    }

    /// The input's name in messages.
    pub fn display_name(&self) -> String {
        self.input.display_name()
    }

    pub fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        match &self.destination {
            Destination::Stdout => io::write_stdout(bytes)?,
            Destination::File(path) => match &self.lock {
                Some(lock) => lock.replace(bytes)?,
                None => lock_output(path)?.replace(bytes)?,
            },
        }
        Ok(())
    }
}

/// Loads the `.sops.yaml` given with `--config`, or the nearest one above the working
/// directory. A broken config is an error for every command, as in sops.
pub fn load_config(global: &GlobalArgs) -> Result<Option<Config>, Error> {
    if let Some(path) = &global.config {
        return Ok(Some(config::load(path)?));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let lookup = config::find(&cwd);
    if let Some(w) = lookup.warning() {
        super::warn(&w);
    }
    Ok(lookup.found.as_deref().map(config::load).transpose()?)
}

/// Output layout from `--indent` and the config's `stores` section.
pub fn output_options(io_args: &IoArgs, config: Option<&Config>) -> OutputOptions {
    let stores = config.map(|c| c.stores.clone()).unwrap_or_default();
    let mut options = OutputOptions::default();
    // `--indent 0` means the default for YAML, as in sops (and as `stores.yaml.indent: 0`).
    options.yaml.indent = io_args.indent.filter(|&n| n > 0).or(stores.yaml_indent);
    let json = |indent: Option<usize>| indent.map_or(JsonIndent::Tab, JsonIndent::Spaces);
    options.json_indent = json(io_args.indent.or(stores.json_indent));
    options.json_binary_indent = json(io_args.indent.or(stores.json_binary_indent));
    options
}

/// The path a creation rule is matched against: the file (or override), else nothing.
pub fn rule_subject(plan: &Plan) -> Option<&Path> {
    plan.name.as_deref()
}

/// The format of an existing file: `--input-type`, else its name, else its content.
pub fn format_of(path: &Path, input_type: Option<FormatName>, content: &[u8]) -> Result<Format, Error> {
    if let Some(name) = input_type {
        return Ok(name.into());
    }
    if let Some(format) = Format::from_path(path) {
        return Ok(format);
    }
    let display = path.display().to_string();
    Ok(crate::formats::parse_guessing(content, &display)?.0)
}

/// `--output-type` of a command that changes a file in place (`edit`, `set`, `unset`): sops
/// would write the file over in another format; ksec keeps a file in its own, so only that
/// one is accepted (the tools that pass it give the file's own).
pub fn check_output_type(output_type: Option<FormatName>, format: Format) -> Result<(), Error> {
    match output_type.map(Format::from) {
        Some(other) if other != format => Err(CommandError::ConflictingOptions(
            "--output-type must be the file's own format: a file changed in place keeps its format",
        )
        .into()),
        _ => Ok(()),
    }
}

/// An encrypted file that `set` or `unset` changes in place: its bytes, format, the
/// identities to open it and the layout for anything written new.
pub struct InPlaceFile {
    pub name: String,
    pub input: zeroize::Zeroizing<Vec<u8>>,
    format: Format,
    identities: crate::keys::Identities,
    output: OutputOptions,
    /// Held from before the read to after the write.
    lock: FileLock,
}

impl InPlaceFile {
    /// Locks the file, then reads it: a change made by another writer meanwhile is in what is
    /// read, not lost by the write.
    pub fn read(global: &GlobalArgs, path: &Path, change: &super::args::ChangeArgs) -> Result<InPlaceFile, Error> {
        let (input_type, keys) = (change.input_type, &change.keys);
        let config = load_config(global)?;
        let identities =
            crate::keys::Identities::discover(&crate::keys::ProcessEnv, keys.decryption_order.as_deref(), Terminal)?;
        let lock = lock_in_place(path)?;
        let input = io::Input::File(path.to_path_buf()).read()?;
        let format = format_of(path, input_type, &input)?;
        check_output_type(change.output_type, format)?;
        Ok(InPlaceFile {
            name: path.display().to_string(),
            format,
            input,
            identities,
            output: output_options(&IoArgs::default(), config.as_ref()),
            lock,
        })
    }

    /// Opens the file through the one door, its MAC checked unless `--ignore-mac`.
    pub fn open(&self, ignore_mac: bool) -> Result<crate::sops_file::OpenFile, crate::sops_file::FileError> {
        crate::sops_file::EncryptedFile::parse(&self.input, self.format, self.name.as_str())?.open(
            &self.identities,
            crate::sops_file::MacPolicy::from_ignore_mac_flag(ignore_mac),
        )
    }

    /// How the changed file is sealed: its layout settings, Secrets checked unless
    /// `--no-validate`.
    pub fn seal_options(&self, validate_secrets: bool) -> crate::sops_file::SealOptions {
        crate::sops_file::SealOptions {
            validate_secrets,
            ..crate::sops_file::SealOptions::new(self.output)
        }
    }

    /// Replaces the file, unless `bytes` are what it holds (then its timestamp stays too).
    pub fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        if bytes == &self.input[..] {
            return Ok(());
        }
        Ok(self.lock.replace(bytes)?)
    }
}

/// Seconds to wait for another writer's lock (fractions allowed; 0 tries once).
pub const LOCK_TIMEOUT_VAR: &str = "KSEC_LOCK_TIMEOUT";

/// Set (to anything but empty, `0`, `false` or `no`), plaintext is never put in a file on a
/// disk: `edit` and `exec-file --no-fifo` fail instead when there is no memory-backed directory.
pub const REQUIRE_TMPFS_VAR: &str = "KSEC_REQUIRE_TMPFS";

/// How long to wait for another writer: `$KSEC_LOCK_TIMEOUT` seconds, or the default.
fn lock_timeout() -> Result<Duration, CommandError> {
    let Some(value) = std::env::var_os(LOCK_TIMEOUT_VAR).filter(|v| !v.is_empty()) else {
        return Ok(io::DEFAULT_LOCK_TIMEOUT);
    };
    value
        .to_str()
        .and_then(|text| text.trim().parse::<f64>().ok())
        // A day is more than anyone means; beyond it Duration::from_secs_f64 could overflow.
        .filter(|seconds| (0.0..=86_400.0).contains(seconds))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| CommandError::InvalidLockTimeout {
            value: value.to_string_lossy().into_owned(),
        })
}

/// Locks a file that is about to be written, which may not exist yet (an output).
pub fn lock_output(path: &Path) -> Result<FileLock, Error> {
    Ok(FileLock::acquire(path, lock_timeout()?)?)
}

/// Locks a file that is changed in place. It must exist and be a file ksec can replace, which
/// is checked before waiting for the lock: a FIFO would also block the read.
pub fn lock_in_place(path: &Path) -> Result<FileLock, Error> {
    if io::check_replaceable(path)?.is_none() {
        return Err(IoError::InputNotFound {
            path: path.to_path_buf(),
        }
        .into());
    }
    lock_output(path)
}

/// A private directory for plaintext that is about to be written as a file. When it is not
/// memory-backed, this says so on stderr before anything is written to it, or, with
/// `$KSEC_REQUIRE_TMPFS`, refuses.
pub fn plaintext_dir() -> Result<PrivateDir, Error> {
    let required = std::env::var(REQUIRE_TMPFS_VAR)
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no"));
    let dir = PrivateDir::new(if required { DiskUse::Refuse } else { DiskUse::Allow })?;
    if !dir.is_memory_backed() {
        let passed_over: Vec<String> = dir.passed_over().iter().map(|p| p.display().to_string()).collect();
        super::warn(&format!(
            "no memory-backed (tmpfs) directory found (passed over: {}), so the decrypted file goes in {} \
             on a disk, which can keep it after it is removed; set {} to a tmpfs directory, or {REQUIRE_TMPFS_VAR}=1 \
             to refuse instead",
            passed_over.join(", "),
            dir.path().display(),
            io::MEMORY_DIRS_VAR,
        ));
    }
    Ok(dir)
}
