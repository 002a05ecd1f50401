//! The crate's error: one variant per area, each wrapping that area's own enum, so `?` carries
//! any of them up to the caller. The areas' enums hold what a caller needs to act (the file,
//! the key path, the key tried, the line and column); the command line maps them to sops's
//! exit codes and to hints in one table (`cli::exit`).
//!
//! Messages name the file and the key path, never a secret value.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::edit::EditError;
use crate::formats::FormatError;
use crate::io::IoError;
use crate::keys::KeyError;
use crate::kube::GeneratorError;
use crate::ops::OpsError;
use crate::process::ProcessError;
use crate::rekey::RekeyError;
use crate::rules::RuleError;
use crate::sops_file::FileError;
use crate::tree::path::InvalidTreePath;

/// Everything that can go wrong in ksec.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    TreePath(#[from] InvalidTreePath),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Rekey(#[from] RekeyError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    SopsArgs(#[from] SopsArgsError),
    #[error(transparent)]
    Generator(#[from] GeneratorError),
}

/// What a command refuses before any library call, and command results that are failures.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Options that do not go together (sops exit 8); the message names them.
    #[error("{0}")]
    ConflictingOptions(&'static str),

    #[error("nothing to apply: pass files or directories (-f PATH)")]
    NothingToApply,

    #[error("--filename {name:?} must be a plain file name, without directories")]
    FilenameWithDirectories { name: String },

    /// A missing file where sops reports a generic failure (`filestatus`), not exit 100.
    #[error("{}: no such file", .path.display())]
    NoSuchFile { path: PathBuf },

    #[error("updatekeys needs a .sops.yaml (none found; pass --config)")]
    NoConfig,

    #[error(
        "a new key group needs at least one key (--age, --pgp, --hc-vault-transit, --kms, --gcp-kms or --azure-kv)"
    )]
    EmptyNewGroup,

    #[error("{file}: no answer (stdin ended), so it was left unchanged; pass --yes to write the change without asking")]
    NoAnswer { file: String },

    #[error("{file}: reading the answer: {source}")]
    ReadAnswer { file: String, source: std::io::Error },

    #[error("cannot install signal handlers: {source}")]
    SignalHandlers { source: std::io::Error },

    /// A plain (not encrypted) file Git asked to merge that is not text.
    #[error("{file}: not UTF-8 text; cannot merge it line by line")]
    NotText { file: String },

    /// The editor closed with the text as it was given.
    #[error("{file} has not been modified")]
    FileNotModified { file: String },

    /// `ksec check` found problems (listed on stdout).
    #[error("{count} problem(s) found")]
    CheckFailed { count: usize },

    /// Some of several files could not be updated; each was reported as it failed.
    #[error("{failed} of {total} files could not be updated (each is named above)")]
    SomeFilesFailed { failed: usize, total: usize },

    /// `KSEC_LOCK_TIMEOUT` that is not a number of seconds.
    #[error("KSEC_LOCK_TIMEOUT={value:?} is not a number of seconds between 0 and 86400")]
    InvalidLockTimeout { value: String },

    /// The file changed while it was in the editor; the edit was sealed and kept beside it.
    #[error(
        "{file} changed while it was in the editor (another writer), so your edit was not saved over it; \
         it is kept, encrypted, in {}", .kept.display()
    )]
    EditNotSaved { file: String, kept: PathBuf },
}

/// A sops command line (`cli::compat`) that ksec refuses: spelled wrong as sops would say, or
/// asking for something ksec cannot do. Exit codes are sops's for the same command line.
#[derive(Debug, thiserror::Error)]
pub enum SopsArgsError {
    #[error("flag provided but not defined: {flag}")]
    UnknownFlag { flag: String },

    #[error("flag needs an argument: {flag}")]
    MissingValue { flag: String },

    #[error("invalid boolean value {value:?} for {flag}")]
    InvalidBool { flag: String, value: String },

    /// The legacy form without a file (sops exit 100).
    #[error("no file specified")]
    NoFileSpecified,

    /// `--set` without a path and a value (sops exit 7).
    #[error("invalid --set format: expected a path, a space and a JSON value")]
    InvalidSetFormat,

    /// More than one of `-d`, `-e`, `-r`, `--set`: sops runs them all and shows the last; ksec
    /// refuses to guess (exit 8).
    #[error("{modes} cannot be used together")]
    SeveralModes { modes: String },

    /// A flag or variable naming keys of a type ksec has no flags for (HuaweiCloud KMS).
    #[error("{flag}: {key} keys are not supported by ksec yet")]
    KeyTypeNotSupported { flag: String, key: &'static str },

    /// A remote key service: ksec does not speak sops's gRPC key service protocol.
    #[error("key service {uri}: ksec cannot use sops key services (it uses the keys on this machine only)")]
    RemoteKeyService { uri: String, encrypting: bool },

    #[error("`sops {command}` is not supported by ksec")]
    CommandNotSupported { command: &'static str },

    #[error("{flag} is not supported: {reason}")]
    FlagNotSupported { flag: String, reason: &'static str },

    #[error("unknown shell {shell:?} for completion (bash or zsh)")]
    UnknownShell { shell: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
