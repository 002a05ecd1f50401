//! Azure Key Vault keys, named as sops names them (`azkv/keysource.go`): the vault's URL, the
//! key's name and its version, from a key URL `https://<vault>.vault.azure.net/keys/<name>/<version>`.
//!
//! ksec reads, keeps, compares and reports these keys, and takes them from the command line
//! and `.sops.yaml`, but cannot wrap or unwrap with them yet ([`MasterKey::USABLE`] is false).
//! A URL without a version means the key's latest version, which sops looks up (and records)
//! when it wraps; that lookup belongs with the wrapping.

use std::sync::LazyLock;

use regex::Regex;
use zeroize::Zeroizing;

use super::services::NotUsableYet;
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

    /// A key from its URL, as sops's `NewMasterKeyFromURL`.
    pub fn from_url(url: &str) -> Result<AzureKvKey, KeyError> {
        static URL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new("^(https://[^/]+)/keys/([^/]+)(/[^/]*)?$").expect("a valid regex"));
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
    const USABLE: bool = false;
    type Stanza = AzureKvStanza;
    type UnwrapError = NotUsableYet;

    fn name(&self) -> &str {
        &self.display
    }

    fn wrap(&self, _secret: &[u8], _ctx: &WrapContext<'_>) -> Result<AzureKvStanza, KeyError> {
        Err(KeyError::KeyTypeNotUsable { kind: Self::KIND })
    }

    fn holds(&self, stanza: &AzureKvStanza) -> bool {
        stanza.vault_url == self.vault_url && stanza.name == self.key_name && stanza.version == self.version
    }

    fn stanza_name(stanza: &AzureKvStanza) -> String {
        AzureKvKey::from_stanza(stanza).display
    }

    fn unwrap(_stanza: &AzureKvStanza, _identities: &Identities) -> Result<Zeroizing<Vec<u8>>, NotUsableYet> {
        Err(NotUsableYet(Self::KIND))
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
        assert!(AzureKvKey::from_url("https://v.vault.azure.net/secrets/k").is_err());
        assert_eq!(parse_urls("https://a/keys/x,https://b/keys/y/1").unwrap().len(), 2);
    }
}
