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
