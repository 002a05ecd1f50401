//! [`Tree`] → YAML text.
//!
//! When the tree was parsed from text, the output is that text with only the changed scalars
//! and comments rewritten, the old `sops` block removed and the new one appended: indentation,
//! quoting, block scalars, blank lines, document markers and comments stay exactly as written.
//! Trees without source text (conversions, the metadata block) are written the way go-yaml v3
//! writes them for sops: block style, sequences indented under their key, comments above keys.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::render::{self, Context, Style};
use super::resolve;
use crate::formats::FormatError;
use crate::tree::{
    Comment, Document, Mapping, MappingItem, Node, Origin, Scalar, ScalarStyle, Sequence, SequenceItem, Source, Span,
    State, Tree, Value,
};

/// The default indentation step sops uses for YAML (`stores.yaml.indent`).
pub const DEFAULT_INDENT: usize = 4;

/// Output settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmitOptions {
    /// Indentation step for text ksec writes from scratch; `None` means the document's own
    /// step when it has one, else 4.
    pub indent: Option<usize>,
}

/// Writes a tree as YAML.
pub fn emit<S: State>(tree: &Tree<S>, mut options: EmitOptions) -> Result<Vec<u8>, FormatError> {
    // An indent of 0 cannot nest anything: it means the default.
    options.indent = options.indent.filter(|&n| n > 0).map(go_yaml_step);
    let canonical_indent = options.indent.unwrap_or(DEFAULT_INDENT);
    let mut out = String::new();
    match &tree.source {
        Some(source) => {
            let mut patches = Vec::new();
            let mut last_block = LastBlock::default();
            for doc in &tree.documents {
                document_patches::<S>(
                    doc,
                    source,
                    canonical_indent,
                    options.indent,
                    &mut last_block,
                    &mut patches,
                );
            }
            apply(&source.text, patches, &mut out);
        }
        None => {
            for (i, doc) in tree.documents.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                fresh_document(doc, canonical_indent, "\n", &mut out);
            }
        }
    }
    Ok(out.into_bytes())
}

/// The indentation step of text written from scratch, as go-yaml v3 takes it: 2 for anything
/// outside 2 to 9 (sops writes `stores.yaml.indent: 1` with 2). A document indented by one
/// space keeps its own lines, but new text steps by 2: one space cannot hold the value of an
/// explicit key (`? long key` then `: x: 1`).
fn go_yaml_step(indent: usize) -> usize {
    if (2..=9).contains(&indent) { indent } else { 2 }
}

/// A replacement of a source range: new text, or a value's own text borrowed from the tree (a
/// ciphertext as it is written, not copied: a 10 MiB value's was a fifth of the peak memory).
struct Patch<'t> {
    span: Span,
    text: Cow<'t, str>,
}

fn apply(source: &str, mut patches: Vec<Patch<'_>>, out: &mut String) {
    patches.sort_by_key(|p| (p.span.start, p.span.end));
    // A patch nested in an earlier one (an alias copy already rewritten) is dropped.
    let mut cursor = 0;
    patches.retain(|p| {
        let outside = p.span.start >= cursor;
        if outside {
            cursor = p.span.end;
        }
        outside
    });
    // The output's size, so its buffer is allocated once and not larger (ciphertext makes the
    // output of an encryption three times the input; doubling would leave it half empty).
    let size = patches.iter().fold(source.len(), |size, p| {
        size - (p.span.end - p.span.start) + p.text.len()
    });
    out.reserve(size);
    let mut cursor = 0;
    for p in patches {
        out.push_str(&source[cursor..p.span.start]);
        out.push_str(&p.text);
        cursor = p.span.end;
    }
    out.push_str(&source[cursor..]);
}

/// The `sops` block written last and what it was written from: every document of a stream
/// carries the same block, and writing it anew for each one was a quarter of the work of
/// encrypting a stream of 1,000 Secrets.
#[derive(Default)]
struct LastBlock<'t> {
    from: Option<(&'t Node, usize, usize)>,
    text: String,
}

impl<'t> LastBlock<'t> {
    /// The `sops:` entry for `meta` at `column`, stepping by `indent`.
    fn text(&mut self, meta: &'t Node, column: usize, indent: usize, newline: &str) -> String {
        if self.from != Some((meta, column, indent)) {
            self.text.clear();
            fresh_entry("sops", meta, column, indent, newline, &mut self.text);
            self.from = Some((meta, column, indent));
        }
        self.text.clone()
    }
}

fn document_patches<'t, S: State>(
    doc: &'t Document,
    source: &Source,
    canonical_indent: usize,
    requested_indent: Option<usize>,
    last_block: &mut LastBlock<'t>,
    patches: &mut Vec<Patch<'t>>,
) {
    let Some(layout) = &doc.layout else { return };
    let newline = source.newline;
    let indent = requested_indent
        .or(layout.indent.map(go_yaml_step))
        .unwrap_or(canonical_indent);
    if layout.rewrite {
        rewrite_document(doc, source, indent, false, patches);
        // Comments outside the rewritten span keep their place; patches inside it are
        // superseded by the rewrite.
        PatchWalker::<S> {
            source,
            canonical_indent,
            layout_indent: indent,
            patches,
            state: std::marker::PhantomData,
        }
        .mapping(&doc.root);
        return;
    }
    if !has_layout(&doc.root) {
        // Nodes were added by hand: the whole document is written from scratch.
        rewrite_document(doc, source, indent, true, patches);
        return;
    }
    let mut walker = PatchWalker::<S> {
        source,
        canonical_indent,
        layout_indent: indent,
        patches,
        state: std::marker::PhantomData,
    };
    walker.mapping(&doc.root);
    let metadata_text = doc.metadata.as_ref().map(|meta| {
        // Beside the document's own keys: a top-level mapping may be indented (`  a: 1`), and
        // a `sops:` at column 0 after it would not read back.
        let column = doc.root.column.unwrap_or(0);
        last_block.text(meta, column, indent, newline)
    });
    // A document that held nothing but its `sops` block is an empty mapping, as sops writes it.
    let only_metadata = doc.root.entries().next().is_none();
    match (layout.metadata_span, metadata_text) {
        (Some(span), None) if only_metadata => patches.push(Patch {
            span,
            text: format!("{{}}{newline}").into(),
        }),
        (Some(mut span), None) if span.end == source.text.len() && !source.text.ends_with('\n') => {
            // The block was appended to a text without a final line break (see below): take
            // the break that was added before it too.
            if source.text[..span.start].ends_with(newline) {
                span.start -= newline.len();
            }
            patches.push(Patch { span, text: "".into() });
        }
        (Some(span), text) => patches.push(Patch {
            span,
            text: text.unwrap_or_default().into(),
        }),
        (None, Some(mut text)) => {
            let at = layout.append_at;
            let before = &source.text[..at];
            if !before.is_empty() && !before.ends_with('\n') {
                // A text without a final line break keeps lacking one, so that decryption
                // gives back exactly the input.
                text.insert_str(0, newline);
                if at == source.text.len() && text.ends_with(newline) {
                    text.truncate(text.len() - newline.len());
                }
            }
            patches.push(Patch {
                span: Span::new(at, at),
                text: text.into(),
            });
        }
        (None, None) => {}
    }
}

/// Whether the mapping came from text (a hand-built tree has no positions to patch).
fn has_layout(root: &Mapping) -> bool {
    if root.column.is_some() {
        return true;
    }
    root.items.iter().all(|item| match item {
        MappingItem::Entry(e) => node_has_layout(&e.value),
        MappingItem::Comment(c) => c.origin.is_some(),
    })
}

fn node_has_layout(node: &Node) -> bool {
    match node {
        Node::Scalar(s) => s.origin.is_some() || !s.modified,
        // A block mapping takes new entries, and rewrites entries whose value lost its layout.
        Node::Mapping(m) if m.column.is_some() && m.alias.is_none() => m.span.is_some(),
        Node::Mapping(m) => m.alias.is_some() || m.span.is_some() && has_layout(m),
        Node::Sequence(s) => {
            s.alias.is_some()
                || s.span.is_some()
                    && s.items.iter().all(|item| match item {
                        SequenceItem::Node(n) => node_has_layout(n),
                        SequenceItem::Comment(c) => c.origin.is_some(),
                    })
        }
    }
}

/// Writes a document's mapping from scratch over its layout span: a flow mapping at the top
/// (`{a: b}`), or nothing at all (an empty or comments-only document).
fn rewrite_document(doc: &Document, source: &Source, indent: usize, comments: bool, patches: &mut Vec<Patch<'_>>) {
    let Some(layout) = &doc.layout else { return };
    let newline = source.newline;
    let has_entries = doc.root.entries().next().is_some();
    let mut text = String::new();
    if has_entries || doc.metadata.is_some() {
        fresh_mapping_items(&doc.root, 0, indent, newline, comments, &mut text);
        if let Some(meta) = &doc.metadata {
            fresh_entry("sops", meta, 0, indent, newline, &mut text);
        }
    } else if layout.span.end > layout.span.start {
        // An empty flow mapping stays one.
        text.push_str("{}");
    }
    if text.is_empty() {
        return;
    }
    let at = layout.span.start;
    let starts_line = at == 0 || source.text.as_bytes()[at - 1] == b'\n';
    if !starts_line {
        text.insert_str(0, newline);
    }
    // A line break right after the span ends the rewritten text's last line in its place
    // (and is read as the last line break of a block scalar that ends the text). Without one,
    // the text keeps its own: at the end of the file, the value of a block scalar that ends
    // the text (`|+` after a string ending in line breaks) needs it.
    let rest = &source.text[layout.span.end..];
    if text.ends_with(newline) && rest.starts_with(['\n', '\r']) {
        text.truncate(text.len() - newline.len());
    }
    patches.push(Patch {
        span: layout.span,
        text: text.into(),
    });
}

struct PatchWalker<'a, 't, S> {
    source: &'a Source,
    canonical_indent: usize,
    /// The document's own indentation step, for entries written from scratch.
    layout_indent: usize,
    patches: &'a mut Vec<Patch<'t>>,
    state: std::marker::PhantomData<S>,
}

impl<'t, S: State> PatchWalker<'_, 't, S> {
    fn mapping(&mut self, m: &'t Mapping) {
        for span in &m.removed {
            self.patches.push(Patch {
                span: *span,
                text: "".into(),
            });
        }
        // New entries go after the entry before them (or before the first one).
        let mut cursor = m.items.iter().find_map(|item| match item {
            MappingItem::Entry(e) => e.span.map(|s| s.start),
            MappingItem::Comment(_) => None,
        });
        for item in &m.items {
            match item {
                MappingItem::Entry(e) => match (e.span, m.column) {
                    (Some(span), _) if node_has_layout(&e.value) => {
                        self.node(&e.value);
                        cursor = Some(span.end);
                    }
                    (Some(span), Some(column)) => {
                        // The value's shape changed (a scalar became a mapping): a new entry.
                        let text = self.fresh_entry(&e.key, &e.value, column, span.start);
                        self.patches.push(Patch {
                            span,
                            text: text.into(),
                        });
                        cursor = Some(span.end);
                    }
                    (None, Some(column)) => {
                        let at = cursor.or(m.span.map(|s| s.end)).unwrap_or(0);
                        let text = self.fresh_entry(&e.key, &e.value, column, at);
                        self.patches.push(Patch {
                            span: Span::new(at, at),
                            text: text.into(),
                        });
                    }
                    _ => self.node(&e.value),
                },
                MappingItem::Comment(c) => self.comment(c),
            }
        }
    }

    /// An entry written from scratch at `column`, to go at `at` in the source.
    fn fresh_entry(&self, key: &str, value: &Node, column: usize, at: usize) -> String {
        let newline = self.source.newline;
        let mut text = String::new();
        if at > 0 && !self.source.text[..at].ends_with('\n') {
            text.push_str(newline);
        }
        fresh_entry(key, value, column, self.layout_indent, newline, &mut text);
        text
    }

    fn node(&mut self, node: &'t Node) {
        match node {
            Node::Scalar(s) => self.scalar(s),
            Node::Mapping(m) => match &m.alias {
                Some(origin) if mapping_modified(m) => self.alias_copy(node, origin),
                Some(_) => {}
                None => self.mapping(m),
            },
            Node::Sequence(s) => match &s.alias {
                Some(origin) if sequence_modified(s) => self.alias_copy(node, origin),
                Some(_) => {}
                None => {
                    for item in &s.items {
                        match item {
                            SequenceItem::Node(n) => self.node(n),
                            SequenceItem::Comment(c) => self.comment(c),
                        }
                    }
                }
            },
        }
    }

    /// An alias whose expansion changed is replaced by a flow copy of that expansion.
    fn alias_copy(&mut self, node: &Node, origin: &Origin) {
        let text = flow(node, S::ENCRYPTED);
        self.patches.push(Patch {
            span: origin.span,
            text: text.into(),
        });
    }

    fn scalar(&mut self, s: &'t Scalar) {
        if !s.modified {
            return;
        }
        let Some(origin) = &s.origin else { return };
        let text = if S::ENCRYPTED {
            self.ciphertext(&s.value, origin)
        } else {
            self.plaintext(&s.value, origin)
        };
        let span = self.keep_chomping_span(&s.value, &text, origin.span);
        let text = self.keep_chomping_text(&s.value, text, span);
        match origin.block_header {
            // Rewrite the header indicators and the body separately, so that a comment after
            // the header (`key: |  # note`) stays where it is.
            Some(header) => {
                let (head, body) = match text.find(['\r', '\n']) {
                    Some(i) if text.starts_with(['|', '>']) => {
                        (Cow::Owned(text[..i].to_string()), Cow::Owned(text[i..].to_string()))
                    }
                    _ => (text, Cow::Borrowed("")),
                };
                self.patches.push(Patch {
                    span: header.indicators,
                    text: head,
                });
                self.patches.push(Patch {
                    span: Span::new(header.body_start, span.end),
                    text: body,
                });
            }
            None => self.patches.push(Patch { span, text }),
        }
    }

    fn block_context(&self, origin: &Origin) -> Context<'static> {
        Context {
            in_flow: origin.in_flow,
            block_indent: 0,
            indent_indicator: 0,
            newline: "\n",
            faithful: false,
        }
    }

    /// An `ENC[...]` string written in the style the plaintext had, so decryption can restore it.
    fn ciphertext(&self, value: &'t Value, origin: &Origin) -> Cow<'t, str> {
        let newline = self.source.newline;
        let Some(s) = value.as_str() else {
            return render::canonical(value, &self.block_context(origin)).into();
        };
        // Only blocks need it: a scalar in a long flow line has a column as large as the line,
        // and spaces made for every such scalar would cost the square of the line's length.
        let indent = || " ".repeat(block_content_column(origin, self.canonical_indent));
        let text = match origin.style {
            ScalarStyle::SingleQuoted => format!("'{s}'"),
            ScalarStyle::DoubleQuoted if !origin.in_flow => format!("\"{s}\""),
            ScalarStyle::Literal if !origin.in_flow => format!("|-{newline}{}{s}", indent()),
            ScalarStyle::Folded if !origin.in_flow => format!(">-{newline}{}{s}", indent()),
            _ if origin.in_flow => format!("\"{s}\""),
            ScalarStyle::Plain if s.ends_with(",type:str]") && self.plain_string_would_be_quoted(origin) => {
                format!("!!str {s}")
            }
            ScalarStyle::PlainString => format!("!!str {s}"),
            ScalarStyle::DoubleQuotedEscaped => format!("!!str \"{s}\""),
            // The common case, a ciphertext written plain as sops writes it: the text itself.
            _ => return render::canonical_str_cow(s, &self.block_context(origin)),
        };
        Cow::Owned(text)
    }

    /// Whether a plain string as written (`y`, `on`, `1:20`) would come back quoted from
    /// go-yaml's rendering; its ciphertext then carries a `!!str` mark so it comes back plain.
    fn plain_string_would_be_quoted(&self, origin: &Origin) -> bool {
        let written = &self.source.text[origin.span.start..origin.span.end];
        // Text that is not plain here (an editing view quoted or tagged it; the file had it
        // plain) says nothing about how the plaintext was spelled.
        !written.starts_with(['"', '\'', '|', '>', '!', '&', '*'])
            && memchr::memchr2(b'\n', b'\r', written.as_bytes()).is_none()
            && !render::is_canonical_str(written, &self.block_context(origin))
    }

    /// A decrypted value, in the style its ciphertext was written in (a plain `ENC[...]`, as
    /// sops writes them, gives go-yaml v3's rendering).
    fn plaintext(&self, value: &'t Value, origin: &Origin) -> Cow<'t, str> {
        let best = self.canonical_indent;
        let canonical_block_indent = if origin.in_sequence {
            origin.parent_column + 2
        } else {
            best * ((origin.parent_column + best) / best)
        };
        let mut ctx = Context {
            in_flow: origin.in_flow,
            block_indent: canonical_block_indent,
            // go-yaml writes its indent step here, which is wrong (unreadable YAML) whenever the
            // content is not exactly one step in, as in sequences; ksec writes the true offset.
            indent_indicator: canonical_block_indent.saturating_sub(origin.parent_column).clamp(1, 9),
            newline: self.source.newline,
            faithful: false,
        };
        let Some(s) = value.as_str() else {
            return render::canonical(value, &ctx).into();
        };
        if origin.style == ScalarStyle::DoubleQuotedEscaped && !origin.in_flow {
            return render::double_quoted(s, false).into();
        }
        let explicit = match origin.style {
            ScalarStyle::PlainString => Some(Style::Plain),
            ScalarStyle::SingleQuoted => Some(Style::SingleQuoted),
            ScalarStyle::DoubleQuoted if !origin.in_flow => Some(Style::DoubleQuoted),
            ScalarStyle::Literal => Some(Style::Literal),
            ScalarStyle::Folded => Some(Style::Folded),
            _ => None,
        };
        match explicit {
            Some(style) => {
                ctx.faithful = true;
                if matches!(style, Style::Literal | Style::Folded) {
                    ctx.block_indent = block_content_column(origin, self.canonical_indent);
                    ctx.indent_indicator = ctx.block_indent.saturating_sub(origin.parent_column).clamp(1, 9);
                }
                let text = render::write(s, style, &ctx);
                // A plain string only reads as one when its text resolves to no other type; the
                // input said `!!str 123` then, and so does the output.
                if style == Style::Plain && text == s && resolve::resolve_plain(s).ok().as_ref() != Some(value) {
                    return format!("!!str {text}").into();
                }
                text.into()
            }
            // Most values (base64, words) are written as they are: the text itself, not a copy.
            None => render::canonical_str_cow(s, &ctx),
        }
    }

    /// A keep-chomped block (`|+`) needs as many blank lines after it as its value has extra
    /// line breaks; blank lines already in the source count, surplus ones are swallowed.
    fn keep_chomping_span(&self, value: &Value, text: &str, span: Span) -> Span {
        let (needed, gap) = self.keep_chomping(value, text, span);
        if gap <= needed {
            return span;
        }
        let mut end = self.source.text[span.end..]
            .find('\n')
            .map_or(span.end, |i| span.end + i);
        for _ in 0..gap - needed {
            end = self.source.text[end + 1..].find('\n').map_or(end, |i| end + 1 + i);
        }
        Span::new(span.start, end)
    }

    /// Renderings carry a keep-chomped value's empty lines; blank lines already in the source
    /// after the block stand in for as many of them.
    fn keep_chomping_text<'s>(&self, value: &Value, mut text: Cow<'s, str>, span: Span) -> Cow<'s, str> {
        let (needed, gap) = self.keep_chomping(value, &text, span);
        let newline = self.source.newline;
        for _ in 0..gap.min(needed) {
            if text.ends_with(newline) {
                let len = text.len() - newline.len();
                text.to_mut().truncate(len);
            }
        }
        text
    }

    /// (blank lines the value needs after its block, blank lines following `span` in the source).
    fn keep_chomping(&self, value: &Value, text: &str, span: Span) -> (usize, usize) {
        let is_block = text.starts_with('|') || text.starts_with('>');
        let needed = match value.as_str() {
            Some(s) if is_block => render::trailing_blank_lines(s),
            _ => 0,
        };
        if needed == 0 {
            return (0, 0);
        }
        (needed, blank_lines_after(&self.source.text, span.end))
    }

    fn comment(&mut self, c: &Comment) {
        if !c.modified {
            return;
        }
        let Some(origin) = &c.origin else { return };
        let mut span = origin.span;
        if !matches!(origin.style, ScalarStyle::Comment | ScalarStyle::TrailingComment) {
            // sops 3.11 writes encrypted comments in sequences as `- ENC[...]` items; the
            // decrypted comment replaces the whole item, dash included.
            span.start = dash_before(&self.source.text, span.start);
        }
        self.patches.push(Patch {
            span,
            text: format!("#{}", c.text.as_str()).into(),
        });
    }
}

/// Where a block scalar's content lines go: as written; for a block without content lines
/// (which reports no content column), where go-yaml would put them.
fn block_content_column(origin: &Origin, best: usize) -> usize {
    if origin.content_column > origin.parent_column {
        origin.content_column
    } else if origin.in_sequence {
        origin.parent_column + 2
    } else {
        best * ((origin.parent_column + best) / best)
    }
}

/// Counts whitespace-only lines after the line that `at` ends.
fn blank_lines_after(text: &str, at: usize) -> usize {
    let Some(first_break) = text[at..].find('\n') else {
        return 0;
    };
    text[at + first_break + 1..]
        .split('\n')
        .take_while(|line| line.trim_matches([' ', '\t', '\r']).is_empty())
        .count()
        .min(text[at + first_break + 1..].matches('\n').count())
}

/// The position of the `-` that introduces the sequence item starting at `at`.
fn dash_before(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b' ' | b'\t' => continue,
            b'-' => return i,
            _ => break,
        }
    }
    at
}

fn mapping_modified(m: &Mapping) -> bool {
    m.items.iter().any(|item| match item {
        MappingItem::Entry(e) => node_modified(&e.value),
        MappingItem::Comment(c) => c.modified,
    })
}

fn sequence_modified(s: &Sequence) -> bool {
    s.items.iter().any(|item| match item {
        SequenceItem::Node(n) => node_modified(n),
        SequenceItem::Comment(c) => c.modified,
    })
}

fn node_modified(node: &Node) -> bool {
    match node {
        Node::Scalar(s) => s.modified,
        Node::Mapping(m) => mapping_modified(m),
        Node::Sequence(s) => sequence_modified(s),
    }
}

/// A node in flow style on one line, for alias copies.
fn flow(node: &Node, encrypted: bool) -> String {
    let ctx = Context {
        in_flow: true,
        block_indent: 0,
        indent_indicator: 2,
        newline: "\n",
        faithful: false,
    };
    match node {
        Node::Scalar(s) => match (&s.value, encrypted) {
            (Value::Str(text), true) if text.starts_with("ENC[") => format!("\"{}\"", text.as_str()),
            (value, _) => render::canonical(value, &ctx),
        },
        Node::Mapping(m) => {
            let items: Vec<String> = m
                .entries()
                .map(|e| {
                    format!(
                        "{}: {}",
                        render::write(&e.key, Style::Plain, &ctx),
                        flow(&e.value, encrypted)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Node::Sequence(s) => {
            let items: Vec<String> = s
                .items
                .iter()
                .filter_map(|item| match item {
                    SequenceItem::Node(n) => Some(flow(n, encrypted)),
                    SequenceItem::Comment(_) => None,
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
    }
}

// ---- Writing from scratch, as go-yaml v3 does for sops --------------------------------------

/// The indentation yaml.v3 gives a block collection or block scalar under a key at `indent`.
fn nested_indent(indent: usize, best: usize) -> usize {
    best * ((indent + best) / best)
}

fn fresh_document(doc: &Document, best: usize, newline: &str, out: &mut String) {
    let has_entries = doc.root.entries().next().is_some();
    if !has_entries && doc.metadata.is_none() {
        write_comments(&doc.root.items, 0, newline, out);
        out.push_str("{}");
        out.push_str(newline);
        return;
    }
    fresh_mapping_items(&doc.root, 0, best, newline, true, out);
    if let Some(meta) = &doc.metadata {
        fresh_entry("sops", meta, 0, best, newline, out);
    }
}

fn write_comments(items: &[MappingItem], indent: usize, newline: &str, out: &mut String) {
    for item in items {
        if let MappingItem::Comment(c) = item {
            let _ = write!(out, "{:indent$}#{}{newline}", "", c.text.as_str());
        }
    }
}

fn fresh_mapping_items(m: &Mapping, indent: usize, best: usize, newline: &str, comments: bool, out: &mut String) {
    for item in &m.items {
        match item {
            MappingItem::Comment(_) if !comments => {}
            MappingItem::Comment(c) => {
                let _ = write!(out, "{:indent$}#{}{newline}", "", c.text.as_str());
            }
            MappingItem::Entry(e) => fresh_entry(&e.key, &e.value, indent, best, newline, out),
        }
    }
}

/// `key: value` at `indent`, ending with a line break.
fn fresh_entry(key: &str, value: &Node, indent: usize, best: usize, newline: &str, out: &mut String) {
    let _ = write!(out, "{:indent$}", "");
    fresh_key_value(key, value, indent, best, newline, out);
}

/// Writes `key:` and its value; the cursor is at column `indent`, where the key starts.
fn fresh_key_value(key: &str, value: &Node, indent: usize, best: usize, newline: &str, out: &mut String) {
    let nested = nested_indent(indent, best);
    if render::key_is_simple(key) {
        let _ = write!(out, "{}:", render::key(key));
        fresh_value(value, indent, nested, best, newline, out);
        return;
    }
    // yaml.v3's explicit form: `? key`, then `:` under the `?` with the value after it, a
    // collection starting on the `:` line at its nested column.
    let ctx = Context {
        in_flow: false,
        block_indent: nested,
        indent_indicator: (nested - indent).clamp(1, 9),
        newline,
        faithful: false,
    };
    let text = render::explicit_key(key, &ctx);
    let _ = write!(out, "? {text}{newline}");
    // A comment cannot sit between the `:` and a collection's first item.
    for c in leading_comments(value) {
        let _ = write!(out, "{:indent$}#{}{newline}", "", c.text.as_str());
    }
    let _ = write!(out, "{:indent$}:", "");
    fresh_item_after_indicator(value, indent, nested, best, newline, out);
}

/// Writes a value after `key:` or `- ` (the cursor is at the end of that text).
fn fresh_value(value: &Node, owner: usize, nested: usize, best: usize, newline: &str, out: &mut String) {
    match value {
        Node::Scalar(s) => {
            let ctx = Context {
                in_flow: false,
                block_indent: nested,
                indent_indicator: (nested - owner).clamp(1, 9),
                newline,
                faithful: false,
            };
            let _ = write!(out, " {}{newline}", render::canonical(&s.value, &ctx));
        }
        Node::Mapping(m) if m.entries().next().is_none() => {
            let _ = write!(out, " {{}}{newline}");
        }
        Node::Sequence(s) if !s.items.iter().any(|i| matches!(i, SequenceItem::Node(_))) => {
            let _ = write!(out, " []{newline}");
        }
        Node::Mapping(m) => {
            out.push_str(newline);
            fresh_mapping_items(m, nested, best, newline, true, out);
        }
        Node::Sequence(s) => {
            out.push_str(newline);
            fresh_sequence_items(s, nested, best, newline, out);
        }
    }
}

fn fresh_sequence_items(s: &Sequence, indent: usize, best: usize, newline: &str, out: &mut String) {
    for item in &s.items {
        match item {
            SequenceItem::Comment(c) => {
                let _ = write!(out, "{:indent$}#{}{newline}", "", c.text.as_str());
            }
            SequenceItem::Node(node) => {
                // Comments before a nested collection's first item go above its dash: a
                // comment cannot sit between the dash and the item.
                for c in leading_comments(node) {
                    let _ = write!(out, "{:indent$}#{}{newline}", "", c.text.as_str());
                }
                let _ = write!(out, "{:indent$}-", "");
                fresh_item_after_indicator(node, indent, indent + 2, best, newline, out);
            }
        }
    }
}

/// The comments before a collection's first item (nested mappings and sequences, recursively
/// for `- - item`).
fn leading_comments(node: &Node) -> Vec<&Comment> {
    match node {
        Node::Mapping(m) => m
            .items
            .iter()
            .map_while(|i| match i {
                MappingItem::Comment(c) => Some(c),
                MappingItem::Entry(_) => None,
            })
            .collect(),
        Node::Sequence(s) => {
            let mut out: Vec<&Comment> = s
                .items
                .iter()
                .map_while(|i| match i {
                    SequenceItem::Comment(c) => Some(c),
                    SequenceItem::Node(_) => None,
                })
                .collect();
            if let Some(SequenceItem::Node(first)) = s.items.get(out.len()) {
                out.extend(leading_comments(first));
            }
            out
        }
        Node::Scalar(_) => Vec::new(),
    }
}

/// Writes a node after a one-character indicator (`-` of a sequence item, `:` of an explicit
/// key) at column `indicator`: a collection starts on the indicator's line at column `inner`.
fn fresh_item_after_indicator(
    node: &Node,
    indicator: usize,
    inner: usize,
    best: usize,
    newline: &str,
    out: &mut String,
) {
    let gap = inner - indicator - 1;
    match node {
        Node::Mapping(m) if m.entries().next().is_some() => {
            let items = m.items.iter().skip_while(|i| matches!(i, MappingItem::Comment(_)));
            let mut first = true;
            for item in items {
                match item {
                    MappingItem::Comment(c) => {
                        let _ = write!(out, "{:inner$}#{}{newline}", "", c.text.as_str());
                    }
                    MappingItem::Entry(e) if first => {
                        let _ = write!(out, "{:gap$}", "");
                        fresh_key_value(&e.key, &e.value, inner, best, newline, out);
                        first = false;
                    }
                    MappingItem::Entry(e) => fresh_entry(&e.key, &e.value, inner, best, newline, out),
                }
            }
        }
        Node::Sequence(s) if s.items.iter().any(|i| matches!(i, SequenceItem::Node(_))) => {
            // `- - a`: the nested sequence starts on the indicator's line (its leading comments
            // were written above the indicator).
            let mut first = true;
            for item in s.items.iter().skip_while(|i| matches!(i, SequenceItem::Comment(_))) {
                match item {
                    SequenceItem::Comment(c) => {
                        let _ = write!(out, "{:inner$}#{}{newline}", "", c.text.as_str());
                    }
                    SequenceItem::Node(n) => {
                        if first {
                            let _ = write!(out, "{:gap$}-", "");
                            first = false;
                        } else {
                            let _ = write!(out, "{:inner$}-", "");
                        }
                        fresh_item_after_indicator(n, inner, inner + 2, best, newline, out);
                    }
                }
            }
        }
        other => fresh_value(other, indicator, inner, best, newline, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::yaml::parse;
    use crate::tree::{Data, Parsed};

    const LAYOUT: &str = "# head\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db   # trailing\n\
                          stringData:\n  password: 'hunter2'\n  script: |\n    echo hi\n  list:\n  - a\n  - \"b\"\n";

    fn parsed(text: &str) -> Tree<Parsed> {
        parse(text.as_bytes(), "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn emitted<S: State>(tree: &Tree<S>, indent: Option<usize>) -> String {
        let bytes = emit(tree, EmitOptions { indent }).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(bytes).expect("YAML output is UTF-8")
    }

    fn stringdata_mut<S>(tree: &mut Tree<S>) -> &mut Mapping {
        let root = &mut tree.documents[0].root;
        root.items
            .iter_mut()
            .find_map(|item| match item {
                MappingItem::Entry(e) if e.key == "stringData" => match &mut e.value {
                    Node::Mapping(m) => Some(m),
                    _ => None,
                },
                _ => None,
            })
            .expect("stringData mapping")
    }

    fn replace(m: &mut Mapping, key: &str, value: Value) {
        for item in &mut m.items {
            if let MappingItem::Entry(e) = item
                && e.key == key
                && let Node::Scalar(s) = &mut e.value
            {
                s.replace(value);
                return;
            }
        }
        panic!("no scalar {key}");
    }

    #[test]
    fn an_untouched_tree_is_its_source_byte_for_byte() {
        for text in [
            LAYOUT,
            "a: 1\r\nb: [x, y]\r\n",
            "a: 1\n---\nb: 2\n",
            "no: final newline",
        ] {
            assert_eq!(emitted(&parsed(text), None), text);
        }
    }

    #[test]
    fn a_replaced_value_changes_only_its_own_text_and_keeps_its_quoting() {
        let mut tree = parsed(LAYOUT);
        replace(stringdata_mut(&mut tree), "password", Value::str("correct horse"));
        let expected = LAYOUT.replace("'hunter2'", "'correct horse'");
        assert_eq!(emitted(&tree, None), expected);
    }

    #[test]
    fn a_replaced_block_scalar_stays_a_block() {
        let mut tree = parsed(LAYOUT);
        replace(stringdata_mut(&mut tree), "script", Value::str("echo bye\nexit 0\n"));
        let expected = LAYOUT.replace("  script: |\n    echo hi\n", "  script: |\n    echo bye\n    exit 0\n");
        assert_eq!(emitted(&tree, None), expected);
    }

    #[test]
    fn a_new_entry_goes_after_its_siblings_in_their_indentation() {
        let mut tree = parsed(LAYOUT);
        stringdata_mut(&mut tree).push("token", Node::scalar(Value::str("abc")));
        let expected = LAYOUT.replace("  - \"b\"\n", "  - \"b\"\n  token: abc\n");
        assert_eq!(emitted(&tree, None), expected);
    }

    #[test]
    fn a_tree_without_source_is_written_as_sops_writes_it() {
        let mut tree = parsed(LAYOUT);
        tree.forget_layout();
        let expected = "# head\napiVersion: v1\nkind: Secret\nmetadata:\n    # trailing\n    name: db\n\
                        stringData:\n    password: hunter2\n    script: |\n        echo hi\n    list:\n        - a\n        - b\n";
        assert_eq!(emitted(&tree, None), expected);
        let two = "# head\napiVersion: v1\nkind: Secret\nmetadata:\n  # trailing\n  name: db\n\
                   stringData:\n  password: hunter2\n  script: |\n    echo hi\n  list:\n    - a\n    - b\n";
        assert_eq!(emitted(&tree, Some(2)), two, "--indent 2");
    }

    /// go-yaml v3 takes 2 for a step outside 2 to 9, and so sops does for
    /// `stores.yaml.indent: 1` or `12`.
    #[test]
    fn a_step_outside_two_to_nine_is_written_as_two() {
        let mut tree = parsed(LAYOUT);
        tree.forget_layout();
        for step in [1, 10, 12] {
            assert_eq!(emitted(&tree, Some(step)), emitted(&tree, Some(2)), "--indent {step}");
        }
    }

    /// Found by the yaml fuzz target: in a document indented by one space, the `sops` block
    /// written anew stepped by one too, and the value of a long (explicit) key then started
    /// right after its `:` (`:x: 1`), which does not read back.
    #[test]
    fn new_text_in_a_document_indented_by_one_space_steps_by_two() {
        let key = "K".repeat(130);
        let text = format!("a: 1\nsops:\n {key}:\n  x: 1\n  y: 2\n");
        let mut tree = parsed(&text);
        let output = emitted(&tree, None);
        assert_eq!(output, format!("a: 1\nsops:\n  ? {key}\n  : x: 1\n    \"y\": 2\n"));
        let again = parsed(&output);
        assert!(again.documents[0].metadata.is_some());
        tree.documents[0].metadata = None;
        assert_eq!(emitted(&tree, None), "a: 1\n");
    }

    #[test]
    fn a_document_holding_only_its_metadata_is_an_empty_mapping() {
        let text = "sops:\n    version: 3.11.0\n";
        let mut tree = parsed(text);
        tree.documents[0].metadata = None;
        assert_eq!(emitted(&tree, None), "{}\n");
    }

    /// Found by the yaml fuzz target: a top-level flow mapping after an anchor or a document
    /// marker, at the end of a file without a final line break, was written anew without its
    /// last line break, and a last value ending in a line break (a `|` or `|+` block) lost it.
    /// Decryption then refused its own output (the self-check), so the file could not be read.
    #[test]
    fn a_rewritten_flow_mapping_at_the_end_of_the_file_keeps_its_last_values_line_breaks() {
        let data = |tree: &Tree<Parsed>| tree.documents.iter().map(|d| Data::from(&d.root)).collect::<Vec<_>>();
        for text in [
            "&a {\"k\": \"x\\ny\\n\"}",
            "&a {\"k\": \",}\\n\\n\\n\"}",
            "--- {\"k\": \"x\\n\"}",
            "--- {\"k\": \"x\\n\"}\r\n--- {\"k\": \"x\\n\\n\"}",
        ] {
            let tree = parsed(text);
            let output = emitted(&tree, None);
            assert_eq!(data(&parsed(&output)), data(&tree), "{text:?} written as {output:?}");
        }
    }
}
