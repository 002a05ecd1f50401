//! Kubernetes awareness: which documents of a stream are manifests, which are Secrets, and
//! whether each Secret is one the API server would accept.
//!
//! The checks follow core/v1 Secret semantics as the API server applies them (`ValidateSecret`
//! in `pkg/apis/core/validation`, `IsConfigMapKey` in apimachinery, the v1 conversion that
//! merges `stringData` into `data`) and as kubectl reads YAML (values become JSON, so a number
//! under `stringData` is refused). Findings name the document and the field, never a value.
//!
//! A `kind: List` document (what `kubectl get … -o yaml` prints) is looked into: each of its
//! `items` counts as a manifest of its own.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use zeroize::Zeroizing;

use crate::crypt::cipher::{Ciphertext, looks_encrypted};
use crate::formats::json;
use crate::go_base64;
use crate::scalar::ValueType;
use crate::tree::{
    Comment, Document, Mapping, MappingItem, Node, Plain, Scalar, ScalarStyle, SequenceItem, Source, Tree, Value,
};

/// The rule everyone writes by hand for Secrets; ksec's default for manifest streams.
pub const SECRET_RULE: &str = "^(data|stringData)$";

/// `core.MaxSecretSize`: the API server refuses a Secret whose data totals more.
const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// `DNS1123SubdomainMaxLength`, the longest Secret key and Secret name.
const MAX_KEY_LEN: usize = 253;

/// The fields of a core/v1 Secret, in the order suggestions prefer them.
const SECRET_FIELDS: [&str; 7] = [
    "apiVersion",
    "kind",
    "metadata",
    "type",
    "data",
    "stringData",
    "immutable",
];

/// A manifest's identity for messages: `Secret/prod/db` (`-` for a missing part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestId {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ManifestId {
    /// The identity of a mapping with a string `kind`. An encrypted name or namespace is shown
    /// as missing rather than as ciphertext.
    fn of(manifest: &Mapping) -> Option<ManifestId> {
        let kind = str_field(manifest, "kind")?;
        let metadata = manifest.get("metadata").and_then(Node::as_mapping);
        let part = |key| {
            metadata
                .and_then(|m| str_field(m, key))
                .filter(|s| !s.is_empty() && !looks_encrypted(s))
                .map(str::to_string)
        };
        Some(ManifestId {
            kind: kind.to_string(),
            namespace: part("namespace"),
            name: part("name"),
        })
    }
}

impl fmt::Display for ManifestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_dash = |part: &Option<String>| part.clone().unwrap_or_else(|| "-".to_string());
        write!(f, "{}/{}/{}", self.kind, or_dash(&self.namespace), or_dash(&self.name))
    }
}

/// One problem found: the document, the field path (`data.tls.crt`, `stringdata`) and what is
/// wrong. The problem never quotes a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub document: ManifestId,
    pub field: String,
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.document, self.field, self.problem)
    }
}

/// Whether every document of the tree is a Kubernetes manifest (top-level string `apiVersion`
/// and `kind`). Empty documents are ignored; a tree with no manifest at all is not a stream.
pub fn is_manifest_stream<S>(tree: &Tree<S>) -> bool {
    let mut documents = tree.documents.iter().filter(|d| !is_empty(d)).peekable();
    documents.peek().is_some() && documents.all(|d| is_manifest(&d.root))
}

/// The identity of each document that is a manifest (`None` for others), in document order.
pub fn manifest_ids<S>(tree: &Tree<S>) -> Vec<Option<ManifestId>> {
    tree.documents
        .iter()
        .map(|d| ManifestId::of(&d.root).filter(|_| is_manifest(&d.root)))
        .collect()
}

/// Checks every `kind: Secret` document (whatever its `apiVersion`) against what the API server
/// and kubectl accept. With `values_encrypted`, `data`/`stringData` values that are `ENC[...]`
/// strings are not read (no base64, JSON or token format checks) but still count as present,
/// and their size is estimated from the ciphertext.
pub fn validate<S>(tree: &Tree<S>, values_encrypted: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for manifest in tree.documents.iter().flat_map(manifests) {
        if is_secret(manifest)
            && let Some(document) = ManifestId::of(manifest)
        {
            let mut check = SecretCheck {
                secret: manifest,
                document,
                values_encrypted,
                findings: &mut findings,
            };
            check.run();
        }
    }
    findings
}

/// The top-level Secret fields that hold no secret value. Every other field is held to the
/// rule for `data` and `stringData`: a misspelt `strngData` or an invented `secretData` is
/// where plaintext hides, and `--no-validate` (which skips the unknown-field check) must not
/// let it out in clear.
const SECRET_FREE_FIELDS: [&str; 5] = ["apiVersion", "kind", "metadata", "type", "immutable"];

/// The annotation `kubectl apply` and `kubectl create --save-config` write: the whole object as
/// last applied, so on a Secret it is a second copy of `data` and `stringData`.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// After encryption: every non-empty leaf (and comment) of every Secret field but `apiVersion`,
/// `kind`, `metadata`, `type` and `immutable` must be an `ENC[...]` string, and so must the
/// [`LAST_APPLIED`] annotation. Returns one finding per leaf or comment left in clear.
pub fn plaintext_in_secrets<S>(tree: &Tree<S>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for manifest in tree.documents.iter().flat_map(manifests) {
        let Some(document) = ManifestId::of(manifest).filter(|_| is_secret(manifest)) else {
            continue;
        };
        for entry in manifest.entries() {
            let mut clear = Vec::new();
            let mut why = "";
            if entry.key == "metadata" {
                if let Some(copy) = entry
                    .value
                    .as_mapping()
                    .and_then(|m| m.get("annotations"))
                    .and_then(Node::as_mapping)
                    .and_then(|a| a.get(LAST_APPLIED))
                {
                    clear_leaves(copy, &format!("metadata.annotations.{LAST_APPLIED}"), &mut clear);
                    why = " (the annotation is a copy of the whole Secret, data included)";
                }
            } else if !SECRET_FREE_FIELDS.contains(&entry.key.as_str()) {
                clear_leaves(&entry.value, &entry.key, &mut clear);
            }
            findings.extend(clear.into_iter().map(|(field, what)| Finding {
                document: document.clone(),
                field,
                problem: format!("{what} left in clear in a Secret{why}"),
            }));
        }
    }
    findings
}

/// Manifests that are not Secrets but hold encrypted values or comments (a ConfigMap's `data`
/// matches the Secret rule too), in document order.
pub fn encrypted_non_secrets<S>(tree: &Tree<S>) -> Vec<ManifestId> {
    tree.documents
        .iter()
        .flat_map(manifests)
        .filter(|m| !is_secret(m) && mapping_has_ciphertext(m))
        .filter_map(ManifestId::of)
        .collect()
}

/// Shows each Secret's `data` values decoded, for editing: text as a string, anything that is
/// not UTF-8 as bytes (YAML writes those `!!binary`). Returns `false`, changing nothing, when a
/// `data` value is not a base64 string: re-encoding on save would then corrupt it.
pub fn decode_secret_data(tree: &mut Tree<Plain>) -> bool {
    let mut decoded: Vec<(usize, usize, Value)> = Vec::new();
    for (d, document) in tree.documents.iter().enumerate() {
        let Some(data) = secret_data(&document.root) else {
            continue;
        };
        for (i, item) in data.items.iter().enumerate() {
            let MappingItem::Entry(entry) = item else { continue };
            let Some(Value::Str(text)) = entry.value.as_value() else {
                return false;
            };
            let Ok(bytes) = go_base64::decode(text) else {
                return false;
            };
            let value = match std::str::from_utf8(&bytes) {
                Ok(text) => Value::str(text),
                Err(_) => Value::Bytes(bytes),
            };
            decoded.push((d, i, value));
        }
    }
    for (d, i, value) in decoded {
        if let Some(data) = secret_data_mut(&mut tree.documents[d].root)
            && let MappingItem::Entry(entry) = &mut data.items[i]
            && let Node::Scalar(scalar) = &mut entry.value
        {
            scalar.replace(value);
        }
    }
    true
}

/// The reverse of [`decode_secret_data`]: every Secret's `data` values base64-encoded again.
/// In the decoded view every value is text, so a plain scalar YAML reads as a number, boolean
/// or date is encoded as the text it was written as (`0755` stays "0755", not "493"); an empty
/// value is the empty string. A nested collection, and a value whose text cannot be told
/// (spelled-out null, a tag asking for a type, an alias of one), is an error naming the
/// document and key.
pub fn encode_secret_data(tree: &mut Tree<Plain>) -> Result<(), Vec<Finding>> {
    let mut findings = Vec::new();
    let source = tree.source.clone();
    for document in &mut tree.documents {
        let id = ManifestId::of(&document.root);
        let Some(data) = secret_data_mut(&mut document.root) else {
            continue;
        };
        for item in &mut data.items {
            let MappingItem::Entry(entry) = item else { continue };
            let mut refuse = |problem: &str| {
                findings.push(Finding {
                    document: id.clone().expect("a Secret has a kind"),
                    field: format!("data.{}", entry.key),
                    problem: problem.into(),
                })
            };
            let Node::Scalar(scalar) = &mut entry.value else {
                refuse("must be a single value, not a list or mapping");
                continue;
            };
            let text = match written_text(scalar, source.as_deref()) {
                Ok(text) => text,
                Err(problem) => {
                    refuse(problem);
                    continue;
                }
            };
            scalar.replace(Value::Str(Zeroizing::new(
                base64::engine::general_purpose::STANDARD.encode(&*text),
            )));
        }
    }
    if findings.is_empty() { Ok(()) } else { Err(findings) }
}

/// The bytes a decoded `data` value stands for: a string's or `!!binary`'s content, else the
/// text the scalar was written as in `source`. A tree not read from text has nothing written:
/// its typed values give their canonical text.
fn written_text(scalar: &Scalar, source: Option<&Source>) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    match &scalar.value {
        Value::Str(s) => return Ok(Zeroizing::new(s.as_bytes().to_vec())),
        Value::Bytes(b) => return Ok(Zeroizing::new(b.to_vec())),
        _ => {}
    }
    let (Some(origin), Some(source)) = (scalar.origin, source) else {
        return Ok(Zeroizing::new(crate::scalar::go_text(&scalar.value)));
    };
    if origin.style == ScalarStyle::Alias {
        return Err("is an alias of a value that is not text: write the value itself");
    }
    let written = source
        .text
        .get(origin.span.start..origin.span.end)
        .ok_or("cannot be read back as written: quote it")?;
    if written.starts_with('!') {
        return Err("has a YAML tag asking for a type: every `data` value is text, remove the tag");
    }
    match scalar.value {
        // `key:` with nothing after it: there is no text, and Kubernetes stores a null value
        // as empty too.
        Value::Null if written.is_empty() => Ok(Zeroizing::new(Vec::new())),
        // `null` or `~` may mean "empty" or the word itself: guessing could store the wrong
        // credential without a word, so the user says which.
        Value::Null => Err("is null: write '' for an empty value, or quote the text to store it as written"),
        _ => Ok(Zeroizing::new(written.as_bytes().to_vec())),
    }
}

/// A Secret's keys as environment variables, as a pod's `envFrom` sees them: `data` decoded,
/// then `stringData` (which wins, as the API server merges it over `data`). `None` when the
/// document is not a Secret. Values that are not base64 (or not strings) are skipped.
pub fn secret_environment(root: &Mapping) -> Option<Vec<(String, Zeroizing<Vec<u8>>)>> {
    if !is_secret(root) {
        return None;
    }
    let mut env: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    let mut set = |key: &str, value: Zeroizing<Vec<u8>>| match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => env.push((key.to_string(), value)),
    };
    if let Some(data) = secret_data(root) {
        for entry in data.entries() {
            if let Some(Value::Str(text)) = entry.value.as_value()
                && let Ok(bytes) = go_base64::decode(text)
            {
                set(&entry.key, bytes);
            }
        }
    }
    if let Some(string_data) = root.get("stringData").and_then(Node::as_mapping) {
        for entry in string_data.entries() {
            if let Some(Value::Str(text)) = entry.value.as_value() {
                set(&entry.key, Zeroizing::new(text.as_bytes().to_vec()));
            }
        }
    }
    Some(env)
}

fn secret_data(root: &Mapping) -> Option<&Mapping> {
    if !is_secret(root) {
        return None;
    }
    root.get("data").and_then(Node::as_mapping)
}

fn secret_data_mut(root: &mut Mapping) -> Option<&mut Mapping> {
    if !is_secret(root) {
        return None;
    }
    root.items.iter_mut().find_map(|item| match item {
        MappingItem::Entry(e) if e.key == "data" => match &mut e.value {
            Node::Mapping(m) => Some(m),
            _ => None,
        },
        _ => None,
    })
}

fn is_empty(document: &Document) -> bool {
    document.root.entries().next().is_none()
}

fn is_manifest(root: &Mapping) -> bool {
    str_field(root, "apiVersion").is_some() && str_field(root, "kind").is_some()
}

fn is_secret(manifest: &Mapping) -> bool {
    str_field(manifest, "kind") == Some("Secret")
}

/// The manifests of a document: its root, or the mapping items of a `List`.
fn manifests(document: &Document) -> Vec<&Mapping> {
    let root = &document.root;
    let is_list = str_field(root, "kind").is_some_and(|k| k.ends_with("List"));
    match root.get("items") {
        Some(Node::Sequence(items)) if is_list => items
            .items
            .iter()
            .filter_map(|item| match item {
                SequenceItem::Node(Node::Mapping(m)) => Some(m),
                _ => None,
            })
            .collect(),
        _ => vec![root],
    }
}

fn str_field<'a>(mapping: &'a Mapping, key: &str) -> Option<&'a str> {
    mapping.get(key).and_then(Node::as_value).and_then(Value::as_str)
}

/// Leaves and comments under `node` that are neither empty nor `ENC[...]`, with their paths.
fn clear_leaves(node: &Node, path: &str, out: &mut Vec<(String, &'static str)>) {
    match node {
        Node::Scalar(scalar) => {
            let empty = match &scalar.value {
                Value::Null => true,
                Value::Str(s) => s.is_empty(),
                Value::Bytes(b) => b.is_empty(),
                _ => false,
            };
            let sealed = scalar.value.as_str().is_some_and(looks_encrypted);
            if !empty && !sealed {
                out.push((path.to_string(), "value"));
            }
        }
        Node::Mapping(mapping) => {
            for item in &mapping.items {
                match item {
                    MappingItem::Entry(e) => clear_leaves(&e.value, &format!("{path}.{}", e.key), out),
                    MappingItem::Comment(c) => clear_comment(c, path, out),
                }
            }
        }
        Node::Sequence(sequence) => {
            let mut index = 0;
            for item in &sequence.items {
                match item {
                    SequenceItem::Node(n) => {
                        clear_leaves(n, &format!("{path}[{index}]"), out);
                        index += 1;
                    }
                    SequenceItem::Comment(c) => clear_comment(c, path, out),
                }
            }
        }
    }
}

/// A comment the encryption walk would have sealed (it skips only empty ones) but did not.
fn clear_comment(comment: &Comment, path: &str, out: &mut Vec<(String, &'static str)>) {
    if !comment.text.is_empty() && !looks_encrypted(&comment.text) {
        out.push((path.to_string(), "comment"));
    }
}

fn mapping_has_ciphertext(mapping: &Mapping) -> bool {
    mapping.items.iter().any(|item| match item {
        MappingItem::Entry(e) => has_ciphertext(&e.value),
        MappingItem::Comment(c) => looks_encrypted(&c.text),
    })
}

fn has_ciphertext(node: &Node) -> bool {
    match node {
        Node::Scalar(s) => s.value.as_str().is_some_and(looks_encrypted),
        Node::Mapping(m) => mapping_has_ciphertext(m),
        Node::Sequence(s) => s.items.iter().any(|item| match item {
            SequenceItem::Node(n) => has_ciphertext(n),
            SequenceItem::Comment(c) => looks_encrypted(&c.text),
        }),
    }
}

/// What ksec knows of one Secret value once `stringData` is merged over `data`.
struct SecretValue {
    /// `data` or `stringData`: where the value that wins was written.
    from: &'static str,
    content: Content,
}

enum Content {
    /// The bytes Kubernetes would store (base64-decoded for `data`).
    Clear(Zeroizing<Vec<u8>>),
    /// An `ENC[...]` value; `len` is the stored size estimated from the ciphertext.
    Sealed { len: usize },
    /// Present but not readable (already reported: bad base64, wrong type, not a ciphertext).
    Unreadable,
}

impl SecretValue {
    fn is_empty(&self) -> bool {
        match &self.content {
            Content::Clear(bytes) => bytes.is_empty(),
            Content::Sealed { len } => *len == 0,
            Content::Unreadable => false,
        }
    }
}

/// One Secret being checked; findings are appended in the order the checks run.
struct SecretCheck<'a> {
    secret: &'a Mapping,
    document: ManifestId,
    values_encrypted: bool,
    findings: &'a mut Vec<Finding>,
}

impl<'a> SecretCheck<'a> {
    fn run(&mut self) {
        self.top_level_fields();
        self.metadata();
        self.scalar_fields();
        let values = self.values();
        self.size(&values);
        if let Some(secret_type) = self.readable_str("type") {
            self.type_requirements(secret_type, &values);
        }
    }

    fn report(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.findings.push(Finding {
            document: self.document.clone(),
            field: field.into(),
            problem: problem.into(),
        });
    }

    /// A string the checks may read: not a ciphertext when the file is encrypted.
    fn readable<'s>(&self, value: &'s str) -> Option<&'s str> {
        (!(self.values_encrypted && looks_encrypted(value))).then_some(value)
    }

    fn readable_str(&self, key: &str) -> Option<&'a str> {
        str_field(self.secret, key).and_then(|s| self.readable(s))
    }

    /// Unknown and repeated top-level fields: the API server's strict field validation (the
    /// default since kubectl 1.27) refuses both, and a misspelt `stringdata` is not matched by
    /// the Secret rule, so its values would be committed in clear.
    fn top_level_fields(&mut self) {
        let mut seen: Vec<&str> = Vec::new();
        for entry in self.secret.entries() {
            let key = entry.key.as_str();
            if !SECRET_FIELDS.contains(&key) {
                let problem = match suggestion(key) {
                    Some(near) => format!("unknown field (did you mean `{near}`?)"),
                    None => format!(
                        "unknown field; a Secret has only {}",
                        SECRET_FIELDS.map(|f| format!("`{f}`")).join(", ")
                    ),
                };
                self.report(key, problem);
            } else if seen.contains(&key) {
                self.report(key, "appears twice; Kubernetes refuses duplicate fields");
            }
            seen.push(key);
        }
        if str_field(self.secret, "apiVersion").is_none() {
            self.report("apiVersion", "missing or not a string; kubectl needs `apiVersion: v1`");
        }
    }

    fn metadata(&mut self) {
        let Some(metadata) = self.secret.get("metadata").and_then(Node::as_mapping) else {
            self.report("metadata.name", "missing; kubectl refuses a Secret without a name");
            return;
        };
        match metadata.get("name").and_then(Node::as_value) {
            None | Some(Value::Null) => {
                if !self.generate_name(metadata) {
                    self.report("metadata.name", "missing; kubectl refuses a Secret without a name");
                }
            }
            Some(Value::Str(name)) => {
                if let Some(name) = self.readable(name)
                    && !is_dns_subdomain(name)
                {
                    self.report(
                        "metadata.name",
                        "not a valid Secret name: lowercase letters, digits, `-` and `.`, \
                         starting and ending with a letter or digit, at most 253 characters",
                    );
                }
            }
            Some(_) => self.report("metadata.name", "must be a string"),
        }
        match metadata.get("namespace").and_then(Node::as_value) {
            None | Some(Value::Null) => {}
            Some(Value::Str(namespace)) => {
                if let Some(namespace) = self.readable(namespace)
                    && !is_dns_label(namespace)
                {
                    self.report(
                        "metadata.namespace",
                        "not a valid namespace: lowercase letters, digits and `-`, starting and \
                         ending with a letter or digit, at most 63 characters",
                    );
                }
            }
            Some(_) => self.report("metadata.namespace", "must be a string"),
        }
    }

    /// Whether `generateName` gives the Secret its name (`kubectl create` sends it, the API
    /// server appends a random suffix), reporting a prefix the API server would refuse.
    fn generate_name(&mut self, metadata: &Mapping) -> bool {
        match metadata.get("generateName").and_then(Node::as_value) {
            None | Some(Value::Null) => false,
            Some(Value::Str(prefix)) if prefix.is_empty() => false,
            Some(Value::Str(prefix)) => {
                // As `ValidateSecretName(prefix, true)`: a trailing `-` is fine, the suffix follows.
                if let Some(prefix) = self.readable(prefix)
                    && !is_dns_subdomain(&mask_trailing_dash(prefix))
                {
                    self.report(
                        "metadata.generateName",
                        "not a valid Secret name prefix: lowercase letters, digits, `-` and `.`, \
                         starting with a letter or digit",
                    );
                }
                true
            }
            Some(_) => {
                self.report("metadata.generateName", "must be a string");
                true
            }
        }
    }

    /// `type` is a string and `immutable` a boolean; kubectl cannot decode anything else.
    fn scalar_fields(&mut self) {
        let secret = self.secret;
        let has = |key, ok: fn(&Value) -> bool| secret.get(key).is_none_or(|n| n.as_value().is_some_and(ok));
        if !has("type", |v| matches!(v, Value::Null | Value::Str(_))) {
            self.report("type", "must be a string such as `Opaque` or `kubernetes.io/tls`");
        }
        if !has("immutable", |v| matches!(v, Value::Null | Value::Bool(_))) {
            self.report("immutable", "must be `true` or `false`");
        }
    }

    /// Reads `data` then `stringData` into one map, as the API server merges them (a key in
    /// both takes its `stringData` value), reporting what the API server or kubectl refuses.
    fn values(&mut self) -> BTreeMap<String, SecretValue> {
        let mut values = BTreeMap::new();
        for (field, from_data) in [("data", true), ("stringData", false)] {
            let Some(node) = self.secret.get(field) else { continue };
            let mapping = match node {
                Node::Mapping(m) => m,
                Node::Scalar(s) if s.value == Value::Null => continue,
                _ => {
                    let what = if from_data { "base64 strings" } else { "strings" };
                    self.report(field, format!("must be a mapping of keys to {what}"));
                    continue;
                }
            };
            let mut seen: Vec<&str> = Vec::new();
            for entry in mapping.entries() {
                let path = format!("{field}.{}", entry.key);
                if let Some(problem) = key_problem(&entry.key) {
                    self.report(path.clone(), problem);
                }
                if seen.contains(&entry.key.as_str()) {
                    self.report(path.clone(), "appears twice; Kubernetes refuses duplicate keys");
                }
                seen.push(&entry.key);
                let content = if from_data {
                    self.data_value(&path, &entry.value)
                } else {
                    self.string_data_value(&path, &entry.value)
                };
                values.insert(entry.key.clone(), SecretValue { from: field, content });
            }
        }
        values
    }

    fn data_value(&mut self, path: &str, node: &Node) -> Content {
        let value = match node {
            Node::Scalar(s) => &s.value,
            Node::Mapping(_) | Node::Sequence(_) => {
                self.report(path, "must be a base64 string, not a nested structure");
                return Content::Unreadable;
            }
        };
        match value {
            Value::Null => Content::Clear(Zeroizing::new(Vec::new())),
            Value::Str(text) if self.values_encrypted && looks_encrypted(text) => {
                self.sealed(path, text, &[ValueType::Str], |plain| plain / 4 * 3)
            }
            Value::Str(text) => match decode_base64(text) {
                Ok(bytes) => Content::Clear(bytes),
                Err(why) => {
                    self.report(
                        path,
                        format!(
                            "not valid base64 ({why}); data values must be standard base64 with \
                             `=` padding (put clear text under stringData instead)"
                        ),
                    );
                    Content::Unreadable
                }
            },
            other => {
                self.report(path, format!("must be a base64 string, not {}", describe(other)));
                Content::Unreadable
            }
        }
    }

    fn string_data_value(&mut self, path: &str, node: &Node) -> Content {
        let value = match node {
            Node::Scalar(s) => &s.value,
            Node::Mapping(_) | Node::Sequence(_) => {
                self.report(path, "must be a string, not a nested structure");
                return Content::Unreadable;
            }
        };
        match value {
            Value::Null => Content::Clear(Zeroizing::new(Vec::new())),
            Value::Str(text) if self.values_encrypted && looks_encrypted(text) => {
                self.sealed(path, text, &[ValueType::Str, ValueType::Time], |plain| plain)
            }
            Value::Str(text) => Content::Clear(Zeroizing::new(text.as_bytes().to_vec())),
            // kubectl reads YAML with go-yaml v2, which leaves a timestamp as its text (checked
            // with `kubectl label --local -o json`); a number stays a number and the API
            // server cannot decode it into a string field.
            Value::Time(t) => Content::Clear(Zeroizing::new(t.to_rfc3339_nano().into_bytes())),
            other => {
                self.report(
                    path,
                    format!(
                        "must be a string, not {}; Kubernetes refuses non-string stringData values \
                         (quote it)",
                        describe(other)
                    ),
                );
                Content::Unreadable
            }
        }
    }

    /// An `ENC[...]` value: its `type:` says what it decrypts to, its `data:` how long it is.
    fn sealed(&mut self, path: &str, text: &str, types: &[ValueType], stored: fn(usize) -> usize) -> Content {
        let ciphertext = match Ciphertext::parse(text) {
            Ok(ciphertext) => ciphertext,
            Err(why) => {
                self.report(path, format!("not a sops value ksec can read ({why})"));
                return Content::Unreadable;
            }
        };
        if !types.contains(&ciphertext.value_type) {
            self.report(
                path,
                format!(
                    "decrypts to a value of type `{}`; Kubernetes needs a string here (quote it before \
                     encrypting)",
                    ciphertext.value_type.name()
                ),
            );
            return Content::Unreadable;
        }
        Content::Sealed {
            len: stored(ciphertext.plaintext_len()),
        }
    }

    /// The total of decoded `data` and `stringData` bytes (`core.MaxSecretSize`). Encrypted
    /// values count as the size their ciphertext encodes, so the total is an estimate within a
    /// couple of bytes per value.
    fn size(&mut self, values: &BTreeMap<String, SecretValue>) {
        let mut total = 0usize;
        let mut estimated = false;
        for value in values.values() {
            match &value.content {
                Content::Clear(bytes) => total += bytes.len(),
                Content::Sealed { len } => {
                    total += len;
                    estimated = true;
                }
                Content::Unreadable => {}
            }
        }
        if total > MAX_SECRET_SIZE {
            let about = if estimated { "about " } else { "" };
            let mib = total as f64 / MAX_SECRET_SIZE as f64;
            self.report(
                "data",
                format!(
                    "Secret is {about}{mib:.1} MiB ({total} bytes); Kubernetes limits a Secret to \
                     1 MiB ({MAX_SECRET_SIZE} bytes)"
                ),
            );
        }
    }

    fn type_requirements(&mut self, secret_type: &str, values: &BTreeMap<String, SecretValue>) {
        let need = |what: &str| format!("missing; a {secret_type} Secret needs {what} (in data or stringData)");
        match secret_type {
            "kubernetes.io/tls" => {
                for key in ["tls.crt", "tls.key"] {
                    if !values.contains_key(key) {
                        self.report(format!("data.{key}"), need("`tls.crt` and `tls.key`"));
                    }
                }
            }
            // The API server accepts empty values; only presence is required.
            "kubernetes.io/basic-auth" if !values.contains_key("username") && !values.contains_key("password") => {
                self.report(
                    "data",
                    format!("no `username` or `password`; a {secret_type} Secret needs at least one"),
                );
            }
            "kubernetes.io/ssh-auth" => match values.get("ssh-privatekey") {
                None => self.report("data.ssh-privatekey", need("`ssh-privatekey`")),
                Some(v) if v.is_empty() => self.report(
                    format!("{}.ssh-privatekey", v.from),
                    format!("empty; a {secret_type} Secret needs a key"),
                ),
                Some(_) => {}
            },
            "kubernetes.io/dockerconfigjson" => self.docker_config(secret_type, ".dockerconfigjson", values),
            "kubernetes.io/dockercfg" => self.docker_config(secret_type, ".dockercfg", values),
            "kubernetes.io/service-account-token" => self.service_account_annotation(secret_type),
            "bootstrap.kubernetes.io/token" => self.bootstrap_token(values),
            _ => {}
        }
    }

    /// The API server unmarshals the config into a `map[string]interface{}`: it must be a JSON
    /// object (or `null`, which Go accepts as an empty map).
    fn docker_config(&mut self, secret_type: &str, key: &str, values: &BTreeMap<String, SecretValue>) {
        let Some(value) = values.get(key) else {
            self.report(
                format!("data.{key}"),
                format!("missing; a {secret_type} Secret needs `{key}` (in data or stringData)"),
            );
            return;
        };
        if let Content::Clear(bytes) = &value.content
            && let Err(why) = json::check_map(bytes)
        {
            self.report(format!("{}.{key}", value.from), why.to_string());
        }
    }

    fn service_account_annotation(&mut self, secret_type: &str) {
        const ANNOTATION: &str = "kubernetes.io/service-account.name";
        let annotation = self
            .secret
            .get("metadata")
            .and_then(Node::as_mapping)
            .and_then(|m| m.get("annotations"))
            .and_then(Node::as_mapping)
            .and_then(|a| str_field(a, ANNOTATION));
        if annotation.is_none_or(str::is_empty) {
            self.report(
                format!("metadata.annotations.{ANNOTATION}"),
                format!("missing; a {secret_type} Secret names its ServiceAccount there"),
            );
        }
    }

    /// The API server itself stores any `bootstrap.kubernetes.io/token` Secret: `ValidateSecret`
    /// has no case for this type. What is enforced here is what the bootstrap token authenticator
    /// and signer require (`k8s.io/cluster-bootstrap`): `token-id` of 6 and `token-secret` of 16
    /// `[a-z0-9]` characters, and the name `bootstrap-token-<token-id>`. They skip a Secret
    /// that breaks these rules without a word, so it would be applied and never work.
    fn bootstrap_token(&mut self, values: &BTreeMap<String, SecretValue>) {
        let ignored = "the bootstrap token authenticator ignores the Secret otherwise";
        let mut token_id = None;
        for (key, len) in [("token-id", 6), ("token-secret", 16)] {
            match values.get(key) {
                None => self.report(format!("data.{key}"), format!("missing; {ignored}")),
                Some(value) => {
                    if let Content::Clear(bytes) = &value.content {
                        let valid =
                            bytes.len() == len && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                        if !valid {
                            self.report(
                                format!("{}.{key}", value.from),
                                format!("must be {len} characters of `a-z` and `0-9`; {ignored}"),
                            );
                        } else if key == "token-id" {
                            token_id = Some(bytes.clone());
                        }
                    }
                }
            }
        }
        let metadata = self.secret.get("metadata").and_then(Node::as_mapping);
        // The authenticator and signer list Secrets in kube-system only. A Secret without a
        // namespace goes where `kubectl apply -n` sends it, which the manifest cannot tell.
        if let Some(namespace) = metadata
            .and_then(|m| str_field(m, "namespace"))
            .and_then(|n| self.readable(n))
            && namespace != "kube-system"
        {
            self.report("metadata.namespace", format!("must be `kube-system`; {ignored}"));
        }
        let Some(name) = metadata
            .and_then(|m| str_field(m, "name"))
            .and_then(|n| self.readable(n))
        else {
            return;
        };
        let suffix = name.strip_prefix("bootstrap-token-");
        let valid_form =
            suffix.is_some_and(|id| id.len() == 6 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        let matches_id = match (&token_id, suffix) {
            (Some(id), Some(suffix)) => id.as_slice() == suffix.as_bytes(),
            _ => true,
        };
        if !valid_form || !matches_id {
            self.report(
                "metadata.name",
                format!("must be `bootstrap-token-` followed by the token-id; {ignored}"),
            );
        }
    }
}

/// What is wrong with a `data`/`stringData` key (`IsConfigMapKey`), if anything.
fn key_problem(key: &str) -> Option<String> {
    let mut problems = Vec::new();
    if key.len() > MAX_KEY_LEN {
        problems.push(format!("longer than {MAX_KEY_LEN} characters"));
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        problems.push("only letters, digits, `-`, `_` and `.` are allowed".to_string());
    }
    if key == "." || key == ".." {
        problems.push("`.` and `..` are not allowed".to_string());
    } else if key.starts_with("..") {
        problems.push("must not start with `..`".to_string());
    }
    (!problems.is_empty()).then(|| format!("invalid key: {}", problems.join("; ")))
}

/// A lowercase RFC 1123 subdomain, as Secret names must be.
fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= MAX_KEY_LEN && name.split('.').all(|label| is_rfc1123_label(label, MAX_KEY_LEN))
}

/// apimachinery's `maskTrailingDash`: a name prefix may end in `-`.
fn mask_trailing_dash(prefix: &str) -> String {
    match prefix.strip_suffix('-') {
        Some(head) if !head.is_empty() => format!("{head}a"),
        _ => prefix.to_string(),
    }
}

/// A lowercase RFC 1123 label, as namespaces must be.
fn is_dns_label(name: &str) -> bool {
    is_rfc1123_label(name, 63)
}

fn is_rfc1123_label(label: &str, max: usize) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= max
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// The allowed field a misspelt one most likely meant: same letters in another case, or a
/// small edit away (one edit for short names, two for long ones).
fn suggestion(field: &str) -> Option<&'static str> {
    if let Some(same) = SECRET_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(field)) {
        return Some(same);
    }
    let lower = field.to_ascii_lowercase();
    SECRET_FIELDS
        .iter()
        .map(|f| (edit_distance(&lower, &f.to_ascii_lowercase()), *f))
        .filter(|(distance, f)| *distance <= (f.len() / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, f)| f)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// What a scalar is, for messages that must not show it.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Time(_) => "a timestamp",
        Value::Bytes(_) => "binary data",
    }
}

/// Decodes a `data` value as the API server does; the error names a position, never content.
fn decode_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    go_base64::decode(text).map_err(|e| match e {
        base64::DecodeError::InvalidByte(at, _) => format!("unexpected character at offset {at}"),
        base64::DecodeError::InvalidLength(_) => "wrong length".to_string(),
        base64::DecodeError::InvalidLastSymbol(at, _) => format!("bad final character at offset {at}"),
        base64::DecodeError::InvalidPadding => "missing or misplaced `=` padding".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, parse};
    use crate::tree::Parsed;

    fn yaml(text: &str) -> Tree<Parsed> {
        parse(Format::Yaml, text.as_bytes(), "t.yaml").expect("test YAML parses")
    }

    fn findings(text: &str) -> Vec<String> {
        validate(&yaml(text), false).iter().map(ToString::to_string).collect()
    }

    fn encrypted_findings(text: &str) -> Vec<String> {
        validate(&yaml(text), true).iter().map(ToString::to_string).collect()
    }

    /// A sealed value as ksec writes it; only its shape matters here.
    fn enc(data: &str, value_type: &str) -> String {
        format!(
            "ENC[AES256_GCM,data:{data},iv:OR1my24slcHXdxx4ct0XST/uky7cZiRHvlqaFkjb12I=,tag:Iouj0Uhzc7NoF39SBxYh0Q==,type:{value_type}]"
        )
    }

    #[test]
    fn kubectl_generic_secret_passes() {
        let tree = yaml(include_str!("../testdata/kubectl-secret.yaml"));
        assert!(validate(&tree, false).is_empty());
        assert!(is_manifest_stream(&tree));
    }

    #[test]
    fn valid_opaque_secret_with_data_and_string_data_passes() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: prod\n  labels: {a: b}\ntype: Opaque\nimmutable: true\ndata:\n  ca.crt: |\n    Y2VydGlm\n    aWNhdGU=\n  empty: \"\"\n  nothing:\nstringData:\n  password: hunter2\n  expires: 2020-09-13T04:39:10Z\n  blank:\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn kubectl_docker_registry_secret_passes() {
        // `kubectl create secret docker-registry reg --docker-server=r.io --docker-username=u
        // --docker-password=p --dry-run=client -o yaml`
        let text = "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJyLmlvIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ==\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: reg\ntype: kubernetes.io/dockerconfigjson\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn tls_secret_without_key_names_the_missing_key() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: prod\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\n";
        assert_eq!(
            findings(text),
            [
                "Secret/prod/web: data.tls.key: missing; a kubernetes.io/tls Secret needs `tls.crt` and `tls.key` (in data or stringData)"
            ]
        );
    }

    #[test]
    fn tls_keys_may_come_from_string_data_and_be_empty() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\ntype: kubernetes.io/tls\ndata:\n  tls.crt: \"\"\nstringData:\n  tls.key: k\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn basic_auth_needs_username_or_password() {
        let empty = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ba\ntype: kubernetes.io/basic-auth\ndata: {}\n";
        assert_eq!(
            findings(empty),
            ["Secret/-/ba: data: no `username` or `password`; a kubernetes.io/basic-auth Secret needs at least one"]
        );
        let only_password = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ba\ntype: kubernetes.io/basic-auth\nstringData:\n  password: \"\"\n";
        assert_eq!(findings(only_password), Vec::<String>::new());
    }

    #[test]
    fn ssh_auth_needs_a_non_empty_private_key() {
        let missing = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: git\ntype: kubernetes.io/ssh-auth\ndata:\n  known_hosts: eA==\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/git: data.ssh-privatekey: missing; a kubernetes.io/ssh-auth Secret needs `ssh-privatekey` (in data or stringData)"
            ]
        );
        let empty = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: git\ntype: kubernetes.io/ssh-auth\nstringData:\n  ssh-privatekey: \"\"\n";
        assert_eq!(
            findings(empty),
            ["Secret/-/git: stringData.ssh-privatekey: empty; a kubernetes.io/ssh-auth Secret needs a key"]
        );
    }

    #[test]
    fn dockerconfigjson_must_hold_a_json_object() {
        // base64 of `{"auths":` (cut short)
        let bad = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6\n";
        assert_eq!(
            findings(bad),
            ["Secret/-/reg: data..dockerconfigjson: not valid JSON (unexpected end)"]
        );
        let array = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '[1, 2]'\n";
        assert_eq!(
            findings(array),
            ["Secret/-/reg: stringData..dockerconfigjson: must hold a JSON object"]
        );
        let missing = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/reg: data..dockerconfigjson: missing; a kubernetes.io/dockerconfigjson Secret needs `.dockerconfigjson` (in data or stringData)"
            ]
        );
    }

    #[test]
    fn dockercfg_is_checked_like_dockerconfigjson() {
        let good = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{\"r.io\": {\"auth\": \"dTpw\", \"n\": [1.5e3, -0, true, null, \"\\u00e9\"]}}'\n";
        assert_eq!(findings(good), Vec::<String>::new());
        let bad = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{\"r.io\": 01}'\n";
        assert_eq!(
            findings(bad),
            ["Secret/-/reg: stringData..dockercfg: not valid JSON (unexpected character at byte 10)"]
        );
    }

    #[test]
    fn bad_base64_names_the_key_and_not_the_value() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  password: hunter2!\n  user: YWRtaW4\n";
        let found = findings(text);
        assert_eq!(
            found,
            [
                "Secret/prod/db: data.password: not valid base64 (unexpected character at offset 7); data values must be standard base64 with `=` padding (put clear text under stringData instead)",
                "Secret/prod/db: data.user: not valid base64 (missing or misplaced `=` padding); data values must be standard base64 with `=` padding (put clear text under stringData instead)",
            ]
        );
        assert!(found.iter().all(|f| !f.contains("hunter2") && !f.contains("YWRtaW4")));
    }

    #[test]
    fn base64_is_read_as_go_reads_it() {
        assert_eq!(decode_base64("YWRtaW4=").unwrap().as_slice(), b"admin");
        // Line breaks are skipped, stray trailing bits tolerated.
        assert_eq!(decode_base64("YWRt\r\naW4=\n").unwrap().as_slice(), b"admin");
        assert_eq!(decode_base64("YQ==").unwrap().as_slice(), b"a");
        assert_eq!(decode_base64("YR==").unwrap().as_slice(), b"a");
        assert!(decode_base64("YWRtaW4").is_err());
        assert!(decode_base64("_-8=").is_err(), "URL-safe alphabet is refused");
        assert!(decode_base64("YWRt aW4=").is_err());
    }

    #[test]
    fn string_data_refuses_numbers_and_booleans() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  port: 5432\n  debug: true\n  nested: {a: b}\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: stringData.port: must be a string, not a number; Kubernetes refuses non-string stringData values (quote it)",
                "Secret/-/db: stringData.debug: must be a string, not a boolean; Kubernetes refuses non-string stringData values (quote it)",
                "Secret/-/db: stringData.nested: must be a string, not a nested structure",
            ]
        );
    }

    #[test]
    fn data_and_string_data_must_be_mappings() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata: [a]\nstringData: text\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: data: must be a mapping of keys to base64 strings",
                "Secret/-/db: stringData: must be a mapping of keys to strings",
            ]
        );
    }

    #[test]
    fn keys_must_be_valid_secret_keys() {
        let long = "k".repeat(254);
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  \"a b\": x\n  ..data: x\n  \".\": x\n  {long}: x\n  ok-_.K9: x\n"
        );
        assert_eq!(
            findings(&text),
            [
                "Secret/-/db: stringData.a b: invalid key: only letters, digits, `-`, `_` and `.` are allowed"
                    .to_string(),
                "Secret/-/db: stringData...data: invalid key: must not start with `..`".to_string(),
                "Secret/-/db: stringData..: invalid key: `.` and `..` are not allowed".to_string(),
                format!("Secret/-/db: stringData.{long}: invalid key: longer than 253 characters"),
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        // The YAML reader refuses duplicates itself; JSON keeps them, as sops does.
        let text = r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "stringData": {"a": "x", "a": "y"}, "kind": "Secret"}"#;
        let tree = parse(Format::Json, text.as_bytes(), "t.json").expect("test JSON parses");
        let found: Vec<String> = validate(&tree, false).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "Secret/-/db: kind: appears twice; Kubernetes refuses duplicate fields",
                "Secret/-/db: stringData.a: appears twice; Kubernetes refuses duplicate keys",
            ]
        );
    }

    #[test]
    fn misspelt_string_data_is_an_unknown_field_with_a_suggestion() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringdata:\n  password: hunter2\n";
        assert_eq!(
            findings(text),
            ["Secret/prod/db: stringdata: unknown field (did you mean `stringData`?)"]
        );
    }

    #[test]
    fn suggestions_cover_small_typos_and_nothing_far() {
        assert_eq!(suggestion("stringdata"), Some("stringData"));
        assert_eq!(suggestion("StringData"), Some("stringData"));
        assert_eq!(suggestion("strngData"), Some("stringData"));
        assert_eq!(suggestion("datas"), Some("data"));
        assert_eq!(suggestion("metdata"), Some("metadata"));
        assert_eq!(suggestion("immutible"), Some("immutable"));
        assert_eq!(suggestion("apiversion"), Some("apiVersion"));
        assert_eq!(suggestion("meta"), None);
        assert_eq!(suggestion("spec"), None);
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nspec: {}\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: spec: unknown field; a Secret has only `apiVersion`, `kind`, `metadata`, `type`, `data`, `stringData`, `immutable`"
            ]
        );
    }

    #[test]
    fn secret_over_one_mebibyte_is_refused_with_its_size() {
        // 1,400,000 base64 characters decode to 1,050,000 bytes.
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\ndata:\n  blob: {}\n",
            "AAAA".repeat(350_000)
        );
        assert_eq!(
            findings(&text),
            [
                "Secret/-/big: data: Secret is 1.0 MiB (1050000 bytes); Kubernetes limits a Secret to 1 MiB (1048576 bytes)"
            ]
        );
        let exactly = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\nstringData:\n  blob: {}\n",
            "x".repeat(MAX_SECRET_SIZE)
        );
        assert_eq!(findings(&exactly), Vec::<String>::new());
    }

    #[test]
    fn size_counts_a_key_in_both_maps_once() {
        let half = "x".repeat(MAX_SECRET_SIZE / 2 + 10);
        let text =
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: {half}\n  b: {half}\n");
        assert_eq!(findings(&text).len(), 1);
        let text =
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: eA==\nstringData:\n  a: {half}\n");
        assert_eq!(findings(&text), Vec::<String>::new());
    }

    #[test]
    fn size_of_an_encrypted_secret_is_estimated_from_the_ciphertext() {
        // 1,800,000 base64 characters of ciphertext: 1,350,000 bytes of base64 plaintext, which
        // decode to about 1,012,500 bytes (under) for data, 1,350,000 bytes for stringData.
        let data = "AAAA".repeat(450_000);
        let under = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\ndata:\n  blob: {}\n",
            enc(&data, "str")
        );
        assert_eq!(encrypted_findings(&under), Vec::<String>::new());
        let over = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\nstringData:\n  blob: {}\n",
            enc(&data, "str")
        );
        assert_eq!(
            encrypted_findings(&over),
            [
                "Secret/-/big: data: Secret is about 1.3 MiB (1350000 bytes); Kubernetes limits a Secret to 1 MiB (1048576 bytes)"
            ]
        );
    }

    #[test]
    fn missing_name_and_bad_metadata_are_reported() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: prod\nstringData:\n  a: b\n";
        assert_eq!(
            findings(text),
            ["Secret/prod/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
        let text = "apiVersion: v1\nkind: Secret\nstringData:\n  a: b\n";
        assert_eq!(
            findings(text),
            ["Secret/-/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
        let text = "kind: Secret\nmetadata:\n  name: Bad_Name\n  namespace: a.b\n";
        let found = findings(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("Secret/a.b/Bad_Name: apiVersion: missing"));
        assert!(found[1].starts_with("Secret/a.b/Bad_Name: metadata.name: not a valid Secret name"));
        assert!(found[2].starts_with("Secret/a.b/Bad_Name: metadata.namespace: not a valid namespace"));
    }

    #[test]
    fn generate_name_stands_in_for_a_name() {
        let text =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  generateName: db-\n  namespace: prod\nstringData:\n  a: b\n";
        assert_eq!(findings(text), Vec::<String>::new());
        let bad = text.replace("generateName: db-", "generateName: Db_");
        assert_eq!(
            findings(&bad),
            [
                "Secret/prod/-: metadata.generateName: not a valid Secret name prefix: lowercase letters, digits, `-` and `.`, starting with a letter or digit"
            ]
        );
        let empty = text.replace("generateName: db-", "generateName: \"\"");
        assert_eq!(
            findings(&empty),
            ["Secret/prod/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
    }

    #[test]
    fn type_and_immutable_must_have_their_types() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: [Opaque]\nimmutable: \"yes\"\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/s: type: must be a string such as `Opaque` or `kubernetes.io/tls`",
                "Secret/-/s: immutable: must be `true` or `false`",
            ]
        );
    }

    #[test]
    fn service_account_token_needs_the_account_annotation() {
        let missing =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa\ntype: kubernetes.io/service-account-token\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/sa: metadata.annotations.kubernetes.io/service-account.name: missing; a kubernetes.io/service-account-token Secret names its ServiceAccount there"
            ]
        );
        let present = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa\n  annotations:\n    kubernetes.io/service-account.name: build\ntype: kubernetes.io/service-account-token\n";
        assert_eq!(findings(present), Vec::<String>::new());
    }

    const BOOTSTRAP: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-5emitj\n  namespace: kube-system\ntype: bootstrap.kubernetes.io/token\nstringData:\n  auth-extra-groups: \"system:bootstrappers:kubeadm:default-node-token\"\n  expiration: \"2020-09-13T04:39:10Z\"\n  token-id: \"5emitj\"\n  token-secret: \"kq4gihvszzgn1p0r\"\n  usage-bootstrap-authentication: \"true\"\n  usage-bootstrap-signing: \"true\"\n";

    #[test]
    fn bootstrap_token_from_the_kubernetes_docs_passes() {
        assert_eq!(findings(BOOTSTRAP), Vec::<String>::new());
    }

    #[test]
    fn bootstrap_token_fields_and_name_are_checked() {
        let ignored = "the bootstrap token authenticator ignores the Secret otherwise";
        let bad_secret = BOOTSTRAP.replace("kq4gihvszzgn1p0r", "KQ4GIHVSZZGN1P0R");
        assert_eq!(
            findings(&bad_secret),
            [format!(
                "Secret/kube-system/bootstrap-token-5emitj: stringData.token-secret: must be 16 characters of `a-z` and `0-9`; {ignored}"
            )]
        );
        let other_name = BOOTSTRAP.replace("name: bootstrap-token-5emitj", "name: bootstrap-token-abcdef");
        assert_eq!(
            findings(&other_name),
            [format!(
                "Secret/kube-system/bootstrap-token-abcdef: metadata.name: must be `bootstrap-token-` followed by the token-id; {ignored}"
            )]
        );
        let no_id = BOOTSTRAP.replace("  token-id: \"5emitj\"\n", "");
        assert_eq!(
            findings(&no_id),
            [format!(
                "Secret/kube-system/bootstrap-token-5emitj: data.token-id: missing; {ignored}"
            )]
        );
        let free_name = no_id.replace("bootstrap-token-5emitj", "my-token");
        assert_eq!(findings(&free_name).len(), 2);
    }

    #[test]
    fn bootstrap_token_outside_kube_system_is_reported() {
        let elsewhere = BOOTSTRAP.replace("namespace: kube-system", "namespace: default");
        assert_eq!(
            findings(&elsewhere),
            [
                "Secret/default/bootstrap-token-5emitj: metadata.namespace: must be `kube-system`; the bootstrap token authenticator ignores the Secret otherwise"
            ]
        );
        // Without a namespace it goes where `kubectl apply -n` sends it.
        let unset = BOOTSTRAP.replace("  namespace: kube-system\n", "");
        assert_eq!(findings(&unset), Vec::<String>::new());
    }

    #[test]
    fn unknown_types_have_no_required_keys() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: example.com/custom\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn encrypted_tree_skips_content_checks_but_finds_missing_tls_key() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: prod\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  extra: {}\n",
            enc("UruaOS5EKzA=", "str"),
            enc("KA7/eA==", "str"),
        );
        assert_eq!(
            encrypted_findings(&text),
            [
                "Secret/prod/web: data.tls.key: missing; a kubernetes.io/tls Secret needs `tls.crt` and `tls.key` (in data or stringData)"
            ]
        );
        // Read as plaintext, the same ciphertexts are not base64.
        assert_eq!(findings(&text).len(), 3);
    }

    #[test]
    fn encrypted_tree_skips_json_and_token_format_checks() {
        let docker = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
            enc("UruaOS5EKzA=", "str")
        );
        assert_eq!(encrypted_findings(&docker), Vec::<String>::new());
        let token = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-5emitj\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: {}\n  token-secret: {}\n",
            enc("UruaOS5E", "str"),
            enc("UruaOS5EKzA=", "str")
        );
        assert_eq!(encrypted_findings(&token), Vec::<String>::new());
    }

    #[test]
    fn encrypted_non_string_in_string_data_is_reported() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  port: {}\n",
            enc("KA7/eA==", "int")
        );
        assert_eq!(
            encrypted_findings(&text),
            [
                "Secret/-/db: stringData.port: decrypts to a value of type `int`; Kubernetes needs a string here (quote it before encrypting)"
            ]
        );
    }

    #[test]
    fn encrypted_value_ksec_cannot_read_is_reported() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {}\n  token: {}\n",
            enc("UruaOS5EKzA=", "bytes"),
            enc("not base64!", "str"),
        );
        let found = encrypted_findings(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            "Secret/-/db: stringData.password: not a sops value ksec can read (unknown datatype \"bytes\")"
        );
        assert!(
            found[1].starts_with("Secret/-/db: stringData.token: not a sops value ksec can read (bad base64 in data"),
            "{found:?}"
        );
    }

    #[test]
    fn sops_written_file_validates_clean() {
        let (tree, _) = yaml(include_str!("../testdata/secret.enc.yaml"))
            .into_encrypted("secret.enc.yaml")
            .expect("the sample is encrypted");
        assert_eq!(validate(&tree, true), Vec::<Finding>::new());
        assert_eq!(plaintext_in_secrets(&tree), Vec::<Finding>::new());
        assert!(encrypted_non_secrets(&tree).is_empty());
    }

    #[test]
    fn plaintext_in_secrets_finds_clear_values_and_comments() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  a: {}\n  empty: \"\"\n  none:\nstringData:\n  # old password was hunter1\n  password: hunter2\n  port: 5432\n  list:\n  - {}\n  - clear\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  plain: text\n",
            enc("UruaOS5EKzA=", "str"),
            enc("KA7/eA==", "str"),
        );
        let found: Vec<String> = plaintext_in_secrets(&yaml(&text))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "Secret/prod/db: stringData: comment left in clear in a Secret",
                "Secret/prod/db: stringData.password: value left in clear in a Secret",
                "Secret/prod/db: stringData.port: value left in clear in a Secret",
                "Secret/prod/db: stringData.list[1]: value left in clear in a Secret",
            ]
        );
        assert!(found.iter().all(|f| !f.contains("hunter")));
    }

    #[test]
    fn plaintext_in_secrets_holds_misspelt_fields_to_the_same_rule() {
        let text =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringdata:\n  password: hunter2\nData: eA==\n";
        let found: Vec<String> = plaintext_in_secrets(&yaml(text))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "Secret/-/db: stringdata.password: value left in clear in a Secret",
                "Secret/-/db: Data: value left in clear in a Secret",
            ]
        );
    }

    #[test]
    fn plaintext_in_secrets_holds_every_unknown_field_to_the_rule() {
        // Valid, sealed `data` beside fields no Secret has: their values are as secret as
        // `data`'s, whatever they are called.
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels:\n    app: db\ntype: Opaque\nimmutable: true\n\
             data:\n  user: {}\nstrngData:\n  password: hunter2\nsecretData: hunter3\nspec:\n  token: [hunter4]\n",
            enc("UruaOS5EKzA=", "str"),
        );
        let found: Vec<String> = plaintext_in_secrets(&yaml(&text))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "Secret/-/db: strngData.password: value left in clear in a Secret",
                "Secret/-/db: secretData: value left in clear in a Secret",
                "Secret/-/db: spec.token[0]: value left in clear in a Secret",
            ]
        );
    }

    #[test]
    fn plaintext_in_secrets_finds_the_last_applied_copy_in_clear() {
        let secret = |copy: &str| {
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    note: kept\n    {LAST_APPLIED}: {copy}\n\
                 data:\n  password: {}\n",
                enc("UruaOS5EKzA=", "str"),
            )
        };
        let clear = secret("'{\"data\":{\"password\":\"aHVudGVyMg==\"}}'");
        let found: Vec<String> = plaintext_in_secrets(&yaml(&clear))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [format!(
                "Secret/-/db: metadata.annotations.{LAST_APPLIED}: value left in clear in a Secret \
                 (the annotation is a copy of the whole Secret, data included)"
            )]
        );
        assert_eq!(plaintext_in_secrets(&yaml(&secret(&enc("KA7/eA==", "str")))), []);
        assert_eq!(plaintext_in_secrets(&yaml(&secret("''"))), []);
        // Other kinds keep theirs: a ConfigMap's copy is no secret.
        let config_map = clear.replace("kind: Secret", "kind: ConfigMap");
        assert_eq!(plaintext_in_secrets(&yaml(&config_map)), []);
    }

    #[test]
    fn encrypted_non_secrets_reports_config_maps_with_ciphertext() {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: prod\ndata:\n  a: {}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {{}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: {}\n",
            enc("UruaOS5EKzA=", "str"),
            enc("KA7/eA==", "str"),
        );
        let tree = yaml(&text);
        assert_eq!(
            encrypted_non_secrets(&tree),
            [ManifestId {
                kind: "ConfigMap".to_string(),
                namespace: Some("prod".to_string()),
                name: Some("cfg".to_string()),
            }]
        );
        assert_eq!(encrypted_non_secrets(&tree)[0].to_string(), "ConfigMap/prod/cfg");
    }

    #[test]
    fn lists_are_looked_into() {
        let text = format!(
            "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: a\n  stringData:\n    password: hunter2\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    x: {}\n",
            enc("UruaOS5EKzA=", "str"),
        );
        let tree = yaml(&text);
        assert_eq!(
            plaintext_in_secrets(&tree)[0].to_string(),
            "Secret/-/a: stringData.password: value left in clear in a Secret"
        );
        assert_eq!(encrypted_non_secrets(&tree)[0].to_string(), "ConfigMap/-/c");
        assert_eq!(validate(&tree, false), Vec::<Finding>::new());
        assert!(is_manifest_stream(&tree));
    }

    #[test]
    fn manifest_stream_ignores_empty_documents() {
        let text = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: prod\n";
        let tree = yaml(text);
        assert!(is_manifest_stream(&tree));
        let ids: Vec<Option<String>> = manifest_ids(&tree)
            .iter()
            .map(|id| id.as_ref().map(ToString::to_string))
            .collect();
        let manifests: Vec<&String> = ids.iter().flatten().collect();
        assert_eq!(manifests, ["Secret/-/a", "ConfigMap/prod/c"]);
        assert_eq!(ids.len(), tree.documents.len());
    }

    #[test]
    fn non_manifests_are_not_a_stream() {
        assert!(!is_manifest_stream(&yaml("password: hunter2\n")));
        assert!(!is_manifest_stream(&yaml("---\n---\n")));
        let mixed = yaml("apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n---\nfoo: bar\n");
        assert!(!is_manifest_stream(&mixed));
        assert_eq!(manifest_ids(&mixed)[1], None);
        assert!(!is_manifest_stream(&yaml("apiVersion: 1\nkind: Secret\n")));
        let json = parse(
            Format::Json,
            include_bytes!("../testdata/kubectl-secret.json"),
            "t.json",
        )
        .expect("sample JSON parses");
        assert!(is_manifest_stream(&json));
        assert_eq!(validate(&json, false), Vec::<Finding>::new());
    }

    #[test]
    fn finding_display_names_document_and_field() {
        let finding = Finding {
            document: ManifestId {
                kind: "Secret".to_string(),
                namespace: Some("prod".to_string()),
                name: Some("db".to_string()),
            },
            field: "data.tls.key".to_string(),
            problem: "missing".to_string(),
        };
        assert_eq!(finding.to_string(), "Secret/prod/db: data.tls.key: missing");
    }
}
