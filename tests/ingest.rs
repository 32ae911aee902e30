//! The ingest handler natively, against the real Neo4j: the same code the Worker runs, with the
//! platform (body, rate limiter, log) supplied by the test so that log lines can be inspected.
#![cfg(not(target_arch = "wasm32"))]

mod common;

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
        if self.body.len() > limit { Err(ReadError::TooLarge) } else { Ok(self.body.clone()) }
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

#[tokio::test]
async fn writes_with_the_token_user_and_logs_nothing_on_success() {
    let trail = common::unique("ingest-native");
    let s = settings(&trail, &common::neo4j_password());
    let logger = AuditLogger::new(s.neo4j.clone().unwrap()).unwrap();
    let sub = common::unique("native-user");
    let token = sign_hs256(JWT_SECRET.as_bytes(), &json!({"sub": sub, "name": "Nat", "aud": "neo4j-audit", "exp": now() + 60}));
    let io = TestIo { body: r#"{"events":[{"actionType":"A"},{"actionType":"B","details":{"x":1}}]}"#.into(), log: RefCell::default() };
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
    let trail = common::unique("ingest-native-secret");
    let wrong_pw = "wrong-neo4j-password-5f3a";
    let s = settings(&trail, wrong_pw);
    let logger = AuditLogger::new(s.neo4j.clone().unwrap()).unwrap();
    let token = sign_hs256(JWT_SECRET.as_bytes(), &json!({"sub": "u", "aud": "neo4j-audit", "exp": now() + 60}));
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
