#![cfg(not(target_arch = "wasm32"))]
//! The read side against the real Neo4j: pagination, filters, result shape, redaction as stored,
//! and the query plans (every read query must be driven by an index).

mod common;

use std::collections::HashSet;

use common::*;
use neo4j_audit::read::{trail_statement, trail_statement_indexed, verify_statement, TrailQuery, VerifyQuery};
use neo4j_audit::{AuditError, AuditLogger, Labels, User};
use serde_json::{json, Value};

/// Logs events one after the other (so `seq` follows call order) and returns the logger.
async fn logger_with(trail_prefix: &str, events: &[(&str, &str, &str, Value)]) -> AuditLogger {
    let logger = AuditLogger::new(config(trail_prefix)).unwrap();
    logger.ensure_schema().await.unwrap();
    for (user, action, category, details) in events {
        let u = User::new(*user).name(format!("Name of {user}"));
        logger
            .log_user_action(Some(&u), action, Some(category), Some(details))
            .await
            .unwrap_or_else(|e| panic!("write failed: {e}"));
    }
    logger
}

fn sample() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        ("ann", "DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", json!({"document_id": "d1"})),
        ("bob", "DOCUMENT_EDITED", "DOCUMENT_MANAGEMENT", json!({"document_id": "d1", "n": 2})),
        ("ann", "LOGIN", "SECURITY", json!({"ip": "10.0.0.1"})),
        ("cid", "DOCUMENT_SHARED", "DOCUMENT_MANAGEMENT", json!({"with": ["bob"]})),
        ("ann", "DOCUMENT_DELETED", "DOCUMENT_MANAGEMENT", json!({"document_id": "d2"})),
        ("bob", "LOGOUT", "SECURITY", json!({})),
        ("ann", "DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", json!({"document_id": "d3"})),
    ]
}

/// Reads every page of `q` (page size `limit`) and returns the events in order.
async fn all_pages(logger: &AuditLogger, mut q: TrailQuery) -> Vec<neo4j_audit::read::TrailEvent> {
    let mut out = Vec::new();
    for _ in 0..100 {
        let page = logger.get_audit_trail(&q).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(page.events.len() <= q.limit.unwrap_or(50) as usize);
        out.extend(page.events);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination never ended");
}

/// Edits one stored event as someone with write access to Neo4j would: `SET {what}` on the event
/// with this UID (`e`).
async fn set_event(uid: &str, what: &str) {
    cypher(&format!("MATCH (e:AuditEvent {{UID: $u}}) SET {what}"), json!({"u": uid})).await;
}

#[tokio::test]
async fn pages_are_newest_first_complete_and_disjoint() {
    let logger = logger_with("read-pages", &sample()).await;
    let events = all_pages(&logger, TrailQuery { limit: Some(3), ..Default::default() }).await;
    assert_eq!(events.len(), 7);
    let uids: HashSet<&str> = events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(uids.len(), 7, "no event twice across pages");
    for w in events.windows(2) {
        assert!((w[0].ts, &w[0].uid) > (w[1].ts, &w[1].uid), "order: {:?} then {:?}", w[0], w[1]);
    }
    // Newest first means the last logged event comes first (seq from the chain shows call order).
    assert_eq!(events[0].seq, Some(6));
    assert_eq!(events[6].seq, Some(0));
    assert_eq!(events[0].details, Some(json!({"document_id": "d3"})));
    assert_eq!(events[1].details, None, "{{}} details are absent, so null");

    // Shape, checked against what Neo4j itself stores.
    let e = &events[2];
    let rows = cypher(
        "MATCH (ev:AuditEvent {UID: $uid}) RETURN ev.timestamp.epochMillis, toString(ev.timestamp), ev.userUID, ev.eventType",
        json!({"uid": e.uid}),
    )
    .await;
    assert_eq!(rows[0][0], json!(e.ts));
    assert_eq!(rows[0][2], json!(e.user_uid));
    assert_eq!(rows[0][3], json!(e.action_type));
    let neo_iso = rows[0][1].as_str().unwrap();
    assert!(e.timestamp.ends_with('Z') && e.timestamp.len() == 24, "{}", e.timestamp);
    // Neo4j drops trailing zeros of the fraction ("…48.11Z"); ours always has three digits.
    let norm = |s: &str| s.trim_end_matches('Z').trim_end_matches('0').trim_end_matches('.').to_owned();
    assert_eq!(norm(neo_iso), norm(&e.timestamp), "same instant as Neo4j prints it");
    assert_eq!(e.user_name.as_deref(), Some("Name of ann"));
    assert_eq!(e.action_type, "DOCUMENT_DELETED");
    assert_eq!(e.category, "DOCUMENT_MANAGEMENT");
}

#[tokio::test]
async fn filters_select_exactly_the_matching_events() {
    let logger = logger_with("read-filters", &sample()).await;
    let by_user =
        all_pages(&logger, TrailQuery { user_uid: Some("ann".into()), limit: Some(2), ..Default::default() }).await;
    assert_eq!(by_user.len(), 4);
    assert!(by_user.iter().all(|e| e.user_uid.as_deref() == Some("ann")));

    let activity = logger.user_activity("bob", &TrailQuery { limit: Some(10), ..Default::default() }).await.unwrap();
    assert_eq!(activity.events.len(), 2);
    assert_eq!(activity.events[0].action_type, "LOGOUT");
    assert!(activity.next_cursor.is_none());
    // The options are a TrailQuery, as for audit_trail and target_activity: every filter (it
    // took since, limit and cursor only, as positional arguments), and pages by its cursor.
    let q = TrailQuery { category: Some("DOCUMENT_MANAGEMENT".into()), ..Default::default() };
    let docs = logger.user_activity("ann", &q).await.unwrap();
    let types: Vec<&str> = docs.events.iter().map(|e| e.action_type.as_str()).collect();
    assert_eq!(types, ["DOCUMENT_VIEWED", "DOCUMENT_DELETED", "DOCUMENT_VIEWED"]);
    let mut q = TrailQuery { limit: Some(3), ..Default::default() };
    let first = logger.user_activity("ann", &q).await.unwrap();
    q.cursor = first.next_cursor.clone();
    let rest = logger.user_activity("ann", &q).await.unwrap();
    assert_eq!((first.events.len(), rest.events.len(), rest.next_cursor), (3, 1, None));

    let by_type =
        all_pages(&logger, TrailQuery { action_type: Some("DOCUMENT_VIEWED".into()), ..Default::default() }).await;
    assert_eq!(by_type.len(), 2);
    let by_cat = all_pages(&logger, TrailQuery { category: Some("SECURITY".into()), ..Default::default() }).await;
    assert_eq!(by_cat.iter().map(|e| e.action_type.as_str()).collect::<Vec<_>>(), ["LOGOUT", "LOGIN"]);
    let both = all_pages(
        &logger,
        TrailQuery { user_uid: Some("ann".into()), category: Some("SECURITY".into()), ..Default::default() },
    )
    .await;
    assert_eq!(both.len(), 1);

    // Time window: since inclusive, until exclusive.
    let all = all_pages(&logger, TrailQuery::default()).await;
    let (newest, oldest) = (all[0].ts, all[6].ts);
    let window =
        all_pages(&logger, TrailQuery { since: Some(oldest), until: Some(newest), ..Default::default() }).await;
    let expected = all.iter().filter(|e| e.ts >= oldest && e.ts < newest).count();
    assert_eq!(window.len(), expected);
    let none = logger.get_audit_trail(&TrailQuery { since: Some(newest + 1), ..Default::default() }).await.unwrap();
    assert!(none.events.is_empty() && none.next_cursor.is_none());

    // Another trail's events are never returned.
    let other = logger_with("read-other", &sample()[..2]).await;
    let page = other.get_audit_trail(&TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.len(), 2);
}

#[tokio::test]
async fn bad_cursor_and_limit_are_invalid_input() {
    let logger = AuditLogger::new(config("read-bad")).unwrap();
    let q = TrailQuery { cursor: Some("bm90LWEtY3Vyc29y".into()), ..Default::default() };
    assert!(matches!(logger.get_audit_trail(&q).await, Err(AuditError::InvalidInput(_))));
    let q = TrailQuery { limit: Some(0), ..Default::default() };
    assert!(matches!(logger.get_audit_trail(&q).await, Err(AuditError::InvalidInput(_))));
    assert!(matches!(logger.user_activity("", &TrailQuery::default()).await, Err(AuditError::InvalidInput(_))));
    // The largest position cursor taken is one Neo4j can run with the largest page (`~n` with
    // n = i64::MAX - 1001: an empty page); one more is refused (read.rs skip_of).
    let q = TrailQuery { cursor: Some("fjkyMjMzNzIwMzY4NTQ3NzQ4MDY".into()), limit: Some(1000), ..Default::default() };
    for page in [
        logger.get_audit_trail(&q).await,
        logger.user_activity("u1", &q).await,
        logger.target_activity("Doc", "d1", &q).await,
    ] {
        assert_eq!(page.unwrap().events.len(), 0);
    }
}

#[tokio::test]
async fn a_bad_query_is_invalid_input_before_any_request_even_with_neo4j_down() {
    // Found by a new user: with Neo4j down, `limit: 0`, a cursor this library never issued or an
    // empty window came back as `network error: … ECONNREFUSED …` (the trail's mark was read
    // before the query was checked), so the mistake in the call was hidden behind the outage.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = neo4j_audit::Config::new(format!("http://127.0.0.1:{port}")).basic_auth("neo4j", "x");
    c.trail = unique("read-bad-down");
    let logger = AuditLogger::new(c).unwrap();
    let queries = [
        TrailQuery { limit: Some(0), ..Default::default() },
        TrailQuery { limit: Some(1001), ..Default::default() },
        TrailQuery { cursor: Some("bm90LWEtY3Vyc29y".into()), ..Default::default() },
        TrailQuery { since: Some(2_000), until: Some(1_000), ..Default::default() },
        // A crafted position cursor (`~n`) so large that Neo4j's SKIP + LIMIT overflows: it went
        // out, and a running Neo4j answered "ArithmeticError: long overflow".
        TrailQuery { cursor: Some("fjkyMjMzNzIwMzY4NTQ3NzU4MDc".into()), limit: Some(1000), ..Default::default() },
        TrailQuery { cursor: Some("fjkyMjMzNzIwMzY4NTQ3NzQ4MDc".into()), limit: Some(1000), ..Default::default() },
    ];
    for q in &queries {
        match logger.audit_trail(q).await {
            Err(AuditError::InvalidInput(_)) => {}
            other => panic!("{q:?}: {other:?}"),
        }
    }
    // user_activity's user is its `uid`, target_activity's node its `label` / `uid`: a query
    // carrying its own `user_uid` / `target` as well was read for the argument, silently (user-1's
    // events for `user_uid: "user-2"`). Refused, as JavaScript's getUserActivity refuses a
    // `userUid` option, the same value too, naming the field.
    for uid in ["u-2", "u-1"] {
        let q = TrailQuery { user_uid: Some(uid.into()), ..Default::default() };
        match logger.user_activity("u-1", &q).await {
            Err(AuditError::InvalidInput(m)) => assert!(m.contains("user_uid"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    for key in ["Doc:d-2", "Doc:d-1"] {
        let q = TrailQuery { target: Some(key.into()), ..Default::default() };
        match logger.target_activity("Doc", "d-1", &q).await {
            Err(AuditError::InvalidInput(m)) => assert!(m.contains("target"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    // A valid query does go out, and meets the outage.
    let err = logger.audit_trail(&TrailQuery::default()).await.unwrap_err();
    assert!(matches!(err, AuditError::Network(_)), "{err:?}");
}

#[tokio::test]
async fn redaction_happens_before_storage_and_the_hash_covers_it() {
    let logger = logger_with(
        "read-redact",
        &[(
            "ann",
            "LOGIN",
            "SECURITY",
            json!({"user": "ann", "Password": "hunter2-secret", "headers": {"Authorization": "Bearer abc.def"},
                   "items": [{"api_key": "k-123"}], "tokensUsed": 3,
                   // A listed name written as one word inside a longer key (stored as sent before).
                   "headers2": {"x-apikey": "k-456"}, "user_sessionid": "sess-789"}),
        )],
    )
    .await;
    let stored = &stored_details(&logger).await;
    for secret in ["hunter2-secret", "abc.def", "k-123", "k-456", "sess-789"] {
        assert!(!stored.contains(secret), "{secret} reached Neo4j: {stored}");
    }
    let v: Value = serde_json::from_str(stored).unwrap();
    assert_eq!(v["Password"], "[REDACTED]");
    assert_eq!(v["headers"]["Authorization"], "[REDACTED]");
    assert_eq!(v["items"][0]["api_key"], "[REDACTED]");
    assert_eq!(v["headers2"]["x-apikey"], "[REDACTED]");
    assert_eq!(v["user_sessionid"], "[REDACTED]");
    assert_eq!(v["tokensUsed"], 3, "whole words only");
    assert_eq!(v["user"], "ann");
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok, "the hash covers the redacted form: {report:?}");

    // A custom list replaces the default one.
    let mut cfg = config("read-redact-custom");
    cfg.redact = Some(vec!["ssn".into()]);
    let custom = AuditLogger::new(cfg).unwrap();
    let ev = custom.log_user_action(None, "X", None, Some(&json!({"SSN": "123", "password": "kept"}))).await.unwrap();
    assert_eq!(ev.details.as_deref(), Some(r#"{"SSN":"[REDACTED]","password":"kept"}"#));
}

/// Full-width key names (U+FF01–U+FF5E, as East Asian input methods type them) are redacted as
/// their ASCII form (they reached Neo4j as sent); other look-alikes (a Cyrillic `а`) are not,
/// as docs/redaction.md says: pinned here, read back from Neo4j.
#[tokio::test]
async fn full_width_key_names_are_redacted_other_look_alikes_are_stored_as_sent() {
    let logger = logger_with(
        "read-redact-fullwidth",
        &[(
            "ann",
            "LOGIN",
            "SECURITY",
            json!({"ｐａｓｓｗｏｒｄ": "fw-secret-1", "ＤＢ＿ＰＡＳＳＷＯＲＤ": "fw-secret-2",
                   "ｘ－ａｐｉ－ｋｅｙ": "fw-secret-3", "p\u{430}ssword": "cyrillic-kept"}),
        )],
    )
    .await;
    let stored = &stored_details(&logger).await;
    for secret in ["fw-secret-1", "fw-secret-2", "fw-secret-3"] {
        assert!(!stored.contains(secret), "{secret} reached Neo4j: {stored}");
    }
    let v: Value = serde_json::from_str(stored).unwrap();
    assert_eq!(v["ｐａｓｓｗｏｒｄ"], "[REDACTED]", "the key itself is stored as written");
    assert_eq!(v["p\u{430}ssword"], "cyrillic-kept", "the documented limit");
    assert!(logger.verify_trail(&VerifyQuery::default()).await.unwrap().ok);
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

#[tokio::test]
async fn every_read_query_is_driven_by_an_index() {
    // Schema must exist for the plans (idempotent).
    let logger = AuditLogger::new(config("read-plan")).unwrap();
    logger.ensure_schema().await.unwrap();
    let labels = Labels::default();
    let cursor = neo4j_audit::read::encode_cursor(1_700_000_000_000, "x");
    // A cursor after an event with a time finer than a millisecond, in another zone.
    let zoned = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1700000000000.000500[+02:00]:x")
    };
    let queries = [
        TrailQuery { user_uid: Some("u".into()), cursor: Some(zoned.clone()), ..Default::default() },
        TrailQuery { cursor: Some(zoned), ..Default::default() },
        TrailQuery::default(),
        TrailQuery { since: Some(1), until: Some(2), cursor: Some(cursor.clone()), ..Default::default() },
        TrailQuery { user_uid: Some("u".into()), since: Some(1), ..Default::default() },
        TrailQuery { action_type: Some("LOGIN".into()), ..Default::default() },
        TrailQuery { category: Some("SECURITY".into()), cursor: Some(cursor), ..Default::default() },
        TrailQuery {
            user_uid: Some("u".into()),
            action_type: Some("LOGIN".into()),
            category: Some("S".into()),
            ..Default::default()
        },
    ];
    let mut statements: Vec<_> = queries.iter().map(|q| trail_statement(&labels, "t", q).unwrap()).collect();
    statements.push(verify_statement(&labels, "t", &VerifyQuery::default(), None).unwrap());
    statements.push(
        verify_statement(
            &labels,
            "t",
            &VerifyQuery { stream_id: Some("s".into()), since: Some(1), ..Default::default() },
            Some(&("s".into(), 3, "u".into())),
        )
        .unwrap(),
    );
    let trail_statements = queries.len();
    for (i, st) in statements.into_iter().enumerate() {
        let ops = plan_operators(&st.text, &st.parameters).await;
        if i < trail_statements {
            // A page is read in index order and stops at the limit: no sort of all matches.
            for bad in ["Sort", "Top", "PartialSort", "PartialTop"] {
                assert!(!ops.iter().any(|o| o == bad), "{bad} in plan of {}: {ops:?}", st.text);
            }
        }
        assert!(
            ops.iter().any(|o| o.starts_with("NodeIndexSeek") || o.starts_with("NodeIndexScan")),
            "no index operator for {}: {ops:?}",
            st.text
        );
        for bad in ["AllNodesScan", "NodeByLabelScan"] {
            assert!(!ops.iter().any(|o| o == bad), "{bad} in plan of {}: {ops:?}", st.text);
        }
    }
}

/// Rows produced by the plan's operators whose name starts with `op`, via `PROFILE`.
async fn profiled_rows(text: &str, params: &Value, op: &str) -> (u64, usize) {
    let resp = post_statement(&neo4j_url(), &format!("PROFILE {text}"), params).await.unwrap();
    assert_eq!(resp["errors"], json!([]), "{text}: {resp}");
    fn walk(v: &Value, op: &str, out: &mut u64) {
        if v["operatorType"].as_str().is_some_and(|o| o.starts_with(op)) {
            *out += v["Rows"].as_u64().unwrap_or(0);
        }
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, op, out);
        }
    }
    let mut rows = 0;
    walk(&resp["results"][0]["plan"]["root"], op, &mut rows);
    (rows, resp["results"][0]["data"].as_array().map_or(0, Vec::len))
}

#[tokio::test]
async fn a_verify_page_seeks_from_its_position_in_the_stream() {
    // verifyTrail reads a stream in pages after (stream, seq, UID). The index seek must start at
    // that seq: a page that reads the stream from seq 0 makes a verification quadratic (seen at
    // 1 000 000 events: 52 s for a 100 000-event stream, 17 s with the seek). 40 events; the page
    // after seq 34 must read 6 index entries (34..39; 34
    // itself passes the seek and is dropped by the UID bound), not 40.
    let events: Vec<_> = sample().into_iter().cycle().take(40).collect();
    let logger = logger_with("read-verify-seek", &events).await;
    let head = logger.chain_head();
    assert_eq!(head.next_seq, 40);
    let labels = Labels::default();
    let trail = logger.config().trail.clone();
    let q = VerifyQuery { stream_id: Some(head.stream_id.clone()), ..Default::default() };
    let rows = post_statement(
        &neo4j_url(),
        "MATCH (ev:AuditEvent {streamId: $s, seq: 34}) RETURN ev.UID",
        &json!({"s": head.stream_id}),
    )
    .await
    .unwrap();
    let uid34 = rows["results"][0]["data"][0]["row"][0].as_str().unwrap().to_owned();
    let st = verify_statement(&labels, &trail, &q, Some(&(head.stream_id.clone(), 34, uid34))).unwrap();
    let (seek_rows, returned) = profiled_rows(&st.text, &st.parameters, "NodeIndexSeek").await;
    assert_eq!(returned, 5, "{}", st.text);
    assert!(seek_rows <= 6, "the seek read {seek_rows} index entries for a page after seq 34 of 40: {}", st.text);
    // And the stream still verifies.
    let report = logger.verify_trail(&q).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 40);
}

// ---- The per-trail read index (issue 12): a trail's pages cost what the trail holds. ----

/// `n` events written by `logger` in one request each of up to 500 (ms timestamps, so many
/// share one and the UID orders them).
async fn write_many(logger: &AuditLogger, n: usize) {
    let mut left = n;
    while left > 0 {
        let k = left.min(500);
        let events: Vec<_> = (0..k)
            .map(|i| logger.build_event(None, "LOGIN", Some("SECURITY"), Some(json!({"i": i}))).unwrap())
            .collect();
        logger.write(&events).await.unwrap_or_else(|e| panic!("{e}"));
        left -= k;
    }
}

/// The trail's events (UIDs) in the read side's order, read straight from the graph.
async fn stored_order(trail: &str) -> Vec<String> {
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev:AuditEvent) WHERE ev.UID IS NOT NULL AND ev.timestamp IS NOT NULL \
         RETURN ev.UID ORDER BY ev.timestamp DESC, ev.UID DESC",
        json!({"t": trail}),
    )
    .await
    .into_iter()
    .map(|r| r[0].as_str().unwrap().to_owned())
    .collect()
}

/// Every page of the trail (page size `limit`) through a fresh logger (no remembered mark).
async fn read_all(trail: &str, limit: u32) -> Vec<String> {
    let mut c = config("unused");
    c.trail = trail.to_owned();
    let reader = AuditLogger::new(c).unwrap();
    all_pages(&reader, TrailQuery { limit: Some(limit), ..Default::default() })
        .await
        .into_iter()
        .map(|e| e.uid)
        .collect()
}

/// Sum of `DbHits` over the plan of `PROFILE text`, and the rows returned.
async fn profiled_db_hits(text: &str, params: &Value) -> (u64, usize) {
    let resp = post_statement(&neo4j_url(), &format!("PROFILE {text}"), params).await.unwrap();
    assert_eq!(resp["errors"], json!([]), "{text}: {resp}");
    fn walk(v: &Value, out: &mut u64) {
        *out += v["DbHits"].as_u64().unwrap_or(0);
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut hits = 0;
    walk(&resp["results"][0]["plan"]["root"], &mut hits);
    (hits, resp["results"][0]["data"].as_array().map_or(0, Vec::len))
}

/// Runs the library's migration (both statements, as `neo4j-audit migrate` does); returns the
/// links keyed and the trails still unmarked.
async fn migrate() -> (u64, u64) {
    let sts = neo4j_audit::cypher::migration_statements(&Labels::default()).unwrap();
    let keyed = cypher(&sts[0].text, sts[0].parameters.clone()).await[0][0].as_u64().unwrap();
    let rows = cypher(&sts[1].text, sts[1].parameters.clone()).await;
    (keyed, rows[0][1].as_u64().unwrap())
}

#[tokio::test]
async fn a_small_trail_beside_a_bigger_one_is_read_by_its_own_index() {
    // The small trail's 7 events are older than the big trail's 1500: by the shared
    // (timestamp, UID) index its one page walks past every one of those first.
    let small = logger_with("read-small", &sample()).await;
    let big = AuditLogger::new(config("read-big")).unwrap();
    write_many(&big, 1500).await;
    let trail = small.config().trail.clone();
    let marked = cypher("MATCH (t:AuditTrail {name: $t}) RETURN t.indexed", json!({"t": trail})).await;
    assert_eq!(marked, vec![vec![json!(true)]], "a trail this version creates is marked indexed");

    // The page: right events, right order, through the library.
    let expected = stored_order(&trail).await;
    assert_eq!(expected.len(), 7);
    assert_eq!(read_all(&trail, 50).await, expected);
    assert_eq!(read_all(&trail, 3).await, expected, "pages of 3 with cursors");
    let page = small.get_audit_trail(&TrailQuery { limit: Some(50), ..Default::default() }).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(), expected);
    assert!(page.next_cursor.is_none());

    // Its plan: the per-trail index, in index order, no sort; db hits bounded by the small trail.
    let labels = Labels::default();
    let q = TrailQuery { limit: Some(50), ..Default::default() };
    let st = trail_statement_indexed(&labels, &trail, &q).unwrap();
    let ops = plan_operators(&st.text, &st.parameters).await;
    assert!(ops.iter().any(|o| o == "DirectedRelationshipIndexSeek"), "{ops:?}");
    for bad in ["Sort", "Top", "PartialSort", "PartialTop", "NodeIndexScan", "AllNodesScan", "NodeByLabelScan"] {
        assert!(!ops.iter().any(|o| o == bad), "{bad} in plan of {}: {ops:?}", st.text);
    }
    let (hits, returned) = profiled_db_hits(&st.text, &st.parameters).await;
    assert_eq!(returned, 7);
    // ~ a dozen hits per event read (index entry, link, start node, event properties); the big
    // trail's 1500 events never enter. The shared index's page walks past them all.
    assert!(hits < 7 * 40, "the small trail's page made {hits} db hits: {}", st.text);
    let old = trail_statement(&labels, &trail, &q).unwrap();
    let (old_hits, old_returned) = profiled_db_hits(&old.text, &old.parameters).await;
    assert_eq!(old_returned, 7);
    assert!(old_hits > 1500, "the shared index's page walks the big trail ({old_hits} hits)");

    // A window and a cursor keep the per-trail index and the same rows.
    let cursor = neo4j_audit::read::encode_cursor(1_700_000_000_000, "x");
    let windowed = TrailQuery {
        since: Some(1),
        until: Some(i64::MAX / 2),
        cursor: Some(cursor),
        limit: Some(5),
        ..Default::default()
    };
    let st = trail_statement_indexed(&labels, &trail, &windowed).unwrap();
    assert!(st.text.contains("USING INDEX r:HAS_EVENT(trail, created, eventUID)"));
    // Equality filters keep their own indexes (unchanged).
    let by_user = TrailQuery { user_uid: Some("ann".into()), ..Default::default() };
    assert_eq!(
        trail_statement_indexed(&labels, &trail, &by_user).unwrap(),
        trail_statement(&labels, &trail, &by_user).unwrap()
    );

    // The big trail reads the same by either index.
    let big_trail = big.config().trail.clone();
    let q = TrailQuery { limit: Some(100), ..Default::default() };
    let a = post_statement(
        &neo4j_url(),
        &trail_statement(&labels, &big_trail, &q).unwrap().text,
        &trail_statement(&labels, &big_trail, &q).unwrap().parameters,
    )
    .await
    .unwrap();
    let b = post_statement(
        &neo4j_url(),
        &trail_statement_indexed(&labels, &big_trail, &q).unwrap().text,
        &trail_statement_indexed(&labels, &big_trail, &q).unwrap().parameters,
    )
    .await
    .unwrap();
    assert_eq!(rows_of("shared", &a), rows_of("per-trail", &b));
    assert_eq!(rows_of("shared", &a).len(), 101);
}

#[tokio::test]
async fn unmigrated_events_read_completely_before_during_and_after_the_migration() {
    // A store written before the per-trail index: links without the key, the trail unmarked
    // (what an older version wrote; made here by removing them from a fresh trail).
    let logger = AuditLogger::new(config("read-migrate")).unwrap();
    logger.ensure_schema().await.unwrap();
    write_many(&logger, 23).await;
    let trail = logger.config().trail.clone();
    cypher(
        "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->() REMOVE t.indexed, r.trail, r.eventUID",
        json!({"t": trail}),
    )
    .await;
    // A newer event beside them, written by this version into the unmarked trail (keyed).
    write_many(&logger, 2).await;
    let expected = stored_order(&trail).await;
    assert_eq!(expected.len(), 25);

    // Before: read completely, in order (by the shared indexes), page by page.
    assert_eq!(read_all(&trail, 4).await, expected);
    // Through a logger that read the trail before (it must not have remembered a mark).
    assert_eq!(
        all_pages(&logger, TrailQuery { limit: Some(4), ..Default::default() })
            .await
            .into_iter()
            .map(|e| e.uid)
            .collect::<Vec<_>>(),
        expected
    );

    // During: half the links keyed (an interrupted migration), the trail still unmarked.
    cypher(
        "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(ev) WHERE r.trail IS NULL WITH t, r, ev ORDER BY ev.UID LIMIT 12 \
         SET r.trail = t.name, r.created = ev.timestamp, r.eventUID = ev.UID",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(read_all(&trail, 4).await, expected);
    assert_eq!(read_all(&trail, 50).await, expected);

    // After: every link keyed, the trail marked, the same pages (now by the per-trail index).
    let (keyed, _) = migrate().await;
    assert!(keyed >= 11, "keyed {keyed}");
    let state = cypher(
        "MATCH (t:AuditTrail {name: $t}) OPTIONAL MATCH (t)-[r:HAS_EVENT]->(ev) \
         RETURN t.indexed, count(r), count(CASE WHEN r.trail = t.name AND r.created = ev.timestamp AND r.eventUID = ev.UID THEN 1 END)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(state, vec![vec![json!(true), json!(25), json!(25)]]);
    assert_eq!(read_all(&trail, 4).await, expected);
    assert_eq!(read_all(&trail, 50).await, expected);
    let st = trail_statement_indexed(&Labels::default(), &trail, &TrailQuery::default()).unwrap();
    let (_, returned) = profiled_db_hits(&st.text, &st.parameters).await;
    assert_eq!(returned, 25);
    // The logger that read before the migration switches to the per-trail index and reads the same.
    assert_eq!(
        all_pages(&logger, TrailQuery { limit: Some(4), ..Default::default() })
            .await
            .into_iter()
            .map(|e| e.uid)
            .collect::<Vec<_>>(),
        expected
    );

    // Idempotent: a second run keys nothing and changes nothing.
    let (keyed, _) = migrate().await;
    assert_eq!(keyed, 0);
    assert_eq!(read_all(&trail, 4).await, expected);
    let status = neo4j_audit::cypher::migration_status_statement(&Labels::default()).unwrap();
    assert_eq!(cypher(&status.text, status.parameters).await[0][0], json!(0));

    // verifyTrail reads the same before and after (its queries do not use the key).
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 25);
}

#[tokio::test]
async fn the_write_keys_its_links_for_both_apis() {
    for api in [neo4j_audit::Api::Tx, neo4j_audit::Api::Query] {
        let mut c = config("read-keyed");
        c.api = api;
        let logger = AuditLogger::new(c).unwrap();
        let events: Vec<_> =
            (0..3).map(|i| logger.build_event(None, "LOGIN", None, Some(json!({"i": i}))).unwrap()).collect();
        logger.write(&events).await.unwrap();
        // Written again (a retry): MERGE on the UID, nothing doubles.
        logger.write(&events).await.unwrap();
        let trail = logger.config().trail.clone();
        let rows = cypher(
            "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(ev) RETURN t.indexed, count(r), \
             count(CASE WHEN r.trail = $t AND r.created = ev.timestamp AND r.eventUID = ev.UID THEN 1 END)",
            json!({"t": trail}),
        )
        .await;
        assert_eq!(rows, vec![vec![json!(true), json!(3), json!(3)]], "{api:?}");
    }
}

#[tokio::test]
async fn the_workers_signed_write_keys_its_links_and_marks_a_new_trail() {
    use neo4j_audit::chain::SignedHead;
    use neo4j_audit::ingest::signed::{write_statement, ChainedWrite};
    let logger = AuditLogger::new(config("read-signed")).unwrap();
    logger.ensure_schema().await.unwrap();
    let trail = logger.config().trail.clone();
    let events: Vec<_> =
        (0..3).map(|i| logger.build_event(None, "LOGIN", None, Some(json!({"i": i}))).unwrap()).collect();
    let head = SignedHead { stream_id: "s".into(), seq: 2, hash: "h".into(), seal: None };
    let w = ChainedWrite { expect: None, events: &events, head: &head, event_seal: None };
    let st = write_statement(&Labels::default(), &trail, &w).unwrap();
    assert_eq!(cypher(&st.text, st.parameters.clone()).await, vec![vec![json!(3)]]);
    let rows = cypher(
        "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(ev) RETURN t.indexed, t.chainSeq, count(r), \
         count(CASE WHEN r.trail = $t AND r.created = ev.timestamp AND r.eventUID = ev.UID THEN 1 END)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows, vec![vec![json!(true), json!(2), json!(3), json!(3)]]);
    // Its page is read by the per-trail index, newest first.
    assert_eq!(read_all(&trail, 2).await, stored_order(&trail).await);
}

/// A stored timestamp finer than a millisecond is outside the chain (which covers
/// `timestamp.epochMillis`): an event moved by half a millisecond within its millisecond (event
/// and link, consistently) still verifies. Pages must still never skip an event for it. Before
/// the fix the cursor held the page's last event's time in whole milliseconds, so a page ending
/// at such an event skipped the rest of its millisecond, while `verifyTrail` reported no break.
#[tokio::test]
async fn a_sub_millisecond_timestamp_never_makes_a_page_skip_events() {
    pages_across_a_moved_event("read-subms", HALF_MS, true).await;
}

/// An event's time given another zone at the same instant (event and link): `epochMillis`, so
/// the chain, is unchanged (verifyTrail ok), but Neo4j orders `…T02:00+02:00` after `…T00:00Z`.
/// Before the fix the cursor named the instant in UTC, so a page ending at that event skipped
/// the rest of its millisecond (the events in UTC at that instant with larger UIDs).
#[tokio::test]
async fn a_timestamp_in_another_zone_never_makes_a_page_skip_events() {
    pages_across_a_moved_event("read-zone", "datetime({datetime: ev.timestamp, timezone: '+02:00'})", true).await;
}

/// The moved event's new time, 0.5 ms later.
const HALF_MS: &str = "ev.timestamp + duration({nanoseconds: 500000})";

/// The same with only the event moved (its `HAS_EVENT` link keeps the time it was written at;
/// verifyTrail counts the event unchained): a per-trail-index page is ordered by the link, so
/// its cursor must name the link's time. Before the fix the cursor named the event's time, half
/// a millisecond after the link's, so the page after the moved event began again at the top of
/// that millisecond and the pages never ended (an export of the trail looped for ever).
#[tokio::test]
async fn an_event_moved_without_its_link_never_makes_pages_repeat() {
    pages_across_a_moved_event("read-subms-link", HALF_MS, false).await;
}

/// Logs events until a millisecond holds several, moves the one with the smallest UID to `to`
/// (an expression of `ev.timestamp`, within its millisecond; its link too when `with_link`), and
/// reads that millisecond by pages of one through the per-trail and the shared index: each page
/// order must be the one its `ORDER BY` gives.
async fn pages_across_a_moved_event(name: &str, to: &str, with_link: bool) {
    let logger = AuditLogger::new(config(name)).unwrap();
    logger.ensure_schema().await.unwrap();
    let trail = logger.config().trail.clone();
    // Events logged at once, until some millisecond holds several of them.
    let u = User::new("ann").name("Ann");
    let mut shared = None;
    for _ in 0..20 {
        let calls = (0..8).map(|_| logger.log_user_action(Some(&u), "LOGIN", Some("SECURITY"), None));
        for r in futures::future::join_all(calls).await {
            r.unwrap();
        }
        let rows = cypher(
            "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(ev) WITH ev.timestamp AS t, collect(ev.UID) AS u \
             WHERE size(u) > 1 RETURN t.epochMillis, u LIMIT 1",
            json!({"trail": trail}),
        )
        .await;
        if let Some(r) = rows.first() {
            shared = Some(r[0].as_i64().unwrap());
            break;
        }
    }
    let t = shared.expect("no two events in one millisecond after 160 events");
    // Its event with the smallest UID (last in that millisecond's order) moved 0.5 ms later,
    // still in the same millisecond: it comes first by its time, and a page of one ends at it.
    // Without its link, the one with the largest UID: first by the link's time too, so a page
    // of one ends at it and another follows.
    let (set_link, pick) = if with_link { (", r.created = to", "ev.UID") } else { ("", "ev.UID DESC") };
    let moved = cypher(
        &format!(
            "MATCH (:AuditTrail {{name: $trail}})-[r:HAS_EVENT]->(ev) WHERE ev.timestamp = datetime({{epochMillis: $t}}) \
             WITH r, ev ORDER BY {pick} LIMIT 1 WITH r, ev, {to} AS to \
             SET ev.timestamp = to{set_link} RETURN ev.UID"
        ),
        json!({"trail": trail, "t": t}),
    )
    .await[0][0]
        .as_str()
        .unwrap()
        .to_owned();
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    if with_link {
        assert!(report.ok, "the chain covers whole milliseconds only: {report:?}");
    } else {
        // Its link no longer matches it: verifyTrail names it; the pages must still end.
        assert!(report.streams.iter().all(|s| s.ok) && report.unchained_uids == [moved.clone()], "{report:?}");
    }
    // That millisecond's events, in page order, as Neo4j orders them by the event's time (the
    // shared index) and by the link's (the per-trail index).
    let mut orders = Vec::new();
    for by in ["ev.timestamp DESC, ev.UID DESC", "r.created DESC, r.eventUID DESC"] {
        let st = format!("MATCH (:AuditTrail {{name: $trail}})-[r:HAS_EVENT]->(ev) WHERE ev.timestamp.epochMillis = $t RETURN ev.UID ORDER BY {by}");
        let rows = cypher(&st, json!({"trail": trail, "t": t})).await;
        orders.push(rows.into_iter().map(|r| r[0].as_str().unwrap().to_owned()).collect::<Vec<_>>());
    }
    let (by_event, by_link) = (&orders[0], &orders[1]);
    assert!(by_event.len() > 1 && by_event[0] == moved);
    for (what, q, want) in [
        (
            "per-trail index",
            TrailQuery { limit: Some(1), since: Some(t), until: Some(t + 1), ..Default::default() },
            by_link,
        ),
        (
            "shared index",
            TrailQuery {
                limit: Some(1),
                since: Some(t),
                until: Some(t + 1),
                user_uid: Some("ann".into()),
                ..Default::default()
            },
            by_event,
        ),
    ] {
        let got: Vec<String> = all_pages(&logger, q).await.into_iter().map(|e| e.uid).collect();
        assert_eq!(&got, want, "{what}: every event of the millisecond, once, in order, by pages of one");
    }
}

/// A database the Python `log_user_action` (the seed this library replaces) wrote: its events'
/// `timestamp` and `HAS_EVENT.created` are the server's local `datetime.now()`, a `LocalDateTime`
/// through Neo4j's Python driver, in a trail without the per-trail key. Before `migrate --zone`
/// converted them, every page that held one failed with Neo4j's bare "Epoch not supported.", and
/// Cypher's `ORDER BY` put them apart from the library's `DateTime`s.
#[tokio::test]
async fn events_the_python_seed_wrote_read_after_the_migration_converts_their_local_times() {
    let logger = AuditLogger::new(config("read-seed")).unwrap();
    logger.ensure_schema().await.unwrap();
    let trail = logger.config().trail.clone();
    let seed_uid = format!("{trail}-user");
    // Exactly the seed's shape: no chain fields, no source/occurredAt, details as json.dumps text.
    cypher(
        "MERGE (t:AuditTrail {name: $t}) ON CREATE SET t.UID = randomUUID() WITH t \
         UNWIND range(0, 4) AS i \
         WITH t, i, localdatetime('2026-11-02T10:00:00.123456') + duration({minutes: 10 * i}) AS ts \
         CREATE (e:AuditEvent {UID: $t + '-seed-' + i, eventType: 'LOGIN', eventCategory: 'SECURITY', timestamp: ts, \
                 userUID: $u, userName: 'John Doe', details: '{\"ip\": \"10.0.0.' + i + '\"}'}) \
         CREATE (t)-[:HAS_EVENT {created: ts}]->(e)",
        json!({"t": trail, "u": seed_uid}),
    )
    .await;
    let user = User::new(&seed_uid).name("John Doe");
    logger.log_user_action(Some(&user), "DOCUMENT_MODIFIED", Some("DOCUMENT_MANAGEMENT"), None).await.unwrap();

    // Before the migration every page that held one failed with "Epoch not supported." (then with
    // a hint to migrate). Now the pages come back: the seed's events first (Cypher orders a
    // LocalDateTime apart from the DateTimes), marked, their stored local time as text; the page
    // that ends on one continues by position.
    let q = TrailQuery { limit: Some(4), ..Default::default() };
    let before = all_pages(&logger, q.clone()).await;
    let marked: Vec<_> = before.iter().map(|e| (e.uid.clone(), e.timestamp.clone(), e.ts, e.invalid.clone())).collect();
    let mut expected: Vec<_> = (0..5)
        .rev()
        .map(|i| {
            (format!("{trail}-seed-{i}"), format!("2026-11-02T10:{i}0:00.123456"), 0, vec!["timestamp".to_owned()])
        })
        .collect();
    expected.push((before[5].uid.clone(), before[5].timestamp.clone(), before[5].ts, vec![]));
    assert_eq!(marked, expected);
    assert_eq!(before[5].action_type, "DOCUMENT_MODIFIED");
    assert!(before[5].ts > 0);

    // The server's clock was in Brussels (CET, +01:00, in November).
    let st = neo4j_audit::cypher::timestamp_migration_statement(&Labels::default(), "Europe/Brussels").unwrap();
    let converted = cypher(&st.text, st.parameters.clone()).await[0][0].as_u64().unwrap();
    assert!(converted >= 5, "converted {converted}");
    migrate().await;
    let stored = cypher(
        "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(e) \
         RETURN count(*), count(CASE WHEN e.timestamp IS :: ZONED DATETIME AND r.created = e.timestamp AND r.trail = $t THEN 1 END), t.indexed",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(stored, vec![vec![json!(6), json!(6), json!(true)]]);

    let events = all_pages(&logger, q.clone()).await;
    assert_eq!(events.len(), 6);
    assert_eq!(events[0].action_type, "DOCUMENT_MODIFIED", "the library's event is the newest");
    let seed: Vec<_> = events[1..].iter().map(|e| (e.uid.clone(), e.timestamp.clone())).collect();
    let expected: Vec<_> =
        (0..5).rev().map(|i| (format!("{trail}-seed-{i}"), format!("2026-11-02T09:{}0:00.123Z", i))).collect();
    assert_eq!(seed, expected, "10:00 in Brussels is 09:00 UTC; newest first");
    let e = &events[5];
    assert_eq!((e.user_uid.as_deref(), e.user_name.as_deref()), (Some(seed_uid.as_str()), Some("John Doe")));
    assert_eq!(e.details, Some(json!({"ip": "10.0.0.0"})));
    assert_eq!((e.stream_id.as_ref(), e.seq, e.hash.as_ref()), (None, None, None));
    // Filters and windows see them as they see the library's events.
    let mine = logger.user_activity(&seed_uid, &TrailQuery { limit: Some(50), ..Default::default() }).await.unwrap();
    assert_eq!(mine.events.len(), 6);
    let since = logger
        .get_audit_trail(&TrailQuery {
            since: Some(events[3].ts),
            action_type: Some("LOGIN".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        since.events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>(),
        vec![events[1].uid.clone(), events[2].uid.clone(), events[3].uid.clone()]
    );
    // Unchained, as the README says of events written before chaining; the library's one verifies.
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert_eq!((report.checked, report.unchained), (1, 5));
    // Again: nothing left to convert in this trail, the times unchanged.
    cypher(&st.text, st.parameters).await;
    assert_eq!(all_pages(&logger, q).await, events);
}

/// Someone with write access to Neo4j (or a migration) gives stored events properties of the
/// wrong type: a timestamp as text, a number for the UID, the details or the event type. Before,
/// the page that held the text timestamp failed whole (Neo4j's `.epochMillis` of text), and the
/// one with the number UID with "stored event without UID": the rest of the trail was unreadable.
/// Now every page comes back, each such event once, marked with the properties that are off, and
/// the cursors keep going, by the per-trail index (no filter) and by the shared one (a filter,
/// where the text timestamp sorts first).
#[tokio::test]
async fn an_event_with_a_property_of_the_wrong_type_is_marked_and_its_page_still_reads() {
    let logger = logger_with("read-invalid", &sample()).await;
    let all = all_pages(&logger, TrailQuery::default()).await;
    assert!(all.iter().all(|e| e.invalid.is_empty()));
    // Newest first: all[2] DOCUMENT_DELETED, all[3] DOCUMENT_SHARED, all[5] DOCUMENT_EDITED,
    // all[6] DOCUMENT_VIEWED are of the category read below.
    set_event(&all[2].uid, "e.timestamp = 'yesterday at noon'").await;
    let number_uid = 900_000_000 + (std::process::id() as i64 % 1000) * 1000 + (all[3].ts % 1000);
    set_event(&all[3].uid, &format!("e.UID = {number_uid}")).await;
    set_event(&all[5].uid, "e.details = 7").await;
    set_event(&all[6].uid, "e.eventType = 3").await;

    let expect = |e: &neo4j_audit::read::TrailEvent| -> (String, Vec<&str>) {
        let i = all.iter().position(|a| a.hash == e.hash).expect("an event of the trail");
        let invalid = match i {
            2 => vec!["timestamp"],
            3 => vec!["UID"],
            5 => vec!["details"],
            6 => vec!["eventType"],
            _ => vec![],
        };
        (if i == 3 { number_uid.to_string() } else { all[i].uid.clone() }, invalid)
    };
    let category = Some("DOCUMENT_MANAGEMENT".to_owned());
    for (filter, n) in [(None, 7), (category.clone(), 5)] {
        for limit in [1, 2, 3, 50] {
            let q = TrailQuery { limit: Some(limit), category: filter.clone(), ..Default::default() };
            let got = all_pages(&logger, q).await;
            let hashes: HashSet<_> = got.iter().map(|e| e.hash.clone()).collect();
            assert_eq!((got.len(), hashes.len()), (n, n), "limit {limit}, {filter:?}: every event once");
            for e in &got {
                let (uid, invalid) = expect(e);
                assert_eq!((&e.uid, e.invalid.iter().map(String::as_str).collect::<Vec<_>>()), (&uid, invalid));
            }
            let text = got.iter().find(|e| e.invalid == ["timestamp"]).unwrap();
            assert_eq!((text.timestamp.as_str(), text.ts), ("yesterday at noon", 0));
            let details = got.iter().find(|e| e.invalid == ["details"]).unwrap();
            assert_eq!(details.details, Some(json!("7")));
            if filter.is_some() {
                assert_eq!(got[0].invalid, ["timestamp"], "text sorts before the DateTimes");
            } else {
                let typed = got.iter().find(|e| e.invalid == ["eventType"]).unwrap();
                assert_eq!(typed.action_type, "");
            }
        }
    }
    // A time window on the event's own timestamp (the shared index) leaves out what has no time;
    // by the per-trail index the link's copy of the written time places it.
    for (filter, n) in [(None, 7), (category, 4)] {
        let q = TrailQuery { since: Some(0), category: filter, ..Default::default() };
        assert_eq!(logger.get_audit_trail(&q).await.unwrap().events.len(), n);
    }
}

/// A `timestamp` or `occurredAt` edited to a `DateTime` beyond a 64-bit count of milliseconds
/// (Neo4j stores years up to ±999,999,999; no writer stores one). Neo4j's `.epochMillis` of it
/// fails the whole statement ("long overflow"): every page that held it failed, and the pages
/// after it could not be reached. Now it is marked as a timestamp of another type is, and the
/// pages go on, by the trail's own index and by the shared one (where it sorts first).
#[tokio::test]
async fn a_datetime_beyond_64_bit_milliseconds_is_marked_and_its_page_still_reads() {
    let logger = logger_with("read-far-time", &sample()).await;
    let all = all_pages(&logger, TrailQuery::default()).await;
    // Newest first: all[2] DOCUMENT_DELETED and all[3] DOCUMENT_SHARED are of the category read below.
    set_event(&all[2].uid, "e.timestamp = datetime('+999999999-12-31T23:59:59Z')").await;
    set_event(&all[3].uid, "e.occurredAt = datetime('-999999999-01-01T00:00:00Z')").await;
    let category = Some("DOCUMENT_MANAGEMENT".to_owned());
    for (filter, n) in [(None, 7), (category, 5)] {
        for limit in [1, 2, 50] {
            let q = TrailQuery { limit: Some(limit), category: filter.clone(), ..Default::default() };
            let got = all_pages(&logger, q).await;
            let uids: HashSet<_> = got.iter().map(|e| e.uid.clone()).collect();
            assert_eq!((got.len(), uids.len()), (n, n), "limit {limit}, {filter:?}: every event once");
            for e in &got {
                let invalid: Vec<&str> = e.invalid.iter().map(String::as_str).collect();
                let expected: &[&str] = if e.uid == all[2].uid {
                    &["timestamp"]
                } else if e.uid == all[3].uid {
                    &["occurredAt"]
                } else {
                    &[]
                };
                assert_eq!(invalid, expected, "limit {limit}, {filter:?}: {e:?}");
            }
            let far = got.iter().find(|e| e.uid == all[2].uid).unwrap();
            assert!(far.timestamp.starts_with("+999999999-12-31T23:59:59"), "{far:?}");
            assert_eq!(far.ts, 0);
        }
    }
}

/// A timestamp stored as a list or a point sorts after every `DateTime` in Neo4j's descending
/// order (text, numbers and local times sort before them: the test above), and a page's time
/// cursor (`timestamp <= cursor`, null for such a value) passes over it. So where the event's own
/// timestamp orders the pages (a filter: the shared index) such an event is returned, marked, only
/// while no page has ended on a `DateTime` (docs/reading.md); by the trail's own index
/// (the link's copy of the written time) it keeps its place; `verifyTrail` reports it `edited`.
/// (Pins the documented limitation: a fix that pages them makes the `limit 1` count 5.)
#[tokio::test]
async fn a_timestamp_stored_as_a_list_or_a_point_sorts_last_and_is_passed_over_by_time_cursors() {
    let logger = logger_with("read-list-time", &sample()).await;
    let all = all_pages(&logger, TrailQuery::default()).await;
    // all[2] DOCUMENT_DELETED, all[3] DOCUMENT_SHARED: of the category read below.
    set_event(&all[2].uid, "e.timestamp = [2026, 11, 30]").await;
    set_event(&all[3].uid, "e.timestamp = point({x: 1, y: 2})").await;
    let category = Some("DOCUMENT_MANAGEMENT".to_owned());
    let read = |limit| TrailQuery { limit: Some(limit), category: category.clone(), ..Default::default() };
    let one_page = all_pages(&logger, read(50)).await;
    let uids: Vec<_> = one_page.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(uids, [&all[0].uid, &all[5].uid, &all[6].uid, &all[3].uid, &all[2].uid]);
    assert_eq!((one_page[4].timestamp.as_str(), one_page[4].ts), ("[2026,11,30]", 0));
    assert!(one_page[3..].iter().all(|e| e.invalid == ["timestamp"]));
    // Pages of one: the first ends on a DateTime, its time cursor passes over both.
    let paged = all_pages(&logger, read(1)).await;
    assert_eq!(paged.iter().map(|e| &e.uid).collect::<Vec<_>>(), [&all[0].uid, &all[5].uid, &all[6].uid]);
    // Unfiltered, by the link's copy of the written time: every event, in its place.
    let unfiltered = all_pages(&logger, TrailQuery { limit: Some(1), ..Default::default() }).await;
    assert_eq!(unfiltered.iter().map(|e| &e.hash).collect::<Vec<_>>(), all.iter().map(|e| &e.hash).collect::<Vec<_>>());
    let report = logger.verify_trail(&VerifyQuery::default()).await.unwrap();
    let first = report.streams[0].first_break.as_ref().expect("a break");
    assert_eq!((first.kind, first.uid.as_deref()), (neo4j_audit::chain::BreakKind::Edited, Some(all[3].uid.as_str())));
}

/// The `details` text of the trail's one event, as Neo4j stores it.
async fn stored_details(logger: &AuditLogger) -> String {
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.details",
        json!({"t": logger.config().trail}),
    )
    .await;
    rows[0][0].as_str().unwrap().to_owned()
}

/// A verification page is 1000 events, and a reader's answers are bounded (64 MiB + 2000 ×
/// its `max_details_bytes`, docs/reading.md): events written with larger details than
/// that page can hold (a writer whose `max_details_bytes` is above the reader's, or above what
/// even the largest bound, 512 MiB, holds in 1000 events) made every verification of the trail
/// fail with "the server's answer is larger than …", for good: `verifyTrail` has no page size
/// to lower. The page is halved until its answer fits, and the trail verifies.
#[tokio::test]
async fn a_trail_whose_verify_page_is_over_the_answer_bound_still_verifies() {
    let mut cfg = config("bigpage");
    cfg.max_details_bytes = 128 * 1024;
    let writer = AuditLogger::new(cfg.clone()).unwrap();
    writer.ensure_schema().await.unwrap();
    // 1000 events of ~70 KB: one page of them is ~70 MB, past the reader's 64 MiB + 2000 B.
    let blob = "x".repeat(70_000);
    let mut uids = Vec::new();
    for _ in 0..50 {
        let events: Vec<_> = (0..20)
            .map(|i| writer.build_event(None, "UPLOAD", Some("FILES"), Some(json!({"i": i, "blob": blob}))).unwrap())
            .collect();
        uids.extend(events.iter().map(|e| e.uid.clone()));
        writer.write(&events).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let mut read_cfg = cfg.clone();
    read_cfg.max_details_bytes = 1;
    let reader = AuditLogger::new(read_cfg).unwrap();
    let report = reader.verify_trail(&VerifyQuery::default()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 1000);
    assert_eq!(report.streams.len(), 1);
    assert_eq!(report.streams[0].checked, 1000);
    assert_eq!(report.streams[0].head_seq, Some(999));
    // Still every break is found where it is: one event edited in the second half.
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.eventType = 'EDITED'", json!({"u": uids[700]})).await;
    let report = reader.verify_trail(&VerifyQuery::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let b = report.streams[0].first_break.as_ref().unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(
        (b.kind, b.seq, b.uid.as_deref()),
        (neo4j_audit::chain::BreakKind::Edited, 700, Some(uids[700].as_str()))
    );
}

/// A cursor as this library writes one: base64url of `text` (`ms[zone]:UID`).
fn raw_cursor(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// A crafted cursor whose time zone Neo4j cannot read is `invalid input: cursor is not one this
/// library returned`, as any other cursor the library did not issue. Before, it went out and
/// Neo4j's error became the read's reason (`neo4j error Neo.ClientError.Statement.SyntaxError:
/// Invalid value for TimeZone: Text '+99:00' could not be parsed …`). A zone of no form Neo4j
/// gives (an offset beyond ±18:00 or with one digit, `.`, `-`, `GMT+1`) is refused before any
/// request, so with Neo4j down too; a region name of a zone's form that Neo4j does not know
/// (`Mars/Olympus`) is found by Neo4j, and refused in the same words.
#[tokio::test]
async fn a_cursor_with_a_time_zone_neo4j_cannot_read_is_invalid_input() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = neo4j_audit::Config::new(format!("http://127.0.0.1:{port}")).basic_auth("neo4j", "x");
    c.trail = unique("read-zone-down");
    let down = AuditLogger::new(c).unwrap();
    let up = AuditLogger::new(config("read-zone-bad")).unwrap();
    let refused = "invalid input: cursor is not one this library returned";
    // Representatives of each way to be wrong (the unit test `a_cursor_zone_has_a_form_neo4j_gives`
    // in src/read.rs holds the full table).
    for zone in ["+99:00", "+18:01", "+0200", "+02:00:60", ".", "GMT+1", "Europe/Berlin ", "ü"] {
        let cursor = Some(raw_cursor(&format!("1767225600000[{zone}]:x")));
        for (q, what) in [
            (TrailQuery { cursor: cursor.clone(), ..Default::default() }, "trail"),
            (TrailQuery { cursor: cursor.clone(), user_uid: Some("u".into()), ..Default::default() }, "user"),
            (TrailQuery { cursor: cursor.clone(), target: Some("Document:d".into()), ..Default::default() }, "target"),
        ] {
            for logger in [&down, &up] {
                let e = logger.audit_trail(&q).await.unwrap_err();
                assert!(matches!(e, AuditError::InvalidInput(_)), "{zone:?} {what}: {e:?}");
                assert!(e.to_string().starts_with(refused), "{zone:?} {what}: {e}");
            }
        }
    }
    // Of a zone's form, but no zone Neo4j knows: refused once Neo4j has said so.
    for zone in ["Mars/Olympus", "a/b", "Europe/Nowhere", "x"] {
        let q = TrailQuery { cursor: Some(raw_cursor(&format!("1767225600000[{zone}]:x"))), ..Default::default() };
        for q in [q.clone(), TrailQuery { user_uid: Some("u".into()), ..q }] {
            let e = up.audit_trail(&q).await.unwrap_err();
            assert!(matches!(e, AuditError::InvalidInput(_)), "{zone:?}: {e:?}");
            assert!(e.to_string().starts_with(refused), "{zone:?}: {e}");
            assert!(!e.to_string().contains("Neo.ClientError"), "{e}");
        }
    }
}

/// Every kind of zone Neo4j stores a time in (offsets with seconds, region names, `UTC`, `GMT0`)
/// makes a cursor the next page takes: the events of one instant, each stored in another zone,
/// page by one without an event skipped or repeated, through the per-trail index, the shared
/// index (a user filter) and the `ON` links (a target).
#[tokio::test]
async fn events_of_one_instant_in_every_kind_of_zone_page_by_one_without_a_gap_or_a_repeat() {
    let logger = AuditLogger::new(config("read-zones")).unwrap();
    logger.ensure_schema().await.unwrap();
    let trail = logger.config().trail.clone();
    let doc = unique("zone-doc");
    cypher("CREATE (:Document {UID: $doc})", json!({"doc": doc})).await;
    let zones =
        ["Z", "+02:00", "+02:00:30", "-18:00", "+18:00", "Europe/Berlin", "Etc/GMT+5", "UTC", "GMT0", "EST5EDT"];
    let u = User::new("zone-user");
    for _ in 0..zones.len() + 2 {
        let opts = neo4j_audit::LogOptions::default().target(neo4j_audit::Target::new("Document", doc.as_str()));
        logger.log_user_action_with(Some(&u), "LOGIN", Some("SECURITY"), None, &opts).await.unwrap();
    }
    // One instant for all (event, trail link and target link), each event in a zone of the list
    // (the last ones in UTC, as written).
    cypher(
        "MATCH (:AuditTrail {name: $trail})-[r:HAS_EVENT]->(ev) OPTIONAL MATCH (ev)-[o:ON]->() \
         WITH r, ev, o, $zones[ev.seq] AS zone \
         WITH r, ev, o, datetime({epochMillis: 1767225600000, timezone: coalesce(zone, 'Z')}) AS t \
         SET ev.timestamp = t, r.created = t, o.created = t",
        json!({"trail": trail, "zones": zones}),
    )
    .await;
    let all = zones.len() + 2;
    for (what, q) in [
        ("per-trail index", TrailQuery { limit: Some(1), ..Default::default() }),
        ("shared index", TrailQuery { limit: Some(1), user_uid: Some("zone-user".into()), ..Default::default() }),
        ("target", TrailQuery { limit: Some(1), target: Some(format!("Document:{doc}")), ..Default::default() }),
        ("pages of 2", TrailQuery { limit: Some(2), category: Some("SECURITY".into()), ..Default::default() }),
    ] {
        let got = all_pages(&logger, q).await;
        let uids: HashSet<&str> = got.iter().map(|e| e.uid.as_str()).collect();
        assert_eq!((got.len(), uids.len()), (all, all), "{what}: {:?}", got.iter().map(|e| e.seq).collect::<Vec<_>>());
        assert!(got.iter().all(|e| e.ts == 1767225600000), "{what}");
    }
}

/// Refusals of the Rust API name the fields as Rust writes them (`user_uid`, `action_type`,
/// `stream_id`, `public_keys`); they named JavaScript's options (`userUid must be …`), which a Rust
/// program has none of. The JavaScript builds keep their names (tests/node/read-inputs.test.mjs).
#[tokio::test]
async fn a_refusal_names_the_field_as_rust_writes_it() {
    let logger = AuditLogger::new(config("read-rust-names")).unwrap();
    for (q, want) in [
        (
            TrailQuery { user_uid: Some("".into()), ..Default::default() },
            "invalid input: user_uid must be a non-empty string",
        ),
        (TrailQuery { user_uid: Some("a\nb".into()), ..Default::default() }, "invalid input: user_uid must be"),
        (
            TrailQuery { action_type: Some("Doc opened".into()), ..Default::default() },
            "invalid input: action_type must be 1-64 characters",
        ),
        (
            TrailQuery { category: Some("".into()), ..Default::default() },
            "invalid input: category must be 1-64 characters",
        ),
        (TrailQuery { limit: Some(0), ..Default::default() }, "invalid input: limit must be between 1 and 1000"),
        (
            TrailQuery { since: Some(2), until: Some(1), ..Default::default() },
            "invalid input: until must be later than since",
        ),
    ] {
        let e = logger.audit_trail(&q).await.unwrap_err().to_string();
        assert!(e.starts_with(want), "{q:?}: {e}");
        assert!(!e.contains("userUid") && !e.contains("actionType"), "{e}");
    }
    let e = logger.user_activity("u", &TrailQuery { action_type: Some("a b".into()), ..Default::default() }).await;
    assert!(e.unwrap_err().to_string().starts_with("invalid input: action_type must be"));
    let e = logger
        .target_activity("Document", "d", &TrailQuery { action_type: Some("".into()), ..Default::default() })
        .await;
    assert!(e.unwrap_err().to_string().starts_with("invalid input: action_type must be"));
    // The statement builders alike.
    let q = TrailQuery { user_uid: Some(" ".into()), ..Default::default() };
    let e = trail_statement(&Labels::default(), "t", &q).unwrap_err().to_string();
    assert!(e.starts_with("invalid input: user_uid must be"), "{e}");

    let other = AuditLogger::new(config("read-rust-names-other")).unwrap();
    other.log_user_action(None, "LOGIN", None, None).await.unwrap();
    let foreign = other.chain_head().stream_id;
    let q = VerifyQuery { stream_id: Some(foreign), ..Default::default() };
    let e = logger.verify_trail(&q).await.unwrap_err().to_string();
    assert!(e.starts_with("invalid input: stream_id: stream "), "{e}");
    // No stream has an empty id: refused, not `ok` with a stream "" of nothing checked.
    let q = VerifyQuery { stream_id: Some(String::new()), ..Default::default() };
    let e = logger.verify_trail(&q).await.unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid input: stream_id must be a non-empty string of at most 1024 bytes without control characters (a stream's id, as chain_head() gives it)"
    );
    let q = VerifyQuery { public_keys: Some(Vec::new().into()), ..Default::default() };
    assert_eq!(logger.verify_trail(&q).await.unwrap_err().to_string(), "invalid input: public_keys is empty");
    let jwk: neo4j_audit::sign::PublicJwk = serde_json::from_value(json!({"kid": "k", "x": "short"})).unwrap();
    let q = VerifyQuery { public_key: Some(jwk), ..Default::default() };
    let e = logger.verify_trail(&q).await.unwrap_err().to_string();
    assert!(e.starts_with("invalid input: public_keys: "), "{e}");
}

/// `since` and `until` are instants, whatever zone an event's time is stored in: a window of one
/// event's millisecond holds that event. Neo4j orders the `DateTime`s of one instant by zone (one
/// west of UTC before UTC's), so a bound written in UTC left out an event stored at exactly
/// `since` in such a zone (an empty page for its own millisecond) and took it in at exactly
/// `until`; `verify_trail`'s `since` left it out of the window alike.
#[tokio::test]
async fn a_window_bound_is_the_instant_whatever_zone_the_event_is_stored_in() {
    let logger = logger_with("read-window-zone", &sample()[..4]).await;
    let trail = logger.config().trail.clone();
    // Each event's time (and its link's) at the same instant in a zone west of UTC: the chain
    // covers `epochMillis`, so it still verifies.
    cypher(
        "MATCH (:AuditTrail {name: $trail})-[r:HAS_EVENT]->(ev) \
         WITH r, ev, datetime({datetime: ev.timestamp, timezone: 'America/New_York'}) AS t \
         SET ev.timestamp = t, r.created = t",
        json!({"trail": trail}),
    )
    .await;
    let all = all_pages(&logger, TrailQuery::default()).await;
    assert_eq!(all.len(), 4);
    for e in &all {
        let same: Vec<&str> = all.iter().filter(|x| x.ts == e.ts).map(|x| x.uid.as_str()).collect();
        let user = e.user_uid.clone();
        for (what, q) in [
            ("trail", TrailQuery::default()),
            ("user", TrailQuery { user_uid: user, ..Default::default() }),
            ("category", TrailQuery { category: Some(e.category.clone()), ..Default::default() }),
        ] {
            let at = TrailQuery { since: Some(e.ts), until: Some(e.ts + 1), ..q.clone() };
            let got = all_pages(&logger, at).await;
            assert!(got.iter().any(|x| x.uid == e.uid), "{what}: the window of its millisecond holds it");
            assert!(got.iter().all(|x| same.contains(&x.uid.as_str())), "{what}");
            for q in [TrailQuery { until: Some(e.ts), ..q.clone() }, TrailQuery { since: Some(e.ts + 1), ..q.clone() }]
            {
                let got = all_pages(&logger, q.clone()).await;
                assert!(got.iter().all(|x| x.uid != e.uid), "{what}: {q:?} leaves it out");
            }
        }
    }
    let oldest = all.iter().map(|e| e.ts).min().unwrap();
    let report = logger.verify_trail(&VerifyQuery { since: Some(oldest), ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 4, "{report:?}");
}

/// A `since` / `until` in another unit than epoch milliseconds: epoch seconds (`as_secs()`, 10
/// digits) read as a time in January 1970, so `since` found every event and `until` none, with no
/// word; microseconds or nanoseconds (16, 19 digits) read as a time after the year 2286. Refused
/// now, naming the unit, as the CLI refuses such a `--since`; milliseconds, instants before 1970 and
/// small numbers (`since: 0`) read as before.
#[tokio::test]
async fn a_since_in_epoch_seconds_or_microseconds_is_refused_not_read_as_january_1970() {
    let logger = logger_with("read-since-unit", &sample()).await;
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let secs = ms / 1000;
    let refused = |since: Option<i64>, until: Option<i64>| TrailQuery { since, until, ..Default::default() };
    for (q, want) in [
        (refused(Some(secs), None), format!("invalid input: since {secs} reads as epoch milliseconds, 1970-")),
        (refused(None, Some(secs)), format!("invalid input: until {secs} reads as epoch milliseconds, 1970-")),
        (refused(Some(20_261_205), None), "invalid input: since 20261205 reads as epoch milliseconds, 1970-01-01T05:37:41.205Z (epoch seconds? give milliseconds, 20261205000; a date? give it with dashes".into()),
        (
            refused(Some(ms * 1000), None),
            format!("invalid input: since {} reads as epoch milliseconds after the year 2286 (epoch microseconds? give milliseconds, {ms};", ms * 1000),
        ),
        (
            refused(None, Some(ms * 1_000_000)),
            format!("invalid input: until {} reads as epoch milliseconds after the year 2286 (epoch nanoseconds? give milliseconds, {ms};", ms * 1_000_000),
        ),
    ] {
        let e = logger.audit_trail(&q).await.unwrap_err().to_string();
        assert!(e.starts_with(&want), "{q:?}: {e}");
        assert!(e.ends_with("; since and until are epoch milliseconds, like 1767225600000)"), "{e}");
        let e = logger.user_activity("ann", &q).await.unwrap_err().to_string();
        assert!(e.starts_with(&want), "{e}");
        let e = logger.target_activity("Document", "d1", &q).await.unwrap_err().to_string();
        assert!(e.starts_with(&want), "{e}");
    }
    let v = VerifyQuery { since: Some(secs), ..Default::default() };
    let e = logger.verify_trail(&v).await.unwrap_err().to_string();
    assert!(e.starts_with(&format!("invalid input: since {secs} reads as epoch milliseconds, 1970-")), "{e}");
    let e = logger.verify_trail_page(&v, None, 1000).await.unwrap_err().to_string();
    assert!(e.starts_with("invalid input: since "), "{e}");
    // Milliseconds, before 1970, 0 and up to 7 digits: the instants they are (read back).
    for (since, n) in [
        (Some(ms - 3_600_000), 7),
        (Some(-86_400_000), 7),
        (Some(0), 7),
        (Some(9_999_999), 7),
        (Some(ms + 3_600_000), 0),
    ] {
        let page = logger.audit_trail(&TrailQuery { since, ..Default::default() }).await.unwrap();
        assert_eq!(page.events.len(), n, "{since:?}");
    }
    let page = logger.audit_trail(&refused(None, Some(ms + 3_600_000))).await.unwrap();
    assert_eq!(page.events.len(), 7);
    let report = logger.verify_trail(&VerifyQuery { since: Some(ms - 3_600_000), ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 7, "{report:?}");
}

/// A blank stream id (`" "`, an unset variable's value padded), or a stream's id with white space
/// or a line break at an end (`id + "\n"`, read from a file), names no stream: `verify_trail` was
/// `ok` with `checked: 0`, which the docs tell an auditor to trust. Refused as the rule table
/// refuses such an identifier; the id as `chain_head()` gives it verifies its stream.
#[tokio::test]
async fn a_blank_or_padded_stream_id_is_refused_not_verified_as_nothing() {
    let logger = logger_with("read-blank-stream", &sample()[..2]).await;
    let id = logger.chain_head().stream_id;
    for bad in
        [" ".to_owned(), "\t".into(), " \u{3000} ".into(), format!("{id} "), format!("{id}\n"), format!("\u{a0}{id}")]
    {
        let q = VerifyQuery { stream_id: Some(bad.clone()), ..Default::default() };
        let e = logger.verify_trail(&q).await.unwrap_err().to_string();
        assert!(e.starts_with("invalid input: stream_id must "), "{bad:?}: {e}");
        assert!(e.ends_with(" (a stream's id, as chain_head() gives it)"), "{bad:?}: {e}");
        let e = logger.verify_trail_page(&q, None, 1000).await.unwrap_err().to_string();
        assert!(e.starts_with("invalid input: stream_id must "), "{bad:?}: {e}");
    }
    let q = VerifyQuery { stream_id: Some(format!("{id} ")), ..Default::default() };
    let e = logger.verify_trail(&q).await.unwrap_err().to_string();
    assert!(e.starts_with("invalid input: stream_id must not begin or end with white space"), "{e}");
    let report = logger.verify_trail(&VerifyQuery { stream_id: Some(id), ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 2 && report.streams.len() == 1, "{report:?}");
}
