//! A local AWS KMS (and STS) for the tests of one test binary: moto's server, which speaks
//! the real KMS wire protocol, started once on a free loopback port and stopped when the
//! binary ends ([`lifeline`](super::lifeline)). Both ksec and the real sops reach it through
//! `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_STS`) with any credentials; one server answers
//! every AWS service.
//!
//! Each test makes its own keys, in the region it wants. Keys are made with a plain KMS
//! `CreateKey` request: moto does not check signatures, only reads the region from the
//! `Authorization` header's credential scope, so no SDK (and no Python start-up) is needed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::fakes::{free_port, http_status};
use super::lifeline::{self, Watched};
use super::peers;

/// The access key id every test command gets: a made-up one, which moto accepts.
pub const ACCESS_KEY_ID: &str = "AKIAKSECTESTENVIRON";
/// Its secret: a test value, never a real one. Reports must never show it.
pub const SECRET_ACCESS_KEY: &str = "ksec-test-secret-never-shown";

/// The moto server of this test binary.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// Stops the server when this process ends.
    _server: Watched,
}

/// The moto server, started on first use; `None` (after a note) when moto is not installed
/// outside CI. Under CI a missing moto fails the test.
pub fn moto() -> Option<&'static Moto> {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    let bin = peers::moto_server_bin()?;
    Some(SERVER.get_or_init(|| Moto::start(bin)))
}

impl Moto {
    fn start(bin: PathBuf) -> Moto {
        let mut last_error = String::new();
        // The port is free when chosen but could be taken before moto binds it; try again then.
        for _ in 0..5 {
            let port = free_port();
            let scratch = std::env::temp_dir().join(format!("ksec-moto-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&scratch).expect("the server's scratch directory");
            let log = scratch.join("server.log");
            let args = ["-H".to_string(), "127.0.0.1".into(), "-p".into(), port.to_string()];
            let server = Moto {
                addr: format!("http://127.0.0.1:{port}"),
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
            if http_status(&self.addr, "GET", "/moto-api/", None, None) == Some(200) {
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
        let host = self.addr.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to moto");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: TrentService.{operation}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260101/{region}/kms/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read moto's answer");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        (status, body.to_string())
    }
}
