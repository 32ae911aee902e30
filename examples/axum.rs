//! An axum server whose handlers log through one shared logger, concurrently.
//!
//! ```text
//! cargo run --example axum            # then: curl -H 'x-user: alice' localhost:3000/documents/doc-1
//! ```
//!
//! Environment as for `examples/basic.rs`, plus `BIND` (default `127.0.0.1:3000`). Prints
//! `listening on http://ADDR` once it accepts connections.
//!
//! Copied into a crate of your own, it needs `axum = "0.8"` and Tokio's `net` and `signal`
//! features beside the README's dependencies (`tokio = { version = "1", features = ["macros",
//! "rt-multi-thread", "net", "signal"] }`); without `signal`, `tokio::signal` is not found.
//!
//! On Ctrl-C (SIGINT) or SIGTERM it stops accepting, lets the requests under way finish, then
//! awaits `logger.close()`: events whose handler was cancelled (the client went away) are still
//! being delivered, and returning from `main` first would drop them with the runtime. Prints
//! `closed: nothing left to deliver (C committed, F failed)` (F: events whose handler already
//! answered 503; or, when some are still undelivered, why, from `logger.last_error()`) and exits.
//!
//! A request whose event the library refused (its input breaks a rule), or whose `x-user` header
//! is not UTF-8, is answered 400 with the reason; one whose event could not be stored (Neo4j
//! down) 503 with a generic text, the reason on stderr.

use std::io::Write as _;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use neo4j_audit::{AuditError, AuditLogger, User};
use serde_json::{json, Value};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `GET /documents/{id}`: logs `DOCUMENT_VIEWED` for the `x-user` header's user (read as UTF-8;
/// `anonymous` without one) and answers with the event's UID once Neo4j committed it; see
/// [`refusal`] for when it could not. A header that is not UTF-8 is answered 400.
async fn view(
    State(logger): State<AuditLogger>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, (StatusCode, String)> {
    // The header's raw bytes as UTF-8: `HeaderValue::to_str` accepts visible ASCII only, so a
    // user id such as "José" would fail it. Bytes that are not UTF-8 are the client's mistake.
    let uid = match headers.get("x-user").map(|v| std::str::from_utf8(v.as_bytes())) {
        None => "anonymous",
        Some(Ok(uid)) => uid,
        Some(Err(_)) => {
            return Err((StatusCode::BAD_REQUEST, "invalid input: the x-user header is not valid UTF-8".to_owned()))
        }
    };
    let user = User::new(uid);
    let event = logger
        .action("DOCUMENT_VIEWED")
        .user(&user)
        .category("DOCUMENT_MANAGEMENT")
        .details(&json!({"document_id": id}))
        .await
        .map_err(|e| refusal(&logger, &e))?;
    Ok(Json(json!({"uid": event.uid, "seq": event.seq})))
}

/// The answer when an event was not logged. Input the library refused (an `x-user` longer than
/// 1024 bytes): 400 with the reason, which names the field and the rule, nothing of the server.
/// Anything else (Neo4j down or refusing, the logger closed): 503 with a generic text, as the
/// reason may name the internal Neo4j URL or quote its answer; the reason goes to the server's
/// log (stderr) instead, where the operator reads it.
fn refusal(logger: &AuditLogger, e: &AuditError) -> (StatusCode, String) {
    if e.is_rejection() {
        return (StatusCode::BAD_REQUEST, logger.reason(e));
    }
    eprintln!("audit log unavailable: {}", logger.reason(e));
    (StatusCode::SERVICE_UNAVAILABLE, "the audit log is unavailable; try again later".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One logger for the whole server: handlers get clones (an Arc inside), and concurrent
    // requests share its connection pool, batches and hash-chain stream.
    let logger = AuditLogger::builder(env("NEO4J_URL", "http://127.0.0.1:7474"))
        .basic_auth(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "neo4j-audit-dev"))
        .trail(env("AUDIT_TRAIL", "examples"))
        .deadline(Duration::from_secs(10))
        .build()?;
    logger.ensure_schema().await?;

    let app = Router::new().route("/documents/{id}", get(view)).with_state(logger.clone());
    let listener = tokio::net::TcpListener::bind(env("BIND", "127.0.0.1:3000")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;

    // Before the runtime shuts down: deliver what the handlers logged (a handler whose client
    // went away handed its event over before it was cancelled), then refuse new events.
    if logger.close().await {
        let st = logger.stats();
        println!("closed: nothing left to deliver ({} committed, {} failed)", st.committed, st.failed);
    } else {
        let why = logger.last_error().unwrap_or_default();
        println!("closed: not every event was delivered: {why}");
        std::process::exit(1);
    }
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM (what `kill`, systemd and container runtimes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.expect("Ctrl-C handler");
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate()).expect("SIGTERM handler").recv().await;
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
