//! A real OpenBao server (Vault's open-source fork, same transit API) for the tests of one test
//! binary: started once, on a free loopback port, in dev mode (in memory, unsealed, a known
//! root token), with the transit engine enabled. Each test makes its own keys, tokens and
//! policies, so tests running side by side never share state they change. A second server,
//! started only by the tests that need it, speaks TLS with a certificate from its own dev CA.
//!
//! No server outlives its test binary, however the binary ends (a failed test, a panic, a
//! SIGKILL): bao runs under a small `sh` that waits for its stdin, a pipe only this process
//! holds the write end of (and never hands to another child: Rust opens it close-on-exec).
//! When this process ends, the kernel closes that end, the shell reads end-of-file and kills
//! the server. Statics are never dropped, so no destructor could do this.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
    /// Held, never written: closing it (when the process ends) stops the server.
    _lifeline: Mutex<ChildStdin>,
    /// The shell that watches the lifeline; it ends on its own once the lifeline closes.
    _watcher: Mutex<Child>,
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
            let mut shell = Command::new("/bin/sh")
                .arg("-c")
                .arg(
                    // bao gets /dev/null as stdin; the shell waits for its own stdin to end, then
                    // stops bao (and kills it if it lingers) and removes its scratch directory.
                    r#""$@" </dev/null >"$KSEC_BAO_LOG" 2>&1 & pid=$!
                    cat >/dev/null
                    kill "$pid" 2>/dev/null
                    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
                    kill -9 "$pid" 2>/dev/null
                    rm -rf "$KSEC_BAO_SCRATCH""#,
                )
                .arg("bao-lifeline")
                .arg(&bin)
                .args(&server_args)
                .env("KSEC_BAO_LOG", &log)
                .env("KSEC_BAO_SCRATCH", &scratch)
                .env_remove("VAULT_ADDR")
                .env_remove("VAULT_TOKEN")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let lifeline = shell.stdin.take().expect("stdin is piped");
            let server = Bao {
                bin: bin.clone(),
                addr,
                ca_cert: tls.then(|| scratch.join("vault-ca.pem")),
                _lifeline: Mutex::new(lifeline),
                _watcher: Mutex::new(shell),
            };
            if server.wait_until_answering(Duration::from_secs(30)) {
                server.bao_ok(&["secrets", "enable", "transit"]);
                return server;
            }
            last_error = std::fs::read_to_string(&log).unwrap_or_default();
            // Dropping the lifeline stops this attempt's server.
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

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A server that accepts connections and never answers: the "slow service". Connections are
/// held open by a thread that lives as long as the test binary.
pub fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// A server that answers every request with `status` and the JSON `body` (a sealed Vault, an
/// overloaded one); the counter tells how many requests came.
pub fn fixed_answer_server(status: u16, body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = format!("http://{}", listener.local_addr().expect("its address"));
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            read_request(&mut stream);
            let answer = format!(
                "HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (addr, count)
}

/// Reads one request's head and its body (by Content-Length), so the client sees its request
/// taken before the answer.
fn read_request(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body);
}

/// The status of one plain HTTP/1.1 request to `addr` (`http://host:port`), or `None` when
/// nothing answers.
pub fn http_status(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Option<u16> {
    let host = addr.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = body.unwrap_or("");
    let token = token.map(|t| format!("X-Vault-Token: {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{token}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}
