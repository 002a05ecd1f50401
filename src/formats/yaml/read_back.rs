//! The self-check's cheap path for YAML: a text written by ksec is compared with the tree it
//! was written from as it is read, without building a second tree.
//!
//! It reads with the quick reader ([`super::fast`]), so it answers only for the block YAML
//! that reader takes, and only "the same": a text it cannot read, a comment in either, or any
//! difference answers "cannot tell", and the caller reads the text in full and compares trees
//! (which also says what differs). Values are typed as the tree builder types them.

use granit_parser::{Event, ScalarStyle as GranitStyle};

use super::fast;
use super::resolve;
use crate::tree::{Mapping, MappingItem, Node, SequenceItem, Value};

/// One document the text must hold.
pub struct Expected<'a> {
    pub root: &'a Mapping,
    /// The `sops` block the document's root must end with, if any.
    pub metadata: Option<&'a Node>,
}

/// Whether `text` reads to exactly `documents`: the same keys in the same order, values alike
/// by `same` (read value, expected value), and a top-level `sops` entry equal to `metadata`
/// exactly where one is expected. `false` means only that this path cannot tell.
pub fn reads_as(text: &str, documents: &[Expected<'_>], same: &dyn Fn(&Value, &Value) -> bool) -> bool {
    if !fast::admissible(text) || documents.iter().any(|d| has_comments(d.root)) {
        return false;
    }
    let mut reader = Reader {
        events: fast::Events::new(text),
        same,
    };
    reader.next_is(|e| matches!(e, Event::StreamStart))
        && documents.iter().all(|document| reader.document(document))
        && reader.next_is(|e| matches!(e, Event::StreamEnd))
        && reader.events.next().is_none()
}

struct Reader<'t, 's> {
    events: fast::Events<'t>,
    same: &'s dyn Fn(&Value, &Value) -> bool,
}

impl<'t> Reader<'t, '_> {
    fn next(&mut self) -> Option<Event<'t>> {
        self.events.next()?.ok().map(|(event, _)| event)
    }

    fn next_is(&mut self, wanted: impl Fn(&Event<'t>) -> bool) -> bool {
        self.next().is_some_and(|event| wanted(&event))
    }

    fn document(&mut self, expected: &Expected<'_>) -> bool {
        self.next_is(|e| matches!(e, Event::DocumentStart(..)))
            && self.next_is(|e| matches!(e, Event::MappingStart(..)))
            && self.mapping(expected.root, Some(expected.metadata))
            && self.next_is(|e| matches!(e, Event::DocumentEnd))
    }

    /// The entries of a mapping whose start was read, through its end. `metadata` is given
    /// for a document's root: its `sops` entry, which must come last when expected.
    fn mapping(&mut self, expected: &Mapping, metadata: Option<Option<&Node>>) -> bool {
        let mut entries = expected.entries();
        loop {
            let Some(event) = self.next() else { return false };
            let Event::Scalar(key, style, _, None) = event else {
                return matches!(event, Event::MappingEnd) && entries.next().is_none() && metadata.flatten().is_none();
            };
            if metadata.is_some() && key == "sops" && style == GranitStyle::Plain {
                // The block ends the document's root, as ksec writes it.
                return match metadata.flatten() {
                    Some(node) => {
                        entries.next().is_none() && self.node(node) && self.next_is(|e| matches!(e, Event::MappingEnd))
                    }
                    None => false,
                };
            }
            let Some(entry) = entries.next() else { return false };
            if !key_is(&key, style, &entry.key) || !self.node(&entry.value) {
                return false;
            }
        }
    }

    fn node(&mut self, expected: &Node) -> bool {
        match (self.next(), expected) {
            (Some(Event::Scalar(text, style, _, None)), Node::Scalar(scalar)) => {
                self.value_is(&text, style, &scalar.value)
            }
            (Some(Event::MappingStart(..)), Node::Mapping(mapping)) => self.mapping(mapping, None),
            (Some(Event::SequenceStart(..)), Node::Sequence(sequence)) => {
                sequence.nodes().all(|item| self.node(item)) && self.next_is(|e| matches!(e, Event::SequenceEnd))
            }
            _ => false,
        }
    }

    /// Whether a scalar read as `style` is the expected value, typed as the builder types it.
    fn value_is(&self, text: &str, style: GranitStyle, expected: &Value) -> bool {
        let is_string = style != GranitStyle::Plain || resolve::plain_is_string(text);
        match expected {
            // Two strings are alike exactly when equal, whatever `same`'s mode: no copy made.
            Value::Str(e) if is_string => text == e.as_str(),
            _ if is_string => (self.same)(&Value::str(text), expected),
            _ => resolve::resolve_plain(text).is_ok_and(|read| (self.same)(&read, expected)),
        }
    }
}

/// Whether a key read as `style` is the string `expected` (a key that types as anything else
/// is refused by the builder).
fn key_is(text: &str, style: GranitStyle, expected: &str) -> bool {
    text == expected && (style != GranitStyle::Plain || resolve::plain_is_string(text))
}

/// Whether a mapping holds a comment anywhere: the quick reader reads texts without any.
fn has_comments(mapping: &Mapping) -> bool {
    fn node(n: &Node) -> bool {
        match n {
            Node::Mapping(m) => has_comments(m),
            Node::Sequence(s) => s.items.iter().any(|item| match item {
                SequenceItem::Node(n) => node(n),
                SequenceItem::Comment(_) => true,
            }),
            Node::Scalar(_) => false,
        }
    }
    mapping.items.iter().any(|item| match item {
        MappingItem::Entry(entry) => node(&entry.value),
        MappingItem::Comment(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::yaml::parse::parse_values;
    use crate::tree::{Parsed, Tree};

    fn tree(text: &str) -> Tree<Parsed> {
        parse_values(text.as_bytes(), "t.yaml").expect("parses")
    }

    fn expected(tree: &Tree<Parsed>) -> Vec<Expected<'_>> {
        tree.documents
            .iter()
            .map(|d| Expected {
                root: &d.root,
                metadata: d.metadata.as_ref(),
            })
            .collect()
    }

    fn equal(a: &Value, b: &Value) -> bool {
        a == b
    }

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  labels:\n    a: \"1\"\n\
        data:\n  k: dg==\nlist:\n- 1\n- k: v\n  n: 2.5\nflag: true\nsops:\n  age:\n    - recipient: r\n      \
        enc: |\n        abc\n        def\n  version: 3.11.0\n---\nb: |-\n  two\n  lines\n";

    #[test]
    fn a_text_reads_as_its_own_tree() {
        let t = tree(SECRET);
        assert!(reads_as(SECRET, &expected(&t), &equal));
    }

    #[test]
    fn any_difference_cannot_be_told_the_same() {
        let t = tree(SECRET);
        let changed = [
            ("a value", SECRET.replace("dg==", "dh==")),
            ("a type", SECRET.replace("a: \"1\"", "a: 1")),
            ("a key", SECRET.replace("  k: dg==", "  j: dg==")),
            ("an entry more", SECRET.replace("flag: true\n", "flag: true\nmore: 1\n")),
            ("an entry less", SECRET.replace("flag: true\n", "")),
            ("an item more", SECRET.replace("- 1\n", "- 1\n- 1\n")),
            ("the metadata", SECRET.replace("3.11.0", "3.11.1")),
            (
                "no metadata",
                SECRET.replace(
                    "sops:\n  age:\n    - recipient: r\n      enc: |\n        abc\n        def\n  version: 3.11.0\n",
                    "",
                ),
            ),
            ("a literal", SECRET.replace("lines", "line")),
            ("a document more", format!("{SECRET}---\nc: 1\n")),
            ("a document less", SECRET[..SECRET.find("---").unwrap()].to_string()),
            ("a mapping for a value", SECRET.replace("flag: true", "flag:\n  x: 1")),
            (
                "a key typed other than a string",
                SECRET.replace("flag: true", "1: true"),
            ),
        ];
        for (what, text) in changed {
            assert!(!reads_as(&text, &expected(&t), &equal), "{what}: told the same");
        }
    }

    #[test]
    fn what_the_quick_reader_leaves_is_not_told() {
        let commented = "a: 1 # note\n";
        let t = tree(commented);
        assert!(!reads_as(commented, &expected(&t), &equal));
        let flow = "a: {b: 1}\n";
        let t = tree(flow);
        assert!(!reads_as(flow, &expected(&t), &equal));
    }

    /// Deeper than the quick reader goes (the full parse applies ksec's depth limit).
    #[test]
    fn deep_nesting_is_not_told() {
        let deep: String =
            (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(100) + "k: v\n";
        let t = tree(&deep);
        assert!(!reads_as(&deep, &expected(&t), &equal));
    }

    #[test]
    fn comments_in_the_tree_are_not_told_the_same() {
        let with = tree("a: 1 # note\n");
        assert!(!reads_as("a: 1\n", &expected(&with), &equal));
    }
}
