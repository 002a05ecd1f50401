//! The dotenv store: `KEY=VALUE` lines, as sops 3.11's `stores/dotenv` reads and writes them.
//!
//! Reading splits on `\n`, drops empty lines, takes a line starting with `#` as a comment and
//! anything else as `KEY=VALUE` split at the first `=`, both sides verbatim (no trimming, no
//! unquoting, a CRLF's `\r` stays in the value). The two characters `\n` in a value stand for a
//! newline. Every value is a string. Entries named `sops_…` are the flattened metadata.
//!
//! Writing gives one `KEY=VALUE` line per entry and `#text` per comment, then the metadata as
//! `sops_…` lines sorted by key.

use zeroize::Zeroizing;

use super::flat;
use super::{Format, FormatError};
use crate::scalar;
use crate::tree::{Comment, Document, Mapping, MappingItem, Node, Parsed, Tree, Value};

const FORMAT: Format = Format::Dotenv;

/// The prefix of metadata entries.
const METADATA_PREFIX: &str = "sops_";

/// Parses a dotenv file. Messages name the line number, never its text (it may be a secret).
pub fn parse(input: &[u8], file: &str) -> Result<Tree<Parsed>, FormatError> {
    let error = |line: usize, reason: &str| FormatError::Syntax {
        file: file.to_string(),
        format: FORMAT,
        line: Some(line),
        column: None,
        reason: reason.to_string(),
    };
    let mut root = Mapping::default();
    let mut metadata = Vec::new();
    for (index, line) in input.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(text) = line.strip_prefix(b"#") {
            let text = std::str::from_utf8(text).map_err(|_| error(number, "a comment that is not UTF-8"))?;
            root.items.push(MappingItem::Comment(Comment::new(text)));
            continue;
        }
        let Some(at) = line.iter().position(|&b| b == b'=') else {
            return Err(error(number, "expected KEY=VALUE or a # comment"));
        };
        let key = std::str::from_utf8(&line[..at]).map_err(|_| error(number, "a key that is not UTF-8"))?;
        let raw = &line[at + 1..];
        if let Some(field) = key.strip_prefix(METADATA_PREFIX) {
            // Still flattened text: `flat::unflatten` decodes the newlines.
            let text = std::str::from_utf8(raw).map_err(|_| error(number, "metadata that is not UTF-8"))?;
            metadata.push((field.to_string(), text.to_string()));
            continue;
        }
        root.push(key, Node::scalar(scalar::string_or_bytes(decode_newlines(raw))));
    }
    let metadata = if metadata.is_empty() {
        None
    } else {
        Some(flat::unflatten(&metadata, file)?)
    };
    let document = Document {
        root,
        metadata,
        layout: None,
    };
    Ok(Tree::parsed(vec![document], None))
}

/// The value with each two-character `\n` turned into a newline.
fn decode_newlines(raw: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// Writes a tree as dotenv. Only one document with flat values fits; a key that would read
/// back as something else (holding `=` or a newline, starting with `#`) is refused.
pub fn emit<S>(tree: &Tree<S>) -> Result<Vec<u8>, FormatError> {
    let refuse = |reason: String| FormatError::Unwritable { format: FORMAT, reason };
    let document = super::single_document(tree, FORMAT)?;
    // Reserved up front (a value's newlines at most double it): a growing buffer would leave
    // copies of the plaintext behind in freed memory.
    let needed: usize = document
        .root
        .items
        .iter()
        .map(|item| match item {
            MappingItem::Comment(c) => c.text.len() + 2,
            MappingItem::Entry(e) => {
                let value = match &e.value {
                    Node::Scalar(s) => match &s.value {
                        Value::Str(t) => 2 * t.len(),
                        Value::Bytes(b) => 2 * b.len(),
                        _ => 64,
                    },
                    _ => 0,
                };
                e.key.len() + value + 2
            }
        })
        .sum();
    let mut out = Vec::with_capacity(needed + 4096);
    for item in &document.root.items {
        match item {
            MappingItem::Comment(c) => {
                if c.text.contains('\n') {
                    return Err(refuse("a comment spans several lines".into()));
                }
                out.push(b'#');
                out.extend_from_slice(c.text.as_bytes());
            }
            MappingItem::Entry(e) => {
                if e.key.contains(['=', '\n']) || e.key.starts_with('#') || e.key.starts_with(METADATA_PREFIX) {
                    return Err(refuse(format!(
                        "the key {:?} cannot be written as a dotenv key (it holds '=' or a line break, \
                         starts with '#', or uses the reserved sops_ prefix)",
                        e.key
                    )));
                }
                let Node::Scalar(s) = &e.value else {
                    return Err(refuse(format!("{}: a list or mapping has no dotenv form", e.key)));
                };
                out.extend_from_slice(e.key.as_bytes());
                out.push(b'=');
                match &s.value {
                    Value::Str(_) | Value::Bytes(_) => {
                        let text = Zeroizing::new(scalar::go_text(&s.value));
                        for &b in text.iter() {
                            if b == b'\n' {
                                out.extend_from_slice(b"\\n");
                            } else {
                                out.push(b);
                            }
                        }
                    }
                    other => out.extend_from_slice(&Zeroizing::new(scalar::go_text(other))),
                }
            }
        }
        out.push(b'\n');
    }
    if let Some(metadata) = &document.metadata {
        for (key, value) in flat::flatten(metadata) {
            out.extend_from_slice(METADATA_PREFIX.as_bytes());
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Data, Encrypted, Entry};

    fn values(tree: &Tree<Parsed>) -> Vec<(String, Value)> {
        tree.documents[0]
            .root
            .entries()
            .map(|e| (e.key.clone(), e.value.as_value().cloned().expect("scalar")))
            .collect()
    }

    #[test]
    fn lines_split_at_the_first_equals_sign_verbatim() {
        let tree = parse(b"A=1\n\n#note\nexport B = \"two\"=x\r\nC=a\\nb\nD=\n", "t.env").expect("parses");
        assert_eq!(
            values(&tree),
            vec![
                ("A".into(), Value::str("1")),
                ("export B ".into(), Value::str(" \"two\"=x\r")),
                ("C".into(), Value::str("a\nb")),
                ("D".into(), Value::str("")),
            ]
        );
        let comments: Vec<String> = tree.documents[0]
            .root
            .items
            .iter()
            .filter_map(|i| match i {
                MappingItem::Comment(c) => Some(c.text.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(comments, ["note"]);
        assert!(tree.documents[0].metadata.is_none());
    }

    #[test]
    fn a_line_without_equals_is_an_error_that_does_not_show_the_line() {
        let err = parse(b"A=1\nhunter2\n", "s.env").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("s.env") && text.contains("line 2"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        // An indented comment is not a comment (sops refuses it too).
        assert!(parse(b" # x\n", "s.env").is_err());
    }

    #[test]
    fn invalid_utf8_values_are_kept_as_bytes() {
        let tree = parse(b"K=\xff\x00\n", "t.env").expect("parses");
        assert_eq!(values(&tree)[0].1, Value::Bytes(Zeroizing::new(vec![0xff, 0x00])));
        assert_eq!(emit(&tree).expect("emits"), b"K=\xff\x00\n");
    }

    #[test]
    fn sops_entries_become_the_metadata_node() {
        let tree = parse(
            b"A=ENC[x]\nsops_version=3.11.0\nsops_age__list_0__map_enc=l1\\nl2\\n\nsops_age__list_0__map_recipient=age1x\n",
            "t.env",
        )
        .expect("parses");
        assert_eq!(values(&tree).len(), 1);
        let metadata = tree.documents[0].metadata.as_ref().expect("metadata");
        let age = metadata.as_mapping().and_then(|m| m.get("age")).expect("age");
        let Data::Sequence(items) = Data::from(age) else {
            panic!("age is a list")
        };
        assert_eq!(
            items[0],
            Data::Mapping(vec![
                ("enc".into(), Data::Value(Value::str("l1\nl2\n"))),
                ("recipient".into(), Data::Value(Value::str("age1x"))),
            ])
        );
    }

    #[test]
    fn emit_writes_sops_style_lines_and_sorted_metadata() {
        let mut root = Mapping::default();
        root.items.push(MappingItem::Comment(Comment::new(" c")));
        root.push("S", Node::scalar(Value::str("a\nb")));
        root.push("I", Node::scalar(Value::Int(7)));
        root.push("F", Node::scalar(Value::Float(2.0)));
        root.push("B", Node::scalar(Value::Bool(true)));
        let mut meta = Mapping::default();
        meta.push("version", Node::scalar(Value::str("3.11.0")));
        meta.push("lastmodified", Node::scalar(Value::str("2026-01-01T00:00:00Z")));
        let tree: Tree<Encrypted> = Tree::from_parts(
            vec![Document {
                root,
                metadata: Some(Node::Mapping(meta)),
                layout: None,
            }],
            None,
        );
        assert_eq!(
            String::from_utf8(emit(&tree).expect("emits")).expect("utf-8"),
            "# c\nS=a\\nb\nI=7\nF=2.0\nB=true\nsops_lastmodified=2026-01-01T00:00:00Z\nsops_version=3.11.0\n"
        );
    }

    #[test]
    fn emit_refuses_what_would_read_back_differently() {
        for (key, value) in [
            ("A=B", Node::scalar(Value::str("x"))),
            ("#A", Node::scalar(Value::str("x"))),
            ("sops_x", Node::scalar(Value::str("x"))),
            ("L", Node::Mapping(Mapping::default())),
        ] {
            let mut root = Mapping::default();
            root.items.push(MappingItem::Entry(Entry::new(key, value)));
            let tree: Tree<Parsed> = Tree::parsed(
                vec![Document {
                    root,
                    metadata: None,
                    layout: None,
                }],
                None,
            );
            assert!(emit(&tree).is_err(), "{key}");
        }
    }
}
