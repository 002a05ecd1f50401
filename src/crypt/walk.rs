//! sops's walk over a tree, split so the expensive part runs on every core.
//!
//! The walk is depth first in document order over every document. A leaf's AAD is the mapping
//! keys on its path joined with `:` plus a trailing `:` (sequence indices excluded); comments
//! use their container's path; nulls are skipped. Whether a leaf or comment is encrypted
//! depends on the rule, its path and the comments before it, so the walk itself is sequential:
//! [`collect`] visits every leaf and comment in order, handles comments on the spot, and lets
//! the caller prepare each scalar leaf (draw its IV, say) in that same order. What is left per
//! leaf (AES-GCM, base64, parsing the plaintext) depends on nothing else, and [`par_map`] does
//! it on all cores. The caller then finishes the leaves in order, which is where the MAC is
//! computed: the result is the same bytes whatever the number of threads.

use std::ops::Range;

use crate::rules::{CommentStack, PathVerdict};
use crate::tree::{Comment, Document, Mapping, MappingItem, Node, Scalar, Sequence, SequenceItem};

use super::{CryptError, Selection};

/// Where a selected scalar sits: the value of a mapping entry, or a sequence item (which
/// decryption may turn into a comment: sops 3.11 writes comments in lists as items).
pub(super) enum Slot<'t> {
    Value(&'t mut Scalar),
    Item(&'t mut SequenceItem),
}

impl Slot<'_> {
    pub(super) fn scalar(&self) -> &Scalar {
        match self {
            Slot::Value(s) => s,
            Slot::Item(SequenceItem::Node(Node::Scalar(s))) => s,
            Slot::Item(_) => unreachable!("only sequence items holding a scalar are collected"),
        }
    }

    pub(super) fn scalar_mut(&mut self) -> &mut Scalar {
        match self {
            Slot::Value(s) => s,
            Slot::Item(SequenceItem::Node(Node::Scalar(s))) => s,
            Slot::Item(_) => unreachable!("only sequence items holding a scalar are collected"),
        }
    }

    /// Replaces a sequence item that decrypted to a comment by that comment.
    pub(super) fn make_comment(&mut self, comment: Comment) {
        if let Slot::Item(item) = self {
            **item = SequenceItem::Comment(comment);
        }
    }
}

/// A scalar leaf the walk selected, with what the caller prepared for it.
pub(super) struct Leaf<'t, P> {
    pub slot: Slot<'t>,
    /// The leaf's AAD, in [`Collected::aads`].
    pub aad: Range<usize>,
    /// The rule says it is encrypted.
    pub encrypted: bool,
    pub prepared: P,
}

/// The leaves of a tree in document order, and their AADs.
pub(super) struct Collected<'t, P> {
    pub leaves: Vec<Leaf<'t, P>>,
    /// Every leaf's AAD, one after the other (`data:password:`; `:` at the top level).
    pub aads: String,
}

impl<P> Leaf<'_, P> {
    /// This leaf's AAD in `aads` (the [`Collected::aads`] it came with).
    pub(super) fn aad<'a>(&self, aads: &'a str) -> &'a str {
        &aads[self.aad.clone()]
    }
}

/// What the caller does during the sequential walk.
pub(super) trait Visitor {
    /// What a leaf carries into the parallel phase.
    type Prepared;

    /// A non-null scalar, in document order; `None` leaves it out of the collection.
    fn value(&mut self, scalar: &Scalar, aad: &str, encrypted: bool) -> Result<Option<Self::Prepared>, CryptError>;

    /// A comment the rule selects, in document order; `last_value_aad` is the AAD of the last
    /// scalar visited before it (for comments sops files under another collection).
    fn comment(&mut self, comment: &mut Comment, aad: &str, last_value_aad: &str) -> Result<(), CryptError>;
}

/// Walks `documents` as sops does, collecting the scalar leaves the visitor keeps.
pub(super) fn collect<'t, V: Visitor>(
    documents: &'t mut [Document],
    selection: Selection<'_>,
    visitor: &mut V,
) -> Result<Collected<'t, V::Prepared>, CryptError> {
    let mut walk = Walk {
        selection,
        visitor,
        comments: CommentStack::default(),
        path: String::new(),
        last_value_aad: Range::default(),
        collected: Collected {
            leaves: Vec::with_capacity(documents.iter().map(|doc| scalars_in_mapping(&doc.root)).sum()),
            aads: String::new(),
        },
    };
    for doc in documents {
        walk.mapping(&mut doc.root, PathVerdict::default())?;
    }
    Ok(walk.collected)
}

/// How many non-null scalars a mapping holds, at any depth: the most leaves a walk can
/// collect. The leaves are allocated once at that size; grown by doubling, each outgrown
/// vector was copied and wiped (a twentieth of encrypting 150,000 values).
fn scalars_in_mapping(mapping: &Mapping) -> usize {
    mapping.entries().map(|e| scalars_in_node(&e.value)).sum()
}

fn scalars_in_node(node: &Node) -> usize {
    match node {
        Node::Mapping(m) => scalars_in_mapping(m),
        Node::Sequence(s) => s.nodes().map(scalars_in_node).sum(),
        Node::Scalar(s) => usize::from(s.value != crate::tree::Value::Null),
    }
}

struct Walk<'s, 'v, 't, V: Visitor> {
    selection: Selection<'s>,
    visitor: &'v mut V,
    comments: CommentStack,
    /// The AAD of the current position, without the `:` of the top level.
    path: String,
    /// Where the AAD of the last scalar visited is in `collected.aads`.
    last_value_aad: Range<usize>,
    collected: Collected<'t, V::Prepared>,
}

impl<'t, V: Visitor> Walk<'_, '_, 't, V> {
    fn mapping(&mut self, m: &'t mut Mapping, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.push_level();
        for item in &mut m.items {
            match item {
                MappingItem::Comment(c) => self.comment(c, verdict)?,
                MappingItem::Entry(e) => {
                    let mark = self.path.len();
                    self.path.push_str(&e.key);
                    self.path.push(':');
                    let verdict = verdict.descend(self.selection.rule, &e.key);
                    match &mut e.value {
                        Node::Scalar(s) => self.scalar(Slot::Value(s), verdict)?,
                        node => self.collection(node, verdict)?,
                    }
                    self.path.truncate(mark);
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn sequence(&mut self, s: &'t mut Sequence, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.push_level();
        for item in &mut s.items {
            match item {
                SequenceItem::Comment(c) => self.comment(c, verdict)?,
                SequenceItem::Node(Node::Scalar(_)) => {
                    self.scalar(Slot::Item(item), verdict)?;
                    self.comments.clear_current();
                }
                SequenceItem::Node(n) => {
                    self.collection(n, verdict)?;
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn collection(&mut self, node: &'t mut Node, verdict: PathVerdict) -> Result<(), CryptError> {
        match node {
            Node::Mapping(m) => self.mapping(m, verdict),
            Node::Sequence(s) => self.sequence(s, verdict),
            Node::Scalar(s) => self.scalar(Slot::Value(s), verdict),
        }
    }

    fn scalar(&mut self, slot: Slot<'t>, verdict: PathVerdict) -> Result<(), CryptError> {
        let scalar = slot.scalar();
        if scalar.value == crate::tree::Value::Null {
            return Ok(());
        }
        let encrypted = self.selection.rule.should_encrypt(verdict, &self.comments, false);
        let start = self.collected.aads.len();
        let aad = if self.path.is_empty() { ":" } else { self.path.as_str() };
        self.collected.aads.push_str(aad);
        let range = start..self.collected.aads.len();
        self.last_value_aad = range.clone();
        let prepared = self
            .visitor
            .value(scalar, &self.collected.aads[range.clone()], encrypted)?;
        // Without anything prepared there is nothing to keep: its AAD is needed only as the
        // last value's.
        if let Some(prepared) = prepared {
            self.collected.leaves.push(Leaf {
                slot,
                aad: range,
                encrypted,
                prepared,
            });
        }
        Ok(())
    }

    /// A comment is judged by its container's path (`verdict`) and the comments before it.
    fn comment(&mut self, c: &mut Comment, verdict: PathVerdict) -> Result<(), CryptError> {
        self.comments.note_comment(&c.text);
        if self.selection.rule.should_encrypt(verdict, &self.comments, true) {
            let last = &self.collected.aads[self.last_value_aad.clone()];
            let aad = if self.path.is_empty() { ":" } else { self.path.as_str() };
            self.visitor.comment(c, aad, last)?;
        }
        Ok(())
    }
}

/// How many leaves make it worth starting threads: below this the work takes less time than
/// starting them (a small Secret must stay a few milliseconds).
const PARALLEL_FROM: usize = 2048;

/// How many bytes of values make it worth starting a thread, however few the values.
const PARALLEL_FROM_BYTES: usize = 1 << 20;

/// Whether work over `items` leaves holding `bytes` bytes is large enough for threads (and
/// there is more than one core to run them).
pub(super) fn worth_threads(items: usize, bytes: usize) -> bool {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores >= 2 && (items >= PARALLEL_FROM || bytes >= PARALLEL_FROM_BYTES)
}

/// The result of a scoped thread; a panic in it (a bug) is carried to the caller's thread.
pub(super) fn join<R>(handle: std::thread::ScopedJoinHandle<'_, R>) -> R {
    match handle.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The results of [`par_map`], in the items' order.
pub(super) type InOrder<R> = std::iter::Flatten<std::vec::IntoIter<Vec<R>>>;

/// Applies `f` to every item, on all cores when there are enough items, each thread with its
/// own state from `init` (an expanded AES key); the results come back in the items' order, so
/// the outcome is the same as a sequential run. They come as each thread's part one after
/// the other, not gathered into one vector: that copy held every result twice (7 MB of a
/// 20 MB file's decryption).
pub(super) fn par_map<T: Sync, S, R: Send>(
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> InOrder<R> {
    let parts: Vec<Vec<R>> = if worth_threads(items.len(), 0) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = items.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let (init, f) = (&init, &f);
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut state = init();
                        part.iter().map(|item| f(&mut state, item)).collect::<Vec<R>>()
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        })
    } else {
        let mut state = init();
        vec![items.iter().map(|item| f(&mut state, item)).collect()]
    };
    parts.into_iter().flatten()
}
