//! Any bytes as two edited versions of the sample Secret (split at the first NUL), merged by
//! the merge driver: a clean merge that opens, or a conflict; never a panic.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::merge(input));
