//! Browser tests (headless Chromium via wasm-bindgen-test) of the delivery surface: `stats()`,
//! `flush()`, `close()`, batching of concurrent calls, and the bounded IndexedDB queue. Against the
//! real Neo4j (NEO4J_URL / NEO4J_PASSWORD baked in at compile time, as in tests/web.rs).
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use neo4j_audit::wasm::JsAuditLogger;

mod web_support;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn stat(logger: &JsAuditLogger, k: &str) -> f64 {
    Reflect::get(&logger.stats(), &k.into()).unwrap().as_f64().unwrap_or_else(|| panic!("stats().{k}"))
}

async fn count_events(trail: &str) -> u64 {
    let rows = cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", json!({"t": trail})).await;
    rows[0][0].as_u64().unwrap()
}

#[wasm_bindgen_test]
async fn concurrent_calls_are_batched_counted_flushed_and_closed() {
    let trail = unique("webdelivery");
    let cfg = js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail,
        "batch": {"flushIntervalMs": 200}, "queue": {"name": unique("q")}}));
    let logger = JsAuditLogger::new(cfg).unwrap();
    let calls: Vec<_> = (0..8)
        .map(|i| {
            JsFuture::from(logger.log_user_action(
                JsValue::NULL,
                format!("BATCHED_{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
        })
        .collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
    }
    assert_eq!(count_events(&trail).await, 8);
    assert_eq!((stat(&logger, "committed"), stat(&logger, "sent"), stat(&logger, "queued")), (8.0, 8.0, 0.0));
    assert_eq!((stat(&logger, "failed"), stat(&logger, "retried"), stat(&logger, "dropped")), (0.0, 0.0, 0.0));
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
    let after = resolve(logger.log_user_action(
        JsValue::NULL,
        "AFTER_CLOSE".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(after, JsValue::FALSE);
    assert!(logger.last_error().unwrap().starts_with("closed:"), "{:?}", logger.last_error());
    assert_eq!(count_events(&trail).await, 8, "nothing written after close");
}

#[wasm_bindgen_test]
async fn a_full_queue_drops_and_counts_new_events() {
    // Nothing listens on port 9: every send fails, so queued events stay queued.
    let cfg = js(json!({"url": "http://127.0.0.1:2", "username": USER, "password": PASSWORD, "trail": unique("full"),
        "delivery": "queued", "queue": {"maxEvents": 3, "name": unique("q")},
        "retry": {"maxAttempts": 1}, "timeoutMs": 2000}));
    let logger = JsAuditLogger::new(cfg).unwrap();
    let mut results = Vec::new();
    for i in 0..5 {
        results.push(
            resolve(logger.log_user_action(
                JsValue::NULL,
                format!("E{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
            .await,
        );
    }
    assert_eq!(results, vec![JsValue::TRUE, JsValue::TRUE, JsValue::TRUE, JsValue::FALSE, JsValue::FALSE]);
    assert!(logger.last_error().unwrap().starts_with("queue full:"), "{:?}", logger.last_error());
    assert_eq!(stat(&logger, "dropped"), 2.0);
    assert_eq!(stat(&logger, "queued"), 3.0);
    assert_eq!(resolve(logger.flush()).await, JsValue::FALSE, "undeliverable events remain");
}

/// A new logger (the next page load) loads what an earlier one left in IndexedDB in the
/// background; `flush()` called at once resolved `true` with an empty queue before the load
/// finished, while the stored events were still undelivered (a new user's finding: "flush after
/// reload" said done, the events reached Neo4j seconds later or, offline, not at all).
#[wasm_bindgen_test]
async fn a_flush_right_after_a_reload_waits_for_the_stored_events() {
    // Nothing listens on port 9: the event stays stored, and so undelivered.
    let cfg = json!({"url": "http://127.0.0.1:2", "username": USER, "password": PASSWORD, "trail": unique("reloadflush"),
        "queue": {"name": unique("q")}, "retry": {"maxAttempts": 1}, "timeoutMs": 2000});
    let before = JsAuditLogger::new(js(cfg.clone())).unwrap();
    let r = resolve(before.log_user_action(
        JsValue::NULL,
        "STORED".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    drop(before);
    let after = JsAuditLogger::new(js(cfg)).unwrap();
    assert_eq!(resolve(after.flush()).await, JsValue::FALSE, "the stored event is still undelivered");
    assert_eq!(stat(&after, "queued"), 1.0);
    assert_eq!(resolve(after.close()).await, JsValue::FALSE);
}

/// `clearQueue()` right after a reload (sign-out on a fresh page) removed the stored events of
/// the previous page but answered 0 and left `stats().dropped` at 0: it counted only what was
/// loaded so far. It now waits for the load, as `flush()` and `deadLetters()` do.
#[wasm_bindgen_test]
async fn clear_queue_right_after_a_reload_counts_the_stored_events() {
    let cfg = json!({"url": "http://127.0.0.1:2", "username": USER, "password": PASSWORD, "trail": unique("reloadclear"),
        "queue": {"name": unique("q")}, "retry": {"maxAttempts": 1}, "timeoutMs": 2000});
    let before = JsAuditLogger::new(js(cfg.clone())).unwrap();
    for i in 0..2 {
        let r = resolve(before.log_user_action(
            JsValue::NULL,
            format!("STORED_{i}").into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ))
        .await;
        assert_eq!(r, JsValue::FALSE);
    }
    drop(before);
    let after = JsAuditLogger::new(js(cfg.clone())).unwrap();
    assert_eq!(resolve(after.clear_queue()).await.as_f64(), Some(2.0));
    assert_eq!(stat(&after, "dropped"), 2.0);
    assert_eq!(resolve(after.dead_letters()).await.unchecked_into::<js_sys::Array>().length(), 0);
    let later = JsAuditLogger::new(js(cfg)).unwrap();
    assert_eq!(resolve(later.flush()).await, JsValue::TRUE, "nothing left stored");
}

/// The pagehide keepalive budget used `n * 63488` in `usize`, which is 32 bits here: past about
/// 67 000 waiting events it overflowed (a panic, or a wrong count in release builds).
#[wasm_bindgen_test]
fn keepalive_budget_does_not_overflow_on_wasm32() {
    assert_eq!(std::mem::size_of::<usize>(), 4, "this test is about 32-bit usize");
    let n = 70_000;
    let fit = neo4j_audit::queue::keepalive_fit(n, 90_000_000);
    assert!(fit > 0 && fit < n, "{fit}");
    assert_eq!(neo4j_audit::queue::keepalive_fit(1, 100_000), 0);
}

/// Reads and writes IndexedDB straight from JavaScript, beside the library. Built at run time
/// rather than imported: `inline_js` makes one more module the test page imports at start, and
/// with five of them (the library's four, src/queue/idb.js among them, and this file's) the page
/// of wasm-bindgen-test-runner 0.2.130 now and then never finished loading them ("Loading
/// scripts..." until chromedriver's 300 s renderer timeout; 3 of 7 runs, 2026-11-29), with four
/// it did every time (13 runs).
const HELPERS: &str = r#"
async function stored_records(name) {
  const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
  if (!db.objectStoreNames.contains("events")) { db.close(); return 0; }
  const n = await new Promise((ok, bad) => { const r = db.transaction("events").objectStore("events").count(); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
  db.close();
  return n;
}
async function first_record(name) {
  const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
  const out = await new Promise((ok, bad) => {
    const tx = db.transaction("events");
    const keys = tx.objectStore("events").getAllKeys();
    tx.oncomplete = () => ok(keys.result[0]);
    tx.onerror = () => bad(tx.error);
  });
  db.close();
  return out;
}
async function put_as_the_previous_version(name, key, value) {
  const db = await new Promise((ok, bad) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore("events");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error);
  });
  await new Promise((ok, bad) => {
    const tx = db.transaction("events", "readwrite");
    tx.objectStore("events").put(value, key);
    tx.oncomplete = () => ok();
    tx.onerror = tx.onabort = () => bad(tx.error);
  });
  db.close();
}
// The page's audit writes (requests whose body holds `UNWIND $events`) fail as a network error
// while `fail_writes(true)` is in force, as when the browser is offline; `fail_writes(n)` (a
// number) answers the next one with 429 and `Retry-After: n` (then lets them through);
// `fail_writes({delay: ms})` holds each one that long before sending it on;
// `fail_writes()` leaves the switch as it is. Each call answers how many audit writes the page
// has attempted so far (their times in `write_times()`). Wraps the global fetch once, on first use.
let failing = false, writes = 0, wrapped = false;
const times = [], bodies = [];
async function write_times() { return times.slice(); }
// How many of the page's audit writes so far carried `s` (a trail's name): other tests' loggers
// may still drain in the background.
async function writes_with(s) { return bodies.filter((b) => b.includes(s)).length; }
async function fail_writes(on) {
  if (!wrapped) {
    const real = globalThis.fetch;
    // The fetch transport passes (url, init) with the body as text, reqwest a Request.
    globalThis.fetch = async function (input, init) {
      const body = init && init.body;
      const text = typeof body === "string" ? body : body instanceof Blob ? await body.text()
        : body instanceof Uint8Array ? new TextDecoder().decode(body)
        : input instanceof Request ? await input.clone().text() : "";
      if (text.includes("UNWIND $events")) {
        writes++;
        times.push(Date.now());
        bodies.push(text);
        if (failing === true) throw new TypeError("Failed to fetch (the test's offline switch)");
        if (failing && failing.delay) await new Promise((ok) => setTimeout(ok, failing.delay));
        if (typeof failing === "number") {
          const retryAfter = String(failing);
          failing = false;
          const answer = new Response('{"error":"rate_limited"}', { status: 429, headers: { "Content-Type": "application/json", "Retry-After": retryAfter } });
          // A made-up Response has no url; reqwest's wasm client parses it (and panics on "").
          Object.defineProperty(answer, "url", { value: input instanceof Request ? input.url : String(input) });
          return answer;
        }
      }
      return real.call(globalThis, input, init);
    };
    wrapped = true;
  }
  if (on !== undefined) failing = on;
  return writes;
}
// `set_offline(true)`: the page's navigator.onLine says false; `set_offline(false)`: true again,
// and the window's `online` event fires.
async function set_offline(on) {
  if (on) Object.defineProperty(navigator, "onLine", { configurable: true, get: () => false });
  else {
    delete navigator.onLine; // the browser's own getter again
    window.dispatchEvent(new Event("online"));
  }
  return on;
}
// Everything the page keeps: every record of every object store of every IndexedDB database,
// and every sessionStorage and localStorage item, raw, as JSON text of [where, key, value] rows
// (a value that is not a string: bytes decoded as UTF-8, anything else JSON.stringify'd).
async function stored_everywhere() {
  const raw = (v) => typeof v === "string" ? v
    : v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? new TextDecoder().decode(v) : JSON.stringify(v);
  const rows = [];
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
    for (const store of db.objectStoreNames) {
      const [keys, values] = await new Promise((ok, bad) => {
        const tx = db.transaction(store);
        const k = tx.objectStore(store).getAllKeys(), v = tx.objectStore(store).getAll();
        tx.oncomplete = () => ok([k.result, v.result]);
        tx.onerror = () => bad(tx.error);
      });
      keys.forEach((k, i) => rows.push([`idb:${name}/${store}`, raw(k), raw(values[i])]));
    }
    db.close();
  }
  for (const [where, s] of [["sessionStorage", sessionStorage], ["localStorage", localStorage]]) {
    for (let i = 0; i < s.length; i++) rows.push([where, s.key(i), s.getItem(s.key(i))]);
  }
  return JSON.stringify(rows);
}
return { stored_records, first_record, put_as_the_previous_version, fail_writes, write_times, writes_with, set_offline, stored_everywhere };
"#;

thread_local! {
    static HELPER_FNS: JsValue = js_sys::Function::new_no_args(HELPERS).call0(&JsValue::NULL).unwrap();
}

/// Calls the helper `name` with `args` and waits for its promise.
async fn helper(name: &str, args: &[JsValue]) -> JsValue {
    let f: js_sys::Function = HELPER_FNS.with(|h| Reflect::get(h, &name.into()).unwrap().unchecked_into());
    let p = f.apply(&JsValue::NULL, &args.iter().collect::<js_sys::Array>()).unwrap();
    JsFuture::from(p.unchecked_into::<js_sys::Promise>()).await.unwrap()
}

/// The number of records in the queue's IndexedDB store, read straight from IndexedDB.
async fn stored_records(name: &str) -> JsValue {
    helper("stored_records", &[name.into()]).await
}

/// The first key of the queue `name`'s store.
async fn first_record(name: &str) -> JsValue {
    helper("first_record", &[name.into()]).await
}

/// Stores `value` under `key` as the web-sys queue (before src/queue/idb.js) did: database
/// `name` at version 1, object store "events" with out-of-line keys, the event's JSON text as a
/// string value.
async fn put_as_the_previous_version(name: &str, key: &str, value: &str) {
    helper("put_as_the_previous_version", &[name.into(), key.into(), value.into()]).await;
}

/// A logger on the real Neo4j with an IndexedDB queue of its own: (queue name, trail, logger).
fn queued_logger(trail_prefix: &str) -> (String, String, JsAuditLogger) {
    queued_logger_with(trail_prefix, json!({}))
}

/// [`queued_logger`] with `extra` (a JSON object of settings) merged into its config.
fn queued_logger_with(trail_prefix: &str, extra: serde_json::Value) -> (String, String, JsAuditLogger) {
    let (q, trail) = (unique("q"), unique(trail_prefix));
    let mut cfg = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q}});
    cfg.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    (q, trail, JsAuditLogger::new(js(cfg)).unwrap())
}

#[wasm_bindgen_test]
async fn committed_calls_store_while_sending_and_leave_nothing_behind() {
    // Committed delivery stores an event only when it must (see the next tests): commits leave
    // no record behind, and a failed send leaves the event stored for a later drain.
    let (q, trail, logger) = queued_logger("parallelstore");
    let calls: Vec<_> = (0..30)
        .map(|i| {
            JsFuture::from(logger.log_user_action(
                JsValue::NULL,
                format!("P{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
        })
        .collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
    }
    assert_eq!(count_events(&trail).await, 30);
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "committed events are not left in IndexedDB");

    // Nothing listens on port 9: the send fails, the event stays stored.
    let q2 = unique("q");
    let cfg = js(json!({"url": "http://127.0.0.1:2", "username": USER, "password": PASSWORD, "trail": unique("down"),
        "queue": {"name": q2}, "retry": {"maxAttempts": 1}, "timeoutMs": 2000}));
    let down = JsAuditLogger::new(cfg).unwrap();
    let r = resolve(down.log_user_action(
        JsValue::NULL,
        "KEPT".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    assert_eq!(stored_records(&q2).await.as_f64(), Some(1.0), "a failed event stays stored for the drain");
    let _ = resolve(down.clear_queue()).await;
}

/// Waits (at most `ms`) until the queue `name` holds `n` records; the last count seen.
async fn records_become(name: &str, n: f64, ms: u32) -> Option<f64> {
    let mut seen = stored_records(name).await.as_f64();
    let mut waited = 0;
    while seen != Some(n) && waited < ms {
        let sleep = js_sys::Promise::new(&mut |ok, _| {
            let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&ok, 50);
        });
        let _ = JsFuture::from(sleep).await;
        waited += 50;
        seen = stored_records(name).await.as_f64();
    }
    seen
}

/// Lets the calls just made start (their futures are polled on the microtask queue).
async fn calls_started() {
    for _ in 0..2 {
        let _ = JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
    }
}

/// The page's `pagehide`, as when the user leaves it: the queue stores what is in flight unstored.
fn page_hides() {
    let w = web_sys::window().unwrap();
    assert!(w.dispatch_event(&web_sys::Event::new("pagehide").unwrap()).unwrap());
}

#[wasm_bindgen_test]
async fn a_committed_call_answered_at_once_writes_nothing_to_indexeddb() {
    // Committed delivery stores an event only when it must (failure, a slow answer, pagehide):
    // a lone call Neo4j answers at once costs no IndexedDB put or delete. It used to open two
    // read-write transactions per call (a put while in flight, a delete after the commit).
    let (q, trail, logger) = queued_logger("nowrite");
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open (recovery read it)
    let before = neo4j_audit::queue::idb::write_transactions_for_tests();
    let mut slow = 0;
    for i in 0..3 {
        let t = js_sys::Date::now();
        let r = resolve(logger.log_user_action(
            JsValue::NULL,
            format!("FAST_{i}").into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ))
        .await;
        assert_eq!(r, JsValue::TRUE, "{:?}", logger.last_error());
        // An answer that outstayed STORE_AFTER_MS (a very loaded machine) is stored, rightly.
        slow += (js_sys::Date::now() - t >= neo4j_audit::queue::STORE_AFTER_MS as f64) as u32;
    }
    assert_eq!(records_become(&q, 0.0, 2_000).await, Some(0.0));
    let used = neo4j_audit::queue::idb::write_transactions_for_tests() - before;
    assert!(used == 0 || slow > 0, "{used} read-write transactions for 3 lone calls answered at once");
    assert_eq!(count_events(&trail).await, 3);
}

#[wasm_bindgen_test]
async fn pagehide_stores_a_committed_call_in_flight_then_its_commit_removes_it() {
    let (q, trail, logger) = queued_logger("pagehide");
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open
    let call = JsFuture::from(logger.log_user_action(
        JsValue::NULL,
        "LEAVING".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ));
    calls_started().await;
    let before = neo4j_audit::queue::idb::write_transactions_for_tests();
    page_hides();
    let used = neo4j_audit::queue::idb::write_transactions_for_tests() - before;
    assert_eq!(used, 1, "pagehide issues the put of the event in flight at once");
    assert_eq!(call.await.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
    assert_eq!(records_become(&q, 0.0, 5_000).await, Some(0.0), "the commit removes the stored copy");
    // The keepalive re-send of pagehide is a no-op in the graph (MERGE on UID).
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    assert_eq!(count_events(&trail).await, 1);
}

#[wasm_bindgen_test]
async fn flush_waits_until_committed_events_are_removed_from_indexeddb() {
    // The delete of a committed event's record is issued, not awaited by the call; flush() (and
    // so close()) waits for it: nothing is left stored afterwards, whatever the timing.
    let (q, trail, logger) = queued_logger("flushdeletes");
    for round in 0..3 {
        let calls: Vec<_> = (0..10)
            .map(|i| {
                JsFuture::from(logger.log_user_action(
                    JsValue::NULL,
                    format!("R{round}_{i}").into(),
                    JsValue::UNDEFINED,
                    JsValue::UNDEFINED,
                    JsValue::UNDEFINED,
                ))
            })
            .collect();
        for r in futures::future::join_all(calls).await {
            assert_eq!(r.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
        }
        assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
        assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "round {round}: records left after flush()");
    }
    // One lone call, then close() at once.
    let r = resolve(logger.log_user_action(
        JsValue::NULL,
        "LAST".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::TRUE, "{:?}", logger.last_error());
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "records left after close()");
    assert_eq!(count_events(&trail).await, 31);
}

#[wasm_bindgen_test]
async fn a_failed_record_delete_fails_no_caller_and_the_record_is_removed_later_without_duplicates() {
    let q = unique("q");
    let trail = unique("faileddelete");
    let cfg = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q}});
    let logger = JsAuditLogger::new(js(cfg.clone())).unwrap();
    neo4j_audit::queue::idb::fail_deletes_for_tests(true);
    let calls: Vec<_> = (0..5)
        .map(|i| {
            JsFuture::from(logger.log_user_action(
                JsValue::NULL,
                format!("D{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
        })
        .collect();
    // Committed events are stored only when they must be: the page "leaves" while they are in
    // flight, so each is stored and its commit then issues a delete (which fails here).
    calls_started().await;
    page_hides();
    let results: Vec<JsValue> = futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
    let stored = stored_records(&q).await.as_f64();
    neo4j_audit::queue::idb::fail_deletes_for_tests(false);
    assert_eq!(results, vec![JsValue::TRUE; 5], "a failed delete must not fail the call: {:?}", logger.last_error());
    assert_eq!(count_events(&trail).await, 5);
    assert_eq!(stored, Some(5.0), "the deletes failed, so the committed events' records are still stored");

    // As after a reload: a new logger of the same identity finds the leftovers, re-sends them
    // (a no-op in the graph: MERGE on UID) and removes them.
    let next = JsAuditLogger::new(js(cfg)).unwrap();
    assert_eq!(records_become(&q, 0.0, 10_000).await, Some(0.0), "the next logger removes the leftover records");
    assert_eq!(resolve(next.flush()).await, JsValue::TRUE);
    assert_eq!(count_events(&trail).await, 5, "re-sent leftovers add no event");
    let dup = cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(e) RETURN count(DISTINCT e.UID), count(r)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!((dup[0][0].as_u64(), dup[0][1].as_u64()), (Some(5), Some(5)), "one node and one edge per event");
    // The first logger retries its failed deletes on flush() (nothing left to remove now).
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
async fn concurrent_calls_share_indexeddb_transactions() {
    // Each event used to get a transaction of its own for its put and another for its delete
    // (100 here); concurrent calls now share them. (Stored at pagehide here: events committed at
    // once are not stored at all.)
    let (q, trail, logger) = queued_logger("grouped");
    assert_eq!(
        resolve(logger.log_user_action(
            JsValue::NULL,
            "FIRST".into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED
        ))
        .await,
        JsValue::TRUE
    );
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    let before = neo4j_audit::queue::idb::write_transactions_for_tests();
    let calls: Vec<_> = (0..50)
        .map(|i| {
            JsFuture::from(logger.log_user_action(
                JsValue::NULL,
                format!("G{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
        })
        .collect();
    calls_started().await;
    page_hides();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
    }
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    let used = neo4j_audit::queue::idb::write_transactions_for_tests() - before;
    assert!((1..=10).contains(&used), "{used} read-write transactions for 50 concurrent events");
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0));
    assert_eq!(count_events(&trail).await, 51);
}

#[wasm_bindgen_test]
async fn a_send_failing_while_its_put_is_in_flight_leaves_the_event_stored_for_the_next_logger() {
    // With timeoutMs 1 the send fails at once, before the event was stored (committed delivery
    // stores it only when it must). The call must resolve false only once the
    // event is stored, and a later logger of the same identity (as after a reload) delivers it.
    let q = unique("q");
    let trail = unique("putinflight");
    let base = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q}});
    let mut cfg = base.clone();
    cfg["timeoutMs"] = json!(1);
    cfg["retry"] = json!({"maxAttempts": 1});
    let failing = JsAuditLogger::new(js(cfg)).unwrap();
    let r = resolve(failing.log_user_action(
        JsValue::NULL,
        "KEPT_ACROSS_RELOAD".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    assert!(failing.last_error().unwrap().starts_with("timeout"), "{:?}", failing.last_error());
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0), "stored by the time the call resolved false");
    drop(failing);
    let next = JsAuditLogger::new(js(base)).unwrap();
    assert_eq!(records_become(&q, 0.0, 10_000).await, Some(0.0), "the next logger delivers and removes it");
    assert_eq!(resolve(next.flush()).await, JsValue::TRUE);
    assert_eq!(count_events(&trail).await, 1);
}

#[wasm_bindgen_test]
async fn a_committed_events_record_is_removed_without_flush() {
    // The delete is issued a zero-delay timer after the commit, outside the call: it must still
    // happen by itself, flush() or not.
    let q = unique("q");
    let cfg = js(
        json!({"url": URL, "username": USER, "password": PASSWORD, "trail": unique("lonedelete"), "queue": {"name": q}}),
    );
    let logger = JsAuditLogger::new(cfg).unwrap();
    for i in 0..3 {
        let r = resolve(logger.log_user_action(
            JsValue::NULL,
            format!("LONE_{i}").into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ))
        .await;
        assert_eq!(r, JsValue::TRUE, "{:?}", logger.last_error());
    }
    assert_eq!(records_become(&q, 0.0, 5_000).await, Some(0.0), "records of committed events left behind");
}

/// The queue's IndexedDB I/O moved from web-sys into src/queue/idb.js. An event the previous
/// version left stored (same database, store, key and record) must still be loaded, delivered
/// and removed.
#[wasm_bindgen_test]
async fn a_record_stored_by_the_previous_version_is_delivered_and_removed() {
    let trail = unique("oldrecord");
    let base = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail});
    // This target and identity's key prefix: from the record a failing logger of theirs leaves.
    let probe_q = unique("q");
    let mut cfg = base.clone();
    cfg["queue"] = json!({"name": probe_q});
    cfg["timeoutMs"] = json!(1);
    cfg["retry"] = json!({"maxAttempts": 1});
    let probe = JsAuditLogger::new(js(cfg)).unwrap();
    let r = resolve(probe.log_user_action(
        JsValue::NULL,
        "PROBE".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    let probe_key = first_record(&probe_q).await.as_string().expect("the failed event is stored");
    let scope = &probe_key[..probe_key.len() - 36]; // the key ends with the event's UID
    drop(probe);

    // The record as the previous version wrote it (AuditEvent::write_json: a client event, no
    // user, no details; the chain fields missing, as in records of older versions still).
    let q = unique("q");
    let uid = js_sys::eval("crypto.randomUUID()").unwrap().as_string().unwrap();
    let ts = js_sys::Date::now() as i64;
    let record = format!(
        r#"{{"UID":"{uid}","eventType":"STORED_BEFORE","eventCategory":"GENERAL","ts":{ts},"userUID":null,"userName":null,"details":"{{\"from\":\"web-sys\"}}","source":"client","occurredAt":null}}"#
    );
    put_as_the_previous_version(&q, &format!("{scope}{uid}"), &record).await;
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0));

    let mut cfg = base;
    cfg["queue"] = json!({"name": q});
    let next = JsAuditLogger::new(js(cfg)).unwrap();
    assert_eq!(resolve(next.flush()).await, JsValue::TRUE, "{:?}", next.last_error());
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "delivered and removed");
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent {UID: $u}) RETURN e.eventType, e.timestamp.epochMillis",
        json!({"t": trail, "u": uid}),
    )
    .await;
    assert_eq!(rows.len(), 1, "the stored event is in the trail once");
    assert_eq!(rows[0][0], json!("STORED_BEFORE"));
    assert_eq!(rows[0][1].as_i64(), Some(ts), "with its original timestamp");
}

#[wasm_bindgen_test]
async fn a_record_filed_under_the_previous_pipe_joined_scope_is_moved_delivered_and_removed() {
    // Before the scope was length-prefixed (identity::scope), a record's key was its logger's
    // parts joined with '|' then '\u{1}' and the UID; such a record is still this logger's.
    let trail = unique("pipescope");
    let q = unique("q");
    let uid = js_sys::eval("crypto.randomUUID()").unwrap().as_string().unwrap();
    let ts = js_sys::Date::now() as i64;
    let record = format!(
        r#"{{"UID":"{uid}","eventType":"FILED_UNDER_PIPES","eventCategory":"GENERAL","ts":{ts},"userUID":null,"userName":null,"details":null,"source":"client","occurredAt":null}}"#
    );
    let key = format!("|{}|neo4j|AuditEvent|{trail}|user:{USER}\u{1}{uid}", URL.trim_end_matches('/'));
    put_as_the_previous_version(&q, &key, &record).await;
    let logger = JsAuditLogger::new(js(
        json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q}}),
    ))
    .unwrap();
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE, "{:?}", logger.last_error());
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "delivered, and removed under its old key");
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent {UID: $u}) RETURN e.eventType",
        json!({"t": trail, "u": uid}),
    )
    .await;
    assert_eq!(rows, vec![vec![json!("FILED_UNDER_PIPES")]], "in the trail once");
}

/// An unsigned-looking JWT (HS256 header) with subject `sub` and signature part `sig`.
fn jwt(sub: &str, sig: &str) -> String {
    let b64 = |s: &str| {
        js_sys::eval(&format!(
            "btoa({}).replace(/=+$/,'').replace(/\\+/g,'-').replace(/\\//g,'_')",
            serde_json::to_string(s).unwrap()
        ))
        .unwrap()
        .as_string()
        .unwrap()
    };
    format!(
        "{}.{}.{sig}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&serde_json::to_string(&json!({"sub": sub})).unwrap())
    )
}

#[wasm_bindgen_test]
async fn a_trail_and_identity_that_joined_with_pipes_alike_never_share_queued_events() {
    // Trail "T|sub:x" written as sub "y", and trail "T" written as sub "x|sub:y" (an IdP's
    // "auth0|…"-style subject): joined with '|' both were ".../T|sub:x|sub:y", so B's logger took
    // A's stored event and would have sent it with B's credentials.
    let t = unique("T");
    let q = unique("q");
    let fail = json!({"timeoutMs": 1, "retry": {"maxAttempts": 1}, "queue": {"name": q}});
    let mut a_cfg = json!({"url": URL, "token": jwt("y", "c2ln"), "trail": format!("{t}|sub:x")});
    let mut b_cfg = json!({"url": URL, "token": jwt("x|sub:y", "c2ln"), "trail": t});
    for c in [&mut a_cfg, &mut b_cfg] {
        for (k, v) in fail.as_object().unwrap() {
            c[k] = v.clone();
        }
    }
    let a = JsAuditLogger::new(js(a_cfg)).unwrap();
    let r = resolve(a.log_user_action(
        JsValue::NULL,
        "A_ONLY".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE, "A's send fails (Neo4j refuses the token) and the event is stored");
    drop(a);
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0));
    let b = JsAuditLogger::new(js(b_cfg)).unwrap();
    let _ = resolve(b.flush()).await;
    assert_eq!(stat(&b, "queued"), 0.0, "B must not take A's event");
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0), "A's event is still stored for A");
}

/// A stored event that breaks the rules when loaded (stored under other limits, by an older
/// version, or tampered with) is dead-lettered on load. Its pending record used to stay in
/// IndexedDB, so every later load dead-lettered it again: `deadLetters()` listed it twice after the
/// second load and `stats().deadLettered` counted it on every load. Its pending record is now
/// deleted once its dead letter is stored; with that delete failing, the dead letter is kept.
#[wasm_bindgen_test]
async fn an_event_dead_lettered_on_load_is_dead_lettered_once() {
    let q = unique("q");
    // Nothing listens on port 9: events stay stored (their details fit the default limit).
    let cfg = |max: u32| {
        json!({"url": "http://127.0.0.1:2", "username": USER, "password": PASSWORD, "trail": "deadonload",
            "queue": {"name": q}, "retry": {"maxAttempts": 1}, "timeoutMs": 2000, "maxDetailsBytes": max})
    };
    let store_one = |name: &'static str| {
        let before = JsAuditLogger::new(js(cfg(10_000))).unwrap();
        let details = js(json!({"note": "x".repeat(200)}));
        async move {
            let r = resolve(before.log_user_action(
                JsValue::NULL,
                name.into(),
                JsValue::UNDEFINED,
                details,
                JsValue::UNDEFINED,
            ))
            .await;
            assert_eq!(r, JsValue::FALSE);
            assert_eq!(resolve(before.close()).await, JsValue::FALSE);
        }
    };
    let dead = |l: &JsAuditLogger| {
        let p = l.dead_letters();
        async move { resolve(p).await.unchecked_into::<js_sys::Array>().length() }
    };

    // A load with a tighter limit: the event is dead-lettered and its pending record deleted.
    store_one("TOO_BIG_LATER").await;
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0), "the pending record");
    let tighter = JsAuditLogger::new(js(cfg(50))).unwrap();
    assert_eq!(dead(&tighter).await, 1);
    assert_eq!(stat(&tighter, "deadLettered"), 1.0);
    assert_eq!(stat(&tighter, "queued"), 0.0);
    assert_eq!(stored_records(&q).await.as_f64(), Some(1.0), "only the dead letter");
    let key = first_record(&q).await.as_string().unwrap();
    assert!(key.starts_with("dead"), "{key}");
    drop(tighter);

    // A second such event, loaded while deletes fail: its dead letter is stored all the same, and
    // its pending record stays (for a later load to delete).
    store_one("TOO_BIG_TOO").await;
    neo4j_audit::queue::idb::fail_deletes_for_tests(true);
    let failing = JsAuditLogger::new(js(cfg(50))).unwrap();
    let n = dead(&failing).await;
    neo4j_audit::queue::idb::fail_deletes_for_tests(false);
    assert_eq!(n, 2);
    assert_eq!(stat(&failing, "deadLettered"), 1.0);
    assert_eq!(stored_records(&q).await.as_f64(), Some(3.0), "two dead letters and a pending record");
    drop(failing);

    // Every later load: each dead letter once, nothing dead-lettered again, no pending record.
    for load in 0..2 {
        let after = JsAuditLogger::new(js(cfg(50))).unwrap();
        assert_eq!(dead(&after).await, 2, "load {load}: dead-lettered once each");
        assert_eq!(stat(&after, "deadLettered"), 0.0, "load {load}: dead-lettered again");
        assert_eq!(stat(&after, "queued"), 0.0);
        assert_eq!(resolve(after.flush()).await, JsValue::TRUE, "load {load}: nothing waits");
        assert_eq!(stored_records(&q).await.as_f64(), Some(2.0), "load {load}: only the dead letters are stored");
        drop(after);
    }
}

/// `fail_writes` (see HELPERS): the page's audit writes fail while `Some(true)`, and go through
/// again from `Some(false)`; `None` leaves the switch as it is. The audit writes attempted so far.
async fn fail_writes(on: Option<bool>) -> f64 {
    let arg = on.map_or(JsValue::UNDEFINED, JsValue::from);
    helper("fail_writes", &[arg]).await.as_f64().unwrap()
}

/// The next audit write is answered 429 with `Retry-After: secs` (see HELPERS' `fail_writes`).
async fn rate_limit_next_write(secs: u32) -> f64 {
    helper("fail_writes", &[secs.into()]).await.as_f64().unwrap()
}

/// Each audit write of the page is held `ms` before it is sent on, until `fail_writes(Some(false))`.
async fn delay_writes(ms: u32) -> f64 {
    helper("fail_writes", &[js(json!({"delay": ms}))]).await.as_f64().unwrap()
}

/// When each audit write of the page was attempted (ms since the epoch).
async fn write_times() -> Vec<f64> {
    let a: js_sys::Array = helper("write_times", &[]).await.unchecked_into();
    a.iter().map(|v| v.as_f64().unwrap()).collect()
}

async fn sleep_ms(ms: i32) {
    let sleep = js_sys::Promise::new(&mut |ok, _| {
        let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&ok, ms);
    });
    let _ = JsFuture::from(sleep).await;
}

/// Waits until the writes seen by the test server (`fail_writes`' count) reach `n`, at most
/// `limit_ms`; the caller asserts on the count afterwards.
async fn writes_reach(n: f64, limit_ms: i32) {
    let mut waited = 0;
    while fail_writes(None).await < n && waited < limit_ms {
        sleep_ms(20).await;
        waited += 20;
    }
}

/// `logUserAction(null, action)`: the promise of its outcome, resolved (the call is made now).
fn log_action(logger: &JsAuditLogger, action: &str) -> impl std::future::Future<Output = JsValue> {
    resolve(logger.log_user_action(
        JsValue::NULL,
        action.into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
}

#[wasm_bindgen_test]
async fn the_online_event_wakes_the_drain_out_of_its_backoff() {
    // With the queue on, a failed event is re-sent in the background after a backoff (1 s, 1 s,
    // then 2 s, 4 s, ... each plus up to a quarter + 250 ms of jitter); the browser's `online`
    // event ends the wait at once. Pinned before the delivery code is replaced (branch sansio).
    let (q, trail) = (unique("q"), unique("online"));
    let cfg = js(json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail,
        "queue": {"name": q}, "retry": {"maxAttempts": 1}}));
    let logger = JsAuditLogger::new(cfg).unwrap();
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open (recovery read it)
    let before = fail_writes(Some(true)).await;
    let r = resolve(logger.log_user_action(
        JsValue::NULL,
        "BACK_ONLINE".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    assert_eq!(records_become(&q, 1.0, 2_000).await, Some(1.0), "the failed event is stored");
    // The drain's first two re-sends (each 1 to 1.5 s after the last failure) fail too: the next
    // one waits 2 s or more (to 2.75 s).
    writes_reach(before + 3.0, 5_000).await;
    assert_eq!(fail_writes(Some(false)).await, before + 3.0, "one call, two background re-sends");
    assert_eq!(stat(&logger, "queued"), 1.0);
    let t = js_sys::Date::now();
    assert!(web_sys::window().unwrap().dispatch_event(&web_sys::Event::new("online").unwrap()).unwrap());
    let mut n = 0;
    while n == 0 && js_sys::Date::now() - t < 1_500.0 {
        sleep_ms(50).await;
        n = count_events(&trail).await;
    }
    let took = js_sys::Date::now() - t;
    assert_eq!(n, 1, "delivered {took} ms after `online`, sooner than the 2 s backoff");
    assert_eq!(records_become(&q, 0.0, 3_000).await, Some(0.0), "and removed from IndexedDB");
    assert_eq!(stat(&logger, "queued"), 0.0);
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn queued_calls_during_a_retry_after_wait_for_the_drain() {
    // delivery "queued": a call resolves true once its event is stored, then it is sent. When the
    // server answered 429 with a Retry-After, calls made meanwhile are stored and left for the
    // background drain, which sends them (all together) once the Retry-After has passed: no
    // request before it. Pinned before the delivery code is replaced (branch sansio).
    let (q, trail, logger) =
        queued_logger_with("queued429", json!({"delivery": "queued", "retry": {"maxAttempts": 1}}));
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open
    let before = rate_limit_next_write(2).await;
    let call = |t: &str| log_action(&logger, t);
    assert_eq!(call("RA_FIRST").await, JsValue::TRUE, "{:?}", logger.last_error());
    writes_reach(before + 1.0, 3_000).await;
    sleep_ms(100).await; // its 429 has been read
    assert_eq!(call("RA_SECOND").await, JsValue::TRUE, "{:?}", logger.last_error());
    assert_eq!(records_become(&q, 2.0, 2_000).await, Some(2.0), "both stored");
    sleep_ms(500).await;
    assert_eq!(fail_writes(None).await, before + 1.0, "nothing sent during the Retry-After");
    let mut n = 0;
    let mut waited = 0;
    while n < 2 && waited < 6_000 {
        sleep_ms(100).await;
        waited += 100;
        n = count_events(&trail).await;
    }
    assert_eq!(n, 2, "the drain delivered both");
    let times = write_times().await;
    let first = times[before as usize];
    let next = times[before as usize + 1];
    assert!(next - first >= 1_900.0, "re-sent {} ms after the 429 with Retry-After: 2", next - first);
    assert_eq!(records_become(&q, 0.0, 3_000).await, Some(0.0));
    assert_eq!(stat(&logger, "queued"), 0.0);
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
}

/// Offline (`navigator.onLine` false), a call whose send fails waited out every retry
/// (`retry.maxAttempts`, backoff) before its event went to the queue; now the driver says the
/// host is offline and the machine stores the event at once: one attempt, the call resolves
/// false saying so, and the browser's `online` sends it.
#[wasm_bindgen_test]
async fn offline_a_failed_call_is_queued_at_once_and_sent_when_back_online() {
    let (q, trail) = (unique("q"), unique("offline"));
    let cfg = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q},
        "retry": {"maxAttempts": 6, "baseDelayMs": 200, "maxDelayMs": 400}});
    let logger = JsAuditLogger::new(js(cfg)).unwrap();
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open
    let before = fail_writes(Some(true)).await;
    helper("set_offline", &[true.into()]).await;
    let r = resolve(logger.log_user_action(
        JsValue::NULL,
        "OFFLINE".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ))
    .await;
    let attempts = fail_writes(None).await - before;
    let stored = stored_records(&q).await.as_f64();
    fail_writes(Some(false)).await;
    helper("set_offline", &[false.into()]).await;
    assert_eq!(r, JsValue::FALSE);
    assert_eq!(attempts, 1.0, "no retries while offline");
    assert_eq!(stored, Some(1.0), "stored before the call resolved");
    let why = logger.last_error().unwrap_or_default();
    assert!(why.contains("offline: queued, will be sent when back online"), "{why}");
    assert_eq!(stat(&logger, "retried"), 0.0);
    // The `online` event (fired by set_offline(false)) sends it.
    assert_eq!(records_become(&q, 0.0, 3_000).await, Some(0.0));
    assert_eq!(count_events(&trail).await, 1);
    assert_eq!(stat(&logger, "queued"), 0.0);
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn clear_queue_with_a_stored_call_in_flight_removes_its_record_for_good() {
    // A committed call whose answer is slow is stored after STORE_AFTER_MS; clearQueue() then
    // removes its record (sign-out). The request is not recalled: it finishes and the call
    // resolves with its commit, counted once (not as removed: before, clearQueue() answered 1
    // and stats().dropped counted the event its commit counted too), and nothing of it comes
    // back into the queue or IndexedDB, and nothing is re-sent.
    let (q, trail, logger) = queued_logger("clearflight");
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open
    let before = delay_writes(800).await;
    let call = JsFuture::from(logger.log_user_action(
        JsValue::NULL,
        "CLEARED_IN_FLIGHT".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ));
    assert_eq!(records_become(&q, 1.0, 700).await, Some(1.0), "stored while its answer is slow");
    let cleared = resolve(logger.clear_queue()).await;
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "clearQueue() removed the record");
    assert_eq!(call.await.unwrap(), JsValue::TRUE, "{:?}", logger.last_error());
    fail_writes(Some(false)).await;
    assert_eq!(cleared.as_f64(), Some(0.0));
    assert_eq!((stat(&logger, "dropped"), stat(&logger, "committed")), (0.0, 1.0));
    assert_eq!(count_events(&trail).await, 1);
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE);
    sleep_ms(1_500).await; // past the drain's first backoff
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0));
    assert_eq!(stat(&logger, "queued"), 0.0);
    assert_eq!(fail_writes(None).await, before + 1.0, "never re-sent");
    assert_eq!(count_events(&trail).await, 1);
}

#[wasm_bindgen_test]
async fn clear_queue_removes_stored_events_waiting_in_the_batch_buffer_not_the_one_in_flight() {
    // delivery "queued", one request at a time: the first event is in flight (its write held
    // 600 ms), the next two are stored (their calls resolved true) and wait in the batch buffer.
    // clearQueue() (sign-out) removes those two and every record in IndexedDB; the one in
    // flight is written, once; nothing is sent later. (Before: clearQueue() answered 0 and the
    // two were written after the sign-out.)
    let (q, trail, logger) =
        queued_logger_with("clearbuffer", json!({"delivery": "queued", "batch": {"maxInFlight": 1}}));
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE); // the database is open
    let before = delay_writes(600).await;
    let call = |t: &str| log_action(&logger, t);
    assert_eq!(call("CLEAR_IN_FLIGHT").await, JsValue::TRUE, "{:?}", logger.last_error());
    writes_reach(before + 1.0, 3_000).await;
    assert_eq!(call("CLEAR_BUFFERED_1").await, JsValue::TRUE);
    assert_eq!(call("CLEAR_BUFFERED_2").await, JsValue::TRUE);
    assert_eq!(records_become(&q, 3.0, 400).await, Some(3.0), "all three stored");
    assert_eq!(resolve(logger.clear_queue()).await.as_f64(), Some(2.0));
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0), "nothing of this identity stays stored");
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE, "{:?}", logger.last_error());
    fail_writes(Some(false)).await;
    assert_eq!(count_events(&trail).await, 1, "the event in flight is written");
    sleep_ms(1_500).await; // past the drain's first backoff
    let mine = helper("writes_with", &[trail.as_str().into()]).await;
    assert_eq!(mine.as_f64(), Some(1.0), "nothing of this logger sent after the clear");
    let rows =
        cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.eventType, count(*)", json!({"t": trail}))
            .await;
    assert_eq!(rows, vec![vec![json!("CLEAR_IN_FLIGHT"), json!(1)]]);
    assert_eq!(stored_records(&q).await.as_f64(), Some(0.0));
    assert_eq!((stat(&logger, "dropped"), stat(&logger, "committed"), stat(&logger, "queued")), (2.0, 1.0, 0.0));
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
}

/// The page's storage, raw (see HELPERS' `stored_everywhere`): (where, key, value) rows.
async fn stored_everywhere() -> Vec<(String, String, String)> {
    let text = helper("stored_everywhere", &[]).await.as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The logger keeps its own password, Basic credential and bearer token out of events
/// (src/redact.rs `scrub_details`), whatever the details' member is called; here read back from
/// what a real browser keeps: every IndexedDB record (pending events and dead letters),
/// sessionStorage and localStorage, raw, and `lastError`, `stats()`, `deadLetters()`; then from
/// Neo4j once delivered. The password is a Neo4j user's made for the test, the token unique.
#[wasm_bindgen_test]
async fn the_loggers_credentials_never_reach_the_browsers_storage() {
    let user = unique("creds").replace('-', "_");
    let pw = unique("Pw");
    cypher_in("system", "CREATE USER $u SET PASSWORD $p CHANGE NOT REQUIRED", json!({"u": user, "p": pw})).await;
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    };
    let sig = unique("sig");
    let token = jwt("idbcreds", &sig);
    let secrets = [pw.as_str(), basic.as_str(), token.as_str(), sig.as_str()];
    let leaks = |what: &str, text: &str| {
        let found: Vec<_> = secrets.iter().filter(|s| text.contains(**s)).collect();
        assert!(found.is_empty(), "{what} holds {found:?}: {text}");
    };
    let json_of = |v: &JsValue| js_sys::JSON::stringify(v).unwrap().as_string().unwrap();

    // The audit writes fail (as offline): each event waits in IndexedDB.
    fail_writes(Some(true)).await;
    let (qb, trail) = (unique("q"), unique("credsbasic"));
    let b = JsAuditLogger::new(js(json!({"url": URL, "username": user, "password": pw, "trail": trail,
        "queue": {"name": qb}, "retry": {"maxAttempts": 1}})))
    .unwrap();
    let details =
        json!({"dsn": format!("bolt://{user}:{pw}@db:7687"), "hdr": format!("Basic {basic}"), "keep": "fine"});
    let r = resolve(b.log_user_action(
        JsValue::NULL,
        "CREDS_BASIC".into(),
        JsValue::UNDEFINED,
        js(details),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE, "the write fails and the event is stored");
    leaks("lastError (failed write)", &b.last_error().unwrap());
    // A member named by the secret is refused, its reason not quoting it.
    let r = resolve(b.log_user_action(
        JsValue::NULL,
        "CREDS_KEY".into(),
        JsValue::UNDEFINED,
        js(json!({ pw.clone(): 1 })),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    let why = b.last_error().unwrap();
    assert!(why.contains("details name a member with"), "{why}");
    leaks("lastError (refused)", &why);

    // The token logger: its event is stored, then dead-lettered on load by a tighter limit.
    let (qt, token_trail) = (unique("q"), unique("credstoken"));
    let token_cfg = |max: u32| {
        js(json!({"url": URL, "token": token, "trail": token_trail, "queue": {"name": qt},
            "retry": {"maxAttempts": 1}, "maxDetailsBytes": max}))
    };
    let t1 = JsAuditLogger::new(token_cfg(10_000)).unwrap();
    let details = json!({"jwt": token, "hdr": format!("Bearer {token}"), "keep": "fine"});
    let r = resolve(t1.log_user_action(
        JsValue::NULL,
        "CREDS_TOKEN".into(),
        JsValue::UNDEFINED,
        js(details),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(r, JsValue::FALSE);
    leaks("lastError (token logger)", &t1.last_error().unwrap());
    let t = JsAuditLogger::new(token_cfg(20)).unwrap();
    let dead = json_of(&resolve(t.dead_letters()).await);
    assert!(dead.contains("CREDS_TOKEN") && dead.contains("[REDACTED]"), "{dead}");
    leaks("deadLetters()", &dead);

    for (who, l) in [("basic", &b), ("token", &t1), ("token, reloaded", &t)] {
        leaks(&format!("stats() ({who})"), &json_of(&l.stats()));
        leaks(&format!("deadLetters() ({who})"), &json_of(&resolve(l.dead_letters()).await));
        leaks(&format!("lastError ({who})"), &l.last_error().unwrap_or_default());
    }
    let rows = stored_everywhere().await;
    let mine = |q: &str| rows.iter().filter(|r| r.0 == format!("idb:{q}/events")).collect::<Vec<_>>();
    let (pending, dead) = (mine(&qb), mine(&qt));
    assert!(
        pending.len() == 1 && pending[0].2.contains("CREDS_BASIC") && pending[0].2.contains("[REDACTED]"),
        "{pending:?}"
    );
    assert!(dead.len() == 1 && dead[0].1.starts_with("dead") && dead[0].2.contains("[REDACTED]"), "{dead:?}");
    for (place, key, value) in &rows {
        leaks(&format!("{place} key"), key);
        leaks(&format!("{place} record {key}"), value);
    }
    // The token logger's event is no one's to send any more (its drain's writes would land in
    // later tests' write counts).
    for l in [&t1, &t] {
        let _ = resolve(l.clear_queue()).await;
    }

    // Delivered: Neo4j holds the scrubbed details.
    fail_writes(Some(false)).await;
    assert_eq!(resolve(b.flush()).await, JsValue::TRUE, "{:?}", b.last_error());
    let got =
        cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.eventType, e.details", json!({"t": trail}))
            .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0][0], json!("CREDS_BASIC"));
    let stored: serde_json::Value = serde_json::from_str(got[0][1].as_str().unwrap()).unwrap();
    assert_eq!(stored, json!({"dsn": "[REDACTED]", "hdr": "[REDACTED]", "keep": "fine"}));
    assert_eq!(stored_records(&qb).await.as_f64(), Some(0.0));
    cypher_in("system", "DROP USER $u", json!({"u": user})).await;
}

#[wasm_bindgen_test]
async fn two_loggers_sharing_one_queue_deliver_each_stored_event_once() {
    // redteam15: two tabs (here two loggers of one page) of one identity share the IndexedDB
    // queue. Tab A's committed calls are slow (each write held 1.5 s), so their events are stored
    // after 250 ms; tab B, made then (a second tab opened, a reload), loads those records and
    // sends them too while A's requests are still out. Both commit: each event must be one node
    // with one link, the stream gap-free, every call true, nothing left stored.
    let (q, trail, a) = queued_logger("sharedqueue");
    delay_writes(1_500).await;
    let calls: Vec<_> = (0..5).map(|i| log_action(&a, &format!("SHARED_{i}"))).collect();
    let calls = futures::future::join_all(calls);
    let b = async {
        assert_eq!(records_become(&q, 5.0, 5_000).await, Some(5.0), "stored while unanswered");
        let cfg = json!({"url": URL, "username": USER, "password": PASSWORD, "trail": trail, "queue": {"name": q}});
        let b = JsAuditLogger::new(js(cfg)).unwrap();
        assert_eq!(resolve(b.flush()).await, JsValue::TRUE, "{:?}", b.last_error());
        b
    };
    let (results, b) = futures::join!(calls, b);
    fail_writes(Some(false)).await;
    assert!(results.iter().all(|r| *r == JsValue::TRUE), "{results:?} {:?}", a.last_error());
    assert!(stat(&b, "committed") >= 1.0, "the second logger re-sent the stored events (the case under test)");
    let rows = cypher(
        "MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(e) RETURN count(r), count(DISTINCT e), count(DISTINCT e.seq), count(DISTINCT e.streamId)",
        json!({"t": trail}),
    )
    .await;
    assert_eq!(rows[0], vec![json!(5), json!(5), json!(5), json!(1)], "each event once, one link, one gap-free stream");
    assert_eq!(records_become(&q, 0.0, 5_000).await, Some(0.0), "nothing left stored");
}

#[wasm_bindgen_test]
async fn a_wall_clock_set_back_during_a_retry_does_not_stall_the_delivery() {
    // redteam15: the delivery machine's timers (retry backoff, drain, store-after) ran on the wall
    // clock: a clock set back an hour (NTP, the user) while a retry waited left it waiting an hour
    // more. Its clock is monotonic now; events keep their wall-clock `timestamp`.
    let (_, trail, logger) = queued_logger_with(
        "clockback",
        json!({"retry": {"baseDelayMs": 300, "maxDelayMs": 300, "maxAttempts": 20, "maxElapsedMs": 60000}}),
    );
    let writes = fail_writes(Some(true)).await;
    let call = log_action(&logger, "CLOCK_SET_BACK");
    let set_back = async {
        writes_reach(writes + 1.0, 5_000).await;
        js_sys::Function::new_no_args(
            "const real = Date.now; globalThis.__realDateNow = real; Date.now = () => real.call(Date) - 3600000;",
        )
        .call0(&JsValue::NULL)
        .unwrap();
        fail_writes(Some(false)).await;
        sleep_ms(8_000).await;
    };
    let outcome = futures::future::select(Box::pin(call), Box::pin(set_back)).await;
    js_sys::Function::new_no_args("if (globalThis.__realDateNow) Date.now = globalThis.__realDateNow;")
        .call0(&JsValue::NULL)
        .unwrap();
    match outcome {
        futures::future::Either::Left((ok, _)) => assert_eq!(ok, JsValue::TRUE, "{:?}", logger.last_error()),
        futures::future::Either::Right(_) => {
            panic!("still waiting 8 s after the clock was set back: {:?}", logger.stats())
        }
    }
    assert_eq!(count_events(&trail).await, 1);
}

/// The Rust API on wasm (not the JavaScript entry): `close_within`'s bound gives up on a request
/// in flight. Before, that dropped the Rust future only: the host's `fetch` went on to its own
/// timeout (here a minute) with nothing left to read its answer. Now dropping it aborts the fetch
/// (its `AbortSignal` is `aborted` right after `close_within` returns).
#[wasm_bindgen_test]
async fn close_within_on_the_rust_api_aborts_the_fetch_it_gives_up_on() {
    // A `fetch` that never answers and keeps each request's signal (fetch(url, init) from the
    // fetch transport, fetch(request) from reqwest's).
    let hook = js_sys::Function::new_no_args(
        "const real = globalThis.fetch; const signals = []; \
         globalThis.fetch = (input, init) => { signals.push(init?.signal ?? input.signal); return new Promise(() => {}); }; \
         return [signals, () => { globalThis.fetch = real; }];",
    );
    let pair: js_sys::Array = hook.call0(&JsValue::NULL).unwrap().unchecked_into();
    let signals: js_sys::Array = pair.get(0).unchecked_into();
    let restore: js_sys::Function = pair.get(1).unchecked_into();
    let logger = neo4j_audit::AuditLogger::builder(URL)
        .basic_auth(USER, PASSWORD)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let call = logger.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = call.log_user_action(None, "HUNG", None, None).await;
    });
    // The call's first request goes out.
    for _ in 0..100 {
        if signals.length() > 0 {
            break;
        }
        neo4j_audit::transport::sleep_ms(10).await;
    }
    let closed = logger.close_within(std::time::Duration::from_millis(300)).await;
    // The driver's request task is woken with close_within's caller: it drops the request on
    // its turn (a few ms at most; the fetch's own timeout is a minute).
    neo4j_audit::transport::sleep_ms(50).await;
    restore.call0(&JsValue::NULL).unwrap();
    assert!(!closed, "the request was given up on");
    assert!(signals.length() >= 1, "a request went out");
    for s in signals.iter() {
        assert_eq!(Reflect::get(&s, &"aborted".into()).unwrap(), JsValue::TRUE, "its fetch was aborted");
    }
}

/// In a browser with the IndexedDB queue: events a refused login left waiting (a password
/// rotated: here the logger was given the old one) go out once `setCredentials` hands the live
/// logger the new password of the same user; another user's credentials are refused.
#[wasm_bindgen_test]
async fn set_credentials_sends_what_a_refused_login_left_waiting() {
    let user = format!("cred_web_{}", neo4j_audit::random::uuid_v4().replace('-', ""));
    let password = unique("pw");
    cypher_in("system", &format!("CREATE USER {user} SET PASSWORD '{password}' CHANGE NOT REQUIRED"), json!({})).await;
    let trail = unique("webcred");
    let cfg = json!({"url": URL, "username": user, "password": "the-old-rotated-password", "trail": trail,
        "retry": {"maxAttempts": 1}, "queue": {"name": unique("q")}});
    let logger = JsAuditLogger::new(js(cfg)).unwrap();
    let calls: Vec<_> = (0..2)
        .map(|i| {
            JsFuture::from(logger.log_user_action(
                JsValue::NULL,
                format!("HELD_{i}").into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ))
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap(), JsValue::FALSE);
    }
    assert!(logger.last_error().unwrap().starts_with("authentication failed: HTTP 401"));
    assert_eq!(stat(&logger, "queued"), 2.0);
    let other = js(json!({"username": USER, "password": PASSWORD}));
    assert!(!logger.set_credentials(other));
    assert!(logger.last_error().unwrap().contains("another identity's"), "{:?}", logger.last_error());
    assert!(logger.set_credentials(js(json!({"username": user, "password": password}))));
    assert_eq!(resolve(logger.flush()).await, JsValue::TRUE, "{:?}", logger.last_error());
    assert_eq!(count_events(&trail).await, 2);
    assert_eq!(resolve(logger.close()).await, JsValue::TRUE);
    cypher_in("system", &format!("DROP USER {user}"), json!({})).await;
}
