//! The plaintext a person edits, diffs or merges: the decrypted file, with Kubernetes Secret
//! `data` values shown decoded (YAML only) under a header that says so.
//!
//! A view is read back with [`read`], which drops the header and base64-encodes `data` again,
//! so a view that was not changed reads back as exactly the tree it was made from.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::EditError;
use crate::formats::styles::{SEP, StyleMap, restore_file_styles, style_map};
use crate::formats::{self, Format, FormatError, OutputOptions};
use crate::kube::{self, KubeError};
use crate::sops_file::FileError;
use crate::tree::{MappingItem, Node, Plain, Tree};

/// Lines of a view that start with this are ksec's, and are removed when it is read back.
pub const HEADER_PREFIX: &str = "# ksec:";

const DECODED_HEADER: &str = "\
# ksec: Secret `data` values are shown decoded and are base64-encoded again on save.
# ksec: a value tagged !!binary is not text and stays base64; `--raw` shows data as stored.
";

/// A rendered view and how to read it back.
pub struct View {
    pub text: Zeroizing<Vec<u8>>,
    /// How to read the view back.
    pub reading: Reading,
}

impl View {
    /// Secret `data` values are shown decoded.
    pub fn decoded(&self) -> bool {
        self.reading.decoded
    }
}

/// What [`read`] needs to know about the view it reads back.
#[derive(Clone, Default)]
pub struct Reading {
    /// Secret `data` values were shown decoded: encode them again.
    pub decoded: bool,
    /// For each value, the style it had in the encrypted file and the style the view showed
    /// it in. A value still in its view style is written in its file style again, so a view
    /// that needed quotes or a block for a value's text (or its decoded text) does not change
    /// how the encrypted file spells it.
    styles: StyleMap,
    /// The `data` values as stored, by document and key: one whose content is unchanged keeps
    /// its spelling (base64 wrapped over several lines, as `base64` writes it), and so its
    /// ciphertext.
    stored_data: HashMap<String, Zeroizing<String>>,
}

impl Reading {
    /// A view with Secret `data` as stored.
    pub fn raw() -> Reading {
        Reading::default()
    }
}

/// How a view is made.
#[derive(Debug, Clone, Copy)]
pub struct ViewOptions {
    pub format: Format,
    pub output: OutputOptions,
    /// Show Secret `data` decoded when possible (YAML only: JSON has no comments to say so).
    pub decode_secrets: bool,
    /// Start with the header explaining the view (for an editor; not for diffs and merges).
    pub header: bool,
}

/// Renders a decrypted tree as a view.
pub fn render(plain: &Tree<Plain>, options: ViewOptions) -> Result<View, FormatError> {
    let mut tree = plain.clone();
    for doc in &mut tree.documents {
        doc.metadata = None;
    }
    let stored_data = stored_data(&tree);
    let decoded = options.decode_secrets
        && options.format == Format::Yaml
        && !stored_data.is_empty()
        && kube::decode_secret_data(&mut tree);
    let body = Zeroizing::new(formats::emit(
        options.format,
        &mut tree,
        options.format,
        options.output,
    )?);
    let mut text = Zeroizing::new(Vec::with_capacity(body.len() + DECODED_HEADER.len()));
    if decoded && options.header {
        text.extend_from_slice(DECODED_HEADER.as_bytes());
    }
    text.extend_from_slice(&body);
    let styles = style_map(plain, &body, options.format);
    let stored_data = if decoded { stored_data } else { HashMap::new() };
    Ok(View {
        text,
        reading: Reading {
            decoded,
            styles,
            stored_data,
        },
    })
}

/// Parses an edited view back into a plaintext tree: ksec's header lines dropped, Secret
/// `data` re-encoded when the view showed it decoded.
pub fn read(text: &[u8], format: Format, reading: &Reading, file: &str) -> Result<Tree<Plain>, EditError> {
    let body = strip_header(text);
    let parsed = formats::parse(format, body, file).map_err(|error| {
        // The header lines are comments: parsing the whole text gives the same error with the
        // line numbers the editor shows.
        formats::parse(format, text, file).err().unwrap_or(error)
    })?;
    let mut tree = parsed.into_plain(file).map_err(FileError::from)?;
    if reading.decoded {
        kube::encode_secret_data(&mut tree).map_err(|findings| KubeError::UnencodableData {
            file: file.to_string(),
            findings,
        })?;
    }
    restore_stored_data(&mut tree, &reading.stored_data);
    restore_file_styles(&mut tree, &reading.styles);
    Ok(tree)
}

/// Every Secret's `data` strings as stored, by document and key.
fn stored_data(tree: &Tree<Plain>) -> HashMap<String, Zeroizing<String>> {
    let mut stored = HashMap::new();
    for (d, document) in tree.documents.iter().enumerate() {
        let Some(data) = secret_data(&document.root) else {
            continue;
        };
        for entry in data.entries() {
            if let Some(crate::tree::Value::Str(text)) = entry.value.as_value() {
                stored.insert(format!("{d}{SEP}{}", entry.key), text.clone());
            }
        }
    }
    stored
}

/// Gives re-encoded `data` values whose content did not change their stored spelling back.
fn restore_stored_data(tree: &mut Tree<Plain>, stored: &HashMap<String, Zeroizing<String>>) {
    if stored.is_empty() {
        return;
    }
    for (d, document) in tree.documents.iter_mut().enumerate() {
        if secret_data(&document.root).is_none() {
            continue;
        }
        let Some(Node::Mapping(data)) = document.root.items.iter_mut().find_map(|item| match item {
            MappingItem::Entry(e) if e.key == "data" => Some(&mut e.value),
            _ => None,
        }) else {
            continue;
        };
        for item in &mut data.items {
            let MappingItem::Entry(entry) = item else { continue };
            let Node::Scalar(scalar) = &mut entry.value else {
                continue;
            };
            let Some(original) = stored.get(&format!("{d}{SEP}{}", entry.key)) else {
                continue;
            };
            let same_content = scalar.value.as_str().is_some_and(|encoded| {
                original
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .eq(encoded.chars())
            });
            if same_content && scalar.value.as_str() != Some(original.as_str()) {
                scalar.replace(crate::tree::Value::Str(original.clone()));
            }
        }
    }
}

fn secret_data(root: &crate::tree::Mapping) -> Option<&crate::tree::Mapping> {
    let kind = root.get("kind").and_then(Node::as_value).and_then(|v| v.as_str());
    (kind == Some("Secret"))
        .then(|| root.get("data").and_then(Node::as_mapping))
        .flatten()
}

/// The text after the leading lines that start with [`HEADER_PREFIX`].
pub fn strip_header(text: &[u8]) -> &[u8] {
    let mut rest = text;
    while rest.starts_with(HEADER_PREFIX.as_bytes()) {
        rest = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => &rest[end + 1..],
            None => &[],
        };
    }
    rest
}

/// A header for a view, from text lines (each is prefixed with [`HEADER_PREFIX`]).
pub fn header(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{HEADER_PREFIX} {line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::OutputOptions;
    use crate::tree::{Data, Value};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    fn options() -> ViewOptions {
        ViewOptions {
            format: Format::Yaml,
            output: OutputOptions::default(),
            decode_secrets: true,
            header: true,
        }
    }

    fn plain(text: &str) -> Tree<Plain> {
        formats::parse(Format::Yaml, text.as_bytes(), "t")
            .unwrap()
            .into_plain("t")
            .unwrap()
    }

    #[test]
    fn secret_data_is_shown_decoded_and_read_back_encoded() {
        let source =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n  blob: /w==\n";
        let view = render(&plain(source), options()).unwrap();
        let text = String::from_utf8(view.text.to_vec()).unwrap();
        assert!(view.decoded());
        assert!(text.starts_with(HEADER_PREFIX));
        assert!(text.contains("password: hunter2\n"), "{text}");
        assert!(text.contains("blob: !!binary /w==\n"), "{text}");
        let back = read(&view.text, Format::Yaml, &view.reading, "t").unwrap();
        assert_eq!(
            Data::from(&back.documents[0].root),
            Data::from(&plain(source).documents[0].root)
        );
    }

    #[test]
    fn undecodable_data_is_shown_as_stored() {
        let source = "apiVersion: v1\nkind: Secret\ndata:\n  a: aGk=\n  b: not base64!\n";
        let view = render(&plain(source), options()).unwrap();
        assert!(!view.decoded());
        assert_eq!(&view.text[..], source.as_bytes());
    }

    #[test]
    fn other_documents_and_json_are_left_alone() {
        let source = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: aGk=\n";
        let view = render(&plain(source), options()).unwrap();
        assert!(!view.decoded());
        assert_eq!(&view.text[..], source.as_bytes());
    }

    fn decoded() -> Reading {
        Reading {
            decoded: true,
            ..Reading::default()
        }
    }

    #[test]
    fn typed_values_are_encoded_as_written() {
        let edited = "apiVersion: v1\nkind: Secret\ndata:\n  port: 5432\n  on: true\n  empty:\n  pin: 0755\n  \
                      ver: 1.10\n  hex: 0x1F\n  exp: 1e3\n  day: 2024-01-01\n  inf: .inf\n  signed: +12\n  \
                      commented: 0755 # not part of it\n  anchored: &a 017\n  quoted: \"0755\"\n  single: '1.10'\n";
        let tree = read(edited.as_bytes(), Format::Yaml, &decoded(), "t").unwrap();
        let data = tree.documents[0].root.get("data").unwrap().as_mapping().unwrap();
        let stored = |k| {
            let value = data.get(k).unwrap().as_value().unwrap();
            String::from_utf8(BASE64.decode(value.as_str().unwrap()).unwrap()).unwrap()
        };
        for (key, text) in [
            ("port", "5432"),
            ("on", "true"),
            ("empty", ""),
            ("pin", "0755"),
            ("ver", "1.10"),
            ("hex", "0x1F"),
            ("exp", "1e3"),
            ("day", "2024-01-01"),
            ("inf", ".inf"),
            ("signed", "+12"),
            ("commented", "0755"),
            ("anchored", "017"),
            ("quoted", "0755"),
            ("single", "1.10"),
        ] {
            assert_eq!(stored(key), text, "data.{key}");
        }
    }

    #[test]
    fn null_tagged_and_aliased_typed_values_are_refused_by_name() {
        for (value, problem) in [
            ("null", "is null"),
            ("~", "is null"),
            ("Null", "is null"),
            ("!!int 0755", "YAML tag"),
            ("*n", "alias"),
        ] {
            let edited =
                format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nn: &n 12\ndata:\n  secret: {value}\n");
            let error = read(edited.as_bytes(), Format::Yaml, &decoded(), "t").expect_err(value);
            let message = match &error {
                EditError::Kube(KubeError::UnencodableData { .. }) => error.to_string(),
                other => panic!("{value}: {other}"),
            };
            assert!(
                message.contains("Secret/-/db: data.secret: ") && message.contains(problem),
                "{value}: {message}"
            );
        }
        // A string that reads like null is still text.
        let edited = "apiVersion: v1\nkind: Secret\ndata:\n  secret: \"null\"\n";
        let tree = read(edited.as_bytes(), Format::Yaml, &decoded(), "t").unwrap();
        let data = tree.documents[0].root.get("data").unwrap().as_mapping().unwrap();
        assert_eq!(data.get("secret").unwrap().as_value().unwrap(), &Value::str("bnVsbA=="));
    }

    #[test]
    fn only_leading_header_lines_are_stripped() {
        assert_eq!(
            strip_header(b"# ksec: a\n# ksec: b\nk: v\n# ksec: kept\n"),
            b"k: v\n# ksec: kept\n"
        );
    }
}
