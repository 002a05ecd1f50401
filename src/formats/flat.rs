//! sops's flattened metadata, used where a store has no nesting (dotenv, and INI's `[sops]`
//! section): the `sops` mapping becomes string entries such as `age__list_0__map_recipient`,
//! a mapping child appended as `__map_<key>` and a list element as `__list_<index>`. Values
//! are text, with each newline written as the two characters `\n`.

use super::FormatError;
use crate::tree::{Mapping, Node, Sequence, SequenceItem, Value};

const MAP: &str = "__map_";
const LIST: &str = "__list_";

/// Largest list index accepted: a hostile `__list_99999999999` must not allocate a huge list.
const MAX_INDEX: usize = 10_000;

/// The metadata mapping as flat `(key, value)` pairs, sorted bytewise by key as sops's dotenv
/// store writes them. Nulls and empty collections produce nothing.
pub fn flatten(metadata: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Node::Mapping(m) = metadata {
        for entry in m.entries() {
            flatten_into(&entry.key, &entry.value, &mut out);
        }
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

fn flatten_into(prefix: &str, node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Mapping(m) => {
            for entry in m.entries() {
                flatten_into(&format!("{prefix}{MAP}{}", entry.key), &entry.value, out);
            }
        }
        Node::Sequence(s) => {
            for (index, item) in s.nodes().enumerate() {
                flatten_into(&format!("{prefix}{LIST}{index}"), item, out);
            }
        }
        Node::Scalar(s) => {
            let text = match &s.value {
                Value::Null => return,
                Value::Str(t) => t.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => format!("{f:.0}"),
                Value::Time(t) => t.to_rfc3339_nano(),
                Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            };
            out.push((prefix.to_string(), text.replace('\n', "\\n")));
        }
    }
}

/// One step of a flattened key.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits `age__list_0__map_enc` into `age`, `0`, `enc`. An index that is not a number counts
/// as 0, as sops reads it.
fn steps(key: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = key;
    let mut current = Step::Key(String::new());
    loop {
        let next_map = rest.find(MAP);
        let next_list = rest.find(LIST);
        let (at, separator) = match (next_map, next_list) {
            (Some(m), Some(l)) if l < m => (l, LIST),
            (Some(m), _) => (m, MAP),
            (None, Some(l)) => (l, LIST),
            (None, None) => break,
        };
        steps.push(finish(current, &rest[..at]));
        current = if separator == MAP {
            Step::Key(String::new())
        } else {
            Step::Index(0)
        };
        rest = &rest[at + separator.len()..];
    }
    steps.push(finish(current, rest));
    steps
}

fn finish(kind: Step, text: &str) -> Step {
    match kind {
        Step::Key(_) => Step::Key(text.to_string()),
        Step::Index(_) => Step::Index(text.parse().unwrap_or(0)),
    }
}

/// A metadata tree being rebuilt from flat entries.
enum Partial {
    Map(Vec<(String, Partial)>),
    List(Vec<Option<Partial>>),
    Leaf(String),
}

impl Partial {
    fn insert(&mut self, steps: &[Step], value: String) -> Result<(), String> {
        let Some((step, rest)) = steps.split_first() else {
            *self = Partial::Leaf(value);
            return Ok(());
        };
        let fresh = || match rest.first() {
            Some(Step::Index(_)) => Partial::List(Vec::new()),
            _ => Partial::Map(Vec::new()),
        };
        let child = match (self, step) {
            (Partial::Map(entries), Step::Key(key)) => match entries.iter().position(|(k, _)| k == key) {
                Some(at) => &mut entries[at].1,
                None => {
                    entries.push((key.clone(), fresh()));
                    &mut entries.last_mut().expect("just pushed").1
                }
            },
            (Partial::List(items), Step::Index(index)) => {
                if *index > MAX_INDEX {
                    return Err(format!("list index {index} is implausibly large"));
                }
                if *index >= items.len() {
                    items.resize_with(index + 1, || None);
                }
                items[*index].get_or_insert_with(fresh)
            }
            _ => return Err("a key is used both as a list and as a mapping".into()),
        };
        // A value given twice, once as text and once with children: the children win.
        if !rest.is_empty() && matches!(child, Partial::Leaf(_)) {
            *child = fresh();
        }
        child.insert(rest, value)
    }

    fn into_node(self, top_level_key: Option<&str>) -> Node {
        match self {
            Partial::Map(entries) => {
                let mut m = Mapping::default();
                for (key, value) in entries {
                    let node = value.into_node(top_level_key.is_none().then_some(key.as_str()));
                    m.push(key, node);
                }
                Node::Mapping(m)
            }
            Partial::List(items) => Node::Sequence(Sequence {
                items: items
                    .into_iter()
                    .map(|item| SequenceItem::Node(item.map_or(Node::scalar(Value::Null), |p| p.into_node(Some("")))))
                    .collect(),
                ..Sequence::default()
            }),
            Partial::Leaf(text) => {
                let text = text.replace("\\n", "\n");
                match top_level_key {
                    // sops counts only the exact text `true`.
                    Some("mac_only_encrypted") => Node::scalar(Value::Bool(text == "true")),
                    _ => Node::scalar(Value::str(text)),
                }
            }
        }
    }
}

/// Rebuilds the metadata mapping from flat entries (without their `sops_` prefix), as sops
/// reads them: later duplicates win, missing list positions are nulls.
pub fn unflatten(entries: &[(String, String)], file: &str) -> Result<Node, FormatError> {
    let mut root = Partial::Map(Vec::new());
    for (key, value) in entries {
        root.insert(&steps(key), value.clone())
            .map_err(|reason| FormatError::MetadataEntry {
                file: file.to_string(),
                key: key.clone(),
                reason,
            })?;
    }
    Ok(root.into_node(None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Data;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keys_split_into_map_and_list_steps() {
        assert_eq!(
            steps("key_groups__list_1__map_pgp__list_0__map_fp"),
            vec![
                Step::Key("key_groups".into()),
                Step::Index(1),
                Step::Key("pgp".into()),
                Step::Index(0),
                Step::Key("fp".into()),
            ]
        );
        assert_eq!(
            steps("unencrypted_suffix"),
            vec![Step::Key("unencrypted_suffix".into())]
        );
        assert_eq!(steps("age__list_x__map_enc")[1], Step::Index(0));
    }

    #[test]
    fn unflatten_rebuilds_groups_and_decodes_newlines_and_flags() {
        let node = unflatten(
            &pairs(&[
                ("key_groups__list_1__map_age__list_0__map_recipient", "age1b"),
                ("key_groups__list_0__map_age__list_0__map_enc", "line1\\nline2"),
                ("key_groups__list_0__map_age__list_0__map_recipient", "age1a"),
                ("mac_only_encrypted", "true"),
                ("shamir_threshold", "2"),
            ]),
            "f.env",
        )
        .expect("unflattens");
        let s = |t: &str| Data::Value(Value::str(t));
        assert_eq!(
            Data::from(&node),
            Data::Mapping(vec![
                (
                    "key_groups".into(),
                    Data::Sequence(vec![
                        Data::Mapping(vec![(
                            "age".into(),
                            Data::Sequence(vec![Data::Mapping(vec![
                                ("enc".into(), s("line1\nline2")),
                                ("recipient".into(), s("age1a")),
                            ])])
                        )]),
                        Data::Mapping(vec![(
                            "age".into(),
                            Data::Sequence(vec![Data::Mapping(vec![("recipient".into(), s("age1b"))])])
                        )]),
                    ])
                ),
                ("mac_only_encrypted".into(), Data::Value(Value::Bool(true))),
                ("shamir_threshold".into(), s("2")),
            ])
        );
    }

    #[test]
    fn flatten_sorts_bytewise_and_drops_empty_entries() {
        let mut group = Mapping::default();
        group.push("hc_vault", Node::Sequence(Sequence::default()));
        group.push("age", Node::Sequence(Sequence::default()));
        let mut age = Mapping::default();
        age.push("recipient", Node::scalar(Value::str("age1x")));
        age.push("enc", Node::scalar(Value::str("a\nb\n")));
        let list = |nodes: Vec<Node>| {
            Node::Sequence(Sequence {
                items: nodes.into_iter().map(SequenceItem::Node).collect(),
                ..Sequence::default()
            })
        };
        let mut m = Mapping::default();
        m.push("key_groups", list(vec![Node::Mapping(group)]));
        m.push("age", list((0..11).map(|_| Node::Mapping(age.clone())).collect()));
        m.push("shamir_threshold", Node::scalar(Value::Int(2)));
        m.push("mac_only_encrypted", Node::scalar(Value::Bool(true)));
        let flat = flatten(&Node::Mapping(m));
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys[..4],
            [
                "age__list_0__map_enc",
                "age__list_0__map_recipient",
                "age__list_10__map_enc",
                "age__list_10__map_recipient"
            ]
        );
        assert_eq!(flat[0].1, "a\\nb\\n");
        assert!(!keys.iter().any(|k| k.starts_with("key_groups")), "{keys:?}");
        assert_eq!(keys[keys.len() - 2..], ["mac_only_encrypted", "shamir_threshold"]);
        assert_eq!(flat.last().map(|(_, v)| v.as_str()), Some("2"));
    }

    #[test]
    fn flatten_then_unflatten_gives_the_mapping_back() {
        let mut pgp = Mapping::default();
        pgp.push("created_at", Node::scalar(Value::str("2026-01-01T00:00:00Z")));
        pgp.push(
            "enc",
            Node::scalar(Value::str(
                "-----BEGIN PGP MESSAGE-----\n\nwcBM\n-----END PGP MESSAGE-----",
            )),
        );
        pgp.push("fp", Node::scalar(Value::str("ABCDEF")));
        let mut m = Mapping::default();
        m.push(
            "pgp",
            Node::Sequence(Sequence {
                items: vec![SequenceItem::Node(Node::Mapping(pgp))],
                ..Sequence::default()
            }),
        );
        m.push("version", Node::scalar(Value::str("3.11.0")));
        let node = Node::Mapping(m);
        let back = unflatten(&flatten(&node), "f.env").expect("unflattens");
        assert_eq!(Data::from(&back), Data::from(&node));
    }

    #[test]
    fn a_huge_list_index_is_invalid_metadata_not_an_allocation() {
        let err = unflatten(&pairs(&[("age__list_99999999999__map_enc", "x")]), "f.env").unwrap_err();
        assert!(err.to_string().contains("implausibly large"), "{err}");
    }

    #[test]
    fn a_key_used_as_list_and_mapping_is_invalid_metadata() {
        let err = unflatten(&pairs(&[("age__list_0", "x"), ("age__map_k", "y")]), "f.env").unwrap_err();
        assert!(
            err.to_string().contains("f.env") && err.to_string().contains("sops_age__map_k"),
            "{err}"
        );
    }
}
