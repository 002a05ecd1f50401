//! A local AWS KMS (and STS) for the tests of one test binary: moto's server, which speaks
//! the real KMS wire protocol, started once on a free loopback port and stopped when the
//! binary ends ([`lifeline`](super::lifeline)). Both ksec and the real sops reach it through
//! `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_STS`) with any credentials; one server answers
//! every AWS service.
//!
//! Each test makes its own keys, in the region it wants. Keys are made with a plain KMS
//! `CreateKey` request: moto does not check signatures, only reads the region from the
//! `Authorization` header's credential scope, so no SDK (and no Python start-up) is needed.
//!
//! A second server, started only by the tests that need it, speaks TLS with a certificate for
//! 127.0.0.1 from a CA made for it with `openssl` ([`Moto::ca_cert`]); requests to it go
//! through `openssl s_client`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::fakes::{free_port, http_status};
use super::lifeline::{self, Watched};
use super::peers::{self, tool_on_path};

/// The access key id every test command gets: a made-up one, which moto accepts.
pub const ACCESS_KEY_ID: &str = "AKIAKSECTESTENVIRON";
/// Its secret: a test value, never a real one. Reports must never show it.
pub const SECRET_ACCESS_KEY: &str = "ksec-test-secret-never-shown";

/// The moto server of this test binary.
pub struct Moto {
    /// `http://127.0.0.1:PORT` (`https://` for the TLS server).
    pub addr: String,
    /// The TLS server's CA certificate (PEM); `None` for the plain server.
    pub ca_cert: Option<PathBuf>,
    /// Stops the server when this process ends.
    _server: Watched,
}

/// The moto server, started on first use; `None` (after a note) when moto is not installed
/// outside CI. Under CI a missing moto fails the test.
pub fn moto() -> Option<&'static Moto> {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    let bin = peers::moto_server_bin()?;
    Some(SERVER.get_or_init(|| Moto::start(bin, None)))
}

/// A second moto server, over TLS with a certificate from its own CA, started on first use;
/// `None` as for [`moto`], or when `openssl` is missing outside CI.
pub fn moto_tls() -> Option<&'static Moto> {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    let bin = peers::moto_server_bin()?;
    let openssl = tool_on_path("openssl")?;
    Some(SERVER.get_or_init(|| Moto::start(bin, Some(openssl))))
}

impl Moto {
    /// Starts moto, over TLS when `openssl` is given to make its certificate.
    fn start(bin: PathBuf, openssl: Option<PathBuf>) -> Moto {
        let mut last_error = String::new();
        // The port is free when chosen but could be taken before moto binds it; try again then.
        for _ in 0..5 {
            let port = free_port();
            let scratch = std::env::temp_dir().join(format!("ksec-moto-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&scratch).expect("the server's scratch directory");
            let log = scratch.join("server.log");
            let mut args = vec!["-H".to_string(), "127.0.0.1".into(), "-p".into(), port.to_string()];
            let ca_cert = openssl.as_deref().map(|openssl| {
                make_certificates(openssl, &scratch);
                args.extend([
                    "-c".into(),
                    scratch.join("server.pem").display().to_string(),
                    "-k".into(),
                    scratch.join("server.key").display().to_string(),
                ]);
                scratch.join("ca.pem")
            });
            let scheme = if ca_cert.is_some() { "https" } else { "http" };
            let server = Moto {
                addr: format!("{scheme}://127.0.0.1:{port}"),
                ca_cert,
                _server: lifeline::start(&bin, &args, &log, &scratch, &[]),
            };
            if server.wait_until_answering(Duration::from_secs(30)) {
                return server;
            }
            last_error = std::fs::read_to_string(&log).unwrap_or_default();
            // Dropping this attempt's server stops it.
        }
        panic!("moto_server did not start:\n{last_error}");
    }

    fn wait_until_answering(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            let answered = match &self.ca_cert {
                None => http_status(&self.addr, "GET", "/moto-api/", None, None) == Some(200),
                Some(_) => self
                    .exchange("GET /moto-api/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .starts_with("HTTP/1.1 200"),
            };
            if answered {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// A new symmetric key in `region`; its ARN.
    pub fn create_key(&self, region: &str) -> String {
        let (status, body) = self.kms(region, "CreateKey", "{}");
        assert_eq!(status, 200, "CreateKey: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("CreateKey answers JSON");
        answer["KeyMetadata"]["Arn"]
            .as_str()
            .expect("CreateKey answers the key's ARN")
            .to_string()
    }

    /// Sends one KMS request (`TrentService.<operation>`) to the server as if from `region`;
    /// the status and body of the answer.
    pub fn kms(&self, region: &str, operation: &str, body: &str) -> (u16, String) {
        let host = self.host();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: TrentService.{operation}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260101/{region}/kms/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = self.exchange(&request);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        (status, body.to_string())
    }

    /// `127.0.0.1:PORT`.
    fn host(&self) -> &str {
        self.addr.split_once("://").map_or(&*self.addr, |(_, host)| host)
    }

    /// Sends one raw HTTP/1.1 request (with `Connection: close`) and reads the whole answer;
    /// empty when the server cannot be reached.
    fn exchange(&self, request: &str) -> String {
        match &self.ca_cert {
            None => {
                let Ok(mut stream) = TcpStream::connect(self.host()) else {
                    return String::new();
                };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_string(&mut answer);
                }
                answer
            }
            Some(ca) => {
                let openssl = tool_on_path("openssl").expect("openssl made the server's certificate");
                let mut client = Command::new(openssl)
                    .args([
                        "s_client",
                        "-quiet",
                        "-verify_return_error",
                        "-connect",
                        self.host(),
                        "-CAfile",
                    ])
                    .arg(ca)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("run openssl s_client");
                let _ = client
                    .stdin
                    .take()
                    .expect("stdin is piped")
                    .write_all(request.as_bytes());
                let out = client.wait_with_output().expect("openssl s_client ends");
                String::from_utf8_lossy(&out.stdout).into_owned()
            }
        }
    }
}

/// A CA (`ca.pem`) and a certificate for 127.0.0.1 it signed (`server.pem`, `server.key`), in
/// `dir`.
fn make_certificates(openssl: &Path, dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new(openssl)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem"];
    ca.extend(ec);
    ca.extend([
        "-subj",
        "/CN=ksec test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
    ]);
    run(&ca);
    let mut request = vec![
        "req",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ];
    request.extend(ec);
    run(&request);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the certificate's extensions");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}
