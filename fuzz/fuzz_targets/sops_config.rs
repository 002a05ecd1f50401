//! Any bytes as a `.sops.yaml`: read or refused; a config that reads matches paths without
//! a panic.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::sops_config(input));
