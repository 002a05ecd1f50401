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

/// The variables `ksec doctor` shows for each cloud service: those whose values are not
/// secret (profiles, paths, IDs), and those only said to be set (keys, secrets, tokens).
const CLOUD_SETTINGS: [(&str, &[&str], &[&str]); 3] = [
    (
        "AWS KMS",
        &[
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ENDPOINT_URL_KMS",
            "AWS_CA_BUNDLE",
        ],
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
    ),
    (
        "GCP KMS",
        &[
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CLOUDSDK_CONFIG",
            "SOPS_GCP_KMS_ENDPOINT",
            "GCE_METADATA_HOST",
        ],
        &["GOOGLE_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN"],
    ),
    (
        "Azure Key Vault",
        &[
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_AUTHORITY_HOST",
        ],
        &["AZURE_CLIENT_SECRET"],
    ),
];

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

    /// One line per service with its settings, asked or not, for `ksec doctor`; no secret
    /// (a token) is shown, only where it comes from.
    pub fn settings_report(&self, env: &dyn Env) -> String {
        let mut lines = vec![format!("Vault: {}", self.vault.settings_summary())];
        for (service, shown, secret) in CLOUD_SETTINGS {
            let mut set: Vec<String> = shown
                .iter()
                .filter_map(|name| env.var(name).filter(|v| !v.is_empty()).map(|v| format!("{name}={v}")))
                .collect();
            set.extend(
                secret
                    .iter()
                    .filter(|name| env.var(name).is_some_and(|v| !v.is_empty()))
                    .map(|name| format!("{name} set")),
            );
            lines.push(if set.is_empty() {
                format!("{service}: none of its variables set (its other sources are files and the machine's identity)")
            } else {
                format!("{service}: {}", set.join(", "))
            });
        }
        lines.join("\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctor_settings_show_profiles_and_paths_but_only_say_that_secrets_are_set() {
        let env = MapEnv::new()
            .with_var("AWS_PROFILE", "deploy")
            .with_var("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-not-to-be-shown")
            .with_var("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.not-to-be-shown")
            .with_var("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001");
        let report = KeyServices::from_env(&env).settings_report(&env);
        assert!(
            report.contains("AWS KMS: AWS_PROFILE=deploy, AWS_SECRET_ACCESS_KEY set"),
            "{report}"
        );
        assert!(report.contains("GCP KMS: GOOGLE_OAUTH_ACCESS_TOKEN set"), "{report}");
        assert!(
            report.contains("Azure Key Vault: AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000001"),
            "{report}"
        );
        assert!(!report.contains("not-to-be-shown"), "{report}");
        let quiet = KeyServices::from_env(&MapEnv::new()).settings_report(&MapEnv::new());
        assert!(quiet.contains("AWS KMS: none of its variables set"), "{quiet}");
    }
}
