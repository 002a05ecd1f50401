//! Passphrase-protected age identity files: a `keys.txt` encrypted with `age -p` (scrypt),
//! armored or not, in `SOPS_AGE_KEY_FILE`, the default key file, `SOPS_AGE_KEY` or a key
//! command's output.
//!
//! As sops 3.13 does (its `EncryptedIdentity`), the passphrase is asked for the first time a
//! file needs an age key that the identities found before it could not open, and the file is
//! decrypted once per run. The question goes through the [`Callbacks`] the identity was given:
//! ksec asks on the terminal, a program embedding the library answers as it likes.

use std::fmt;
use std::io::Read;
use std::iter;
use std::sync::{Arc, OnceLock};

use ::age::armor::ArmoredReader;
use ::age::{DecryptError, Decryptor, Identity};
use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use super::callbacks::Callbacks;
use super::sources::Outcome;

/// How many passphrases are tried before giving up.
const ATTEMPTS: usize = 3;

/// What a decrypted identity file holds, parsed (the caller's parser: plugin identities need
/// callbacks of their own).
pub type ParseIdentities = Box<dyn Fn(&str) -> Result<Vec<Box<dyn Identity + Send + Sync>>, String> + Send + Sync>;

/// An age-encrypted identity file, opened with a passphrase when first needed.
pub struct LockedIdentityFile {
    source: String,
    encrypted: Zeroizing<Vec<u8>>,
    callbacks: Arc<dyn Callbacks>,
    parse: ParseIdentities,
    unlocked: OnceLock<Vec<Box<dyn Identity + Send + Sync>>>,
    outcome: Outcome,
}

impl fmt::Debug for LockedIdentityFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedIdentityFile")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Whether bytes are an age file (binary or armored) rather than identity text.
pub fn is_encrypted_identity_file(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/") || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

impl LockedIdentityFile {
    /// `encrypted` is the file as read from `source` (a name for prompts and reports).
    pub fn new(
        source: &str,
        encrypted: Zeroizing<Vec<u8>>,
        callbacks: Arc<dyn Callbacks>,
        parse: ParseIdentities,
    ) -> LockedIdentityFile {
        LockedIdentityFile {
            source: source.to_owned(),
            encrypted,
            callbacks,
            parse,
            unlocked: OnceLock::new(),
            outcome: Arc::default(),
        }
    }

    /// What happened to the file, once it was needed.
    pub fn outcome(&self) -> Outcome {
        Arc::clone(&self.outcome)
    }

    fn note(&self, text: String) {
        if let Ok(mut outcome) = self.outcome.lock() {
            *outcome = Some(text);
        }
    }

    fn unlock(&self) -> Vec<Box<dyn Identity + Send + Sync>> {
        let prompt = format!("Enter passphrase for identity file {:?}: ", self.source);
        for _ in 0..ATTEMPTS {
            let passphrase = match self.callbacks.request_passphrase(&prompt) {
                Ok(Some(passphrase)) => passphrase,
                Ok(None) => {
                    self.note("passphrase-protected; no passphrase was given".into());
                    return Vec::new();
                }
                Err(e) => {
                    self.note(format!(
                        "UNUSABLE: passphrase-protected; cannot ask for the passphrase: {e}"
                    ));
                    return Vec::new();
                }
            };
            match self.decrypt(::age::scrypt::Identity::new(passphrase)) {
                Ok(bytes) => {
                    let parsed = std::str::from_utf8(&bytes)
                        .map_err(|_| "the identity text is not valid UTF-8".to_string())
                        .and_then(|text| (self.parse)(text));
                    return match parsed {
                        Ok(identities) => {
                            self.note(format!(
                                "unlocked with the passphrase given: {} identities",
                                identities.len()
                            ));
                            identities
                        }
                        Err(reason) => {
                            self.note(format!("UNUSABLE: unlocked, but {reason}"));
                            Vec::new()
                        }
                    };
                }
                Err(
                    DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed | DecryptError::NoMatchingKeys,
                ) => {
                    self.callbacks
                        .display_message(&format!("that passphrase does not unlock {}", self.source));
                }
                Err(other) => {
                    self.note(format!("UNUSABLE: not a readable age-encrypted identity file: {other}"));
                    return Vec::new();
                }
            }
        }
        self.note(format!(
            "passphrase-protected; {ATTEMPTS} passphrases did not unlock it"
        ));
        Vec::new()
    }

    /// The identity text inside, decrypted with `passphrase`.
    fn decrypt(&self, passphrase: ::age::scrypt::Identity) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let decryptor = Decryptor::new_buffered(ArmoredReader::new(&self.encrypted[..]))?;
        let mut reader = decryptor.decrypt(iter::once(&passphrase as &dyn Identity))?;
        // Room up front, so the secret text is never reallocated and left behind unwiped.
        let mut text = Zeroizing::new(Vec::with_capacity(self.encrypted.len()));
        reader.read_to_end(&mut text)?;
        Ok(text)
    }
}

impl Identity for LockedIdentityFile {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        // A passphrase-wrapped file key is never what sops stores; asking for the identity
        // file's passphrase would not help.
        if stanza.tag == "scrypt" {
            return None;
        }
        self.unlocked
            .get_or_init(|| self.unlock())
            .iter()
            .find_map(|identity| identity.unwrap_stanza(stanza))
    }
}
