//! What every key held by a service shares: the connections ([`KeyServices`], one lazily built
//! client per service), the HTTP client ([`http`]), the time limits ([`timeouts`]) and the
//! classified failure every service reports ([`ServiceError`]).
//!
//! Nothing here touches the network or the disk until a service key is wrapped or unwrapped:
//! [`KeyServices::from_env`] only reads variables, so commands on files without service keys
//! start as fast as before.
//!
//! A new service (AWS KMS, GCP KMS, Azure Key Vault) adds its settings and lazily built
//! client to [`KeyServices`], reads them in `from_env`, names what it asked in `report`, and
//! maps its failures onto [`FailureClass`].

mod error;
pub mod http;
pub mod timeouts;

use std::fmt;

pub(crate) use error::bounded;
pub use error::{FailureClass, NotUsableYet, ServiceError};
pub use timeouts::{TIMEOUT_VAR, Timeouts};

use super::vault::VaultService;
use super::{Env, MapEnv};

/// The key services ksec can ask, each connected only when first asked.
pub struct KeyServices {
    vault: VaultService,
}

impl KeyServices {
    /// Reads the services' settings from the environment (variables only; no file is read and
    /// no connection made here).
    pub fn from_env(env: &dyn Env) -> KeyServices {
        let timeouts = Timeouts::from_env(env);
        KeyServices {
            vault: VaultService::from_env(env, timeouts),
        }
    }

    /// HashiCorp Vault and OpenBao transit.
    pub fn vault(&self) -> &VaultService {
        &self.vault
    }

    /// One line per service with its settings, asked or not, for `ksec doctor`; no secret
    /// (a token) is shown, only where it comes from.
    pub fn settings_report(&self) -> String {
        format!("Vault: {}", self.vault.settings_summary())
    }

    /// One line per service that was asked: as whom, and within which limit. Empty when no
    /// service was asked.
    pub fn report(&self) -> String {
        [self.vault.report()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Default for KeyServices {
    /// Services with no settings at all: no token, default timeouts.
    fn default() -> Self {
        KeyServices::from_env(&MapEnv::new())
    }
}

impl fmt::Debug for KeyServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyServices").field("vault", &self.vault).finish()
    }
}
