//! Encrypting and decrypting a tree's values, and the MAC over them.
//!
//! The walk is sops's: depth first in document order over every document; a leaf's AAD is the
//! mapping keys on its path joined with `:` plus a trailing `:` (sequence indices excluded,
//! comments use their container's path); nulls are skipped; the MAC is SHA-512 over the
//! canonical bytes of every non-comment leaf (only encrypted ones with `mac_only_encrypted`).

pub mod cipher;

use std::collections::HashMap;

use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::keys::DataKey;
use crate::rules::{CommentStack, EncryptionRule, PathVerdict};
use crate::scalar::{self, Decoded, ValueType};
use crate::tree::{Comment, Encrypted, Mapping, MappingItem, Node, Plain, Scalar, Sequence, SequenceItem, Tree, Value};
use cipher::{Ciphertext, IvSource, Opener, Sealer};

/// Why a value or the MAC could not be encrypted or decrypted. Messages name the key path,
/// never the value.
#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error("{file}: cannot encrypt {key_path}: {reason}")]
    EncryptValue {
        file: String,
        key_path: String,
        reason: String,
    },
    /// A value, its key path or the data key changed since the value was encrypted.
    #[error("{file}: cannot decrypt {key_path}: {reason}")]
    DecryptValue {
        file: String,
        key_path: String,
        reason: String,
    },
    /// The stored MAC (or the `lastmodified` it is sealed with) was edited.
    #[error("{file}: cannot decrypt the MAC: {reason}")]
    MacUnreadable { file: String, reason: String },
    #[error("{file}: cannot encrypt the MAC: {reason}")]
    MacEncrypt { file: String, reason: String },
}

/// What the MAC hash starts with under `mac_only_encrypted` (SHA-256 of "sops").
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// The IVs of values read from an encrypted file, so that writing the same value (same key
/// path, type and text) under the same data key gives the very same ciphertext: unchanged
/// values stay byte-identical and diffs show only real changes. An IV is only ever reused for
/// the identical plaintext and key path, which reveals nothing new.
///
/// Equal values under one key path (two equal items of a list, equal values in several
/// documents) keep one IV each, in document order: the n-th occurrence written gets the IV of
/// the n-th occurrence read. sops's stash keeps one IV per value, so after an edit such values
/// share a ciphertext and show they are equal, which fresh IVs had hidden.
#[derive(Default)]
pub struct Stash {
    ivs: HashMap<StashKey, Vec<cipher::Iv>>,
}

/// `aad`, type and plaintext of a value, zeroized on drop.
#[derive(PartialEq, Eq)]
struct StashKey(Zeroizing<Vec<u8>>);

impl std::hash::Hash for StashKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_slice().hash(state);
    }
}

impl StashKey {
    fn new(aad: &str, value_type: ValueType, plaintext: &[u8]) -> StashKey {
        let mut bytes = Zeroizing::new(Vec::with_capacity(aad.len() + plaintext.len() + 10));
        bytes.extend_from_slice(aad.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(value_type.name().as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(plaintext);
        StashKey(bytes)
    }
}

impl Stash {
    fn record(&mut self, aad: &str, value_type: ValueType, plaintext: &[u8], iv: &[u8]) {
        if let Ok(iv) = <cipher::Iv>::try_from(iv) {
            self.ivs
                .entry(StashKey::new(aad, value_type, plaintext))
                .or_default()
                .push(iv);
        }
    }

    /// The IV of the `occurrence`-th (from 0) value read with this key.
    fn find(&self, key: &StashKey, occurrence: usize) -> Option<cipher::Iv> {
        self.ivs.get(key)?.get(occurrence).copied()
    }

    /// Adds the values of another stash this one does not know. Only sound when both were
    /// recorded under the same data key (a merge of two versions of one file).
    pub fn absorb(&mut self, other: Stash) {
        for (key, iv) in other.ivs {
            self.ivs.entry(key).or_insert(iv);
        }
    }
}

impl std::fmt::Debug for Stash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stash({} values)", self.ivs.values().map(Vec::len).sum::<usize>())
    }
}

/// Which values a walk touches and what the MAC covers.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    pub rule: &'a EncryptionRule,
    pub mac_only_encrypted: bool,
}

/// Which plaintext of a leaf the MAC covers, after the action has run.
enum Hashed {
    /// Nothing (a finder, or a value that turned out to be a comment).
    Nothing,
    /// The scalar's value as it now stands (in clear).
    Current,
    /// The value the scalar held before the action replaced it.
    Previous(Value),
}

/// What a walk does at a leaf, besides hashing it.
trait LeafAction {
    /// Handles a scalar the rules select; says which plaintext to hash.
    fn value(&mut self, scalar: &mut Scalar, aad: &str, encrypted: bool) -> Result<Hashed, CryptError>;
    /// Handles a comment the rules select.
    fn comment(&mut self, comment: &mut Comment, aad: &str) -> Result<(), CryptError>;
    /// A sequence item that decrypted to a comment (sops 3.11 writes list comments as items).
    fn take_comment_item(&mut self) -> Option<Comment> {
        None
    }
}

/// Walks a tree the way sops does and computes the MAC as it goes.
struct Walk<'s, A> {
    selection: Selection<'s>,
    action: A,
    comments: CommentStack,
    aad: String,
    hash: Sha512,
    scratch: Zeroizing<Vec<u8>>,
}

impl<'s, A: LeafAction> Walk<'s, A> {
    fn new(selection: Selection<'s>, action: A) -> Self {
        let mut hash = Sha512::new();
        if selection.mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Walk {
            selection,
            action,
            comments: CommentStack::default(),
            aad: String::new(),
            hash,
            scratch: Zeroizing::new(Vec::new()),
        }
    }

    fn mac(self) -> String {
        hex_upper(&self.hash.finalize())
    }

    fn mapping(&mut self, m: &mut Mapping, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.push_level();
        for item in &mut m.items {
            match item {
                MappingItem::Comment(c) => self.comment(c, verdict)?,
                MappingItem::Entry(e) => {
                    let mark = self.aad.len();
                    self.aad.push_str(&e.key);
                    self.aad.push(':');
                    let verdict = verdict.descend(self.selection.rule, &e.key);
                    self.node(&mut e.value, verdict)?;
                    self.aad.truncate(mark);
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn sequence(&mut self, s: &mut Sequence, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.push_level();
        for item in &mut s.items {
            match item {
                SequenceItem::Comment(c) => self.comment(c, verdict)?,
                SequenceItem::Node(n) => {
                    self.node(n, verdict)?;
                    if let Some(comment) = self.action.take_comment_item() {
                        *item = SequenceItem::Comment(comment);
                    }
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn node(&mut self, node: &mut Node, verdict: PathVerdict) -> Result<(), CryptError> {
        match node {
            Node::Mapping(m) => self.mapping(m, verdict),
            Node::Sequence(s) => self.sequence(s, verdict),
            Node::Scalar(s) if s.value == Value::Null => Ok(()),
            Node::Scalar(s) => {
                let encrypted = self.selection.rule.should_encrypt(verdict, &self.comments, false);
                let aad = if self.aad.is_empty() { ":" } else { self.aad.as_str() };
                let hashed = self.action.value(s, aad, encrypted)?;
                let value = match &hashed {
                    Hashed::Nothing => return Ok(()),
                    Hashed::Current => &s.value,
                    Hashed::Previous(value) => value,
                };
                if !self.selection.mac_only_encrypted || encrypted {
                    self.scratch.clear();
                    scalar::write_canonical(value, &mut self.scratch);
                    self.hash.update(self.scratch.as_slice());
                }
                Ok(())
            }
        }
    }

    /// A comment is judged by its container's path (`verdict`) and the comments before it.
    fn comment(&mut self, c: &mut Comment, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.note_comment(&c.text);
        if self.selection.rule.should_encrypt(verdict, &self.comments, true) {
            let aad = self.aad_or_root().to_string();
            self.action.comment(c, &aad)?;
        }
        Ok(())
    }

    fn aad_or_root(&self) -> &str {
        if self.aad.is_empty() { ":" } else { &self.aad }
    }
}

/// A key path for messages: `data.password` from the AAD `data:password:`.
fn display_path(aad: &str) -> String {
    let trimmed = aad.strip_suffix(':').unwrap_or(aad);
    if trimmed.is_empty() {
        "(top level)".to_string()
    } else {
        trimmed.replace(':', ".")
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

// ---- Encryption -----------------------------------------------------------------------------

struct Encrypter<'a> {
    stash: Option<&'a Stash>,
    /// How many values of each stash key were sealed so far.
    stash_uses: HashMap<StashKey, usize>,
    encrypted_values: usize,
    sealer: Sealer,
    ivs: IvSource,
    file: &'a str,
    unencrypted_comment: Option<&'a crate::rules::Pattern>,
    plaintext: Zeroizing<Vec<u8>>,
}

impl Encrypter<'_> {
    fn error(&self, aad: &str, reason: String) -> CryptError {
        CryptError::EncryptValue {
            file: self.file.to_string(),
            key_path: display_path(aad),
            reason,
        }
    }

    fn seal(&mut self, aad: &str, value_type: ValueType) -> Result<String, CryptError> {
        let stashed = self.stash.and_then(|stash| {
            let key = StashKey::new(aad, value_type, &self.plaintext);
            let uses = self.stash_uses.get(&key).copied().unwrap_or(0);
            let iv = stash.find(&key, uses);
            self.stash_uses.insert(key, uses + 1);
            iv
        });
        let iv = match stashed {
            Some(iv) => iv,
            None => self.ivs.next_iv().map_err(|m| self.error(aad, m))?,
        };
        Ok(self.sealer.seal(&self.plaintext, aad.as_bytes(), &iv, value_type))
    }
}

impl LeafAction for Encrypter<'_> {
    fn value(&mut self, scalar: &mut Scalar, aad: &str, encrypted: bool) -> Result<Hashed, CryptError> {
        if !encrypted {
            return Ok(Hashed::Current);
        }
        let is_empty = matches!(&scalar.value, Value::Str(s) if s.is_empty())
            || matches!(&scalar.value, Value::Bytes(b) if b.is_empty());
        if is_empty {
            return Ok(Hashed::Current);
        }
        let value_type = ValueType::of(&scalar.value).expect("null values are skipped by the walk");
        self.plaintext.clear();
        scalar::write_canonical(&scalar.value, &mut self.plaintext);
        if !reads_back_as(&scalar.value, value_type, &self.plaintext) {
            return Err(self.error(
                aad,
                format!(
                    "its {} text does not read back as the same value (this is a ksec bug; nothing was written)",
                    value_type.name()
                ),
            ));
        }
        let sealed = self.seal(aad, value_type)?;
        self.encrypted_values += 1;
        let plain = std::mem::replace(&mut scalar.value, Value::str(sealed));
        scalar.modified = true;
        Ok(Hashed::Previous(plain))
    }

    fn comment(&mut self, comment: &mut Comment, aad: &str) -> Result<(), CryptError> {
        if comment.text.is_empty() {
            return Ok(());
        }
        self.plaintext.clear();
        self.plaintext.extend_from_slice(comment.text.as_bytes());
        let sealed = self.seal(aad, ValueType::Comment)?;
        if let Some(pattern) = self.unencrypted_comment
            && pattern.is_match(&sealed)
        {
            return Err(self.error(
                aad,
                "an encrypted comment matches unencrypted_comment_regex; choose a regex that cannot match ENC[...]"
                    .into(),
            ));
        }
        comment.replace(sealed);
        Ok(())
    }
}

/// Whether the text sops stores for a value (its GCM plaintext) decrypts back to that very
/// value: a number or time written wrongly would otherwise change silently on the next
/// decryption. Strings are their own text.
fn reads_back_as(value: &Value, value_type: ValueType, plaintext: &[u8]) -> bool {
    if matches!(value, Value::Str(_) | Value::Bytes(_)) {
        return true;
    }
    match (value, scalar::parse_plaintext(value_type, plaintext)) {
        (Value::Float(a), Ok(Decoded::Value(Value::Float(b)))) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        // Equal instants with different offsets are different times to sops (the offset is text).
        (Value::Time(a), Ok(Decoded::Value(Value::Time(b)))) => a.0 == b.0 && a.0.offset() == b.0.offset(),
        (a, Ok(Decoded::Value(b))) => *a == b,
        _ => false,
    }
}

/// Encrypts the selected values of a plaintext tree in place; returns the tree, its MAC
/// (uppercase hex of the SHA-512) and how many values (not comments) were encrypted. Values
/// found in `stash` (read from the previous version of the file, under the same key) keep
/// their ciphertext. Only the door (`sops_file`) calls this: it is half of writing a file.
pub(crate) fn encrypt_with_stash(
    mut tree: Tree<Plain>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
    stash: Option<&Stash>,
) -> Result<(Tree<Encrypted>, String, usize), CryptError> {
    let action = Encrypter {
        stash,
        stash_uses: HashMap::new(),
        encrypted_values: 0,
        sealer: Sealer::new(key),
        ivs: IvSource::default(),
        file,
        unencrypted_comment: selection.rule.unencrypted_comment_pattern(),
        plaintext: Zeroizing::new(Vec::new()),
    };
    let mut walk = Walk::new(selection, action);
    for doc in &mut tree.documents {
        walk.mapping(&mut doc.root, PathVerdict::default())?;
    }
    let count = walk.action.encrypted_values;
    Ok((tree.into_state(), walk.mac(), count))
}

// ---- Decryption -----------------------------------------------------------------------------

struct Decrypter<'a> {
    opener: Opener<'a>,
    /// Where IVs are recorded, when the caller will write the file back.
    stash: Option<Stash>,
    /// The AAD of the last value visited, for placing comments sops misfiled.
    last_value_aad: String,
    file: &'a str,
    pending_comment: Option<Comment>,
    warnings: Vec<String>,
}

impl Decrypter<'_> {
    fn error(&self, aad: &str, reason: String) -> CryptError {
        CryptError::DecryptValue {
            file: self.file.to_string(),
            key_path: display_path(aad),
            reason,
        }
    }
}

impl Decrypter<'_> {
    /// Decrypts a comment under `aad`; stashes its IV so it is written back identically.
    fn open_comment(&mut self, text: &str, aad: &str) -> Option<String> {
        let c = Ciphertext::parse(text).ok()?;
        let value_type = c.value_type;
        let iv = c.iv().to_vec();
        let plain = self.opener.open(c, aad.as_bytes()).ok()?;
        match scalar::parse_plaintext(value_type, &plain).ok()? {
            Decoded::Comment(text) => {
                if let Some(stash) = &mut self.stash {
                    stash.record(aad, ValueType::Comment, text.as_bytes(), &iv);
                }
                Some(text)
            }
            Decoded::Value(_) => None,
        }
    }
}

/// The AADs of the collections enclosing `aad` (`a:b:` → `a:`, `:`).
fn ancestors(aad: &str) -> impl Iterator<Item = String> + '_ {
    let trimmed = aad.strip_suffix(':').unwrap_or(aad);
    let mut cuts: Vec<String> = trimmed
        .match_indices(':')
        .map(|(i, _)| trimmed[..=i].to_string())
        .collect();
    cuts.reverse();
    let root = (aad != ":").then(|| ":".to_string());
    cuts.into_iter().chain(root)
}

/// The AADs of collections inside `aad` on the path of the last value read (the collection a
/// comment after a nested block may be filed under).
fn descendants(aad: &str, last: &str) -> Vec<String> {
    let base = if aad == ":" { "" } else { aad };
    if !last.starts_with(base) {
        return Vec::new();
    }
    last[base.len()..]
        .match_indices(':')
        .map(|(i, _)| last[..base.len() + i + 1].to_string())
        .collect()
}

impl LeafAction for Decrypter<'_> {
    fn value(&mut self, scalar: &mut Scalar, aad: &str, encrypted: bool) -> Result<Hashed, CryptError> {
        self.last_value_aad.clear();
        self.last_value_aad.push_str(aad);
        if !encrypted {
            return Ok(Hashed::Current);
        }
        let text = match &scalar.value {
            Value::Str(s) if s.is_empty() => return Ok(Hashed::Current),
            Value::Str(s) => s,
            other => {
                let kind = ValueType::of(other).map_or("null", |t| t.name());
                return Err(self.error(aad, format!("expected an encrypted value, found a plain {kind}")));
            }
        };
        let ciphertext = Ciphertext::parse(text).map_err(|m| self.error(aad, m))?;
        let value_type = ciphertext.value_type;
        let iv = self.stash.is_some().then(|| ciphertext.iv().to_vec());
        let plaintext = self
            .opener
            .open(ciphertext, aad.as_bytes())
            .map_err(|m| self.error(aad, m))?;
        let decoded = scalar::parse_plaintext(value_type, &plaintext).map_err(|m| self.error(aad, m))?;
        match decoded {
            Decoded::Value(value) => {
                // Only a canonical plaintext may be stashed: the IV is reused for these bytes.
                if let (Some(stash), Some(iv)) = (&mut self.stash, &iv) {
                    let mut canonical = Zeroizing::new(Vec::new());
                    scalar::write_canonical(&value, &mut canonical);
                    if canonical.as_slice() == plaintext.as_slice() {
                        stash.record(aad, value_type, &plaintext, iv);
                    }
                }
                scalar.replace(value);
                Ok(Hashed::Current)
            }
            Decoded::Comment(text) => {
                let mut comment = Comment::new(text);
                comment.origin = scalar.origin;
                self.pending_comment = Some(comment);
                Ok(Hashed::Nothing)
            }
        }
    }

    fn comment(&mut self, comment: &mut Comment, aad: &str) -> Result<(), CryptError> {
        if comment.text.is_empty() {
            return Ok(());
        }
        if !cipher::looks_encrypted(&comment.text) {
            self.warnings.push(format!(
                "{}: a comment under {} is not encrypted; it was left as is",
                self.file,
                display_path(aad)
            ));
            return Ok(());
        }
        // sops 3.11 sometimes files a comment under one collection when it encrypts and under
        // another when it reads the file back, and then cannot decrypt it. The comment's AAD
        // is one of the paths around it; GCM tells which one is right.
        let candidates = std::iter::once(aad.to_string())
            .chain(ancestors(aad))
            .chain(descendants(aad, &self.last_value_aad));
        for candidate in candidates {
            if let Some(text) = self.open_comment(&comment.text, &candidate) {
                comment.replace(text);
                return Ok(());
            }
        }
        self.warnings.push(format!(
            "{}: a comment under {} cannot be decrypted; it was left as is",
            self.file,
            display_path(aad)
        ));
        Ok(())
    }

    fn take_comment_item(&mut self) -> Option<Comment> {
        self.pending_comment.take()
    }
}

/// The result of decrypting a tree.
pub struct Decrypted {
    pub tree: Tree<Plain>,
    /// The MAC recomputed over the decrypted values.
    pub mac: String,
    /// Non-fatal findings (unencrypted comments where the rules say encrypted).
    pub warnings: Vec<String>,
    /// The IVs of the values read, to write unchanged values back identically (empty unless
    /// asked for with [`decrypt_keeping_ivs`]).
    pub stash: Stash,
}

/// Decrypts the selected values of an encrypted tree in place.
pub(crate) fn decrypt(
    tree: Tree<Encrypted>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
) -> Result<Decrypted, CryptError> {
    decrypt_into(tree, key, selection, file, None)
}

/// [`decrypt`], also recording each value's IV in [`Decrypted::stash`], for a file that will
/// be written back with its unchanged values as they were.
pub(crate) fn decrypt_keeping_ivs(
    tree: Tree<Encrypted>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
) -> Result<Decrypted, CryptError> {
    decrypt_into(tree, key, selection, file, Some(Stash::default()))
}

fn decrypt_into(
    mut tree: Tree<Encrypted>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
    stash: Option<Stash>,
) -> Result<Decrypted, CryptError> {
    let action = Decrypter {
        opener: Opener::new(key),
        stash,
        last_value_aad: String::new(),
        file,
        pending_comment: None,
        warnings: Vec::new(),
    };
    let mut walk = Walk::new(selection, action);
    for doc in &mut tree.documents {
        walk.mapping(&mut doc.root, PathVerdict::default())?;
    }
    let warnings = std::mem::take(&mut walk.action.warnings);
    let stash = walk.action.stash.take().unwrap_or_default();
    Ok(Decrypted {
        tree: tree.into_state(),
        mac: walk.mac(),
        warnings,
        stash,
    })
}

// ---- Verifying without changing the tree ---------------------------------------------------

/// Decrypts each selected value only to hash it, leaving the ciphertext in place: what a key
/// change (`updatekeys`, `groups`) needs to know the values match the MAC before it writes the
/// same ciphertexts under new key stanzas.
struct Verifier<'a> {
    opener: Opener<'a>,
    file: &'a str,
}

impl LeafAction for Verifier<'_> {
    fn value(&mut self, scalar: &mut Scalar, aad: &str, encrypted: bool) -> Result<Hashed, CryptError> {
        let error = |reason: String| CryptError::DecryptValue {
            file: self.file.to_string(),
            key_path: display_path(aad),
            reason,
        };
        let text = match &scalar.value {
            _ if !encrypted => return Ok(Hashed::Current),
            Value::Str(s) if s.is_empty() => return Ok(Hashed::Current),
            Value::Str(s) => s,
            other => {
                let kind = ValueType::of(other).map_or("null", |t| t.name());
                return Err(error(format!("expected an encrypted value, found a plain {kind}")));
            }
        };
        let ciphertext = Ciphertext::parse(text).map_err(error)?;
        let value_type = ciphertext.value_type;
        let plaintext = self.opener.open(ciphertext, aad.as_bytes()).map_err(error)?;
        match scalar::parse_plaintext(value_type, &plaintext).map_err(error)? {
            Decoded::Value(value) => Ok(Hashed::Previous(value)),
            // A list item sops 3.11 wrote for a comment: not a value, not in the MAC.
            Decoded::Comment(_) => Ok(Hashed::Nothing),
        }
    }

    fn comment(&mut self, _comment: &mut Comment, _aad: &str) -> Result<(), CryptError> {
        Ok(())
    }
}

/// The MAC over an encrypted tree's values, decrypting each to hash it; the tree is left as it
/// was (its ciphertexts untouched).
pub(crate) fn mac_of_encrypted(
    tree: &mut Tree<Encrypted>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
) -> Result<String, CryptError> {
    let verifier = Verifier {
        opener: Opener::new(key),
        file,
    };
    let mut walk = Walk::new(selection, verifier);
    for doc in &mut tree.documents {
        walk.mapping(&mut doc.root, PathVerdict::default())?;
    }
    Ok(walk.mac())
}

// ---- Checking without a key -----------------------------------------------------------------

/// Records the values the rules say are encrypted but that are not `ENC[...]` strings.
struct ClearFinder {
    found: Vec<String>,
}

impl LeafAction for ClearFinder {
    fn value(&mut self, scalar: &mut Scalar, aad: &str, encrypted: bool) -> Result<Hashed, CryptError> {
        let in_clear = match &scalar.value {
            Value::Str(s) => !s.is_empty() && !cipher::looks_encrypted(s),
            Value::Null => false,
            _ => true,
        };
        if encrypted && in_clear {
            self.found.push(display_path(aad));
        }
        Ok(Hashed::Nothing)
    }

    fn comment(&mut self, _comment: &mut Comment, _aad: &str) -> Result<(), CryptError> {
        Ok(())
    }
}

/// The key paths of values an encrypted file's own rule says are encrypted but that are in
/// clear (added or edited by hand after encryption). Needs no key.
pub fn values_in_clear(tree: &Tree<Encrypted>, selection: Selection<'_>) -> Vec<String> {
    let mut tree = tree.clone();
    let mut walk = Walk::new(selection, ClearFinder { found: Vec::new() });
    for doc in &mut tree.documents {
        // A finder never fails.
        let _ = walk.mapping(&mut doc.root, PathVerdict::default());
    }
    walk.action.found
}

// ---- The MAC --------------------------------------------------------------------------------

/// Encrypts the MAC for the metadata; its AAD is the `lastmodified` text.
pub(crate) fn seal_mac(mac: &str, key: &DataKey, last_modified: &str, file: &str) -> Result<String, CryptError> {
    let iv = IvSource::default().next_iv().map_err(|reason| CryptError::MacEncrypt {
        file: file.to_string(),
        reason,
    })?;
    Ok(Sealer::new(key).seal(mac.as_bytes(), last_modified.as_bytes(), &iv, ValueType::Str))
}

/// Decrypts the stored MAC; `aad` is `lastmodified` re-formatted as sops does.
pub(crate) fn open_mac(stored: &str, key: &DataKey, aad: &str, file: &str) -> Result<String, CryptError> {
    let unreadable = |reason: String| CryptError::MacUnreadable {
        file: file.to_string(),
        reason,
    };
    if stored.is_empty() {
        return Err(unreadable("the file has no MAC".into()));
    }
    let ciphertext = Ciphertext::parse(stored).map_err(unreadable)?;
    let plain = Opener::new(key).open(ciphertext, aad.as_bytes()).map_err(unreadable)?;
    String::from_utf8(plain.to_vec()).map_err(|_| unreadable("the MAC is not text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Document, Entry};
    use std::collections::HashSet;

    fn key() -> DataKey {
        DataKey::from_bytes(&[9u8; 32]).unwrap()
    }

    fn entry(key: &str, value: Node) -> MappingItem {
        MappingItem::Entry(Entry::new(key, value))
    }

    fn sample() -> Tree<Plain> {
        let mut data = Mapping::default();
        data.items.push(MappingItem::Comment(Comment::new(" inside data")));
        data.items.push(entry("password", Node::scalar(Value::str("hunter2"))));
        data.items.push(entry("port", Node::scalar(Value::Int(5432))));
        data.items.push(entry("empty", Node::scalar(Value::str(""))));
        data.items.push(entry("nothing", Node::scalar(Value::Null)));
        let mut list = Sequence::default();
        list.items.push(SequenceItem::Node(Node::scalar(Value::Float(1.5))));
        list.items.push(SequenceItem::Node(Node::scalar(Value::Bool(true))));
        data.items.push(entry("list", Node::Sequence(list)));
        let mut root = Mapping::default();
        root.items.push(MappingItem::Comment(Comment::new(" top")));
        root.items.push(entry("kind", Node::scalar(Value::str("Secret"))));
        root.items.push(entry("data", Node::Mapping(data)));
        Tree::new_plain(vec![Document {
            root,
            metadata: None,
            layout: None,
        }])
    }

    fn value_at<'a>(tree: &'a Tree<impl Sized>, path: &[&str]) -> &'a Value {
        let mut node = tree.documents[0].root.get(path[0]).unwrap();
        for key in &path[1..] {
            node = node.as_mapping().unwrap().get(key).unwrap();
        }
        node.as_value().unwrap()
    }

    #[test]
    fn round_trip_restores_values_and_the_mac_matches() {
        let rule = EncryptionRule::from_field("encrypted_regex", "^data$").unwrap();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let (encrypted, mac, count) = encrypt_with_stash(sample(), &key(), selection, "t.yaml", None).unwrap();
        assert_eq!(count, 4);
        assert_eq!(value_at(&encrypted, &["kind"]), &Value::str("Secret"));
        let password = value_at(&encrypted, &["data", "password"]).as_str().unwrap();
        assert!(password.starts_with("ENC[AES256_GCM,data:") && password.ends_with(",type:str]"));
        assert!(
            value_at(&encrypted, &["data", "port"])
                .as_str()
                .unwrap()
                .ends_with(",type:int]")
        );
        assert_eq!(value_at(&encrypted, &["data", "empty"]), &Value::str(""));
        assert_eq!(value_at(&encrypted, &["data", "nothing"]), &Value::Null);

        let decrypted = decrypt(encrypted, &key(), selection, "t.yaml").unwrap();
        assert_eq!(decrypted.mac, mac);
        assert_eq!(
            crate::tree::Data::from(&decrypted.tree.documents[0].root),
            crate::tree::Data::from(&sample().documents[0].root)
        );
    }

    fn list_ciphertexts(tree: &Tree<Encrypted>) -> Vec<String> {
        let Some(Node::Sequence(list)) = tree.documents[0].root.get("list") else {
            panic!("list is a sequence")
        };
        list.items
            .iter()
            .map(|item| match item {
                SequenceItem::Node(Node::Scalar(s)) => s.value.as_str().unwrap().to_string(),
                other => panic!("not a scalar: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn equal_values_under_one_path_keep_their_own_ciphertexts_when_written_back() {
        let rule = EncryptionRule::default();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let mut list = Sequence::default();
        for text in ["same", "same", "other", "same"] {
            list.items.push(SequenceItem::Node(Node::scalar(Value::str(text))));
        }
        let mut root = Mapping::default();
        root.items.push(entry("list", Node::Sequence(list)));
        let plain = Tree::new_plain(vec![Document {
            root,
            metadata: None,
            layout: None,
        }]);
        let (encrypted, _, _) = encrypt_with_stash(plain, &key(), selection, "t.yaml", None).unwrap();
        let before = list_ciphertexts(&encrypted);
        let unique: HashSet<&String> = before.iter().collect();
        assert_eq!(unique.len(), 4, "fresh IVs hide which items are equal: {before:?}");

        let decrypted = decrypt_keeping_ivs(encrypted, &key(), selection, "t.yaml").unwrap();
        let (again, _, _) =
            encrypt_with_stash(decrypted.tree, &key(), selection, "t.yaml", Some(&decrypted.stash)).unwrap();
        assert_eq!(list_ciphertexts(&again), before, "each item keeps its own ciphertext");
    }

    #[test]
    fn mac_is_sha512_over_canonical_leaves_in_order() {
        let rule = EncryptionRule::default();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let (_, mac, _) = encrypt_with_stash(sample(), &key(), selection, "t", None).unwrap();
        let expected = hex_upper(&Sha512::digest(b"Secrethunter254321.5True"));
        assert_eq!(mac, expected);

        let only = Selection {
            rule: &EncryptionRule::from_field("encrypted_regex", "^password$").unwrap(),
            mac_only_encrypted: true,
        };
        let (_, mac, _) = encrypt_with_stash(sample(), &key(), only, "t", None).unwrap();
        let mut h = Sha512::new();
        h.update(MAC_ONLY_ENCRYPTED_INIT);
        h.update(b"hunter2");
        assert_eq!(mac, hex_upper(&h.finalize()));
    }

    #[test]
    fn tampering_with_a_key_path_is_a_decrypt_error_naming_the_path() {
        let rule = EncryptionRule::default();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let (mut encrypted, _, _) = encrypt_with_stash(sample(), &key(), selection, "t.yaml", None).unwrap();
        let MappingItem::Entry(e) = &mut encrypted.documents[0].root.items[1] else {
            panic!()
        };
        e.key = "kind2".into();
        let err = decrypt(encrypted, &key(), selection, "t.yaml").err().unwrap();
        assert!(matches!(err, CryptError::DecryptValue { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("kind2") && !message.contains("Secret"), "{message}");
    }

    #[test]
    fn the_mac_of_an_encrypted_tree_is_that_of_its_decryption_and_leaves_it_encrypted() {
        let rule = EncryptionRule::from_field("encrypted_regex", "^data$").unwrap();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let (mut encrypted, mac, _) = encrypt_with_stash(sample(), &key(), selection, "t.yaml", None).unwrap();
        let before = format!("{:?}", crate::tree::Data::from(&encrypted.documents[0].root));
        assert_eq!(
            mac_of_encrypted(&mut encrypted, &key(), selection, "t.yaml").unwrap(),
            mac
        );
        let after = format!("{:?}", crate::tree::Data::from(&encrypted.documents[0].root));
        assert_eq!(before, after, "the ciphertexts stay as they were");
        let wrong = DataKey::from_bytes(&[1u8; 32]).unwrap();
        let err = mac_of_encrypted(&mut encrypted, &wrong, selection, "t.yaml").unwrap_err();
        assert!(matches!(err, CryptError::DecryptValue { .. }), "{err}");
    }

    #[test]
    fn comment_aad_candidates_are_the_paths_around_it() {
        assert_eq!(ancestors("a:b:c:").collect::<Vec<_>>(), ["a:b:", "a:", ":"]);
        assert_eq!(ancestors(":").count(), 0);
        assert_eq!(descendants("a:", "a:b:c:"), ["a:b:", "a:b:c:"]);
        assert_eq!(descendants(":", "x:y:"), ["x:", "x:y:"]);
        assert!(descendants("a:", "z:y:").is_empty());
    }

    #[test]
    fn mac_survives_sealing() {
        let sealed = seal_mac("ABC", &key(), "2025-01-01T00:00:00Z", "t").unwrap();
        assert_eq!(open_mac(&sealed, &key(), "2025-01-01T00:00:00Z", "t").unwrap(), "ABC");
        assert!(matches!(
            open_mac(&sealed, &key(), "2025-01-01T00:00:01Z", "t"),
            Err(CryptError::MacUnreadable { .. })
        ));
        assert!(matches!(
            open_mac("", &key(), "x", "t"),
            Err(CryptError::MacUnreadable { .. })
        ));
    }
}
