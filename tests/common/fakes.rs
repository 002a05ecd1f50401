//! Stand-ins for a service on a loopback port, for the faults a real server will not show on
//! demand: one that never answers (a stuck service), one that answers every request the same
//! way (a sealed Vault, a KMS key that is disabled), one that answers by path (a metadata
//! endpoint). Each lives as long as the test binary.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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

/// One answer of a [`routed_server`]: to this method and path, this status, extra header lines
/// (each ending in `\r\n`) and body.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub status: u16,
    pub headers: &'static str,
    pub body: String,
}

/// A server that answers each request by its method and path: the first of `routes` that
/// matches, else 404. The metadata endpoints a cloud machine or container has, on loopback.
pub fn routed_server(routes: Vec<Route>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let (method, path) = read_request(&mut stream);
            let (status, headers, body) = routes
                .iter()
                .find(|r| r.method == method && r.path == path)
                .map_or((404, "", ""), |r| (r.status, r.headers, r.body.as_str()));
            let answer = format!(
                "HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

/// Reads one request's head and its body (by Content-Length), so the client sees its request
/// taken before the answer; its method and path.
fn read_request(stream: &mut TcpStream) -> (String, String) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return Default::default(),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then_some(value)
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body);
    (method, path)
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
