//! Any bytes as YAML: an error or a tree, never a panic; an untouched tree is written back
//! byte for byte. Run with `-dict=fuzz/yaml.dict` to reach anchors, aliases and deep nesting.
//! The check itself is in `fuzz/checks`, which `tests/fuzz_corpus.rs` replays on stable Rust.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| checks::yaml(input));
