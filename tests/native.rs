#![cfg(not(target_arch = "wasm32"))]
//! Native integration tests: the library against the real Neo4j (scripts/neo4j start), reading
//! the graph back with independent Cypher.

mod common;

use common::*;
use neo4j_audit::{Api, AuditError, AuditLogger, Config, Labels, LogOptions, Target, User};
use serde_json::{json, Value};

async fn make_user(uid: &str, name: &str) {
    cypher("CREATE (:User {UID: $uid, name: $name})", json!({"uid": uid, "name": name})).await;
}

/// Everything the graph holds about the events of one trail, one row per event.
async fn read_trail(trail: &str) -> Vec<Value> {
    let rows = cypher(
        "MATCH (t:AuditTrail {name: $trail})-[r:HAS_EVENT]->(ev:AuditEvent) \
         OPTIONAL MATCH (ev)-[:PERFORMED_BY]->(u:User) \
         RETURN {uid: ev.UID, type: ev.eventType, category: ev.eventCategory, \
           tsType: valueType(ev.timestamp), tz: ev.timestamp.timezone, ms: ev.timestamp.epochMillis, \
           userUID: ev.userUID, userName: ev.userName, details: ev.details, keys: keys(ev), \
           createdEqualsTs: r.created = ev.timestamp, performer: u.UID, trailUid: t.UID, \
           source: ev.source, occurredType: valueType(ev.occurredAt), occurredMs: ev.occurredAt.epochMillis} \
         ORDER BY ev.timestamp",
        json!({"trail": trail}),
    )
    .await;
    rows.into_iter().map(|mut r| r.remove(0)).collect()
}

#[tokio::test]
async fn writes_event_with_every_property_and_both_relationships() {
    for api in [Api::Tx, Api::Query] {
        let mut cfg = config("props");
        cfg.api = api;
        let trail = cfg.trail.clone();
        let uid = unique("user");
        make_user(&uid, "John Doe").await;
        let logger = AuditLogger::new(cfg).unwrap();
        let details = json!({"document_id": "doc-456", "fields_changed": ["title", "content"], "n": 1.5});
        let before = neo4j_audit::event::now_millis();
        let ev = logger
            .log_user_action(
                Some(&User::new(&uid).name("John Doe")),
                "DOCUMENT_MODIFIED",
                Some("DOCUMENT_MANAGEMENT"),
                Some(&details),
            )
            .await
            .unwrap_or_else(|e| panic!("{api:?}: {e}"));
        let rows = read_trail(&trail).await;
        assert_eq!(rows.len(), 1, "{api:?}: {rows:?}");
        let r = &rows[0];
        assert_eq!(r["uid"], json!(ev.uid));
        assert_eq!(uuid::Uuid::parse_str(r["uid"].as_str().unwrap()).unwrap().get_version_num(), 4);
        assert_eq!(r["type"], "DOCUMENT_MODIFIED");
        assert_eq!(r["category"], "DOCUMENT_MANAGEMENT");
        assert_eq!(r["tsType"], "ZONED DATETIME NOT NULL");
        assert_eq!(r["tz"], "Z");
        let ms = r["ms"].as_i64().unwrap();
        assert_eq!(ms, ev.ts);
        assert!((ms - before).abs() < 60_000);
        assert_eq!(r["userUID"], json!(uid));
        assert_eq!(r["userName"], "John Doe");
        let stored: Value = serde_json::from_str(r["details"].as_str().unwrap()).unwrap();
        assert_eq!(stored, details);
        assert_eq!(r["createdEqualsTs"], true);
        // Provenance of a direct write: the client wrote it, the user acted when it was born.
        assert_eq!(r["source"], "client");
        assert_eq!(r["occurredType"], "ZONED DATETIME NOT NULL");
        assert_eq!(r["occurredMs"], json!(ev.ts));
        assert_eq!(r["performer"], json!(uid));
        assert!(uuid::Uuid::parse_str(r["trailUid"].as_str().unwrap()).is_ok());
    }
}

#[tokio::test]
async fn no_user_and_no_details_leave_properties_absent() {
    let cfg = config("nouser");
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.log_user_action(None, "SYSTEM_START", None, None).await.unwrap();
    logger.log_user_action(None, "EMPTY_DETAILS", None, Some(&json!({}))).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let keys: Vec<&str> = r["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        for absent in ["userUID", "userName", "details"] {
            assert!(!keys.contains(&absent), "{absent} present: {keys:?}");
        }
        assert_eq!(r["category"], "USER_ACTION");
        assert!(r["performer"].is_null());
    }
    assert_eq!(logger.last_error(), None);
}

#[tokio::test]
async fn missing_user_node_still_writes_the_event_without_the_edge() {
    let cfg = config("ghost");
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    let ghost = unique("ghost");
    logger.log_user_action(Some(&User::new(&ghost).name("Nobody")), "LOGIN", Some("SECURITY"), None).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["userUID"], json!(ghost));
    assert!(rows[0]["performer"].is_null());
    let n = cypher("MATCH (u:User {UID: $u}) RETURN count(u)", json!({"u": ghost})).await;
    assert_eq!(n[0][0], 0, "a User node was invented");
}

#[tokio::test]
async fn cypher_looking_input_is_stored_literally() {
    let canary = unique("canary");
    cypher("CREATE (:Canary {id: $id})", json!({"id": canary})).await;
    let cfg = config("inject' }) MATCH (n) DETACH DELETE n //");
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    let evil = "X'}) MATCH (n) DETACH DELETE n RETURN 1 //";
    let user = User::new(format!("{evil}{}", unique(""))).name("\"; DROP");
    let details = json!({"q": "MATCH (n) DETACH DELETE n", "$events": "${trail}", "`": "`", "evil": evil});
    // actionType and category are names (the rule table): Cypher-looking text there is refused.
    let reason = logger.reason(&logger.log_user_action(Some(&user), evil, None, None).await.unwrap_err());
    assert!(reason.starts_with("invalid input: actionType"), "{reason}");
    let e = logger.log_user_action(Some(&user), "X", Some("`SECURITY`"), None).await.unwrap_err();
    assert!(matches!(e, AuditError::InvalidInput(_)), "{e:?}");
    // The Cypher-looking text travels in the trail name, the user and the details, and the names
    // use what they may.
    let (action, category) = ("n:DETACH.DELETE-n", "e.UID:--");
    logger.log_user_action(Some(&user), action, Some(category), Some(&details)).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["type"], action);
    assert_eq!(rows[0]["category"], category);
    assert_eq!(rows[0]["userUID"], json!(user.uid));
    assert_eq!(rows[0]["userName"], "\"; DROP");
    let stored: Value = serde_json::from_str(rows[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(stored, details);
    let n = cypher("MATCH (c:Canary {id: $id}) RETURN count(c)", json!({"id": canary})).await;
    assert_eq!(n[0][0], 1, "canary deleted");
}

#[tokio::test]
async fn configured_labels_are_used_and_bad_ones_rejected() {
    let mut cfg = config("labels");
    cfg.labels = Labels { event: "CustomEvent".into(), trail: "CustomTrail".into(), user: "Person".into() };
    let trail = cfg.trail.clone();
    let uid = unique("person");
    cypher("CREATE (:Person {UID: $uid})", json!({"uid": uid})).await;
    let logger = AuditLogger::new(cfg.clone()).unwrap();
    logger.log_user_action(Some(&User::new(&uid)), "X", None, None).await.unwrap();
    let n = cypher(
        "MATCH (:CustomTrail {name: $t})-[:HAS_EVENT]->(e:CustomEvent)-[:PERFORMED_BY]->(:Person {UID: $u}) RETURN count(e)",
        json!({"t": trail, "u": uid}),
    )
    .await;
    assert_eq!(n[0][0], 1);
    let none = cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": trail})).await;
    assert_eq!(none[0][0], 0);
    for bad in ["Bad Label", "X`) DETACH DELETE (n", "", "9x"] {
        let mut c = cfg.clone();
        c.labels.trail = bad.into();
        assert!(matches!(AuditLogger::new(c), Err(AuditError::InvalidConfig(_))), "{bad:?}");
    }
}

#[tokio::test]
async fn hundred_concurrent_first_calls_make_one_trail() {
    let cfg = config("concurrent");
    let trail = cfg.trail.clone();
    // Separate loggers, as separate processes or page loads would be: no shared state.
    let loggers: Vec<AuditLogger> = (0..100).map(|_| AuditLogger::new(cfg.clone()).unwrap()).collect();
    let calls = loggers
        .iter()
        .enumerate()
        .map(|(i, l)| async move { l.log_user_action(None, "CONCURRENT", None, Some(&json!({"i": i}))).await });
    let results = futures::future::join_all(calls).await;
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "{} failed, e.g. {:?}", failed.len(), failed.first());
    let trails = cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": trail})).await;
    assert_eq!(trails[0][0], 1);
    let linked = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN count(DISTINCT e), count(*)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(linked[0], vec![json!(100), json!(100)]);
}

#[tokio::test]
async fn wrong_password_is_false_with_a_reason_and_no_secret() {
    let mut cfg = config("auth");
    // Its own user name: Neo4j locks a user out for a few seconds after 3 failed logins, which
    // would make other tests' (correct) logins as `neo4j` fail meanwhile.
    cfg.username = Some("audit-test-wrong-login".into());
    cfg.password = Some("wrong-password-XYZ".into());
    let logger = AuditLogger::new(cfg).unwrap();
    let reason = logger.reason(&logger.log_user_action(None, "LOGIN", None, None).await.unwrap_err());
    assert!(reason.contains("authentication failed") && reason.contains("401"), "{reason}");
    assert!(!reason.contains("wrong-password-XYZ"));
    let e = logger.log_user_action(None, "LOGIN", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::Unauthorized { status: 401, .. }), "{e:?}");
}

/// One attempt of a `LOGIN` event with `cfg`, which Neo4j refuses with its real 401: the logger,
/// the error and its reason.
async fn refused_login(mut cfg: Config) -> (AuditLogger, AuditError, String) {
    cfg.retry.max_attempts = 1;
    let logger = AuditLogger::new(cfg).unwrap();
    let e = logger.log_user_action(None, "LOGIN", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::Unauthorized { status: 401, .. }), "{e:?}");
    let reason = logger.reason(&e);
    (logger, e, reason)
}

/// A refused password with white space around it (read from a file with its newline) is named
/// as such in the reason, without the password; Neo4j's real 401.
#[tokio::test]
async fn a_refused_password_with_a_trailing_newline_says_so() {
    let mut cfg = config("auth-ws");
    // Its own user name, as above: no lock-out of the user the other tests log in as.
    cfg.username = Some("audit-test-wrong-login-ws".into());
    cfg.password = Some("wrong-password-XYZ\n".into());
    let (logger, e, reason) = refused_login(cfg).await;
    assert!(reason.starts_with("authentication failed: HTTP 401"), "{reason}");
    assert!(
        reason.ends_with("; the password has leading or trailing white space: a line break read with it from a file?)"),
        "{reason}"
    );
    // The returned error's Display says the same (before, only reason() and last_error did).
    assert_eq!(e.to_string(), reason);
    assert!(!reason.contains("wrong-password-XYZ") && !format!("{e:?} {logger:?}").contains("wrong-password-XYZ"));
    assert_eq!(logger.last_error().as_deref(), Some(reason.as_str()));
}

/// A logger given no credentials (no user and password, no token) gets Neo4j's real 401: its
/// reason says that none were configured and how to set them. Before, it was the bare
/// `authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized)`, the same as for a
/// wrong password, with nothing pointing at the missing setting.
#[tokio::test]
async fn a_401_without_configured_credentials_says_none_were_configured() {
    let mut cfg = config("auth-none");
    cfg.username = None;
    cfg.password = None;
    let trail = cfg.trail.clone();
    let (logger, e, reason) = refused_login(cfg).await;
    assert!(reason.starts_with("authentication failed: HTTP 401 ("), "{reason}");
    assert!(
        reason.contains("no credentials were configured: set basic_auth(user, password) or bearer(token)"),
        "{reason}"
    );
    assert_eq!(e.to_string(), reason, "the returned error says the same");
    assert_eq!(logger.last_error().as_deref(), Some(reason.as_str()));
    assert_eq!(logger.reason(&AuditError::Unauthorized { status: 403, code: None }), "authentication failed: HTTP 403");
    let n = cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", json!({"t": trail})).await;
    assert_eq!(n[0][0], 0, "nothing written");
    // With credentials, a refused login keeps the plain reason (tests above): no such hint.
    let mut cfg = config("auth-some");
    cfg.username = Some("audit-test-wrong-login-none".into());
    cfg.password = Some("wrong-password-XYZ".into());
    cfg.retry.max_attempts = 1;
    let logger = AuditLogger::new(cfg).unwrap();
    let e = logger.log_user_action(None, "LOGIN", None, None).await.unwrap_err();
    assert!(!logger.reason(&e).contains("no credentials"), "{e}");
}

#[tokio::test]
async fn unknown_database_is_false() {
    for api in [Api::Tx, Api::Query] {
        let mut cfg = config("nodb");
        cfg.database = "no-such-db".into();
        cfg.api = api;
        let logger = AuditLogger::new(cfg).unwrap();
        let e = logger.log_user_action(None, "X", None, None).await.unwrap_err();
        assert_eq!(e, AuditError::DatabaseNotFound("no-such-db".into()), "{api:?}");
        let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
        assert!(reason.contains("database not found"));
    }
}

/// redteam38: an operator's uniqueness constraint that one event of a batch breaks failed the
/// whole batch (`ConstraintValidationFailed` was retried whole, every attempt refused), so its
/// batch-mates were lost with it. The batch is split now: the others are written, read back
/// from Neo4j, and only the offending call fails, with Neo4j's code.
#[tokio::test]
async fn one_event_an_operators_constraint_refuses_does_not_fail_its_batch_mates() {
    let (mut cfg, label) = one_event_per_type("Poison").await;
    cfg.retry.max_attempts = 2;
    cfg.retry.base_delay_ms = 10;
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.log_user_action(None, "TAKEN", None, None).await.expect("the first TAKEN");
    let types = ["A", "B", "TAKEN", "C", "D"];
    let results = futures::future::join_all(types.iter().map(|t| logger.log_user_action(None, t, None, None))).await;
    for (t, r) in types.iter().zip(&results) {
        match (*t, r) {
            ("TAKEN", Err(e)) => assert!(e.to_string().contains("ConstraintValidationFailed"), "{e}"),
            ("TAKEN", Ok(_)) => panic!("the second TAKEN was written"),
            (_, r) => assert!(r.is_ok(), "{t}: {r:?}"),
        }
    }
    let stored = cypher(
        &format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e:{label}) RETURN e.eventType ORDER BY e.eventType"),
        json!({"t": trail}),
    )
    .await;
    let stored: Vec<&str> = stored.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(stored, ["A", "B", "C", "D", "TAKEN"]);
}

#[tokio::test]
async fn statement_failure_inside_a_200_is_false_and_writes_nothing() {
    // An operator's constraint refuses the write: Neo4j answers 200 with an `errors` entry. (It
    // was the system database, which the configuration now refuses up front.)
    let (mut cfg, label) = one_event_per_type("StmtFail").await;
    cfg.retry.max_attempts = 1;
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.log_user_action(None, "X", None, None).await.expect("the first X is allowed");
    let e = logger.log_user_action(None, "X", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::Neo4j { ref code, .. } if code.starts_with("Neo.ClientError.")), "{e:?}");
    let n = cypher(
        &format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e) RETURN count(e), count(e:{label})"),
        json!({"t": trail}),
    )
    .await;
    assert_eq!(n[0], [json!(1), json!(1)], "the refused event left nothing behind");

    // And a canned 200 whose body carries errors.
    let body = r#"{"results":[],"errors":[{"code":"Neo.DatabaseError.General.UnknownError","message":"boom"}]}"#;
    let fake = FakeServer::start(Some(http_json(200, "", body))).await;
    let logger = AuditLogger::new(Config::new(&fake.url).basic_auth("neo4j", "pw-secret-1")).unwrap();
    let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
    assert!(reason.contains("Neo.DatabaseError.General.UnknownError"));
}

#[tokio::test]
async fn network_failure_and_timeout_are_false() {
    // Nothing listens on the port.
    let (_reserved, addr) = refusing_addr();
    let port = addr.port();
    let logger = AuditLogger::new(Config::new(format!("http://127.0.0.1:{port}"))).unwrap();
    let e = logger.log_user_action(None, "X", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::Network(_)), "{e:?}");
    // Where it went, as the fetch transport says it (src/transport/fetch.js): the origin, not the
    // path ("error sending request for url (http://…/db/neo4j/tx/commit)" before).
    let reason = logger.reason(&e);
    assert!(reason.starts_with("network error: error sending request: "), "{reason}");
    assert!(reason.ends_with(&format!(" (http://127.0.0.1:{port})")), "{reason}");
    assert!(!reason.contains("/db/"), "{reason}");

    let hung = FakeServer::start(None).await;
    let mut cfg = Config::new(&hung.url);
    cfg.timeout_ms = 300;
    cfg.retry.max_attempts = 1; // one request's bound (retries are tested in tests/faults.rs)
    let logger = AuditLogger::new(cfg).unwrap();
    let t0 = std::time::Instant::now();
    let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
    let took = t0.elapsed().as_millis();
    assert!(reason.contains("timeout"), "{reason}");
    assert!((300..5_000).contains(&took), "took {took} ms");
}

#[tokio::test]
async fn invalid_input_never_reaches_the_network() {
    let fake = FakeServer::start(Some(http_json(500, "", "{}"))).await;
    let mut cfg = Config::new(&fake.url);
    cfg.max_details_bytes = 64;
    let logger = AuditLogger::new(cfg).unwrap();
    let big = json!({"blob": "x".repeat(100)});
    type Case<'a> = (Option<User>, &'a str, Option<&'a str>, Option<Value>, &'a str);
    let cases: Vec<Case> = vec![
        (None, "", None, None, "actionType"),
        (None, "   ", None, None, "actionType"),
        (None, "X", Some(""), None, "category"),
        (Some(User::new("")), "X", None, None, "user.uid"),
        (None, "X", None, Some(json!("not an object")), "details must be an object"),
        // The bound by the name a Rust caller set it with (a new user's finding: the message
        // named JavaScript's `maxDetailsBytes`, which no Rust API has).
        (None, "X", None, Some(big), "more than max_details_bytes (64)"),
    ];
    for (user, action, cat, details, why) in cases {
        let reason =
            logger.reason(&logger.log_user_action(user.as_ref(), action, cat, details.as_ref()).await.unwrap_err());
        assert!(reason.starts_with("invalid input") && reason.contains(why), "{reason}");
    }
    assert_eq!(fake.requests(), 0);
}

#[tokio::test]
async fn headers_auth_and_secret_scrubbing() {
    // A server that echoes the credentials back in an error body must not leak them into lastError.
    let body = "{\"oops\":\"neo4j:s3cret-pw-777 Bearer tok-abc-999\"}";
    let fake = FakeServer::start(Some(http_json(500, "", body))).await;
    let logger = AuditLogger::new(Config::new(&fake.url).basic_auth("neo4j", "s3cret-pw-777")).unwrap();
    let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
    assert!(reason.contains("HTTP 500") && !reason.contains("s3cret-pw-777"), "{reason}");
    // A server that answers like Neo4j: the last request is the event write.
    let ok = r#"{"results":[{"columns":["written"],"data":[{"row":[1]}]}],"errors":[]}"#;
    let fake = FakeServer::start(Some(http_json(200, "", ok))).await;
    let logger = AuditLogger::new(Config::new(&fake.url).basic_auth("neo4j", "s3cret-pw-777")).unwrap();
    logger.log_user_action(None, "X", None, None).await.unwrap();
    let seen = fake.seen.lock().unwrap().last().unwrap().clone();
    let head = seen.head.to_ascii_lowercase();
    assert!(head.contains("x-ajax-browser-auth: true"), "{head}");
    assert!(head.contains("authorization: basic "), "{head}");
    assert!(head.starts_with("post /db/neo4j/tx/commit "), "{head}");
    let sent: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(sent["statements"][0]["parameters"]["events"][0]["eventType"], "X");

    let fake = FakeServer::start(Some(http_json(500, "", body))).await;
    let mut cfg = Config::new(&fake.url).bearer("tok-abc-999");
    cfg.api = Api::Query;
    cfg.database = "audit".into();
    let logger = AuditLogger::new(cfg).unwrap();
    let reason = logger.reason(&logger.log_user_action(None, "X", None, None).await.unwrap_err());
    assert!(!reason.contains("tok-abc-999"));
    let seen = fake.seen.lock().unwrap()[0].clone();
    let head = seen.head.to_ascii_lowercase();
    assert!(head.contains("authorization: bearer tok-abc-999"), "{head}");
    assert!(head.starts_with("post /db/audit/query/v2 "), "{head}");
}

/// What a failed write shows (`Display`, `Debug`, `reason`, `last_error`, joined by ` | `) when a
/// server answers it `status` with a JSON error quoting `echoed`, the logger logging in with
/// `pw` (one attempt).
async fn texts_of_an_echo(status: u16, pw: &str, echoed: &str) -> String {
    let body = format!("{{\"error\": \"bad credential {echoed}\"}}");
    let fake = FakeServer::start(Some(http_json(status, "", &body))).await;
    let logger = AuditLogger::builder(&fake.url)
        .basic_auth("neo4j", pw)
        .retry(neo4j_audit::RetryConfig { max_attempts: 1, ..Default::default() })
        .build()
        .unwrap();
    let e = logger.action("LOGIN").await.unwrap_err();
    format!("{e} | {e:?} | {} | {:?}", logger.reason(&e), logger.last_error())
}

/// A server (a proxy, a gateway, an app in front of Neo4j) echoing the password inside a JSON
/// body writes it as JSON escapes it: `\"`, `\\`, `\t`, and with Python's `json.dumps` (its
/// default `ensure_ascii`) every non-ASCII character as `\u00fc`. The error quotes the body's
/// start as it came, and the password was scrubbed only as given (or percent-encoded, or lower
/// case), so these texts showed it whole in `Display`, `Debug`, `reason` and `last_error`.
#[tokio::test]
async fn a_password_echoed_json_escaped_is_scrubbed() {
    for (pw, echoed) in [
        ("Quote\"Pass1234", r#"Quote\"Pass1234"#),
        ("back\\slash\\pw9", r#"back\\slash\\pw9"#),
        ("tab\there-pw-99", r#"tab\there-pw-99"#),
        ("p@ss:w/rd%20\"'\\ ü€", r#"p@ss:w/rd%20\"'\\ ü€"#),
        ("p@ss:w/rd%20\"'\\ ü€", r#"p@ss:w/rd%20\"'\\ \u00fc\u20ac"#),
        ("ünïcödé-pässwörd", r#"\u00fcn\u00efc\u00f6d\u00e9-p\u00e4ssw\u00f6rd"#),
        ("emoji-😀-password", r#"emoji-\ud83d\ude00-password"#),
    ] {
        for status in [400, 502] {
            let texts = texts_of_an_echo(status, pw, echoed).await;
            assert!(texts.contains("bad credential ***"), "{pw:?} {status}: {texts}");
            assert!(!texts.contains(echoed) && !texts.contains(pw), "{pw:?} {status}: {texts}");
        }
    }
}

/// The other ways servers, proxies and apps write a password back (found by a docs review): with
/// `/` kept by the percent-encoding (Python's `urllib.parse.quote`), `+` for a space
/// (`quote_plus`, `URLSearchParams`), lower-case hex (.NET), `\/` in JSON (PHP's `json_encode`),
/// `\u00XX` for `'`, `<`, `&`, `=` (Gson) and HTML entities (an HTML error page). Each was looked
/// for only as typed, `encodeURIComponent`'d, lower-cased or JSON-escaped the `JSON.stringify`
/// way, so it showed whole in `Display`, `Debug`, `reason` and `last_error`.
#[tokio::test]
async fn a_password_echoed_in_other_encodings_is_scrubbed() {
    for (pw, echoed) in [
        ("pa/ss w0rd!", "pa/ss%20w0rd%21"),
        ("pa/ss w0rd!", "pa%2Fss+w0rd%21"),
        ("pa/ss w0rd!", "pa%2fss%20w0rd%21"),
        ("pa/ss w0rd!", r"pa\/ss w0rd!"),
        ("it's <b>&=1", "it&#39;s &lt;b&gt;&amp;=1"),
        ("it's <b>&=1", r"it\u0027s \u003cb\u003e\u0026\u003d1"),
    ] {
        let texts = texts_of_an_echo(400, pw, echoed).await;
        assert!(texts.contains("bad credential ***"), "{pw:?}: {texts}");
        assert!(!texts.contains(echoed), "{pw:?}: {texts}");
    }
}

#[tokio::test]
async fn ensure_schema_is_idempotent_and_creates_the_constraints() {
    let logger = AuditLogger::new(config("schema")).unwrap();
    logger.ensure_schema().await.unwrap();
    logger.ensure_schema().await.unwrap();
    let rows = cypher(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type WHERE type = 'UNIQUENESS' \
         RETURN labelsOrTypes[0] + '.' + properties[0] AS c ORDER BY c",
        json!({}),
    )
    .await;
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert!(names.contains(&"AuditEvent.UID") && names.contains(&"AuditTrail.name"), "{names:?}");
    let idx = cypher(
        "SHOW INDEXES YIELD labelsOrTypes, properties WHERE labelsOrTypes = ['AuditEvent'] RETURN properties",
        json!({}),
    )
    .await;
    assert!(idx.iter().any(|r| r[0] == json!(["timestamp", "UID"])), "{idx:?}");
}

/// Loggers creating the same schema at once (processes starting together on a fresh database):
/// Neo4j may answer one of them `DeadlockDetected`, a transient error; the schema step retries it
/// instead of failing `ensureSchema` (and with it the first write).
#[tokio::test]
async fn concurrent_schema_creation_succeeds_everywhere() {
    let tag = unique("SchemaRace").replace(['-', '_'], "");
    let labels = Labels { event: format!("{tag}Event"), trail: format!("{tag}Trail"), user: format!("{tag}User") };
    let loggers: Vec<AuditLogger> = (0..8)
        .map(|_| {
            let mut cfg = config("schema-race");
            cfg.labels = labels.clone();
            AuditLogger::new(cfg).unwrap()
        })
        .collect();
    let results = futures::future::join_all(loggers.iter().map(|l| l.ensure_schema())).await;
    // Remove what the test made before asserting, so a failure leaves no schema behind.
    let names = cypher(
        "SHOW INDEXES YIELD name, labelsOrTypes WHERE any(l IN labelsOrTypes WHERE l STARTS WITH $tag) RETURN name",
        json!({"tag": tag}),
    )
    .await;
    for n in &names {
        let name = n[0].as_str().unwrap();
        let _ = cypher(&format!("DROP CONSTRAINT `{name}` IF EXISTS"), json!({})).await;
        let _ = cypher(&format!("DROP INDEX `{name}` IF EXISTS"), json!({})).await;
    }
    assert!(!names.is_empty());
    for r in results {
        r.unwrap();
    }
}

#[tokio::test]
async fn writing_the_same_event_twice_leaves_one() {
    let cfg = config("idem");
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    let ev = neo4j_audit::AuditEvent::build(None, "ONCE", None, Some(&json!({"a": 1})), 1000).unwrap();
    logger.write(std::slice::from_ref(&ev)).await.unwrap();
    logger.write(&[ev.clone(), ev.clone()]).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["uid"], json!(ev.uid));
}

/// `Debug` of a logger (and of everything in it) never shows a credential: not the password, not
/// the token, not the Basic header's base64.
#[test]
fn debug_of_a_logger_shows_no_credential() {
    use base64::Engine as _;
    let basic =
        AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("auditor", "pw-very-secret-1")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode("auditor:pw-very-secret-1");
    let d = format!("{basic:?}");
    assert!(!d.contains("pw-very-secret-1") && !d.contains(&b64), "{d}");
    let bearer = AuditLogger::new(Config::new("http://127.0.0.1:7474").bearer("tok-very-secret-2")).unwrap();
    let d = format!("{bearer:?}");
    assert!(!d.contains("tok-very-secret-2"), "{d}");
    assert!(d.contains("***"));
    let req = bearer.write_request(&[neo4j_audit::AuditEvent::build(None, "X", None, None, 100).unwrap()]).unwrap();
    assert!(!format!("{req:?}").contains("tok-very-secret-2"));
}

/// `Debug` of a logger is what a reader of a log line needs (its configuration, whether it is
/// closed, its counters), not its internals: it printed the whole Cypher statement, the
/// delivery tasks' channels and the redaction tables, kilobytes per `{:?}`.
#[test]
fn debug_of_a_logger_is_short_and_says_what_it_is() {
    let logger =
        AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("auditor", "pw-very-secret-1")).unwrap();
    let d = format!("{logger:?}");
    assert!(d.starts_with("AuditLogger {") && d.contains("http://127.0.0.1:7474"), "{d}");
    assert!(d.contains("closed: false") && d.contains("committed: 0"), "{d}");
    assert!(!d.contains("MERGE") && !d.contains("Sender") && !d.contains("pw-very-secret-1"), "{d}");
    assert!(d.len() < 1000, "{} bytes: {d}", d.len());
}

/// A call refused before batching (invalid input) while `flush` waits is no delivery failure:
/// the flush is still `true`. It answered "did any call fail meanwhile" with `stats().failed`,
/// which counts refused input too, and so said `false` ("events are still waiting") with nothing
/// waiting.
#[tokio::test]
async fn a_call_refused_while_flush_runs_does_not_make_it_false() {
    let cfg = config("flushinvalid");
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.ensure_schema().await.unwrap();
    let calls = futures::future::join_all((0..10).map(|i| {
        let l = logger.clone();
        async move { l.log_user_action(None, &format!("OK_{i}"), None, None).await }
    }));
    let flush = async {
        tokio::task::yield_now().await;
        logger.flush().await
    };
    let invalid = async {
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        logger.log_user_action(None, "not a name!", None, None).await
    };
    let (res, flushed, bad) = tokio::join!(calls, flush, invalid);
    assert!(matches!(bad, Err(AuditError::InvalidInput(_))), "{bad:?}");
    assert!(res.iter().all(Result::is_ok), "{res:?}");
    assert!(flushed, "{:?}", logger.stats());
    assert_eq!(read_trail(&trail).await.len(), 10);
}

/// A logger of a fresh trail named after `name`, the trail, and the credentials it sends: its
/// password (8 bytes or more, as redaction of credentials needs) and the Basic credential.
fn logger_and_credentials(name: &str) -> (AuditLogger, String, String, String) {
    use base64::Engine as _;
    let cfg = config(name);
    let trail = cfg.trail.clone();
    let pw = neo4j_password();
    assert!(pw.len() >= 8, "the test needs a password of 8 bytes or more");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{pw}", neo4j_user()));
    (AuditLogger::new(cfg).unwrap(), trail, pw, basic)
}

/// A confused developer logs the logger's own credentials as a value under a key the redaction
/// list does not name (`{jwt: …}`, a DSN with the password, the Basic header): the trail must
/// never hold them. They are stored as "[REDACTED]" (the rest of the details as given), read
/// back from Neo4j; a member name or a user field holding one is refused with a readable reason.
/// (Before: stored as given, in the trail and the browser's durable queue.)
#[tokio::test]
async fn the_loggers_own_credentials_are_never_stored_in_an_event() {
    let (logger, trail, pw, basic) = logger_and_credentials("owncreds");
    let details = json!({
        "jwt": pw, "note": format!("connected with {pw} today"), "keep": "fine", "n": 1.50,
        "list": [{"dsn": format!("neo4j://neo4j:{pw}@db:7687")}, "plain"], "hdr": format!("Basic {basic}"),
    });
    logger.log_user_action(None, "CREDS_LOGGED", None, Some(&details)).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 1);
    let text = rows[0]["details"].as_str().unwrap();
    assert!(!text.contains(&pw) && !text.contains(&basic), "{text}");
    let stored: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        stored,
        json!({"jwt": "[REDACTED]", "note": "[REDACTED]", "keep": "fine", "n": 1.5,
               "list": [{"dsn": "[REDACTED]"}, "plain"], "hdr": "[REDACTED]"})
    );
    // Refused, with a reason that does not quote the secret.
    let key = json!({ pw.clone(): 1 });
    let e = logger.log_user_action(None, "CREDS_KEY", None, Some(&key)).await.unwrap_err();
    assert!(matches!(e, AuditError::InvalidInput(_)) && !e.to_string().contains(&pw), "{e}");
    let e = logger.log_user_action(Some(&User::new(&pw)), "CREDS_USER", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::InvalidInput(_)) && !e.to_string().contains(&pw), "{e}");
    // A password of name characters fits in actionType or category whole (redteam38: stored as
    // the event's type): refused, named.
    if pw.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b)) && pw.len() <= 64 {
        let e = logger.log_user_action(None, &pw, None, None).await.unwrap_err();
        assert_eq!(e.to_string(), "invalid input: actionType holds this logger's password or token");
        let e = logger.log_user_action(None, "CREDS_CATEGORY", Some(&pw), None).await.unwrap_err();
        assert_eq!(e.to_string(), "invalid input: category holds this logger's password or token");
    }
    // A target's uid is stored as text too (the event's `targetKeys`, the `ON` edge's `target`):
    // refused as `user.uid` is (redteam28: before, stored as given).
    let on = |uid: String| LogOptions::default().target(Target::new("Doc", "d-1")).target(Target::new("Doc", uid));
    for uid in [pw.clone(), format!("neo4j:{pw}")] {
        let e = logger.log_user_action_with(None, "CREDS_TARGET", None, None, &on(uid)).await.unwrap_err();
        let m = e.to_string();
        assert!(
            matches!(e, AuditError::InvalidInput(_)) && m.contains("a target holds this logger") && !m.contains(&pw),
            "{m}"
        );
    }
    assert_eq!(read_trail(&trail).await.len(), 1, "nothing of the refused calls was written");
    // The chain covers the stored (scrubbed) form.
    let report = logger.verify_trail(&Default::default()).await.unwrap();
    assert!(report.ok && report.checked == 1, "{report:?}");

    // Client mode: the user's token (an event built, not sent: no Worker needed).
    let token = format!("eyJhbGciOiJIUzI1NiJ9.{}.c2lnLVNFTlRJTkVM", neo4j_audit::random::uuid_v4());
    let mut c = Config::new("");
    c.endpoint = Some("https://w.example/v1/events".into());
    c.token = Some(token.clone());
    let client = AuditLogger::new(c).unwrap();
    let ev =
        client.build_event_json(None, "X", None, Some(&format!(r#"{{"bearer":"Bearer {token}","k":1}}"#))).unwrap();
    assert_eq!(ev.details.as_deref(), Some(r#"{"bearer":"[REDACTED]","k":1}"#));
    // Only a whole occurrence counts (not inside a longer run of letters, digits, `_`, `-`: the
    // rule of error-text scrubbing), so a password such as 12345678 does not take "123456789".
    let digits = AuditLogger::new(Config::new(neo4j_url()).basic_auth("neo4j", "12345678")).unwrap();
    let ev = digits.build_event_json(None, "X", None, Some(r#"{"order":"no 123456789","pin":"12345678"}"#)).unwrap();
    assert_eq!(ev.details.as_deref(), Some(r#"{"order":"no 123456789","pin":"[REDACTED]"}"#));
    // A short password (below the bound) is left alone: it would redact ordinary values.
    let short = AuditLogger::new(Config::new(neo4j_url()).basic_auth("neo4j", "neo4j")).unwrap();
    let ev = short.build_event_json(None, "X", None, Some(r#"{"db":"neo4j"}"#)).unwrap();
    assert_eq!(ev.details.as_deref(), Some(r#"{"db":"neo4j"}"#));
}

/// The logger's own credential right after a percent escape (a query string's
/// `auth=Basic%20<credential>`, `Bearer%20<token>`, a DSN's `%3A<password>`) counted as part of a
/// longer word (the escape's hex digits before it) and was stored as sent; so was a Basic
/// credential whose `=` padding was written `%3d` or left out. Read back from Neo4j.
#[tokio::test]
async fn the_loggers_credential_after_a_percent_escape_is_never_stored() {
    let (logger, trail, pw, basic) = logger_and_credentials("pctcreds");
    let details = json!({
        "callback": format!("https://app.example/cb?auth=Basic%20{}&n=1", basic.replace('=', "%3D")),
        "form": format!("Authorization=Basic%20{basic}"),
        "dsn": format!("neo4j%3A%2F%2Fops%3A{pw}%40db"),
        "keep": "a%20b", "n": 1.50,
    });
    logger.log_user_action(None, "PCT_CREDS", None, Some(&details)).await.unwrap();
    let rows = read_trail(&trail).await;
    assert_eq!(rows.len(), 1);
    let text = rows[0]["details"].as_str().unwrap();
    let stored: Value = serde_json::from_str(text).unwrap();
    let r = "[REDACTED]";
    assert_eq!(stored, json!({"callback": r, "form": r, "dsn": r, "keep": "a%20b", "n": 1.5}), "{text}");
    assert!(logger.verify_trail(&Default::default()).await.unwrap().ok);
    // Padding written `%3d` or left out (built, not sent: base64 of this pair ends in `==`).
    let padded = AuditLogger::new(Config::new(neo4j_url()).basic_auth("user", "pass-word12")).unwrap();
    let b = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "user:pass-word12");
    let bare = b.trim_end_matches('=');
    for v in [format!("Basic%20{bare}%3d%3d"), format!("Basic {bare}"), format!("?auth=Basic+{bare}%3D%3D")] {
        let ev = padded.build_event_json(None, "X", None, Some(&format!(r#"{{"h":"{v}","k":1}}"#))).unwrap();
        assert_eq!(ev.details.as_deref(), Some(r#"{"h":"[REDACTED]","k":1}"#), "{v}");
    }
}

/// Found by red team 25: a plain (non-unique) index on the event label's `UID` — one an operator or
/// an older tool made, e.g. for the Python log_user_action's lookups — makes Neo4j refuse the
/// uniqueness constraint (`Neo.ClientError.Schema.IndexAlreadyExists`), and the schema step took
/// that for "an equivalent rule exists": writes went on with no uniqueness on `UID` (a retried
/// event racing its lost first attempt could be stored twice) and nothing said so — no
/// `schema_warning`, and `ensure_schema()` answered `Ok`. Now the write still goes on (as
/// without schema rights) with a warning that names the index to drop, the step still makes the
/// other indexes (verification's reads need them), and `ensure_schema()` fails with the reason.
#[tokio::test]
async fn a_plain_index_that_blocks_the_uniqueness_constraint_is_not_taken_for_it() {
    let mut cfg = config("blocked-constraint");
    let label = format!("BlockedEv{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    cfg.labels.event = label.clone();
    let plain = format!("{}_plain_uid", label.to_ascii_lowercase());
    cypher(&format!("CREATE INDEX {plain} FOR (e:{label}) ON (e.UID)"), json!({})).await;
    let logger = AuditLogger::new(cfg.clone()).unwrap();
    let ev = logger.log_user_action(None, "WRITTEN_ANYWAY", None, None).await.expect("the write goes on");
    let stored = cypher(
        &format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e:{label}) RETURN collect(e.UID)"),
        json!({"t": cfg.trail}),
    )
    .await;
    assert_eq!(stored[0][0], json!([ev.uid]));
    let unique = cypher(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, type WHERE type = 'UNIQUENESS' AND labelsOrTypes = [$l] RETURN count(*)",
        json!({"l": label}),
    )
    .await;
    assert_eq!(unique[0][0], 0, "Neo4j refused the constraint beside the plain index");
    let warning = logger.schema_warning().expect("a write without the uniqueness constraint says so");
    assert!(warning.contains("IndexAlreadyExists") && warning.contains("drop"), "{warning}");
    assert!(!warning.contains("schema rights"), "{warning}");
    // The rest of the schema was made: verification's index-hinted reads run.
    let report = logger.verify_trail(&neo4j_audit::read::VerifyQuery::default()).await.expect("verify reads");
    assert!(report.ok && report.checked == 1, "{report:?}");
    // ensure_schema() does not report a schema that lacks the constraint as in place.
    let err = logger.ensure_schema().await.expect_err("the constraint is missing");
    assert!(err.to_string().contains("IndexAlreadyExists"), "{err}");
    // Once the plain index is dropped, the schema is made.
    cypher(&format!("DROP INDEX {plain}"), json!({})).await;
    logger.ensure_schema().await.expect("the constraint is made");
    let unique = cypher(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, type WHERE type = 'UNIQUENESS' AND labelsOrTypes = [$l] RETURN count(*)",
        json!({"l": label}),
    )
    .await;
    assert_eq!(unique[0][0], 1);
    cypher(&format!("MATCH (e:{label}) DETACH DELETE e"), json!({})).await;
}

/// A documented limit (docs/delivery.md: Schema rights): a logger checks the schema in its first
/// write only (every later write stays one statement), so a uniqueness constraint dropped while
/// it runs is not noticed by it; the next logger's first write (a new process, page or Worker
/// isolate) finds it missing and makes it again.
#[tokio::test]
async fn a_constraint_dropped_while_a_logger_runs_is_made_again_by_the_next_logger() {
    let mut cfg = config("dropped-constraint");
    let label = format!("DroppedEv{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    cfg.labels.event = label.clone();
    let name = format!("{}_uid_unique", label.to_ascii_lowercase());
    let unique = || async {
        cypher("SHOW CONSTRAINTS YIELD name WHERE name = $n RETURN count(*)", json!({"n": name})).await[0][0].clone()
    };
    let first = AuditLogger::new(cfg.clone()).unwrap();
    first.log_user_action(None, "BEFORE_DROP", None, None).await.unwrap();
    assert_eq!(unique().await, 1);
    cypher(&format!("DROP CONSTRAINT {name}"), json!({})).await;
    first.log_user_action(None, "AFTER_DROP", None, None).await.unwrap();
    assert_eq!(unique().await, 0, "the running logger does not check the schema again");
    assert!(first.schema_warning().is_none());
    let next = AuditLogger::new(cfg.clone()).unwrap();
    next.log_user_action(None, "NEXT_LOGGER", None, None).await.unwrap();
    assert_eq!(unique().await, 1, "the next logger's first write made it again");
    let n = cypher(
        &format!("MATCH (:AuditTrail {{name: $t}})-[:HAS_EVENT]->(e:{label}) RETURN count(DISTINCT e.UID), count(e)"),
        json!({"t": cfg.trail}),
    )
    .await;
    assert_eq!(n[0], vec![json!(3), json!(3)]);
    cypher(&format!("MATCH (e:{label}) DETACH DELETE e"), json!({})).await;
}

/// A documented limit (docs/delivery.md: Schema rights): the schema check goes by the names of
/// the constraints and indexes (a guard of `db.awaitIndex(name, 0)` in the first write, one
/// request), not their kind, so a plain index given the uniqueness constraint's own name passes it:
/// writes go on with no uniqueness on `UID`, and nothing says so.
#[tokio::test]
async fn a_plain_index_under_the_constraints_name_passes_the_schema_check() {
    let mut cfg = config("squatted-constraint");
    let label = format!("SquatEv{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    cfg.labels.event = label.clone();
    let name = format!("{}_uid_unique", label.to_ascii_lowercase());
    cypher(&format!("CREATE INDEX {name} FOR (e:{label}) ON (e.UID)"), json!({})).await;
    let logger = AuditLogger::new(cfg.clone()).unwrap();
    logger.log_user_action(None, "WRITTEN", None, None).await.unwrap();
    logger.ensure_schema().await.expect("the names are all there");
    assert!(logger.schema_warning().is_none());
    let unique = cypher(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, type WHERE type = 'UNIQUENESS' AND labelsOrTypes = [$l] RETURN count(*)",
        json!({"l": label}),
    )
    .await;
    assert_eq!(unique[0][0], 0, "no uniqueness on UID");
    cypher(&format!("DROP INDEX {name}"), json!({})).await;
    cypher(&format!("MATCH (e:{label}) DETACH DELETE e"), json!({})).await;
}

/// Found by a red team: a server (a wrong URL, a proxy, a compromised host) answering one write
/// with hundreds of MB was read whole (`Response::text`): memory grew by the answer's size. The
/// answer is now read up to 4 MiB (transport::MAX_ANSWER_BYTES) and refused past it, from its
/// Content-Length before any body is read, or as a chunked body's chunks pass it: an error
/// saying so, retryable, and the process's peak memory does not grow by the answer's size.
#[tokio::test]
async fn an_answer_past_the_bound_is_refused_without_being_held() {
    for chunked in [false, true] {
        let url = huge_answer_server(300 << 20, chunked).await;
        let mut cfg = Config::new(url.clone()).basic_auth("neo4j", "not-neo4j-at-all");
        cfg.retry.max_attempts = 1;
        let logger = AuditLogger::new(cfg).unwrap();
        let (peak, started) = (peak_rss(), std::time::Instant::now());
        let e = logger.log_user_action(None, "HUGE", None, None).await.unwrap_err();
        let reason = logger.reason(&e);
        assert!(
            reason.contains("the server's answer is larger than 4194304 bytes, left unread") && reason.contains(&url),
            "chunked {chunked}: {reason}"
        );
        assert!(e.is_retryable(), "{e:?}");
        let grown = peak_rss().saturating_sub(peak);
        assert!(grown < 64 << 20, "chunked {chunked}: peak memory grew by {grown} bytes");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }
}

/// `root_certificate_pem`: an https server whose certificate a private CA issued, or which is
/// self-signed (a local Node https server answering as Neo4j does to a wrong login, with
/// certificates openssl makes at test time; skipped without either tool) is refused by default
/// (an unknown issuer) and reached once that CA, or that certificate, is trusted: the call then
/// fails as the server answers, 401. A text without a certificate is refused by `build`.
#[tokio::test]
async fn root_certificate_pem_trusts_a_private_ca() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let found = |c: &str, a: &str| Command::new(c).arg(a).output().is_ok_and(|o| o.status.success());
    if !found("openssl", "version") || !found("node", "--version") {
        eprintln!("root_certificate_pem_trusts_a_private_ca: skipped (openssl or node not found)");
        return;
    }
    let dir = std::env::temp_dir().join(unique("native-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let ssl = |args: &[&str]| {
        let o = Command::new("openssl").args(args).current_dir(&dir).output().unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let days = ["-days", "1"];
    ssl(&[
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem"][..],
        &days,
        &[
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    ]
    .concat());
    ssl(&[
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"][..],
        &days,
        &["-subj", "/CN=neo4j-audit test CA"],
    ]
    .concat());
    ssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]);
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    ssl(&[
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
        ][..],
        &days,
        &["-extfile", "leaf.ext"],
    ]
    .concat());

    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    const SERVER: &str = r#"const fs = require("fs");
const s = require("https").createServer({ key: fs.readFileSync(process.env.KEY), cert: fs.readFileSync(process.env.CERT) }, (q, r) => q.resume().on("end", () => {
  r.writeHead(401, { "content-type": "application/json" });
  r.end(JSON.stringify({ errors: [{ code: "Neo.ClientError.Security.Unauthorized", message: "no" }] }));
}));
s.listen(0, "127.0.0.1", () => console.log(s.address().port));"#;
    for (key, cert, trusted) in [("leaf.key", "leaf.pem", "ca.pem"), ("self.key", "self.pem", "self.pem")] {
        let mut child = Command::new("node")
            .args(["-e", SERVER])
            .env("KEY", dir.join(key))
            .env("CERT", dir.join(cert))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let _server = Killed(child);
        let port = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
            line.trim().to_owned()
        })
        .await
        .unwrap();
        let url = format!("https://127.0.0.1:{port}");
        let once = neo4j_audit::RetryConfig { max_attempts: 1, ..Default::default() };
        let plain = AuditLogger::builder(&url).basic_auth("neo4j", "pw").retry(once.clone()).build().unwrap();
        let e = plain.log_user_action(None, "TLS_TEST", None, None).await.unwrap_err();
        assert!(matches!(&e, AuditError::Network(m) if m.contains("UnknownIssuer")), "{cert}: {e:?}");
        let builder = AuditLogger::builder(&url)
            .basic_auth("neo4j", "pw")
            .retry(once)
            .root_certificate_pem(std::fs::read(dir.join(trusted)).unwrap());
        assert!(format!("{builder:?}").contains("root_certificates: 1"));
        let logger = builder.build().unwrap();
        let e = logger.log_user_action(None, "TLS_TEST", None, None).await.unwrap_err();
        assert!(matches!(e, AuditError::Unauthorized { status: 401, .. }), "{cert} trusted: {e:?}");
    }
    for (pem, why) in [
        (&b"not a certificate"[..], "no certificate in it"),
        (&b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"[..], "not valid base64 DER"),
    ] {
        let e = AuditLogger::builder("https://127.0.0.1:7473").root_certificate_pem(pem).build().unwrap_err();
        assert!(
            matches!(&e, AuditError::InvalidConfig(m) if m.starts_with("root_certificate_pem: ") && m.contains(why)),
            "{e:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A statement on Neo4j's system database as the admin user (CREATE/ALTER/DROP USER).
async fn system(statement: &str) {
    let body = json!({"statements": [{"statement": statement}]});
    let resp: Value = reqwest::Client::new()
        .post(format!("{}/db/system/tx/commit", neo4j_url()))
        .basic_auth(neo4j_user(), Some(neo4j_password()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["errors"], json!([]), "{statement}: {resp}");
}

/// A Neo4j user whose first password must be changed (`CREATE USER` without `CHANGE NOT
/// REQUIRED`, Neo4j's default): the refusal says so. Before, it was
/// `authentication failed: HTTP … (Neo.ClientError.Security.CredentialsExpired)`, read as a
/// wrong password (found by review, session 57).
#[tokio::test]
async fn a_user_whose_password_must_be_changed_is_told_so() {
    let user = format!("expired_rs_{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    let pw = "first-pw-Expired-1";
    system(&format!("CREATE USER {user} SET PASSWORD '{pw}' CHANGE REQUIRED")).await;
    let mut cfg = config("expired-rs");
    cfg.username = Some(user.clone());
    cfg.password = Some(pw.into());
    cfg.retry.max_attempts = 1;
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    let e = logger.log_user_action(None, "REFUSED", None, None).await.unwrap_err();
    system(&format!("DROP USER {user}")).await;
    assert!(matches!(e, AuditError::Unauthorized { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("CredentialsExpired") && text.contains("change it first"), "{text}");
    assert!(!text.contains(pw), "{text}");
    assert!(read_trail(&trail).await.is_empty());
}

/// A rotated password (a Neo4j user of the test's own): the logger's calls are refused (401)
/// until `set_basic_auth` hands it the new one, and then written; another user's valid
/// credentials are refused (the logger's identity never changes), and nothing changed.
#[tokio::test]
async fn set_basic_auth_takes_a_rotated_password_of_the_same_user_only() {
    let user = format!("cred_rs_{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    let (pw1, pw2) = ("first-pw-Rotated-1", "second-pw-Rotated-2");
    system(&format!("CREATE USER {user} SET PASSWORD '{pw1}' CHANGE NOT REQUIRED")).await;
    let mut cfg = config("cred-rs");
    cfg.username = Some(user.clone());
    cfg.password = Some(pw1.into());
    cfg.retry.max_attempts = 1;
    let trail = cfg.trail.clone();
    let logger = AuditLogger::new(cfg).unwrap();
    logger.log_user_action(None, "BEFORE", None, None).await.unwrap();
    system(&format!("ALTER USER {user} SET PASSWORD '{pw2}'")).await;
    let e = logger.log_user_action(None, "REFUSED", None, None).await.unwrap_err();
    assert!(matches!(e, AuditError::Unauthorized { status: 401, .. }), "{e:?}");
    let e = logger.set_basic_auth(neo4j_user(), neo4j_password()).unwrap_err().to_string();
    assert!(e.contains("another identity's, not this logger's (user:cred_rs_"), "{e}");
    assert!(!e.contains(&neo4j_password()), "{e}");
    assert!(logger.set_bearer("a-token-of-another-kind").is_err());
    logger.set_basic_auth(user.clone(), pw2).unwrap();
    // Shared by its clones.
    logger.clone().log_user_action(None, "AFTER", None, None).await.unwrap();
    assert!(logger.close().await);
    let types: Vec<Value> = read_trail(&trail).await.into_iter().map(|r| r["type"].clone()).collect();
    assert_eq!(types, [json!("BEFORE"), json!("AFTER")]);
    assert!(!format!("{logger:?}").contains("Rotated"));
    system(&format!("DROP USER {user}")).await;
}
