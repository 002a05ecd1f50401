//! What each fuzz target checks, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and
//! by `tests/fuzz_corpus.rs`, which replays every saved input and every crash the targets
//! found as a plain `cargo test` on stable Rust. A check returns for input it refuses and
//! panics only when ksec misbehaves: a panic in ksec, or a property that does not hold.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use ksec::crypt::cipher::{self, Ciphertext, Opener, Sealer};
use ksec::edit::merge::{self, MergeTarget, Merged, Sides};
use ksec::edit::view::{self, Reading, ViewOptions};
use ksec::formats::yaml::resolve;
use ksec::formats::{self, Format, OutputOptions};
use ksec::keys::{DataKey, Identities};
use ksec::scalar::{self, ValueType};
use ksec::sops_file::{EncryptedFile, MacPolicy, OpenFile, SealOptions};
use ksec::tree::{Data, Value};

/// What a target does with one input.
pub type Check = fn(&[u8]);

/// Every target, by the name of its corpus directory, with its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("yaml", yaml),
    ("json", json),
    ("dotenv_ini", dotenv_ini),
    ("decrypt", decrypt),
    ("ciphertext", ciphertext),
    ("metadata", metadata),
    ("sops_config", sops_config),
    ("edit_view", edit_view),
    ("merge", merge),
];

/// The sample identity, and the sample encrypted Secret it opens.
fn identities() -> &'static Identities {
    static IDENTITIES: OnceLock<Identities> = OnceLock::new();
    IDENTITIES.get_or_init(|| {
        let key = include_str!("../../testdata/keys/sample.agekey");
        let mut identities = Identities::default();
        identities
            .age
            .add_text("sample key", key)
            .expect("the sample key parses");
        identities
    })
}

const SAMPLE: &[u8] = include_bytes!("../../testdata/secret.enc.yaml");

/// Opened once: unwrapping the data key and checking the MAC would otherwise be most of the
/// work per input.
fn sample() -> &'static OpenFile {
    static SAMPLE_OPEN: OnceLock<OpenFile> = OnceLock::new();
    SAMPLE_OPEN.get_or_init(|| {
        EncryptedFile::parse(SAMPLE, Format::Yaml, "secret.enc.yaml")
            .and_then(|file| file.open(identities(), MacPolicy::Verify))
            .expect("the sample file opens")
    })
}

/// Any bytes: the YAML store returns an error or a tree, never panics; what it writes reads
/// back as the same data, and a tree that nothing changed is written back as exactly the
/// input (layout keeping), unless it has a `sops` block (moved to the end) or a document
/// whose top is not a block mapping (`{a: b}`, written anew as a block mapping by design,
/// and then as go-yaml writes it: see [`as_go_yaml_writes`]).
pub fn yaml(input: &[u8]) {
    let Ok(mut tree) = formats::parse(Format::Yaml, input, "fuzz.yaml") else {
        return;
    };
    let has_metadata = tree.documents.iter().any(|d| d.metadata.is_some());
    let rewritten = tree
        .documents
        .iter()
        .any(|d| d.layout.as_ref().is_some_and(|l| l.rewrite));
    let Ok(output) = formats::emit(Format::Yaml, &mut tree, Format::Yaml, OutputOptions::default()) else {
        return;
    };
    if !has_metadata && !rewritten {
        assert!(output == input, "an untouched tree must be written back byte for byte");
    }
    let again = formats::parse(Format::Yaml, &output, "again.yaml").expect("ksec reads the YAML it writes");
    for (before, after) in tree.documents.iter().zip(&again.documents) {
        let (mut before_data, mut after_data) = (Data::from(&before.root), Data::from(&after.root));
        if before.layout.as_ref().is_some_and(|l| l.rewrite) {
            before_data = as_go_yaml_writes(before_data);
            after_data = as_go_yaml_writes(after_data);
        }
        assert!(same_data(&before_data, &after_data), "the same data after a round trip");
    }
    assert!(
        tree.documents.len() == again.documents.len(),
        "as many documents after a round trip"
    );
}

/// Whether two trees hold the same data, a NaN being the same as a NaN (`.nan` reads back as
/// a NaN, which `==` finds unequal to itself).
fn same_data(a: &Data, b: &Data) -> bool {
    match (a, b) {
        (Data::Mapping(a), Data::Mapping(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_data(va, vb))
        }
        (Data::Sequence(a), Data::Sequence(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_data(x, y)),
        (Data::Value(Value::Float(x)), Data::Value(Value::Float(y))) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// A document written anew is written as go-yaml, and so sops, writes it, and go-yaml writes
/// a float without a fraction as digits alone (`1.0` as `1`), which reads back as an integer:
/// sops turns `{a: 1.0}` into `a: 1` too. Such floats compare as the integers they become.
fn as_go_yaml_writes(data: Data) -> Data {
    integral_floats_as_ints(data, &|f| resolve::format_float(f))
}

/// Go's JSON encoder, and so sops, writes a float without a fraction as digits alone too
/// (`1e1` as `10`, `0e5` as `0`), which reads back as an integer.
fn as_go_json_writes(data: Data) -> Data {
    integral_floats_as_ints(data, &|f| scalar::format_float_json(f).unwrap_or_default())
}

/// `data` with every float that `write` spells as a 64-bit integer turned into that integer.
fn integral_floats_as_ints(data: Data, write: &dyn Fn(f64) -> String) -> Data {
    match data {
        Data::Mapping(entries) => Data::Mapping(
            entries
                .into_iter()
                .map(|(k, v)| (k, integral_floats_as_ints(v, write)))
                .collect(),
        ),
        Data::Sequence(items) => Data::Sequence(items.into_iter().map(|v| integral_floats_as_ints(v, write)).collect()),
        Data::Value(Value::Float(f)) => match write(f).parse::<i64>() {
            Ok(i) => Data::Value(Value::Int(i)),
            Err(_) => Data::Value(Value::Float(f)),
        },
        other => other,
    }
}

/// Any bytes: the JSON store returns an error or a tree, never panics; what it writes reads
/// back as the same data (a float without a fraction as the integer Go writes for it).
pub fn json(input: &[u8]) {
    let Ok(mut tree) = formats::parse(Format::Json, input, "fuzz.json") else {
        return;
    };
    let Ok(output) = formats::emit(Format::Json, &mut tree, Format::Json, OutputOptions::default()) else {
        return;
    };
    let again = formats::parse(Format::Json, &output, "again.json").expect("ksec reads the JSON it writes");
    for (a, b) in tree.documents.iter().zip(&again.documents) {
        assert!(
            as_go_json_writes(Data::from(&a.root)) == Data::from(&b.root),
            "the same data after a round trip"
        );
    }
    let _ = formats::json::check_map(input);
}

/// Any bytes: the dotenv and INI stores return an error or a tree, never panic; what they
/// write reads back as the same data.
pub fn dotenv_ini(input: &[u8]) {
    for format in [Format::Dotenv, Format::Ini] {
        let Ok(mut tree) = formats::parse(format, input, "fuzz") else {
            continue;
        };
        let Ok(output) = formats::emit(format, &mut tree, format, OutputOptions::default()) else {
            continue;
        };
        let again = formats::parse(format, &output, "again").expect("ksec reads what it writes");
        assert!(
            Data::from(&tree.documents[0].root) == Data::from(&again.documents[0].root),
            "{format:?}: the same data after a round trip"
        );
    }
}

/// Any bytes as an encrypted file, with the sample identity at hand: decryption fails with an
/// error or succeeds, never panics.
pub fn decrypt(input: &[u8]) {
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
        let options = ksec::ops::DecryptOptions {
            file: "fuzz",
            input_format: Some(format),
            output_format: None,
            identities: identities(),
            mac: MacPolicy::Verify,
            output: Default::default(),
        };
        let _ = ksec::ops::decrypt(input, &options);
    }
}

/// Any text as an `ENC[…]` value: parsed or refused; what parses decrypts with a key or
/// fails, and its plaintext is read as its type or refused. Any non-empty bytes sealed as a
/// value parse back and decrypt to the same bytes.
pub fn ciphertext(input: &[u8]) {
    let key = DataKey::from_bytes(&[7; 32]).expect("32 bytes make a data key");
    let opener = Opener::new(&key);
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = cipher::looks_encrypted(text);
        if let Ok(parsed) = Ciphertext::parse(text) {
            let _ = parsed.iv();
            let _ = parsed.plaintext_len();
            if let Ok(plain) = opener.open(parsed, b"fuzz:") {
                for ty in [
                    ValueType::Str,
                    ValueType::Int,
                    ValueType::Float,
                    ValueType::Bool,
                    ValueType::Time,
                ] {
                    let _ = scalar::parse_plaintext(ty, &plain);
                }
            }
        }
    }
    // An empty value is never sealed: ksec, like sops, leaves it as it is, and sops's reader
    // refuses `data:` with nothing after it.
    if !input.is_empty() {
        let mut sealer = Sealer::new(&key);
        let sealed = sealer.seal(input, b"fuzz:", &[3; cipher::IV_LEN], ValueType::Str);
        let parsed = Ciphertext::parse(&sealed).expect("ksec reads the values it writes");
        let opened = opener
            .open(parsed, b"fuzz:")
            .expect("a value decrypts with its key and path");
        assert!(opened.as_slice() == input, "a value decrypts to what was sealed");
    }
    for ty in [ValueType::Int, ValueType::Float, ValueType::Bool, ValueType::Time] {
        let _ = scalar::parse_plaintext(ty, input);
    }
}

/// Any bytes as a `sops` block, in each format that holds one: read as metadata or refused;
/// metadata that reads is written back and reads again.
pub fn metadata(input: &[u8]) {
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini] {
        let Ok(tree) = formats::parse(format, input, "fuzz") else {
            continue;
        };
        let Some(node) = tree.documents.first().and_then(|d| d.metadata.as_ref()) else {
            continue;
        };
        let Ok(meta) = ksec::metadata::Metadata::from_node(node, "fuzz") else {
            continue;
        };
        let _ = meta.effective_rule();
        let _ = meta.mac_aad("fuzz");
        ksec::metadata::Metadata::from_node(&meta.to_node(), "fuzz").expect("ksec reads the metadata it writes");
    }
}

/// Any bytes as a `.sops.yaml`: read or refused; a config that reads answers which rule
/// covers a few paths without panicking.
pub fn sops_config(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(config) = ksec::config::parse(Path::new("/fuzz/.sops.yaml"), text) else {
        return;
    };
    for file in [
        "/fuzz/secret.yaml",
        "/fuzz/k8s/prod/db.enc.json",
        "/elsewhere/a.env",
        "relative.ini",
    ] {
        let _ = config.rule_requiring_encryption(Path::new(file));
        if let Ok(Some(rule)) = config.rule_for(Path::new(file)) {
            let _ = rule.key_groups();
            let _ = rule.recipient_groups();
        }
    }
}

/// Any bytes as an edited view, read as the editor's result: a tree or an error, never a
/// panic; a tree that reads is written and sealed (Secret `data` encoded again when the view
/// showed it decoded).
pub fn edit_view(input: &[u8]) {
    static DECODED: OnceLock<Reading> = OnceLock::new();
    let decoded = DECODED.get_or_init(|| {
        let options = ViewOptions {
            format: Format::Yaml,
            output: OutputOptions::default(),
            decode_secrets: true,
            header: true,
        };
        view::render(sample().plain(), options)
            .expect("the sample renders")
            .reading
    });
    let _ = view::strip_header(input);
    let _ = merge::check_resolved(input, "fuzz");
    for (format, reading) in [
        (Format::Yaml, decoded.clone()),
        (Format::Yaml, Reading::raw()),
        (Format::Json, Reading::raw()),
    ] {
        let Ok(tree) = view::read(input, format, &reading, "fuzz") else {
            continue;
        };
        if format == Format::Yaml {
            let _ = sample().seal(tree, &SealOptions::new(OutputOptions::default()));
        }
    }
}

/// Any bytes as two edited versions of the sample Secret (split at the first NUL), each
/// sealed with the sample's key and merged against the sample as Git's merge driver does: a
/// clean merge that opens, or a conflict; never a panic.
pub fn merge(input: &[u8]) {
    let at = input.iter().position(|&b| b == 0).unwrap_or(input.len());
    let (ours, theirs) = (&input[..at], input.get(at + 1..).unwrap_or_default());
    let seal = |text: &[u8]| {
        let tree = formats::parse(Format::Yaml, text, "fuzz.yaml")
            .ok()?
            .into_plain("fuzz.yaml")
            .ok()?;
        sample()
            .seal(tree, &SealOptions::new(OutputOptions::default()))
            .ok()
            .map(|sealed| sealed.bytes)
    };
    let (Some(ours), Some(theirs)) = (seal(ours), seal(theirs)) else {
        return;
    };
    let target = MergeTarget {
        name: "fuzz.yaml",
        format: Format::Yaml,
        identities: identities(),
        output: OutputOptions::default(),
    };
    for decode in [true, false] {
        let sides = Sides {
            base: Some(SAMPLE),
            ours: &ours,
            theirs: &theirs,
        };
        match merge::merge(sides, &target, decode, false) {
            Ok(Merged::Clean(sealed)) => {
                EncryptedFile::parse(&sealed.bytes, Format::Yaml, "merged.yaml")
                    .and_then(|file| file.open(identities(), MacPolicy::Verify))
                    .expect("a clean merge opens");
            }
            Ok(Merged::Conflict { view, .. }) => {
                assert!(
                    merge::check_resolved(view.as_bytes(), "fuzz").is_err(),
                    "a conflict view holds a marker"
                );
            }
            Err(_) => {}
        }
    }
}
