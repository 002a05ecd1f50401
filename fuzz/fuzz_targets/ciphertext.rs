//! Any text as an `ENC[…]` value: parsed, decrypted and typed, or refused; any bytes sealed
//! as a value decrypt to themselves.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::ciphertext(input));
