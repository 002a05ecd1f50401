//! Which collection an own-line comment belongs to, decided as go-yaml v3 and sops decide it.
//!
//! A comment's container is part of its AAD, so ksec must file every comment exactly where
//! sops would, or sops cannot decrypt it. go-yaml v3 splits the comments between two tokens
//! into *foot* comments of what came before and *head* comments of what comes next
//! (`yaml_parser_scan_comments`), places the end of each closing block just before the first
//! comment written at that block's own indentation (`yaml_parser_unroll_indent`), and hands
//! each foot to the first block end (or token) at or after its mark; sops then files a foot
//! under the collection that ended, and a head under the collection of the next token.

/// An own-line comment: where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentAt {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// The last token before the comments.
#[derive(Debug, Clone, Copy)]
pub struct Before {
    /// Line on which it ends.
    pub line: usize,
    /// Where it ends.
    pub offset: usize,
    /// It is a key's `:` whose value starts on a later line.
    pub is_value_indicator: bool,
    /// Indentation of the innermost block collection (the scanner's indent).
    pub indent: usize,
}

/// The first token after the comments. At the end of a document this is the `sops:` key ksec
/// appends there (line after the comments, column 0): sops reads the comments of the file
/// ksec writes, so they are placed as they will be read.
#[derive(Debug, Clone, Copy)]
pub struct After {
    pub line: usize,
    pub column: usize,
}

/// A block collection that ends between the two tokens (innermost first).
#[derive(Debug, Clone, Copy)]
pub struct Closing {
    pub column: usize,
    /// An indentless sequence (`key:\n- a`) has no indentation level of its own and takes
    /// no comments.
    pub indentless: bool,
}

/// Where a comment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The foot of the closing collection with this index.
    Closing(usize),
    /// The collection of the next token (or the nested collection it opens).
    Next,
}

/// A foot or head comment group and the mark go-yaml attaches it by.
struct Segment {
    members: Vec<usize>,
    foot: bool,
    token_mark: usize,
}

/// Files each comment of a run (all own-line comments between two tokens, in order).
pub fn place(comments: &[CommentAt], before: Before, closing: &[Closing], after: After) -> Vec<Target> {
    let segments = segment(comments, before, after);
    let block_ends = block_end_marks(comments, before, closing);
    let mut targets = vec![Target::Next; comments.len()];
    // Tokens in queue order: the block ends (innermost first), then the next token. Comments
    // are handed out in order; a head waits for a real token, and holds back those after it.
    let mut next_segment = 0;
    for &(level, mark) in &block_ends {
        while let Some(seg) = segments.get(next_segment) {
            if seg.token_mark > mark || !seg.foot {
                break;
            }
            for &i in &seg.members {
                targets[i] = Target::Closing(level);
            }
            next_segment += 1;
        }
    }
    targets
}

/// go-yaml's split of a comment run into foot and head groups.
fn segment(comments: &[CommentAt], before: Before, after: After) -> Vec<Segment> {
    let mut segments = Vec::new();
    let Some(first) = comments.first() else { return segments };
    let foot_line = before.line + 1;
    let mut first_empty = first.line <= before.line + 1;
    let mut token_mark = before.offset;
    let mut current: Vec<usize> = Vec::new();
    let mut start: Option<CommentAt> = None;

    let close_at_blank = |current: &mut Vec<usize>,
                          start: &Option<CommentAt>,
                          token_mark: &mut usize,
                          first_empty: bool,
                          segments: &mut Vec<Segment>,
                          resume_at: usize| {
        let Some(s) = start else { return };
        if current.is_empty() || !first_empty {
            return;
        }
        let dedented = s.column < before.indent;
        if (s.line == foot_line && !before.is_value_indicator) || dedented {
            let mark = if dedented { s.offset } else { *token_mark };
            segments.push(Segment {
                members: std::mem::take(current),
                foot: true,
                token_mark: mark,
            });
            *token_mark = resume_at;
        }
    };

    for (i, c) in comments.iter().enumerate() {
        let previous_line = if i == 0 { before.line } else { comments[i - 1].line };
        if i > 0 && c.line > previous_line + 1 {
            // One or more blank lines before this comment.
            close_at_blank(
                &mut current,
                &start,
                &mut token_mark,
                first_empty,
                &mut segments,
                c.offset,
            );
            first_empty = false;
        } else if i == 0 && c.line > before.line + 1 {
            first_empty = false;
        }
        if current.is_empty() {
            start = Some(*c);
        } else if let Some(s) = start
            && c.column < before.indent
            && c.column != s.column
        {
            // A comment at another, smaller indentation ends the group as a foot.
            segments.push(Segment {
                members: std::mem::take(&mut current),
                foot: true,
                token_mark,
            });
            token_mark = c.offset;
            start = Some(*c);
        }
        current.push(i);
    }
    let last_line = comments.last().map_or(before.line, |c| c.line);
    if after.line > last_line + 1 {
        // Blank lines (or the end of the text) after the last comment.
        close_at_blank(
            &mut current,
            &start,
            &mut token_mark,
            first_empty,
            &mut segments,
            usize::MAX,
        );
    }
    if let Some(s) = start
        && !current.is_empty()
        && after.column < before.indent
        && after.column != s.column
    {
        // The next token is dedented from the comments: they are a foot of what came before.
        segments.push(Segment {
            members: std::mem::take(&mut current),
            foot: true,
            token_mark,
        });
    }
    if !current.is_empty() {
        segments.push(Segment {
            members: current,
            foot: false,
            token_mark: usize::MAX,
        });
    }
    segments
}

/// Where go-yaml puts each closing block's end token: before the earliest comment written at
/// that block's indentation, else where the previous one went (first: right after the token).
fn block_end_marks(comments: &[CommentAt], before: Before, closing: &[Closing]) -> Vec<(usize, usize)> {
    let mut mark = before.offset;
    let mut ends = Vec::new();
    for (level, c) in closing.iter().enumerate() {
        if c.indentless {
            continue;
        }
        if let Some(first) = comments.iter().find(|x| x.column == c.column) {
            mark = first.offset;
        }
        ends.push((level, mark));
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> CommentAt {
        CommentAt {
            line,
            column,
            offset: line * 100 + column,
        }
    }

    fn before(line: usize, indent: usize) -> Before {
        Before {
            line,
            offset: line * 100 + 99,
            is_value_indicator: false,
            indent,
        }
    }

    fn block(column: usize) -> Closing {
        Closing {
            column,
            indentless: false,
        }
    }

    #[test]
    fn a_comment_between_siblings_heads_the_next_key() {
        // x:\n  a: 1\n# c\n  b: 2  (a line commented out at column 0)
        let t = place(&[at(3, 0)], before(2, 2), &[], After { line: 4, column: 0 });
        assert_eq!(t, [Target::Next]);
    }

    #[test]
    fn feet_go_to_the_blocks_they_are_indented_with() {
        // metadata:\n  annotations:\n    note: hi\n    # foot of annotations\n  # foot of metadata\n# before\nstringData:
        let t = place(
            &[at(4, 4), at(5, 2), at(6, 0)],
            before(3, 4),
            &[block(4), block(2)],
            After { line: 7, column: 0 },
        );
        assert_eq!(t, [Target::Closing(0), Target::Closing(1), Target::Next]);
    }

    #[test]
    fn a_dedented_foot_before_a_blank_line_goes_to_the_block_at_its_column() {
        // nested:\n  deeper:\n    key: value\n  # back in nested\n\n# head of c\nc:
        let t = place(
            &[at(4, 2), at(6, 0)],
            before(3, 4),
            &[block(4), block(2)],
            After { line: 7, column: 0 },
        );
        assert_eq!(t, [Target::Closing(1), Target::Next]);
    }

    #[test]
    fn a_dedented_foot_followed_by_a_key_goes_to_the_innermost_block() {
        // x:\n    y:\n        k: a\n    # c\nz: 1
        let t = place(
            &[at(4, 4)],
            before(3, 8),
            &[block(8), block(4)],
            After { line: 5, column: 0 },
        );
        assert_eq!(t, [Target::Closing(0)]);
    }

    #[test]
    fn comments_at_the_end_of_the_document_go_to_the_top() {
        // a: 1\nb:\n  c: 2\n# end   (then ksec's `sops:` at column 0)
        let t = place(&[at(4, 0)], before(3, 2), &[block(2)], After { line: 5, column: 0 });
        assert_eq!(t, [Target::Next]);
    }

    #[test]
    fn an_indented_comment_at_the_end_of_the_document_is_a_foot_of_the_innermost_block() {
        // data:\n    data:\n        data: ""\n    # c   (then `sops:` at column 0)
        let t = place(
            &[at(4, 4)],
            before(3, 8),
            &[block(8), block(4)],
            After { line: 5, column: 0 },
        );
        assert_eq!(t, [Target::Closing(0)]);
    }

    #[test]
    fn indentless_sequences_take_no_feet() {
        // name:\n- a\n  # c\nnext: 1
        let after = After { line: 4, column: 0 };
        let t = place(
            &[at(3, 2)],
            before(2, 0),
            &[Closing {
                column: 0,
                indentless: true,
            }],
            after,
        );
        assert_eq!(t, [Target::Next]);
    }

    #[test]
    fn after_a_blank_line_an_indented_comment_stays_with_its_block() {
        // a:\n  b: 1\n\n  # c\nd: 2
        let t = place(&[at(4, 2)], before(2, 2), &[block(2)], After { line: 5, column: 0 });
        assert_eq!(t, [Target::Closing(0)]);
    }

    #[test]
    fn after_a_blank_line_a_comment_at_the_next_keys_column_heads_it() {
        // a:\n  b: 1\n\n# c\nd: 2
        let t = place(&[at(4, 0)], before(2, 2), &[block(2)], After { line: 5, column: 0 });
        assert_eq!(t, [Target::Next]);
    }
}
