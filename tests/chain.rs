#![cfg(not(target_arch = "wasm32"))]
//! Tamper evidence against the real Neo4j: events are chained as written; editing, deleting,
//! inserting and reordering nodes directly in the database is found, at exactly those nodes.

mod common;

use common::*;
use neo4j_audit::chain::{event_hash, BreakKind, GENESIS};
use neo4j_audit::read::{TrailQuery, VerifyQuery};
use neo4j_audit::{AuditLogger, User};
use serde_json::{json, Value};

/// The ingest handler's host I/O for the tests that run it natively: the request body as given,
/// no rate limit, no log.
struct TestIo(String);
impl neo4j_audit::ingest::Io for TestIo {
    async fn read_body(&self, _limit: usize) -> Result<String, neo4j_audit::ingest::ReadError> {
        Ok(self.0.clone())
    }
    async fn rate_limit(&self, _key: &str) -> Result<bool, String> {
        Ok(true)
    }
    fn log(&self, _line: &str) {}
}

/// The ingest handler's settings for the native tests: `trail`, the local Neo4j, a signing key.
fn worker_settings(trail: &str) -> neo4j_audit::ingest::Settings {
    worker_settings_with(trail, vec![])
}

/// [`worker_settings`] with the settings in `over` set (or added) instead; one set to `""` is
/// left unset.
/// The Worker's settings after its signing key moved from native-k1 to native-k2, with native-k1
/// still listed in AUDIT_PUBLIC_KEYS (`listed`) or removed.
fn rotated_to_k2(trail: &str, before: &neo4j_audit::ingest::Settings, listed: bool) -> neo4j_audit::ingest::Settings {
    let mut over = vec![
        ("AUDIT_SIGNING_KEY", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb".to_owned()),
        ("AUDIT_SIGNING_KEY_ID", "native-k2".to_owned()),
    ];
    if listed {
        let old_x = &before.public_keys.iter().find(|k| k.kid == "native-k1").unwrap().x;
        over.push(("AUDIT_PUBLIC_KEYS", format!("native-k1:{old_x}")));
    }
    worker_settings_with(trail, over)
}

fn worker_settings_with(trail: &str, over: Vec<(&'static str, String)>) -> neo4j_audit::ingest::Settings {
    let (url, user, pw, t) = (neo4j_url(), neo4j_user(), neo4j_password(), trail.to_owned());
    neo4j_audit::ingest::Settings::from_env(move |k| match k {
        k if over.iter().any(|(o, _)| *o == k) => {
            over.iter().find(|(o, _)| *o == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
        }
        // The defaults.
        "AUDIT_JWT_SECRET" => Some(WORKER_JWT_SECRET.into()),
        "NEO4J_URL" => Some(url.clone()),
        "NEO4J_USER" => Some(user.clone()),
        "NEO4J_PASSWORD" => Some(pw.clone()),
        "AUDIT_TRAIL" => Some(t.clone()),
        "ALLOWED_ORIGINS" => Some("https://app.example".into()),
        "AUDIT_SIGNING_KEY" => Some("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60".into()),
        "AUDIT_SIGNING_KEY_ID" => Some("native-k1".into()),
        "VERIFY_SUBJECTS" => Some("u-1".into()),
        _ => None,
    })
}

/// A fresh trail with the ingest handler's settings for it, a logger on the same Neo4j, the
/// current time in seconds and a signed `POST /v1/events` ([`worker_post`]).
struct WorkerTrail {
    trail: String,
    settings: neo4j_audit::ingest::Settings,
    logger: AuditLogger,
    now: i64,
    req: neo4j_audit::ingest::Request,
}

fn worker_trail(prefix: &str) -> WorkerTrail {
    let trail = unique(prefix);
    let settings = worker_settings(&trail);
    let logger = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let now = neo4j_audit::event::now_millis() / 1000;
    WorkerTrail { trail, settings, logger, now, req: worker_post() }
}

/// Posts `body` to the ingest handler of `w`'s trail (its signed `POST /v1/events`) and checks
/// it was stored (201): the Worker's stream of that trail, written.
async fn worker_writes(w: &WorkerTrail, body: &str) -> neo4j_audit::ingest::Response {
    let r = neo4j_audit::ingest::handle(&w.req, &w.settings, w.now, &TestIo(body.into()), Some(&w.logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r
}

impl WorkerTrail {
    /// `POST /v1/events` with `body` (as user `u-1`): 201, the answer's JSON.
    async fn post(&self, body: String) -> Value {
        let r =
            neo4j_audit::ingest::handle(&self.req, &self.settings, self.now, &TestIo(body), Some(&self.logger)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// 1000 events, `A0` … `A999`, in ten requests of 100: a `limit=1000` verify page ends with a cursor.
    async fn post_thousand(&self) {
        for r in 0..10 {
            let events: Vec<String> = (0..100).map(|i| format!(r#"{{"actionType":"A{}"}}"#, r * 100 + i)).collect();
            self.post(format!(r#"{{"events":[{}]}}"#, events.join(","))).await;
        }
    }

    /// `GET /v1/verify?{query}` as user `u-1` (a VERIFY_SUBJECT): the status and the answer's JSON.
    async fn verify_get(&self, query: &str) -> (u16, Value) {
        let req = neo4j_audit::ingest::Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query: query.into(),
            headers: vec![self.req.headers[0].clone()], // its Authorization
        };
        let r = neo4j_audit::ingest::handle(&req, &self.settings, self.now, &TestIo(String::new()), Some(&self.logger))
            .await;
        (r.status, serde_json::from_str(&r.body).unwrap())
    }
}

/// A `GET /v1/verify` answer's `ok` and its first stream's first break (`kind`, `seq`).
fn break_of(page: &Value) -> (Value, Value, Value) {
    let b = &page["streams"][0]["firstBreak"];
    (page["ok"].clone(), b["kind"].clone(), b["seq"].clone())
}

const WORKER_JWT_SECRET: &str = "chain-test-jwt-secret-0123456789abcdef";

/// A `POST /v1/events` to the ingest handler from the allowed origin, as user `u-1` with a token
/// signed by [`worker_settings`]' key (the body is set per request).
fn worker_post() -> neo4j_audit::ingest::Request {
    let now = neo4j_audit::event::now_millis() / 1000;
    let token = neo4j_audit::ingest::jwt::sign_hs256(
        WORKER_JWT_SECRET.as_bytes(),
        &json!({"sub": "u-1", "aud": "neo4j-audit", "exp": now + 60}),
    );
    neo4j_audit::ingest::Request {
        method: "POST".into(),
        path: "/v1/events".into(),
        headers: vec![
            ("Authorization".into(), format!("Bearer {token}")),
            ("Content-Type".into(), "application/json".into()),
            ("Origin".into(), "https://app.example".into()),
        ],
        ..Default::default()
    }
}

/// A logger with `n` events written one after the other; returns it and the events' UIDs by seq.
async fn chained(prefix: &str, n: usize) -> (AuditLogger, Vec<String>) {
    let logger = AuditLogger::new(config(prefix)).unwrap();
    let mut uids = Vec::new();
    for i in 0..n {
        let u = User::new(format!("user-{}", i % 2)).name("Ann");
        let ev = logger
            .log_user_action(Some(&u), "DOCUMENT_VIEWED", Some("DOCUMENT_MANAGEMENT"), Some(&json!({"i": i})))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.seq, Some(i as u64));
        uids.push(ev.uid);
    }
    (logger, uids)
}

async fn verify(logger: &AuditLogger) -> neo4j_audit::chain::VerifyReport {
    logger.verify_trail(&VerifyQuery::default()).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn stored_chain_is_intact_and_matches_the_head() {
    let (logger, uids) = chained("chain-ok", 6).await;
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.UID, ev.seq, ev.prevHash, ev.hash, ev.streamId ORDER BY ev.seq",
        json!({"t": logger.config().trail}),
    )
    .await;
    assert_eq!(rows.len(), 6);
    let head = logger.chain_head();
    assert_eq!(rows[0][2], json!(GENESIS));
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], json!(uids[i]));
        assert_eq!(r[1], json!(i));
        assert_eq!(r[4], json!(head.stream_id));
        if i > 0 {
            assert_eq!(r[2], rows[i - 1][3], "prevHash links to the previous hash");
        }
    }
    assert_eq!(rows[5][3], json!(head.head));
    assert_eq!(head.next_seq, 6);

    let report = verify(&logger).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 6);
    assert_eq!(report.streams.len(), 1);
    let s = &report.streams[0];
    assert_eq!(s.stream_id, head.stream_id);
    assert_eq!((s.head_seq, s.head_hash.as_deref()), (Some(5), Some(head.head.as_str())));
}

#[tokio::test]
async fn an_edited_field_is_found_at_that_event() {
    let (logger, uids) = chained("chain-edit", 6).await;
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.userName = 'Mallory'", json!({"u": uids[3]})).await;
    let report = verify(&logger).await;
    assert!(!report.ok);
    let b = report.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 3, Some(uids[3].as_str())), "{b:?}");

    // Editing the timestamp is found too (the hash covers epoch milliseconds).
    let (logger, uids) = chained("chain-edit-ts", 3).await;
    cypher(
        "MATCH (ev:AuditEvent {UID: $u}) SET ev.timestamp = ev.timestamp + duration({seconds: 1})",
        json!({"u": uids[1]}),
    )
    .await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.uid.as_deref()), (BreakKind::Edited, Some(uids[1].as_str())));
}

#[tokio::test]
async fn a_deleted_event_is_a_seq_gap() {
    let (logger, uids) = chained("chain-delete", 6).await;
    cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", json!({"u": uids[2]})).await;
    let report = verify(&logger).await;
    let b = report.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq), (BreakKind::Deleted, 2), "{b:?}");
    assert_eq!(b.uid.as_deref(), Some(uids[3].as_str()), "the first event after the gap");
    assert_eq!(report.checked, 5);

    // Deleting the first event: the stream no longer starts at seq 0.
    let (logger, uids) = chained("chain-delete-first", 3).await;
    cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", json!({"u": uids[0]})).await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq), (BreakKind::Deleted, 0));
}

/// The README's anchored check from Rust: `chain_head()` kept outside the database, passed back
/// through `StreamState::anchor()` and the root's `Anchor`, catches a tail cut that verifies
/// without it. (Before, a Rust caller had only `StreamState {stream_id, next_seq, head}` and an
/// `Anchor` reachable through the hidden `read` module: the conversion, `next_seq - 1`, was theirs.)
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn a_tail_cut_is_caught_by_the_anchor_of_chain_head() {
    let logger = AuditLogger::new(config("chain-anchor-head")).unwrap();
    assert_eq!(logger.chain_head().anchor(), None, "no event built yet: nothing to anchor");
    let (logger, uids) = chained("chain-anchor-head", 4).await;
    let head = logger.chain_head();
    let anchor: neo4j_audit::Anchor = head.anchor().unwrap();
    assert_eq!(
        (anchor.stream_id.as_str(), anchor.seq, anchor.hash.as_str()),
        (head.stream_id.as_str(), 3, head.head.as_str())
    );
    // Saved as JSON (the shape of JavaScript's chainHead() and the CLI's --anchor) and read back.
    let saved = serde_json::to_value(&anchor).unwrap();
    assert_eq!(saved, json!({"streamId": head.stream_id, "seq": 3, "hash": head.head}));
    let anchor: neo4j_audit::Anchor = serde_json::from_value(saved).unwrap();
    let anchored = VerifyQuery { anchors: vec![anchor], ..Default::default() };
    let report = logger.verify_trail(&anchored).await.unwrap();
    assert!(report.ok && report.checked == 4, "{report:?}");
    cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", json!({"u": uids[3]})).await;
    assert!(verify(&logger).await.ok, "a tail cut verifies without an anchor");
    let report = logger.verify_trail(&anchored).await.unwrap();
    let b = report.streams[0].first_break.clone().unwrap();
    assert_eq!((report.ok, b.kind, b.seq), (false, BreakKind::Deleted, 3), "{report:?}");
}

/// An anchor whose hash is not a hash as the chain writes it (64 lowercase hex digits) — the
/// right head copied in upper case, with a stray space, or cut short — could match no stored
/// event: it is refused as invalid input, never a `forged` verdict on an intact stream (before,
/// `verify --anchor` with the intact head in upper case said BROKEN, "rewritten up to the
/// anchored head").
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn an_anchor_whose_hash_is_not_lowercase_hex_is_refused_not_a_forgery() {
    let (logger, _) = chained("chain-anchor-malformed", 2).await;
    let good = logger.chain_head().anchor().unwrap();
    let report = logger.verify_trail(&VerifyQuery { anchors: vec![good.clone()], ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
    for hash in [good.hash.to_uppercase(), format!(" {}", good.hash), good.hash[..63].to_owned(), String::new()] {
        let anchor = neo4j_audit::Anchor { hash, ..good.clone() };
        let q = VerifyQuery { anchors: vec![anchor.clone()], ..Default::default() };
        match logger.verify_trail(&q).await {
            Err(neo4j_audit::AuditError::InvalidInput(m)) => {
                assert!(m.starts_with("anchors: ") && m.contains("64 lowercase hex digits"), "{m}");
                assert!(m.contains(&good.stream_id), "names the anchor's stream: {m}");
            }
            other => panic!("{:?}: {other:?}", anchor.hash),
        }
    }
}

/// An anchor of another trail's stream (another trail's report passed to this trail's check) names
/// a stream whose id binds it to that trail, so none of its events can be this trail's: it is
/// refused as invalid input. Before, each such stream was reported `Deleted` at `seq` 0, "cut off
/// the end", an honest trail BROKEN.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn an_anchor_of_a_stream_bound_to_another_trail_is_refused_not_a_deletion() {
    let (other, _) = chained("chain-anchor-other-a", 1).await;
    let (logger, _) = chained("chain-anchor-other-b", 1).await;
    let foreign = other.chain_head().anchor().unwrap();
    let q = VerifyQuery { anchors: vec![logger.chain_head().anchor().unwrap(), foreign.clone()], ..Default::default() };
    match logger.verify_trail(&q).await {
        Err(neo4j_audit::AuditError::InvalidInput(m)) => {
            assert!(m.starts_with(&format!("anchors: the anchor of stream {} at seq 0: ", foreign.stream_id)), "{m}");
            assert!(m.contains("the stream's id does not bind it to trail \"chain-anchor-other-b-"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // In its own trail the same anchor passes.
    let report = other.verify_trail(&VerifyQuery { anchors: vec![foreign], ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 1, "{report:?}");
}

/// A `stream_id` filter naming a stream bound to another trail (`verify --stream` with another
/// trail's stream, or a mistyped id) is refused, saying why; it read as a trail with no events
/// ("NOTHING VERIFIED"), with nothing saying that the stream was another trail's.
#[tokio::test]
#[cfg(not(feature = "worker"))]
async fn a_stream_filter_bound_to_another_trail_is_refused() {
    let (other, _) = chained("chain-stream-other-a", 1).await;
    let (logger, _) = chained("chain-stream-other-b", 1).await;
    let foreign = other.chain_head().stream_id;
    let q = VerifyQuery { stream_id: Some(foreign.clone()), ..Default::default() };
    match logger.verify_trail(&q).await {
        Err(neo4j_audit::AuditError::InvalidInput(m)) => {
            assert!(
                m.starts_with(&format!(
                    "stream_id: stream {foreign}'s id does not bind it to trail \"chain-stream-other-b-"
                )),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    // In its own trail the same filter verifies that stream; a plain (unbound) id is taken as before.
    let report = other.verify_trail(&q).await.unwrap();
    assert!(report.ok && report.checked == 1, "{report:?}");
    let plain = VerifyQuery { stream_id: Some("0b7d5a4e-35a8-4c8e-9d7e-1f1f5d0e2a11".into()), ..Default::default() };
    let report = logger.verify_trail(&plain).await.unwrap();
    assert_eq!(report.checked, 0, "{report:?}");
}

#[tokio::test]
async fn an_inserted_event_is_found() {
    // A copy of event 4 with another UID and other details, claiming the same seq.
    let (logger, uids) = chained("chain-insert", 6).await;
    let trail = logger.config().trail.clone();
    cypher(
        "MATCH (t:AuditTrail {name: $t})-[:HAS_EVENT]->(orig:AuditEvent {UID: $u}) \
         CREATE (t)-[:HAS_EVENT]->(fake:AuditEvent) \
         SET fake = orig {.*, UID: 'intruder-' + $u, details: '{\"i\":99}'}",
        json!({"t": trail, "u": uids[4]}),
    )
    .await;
    let report = verify(&logger).await;
    let b = report.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq), (BreakKind::Inserted, 4), "{b:?}");
    assert_eq!(b.uid, Some(format!("intruder-{}", uids[4])), "the genuine event is kept, the intruder named");

    // An event without any chain fields.
    let (logger, _) = chained("chain-insert-bare", 2).await;
    cypher(
        "MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT]->(:AuditEvent {UID: 'bare-' + $t, eventType: 'X', timestamp: datetime()})",
        json!({"t": logger.config().trail}),
    )
    .await;
    let report = verify(&logger).await;
    assert!(!report.ok);
    assert!(report.streams[0].ok, "the chained stream itself is intact");
    assert_eq!(report.unchained, 1);
    assert_eq!(report.unchained_uids, vec![format!("bare-{}", logger.config().trail)]);
}

/// An unchained event whose `UID` is not a string (a number, or none at all) is named too, by
/// its Neo4j element id (`elementId:<id>`): it was counted in `unchained` but not listed, so an
/// auditor could not find what the count was about. A string UID that itself starts with
/// `elementId:` is named by its element id as well, so every such entry is an element id.
#[tokio::test]
async fn an_unchained_event_with_a_non_string_uid_is_named_by_its_element_id() {
    let (logger, _) = chained("chain-uid-type", 2).await;
    let trail = logger.config().trail.clone();
    let ids = cypher(
        "MATCH (t:AuditTrail {name: $t}) \
         CREATE (t)-[:HAS_EVENT]->(a:AuditEvent {UID: toInteger(rand() * 1e15), eventType: 'X', timestamp: datetime()}) \
         CREATE (t)-[:HAS_EVENT]->(b:AuditEvent {eventType: 'X', timestamp: datetime()}) \
         CREATE (t)-[:HAS_EVENT]->(c:AuditEvent {UID: 'elementId:' + $t, eventType: 'X', timestamp: datetime()}) \
         CREATE (t)-[:HAS_EVENT]->(d:AuditEvent {UID: 'plain-' + $t, eventType: 'X', timestamp: datetime()}) \
         RETURN elementId(a), elementId(b), elementId(c)",
        json!({"t": trail}),
    )
    .await;
    let report = verify(&logger).await;
    assert!(!report.ok && report.streams[0].ok, "{report:?}");
    assert_eq!(report.unchained, 4, "{report:?}");
    let mut named = report.unchained_uids.clone();
    named.sort();
    let mut want: Vec<String> =
        ids[0].iter().map(|v| format!("elementId:{}", v.as_str().unwrap())).chain([format!("plain-{trail}")]).collect();
    want.sort();
    assert_eq!(named, want, "every unchained event named, a non-string UID by its element id");
    // What README tells the auditor to run finds the node the entry names.
    for id in named.iter().filter_map(|n| n.strip_prefix("elementId:")) {
        let rows = cypher("MATCH (ev:AuditEvent) WHERE elementId(ev) = $id RETURN count(ev)", json!({"id": id})).await;
        assert_eq!(rows[0][0], json!(1), "{id}");
    }
}

#[tokio::test]
async fn reordered_events_are_found_even_when_rehashed() {
    // Swap seq 2 and 3 and give each a hash that matches its new fields: each event is
    // self-consistent, but event 3's prevHash no longer is the hash of the new event 2.
    let (logger, uids) = chained("chain-reorder", 5).await;
    let rows = cypher(
        "MATCH (ev:AuditEvent) WHERE ev.UID IN $u \
         RETURN ev.UID, ev.eventType, ev.eventCategory, ev.timestamp.epochMillis, ev.userUID, ev.userName, \
         ev.details, ev.streamId, ev.seq, ev.prevHash",
        json!({"u": [uids[2], uids[3]]}),
    )
    .await;
    for r in rows {
        let new_seq = if r[0] == json!(uids[2]) { 3 } else { 2 };
        let mut ev = neo4j_audit::AuditEvent::build(None, "X", None, None, 10).unwrap();
        let s = |v: &Value| v.as_str().map(str::to_owned);
        ev.uid = s(&r[0]).unwrap();
        ev.action_type = s(&r[1]).unwrap();
        ev.category = s(&r[2]).unwrap();
        ev.ts = r[3].as_i64().unwrap();
        ev.user_uid = s(&r[4]);
        ev.user_name = s(&r[5]);
        ev.details = s(&r[6]);
        ev.stream_id = s(&r[7]);
        ev.seq = Some(new_seq);
        let hash = event_hash(&ev, r[9].as_str().unwrap());
        cypher(
            "MATCH (ev:AuditEvent {UID: $u}) SET ev.seq = $seq, ev.hash = $hash",
            json!({"u": ev.uid, "seq": new_seq, "hash": hash}),
        )
        .await;
    }
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Reordered, 2, Some(uids[3].as_str())), "{b:?}");
}

#[tokio::test]
async fn streams_are_verified_separately_and_can_be_filtered() {
    // Two loggers on one trail: two streams; damage in one leaves the other intact.
    let (a, a_uids) = chained("chain-streams", 3).await;
    let mut cfg = config("unused");
    cfg.trail = a.config().trail.clone();
    let b = AuditLogger::new(cfg).unwrap();
    for _ in 0..4 {
        b.log_user_action(None, "SYSTEM", None, None).await.unwrap();
    }
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.details = '{}'", json!({"u": a_uids[1]})).await;
    let report = verify(&a).await;
    assert_eq!(report.streams.len(), 2);
    assert_eq!(report.checked, 7);
    let sa = report.streams.iter().find(|s| s.stream_id == a.chain_head().stream_id).unwrap();
    let sb = report.streams.iter().find(|s| s.stream_id == b.chain_head().stream_id).unwrap();
    assert_eq!(sa.first_break.as_ref().map(|x| (x.kind, x.seq)), Some((BreakKind::Edited, 1)));
    assert!(sb.ok && sb.checked == 4 && sb.head_hash.as_deref() == Some(b.chain_head().head.as_str()));

    let only_b =
        b.verify_trail(&VerifyQuery { stream_id: Some(b.chain_head().stream_id), ..Default::default() }).await.unwrap();
    assert!(only_b.ok && only_b.streams.len() == 1 && only_b.checked == 4, "{only_b:?}");

    // A `since` window starting right after the damaged event of stream a still reports it (its
    // check starts from the event before the window); stream b is intact in it.
    let rows = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": a_uids[2]})).await;
    let since = rows[0][0].as_i64().unwrap();
    let window = a.verify_trail(&VerifyQuery { since: Some(since), ..Default::default() }).await.unwrap();
    let wa = window.streams.iter().find(|s| s.stream_id == a.chain_head().stream_id).unwrap();
    let wb = window.streams.iter().find(|s| s.stream_id == b.chain_head().stream_id).unwrap();
    assert_eq!(wa.first_break.as_ref().map(|x| (x.kind, x.seq)), Some((BreakKind::Edited, 1)), "{window:?}");
    assert!(wb.ok, "{window:?}");
    assert!(window.checked >= 1 && window.checked < 7);
}

/// Three events by `user` on the `Document` `doc`, and the trail verified intact with their
/// `PERFORMED_BY` and `ON` edges (the start of the edge tests).
async fn three_performed_on(logger: &AuditLogger, user: &str, doc: &str) -> Vec<neo4j_audit::AuditEvent> {
    let opts = neo4j_audit::LogOptions::default().target(neo4j_audit::Target::new("Document", doc));
    let mut evs = Vec::new();
    for _ in 0..3 {
        let ev = logger
            .log_user_action_with(Some(&User::new(user)), "DOCUMENT_DELETED", None, None, &opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        evs.push(ev);
    }
    let r = verify(logger).await;
    assert!(r.ok && r.checked == 3, "intact, with both edges: {r:?}");
    evs
}

/// The edges into the application's graph are checked against the hashed fields: `PERFORMED_BY`
/// re-pointed to another user's node, or an `ON` edge moved to another node (its properties
/// copied), is `edited` at that event (on main's code before this, the trail verified ok). The
/// library's own reads go by the hashed `userUID` / `targetKeys` and are not misled either.
#[tokio::test]
async fn edges_into_the_application_graph_are_checked_against_the_hashed_fields() {
    let logger = AuditLogger::new(config("chain-edges")).unwrap();
    let (alice, bob, doc, other) = (unique("alice"), unique("bob"), unique("doc"), unique("doc"));
    cypher(
        "CREATE (:User {UID: $a}), (:User {UID: $b}), (:Document {UID: $d}), (:Document {UID: $o})",
        json!({"a": alice, "b": bob, "d": doc, "o": other}),
    )
    .await;
    let evs = three_performed_on(&logger, &alice, &doc).await;
    // Event 1: PERFORMED_BY re-pointed to bob; event 2: ON moved to the other document.
    cypher(
        "MATCH (ev:AuditEvent {UID: $e})-[p:PERFORMED_BY]->(), (b:User {UID: $b}) CREATE (ev)-[:PERFORMED_BY]->(b) DELETE p",
        json!({"e": evs[1].uid, "b": bob}),
    )
    .await;
    cypher(
        "MATCH (ev:AuditEvent {UID: $e})-[o:ON]->(), (x:Document {UID: $o}) CREATE (ev)-[o2:ON]->(x) SET o2 = properties(o) DELETE o",
        json!({"e": evs[2].uid, "o": other}),
    )
    .await;
    let moved = cypher(
        "MATCH (u:User)<-[:PERFORMED_BY]-(ev:AuditEvent)-[:ON]->(d) WHERE ev.UID IN $e RETURN u.UID, d.UID ORDER BY ev.seq",
        json!({"e": [evs[1].uid, evs[2].uid]}),
    )
    .await;
    assert_eq!(moved, vec![vec![json!(bob), json!(doc)], vec![json!(alice), json!(other)]]);
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 1, Some(evs[1].uid.as_str())), "{b:?}");
    assert!(b.message.contains("PERFORMED_BY or ON"), "{b:?}");
    // PERFORMED_BY put back: the moved ON edge is found.
    cypher(
        "MATCH (ev:AuditEvent {UID: $e})-[p:PERFORMED_BY]->(), (a:User {UID: $a}) CREATE (ev)-[:PERFORMED_BY]->(a) DELETE p",
        json!({"e": evs[1].uid, "a": alice}),
    )
    .await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 2, Some(evs[2].uid.as_str())), "{b:?}");
    let bobs = logger.user_activity(&bob, &TrailQuery::default()).await.unwrap();
    assert!(bobs.events.is_empty(), "the reads go by userUID: {bobs:?}");
    cypher(
        "MATCH (n) WHERE n.UID IN [$a, $b, $d, $o] DETACH DELETE n",
        json!({"a": alice, "b": bob, "d": doc, "o": other}),
    )
    .await;
}

/// docs/tamper-evidence.md's auditor table, "your application's own change to a node an edge
/// points to": a `User` whose `UID` is changed or whose `User` label is removed, and a target
/// relabelled, are `edited` at the first event of the stream with an edge to it (the check cannot
/// tell them from a re-pointed edge); a label added and other properties changed are nothing, and
/// so is the node deleted with its edges (`DETACH DELETE`). Pins the documented behaviour.
#[tokio::test]
async fn the_applications_own_changes_to_a_node_an_edge_points_to_are_as_documented() {
    let logger = AuditLogger::new(config("chain-app-node")).unwrap();
    let (alice, bob, doc) = (unique("alice"), unique("bob"), unique("doc"));
    cypher(
        "CREATE (:User {UID: $a, name: 'Alice'}), (:User {UID: $b}), (:Document {UID: $d})",
        json!({"a": alice, "b": bob, "d": doc}),
    )
    .await;
    // seq 0 by bob; seq 1 and 2 by alice, seq 2 on the document.
    let mut evs = Vec::new();
    for (user, on) in [(&bob, false), (&alice, false), (&alice, true)] {
        let opts = neo4j_audit::LogOptions::default();
        let opts = if on { opts.target(neo4j_audit::Target::new("Document", &doc)) } else { opts };
        let ev = logger
            .log_user_action_with(Some(&User::new(user)), "DOCUMENT_VIEWED", None, None, &opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        evs.push(ev);
    }
    assert!(verify(&logger).await.ok);
    let edited_at = |r: neo4j_audit::chain::VerifyReport| {
        r.streams[0].first_break.clone().map(|b| (b.kind, b.seq, b.uid.unwrap_or_default()))
    };
    let p = json!({"a": alice, "d": doc});
    for (change, undo, at) in [
        ("MATCH (u:User {UID: $a}) SET u.UID = 'anon-' + $a", "MATCH (u:User {UID: 'anon-' + $a}) SET u.UID = $a", 1),
        (
            "MATCH (u:User {UID: $a}) REMOVE u:User SET u:FormerUser",
            "MATCH (u:FormerUser {UID: $a}) SET u:User REMOVE u:FormerUser",
            1,
        ),
        (
            "MATCH (d:Document {UID: $d}) REMOVE d:Document SET d:ArchivedDocument",
            "MATCH (d:ArchivedDocument {UID: $d}) SET d:Document REMOVE d:ArchivedDocument",
            2,
        ),
    ] {
        cypher(change, p.clone()).await;
        let got = edited_at(verify(&logger).await);
        assert_eq!(got, Some((BreakKind::Edited, at, evs[at as usize].uid.clone())), "{change}");
        cypher(undo, p.clone()).await;
        assert!(verify(&logger).await.ok, "{undo}");
    }
    // A label added, the other properties anonymised: nothing.
    cypher("MATCH (u:User {UID: $a}) SET u:Anonymised, u.name = null", p.clone()).await;
    cypher("MATCH (d:Document {UID: $d}) SET d:ArchivedDocument", p.clone()).await;
    assert!(verify(&logger).await.ok, "a label added and a property removed are not reported");
    // The nodes deleted with their edges: nothing.
    cypher("MATCH (n) WHERE n.UID IN [$a, $d] DETACH DELETE n", p.clone()).await;
    let r = verify(&logger).await;
    assert!(r.ok && r.checked == 3, "{r:?}");
    cypher("MATCH (u:User {UID: $b}) DETACH DELETE u", json!({"b": bob})).await;
}

/// A second `ON` edge to the same target (a copy of the first, every property the same) put the
/// event twice on the target's activity (`getTargetActivity` reads the `ON` links; it now lists
/// an event once per target whatever its links), and a second
/// `PERFORMED_BY` to the same user counted the event twice in the application's own graph
/// queries; both verified ok, since each edge on its own leads where the hashed fields say
/// (the same damage as a second `HAS_EVENT`, which is reported). Now `edited` at that event.
#[tokio::test]
async fn a_doubled_edge_into_the_application_graph_is_edited_at_its_event() {
    let logger = AuditLogger::new(config("chain-edge-twice")).unwrap();
    let (alice, doc) = (unique("alice"), unique("doc"));
    cypher("CREATE (:User {UID: $a}), (:Document {UID: $d})", json!({"a": alice, "d": doc})).await;
    let evs = three_performed_on(&logger, &alice, &doc).await;
    // Event 1's ON edge copied (same target node, same properties).
    cypher(
        "MATCH (ev:AuditEvent {UID: $e})-[o:ON]->(x) CREATE (ev)-[o2:ON]->(x) SET o2 = properties(o)",
        json!({"e": evs[1].uid}),
    )
    .await;
    // The read lists each event once however many links lead to it (tests/targets.rs
    // two_application_nodes_with_one_uid_list_each_event_once; the copy showed it twice before);
    // verification still names the copy.
    let page = logger.target_activity("Document", &doc, &TrailQuery::default()).await.unwrap();
    let shown: Vec<&str> = page.events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(shown.iter().filter(|u| **u == evs[1].uid).count(), 1, "listed once: {shown:?}");
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 1, Some(evs[1].uid.as_str())), "{b:?}");
    // The copy removed: intact again; then event 2's PERFORMED_BY doubled.
    cypher("MATCH (ev:AuditEvent {UID: $e})-[o:ON]->() WITH o SKIP 1 DELETE o", json!({"e": evs[1].uid})).await;
    assert!(verify(&logger).await.ok, "one ON edge again");
    cypher(
        "MATCH (ev:AuditEvent {UID: $e})-[:PERFORMED_BY]->(u) CREATE (ev)-[:PERFORMED_BY]->(u)",
        json!({"e": evs[2].uid}),
    )
    .await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 2, Some(evs[2].uid.as_str())), "{b:?}");
    cypher("MATCH (n) WHERE n.UID IN [$a, $d] DETACH DELETE n", json!({"a": alice, "d": doc})).await;
}

/// An `ON` edge keeps leading to its node but its copied fields are edited: its `role` (what the
/// application's graph reads as the actor's part, hashed in `targetRoles`), or the `created` /
/// `eventUID` keys `getTargetActivity` reads it by (the event vanished from the node's activity,
/// or showed under another time). Each verified ok; now `edited` at that event.
#[tokio::test]
async fn an_on_edge_with_edited_copies_of_the_hashed_fields_is_edited_at_its_event() {
    let logger = AuditLogger::new(config("chain-edge-fields")).unwrap();
    let doc = unique("doc");
    cypher("CREATE (:Document {UID: $d})", json!({"d": doc})).await;
    let opts =
        neo4j_audit::LogOptions::default().target(neo4j_audit::Target::new("Document", doc.as_str()).role("subject"));
    let mut evs = Vec::new();
    for _ in 0..2 {
        let ev = logger
            .log_user_action_with(Some(&User::new("u-1")), "DOCUMENT_EDITED", None, None, &opts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        evs.push(ev);
    }
    assert!(verify(&logger).await.ok, "intact");
    let edits = [
        ("SET o.role = 'viewer'", "SET o.role = 'subject'"),
        ("REMOVE o.role", "SET o.role = 'subject'"),
        ("SET o.created = o.created + duration({seconds: 1})", "SET o.created = o.created - duration({seconds: 1})"),
        ("SET o.eventUID = 'x'", "SET o.eventUID = $e"),
    ];
    for (edit, undo) in edits {
        let on = |change: &str| format!("MATCH (:AuditEvent {{UID: $e}})-[o:ON]->() {change}");
        cypher(&on(edit), json!({"e": evs[1].uid})).await;
        let b = verify(&logger).await.streams[0].first_break.clone();
        let b = b.unwrap_or_else(|| panic!("{edit}: not found"));
        assert_eq!(
            (b.kind, b.seq, b.uid.as_deref()),
            (BreakKind::Edited, 1, Some(evs[1].uid.as_str())),
            "{edit}: {b:?}"
        );
        cypher(&on(undo), json!({"e": evs[1].uid})).await;
        assert!(verify(&logger).await.ok, "{edit} undone");
    }
    cypher("MATCH (n:Document {UID: $d}) DETACH DELETE n", json!({"d": doc})).await;
}

/// An `ON` edge moved from the target node (`UID` "<digits>") to a node whose `UID` is that
/// number (another node to the application, which the writer's `MATCH` on the text never links)
/// read as the same key `Label:<digits>` and verified ok; the node's `UID` must be text.
#[tokio::test]
async fn an_on_edge_moved_to_a_node_with_a_numeric_uid_is_edited() {
    let logger = AuditLogger::new(config("chain-edge-number")).unwrap();
    let label = format!("Doc{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    let n = (neo4j_audit::event::now_millis() % 1_000_000_000) + 1;
    cypher(&format!("CREATE (:{label} {{UID: $s}}), (:{label} {{UID: $n}})"), json!({"s": n.to_string(), "n": n}))
        .await;
    let opts = neo4j_audit::LogOptions::default().target(neo4j_audit::Target::new(label.as_str(), n.to_string()));
    let ev = logger
        .log_user_action_with(Some(&User::new("u-1")), "DOCUMENT_EDITED", None, None, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(verify(&logger).await.ok, "intact");
    cypher(
        &format!(
            "MATCH (ev:AuditEvent {{UID: $e}})-[o:ON]->(), (x:{label} {{UID: $n}}) CREATE (ev)-[o2:ON]->(x) SET o2 = properties(o) DELETE o"
        ),
        json!({"e": ev.uid, "n": n}),
    )
    .await;
    let b = verify(&logger).await.streams[0].first_break.clone().expect("the moved edge");
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 0, Some(ev.uid.as_str())), "{b:?}");
    cypher(&format!("MATCH (x:{label}) DETACH DELETE x"), json!({})).await;
}

/// A `since` window's check starts from its stream's event just before the window's first one:
/// events deleted at the window's start, moved before it by an edited `timestamp`, or every event
/// before it deleted, are reported by the window as from the start (on main's code before this,
/// the window trusted its first event and verified ok). The event before is checked, not counted.
#[tokio::test]
async fn a_since_window_checks_its_start_from_the_event_before_it() {
    // The first event of a window starting at event 2: deleted, moved out of it (timestamp - 1
    // min), or all events before it deleted.
    for (prefix, damage, kind) in [
        ("chain-window-cut", "DETACH DELETE ev", BreakKind::Deleted),
        ("chain-window-moved", "SET ev.timestamp = datetime({epochMillis: $t - 60000})", BreakKind::Edited),
        (
            "chain-window-bare",
            "MATCH (p:AuditEvent {streamId: $s}) WHERE p.seq < seq DETACH DELETE p",
            BreakKind::Deleted,
        ),
    ] {
        let (logger, uids) = chained(prefix, 6).await;
        let rows =
            cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": uids[2]})).await;
        let since = rows[0][0].as_i64().unwrap();
        let window = VerifyQuery { since: Some(since), ..Default::default() };
        let before = logger.verify_trail(&window).await.unwrap();
        let in_window = cypher(
            "MATCH (ev:AuditEvent {streamId: $s}) WHERE ev.timestamp >= datetime({epochMillis: $t}) RETURN count(ev)",
            json!({"s": logger.chain_head().stream_id, "t": since}),
        )
        .await;
        assert!(before.ok && Some(before.checked) == in_window[0][0].as_u64(), "{before:?} {in_window:?}");
        let at = cypher(
            &format!(
                "MATCH (ev:AuditEvent {{streamId: $s}}) WHERE ev.timestamp >= datetime({{epochMillis: $t}}) \
                 WITH ev ORDER BY ev.seq LIMIT 1 WITH ev, ev.seq AS seq {damage} RETURN seq"
            ),
            json!({"s": logger.chain_head().stream_id, "t": since}),
        )
        .await;
        let seq = at[0][0].as_u64().unwrap();
        // The third case deletes from seq 0 (nothing to delete when the window starts there).
        let want = if prefix == "chain-window-bare" { 0 } else { seq };
        if prefix == "chain-window-bare" && seq == 0 {
            continue;
        }
        let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
        assert_eq!((b.kind, b.seq), (kind, want), "{prefix}: seen from the start: {b:?}");
        let r = logger.verify_trail(&window).await.unwrap();
        let w = r.streams[0].first_break.clone().unwrap_or_else(|| panic!("{prefix}: unseen in the window: {r:?}"));
        assert_eq!((w.kind, w.seq, r.ok), (kind, want, false), "{prefix}: as from the start: {w:?}");
    }
}

/// A `since` window reads each stream from its event just before the window (checked, not one of
/// the window's events): a stream's `checked` counted it, the report's did not, so `verify --since`
/// listed a stream of 3 events in the window as "4 events" above "3 events checked".
#[tokio::test]
async fn a_since_windows_stream_counts_leave_out_the_event_before_it() {
    let (logger, uids) = chained("chain-window-count", 6).await;
    let rows = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": uids[3]})).await;
    let since = rows[0][0].as_i64().unwrap();
    let in_window = cypher(
        "MATCH (ev:AuditEvent {streamId: $s}) WHERE ev.timestamp >= datetime({epochMillis: $t}) RETURN count(ev)",
        json!({"s": logger.chain_head().stream_id, "t": since}),
    )
    .await[0][0]
        .as_u64()
        .unwrap();
    let r = logger.verify_trail(&VerifyQuery { since: Some(since), ..Default::default() }).await.unwrap();
    assert!(r.ok && r.streams.len() == 1, "{r:?}");
    assert_eq!((r.checked, r.streams[0].checked), (in_window, in_window), "{r:?}");
}

/// A writer's clock is not monotonic: a client whose clock is set back mid-stream (NTP, a user),
/// or the Worker's stream, where a request that lost the race for the head is chained after one
/// received later (its `timestamp` is its receive time). A `since` window picks its events by
/// `timestamp` but checks them by `seq`: the window starts at each stream's first event at or after
/// `since` and goes on by `seq` from there, so an honest event after that start whose clock was
/// behind is checked, not reported as `deleted` (redteam15: it was, a false alarm on an intact
/// stream), and an event edited to a time before the window is reported `edited`.
#[tokio::test]
async fn a_since_window_does_not_depend_on_the_clock_running_forward() {
    let logger = AuditLogger::new(config("chain-clock-back")).unwrap();
    let chain = neo4j_audit::chain::Chain::for_trail(&logger.config().trail);
    let t = neo4j_audit::event::now_millis() - 3_600_000;
    // Births: a clock set back 10 minutes after event 2, then forward again after event 3.
    let births = [t, t + 1_000, t + 2_000, t - 600_000, t + 3_000, t + 4_000];
    let mut uids = Vec::new();
    for (i, ts) in births.iter().enumerate() {
        let mut ev = logger.build_event(None, "CLOCK", None, Some(json!({"i": i}))).unwrap();
        ev.ts = *ts;
        chain.seal(&mut ev);
        uids.push(ev.uid.clone());
        logger.write(&[ev]).await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(verify(&logger).await.ok);
    let window = VerifyQuery { since: Some(t + 1_000), ..Default::default() };
    let r = logger.verify_trail(&window).await.unwrap();
    assert!(r.ok, "an intact stream whose clock went back is intact in a window: {r:?}");
    assert_eq!(r.checked, 5, "seq 1 to 5, the one born before `since` after the start included: {r:?}");
    // The same event's `timestamp` moved back by an attacker: edited, in the window too.
    cypher(
        "MATCH (ev:AuditEvent {UID: $u}) SET ev.timestamp = ev.timestamp - duration({hours: 1})",
        json!({"u": uids[4]}),
    )
    .await;
    let r = logger.verify_trail(&window).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap_or_else(|| panic!("unseen: {r:?}"));
    assert_eq!((b.kind, b.seq, b.uid.as_deref(), r.ok), (BreakKind::Edited, 4, Some(uids[4].as_str()), false));
}

/// The Worker's ingest handler (run natively, as in tests/ingest.rs) chains what it writes onto
/// the trail's one signed stream, requests after one another and concurrent ones alike, and it
/// verifies with only the public key (native Rust, `VerifyQuery::public_keys`).
#[tokio::test]
async fn events_written_by_the_ingest_handler_are_chained() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-ingest");
    for body in [
        r#"{"events":[{"actionType":"A"},{"actionType":"B","details":{"password":"p"}},{"actionType":"C"}]}"#,
        r#"{"events":[{"actionType":"D"}]}"#,
    ] {
        let r = handle(&req, &settings, now, &TestIo(body.into()), Some(&logger)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // Eight requests at once (one task, interleaved at every await), on a second logger (a second
    // isolate, with its own connection to Neo4j and a head it must read first).
    let other = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let bodies: Vec<TestIo> =
        (0..8).map(|i| TestIo(format!(r#"{{"events":[{{"actionType":"P{i}"}},{{"actionType":"Q{i}"}}]}}"#))).collect();
    let answers = futures::future::join_all(bodies.iter().enumerate().map(|(i, io)| {
        let store = if i % 2 == 0 { &logger } else { &other };
        handle(&req, &settings, now, io, Some(store))
    }))
    .await;
    assert!(answers.iter().all(|r| r.status == 201), "{answers:?}");
    let keys = Some(settings.public_keys.clone().into());
    let signed = VerifyQuery { public_keys: keys, ..Default::default() };
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.checked, report.streams.len(), report.unchained), (20, 1, 0));
    assert_eq!(report.streams[0].head_seq, Some(19));
    assert_eq!(report.streams[0].signed_seq, Some(19));
    assert_eq!(report.signed_head.as_ref().map(|h| h.seq), Some(19));
    // GET /v1/verify: authenticated, one page here; a cursor it did not issue is refused.
    let get = |query: &str| neo4j_audit::ingest::Request {
        method: "GET".into(),
        path: "/v1/verify".into(),
        query: query.into(),
        headers: vec![req.headers[0].clone()], // its Authorization
    };
    let r = handle(&get("limit=1000"), &settings, now, &TestIo(String::new()), Some(&logger)).await;
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (r.status, body["ok"].clone(), body["checked"].clone(), body["next"].clone()),
        (200, json!(true), json!(20), Value::Null),
        "{body}"
    );
    let r = handle(&get("cursor=e30.AAAA"), &settings, now, &TestIo(String::new()), Some(&logger)).await;
    assert_eq!(r.status, 400);
    // Paged verification carries its progress across calls: a client-written stream in the same
    // trail (unsigned, tolerated with allow_unsigned) and the Worker's, one page each.
    let client = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    client.log_user_action(None, "DIRECT", None, None).await.unwrap_or_else(|e| panic!("{e}"));
    let lenient = VerifyQuery { allow_unsigned: true, ..signed.clone() };
    let (first, progress) = logger.verify_trail_page(&lenient, None, 1).await.unwrap();
    assert_eq!(first.streams.len(), 1);
    let (last, done) = logger.verify_trail_page(&lenient, progress, 1).await.unwrap();
    assert!(done.is_none() && last.ok, "{last:?}");
    assert_eq!((last.checked, last.streams.len()), (21, 1));
    assert!(!logger.verify_trail(&signed).await.unwrap().ok, "without allow_unsigned the client stream fails");
    // The conditional write itself: chained from a stale head (here: none), it writes nothing.
    {
        use neo4j_audit::chain::{seal_v2, SignedHead, GENESIS};
        use neo4j_audit::ingest::{signed::ChainedWrite, Store};
        let mut e = neo4j_audit::AuditEvent::build(None, "LATE", None, None, 1000).unwrap();
        let hash = seal_v2(&mut e, "another-stream", 0, GENESIS);
        let head = SignedHead { stream_id: "another-stream".into(), seq: 0, hash, seal: None };
        let w = ChainedWrite { expect: None, events: std::slice::from_ref(&e), head: &head, event_seal: None };
        assert_eq!(Store::write_chained(&logger, None, &w).await.unwrap(), None);
        let rows = cypher("MATCH (e:AuditEvent {UID: $u}) RETURN count(e)", json!({"u": e.uid})).await;
        assert_eq!(rows[0][0], json!(0));
        assert_eq!(logger.signed_head().await.unwrap(), report.signed_head);
    }
    // Tampering with a Worker-written event is found like any other.
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {eventType: 'B'}) SET e.details = '{}'",
        json!({"t": trail}),
    )
    .await;
    let report = logger.verify_trail(&signed).await.unwrap();
    let worker = report.signed_head.as_ref().map(|h| h.stream_id.clone()).unwrap();
    let b = report.streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.clone()).unwrap();
    assert_eq!((b.kind, b.seq), (BreakKind::Edited, 1));
}

/// redteam15: the newest events of a stream moved out of a `since` window by an edited
/// `timestamp` (set an hour back, not re-hashed) were a tail cut the window could not see: it
/// read only events at or after `since`, the stream ended early there, and the window verified
/// `ok`. Read on by `seq` from the window's start, the edit is found.
#[tokio::test]
async fn a_since_window_sees_its_newest_events_moved_out_of_it() {
    let (logger, uids) = chained("chain-window-tail", 4).await;
    let rows = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": uids[1]})).await;
    let window = VerifyQuery { since: rows[0][0].as_i64(), ..Default::default() };
    assert!(logger.verify_trail(&window).await.unwrap().ok);
    cypher(
        "MATCH (ev:AuditEvent {UID: $u}) SET ev.timestamp = ev.timestamp - duration({hours: 1})",
        json!({"u": uids[3]}),
    )
    .await;
    let r = logger.verify_trail(&window).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap_or_else(|| panic!("the moved tail unseen: {r:?}"));
    assert_eq!((b.kind, b.seq, r.ok), (BreakKind::Edited, 3, false), "{r:?}");
}

/// redteam15: two client streams of one trail whose `streamId`s an attacker swapped (no
/// re-hash): the id is inside every hash, so each stream is `edited` from its first event. (Swapped
/// and re-hashed, both verify: "Rewriting a whole stream" in the README; only anchors catch it.)
#[tokio::test]
async fn two_streams_with_their_ids_swapped_are_found() {
    let (a, _) = chained("chain-swap-ids", 3).await;
    let b = AuditLogger::new(a.config().clone()).unwrap();
    for i in 0..2 {
        b.log_user_action(None, "OTHER", None, Some(&json!({"i": i}))).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let (sa, sb) = (a.chain_head().stream_id, b.chain_head().stream_id);
    cypher(
        "MATCH (e:AuditEvent) WHERE e.streamId IN [$a, $b] \
         SET e.streamId = CASE e.streamId WHEN $a THEN $b ELSE $a END",
        json!({"a": sa, "b": sb}),
    )
    .await;
    let r = verify(&a).await;
    assert!(!r.ok && r.streams.len() == 2, "{r:?}");
    for s in &r.streams {
        let b = s.first_break.clone().unwrap_or_else(|| panic!("unseen: {s:?}"));
        assert_eq!((b.kind, b.seq), (BreakKind::Edited, 0), "{s:?}");
    }
}

/// redteam19: two Workers writing two trails of one database (staging and production, two
/// `AUDIT_TRAIL`s), and one client event (its own `UID`) posted to both, e.g. by a proxy that
/// mirrors the traffic: the stored UID was derived from the subject and the client's UID only, so
/// the second Worker found "its" event already stored (in the other trail), answered 201 with
/// `accepted: 1` and wrote nothing into its own trail. The stored UID is now per trail too: each
/// trail holds the event, and a re-send to one trail is still stored once there.
#[tokio::test]
async fn one_client_event_posted_to_the_workers_of_two_trails_is_stored_in_each() {
    let (a, b) = (worker_trail("chain-two-trails-a"), worker_trail("chain-two-trails-b"));
    let body = format!(r#"{{"actionType":"E","UID":"{}"}}"#, neo4j_audit::random::uuid_v4());
    let ans_a = a.post(body.clone()).await;
    let ans_b = b.post(body.clone()).await;
    assert_eq!((&ans_a["accepted"], &ans_b["accepted"]), (&json!(1), &json!(1)));
    let in_trail = |t: String| async move {
        cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev:AuditEvent) RETURN ev.UID", json!({"t": t})).await
    };
    let (ra, rb) = (in_trail(a.trail.clone()).await, in_trail(b.trail.clone()).await);
    assert_eq!(rb, vec![vec![ans_b["uids"][0].clone()]], "the event is in trail B too (A holds {ra:?})");
    assert_eq!(ra, vec![vec![ans_a["uids"][0].clone()]]);
    assert_ne!(ans_a["uids"][0], ans_b["uids"][0]);
    // A re-send to B is the same event there: stored once.
    let again = b.post(body).await;
    assert_eq!(again["uids"], ans_b["uids"]);
    assert_eq!(in_trail(b.trail.clone()).await.len(), 1);
}

/// redteam15: one client's batch (its own UIDs) posted to the Worker several times at once over
/// two isolates — a retry racing the request whose answer was lost, two tabs re-sending one queued
/// batch — and then once more: every answer is a 201 that counts each event, each event is one
/// node with one `HAS_EVENT` link, chained once, and the signed stream is gap-free.
#[tokio::test]
async fn a_batch_posted_to_the_worker_many_times_at_once_is_stored_and_chained_once() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-ingest-dup");
    let other = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let uids: Vec<String> = (0..3).map(|_| neo4j_audit::random::uuid_v4()).collect();
    let body = format!(
        r#"{{"events":[{{"UID":"{}","actionType":"A"}},{{"UID":"{}","actionType":"B"}},{{"UID":"{}","actionType":"C"}}]}}"#,
        uids[0], uids[1], uids[2]
    );
    let ios: Vec<TestIo> = (0..6).map(|_| TestIo(body.clone())).collect();
    let answers = futures::future::join_all(
        ios.iter()
            .enumerate()
            .map(|(i, io)| handle(&req, &settings, now, io, Some(if i % 2 == 0 { &logger } else { &other }))),
    )
    .await;
    let again = handle(&req, &settings, now, &TestIo(body.clone()), Some(&logger)).await;
    for r in answers.iter().chain([&again]) {
        let b: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((r.status, b["accepted"].clone()), (201, json!(3)), "{}", r.body);
    }
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(e) RETURN count(r), count(DISTINCT e), collect(DISTINCT e.seq)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!((rows[0][0].clone(), rows[0][1].clone()), (json!(3), json!(3)), "{rows:?}");
    let mut seqs: Vec<u64> = rows[0][2].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [0, 1, 2]);
    let keys = Some(settings.public_keys.clone().into());
    let report = logger.verify_trail(&VerifyQuery { public_keys: keys, ..Default::default() }).await.unwrap();
    assert!(report.ok && report.checked == 3 && report.streams[0].signed_seq == Some(2), "{report:?}");
}

/// redteam15: an auditor verifying with the public key while the Worker writes (two isolates,
/// requests at once): each verification reads the trail's signed head first and the stream
/// after it, so it may see events newer than that head, never a false break.
#[tokio::test]
async fn verifying_a_signed_stream_while_the_worker_writes_never_reports_a_false_break() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { settings, logger, now, req, .. } = worker_trail("chain-live-verify");
    let other = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let reader = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let keys = Some(settings.public_keys.clone().into());
    let signed = VerifyQuery { public_keys: keys, ..Default::default() };
    let first = TestIo(r#"{"events":[{"actionType":"FIRST"}]}"#.into());
    assert_eq!(handle(&req, &settings, now, &first, Some(&logger)).await.status, 201);
    let bodies: Vec<TestIo> =
        (0..24).map(|i| TestIo(format!(r#"{{"events":[{{"actionType":"W{i}"}},{{"actionType":"X{i}"}}]}}"#))).collect();
    let writes = futures::future::join_all(
        bodies
            .iter()
            .enumerate()
            .map(|(i, io)| handle(&req, &settings, now, io, Some(if i % 2 == 0 { &logger } else { &other }))),
    );
    let reads = async {
        let mut reports = Vec::new();
        for _ in 0..12 {
            reports.push(reader.verify_trail(&signed).await.unwrap());
        }
        reports
    };
    let (answers, reports) = futures::join!(writes, reads);
    assert!(answers.iter().all(|r| r.status == 201), "{answers:?}");
    for r in &reports {
        assert!(r.ok, "a verification during the writes: {r:?}");
    }
    eprintln!("verified during the writes: {:?} events", reports.iter().map(|r| r.checked).collect::<Vec<_>>());
    let last = reader.verify_trail(&signed).await.unwrap();
    assert!(last.ok && last.checked == 49, "{last:?}");
}

/// A signed Worker stream moved into another trail, or two trails' names swapped, must not verify
/// there: the seals cover the stream id, and a Worker stream's id is bound to its trail's name.
/// (Before the binding both attacks verified `ok` with the public key: the seals say nothing of
/// the trail, so tenant A's history renamed to tenant B's trail was B's signed history.)
#[tokio::test]
async fn a_signed_stream_moved_to_another_trail_or_a_renamed_trail_is_found() {
    use neo4j_audit::ingest::{handle, Settings};
    let settings_for = worker_settings;
    let now = neo4j_audit::event::now_millis() / 1000;
    let req = worker_post();
    let (a, b, c) = (unique("chain-move-a"), unique("chain-move-b"), unique("chain-move-c"));
    let mut loggers = Vec::new();
    for trail in [&a, &b, &c] {
        let settings = settings_for(trail);
        let logger = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
        for body in [r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#, r#"{"events":[{"actionType":"C"}]}"#] {
            let r = handle(&req, &settings, now, &TestIo(body.into()), Some(&logger)).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        loggers.push((logger, settings));
    }
    let signed = |s: &Settings| VerifyQuery { public_keys: Some(s.public_keys.clone().into()), ..Default::default() };
    for (logger, settings) in &loggers {
        let report = logger.verify_trail(&signed(settings)).await.unwrap();
        assert!(report.ok && report.checked == 3, "{report:?}");
    }
    // Trail A's whole stream moved into trail B: B's own stream is intact, A's is foreign.
    cypher(
        "MATCH (ta:AuditTrail {name: $a})-[r:HAS_EVENT]->(e), (tb:AuditTrail {name: $b}) \
         DELETE r CREATE (tb)-[:HAS_EVENT]->(e)",
        json!({"a": a, "b": b}),
    )
    .await;
    let (logger_b, settings_b) = &loggers[1];
    let report = logger_b.verify_trail(&signed(settings_b)).await.unwrap();
    assert!(!report.ok, "a stream moved in from another trail verified: {report:?}");
    let own = report.signed_head.as_ref().map(|h| h.stream_id.clone()).unwrap();
    let foreign: Vec<_> = report.streams.iter().filter(|s| s.stream_id != own).collect();
    assert_eq!(foreign.len(), 1, "{report:?}");
    assert_eq!(foreign[0].first_break.as_ref().map(|b| b.kind), Some(BreakKind::Forged), "{report:?}");
    assert!(report.streams.iter().find(|s| s.stream_id == own).is_some_and(|s| s.ok), "{report:?}");
    // Trail C renamed to another name (e.g. a tenant's trail given another tenant's name).
    let renamed = unique("chain-move-renamed");
    cypher("MATCH (t:AuditTrail {name: $c}) SET t.name = $n", json!({"c": c, "n": renamed})).await;
    let mut cfg = settings_for(&renamed).neo4j.unwrap();
    cfg.trail = renamed.clone();
    let logger_r = AuditLogger::new(cfg).unwrap();
    let report = logger_r.verify_trail(&signed(&loggers[2].1)).await.unwrap();
    assert!(!report.ok, "a renamed trail verified: {report:?}");
    assert_eq!(report.streams[0].first_break.as_ref().map(|b| b.kind), Some(BreakKind::Forged), "{report:?}");
    // Without keys too (the id's binding needs none).
    let report = logger_r.verify_trail(&VerifyQuery::default()).await.unwrap();
    assert_eq!(report.streams[0].first_break.as_ref().map(|b| b.kind), Some(BreakKind::Forged), "{report:?}");
}

/// The trail's signed head is what catches a cut tail of the Worker's stream. Removing the head
/// (or making it unreadable) must not turn that off: a signed stream the head does not name has
/// an end no signature covers. Before, a tail cut back to a request boundary plus
/// `REMOVE t.chainStream` verified `ok` with the public key, and so did the same after the Worker
/// (finding no head) went on writing a new stream that the head then named.
#[tokio::test]
async fn a_signed_stream_whose_trail_head_was_removed_is_not_ok() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-headless");
    let post = |body: &'static str| {
        let (req, settings, logger) = (&req, &settings, &logger);
        async move {
            let r = handle(req, settings, now, &TestIo(body.into()), Some(logger)).await;
            assert_eq!(r.status, 201, "{}", r.body);
            serde_json::from_str::<Value>(&r.body).unwrap()["uids"].clone()
        }
    };
    post(r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#).await;
    post(r#"{"events":[{"actionType":"C"}]}"#).await;
    let last = post(r#"{"events":[{"actionType":"D"},{"actionType":"E"}]}"#).await;
    let signed = VerifyQuery { public_keys: Some(settings.public_keys.clone().into()), ..Default::default() };
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok && report.checked == 5, "{report:?}");
    let worker = report.signed_head.as_ref().unwrap().stream_id.clone();
    // The last request cut off (seq 3, 4); what is left ends on a valid seal (seq 2).
    cypher("MATCH (e:AuditEvent) WHERE e.UID IN $u DETACH DELETE e", json!({"u": last})).await;
    let broken = |r: &neo4j_audit::chain::VerifyReport| {
        r.streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.as_ref().map(|b| (b.kind, b.seq)))
    };
    assert_eq!(broken(&logger.verify_trail(&signed).await.unwrap()), Some((BreakKind::Deleted, 3)));
    // The head's seal removed (the head still naming seq 4): unsigned where nothing covers the
    // stream, the seq after its last event (3, uid null), as with no head; it was reported at the
    // head's own, unverified seq (4).
    cypher("MATCH (t:AuditTrail {name: $t}) REMOVE t.chainSig", json!({"t": trail})).await;
    let report = logger.verify_trail(&signed).await.unwrap();
    let b = report.streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.clone());
    assert_eq!(b.map(|b| (b.kind, b.seq, b.uid)), Some((BreakKind::Unsigned, 3, None)), "{report:?}");
    // The head made unreadable (a seq that is not an integer): not "no head".
    cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainSeq = toString(t.chainSeq)", json!({"t": trail})).await;
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(!report.ok, "a cut tail behind an unreadable head verified: {report:?}");
    assert_eq!(broken(&report), Some((BreakKind::Unsigned, 3)), "{report:?}");
    // The head removed.
    cypher(
        "MATCH (t:AuditTrail {name: $t}) REMOVE t.chainStream, t.chainSeq, t.chainHash, t.chainKid, t.chainSig, t.chainSignedAt",
        json!({"t": trail}),
    )
    .await;
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(!report.ok, "a cut tail behind a removed head verified: {report:?}");
    assert_eq!(broken(&report), Some((BreakKind::Unsigned, 3)), "{report:?}");
    // The Worker, finding no head, begins a new stream and the head names that one: the old
    // stream's end is still uncovered.
    post(r#"{"events":[{"actionType":"F"}]}"#).await;
    let report = logger.verify_trail(&signed).await.unwrap();
    assert_ne!(report.signed_head.as_ref().map(|h| h.stream_id.as_str()), Some(worker.as_str()));
    assert!(!report.ok, "{report:?}");
    assert_eq!(broken(&report), Some((BreakKind::Unsigned, 3)), "{report:?}");
    assert!(report.streams.iter().filter(|s| s.stream_id != worker).all(|s| s.ok), "{report:?}");
    // allow_unsigned tolerates streams that were never signed, not this one.
    let lenient = VerifyQuery { allow_unsigned: true, ..signed.clone() };
    assert_eq!(broken(&logger.verify_trail(&lenient).await.unwrap()), Some((BreakKind::Unsigned, 3)));
}

/// A documented limit (docs/tamper-evidence.md, Keys): the Worker deployed without
/// `AUDIT_SIGNING_KEY` writes one chained stream, unsigned; given a key later, its first write
/// begins a signed stream, and the old stream (Worker-written events, no seal, no head naming
/// them) is reported `forged` with the keys, also with `allow_unsigned`, as a stream stripped of
/// its seals and head is. (s57-h2-fix makes it `unsigned`; it does not fit the Worker's size budget.)
#[tokio::test]
async fn a_worker_stream_written_before_the_key_was_set_is_reported_forged() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-key-later");
    // The same Worker without a key (its store's URL with a trailing slash: another key of this
    // process's head cache, as a redeployed Worker's new isolates hold none of the old heads).
    let keyless = worker_settings_with(
        &trail,
        vec![("AUDIT_SIGNING_KEY", String::new()), ("NEO4J_URL", format!("{}/", neo4j_url()))],
    );
    let keyless_store = AuditLogger::new(keyless.neo4j.clone().unwrap()).unwrap();
    for (settings, store, body) in [
        (&keyless, &keyless_store, r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#),
        (&settings, &logger, r#"{"events":[{"actionType":"C"}]}"#),
    ] {
        let r = handle(&req, settings, now, &TestIo(body.into()), Some(store)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let signed = VerifyQuery { public_keys: Some(settings.public_keys.clone().into()), ..Default::default() };
    let lenient = VerifyQuery { allow_unsigned: true, ..signed.clone() };
    let report = logger.verify_trail(&lenient).await.unwrap();
    assert!(!report.ok && report.checked == 3 && report.streams.len() == 2, "{report:?}");
    let head = report.signed_head.as_ref().unwrap().stream_id.clone();
    let old = report.streams.iter().find(|s| s.stream_id != head).unwrap();
    let b = old.first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.message.as_str()), (BreakKind::Forged, 0, STRIPPED), "{report:?}");
    assert!(report.streams.iter().filter(|s| s.stream_id == head).all(|s| s.ok), "{report:?}");
}

/// A documented limit (docs/tamper-evidence.md): the Worker's whole signed stream deleted
/// together with the trail's head leaves nothing that names it; the Worker, finding no head,
/// begins a new stream, and the trail verifies `ok` with the public key alone. Only a head kept
/// outside Neo4j (`report.signed_head`, passed back as an anchor) shows the deletion.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn a_signed_stream_deleted_whole_with_its_head_is_caught_only_by_an_anchor() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-wiped");
    let post = |body: &'static str| {
        let (req, settings, logger) = (&req, &settings, &logger);
        async move {
            let r = handle(req, settings, now, &TestIo(body.into()), Some(logger)).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    post(r#"{"events":[{"actionType":"GRANT"},{"actionType":"EXPORT"}]}"#).await;
    let signed = VerifyQuery { public_keys: Some(settings.public_keys.clone().into()), ..Default::default() };
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
    let kept = report.signed_head.clone().unwrap();
    // Every event of the Worker's stream and the trail's head removed.
    cypher("MATCH (e:AuditEvent {streamId: $s}) DETACH DELETE e", json!({"s": kept.stream_id})).await;
    cypher(
        "MATCH (t:AuditTrail {name: $t}) REMOVE t.chainStream, t.chainSeq, t.chainHash, t.chainKid, t.chainSig, t.chainSignedAt",
        json!({"t": trail}),
    )
    .await;
    // Nothing left to read: ok, but nothing verified (the CLI says NOTHING VERIFIED).
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok && report.checked == 0 && report.streams.is_empty(), "{report:?}");
    // The next request begins a new stream: the trail verifies, with events, as if nothing was cut.
    post(r#"{"events":[{"actionType":"LOGIN"}]}"#).await;
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok && report.checked == 1, "not detectable with the keys alone: {report:?}");
    assert_ne!(report.signed_head.as_ref().map(|h| h.stream_id.as_str()), Some(kept.stream_id.as_str()));
    // The head kept outside Neo4j names the deleted stream: `deleted` from seq 0.
    let anchored = VerifyQuery {
        anchors: vec![neo4j_audit::read::Anchor { stream_id: kept.stream_id.clone(), seq: kept.seq, hash: kept.hash }],
        ..signed
    };
    let report = logger.verify_trail(&anchored).await.unwrap();
    assert!(!report.ok, "{report:?}");
    let b = report.streams.iter().find(|s| s.stream_id == kept.stream_id).and_then(|s| s.first_break.clone());
    assert_eq!(b.map(|b| (b.kind, b.seq)), Some((BreakKind::Deleted, 0)), "{report:?}");
}

/// The break of a Worker stream stripped of its event seals and of the trail's head.
const STRIPPED: &str =
    "the Worker wrote these events, yet none carries a valid signature and no signed trail head names the stream: its seals and the head were removed";

/// `allow_unsigned` tolerates streams that were never signed (direct client writes). A Worker
/// stream stripped of its seals (`REMOVE sig, sigKid, sigAt`) and of the trail's head is never
/// signed too: before, a tail cut behind that verified `ok` with the public key and
/// `allow_unsigned` (verifyTrail, the CLI's `--allow-unsigned`, `GET /v1/verify?allowUnsigned=true`),
/// no re-hash needed. Its events still say the Worker wrote them (`source: "worker"`, inside
/// their version 2 hashes): such a stream is not tolerated.
#[tokio::test]
async fn a_worker_stream_stripped_of_its_seals_and_head_is_not_tolerated_as_unsigned() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-stripped");
    let mut uids = Vec::new();
    for body in [
        r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#,
        r#"{"events":[{"actionType":"C"},{"actionType":"D"}]}"#,
    ] {
        let r = handle(&req, &settings, now, &TestIo(body.into()), Some(&logger)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        uids.push(serde_json::from_str::<Value>(&r.body).unwrap()["uids"].clone());
    }
    // A genuine client stream beside it: what allow_unsigned is for.
    let client = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    client.log_user_action(None, "DIRECT", None, None).await.unwrap_or_else(|e| panic!("{e}"));
    let signed = VerifyQuery { public_keys: Some(settings.public_keys.clone().into()), ..Default::default() };
    let lenient = VerifyQuery { allow_unsigned: true, ..signed.clone() };
    let report = logger.verify_trail(&lenient).await.unwrap();
    assert!(report.ok && report.checked == 5, "{report:?}");
    let worker = report.signed_head.as_ref().unwrap().stream_id.clone();
    // An event inserted with a streamId that is not a string was read by no stream: with the
    // public key the trail verified ok (it is unchained now).
    cypher(
        "MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT]->(:AuditEvent {UID: 'forged-' + $t, eventType: 'GRANT_ADMIN', \
         eventCategory: 'X', timestamp: datetime(), userUID: 'mallory', streamId: 7, seq: 0, prevHash: 'x', hash: 'x'})",
        json!({"t": trail}),
    )
    .await;
    let report = logger.verify_trail(&lenient).await.unwrap();
    assert!(!report.ok && report.unchained == 1, "{report:?}");
    cypher("MATCH (e:AuditEvent {UID: 'forged-' + $t}) DETACH DELETE e", json!({"t": trail})).await;
    // The last request cut off, every seal of the stream and the trail's head removed.
    cypher("MATCH (e:AuditEvent) WHERE e.UID IN $u DETACH DELETE e", json!({"u": uids[1]})).await;
    cypher("MATCH (e:AuditEvent {streamId: $s}) REMOVE e.sig, e.sigKid, e.sigAt", json!({"s": worker})).await;
    cypher(
        "MATCH (t:AuditTrail {name: $t}) REMOVE t.chainStream, t.chainSeq, t.chainHash, t.chainKid, t.chainSig, t.chainSignedAt",
        json!({"t": trail}),
    )
    .await;
    let broken = |r: &neo4j_audit::chain::VerifyReport| {
        r.streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.as_ref().map(|b| (b.kind, b.seq)))
    };
    let report = logger.verify_trail(&lenient).await.unwrap();
    assert!(!report.ok, "a Worker stream stripped of its seals and head verified with allow_unsigned: {report:?}");
    assert_eq!(broken(&report), Some((BreakKind::Forged, 0)), "{report:?}");
    // The message says what was found: a `forged` break worded as the `unsigned` one ("no signed
    // trail head names this stream") read as a stream that was merely never signed.
    let message = |r: &neo4j_audit::chain::VerifyReport| {
        r.streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.as_ref().map(|b| b.message.clone()))
    };
    assert_eq!(message(&report).as_deref(), Some(STRIPPED), "{report:?}");
    assert!(
        report.streams.iter().filter(|s| s.stream_id != worker).all(|s| s.ok),
        "the client stream is still tolerated: {report:?}"
    );
    // The same at GET /v1/verify?allowUnsigned=true.
    let get = neo4j_audit::ingest::Request {
        method: "GET".into(),
        path: "/v1/verify".into(),
        query: "allowUnsigned=true".into(),
        headers: vec![req.headers[0].clone()],
    };
    let r = handle(&get, &settings, now, &TestIo(String::new()), Some(&logger)).await;
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((r.status, body["ok"].clone()), (200, json!(false)), "{body}");
    let at_worker = body["streams"].as_array().unwrap().iter().find(|s| s["streamId"] == json!(worker)).unwrap();
    assert_eq!(
        (at_worker["firstBreak"]["kind"].clone(), at_worker["firstBreak"]["message"].clone()),
        (json!("forged"), json!(STRIPPED)),
        "{body}"
    );
    // Paged, the verdict survives the cursor (one event per page).
    let (mut page, mut progress) = logger.verify_trail_page(&lenient, None, 1).await.unwrap();
    let mut streams = page.streams.clone();
    while let Some(p) = progress {
        (page, progress) = logger.verify_trail_page(&lenient, Some(p), 1).await.unwrap();
        streams.extend(page.streams.clone());
    }
    assert!(!page.ok, "{streams:?}");
    let b =
        streams.iter().find(|s| s.stream_id == worker).and_then(|s| s.first_break.as_ref().map(|b| (b.kind, b.seq)));
    assert_eq!(b, Some((BreakKind::Forged, 0)), "{streams:?}");
}

/// What the trail's reader shows must be what verification read. Two ways they parted:
/// an event whose `streamId` is not a string (verification lists stream ids as strings, so it
/// was in no stream and, having a `streamId`, not unchained either: never read), and a
/// `HAS_EVENT` link whose copied keys (`trail`, `created`, `eventUID`: what an indexed trail's
/// pages are read by) were changed or doubled (the event vanished from the trail's pages, or
/// showed twice, while verification, which reads the events from the trail node, saw it once).
/// Both verified `ok`, with the public key too.
#[tokio::test]
async fn an_event_the_reader_shows_differently_from_what_verification_read_is_not_ok() {
    use neo4j_audit::read::TrailQuery;
    let (logger, uids) = chained("chain-reader", 3).await;
    assert!(verify(&logger).await.ok);
    let trail = logger.config().trail.clone();
    let listed = |logger: &AuditLogger| {
        let logger = logger.clone();
        async move {
            let page = logger.get_audit_trail(&TrailQuery { limit: Some(100), ..Default::default() }).await.unwrap();
            page.events.into_iter().map(|e| e.uid).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(&logger).await.len(), 3);
    // An inserted event whose streamId is a number: the reader shows it.
    cypher(
        "MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT {trail: $t, created: datetime(), eventUID: 'forged-1'}]->\
         (:AuditEvent {UID: 'forged-1-' + $t, eventType: 'GRANT_ADMIN', eventCategory: 'X', timestamp: datetime(), \
         userUID: 'mallory', streamId: 42, seq: 0, prevHash: $g, hash: $g})",
        json!({"t": trail, "g": GENESIS}),
    )
    .await;
    cypher("MATCH ()-[r:HAS_EVENT {eventUID: 'forged-1'}]->(e) SET r.eventUID = e.UID", json!({})).await;
    assert_eq!(listed(&logger).await.len(), 4, "the reader shows the inserted event");
    let r = verify(&logger).await;
    assert!(!r.ok, "an event with a non-string streamId verified ok: {r:?}");
    assert_eq!(r.unchained, 1, "{r:?}");
    cypher("MATCH (e:AuditEvent {streamId: 42}) DETACH DELETE e", json!({})).await;
    assert!(verify(&logger).await.ok);

    // An event hidden from the trail's pages by its link's copied trail name.
    cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(:AuditEvent {UID: $u}) SET r.trail = 'elsewhere'",
        json!({"t": trail, "u": uids[1]}),
    )
    .await;
    assert_eq!(listed(&logger).await.len(), 2, "the reader no longer shows it");
    let r = verify(&logger).await;
    assert!(!r.ok, "an event hidden from the trail's pages verified ok: {r:?}");
    cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(:AuditEvent {UID: $u}) SET r.trail = $t",
        json!({"t": trail, "u": uids[1]}),
    )
    .await;
    assert!(verify(&logger).await.ok);
    // ... or moved out of a time window by its link's copied time.
    cypher("MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(:AuditEvent {UID: $u}) SET r.created = datetime('2001-01-01T00:00:00Z')", json!({"t": trail, "u": uids[1]})).await;
    let r = verify(&logger).await;
    assert!(!r.ok, "an event whose link's time was changed verified ok: {r:?}");
    cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(e:AuditEvent {UID: $u}) SET r.created = e.timestamp",
        json!({"t": trail, "u": uids[1]}),
    )
    .await;
    assert!(verify(&logger).await.ok);
    // An event shown twice: a second link from the trail node.
    cypher("MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(e:AuditEvent {UID: $u}) CREATE (t)-[r2:HAS_EVENT]->(e) SET r2 = properties(r)", json!({"t": trail, "u": uids[2]})).await;
    assert_eq!(listed(&logger).await.len(), 4, "the reader shows it twice");
    let r = verify(&logger).await;
    assert!(!r.ok, "an event linked twice verified ok: {r:?}");
}

/// Moves every event of trail `from` into trail `to` as someone with write access would: each
/// HAS_EVENT link re-made from `to`, its key properties copied (`trail` set to `to`).
async fn move_events(from: &str, to: &str) {
    cypher(
        "MATCH (ta:AuditTrail {name: $a})-[r:HAS_EVENT]->(e), (tb:AuditTrail {name: $b}) \
         CREATE (tb)-[n:HAS_EVENT]->(e) SET n = properties(r), n.trail = $b DELETE r",
        json!({"a": from, "b": to}),
    )
    .await;
}

/// A client's stream (written directly to Neo4j, unsigned) is bound to its trail like the
/// Worker's: moved into another trail, or two trails' names swapped, it is `forged` there. Before
/// client stream ids carried the binding, both verified `ok`.
#[tokio::test]
async fn a_client_stream_moved_to_another_trail_or_swapped_trail_names_are_found() {
    let (a, _) = chained("chain-cmove-a", 3).await;
    let (b, _) = chained("chain-cmove-b", 2).await;
    for l in [&a, &b] {
        let r = verify(l).await;
        assert!(r.ok && r.streams.len() == 1 && r.streams[0].bound, "{r:?}");
    }
    let (ta, tb) = (a.config().trail.clone(), b.config().trail.clone());
    move_events(&ta, &tb).await;
    let report = verify(&b).await;
    assert!(!report.ok, "a client stream moved in from another trail verified: {report:?}");
    let moved = report.streams.iter().find(|s| s.stream_id == a.chain_head().stream_id).unwrap();
    assert_eq!(moved.first_break.as_ref().map(|x| (x.kind, x.seq)), Some((BreakKind::Forged, 0)), "{report:?}");
    assert!(!moved.bound);
    let own = report.streams.iter().find(|s| s.stream_id == b.chain_head().stream_id).unwrap();
    assert!(own.ok && own.bound, "{report:?}");

    // Two trails' names swapped (the links' `trail` keys too).
    let (c, _) = chained("chain-cswap-c", 2).await;
    let (d, _) = chained("chain-cswap-d", 2).await;
    let (tc, td) = (c.config().trail.clone(), d.config().trail.clone());
    cypher(
        "MATCH (c:AuditTrail {name: $c}), (d:AuditTrail {name: $d}) SET c.name = $c + '-tmp' \
         WITH c, d SET d.name = $c WITH c, d SET c.name = $d \
         WITH c, d MATCH (c)-[rc:HAS_EVENT]->() SET rc.trail = $d \
         WITH DISTINCT d MATCH (d)-[rd:HAS_EVENT]->() SET rd.trail = $c",
        json!({"c": tc, "d": td}),
    )
    .await;
    for (l, other) in [(&c, &d), (&d, &c)] {
        let r = verify(l).await;
        assert_eq!(r.streams.len(), 1, "{r:?}");
        assert_eq!(r.streams[0].stream_id, other.chain_head().stream_id, "the names were swapped");
        assert_eq!(r.streams[0].first_break.as_ref().map(|x| x.kind), Some(BreakKind::Forged), "{r:?}");
    }
}

/// Streams begun before ids carried a binding (a plain UUID, e.g. a tab's saved stream) stay
/// readable: they verify, reported `bound: false`; with `require_bound` (strict) they fail as
/// `unbound`. Such a stream moved into another trail is not detected without strict mode.
#[tokio::test]
async fn legacy_unbound_streams_verify_and_strict_mode_refuses_them() {
    let mut legacy = AuditLogger::new(config("chain-legacy")).unwrap();
    legacy.resume_stream(neo4j_audit::chain::StreamState::fresh(), None);
    for _ in 0..2 {
        legacy.log_user_action(None, "SYSTEM", None, None).await.unwrap();
    }
    let mut cfg = config("unused");
    cfg.trail = legacy.config().trail.clone();
    let bound = AuditLogger::new(cfg).unwrap();
    bound.log_user_action(None, "SYSTEM", None, None).await.unwrap();
    let report = verify(&legacy).await;
    assert!(report.ok, "{report:?}");
    let find =
        |r: &neo4j_audit::chain::VerifyReport, id: &str| r.streams.iter().find(|s| s.stream_id == id).cloned().unwrap();
    let (lid, bid) = (legacy.chain_head().stream_id, bound.chain_head().stream_id);
    assert!(!lid.contains('.') && !find(&report, &lid).bound && find(&report, &bid).bound, "{report:?}");

    let strict = VerifyQuery { require_bound: true, ..Default::default() };
    let report = legacy.verify_trail(&strict).await.unwrap();
    assert!(!report.ok, "{report:?}");
    let b = find(&report, &lid).first_break.unwrap();
    assert_eq!((b.kind, b.seq, b.uid.clone()), (BreakKind::Unbound, 0, None), "{b:?}");
    assert!(find(&report, &bid).ok, "{report:?}");

    // Moved into another trail: not detected by default (no binding to check), refused by strict.
    let (other, _) = chained("chain-legacy-to", 1).await;
    cypher(
        "MATCH (ta:AuditTrail {name: $a})-[r:HAS_EVENT]->(e {streamId: $s}), (tb:AuditTrail {name: $b}) \
         CREATE (tb)-[n:HAS_EVENT]->(e) SET n = properties(r), n.trail = $b DELETE r",
        json!({"a": legacy.config().trail, "b": other.config().trail, "s": lid}),
    )
    .await;
    assert!(verify(&other).await.ok);
    let report = other.verify_trail(&strict).await.unwrap();
    assert_eq!(find(&report, &lid).first_break.map(|b| b.kind), Some(BreakKind::Unbound), "{report:?}");
}

/// An anchor on the last event `logger` wrote (its chain head), as a nightly `verify --anchor`
/// keeps one.
#[cfg(not(feature = "worker"))]
fn anchor_at_head(logger: &AuditLogger) -> neo4j_audit::read::Anchor {
    let head = logger.chain_head();
    neo4j_audit::read::Anchor { stream_id: head.stream_id.clone(), seq: head.next_seq - 1, hash: head.head.clone() }
}

/// A nightly `verify --since 1d --anchor yesterday.json`: a stream with no event in the window
/// (a quiet logger) was reported `deleted` from seq 0 ("cut off the end") although every event
/// was there, so every anchored quiet stream failed. Its anchored event is now looked up by
/// itself: intact passes, and a cut tail, a stream deleted whole or one rewritten up to the
/// anchor still fail.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn an_anchored_stream_with_no_event_in_a_since_window_is_checked_by_its_anchored_event() {
    let (quiet, uids) = chained("chain-anchor-quiet", 4).await;
    let anchor = anchor_at_head(&quiet);
    let last = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": uids[3]})).await;
    let since = last[0][0].as_i64().unwrap() + 1;
    // Another stream of the trail writes in the window.
    let busy = AuditLogger::new(quiet.config().clone()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    busy.log_user_action(None, "LATER", None, None).await.unwrap_or_else(|e| panic!("{e}"));
    let q = VerifyQuery { since: Some(since), anchors: vec![anchor.clone()], ..Default::default() };
    let r = quiet.verify_trail(&q).await.unwrap();
    assert!(r.ok, "an untouched quiet stream is intact at its anchor: {r:?}");
    assert_eq!(r.checked, 1, "{r:?}");
    // Rewritten up to the anchor (the anchored event's hash changed): forged.
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.hash = $h", json!({"u": uids[3], "h": "f".repeat(64)})).await;
    let r = quiet.verify_trail(&q).await.unwrap();
    let b = r.streams.iter().find(|s| s.stream_id == anchor.stream_id).and_then(|s| s.first_break.clone());
    assert_eq!((b.map(|b| (b.kind, b.seq)), r.ok), (Some((BreakKind::Forged, 3)), false), "{r:?}");
    // The tail cut (seq 2 and 3 deleted): deleted at the anchored seq.
    cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", json!({"u": [uids[2], uids[3]]})).await;
    let r = quiet.verify_trail(&q).await.unwrap();
    let b = r.streams.iter().find(|s| s.stream_id == anchor.stream_id).and_then(|s| s.first_break.clone());
    assert_eq!((b.map(|b| (b.kind, b.seq)), r.ok), (Some((BreakKind::Deleted, 3)), false), "{r:?}");
    // Deleted whole: deleted too.
    cypher("MATCH (ev:AuditEvent {streamId: $s}) DETACH DELETE ev", json!({"s": anchor.stream_id})).await;
    let r = quiet.verify_trail(&q).await.unwrap();
    let b = r.streams.iter().find(|s| s.stream_id == anchor.stream_id).and_then(|s| s.first_break.clone());
    assert_eq!((b.map(|b| b.kind), r.ok), (Some(BreakKind::Deleted), false), "{r:?}");
}

/// A quiet anchored stream in a `since` window is checked at its anchored event: an edit of that
/// event's fields (its stored hash kept) is `edited` there, as an edit of the event just before a
/// window is for a stream read in it. Before, only the stored hash was compared with the
/// anchor's, and the stream was reported intact at its anchor (the CLI: "intact at its anchor")
/// with the anchored event's details changed.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn an_edited_anchored_event_of_a_quiet_stream_is_edited_in_a_since_window() {
    let (quiet, uids) = chained("chain-anchor-quiet-edited", 4).await;
    let anchor = anchor_at_head(&quiet);
    let last = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.timestamp.epochMillis", json!({"u": uids[3]})).await;
    let q = VerifyQuery {
        since: Some(last[0][0].as_i64().unwrap() + 1),
        anchors: vec![anchor.clone()],
        ..Default::default()
    };
    assert!(quiet.verify_trail(&q).await.unwrap().ok, "an untouched quiet stream is intact at its anchor");
    // The anchored event's details changed in Neo4j, its hash left as it was.
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.details = '{\"i\":666}'", json!({"u": uids[3]})).await;
    let full = quiet.verify_trail(&VerifyQuery { anchors: vec![anchor.clone()], ..Default::default() }).await.unwrap();
    let b = full.streams[0].first_break.clone().unwrap_or_else(|| panic!("unseen without a window: {full:?}"));
    assert_eq!((b.kind, b.seq), (BreakKind::Edited, 3), "{full:?}");
    let r = quiet.verify_trail(&q).await.unwrap();
    let b = r.streams.iter().find(|s| s.stream_id == anchor.stream_id).and_then(|s| s.first_break.clone());
    let b = b.unwrap_or_else(|| panic!("the edited anchored event passed in the window: {r:?}"));
    assert_eq!((b.kind, b.seq, b.uid.as_deref(), r.ok), (BreakKind::Edited, 3, Some(uids[3].as_str()), false), "{r:?}");
}

/// An anchor on an event before a `since` window whose stream is read in the window: the
/// anchored event deleted (with every event before it) is `deleted` at the anchored seq, and the
/// message says what is missing; it said "the stream has no event in the window", of a stream
/// read there with 4 events.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn an_anchored_event_before_a_since_window_deleted_is_named_as_such() {
    let (logger, uids) = chained("chain-anchor-before-window", 2).await;
    let anchor = anchor_at_head(&logger);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    for i in 2..6 {
        if i == 3 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        logger.log_user_action(None, "LATER", None, Some(&json!({ "i": i }))).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let rows = cypher(
        "MATCH (ev:AuditEvent {streamId: $s, seq: 3}) RETURN ev.timestamp.epochMillis",
        json!({"s": anchor.stream_id}),
    )
    .await;
    let q = VerifyQuery { since: rows[0][0].as_i64(), anchors: vec![anchor], ..Default::default() };
    let r = logger.verify_trail(&q).await.unwrap();
    assert!(r.ok, "{r:?}");
    cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", json!({"u": uids})).await;
    let r = logger.verify_trail(&q).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap_or_else(|| panic!("unseen: {r:?}"));
    assert_eq!((b.kind, b.seq, r.ok), (BreakKind::Deleted, 1, false), "{r:?}");
    assert!(!b.message.contains("no event in the window"), "the stream was read in the window: {b:?}");
}

/// An auditor's review of an unsigned (client) stream, against the real Neo4j: what each kind of
/// damage is reported as, and what is inherently invisible without an anchor outside Neo4j.
#[tokio::test]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn unsigned_stream_damage_is_reported_as_documented() {
    // The newest events deleted (truncation): the stream still verifies; only the head anchored
    // elsewhere (chain_head) shows it — the report's head is behind the anchor.
    let (logger, uids) = chained("chain-review-tail", 5).await;
    let anchor = logger.chain_head();
    cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", json!({"u": [uids[3], uids[4]]})).await;
    let r = verify(&logger).await;
    assert!(r.ok, "truncation is invisible without an anchor: {r:?}");
    let s = &r.streams[0];
    assert_eq!(s.head_seq, Some(2));
    assert!(s.head_seq.unwrap() + 1 < anchor.next_seq && s.head_hash.as_deref() != Some(anchor.head.as_str()));
    // ... and `anchors` makes that comparison part of verification.
    let anchored = |a: &neo4j_audit::chain::StreamState| VerifyQuery {
        anchors: vec![neo4j_audit::read::Anchor {
            stream_id: a.stream_id.clone(),
            seq: a.next_seq - 1,
            hash: a.head.clone(),
        }],
        ..Default::default()
    };
    let r = logger.verify_trail(&anchored(&anchor)).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, r.ok), (BreakKind::Deleted, 3, false), "{r:?}");
    // Every event of the stream deleted: still reported (the anchor names the stream).
    cypher("MATCH (ev:AuditEvent {streamId: $s}) DETACH DELETE ev", json!({"s": anchor.stream_id})).await;
    let r = verify(&logger).await;
    assert!(r.ok && r.checked == 0 && r.streams.is_empty(), "unseen without an anchor: {r:?}");
    let r = logger.verify_trail(&anchored(&anchor)).await.unwrap();
    assert_eq!(r.streams.len(), 1, "{r:?}");
    assert_eq!(r.streams[0].first_break.as_ref().map(|b| (b.kind, b.seq)), Some((BreakKind::Deleted, 0)), "{r:?}");

    // One event replaced and re-hashed (its own hash only): the next event's link breaks.
    let (logger, uids) = chained("chain-review-replace", 5).await;
    let rehash = |logger: &AuditLogger, from: usize, to: usize| {
        let trail = logger.config().trail.clone();
        async move {
            let rows = cypher(
                "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.UID, ev.eventType, ev.eventCategory, \
                 ev.timestamp.epochMillis, ev.userUID, ev.userName, ev.details, ev.streamId, ev.seq, ev.prevHash \
                 ORDER BY ev.seq",
                json!({"t": trail}),
            )
            .await;
            let mut prev = rows[from][9].as_str().unwrap().to_owned();
            for r in &rows[from..=to] {
                let s = |v: &Value| v.as_str().map(str::to_owned);
                let mut ev = neo4j_audit::AuditEvent::build(None, "X", None, None, 10).unwrap();
                (ev.uid, ev.action_type, ev.category, ev.ts) =
                    (s(&r[0]).unwrap(), s(&r[1]).unwrap(), s(&r[2]).unwrap(), r[3].as_i64().unwrap());
                (ev.user_uid, ev.user_name, ev.stream_id, ev.seq) = (s(&r[4]), s(&r[5]), s(&r[7]), r[8].as_u64());
                ev.details =
                    if r[8].as_u64() == Some(from as u64) { Some("{\"i\":\"replaced\"}".into()) } else { s(&r[6]) };
                let hash = event_hash(&ev, &prev);
                cypher(
                    "MATCH (ev:AuditEvent {UID: $u}) SET ev.details = $d, ev.prevHash = $p, ev.hash = $h",
                    json!({"u": ev.uid, "d": ev.details, "p": prev, "h": hash}),
                )
                .await;
                prev = hash;
            }
        }
    };
    rehash(&logger, 2, 2).await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Reordered, 3, Some(uids[3].as_str())), "{b:?}");
    // Re-hashed from there to the end: every link is consistent again — inherent to a keyless
    // chain; only the anchored head (or the Worker's signatures) shows it.
    let anchor = logger.chain_head();
    rehash(&logger, 2, 4).await;
    let r = verify(&logger).await;
    assert!(r.ok, "{r:?}");
    assert_ne!(r.streams[0].head_hash.as_deref(), Some(anchor.head.as_str()), "the head no longer matches the anchor");
    let r = logger.verify_trail(&anchored(&anchor)).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, r.ok), (BreakKind::Forged, 4, false), "{r:?}");
    // An anchor behind the head (events appended since it was kept) holds while untouched.
    let (logger, _) = chained("chain-review-grown", 2).await;
    let early = logger.chain_head();
    logger.log_user_action(None, "SYSTEM", None, None).await.unwrap();
    let r = logger.verify_trail(&anchored(&early)).await.unwrap();
    assert!(r.ok, "{r:?}");

    // An event whose HAS_EVENT link was deleted (the node kept): not in the trail, a seq gap.
    let (logger, uids) = chained("chain-review-unlinked", 4).await;
    cypher("MATCH (:AuditTrail)-[r:HAS_EVENT]->(ev:AuditEvent {UID: $u}) DELETE r", json!({"u": uids[1]})).await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Deleted, 1, Some(uids[2].as_str())), "{b:?}");

    // Reordered by swapping seq numbers only (no re-hash): the hashes cover seq.
    let (logger, uids) = chained("chain-review-swap", 4).await;
    cypher(
        "MATCH (a:AuditEvent {UID: $a}), (b:AuditEvent {UID: $b}) SET a.seq = 2, b.seq = 1",
        json!({"a": uids[1], "b": uids[2]}),
    )
    .await;
    let b = verify(&logger).await.streams[0].first_break.clone().unwrap();
    assert_eq!((b.kind, b.seq), (BreakKind::Edited, 1), "{b:?}");

    // A second node with an event's UID: refused by the uniqueness constraint the library creates
    // before its first write (so a duplicate can only appear after that constraint is dropped,
    // and is then `inserted`: two events claiming one seq, tested in src/chain.rs).
    let resp = post_statement(
        &neo4j_url(),
        "MATCH (ev:AuditEvent {UID: $u}) CREATE (copy:AuditEvent) SET copy = properties(ev)",
        &json!({"u": uids[0]}),
    )
    .await
    .unwrap();
    let err = resp["errors"][0]["code"].as_str().unwrap_or_default().to_owned();
    assert!(err.contains("ConstraintValidationFailed"), "{resp}");
}

/// Odd text and numbers hash the same as sent and as stored: Neo4j keeps strings as they are
/// (no Unicode normalisation: NFC and NFD stay two texts; zero-width and line/paragraph
/// separators, astral characters kept), and details keep their number texts (`-0`, integers past
/// 2^53, `1e308`, `1.50`), by the client's direct writes and by the Worker's signed stream alike.
#[tokio::test]
async fn odd_unicode_and_numbers_verify_as_stored() {
    let names = [
        "Jos\u{e9}",
        "Jose\u{301}",
        "a\u{200b}b\u{feff}",
        "\u{2028}\u{2029}\u{1f600}\u{10ffff}",
        "\u{200d}\u{1f469}zwj",
    ];
    // (Bidirectional controls such as U+202E are refused in names: src/rules.rs, tests there.)
    // The uids: odd text too, but no invisible characters (U+200B, U+FEFF, U+200D: refused in
    // identifiers, src/rules.rs), which a name, free text, may hold.
    let uids = [
        "uid-Jos\u{e9}",
        "uid-Jose\u{301}",
        "uid-a\u{2028}b\u{3000}c",
        "uid-\u{2028}\u{2029}\u{1f600}\u{10ffff}",
        "uid-\u{1f469}zwj",
    ];
    let details = r#"{"n":-0,"big":9007199254740993,"neg":-9223372036854775809,"e":1e308,"f":1.50,"s":"Jose\u0301 \u2028 \ud83d\ude00 \u0000"}"#;
    let logger = AuditLogger::new(config("chain-unicode")).unwrap();
    for (i, (name, uid)) in names.iter().zip(uids).enumerate() {
        let u = User::new(uid).name(*name);
        let d: Value = serde_json::from_str(details).unwrap();
        logger.log_user_action(Some(&u), "LOGIN", Some("SECURITY"), Some(&json!({"i": i, "d": d}))).await.unwrap();
    }
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.userName, ev.userUID ORDER BY ev.seq",
        json!({"t": logger.config().trail}),
    )
    .await;
    for ((r, name), uid) in rows.iter().zip(names).zip(uids) {
        assert_eq!(r[0].as_str(), Some(name), "stored as sent, code point for code point");
        assert_eq!(r[1].as_str(), Some(uid));
    }
    let report = verify(&logger).await;
    assert!(report.ok && report.checked == 5, "{report:?}");

    // The Worker: the details' number texts kept as sent, and the signed stream verifies.
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-unicode-w");
    let body = format!(
        r#"{{"events":[{{"actionType":"A","details":{details}}},{{"actionType":"B","details":{{"k":"Jos\u00e9"}}}}]}}"#
    );
    let r = handle(&req, &settings, now, &TestIo(body), Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.details ORDER BY ev.seq",
        json!({"t": trail}),
    )
    .await;
    // Numbers as sent; strings as JSON.stringify writes them (raw UTF-8, `\u0000` escaped).
    let stored = r#"{"n":-0,"big":9007199254740993,"neg":-9223372036854775809,"e":1e308,"f":1.50,"s":"Jose"#.to_owned()
        + "\u{301} \u{2028} \u{1f600} \\u0000\"}";
    assert_eq!(rows[0][0].as_str(), Some(stored.as_str()));
    let signed = VerifyQuery { public_keys: Some(settings.public_keys.clone().into()), ..Default::default() };
    let report = logger.verify_trail(&signed).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
}

/// A stored property given another type (or removed) by someone with write access is `edited`
/// at that event, named. Before, a `timestamp` or `occurredAt` made text, a `LocalDateTime` or
/// removed, or a `UID` removed, made the whole verification fail ("stored event without
/// timestamp", Neo4j's TypeError; the Worker's `GET /v1/verify` answered 500 store_error, as if
/// the database were at fault) with no event named; and a `userName` (or `targetKeys`, `source`)
/// made a number or a list where the event had none read back as absent, hashed as absent, and
/// verified `ok`.
#[tokio::test]
async fn stored_properties_of_another_type_are_edited_at_their_event() {
    let cases: &[(&str, &str, u64)] = &[
        ("timestamp", "REMOVE e.timestamp", 2),
        ("timestamp", "SET e.timestamp = '2026-01-01T00:00:00Z'", 2),
        ("timestamp", "SET e.timestamp = localdatetime()", 2),
        ("occurredAt", "SET e.occurredAt = 5", 2),
        // A DateTime whose epoch milliseconds are beyond a 64-bit integer (no writer stores one):
        // Neo4j's `.epochMillis` of it fails the whole statement ("long overflow"), so one such
        // value made every verification of the trail a store error, not a report.
        ("timestamp", "SET e.timestamp = datetime('+999999999-12-31T23:59:59Z')", 2),
        ("timestamp", "SET e.timestamp = datetime('-999999999-01-01T00:00:00Z')", 2),
        ("occurredAt", "SET e.occurredAt = datetime('+999999999-12-31T23:59:59Z')", 2),
        ("occurredAt", "SET e.occurredAt = datetime({epochMillis: 9223372036854775807}) + duration('PT1S')", 2),
        ("UID", "REMOVE e.UID", 2),
        ("userName", "SET e.userName = 42", 2),
        ("userName", "SET e.userName = ['Mallory']", 2),
        ("targetKeys", "SET e.targetKeys = 'Document:x'", 2),
        ("targetKeys", "SET e.targetKeys = ['junk'], e.targetRoles = ['']", 2),
        ("targetRoles", "SET e.targetRoles = ['']", 2),
        ("seq", "SET e.seq = toFloat(e.seq)", 2),
        // Text sorts before numbers: read first, so reported where it was read.
        ("seq", "SET e.seq = toString(e.seq)", 0),
    ];
    for (field, set, at) in cases {
        let logger = AuditLogger::new(config("chain-types")).unwrap();
        let mut uids = Vec::new();
        for i in 0..4 {
            // seq 2 has a user without a name: its userName is absent.
            let u = if i == 2 { User::new("nameless") } else { User::new("u").name("Ann") };
            uids.push(
                logger.log_user_action(Some(&u), "DOCUMENT_VIEWED", None, Some(&json!({"i": i}))).await.unwrap().uid,
            );
        }
        assert!(verify(&logger).await.ok, "{set}: an untouched trail");
        let q = format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e) WHERE e.seq = 2 {set}");
        cypher(&q, json!({"t": logger.config().trail})).await;
        let r =
            logger.verify_trail(&VerifyQuery::default()).await.unwrap_or_else(|e| panic!("{set}: not a report: {e}"));
        let b = r.streams[0].first_break.clone().unwrap_or_else(|| panic!("{set}: verified ok: {r:?}"));
        let uid = if *field == "UID" { None } else { Some(uids[2].clone()) };
        assert_eq!((r.ok, b.kind, b.seq, b.uid.clone()), (false, BreakKind::Edited, *at, uid), "{set}: {b:?}");
        assert!(b.message.contains(&format!("stored {field}:")), "{set}: {b:?}");
    }
    // The Worker's signed stream, verified by GET /v1/verify: a report, not a store error.
    let w = worker_trail("chain-types-w");
    w.post(r#"{"events":[{"actionType":"A"},{"actionType":"B"},{"actionType":"C"}]}"#.into()).await;
    let page = || async {
        let (status, body) = w.verify_get("").await;
        assert_eq!(status, 200, "{body}");
        body
    };
    assert_eq!(page().await["ok"], json!(true));
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 1}) SET e.timestamp = toString(e.timestamp)",
        json!({"t": w.trail}),
    )
    .await;
    let body = page().await;
    assert_eq!(break_of(&body), (json!(false), json!("edited"), json!(1)), "{body}");
    // An occurredAt beyond a 64-bit count of milliseconds: also a report (it was a 500 store_error).
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 2}) \
         SET e.occurredAt = datetime('+999999999-12-31T23:59:59Z')",
        json!({"t": w.trail}),
    )
    .await;
    let body = page().await;
    assert_eq!(break_of(&body), (json!(false), json!("edited"), json!(1)), "{body}");
}

/// Another trail's signed head copied onto a trail's node (write access to Neo4j) is not
/// continued. Before, the Worker chained the trail's next events onto the other trail's stream
/// and sealed them and a new head for it: moved into that trail with that head, they verified
/// there with the public key as its own (a tenant's user's event in another tenant's trail,
/// `ok: true`; the stream's binding to its trail was no help, the stream being that trail's).
/// Now such a write is refused (500 `store_error`, the log names the trail's head) and nothing is
/// written, as for a head that is unreadable.
#[tokio::test]
async fn a_head_copied_from_another_trail_is_not_continued() {
    let a = worker_trail("chain-head-a");
    let b = worker_trail("chain-head-b");
    a.post(r#"{"events":[{"actionType":"A0"}]}"#.into()).await;
    b.post(r#"{"events":[{"actionType":"B0"},{"actionType":"B1"}]}"#.into()).await;
    let copy = "MATCH (a:AuditTrail {name: $a}), (b:AuditTrail {name: $b}) \
         SET a.chainStream = b.chainStream, a.chainSeq = b.chainSeq, a.chainHash = b.chainHash, \
         a.chainKid = b.chainKid, a.chainSig = b.chainSig, a.chainSignedAt = b.chainSignedAt";
    cypher(copy, json!({"a": a.trail, "b": b.trail})).await;
    let body = r#"{"actionType":"INJECTED"}"#;
    let r = neo4j_audit::ingest::handle(&a.req, &a.settings, a.now, &TestIo(body.into()), Some(&a.logger)).await;
    assert_eq!((r.status, r.body.contains("store_error")), (500, true), "{}", r.body);
    let stored = cypher(
        "MATCH (t:AuditTrail)-[:HAS_EVENT]->(e:AuditEvent {eventType: 'INJECTED'}) WHERE t.name IN [$a, $b] \
         RETURN count(e)",
        json!({"a": a.trail, "b": b.trail}),
    )
    .await;
    assert_eq!(stored[0][0], json!(0), "an event was chained onto trail b's stream");
    // b's own stream goes on as before.
    b.post(r#"{"events":[{"actionType":"B2"}]}"#.into()).await;
    let (_, page) = b.verify_get("").await;
    assert_eq!((page["ok"].clone(), page["checked"].clone()), (json!(true), json!(3)), "{page}");
}

/// A trail head pointed by hand at other values (the tail cut and `chainSeq` / `chainHash` set to
/// the new last event's, the seal left as it was) is not continued. Before, the Worker chained the
/// next request after it and sealed a new head there, and the trail verified `ok: true` with the
/// public key: the cut unseen (and so were events appended by hand with the head pointed at them,
/// which the next seal covered). Now the write begins a new stream, and the old one, named by no
/// signed head, is reported.
#[tokio::test]
async fn a_head_whose_seal_does_not_verify_is_not_continued() {
    let w = worker_trail("chain-head-seal");
    for _ in 0..3 {
        w.post(r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#.into()).await;
    }
    cypher("MATCH (h:AuditTrail {name: $t})-[:HAS_EVENT]->(e) WHERE e.seq >= 4 DETACH DELETE e", json!({"t": w.trail}))
        .await;
    cypher(
        "MATCH (h:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 3}) SET h.chainSeq = 3, h.chainHash = e.hash",
        json!({"t": w.trail}),
    )
    .await;
    // (The head this process cached no longer matches: the write reads it back from Neo4j.)
    w.post(r#"{"events":[{"actionType":"NEXT"}]}"#.into()).await;
    let (status, page) = w.verify_get("").await;
    assert_eq!((status, page["ok"].clone()), (200, json!(false)), "the cut tail went unseen: {page}");
    let kinds: Vec<Value> =
        page["streams"].as_array().unwrap().iter().map(|s| s["firstBreak"]["kind"].clone()).collect();
    assert!(kinds.contains(&json!("unsigned")), "{page}");
}

/// The seal of an earlier write is redundant: the stream's later seals cover every event before
/// them (the hash chains them). So an earlier write's seal removed, or made unreadable (a property
/// of another type), is not reported (docs/tamper-evidence.md, What is not detected), while one
/// that is there and does not verify (its `sigAt` edited) is `forged`, and the last write's seal
/// removed leaves its events `unsigned`. Pins the documented behaviour.
#[tokio::test]
async fn an_earlier_writes_seal_removed_is_not_reported_one_edited_is_forged() {
    let cases: &[(&str, Option<(&str, u64)>)] = &[
        ("REMOVE e.sig, e.sigKid, e.sigAt", None),
        ("SET e.sig = [e.sig]", None),
        ("SET e.sigAt = toString(e.sigAt)", None),
        ("SET e.sigAt = e.sigAt + 1", Some(("forged", 1))),
    ];
    for (edit, expected) in cases {
        let w = worker_trail("chain-seal-gone");
        for _ in 0..3 {
            w.post(r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#.into()).await;
        }
        // The first write's seal is on seq 1; the last one's on seq 5.
        cypher(&format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e {{seq: 1}}) {edit}"), json!({"t": w.trail}))
            .await;
        let (status, page) = w.verify_get("").await;
        assert_eq!(status, 200, "{page}");
        match expected {
            None => {
                assert_eq!((page["ok"].clone(), page["checked"].clone()), (json!(true), json!(6)), "{edit}: {page}")
            }
            Some((kind, seq)) => assert_eq!(break_of(&page), (json!(false), json!(kind), json!(seq)), "{edit}: {page}"),
        }
    }
    let w = worker_trail("chain-seal-gone");
    for _ in 0..3 {
        w.post(r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#.into()).await;
    }
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 5}) REMOVE e.sig, e.sigKid, e.sigAt",
        json!({"t": w.trail}),
    )
    .await;
    let (_, page) = w.verify_get("").await;
    assert_eq!(break_of(&page), (json!(false), json!("unsigned"), json!(4)), "{page}");
}

/// A `GET /v1/verify` cursor resumes only the walk of the trail it was issued for. Its seal
/// covered the verifier's progress and the flags, not the trail: two Workers sharing a signing key
/// (one per trail, or staging and production) took each other's cursors, and trail B's walk
/// resumed trail A's progress — A's streams, A's signed head, A's `ok` — never read B's own
/// streams and answered `ok: true` for a B whose chain was broken.
#[tokio::test]
async fn a_verify_cursor_from_another_trail_is_refused() {
    let a = worker_trail("chain-cursor-a");
    // 1000 events in A: a page of `limit=1000` ends with a cursor.
    a.post_thousand().await;
    let b = worker_trail("chain-cursor-b");
    b.post(r#"{"events":[{"actionType":"B0"},{"actionType":"B1"},{"actionType":"B2"}]}"#.into()).await;
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 1}) SET e.eventType = 'EDITED'",
        json!({"t": b.trail}),
    )
    .await;
    let (status, page) = a.verify_get("limit=1000").await;
    assert_eq!((status, page["ok"].clone(), page["checked"].clone()), (200, json!(true), json!(1000)), "{page}");
    let next = page["next"].as_str().expect("a cursor after 1000 events").to_owned();
    // B verified from its start: the edit is found.
    let (status, own) = b.verify_get("limit=1000").await;
    assert_eq!((status, own["ok"].clone(), own["next"].clone()), (200, json!(false), Value::Null), "{own}");
    // A's cursor on B's endpoint: refused, never B's walk resumed from A's progress.
    let (status, resumed) = b.verify_get(&format!("limit=1000&cursor={next}")).await;
    assert_eq!(status, 400, "trail A's cursor resumed trail B's verification: {resumed}");
    assert!(resumed["message"].as_str().unwrap_or_default().contains("trail"), "{resumed}");
    // On A's own endpoint it still resumes, and A's walk ends intact.
    let (status, rest) = a.verify_get(&format!("limit=1000&cursor={next}")).await;
    assert_eq!(
        (status, rest["ok"].clone(), rest["checked"].clone(), rest["next"].clone()),
        (200, json!(true), json!(1000), Value::Null),
        "{rest}"
    );
}

/// A `GET /v1/verify` page that pauses in the middle of a stream answers `ok: false` once that
/// stream has a break: the README says `ok` covers every page so far. Before, a paused page's
/// `ok` counted the finished streams only, so the first page of a walk over a stream edited at
/// seq 5 answered `ok: true` (the break held in its cursor), and whoever stopped there, or
/// watched each page's `ok`, read an intact trail.
#[tokio::test]
async fn a_paused_verify_page_is_not_ok_once_its_stream_has_a_break() {
    let t = worker_trail("chain-paused-ok");
    t.post_thousand().await;
    t.post(r#"{"events":[{"actionType":"B0"},{"actionType":"B1"}]}"#.into()).await;
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {seq: 5}) SET e.eventType = 'EDITED'",
        json!({"t": t.trail}),
    )
    .await;
    let (status, page) = t.verify_get("limit=1000").await;
    let next = page["next"].as_str().expect("a cursor after 1000 events").to_owned();
    assert_eq!((status, page["checked"].clone()), (200, json!(1000)), "{page}");
    assert_eq!(page["ok"], json!(false), "a page holding the edit at seq 5 said ok: {page}");
    // The walk's end names the break.
    let (status, rest) = t.verify_get(&format!("limit=1000&cursor={next}")).await;
    assert_eq!((status, break_of(&rest)), (200, (json!(false), json!("edited"), json!(5))), "{rest}");
}

/// A `GET /v1/verify` cursor resumes only under the public keys it was issued with. The cursor's
/// MAC covered the trail and the flags but not the key set, and its key comes from
/// `AUDIT_SIGNING_KEY` alone: a key removed from `AUDIT_PUBLIC_KEYS` (retired, or leaked) between
/// two pages left the walk's first pages judged with it, and the walk ended `ok: true` over
/// events that a fresh walk reports forged (one `ok` for two key sets).
#[tokio::test]
async fn a_verify_cursor_from_another_key_set_is_refused() {
    use neo4j_audit::ingest::{handle, Settings};
    let old = worker_trail("chain-cursor-keys");
    // 950 events sealed with native-k1, then 100 with native-k2: the first page of `limit=1000`
    // judges every native-k1 seal.
    let batch = |from: usize, n: usize| {
        let events: Vec<String> = (from..from + n).map(|i| format!(r#"{{"actionType":"A{i}"}}"#)).collect();
        format!(r#"{{"events":[{}]}}"#, events.join(","))
    };
    for r in 0..10 {
        old.post(batch(r * 95, 95)).await;
    }
    let (listed, removed) =
        (rotated_to_k2(&old.trail, &old.settings, true), rotated_to_k2(&old.trail, &old.settings, false));
    let r = handle(&old.req, &listed, old.now, &TestIo(batch(950, 100)), Some(&old.logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let verify_get = |s: &Settings, query: String| {
        let req = neo4j_audit::ingest::Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query,
            headers: vec![old.req.headers[0].clone()],
        };
        let (s, logger) = (s.clone(), old.logger.clone());
        async move {
            let r = handle(&req, &s, old.now, &TestIo(String::new()), Some(&logger)).await;
            (r.status, serde_json::from_str::<Value>(&r.body).unwrap())
        }
    };
    // With native-k1 listed: the first page is intact, with a cursor.
    let (status, page) = verify_get(&listed, "limit=1000".into()).await;
    assert_eq!((status, page["ok"].clone(), page["checked"].clone()), (200, json!(true), json!(1000)), "{page}");
    let next = page["next"].as_str().expect("a cursor after 1000 events").to_owned();
    // native-k1 removed: a fresh walk, to its end, finds its seals forged.
    let (status, first) = verify_get(&removed, "limit=1000".into()).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next"].as_str().expect("a cursor after 1000 events");
    let (status, fresh) = verify_get(&removed, format!("limit=1000&cursor={cursor}")).await;
    assert_eq!((status, break_of(&fresh).0, break_of(&fresh).1), (200, json!(false), json!("forged")), "{fresh}");
    // The walk begun with native-k1 listed cannot go on without it and end in one `ok`.
    let (status, resumed) = verify_get(&removed, format!("limit=1000&cursor={next}")).await;
    assert_eq!(status, 400, "a cursor issued under another key set resumed: {resumed}");
    assert!(resumed["message"].as_str().unwrap_or_default().contains("keys"), "{resumed}");
    // Under the key set it was issued with, it still resumes and the walk ends intact.
    let (status, rest) = verify_get(&listed, format!("limit=1000&cursor={next}")).await;
    assert_eq!(
        (status, rest["ok"].clone(), rest["checked"].clone(), rest["next"].clone()),
        (200, json!(true), json!(1050), Value::Null),
        "{rest}"
    );
}

/// Rotating the Worker's signing key: the events signed with the retired key still verify while
/// its public half is listed in `AUDIT_PUBLIC_KEYS` (Rust read API and `GET /v1/verify` alike),
/// and are `forged` at the first seal of that key, named, once it is removed from the list.
#[tokio::test]
async fn a_rotated_signing_key_verifies_while_listed_and_is_named_once_removed() {
    use neo4j_audit::ingest::{handle, Settings};
    let old = worker_trail("chain-rotate");
    let post = |s: &Settings, body: &'static str| {
        let (s, req, logger) = (s.clone(), old.req.clone(), old.logger.clone());
        async move {
            let r = handle(&req, &s, old.now, &TestIo(body.into()), Some(&logger)).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    post(&old.settings, r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#).await;
    post(&old.settings, r#"{"events":[{"actionType":"C"}]}"#).await;
    let (listed, removed) =
        (rotated_to_k2(&old.trail, &old.settings, true), rotated_to_k2(&old.trail, &old.settings, false));
    post(&listed, r#"{"events":[{"actionType":"D"},{"actionType":"E"}]}"#).await;
    let signed = |s: &Settings| VerifyQuery { public_keys: Some(s.public_keys.clone().into()), ..Default::default() };
    let verify_get = |s: &Settings| {
        let req = neo4j_audit::ingest::Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query: String::new(),
            headers: vec![old.req.headers[0].clone()],
        };
        let (s, logger) = (s.clone(), old.logger.clone());
        async move {
            let r = handle(&req, &s, old.now, &TestIo(String::new()), Some(&logger)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            serde_json::from_str::<Value>(&r.body).unwrap()
        }
    };
    // The retired key listed: one stream across the rotation, intact.
    let r = old.logger.verify_trail(&signed(&listed)).await.unwrap();
    assert!(r.ok && r.checked == 5 && r.streams.len() == 1, "{r:?}");
    assert_eq!(r.signed_head.as_ref().and_then(|h| h.seal.as_ref()).map(|s| s.kid.as_str()), Some("native-k2"));
    let page = verify_get(&listed).await;
    assert_eq!((page["ok"].clone(), page["checked"].clone()), (json!(true), json!(5)), "{page}");
    // Removed: the first event seal of the old key (seq 1) is forged, and says which key.
    let r = old.logger.verify_trail(&signed(&removed)).await.unwrap();
    let b = r.streams[0].first_break.clone().unwrap();
    assert_eq!((r.ok, b.kind, b.seq), (false, BreakKind::Forged, 1), "{r:?}");
    assert!(b.message.contains("native-k1") && b.message.contains("not among the trusted"), "{b:?}");
    let page = verify_get(&removed).await;
    assert_eq!(break_of(&page), (json!(false), json!("forged"), json!(1)), "{page}");
}

/// A `GET /v1/verify` walk resumed from its cursor judges the stream's end against the trail's
/// head as it is now. The cursor held the head read on the walk's first page: the events the
/// Worker wrote after it had an end nothing covered, and a walk resumed after they were cut back
/// to a request boundary (the head, naming the cut events, left as it was) ended `ok`.
#[tokio::test]
async fn a_resumed_verify_walk_judges_the_end_against_the_current_head() {
    let w = worker_trail("chain-walk-head");
    w.post_thousand().await;
    let get = |query: String| {
        let w = &w;
        async move {
            let (status, body) = w.verify_get(&query).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let first = get("limit=1000".into()).await;
    assert_eq!((first["ok"].clone(), first["signedHead"]["seq"].clone()), (json!(true), json!(999)), "{first}");
    let next = first["next"].as_str().expect("a cursor after 1000 events").to_owned();
    // The Worker writes on (seq 1000..1004, sealed at 1002 and 1004); then the last request is cut.
    w.post(r#"{"events":[{"actionType":"B"},{"actionType":"C"},{"actionType":"D"}]}"#.into()).await;
    let last = w.post(r#"{"events":[{"actionType":"E"},{"actionType":"F"}]}"#.into()).await["uids"].clone();
    cypher("MATCH (e:AuditEvent) WHERE e.UID IN $u DETACH DELETE e", json!({"u": last})).await;
    let fresh = get("limit=100000".into()).await;
    assert_eq!(break_of(&fresh), (json!(false), json!("deleted"), json!(1003)), "{fresh}");
    let resumed = get(format!("limit=1000&cursor={next}")).await;
    let b = &resumed["streams"][0]["firstBreak"];
    assert_eq!(
        (resumed["ok"].clone(), b["kind"].clone(), b["seq"].clone(), resumed["next"].clone()),
        (json!(false), json!("deleted"), json!(1003), Value::Null),
        "the resumed walk missed the cut tail: {resumed}"
    );
    assert_eq!(resumed["signedHead"]["seq"], json!(1004), "{resumed}");
}

/// The same for the Worker's signed stream: `verify --since 1d --public-key keys.json` on a trail
/// the Worker wrote nothing to that day reported its stream `deleted` ("the stream is empty but
/// the trail's signed head names seq 1"), although every event was there. The head's event is
/// now looked up in a window: intact passes; the head's event deleted, or the stream deleted
/// whole, is `deleted`; another hash at the head's seq is `forged`.
#[tokio::test]
#[cfg(not(feature = "worker"))] // the lookup is the anchors' (not in the Worker's build, which takes no since)
async fn a_signed_stream_with_no_event_in_a_since_window_is_checked_at_its_signed_head() {
    let w = worker_trail("chain-quiet-signed");
    let r = worker_writes(&w, r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#).await;
    let WorkerTrail { settings, logger, .. } = w;
    let uids: Vec<String> = serde_json::from_str::<Value>(&r.body).unwrap()["uids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    let since = neo4j_audit::event::now_millis() + 1_000;
    let q = VerifyQuery {
        public_keys: Some(settings.public_keys.clone().into()),
        since: Some(since),
        ..Default::default()
    };
    let rep = logger.verify_trail(&q).await.unwrap();
    assert!(rep.ok && rep.checked == 0, "a quiet signed trail is intact in a later window: {rep:?}");
    // Another hash at the head's seq (the event's hash edited, outside the window): forged.
    let kept = cypher("MATCH (ev:AuditEvent {UID: $u}) RETURN ev.hash", json!({"u": uids[1]})).await;
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.hash = $h", json!({"u": uids[1], "h": "e".repeat(64)})).await;
    let rep = logger.verify_trail(&q).await.unwrap();
    assert_eq!(
        (rep.streams[0].first_break.as_ref().map(|b| (b.kind, b.seq)), rep.ok),
        (Some((BreakKind::Forged, 1)), false),
        "{rep:?}"
    );
    cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.hash = $h", json!({"u": uids[1], "h": kept[0][0]})).await;
    // The head's event deleted (a cut tail the window cannot see): deleted at its seq.
    cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", json!({"u": uids[1]})).await;
    let rep = logger.verify_trail(&q).await.unwrap();
    assert_eq!(
        (rep.streams[0].first_break.as_ref().map(|b| (b.kind, b.seq)), rep.ok),
        (Some((BreakKind::Deleted, 1)), false),
        "{rep:?}"
    );
    // Without since, as before (the request's seal went with its last event: unsigned from seq 0).
    let all = VerifyQuery { since: None, ..q.clone() };
    let rep = logger.verify_trail(&all).await.unwrap();
    assert!(!rep.ok, "{rep:?}");
}

/// Inserts into trail `t` a forged event of stream `s` with `seq` and `UID` (Cypher expressions),
/// linked with the keys the trail's pages read it by: `getAuditTrail` shows it (marked invalid).
async fn insert_forged_event(t: &str, s: &str, seq: &str, uid: &str) {
    cypher(
        &format!(
            "MATCH (t:AuditTrail {{name: $t}}) WITH t, datetime() AS now, {uid} AS uid \
             CREATE (t)-[:HAS_EVENT {{trail: $t, created: now, eventUID: uid}}]->\
             (:AuditEvent {{UID: uid, eventType: 'GRANT_ADMIN', eventCategory: 'X', timestamp: now, \
             userUID: 'mallory', source: 'worker', streamId: $s, seq: {seq}, prevHash: $g, hash: $g}})"
        ),
        json!({"t": t, "s": s, "g": GENESIS}),
    )
    .await;
}

/// Verification reads a stream by `seq` (then `UID`) after a position (`seq >= $afterSeq AND
/// (seq > $afterSeq OR UID > $afterUid)`). An event whose `seq` is NaN, or which repeats the
/// position's `seq` with a `UID` that is not a string, is never after any position: NaN compares
/// false, and another type than a string null (values of other types that sort before the
/// numbers land on a stream's first page, where they are `edited`). Inserted into a stream longer
/// than one verification page (1000 events: the Worker's one stream per trail soon is), or into
/// any stream under a `since` window (whose pages after the first all read on from a position),
/// such an event was never read and no check counted it: `verifyTrail`, with the public keys, and
/// `GET /v1/verify` answered `ok` while the trail's pages showed the forged event (redteam24). It
/// is now counted in `unchained`.
#[tokio::test]
async fn an_event_verification_reading_cannot_reach_is_not_hidden_from_it() {
    // (seq, UID) of the forged event; `last` stands for the seq of the page's last event.
    for (what, seq, uid) in
        [("a NaN seq", "0.0 / 0.0", "'nan-' + $t"), ("a number UID", "last", "toInteger(rand() * 1e15)")]
    {
        // The Worker's signed stream, 1000 events: one full page, the forged event after it.
        let w = worker_trail("chain-unreached-signed");
        w.post_thousand().await;
        let keys = VerifyQuery { public_keys: Some(w.settings.public_keys.clone().into()), ..Default::default() };
        let intact = w.logger.verify_trail(&keys).await.unwrap();
        assert!(intact.ok && intact.checked == 1000, "{intact:?}");
        let stream = intact.streams[0].stream_id.clone();
        insert_forged_event(&w.trail, &stream, &seq.replace("last", "999"), uid).await;
        let page = w.logger.get_audit_trail(&TrailQuery { limit: Some(1), ..Default::default() }).await.unwrap();
        assert_eq!(page.events[0].action_type, "GRANT_ADMIN", "{what}: the trail's newest event is the forged one");
        let r = w.logger.verify_trail(&keys).await.unwrap();
        assert!(!r.ok && r.unchained == 1, "{what}: a forged event verified ok: {r:?}");
        let mut query = "limit=1000".to_owned();
        let last = loop {
            let (status, page) = w.verify_get(&query).await;
            assert_eq!(status, 200, "{page}");
            match page["next"].as_str() {
                Some(c) => query = format!("limit=1000&cursor={c}"),
                None => break page,
            }
        };
        assert_eq!(
            (last["ok"].clone(), last["unchained"].clone()),
            (json!(false), json!(1)),
            "{what}: GET /v1/verify: {last}"
        );

        // A client's stream of three events, verified in a `since` window that holds all of them.
        let (logger, _) = chained("chain-unreached-window", 3).await;
        let head = logger.chain_head();
        let first = cypher(
            "MATCH (ev:AuditEvent {streamId: $s, seq: 0}) RETURN ev.timestamp.epochMillis",
            json!({"s": head.stream_id}),
        )
        .await;
        let window = VerifyQuery { since: first[0][0].as_i64(), ..Default::default() };
        assert!(logger.verify_trail(&window).await.unwrap().ok);
        insert_forged_event(&logger.config().trail, &head.stream_id, &seq.replace("last", "0"), uid).await;
        let r = logger.verify_trail(&window).await.unwrap();
        assert!(!r.ok && r.unchained == 1, "{what}: in a since window: {r:?}");
        // From the start, a short stream's one page holds it: found there, as before.
        assert!(!verify(&logger).await.ok, "{what}");
    }
}
/// A `since` window's trail pages take an event by its link's copied time (`HAS_EVENT.created`),
/// verification by the event's `timestamp`: a link whose time was moved into the window put an
/// older event (here one re-dated by its link only) on the window's pages, and the window's
/// check, which counts such links in `unchained`, looked for them by `timestamp` and did not see
/// it: `ok` (redteam24). Only a verification from the start reported it.
#[tokio::test]
async fn a_link_moved_into_a_since_window_is_seen_by_that_window() {
    let (logger, uids) = chained("chain-link-window", 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = neo4j_audit::event::now_millis();
    let u = User::new("user-0").name("Ann");
    logger.log_user_action(Some(&u), "DOCUMENT_VIEWED", None, None).await.unwrap();
    let window = VerifyQuery { since: Some(since), ..Default::default() };
    let shown = |logger: AuditLogger| async move {
        let q = TrailQuery { since: Some(since), limit: Some(100), ..Default::default() };
        logger.get_audit_trail(&q).await.unwrap().events.into_iter().map(|e| e.uid).collect::<Vec<_>>()
    };
    assert_eq!(shown(logger.clone()).await.len(), 1);
    assert!(logger.verify_trail(&window).await.unwrap().ok);
    cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(:AuditEvent {UID: $u}) SET r.created = datetime()",
        json!({"t": logger.config().trail, "u": uids[1]}),
    )
    .await;
    assert!(shown(logger.clone()).await.contains(&uids[1]), "the window's pages show the old event");
    let r = logger.verify_trail(&window).await.unwrap();
    assert!(!r.ok && r.unchained == 1, "a link moved into the window verified ok there: {r:?}");
    assert!(!verify(&logger).await.ok);
}

/// An event whose times are not `DateTime`s (the Python `log_user_action` still writing after the
/// cut-over stores `LocalDateTime`s in `timestamp` and `HAS_EVENT.created`) compared as neither in
/// a `since` window nor before it, and no window took it: `verify --since`, the README's check
/// from the cut-over on, said `ok` while a check from the start named it (newuser32). Such an
/// event cannot be shown to be before the window: it is in every window. A migrated old event
/// (UTC `DateTime`s before the window) stays out of it.
#[tokio::test]
async fn an_event_whose_times_are_not_datetimes_is_in_every_since_window() {
    let (logger, _) = chained("chain-local-window", 2).await;
    let trail = logger.config().trail.clone();
    cypher(
        "MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT {created: datetime('2001-01-01T00:00:00Z')}]->\
         (:AuditEvent {UID: 'migrated-' + $t, eventType: 'A', timestamp: datetime('2001-01-01T00:00:00Z'), userUID: 'u'})",
        json!({"t": trail}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let window = VerifyQuery { since: Some(neo4j_audit::event::now_millis()), ..Default::default() };
    let u = User::new("user-0").name("Ann");
    logger.log_user_action(Some(&u), "DOCUMENT_VIEWED", None, None).await.unwrap();
    assert!(logger.verify_trail(&window).await.unwrap().ok, "a migrated event before the window is not the window's");
    // The seed's own write: local times, no chain fields.
    cypher(
        "MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT {created: localdatetime()}]->\
         (:AuditEvent {UID: 'py-' + $t, eventType: 'A', timestamp: localdatetime(), userUID: 'u'})",
        json!({"t": trail}),
    )
    .await;
    let r = logger.verify_trail(&window).await.unwrap();
    assert!(!r.ok && r.unchained == 1, "an event with local times verified ok in the window: {r:?}");
    assert_eq!(r.unchained_uids, vec![format!("py-{trail}")]);
    // A window long after it, too.
    let later = VerifyQuery { since: Some(neo4j_audit::event::now_millis() + 86_400_000), ..Default::default() };
    let unchained = logger.verify_trail(&later).await.unwrap().unchained;
    // `migrate` looks at the whole database: an unchained LocalDateTime left here would stop the
    // CLI's migrate tests, which share this Neo4j, for want of --zone.
    cypher("MATCH (e:AuditEvent) WHERE e.UID IN ['py-' + $t, 'migrated-' + $t] DETACH DELETE e", json!({"t": trail}))
        .await;
    assert_eq!(unchained, 1);
}

/// The trail's head made unreadable (a `chainSeq` that is not an integer, a `chainHash` removed):
/// the Worker read it as no head, chained from `seq` 0 of a new stream, and its write's condition
/// (the head still the one it chained from: none) failed on the head that is there, 32 times over,
/// two round trips each, then answered 503 "busy" with the log "the trail's head kept moving" —
/// for every request, for as long as the head stayed so (redteam24). It now answers at once, 500
/// `store_error` (client mode keeps such events queued), and the log names the trail's head.
#[tokio::test]
async fn a_worker_write_on_an_unreadable_trail_head_fails_at_once_and_says_why() {
    use neo4j_audit::ingest::handle;
    let WorkerTrail { trail, settings, logger, now, req } = worker_trail("chain-head-unreadable");
    let r = handle(&req, &settings, now, &TestIo(r#"{"actionType":"A"}"#.into()), Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    for damage in ["SET t.chainSeq = toString(t.chainSeq)", "REMOVE t.chainHash"] {
        let rows = cypher(
            &format!("MATCH (t:AuditTrail {{name: $t}}) WITH t, properties(t) AS kept {damage} RETURN kept"),
            json!({"t": trail}),
        )
        .await;
        let started = std::time::Instant::now();
        let r = handle(&req, &settings, now, &TestIo(r#"{"actionType":"B"}"#.into()), Some(&logger)).await;
        let took = started.elapsed();
        assert_eq!(r.status, 500, "{damage}: {} after {took:?}", r.body);
        assert!(r.body.contains("store_error"), "{damage}: {}", r.body);
        let stored =
            cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
        assert_eq!(stored[0][0], json!(1), "{damage}: nothing written");
        cypher("MATCH (t:AuditTrail {name: $t}) SET t = $kept", json!({"t": trail, "kept": rows[0][0]})).await;
    }
    let r = handle(&req, &settings, now, &TestIo(r#"{"actionType":"C"}"#.into()), Some(&logger)).await;
    assert_eq!(r.status, 201, "the head restored: {}", r.body);
}

/// A documented limit (docs/worker.md): with `TENANT_CLAIM`, a trail per tenant, but the edges
/// into the application's graph go to the node the `UID` names, whoever's it is. A tenant-B user
/// who names tenant A's document links B's event to it; the library's reads stay per trail.
#[tokio::test]
async fn tenant_trails_do_not_scope_the_edges_into_the_application_graph() {
    use neo4j_audit::ingest::handle;
    let base = unique("chain-tenant-edges");
    let settings = worker_settings_with(
        &base,
        vec![("TENANT_CLAIM", "org_id".into()), ("ALLOWED_TARGET_LABELS", "Document".into())],
    );
    let logger = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
    let now = neo4j_audit::event::now_millis() / 1000;
    let (a, b) = (format!("{base}-a"), format!("{base}-b"));
    let doc = format!("{base}-doc");
    cypher("CREATE (:Document {UID: $d, tenant: $a})", json!({"d": doc, "a": a})).await;
    let token = neo4j_audit::ingest::jwt::sign_hs256(
        WORKER_JWT_SECRET.as_bytes(),
        &json!({"sub": "u-1", "aud": "neo4j-audit", "exp": now + 60, "org_id": b}),
    );
    let mut req = worker_post();
    req.headers[0] = ("Authorization".into(), format!("Bearer {token}"));
    let body = format!(r#"{{"actionType":"DOCUMENT_DELETED","targets":[{{"label":"Document","uid":"{doc}"}}]}}"#);
    let r = handle(&req, &settings, now, &TestIo(body), Some(&logger)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rows = cypher(
        "MATCH (t:AuditTrail)-[:HAS_EVENT]->(ev)-[:ON]->(:Document {UID: $d, tenant: $a}) RETURN t.name",
        json!({"d": doc, "a": a}),
    )
    .await;
    assert_eq!(rows, vec![vec![json!(format!("org:{b}"))]], "tenant B's event is on tenant A's document");
    // The library's read of A's trail does not show it.
    let mut ca = settings.neo4j.clone().unwrap();
    ca.trail = format!("org:{a}");
    let reader = AuditLogger::new(ca).unwrap();
    let q = TrailQuery { target: Some(format!("Document:{doc}")), ..Default::default() };
    assert!(reader.get_audit_trail(&q).await.unwrap().events.is_empty());
}

/// A second node with an event's `UID` (possible only once the uniqueness constraint on `UID` is
/// dropped): `inserted`, as the README's table says, wherever it stands. At a verification page's
/// position (here a `since` window's first event, after which the window reads on from there) the
/// reading after it (`UID > $afterUid`) skipped the copy, and the window verified `ok` while the
/// trail's pages showed the event twice (redteam24).
#[tokio::test]
async fn a_copy_of_an_event_with_its_uid_is_inserted_also_at_a_page_position() {
    let label = format!("DupEv{}", neo4j_audit::random::uuid_v4().replace('-', "")[..12].to_owned());
    let mut c = config("chain-dup-uid");
    c.labels.event = label.clone();
    let logger = AuditLogger::new(c).unwrap();
    let u = User::new("user-0");
    for _ in 0..3 {
        logger.log_user_action(Some(&u), "DOCUMENT_VIEWED", None, None).await.unwrap();
    }
    let head = logger.chain_head();
    let names = cypher(
        "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties WHERE labelsOrTypes = [$l] AND properties = ['UID'] RETURN name",
        json!({"l": label}),
    )
    .await;
    assert_eq!(names.len(), 1, "{names:?}");
    cypher(&format!("DROP CONSTRAINT `{}`", names[0][0].as_str().unwrap()), json!({})).await;
    let first = cypher(
        &format!("MATCH (ev:`{label}` {{streamId: $s, seq: 0}}) RETURN ev.timestamp.epochMillis"),
        json!({"s": head.stream_id}),
    )
    .await;
    let window = VerifyQuery { since: first[0][0].as_i64(), ..Default::default() };
    assert!(logger.verify_trail(&window).await.unwrap().ok);
    cypher(
        &format!(
            "MATCH (t:AuditTrail {{name: $t}})-[r:HAS_EVENT]->(ev:`{label}` {{streamId: $s, seq: 0}}) \
             CREATE (t)-[r2:HAS_EVENT]->(copy:`{label}`) SET copy = properties(ev), r2 = properties(r)"
        ),
        json!({"t": logger.config().trail, "s": head.stream_id}),
    )
    .await;
    let page = logger.get_audit_trail(&TrailQuery { limit: Some(100), ..Default::default() }).await.unwrap();
    assert_eq!(page.events.len(), 4, "the trail's pages show the event twice");
    let b = verify(&logger).await.streams[0].first_break.clone();
    assert_eq!(b.map(|b| (b.kind, b.seq)), Some((BreakKind::Inserted, 0)), "from the start");
    let r = logger.verify_trail(&window).await.unwrap();
    let b = r.streams[0].first_break.clone();
    assert_eq!(b.map(|b| (b.kind, b.seq)), Some((BreakKind::Inserted, 0)), "in the window: {r:?}");
}

/// Found by red team 25: two trail nodes with one name (the uniqueness constraint missing: the
/// Python log_user_action's racing first calls, a plain index that blocked it, or dropped by hand)
/// each link every later event, so the trail's pages show each event twice; verification counted
/// the links of one trail node at a time and said `ok`. An event linked from two trail nodes of
/// the trail's name is now counted in `unchained` as one linked twice from one node is.
#[tokio::test]
async fn events_linked_from_two_trail_nodes_of_one_name_are_not_ok() {
    let mut cfg = config("chain-two-trails");
    let label = format!("TwoTrails{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    cfg.labels.trail = label.clone();
    let t = cfg.trail.clone();
    // Two nodes of one name, made before the first write (the constraint then cannot be made).
    cypher(
        &format!("CREATE (:{label} {{name: $t, UID: randomUUID(), indexed: true}}), (:{label} {{name: $t, UID: randomUUID(), indexed: true}})"),
        json!({"t": t}),
    )
    .await;
    let logger = AuditLogger::new(cfg.clone()).unwrap();
    let mut uids = Vec::new();
    for i in 0..3 {
        uids.push(logger.log_user_action(None, "TWICE", None, Some(&json!({"i": i}))).await.unwrap().uid);
    }
    assert!(logger.schema_warning().is_some_and(|w| w.contains("ConstraintCreationFailed")));
    // The graph: each event linked from both nodes; the pages show it twice.
    let links = cypher(
        &format!(
            "MATCH (x:{label} {{name: $t}})-[r:HAS_EVENT]->(e) RETURN count(r), count(DISTINCT e), count(DISTINCT x)"
        ),
        json!({"t": t}),
    )
    .await;
    assert_eq!(links[0], vec![json!(6), json!(3), json!(2)]);
    let page = logger.audit_trail(&TrailQuery::default()).await.unwrap();
    assert_eq!(page.events.len(), 6, "the pages show each event once per trail node");
    let report = verify(&logger).await;
    assert!(!report.ok, "events shown twice verified ok: {report:?}");
    assert_eq!(report.unchained, 3, "{report:?}");
    let mut listed = report.unchained_uids.clone();
    listed.sort();
    uids.sort();
    assert_eq!(listed, uids);
    assert!(report.streams.iter().all(|s| s.ok && s.checked == 3), "the chain itself is intact: {report:?}");
    // One of the two nodes removed (merged by hand): ok again.
    cypher(
        &format!("MATCH (x:{label} {{name: $t}}) WITH x ORDER BY elementId(x) LIMIT 1 DETACH DELETE x"),
        json!({"t": t}),
    )
    .await;
    let report = verify(&logger).await;
    assert!(report.ok && report.checked == 3 && report.unchained == 0, "{report:?}");
    cypher(&format!("MATCH (x:{label}) DETACH DELETE x"), json!({})).await;
}

/// Red team: a client event's provenance (`occurredAt`, `source`) is outside version 1 of the
/// canonical encoding, yet the reader shows it (the README's activity list shows `occurredAt` as
/// when the user acted). Edited by hand, it must not verify: a client writes `occurredAt` =
/// `timestamp`, and only the Worker writes `source: "worker"` (in a stream bound to its trail,
/// always sealed in version 2).
#[tokio::test]
async fn a_client_events_provenance_edited_by_hand_is_edited_at_its_event() {
    let (logger, _) = chained("chain-prov-ok", 2).await;
    assert!(verify(&logger).await.ok, "as written: occurredAt = timestamp, source client");
    for (i, edit) in [
        "SET ev.occurredAt = ev.timestamp - duration({days: 30})",
        "SET ev.source = 'worker'",
        "SET ev.source = 'worker', ev.occurredAt = datetime('2020-01-01T00:00:00Z')",
        // A source no writer stores (the reader took it for a client's; the graph says otherwise).
        "SET ev.source = 'system'",
    ]
    .into_iter()
    .enumerate()
    {
        let (logger, uids) = chained(&format!("chain-prov-{i}"), 4).await;
        cypher(&format!("MATCH (ev:AuditEvent {{UID: $u}}) {edit}"), json!({"u": uids[2]})).await;
        let report = verify(&logger).await;
        assert!(!report.ok, "{edit}: {report:?}");
        let b = report.streams[0].first_break.clone().unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 2, Some(uids[2].as_str())), "{edit}: {b:?}");
        // Named as what it is: the hash still matches, the provenance beside it does not.
        assert!(b.message.contains("source or occurredAt") || b.message.contains("stored source"), "{edit}: {b:?}");
    }
    // An event written before provenance existed (neither property) still verifies.
    let (logger, uids) = chained("chain-prov-legacy", 3).await;
    cypher("MATCH (ev:AuditEvent {UID: $u}) REMOVE ev.occurredAt, ev.source", json!({"u": uids[1]})).await;
    assert!(verify(&logger).await.ok);
}

/// Calls racing `close()` on a multi-threaded runtime (a server's shutdown with requests still
/// in its handlers): every call either commits, its `seq` in the stream, or is refused before it
/// takes a `seq`. Before, a call that took its `seq` just before `close()` was then refused
/// (`Closed`) and never sent: the stream ended before the head `chain_head()` names (the anchor an
/// operator keeps), or had a hole, `deleted` for `verify_trail` (about 1 stream in 50 here).
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[cfg(not(feature = "worker"))] // anchors: not in the Worker's build
async fn calls_racing_close_take_no_seq_they_do_not_deliver() {
    const ROUNDS: usize = 200;
    const TASKS: usize = 16;
    let cfg = config("chain-close-race");
    let (mut anchors, mut committed) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let logger = AuditLogger::new(cfg.clone()).unwrap();
        // A first event, so the schema step is behind us and the race is the calls' alone.
        logger.log_user_action(None, "WARM", None, None).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let l = logger.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                loop {
                    match l.log_user_action(None, "RACE", None, None).await {
                        Ok(_) => ok += 1,
                        Err(neo4j_audit::AuditError::Closed) => return ok,
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5 + round as u64 % 7)).await;
        assert!(logger.close().await, "{:?}", logger.last_error());
        let mut n = 1;
        for t in tasks {
            n += t.await.unwrap();
        }
        let head = logger.chain_head();
        committed.push((head.stream_id.clone(), n));
        anchors.push(head.anchor().unwrap());
    }
    let q = VerifyQuery { anchors, ..Default::default() };
    let report = AuditLogger::new(cfg).unwrap().verify_trail(&q).await.unwrap();
    let broken: Vec<_> = report.streams.iter().filter_map(|s| s.first_break.clone()).collect();
    assert!(report.ok && broken.is_empty(), "{} of {ROUNDS} streams broken: {broken:?}", broken.len());
    for (stream, n) in committed {
        let s = report.streams.iter().find(|s| s.stream_id == stream).unwrap();
        assert_eq!((s.checked, s.head_seq), (n, Some(n - 1)), "each call that committed, and only those: {s:?}");
    }
}

/// A paged walk over a trail of many streams (the Worker's signed one among 40 client streams,
/// read with `allow_unsigned`): each progress names at most 16 streams still to read and reads
/// the rest from Neo4j again (before, it named them all, and a `GET /v1/verify` cursor on a trail
/// of more than ~150 streams was over the 16 KB a URL may have). Every stream is read once, and
/// the Worker's stream, whose trail head names it, is still checked when all its events are gone.
#[tokio::test]
async fn a_paged_walk_over_many_streams_reads_each_once_and_keeps_the_heads_stream() {
    let w = worker_trail("chain-many-streams");
    worker_writes(&w, r#"{"events":[{"actionType":"W1"},{"actionType":"W2"}]}"#).await;
    let WorkerTrail { settings, logger, .. } = w;
    for _ in 0..40 {
        let client = AuditLogger::new(settings.neo4j.clone().unwrap()).unwrap();
        client.log_user_action(None, "DIRECT", None, None).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let keys = Some(settings.public_keys.clone().into());
    let lenient = VerifyQuery { public_keys: keys, allow_unsigned: true, ..Default::default() };
    let worker = logger.signed_head().await.unwrap().expect("the Worker's head").stream_id;
    let walk = || async {
        let (mut page, mut progress) = logger.verify_trail_page(&lenient, None, 1).await.unwrap();
        let mut streams = page.streams.clone();
        let mut calls = 1;
        while let Some(p) = progress {
            assert!(p.pending.len() <= 16, "call {calls}: {} streams named", p.pending.len());
            (page, progress) = logger.verify_trail_page(&lenient, Some(p), 1).await.unwrap();
            streams.extend(page.streams.clone());
            calls += 1;
        }
        (page, streams, calls)
    };
    let (last, streams, calls) = walk().await;
    assert!(last.ok, "{last:?}");
    assert_eq!(last.checked, 42);
    let mut ids: Vec<&str> = streams.iter().map(|s| s.stream_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((streams.len(), ids.len(), calls), (41, 41, 41), "each stream once, one per call");
    assert!(ids.contains(&worker.as_str()));
    // The Worker's events deleted (its head kept): its stream is still read, and cut.
    cypher("MATCH (ev:AuditEvent {streamId: $s}) DETACH DELETE ev", json!({"s": worker})).await;
    let (last, streams, _) = walk().await;
    assert!(!last.ok, "{last:?}");
    let w: Vec<_> = streams.iter().filter(|s| s.stream_id == worker).collect();
    assert_eq!(w.len(), 1, "{streams:?}");
    assert_eq!(w[0].first_break.as_ref().map(|b| b.kind), Some(BreakKind::Deleted), "{w:?}");
    assert_eq!(streams.len(), 41);
}

/// redteam38: a client-mode logger chained its events into a stream of its own that it never
/// sends (the Worker chains what it stores), so its `chain_head()` named a stream no database
/// holds: an anchor taken from it failed every verification. Client mode chains nothing now.
#[tokio::test]
async fn a_client_mode_head_is_no_anchor_of_a_stream_never_stored() {
    let mut c = neo4j_audit::Config::new("");
    c.endpoint = Some("http://127.0.0.1:9/v1/events".into());
    c.token = Some("eyJhbGciOiJIUzI1NiJ9.e30.c2ln".into());
    let client = AuditLogger::new(c).unwrap();
    let before = client.chain_head();
    for action in ["A", "B"] {
        let ev = client.build_event_json(None, action, None, None).unwrap();
        assert_eq!((ev.stream_id.as_deref(), ev.seq, ev.hash.as_deref()), (None, None, None), "{ev:?}");
    }
    let head = client.chain_head();
    assert_eq!((head.next_seq, head.head.as_str()), (0, GENESIS));
    assert_eq!(head.stream_id, before.stream_id);
    // Direct mode still chains.
    let direct = AuditLogger::new(config("client-head-direct")).unwrap();
    let ev = direct.build_event_json(None, "A", None, None).unwrap();
    assert_eq!(ev.seq, Some(0));
    assert_eq!(direct.chain_head().next_seq, 1);
}
