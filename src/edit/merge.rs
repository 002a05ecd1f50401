//! Three-way merge of encrypted files: each side is decrypted to its view, the views are
//! merged line by line, and a clean result is encrypted again with minimal diffs. A conflict
//! yields the merged view with conflict markers; nothing is encrypted then.
//!
//! The data key, recipients and rule come from one side: ours, unless only theirs changed
//! them since the base. Changed differently on both sides, there is nothing sound to pick
//! and the merge stops. When both sides share the data key (the usual case: neither was
//! rotated), a value taken from theirs keeps theirs' exact ciphertext.

use zeroize::Zeroizing;

use super::EditError;
use super::view::{self, Reading, ViewOptions};
use crate::formats::{Format, OutputOptions};
use crate::keys::Identities;
use crate::metadata::{KeyGroup, Metadata};
use crate::sops_file::{EncryptedFile, MacPolicy, OpenFile, SealOptions, Sealed};
use crate::tree::{Data, Entry, Mapping, MappingItem, Node, Plain, SequenceItem, Tree};

/// The encrypted versions of one file a merge starts from.
pub struct Sides<'a> {
    /// The common ancestor; `None` when the file was added on both sides.
    pub base: Option<&'a [u8]>,
    pub ours: &'a [u8],
    pub theirs: &'a [u8],
}

/// The file being merged: its name (Git's path), format, the identities to open its versions
/// and the layout of anything written anew.
pub struct MergeTarget<'a> {
    pub name: &'a str,
    pub format: Format,
    pub identities: &'a Identities,
    pub output: OutputOptions,
}

/// What a merge produced.
pub enum Merged {
    /// The merged file, encrypted.
    Clean(Sealed),
    /// The merged view with conflict markers (plaintext), and how many conflicts it holds.
    Conflict {
        view: Zeroizing<String>,
        conflicts: usize,
        /// How to read the view back once the conflicts are resolved.
        reading: Reading,
    },
}

/// Merges three encrypted versions of a file.
pub fn merge(
    sides: Sides<'_>,
    target: &MergeTarget<'_>,
    decode_secrets: bool,
    validate_secrets: bool,
) -> Result<Merged, EditError> {
    let prepared = prepare(&sides, target, decode_secrets)?;
    let seal_options = SealOptions {
        validate_secrets,
        ..SealOptions::new(target.output)
    };
    match merge_views(&prepared) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            let plain = view::read(text.as_bytes(), target.format, &prepared.reading, target.name)?;
            Ok(Merged::Clean(prepared.result_side.seal(plain, &seal_options)?))
        }
        Err(text) => {
            let view = Zeroizing::new(text);
            // Lines next to each other changed on the two sides (two keys of one Secret, say)
            // conflict as lines but not as values.
            if let Some(plain) = merge_by_keys(&prepared) {
                return Ok(Merged::Clean(prepared.result_side.seal(plain, &seal_options)?));
            }
            let conflicts = view.lines().filter(|l| l.starts_with("<<<<<<<")).count();
            Ok(Merged::Conflict {
                view,
                conflicts,
                reading: prepared.reading,
            })
        }
    }
}

/// The line merge of the three views (`Err` holds the text with diff3-style conflict markers).
pub fn merge_views(prepared: &Prepared) -> Result<String, String> {
    diffy::merge(&prepared.base_view, &prepared.ours_view, &prepared.theirs_view)
}

/// Refuses a resolved conflict view that still holds a conflict-marker line (`<<<<<<< ours`,
/// `||||||| original`, `=======`, `>>>>>>> theirs`): some formats would read it as data (a
/// dotenv key, a line of a quoted YAML string) and encrypt it. Lines count as the editor
/// shows them, from 1.
pub fn check_resolved(text: &[u8], file: &str) -> Result<(), EditError> {
    let marker = |line: &[u8]| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        [b"<<<<<<<", b"|||||||", b"=======", b">>>>>>>"].iter().any(|run| {
            line.strip_prefix(&run[..])
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(b" "))
        })
    };
    match text.split(|&b| b == b'\n').position(marker) {
        Some(index) => Err(EditError::UnresolvedConflict {
            file: file.to_string(),
            line: index + 1,
        }),
        None => Ok(()),
    }
}

/// The sides opened and rendered, and the side whose key the result is sealed with.
pub struct Prepared {
    pub base_view: Zeroizing<String>,
    pub ours_view: Zeroizing<String>,
    pub theirs_view: Zeroizing<String>,
    /// The decrypted trees, for merging by keys.
    base_plain: Option<Tree<Plain>>,
    ours_plain: Tree<Plain>,
    theirs_plain: Tree<Plain>,
    /// How to read the merged view back (that of the side the result is sealed with).
    pub reading: Reading,
    /// The side whose data key, recipients and rule the result is sealed with, under the
    /// file's own name.
    pub result_side: OpenFile,
}

/// Opens the three sides (MACs checked: a tampered side stops the merge) and renders their
/// views.
pub fn prepare(sides: &Sides<'_>, target: &MergeTarget<'_>, decode_secrets: bool) -> Result<Prepared, EditError> {
    let open = |bytes: &[u8], side: &str| {
        EncryptedFile::parse(bytes, target.format, format!("{} ({side})", target.name))?
            .open(target.identities, MacPolicy::Verify)
    };
    let ours = open(sides.ours, "ours")?;
    let theirs = open(sides.theirs, "theirs")?;
    let base = sides
        .base
        .filter(|b| !b.iter().all(u8::is_ascii_whitespace))
        .map(|b| open(b, "base"))
        .transpose()?;

    let render = |opened: &OpenFile, decode: bool| {
        view::render(
            opened.plain(),
            ViewOptions {
                format: target.format,
                output: target.output,
                decode_secrets: decode,
                header: false,
            },
        )
    };
    // The three views must show Secret data the same way, or every data line would differ.
    let mut views = [
        Some(render(&ours, decode_secrets)?),
        Some(render(&theirs, decode_secrets)?),
        None,
    ];
    if let Some(b) = &base {
        views[2] = Some(render(b, decode_secrets)?);
    }
    let decoded = views.iter().flatten().all(|v| v.decoded());
    if decode_secrets && !decoded {
        views = [Some(render(&ours, false)?), Some(render(&theirs, false)?), None];
        if let Some(b) = &base {
            views[2] = Some(render(b, false)?);
        }
    }
    let text = |view: Option<view::View>, side: &'static str| -> Result<Zeroizing<String>, EditError> {
        let bytes = view.map(|v| v.text).unwrap_or_default();
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| EditError::SideNotText {
                format: target.format,
                side,
            })
    };
    let use_theirs = use_theirs_settings(
        ours.metadata(),
        theirs.metadata(),
        base.as_ref().map(OpenFile::metadata),
        target.name,
    )?;
    let [ours_view, theirs_view, base_view] = views;
    let reading = match (use_theirs, &ours_view, &theirs_view) {
        (false, Some(v), _) | (true, _, Some(v)) => v.reading.clone(),
        _ => Reading::raw(),
    };
    let ours_view = text(ours_view, "ours")?;
    let theirs_view = text(theirs_view, "theirs")?;
    let base_view = text(base_view, "base")?;
    let (base_plain, ours_plain, theirs_plain) = (
        base.as_ref().map(|b| b.plain().clone()),
        ours.plain().clone(),
        theirs.plain().clone(),
    );
    // Values taken from the other side keep their ciphertext when both share the data key.
    let (mut result_side, other) = if use_theirs { (theirs, ours) } else { (ours, theirs) };
    result_side.absorb_ivs(other);
    let result_side = result_side.renamed(target.name);
    Ok(Prepared {
        base_view,
        ours_view,
        theirs_view,
        base_plain,
        ours_plain,
        theirs_plain,
        reading,
        result_side,
    })
}

/// Whether the merged file keeps theirs' data key, recipients and rule rather than ours: only
/// when theirs changed them since the base and ours did not.
fn use_theirs_settings(
    ours: &Metadata,
    theirs: &Metadata,
    base: Option<&Metadata>,
    file: &str,
) -> Result<bool, EditError> {
    let same = |a: &Metadata, b: &Metadata| policy(a) == policy(b);
    if same(ours, theirs) {
        return Ok(false);
    }
    match base {
        Some(b) if same(ours, b) => Ok(true),
        Some(b) if same(theirs, b) => Ok(false),
        _ => Err(EditError::MergeMetadata { file: file.to_string() }),
    }
}

/// Merges the decrypted trees value by value, when no value changed differently on the two
/// sides: ours, with what only theirs changed (a value, a key added or removed) applied to it.
/// `None` when the sides really conflict, or when theirs changed something this cannot carry
/// over (its comments, a value turned from a scalar into a collection).
fn merge_by_keys(prepared: &Prepared) -> Option<Tree<Plain>> {
    let base = prepared.base_plain.as_ref()?;
    let (ours, theirs) = (&prepared.ours_plain, &prepared.theirs_plain);
    let count = base.documents.len();
    if ours.documents.len() != count || theirs.documents.len() != count || comments(theirs) != comments(base) {
        return None;
    }
    let mut merged = ours.clone();
    for (d, document) in merged.documents.iter_mut().enumerate() {
        merge_mappings(&base.documents[d].root, &mut document.root, &theirs.documents[d].root)?;
    }
    Some(merged)
}

fn merge_mappings(base: &Mapping, ours: &mut Mapping, theirs: &Mapping) -> Option<()> {
    let mut removed = Vec::new();
    for item in &mut ours.items {
        let MappingItem::Entry(entry) = item else { continue };
        match (base.get(&entry.key), theirs.get(&entry.key)) {
            (Some(b), Some(t)) => merge_nodes(b, &mut entry.value, t)?,
            // Theirs removed it: fine if ours left it as it was.
            (Some(b), None) if same(b, &entry.value) => removed.push(entry.key.clone()),
            (Some(_), None) => return None,
            // Added on both sides: fine if the same.
            (None, Some(t)) if same(t, &entry.value) => {}
            (None, Some(_)) => return None,
            (None, None) => {}
        }
    }
    for key in removed {
        ours.remove(&key);
    }
    let mut previous: Option<&str> = None;
    for entry in theirs.entries() {
        let key = entry.key.as_str();
        if ours.get(key).is_none() {
            match base.get(key) {
                // Ours removed it: fine if theirs left it as it was.
                Some(b) if same(b, &entry.value) => {}
                Some(_) => return None,
                // Added by theirs: after the entry it follows there.
                None => {
                    let at = previous
                        .and_then(|p| {
                            ours.items
                                .iter()
                                .position(|i| matches!(i, MappingItem::Entry(e) if e.key == p))
                        })
                        .map_or(ours.items.len(), |p| p + 1);
                    let new = Entry::new(key, super::strip_layout(&entry.value));
                    ours.items.insert(at, MappingItem::Entry(new));
                }
            }
        }
        previous = Some(key);
    }
    Some(())
}

fn merge_nodes(base: &Node, ours: &mut Node, theirs: &Node) -> Option<()> {
    if same(theirs, base) || same(ours, theirs) {
        return Some(());
    }
    if same(ours, base) {
        return match (ours, theirs) {
            (Node::Scalar(o), Node::Scalar(t)) => {
                o.replace(t.value.clone());
                Some(())
            }
            (Node::Mapping(o), Node::Mapping(t)) => match base {
                Node::Mapping(b) => merge_mappings(b, o, t),
                _ => None,
            },
            _ => None,
        };
    }
    match (base, ours, theirs) {
        (Node::Mapping(b), Node::Mapping(o), Node::Mapping(t)) => merge_mappings(b, o, t),
        _ => None,
    }
}

fn same(a: &Node, b: &Node) -> bool {
    Data::from(a) == Data::from(b)
}

/// Every comment of a tree, in order.
fn comments(tree: &Tree<Plain>) -> Vec<Zeroizing<String>> {
    fn walk(node: &Node, out: &mut Vec<Zeroizing<String>>) {
        match node {
            Node::Scalar(_) => {}
            Node::Mapping(m) => mapping(m, out),
            Node::Sequence(s) => {
                for item in &s.items {
                    match item {
                        SequenceItem::Node(n) => walk(n, out),
                        SequenceItem::Comment(c) => out.push(c.text.clone()),
                    }
                }
            }
        }
    }
    fn mapping(m: &Mapping, out: &mut Vec<Zeroizing<String>>) {
        for item in &m.items {
            match item {
                MappingItem::Entry(e) => walk(&e.value, out),
                MappingItem::Comment(c) => out.push(c.text.clone()),
            }
        }
    }
    let mut out = Vec::new();
    for document in &tree.documents {
        mapping(&document.root, &mut out);
    }
    out
}

/// What a side decides about encryption: who holds the key (per group: age recipients, PGP
/// fingerprints, other keys), the threshold, the rule and what the MAC covers.
#[derive(PartialEq)]
struct Policy {
    groups: Vec<Vec<String>>,
    threshold: usize,
    rule: Option<(String, String)>,
    mac_only_encrypted: bool,
}

fn policy(meta: &Metadata) -> Policy {
    let groups = meta.key_groups.iter().map(KeyGroup::key_names).collect();
    Policy {
        groups,
        threshold: if meta.key_groups.len() > 1 {
            meta.shamir_threshold
        } else {
            0
        },
        rule: meta
            .rule
            .as_ref()
            .map(|r| (r.field_name().to_string(), r.text().to_string())),
        mac_only_encrypted: meta.mac_only_encrypted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_with_a_conflict_marker_line_left_is_refused_at_that_line() {
        for (text, line) in [
            ("a: 1\n<<<<<<< ours\nb: 2\n", 2),
            ("A=1\nB=2\n=======\n", 3),
            ("k:\n  a: \"x\n=======\n  y\"\n", 3),
            ("a: 1\r\n>>>>>>> theirs\r\n", 2),
            ("a: 1\n|||||||\n", 2),
        ] {
            match check_resolved(text.as_bytes(), "f") {
                Err(EditError::UnresolvedConflict { line: at, .. }) => assert_eq!(at, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        for text in [
            "a: 1\n",
            "# <<<<<<< in a comment\n",
            "k: |\n  =======\n",
            "A========\n",
            "k: \"<<<<<<<<\"\n",
        ] {
            assert!(check_resolved(text.as_bytes(), "f").is_ok(), "{text:?}");
        }
    }
}
