//! Log a few actions from a Tokio program.
//!
//! ```text
//! cargo run --example basic
//! ```
//!
//! Reads `NEO4J_URL` (default `http://127.0.0.1:7474`), `NEO4J_USER` (`neo4j`), `NEO4J_PASSWORD`
//! (`neo4j-audit-dev`, the local Neo4j of `./scripts/neo4j start`) and `AUDIT_TRAIL`
//! (`examples`).

use std::time::Duration;

use neo4j_audit::{AuditError, AuditLogger, User};
use serde::Serialize;
use serde_json::json;

/// Details can be any `Serialize` value that becomes a JSON object.
#[derive(Serialize)]
struct Shared<'a> {
    document_id: &'a str,
    with: Vec<&'a str>,
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), AuditError> {
    let logger = AuditLogger::builder(env("NEO4J_URL", "http://127.0.0.1:7474"))
        .basic_auth(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "neo4j-audit-dev"))
        .trail(env("AUDIT_TRAIL", "examples"))
        .timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(15))
        .build()?;
    // Once, at deploy time or start-up: the constraints and indexes (idempotent).
    logger.ensure_schema().await?;

    let user = User::new("user-123").name("John Doe");
    let details = json!({"document_id": "doc-456", "fields_changed": ["title"]});
    let modified =
        logger.log_user_action(Some(&user), "DOCUMENT_MODIFIED", Some("DOCUMENT_MANAGEMENT"), Some(&details)).await?;
    println!("logged {} {} seq {:?}", modified.uid, modified.action_type, modified.seq);

    let shared = logger
        .action("DOCUMENT_SHARED")
        .user(&user)
        .category("DOCUMENT_MANAGEMENT")
        .details(&Shared { document_id: "doc-456", with: vec!["user-789"] })
        .await?;
    println!("logged {} {} seq {:?}", shared.uid, shared.action_type, shared.seq);

    // Input the rules refuse is an error before anything is sent; so is a failed write (after
    // the retries). `logger.reason(&e)` is safe to log: no password or token in it.
    match logger.log_user_action(None, "not a name!", None, None).await {
        Err(e @ AuditError::InvalidInput(_)) => println!("refused: {}", logger.reason(&e)),
        other => panic!("expected a refusal, got {other:?}"),
    }

    let head = logger.chain_head();
    println!("stream {} next seq {} head {}", head.stream_id, head.next_seq, head.head);
    Ok(())
}
