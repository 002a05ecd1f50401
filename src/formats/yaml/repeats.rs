//! The `sops` block that every document of an encrypted stream repeats.
//!
//! sops requires each document of a YAML stream to carry its own copy of the `sops` block, and
//! writes the same block into every one: in a stream of small Secrets that copy is most of the
//! text, and reading it again for each document was most of the work of reading the stream.
//! [`find`] spots the blocks whose text is byte for byte a block seen earlier; [`Cut`] leaves
//! out their lines but the `sops:` line (so the key reads as null) and maps every position the
//! YAML parser reports back to the full text, and the parser attaches the earlier block's node
//! in their place.
//!
//! Identical text reads identically only without context: no anchors or aliases in the stream
//! (`&`, `*`), no tags or directives (`!`, `%`). The parser confirms each block left out was
//! read where [`find`] expected it (a root-level `sops` key at its first line); otherwise the
//! stream is read again in full.

use std::cell::Cell;
use std::collections::HashMap;

use granit_parser::{Marker, Span};
use memchr::memmem;
use zeroize::Zeroizing;

/// A `sops` block whose text repeats an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// Where its `sops:` line starts.
    pub start: usize,
    /// Where the line after the block starts (a document marker), or the end of the text.
    pub end: usize,
    /// Where the `sops:` line of the first block with the same text starts.
    pub first: usize,
}

/// The `sops` blocks that repeat an earlier block's text, in order. A block counts when its
/// `sops:` line starts at column 0, every following line up to the next document marker
/// (`---`, `...`) or the end of the text is indented or blank, and the stream has no anchor,
/// alias, tag or directive.
pub fn find(text: &str) -> Vec<Repeat> {
    let bytes = text.as_bytes();
    let keys: Vec<usize> = bytes
        .starts_with(b"sops:")
        .then_some(0)
        .into_iter()
        .chain(memmem::find_iter(bytes, b"\nsops:").map(|at| at + 1))
        .collect();
    let context = memchr::memchr3(b'&', b'*', b'!', bytes).is_some() || memchr::memchr(b'%', bytes).is_some();
    if keys.len() < 2 || context {
        return Vec::new();
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for at in keys {
        let key_line_end = next_line(bytes, at);
        if !is_sops_key_line(&bytes[at..key_line_end]) {
            continue;
        }
        // The block: the lines after the key that are indented or blank.
        let mut end = key_line_end;
        while let Some(&first) = bytes.get(end) {
            let blank_crlf = first == b'\r' && bytes.get(end + 1) == Some(&b'\n');
            if first != b' ' && first != b'\n' && !blank_crlf {
                break;
            }
            end = next_line(bytes, end);
        }
        if end < bytes.len() && !is_document_marker(&bytes[end..next_line(bytes, end)]) {
            continue;
        }
        let block = &text[at..end];
        match seen.get(block) {
            Some(&first) => repeats.push(Repeat { start: at, end, first }),
            None => {
                seen.insert(block, at);
            }
        }
    }
    repeats
}

/// A stream with the lines of its repeated blocks left out, after each one's `sops:` line.
pub struct Cut<'a> {
    full: &'a str,
    cut: Option<Zeroizing<String>>,
    /// From which byte of the cut text on (`from`) how much was left out before it, in bytes,
    /// characters and lines; in order.
    shifts: Vec<Shift>,
    /// How many shifts applied to the position restored last: the parser reports positions in
    /// order, so the next one's shift is found by stepping on from there, not by a search.
    applied: Cell<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Shift {
    from: usize,
    bytes: usize,
    chars: usize,
    lines: usize,
}

impl<'a> Cut<'a> {
    /// `text` without the lines of `repeats` after their `sops:` line.
    pub fn new(text: &'a str, repeats: &[Repeat]) -> Cut<'a> {
        if repeats.is_empty() {
            return Cut {
                full: text,
                cut: None,
                shifts: Vec::new(),
                applied: Cell::new(0),
            };
        }
        let bytes = text.as_bytes();
        let mut cut = Zeroizing::new(String::with_capacity(text.len()));
        let mut shifts = Vec::with_capacity(repeats.len());
        let (mut kept_to, mut left_out) = (0, Shift::default());
        for repeat in repeats {
            let from = next_line(bytes, repeat.start);
            cut.push_str(&text[kept_to..from]);
            let gone = &text[from..repeat.end];
            left_out = Shift {
                from: cut.len(),
                bytes: left_out.bytes + gone.len(),
                chars: left_out.chars + gone.chars().count(),
                lines: left_out.lines + gone.matches('\n').count(),
            };
            shifts.push(left_out);
            kept_to = repeat.end;
        }
        cut.push_str(&text[kept_to..]);
        Cut {
            full: text,
            cut: Some(cut),
            shifts,
            applied: Cell::new(0),
        }
    }

    /// The text to parse.
    pub fn text(&self) -> &str {
        self.cut.as_deref().map_or(self.full, String::as_str)
    }

    /// `span`, reported for the cut text, as it stands in the full text.
    pub fn restore(&self, mut span: Span) -> Span {
        if !self.shifts.is_empty() {
            span.start = self.restore_marker(span.start);
            span.end = self.restore_marker(span.end);
        }
        span
    }

    fn restore_marker(&self, marker: Marker) -> Marker {
        let byte = marker.byte_offset().expect("string input has byte offsets");
        let mut applied = self.applied.get();
        if applied > 0 && self.shifts[applied - 1].from > byte {
            // Behind the last position (a second reading of the text): search from the start.
            applied = self.shifts.partition_point(|s| s.from <= byte);
        }
        while self.shifts.get(applied).is_some_and(|s| s.from <= byte) {
            applied += 1;
        }
        self.applied.set(applied);
        match applied {
            0 => marker,
            i => {
                let shift = self.shifts[i - 1];
                Marker::new(marker.index() + shift.chars, marker.line() + shift.lines, marker.col())
                    .with_byte_offset(Some(byte + shift.bytes))
            }
        }
    }
}

/// Where the line after the one starting at `at` starts (past its `\n`), or the text's end.
fn next_line(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1)
}

fn trim_line_break(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `sops:` alone on its line at column 0 (trailing spaces allowed, no value or comment).
fn is_sops_key_line(line: &[u8]) -> bool {
    trim_line_break(line)
        .strip_prefix(b"sops:")
        .is_some_and(|rest| rest.iter().all(|&b| b == b' '))
}

/// `---` or `...` at column 0, alone or followed by a space.
fn is_document_marker(line: &[u8]) -> bool {
    let line = trim_line_break(line);
    (line.starts_with(b"---") || line.starts_with(b"...")) && matches!(line.get(3), None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "sops:\n    age:\n        - recipient: age1x\n    version: 3.11.0\n";

    #[test]
    fn blocks_repeating_an_earlier_one_are_found_and_the_first_is_not() {
        let text = format!("a: 1\n{BLOCK}---\nb: 2\n{BLOCK}---\nc: 3\n{BLOCK}");
        let first = text.find("sops:").unwrap();
        let repeats = find(&text);
        assert_eq!(repeats.len(), 2);
        for (repeat, doc) in repeats.iter().zip(["b: 2", "c: 3"]) {
            assert_eq!(repeat.first, first);
            assert_eq!(&text[repeat.start..repeat.end], BLOCK);
            assert!(text[..repeat.start].ends_with(&format!("{doc}\n")));
        }
    }

    #[test]
    fn a_block_that_differs_or_does_not_end_its_document_is_not_a_repeat() {
        let other = BLOCK.replace("3.11.0", "3.12.0");
        assert!(find(&format!("a: 1\n{BLOCK}---\nb: 2\n{other}")).is_empty());
        assert!(find(&format!("a: 1\n{BLOCK}---\nb: 2\n{BLOCK}c: 3\n")).is_empty());
        assert!(find(&format!("a: 1\n{BLOCK}---\nb: 2\n{BLOCK}# note\n")).is_empty());
    }

    #[test]
    fn anchors_aliases_tags_and_directives_anywhere_turn_it_off() {
        for extra in ["x: &a 1\n", "x: *a\n", "x: !!str 1\n", "%YAML 1.2\n"] {
            let text = format!("{extra}a: 1\n{BLOCK}---\nb: 2\n{BLOCK}");
            assert!(find(&text).is_empty(), "{extra}");
        }
    }

    /// A marker as granit makes it for `byte` in `text`.
    fn marker(text: &str, byte: usize) -> Marker {
        let before = &text[..byte];
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
        Marker::new(before.chars().count(), 1 + before.matches('\n').count(), col).with_byte_offset(Some(byte))
    }

    #[test]
    fn the_cut_text_keeps_the_key_line_and_positions_map_back_to_the_full_text() {
        let text = format!("a: é\n{BLOCK}---\nb: ü\n{BLOCK}...\n---\nc: 3\n{BLOCK}");
        let repeats = find(&text);
        assert_eq!(repeats.len(), 2);
        let cut = Cut::new(&text, &repeats);
        assert_eq!(
            cut.text(),
            format!("a: é\n{BLOCK}---\nb: ü\nsops:\n...\n---\nc: 3\nsops:\n")
        );
        let line_starts = std::iter::once(0).chain(cut.text().match_indices('\n').map(|(i, _)| i + 1));
        for at in line_starts.chain([cut.text().len()]) {
            let span = cut.restore(Span::new(marker(cut.text(), at), marker(cut.text(), at)));
            let full_at = span.start.byte_offset().unwrap();
            assert_eq!(span.start, marker(&text, full_at), "byte {at} of the cut text");
            let rest = |t: &str, i: usize| t[i..].lines().next().unwrap_or_default().to_string();
            match rest(cut.text(), at).as_str() {
                // The key line's successor in the cut text is what followed the whole block.
                "sops:" => assert_eq!(rest(&text, full_at), "sops:"),
                line => assert_eq!(rest(&text, full_at), line, "byte {at} of the cut text"),
            }
        }
    }

    /// The parser reports positions in order, but a second reading starts over: a position
    /// behind the last one restores as it would in order.
    #[test]
    fn positions_restore_alike_in_any_order() {
        let text = format!("a: 1\n{BLOCK}---\nb: 2\n{BLOCK}---\nc: 3\n{BLOCK}---\nd: 4\n{BLOCK}");
        let repeats = find(&text);
        let at_each_byte = |cut: &Cut<'_>, order: &mut dyn Iterator<Item = usize>| {
            let mut restored = vec![None; cut.text().len() + 1];
            for at in order {
                let m = marker(cut.text(), at);
                restored[at] = Some(cut.restore(Span::new(m, m)).start);
            }
            restored
        };
        let len = Cut::new(&text, &repeats).text().len();
        let forward = at_each_byte(&Cut::new(&text, &repeats), &mut (0..=len));
        let backward = at_each_byte(&Cut::new(&text, &repeats), &mut (0..=len).rev());
        let twice = at_each_byte(&Cut::new(&text, &repeats), &mut (0..=len).chain(0..=len).step_by(7));
        assert_eq!(forward, backward);
        for (at, restored) in twice.iter().enumerate().filter(|(_, r)| r.is_some()) {
            assert_eq!(*restored, forward[at], "byte {at}");
        }
    }

    #[test]
    fn without_repeats_the_text_is_not_copied() {
        let text = format!("a: 1\n{BLOCK}");
        let cut = Cut::new(&text, &[]);
        assert!(std::ptr::eq(cut.text(), text.as_str()));
    }
}
