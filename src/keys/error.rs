//! Why a recipient, an identity or a data key could not be used. Messages name recipients,
//! fingerprints, key services and identity sources, never key material or tokens.

use super::KeyKind;
use super::services::{FailureClass, ServiceError};

/// What went wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid recipient {recipient:?}: {reason}")]
    InvalidRecipient { recipient: String, reason: String },

    /// Sops reports "Could not generate data key" as a plain error.
    #[error("cannot wrap the data key for {recipient}: {reason}")]
    WrapDataKey { recipient: String, reason: String },

    /// An identity source the user set (a variable, a file, a command) that cannot be used.
    #[error("{source_name}: {reason}")]
    IdentitySource { source_name: String, reason: String },

    /// A key service refused or failed to wrap the data key (sops: "Could not generate data
    /// key", exit 1).
    #[error("cannot wrap the data key for {key}: {error}")]
    Service { key: String, error: Box<ServiceError> },

    /// `--encryption-context` that is not `key:value` pairs (sops exit 6).
    #[error("invalid encryption context {context:?}: write key:value pairs separated by commas")]
    InvalidEncryptionContext { context: String },

    #[error("--decryption-order names {key_type} twice")]
    DuplicateDecryptionKeyType { key_type: String },

    /// No identity at hand opens enough of the file's key groups. The report lists every group
    /// and key tried and why each failed, then every place identities were looked for.
    #[error("{file}: could not decrypt the data key\n{report}")]
    DataKeyUnavailable {
        file: String,
        report: String,
        wanted: Box<WantedIdentity>,
    },
}

/// What would have opened a file: the key types it names, how the key services asked failed,
/// and whether an identity source the user set was unusable (fixing that comes first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WantedIdentity {
    pub age: bool,
    pub pgp: bool,
    /// The key-service types the file names, in sops's order.
    pub services: Vec<KeyKind>,
    /// How each service key that was asked failed, in the order asked.
    pub service_failures: Vec<(KeyKind, FailureClass)>,
    pub unusable_source: bool,
}
