//! Kubernetes awareness: which documents of a stream are manifests, which of them are Secrets,
//! and what ksec checks and shows of each Secret.
//!
//! This file finds the manifests and names them in messages (`Secret/prod/db`). A `kind: List`
//! document (what `kubectl get … -o yaml` prints) is looked into: each of its `items` counts as
//! a manifest of its own. The rest is one file per job:
//! - `validation`: whether a Secret is one the API server and kubectl would accept;
//! - `names`: the API server's rules for object names, namespaces and `data` keys;
//! - `spelling`: the field a misspelt one most likely meant;
//! - `leaks`: what encryption left in clear in a Secret, and what it sealed outside one;
//! - `data_values`: whether `data` values are base64 of text, and `data` and `stringData` agree;
//! - `data_view`: a Secret's base64 `data` decoded for editing, and encoded back;
//! - `env`: a Secret's keys as the environment `envFrom` gives a pod;
//! - `kustomize`: the generator manifest ksec's kustomize plugin expands;
//! - `server_fields`: what the API server wrote into an object that `kubectl get` printed.
//!
//! Findings name the document and the field, never a value.

mod data_values;
mod data_view;
mod env;
mod kustomize;
mod leaks;
mod names;
mod server_fields;
mod spelling;
mod validation;

use std::fmt;

use crate::crypt::cipher::looks_encrypted;
use crate::tree::{Document, Mapping, Node, SequenceItem, Tree, Value};

pub use data_values::{data_not_base64_of_text, disagreeing_copies};
pub use data_view::{decode_secret_data, encode_secret_data};
pub use env::secret_environment;
pub use kustomize::{GENERATOR_API_VERSION, GENERATOR_KIND, GeneratorError, generator_files};
pub use leaks::{LAST_APPLIED, encrypted_non_secrets, plaintext_in_secrets};
pub use server_fields::{ServerFields, server_fields};
pub use validation::validate;

/// The rule everyone writes by hand for Secrets; ksec's default for manifest streams.
pub const SECRET_RULE: &str = "^(data|stringData)$";

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

/// Secrets refused on the way to a file. Findings name the document and the field.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// Secrets the API server would refuse (ksec checks before encrypting, unless told not to).
    #[error("{file}: invalid Kubernetes Secret:\n{}", indented(.findings))]
    InvalidSecret { file: String, findings: Vec<Finding> },
    /// Edited `data` values, shown decoded, that cannot be encoded back.
    #[error("{file}: invalid Kubernetes Secret:\n{}", lines(.findings))]
    UnencodableData { file: String, findings: Vec<Finding> },
    /// Secret values the rule would leave in clear: whatever the rule, they never reach a file
    /// unencrypted.
    #[error("{file}: refusing to write a Secret value in clear:\n{}", indented(.findings))]
    ValueInClear { file: String, findings: Vec<Finding> },
}

fn lines(findings: &[Finding]) -> String {
    findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

fn indented(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
}

/// A manifest's identity for messages: `Secret/prod/db` (`-` for a missing part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestId {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ManifestId {
    /// The identity of a mapping with a string `kind`. An encrypted name or namespace is shown
    /// as missing rather than as ciphertext; an encrypted `kind` names nothing (`None`).
    fn of(manifest: &Mapping) -> Option<ManifestId> {
        let kind = str_field(manifest, "kind").filter(|k| !looks_encrypted(k))?;
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

fn is_empty(document: &Document) -> bool {
    document.root.entries().next().is_none()
}

pub(super) fn is_manifest(root: &Mapping) -> bool {
    str_field(root, "apiVersion").is_some() && str_field(root, "kind").is_some()
}

/// Whether a manifest is a Secret (`kind: Secret`, whatever its `apiVersion`).
pub fn is_secret(manifest: &Mapping) -> bool {
    str_field(manifest, "kind") == Some("Secret")
}

/// The manifests of a document: its root, or the mapping items of a `List`.
fn manifests(document: &Document) -> Vec<&Mapping> {
    let root = &document.root;
    match root.get("items") {
        Some(Node::Sequence(items)) if is_list(root) => items
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

/// `kind: List` (or `SecretList`, …): what `kubectl get` prints for more than one object.
fn is_list(root: &Mapping) -> bool {
    str_field(root, "kind").is_some_and(|k| k.ends_with("List"))
}

fn str_field<'a>(mapping: &'a Mapping, key: &str) -> Option<&'a str> {
    mapping.get(key).and_then(Node::as_value).and_then(Value::as_str)
}

/// A Secret's `data` mapping; `None` for other kinds, and for a `data` that is not a mapping.
fn secret_data(root: &Mapping) -> Option<&Mapping> {
    if !is_secret(root) {
        return None;
    }
    root.get("data").and_then(Node::as_mapping)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, parse};
    use crate::tree::Parsed;

    pub(super) fn yaml(text: &str) -> Tree<Parsed> {
        parse(Format::Yaml, text.as_bytes(), "t.yaml").expect("test YAML parses")
    }

    /// A sealed value as ksec writes it; only its shape matters here.
    pub(super) fn enc(data: &str, value_type: &str) -> String {
        format!(
            "ENC[AES256_GCM,data:{data},iv:OR1my24slcHXdxx4ct0XST/uky7cZiRHvlqaFkjb12I=,tag:Iouj0Uhzc7NoF39SBxYh0Q==,type:{value_type}]"
        )
    }

    #[test]
    fn sops_written_file_validates_clean() {
        let (tree, _) = yaml(include_str!("../../testdata/secret.enc.yaml"))
            .into_encrypted()
            .expect("the sample is encrypted");
        assert_eq!(validate(&tree, true), Vec::<Finding>::new());
        assert_eq!(plaintext_in_secrets(&tree), Vec::<Finding>::new());
        assert!(encrypted_non_secrets(&tree).is_empty());
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
            include_bytes!("../../testdata/kubectl-secret.json"),
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
