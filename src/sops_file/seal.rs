//! The way out: encrypting a plaintext tree into a sops file, and checking what was written.
//!
//! Every write of an encrypted file ends here: values encrypted (unchanged ones keep their
//! ciphertext through the IV stash), Kubernetes Secrets refused if a value would stay in clear,
//! the MAC computed and sealed, the tree emitted, and the bytes parsed back and opened with the
//! data key: every value must decrypt to what was meant and match the MAC, or nothing is
//! written.

use zeroize::Zeroizing;

use super::{EncryptedFile, FileError, MacPolicy, ReadBackFault, check_mac, selection};
use crate::crypt::{self, Stash};
use crate::formats::{self, Format, OutputOptions};
use crate::keys::DataKey;
use crate::kube::{self, KubeError, ManifestId};
use crate::metadata::Metadata;
use crate::scalar::{self, ValueType};
use crate::timestamp;
use crate::tree::{Encrypted, Mapping, Node, Plain, SequenceItem, Tree, Value};

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
    /// Non-fatal findings from opening the file this was made from.
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
    let plain_format = options.plain_format.unwrap_or(format);
    let reference = plain.clone();
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
        Some((&reference, strict)),
    )?;
    Ok(Sealed {
        bytes,
        format,
        warnings: Vec::new(),
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
    read_back(&bytes, (name, format), key, mac, None)?;
    Ok(Sealed {
        bytes,
        format,
        warnings: Vec::new(),
        encrypted_non_secrets: Vec::new(),
    })
}

/// sops writes the same `sops` block into every document.
fn attach(tree: &mut Tree<Encrypted>, metadata: &Metadata) {
    let node = metadata.to_node();
    for doc in &mut tree.documents {
        doc.metadata = Some(node.clone());
    }
}

/// Parses written bytes back and opens them with `key`: every value must decrypt and the MAC
/// must match (as `mac` says); with a `reference`, the values must be its values (by type too
/// when `strict`: across formats a YAML int legitimately becomes a JSON number).
fn read_back(
    bytes: &[u8],
    (name, format): (&str, Format),
    key: &DataKey,
    mac: MacPolicy,
    reference: Option<(&Tree<Plain>, bool)>,
) -> Result<(), FileError> {
    let fail = |fault: ReadBackFault| FileError::OutputUnreadable { format, fault };
    let parsed = formats::parse(format, bytes, name).map_err(|e| fail(ReadBackFault::Parse(e)))?;
    let file =
        EncryptedFile::from_parsed(parsed, format, name).map_err(|e| fail(ReadBackFault::NotEncrypted(Box::new(e))))?;
    let rule = file.metadata.effective_rule();
    let decrypted = crypt::decrypt(file.tree, key, selection(&file.metadata, &rule), name)
        .map_err(|e| fail(ReadBackFault::Decrypt(e)))?;
    check_mac(&file.metadata, key, &decrypted.mac, mac, name).map_err(|e| fail(ReadBackFault::Mac(Box::new(e))))?;
    if let Some((reference, strict)) = reference
        && (!decrypted.warnings.is_empty() || !same_documents(&decrypted.tree, reference, strict))
    {
        return Err(fail(ReadBackFault::NotTheInput));
    }
    Ok(())
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
            Node::Sequence(s) => s.items.iter().filter_map(item_node).any(node),
            Node::Scalar(s) => !matches!(&s.value, Value::Null) && s.value.as_str() != Some(""),
        }
    }
    tree.documents.iter().any(|d| d.root.entries().any(|e| node(&e.value)))
}

/// Whether two trees hold the same keys and values. Values compare by their canonical sops
/// bytes, and by type when `strict` (across formats a YAML int legitimately becomes a JSON
/// number).
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
            let xs: Vec<&Node> = x.items.iter().filter_map(item_node).collect();
            let ys: Vec<&Node> = y.items.iter().filter_map(item_node).collect();
            xs.len() == ys.len() && xs.iter().zip(&ys).all(|(p, q)| same_node(p, q, strict))
        }
        (Node::Scalar(x), Node::Scalar(y)) => same_value(&x.value, &y.value, strict),
        _ => false,
    }
}

fn item_node(item: &SequenceItem) -> Option<&Node> {
    match item {
        SequenceItem::Node(n) => Some(n),
        SequenceItem::Comment(_) => None,
    }
}

fn same_value(a: &Value, b: &Value, strict: bool) -> bool {
    // go-yaml writes integral floats without a fraction (`1`, `-0`), so they re-read as ints;
    // sops's own output does this, and the number is unchanged.
    if let (Value::Float(f), Value::Int(i)) | (Value::Int(i), Value::Float(f)) = (a, b) {
        return *f == *i as f64;
    }
    if strict && ValueType::of(a) != ValueType::of(b) {
        return false;
    }
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return matches!((a, b), (Value::Null, Value::Null));
    }
    let mut x = Zeroizing::new(Vec::new());
    let mut y = Zeroizing::new(Vec::new());
    scalar::write_canonical(a, &mut x);
    scalar::write_canonical(b, &mut y);
    x == y
}
