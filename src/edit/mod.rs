//! Changing a decrypted file's values: `set`, `unset`, the editing view and three-way merges,
//! and `--extract`. The file is opened and written back through [`crate::sops_file`], which
//! keeps the data key and the ciphertext of unchanged values, so a change shows in Git as the
//! changed lines plus `lastmodified` and `mac` — and a write that changes nothing leaves the
//! file byte-identical.

mod error;
pub mod merge;
mod secret_values;
pub mod view;

use zeroize::Zeroizing;

pub use error::{EditError, ValueProblem};
pub use secret_values::{NewValue, set_new_value};

use crate::formats::{self, Format, FormatError};
use crate::tree::path::{Step, TreePath};
use crate::tree::{Mapping, MappingItem, Node, Plain, SequenceItem, Tree, Value};

fn not_found(path: &TreePath, step: &Step) -> EditError {
    let component = match step {
        Step::Key(k) => format!("['{k}']"),
        Step::Index(i) => format!("[{i}]"),
    };
    EditError::PathNotFound {
        path: path.describe(),
        component,
    }
}

/// The node at `path` in the first document.
pub fn extract<'t>(tree: &'t Tree<Plain>, path: &TreePath) -> Result<&'t Node, EditError> {
    let root = &tree.documents.first().ok_or_else(|| not_found(path, &path.0[0]))?.root;
    let mut node: Option<&Node> = None;
    for step in &path.0 {
        node = Some(child(root, node, step).ok_or_else(|| not_found(path, step))?);
    }
    node.ok_or_else(|| not_found(path, &path.0[0]))
}

/// One step down from `node` (or from the document's `root` at the start of a path).
fn child<'a>(root: &'a Mapping, node: Option<&'a Node>, step: &Step) -> Option<&'a Node> {
    match (node, step) {
        (None, Step::Key(k)) => root.get(k),
        (Some(Node::Mapping(m)), Step::Key(k)) => m.get(k),
        (Some(Node::Sequence(s)), Step::Index(i)) => s.nodes().nth(*i),
        _ => None,
    }
}

/// An extracted node as sops prints it: a string as is (no line break), a mapping as a
/// document, anything else as one value.
pub fn render_extracted(
    node: &Node,
    format: Format,
    output: formats::OutputOptions,
) -> Result<Zeroizing<Vec<u8>>, FormatError> {
    if let Node::Scalar(s) = node {
        match &s.value {
            Value::Str(text) => return Ok(Zeroizing::new(text.as_bytes().to_vec())),
            Value::Bytes(bytes) => return Ok(Zeroizing::new(bytes.to_vec())),
            // Flat stores have no syntax for typed values: the value's text.
            value if matches!(format, Format::Dotenv | Format::Ini | Format::Binary) => {
                return Ok(Zeroizing::new(crate::scalar::go_text(value)));
            }
            _ => {}
        }
    }
    let root = match node {
        Node::Mapping(m) => strip_layout_mapping(m),
        other => {
            // A one-entry document, written and then cut down to its value.
            let mut m = Mapping::default();
            m.push("v", strip_layout(other));
            m
        }
    };
    let mut tree = Tree::new_plain(vec![crate::tree::Document {
        root,
        metadata: None,
        layout: None,
    }]);
    let bytes = formats::emit(format, &mut tree, format, output)?;
    if matches!(node, Node::Mapping(_)) {
        return Ok(Zeroizing::new(bytes));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    let value = match format {
        // `v: 1` or `v:` and the value's lines below it, one level in.
        Format::Yaml => match text.strip_prefix("v:") {
            Some(rest) if rest.starts_with(['\n', '\r']) => dedent(rest.trim_start_matches(['\n', '\r'])),
            Some(rest) => rest.trim_start_matches(' ').to_string(),
            None => text.to_string(),
        },
        // `{`, `<indent>"v": value` (its later lines one level in), `}`.
        Format::Json => {
            let inner = text.trim().trim_start_matches('{').trim_end_matches('}').trim_end();
            let value = inner.split_once(": ").map(|(_, v)| v).unwrap_or_default();
            dedent_after_first_line(value)
        }
        // Scalars returned above; collections were refused by the emitter.
        Format::Dotenv | Format::Ini | Format::Binary => text.to_string(),
    };
    Ok(Zeroizing::new(value.into_bytes()))
}

/// Lines with their common indentation (spaces and tabs) removed. Lines of whitespace alone,
/// Unicode's included, do not count towards it and lose what they have of it.
fn dedent(text: &str) -> String {
    let leading = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(leading)
        .min()
        .unwrap_or(0);
    // Cut only inside the ASCII run: a line such as U+3000 alone has less of it than `indent`.
    text.split_inclusive('\n')
        .map(|l| &l[leading(l).min(indent)..])
        .collect()
}

/// A value whose first line stands at the start and whose later lines are one level in (the
/// level of its last line, the closing bracket).
fn dedent_after_first_line(text: &str) -> String {
    let Some((first, rest)) = text.split_once('\n') else {
        return text.to_string();
    };
    let last = rest.lines().last().unwrap_or("");
    let indent = last.len() - last.trim_start_matches([' ', '\t']).len();
    let mut out = String::from(first);
    for line in rest.split('\n') {
        out.push('\n');
        out.push_str(
            line.get(indent..)
                .filter(|_| line.starts_with(&last[..indent]))
                .unwrap_or(line),
        );
    }
    out
}

fn strip_layout(node: &Node) -> Node {
    match node {
        Node::Scalar(s) => Node::scalar(s.value.clone()),
        Node::Mapping(m) => Node::Mapping(strip_layout_mapping(m)),
        Node::Sequence(s) => {
            let mut out = crate::tree::Sequence::default();
            for item in &s.items {
                out.items.push(match item {
                    SequenceItem::Node(n) => SequenceItem::Node(strip_layout(n)),
                    SequenceItem::Comment(c) => SequenceItem::Comment(crate::tree::Comment::new(c.text.to_string())),
                });
            }
            Node::Sequence(out)
        }
    }
}

fn strip_layout_mapping(m: &Mapping) -> Mapping {
    let mut out = Mapping::default();
    for item in &m.items {
        out.items.push(match item {
            MappingItem::Entry(e) => MappingItem::Entry(crate::tree::Entry::new(e.key.clone(), strip_layout(&e.value))),
            MappingItem::Comment(c) => MappingItem::Comment(crate::tree::Comment::new(c.text.to_string())),
        });
    }
    out
}

/// The first document's root (what sops's paths address), and the path's last step and the
/// steps before it.
fn first_root<'t, 'p>(
    tree: &'t mut Tree<Plain>,
    path: &'p TreePath,
) -> Result<(&'t mut Mapping, &'p Step, &'p [Step]), EditError> {
    let (last, parents) = path.0.split_last().expect("a parsed path has a step");
    let document = tree.documents.first_mut().ok_or_else(|| not_found(path, &path.0[0]))?;
    Ok((&mut document.root, last, parents))
}

/// Sets the value at `path` in the first document (creating missing mappings on the way).
/// Returns `false` when it already held that value.
pub fn set_value(tree: &mut Tree<Plain>, path: &TreePath, value: Node) -> Result<bool, EditError> {
    let changed_container = structural_change_at(tree, path, &value);
    let changed = set_in_place(tree, path, value)?;
    if let (true, Some(container)) = (changed, changed_container)
        && let Some(document) = tree.documents.first_mut()
    {
        relayout(&mut document.root, container);
    }
    Ok(changed)
}

/// Where setting `value` at `path` changes the shape of the tree rather than one scalar: the
/// deepest existing collection on the path when an entry is added to it or one of its values
/// changes between scalar and collection.
fn structural_change_at<'p>(tree: &Tree<Plain>, path: &'p TreePath, value: &Node) -> Option<&'p [Step]> {
    let root = &tree.documents.first()?.root;
    let mut node: Option<&Node> = None;
    for (depth, step) in path.0.iter().enumerate() {
        match (child(root, node, step), node) {
            (Some(n), _) => node = Some(n),
            // A scalar in the way becomes a collection: its parent changes shape.
            (None, Some(Node::Scalar(_))) => return Some(&path.0[..depth - 1]),
            // A new entry or item in this collection.
            (None, _) => return Some(&path.0[..depth]),
        }
    }
    match (node, value) {
        (Some(Node::Scalar(old)), Node::Scalar(_)) if !is_implicit_null(old) => None,
        _ => Some(&path.0[..path.0.len() - 1]),
    }
}

/// A null written as nothing at all (`key:`): there is no text to replace, so a value put
/// there is written as a new entry.
fn is_implicit_null(scalar: &crate::tree::Scalar) -> bool {
    scalar.value == Value::Null && scalar.origin.is_some_and(|o| o.span.start == o.span.end)
}

/// Sets as sops sets: a missing key is added (with the rest of the path built as mappings
/// and lists), an index past the end of a list appends, and a scalar in the way is replaced
/// by the path's collection. A step of the wrong kind (an index on a mapping, a key on a
/// list) is refused rather than ignored (sops ignores the first and crashes on the second).
fn set_in_place(tree: &mut Tree<Plain>, path: &TreePath, value: Node) -> Result<bool, EditError> {
    refuse_metadata_path(path)?;
    let document = tree.documents.first_mut().ok_or_else(|| not_found(path, &path.0[0]))?;
    set_in_mapping(&mut document.root, &path.0, path, value)
}

fn set_in_mapping(m: &mut Mapping, steps: &[Step], path: &TreePath, value: Node) -> Result<bool, EditError> {
    let (step, rest) = steps.split_first().expect("a parsed path has a step");
    let Step::Key(key) = step else {
        return Err(not_found(path, step));
    };
    match m.items.iter_mut().find_map(|item| entry_value(item, key)) {
        Some(child) => set_in_node(child, rest, path, value),
        None => {
            m.push(key.clone(), built_from(rest, value));
            Ok(true)
        }
    }
}

fn set_in_node(node: &mut Node, steps: &[Step], path: &TreePath, value: Node) -> Result<bool, EditError> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(replace_node(node, value));
    };
    match (node, step) {
        (Node::Mapping(m), Step::Key(_)) => set_in_mapping(m, steps, path, value),
        (Node::Sequence(s), Step::Index(index)) => match nth_item(s, *index) {
            Some(item) => set_in_node(item, rest, path, value),
            None => {
                s.items.push(SequenceItem::Node(built_from(rest, value)));
                Ok(true)
            }
        },
        (node @ Node::Scalar(_), _) => {
            *node = built_from(steps, value);
            Ok(true)
        }
        _ => Err(not_found(path, step)),
    }
}

/// The top-level `sops` key is the metadata, not a value to set or unset.
fn refuse_metadata_path(path: &TreePath) -> Result<(), EditError> {
    match path.0.first() {
        Some(Step::Key(key)) if key == "sops" => Err(EditError::MetadataPath),
        _ => Ok(()),
    }
}

/// `value` under the rest of a path: a mapping for each key, a list for each index.
fn built_from(steps: &[Step], value: Node) -> Node {
    steps.iter().rev().fold(value, |inner, step| match step {
        Step::Key(key) => {
            let mut m = Mapping::default();
            m.push(key.clone(), inner);
            Node::Mapping(m)
        }
        Step::Index(_) => Node::Sequence(crate::tree::Sequence {
            items: vec![SequenceItem::Node(inner)],
            ..Default::default()
        }),
    })
}

fn nth_item(s: &mut crate::tree::Sequence, index: usize) -> Option<&mut Node> {
    s.items
        .iter_mut()
        .filter_map(|item| match item {
            SequenceItem::Node(n) => Some(n),
            SequenceItem::Comment(_) => None,
        })
        .nth(index)
}

/// Puts `value` in `slot`, keeping the slot's source position when both are scalars.
fn replace_node(slot: &mut Node, value: Node) -> bool {
    match (slot, value) {
        (Node::Scalar(old), Node::Scalar(new)) => {
            if old.value == new.value {
                return false;
            }
            if is_implicit_null(old) {
                old.origin = None;
            }
            old.replace(new.value);
            true
        }
        (slot, value) => {
            *slot = value;
            true
        }
    }
}

/// Removes the entry or item at `path`; [`EditError::PathNotFound`] when there is none.
pub fn unset_value(tree: &mut Tree<Plain>, path: &TreePath) -> Result<(), EditError> {
    if !remove_at(tree, path)? {
        return Err(not_found(path, path.0.last().expect("a parsed path has a step")));
    }
    if let Some(document) = tree.documents.first_mut() {
        relayout(&mut document.root, &path.0[..path.0.len() - 1]);
    }
    Ok(())
}

/// After an entry or item was added to or removed from the collection at `path` (or one of
/// its values changed shape), drops the recorded layout of the smallest enclosing piece the
/// layout-keeping emitter can write anew. The emitter patches entries by their lines, which
/// cannot work for an entry sharing its line with a list item's `- ` marker, for anything in
/// a flow collection (`{a: 1}`), for a mapping left empty (it must become `{}`) or for a
/// list; those are written anew as part of the nearest enclosing entry that can be.
fn relayout(root: &mut Mapping, path: &[Step]) {
    let Some((Step::Key(key), rest)) = path.split_first() else {
        // The document's own entries are patched in place.
        return;
    };
    if let Some(child) = root.items.iter_mut().find_map(|item| entry_value(item, key))
        && needs_rewrite(child, rest, false)
    {
        drop_layout(child);
    }
}

/// Whether `node` must be written anew by its parent after the change at `path` below it;
/// when `node` can instead write the changed child anew itself, it drops the child's layout.
fn needs_rewrite(node: &mut Node, path: &[Step], is_sequence_item: bool) -> bool {
    let Some((step, rest)) = path.split_first() else {
        return match node {
            Node::Mapping(m) => is_sequence_item || m.flow || m.entries().next().is_none(),
            Node::Sequence(_) => true,
            Node::Scalar(_) => false,
        };
    };
    match (node, step) {
        (Node::Mapping(m), Step::Key(key)) => {
            let first = m.entries().next().is_some_and(|e| e.key == *key);
            let flow = m.flow;
            let Some(child) = m.items.iter_mut().find_map(|item| entry_value(item, key)) else {
                return false;
            };
            if !needs_rewrite(child, rest, false) {
                return false;
            }
            if flow || is_sequence_item && first {
                return true;
            }
            drop_layout(child);
            false
        }
        // A list cannot write one item anew: the list is written anew.
        (Node::Sequence(s), Step::Index(index)) => {
            nth_item(s, *index).is_some_and(|child| needs_rewrite(child, rest, true))
        }
        _ => false,
    }
}

/// Forgets where a collection was written, so its entry is written anew.
fn drop_layout(node: &mut Node) {
    match node {
        Node::Mapping(m) => m.span = None,
        Node::Sequence(s) => s.span = None,
        Node::Scalar(_) => {}
    }
}

fn remove_at(tree: &mut Tree<Plain>, path: &TreePath) -> Result<bool, EditError> {
    refuse_metadata_path(path)?;
    let (root, last, parents) = first_root(tree, path)?;
    let mut node: Option<&mut Node> = None;
    for step in parents {
        node = Some(match (node, step) {
            (None, Step::Key(k)) => match root.items.iter_mut().find_map(|i| entry_value(i, k)) {
                Some(n) => n,
                None => return Ok(false),
            },
            (Some(Node::Mapping(m)), Step::Key(k)) => match m.items.iter_mut().find_map(|i| entry_value(i, k)) {
                Some(n) => n,
                None => return Ok(false),
            },
            (Some(Node::Sequence(s)), Step::Index(i)) => match nth_item(s, *i) {
                Some(n) => n,
                None => return Ok(false),
            },
            _ => return Ok(false),
        });
    }
    Ok(match (node, last) {
        (None, Step::Key(k)) => root.remove(k).is_some(),
        (Some(Node::Mapping(m)), Step::Key(k)) => m.remove(k).is_some(),
        (Some(Node::Sequence(s)), Step::Index(i)) => {
            let position = s
                .items
                .iter()
                .enumerate()
                .filter(|(_, item)| matches!(item, SequenceItem::Node(_)))
                .nth(*i)
                .map(|(p, _)| p);
            match position {
                Some(p) => {
                    s.items.remove(p);
                    // Items have no recorded lines; the sequence is written anew.
                    s.span = None;
                    true
                }
                None => false,
            }
        }
        _ => false,
    })
}

fn entry_value<'a>(item: &'a mut MappingItem, key: &str) -> Option<&'a mut Node> {
    match item {
        MappingItem::Entry(e) if e.key == key => Some(&mut e.value),
        _ => None,
    }
}

/// Parses a `set` value: JSON, as sops reads it (numbers are floats, objects mappings).
pub fn parse_value(text: &str) -> Result<Node, EditError> {
    let mut node = formats::json::parse_value(text.as_bytes(), "value")
        .map_err(|_| EditError::InvalidValue(ValueProblem::NotJson))?;
    // sops reads a bare value with `json.Unmarshal`, which makes every number a float64; only
    // objects and arrays go through its JSON store, which keeps 64-bit integers (3.13).
    if let Node::Scalar(scalar) = &mut node
        && let Value::Int(int) = scalar.value
    {
        scalar.value = Value::Float(int as f64);
    }
    if let Some(key) = duplicate_key(&node) {
        return Err(EditError::InvalidValue(ValueProblem::DuplicateKey(key.to_string())));
    }
    Ok(node)
}

/// A key written twice in one mapping of a `set` value (JSON allows it, YAML does not).
fn duplicate_key(node: &Node) -> Option<&str> {
    match node {
        Node::Mapping(m) => {
            let mut seen = std::collections::HashSet::new();
            for entry in m.entries() {
                if !seen.insert(entry.key.as_str()) {
                    return Some(&entry.key);
                }
            }
            m.entries().find_map(|e| duplicate_key(&e.value))
        }
        Node::Sequence(s) => s.nodes().find_map(duplicate_key),
        Node::Scalar(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedent_keeps_lines_of_unicode_whitespace_whole() {
        assert_eq!(dedent("  a\n\u{3000}\n  b\n"), "a\n\u{3000}\nb\n");
        assert_eq!(dedent(" a\n\u{a0}\n b"), "a\n\u{a0}\nb");
        assert_eq!(dedent("    a\n  \u{a0}\n    b\n"), "a\n\u{a0}\nb\n");
        assert_eq!(dedent("\t  a\n\t    b\n"), "a\n  b\n");
    }

    fn tree(text: &str) -> Tree<Plain> {
        formats::parse(Format::Yaml, text.as_bytes(), "t")
            .unwrap()
            .into_plain("t")
            .unwrap()
    }

    fn data(tree: &Tree<Plain>) -> crate::tree::Data {
        crate::tree::Data::from(&tree.documents[0].root)
    }

    #[test]
    fn set_replaces_creates_and_reports_no_change() {
        let mut t = tree("a:\n  b: 1\nlist:\n  - x\n  - y\n");
        let path = |p| TreePath::parse(p).unwrap();
        assert!(!set_value(&mut t, &path(r#"["a"]["b"]"#), Node::scalar(Value::Int(1))).unwrap());
        assert!(set_value(&mut t, &path(r#"["a"]["b"]"#), Node::scalar(Value::Int(2))).unwrap());
        assert!(set_value(&mut t, &path(r#"["new"]["deep"]"#), Node::scalar(Value::str("v"))).unwrap());
        assert!(set_value(&mut t, &path(r#"["list"][1]"#), Node::scalar(Value::str("z"))).unwrap());
        assert_eq!(
            data(&t),
            data(&tree("a:\n  b: 2\nlist:\n  - x\n  - z\nnew:\n  deep: v\n"))
        );
        // As sops: an index past the end appends, a scalar in the way becomes a collection,
        // missing lists are created; a step of the wrong kind is refused.
        assert!(set_value(&mut t, &path(r#"["list"][5]"#), Node::scalar(Value::str("w"))).unwrap());
        assert!(set_value(&mut t, &path(r#"["a"]["b"]["c"]"#), Node::scalar(Value::Int(3))).unwrap());
        assert!(set_value(&mut t, &path(r#"["fresh"][0]["k"]"#), Node::scalar(Value::Int(4))).unwrap());
        assert_eq!(
            data(&t),
            data(&tree(
                "a:\n  b:\n    c: 3\nlist:\n  - x\n  - z\n  - w\nnew:\n  deep: v\nfresh:\n  - k: 4\n"
            ))
        );
        let err = set_value(&mut t, &path(r#"["list"]["k"]"#), Node::scalar(Value::Null)).unwrap_err();
        assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
        let err = set_value(&mut t, &path(r#"["a"][0]"#), Node::scalar(Value::Null)).unwrap_err();
        assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
    }

    #[test]
    fn unset_removes_entries_and_items_or_says_what_is_missing() {
        let mut t = tree("a:\n  b: 1\n  c: 2\nlist:\n  - x\n  - y\n");
        let path = |p| TreePath::parse(p).unwrap();
        unset_value(&mut t, &path(r#"["a"]["b"]"#)).unwrap();
        unset_value(&mut t, &path(r#"["list"][0]"#)).unwrap();
        assert_eq!(data(&t), data(&tree("a:\n  c: 2\nlist:\n  - y\n")));
        let err: crate::Error = unset_value(&mut t, &path(r#"["a"]["b"]"#)).unwrap_err().into();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("['b']"), "{err}");
    }

    #[test]
    fn set_values_are_json() {
        assert!(matches!(parse_value("\"x\"").unwrap(), Node::Scalar(s) if s.value == Value::str("x")));
        assert!(matches!(parse_value("5").unwrap(), Node::Scalar(s) if s.value == Value::Float(5.0)));
        let Node::Mapping(m) = parse_value("{\"big\": 9007199254740993}").unwrap() else {
            panic!("a mapping")
        };
        assert_eq!(
            m.get("big").and_then(Node::as_value),
            Some(&Value::Int(9_007_199_254_740_993))
        );
        assert!(matches!(parse_value("{\"k\": true}").unwrap(), Node::Mapping(_)));
        assert_eq!(crate::Error::from(parse_value("not json").unwrap_err()).exit_code(), 7);
    }
}
