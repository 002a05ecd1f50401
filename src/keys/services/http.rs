//! The HTTP client every key service asks through: ureq (blocking, like the rest of ksec) over
//! rustls with the ring provider, so the binary carries one TLS stack, needs no system library
//! (no OpenSSL) and starts no runtime. A client is built only when a key service is first
//! asked, so commands that use no service key pay nothing for it.
//!
//! Certificates are checked against the system's trust store, read the way Go (and so the
//! Vault CLI and sops) reads it (`SSL_CERT_FILE`, `SSL_CERT_DIR`, the distribution's bundle),
//! or against the authorities a service's settings name instead (`VAULT_CACERT`). On a system
//! with no trust store at all (a `scratch` container), Mozilla's roots built into ksec are
//! used, so public endpoints still work.
//!
//! Proxies follow Go's `ProxyFromEnvironment`, which the service CLIs use: `HTTPS_PROXY` for
//! https, `HTTP_PROXY` for http, `NO_PROXY` exceptions, and never a proxy for loopback.

use std::io;
use std::sync::OnceLock;
use std::time::Instant;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use zeroize::Zeroizing;

use super::error::{FailureClass, bounded};
use super::timeouts::Timeouts;
use crate::keys::Env;

/// The largest answer a key service gives (a wrapped key, an error); more is not read.
const BODY_LIMIT: u64 = 1 << 20;

/// TLS settings of one service's client.
#[derive(Default)]
pub struct TlsSettings {
    /// PEM certificates of the authorities to trust instead of the system's; empty for the
    /// system's.
    pub authorities: Vec<Certificate<'static>>,
    /// A client certificate chain and its key, for services that ask for one.
    pub client_identity: Option<(Vec<Certificate<'static>>, PrivateKey<'static>)>,
    /// Accept any server certificate (`VAULT_SKIP_VERIFY`): for tests and emergencies only.
    pub skip_verify: bool,
}

/// The proxies the environment names, as Go reads them.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    https: Option<String>,
    http: Option<String>,
    no_proxy: Vec<String>,
}

impl ProxySettings {
    /// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (each also in lower case, the upper case
    /// winning when both are set, as in Go).
    pub fn from_env(env: &dyn Env) -> ProxySettings {
        let any = |names: [&str; 2]| names.iter().find_map(|n| env.var(n).filter(|v| !v.is_empty()));
        ProxySettings {
            https: any(["HTTPS_PROXY", "https_proxy"]),
            http: any(["HTTP_PROXY", "http_proxy"]),
            no_proxy: any(["NO_PROXY", "no_proxy"])
                .map(|list| {
                    list.split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// One proxy for every request (`VAULT_PROXY_ADDR`), bypassing the environment's.
    pub fn always(proxy: String) -> ProxySettings {
        ProxySettings {
            https: Some(proxy.clone()),
            http: Some(proxy),
            no_proxy: Vec::new(),
        }
    }

    /// The proxy for https URLs (`HTTPS_PROXY`), for a client that applies the rules itself.
    pub fn https(&self) -> Option<&str> {
        self.https.as_deref()
    }

    /// The proxy for plain http URLs (`HTTP_PROXY`).
    pub fn http(&self) -> Option<&str> {
        self.http.as_deref()
    }

    /// The hosts, domains and addresses `NO_PROXY` exempts, lower-cased.
    pub fn no_proxy(&self) -> &[String] {
        &self.no_proxy
    }

    /// The proxy for `url`, if any.
    fn for_url(&self, url: &str) -> Option<&str> {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host_of(authority).to_ascii_lowercase();
        if is_loopback(&host) || self.excluded(&host) {
            return None;
        }
        match scheme {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }
    }

    fn excluded(&self, host: &str) -> bool {
        self.no_proxy.iter().any(|entry| {
            let entry = host_of(entry);
            entry == "*"
                || entry == host
                || host
                    .strip_suffix(entry.trim_start_matches('.'))
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
    }
}

/// The host of `host:port`, `[v6]:port` or `host`.
pub(crate) fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// Go never proxies requests to loopback.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One header of a request. Sensitive values (tokens) are marked so, which keeps them out of
/// ureq's debug output.
pub struct Header<'a> {
    pub name: &'static str,
    pub value: &'a str,
    pub sensitive: bool,
}

/// What came back: the status and the body, wiped when dropped (a decrypt answer holds the
/// data key).
pub struct Response {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub class: FailureClass,
    pub detail: String,
}

/// A client for one service: its TLS settings, proxies and timeouts.
pub struct HttpClient {
    tls: TlsSettings,
    /// For https: built on the first https request, when the trust store is read.
    secure: OnceLock<ureq::Agent>,
    /// For plain http (a local Vault, an agent on loopback): no trust store is read.
    plain: OnceLock<ureq::Agent>,
    proxies: ProxySettings,
    timeouts: Timeouts,
}

impl HttpClient {
    /// A client with these settings; nothing is read or connected until the first request.
    pub fn new(tls: TlsSettings, proxies: ProxySettings, timeouts: Timeouts) -> HttpClient {
        HttpClient {
            tls,
            secure: OnceLock::new(),
            plain: OnceLock::new(),
            proxies,
            timeouts,
        }
    }

    /// The agent for `url`: a TLS one (the system trust store read once, a few milliseconds,
    /// unless the settings name their own authorities) for https or through an https proxy.
    fn agent(&self, url: &str) -> &ureq::Agent {
        let needs_tls =
            url.starts_with("https://") || self.proxies.for_url(url).is_some_and(|p| p.starts_with("https://"));
        if !needs_tls {
            // Mozilla's roots are built in: naming them reads nothing, and a plain-http agent
            // never uses them (redirects, which could lead to https, are not followed).
            return self
                .plain
                .get_or_init(|| agent(TlsConfig::builder().root_certs(RootCerts::WebPki).build()));
        }
        self.secure.get_or_init(|| {
            let roots = if !self.tls.authorities.is_empty() {
                RootCerts::new_with_certs(&self.tls.authorities)
            } else {
                system_roots()
            };
            let client_cert = self
                .tls
                .client_identity
                .as_ref()
                .map(|(chain, key)| ClientCert::new_with_certs(chain, key.to_owned()));
            agent(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(roots)
                    .client_cert(client_cert)
                    .disable_verification(self.tls.skip_verify)
                    .build(),
            )
        })
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// POSTs `body` (JSON) to `url` and reads the answer, giving up at `deadline`.
    pub fn post_json(
        &self,
        url: &str,
        headers: &[Header<'_>],
        body: &[u8],
        deadline: Instant,
    ) -> Result<Response, TransportError> {
        self.post(url, headers, body, "application/json", deadline)
    }

    /// POSTs `body` (an `application/x-www-form-urlencoded` form, as OAuth token endpoints
    /// take) to `url` and reads the answer, giving up at `deadline`.
    pub fn post_form(
        &self,
        url: &str,
        headers: &[Header<'_>],
        body: &[u8],
        deadline: Instant,
    ) -> Result<Response, TransportError> {
        self.post(url, headers, body, "application/x-www-form-urlencoded", deadline)
    }

    fn post(
        &self,
        url: &str,
        headers: &[Header<'_>],
        body: &[u8],
        content_type: &str,
        deadline: Instant,
    ) -> Result<Response, TransportError> {
        let request = self.configure(self.agent(url).post(url), url, deadline)?;
        let request = headers
            .iter()
            .fold(request, |r, h| add_header(r, h))
            .header("Content-Type", content_type);
        read(request.send(body))
    }

    /// GETs `url` and reads the answer, giving up at `deadline`.
    pub fn get(&self, url: &str, headers: &[Header<'_>], deadline: Instant) -> Result<Response, TransportError> {
        let request = self.configure(self.agent(url).get(url), url, deadline)?;
        let request = headers.iter().fold(request, |r, h| add_header(r, h));
        read(request.call())
    }

    /// Sets the time left until `deadline` and the proxy for `url` on one request.
    fn configure<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        url: &str,
        deadline: Instant,
    ) -> Result<ureq::RequestBuilder<B>, TransportError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransportError {
                class: FailureClass::Timeout,
                detail: format!("no time left of the {}", self.timeouts.describe()),
            });
        }
        let proxy = match self.proxies.for_url(url) {
            Some(proxy) => Some(ureq::Proxy::new(proxy).map_err(|_| TransportError {
                class: FailureClass::Settings,
                detail: format!("the proxy {} is not a proxy URL", bounded(proxy, 200)),
            })?),
            None => None,
        };
        Ok(request
            .config()
            .proxy(proxy)
            .timeout_connect(Some(self.timeouts.connect.min(left)))
            .timeout_global(Some(left))
            .build())
    }
}

/// An agent with ksec's settings for key services and this TLS configuration.
fn agent(tls: TlsConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(tls)
        // Answers are read whatever their status: the services explain refusals in the body,
        // and the report shows that explanation.
        .http_status_as_error(false)
        // A key service never redirects a key operation; following one would send the token
        // elsewhere.
        .max_redirects(0)
        .max_redirects_will_error(false)
        // The proxy is chosen per request from the environment seam, as Go chooses it.
        .proxy(None)
        .user_agent(concat!("ksec/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

fn add_header<B>(request: ureq::RequestBuilder<B>, header: &Header<'_>) -> ureq::RequestBuilder<B> {
    match ureq::http::HeaderValue::from_str(header.value) {
        Ok(mut value) => {
            value.set_sensitive(header.sensitive);
            request.header(header.name, value)
        }
        // A value that cannot be a header (a token with a line break) is left out; the
        // service then refuses the request as unauthenticated, which the report explains.
        Err(_) => request,
    }
}

fn read(sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Response, TransportError> {
    let response = sent.map_err(|e| classify(&e))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let bytes = body
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|e| classify(&e))?;
    Ok(Response {
        status,
        body: Zeroizing::new(bytes),
    })
}

/// The system's trust store, or Mozilla's roots when the system has none.
fn system_roots() -> RootCerts {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<Certificate<'static>> = found
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(&certs)
    }
}

/// Reads PEM certificates (a CA bundle, a client chain).
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
            Ok(_) => None,
            Err(e) => Some(Err(e.to_string())),
        })
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certs)
}

/// Reads a PEM private key (a client certificate's).
pub fn pem_private_key(pem: &[u8]) -> Result<PrivateKey<'static>, String> {
    // The error never quotes the key: ureq's PEM errors name the section, not its content.
    PrivateKey::from_pem(pem).map_err(|_| "no usable PEM private key in it".to_string())
}

/// What a transport failure means for the user: no connection, no answer in time, or a TLS
/// handshake that failed.
fn classify(error: &ureq::Error) -> TransportError {
    let (class, detail) = match error {
        ureq::Error::Timeout(which) => (FailureClass::Timeout, format!("no answer in time ({which})")),
        ureq::Error::HostNotFound => (FailureClass::Unreachable, "the host name does not resolve".into()),
        ureq::Error::ConnectionFailed => (FailureClass::Unreachable, "the connection failed".into()),
        ureq::Error::Io(e) => io_failure(e),
        ureq::Error::Tls(reason) => (FailureClass::Tls, (*reason).to_string()),
        ureq::Error::Rustls(e) => (FailureClass::Tls, e.to_string()),
        ureq::Error::Pem(e) => (FailureClass::Settings, e.to_string()),
        ureq::Error::BadUri(uri) => (FailureClass::Settings, format!("not a usable URL: {uri}")),
        ureq::Error::InvalidProxyUrl => (FailureClass::Settings, "not a usable proxy URL".into()),
        ureq::Error::Protocol(e) => (FailureClass::BadResponse, format!("not an HTTP answer: {e}")),
        ureq::Error::BodyExceedsLimit(_) => (
            FailureClass::BadResponse,
            format!("an answer larger than {BODY_LIMIT} bytes"),
        ),
        other => (FailureClass::Unreachable, other.to_string()),
    };
    TransportError {
        class,
        detail: bounded(&detail, 300),
    }
}

fn io_failure(error: &io::Error) -> (FailureClass, String) {
    use io::ErrorKind::*;
    let class = match error.kind() {
        TimedOut | WouldBlock => FailureClass::Timeout,
        // rustls reports a failed handshake (an unknown authority, a name mismatch, an alert)
        // as an I/O error that wraps its own error.
        _ if error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => FailureClass::Tls,
        _ => FailureClass::Unreachable,
    };
    (class, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn proxies_follow_go_never_for_loopback_and_not_for_no_proxy_hosts() {
        let env = MapEnv::new()
            .with_var("HTTPS_PROXY", "http://proxy:3128")
            .with_var("http_proxy", "http://plain:3128")
            .with_var("NO_PROXY", "internal.example, .corp,10.0.0.1");
        let proxies = ProxySettings::from_env(&env);
        assert_eq!(
            proxies.for_url("https://vault.example.com:8200/v1/x"),
            Some("http://proxy:3128")
        );
        assert_eq!(proxies.for_url("http://vault:8200/v1/x"), Some("http://plain:3128"));
        for direct in [
            "http://127.0.0.1:8200/v1/x",
            "https://localhost/v1",
            "http://[::1]:8200/",
            "https://internal.example/v1",
            "https://a.internal.example/v1",
            "https://vault.corp:8200/v1",
            "https://10.0.0.1/v1",
        ] {
            assert_eq!(proxies.for_url(direct), None, "{direct}");
        }
        assert_eq!(
            proxies.for_url("https://notinternal.example/v1"),
            Some("http://proxy:3128"),
            "a suffix matches at a dot only"
        );
    }

    #[test]
    fn hosts_are_taken_from_authorities_with_ports_users_and_brackets() {
        assert_eq!(host_of("vault:8200"), "vault");
        assert_eq!(host_of("user@vault:8200"), "vault");
        assert_eq!(host_of("[::1]:8200"), "::1");
        assert_eq!(host_of("vault"), "vault");
    }
}
