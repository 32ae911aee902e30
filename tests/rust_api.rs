#![cfg(not(target_arch = "wasm32"))]
//! The Rust API as a tokio application uses it: one logger shared across spawned tasks, the
//! builder, the deadline, `Serialize` details, and a clear error outside a runtime. Against the
//! real Neo4j, reading the graph back with independent Cypher.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use neo4j_audit::{
    AuditError, AuditEvent, AuditLogger, AuditLoggerBuilder, BatchConfig, RetryConfig, User, VerifyQuery,
};
use serde_json::{json, Value};

// Compile-time: what a multi-threaded server needs from the logger and its futures.
const _: () = {
    const fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<AuditLogger>();
    shareable::<AuditError>();
};
fn assert_send<F: Send>(f: F) -> F {
    f
}

fn builder(trail_prefix: &str) -> (AuditLoggerBuilder, String) {
    let trail = unique(trail_prefix);
    let b = AuditLogger::builder(neo4j_url()).basic_auth(neo4j_user(), neo4j_password()).trail(&trail);
    (b, trail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_spawned_tasks_share_one_logger() {
    let (b, trail) = builder("spawned");
    let logger = b.build().unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let logger = logger.clone();
            tokio::spawn(assert_send(async move {
                let user = User::new(format!("u-{}", i % 5));
                logger.log_user_action(Some(&user), "SPAWNED", Some("TEST"), Some(&json!({"i": i}))).await
            }))
        })
        .collect();
    let mut uids = BTreeSet::new();
    for t in tasks {
        let ev = t.await.expect("task ran").expect("event committed");
        uids.insert(ev.uid);
    }
    assert_eq!(uids.len(), 50);
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) \
         RETURN e.UID, e.details, e.seq, e.streamId ORDER BY e.seq",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows.len(), 50);
    let stored: BTreeSet<String> = rows.iter().map(|r| r[0].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored, uids, "exactly the events the calls returned");
    let is: BTreeSet<i64> = rows
        .iter()
        .map(|r| serde_json::from_str::<Value>(r[1].as_str().unwrap()).unwrap()["i"].as_i64().unwrap())
        .collect();
    assert_eq!(is, (0..50).collect());
    // One stream, seq 0..49 with no gap or duplicate, whatever thread each call ran on.
    let seqs: Vec<i64> = rows.iter().map(|r| r[2].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r[3] == rows[0][3]));
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok && report.checked == 50, "{report:?}");
    assert_eq!(logger.stats().committed, 50);
}

#[tokio::test]
async fn serialize_details_through_an_action() {
    #[derive(serde::Serialize)]
    struct Changed<'a> {
        document_id: &'a str,
        fields: Vec<&'a str>,
        size: u32,
    }
    let (b, trail) = builder("action");
    let logger = b.build().unwrap();
    let user = User::new("user-123").name("John Doe");
    let ev = logger
        .action("DOCUMENT_MODIFIED")
        .user(&user)
        .category("DOCUMENT_MANAGEMENT")
        .details(&Changed { document_id: "doc-456", fields: vec!["title"], size: 7 })
        .await
        .unwrap();
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, e.eventType, e.eventCategory, e.userUID, e.details",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0][..4],
        [json!(ev.uid), json!("DOCUMENT_MODIFIED"), json!("DOCUMENT_MANAGEMENT"), json!("user-123")]
    );
    let details: Value = serde_json::from_str(rows[0][4].as_str().unwrap()).unwrap();
    assert_eq!(details, json!({"document_id": "doc-456", "fields": ["title"], "size": 7}));
    // Details that are not a JSON object are refused before anything is sent.
    let e = logger.action("X").details(&[1, 2, 3]).await.unwrap_err();
    assert!(matches!(e, AuditError::InvalidInput(_)), "{e:?}");
    let unserialisable = std::collections::BTreeMap::from([(vec![1u8], 1)]); // keys must be strings
    let e = logger.action("X").details(&unserialisable).log().await.unwrap_err();
    assert!(matches!(e, AuditError::InvalidInput(_)), "{e:?}");
    // Both are calls that failed, counted like any refused input (the second one was not).
    assert_eq!(logger.stats().failed, 2);
    assert_eq!(logger.chain_head().next_seq, 1, "neither took a seq");

    // Found by review (session 57): stored in the order the value gives its fields (a struct's,
    // as declared). Through a `serde_json::Value` they were sorted unless serde_json's
    // `preserve_order` was on, which the crate turned on in every program depending on it.
    #[derive(serde::Serialize)]
    struct Moved {
        to: &'static str,
        from: &'static str,
        at: f32,
    }
    let ev = logger.action("DOCUMENT_MOVED").details(&Moved { to: "b", from: "a", at: 0.1 }).await.unwrap();
    // (`0.1` as `serde_json::to_string` writes an f32; through a `Value` it was widened to
    // `0.10000000149011612`.)
    let want = r#"{"to":"b","from":"a","at":0.1}"#;
    assert_eq!(ev.details.as_deref(), Some(want));
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent {UID: $u}) RETURN e.details",
        json!({"t": trail, "u": ev.uid}),
    )
    .await;
    assert_eq!(rows[0][0].as_str(), Some(want));
    // A member name twice in one object (a flattened map holding a field's name) is refused, as
    // in details given as text; a `Value` kept the last one.
    #[derive(serde::Serialize)]
    struct Flat {
        id: u8,
        #[serde(flatten)]
        extra: std::collections::BTreeMap<&'static str, u8>,
    }
    let e = logger.action("X").details(&Flat { id: 1, extra: [("id", 2)].into() }).await.unwrap_err();
    assert!(
        matches!(&e, AuditError::InvalidInput(m) if m.starts_with("details give the member name \"id\" twice")),
        "{e:?}"
    );
    assert_eq!((logger.stats().failed, logger.chain_head().next_seq), (3, 2));
}

/// Found by review (integrity48): a `Serialize` value holding a float that JSON cannot carry
/// (NaN, ±Infinity: a ratio divided by zero) was stored with `null` in its place — serde_json's
/// value serializer turns it into `Null` — and the call returned `Ok`, an audit record silently
/// other than what was logged. The JavaScript logger refuses the same details ("details contain
/// NaN or Infinity, which JSON cannot represent") and the Worker refuses a number that is not
/// finite; so does the Rust API now, before anything is chained or sent.
#[tokio::test]
async fn details_holding_nan_or_infinity_are_refused_not_stored_as_null() {
    #[derive(serde::Serialize)]
    struct Metrics {
        document_id: &'static str,
        ratio: f64,
        rates: Vec<f32>,
    }
    let (b, trail) = builder("nan");
    let logger = b.build().unwrap();
    for m in [
        Metrics { document_id: "doc-1", ratio: f64::NAN, rates: vec![] },
        Metrics { document_id: "doc-1", ratio: f64::INFINITY, rates: vec![] },
        Metrics { document_id: "doc-1", ratio: 0.5, rates: vec![1.0, f32::NEG_INFINITY] },
    ] {
        let e = logger.action("METRICS").details(&m).await.unwrap_err();
        assert!(
            matches!(&e, AuditError::InvalidInput(m) if m == "details contain NaN or Infinity, which JSON cannot represent"),
            "{e:?}"
        );
    }
    let rows = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.details", json!({"t": trail})).await;
    assert_eq!(rows, Vec::<Vec<Value>>::new(), "nothing stored");
    assert_eq!((logger.stats().failed, logger.chain_head().next_seq), (3, 0), "refused, no seq taken");
    // Finite floats are stored as given.
    logger.action("METRICS").details(&Metrics { document_id: "doc-1", ratio: 0.5, rates: vec![1.5] }).await.unwrap();
    let rows = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.details", json!({"t": trail})).await;
    let details: Value = serde_json::from_str(rows[0][0].as_str().unwrap()).unwrap();
    assert_eq!(details, json!({"document_id": "doc-1", "ratio": 0.5, "rates": [1.5]}));
}

/// A retry policy that, unbounded, would keep retrying a refused connection for a minute.
fn patient() -> RetryConfig {
    RetryConfig { max_attempts: 1000, max_elapsed_ms: 60_000, base_delay_ms: 100, max_delay_ms: 5_000 }
}

/// A logger on `url` (the test Neo4j's credentials) with [`patient`] retries, `timeout` and
/// `deadline`: its first call's error, the logger, and how long the call took.
async fn first_failure(url: &str, timeout: Duration, deadline: Duration) -> (AuditError, AuditLogger, Duration) {
    let logger = AuditLogger::builder(url)
        .basic_auth(neo4j_user(), neo4j_password())
        .timeout(timeout)
        .retry(patient())
        .deadline(deadline)
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = logger.log_user_action(None, "X", None, None).await.unwrap_err();
    (e, logger, t0.elapsed())
}

#[tokio::test]
async fn deadline_bounds_the_whole_call_against_a_closed_port() {
    // Nothing listens on the port: every attempt is refused at once, and without a deadline the
    // policy above would retry it for 60 s.
    let (_reserved, addr) = refusing_addr();
    let port = addr.port();
    let url = format!("http://127.0.0.1:{port}");
    let (e, logger, took) = first_failure(&url, Duration::from_millis(500), Duration::from_secs(1)).await;
    assert!(matches!(e, AuditError::Network(_) | AuditError::Timeout(_)), "{e:?}");
    assert!(logger.stats().retried >= 1, "it did retry within the deadline");
    // Generous: far below the 60 s the policy alone allows.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// An `https://` URL on a port that serves plain HTTP (here the test Neo4j's own HTTP port): the
/// TLS handshake gets an HTTP answer. Before, that was a network error like any other, retried
/// until the deadline with rustls' bare "received corrupt message of type InvalidContentType".
/// Now it fails at once, saying what is wrong and what to do.
#[tokio::test]
async fn an_https_url_on_a_plain_http_port_fails_at_once_and_says_so() {
    let url = neo4j_url().replacen("http://", "https://", 1);
    assert!(url.starts_with("https://"), "{url}");
    let (e, logger, took) = first_failure(&url, Duration::from_secs(5), Duration::from_secs(30)).await;
    let reason = logger.reason(&e);
    assert!(matches!(e, AuditError::Network(_)), "{e:?}");
    assert!(
        reason.contains("the server answered the TLS handshake in plain HTTP")
            && reason.contains("use http://, or the server's TLS port"),
        "{reason}"
    );
    assert!(!e.is_retryable());
    assert_eq!(logger.stats().retried, 0, "not retried");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(logger.ensure_schema().await.is_err());
}

/// A server that answers every request 404 with `page` (a proxy's or another service's page).
async fn answering_404(content_type: &str, page: &str) -> FakeServer {
    let answer = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    FakeServer::start(Some(answer)).await
}

/// A url with a path is kept as a reverse proxy's prefix (the requests go to
/// `<prefix>/db/<database>/…`); when that prefix is wrong, the proxy answers 404 with its own
/// page. Before, the reason was that page's start alone ("HTTP 404: <html>…"), naming no cause;
/// now it says the url's path is likely wrong, at the first call, without retrying.
#[tokio::test]
async fn a_404_from_a_proxy_in_front_of_neo4j_says_the_urls_path_is_likely_wrong() {
    let proxy =
        answering_404("text/html", "<html><head><title>404 Not Found</title></head><body>nginx</body></html>").await;
    let url = format!("{}/neo4j-wrong/", proxy.url);
    let (e, logger, took) = first_failure(&url, Duration::from_secs(5), Duration::from_secs(30)).await;
    let reason = logger.reason(&e);
    assert!(reason.starts_with("HTTP 404: <html>"), "{reason}");
    assert!(reason.ends_with("this url's path is likely wrong)"), "{reason}");
    assert!(!e.is_retryable());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let seen = proxy.seen.lock().unwrap().clone();
    assert!(seen.len() <= 2, "not retried: {seen:?}");
    assert!(seen.iter().all(|s| s.head.starts_with("POST /neo4j-wrong/db/neo4j/")), "the prefix is kept: {seen:?}");
}

/// Found by a new user: a url without a path whose server answers 404 (another service on that
/// port) was told "this url's path is likely wrong", a path the url does not have; the CLI
/// already said "is not Neo4j's HTTP API". Now the library says so too.
#[tokio::test]
async fn a_404_at_a_url_without_a_path_says_the_port_is_not_neo4j() {
    let other = answering_404("text/plain", "Cannot POST /db/neo4j/tx/commit").await;
    let url = format!("{}/", other.url);
    let (e, logger, took) = first_failure(&url, Duration::from_secs(5), Duration::from_secs(30)).await;
    let reason = logger.reason(&e);
    assert_eq!(
        reason,
        "HTTP 404: Cannot POST /db/neo4j/tx/commit (the url has no path, and Neo4j serves /db/… at its base URL: \
         the server on this port is not Neo4j's HTTP API; check the host and port, Neo4j's HTTP port is 7474 by default)"
    );
    assert!(!e.is_retryable());
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn deadline_abandons_a_hung_request_with_a_timeout_carrying_it() {
    let hung = FakeServer::start(None).await;
    let logger = AuditLogger::builder(&hung.url)
        .timeout(Duration::from_secs(60))
        .retry(patient())
        .deadline(Duration::from_millis(400))
        .build()
        .unwrap();
    let e = logger.log_user_action(None, "X", None, None).await.unwrap_err();
    assert_eq!(e, AuditError::Timeout(Duration::from_millis(400)));
    assert_eq!(logger.reason(&e), "timeout: no answer from Neo4j within 400 ms");
    assert_eq!(hung.requests(), 1);
}

#[test]
fn outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let logger = AuditLogger::builder(neo4j_url()).basic_auth(neo4j_user(), neo4j_password()).build().unwrap();
    let e = futures::executor::block_on(logger.log_user_action(None, "X", None, None)).unwrap_err();
    assert_eq!(e, AuditError::NoRuntime);
    assert!(e.to_string().contains("Tokio"), "{e}");
    assert_eq!(futures::executor::block_on(logger.ensure_schema()), Err(AuditError::NoRuntime));
    assert_eq!(logger.stats().failed, 1);
    // Refused before the event took its place in the hash chain: it took seq 0, which was never
    // stored, and the honest trail verified `deleted` at seq 0 from then on.
    let e = futures::executor::block_on(logger.action("X").details(&json!({"a": 1})).log()).unwrap_err();
    assert_eq!(e, AuditError::NoRuntime);
    assert_eq!(logger.chain_head().next_seq, 0, "no seq taken by a call that could not be sent");
    assert_eq!(logger.stats().failed, 2);
}

/// A Tokio runtime without I/O enabled: Tokio panics where the transport connects. The call
/// panicked with it ("IO is disabled"); it is `NoRuntime`, as the docs promise (never a panic).
#[test]
fn a_runtime_without_io_is_an_error_not_a_panic() {
    // A trail of its own: before runtime34 the refused call left a stream with a gap at its seq 0.
    let (b, _) = builder("rust-no-io");
    let logger = b.build().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let e = rt.block_on(logger.log_user_action(None, "NO_IO", None, None)).unwrap_err();
    assert_eq!(e, AuditError::NoRuntime);
    // So do the schema step and the reads (they panicked with Tokio's "IO is disabled").
    assert_eq!(rt.block_on(logger.ensure_schema()).unwrap_err(), AuditError::NoRuntime);
    let q = neo4j_audit::TrailQuery { limit: Some(1), ..Default::default() };
    assert_eq!(rt.block_on(logger.get_audit_trail(&q)).unwrap_err(), AuditError::NoRuntime);
    assert_eq!(rt.block_on(logger.verify_trail(&VerifyQuery::default())).unwrap_err(), AuditError::NoRuntime);
    // The logger still works on a proper runtime afterwards.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(logger.log_user_action(None, "WITH_IO", None, None)).unwrap();
}

/// Found by runtime34: on a Tokio runtime without I/O or without time the call failed
/// `NoRuntime` (Tokio panicked in the transport's first step), but only after its event had
/// taken its `seq` in the logger's hash chain; it was never stored. Once the same logger logged
/// on a proper runtime (or a logger resumed from its `StreamStore`, which had saved the advanced
/// state, after a restart), the honest trail verified as `deleted` at that `seq`: a false tamper
/// alarm. Now such a runtime is refused before the event is chained: the stream starts at 0.
#[test]
fn a_runtime_without_io_or_time_takes_no_seq() {
    use neo4j_audit::chain::StreamState;
    use tokio::runtime::Builder;
    let proper = Builder::new_current_thread().enable_all().build().unwrap();
    let degraded = [
        ("no-io", Builder::new_current_thread().enable_time().build().unwrap()),
        ("no-time", Builder::new_current_thread().enable_io().build().unwrap()),
        ("no-io-multi", Builder::new_multi_thread().worker_threads(1).enable_time().build().unwrap()),
    ];
    for (what, rt) in &degraded {
        for restart in [false, true] {
            let (b, trail) = builder(&format!("rust-{what}-seq"));
            let store = MemoryStore::default();
            let resumed = |b: AuditLoggerBuilder| {
                b.resume_stream(StreamState::for_trail(&trail), Some(Box::new(store.clone()))).build().unwrap()
            };
            let logger = if restart { resumed(b) } else { b.build().unwrap() };
            for _ in 0..2 {
                let e = rt.block_on(logger.log_user_action(None, "DEGRADED", None, None)).unwrap_err();
                assert_eq!(e, AuditError::NoRuntime, "{what}");
                let e = rt.block_on(logger.action("DEGRADED").details(&json!({"a": 1})).log()).unwrap_err();
                assert_eq!(e, AuditError::NoRuntime, "{what}");
            }
            assert_eq!(logger.chain_head().next_seq, 0, "{what}: no seq taken by a call that could not be sent");
            assert_eq!(logger.stats().failed, 4, "{what}");
            // Closing there is an answer too, never a panic (close_within's bound is a timer;
            // other loggers, so that this one goes on below).
            for _ in 0..8 {
                let other = builder(&format!("rust-{what}-close")).0.build().unwrap();
                let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rt.block_on(async {
                        other.flush().await;
                        other.close_within(std::time::Duration::from_millis(50)).await;
                        other.close().await
                    })
                }));
                assert!(closed.is_ok(), "{what}: close_within panicked");
            }
            // The same logger on a proper runtime, or after a restart a logger resumed from its store.
            let logger = if restart {
                resumed(AuditLogger::builder(neo4j_url()).basic_auth(neo4j_user(), neo4j_password()).trail(&trail))
            } else {
                logger
            };
            proper.block_on(async {
                let ev = logger.log_user_action(None, "PROPER", None, None).await.unwrap();
                assert_eq!(ev.seq, Some(0), "{what} restart {restart}");
                let rows = cypher(
                    "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.seq, e.eventType ORDER BY e.seq",
                    json!({"t": trail}),
                )
                .await;
                assert_eq!(rows, vec![vec![json!(0), json!("PROPER")]], "{what} restart {restart}");
                let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
                let breaks: Vec<_> = report.streams.iter().filter_map(|s| s.first_break.clone()).collect();
                assert!(report.ok && report.checked == 1 && breaks.is_empty(), "{what} restart {restart}: {breaks:?} {report:?}");
            });
        }
    }
}

/// Credentials never in `Debug`: a password given where the URL goes (the builder's argument
/// and `basic_auth`'s swapped, or the wrong environment variable read) was printed as given by
/// `{:?}` of the builder and of its config (only a user, query or fragment written into a URL was
/// masked); an action's details were printed as given, before redaction (`{password: …}`).
#[tokio::test]
async fn debug_shows_no_password_given_as_the_url_nor_unredacted_details() {
    let pw = "Tr0ub4dor&3-x9";
    let swapped = AuditLogger::builder(pw).basic_auth("neo4j", "http://127.0.0.1:7474");
    let d = format!("{swapped:?}");
    assert!(!d.contains(pw) && d.contains(r#"url: "*** (not a URL)""#), "{d}");
    assert!(!format!("{:?}", swapped.config()).contains(pw));
    let e = swapped.build().unwrap_err().to_string();
    assert!(e.starts_with("invalid config: url ") && !e.contains(pw), "{e}");
    // A URL is shown as before: scheme, host, port and path; a user, query or fragment masked.
    let (b, _) = builder("dbg-url");
    let d = format!("{b:?}");
    assert!(d.contains(&format!("url: {:?}", neo4j_url())) && !d.contains(&neo4j_password()), "{d}");
    let logger = b.build().unwrap();
    let secret = json!({"password": "pw-in-details-1", "note": format!("neo4j://neo4j:{}@db", neo4j_password())});
    let action = logger.action("DEBUGGED").details(&secret).category("dbg");
    let d = format!("{action:?}");
    assert!(!d.contains("pw-in-details-1") && !d.contains(&neo4j_password()), "{d}");
    assert!(d.contains(r#"action_type: "DEBUGGED""#) && d.contains(r#"details: Ok(Some("…"))"#), "{d}");
}

/// A `StreamStore` in memory, shared by its clones (a process's saved stream state).
#[derive(Clone, Default)]
struct MemoryStore(std::sync::Arc<std::sync::Mutex<Option<neo4j_audit::chain::StreamState>>>);

impl neo4j_audit::chain::StreamStore for MemoryStore {
    fn load(&self) -> Option<neo4j_audit::chain::StreamState> {
        self.0.lock().unwrap().clone()
    }
    fn save(&self, state: &neo4j_audit::chain::StreamState) {
        *self.0.lock().unwrap() = Some(state.clone());
    }
}

/// A plain http:// URL to another machine would carry the Neo4j password (or token) in
/// cleartext: the builder refuses it, without echoing the secret, unless told the network is
/// trusted. Loopback http and https need nothing.
#[test]
fn builder_refuses_plain_http_to_a_remote_host_unless_allowed() {
    let remote = || AuditLogger::builder("http://neo4j.internal:7474").basic_auth("neo4j", "pw-secret-42");
    let e = remote().build().unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid config: url: http:// would send the password unencrypted to \"neo4j.internal\"; \
         use https://, or set allow_insecure_http(true) for a trusted private network"
    );
    let e = AuditLogger::builder("http://10.0.0.7:7474").bearer("tok-secret-42").build().unwrap_err().to_string();
    assert!(e.contains("would send the token unencrypted to \"10.0.0.7\"") && !e.contains("tok-secret-42"), "{e}");
    // Without credentials too: events written over cleartext can be altered or forged in transit.
    let e = AuditLogger::builder("http://neo4j.internal:7474").build().unwrap_err().to_string();
    assert!(e.contains("unencrypted and unauthenticated"), "{e}");
    let logger = remote().allow_insecure_http(true).build().unwrap();
    assert!(logger.config().allow_insecure_http);
    assert!(!format!("{:?}", remote().allow_insecure_http(true)).contains("pw-secret-42"));
    remote().allow_insecure_http(false).build().unwrap_err();
    for url in ["https://neo4j.internal:7473", "http://localhost:7474", "http://127.0.0.1:7474", "http://[::1]:7474"] {
        AuditLogger::builder(url).basic_auth("neo4j", "pw").build().unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn builder_validates_every_setting() {
    let ok = |b: AuditLoggerBuilder| b.build().map(|_| ()).map_err(|e| e.to_string());
    let base = || AuditLogger::builder("http://127.0.0.1:7474").basic_auth("neo4j", "pw-secret-9");
    assert_eq!(ok(base()), Ok(()));
    for (b, why) in [
        (base().deadline(Duration::ZERO), "deadline"),
        (base().deadline(Duration::from_secs(2 * 86_400)), "deadline"),
        (base().timeout(Duration::from_micros(10)), "timeout (ms) must be an integer between 1 and 600000"),
        (base().trail(""), "trail"),
        (base().database("no/such"), "database"),
        (base().bearer("tok"), "bearer token is exclusive with basic_auth"),
        (AuditLogger::builder("http://u:p@h:7474"), "credentials"),
    ] {
        let e = ok(b).unwrap_err();
        assert!(e.starts_with("invalid config") && e.contains(why), "{e}");
        assert!(!e.contains("pw-secret-9"));
    }
    let b = base().trail("t1").redact(["ssn"]).max_details_bytes(1000);
    assert!(b.config().validate().is_ok());
    assert!(!format!("{b:?}").contains("pw-secret-9"));
    let logger = b.build().unwrap();
    assert_eq!((logger.config().trail.as_str(), logger.config().max_details_bytes), ("t1", 1000));
    assert_eq!(logger.config().redact.as_deref(), Some(&["ssn".to_owned()][..]));
    // A clone is the same logger: closing one closes all.
    let clone = logger.clone();
    assert!(!clone.is_closed());
    futures::executor::block_on(logger.close());
    assert!(clone.is_closed());
    // After close: refused before the hash chain (a refused event takes no `seq`), and the
    // schema step is refused too; the head stays where the last real event left it.
    let head = clone.chain_head();
    let e = futures::executor::block_on(clone.log_user_action(None, "AFTER_CLOSE", None, None)).unwrap_err();
    assert!(matches!(e, neo4j_audit::AuditError::Closed), "{e}");
    assert_eq!(clone.chain_head(), head);
    let e = futures::executor::block_on(clone.ensure_schema()).unwrap_err();
    assert!(matches!(e, neo4j_audit::AuditError::Closed), "{e}");
}

/// A Rust caller is told the Rust names of what is wrong (the builder's method, the field), not
/// the JavaScript keys it never wrote: `timeout`, not `timeoutMs`; `retry.max_attempts`, not
/// `retry.maxAttempts`. The same rules (one table, src/config.rs), spelled for who set them.
#[test]
fn config_errors_name_the_rust_settings() {
    let base = || AuditLogger::builder("http://127.0.0.1:7474").basic_auth("neo4j", "pw-secret-9");
    let retry = RetryConfig::default();
    let batch = BatchConfig::default();
    for (b, want) in [
        (base().timeout(Duration::ZERO), "timeout (ms) must be an integer between 1 and 600000"),
        (base().max_details_bytes(0), "max_details_bytes must be an integer between 1 and "),
        (
            base().retry(RetryConfig { max_attempts: 0, ..retry.clone() }),
            "retry.max_attempts must be an integer between 1 and 1000",
        ),
        (
            base().retry(RetryConfig { max_elapsed_ms: u64::MAX, ..retry.clone() }),
            "retry.max_elapsed_ms must be an integer between 0 and 86400000",
        ),
        (
            base().retry(RetryConfig { base_delay_ms: 500, max_delay_ms: 100, ..retry.clone() }),
            "retry.max_delay_ms must be an integer between retry.base_delay_ms and 3600000",
        ),
        (
            base().batch(BatchConfig { max_events: 0, ..batch.clone() }),
            "batch.max_events must be an integer between 1 and 10000",
        ),
        (
            base().batch(BatchConfig { max_bytes: 1, ..batch.clone() }),
            "batch.max_bytes must be an integer between 1024 and 67108864",
        ),
        (
            base().batch(BatchConfig { flush_interval_ms: 60_001, ..batch.clone() }),
            "batch.flush_interval_ms must be an integer between 0 and 60000",
        ),
        (
            base().batch(BatchConfig { max_in_flight: 0, ..batch.clone() }),
            "batch.max_in_flight must be an integer between 1 and 16",
        ),
        (base().bearer("tok"), "bearer token is exclusive with basic_auth"),
        (AuditLogger::builder("http://127.0.0.1:7474").bearer(" "), "bearer token is empty"),
        (AuditLogger::builder("http://u:p@h:7474"), "url must not carry credentials; use basic_auth or bearer token"),
    ] {
        let config = b.config().clone();
        let e = b.build().unwrap_err().to_string();
        assert!(e.starts_with(&format!("invalid config: {want}")), "{e}");
        // AuditLogger::new and Config::validate say the same.
        assert_eq!(config.validate().unwrap_err().to_string(), e);
        assert_eq!(AuditLogger::new(config).unwrap_err().to_string(), e);
    }
}

/// The verify API's own types are named from the crate root, as the README's Rust snippet and
/// the docs of `VerifyQuery::public_keys` and `AuditLogger::verify_trail_page` need: they lived
/// only in the hidden `read` module, so a crate user saw `PublicKeys` / `VerifyProgress` in the
/// docs without a page for either.
#[tokio::test]
async fn verify_types_are_at_the_crate_root() {
    use neo4j_audit::{PublicKeys, VerifyProgress};
    let (b, _trail) = builder("verify-types");
    let logger = b.build().unwrap();
    logger.action("VERIFY_TYPES").await.unwrap();
    let jwk = neo4j_audit::sign::SigningKey::from_secret("k-test", &"07".repeat(32)).unwrap().public_jwk();
    let q = VerifyQuery { public_keys: Some(PublicKeys::from(vec![jwk])), allow_unsigned: true, ..Default::default() };
    let start: Option<VerifyProgress> = None;
    let (report, next) = logger.verify_trail_page(&q, start, 1000).await.unwrap();
    assert!(next.is_none());
    assert_eq!(report.checked, 1, "{report:?}");
}

/// The read side's futures are `Send`, as the log calls' are: an axum handler (whose future
/// must be `Send`) or a `tokio::spawn`ed task can read and verify the trail through the shared
/// logger. `verify_trail` and `verify_trail_page` were not: their state held a `&dyn SealCheck`
/// across `.await`, and `dyn SealCheck` is not `Sync`, so `tokio::spawn(logger.verify_trail(..))`
/// or a handler calling it did not compile ("`dyn SealCheck` cannot be shared between threads
/// safely"); a user had to `block_on` it on a blocking thread. Here each is spawned on a
/// multi-threaded runtime, with and without keys, and its answer compared with the graph (no
/// anchors: `--all-features` includes `worker`, whose build has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_and_verify_futures_are_send_for_spawned_tasks_and_handlers() {
    use neo4j_audit::{PublicKeys, TrailQuery};
    let (b, trail) = builder("send-reads");
    let logger = b.build().unwrap();
    let alice = User::new("alice");
    for i in 0..3 {
        logger.action("SEND_READS").user(&alice).details(&json!({"i": i})).await.unwrap();
    }
    let jwk = neo4j_audit::sign::SigningKey::from_secret("k-send", &"07".repeat(32)).unwrap().public_jwk();
    let l = logger.clone();
    let verified = tokio::spawn(assert_send(async move {
        let plain = l.verify_trail(&VerifyQuery::default()).await?;
        let keyed =
            VerifyQuery { public_keys: Some(PublicKeys::from(vec![jwk])), allow_unsigned: true, ..Default::default() };
        let (paged, next) = l.verify_trail_page(&keyed, None, 1000).await?;
        let head = l.signed_head().await?;
        Ok::<_, AuditError>((plain, paged, next, head))
    }));
    let l = logger.clone();
    let read = tokio::spawn(assert_send(async move {
        let q = TrailQuery::default();
        let trail = l.audit_trail(&q).await?;
        let user = l.user_activity("alice", &q).await?;
        let target = l.target_activity("Document", "nowhere", &q).await?;
        Ok::<_, AuditError>((trail, user, target))
    }));
    let (plain, paged, next, head) = verified.await.unwrap().unwrap();
    let (trail_page, user_page, target_page) = read.await.unwrap().unwrap();
    let stored = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID ORDER BY e.seq DESC",
        json!({"t": trail}),
    )
    .await;
    let stored: Vec<String> = stored.iter().map(|r| r[0].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored.len(), 3);
    assert!(plain.ok && plain.checked == 3, "{plain:?}");
    assert!(paged.ok && paged.checked == 3 && next.is_none(), "{paged:?}");
    assert!(head.is_none(), "a client-written trail has no signed head");
    assert_eq!(trail_page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(), stored);
    assert_eq!(user_page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(), stored);
    assert!(target_page.events.is_empty());
    assert!(logger.close().await);
}

/// The errors a Rust caller gets back never hold the logger's credentials, even when a server
/// echoes them (a debugging proxy answering with the request's headers, an error quoting them):
/// their `Display` and `Debug` are what `?` in `main`, `tracing::error!(?e)` or an axum handler's
/// `e.to_string()` print. Only `logger.reason(&e)` and `last_error()` were scrubbed: the
/// `AuditError` itself held `Basic bmVvNGo6…` (the password in base64) or the bearer token, for the
/// log calls, `ensure_schema`, the reads and `verify_trail` alike.
#[tokio::test]
async fn errors_returned_hold_no_credential_a_server_echoed() {
    use base64::Engine as _;
    use neo4j_audit::TrailQuery;
    let (user, password, token) = ("auditor", "pw-echoed-Secret-77", "tok-echoed-Secret-88");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let echoed = format!("authorization: Basic {basic}; password {password}; bearer {token}");
    let answers = [
        // Not a Neo4j answer: an HTTP error whose body quotes the request.
        http_json(400, "", &json!({"echo": echoed}).to_string()),
        // Neo4j's own error shape, its message quoting them.
        http_json(
            200,
            "",
            &json!({"results": [], "errors": [{"code": "Neo.ClientError.Statement.SyntaxError", "message": echoed}]})
                .to_string(),
        ),
    ];
    for answer in answers {
        let server = FakeServer::start(Some(answer)).await;
        let once = RetryConfig { max_attempts: 1, ..Default::default() };
        let loggers = [
            (
                AuditLogger::builder(&server.url).basic_auth(user, password).retry(once.clone()).build().unwrap(),
                [password, basic.as_str()],
            ),
            (AuditLogger::builder(&server.url).bearer(token).retry(once).build().unwrap(), [token, token]),
        ];
        for (logger, secrets) in loggers {
            let errors = [
                logger.action("ECHOED").await.unwrap_err(),
                logger.log_user_action(None, "ECHOED", None, None).await.unwrap_err(),
                logger.ensure_schema().await.unwrap_err(),
                logger.audit_trail(&TrailQuery::default()).await.unwrap_err(),
                logger.user_activity("u", &TrailQuery::default()).await.unwrap_err(),
                logger.verify_trail(&VerifyQuery::default()).await.unwrap_err(),
            ];
            for e in errors {
                for shown in [e.to_string(), format!("{e:?}"), logger.reason(&e)] {
                    for secret in secrets {
                        assert!(!shown.contains(secret), "{secret} in {shown}");
                    }
                    assert!(shown.contains("***"), "{shown}");
                }
            }
            assert!(!logger.last_error().unwrap().contains(secrets[0]));
        }
        assert!(server.requests() >= 12);
    }
}

/// A nightly verification in Rust keeps heads outside the database and passes them back:
/// `VerifyReport::anchors(&previous)` gives the next night's anchors. There was no way from a
/// report to them (VerifyReport is not `Deserialize`, and a quiet stream's report has no head:
/// building them by hand from `head_seq`/`head_hash` dropped a quiet stream's anchor, and kept a
/// BROKEN stream's damaged head, the two mistakes the CLI's `--anchor` rotation was fixed for).
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
#[tokio::test]
async fn a_report_gives_the_next_runs_anchors_quiet_and_broken_streams_kept() {
    let (b, trail) = builder("report-anchors");
    let logger = b.build().unwrap();
    for i in 0..3 {
        logger.action("NIGHTLY").details(&json!({"i": i})).await.unwrap();
    }
    let night1 = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    let kept = night1.anchors(&[]);
    let stored = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.streamId, e.seq, e.hash, e.UID ORDER BY e.seq DESC",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (json!(kept[0].stream_id), json!(kept[0].seq), json!(kept[0].hash)),
        (stored[0][0].clone(), stored[0][1].clone(), stored[0][2].clone()),
        "the newest stored event"
    );
    assert_eq!(Some(kept[0].clone()), logger.chain_head().anchor());
    // A quiet night: no event in the window; the stream passes at its anchor and keeps it.
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 1000;
    let quiet = VerifyQuery { since: Some(since), anchors: kept.clone(), ..Default::default() };
    let night2 = logger.verify_trail(&quiet).await.unwrap();
    assert!(night2.ok && night2.checked == 0, "{night2:?}");
    assert_eq!(night2.anchors(&kept), kept, "a quiet stream keeps its anchor");
    // Its newest event deleted: BROKEN, and the anchor kept is the good one, not the damaged head.
    cypher("MATCH (e:AuditEvent {UID: $u}) DETACH DELETE e", json!({"u": stored[0][3]})).await;
    let night3 = logger.verify_trail(&VerifyQuery { anchors: kept.clone(), ..Default::default() }).await.unwrap();
    assert!(!night3.ok, "{night3:?}");
    assert_eq!(night3.streams[0].head_seq, Some(1));
    assert_eq!(night3.anchors(&kept), kept, "a broken stream keeps its last good anchor");
    // Anchors of streams the report does not list are kept too.
    let other = neo4j_audit::Anchor { stream_id: "elsewhere".into(), seq: 4, hash: "ab".repeat(32) };
    let listed = neo4j_audit::VerifyReport { streams: vec![], ..night1.clone() };
    assert_eq!(listed.anchors(std::slice::from_ref(&other)), vec![other]);
}

/// `log_user_action(.., Some(&details))` with details nested 100 000 levels deep (a Rust caller
/// can build them; serde_json's parser stops at 128) is refused as invalid input, counted as
/// failed, and sends nothing. It overflowed the stack (the process aborted): the logger cloned the
/// value, and redaction recursed into it, before the depth rule was checked. On a thread with a
/// small stack; the test takes its own value apart level by level (dropping it whole recurses).
#[test]
fn details_nested_far_too_deep_are_refused_not_a_stack_overflow() {
    let (err, failed, deep) = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            // Nothing listens there: a call that got as far as sending would fail otherwise.
            let logger =
                neo4j_audit::AuditLogger::builder("http://127.0.0.1:9").basic_auth("neo4j", "pw").build().unwrap();
            let deep = (0..100_000).fold(Value::from(1), |acc, _| Value::Array(vec![acc]));
            let mut details = serde_json::Map::new();
            details.insert("d".into(), deep);
            let details = Value::Object(details);
            let err = rt.block_on(logger.log_user_action(None, "DEEP", None, Some(&details))).unwrap_err();
            (err, logger.stats().failed, details)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(
        matches!(err, neo4j_audit::AuditError::InvalidInput(ref m) if m.contains("details are nested 100001 levels deep, more than 16")),
        "{err:?}"
    );
    assert_eq!(failed, 1);
    drop_deep(deep);
}

/// `deadline` below 1 ms is refused as its message says ("between 1 ms and 24 h"): it was
/// accepted, counted as 0 ms by the delivery, and every write then failed at once with
/// `Timeout(0ns)` (500 µs against the real Neo4j: `Err(Timeout(0ns))` after 1.4 ms).
#[test]
fn a_deadline_below_one_millisecond_is_refused_as_the_message_says() {
    for d in [Duration::from_nanos(1), Duration::from_micros(999)] {
        let err = AuditLogger::builder(neo4j_url()).deadline(d).build().unwrap_err();
        assert!(
            matches!(err, AuditError::InvalidConfig(ref m) if m == "deadline must be between 1 ms and 24 h"),
            "{d:?}: {err:?}"
        );
    }
    for d in [Duration::from_millis(1), neo4j_audit::MAX_DEADLINE] {
        assert_eq!(AuditLogger::builder(neo4j_url()).deadline(d).build().unwrap().deadline(), Some(d));
    }
    let over = neo4j_audit::MAX_DEADLINE + Duration::from_millis(1);
    assert!(AuditLogger::builder(neo4j_url()).deadline(over).build().is_err());
}

/// The same through the builder, `logger.action(..).details(&value)` (details of any `Serialize`
/// type): with a `serde_json::Value` nested 100 000 levels deep it overflowed the stack (the
/// process aborted) in `serde_json::to_value`, which recursed into it before the depth rule ran.
/// Now serialised with a bound on its nesting and refused as invalid input, counted as failed,
/// with nothing sent and no `seq` taken; a shallow `Serialize` value of the same logger is then
/// written and read back from Neo4j as the stream's first event.
#[test]
fn action_details_nested_far_too_deep_are_refused_not_a_stack_overflow() {
    let (b, trail) = builder("deep-action");
    let (err, stats, head, written, deep) = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let logger = b.build().unwrap();
            let deep = (0..100_000).fold(Value::from(1), |acc, _| Value::Array(vec![acc]));
            let mut details = serde_json::Map::new();
            details.insert("d".into(), deep);
            let details = Value::Object(details);
            let err = rt.block_on(logger.action("DEEP").details(&details).log()).unwrap_err();
            let (stats, head) = (logger.stats(), logger.chain_head().next_seq);
            #[derive(serde::Serialize)]
            enum Change {
                Moved { from: Vec<&'static str> },
            }
            let written =
                rt.block_on(logger.action("SHALLOW").details(&json!({"c": [Change::Moved { from: vec!["a"] }]})).log());
            rt.block_on(logger.close());
            (err, stats, head, written, details)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(
        matches!(err, AuditError::InvalidInput(ref m) if m == "details are nested more than 16 levels deep"),
        "{err:?}"
    );
    assert_eq!((stats.failed, stats.sent), (1, 0));
    assert_eq!(head, 0, "a refused call takes no seq");
    let written = written.unwrap();
    assert_eq!(written.seq, Some(0));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let rows = rt.block_on(cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.details, e.seq",
        json!({"t": trail}),
    ));
    assert_eq!(rows, vec![vec![json!("SHALLOW"), json!(r#"{"c":[{"Moved":{"from":["a"]}}]}"#), json!(0)]]);
    drop_deep(deep);
}

/// A call whose future is dropped before it resolves (`tokio::time::timeout`, `select!`, an axum
/// handler cancelled by a client that went away) still delivers its event: natively each call's
/// delivery runs on a task of its own, and `flush()` waits for calls made before it. It was lost
/// when the dropped call led the batch (a lone call on an idle logger: the common case), together
/// with the events of other dropped calls waiting in that batch; each had taken its `seq`, so
/// `verify_trail` reported the honest trail `deleted` from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_call_still_delivers_its_event_and_the_chain_stays_intact() {
    let (b, trail) = builder("dropped-call");
    let logger = b.build().unwrap();
    logger.ensure_schema().await.unwrap();
    // Lone calls on an idle logger, each dropped after its first poll (it leads its batch).
    for i in 0..5 {
        let details = json!({"i": i});
        let mut call = Box::pin(logger.log_user_action(None, "DROPPED", None, Some(&details)));
        assert!(futures::poll!(call.as_mut()).is_pending(), "a write cannot be done in one poll");
        drop(call);
    }
    // Concurrent calls, every other one cut off by a timeout shorter than a request.
    let tasks: Vec<_> = (5..25)
        .map(|i| {
            let logger = logger.clone();
            tokio::spawn(async move {
                let details = json!({"i": i});
                let call = logger.log_user_action(None, "DROPPED", None, Some(&details));
                if i % 2 == 0 {
                    let _ = tokio::time::timeout(Duration::from_micros(50), call).await;
                } else {
                    call.await.expect("committed");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(logger.flush().await, "{:?}", logger.last_error());
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.seq ORDER BY e.seq",
        json!({"t": trail}),
    )
    .await;
    let seqs: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..25).collect::<Vec<_>>(), "every call's event is stored");
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok && report.checked == 25, "{report:?}");
    assert_eq!(logger.stats().committed, 25);
}

/// The trail's stored UIDs (each counted: a duplicate would show as a count above 1).
async fn stored_uids(trail: &str) -> std::collections::BTreeMap<String, i64> {
    cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, count(*)", json!({"t": trail}))
        .await
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_i64().unwrap()))
        .collect()
}

/// One logger, built outside any runtime, used from several threads at once, each with a
/// current-thread runtime of its own (`block_on` per call, as a CLI or a sync server might).
/// The driver ran on the runtime of the call that started it: a call from another thread was
/// handed to it, and waited while that runtime was not being driven (its thread outside
/// `block_on`), or failed `NoRuntime` once that thread dropped its runtime.
#[test]
fn block_on_from_many_threads_with_their_own_runtimes() {
    let (b, trail) = builder("threads");
    let logger = b.build().unwrap();
    const THREADS: usize = 6;
    const ROUNDS: usize = 8;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let logger = logger.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut uids = Vec::new();
                for r in 0..ROUNDS {
                    // A fresh runtime per round, dropped at its end, as `#[tokio::test]`s do.
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    let res = rt.block_on(async {
                        let details: Vec<Value> = (0..3).map(|i| json!({"t": t, "r": r, "i": i})).collect();
                        let calls = details.iter().map(|d| logger.log_user_action(None, "THREAD", None, Some(d)));
                        tokio::time::timeout(Duration::from_secs(20), futures::future::join_all(calls)).await
                    });
                    let res = res.unwrap_or_else(|_| panic!("thread {t} round {r}: no answer within 20 s"));
                    for ev in res {
                        uids.push(ev.unwrap_or_else(|e| panic!("thread {t} round {r}: {e}")).uid);
                    }
                }
                uids
            })
        })
        .collect();
    let mut mine = std::collections::BTreeSet::new();
    for t in threads {
        mine.extend(t.join().expect("thread ran"));
    }
    assert_eq!(mine.len(), THREADS * ROUNDS * 3);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stored = rt.block_on(stored_uids(&trail));
    assert_eq!(stored.keys().cloned().collect::<std::collections::BTreeSet<_>>(), mine);
    assert!(stored.values().all(|&n| n == 1), "each stored once");
    let s = logger.stats();
    assert_eq!((s.committed, s.failed, s.queued), ((THREADS * ROUNDS * 3) as u64, 0, 0), "{s:?}");
    assert!(rt.block_on(logger.flush()));
}

/// A runtime shut down while calls are in flight: no hang, no panic; the calls it took down
/// count as failed (so `committed + failed` is every event built: the chain's next `seq`) and `queued` goes back to 0;
/// the next runtime's calls are delivered and its flush is `true`.
#[test]
fn a_runtime_shut_down_with_calls_in_flight_then_a_new_one_works() {
    let (b, trail) = builder("shutdown");
    let logger = b.build().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        for i in 0..300 {
            let logger = logger.clone();
            tokio::spawn(async move { logger.log_user_action(None, "CUT", None, Some(&json!({"i": i}))).await });
        }
        let t0 = Instant::now();
        while logger.stats().sent == 0 && t0.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let t0 = Instant::now();
    drop(rt);
    assert!(t0.elapsed() < Duration::from_secs(5), "shutdown took {:?}", t0.elapsed());
    let s = logger.stats();
    assert_eq!(s.queued, 0, "{s:?}");
    let built = logger.chain_head().next_seq;
    assert!(built > 0);
    assert_eq!(s.committed + s.failed, built, "every call accounted for: {s:?}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for i in 0..5 {
            logger.log_user_action(None, "AFTER", None, Some(&json!({"i": i}))).await.expect("delivered");
        }
        assert!(logger.flush().await);
        let stored = stored_uids(&trail).await;
        assert!(stored.values().all(|&n| n == 1), "each stored once");
        let after = cypher(
            "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent {eventType: 'AFTER'}) RETURN count(e)",
            json!({"t": trail}),
        )
        .await;
        assert_eq!(after[0][0], json!(5));
    });
    let s = logger.stats();
    assert_eq!((s.queued, s.committed + s.failed), (0, built + 5), "{s:?}");
}

/// The driver is a task only while there is work: after each call it has ended (the runtime's
/// live tasks are back to the fake server's listener), and a new call starts it again; many
/// calls in a row leave no task behind.
#[test]
fn the_driver_task_ends_when_idle_and_restarts() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // Neo4j's answer to a write it refuses: rejected for good, no retry (Connection: close,
        // so no pooled connection task stays either).
        let answer = http_json(
            200,
            "",
            r#"{"results":[],"errors":[{"code":"Neo.ClientError.Statement.SyntaxError","message":"no"}]}"#,
        );
        let server = FakeServer::start(Some(answer)).await;
        let logger = AuditLogger::builder(&server.url).basic_auth("neo4j", "pw").build().unwrap();
        let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
        let settle = || async {
            for _ in 0..100 {
                if alive() == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        settle().await;
        assert_eq!(alive(), 1, "the fake server's listener");
        for round in 0..50 {
            assert!(logger.log_user_action(None, "REFUSED", None, None).await.is_err());
            settle().await;
            assert_eq!(alive(), 1, "round {round}: the driver (and its requests) ended");
        }
        assert!(server.requests() >= 50);
        assert!(!logger.flush().await || logger.stats().failed == 50);
        settle().await;
        assert_eq!(alive(), 1, "a flush's driver ends too");
        let s = logger.stats();
        assert_eq!((s.failed, s.queued), (50, 0), "{s:?}");
    });
}

/// `flush` waits for every call handed over before it (here: spawned tasks that have taken
/// their first step), and then all of them are committed and in the graph.
#[tokio::test]
async fn flush_waits_for_the_calls_in_flight() {
    let (b, trail) = builder("flushwait");
    let logger = b.build().unwrap();
    for i in 0..100 {
        let logger = logger.clone();
        tokio::spawn(async move { logger.log_user_action(None, "FLUSHED", None, Some(&json!({"i": i}))).await });
    }
    // On this current-thread runtime, yields let each spawned call take its first step (the
    // hand-over).
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(logger.chain_head().next_seq, 100, "all handed over");
    assert!(logger.flush().await);
    let s = logger.stats();
    assert_eq!((s.committed, s.failed, s.queued), (100, 0, 0), "{s:?}");
    assert_eq!(stored_uids(&trail).await.len(), 100);
    assert_eq!(logger.last_error(), None);
}

/// Every handle of a logger dropped while its events wait (their calls dropped too, after the
/// hand-over): the driver holds the logger until it has delivered them, then ends, and the
/// logger with it.
#[tokio::test]
async fn a_logger_dropped_with_events_waiting_still_delivers_them() {
    let (b, trail) = builder("dropped");
    let logger = b.build().unwrap();
    for i in 0..20 {
        // `timeout` polls the call once (the hand-over), then drops it.
        let details = json!({"i": i});
        let call = logger.log_user_action(None, "ORPHANED", None, Some(&details));
        let _ = tokio::time::timeout(Duration::ZERO, call).await;
    }
    drop(logger);
    let t0 = Instant::now();
    let mut n = 0;
    while t0.elapsed() < Duration::from_secs(10) {
        n = stored_uids(&trail).await.len();
        if n == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(n, 20, "delivered after the last handle was dropped");
}

/// A 429 with `Retry-After: 1`: the next attempt waits the second the server asked for.
#[tokio::test]
async fn retry_after_is_honoured() {
    let server = FakeServer::start(Some(http_json(429, "Retry-After: 1\r\n", "{}"))).await;
    let logger = AuditLogger::builder(&server.url)
        .basic_auth("neo4j", "pw")
        .retry(RetryConfig { max_attempts: 2, max_elapsed_ms: 10_000, base_delay_ms: 10, max_delay_ms: 50 })
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = logger.log_user_action(None, "LIMITED", None, None).await.unwrap_err();
    let took = t0.elapsed();
    assert_eq!(server.requests(), 2, "{e}");
    assert!(took >= Duration::from_millis(950), "the retry came after {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let s = logger.stats();
    assert_eq!((s.sent, s.retried, s.failed, s.queued), (2, 1, 1, 0), "{s:?}");
}

/// `flush` while the server is unreachable: `false`, with the delivery's reason in
/// `last_error`; every call failed, nothing left queued.
#[tokio::test]
async fn flush_is_false_with_a_reason_when_calls_fail() {
    let (_reserved, addr) = refusing_addr();
    let logger = AuditLogger::builder(format!("http://{addr}"))
        .basic_auth("neo4j", "pw")
        // The retry waits long enough that no call can end before `flush` starts, even with the
        // test's thread preempted between the yields below on a loaded machine.
        .retry(RetryConfig { max_attempts: 2, max_elapsed_ms: 5_000, base_delay_ms: 300, max_delay_ms: 300 })
        .build()
        .unwrap();
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let logger = logger.clone();
            tokio::spawn(async move { logger.log_user_action(None, "UNREACHABLE", None, None).await })
        })
        .collect();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!logger.flush().await);
    assert!(logger.last_error().is_some_and(|e| e.starts_with("network")), "{:?}", logger.last_error());
    for c in calls {
        assert!(c.await.unwrap().is_err());
    }
    let s = logger.stats();
    assert_eq!((s.failed, s.committed, s.queued), (5, 0, 0), "{s:?}");
}

/// `close` waits for the calls handed over before it, then refuses new ones (`Closed`) on
/// every clone.
#[tokio::test]
async fn close_waits_for_the_calls_before_it_and_refuses_new_ones() {
    let (b, trail) = builder("close");
    let logger = b.build().unwrap();
    for i in 0..50 {
        let logger = logger.clone();
        tokio::spawn(async move { logger.log_user_action(None, "BEFORE_CLOSE", None, Some(&json!({"i": i}))).await });
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(logger.chain_head().next_seq, 50);
    let clone = logger.clone();
    assert!(logger.close().await);
    assert_eq!(stored_uids(&trail).await.len(), 50);
    assert_eq!(clone.log_user_action(None, "AFTER_CLOSE", None, None).await.unwrap_err(), AuditError::Closed);
    let s = logger.stats();
    assert_eq!((s.committed, s.failed, s.queued), (50, 1, 0), "{s:?}");
}

/// `n` calls of `action` spawned on `rt` (details `{"i": i}` when `numbered`), once all are
/// handed over to the logger (their `seq` taken): the calls' handles.
fn spawn_handed_over(
    rt: &tokio::runtime::Runtime,
    logger: &AuditLogger,
    n: u64,
    action: &'static str,
    numbered: bool,
) -> Vec<tokio::task::JoinHandle<Result<AuditEvent, AuditError>>> {
    let calls = (0..n)
        .map(|i| {
            let logger = logger.clone();
            let details = numbered.then(|| json!({"i": i}));
            rt.spawn(async move { logger.log_user_action(None, action, None, details.as_ref()).await })
        })
        .collect();
    let t0 = Instant::now();
    while logger.chain_head().next_seq < n && t0.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    assert_eq!(logger.chain_head().next_seq, n, "all handed over");
    calls
}

/// `flush` on one runtime waits for the calls another runtime's driver holds (each runtime has
/// its own: the flush asks every running one).
#[test]
fn flush_on_one_runtime_waits_for_calls_on_another() {
    let (b, trail) = builder("flushacross");
    let logger = b.build().unwrap();
    let mt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let calls = spawn_handed_over(&mt, &logger, 100, "ACROSS", true);
    let ct = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert!(ct.block_on(logger.flush()));
    let s = logger.stats();
    assert_eq!((s.committed, s.failed, s.queued), (100, 0, 0), "flushed on another runtime: {s:?}");
    for c in calls {
        mt.block_on(c).unwrap().unwrap();
    }
    assert_eq!(ct.block_on(stored_uids(&trail)).len(), 100);
}

/// `flush()` and `close()` awaited outside any runtime (a synchronous shutdown path's
/// `futures::executor::block_on`, a `Drop` impl) while the logger's events wait on a runtime of
/// their own: they returned `true` at once, with the events still queued (and then failing or
/// committing unseen). They wait for the drivers on the other runtimes, as a flush from another
/// runtime does, and say what those say.
#[test]
fn flush_and_close_outside_a_runtime_wait_for_the_deliveries_on_a_runtime() {
    let (b, trail) = builder("flushoutside");
    // The events wait 300 ms for company before their request: still queued when the flush runs.
    let logger = b.batch(BatchConfig { flush_interval_ms: 300, ..Default::default() }).build().unwrap();
    let mt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let calls = spawn_handed_over(&mt, &logger, 20, "OUTSIDE", true);
    assert!(futures::executor::block_on(logger.flush()));
    let s = logger.stats();
    assert_eq!((s.committed, s.failed, s.queued), (20, 0, 0), "flush outside a runtime waited: {s:?}");
    assert_eq!(mt.block_on(stored_uids(&trail)).len(), 20, "stored when flush() returned");
    for c in calls {
        mt.block_on(c).unwrap().unwrap();
    }

    // close(), with a call that fails: `false`, the reason in last_error.
    let unreachable = AuditLogger::builder("http://127.0.0.1:9")
        .retry(RetryConfig { max_attempts: 1, ..Default::default() })
        .batch(BatchConfig { flush_interval_ms: 300, ..Default::default() })
        .build()
        .unwrap();
    let call = spawn_handed_over(&mt, &unreachable, 1, "OUTSIDE", false).remove(0);
    assert!(!futures::executor::block_on(unreachable.close()), "close() outside a runtime saw the failure");
    assert_eq!(unreachable.stats().failed, 1);
    let reason = unreachable.last_error().unwrap_or_default();
    assert!(reason.starts_with("network error:"), "{reason}");
    assert!(mt.block_on(call).unwrap().is_err());

    // close_within() outside a runtime keeps its bound: the drivers give up at it on their runtime.
    let (url, _) = mt.block_on(hung_counting_closes());
    let hung = AuditLogger::builder(url).timeout(Duration::from_secs(30)).build().unwrap();
    let call = {
        let l = hung.clone();
        mt.spawn(async move { l.log_user_action(None, "HUNG", None, None).await })
    };
    let t0 = Instant::now();
    while hung.stats().sent < 1 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    let t0 = Instant::now();
    assert!(!futures::executor::block_on(hung.close_within(Duration::from_millis(300))));
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(mt.block_on(call).unwrap().unwrap_err(), AuditError::Timeout(Duration::from_millis(300)));
    assert!(hung.last_error().is_some_and(|e| e.starts_with("timeout")), "{:?}", hung.last_error());
}

/// Many threads calling `Handle::block_on` on one shared multi-thread runtime at once: one
/// driver serves them all; each call resolves `Ok`, each event stored once.
#[test]
fn block_on_from_many_threads_on_one_shared_runtime() {
    let (b, trail) = builder("sharedrt");
    let logger = b.build().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (logger, handle) = (logger.clone(), rt.handle().clone());
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        let d = json!({"t": t, "i": i});
                        handle.block_on(logger.log_user_action(None, "SHARED_RT", None, Some(&d))).unwrap().uid
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mine: std::collections::BTreeSet<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(mine.len(), 80);
    let stored = rt.block_on(stored_uids(&trail));
    assert_eq!(stored.keys().cloned().collect::<std::collections::BTreeSet<_>>(), mine);
    assert!(stored.values().all(|&n| n == 1));
    assert_eq!(logger.stats().committed, 80);
}

/// Hundreds of calls at once against a hung server with a deadline: every call ends with the
/// deadline's `Timeout` in about that time (not one deadline per batch in turn), nothing is
/// left queued, and `last_error` says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_bounds_every_concurrent_call_against_a_hung_server() {
    let hung = FakeServer::start(None).await;
    let logger = AuditLogger::builder(&hung.url)
        .timeout(Duration::from_secs(60))
        .retry(patient())
        .deadline(Duration::from_millis(600))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let calls: Vec<_> = (0..300)
        .map(|i| {
            let logger = logger.clone();
            tokio::spawn(async move { logger.log_user_action(None, "HUNG", None, Some(&json!({"i": i}))).await })
        })
        .collect();
    for c in futures::future::join_all(calls).await {
        assert_eq!(c.unwrap().unwrap_err(), AuditError::Timeout(Duration::from_millis(600)));
    }
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let s = logger.stats();
    assert_eq!((s.failed, s.committed, s.queued), (300, 0, 0), "{s:?}");
    assert!(logger.last_error().is_some_and(|e| e.starts_with("timeout")), "{:?}", logger.last_error());
    // Nothing waits and no batch fails during this flush: `true`, and `last_error` cleared.
    assert!(logger.flush().await);
    assert_eq!(logger.last_error(), None);
}

/// A server that reads each request and never answers; the count is of the connections the
/// client closed (a request it cancelled, rather than left to its `timeout`).
async fn hung_counting_closes() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = closed.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
    });
    (url, closed)
}

/// Waits until `n` holds at least `at_least` (at most `ms`); whether it did.
async fn reaches(n: &std::sync::atomic::AtomicUsize, at_least: usize, ms: u64) -> bool {
    let t0 = Instant::now();
    while n.load(std::sync::atomic::Ordering::SeqCst) < at_least && t0.elapsed() < Duration::from_millis(ms) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    n.load(std::sync::atomic::Ordering::SeqCst) >= at_least
}

/// `close_within` returns at its bound against a server that never answers: the calls under way
/// end with a `Timeout` carrying the bound (as `last_error` does), the counters are final, the
/// request in flight is cancelled (its connection closed now, not after the 60 s `timeout`),
/// and the logger is closed.
#[tokio::test]
async fn close_within_gives_up_at_its_bound_and_cancels_the_request_in_flight() {
    let (url, closed) = hung_counting_closes().await;
    let logger = AuditLogger::builder(&url).timeout(Duration::from_secs(60)).retry(patient()).build().unwrap();
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let logger = logger.clone();
            tokio::spawn(async move { logger.log_user_action(None, "HUNG", None, Some(&json!({"i": i}))).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    assert!(!logger.close_within(Duration::from_millis(300)).await);
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "took {took:?}");
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap_err(), AuditError::Timeout(Duration::from_millis(300)));
    }
    assert_eq!(logger.last_error().as_deref(), Some("timeout: no answer from Neo4j within 300 ms"));
    let s = logger.stats();
    assert_eq!((s.failed, s.committed, s.queued), (3, 0, 0), "{s:?}");
    assert!(reaches(&closed, 1, 2000).await, "the request given up on was cancelled");
    assert_eq!(logger.log_user_action(None, "AFTER", None, None).await.unwrap_err(), AuditError::Closed);
}

/// `close_within`'s bound holds for the calls outside the delivery too: an `ensure_schema()` and
/// a read waiting for a server that never answers (each on a connection of its own) are
/// cancelled at the bound (their connections closed, not left to the 60 s `timeout`), return
/// `Timeout` with the bound, and `close_within` says `false` with that reason. (Before: it
/// answered `true` at once, the delivery being idle, and both calls went on for 60 s.)
#[tokio::test]
async fn close_within_cancels_a_schema_step_and_a_read_in_flight_at_its_bound() {
    let (url, closed) = hung_counting_closes().await;
    let logger = AuditLogger::builder(&url).timeout(Duration::from_secs(60)).retry(patient()).build().unwrap();
    let l = logger.clone();
    let schema = tokio::spawn(async move { l.ensure_schema().await });
    let l = logger.clone();
    let read = tokio::spawn(async move { l.get_audit_trail(&neo4j_audit::TrailQuery::default()).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    assert!(!logger.close_within(Duration::from_millis(300)).await);
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "took {took:?}");
    for call in [schema, read] {
        let r = tokio::time::timeout(Duration::from_secs(2), call).await.expect("the call ended with close_within");
        assert_eq!(r.unwrap().unwrap_err(), AuditError::Timeout(Duration::from_millis(300)));
    }
    assert_eq!(logger.last_error().as_deref(), Some("timeout: no answer from Neo4j within 300 ms"));
    assert!(reaches(&closed, 2, 2000).await, "both requests were cancelled: {closed:?}");
    // Nothing under way: `true` at once, as before.
    let (url, _) = hung_counting_closes().await;
    let logger = AuditLogger::builder(&url).build().unwrap();
    let t0 = Instant::now();
    assert!(logger.close_within(Duration::from_millis(300)).await);
    assert!(t0.elapsed() < Duration::from_millis(250), "{:?}", t0.elapsed());
    assert_eq!(logger.last_error(), None);
}

/// The same awaited outside any runtime (`futures::executor::block_on` in a synchronous shutdown
/// path) while a read waits on a runtime: it returned `true` at once (its bound is a Tokio timer,
/// so it was skipped there) and the read went on for its 60 s `timeout`.
#[test]
fn close_within_outside_a_runtime_cancels_a_read_in_flight_at_its_bound() {
    let mt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (url, closed) = mt.block_on(hung_counting_closes());
    let logger = AuditLogger::builder(&url).timeout(Duration::from_secs(60)).retry(patient()).build().unwrap();
    let l = logger.clone();
    let read = mt.spawn(async move { l.get_audit_trail(&neo4j_audit::TrailQuery::default()).await.map(|_| ()) });
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    assert!(!futures::executor::block_on(logger.close_within(Duration::from_millis(300))));
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "took {took:?}");
    let r = mt.block_on(async { tokio::time::timeout(Duration::from_secs(2), read).await });
    assert_eq!(
        r.expect("the read ended with close_within").unwrap().unwrap_err(),
        AuditError::Timeout(Duration::from_millis(300))
    );
    assert_eq!(logger.last_error().as_deref(), Some("timeout: no answer from Neo4j within 300 ms"));
    assert!(mt.block_on(reaches(&closed, 1, 2000)), "the read's request was cancelled: {closed:?}");
    // Nothing under way: `true` at once.
    let logger = AuditLogger::builder(&url).build().unwrap();
    let t0 = Instant::now();
    assert!(futures::executor::block_on(logger.close_within(Duration::from_millis(300))));
    assert!(t0.elapsed() < Duration::from_millis(250), "{:?}", t0.elapsed());
}

/// A request the builder's deadline gave up on is cancelled too, not left open until `timeout`.
#[tokio::test]
async fn a_request_past_the_deadline_is_cancelled() {
    let (url, closed) = hung_counting_closes().await;
    let logger = AuditLogger::builder(&url)
        .timeout(Duration::from_secs(60))
        .retry(patient())
        .deadline(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = logger.log_user_action(None, "HUNG", None, None).await.unwrap_err();
    assert_eq!(e, AuditError::Timeout(Duration::from_millis(300)));
    assert!(reaches(&closed, 1, 2000).await, "the request given up on was cancelled");
}

/// Found by red team 25: a resumed stream state (a file the application kept, or what its
/// `StreamStore` loads) whose next `seq` is beyond what the chain can store made every call fail
/// or panic: `u64::MAX` panicked inside `log_user_action` ("attempt to add with overflow"; a
/// release build wrapped to `seq` 0 instead), and any `seq` above `i64::MAX` was refused by Neo4j
/// for good ("Unsupported type of Number"), so every event of that logger was lost. Now `build()`
/// refuses such a state (`InvalidConfig`), and a store that loads one is not followed: the
/// logger's own state goes on, each event stored and the chain intact.
#[tokio::test]
async fn a_resumed_stream_beyond_the_storable_seq_is_refused_not_a_panic_or_lost_events() {
    use neo4j_audit::chain::{StreamState, StreamStore, GENESIS, MAX_SEQ};
    for next_seq in [u64::MAX, 1 << 63, MAX_SEQ + 1] {
        let (b, _) = builder("rust-bad-seq");
        let st = StreamState { stream_id: neo4j_audit::random::uuid_v4(), next_seq, head: GENESIS.into() };
        match b.resume_stream(st, None).build() {
            Err(AuditError::InvalidConfig(m)) => assert!(m.contains("next_seq"), "{m}"),
            other => panic!("{next_seq}: {other:?}"),
        }
    }
    // The largest storable seq is stored and verifies.
    let (b, trail) = builder("rust-max-seq");
    let st = StreamState { stream_id: neo4j_audit::random::uuid_v4(), next_seq: MAX_SEQ, head: GENESIS.into() };
    let logger = b.resume_stream(st, None).build().unwrap();
    let ev = logger.log_user_action(None, "AT_MAX_SEQ", None, None).await.unwrap();
    assert_eq!(ev.seq, Some(MAX_SEQ));
    let rows =
        cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.seq, valueType(e.seq)", json!({"t": trail}))
            .await;
    assert_eq!(rows, vec![vec![json!(MAX_SEQ), json!("INTEGER NOT NULL")]]);
    // A store that loads a state beyond it (corrupted, or written by hand) is not followed.
    struct Corrupt;
    impl StreamStore for Corrupt {
        fn load(&self) -> Option<StreamState> {
            Some(StreamState { stream_id: "s".into(), next_seq: u64::MAX, head: GENESIS.into() })
        }
        fn save(&self, _: &StreamState) {}
    }
    let (b, trail) = builder("rust-corrupt-store");
    let logger = b.resume_stream(StreamState::fresh(), Some(Box::new(Corrupt))).build().unwrap();
    for i in 0..3u64 {
        let ev = logger.log_user_action(None, "AFTER_CORRUPT_LOAD", None, None).await.unwrap();
        assert_eq!(ev.seq, Some(i));
    }
    let n = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
    assert_eq!(n[0][0], 3);
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok && report.checked == 3, "{report:?}");
}

/// A resumed stream state whose head is not a hash (64 lower-case hex digits, what every event's
/// `hash` is; `chain::GENESIS` before the first event) is refused by `build()`, naming the
/// field; a store that loads one is not followed. Before, `build()` took any text: the next
/// event was stored with it as `prevHash`, and hashed over it, so the resumed stream began with
/// a link no event of it matches.
#[tokio::test]
#[cfg(feature = "read")]
async fn a_resumed_stream_with_a_malformed_head_is_refused() {
    use neo4j_audit::chain::{StreamState, StreamStore};
    let good = "0123456789abcdef".repeat(4);
    let bad = [
        String::new(),
        "not-a-hash".to_owned(),
        good[..63].to_owned(),
        format!("{good}0"),
        good.to_uppercase(),
        format!("{}g", &good[..63]),
        format!("{}é", &good[..62]),
        format!(" {}", &good[..63]),
    ];
    for head in bad {
        let (b, trail) = builder("rust-bad-head");
        let st =
            StreamState { stream_id: neo4j_audit::chain::trail_stream_id(&trail), next_seq: 5, head: head.clone() };
        match b.resume_stream(st, None).build() {
            Err(AuditError::InvalidConfig(m)) => {
                assert!(m.starts_with("resume_stream: head is not a hash"), "{head:?}: {m}")
            }
            other => panic!("{head:?}: {other:?}"),
        }
    }
    // A real head resumes: the second logger's event links to the first's, and the trail verifies.
    let (b, trail) = builder("rust-good-head");
    let first = b.build().unwrap();
    let a = first.log_user_action(None, "BEFORE_RESTART", None, None).await.unwrap();
    let again = AuditLogger::builder(neo4j_url())
        .basic_auth(neo4j_user(), neo4j_password())
        .trail(&trail)
        .resume_stream(first.chain_head(), None)
        .build()
        .unwrap();
    let b2 = again.log_user_action(None, "AFTER_RESTART", None, None).await.unwrap();
    assert_eq!((b2.seq, b2.prev_hash.as_deref()), (Some(1), a.hash.as_deref()));
    let report = again.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
    // A store that loads a malformed head is not followed: the logger's own state goes on.
    struct Corrupt(String);
    impl StreamStore for Corrupt {
        fn load(&self) -> Option<StreamState> {
            Some(StreamState { stream_id: self.0.clone(), next_seq: 7, head: "not-a-hash".into() })
        }
        fn save(&self, _: &StreamState) {}
    }
    let (b, trail) = builder("rust-corrupt-head-store");
    let id = neo4j_audit::chain::trail_stream_id(&trail);
    let logger = b.resume_stream(StreamState::for_trail(&trail), Some(Box::new(Corrupt(id)))).build().unwrap();
    for i in 0..2u64 {
        let ev = logger.log_user_action(None, "AFTER_CORRUPT_HEAD", None, None).await.unwrap();
        assert_eq!(ev.seq, Some(i));
    }
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.prevHash ORDER BY e.seq",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[0] != "not-a-hash"), "{rows:?}");
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
}

/// `close_within` giving up on an event that never reached Neo4j (every attempt refused, the
/// event waiting out its retry's backoff at the bound) says what happened: its last attempt's
/// failure and that it was waiting to be sent again, not "no answer from Neo4j", which it never
/// waited for. The call still returns `Timeout(bound)`, as documented.
#[tokio::test]
async fn close_within_giving_up_on_events_never_sent_says_what_happened() {
    let (_held, addr) = refusing_addr();
    let logger = AuditLogger::builder(format!("http://{addr}"))
        .retry(RetryConfig { max_attempts: 20, max_elapsed_ms: 600_000, base_delay_ms: 60_000, max_delay_ms: 60_000 })
        .build()
        .unwrap();
    let call = tokio::spawn({
        let logger = logger.clone();
        async move { logger.log_user_action(None, "NEVER_SENT", None, None).await }
    });
    let start = Instant::now();
    while logger.stats().retried == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no refused attempt: {:?}", logger.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!logger.close_within(Duration::from_millis(300)).await);
    let res = call.await.unwrap();
    assert!(matches!(res, Err(AuditError::Timeout(d)) if d == Duration::from_millis(300)), "{res:?}");
    let why = logger.last_error().unwrap_or_default();
    assert!(!why.contains("no answer"), "{why}");
    assert!(why.starts_with("timeout: given up at close()'s bound (300 ms)"), "{why}");
    assert!(why.contains("waiting to be sent again") && why.contains("network error: "), "{why}");
}

/// Two loggers sharing one `StreamStore` (its documented use: "several loggers sharing one store
/// continue one chain instead of forking it"), logging at once on a multi-threaded runtime: one
/// stream, every `seq` once. Before, each logger read the store, chained and saved under its own
/// lock, so both took the same `seq` now and then: `inserted` for `verify_trail`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg(feature = "read")]
async fn loggers_sharing_one_stream_store_on_many_threads_do_not_fork_it() {
    use neo4j_audit::chain::StreamState;
    let store = MemoryStore::default();
    let trail = unique("rust-shared-store");
    let start = StreamState::for_trail(&trail);
    let loggers: Vec<AuditLogger> = (0..2)
        .map(|_| {
            AuditLogger::builder(neo4j_url())
                .basic_auth(neo4j_user(), neo4j_password())
                .trail(&trail)
                .resume_stream(start.clone(), Some(Box::new(store.clone())))
                .build()
                .unwrap()
        })
        .collect();
    // Every call a task of its own, so the two loggers' calls are chained on several threads at once.
    let tasks: Vec<_> = (0..320)
        .map(|i| {
            let l = loggers[i % 2].clone();
            tokio::spawn(async move { l.log_user_action(None, "SHARED_STORE", None, None).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let report = loggers[0].verify_trail(&VerifyQuery::default()).await.unwrap();
    let breaks: Vec<_> = report.streams.iter().filter_map(|s| s.first_break.clone()).collect();
    assert!(report.ok && report.streams.len() == 1 && report.checked == 320, "{breaks:?} {report:?}");
    assert_eq!(report.streams[0].head_seq, Some(319));
}

/// A saved stream state of another trail (the trail renamed in the configuration, or one store
/// for loggers of two trails): `resume_stream` with it is refused by `build()`, and a state a
/// store loads of another trail's stream is not followed. Before, the logger went on with that
/// stream: its events verified as `forged` at `seq` 0 in its own trail ("the stream's id binds it
/// to another trail"), and with a shared store the two trails' streams took each other's `seq`s
/// (`deleted` in both).
#[tokio::test]
#[cfg(feature = "read")]
async fn a_stream_state_of_another_trail_is_not_continued() {
    use neo4j_audit::chain::StreamState;
    let builder =
        |trail: &str| AuditLogger::builder(neo4j_url()).basic_auth(neo4j_user(), neo4j_password()).trail(trail);
    let (a, b) = (unique("rust-store-trail-a"), unique("rust-store-trail-b"));
    // resume_stream with another trail's saved head: refused, naming the setting.
    let first = builder(&a).build().unwrap();
    first.log_user_action(None, "BEFORE_RESTART", None, None).await.unwrap();
    match builder(&b).resume_stream(first.chain_head(), None).build() {
        Err(AuditError::InvalidConfig(m)) => {
            assert!(m.starts_with(&format!("resume_stream: the stream is bound to another trail than \"{b}\"")), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // One store for a logger of each trail, calls alternating: each trail keeps a stream of its own.
    let store = MemoryStore::default();
    let la = builder(&a).resume_stream(StreamState::for_trail(&a), Some(Box::new(store.clone()))).build().unwrap();
    let lb = builder(&b).resume_stream(StreamState::for_trail(&b), Some(Box::new(store.clone()))).build().unwrap();
    for _ in 0..3 {
        la.log_user_action(None, "IN_A", None, None).await.unwrap();
        lb.log_user_action(None, "IN_B", None, None).await.unwrap();
    }
    for l in [&la, &lb] {
        let report = l.verify_trail(&VerifyQuery::default()).await.unwrap();
        let breaks: Vec<_> = report.streams.iter().filter_map(|s| s.first_break.clone()).collect();
        assert!(report.ok && report.checked >= 3 && breaks.is_empty(), "{}: {breaks:?} {report:?}", l.config().trail);
    }
    let b_streams = lb.verify_trail(&VerifyQuery::default()).await.unwrap().streams;
    assert_eq!((b_streams.len(), b_streams[0].head_seq), (1, Some(2)), "{b_streams:?}");
}

/// Drops a value nested far deeper than the stack allows `Value`'s recursive drop to go, one
/// level at a time.
fn drop_deep(mut v: Value) {
    loop {
        v = match v {
            Value::Object(mut m) => match m.values_mut().next() {
                Some(x) => x.take(),
                None => break,
            },
            Value::Array(mut a) => match a.pop() {
                Some(x) => x,
                None => break,
            },
            _ => break,
        };
    }
}

/// How the graph links the event `uid`: its trails' names, its users' UIDs and its targets'
/// UIDs, each sorted (one event stored once must have one trail and at most one user).
async fn links_of(uid: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let rows = cypher(
        "MATCH (e:AuditEvent {UID: $uid}) \
         RETURN [(t:AuditTrail)-[:HAS_EVENT]->(e) | t.name], [(e)-[:PERFORMED_BY]->(u:User) | u.UID], \
         [(e)-[:ON]->(x) | x.UID]",
        json!({"uid": uid}),
    )
    .await;
    assert_eq!(rows.len(), 1, "one stored event {uid}: {rows:?}");
    let sorted = |v: &Value| {
        let mut v: Vec<String> = v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    (sorted(&rows[0][0]), sorted(&rows[0][1]), sorted(&rows[0][2]))
}

/// A second write of a stored UID with other content (another trail, another user, other
/// targets, another hash: a direct writer's `write` of events it built, or a queued record)
/// links nothing and is refused, naming the event; the stored event keeps its one trail, its one
/// user and its targets. An honest retry (the same event) stays exactly once, and adds the
/// `PERFORMED_BY` that was missing when the user node did not exist yet. Both trails still
/// verify. (Before the fix each such write was `Ok` and linked the stored event to a second
/// trail, a second user and other targets.)
#[tokio::test]
async fn a_stored_uid_written_again_with_other_content_is_refused_and_links_nothing() {
    let (u1, u2, u3) = (unique("merge-u1"), unique("merge-u2"), unique("merge-u3"));
    let (d1, d2) = (unique("merge-d1"), unique("merge-d2"));
    cypher(
        "CREATE (:User {UID: $u1}), (:User {UID: $u2}), (:Document {UID: $d1}), (:Document {UID: $d2})",
        json!({"u1": u1, "u2": u2, "d1": d1, "d2": d2}),
    )
    .await;
    let (b1, t1) = builder("merge-a");
    let (b2, t2) = builder("merge-b");
    let (l1, l2) = (b1.build().unwrap(), b2.build().unwrap());
    let opts = neo4j_audit::LogOptions::default().target(neo4j_audit::Target::new("Document", &d1));
    let ev = l1.log_user_action_with(Some(&User::new(&u1)), "DOC_READ", None, None, &opts).await.unwrap();
    assert!(ev.hash.is_some(), "a logger's events are chained: {ev:?}");
    let stored = (vec![t1.clone()], vec![u1.clone()], vec![d1.clone()]);
    assert_eq!(links_of(&ev.uid).await, stored);

    let refused = |r: Result<(), AuditError>, what: &str| match r {
        Err(e @ AuditError::InvalidInput(_)) => {
            assert!(e.is_rejection() && !e.is_retryable(), "{what}: {e:?}");
            let m = e.to_string();
            assert!(m.contains(&ev.uid) && m.contains("already stored with other content"), "{what}: {m}");
        }
        other => panic!("{what}: expected the write refused, got {other:?}"),
    };
    // Another trail, another user: what a direct writer holding Neo4j credentials could do.
    let mut other = ev.clone();
    other.user_uid = Some(u2.clone());
    refused(l2.write(std::slice::from_ref(&other)).await, "another trail and user");
    // The same trail, another user; the same user, another trail.
    refused(l1.write(std::slice::from_ref(&other)).await, "another user");
    refused(l2.write(std::slice::from_ref(&ev)).await, "another trail");
    // Other targets, another hash: the same trail and user.
    let mut moved = ev.clone();
    moved.targets = vec![neo4j_audit::Target::new("Document", &d2)];
    refused(l1.write(std::slice::from_ref(&moved)).await, "other targets");
    let mut rehashed = ev.clone();
    rehashed.hash = Some("0".repeat(64));
    refused(l1.write(std::slice::from_ref(&rehashed)).await, "another hash");
    // In one batch with an honest new event: that one is written (once), the other refused.
    let fresh = AuditEvent::build(Some(&User::new(&u1)), "DOC_READ", None, None, 65536).unwrap();
    refused(l2.write(&[fresh.clone(), other.clone()]).await, "in a batch");
    assert_eq!(links_of(&fresh.uid).await, (vec![t2.clone()], vec![u1.clone()], vec![]));
    assert_eq!(links_of(&ev.uid).await, stored, "the stored event keeps its one trail, user and target");

    // An honest retry: the same event, exactly once.
    l1.write(std::slice::from_ref(&ev)).await.unwrap();
    assert_eq!(links_of(&ev.uid).await, stored);
    // A user node made after its event: the retry adds the missing PERFORMED_BY (the user the
    // stored event names, so nothing is attributed anew).
    let late = l1.log_user_action(Some(&User::new(&u3)), "LOGIN", None, None).await.unwrap();
    assert_eq!(links_of(&late.uid).await, (vec![t1.clone()], vec![], vec![]));
    cypher("CREATE (:User {UID: $u})", json!({"u": u3})).await;
    l1.write(std::slice::from_ref(&late)).await.unwrap();
    assert_eq!(links_of(&late.uid).await, (vec![t1.clone()], vec![u3.clone()], vec![]));

    let stored_props =
        cypher("MATCH (e:AuditEvent {UID: $uid}) RETURN e.userUID, e.hash, e.targetKeys", json!({"uid": ev.uid})).await;
    assert_eq!(stored_props[0], vec![json!(u1), json!(ev.hash), json!([format!("Document:{d1}")])]);
    // Each trail verifies, with its own events only.
    let r1 = l1.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(r1.ok && r1.checked == 2 && r1.unchained == 0, "{r1:?}");
    // The other trail holds only the batch's new event (unchained: built, not sealed, so the
    // report is not ok), not the refused copy of the first trail's.
    let r2 = l2.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(!r2.ok && r2.checked == 0 && r2.streams.is_empty(), "{r2:?}");
    assert_eq!(r2.unchained_uids, vec![fresh.uid.clone()]);
}

/// The write statement's db hits per event (PROFILE, new events into a new trail, the user
/// node existing), for batches of 1 and 100; printed, and bounded (the statement's doc comment
/// cites the figure).
#[tokio::test]
async fn the_write_statements_db_hits_per_event() {
    let (b, _) = builder("merge-profile-schema");
    b.build().unwrap().log_user_action(None, "SCHEMA", None, None).await.unwrap();
    let u = unique("merge-profile-u");
    cypher("CREATE (:User {UID: $u})", json!({"u": u})).await;
    fn hits(p: &Value) -> u64 {
        p["DbHits"].as_u64().unwrap_or(0) + p["children"].as_array().into_iter().flatten().map(hits).sum::<u64>()
    }
    for n in [1usize, 100] {
        let evs: Vec<AuditEvent> =
            (0..n).map(|_| AuditEvent::build(Some(&User::new(&u)), "X", None, None, 65536).unwrap()).collect();
        let st = neo4j_audit::cypher::write_events(&Default::default(), &unique("merge-profile"), &evs).unwrap();
        let resp = post_statement(&neo4j_url(), &format!("PROFILE {}", st.text), &st.parameters).await.unwrap();
        assert_eq!(resp["errors"], json!([]), "{resp}");
        let total = hits(&resp["results"][0]["plan"]["root"]);
        eprintln!("write statement, {n} events: {total} db hits ({:.1} per event)", total as f64 / n as f64);
        assert!(total as f64 / (n as f64) < 40.0, "{total} db hits for {n} events");
    }
}

/// Neo4j behind a gateway that signs in with the test's own Basic credentials, whatever the
/// client sent (a logger's password or token may then be anything); one request per connection.
async fn signing_gateway() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let client = client.clone();
            tokio::spawn(async move {
                let (mut buf, mut chunk) = (Vec::new(), [0u8; 8192]);
                let (pos, head, len) = loop {
                    if let Some((pos, head, len)) = http_head(&buf) {
                        if buf.len() >= pos + 4 + len {
                            break (pos, head, len);
                        }
                    }
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let answer = client
                    .post(format!("{}{path}", neo4j_url()))
                    .basic_auth(neo4j_user(), Some(neo4j_password()))
                    .header("content-type", "application/json")
                    .header("accept", "application/json")
                    .body(buf[pos + 4..pos + 4 + len].to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = answer.status().as_u16();
                let text = answer.text().await.unwrap();
                let _ = sock.write_all(http_json(status, "", &text).as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

/// The stored details of `trail`'s events, oldest first.
async fn stored_details(trail: &str) -> Vec<Value> {
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.details ORDER BY e.timestamp",
        json!({"t": trail}),
    )
    .await;
    rows.iter().map(|r| serde_json::from_str(r[0].as_str().unwrap()).unwrap()).collect()
}

/// A bearer token is sent trimmed, but it was looked for as given: one read from a file or a
/// secret store with its line break (`std::fs::read_to_string`) was kept in `details` under a key
/// the redaction list does not name, accepted as a user's uid, and left in an error that echoed
/// the request's `Authorization` header. The Basic credential was looked for only as base64 has
/// it, not percent-encoded (docs/redaction.md: each credential "also percent-encoded").
#[tokio::test]
async fn the_loggers_credentials_are_kept_out_as_they_are_sent_and_percent_encoded() {
    let gateway = signing_gateway().await;
    let tok = "tok-padded-Secret-4711";
    let trail = unique("rs-redact-token");
    for padded in [format!("{tok}\n"), format!(" {tok}\r\n")] {
        let logger = AuditLogger::builder(&gateway).bearer(&padded).trail(&trail).build().unwrap();
        logger
            .action("SIGN_IN")
            .details(&json!({"jwt": tok, "header": format!("Bearer {tok}"), "keep": "k"}))
            .await
            .unwrap();
        let e = logger.action("SIGN_IN").user(&User::new(tok)).await.unwrap_err();
        assert!(matches!(e, AuditError::InvalidInput(_)), "{e:?}");
        assert!(!format!("{e} {e:?}").contains(tok));
        assert!(logger.close().await);
    }
    let details = stored_details(&trail).await;
    let want = json!({"jwt": "[REDACTED]", "header": "[REDACTED]", "keep": "k"});
    assert_eq!(details, [want.clone(), want]);
    // A server echoing the request's Authorization header in its error.
    let echo =
        FakeServer::start(Some(http_json(500, "", &format!(r#"{{"echo":"authorization: Bearer {tok}"}}"#)))).await;
    let once = RetryConfig { max_attempts: 1, ..Default::default() };
    let logger = AuditLogger::builder(&echo.url).bearer(format!("{tok}\n")).retry(once).build().unwrap();
    let e = logger.action("SIGN_IN").await.unwrap_err();
    for shown in [e.to_string(), format!("{e:?}"), logger.reason(&e), logger.last_error().unwrap()] {
        assert!(!shown.contains(tok) && shown.contains("Bearer ***"), "{shown}");
    }
    // The Basic credential percent-encoded (base64's `+`, `/`, `=`), as a query string has it.
    use base64::Engine as _;
    let (user, password) = ("auditor", "Pw/x+Secret1");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let encoded = basic.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    assert_ne!(encoded, basic);
    let trail = unique("rs-redact-basic");
    let logger = AuditLogger::builder(&gateway).basic_auth(user, password).trail(&trail).build().unwrap();
    logger
        .action("EXPORT")
        .details(&json!({"encoded": encoded, "link": format!("https://x.example/cb?auth={encoded}&n=1"),
                         "plain": basic, "keep": "k"}))
        .await
        .unwrap();
    assert!(logger.close().await);
    let r = "[REDACTED]";
    assert_eq!(stored_details(&trail).await, [json!({"encoded": r, "link": r, "plain": r, "keep": "k"})]);
}

/// A number glued to a listed name made one word of them (`password2`), which the name did not
/// match: Django's `password1` / `password2`, a card's `cvv2` and `apiKey2` were stored as sent.
#[tokio::test]
async fn a_number_glued_to_a_listed_name_is_redacted() {
    let (b, trail) = builder("rs-redact-digits");
    let logger = b.build().unwrap();
    let d = json!({"password1": "a", "password2": "a", "cvv2": "123", "apiKey2": "k",
                   "form": [{"db_password2": "x"}], "keep": "k", "tokens_used": 3, "sha256": "s"});
    logger.action("SIGNUP").details(&d).await.unwrap();
    assert!(logger.close().await);
    let r = "[REDACTED]";
    assert_eq!(
        stored_details(&trail).await,
        [json!({"password1": r, "password2": r, "cvv2": r, "apiKey2": r, "form": [{"db_password2": r}],
                "keep": "k", "tokens_used": 3, "sha256": "s"})]
    );
}
