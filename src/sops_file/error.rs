//! Why an encrypted file could not be opened or written.

use crate::crypt::CryptError;
use crate::formats::{Format, FormatError};
use crate::keys::KeyError;
use crate::kube::KubeError;
use crate::metadata::MetadataError;
use crate::tree::AlreadyEncrypted;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A file read as encrypted that has no `sops` block (or nothing at all).
    #[error("{file} is not encrypted: sops metadata not found")]
    MetadataNotFound { file: String },

    #[error(transparent)]
    AlreadyEncrypted(#[from] AlreadyEncrypted),

    /// A file to decrypt that does not parse: sops exits 1 here (2 is for plaintext input).
    #[error(transparent)]
    Unreadable(FormatError),

    #[error(transparent)]
    Format(#[from] FormatError),

    #[error(transparent)]
    Metadata(#[from] MetadataError),

    #[error(transparent)]
    Key(#[from] KeyError),

    #[error(transparent)]
    Crypt(#[from] CryptError),

    #[error(transparent)]
    Kube(#[from] KubeError),

    /// The hashes are not shown: the MAC is an unkeyed hash of the values, and printing it
    /// (as sops does) would let anyone with the CI log test guesses of weak secrets offline.
    #[error("{file}: MAC mismatch: the file's values do not match its MAC")]
    MacMismatch { file: String },

    /// The encryption rule selects nothing: almost always a mistyped rule.
    #[error("{file}: the encryption rule ({field}: {text}) matches no value, so nothing would be encrypted")]
    RuleMatchesNothing {
        file: String,
        field: &'static str,
        text: String,
    },

    /// An encrypted output that failed the check it gets before it is returned: a ksec bug.
    #[error("cannot write {} output: {fault} (this is a ksec bug; nothing was written)", .format.name())]
    OutputUnreadable { format: Format, fault: ReadBackFault },
}

/// How an encrypted output failed to read back as what was meant.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackFault {
    #[error("the output does not read back: {0}")]
    Parse(FormatError),
    #[error("{0}")]
    NotEncrypted(Box<FileError>),
    #[error("the output does not match its own MAC: {0}")]
    Mac(Box<FileError>),
    #[error("the output does not read back as what was written")]
    NotTheInput,
}
