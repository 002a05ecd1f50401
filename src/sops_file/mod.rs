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
use crate::formats::{self, Format, FormatError, InputBytes, OutputOptions};
use crate::keys::{self, DataKey, Identities};
use crate::metadata::{KeyGroup, Metadata};
use crate::rules::EncryptionRule;
use crate::tree::{Encrypted, MappingItem, Node, Parsed, Plain, SequenceItem, Tree, Value};

pub use error::{FileError, ReadBackFault};
pub use seal::{NewFile, SealOptions, Sealed, create};
pub(crate) use seal::{same_documents, same_value};

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
    pub fn read<'a>(
        bytes: impl Into<InputBytes<'a>>,
        format: Option<Format>,
        name: impl Into<String>,
    ) -> Result<EncryptedFile, FileError> {
        let name = name.into();
        let bytes = bytes.into();
        let parsed = match format {
            Some(format) => formats::parse(format, bytes, &name).map(|tree| (format, tree)),
            None => formats::parse_guessing(&bytes, &name),
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
        let selection = selection(&self.metadata, &rule);
        let float64_reading = (self.format == Format::Json)
            .then(|| with_float64_ints(&self.tree))
            .flatten();
        let computed = crypt::mac_of_encrypted(&mut self.tree, &key, selection, &self.name)?;
        if let Err(mismatch) = check_mac(&self.metadata, &key, &computed, mac, &self.name) {
            check_mac_as_sops_3_11(float64_reading, &self.metadata, &key, selection, &self.name).ok_or(mismatch)?;
        }
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
        let float64_reading = (format == Format::Json).then(|| with_float64_ints(&tree)).flatten();
        let decrypted = if keep_ivs {
            crypt::decrypt_keeping_ivs(tree, &key, selection, &name)?
        } else {
            crypt::decrypt(tree, &key, selection, &name)?
        };
        if let Err(mismatch) = check_mac(&metadata, &key, &decrypted.mac, mac, &name) {
            check_mac_as_sops_3_11(float64_reading, &metadata, &key, selection, &name).ok_or(mismatch)?;
        }
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

/// sops 3.11 read JSON numbers as float64, so its MAC covers a clear integer beyond 2^53 as its
/// float rounding (9007199254740993 as …992); sops 3.13, and ksec, cover the integer. sops 3.11
/// writes the rounding itself, but a writer that keeps the clear text (ksec 0.1) left the exact
/// integer beside a MAC over its rounding, which sops 3.11 accepts. A JSON file holding such a
/// value (`float64_reading`: the tree with those integers as floats, from [`with_float64_ints`])
/// whose MAC fails the 3.13 way is checked the 3.11 way, so those files still open. `Some(())`
/// when that MAC matches.
fn check_mac_as_sops_3_11(
    float64_reading: Option<Tree<Encrypted>>,
    metadata: &Metadata,
    key: &DataKey,
    selection: Selection<'_>,
    name: &str,
) -> Option<()> {
    let mut tree = float64_reading?;
    let computed = crypt::mac_of_encrypted(&mut tree, key, selection, name).ok()?;
    check_mac(metadata, key, &computed, MacPolicy::Verify, name).ok()
}

/// The tree with every clear integer that a float64 cannot hold exactly made the float sops
/// 3.11 read it as; `None` when there is none (then both readings agree, and nothing is copied).
fn with_float64_ints(tree: &Tree<Encrypted>) -> Option<Tree<Encrypted>> {
    let roots = |tree: &Tree<Encrypted>| tree.documents.iter().any(|doc| doc.root.items.iter().any(entry_beyond));
    if !roots(tree) {
        return None;
    }
    let mut copy = tree.clone();
    for doc in &mut copy.documents {
        for item in &mut doc.root.items {
            if let MappingItem::Entry(e) = item {
                round_beyond(&mut e.value);
            }
        }
    }
    Some(copy)
}

/// An integer a float64 cannot hold exactly.
fn beyond_float64(value: &Value) -> bool {
    matches!(value, Value::Int(i) if i.unsigned_abs() > 1 << 53)
}

fn entry_beyond(item: &MappingItem) -> bool {
    matches!(item, MappingItem::Entry(e) if node_beyond(&e.value))
}

fn node_beyond(node: &Node) -> bool {
    match node {
        Node::Mapping(m) => m.items.iter().any(entry_beyond),
        Node::Sequence(s) => s
            .items
            .iter()
            .any(|i| matches!(i, SequenceItem::Node(n) if node_beyond(n))),
        Node::Scalar(scalar) => beyond_float64(&scalar.value),
    }
}

fn round_beyond(node: &mut Node) {
    match node {
        Node::Mapping(m) => {
            for item in &mut m.items {
                if let MappingItem::Entry(e) = item {
                    round_beyond(&mut e.value);
                }
            }
        }
        Node::Sequence(s) => {
            for item in &mut s.items {
                if let SequenceItem::Node(n) = item {
                    round_beyond(n);
                }
            }
        }
        Node::Scalar(scalar) => {
            if let Value::Int(i) = scalar.value
                && beyond_float64(&scalar.value)
            {
                // The rounding Go's float64 parse gives: that is the point here.
                scalar.value = Value::Float(i as f64);
            }
        }
    }
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
        sealed.warnings.splice(0..0, self.warnings.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file as ksec writes it for a Cloud KMS key and a Key Vault key (from a run against the
    /// tests' mock services, with the addresses and ciphertexts of real ones put in).
    const CLOUD_KEYS_FILE: &str = "\
password: ENC[AES256_GCM,data:sW7HL8MAew==,iv:vvlF1+EVVCocfC1DK1wxUzrpjwdx/8nUwFphPseMt4Q=,tag:KPtMUp+cSZLLJoT35O/j8g==,type:str]
port: ENC[AES256_GCM,data:H9iTsQ==,iv:JjlshcugMFCm12XVTjpa9uH/IUc081SR8XpEs+X9N2w=,tag:8Hu7il2fyFadX+L6COKf2A==,type:int]
sops:
    gcp_kms:
        - resource_id: projects/ksec-test/locations/global/keyRings/ring/cryptoKeys/key
          created_at: \"2026-12-06T06:44:23Z\"
          enc: CiQAvHpXp0vNtwrTkiqh6b8HkVvT8N2n3uwBXuKGzXo8mRSv7sASSQBK2Mm4IyxaDjzUdN1m0Hn7Z0UfnU4pJ8oxAmJJwMJ9NzT0yXq3Yw2nq6ipTyAcYP9UlK2Yb4j7A5Qz9mVn8hd1f9aPVS1EGxg=
    azure_kv:
        - vault_url: https://ksec-test.vault.azure.net
          name: sops-key
          version: 0123456789abcdef0123456789abcdef
          created_at: \"2026-12-06T06:44:23Z\"
          enc: h3Ud0Hf0ZxBvTN5hyd7bW0cA2E3I9mE2VbEr5JbQeBnOq9sS1oFfq1fB0u1b3x7sY9lO7w2bLk6fJ2Ghn2z9rE6pQ4tOe2fL8vB1cJ0sUmR3aN5yT7wXk4dPq9vZ6hG1jK8iL3oM0nC2eF5gH7jI9kL
    lastmodified: \"2026-12-06T06:44:23Z\"
    mac: ENC[AES256_GCM,data:K1k3taHfu0qTqyGe1K9Jcnlo4ksLCuXI/woFM3TxAo0ItKcR7kNdd7zopPGJca0JaN+vk8LhuIfjXJ9SEXPCDQfxZq6oE/WtVQgKmc2hUUKTOglZpsRxmFsRbT+gClXlsj14Sw08OeeRqY1ofySvmEC+NFR6PXnfYV9vCKvx3KQ=,iv:1xPkGEgESppokaDBjQFbvMk/AwMKvbkZVW1A9MMjhGI=,tag:zzj+zilCLOpKsmgd2xQrEQ==,type:str]
    unencrypted_suffix: _unencrypted
    version: 3.11.0
";

    #[test]
    fn gcp_kms_and_azure_kv_entries_written_by_ksec_read_and_write_back_byte_for_byte() {
        let file = EncryptedFile::parse(CLOUD_KEYS_FILE.as_bytes(), Format::Yaml, "f.enc.yaml").unwrap();
        let group = &file.metadata().key_groups[0];
        assert_eq!(
            group.gcp_kms[0].resource_id,
            "projects/ksec-test/locations/global/keyRings/ring/cryptoKeys/key"
        );
        assert_eq!(group.azure_kv[0].vault_url, "https://ksec-test.vault.azure.net");
        assert_eq!(group.azure_kv[0].version, "0123456789abcdef0123456789abcdef");
        assert_eq!(group.azure_kv[0].created_at, "2026-12-06T06:44:23Z");
        // The metadata block is written from the typed metadata alone: once beside the values as
        // they were, once for a tree that lost its layout.
        for forget_layout in [false, true] {
            let mut tree = formats::parse(Format::Yaml, CLOUD_KEYS_FILE.as_bytes(), "f.enc.yaml").unwrap();
            if forget_layout {
                tree.forget_layout();
            }
            for document in &mut tree.documents {
                document.metadata = Some(file.metadata().to_node());
            }
            let written = formats::emit(Format::Yaml, &mut tree, Format::Yaml, OutputOptions::default()).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                CLOUD_KEYS_FILE,
                "forget_layout: {forget_layout}"
            );
        }
    }
}
