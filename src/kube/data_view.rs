//! The decoded view of a Secret's `data` for editing: base64 values shown as the text (or bytes)
//! they stand for, and encoded back on save exactly as written.

use base64::Engine;
use zeroize::Zeroizing;

use super::{Finding, ManifestId, is_secret, secret_data};
use crate::go_base64;
use crate::tree::{Mapping, MappingItem, Node, Plain, Scalar, ScalarStyle, Source, Tree, Value};

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

/// [`secret_data`], to rewrite the values in place.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::tests::yaml;

    fn plain(text: &str) -> Tree<Plain> {
        yaml(text).into_plain("t.yaml").expect("test YAML is plaintext")
    }

    fn data_value(tree: &Tree<Plain>, key: &str) -> Option<Value> {
        let data = secret_data(&tree.documents[0].root)?;
        data.get(key).and_then(Node::as_value).cloned()
    }

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n";

    #[test]
    fn data_is_shown_decoded_text_as_strings_and_the_rest_as_bytes() {
        let mut tree = plain(&format!("{SECRET}  text: |\n    aGVs\n    bG8=\n  binary: /w==\n"));
        assert!(decode_secret_data(&mut tree));
        assert_eq!(data_value(&tree, "text"), Some(Value::str("hello")));
        assert_eq!(
            data_value(&tree, "binary"),
            Some(Value::Bytes(Zeroizing::new(vec![0xff])))
        );
    }

    #[test]
    fn data_that_is_not_base64_leaves_the_tree_alone() {
        let mut tree = plain(&format!("{SECRET}  good: aGVsbG8=\n  bad: hunter2!\n"));
        assert!(!decode_secret_data(&mut tree));
        assert_eq!(data_value(&tree, "good"), Some(Value::str("aGVsbG8=")));
    }

    #[test]
    fn edited_values_are_encoded_as_written() {
        let mut tree = plain(&format!("{SECRET}  mode: 0755\n  empty:\n  text: hello\n"));
        assert_eq!(encode_secret_data(&mut tree), Ok(()));
        assert_eq!(data_value(&tree, "mode"), Some(Value::str("MDc1NQ==")));
        assert_eq!(data_value(&tree, "empty"), Some(Value::str("")));
        assert_eq!(data_value(&tree, "text"), Some(Value::str("aGVsbG8=")));
    }

    #[test]
    fn values_whose_text_cannot_be_told_are_refused_by_key() {
        let mut tree = plain(&format!("{SECRET}  none: null\n  nested: {{a: b}}\n"));
        let problems: Vec<String> = encode_secret_data(&mut tree)
            .expect_err("null and a mapping are refused")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "Secret/-/s: data.none: is null: write '' for an empty value, or quote the text to store it as written",
                "Secret/-/s: data.nested: must be a single value, not a list or mapping",
            ]
        );
    }
}
