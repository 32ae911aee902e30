//! Shared helpers for the native integration tests: the real Neo4j's address and a way to read
//! the graph back, plus a canned-answer HTTP server for fault cases (never used as the database).
#![allow(dead_code)]

use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use neo4j_audit::Config;

/// `cargo` as a user runs it: without what `cargo test` sets for the test (CARGO_PKG_NAME, ...).
/// Build scripts (ring's) watch those variables, and seeing them differ would rebuild the TLS
/// stack, twice a run.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        let set_by_cargo_test = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
            "CARGO_TARGET_TMPDIR",
            "OUT_DIR",
        ]
        .iter()
        .any(|p| k.starts_with(p));
        if set_by_cargo_test {
            c.env_remove(&key);
        }
    }
    c
}

pub fn neo4j_url() -> String {
    std::env::var("NEO4J_URL").unwrap_or_else(|_| "http://127.0.0.1:7474".into())
}
pub fn neo4j_user() -> String {
    std::env::var("NEO4J_USER").unwrap_or_else(|_| "neo4j".into())
}
pub fn neo4j_password() -> String {
    std::env::var("NEO4J_PASSWORD").unwrap_or_else(|_| "neo4j-audit-dev".into())
}

/// A config for the real Neo4j with a trail name no other test uses.
pub fn config(trail_prefix: &str) -> Config {
    let mut c = Config::new(neo4j_url()).basic_auth(neo4j_user(), neo4j_password());
    c.trail = unique(trail_prefix);
    c
}

/// A config whose events go under a new label (`<prefix><hex>`, returned) on which an operator's
/// uniqueness constraint allows one event per `eventType` (tests/native.rs, tests/ingest.rs).
pub async fn one_event_per_type(prefix: &str) -> (Config, String) {
    let mut cfg = config(&prefix.to_ascii_lowercase());
    let label = format!("{prefix}{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    cfg.labels.event = label.clone();
    cypher(&format!("CREATE CONSTRAINT FOR (e:{label}) REQUIRE e.eventType IS UNIQUE"), json!({})).await;
    (cfg, label)
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", neo4j_audit::random::uuid_v4())
}

/// POSTs one statement to the transactional endpoint of the Neo4j at `url` (independently of the
/// library) and returns the whole answer.
pub async fn post_statement(url: &str, statement: &str, params: &Value) -> reqwest::Result<Value> {
    let body = json!({"statements": [{"statement": statement, "parameters": params}]});
    reqwest::Client::new()
        .post(format!("{url}/db/neo4j/tx/commit"))
        .basic_auth(neo4j_user(), Some(neo4j_password()))
        .json(&body)
        .send()
        .await?
        .json()
        .await
}

/// The rows of an answer from [`post_statement`]; fails the test when Neo4j reported an error.
pub fn rows_of(statement: &str, resp: &Value) -> Vec<Vec<Value>> {
    assert_eq!(resp["errors"], json!([]), "cypher failed: {statement}: {resp}");
    resp["results"][0]["data"].as_array().unwrap().iter().map(|d| d["row"].as_array().unwrap().clone()).collect()
}

/// Runs Cypher against the real Neo4j (independently of the library) and returns the rows.
pub async fn cypher(statement: &str, params: Value) -> Vec<Vec<Value>> {
    let resp =
        post_statement(&neo4j_url(), statement, &params).await.expect("neo4j reachable (run scripts/neo4j start)");
    rows_of(statement, &resp)
}

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub head: String,
    pub body: String,
}

/// A canned-answer HTTP server on 127.0.0.1 for fault injection. `answer` is the raw HTTP
/// response; `None` means accept and never answer (a hung server).
pub struct FakeServer {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeServer {
    pub async fn start(answer: Option<String>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let seen = seen2.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read headers, then Content-Length bytes of body.
                    let (head, body) = loop {
                        let n = match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some((pos, head, len)) = http_head(&buf) {
                            while buf.len() < pos + 4 + len {
                                match sock.read(&mut chunk).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                                }
                            }
                            break (head, String::from_utf8_lossy(&buf[pos + 4..pos + 4 + len]).to_string());
                        }
                    };
                    seen.lock().unwrap().push(Seen { head, body });
                    match answer {
                        Some(a) => {
                            let _ = sock.write_all(a.as_bytes()).await;
                            let _ = sock.shutdown().await;
                        }
                        None => tokio::time::sleep(std::time::Duration::from_secs(3600)).await,
                    }
                });
            }
        });
        FakeServer { url, seen }
    }

    pub fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// A raw HTTP/1.1 response with a JSON body.
pub fn http_json(status: u16, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

/// A loopback address that refuses every connection and stays reserved while the guard lives:
/// a socket bound there that never listens. A port merely bound and released (the old way) could
/// be handed to another test's server running in parallel, which then answered these calls
/// (seen once in CI: `flush_is_false_with_a_reason_when_calls_fail` got `flush() == true`).
pub fn refusing_addr() -> (tokio::net::TcpSocket, std::net::SocketAddr) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = sock.local_addr().unwrap();
    (sock, addr)
}

/// The head of an HTTP/1.1 request read so far: where it ends (the blank line's start), its text
/// and its `Content-Length` (0 without one); `None` until the blank line has arrived.
pub fn http_head(buf: &[u8]) -> Option<(usize, String, usize)> {
    let pos = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..pos]).to_string();
    let len = header(&head, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    Some((pos, head, len))
}

/// A header's value (trimmed) in a request head, by its name in any case.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A server on 127.0.0.1 answering every POST with 200 and a body of `total` bytes of JSON-ish
/// filler (`[` then spaces), written 1 MiB at a time as the client reads it: with a
/// `Content-Length` of `total`, or chunked (no length). Stops writing when the client goes away.
/// Fault injection (something that is not Neo4j, or a hostile one): never used as the database.
pub async fn huge_answer_server(total: usize, chunked: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if let Some((pos, _, len)) = http_head(&buf) {
                        if buf.len() >= pos + 4 + len {
                            break;
                        }
                    }
                }
                let length =
                    if chunked { "Transfer-Encoding: chunked".to_owned() } else { format!("Content-Length: {total}") };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}\r\nConnection: close\r\n\r\n"
                );
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut block = vec![b' '; 1 << 20];
                block[0] = b'[';
                let mut sent = 0;
                while sent < total {
                    let n = block.len().min(total - sent);
                    let ok = if chunked {
                        sock.write_all(format!("{n:x}\r\n").as_bytes()).await.is_ok()
                            && sock.write_all(&block[..n]).await.is_ok()
                            && sock.write_all(b"\r\n").await.is_ok()
                    } else {
                        sock.write_all(&block[..n]).await.is_ok()
                    };
                    if !ok {
                        return;
                    }
                    block[0] = b' ';
                    sent += n;
                }
                if chunked {
                    let _ = sock.write_all(b"0\r\n\r\n").await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

/// The process's peak resident memory so far (Linux: VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}
