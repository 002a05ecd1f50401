//! What every key held by a service shares: the connections ([`KeyServices`], one lazily built
//! client per service), the HTTP client ([`http`]), OAuth tokens and token endpoints for the
//! cloud services ([`oauth`]), the time limits ([`timeouts`]) and the classified failure every
//! service reports ([`ServiceError`]).
//!
//! Nothing here touches the network or the disk until a service key is wrapped or unwrapped:
//! [`KeyServices::from_env`] only reads variables, so commands on files without service keys
//! start as fast as before.
//!
//! A service (Vault, AWS KMS, GCP KMS, Azure Key Vault) adds its settings and lazily built
//! client to [`KeyServices`], reads them in `from_env`, names what it asked in `report`, and
//! maps its failures onto [`FailureClass`].

mod error;
pub mod http;
pub mod oauth;
pub mod timeouts;

use std::fmt;

pub(crate) use error::bounded;
pub use error::{FailureClass, ServiceError};
pub use timeouts::{TIMEOUT_VAR, Timeouts};

use super::azure_kv::AzureKvService;
use super::gcp_kms::GcpKmsService;
use super::kms::KmsService;
use super::vault::VaultService;
use super::{Env, MapEnv};

/// The key services ksec can ask, each connected only when first asked.
pub struct KeyServices {
    vault: VaultService,
    kms: KmsService,
    gcp_kms: GcpKmsService,
    azure_kv: AzureKvService,
}

impl KeyServices {
    /// Reads the services' settings from the environment (variables only; no file is read and
    /// no connection made here).
    pub fn from_env(env: &dyn Env) -> KeyServices {
        let timeouts = Timeouts::from_env(env);
        KeyServices {
            vault: VaultService::from_env(env, timeouts.clone()),
            kms: KmsService::from_env(env, timeouts.clone()),
            gcp_kms: GcpKmsService::from_env(env, timeouts.clone()),
            azure_kv: AzureKvService::from_env(env, timeouts),
        }
    }

    /// HashiCorp Vault and OpenBao transit.
    pub fn vault(&self) -> &VaultService {
        &self.vault
    }

    /// AWS KMS.
    pub fn kms(&self) -> &KmsService {
        &self.kms
    }

    /// GCP Cloud KMS.
    pub fn gcp_kms(&self) -> &GcpKmsService {
        &self.gcp_kms
    }

    /// Azure Key Vault.
    pub fn azure_kv(&self) -> &AzureKvService {
        &self.azure_kv
    }

    /// One line per service that was asked: as whom, and within which limit. Empty when no
    /// service was asked.
    pub fn report(&self) -> String {
        [
            self.vault.report(),
            self.kms.report(),
            self.gcp_kms.report(),
            self.azure_kv.report(),
        ]
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
        f.debug_struct("KeyServices")
            .field("vault", &self.vault)
            .field("kms", &self.kms)
            .field("gcp_kms", &self.gcp_kms)
            .field("azure_kv", &self.azure_kv)
            .finish()
    }
}
