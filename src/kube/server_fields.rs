//! The fields the API server (or `kubectl apply`) writes into an object, which `kubectl get -o
//! yaml|json` prints and a committed manifest should not hold: they change on every read
//! (`resourceVersion`, `managedFields`), name one cluster's copy (`uid`, `selfLink`,
//! `creationTimestamp`), or repeat the whole object, a Secret's values included (the
//! last-applied annotation).

use super::leaks::LAST_APPLIED;
use super::{ManifestId, is_list, is_manifest};
use crate::tree::{Mapping, MappingItem, Node, Plain, SequenceItem, Tree, Value};

/// The `metadata` fields the API server sets.
const SERVER_METADATA: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "managedFields",
    "selfLink",
];

/// A manifest holding server-set fields, and which (`metadata.uid`, …), in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFields {
    /// `None` for a `List`'s own metadata (`resourceVersion: ""`).
    pub manifest: Option<ManifestId>,
    pub fields: Vec<String>,
}

/// Removes the server-set fields from every manifest (and from a `List` around them); returns
/// what was there. An `annotations` mapping left empty goes too. With `remove` false, only
/// reports them.
pub fn server_fields(tree: &mut Tree<Plain>, remove: bool) -> Vec<ServerFields> {
    let mut found = Vec::new();
    for document in &mut tree.documents {
        let root = &mut document.root;
        if !is_manifest(root) {
            continue;
        }
        if !is_list(root) {
            let manifest = ManifestId::of(root);
            found.extend(report(manifest, from_metadata(root, remove)));
            continue;
        }
        // A List is no object of the cluster; its own metadata is kubectl's, as printed.
        found.extend(report(None, from_metadata(root, remove)));
        for item in list_items(root) {
            let manifest = ManifestId::of(item);
            found.extend(report(manifest, from_metadata(item, remove)));
        }
    }
    found
}

fn report(manifest: Option<ManifestId>, fields: Vec<String>) -> Option<ServerFields> {
    (!fields.is_empty()).then_some(ServerFields { manifest, fields })
}

/// The mapping items of a `List`'s `items`.
fn list_items(list: &mut Mapping) -> Vec<&mut Mapping> {
    let Some(Node::Sequence(items)) = list.items.iter_mut().find_map(|item| match item {
        MappingItem::Entry(e) if e.key == "items" => Some(&mut e.value),
        _ => None,
    }) else {
        return Vec::new();
    };
    items
        .items
        .iter_mut()
        .filter_map(|item| match item {
            SequenceItem::Node(Node::Mapping(m)) => Some(m),
            _ => None,
        })
        .collect()
}

/// The server-set fields of one object's `metadata`, removed when `remove`.
fn from_metadata(object: &mut Mapping, remove: bool) -> Vec<String> {
    let Some(metadata) = entry_mapping(object, "metadata") else {
        return Vec::new();
    };
    let set: Vec<&str> = SERVER_METADATA
        .into_iter()
        .filter(|key| metadata.get(key).is_some_and(is_set))
        .collect();
    let mut fields: Vec<String> = set.iter().map(|key| format!("metadata.{key}")).collect();
    let last_applied = metadata
        .get("annotations")
        .and_then(Node::as_mapping)
        .is_some_and(|a| a.get(LAST_APPLIED).is_some());
    if last_applied {
        fields.push(format!("metadata.annotations.{LAST_APPLIED}"));
    }
    if !remove || fields.is_empty() {
        return fields;
    }
    for key in set {
        metadata.remove(key);
    }
    if let Some(annotations) = entry_mapping(metadata, "annotations") {
        annotations.remove(LAST_APPLIED);
        rewrite_if_flow(annotations);
        if annotations.entries().next().is_none() {
            metadata.remove("annotations");
        }
    }
    rewrite_if_flow(metadata);
    fields
}

/// Whether a field holds a value: what kubectl prints for an object not from a cluster
/// (`creationTimestamp: null` from `--dry-run`, a List's `resourceVersion: ""`) is no server's.
fn is_set(node: &Node) -> bool {
    !matches!(node.as_value(), Some(Value::Null)) && node.as_value().and_then(Value::as_str) != Some("")
}

/// A flow mapping (`{a: 1, b: 2}`, and all of JSON) cannot drop an entry line by line: it is
/// written anew.
fn rewrite_if_flow(mapping: &mut Mapping) {
    if mapping.flow {
        mapping.span = None;
    }
}

fn entry_mapping<'a>(mapping: &'a mut Mapping, key: &str) -> Option<&'a mut Mapping> {
    mapping.items.iter_mut().find_map(|item| match item {
        MappingItem::Entry(e) if e.key == key => match &mut e.value {
            Node::Mapping(m) => Some(m),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Format, OutputOptions};
    use crate::kube::tests::yaml;

    const FROM_CLUSTER: &str = "apiVersion: v1
data:
  password: aHVudGVyMg==
kind: Secret
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {\"apiVersion\":\"v1\",\"data\":{\"password\":\"aHVudGVyMg==\"},\"kind\":\"Secret\"}
  creationTimestamp: \"2026-01-02T03:04:05Z\"
  labels:
    app: db # kept
  managedFields:
  - apiVersion: v1
    manager: kubectl-client-side-apply
  name: db
  namespace: prod
  resourceVersion: \"4242\"
  uid: 0b1c2d3e-aaaa-bbbb-cccc-0123456789ab
type: Opaque
";

    fn plain(text: &str) -> Tree<Plain> {
        yaml(text).into_plain("t.yaml").expect("plaintext")
    }

    fn emit(tree: &mut Tree<Plain>, format: Format) -> String {
        String::from_utf8(formats::emit(format, tree, format, OutputOptions::default()).expect("emits")).expect("text")
    }

    #[test]
    fn the_fields_a_cluster_set_are_named_and_left_out_on_request() {
        let mut tree = plain(FROM_CLUSTER);
        let found = server_fields(&mut tree, false);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].manifest.as_ref().map(ToString::to_string).as_deref(),
            Some("Secret/prod/db")
        );
        assert_eq!(
            found[0].fields,
            [
                "metadata.resourceVersion",
                "metadata.uid",
                "metadata.creationTimestamp",
                "metadata.managedFields",
                &format!("metadata.annotations.{LAST_APPLIED}"),
            ]
        );
        assert_eq!(emit(&mut tree, Format::Yaml), FROM_CLUSTER, "reporting changes nothing");

        assert_eq!(server_fields(&mut tree, true), found);
        assert_eq!(
            emit(&mut tree, Format::Yaml),
            "apiVersion: v1\ndata:\n  password: aHVudGVyMg==\nkind: Secret\nmetadata:\n  labels:\n    app: db # kept\n  name: db\n  namespace: prod\ntype: Opaque\n"
        );
        assert!(server_fields(&mut tree, false).is_empty());
    }

    #[test]
    fn a_list_and_its_items_are_cleaned_and_json_is_rewritten_whole() {
        let text = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "a", "uid": "u-1", "annotations": {"x": "y"}},
            "stringData": {"k": "v"}
        }
    ],
    "kind": "List",
    "metadata": {"resourceVersion": "812"}
}
"#;
        let mut tree = formats::parse(Format::Json, text.as_bytes(), "t.json")
            .expect("parses")
            .into_plain("t.json")
            .expect("plaintext");
        let found = server_fields(&mut tree, true);
        let named: Vec<(Option<String>, Vec<String>)> = found
            .iter()
            .map(|f| (f.manifest.as_ref().map(ToString::to_string), f.fields.clone()))
            .collect();
        assert_eq!(
            named,
            [
                (None, vec!["metadata.resourceVersion".to_string()]),
                (Some("Secret/-/a".to_string()), vec!["metadata.uid".to_string()]),
            ]
        );
        let written = emit(&mut tree, Format::Json);
        assert!(
            !written.contains("uid") && !written.contains("resourceVersion"),
            "{written}"
        );
        assert!(written.contains(r#""annotations""#), "{written}");
        formats::parse(Format::Json, written.as_bytes(), "t.json").expect("still JSON");
    }

    #[test]
    fn other_documents_and_what_kubectl_prints_for_new_objects_have_nothing() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: db\n---\n\
                    uid: not-a-manifest\n---\napiVersion: v1\nkind: List\nitems: []\nmetadata:\n  resourceVersion: \"\"\n";
        let mut tree = plain(text);
        assert!(server_fields(&mut tree, true).is_empty());
    }
}
