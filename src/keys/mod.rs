//! Master keys: everything that wraps the file's data key for a recipient and unwraps it again.
//!
//! This module owns the [`DataKey`] itself and the [`Env`] seam through which key providers read
//! environment variables and well-known directories, so that tests never touch the real process
//! environment or the user's home. One submodule per provider wraps and unwraps behind the
//! [`MasterKey`] trait: the keys held here ([`age`], [`pgp`]) and the keys held by a service
//! ([`vault`], [`kms`], [`gcp_kms`], [`azure_kv`]), over the plumbing in [`services`] (HTTP,
//! OAuth, timeouts, classified failures).
//! [`groups`] puts them together into key groups with [`shamir`] shares; [`probe`] tries each
//! key of a file for `ksec doctor`. Each provider keeps a
//! [`sources`] record of where it looked for identities, and asks the program for what only a
//! user can give (a passphrase) through [`Callbacks`].

pub mod age;
mod age_commands;
pub mod azure_kv;
pub mod callbacks;
mod error;
pub mod gcp_kms;
pub mod groups;
pub mod kms;
mod locked_identities;
pub mod locked_ssh;
pub mod pgp;
pub mod probe;
pub mod services;
pub mod shamir;
pub mod sources;
pub mod vault;

use std::collections::HashMap;
use std::fmt;

pub use callbacks::{Callbacks, NoPrompt};
pub use error::{KeyError, WantedIdentity};
pub use groups::{DecryptionOrder, Identities, KeyLists, RecipientGroup};
pub use services::{FailureClass, KeyServices, ServiceError};
use std::path::PathBuf;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::metadata::KeyGroup;

/// A master key type, named as sops names it in `--decryption-order`, the metadata and the
/// reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Age,
    Pgp,
    Kms,
    GcpKms,
    AzureKv,
    HcVault,
}

impl KeyKind {
    /// Every type, in the order sops's reader lists a group's keys (`internalGroupFrom`): the
    /// order in which the types `--decryption-order` does not name are tried, after those it
    /// does.
    pub const FILE_ORDER: [KeyKind; 6] = [
        KeyKind::Kms,
        KeyKind::GcpKms,
        KeyKind::AzureKv,
        KeyKind::HcVault,
        KeyKind::Pgp,
        KeyKind::Age,
    ];

    /// The name sops gives the type (`hc_vault`, `gcp_kms`, …).
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Age => "age",
            KeyKind::Pgp => "pgp",
            KeyKind::Kms => "kms",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::AzureKv => "azure_kv",
            KeyKind::HcVault => "hc_vault",
        }
    }

    /// The type sops names so, if ksec knows it.
    pub fn from_name(name: &str) -> Option<KeyKind> {
        KeyKind::FILE_ORDER.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether the key is held by a service ksec asks over the network (and so may be slow,
    /// unreachable, or refuse the caller), rather than by an identity at hand.
    pub fn is_service(self) -> bool {
        !matches!(self, KeyKind::Age | KeyKind::Pgp)
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What key groups need of a key provider, as sops's `MasterKey` interface: wrap the data key
/// for one of its keys into a metadata entry, and unwrap such an entry with the identities (or
/// the service access) at hand. Every key type implements it, so [`groups`] treats them alike.
pub trait MasterKey: Sized {
    /// The key type, which reports show before [`name`](Self::name).
    const KIND: KeyKind;

    /// The metadata entry that holds the data key wrapped for a key of this type.
    type Stanza: Clone;

    /// Why a wrapped key did not open; never shows key material.
    type UnwrapError: UnwrapFailure;

    /// How reports and `--rm-*` name this key, as sops's `ToString`: the age recipient, the
    /// PGP fingerprint, the Vault key's URI.
    fn name(&self) -> &str;

    /// Wraps `secret` (the data key, or a Shamir share) for this key into its metadata entry.
    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<Self::Stanza, KeyError>;

    /// Whether `stanza` is this key's entry, so that an entry whose data key stays the same
    /// can be kept instead of wrapped again (a service need not be asked).
    fn holds(&self, stanza: &Self::Stanza) -> bool;

    /// How reports name the key of an entry; the same text as [`name`](Self::name).
    fn stanza_name(stanza: &Self::Stanza) -> String;

    /// Unwraps one entry of this key type with whichever of `identities` can open it. The entry
    /// names the key it was wrapped for (an age key command is told which recipient it is for).
    fn unwrap(stanza: &Self::Stanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, Self::UnwrapError>;

    /// This type's keys in a recipient group.
    fn of_recipients(group: &RecipientGroup) -> &[Self];

    /// This type's entries in a key group.
    fn of_key_group(group: &KeyGroup) -> &[Self::Stanza];

    /// This type's entries in a key group, to fill.
    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<Self::Stanza>;
}

/// What a wrapped key that did not open tells the report beyond its message.
pub trait UnwrapFailure: fmt::Display {
    /// How a key service failed, for the hint; `None` for keys held here.
    fn service_failure(&self) -> Option<FailureClass> {
        None
    }
}

/// What wrapping needs besides the key and the secret: where to read the environment (gpg,
/// its home), the key services' connections, and the `created_at` every new entry of one
/// wrap gets.
pub struct WrapContext<'a> {
    pub env: &'a dyn Env,
    pub services: &'a KeyServices,
    pub created_at: String,
}

/// The 32-byte AES-256 key that encrypts every value of one file.
///
/// Master keys wrap it (or its Shamir share); it never leaves the process in clear. The bytes are
/// wiped when the key is dropped, and `Debug` does not show them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; DataKey::LEN]);

impl DataKey {
    /// Length of a data key in bytes.
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> DataKey {
        let mut key = DataKey([0; DataKey::LEN]);
        // Without an OS random source no key can be made safely; the age crate makes the
        // same choice for its file keys.
        getrandom::fill(&mut key.0).expect("the operating system's random number generator failed");
        key
    }

    /// The key with these bytes, or `None` unless there are exactly 32 of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<DataKey> {
        let array: [u8; DataKey::LEN] = bytes.try_into().ok()?;
        Some(DataKey(array))
    }

    pub fn as_bytes(&self) -> &[u8; DataKey::LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Where key providers read the environment from.
pub trait Env {
    /// The value of an environment variable; `Some("")` when it is set but empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The user's configuration directory, as sops finds it (Go `os.UserConfigDir`, with
    /// sops's `XDG_CONFIG_HOME` override on macOS).
    fn config_dir(&self) -> Option<PathBuf>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
    }

    fn home_dir(&self) -> Option<PathBuf> {
        dirs::home_dir()
    }

    fn config_dir(&self) -> Option<PathBuf> {
        // Go's os.UserConfigDir ignores XDG_CONFIG_HOME on macOS; sops honours it there anyway.
        // On Linux, `dirs` already reads XDG_CONFIG_HOME and falls back to ~/.config.
        if cfg!(target_os = "macos")
            && let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|dir| !dir.is_empty())
        {
            return Some(PathBuf::from(dir));
        }
        dirs::config_dir()
    }
}

/// An environment made up by a test: variables from a map, directories as given.
#[derive(Debug, Clone, Default)]
pub struct MapEnv {
    pub vars: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

impl MapEnv {
    /// An environment with no variables and no known directories.
    pub fn new() -> MapEnv {
        MapEnv::default()
    }

    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> MapEnv {
        self.vars.insert(name.into(), value.into());
        self
    }

    pub fn with_home(mut self, dir: impl Into<PathBuf>) -> MapEnv {
        self.home = Some(dir.into());
        self
    }

    pub fn with_config_dir(mut self, dir: impl Into<PathBuf>) -> MapEnv {
        self.config = Some(dir.into());
        self
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }

    fn config_dir(&self) -> Option<PathBuf> {
        self.config.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_data_keys_are_32_random_bytes() {
        let first = DataKey::generate();
        let second = DataKey::generate();
        assert_eq!(first.as_bytes().len(), 32);
        assert_ne!(first.as_bytes(), second.as_bytes(), "two fresh keys must differ");
    }

    #[test]
    fn a_data_key_needs_exactly_32_bytes() {
        assert!(DataKey::from_bytes(&[7; 31]).is_none());
        assert!(
            DataKey::from_bytes(&[7; 33]).is_none(),
            "a Shamir share is not a data key"
        );
        assert!(DataKey::from_bytes(&[]).is_none());
        let key = DataKey::from_bytes(&[7; 32]).expect("32 bytes make a key");
        assert_eq!(key.as_bytes(), &[7; 32]);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = DataKey::from_bytes(&[0xAB; 32]).expect("32 bytes");
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
            "{shown}"
        );
        assert_eq!(shown, "DataKey(<redacted>)");
    }

    #[test]
    fn map_env_answers_only_what_it_was_given() {
        let env = MapEnv::new()
            .with_var("SOPS_AGE_KEY", "")
            .with_home("/home/alice")
            .with_config_dir("/home/alice/.config");
        assert_eq!(
            env.var("SOPS_AGE_KEY").as_deref(),
            Some(""),
            "set but empty is not unset"
        );
        assert_eq!(env.var("HOME"), None);
        assert_eq!(env.home_dir(), Some(PathBuf::from("/home/alice")));
        assert_eq!(env.config_dir(), Some(PathBuf::from("/home/alice/.config")));
        assert_eq!(MapEnv::new().config_dir(), None);
    }
}
