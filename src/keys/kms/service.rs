//! Asking AWS KMS: the runtime the SDK runs on, the credentials, the calls, and what each
//! failure means.
//!
//! The SDK is async; ksec is not. A tokio current-thread runtime is built the first time a
//! KMS key is used and kept in the [`KmsService`] (so in the command's
//! [`KeyServices`](crate::keys::KeyServices)); files without KMS keys never build one, and
//! start as fast as before. A program that embeds ksec calls it from a thread that may block
//! (`spawn_blocking` under tokio), as for any other blocking call: a runtime cannot be
//! driven from inside another's worker thread.
//!
//! Credentials are found as sops finds them (`createKMSConfig`): the SDK's standard chain
//! (environment variables, the shared config and credentials files with their profiles, SSO,
//! `credential_process`, a profile's `role_arn`, web identity, the container and instance
//! metadata endpoints), with the key's `aws_profile` as the profile when it names one, and the
//! ARN's region. A key with a `role` is then used as that role: STS `AssumeRole` with those
//! credentials and the session name `sops@<hostname>`, as sops names it. The SDK reads the
//! `AWS_*` variables itself (`AWS_ENDPOINT_URL_KMS`, `AWS_MAX_ATTEMPTS`…).
//!
//! Credentials are resolved once per region, profile and role, before the first call, so a
//! report can say whose they were (the access key id and where it came from, never the
//! secret); the keys that share them reuse the answer, and a failure is not waited for twice.
//! The whole of one key's operation (credentials, role, call, the SDK's retries) must end
//! within the key service time limit.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_kms::primitives::Blob;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::runtime::Runtime;
use zeroize::Zeroizing;

use super::KmsKey;
use super::failure::{NO_ANSWER, of_credentials_error, of_sdk_error};
use super::http::AwsHttpClient;
use crate::keys::services::http::ProxySettings;
use crate::keys::services::{FailureClass, ServiceError, Timeouts};
use crate::keys::{Env, KeyKind};

/// The variable naming a PEM file of the authorities to trust, as the AWS CLI and SDKs read it.
const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// The longest STS role session name.
const SESSION_NAME_LIMIT: usize = 64;

/// AWS KMS as the environment describes it, and what was built once it was first asked.
pub struct KmsService {
    timeouts: Result<Timeouts, String>,
    proxies: ProxySettings,
    /// `AWS_PROFILE`, named in reports when a key names no profile of its own.
    env_profile: Option<String>,
    /// `AWS_CA_BUNDLE`: a PEM file of the authorities to trust instead of the system's.
    ca_bundle: Option<String>,
    /// The endpoint the environment puts in place of AWS's (`AWS_ENDPOINT_URL_KMS`, else
    /// `AWS_ENDPOINT_URL`) and the variable, named in reports.
    endpoint_override: Option<(&'static str, String)>,
    runtime: OnceLock<Result<Runtime, String>>,
    http: OnceLock<Result<SharedHttpClient, String>>,
    sessions: Mutex<Vec<(SessionKey, Opened)>>,
    asked: AtomicBool,
}

/// A session made for a region, profile and role, or why none could be.
type Opened = Result<Arc<Session>, ServiceError>;

/// What decides the credentials a key is used with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionKey {
    region: String,
    profile: String,
    role: String,
}

/// A KMS client with resolved credentials, and whose they are.
struct Session {
    client: aws_sdk_kms::Client,
    identity: String,
}

/// One key's operation: where it goes, as whom (so far), and until when.
struct Call {
    endpoint: String,
    identity: String,
    deadline: Instant,
    timeouts: Timeouts,
}

impl Call {
    fn failure(&self, class: FailureClass, detail: String) -> ServiceError {
        ServiceError {
            kind: KeyKind::Kms,
            class,
            endpoint: self.endpoint.clone(),
            identity: self.identity.clone(),
            detail,
        }
    }

    fn timed_out(&self, what: &str) -> ServiceError {
        self.failed(what, (FailureClass::Timeout, NO_ANSWER.into()))
    }

    /// How `what` failed, classified; a timeout (ksec's deadline or the SDK's own limits,
    /// whichever came first) says which step and which limit.
    fn failed(&self, what: &str, (class, detail): (FailureClass, String)) -> ServiceError {
        if class != FailureClass::Timeout {
            return self.failure(class, detail);
        }
        let detail = if detail == NO_ANSWER {
            format!("{NO_ANSWER} ({what})")
        } else {
            format!("{detail} ({what})")
        };
        self.failure(class, format!("{detail}; the {}", self.timeouts.describe()))
    }

    /// Runs `future` until the operation's deadline.
    async fn within<T>(&self, what: &str, future: impl Future<Output = T>) -> Result<T, ServiceError> {
        tokio::time::timeout_at(self.deadline.into(), future)
            .await
            .map_err(|_| self.timed_out(what))
    }
}

impl KmsService {
    /// Reads what the reports name (the variables the SDK itself reads later); nothing is
    /// built or connected here.
    pub fn from_env(env: &dyn Env, timeouts: Result<Timeouts, String>) -> KmsService {
        let var = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        let ignore_endpoints =
            var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint_override = if ignore_endpoints {
            None
        } else {
            var("AWS_ENDPOINT_URL_KMS")
                .map(|url| ("AWS_ENDPOINT_URL_KMS", url))
                .or_else(|| var("AWS_ENDPOINT_URL").map(|url| ("AWS_ENDPOINT_URL", url)))
        };
        KmsService {
            timeouts,
            proxies: ProxySettings::from_env(env),
            env_profile: var("AWS_PROFILE"),
            ca_bundle: var(CA_BUNDLE_VAR),
            endpoint_override,
            runtime: OnceLock::new(),
            http: OnceLock::new(),
            sessions: Mutex::new(Vec::new()),
            asked: AtomicBool::new(false),
        }
    }

    /// Wraps `secret` with `key`: KMS `Encrypt`'s `CiphertextBlob`, in base64 as sops keeps it.
    pub fn encrypt(&self, key: &KmsKey, secret: &[u8]) -> Result<String, ServiceError> {
        let (call, runtime) = self.begin(key)?;
        runtime.block_on(async {
            let session = self.session(key, &call).await?;
            let call = Call {
                identity: session.identity.clone(),
                ..call
            };
            let request = session
                .client
                .encrypt()
                .key_id(key.arn())
                .plaintext(Blob::new(secret.to_vec()))
                .set_encryption_context(context_of(key));
            let output = call
                .within("KMS Encrypt", request.send())
                .await?
                .map_err(|e| call.failed("KMS Encrypt", of_sdk_error(&e)))?;
            match output.ciphertext_blob {
                Some(blob) if !blob.as_ref().is_empty() => Ok(STANDARD.encode(blob.as_ref())),
                _ => Err(call.failure(
                    FailureClass::BadResponse,
                    "KMS answered Encrypt with no CiphertextBlob".into(),
                )),
            }
        })
    }

    /// Unwraps `enc` (a base64 `CiphertextBlob`) with `key` and its encryption context.
    pub fn decrypt(&self, key: &KmsKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let (call, runtime) = self.begin(key)?;
        let blob = STANDARD.decode(enc.trim()).map_err(|_| {
            call.failure(
                FailureClass::WrongCiphertext,
                "the entry's enc is not base64; the file was damaged or edited".into(),
            )
        })?;
        runtime.block_on(async {
            let session = self.session(key, &call).await?;
            let call = Call {
                identity: session.identity.clone(),
                ..call
            };
            let request = session
                .client
                .decrypt()
                .key_id(key.arn())
                .ciphertext_blob(Blob::new(blob))
                .set_encryption_context(context_of(key));
            let mut output = call
                .within("KMS Decrypt", request.send())
                .await?
                .map_err(|e| call.failed("KMS Decrypt", of_sdk_error(&e)))?;
            output
                .plaintext
                .take()
                .map(|blob| Zeroizing::new(blob.into_inner()))
                .ok_or_else(|| {
                    call.failure(
                        FailureClass::BadResponse,
                        "KMS answered Decrypt with no Plaintext".into(),
                    )
                })
        })
    }

    /// One line per region, profile and role KMS was asked with: whose credentials, and the
    /// time limit. `None` when KMS was never asked.
    pub fn report(&self) -> Option<String> {
        if !self.asked.load(Ordering::Relaxed) {
            return None;
        }
        let limit = match &self.timeouts {
            Ok(t) => t.describe(),
            Err(problem) => problem.clone(),
        };
        let sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let lines: Vec<String> = sessions
            .iter()
            .map(|(id, session)| {
                let who = match session {
                    Ok(session) => session.identity.clone(),
                    Err(e) => e.identity.clone(),
                };
                format!("AWS KMS in {}: {who}; {limit}", id.region)
            })
            .collect();
        if lines.is_empty() {
            return Some(format!("AWS KMS: {limit}"));
        }
        Some(lines.join("\n"))
    }

    /// Checks what every operation needs (the ARN's region, the settings, the runtime) and
    /// starts the clock.
    fn begin(&self, key: &KmsKey) -> Result<(Call, &Runtime), ServiceError> {
        self.asked.store(true, Ordering::Relaxed);
        let mut call = Call {
            endpoint: "AWS KMS".into(),
            identity: self.who(key),
            deadline: Instant::now(),
            timeouts: Timeouts::default(),
        };
        let Some(region) = key.region() else {
            return Err(call.failure(
                FailureClass::Settings,
                format!(
                    "no valid ARN found in '{}': a KMS key is named arn:aws:kms:REGION:ACCOUNT:key/ID (or alias/NAME)",
                    key.arn()
                ),
            ));
        };
        call.endpoint = self.endpoint(region);
        call.timeouts = self
            .timeouts
            .clone()
            .map_err(|problem| call.failure(FailureClass::Settings, problem))?;
        let runtime = self
            .runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the runtime the AWS SDK needs: {e}"))
            })
            .as_ref()
            .map_err(|problem| call.failure(FailureClass::Settings, problem.clone()))?;
        call.deadline = Instant::now() + call.timeouts.request;
        Ok((call, runtime))
    }

    /// The session for `key`'s region, profile and role: made on first use, then shared.
    async fn session(&self, key: &KmsKey, call: &Call) -> Result<Arc<Session>, ServiceError> {
        let id = SessionKey {
            region: key.region().unwrap_or_default().to_string(),
            profile: key.aws_profile().to_string(),
            role: key.role().to_string(),
        };
        if let Some((_, found)) = self.lock_sessions().iter().find(|(k, _)| *k == id) {
            return found.clone();
        }
        let session = self.open_session(&id, call).await.map(Arc::new);
        self.lock_sessions().push((id, session.clone()));
        session
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, Vec<(SessionKey, Opened)>> {
        // A panic elsewhere while the list was held leaves it as it was: still usable.
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads the SDK's configuration for the key, resolves its credentials (and role), and
    /// makes a KMS client with them.
    async fn open_session(&self, id: &SessionKey, call: &Call) -> Result<Session, ServiceError> {
        let http = self
            .http
            .get_or_init(|| self.http_client().map(SharedHttpClient::new))
            .clone()
            .map_err(|problem| call.failure(FailureClass::Settings, problem))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(id.region.clone()))
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(call.timeouts.connect)
                    .operation_timeout(call.timeouts.request)
                    .build(),
            );
        if !id.profile.is_empty() {
            loader = loader.profile_name(&id.profile);
        }
        let config = loader.load().await;
        let provider = config.credentials_provider().ok_or_else(|| {
            call.failure(
                FailureClass::NoCredentials,
                "the AWS SDK found no way to look for credentials".into(),
            )
        })?;
        let credentials = call
            .within("looking for credentials", provider.provide_credentials())
            .await?
            .map_err(|e| call.failed("looking for credentials", of_credentials_error(&e)))?;
        let mut identity = format!(
            "{}: access key {} {}",
            call.identity,
            credentials.access_key_id(),
            source_of(&credentials)
        );
        let credentials = if id.role.is_empty() {
            credentials
        } else {
            let call = Call {
                endpoint: format!("AWS STS in {}", id.region),
                identity: identity.clone(),
                ..*call
            };
            let (assumed, session_name) = assume_role(&config, credentials, &id.role, &call).await?;
            identity = format!(
                "role {} as {session_name}, assumed by {identity}: access key {}",
                id.role,
                assumed.access_key_id()
            );
            assumed
        };
        let client = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&config)
                .credentials_provider(credentials)
                .build(),
        );
        Ok(Session { client, identity })
    }

    /// The SDK's HTTP client, with the environment's proxies and `AWS_CA_BUNDLE`'s
    /// authorities.
    fn http_client(&self) -> Result<AwsHttpClient, String> {
        let bundle = match &self.ca_bundle {
            Some(path) => {
                Some(std::fs::read(path).map_err(|e| format!("{CA_BUNDLE_VAR}={path}: cannot read it: {e}"))?)
            }
            None => None,
        };
        AwsHttpClient::new(&self.proxies, bundle.as_deref()).map_err(|problem| match &self.ca_bundle {
            Some(path) if !problem.starts_with("the proxy") => format!("{CA_BUNDLE_VAR}={path}: {problem}"),
            _ => problem,
        })
    }

    /// Whose credentials a key asks with, before they are found: the key's profile, else
    /// `AWS_PROFILE`'s, else the default chain's.
    fn who(&self, key: &KmsKey) -> String {
        if !key.aws_profile().is_empty() {
            format!("profile {}", key.aws_profile())
        } else if let Some(profile) = &self.env_profile {
            format!("profile {profile} (AWS_PROFILE)")
        } else {
            "the default credential chain".into()
        }
    }

    /// `AWS KMS in eu-west-1`, with the endpoint the environment names instead of AWS's.
    fn endpoint(&self, region: &str) -> String {
        match &self.endpoint_override {
            Some((var, url)) => format!("AWS KMS in {region} at {url} ({var})"),
            None => format!("AWS KMS in {region}"),
        }
    }
}

/// The key's encryption context for a request; none when empty.
fn context_of(key: &KmsKey) -> Option<std::collections::HashMap<String, String>> {
    let map = key.context_map();
    (!map.is_empty()).then_some(map)
}

/// Assumes `role` with `credentials`, as sops does for a key's role.
async fn assume_role(
    config: &SdkConfig,
    credentials: Credentials,
    role: &str,
    call: &Call,
) -> Result<(Credentials, String), ServiceError> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .credentials_provider(credentials)
            .build(),
    );
    let session_name = session_name(&hostname());
    let output = call
        .within(
            "STS AssumeRole",
            sts.assume_role().role_arn(role).role_session_name(&session_name).send(),
        )
        .await?
        .map_err(|e| {
            let (class, detail) = of_sdk_error(&e);
            call.failed(
                "STS AssumeRole",
                (class, format!("cannot assume role {role}: {detail}")),
            )
        })?;
    let assumed = output.credentials.ok_or_else(|| {
        call.failure(
            FailureClass::BadResponse,
            format!("STS answered AssumeRole for {role} without credentials"),
        )
    })?;
    let expiry = std::time::SystemTime::try_from(assumed.expiration).ok();
    let credentials = Credentials::new(
        assumed.access_key_id,
        assumed.secret_access_key,
        Some(assumed.session_token),
        expiry,
        "ksec-assume-role",
    );
    Ok((credentials, session_name))
}

/// The machine's host name, as Go's `os.Hostname` reads it on Linux.
fn hostname() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

/// sops's STS session name: `sops@` and the host name without the characters sops's pattern
/// drops, at most 64 bytes. That pattern reads `[^a-zA-Z0-9=,.@-_]`, where `@-_` is a range
/// (`@`, the capitals, `[\]^_`): a hyphen is dropped, as sops drops it.
fn session_name(hostname: &str) -> String {
    let kept: String = hostname
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ',' | '.' | '@'..='_'))
        .collect();
    let mut name = format!("sops@{kept}");
    name.truncate(SESSION_NAME_LIMIT);
    name
}

/// Where the SDK says credentials came from: `(from the environment)`, `(from profile …)`.
fn source_of(credentials: &Credentials) -> String {
    let features = credentials
        .get_property::<Vec<AwsCredentialFeature>>()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut sources: Vec<&str> = Vec::new();
    for feature in features {
        let source = match feature {
            AwsCredentialFeature::CredentialsEnvVars => "environment variables",
            AwsCredentialFeature::CredentialsEnvVarsStsWebIdToken
            | AwsCredentialFeature::CredentialsStsAssumeRoleWebId
            | AwsCredentialFeature::CredentialsProfileStsWebIdToken => "web identity token",
            AwsCredentialFeature::CredentialsStsAssumeRole => "a role the profile assumes",
            AwsCredentialFeature::CredentialsProfile
            | AwsCredentialFeature::CredentialsProfileSourceProfile
            | AwsCredentialFeature::CredentialsProfileNamedProvider => "the shared config or credentials file",
            AwsCredentialFeature::CredentialsProfileSso | AwsCredentialFeature::CredentialsSso => "SSO",
            AwsCredentialFeature::CredentialsProfileProcess | AwsCredentialFeature::CredentialsProcess => {
                "credential_process"
            }
            AwsCredentialFeature::CredentialsHttp => "the container credentials endpoint",
            AwsCredentialFeature::CredentialsImds => "the instance metadata service",
            _ => continue,
        };
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    if sources.is_empty() {
        "(source not told)".into()
    } else {
        format!("(from {})", sources.join(", "))
    }
}

impl fmt::Debug for KmsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsService")
            .field("env_profile", &self.env_profile)
            .field("ca_bundle", &self.ca_bundle)
            .field("endpoint_override", &self.endpoint_override)
            .field("runtime_started", &self.runtime.get().is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn the_session_name_is_sops_at_the_host_name_as_sops_cleans_it() {
        assert_eq!(session_name("build-01.example.com"), "sops@build01.example.com");
        assert_eq!(session_name("Host_[A]^"), "sops@Host_[A]^");
        assert_eq!(session_name("héte ñ"), "sops@hte");
        let long = "a".repeat(100);
        assert_eq!(session_name(&long).len(), 64);
        assert!(session_name(&long).starts_with("sops@aaa"));
    }

    #[test]
    fn the_report_names_the_endpoint_the_environment_sets_and_the_profile() {
        let env = MapEnv::new()
            .with_var("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
            .with_var("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:2")
            .with_var("AWS_PROFILE", "dev");
        let kms = KmsService::from_env(&env, Ok(Timeouts::default()));
        assert_eq!(
            kms.endpoint("eu-west-1"),
            "AWS KMS in eu-west-1 at http://127.0.0.1:2 (AWS_ENDPOINT_URL_KMS)"
        );
        let key = KmsKey::from_arn("arn:aws:kms:eu-west-1:1:key/k", &[], "");
        assert_eq!(kms.who(&key), "profile dev (AWS_PROFILE)");
        let key = KmsKey::from_arn("arn:aws:kms:eu-west-1:1:key/k", &[], "ops");
        assert_eq!(kms.who(&key), "profile ops");
        assert!(kms.report().is_none(), "not asked yet");
        let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        let kms = KmsService::from_env(&env, Ok(Timeouts::default()));
        assert_eq!(kms.endpoint("eu-west-1"), "AWS KMS in eu-west-1");
    }

    #[test]
    fn a_timeout_names_the_step_and_the_limit_whichever_clock_ran_out() {
        let call = Call {
            endpoint: "AWS KMS in us-east-1".into(),
            identity: "profile dev".into(),
            deadline: Instant::now(),
            timeouts: Timeouts::default()
                .with_request("2", "KSEC_KEY_SERVICE_TIMEOUT")
                .unwrap(),
        };
        assert_eq!(
            call.timed_out("KMS Decrypt").detail,
            "no answer in time (KMS Decrypt); the 2 s limit (KSEC_KEY_SERVICE_TIMEOUT)"
        );
        let sdk = call.failed("KMS Decrypt", (FailureClass::Timeout, NO_ANSWER.into()));
        assert_eq!(sdk.detail, call.timed_out("KMS Decrypt").detail);
        let connect = call.failed(
            "KMS Decrypt",
            (FailureClass::Timeout, "HTTP connect timeout occurred after 2s".into()),
        );
        assert_eq!(
            connect.detail,
            "HTTP connect timeout occurred after 2s (KMS Decrypt); the 2 s limit (KSEC_KEY_SERVICE_TIMEOUT)"
        );
        let refused = call.failed(
            "KMS Decrypt",
            (FailureClass::AccessDenied, "AccessDeniedException".into()),
        );
        assert_eq!(refused.detail, "AccessDeniedException");
    }

    #[test]
    fn an_arn_without_a_region_is_refused_before_anything_is_asked() {
        let kms = KmsService::from_env(&MapEnv::new(), Ok(Timeouts::default()));
        let key = KmsKey::from_arn("arn:x", &[], "");
        let err = kms.encrypt(&key, b"secret").unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(err.detail.starts_with("no valid ARN found in 'arn:x'"), "{err}");
        assert!(kms.runtime.get().is_none(), "no runtime was built");
        assert!(kms.report().is_some(), "the attempt is reported");
    }

    #[test]
    fn an_unusable_timeout_is_reported_when_kms_is_asked() {
        let kms = KmsService::from_env(&MapEnv::new(), Err("KSEC_KEY_SERVICE_TIMEOUT=\"x\" is bad".into()));
        let key = KmsKey::from_arn("arn:aws:kms:us-east-1:1:key/k", &[], "");
        let err = kms.decrypt(&key, "AAAA").unwrap_err();
        assert_eq!(err.class, FailureClass::Settings);
        assert!(err.detail.contains("KSEC_KEY_SERVICE_TIMEOUT"), "{err}");
    }
}
