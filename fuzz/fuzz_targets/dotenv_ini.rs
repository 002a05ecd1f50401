//! Any bytes: the dotenv and INI stores return an error or a tree, never panic; what they write
//! reads back as the same data.
#![no_main]

use ksec::formats::{self, Format};
use ksec::tree::Data;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    for format in [Format::Dotenv, Format::Ini] {
        let Ok(mut tree) = formats::parse(format, input, "fuzz") else {
            continue;
        };
        if let Some(node) = tree.documents[0].metadata.as_ref() {
            let _ = ksec::metadata::Metadata::from_node(node, "fuzz");
        }
        let Ok(output) = formats::emit(format, &mut tree, format, Default::default()) else {
            continue;
        };
        let again = formats::parse(format, &output, "again").expect("ksec reads what it writes");
        assert!(
            Data::from(&tree.documents[0].root) == Data::from(&again.documents[0].root),
            "{format:?}: the same data after a round trip"
        );
    }
});
