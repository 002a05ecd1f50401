//! Any bytes as a `sops` block in every format that holds one: read or refused; what reads
//! is written and reads again.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::metadata(input));
