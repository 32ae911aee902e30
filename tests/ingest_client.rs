//! Client mode (`endpoint` + `token`) through the logger's own delivery path: batching and retries
//! apply to the Worker's answers. The Worker is replaced by a canned-answer server here only to
//! inject faults; the real Worker → Neo4j path is tested in tests/worker/ (workerd, Chromium).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{http_json, FakeServer};
use neo4j_audit::config::RetryConfig;
use neo4j_audit::{AuditLogger, Config, User};

fn client_config(base: &str, attempts: u32) -> Config {
    let mut c = Config::new("");
    c.endpoint = Some(format!("{base}/v1/events"));
    c.token = Some("header.payload.signature-of-the-user".into());
    c.timeout_ms = 2_000;
    c.retry = RetryConfig { max_attempts: attempts, max_elapsed_ms: 10_000, base_delay_ms: 1, max_delay_ms: 5 };
    c
}

#[tokio::test]
async fn retries_a_503_from_the_worker_and_sends_no_user() {
    let busy = http_json(
        503,
        "Retry-After: 0\r\n",
        r#"{"error":"unavailable","message":"the audit store is unavailable; retry later"}"#,
    );
    let server = FakeServer::start(Some(busy)).await;
    let logger = AuditLogger::new(client_config(&server.url, 3)).unwrap();
    let user = User::new("forged-user").name("Forged");
    let e = logger
        .log_user_action(Some(&user), "CLIENT_TEST", None, Some(&serde_json::json!({"k": "v"})))
        .await
        .unwrap_err();
    let reason = logger.reason(&e);
    assert_eq!(server.requests(), 3, "one attempt plus two retries");
    assert!(reason.contains("503") && reason.contains("unavailable"), "{reason}");
    assert!(!reason.contains("signature-of-the-user"), "{reason}");
    let seen = server.seen.lock().unwrap().clone();
    let first = &seen[0];
    assert!(first.head.starts_with("POST /v1/events "), "{}", first.head);
    assert!(first.head.to_ascii_lowercase().contains("authorization: bearer header.payload.signature-of-the-user"));
    let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["events"][0]["actionType"], "CLIENT_TEST");
    assert_eq!(body["events"][0]["details"]["k"], "v");
    assert!(!first.body.contains("forged-user"), "the user is never sent: {}", first.body);
    // Every attempt carries the same event UID (so the Worker's MERGE keeps one copy).
    let uids: Vec<String> = seen
        .iter()
        .map(|s| {
            let b: serde_json::Value = serde_json::from_str(&s.body).unwrap();
            b["events"][0]["UID"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(uids.windows(2).all(|w| w[0] == w[1]), "{uids:?}");
}

#[tokio::test]
async fn does_not_retry_a_401_and_succeeds_on_201() {
    let denied = http_json(401, "", r#"{"error":"unauthorized","message":"token has expired"}"#);
    let server = FakeServer::start(Some(denied)).await;
    let logger = AuditLogger::new(client_config(&server.url, 5)).unwrap();
    let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
    assert_eq!(server.requests(), 1);
    assert!(reason.contains("401"));

    let created = http_json(201, "", r#"{"accepted":1,"uids":["u"]}"#);
    let server = FakeServer::start(Some(created)).await;
    let logger = AuditLogger::new(client_config(&server.url, 5)).unwrap();
    logger.log_user_action(None, "X", None, None).await.unwrap();
    assert_eq!(server.requests(), 1);
    assert!(logger.ensure_schema().await.is_err(), "no Cypher in client mode");
}

#[test]
fn client_mode_config_from_json() {
    let c: Config = serde_json::from_str(r#"{"endpoint":"https://w.example/v1/events","token":"t"}"#).unwrap();
    assert!(AuditLogger::new(c).is_ok());
    let c: Config = serde_json::from_str(r#"{"endpoint":"https://w.example/v1/events"}"#).unwrap();
    assert!(AuditLogger::new(c).is_err(), "a token is required");
    let c: Config =
        serde_json::from_str(r#"{"url":"http://127.0.0.1:7474","endpoint":"https://w.example/v1/events","token":"t"}"#)
            .unwrap();
    assert!(AuditLogger::new(c).is_err(), "url and endpoint are exclusive");
}
