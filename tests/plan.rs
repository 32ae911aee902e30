#![cfg(not(target_arch = "wasm32"))]
//! The plan Neo4j keeps for the write statement. A logger sends it with
//! [`neo4j_audit::cypher::PLAN_ONCE`] (`CYPHER replan=skip`): Neo4j plans the text once and does
//! not plan it again when its statistics drift (which cost an awaited call ~60-500 ms each time).
//! That is safe only if the plan made on empty labels finds every node by an index, and if a
//! schema change still replaces a plan made before the indexes existed. Both are checked here
//! against the real Neo4j, with labels no other test uses (their schema is dropped at the end).

mod common;

use common::*;
use neo4j_audit::config::Labels;
use neo4j_audit::cypher::{write_events_text, PLAN_ONCE};
use neo4j_audit::{AuditLogger, User};
use serde_json::{json, Value};

/// The operators of the plan Neo4j would run `text` with (the one in its cache, if any: EXPLAIN
/// is not part of the cache key), as "Operator details" lines, leaves included.
async fn plan_of(text: &str) -> Vec<String> {
    let q = text.replacen(PLAN_ONCE, &format!("{PLAN_ONCE}EXPLAIN "), 1);
    let resp = post_statement(&neo4j_url(), &q, &json!({})).await.expect("neo4j reachable");
    assert_eq!(resp["errors"], json!([]), "{resp}");
    let mut out = Vec::new();
    fn walk(p: &Value, out: &mut Vec<String>) {
        let op = p["operatorType"].as_str().unwrap_or("").split('@').next().unwrap_or("").to_owned();
        out.push(format!("{op} {}", p["Details"].as_str().unwrap_or("")));
        for c in p["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    walk(&resp["results"][0]["plan"]["root"], &mut out);
    out
}

/// Every node the write looks up, found by an index seek (and nothing scanned).
fn seeks_only(plan: &[String], labels: &Labels) -> Result<(), String> {
    let has = |op: &str, what: &str| plan.iter().any(|l| l.starts_with(op) && l.contains(what));
    let scans: Vec<&String> = plan.iter().filter(|l| l.split(' ').next().unwrap_or("").contains("Scan")).collect();
    if !scans.is_empty() {
        return Err(format!("scans: {scans:?}"));
    }
    for (op, what) in [
        ("NodeUniqueIndexSeek", format!(":{}(name)", labels.trail)),
        ("NodeUniqueIndexSeek", format!(":{}(UID)", labels.event)),
        ("NodeIndexSeek", format!(":{}(UID)", labels.user)),
    ] {
        if !has(op, &what) {
            return Err(format!("no {op} on {what}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_kept_plan_seeks_by_index_even_when_made_on_empty_labels() {
    let tag = neo4j_audit::random::uuid_v4().replace('-', "");
    let tag = &tag[..12];
    let labels = Labels { event: format!("PlanEv{tag}"), trail: format!("PlanTr{tag}"), user: format!("PlanUs{tag}") };
    let text = format!("{PLAN_ONCE}{}", write_events_text(&labels).unwrap());

    // Before the schema exists: a plan is made and cached, and it can only scan.
    let before = plan_of(&text).await;
    assert!(seeks_only(&before, &labels).is_err(), "no index yet, yet: {before:#?}");

    // The schema step creates the constraints and indexes: Neo4j drops its cached plans, so the
    // plan kept from now on (made on labels that hold no node) is the indexed one.
    let mut cfg = config("plan");
    cfg.labels = labels.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.ensure_schema().await.unwrap();
    let empty = plan_of(&text).await;
    let checked = seeks_only(&empty, &labels);

    // Writes through the logger (the same text) change the counts; the kept plan still seeks.
    let mut written = Ok(());
    for i in 0..20 {
        let u = User::new(format!("u{i}"));
        if let Err(e) = logger.log_user_action(Some(&u), "PLAN_CHECK", None, None).await {
            written = Err(e);
        }
    }
    let after = plan_of(&text).await;
    let checked_after = seeks_only(&after, &labels);
    let stored = cypher(&format!("MATCH (e:{}) RETURN count(e)", labels.event), json!({})).await;

    // Clean up before asserting: the nodes, then this test's own constraints and indexes.
    cypher(&format!("MATCH (n) WHERE n:{} OR n:{} DETACH DELETE n", labels.event, labels.trail), json!({})).await;
    for name in [
        format!("{}_uid_unique", labels.event.to_ascii_lowercase()),
        format!("{}_name_unique", labels.trail.to_ascii_lowercase()),
    ] {
        cypher(&format!("DROP CONSTRAINT {name} IF EXISTS"), json!({})).await;
    }
    let names = cypher(
        "SHOW INDEXES YIELD name WHERE name STARTS WITH $e OR name STARTS WITH $u RETURN name",
        json!({ "e": labels.event.to_ascii_lowercase() + "_", "u": labels.user.to_ascii_lowercase() + "_" }),
    )
    .await;
    for row in names {
        cypher(&format!("DROP INDEX {} IF EXISTS", row[0].as_str().unwrap()), json!({})).await;
    }

    checked.unwrap_or_else(|e| panic!("plan made on empty labels: {e}: {empty:#?}"));
    written.unwrap();
    assert_eq!(stored, vec![vec![json!(20)]]);
    checked_after.unwrap_or_else(|e| panic!("plan after writes: {e}: {after:#?}"));
}
