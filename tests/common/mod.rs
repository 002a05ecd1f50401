//! The one integration-test harness, shared by every file in `tests/`: a scratch [`Dir`] with an
//! empty home, the [`TestCommand`]s run in it (ksec, the real sops, other peers) and the [`Run`]
//! each gives back, the peers' lookup, and the keys and vectors the tests share.
//!
//! A real OpenBao server for the Vault transit tests ([`bao`]) and moto's AWS KMS for the KMS
//! tests ([`moto`]) start once per test binary and stop when the binary ends, however it ends
//! ([`lifeline`]). The GCP and Azure tests talk to a local mock of the documented endpoints
//! ([`cloud`]), a thread of the test binary.
//!
//! Peers are found through `KSEC_PEER_*` variables (`eval "$(../shared/peers/install-peers.sh)"`).
//! A missing peer fails the test when `CI` is set and skips it (with a note) otherwise.
// Every test binary compiles this module and uses a part of it: what one leaves unused, a
// function or a re-export, is no mistake.
#![allow(dead_code, unused_imports)]

mod bao;
mod blocks;
mod cloud;
mod dir;
mod fakes;
mod fixtures;
mod lifeline;
mod moto;
mod peers;
mod run;

pub use bao::{Bao, bao, bao_tls};
pub use blocks::{block_shape, block_without_stamps};
pub use cloud::{CloudMock, KEY_VAULT_API, VAULT_RESOURCE, cloud};
pub use dir::{Dir, stop_gpg_agent};
pub use fakes::{Route, fixed_answer_server, free_port, http_status, routed_server, silent_server};
pub use fixtures::*;
pub use moto::{ACCESS_KEY_ID as AWS_TEST_ACCESS_KEY_ID, Moto, SECRET_ACCESS_KEY as AWS_TEST_SECRET, moto, moto_tls};
pub use peers::*;
pub use run::{Run, Running, TestCommand, decrypts_to, isolate, pipe, refused_within};
