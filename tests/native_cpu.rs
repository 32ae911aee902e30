#![cfg(not(target_arch = "wasm32"))]
//! CPU per event of the native delivery path (client process only: Neo4j runs elsewhere).
//! `cargo test --release --test native_cpu -- --ignored --nocapture`; prints `CPU_NS_PER_EVENT n`.
mod common;
use common::*;
use futures::stream::{self, StreamExt};
use neo4j_audit::AuditLogger;
use serde_json::json;

/// The process's user + system CPU time, in ns (/proc/self/stat, clock ticks).
fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks * 10_000_000
}

async fn run(logger: &AuditLogger, n: usize) {
    stream::iter(0..n)
        .map(|i| async move {
            let d = json!({"i": i, "path": "/docs/42", "fields": ["title", "body"]});
            logger.log_user_action(None, "BENCH", Some("CPU"), Some(&d)).await.unwrap();
        })
        .buffer_unordered(50)
        .collect::<Vec<()>>()
        .await;
}

#[test]
#[ignore]
fn native_cpu_per_event() {
    let n: usize = std::env::var("BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let logger = AuditLogger::builder(neo4j_url())
        .basic_auth(neo4j_user(), neo4j_password())
        .trail(unique("cpubench"))
        .build()
        .unwrap();
    rt.block_on(async {
        run(&logger, 300).await;
        let c0 = cpu_ns();
        let t0 = std::time::Instant::now();
        run(&logger, n).await;
        let c = cpu_ns() - c0;
        println!("CPU_NS_PER_EVENT {} WALL_MS {}", c / n as u64, t0.elapsed().as_millis());
    });
}
