//! The one door into an encrypted file, and the one way back out.
//!
//! [`EncryptedFile`] is a parsed sops file: its encrypted tree, its metadata and its name. The
//! only ways from it to plaintext are [`EncryptedFile::decrypt`] (to read),
//! [`EncryptedFile::open`] (to change and write back) and [`EncryptedFile::unlock`] (to change
//! who holds the data key); all three unwrap the data key, decrypt every value and check the
//! MAC in the same private function, and all three take a [`MacPolicy`], which has no default:
//! skipping the check is something a caller has to spell out, and the CLI only does so for
//! `--ignore-mac`. A tampered file (a value, a key, `lastmodified` or the MAC changed) is
//! therefore refused by every command alike, with sops's exit code 51.
//!
//! Writing goes through [`seal`](OpenFile::seal) (and [`create`] for a new file,
//! [`UnlockedFile::rewrap`] for new key stanzas): encrypt, compute and seal the MAC, emit, then
//! parse the output back and check it decrypts to what was meant, so a bug in an emitter fails
//! loudly instead of writing a file nobody can open.

mod error;
mod seal;

use zeroize::Zeroizing;

use crate::crypt::{self, Selection, Stash};
use crate::formats::{self, Format, FormatError, OutputOptions};
use crate::keys::{self, DataKey, Identities};
use crate::metadata::{KeyGroup, Metadata};
use crate::rules::EncryptionRule;
use crate::tree::{Encrypted, Parsed, Plain, Tree};

pub use error::{FileError, ReadBackFault};
pub(crate) use seal::same_documents;
pub use seal::{NewFile, SealOptions, Sealed, create};

/// Whether the MAC is checked when a file is opened. There is no default: `Ignore` is for
/// `--ignore-mac` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacPolicy {
    /// Refuse the file unless its values match its MAC (sops's behaviour; exit 51).
    Verify,
    /// Open the file even when the MAC does not match or cannot be read.
    Ignore,
}

impl MacPolicy {
    /// The policy an `--ignore-mac` flag asks for.
    pub fn from_ignore_mac_flag(ignore_mac: bool) -> MacPolicy {
        if ignore_mac {
            MacPolicy::Ignore
        } else {
            MacPolicy::Verify
        }
    }
}

/// A finished output and what the user should be told about it.
#[derive(Debug)]
pub struct Output {
    pub bytes: Zeroizing<Vec<u8>>,
    pub format: Format,
    pub warnings: Vec<String>,
    /// Things done that the user did not spell out (a default rule, a mixed stream).
    pub notes: Vec<String>,
}

/// An encrypted file as read: values still encrypted, metadata parsed, not yet opened.
pub struct EncryptedFile {
    name: String,
    format: Format,
    tree: Tree<Encrypted>,
    metadata: Metadata,
}

impl EncryptedFile {
    /// Reads an encrypted file of a known format. `name` is how messages call it.
    pub fn parse(bytes: &[u8], format: Format, name: impl Into<String>) -> Result<EncryptedFile, FileError> {
        EncryptedFile::read(bytes, Some(format), name)
    }

    /// Reads an encrypted file, guessing its format from the content when `format` is `None`
    /// (stdin). Input that does not parse at all is an error of the file to decrypt (exit 1,
    /// as sops), not of plaintext input (2).
    pub fn read(bytes: &[u8], format: Option<Format>, name: impl Into<String>) -> Result<EncryptedFile, FileError> {
        let name = name.into();
        let parsed = match format {
            Some(format) => formats::parse(format, bytes, &name).map(|tree| (format, tree)),
            None => formats::parse_guessing(bytes, &name),
        };
        let (format, tree) = parsed.map_err(|e| match e {
            // Nothing in it, so no metadata either: what sops says of an empty file.
            FormatError::NoDocuments { file } => FileError::MetadataNotFound { file },
            // Refused for the work it would cause: the same refusal (exit 2) for every command.
            e if e.is_limit() => FileError::Format(e),
            e @ (FormatError::NotText { .. } | FormatError::Syntax { .. } | FormatError::Unsupported { .. }) => {
                FileError::Unreadable(e)
            }
            other => FileError::Format(other),
        })?;
        EncryptedFile::from_parsed(tree, format, name)
    }

    /// Takes a parsed tree as an encrypted file: its first document's `sops` block must read
    /// as metadata (sops reads the metadata of the first document only).
    pub fn from_parsed(
        tree: Tree<Parsed>,
        format: Format,
        name: impl Into<String>,
    ) -> Result<EncryptedFile, FileError> {
        let name = name.into();
        let (tree, node) = tree
            .into_encrypted()
            .ok_or_else(|| FileError::MetadataNotFound { file: name.clone() })?;
        let metadata = Metadata::from_node(&node, &name)?;
        Ok(EncryptedFile {
            name,
            format,
            tree,
            metadata,
        })
    }

    /// The file's name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The key paths of values the file's own rule says are encrypted but that are in clear
    /// (added or edited by hand after encryption). Needs no key.
    pub fn values_in_clear(&self) -> Vec<String> {
        let rule = self.metadata.effective_rule();
        crypt::values_in_clear(&self.tree, selection(&self.metadata, &rule))
    }

    /// Decrypts the file to read it: the plaintext tree, MAC checked as `mac` says.
    pub fn decrypt(self, identities: &Identities, mac: MacPolicy) -> Result<PlainFile, FileError> {
        let opened = self.open_with(identities, mac, false)?;
        Ok(PlainFile {
            name: opened.name,
            format: opened.format,
            tree: opened.plain,
            warnings: opened.warnings,
        })
    }

    /// Decrypts the file to change it: [`OpenFile::seal`] then writes it back with the same
    /// data key, keeping the ciphertext of every unchanged value.
    pub fn open(self, identities: &Identities, mac: MacPolicy) -> Result<OpenFile, FileError> {
        self.open_with(identities, mac, true)
    }

    /// Unwraps the data key and checks the MAC, leaving the values encrypted: for changes of
    /// the key stanzas only ([`UnlockedFile::rewrap`]), which must not bless a tampered file
    /// with fresh stanzas either.
    pub fn unlock(mut self, identities: &Identities, mac: MacPolicy) -> Result<UnlockedFile, FileError> {
        let key = keys::groups::unwrap(&self.metadata, identities, &self.name)?;
        let rule = self.metadata.effective_rule();
        let computed = crypt::mac_of_encrypted(&mut self.tree, &key, selection(&self.metadata, &rule), &self.name)?;
        check_mac(&self.metadata, &key, &computed, mac, &self.name)?;
        Ok(UnlockedFile { file: self, key, mac })
    }

    /// The door: unwrap the data key, decrypt every value (recording IVs when the file will
    /// be written back), check the MAC.
    fn open_with(self, identities: &Identities, mac: MacPolicy, keep_ivs: bool) -> Result<OpenFile, FileError> {
        let EncryptedFile {
            name,
            format,
            tree,
            metadata,
        } = self;
        let key = keys::groups::unwrap(&metadata, identities, &name)?;
        let rule = metadata.effective_rule();
        let selection = selection(&metadata, &rule);
        let decrypted = if keep_ivs {
            crypt::decrypt_keeping_ivs(tree, &key, selection, &name)?
        } else {
            crypt::decrypt(tree, &key, selection, &name)?
        };
        check_mac(&metadata, &key, &decrypted.mac, mac, &name)?;
        let mut plain = decrypted.tree;
        for doc in &mut plain.documents {
            doc.metadata = None;
        }
        Ok(OpenFile {
            name,
            format,
            metadata,
            key,
            plain,
            mac: decrypted.mac,
            mac_verified: mac == MacPolicy::Verify,
            stash: decrypted.stash,
            warnings: decrypted.warnings,
        })
    }
}

/// Which values the file's rule selects and what its MAC covers.
fn selection<'r>(metadata: &Metadata, rule: &'r EncryptionRule) -> Selection<'r> {
    Selection {
        rule,
        mac_only_encrypted: metadata.mac_only_encrypted,
    }
}

/// Compares the MAC computed over the values with the one the file stores (sealed under the
/// data key with `lastmodified` as AAD). Under [`MacPolicy::Ignore`] nothing is checked, not
/// even whether the stored MAC can be read.
fn check_mac(metadata: &Metadata, key: &DataKey, computed: &str, mac: MacPolicy, name: &str) -> Result<(), FileError> {
    if mac == MacPolicy::Ignore {
        return Ok(());
    }
    let stored = crypt::open_mac(&metadata.mac, key, &metadata.mac_aad(name)?, name)?;
    if stored.as_bytes() != computed.as_bytes() {
        return Err(FileError::MacMismatch { file: name.to_string() });
    }
    Ok(())
}

/// A decrypted file to read: its plaintext tree (no `sops` block) and what decryption noticed.
pub struct PlainFile {
    name: String,
    format: Format,
    tree: Tree<Plain>,
    warnings: Vec<String>,
}

impl PlainFile {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format the file was read in.
    pub fn format(&self) -> Format {
        self.format
    }

    pub fn tree(&self) -> &Tree<Plain> {
        &self.tree
    }

    /// Non-fatal findings (a comment the rule says is encrypted left in clear).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The plaintext tree and the warnings.
    pub fn into_parts(self) -> (Tree<Plain>, Vec<String>) {
        (self.tree, self.warnings)
    }
}

/// A file opened to be changed: its plaintext, and what writing it back needs (data key,
/// metadata, the IV of every value read).
pub struct OpenFile {
    name: String,
    format: Format,
    metadata: Metadata,
    key: DataKey,
    plain: Tree<Plain>,
    /// The MAC over the values as read.
    mac: String,
    /// The stored MAC was checked and matches (not so under [`MacPolicy::Ignore`]).
    mac_verified: bool,
    stash: Stash,
    warnings: Vec<String>,
}

impl OpenFile {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The decrypted values.
    pub fn plain(&self) -> &Tree<Plain> {
        &self.plain
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The same file under another name in messages (a side of a merge written back as the
    /// file itself).
    pub fn renamed(mut self, name: impl Into<String>) -> OpenFile {
        self.name = name.into();
        self
    }

    /// The decrypted tree, to change and hand to [`seal`](Self::seal); the file keeps an
    /// empty one.
    pub fn take_plain(&mut self) -> Tree<Plain> {
        std::mem::replace(&mut self.plain, Tree::new_plain(Vec::new()))
    }

    /// Whether `other` is under the same data key (two versions of one file neither of which
    /// was rotated).
    pub fn shares_data_key(&self, other: &OpenFile) -> bool {
        self.key.as_bytes() == other.key.as_bytes()
    }

    /// Lets values taken from `other` keep their ciphertext when written back. Only when both
    /// share the data key (a merge of two versions of one file); otherwise nothing changes.
    pub fn absorb_ivs(&mut self, other: OpenFile) {
        if self.shares_data_key(&other) {
            self.stash.absorb(other.stash);
        }
    }

    /// Encrypts a changed plaintext with the file's data key, rule and recipients. Unchanged
    /// values keep their ciphertext; when no value changed (and the MAC was verified),
    /// `lastmodified` and the MAC stay too, so the output is byte-identical to the input.
    pub fn seal(&self, plain: Tree<Plain>, options: &SealOptions) -> Result<Sealed, FileError> {
        let unchanged_mac = self.mac_verified.then_some(self.mac.as_str());
        let mut sealed = seal::seal(
            plain,
            seal::Sealing {
                name: &self.name,
                format: self.format,
                key: &self.key,
                metadata: self.metadata.clone(),
                stash: Some(&self.stash),
                unchanged_mac,
            },
            options,
        )?;
        sealed.warnings = self.warnings.clone();
        Ok(sealed)
    }

    /// Encrypts the values again under a new data key, wrapped into `key_groups` (with
    /// `shamir_threshold` shares needed): `rotate`. Every ciphertext, `lastmodified` and the
    /// MAC are new.
    pub fn rotate(
        mut self,
        key: DataKey,
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        options: &SealOptions,
    ) -> Result<Sealed, FileError> {
        let plain = self.take_plain();
        let mut metadata = self.metadata.clone();
        metadata.key_groups = key_groups;
        metadata.shamir_threshold = shamir_threshold;
        let mut sealed = seal::seal(
            plain,
            seal::Sealing {
                name: &self.name,
                format: self.format,
                key: &key,
                metadata,
                stash: None,
                unchanged_mac: None,
            },
            options,
        )?;
        sealed.warnings.splice(0..0, self.warnings);
        Ok(sealed)
    }
}

/// A file whose data key is unwrapped and whose MAC was checked, values still encrypted: the
/// start of a change of key stanzas, which writes every ciphertext, `lastmodified` and the MAC
/// back exactly as they were.
pub struct UnlockedFile {
    file: EncryptedFile,
    key: DataKey,
    /// How the MAC was checked; the output, which keeps the MAC, is read back the same way.
    mac: MacPolicy,
}

impl UnlockedFile {
    pub fn name(&self) -> &str {
        &self.file.name
    }

    pub fn format(&self) -> Format {
        self.file.format
    }

    pub fn metadata(&self) -> &Metadata {
        &self.file.metadata
    }

    /// The data key, to wrap for new recipients.
    pub fn data_key(&self) -> &DataKey {
        &self.key
    }

    /// Writes the file with these key groups (and threshold) in place of its own; values,
    /// `lastmodified` and the MAC stay as they are. The output is read back and must open with
    /// the data key (and match its MAC, unless the file was unlocked ignoring it: a key change
    /// neither repairs nor blesses a MAC).
    pub fn rewrap(
        self,
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        output: OutputOptions,
    ) -> Result<Sealed, FileError> {
        let UnlockedFile { file, key, mac } = self;
        let mut metadata = file.metadata;
        metadata.key_groups = key_groups;
        metadata.shamir_threshold = shamir_threshold;
        seal::write_encrypted(file.tree, &metadata, &key, mac, (&file.name, file.format), output)
    }
}

/// Whether bytes are an encrypted file as sops's `filestatus` decides it: sops metadata that
/// reads, with a version and a MAC. A file that does not parse is an error.
pub fn is_encrypted(input: &[u8], format: Format, file: &str) -> Result<bool, FormatError> {
    let tree = formats::parse(format, input, file)?;
    let Some(node) = tree.documents.first().and_then(|d| d.metadata.as_ref()) else {
        return Ok(false);
    };
    Ok(Metadata::from_node(node, file).is_ok_and(|m| !m.version.is_empty() && !m.mac.is_empty()))
}
