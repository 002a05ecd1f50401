//! A local stand-in for the Google Cloud and Azure endpoints ksec asks, for the tests of one
//! test binary: there is no real Cloud KMS or Key Vault here, so this server implements the
//! documented requests and answers of each endpoint (paths, methods, headers, JSON and form
//! fields, API versions, error bodies) and refuses what the documentation would refuse, so a
//! request ksec gets wrong fails the test instead of passing by accident.
//!
//! One server on one loopback port plays every part; the tests point ksec at it with the
//! variables real users would set (`SOPS_GCP_KMS_ENDPOINT`, a `token_uri` in a credentials
//! file, `GCE_METADATA_HOST`, `AZURE_AUTHORITY_HOST`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`,
//! `IDENTITY_ENDPOINT`, and Key Vault key URLs `http://127.0.0.1:PORT/keys/…`):
//!
//! | path | plays |
//! |---|---|
//! | `POST /v1/{key}:encrypt`, `:decrypt` | Cloud KMS (REST v1) |
//! | `POST /google/token` | Google's OAuth 2.0 token endpoint (refresh token and JWT bearer grants) |
//! | `POST /sts/v1/token` | Google's Security Token Service (RFC 8693 token exchange) |
//! | `POST /iam/v1/projects/-/serviceAccounts/{email}:generateAccessToken` | IAM credentials |
//! | `GET /computeMetadata/v1/instance/service-accounts/default/token` | the GCE metadata server |
//! | `GET /keys/{name}/`, `POST /keys/{name}/{version}/encrypt`, `…/decrypt` | Key Vault (7.6) |
//! | `POST /{tenant}/oauth2/v2.0/token` | Microsoft Entra ID (client credentials grant) |
//! | `GET /metadata/identity/oauth2/token` | Azure IMDS (managed identity) |
//! | `GET /msi/token` | App Service's managed identity endpoint |
//!
//! The "encryption" is a reversible transform that records which key made a ciphertext, so a
//! ciphertext given to another key is refused as the services refuse it. Tests share the
//! server, so each names its own keys, principals and credentials.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use rsa::RsaPublicKey;
use rsa::signature::Verifier as _;
use serde_json::{Value, json};
use sha2::Digest as _;

/// The Key Vault API version sops's SDK speaks.
pub const KEY_VAULT_API: &str = "7.6";
/// The resource Key Vault tokens are for.
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";

/// The server of this test binary.
pub struct CloudMock {
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// `127.0.0.1:PORT`.
    pub host: String,
    state: Arc<Mutex<State>>,
}

/// The mock, started on first use; it lives as long as the test binary.
pub fn cloud() -> &'static CloudMock {
    static SERVER: OnceLock<CloudMock> = OnceLock::new();
    SERVER.get_or_init(CloudMock::start)
}

/// Who an access token stands for, and for which service.
#[derive(Clone)]
struct Token {
    principal: String,
    /// `google`, or the Azure resource the token is for.
    audience: String,
}

struct GcpKey {
    allowed: Vec<String>,
    enabled: bool,
}

struct AzureKey {
    versions: Vec<String>,
    allowed: Vec<String>,
    enabled: bool,
}

#[derive(Default)]
struct State {
    counter: u64,
    tokens: HashMap<String, Token>,
    expired: Vec<String>,
    gcp_keys: HashMap<String, GcpKey>,
    azure_keys: HashMap<String, AzureKey>,
    /// refresh token → (client id, client secret, principal)
    google_users: HashMap<String, (String, String, String)>,
    /// client email → public key
    service_accounts: HashMap<String, RsaPublicKey>,
    /// (audience, subject token) → principal
    federation: HashMap<(String, String), String>,
    /// service account → principals allowed to impersonate it
    impersonation: HashMap<String, Vec<String>>,
    gce_account: Option<String>,
    /// (tenant, client) → secret
    azure_secrets: HashMap<(String, String), String>,
    /// (tenant, client) → federated assertion
    azure_federated: HashMap<(String, String), String>,
    /// (tenant, client) → (x5t, public key)
    azure_certificates: HashMap<(String, String), (String, RsaPublicKey)>,
    /// client id ("" for the system-assigned identity) → principal
    imds: HashMap<String, String>,
    /// X-IDENTITY-HEADER value → principal
    app_service: HashMap<String, String>,
    /// `METHOD /path` of every request, in order.
    log: Vec<String>,
}

impl CloudMock {
    fn start() -> CloudMock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let host = listener.local_addr().expect("its address").to_string();
        let mock = CloudMock {
            addr: format!("http://{host}"),
            host,
            state: Arc::new(Mutex::new(State::default())),
        };
        let state = Arc::clone(&mock.state);
        let addr = mock.addr.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&state);
                let addr = addr.clone();
                std::thread::spawn(move || serve(stream, &state, &addr));
            }
        });
        mock
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A Google access token for `principal`, as a user's `gcloud auth print-access-token`.
    pub fn google_token(&self, principal: &str) -> String {
        self.with(|s| s.issue(principal, "google"))
    }

    /// A Key Vault access token for `principal`.
    pub fn azure_token(&self, principal: &str) -> String {
        self.with(|s| s.issue(principal, VAULT_RESOURCE))
    }

    /// Every token of `principal` expires now.
    pub fn expire_tokens(&self, principal: &str) {
        self.with(|s| s.expired.push(principal.to_string()));
    }

    /// A Cloud KMS key that `allowed` may use.
    pub fn gcp_key(&self, resource_id: &str, allowed: &[&str]) {
        self.with(|s| {
            s.gcp_keys.insert(
                resource_id.to_string(),
                GcpKey {
                    allowed: allowed.iter().map(|a| a.to_string()).collect(),
                    enabled: true,
                },
            )
        });
    }

    pub fn disable_gcp_key(&self, resource_id: &str) {
        self.with(|s| s.gcp_keys.get_mut(resource_id).expect("a mock key").enabled = false);
    }

    pub fn delete_gcp_key(&self, resource_id: &str) {
        self.with(|s| s.gcp_keys.remove(resource_id));
    }

    /// A Key Vault key that `allowed` may use; its first version.
    pub fn azure_key(&self, name: &str, allowed: &[&str]) -> String {
        self.with(|s| {
            let version = s.version();
            s.azure_keys.insert(
                name.to_string(),
                AzureKey {
                    versions: vec![version.clone()],
                    allowed: allowed.iter().map(|a| a.to_string()).collect(),
                    enabled: true,
                },
            );
            version
        })
    }

    /// A new current version of a Key Vault key.
    pub fn rotate_azure_key(&self, name: &str) -> String {
        self.with(|s| {
            let version = s.version();
            s.azure_keys
                .get_mut(name)
                .expect("a mock key")
                .versions
                .push(version.clone());
            version
        })
    }

    pub fn disable_azure_key(&self, name: &str) {
        self.with(|s| s.azure_keys.get_mut(name).expect("a mock key").enabled = false);
    }

    pub fn delete_azure_key(&self, name: &str) {
        self.with(|s| s.azure_keys.remove(name));
    }

    /// The URL of a Key Vault key, as sops names it.
    pub fn azure_key_url(&self, name: &str, version: &str) -> String {
        format!("{}/keys/{name}/{version}", self.addr)
    }

    /// A gcloud user: the refresh token `gcloud auth application-default login` stores.
    pub fn google_user(&self, client_id: &str, client_secret: &str, refresh_token: &str, principal: &str) {
        self.with(|s| {
            s.google_users.insert(
                refresh_token.to_string(),
                (client_id.into(), client_secret.into(), principal.into()),
            )
        });
    }

    /// A service account whose key pair has this public key.
    pub fn service_account(&self, email: &str, public_key: RsaPublicKey) {
        self.with(|s| s.service_accounts.insert(email.to_string(), public_key));
    }

    /// A workload identity pool provider `audience` that takes `subject_token` as `principal`.
    pub fn federation(&self, audience: &str, subject_token: &str, principal: &str) {
        self.with(|s| {
            s.federation
                .insert((audience.into(), subject_token.into()), principal.into())
        });
    }

    /// `principal` may get tokens of the service account `email`.
    pub fn allow_impersonation(&self, email: &str, principal: &str) {
        self.with(|s| {
            s.impersonation
                .entry(email.to_string())
                .or_default()
                .push(principal.to_string())
        });
    }

    /// The metadata server's default service account.
    pub fn gce_account(&self, principal: &str) {
        self.with(|s| s.gce_account = Some(principal.to_string()));
    }

    /// An Entra application with a client secret; its principal is `app:{client}`.
    pub fn azure_secret(&self, tenant: &str, client: &str, secret: &str) {
        self.with(|s| s.azure_secrets.insert((tenant.into(), client.into()), secret.into()));
    }

    /// An Entra application that trusts this federated token.
    pub fn azure_federated(&self, tenant: &str, client: &str, assertion: &str) {
        self.with(|s| {
            s.azure_federated
                .insert((tenant.into(), client.into()), assertion.into())
        });
    }

    /// An Entra application with a certificate (its DER) and the certificate's public key.
    pub fn azure_certificate(&self, tenant: &str, client: &str, certificate_der: &[u8], public_key: RsaPublicKey) {
        let x5t = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(certificate_der));
        self.with(|s| {
            s.azure_certificates
                .insert((tenant.into(), client.into()), (x5t, public_key))
        });
    }

    /// A managed identity IMDS gives tokens for: `client_id` for a user-assigned one, `""`
    /// for the machine's own.
    pub fn imds_identity(&self, client_id: &str, principal: &str) {
        self.with(|s| s.imds.insert(client_id.into(), principal.into()));
    }

    /// App Service's identity endpoint answers requests with this header.
    pub fn app_service(&self, header: &str, principal: &str) {
        self.with(|s| s.app_service.insert(header.into(), principal.into()));
    }

    /// The requests so far whose `METHOD /path` contains `needle`.
    pub fn requests_with(&self, needle: &str) -> Vec<String> {
        self.with(|s| s.log.iter().filter(|r| r.contains(needle)).cloned().collect())
    }
}

impl State {
    fn issue(&mut self, principal: &str, audience: &str) -> String {
        self.counter += 1;
        let token = format!("mock-token-{}-{:x}", self.counter, now() ^ 0x5eed);
        self.tokens.insert(
            token.clone(),
            Token {
                principal: principal.to_string(),
                audience: audience.to_string(),
            },
        );
        token
    }

    fn version(&mut self) -> String {
        self.counter += 1;
        format!("{:032x}", u128::from(self.counter) * 0x9e37_79b9_7f4a_7c15)
    }

    /// The bearer token's holder, if the token is known, unexpired and for `audience`.
    fn bearer(&self, request: &Request, audience: &str) -> Result<String, BearerProblem> {
        let header = request.header("authorization").ok_or(BearerProblem::Missing)?;
        let token = header.strip_prefix("Bearer ").ok_or(BearerProblem::Missing)?;
        let known = self.tokens.get(token).ok_or(BearerProblem::Unknown)?;
        if self.expired.contains(&known.principal) {
            return Err(BearerProblem::Expired);
        }
        if known.audience != audience {
            return Err(BearerProblem::Audience(known.audience.clone()));
        }
        Ok(known.principal.clone())
    }
}

enum BearerProblem {
    Missing,
    Unknown,
    Expired,
    Audience(String),
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn content_type_is(&self, wanted: &str) -> bool {
        self.header("content-type").is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case(wanted)
        })
    }

    fn form(&self) -> HashMap<String, String> {
        pairs(&String::from_utf8_lossy(&self.body)).into_iter().collect()
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_string(),
        query: pairs(query),
        headers,
        body,
    })
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, addr: &str) {
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let (status, body) = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.log.push(format!("{} {}", request.method, request.path));
        route(&mut state, &request, addr)
    };
    let answer = format!(
        "HTTP/1.1 {status} Mock\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes());
}

type Answer = (u16, String);

fn route(state: &mut State, request: &Request, addr: &str) -> Answer {
    let path = request.path.as_str();
    if let Some(rest) = path.strip_prefix("/v1/projects/") {
        return cloud_kms(state, request, &format!("projects/{rest}"));
    }
    if path == "/google/token" {
        return google_token(state, request, addr);
    }
    if path == "/sts/v1/token" {
        return sts(state, request);
    }
    if let Some(rest) = path.strip_prefix("/iam/v1/projects/-/serviceAccounts/") {
        return impersonate(state, request, rest);
    }
    if path == "/computeMetadata/v1/instance/service-accounts/default/token" {
        return gce_metadata(state, request);
    }
    if let Some(rest) = path.strip_prefix("/keys/") {
        return key_vault(state, request, rest, addr);
    }
    if let Some(tenant) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
    {
        return entra(state, request, tenant, addr);
    }
    if path == "/metadata/identity/oauth2/token" {
        return imds(state, request);
    }
    if path == "/msi/token" {
        return app_service(state, request);
    }
    (404, json!({"error": "no such mock endpoint"}).to_string())
}

// ---------------------------------------------------------------------------------------------
// Google
// ---------------------------------------------------------------------------------------------

fn google_error(code: u16, status: &str, message: &str) -> Answer {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status}}).to_string(),
    )
}

fn oauth_error(code: u16, error: &str, description: &str) -> Answer {
    (
        code,
        json!({"error": error, "error_description": description}).to_string(),
    )
}

/// The mock's cipher: the key's name, then the secret masked with a stream derived from it.
fn seal(key: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut out = format!("MOCK[{key}]").into_bytes();
    out.extend(mask(key, plaintext));
    out
}

fn open(key: &str, ciphertext: &[u8]) -> Option<Vec<u8>> {
    let prefix = format!("MOCK[{key}]");
    ciphertext.strip_prefix(prefix.as_bytes()).map(|rest| mask(key, rest))
}

fn mask(key: &str, data: &[u8]) -> Vec<u8> {
    let stream = sha2::Sha256::digest(key.as_bytes());
    data.iter().enumerate().map(|(i, b)| b ^ stream[i % 32]).collect()
}

/// Google accepts standard and URL-safe base64 for `bytes` fields.
fn google_bytes(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).or_else(|_| URL_SAFE.decode(text)).ok()
}

fn cloud_kms(state: &mut State, request: &Request, target: &str) -> Answer {
    let Some((resource, method)) = target.rsplit_once(':') else {
        return google_error(404, "NOT_FOUND", "no such method");
    };
    if request.method != "POST" || !matches!(method, "encrypt" | "decrypt") {
        return google_error(404, "NOT_FOUND", "no such method");
    }
    let principal = match state.bearer(request, "google") {
        Ok(principal) => principal,
        Err(_) => {
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or \
                 other valid authentication credential.",
            );
        }
    };
    if !request.content_type_is("application/json") {
        return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    let Some(key) = state.gcp_keys.get(resource) else {
        return google_error(404, "NOT_FOUND", &format!("CryptoKey {resource} not found."));
    };
    let permission = match method {
        "encrypt" => "cloudkms.cryptoKeyVersions.useToEncrypt",
        _ => "cloudkms.cryptoKeyVersions.useToDecrypt",
    };
    if !key.allowed.contains(&principal) {
        return google_error(
            403,
            "PERMISSION_DENIED",
            &format!("Permission '{permission}' denied on resource '{resource}' (or it may not exist)."),
        );
    }
    if !key.enabled {
        return google_error(
            400,
            "FAILED_PRECONDITION",
            &format!(
                "The request cannot be fulfilled. Resource {resource}/cryptoKeyVersions/1 has value DISABLED in field \
                 crypto_key_version.state."
            ),
        );
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
        return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    };
    let (field, known): (&str, &[&str]) = match method {
        "encrypt" => (
            "plaintext",
            &[
                "plaintext",
                "additionalAuthenticatedData",
                "plaintextCrc32c",
                "additionalAuthenticatedDataCrc32c",
            ],
        ),
        _ => (
            "ciphertext",
            &[
                "ciphertext",
                "additionalAuthenticatedData",
                "ciphertextCrc32c",
                "additionalAuthenticatedDataCrc32c",
            ],
        ),
    };
    if let Some(unknown) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            &format!("Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."),
        );
    }
    let Some(input) = body.get(field).and_then(Value::as_str).and_then(google_bytes) else {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            &format!("{field} is required and must be base64."),
        );
    };
    match method {
        "encrypt" => (
            200,
            json!({
                "name": format!("{resource}/cryptoKeyVersions/1"),
                "ciphertext": STANDARD.encode(seal(resource, &input)),
                "ciphertextCrc32c": "0",
                "protectionLevel": "SOFTWARE",
            })
            .to_string(),
        ),
        _ => match open(resource, &input) {
            Some(plaintext) => (
                200,
                json!({"plaintext": STANDARD.encode(plaintext), "usedPrimary": true, "protectionLevel": "SOFTWARE"})
                    .to_string(),
            ),
            None => google_error(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid."),
        },
    }
}

fn access_token_answer(token: &str) -> Answer {
    (
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).to_string(),
    )
}

fn google_token(state: &mut State, request: &Request, addr: &str) -> Answer {
    if request.method != "POST" || !request.content_type_is("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Bad Request");
    }
    let form = request.form();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    match field("grant_type").as_str() {
        "refresh_token" => {
            let Some((client_id, secret, principal)) = state.google_users.get(&field("refresh_token")).cloned() else {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            };
            if client_id != field("client_id") || secret != field("client_secret") {
                return oauth_error(401, "invalid_client", "The OAuth client was not found.");
            }
            let token = state.issue(&principal, "google");
            access_token_answer(&token)
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let audience = format!("{addr}/google/token");
            match service_account_assertion(state, &field("assertion"), &audience) {
                Ok(email) => {
                    let token = state.issue(&email, "google");
                    access_token_answer(&token)
                }
                Err(why) => oauth_error(400, "invalid_grant", why),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type."),
    }
}

/// Checks a service account's JWT as Google documents it; the account's email.
fn service_account_assertion(state: &State, jwt: &str, audience: &str) -> Result<String, &'static str> {
    let (header, claims) = verify_jwt(jwt, |claims| {
        let iss = claims.get("iss")?.as_str()?;
        state.service_accounts.get(iss).cloned()
    })
    .ok_or("Invalid JWT Signature.")?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("Invalid JWT: the algorithm must be RS256.");
    }
    if claims.get("aud").and_then(Value::as_str) != Some(audience) {
        return Err("Invalid JWT: Failed audience check.");
    }
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
    if !scope.split(' ').any(|s| {
        s == "https://www.googleapis.com/auth/cloudkms" || s == "https://www.googleapis.com/auth/cloud-platform"
    }) {
        return Err("Invalid JWT: no scope for Cloud KMS.");
    }
    let (iat, exp) = (
        claims.get("iat").and_then(Value::as_u64).unwrap_or_default(),
        claims.get("exp").and_then(Value::as_u64).unwrap_or_default(),
    );
    if exp <= now() || iat > now() + 60 || exp.saturating_sub(iat) > 3600 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
    }
    Ok(claims["iss"].as_str().unwrap_or_default().to_string())
}

/// A JWT's header and claims, when its RS256 signature verifies with the key `key_for` picks
/// from its claims.
fn verify_jwt(jwt: &str, key_for: impl FnOnce(&Value) -> Option<RsaPublicKey>) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let key = key_for(&claims)?;
    let signature = rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(s).ok()?.as_slice()).ok()?;
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .ok()?;
    Some((header, claims))
}

fn sts(state: &mut State, request: &Request) -> Answer {
    if request.method != "POST" || !request.content_type_is("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Bad Request");
    }
    let form = request.form();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" {
        return oauth_error(400, "invalid_grant", "Invalid grant_type.");
    }
    if field("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token" {
        return oauth_error(400, "invalid_request", "Invalid requested_token_type.");
    }
    if !field("scope")
        .split(' ')
        .any(|s| s == "https://www.googleapis.com/auth/cloud-platform")
    {
        return oauth_error(400, "invalid_scope", "Invalid scope.");
    }
    if field("subject_token_type").is_empty() {
        return oauth_error(400, "invalid_request", "subject_token_type is required.");
    }
    match state
        .federation
        .get(&(field("audience"), field("subject_token")))
        .cloned()
    {
        Some(principal) => {
            let token = state.issue(&principal, "google");
            (
                200,
                json!({
                    "access_token": token,
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                })
                .to_string(),
            )
        }
        None => oauth_error(
            400,
            "invalid_grant",
            "The subject token is not valid for this audience.",
        ),
    }
}

fn impersonate(state: &mut State, request: &Request, target: &str) -> Answer {
    let Some(email) = target.strip_suffix(":generateAccessToken") else {
        return google_error(404, "NOT_FOUND", "no such method");
    };
    let principal = match state.bearer(request, "google") {
        Ok(p) => p,
        Err(_) => {
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            );
        }
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let scoped = body.get("scope").and_then(Value::as_array).is_some_and(|s| {
        s.iter()
            .any(|s| s.as_str() == Some("https://www.googleapis.com/auth/cloud-platform"))
    });
    if request.method != "POST" || !request.content_type_is("application/json") || !scoped {
        return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
    }
    if !state
        .impersonation
        .get(email)
        .is_some_and(|allowed| allowed.contains(&principal))
    {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        );
    }
    let token = state.issue(email, "google");
    (
        200,
        json!({"accessToken": token, "expireTime": "2099-01-01T00:00:00Z"}).to_string(),
    )
}

fn gce_metadata(state: &mut State, request: &Request) -> Answer {
    if request.header("metadata-flavor") != Some("Google") {
        return (
            403,
            json!({"error": "Missing Metadata-Flavor:Google header."}).to_string(),
        );
    }
    match state.gce_account.clone() {
        Some(principal) => {
            let token = state.issue(&principal, "google");
            access_token_answer(&token)
        }
        None => (404, json!({"error": "Not Found"}).to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Azure
// ---------------------------------------------------------------------------------------------

fn vault_error(status: u16, code: &str, message: &str, inner: Option<&str>) -> Answer {
    let mut error = json!({"code": code, "message": message});
    if let Some(inner) = inner {
        error["innererror"] = json!({"code": inner});
    }
    (status, json!({"error": error}).to_string())
}

fn key_vault(state: &mut State, request: &Request, rest: &str, addr: &str) -> Answer {
    if request.query("api-version") != Some(KEY_VAULT_API) {
        return vault_error(
            400,
            "BadParameter",
            &format!(
                "The specified version ({}) is not recognized. Consider using the latest supported version ({KEY_VAULT_API}).",
                request.query("api-version").unwrap_or_default()
            ),
            None,
        );
    }
    let principal = match state.bearer(request, VAULT_RESOURCE) {
        Ok(p) => p,
        Err(BearerProblem::Missing) => {
            return vault_error(
                401,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
                None,
            );
        }
        Err(BearerProblem::Unknown) => {
            return vault_error(401, "Unauthorized", "AKV10032: Invalid issuer.", None);
        }
        Err(BearerProblem::Expired) => {
            return vault_error(
                401,
                "Unauthorized",
                "[TokenExpired] Error validating token: 'S2S12086'.",
                None,
            );
        }
        Err(BearerProblem::Audience(found)) => {
            return vault_error(
                401,
                "Unauthorized",
                &format!("AKV10022: Invalid audience. Expected {VAULT_RESOURCE}, found: {found}."),
                None,
            );
        }
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (name, version, operation) = match (request.method.as_str(), segments.as_slice()) {
        ("GET", [name]) | ("GET", [name, ""]) => (*name, "", None),
        ("GET", [name, version]) => (*name, *version, None),
        ("POST", [name, version, op @ ("encrypt" | "decrypt")]) => (*name, *version, Some(*op)),
        _ => return vault_error(400, "BadParameter", "The request URI is not supported.", None),
    };
    let Some(key) = state.azure_keys.get(name) else {
        return vault_error(
            404,
            "KeyNotFound",
            &format!("A key with (name/id) {name} was not found in this key vault."),
            None,
        );
    };
    let version = match version {
        "" => key.versions.last().cloned().unwrap_or_default(),
        v if key.versions.iter().any(|k| k == v) => v.to_string(),
        v => {
            return vault_error(
                404,
                "KeyNotFound",
                &format!("A key with (name/id) {name}/{v} was not found in this key vault."),
                None,
            );
        }
    };
    if !key.allowed.contains(&principal) {
        return vault_error(
            403,
            "Forbidden",
            &format!(
                "Caller is not authorized to perform action on resource. Caller: appid={principal}; Action: \
                 'Microsoft.KeyVault/vaults/keys/{}/action'",
                operation.unwrap_or("read")
            ),
            Some("ForbiddenByRbac"),
        );
    }
    let kid = format!("{addr}/keys/{name}/{version}");
    let Some(operation) = operation else {
        return (
            200,
            json!({
                "key": {"kid": kid, "kty": "RSA", "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"], "n": "AQAB", "e": "AQAB"},
                "attributes": {"enabled": key.enabled, "recoveryLevel": "Recoverable+Purgeable"},
            })
            .to_string(),
        );
    };
    if !key.enabled {
        return vault_error(
            403,
            "Forbidden",
            &format!("Operation {operation} is not allowed on a disabled key."),
            Some("KeyDisabled"),
        );
    }
    if !request.content_type_is("application/json") {
        return vault_error(400, "BadParameter", "The request body must be JSON.", None);
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
        return vault_error(400, "BadParameter", "The request body is not valid JSON.", None);
    };
    if body.get("alg").and_then(Value::as_str) != Some("RSA-OAEP-256") {
        return vault_error(
            400,
            "BadParameter",
            "Invalid or unsupported algorithm for this key.",
            None,
        );
    }
    // Key Vault's `value` is base64url without padding.
    let Some(value) = body
        .get("value")
        .and_then(Value::as_str)
        .filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
    else {
        return vault_error(400, "BadParameter", "Property value has invalid value.", None);
    };
    let key_name = format!("{name}/{version}");
    let result = match operation {
        "encrypt" => seal(&key_name, &value),
        _ => match open(&key_name, &value) {
            Some(plaintext) => plaintext,
            None => return vault_error(400, "BadParameter", "The parameter is incorrect.\r\n", None),
        },
    };
    (
        200,
        json!({"kid": kid, "value": URL_SAFE_NO_PAD.encode(result)}).to_string(),
    )
}

fn entra(state: &mut State, request: &Request, tenant: &str, addr: &str) -> Answer {
    if request.method != "POST" || !request.content_type_is("application/x-www-form-urlencoded") {
        return oauth_error(
            400,
            "invalid_request",
            "AADSTS900144: The request body must contain a grant_type.",
        );
    }
    let form = request.form();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("grant_type") != "client_credentials" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if field("scope") != format!("{VAULT_RESOURCE}/.default") {
        return oauth_error(
            400,
            "invalid_scope",
            "AADSTS70011: The provided request must include a 'scope' input parameter.",
        );
    }
    let client = field("client_id");
    let id = (tenant.to_string(), client.clone());
    let known = state.azure_secrets.contains_key(&id)
        || state.azure_federated.contains_key(&id)
        || state.azure_certificates.contains_key(&id);
    if !known {
        return oauth_error(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}'.\r\nTrace ID: 0"
            ),
        );
    }
    let accepted = if let Some(secret) = form.get("client_secret") {
        if state.azure_secrets.get(&id) == Some(secret) {
            Ok(())
        } else {
            Err(oauth_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the \
                 client secret value, not the client secret ID.\r\nTrace ID: 0",
            ))
        }
    } else if field("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        let assertion = field("client_assertion");
        if state.azure_federated.get(&id) == Some(&assertion) {
            Ok(())
        } else if let Some((x5t, key)) = state.azure_certificates.get(&id).cloned() {
            let audience = format!("{addr}/{tenant}/oauth2/v2.0/token");
            match verify_jwt(&assertion, |_| Some(key)) {
                Some((header, claims))
                    if header.get("x5t").and_then(Value::as_str) == Some(x5t.as_str())
                        && claims.get("aud").and_then(Value::as_str) == Some(audience.as_str())
                        && claims.get("iss").and_then(Value::as_str) == Some(client.as_str())
                        && claims.get("sub").and_then(Value::as_str) == Some(client.as_str())
                        && claims.get("exp").and_then(Value::as_u64).unwrap_or_default() > now() =>
                {
                    Ok(())
                }
                _ => Err(oauth_error(
                    401,
                    "invalid_client",
                    "AADSTS700027: Client assertion contains an invalid signature.\r\nTrace ID: 0",
                )),
            }
        } else {
            Err(oauth_error(
                400,
                "invalid_client",
                "AADSTS70021: No matching federated identity record found for presented assertion.\r\nTrace ID: 0",
            ))
        }
    } else {
        Err(oauth_error(
            400,
            "invalid_request",
            "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        ))
    };
    match accepted {
        Ok(()) => {
            let token = state.issue(&format!("app:{client}"), VAULT_RESOURCE);
            (
                200,
                json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})
                    .to_string(),
            )
        }
        Err(answer) => answer,
    }
}

fn managed_identity_answer(token: &str, client_id: &str) -> Answer {
    let expires = (now() + 86_399).to_string();
    (
        200,
        json!({
            "access_token": token,
            "client_id": client_id,
            "expires_in": "86399",
            "expires_on": expires,
            "resource": VAULT_RESOURCE,
            "token_type": "Bearer",
        })
        .to_string(),
    )
}

fn imds(state: &mut State, request: &Request) -> Answer {
    if request.header("metadata") != Some("true") {
        return oauth_error(400, "invalid_request", "Required metadata header not specified");
    }
    if request.method != "GET" || request.query("api-version").is_none() {
        return oauth_error(
            400,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        );
    }
    if request.query("resource") != Some(VAULT_RESOURCE) {
        return oauth_error(
            400,
            "invalid_resource",
            "AADSTS500011: The resource principal was not found.",
        );
    }
    let client = request.query("client_id").unwrap_or_default().to_string();
    match state.imds.get(&client).cloned() {
        Some(principal) => {
            let token = state.issue(&principal, VAULT_RESOURCE);
            managed_identity_answer(&token, &client)
        }
        None => oauth_error(400, "invalid_request", "Identity not found"),
    }
}

fn app_service(state: &mut State, request: &Request) -> Answer {
    if request.method != "GET"
        || request.query("api-version") != Some("2019-08-01")
        || request.query("resource") != Some(VAULT_RESOURCE)
    {
        return (
            400,
            json!({"statusCode": 400, "message": "Invalid request."}).to_string(),
        );
    }
    let principal = request
        .header("x-identity-header")
        .and_then(|h| state.app_service.get(h).cloned());
    match principal {
        Some(principal) => {
            let token = state.issue(&principal, VAULT_RESOURCE);
            managed_identity_answer(&token, request.query("client_id").unwrap_or_default())
        }
        None => (401, json!({"statusCode": 401, "message": "Unauthorized"}).to_string()),
    }
}
