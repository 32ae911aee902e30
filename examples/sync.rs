//! Log from a synchronous program (a CLI, a script): no `async fn main`, one runtime that every
//! call is driven on, and the logger closed before the runtime goes.
//!
//! ```text
//! cargo run --example sync
//! ```
//!
//! Reads `NEO4J_URL` (default `http://127.0.0.1:7474`), `NEO4J_USER` (`neo4j`), `NEO4J_PASSWORD`
//! (`neo4j-audit-dev`) and `AUDIT_TRAIL` (`examples`).

use std::time::Duration;

use neo4j_audit::{AuditLogger, User};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // I/O and time on: the HTTP client and the retries' timers need both (else `NoRuntime`).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let logger = AuditLogger::builder(env("NEO4J_URL", "http://127.0.0.1:7474"))
        .basic_auth(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "neo4j-audit-dev"))
        .trail(env("AUDIT_TRAIL", "examples"))
        .build()?;
    let user = User::new("cli-user");
    let event = rt.block_on(logger.log_user_action(Some(&user), "EXPORT_RUN", Some("BATCH"), None))?;
    println!("logged {}", event.uid);
    // An action is `IntoFuture`: `.log()` is the future `block_on` takes.
    let event = rt.block_on(logger.action("EXPORT_DONE").user(&user).category("BATCH").log())?;
    println!("logged {}", event.uid);
    // Before the runtime goes: what still waits is delivered, or given up on at the bound.
    let delivered = rt.block_on(logger.close_within(Duration::from_secs(5)));
    println!("closed: {delivered}");
    Ok(())
}
