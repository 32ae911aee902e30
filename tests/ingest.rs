//! The ingest handler natively, against the real Neo4j: the same code the Worker runs, with the
//! platform (body, rate limiter, log) supplied by the test so that log lines can be inspected.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use std::cell::RefCell;

use neo4j_audit::ingest::jwt::sign_hs256;
use neo4j_audit::ingest::{handle, Io, ReadError, Request, Settings};
use neo4j_audit::AuditLogger;
use serde_json::json;

const JWT_SECRET: &str = "native-test-jwt-secret-0123456789abcdef";

struct TestIo {
    body: String,
    log: RefCell<Vec<String>>,
}

impl Io for TestIo {
    async fn read_body(&self, limit: usize) -> Result<String, ReadError> {
        if self.body.len() > limit {
            Err(ReadError::TooLarge)
        } else {
            Ok(self.body.clone())
        }
    }
    async fn rate_limit(&self, _key: &str) -> Result<bool, String> {
        Ok(true)
    }
    fn log(&self, line: &str) {
        self.log.borrow_mut().push(line.to_owned());
    }
}

fn settings(trail: &str, password: &str) -> Settings {
    let url = common::neo4j_url();
    let user = common::neo4j_user();
    let trail = trail.to_owned();
    let password = password.to_owned();
    Settings::from_env(move |k| match k {
        "AUDIT_JWT_SECRET" => Some(JWT_SECRET.into()),
        "NEO4J_URL" => Some(url.clone()),
        "NEO4J_USER" => Some(user.clone()),
        "NEO4J_PASSWORD" => Some(password.clone()),
        "AUDIT_TRAIL" => Some(trail.clone()),
        "ALLOWED_ORIGINS" => Some("https://app.example".into()),
        _ => None,
    })
}

fn post(token: &str) -> Request {
    Request {
        method: "POST".into(),
        path: "/v1/events".into(),
        headers: vec![
            ("Authorization".into(), format!("Bearer {token}")),
            ("Content-Type".into(), "application/json; charset=utf-8".into()),
            ("Origin".into(), "https://app.example".into()),
        ],
        ..Default::default()
    }
}

fn now() -> i64 {
    neo4j_audit::event::now_millis() / 1000
}

/// A Worker's settings for a new trail (`prefix` made unique) and the logger it writes with.
fn worker(prefix: &str, password: &str) -> (String, Settings, AuditLogger) {
    let trail = common::unique(prefix);
    let s = settings(&trail, password);
    let logger = AuditLogger::new(s.neo4j.clone().unwrap()).unwrap();
    (trail, s, logger)
}

/// A bearer token with `claims`, for this Worker's audience, valid for a minute.
fn token(mut claims: serde_json::Value) -> String {
    claims["aud"] = json!("neo4j-audit");
    claims["exp"] = json!(now() + 60);
    sign_hs256(JWT_SECRET.as_bytes(), &claims)
}

#[tokio::test]
async fn writes_with_the_token_user_and_logs_nothing_on_success() {
    let (trail, s, logger) = worker("ingest-native", &common::neo4j_password());
    let sub = common::unique("native-user");
    let token = token(json!({"sub": sub, "name": "Nat"}));
    let io = TestIo {
        body: r#"{"events":[{"actionType":"A"},{"actionType":"B","details":{"x":1}}]}"#.into(),
        log: RefCell::default(),
    };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("https://app.example"));
    let rows = common::cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, e.userName ORDER BY e.eventType",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows, vec![vec![json!("A"), json!(sub), json!("Nat")], vec![json!("B"), json!(sub), json!("Nat")]]);
    assert!(io.log.borrow().is_empty());
}

#[tokio::test]
async fn refused_credentials_leave_no_secret_in_the_answer_or_the_log() {
    let wrong_pw = "wrong-neo4j-password-5f3a";
    let (trail, s, logger) = worker("ingest-native-secret", wrong_pw);
    let token = token(json!({"sub": "u"}));
    let io = TestIo { body: r#"{"actionType":"A"}"#.into(), log: RefCell::default() };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let log = io.log.borrow().join("\n");
    assert!(log.contains("authentication failed"), "{log}");
    for secret in [wrong_pw, JWT_SECRET, token.as_str()] {
        assert!(!r.body.contains(secret) && !log.contains(secret), "leaked in {} / {log}", r.body);
    }
    let rows = common::cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": trail})).await;
    assert_eq!(rows, vec![vec![json!(0)]]);
}

/// The Worker's first request on a database without its schema (labels of its own, so nothing
/// else made it): Neo4j refuses the schema guard of the first read (nothing else ran), the schema
/// step makes the constraints and indexes, and the events are written; a later request of the
/// same isolate makes no schema check at all, and a first request where the schema is in place
/// carries it in its first read.
#[tokio::test]
async fn first_request_without_the_schema_creates_it_then_writes() {
    use std::sync::atomic::Ordering::Relaxed;
    let tag = format!("IngestGuard{}", &common::unique("x").replace(['-', '_'], "")[..12]);
    let labels =
        neo4j_audit::Labels { event: format!("{tag}Event"), trail: format!("{tag}Trail"), user: format!("{tag}User") };
    let trail = common::unique("ingest-guard");
    let s = settings(&trail, &common::neo4j_password());
    // Two of the schema's indexes are on relationship types (`ON`, `HAS_EVENT`) and named alike
    // whatever the labels, so on a new database this test's schema transaction could race the
    // other tests' for them (Neo4j: EquivalentSchemaRuleAlreadyExists or a deadlock) and the
    // schema step take its one-statement-at-a-time fallback: more requests than counted below.
    // They are put in place first, outside the proxy, by the default labels' schema step.
    assert!(AuditLogger::new(s.neo4j.clone().unwrap()).unwrap().ensure_schema().await.is_ok());
    let proxy = proxy::FaultProxy::start(&common::neo4j_url(), proxy::Plan::passing(), 7).await;
    let mut cfg = s.neo4j.clone().unwrap();
    cfg.url = proxy.url.clone();
    cfg.labels = labels.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    let token = token(json!({"sub": "guard-user"}));
    let send = |body: &str| TestIo { body: body.into(), log: RefCell::default() };
    let first = handle(&post(&token), &s, now(), &send(r#"{"actionType":"A"}"#), Some(&logger)).await;
    let after_first = proxy.counts.requests.load(Relaxed);
    let second = handle(&post(&token), &s, now(), &send(r#"{"actionType":"B"}"#), Some(&logger)).await;
    let after_second = proxy.counts.requests.load(Relaxed);
    // Another trail (a new isolate's key), the schema now in place: the guard passes.
    let s2 = settings(&common::unique("ingest-guard-2"), &common::neo4j_password());
    let mut cfg2 = s2.neo4j.clone().unwrap();
    cfg2.url = proxy.url.clone();
    cfg2.labels = labels.clone();
    let third =
        handle(&post(&token), &s2, now(), &send(r#"{"actionType":"C"}"#), Some(&AuditLogger::new(cfg2).unwrap())).await;
    let after_third = proxy.counts.requests.load(Relaxed);
    let events = common::cypher(&format!("MATCH (e:{}) RETURN count(e)", labels.event), json!({})).await;
    // Remove what the test made before asserting, so a failure leaves nothing behind.
    let names = common::cypher(
        "SHOW INDEXES YIELD name, labelsOrTypes WHERE any(l IN labelsOrTypes WHERE l STARTS WITH $tag) RETURN name",
        json!({"tag": tag}),
    )
    .await;
    common::cypher(&format!("MATCH (n) WHERE n:{} OR n:{} DETACH DELETE n", labels.event, labels.trail), json!({}))
        .await;
    for n in &names {
        let name = n[0].as_str().unwrap();
        common::cypher(&format!("DROP CONSTRAINT `{name}` IF EXISTS"), json!({})).await;
        common::cypher(&format!("DROP INDEX `{name}` IF EXISTS"), json!({})).await;
    }
    assert_eq!(
        (first.status, second.status, third.status),
        (201, 201, 201),
        "{} / {} / {}",
        first.body,
        second.body,
        third.body
    );
    // The refused guarded read, the constraints and indexes in one transaction, the wait for
    // them, the read again, the write.
    assert_eq!(after_first, 5, "{}", proxy.counts.summary());
    assert_eq!(after_second - after_first, 1, "the write alone (the isolate keeps the head it wrote): no schema check");
    assert_eq!(after_third - after_second, 2, "the guarded read and the write");
    assert_eq!(names.len(), 8, "{names:?}");
    assert_eq!(events[0][0].as_u64(), Some(3));
}

/// A number glued to a listed name made one word of them (`password2`), which the name did not
/// match: a client posting a form's `password1` / `password2`, a card's `cvv2` or an `apiKey2`
/// had them stored as sent (read back from Neo4j).
#[tokio::test]
async fn a_number_glued_to_a_listed_name_is_redacted_by_the_worker() {
    let (trail, s, logger) = worker("ingest-native-digits", &common::neo4j_password());
    let token = token(json!({"sub": common::unique("digits-user")}));
    let body = json!({"actionType": "SIGNUP", "details": {"password1": "a", "password2": "a", "cvv2": "123",
        "form": [{"apiKey2": "k"}], "keep": "k", "sha256": "s"}});
    let io = TestIo { body: body.to_string(), log: RefCell::default() };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rows = common::cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.details",
        json!({"t": trail}),
    )
    .await;
    let d: serde_json::Value = serde_json::from_str(rows[0][0].as_str().unwrap()).unwrap();
    let r = "[REDACTED]";
    assert_eq!(
        d,
        json!({"password1": r, "password2": r, "cvv2": r, "form": [{"apiKey2": r}], "keep": "k", "sha256": "s"})
    );
}

/// A client (not necessarily this library's) posts its own bearer token inside `details`, under
/// a key the redaction list does not name: whoever reads the trail could then write as that user
/// until the token expires. The Worker stores it as "[REDACTED]" (read back from Neo4j), and
/// refuses a member name holding it (400, not quoting it; nothing written). (Before: stored as sent.)
#[tokio::test]
async fn the_bearer_token_is_never_stored_in_an_event() {
    let (trail, mut s, logger) = worker("ingest-native-bearer", &common::neo4j_password());
    let sub = common::unique("bearer-user");
    let token = token(json!({"sub": sub}));
    let body = json!({"events": [
        {"actionType": "A", "details": {"jwt": token, "hdr": format!("Bearer {token}"), "keep": [1, "x"]}},
        {"actionType": "B", "details": {"note": "no secret here"}},
    ]});
    let io = TestIo { body: body.to_string(), log: RefCell::default() };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rows = common::cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.details ORDER BY e.eventType",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows.len(), 2);
    let a: serde_json::Value = serde_json::from_str(rows[0][1].as_str().unwrap()).unwrap();
    assert_eq!(a, json!({"jwt": "[REDACTED]", "hdr": "[REDACTED]", "keep": [1, "x"]}));
    assert_eq!(rows[1][1], json!(r#"{"note":"no secret here"}"#));
    assert!(!format!("{rows:?}").contains(&token));
    // A member name holding it: refused whole, the answer does not quote it.
    let io = TestIo {
        body: json!({"events": [{"actionType": "C"}, {"actionType": "D", "details": {token.clone(): 1}}]}).to_string(),
        log: RefCell::default(),
    };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("events[1]: details name a member with the bearer token") && !r.body.contains(&token),
        "{}",
        r.body
    );
    // A target's uid holding it (stored as text: `targetKeys`, the `ON` edge's `target`): refused
    // whole, as a member name (redteam28: before, stored as sent).
    s.allowed_target_labels = vec!["Doc".into()];
    for uid in [token.clone(), format!("Bearer {token}")] {
        let targets = json!([{"label": "Doc", "uid": "d-1"}, {"label": "Doc", "uid": uid}]);
        let io = TestIo {
            body: json!({"events": [{"actionType": "E"}, {"actionType": "F", "targets": targets}]}).to_string(),
            log: RefCell::default(),
        };
        let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body.contains("events[1]: a target holds the bearer token") && !r.body.contains(&token),
            "{}",
            r.body
        );
    }
    let n =
        common::cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
    assert_eq!(n[0][0], json!(2), "nothing of the refused requests was written");
}

/// A proxy in front of the real Neo4j that forwards everything (it counts the writes), and a
/// logger writing through it with `cfg` (the Worker's Neo4j settings, or a test's).
async fn through_proxy(mut cfg: neo4j_audit::Config, plan: proxy::Plan) -> (proxy::FaultProxy, AuditLogger) {
    let proxy = proxy::FaultProxy::start(&common::neo4j_url(), plan, 11).await;
    cfg.url = proxy.url.clone();
    (proxy, AuditLogger::new(cfg).unwrap())
}

/// Removes the nodes of `label` and every constraint and index on it.
async fn drop_label(label: &str) {
    let names = common::cypher(
        "SHOW INDEXES YIELD name, labelsOrTypes WHERE $l IN labelsOrTypes RETURN name",
        json!({"l": label}),
    )
    .await;
    common::cypher(&format!("MATCH (n:{label}) DETACH DELETE n"), json!({})).await;
    for n in &names {
        let name = n[0].as_str().unwrap();
        common::cypher(&format!("DROP CONSTRAINT `{name}` IF EXISTS"), json!({})).await;
        common::cypher(&format!("DROP INDEX `{name}` IF EXISTS"), json!({})).await;
    }
}

/// An operator's uniqueness constraint on an event property that an event breaks: Neo4j refuses
/// the write with `Neo.ClientError.Schema.ConstraintValidationFailed` every time. The Worker took
/// it for a lost MERGE race (retryable), re-chained and wrote again 32 times (64 round trips) and
/// answered 503 "busy", so the client kept the event queued and sent it again, for ever. Now: one
/// retry (a MERGE race passes on it), then 422 `unprocessable` with a reason that holds no
/// secret; nothing of the request is written.
#[tokio::test]
async fn an_event_an_operators_constraint_refuses_is_422_not_a_busy_503() {
    use std::sync::atomic::Ordering::Relaxed;
    let (cfg, label) = common::one_event_per_type("IngestPoison").await;
    let s = settings(&cfg.trail, &common::neo4j_password());
    let mut worker_cfg = s.neo4j.clone().unwrap();
    worker_cfg.labels = cfg.labels.clone();
    let (proxy, logger) = through_proxy(worker_cfg, proxy::Plan::passing()).await;
    let token = token(json!({"sub": common::unique("poison-user")}));
    let send = |body: &str| TestIo { body: body.into(), log: RefCell::default() };
    let first = handle(&post(&token), &s, now(), &send(r#"{"actionType":"TAKEN"}"#), Some(&logger)).await;
    let writes_before = proxy.counts.writes.load(Relaxed);
    let io = send(r#"{"events":[{"actionType":"OTHER"},{"actionType":"TAKEN"}]}"#);
    let started = std::time::Instant::now();
    let second = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    let took = started.elapsed();
    let writes = proxy.counts.writes.load(Relaxed) - writes_before;
    let stored = common::cypher(
        &format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e:{label}) RETURN e.eventType ORDER BY e.eventType"),
        json!({"t": cfg.trail}),
    )
    .await;
    drop_label(&label).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(second.status, 422, "{} after {writes} writes, {took:?}", second.body);
    let body: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(body["error"], "unprocessable", "{}", second.body);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("constraint") && message.contains("ConstraintValidationFailed"), "{message}");
    assert!(writes <= 2, "at most one retry: {writes} writes ({})", proxy.counts.summary());
    let log = io.log.borrow().join("\n");
    assert!(log.contains("ConstraintValidationFailed"), "{log}");
    for secret in [common::neo4j_password(), JWT_SECRET.to_owned(), token.clone()] {
        assert!(!second.body.contains(&secret) && !log.contains(&secret), "leaked in {} / {log}", second.body);
    }
    assert_eq!(stored, vec![vec![json!("TAKEN")]], "nothing of the refused request was written");
}

/// Neo4j refusing every write with a transient error (a deadlock, a lock timeout that does not
/// pass): the Worker re-chained and wrote again up to 32 times, holding the request, then answered
/// 503 "busy". Now: at most 3 retries (4 writes), then 503 `unavailable` with `Retry-After` (the
/// client's queue sends it later), the reason in the log; nothing written.
#[tokio::test]
async fn a_write_neo4j_keeps_refusing_as_transient_is_retried_at_most_3_times_then_503() {
    use std::sync::atomic::Ordering::Relaxed;
    let (trail, s, _) = worker("ingest-transient", &common::neo4j_password());
    let plan = proxy::Plan::write_error("Neo.TransientError.Transaction.DeadlockDetected");
    let (proxy, logger) = through_proxy(s.neo4j.clone().unwrap(), plan).await;
    let token = token(json!({"sub": common::unique("transient-user")}));
    let io = TestIo { body: r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#.into(), log: RefCell::default() };
    let r = handle(&post(&token), &s, now(), &io, Some(&logger)).await;
    let writes = proxy.counts.writes.load(Relaxed);
    assert_eq!(r.status, 503, "{} after {writes} writes", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["error"], "unavailable", "{}", r.body);
    assert_eq!(r.header("Retry-After"), Some("5"));
    assert_eq!(proxy.counts.write_errors.load(Relaxed), writes);
    assert!((2..=4).contains(&writes), "1 write and at most 3 retries: {}", proxy.counts.summary());
    let log = io.log.borrow().join("\n");
    assert!(log.contains("DeadlockDetected"), "{log}");
    let n = common::cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": trail})).await;
    assert_eq!(n, vec![vec![json!(0)]], "nothing written");
}
