//! A real OpenBao server (Vault's open-source fork, same transit API) for the tests of one test
//! binary: started once, on a free loopback port, in dev mode (in memory, unsealed, a known
//! root token), with the transit engine enabled. Each test makes its own keys, tokens and
//! policies, so tests running side by side never share state they change. A second server,
//! started only by the tests that need it, speaks TLS with a certificate from its own dev CA.
//!
//! No server outlives its test binary ([`lifeline`](super::lifeline)).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::fakes::free_port;
use super::lifeline::{self, Watched};
use super::peers;

/// The root token of the dev server: a test value, never a real secret.
const ROOT_TOKEN: &str = "ksec-test-root";

/// The server of this test binary.
pub struct Bao {
    bin: PathBuf,
    /// `http://127.0.0.1:PORT` (`https://` for the TLS server).
    pub addr: String,
    /// The TLS server's CA certificate (its directory holds the server's key and certificate
    /// too); `None` for the plain server.
    pub ca_cert: Option<PathBuf>,
    /// Stops the server when this process ends.
    _server: Watched,
}

/// The OpenBao server, started on first use; `None` (after a note) when `bao` is not installed
/// outside CI. Under CI a missing bao fails the test.
pub fn bao() -> Option<&'static Bao> {
    static SERVER: OnceLock<Bao> = OnceLock::new();
    let bin = peers::bao_bin()?;
    Some(SERVER.get_or_init(|| Bao::start(bin, false)))
}

/// A second OpenBao server, over TLS with its own dev CA ([`Bao::ca_cert`]), started on first
/// use; `None` as for [`bao`].
pub fn bao_tls() -> Option<&'static Bao> {
    static SERVER: OnceLock<Bao> = OnceLock::new();
    let bin = peers::bao_bin()?;
    Some(SERVER.get_or_init(|| Bao::start(bin, true)))
}

impl Bao {
    fn start(bin: PathBuf, tls: bool) -> Bao {
        let mut last_error = String::new();
        // The port is free when chosen but could be taken before bao binds it; try again then.
        for _ in 0..5 {
            let port = free_port();
            let scheme = if tls { "https" } else { "http" };
            let addr = format!("{scheme}://127.0.0.1:{port}");
            let scratch = std::env::temp_dir().join(format!("ksec-bao-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&scratch).expect("the server's scratch directory");
            let log = scratch.join("server.log");
            let mut server_args = vec![
                "server".to_string(),
                "-dev".into(),
                format!("-dev-root-token-id={ROOT_TOKEN}"),
                format!("-dev-listen-address=127.0.0.1:{port}"),
            ];
            if tls {
                server_args.push("-dev-tls".into());
                server_args.push(format!("-dev-tls-cert-dir={}", scratch.display()));
            }
            let server = Bao {
                bin: bin.clone(),
                addr,
                ca_cert: tls.then(|| scratch.join("vault-ca.pem")),
                _server: lifeline::start(&bin, &server_args, &log, &scratch, &["VAULT_ADDR", "VAULT_TOKEN"]),
            };
            if server.wait_until_answering(Duration::from_secs(30)) {
                server.bao_ok(&["secrets", "enable", "transit"]);
                return server;
            }
            last_error = std::fs::read_to_string(&log).unwrap_or_default();
            // Dropping this attempt's server stops it.
        }
        panic!("OpenBao did not start:\n{last_error}");
    }

    /// Asks `bao status` until the server answers as unsealed (exit 0).
    fn wait_until_answering(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            let answered = self
                .command(&["status"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// `bao ARGS…` as root against this server.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .env_remove("VAULT_NAMESPACE")
            .stdin(Stdio::null());
        if let Some(ca) = &self.ca_cert {
            cmd.env("VAULT_CACERT", ca);
        }
        cmd
    }

    /// Runs `bao ARGS…` as root; its stdout. Fails the test when bao fails.
    pub fn bao_ok(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run bao: {e}"));
        assert!(
            out.status.success(),
            "bao {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new transit key (in the root namespace's `transit` engine); its URI as sops names it.
    pub fn new_key(&self, name: &str) -> String {
        self.bao_ok(&["write", "-f", &format!("transit/keys/{name}")]);
        self.key_uri(name)
    }

    /// The URI of a key of the `transit` engine, whether or not it exists.
    pub fn key_uri(&self, name: &str) -> String {
        format!("{}/v1/transit/keys/{name}", self.addr)
    }

    /// A token with this policy (HCL) besides Vault's default one (which lets a token look
    /// itself up, as real tokens can), valid for `ttl` (`"1h"`, `"1s"`).
    pub fn token_with_policy(&self, policy_name: &str, hcl: &str, ttl: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("policy.hcl");
        std::fs::write(&file, hcl).expect("write the policy");
        self.bao_ok(&["policy", "write", policy_name, &file.display().to_string()]);
        self.bao_ok(&[
            "token",
            "create",
            "-field=token",
            &format!("-policy={policy_name}"),
            &format!("-ttl={ttl}"),
        ])
    }

    /// The root token, for tests that need a token allowed everything.
    pub fn root_token(&self) -> &'static str {
        ROOT_TOKEN
    }
}
