//! The binary store: any file encrypted whole, as sops 3.11's binary store does it. The
//! plaintext is one value `data` holding the file's bytes; the encrypted file is that value in
//! the JSON store (`{"data": "ENC[…]", "sops": {…}}`), whose metadata names no rule.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::json::{self, JsonIndent};
use super::{Format, FormatError};
use crate::scalar;
use crate::tree::{Document, Mapping, Node, Parsed, Tree, Value};

const FORMAT: Format = Format::Binary;

/// The one key of a binary file's tree.
pub const DATA_KEY: &str = "data";

/// Reads a file for the binary store: an encrypted envelope is parsed as JSON, anything else
/// is the payload itself.
pub fn parse(input: &[u8], file: &str) -> Result<Tree<Parsed>, FormatError> {
    if input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && let Ok(tree) = json::parse(input, file)
        && tree.documents.first().is_some_and(|d| d.metadata.is_some())
    {
        return Ok(tree);
    }
    Ok(wrap(input))
}

/// The payload as a tree: one `data` entry with the bytes.
pub fn wrap(input: &[u8]) -> Tree<Parsed> {
    let mut root = Mapping::default();
    root.push(
        DATA_KEY,
        Node::scalar(scalar::string_or_bytes(Zeroizing::new(input.to_vec()))),
    );
    let document = Document {
        root,
        metadata: None,
        layout: None,
    };
    Tree::parsed(vec![document], None::<Arc<_>>)
}

/// Whether a parsed JSON file is a binary-store envelope: sops metadata and nothing but a
/// `data` value beside it. sops reads any file whose name it does not recognise this way
/// (older versions also wrote a rule into binary files' metadata, so that cannot tell).
pub fn is_envelope(tree: &Tree<Parsed>) -> bool {
    let [document] = tree.documents.as_slice() else {
        return false;
    };
    if document.metadata.is_none() {
        return false;
    }
    let mut entries = document.root.entries();
    matches!(
        (entries.next(), entries.next()),
        (Some(e), None) if e.key == DATA_KEY && matches!(e.value, Node::Scalar(_))
    )
}

/// Writes a binary file: the JSON envelope when the tree carries metadata (encrypted), the
/// payload's bytes otherwise (decrypted).
pub fn emit<S>(tree: &Tree<S>, indent: JsonIndent) -> Result<Vec<u8>, FormatError> {
    if tree.documents.first().is_some_and(|d| d.metadata.is_some()) {
        return json::emit(tree, indent);
    }
    let refuse = |reason: &str| FormatError::Unwritable {
        format: FORMAT,
        reason: reason.to_string(),
    };
    let [document] = tree.documents.as_slice() else {
        return Err(refuse("a binary file holds one document"));
    };
    match document.root.get(DATA_KEY) {
        Some(Node::Scalar(s)) => match &s.value {
            Value::Str(text) => Ok(text.as_bytes().to_vec()),
            Value::Bytes(bytes) => Ok(bytes.to_vec()),
            _ => Err(refuse("the `data` value is not a string")),
        },
        _ => Err(refuse(
            "there is no `data` string to write as a binary file (pass --output-type yaml or json)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_round_trip_through_wrap_and_emit() {
        for payload in [
            &b""[..],
            b"hello\n",
            b"\xff\x00\xfe",
            b"{\"not\": \"sops\"}\n",
            b"a: b\n",
        ] {
            let tree = parse(payload, "f.bin").expect("parses");
            assert!(!is_envelope(&tree));
            assert_eq!(emit(&tree, JsonIndent::Tab).expect("emits"), payload);
        }
    }

    #[test]
    fn an_envelope_is_json_with_data_and_rule_free_metadata() {
        let envelope = b"{\n\t\"data\": \"ENC[x]\",\n\t\"sops\": {\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
        let tree = parse(envelope, "f.bin").expect("parses");
        assert!(is_envelope(&tree));
        // sops 3.5 wrote a rule into binary files too.
        let old = json::parse(
            b"{\"data\": \"ENC[x]\", \"sops\": {\"unencrypted_suffix\": \"_unencrypted\"}}",
            "f.txt",
        )
        .expect("parses");
        assert!(is_envelope(&old));
        let plain = json::parse(b"{\"data\": \"x\"}", "f.json").expect("parses");
        assert!(!is_envelope(&plain), "no metadata: a plaintext JSON file");
        let two = json::parse(b"{\"data\": \"x\", \"more\": 1, \"sops\": {}}", "f.json").expect("parses");
        assert!(!is_envelope(&two));
    }
}
