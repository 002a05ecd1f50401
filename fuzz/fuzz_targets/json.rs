//! Any bytes: the JSON store returns an error or a tree, never panics; what it writes reads
//! back as the same data.
#![no_main]

use ksec::formats::{self, Format};
use ksec::tree::Data;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(mut tree) = formats::parse(Format::Json, input, "fuzz.json") else {
        return;
    };
    let Ok(output) = formats::emit(Format::Json, &mut tree, Format::Json, Default::default()) else {
        return;
    };
    let again = formats::parse(Format::Json, &output, "again.json").expect("ksec reads the JSON it writes");
    for (a, b) in tree.documents.iter().zip(&again.documents) {
        assert!(Data::from(&a.root) == Data::from(&b.root), "the same data after a round trip");
    }
});
