//! ksec keeps Kubernetes Secrets (and any YAML or JSON file) encrypted in Git, in the SOPS 3.x
//! file format: files ksec writes decrypt with `sops`, and files `sops` writes decrypt with ksec.
//!
//! Data flows one way:
//!
//! ```text
//! bytes ──formats::parse──▶ Tree ──crypt::encrypt/decrypt──▶ Tree ──formats::emit──▶ bytes
//!                             ▲                 │
//!               metadata::Metadata ◀── keys (age) wrap/unwrap the data key
//! ```

pub mod check;
pub mod cli;
pub mod config;
pub mod crypt;
pub mod edit;
pub mod error;
pub mod formats;
mod go_base64;
pub mod io;
pub mod keys;
pub mod kube;
pub mod metadata;
pub mod ops;
pub mod process;
pub mod rekey;
pub mod rules;
pub mod scalar;
pub mod sops_file;
pub mod timestamp;
pub mod tree;

pub use error::{Error, Result};
