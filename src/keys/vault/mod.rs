//! HashiCorp Vault (and OpenBao) transit keys, as sops uses them (`hcvault/keysource.go`).
//!
//! A key is named by its URI, `https://vault.example.com:8200/v1/transit/keys/app`: the
//! address, the path the transit engine is mounted at, and the key's name. The data key is
//! wrapped by `POST {address}/v1/{engine}/encrypt/{key}` with the key in base64, and the
//! metadata keeps Vault's ciphertext (`vault:v1:…`) with the address, engine path and key name.
//! Unwrapping posts that ciphertext to `…/decrypt/{key}`. The file names its Vault, so
//! `VAULT_ADDR` plays no part (as with sops); the token, namespace and TLS settings come from
//! the environment as the Vault CLI reads them ([`service`]).

mod service;

use std::sync::LazyLock;

use regex::Regex;
use zeroize::Zeroizing;

pub use service::VaultService;

use super::services::ServiceError;
use super::{Identities, KeyError, KeyKind, MasterKey, RecipientGroup, WrapContext};
use crate::metadata::{KeyGroup, VaultStanza};

/// The shape sops gives as an example in its errors.
const EXAMPLE: &str = "https://vault.example.com:8200/v1/transit/keys/keyName";

/// A transit key: where its Vault is, where the engine is mounted there, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKey {
    /// `https://vault.example.com:8200`: scheme and authority, no path.
    address: String,
    /// `transit`, or a nested mount such as `team/transit`.
    engine_path: String,
    key_name: String,
    /// `{address}/v1/{engine_path}/keys/{key_name}`, as sops's `ToString`.
    uri: String,
}

impl VaultKey {
    /// Parses a key URI as sops does (`NewMasterKeyFromURI`): the path must read
    /// `/v1/<engine path>/keys/<name>`, the engine path being everything between `v1` and the
    /// last two segments. Surrounding spaces are dropped. A query or fragment, which sops
    /// would fold into the key's name, is refused.
    pub fn from_uri(uri: &str) -> Result<VaultKey, KeyError> {
        let uri = uri.trim();
        let invalid = |reason: String| KeyError::InvalidRecipient {
            recipient: uri.to_string(),
            reason,
        };
        let (scheme, rest) = uri
            .split_once("://")
            .filter(|(scheme, _)| is_scheme(scheme))
            .ok_or_else(|| invalid(format!("missing scheme in Vault URL (should be like this: {EXAMPLE})")))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(invalid(format!("Vault is reached over https or http, not {scheme}")));
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.is_empty() || !port_is_numeric(authority) {
            return Err(invalid(format!(
                "no usable host in the Vault URL (should be like this: {EXAMPLE})"
            )));
        }
        if path.contains(['?', '#']) {
            return Err(invalid(format!(
                "a Vault key URL has no query or fragment (should be like this: {EXAMPLE})"
            )));
        }
        let (engine_path, key_name) = engine_and_key(path).map_err(invalid)?;
        Ok(VaultKey::new(format!("{scheme}://{authority}"), engine_path, key_name))
    }

    /// The key a metadata entry names.
    pub fn from_stanza(stanza: &VaultStanza) -> VaultKey {
        VaultKey::new(
            stanza.vault_address.clone(),
            stanza.engine_path.clone(),
            stanza.key_name.clone(),
        )
    }

    fn new(address: String, engine_path: String, key_name: String) -> VaultKey {
        let uri = uri_of(&address, &engine_path, &key_name);
        VaultKey {
            address,
            engine_path,
            key_name,
            uri,
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn engine_path(&self) -> &str {
        &self.engine_path
    }

    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The key's URI, as sops names it.
    pub fn as_str(&self) -> &str {
        &self.uri
    }
}

/// Parses a comma-separated list of key URIs (`--hc-vault-transit`, `SOPS_VAULT_URIS`).
pub fn parse_uris(list: &str) -> Result<Vec<VaultKey>, KeyError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(VaultKey::from_uri)
        .collect()
}

fn uri_of(address: &str, engine_path: &str, key_name: &str) -> String {
    format!("{address}/v1/{engine_path}/keys/{key_name}")
}

/// An RFC 3986 scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Whatever follows the last `:` of a host (not inside an IPv6 bracket) must be a port.
fn port_is_numeric(authority: &str) -> bool {
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let after_brackets = host.rsplit_once(']').map_or(host, |(_, rest)| rest);
    match after_brackets.rsplit_once(':') {
        Some((_, port)) => port.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}

/// sops's `engineAndKeyFromPath`, with its two checks and its messages.
fn engine_and_key(path: &str) -> Result<(String, String), String> {
    static PREFIXED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/[^/]+/v[\d]+/[^/]+/[^/]+/[^/]+").expect("a valid regex"));
    static VERSIONED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/v[\d]+/[^/]+/[^/]+/[^/]+").expect("a valid regex"));
    if PREFIXED.is_match(path) {
        return Err(format!(
            "running Vault with a prefixed URL is not supported! (Format has to be like {EXAMPLE})"
        ));
    }
    if !VERSIONED.is_match(path) {
        return Err(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ));
    }
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // The regexes above mean at least four segments (v1, the engine, keys, the name); the
    // slice is still taken without a way to panic, since the path is the user's.
    let key_name = dirs.last().copied().unwrap_or_default();
    let engine: Vec<&str> = dirs
        .get(1..dirs.len().saturating_sub(2))
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|segment| !segment.is_empty())
        .collect();
    Ok((engine.join("/"), key_name.to_string()))
}

impl MasterKey for VaultKey {
    const KIND: KeyKind = KeyKind::HcVault;
    type Stanza = VaultStanza;
    type UnwrapError = ServiceError;

    fn name(&self) -> &str {
        &self.uri
    }

    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<VaultStanza, KeyError> {
        let enc = ctx
            .services
            .vault()
            .encrypt(self, secret)
            .map_err(|error| KeyError::Service {
                key: format!("{} {}", KeyKind::HcVault, self.uri),
                error: Box::new(error),
            })?;
        Ok(VaultStanza {
            vault_address: self.address.clone(),
            engine_path: self.engine_path.clone(),
            key_name: self.key_name.clone(),
            created_at: ctx.created_at.clone(),
            enc,
        })
    }

    fn holds(&self, stanza: &VaultStanza) -> bool {
        stanza.vault_address == self.address
            && stanza.engine_path == self.engine_path
            && stanza.key_name == self.key_name
    }

    fn stanza_name(stanza: &VaultStanza) -> String {
        uri_of(&stanza.vault_address, &stanza.engine_path, &stanza.key_name)
    }

    fn unwrap(stanza: &VaultStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        identities
            .services
            .vault()
            .decrypt(&VaultKey::from_stanza(stanza), &stanza.enc)
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.hc_vault
    }

    fn of_key_group(group: &KeyGroup) -> &[VaultStanza] {
        &group.hc_vault
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<VaultStanza> {
        &mut group.hc_vault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> (String, String, String) {
        let key = VaultKey::from_uri(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        (key.address, key.engine_path, key.key_name)
    }

    fn refusal(uri: &str) -> String {
        VaultKey::from_uri(uri).expect_err(uri).to_string()
    }

    #[test]
    fn a_uri_gives_the_address_the_engine_path_and_the_key_name_as_sops_reads_them() {
        assert_eq!(
            parts("https://vault.example.com:8200/v1/transit/keys/app"),
            ("https://vault.example.com:8200".into(), "transit".into(), "app".into())
        );
        assert_eq!(
            parts(" HTTP://127.0.0.1:8200/v1/team/a/transit/keys/db/ "),
            ("http://127.0.0.1:8200".into(), "team/a/transit".into(), "db".into()),
            "a nested mount; the scheme lower-cased as Go does; a trailing slash ignored"
        );
        // sops takes the second-to-last segment to be `keys` without checking it.
        assert_eq!(parts("http://v/v1/transit/whatever/k").1, "transit");
        assert_eq!(
            VaultKey::from_uri("https://v:8200/v1/transit/keys/app")
                .unwrap()
                .as_str(),
            "https://v:8200/v1/transit/keys/app"
        );
        assert_eq!(parts("https://[::1]:8200/v1/transit/keys/k").0, "https://[::1]:8200");
    }

    #[test]
    fn uris_sops_refuses_are_refused_with_its_reasons() {
        assert!(refusal("vault:8200/v1/transit/keys/k").contains("missing scheme in Vault URL"));
        assert!(refusal("https://v/prefix/v1/transit/keys/k").contains("prefixed URL is not supported"));
        assert!(refusal("https://v/v1/transit/k").contains("does not seem to be formatted correctly"));
        assert!(refusal("https://v/transit/keys/k").contains("does not seem to be formatted correctly"));
        assert!(refusal("https:///v1/transit/keys/k").contains("no usable host"));
        assert!(refusal("https://v:port/v1/transit/keys/k").contains("no usable host"));
        assert!(refusal("https://v/v1/transit/keys/k?x=1").contains("no query or fragment"));
        assert!(refusal("ftp://v/v1/transit/keys/k").contains("not ftp"));
    }

    #[test]
    fn odd_uris_are_refused_or_read_but_never_panic() {
        for uri in [
            "https://v/v1//a/b",
            "https://v//v1/a/b/c",
            "https://v/v1/a//b/c",
            "https://v/v1/a/b/c/d/e/f",
            "https://v/x/v1/a",
            "https://v/v1/é/keys/ключ",
            "https://v",
            "https://v/",
            "a://",
            "://v/v1/a/b/c",
            "",
        ] {
            let _ = VaultKey::from_uri(uri);
        }
        assert_eq!(
            parts("https://v/v1/a/b/c//keys/k").1,
            "a/b/c",
            "empty segments are dropped, as path.Join does"
        );
    }

    #[test]
    fn a_list_of_uris_is_comma_separated() {
        let keys = parse_uris("https://a/v1/transit/keys/x, https://b/v1/t/keys/y,").unwrap();
        let names: Vec<&str> = keys.iter().map(VaultKey::as_str).collect();
        assert_eq!(names, ["https://a/v1/transit/keys/x", "https://b/v1/t/keys/y"]);
    }

    #[test]
    fn a_stanza_names_its_key_by_the_same_uri() {
        let key = VaultKey::from_uri("https://v:8200/v1/transit/keys/app").unwrap();
        let stanza = VaultStanza {
            vault_address: "https://v:8200".into(),
            engine_path: "transit".into(),
            key_name: "app".into(),
            created_at: "t".into(),
            enc: "vault:v1:x".into(),
        };
        assert!(key.holds(&stanza));
        assert_eq!(VaultKey::stanza_name(&stanza), key.as_str());
        assert_eq!(VaultKey::from_stanza(&stanza), key);
    }
}
