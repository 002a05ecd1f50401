//! The way out: encrypting a plaintext tree into a sops file, and checking what was written.
//!
//! Every write of an encrypted file ends here: values encrypted (unchanged ones keep their
//! ciphertext through the IV stash; each number, boolean or time is checked to read back from
//! the text it is encrypted as), Kubernetes Secrets refused if a value would stay in clear, the
//! MAC computed and sealed, the tree emitted, and the bytes parsed back: they must be the tree
//! that was written — the same documents, keys in the same order, the same ciphertexts, clear
//! values and comments, the same metadata — and the sealed MAC must open with the data key, or
//! nothing is written. Comparing with the tree that was written (rather than decrypting every
//! value again) checks the emitter, which is what can go wrong between the two, at a fraction
//! of the cost.

use zeroize::Zeroizing;

use super::{EncryptedFile, FileError, MacPolicy, ReadBackFault, selection};
use crate::crypt::{self, Stash};
use crate::formats::{self, Format, OutputOptions, json};
use crate::keys::DataKey;
use crate::kube::{self, KubeError, ManifestId};
use crate::metadata::Metadata;
use crate::scalar::{self, ValueType};
use crate::timestamp;
use crate::tree::{Data, Encrypted, Mapping, MappingItem, Node, Plain, SequenceItem, Tree, Value};

/// How a plaintext is sealed, beyond the file's own key, rule and recipients.
#[derive(Debug, Clone, Copy)]
pub struct SealOptions {
    pub output: OutputOptions,
    /// The format the plaintext was read in, when it is not the file's (`encrypt` of JSON
    /// into a YAML file): its layout is then not kept.
    pub plain_format: Option<Format>,
    /// Check Secrets against what the Kubernetes API server accepts first (exit 30).
    pub validate_secrets: bool,
    /// Refuse a rule under which no value at all is encrypted (almost always a mistyped rule).
    pub require_encrypted_values: bool,
}

impl SealOptions {
    /// Options for writing a changed file back in its own format.
    pub fn new(output: OutputOptions) -> SealOptions {
        SealOptions {
            output,
            plain_format: None,
            validate_secrets: false,
            require_encrypted_values: false,
        }
    }
}

/// An encrypted file written and checked.
#[derive(Debug)]
pub struct Sealed {
    pub bytes: Zeroizing<Vec<u8>>,
    pub format: Format,
    /// Non-fatal findings: from opening the file this was made from, then about the values
    /// written (a Secret key whose `data` and `stringData` copies disagree).
    pub warnings: Vec<String>,
    /// Manifests that are not Secrets but whose values the rule encrypted too (a ConfigMap's
    /// `data` matches the Secret rule): one rule covers the whole file.
    pub encrypted_non_secrets: Vec<ManifestId>,
}

impl Sealed {
    /// The bytes as a command's output (the notes about non-Secret manifests are the caller's
    /// to phrase).
    pub fn into_output(self) -> super::Output {
        super::Output {
            bytes: self.bytes,
            format: self.format,
            warnings: self.warnings,
            notes: Vec::new(),
        }
    }
}

/// A new file: its name, format, fresh data key and metadata (recipients' stanzas, rule).
pub struct NewFile<'a> {
    pub name: &'a str,
    pub format: Format,
    pub key: DataKey,
    pub metadata: Metadata,
}

/// Encrypts a plaintext as a new file.
pub fn create(plain: Tree<Plain>, new: NewFile<'_>, options: &SealOptions) -> Result<Sealed, FileError> {
    seal(
        plain,
        Sealing {
            name: new.name,
            format: new.format,
            key: &new.key,
            metadata: new.metadata,
            stash: None,
            unchanged_mac: None,
        },
        options,
    )
}

/// What [`seal`] seals with.
pub(super) struct Sealing<'a> {
    pub name: &'a str,
    pub format: Format,
    pub key: &'a DataKey,
    /// The rule, recipients' stanzas and threshold; `lastmodified` and `mac` are set here.
    pub metadata: Metadata,
    /// IVs of the values the file held, so unchanged values keep their ciphertext.
    pub stash: Option<&'a Stash>,
    /// The (verified) MAC of the values the file held: when the new values give the same MAC,
    /// `lastmodified` and the sealed MAC stay as they were.
    pub unchanged_mac: Option<&'a str>,
}

/// Encrypts, checks, emits and reads back.
pub(super) fn seal(plain: Tree<Plain>, sealing: Sealing<'_>, options: &SealOptions) -> Result<Sealed, FileError> {
    let Sealing {
        name,
        format,
        key,
        mut metadata,
        stash,
        unchanged_mac,
    } = sealing;
    if options.validate_secrets {
        refuse_invalid_secrets(&plain, name)?;
    }
    let warnings = kube::disagreeing_copies(&plain)
        .iter()
        .map(|finding| format!("{name}: {finding}"))
        .collect();
    let plain_format = options.plain_format.unwrap_or(format);
    let rule = metadata.effective_rule();
    let (mut encrypted, mac, count) = crypt::encrypt_with_stash(plain, key, selection(&metadata, &rule), name, stash)?;
    refuse_clear_secrets(&encrypted, name)?;
    if options.require_encrypted_values && count == 0 && has_values(&encrypted) {
        return Err(FileError::RuleMatchesNothing {
            file: name.to_string(),
            field: rule.field_name(),
            text: rule.text().to_string(),
        });
    }
    let encrypted_non_secrets = kube::encrypted_non_secrets(&encrypted);
    if unchanged_mac != Some(mac.as_str()) {
        metadata.last_modified = timestamp::now_last_modified();
        metadata.mac = crypt::seal_mac(&mac, key, &metadata.last_modified, name)?;
    }
    attach(&mut encrypted, &metadata);
    let bytes = Zeroizing::new(formats::emit(format, &mut encrypted, plain_format, options.output)?);
    let strict = plain_format == format;
    read_back(
        &bytes,
        (name, format),
        key,
        MacPolicy::Verify,
        (&encrypted, &metadata, strict),
    )?;
    discard(encrypted, is_large(&bytes));
    Ok(Sealed {
        bytes,
        format,
        warnings,
        encrypted_non_secrets,
    })
}

/// Writes an encrypted tree under new metadata (new key stanzas), and reads it back.
pub(super) fn write_encrypted(
    mut tree: Tree<Encrypted>,
    metadata: &Metadata,
    key: &DataKey,
    mac: MacPolicy,
    (name, format): (&str, Format),
    output: OutputOptions,
) -> Result<Sealed, FileError> {
    attach(&mut tree, metadata);
    let bytes = Zeroizing::new(formats::emit(format, &mut tree, format, output)?);
    read_back(&bytes, (name, format), key, mac, (&tree, metadata, true))?;
    discard(tree, is_large(&bytes));
    Ok(Sealed {
        bytes,
        format,
        warnings: Vec::new(),
        encrypted_non_secrets: Vec::new(),
    })
}

/// Frees an encrypted tree; a large one on a thread of its own, so that a command does not
/// wait for hundreds of thousands of small frees (each block wiped by ksec's allocator) before
/// its output is written. Only the nodes go to that thread: they hold ciphertexts and the
/// values the file keeps in clear, both written out in the file. The source text, which may
/// be the plaintext the tree was encrypted from, is freed here, before this returns.
fn discard(mut tree: Tree<Encrypted>, large: bool) {
    tree.source = None;
    if !large {
        return;
    }
    let documents = std::mem::take(&mut tree.documents);
    // If no thread can be started, the closure (and the nodes) are dropped right here.
    let _ = std::thread::Builder::new()
        .name("ksec-free".to_string())
        .spawn(move || drop(documents));
}

/// Whether an output is large enough that its trees are freed on a thread of their own
/// ([`discard`]): starting one costs about as much as freeing a few hundred nodes.
fn is_large(output: &[u8]) -> bool {
    const LARGE_OUTPUT: usize = 1 << 20;
    output.len() >= LARGE_OUTPUT
}

/// sops writes the same `sops` block into every document.
fn attach(tree: &mut Tree<Encrypted>, metadata: &Metadata) {
    let node = metadata.to_node();
    for doc in &mut tree.documents {
        doc.metadata = Some(node.clone());
    }
}

/// Parses written bytes back: they must hold `written` (the tree that was emitted) and its
/// `metadata`, value for value (by type too when `strict`: across formats a YAML int
/// legitimately becomes a JSON number), and the sealed MAC must open with `key` (unless the MAC
/// is ignored, for a key change of a file opened with `--ignore-mac`).
fn read_back(
    bytes: &[u8],
    (name, format): (&str, Format),
    key: &DataKey,
    mac: MacPolicy,
    (written, metadata, strict): (&Tree<Encrypted>, &Metadata, bool),
) -> Result<(), FileError> {
    let fail = |fault: ReadBackFault| FileError::OutputUnreadable { format, fault };
    match json_document(format, written) {
        // JSON is compared as it is read, without a second tree.
        Some(root) => {
            let same = |read: &Value, expected: &Value| same_value(read, expected, strict);
            let found = json::read_back(bytes, name, root, &same).map_err(|e| fail(ReadBackFault::Parse(e)))?;
            let json::ReadBack::Same { metadata: node } = found else {
                return Err(fail(ReadBackFault::NotTheInput));
            };
            let node = node.ok_or_else(|| {
                fail(ReadBackFault::NotEncrypted(Box::new(FileError::MetadataNotFound {
                    file: name.to_string(),
                })))
            })?;
            let read =
                Metadata::from_node(&node, name).map_err(|e| fail(ReadBackFault::NotEncrypted(Box::new(e.into()))))?;
            if !same_metadata(&read, metadata) {
                return Err(fail(ReadBackFault::NotTheInput));
            }
        }
        None if format == Format::Yaml && reads_as_written(bytes, written, metadata, strict, name) => {}
        None => {
            let parsed = formats::parse_values(format, bytes, name).map_err(|e| fail(ReadBackFault::Parse(e)))?;
            let file = EncryptedFile::from_parsed(parsed, format, name)
                .map_err(|e| fail(ReadBackFault::NotEncrypted(Box::new(e))))?;
            if !same_trees(&file.tree, written, metadata, strict, name) {
                return Err(fail(ReadBackFault::NotTheInput));
            }
            discard(file.tree, is_large(bytes));
        }
    }
    if mac == MacPolicy::Verify {
        crypt::open_mac(
            &metadata.mac,
            key,
            &metadata.mac_aad(name).map_err(FileError::from)?,
            name,
        )
        .map_err(|e| fail(ReadBackFault::Mac(Box::new(e.into()))))?;
    }
    Ok(())
}

/// Whether a YAML output is `written` with `metadata` in every document, compared as it is
/// read ([`formats::yaml::read_back`]); `false` when that cheap path cannot tell. The `sops`
/// blocks are compared node for node with the one written, which must itself read as
/// `metadata`, as [`same_trees`] checks of a block read back.
fn reads_as_written(bytes: &[u8], written: &Tree<Encrypted>, metadata: &Metadata, strict: bool, name: &str) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut documents = Vec::with_capacity(written.documents.len());
    // Every document of a stream carries the same block: it is read once.
    let mut checked: Option<&Node> = None;
    for document in &written.documents {
        let Some(node) = &document.metadata else {
            return false;
        };
        if checked != Some(node) {
            if !Metadata::from_node(node, name).is_ok_and(|m| same_metadata(&m, metadata)) {
                return false;
            }
            checked = Some(node);
        }
        documents.push(formats::yaml::read_back::Expected {
            root: &document.root,
            metadata: Some(node),
        });
    }
    let same = |read: &Value, expected: &Value| same_value(read, expected, strict);
    formats::yaml::read_back::reads_as(text, &documents, &same)
}

/// The root of a JSON file's one document when it can be compared as it is read
/// ([`json::read_back`]): a JSON document has no comments to compare, and carries the `sops`
/// block. Anything else is read back whole and compared by [`same_trees`].
fn json_document(format: Format, written: &Tree<Encrypted>) -> Option<&Mapping> {
    match written.documents.as_slice() {
        [document]
            if format == Format::Json && document.metadata.is_some() && comments_of(&document.root).is_empty() =>
        {
            Some(&document.root)
        }
        _ => None,
    }
}

/// Whether two metadata blocks say the same thing, field by field.
fn same_metadata(a: &Metadata, b: &Metadata) -> bool {
    let rule = |m: &Metadata| m.rule.as_ref().map(|r| (r.field_name(), r.text().to_string()));
    let other = |g: &crate::metadata::KeyGroup| -> Vec<(String, Data)> {
        g.other.iter().map(|(t, n)| (t.clone(), Data::from(n))).collect()
    };
    a.shamir_threshold == b.shamir_threshold
        && a.last_modified == b.last_modified
        && a.mac == b.mac
        && a.mac_only_encrypted == b.mac_only_encrypted
        && a.version == b.version
        && rule(a) == rule(b)
        && a.key_groups.len() == b.key_groups.len()
        && a.key_groups
            .iter()
            .zip(&b.key_groups)
            .all(|(x, y)| x.age == y.age && x.pgp == y.pgp && other(x) == other(y))
}

/// Whether a tree read back is the tree that was written: documents, keys and their order,
/// values, comments (in order), and a `sops` block in every document that reads as
/// `metadata` (the flat stores spell it as text, so it is compared as metadata, not as nodes).
fn same_trees(
    read: &Tree<Encrypted>,
    written: &Tree<Encrypted>,
    metadata: &Metadata,
    strict: bool,
    name: &str,
) -> bool {
    read.documents.len() == written.documents.len()
        && read.documents.iter().zip(&written.documents).all(|(r, w)| {
            same_mapping(&r.root, &w.root, strict)
                && comments_of(&r.root) == comments_of(&w.root)
                && match (&r.metadata, &w.metadata) {
                    (Some(node), Some(_)) => Metadata::from_node(node, name).is_ok_and(|m| same_metadata(&m, metadata)),
                    (None, None) => true,
                    _ => false,
                }
        })
}

/// Every comment under a mapping, in document order.
fn comments_of(root: &Mapping) -> Vec<&str> {
    fn node<'t>(n: &'t Node, out: &mut Vec<&'t str>) {
        match n {
            Node::Mapping(m) => mapping(m, out),
            Node::Sequence(s) => {
                for item in &s.items {
                    match item {
                        SequenceItem::Node(n) => node(n, out),
                        SequenceItem::Comment(c) => out.push(c.text.as_str()),
                    }
                }
            }
            Node::Scalar(_) => {}
        }
    }
    fn mapping<'t>(m: &'t Mapping, out: &mut Vec<&'t str>) {
        for item in &m.items {
            match item {
                MappingItem::Entry(e) => node(&e.value, out),
                MappingItem::Comment(c) => out.push(c.text.as_str()),
            }
        }
    }
    let mut out = Vec::new();
    mapping(root, &mut out);
    out
}

/// Refuses Secrets the API server would refuse (exit 30).
fn refuse_invalid_secrets(plain: &Tree<Plain>, name: &str) -> Result<(), FileError> {
    let findings = kube::validate(plain, false);
    if findings.is_empty() {
        return Ok(());
    }
    Err(KubeError::InvalidSecret {
        file: name.to_string(),
        findings,
    }
    .into())
}

/// Refuses output that would keep a Secret value in clear (exit 31): whatever the rule, a
/// Secret's values never reach a file unencrypted.
fn refuse_clear_secrets(encrypted: &Tree<Encrypted>, name: &str) -> Result<(), FileError> {
    let leaks = kube::plaintext_in_secrets(encrypted);
    if leaks.is_empty() {
        return Ok(());
    }
    Err(KubeError::ValueInClear {
        file: name.to_string(),
        findings: leaks,
    }
    .into())
}

/// Whether any document holds a non-empty value.
fn has_values<S>(tree: &Tree<S>) -> bool {
    fn node(n: &Node) -> bool {
        match n {
            Node::Mapping(m) => m.entries().any(|e| node(&e.value)),
            Node::Sequence(s) => s.nodes().any(node),
            Node::Scalar(s) => !matches!(&s.value, Value::Null) && s.value.as_str() != Some(""),
        }
    }
    tree.documents.iter().any(|d| d.root.entries().any(|e| node(&e.value)))
}

/// Whether two plaintext trees hold the same keys and values. Values compare by their
/// canonical sops bytes, and by type when `strict` (across formats a YAML int legitimately
/// becomes a JSON number).
pub(crate) fn same_documents(a: &Tree<Plain>, b: &Tree<Plain>, strict: bool) -> bool {
    a.documents.len() == b.documents.len()
        && a.documents
            .iter()
            .zip(&b.documents)
            .all(|(x, y)| same_mapping(&x.root, &y.root, strict))
}

fn same_mapping(a: &Mapping, b: &Mapping, strict: bool) -> bool {
    let mut ae = a.entries();
    let mut be = b.entries();
    loop {
        match (ae.next(), be.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.key == y.key && same_node(&x.value, &y.value, strict) => {}
            _ => return false,
        }
    }
}

fn same_node(a: &Node, b: &Node, strict: bool) -> bool {
    match (a, b) {
        (Node::Mapping(x), Node::Mapping(y)) => same_mapping(x, y, strict),
        (Node::Sequence(x), Node::Sequence(y)) => {
            let (mut xs, mut ys) = (x.nodes(), y.nodes());
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return true,
                    (Some(p), Some(q)) if same_node(p, q, strict) => {}
                    _ => return false,
                }
            }
        }
        (Node::Scalar(x), Node::Scalar(y)) => same_value(&x.value, &y.value, strict),
        _ => false,
    }
}

pub(crate) fn same_value(a: &Value, b: &Value, strict: bool) -> bool {
    // go-yaml writes integral floats without a fraction (`1`, `-0`), so they re-read as ints;
    // sops's own output does this, and the number is unchanged.
    if let (Value::Float(f), Value::Int(i)) | (Value::Int(i), Value::Float(f)) = (a, b) {
        return *f == *i as f64;
    }
    if strict && ValueType::of(a) != ValueType::of(b) {
        return false;
    }
    // Alike values compare directly: their canonical texts are equal exactly when they are.
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => return matches!((a, b), (Value::Null, Value::Null)),
        (Value::Str(x), Value::Str(y)) => return x == y,
        (Value::Bytes(x), Value::Bytes(y)) => return x == y,
        (Value::Int(x), Value::Int(y)) => return x == y,
        (Value::Bool(x), Value::Bool(y)) => return x == y,
        // The same bits print the same; other pairs (0 and -0, two NaNs) go by their text.
        (Value::Float(x), Value::Float(y)) if x.to_bits() == y.to_bits() => return true,
        _ => {}
    }
    let mut x = Zeroizing::new(Vec::new());
    let mut y = Zeroizing::new(Vec::new());
    scalar::write_canonical(a, &mut x);
    scalar::write_canonical(b, &mut y);
    x == y
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::tree::{Document, Scalar, Source};

    /// The source text may be the plaintext: it never goes to the freeing thread.
    #[test]
    fn discard_frees_the_source_text_before_it_returns() {
        for large in [false, true] {
            let source = Arc::new(Source::new(Zeroizing::new("k: secret\n".to_string())));
            let mut root = Mapping::default();
            root.push("k", Node::Scalar(Scalar::new(Value::str("ENC[AES256_GCM,data:…]"))));
            let document = Document {
                root,
                metadata: None,
                layout: None,
            };
            let tree = Tree::from_parts(vec![document], Some(Arc::clone(&source)));
            assert_eq!(Arc::strong_count(&source), 2);
            discard(tree, large);
            assert_eq!(Arc::strong_count(&source), 1, "large: {large}");
        }
    }

    /// The cheap YAML read-back says "the same" for the text a tree was read from, and never
    /// where the full comparison of trees does not: every byte of sops-written files, changed
    /// to each of a few others.
    #[test]
    fn the_cheap_yaml_read_back_never_passes_what_the_full_one_refuses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/sops-upstream");
        for vector in [
            "regex.enc.yaml",
            "encrypted-suffix.enc.yaml",
            "unencrypted-regex.enc.yaml",
        ] {
            let text = std::fs::read_to_string(dir.join("generated-by-sops-3.11.0").join(vector)).expect("a vector");
            let file = EncryptedFile::parse(text.as_bytes(), Format::Yaml, vector).expect("parses");
            assert!(
                reads_as_written(text.as_bytes(), &file.tree, &file.metadata, true, vector),
                "{vector}: not told the same as itself"
            );
            let mut passed = 0;
            for at in 0..text.len() {
                for byte in [b'x', b'1', b' ', b'\n', b'"'] {
                    let mut changed = text.clone().into_bytes();
                    if changed[at] == byte {
                        continue;
                    }
                    changed[at] = byte;
                    if !reads_as_written(&changed, &file.tree, &file.metadata, true, vector) {
                        continue;
                    }
                    passed += 1;
                    let read = EncryptedFile::parse(&changed, Format::Yaml, vector)
                        .unwrap_or_else(|e| panic!("{vector}: byte {at} changed: told the same, but {e}"));
                    assert!(
                        same_trees(&read.tree, &file.tree, &file.metadata, true, vector),
                        "{vector}: byte {at} changed to {:?}: told the same, but the trees differ",
                        byte as char
                    );
                }
            }
            // Only changes that leave the file the same may pass (spaces around a value, say).
            assert!(
                passed < text.len() / 10,
                "{vector}: {passed} changed texts told the same"
            );
        }
    }

    /// Two values compare equal exactly when they are written alike.
    #[test]
    fn values_are_the_same_exactly_when_their_texts_are() {
        let float = Value::Float;
        assert!(same_value(&float(1.5), &float(1.5), true));
        assert!(!same_value(&float(1.5), &float(2.5), true));
        // Equal as numbers, written differently: `0` and `-0`.
        assert!(!same_value(&float(0.0), &float(-0.0), true));
        // Never equal as numbers, written alike: `.nan`.
        assert!(same_value(&float(f64::NAN), &float(-f64::NAN), true));
        assert!(same_value(&float(3.0), &Value::Int(3), true));
        assert!(!same_value(&float(3.5), &Value::Int(3), true));
        assert!(!same_value(&Value::str("1"), &Value::Int(1), true));
        assert!(same_value(&Value::str("a"), &Value::str("a"), true));
    }
}
