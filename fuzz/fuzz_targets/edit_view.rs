//! Any bytes as an edited view of the sample Secret: read back and sealed, or refused; never
//! a panic.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::edit_view(input));
