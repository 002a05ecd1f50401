//! The JSON store: bytes ⇄ [`Tree`], as sops 3.11's `stores/json` reads and writes them.
//!
//! Reading keeps key order and duplicate keys, reads numbers as sops 3.13 does (an integer that
//! fits 64 bits, exactly, as an int; any other number as a `float64`), and moves the top-level
//! `"sops"` entry into [`Document::metadata`].
//! Writing produces what sops's hand-built `{"k": v,...}` text looks like after Go's
//! `json.Indent`: one item per line, `": "` between key and value, `{}`/`[]` kept compact,
//! strings escaped as Go's `json.Marshal` escapes them, and a final newline.
//!
//! The parser is hand-written rather than built on `serde_json` because it reads numbers,
//! duplicate keys and escapes as sops's decoder (Go `encoding/json`) does. Where Go changes the
//! data without a word, ksec refuses the file instead, naming the line and column: text after
//! the top-level object (Go never reads it: a second object would be dropped), invalid UTF-8 in
//! a string and `\u` escapes of unpaired surrogates (Go turns both into U+FFFD). It is also
//! small, needs no dependency, and decodes each string into a buffer sized up front, so secret
//! text is not left behind in reallocated memory.
//!
//! The same reader checks bytes as Go's `json.Unmarshal` into a map would ([`check_map`]): the
//! API server's test of a docker config Secret, which reads strings as Go does.

mod ahead;

use std::fmt;
use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::limits::MAX_DEPTH;
use super::{Format, FormatError};
use crate::scalar::format_float_json;
use crate::timestamp::Timestamp;
use crate::tree::{Document, Entry, Mapping, MappingItem, Node, Parsed, Scalar, Sequence, SequenceItem, Tree, Value};

const FORMAT: Format = Format::Json;

/// The top-level key that holds sops's metadata.
const METADATA_KEY: &str = "sops";

/// Indentation of JSON output: sops writes tabs by default (`stores.json.indent: -1`), N spaces
/// when configured (0 = newlines, no indent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonIndent {
    #[default]
    Tab,
    Spaces(usize),
}

/// Parses a JSON document as sops 3.11 does. `file` is the name used in error messages.
pub fn parse(input: &[u8], file: &str) -> Result<Tree<Parsed>, FormatError> {
    let two_cores = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    parse_reading_ahead(input, file, ahead::split_point(input).filter(|_| two_cores))
}

/// [`parse`], with a second thread reading ahead from `split` when there is one.
fn parse_reading_ahead(input: &[u8], file: &str, split: Option<usize>) -> Result<Tree<Parsed>, FormatError> {
    let read = match split {
        None => Parser::strict(input).top_level_object(),
        // A large indented document: its second half is read on a second thread (see `ahead`).
        Some(at) => std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            // The main thread's stack: the reader recurses once or twice per nesting level.
            let spawned = std::thread::Builder::new()
                .name("json-read-ahead".into())
                .stack_size(8 << 20)
                .spawn_scoped(scope, move || {
                    let _ = sender.send(ahead::read_ahead(input, at));
                });
            let mut parser = Parser::strict(input);
            parser.ahead = spawned.is_ok().then_some(ahead::Plan {
                at,
                result: Some(receiver),
                taken: false,
            });
            parser.top_level_object()
        }),
    };
    let mut root = read.map_err(|stop| stop.error(input, file))?;
    let metadata = root.remove(METADATA_KEY);
    if root.get(METADATA_KEY).is_some() {
        return Err(FormatError::RepeatedMetadataKey { file: file.to_string() });
    }
    let document = Document {
        root,
        metadata,
        layout: None,
    };
    Ok(Tree::parsed(vec![document], None))
}

/// Parses one JSON value (what `set` takes) as sops reads values: nothing but whitespace may
/// follow it.
pub fn parse_value(input: &[u8], file: &str) -> Result<Node, FormatError> {
    Parser::strict(input)
        .whole_value()
        .map_err(|stop| stop.error(input, file))
}

/// What reading a file back against the tree it was written from found (see [`read_back`]).
#[derive(Debug)]
pub enum ReadBack {
    /// Every key and value as expected, in order; the top-level `sops` entry as read.
    Same { metadata: Option<Node> },
    /// A key, a value or the number of entries differs.
    Different,
}

/// Reads a document back against `expected`, the root it was written from (without its
/// `sops` entry), without building a second tree: the self-check of every JSON file written.
/// Keys and values must come in the same order, values equal by `same_value(read, expected)`;
/// the top-level `sops` entry is read as a node for the caller to compare. The input is
/// checked exactly as [`parse`] checks it; errors are [`parse`]'s.
pub fn read_back(
    input: &[u8],
    file: &str,
    expected: &Mapping,
    same_value: &dyn Fn(&Value, &Value) -> bool,
) -> Result<ReadBack, FormatError> {
    let mut parser = Parser::strict(input);
    let mut against = Against {
        same_value,
        metadata: None,
        repeated_metadata: false,
    };
    let same = parser
        .top_level_against(expected, &mut against)
        .map_err(|stop| stop.error(input, file))?;
    if against.repeated_metadata {
        return Err(FormatError::RepeatedMetadataKey { file: file.to_string() });
    }
    Ok(if same {
        ReadBack::Same {
            metadata: against.metadata,
        }
    } else {
        ReadBack::Different
    })
}

/// The state of [`read_back`]: how values compare, and the `sops` entry found.
struct Against<'f> {
    same_value: &'f dyn Fn(&Value, &Value) -> bool,
    metadata: Option<Node>,
    repeated_metadata: bool,
}

/// Why bytes are not what Go's `json.Unmarshal` accepts into a `map[string]interface{}`. It
/// locates the problem by byte offset and never holds any of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The input ends inside a value (Go: "unexpected end of JSON input").
    UnexpectedEnd,
    /// The byte at this offset cannot continue the JSON read so far (Go: "invalid character").
    UnexpectedByte(usize),
    /// The number starting at this offset is beyond the range of a float64, which Go's
    /// `interface{}` decoding refuses.
    NumberOutOfRange(usize),
    /// The object or array opening at this offset nests deeper than `MAX_DEPTH` levels.
    TooDeep(usize),
    /// Well-formed JSON, but not an object or `null`.
    NotAnObject,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::UnexpectedEnd => write!(f, "not valid JSON (unexpected end)"),
            MapError::UnexpectedByte(at) => write!(f, "not valid JSON (unexpected character at byte {at})"),
            MapError::NumberOutOfRange(at) => {
                write!(
                    f,
                    "not readable by Go (number out of the range of a 64-bit float at byte {at})"
                )
            }
            MapError::TooDeep(at) => write!(
                f,
                "objects and arrays nested deeper than {MAX_DEPTH} levels (at byte {at}), more than ksec reads"
            ),
            MapError::NotAnObject => write!(f, "must hold a JSON object"),
        }
    }
}

/// Checks `input` as Go's `json.Unmarshal` into a `map[string]interface{}` does (what the API
/// server does with a docker config Secret): one object, or `null` (which leaves the map
/// empty), with nothing but whitespace around it. Syntax errors win over the wrong kind of
/// value, as Go checks the whole input first.
///
/// One difference from Go, kept for the stack's sake: nesting deeper than `MAX_DEPTH` levels is
/// refused, where Go allows up to 10000.
pub fn check_map(input: &[u8]) -> Result<(), MapError> {
    let mut lenient = Parser {
        strict: false,
        ..Parser::strict(input)
    };
    let node = lenient.whole_value().map_err(|stop| match stop.why {
        Why::End(_) => MapError::UnexpectedEnd,
        Why::Syntax(_) if stop.at >= input.len() => MapError::UnexpectedEnd,
        Why::Syntax(_) => MapError::UnexpectedByte(stop.at),
        Why::OutOfRange => MapError::NumberOutOfRange(stop.at),
        Why::TooDeep => MapError::TooDeep(stop.at),
        // The lenient reader never stops for these.
        Why::RoundedInteger | Why::NotUtf8 | Why::LoneSurrogate => MapError::UnexpectedByte(stop.at),
    })?;
    match node {
        Node::Mapping(_) => Ok(()),
        Node::Scalar(Scalar { value: Value::Null, .. }) => Ok(()),
        _ => Err(MapError::NotAnObject),
    }
}

/// Writes a tree as sops 3.11's JSON store does; a document's `metadata` (if Some) is written as
/// the last key "sops".
///
/// JSON holds one document: like sops, only the first one is written.
pub fn emit<S>(tree: &Tree<S>, indent: JsonIndent) -> Result<Vec<u8>, FormatError> {
    let document = tree.documents.first().ok_or_else(|| FormatError::Unwritable {
        format: FORMAT,
        reason: "there is no document to write".into(),
    })?;
    let unit = match indent {
        JsonIndent::Tab => "\t".to_string(),
        JsonIndent::Spaces(n) => " ".repeat(n),
    };
    let metadata = document.metadata.as_ref().map(|node| (METADATA_KEY, node));
    let members = || {
        let entries = document.root.entries().map(|e| (e.key.as_str(), &e.value));
        entries.chain(metadata)
    };
    let mut writer = Writer {
        out: Vec::with_capacity(object_size(members(), 0, unit.len()) + "\n".len()),
        unit,
        path: Vec::new(),
    };
    writer.object(members(), 0)?;
    writer.out.push(b'\n');
    Ok(writer.out)
}

/// A recursive-descent reader over the input bytes; `pos` is the next byte to read.
struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    /// Refuse what Go would change silently (invalid UTF-8 and unpaired surrogates in
    /// strings), instead of reading it as Go does.
    strict: bool,
    /// The entries of the objects being read, innermost last: each object's entries are
    /// gathered here and moved into a vector of their exact size when it closes, instead of
    /// growing (copying, and with ksec's allocator wiping) a vector per object.
    entries: Vec<MappingItem>,
    /// The same for the elements of the arrays being read.
    elements: Vec<SequenceItem>,
    /// The deepest nesting level opened so far.
    deepest: usize,
    /// The members a second thread reads ahead, when it does ([`ahead`]).
    ahead: Option<ahead::Plan>,
}

/// Where the reader stopped (a byte offset into the input) and why. [`parse`] and
/// [`parse_value`] report it by line and column, [`check_map`] by offset; neither quotes input.
struct Stop {
    at: usize,
    why: Why,
}

enum Why {
    /// The bytes at the offset cannot continue the JSON; the text says what was expected.
    Syntax(&'static str),
    /// The input ends inside the value that begins at the offset.
    End(&'static str),
    /// The number at the offset is beyond the range of a float64.
    OutOfRange,
    /// The container opening at the offset is nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The integer at the offset is beyond 64 bits and a float64 cannot hold it exactly, so it
    /// would be written back as another number.
    RoundedInteger,
    /// The byte at the offset, in a string, is not part of valid UTF-8.
    NotUtf8,
    /// The `\u` escape at the offset is half of a surrogate pair without its other half.
    LoneSurrogate,
}

impl Stop {
    fn new(at: usize, why: Why) -> Stop {
        Stop { at, why }
    }

    /// The error for `file`, located by line and column (in characters).
    fn error(&self, input: &[u8], file: &str) -> FormatError {
        let before = &input[..self.at.min(input.len())];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before[line_start..].iter().filter(|&&b| !is_continuation(b)).count();
        let what = match self.why {
            Why::Syntax(what) | Why::End(what) => what.to_string(),
            Why::OutOfRange => "number out of the range of a 64-bit float".to_string(),
            Why::TooDeep => {
                return FormatError::TooDeep {
                    file: file.to_string(),
                    format: FORMAT,
                    line: Some(line),
                    column: Some(column),
                    limit: MAX_DEPTH,
                };
            }
            Why::RoundedInteger => "an integer beyond 64 bits that would be written back rounded (sops \
                                     rounds it silently); quote it to keep it as a string"
                .to_string(),
            Why::NotUtf8 => "invalid UTF-8 in a string (sops would turn it into U+FFFD)".to_string(),
            Why::LoneSurrogate => {
                "a \\u escape of half a surrogate pair in a string (sops would turn it into U+FFFD)".to_string()
            }
        };
        FormatError::Syntax {
            file: file.to_string(),
            format: FORMAT,
            line: Some(line),
            column: Some(column),
            reason: what,
        }
    }
}

/// Whether a JSON number's text is an integer: no fraction and no exponent.
fn is_integer_literal(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

impl<'a> Parser<'a> {
    /// A reader of documents: what Go would change silently is refused.
    fn strict(input: &'a [u8]) -> Parser<'a> {
        Parser {
            input,
            pos: 0,
            strict: true,
            entries: Vec::new(),
            elements: Vec::new(),
            deepest: 0,
            ahead: None,
        }
    }

    /// The members read ahead from here, when the second thread started at this member of
    /// a container at level `depth` and what it read can be taken ([`ahead::Plan::take`]).
    fn take_ahead(&mut self, depth: usize, object: bool) -> Option<ahead::Ahead> {
        let plan = self.ahead.as_mut().filter(|plan| plan.at == self.pos)?;
        let ahead = plan.take(depth, object)?;
        self.pos = ahead.close + 1;
        Some(ahead)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// A syntax error at the current position.
    fn error(&self, what: &'static str) -> Stop {
        Stop::new(self.pos, Why::Syntax(what))
    }

    /// The top-level object of a document, with nothing but whitespace after it. sops reads
    /// token by token and stops at the closing brace, so a second object after the first
    /// (`{"a": 1} {"b": 2}`) would be dropped without a word; ksec refuses it.
    fn top_level_object(&mut self) -> Result<Mapping, Stop> {
        self.top_level(|parser| parser.object(1))
    }

    /// [`Self::top_level_object`], compared with `expected` as it is read (see [`read_back`]):
    /// whether it matches. After a difference the rest is still read, for its errors.
    fn top_level_against(&mut self, expected: &Mapping, against: &mut Against<'_>) -> Result<bool, Stop> {
        self.top_level(|parser| parser.object_against(1, expected, against, true))
    }

    /// The rules of a document's top level, around `object`, which reads it from its `{`:
    /// an object, and nothing but whitespace before and after it.
    fn top_level<T>(&mut self, object: impl FnOnce(&mut Self) -> Result<T, Stop>) -> Result<T, Stop> {
        self.skip_whitespace();
        let read = match self.peek() {
            Some(b'{') => object(self)?,
            None => return Err(self.error("the input is empty; the top level must be an object")),
            Some(_) => return Err(self.error("the top level must be an object")),
        };
        self.skip_whitespace();
        if self.pos != self.input.len() {
            return Err(
                self.error("text after the top-level object: a JSON file holds one value (sops would ignore the rest)")
            );
        }
        Ok(read)
    }

    /// A value read and compared with `expected`; containers are compared member by member
    /// and no node is built, and a string is compared where it stands.
    fn value_against(&mut self, depth: usize, expected: &Node, against: &mut Against<'_>) -> Result<bool, Stop> {
        match (self.peek(), expected) {
            (Some(b'{'), Node::Mapping(m)) => self.object_against(depth + 1, m, against, false),
            (Some(b'['), Node::Sequence(s)) => self.array_against(depth + 1, s, against),
            (
                Some(b'"'),
                Node::Scalar(Scalar {
                    value: Value::Str(s), ..
                }),
            ) => self.string_is(s),
            (_, Node::Scalar(expected)) if !matches!(self.peek(), Some(b'{' | b'[')) => match self.value(depth)? {
                Node::Scalar(read) => Ok((against.same_value)(&read.value, &expected.value)),
                _ => Ok(false),
            },
            _ => {
                self.value(depth)?;
                Ok(false)
            }
        }
    }

    /// [`Self::object`] compared with `expected`; at the top level (`root`), the `sops` entry
    /// is read into `against` instead.
    fn object_against(
        &mut self,
        depth: usize,
        expected: &Mapping,
        against: &mut Against<'_>,
        root: bool,
    ) -> Result<bool, Stop> {
        let mut entries = expected.entries();
        if self.open(depth, b'}')? {
            return Ok(entries.next().is_none());
        }
        let mut same = true;
        loop {
            self.expect_key()?;
            let key = self.scan_string()?;
            let is_metadata = root && self.raw_is(key, METADATA_KEY)?;
            let mut expected_entry = None;
            if same && !is_metadata {
                match entries.next() {
                    Some(entry) if self.raw_is(key, &entry.key)? => expected_entry = Some(entry),
                    // Another key, or one more than was written.
                    _ => same = false,
                }
            }
            if expected_entry.is_none() && key.escaped {
                // A key not compared is still decoded, for the errors `parse` would give.
                self.decode_string(key)?;
            }
            self.colon()?;
            if is_metadata {
                let node = self.value(depth)?;
                against.repeated_metadata |= against.metadata.replace(node).is_some();
            } else if let Some(entry) = expected_entry {
                same = self.value_against(depth, &entry.value, against)?;
            } else {
                self.value(depth)?;
            }
            if self.after_member(b'}', "expected ',' or '}' after an object entry")? {
                return Ok(same && entries.next().is_none());
            }
        }
    }

    /// [`Self::array`] compared with `expected`.
    fn array_against(&mut self, depth: usize, expected: &Sequence, against: &mut Against<'_>) -> Result<bool, Stop> {
        let mut elements = expected.nodes();
        if self.open(depth, b']')? {
            return Ok(elements.next().is_none());
        }
        let mut same = true;
        loop {
            match elements.next().filter(|_| same) {
                Some(element) => same = self.value_against(depth, element, against)?,
                None => {
                    same = false;
                    self.value(depth)?;
                }
            }
            if self.after_member(b']', "expected ',' or ']' after an array element")? {
                return Ok(same && elements.next().is_none());
            }
        }
    }

    /// One value with nothing but whitespace around it. A container here is at level 1, as
    /// the top-level object of a document is.
    fn whole_value(&mut self) -> Result<Node, Stop> {
        self.skip_whitespace();
        let node = self.value(0)?;
        self.skip_whitespace();
        if self.pos != self.input.len() {
            return Err(self.error("unexpected text after the value"));
        }
        Ok(node)
    }

    /// Any value, starting at the current (non-whitespace) byte, held by a container at level
    /// `depth` (0 when nothing holds it).
    fn value(&mut self, depth: usize) -> Result<Node, Stop> {
        let value = match self.peek() {
            Some(b'{') => return Ok(Node::Mapping(self.object(depth + 1)?)),
            Some(b'[') => return Ok(Node::Sequence(self.array(depth + 1)?)),
            Some(b'"') => Value::Str(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("expected a value")),
            None => {
                return Err(Stop::new(
                    self.pos,
                    Why::End("unexpected end of input, expected a value"),
                ));
            }
        };
        Ok(Node::Scalar(Scalar {
            value,
            origin: None,
            modified: false,
        }))
    }

    /// An object, from its `{` through its `}`.
    fn object(&mut self, depth: usize) -> Result<Mapping, Stop> {
        let mut mapping = Mapping::default();
        if self.open(depth, b'}')? {
            return Ok(mapping);
        }
        let first = self.entries.len();
        self.members(depth, true)?;
        mapping.items = self.entries.drain(first..).collect();
        Ok(mapping)
    }

    /// An array, from its `[` through its `]`.
    fn array(&mut self, depth: usize) -> Result<Sequence, Stop> {
        let mut sequence = Sequence::default();
        if self.open(depth, b']')? {
            return Ok(sequence);
        }
        let first = self.elements.len();
        self.members(depth, false)?;
        sequence.items = self.elements.drain(first..).collect();
        Ok(sequence)
    }

    /// The members of an object (`object`) or an array at level `depth`, from the current one
    /// through the closing bracket, pushed onto [`Self::entries`] or [`Self::elements`]; where
    /// members were read ahead from the one about to be read, they are taken instead.
    fn members(&mut self, depth: usize, object: bool) -> Result<(), Stop> {
        loop {
            let closed = if object {
                self.expect_key()?;
                // Keys are not secret (sops stores them in clear): the string moves out of its
                // wiping wrapper into the entry.
                let key = std::mem::take(&mut *self.string()?);
                self.colon()?;
                let value = self.value(depth)?;
                self.entries.push(MappingItem::Entry(Entry::new(key, value)));
                self.after_member(b'}', "expected ',' or '}' after an object entry")?
            } else {
                let value = self.value(depth)?;
                self.elements.push(SequenceItem::Node(value));
                self.after_member(b']', "expected ',' or ']' after an array element")?
            };
            if closed {
                return Ok(());
            }
            if let Some(ahead) = self.take_ahead(depth, object) {
                match ahead.members {
                    ahead::Members::Entries(rest) => self.entries.extend(rest),
                    ahead::Members::Elements(rest) => self.elements.extend(rest),
                }
                return Ok(());
            }
        }
    }

    /// Steps over the opening bracket of a container at nesting level `depth` and the
    /// whitespace after it; true when the container closes right there (`{}`, `[]`).
    fn open(&mut self, depth: usize, close: u8) -> Result<bool, Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::new(self.pos, Why::TooDeep));
        }
        self.deepest = self.deepest.max(depth);
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// Refuses anything but a string where an object key belongs.
    fn expect_key(&self) -> Result<(), Stop> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        Ok(())
    }

    /// The `:` after an object key, with the whitespace around it.
    fn colon(&mut self) -> Result<(), Stop> {
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.error("expected ':' after an object key"));
        }
        self.pos += 1;
        self.skip_whitespace();
        Ok(())
    }

    /// What follows a member of a container: a comma (and whitespace) before the next one,
    /// or the closing bracket; true when the container closed.
    fn after_member(&mut self, close: u8, expected: &'static str) -> Result<bool, Stop> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_whitespace();
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.error(expected)),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Stop> {
        if self.input[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// A number, as sops 3.13's decoder reads it (`UseNumber`, then `normalizeJSONNumber`): an
    /// integer literal that fits 64 bits is an int, kept exactly (sops 3.11 made every number a
    /// float64, so 9007199254740993 became …992); anything else is a float64 as Go reads it,
    /// RFC 8259 syntax, correctly rounded, underflow to zero, overflow an error.
    fn number(&mut self) -> Result<Value, Stop> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit in a number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = std::str::from_utf8(&self.input[start..self.pos]).expect("a number is made of ASCII bytes");
        // Go's `json.Number.Int64` is `strconv.ParseInt(s, 10, 64)`: digits only, no fraction
        // or exponent, within i64.
        if let Ok(int) = text.parse::<i64>() {
            return Ok(Value::Int(int));
        }
        match text.parse::<f64>() {
            // An integer literal beyond i64 becomes a float64, as in sops, but only when it is
            // written back as it was read (`9223372036854776000`, as Go writes every such number):
            // `9223372036854775809` would silently come back as …6000.
            Ok(n) if self.strict && is_integer_literal(text) && format_float_json(n).as_deref() != Some(text) => {
                Err(Stop::new(start, Why::RoundedInteger))
            }
            Ok(n) if n.is_finite() => Ok(Value::Float(n)),
            _ => Err(Stop::new(start, Why::OutOfRange)),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), Stop> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error("expected a digit in a number"));
        }
        self.digits();
        Ok(())
    }

    /// A string, from its opening quote through its closing quote, decoded as Go does.
    fn string(&mut self) -> Result<Zeroizing<String>, Stop> {
        let raw = self.scan_string()?;
        self.decode_string(raw)
    }

    /// Whether the string at the current position reads as `expected`: without escapes, its
    /// bytes are compared where they stand.
    fn string_is(&mut self, expected: &str) -> Result<bool, Stop> {
        let raw = self.scan_string()?;
        self.raw_is(raw, expected)
    }

    /// Whether a scanned string reads as `expected`.
    fn raw_is(&self, raw: RawString, expected: &str) -> Result<bool, Stop> {
        // Unescaped text decodes to itself, once checked as UTF-8 (as the strict reader does).
        if !raw.escaped && (raw.non_ascii == 0 || self.strict) {
            return Ok(&self.input[raw.start..raw.end] == expected.as_bytes());
        }
        Ok(self.decode_string(raw)?.as_str() == expected)
    }

    /// Steps over a string, from its opening quote through its closing quote, checking it
    /// (control characters, and UTF-8 when strict) without decoding it.
    fn scan_string(&mut self) -> Result<RawString, Stop> {
        let open = self.pos;
        let start = open + 1;
        let mut end = start;
        let mut escaped = false;
        let mut non_ascii = 0;
        // Runs between quotes and backslashes are found a word at a time; each run is then
        // checked for control characters and its non-ASCII bytes counted in one pass each.
        loop {
            let rest = self.input.get(end..).unwrap_or_default();
            let stop = memchr::memchr2(b'"', b'\\', rest);
            let run = &rest[..stop.unwrap_or(rest.len())];
            // One vector pass finds whether the run is anything but printable ASCII (a
            // control byte wraps below 0x20 to 0xE0 and up); only then is it looked at closely.
            if run.iter().fold(false, |any, &b| any | (b.wrapping_sub(0x20) >= 0x60)) {
                if let Some(at) = run.iter().position(|&b| b < 0x20) {
                    return Err(Stop::new(end + at, Why::Syntax("control character in a string")));
                }
                non_ascii += run.iter().filter(|&&b| b >= 0x80).count();
            }
            end += run.len();
            match stop.map(|at| rest[at]) {
                None => return Err(Stop::new(open, Why::End("unterminated string"))),
                Some(b'"') => break,
                Some(_) => {
                    escaped = true;
                    end += 2;
                }
            }
        }
        let raw = &self.input[start..end];
        if self.strict
            && non_ascii > 0
            && let Err(e) = std::str::from_utf8(raw)
        {
            return Err(Stop::new(start + e.valid_up_to(), Why::NotUtf8));
        }
        self.pos = end + 1;
        Ok(RawString {
            start,
            end,
            escaped,
            non_ascii,
        })
    }

    /// A scanned string's text, decoded as Go does.
    fn decode_string(&self, raw: RawString) -> Result<Zeroizing<String>, Stop> {
        let RawString {
            start,
            end,
            escaped,
            non_ascii,
        } = raw;
        let raw = &self.input[start..end];
        // Each invalid byte grows into a 3-byte U+FFFD; escapes only shrink.
        let mut out = Zeroizing::new(String::with_capacity(raw.len() + 2 * non_ascii));
        if !escaped {
            push_lossy(&mut out, raw);
            return Ok(out);
        }
        let mut i = 0;
        while i < raw.len() {
            let run_end = raw[i..].iter().position(|&b| b == b'\\').map_or(raw.len(), |k| i + k);
            push_lossy(&mut out, &raw[i..run_end]);
            i = run_end;
            if i == raw.len() {
                break;
            }
            let simple = match raw[i + 1] {
                b'"' => Some('"'),
                b'\\' => Some('\\'),
                b'/' => Some('/'),
                b'b' => Some('\u{8}'),
                b'f' => Some('\u{c}'),
                b'n' => Some('\n'),
                b'r' => Some('\r'),
                b't' => Some('\t'),
                b'u' => None,
                _ => {
                    return Err(Stop::new(start + i, Why::Syntax("invalid escape in a string")));
                }
            };
            if let Some(c) = simple {
                out.push(c);
                i += 2;
                continue;
            }
            let Some(unit) = hex4(&raw[i..]) else {
                return Err(Stop::new(start + i, Why::Syntax("invalid \\u escape in a string")));
            };
            i += 6;
            // Like Go: a high surrogate followed by a low one is a pair; any other surrogate
            // escape is U+FFFD, and the escape after it is read on its own.
            let c = if (0xD800..0xE000).contains(&unit) {
                match hex4(&raw[i..]) {
                    Some(low) if unit < 0xDC00 && (0xDC00..0xE000).contains(&low) => {
                        i += 6;
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                    }
                    _ => None,
                }
            } else {
                char::from_u32(unit)
            };
            if c.is_none() && self.strict {
                return Err(Stop::new(start + i - 6, Why::LoneSurrogate));
            }
            out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        Ok(out)
    }
}

/// Where a string's text lies between its quotes, and what decoding it involves.
#[derive(Debug, Clone, Copy)]
struct RawString {
    start: usize,
    end: usize,
    escaped: bool,
    non_ascii: usize,
}

fn is_continuation(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

/// The code unit of a `\uXXXX` escape at the start of `s`.
fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.strip_prefix(b"\\u")?.get(..4)?;
    digits
        .iter()
        .try_fold(0, |acc, &b| Some(acc * 16 + char::from(b).to_digit(16)?))
}

/// Appends bytes as text, each byte of an invalid UTF-8 sequence becoming one U+FFFD, as Go's
/// `utf8.DecodeRune` loop does (Rust's `from_utf8_lossy` would merge a truncated sequence).
fn push_lossy(out: &mut String, bytes: &[u8]) {
    // Nearly every string is valid UTF-8, and checking that is much faster than chunking.
    if let Ok(text) = std::str::from_utf8(bytes) {
        out.push_str(text);
        return;
    }
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
}

/// One step of the path to the value being written, for error messages.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Writes indented JSON into `out`; `path` is where the writer is, for error messages.
struct Writer<'a> {
    out: Vec<u8>,
    unit: String,
    path: Vec<Step<'a>>,
}

impl<'a> Writer<'a> {
    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        for _ in 0..depth {
            self.out.extend_from_slice(self.unit.as_bytes());
        }
    }

    fn node(&mut self, node: &'a Node, depth: usize) -> Result<(), FormatError> {
        match node {
            Node::Mapping(m) => {
                let entries = m.entries().map(|e| (e.key.as_str(), &e.value));
                self.object(entries, depth)
            }
            Node::Sequence(s) => self.array(s, depth),
            Node::Scalar(s) => self.scalar(&s.value),
        }
    }

    fn object(&mut self, entries: impl Iterator<Item = (&'a str, &'a Node)>, depth: usize) -> Result<(), FormatError> {
        self.out.push(b'{');
        let mut empty = true;
        for (key, value) in entries {
            if !empty {
                self.out.push(b',');
            }
            empty = false;
            self.newline(depth + 1);
            write_str(&mut self.out, key);
            self.out.extend_from_slice(b": ");
            self.path.push(Step::Key(key));
            self.node(value, depth + 1)?;
            self.path.pop();
        }
        if !empty {
            self.newline(depth);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn array(&mut self, sequence: &'a Sequence, depth: usize) -> Result<(), FormatError> {
        self.out.push(b'[');
        let elements = sequence.nodes();
        let mut empty = true;
        for (index, element) in elements.enumerate() {
            if !empty {
                self.out.push(b',');
            }
            empty = false;
            self.newline(depth + 1);
            self.path.push(Step::Index(index));
            self.node(element, depth + 1)?;
            self.path.pop();
        }
        if !empty {
            self.newline(depth);
        }
        self.out.push(b']');
        Ok(())
    }

    fn scalar(&mut self, value: &Value) -> Result<(), FormatError> {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => self.out.extend_from_slice(i.to_string().as_bytes()),
            Value::Float(f) => {
                let text = format_float_json(*f)
                    .ok_or_else(|| self.error("is NaN or infinite, which JSON cannot represent"))?;
                self.out.extend_from_slice(text.as_bytes());
            }
            Value::Str(s) => write_str(&mut self.out, s),
            Value::Bytes(b) => write_string(&mut self.out, b),
            Value::Time(t) => {
                check_json_time(t).map_err(|why| self.error(why))?;
                write_str(&mut self.out, &t.to_rfc3339_nano());
            }
        }
        Ok(())
    }

    /// An error about the value at the current path, in sops's `--extract` syntax.
    fn error(&self, what: &str) -> FormatError {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => {
                    let _ = write!(path, "[{key:?}]");
                }
                Step::Index(index) => {
                    let _ = write!(path, "[{index}]");
                }
            }
        }
        FormatError::Unwritable {
            format: FORMAT,
            reason: format!("the value at {path} {what}"),
        }
    }
}

/// The size of the text [`Writer`] makes of an object at `depth`, with strings counted as if
/// nothing in them were escaped and numbers at their longest: the output is allocated once.
/// Growing it by doubling costs more than this walk, as ksec's allocator copies and wipes
/// every outgrown buffer (a 20 MB output grew through 44 MB of them, each page faulted in).
fn object_size<'a>(entries: impl Iterator<Item = (&'a str, &'a Node)>, depth: usize, unit: usize) -> usize {
    container_size(
        entries.map(|(key, value)| key.len() + "\"\": ".len() + node_size(value, depth + 1, unit)),
        depth,
        unit,
    )
}

fn node_size(node: &Node, depth: usize, unit: usize) -> usize {
    match node {
        Node::Mapping(m) => object_size(m.entries().map(|e| (e.key.as_str(), &e.value)), depth, unit),
        Node::Sequence(s) => container_size(s.nodes().map(|n| node_size(n, depth + 1, unit)), depth, unit),
        Node::Scalar(s) => match &s.value {
            Value::Null | Value::Bool(_) => "false".len(),
            Value::Int(i) => {
                i.unsigned_abs()
                    .checked_ilog10()
                    .map_or(1, |digits| digits as usize + 1)
                    + 1
            }
            Value::Float(_) => "-1.2345678901234567e-308".len(),
            Value::Str(s) => s.len() + 2,
            Value::Bytes(b) => b.len() + 2,
            Value::Time(_) => "\"2006-01-02T15:04:05.999999999+07:00\"".len(),
        },
    }
}

/// Brackets around members of the given sizes, each on a line of its own at `depth + 1`.
fn container_size(members: impl Iterator<Item = usize>, depth: usize, unit: usize) -> usize {
    let (mut size, mut count) = ("{}".len(), 0);
    for member in members {
        size += ",\n".len() + (depth + 1) * unit + member;
        count += 1;
    }
    if count > 0 {
        size += "\n".len() + depth * unit;
    }
    size
}

/// Go's `time.Time.MarshalJSON` refuses what RFC 3339 cannot express, and sops fails with it.
fn check_json_time(t: &Timestamp) -> Result<(), &'static str> {
    if !(0..=9999).contains(&t.0.year()) {
        return Err("is a time whose year is outside 0..9999, which JSON cannot hold");
    }
    if t.0.offset().whole_hours().unsigned_abs() >= 24 {
        return Err("is a time whose UTC offset is 24 hours or more, which JSON cannot hold");
    }
    Ok(())
}

/// Appends a JSON string as Go's `json.Marshal` writes it (HTML-safe escaping).
fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// [`write_str`] for bytes that may not be UTF-8: each byte of invalid UTF-8 is written as
/// `\ufffd`.
fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return write_str(out, text);
    }
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        write_escaped(out, chunk.valid());
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// Whether a byte may start a character Go's encoder escapes: the controls, `"`, `\\`, the HTML
/// characters `<`, `>` and `&`, and 0xE2, the first byte of U+2028 and U+2029. Comparisons, not
/// a table, so a chunk of bytes is checked in vector registers.
fn may_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\') | (b == b'<') | (b == b'>') | (b == b'&') | (b == 0xE2)
}

fn write_escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Most strings (every `ENC[...]`, base64, names) need no escape at all; 32 bytes at a time
    // are checked without a branch, then the first chunk with a candidate byte by byte.
    let bytes = s.as_bytes();
    let first = bytes
        .chunks(32)
        .position(|chunk| chunk.iter().fold(false, |any, &b| any | may_escape(b)))
        .and_then(|chunk| {
            let from = chunk * 32;
            bytes[from..].iter().position(|&b| may_escape(b)).map(|at| from + at)
        });
    let Some(first) = first else {
        out.extend_from_slice(bytes);
        return;
    };
    out.extend_from_slice(&s.as_bytes()[..first]);
    let s = &s[first..];
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let short: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => b"",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[start..i]);
        start = i + c.len_utf8();
        if short.is_empty() {
            let code = u32::from(c);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((code >> shift) & 0xF) as usize]);
            }
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&s.as_bytes()[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::exit;
    use crate::tree::{Comment, Data, Entry, MappingItem, Plain};

    fn vector(path: &str) -> Vec<u8> {
        let full = format!("{}/../shared/vectors/sops-upstream/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read test vector {full}: {e}"))
    }

    fn parse_ok(input: &[u8]) -> Tree<Parsed> {
        parse(input, "test.json").expect("valid JSON")
    }

    fn parse_err(input: &[u8]) -> String {
        let err = parse(input, "test.json").expect_err("invalid JSON");
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Json,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = crate::Error::from(err);
        assert_eq!(err.exit_code(), exit::COULD_NOT_READ_INPUT, "{err}");
        err.to_string()
    }

    fn data(tree: &Tree<Parsed>) -> Data {
        Data::from(&tree.documents[0].root)
    }

    fn map(entries: &[(&str, Data)]) -> Data {
        Data::Mapping(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn int(i: i64) -> Data {
        Data::Value(Value::Int(i))
    }

    fn string(s: &str) -> Data {
        Data::Value(Value::str(s))
    }

    fn emit_str(tree: &Tree<Parsed>, indent: JsonIndent) -> String {
        String::from_utf8(emit(tree, indent).expect("emit")).expect("UTF-8 output")
    }

    fn plain(root: Mapping) -> Tree<Plain> {
        Tree::new_plain(vec![Document {
            root,
            metadata: None,
            layout: None,
        }])
    }

    #[track_caller]
    fn assert_round_trip(path: &str) {
        let original = vector(path);
        let tree = parse(&original, path).expect("sops output parses");
        let written = emit(&tree, JsonIndent::Tab).expect("emit");
        assert!(
            written == original,
            "{path} changed on the way through:\n{}",
            String::from_utf8_lossy(&written)
        );
    }

    #[test]
    fn files_written_by_sops_round_trip_byte_for_byte() {
        assert_round_trip("generated-by-sops-3.11.0/types.enc.json");
        assert_round_trip("generated-by-sops-3.11.0/types.decrypted.json");
        assert_round_trip("generated-by-sops-3.11.0/shamir-2of3.enc.json");
        assert_round_trip("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json");
        assert_round_trip("upstream-v3.13.2/functional-tests/res/format.enc.json");
    }

    #[test]
    fn encrypted_file_has_its_sops_entry_moved_to_metadata() {
        let tree = parse_ok(&vector("generated-by-sops-3.11.0/types.enc.json"));
        let doc = &tree.documents[0];
        assert!(doc.root.get("sops").is_none());
        let metadata = doc.metadata.as_ref().and_then(Node::as_mapping).expect("sops object");
        assert_eq!(
            metadata.get("version").and_then(Node::as_value),
            Some(&Value::str("3.11.0"))
        );
        let keys: Vec<_> = doc.root.entries().map(|e| e.key.as_str()).collect();
        assert_eq!(keys.first(), Some(&"string"));
        assert_eq!(keys.last(), Some(&"keep_unencrypted"));
        assert!(tree.source.is_none() && doc.layout.is_none());
    }

    #[test]
    fn plaintext_file_parses_to_the_data_sops_sees() {
        // The input given to sops holds `"big": 12345678901234567890`, which sops rounded:
        // ksec refuses it there, and reads what sops wrote.
        let message = parse_err(&vector("generated-by-sops-3.11.0/types.plain.json"));
        assert!(message.contains("line 7, column 10"), "{message}");
        let tree = parse_ok(&vector("generated-by-sops-3.11.0/types.decrypted.json"));
        let root = &tree.documents[0].root;
        assert_eq!(root.get("int").and_then(Node::as_value), Some(&Value::Int(10)));
        assert_eq!(root.get("null").and_then(Node::as_value), Some(&Value::Null));
        assert_eq!(root.get("bool").and_then(Node::as_value), Some(&Value::Bool(true)));
        assert!(tree.documents[0].metadata.is_none());
    }

    #[test]
    fn parsed_scalars_are_unmodified_and_have_no_origin() {
        let tree = parse_ok(br#"{"a": "x", "b": [1]}"#);
        let Some(Node::Scalar(s)) = tree.documents[0].root.get("a") else {
            panic!("scalar")
        };
        assert!(!s.modified && s.origin.is_none());
    }

    /// Any JSON value of a few levels: objects and arrays of varied sizes (the reader gathers
    /// each container's members on a shared stack), strings with escapes, integers.
    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z\"\\\n é]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..6)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// What serde_json reads, in ksec's terms (keys in the order they are written).
    fn expected_data(value: &serde_json::Value) -> Data {
        match value {
            serde_json::Value::Object(map) => {
                Data::Mapping(map.iter().map(|(k, v)| (k.clone(), expected_data(v))).collect())
            }
            serde_json::Value::Array(items) => Data::Sequence(items.iter().map(expected_data).collect()),
            serde_json::Value::String(s) => string(s),
            serde_json::Value::Number(n) => int(n.as_i64().expect("the strategy makes integers")),
            other => unreachable!("the strategy makes no {other}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn nested_objects_and_arrays_read_whole_and_in_order(entries in proptest::collection::vec(("[a-z]{1,3}", arbitrary_json()), 0..5)) {
            let object = serde_json::Value::Object(entries.into_iter().collect());
            let expected = expected_data(&object);
            for text in [serde_json::to_string(&object), serde_json::to_string_pretty(&object)] {
                let text = text.expect("serde_json writes any value");
                proptest::prop_assert_eq!(data(&parse_ok(text.as_bytes())), expected.clone(), "{}", text);
            }
        }
    }

    proptest::proptest! {
        /// The output buffer is allocated once at the size the writer needs: never outgrown
        /// (a copy and a wipe of everything written so far) when no string needs escapes.
        #[test]
        fn the_output_is_allocated_once(
            entries in proptest::collection::vec(("[a-z]{1,3}", arbitrary_json()), 0..5),
            spaces in proptest::option::of(0usize..4),
        ) {
            let object = serde_json::Value::Object(entries.into_iter().collect());
            let text = serde_json::to_string(&object).expect("serde_json writes any value");
            let tree = parse_ok(text.as_bytes());
            let indent = spaces.map_or(JsonIndent::Tab, JsonIndent::Spaces);
            let out = emit(&tree, indent).expect("a parsed tree is writable");
            // serde_json writes every escape with a backslash; Go escapes no more than it here.
            if !text.contains('\\') {
                let unit = match indent { JsonIndent::Tab => 1, JsonIndent::Spaces(n) => n };
                let root = &tree.documents[0].root;
                let size = object_size(root.entries().map(|e| (e.key.as_str(), &e.value)), 0, unit) + 1;
                proptest::prop_assert!(out.len() <= size, "{} > {size}", out.len());
                proptest::prop_assert_eq!(out.capacity(), size);
            }
        }
    }

    /// What reading `text` back against `expected` concludes.
    #[derive(Debug, PartialEq)]
    enum Verdict {
        Unreadable,
        Different,
        Same(Option<Data>),
    }

    /// The verdict of parsing a whole tree and comparing it (what [`read_back`] replaces).
    fn verdict_of_tree(text: &[u8], expected: &Mapping) -> Verdict {
        match parse(text, "t.json") {
            Err(_) => Verdict::Unreadable,
            Ok(tree) if data(&tree) != Data::from(expected) => Verdict::Different,
            Ok(tree) => Verdict::Same(tree.documents[0].metadata.as_ref().map(Data::from)),
        }
    }

    fn verdict_as_read(text: &[u8], expected: &Mapping) -> Verdict {
        match read_back(text, "t.json", expected, &|read, written| read == written) {
            Err(_) => Verdict::Unreadable,
            Ok(ReadBack::Different) => Verdict::Different,
            Ok(ReadBack::Same { metadata }) => Verdict::Same(metadata.as_ref().map(Data::from)),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        /// Comparing as it reads concludes what parsing a tree and comparing it does: on the
        /// text as written, and on that text with one byte changed (a key, a value, a bracket,
        /// an escape, the `sops` entry).
        #[test]
        fn reading_back_against_a_tree_concludes_as_comparing_two_trees(
            entries in proptest::collection::vec(("[a-z]{1,3}", arbitrary_json()), 0..5),
            metadata in proptest::option::of(arbitrary_json()),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::sample::select(b"{}[]\",:0a\\ u-.e".to_vec()),
        ) {
            let mut object: serde_json::Map<String, serde_json::Value> = entries.into_iter().collect();
            if let Some(metadata) = metadata {
                object.insert(METADATA_KEY.to_string(), metadata);
            }
            let text = serde_json::to_string_pretty(&object).expect("serde_json writes any value");
            let expected = parse_ok(text.as_bytes()).documents.swap_remove(0).root;
            let as_written = verdict_as_read(text.as_bytes(), &expected);
            proptest::prop_assert!(matches!(as_written, Verdict::Same(_)), "{:?}", as_written);
            proptest::prop_assert_eq!(&as_written, &verdict_of_tree(text.as_bytes(), &expected));
            let mut changed = text.into_bytes();
            let at = at.index(changed.len());
            changed[at] = byte;
            proptest::prop_assert_eq!(
                verdict_as_read(&changed, &expected),
                verdict_of_tree(&changed, &expected),
                "{}",
                String::from_utf8_lossy(&changed)
            );
        }
    }

    #[test]
    fn reading_back_refuses_a_repeated_sops_entry_as_parse_does() {
        let text = br#"{"a": 1, "sops": {}, "sops": {}}"#;
        let expected = parse_ok(br#"{"a": 1}"#).documents.swap_remove(0).root;
        assert!(matches!(
            read_back(text, "t.json", &expected, &|a, b| a == b),
            Err(FormatError::RepeatedMetadataKey { .. })
        ));
        assert!(matches!(
            parse(text, "t.json"),
            Err(FormatError::RepeatedMetadataKey { .. })
        ));
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let tree = parse_ok(br#"{"a": 1, "b": 2, "a": "again"}"#);
        assert_eq!(
            data(&tree),
            map(&[("a", int(1)), ("b", int(2)), ("a", string("again"))])
        );
        assert_eq!(
            emit_str(&tree, JsonIndent::Tab),
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"a\": \"again\"\n}\n"
        );
    }

    #[test]
    fn integers_that_fit_64_bits_are_ints_kept_exactly_and_other_numbers_floats_as_sops_3_13() {
        let tree = parse_ok(
            br#"{"n": [10, -0, 9007199254740993, -9223372036854775808, 12345678901234567000, 1.0, 1e2, 1.5e300, 1E-400, 0.1, 5e-324]}"#,
        );
        let Data::Mapping(entries) = data(&tree) else {
            panic!("mapping")
        };
        let Data::Sequence(numbers) = &entries[0].1 else {
            panic!("sequence")
        };
        let ints: Vec<i64> = numbers[..4]
            .iter()
            .map(|n| match n {
                Data::Value(Value::Int(i)) => *i,
                other => panic!("not an int: {other:?}"),
            })
            .collect();
        assert_eq!(ints, [10, 0, 9_007_199_254_740_993, i64::MIN]);
        let bits: Vec<u64> = numbers[4..]
            .iter()
            .map(|n| match n {
                Data::Value(Value::Float(f)) => f.to_bits(),
                other => panic!("not a float: {other:?}"),
            })
            .collect();
        let expected = [12345678901234567168.0, 1.0, 100.0, 1.5e300, 0.0, 0.1, 5e-324];
        assert_eq!(bits, expected.map(f64::to_bits));
        let written = emit_str(&tree, JsonIndent::Spaces(0));
        assert!(written.contains("9007199254740993,"), "{written}");
    }

    #[test]
    fn integers_beyond_64_bits_that_would_be_rounded_are_refused_with_their_place() {
        for (json, column) in [
            (r#"{"id": 9223372036854775808}"#, 8),
            (r#"{"a": [1, -9223372036854775809]}"#, 11),
            (r#"{"n": 12345678901234567890}"#, 7),
            (r#"{"n": 100000000000000000000000}"#, 7),
        ] {
            let message = parse_err(json.as_bytes());
            assert!(
                message.contains(&format!("line 1, column {column}")),
                "{json}: {message}"
            );
            assert!(
                message.contains("beyond 64 bits") && message.contains("quote it"),
                "{message}"
            );
        }
        // What Go writes for such a float reads back as the same float: sops 3.13's files open.
        let tree = parse_ok(br#"{"n": 9223372036854776000, "m": -12345678901234567000}"#);
        let written = emit_str(&tree, JsonIndent::Spaces(0));
        assert!(
            written.contains("9223372036854776000") && written.contains("-12345678901234567000"),
            "{written}"
        );
        // Where JSON is only checked the way the API server reads it, Go's rounding is not ours
        // to refuse.
        assert_eq!(check_map(br#"{"a": 12345678901234567890}"#), Ok(()));
    }

    #[test]
    fn numbers_beyond_float_range_are_rejected_as_go_does() {
        let message = parse_err(b"{\"a\": 1e400}");
        assert!(message.contains("line 1, column 7"), "{message}");
    }

    #[test]
    fn top_level_must_be_an_object() {
        for input in [&b"[1, 2]"[..], b"\"text\"", b"42", b"null", b"", b"  \n"] {
            let message = parse_err(input);
            assert!(message.contains("the top level must be an object"), "{message}");
        }
    }

    #[test]
    fn text_after_the_top_level_object_is_refused_where_it_starts() {
        let tree = parse_ok(b"\n {\"a\": \"b\"} \r\n\t");
        assert_eq!(data(&tree), map(&[("a", string("b"))]));
        for (input, place) in [
            (&b"{\"a\":\"x\"} {\"b\":\"secret\"}"[..], "line 1, column 11"),
            (b"{\"a\": 1}\n]", "line 2, column 1"),
            (b"{}\n\n  trailing \xff", "line 3, column 3"),
        ] {
            let message = parse_err(input);
            assert!(
                message.contains(place) && message.contains("text after the top-level object"),
                "{message}"
            );
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn a_repeated_top_level_sops_key_is_invalid_metadata() {
        for text in [
            r#"{"sops": {"version": "3.11.0"}, "a": 1, "sops": true}"#,
            r#"{"sops": true, "sops": {"version": "3.11.0"}}"#,
        ] {
            let error = parse(text.as_bytes(), "t.json").expect_err(text);
            assert!(
                matches!(error, FormatError::RepeatedMetadataKey { .. }),
                "{text}: {error:?}"
            );
            assert_eq!(crate::Error::from(error).exit_code(), 1, "sops's code for this file");
        }
        // Elsewhere a repeated key is kept, as sops keeps it.
        let tree = parse(br#"{"a": {"sops": 1, "sops": 2}}"#, "t.json").unwrap();
        assert!(tree.documents[0].metadata.is_none());
    }

    #[test]
    fn syntax_errors_give_line_and_column_and_never_the_value() {
        let message = parse_err(b"{\n  \"key\": \"hunter2\"\n  \"next\": 1\n}");
        assert!(message.contains("line 3, column 3"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let message = parse_err("{\"é\": tru3}".as_bytes());
        assert!(message.contains("line 1, column 7"), "{message}");
    }

    #[test]
    fn input_go_rejects_is_rejected() {
        let bad: [&[u8]; 16] = [
            b"{",
            b"{\"a\": 1,}",
            b"{\"a\": [1,]}",
            b"{\"a\" 1}",
            b"{a: 1}",
            b"{'a': 1}",
            b"{\"a\": 01}",
            b"{\"a\": 1.}",
            b"{\"a\": .5}",
            b"{\"a\": +1}",
            b"{\"a\": 1e}",
            b"{\"a\": \"tab\there\"}",
            b"{\"a\": \"\\x\"}",
            b"{\"a\": \"\\u12\"}",
            b"{\"a\": \"open",
            b"{\"a\": True}",
        ];
        for input in bad {
            parse_err(input);
        }
    }

    #[test]
    fn strings_are_decoded_as_go_does() {
        let tree = parse_ok(b"{\"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\ufffd\"}");
        assert_eq!(data(&tree), map(&[("s", string("\"\\/\u{8}\u{c}\n\r\té😀\u{fffd}"))]));
    }

    /// Go reads these as U+FFFD: the file would not decrypt to what was written.
    #[test]
    fn invalid_utf8_and_unpaired_surrogates_in_strings_are_refused_where_they_are() {
        for (input, place, what) in [
            (&b"{\"bad\": \"a\xffb\"}"[..], "line 1, column 11", "invalid UTF-8"),
            (
                b"{\"k\":\n \"ok\xc3\xa9\xe2\x82\"}",
                "line 2, column 6",
                "invalid UTF-8",
            ),
            (b"{\"k\xed\xa0\x80\": 1}", "line 1, column 4", "invalid UTF-8"),
            (b"{\"lone\": \"x\\ud800|\"}", "line 1, column 12", "surrogate"),
            (b"{\"lone\": \"\\udc00\"}", "line 1, column 11", "surrogate"),
            (b"{\"lone\": \"\\ud800\\u0041\"}", "line 1, column 11", "surrogate"),
        ] {
            let message = parse_err(input);
            assert!(message.contains(place) && message.contains(what), "{message}");
        }
        // The API server's reader (Go's) takes them.
        assert_eq!(check_map(b"{\"bad\": \"a\xffb\\ud800\"}"), Ok(()));
    }

    #[test]
    fn string_ends_escapes_and_control_characters_are_found_where_they_are() {
        for (input, place, what) in [
            (&b"{\"k\": \"ab\tc\"}"[..], "line 1, column 10", "control character"),
            (b"{\"k\": \"a\\\"\n\"}", "line 1, column 11", "control character"),
            (b"{\"k\": \"abc", "line 1, column 7", "unterminated string"),
            (b"{\"k\": \"abc\\", "line 1, column 7", "unterminated string"),
            (b"{\"k\": \"abc\\\"}", "line 1, column 7", "unterminated string"),
        ] {
            let message = parse_err(input);
            assert!(message.contains(place) && message.contains(what), "{message}");
        }
        // An escaped quote or backslash does not end the string; an escaped control character
        // is read as the escape it is (and refused as one).
        let tree = parse_ok("{\"k\": \"a\\\"b\\\\\", \"é\": \"ü\\u00e9\"}".as_bytes());
        let root = &tree.documents[0].root;
        assert_eq!(root.get("k").and_then(Node::as_value), Some(&Value::str("a\"b\\")));
        assert_eq!(root.get("é").and_then(Node::as_value), Some(&Value::str("üé")));
        assert!(parse_err(b"{\"k\": \"a\\\tb\"}").contains("invalid escape"));
    }

    /// `sops encrypt --unencrypted-regex .` of `INPUT`, then `sops decrypt`, with sops 3.11.
    /// (sops was given lone surrogates, invalid UTF-8 and text after the object where `INPUT`
    /// now has the U+FFFD it read them as, and nothing: ksec refuses those.)
    #[test]
    fn output_matches_sops_for_escapes_numbers_and_nesting() {
        const INPUT: &[u8] = b"  {\"k<&>\": \"x\\b\\f\\u0001\\u001f\\u007f\\u2028\\u2029\xe2\x80\xa8 <>& \xef\xbf\xbd \
            \\ufffd\xef\xbf\xbd\\ud83d\\ude00 \\/ \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xc3\xa9\", \"n\": [1e21, 1e-7, -0, \
            12345678901234567000, 0.000001, 1E-400, 1.5e300, 5e-324, 100, 0.1, -2.5E+3],\r\n \"dup\": 1, \
            \"e\": {\"o\": {}, \"l\": [], \"ll\": [[], [{}]]}, \"dup\": true, \"z\": null, \"f\": false, \
            \"q\": \"\\\"\\\\\\/\\n\\r\\t\"}  ";
        const SOPS_OUTPUT: &[u8] = b"{\n\
            \t\"k\\u003c\\u0026\\u003e\": \"x\\b\\f\\u0001\\u001f\x7f\\u2028\\u2029\\u2028 \\u003c\\u003e\\u0026 \
            \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80 / \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xc3\xa9\",\n\
            \t\"n\": [\n\
            \t\t1e+21,\n\
            \t\t1e-7,\n\
            \t\t0,\n\
            \t\t12345678901234567000,\n\
            \t\t0.000001,\n\
            \t\t0,\n\
            \t\t1.5e+300,\n\
            \t\t5e-324,\n\
            \t\t100,\n\
            \t\t0.1,\n\
            \t\t-2500\n\
            \t],\n\
            \t\"dup\": 1,\n\
            \t\"e\": {\n\
            \t\t\"o\": {},\n\
            \t\t\"l\": [],\n\
            \t\t\"ll\": [\n\
            \t\t\t[],\n\
            \t\t\t[\n\
            \t\t\t\t{}\n\
            \t\t\t]\n\
            \t\t]\n\
            \t},\n\
            \t\"dup\": true,\n\
            \t\"z\": null,\n\
            \t\"f\": false,\n\
            \t\"q\": \"\\\"\\\\/\\n\\r\\t\"\n\
            }\n";
        let written = emit(&parse_ok(INPUT), JsonIndent::Tab).expect("emit");
        assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(SOPS_OUTPUT));
        assert_eq!(written, SOPS_OUTPUT);
        assert_eq!(
            emit(&parse_ok(SOPS_OUTPUT), JsonIndent::Tab).expect("emit"),
            SOPS_OUTPUT
        );
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        let tree = parse_ok(br#"{"<a&b>": "<a&b>"}"#);
        assert_eq!(
            emit_str(&tree, JsonIndent::Tab),
            "{\n\t\"\\u003ca\\u0026b\\u003e\": \"\\u003ca\\u0026b\\u003e\"\n}\n"
        );
    }

    #[test]
    fn configured_indentation_is_spaces_or_none() {
        let tree = parse_ok(br#"{"a": {"b": [1, {}], "c": []}, "d": "x"}"#);
        assert_eq!(
            emit_str(&tree, JsonIndent::Spaces(2)),
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      {}\n    ],\n    \"c\": []\n  },\n  \"d\": \"x\"\n}\n"
        );
        assert_eq!(
            emit_str(&tree, JsonIndent::Spaces(0)),
            "{\n\"a\": {\n\"b\": [\n1,\n{}\n],\n\"c\": []\n},\n\"d\": \"x\"\n}\n"
        );
    }

    #[test]
    fn empty_containers_stay_compact() {
        assert_eq!(emit_str(&parse_ok(b"{}"), JsonIndent::Tab), "{}\n");
        assert_eq!(emit_str(&parse_ok(b" { } "), JsonIndent::Spaces(4)), "{}\n");
        let tree = parse_ok(b"{\"o\": { }, \"l\": [ ]}");
        assert_eq!(emit_str(&tree, JsonIndent::Tab), "{\n\t\"o\": {},\n\t\"l\": []\n}\n");
    }

    #[test]
    fn metadata_is_written_as_the_last_key() {
        let mut sops = Mapping::default();
        sops.push("version", Node::scalar(Value::str("3.11.0")));
        let mut root = Mapping::default();
        root.push("a", Node::scalar(Value::Int(-7)));
        let tree = Tree::<Plain>::new_plain(vec![Document {
            root,
            metadata: Some(Node::Mapping(sops)),
            layout: None,
        }]);
        let written = String::from_utf8(emit(&tree, JsonIndent::Tab).expect("emit")).expect("UTF-8");
        assert_eq!(
            written,
            "{\n\t\"a\": -7,\n\t\"sops\": {\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n"
        );
    }

    #[test]
    fn comments_are_not_written() {
        let mut root = Mapping::default();
        root.items.push(MappingItem::Comment(Comment::new("top")));
        root.push(
            "list",
            Node::Sequence(Sequence {
                items: vec![
                    SequenceItem::Comment(Comment::new("first")),
                    SequenceItem::Node(Node::scalar(Value::Bool(false))),
                    SequenceItem::Comment(Comment::new("last")),
                ],
                ..Sequence::default()
            }),
        );
        root.items.push(MappingItem::Comment(Comment::new("end")));
        let written = emit(&plain(root), JsonIndent::Tab).expect("emit");
        assert_eq!(written, b"{\n\t\"list\": [\n\t\tfalse\n\t]\n}\n");
    }

    #[test]
    fn invalid_utf8_bytes_are_written_as_one_replacement_escape_each() {
        let mut root = Mapping::default();
        root.push(
            "data",
            Node::scalar(Value::Bytes(Zeroizing::new(b"a\x00\xff\xe2\x82b\n".to_vec()))),
        );
        let written = emit(&plain(root), JsonIndent::Tab).expect("emit");
        assert_eq!(written, b"{\n\t\"data\": \"a\\u0000\\ufffd\\ufffd\\ufffdb\\n\"\n}\n");
    }

    #[test]
    fn blob_decrypted_to_json_matches_sops() {
        // `sops decrypt --output-type json blob.enc.bin` printed exactly this.
        let payload = vector("generated-by-sops-3.11.0/blob.plain.bin");
        let mut root = Mapping::default();
        root.push("data", Node::scalar(Value::Bytes(Zeroizing::new(payload))));
        let written = emit(&plain(root), JsonIndent::Tab).expect("emit");
        assert_eq!(
            String::from_utf8(written).expect("escaped output is UTF-8"),
            "{\n\t\"data\": \"binary \\u0000\\u0001\\u0002\\ufffd payload\\nline2\\n\"\n}\n"
        );
    }

    #[test]
    fn non_finite_floats_cannot_be_written() {
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut inner = Mapping::default();
            inner.push(
                "x",
                Node::Sequence(Sequence {
                    items: vec![SequenceItem::Node(Node::scalar(Value::Float(f)))],
                    ..Sequence::default()
                }),
            );
            let mut root = Mapping::default();
            root.push("a", Node::Mapping(inner));
            let err: crate::Error = emit(&plain(root), JsonIndent::Tab).expect_err("NaN/Inf").into();
            assert_eq!(err.exit_code(), exit::ERROR_DUMPING_TREE);
            assert!(err.to_string().contains(r#"["a"]["x"][0]"#), "{err}");
        }
    }

    #[test]
    fn times_are_written_as_rfc3339_strings() {
        let time = Timestamp::parse_rfc3339("2024-01-02T03:04:05.5+01:00").expect("valid time");
        let mut root = Mapping::default();
        root.push("t", Node::scalar(Value::Time(time)));
        let written = emit(&plain(root), JsonIndent::Tab).expect("emit");
        assert_eq!(written, b"{\n\t\"t\": \"2024-01-02T03:04:05.5+01:00\"\n}\n");
    }

    #[test]
    fn a_tree_without_documents_cannot_be_written() {
        let err = emit(&Tree::<Plain>::new_plain(vec![]), JsonIndent::Tab).expect_err("no document");
        assert_eq!(crate::Error::from(err).exit_code(), exit::ERROR_DUMPING_TREE);
    }

    #[test]
    fn nesting_is_limited() {
        let deep = |levels: usize| {
            let mut s = b"{\"a\": ".to_vec();
            s.extend(std::iter::repeat_n(b'[', levels - 1));
            s.extend(std::iter::repeat_n(b']', levels - 1));
            s.push(b'}');
            s
        };
        let tree = parse_ok(&deep(MAX_DEPTH));
        assert!(emit(&tree, JsonIndent::Spaces(0)).is_ok());
        let error = parse(&deep(MAX_DEPTH + 1), "deep.json").expect_err("too deep");
        assert!(
            matches!(error, FormatError::TooDeep { limit: MAX_DEPTH, .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("deep.json") && message.contains("line 1, column 134") && message.contains("128 levels"),
            "{message}"
        );
        assert_eq!(crate::Error::from(error).exit_code(), exit::COULD_NOT_READ_INPUT);
    }

    #[test]
    fn map_check_follows_go_unmarshal_into_a_map() {
        assert_eq!(check_map(b" {} "), Ok(()));
        assert_eq!(check_map(b"null"), Ok(()));
        assert_eq!(check_map(br#"{"a":[{"b":[]},{}],"c":"\"x\\"}"#), Ok(()));
        assert!(check_map(b"").is_err());
        assert!(check_map(b"{} {}").is_err());
        assert!(check_map(b"{\"a\":1,}").is_err());
        assert!(check_map(b"{\"a\" 1}").is_err());
        assert!(check_map(b"{'a':1}").is_err());
        assert!(check_map(b"{\"a\":\"\x01\"}").is_err());
        assert!(check_map(b"{\"a\":\"\\x\"}").is_err());
        assert!(check_map(b"{\"a\":1.}").is_err());
        assert_eq!(check_map(b"\"s\""), Err(MapError::NotAnObject));
        assert_eq!(MapError::NotAnObject.to_string(), "must hold a JSON object");
        // Go refuses nesting beyond 10000 levels ("exceeded max depth"); the check stops at
        // MAX_DEPTH, before the recursion could exhaust the stack.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(check_map(deep.as_bytes()), Err(MapError::TooDeep(5 + MAX_DEPTH - 1)));
        let deepest = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert_eq!(check_map(deepest.as_bytes()), Ok(()));
    }

    #[test]
    fn map_check_errors_give_a_byte_offset_as_go_does() {
        assert_eq!(check_map(b"{\"auths\":"), Err(MapError::UnexpectedEnd));
        assert_eq!(check_map(b"{\"auths\": \"hunter2"), Err(MapError::UnexpectedEnd));
        assert_eq!(check_map(b"{\"r.io\": 01}"), Err(MapError::UnexpectedByte(10)));
        assert_eq!(check_map(b"{} x"), Err(MapError::UnexpectedByte(3)));
        assert_eq!(
            MapError::UnexpectedByte(10).to_string(),
            "not valid JSON (unexpected character at byte 10)"
        );
        assert_eq!(MapError::UnexpectedEnd.to_string(), "not valid JSON (unexpected end)");
        // Go's decoder fails on a number a float64 cannot hold, and reads bad UTF-8 as U+FFFD.
        assert_eq!(check_map(b"{\"a\": [1e400]}"), Err(MapError::NumberOutOfRange(7)));
        assert_eq!(check_map(b"{\"a\": 1e-400, \"b\": \"\xff\"}"), Ok(()));
    }

    #[test]
    fn entries_built_by_hand_are_written_in_order() {
        let root = Mapping {
            items: vec![
                MappingItem::Entry(Entry::new("z", Node::scalar(Value::Null))),
                MappingItem::Entry(Entry::new("a\u{2028}", Node::scalar(Value::Int(1)))),
            ],
            ..Mapping::default()
        };
        let written = emit(&plain(root), JsonIndent::Tab).expect("emit");
        assert_eq!(written, b"{\n\t\"z\": null,\n\t\"a\\u2028\": 1\n}\n");
    }

    #[test]
    fn strings_are_escaped_after_a_clean_prefix_and_only_where_go_escapes() {
        let cases: [(&[u8], &[u8]); 6] = [
            (
                b"ENC[AES256_GCM,data:a+b/c=,type:str]",
                b"\"ENC[AES256_GCM,data:a+b/c=,type:str]\"",
            ),
            ("5€ per <unit>".as_bytes(), "\"5€ per \\u003cunit\\u003e\"".as_bytes()),
            ("€€\u{2028}".as_bytes(), "\"€€\\u2028\"".as_bytes()),
            (b"tab\there", b"\"tab\\there\""),
            (b"bad \xff byte", b"\"bad \\ufffd byte\""),
            (b"", b"\"\""),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            write_string(&mut out, input);
            assert_eq!(out, want, "{}", String::from_utf8_lossy(input));
        }
    }
}
