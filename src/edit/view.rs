//! The plaintext a person edits, diffs or merges: the decrypted file, with Kubernetes Secret
//! `data` values shown decoded (YAML only) under a header that says so.
//!
//! A view is read back with [`read`], which drops the header and base64-encodes `data` again,
//! so a view that was not changed reads back as exactly the tree it was made from.

use zeroize::Zeroizing;

use crate::error::Error;
use crate::formats::{self, Format, OutputOptions};
use crate::kube;
use crate::tree::{MappingItem, Node, Plain, ScalarStyle, Tree};

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
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Secret `data` values were shown decoded: encode them again.
    pub decoded: bool,
    /// How each decoded value was written in the file (document, key, style), so that it is
    /// written the same way again rather than in the style its decoded text needed.
    styles: Vec<(usize, String, ScalarStyle)>,
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
pub fn render(plain: &Tree<Plain>, options: ViewOptions) -> Result<View, Error> {
    let mut tree = plain.clone();
    for doc in &mut tree.documents {
        doc.metadata = None;
    }
    let styles = data_styles(&tree);
    let decoded = options.decode_secrets
        && options.format == Format::Yaml
        && !styles.is_empty()
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
    let reading = if decoded {
        Reading { decoded, styles }
    } else {
        Reading::raw()
    };
    Ok(View { text, reading })
}

/// Parses an edited view back into a plaintext tree: ksec's header lines dropped, Secret
/// `data` re-encoded when the view showed it decoded.
pub fn read(text: &[u8], format: Format, reading: &Reading, file: &str) -> Result<Tree<Plain>, Error> {
    let body = strip_header(text);
    let mut tree = formats::parse(format, body, file)?.into_plain(file)?;
    if reading.decoded {
        kube::encode_secret_data(&mut tree).map_err(|findings| Error::InvalidSecret {
            file: file.to_string(),
            findings: findings.iter().map(ToString::to_string).collect(),
        })?;
        restore_styles(&mut tree, &reading.styles);
    }
    Ok(tree)
}

/// The style of every Secret `data` value that came from text.
fn data_styles(tree: &Tree<Plain>) -> Vec<(usize, String, ScalarStyle)> {
    let mut styles = Vec::new();
    for (d, document) in tree.documents.iter().enumerate() {
        let Some(data) = secret_data(&document.root) else {
            continue;
        };
        for entry in data.entries() {
            if let Node::Scalar(scalar) = &entry.value {
                let style = scalar.origin.map_or(ScalarStyle::Plain, |o| o.style);
                styles.push((d, entry.key.clone(), style));
            }
        }
    }
    styles
}

/// Gives re-encoded `data` values their style in the file: base64 needs no block or quotes,
/// so the style of the decoded text would otherwise change lines that did not change.
fn restore_styles(tree: &mut Tree<Plain>, styles: &[(usize, String, ScalarStyle)]) {
    for (d, document) in tree.documents.iter_mut().enumerate() {
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
            let Some(origin) = scalar.origin.as_mut() else { continue };
            let style = styles
                .iter()
                .find(|(sd, key, _)| *sd == d && *key == entry.key)
                .map_or(ScalarStyle::Plain, |(_, _, style)| *style);
            origin.style = style;
            if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                origin.block_header = None;
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

    #[test]
    fn typed_values_are_encoded_as_written() {
        let edited = "apiVersion: v1\nkind: Secret\ndata:\n  port: 5432\n  on: true\n  empty:\n";
        let reading = Reading {
            decoded: true,
            styles: Vec::new(),
        };
        let tree = read(edited.as_bytes(), Format::Yaml, &reading, "t").unwrap();
        let data = tree.documents[0].root.get("data").unwrap().as_mapping().unwrap();
        let value = |k| data.get(k).unwrap().as_value().unwrap().clone();
        assert_eq!(value("port"), Value::str("NTQzMg=="));
        assert_eq!(value("on"), Value::str("dHJ1ZQ=="));
        assert_eq!(value("empty"), Value::str(""));
    }

    #[test]
    fn only_leading_header_lines_are_stripped() {
        assert_eq!(
            strip_header(b"# ksec: a\n# ksec: b\nk: v\n# ksec: kept\n"),
            b"k: v\n# ksec: kept\n"
        );
    }
}
