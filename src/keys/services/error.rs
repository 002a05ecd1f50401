//! Why a key held by a service could not be used.

use crate::keys::{KeyKind, UnwrapFailure};

/// A key of a type ksec reads, keeps and names but cannot use yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ksec cannot use {0} keys yet")]
pub struct NotUsableYet(pub KeyKind);

impl UnwrapFailure for NotUsableYet {
    fn not_usable_yet(&self) -> bool {
        true
    }
}
