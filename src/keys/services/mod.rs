//! What every key held by a service shares. For now: the refusal of key types ksec reads,
//! keeps and names but cannot use yet.

mod error;

pub use error::NotUsableYet;
