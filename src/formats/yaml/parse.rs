//! YAML text → [`Tree`], keeping where every scalar and comment was written.
//!
//! Reads granit-parser events and builds sops's model: ordered mappings with comments as items
//! of their container, one document per YAML document, the top-level `sops` entry split off.
//! Comments are placed as go-yaml v3 and sops place them, because a comment's container decides
//! its AAD: own-line comments belong to the innermost open block collection whose indentation
//! is at most the comment's column (and, between a key and its nested collection, to that
//! collection); a trailing comment goes before the entry or item it trails.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use granit_parser::{
    ErrorKind, Event, ParseResult, Parser, ScalarStyle as GranitStyle, ScanError, Span as GranitSpan, StructureStyle,
    Tag,
};
use zeroize::Zeroizing;

use super::comments::{self, After, Closing, CommentAt, Target};
use super::fast;
use super::render;
use super::repeats::{self, Repeat};
use super::resolve::{self, Unsupported};
use crate::formats::limits::{AliasLimit, AliasRatio, CopyBudget, MAX_DEPTH, Size};
use crate::formats::{Format, FormatError, InputBytes};
use crate::tree::{
    BlockHeader, Comment, Document, DocumentLayout, Entry, Mapping, MappingItem, Node, Origin, Parsed, Scalar,
    ScalarStyle, Sequence, SequenceItem, Source, Span, Tree, Value,
};

/// Parses a YAML stream. `file` names the input in error messages.
pub fn parse<'a>(input: impl Into<InputBytes<'a>>, file: &str) -> Result<Tree<Parsed>, FormatError> {
    match input.into() {
        InputBytes::Lent(bytes) => parse_keeping_text(bytes, file, true),
        InputBytes::Given(mut bytes) => {
            // The buffer becomes the kept text: no copy.
            let text = String::from_utf8(std::mem::take(&mut *bytes)).map_err(|e| {
                let valid_up_to = e.utf8_error().valid_up_to();
                drop(Zeroizing::new(e.into_bytes()));
                not_text(file, valid_up_to)
            })?;
            let text = Zeroizing::new(text);
            let documents = read_documents(&text, file)?;
            Ok(Tree::parsed(documents, Some(Arc::new(Source::new(text)))))
        }
    }
}

/// [`parse`] without a copy of the text for writing the tree back in place: for a check that
/// compares what was read (the self-check's read-back of an output about to be written).
pub fn parse_values(input: &[u8], file: &str) -> Result<Tree<Parsed>, FormatError> {
    parse_keeping_text(input, file, false)
}

fn parse_keeping_text(input: &[u8], file: &str, keep_text: bool) -> Result<Tree<Parsed>, FormatError> {
    let text = std::str::from_utf8(input).map_err(|e| not_text(file, e.valid_up_to()))?;
    let documents = read_documents(text, file)?;
    let source = keep_text.then(|| Arc::new(Source::new(Zeroizing::new(text.to_string()))));
    Ok(Tree::parsed(documents, source))
}

fn not_text(file: &str, valid_up_to: usize) -> FormatError {
    FormatError::NotText {
        file: file.to_string(),
        format: Format::Yaml,
        valid_up_to,
    }
}

/// The documents of a YAML text.
fn read_documents(text: &str, file: &str) -> Result<Vec<Document>, FormatError> {
    read_documents_scanning(text, file, Scan::for_len(text.len()))
}

/// [`read_documents`] with the scanner where `scan` says.
fn read_documents_scanning(text: &str, file: &str, scan: Scan) -> Result<Vec<Document>, FormatError> {
    refuse_lone_carriage_return(text, file)?;
    // A stream whose documents repeat one `sops` block is read with the copies left out, each
    // taking the first copy's node, unless a copy was not where it was expected to be (see
    // `repeats`): then, and to report any error, the text is read as it is.
    let repeats = repeats::find(text);
    let read_once = (!repeats.is_empty())
        .then(|| read(text, file, &repeats, scan).ok())
        .flatten();
    Ok(match read_once {
        Some((documents, true)) => documents,
        _ => read(text, file, &[], scan)?.0,
    })
}

/// Where granit's scanner runs while the tree is built.
#[derive(Debug, Clone, Copy)]
enum Scan {
    /// On this thread, between the builder's steps.
    Here,
    /// On a second thread ([`scan_beside`]).
    Beside,
}

impl Scan {
    /// Beside for texts of [`SCAN_BESIDE_FROM`] bytes or more; below, starting a thread costs
    /// more than the overlap gains.
    fn for_len(len: usize) -> Scan {
        if len >= SCAN_BESIDE_FROM {
            Scan::Beside
        } else {
            Scan::Here
        }
    }
}

/// Texts at least this long are scanned on a second thread while this one builds the tree.
const SCAN_BESIDE_FROM: usize = 32 * 1024;

/// Events handed from the scanning thread to the building one at a time: large enough that
/// the hand-over is a small share of the work, small enough that little is held in between.
const EVENT_BATCH: usize = 512;

/// Full batches the scanning thread may be ahead by.
const BATCHES_IN_FLIGHT: usize = 4;

/// The documents of `text`, read without the lines of the `repeats`, and whether every repeat
/// was read as the `sops` key of its document.
fn read(text: &str, file: &str, repeats: &[Repeat], scan: Scan) -> Result<(Vec<Document>, bool), FormatError> {
    let cut = repeats::Cut::new(text, repeats);
    if let Some(read) = read_quickly(text, file, repeats, &cut) {
        return Ok(read);
    }
    let mut builder = Builder::new(text, file, repeats);
    let feed = |event: ParseResult<'_>| -> Result<(), FormatError> {
        let (event, span) = event.map_err(|e| scan_error(&e, file))?;
        builder.on_event(event, cut.restore(span))
    };
    match scan {
        Scan::Here => Parser::new_from_str(cut.text()).try_for_each(feed)?,
        Scan::Beside => scan_beside(cut.text(), feed)?,
    }
    let every_repeat_read = builder.repeats_read == repeats.len();
    Ok((builder.documents, every_repeat_read))
}

/// [`read`] with the quick reader of machine-written YAML ([`fast`]), or `None` when the text
/// leaves its subset or anything fails: then granit reads the whole text again, so that what
/// ksec accepts and the errors it reports do not depend on which reader ran.
fn read_quickly(text: &str, file: &str, repeats: &[Repeat], cut: &repeats::Cut<'_>) -> Option<(Vec<Document>, bool)> {
    if !fast::admissible(cut.text()) {
        return None;
    }
    let mut builder = Builder::new(text, file, repeats);
    for event in fast::Events::new(cut.text()) {
        let (event, span) = event.ok()?;
        builder.on_event(event, cut.restore(span)).ok()?;
    }
    let every_repeat_read = builder.repeats_read == repeats.len();
    Some((builder.documents, every_repeat_read))
}

/// Runs granit's scanner and parser over `text` on a second thread and gives its events to
/// `feed` on this one, in order. Scanning is most of a large file's parse and does not depend
/// on the tree being built, so the two overlap: a 50,000-key Secret reads in about two thirds
/// of the wall time. The first error, from either side, ends both.
fn scan_beside<'t>(
    text: &'t str,
    mut feed: impl FnMut(ParseResult<'t>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<ParseResult<'t>>>(BATCHES_IN_FLIGHT);
        // Emptied batches go back to be filled again: a handful is ever allocated, instead of
        // one per batch (each zeroed when freed).
        let (returner, returned) = std::sync::mpsc::sync_channel::<Vec<ParseResult<'t>>>(BATCHES_IN_FLIGHT + 1);
        scope.spawn(move || {
            let empty = || returned.try_recv().unwrap_or_else(|_| Vec::with_capacity(EVENT_BATCH));
            let mut batch = empty();
            for event in Parser::new_from_str(text) {
                let failed = event.is_err();
                batch.push(event);
                if batch.len() == EVENT_BATCH || failed {
                    let full = std::mem::replace(&mut batch, empty());
                    // A closed channel means the builder stopped at an error: so does this side.
                    if sender.send(full).is_err() || failed {
                        return;
                    }
                }
            }
            let _ = sender.send(batch);
        });
        // Returning early drops the receiver, which ends the scanning thread at its next batch.
        for mut batch in receiver {
            batch.drain(..).try_for_each(&mut feed)?;
            let _ = returner.try_send(batch);
        }
        Ok(())
    })
}

/// A granit error as ksec's, at the place granit reports.
fn scan_error(e: &ScanError, file: &str) -> FormatError {
    match e.kind() {
        // granit's own nesting limit, which its scanner can meet while looking ahead in flow
        // collections before ksec's lower one is reached.
        ErrorKind::RecursionLimitExceeded => FormatError::TooDeep {
            file: file.to_string(),
            format: Format::Yaml,
            line: Some(e.marker().line()),
            column: Some(e.marker().col() + 1),
            limit: MAX_DEPTH,
        },
        _ => FormatError::Syntax {
            file: file.to_string(),
            format: Format::Yaml,
            line: Some(e.marker().line()),
            column: Some(e.marker().col() + 1),
            reason: e.info().to_string(),
        },
    }
}

/// A carriage return alone ends a line in YAML (old Mac line endings), but everything that
/// keeps the layout (the `sops` block's lines, comments, blank lines, new entries) finds lines
/// by `\n`: such a file would lose the entries after its `sops` block. sops reads it; ksec
/// refuses it where the first one is. ksec never writes one (it escapes `\r` in a string).
fn refuse_lone_carriage_return(text: &str, file: &str) -> Result<(), FormatError> {
    let bytes = text.as_bytes();
    let lone = memchr::memchr_iter(b'\r', bytes).find(|&i| bytes.get(i + 1) != Some(&b'\n'));
    let Some(at) = lone else { return Ok(()) };
    let start = line_start(text, at);
    Err(FormatError::Unsupported {
        file: file.to_string(),
        line: Some(text[..at].matches('\n').count() + 1),
        column: Some(text[start..at].chars().count() + 1),
        reason: "a line ends in a carriage return without a line feed (old Mac line endings); \
                 ksec reads lines ending in \\n or \\r\\n: convert the file, for example with \
                 `tr '\\r' '\\n'`"
            .to_string(),
    })
}

/// An own-line comment waiting for the next token to decide its container.
struct PendingComment {
    comment: Comment,
    at: CommentAt,
    /// A comment after a lone dash: always a head of the next token.
    head_only: bool,
}

/// What comes after a run of comments, for placing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// A mapping key, a block end, or the end of the document.
    Token,
    /// A scalar or alias value of the pending key.
    Value,
    /// A nested collection, the value of the pending key or a sequence item.
    Collection,
}

enum FrameKind {
    Mapping(Mapping),
    Sequence(Sequence),
}

/// A collection being built.
struct Frame {
    kind: FrameKind,
    /// Column of the keys (mapping) or dashes (block sequence).
    column: usize,
    flow: bool,
    anchor: usize,
    start: usize,
    start_line: usize,
    /// A key read, its value not yet complete.
    pending_key: Option<PendingKey>,
    /// Comments that come after the pending entry, kept until the entry is pushed.
    deferred: Vec<Comment>,
    /// Lines on which the last complete item started and ended, for trailing comments (a
    /// comment after a block scalar's header trails the entry that starts on that line).
    last_item_lines: Option<(usize, usize)>,
    /// What the collection holds so far, for charging copies of it.
    size: Size,
}

struct PendingKey {
    key: String,
    start: usize,
    line: usize,
}

/// Per-document state.
#[derive(Default)]
struct DocState {
    metadata: Option<Node>,
    metadata_span: Option<Span>,
    root: Option<Mapping>,
    root_flow: bool,
    root_span: Option<Span>,
    start: usize,
    indent: Option<usize>,
    /// The first indentation step inside the `sops` block, as `indent` would take it.
    metadata_indent: Option<usize>,
    /// The start and line of the `sops:` line, when its text repeats later in the stream.
    first_of_repeats: Option<(usize, usize)>,
    has_root: bool,
}

/// What the first copy of a repeated `sops` block read to, for the copies that follow.
struct FirstBlock {
    node: Node,
    /// The block's length from its `sops:` line.
    len: usize,
    /// Its last content token's end and line, from the `sops:` line's start and line.
    last_content: (usize, usize),
    /// The indentation step it sets when the document has none yet.
    indent: Option<usize>,
}

struct Builder<'a> {
    text: &'a str,
    file: &'a str,
    frames: Vec<Frame>,
    documents: Vec<Document>,
    /// Anchored nodes (without source positions) and their sizes, by anchor id.
    anchors: HashMap<usize, (Node, Size)>,
    /// Anchors defined inside the document's `sops` block, which is written anew (without
    /// anchors) at the end: an alias after the block cannot refer to them.
    metadata_anchors: HashSet<usize>,
    /// go-yaml's count of the current document's nodes and aliased nodes.
    alias_ratio: AliasRatio,
    /// What anchors and aliases copied in the whole stream.
    copies: CopyBudget,
    pending: Vec<PendingComment>,
    doc: DocState,
    /// End of the last content token (not a comment), for the `sops` entry's extent.
    last_content_end: usize,
    /// Line of `last_content_end`.
    last_content_line: usize,
    /// The blanked copies of a repeated `sops` block, by the start of their `sops:` line, with
    /// the start of the first copy's.
    repeats: HashMap<usize, usize>,
    /// What each first copy read to, by the start of its `sops:` line (`None` until read).
    first_blocks: HashMap<usize, Option<FirstBlock>>,
    /// How many blanked copies took their first copy's node.
    repeats_read: usize,
}

/// A finished node and where it ended.
struct Built {
    node: Node,
    end: usize,
    start_line: usize,
    end_line: usize,
    size: Size,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, file: &'a str, repeats: &[Repeat]) -> Self {
        Builder {
            repeats: repeats.iter().map(|r| (r.start, r.first)).collect(),
            first_blocks: repeats.iter().map(|r| (r.first, None)).collect(),
            repeats_read: 0,
            text,
            file,
            frames: Vec::new(),
            documents: Vec::new(),
            anchors: HashMap::new(),
            metadata_anchors: HashSet::new(),
            alias_ratio: AliasRatio::default(),
            copies: CopyBudget::default(),
            pending: Vec::new(),
            doc: DocState::default(),
            last_content_end: 0,
            last_content_line: 0,
        }
    }

    fn on_event(&mut self, event: Event<'_>, span: GranitSpan) -> Result<(), FormatError> {
        let start = offset(&span.start);
        let end = offset(&span.end);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::Comment(text, placement) => {
                let comment = Comment {
                    text: Zeroizing::new(text.into_owned()),
                    origin: Some(comment_origin(start, end, placement == granit_parser::Placement::Right)),
                    modified: false,
                };
                // A comment after a lone dash (`- # note`, the item on the next lines) heads
                // that item, as go-yaml reads it.
                let after_dash = self.text[line_start(self.text, start)..start].trim() == "-";
                if placement == granit_parser::Placement::Right && !self.frames.is_empty() && !after_dash {
                    self.place_trailing_comment(comment, span.start.line());
                } else {
                    let at = CommentAt {
                        line: span.start.line(),
                        column: span.start.col(),
                        offset: start,
                    };
                    self.pending.push(PendingComment {
                        comment,
                        at,
                        head_only: after_dash,
                    });
                }
            }
            Event::DocumentStart(..) => {
                self.doc = DocState {
                    start,
                    ..DocState::default()
                };
                self.anchors.clear();
                self.metadata_anchors.clear();
                // go-yaml counts per document, the document node included.
                self.alias_ratio = AliasRatio::default();
                self.charge_own(1, 0, &span)?;
            }
            Event::DocumentEnd => self.end_document(start)?,
            Event::MappingStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", &span)?;
                self.enter_collection(&span)?;
                self.resolve_pending(Next::Collection);
                let flow = style == StructureStyle::Flow;
                let column = span.start.col();
                self.open(
                    FrameKind::Mapping(Mapping::default()),
                    (column, start),
                    flow,
                    anchor,
                    span.start.line(),
                )?;
            }
            Event::SequenceStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", &span)?;
                self.enter_collection(&span)?;
                self.resolve_pending(Next::Collection);
                let flow = style == StructureStyle::Flow;
                let column = if flow {
                    span.start.col()
                } else {
                    self.dash_column(start, span.start.col())
                };
                self.open(
                    FrameKind::Sequence(Sequence::default()),
                    (column, start),
                    flow,
                    anchor,
                    span.start.line(),
                )?;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.resolve_pending(Next::Token);
                self.close(end, span.end.line())?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_key = matches!(
                    self.frames.last(),
                    Some(Frame {
                        kind: FrameKind::Mapping(_),
                        pending_key: None,
                        ..
                    })
                );
                self.charge_own(1, value.len(), &span)?;
                if is_key {
                    self.resolve_pending(Next::Token);
                    self.on_key(&value, style, tag.as_deref(), (start, end), &span)?;
                } else {
                    let value_start = self.value_start(start, &span, style);
                    self.resolve_pending(Next::Value);
                    let built = self.scalar(&value, style, tag.as_deref(), value_start, start, end, &span)?;
                    if anchor != 0 {
                        self.anchor(anchor, &built, &span)?;
                    }
                    self.attach(built)?;
                    // No text at all (granit reports `~` for an untagged one).
                    if start == end && style == GranitStyle::Plain {
                        self.pass_comments_over_empty_item();
                    }
                }
            }
            Event::Alias(id) => {
                if matches!(
                    self.frames.last(),
                    Some(Frame {
                        kind: FrameKind::Mapping(_),
                        pending_key: None,
                        ..
                    })
                ) {
                    return Err(self.unsupported("aliases used as mapping keys are not supported", place(&span)));
                }
                self.resolve_pending(Next::Value);
                let (node, size) = self.expand_alias(id, &span)?;
                let frame = self.frames.last();
                let origin = Origin {
                    span: Span::new(start, end),
                    style: ScalarStyle::Alias,
                    in_flow: frame.is_some_and(|f| f.flow),
                    parent_column: frame.map(|f| f.column).unwrap_or(0),
                    in_sequence: matches!(
                        frame,
                        Some(Frame {
                            kind: FrameKind::Sequence(_),
                            ..
                        })
                    ),
                    content_column: span.start.col(),
                    block_header: None,
                };
                let node = mark_alias(node, origin);
                self.last_content_end = end;
                self.last_content_line = span.end.line();
                self.attach(Built {
                    node,
                    end,
                    start_line: span.start.line(),
                    end_line: span.end.line(),
                    // go-yaml counts the alias node and what it expands to.
                    size: Size {
                        nodes: size.nodes.saturating_add(1),
                        ..size
                    },
                })?;
            }
            Event::UnresolvedAlias(..) => {
                return Err(self.unsupported("an alias refers to an unknown anchor", place(&span)));
            }
            _ => {}
        }
        Ok(())
    }

    fn unsupported(&self, reason: &str, at: At) -> FormatError {
        FormatError::Unsupported {
            file: self.file.to_string(),
            line: Some(at.line),
            column: at.column,
            reason: reason.to_string(),
        }
    }

    fn excessive_aliasing(&self, limit: AliasLimit, span: &GranitSpan) -> FormatError {
        FormatError::ExcessiveAliasing {
            file: self.file.to_string(),
            line: span.start.line(),
            column: span.start.col() + 1,
            limit,
        }
    }

    fn too_deep(&self, span: &GranitSpan) -> FormatError {
        FormatError::TooDeep {
            file: self.file.to_string(),
            format: Format::Yaml,
            line: Some(span.start.line()),
            column: Some(span.start.col() + 1),
            limit: MAX_DEPTH,
        }
    }

    /// Counts `nodes` nodes holding `bytes` bytes of text, read from the text itself.
    fn charge_own(&mut self, nodes: u64, bytes: usize, span: &GranitSpan) -> Result<(), FormatError> {
        self.copies.own(nodes, bytes as u64);
        self.alias_ratio
            .own(nodes)
            .map_err(|limit| self.excessive_aliasing(limit, span))
    }

    /// A new mapping or sequence: one level deeper, and one more node.
    fn enter_collection(&mut self, span: &GranitSpan) -> Result<(), FormatError> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        self.charge_own(1, 0, span)
    }

    /// Keeps a copy of an anchored node for its aliases, once the copy is paid for.
    fn anchor(&mut self, id: usize, built: &Built, span: &GranitSpan) -> Result<(), FormatError> {
        self.copies
            .copy(built.size)
            .map_err(|limit| self.excessive_aliasing(limit, span))?;
        self.keep_anchor(id, built.node.clone(), built.size);
        Ok(())
    }

    fn keep_anchor(&mut self, id: usize, node: Node, size: Size) {
        if self.in_metadata() {
            self.metadata_anchors.insert(id);
        }
        self.anchors.insert(id, (detach(node), size));
    }

    /// Whether the event being read is part of the value of the document's `sops` key.
    fn in_metadata(&self) -> bool {
        self.frames.first().is_some_and(|root| {
            matches!(root.kind, FrameKind::Mapping(_)) && root.pending_key.as_ref().is_some_and(|k| k.key == "sops")
        })
    }

    /// A copy of the node an alias stands for, once its size has been charged against every
    /// limit: nothing is copied for an alias the limits refuse.
    fn expand_alias(&mut self, id: usize, span: &GranitSpan) -> Result<(Node, Size), FormatError> {
        let size = match self.anchors.get(&id) {
            Some((_, size)) => *size,
            None => return Err(self.unsupported("an alias refers to an unknown anchor", place(span))),
        };
        if self.metadata_anchors.contains(&id) && !self.in_metadata() {
            return Err(self.unsupported(
                "an alias refers to an anchor inside the sops block, which ksec writes anew without anchors",
                place(span),
            ));
        }
        if self.frames.len().saturating_add(size.height) > MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        // The alias node itself, then what it expands to.
        self.charge_own(1, 0, span)?;
        let charged = self.alias_ratio.alias(size.nodes).and_then(|()| self.copies.copy(size));
        if let Err(limit) = charged {
            return Err(self.excessive_aliasing(limit, span));
        }
        let node = self.anchors.get(&id).map(|(node, _)| node.clone());
        node.map(|n| (n, size))
            .ok_or_else(|| self.unsupported("an alias refers to an unknown anchor", place(span)))
    }

    /// Mappings may carry `!!map` and sequences `!!seq`, which change nothing; sops drops any
    /// other tag (`!!set`, `!!omap`, `!custom`) and keeps the bare collection.
    fn check_collection_tag(&self, tag: Option<&Tag>, kind: &str, span: &GranitSpan) -> Result<(), FormatError> {
        let Some(tag) = tag else { return Ok(()) };
        if tag.suffix_in_namespace(resolve::CORE_TAG_PREFIX).as_deref() == Some(kind) {
            return Ok(());
        }
        Err(self.unsupported(&resolve::dropped_tag_reason(&full_tag(tag)), tag_place(span)))
    }

    fn parse_error(&self, reason: String) -> FormatError {
        FormatError::Syntax {
            file: self.file.to_string(),
            format: Format::Yaml,
            line: None,
            column: None,
            reason,
        }
    }

    /// The dash column of a block sequence, which granit reports at its first item's content
    /// (after a comment on the dash's line, if there is one).
    fn dash_column(&self, start: usize, col: usize) -> usize {
        let bytes = self.text.as_bytes();
        let is_indicator = |i: usize| {
            bytes
                .get(i + 1)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        };
        if bytes.get(start) == Some(&b'-') && is_indicator(start) {
            return col;
        }
        let mut i = start;
        let mut back = 0;
        while i > 0 {
            i -= 1;
            back += 1;
            match bytes[i] {
                b' ' | b'\t' => continue,
                b'-' if is_indicator(i) => return col.saturating_sub(back),
                _ => break,
            }
        }
        // Otherwise the dash starts its line: `- # comment` with the item on later lines.
        let line = &self.text[line_start(self.text, start.min(self.text.len()))..];
        let indent = line.len() - line.trim_start_matches(' ').len();
        if line[indent..].starts_with('-') && is_indicator(line_start(self.text, start) + indent) {
            return indent;
        }
        col
    }

    fn open(
        &mut self,
        kind: FrameKind,
        place: (usize, usize),
        flow: bool,
        anchor: usize,
        start_line: usize,
    ) -> Result<(), FormatError> {
        let (column, start) = place;
        let in_flow = self.frames.last().is_some_and(|f| f.flow);
        if let Some(Frame {
            kind: FrameKind::Mapping(_),
            pending_key: None,
            ..
        }) = self.frames.last()
        {
            return Err(self.unsupported(
                "complex mapping keys (collections as keys) are not supported",
                At::new(start_line, column),
            ));
        }
        let parent_column = self.frames.last().map(|f| f.column);
        let is_root = self.frames.is_empty();
        if is_root {
            if matches!(kind, FrameKind::Sequence(_)) {
                return Err(self.unsupported(
                    "YAML documents that are sequences are not supported",
                    At::new(start_line, column),
                ));
            }
            self.doc.has_root = true;
            self.doc.root_flow = flow;
        } else if !flow
            && !in_flow
            && let Some(parent) = parent_column
            && column > parent
        {
            self.doc.indent.get_or_insert(column - parent);
            if self.in_metadata() {
                self.doc.metadata_indent.get_or_insert(column - parent);
            }
        }
        let mut frame = Frame {
            kind,
            column,
            flow: flow || in_flow,
            anchor,
            start,
            start_line,
            pending_key: None,
            deferred: Vec::new(),
            last_item_lines: None,
            size: Size {
                nodes: 1,
                bytes: 0,
                height: 1,
            },
        };
        // Comments left for a nested block collection open it (see `resolve_pending`); a flow
        // collection leaves them with its parent entry.
        for p in std::mem::take(&mut self.pending) {
            match self.frames.last_mut() {
                Some(parent) if frame.flow => push_comment(&mut parent.kind, p.comment),
                _ => push_comment(&mut frame.kind, p.comment),
            }
        }
        self.frames.push(frame);
        Ok(())
    }

    fn close(&mut self, end: usize, end_line: usize) -> Result<(), FormatError> {
        let Some(mut frame) = self.frames.pop() else {
            return Err(self.parse_error("unbalanced collection end".into()));
        };
        flush_deferred(&mut frame);
        // A block collection ends with its last content, not where granit reports the end
        // (the next token, after any comments in between).
        let (end, end_line) = if frame.flow {
            self.last_content_end = end;
            self.last_content_line = end_line;
            (end, end_line)
        } else {
            (self.last_content_end, self.last_content_line)
        };
        if let FrameKind::Mapping(m) = &frame.kind
            && let Some(key) = duplicate_key(m)
        {
            let path = self.key_path(key);
            return Err(self.parse_error(format!("duplicate key {path}")));
        }
        let span = Some(Span::new(frame.start, end.max(frame.start)));
        let node = match frame.kind {
            FrameKind::Mapping(mut m) => {
                m.flow = frame.flow;
                m.span = span;
                m.column = (!frame.flow).then_some(frame.column);
                Node::Mapping(m)
            }
            FrameKind::Sequence(mut s) => {
                s.flow = frame.flow;
                s.span = span;
                Node::Sequence(s)
            }
        };
        let built = Built {
            node,
            end,
            start_line: frame.start_line,
            end_line,
            size: frame.size,
        };
        if frame.anchor != 0 {
            self.copies
                .copy(built.size)
                .map_err(|limit| FormatError::ExcessiveAliasing {
                    file: self.file.to_string(),
                    line: frame.start_line,
                    column: frame.column + 1,
                    limit,
                })?;
            self.keep_anchor(frame.anchor, built.node.clone(), built.size);
        }
        if self.frames.is_empty() {
            // The document's root mapping.
            match built.node {
                Node::Mapping(m) => {
                    self.doc.root_span = m.span;
                    self.doc.root = Some(m);
                }
                _ => {
                    return Err(self.unsupported(
                        "YAML documents that are sequences are not supported",
                        At::new(frame.start_line, frame.column),
                    ));
                }
            }
            return Ok(());
        }
        self.attach(built)
    }

    /// Where the bytes a new rendering replaces begin: the tag for tagged scalars, the header
    /// for block scalars.
    fn value_start(&self, start: usize, span: &GranitSpan, style: GranitStyle) -> usize {
        let from = span.tag_start.as_ref().map(offset).unwrap_or(start).min(start);
        match self.block_indicator(start, style) {
            Some(header) => from.min(header),
            None => from,
        }
    }

    /// Where a block scalar's header (`|`, `>-`, `|2`…) starts: granit's span starts at the
    /// content, and the header comes before it, after the last content token (the key's `:`
    /// or the sequence dash) and any tag.
    /// Where the header (`|`, `>`) of a block scalar starting at `start` is, when it comes
    /// before `start`: granit's span starts at the content, or at the header when the block
    /// has no content. A `|` or `>` in a comment between the key and the header is not it.
    fn block_indicator(&self, start: usize, style: GranitStyle) -> Option<usize> {
        if !matches!(style, GranitStyle::Literal | GranitStyle::Folded) {
            return None;
        }
        let head = &self.text.as_bytes()[self.last_content_end..start];
        let mut i = 0;
        while i < head.len() {
            // A byte order mark is not part of the text (`\u{FEFF}|` starts a block).
            let after_space = i == 0
                || matches!(head[i - 1], b' ' | b'\t' | b'\n' | b'\r')
                || head[..i].ends_with("\u{FEFF}".as_bytes());
            match head[i] {
                b'#' if i > 0 && after_space => {
                    i += head[i..].iter().position(|&b| b == b'\n').unwrap_or(head.len() - i);
                }
                b'|' | b'>' if after_space || matches!(head[i - 1], b':' | b'-') => {
                    return Some(self.last_content_end + i);
                }
                _ => i += 1,
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn scalar(
        &mut self,
        text: &str,
        style: GranitStyle,
        tag: Option<&Tag>,
        replace_from: usize,
        start: usize,
        end: usize,
        span: &GranitSpan,
    ) -> Result<Built, FormatError> {
        let value = self.resolve(text, style, tag, span)?;
        // A tag before a block's header (`!!str |`) stays as it is; only the header and body
        // are rewritten.
        let indicator = self.block_indicator(start, style);
        let header_from = indicator.unwrap_or(replace_from);
        let frame = self.frames.last();
        let in_flow = frame.is_some_and(|f| f.flow);
        let in_sequence = matches!(
            frame,
            Some(Frame {
                kind: FrameKind::Sequence(_),
                ..
            })
        );
        let parent_column = frame.map(|f| f.column).unwrap_or(0);
        let content_indent = span.start.col();
        let (style, replace_end, end_line) = match style {
            GranitStyle::Plain if is_str_tag(tag) => (ScalarStyle::PlainString, end, span.end.line()),
            GranitStyle::Plain => (ScalarStyle::Plain, end, span.end.line()),
            GranitStyle::SingleQuoted => (ScalarStyle::SingleQuoted, end, span.end.line()),
            GranitStyle::DoubleQuoted if is_str_tag(tag) || self.spelled_like_go(&value, start, end) => {
                (ScalarStyle::DoubleQuotedEscaped, end, span.end.line())
            }
            GranitStyle::DoubleQuoted => (ScalarStyle::DoubleQuoted, end, span.end.line()),
            GranitStyle::Literal | GranitStyle::Folded => {
                // granit's span starts at the content, or at the header when there is none (no
                // header came before it). Content may begin with `|` or `>` too.
                let at_header = indicator.is_none() && matches!(self.text.as_bytes().get(start), Some(b'|' | b'>'));
                let content_start = if at_header {
                    self.text[start..end].find('\n').map_or(end, |i| start + i + 1)
                } else {
                    start
                };
                let header = block_header(self.text, header_from, content_start);
                // An empty block ends with its header line.
                let core_end = block_core_end(self.text, content_start, end, content_indent).max(header.body_start);
                let line = if core_end >= start {
                    span.start.line() + self.text[start..core_end].matches('\n').count()
                } else {
                    span.start.line() - self.text[core_end..start].matches('\n').count()
                };
                let s = if style == GranitStyle::Literal {
                    ScalarStyle::Literal
                } else {
                    ScalarStyle::Folded
                };
                (s, core_end, line)
            }
        };
        self.last_content_end = replace_end;
        self.last_content_line = end_line;
        let block_header = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            .then(|| block_header(self.text, header_from, start));
        // A block without content lines has no content column.
        let empty_block = block_header.is_some_and(|h| replace_end <= h.body_start);
        let content_column = match block_header {
            // An explicit indentation indicator is relative to the owner's indentation.
            Some(h) if !empty_block => match indentation_indicator(&self.text[h.indicators.start..h.indicators.end]) {
                Some(d) => parent_column + d,
                None => first_content_column(&self.text[h.body_start..replace_end]),
            },
            _ if empty_block => 0,
            _ => span.start.col(),
        };
        let origin = Origin {
            span: Span::new(replace_from, replace_end),
            style,
            in_flow,
            parent_column,
            in_sequence,
            content_column,
            block_header,
        };
        let scalar = Scalar {
            value,
            origin: Some(origin),
            modified: false,
        };
        Ok(Built {
            node: Node::Scalar(scalar),
            end: replace_end,
            start_line: span.start.line(),
            end_line,
            size: Size {
                nodes: 1,
                bytes: text.len() as u64,
                height: 0,
            },
        })
    }

    /// Whether a double-quoted string is written with go-yaml's escapes for characters YAML
    /// 1.2 could print as they are (emoji), as files decrypted by sops are.
    fn spelled_like_go(&self, value: &Value, start: usize, end: usize) -> bool {
        let Value::Str(s) = value else { return false };
        s.chars().any(|c| c as u32 >= 0x10000) && self.text[start..end] == render::double_quoted(s, false)
    }

    /// The value of a scalar. Tags that sops would drop, and `!!binary` text it would store
    /// decoded, are refused: the file would not decrypt to what was written.
    fn resolve(
        &self,
        text: &str,
        style: GranitStyle,
        tag: Option<&Tag>,
        span: &GranitSpan,
    ) -> Result<Value, FormatError> {
        let resolved = match tag {
            Some(tag) => {
                let full = full_tag(tag);
                let value = resolve::resolve_tagged(&full, text).map_err(|reason| FormatError::Syntax {
                    file: self.file.to_string(),
                    format: Format::Yaml,
                    line: Some(span.start.line()),
                    column: Some(span.start.col() + 1),
                    reason,
                })?;
                if let Some(reason) = resolve::unsupported_tag(&full, text, &value) {
                    return Err(self.unsupported(&reason, tag_place(span)));
                }
                value
            }
            _ if style == GranitStyle::Plain => resolve::resolve_plain(text).map_err(|u| match u {
                Unsupported::Uint64 => self.unsupported(
                    "an integer is between 2^63 and 2^64; sops cannot store it (quote it to keep it as a string)",
                    place(span),
                ),
            })?,
            _ => Value::str(text),
        };
        Ok(resolved)
    }

    fn on_key(
        &mut self,
        text: &str,
        style: GranitStyle,
        tag: Option<&Tag>,
        (start, end): (usize, usize),
        span: &GranitSpan,
    ) -> Result<(), FormatError> {
        let line = span.start.line();
        let key = match self.resolve(text, style, tag, span)? {
            // Moved out, not copied: the emptied wrapper has nothing left to wipe.
            Value::Str(mut s) => std::mem::take(&mut *s),
            _ => {
                return Err(self.unsupported(
                    &format!("only string keys are supported (quote the key {text:?} to make it a string)"),
                    place(span),
                ));
            }
        };
        let frame = self.frames.last_mut().expect("checked by caller");
        // go-yaml counts a key as a node of its mapping.
        frame.size.nodes = frame.size.nodes.saturating_add(1);
        frame.size.bytes = frame.size.bytes.saturating_add(key.len() as u64);
        frame.pending_key = Some(PendingKey { key, start, line });
        self.last_content_end = end;
        self.last_content_line = line;
        Ok(())
    }

    /// The path of the keys leading to the current frame plus `last`, for messages.
    fn key_path(&self, last: &str) -> String {
        let mut parts: Vec<&str> = self
            .frames
            .iter()
            .filter_map(|f| f.pending_key.as_ref().map(|k| k.key.as_str()))
            .collect();
        parts.push(last);
        parts.join(".")
    }

    /// Adds a finished node to the innermost frame (or makes it a document value).
    fn attach(&mut self, built: Built) -> Result<(), FormatError> {
        let text = self.text;
        let root_level = self.frames.len() == 1;
        let Some(frame) = self.frames.last_mut() else {
            // A scalar document: only an empty (null) document is accepted.
            if matches!(&built.node, Node::Scalar(s) if s.value == Value::Null) {
                return Ok(());
            }
            return Err(self.unsupported(
                "YAML documents that are values are not supported",
                At {
                    line: built.start_line,
                    column: None,
                },
            ));
        };
        frame.size.nodes = frame.size.nodes.saturating_add(built.size.nodes);
        frame.size.bytes = frame.size.bytes.saturating_add(built.size.bytes);
        frame.size.height = frame.size.height.max(built.size.height.saturating_add(1));
        let mut entry_line = None;
        match &mut frame.kind {
            FrameKind::Mapping(m) => {
                let key = frame.pending_key.take().expect("a value follows its key");
                entry_line = Some(key.line);
                if root_level && key.key == "sops" {
                    // go-yaml refuses the repeated key, so sops does; the first block's text
                    // would also stay behind when the second is replaced.
                    if self.doc.metadata.is_some() {
                        return Err(FormatError::RepeatedMetadataKey {
                            file: self.file.to_string(),
                        });
                    }
                    let start = line_start(text, key.start);
                    let end = line_end(text, built.end);
                    let first = self.repeats.get(&start).copied();
                    if let Some(first) = first
                        && let Some(Some(block)) = self.first_blocks.get(&first)
                    {
                        // A blanked copy: the first copy's node, span and last token, moved
                        // to where the copy stands.
                        self.doc.metadata = Some(moved(block.node.clone(), start - first));
                        self.doc.metadata_span = Some(Span::new(start, start + block.len));
                        self.last_content_end = start + block.last_content.0;
                        self.last_content_line = key.line + block.last_content.1;
                        if self.doc.indent.is_none() {
                            self.doc.indent = block.indent;
                        }
                        self.repeats_read += 1;
                    } else {
                        if let Some(slot @ None) = self.first_blocks.get_mut(&start) {
                            *slot = Some(FirstBlock {
                                node: built.node.clone(),
                                len: end - start,
                                last_content: (0, 0),
                                indent: None,
                            });
                            self.doc.first_of_repeats = Some((start, key.line));
                        }
                        self.doc.metadata = Some(built.node);
                        self.doc.metadata_span = Some(Span::new(start, end));
                    }
                } else {
                    // Entries of a block mapping own their lines (for removal); a flow mapping is
                    // written anew when an entry goes, and looking for the line's ends from
                    // every entry of a long flow line would cost the square of its length.
                    let span = if frame.flow {
                        Span::new(key.start, built.end)
                    } else {
                        Span::new(line_start(text, key.start), line_end(text, built.end))
                    };
                    m.items.push(MappingItem::Entry(Entry {
                        key: key.key,
                        value: built.node,
                        span: Some(span),
                    }));
                }
            }
            FrameKind::Sequence(s) => s.items.push(SequenceItem::Node(built.node)),
        }
        frame.last_item_lines = Some((entry_line.unwrap_or(built.start_line), built.end_line));
        flush_deferred(frame);
        Ok(())
    }

    /// A list item with no text (`-`, or only a tag or anchor) has no token of its own for
    /// go-yaml to hang the comments above it on: they head the next item (or what follows the
    /// list). sops applies `encrypted_comment_regex` to that next item, so ksec must too.
    fn pass_comments_over_empty_item(&mut self) {
        let Some(Frame {
            kind: FrameKind::Sequence(s),
            flow: false,
            ..
        }) = self.frames.last_mut()
        else {
            return;
        };
        let Some(item) = s.items.len().checked_sub(1) else {
            return;
        };
        let heads = s.items[..item]
            .iter()
            .rev()
            .take_while(|i| matches!(i, SequenceItem::Comment(_)))
            .count();
        s.items[item - heads..].rotate_right(1);
    }

    /// Files the own-line comments read since the last token, as go-yaml and sops file them
    /// (see [`comments`]): feet under the collections that end here, heads under the next
    /// token's collection. Heads of a nested collection stay queued for [`Self::open`].
    fn resolve_pending(&mut self, next: Next) {
        if self.pending.is_empty() || self.frames.is_empty() {
            return;
        }
        let last_comment_end = self
            .pending
            .last()
            .map_or(0, |p| p.comment.origin.map_or(0, |o| o.span.end));
        let after = next_token(
            self.text,
            last_comment_end,
            self.pending.last().map_or(0, |p| p.at.line),
        );
        let closing = self.closing_frames(&after);
        let deepest = self.frames.last().expect("checked above");
        let waits_for_value = matches!(
            deepest,
            Frame {
                kind: FrameKind::Mapping(_),
                pending_key: Some(_),
                ..
            }
        );
        let indent = self.frames.iter().rev().find(|f| !f.flow).map_or(0, |f| f.column);
        let before = comments::Before {
            line: self.last_content_line,
            offset: self.last_content_end,
            is_value_indicator: waits_for_value,
            indent,
        };
        let positions: Vec<CommentAt> = self.pending.iter().map(|p| p.at).collect();
        let targets = comments::place(&positions, before, &closing, after.place);
        let pending = std::mem::take(&mut self.pending);
        let frames = self.frames.len();
        for (p, mut target) in pending.into_iter().zip(targets) {
            if p.head_only {
                target = Target::Next;
            }
            let index = match target {
                Target::Closing(level) => frames - 1 - level,
                Target::Next if closing.is_empty() && next == Next::Collection => {
                    self.pending.push(p);
                    continue;
                }
                Target::Next => frames.saturating_sub(1 + closing.len()),
            };
            let frame = &mut self.frames[index];
            if index + 1 < frames {
                frame.deferred.push(p.comment);
            } else {
                push_comment(&mut frame.kind, p.comment);
            }
        }
    }

    /// The block collections (innermost first) that end before the next token.
    fn closing_frames(&self, after: &NextToken) -> Vec<Closing> {
        let mut closing = Vec::new();
        for (i, frame) in self.frames.iter().enumerate().rev() {
            if frame.flow {
                break;
            }
            let is_sequence = matches!(frame.kind, FrameKind::Sequence(_));
            let ends = frame.column > after.place.column
                || (is_sequence && frame.column == after.place.column && !after.is_entry);
            if !ends {
                break;
            }
            let indentless = is_sequence && i > 0 && self.frames[i - 1].column == frame.column;
            closing.push(Closing {
                column: frame.column,
                indentless,
            });
        }
        closing
    }

    /// A comment after content on the same line goes before the item it trails.
    fn place_trailing_comment(&mut self, comment: Comment, line: usize) {
        self.resolve_pending(Next::Token);
        let index = (0..self.frames.len())
            .rev()
            .find(|&i| !self.frames[i].flow)
            .unwrap_or(0);
        let frame = &mut self.frames[index];
        let trails_last_item =
            frame.pending_key.is_none() && frame.last_item_lines.is_some_and(|(a, b)| a == line || b == line);
        match &mut frame.kind {
            FrameKind::Mapping(m) if trails_last_item => {
                let at = m
                    .items
                    .iter()
                    .rposition(|i| matches!(i, MappingItem::Entry(_)))
                    .unwrap_or(m.items.len());
                let trailed = match m.items.get_mut(at) {
                    Some(MappingItem::Entry(e)) => Some(&mut e.value),
                    _ => None,
                };
                if let Some(comment) = put_in_flow_collection(trailed, comment) {
                    m.items.insert(at, MappingItem::Comment(comment));
                }
            }
            FrameKind::Sequence(s) if trails_last_item => {
                let at = s
                    .items
                    .iter()
                    .rposition(|i| matches!(i, SequenceItem::Node(_)))
                    .unwrap_or(s.items.len());
                let trailed = match s.items.get_mut(at) {
                    Some(SequenceItem::Node(n)) => Some(n),
                    _ => None,
                };
                if let Some(comment) = put_in_flow_collection(trailed, comment) {
                    s.items.insert(at, SequenceItem::Comment(comment));
                }
            }
            kind => push_comment(kind, comment),
        }
    }

    fn end_document(&mut self, end_start: usize) -> Result<(), FormatError> {
        // Comments after the last token of a document with no root (an empty document).
        let leftover: Vec<Comment> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|p| p.comment)
            .collect();
        let doc = std::mem::take(&mut self.doc);
        if let Some((start, line)) = doc.first_of_repeats
            && let Some(Some(block)) = self.first_blocks.get_mut(&start)
        {
            // The block ends its document (`repeats::find`), so its last token is the
            // document's.
            block.last_content = (self.last_content_end - start, self.last_content_line - line);
            block.indent = doc.metadata_indent;
        }
        let mut root = doc.root.unwrap_or_default();
        for c in leftover {
            root.items.push(MappingItem::Comment(c));
        }
        // A document without a block mapping at the top (empty, comments only, or `{…}`) gets
        // its mapping written from scratch: in place of the flow mapping, or where the
        // document ends. Its comments stay where they are.
        let rewrite = !doc.has_root || doc.root_flow;
        let append_at = if rewrite {
            doc.root_span.map(|s| s.end).unwrap_or(end_start)
        } else {
            // The document ends at the next `---`/`...` (a line start) or at the end of the
            // text, which may lack a final line break.
            if end_start == self.text.len() {
                end_start
            } else {
                line_start(self.text, end_start).max(doc.start)
            }
        };
        let span = match doc.root_span {
            Some(root) if rewrite => root,
            _ if rewrite => Span::new(append_at, append_at),
            _ => Span::new(doc.start, end_start),
        };
        let layout = DocumentLayout {
            span,
            metadata_span: doc.metadata_span,
            append_at: append_at.max(doc.start),
            indent: doc.indent,
            rewrite,
        };
        self.documents.push(Document {
            root,
            metadata: doc.metadata,
            layout: Some(layout),
        });
        Ok(())
    }
}

/// The first token after a run of comments, found in the text.
struct NextToken {
    place: After,
    /// A block sequence entry (`- `).
    is_entry: bool,
}

/// Skips blank and comment lines after `from` (the end of the last comment, on `line`).
fn next_token(text: &str, from: usize, line: usize) -> NextToken {
    let mut line_no = line;
    let rest = &text[from..];
    let mut lines = rest.split_inclusive('\n');
    // The rest of the comment's own line.
    lines.next();
    for l in lines {
        line_no += 1;
        let content = l.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let column = content.chars().count() - trimmed.chars().count();
        let marker = column == 0
            && (trimmed.starts_with("---") || trimmed.starts_with("..."))
            && trimmed[3..].chars().next().is_none_or(|c| c == ' ' || c == '\t');
        if marker {
            // ksec writes the `sops:` key right before the marker.
            return NextToken {
                place: After {
                    line: line_no,
                    column: 0,
                },
                is_entry: false,
            };
        }
        let is_entry = trimmed.starts_with('-') && trimmed[1..].chars().next().is_none_or(|c| c == ' ' || c == '\t');
        return NextToken {
            place: After { line: line_no, column },
            is_entry,
        };
    }
    // The text ends: what follows in the file ksec writes is the `sops:` key.
    NextToken {
        place: After {
            line: line_no + 1,
            column: 0,
        },
        is_entry: false,
    }
}

/// The first key written twice in a mapping (sorting beats hashing every key here).
fn duplicate_key(m: &Mapping) -> Option<&str> {
    let mut keys: Vec<&str> = m.entries().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

/// Where a message points: a line, and a column (1-based) when known.
#[derive(Debug, Clone, Copy)]
struct At {
    line: usize,
    column: Option<usize>,
}

impl At {
    /// At a 0-based column.
    fn new(line: usize, column: usize) -> At {
        At {
            line,
            column: Some(column + 1),
        }
    }
}

/// Where a token starts.
fn place(span: &GranitSpan) -> At {
    At::new(span.start.line(), span.start.col())
}

/// Where a node's tag starts, for messages about the tag.
fn tag_place(span: &GranitSpan) -> At {
    let marker = span.tag_start.as_ref().unwrap_or(&span.start);
    At::new(marker.line(), marker.col())
}

/// A tag as resolved from its handle, e.g. `tag:yaml.org,2002:str` or `!custom`.
fn full_tag(tag: &Tag) -> String {
    format!("{}{}", tag.handle(), tag.suffix())
}

fn is_str_tag(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.handle() == "tag:yaml.org,2002:" && t.suffix() == "str")
}

fn offset(marker: &granit_parser::Marker) -> usize {
    marker.byte_offset().expect("string input has byte offsets")
}

/// A comment trailing a flow collection (`key: [a, b] # note`) is that collection's in go-yaml,
/// and sops files it as the collection's first item (its AAD is the collection's path); it is
/// still written where it stands. Gives the comment back when the trailed node is no flow
/// collection.
fn put_in_flow_collection(trailed: Option<&mut Node>, comment: Comment) -> Option<Comment> {
    match trailed {
        Some(Node::Mapping(m)) if m.flow => m.items.insert(0, MappingItem::Comment(comment)),
        Some(Node::Sequence(s)) if s.flow => s.items.insert(0, SequenceItem::Comment(comment)),
        _ => return Some(comment),
    }
    None
}

fn comment_origin(start: usize, end: usize, trailing: bool) -> Origin {
    Origin {
        span: Span::new(start, end),
        style: if trailing {
            ScalarStyle::TrailingComment
        } else {
            ScalarStyle::Comment
        },
        in_flow: false,
        parent_column: 0,
        in_sequence: false,
        content_column: 0,
        block_header: None,
    }
}

fn push_comment(kind: &mut FrameKind, comment: Comment) {
    match kind {
        FrameKind::Mapping(m) => m.items.push(MappingItem::Comment(comment)),
        FrameKind::Sequence(s) => s.items.push(SequenceItem::Comment(comment)),
    }
}

fn flush_deferred(frame: &mut Frame) {
    for c in frame.deferred.drain(..) {
        match &mut frame.kind {
            FrameKind::Mapping(m) => m.items.push(MappingItem::Comment(c)),
            FrameKind::Sequence(s) => s.items.push(SequenceItem::Comment(c)),
        }
    }
}

/// End of a block scalar's last content line (before its line break), leaving out the
/// trailing empty lines and the next line's indentation that granit includes in the span. A
/// line is content when it has anything beyond `indent` spaces (a tab counts).
fn block_core_end(text: &str, start: usize, end: usize, indent: usize) -> usize {
    let body = &text[start..end];
    let mut core_end = 0;
    let mut line_begin = 0;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        // The first line's indentation is before `start`.
        let spaces = content.len() - content.trim_start_matches(' ').len();
        let has_content = content.len() > spaces || (i > 0 && spaces > indent);
        if has_content {
            core_end = start + line_begin + content.len();
        }
        line_begin += line.len();
    }
    core_end
}

/// The digit of a block header such as `|2-` or `>+4`.
fn indentation_indicator(header: &str) -> Option<usize> {
    header.chars().find_map(|c| c.to_digit(10)).map(|d| d as usize)
}

/// The indentation of a block scalar's first line with content.
fn first_content_column(body: &str) -> usize {
    body.lines()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.chars().take_while(|&c| c == ' ').count())
}

/// The header indicators starting at `from` (`|`, `>`, chomping and indentation digits) and the
/// line break that ends the header line, before `content`.
fn block_header(text: &str, from: usize, content: usize) -> BlockHeader {
    let bytes = text.as_bytes();
    let mut end = from;
    while end < content
        && matches!(
            (end == from, bytes[end]),
            (true, b'|' | b'>') | (false, b'+' | b'-' | b'0'..=b'9')
        )
    {
        end += 1;
    }
    let body_start = text[end..content].find(['\r', '\n']).map_or(content, |i| end + i);
    BlockHeader {
        indicators: Span::new(from, end),
        body_start,
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// The end of the line containing `at - 1`, including its line break.
fn line_end(text: &str, at: usize) -> usize {
    if at > 0 && text.as_bytes().get(at - 1) == Some(&b'\n') {
        return at;
    }
    text[at..].find('\n').map(|i| at + i + 1).unwrap_or(text.len())
}

/// A copy of an anchored node, without source positions (they belong to the anchor).
fn detach(node: Node) -> Node {
    match node {
        Node::Scalar(mut s) => {
            s.origin = None;
            s.modified = false;
            Node::Scalar(s)
        }
        Node::Mapping(m) => Node::Mapping(Mapping {
            items: m
                .items
                .into_iter()
                .filter_map(|item| match item {
                    MappingItem::Entry(e) => Some(MappingItem::Entry(Entry::new(e.key, detach(e.value)))),
                    MappingItem::Comment(_) => None,
                })
                .collect(),
            ..Mapping::default()
        }),
        Node::Sequence(s) => Node::Sequence(Sequence {
            items: s
                .items
                .into_iter()
                .filter_map(|item| match item {
                    SequenceItem::Node(n) => Some(SequenceItem::Node(detach(n))),
                    SequenceItem::Comment(_) => None,
                })
                .collect(),
            flow: false,
            span: None,
            alias: None,
        }),
    }
}

/// `node` with every position in it moved `by` bytes further into the text: a copy of a block
/// read `by` bytes earlier, as if read where the copy stands. (Mappings from text have no
/// removed lines yet.)
fn moved(node: Node, by: usize) -> Node {
    let span = |s: Span| Span::new(s.start + by, s.end + by);
    let origin = |o: Origin| Origin {
        span: span(o.span),
        block_header: o.block_header.map(|h| BlockHeader {
            indicators: span(h.indicators),
            body_start: h.body_start + by,
        }),
        ..o
    };
    let comment = |mut c: Comment| {
        c.origin = c.origin.map(origin);
        c
    };
    match node {
        Node::Scalar(mut s) => {
            s.origin = s.origin.map(origin);
            Node::Scalar(s)
        }
        Node::Mapping(m) => Node::Mapping(Mapping {
            items: m
                .items
                .into_iter()
                .map(|item| match item {
                    MappingItem::Entry(e) => MappingItem::Entry(Entry {
                        key: e.key,
                        value: moved(e.value, by),
                        span: e.span.map(span),
                    }),
                    MappingItem::Comment(c) => MappingItem::Comment(comment(c)),
                })
                .collect(),
            span: m.span.map(span),
            alias: m.alias.map(|o| Box::new(origin(*o))),
            ..m
        }),
        Node::Sequence(s) => Node::Sequence(Sequence {
            items: s
                .items
                .into_iter()
                .map(|item| match item {
                    SequenceItem::Node(n) => SequenceItem::Node(moved(n, by)),
                    SequenceItem::Comment(c) => SequenceItem::Comment(comment(c)),
                })
                .collect(),
            span: s.span.map(span),
            alias: s.alias.map(|o| Box::new(origin(*o))),
            ..s
        }),
    }
}

/// Marks an alias expansion with the `*name` token it replaces.
fn mark_alias(node: Node, origin: Origin) -> Node {
    match node {
        Node::Scalar(mut s) => {
            s.origin = Some(origin);
            Node::Scalar(s)
        }
        Node::Mapping(mut m) => {
            m.alias = Some(Box::new(origin));
            Node::Mapping(m)
        }
        Node::Sequence(mut s) => {
            s.alias = Some(Box::new(origin));
            Node::Sequence(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Tree<Parsed> {
        parse(text.as_bytes(), "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn keys(m: &Mapping) -> Vec<&str> {
        m.entries().map(|e| e.key.as_str()).collect()
    }

    /// Handed-over bytes become the tree's source text as they are (no second copy of a large
    /// file), and read as lent bytes do.
    #[test]
    fn given_bytes_become_the_source_text_without_a_copy() {
        let text = "# head\nkind: Secret\r\ndata:\r\n  a: YQ== # note\r\n";
        let given = Zeroizing::new(text.as_bytes().to_vec());
        let buffer = given.as_ptr();
        let tree = parse(given, "t.yaml").expect("valid YAML");
        let source = tree.source.as_ref().expect("a YAML tree keeps its text");
        assert_eq!(source.text.as_ptr(), buffer);
        assert_eq!(source.newline, "\r\n");
        let lent = parse_text(text);
        assert_eq!(format!("{:?}", tree.documents), format!("{:?}", lent.documents));

        let invalid = Zeroizing::new(b"a: \xff\n".to_vec());
        match parse(invalid, "t.yaml") {
            Err(FormatError::NotText { valid_up_to: 3, .. }) => {}
            other => panic!("expected NotText at byte 3, got {other:?}"),
        }
    }

    fn scalar<'t>(m: &'t Mapping, key: &str) -> &'t Scalar {
        match m.get(key) {
            Some(Node::Scalar(s)) => s,
            other => panic!("{key}: not a scalar: {other:?}"),
        }
    }

    /// The documents as read with every `sops` block read in full.
    fn read_every_copy(text: &str) -> String {
        format!(
            "{:?}",
            read(text, "t.yaml", &[], Scan::Here)
                .unwrap_or_else(|e| panic!("{e}"))
                .0
        )
    }

    /// Streams built from sops's files, whose documents repeat the file's `sops` block.
    fn streams_repeating_a_block() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/sops-upstream");
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("generated-by-sops-3.11.0"))
            .expect("the shared vectors")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".enc.yaml"))
            .collect();
        files.sort();
        files.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/secret.enc.yaml"));
        let mut streams = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a vector");
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let Some(at) = text.rfind("\nsops:\n").map(|i| i + 1) else {
                continue;
            };
            let (content, block) = text.split_at(at);
            streams.push((format!("{name} as it is"), text.clone()));
            let stream = format!("{content}{block}---\n{content}{block}---\n# a comment\nother: 1\n{block}");
            streams.push((format!("{name}, three documents"), stream.clone()));
            streams.push((format!("{name}, CRLF"), stream.replace('\n', "\r\n")));
            streams.push((
                format!("{name}, flat documents"),
                format!("x: 1\n{block}---\ny: 2\n{block}"),
            ));
            streams.push((
                format!("{name}, explicit ends"),
                format!("{content}{block}...\n---\n{content}{block}...\n"),
            ));
        }
        streams
    }

    /// A stream of `copies` documents using what the builder handles: comments in every place,
    /// anchors and aliases, flow and block collections, block and quoted scalars.
    fn varied_stream(copies: usize) -> String {
        (0..copies)
            .map(|i| {
                format!(
                    "# head {i}\napiVersion: v1   # trailing\nkind: Secret\nmetadata:\n  name: s{i}\n  \
                     labels: {{app: web, tier: \"back\"}}\n  base: &a{i}\n    x: {i}\n  copy: *a{i}\ndata:\n  \
                     # own-line comment\n  k{i}: dmFsdWU=\n  list:\n    - one\n    - {{a: 1}}   # trail\n    \
                     - - nested\n  folded: >\n    some folded\n    text\n  literal: |-\n    line one\n    \
                     line two\n  quoted: \"esc\\tape \\u00e9 {i}\"\n  single: 'it''s'\n  empty:\n  n: 0x1F\n"
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
    }

    /// Reads `text` with the scanner on this thread and beside it: the documents, or the error,
    /// must be the same.
    fn same_both_ways(name: &str, text: &str) -> Result<String, String> {
        let read = |scan| {
            read_documents_scanning(text, "t.yaml", scan)
                .map(|d| format!("{d:?}"))
                .map_err(|e| e.to_string())
        };
        let here = read(Scan::Here);
        assert_eq!(read(Scan::Beside), here, "{name}: read beside the scanner differs");
        here
    }

    #[test]
    fn scanning_beside_builds_what_scanning_here_builds() {
        let varied = varied_stream(300);
        assert!(varied.len() > 2 * SCAN_BESIDE_FROM);
        same_both_ways("varied", &varied).expect("the varied stream is valid YAML");
        for (name, stream) in streams_repeating_a_block() {
            let copies = SCAN_BESIDE_FROM / stream.len() + 2;
            let long = vec![stream.as_str(); copies].join("---\n");
            same_both_ways(&name, &long).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Cut anywhere, the text ends inside a token, a collection or a document: errors (from
        // the scanner or from the builder) and partial reads agree too.
        for cut in (1..64).map(|k| varied.len() * k / 64) {
            let at = (0..=cut).rev().find(|&i| varied.is_char_boundary(i)).unwrap();
            let _ = same_both_ways(&format!("cut at {at}"), &varied[..at]);
        }
    }

    #[test]
    fn an_error_early_in_a_long_text_stops_both_sides() {
        let rest = varied_stream(300);
        for (what, head, expected) in [
            ("a duplicate key", "a: 1\na: 2\n---\n", "duplicate key a"),
            (
                "an unclosed flow mapping",
                "a: {b: 1\n---\n",
                "unclosed bracket '{' at line 1 column 4",
            ),
            (
                "an alias to nothing",
                "a: *nothing\n---\n",
                "unknown anchor at line 1 column 4",
            ),
        ] {
            let text = format!("{head}{rest}");
            let error = same_both_ways(what, &text).expect_err(what);
            assert!(error.contains(expected), "{what}: {error}");
        }
        let text = format!("{rest}---\nlast: [unclosed\n");
        same_both_ways("an error at the end", &text).expect_err("an unclosed flow sequence");
    }

    #[test]
    fn a_repeated_sops_block_read_once_gives_the_documents_read_in_full() {
        let mut read_once = 0;
        for (name, text) in streams_repeating_a_block() {
            let repeats = repeats::find(&text);
            let expected = read_every_copy(&text);
            if repeats.is_empty() {
                continue;
            }
            let (documents, every_repeat_read) =
                read(&text, "t.yaml", &repeats, Scan::Here).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(every_repeat_read, "{name}: a repeat was not read");
            assert_eq!(format!("{documents:?}"), expected, "{name}");
            assert_eq!(format!("{:?}", parse_text(&text).documents), expected, "{name}");
            read_once += 1;
        }
        assert!(read_once >= 30, "only {read_once} streams had repeats");
    }

    /// Lines a document may hold, some of them close to what `repeats::find` looks for: a
    /// `sops:` inside a block scalar or a quoted string, a marker-like line, comments.
    const BODY_LINES: &[&str] = &[
        "a: 1",
        "b: \"two\"",
        "c:\n  d: 3\n  e: [4, 5]",
        "f: |\n  sops:\n  ---x",
        "g: 'x\n  sops:'",
        "# sops:",
        "h:\n  - i\n  - j: k",
        "l: {m: n}",
        "",
        "o: >-\n  p\n\n  q",
    ];

    /// `sops` blocks, the first with a comment and nested lists, one with trailing blank lines.
    const BLOCKS: &[&str] = &[
        "sops:\n    age:\n        - recipient: age1x\n          enc: |\n            abc\n    # note\n    version: 3.11.0\n",
        "sops:\n  version: 3.11.0\n\n",
        "sops:\n    kms: []\n    mac: ENC[x]\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any stream of such documents reads the same with repeated blocks read once.
        #[test]
        fn streams_read_the_same_with_repeated_blocks_read_once(
            docs in proptest::collection::vec(
                (proptest::collection::vec(0..BODY_LINES.len(), 0..5), 0..BLOCKS.len(), proptest::bool::ANY),
                1..6,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            for (i, (lines, block, explicit_end)) in docs.iter().enumerate() {
                if i > 0 {
                    text.push_str("---\n");
                }
                for &line in lines {
                    text.push_str(BODY_LINES[line]);
                    text.push('\n');
                }
                text.push_str(BLOCKS[*block]);
                if *explicit_end {
                    text.push_str("...\n");
                }
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            let full = read(&text, "t.yaml", &[], Scan::Here).map(|(documents, _)| format!("{documents:?}"));
            let once = parse(text.as_bytes(), "t.yaml").map(|tree| format!("{:?}", tree.documents));
            let repeats = repeats::find(&text);
            if full.is_ok() && !repeats.is_empty() {
                // A valid stream never falls back to the full parse.
                let read_once = read(&text, "t.yaml", &repeats, Scan::Here);
                proptest::prop_assert!(matches!(read_once, Ok((_, true))), "{:?}", read_once.err());
            }
            match (full, once) {
                (Ok(full), Ok(once)) => proptest::prop_assert_eq!(full, once),
                (Err(full), Err(once)) => proptest::prop_assert_eq!(full.to_string(), once.to_string()),
                (full, once) => proptest::prop_assert!(false, "{:?} / {:?}", full.err(), once.err()),
            }
        }
    }

    #[test]
    fn a_stream_with_repeats_reports_the_same_error_as_without() {
        let block = "sops:\n    version: 3.11.0\n";
        for bad in ["  a: 1\nb: [\n", "a: 1\na: 2\n", "a: {b: 1\n"] {
            let text = format!("x: 1\n{block}---\n{bad}{block}---\ny: 1\n{block}");
            assert!(!repeats::find(&text).is_empty(), "{bad}");
            let with = parse(text.as_bytes(), "t.yaml")
                .expect_err("a syntax error")
                .to_string();
            let without = read(&text, "t.yaml", &[], Scan::Here)
                .expect_err("a syntax error")
                .to_string();
            assert_eq!(with, without, "{bad}");
        }
    }

    #[test]
    fn keys_keep_their_order_and_plain_scalars_get_sops_types() {
        let tree = parse_text("zeta: 1\nalpha: true\nmid: 1.5\nstr: '1'\nwhen: 2024-01-01\nnone:\n");
        let root = &tree.documents[0].root;
        assert_eq!(keys(root), ["zeta", "alpha", "mid", "str", "when", "none"]);
        assert!(matches!(scalar(root, "zeta").value, Value::Int(1)));
        assert!(matches!(scalar(root, "alpha").value, Value::Bool(true)));
        assert!(matches!(scalar(root, "mid").value, Value::Float(f) if f == 1.5));
        assert_eq!(scalar(root, "str").value.as_str(), Some("1"));
        assert!(matches!(scalar(root, "when").value, Value::Time(_)));
        assert!(matches!(scalar(root, "none").value, Value::Null));
    }

    #[test]
    fn every_document_of_a_stream_is_its_own_document_with_its_own_sops_block() {
        let text = "a: 1\nsops:\n    version: 3.11.0\n---\nb: 2\nsops:\n    version: 3.11.0\n";
        let tree = parse_text(text);
        assert_eq!(tree.documents.len(), 2);
        for (doc, key) in tree.documents.iter().zip(["a", "b"]) {
            assert_eq!(keys(&doc.root), [key], "the sops entry is split off the root");
            assert!(doc.metadata.is_some());
            let span = doc
                .layout
                .as_ref()
                .and_then(|l| l.metadata_span)
                .expect("metadata span");
            assert!(text[span.start..span.end].starts_with("sops:\n"), "{span:?}");
        }
    }

    #[test]
    fn a_scalar_span_covers_exactly_its_text() {
        let text = "k: \"quoted value\"\nb: |\n  line\n";
        let tree = parse_text(text);
        let root = &tree.documents[0].root;
        let quoted = scalar(root, "k").origin.expect("origin");
        assert_eq!(&text[quoted.span.start..quoted.span.end], "\"quoted value\"");
        assert!(matches!(quoted.style, ScalarStyle::DoubleQuoted));
        let block = scalar(root, "b");
        assert_eq!(block.value.as_str(), Some("line\n"));
        assert!(block.origin.expect("origin").block_header.is_some());
    }

    #[test]
    fn comments_are_items_of_their_container() {
        let tree = parse_text("# top\na:\n  # inside a\n  b: 1\n");
        let root = &tree.documents[0].root;
        assert!(matches!(&root.items[0], MappingItem::Comment(c) if c.text.as_str() == " top"));
        let Some(Node::Mapping(a)) = root.get("a") else {
            panic!("a is a mapping")
        };
        assert!(matches!(&a.items[0], MappingItem::Comment(c) if c.text.as_str() == " inside a"));
    }

    #[test]
    fn crlf_text_is_recorded_as_such() {
        let tree = parse_text("a: 1\r\nb: 2\r\n");
        assert_eq!(tree.source.as_ref().expect("source").newline, "\r\n");
        assert_eq!(keys(&tree.documents[0].root), ["a", "b"]);
    }

    /// Found by the yaml fuzz target: after a byte order mark the header was not found, the
    /// text was taken for the header and sliced inside a character (a panic).
    #[test]
    fn a_block_scalar_after_a_byte_order_mark_is_read() {
        let error = parse("\u{FEFF}|\n é\n".as_bytes(), "s.yaml").expect_err("a document that is a value");
        assert!(error.to_string().contains("documents that are values"), "{error}");
        let tree = parse_text("\u{FEFF}a: |-\n  |+\nb: 1\n");
        assert_eq!(scalar(&tree.documents[0].root, "a").value, Value::str("|+"));
        assert_eq!(keys(&tree.documents[0].root), ["a", "b"]);
    }

    /// Found by the yaml fuzz target: the `sops` block is written anew at the end, without
    /// its anchors, so an alias after it to one of them made a file that did not read back.
    #[test]
    fn an_alias_to_an_anchor_inside_the_sops_block_is_refused_after_it() {
        match parse(b"sops:\n  k: &a {x: 1}\na: *a\n", "s.yaml") {
            Err(FormatError::Unsupported {
                line, column, reason, ..
            }) => {
                assert_eq!((line, column), (Some(3), Some(4)));
                assert!(reason.contains("inside the sops block"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // Within the block, or from the block to the document, aliases are fine.
        for text in ["sops:\n  k: &a 1\n  j: *a\na: 1\n", "a: &a 1\nsops:\n  k: *a\n"] {
            let tree = parse_text(text);
            assert!(tree.documents[0].metadata.is_some(), "{text:?}");
        }
    }

    /// Found with the test above: go-yaml refuses a repeated key, and the first block's text
    /// stayed in the file beside the block written anew.
    #[test]
    fn a_repeated_sops_key_is_refused() {
        let error = parse(b"sops: 1\nsops: 2\na: 1\n", "s.yaml").expect_err("a repeated key");
        assert!(matches!(error, FormatError::RepeatedMetadataKey { .. }), "{error:?}");
    }

    /// Found by the yaml fuzz target: with `\r` alone as the line break, the `sops` block's
    /// lines ran to the end of the text, and the entries after it were lost on writing.
    #[test]
    fn a_carriage_return_alone_is_refused_where_it_is() {
        for (text, line, column) in [
            ("sops: 1\ra: 1\n", 1, 8),
            ("a: 1\r\nb: 2\r\n# c\rd: 4\r\n", 3, 4),
            ("a: \"x\ry\"\n", 1, 6),
        ] {
            match parse(text.as_bytes(), "mac.yaml") {
                Err(FormatError::Unsupported {
                    file,
                    line: l,
                    column: c,
                    reason,
                }) => {
                    assert_eq!(
                        (file.as_str(), l, c),
                        ("mac.yaml", Some(line), Some(column)),
                        "{text:?}"
                    );
                    assert!(reason.contains("carriage return"), "{reason}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_file_and_the_line_but_not_the_text() {
        let error = parse(b"ok: 1\nbad: [unclosed, hunter2\n", "s.yaml").expect_err("a syntax error");
        let message = error.to_string();
        assert!(message.contains("s.yaml") && message.contains("line"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn invalid_utf8_is_refused_with_its_offset() {
        let error = parse(b"a: \xff\n", "s.yaml").expect_err("not UTF-8");
        assert!(error.to_string().contains("byte 3"), "{error}");
    }

    /// Nine anchors of nine aliases each: 342 bytes that expand to 9^9 values.
    const BILLION_LAUGHS: &str = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
";

    /// Each map's two values alias the previous map: the work doubles with every line.
    fn doubling_aliases(lines: usize) -> String {
        let mut text = String::from("a0: &a0 {x: s, y: s}\n");
        for i in 1..lines {
            text.push_str(&format!("a{i}: &a{i} {{x: *a{p}, y: *a{p}}}\n", p = i - 1));
        }
        text
    }

    fn refusal(text: &str) -> FormatError {
        parse(text.as_bytes(), "bomb.yaml").expect_err("refused")
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_expands_naming_the_alias_and_the_limit() {
        let error = refusal(BILLION_LAUGHS);
        let FormatError::ExcessiveAliasing {
            line, column, limit, ..
        } = &error
        else {
            panic!("{error:?}")
        };
        // The first alias that tips the share over go-yaml's 99%, in the fourth anchor.
        assert_eq!((*line, *column), (4, 17), "{error}");
        assert!(matches!(limit, AliasLimit::Ratio { .. }), "{limit:?}");
        let message = error.to_string();
        assert!(message.contains("bomb.yaml") && message.contains("99%"), "{message}");
        assert!(error.is_limit());
        let error = refusal(&doubling_aliases(15));
        assert!(
            matches!(error, FormatError::ExcessiveAliasing { line: 10, .. }),
            "{error}"
        );
    }

    #[test]
    fn aliases_as_real_files_use_them_are_read() {
        // A block of defaults merged into many places, as in compose files and Helm values.
        let mut text = String::from("defaults: &defaults\n");
        for i in 0..50 {
            text.push_str(&format!("  key{i}: value{i}\n"));
        }
        for i in 0..200 {
            text.push_str(&format!("service{i}:\n  settings: *defaults\n  name: s{i}\n"));
        }
        let tree = parse_text(&text);
        assert_eq!(tree.documents[0].root.entries().count(), 201);
        // go-yaml's floor: up to 1000 nodes, anything goes.
        parse_text(&doubling_aliases(8));
    }

    #[test]
    fn copies_of_nested_anchors_are_bounded_even_without_aliases() {
        // Each anchor keeps a copy of what it encloses: 128 levels of anchors around a long
        // list would copy it 128 times.
        let mut text = String::from("k: ");
        for i in 0..100 {
            text.push_str(&format!("&a{i} ["));
        }
        text.push_str(&vec!["1"; 20_000].join(","));
        text.push_str(&"]".repeat(100));
        text.push('\n');
        let error = refusal(&text);
        assert!(
            matches!(
                error,
                FormatError::ExcessiveAliasing {
                    limit: AliasLimit::CopiedNodes { .. },
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn aliased_text_is_bounded_where_go_would_share_it() {
        let big = "x".repeat(1 << 20);
        let mut text = format!("a: &a {big}\nl:\n");
        for _ in 0..20 {
            text.push_str("- *a\n");
        }
        let error = refusal(&text);
        assert!(
            matches!(
                error,
                FormatError::ExcessiveAliasing {
                    limit: AliasLimit::CopiedBytes { .. },
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn nesting_is_limited_as_in_json_counting_what_aliases_add() {
        let nested = |levels: usize| format!("k: {}{}\n", "[".repeat(levels - 1), "]".repeat(levels - 1));
        parse_text(&nested(MAX_DEPTH));
        let error = refusal(&nested(MAX_DEPTH + 1));
        let message = error.to_string();
        assert!(
            matches!(
                error,
                FormatError::TooDeep {
                    line: Some(1),
                    column: Some(131),
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            message.contains("bomb.yaml") && message.contains("128 levels"),
            "{message}"
        );
        // 100 levels, then an alias of 100 levels inside 100 more.
        let deep = format!(
            "a: &a {}{}\nb: {}*a{}\n",
            "[".repeat(99),
            "]".repeat(99),
            "[".repeat(99),
            "]".repeat(99)
        );
        let error = refusal(&deep);
        assert!(matches!(error, FormatError::TooDeep { line: Some(2), .. }), "{error:?}");
        // Deeper still, granit's scanner (looking ahead) meets its own limit first: the same
        // refusal.
        let error = refusal(&nested(5000));
        assert!(
            matches!(error, FormatError::TooDeep { limit: MAX_DEPTH, .. }),
            "{error:?}"
        );
        // Block nesting counts the same.
        let block: String = (0..=MAX_DEPTH).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(matches!(
            refusal(&format!("{block}x: 1\n")),
            FormatError::TooDeep { .. }
        ));
    }

    #[test]
    fn tags_sops_would_drop_are_refused_where_they_are_written() {
        for (text, place, what) in [
            (
                "a: 1\nk: !custom value\n",
                "line 2, column 4",
                "the tag !custom is not supported",
            ),
            (
                "k: !!binary aGVsbG8=\n",
                "line 1, column 4",
                "!!binary text is not supported",
            ),
            (
                "k: !!set {a: null}\n",
                "line 1, column 4",
                "the tag !!set is not supported",
            ),
            (
                "k:\n  - !!omap [a: 1]\n",
                "line 2, column 5",
                "the tag !!omap is not supported",
            ),
            ("!local key: 1\n", "line 1, column 1", "the tag !local is not supported"),
            ("k: ! 12\n", "line 1, column 4", "the tag ! is not supported"),
            ("k: !!merge x\n", "line 1, column 4", "the tag !!merge is not supported"),
        ] {
            let error = refusal(text);
            let message = error.to_string();
            assert!(matches!(error, FormatError::Unsupported { .. }), "{text}: {error:?}");
            assert!(message.contains(place) && message.contains(what), "{text}: {message}");
        }
    }

    #[test]
    fn tags_whose_value_round_trips_are_read() {
        let tree = parse_text(
            "s: !!str 123\ni: !!int \"12\"\nb: !!bool true\nf: !!float 1\nn: !!null ~\n\
             t: !!timestamp 2024-01-01\nm: !!map {a: 1}\nq: !!seq [1]\nbytes: !!binary /w==\n!!merge <<: x\n",
        );
        let root = &tree.documents[0].root;
        assert_eq!(scalar(root, "s").value.as_str(), Some("123"));
        assert!(matches!(scalar(root, "i").value, Value::Int(12)));
        assert!(matches!(scalar(root, "bytes").value, Value::Bytes(_)));
        assert_eq!(scalar(root, "<<").value.as_str(), Some("x"));
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_unsupported() {
        for text in ["- a\n- b\n", "just text\n"] {
            let error = parse(text.as_bytes(), "s.yaml").expect_err(text);
            assert!(matches!(error, FormatError::Unsupported { .. }), "{text}: {error:?}");
        }
    }
}
