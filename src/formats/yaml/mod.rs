//! The YAML store: parse with layout, emit by patching the source text.

pub mod comments;
pub mod emit;
mod fast;
pub mod parse;
pub mod read_back;
pub mod render;
mod repeats;
pub mod resolve;

pub use emit::{EmitOptions, emit};
pub use parse::parse;

/// Whether every byte of `bytes` is `allowed`: a byte at a time within chunks of 64, without
/// stopping inside one, which the compiler turns into vector code (a 10 MiB value is checked
/// in a few million instructions).
fn every_byte(bytes: &[u8], allowed: impl Fn(u8) -> bool) -> bool {
    bytes
        .chunks(64)
        .all(|chunk| chunk.iter().fold(true, |all, &b| all & allowed(b)))
}
