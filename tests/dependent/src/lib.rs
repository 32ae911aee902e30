//! A dependent's own wasm export: one action logged through `neo4j_audit::AuditLogger` (the
//! Rust API, driven by src/driver.rs on the host's event loop).

use neo4j_audit::{AuditLogger, User};
use wasm_bindgen::prelude::*;

/// Logs `LOGIN` for `uid` into the Neo4j at `url`; whether it was written.
#[wasm_bindgen(js_name = logOne)]
pub async fn log_one(url: String, uid: String) -> bool {
    let Ok(logger) = AuditLogger::builder(url).build() else { return false };
    logger.action("LOGIN").user(&User::new(uid)).await.is_ok()
}
