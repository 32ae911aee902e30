#![cfg(not(target_arch = "wasm32"))]
//! Targets against the real Neo4j: what an action was performed on, as `(event)-[:ON]->(node)`
//! for nodes that exist and `targetKeys` always; read back with `get_target_activity` (paged,
//! index-driven), and covered by the hash chain (version 2) beside version 1 events.

mod common;

use std::collections::HashSet;

use common::*;
use neo4j_audit::chain::BreakKind;
use neo4j_audit::read::{trail_statement, TrailQuery};
use neo4j_audit::{AuditEvent, AuditLogger, Labels, LogOptions, Target, User};
use serde_json::{json, Value};

/// A label no other test uses (labels are global in the database).
fn unique_label(prefix: &str) -> String {
    format!("{prefix}_{}", neo4j_audit::random::uuid_v4().replace('-', "")[..12].to_owned())
}

fn opts(targets: Vec<Target>) -> LogOptions {
    LogOptions::default().targets(targets)
}

#[tokio::test]
async fn existing_targets_are_linked_and_missing_ones_recorded() {
    let logger = AuditLogger::new(config("targets-basic")).unwrap();
    logger.ensure_schema().await.unwrap_or_else(|e| panic!("{e}"));
    let (doc, folder) = (unique_label("T14Doc"), unique_label("T14Folder"));
    cypher(&format!("CREATE (:{doc} {{UID: 'd-1'}}), (:{folder} {{UID: 'f-1'}})"), json!({})).await;
    let u = User::new("ann");
    let targets = vec![
        Target::new(&doc, "d-1").role("subject"),
        Target::new(&doc, "d-missing"),
        Target::new(&folder, "f-1").role("parent"),
    ];
    let ev = logger
        .log_user_action_with(Some(&u), "DOCUMENT_MOVED", None, Some(&json!({"to": "f-1"})), &opts(targets.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let plain = logger.log_user_action(Some(&u), "LOGIN", Some("SECURITY"), None).await.unwrap();

    // On the event: every target, existing or not, in order.
    let rows =
        cypher("MATCH (ev:AuditEvent {UID: $uid}) RETURN ev.targetKeys, ev.targetRoles", json!({"uid": ev.uid})).await;
    assert_eq!(rows[0][0], json!([format!("{doc}:d-1"), format!("{doc}:d-missing"), format!("{folder}:f-1")]));
    assert_eq!(rows[0][1], json!(["subject", "", "parent"]));
    // Edges only to the nodes that exist, with their properties; no node was created.
    let rows = cypher(
        "MATCH (ev:AuditEvent {UID: $uid})-[o:ON]->(n) \
         RETURN labels(n)[0], n.UID, o.role, o.target, o.eventUID, o.created = ev.timestamp ORDER BY n.UID",
        json!({"uid": ev.uid}),
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![json!(doc), json!("d-1"), json!("subject"), json!(format!("{doc}:d-1")), json!(ev.uid), json!(true)],
            vec![
                json!(folder),
                json!("f-1"),
                json!("parent"),
                json!(format!("{folder}:f-1")),
                json!(ev.uid),
                json!(true)
            ],
        ]
    );
    let missing = cypher(&format!("MATCH (n:{doc} {{UID: 'd-missing'}}) RETURN count(n)"), json!({})).await;
    assert_eq!(missing[0][0], json!(0), "the library never creates application nodes");
    // The event without targets has neither.
    let rows = cypher(
        "MATCH (ev:AuditEvent {UID: $uid}) RETURN ev.targetKeys, count { (ev)-[:ON]->() }",
        json!({"uid": plain.uid}),
    )
    .await;
    assert_eq!(rows[0], vec![Value::Null, json!(0)]);

    // Read back: on the document, on the folder; the trail page carries the targets.
    let page = logger.get_target_activity(&doc, "d-1", &TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(), [ev.uid.as_str()]);
    assert_eq!(page.events[0].targets, targets);
    assert_eq!(page.events[0].details, Some(json!({"to": "f-1"})));
    let page = logger.get_target_activity(&folder, "f-1", &TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.len(), 1);
    // The Rust name, beside audit_trail and user_activity (get_… is JavaScript's).
    let rust = logger.target_activity(&folder, "f-1", &TrailQuery::default()).await.unwrap();
    assert_eq!(rust, page);
    let none = logger.get_target_activity(&doc, "d-missing", &TrailQuery::default()).await.unwrap();
    assert!(none.events.is_empty(), "no node, no edge");
    // The same filter on getAuditTrail, with another filter beside it.
    let q = TrailQuery { target: Some(format!("{doc}:d-1")), action_type: Some("LOGIN".into()), ..Default::default() };
    assert!(logger.get_audit_trail(&q).await.unwrap().events.is_empty());

    // Once the node exists, a later event links to it.
    cypher(&format!("CREATE (:{doc} {{UID: 'd-missing'}})"), json!({})).await;
    let later = logger
        .log_user_action_with(Some(&u), "DOCUMENT_VIEWED", None, None, &opts(vec![Target::new(&doc, "d-missing")]))
        .await
        .unwrap();
    let page = logger.get_target_activity(&doc, "d-missing", &TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(), [later.uid.as_str()]);

    // Version 1 (no targets) and version 2 (targets) events verify side by side from Neo4j.
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    assert!(report.ok && report.checked == 3, "{report:?}");
    // An ON link is not in the chain (the event's targetKeys are): one added by hand, keys and
    // all, to an event that names no such target does not put that event on the node's activity,
    // nor does a link whose time was moved. Verification finds the added link (it leads to a node
    // the hashed targetKeys do not name: edited); a link's `created` moved is edited too (since
    // redteam19; `tests/chain.rs` `an_on_edge_with_edited_copies_of_the_hashed_fields_is_edited_at_its_event`).
    cypher(
        &format!("MATCH (ev:AuditEvent {{UID: $p}}), (n:{doc} {{UID: 'd-1'}}) CREATE (ev)-[:ON {{target: $k, created: ev.timestamp, eventUID: ev.UID}}]->(n)"),
        json!({"p": plain.uid, "k": format!("{doc}:d-1")}),
    )
    .await;
    cypher(
        "MATCH (ev:AuditEvent {UID: $u})-[o:ON {target: $k}]->() SET o.created = datetime('2001-01-01T00:00:00Z')",
        json!({"u": later.uid, "k": format!("{doc}:d-missing")}),
    )
    .await;
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    let b = report.streams[0].first_break.clone().expect("the added ON link");
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 1, Some(plain.uid.as_str())), "{report:?}");
    let page = logger.get_target_activity(&doc, "d-1", &TrailQuery::default()).await.unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
        [ev.uid.as_str()],
        "a forged ON link shows an event"
    );
    let old = TrailQuery { until: Some(1_000_000_000_000), ..Default::default() };
    assert!(
        logger.get_target_activity(&doc, "d-missing", &old).await.unwrap().events.is_empty(),
        "a link's time moved the event"
    );
    // Re-pointing a stored target breaks the chain.
    cypher(
        "MATCH (ev:AuditEvent {UID: $uid}) SET ev.targetKeys = [$k] + ev.targetKeys[1..]",
        json!({"uid": ev.uid, "k": format!("{doc}:d-other")}),
    )
    .await;
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    let b = report.streams[0].first_break.clone().expect("a break");
    assert_eq!((b.seq, b.uid.as_deref()), (0, Some(ev.uid.as_str())), "{report:?}");
}

/// One application node under two labels (`:Doc:Contract`), named by an event as both targets:
/// each target gets its own `ON` edge (its `target` key), so the event is in the node's activity
/// read by either label, and the trail still verifies. Before, the second label's subquery
/// MERGEd onto the first label's edge: one edge, and `get_target_activity` by the other label
/// did not find the event (redteam42).
#[tokio::test]
async fn a_node_named_under_two_of_its_labels_is_linked_for_each() {
    let logger = AuditLogger::new(config("targets-two-labels")).unwrap();
    let (doc, contract) = (unique_label("T42Doc"), unique_label("T42Contract"));
    cypher(&format!("CREATE (:{doc}:{contract} {{UID: 'd-1'}})"), json!({})).await;
    let targets = vec![Target::new(&doc, "d-1").role("document"), Target::new(&contract, "d-1").role("contract")];
    let ev = logger
        .log_user_action_with(Some(&User::new("ann")), "SIGNED", None, None, &opts(targets))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = cypher(
        "MATCH (ev:AuditEvent {UID: $uid})-[o:ON]->(n) RETURN o.target, o.role ORDER BY o.target",
        json!({"uid": ev.uid}),
    )
    .await;
    let mut want = vec![
        vec![json!(format!("{doc}:d-1")), json!("document")],
        vec![json!(format!("{contract}:d-1")), json!("contract")],
    ];
    want.sort_by_key(|r| r[0].as_str().unwrap().to_owned());
    assert_eq!(rows, want);
    for label in [&doc, &contract] {
        let page = logger.get_target_activity(label, "d-1", &TrailQuery::default()).await.unwrap();
        assert_eq!(page.events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(), vec![ev.uid.as_str()], "{label}");
    }
    // Written again (a retry): still one edge per target.
    logger.deliver(ev.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    let n = cypher("MATCH (ev:AuditEvent {UID: $uid})-[o:ON]->() RETURN count(o)", json!({"uid": ev.uid})).await;
    assert_eq!(n[0][0], json!(2));
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    assert!(report.ok, "{report:?}");
    // A copy of one of the two edges is still a doubled edge.
    cypher(
        &format!("MATCH (ev:AuditEvent {{UID: $e}})-[o:ON]->(x) WHERE o.target STARTS WITH '{doc}:' CREATE (ev)-[o2:ON]->(x) SET o2 = properties(o)"),
        json!({"e": ev.uid}),
    )
    .await;
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    let b = report.streams[0].first_break.clone().expect("a break");
    assert_eq!((b.kind, b.uid.as_deref()), (BreakKind::Edited, Some(ev.uid.as_str())), "{report:?}");
}

/// The application's graph holds two nodes of one label with one `UID` (no uniqueness
/// constraint there: the README asks only for an index): the event is linked to both, and a
/// node's activity still lists each event once, in full pages. Before, `get_target_activity`
/// and the trail's `target` filter listed every event once per edge (twice), and a page of
/// `limit` 2 held one event twice (redteam42).
#[tokio::test]
async fn two_application_nodes_with_one_uid_list_each_event_once() {
    let logger = AuditLogger::new(config("targets-dup-nodes")).unwrap();
    let doc = unique_label("T42Dup");
    cypher(&format!("CREATE (:{doc} {{UID: 'd-1'}}), (:{doc} {{UID: 'd-1'}})"), json!({})).await;
    let mut uids = Vec::new();
    for i in 0..3 {
        let ev = logger
            .log_user_action_with(None, &format!("EDIT{i}"), None, None, &opts(vec![Target::new(&doc, "d-1")]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        uids.insert(0, ev.uid);
    }
    let n = cypher("MATCH (ev:AuditEvent {UID: $uid})-[o:ON]->() RETURN count(o)", json!({"uid": uids[0]})).await;
    assert_eq!(n[0][0], json!(2), "linked to both nodes");
    let page = logger.get_target_activity(&doc, "d-1", &TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(), uids);
    let q = TrailQuery { target: Some(format!("{doc}:d-1")), ..Default::default() };
    let page = logger.get_audit_trail(&q).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(), uids);
    // Paged two at a time: full pages, each event once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let q = TrailQuery { limit: Some(2), cursor: cursor.take(), ..Default::default() };
        let page = logger.get_target_activity(&doc, "d-1", &q).await.unwrap();
        seen.push(page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>());
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec![uids[..2].to_vec(), uids[2..].to_vec()]);
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test]
async fn invalid_targets_are_refused_and_nothing_is_written() {
    let logger = AuditLogger::new(config("targets-invalid")).unwrap();
    let label = unique_label("T14Bad");
    let too_many: Vec<Target> = (0..17).map(|i| Target::new(&label, format!("d-{i}"))).collect();
    for (targets, says) in [
        (vec![Target::new("Doc ument", "d")], "label"),
        (vec![Target::new("Doc`) DETACH DELETE (n", "d")], "label"),
        (too_many, "16"),
        (vec![Target::new(&label, "d"), Target::new(&label, "d")], "repeats"),
    ] {
        let why = logger.log_user_action_with(None, "X", None, None, &opts(targets)).await.unwrap_err().to_string();
        assert!(why.contains(says), "{why}");
    }
    assert!(logger.get_target_activity("Not an identifier", "d", &TrailQuery::default()).await.is_err());
    let rows = cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": logger.config().trail})).await;
    assert_eq!(rows[0][0], json!(0));
    assert_eq!(logger.stats().failed, 4);
}

#[tokio::test]
async fn target_activity_pages_ten_thousand_events_in_index_order() {
    let logger = AuditLogger::new(config("targets-paging")).unwrap();
    logger.ensure_schema().await.unwrap_or_else(|e| panic!("{e}"));
    let doc = unique_label("T14Page");
    cypher(&format!("CREATE (:{doc} {{UID: 'hot'}}), (:{doc} {{UID: 'cold'}})"), json!({})).await;
    const N: usize = 10_000;
    let hot = opts(vec![Target::new(&doc, "hot").role("subject")]);
    let cold = opts(vec![Target::new(&doc, "cold")]);
    let mut all: Vec<AuditEvent> = Vec::with_capacity(N + 10);
    for i in 0..N + 10 {
        let o = if i % 1000 == 999 { &cold } else { &hot };
        let action = if i % 10 == 0 { "DOCUMENT_EDITED" } else { "DOCUMENT_VIEWED" };
        all.push(logger.build_event_with(None, action, None, None, o).unwrap());
    }
    for chunk in all.chunks(1000) {
        logger.write(chunk).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let hot_uids: HashSet<&str> = all.iter().filter(|e| e.targets[0].uid == "hot").map(|e| e.uid.as_str()).collect();
    assert_eq!(hot_uids.len(), N);

    let mut q = TrailQuery { limit: Some(1000), ..Default::default() };
    let mut seen = Vec::new();
    for _ in 0..20 {
        let page = logger.get_target_activity(&doc, "hot", &q).await.unwrap_or_else(|e| panic!("{e}"));
        seen.extend(page.events);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), N);
    assert_eq!(seen.iter().map(|e| e.uid.as_str()).collect::<HashSet<_>>(), hot_uids, "each hot event once");
    for w in seen.windows(2) {
        assert!((w[0].ts, &w[0].uid) > (w[1].ts, &w[1].uid), "newest first");
    }
    // A filter beside the target.
    let edited = logger
        .get_target_activity(
            &doc,
            "hot",
            &TrailQuery { action_type: Some("DOCUMENT_EDITED".into()), limit: Some(1000), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(edited.events.len(), 1000);
    assert!(edited.events.iter().all(|e| e.action_type == "DOCUMENT_EDITED"));

    // The plans: the relationship index, read in order, no scan of every node. Index statistics
    // of a fresh database lag behind the 10 000 writes; refresh them so the planner sees the
    // index as it will be in use (with stale statistics it may scan the index instead of seeking
    // it — still in index order and without a Sort, which is what is asserted).
    let _ = post_statement(&neo4j_url(), "CALL db.resampleOutdatedIndexes()", &json!({})).await;
    let _ = post_statement(&neo4j_url(), "CALL db.clearQueryCaches()", &json!({})).await;
    let labels = Labels::default();
    let cursor = neo4j_audit::read::encode_cursor(1_700_000_000_000, "x");
    for q in [
        TrailQuery { target: Some(format!("{doc}:hot")), ..Default::default() },
        TrailQuery {
            target: Some(format!("{doc}:hot")),
            since: Some(1),
            until: Some(2),
            cursor: Some(cursor),
            ..Default::default()
        },
        TrailQuery {
            target: Some(format!("{doc}:hot")),
            action_type: Some("X".into()),
            user_uid: Some("u".into()),
            ..Default::default()
        },
    ] {
        let st = trail_statement(&labels, "t", &q).unwrap();
        assert!(!st.text.contains(&doc), "the target is a parameter");
        let ops = plan_operators(&st.text, &st.parameters).await;
        assert!(
            ops.iter().any(|o| o.contains("RelationshipIndexSeek") || o.contains("RelationshipIndexScan")),
            "{}: {ops:?}",
            st.text
        );
        for bad in
            ["Sort", "Top", "PartialSort", "PartialTop", "AllNodesScan", "NodeByLabelScan", "AllRelationshipsScan"]
        {
            assert!(!ops.iter().any(|o| o == bad), "{bad} in plan of {}: {ops:?}", st.text);
        }
    }
}

/// The operators of a statement's plan, via `EXPLAIN` on the real Neo4j.
async fn plan_operators(text: &str, params: &Value) -> Vec<String> {
    let resp = post_statement(&neo4j_url(), &format!("EXPLAIN {text}"), params).await.unwrap();
    assert_eq!(resp["errors"], json!([]), "{text}: {resp}");
    fn walk(v: &Value, out: &mut Vec<String>) {
        if let Some(op) = v["operatorType"].as_str() {
            out.push(op.split('@').next().unwrap().to_owned());
        }
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut ops = Vec::new();
    walk(&resp["results"][0]["plan"]["root"], &mut ops);
    ops
}
