//! Azure Key Vault keys, as sops uses them (`azkv/keysource.go`): a key is named by its URL,
//! `https://<vault>.vault.azure.net/keys/<name>/<version>`, and the metadata keeps the vault's
//! URL, the key's name and version, and the data key encrypted by Key Vault with RSA-OAEP-256,
//! in base64url without padding. A URL without a version means the key's current version,
//! which is looked up when wrapping and recorded in the entry, as sops records it.
//!
//! ksec asks Key Vault over its REST API ([`service`]) with a token from the Azure SDK's
//! default credential chain ([`credentials`]). Besides sops's `https://` URLs, a key may live
//! at `http://127.0.0.1:PORT` (or `localhost`, `[::1]`): an emulator on this machine.

mod credentials;
mod service;

use std::sync::LazyLock;

use regex::Regex;
use zeroize::Zeroizing;

pub use service::AzureKvService;

use super::services::ServiceError;
use super::{Identities, KeyError, KeyKind, MasterKey, RecipientGroup, WrapContext};
use crate::metadata::{AzureKvStanza, KeyGroup};

/// An Azure Key Vault key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AzureKvKey {
    vault_url: String,
    key_name: String,
    /// Empty for "the latest version".
    version: String,
    /// sops's `ToString`: `{vault_url}/keys/{name}/{version}`.
    display: String,
}

impl AzureKvKey {
    /// A key from its parts (a `.sops.yaml` key group entry: `vaultUrl`, `key`, `version`).
    pub fn new(vault_url: &str, name: &str, version: &str) -> AzureKvKey {
        AzureKvKey {
            vault_url: vault_url.to_string(),
            key_name: name.to_string(),
            version: version.to_string(),
            display: format!("{vault_url}/keys/{name}/{version}"),
        }
    }

    /// A key from its URL, as sops's `NewMasterKeyFromURL`, plus plain http to this machine.
    pub fn from_url(url: &str) -> Result<AzureKvKey, KeyError> {
        static URL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(https://[^/]+|http://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?)/keys/([^/]+)(/[^/]*)?$")
                .expect("a valid regex")
        });
        let url = url.trim();
        let parts = URL.captures(url).ok_or_else(|| KeyError::InvalidRecipient {
            recipient: url.to_string(),
            reason: "not an Azure Key Vault key URL (https://<vault>.vault.azure.net/keys/<name>[/<version>])".into(),
        })?;
        let version = parts.get(3).map_or("", |v| v.as_str().trim_start_matches('/'));
        Ok(AzureKvKey::new(&parts[1], &parts[2], version))
    }

    /// The key a metadata entry names.
    pub fn from_stanza(stanza: &AzureKvStanza) -> AzureKvKey {
        AzureKvKey::new(&stanza.vault_url, &stanza.name, &stanza.version)
    }

    pub fn vault_url(&self) -> &str {
        &self.vault_url
    }

    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    pub fn version(&self) -> &str {
        &self.version
    }
}

/// Parses a comma-separated `--azure-kv` list (`SOPS_AZURE_KEYVAULT_URLS`).
pub fn parse_urls(list: &str) -> Result<Vec<AzureKvKey>, KeyError> {
    list.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(AzureKvKey::from_url)
        .collect()
}

impl MasterKey for AzureKvKey {
    const KIND: KeyKind = KeyKind::AzureKv;
    type Stanza = AzureKvStanza;
    type UnwrapError = ServiceError;

    fn name(&self) -> &str {
        &self.display
    }

    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<AzureKvStanza, KeyError> {
        let (enc, version) = ctx
            .services
            .azure_kv()
            .encrypt(self, secret)
            .map_err(|error| KeyError::Service {
                key: format!("{} {}", KeyKind::AzureKv, self.display),
                error: Box::new(error),
            })?;
        Ok(AzureKvStanza {
            vault_url: self.vault_url.clone(),
            name: self.key_name.clone(),
            version,
            created_at: ctx.created_at.clone(),
            enc,
        })
    }

    /// A key named without a version holds the entry of any version of it: the entry was
    /// made with the version that was current then, and asking the vault which is current
    /// now only to compare is not worth a request.
    fn holds(&self, stanza: &AzureKvStanza) -> bool {
        stanza.vault_url == self.vault_url
            && stanza.name == self.key_name
            && (self.version.is_empty() || stanza.version == self.version)
    }

    fn stanza_name(stanza: &AzureKvStanza) -> String {
        AzureKvKey::from_stanza(stanza).display
    }

    fn unwrap(stanza: &AzureKvStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        identities
            .services
            .azure_kv()
            .decrypt(&AzureKvKey::from_stanza(stanza), &stanza.enc)
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.azure_kv
    }

    fn of_key_group(group: &KeyGroup) -> &[AzureKvStanza] {
        &group.azure_kv
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<AzureKvStanza> {
        &mut group.azure_kv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_read_as_sops_reads_them() {
        let key = AzureKvKey::from_url(" https://v.vault.azure.net/keys/k/0123 ").unwrap();
        assert_eq!(
            (key.vault_url(), key.key_name(), key.version()),
            ("https://v.vault.azure.net", "k", "0123")
        );
        assert_eq!(key.name(), "https://v.vault.azure.net/keys/k/0123");
        let latest = AzureKvKey::from_url("https://v.vault.azure.net/keys/k").unwrap();
        assert_eq!(latest.version(), "");
        assert!(AzureKvKey::from_url("http://v.vault.azure.net/keys/k").is_err());
        assert!(AzureKvKey::from_url("http://127.0.0.1.example/keys/k").is_err());
        let local = AzureKvKey::from_url("http://127.0.0.1:8443/keys/k/1").unwrap();
        assert_eq!(local.vault_url(), "http://127.0.0.1:8443");
        assert!(AzureKvKey::from_url("http://localhost/keys/k").is_ok());
        assert!(AzureKvKey::from_url("http://[::1]:9/keys/k/").is_ok());
        assert!(AzureKvKey::from_url("https://v.vault.azure.net/secrets/k").is_err());
        assert_eq!(parse_urls("https://a/keys/x,https://b/keys/y/1").unwrap().len(), 2);
    }
}
