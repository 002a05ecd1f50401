//! Asking Vault's transit engine: the settings the Vault CLI reads from the environment, the
//! token, the requests, and what each refusal means.
//!
//! Settings, as the Vault client library that sops uses reads them (`api.DefaultConfig`,
//! `api.NewClient`), plus sops's own token file:
//! - the token: `VAULT_TOKEN`, else `~/.vault-token` (trimmed), else none (a Vault Agent
//!   listening at `VAULT_AGENT_ADDR` may add its own);
//! - `VAULT_NAMESPACE` (the `X-Vault-Namespace` header);
//! - `VAULT_AGENT_ADDR`: requests go to the agent instead of the file's address;
//! - TLS: `VAULT_CACERT` (a PEM file), `VAULT_CAPATH` (a directory of them) or
//!   `VAULT_CACERT_BYTES` replace the system's trust store; `VAULT_CLIENT_CERT` with
//!   `VAULT_CLIENT_KEY` present a client certificate; `VAULT_SKIP_VERIFY` (a Go boolean)
//!   turns verification off;
//! - `VAULT_PROXY_ADDR` (or the older `VAULT_HTTP_PROXY`) replaces the environment's proxy;
//! - `VAULT_MAX_RETRIES` (default 2): a 412, 429 or 5xx answer is asked again after a second,
//!   within the time limit; a refused connection or a timeout is not (it would only delay the
//!   failure);
//! - `VAULT_CLIENT_TIMEOUT` limits an operation when `KSEC_KEY_SERVICE_TIMEOUT` is not set.
//!
//! Vault answers 403 "permission denied" both to a token it does not know and to a token whose
//! policy does not allow the operation. To tell the user which, a refused request is followed
//! by `GET auth/token/lookup-self` with the same token: if that works the token is valid and
//! the policy is the problem.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::VaultKey;
use crate::keys::services::http::{
    Header, HttpClient, ProxySettings, Response, TlsSettings, TransportError, pem_certificates, pem_private_key,
};
use crate::keys::services::{FailureClass, ServiceError, Timeouts, bounded};
use crate::keys::{Env, KeyKind};

const ADDR_VAR: &str = "VAULT_ADDR";
const TOKEN_VAR: &str = "VAULT_TOKEN";
const NAMESPACE_VAR: &str = "VAULT_NAMESPACE";
const AGENT_VAR: &str = "VAULT_AGENT_ADDR";
const TIMEOUT_VAR: &str = "VAULT_CLIENT_TIMEOUT";
const RETRIES_VAR: &str = "VAULT_MAX_RETRIES";
const SKIP_VERIFY_VAR: &str = "VAULT_SKIP_VERIFY";
/// sops reads the token the Vault CLI stores after `vault login` from here.
const TOKEN_FILE: &str = ".vault-token";
/// How long Vault's client waits before asking again after a 5xx.
const RETRY_WAIT: Duration = Duration::from_secs(1);

/// Vault as the environment describes it, and the connection once one is needed.
pub struct VaultService {
    settings: Settings,
    /// Built when Vault is first asked; an unusable setting is the error every key reports.
    client: OnceLock<Result<HttpClient, ServiceError>>,
    token: OnceLock<Result<Token, ServiceError>>,
    asked: AtomicBool,
}

/// The variables read at discovery; nothing is opened or parsed until Vault is asked.
struct Settings {
    /// `VAULT_ADDR`: shown by `ksec doctor` only, since each key names its own address.
    addr: Option<String>,
    token: Option<SecretString>,
    home: Option<PathBuf>,
    namespace: Option<String>,
    agent: Option<String>,
    ca_cert: Option<String>,
    ca_path: Option<String>,
    ca_cert_bytes: Option<String>,
    client_cert: Option<String>,
    client_key: Option<String>,
    skip_verify: Option<String>,
    max_retries: Option<String>,
    proxy: Option<String>,
    proxies: ProxySettings,
    timeouts: Result<Timeouts, String>,
}

/// The token and where it came from.
struct Token {
    secret: Option<SecretString>,
    /// `token from VAULT_TOKEN`, `token from /home/u/.vault-token`, `no token (…)`.
    source: String,
}

impl VaultService {
    /// Reads Vault's variables (and not yet `~/.vault-token`).
    pub fn from_env(env: &dyn Env, timeouts: Result<Timeouts, String>) -> VaultService {
        let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
        let timeouts = match (timeouts, var(TIMEOUT_VAR)) {
            (Ok(t), Some(text)) if t.source.is_none() => t.with_request(&text, TIMEOUT_VAR),
            (timeouts, _) => timeouts,
        };
        VaultService {
            settings: Settings {
                addr: var(ADDR_VAR),
                token: var(TOKEN_VAR).map(SecretString::from),
                home: env.home_dir(),
                namespace: var(NAMESPACE_VAR),
                agent: var(AGENT_VAR),
                ca_cert: var("VAULT_CACERT"),
                ca_path: var("VAULT_CAPATH"),
                ca_cert_bytes: var("VAULT_CACERT_BYTES"),
                client_cert: var("VAULT_CLIENT_CERT"),
                client_key: var("VAULT_CLIENT_KEY"),
                skip_verify: var(SKIP_VERIFY_VAR),
                max_retries: var(RETRIES_VAR),
                proxy: var("VAULT_PROXY_ADDR").or_else(|| var("VAULT_HTTP_PROXY")),
                proxies: ProxySettings::from_env(env),
                timeouts,
            },
            client: OnceLock::new(),
            token: OnceLock::new(),
            asked: AtomicBool::new(false),
        }
    }

    /// Wraps `secret` with `key`: Vault's ciphertext, `vault:v1:…`.
    pub fn encrypt(&self, key: &VaultKey, secret: &[u8]) -> Result<String, ServiceError> {
        let plaintext = Zeroizing::new(STANDARD.encode(secret));
        let body = json_body("plaintext", &plaintext);
        let call = self.call(key, "encrypt", &body)?;
        let answer: Answer<'_> = call.parse()?;
        match answer.data.and_then(|d| d.ciphertext) {
            Some(ciphertext) if !ciphertext.is_empty() => Ok(ciphertext.into_owned()),
            _ => Err(call.failure(FailureClass::BadResponse, "Vault's answer holds no ciphertext".into())),
        }
    }

    /// Unwraps `enc` (Vault's ciphertext) with `key`.
    pub fn decrypt(&self, key: &VaultKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let body = json_body("ciphertext", enc);
        let call = self.call(key, "decrypt", &body)?;
        let answer: Answer<'_> = call.parse()?;
        let plaintext = answer
            .data
            .and_then(|d| d.plaintext)
            .map(|p| Zeroizing::new(p.into_owned()))
            .ok_or_else(|| call.failure(FailureClass::BadResponse, "Vault's answer holds no plaintext".into()))?;
        STANDARD
            .decode(plaintext.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| call.failure(FailureClass::BadResponse, "Vault's plaintext is not base64".into()))
    }

    /// What the report says of Vault once it was asked: as whom, and within which limit.
    pub fn report(&self) -> Option<String> {
        if !self.asked.load(Ordering::Relaxed) {
            return None;
        }
        let identity = match self.token.get() {
            Some(Ok(token)) => self.identity(token),
            Some(Err(e)) => e.detail.clone(),
            None => "not asked".into(),
        };
        let limit = match &self.settings.timeouts {
            Ok(t) => t.describe(),
            Err(problem) => problem.clone(),
        };
        Some(format!("Vault: {identity}; {limit}"))
    }

    /// The settings as `ksec doctor` shows them, without asking Vault: `VAULT_ADDR`, where the
    /// token would come from (never the token), the namespace and the agent.
    pub fn settings_summary(&self) -> String {
        let addr = match &self.settings.addr {
            Some(addr) => format!("{ADDR_VAR}={addr} (not used to pick the server: each key names its address)"),
            None => format!("{ADDR_VAR} not set (each key names its address)"),
        };
        let token = match self.token() {
            Ok(token) => self.identity(token),
            Err(e) => e.detail,
        };
        let agent = match &self.settings.agent {
            Some(agent) => format!("; requests go through the agent at {agent}"),
            None => String::new(),
        };
        format!("{addr}; {token}{agent}")
    }

    /// Posts `body` to `{engine}/{operation}/{key}`, asking again after a 5xx as Vault's
    /// client does, and explains a refusal.
    fn call(&self, key: &VaultKey, operation: &str, body: &[u8]) -> Result<Call, ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        // An address written with a trailing slash (VAULT_AGENT_ADDR=http://127.0.0.1:8100/)
        // must not make `//v1/…`, which Vault does not route.
        let base = base_of(self.settings.agent.as_deref().unwrap_or(key.address()));
        let mut call = Call {
            endpoint: match &self.settings.agent {
                Some(agent) => format!("Vault at {} through the agent at {agent}", key.address()),
                None => format!("Vault at {}", key.address()),
            },
            identity: "no token".into(),
            response: None,
        };
        let token = self.token().map_err(|e| call.with_error(e))?;
        call.identity = self.identity(token);
        let client = self.client().map_err(|e| call.with_error(e))?;
        let retries = self
            .max_retries()
            .map_err(|detail| call.failure(FailureClass::Settings, detail))?;
        let url = format!("{base}/v1/{}/{operation}/{}", key.engine_path(), key.key_name());
        let deadline = Instant::now() + client.timeouts().request;
        let headers = self.headers(token);
        let mut attempt = 0;
        let response = loop {
            let response = client
                .post_json(&url, &headers, body, deadline)
                .map_err(|e| call.transport(e, client.timeouts()))?;
            let worth_retrying = matches!(response.status, 412 | 429)
                || ((500..600).contains(&response.status) && response.status != 501);
            let time_left = deadline.saturating_duration_since(Instant::now());
            if !worth_retrying || attempt >= retries || time_left <= RETRY_WAIT {
                break response;
            }
            attempt += 1;
            std::thread::sleep(RETRY_WAIT);
        };
        if (200..300).contains(&response.status) {
            call.response = Some(response);
            return Ok(call);
        }
        let class = self.refusal_class(&response, token, client, &base, deadline);
        Err(call.failure(class, describe_refusal(&response)))
    }

    /// The class of a refused request; for a 403, whether the token itself is refused.
    fn refusal_class(
        &self,
        response: &Response,
        token: &Token,
        client: &HttpClient,
        base: &str,
        deadline: Instant,
    ) -> FailureClass {
        let messages = error_messages(&response.body).join("\n").to_ascii_lowercase();
        match response.status {
            401 | 403 if token.secret.is_none() => FailureClass::NoCredentials,
            401 | 403 => {
                let lookup = client.get(
                    &format!("{base}/v1/auth/token/lookup-self"),
                    &self.headers(token),
                    deadline,
                );
                match lookup {
                    Ok(r) if (200..300).contains(&r.status) => FailureClass::AccessDenied,
                    Ok(r) if matches!(r.status, 401 | 403) => FailureClass::InvalidCredentials,
                    _ => FailureClass::AccessDenied,
                }
            }
            404 => FailureClass::KeyNotFound,
            400 if messages.contains("key not found") => FailureClass::KeyNotFound,
            400 if messages.contains("soft-deleted")
                || messages.contains("disabled")
                || messages.contains("disallowed by policy") =>
            {
                FailureClass::KeyDisabled
            }
            400 if messages.contains("invalid ciphertext")
                || messages.contains("message authentication failed")
                || messages.contains("unable to decrypt")
                || messages.contains("invalid key version") =>
            {
                FailureClass::WrongCiphertext
            }
            412 | 429 | 500..=599 => FailureClass::ServiceFailed,
            _ => FailureClass::Rejected,
        }
    }

    fn headers<'a>(&'a self, token: &'a Token) -> Vec<Header<'a>> {
        let mut headers = vec![Header {
            name: "X-Vault-Request",
            value: "true",
            sensitive: false,
        }];
        if let Some(secret) = &token.secret {
            headers.push(Header {
                name: "X-Vault-Token",
                value: secret.expose_secret(),
                sensitive: true,
            });
        }
        if let Some(namespace) = &self.settings.namespace {
            headers.push(Header {
                name: "X-Vault-Namespace",
                value: namespace,
                sensitive: false,
            });
        }
        headers
    }

    /// `token from VAULT_TOKEN, namespace team-a`.
    fn identity(&self, token: &Token) -> String {
        match &self.settings.namespace {
            Some(namespace) => format!("{}, namespace {namespace}", token.source),
            None => token.source.clone(),
        }
    }

    /// The token, found once: `VAULT_TOKEN`, else `~/.vault-token`, else none.
    fn token(&self) -> Result<&Token, ServiceError> {
        self.token
            .get_or_init(|| self.find_token())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn find_token(&self) -> Result<Token, ServiceError> {
        if let Some(token) = &self.settings.token {
            return Ok(Token {
                secret: Some(token.clone()),
                source: format!("token from {TOKEN_VAR}"),
            });
        }
        let Some(path) = self.settings.home.as_ref().map(|home| home.join(TOKEN_FILE)) else {
            return Ok(Token {
                secret: None,
                source: format!("no token ({TOKEN_VAR} is not set and there is no home directory)"),
            });
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = String::from_utf8_lossy(&bytes);
                let token = text.trim();
                Ok(Token {
                    secret: (!token.is_empty()).then(|| SecretString::from(token.to_string())),
                    source: format!("token from {}", path.display()),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Token {
                secret: None,
                source: format!(
                    "no token ({TOKEN_VAR} is not set and {} does not exist)",
                    path.display()
                ),
            }),
            Err(e) => Err(self.settings_error(format!("cannot read the token file {}: {e}", path.display()))),
        }
    }

    /// The client, built once from the TLS and proxy settings.
    fn client(&self) -> Result<&HttpClient, ServiceError> {
        self.client
            .get_or_init(|| self.build_client())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build_client(&self) -> Result<HttpClient, ServiceError> {
        let s = &self.settings;
        let timeouts = s.timeouts.clone().map_err(|problem| self.settings_error(problem))?;
        let mut tls = TlsSettings::default();
        if let Some(text) = &s.skip_verify {
            tls.skip_verify = go_bool(text)
                .ok_or_else(|| self.settings_error(format!("{SKIP_VERIFY_VAR}={text:?} is not a boolean")))?;
        }
        // As in Vault's client, the first of these that is set replaces the system's store.
        if let Some(file) = &s.ca_cert {
            tls.authorities = self.read_certificates("VAULT_CACERT", file)?;
        } else if let Some(pem) = &s.ca_cert_bytes {
            tls.authorities = pem_certificates(pem.as_bytes())
                .map_err(|e| self.settings_error(format!("VAULT_CACERT_BYTES: {e}")))?;
        } else if let Some(dir) = &s.ca_path {
            tls.authorities = self.read_certificate_dir(dir)?;
        }
        tls.client_identity = match (&s.client_cert, &s.client_key) {
            (Some(cert), Some(key)) => {
                let chain = self.read_certificates("VAULT_CLIENT_CERT", cert)?;
                let key_pem = Zeroizing::new(
                    std::fs::read(key)
                        .map_err(|e| self.settings_error(format!("VAULT_CLIENT_KEY={key}: cannot read it: {e}")))?,
                );
                let key = pem_private_key(&key_pem)
                    .map_err(|e| self.settings_error(format!("VAULT_CLIENT_KEY={key}: {e}")))?;
                Some((chain, key))
            }
            (None, None) => None,
            _ => {
                return Err(
                    self.settings_error("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together; only one is set".into())
                );
            }
        };
        let proxies = match &s.proxy {
            Some(proxy) => ProxySettings::always(proxy.clone()),
            None => s.proxies.clone(),
        };
        Ok(HttpClient::new(tls, proxies, timeouts))
    }

    fn read_certificates(&self, var: &str, file: &str) -> Result<Vec<ureq::tls::Certificate<'static>>, ServiceError> {
        let pem = std::fs::read(file).map_err(|e| self.settings_error(format!("{var}={file}: cannot read it: {e}")))?;
        pem_certificates(&pem).map_err(|e| self.settings_error(format!("{var}={file}: {e}")))
    }

    fn read_certificate_dir(&self, dir: &str) -> Result<Vec<ureq::tls::Certificate<'static>>, ServiceError> {
        let unreadable = |e: std::io::Error| self.settings_error(format!("VAULT_CAPATH={dir}: cannot read it: {e}"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        let mut certs = Vec::new();
        for file in files {
            // A directory of certificates may hold other files (hash links, keys); like Go's
            // rootcerts, only what parses as certificates counts.
            if let Ok(pem) = std::fs::read(&file)
                && let Ok(found) = pem_certificates(&pem)
            {
                certs.extend(found);
            }
        }
        if certs.is_empty() {
            return Err(self.settings_error(format!("VAULT_CAPATH={dir}: no PEM certificate in it")));
        }
        Ok(certs)
    }

    fn max_retries(&self) -> Result<u32, String> {
        match &self.settings.max_retries {
            None => Ok(2),
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| format!("{RETRIES_VAR}={text:?} is not a number")),
        }
    }

    fn settings_error(&self, detail: String) -> ServiceError {
        ServiceError {
            kind: KeyKind::HcVault,
            class: FailureClass::Settings,
            endpoint: "Vault".into(),
            identity: "not asked".into(),
            detail,
        }
    }
}

impl fmt::Debug for VaultService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token; only whether there is one.
        f.debug_struct("VaultService")
            .field("token_set", &self.settings.token.is_some())
            .field("namespace", &self.settings.namespace)
            .field("agent", &self.settings.agent)
            .finish_non_exhaustive()
    }
}

/// One request to Vault: where it went, as whom, and the answer.
struct Call {
    endpoint: String,
    identity: String,
    response: Option<Response>,
}

impl Call {
    fn failure(&self, class: FailureClass, detail: String) -> ServiceError {
        ServiceError {
            kind: KeyKind::HcVault,
            class,
            endpoint: self.endpoint.clone(),
            identity: self.identity.clone(),
            detail,
        }
    }

    /// An error found before the request (a setting), told with this call's endpoint.
    fn with_error(&self, error: ServiceError) -> ServiceError {
        ServiceError {
            endpoint: self.endpoint.clone(),
            identity: self.identity.clone(),
            ..error
        }
    }

    fn transport(&self, error: TransportError, timeouts: Timeouts) -> ServiceError {
        let detail = match error.class {
            FailureClass::Timeout => format!("{}; the {}", error.detail, timeouts.describe()),
            _ => error.detail,
        };
        self.failure(error.class, detail)
    }

    /// The answer's JSON, borrowed from the (zeroizing) body.
    fn parse(&self) -> Result<Answer<'_>, ServiceError> {
        let body = self.response.as_ref().map(|r| &r.body[..]).unwrap_or_default();
        serde_json::from_slice(body).map_err(|_| {
            self.failure(
                FailureClass::BadResponse,
                "Vault's answer is not the JSON it should be".into(),
            )
        })
    }
}

/// What transit answers: `{"data": {"ciphertext": …}}` or `{"data": {"plaintext": …}}`.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    data: Option<AnswerData<'a>>,
}

#[derive(Deserialize)]
struct AnswerData<'a> {
    #[serde(borrow)]
    ciphertext: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    plaintext: Option<std::borrow::Cow<'a, str>>,
}

/// Vault's error answer: `{"errors": ["…"]}`.
#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Vec<String>,
}

fn error_messages(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Errors>(body)
        .map(|e| e.errors.iter().flat_map(|m| unwrap_multierror(m)).collect())
        .unwrap_or_default()
}

/// The messages of Go's multierror text (`1 error occurred:\n\t* permission denied\n\n`), or
/// the message itself.
fn unwrap_multierror(message: &str) -> Vec<String> {
    let items: Vec<String> = message
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("* "))
        .map(|item| item.trim().to_string())
        .collect();
    if message.contains("occurred:") && !items.is_empty() {
        items
    } else {
        vec![message.trim().to_string()]
    }
}

/// `Vault answered 403: permission denied`.
fn describe_refusal(response: &Response) -> String {
    let messages = error_messages(&response.body);
    let said = if messages.is_empty() {
        String::from_utf8_lossy(&response.body).into_owned()
    } else {
        messages.join("; ")
    };
    let said = bounded(&said, 300);
    if said.is_empty() {
        format!("Vault answered {}", response.status)
    } else {
        format!("Vault answered {}: {said}", response.status)
    }
}

/// `{"<field>":"<value>"}` in a buffer wiped when dropped.
fn json_body(field: &str, value: &str) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(field.len() + value.len() * 2 + 8));
    let mut map = serde_json::Map::new();
    // serde_json escapes the value; the copy in the map is dropped (and wiped by the
    // zeroizing allocator of the binary) right after.
    map.insert(field.to_string(), serde_json::Value::String(value.to_string()));
    // Writing a JSON map of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *body, &map);
    body
}

/// The address requests go to, without a trailing slash.
fn base_of(address: &str) -> String {
    address.trim_end_matches('/').to_string()
}

/// Go's `strconv.ParseBool`.
fn go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn the_token_comes_from_vault_token_then_the_token_file_and_is_never_shown() {
        let home = tempfile::tempdir().unwrap();
        let env = MapEnv::new().with_home(home.path()).with_var(TOKEN_VAR, "s.secret");
        let vault = VaultService::from_env(&env, Ok(Timeouts::default()));
        let token = vault.token().unwrap();
        assert_eq!(token.source, "token from VAULT_TOKEN");
        assert!(!format!("{vault:?}").contains("s.secret"));

        let vault = VaultService::from_env(&MapEnv::new().with_home(home.path()), Ok(Timeouts::default()));
        assert!(vault.token().unwrap().secret.is_none());
        assert!(vault.token().unwrap().source.contains(".vault-token does not exist"));

        std::fs::write(home.path().join(TOKEN_FILE), "  s.from-file\n").unwrap();
        let env = MapEnv::new().with_home(home.path()).with_var(TOKEN_VAR, "");
        let vault = VaultService::from_env(&env, Ok(Timeouts::default()));
        let token = vault.token().unwrap();
        assert_eq!(token.secret.as_ref().unwrap().expose_secret(), "s.from-file");
        assert!(token.source.ends_with("/.vault-token"), "{}", token.source);
    }

    #[test]
    fn vault_client_timeout_applies_unless_ksec_s_own_is_set() {
        let env = MapEnv::new().with_var(TIMEOUT_VAR, "3s");
        let vault = VaultService::from_env(&env, Timeouts::from_env(&env));
        assert_eq!(
            vault.settings.timeouts.as_ref().unwrap().request,
            Duration::from_secs(3)
        );
        let env = env.with_var(crate::keys::services::TIMEOUT_VAR, "7");
        let vault = VaultService::from_env(&env, Timeouts::from_env(&env));
        assert_eq!(
            vault.settings.timeouts.as_ref().unwrap().request,
            Duration::from_secs(7)
        );
    }

    #[test]
    fn unusable_settings_are_reported_when_vault_is_asked() {
        let env = MapEnv::new().with_var(SKIP_VERIFY_VAR, "maybe");
        let vault = VaultService::from_env(&env, Ok(Timeouts::default()));
        let key = VaultKey::from_uri("http://127.0.0.1:1/v1/transit/keys/k").unwrap();
        let err = vault.decrypt(&key, "vault:v1:x").unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(
            err.detail.contains("VAULT_SKIP_VERIFY=\"maybe\" is not a boolean"),
            "{err}"
        );
        assert!(vault.report().is_some(), "an attempt is reported");

        let env = MapEnv::new().with_var("VAULT_CLIENT_CERT", "/c.pem");
        let vault = VaultService::from_env(&env, Ok(Timeouts::default()));
        let err = vault.decrypt(&key, "vault:v1:x").unwrap_err();
        assert!(err.detail.contains("go together"), "{err}");
    }

    #[test]
    fn refusals_quote_vaults_errors_on_one_line() {
        let response = Response {
            status: 400,
            body: Zeroizing::new(br#"{"errors":["encryption key not found"]}"#.to_vec()),
        };
        assert_eq!(
            describe_refusal(&response),
            "Vault answered 400: encryption key not found"
        );
        let response = Response {
            status: 502,
            body: Zeroizing::new(b"<html>\nbad gateway</html>".to_vec()),
        };
        assert_eq!(
            describe_refusal(&response),
            "Vault answered 502: <html> bad gateway</html>"
        );
    }

    #[test]
    fn request_bodies_are_json() {
        assert_eq!(
            &json_body("ciphertext", "vault:v1:a\"b")[..],
            br#"{"ciphertext":"vault:v1:a\"b"}"#
        );
        assert_eq!(go_bool("T"), Some(true));
        assert_eq!(go_bool("yes"), None);
    }
}
