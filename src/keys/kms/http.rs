//! The HTTP client the AWS SDK sends through: hyper over rustls with the ring provider (the
//! TLS stack ureq already brings; the SDK's default client would add aws-lc-rs and its C
//! build), certificates checked against the system's trust store or, as in Go's SDK, only
//! against the authorities `AWS_CA_BUNDLE` names, and proxies as Go (and so sops) takes them
//! from the environment: `HTTPS_PROXY` for https endpoints (else `HTTP_PROXY` for plain ones),
//! `NO_PROXY` exceptions, never a proxy for loopback. The SDK's own client uses no proxy at
//! all.
//!
//! The SDK asks for a connector per set of timeouts; the connectors are made once each (the
//! trust store is read then) and shared by every request of the process.

use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Connector, proxy::ProxyError};
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::CertificateDer;

use crate::keys::services::http::{ProxySettings, pem_certificates};

/// Go never sends requests for loopback addresses through a proxy.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The client handed to the SDK.
#[derive(Debug)]
pub(super) struct AwsHttpClient {
    proxy: ProxyConfig,
    tls: TlsContext,
    /// The connectors made so far, by their connect and read timeouts.
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

type Timeouts = (Option<Duration>, Option<Duration>);

impl AwsHttpClient {
    /// A client that sends through the proxies `proxies` names and trusts the authorities
    /// of `ca_bundle` (PEM) instead of the system's when given; a proxy that is not a URL or a
    /// bundle without a usable certificate is an error the caller reports as a setting.
    pub(super) fn new(proxies: &ProxySettings, ca_bundle: Option<&[u8]>) -> Result<AwsHttpClient, String> {
        let trust = match ca_bundle {
            Some(pem) => trust_only(pem)?,
            None => TrustStore::default(),
        };
        Ok(AwsHttpClient {
            proxy: proxy_config(proxies).map_err(|e| format!("the proxy setting cannot be used: {e}"))?,
            tls: TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .map_err(|e| format!("the TLS settings cannot be used: {e}"))?,
            connectors: Mutex::new(Vec::new()),
        })
    }
}

/// A trust store of only the certificates in `pem` that rustls accepts as authorities. The
/// SDK panics on a certificate it cannot parse, so each is checked here, and handed on
/// re-encoded from its DER.
fn trust_only(pem: &[u8]) -> Result<TrustStore, String> {
    let mut store = TrustStore::empty();
    let mut checked = rustls::RootCertStore::empty();
    for cert in pem_certificates(pem)? {
        if checked.add(CertificateDer::from(cert.der().to_vec())).is_ok() {
            store = store.with_pem_certificate(pem_of(cert.der()));
        }
    }
    if checked.is_empty() {
        return Err("no certificate in it can be used as an authority".into());
    }
    Ok(store)
}

/// A DER certificate as PEM.
fn pem_of(der: &[u8]) -> Vec<u8> {
    let text = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

/// The SDK's proxy configuration for the environment's proxies, as Go would use them.
fn proxy_config(proxies: &ProxySettings) -> Result<ProxyConfig, ProxyError> {
    let no_proxy = match proxies.no_proxy() {
        [] => LOOPBACK.to_string(),
        hosts => format!("{},{LOOPBACK}", hosts.join(",")),
    };
    let config = match (proxies.https(), proxies.http()) {
        (Some(proxy), _) => ProxyConfig::https(proxy)?,
        (None, Some(proxy)) => ProxyConfig::http(proxy)?,
        (None, None) => return Ok(ProxyConfig::disabled()),
    };
    Ok(config.no_proxy(no_proxy))
}

impl HttpClient for AwsHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        // A panic elsewhere while the list was held leaves it as it was: still usable.
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, connector)) = connectors.iter().find(|(k, _)| *k == key) {
            return connector.clone();
        }
        let mut builder = Connector::builder()
            .connector_settings(settings.clone())
            .proxy_config(self.proxy.clone());
        builder.set_sleep_impl(components.sleep_impl());
        let connector = SharedHttpConnector::new(
            builder
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .tls_context(self.tls.clone())
                .build(),
        );
        connectors.push((key, connector.clone()));
        connector
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;

    #[test]
    fn proxies_come_from_the_environment_and_never_serve_loopback() {
        let none = ProxySettings::from_env(&MapEnv::new());
        assert!(proxy_config(&none).unwrap().is_disabled());
        let env = MapEnv::new()
            .with_var("HTTPS_PROXY", "http://proxy.corp:3128")
            .with_var("NO_PROXY", "internal.example");
        let config = proxy_config(&ProxySettings::from_env(&env)).unwrap();
        assert!(!config.is_disabled());
        let shown = format!("{config:?}");
        assert!(shown.contains("internal.example,localhost,127.0.0.0/8,::1"), "{shown}");
        let env = MapEnv::new().with_var("HTTPS_PROXY", "not a url");
        assert!(AwsHttpClient::new(&ProxySettings::from_env(&env), None).is_err());
    }

    #[test]
    fn a_ca_bundle_must_hold_a_certificate_rustls_accepts() {
        let none = ProxySettings::from_env(&MapEnv::new());
        let err = AwsHttpClient::new(&none, Some(b"not pem")).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        // A well-formed PEM block whose content is no certificate: refused here, where the
        // SDK would panic.
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = AwsHttpClient::new(&none, Some(junk)).unwrap_err();
        assert!(err.contains("can be used as an authority"), "{err}");
        assert_eq!(
            pem_of(&[0u8; 51]),
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n{}\n-----END CERTIFICATE-----\n",
                "A".repeat(64),
                "A".repeat(4)
            )
            .into_bytes()
        );
    }
}
