//! Asking Azure Key Vault over its REST API, as sops's SDK (azkeys 1.4, API version 7.6)
//! does: `POST {vault}/keys/{name}/{version}/encrypt?api-version=7.6` with
//! `{"alg": "RSA-OAEP-256", "value": <data key, base64url>}` answers `{"kid", "value"}`, and
//! `…/decrypt` takes the ciphertext back the same way. A key named without a version is
//! first looked up (`GET {vault}/keys/{name}/`) for its current version, which the metadata
//! records, as sops records it.
//!
//! Requests carry an access token for the vault's resource ([`credentials`](super::credentials)).
//! The SDK learns that resource from the vault's authentication challenge and refuses a vault
//! whose host does not belong to it; ksec instead takes it from the host's domain
//! (`*.vault.azure.net` → `https://vault.azure.net`, and the sovereign clouds' and Managed
//! HSM's domains likewise) and sends a token to no other host, so a file naming another host
//! cannot collect a Key Vault token. Plain http is allowed to this machine only, with the
//! public cloud's resource (an emulator, ksec's tests).
//!
//! Refusals are read from Key Vault's error body (`{"error": {"code", "message",
//! "innererror"}}`): 401 is a token refused as such, 403 a caller without the key permission
//! (or, with `KeyDisabled`, a disabled key), 404 no such key, 409 a deleted key not yet purged.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::AzureKvKey;
use super::credentials::{CredentialSettings, TokenFailure};
use crate::keys::services::http::{Header, HttpClient, ProxySettings, Response, host_of, is_loopback};
use crate::keys::services::oauth::{self, BearerToken};
use crate::keys::services::{FailureClass, ServiceError, Timeouts, bounded};
use crate::keys::{Env, KeyKind};

/// The Key Vault API version of azkeys 1.4, which sops 3.11 builds with.
const API_VERSION: &str = "7.6";
/// The key algorithm sops wraps with.
const ALGORITHM: &str = "RSA-OAEP-256";

/// Each Key Vault host domain and the resource its tokens are for.
const RESOURCES: [(&str, &str); 7] = [
    (".vault.azure.net", "https://vault.azure.net"),
    (".vault.azure.cn", "https://vault.azure.cn"),
    (".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"),
    (".vault.microsoftazure.de", "https://vault.microsoftazure.de"),
    (".managedhsm.azure.net", "https://managedhsm.azure.net"),
    (".managedhsm.azure.cn", "https://managedhsm.azure.cn"),
    (".managedhsm.usgovcloudapi.net", "https://managedhsm.usgovcloudapi.net"),
];

/// Key Vault as the environment describes it, and the connections and tokens once needed.
pub struct AzureKvService {
    credentials: CredentialSettings,
    proxies: ProxySettings,
    timeouts: Result<Timeouts, String>,
    client: OnceLock<HttpClient>,
    /// For managed identity endpoints: no proxy, as they are local to the machine.
    local_client: OnceLock<HttpClient>,
    /// One token per resource (a file may name vaults of several clouds).
    tokens: Mutex<HashMap<String, Result<BearerToken, TokenFailure>>>,
    asked: AtomicBool,
}

impl AzureKvService {
    /// Reads the variables (no file is read, nothing is run or connected).
    pub fn from_env(env: &dyn Env, timeouts: Result<Timeouts, String>) -> AzureKvService {
        AzureKvService {
            credentials: CredentialSettings::from_env(env),
            proxies: ProxySettings::from_env(env),
            timeouts,
            client: OnceLock::new(),
            local_client: OnceLock::new(),
            tokens: Mutex::new(HashMap::new()),
            asked: AtomicBool::new(false),
        }
    }

    /// Wraps `secret` with `key`: the ciphertext in base64url without padding, as sops writes
    /// it, and the key version that made it (looked up when the key names none).
    pub fn encrypt(&self, key: &AzureKvKey, secret: &[u8]) -> Result<(String, String), ServiceError> {
        let session = self.session(key)?;
        let version = match key.version() {
            "" => session.current_version(key)?,
            version => version.to_string(),
        };
        let value = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret));
        let result = session.operation(key, &version, "encrypt", &value)?;
        Ok((URL_SAFE_NO_PAD.encode(&*result), version))
    }

    /// Unwraps `enc` (base64url, as sops writes it) with `key`.
    pub fn decrypt(&self, key: &AzureKvKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        // sops decodes base64url without padding; padding written by hand is forgiven.
        let ciphertext = URL_SAFE_NO_PAD
            .decode(enc.trim().trim_end_matches('='))
            .map_err(|_| ServiceError {
                kind: KeyKind::AzureKv,
                class: FailureClass::WrongCiphertext,
                endpoint: format!("Key Vault at {}", key.vault_url()),
                identity: "not asked".into(),
                detail: "the file's enc for this key is not base64url".into(),
            })?;
        let session = self.session(key)?;
        let value = URL_SAFE_NO_PAD.encode(ciphertext);
        session.operation(key, key.version(), "decrypt", &value)
    }

    /// What the report says of Key Vault once it was asked: as whom, and within which limit.
    pub fn report(&self) -> Option<String> {
        if !self.asked.load(Ordering::Relaxed) {
            return None;
        }
        let identities: Vec<String> = match self.tokens.lock() {
            Ok(tokens) => tokens
                .values()
                .map(|token| match token {
                    Ok(token) => token.identity.clone(),
                    Err(failure) => format!("{} ({})", failure.identity, failure.class),
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let identity = if identities.is_empty() {
            self.credentials.describe()
        } else {
            identities.join(", ")
        };
        let limit = match &self.timeouts {
            Ok(t) => t.describe(),
            Err(problem) => problem.clone(),
        };
        Some(format!("Azure Key Vault: {identity}; {limit}"))
    }

    /// Everything a key operation needs: settings checked, the vault's base URL, a token for
    /// its resource, and the deadline.
    fn session(&self, key: &AzureKvKey) -> Result<Session<'_>, ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        let vault = key.vault_url().trim_end_matches('/').to_string();
        let endpoint = format!("Key Vault at {vault}");
        let settings = |identity: String, detail: String| ServiceError {
            kind: KeyKind::AzureKv,
            class: FailureClass::Settings,
            endpoint: endpoint.clone(),
            identity,
            detail,
        };
        let timeouts = self
            .timeouts
            .clone()
            .map_err(|d| settings(self.credentials.describe(), d))?;
        let resource = resource_of(&vault).map_err(|d| settings("not asked".into(), d))?;
        let client = self
            .client
            .get_or_init(|| HttpClient::new(Default::default(), self.proxies.clone(), timeouts));
        let deadline = Instant::now() + timeouts.request;
        let token = self
            .token(&resource, client, timeouts, deadline)
            .map_err(|failure| ServiceError {
                kind: KeyKind::AzureKv,
                class: failure.class,
                endpoint: endpoint.clone(),
                identity: failure.identity.clone(),
                detail: with_limit(failure.class, &failure.detail, timeouts),
            })?;
        Ok(Session {
            vault,
            endpoint,
            token,
            client,
            timeouts,
            deadline,
        })
    }

    /// The token for `resource`, had once per run.
    fn token(
        &self,
        resource: &str,
        client: &HttpClient,
        timeouts: Timeouts,
        deadline: Instant,
    ) -> Result<BearerToken, TokenFailure> {
        // Held while the chain runs: a second key of the same run waits for the first token
        // instead of asking again.
        let mut tokens = self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(token) = tokens.get(resource) {
            return token.clone();
        }
        let local = self
            .local_client
            .get_or_init(|| HttpClient::new(Default::default(), ProxySettings::default(), timeouts));
        let token = self.credentials.token(resource, client, local, deadline);
        tokens.insert(resource.to_string(), token.clone());
        token
    }
}

impl fmt::Debug for AzureKvService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureKvService")
            .field("credentials", &self.credentials.describe())
            .finish_non_exhaustive()
    }
}

/// The resource a vault's tokens are for, from its host; an error for a host that is not
/// Key Vault's (or plain http to another machine).
fn resource_of(vault: &str) -> Result<String, String> {
    oauth::check_url(vault, "the key's vault URL")?;
    let authority = vault
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    let host = host_of(authority).to_ascii_lowercase();
    if let Some((_, resource)) = RESOURCES.iter().find(|(domain, _)| host.ends_with(domain)) {
        return Ok(resource.to_string());
    }
    if is_loopback(&host) {
        return Ok(RESOURCES[0].1.to_string());
    }
    Err(format!(
        "{vault} is not a Key Vault host (*.vault.azure.net, *.managedhsm.azure.net, or a sovereign cloud's); \
         ksec sends Key Vault tokens to Key Vault only"
    ))
}

/// A timeout's detail names the limit that passed.
fn with_limit(class: FailureClass, detail: &str, timeouts: Timeouts) -> String {
    match class {
        FailureClass::Timeout => format!("{detail}; the {}", timeouts.describe()),
        _ => detail.to_string(),
    }
}

/// One key operation's connection to a vault.
struct Session<'a> {
    vault: String,
    endpoint: String,
    token: BearerToken,
    client: &'a HttpClient,
    timeouts: Timeouts,
    deadline: Instant,
}

impl Session<'_> {
    fn failure(&self, class: FailureClass, detail: String) -> ServiceError {
        ServiceError {
            kind: KeyKind::AzureKv,
            class,
            endpoint: self.endpoint.clone(),
            identity: self.token.identity.clone(),
            detail,
        }
    }

    /// The key's current version, from `GET {vault}/keys/{name}/`.
    fn current_version(&self, key: &AzureKvKey) -> Result<String, ServiceError> {
        let url = format!(
            "{}/keys/{}/?api-version={API_VERSION}",
            self.vault,
            path_segment(key.key_name())
        );
        let authorization = self.token.authorization();
        let headers = [Header {
            name: "Authorization",
            value: &authorization,
            sensitive: true,
        }];
        let response = self.send(|| self.client.get(&url, &headers, self.deadline))?;
        let refused = |response: &Response| self.failure(refusal_class(response, "get"), describe_refusal(response));
        if !(200..300).contains(&response.status) {
            return Err(refused(&response));
        }
        #[derive(Deserialize)]
        struct KeyBundle {
            key: Option<JsonWebKey>,
        }
        #[derive(Deserialize)]
        struct JsonWebKey {
            kid: Option<String>,
        }
        serde_json::from_slice::<KeyBundle>(&response.body)
            .ok()
            .and_then(|bundle| bundle.key?.kid)
            .and_then(|kid| kid.trim_end_matches('/').rsplit('/').next().map(str::to_string))
            .filter(|version| !version.is_empty())
            .ok_or_else(|| {
                self.failure(
                    FailureClass::BadResponse,
                    "Key Vault's answer names no key version (key.kid)".into(),
                )
            })
    }

    /// `POST {vault}/keys/{name}/{version}/{operation}` with `value`; the result's bytes.
    fn operation(
        &self,
        key: &AzureKvKey,
        version: &str,
        operation: &str,
        value: &str,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let url = format!(
            "{}/keys/{}/{}/{operation}?api-version={API_VERSION}",
            self.vault,
            path_segment(key.key_name()),
            path_segment(version)
        );
        let body = operation_body(value);
        let authorization = self.token.authorization();
        let headers = [Header {
            name: "Authorization",
            value: &authorization,
            sensitive: true,
        }];
        let response = self.send(|| self.client.post_json(&url, &headers, &body, self.deadline))?;
        if !(200..300).contains(&response.status) {
            return Err(self.failure(refusal_class(&response, operation), describe_refusal(&response)));
        }
        #[derive(Deserialize)]
        struct OperationResult {
            value: Option<String>,
        }
        let result = serde_json::from_slice::<OperationResult>(&response.body)
            .ok()
            .and_then(|r| r.value)
            .map(Zeroizing::new)
            .ok_or_else(|| self.failure(FailureClass::BadResponse, "Key Vault's answer holds no value".into()))?;
        URL_SAFE_NO_PAD
            .decode(result.trim_end_matches('='))
            .map(Zeroizing::new)
            .map_err(|_| self.failure(FailureClass::BadResponse, "Key Vault's value is not base64url".into()))
    }

    fn send(
        &self,
        request: impl FnMut() -> Result<Response, crate::keys::services::http::TransportError>,
    ) -> Result<Response, ServiceError> {
        oauth::with_one_retry(self.deadline, request)
            .map_err(|e| self.failure(e.class, with_limit(e.class, &e.detail, self.timeouts)))
    }
}

/// A key name or version as one URL path segment (the SDK escapes them the same way).
fn path_segment(text: &str) -> String {
    oauth::query_value(text)
}

/// `{"alg":"RSA-OAEP-256","value":"…"}` in a buffer wiped when dropped.
fn operation_body(value: &str) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(value.len() + 40));
    let mut map = serde_json::Map::new();
    map.insert("alg".into(), ALGORITHM.into());
    map.insert("value".into(), serde_json::Value::String(value.to_string()));
    // Writing a JSON map of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *body, &map);
    body
}

/// Key Vault's error body.
#[derive(Deserialize, Default)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    innererror: Option<Box<ErrorDetail>>,
}

fn error_of(response: &Response) -> ErrorDetail {
    serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .and_then(|b| b.error)
        .unwrap_or_default()
}

fn refusal_class(response: &Response, operation: &str) -> FailureClass {
    let error = error_of(response);
    let inner = error.innererror.as_ref().map(|e| e.code.as_str()).unwrap_or_default();
    let message = error.message.to_ascii_lowercase();
    match response.status {
        401 => FailureClass::InvalidCredentials,
        403 if inner == "KeyDisabled" || message.contains("disabled") => FailureClass::KeyDisabled,
        403 => FailureClass::AccessDenied,
        404 => FailureClass::KeyNotFound,
        409 => FailureClass::KeyDisabled,
        400 if operation == "decrypt" && error.code == "BadParameter" => FailureClass::WrongCiphertext,
        429 | 500..=599 => FailureClass::ServiceFailed,
        _ => FailureClass::Rejected,
    }
}

/// `Key Vault answered 403: Forbidden (ForbiddenByRbac): Caller is not authorized …`.
fn describe_refusal(response: &Response) -> String {
    let error = error_of(response);
    let code = match error.innererror.as_ref().map(|e| e.code.as_str()) {
        Some(inner) if !inner.is_empty() => format!("{} ({inner})", error.code),
        _ => error.code.clone(),
    };
    let said = match (code.is_empty(), error.message.is_empty()) {
        (true, true) => String::from_utf8_lossy(&response.body).into_owned(),
        (false, false) => format!("{code}: {}", error.message),
        _ => format!("{code}{}", error.message),
    };
    let said = bounded(&said, 300);
    if said.is_empty() {
        format!("Key Vault answered {}", response.status)
    } else {
        format!("Key Vault answered {}: {said}", response.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn tokens_go_only_to_key_vault_hosts_of_their_cloud() {
        assert_eq!(
            resource_of("https://v.vault.azure.net").unwrap(),
            "https://vault.azure.net"
        );
        assert_eq!(
            resource_of("https://V.Vault.Azure.CN:443").unwrap(),
            "https://vault.azure.cn"
        );
        assert_eq!(
            resource_of("https://h.managedhsm.azure.net").unwrap(),
            "https://managedhsm.azure.net"
        );
        assert_eq!(resource_of("http://127.0.0.1:8443").unwrap(), "https://vault.azure.net");
        assert!(
            resource_of("https://vault.azure.net.attacker.example")
                .unwrap_err()
                .contains("not a Key Vault host")
        );
        assert!(resource_of("https://evil.example").is_err());
        assert!(
            resource_of("http://v.vault.azure.net")
                .unwrap_err()
                .contains("must be an https URL")
        );
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            body: Zeroizing::new(body.as_bytes().to_vec()),
        }
    }

    #[test]
    fn refusals_are_classified_by_status_and_code() {
        let cases = [
            (
                401,
                "Unauthorized",
                "",
                "[TokenExpired] Error validating token",
                FailureClass::InvalidCredentials,
            ),
            (
                403,
                "Forbidden",
                "ForbiddenByRbac",
                "Caller is not authorized",
                FailureClass::AccessDenied,
            ),
            (
                403,
                "Forbidden",
                "KeyDisabled",
                "Operation decrypt is not allowed on a disabled key.",
                FailureClass::KeyDisabled,
            ),
            (
                404,
                "KeyNotFound",
                "",
                "A key with (name/id) k was not found in this key vault.",
                FailureClass::KeyNotFound,
            ),
            (
                409,
                "Conflict",
                "ObjectIsDeletedButRecoverable",
                "Key is currently in a deleted but recoverable state",
                FailureClass::KeyDisabled,
            ),
            (
                400,
                "BadParameter",
                "",
                "The parameter is incorrect.",
                FailureClass::WrongCiphertext,
            ),
            (503, "ServiceUnavailable", "", "Try again", FailureClass::ServiceFailed),
        ];
        for (status, code, inner, message, class) in cases {
            let inner_json = if inner.is_empty() {
                String::new()
            } else {
                format!(r#","innererror":{{"code":"{inner}"}}"#)
            };
            let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"{inner_json}}}}}"#);
            let response = response(status, &body);
            assert_eq!(refusal_class(&response, "decrypt"), class, "{code} {inner}");
            assert!(
                describe_refusal(&response).ends_with(message),
                "{}",
                describe_refusal(&response)
            );
        }
        assert_eq!(
            refusal_class(&response(400, r#"{"error":{"code":"BadParameter"}}"#), "encrypt"),
            FailureClass::Rejected
        );
        assert_eq!(
            describe_refusal(&response(
                403,
                r#"{"error":{"code":"Forbidden","message":"m","innererror":{"code":"ForbiddenByPolicy"}}}"#
            )),
            "Key Vault answered 403: Forbidden (ForbiddenByPolicy): m"
        );
    }

    #[test]
    fn a_file_naming_another_host_is_refused_before_any_credential_is_used() {
        let env = MapEnv::new().with_var("AZURE_CLIENT_SECRET", "s3cret");
        let service = AzureKvService::from_env(&env, Ok(Timeouts::default()));
        let key = AzureKvKey::new("https://collector.example", "k", "1");
        let err = service.decrypt(&key, "AAAA").unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(err.detail.contains("not a Key Vault host"), "{err}");
        assert!(service.tokens.lock().unwrap().is_empty(), "no token was asked for");
        let err = service.decrypt(&key, "***").unwrap_err();
        assert_eq!(err.class, FailureClass::WrongCiphertext);
        assert_eq!(
            &operation_body("a-b_c")[..],
            br#"{"alg":"RSA-OAEP-256","value":"a-b_c"}"#
        );
    }
}
