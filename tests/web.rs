//! Browser tests (headless Chromium via wasm-bindgen-test): the JavaScript-facing `AuditLogger`
//! against the real Neo4j, reading the graph back with independent Cypher over `fetch`.
//! Neo4j's address and password are baked in at compile time from NEO4J_URL / NEO4J_PASSWORD.
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use neo4j_audit::wasm::{log_user_action, JsAuditLogger};

mod web_support;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `logUserAction(null, actionType)` on `l`: the stream tests' one kind of call.
fn log_type(l: &JsAuditLogger, action_type: &str) -> js_sys::Promise {
    let u = JsValue::UNDEFINED;
    l.log_user_action(JsValue::NULL, action_type.into(), u.clone(), u.clone(), u)
}

/// The page's sessionStorage (where the tab's stream state lives).
fn session() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

fn config(trail: &str) -> JsValue {
    js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail}))
}

#[wasm_bindgen_test]
async fn logs_an_event_from_the_browser_and_reads_it_back() {
    for api in ["tx", "query"] {
        let trail = unique("web");
        let uid = unique("webuser");
        cypher("CREATE (:User {UID: $uid})", json!({"uid": uid})).await;
        let cfg = js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "api": api}));
        let logger = JsAuditLogger::new(cfg).unwrap();
        let user = js(json!({"uid": uid, "name": "Web User"}));
        let details = js(json!({"page": "/docs/1", "n": [1, 2.5, null], "nested": {"ok": true}}));
        let ok = resolve(logger.log_user_action(
            user,
            "VIEW".into(),
            "DOCUMENT_MANAGEMENT".into(),
            details,
            JsValue::UNDEFINED,
        ))
        .await;
        assert_eq!(ok, JsValue::TRUE, "{api}: {:?}", logger.last_error());
        assert_eq!(logger.last_error(), None);
        let rows = cypher(
            "MATCH (t:AuditTrail {name: $t})-[r:HAS_EVENT]->(e:AuditEvent)-[:PERFORMED_BY]->(u:User) \
             RETURN e.eventType, e.eventCategory, e.userUID, e.userName, e.details, e.timestamp.timezone, \
                    r.created = e.timestamp, u.UID, e.UID, abs(e.timestamp.epochMillis - timestamp()) < 60000",
            json!({"t": trail}),
        )
        .await;
        assert_eq!(rows.len(), 1, "{api}");
        let r = &rows[0];
        assert_eq!(r[0], "VIEW");
        assert_eq!(r[1], "DOCUMENT_MANAGEMENT");
        assert_eq!(r[2], json!(uid));
        assert_eq!(r[3], "Web User");
        let d: Value = serde_json::from_str(r[4].as_str().unwrap()).unwrap();
        assert_eq!(d, json!({"page": "/docs/1", "n": [1, 2.5, null], "nested": {"ok": true}}));
        assert_eq!(r[5], "Z");
        assert_eq!(r[6], true);
        assert_eq!(r[7], json!(uid));
        assert_eq!(uuid::Uuid::parse_str(r[8].as_str().unwrap()).unwrap().get_version_num(), 4);
        assert_eq!(r[9], true);
    }
}

#[wasm_bindgen_test]
async fn junk_arguments_resolve_false_and_never_reach_neo4j() {
    let trail = unique("junk");
    let logger = JsAuditLogger::new(config(&trail)).unwrap();
    let cyclic = Object::new();
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let with_bigint = Object::new();
    Reflect::set(&with_bigint, &"n".into(), &js_sys::BigInt::from(5u32).into()).unwrap();
    let with_fn = Object::new();
    Reflect::set(&with_fn, &"f".into(), &js_sys::Function::new_no_args("return 1").into()).unwrap();
    let u = JsValue::UNDEFINED;
    let big = js(json!({"blob": "x".repeat(70_000)}));
    let cases: Vec<(JsValue, JsValue, JsValue, JsValue, &str)> = vec![
        (u.clone(), u.clone(), u.clone(), u.clone(), "actionType"),
        (u.clone(), "".into(), u.clone(), u.clone(), "actionType"),
        (u.clone(), JsValue::from_f64(3.0), u.clone(), u.clone(), "actionType"),
        (js(json!({"name": "no uid"})), "X".into(), u.clone(), u.clone(), "uid"),
        (js(json!({"uid": 42})), "X".into(), u.clone(), u.clone(), "uid"),
        ("user-1".into(), "X".into(), u.clone(), u.clone(), "user"),
        (u.clone(), "X".into(), JsValue::from_f64(1.0), u.clone(), "category"),
        (u.clone(), "X".into(), u.clone(), cyclic.into(), "cycle"),
        (u.clone(), "X".into(), u.clone(), with_bigint.into(), "BigInt"),
        (u.clone(), "X".into(), u.clone(), with_fn.into(), "function"),
        (u.clone(), "X".into(), u.clone(), js(json!({"n": null})).into(), ""),
        (u.clone(), "X".into(), u.clone(), js(json!([1, 2])), "object"),
        (u.clone(), "X".into(), u.clone(), "text".into(), "object"),
        (u.clone(), "X".into(), u.clone(), big, "maxDetailsBytes"),
    ];
    let mut expected_true = 0;
    for (user, action, category, details, why) in cases {
        let res = resolve(logger.log_user_action(user, action, category, details, JsValue::UNDEFINED)).await;
        if why.is_empty() {
            assert_eq!(res, JsValue::TRUE, "{:?}", logger.last_error());
            expected_true += 1;
            continue;
        }
        assert_eq!(res, JsValue::FALSE, "{why}");
        let reason = logger.last_error().unwrap();
        assert!(reason.starts_with("invalid input") && reason.contains(why), "{why}: {reason}");
    }
    let n = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
    assert_eq!(n[0][0], json!(expected_true), "only the valid event may land");
}

#[wasm_bindgen_test]
fn bad_config_throws_only_in_the_constructor() {
    let bad = [
        json!({}),
        json!({"url": "not a url"}),
        json!({"url": URL, "labels": {"event": "Bad Label"}}),
        json!({"url": URL, "username": "neo4j", "password": "x", "token": "t"}),
        json!({"url": URL, "pasword": "typo"}),
        json!({"url": URL, "timeoutMs": -5}),
    ];
    for b in bad {
        let err = JsAuditLogger::new(js(b.clone())).err().unwrap_or_else(|| panic!("accepted {b}"));
        let msg: JsValue = err.into();
        let text = Reflect::get(&msg, &"message".into()).unwrap().as_string().unwrap();
        assert!(text.contains("invalid config"), "{b}: {text}");
    }
    assert!(JsAuditLogger::new(JsValue::UNDEFINED).is_err());
}

#[wasm_bindgen_test]
async fn wrong_password_is_false_without_the_secret_or_a_login_dialog() {
    let cfg = js(
        json!({"url": URL, "username": "audit-test-wrong-login", "password": "wrong-pass-QQQ", "trail": unique("auth")}),
    );
    let logger = JsAuditLogger::new(cfg).unwrap();
    let res = resolve(logger.log_user_action(
        JsValue::NULL,
        "LOGIN".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(res, JsValue::FALSE);
    let reason = logger.last_error().unwrap();
    assert!(reason.contains("401"), "{reason}");
    assert!(!reason.contains("wrong-pass-QQQ"));
}

#[wasm_bindgen_test]
async fn unreachable_server_and_one_shot_function() {
    let cfg = js(json!({"url": "http://127.0.0.1:2", "timeoutMs": 3000}));
    let logger = JsAuditLogger::new(cfg).unwrap();
    let res = resolve(logger.log_user_action(
        JsValue::NULL,
        "X".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(res, JsValue::FALSE);
    let reason = logger.last_error().unwrap();
    assert!(reason.starts_with("network error") || reason.starts_with("timeout"), "{reason}");
    // The browser's bare "Failed to fetch" names where it went (src/transport/fetch.js), not the path.
    if reason.starts_with("network error") {
        assert!(reason.ends_with(" (http://127.0.0.1:2)"), "{reason}");
    }

    // One-shot form: invalid config resolves false instead of throwing; a valid one writes.
    let u = JsValue::UNDEFINED;
    let res =
        resolve(log_user_action(u.clone(), u.clone(), "X".into(), u.clone(), u.clone(), JsValue::UNDEFINED)).await;
    assert_eq!(res, JsValue::FALSE);
    let trail = unique("oneshot");
    let res = resolve(log_user_action(
        config(&trail),
        JsValue::NULL,
        "ONE_SHOT".into(),
        u.clone(),
        u.clone(),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(res, JsValue::TRUE);
    let n = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e {eventType: 'ONE_SHOT'}) RETURN count(e)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(n[0][0], 1);
}

#[wasm_bindgen_test]
async fn hundred_concurrent_first_calls_from_a_page_make_one_trail() {
    let trail = unique("webconc");
    let promises: Vec<js_sys::Promise> = (0..100)
        .map(|i| {
            let logger = JsAuditLogger::new(config(&trail)).unwrap();
            logger.log_user_action(
                JsValue::NULL,
                "CONCURRENT".into(),
                JsValue::UNDEFINED,
                js(json!({"i": i})),
                JsValue::UNDEFINED,
            )
        })
        .collect();
    let all = js_sys::Promise::all(&promises.into_iter().collect::<js_sys::Array>());
    let results: js_sys::Array = resolve(all).await.into();
    assert!(results.iter().all(|r| r == JsValue::TRUE));
    let rows = cypher(
        "MATCH (t:AuditTrail {name: $t}) OPTIONAL MATCH (t)-[:HAS_EVENT]->(e) RETURN count(DISTINCT t), count(DISTINCT e)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows[0], vec![json!(1), json!(100)]);
}

/// Key words (redaction) classify and lower-case non-ASCII characters by the host's Unicode
/// tables in wasm (src/unicode.rs): they answer as core's char methods do, over the script blocks
/// keys are written in (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, number
/// forms, kana, CJK, Hangul, full-width forms, an astral block).
#[wasm_bindgen_test]
fn host_unicode_tables_answer_as_cores() {
    use neo4j_audit::unicode;
    let blocks = [
        (0x80, 0x530),
        (0x590, 0x700),
        (0x900, 0x980),
        (0x1E00, 0x2000),
        (0x2150, 0x2190),
        (0x2460, 0x24F0),
        (0x3040, 0x3100),
        (0x4E00, 0x4E80),
        (0xAC00, 0xAC80),
        (0xFF00, 0xFFF0),
        (0x10400, 0x10450),
    ];
    let mut checked = 0;
    for (from, to) in blocks {
        for c in (from..to).filter_map(char::from_u32) {
            let ours = (
                unicode::is_alphanumeric(c),
                unicode::is_uppercase(c),
                unicode::is_lowercase(c),
                unicode::is_numeric(c),
            );
            assert_eq!(
                ours,
                (c.is_alphanumeric(), c.is_uppercase(), c.is_lowercase(), c.is_numeric()),
                "U+{:04X}",
                c as u32
            );
            let mut lower = String::new();
            unicode::push_lowercase(&mut lower, c);
            // Full-width ASCII is folded to ASCII, on either back end (src/unicode.rs, before
            // the host is asked): `ｐａｓｓｗｏｒｄ` is the word `password`.
            let want: String = match c as u32 {
                u @ 0xFF01..=0xFF5E => char::from((u - 0xFEE0) as u8).to_lowercase().collect(),
                _ => c.to_lowercase().collect(),
            };
            assert_eq!(lower, want, "U+{:04X}", c as u32);
            checked += 1;
        }
    }
    assert!(checked > 3000, "{checked}");
    assert_eq!(neo4j_audit::redact::words("neuesPASSWORT_Пароль"), ["neues", "passwort", "пароль"]);
    assert_eq!(neo4j_audit::redact::words("ｎｅｗＰａｓｓｗｏｒｄ＿ｘ"), ["new", "password", "x"]);
}

/// The invisible characters identifiers refuse (`rules::is_default_ignorable`) are the host's
/// `\p{Default_Ignorable_Code_Point}` in wasm (src/unicode.rs): over every code point, the
/// property's 4,174 (Unicode 14 and later; the native table's count, tested in src/rules.rs),
/// the ranges' ends among them, no ASCII and no white space.
#[wasm_bindgen_test]
fn host_default_ignorable_is_unicodes_property() {
    use neo4j_audit::rules::is_default_ignorable;
    let all = (0..=0x10FFFF).filter_map(char::from_u32);
    assert_eq!(all.filter(|&c| is_default_ignorable(c)).count(), 4174);
    for u in [
        0xAD, 0x34F, 0x61C, 0x115F, 0x180B, 0x200B, 0x200F, 0x202E, 0x2060, 0x206F, 0x3164, 0xFE0F, 0xFEFF, 0xFFA0,
        0xFFF8, 0x1BCA3, 0x1D17A, 0xE0000, 0xE0FFF,
    ] {
        assert!(is_default_ignorable(char::from_u32(u).unwrap()), "U+{u:04X}");
    }
    for c in ['a', ' ', '\u{a0}', '\u{3000}', '\u{200a}', '\u{2028}', 'é', '\u{1f600}'] {
        assert!(!is_default_ignorable(c), "U+{:04X}", c as u32);
    }
}

#[wasm_bindgen_test]
async fn a_lone_call_requests_before_it_writes_its_stream_state_in_the_same_task() {
    // P2 (Chromium): the stream state's sessionStorage write (tens of µs) must not delay a lone
    // call's request, so it comes after the delivery machine's turn that calls fetch(); and it
    // stays in the task of the call (no page can close in between), before any later task.
    let install = js_sys::Function::new_no_args(
        "const order = (globalThis.__p2order = []);
         const f = globalThis.fetch, s = Storage.prototype.setItem;
         globalThis.__p2restore = () => { globalThis.fetch = f; Storage.prototype.setItem = s; };
         globalThis.fetch = function (...a) {
           if (!order.includes('fetch')) { order.push('fetch'); setTimeout(() => order.push('next task'), 0); }
           return f.apply(this, a);
         };
         Storage.prototype.setItem = function (k, v) {
           if (k.startsWith('neo4j-audit:stream:')) order.push('setItem');
           return s.call(this, k, v);
         };",
    );
    for queue in [json!({"enabled": false}), json!({"name": unique("p2order")})] {
        let trail = unique("p2order");
        let cfg = js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": queue}));
        let logger = JsAuditLogger::new(cfg).unwrap();
        assert_eq!(resolve(logger.ensure_schema()).await, JsValue::TRUE);
        install.call0(&JsValue::NULL).unwrap();
        let ok = resolve(log_type(&logger, "P2_ORDER")).await;
        let order = Reflect::get(&js_sys::global(), &"__p2order".into()).unwrap();
        let restore: js_sys::Function = Reflect::get(&js_sys::global(), &"__p2restore".into()).unwrap().into();
        restore.call0(&JsValue::NULL).unwrap();
        assert_eq!(ok, JsValue::TRUE, "{queue}: {:?}", logger.last_error());
        let order: Vec<String> = js_sys::Array::from(&order).iter().map(|x| x.as_string().unwrap()).collect();
        assert_eq!(order, ["fetch", "setItem", "next task"], "{queue}");
    }
}

#[wasm_bindgen_test]
async fn one_shot_calls_in_one_task_continue_one_stream() {
    // The stream state's sessionStorage write is due one microtask tick after a call; a logger
    // made before it (here: each one-shot call makes one, all in this task) must continue from
    // the due state, not fork the chain from the stored one.
    let trail = unique("oneshotstream");
    let u = JsValue::UNDEFINED;
    let promises: Vec<js_sys::Promise> = (0..5)
        .map(|i| {
            log_user_action(
                config(&trail),
                JsValue::NULL,
                format!("CHAINED_{i}").into(),
                u.clone(),
                u.clone(),
                u.clone(),
            )
        })
        .collect();
    let all = js_sys::Promise::all(&promises.into_iter().collect::<js_sys::Array>());
    let results: js_sys::Array = resolve(all).await.into();
    assert!(results.iter().all(|r| r == JsValue::TRUE));
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(DISTINCT e.streamId), count(DISTINCT e.seq), count(e)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows[0], vec![json!(1), json!(5), json!(5)], "one stream, five links, no fork");
    let linked = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(a), (:AuditTrail {name: $t})-[:HAS_EVENT]->(b) \
         WHERE b.seq = a.seq + 1 AND b.prevHash = a.hash RETURN count(*)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(linked[0][0], json!(4), "each event's prevHash is the previous one's hash");
    // The tab's stream (kept in sessionStorage) is bound to its trail, like the Worker's.
    let sid =
        cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN DISTINCT e.streamId", json!({"t": trail}))
            .await;
    let sid = sid[0][0].as_str().unwrap_or_default();
    assert_eq!(neo4j_audit::chain::stream_trail_binding(sid, &trail), Some(true), "{sid}");
}

#[wasm_bindgen_test]
async fn loggers_of_one_trail_with_other_event_labels_keep_streams_of_their_own() {
    // Found by redteam15: the tab's stream was kept per (url, database, trail, identity), so two
    // loggers on one page writing one trail under other event labels shared one stream, and each
    // label's events held every other seq: verifyTrail (which reads one label) reported the
    // other logger's seqs as `deleted` on an intact trail. Other labels are other streams now.
    let trail = unique("labelstreams");
    let other = js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail,
        "labels": {"event": "OtherAuditEvent", "trail": "AuditTrail", "user": "User"}}));
    let (a, b) = (JsAuditLogger::new(config(&trail)).unwrap(), JsAuditLogger::new(other).unwrap());
    for i in 0..3 {
        for l in [&a, &b] {
            let ok = resolve(log_type(l, &format!("E{i}")));
            assert_eq!(ok.await, JsValue::TRUE, "{:?}", l.last_error());
        }
    }
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) WITH labels(e)[0] AS l, e ORDER BY e.seq \
         RETURN l, count(DISTINCT e.streamId), collect(e.seq) ORDER BY l",
        json!({"t": trail}),
    )
    .await;
    cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:OtherAuditEvent) DETACH DELETE e", json!({"t": trail}))
        .await;
    assert_eq!(
        rows,
        vec![
            vec![json!("AuditEvent"), json!(1), json!([0, 1, 2])],
            vec![json!("OtherAuditEvent"), json!(1), json!([0, 1, 2])]
        ],
        "each label's events one gap-free stream"
    );
}

#[wasm_bindgen_test]
async fn a_copied_tab_that_resumes_after_its_opener_closed_does_not_fork_the_stream() {
    // Found by redteam15: a copied tab ("Duplicate tab", `window.open` without `noopener`) gets
    // its opener's sessionStorage as it was then. A page that makes its logger later (at sign-in,
    // on first use) found the stream's lease free once the opener had closed or navigated away
    // (pagehide gives it back), resumed the stream from the copy's older state, and gave out
    // again the seqs the opener had logged since: a fork (two events at one seq, reported
    // `inserted`). A stream is resumed only from the state its last holder left.
    let trail = unique("copiedtab");
    let storage = session();
    let opener = JsAuditLogger::new(config(&trail)).unwrap();
    for i in 0..3 {
        assert_eq!(resolve(log_type(&opener, &format!("OPENER_{i}"))).await, JsValue::TRUE);
    }
    // The copy's sessionStorage: the opener's stream states as they are now.
    let n = storage.length().unwrap();
    let keys: Vec<String> = (0..n).filter_map(|i| storage.key(i).ok().flatten()).collect();
    let copy: Vec<(String, String)> = keys
        .into_iter()
        .filter(|k| k.starts_with("neo4j-audit:stream:"))
        .filter_map(|k| storage.get_item(&k).ok().flatten().map(|v| (k, v)))
        .collect();
    for i in 3..5 {
        assert_eq!(resolve(log_type(&opener, &format!("OPENER_{i}"))).await, JsValue::TRUE);
    }
    // The opener goes away (pagehide gives its leases back) ...
    assert_eq!(resolve(opener.close()).await, JsValue::TRUE);
    js_sys::Function::new_no_args("dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
        .call0(&JsValue::NULL)
        .unwrap();
    // ... and then the copy makes its logger, from its own (older) sessionStorage.
    for (k, v) in &copy {
        storage.set_item(k, v).unwrap();
    }
    let copied = JsAuditLogger::new(config(&trail)).unwrap();
    assert_eq!(resolve(log_type(&copied, "COPY")).await, JsValue::TRUE, "{:?}", copied.last_error());
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) WITH e.streamId AS s, e.seq AS q, count(*) AS n WHERE n > 1 RETURN s, q, n",
        json!({"t": trail}),
    )
    .await;
    assert!(rows.is_empty(), "one seq of one stream given to two events: {rows:?}");
    let streams = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(DISTINCT e.streamId), count(e)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(streams[0], vec![json!(2), json!(6)], "the copy began a stream of its own");
}

#[wasm_bindgen_test]
async fn a_stream_state_the_full_session_storage_refuses_is_never_resumed_stale() {
    // Found by sec6: when sessionStorage refused a state (full: the tenth event's state is one
    // digit longer than the ninth's), the last state it took stayed stored, and a reload resumed
    // the stream from it: seq 9 given out twice, a fork verifyTrail reports as "inserted". A
    // state that cannot be saved must cost continuity only (the reload starts a new stream).
    let trail = unique("fullsession");
    let storage = session();
    let tab = JsAuditLogger::new(config(&trail)).unwrap();
    for i in 0..9 {
        assert_eq!(resolve(log_type(&tab, &format!("BEFORE_{i}"))).await, JsValue::TRUE);
    }
    // Fill the storage to the brim, then log the tenth event.
    let keys = fill_to_the_brim(&storage);
    let tenth = resolve(log_type(&tab, "TENTH")).await;
    for k in &keys {
        storage.remove_item(k).unwrap();
    }
    assert_eq!(tenth, JsValue::TRUE);
    // The reload: a new logger of the same tab, trail and identity.
    let reloaded = JsAuditLogger::new(config(&trail)).unwrap();
    assert_eq!(resolve(log_type(&reloaded, "AFTER_RELOAD")).await, JsValue::TRUE);
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) WITH e.streamId AS s, e.seq AS q, count(*) AS n WHERE n > 1 RETURN s, q, n",
        json!({"t": trail}),
    )
    .await;
    assert!(rows.is_empty(), "one seq of one stream given to two events: {rows:?}");
    let total = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
    assert_eq!(total[0][0], json!(11));
}

/// Fills `storage` to the brim (pieces ever smaller); the keys to remove afterwards.
fn fill_to_the_brim(storage: &web_sys::Storage) -> Vec<String> {
    let mut keys = Vec::new();
    for size in [1 << 20, 1 << 14, 1 << 10, 64, 1] {
        let piece = "x".repeat(size);
        while keys.len() < 100_000 && storage.set_item(&format!("sec6-fill-{}", keys.len()), &piece).is_ok() {
            keys.push(format!("sec6-fill-{}", keys.len()));
        }
    }
    // Then the last piece grows a character at a time: less than a key's name may be left.
    if let Some(last) = keys.last() {
        let mut piece = storage.get_item(last).unwrap().unwrap_or_default();
        while piece.len() < 1 << 16 {
            piece.push('x');
            if storage.set_item(last, &piece).is_err() {
                break;
            }
        }
    }
    keys
}

#[wasm_bindgen_test]
async fn two_loggers_of_a_tab_continue_one_stream_when_the_session_storage_is_full() {
    // Found by review9: after sessionStorage refused a state (and the stale one was removed), a
    // second logger of the same tab and trail found no saved state at its next event and chained
    // from its own last-known head: the seq the first logger had just given out, given again (a
    // fork). Two loggers of one stream in a tab share the latest state in memory when storage
    // cannot hold it.
    let trail = unique("fulltwo");
    let storage = session();
    let a = JsAuditLogger::new(config(&trail)).unwrap();
    let b = JsAuditLogger::new(config(&trail)).unwrap();
    for i in 0..8 {
        assert_eq!(resolve(log_type(&a, &format!("A_{i}"))).await, JsValue::TRUE);
    }
    // b's own last-known state: seq 9 next.
    assert_eq!(resolve(log_type(&b, "B_8")).await, JsValue::TRUE);
    let keys = fill_to_the_brim(&storage);
    let tenth = resolve(log_type(&a, "A_9")).await;
    for k in &keys {
        storage.remove_item(k).unwrap();
    }
    assert_eq!(tenth, JsValue::TRUE);
    assert_eq!(resolve(log_type(&b, "B_10")).await, JsValue::TRUE);
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.seq, e.eventType ORDER BY e.seq, e.eventType",
        json!({"t": trail}),
    )
    .await;
    let seqs: Vec<(i64, String)> =
        rows.iter().map(|r| (r[0].as_i64().unwrap(), r[1].as_str().unwrap().to_owned())).collect();
    assert_eq!(&seqs[8..], &[(8, "B_8".to_owned()), (9, "A_9".to_owned()), (10, "B_10".to_owned())], "{seqs:?}");
}

/// The Rust API compiled to wasm (a Rust program in the browser or a workers-rs Worker, not the
/// JS class): `ensure_schema` runs the schema step in the caller's future over the host's
/// `fetch` (src/schema.rs), and an event logged afterwards is committed and read back.
#[wasm_bindgen_test]
async fn the_rust_api_on_wasm_ensures_the_schema_and_logs() {
    let trail = unique("webrust");
    let logger = neo4j_audit::AuditLogger::builder(URL).basic_auth(USER, PASSWORD).trail(&trail).build().unwrap();
    logger.ensure_schema().await.unwrap();
    logger.ensure_schema().await.unwrap();
    let user = neo4j_audit::User::new("rust-wasm-user");
    let ev = logger.log_user_action(Some(&user), "RUST_ON_WASM", None, Some(&json!({"n": 1}))).await.unwrap();
    assert!(logger.close().await);
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, e.eventType",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows, vec![vec![json!(ev.uid), json!("RUST_ON_WASM")]]);
    let closed = logger.ensure_schema().await.unwrap_err();
    assert_eq!(closed, neo4j_audit::AuditError::Closed);
}
