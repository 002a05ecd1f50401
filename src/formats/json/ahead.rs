//! Reading a large JSON document on two threads.
//!
//! A raw line break can only stand outside a string in JSON (a string holds control
//! characters only as escapes), so every line of an indented document begins outside any
//! string. A line near the middle of the input that follows a comma begins a member of some
//! container: a second thread reads that container's members from there to its closing
//! bracket, while this thread reads the document from the start. When this thread reaches
//! that very member (after the comma, where it would read it itself), it takes the members
//! read ahead and goes on after the bracket.
//!
//! What is taken is what this thread would have read from the same byte with the same rules:
//! the second thread uses the same reader, and its work is taken only when it read to a
//! closing bracket of the kind this thread's container needs without an error, and within the
//! nesting limit counted from where the container really is. Anything else (an error, a kind
//! that does not match, a line that never begins a member) leaves the reading to this thread,
//! which then finds the error itself: what is accepted, the tree, and the errors are those of
//! reading on one thread. Compact JSON (no line breaks) is read on one thread.

use std::sync::mpsc::Receiver;

use super::super::limits::MAX_DEPTH;
use super::{MappingItem, Parser, SequenceItem};

/// Inputs from this size up are read on two threads, when there are two cores.
pub(super) const READ_AHEAD_FROM: usize = 1 << 20;

/// How far past the middle the line where the second thread starts is looked for.
const WINDOW: usize = 64 << 10;

/// The members of one container, read by the second thread.
pub(super) enum Members {
    Entries(Vec<MappingItem>),
    Elements(Vec<SequenceItem>),
}

/// What the second thread read: the members from [`Plan::at`] to the container's end.
pub(super) struct Ahead {
    pub members: Members,
    /// Where the container's closing bracket is.
    pub close: usize,
    /// The deepest nesting reached below the members, counted from the container's own level.
    pub deepest: usize,
}

/// The second thread's work, as the reading thread sees it.
pub(super) struct Plan {
    /// The first byte of the member the second thread starts at.
    pub at: usize,
    /// Its result, once: `None` when it stopped at anything it could not read.
    pub result: Option<Receiver<Option<Ahead>>>,
    /// Whether the members read ahead were taken.
    pub taken: bool,
}

impl Plan {
    /// The members read ahead, if they can stand for what this thread would read from here
    /// in a container of the given kind at nesting level `depth`. Waits for the second thread.
    pub(super) fn take(&mut self, depth: usize, object: bool) -> Option<Ahead> {
        let ahead = self.result.take()?.recv().ok()??;
        let kind_matches = matches!(
            (&ahead.members, object),
            (Members::Entries(_), true) | (Members::Elements(_), false)
        );
        self.taken = kind_matches && depth + ahead.deepest <= MAX_DEPTH;
        self.taken.then_some(ahead)
    }
}

/// Where a second thread may start in `input`: the first byte of the least indented line in
/// a window after the middle that follows a comma and does not close a container. `None` for
/// a small input, or where no such line is near the middle (compact JSON).
pub(super) fn split_point(input: &[u8]) -> Option<usize> {
    if input.len() < READ_AHEAD_FROM {
        return None;
    }
    let middle = input.len() / 2;
    let end = (middle + WINDOW).min(input.len());
    let mut best: Option<(usize, usize)> = None;
    let mut line = middle + memchr::memchr(b'\n', &input[middle..end])? + 1;
    while line < end {
        let indent = input[line..end]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let first = line + indent;
        let begins_member = matches!(input.get(first), Some(b) if !b"}]\r\n".contains(b));
        if begins_member && previous_token(input, line) == Some(b',') && best.is_none_or(|(least, _)| indent < least) {
            best = Some((indent, first));
        }
        line = match memchr::memchr(b'\n', &input[line..end]) {
            Some(at) => line + at + 1,
            None => break,
        };
    }
    best.map(|(_, first)| first)
}

/// The last byte before `at` that is not whitespace.
fn previous_token(input: &[u8], at: usize) -> Option<u8> {
    input[..at]
        .iter()
        .rev()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .copied()
}

/// Reads the members of a container from `at` to its closing bracket, as the first thread
/// reads them after a comma ([`Parser::members`]); `None` at anything else.
pub(super) fn read_ahead(input: &[u8], at: usize) -> Option<Ahead> {
    let mut parser = Parser::strict(input);
    parser.pos = at;
    let object = parser.member_is_entry();
    parser.members(0, object).ok()?;
    let members = if object {
        Members::Entries(std::mem::take(&mut parser.entries))
    } else {
        Members::Elements(std::mem::take(&mut parser.elements))
    };
    Some(Ahead {
        members,
        close: parser.pos - 1,
        deepest: parser.deepest,
    })
}

impl Parser<'_> {
    /// Whether the member at the current position is an object entry (a string, then `:`).
    fn member_is_entry(&mut self) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        let start = self.pos;
        let entry = self.scan_string().is_ok() && {
            self.skip_whitespace();
            self.peek() == Some(b':')
        };
        self.pos = start;
        entry
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{Parser, parse_reading_ahead};
    use super::*;

    /// What reading `text` gives, the tree or the error, with a second thread starting at
    /// `split`, and whether its members were taken.
    fn read(text: &[u8], split: Option<usize>) -> (String, bool) {
        match split {
            None => (outcome(parse_reading_ahead(text, "t.json", None)), false),
            Some(at) => {
                let (sender, receiver) = std::sync::mpsc::sync_channel(1);
                sender.send(read_ahead(text, at)).expect("the receiver is here");
                let mut parser = Parser::strict(text);
                parser.ahead = Some(Plan {
                    at,
                    result: Some(receiver),
                    taken: false,
                });
                let _ = parser.top_level_object();
                let taken = parser.ahead.is_some_and(|plan| plan.taken);
                // What is compared is the whole of `parse`, on two threads.
                (outcome(parse_reading_ahead(text, "t.json", Some(at))), taken)
            }
        }
    }

    fn outcome(result: Result<crate::tree::Tree<crate::tree::Parsed>, crate::formats::FormatError>) -> String {
        match result {
            Ok(tree) => format!("{:?}", tree.documents),
            Err(error) => format!("error: {error}"),
        }
    }

    /// Whether `at` is the first token of a line, a member after a comma.
    fn begins_member_line(text: &[u8], at: usize) -> bool {
        let line = text[..at].iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        line.is_some_and(|line| text[line..at].iter().all(|&b| b == b' '))
            && text.get(at).is_some_and(|b| !b" \t\r\n}]".contains(b))
            && previous_token(text, at) == Some(b',')
    }

    /// JSON in serde_json's indented layout, with strings that need escapes and non-ASCII.
    fn document() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            (-1e6f64..1e6).prop_map(serde_json::Value::from),
            "[a-z\"\\\n é,{}\\[\\]:]{0,8}".prop_map(serde_json::Value::from),
        ];
        let value = leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec(("[a-z,:\"]{1,3}", inner), 0..6)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        });
        prop::collection::vec(("[a-z]{1,3}", value), 0..5).prop_map(|entries| {
            let object = serde_json::Value::Object(entries.into_iter().collect());
            serde_json::to_string_pretty(&object).expect("serde_json writes any value")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Whatever byte the second thread starts at, reading gives the tree or the error of
        /// reading on one thread; and it is taken wherever a line begins a member after a comma.
        #[test]
        fn reading_ahead_from_any_byte_changes_nothing(text in document()) {
            let text = text.as_bytes();
            let (alone, _) = read(text, None);
            for at in 0..=text.len() {
                let (ahead, taken) = read(text, Some(at));
                prop_assert_eq!(&ahead, &alone, "second thread at byte {}", at);
                if begins_member_line(text, at) {
                    prop_assert!(taken, "not taken at byte {}", at);
                }
            }
        }

        /// The same on damaged text: one byte changed, inserted or removed.
        #[test]
        fn reading_ahead_in_damaged_text_changes_nothing(
            text in document(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b" ,:[]{}\"\\\n\t0-.eaZ\x01\xff".to_vec()),
            how in 0u8..3,
        ) {
            let bytes = crate::formats::damaged(text, at, byte, how);
            let (alone, _) = read(&bytes, None);
            for split in 0..=bytes.len() {
                let (ahead, _) = read(&bytes, Some(split));
                prop_assert_eq!(&ahead, &alone, "second thread at byte {}", split);
            }
        }
    }

    /// Nesting at the limit and one beyond it, counted from where the container really is:
    /// the same tree or the same refusal wherever the second thread starts.
    #[test]
    fn the_nesting_limit_counts_from_the_real_level() {
        for depth in [MAX_DEPTH - 1, MAX_DEPTH] {
            // The root object is level 1, the array 2; the nested arrays then reach `depth + 1`.
            let nested = format!("{}{}", "[".repeat(depth - 1), "]".repeat(depth - 1));
            let text = format!("{{\n  \"a\": [\n    0,\n    {nested},\n    1\n  ]\n}}");
            let text = text.as_bytes();
            let (alone, _) = read(text, None);
            assert_eq!(alone.starts_with("error"), depth == MAX_DEPTH, "{alone}");
            let mut taken = 0;
            for at in 0..=text.len() {
                let (ahead, was_taken) = read(text, Some(at));
                assert_eq!(ahead, alone, "second thread at byte {at}");
                taken += usize::from(was_taken);
            }
            assert_eq!(taken > 0, depth < MAX_DEPTH, "taken {taken} times");
        }
    }

    /// A large indented document: the split is found near the middle, after a comma, at a
    /// line of the outermost large container, and the members read ahead are taken.
    #[test]
    fn a_large_indented_document_is_read_on_two_threads() {
        let records: Vec<serde_json::Value> = (0..20_000)
            .map(|i| serde_json::json!({"id": i, "name": format!("n{i}"), "tags": ["a", "b"], "geo": {"lat": 1.5}}))
            .collect();
        let text = serde_json::to_string_pretty(
            &serde_json::json!({"kind": "x", "records": records, "sops": {"version": "3.11.0"}}),
        )
        .expect("serde_json writes any value");
        let text = text.as_bytes();
        assert!(text.len() >= READ_AHEAD_FROM, "{} bytes", text.len());
        let at = split_point(text).expect("a line near the middle");
        assert_eq!(previous_token(text, at), Some(b','));
        assert_eq!(text[at], b'{', "a record begins there");
        let (ahead, taken) = read(text, Some(at));
        assert!(taken, "the records read ahead were taken");
        assert_eq!(ahead, read(text, None).0);
        // Compact JSON has no line to start at.
        let compact =
            serde_json::to_string(&serde_json::json!({"records": (0..100_000).collect::<Vec<_>>()})).expect("JSON");
        assert_eq!(split_point(compact.as_bytes()), None);
    }
}
