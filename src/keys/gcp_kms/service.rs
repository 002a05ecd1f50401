//! Asking Cloud KMS over its REST API: `POST {endpoint}/v1/{key}:encrypt` with the data key
//! in base64 (`{"plaintext": …}`) answers `{"ciphertext": …}`; `:decrypt` takes
//! `{"ciphertext": …}` and answers `{"plaintext": …}`. Requests carry an OAuth access token
//! ([`credentials`](super::credentials)) as a bearer token.
//!
//! The endpoint is `https://cloudkms.googleapis.com`, or what sops's `SOPS_GCP_KMS_ENDPOINT`
//! names (a URL, or `host:port` for https), or `https://cloudkms.{SOPS_GCP_KMS_UNIVERSE_DOMAIN}`.
//! Plain http is allowed only to this machine (an emulator, ksec's tests).
//!
//! Refusals are read from Google's error body (`{"error": {"code", "message", "status"}}`):
//! `UNAUTHENTICATED` is a token refused as such, `PERMISSION_DENIED` a caller without the
//! `cloudkms.cryptoKeyVersions.useToEncrypt`/`useToDecrypt` permission, `NOT_FOUND` a key that
//! does not exist, `FAILED_PRECONDITION` a key version that is disabled or destroyed, and
//! `INVALID_ARGUMENT` on decrypt a ciphertext this key did not make.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use regex::Regex;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::GcpKmsKey;
use super::credentials::{CredentialSettings, TokenFailure};
use crate::keys::services::http::{Header, HttpClient, ProxySettings, Response};
use crate::keys::services::oauth::{self, BearerToken};
use crate::keys::services::{FailureClass, ServiceError, Timeouts, bounded};
use crate::keys::{Env, KeyKind};

const ENDPOINT_VAR: &str = "SOPS_GCP_KMS_ENDPOINT";
const UNIVERSE_VAR: &str = "SOPS_GCP_KMS_UNIVERSE_DOMAIN";
const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";

/// Cloud KMS as the environment describes it, and the connection and token once needed.
pub struct GcpKmsService {
    endpoint: Result<String, String>,
    credentials: CredentialSettings,
    proxies: ProxySettings,
    timeouts: Result<Timeouts, String>,
    client: OnceLock<HttpClient>,
    /// For the metadata server: no proxy, as Google's metadata client uses none.
    metadata_client: OnceLock<HttpClient>,
    token: OnceLock<Result<BearerToken, TokenFailure>>,
    asked: AtomicBool,
}

impl GcpKmsService {
    /// Reads the variables (no file is read, nothing is connected).
    pub fn from_env(env: &dyn Env, timeouts: Result<Timeouts, String>) -> GcpKmsService {
        let var = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        let endpoint = match (var(ENDPOINT_VAR), var(UNIVERSE_VAR)) {
            (Some(endpoint), _) => endpoint_url(endpoint.trim(), ENDPOINT_VAR),
            (None, Some(domain)) => endpoint_url(&format!("https://cloudkms.{}", domain.trim()), UNIVERSE_VAR),
            (None, None) => Ok(DEFAULT_ENDPOINT.to_string()),
        };
        GcpKmsService {
            endpoint,
            credentials: CredentialSettings::from_env(env),
            proxies: ProxySettings::from_env(env),
            timeouts,
            client: OnceLock::new(),
            metadata_client: OnceLock::new(),
            token: OnceLock::new(),
            asked: AtomicBool::new(false),
        }
    }

    /// Wraps `secret` with `key`: the ciphertext in standard base64, as sops writes it.
    pub fn encrypt(&self, key: &GcpKmsKey, secret: &[u8]) -> Result<String, ServiceError> {
        let body = json_body("plaintext", &Zeroizing::new(STANDARD.encode(secret)));
        let call = self.call(key, "encrypt", &body)?;
        let ciphertext = call.field(|a| a.ciphertext).ok_or_else(|| {
            call.failure(
                FailureClass::BadResponse,
                "Cloud KMS's answer holds no ciphertext".into(),
            )
        })?;
        let bytes = STANDARD
            .decode(ciphertext.as_bytes())
            .map_err(|_| call.failure(FailureClass::BadResponse, "Cloud KMS's ciphertext is not base64".into()))?;
        Ok(STANDARD.encode(bytes))
    }

    /// Unwraps `enc` (base64, as sops writes it) with `key`.
    pub fn decrypt(&self, key: &GcpKmsKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        let ciphertext = STANDARD.decode(enc.trim()).map_err(|_| ServiceError {
            kind: KeyKind::GcpKms,
            class: FailureClass::WrongCiphertext,
            endpoint: self.endpoint_name(),
            identity: "not asked".into(),
            detail: "the file's enc for this key is not base64".into(),
        })?;
        // The request carries the ciphertext as the API wants it: standard base64.
        let body = json_body("ciphertext", &STANDARD.encode(ciphertext));
        let call = self.call(key, "decrypt", &body)?;
        let plaintext = call.field(|a| a.plaintext).map(Zeroizing::new).ok_or_else(|| {
            call.failure(
                FailureClass::BadResponse,
                "Cloud KMS's answer holds no plaintext".into(),
            )
        })?;
        STANDARD
            .decode(plaintext.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| call.failure(FailureClass::BadResponse, "Cloud KMS's plaintext is not base64".into()))
    }

    /// What the report says of Cloud KMS once it was asked: as whom, and within which limit.
    pub fn report(&self) -> Option<String> {
        if !self.asked.load(Ordering::Relaxed) {
            return None;
        }
        let identity = match self.token.get() {
            Some(Ok(token)) => token.identity.clone(),
            Some(Err(failure)) => format!("{} ({})", failure.identity, failure.class),
            None => self.credentials.describe(),
        };
        let limit = match &self.timeouts {
            Ok(t) => t.describe(),
            Err(problem) => problem.clone(),
        };
        Some(format!("GCP KMS: {identity}; {limit}"))
    }

    fn endpoint_name(&self) -> String {
        match &self.endpoint {
            Ok(url) => format!("Cloud KMS at {url}"),
            Err(_) => "Cloud KMS".into(),
        }
    }

    /// Posts `body` to `{endpoint}/v1/{key}:{method}` with a token, and explains a refusal.
    fn call(&self, key: &GcpKmsKey, method: &str, body: &[u8]) -> Result<Call, ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        let mut call = Call {
            endpoint: self.endpoint_name(),
            identity: self.credentials.describe(),
            response: None,
        };
        let settings = |detail: String| ServiceError {
            kind: KeyKind::GcpKms,
            class: FailureClass::Settings,
            endpoint: call.endpoint.clone(),
            identity: call.identity.clone(),
            detail,
        };
        let endpoint = self.endpoint.clone().map_err(settings)?;
        let timeouts = self.timeouts.clone().map_err(settings)?;
        check_resource_id(key.resource_id()).map_err(settings)?;
        let client = self.client(timeouts);
        let deadline = Instant::now() + timeouts.request;
        let token = self.token(client, timeouts, deadline).map_err(|failure| ServiceError {
            kind: KeyKind::GcpKms,
            class: failure.class,
            endpoint: call.endpoint.clone(),
            identity: failure.identity.clone(),
            detail: with_limit(failure.class, &failure.detail, timeouts),
        })?;
        call.identity = token.identity.clone();
        let url = format!("{endpoint}/v1/{}:{method}", key.resource_id());
        let authorization = token.authorization();
        let headers = [Header {
            name: "Authorization",
            value: &authorization,
            sensitive: true,
        }];
        let response = oauth::with_one_retry(deadline, || client.post_json(&url, &headers, body, deadline))
            .map_err(|e| call.failure(e.class, with_limit(e.class, &e.detail, timeouts)))?;
        if (200..300).contains(&response.status) {
            call.response = Some(response);
            return Ok(call);
        }
        Err(call.failure(refusal_class(&response, method), describe_refusal(&response)))
    }

    fn client(&self, timeouts: Timeouts) -> &HttpClient {
        self.client
            .get_or_init(|| HttpClient::new(Default::default(), self.proxies.clone(), timeouts))
    }

    /// The token, found once per run.
    fn token(&self, client: &HttpClient, timeouts: Timeouts, deadline: Instant) -> Result<&BearerToken, &TokenFailure> {
        self.token
            .get_or_init(|| {
                let metadata = self
                    .metadata_client
                    .get_or_init(|| HttpClient::new(Default::default(), ProxySettings::default(), timeouts));
                self.credentials.token(client, metadata, deadline)
            })
            .as_ref()
    }
}

impl fmt::Debug for GcpKmsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpKmsService")
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials.describe())
            .finish_non_exhaustive()
    }
}

/// The endpoint a variable names, as a base URL without a trailing slash.
fn endpoint_url(text: &str, var: &str) -> Result<String, String> {
    let url = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = url.trim_end_matches('/').to_string();
    oauth::check_url(&url, var)?;
    Ok(url)
}

/// sops's check of a key's resource ID, made before anything is asked.
fn check_resource_id(id: &str) -> Result<(), String> {
    static RESOURCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$").expect("a valid regex")
    });
    let url_safe = !id.chars().any(|c| c.is_control() || matches!(c, '?' | '#' | '%'));
    if RESOURCE.is_match(id) && url_safe {
        Ok(())
    } else {
        Err(format!(
            "no valid resource ID found in {:?} (write projects/P/locations/L/keyRings/R/cryptoKeys/K)",
            bounded(id, 200)
        ))
    }
}

/// A timeout's detail names the limit that passed.
fn with_limit(class: FailureClass, detail: &str, timeouts: Timeouts) -> String {
    match class {
        FailureClass::Timeout => format!("{detail}; the {}", timeouts.describe()),
        _ => detail.to_string(),
    }
}

/// One request to Cloud KMS: where it went, as whom, and the answer.
struct Call {
    endpoint: String,
    identity: String,
    response: Option<Response>,
}

impl Call {
    fn failure(&self, class: FailureClass, detail: String) -> ServiceError {
        ServiceError {
            kind: KeyKind::GcpKms,
            class,
            endpoint: self.endpoint.clone(),
            identity: self.identity.clone(),
            detail,
        }
    }

    /// A field of the answer's JSON.
    fn field(&self, pick: impl FnOnce(Answer) -> Option<String>) -> Option<String> {
        let body = self.response.as_ref().map(|r| &r.body[..]).unwrap_or_default();
        serde_json::from_slice::<Answer>(body)
            .ok()
            .and_then(pick)
            .filter(|v| !v.is_empty())
    }
}

/// What encrypt and decrypt answer (the fields ksec reads).
#[derive(Deserialize)]
struct Answer {
    ciphertext: Option<String>,
    plaintext: Option<String>,
}

/// Google's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
}

fn error_of(response: &Response) -> ErrorDetail {
    serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .and_then(|b| b.error)
        .unwrap_or(ErrorDetail {
            status: String::new(),
            message: String::new(),
        })
}

fn refusal_class(response: &Response, method: &str) -> FailureClass {
    let error = error_of(response);
    let message = error.message.to_ascii_lowercase();
    match (response.status, error.status.as_str()) {
        (401, _) | (_, "UNAUTHENTICATED") => FailureClass::InvalidCredentials,
        (403, _) | (_, "PERMISSION_DENIED") => FailureClass::AccessDenied,
        (404, _) | (_, "NOT_FOUND") => FailureClass::KeyNotFound,
        (_, "FAILED_PRECONDITION")
            if ["disabled", "destroyed", "destroy_scheduled"]
                .iter()
                .any(|state| message.contains(state)) =>
        {
            FailureClass::KeyDisabled
        }
        (400, _)
            if method == "decrypt" && (message.contains("ciphertext") || message.contains("decryption failed")) =>
        {
            FailureClass::WrongCiphertext
        }
        (429 | 500..=599, _) => FailureClass::ServiceFailed,
        _ => FailureClass::Rejected,
    }
}

/// `Cloud KMS answered 403: PERMISSION_DENIED: Permission 'cloudkms…' denied on …`.
fn describe_refusal(response: &Response) -> String {
    let error = error_of(response);
    let said = match (error.status.is_empty(), error.message.is_empty()) {
        (true, true) => String::from_utf8_lossy(&response.body).into_owned(),
        (false, false) => format!("{}: {}", error.status, error.message),
        _ => format!("{}{}", error.status, error.message),
    };
    let said = bounded(&said, 300);
    if said.is_empty() {
        format!("Cloud KMS answered {}", response.status)
    } else {
        format!("Cloud KMS answered {}: {said}", response.status)
    }
}

/// `{"<field>":"<value>"}` in a buffer wiped when dropped.
fn json_body(field: &str, value: &str) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(field.len() + value.len() + 8));
    let mut map = serde_json::Map::new();
    map.insert(field.to_string(), serde_json::Value::String(value.to_string()));
    // Writing a JSON map of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *body, &map);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn the_endpoint_follows_sops_variables_and_refuses_plain_http_elsewhere() {
        let service = |env: MapEnv| GcpKmsService::from_env(&env, Ok(Timeouts::default())).endpoint;
        assert_eq!(service(MapEnv::new()), Ok(DEFAULT_ENDPOINT.into()));
        assert_eq!(
            service(MapEnv::new().with_var(ENDPOINT_VAR, "cloudkms.s3nsapis.fr:443")),
            Ok("https://cloudkms.s3nsapis.fr:443".into())
        );
        assert_eq!(
            service(MapEnv::new().with_var(ENDPOINT_VAR, "http://127.0.0.1:9000/")),
            Ok("http://127.0.0.1:9000".into())
        );
        assert_eq!(
            service(MapEnv::new().with_var(UNIVERSE_VAR, "s3nsapis.fr")),
            Ok("https://cloudkms.s3nsapis.fr".into())
        );
        let err = service(MapEnv::new().with_var(ENDPOINT_VAR, "http://kms.example.com")).unwrap_err();
        assert!(err.contains("SOPS_GCP_KMS_ENDPOINT"), "{err}");
    }

    #[test]
    fn resource_ids_are_checked_as_sops_checks_them() {
        assert!(check_resource_id("projects/p/locations/global/keyRings/r/cryptoKeys/k").is_ok());
        for bad in [
            "projects/p/locations/global/keyRings/r",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k?x",
            "",
        ] {
            let err = check_resource_id(bad).unwrap_err();
            assert!(err.starts_with("no valid resource ID found in"), "{err}");
        }
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            body: Zeroizing::new(body.as_bytes().to_vec()),
        }
    }

    #[test]
    fn refusals_are_classified_by_googles_status() {
        let cases = [
            (
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                FailureClass::InvalidCredentials,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied",
                FailureClass::AccessDenied,
            ),
            (
                404,
                "NOT_FOUND",
                "CryptoKey projects/p/… not found.",
                FailureClass::KeyNotFound,
            ),
            (
                400,
                "FAILED_PRECONDITION",
                "The request cannot be fulfilled. Resource … has value DISABLED in field crypto_key_version.state.",
                FailureClass::KeyDisabled,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "Decryption failed: the ciphertext is invalid.",
                FailureClass::WrongCiphertext,
            ),
            (
                503,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                FailureClass::ServiceFailed,
            ),
        ];
        for (status, code, message, class) in cases {
            let body = format!(r#"{{"error":{{"code":{status},"message":"{message}","status":"{code}"}}}}"#);
            let response = response(status, &body);
            assert_eq!(refusal_class(&response, "decrypt"), class, "{code}");
            assert_eq!(
                describe_refusal(&response),
                format!("Cloud KMS answered {status}: {code}: {message}")
            );
        }
        assert_eq!(describe_refusal(&response(502, "")), "Cloud KMS answered 502");
    }

    #[test]
    fn nothing_is_asked_for_a_bad_key_or_bad_settings() {
        let env = MapEnv::new().with_var(ENDPOINT_VAR, "http://kms.example.com");
        let service = GcpKmsService::from_env(&env, Ok(Timeouts::default()));
        let key = GcpKmsKey::from_resource_id("projects/p/locations/l/keyRings/r/cryptoKeys/k");
        let err = service.decrypt(&key, "AAAA").unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(service.report().is_some(), "an attempt is reported");
        let service = GcpKmsService::from_env(&MapEnv::new(), Ok(Timeouts::default()));
        let err = service.decrypt(&key, "not base64!").unwrap_err();
        assert_eq!(err.class, FailureClass::WrongCiphertext);
        let err = service
            .encrypt(&GcpKmsKey::from_resource_id("projects/p"), b"k")
            .unwrap_err();
        assert!(err.detail.starts_with("no valid resource ID found"), "{err}");
    }
}
