//! Any bytes: the YAML store returns an error or a tree, never panics; a tree without a `sops`
//! block that nothing changed is written back as exactly the input (layout keeping).
#![no_main]

use ksec::formats::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(mut tree) = formats::parse(Format::Yaml, input, "fuzz.yaml") else {
        return;
    };
    let has_metadata = tree.documents.iter().any(|d| d.metadata.is_some());
    let Ok(output) = formats::emit(Format::Yaml, &mut tree, Format::Yaml, Default::default()) else {
        return;
    };
    if !has_metadata {
        assert!(output == input, "an untouched tree must be written back byte for byte");
    }
});
