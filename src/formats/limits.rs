//! Bounds on the work a parser does for any input, checked before the work is done.
//!
//! Without them a few hundred bytes of YAML make ksec allocate until the kernel stops it: nine
//! anchors of nine aliases each ("billion laughs") expand to 9⁹ values. go-yaml v3, and so
//! sops, refuse such documents by the share of their nodes that aliases produced; ksec applies
//! the same rule ([`AliasRatio`]), and a second one of its own on what anchors and aliases copy
//! ([`CopyBudget`]), because ksec copies an anchored node where Go shares its strings. Nesting
//! is bounded ([`MAX_DEPTH`]) because the parsers, emitters and every tree walk after them
//! recurse.

use std::fmt;

/// Deepest nesting of mappings and sequences ksec reads, in YAML (counting the nesting that
/// alias expansion adds) as in JSON. Real files stay far below: a Kubernetes manifest nests a
/// dozen levels. `serde_json` uses the same limit.
pub const MAX_DEPTH: usize = 128;

/// go-yaml's floor: documents with fewer aliased nodes than this are never refused.
const MIN_ALIASED: u64 = 100;
/// go-yaml's floor: documents of fewer nodes than this are never refused.
const MIN_DECODED: u64 = 1000;
/// go-yaml's `alias_ratio_range_low` and `_high`: up to the first, 99% of a document's nodes
/// may come from aliases; from the second on, 10%; in between the share falls linearly.
const RATIO_RANGE_LOW: u64 = 400_000;
const RATIO_RANGE_HIGH: u64 = 4_000_000;

/// What anchors and aliases may copy beyond what the input itself holds: ksec keeps a copy of
/// every anchored node and copies it again for every alias (Go shares strings instead, so
/// go-yaml's rule does not bound ksec's memory). Enough for any real file (a block of
/// defaults merged into a few dozen places copies kilobytes), small enough to keep the worst
/// case to about twice the memory the file needs without aliases.
pub const MAX_EXTRA_COPIED_NODES: u64 = 1_000_000;
pub const MAX_EXTRA_COPIED_BYTES: u64 = 16 << 20;

/// go-yaml v3's `allowedAliasRatio`: the share of a document's nodes that may come from
/// aliases once it has decoded `decoded` nodes.
fn allowed_alias_ratio(decoded: u64) -> f64 {
    if decoded <= RATIO_RANGE_LOW {
        0.99
    } else if decoded >= RATIO_RANGE_HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decoded - RATIO_RANGE_LOW) as f64 / (RATIO_RANGE_HIGH - RATIO_RANGE_LOW) as f64)
    }
}

/// go-yaml v3's count of one document's nodes (each mapping key, value, sequence item and the
/// document itself), and of those that come from expanding aliases.
#[derive(Debug, Default, Clone, Copy)]
pub struct AliasRatio {
    decoded: u64,
    aliased: u64,
}

impl AliasRatio {
    /// Counts `nodes` nodes read from the text itself.
    pub fn own(&mut self, nodes: u64) -> Result<(), AliasLimit> {
        self.decoded = self.decoded.saturating_add(nodes);
        self.check()
    }

    /// Counts an alias that expands to `nodes` nodes, before it is expanded. go-yaml checks
    /// after every node; the share of aliased nodes only grows while an alias expands and the
    /// allowed share never does, so checking the totals after the expansion refuses exactly
    /// what go-yaml refuses, without doing the expansion first.
    pub fn alias(&mut self, nodes: u64) -> Result<(), AliasLimit> {
        self.decoded = self.decoded.saturating_add(nodes);
        self.aliased = self.aliased.saturating_add(nodes);
        self.check()
    }

    fn check(&self) -> Result<(), AliasLimit> {
        let excessive = self.aliased > MIN_ALIASED
            && self.decoded > MIN_DECODED
            && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded);
        match excessive {
            true => Err(AliasLimit::Ratio {
                aliased: self.aliased,
                decoded: self.decoded,
            }),
            false => Ok(()),
        }
    }
}

/// What a parsed node holds, for charging its copies.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Nodes as go-yaml counts them: itself, and every key, value and item below it.
    pub nodes: u64,
    /// Bytes of its scalars' and keys' text.
    pub bytes: u64,
    /// Levels of collections: 0 for a scalar, 1 for a collection of scalars.
    pub height: usize,
}

/// ksec's own bound on copies of anchored nodes, over a whole stream: they may hold at most
/// as many nodes and bytes as the input itself does, plus [`MAX_EXTRA_COPIED_NODES`] and
/// [`MAX_EXTRA_COPIED_BYTES`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CopyBudget {
    own: Size,
    copied: Size,
}

impl CopyBudget {
    /// Counts nodes and text read from the input itself.
    pub fn own(&mut self, nodes: u64, bytes: u64) {
        self.own.nodes = self.own.nodes.saturating_add(nodes);
        self.own.bytes = self.own.bytes.saturating_add(bytes);
    }

    /// Charges a copy of a node of `size`, before it is made.
    pub fn copy(&mut self, size: Size) -> Result<(), AliasLimit> {
        let nodes = self.copied.nodes.saturating_add(size.nodes);
        let bytes = self.copied.bytes.saturating_add(size.bytes);
        if nodes > self.own.nodes.saturating_add(MAX_EXTRA_COPIED_NODES) {
            return Err(AliasLimit::CopiedNodes { nodes });
        }
        if bytes > self.own.bytes.saturating_add(MAX_EXTRA_COPIED_BYTES) {
            return Err(AliasLimit::CopiedBytes { bytes });
        }
        self.copied.nodes = nodes;
        self.copied.bytes = bytes;
        Ok(())
    }
}

/// Which bound on anchors and aliases a document passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasLimit {
    /// go-yaml's (and so sops's) rule.
    Ratio { aliased: u64, decoded: u64 },
    /// ksec's own bound on copied nodes.
    CopiedNodes { nodes: u64 },
    /// ksec's own bound on copied text.
    CopiedBytes { bytes: u64 },
}

impl fmt::Display for AliasLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AliasLimit::Ratio { aliased, decoded } => write!(
                f,
                "aliases would make {aliased} of the document's {decoded} nodes; the limit (go-yaml's and sops's) \
                 is 99% of them up to {RATIO_RANGE_LOW} nodes, falling to 10% at {RATIO_RANGE_HIGH}"
            ),
            AliasLimit::CopiedNodes { nodes } => write!(
                f,
                "anchors and aliases would copy {nodes} nodes; the limit is the number of nodes the file holds \
                 plus {MAX_EXTRA_COPIED_NODES}"
            ),
            AliasLimit::CopiedBytes { bytes } => write!(
                f,
                "anchors and aliases would copy {bytes} bytes of text; the limit is the text the file holds \
                 plus {} MiB",
                MAX_EXTRA_COPIED_BYTES >> 20
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_share_falls_from_99_to_10_percent_as_go_yaml_s() {
        assert_eq!(allowed_alias_ratio(1000), 0.99);
        assert_eq!(allowed_alias_ratio(RATIO_RANGE_LOW), 0.99);
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
        assert_eq!(allowed_alias_ratio(RATIO_RANGE_HIGH), 0.10);
        assert_eq!(allowed_alias_ratio(u64::MAX), 0.10);
    }

    #[test]
    fn small_documents_may_be_all_aliases() {
        let mut ratio = AliasRatio::default();
        ratio.own(10).unwrap();
        // 1000 nodes at most: never refused, whatever the share.
        ratio.alias(990).unwrap();
        let mut ratio = AliasRatio::default();
        ratio.own(2).unwrap();
        // 100 aliased nodes at most: never refused either.
        ratio.alias(100).unwrap();
        ratio.own(5000).unwrap();
    }

    #[test]
    fn a_document_of_aliases_is_refused_when_the_expansion_is_charged() {
        let mut ratio = AliasRatio::default();
        ratio.own(10).unwrap();
        let error = ratio.alias(100_000).unwrap_err();
        assert_eq!(
            error,
            AliasLimit::Ratio {
                aliased: 100_000,
                decoded: 100_010
            }
        );
        assert!(error.to_string().contains("99%"), "{error}");
        // 98% aliased in a document of 50,000 nodes is what go-yaml accepts.
        let mut ratio = AliasRatio::default();
        ratio.own(1000).unwrap();
        ratio.alias(49_000).unwrap();
    }

    #[test]
    fn copies_may_not_outgrow_the_input_by_more_than_the_margin() {
        let mut budget = CopyBudget::default();
        budget.own(10, 100);
        let node = Size {
            nodes: MAX_EXTRA_COPIED_NODES,
            bytes: 1,
            height: 1,
        };
        budget.copy(node).unwrap();
        let error = budget.copy(Size { nodes: 11, ..node }).unwrap_err();
        assert!(matches!(error, AliasLimit::CopiedNodes { .. }), "{error:?}");
        let text = Size {
            nodes: 1,
            bytes: MAX_EXTRA_COPIED_BYTES + 100,
            height: 0,
        };
        let error = budget.copy(text).unwrap_err();
        assert!(matches!(error, AliasLimit::CopiedBytes { .. }), "{error:?}");
    }
}
