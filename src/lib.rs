//! ksec keeps Kubernetes Secrets (and any YAML or JSON file) encrypted in Git, in the SOPS 3.x
//! file format: files ksec writes decrypt with `sops`, and files `sops` writes decrypt with ksec.
//!
//! Data flows one way:
//!
//! ```text
//! bytes ──formats::parse──▶ Tree ──crypt::encrypt/decrypt──▶ Tree ──formats::emit──▶ bytes
//!                             ▲                 │
//!               metadata::Metadata ◀── keys (age, SSH, OpenPGP; key groups and Shamir)
//!                                       wrap/unwrap the data key
//! ```
//!
//! and the modules stand on each other, each using only those on its level or below it:
//!
//! ```text
//! cli ─────────────── arguments, prompts, signals (cli::signals), exit codes and hints (cli::exit)
//!  │
//! ops  edit  rekey  check ── the operations as library calls: bytes in, bytes out
//!  │
//! sops_file ───────── the door: EncryptedFile::decrypt/open/unlock (MAC checked), seal/create
//!  │
//! formats  crypt  keys  metadata  kube ── bytes ⇄ Tree, values and MAC, data key, sops block,
//!  │                                       Kubernetes Secrets
//! tree  scalar  timestamp  rules ──────── the document, its values, which leaves are encrypted
//!
//! beside them: config (.sops.yaml), io (files, stdin/stdout), process (children: editor,
//! commands, git, kubectl, run through a Supervisor the CLI implements); error::Error wraps
//! each area's own error enum
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
