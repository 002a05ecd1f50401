//! The HTTP client the AWS SDK sends through: hyper over rustls with the ring provider (the
//! TLS stack ureq already brings; the SDK's default client would add aws-lc-rs and its C
//! build), certificates checked against the system's trust store, and proxies as Go (and so
//! sops) takes them from the environment: `HTTPS_PROXY` for https endpoints (else
//! `HTTP_PROXY` for plain ones), `NO_PROXY` exceptions, never a proxy for loopback. The SDK's
//! own client uses no proxy at all.
//!
//! The SDK asks for a connector per set of timeouts; the connectors are made once each (the
//! trust store is read then) and shared by every request of the process.

use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Connector, proxy::ProxyError};
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::keys::services::http::ProxySettings;

/// Go never sends requests for loopback addresses through a proxy.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The client handed to the SDK.
#[derive(Debug)]
pub(super) struct AwsHttpClient {
    proxy: ProxyConfig,
    /// The connectors made so far, by their connect and read timeouts.
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

type Timeouts = (Option<Duration>, Option<Duration>);

impl AwsHttpClient {
    /// A client that sends through the proxies `proxies` names; a proxy that is not a URL is
    /// an error the caller reports as a setting.
    pub(super) fn new(proxies: &ProxySettings) -> Result<AwsHttpClient, String> {
        Ok(AwsHttpClient {
            proxy: proxy_config(proxies).map_err(|e| format!("the proxy setting cannot be used: {e}"))?,
            connectors: Mutex::new(Vec::new()),
        })
    }
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
        let connector = SharedHttpConnector::new(builder.tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build());
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
        assert!(AwsHttpClient::new(&ProxySettings::from_env(&env)).is_err());
    }
}
