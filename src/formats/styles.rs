//! How a decrypted file's values were spelled in the encrypted file against how their
//! plaintext is written out, so that writing an unchanged plaintext back spells every value
//! (and so every ciphertext) as before. sops writes every ciphertext plain; a decryption may
//! need quotes (`"5432"`) or a block for the same value.

use std::collections::HashMap;

use crate::formats::{self, Format};
use crate::tree::{Document, MappingItem, Node, Plain, ScalarStyle, SequenceItem, Tree};

/// For each value of a decrypted file (by path), the style of its ciphertext in the file and
/// the style its decryption is written in. See [`restore_file_styles`].
#[derive(Debug, Clone, Default)]
pub struct StyleMap(HashMap<String, (ScalarStyle, ScalarStyle)>);

/// The [`StyleMap`] of a decrypted tree, given the text it was written out as.
pub fn style_map(plain: &Tree<Plain>, rendered: &[u8], format: Format) -> StyleMap {
    match formats::parse(format, rendered, "view") {
        Ok(view) => {
            let in_file = scalar_styles(&plain.documents);
            StyleMap(
                scalar_styles(&view.documents)
                    .into_iter()
                    .filter_map(|(path, view_style)| {
                        in_file.get(&path).map(|&file_style| (path, (file_style, view_style)))
                    })
                    .collect(),
            )
        }
        Err(_) => StyleMap::default(),
    }
}

/// Writes values that are still in the style their decryption showed them in the style their
/// ciphertext had in the file: re-encrypting an unchanged decryption then spells every
/// ciphertext as before (sops writes them all plain; a view quotes `"5432"`).
pub fn restore_file_styles(tree: &mut Tree<Plain>, map: &StyleMap) {
    if map.0.is_empty() {
        return;
    }
    for (d, document) in tree.documents.iter_mut().enumerate() {
        for item in &mut document.root.items {
            if let MappingItem::Entry(entry) = item {
                restore_styles(&mut entry.value, &mut format!("{d}{SEP}{}", entry.key), &map.0);
            }
        }
    }
}

/// Separates the steps of a value's path (a character keys do not hold).
pub(crate) const SEP: char = '\u{0}';

/// The style of every scalar that came from text, by path.
fn scalar_styles(documents: &[Document]) -> HashMap<String, ScalarStyle> {
    fn walk(node: &Node, path: &mut String, out: &mut HashMap<String, ScalarStyle>) {
        let len = path.len();
        match node {
            Node::Scalar(scalar) => {
                if let Some(origin) = scalar.origin {
                    out.entry(path.clone()).or_insert(origin.style);
                }
            }
            Node::Mapping(m) => {
                for entry in m.entries() {
                    path.push(SEP);
                    path.push_str(&entry.key);
                    walk(&entry.value, path, out);
                    path.truncate(len);
                }
            }
            Node::Sequence(s) => {
                let items = s.items.iter().filter_map(|i| match i {
                    SequenceItem::Node(n) => Some(n),
                    SequenceItem::Comment(_) => None,
                });
                for (i, item) in items.enumerate() {
                    path.push_str(&format!("{SEP}#{i}"));
                    walk(item, path, out);
                    path.truncate(len);
                }
            }
        }
    }
    let mut out = HashMap::new();
    for (d, document) in documents.iter().enumerate() {
        for entry in document.root.entries() {
            walk(&entry.value, &mut format!("{d}{SEP}{}", entry.key), &mut out);
        }
    }
    out
}

/// Puts values still in their view style back in their file style.
fn restore_styles(node: &mut Node, path: &mut String, styles: &HashMap<String, (ScalarStyle, ScalarStyle)>) {
    let len = path.len();
    match node {
        Node::Scalar(scalar) => {
            if let (Some(origin), Some(&(file_style, view_style))) = (scalar.origin.as_mut(), styles.get(path.as_str()))
                && origin.style == view_style
                && file_style != view_style
            {
                let to_block = matches!(file_style, ScalarStyle::Literal | ScalarStyle::Folded);
                if !to_block {
                    origin.block_header = None;
                } else if !matches!(view_style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    // The view's column was that of text after the key: indent the block the
                    // way the file's indentation calls for.
                    origin.content_column = origin.parent_column;
                }
                origin.style = file_style;
            }
        }
        Node::Mapping(m) => {
            for item in &mut m.items {
                if let MappingItem::Entry(entry) = item {
                    path.push(SEP);
                    path.push_str(&entry.key);
                    restore_styles(&mut entry.value, path, styles);
                    path.truncate(len);
                }
            }
        }
        Node::Sequence(s) => {
            let items = s.items.iter_mut().filter_map(|i| match i {
                SequenceItem::Node(n) => Some(n),
                SequenceItem::Comment(_) => None,
            });
            for (i, item) in items.enumerate() {
                path.push_str(&format!("{SEP}#{i}"));
                restore_styles(item, path, styles);
                path.truncate(len);
            }
        }
    }
}
