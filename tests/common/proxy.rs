//! A fault-injecting HTTP proxy for tests: sits between the library and the REAL Neo4j and, for a
//! chosen share of requests, drops them, delays them past the client's timeout (then forwards
//! them anyway), answers 503 or 429 (`Retry-After`) itself, or forwards them to Neo4j and cuts
//! the connection before the client gets the answer (Neo4j committed, the client never knows).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without forwarding or answering.
    Drop,
    /// Wait `delay_ms` (past the client's timeout), then forward and answer.
    Delay,
    /// Answer 503 without forwarding.
    Unavailable,
    /// Answer 429 with `Retry-After` without forwarding.
    TooMany,
    /// Forward, let Neo4j answer, and close the client connection instead of relaying.
    CutAfterForward,
}

/// Counters of what the proxy did.
#[derive(Debug, Default)]
pub struct ProxyCounts {
    pub requests: AtomicU64,
    pub writes: AtomicU64,
    pub forwarded: AtomicU64,
    pub upstream_down: AtomicU64,
    pub dropped: AtomicU64,
    pub delayed: AtomicU64,
    pub unavailable: AtomicU64,
    pub too_many: AtomicU64,
    pub cut: AtomicU64,
    pub schema_refused: AtomicU64,
    /// Requests answered with [`Plan::answer`].
    pub answered: AtomicU64,
    /// Writes answered with [`Plan::write_error`].
    pub write_errors: AtomicU64,
    /// Requests creating the schema (`CREATE CONSTRAINT`).
    pub schema_creates: AtomicU64,
    /// Writes being forwarded now, and the most at once.
    pub writes_in_flight: AtomicU64,
    pub max_writes_in_flight: AtomicU64,
    /// The most events one write carried (its `$events` parameter).
    pub max_write_events: AtomicU64,
}

impl ProxyCounts {
    pub fn faults(&self) -> u64 {
        self.dropped.load(Relaxed)
            + self.delayed.load(Relaxed)
            + self.unavailable.load(Relaxed)
            + self.too_many.load(Relaxed)
            + self.cut.load(Relaxed)
    }
    pub fn summary(&self) -> String {
        format!(
            "requests={} writes={} forwarded={} upstream_down={} faults={} (drop={} delay={} 503={} 429={} cut={})",
            self.requests.load(Relaxed),
            self.writes.load(Relaxed),
            self.forwarded.load(Relaxed),
            self.upstream_down.load(Relaxed),
            self.faults(),
            self.dropped.load(Relaxed),
            self.delayed.load(Relaxed),
            self.unavailable.load(Relaxed),
            self.too_many.load(Relaxed),
            self.cut.load(Relaxed),
        )
    }
}

/// The proxy's settings; may be changed while it runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Share of requests that get a fault, in per mille.
    pub fault_per_mille: u64,
    /// How long a delayed request waits before being forwarded.
    pub delay_ms: u64,
    /// `Retry-After` seconds on 429.
    pub retry_after_s: u64,
    /// Answer every schema statement (`CREATE CONSTRAINT`/`CREATE INDEX`/the wait for the schema's indexes) as
    /// Neo4j does for a role without schema rights (`Neo.ClientError.Security.Forbidden`), and the
    /// schema check (`SHOW INDEXES`, a first write's `db.awaitIndex` guard) as on a database where
    /// the schema was never made; other statements pass. Community Edition has no roles, so this is how the refusal is tested.
    pub forbid_schema: bool,
    /// Answer every request with this status itself (body `<status> from the proxy`, with
    /// `Retry-After: retry_after_s`), forwarding nothing: what a load balancer or gateway in front
    /// of Neo4j answers (503 while it is down, 501 for a method it does not pass on).
    pub answer: Option<u16>,
    /// Answer every write (`UNWIND $events`) itself, forwarding nothing, as Neo4j answers a
    /// statement it failed with this error code (200, `errors` holding it; the transaction rolled
    /// back): e.g. `Neo.TransientError.Transaction.DeadlockDetected`. Counted in `write_errors`.
    pub write_error: Option<&'static str>,
    /// With [`Plan::write_error`]: the HTTP status of that answer (200 as tx/commit answers a
    /// failed statement; 403 as the Query API answers `Neo.ClientError.Security.Forbidden`),
    /// its message, and how many writes get it (0: every one; the later ones are forwarded).
    pub write_error_status: u16,
    pub write_error_message: &'static str,
    pub write_error_times: u64,
}

impl Plan {
    /// Forwards every request as it is.
    pub fn passing() -> Plan {
        Plan {
            fault_per_mille: 0,
            delay_ms: 0,
            retry_after_s: 1,
            forbid_schema: false,
            answer: None,
            write_error: None,
            write_error_status: 200,
            write_error_message: "injected by the test proxy",
            write_error_times: 0,
        }
    }

    /// [`Plan::passing`], but every write is answered with Neo4j's error `code`.
    pub fn write_error(code: &'static str) -> Plan {
        Plan { write_error: Some(code), ..Plan::passing() }
    }
}

pub struct FaultProxy {
    pub url: String,
    pub counts: Arc<ProxyCounts>,
    pub plan: Arc<Mutex<Plan>>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 in front of `upstream` (e.g. `http://127.0.0.1:7474`).
    pub async fn start(upstream: &str, plan: Plan, seed: u64) -> FaultProxy {
        Self::start_at("127.0.0.1:0", upstream, plan, seed).await
    }

    /// [`FaultProxy::start`] on a given address (a server that comes up where clients already
    /// try to reach it).
    pub async fn start_at(addr: &str, upstream: &str, plan: Plan, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(ProxyCounts::default());
        let plan = Arc::new(Mutex::new(plan));
        let rng = Arc::new(Mutex::new(seed | 1));
        let client = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let (c2, p2) = (counts.clone(), plan.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (counts, plan, rng, client, upstream) =
                    (c2.clone(), p2.clone(), rng.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, &upstream, &client, &counts, &plan, &rng).await;
                });
            }
        });
        FaultProxy { url, counts, plan }
    }
}

fn next_rand(rng: &Mutex<u64>) -> u64 {
    // xorshift64*: deterministic for a seed, good enough to pick faults.
    let mut g = rng.lock().unwrap();
    let mut x = *g;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *g = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(sock: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
            let mut lines = head.split("\r\n");
            let path = lines.next()?.split(' ').nth(1)?.to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let len = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < pos + 4 + len {
                let n = sock.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(Request { path, headers, body: buf[pos + 4..pos + 4 + len].to_vec() });
        }
    }
}

fn raw_response(status: u16, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\
         Access-Control-Allow-Origin: *\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn forward(req: &Request, upstream: &str, client: &reqwest::Client, counts: &ProxyCounts) -> Vec<u8> {
    let mut rb = client
        .post(format!("{upstream}{}", req.path))
        .body(req.body.clone())
        .timeout(std::time::Duration::from_secs(60));
    for (k, v) in &req.headers {
        if matches!(k.as_str(), "authorization" | "content-type" | "accept" | "x-ajax-browser-auth") {
            rb = rb.header(k.as_str(), v.as_str());
        }
    }
    match rb.send().await {
        Ok(resp) => {
            counts.forwarded.fetch_add(1, Relaxed);
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned();
            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            raw_response(status, &ct, "", &body)
        }
        Err(_) => {
            // Neo4j is down: what a load balancer in front of it would say.
            counts.upstream_down.fetch_add(1, Relaxed);
            raw_response(502, "text/plain", "", b"upstream unavailable")
        }
    }
}

async fn serve(
    mut sock: TcpStream,
    upstream: &str,
    client: &reqwest::Client,
    counts: &ProxyCounts,
    plan: &Mutex<Plan>,
    rng: &Mutex<u64>,
) -> Option<()> {
    let req = read_request(&mut sock).await?;
    counts.requests.fetch_add(1, Relaxed);
    let is_write = req.body.windows(14).any(|w| w == b"UNWIND $events");
    if is_write {
        counts.writes.fetch_add(1, Relaxed);
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let n = body["statements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|st| st["parameters"]["events"].as_array())
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        counts.max_write_events.fetch_max(n as u64, Relaxed);
        let now = counts.writes_in_flight.fetch_add(1, Relaxed) + 1;
        counts.max_writes_in_flight.fetch_max(now, Relaxed);
    }
    // Counted down however this request ends.
    struct Leaving<'a>(Option<&'a AtomicU64>);
    impl Drop for Leaving<'_> {
        fn drop(&mut self) {
            if let Some(c) = self.0 {
                c.fetch_sub(1, Relaxed);
            }
        }
    }
    let leaving = Leaving(is_write.then_some(&counts.writes_in_flight));
    let plan = plan.lock().unwrap().clone();
    let is_schema = |w: &[u8]| req.body.windows(w.len()).any(|x| x == w);
    if is_schema(b"CREATE CONSTRAINT") {
        counts.schema_creates.fetch_add(1, Relaxed);
    }
    if plan.forbid_schema && is_schema(b"db.awaitIndex(") {
        // A first write's schema guard (src/cypher.rs SCHEMA_GUARD), as Neo4j answers it on a
        // database where the schema was never made: the transaction is rolled back.
        let body = br#"{"results":[],"errors":[{"code":"Neo.ClientError.Schema.IndexNotFound","message":"No such index 'auditevent_uid_unique'"}]}"#;
        sock.write_all(&raw_response(200, "application/json", "", body)).await.ok()?;
        return sock.shutdown().await.ok();
    }
    if plan.forbid_schema && is_schema(b"SHOW INDEXES") {
        // As on a database where the schema was never made.
        let body = br#"{"results":[{"columns":["online"],"data":[{"row":[0],"meta":[null]}]}],"errors":[]}"#;
        sock.write_all(&raw_response(200, "application/json", "", body)).await.ok()?;
        return sock.shutdown().await.ok();
    }
    if plan.forbid_schema
        && (is_schema(b"CREATE CONSTRAINT") || is_schema(b"CREATE INDEX") || is_schema(b"awaitIndex(n, 60)"))
    {
        counts.schema_refused.fetch_add(1, Relaxed);
        let body = br#"{"results":[],"errors":[{"code":"Neo.ClientError.Security.Forbidden","message":"Schema operations are not allowed for user 'auditor' with roles [writer]."}]}"#;
        sock.write_all(&raw_response(200, "application/json", "", body)).await.ok()?;
        return sock.shutdown().await.ok();
    }
    let error_left = plan.write_error_times == 0 || counts.write_errors.load(Relaxed) < plan.write_error_times;
    if let Some(code) = plan.write_error.filter(|_| is_write && error_left) {
        counts.write_errors.fetch_add(1, Relaxed);
        let body = serde_json::json!({"results": [], "errors": [{"code": code, "message": plan.write_error_message}]});
        drop(leaving);
        let answer = raw_response(plan.write_error_status, "application/json", "", body.to_string().as_bytes());
        sock.write_all(&answer).await.ok()?;
        return sock.shutdown().await.ok();
    }
    if let Some(status) = plan.answer {
        counts.answered.fetch_add(1, Relaxed);
        let retry_after = format!("Retry-After: {}\r\n", plan.retry_after_s);
        let body = format!("{status} from the proxy");
        sock.write_all(&raw_response(status, "text/plain", &retry_after, body.as_bytes())).await.ok()?;
        return sock.shutdown().await.ok();
    }
    let fault = if next_rand(rng) % 1000 < plan.fault_per_mille {
        Some(match next_rand(rng) % 5 {
            0 => Fault::Drop,
            1 => Fault::Delay,
            2 => Fault::Unavailable,
            3 => Fault::TooMany,
            _ => Fault::CutAfterForward,
        })
    } else {
        None
    };
    let answer = match fault {
        None => forward(&req, upstream, client, counts).await,
        Some(Fault::Drop) => {
            counts.dropped.fetch_add(1, Relaxed);
            return None; // socket dropped: connection closed with no answer
        }
        Some(Fault::Delay) => {
            counts.delayed.fetch_add(1, Relaxed);
            tokio::time::sleep(std::time::Duration::from_millis(plan.delay_ms)).await;
            forward(&req, upstream, client, counts).await
        }
        Some(Fault::Unavailable) => {
            counts.unavailable.fetch_add(1, Relaxed);
            raw_response(503, "text/plain", "", b"Service Unavailable")
        }
        Some(Fault::TooMany) => {
            counts.too_many.fetch_add(1, Relaxed);
            raw_response(429, "text/plain", &format!("Retry-After: {}\r\n", plan.retry_after_s), b"Too Many Requests")
        }
        Some(Fault::CutAfterForward) => {
            let _ = forward(&req, upstream, client, counts).await;
            counts.cut.fetch_add(1, Relaxed);
            return None; // Neo4j has committed; the client never hears of it
        }
    };
    // Counted down before the answer leaves: once the client reads it, it may send its next
    // request at once, which must not find this one still counted (a false "3 in flight").
    drop(leaving);
    sock.write_all(&answer).await.ok()?;
    sock.shutdown().await.ok()
}
