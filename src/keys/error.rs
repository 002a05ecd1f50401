//! Why a recipient, an identity or a data key could not be used. Messages name recipients,
//! fingerprints and identity sources, never key material.

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

    #[error("--decryption-order names {key_type} twice")]
    DuplicateDecryptionKeyType { key_type: String },

    /// No identity at hand opens enough of the file's key groups. The report lists every group
    /// and key tried and why each failed, then every place identities were looked for.
    #[error("{file}: could not decrypt the data key\n{report}")]
    DataKeyUnavailable {
        file: String,
        report: String,
        wanted: WantedIdentity,
    },
}

/// What would have opened a file: the key types it names, and whether an identity source the
/// user set was unusable (fixing that comes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedIdentity {
    pub age: bool,
    pub pgp: bool,
    pub unusable_source: bool,
}
