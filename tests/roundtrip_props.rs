//! Property tests: whatever ksec encrypts, ksec decrypts back byte for byte, and the real sops
//! reads ksec's output as the same data.
//!
//! - Random trees (every scalar type, tricky keys, comments, up to three documents), written by
//!   ksec's own YAML and JSON emitters, survive `ops::encrypt` then `ops::decrypt` unchanged,
//!   under every encryption rule, with and without `mac_only_encrypted`.
//! - Random hand-spelled block YAML (2- or 4-space indentation, indentless sequences, plain,
//!   single- and double-quoted scalars, `|`/`|-` blocks, tags whose spelling survives, own-line
//!   and trailing comments, blank lines, `---` markers, CRLF) survives the same round trip with
//!   its layout intact.
//! - Random tagged scalars (every core tag, `!!binary`, `!!merge`, custom and YAML 1.1 tags, on
//!   every spelling of a value) are refused at encryption or come back from decryption as the
//!   same data: ksec never writes a file it cannot decrypt.
//! - On a fixed sample of both, `sops decrypt` accepts ksec's ciphertext (MAC checked, every
//!   comment decrypted) and prints the original data.
//! - The smallest failing inputs the properties found are plain tests at the end.
//!
//! `PROPTEST_CASES=N` sets the case count of the two round-trip properties for a longer hunt.

mod common;

use std::cell::LazyCell;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng, TestRunner};
use secrecy::ExposeSecret;
use time::{OffsetDateTime, UtcOffset};

use ksec::formats::{self, Format, OutputOptions};
use ksec::keys::RecipientGroup;
use ksec::keys::age::AgeRecipient;
use ksec::keys::{Identities, MapEnv};
use ksec::ops::{self, DecryptOptions, EncryptOptions};
use ksec::rules::EncryptionRule;
use ksec::timestamp::Timestamp;
use ksec::tree::{
    Comment, Data, Document, Entry, Mapping, MappingItem, Node, Plain, Sequence, SequenceItem, Tree, Value,
};

use common::{Dir, Run};

// ---- Keys and options -----------------------------------------------------------------------

/// One age identity for the whole run: its secret text and its recipient.
struct TestKey {
    secret: String,
    recipient: String,
}

static KEY: LazyLock<TestKey> = LazyLock::new(|| {
    let identity = age::x25519::Identity::generate();
    TestKey {
        secret: identity.to_string().expose_secret().to_string(),
        recipient: identity.to_public().to_string(),
    }
});

static IDENTITIES: LazyLock<Identities> = LazyLock::new(|| {
    let mut identities = Identities::default();
    identities
        .age
        .add_text("generated test identity", &KEY.secret)
        .expect("a freshly generated age identity parses");
    identities
});

/// The encryption settings of one case: a rule as sops's metadata names it, and the MAC scope.
#[derive(Debug, Clone, Default)]
struct Rules {
    /// `None`: no rule given (sops's default, `unencrypted_suffix: _unencrypted`).
    field: Option<(&'static str, &'static str)>,
    mac_only_encrypted: bool,
}

impl Rules {
    fn rule(&self) -> EncryptionRule {
        match self.field {
            None => EncryptionRule::default(),
            Some((field, text)) => EncryptionRule::from_field(field, text).expect("the test's rules are valid"),
        }
    }
}

fn rules() -> impl Strategy<Value = Rules> {
    let fields = select(vec![
        None,
        Some(("encrypted_regex", "^(data|stringData)$")),
        Some(("unencrypted_suffix", "_unencrypted")),
        Some(("encrypted_suffix", "_encrypted")),
        Some(("unencrypted_regex", "^(kind|n)$")),
        Some(("encrypted_comment_regex", "sops:enc")),
        Some(("unencrypted_comment_regex", "sops:plain")),
    ]);
    (fields, any::<bool>()).prop_map(|(field, mac_only_encrypted)| Rules {
        field,
        mac_only_encrypted,
    })
}

/// Case counts; `PROPTEST_CASES` overrides them for a longer hunt.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Minimal failures are kept as plain #[test]s below, not as files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn file_name(format: Format) -> &'static str {
    match format {
        Format::Yaml => "case.yaml",
        Format::Json => "case.json",
        Format::Dotenv => "case.env",
        Format::Ini => "case.ini",
        Format::Binary => "case.bin",
    }
}

/// The extension sops selects `format` by.
fn extension(format: Format) -> &'static str {
    file_name(format).trim_start_matches("case.")
}

fn encrypt(input: &[u8], format: Format, rules: &Rules) -> Result<Vec<u8>, String> {
    let recipient = AgeRecipient::parse(&KEY.recipient).expect("a generated recipient parses");
    let options = EncryptOptions {
        file: file_name(format),
        input_format: Some(format),
        binary_when_unknown: false,
        output_format: None,
        output_format_by_name: None,
        strip_server_fields: false,
        recipients: vec![RecipientGroup {
            age: vec![recipient],
            ..RecipientGroup::default()
        }],
        env: &MapEnv::new(),
        shamir_threshold: None,
        rule: Some(rules.rule()),
        // Random trees are not Kubernetes objects; these properties are about the format.
        validate_secrets: false,
        require_encrypted_values: false,
        previous: None,
        mac_only_encrypted: rules.mac_only_encrypted,
        output: OutputOptions::default(),
    };
    match ops::encrypt(input, &options) {
        Ok(out) => Ok(out.bytes.to_vec()),
        Err(e) => Err(format!("ops::encrypt failed: {e}\n{}", show("input", input))),
    }
}

fn decrypt(input: &[u8], format: Format) -> Result<Vec<u8>, String> {
    let options = DecryptOptions {
        file: file_name(format),
        input_format: Some(format),
        output_format: None,
        identities: &IDENTITIES,
        mac: ksec::sops_file::MacPolicy::Verify,
        output: OutputOptions::default(),
    };
    match ops::decrypt(input, &options) {
        Ok(out) if out.warnings.is_empty() => Ok(out.bytes.to_vec()),
        Ok(out) => Err(format!("ops::decrypt warned: {:?}", out.warnings)),
        Err(e) => Err(format!("ops::decrypt failed: {e}")),
    }
}

/// encrypt then decrypt; the result must be the input, byte for byte.
fn round_trip(input: &[u8], format: Format, rules: &Rules) -> Result<(), String> {
    let encrypted = encrypt(input, format, rules)?;
    let decrypted = decrypt(&encrypted, format).map_err(|e| {
        format!(
            "{e}\nrules: {rules:?}\n{}\n{}",
            show("input", input),
            show("encrypted", &encrypted)
        )
    })?;
    if decrypted != input {
        return Err(format!(
            "decrypt(encrypt(x)) != x\nrules: {rules:?}\n{}\n{}\n{}",
            show("input", input),
            show("encrypted", &encrypted),
            show("decrypted", &decrypted)
        ));
    }
    Ok(())
}

/// A labelled dump of some bytes: as written, then escaped (to see tabs, CRs, trailing spaces).
fn show(label: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    format!("--- {label} ---\n{text}\n--- {label} (escaped) ---\n{text:?}")
}

/// A readable dump of generated trees (their `Debug` hides values: they are zeroized secrets).
fn describe_roots(roots: &[Mapping]) -> String {
    let mut out = String::new();
    for (i, root) in roots.iter().enumerate() {
        let _ = writeln!(out, "document {}:", i + 1);
        describe_mapping(root, 1, &mut out);
    }
    out
}

fn describe_mapping(m: &Mapping, depth: usize, out: &mut String) {
    let width = depth * 2;
    for item in &m.items {
        match item {
            MappingItem::Comment(c) => {
                let _ = writeln!(out, "{:width$}# {:?}", "", c.text.as_str());
            }
            MappingItem::Entry(e) => {
                let _ = write!(out, "{:width$}{:?}:", "", e.key);
                describe_node(&e.value, depth + 1, out);
            }
        }
    }
}

/// Describes a node after its key or dash, through the end of its last line.
fn describe_node(node: &Node, depth: usize, out: &mut String) {
    let width = depth * 2;
    match node {
        Node::Scalar(s) => {
            let _ = writeln!(out, " {}", describe_value(&s.value));
        }
        Node::Mapping(m) => {
            let _ = writeln!(out, " mapping");
            describe_mapping(m, depth, out);
        }
        Node::Sequence(s) => {
            let _ = writeln!(out, " sequence");
            for item in &s.items {
                match item {
                    SequenceItem::Comment(c) => {
                        let _ = writeln!(out, "{:width$}# {:?}", "", c.text.as_str());
                    }
                    SequenceItem::Node(n) => {
                        let _ = write!(out, "{:width$}-", "");
                        describe_node(n, depth + 1, out);
                    }
                }
            }
        }
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("Str({:?})", s.as_str()),
        Value::Bytes(b) => format!("Bytes({:?})", b.as_slice()),
        Value::Time(t) => format!("Time({})", t.to_rfc3339_nano()),
        other => format!("{other:?}"),
    }
}

fn describe_documents(documents: &[Data]) -> String {
    let mut out = String::new();
    for (i, data) in documents.iter().enumerate() {
        let _ = write!(out, "document {}:", i + 1);
        describe_data(data, 1, &mut out);
    }
    out
}

fn describe_data(data: &Data, depth: usize, out: &mut String) {
    let width = depth * 2;
    match data {
        Data::Value(v) => {
            let _ = writeln!(out, " {}", describe_value(v));
        }
        Data::Mapping(entries) => {
            let _ = writeln!(out, " mapping");
            for (key, value) in entries {
                let _ = write!(out, "{:width$}{key:?}:", "");
                describe_data(value, depth + 1, out);
            }
        }
        Data::Sequence(items) => {
            let _ = writeln!(out, " sequence");
            for item in items {
                let _ = write!(out, "{:width$}-", "");
                describe_data(item, depth + 1, out);
            }
        }
    }
}

// ---- Comparing data loosely: what a format may legitimately change ---------------------------

/// Whether two documents hold the same data, allowing what the formats do to values: an integral
/// float re-reads as an int (go-yaml writes `1.0` as `1`), JSON numbers are floats, and JSON has
/// no time type (times are strings there, when `json`).
fn same_data(a: &Data, b: &Data, json: bool) -> bool {
    match (a, b) {
        (Data::Mapping(x), Data::Mapping(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_data(va, vb, json))
        }
        (Data::Sequence(x), Data::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_data(p, q, json))
        }
        (Data::Value(x), Data::Value(y)) => same_value(x, y, json),
        _ => false,
    }
}

fn same_value(a: &Value, b: &Value, json: bool) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Float(f), Value::Int(i)) | (Value::Int(i), Value::Float(f)) => *f == *i as f64,
        (Value::Time(t), Value::Str(s)) | (Value::Str(s), Value::Time(t)) if json => t.to_rfc3339_nano() == s.as_str(),
        _ => a == b,
    }
}

fn documents_data<S>(tree: &Tree<S>) -> Vec<Data> {
    tree.documents.iter().map(|d| Data::from(&d.root)).collect()
}

fn same_documents(a: &[Data], b: &[Data], json: bool) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_data(x, y, json))
}

// ---- Property 1: random trees through ksec's emitters ---------------------------------------

/// Keys a real file might have, and keys that are hard to write.
const KEYS: &[&str] = &[
    "data",
    "stringData",
    "a_unencrypted",
    "b_encrypted",
    "kind",
    "n",
    "y",
    "on",
    "name",
    "key with spaces",
    " lead",
    "trail ",
    "ключ",
    "café ✓",
    "emoji 😀",
    "x: y",
    "#hash",
    "0",
    "true",
    "null",
    "a.b/c",
    "-dash",
    "tab\tkey",
    "multi\nline",
    "",
    "'quoted'",
];

/// Pieces of strings: each is tricky on its own, and concatenations make new tricks.
const STRING_PIECES: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "#",
    " #",
    ": ",
    ":",
    "'",
    "\"",
    "\\",
    "-",
    "- ",
    "---",
    "...",
    "é",
    "✓",
    "😀",
    "𝄞",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "\u{a0}",
    "\r",
    "\r\n",
    "\0",
    "\x07",
    "\x1b",
    "\x01",
    "yes",
    "no",
    "on",
    "y",
    "true",
    "null",
    "~",
    "123",
    "-7",
    "0x1F",
    "1.0",
    "1e3",
    ".inf",
    "2024-01-01",
    "1:20",
    "{",
    "[",
    "]",
    "&a",
    "*a",
    "!tag",
    "|",
    ">",
    "%",
    "@",
    "`",
    "?",
    ",",
    "<<",
    "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
];

const COMMENTS: &[&str] = &[
    " a comment",
    "",
    " sops:enc below",
    " sops:plain below",
    "no-space",
    " ✓ unicode 😀",
    " key: value",
    " - item",
    "#",
    " trailing spaces  ",
    "\ttab",
];

fn tree_key() -> impl Strategy<Value = String> {
    select(KEYS).prop_map(String::from)
}

fn tree_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "[a-zA-Z]{1,6}",
        2 => select(STRING_PIECES).prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => -1000i64..1000,
        1 => any::<i64>(),
        1 => select(vec![0, -1, i64::MAX, i64::MIN, i64::MIN + 1, 1 << 53, (1 << 53) + 1, -(1 << 53)]),
    ]
}

/// JSON integers up to 2^53: the properties compare with sops 3.11, which reads JSON numbers as
/// float64 and so computes the MAC of a clear integer beyond 2^53 over its rounding, where ksec
/// (as sops 3.13) keeps it exact; tests/dropin.rs checks those integers.
fn json_int() -> impl Strategy<Value = i64> {
    int().prop_map(|i| i.clamp(-(1 << 53), 1 << 53))
}

/// Floats of every kind; YAML also gets NaN and the infinities (JSON cannot hold them). Neither
/// gets -0.0: it is written as `-0`, which reads back as the int 0 (go-yaml does so, and sops
/// 3.13's JSON store too), so its spelling cannot survive a round trip.
fn float(format: Format) -> BoxedStrategy<f64> {
    let yaml = format == Format::Yaml;
    let special = select(vec![
        0.1,
        1e21,
        -0.0,
        0.0,
        1.0,
        -2.5,
        5e-324,
        1.5e-7,
        1e-7,
        123456.7,
        1e6,
        1e20,
        f64::MAX,
        f64::MIN_POSITIVE,
        9007199254740993.0,
    ]);
    let finite = any::<f64>().prop_filter("finite", |f| f.is_finite());
    let floats = if yaml {
        prop_oneof![
            3 => special,
            3 => finite,
            1 => select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        ]
        .boxed()
    } else {
        prop_oneof![special, finite].boxed()
    };
    floats
        .prop_filter("-0.0 is written as `-0`, which reads back as the int 0", |f| {
            !(*f == 0.0 && f.is_sign_negative())
        })
        .boxed()
}

/// Times sops can write in both formats: years 1900..2200, whole-minute offsets up to ±14h.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    let nanos = prop_oneof![
        Just(0u32),
        0u32..1_000_000_000,
        (0u32..1000).prop_map(|ms| ms * 1_000_000)
    ];
    (-2_208_988_800i64..7_258_118_400, nanos, -14 * 60i32..=14 * 60).prop_map(|(secs, nanos, minutes)| {
        let offset = UtcOffset::from_whole_seconds(minutes * 60).expect("offsets within ±14h are valid");
        let t = OffsetDateTime::from_unix_timestamp(secs)
            .expect("1900..2200 is in range")
            .replace_nanosecond(nanos)
            .expect("nanoseconds below 10^9 are valid")
            .to_offset(offset);
        Timestamp(t)
    })
}

fn value(format: Format) -> impl Strategy<Value = Value> {
    let yaml = format == Format::Yaml;
    let int = if yaml { int().boxed() } else { json_int().boxed() };
    prop_oneof![
        5 => tree_string().prop_map(Value::str),
        2 => int.prop_map(Value::Int),
        2 => float(format).prop_map(Value::Float),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => timestamp().prop_map(Value::Time),
    ]
}

fn comment() -> impl Strategy<Value = Comment> {
    select(COMMENTS).prop_map(Comment::new)
}

/// Mapping items with unique keys (none of [`KEYS`] is `sops`, the metadata key).
fn mapping(inner: impl Strategy<Value = Node>) -> impl Strategy<Value = Mapping> {
    let item = prop_oneof![
        4 => (tree_key(), inner).prop_map(|(key, value)| MappingItem::Entry(Entry::new(key, value))),
        1 => comment().prop_map(MappingItem::Comment),
    ];
    prop::collection::vec(item, 0..6).prop_map(|items| {
        let mut seen = HashSet::new();
        let items = items
            .into_iter()
            .filter(|item| match item {
                MappingItem::Entry(e) => seen.insert(e.key.clone()),
                MappingItem::Comment(_) => true,
            })
            .collect();
        Mapping {
            items,
            ..Mapping::default()
        }
    })
}

fn sequence(inner: impl Strategy<Value = Node>) -> impl Strategy<Value = Sequence> {
    let item = prop_oneof![
        4 => inner.prop_map(SequenceItem::Node),
        1 => comment().prop_map(SequenceItem::Comment),
    ];
    prop::collection::vec(item, 0..5).prop_map(|items| Sequence {
        items,
        ..Sequence::default()
    })
}

fn node(format: Format) -> impl Strategy<Value = Node> {
    value(format).prop_map(Node::scalar).prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            mapping(inner.clone()).prop_map(Node::Mapping),
            sequence(inner).prop_map(Node::Sequence),
        ]
    })
}

/// Document roots: up to three YAML documents, exactly one JSON document.
fn roots(format: Format) -> impl Strategy<Value = Vec<Mapping>> {
    let documents = if format == Format::Yaml { 1..4usize } else { 1..2usize };
    prop::collection::vec(mapping(node(format)), documents)
}

fn plain_tree(roots: &[Mapping]) -> Tree<Plain> {
    let documents = roots
        .iter()
        .map(|root| Document {
            root: root.clone(),
            ..Document::default()
        })
        .collect();
    Tree::new_plain(documents)
}

/// Writes the tree with ksec's emitter, checks the text reads back as the tree's data, and
/// returns the text.
fn emit_checked(roots: &[Mapping], format: Format) -> Result<Vec<u8>, String> {
    let mut tree = plain_tree(roots);
    let text = formats::emit(format, &mut tree, format, OutputOptions::default())
        .map_err(|e| format!("formats::emit failed: {e}\n--- tree ---\n{}", describe_roots(roots)))?;
    let reread = formats::parse(format, &text, file_name(format)).map_err(|e| {
        format!(
            "the emitted text does not parse: {e}\n--- tree ---\n{}{}",
            describe_roots(roots),
            show("emitted", &text)
        )
    })?;
    let json = format == Format::Json;
    if !same_documents(&documents_data(&reread), &documents_data(&tree), json) {
        return Err(format!(
            "the emitted text does not re-read as the tree's data\n--- tree ---\n{}{}\n--- re-read ---\n{}",
            describe_roots(roots),
            show("emitted", &text),
            describe_documents(&documents_data(&reread)),
        ));
    }
    Ok(text)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn yaml_trees_round_trip_byte_for_byte(roots in roots(Format::Yaml), rules in rules()) {
        let text = emit_checked(&roots, Format::Yaml).map_err(TestCaseError::fail)?;
        round_trip(&text, Format::Yaml, &rules).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn json_trees_round_trip_byte_for_byte(roots in roots(Format::Json), rules in rules()) {
        let text = emit_checked(&roots, Format::Json).map_err(TestCaseError::fail)?;
        round_trip(&text, Format::Json, &rules).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn dotenv_files_round_trip_byte_for_byte(text in dotenv_file(), rules in rules()) {
        round_trip(text.as_bytes(), Format::Dotenv, &rules).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn ini_files_round_trip_byte_for_byte(text in ini_file(), rules in rules()) {
        round_trip(text.as_bytes(), Format::Ini, &rules).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn binary_files_round_trip_byte_for_byte(bytes in proptest::collection::vec(any::<u8>(), 0..300), rules in rules()) {
        round_trip(&bytes, Format::Binary, &rules).map_err(TestCaseError::fail)?;
    }
}

/// An INI file as sops writes it (ini.v1's layout: aligned `=`, `; ` comments, quoted values
/// where needed), built by writing loosely spelled sections through ksec's INI writer.
fn ini_file() -> impl Strategy<Value = String> {
    let key = "[A-Za-z_][A-Za-z0-9_.-]{0,10}";
    let value = prop_oneof![
        4 => "[A-Za-z0-9 _.,/=:@!+-]{0,20}",
        1 => "[a-z]{1,5}[#;][a-z ]{0,5}",
        1 => Just(String::new()),
    ];
    let comment = "[a-z][a-z ]{0,15}";
    let entry = (proptest::option::of(comment), key, value).prop_map(|(c, k, v)| {
        let quoted = if v.contains(['#', ';']) {
            format!("`{v}`")
        } else if v.trim() != v {
            format!("\"{v}\"")
        } else {
            v
        };
        let comment = c.map(|c| format!("; {c}\n")).unwrap_or_default();
        format!("{comment}{k} = {quoted}\n")
    });
    let section = (
        proptest::option::of(comment),
        "[A-Za-z0-9_.-][A-Za-z0-9 _.-]{0,8}",
        proptest::collection::vec(entry.clone(), 0..5),
    )
        .prop_filter("sops and DEFAULT are special", |(_, name, _)| {
            name != "sops" && !name.eq_ignore_ascii_case("default") && name.trim() == name
        })
        .prop_map(|(c, name, entries)| {
            let comment = c.map(|c| format!("; {c}\n")).unwrap_or_default();
            format!("{comment}[{name}]\n{}", entries.concat())
        });
    (
        proptest::collection::vec(entry, 0..3),
        proptest::collection::vec(section, 0..4),
    )
        .prop_filter_map("the writer refuses it", |(defaults, sections)| {
            let loose = format!("{}{}", defaults.concat(), sections.concat());
            let tree = formats::parse(Format::Ini, loose.as_bytes(), "loose.ini").ok()?;
            let canonical = formats::ini::emit(&tree).ok()?;
            String::from_utf8(canonical).ok()
        })
}

/// A dotenv file as sops reads it: `KEY=VALUE` lines (anything after the first `=`, quotes,
/// `\n` escapes and CRs included) and `#` comments, no empty lines (sops drops them).
fn dotenv_file() -> impl Strategy<Value = String> {
    let key = "[A-Za-z_][A-Za-z0-9_. -]{0,12}".prop_filter("sops_ names the metadata", |k| !k.starts_with("sops_"));
    let value = prop_oneof![
        "[^\n]{0,24}",
        Just(String::new()),
        Just("\"quoted value\"".to_string()),
        Just("line1\\nline2".to_string()),
        Just("a=b=c".to_string()),
    ];
    let line = prop_oneof![
        4 => (key, value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => "[^\n]{0,20}".prop_map(|c| format!("#{c}")),
    ];
    proptest::collection::vec(line, 1..10).prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
}

// ---- Property 2: hand-spelled YAML keeps its layout ------------------------------------------

/// A value as written after `key:` or `- `.
#[derive(Debug, Clone)]
enum YValue {
    /// One-line text exactly as it appears (plain, quoted, or a typed token in its canonical
    /// spelling).
    Inline(String),
    /// `|` (keep the final line break) or `|-`, and content lines (empty ones are blank);
    /// `!!str |` when tagged.
    Literal {
        tagged: bool,
        clip: bool,
        lines: Vec<String>,
    },
    /// `>` (keep the final line break) or `>-`, one line per paragraph with blank lines between
    /// them: the spelling a folded value comes back in (README, limits of layout keeping).
    Folded {
        clip: bool,
        paragraphs: Vec<String>,
    },
    /// Nothing after the colon, or `null`.
    Null {
        spelled: bool,
    },
    EmptyMap,
    EmptySeq,
    Map(Vec<YItem>),
    Seq(Vec<YSeqItem>),
}

/// A line of a block mapping.
#[derive(Debug, Clone)]
enum YItem {
    Entry {
        key: String,
        value: YValue,
        comment: Option<String>,
    },
    Comment {
        text: String,
        column0: bool,
    },
    Blank,
}

/// A line of a block sequence.
#[derive(Debug, Clone)]
enum YSeqItem {
    Item { value: YValue, comment: Option<String> },
    Comment(String),
    Blank,
}

#[derive(Debug, Clone)]
struct YDoc {
    indent: usize,
    /// `key:\n- a` rather than `key:\n  - a`.
    indentless_sequences: bool,
    root: Vec<YItem>,
}

#[derive(Debug, Clone)]
struct YFile {
    explicit_start: bool,
    crlf: bool,
    docs: Vec<YDoc>,
}

/// Plain keys (all strings to every YAML reader) and quoted ones, with their names.
const YAML_KEYS: &[(&str, &str)] = &[
    ("data", "data"),
    ("stringData", "stringData"),
    ("a_unencrypted", "a_unencrypted"),
    ("b_encrypted", "b_encrypted"),
    ("kind", "kind"),
    ("n", "n"),
    ("y", "y"),
    ("on", "on"),
    ("name", "name"),
    ("key with spaces", "key with spaces"),
    ("ключ", "ключ"),
    ("café", "café"),
    ("x-y", "x-y"),
    ("a.b", "a.b"),
    ("port", "port"),
    ("'single: key'", "single: key"),
    ("\"double #key\"", "double #key"),
    ("'it''s'", "it's"),
];

/// A plain scalar every YAML reader takes as this very string.
fn plain_string() -> impl Strategy<Value = String> {
    let first = select(vec!['a', 'Z', 'q', 'é', 'ж', '✓', 'x']);
    let rest = select(vec![
        'a', 'b', 'z', 'K', '0', '9', ' ', ' ', '.', ',', '/', '_', ':', '#', '\'', '"', '-', 'é', '✓', '[', '}', '%',
        '@', '!', '&', '*',
    ]);
    let generated = (first, prop::collection::vec(rest, 0..14)).prop_filter_map("not plain-safe", |(first, rest)| {
        let text: String = std::iter::once(first).chain(rest).collect();
        let text = text.trim_end_matches([' ', ':']).to_string();
        let resolves_otherwise = matches!(text.to_lowercase().as_str(), "true" | "false" | "null");
        (!text.contains(": ") && !text.contains(" #") && !resolves_otherwise).then_some(text)
    });
    // Strings go-yaml would quote but that are strings to every reader as written.
    let tricky = select(vec![
        "yes", "no", "on", "off", "y", "n", "Y", "On", "1:20", "12:30:45", "<<", "1.2.3", "0x", "0xg", "1e400", "--1",
        "nan", "inf", "e3",
    ])
    .prop_map(String::from);
    prop_oneof![5 => generated, 1 => tricky]
}

/// Plain text with an astral-plane character (printable in YAML 1.2; go-yaml escapes it).
fn plain_astral() -> impl Strategy<Value = String> {
    select(vec!["emoji 😀", "x😀y", "𝄞 clef"]).prop_map(String::from)
}

fn single_quoted(astral: bool) -> impl Strategy<Value = String> {
    let mut chars = vec![
        'a', 'b', 'Z', '0', ' ', '#', ':', '\'', '"', '\\', '-', 'é', '✓', '\u{a0}', '{', '&',
    ];
    if astral {
        chars.push('😀');
    }
    prop::collection::vec(select(chars), 0..12).prop_map(|chars| {
        let text: String = chars.into_iter().collect();
        format!("'{}'", text.replace('\'', "''"))
    })
}

/// Double-quoted text with go-yaml's escapes, the spelling ksec writes decrypted values in. An
/// escape's spelling is not stored (only the value is), so other spellings of the same
/// character (`\u00e9` for `é`, `\U0001F600` or a literal emoji) cannot all survive and are
/// not generated.
fn double_quoted() -> impl Strategy<Value = String> {
    let c = select(vec![
        'a', 'b', 'Z', '0', ' ', '#', ':', '\'', '"', '\\', '\t', '\n', '\0', '\x07', '\x1b', '\x01', 'é', '✓',
        '\u{85}', '\u{2028}',
    ]);
    prop::collection::vec(c, 0..12).prop_map(|chars| {
        let mut out = String::from("\"");
        for c in chars {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\0' => out.push_str("\\0"),
                '\x07' => out.push_str("\\a"),
                '\x1b' => out.push_str("\\e"),
                '\x01' => out.push_str("\\x01"),
                '\u{85}' => out.push_str("\\N"),
                '\u{2028}' => out.push_str("\\L"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    })
}

/// Typed plain tokens in the spelling go-yaml writes them with (sops stores the value, not the
/// text, so other spellings such as `0x1F` or `1.0` are not expected to survive).
fn typed_token() -> impl Strategy<Value = String> {
    let words = select(vec![
        "true",
        "false",
        "1.5",
        "-0.25",
        "0.1",
        "3.14159",
        "1e+21",
        "1.5e-07",
        "123456.7",
        ".inf",
        "-.inf",
        ".nan",
        "2024-01-02T03:04:05Z",
        "2001-12-14T21:59:43.1-05:00",
        "1999-12-31T23:59:59.123456789+05:30",
    ])
    .prop_map(String::from);
    prop_oneof![int().prop_map(|i| i.to_string()), words]
}

/// Tagged scalars whose spelling survives a round trip: a `!!str` tag on text that would
/// otherwise be another type (the tag is what makes it a string), `!!null`, and `!!binary` of
/// bytes that are not text (go-yaml writes those so, and so does ksec).
fn exact_tagged_scalar() -> impl Strategy<Value = String> {
    let not_a_string = prop_oneof![
        typed_token(),
        select(vec![
            "~",
            "null",
            "0x1F",
            "017",
            "1_000",
            "+5",
            "1e3",
            "2024-01-02",
            "TRUE",
            ".NaN"
        ])
        .prop_map(String::from),
    ];
    prop_oneof![
        4 => not_a_string.prop_map(|text| format!("!!str {text}")),
        1 => select(vec!["!!null ~", "!!null null", "!!null \"\"", "!!null"]).prop_map(String::from),
        1 => select(vec!["!!binary /w==", "!!binary 3q2+7w==", "!!binary gA=="]).prop_map(String::from),
    ]
}

fn inline_scalar(astral: bool) -> BoxedStrategy<String> {
    let base = prop_oneof![
        4 => plain_string(),
        2 => single_quoted(astral),
        2 => double_quoted(),
        2 => typed_token(),
        1 => exact_tagged_scalar(),
    ];
    if astral {
        prop_oneof![10 => base, 1 => plain_astral()].boxed()
    } else {
        base.boxed()
    }
}

/// Content lines of a `|` block: the first starts with text, later ones may be indented
/// further or empty, none ends with whitespace, the last is not empty.
fn literal_lines(astral: bool) -> impl Strategy<Value = Vec<String>> {
    let mut chars = vec![
        'a', 'b', 'Z', '0', ' ', ' ', '#', ':', '\'', '"', '\\', '-', 'é', '✓', '\t', '|', '>',
    ];
    if astral {
        chars.push('😀');
    }
    let text = (
        select(vec!['a', 'x', 'K', '#', '-', 'é']),
        prop::collection::vec(select(chars), 0..12),
    );
    let line = (0usize..3, text.clone(), any::<bool>());
    (text, prop::collection::vec(line, 0..4)).prop_map(|((first, rest), more)| {
        let mut lines = vec![std::iter::once(first).chain(rest).collect::<String>()];
        for (extra, (head, tail), empty) in more {
            if empty {
                lines.push(String::new());
            } else {
                let body: String = std::iter::once(head).chain(tail).collect();
                lines.push(format!("{}{}", " ".repeat(extra), body));
            }
        }
        for line in &mut lines {
            *line = line.trim_end_matches([' ', '\t']).to_string();
        }
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    })
}

/// Paragraphs of a `>` block: each one line that starts with text and does not end in
/// whitespace (a more-indented line would not be folded).
fn folded_paragraphs(astral: bool) -> impl Strategy<Value = Vec<String>> {
    let mut chars = vec![
        'a', 'b', 'Z', '0', ' ', '#', ':', '\'', '"', '\\', '-', 'é', '✓', '|', '>',
    ];
    if astral {
        chars.push('😀');
    }
    let paragraph = (
        select(vec!['a', 'x', 'K', '#', '-', 'é']),
        prop::collection::vec(select(chars), 0..16),
    )
        .prop_map(|(first, rest)| {
            std::iter::once(first)
                .chain(rest)
                .collect::<String>()
                .trim_end()
                .to_string()
        });
    prop::collection::vec(paragraph, 1..4)
}

fn yaml_comment() -> impl Strategy<Value = String> {
    select(COMMENTS).prop_map(String::from)
}

fn trailing_comment() -> impl Strategy<Value = Option<String>> {
    prop_oneof![4 => Just(None), 1 => yaml_comment().prop_map(Some)]
}

/// Own-line comments and blank lines before an entry or item.
fn decorations() -> impl Strategy<Value = Vec<YItem>> {
    let one = prop_oneof![
        2 => (yaml_comment(), any::<bool>()).prop_map(|(text, column0)| YItem::Comment { text, column0 }),
        1 => Just(YItem::Blank),
    ];
    prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(one, 1..3)]
}

fn yvalue(astral: bool) -> impl Strategy<Value = YValue> {
    let leaf = prop_oneof![
        8 => inline_scalar(astral).prop_map(YValue::Inline),
        2 => (prop::bool::weighted(0.2), any::<bool>(), literal_lines(astral))
            .prop_map(|(tagged, clip, lines)| YValue::Literal { tagged, clip, lines }),
        1 => (any::<bool>(), folded_paragraphs(astral))
            .prop_map(|(clip, paragraphs)| YValue::Folded { clip, paragraphs }),
        1 => any::<bool>().prop_map(|spelled| YValue::Null { spelled }),
        1 => Just(YValue::EmptyMap),
        1 => Just(YValue::EmptySeq),
    ];
    leaf.prop_recursive(3, 40, 5, |inner| {
        prop_oneof![
            ymap(inner.clone()).prop_map(YValue::Map),
            yseq(inner).prop_map(YValue::Seq),
        ]
    })
}

/// At least one entry, keys unique, decorations before entries.
fn ymap(inner: impl Strategy<Value = YValue>) -> impl Strategy<Value = Vec<YItem>> {
    let entry = (decorations(), select(YAML_KEYS), inner, trailing_comment());
    prop::collection::vec(entry, 1..5).prop_map(|entries| {
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        for (decor, (spelled, name), value, comment) in entries {
            if !seen.insert(name) {
                continue;
            }
            items.extend(decor);
            items.push(YItem::Entry {
                key: spelled.to_string(),
                value,
                comment,
            });
        }
        items
    })
}

fn yseq(inner: impl Strategy<Value = YValue>) -> impl Strategy<Value = Vec<YSeqItem>> {
    let item = (decorations(), inner, trailing_comment());
    prop::collection::vec(item, 1..4).prop_map(|items| {
        let mut out = Vec::new();
        for (decor, value, comment) in items {
            out.extend(decor.into_iter().map(|d| match d {
                YItem::Comment { text, .. } => YSeqItem::Comment(text),
                _ => YSeqItem::Blank,
            }));
            out.push(YSeqItem::Item { value, comment });
        }
        out
    })
}

fn yfile(astral: bool) -> impl Strategy<Value = YFile> {
    let doc = (
        select(vec![2usize, 4]),
        any::<bool>(),
        ymap(yvalue(astral)),
        decorations(),
    )
        .prop_map(|(indent, indentless_sequences, mut root, tail)| {
            root.extend(tail);
            YDoc {
                indent,
                indentless_sequences,
                root,
            }
        });
    (
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::collection::vec(doc, 1..4),
    )
        .prop_map(|(explicit_start, crlf, docs)| YFile {
            explicit_start,
            crlf,
            docs,
        })
}

impl YFile {
    fn render(&self) -> String {
        let mut out = String::new();
        for (i, doc) in self.docs.iter().enumerate() {
            if i > 0 || self.explicit_start {
                out.push_str("---\n");
            }
            doc.mapping(&doc.root, 0, &mut out);
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        out
    }
}

fn trailing(comment: &Option<String>) -> String {
    comment.as_ref().map(|c| format!(" #{c}")).unwrap_or_default()
}

impl YDoc {
    fn mapping(&self, items: &[YItem], indent: usize, out: &mut String) {
        for item in items {
            match item {
                YItem::Entry { key, value, comment } => {
                    let _ = write!(out, "{:indent$}", "");
                    self.entry(key, value, comment, indent, out);
                }
                YItem::Comment { text, column0 } => {
                    let column = if *column0 { 0 } else { indent };
                    let _ = writeln!(out, "{:column$}#{text}", "");
                }
                YItem::Blank => out.push('\n'),
            }
        }
    }

    /// Writes `key:` and its value; the key is at column `indent` (the cursor is there).
    fn entry(&self, key: &str, value: &YValue, comment: &Option<String>, indent: usize, out: &mut String) {
        let _ = write!(out, "{key}:");
        self.value(value, indent, comment, out);
    }

    /// Writes a value after `key:` (written at `indent`), through the end of its last line.
    fn value(&self, value: &YValue, indent: usize, comment: &Option<String>, out: &mut String) {
        let comment = trailing(comment);
        let nested = indent + self.indent;
        match value {
            YValue::Inline(text) => {
                let _ = writeln!(out, " {text}{comment}");
            }
            YValue::Literal { tagged, clip, lines } => self.literal(*tagged, *clip, lines, nested, &comment, out),
            YValue::Folded { clip, paragraphs } => self.folded(*clip, paragraphs, nested, &comment, out),
            YValue::Null { spelled: true } => {
                let _ = writeln!(out, " null{comment}");
            }
            YValue::Null { spelled: false } => {
                let _ = writeln!(out, "{comment}");
            }
            YValue::EmptyMap => {
                let _ = writeln!(out, " {{}}{comment}");
            }
            YValue::EmptySeq => {
                let _ = writeln!(out, " []{comment}");
            }
            YValue::Map(items) => {
                let _ = writeln!(out, "{comment}");
                self.mapping(items, nested, out);
            }
            YValue::Seq(items) => {
                let _ = writeln!(out, "{comment}");
                let dash = if self.indentless_sequences { indent } else { nested };
                self.sequence(items, dash, out);
            }
        }
    }

    fn literal(&self, tagged: bool, clip: bool, lines: &[String], content: usize, comment: &str, out: &mut String) {
        let chomp = if clip { "" } else { "-" };
        let tag = if tagged { " !!str" } else { "" };
        let _ = writeln!(out, "{tag} |{chomp}{comment}");
        for line in lines {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "{:content$}{line}", "");
            }
        }
    }

    fn folded(&self, clip: bool, paragraphs: &[String], content: usize, comment: &str, out: &mut String) {
        let chomp = if clip { "" } else { "-" };
        let _ = writeln!(out, " >{chomp}{comment}");
        for (i, paragraph) in paragraphs.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "{:content$}{paragraph}", "");
        }
    }

    fn sequence(&self, items: &[YSeqItem], dash: usize, out: &mut String) {
        for item in items {
            match item {
                YSeqItem::Comment(text) => {
                    let _ = writeln!(out, "{:dash$}#{text}", "");
                }
                YSeqItem::Blank => out.push('\n'),
                YSeqItem::Item { value, comment } => self.sequence_item(value, comment, dash, out),
            }
        }
    }

    fn sequence_item(&self, value: &YValue, comment: &Option<String>, dash: usize, out: &mut String) {
        let inner = dash + 2;
        match value {
            YValue::Map(items) => {
                // Decorations before the first key go above the dash: nothing may sit between
                // the dash and the key.
                let first = items
                    .iter()
                    .position(|i| matches!(i, YItem::Entry { .. }))
                    .expect("a generated mapping has an entry");
                self.mapping(&items[..first], dash, out);
                let _ = write!(out, "{:dash$}- ", "");
                if let YItem::Entry { key, value, comment } = &items[first] {
                    self.entry(key, value, comment, inner, out);
                }
                self.mapping(&items[first + 1..], inner, out);
            }
            YValue::Seq(items) => {
                let _ = writeln!(out, "{:dash$}-{}", "", trailing(comment));
                self.sequence(items, dash + self.indent, out);
            }
            other => {
                let _ = write!(out, "{:dash$}-", "");
                self.value(other, dash, comment, out);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn hand_written_yaml_keeps_its_layout(file in yfile(true), rules in rules()) {
        round_trip(file.render().as_bytes(), Format::Yaml, &rules).map_err(TestCaseError::fail)?;
    }
}

// ---- Property 2b: tagged scalars round-trip or are refused ----------------------------------

/// Tags a file may carry: the core schema's, `!!binary`, `!!merge`, and tags sops would drop.
const TAGS: &[&str] = &[
    "!!str",
    "!!int",
    "!!bool",
    "!!float",
    "!!null",
    "!!timestamp",
    "!!binary",
    "!!merge",
    "!custom",
    "!",
    "!!set",
    "!<tag:yaml.org,2002:str>",
    "!<tag:example.com,2000:x>",
];

/// Texts that fit some tags and not others.
const TAGGED_TEXTS: &[&str] = &[
    "123",
    "-0x1F",
    "017",
    "1_000",
    "1.5",
    "1",
    ".inf",
    "-.Inf",
    ".nan",
    "true",
    "False",
    "~",
    "null",
    "",
    "x",
    "on",
    "<<",
    "2024-01-02",
    "2001-12-14 21:59:43.10",
    "2024-01-02T03:04:05Z",
    "aGVsbG8=",
    "/w==",
    "3q2+7w==",
    "a b",
    "9223372036854775808",
];

/// A tagged value after `key:`: tag, then the text plain, quoted, or in a block.
fn tagged_value() -> impl Strategy<Value = String> {
    let quoting = select(vec!["plain", "single", "double", "literal", "folded"]);
    (select(TAGS), select(TAGGED_TEXTS), quoting).prop_map(|(tag, text, quoting)| match quoting {
        "single" => format!("{tag} '{}'", text.replace('\'', "''")),
        "double" => format!("{tag} \"{text}\""),
        "literal" if !text.is_empty() => format!("{tag} |-\n  {text}"),
        "folded" if !text.is_empty() => format!("{tag} >\n  {text}"),
        _ => format!("{tag} {text}").trim_end().to_string(),
    })
}

/// A file of tagged entries, some in a list, under `key:` names the default rule encrypts.
fn tagged_file() -> impl Strategy<Value = String> {
    prop::collection::vec((tagged_value(), any::<bool>()), 1..5).prop_map(|values| {
        let mut text = String::new();
        for (i, (value, in_list)) in values.iter().enumerate() {
            if *in_list {
                let value = value.replace("\n  ", "\n    ");
                let _ = writeln!(text, "k{i}:\n  - {value}");
            } else {
                let _ = writeln!(text, "k{i}: {value}");
            }
        }
        text
    })
}

/// Whether ksec's encryption refused `input` as input (exit 2), not for a fault of its own.
fn refused_as_input(message: &str) -> bool {
    ["not supported", "cannot decode", "cannot parse", "sops cannot store"]
        .iter()
        .any(|why| message.contains(why))
}

/// Encrypts a tagged file: refused as input, or decrypted by ksec to the same data (and to the
/// same bytes when every tag's spelling survives).
fn tagged_round_trip(text: &str, rules: &Rules) -> Result<(), String> {
    let input = text.as_bytes();
    let encrypted = match encrypt(input, Format::Yaml, rules) {
        Ok(encrypted) => encrypted,
        Err(e) if refused_as_input(&e) => return Ok(()),
        Err(e) => return Err(format!("encryption failed, but not as a refusal of the input: {e}")),
    };
    let decrypted = decrypt(&encrypted, Format::Yaml).map_err(|e| {
        format!(
            "ksec wrote a file it cannot decrypt: {e}\nrules: {rules:?}\n{}\n{}",
            show("input", input),
            show("encrypted", &encrypted)
        )
    })?;
    let data = |bytes: &[u8]| formats::parse(Format::Yaml, bytes, "t.yaml").map(|tree| documents_data(&tree));
    let (expected, got) = (data(input), data(&decrypted));
    match (&expected, &got) {
        (Ok(expected), Ok(got)) if same_documents(expected, got, false) => Ok(()),
        _ => Err(format!(
            "decrypted data differs\nrules: {rules:?}\n{}\n{}\n{}",
            show("input", input),
            show("encrypted", &encrypted),
            show("decrypted", &decrypted)
        )),
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn tagged_scalars_round_trip_or_are_refused(text in tagged_file(), rules in rules()) {
        tagged_round_trip(&text, &rules).map_err(TestCaseError::fail)?;
    }
}

/// Each core tag on a text it fits, through ksec and back, as data and, for the spellings
/// that survive, as bytes; the tags sops would drop are refused at encryption.
#[test]
fn every_tag_round_trips_or_is_refused() {
    let rules = Rules::default();
    for text in [
        "k: !!str 123\n",
        "k: !!str true\n",
        "k: !!str ~\n",
        "k: !!str 2024-01-02\n",
        "k: !!str |\n  block\n",
        "k: !!str >-\n  folded\n",
        "k: !!null ~\n",
        "k: !!binary /w==\n",
    ] {
        assert_round_trip(text, &rules);
    }
    for text in [
        "k: !!int 0x1F\n",
        "k: !!int \"12\"\n",
        "k: !!bool TRUE\n",
        "k: !!float 1\n",
        "k: !!float .inf\n",
        "k: !!timestamp 2024-01-02\n",
        "k: !!str on\n",
        "k: !!str 'quoted'\n",
        "!!merge <<: x\n",
        "k: &a !!str 1\nj: *a\n",
        "k: [!!str 1, !!str true]\n",
    ] {
        tagged_round_trip(text, &rules).unwrap_or_else(|e| panic!("{e}"));
    }
    for (text, why) in [
        ("k: !!binary aGVsbG8=\n", "!!binary text is not supported"),
        ("k: !custom x\n", "the tag !custom is not supported"),
        ("k: !!set {a: null}\n", "the tag !!set is not supported"),
    ] {
        let error = encrypt(text.as_bytes(), Format::Yaml, &rules).expect_err(text);
        assert!(
            error.contains(why) && error.contains("line 1, column 4"),
            "{text}: {error}"
        );
    }
}

// ---- Property 3: the real sops reads what ksec writes ---------------------------------------

/// How many generated cases of each kind (YAML tree, JSON tree, hand-written YAML) go through
/// the real sops.
const SOPS_SAMPLE: usize = 8;

/// Cases ksec refuses are skipped here (the round-trip properties report them); at most this
/// many tries per kind are made to find [`SOPS_SAMPLE`] cases.
const SOPS_TRIES: usize = 40;

/// Tries for tagged files, most of which ksec refuses (a tag on text that does not fit it).
const SOPS_TAGGED_TRIES: usize = 200;

/// The same sample on every run: a disagreement with sops is reproducible.
fn sample_runner() -> TestRunner {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, b"ksec roundtrip_props sops sample");
    TestRunner::new_with_rng(ProptestConfig::default(), rng)
}

fn sample<S: Strategy>(strategy: &S, runner: &mut TestRunner) -> S::Value {
    strategy
        .new_tree(runner)
        .expect("the strategies generate without rejecting everything")
        .current()
}

/// A directory for the cases, with an identity file for sops: `None` without sops, outside CI.
fn sops_bench() -> Option<Dir> {
    let bench = Dir::with_sops()?;
    bench.write(KEY_FILE, format!("{}\n", KEY.secret));
    Some(bench)
}

/// The bench's age identity file, for `sops decrypt`.
const KEY_FILE: &str = "keys.txt";

/// `sops decrypt PATH` with the run's identity.
fn sops_decrypt(bench: &Dir, path: &Path) -> Run {
    bench
        .sops()
        .env("SOPS_AGE_KEY_FILE", bench.path(KEY_FILE))
        .arg("decrypt")
        .arg(path)
        .run()
}

/// Writes a case file named so that sops reads it as `format`.
fn write_case(bench: &Dir, name: &str, format: Format, bytes: &[u8]) -> PathBuf {
    bench.write(&format!("{name}.{}", extension(format)), bytes)
}

/// Encrypts `plaintext` with ksec and decrypts it with `sops decrypt`: sops must accept it
/// (MAC checked, every comment decrypted) and print `expected`, or else exactly the data it
/// prints for its own encryption of the same plaintext (sops's own changes are not ksec's).
/// `Ok(false)`: ksec refused the input, nothing was checked.
fn check(
    bench: &Dir,
    name: &str,
    plaintext: &[u8],
    expected: &[Data],
    format: Format,
    rules: &Rules,
) -> Result<bool, String> {
    let Ok(encrypted) = encrypt(plaintext, format, rules) else {
        eprintln!("note: {name}: ksec refuses this input (the round-trip properties report it)");
        return Ok(false);
    };
    let context = || {
        format!(
            "rules: {rules:?}\n{}\n{}",
            show("plaintext", plaintext),
            show("encrypted by ksec", &encrypted)
        )
    };
    let path = write_case(bench, &format!("{name}.ksec"), format, &encrypted);
    let output = sops_decrypt(bench, &path);
    let stderr = output.stderr_text();
    if !output.success() {
        return Err(format!(
            "{name}: sops decrypt failed (exit {}):\n{stderr}\n{}",
            output.exit(),
            context()
        ));
    }
    // sops cannot read its own foot comments back either; those warnings are not ksec's.
    let reference = LazyCell::new(|| sops_round_trip(bench, name, plaintext, format, rules));
    if stderr.contains(UNDECRYPTED_COMMENT) {
        if !reference.as_ref().is_ok_and(|r| r.warned) {
            return Err(format!(
                "{name}: sops cannot decrypt a comment ksec encrypted (sops reads its own file fine):\n{stderr}\n{}",
                context()
            ));
        }
        eprintln!("note: {name}: sops warns about an undecrypted comment in its own file too");
    }
    let printed = output.stdout;
    let data = |bytes: &[u8]| formats::parse(format, bytes, "sops output").map(|tree| documents_data(&tree));
    let json = format == Format::Json;
    match data(&printed) {
        Ok(printed_data) if same_documents(&printed_data, expected, json) => return Ok(true),
        _ => {}
    }
    // sops has quirks of its own (go-yaml's comment handling, block headers it cannot read
    // back): what sops prints for its own encryption of the plaintext tells them apart.
    let agrees_with_sops = match (&*reference, data(&printed)) {
        (Ok(reference), _) if reference.printed == printed => true,
        (Ok(reference), Ok(printed_data)) => {
            data(&reference.printed).is_ok_and(|reference_data| same_documents(&reference_data, &printed_data, json))
        }
        _ => false,
    };
    if agrees_with_sops {
        eprintln!("note: {name}: sops changes this input's data for its own files too; ksec's output agrees with sops");
        return Ok(true);
    }
    Err(format!(
        "{name}: sops prints other data than the plaintext holds\n{}\n{}\n--- expected ---\n{}--- sops printed (parsed) ---\n{}\n--- sops's own round trip ---\n{}",
        context(),
        show("sops output", &printed),
        describe_documents(expected),
        data(&printed).map_or_else(|e| e.to_string(), |d| describe_documents(&d)),
        reference
            .as_ref()
            .map_or_else(|e| e.clone(), |r| show("sops", &r.printed))
    ))
}

/// What sops prints for its own encryption of `plaintext` under the same rules.
fn sops_round_trip(
    bench: &Dir,
    name: &str,
    plaintext: &[u8],
    format: Format,
    rules: &Rules,
) -> Result<SopsRoundTrip, String> {
    let mut config = format!("creation_rules:\n  - age: {}\n", KEY.recipient);
    if let Some((field, text)) = rules.field {
        config.push_str(&format!("    {field}: '{text}'\n"));
    }
    if rules.mac_only_encrypted {
        config.push_str("    mac_only_encrypted: true\n");
    }
    let config_path = bench.write(&format!("{name}.sops-config.yaml"), config);
    let plain_path = write_case(bench, &format!("{name}.plain"), format, plaintext);
    let encrypted = bench
        .sops()
        .arg("--config")
        .arg(&config_path)
        .arg("encrypt")
        .arg(&plain_path)
        .run();
    if !encrypted.success() {
        return Err(format!(
            "sops encrypt refused the plaintext: {}",
            encrypted.stderr_text()
        ));
    }
    let path = write_case(bench, &format!("{name}.sops"), format, &encrypted.stdout);
    let decrypted = sops_decrypt(bench, &path);
    if !decrypted.success() {
        return Err(format!(
            "sops decrypt of its own file failed: {}",
            decrypted.stderr_text()
        ));
    }
    Ok(SopsRoundTrip {
        warned: decrypted.stderr_text().contains(UNDECRYPTED_COMMENT),
        printed: decrypted.stdout,
    })
}

/// What sops printed for its own encryption of a plaintext.
struct SopsRoundTrip {
    printed: Vec<u8>,
    /// sops warned that it could not decrypt one of its own comments.
    warned: bool,
}

/// The start of sops's warning about a comment it could not decrypt.
const UNDECRYPTED_COMMENT: &str = "Found possibly unencrypted comment";

/// Runs up to [`SOPS_TRIES`] generated cases until [`SOPS_SAMPLE`] were checked with sops.
fn sops_sample(
    bench: &Dir,
    kind: &str,
    format: Format,
    mut case: impl FnMut() -> Option<(Vec<u8>, Vec<Data>, Rules)>,
    failures: &mut Vec<String>,
) {
    let tries = if kind.ends_with("tagged") {
        SOPS_TAGGED_TRIES
    } else {
        SOPS_TRIES
    };
    let mut checked = 0;
    for attempt in 0..tries {
        if checked == SOPS_SAMPLE {
            break;
        }
        let Some((plaintext, expected, rules)) = case() else {
            continue;
        };
        match check(
            bench,
            &format!("{kind}-{attempt}"),
            &plaintext,
            &expected,
            format,
            &rules,
        ) {
            Ok(true) => checked += 1,
            Ok(false) => {}
            Err(failure) => {
                checked += 1;
                failures.push(failure);
            }
        }
    }
    if checked < SOPS_SAMPLE {
        failures.push(format!(
            "{kind}: only {checked} of {SOPS_SAMPLE} generated cases were accepted by ksec in {tries} tries"
        ));
    }
}

#[test]
fn sops_decrypts_ksec_output_to_the_same_data() {
    let Some(bench) = sops_bench() else { return };
    let mut runner = sample_runner();
    let mut failures = Vec::new();

    for format in [Format::Yaml, Format::Json] {
        let strategy = (roots(format), rules());
        let kind = format!("{}-tree", format.name());
        let case = || {
            let (roots, rules) = sample(&strategy, &mut runner);
            // A tree ksec cannot even write is reported by the round-trip properties.
            let text = emit_checked(&roots, format).ok()?;
            Some((text, documents_data(&plain_tree(&roots)), rules))
        };
        sops_sample(&bench, &kind, format, case, &mut failures);
    }

    let strategy = (dotenv_file(), rules());
    let case = || {
        let (text, rules) = sample(&strategy, &mut runner);
        let parsed = formats::parse(Format::Dotenv, text.as_bytes(), "generated.env").expect("generated dotenv parses");
        Some((text.into_bytes(), documents_data(&parsed), rules))
    };
    sops_sample(&bench, "dotenv", Format::Dotenv, case, &mut failures);

    let strategy = (yfile(true), rules());
    let case = || {
        let (file, rules) = sample(&strategy, &mut runner);
        let text = file.render().into_bytes();
        let parsed = formats::parse(Format::Yaml, &text, "generated.yaml").expect("generated YAML parses");
        Some((text, documents_data(&parsed), rules))
    };
    sops_sample(&bench, "yaml-text", Format::Yaml, case, &mut failures);

    // Last, so the samples before it stay the ones already checked.
    let strategy = (ini_file(), rules());
    let case = || {
        let (text, rules) = sample(&strategy, &mut runner);
        let parsed = formats::parse(Format::Ini, text.as_bytes(), "generated.ini").expect("generated INI parses");
        Some((text.into_bytes(), documents_data(&parsed), rules))
    };
    sops_sample(&bench, "ini", Format::Ini, case, &mut failures);

    // Tagged files ksec accepts: sops reads the same values from them.
    let strategy = (tagged_file(), rules());
    let case = || {
        let (text, rules) = sample(&strategy, &mut runner);
        let parsed = formats::parse(Format::Yaml, text.as_bytes(), "generated.yaml").ok()?;
        Some((text.into_bytes(), documents_data(&parsed), rules))
    };
    sops_sample(&bench, "yaml-tagged", Format::Yaml, case, &mut failures);

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn sops_reads_tagged_scalars_ksec_writes_as_the_same_values() {
    let Some(bench) = sops_bench() else { return };
    let mut failures = Vec::new();
    let text = "s: !!str 123\nt: !!str true\nn: !!str ~\nd: !!str 2024-01-02\nb: !!str |\n  block\n\
        f: !!str >-\n  folded\nz: !!null ~\nbytes: !!binary /w==\ni: !!int 0x1F\nq: !!int \"12\"\n\
        o: !!bool TRUE\nx: !!float 1\ninf: !!float .inf\nw: !!timestamp 2024-01-02\nl: [!!str 1, !!str false]\n";
    let parsed = formats::parse(Format::Yaml, text.as_bytes(), "tags.yaml").expect("the tagged file parses");
    for (i, rules) in [Rules::default(), rule("encrypted_regex", "^(s|b|z|i)$")]
        .iter()
        .enumerate()
    {
        match check(
            &bench,
            &format!("tags-{i}"),
            text.as_bytes(),
            &documents_data(&parsed),
            Format::Yaml,
            rules,
        ) {
            Ok(true) => {}
            Ok(false) => failures.push(format!("tags-{i}: ksec refused the tagged file")),
            Err(failure) => failures.push(failure),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---- Minimal failing cases the properties found ---------------------------------------------
//
// Each was shrunk to its smallest input. Those that still fail are open ksec bugs; those that
// pass were fixed while this suite was written and stay as regression tests.

fn assert_round_trip(text: &str, rules: &Rules) {
    if let Err(failure) = round_trip(text.as_bytes(), Format::Yaml, rules) {
        panic!("{failure}");
    }
}

/// Encrypts `input` and decrypts it into another format (`ksec decrypt --output-type`); the
/// output must read back as the input's data.
fn assert_converts(input: &str, from: Format, to: Format) {
    let encrypted = encrypt(input.as_bytes(), from, &Rules::default()).unwrap_or_else(|e| panic!("{e}"));
    let options = DecryptOptions {
        file: file_name(from),
        input_format: Some(from),
        output_format: Some(to),
        identities: &IDENTITIES,
        mac: ksec::sops_file::MacPolicy::Verify,
        output: OutputOptions::default(),
    };
    let output = ops::decrypt(&encrypted, &options).unwrap_or_else(|e| {
        panic!(
            "ops::decrypt to {} failed: {e}\n{}",
            to.name(),
            show("input", input.as_bytes())
        )
    });
    let original = formats::parse(from, input.as_bytes(), "input").expect("the input parses");
    let converted = formats::parse(to, &output.bytes, "output").expect("ops::decrypt checks its output parses");
    assert!(
        same_documents(&documents_data(&converted), &documents_data(&original), true),
        "{}",
        show("output", &output.bytes)
    );
}

/// sops must decrypt ksec's encryption of `text` (MAC and comments included) to its data.
fn assert_sops_reads(text: &str, rules: &Rules) {
    let Some(bench) = sops_bench() else { return };
    let parsed = formats::parse(Format::Yaml, text.as_bytes(), "case.yaml").expect("the case parses");
    match check(
        &bench,
        "case",
        text.as_bytes(),
        &documents_data(&parsed),
        Format::Yaml,
        rules,
    ) {
        Ok(true) => {}
        Ok(false) => panic!("{}", encrypt(text.as_bytes(), Format::Yaml, rules).unwrap_err()),
        Err(failure) => panic!("{failure}"),
    }
}

fn rule(field: &'static str, text: &'static str) -> Rules {
    Rules {
        field: Some((field, text)),
        mac_only_encrypted: false,
    }
}

/// Found by `sops_decrypts_ksec_output_to_the_same_data` (yaml-text, once the dotenv sample
/// shifted the sequence): go-yaml gives a comment trailing a flow collection to that
/// collection, so sops looked for it under the collection's path and warned.
#[test]
fn sops_decrypts_a_comment_trailing_a_flow_collection() {
    for text in [
        "a:\n  x: [] # c\n  k: v\n",
        "a:\n  x: [1] # c\n",
        "l:\n  - [1, 2] # c\n  - b\n",
        "x: {a: [1]} # c\n",
    ] {
        assert_round_trip(text, &Rules::default());
        assert_sops_reads(text, &Rules::default());
    }
}

/// Found by the yaml fuzz target: a top-level mapping may be indented, and the `sops` block
/// was written at column 0 after it, so the output did not read back and `encrypt` stopped
/// with "this is a ksec bug".
#[test]
fn an_indented_top_level_mapping_round_trips() {
    for text in [
        "  a: 1\n  b: [x, z]\n",
        "  a: 1\n  sops_unencrypted: x\n",
        "# c\n   a:\n      b: v\n   c: [1]\n",
    ] {
        assert_round_trip(text, &Rules::default());
        assert_sops_reads(text, &Rules::default());
    }
}

/// Found by the yaml fuzz target: a block scalar whose text begins with `|` or `>` was taken
/// for one without text (granit's span then starts at the header), so encrypting it failed
/// ("this is a ksec bug"); and a `|` in a comment between the key and the header was taken
/// for the header, so decryption changed the block's indentation.
#[test]
fn block_scalars_whose_text_or_comment_looks_like_a_header_round_trip() {
    for text in [
        "a: |-\n  |+\nb: 1\n",
        "a: |\n  > quoted\n  text\nb: 1\n",
        "a: >\n  |x\nb: 1\n",
        "a: # |\n  |\n  x\nb: 1\n",
        "l:\n  - |\n    >-\n  - x\n",
    ] {
        assert_round_trip(text, &Rules::default());
        assert_sops_reads(text, &Rules::default());
    }
}

/// Found by `yaml_trees_round_trip_byte_for_byte` (fixed in 7bdcc43): the decrypted file was
/// empty, so `ops::decrypt` refused it (sops prints `{}`), for sops's encryption of it too.
#[test]
fn empty_document_round_trips() {
    assert_round_trip("{}\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte` (fixed in 7bdcc43): the second document came
/// back as `---\n` alone, its `{}` lost.
#[test]
fn empty_document_after_another_round_trips() {
    assert_round_trip("a: 1\n---\n{}\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte` after 7bdcc43: a comment with the empty
/// mapping still makes the decrypted output unreadable, so `ops::decrypt` refuses it, for sops's
/// encryption of it too (sops prints `# c` and `{}`).
#[test]
fn empty_document_with_a_comment_round_trips() {
    assert_round_trip("# c\n{}\n", &Rules::default());
}

/// Same cause in a later document: it comes back as `# c` alone, its `{}` lost.
#[test]
fn empty_document_with_a_comment_after_another_round_trips() {
    assert_round_trip("a: 1\n---\n# c\n{}\n", &Rules::default());
}

/// Found by `hand_written_yaml_keeps_its_layout`: after a plain scalar starting with `-` in an
/// indentless sequence, the comment is filed under the parent mapping when reading plaintext but
/// under the sequence when reading ciphertext, so `ops::encrypt` refuses its own output.
#[test]
fn comment_after_a_dash_scalar_in_an_indentless_sequence_round_trips() {
    assert_round_trip("y:\n- -1\n# c\n- a\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte` (ksec writes "\n" as `|4+` and an empty line):
/// a keep-chomped block with no content line decrypts to `|3+` and an extra empty line.
#[test]
fn keep_chomped_block_without_content_round_trips() {
    assert_round_trip("a: |4+\n\n", &Rules::default());
}

/// Same cause: the ciphertext is written at column 0 and swallows the next key, so
/// `ops::encrypt` refuses its own output.
#[test]
fn keep_chomped_block_without_content_before_a_key_round_trips() {
    assert_round_trip("a: |4+\n\nb: 1\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte`: the block's last line (a tab) is left after
/// the ciphertext, so the encrypted value is `ENC[…]\n\t` and decryption writes the tab twice.
#[test]
fn block_whose_last_line_is_a_tab_round_trips() {
    assert_round_trip("k: |-\n  a\n  \t\n", &Rules::default());
}

/// Found by `hand_written_yaml_keeps_its_layout` (fixed in 7bdcc43): text with an astral-plane
/// character came back double-quoted with `\U0001F600` escapes (go-yaml's style).
#[test]
fn plain_text_with_an_emoji_keeps_its_spelling() {
    assert_round_trip("k: emoji 😀\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte` after 7bdcc43: go-yaml (so sops, and ksec's
/// own emitter) escapes an emoji in double quotes; decryption now writes it unescaped, so a
/// file sops decrypted does not come back as it was.
#[test]
fn go_yaml_escaped_emoji_keeps_its_spelling() {
    assert_round_trip("k: \"\\U0001F600\"\n", &Rules::default());
}

/// Found while shrinking `plain_text_with_an_emoji_keeps_its_spelling`: a `|` block with a line ending in a space comes back as a
/// double-quoted string (go-yaml cannot write it as a block; the source did).
#[test]
fn literal_block_with_a_trailing_space_stays_a_block() {
    assert_round_trip("k: |\n  a \n  b\n", &Rules::default());
}

/// Found by `yaml_trees_round_trip_byte_for_byte`: a nested sequence whose first item is a
/// comment is written as `-      # comment` followed by ` - x`, which is not YAML.
#[test]
fn emitted_nested_sequence_starting_with_a_comment_parses() {
    let mut inner = Sequence::default();
    inner.items.push(SequenceItem::Comment(Comment::new(" c")));
    inner.items.push(SequenceItem::Node(Node::scalar(Value::str("x"))));
    let mut outer = Sequence::default();
    outer.items.push(SequenceItem::Node(Node::Sequence(inner)));
    let mut root = Mapping::default();
    root.push("data", Node::Sequence(outer));
    if let Err(failure) = emit_checked(&[root], Format::Yaml) {
        panic!("{failure}");
    }
}

/// Found by `yaml_trees_round_trip_byte_for_byte`: a multi-line string starting with a line
/// break (or space) in a list item is written `- |4-` with its content two columns in, which no
/// YAML reader accepts, so `ksec decrypt --output-type yaml` refuses it. sops writes the same
/// unreadable text.
#[test]
fn string_starting_with_a_line_break_in_a_list_converts_to_yaml() {
    assert_converts("{\"data\": [\"\\nA\"]}", Format::Json, Format::Yaml);
}

/// Found by `yaml_trees_round_trip_byte_for_byte`: a value ending in U+2028 after a line break
/// is written as a `|+` block that reads back with an extra line break, so
/// `ksec decrypt --output-type yaml` refuses it (sops writes it).
#[test]
fn line_separator_after_a_line_break_converts_to_yaml() {
    assert_converts("{\"d\": \"a\\n\\u2028\"}", Format::Json, Format::Yaml);
}

/// Found by the sops sample: go-yaml reads a comment after a block header (`key: | # note`) as
/// a comment before the entry, so sops expects the value encrypted; ksec leaves it in clear and
/// sops fails (exit 25).
#[test]
fn sops_applies_encrypted_comment_regex_to_a_block_header_comment() {
    assert_sops_reads("a: | # sops:enc\n  v\n", &rule("encrypted_comment_regex", "sops:enc"));
}

/// Same cause: ksec encrypts the value sops expects in clear; sops reports a MAC mismatch.
#[test]
fn sops_applies_unencrypted_comment_regex_to_a_block_header_comment() {
    assert_sops_reads(
        "a: |- # sops:plain\n  v\n",
        &rule("unencrypted_comment_regex", "sops:plain"),
    );
}

/// Found by the sops sample: go-yaml files a comment at the dash column of an indentless
/// sequence under the sequence; ksec files it under the mapping, so sops cannot decrypt it and
/// prints it as `#ENC[…]`.
#[test]
fn sops_decrypts_a_comment_before_an_indentless_sequence() {
    assert_sops_reads("name:\n# c\n- a\n", &Rules::default());
}

/// Found by the sops sample: a comment less indented than the entries around it (a line
/// commented out at column 0) belongs, for go-yaml, to the entry after it.
#[test]
fn sops_decrypts_a_comment_less_indented_than_its_mapping() {
    assert_sops_reads("x:\n  a: 1\n# c\n  b: 2\n", &Rules::default());
}

/// Same cause, with data at stake: the comment selects the entry after it for sops, which then
/// expects `b` encrypted; ksec leaves it in clear and sops fails (exit 25).
#[test]
fn sops_applies_encrypted_comment_regex_to_a_comment_less_indented_than_its_mapping() {
    assert_sops_reads(
        "x:\n  a: 1\n# sops:enc\n  b: v\n",
        &rule("encrypted_comment_regex", "sops:enc"),
    );
}

/// Found by the sops sample: a comment after a nested mapping, at the parent's indentation and
/// before a dedent, is the nested mapping's foot comment for go-yaml.
#[test]
fn sops_decrypts_a_comment_after_a_nested_mapping() {
    assert_sops_reads("x:\n    y:\n        k: a\n    # c\nz: 1\n", &Rules::default());
}

/// Found by the sops sample: a comment on an empty list item (`- # c`) is a foot comment of the
/// document for go-yaml.
#[test]
fn sops_decrypts_a_comment_on_an_empty_list_item() {
    assert_sops_reads("data:\n  - # c\n", &Rules::default());
}

/// Found by the sops sample (yaml-text, once tags were generated): go-yaml hangs the comments
/// above an empty list item (`-`, or only a tag or anchor) on the next item, so under
/// `encrypted_comment_regex` sops expected that item encrypted and panicked on it in clear.
#[test]
fn sops_decrypts_a_comment_above_an_empty_list_item() {
    for item in [
        "-",
        "- !!null",
        "- &x",
        "- !!str",
        "- x\n    # sops:enc below\n    -\n    -",
    ] {
        for next in ["    - -9091\n", ""] {
            let text = format!("y:\n  a:\n    # sops:enc below\n    {item}\n{next}# sops:enc x\nk: v\n");
            assert_sops_reads(&text, &rule("encrypted_comment_regex", "sops:enc"));
        }
    }
}
