//! age master keys, byte-compatible with sops (`age/keysource.go`).
//!
//! For each age recipient sops stores one complete age v1 file whose plaintext is the raw data
//! key (or a 33-byte Shamir share), ASCII-armored exactly as Go age writes it. This module parses
//! recipients, wraps and unwraps those files, and finds the user's identities in the places
//! sops 3.13 looks, in its order: the SSH keys (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`,
//! `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`), then `SOPS_AGE_KEY`,
//! `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD` and `<config dir>/sops/age/keys.txt`. The two
//! commands run only when a file needs them, once per recipient ([`age_commands`]); an
//! identity file may be passphrase-protected ([`locked_identities`]).
//!
//! [`age_commands`]: super::age_commands
//! [`locked_identities`]: super::locked_identities

use std::fmt;
use std::io::{self, Read, Write};
use std::iter;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use ::age::armor::{ArmoredReader, ArmoredWriter, Format};
use ::age::{DecryptError, Decryptor, Encryptor};
use zeroize::Zeroizing;

use super::KeyError;
use super::age_commands::{self, KeyCommand};
use super::callbacks::{Callbacks, NoPrompt};
use super::locked_identities::{LockedIdentityFile, is_encrypted_identity_file};
use super::locked_ssh::LockedSshKey;
use super::sources::{IdentitySource, SourceRecord};
use super::{Env, Identities, KeyKind, MasterKey, RecipientGroup, UnwrapFailure, WrapContext};
use crate::metadata::{AgeStanza, KeyGroup};

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const KEY_VAR: &str = "SOPS_AGE_KEY";
const KEY_FILE_VAR: &str = "SOPS_AGE_KEY_FILE";
const KEY_CMD_VAR: &str = "SOPS_AGE_KEY_CMD";
const SSH_KEY_FILE_VAR: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
const SSH_KEY_CMD_VAR: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// The SSH keys sops tries when they exist, after `SOPS_AGE_SSH_PRIVATE_KEY_FILE`.
const DEFAULT_SSH_KEYS: [&str; 2] = ["id_ed25519", "id_rsa"];

/// One age recipient as written in `--age`, `SOPS_AGE_RECIPIENTS`, `.sops.yaml` or the
/// metadata's `recipient` field.
#[derive(Clone)]
pub struct AgeRecipient {
    text: String,
    key: RecipientKey,
}

#[derive(Clone)]
enum RecipientKey {
    X25519(::age::x25519::Recipient),
    Ssh(::age::ssh::Recipient),
    /// `age1<name>1…`: wrapped by the program `age-plugin-<name>` on PATH, through the age
    /// plugin protocol (a YubiKey, a TPM, a cloud KMS plugin).
    Plugin(::age::plugin::Recipient),
}

impl AgeRecipient {
    /// Parses an `age1…` X25519 public key, an `age1<plugin>1…` plugin recipient, or an
    /// `ssh-ed25519`/`ssh-rsa` public key line.
    ///
    /// Surrounding whitespace is dropped; everything else, an SSH key's comment included, is
    /// kept as the metadata string, as sops does.
    pub fn parse(text: &str) -> Result<AgeRecipient, KeyError> {
        let text = text.trim();
        let invalid = |reason: String| KeyError::InvalidRecipient {
            recipient: text.to_owned(),
            reason,
        };
        let key = if text.starts_with("age1pq1") {
            return Err(invalid(
                "post-quantum age recipients (age1pq1…) are not supported yet".into(),
            ));
        } else if text.starts_with("age1") && text.matches('1').count() > 1 {
            // Bech32 data never contains a `1`, so a second one separates a plugin name.
            let key = text
                .parse::<::age::plugin::Recipient>()
                .map_err(|reason| invalid(format!("not a valid age plugin recipient ({reason})")))?;
            RecipientKey::Plugin(key)
        } else if text.starts_with("age1") {
            let key = text
                .parse::<::age::x25519::Recipient>()
                .map_err(|reason| invalid(format!("not a valid age X25519 public key ({reason})")))?;
            RecipientKey::X25519(key)
        } else if text.starts_with("ssh-") {
            let key = text
                .parse::<::age::ssh::Recipient>()
                .map_err(|reason| invalid(describe_ssh_error(reason)))?;
            RecipientKey::Ssh(key)
        } else {
            return Err(invalid(
                "unknown recipient type; expected an age public key (age1…) or an SSH public key \
                 (ssh-ed25519 … or ssh-rsa …)"
                    .into(),
            ));
        };
        Ok(AgeRecipient {
            text: text.to_owned(),
            key,
        })
    }

    /// The string stored as `recipient` in the metadata.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn describe_ssh_error(error: ::age::ssh::ParseRecipientKeyError) -> String {
    use ::age::ssh::ParseRecipientKeyError::*;
    match error {
        RsaModulusTooLarge => "the ssh-rsa key is larger than age supports".into(),
        RsaModulusTooSmall => "the ssh-rsa key is shorter than 2048 bits, which age refuses".into(),
        Unsupported(kind) => {
            format!("{kind} keys are not supported by age; use ssh-ed25519 or ssh-rsa")
        }
        Ignore | Invalid(_) => "not a valid SSH public key".into(),
        _ => "not a supported SSH public key".into(),
    }
}

impl FromStr for AgeRecipient {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        AgeRecipient::parse(text)
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AgeRecipient").field(&self.text).finish()
    }
}

impl PartialEq for AgeRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for AgeRecipient {}

/// Parses a comma-separated recipient list, as given to `--age` or in `SOPS_AGE_RECIPIENTS`.
/// Blank entries are skipped.
pub fn parse_recipients(list: &str) -> Result<Vec<AgeRecipient>, KeyError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(AgeRecipient::parse)
        .collect()
}

/// Encrypts `data_key` to one recipient: the armored age file sops stores as `enc`.
pub fn wrap(recipient: &AgeRecipient, data_key: &[u8]) -> Result<String, KeyError> {
    let failed = |reason: String| KeyError::WrapDataKey {
        recipient: recipient.as_str().to_owned(),
        reason,
    };
    let plugin;
    let age_recipient: &dyn ::age::Recipient = match &recipient.key {
        RecipientKey::X25519(key) => key,
        RecipientKey::Ssh(key) => key,
        RecipientKey::Plugin(key) => {
            // Encrypting asks nothing of the user; a plugin that wants to is told no.
            let callbacks = PluginCallbacks(Arc::new(NoPrompt));
            plugin = ::age::plugin::RecipientPluginV1::new(key.plugin(), std::slice::from_ref(key), &[], callbacks)
                .map_err(|e| failed(missing_plugin(key.plugin(), &e.to_string())))?;
            &plugin
        }
    };
    let encryptor = Encryptor::with_recipients(iter::once(age_recipient)).map_err(|e| failed(e.to_string()))?;

    let mut armored = Vec::with_capacity(512);
    let write = |armored: &mut Vec<u8>| -> io::Result<()> {
        let armor = ArmoredWriter::wrap_output(armored, Format::AsciiArmor)?;
        let mut writer = encryptor.wrap_output(armor)?;
        writer.write_all(data_key)?;
        writer.finish()?.finish()?;
        Ok(())
    };
    write(&mut armored).map_err(|e| failed(e.to_string()))?;

    let armored = String::from_utf8(armored).map_err(|e| failed(e.to_string()))?;
    // The age crate ends armor lines with CRLF on Windows; Go age, and so sops, always uses LF.
    Ok(armored.replace("\r\n", "\n"))
}

impl MasterKey for AgeRecipient {
    const KIND: KeyKind = KeyKind::Age;
    type Stanza = AgeStanza;
    type UnwrapError = UnwrapError;

    fn name(&self) -> &str {
        self.as_str()
    }

    fn wrap(&self, secret: &[u8], _ctx: &WrapContext<'_>) -> Result<AgeStanza, KeyError> {
        Ok(AgeStanza {
            recipient: self.as_str().to_owned(),
            enc: wrap(self, secret)?,
        })
    }

    fn holds(&self, stanza: &AgeStanza) -> bool {
        stanza.recipient == self.as_str()
    }

    fn stanza_name(stanza: &AgeStanza) -> String {
        stanza.recipient.clone()
    }

    fn unwrap(stanza: &AgeStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, UnwrapError> {
        unwrap(&stanza.recipient, &stanza.enc, &identities.age)
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.age
    }

    fn of_key_group(group: &KeyGroup) -> &[AgeStanza] {
        &group.age
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<AgeStanza> {
        &mut group.age
    }
}

impl UnwrapFailure for UnwrapError {}

/// Why an age-wrapped key could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnwrapError {
    /// The file is fine, but none of the identities is one of its recipients.
    NoMatchingIdentity { tried: usize },
    /// The text is not a well-formed armored age file, or it was tampered with.
    Malformed(String),
}

impl fmt::Display for UnwrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnwrapError::NoMatchingIdentity { tried: 0 } => f.write_str("no age identity was found to try"),
            UnwrapError::NoMatchingIdentity { tried: 1 } => {
                f.write_str("the one age identity found does not match this recipient")
            }
            UnwrapError::NoMatchingIdentity { tried } => {
                write!(f, "none of the {tried} age identities found matches this recipient")
            }
            UnwrapError::Malformed(reason) => write!(f, "malformed age data: {reason}"),
        }
    }
}

impl std::error::Error for UnwrapError {}

/// Decrypts one armored age file (a metadata `enc`, wrapped for `recipient`) with any of the
/// identities: those found at discovery first, then what the key commands print for this
/// recipient.
///
/// Like Go age, it accepts CRLF line endings, blank lines before the armor, and a missing final
/// newline. The plaintext is returned as is: a 32-byte data key, or a 33-byte Shamir share.
pub fn unwrap(recipient: &str, enc: &str, identities: &AgeIdentities) -> Result<Zeroizing<Vec<u8>>, UnwrapError> {
    let armored = skip_blank_lines(enc);
    if !armored.starts_with(ARMOR_BEGIN) {
        return Err(UnwrapError::Malformed(format!(
            "expected an ASCII-armored age file starting with `{ARMOR_BEGIN}`"
        )));
    }
    let malformed = |e: DecryptError| UnwrapError::Malformed(e.to_string());
    let decryptor = Decryptor::new_buffered(ArmoredReader::new(armored.as_bytes())).map_err(malformed)?;
    let from_commands: Vec<_> = identities
        .commands
        .iter()
        .map(|command| command.identities_for(recipient))
        .collect();
    let all: Vec<&dyn ::age::Identity> = identities
        .iter()
        .chain(
            from_commands
                .iter()
                .flat_map(|loaded| loaded.iter())
                .map(|id| id.as_ref() as &dyn ::age::Identity),
        )
        .collect();
    let no_match = UnwrapError::NoMatchingIdentity { tried: all.len() };
    if all.is_empty() {
        return Err(no_match);
    }
    let mut reader = decryptor.decrypt(all.into_iter()).map_err(|e| match e {
        DecryptError::NoMatchingKeys => no_match,
        other => malformed(other),
    })?;
    // Enough room that a data key or share never reallocates, which would leave an unwiped copy.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(64));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| UnwrapError::Malformed(format!("the payload does not decrypt: {e}")))?;
    Ok(plaintext)
}

/// Go age skips whitespace-only lines before the armor; the age crate does not.
fn skip_blank_lines(mut text: &str) -> &str {
    while let Some((line, rest)) = text.split_once('\n') {
        if !line.trim().is_empty() {
            break;
        }
        text = rest;
    }
    text
}

/// The age identities found in the environment, and a record of every place looked at.
#[derive(Default)]
pub struct AgeIdentities {
    identities: Vec<Box<dyn ::age::Identity + Send + Sync>>,
    /// `SOPS_AGE_SSH_PRIVATE_KEY_CMD` and `SOPS_AGE_KEY_CMD`, run when a file needs them.
    commands: Vec<KeyCommand>,
    sources: SourceRecord,
}

impl AgeIdentities {
    pub fn new() -> AgeIdentities {
        AgeIdentities::default()
    }

    /// Parses identity text (a `keys.txt`) and adds what it holds, under `source_name`.
    ///
    /// One or more `AGE-SECRET-KEY-1…` per line, separated by whitespace; blank lines and lines
    /// starting with `#` are skipped. Returns how many identities were added.
    pub fn add_text(&mut self, source_name: &str, text: &str) -> Result<usize, KeyError> {
        let callbacks: Arc<dyn Callbacks> = Arc::new(NoPrompt);
        let found = parse_identity_text(source_name, text, &callbacks)?;
        let count = found.len();
        self.add_found(source_name, found);
        Ok(count)
    }

    /// Whether a source the user set could not be used.
    pub fn has_failed_source(&self) -> bool {
        self.sources.has_failed()
    }

    /// Adds a passphrase-protected SSH key, unlocked on the terminal if a file needs it.
    fn add_locked_ssh_key(&mut self, source_name: &str, key: LockedSshKey, public: String) {
        self.sources.note_settled_at_use_with_key(
            source_name,
            "passphrase-protected; asked for on the terminal when a file is encrypted to it",
            key.outcome(),
            public,
        );
        self.identities.push(Box::new(key));
    }

    /// Adds a passphrase-protected identity file, opened when a file needs an age key.
    fn add_locked_identity_file(&mut self, source_name: &str, file: LockedIdentityFile) {
        self.sources.note_settled_at_use(
            source_name,
            "passphrase-protected identity file; asked for on the terminal when a file needs an age key",
            file.outcome(),
        );
        self.identities.push(Box::new(file));
    }

    /// Adds a key command, run when a file needs an age key, once per recipient.
    fn add_key_command(&mut self, command: KeyCommand) {
        self.sources.note_settled_at_use(
            &command.source_name(),
            "run when a file needs an age key, once per recipient, with SOPS_AGE_RECIPIENT set",
            command.outcome(),
        );
        self.commands.push(command);
    }

    fn add_ssh_identity(&mut self, source_name: &str, identity: ::age::ssh::Identity, public: String) {
        self.identities.push(Box::new(identity));
        self.sources.note_loaded_keys(source_name, vec![public]);
    }

    /// Adds identities read from one place, recording their public keys.
    fn add_found(&mut self, source_name: &str, found: Vec<FoundIdentity>) {
        let mut public_keys = Vec::with_capacity(found.len());
        for (identity, public) in found {
            self.identities.push(identity);
            public_keys.push(public);
        }
        self.sources.note_loaded_keys(source_name, public_keys);
    }

    /// How many identities were found (a key command's are not counted before it runs).
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Whether nothing at all can be tried: no identity and no key command.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.commands.is_empty()
    }

    /// Every place looked at, in the order sops looks.
    pub fn sources(&self) -> &[IdentitySource] {
        self.sources.as_slice()
    }

    /// One line per place looked at, for the report printed when no key works.
    pub fn report(&self) -> String {
        self.sources.report()
    }

    fn iter(&self) -> impl Iterator<Item = &dyn ::age::Identity> {
        self.identities
            .iter()
            .map(|identity| identity.as_ref() as &dyn ::age::Identity)
    }
}

impl fmt::Debug for AgeIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgeIdentities")
            .field("count", &self.identities.len())
            .field("sources", &self.sources)
            .finish()
    }
}

/// Loads every age identity sops would, from all its sources in its order, and merges them.
///
/// Every place looked at is recorded in [`AgeIdentities::sources`]. A source that is set but
/// cannot be read or parsed is recorded as failed and the others are still used, as sops does:
/// a stale `SOPS_AGE_KEY_FILE` in a CI job must not stop a file that another key opens. The
/// failure is shown when no key decrypts. Passphrase-protected SSH keys ask through `callbacks`
/// when a file is encrypted to them.
pub fn discover(env: &dyn Env, callbacks: &Arc<dyn Callbacks>) -> AgeIdentities {
    let mut found = AgeIdentities::new();
    let result = load_ssh_key_file(env, &mut found, callbacks);
    record_failure(&mut found, result);
    load_ssh_key_cmd(env, &mut found, callbacks);
    load_default_ssh_keys(env, &mut found, callbacks);
    type Load = fn(&dyn Env, &mut AgeIdentities, &Arc<dyn Callbacks>) -> Result<(), KeyError>;
    let loads: [Load; 4] = [load_key_var, load_key_file, load_key_cmd, load_default_key_file];
    for load in loads {
        let result = load(env, &mut found, callbacks);
        record_failure(&mut found, result);
    }
    found
}

fn record_failure(found: &mut AgeIdentities, result: Result<(), KeyError>) {
    match result {
        Ok(()) => {}
        Err(KeyError::IdentitySource { source_name, reason }) => found.sources.note_failed(&source_name, &reason),
        Err(other) => found.sources.note_failed("age identities", &other.to_string()),
    }
}

/// `SOPS_AGE_SSH_PRIVATE_KEY_FILE`: the user named this key, so a file that cannot be read or is
/// not an SSH private key is recorded as unusable. A passphrase-protected key is asked for on
/// the terminal only if a file is encrypted to it.
fn load_ssh_key_file(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) -> Result<(), KeyError> {
    let Some(path) = env.var(SSH_KEY_FILE_VAR) else {
        found.sources.note_absent(SSH_KEY_FILE_VAR, "not set");
        return Ok(());
    };
    let source_name = format!("{SSH_KEY_FILE_VAR}={path}");
    if path.is_empty() {
        return Err(identity_error(&source_name, "the variable is set but empty"));
    }
    let bytes = read_secret_file(Path::new(&path))
        .map_err(|e| identity_error(&source_name, &format!("cannot read the file: {e}")))?;
    match parse_ssh_identity(&bytes, &path, callbacks) {
        Ok(SshKey::Ready(identity, public)) => found.add_ssh_identity(&source_name, identity, public),
        Ok(SshKey::Locked(key, public)) => found.add_locked_ssh_key(&source_name, key, public),
        Err(SshKeyProblem::Unusable(reason)) => return Err(identity_error(&source_name, &reason)),
    }
    Ok(())
}

/// `SOPS_AGE_SSH_PRIVATE_KEY_CMD`: a command printing an SSH private key, run when a file needs
/// an age key. As in sops, a passphrase-protected key from it is refused.
fn load_ssh_key_cmd(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) {
    let Some(command) = env.var(SSH_KEY_CMD_VAR).map(Zeroizing::new) else {
        found.sources.note_absent(SSH_KEY_CMD_VAR, "not set");
        return;
    };
    let callbacks = Arc::clone(callbacks);
    let parse = move |bytes: &[u8]| -> Result<Vec<Box<dyn ::age::Identity + Send + Sync>>, String> {
        match parse_ssh_identity(bytes, SSH_KEY_CMD_VAR, &callbacks) {
            Ok(SshKey::Ready(identity, _)) => Ok(vec![Box::new(identity)]),
            Ok(SshKey::Locked(..)) => {
                Err("it printed a passphrase-protected SSH key, which sops does not take from a command either".into())
            }
            Err(SshKeyProblem::Unusable(reason)) => Err(format!("it printed {reason}")),
        }
    };
    found.add_key_command(KeyCommand::new(SSH_KEY_CMD_VAR, command, Box::new(parse)));
}

/// `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`, each when it exists. The user did not ask for these,
/// so one that cannot be used is recorded and skipped, never an error (sops goes on too).
fn load_default_ssh_keys(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) {
    let Some(home) = env.home_dir() else {
        for name in DEFAULT_SSH_KEYS {
            found
                .sources
                .note_absent(&format!("SSH key ~/.ssh/{name}"), "the home directory is unknown");
        }
        return;
    };
    for name in DEFAULT_SSH_KEYS {
        let path = home.join(".ssh").join(name);
        let source_name = format!("SSH key {}", path.display());
        let bytes = match read_secret_file(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                found.sources.note_absent(&source_name, "not found");
                continue;
            }
            Err(e) => {
                found
                    .sources
                    .note_skipped(&source_name, &format!("cannot read the file: {e}"));
                continue;
            }
        };
        match parse_ssh_identity(&bytes, &path.display().to_string(), callbacks) {
            Ok(SshKey::Ready(identity, public)) => found.add_ssh_identity(&source_name, identity, public),
            Ok(SshKey::Locked(key, public)) => found.add_locked_ssh_key(&source_name, key, public),
            Err(SshKeyProblem::Unusable(reason)) => found.sources.note_skipped(&source_name, &reason),
        }
    }
}

/// An SSH private key age can use, with its public key (the recipient it answers to, which a
/// passphrase-protected key keeps in clear too).
enum SshKey {
    Ready(::age::ssh::Identity, String),
    /// Passphrase-protected: asked for on the terminal when needed.
    Locked(LockedSshKey, String),
}

enum SshKeyProblem {
    /// Not a private key age can use; the reason never quotes the file.
    Unusable(String),
}

/// Parses an OpenSSH or PEM private key file as age does (`ssh-ed25519` and `ssh-rsa` only).
fn parse_ssh_identity(bytes: &[u8], file_name: &str, callbacks: &Arc<dyn Callbacks>) -> Result<SshKey, SshKeyProblem> {
    use ::age::ssh::{Identity, UnsupportedKey};
    let invalid =
        || SshKeyProblem::Unusable("not an SSH private key (expected an OpenSSH or PEM private key file)".into());
    let text = std::str::from_utf8(bytes).map_err(|_| invalid())?;
    let identity = Identity::from_buffer(text.as_bytes(), Some(file_name.to_owned())).map_err(|_| invalid())?;
    let public = || {
        ::age::ssh::Recipient::try_from(identity.clone())
            .map(|recipient| recipient.to_string())
            .unwrap_or_else(|_| "an SSH key whose public key cannot be read".into())
    };
    match identity {
        Identity::Unencrypted(_) => {
            let public = public();
            Ok(SshKey::Ready(identity, public))
        }
        Identity::Encrypted(_) => {
            let public = public();
            LockedSshKey::new(file_name, identity, text, Arc::clone(callbacks))
                .map(|key| SshKey::Locked(key, public))
                .map_err(SshKeyProblem::Unusable)
        }
        Identity::Unsupported(UnsupportedKey::EncryptedPem) => Err(SshKeyProblem::Unusable(
            "a passphrase-protected PEM key, which age cannot unlock; convert it with \
             `ssh-keygen -p -f FILE` (OpenSSH format)"
                .into(),
        )),
        Identity::Unsupported(UnsupportedKey::EncryptedSsh(cipher)) => Err(SshKeyProblem::Unusable(format!(
            "passphrase-protected with the cipher {cipher}, which age cannot unlock"
        ))),
        Identity::Unsupported(UnsupportedKey::Hardware(kind)) => Err(SshKeyProblem::Unusable(format!(
            "{kind} keys live on a hardware security key, which age cannot use; use ssh-ed25519 or ssh-rsa"
        ))),
        Identity::Unsupported(UnsupportedKey::Type(kind)) => Err(SshKeyProblem::Unusable(format!(
            "{kind} keys are not supported by age; use ssh-ed25519 or ssh-rsa"
        ))),
    }
}

fn load_key_var(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) -> Result<(), KeyError> {
    match env.var(KEY_VAR).map(Zeroizing::new) {
        None => found.sources.note_absent(KEY_VAR, "not set"),
        Some(text) => add_identity_bytes(found, KEY_VAR, text.as_bytes(), callbacks)?,
    }
    Ok(())
}

fn load_key_file(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) -> Result<(), KeyError> {
    let Some(path) = env.var(KEY_FILE_VAR) else {
        found.sources.note_absent(KEY_FILE_VAR, "not set");
        return Ok(());
    };
    let source_name = format!("{KEY_FILE_VAR}={path}");
    if path.is_empty() {
        return Err(identity_error(&source_name, "the variable is set but empty"));
    }
    let bytes = read_secret_file(Path::new(&path))
        .map_err(|e| identity_error(&source_name, &format!("cannot read the file: {e}")))?;
    add_identity_bytes(found, &source_name, &bytes, callbacks)
}

/// `SOPS_AGE_KEY_CMD`: a command printing age identities (or a passphrase-protected identity
/// file), run when a file needs an age key.
fn load_key_cmd(env: &dyn Env, found: &mut AgeIdentities, callbacks: &Arc<dyn Callbacks>) -> Result<(), KeyError> {
    let Some(command) = env.var(KEY_CMD_VAR).map(Zeroizing::new) else {
        found.sources.note_absent(KEY_CMD_VAR, "not set");
        return Ok(());
    };
    let source_name = format!("{KEY_CMD_VAR}={:?}", age_commands::shown_command(&command));
    let callbacks = Arc::clone(callbacks);
    let parse = move |bytes: &[u8]| -> Result<Vec<Box<dyn ::age::Identity + Send + Sync>>, String> {
        if is_encrypted_identity_file(bytes) {
            let file = locked_file(&source_name, bytes, &callbacks);
            return Ok(vec![Box::new(file)]);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "the identity text is not valid UTF-8".to_string())?;
        parse_identity_text(&source_name, text, &callbacks)
            .map(without_public_keys)
            .map_err(|e| match e {
                KeyError::IdentitySource { reason, .. } => reason,
                other => other.to_string(),
            })
    };
    found.add_key_command(KeyCommand::new(KEY_CMD_VAR, command, Box::new(parse)));
    Ok(())
}

fn load_default_key_file(
    env: &dyn Env,
    found: &mut AgeIdentities,
    callbacks: &Arc<dyn Callbacks>,
) -> Result<(), KeyError> {
    let Some(config_dir) = env.config_dir() else {
        found.sources.note_absent(
            "default key file <config dir>/sops/age/keys.txt",
            "the user config directory is unknown (set XDG_CONFIG_HOME or HOME)",
        );
        return Ok(());
    };
    let path = config_dir.join("sops").join("age").join("keys.txt");
    let source_name = format!("default key file {}", path.display());
    match read_secret_file(&path) {
        Ok(bytes) => add_identity_bytes(found, &source_name, &bytes, callbacks),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            found.sources.note_absent(&source_name, "not found");
            Ok(())
        }
        Err(e) => Err(identity_error(&source_name, &format!("cannot read the file: {e}"))),
    }
}

fn read_secret_file(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    std::fs::read(path).map(Zeroizing::new)
}

/// Identity text, or an age-encrypted identity file to open with a passphrase when needed.
fn add_identity_bytes(
    found: &mut AgeIdentities,
    source_name: &str,
    bytes: &[u8],
    callbacks: &Arc<dyn Callbacks>,
) -> Result<(), KeyError> {
    if is_encrypted_identity_file(bytes) {
        found.add_locked_identity_file(source_name, locked_file(source_name, bytes, callbacks));
        return Ok(());
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| identity_error(source_name, "the identity text is not valid UTF-8"))?;
    let identities = parse_identity_text(source_name, text, callbacks)?;
    found.add_found(source_name, identities);
    Ok(())
}

/// A passphrase-protected identity file from `source_name`, whose identities are parsed as
/// any identity text once it is open.
fn locked_file(source_name: &str, bytes: &[u8], callbacks: &Arc<dyn Callbacks>) -> LockedIdentityFile {
    let (name, inner_callbacks) = (source_name.to_owned(), Arc::clone(callbacks));
    let parse = move |text: &str| {
        parse_identity_text(&name, text, &inner_callbacks)
            .map(without_public_keys)
            .map_err(|e| match e {
                KeyError::IdentitySource { reason, .. } => reason,
                other => other.to_string(),
            })
    };
    LockedIdentityFile::new(
        source_name,
        Zeroizing::new(bytes.to_vec()),
        Arc::clone(callbacks),
        Box::new(parse),
    )
}

/// An identity, and its public side as reports show it: the recipient it answers to, or for a
/// plugin identity (whose recipient only the plugin knows) which plugin it needs.
type FoundIdentity = (Box<dyn ::age::Identity + Send + Sync>, String);

/// The identities alone, for a key command or a locked file (whose public keys are not known
/// before a file needs them).
fn without_public_keys(found: Vec<FoundIdentity>) -> Vec<Box<dyn ::age::Identity + Send + Sync>> {
    found.into_iter().map(|(identity, _)| identity).collect()
}

fn parse_identity_text(
    source_name: &str,
    text: &str,
    callbacks: &Arc<dyn Callbacks>,
) -> Result<Vec<FoundIdentity>, KeyError> {
    let mut identities: Vec<FoundIdentity> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            let identity = parse_identity(word, callbacks)
                .map_err(|reason| identity_error(source_name, &format!("line {}: {reason}", index + 1)))?;
            identities.push(identity);
        }
    }
    Ok(identities)
}

/// Parses one identity. Errors describe the problem without echoing the input.
fn parse_identity(word: &str, callbacks: &Arc<dyn Callbacks>) -> Result<FoundIdentity, String> {
    if word.starts_with("AGE-PLUGIN-") {
        let identity = word
            .parse::<::age::plugin::Identity>()
            .map_err(|reason| format!("not a valid age plugin identity ({reason})"))?;
        let callbacks = PluginCallbacks(Arc::clone(callbacks));
        let plugin =
            ::age::plugin::IdentityPluginV1::new(identity.plugin(), std::slice::from_ref(&identity), callbacks)
                .map_err(|e| missing_plugin(identity.plugin(), &e.to_string()))?;
        let public = format!("a plugin identity for age-plugin-{}", identity.plugin());
        Ok((Box::new(plugin), public))
    } else if word.starts_with("AGE-SECRET-KEY-PQ-1") {
        Err("post-quantum age identities are not supported yet".into())
    } else if word.starts_with("AGE-SECRET-KEY-1") {
        let identity = word
            .parse::<::age::x25519::Identity>()
            .map_err(|reason| format!("not a valid age secret key ({reason})"))?;
        let public = identity.to_public().to_string();
        Ok((Box::new(identity), public))
    } else {
        Err("not an age identity; expected AGE-SECRET-KEY-1… or AGE-PLUGIN-…".into())
    }
}

/// Why a plugin could not be used: almost always that its program is not on PATH.
fn missing_plugin(name: &str, reason: &str) -> String {
    format!("the age plugin age-plugin-{name} cannot be used ({reason}); install it on PATH")
}

/// The library's [`Callbacks`] as age's plugin client wants them: a plugin may show a message
/// or ask for a PIN or passphrase (asked through the program's callbacks); it is never asked
/// to confirm or type a public value, which ksec has no way to ask.
#[derive(Clone)]
struct PluginCallbacks(Arc<dyn Callbacks>);

impl ::age::Callbacks for PluginCallbacks {
    fn display_message(&self, message: &str) {
        self.0.display_message(message);
    }

    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<::age::secrecy::SecretString> {
        self.0.request_passphrase(description).ok().flatten()
    }
}

fn identity_error(source_name: &str, reason: &str) -> KeyError {
    KeyError::IdentitySource {
        source_name: source_name.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::sources::SourceStatus;
    use crate::keys::sources::tests::only_failure;
    use crate::keys::{DataKey, MapEnv, NoPrompt};
    use ::age::secrecy::ExposeSecret;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::path::PathBuf;
    use std::process::Command;

    // The sops test identities (`age/keysource_test.go`), as in
    // shared/vectors/sops-upstream/keys/age-test-identity.txt and age-test-identity-2.txt.
    const IDENTITY: &str = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
    const RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";
    const OTHER_IDENTITY: &str = "AGE-SECRET-KEY-1432K5YRNSC44GC4986NXMX6GVZ52WTMT9C79CLUVWYY4DKDHD5JSNDP4MC";
    const OTHER_RECIPIENT: &str = "age1afnrdrkyvy0sl5e08t9ffs4c7g5e5npc8luf7hjc77syewg5gajsls4r90";
    // shared/vectors/sops-upstream/keys/age-ssh-test-ed25519.pub
    const SSH_ED25519_PUB: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN Test\n";

    // `sops.age[0].enc` of shared/vectors/sops-upstream/generated-by-sops-3.11.0/types.enc.yaml,
    // written by sops 3.11.0 for RECIPIENT.
    const SOPS_ENC: &str = "\
-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB5Q202NzdvYnZlcjdYRC9K
aWdhVW9Bamg5M3c5bzNFSXc2OFBIaU8zSG13CnVLYWJZdFBXNE5pb2dJZ2RMOWtM
VmtyaVJYNkNtSzZxaktycktCOWZMRVUKLS0tIDBrQm1vNGdHRVllL053SS9MYlJz
VmZuRWVBVnZPMlgwd3FGUGVld0pOTFkK/IBfJkwTHWMQJL18BoBELysOn9OGfa2R
qK6OfZyDzT867b0qCPunPH1/ynF02kgFb+aZ25ly8Exi/KeIHqgxgw==
-----END AGE ENCRYPTED FILE-----
";

    /// Discovery as every test here runs it: nothing is ever asked.
    fn discover(env: &dyn Env) -> AgeIdentities {
        super::discover(env, &(Arc::new(NoPrompt) as Arc<dyn Callbacks>))
    }

    fn identities(text: &str) -> AgeIdentities {
        let mut found = AgeIdentities::new();
        found.add_text("test", text).expect("test identities parse");
        found
    }

    /// Checks the armor byte for byte against what Go age's armor.NewWriter produces.
    fn assert_go_armor(armored: &str) {
        let body = armored
            .strip_prefix("-----BEGIN AGE ENCRYPTED FILE-----\n")
            .unwrap_or_else(|| panic!("bad begin line: {armored:?}"));
        let body = body
            .strip_suffix("\n-----END AGE ENCRYPTED FILE-----\n")
            .unwrap_or_else(|| panic!("bad end line or final newline: {armored:?}"));
        assert!(!armored.contains('\r'), "LF only");
        let lines: Vec<&str> = body.split('\n').collect();
        let (last, full) = lines.split_last().expect("at least one line");
        for line in full {
            assert_eq!(line.len(), 64, "every line but the last is 64 columns: {armored}");
        }
        assert!((1..=64).contains(&last.len()), "last line is 1..=64 columns: {armored}");
        let alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
        assert!(body.chars().all(|c| c == '\n' || alphabet(c)), "{armored}");
    }

    #[test]
    fn wrap_then_unwrap_gives_the_data_key_back() {
        let identity = ::age::x25519::Identity::generate();
        let recipient = AgeRecipient::parse(&identity.to_public().to_string()).expect("fresh key");
        let data_key = DataKey::generate();

        let enc = wrap(&recipient, data_key.as_bytes()).expect("wrap");
        let found = identities(identity.to_string().expose_secret());
        let plain = unwrap(RECIPIENT, &enc, &found).expect("unwrap");

        assert_eq!(plain.as_slice(), data_key.as_bytes());
    }

    #[test]
    fn a_33_byte_shamir_share_round_trips_too() {
        let recipient = AgeRecipient::parse(RECIPIENT).expect("valid");
        let share = [0x5A; 33];
        let enc = wrap(&recipient, &share).expect("wrap");
        assert_eq!(
            unwrap(RECIPIENT, &enc, &identities(IDENTITY))
                .expect("unwrap")
                .as_slice(),
            &share
        );
    }

    #[test]
    fn armor_is_exactly_what_go_age_writes() {
        let recipient = AgeRecipient::parse(RECIPIENT).expect("valid");
        let armored = wrap(&recipient, &[1; 32]).expect("wrap");
        assert_go_armor(&armored);
        let body: String = armored.lines().filter(|l| !l.starts_with("-----")).collect();
        let binary = STANDARD.decode(body).expect("strict base64");
        assert!(
            binary.starts_with(b"age-encryption.org/v1\n-> X25519 "),
            "an age v1 file"
        );

        // The age crate adds a random-length "grease" stanza, so the length varies from file to
        // file. When the base64 fills the last line exactly, Go age puts the end marker right
        // after it, with no empty line: keep wrapping until that case has been checked.
        let mut full_last_line_seen = false;
        for round in 0..3000 {
            let armored = wrap(&recipient, &vec![9; round % 97]).expect("wrap");
            assert_go_armor(&armored);
            let last = armored.lines().rev().nth(1).expect("a base64 line");
            full_last_line_seen |= last.len() == 64;
            if full_last_line_seen && round >= 200 {
                break;
            }
        }
        assert!(full_last_line_seen, "never produced a file whose last line is full");
    }

    #[test]
    fn unwraps_what_sops_3_11_wrote() {
        let plain = unwrap(RECIPIENT, SOPS_ENC, &identities(IDENTITY)).expect("the sops test identity opens it");
        assert_eq!(plain.len(), 32);
        assert!(DataKey::from_bytes(&plain).is_some());
    }

    #[test]
    fn the_wrong_identity_is_reported_as_no_match() {
        let error = unwrap(RECIPIENT, SOPS_ENC, &identities(OTHER_IDENTITY)).expect_err("wrong identity");
        assert_eq!(error, UnwrapError::NoMatchingIdentity { tried: 1 });
        assert_eq!(
            error.to_string(),
            "the one age identity found does not match this recipient"
        );

        let both = identities(&format!("{OTHER_IDENTITY}\n{IDENTITY}\n"));
        assert_eq!(
            unwrap(RECIPIENT, SOPS_ENC, &both).expect("second one matches").len(),
            32
        );

        let none = AgeIdentities::new();
        assert_eq!(
            unwrap(RECIPIENT, SOPS_ENC, &none),
            Err(UnwrapError::NoMatchingIdentity { tried: 0 })
        );
    }

    #[test]
    fn unwrap_tolerates_crlf_a_missing_final_newline_and_leading_blank_lines() {
        let found = identities(IDENTITY);
        let expected = unwrap(RECIPIENT, SOPS_ENC, &found).expect("reference");
        let variants = [
            SOPS_ENC.replace('\n', "\r\n"),
            SOPS_ENC.trim_end().to_owned(),
            SOPS_ENC.replace('\n', "\r\n").trim_end().to_owned(),
            format!("\n  \n{SOPS_ENC}\n\n"),
        ];
        for variant in &variants {
            let plain = unwrap(RECIPIENT, variant, &found).unwrap_or_else(|e| panic!("{variant:?}: {e}"));
            assert_eq!(plain, expected);
        }
    }

    #[test]
    fn damaged_or_rewrapped_armor_is_malformed_not_a_key_mismatch() {
        let found = identities(IDENTITY);
        let body: String = SOPS_ENC.lines().filter(|l| !l.starts_with("-----")).collect();
        let rewrapped_at_76 = format!(
            "-----BEGIN AGE ENCRYPTED FILE-----\n{}\n{}\n-----END AGE ENCRYPTED FILE-----\n",
            &body[..76],
            &body[76..]
        );
        let tampered = SOPS_ENC.replacen("qK6OfZyD", "qK6OfZyE", 1);
        let cases = [
            "",
            "not age at all",
            "ENC[AES256_GCM,data:abc=,iv:abc=,tag:abc=,type:str]",
            SOPS_ENC.replace("-----END AGE ENCRYPTED FILE-----\n", "").as_str(),
            rewrapped_at_76.as_str(),
            tampered.as_str(),
        ]
        .map(str::to_owned);
        for case in &cases {
            match unwrap(RECIPIENT, case, &found) {
                Err(UnwrapError::Malformed(reason)) => assert!(!reason.is_empty()),
                other => panic!("{case:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn parses_x25519_recipients() {
        let recipient = AgeRecipient::parse(&format!("  {RECIPIENT}\n")).expect("valid");
        assert_eq!(recipient.as_str(), RECIPIENT);
        assert_eq!(recipient.to_string(), RECIPIENT);
        assert_eq!(RECIPIENT.parse::<AgeRecipient>().expect("valid"), recipient);
    }

    #[test]
    fn parses_recipient_lists_like_sops_age_recipients() {
        let list = format!(" {RECIPIENT} ,{OTHER_RECIPIENT},, ");
        let parsed = parse_recipients(&list).expect("valid list");
        let texts: Vec<&str> = parsed.iter().map(AgeRecipient::as_str).collect();
        assert_eq!(texts, [RECIPIENT, OTHER_RECIPIENT]);
        assert_eq!(parse_recipients("").expect("empty list"), []);

        let error = parse_recipients(&format!("{RECIPIENT},age1nope")).expect_err("bad entry");
        assert!(
            matches!(&error, KeyError::InvalidRecipient { recipient, .. } if recipient == "age1nope"),
            "{error}"
        );
    }

    #[test]
    fn ssh_recipients_keep_the_whole_line_with_its_comment() {
        let recipient = AgeRecipient::parse(SSH_ED25519_PUB).expect("valid ssh-ed25519 key");
        assert_eq!(recipient.as_str(), SSH_ED25519_PUB.trim_end());
        assert!(recipient.as_str().ends_with(" Test"));
        assert_go_armor(&wrap(&recipient, &[3; 32]).expect("wrap to ssh"));
    }

    #[test]
    fn rejects_unknown_plugin_and_damaged_recipients_with_a_reason() {
        let cases = [
            ("age1yubikey1qwerty", "plugin"),
            ("age1pq1qwerty", "post-quantum"),
            (
                "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvuq",
                "X25519",
            ),
            (
                "AGE1LZD99UKLCJNC0E7D860AXEVET2CZ99CE9PQ6TZUZD05L5NR28AMS36NVUN",
                "unknown recipient type",
            ),
            ("ssh-ed25519 AAAA", "SSH"),
            ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "SSH"),
            ("0xDEADBEEF", "unknown recipient type"),
            ("", "unknown recipient type"),
        ];
        for (text, expected) in cases {
            match AgeRecipient::parse(text) {
                Err(KeyError::InvalidRecipient { recipient, reason }) => {
                    assert_eq!(recipient, text);
                    assert!(reason.contains(expected), "{text}: {reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn identity_text_skips_comments_and_blank_lines() {
        let text = format!("# created: 2026-01-01\n# public key: {RECIPIENT}\n\n{IDENTITY}\r\n  \n{OTHER_IDENTITY}\n");
        assert_eq!(identities(&text).len(), 2);
        assert_eq!(identities(&format!("{IDENTITY} {OTHER_IDENTITY}")).len(), 2);
    }

    #[test]
    fn bad_identity_text_names_the_line_but_not_the_key() {
        let damaged = IDENTITY.replace("G0Q5", "G0Q6");
        let cases = [
            (damaged.as_str(), "line 2: not a valid age secret key"),
            ("AGE-PLUGIN-YUBIKEY-1QWERTY", "line 2: not a valid age plugin identity"),
            ("age-secret-key-1qwerty", "line 2: not an age identity"),
            ("hunter2", "line 2: not an age identity"),
        ];
        for (line, expected) in cases {
            let text = format!("# my key\n{line}\n");
            let error = AgeIdentities::new().add_text("SOPS_AGE_KEY", &text).expect_err(line);
            let message = error.to_string();
            assert!(message.starts_with(&format!("SOPS_AGE_KEY: {expected}")), "{message}");
            assert!(!message.contains(line), "key material leaked: {message}");
        }
    }

    fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    fn status_of<'a>(found: &'a AgeIdentities, name: &str) -> &'a SourceStatus {
        let source = found.sources().iter().find(|s| s.name.starts_with(name));
        &source
            .unwrap_or_else(|| panic!("{name} not in {:?}", found.sources()))
            .status
    }

    #[test]
    fn discover_reads_sops_age_key() {
        let env = MapEnv::new().with_var("SOPS_AGE_KEY", format!("{IDENTITY}\n"));
        let found = discover(&env);
        assert_eq!(found.len(), 1);
        assert_eq!(status_of(&found, "SOPS_AGE_KEY"), &SourceStatus::Loaded(1));
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("unwrap").len(), 32);
    }

    #[test]
    fn discover_reads_sops_age_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(dir.path(), "keys.txt", &format!("{IDENTITY}\n{OTHER_IDENTITY}\n"));
        let path = path.to_str().expect("utf-8 temp path");
        let found = discover(&MapEnv::new().with_var("SOPS_AGE_KEY_FILE", path));
        assert_eq!(found.len(), 2);
        let name = format!("SOPS_AGE_KEY_FILE={path}");
        assert!(
            found.report().contains(&format!("{name}: 2 identities")),
            "{}",
            found.report()
        );
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("unwrap").len(), 32);
    }

    #[test]
    fn sops_age_key_cmd_runs_once_per_recipient_a_file_needs_with_sops_age_recipient() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(dir.path(), "key file.txt", &format!("{IDENTITY}\n"));
        let runs = dir.path().join("runs");
        // Prints the key only for its own recipient, as a vault lookup by recipient would.
        let script = format!(
            "echo \"$SOPS_AGE_RECIPIENT\" >> '{}'; if [ \"$SOPS_AGE_RECIPIENT\" = {RECIPIENT} ]; then cat '{}'; fi",
            runs.display(),
            path.display()
        );
        let command = format!("sh -c {}", shlex::try_quote(&script).expect("quotable"));
        let found = discover(&MapEnv::new().with_var("SOPS_AGE_KEY_CMD", &command));
        assert_eq!(found.len(), 0, "nothing runs before a file needs a key");
        assert!(!found.is_empty());
        assert!(!runs.exists());
        assert!(matches!(
            status_of(&found, "SOPS_AGE_KEY_CMD"),
            SourceStatus::Available(d) if d.contains("SOPS_AGE_RECIPIENT")
        ));
        assert_eq!(
            unwrap(OTHER_RECIPIENT, SOPS_ENC, &found),
            Err(UnwrapError::NoMatchingIdentity { tried: 0 })
        );
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("unwrap").len(), 32);
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("again").len(), 32);
        let asked = std::fs::read_to_string(&runs).expect("the command ran");
        assert_eq!(asked, format!("{OTHER_RECIPIENT}\n{RECIPIENT}\n"), "once per recipient");
        assert!(
            found.report().contains(&format!("run for {RECIPIENT}: 1 identities")),
            "{}",
            found.report()
        );
    }

    #[test]
    fn sops_age_ssh_private_key_cmd_gives_an_ssh_identity() {
        let key_file = vector_path(SSH_ED25519_KEY_FILE);
        let recipient = AgeRecipient::parse(SSH_ED25519_PUB).expect("valid");
        let enc = wrap(&recipient, &[7; 32]).expect("wrap");
        let env = MapEnv::new().with_var("SOPS_AGE_SSH_PRIVATE_KEY_CMD", format!("cat {}", key_file.display()));
        let found = discover(&env);
        assert_eq!(
            unwrap(recipient.as_str(), &enc, &found).expect("unwrap").as_slice(),
            &[7; 32]
        );

        let locked = tempfile::tempdir().expect("tempdir");
        let locked_key = write_file(locked.path(), "k", SSH_ED25519_ENCRYPTED);
        let env = MapEnv::new().with_var("SOPS_AGE_SSH_PRIVATE_KEY_CMD", format!("cat {}", locked_key.display()));
        let found = discover(&env);
        assert!(unwrap(recipient.as_str(), &enc, &found).is_err());
        assert!(
            found.report().contains("passphrase-protected SSH key"),
            "{}",
            found.report()
        );
        assert!(found.has_failed_source());
    }

    /// Answers every passphrase question with the same text, and counts the questions.
    struct Answer(&'static str, std::sync::atomic::AtomicUsize);

    impl Callbacks for Answer {
        fn display_message(&self, _message: &str) {}

        fn request_passphrase(&self, _description: &str) -> io::Result<Option<secrecy::SecretString>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(Some(secrecy::SecretString::from(self.0.to_string())))
        }
    }

    /// An identity file encrypted with a passphrase, as `age -p -a` writes it.
    fn passphrase_protected(text: &str, passphrase: &str) -> String {
        let encryptor =
            ::age::Encryptor::with_user_passphrase(::age::secrecy::SecretString::from(passphrase.to_string()));
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).expect("armor");
        let mut writer = encryptor.wrap_output(armor).expect("encrypt");
        writer.write_all(text.as_bytes()).expect("write");
        writer.finish().and_then(|armor| armor.finish()).expect("finish");
        String::from_utf8(out).expect("armored text")
    }

    #[test]
    fn passphrase_protected_identity_files_open_with_the_passphrase_asked_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(
            dir.path(),
            "keys.age",
            &passphrase_protected(&format!("# key\n{IDENTITY}\n"), "correct horse"),
        );
        let env = MapEnv::new().with_var("SOPS_AGE_KEY_FILE", path.to_str().expect("utf-8"));
        let answer = Arc::new(Answer("correct horse", Default::default()));
        let found = super::discover(&env, &(Arc::clone(&answer) as Arc<dyn Callbacks>));
        assert_eq!(
            answer.1.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "asked only when needed"
        );
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("unwrap").len(), 32);
        assert_eq!(unwrap(RECIPIENT, SOPS_ENC, &found).expect("again").len(), 32);
        assert_eq!(answer.1.load(std::sync::atomic::Ordering::Relaxed), 1, "asked once");
        assert!(
            found.report().contains("unlocked with the passphrase given"),
            "{}",
            found.report()
        );

        let wrong = Arc::new(Answer("wrong", Default::default()));
        let found = super::discover(&env, &(Arc::clone(&wrong) as Arc<dyn Callbacks>));
        assert!(unwrap(RECIPIENT, SOPS_ENC, &found).is_err());
        assert_eq!(
            wrong.1.load(std::sync::atomic::Ordering::Relaxed),
            3,
            "three tries, as ssh gives"
        );
        assert!(
            found.report().contains("3 passphrases did not unlock it"),
            "{}",
            found.report()
        );
        // Without anyone to ask, the file stays locked and other keys are still tried.
        let found = discover(&env.clone().with_var("SOPS_AGE_KEY", OTHER_IDENTITY));
        assert!(unwrap(RECIPIENT, SOPS_ENC, &found).is_err());
    }

    #[test]
    fn discover_reads_the_default_key_file_under_the_config_dir() {
        let config = tempfile::tempdir().expect("tempdir");
        write_file(config.path(), "sops/age/keys.txt", &format!("# test\n{IDENTITY}\n"));
        let found = discover(&MapEnv::new().with_config_dir(config.path()));
        assert_eq!(found.len(), 1);
        let name = format!("default key file {}", config.path().join("sops/age/keys.txt").display());
        assert_eq!(status_of(&found, &name), &SourceStatus::Loaded(1));
    }

    #[test]
    fn discover_merges_every_source() {
        let config = tempfile::tempdir().expect("tempdir");
        write_file(config.path(), "sops/age/keys.txt", &format!("{IDENTITY}\n"));
        let file = write_file(config.path(), "other.txt", &format!("{OTHER_IDENTITY}\n"));
        let env = MapEnv::new()
            .with_var("SOPS_AGE_KEY", IDENTITY)
            .with_var("SOPS_AGE_KEY_FILE", file.to_str().expect("utf-8"))
            .with_var("SOPS_AGE_KEY_CMD", format!("cat {}", file.display()))
            .with_config_dir(config.path());
        let found = discover(&env);
        assert_eq!(found.len(), 3, "the command's identities come when a file needs them");
        let names: Vec<&str> = found.sources().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            &names[..4],
            [
                "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
                "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
                "SSH key ~/.ssh/id_ed25519",
                "SSH key ~/.ssh/id_rsa"
            ]
        );
        assert!(names[4] == "SOPS_AGE_KEY" && names[5].starts_with("SOPS_AGE_KEY_FILE="));
        assert!(names[6].starts_with("SOPS_AGE_KEY_CMD=") && names[7].starts_with("default key file"));
    }

    #[test]
    fn discover_with_nothing_set_reports_where_it_looked() {
        let config = tempfile::tempdir().expect("tempdir");
        let home = tempfile::tempdir().expect("tempdir");
        let env = MapEnv::new().with_config_dir(config.path()).with_home(home.path());
        let found = discover(&env);
        assert!(found.is_empty());
        let keys_txt = config.path().join("sops/age/keys.txt");
        let ssh = home.path().join(".ssh");
        let expected = format!(
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE: not set\n\
             SOPS_AGE_SSH_PRIVATE_KEY_CMD: not set\n\
             SSH key {}: not found\n\
             SSH key {}: not found\n\
             SOPS_AGE_KEY: not set\nSOPS_AGE_KEY_FILE: not set\nSOPS_AGE_KEY_CMD: not set\n\
             default key file {}: not found",
            ssh.join("id_ed25519").display(),
            ssh.join("id_rsa").display(),
            keys_txt.display()
        );
        assert_eq!(found.report(), expected);
        assert_eq!(
            unwrap(RECIPIENT, SOPS_ENC, &found),
            Err(UnwrapError::NoMatchingIdentity { tried: 0 })
        );

        let unknown = discover(&MapEnv::new());
        assert!(
            unknown.report().contains("config directory is unknown"),
            "{}",
            unknown.report()
        );
        assert!(
            unknown
                .report()
                .contains("SSH key ~/.ssh/id_rsa: the home directory is unknown"),
            "{}",
            unknown.report()
        );
    }

    #[test]
    fn a_missing_sops_age_key_file_is_recorded_as_unusable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing.txt");
        let path = path.to_str().expect("utf-8");
        let found = discover(&MapEnv::new().with_var("SOPS_AGE_KEY_FILE", path));
        let (source_name, message) = only_failure(found.sources());
        assert_eq!(source_name, format!("SOPS_AGE_KEY_FILE={path}"));
        assert!(message.starts_with("cannot read the file"), "{message}");
        let (_, empty) = only_failure(discover(&MapEnv::new().with_var("SOPS_AGE_KEY_FILE", "")).sources());
        assert!(empty.contains("set but empty"), "{empty}");
    }

    #[test]
    fn a_failing_sops_age_key_cmd_is_recorded_naming_the_command() {
        let cases = [
            (
                "false",
                "SOPS_AGE_KEY_CMD=\"false\": UNUSABLE: run for age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun: \
                 the command failed (exit status: 1)",
            ),
            ("", "holds no command"),
            ("cat 'unbalanced", "unbalanced quotes"),
            (
                "/nonexistent/ksec-key-tool",
                "cannot run \"/nonexistent/ksec-key-tool\"",
            ),
            ("echo hunter2", "line 1: not an age identity"),
        ];
        for (command, expected) in cases {
            let env = MapEnv::new().with_var("SOPS_AGE_KEY_CMD", command);
            let found = discover(&env);
            assert!(unwrap(RECIPIENT, SOPS_ENC, &found).is_err());
            assert!(found.has_failed_source(), "{command}");
            let error = found.report();
            assert!(error.contains(expected), "{command}: {error}");
        }
        let env = MapEnv::new().with_var("SOPS_AGE_KEY_CMD", format!("echo {OTHER_IDENTITY} x"));
        let found = discover(&env);
        assert!(
            unwrap(RECIPIENT, SOPS_ENC, &found).is_err(),
            "a source with a bad line adds nothing"
        );
        let error = found.report();
        assert!(!error.contains(OTHER_IDENTITY), "key material leaked: {error}");
    }

    // shared/vectors/sops-upstream/keys/age-ssh-test-ed25519, the private half of SSH_ED25519_PUB.
    const SSH_ED25519_KEY_FILE: &str = "../shared/vectors/sops-upstream/keys/age-ssh-test-ed25519";
    // A throwaway ed25519 key protected with the passphrase "ksec test passphrase".
    const SSH_ED25519_ENCRYPTED: &str = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABA/VoKHTo
BgX+0OdxKHz/LRAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPxcYGMopnAceeB/
yKeJpPgATEEOTWndqWa8XxzBm1i3AAAAoClae4/awUnW0QLxrKDTSgYTfn9cQmbFQJhytR
qtTKBKwKvnNDK4pLbKlyrXJ15XLS9SLG9pem2PeflCrMS2RReRzvzVAMzAF5k80ORHFghq
aIkxpL3UJWgpPP4zoWTLUsqFnNWgukrwJIxF/ucw4zp2U/GYOxJXxSOTn7M54YRJOkb7vq
8mvg84aXrSSZbIxPjwvSMFZT4xPcgizoY1TBA=
-----END OPENSSH PRIVATE KEY-----
";

    fn vector_path(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }

    fn ssh_key_text() -> String {
        std::fs::read_to_string(vector_path(SSH_ED25519_KEY_FILE)).expect("the shared SSH test key")
    }

    #[test]
    fn discover_reads_sops_age_ssh_private_key_file() {
        let key_file = vector_path(SSH_ED25519_KEY_FILE);
        let key_file = key_file.to_str().expect("utf-8");
        let recipient = AgeRecipient::parse(SSH_ED25519_PUB).expect("valid");
        let data_key = DataKey::generate();
        let enc = wrap(&recipient, data_key.as_bytes()).expect("wrap");

        let env = MapEnv::new().with_var("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key_file);
        let found = discover(&env);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found.sources()[0].name,
            format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={key_file}")
        );
        assert_eq!(found.sources()[0].status, SourceStatus::Loaded(1));
        assert_eq!(
            unwrap(RECIPIENT, &enc, &found).expect("unwrap").as_slice(),
            data_key.as_bytes()
        );
    }

    #[test]
    fn discover_reads_ssh_keys_from_the_home_directory() {
        let home = tempfile::tempdir().expect("tempdir");
        write_file(home.path(), ".ssh/id_ed25519", &ssh_key_text());
        let recipient = AgeRecipient::parse(SSH_ED25519_PUB).expect("valid");
        let enc = wrap(&recipient, &[0x42; 33]).expect("wrap");

        let found = discover(&MapEnv::new().with_home(home.path()));
        assert_eq!(found.len(), 1);
        let id_ed25519 = format!("SSH key {}", home.path().join(".ssh/id_ed25519").display());
        assert_eq!(status_of(&found, &id_ed25519), &SourceStatus::Loaded(1));
        let id_rsa = format!("SSH key {}", home.path().join(".ssh/id_rsa").display());
        assert_eq!(status_of(&found, &id_rsa), &SourceStatus::Absent("not found".into()));
        assert_eq!(unwrap(RECIPIENT, &enc, &found).expect("unwrap").as_slice(), &[0x42; 33]);

        // Both sources load when both are there, as in sops: the same key counts twice.
        let key_file = vector_path(SSH_ED25519_KEY_FILE);
        let env = MapEnv::new()
            .with_home(home.path())
            .with_var("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key_file.to_str().expect("utf-8"));
        assert_eq!(discover(&env).len(), 2);
    }

    /// `ssh-recipient.enc.env` was written by sops 3.11 for the shared SSH test key.
    #[test]
    fn unwraps_the_sops_ssh_recipient_vector() {
        let vector = std::fs::read_to_string(vector_path(
            "../shared/vectors/sops-upstream/generated-by-sops-3.11.0/ssh-recipient.enc.env",
        ))
        .expect("the ssh-recipient vector");
        let enc = vector
            .lines()
            .find_map(|line| line.strip_prefix("sops_age__list_0__map_enc="))
            .expect("an age stanza")
            .replace("\\n", "\n");
        let recipient = vector
            .lines()
            .find_map(|line| line.strip_prefix("sops_age__list_0__map_recipient="))
            .expect("a recipient");
        assert_eq!(recipient, SSH_ED25519_PUB.trim_end());

        let key_file = vector_path(SSH_ED25519_KEY_FILE);
        let env = MapEnv::new().with_var("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key_file.to_str().expect("utf-8"));
        let plain = unwrap(RECIPIENT, &enc, &discover(&env)).expect("unwrap");
        assert_eq!(plain.len(), 32);

        assert_eq!(
            unwrap(RECIPIENT, &enc, &identities(IDENTITY)),
            Err(UnwrapError::NoMatchingIdentity { tried: 1 }),
            "an X25519 identity does not open an SSH stanza"
        );
    }

    #[test]
    fn passphrase_protected_ssh_keys_wait_for_a_file_encrypted_to_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = write_file(dir.path(), "encrypted_ed25519", SSH_ED25519_ENCRYPTED);
        write_file(dir.path(), ".ssh/id_rsa", SSH_ED25519_ENCRYPTED);
        let env = MapEnv::new()
            .with_home(dir.path())
            .with_var("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key_file.to_str().expect("utf-8"))
            .with_var("SOPS_AGE_KEY", IDENTITY);
        let found = discover(&env);
        assert_eq!(found.len(), 3, "SOPS_AGE_KEY and the two locked keys");
        let report = found.report();
        for name in [
            format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={}", key_file.display()),
            format!("SSH key {}", dir.path().join(".ssh/id_rsa").display()),
        ] {
            let expected =
                format!("{name}: passphrase-protected; asked for on the terminal when a file is encrypted to it");
            assert!(report.contains(&expected), "{report}");
        }
        // An X25519 stanza is not for the SSH keys: nothing is asked (were something asked, the
        // tests' callbacks would give no passphrase and the report would say so).
        assert_eq!(
            unwrap(RECIPIENT, SOPS_ENC, &found)
                .expect("SOPS_AGE_KEY still works")
                .len(),
            32
        );
        assert_eq!(found.report(), report, "a locked key was asked for");
    }

    #[test]
    fn a_bad_sops_age_ssh_private_key_file_is_an_error_but_a_bad_default_key_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing");
        let not_a_key = write_file(dir.path(), "not_a_key", "hunter2\n");
        let cases = [
            (missing.to_str().expect("utf-8"), "cannot read the file"),
            (not_a_key.to_str().expect("utf-8"), "not an SSH private key"),
            ("", "set but empty"),
        ];
        for (path, expected) in cases {
            let env = MapEnv::new().with_var("SOPS_AGE_SSH_PRIVATE_KEY_FILE", path);
            let (source_name, message) = only_failure(discover(&env).sources());
            assert_eq!(source_name, format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={path}"));
            assert!(message.contains(expected), "{path}: {message}");
            assert!(!message.contains("hunter2"), "file content leaked: {message}");
        }

        write_file(dir.path(), ".ssh/id_ed25519", "hunter2\n");
        let found = discover(&MapEnv::new().with_home(dir.path()));
        assert!(found.is_empty());
        assert!(
            found.report().contains("id_ed25519: skipped: not an SSH private key"),
            "{}",
            found.report()
        );
    }

    /// Go's `age` must read our armor: sops uses the same Go library.
    #[test]
    fn go_age_decrypts_our_output_and_we_decrypt_its() {
        const AGE: &str = "/usr/bin/age";
        if !Path::new(AGE).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{AGE} is required for this test in CI"
            );
            eprintln!("note: {AGE} not found; skipping the Go age interop test");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let identity_file = write_file(dir.path(), "identity.txt", &format!("{IDENTITY}\n"));
        let data_key = DataKey::generate();
        let recipient = AgeRecipient::parse(RECIPIENT).expect("valid");
        let enc_file = write_file(
            dir.path(),
            "key.age",
            &wrap(&recipient, data_key.as_bytes()).expect("wrap"),
        );

        let output = Command::new(AGE)
            .arg("--decrypt")
            .arg("-i")
            .arg(&identity_file)
            .arg(&enc_file)
            .output()
            .expect("run age --decrypt");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.stdout.as_slice(), data_key.as_bytes());

        let plain_file = write_file(dir.path(), "plain.bin", "thirty-two bytes of data key....");
        let output = Command::new(AGE)
            .args(["--encrypt", "--armor", "-r", RECIPIENT])
            .arg(&plain_file)
            .output()
            .expect("run age --encrypt");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let go_armored = String::from_utf8(output.stdout).expect("armor is text");
        assert_go_armor(&go_armored);
        let plain = unwrap(RECIPIENT, &go_armored, &identities(IDENTITY)).expect("unwrap Go age output");
        assert_eq!(plain.as_slice(), b"thirty-two bytes of data key....");
    }
}
