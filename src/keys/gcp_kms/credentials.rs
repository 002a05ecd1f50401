//! Where the access token for Cloud KMS comes from, in sops's order and then Google's
//! application default credentials (ADC):
//!
//! 1. `GOOGLE_CREDENTIALS` (sops's own): a credentials file's path, or its JSON itself;
//! 2. `GOOGLE_OAUTH_ACCESS_TOKEN` (sops's own): an access token, used as it is;
//! 3. `GOOGLE_APPLICATION_CREDENTIALS`: a credentials file;
//! 4. gcloud's file, `~/.config/gcloud/application_default_credentials.json` (the directory
//!    `CLOUDSDK_CONFIG` names instead, when set), written by `gcloud auth
//!    application-default login`;
//! 5. the GCE metadata server's default service account (GKE, Cloud Run, Compute Engine), at
//!    `GCE_METADATA_HOST` or `169.254.169.254` (the address `metadata.google.internal` names).
//!    Without `GCE_METADATA_HOST` the server is only probed, for 2 seconds, as Google's
//!    libraries check whether they run on Google Cloud.
//!
//! A credentials file is one of: `authorized_user` (a refresh token, exchanged at its
//! `token_uri`), `service_account` (a JWT signed with its key, exchanged with the JWT bearer
//! grant of RFC 7523), or `external_account` (workload identity federation: a subject token
//! read from a file or a URL, exchanged at Google's STS with RFC 8693 token exchange, then
//! optionally for a service account's token through `service_account_impersonation_url`; of
//! a URL source's headers, `Metadata`, `Metadata-Flavor` and `Authorization` are sent).
//! Other types (executable-sourced or AWS-sourced external accounts, impersonated service
//! accounts) are refused by name.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::keys::Env;
use crate::keys::services::http::{Header, HttpClient, Response, TransportError};
use crate::keys::services::oauth::{self, BearerToken};
use crate::keys::services::{FailureClass, bounded};

const CREDENTIALS_VAR: &str = "GOOGLE_CREDENTIALS";
const ACCESS_TOKEN_VAR: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
const ADC_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";
const METADATA_HOST_VAR: &str = "GCE_METADATA_HOST";
/// The metadata server's link-local address; Google's Go libraries use it rather than the
/// name, whose lookup can be slow off Google Cloud.
const METADATA_IP: &str = "169.254.169.254";
const METADATA_PROBE: Duration = Duration::from_secs(2);
const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The scopes of Cloud KMS's client libraries.
const SCOPES: &str = "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/cloudkms";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The variables that say where credentials are; nothing is read until a token is needed.
pub(super) struct CredentialSettings {
    credentials: Option<String>,
    access_token: Option<SecretString>,
    adc_file: Option<String>,
    /// gcloud's file, from `CLOUDSDK_CONFIG` or the home directory.
    gcloud_file: Option<PathBuf>,
    metadata_host: Option<String>,
}

/// Why no token could be had: the class, what was tried (never a secret), and what happened.
#[derive(Debug)]
pub(super) struct TokenFailure {
    pub class: FailureClass,
    pub identity: String,
    pub detail: String,
}

impl CredentialSettings {
    pub fn from_env(env: &dyn Env) -> CredentialSettings {
        let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
        let gcloud_dir = var("CLOUDSDK_CONFIG")
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|home| home.join(".config").join("gcloud")));
        CredentialSettings {
            credentials: var(CREDENTIALS_VAR),
            access_token: var(ACCESS_TOKEN_VAR).map(SecretString::from),
            adc_file: var(ADC_VAR),
            gcloud_file: gcloud_dir.map(|dir| dir.join("application_default_credentials.json")),
            metadata_host: var(METADATA_HOST_VAR),
        }
    }

    /// Finds credentials and gets a token with them, by `deadline`. `client` asks token
    /// endpoints (with the environment's proxies), `metadata` the metadata server (directly).
    pub fn token(
        &self,
        client: &HttpClient,
        metadata: &HttpClient,
        deadline: Instant,
    ) -> Result<BearerToken, TokenFailure> {
        if let Some(value) = &self.credentials {
            let (json, origin) = match std::fs::metadata(value) {
                Ok(_) => (read_file(value, CREDENTIALS_VAR)?, format!("{CREDENTIALS_VAR}={value}")),
                Err(_) => (
                    Zeroizing::new(value.as_bytes().to_vec()),
                    format!("{CREDENTIALS_VAR} (JSON)"),
                ),
            };
            return from_file(&json, &origin, client, deadline);
        }
        if let Some(token) = &self.access_token {
            return Ok(BearerToken::new(
                token.clone(),
                format!("access token from {ACCESS_TOKEN_VAR}"),
            ));
        }
        if let Some(path) = &self.adc_file {
            let json = read_file(path, ADC_VAR)?;
            return from_file(&json, &format!("{ADC_VAR}={path}"), client, deadline);
        }
        if let Some(path) = &self.gcloud_file
            && path.exists()
        {
            let shown = path.display().to_string();
            let json = read_file(&shown, "gcloud's application default credentials")?;
            return from_file(&json, &shown, client, deadline);
        }
        self.metadata_server_token(metadata, deadline)
    }

    /// The default service account's token from the metadata server.
    fn metadata_server_token(&self, metadata: &HttpClient, deadline: Instant) -> Result<BearerToken, TokenFailure> {
        let (host, probing) = match &self.metadata_host {
            Some(host) => (host.as_str(), false),
            None => (METADATA_IP, true),
        };
        let identity = match probing {
            true => format!("the default service account of the GCE metadata server at {host}"),
            false => format!("the default service account of the GCE metadata server at {METADATA_HOST_VAR}={host}"),
        };
        let url = format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token");
        let limit = if probing {
            deadline.min(Instant::now() + METADATA_PROBE)
        } else {
            deadline
        };
        let headers = [Header {
            name: "Metadata-Flavor",
            value: "Google",
            sensitive: false,
        }];
        let failure = |class, detail| TokenFailure {
            class,
            identity: identity.clone(),
            detail,
        };
        let response = match metadata.get(&url, &headers, limit) {
            Ok(response) => response,
            Err(e) if probing && matches!(e.class, FailureClass::Unreachable | FailureClass::Timeout) => {
                return Err(failure(FailureClass::NoCredentials, self.nothing_found()));
            }
            Err(e) => return Err(failure(e.class, format!("the metadata server: {}", e.detail))),
        };
        match response.status {
            200..=299 => oauth::access_token(&response.body)
                .map(|token| BearerToken::new(token, identity.clone()))
                .ok_or_else(|| {
                    failure(
                        FailureClass::BadResponse,
                        "the metadata server's answer holds no access token".into(),
                    )
                }),
            404 => Err(failure(
                FailureClass::NoCredentials,
                format!(
                    "the metadata server {}: this machine has no service account",
                    oauth::refusal(404, &response.body)
                ),
            )),
            status => Err(failure(
                oauth::refusal_class(status),
                format!("the metadata server {}", oauth::refusal(status, &response.body)),
            )),
        }
    }

    fn nothing_found(&self) -> String {
        let gcloud = match &self.gcloud_file {
            Some(path) => format!("{} does not exist", path.display()),
            None => "there is no home directory for gcloud's file".into(),
        };
        format!(
            "no Google credentials: {CREDENTIALS_VAR}, {ACCESS_TOKEN_VAR} and {ADC_VAR} are not set, {gcloud}, \
             and no GCE metadata server answered at {METADATA_IP}"
        )
    }

    /// Where credentials will be looked for, for the report before any was read.
    pub fn describe(&self) -> String {
        if self.credentials.is_some() {
            format!("credentials from {CREDENTIALS_VAR}")
        } else if self.access_token.is_some() {
            format!("access token from {ACCESS_TOKEN_VAR}")
        } else if let Some(path) = &self.adc_file {
            format!("credentials from {ADC_VAR}={path}")
        } else {
            "application default credentials".into()
        }
    }
}

fn read_file(path: &str, what: &str) -> Result<Zeroizing<Vec<u8>>, TokenFailure> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| TokenFailure {
        class: FailureClass::Settings,
        identity: format!("credentials from {what}"),
        detail: format!("cannot read {path}: {e}"),
    })
}

/// A credentials file's fields, of every type ksec reads.
#[derive(Deserialize)]
struct CredentialFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    // authorized_user
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    // service_account
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    // external_account
    audience: Option<String>,
    subject_token_type: Option<String>,
    token_url: Option<String>,
    credential_source: Option<CredentialSource>,
    service_account_impersonation_url: Option<String>,
}

/// Where an external account's subject token comes from.
#[derive(Deserialize)]
struct CredentialSource {
    file: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    format: Option<SourceFormat>,
    executable: Option<serde_json::Value>,
    environment_id: Option<String>,
}

#[derive(Deserialize)]
struct SourceFormat {
    #[serde(rename = "type")]
    kind: Option<String>,
    subject_token_field_name: Option<String>,
}

fn from_file(json: &[u8], origin: &str, client: &HttpClient, deadline: Instant) -> Result<BearerToken, TokenFailure> {
    let unusable = |detail: String| TokenFailure {
        class: FailureClass::Settings,
        identity: format!("credentials from {origin}"),
        detail,
    };
    let file: CredentialFile = serde_json::from_slice(json)
        .map_err(|e| unusable(format!("not a Google credentials file (JSON): line {}", e.line())))?;
    let field = |value: &Option<String>, name: &str| {
        value
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| unusable(format!("the credentials have no {name}")))
    };
    match file.kind.as_deref() {
        Some("authorized_user") => {
            let client_id = field(&file.client_id, "client_id")?;
            let identity = format!("user credentials (OAuth client {client_id}) from {origin}");
            let token_uri = file.token_uri.clone().unwrap_or_else(|| GOOGLE_TOKEN_URI.into());
            let secret = Zeroizing::new(field(&file.client_secret, "client_secret")?);
            let refresh = Zeroizing::new(field(&file.refresh_token, "refresh_token")?);
            let body = oauth::form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("refresh_token", &refresh),
            ]);
            exchange(client, &token_uri, &body, deadline, identity)
        }
        Some("service_account") => {
            let email = field(&file.client_email, "client_email")?;
            let identity = format!("service account {email} (key from {origin})");
            let token_uri = file.token_uri.clone().unwrap_or_else(|| GOOGLE_TOKEN_URI.into());
            let key = Zeroizing::new(field(&file.private_key, "private_key")?);
            let now = oauth::unix_now();
            let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
            if let Some(kid) = file.private_key_id.as_deref().filter(|k| !k.is_empty()) {
                header["kid"] = kid.into();
            }
            let claims = serde_json::json!({
                "iss": email,
                "scope": SCOPES,
                "aud": token_uri,
                "iat": now,
                "exp": now + 3600,
            });
            let assertion = oauth::jwt_rs256(&header, &claims, &key).map_err(|detail| TokenFailure {
                class: FailureClass::Settings,
                identity: identity.clone(),
                detail,
            })?;
            let body = oauth::form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ]);
            exchange(client, &token_uri, &body, deadline, identity)
        }
        Some("external_account") => external_account(&file, origin, client, deadline),
        Some(other) => Err(unusable(format!(
            "credentials of type {other:?} are not supported by ksec (it reads authorized_user, \
             service_account and external_account)"
        ))),
        None => Err(unusable("the credentials have no type".into())),
    }
}

/// Workload identity federation: the subject token, exchanged at STS, then (when the file
/// says so) for a service account's token.
fn external_account(
    file: &CredentialFile,
    origin: &str,
    client: &HttpClient,
    deadline: Instant,
) -> Result<BearerToken, TokenFailure> {
    let audience = file.audience.clone().unwrap_or_default();
    let mut identity = format!("workload identity federation ({audience}) from {origin}");
    let unusable = |identity: &str, detail: String| TokenFailure {
        class: FailureClass::Settings,
        identity: identity.to_string(),
        detail,
    };
    let source = file
        .credential_source
        .as_ref()
        .ok_or_else(|| unusable(&identity, "the credentials have no credential_source".into()))?;
    if source.executable.is_some() || source.environment_id.is_some() {
        return Err(unusable(
            &identity,
            "external accounts whose subject token comes from an executable or from AWS are not supported \
             by ksec (it reads a subject token from a file or a URL)"
                .into(),
        ));
    }
    let (subject, from) = subject_token(source, client, deadline).map_err(|(class, detail)| TokenFailure {
        class,
        identity: identity.clone(),
        detail,
    })?;
    identity = format!("workload identity federation ({audience}, subject token from {from}) from {origin}");
    let token_url = file
        .token_url
        .clone()
        .unwrap_or_else(|| "https://sts.googleapis.com/v1/token".into());
    let body = oauth::form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("audience", &audience),
        ("scope", CLOUD_PLATFORM),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("subject_token", &subject),
        (
            "subject_token_type",
            file.subject_token_type.as_deref().unwrap_or_default(),
        ),
    ]);
    let federated = exchange(client, &token_url, &body, deadline, identity.clone())?;
    let Some(impersonate) = file
        .service_account_impersonation_url
        .as_deref()
        .filter(|u| !u.is_empty())
    else {
        return Ok(federated);
    };
    let account = impersonate
        .rsplit('/')
        .next()
        .and_then(|last| last.split(':').next())
        .unwrap_or(impersonate);
    let identity = format!("{identity}, impersonating {account}");
    let fail = |class, detail| TokenFailure {
        class,
        identity: identity.clone(),
        detail,
    };
    oauth::check_url(impersonate, "service_account_impersonation_url")
        .map_err(|detail| fail(FailureClass::Settings, detail))?;
    let body = serde_json::json!({"scope": [CLOUD_PLATFORM], "lifetime": "3600s"}).to_string();
    let authorization = federated.authorization();
    let headers = [Header {
        name: "Authorization",
        value: &authorization,
        sensitive: true,
    }];
    let response = oauth::with_one_retry(deadline, || {
        client.post_json(impersonate, &headers, body.as_bytes(), deadline)
    })
    .map_err(|e| fail(e.class, format!("{impersonate}: {}", e.detail)))?;
    token_from(&response, impersonate, identity.clone())
}

/// The subject token, and where it came from (for the identity).
fn subject_token(
    source: &CredentialSource,
    client: &HttpClient,
    deadline: Instant,
) -> Result<(Zeroizing<String>, String), (FailureClass, String)> {
    let (raw, from) = if let Some(path) = source.file.as_deref().filter(|p| !p.is_empty()) {
        let bytes = std::fs::read(path).map(Zeroizing::new).map_err(|e| {
            (
                FailureClass::Settings,
                format!("cannot read the subject token file {path}: {e}"),
            )
        })?;
        (bytes, format!("file {path}"))
    } else if let Some(url) = source.url.as_deref().filter(|u| !u.is_empty()) {
        oauth::check_url(url, "credential_source.url").map_err(|d| (FailureClass::Settings, d))?;
        let headers: Vec<Header<'_>> = source
            .headers
            .iter()
            .filter_map(|(name, value)| {
                // Header names must outlive the request as `&'static str`; only the names the
                // credential sources document are sent.
                let name: &'static str = match name.to_ascii_lowercase().as_str() {
                    "metadata" => "Metadata",
                    "metadata-flavor" => "Metadata-Flavor",
                    "authorization" => "Authorization",
                    _ => return None,
                };
                Some(Header {
                    name,
                    value,
                    sensitive: name == "Authorization",
                })
            })
            .collect();
        let response = client
            .get(url, &headers, deadline)
            .map_err(|e| (e.class, format!("the subject token URL {url}: {}", e.detail)))?;
        if !(200..300).contains(&response.status) {
            return Err((
                FailureClass::NoCredentials,
                format!(
                    "the subject token URL {url} {}",
                    oauth::refusal(response.status, &response.body)
                ),
            ));
        }
        (response.body, format!("URL {url}"))
    } else {
        return Err((
            FailureClass::Settings,
            "the credential_source names neither a file nor a URL".into(),
        ));
    };
    let format = source.format.as_ref();
    let token = match format.and_then(|f| f.kind.as_deref()) {
        Some("json") => {
            let field = format
                .and_then(|f| f.subject_token_field_name.as_deref())
                .unwrap_or_default();
            let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| {
                (
                    FailureClass::Settings,
                    format!("the subject token from {from} is not JSON"),
                )
            })?;
            value
                .get(field)
                .and_then(|v| v.as_str())
                .map(|t| Zeroizing::new(t.to_string()))
                .ok_or_else(|| {
                    (
                        FailureClass::Settings,
                        format!("the subject token from {from} has no string field {field:?}"),
                    )
                })?
        }
        _ => Zeroizing::new(String::from_utf8_lossy(&raw).trim().to_string()),
    };
    if token.is_empty() {
        return Err((
            FailureClass::NoCredentials,
            format!("the subject token from {from} is empty"),
        ));
    }
    Ok((token, from))
}

/// Posts a token request form to `url` and reads the token from the answer.
fn exchange(
    client: &HttpClient,
    url: &str,
    body: &[u8],
    deadline: Instant,
    identity: String,
) -> Result<BearerToken, TokenFailure> {
    let fail = |class, detail| TokenFailure {
        class,
        identity: identity.clone(),
        detail,
    };
    oauth::check_url(url, "the token endpoint").map_err(|detail| fail(FailureClass::Settings, detail))?;
    let response = oauth::with_one_retry(deadline, || client.post_form(url, &[], body, deadline))
        .map_err(|e: TransportError| fail(e.class, format!("the token endpoint {url}: {}", e.detail)))?;
    token_from(&response, url, identity.clone())
}

fn token_from(response: &Response, url: &str, identity: String) -> Result<BearerToken, TokenFailure> {
    if !(200..300).contains(&response.status) {
        return Err(TokenFailure {
            class: oauth::refusal_class(response.status),
            identity,
            detail: format!(
                "getting an access token, {} {}",
                bounded(url, 200),
                oauth::refusal(response.status, &response.body)
            ),
        });
    }
    match oauth::access_token(&response.body) {
        Some(token) => Ok(BearerToken::new(token, identity)),
        None => Err(TokenFailure {
            class: FailureClass::BadResponse,
            identity,
            detail: format!("the answer of {} holds no access token", bounded(url, 200)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn sops_variables_come_before_application_default_credentials() {
        let env = MapEnv::new()
            .with_home("/home/u")
            .with_var(ACCESS_TOKEN_VAR, "ya29.token")
            .with_var(ADC_VAR, "/k.json");
        let settings = CredentialSettings::from_env(&env);
        assert_eq!(settings.describe(), "access token from GOOGLE_OAUTH_ACCESS_TOKEN");
        assert_eq!(
            settings.gcloud_file,
            Some(PathBuf::from(
                "/home/u/.config/gcloud/application_default_credentials.json"
            ))
        );
        let env = MapEnv::new().with_var("CLOUDSDK_CONFIG", "/etc/gcloud");
        let settings = CredentialSettings::from_env(&env);
        assert_eq!(
            settings.gcloud_file,
            Some(PathBuf::from("/etc/gcloud/application_default_credentials.json"))
        );
        assert_eq!(settings.describe(), "application default credentials");
    }

    #[test]
    fn unsupported_or_broken_credential_files_are_named_as_settings() {
        let client = HttpClient::new(Default::default(), Default::default(), Default::default());
        let deadline = Instant::now() + Duration::from_secs(1);
        let err = from_file(
            b"{\"type\":\"impersonated_service_account\"}",
            "f.json",
            &client,
            deadline,
        )
        .unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(
            err.detail
                .contains("\"impersonated_service_account\" are not supported"),
            "{}",
            err.detail
        );
        let err = from_file(b"not json", "f.json", &client, deadline).unwrap_err();
        assert!(err.detail.contains("not a Google credentials file"), "{}", err.detail);
        let err = from_file(
            br#"{"type":"service_account","client_email":"a@b","private_key":"nope"}"#,
            "f.json",
            &client,
            deadline,
        )
        .unwrap_err();
        assert_eq!(err.detail, "the private key is not a PEM RSA private key");
        assert!(err.identity.contains("service account a@b"), "{}", err.identity);
        let err = from_file(
            br#"{"type":"external_account","credential_source":{"executable":{"command":"x"}}}"#,
            "f.json",
            &client,
            deadline,
        )
        .unwrap_err();
        assert!(err.detail.contains("from an executable or from AWS"), "{}", err.detail);
    }
}
