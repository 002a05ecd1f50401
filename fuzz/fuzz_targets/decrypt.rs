//! Any bytes as an encrypted file, with the sample identity at hand: decryption fails with an
//! error or succeeds, never panics.
#![no_main]

use std::sync::OnceLock;

use ksec::formats::Format;
use ksec::keys::Identities;
use libfuzzer_sys::fuzz_target;

fn identities() -> &'static Identities {
    static IDENTITIES: OnceLock<Identities> = OnceLock::new();
    IDENTITIES.get_or_init(|| {
        let key = include_str!("../../testdata/keys/sample.agekey");
        let mut identities = Identities::default();
        identities.age.add_text("sample key", key).expect("the sample key parses");
        identities
    })
}

fuzz_target!(|input: &[u8]| {
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
        let options = ksec::ops::DecryptOptions {
            file: "fuzz",
            input_format: Some(format),
            output_format: None,
            identities: identities(),
            mac: ksec::sops_file::MacPolicy::Verify,
            output: Default::default(),
        };
        let _ = ksec::ops::decrypt(input, &options);
    }
});
