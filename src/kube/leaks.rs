//! After encryption: what was left in clear in a Secret (every field that may hold a value,
//! misspelt ones included, and kubectl's last-applied copy of the whole object), and which other
//! manifests hold ciphertext they should not.

use std::fmt::Write as _;

use super::{Finding, ManifestId, is_manifest, is_secret, manifests};
use crate::crypt::cipher::looks_encrypted;
use crate::tree::{Comment, Mapping, MappingItem, Node, SequenceItem, Tree, Value};

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
                    clear_leaves(copy, &mut format!("metadata.annotations.{LAST_APPLIED}"), &mut clear);
                    why = " (the annotation is a copy of the whole Secret, data included)";
                }
            } else if !SECRET_FREE_FIELDS.contains(&entry.key.as_str()) {
                clear_leaves(&entry.value, &mut entry.key.to_string(), &mut clear);
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
/// matches the Secret rule too), in document order. Only Kubernetes objects count (a readable
/// `apiVersion` and `kind`): a JSON or YAML file that merely has a `kind` key is not one.
pub fn encrypted_non_secrets<S>(tree: &Tree<S>) -> Vec<ManifestId> {
    tree.documents
        .iter()
        .flat_map(manifests)
        .filter(|m| is_manifest(m) && !is_secret(m) && mapping_has_ciphertext(m))
        .filter_map(ManifestId::of)
        .collect()
}

/// Leaves and comments under `node` that are neither empty nor `ENC[...]`, with their paths
/// (`path` is the node's own, extended in place while the walk is under it).
fn clear_leaves(node: &Node, path: &mut String, out: &mut Vec<(String, &'static str)>) {
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
                    MappingItem::Entry(e) => {
                        let len = path.len();
                        path.push('.');
                        path.push_str(&e.key);
                        clear_leaves(&e.value, path, out);
                        path.truncate(len);
                    }
                    MappingItem::Comment(c) => clear_comment(c, path, out),
                }
            }
        }
        Node::Sequence(sequence) => {
            let mut index = 0;
            for item in &sequence.items {
                match item {
                    SequenceItem::Node(n) => {
                        let len = path.len();
                        let _ = write!(path, "[{index}]");
                        clear_leaves(n, path, out);
                        path.truncate(len);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::tests::{enc, yaml};

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
    fn encrypted_non_secrets_names_no_file_that_is_not_a_manifest() {
        // A whole file encrypted: its `kind` is ciphertext, and it has no `apiVersion`. Naming
        // it would print the ciphertext of a value as the object's kind.
        let sealed_kind = format!(
            "kind: {}\ndata:\n  a: {}\n",
            enc("UruaOS5EKzA=", "str"),
            enc("KA7/eA==", "str")
        );
        assert_eq!(encrypted_non_secrets(&yaml(&sealed_kind)), []);
        let no_api_version = format!("kind: inventory\nrecords:\n  a: {}\n", enc("KA7/eA==", "str"));
        assert_eq!(encrypted_non_secrets(&yaml(&no_api_version)), []);
        let sealed_kind_manifest = format!("apiVersion: v1\n{sealed_kind}");
        assert_eq!(encrypted_non_secrets(&yaml(&sealed_kind_manifest)), []);
    }
}
