//! Hostile input: every parser returns an error instead of panicking, and ksec never crashes
//! on a malformed encrypted file (Flux wraps sops in `recover()` because sops does).

use proptest::prelude::*;

use ksec::formats::{self, Format};

/// Pieces of YAML and sops syntax, so random input reaches deep parser states.
fn yaml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("key: value\n".to_string()),
        Just("- item\n".to_string()),
        Just("  nested: 1\n".to_string()),
        Just("---\n".to_string()),
        Just("# comment\n".to_string()),
        Just("a: |\n  block\n".to_string()),
        Just("{a: [1, 2]}\n".to_string()),
        Just("&x v\n*x\n".to_string()),
        Just("sops:\n  version: 3.11.0\n".to_string()),
        Just("x: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n".to_string()),
        Just("\"q\\u00e9\": 'it''s'\n".to_string()),
        "[ -~\\t\\n]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn yaml_parser_never_panics(parts in prop::collection::vec(yaml_fragment(), 0..12)) {
        let text = parts.concat();
        let _ = formats::parse(Format::Yaml, text.as_bytes(), "fuzz.yaml");
    }

    #[test]
    fn json_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = formats::parse(Format::Json, &bytes, "fuzz.json");
    }

    #[test]
    fn json_like_text_never_panics(text in "[{}\\[\\]:,\"a-z0-9.eE+\\-\\\\ ]{0,80}") {
        let _ = formats::parse(Format::Json, text.as_bytes(), "fuzz.json");
    }

    #[test]
    fn dotenv_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = formats::parse(Format::Dotenv, &bytes, "fuzz.env");
    }

    /// Flattened metadata keys in any shape (lists and mappings mixed, odd indices) are read
    /// or refused, never a panic.
    #[test]
    fn flattened_metadata_never_panics(
        keys in prop::collection::vec("sops_[a-z]{0,3}(__(map|list)_[a-z0-9]{0,2}){0,4}=[a-z0-9]{0,4}", 0..8)
    ) {
        let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
        if let Ok(tree) = formats::parse(Format::Dotenv, text.as_bytes(), "fuzz.env")
            && let Some(node) = tree.documents[0].metadata.as_ref()
        {
            let _ = ksec::metadata::Metadata::from_node(node, "fuzz.env");
        }
    }

    #[test]
    fn ini_parser_never_panics(text in "[\\[\\]=:;#`\"\\\\ a-z\n]{0,120}") {
        if let Ok(tree) = formats::parse(Format::Ini, text.as_bytes(), "fuzz.ini") {
            let _ = formats::ini::emit(&tree);
        }
    }

    #[test]
    fn binary_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = formats::parse(Format::Binary, &bytes, "fuzz.bin");
        let _ = formats::parse_guessing(&bytes, "fuzz");
    }

    #[test]
    fn ciphertext_parser_never_panics(text in "ENC\\[AES256_GCM,data:[A-Za-z0-9+/=,:\\]]{0,60}") {
        let _ = ksec::crypt::cipher::Ciphertext::parse(&text);
    }

    /// A byte of an encrypted file changed: decryption fails cleanly (no panic), or yields the
    /// true values. (The SOPS format authenticates values, not structure: a renamed
    /// `apiVersion`, or a label re-indented into a top-level key leaving a null behind, still
    /// decrypts; every non-null value is checked by the MAC, in order.)
    #[test]
    fn decrypting_damaged_files_never_panics(cut in 0usize..4000, byte in any::<u8>()) {
        let root = env!("CARGO_MANIFEST_DIR");
        let original = std::fs::read(format!("{root}/testdata/secret.enc.yaml")).unwrap();
        let plaintext = std::fs::read(format!("{root}/testdata/secret.yaml")).unwrap();
        let mut damaged = original.clone();
        let at = cut % damaged.len();
        damaged[at] = byte;
        let mut identities = ksec::keys::Identities::default();
        let key = std::fs::read_to_string(format!("{root}/testdata/keys/sample.agekey")).unwrap();
        identities.age.add_text("sample key", &key).unwrap();
        let options = ksec::ops::DecryptOptions {
            file: "damaged.yaml",
            input_format: Some(Format::Yaml),
            output_format: None,
            identities: &identities,
            mac: ksec::sops_file::MacPolicy::Verify,
            output: Default::default(),
        };
        if let Ok(output) = ksec::ops::decrypt(&damaged, &options) {
            let decrypted = formats::parse(Format::Yaml, &output.bytes, "out").unwrap().into_plain("out").unwrap();
            let expected = formats::parse(Format::Yaml, &plaintext, "in").unwrap().into_plain("in").unwrap();
            prop_assert_eq!(values(&decrypted), values(&expected));
        }
    }
}

/// Every non-null leaf value in document order (what the MAC covers).
fn values(tree: &ksec::tree::Tree<ksec::tree::Plain>) -> Vec<ksec::tree::Value> {
    fn walk(data: &ksec::tree::Data, out: &mut Vec<ksec::tree::Value>) {
        match data {
            ksec::tree::Data::Mapping(entries) => entries.iter().for_each(|(_, d)| walk(d, out)),
            ksec::tree::Data::Sequence(items) => items.iter().for_each(|d| walk(d, out)),
            ksec::tree::Data::Value(ksec::tree::Value::Null) => {}
            ksec::tree::Data::Value(v) => out.push(v.clone()),
        }
    }
    let mut out = Vec::new();
    for doc in &tree.documents {
        walk(&ksec::tree::Data::from(&doc.root), &mut out);
    }
    out
}
