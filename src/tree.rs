//! The format-neutral document: ordered mappings, sequences, typed scalars and comments.
//!
//! This is sops's data model (an ordered list of items per mapping, comments as items of their
//! container, one branch per YAML document) plus just enough source information for an emitter
//! to keep the input's layout: every scalar and comment may remember where it was written and
//! in which style. Crypto never looks at that information; formats never look at the values'
//! meaning beyond their own syntax.
//!
//! Trees come in two states the type system can see: [`Tree<Plain>`] holds values in clear,
//! [`Tree<Encrypted>`] holds `ENC[...]` strings. Only `crypt` converts between them.

pub mod path;

use std::marker::PhantomData;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::timestamp::Timestamp;

/// Marker: the tree's values are in clear.
#[derive(Debug, Clone, Copy)]
pub struct Plain;

/// Marker: the tree's selected values are `ENC[...]` strings.
#[derive(Debug, Clone, Copy)]
pub struct Encrypted;

/// Marker: just parsed; whether it is encrypted is decided by its `sops` metadata.
#[derive(Debug, Clone, Copy)]
pub struct Parsed;

/// What an emitter needs to know about a tree's state.
pub trait State {
    /// Selected values are `ENC[...]` strings.
    const ENCRYPTED: bool;
}

impl State for Plain {
    const ENCRYPTED: bool = false;
}

impl State for Encrypted {
    const ENCRYPTED: bool = true;
}

impl State for Parsed {
    const ENCRYPTED: bool = false;
}

/// A whole file: one document per YAML document, exactly one for every other format.
#[derive(Debug, Clone)]
pub struct Tree<S> {
    pub documents: Vec<Document>,
    /// The text the tree was parsed from, when the emitter may reuse its layout.
    pub source: Option<Arc<Source>>,
    state: PhantomData<S>,
}

impl<S> Tree<S> {
    /// Builds a tree in state `S`. Only the modules that own a state transition call this.
    pub(crate) fn from_parts(documents: Vec<Document>, source: Option<Arc<Source>>) -> Self {
        Tree {
            documents,
            source,
            state: PhantomData,
        }
    }

    /// Changes the state marker; used by `crypt` after it has transformed every value.
    pub(crate) fn into_state<T>(self) -> Tree<T> {
        Tree {
            documents: self.documents,
            source: self.source,
            state: PhantomData,
        }
    }

    /// Drops the source layout, so emitters write canonical output.
    pub fn forget_layout(&mut self) {
        self.source = None;
        for doc in &mut self.documents {
            doc.layout = None;
        }
    }
}

/// Plaintext input that holds sops metadata: encrypting it again would lock its values away
/// under a second data key.
#[derive(Debug, thiserror::Error)]
#[error("{file} is already encrypted (it has a top-level `sops` key)")]
pub struct AlreadyEncrypted {
    pub file: String,
}

impl Tree<Parsed> {
    /// A freshly parsed tree; formats build these.
    pub fn parsed(documents: Vec<Document>, source: Option<Arc<Source>>) -> Self {
        Tree::from_parts(documents, source)
    }

    /// Accepts the tree as plaintext input; a `sops` key means it is already encrypted.
    pub fn into_plain(self, file: &str) -> Result<Tree<Plain>, AlreadyEncrypted> {
        if self.documents.iter().any(|d| d.metadata.is_some()) {
            return Err(AlreadyEncrypted { file: file.to_string() });
        }
        Ok(self.into_state())
    }

    /// Accepts the tree as an encrypted file and returns it with the first document's raw
    /// `sops` metadata node (sops reads the metadata of the first document only); `None` when
    /// that document has none.
    pub(crate) fn into_encrypted(self) -> Option<(Tree<Encrypted>, Node)> {
        let metadata = self.documents.first().and_then(|d| d.metadata.clone())?;
        Some((self.into_state(), metadata))
    }
}

impl Tree<Plain> {
    /// A plaintext tree built by hand (tests, `set`, conversions). It has no source layout.
    pub fn new_plain(documents: Vec<Document>) -> Self {
        Tree::from_parts(documents, None)
    }
}

/// The text a tree was parsed from. Zeroized on drop: for a plaintext input it holds secrets.
#[derive(Debug)]
pub struct Source {
    pub text: Zeroizing<String>,
    /// `"\r\n"` when the text used CRLF line endings, else `"\n"`.
    pub newline: &'static str,
}

impl Source {
    /// The source of a text, its line ending found.
    pub fn new(text: Zeroizing<String>) -> Source {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        Source { text, newline }
    }
}

/// One document (a sops "branch"): a mapping at the top plus the raw `sops` metadata node.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub root: Mapping,
    /// The top-level `sops` entry as written, removed from `root`.
    pub metadata: Option<Node>,
    /// Where this document sits in the source, when it was parsed from text.
    pub layout: Option<DocumentLayout>,
}

/// Source positions of a document, used by layout-keeping emitters.
#[derive(Debug, Clone, Default)]
pub struct DocumentLayout {
    /// The document's bytes, from its first byte to the end of its last line.
    pub span: Span,
    /// The `sops:` entry's lines, removed when the document is written back.
    pub metadata_span: Option<Span>,
    /// Where new top-level entries (the `sops` block) are inserted.
    pub append_at: usize,
    /// Indentation step the document uses, when it could be seen.
    pub indent: Option<usize>,
    /// The document has no top-level mapping text (empty or `{}`) and is rewritten whole.
    pub rewrite: bool,
}

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Mapping(Mapping),
    Sequence(Sequence),
    Scalar(Scalar),
}

/// An ordered mapping; duplicate keys are kept (JSON allows them, sops keeps them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    pub items: Vec<MappingItem>,
    /// Written in flow style (`{a: b}`) in the source.
    pub flow: bool,
    /// Where the collection was written, when it came from text.
    pub span: Option<Span>,
    /// The alias token (`*name`) this copy of an anchored collection stands for (boxed: rare,
    /// and every node of a tree is as large as its largest kind).
    pub alias: Option<Box<Origin>>,
    /// Column of the keys of a block mapping written in the source: new entries go there.
    pub column: Option<usize>,
    /// Source lines of entries removed since parsing, for the emitter to drop.
    pub removed: Vec<Span>,
}

/// A mapping entry or a comment between entries.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingItem {
    Entry(Entry),
    Comment(Comment),
}

/// A key and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Node,
    /// The entry's source lines, from its key's line to its value's last line (with its line
    /// break), when it came from text.
    pub span: Option<Span>,
}

impl Entry {
    /// An entry that did not come from text.
    pub fn new(key: impl Into<String>, value: Node) -> Entry {
        Entry {
            key: key.into(),
            value,
            span: None,
        }
    }
}

/// An ordered sequence with comments between items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sequence {
    pub items: Vec<SequenceItem>,
    pub flow: bool,
    pub span: Option<Span>,
    /// The alias token (`*name`) this copy of an anchored collection stands for (boxed: rare,
    /// and every node of a tree is as large as its largest kind).
    pub alias: Option<Box<Origin>>,
}

/// A sequence element or a comment between elements.
#[derive(Debug, Clone, PartialEq)]
pub enum SequenceItem {
    Node(Node),
    Comment(Comment),
}

/// A leaf value with its source information.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub value: Value,
    pub origin: Option<Origin>,
    /// Set when the value was replaced after parsing; emitters re-render only these.
    pub modified: bool,
}

impl Scalar {
    /// A scalar that did not come from text.
    pub fn new(value: Value) -> Self {
        Scalar {
            value,
            origin: None,
            modified: true,
        }
    }

    /// Replaces the value and marks the scalar for re-rendering; returns the value it held.
    pub fn replace(&mut self, value: Value) -> Value {
        self.modified = true;
        std::mem::replace(&mut self.value, value)
    }
}

/// A comment line, without its `#`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub text: Zeroizing<String>,
    pub origin: Option<Origin>,
    pub modified: bool,
}

impl Comment {
    pub fn new(text: impl Into<String>) -> Self {
        Comment {
            text: Zeroizing::new(text.into()),
            origin: None,
            modified: true,
        }
    }

    pub fn replace(&mut self, text: String) {
        self.text = Zeroizing::new(text);
        self.modified = true;
    }
}

/// How and where a scalar or comment was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Origin {
    /// The bytes a new rendering replaces (for block scalars: header and content lines; for
    /// tagged or aliased nodes: the tag or alias token too).
    pub span: Span,
    pub style: ScalarStyle,
    /// Inside a flow collection (`[a, b]`, `{k: v}`), where plain text has more restrictions.
    pub in_flow: bool,
    /// Column of the owning mapping key or sequence dash, for block indentation.
    pub parent_column: usize,
    /// The owner is a sequence (`- value`) rather than a mapping key (`key: value`).
    pub in_sequence: bool,
    /// Column where the text starts; for block scalars, the content lines' indentation.
    pub content_column: usize,
    /// For block scalars: the header indicators (`|`, `>-`, `|2+`) and where the content's
    /// lines begin (the header line's break). A comment after the header stays in between.
    pub block_header: Option<BlockHeader>,
}

/// Where a block scalar's header and body are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockHeader {
    pub indicators: Span,
    pub body_start: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalarStyle {
    #[default]
    Plain,
    /// Plain text tagged `!!str`: ksec's mark on a ciphertext whose plaintext was written plain
    /// although go-yaml would quote it (`y`, `on`, `1:20`), so decryption restores it as written.
    PlainString,
    SingleQuoted,
    DoubleQuoted,
    /// Double quotes spelled as go-yaml spells them (`"\U0001F600"` rather than `"😀"`); on a
    /// ciphertext, ksec marks it with `!!str` so decryption restores that spelling.
    DoubleQuotedEscaped,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
    /// A YAML `#` comment line (own line).
    Comment,
    /// A YAML `#` comment after content on the same line.
    TrailingComment,
    /// An alias (`*name`) whose expansion is this node.
    Alias,
}

/// A typed leaf value, with sops's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Zeroizing<String>),
    Time(Timestamp),
    /// Raw bytes (the binary store's payload), not necessarily UTF-8.
    Bytes(Zeroizing<Vec<u8>>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Zeroizing::new(s.into()))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl Sequence {
    /// Elements in order, comments skipped.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.items.iter().filter_map(|item| match item {
            SequenceItem::Node(n) => Some(n),
            SequenceItem::Comment(_) => None,
        })
    }
}

impl Mapping {
    /// The value of the first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries().find(|e| e.key == key).map(|e| &e.value)
    }

    /// Entries in order, comments skipped.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.items.iter().filter_map(|item| match item {
            MappingItem::Entry(e) => Some(e),
            MappingItem::Comment(_) => None,
        })
    }

    /// Appends an entry.
    pub fn push(&mut self, key: impl Into<String>, value: Node) {
        self.items.push(MappingItem::Entry(Entry::new(key, value)));
    }

    /// Removes and returns the first entry named `key` (its source lines go too).
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let at = self
            .items
            .iter()
            .position(|item| matches!(item, MappingItem::Entry(e) if e.key == key))?;
        match self.items.remove(at) {
            MappingItem::Entry(e) => {
                self.removed.extend(e.span);
                Some(e.value)
            }
            MappingItem::Comment(_) => None,
        }
    }
}

impl Node {
    pub fn scalar(value: Value) -> Node {
        Node::Scalar(Scalar::new(value))
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Node::Mapping(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }
}

/// The data of a tree without comments or layout, for equality checks in tests and tools.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Mapping(Vec<(String, Data)>),
    Sequence(Vec<Data>),
    Value(Value),
}

impl From<&Node> for Data {
    fn from(node: &Node) -> Data {
        match node {
            Node::Mapping(m) => Data::from(m),
            Node::Sequence(s) => Data::Sequence(
                s.items
                    .iter()
                    .filter_map(|item| match item {
                        SequenceItem::Node(n) => Some(Data::from(n)),
                        SequenceItem::Comment(_) => None,
                    })
                    .collect(),
            ),
            Node::Scalar(s) => Data::Value(s.value.clone()),
        }
    }
}

impl From<&Mapping> for Data {
    fn from(m: &Mapping) -> Data {
        Data::Mapping(m.entries().map(|e| (e.key.clone(), Data::from(&e.value))).collect())
    }
}
