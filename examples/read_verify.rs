//! Read a trail back, page by page, and verify its hash chain (feature `read`).
//!
//! ```text
//! cargo run --example read_verify --features read
//! ```
//!
//! Environment as for `examples/basic.rs`. Exits with status 1 when the chain is broken.

use neo4j_audit::{AuditError, AuditLogger, TrailQuery, User, VerifyQuery};
use serde_json::json;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), AuditError> {
    let logger = AuditLogger::builder(env("NEO4J_URL", "http://127.0.0.1:7474"))
        .basic_auth(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "neo4j-audit-dev"))
        .trail(env("AUDIT_TRAIL", "examples"))
        .build()?;
    logger.ensure_schema().await?;

    let alice = User::new("alice").name("Alice");
    for (i, action) in ["LOGIN", "DOCUMENT_VIEWED", "DOCUMENT_VIEWED", "LOGOUT"].iter().enumerate() {
        logger.action(action).user(&alice).details(&json!({"step": i})).await?;
    }

    // Newest first, two per page, following the cursor.
    let mut query = TrailQuery { limit: Some(2), ..Default::default() };
    let mut page_no = 0;
    loop {
        let page = logger.audit_trail(&query).await?;
        page_no += 1;
        for e in &page.events {
            println!(
                "page {page_no}: {} {} {} seq {:?}",
                e.timestamp,
                e.user_uid.as_deref().unwrap_or("-"),
                e.action_type,
                e.seq
            );
        }
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }

    let views =
        logger.audit_trail(&TrailQuery { action_type: Some("DOCUMENT_VIEWED".into()), ..Default::default() }).await?;
    println!("views: {}", views.events.len());
    let mine = logger.user_activity("alice", &TrailQuery { limit: Some(10), ..Default::default() }).await?;
    println!("alice: {} events", mine.events.len());

    let report = logger.verify_trail(&VerifyQuery::default()).await?;
    println!(
        "verify: ok={} checked={} streams={} unchained={}",
        report.ok,
        report.checked,
        report.streams.len(),
        report.unchained
    );
    for s in report.streams.iter().filter(|s| !s.ok) {
        if let Some(b) = &s.first_break {
            println!("stream {}: {:?} at seq {}: {}", s.stream_id, b.kind, b.seq, b.message);
        }
    }
    if !report.ok {
        std::process::exit(1);
    }
    Ok(())
}
