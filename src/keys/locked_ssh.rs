//! Passphrase-protected SSH keys as age identities.
//!
//! As sops 3.11 does, the passphrase is asked for only when a file turns out to be encrypted to
//! that very key (the age stanza's tag names it), and at most once per run: a protected
//! `~/.ssh/id_ed25519` never prompts for files encrypted to other keys. The key asks through the
//! [`Callbacks`] it was given, so the binary decides how (ksec asks on the terminal, as sops does).

use std::fmt;
use std::sync::{Arc, OnceLock};

use ::age::DecryptError;
use ::age::ssh::Identity;
use age_core::format::{FileKey, Stanza};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};

use super::callbacks::Callbacks;
use super::sources::Outcome;

/// How many passphrases are tried before giving up, as ssh does.
const ATTEMPTS: usize = 3;

/// An SSH private key whose passphrase is asked for the first time it is needed.
pub struct LockedSshKey {
    file: String,
    key: Identity,
    /// The stanza tag age writes for this key: the first 4 bytes of the SHA-256 of its public
    /// key, base64 without padding.
    tag: String,
    callbacks: Arc<dyn Callbacks>,
    unlocked: OnceLock<Option<Identity>>,
    outcome: Outcome,
}

impl fmt::Debug for LockedSshKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedSshKey")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl LockedSshKey {
    /// Wraps a passphrase-protected key (`Identity::Encrypted`) read from `text`, the OpenSSH
    /// private key file `file`. The public key comes from the file's unencrypted header; the
    /// passphrase is asked through `callbacks` when the key is first needed.
    pub fn new(file: &str, key: Identity, text: &str, callbacks: Arc<dyn Callbacks>) -> Result<LockedSshKey, String> {
        if !matches!(key, Identity::Encrypted(_)) {
            return Err("not a passphrase-protected key".into());
        }
        let public = openssh_public_key(text).ok_or("cannot read the public key in the file's header")?;
        let digest = Sha256::digest(&public);
        Ok(LockedSshKey {
            file: file.to_owned(),
            key,
            tag: STANDARD_NO_PAD.encode(&digest[..4]),
            callbacks,
            unlocked: OnceLock::new(),
            outcome: Arc::default(),
        })
    }

    /// What happened to the key, once it was needed.
    pub fn outcome(&self) -> Outcome {
        Arc::clone(&self.outcome)
    }

    fn note(&self, text: String) {
        if let Ok(mut outcome) = self.outcome.lock() {
            *outcome = Some(text);
        }
    }

    fn unlock(&self) -> Option<Identity> {
        let Identity::Encrypted(encrypted) = &self.key else {
            return None;
        };
        let prompt = format!("Enter passphrase for {:?}: ", self.file);
        for _ in 0..ATTEMPTS {
            let passphrase = match self.callbacks.request_passphrase(&prompt) {
                Ok(Some(passphrase)) => passphrase,
                Ok(None) => {
                    self.note("passphrase-protected; no passphrase was given".into());
                    return None;
                }
                Err(e) => {
                    self.note(format!("passphrase-protected; cannot ask for the passphrase: {e}"));
                    return None;
                }
            };
            if let Ok(key) = encrypted.decrypt(passphrase) {
                self.note("unlocked with the passphrase given".into());
                return Some(Identity::from(key));
            }
            self.callbacks
                .display_message(&format!("that passphrase does not unlock {}", self.file));
        }
        self.note(format!(
            "passphrase-protected; {ATTEMPTS} passphrases did not unlock it"
        ));
        None
    }
}

impl ::age::Identity for LockedSshKey {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        let for_this_key =
            matches!(stanza.tag.as_str(), "ssh-ed25519" | "ssh-rsa") && stanza.args.first() == Some(&self.tag);
        if !for_this_key {
            return None;
        }
        self.unlocked
            .get_or_init(|| self.unlock())
            .as_ref()?
            .unwrap_stanza(stanza)
    }
}

/// The public key blob of an `openssh-key-v1` private key file: it sits, unencrypted, after the
/// cipher name, the KDF name, the KDF options and the key count.
fn openssh_public_key(text: &str) -> Option<Vec<u8>> {
    let body: String = text
        .lines()
        .skip_while(|line| line.trim() != "-----BEGIN OPENSSH PRIVATE KEY-----")
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .map(str::trim)
        .collect();
    let bytes = STANDARD.decode(body).ok()?;
    let mut rest = bytes.strip_prefix(b"openssh-key-v1\0")?;
    for _ in 0..3 {
        take_string(&mut rest)?;
    }
    let count = take_u32(&mut rest)?;
    (count == 1).then(|| take_string(&mut rest).map(<[u8]>::to_vec))?
}

fn take_u32(rest: &mut &[u8]) -> Option<u32> {
    let (head, tail) = rest.split_first_chunk::<4>()?;
    *rest = tail;
    Some(u32::from_be_bytes(*head))
}

fn take_string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(take_u32(rest)?).ok()?;
    let (string, tail) = rest.split_at_checked(len)?;
    *rest = tail;
    Some(string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::callbacks::NoPrompt;
    use secrecy::SecretString;
    use std::io::{self, Write as _};
    use std::sync::Mutex;

    const KEY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/locked_ed25519");
    const PUBLIC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/locked_ed25519.pub");

    fn locked(callbacks: Arc<dyn Callbacks>) -> LockedSshKey {
        let text = std::fs::read_to_string(KEY_FILE).expect("test key");
        let key = Identity::from_buffer(text.as_bytes(), Some(KEY_FILE.into())).expect("parses");
        LockedSshKey::new(KEY_FILE, key, &text, callbacks).expect("a locked key")
    }

    /// What the user does when asked for a passphrase.
    #[derive(Clone, Copy)]
    enum Answer {
        Types(&'static str),
        /// There is no terminal to ask on.
        CannotBeAsked,
    }

    /// Callbacks that always get the same answer, and keep count of what was asked and shown.
    struct User {
        answer: Answer,
        asked: Mutex<usize>,
        shown: Mutex<Vec<String>>,
    }

    impl User {
        fn answering(answer: Answer) -> Arc<User> {
            Arc::new(User {
                answer,
                asked: Mutex::new(0),
                shown: Mutex::new(Vec::new()),
            })
        }

        fn asked(&self) -> usize {
            *self.asked.lock().expect("lock")
        }

        fn shown(&self) -> Vec<String> {
            self.shown.lock().expect("lock").clone()
        }
    }

    impl Callbacks for User {
        fn display_message(&self, message: &str) {
            self.shown.lock().expect("lock").push(message.to_owned());
        }

        fn request_passphrase(&self, description: &str) -> io::Result<Option<SecretString>> {
            assert_eq!(description, format!("Enter passphrase for {KEY_FILE:?}: "));
            *self.asked.lock().expect("lock") += 1;
            match self.answer {
                Answer::Types(passphrase) => Ok(Some(SecretString::from(passphrase.to_owned()))),
                Answer::CannotBeAsked => Err(io::Error::new(io::ErrorKind::NotFound, "no /dev/tty")),
            }
        }
    }

    /// An armored age file of `data` for one recipient line.
    fn encrypt_to(recipient: &str, data: &[u8]) -> Vec<u8> {
        let recipient: ::age::ssh::Recipient = recipient.parse().expect("recipient");
        let encryptor =
            ::age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn ::age::Recipient)).expect("encryptor");
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).expect("writer");
        writer.write_all(data).expect("write");
        writer.finish().expect("finish");
        out
    }

    fn decrypt(file: &[u8], identity: &LockedSshKey) -> Result<Vec<u8>, DecryptError> {
        use std::io::Read as _;
        let decryptor = ::age::Decryptor::new_buffered(file).expect("header");
        let mut reader = decryptor.decrypt(std::iter::once(identity as &dyn ::age::Identity))?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("payload");
        Ok(out)
    }

    #[test]
    fn reads_the_public_key_from_the_unencrypted_header() {
        let text = std::fs::read_to_string(KEY_FILE).expect("test key");
        let public_line = std::fs::read_to_string(PUBLIC_FILE).expect("public key");
        let blob = public_line.split_whitespace().nth(1).expect("base64 field");
        assert_eq!(openssh_public_key(&text), Some(STANDARD.decode(blob).expect("base64")));
        assert_eq!(
            openssh_public_key("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END"),
            None
        );
    }

    #[test]
    fn asks_once_and_only_for_files_encrypted_to_this_key() {
        let user = User::answering(Answer::Types("correct horse"));
        let key = locked(user.clone());
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN other";
        assert!(decrypt(&encrypt_to(other, b"not for us"), &key).is_err());
        assert_eq!(user.asked(), 0, "asked for a file encrypted to another key");

        let public = std::fs::read_to_string(PUBLIC_FILE).expect("public key");
        for _ in 0..2 {
            assert_eq!(
                decrypt(&encrypt_to(public.trim(), b"data key"), &key).expect("unlocks"),
                b"data key"
            );
        }
        assert_eq!(user.asked(), 1, "asked once per run");
        assert_eq!(
            key.outcome().lock().expect("lock").as_deref(),
            Some("unlocked with the passphrase given")
        );
        assert_eq!(user.shown(), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_passphrase_or_no_terminal_is_recorded() {
        let public = std::fs::read_to_string(PUBLIC_FILE).expect("public key");
        let file = encrypt_to(public.trim(), b"data key");
        for (answer, expected) in [
            (
                Answer::Types("wrong horse"),
                "passphrase-protected; 3 passphrases did not unlock it",
            ),
            (
                Answer::CannotBeAsked,
                "passphrase-protected; cannot ask for the passphrase: no /dev/tty",
            ),
        ] {
            let user = User::answering(answer);
            let key = locked(user.clone());
            assert!(decrypt(&file, &key).is_err());
            assert_eq!(key.outcome().lock().expect("lock").as_deref(), Some(expected));
            let told = match answer {
                Answer::Types(_) => vec![format!("that passphrase does not unlock {KEY_FILE}"); 3],
                Answer::CannotBeAsked => Vec::new(),
            };
            assert_eq!(user.shown(), told);
            assert!(
                user.shown().iter().all(|m| !m.contains("horse")),
                "the passphrase leaked"
            );
        }
    }

    #[test]
    fn without_a_way_to_prompt_the_key_stays_locked() {
        let public = std::fs::read_to_string(PUBLIC_FILE).expect("public key");
        let key = locked(Arc::new(NoPrompt));
        assert!(decrypt(&encrypt_to(public.trim(), b"data key"), &key).is_err());
        assert_eq!(
            key.outcome().lock().expect("lock").as_deref(),
            Some("passphrase-protected; no passphrase was given")
        );
    }
}
