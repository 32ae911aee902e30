//! P3, native: the core's CPU per event with no network — details to JSON text, validation,
//! redaction, UID, time, hash chain (`AuditLogger::build_event`), then the write statement and its
//! serialised request body, exactly what `AuditLogger::run` sends. Release build.
//!
//!     cargo bench --bench core -- [N]     prints one JSON line
use std::hint::black_box;
use std::time::Instant;

use neo4j_audit::{AuditLogger, Config, User};

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20_000);
    let cfg = Config::new("http://127.0.0.1:7476").basic_auth("neo4j", "neo4j-audit-dev");
    let logger = AuditLogger::new(cfg).expect("valid config");
    let users: Vec<User> = (0..100).map(|i| User::new(format!("user-{i}")).name(format!("User {i}"))).collect();
    let details: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({"document_id": format!("doc-{i}"), "field": "title", "old": "Draft",
                "new": format!("Release {i}"), "ip": "10.0.0.7"})
        })
        .collect();
    let one = |i: usize| -> usize {
        let ev = logger
            .build_event(
                Some(&users[i % 100]),
                "DOCUMENT_MODIFIED",
                Some("DOCUMENT_MANAGEMENT"),
                Some(details[i].clone()),
            )
            .expect("valid event");
        logger.write_request(std::slice::from_ref(&ev)).expect("direct mode").body.len()
    };
    for i in 0..n.min(2000) {
        black_box(one(i));
    }
    let t0 = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        bytes += black_box(one(i));
    }
    let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "{{\"figure\":\"P3\",\"id\":\"native\",\"n\":{n},\"usPerEvent\":{us},\"avgBodyBytes\":{}}}",
        bytes as f64 / n as f64
    );
}
