//! A quick reader for the block YAML that machines write (`kubectl … -o yaml`, sops, ksec).
//!
//! granit reads a character at a time and is most of the time a large file takes. Most files
//! ksec meets keep to a small, regular part of YAML: block mappings and sequences, one scalar a
//! line (plain, or quoted without escapes), literal blocks for key stanzas, ASCII, no comments,
//! tabs or anchors. [`Events`] gives granit's own events, with the same spans, for that part,
//! a line at a time, and declines at the first thing outside it; the caller then reads the whole
//! text with granit. Whatever it accepts, granit reads to the same events and spans: the tests
//! compare the two on generated, hand-written and real files.

use std::borrow::Cow;
use std::collections::VecDeque;

use granit_parser::{Event, Marker, ScalarStyle, Span, StructureStyle};

/// The text holds something this reader leaves to granit (or is not YAML at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Decline;

/// The longest key the reader takes: granit (like libyaml and go-yaml) refuses a key whose
/// `:` is more than 1024 characters from its start; longer ones are left to it.
const MAX_KEY_LEN: usize = 1000;

/// The deepest nesting the reader takes: deeper texts (far beyond real files) are left to
/// granit and the tree builder, whose limits then apply ([`crate::formats::limits::MAX_DEPTH`]).
const MAX_DEPTH: usize = 64;

/// An event and where it is, as granit gives them.
pub(super) type SpannedEvent<'t> = (Event<'t>, Span);

/// Whether [`Events`] can read `text` at all: printable ASCII (so a character is a byte) and
/// line feeds, without `#` (comments, and the places a `#` changes how a line reads). Tabs,
/// carriage returns and control characters (which YAML refuses in most places) are left to
/// granit.
pub(super) fn admissible(text: &str) -> bool {
    super::every_byte(text.as_bytes(), |b| {
        b == b'\n' || ((b' '..=b'~').contains(&b) && b != b'#')
    })
}

/// The events of an [`admissible`] text, or [`Decline`] where it leaves the subset.
pub(super) struct Events<'t> {
    lines: Lines<'t>,
    frames: Vec<Frame>,
    /// A key written without a value on its line (`key:`): what follows is its nested
    /// collection, or, when nothing deeper follows, its value is empty.
    pending_key: Option<PendingKey>,
    document: DocumentState,
    queue: VecDeque<SpannedEvent<'t>>,
    finished: bool,
}

/// A key whose value has not been seen yet.
#[derive(Debug, Clone, Copy)]
struct PendingKey {
    column: usize,
    /// Where its `:` is: granit puts an empty value there.
    colon: Marker,
}

/// An open block collection.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: FrameKind,
    /// The column of its keys or dashes.
    column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Mapping,
    /// A block sequence; `indentless` when its dashes are at its parent key's column.
    Sequence {
        indentless: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocumentState {
    /// Before the first document, or after `---` with no content yet.
    Before { explicit_start: bool },
    /// Inside a document whose root mapping is open.
    Open,
}

/// One line of the text, without its line break.
#[derive(Debug, Clone, Copy)]
struct Line<'t> {
    /// Where the line starts.
    start: usize,
    /// Its number, from 1.
    number: usize,
    /// Spaces before the content.
    indent: usize,
    /// The line after its indentation.
    content: &'t str,
    /// Whether a line break ends it (the last line of a text may have none).
    terminated: bool,
}

impl Line<'_> {
    fn marker(&self, column: usize) -> Marker {
        marker(self.start + column, self.number, column)
    }
    fn is_dash_item(&self) -> bool {
        self.content == "-" || self.content.starts_with("- ")
    }
}

/// The lines of a text that hold something; empty lines are skipped, and a line of spaces
/// only is [`Decline`]d.
struct Lines<'t> {
    text: &'t str,
    next_start: usize,
    next_number: usize,
    peeked: Option<Result<Option<Line<'t>>, Decline>>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            text,
            next_start: 0,
            next_number: 1,
            peeked: None,
        }
    }

    fn read(&mut self) -> Result<Option<Line<'t>>, Decline> {
        loop {
            if self.next_start >= self.text.len() {
                return Ok(None);
            }
            let rest = &self.text[self.next_start..];
            let (raw, terminated) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(end) => (&rest[..end], true),
                None => (rest, false),
            };
            let start = self.next_start;
            let number = self.next_number;
            self.next_start += raw.len() + usize::from(terminated);
            self.next_number += 1;
            if raw.is_empty() {
                continue;
            }
            let content = raw.trim_start_matches(' ');
            if content.is_empty() {
                return Err(Decline);
            }
            return Ok(Some(Line {
                start,
                number,
                indent: raw.len() - content.len(),
                content,
                terminated,
            }));
        }
    }

    fn next(&mut self) -> Result<Option<Line<'t>>, Decline> {
        match self.peeked.take() {
            Some(line) => line,
            None => self.read(),
        }
    }

    fn peek(&mut self) -> Result<Option<Line<'t>>, Decline> {
        if self.peeked.is_none() {
            self.peeked = Some(self.read());
        }
        self.peeked.expect("just filled")
    }

    /// Where the text ends, as granit marks it.
    fn end(&self) -> Marker {
        let len = self.text.len();
        let last_line_start = self
            .text
            .as_bytes()
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + memchr::memchr_iter(b'\n', self.text.as_bytes()).count();
        marker(len, line, len - last_line_start)
    }
}

fn marker(offset: usize, line: usize, column: usize) -> Marker {
    Marker::new(offset, line, column).with_byte_offset(Some(offset))
}

impl<'t> Events<'t> {
    /// Reads an [`admissible`] text.
    pub(super) fn new(text: &'t str) -> Self {
        debug_assert!(admissible(text));
        let mut queue = VecDeque::with_capacity(16);
        queue.push_back((Event::StreamStart, Span::empty(marker(0, 1, 0))));
        Events {
            lines: Lines::new(text),
            frames: Vec::new(),
            pending_key: None,
            document: DocumentState::Before { explicit_start: false },
            queue,
            finished: false,
        }
    }

    fn push(&mut self, event: Event<'t>, span: Span) {
        self.queue.push_back((event, span));
    }

    /// Reads one line (or the end), queueing its events.
    fn step(&mut self) -> Result<(), Decline> {
        match self.lines.next()? {
            None => self.finish(),
            Some(line) if line.indent == 0 && line.content == "---" => self.document_start(line),
            Some(line) => self.content_line(line),
        }
    }

    fn finish(&mut self) -> Result<(), Decline> {
        // An empty stream or document: left to granit.
        if self.document != DocumentState::Open {
            return Err(Decline);
        }
        self.empty_value();
        let end = self.lines.end();
        self.close_document(end);
        self.push(Event::StreamEnd, Span::empty(end));
        self.finished = true;
        Ok(())
    }

    fn document_start(&mut self, line: Line<'t>) -> Result<(), Decline> {
        match self.document {
            DocumentState::Before { explicit_start: true } => return Err(Decline),
            DocumentState::Before { explicit_start: false } => {}
            DocumentState::Open => {
                self.empty_value();
                self.close_document(line.marker(0));
            }
        }
        self.push(
            Event::DocumentStart(true, None),
            Span::new(line.marker(0), line.marker(3)),
        );
        self.document = DocumentState::Before { explicit_start: true };
        Ok(())
    }

    /// Gives the pending key, if any, the empty value granit reads (`~`, at its colon): a
    /// `sops:` whose block a stream's repeat left out ends each document this way.
    fn empty_value(&mut self) {
        if let Some(key) = self.pending_key.take() {
            self.push(
                Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None),
                Span::empty(key.colon),
            );
        }
    }

    /// Ends every open collection and the document at `at`.
    fn close_document(&mut self, at: Marker) {
        while self.pop(at).is_some() {}
        self.push(Event::DocumentEnd, Span::empty(at));
    }

    /// Ends the innermost open collection at `at`.
    fn pop(&mut self, at: Marker) -> Option<Frame> {
        let frame = self.frames.pop()?;
        let event = match frame.kind {
            FrameKind::Mapping => Event::MappingEnd,
            FrameKind::Sequence { .. } => Event::SequenceEnd,
        };
        self.push(event, Span::empty(at));
        Some(frame)
    }

    fn open(&mut self, kind: FrameKind, column: usize, at: Marker) -> Result<(), Decline> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(Decline);
        }
        let event = match kind {
            FrameKind::Mapping => Event::MappingStart(StructureStyle::Block, 0, None),
            FrameKind::Sequence { .. } => Event::SequenceStart(StructureStyle::Block, 0, None),
        };
        self.push(event, Span::empty(at));
        self.frames.push(Frame { kind, column });
        Ok(())
    }

    fn content_line(&mut self, line: Line<'t>) -> Result<(), Decline> {
        if let DocumentState::Before { explicit_start } = self.document {
            // The root: a block mapping from the first column.
            if line.indent != 0 || line.is_dash_item() {
                return Err(Decline);
            }
            if !explicit_start {
                self.push(Event::DocumentStart(false, None), Span::empty(line.marker(0)));
            }
            self.document = DocumentState::Open;
            self.open(FrameKind::Mapping, 0, line.marker(0))?;
            return self.entry(line, 0, line.content);
        }
        let column = line.indent;
        if let Some(key) = self.pending_key.take() {
            return self.nested(line, key);
        }
        while self.frames.last().is_some_and(|frame| frame.column > column) {
            self.pop(line.marker(column));
        }
        let top = *self.frames.last().ok_or(Decline)?;
        if top.column != column {
            // Deeper than the collection it would continue: a continued scalar, or an error.
            return Err(Decline);
        }
        match (top.kind, line.is_dash_item()) {
            (FrameKind::Sequence { .. }, true) => self.item(line),
            (FrameKind::Mapping, false) => self.entry(line, column, line.content),
            (FrameKind::Sequence { indentless: true }, false) => {
                self.pop(line.marker(column));
                match self.frames.last() {
                    Some(frame) if frame.kind == FrameKind::Mapping && frame.column == column => {
                        self.entry(line, column, line.content)
                    }
                    _ => Err(Decline),
                }
            }
            _ => Err(Decline),
        }
    }

    /// The first line after `key:`, which starts the key's collection, or follows its empty
    /// value.
    fn nested(&mut self, line: Line<'t>, key: PendingKey) -> Result<(), Decline> {
        let (column, key_column) = (line.indent, key.column);
        let in_mapping = self.frames.last().is_some_and(|frame| frame.kind == FrameKind::Mapping);
        if !in_mapping {
            return Err(Decline);
        }
        if column > key_column {
            if line.is_dash_item() {
                self.open(FrameKind::Sequence { indentless: false }, column, line.marker(column))?;
                self.item(line)
            } else {
                self.open(FrameKind::Mapping, column, line.marker(column))?;
                self.entry(line, column, line.content)
            }
        } else if column == key_column && line.is_dash_item() {
            self.open(
                FrameKind::Sequence { indentless: true },
                column,
                line.marker(column + 2),
            )?;
            self.item(line)
        } else {
            self.pending_key = Some(key);
            self.empty_value();
            self.content_line(line)
        }
    }

    /// A sequence item, `- …`, whose dash is at the line's indentation.
    fn item(&mut self, line: Line<'t>) -> Result<(), Decline> {
        let content = line.content.strip_prefix("- ").ok_or(Decline)?;
        if content.starts_with(' ') || content.starts_with('-') {
            return Err(Decline);
        }
        let column = line.indent + 2;
        if split_key(content).is_some() {
            self.open(FrameKind::Mapping, column, line.marker(column))?;
            return self.entry(line, column, content);
        }
        let (value, style) = scalar(content)?;
        let span = Span::new(line.marker(column), line.marker(column + content.len()));
        self.push(Event::Scalar(value, style, 0, None), span);
        Ok(())
    }

    /// A mapping entry, `key: value` or `key:`, whose key is at `column` of `line`.
    fn entry(&mut self, line: Line<'t>, column: usize, content: &'t str) -> Result<(), Decline> {
        let (key, rest) = split_key(content).ok_or(Decline)?;
        let key_span = Span::new(line.marker(column), line.marker(column + key.len())).with_indent(Some(column));
        self.push(Event::Scalar(Cow::Borrowed(key), ScalarStyle::Plain, 0, None), key_span);
        let Some(rest) = rest else {
            self.pending_key = Some(PendingKey {
                column,
                colon: line.marker(column + key.len()),
            });
            return Ok(());
        };
        let value_column = column + key.len() + 2;
        match rest {
            "|" => self.literal(line, column, true),
            "|-" => self.literal(line, column, false),
            _ => {
                let (value, style) = scalar(rest)?;
                let span = Span::new(line.marker(value_column), line.marker(value_column + rest.len()));
                self.push(Event::Scalar(value, style, 0, None), span);
                Ok(())
            }
        }
    }

    /// A literal block scalar (`|`, or `|-` without its last line break) for the key at
    /// `key_column` on `header`: the lines after it, indented deeper than the key.
    fn literal(&mut self, header: Line<'t>, key_column: usize, keep_last_break: bool) -> Result<(), Decline> {
        let first = self.lines.next()?.ok_or(Decline)?;
        let indent = first.indent;
        // An empty line anywhere in or after the block, or one too shallow: left to granit.
        if indent <= key_column || first.number != header.number + 1 {
            return Err(Decline);
        }
        let mut value = String::new();
        let mut line = first;
        loop {
            // Deeper lines keep their extra spaces.
            value.extend(std::iter::repeat_n(' ', line.indent - indent));
            value.push_str(line.content);
            value.push('\n');
            if !line.terminated {
                return Err(Decline);
            }
            match self.lines.peek()? {
                Some(next) if next.number != line.number + 1 => return Err(Decline),
                Some(next) if next.indent >= indent => line = self.lines.next()?.ok_or(Decline)?,
                _ => break,
            }
        }
        let end = match self.lines.peek()? {
            Some(next) => next.marker(next.indent),
            None => self.lines.end(),
        };
        if !keep_last_break {
            value.pop();
        }
        let span = Span::new(first.marker(indent), end).with_indent(Some(indent));
        self.push(Event::Scalar(Cow::Owned(value), ScalarStyle::Literal, 0, None), span);
        Ok(())
    }
}

impl<'t> Iterator for Events<'t> {
    type Item = Result<SpannedEvent<'t>, Decline>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            if let Err(decline) = self.step() {
                self.finished = true;
                self.queue.clear();
                return Some(Err(decline));
            }
        }
    }
}

/// Splits `key: value` or `key:` at the key's colon; `None` when the text is not a simple key
/// (`a-z A-Z 0-9 . _ / -`, not starting with `-`, at most [`MAX_KEY_LEN`] long) followed by one.
fn split_key(content: &str) -> Option<(&str, Option<&str>)> {
    let bytes = content.as_bytes();
    let colon = bytes.iter().take(MAX_KEY_LEN + 1).position(|&b| !is_key_byte(b))?;
    if colon == 0 || bytes[colon] != b':' || bytes[0] == b'-' {
        return None;
    }
    let key = &content[..colon];
    match bytes.get(colon + 1) {
        None => Some((key, None)),
        Some(b' ') => Some((key, Some(&content[colon + 2..]))),
        Some(_) => None,
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-')
}

/// A scalar written on one line: plain, or quoted without escapes.
fn scalar(text: &str) -> Result<(Cow<'_, str>, ScalarStyle), Decline> {
    let bytes = text.as_bytes();
    let (&first, &last) = (bytes.first().ok_or(Decline)?, bytes.last().ok_or(Decline)?);
    let quoted = |quote: u8, style| {
        if text.len() < 2 || last != quote {
            return Err(Decline);
        }
        let inner = &text[1..text.len() - 1];
        if inner.bytes().any(|b| b == quote || b == b'\\') {
            return Err(Decline);
        }
        Ok((Cow::Borrowed(inner), style))
    };
    match first {
        b'"' => quoted(b'"', ScalarStyle::DoubleQuoted),
        b'\'' => quoted(b'\'', ScalarStyle::SingleQuoted),
        // Indicators, and a space a stray extra one would mean.
        b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
        | b'`' | b' ' => Err(Decline),
        _ if last == b' '
            || last == b':'
            || memchr::memchr_iter(b':', bytes).any(|i| bytes.get(i + 1) == Some(&b' ')) =>
        {
            Err(Decline)
        }
        _ => Ok((Cow::Borrowed(text), ScalarStyle::Plain)),
    }
}

#[cfg(test)]
mod tests {
    use granit_parser::Parser;
    use proptest::prelude::*;

    use super::*;

    /// granit's events for `text`, or `None` when it refuses the text.
    fn granit(text: &str) -> Option<Vec<SpannedEvent<'_>>> {
        Parser::new_from_str(text).collect::<Result<Vec<_>, _>>().ok()
    }

    /// This reader's events for `text`, or `None` when it declines.
    fn fast(text: &str) -> Option<Vec<SpannedEvent<'_>>> {
        if !admissible(text) {
            return None;
        }
        Events::new(text).collect::<Result<Vec<_>, _>>().ok()
    }

    /// Whatever this reader accepts, granit reads to the same events and spans. Returns
    /// whether it accepted.
    fn agrees(text: &str) -> bool {
        let Some(ours) = fast(text) else { return false };
        let theirs = granit(text).unwrap_or_else(|| panic!("granit refuses a text the quick reader accepts:\n{text}"));
        assert_eq!(ours.len(), theirs.len(), "event count differs for:\n{text}");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "event {i} differs for:\n{text}");
        }
        true
    }

    #[test]
    fn machine_written_files_are_read_as_granit_reads_them() {
        let accepted = [
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: y\ntype: Opaque\ndata:\n  k: dg==\n",
            "a:\n- x\n- k: v\n  j: w\nb: 1\n",
            "a:\n  - x\n  - y\nb:\n  c: d\n",
            "---\na: 1\n---\nb: 2\n",
            "a: 1\n---\nb: 2",
            "a: \"x y\"\nb: 'q'\nc: \"\"\n",
            "sops:\n  age:\n    - recipient: r\n      enc: |\n        -----BEGIN-----\n        YWJj\n        -----END-----\n  lastmodified: \"2026-01-01T00:00:00Z\"\n",
            "e: |\n  l1\n    deeper\n  l3\nf: |-\n  m\ng: x\n",
            "a:\n\n  b: c\n\n\nd: e\n",
            "a:\n  b:\n    c:\n    - 1\n    - 2\n  d: x\ne: y",
            "l:\n- a: 1\n  b:\n  - x\n- c: 2\n",
            "u: http://example.com/a:b\nv: a,b[c]{d}\nw: ~\n",
            "k: |\n  last\n",
            // Keys without a value: at the end, before a sibling, a shallower line or `---`
            // (a stream's repeated `sops` blocks are cut out this way), and in an item.
            "a:\n",
            "a:",
            "a:\nb: 1\n",
            "x:\n  a:\nb: 1\n",
            "x:\n  a:\n\n\n  b:\n",
            "l:\n- a:\n  b:\n- c:\n",
            "a: 1\nsops:\n---\nb: 2\nsops:\n",
        ];
        for text in accepted {
            assert!(agrees(text), "the quick reader declines:\n{text}");
        }
    }

    #[test]
    fn what_it_leaves_to_granit_is_declined() {
        let declined = [
            "a: 1 # note\n",
            "# head\na: 1\n",
            "a: &x 1\nb: *x\n",
            "a: {b: c}\n",
            "a: [1, 2]\n",
            "- a\n- b\n",
            "just a scalar\n",
            "a:\n  b\n",
            "a: b\n  c\n",
            "a: \"esc\\n\"\n",
            "a: 'it''s'\n",
            "a: >\n  folded\n",
            "a: |+\n  keep\n\n",
            "a: |\n  x\n\n  y\n",
            "a: caf\u{e9}\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: b\u{1}c\n",
            "a: b\u{b}c\n",
            "a: b\u{c}c\n",
            "a: b\u{7f}c\n",
            "a: b\u{0}\n",
            "\"a\": b\n",
            "a: b \n",
            "a:  b\n",
            "  \na: b\n",
            "a: b: c\n",
            "a:\n- - x\n",
            "a:\n-\n  x\n",
            "---\n---\na: 1\n",
            "",
            "a: |\n  x",
            "a: -1\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\na: 1\n",
            "? a\n: b\n",
        ];
        for text in declined {
            assert!(!agrees(text), "the quick reader accepts:\n{text}");
        }
        // Keys granit refuses as too long (1024 characters), and nesting beyond the reader's
        // own limit, in each place a key or a collection can start.
        let long = "k".repeat(1025);
        let deep: String = (0..=MAX_DEPTH)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(MAX_DEPTH + 1)
            + "a: b\n";
        let declined = [
            format!("{long}: v\n"),
            format!("x: 1\n{long}: v\n"),
            format!("x:\n  {long}: v\n"),
            format!("x:\n- {long}: v\n"),
            format!("x:\n  - {long}: v\n"),
            format!("a: b\n---\n{long}: v\n"),
            deep,
        ];
        for text in &declined {
            assert!(!agrees(text), "the quick reader accepts:\n{text}");
        }
        // Just within both limits: read, as granit reads it.
        let longest = format!("{}: v\n", "k".repeat(MAX_KEY_LEN));
        let deepest: String = (0..MAX_DEPTH - 1)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(MAX_DEPTH - 1)
            + "a: b\n";
        for text in [longest, deepest] {
            assert!(agrees(&text), "the quick reader declines:\n{text}");
        }
    }

    /// The sample files: whatever the reader accepts reads as granit reads it, and the
    /// one kubectl wrote is accepted (the others have comments, which are left to granit).
    #[test]
    fn sample_files_read_as_granit_reads_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut accepted = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("testdata") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("sample");
                if agrees(&text) {
                    accepted.push(path.file_name().expect("name").to_string_lossy().into_owned());
                }
            }
        }
        assert!(
            accepted.iter().any(|a| a == "kubectl-secret.yaml"),
            "accepted: {accepted:?}"
        );
    }

    /// Every YAML file in the shared vectors (written by sops, and by hand): the same, and the
    /// files sops encrypted without comments are accepted.
    #[test]
    fn files_sops_wrote_read_as_granit_reads_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/sops-upstream");
        let mut pending = vec![root];
        let (mut read, mut accepted) = (0, Vec::new());
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("the shared vectors") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    read += 1;
                    if agrees(&text) {
                        accepted.push(path);
                    }
                }
            }
        }
        assert!(read >= 30, "only {read} vectors found");
        let encrypted = accepted
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".enc.yaml"))
            .count();
        assert!(
            encrypted >= 3,
            "only {encrypted} encrypted vectors accepted: {accepted:?}"
        );
    }

    /// A random block document in the subset's style, with random layout choices.
    fn document() -> impl Strategy<Value = String> {
        let key = "[a-z][a-z0-9._/-]{0,6}";
        let plain = prop_oneof![
            "[a-zA-Z0-9][a-zA-Z0-9 +/=.,_()\\[\\]{}!$%&*;<>?@^`|~'\"-]{0,12}[a-zA-Z0-9=]",
            "[a-z0-9]",
            Just("ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]".to_string()),
            Just("true".to_string()),
            Just("1.5".to_string()),
            Just("null".to_string()),
            Just("a:b".to_string()),
        ];
        let value = prop_oneof![
            plain.clone(),
            plain.clone().prop_map(|v| format!("\"{v}\"")),
            plain.prop_map(|v| format!("'{v}'")),
        ];
        let leaf = (key, value).prop_map(|(k, v)| vec![format!("{k}: {v}")]);
        let literal = (
            key,
            proptest::collection::vec("[A-Za-z0-9+/=-]{1,10}", 1..4),
            any::<bool>(),
            1usize..4,
        )
            .prop_map(|(k, lines, strip, extra)| {
                let mut out = vec![format!("{k}: |{}", if strip { "-" } else { "" })];
                out.extend(lines.iter().map(|l| format!("{}{l}", " ".repeat(extra + 1))));
                out
            });
        let empty = key.prop_map(|k| vec![format!("{k}:")]);
        let entry = prop_oneof![4 => leaf, 1 => literal, 1 => empty];
        let block = entry.prop_recursive(4, 40, 5, move |inner| {
            let key = "[a-z][a-z0-9]{0,4}";
            prop_oneof![
                // A nested mapping, indented by 1 to 4.
                (key, proptest::collection::vec(inner.clone(), 1..4), 1usize..5).prop_map(|(k, entries, by)| {
                    let mut out = vec![format!("{k}:")];
                    for line in entries.into_iter().flatten() {
                        out.push(format!("{}{line}", " ".repeat(by)));
                    }
                    out
                }),
                // A sequence of mappings, indentless or indented.
                (
                    key,
                    proptest::collection::vec(proptest::collection::vec(inner, 1..3), 1..3),
                    0usize..3
                )
                    .prop_map(|(k, items, by)| {
                        let mut out = vec![format!("{k}:")];
                        for item in items {
                            for (i, line) in item.into_iter().flatten().enumerate() {
                                let lead = if i == 0 { "- " } else { "  " };
                                out.push(format!("{}{lead}{line}", " ".repeat(by)));
                            }
                        }
                        out
                    }),
            ]
        });
        let doc = proptest::collection::vec(block, 1..5)
            .prop_map(|entries| entries.into_iter().flatten().collect::<Vec<_>>());
        (
            proptest::collection::vec(doc, 1..3),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(0usize..40, 0..3),
        )
            .prop_map(|(docs, lead, last_break, blanks)| {
                let mut lines = Vec::new();
                for (i, doc) in docs.into_iter().enumerate() {
                    if i > 0 || lead {
                        lines.push("---".to_string());
                    }
                    lines.extend(doc);
                }
                for at in blanks {
                    let at = at % (lines.len() + 1);
                    lines.insert(at, String::new());
                }
                let mut text = lines.join("\n");
                if last_break {
                    text.push('\n');
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Generated documents: the reader either declines or reads what granit reads.
        #[test]
        fn generated_documents_read_as_granit_reads_them(text in document()) {
            agrees(&text);
        }

        /// The same with one byte changed, inserted or removed: errors and odd corners.
        #[test]
        fn damaged_documents_read_as_granit_reads_them(
            text in document(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b" -:|'\"\n>?,[]{}&*!%@`~0aZ./#\t\r\x00\x01\x0b\x0c\x7f".to_vec()),
            how in 0u8..3,
        ) {
            let bytes = crate::formats::damaged(text, at, byte, how);
            let text = String::from_utf8(bytes).expect("ASCII");
            agrees(&text);
        }
    }
}
