//! Encrypting and decrypting a tree's values, and the MAC over them.
//!
//! The walk is sops's: depth first in document order over every document; a leaf's AAD is the
//! mapping keys on its path joined with `:` plus a trailing `:` (sequence indices excluded,
//! comments use their container's path); nulls are skipped; the MAC is SHA-512 over the
//! canonical bytes of every non-comment leaf (only encrypted ones with `mac_only_encrypted`).

pub mod cipher;
mod walk;

use std::collections::HashMap;

use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::keys::DataKey;
use crate::rules::EncryptionRule;
use crate::scalar::{self, Decoded, ValueType};
use crate::tree::{Comment, Encrypted, Plain, Scalar, Tree, Value};
use cipher::{Ciphertext, IvSource, Opener, Sealer};
use walk::{Leaf, Visitor};

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

/// SHA-512 over the canonical bytes of the values the MAC covers, in document order.
struct MacHash {
    hash: Sha512,
    mac_only_encrypted: bool,
    scratch: Zeroizing<Vec<u8>>,
    /// Short values gathered before they are hashed: the hash's own buffering costs more
    /// per call than the copy (a third of the MAC of 150,000 values went to it).
    pending: Zeroizing<Vec<u8>>,
}

/// How many bytes of short values [`MacHash`] gathers before hashing them.
const MAC_BATCH: usize = 8 << 10;

impl MacHash {
    fn new(mac_only_encrypted: bool) -> MacHash {
        let mut hash = Sha512::new();
        if mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        MacHash {
            hash,
            mac_only_encrypted,
            scratch: Zeroizing::new(Vec::new()),
            pending: Zeroizing::new(Vec::new()),
        }
    }

    /// Hashes `bytes` after what is pending: a short value is gathered, a long one hashed
    /// where it is.
    fn update(&mut self, bytes: &[u8]) {
        if self.pending.len() + bytes.len() > MAC_BATCH {
            self.hash.update(self.pending.as_slice());
            self.pending.clear();
        }
        if bytes.len() >= MAC_BATCH {
            self.hash.update(bytes);
        } else {
            if self.pending.capacity() == 0 {
                self.pending.reserve_exact(MAC_BATCH);
            }
            self.pending.extend_from_slice(bytes);
        }
    }

    /// Adds a value (in clear) unless the MAC covers only encrypted values and it is not one.
    fn value(&mut self, value: &Value, encrypted: bool) {
        if self.mac_only_encrypted && !encrypted {
            return;
        }
        // A string's canonical bytes are the string: hashed where it is, not copied first.
        if let Value::Str(s) = value {
            self.update(s.as_bytes());
        } else if let Value::Bytes(b) = value {
            self.update(b.as_slice());
        } else {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            scalar::write_canonical(value, &mut scratch);
            self.update(scratch.as_slice());
            self.scratch = scratch;
        }
    }

    /// Adds a value's canonical bytes, already at hand.
    fn canonical(&mut self, bytes: &[u8], encrypted: bool) {
        if !self.mac_only_encrypted || encrypted {
            self.update(bytes);
        }
    }

    fn finish(mut self) -> String {
        self.hash.update(self.pending.as_slice());
        hex_upper(&self.hash.finalize())
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

/// What the sequential walk settles for a value before it is sealed: its text and IV (drawn in
/// document order, so the file is the same whatever the number of threads).
enum ToSeal {
    /// Left in clear (the rule says so, or an empty string).
    Clear,
    Value {
        /// The canonical bytes sealed and hashed. Empty during the walk for a string or bytes
        /// value: their own buffer is moved here after it ([`take_own_bytes`]), not copied.
        plaintext: Zeroizing<Vec<u8>>,
        iv: cipher::Iv,
        value_type: ValueType,
    },
}

/// Moves the buffer of every string and bytes value about to be sealed out of the tree into
/// its leaf: a value's canonical bytes are its own bytes, and the tree's copy is replaced by
/// the `ENC[...]` string anyway. A copy would double the memory of a file of large values
/// (a 10 MiB value peaked at five buffers of its size) and cost an allocation per value.
fn take_own_bytes(leaves: &mut [Leaf<'_, ToSeal>]) {
    for leaf in leaves {
        let ToSeal::Value { plaintext, .. } = &mut leaf.prepared else {
            continue;
        };
        if !plaintext.is_empty() {
            continue;
        }
        match &mut leaf.slot.scalar_mut().value {
            Value::Str(text) => *plaintext = Zeroizing::new(std::mem::take(&mut **text).into_bytes()),
            Value::Bytes(bytes) => *plaintext = std::mem::take(bytes),
            _ => unreachable!("only strings and bytes are left to take after the walk"),
        }
    }
}

/// The sequential part of encryption: comments sealed on the spot, values given their IV.
struct Encrypter<'a> {
    stash: Option<&'a Stash>,
    /// How many values of each stash key were sealed so far.
    stash_uses: HashMap<StashKey, usize>,
    sealer: Sealer,
    ivs: IvSource,
    file: &'a str,
    unencrypted_comment: Option<&'a crate::rules::Pattern>,
}

impl Encrypter<'_> {
    fn error(&self, aad: &str, reason: String) -> CryptError {
        CryptError::EncryptValue {
            file: self.file.to_string(),
            key_path: display_path(aad),
            reason,
        }
    }

    /// The IV for `plaintext` under `aad`: the one it had in the previous version of the file
    /// (same key path, type and text), else a fresh one.
    fn iv(&mut self, aad: &str, value_type: ValueType, plaintext: &[u8]) -> Result<cipher::Iv, CryptError> {
        let stashed = self.stash.and_then(|stash| {
            let key = StashKey::new(aad, value_type, plaintext);
            let uses = self.stash_uses.get(&key).copied().unwrap_or(0);
            let iv = stash.find(&key, uses);
            self.stash_uses.insert(key, uses + 1);
            iv
        });
        match stashed {
            Some(iv) => Ok(iv),
            None => self.ivs.next_iv().map_err(|m| self.error(aad, m)),
        }
    }
}

impl Visitor for Encrypter<'_> {
    type Prepared = ToSeal;

    fn value(&mut self, scalar: &Scalar, aad: &str, encrypted: bool) -> Result<Option<ToSeal>, CryptError> {
        let is_empty = matches!(&scalar.value, Value::Str(s) if s.is_empty())
            || matches!(&scalar.value, Value::Bytes(b) if b.is_empty());
        if !encrypted || is_empty {
            return Ok(Some(ToSeal::Clear));
        }
        let value_type = ValueType::of(&scalar.value).expect("null values are skipped by the walk");
        // A string's or bytes' canonical bytes are its own: taken after the walk, not copied.
        let own_bytes = match &scalar.value {
            Value::Str(s) => Some(s.as_bytes()),
            Value::Bytes(b) => Some(b.as_slice()),
            _ => None,
        };
        if let Some(bytes) = own_bytes {
            let iv = self.iv(aad, value_type, bytes)?;
            return Ok(Some(ToSeal::Value {
                plaintext: Zeroizing::new(Vec::new()),
                iv,
                value_type,
            }));
        }
        let mut plaintext = Zeroizing::new(Vec::new());
        scalar::write_canonical(&scalar.value, &mut plaintext);
        if !reads_back_as(&scalar.value, value_type, &plaintext) {
            return Err(self.error(
                aad,
                format!(
                    "its {} text does not read back as the same value (this is a ksec bug; nothing was written)",
                    value_type.name()
                ),
            ));
        }
        let iv = self.iv(aad, value_type, &plaintext)?;
        Ok(Some(ToSeal::Value {
            plaintext,
            iv,
            value_type,
        }))
    }

    fn comment(&mut self, comment: &mut Comment, aad: &str, _last_value_aad: &str) -> Result<(), CryptError> {
        if comment.text.is_empty() {
            return Ok(());
        }
        let iv = self.iv(aad, ValueType::Comment, comment.text.as_bytes())?;
        let sealed = self
            .sealer
            .seal(comment.text.as_bytes(), aad.as_bytes(), &iv, ValueType::Comment);
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

/// Whether the text sops stores for a value that is not a string or bytes (its GCM
/// plaintext) decrypts back to that very value: a number or time written wrongly would
/// otherwise change silently on the next decryption. (Strings and bytes are their own text
/// and are not asked.)
fn reads_back_as(value: &Value, value_type: ValueType, plaintext: &[u8]) -> bool {
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
    let mut encrypter = Encrypter {
        stash,
        stash_uses: HashMap::new(),
        sealer: Sealer::new(key),
        ivs: IvSource::default(),
        file,
        unencrypted_comment: selection.rule.unencrypted_comment_pattern(),
    };
    let walk::Collected { mut leaves, aads } = walk::collect(&mut tree.documents, selection, &mut encrypter)?;
    take_own_bytes(&mut leaves);
    let seal_all = |leaves: &[Leaf<'_, ToSeal>]| {
        walk::par_map(
            leaves,
            || Sealer::new(key),
            |sealer, leaf| match &leaf.prepared {
                ToSeal::Clear => None,
                ToSeal::Value {
                    plaintext,
                    iv,
                    value_type,
                } => Some(sealer.seal(plaintext, leaf.aad(&aads).as_bytes(), iv, *value_type)),
            },
        )
    };
    let mac_of = |leaves: &[Leaf<'_, ToSeal>]| {
        let mut mac = MacHash::new(selection.mac_only_encrypted);
        for leaf in leaves {
            match &leaf.prepared {
                ToSeal::Value { plaintext, .. } => mac.canonical(plaintext, true),
                ToSeal::Clear => mac.value(&leaf.slot.scalar().value, leaf.encrypted),
            }
        }
        mac.finish()
    };
    let plaintext_bytes = leaves
        .iter()
        .map(|leaf| match &leaf.prepared {
            ToSeal::Value { plaintext, .. } => plaintext.len(),
            ToSeal::Clear => 0,
        })
        .sum();
    // The MAC hashes the plaintexts in order while they are sealed: for a large file, on a
    // thread of its own (SHA-512 of a 10 MiB value costs twice its encryption).
    let (sealed, mac) = if walk::worth_threads(leaves.len(), plaintext_bytes) {
        std::thread::scope(|scope| {
            let mac = scope.spawn(|| mac_of(&leaves));
            let sealed = seal_all(&leaves);
            (sealed, walk::join(mac))
        })
    } else {
        (seal_all(&leaves), mac_of(&leaves))
    };
    let mut count = 0;
    for (leaf, sealed) in leaves.iter_mut().zip(sealed) {
        if let Some(text) = sealed {
            leaf.slot.scalar_mut().replace(Value::str(text));
            count += 1;
        }
    }
    drop(leaves);
    Ok((tree.into_state(), mac, count))
}

// ---- Decryption -----------------------------------------------------------------------------

/// What the sequential walk settles for a value before it is opened.
enum ToOpen {
    /// Left as it is: in clear by the rule, or an empty string.
    Clear,
    /// An `ENC[...]` string to open.
    Value,
}

/// A value opened in the parallel phase.
struct Opened {
    decoded: Decoded,
    /// The canonical bytes of a value that is not a string (a string's are the string),
    /// written here on every core rather than during the sequential MAC.
    canonical: Option<Zeroizing<Vec<u8>>>,
    /// The IV, when the plaintext was canonical and the caller keeps IVs.
    iv: Option<cipher::Iv>,
    value_type: ValueType,
}

impl Opened {
    /// Adds the opened value to `mac` (a comment is not in it).
    fn hash_into(&self, mac: &mut MacHash) {
        match (&self.canonical, &self.decoded) {
            (Some(bytes), _) => mac.canonical(bytes, true),
            (None, Decoded::Value(value)) => mac.value(value, true),
            (None, Decoded::Comment(_)) => {}
        }
    }
}

/// The sequential part of decryption: comments opened on the spot (trying the paths around
/// them), values checked to be ciphertexts.
struct Decrypter<'a> {
    opener: Opener<'a>,
    /// Where IVs are recorded, when the caller will write the file back.
    stash: Option<Stash>,
    file: &'a str,
    warnings: Vec<String>,
}

fn decrypt_error(file: &str, aad: &str, reason: String) -> CryptError {
    CryptError::DecryptValue {
        file: file.to_string(),
        key_path: display_path(aad),
        reason,
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

/// Whether an encrypted leaf holds something to open; an error for a plain value where the
/// rule says encrypted (a value edited in clear).
fn to_open(scalar: &Scalar, aad: &str, encrypted: bool, file: &str) -> Result<ToOpen, CryptError> {
    if !encrypted {
        return Ok(ToOpen::Clear);
    }
    match &scalar.value {
        Value::Str(s) if s.is_empty() => Ok(ToOpen::Clear),
        Value::Str(_) => Ok(ToOpen::Value),
        other => {
            let kind = ValueType::of(other).map_or("null", |t| t.name());
            Err(decrypt_error(
                file,
                aad,
                format!("expected an encrypted value, found a plain {kind}"),
            ))
        }
    }
}

impl Visitor for Decrypter<'_> {
    type Prepared = ToOpen;

    fn value(&mut self, scalar: &Scalar, aad: &str, encrypted: bool) -> Result<Option<ToOpen>, CryptError> {
        to_open(scalar, aad, encrypted, self.file).map(Some)
    }

    fn comment(&mut self, comment: &mut Comment, aad: &str, last_value_aad: &str) -> Result<(), CryptError> {
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
            .chain(descendants(aad, last_value_aad));
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
}

/// Opens one `ENC[...]` value under its AAD (the parallel phase of decryption and of checking
/// a MAC).
fn open_value(opener: &Opener<'_>, text: &str, aad: &str, keep_iv: bool, file: &str) -> Result<Opened, CryptError> {
    let error = |reason: String| decrypt_error(file, aad, reason);
    let ciphertext = Ciphertext::parse(text).map_err(error)?;
    let value_type = ciphertext.value_type;
    let iv = keep_iv.then(|| <cipher::Iv>::try_from(ciphertext.iv()).ok()).flatten();
    let plaintext = opener.open(ciphertext, aad.as_bytes()).map_err(error)?;
    // A string's plaintext becomes its value without a copy (it is its own canonical form);
    // other types are parsed, and their plaintext kept apart only to compare it.
    let (decoded, canonical, canonical_plaintext) = if value_type == ValueType::Str {
        (Decoded::Value(scalar::string_or_bytes(plaintext)), None, true)
    } else {
        let decoded = scalar::parse_plaintext(value_type, &plaintext).map_err(error)?;
        let canonical = match &decoded {
            Decoded::Value(value) => Some(canonical_bytes(value)),
            Decoded::Comment(_) => None,
        };
        let same = canonical.as_ref().is_some_and(|bytes| *bytes == plaintext);
        (decoded, canonical, same)
    };
    // Only a canonical plaintext may be stashed: the IV is reused for these bytes.
    let iv = iv.filter(|_| canonical_plaintext);
    Ok(Opened {
        decoded,
        canonical,
        iv,
        value_type,
    })
}

fn canonical_bytes(value: &Value) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::new());
    scalar::write_canonical(value, &mut bytes);
    bytes
}

/// Opens every value to open, on all cores for a large file.
fn open_values(
    leaves: &[Leaf<'_, ToOpen>],
    aads: &str,
    key: &DataKey,
    keep_ivs: bool,
    file: &str,
) -> walk::InOrder<Option<Result<Opened, CryptError>>> {
    walk::par_map(
        leaves,
        || Opener::new(key),
        |opener, leaf| match leaf.prepared {
            ToOpen::Clear => None,
            ToOpen::Value => {
                let Value::Str(text) = &leaf.slot.scalar().value else {
                    unreachable!("the walk keeps only strings to open");
                };
                Some(open_value(opener, text, leaf.aad(aads), keep_ivs, file))
            }
        },
    )
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
    let keep_ivs = stash.is_some();
    let mut decrypter = Decrypter {
        opener: Opener::new(key),
        stash,
        file,
        warnings: Vec::new(),
    };
    let walk::Collected { mut leaves, aads } = walk::collect(&mut tree.documents, selection, &mut decrypter)?;
    let opened = open_values(&leaves, &aads, key, keep_ivs, file);
    let mut mac = MacHash::new(selection.mac_only_encrypted);
    for (leaf, opened) in leaves.iter_mut().zip(opened) {
        let Some(opened) = opened else {
            mac.value(&leaf.slot.scalar().value, leaf.encrypted);
            continue;
        };
        let opened = opened?;
        opened.hash_into(&mut mac);
        let Opened {
            decoded,
            canonical,
            iv,
            value_type,
        } = opened;
        match decoded {
            Decoded::Value(value) => {
                if let (Some(stash), Some(iv)) = (&mut decrypter.stash, iv) {
                    let bytes = canonical.unwrap_or_else(|| canonical_bytes(&value));
                    stash.record(leaf.aad(&aads), value_type, &bytes, &iv);
                }
                discard_ciphertext(leaf.slot.scalar_mut().replace(value));
            }
            // A list item sops 3.11 wrote for a comment: a comment again, not in the MAC.
            Decoded::Comment(text) => {
                let mut comment = Comment::new(text);
                comment.origin = leaf.slot.scalar().origin;
                leaf.slot.make_comment(comment);
            }
        }
    }
    drop(leaves);
    Ok(Decrypted {
        tree: tree.into_state(),
        mac: mac.finish(),
        warnings: decrypter.warnings,
        stash: decrypter.stash.unwrap_or_default(),
    })
}

/// Frees an `ENC[...]` string replaced by its plaintext without zeroizing it first: it is
/// ciphertext, and `Zeroizing` wipes a byte at a time (the allocator of the `ksec` binary
/// wipes every freed block anyway, at memset speed). Wiping each ciphertext of a 10 MiB
/// value or of 50,000 values was a twentieth of decrypting them.
fn discard_ciphertext(value: Value) {
    if let Value::Str(mut text) = value {
        drop(std::mem::take(&mut *text));
    }
}

// ---- Verifying without changing the tree ---------------------------------------------------

/// The sequential part of checking a MAC: values checked to be ciphertexts; comments left
/// alone (they are not in the MAC).
struct Verifier<'a> {
    file: &'a str,
}

impl Visitor for Verifier<'_> {
    type Prepared = ToOpen;

    fn value(&mut self, scalar: &Scalar, aad: &str, encrypted: bool) -> Result<Option<ToOpen>, CryptError> {
        to_open(scalar, aad, encrypted, self.file).map(Some)
    }

    fn comment(&mut self, _comment: &mut Comment, _aad: &str, _last_value_aad: &str) -> Result<(), CryptError> {
        Ok(())
    }
}

/// The MAC over an encrypted tree's values, decrypting each to hash it; the tree is left as it
/// was (its ciphertexts untouched): what a key change (`updatekeys`, `groups`) needs to know
/// the values match the MAC before it writes the same ciphertexts under new key stanzas.
pub(crate) fn mac_of_encrypted(
    tree: &mut Tree<Encrypted>,
    key: &DataKey,
    selection: Selection<'_>,
    file: &str,
) -> Result<String, CryptError> {
    let walk::Collected { leaves, aads } = walk::collect(&mut tree.documents, selection, &mut Verifier { file })?;
    let opened = open_values(&leaves, &aads, key, false, file);
    let mut mac = MacHash::new(selection.mac_only_encrypted);
    for (leaf, opened) in leaves.iter().zip(opened) {
        match opened.transpose()? {
            None => mac.value(&leaf.slot.scalar().value, leaf.encrypted),
            // A list item sops 3.11 wrote for a comment is not a value, not in the MAC.
            Some(opened) => opened.hash_into(&mut mac),
        }
    }
    Ok(mac.finish())
}

// ---- Checking without a key -----------------------------------------------------------------

/// Records the values the rules say are encrypted but that are not `ENC[...]` strings.
struct ClearFinder {
    found: Vec<String>,
}

impl Visitor for ClearFinder {
    type Prepared = ();

    fn value(&mut self, scalar: &Scalar, aad: &str, encrypted: bool) -> Result<Option<()>, CryptError> {
        let in_clear = match &scalar.value {
            Value::Str(s) => !s.is_empty() && !cipher::looks_encrypted(s),
            Value::Null => false,
            _ => true,
        };
        if encrypted && in_clear {
            self.found.push(display_path(aad));
        }
        Ok(None)
    }

    fn comment(&mut self, _comment: &mut Comment, _aad: &str, _last_value_aad: &str) -> Result<(), CryptError> {
        Ok(())
    }
}

/// The key paths of values an encrypted file's own rule says are encrypted but that are in
/// clear (added or edited by hand after encryption). Needs no key.
pub fn values_in_clear(tree: &Tree<Encrypted>, selection: Selection<'_>) -> Vec<String> {
    let mut tree = tree.clone();
    let mut finder = ClearFinder { found: Vec::new() };
    // A finder never fails.
    let _ = walk::collect(&mut tree.documents, selection, &mut finder);
    finder.found
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
    use crate::tree::{Document, Entry, Mapping, MappingItem, Node, Sequence, SequenceItem};
    use std::collections::HashSet;

    fn key() -> DataKey {
        DataKey::from_bytes(&[9u8; 32]).unwrap()
    }

    proptest::proptest! {
        /// Gathering short values before hashing them changes nothing: the MAC is the SHA-512
        /// of every value's bytes one after the other, whatever their sizes.
        #[test]
        fn the_mac_hashes_the_values_one_after_the_other(
            lengths in proptest::collection::vec(
                proptest::prop_oneof![0usize..64, MAC_BATCH - 64..MAC_BATCH + 64, 0..3 * MAC_BATCH],
                0..24,
            ),
        ) {
            let values: Vec<Vec<u8>> = lengths.iter().enumerate().map(|(i, &n)| vec![i as u8; n]).collect();
            let mut mac = MacHash::new(false);
            let mut expected = Sha512::new();
            for value in &values {
                mac.canonical(value, true);
                expected.update(value);
            }
            proptest::prop_assert_eq!(mac.finish(), hex_upper(&expected.finalize()));
        }
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
    fn a_tree_large_enough_for_threads_round_trips_with_the_mac_of_its_values_in_order() {
        let rule = EncryptionRule::default();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let mut data = Mapping::default();
        let mut expected = Sha512::new();
        for i in 0..5000 {
            data.items.push(entry(&format!("k{i}"), Node::scalar(Value::Int(i))));
            expected.update(i.to_string().as_bytes());
        }
        let mut root = Mapping::default();
        root.items.push(entry("data", Node::Mapping(data)));
        let plain = Tree::new_plain(vec![Document {
            root,
            metadata: None,
            layout: None,
        }]);
        let (encrypted, mac, count) = encrypt_with_stash(plain, &key(), selection, "t.yaml", None).unwrap();
        assert_eq!(count, 5000);
        assert_eq!(mac, hex_upper(&expected.finalize()));
        let decrypted = decrypt_keeping_ivs(encrypted, &key(), selection, "t.yaml").unwrap();
        assert_eq!(decrypted.mac, mac);
        for i in [0, 2047, 2048, 4999] {
            assert_eq!(value_at(&decrypted.tree, &["data", &format!("k{i}")]), &Value::Int(i));
        }
    }

    #[test]
    fn a_large_value_is_hashed_on_its_own_thread_to_the_same_mac() {
        let rule = EncryptionRule::default();
        let selection = Selection {
            rule: &rule,
            mac_only_encrypted: false,
        };
        let big = "x".repeat(2 << 20);
        let mut root = Mapping::default();
        root.items.push(entry("big", Node::scalar(Value::str(&big))));
        root.items.push(entry("n", Node::scalar(Value::Int(7))));
        let plain = Tree::new_plain(vec![Document {
            root,
            metadata: None,
            layout: None,
        }]);
        let (encrypted, mac, count) = encrypt_with_stash(plain, &key(), selection, "t.yaml", None).unwrap();
        assert_eq!(count, 2);
        let mut expected = Sha512::new();
        expected.update(big.as_bytes());
        expected.update(b"7");
        assert_eq!(mac, hex_upper(&expected.finalize()));
        let decrypted = decrypt_keeping_ivs(encrypted, &key(), selection, "t.yaml").unwrap();
        assert_eq!(decrypted.mac, mac);
        assert_eq!(value_at(&decrypted.tree, &["big"]), &Value::str(&big));
    }

    #[test]
    fn par_map_gives_results_in_the_order_of_the_items() {
        let items: Vec<usize> = (0..10_000).collect();
        let doubled: Vec<usize> = walk::par_map(&items, || 2, |factor, i| i * *factor).collect();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
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
