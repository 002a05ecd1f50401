//! Any bytes as an encrypted file of every format, with the sample identity at hand:
//! decrypted or refused, never a panic.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::decrypt(input));
