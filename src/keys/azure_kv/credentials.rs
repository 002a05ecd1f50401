//! Where the access token for Key Vault comes from: the chain of the Azure SDK's
//! `DefaultAzureCredential`, which sops uses, tried in its order until one gives a token:
//!
//! 1. **environment**: `AZURE_TENANT_ID` and `AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET`
//!    (client credentials grant) or `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file with the
//!    certificate and its unencrypted RSA key; the grant's client assertion is a JWT signed
//!    with that key);
//! 2. **workload identity** (AKS, GitHub Actions federation): `AZURE_TENANT_ID`,
//!    `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE`, whose token is the client assertion;
//! 3. **managed identity**: App Service and Functions (`IDENTITY_ENDPOINT` with
//!    `IDENTITY_HEADER`), else the instance metadata service (IMDS) at `169.254.169.254`
//!    (`AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces it, as in Microsoft's libraries),
//!    probed first with a request it answers at once, given 1 second as the SDK gives it;
//!    `AZURE_CLIENT_ID` picks a user-assigned identity;
//! 4. **Azure CLI**: `az account get-access-token -o json --resource …`, given 10 seconds.
//!
//! A credential that is not set up (its variables missing, no IMDS, no `az`) passes to the
//! next; one that is set up but refused (a wrong secret) ends the chain with its error, as in
//! the SDK. `AZURE_TOKEN_CREDENTIALS` narrows the chain as the SDK reads it (`dev`, `prod` or
//! one credential's name). Token endpoints are `{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token`,
//! `https://login.microsoftonline.com` by default.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha1::Digest as _;
use zeroize::Zeroizing;

use crate::keys::Env;
use crate::keys::services::http::{Header, HttpClient, Response, pem_certificates};
use crate::keys::services::oauth::{self, BearerToken};
use crate::keys::services::{FailureClass, bounded};

const TENANT_VAR: &str = "AZURE_TENANT_ID";
const CLIENT_VAR: &str = "AZURE_CLIENT_ID";
const SECRET_VAR: &str = "AZURE_CLIENT_SECRET";
const CERTIFICATE_VAR: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
const FEDERATED_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";
const AUTHORITY_VAR: &str = "AZURE_AUTHORITY_HOST";
const SELECTION_VAR: &str = "AZURE_TOKEN_CREDENTIALS";
const IMDS_HOST_VAR: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";
const IMDS_PROBE: Duration = Duration::from_secs(1);
const CLI_LIMIT: Duration = Duration::from_secs(10);

/// The credentials of the chain, in its order, by the names the SDK gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
}

impl Credential {
    const CHAIN: [Credential; 4] = [
        Credential::Environment,
        Credential::WorkloadIdentity,
        Credential::ManagedIdentity,
        Credential::AzureCli,
    ];

    fn name(self) -> &'static str {
        match self {
            Credential::Environment => "EnvironmentCredential",
            Credential::WorkloadIdentity => "WorkloadIdentityCredential",
            Credential::ManagedIdentity => "ManagedIdentityCredential",
            Credential::AzureCli => "AzureCLICredential",
        }
    }
}

/// The variables the chain reads; no file is read and nothing run until a token is needed.
pub(super) struct CredentialSettings {
    selection: Result<Vec<Credential>, String>,
    tenant: Option<String>,
    client_id: Option<String>,
    secret: Option<SecretString>,
    certificate: Option<String>,
    certificate_password: bool,
    username: bool,
    federated_token_file: Option<String>,
    authority: Option<String>,
    identity_endpoint: Option<String>,
    identity_header: Option<SecretString>,
    other_managed_identity: Option<&'static str>,
    imds: Option<String>,
}

/// Why no token could be had: the class, the identity tried (never a secret), what happened.
#[derive(Debug, Clone)]
pub(super) struct TokenFailure {
    pub class: FailureClass,
    pub identity: String,
    pub detail: String,
}

/// How one credential of the chain did: not set up here (the chain goes on), or failed.
enum Attempt {
    Unavailable(String),
    Failed(TokenFailure),
}

impl CredentialSettings {
    pub fn from_env(env: &dyn Env) -> CredentialSettings {
        let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
        let other_managed_identity =
            if var("IDENTITY_ENDPOINT").is_some() && var("IDENTITY_SERVER_THUMBPRINT").is_some() {
                Some("Service Fabric")
            } else if var("IDENTITY_ENDPOINT").is_some() && var("IMDS_ENDPOINT").is_some() {
                Some("Azure Arc")
            } else if var("MSI_ENDPOINT").is_some() && var("IDENTITY_ENDPOINT").is_none() {
                Some("Cloud Shell")
            } else {
                None
            };
        CredentialSettings {
            selection: selection(env.var(SELECTION_VAR).as_deref()),
            tenant: var(TENANT_VAR),
            client_id: var(CLIENT_VAR),
            secret: var(SECRET_VAR).map(SecretString::from),
            certificate: var(CERTIFICATE_VAR),
            certificate_password: var("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some(),
            username: var("AZURE_USERNAME").is_some(),
            federated_token_file: var(FEDERATED_VAR),
            authority: var(AUTHORITY_VAR),
            identity_endpoint: var("IDENTITY_ENDPOINT"),
            identity_header: var("IDENTITY_HEADER").map(SecretString::from),
            other_managed_identity,
            imds: var(IMDS_HOST_VAR),
        }
    }

    /// The chain's first token for `resource` (`https://vault.azure.net`), by `deadline`.
    /// `client` asks token endpoints (with the environment's proxies), `local` the managed
    /// identity endpoints (directly).
    pub fn token(
        &self,
        resource: &str,
        client: &HttpClient,
        local: &HttpClient,
        deadline: Instant,
    ) -> Result<BearerToken, TokenFailure> {
        let chain = self.selection.as_ref().map_err(|detail| TokenFailure {
            class: FailureClass::Settings,
            identity: "DefaultAzureCredential".into(),
            detail: detail.clone(),
        })?;
        let mut unavailable = Vec::new();
        for &credential in chain {
            let attempt = match credential {
                Credential::Environment => self.environment(resource, client, deadline),
                Credential::WorkloadIdentity => self.workload_identity(resource, client, deadline),
                Credential::ManagedIdentity => self.managed_identity(resource, local, deadline),
                Credential::AzureCli => azure_cli(resource, deadline),
            };
            match attempt {
                Ok(token) => return Ok(token),
                Err(Attempt::Unavailable(reason)) => unavailable.push(format!("{}: {reason}", credential.name())),
                Err(Attempt::Failed(failure)) => return Err(failure),
            }
        }
        Err(TokenFailure {
            class: FailureClass::NoCredentials,
            identity: "DefaultAzureCredential".into(),
            detail: format!("no Azure credential is set up here: {}", unavailable.join("; ")),
        })
    }

    /// What the report says before a token was had.
    pub fn describe(&self) -> String {
        match &self.selection {
            Ok(chain) if chain.len() == 1 => chain[0].name().to_string(),
            _ => "DefaultAzureCredential".into(),
        }
    }

    fn authority(&self) -> Result<String, String> {
        let host = self.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY);
        let host = if host.contains("://") {
            host.to_string()
        } else {
            format!("https://{host}")
        };
        let host = host.trim_end_matches('/').to_string();
        oauth::check_url(&host, AUTHORITY_VAR)?;
        Ok(host)
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`, the tenant checked as the SDK checks it.
    fn token_endpoint(&self, tenant: &str) -> Result<String, String> {
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(format!(
                "{TENANT_VAR}={:?} is not a tenant ID (letters, digits, '-' and '.')",
                bounded(tenant, 100)
            ));
        }
        Ok(format!("{}/{tenant}/oauth2/v2.0/token", self.authority()?))
    }

    fn environment(&self, resource: &str, client: &HttpClient, deadline: Instant) -> Result<BearerToken, Attempt> {
        let (Some(tenant), Some(client_id)) = (&self.tenant, &self.client_id) else {
            return Err(Attempt::Unavailable(format!(
                "{TENANT_VAR} and {CLIENT_VAR} are not both set"
            )));
        };
        let scope = format!("{resource}/.default");
        if let Some(secret) = &self.secret {
            let identity = format!("app {client_id} in tenant {tenant} with {SECRET_VAR} (EnvironmentCredential)");
            let url = self.token_endpoint(tenant).map_err(|d| settings(&identity, d))?;
            let body = oauth::form(&[
                ("client_id", client_id),
                ("client_secret", secret.expose_secret()),
                ("grant_type", "client_credentials"),
                ("scope", &scope),
            ]);
            return exchange(client, &url, &body, deadline, identity).map_err(Attempt::Failed);
        }
        if let Some(path) = &self.certificate {
            let identity = format!(
                "app {client_id} in tenant {tenant} with the certificate {CERTIFICATE_VAR}={path} (EnvironmentCredential)"
            );
            if self.certificate_password {
                return Err(settings(
                    &identity,
                    "password-protected certificates (AZURE_CLIENT_CERTIFICATE_PASSWORD) are not supported by ksec; \
                     give it the PEM certificate with an unencrypted key"
                        .into(),
                ));
            }
            let url = self.token_endpoint(tenant).map_err(|d| settings(&identity, d))?;
            let assertion = certificate_assertion(path, client_id, &url).map_err(|d| settings(&identity, d))?;
            let body = oauth::form(&[
                ("client_id", client_id),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
                ("grant_type", "client_credentials"),
                ("scope", &scope),
            ]);
            return exchange(client, &url, &body, deadline, identity).map_err(Attempt::Failed);
        }
        if self.username {
            return Err(settings(
                &format!("user in tenant {tenant} (EnvironmentCredential)"),
                "AZURE_USERNAME and AZURE_PASSWORD (a user's password) are not supported by ksec; use a service \
                 principal, a managed identity or `az login`"
                    .into(),
            ));
        }
        Err(Attempt::Unavailable(format!(
            "neither {SECRET_VAR} nor {CERTIFICATE_VAR} is set"
        )))
    }

    fn workload_identity(
        &self,
        resource: &str,
        client: &HttpClient,
        deadline: Instant,
    ) -> Result<BearerToken, Attempt> {
        let (Some(tenant), Some(client_id), Some(file)) = (&self.tenant, &self.client_id, &self.federated_token_file)
        else {
            return Err(Attempt::Unavailable(format!(
                "{TENANT_VAR}, {CLIENT_VAR} and {FEDERATED_VAR} are not all set"
            )));
        };
        let identity = format!(
            "app {client_id} in tenant {tenant} with the federated token {FEDERATED_VAR}={file} (WorkloadIdentityCredential)"
        );
        let url = self.token_endpoint(tenant).map_err(|d| settings(&identity, d))?;
        // Read on every use: the file is a short-lived token that its issuer renews.
        let assertion = std::fs::read(file)
            .map(|bytes| Zeroizing::new(String::from_utf8_lossy(&bytes).trim().to_string()))
            .map_err(|e| settings(&identity, format!("cannot read {file}: {e}")))?;
        let scope = format!("{resource}/.default");
        let body = oauth::form(&[
            ("client_id", client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("grant_type", "client_credentials"),
            ("scope", &scope),
        ]);
        exchange(client, &url, &body, deadline, identity).map_err(Attempt::Failed)
    }

    fn managed_identity(&self, resource: &str, local: &HttpClient, deadline: Instant) -> Result<BearerToken, Attempt> {
        if let Some(kind) = self.other_managed_identity {
            return Err(Attempt::Unavailable(format!(
                "{kind} managed identity is not supported by ksec"
            )));
        }
        let client_query = match &self.client_id {
            Some(id) => format!("&client_id={}", oauth::query_value(id)),
            None => String::new(),
        };
        let which = match &self.client_id {
            Some(id) => format!("user-assigned managed identity {id}"),
            None => "system-assigned managed identity".into(),
        };
        let resource_query = oauth::query_value(resource);
        if let (Some(endpoint), Some(header)) = (&self.identity_endpoint, &self.identity_header) {
            let identity =
                format!("{which} of App Service at IDENTITY_ENDPOINT={endpoint} (ManagedIdentityCredential)");
            oauth::check_url(endpoint, "IDENTITY_ENDPOINT").map_err(|d| settings(&identity, d))?;
            let url = format!("{endpoint}?api-version=2019-08-01&resource={resource_query}{client_query}");
            let headers = [Header {
                name: "X-IDENTITY-HEADER",
                value: header.expose_secret(),
                sensitive: true,
            }];
            let response = oauth::with_one_retry(deadline, || local.get(&url, &headers, deadline))
                .map_err(|e| failed(&identity, e.class, format!("IDENTITY_ENDPOINT: {}", e.detail)))?;
            return token_from(&response, "IDENTITY_ENDPOINT", identity).map_err(Attempt::Failed);
        }
        let base = self.imds.as_deref().unwrap_or(DEFAULT_IMDS).trim_end_matches('/');
        let base = if base.contains("://") {
            base.to_string()
        } else {
            format!("http://{base}")
        };
        let identity = format!("{which} from IMDS at {base} (ManagedIdentityCredential)");
        let url = format!(
            "{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource_query}{client_query}"
        );
        let headers = [Header {
            name: "Metadata",
            value: "true",
            sensitive: false,
        }];
        // First a probe without the Metadata header, which IMDS refuses at once (off Azure
        // nothing answers, and the chain goes on); then the token request, which may take IMDS
        // a while, within the operation's limit.
        match local.get(&url, &[], deadline.min(Instant::now() + IMDS_PROBE)) {
            Ok(_) => {}
            Err(e) if matches!(e.class, FailureClass::Unreachable | FailureClass::Timeout) => {
                return Err(Attempt::Unavailable(format!(
                    "no IMDS answered at {base} within {} s",
                    IMDS_PROBE.as_secs()
                )));
            }
            Err(e) => return Err(failed(&identity, e.class, format!("IMDS: {}", e.detail))),
        }
        let response = local
            .get(&url, &headers, deadline)
            .map_err(|e| failed(&identity, e.class, format!("IMDS: {}", e.detail)))?;
        if response.status == 400 {
            // IMDS answers 400 when no identity (or not this one) is assigned to the machine.
            return Err(Attempt::Unavailable(format!(
                "IMDS at {base} {}",
                oauth::refusal(400, &response.body)
            )));
        }
        token_from(&response, "IMDS", identity).map_err(Attempt::Failed)
    }
}

/// `AZURE_TOKEN_CREDENTIALS` as the SDK reads it.
fn selection(value: Option<&str>) -> Result<Vec<Credential>, String> {
    use Credential::*;
    let Some(value) = value else {
        return Ok(Credential::CHAIN.to_vec());
    };
    let chosen = match value {
        "dev" => vec![AzureCli],
        "prod" => vec![Environment, WorkloadIdentity, ManagedIdentity],
        other => match Credential::CHAIN
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(other))
        {
            Some(credential) => vec![credential],
            None if other.eq_ignore_ascii_case("AzureDeveloperCLICredential") => {
                return Err(format!(
                    "{SELECTION_VAR}={other}: the Azure Developer CLI is not supported by ksec"
                ));
            }
            None => {
                return Err(format!(
                    "{SELECTION_VAR}={:?} is not \"dev\", \"prod\" or the name of a credential of the chain",
                    bounded(other, 100)
                ));
            }
        },
    };
    Ok(chosen)
}

fn settings(identity: &str, detail: String) -> Attempt {
    failed(identity, FailureClass::Settings, detail)
}

fn failed(identity: &str, class: FailureClass, detail: String) -> Attempt {
    Attempt::Failed(TokenFailure {
        class,
        identity: identity.to_string(),
        detail,
    })
}

/// The client assertion of a certificate credential: a JWT whose header names the
/// certificate by its SHA-1 thumbprint (`x5t`), signed with the certificate's key.
fn certificate_assertion(path: &str, client_id: &str, audience: &str) -> Result<Zeroizing<String>, String> {
    let pem = Zeroizing::new(std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?);
    let text = std::str::from_utf8(&pem).map_err(|_| {
        format!("{path} is not a PEM file (PKCS#12 certificates are not supported by ksec; convert it to PEM)")
    })?;
    let certificate = pem_certificates(text.as_bytes())
        .map_err(|e| format!("{path}: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{path}: no PEM certificate in it"))?;
    let key = pem_block(text, &["PRIVATE KEY", "RSA PRIVATE KEY"])
        .ok_or_else(|| format!("{path}: no unencrypted PEM private key in it"))?;
    let thumbprint = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(certificate.der()));
    let now = oauth::unix_now();
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| format!("no random number for the assertion: {e}"))?;
    let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": thumbprint});
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    oauth::jwt_rs256(&header, &claims, &key).map_err(|e| format!("{path}: {e}"))
}

/// The first PEM block with one of these labels, as text.
fn pem_block(text: &str, labels: &[&str]) -> Option<Zeroizing<String>> {
    labels.iter().find_map(|label| {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let start = text.find(&begin)?;
        let stop = text[start..].find(&end)? + start + end.len();
        Some(Zeroizing::new(format!("{}\n", &text[start..stop])))
    })
}

/// Posts a token request form to `url` and reads the token from the answer.
fn exchange(
    client: &HttpClient,
    url: &str,
    body: &[u8],
    deadline: Instant,
    identity: String,
) -> Result<BearerToken, TokenFailure> {
    let response =
        oauth::with_one_retry(deadline, || client.post_form(url, &[], body, deadline)).map_err(|e| TokenFailure {
            class: e.class,
            identity: identity.clone(),
            detail: format!("the token endpoint {url}: {}", e.detail),
        })?;
    token_from(&response, url, identity)
}

fn token_from(response: &Response, from: &str, identity: String) -> Result<BearerToken, TokenFailure> {
    if !(200..300).contains(&response.status) {
        return Err(TokenFailure {
            class: oauth::refusal_class(response.status),
            identity,
            detail: format!(
                "getting an access token, {} {}",
                bounded(from, 200),
                oauth::refusal(response.status, &response.body)
            ),
        });
    }
    oauth::access_token(&response.body)
        .map(|token| BearerToken::new(token, identity.clone()))
        .ok_or_else(|| TokenFailure {
            class: FailureClass::BadResponse,
            identity,
            detail: format!("the answer of {} holds no access token", bounded(from, 200)),
        })
}

/// The Azure CLI's token for `resource`: `az account get-access-token`, given 10 seconds
/// (or what is left of the deadline). Any failure of the CLI (not installed, not logged in)
/// only makes this credential unavailable, as in the SDK.
fn azure_cli(resource: &str, deadline: Instant) -> Result<BearerToken, Attempt> {
    let limit = CLI_LIMIT.min(deadline.saturating_duration_since(Instant::now()));
    let mut command = Command::new("az");
    command
        .args(["account", "get-access-token", "-o", "json", "--resource", resource])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // In a process group of its own, so that a CLI that hangs is stopped with what it started
    // (az is a shell script running Python).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Attempt::Unavailable("Azure CLI (az) not found on PATH".into()));
        }
        Err(e) => return Err(Attempt::Unavailable(format!("cannot run az: {e}"))),
    };
    // Read both pipes on threads so a chatty CLI cannot block on a full pipe while we wait.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::new());
        if let Some(pipe) = stdout.as_mut() {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                #[cfg(unix)]
                let _ = rustix::process::kill_process_group(
                    rustix::process::Pid::from_child(&child),
                    rustix::process::Signal::KILL,
                );
                let _ = child.kill();
                let _ = child.wait();
                return Err(Attempt::Unavailable(format!(
                    "az account get-access-token did not finish within {} s",
                    limit.as_secs_f64()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Attempt::Unavailable(format!("waiting for az: {e}"))),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let said = String::from_utf8_lossy(&stderr);
        let said = said
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("no message");
        return Err(Attempt::Unavailable(format!(
            "az account get-access-token failed: {}",
            bounded(said, 200)
        )));
    }
    let identity = match serde_json::from_slice::<serde_json::Value>(&stdout)
        .ok()
        .and_then(|v| v.get("tenant").and_then(|t| t.as_str()).map(str::to_string))
    {
        Some(tenant) => format!("the Azure CLI's login, tenant {tenant} (AzureCLICredential)"),
        None => "the Azure CLI's login (AzureCLICredential)".into(),
    };
    oauth::access_token(&stdout)
        .map(|token| BearerToken::new(token, identity))
        .ok_or_else(|| Attempt::Unavailable("az printed no access token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn azure_token_credentials_narrows_the_chain_as_the_sdk_reads_it() {
        use Credential::*;
        assert_eq!(selection(None).unwrap(), Credential::CHAIN);
        assert_eq!(selection(Some("dev")).unwrap(), [AzureCli]);
        assert_eq!(
            selection(Some("prod")).unwrap(),
            [Environment, WorkloadIdentity, ManagedIdentity]
        );
        assert_eq!(
            selection(Some("workloadidentitycredential")).unwrap(),
            [WorkloadIdentity]
        );
        assert!(
            selection(Some("AzureDeveloperCLICredential"))
                .unwrap_err()
                .contains("not supported")
        );
        assert!(selection(Some("everything")).unwrap_err().contains("is not \"dev\""));
    }

    #[test]
    fn tenants_and_authority_hosts_are_checked_before_anything_is_sent() {
        let settings = CredentialSettings::from_env(&MapEnv::new());
        assert_eq!(
            settings.token_endpoint("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        assert!(
            settings
                .token_endpoint("a/../b")
                .unwrap_err()
                .contains("is not a tenant ID")
        );
        let env = MapEnv::new().with_var(AUTHORITY_VAR, "login.microsoftonline.us/");
        let settings = CredentialSettings::from_env(&env);
        assert_eq!(
            settings.token_endpoint("t").unwrap(),
            "https://login.microsoftonline.us/t/oauth2/v2.0/token"
        );
        let env = MapEnv::new().with_var(AUTHORITY_VAR, "http://login.example.com");
        let settings = CredentialSettings::from_env(&env);
        assert!(
            settings
                .token_endpoint("t")
                .unwrap_err()
                .contains("must be an https URL")
        );
    }

    #[test]
    fn pem_blocks_are_found_by_label() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
                    -----BEGIN RSA PRIVATE KEY-----\nBBBB\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            pem_block(text, &["PRIVATE KEY", "RSA PRIVATE KEY"]).unwrap().as_str(),
            "-----BEGIN RSA PRIVATE KEY-----\nBBBB\n-----END RSA PRIVATE KEY-----\n"
        );
        assert!(pem_block(text, &["EC PRIVATE KEY"]).is_none());
    }
}
