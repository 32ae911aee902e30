// The read side, hash chain and redaction through the JavaScript surface (pkg/ in Node 20), against
// the real Neo4j. The chain is re-verified here by an independent implementation of the README's
// canonical encoding (node:crypto), to prove another program can check it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { loadPkg, unique, config, cypher, proxyToNeo4j } from "./helpers.mjs";

// verifyTrail is in neo4j-audit/verify (the read entry plus verifyTrail, one build of the same code);
// the read entry itself: "neo4j-audit/read reads the trail and has no verifyTrail" below.
const pkg = await loadPkg("verify");
const readEntry = await loadPkg("read");
const GENESIS = "0".repeat(64);

/** docs/tamper-evidence.md: SHA-256(JSON array of the fields ‖ prevHash), lowercase hex. */
function readmeHash(ev) {
  const canonical = JSON.stringify([
    "neo4j-audit/chain/v1", ev.streamId, ev.seq, ev.uid, ev.eventType, ev.eventCategory, ev.ts,
    ev.userUID ?? null, ev.userName ?? null, ev.details ?? null,
  ]);
  return createHash("sha256").update(canonical, "utf8").update(ev.prevHash, "ascii").digest("hex");
}

async function logged(prefix, n) {
  const logger = new pkg.AuditLogger(config(unique(prefix)));
  for (let i = 0; i < n; i++) {
    const ok = await logger.logUserAction(
      { uid: `u${i % 2}`, name: i % 2 ? "Bob \"B\" Ü" : "Ann" },
      i % 3 ? "DOCUMENT_VIEWED" : "LOGIN",
      i % 3 ? "DOCUMENT_MANAGEMENT" : "SECURITY",
      { i, note: "line\nbreak ✓", nested: { Password: "pw-secret", list: [{ apiKey: "k" }] } },
    );
    assert.equal(ok, true, logger.lastError);
  }
  return logger;
}

test("getAuditTrail pages newest first with a cursor; events are plain objects", async () => {
  const logger = await logged("node-read", 5);
  const seen = [];
  let cursor;
  do {
    const page = await logger.getAuditTrail({ limit: 2, cursor });
    assert.ok(page, logger.lastError);
    assert.ok(page.events.length <= 2);
    seen.push(...page.events);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.equal(seen.length, 5);
  assert.deepEqual(seen.map((e) => e.seq), [4, 3, 2, 1, 0]);
  const e = seen[0];
  assert.equal(Object.getPrototypeOf(e), Object.prototype);
  assert.equal(e.timestamp, new Date(e.ts).toISOString());
  assert.deepEqual(e.details, { i: 4, note: "line\nbreak ✓", nested: { Password: "[REDACTED]", list: [{ apiKey: "[REDACTED]" }] } });
  assert.equal(e.userUid, "u0");
  assert.equal(e.actionType, "DOCUMENT_VIEWED");

  const security = await logger.getAuditTrail({ category: "SECURITY", since: new Date(Date.now() - 3600_000) });
  assert.deepEqual(security.events.map((x) => x.seq), [3, 0]);
  const bob = await logger.getUserActivity("u1", { limit: 10 });
  assert.deepEqual(bob.events.map((x) => x.seq), [3, 1]);
  assert.equal(bob.nextCursor, null);
});

test("details read back as stored: integers past 2^53 as JSON.parse reads them, __proto__ as an own key", async () => {
  // Both once broke in the result conversion: a page with a large integer resolved null
  // ("can't be represented as a JavaScript number"), and a stored "__proto__" key became the
  // object's prototype instead of a key.
  const logger = new pkg.AuditLogger(config(unique("node-read-details")));
  const details = { big: 2 ** 60, neg: -(2 ** 55), x: JSON.parse('{"__proto__": {"polluted": 1}, "k": 1}') };
  assert.equal(await logger.logUserAction(null, "DETAILS", null, details), true, logger.lastError);
  const page = await logger.getAuditTrail();
  assert.ok(page, logger.lastError);
  const got = page.events[0].details;
  assert.equal(got.big, 2 ** 60);
  assert.equal(got.neg, -(2 ** 55));
  assert.deepEqual(Object.keys(got.x), ["__proto__", "k"]);
  assert.equal(Object.getPrototypeOf(got.x), Object.prototype);
  assert.deepEqual(got.x.__proto__, { polluted: 1 });
  assert.equal({}.polluted, undefined);
  assert.equal(JSON.stringify(got), JSON.stringify(details));
});

test("details another tool stored that are not a JSON object's text read back as that text (a string), never null or a crash", async () => {
  const trail = unique("node-read-foreign");
  const logger = new pkg.AuditLogger(config(trail));
  // The library writes an object; another tool then overwrites `details` on copies of the event.
  assert.equal(await logger.logUserAction(null, "ORIGINAL", null, { a: 1 }), true, logger.lastError);
  // [actionType, the Cypher expression stored as details, its parameter $v]
  const foreign = [
    ["TEXT", "$v", "not json {"],        // not JSON at all
    ["NUMBER_TEXT", "$v", "42"],         // JSON, but a number
    ["ARRAY_TEXT", "$v", "[1,2]"],       // JSON, but an array
    ["STRING_TEXT", "$v", '"x"'],        // JSON, but a string
    ["EMPTY", "$v", ""],
    ["INT", "42"],                       // not a string property at all
    ["BOOL", "true"],
    ["LIST", "['a', 'b']"],
    ["FLOAT", "1.5"],
    ["DATE", "date('2026-01-02')"],
  ];
  for (const [type, value, v = null] of foreign) {
    await cypher(
      `MATCH (t:AuditTrail {name: $trail})-[:HAS_EVENT]->(o:AuditEvent {eventType: 'ORIGINAL'})
       CREATE (t)-[:HAS_EVENT]->(e:AuditEvent {UID: randomUUID(), eventType: $type, eventCategory: 'FOREIGN',
               timestamp: o.timestamp, details: ${value}})`,
      { trail, type, v },
    );
  }
  const page = await logger.getAuditTrail({ category: "FOREIGN", limit: 100 });
  assert.ok(page, logger.lastError);
  const got = Object.fromEntries(page.events.map((e) => [e.actionType, e.details]));
  assert.deepEqual(got, {
    TEXT: "not json {", NUMBER_TEXT: "42", ARRAY_TEXT: "[1,2]", STRING_TEXT: '"x"', EMPTY: "",
    // A temporal property: Neo4j's HTTP API answers it as its ISO string, which is what is read.
    INT: "42", BOOL: "true", LIST: '["a","b"]', FLOAT: "1.5", DATE: "2026-01-02",
  });
  const original = await logger.getAuditTrail({ actionType: "ORIGINAL" });
  assert.deepEqual(original.events[0].details, { a: 1 }, "an object's text reads back as the object");
});

test("an event changed to the wrong types by hand is returned marked `invalid`, its page and the cursors still work", async () => {
  // Before: a timestamp stored as text failed every page that held it (Neo4j's `.epochMillis` of
  // a string), a number UID failed it with "stored event without UID".
  const logger = await logged("node-read-invalid", 5);
  const all = (await logger.getAuditTrail({})).events;
  assert.equal(all.length, 5);
  assert.ok(all.every((e) => !("invalid" in e)), "a well-formed event has no `invalid`");
  const set = (uid, what) => cypher(`MATCH (e:AuditEvent {UID: $uid}) SET ${what}`, { uid });
  await set(all[1].uid, "e.timestamp = 'last tuesday'");
  const numberUid = 800_000_000 + (process.pid % 1000) * 1000 + (all[2].ts % 1000);
  await set(all[2].uid, `e.UID = ${numberUid}`);
  await set(all[3].uid, "e.details = 7");
  const expected = new Map([
    [all[0].hash, [all[0].uid, undefined]],
    [all[1].hash, [all[1].uid, ["timestamp"]]],
    [all[2].hash, [String(numberUid), ["UID"]]],
    [all[3].hash, [all[3].uid, ["details"]]],
    [all[4].hash, [all[4].uid, undefined]],
  ]);
  // Unfiltered (the trail's own index) and by user (the shared index, ordered by the event's own
  // timestamp: the text sorts first) — page by page, one event a page.
  for (const [filter, hashes] of [[{}, all.map((e) => e.hash)], [{ userUid: "u1" }, [all[1].hash, all[3].hash]]]) {
    const got = [];
    let cursor;
    for (let i = 0; i < 20; i++) {
      const page = await logger.getAuditTrail({ ...filter, limit: 1, ...(cursor ? { cursor } : {}) });
      assert.ok(page, logger.lastError);
      got.push(...page.events);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    assert.equal(cursor, null, "the pages end");
    assert.deepEqual(new Set(got.map((e) => e.hash)), new Set(hashes), JSON.stringify(filter));
    assert.equal(got.length, hashes.length, "each event once");
    for (const e of got) assert.deepEqual([e.uid, e.invalid], expected.get(e.hash));
    const text = got.find((e) => e.hash === all[1].hash);
    assert.deepEqual([text.timestamp, text.ts], ["last tuesday", 0]);
    if (filter.userUid) assert.equal(got[0].hash, all[1].hash, "text sorts before the DateTimes");
  }
});

test("an event whose eventType or eventCategory was removed by hand is returned marked `invalid`, as one of another type", async () => {
  // Found by the docs review: docs/reading.md promises `invalid` for a property "missing or of
  // another type", but a removed eventType/eventCategory read as "" unmarked (a number was marked),
  // so the page showed a hand-edited event as a well-formed one with an empty action.
  const logger = await logged("node-read-removed", 4);
  const all = (await logger.getAuditTrail({})).events;
  const edit = (uid, what) => cypher(`MATCH (e:AuditEvent {UID: $uid}) ${what}`, { uid });
  await edit(all[0].uid, "REMOVE e.eventType");
  await edit(all[1].uid, "REMOVE e.eventCategory");
  await edit(all[2].uid, "SET e.eventType = 7");
  const got = new Map((await logger.getAuditTrail({})).events.map((e) => [e.uid, e]));
  const seen = (e) => [e.actionType, e.category, e.invalid];
  assert.deepEqual(seen(got.get(all[0].uid)), ["", all[0].category, ["eventType"]]);
  assert.deepEqual(seen(got.get(all[1].uid)), [all[1].actionType, "", ["eventCategory"]]);
  assert.deepEqual(seen(got.get(all[2].uid)), ["", all[2].category, ["eventType"]]);
  assert.equal(got.get(all[3].uid).invalid, undefined);
});

test("getUserActivity takes a time window and the event filters, as getTargetActivity does", async () => {
  // Found by a new user building an admin page ("this user's logins last week"): getUserActivity
  // refused until, actionType and category, which getAuditTrail and getTargetActivity take.
  const logger = await logged("node-read-user-window", 6);
  const all = (await logger.getUserActivity("u0")).events;
  assert.equal(all.length, 3);
  const window = await logger.getUserActivity("u0", { since: all[2].ts, until: all[0].ts, limit: 10 });
  assert.deepEqual(window?.events.map((e) => e.uid), [all[1].uid, all[2].uid], logger.lastError);
  const logins = await logger.getUserActivity("u0", { actionType: "LOGIN", category: "SECURITY" });
  assert.deepEqual(logins?.events.map((e) => e.uid), all.filter((e) => e.actionType === "LOGIN").map((e) => e.uid), logger.lastError);
  assert.ok(logins.events.length >= 1);
});

test("read methods resolve null with lastError on bad input and never reject", async () => {
  const logger = new pkg.AuditLogger(config(unique("node-read-bad")));
  for (const [call, reason] of [
    [() => logger.getAuditTrail({ limit: 0 }), /limit/],
    [() => logger.getAuditTrail({ limt: 5 }), /unknown field `limt`/],
    [() => logger.getAuditTrail({ since: "not a date" }), /since/],
    [() => logger.getAuditTrail({ cursor: "garbage!" }), /cursor/],
    [() => logger.getAuditTrail("nope"), /options must be an object/],
    [() => logger.getUserActivity(42), /uid/],
    [() => logger.getUserActivity("u", { userUid: "v" }), /getUserActivity options are since, until, actionType, category, limit and cursor/],
    [() => logger.getUserActivity("u", { target: "Document:d" }), /getUserActivity options are since, until/],
    [() => logger.verifyTrail({ since: {} }), /since/],
  ]) {
    assert.equal(await call(), null);
    assert.match(logger.lastError, reason);
  }
  const down = new pkg.AuditLogger({ ...config("x"), url: "http://127.0.0.1:2", timeoutMs: 2000 });
  // A mistake in the call is named as such while Neo4j is down too (it was "network error: …"
  // for these: the trail's mark was read before the query was checked).
  for (const [query, reason] of [[{ limit: 0 }, /limit/], [{ cursor: "garbage!" }, /cursor/], [{ since: 2, until: 1 }, /until must be later than since/]]) {
    assert.equal(await down.getAuditTrail(query), null);
    assert.match(down.lastError, /^invalid input: /, JSON.stringify(query));
    assert.match(down.lastError, reason);
  }
  assert.equal(await down.getAuditTrail(), null);
  assert.match(down.lastError, /network error|timeout/);
  assert.equal(await down.verifyTrail(), null);
  // A success clears lastError.
  assert.ok(await logger.getAuditTrail());
  assert.equal(logger.lastError, undefined);
});

test("read options that are a revoked or hostile Proxy resolve null, never throw", async () => {
  // Found by a new user: Array.isArray / Object.keys threw on a revoked Proxy out of getAuditTrail.
  const logger = new pkg.AuditLogger(config(unique("node-read-proxy")));
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const throwing = new Proxy({}, { ownKeys() { throw new Error("boom"); } });
  for (const options of [proxy, throwing]) {
    for (const call of [
      () => logger.getAuditTrail(options),
      () => logger.getUserActivity("u", options),
      () => logger.getTargetActivity("Document", "d1", options),
      () => logger.verifyTrail(options),
    ]) {
      let p;
      assert.doesNotThrow(() => { p = call(); });
      assert.equal(await p, null);
      assert.match(logger.lastError, /options could not be read/);
    }
  }
  assert.equal(await logger.getAuditTrail([]), null);
  assert.match(logger.lastError, /options must be an object/);
  // A getter that throws is refused with the others, not read as an option left out (a default):
  // `{get limit() {throw}}` answered a page of 50 events.
  const getter = { get limit() { throw new Error("boom"); } };
  for (const call of [() => logger.getAuditTrail(getter), () => logger.verifyTrail(getter)]) {
    assert.equal(await call(), null);
    assert.match(logger.lastError, /options could not be read/);
  }
  // An instant that passes `instanceof Date` but is no Date (a Proxy of one: its getTime throws
  // "this is not a Date object") is refused as any other non-instant; it threw out of the call,
  // synchronously (redteam30). A Date's time is read as Date.prototype.getTime reads it: an own
  // getTime that throws is not called, and a Date of another realm (a vm context, an iframe) is
  // a Date, not "since must be … a Date".
  const calls = (since) => [
    () => logger.getAuditTrail({ since }),
    () => logger.getUserActivity("u", { until: since }),
    () => logger.getTargetActivity("Document", "d1", { since }),
    () => logger.verifyTrail({ since }),
  ];
  for (const call of calls(new Proxy(new Date(0), {}))) {
    let p;
    assert.doesNotThrow(() => { p = call(); });
    assert.equal(await p, null);
    assert.match(logger.lastError, /^invalid input: (since|until) must be epoch milliseconds, an ISO 8601 string or a Date/);
  }
  // An Invalid Date is a Date: it is named as one, not told to be "… or a Date" (newuser38).
  for (const call of calls(new Date("next week"))) {
    assert.equal(await call(), null);
    assert.match(logger.lastError, /^invalid input: (since|until) is an Invalid Date \(its time is NaN/);
  }
  const odd = new Date(1);
  odd.getTime = () => { throw new Error("boom"); };
  const { runInNewContext } = await import("node:vm");
  for (const since of [odd, runInNewContext("new Date(1)")]) {
    for (const call of calls(since)) {
      let p;
      assert.doesNotThrow(() => { p = call(); });
      assert.notEqual(await p, null, logger.lastError);
    }
  }
});

test("structured read options with more items than any holds are refused before they are written out", async () => {
  // redteam30: verifyTrail({anchors}) with an array whose `length` was set to 1e7 was written by
  // JSON.stringify as 50 MB of nulls and parsed in wasm, which grew its memory by ~900 MB for good.
  const logger = new pkg.AuditLogger(config(unique("node-read-sparse")));
  const memory = Object.values(pkg.initSync()).find((x) => x instanceof WebAssembly.Memory);
  const before = memory.buffer.byteLength;
  const sparse = [];
  sparse.length = 1e7;
  for (const [options, key] of [[{ anchors: sparse }, "anchors"], [{ publicKeys: { keys: sparse } }, "publicKeys"]]) {
    assert.equal(await logger.verifyTrail(options), null);
    assert.equal(logger.lastError, `invalid input: ${key}: invalid value: a sparse array (its item 0 is missing)`);
  }
  assert.ok(memory.buffer.byteLength - before < 16 << 20, `wasm memory grew by ${memory.buffer.byteLength - before} bytes`);
  // Many anchors are not refused by their number (one per stream of the trail, as a nightly
  // `verify --anchor report.json` passes them): 5000 here, the last one malformed, so the list is
  // read whole and refused for that anchor before any query.
  const anchors = Array.from({ length: 5000 }, (_, i) => ({ streamId: `s${i}`, seq: i, hash: "0".repeat(64) }));
  anchors[4999].seq = "x";
  assert.equal(await logger.verifyTrail({ anchors }), null);
  assert.match(logger.lastError, /^invalid input: options: anchors must be a list of \{streamId, seq, hash\}/);
});

test("a read filter with a lone surrogate is refused, never queried as U+FFFD", async () => {
  // Found by a new user: getAuditTrail({userUid: "\uD800"}) answered a page (of the events of the
  // user "\uFFFD"), where every written string with a lone surrogate is refused (README rule table).
  const logger = new pkg.AuditLogger(config(unique("node-read-surrogate")));
  assert.equal(await logger.logUserAction({ uid: "\uFFFD" }, "LOGIN"), true, logger.lastError);
  for (const [call, what] of [
    [() => logger.getAuditTrail({ userUid: "\uD800" }), "userUid"],
    [() => logger.getAuditTrail({ actionType: "LOGIN", category: "\uDC00" }), "category"],
    [() => logger.getAuditTrail({ target: "Document:d\uD800" }), "target"],
    [() => logger.getUserActivity("\uD800"), "uid"],
    [() => logger.getTargetActivity("Document", "\uDFFF"), "uid"],
    [() => logger.getTargetActivity("Document", "d1", { actionType: "X\uD800" }), "actionType"],
    [() => logger.verifyTrail({ streamId: "\uD800" }), "streamId"],
  ]) {
    assert.equal(await call(), null, what);
    assert.match(logger.lastError, new RegExp(`^invalid input: ${what} contains a lone UTF-16 surrogate`));
  }
  // The well-formed U+FFFD itself is an ordinary character.
  const page = await logger.getUserActivity("\uFFFD");
  assert.equal(page?.events.length, 1, logger.lastError);
});

test("a read filter no event can have, or a date not in the calendar, is invalid input, not an empty page", async () => {
  // Found by a new user: getAuditTrail({actionType: "Doc opened"}) and ({userUid: ""}) answered
  // an empty page, where the write refuses both (and getUserActivity("") was refused); and
  // {since: "2026-02-30"} was read by V8's Date.parse as March 2.
  const logger = new pkg.AuditLogger(config(unique("node-read-filters")));
  assert.equal(await logger.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY"), true, logger.lastError);
  for (const [call, reason] of [
    [() => logger.getAuditTrail({ userUid: "" }), /^invalid input: userUid must be a non-empty string/],
    [() => logger.getAuditTrail({ userUid: "  " }), /^invalid input: userUid must be a non-empty string/],
    [() => logger.getAuditTrail({ actionType: "Doc opened" }), /^invalid input: actionType must be 1-64 characters/],
    [() => logger.getAuditTrail({ category: "" }), /^invalid input: category must be 1-64 characters/],
    [() => logger.getUserActivity(" "), /^invalid input: uid must be a non-empty string/],
    [() => logger.getTargetActivity("Document", "d1", { actionType: "a b" }), /^invalid input: actionType must be/],
    // Text is quoted and the rule named (a new user met the generic "must be epoch milliseconds,
    // an ISO 8601 string or a Date" for a day that is not in the calendar).
    [() => logger.getAuditTrail({ since: "2026-02-30" }), /^invalid input: since "2026-02-30" is no day of the calendar$/],
    [() => logger.getAuditTrail({ until: "2025-02-29T00:00:00Z" }), /^invalid input: until "2025-02-29T00:00:00Z" is no day of the calendar$/],
    [() => logger.getAuditTrail({ since: "yesterday" }), /^invalid input: since "yesterday" is not a date and time ISO 8601 reads \(e\.g\. 2026-02-28/],
    // Found by a new user (an admin page's date pickers swapped): an empty window answered an
    // empty page, where the CLI refuses it ("--until must be later than --since").
    [() => logger.getAuditTrail({ since: "2026-12-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }),
      /^invalid input: until must be later than since/],
    [() => logger.getAuditTrail({ since: 1000, until: 1000 }), /^invalid input: until must be later than since/],
    [() => logger.getTargetActivity("Document", "d1", { since: 2000, until: 1000 }), /^invalid input: until must be later/],
  ]) {
    assert.equal(await call(), null, String(reason));
    assert.match(logger.lastError, reason);
  }
  // The same filters with values the rules allow still find the event.
  const page = await logger.getAuditTrail({ userUid: "u1", actionType: "LOGIN", category: "SECURITY", since: "2024-02-29", until: Date.now() + 60000 });
  assert.equal(page?.events.length, 1, logger.lastError);
});

test("the stored chain verifies with an independent implementation of the README encoding", async () => {
  const logger = await logged("node-chain", 4);
  const head = logger.chainHead();
  assert.equal(head.seq, 3);
  // Read the stored events independently, by stream id.
  const stored = (await cypher(
    `MATCH (e:AuditEvent {streamId: $sid}) RETURN e {.*, uid: e.UID, ts: e.timestamp.epochMillis} ORDER BY e.seq`,
    { sid: head.streamId },
  )).map((r) => r[0]);
  assert.equal(stored.length, 4);
  let prev = GENESIS;
  for (const ev of stored) {
    assert.equal(ev.prevHash, prev);
    assert.equal(readmeHash(ev), ev.hash, `seq ${ev.seq}`);
    prev = ev.hash;
  }
  assert.equal(prev, head.hash);

  const report = await logger.verifyTrail();
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.streams[0].headHash, head.hash);
  // The stream id binds the stream to its trail, as docs/tamper-evidence.md specifies:
  // <uuid>.<first 32 hex digits of SHA-256("neo4j-audit/stream/v1" 0 trail 0 uuid)>.
  const [nonce, tag] = head.streamId.split(".");
  const trail = logger.config?.trail ?? (await cypher("MATCH (t:AuditTrail)-[:HAS_EVENT]->(:AuditEvent {UID: $u}) RETURN t.name", { u: stored[0].uid }))[0][0];
  const want = createHash("sha256").update(`neo4j-audit/stream/v1\0${trail}\0${nonce}`, "utf8").digest("hex").slice(0, 32);
  assert.equal(tag, want, head.streamId);
  assert.equal(report.streams[0].bound, true);
  const strict = await logger.verifyTrail({ requireBound: true });
  assert.equal(strict.ok, true, JSON.stringify(strict));
  assert.equal(await logger.verifyTrail({ requireBound: "yes" }), null);
  assert.match(logger.lastError, /requireBound/);

  // Tamper: the library and the independent check both see it.
  await cypher("MATCH (e:AuditEvent {streamId: $sid, seq: 2}) SET e.eventType = 'NOTHING_TO_SEE'", { sid: head.streamId });
  const broken = await logger.verifyTrail({ streamId: head.streamId });
  assert.equal(broken.ok, false);
  assert.deepEqual(
    { kind: broken.streams[0].firstBreak.kind, seq: broken.streams[0].firstBreak.seq, uid: broken.streams[0].firstBreak.uid },
    { kind: "edited", seq: 2, uid: stored[2].uid },
  );
  const [[tampered]] = await cypher(
    "MATCH (e:AuditEvent {streamId: $sid, seq: 2}) RETURN e {.*, uid: e.UID, ts: e.timestamp.epochMillis}",
    { sid: head.streamId },
  );
  assert.notEqual(readmeHash(tampered), tampered.hash);
});

test("in Node the chain is hashed by the host's crypto.hash, and it verifies with the wasm's own SHA-256 both ways", async () => {
  // Each side in a process of its own (src/wasm/hash.js looks for the host's hash once, when the
  // package is loaded): "host" counts the calls of node:crypto's hash that the package makes;
  // "wasm" hides process.getBuiltinModule, so the wasm's sha2 hashes and verifies.
  const { execFileSync } = await import("node:child_process");
  const trail = unique("node-hosthash");
  const side = (mode) => JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", `
    const [mode, trail] = process.argv.slice(1);
    let calls = 0;
    const real = process.getBuiltinModule;
    if (mode === "wasm") process.getBuiltinModule = undefined;
    else process.getBuiltinModule = (name) => {
      const m = real(name);
      return name === "node:crypto" ? { hash: (...a) => (calls++, m.hash(...a)) } : m;
    };
    const { loadPkg, config } = await import(${JSON.stringify(new URL("./helpers.mjs", import.meta.url).href)});
    const pkg = await loadPkg("verify");
    const logger = new pkg.AuditLogger(config(trail));
    const before = await logger.verifyTrail();
    for (let i = 0; i < 3; i++) {
      if (!(await logger.logUserAction({ uid: "u" + i, name: "Ann \\"Ü\\"" }, "LOGIN", null, { i, note: "a\\nb ✓" }))) throw new Error(logger.lastError);
    }
    const after = await logger.verifyTrail();
    await logger.close();
    console.log(JSON.stringify({ calls, before, after }));
  `, mode, trail], { encoding: "utf8", env: process.env }));
  const host = side("host");
  // Its known-answer check at load, then one hash per event.
  assert.ok(host.calls >= 4, JSON.stringify(host));
  assert.equal(host.after.ok, true, JSON.stringify(host.after));
  // The wasm's SHA-256 verifies the host-hashed stream, and the host the wasm-hashed one.
  const wasm = side("wasm");
  assert.equal(wasm.calls, 0);
  assert.equal(wasm.before.ok, true, JSON.stringify(wasm.before));
  assert.equal(wasm.before.streams.length, 1);
  assert.equal(wasm.after.ok, true, JSON.stringify(wasm.after));
  assert.equal(wasm.after.streams.length, 2);
  const again = side("host");
  assert.equal(again.before.ok, true, JSON.stringify(again.before));
  assert.equal(again.before.streams.length, 2);
});

test("the Workers build loads no node:crypto where process.getBuiltinModule exists (nodejs_compat); its chain verifies", async () => {
  // Under nodejs_compat workerd has process.getBuiltinModule, and src/wasm/hash.js loading its
  // node:crypto when the package was imported cost a Worker's cold start ~7 ms of CPU
  // (bench/coldstart-v8.mjs with compatibilityFlags ["nodejs_compat"], 2026-12-03): the Workers
  // build (pkg/workerd/, cargo feature memory-queue) hashes with the wasm's own SHA-256. Here in
  // Node, whose process.getBuiltinModule is the same function: every module asked for is counted.
  const { execFileSync } = await import("node:child_process");
  const trail = unique("workerd-nohosthash");
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", `
    const trail = process.argv[1];
    const asked = [];
    const real = process.getBuiltinModule;
    process.getBuiltinModule = (name) => (asked.push(name), real(name));
    const { loadPkg, config } = await import(${JSON.stringify(new URL("./helpers.mjs", import.meta.url).href)});
    const pkg = await loadPkg("workerd");
    const logger = new pkg.AuditLogger(config(trail));
    for (let i = 0; i < 2; i++) {
      if (!(await logger.logUserAction({ uid: "u" + i }, "LOGIN", null, { i, note: "ü ✓" }))) throw new Error(logger.lastError);
    }
    await logger.close();
    console.log(JSON.stringify({ asked }));
  `, trail], { encoding: "utf8", env: process.env }));
  assert.ok(!out.asked.includes("node:crypto"), JSON.stringify(out));
  // Read back from Neo4j: the two events, hashed by the wasm, verify.
  const verifier = new pkg.AuditLogger(config(trail));
  const report = await verifier.verifyTrail();
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.streams.length, 1);
  assert.equal((await verifier.getAuditTrail())?.events.length, 2, verifier.lastError);
  await verifier.close();
});

test("after close(): ensureSchema resolves false and the reads null, each with a closed: reason", async () => {
  // Found by a new user: the README says later calls resolve false (closed:), but ensureSchema()
  // still resolved true and the reads still answered after close().
  const logger = new pkg.AuditLogger(config(unique("closedread")));
  assert.equal(await logger.logUserAction({ uid: "u-closed" }, "BEFORE_CLOSE"), true, logger.lastError);
  assert.equal(await logger.close(), true);
  assert.equal(await logger.ensureSchema(), false);
  assert.match(logger.lastError, /^closed:/);
  for (const call of [
    () => logger.getAuditTrail(),
    () => logger.getUserActivity("u-closed"),
    () => logger.getTargetActivity("Document", "d-1"),
    () => logger.verifyTrail(),
  ]) {
    assert.equal(await call(), null);
    assert.match(logger.lastError, /^closed:/);
  }
  assert.equal(await logger.logUserAction({ uid: "u-closed" }, "AFTER_CLOSE"), false);
  assert.match(logger.lastError, /^closed:/);
  // The stream's final head stays readable (it is this logger's own state: to anchor it elsewhere).
  assert.equal((await logger.chainHead())?.seq, 0);
});

test("verifyTrail({anchors: [chainHead()]}) as the README writes it: a head taken before the first event anchors nothing", async () => {
  // A new user's finding: a fresh logger's chainHead() ({seq: null, hash: 64 zeros}) passed back
  // as an anchor made verifyTrail resolve null ("anchors must be a list of {streamId, seq, hash}
  // (what chainHead() gives)").
  const trail = unique("read-anchor-genesis");
  const logger = new pkg.AuditLogger(config(trail));
  const before = logger.chainHead();
  assert.equal(before.seq, null);
  assert.ok(await logger.logUserAction(null, "A"), logger.lastError);
  const after = logger.chainHead();
  const report = await logger.verifyTrail({ anchors: [before, after] });
  assert.ok(report, logger.lastError);
  assert.equal(report.ok, true);
  assert.equal(report.checked, 1);
  // The anchor after the event still counts: a head past the stream's end is "deleted".
  const ahead = await logger.verifyTrail({ anchors: [before, { ...after, seq: 5 }] });
  assert.equal(ahead.ok, false);
  assert.equal(ahead.streams[0].firstBreak.kind, "deleted");
  // seq null with any other hash is no head chainHead() gives: refused, readably.
  assert.equal(await logger.verifyTrail({ anchors: [{ ...before, hash: "ab" }] }), null);
  assert.match(logger.lastError, /^invalid input: .*anchors must be a list of \{streamId, seq, hash\}/);
  await logger.close();
});

test("verifyTrail({since}): concurrent loggers' streams each count only their events in the window, as the total does", async () => {
  // Each stream is read from its event just before the window (checked, not one of the window's):
  // the report's total left it out, each stream counted it (a window of 2 events per stream was
  // "3 events" per stream, "6 events checked" in all).
  const trail = unique("node-since-count");
  const loggers = [0, 1, 2].map(() => new pkg.AuditLogger(config(trail)));
  const write = (i) => Promise.all(loggers.map((l, j) => l.logUserAction({ uid: `u${j}` }, "T", "C", { i })));
  for (let i = 0; i < 3; i++) assert.deepEqual(await write(i), [true, true, true]);
  await new Promise((r) => setTimeout(r, 20));
  const since = new Date();
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 3; i < 5; i++) assert.deepEqual(await write(i), [true, true, true]);
  const report = await loggers[0].verifyTrail({ since });
  assert.ok(report?.ok, loggers[0].lastError ?? JSON.stringify(report));
  assert.equal(report.checked, 6);
  assert.deepEqual(report.streams.map((s) => s.checked), [2, 2, 2]);
  assert.equal((await loggers[0].verifyTrail()).checked, 15);
});

test("verifyTrail while a logger writes: a batch still in flight behind later ones is no `deleted` gap; a deleted event still is", async () => {
  // A new user's finding: an auditor's verifyTrail run while one honest Node logger was writing
  // (batch.maxInFlight 4: its batches commit in any order) reported `deleted` in the middle of the
  // stream ("seq 35..39 are missing", headSeq 44) about one run in five; the next run was `ok`.
  // Here the write of seq 1 is held at a proxy until the verification's first reading has ended
  // (its last statement, the unchained events' count, answered), while seq 2 and 3 are stored.
  const trail = unique("read-verify-in-flight");
  let hold = false;
  let release;
  const gate = new Promise((r) => { release = r; });
  const proxy = await proxyToNeo4j(async (body, res, forward) => {
    if (hold && body.includes("UNWIND $events")) {
      hold = false;
      await gate; // then on to Neo4j
      return false;
    }
    if (body.includes("RETURN count(ev), collect(")) {
      const answer = await forward();
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(answer.body);
      release();
      return true;
    }
    return false;
  });
  try {
    const writer = new pkg.AuditLogger(config(trail, { url: proxy.url, batch: { maxEvents: 1, maxInFlight: 4 } }));
    assert.equal(await writer.logUserAction({ uid: "u1" }, "A", null, { i: 0 }), true, writer.lastError);
    hold = true;
    const first = writer.logUserAction({ uid: "u1" }, "A", null, { i: 1 });
    const later = [2, 3].map((i) => writer.logUserAction({ uid: "u1" }, "A", null, { i }));
    assert.deepEqual(await Promise.all(later), [true, true], writer.lastError);
    const stored = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.seq ORDER BY e.seq", { trail });
    assert.deepEqual(stored.map((r) => r[0]), [0, 2, 3]);
    const auditor = new pkg.AuditLogger(config(trail, { url: proxy.url }));
    const report = await auditor.verifyTrail();
    assert.ok(report, auditor.lastError);
    assert.equal(await first, true, writer.lastError);
    assert.equal(report.streams[0].firstBreak, null, JSON.stringify(report.streams[0].firstBreak));
    assert.equal(report.ok, true);
    assert.equal(report.checked, 4);
    assert.equal(report.streams[0].headSeq, 3);
    // A gap that is still there when the stream is read again is reported as before.
    await cypher("MATCH (e:AuditEvent {streamId: $s, seq: 1}) DETACH DELETE e", { s: writer.chainHead().streamId });
    const cut = await auditor.verifyTrail();
    assert.equal(cut.ok, false);
    assert.deepEqual([cut.checked, cut.streams[0].firstBreak.kind, cut.streams[0].firstBreak.seq], [3, "deleted", 1]);
    await writer.close();
    await auditor.close();
  } finally {
    proxy.close();
  }
});

test("verifyTrail with keys on a host whose WebCrypto is missing or refuses Ed25519 resolves null and says which", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const logger = new pkg.AuditLogger(config(unique("node-read-nocrypto")));
  const key = () => ({ kid: "k", ...generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }) });
  const real = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  const host = (crypto) => Object.defineProperty(globalThis, "crypto", { value: crypto, configurable: true });
  try {
    host({});
    assert.equal(await logger.verifyTrail({ publicKey: key() }), null);
    assert.match(logger.lastError, /this host has no WebCrypto \(crypto\.subtle;/);
    host({ subtle: { importKey: () => Promise.reject(new Error("no Ed25519")) } });
    assert.equal(await logger.verifyTrail({ publicKey: key() }), null);
    assert.match(logger.lastError, /this host's WebCrypto does not support Ed25519 \(crypto\.subtle\.importKey refused the key\)/);
  } finally {
    Object.defineProperty(globalThis, "crypto", real);
  }
  // The host's own WebCrypto again: the key loads (the trail is empty: nothing to check).
  assert.notEqual(await logger.verifyTrail({ publicKey: key() }), null, logger.lastError);
});

test("neo4j-audit/read reads the trail; its verifyTrail names neo4j-audit/verify", async () => {
  const trail = unique("node-read-entry");
  const logger = new readEntry.AuditLogger(config(trail));
  assert.equal(typeof pkg.AuditLogger.prototype.verifyTrail, "function");
  // Code written when neo4j-audit/read had verifyTrail: null, never a throw, and lastError names
  // the entry to import.
  assert.equal(await logger.verifyTrail(), null);
  assert.match(logger.lastError, /neo4j-audit\/verify/);
  // getTargetActivity follows the ON edges: to a node that exists.
  const target = { label: "Document", uid: unique("d-entry") };
  await cypher("CREATE (:Document {UID: $uid})", { uid: target.uid });
  for (const [uid, action] of [["u1", "LOGIN"], ["u2", "DOCUMENT_VIEWED"], ["u1", "LOGOUT"]]) {
    assert.equal(await logger.logUserAction({ uid }, action, null, { n: 1 }, { targets: [target] }), true, logger.lastError);
  }
  assert.equal(await logger.flush(), true);
  const first = await logger.getAuditTrail({ limit: 2 });
  assert.deepEqual(first?.events.map((e) => e.actionType), ["LOGOUT", "DOCUMENT_VIEWED"], logger.lastError);
  assert.deepEqual(first.events[0].details, { n: 1 });
  const rest = await logger.getAuditTrail({ limit: 2, cursor: first.nextCursor });
  assert.deepEqual(rest?.events.map((e) => e.actionType), ["LOGIN"]);
  assert.equal(rest.nextCursor, null);
  assert.deepEqual((await logger.getUserActivity("u1"))?.events.map((e) => e.actionType), ["LOGOUT", "LOGIN"]);
  assert.equal((await logger.getTargetActivity("Document", target.uid))?.events.length, 3, logger.lastError);
  assert.equal(logger.chainHead().seq, 2);
  // The same trail through the verify entry: the read entry's events verify.
  const report = await new pkg.AuditLogger(config(trail)).verifyTrail();
  assert.equal(report?.ok, true, JSON.stringify(report));
  assert.equal(report.checked, 3);
  // Bad input resolves null with lastError, as in the verify entry.
  assert.equal(await logger.getAuditTrail({ limit: 0 }), null);
  assert.match(logger.lastError, /limit/);
});

test("switchSetting with an argument that is not a string throws a readable Error naming the setting, never a wasm trap, and the module keeps working", async () => {
  // Before, switchSetting("X", 5, "false", "true") reached wasm-bindgen's string copy with a number
  // and threw `RuntimeError: memory access out of bounds` (a trap inside the allocator); no
  // argument at all threw `Cannot read properties of undefined (reading 'length')`.
  for (const entry of ["read", "verify"]) {
    const { switchSetting } = await loadPkg(entry);
    for (const value of [5, {}, true, Symbol("s"), ["true"], 1n]) {
      assert.throws(() => switchSetting("NEO4J_X", value, "false", "true"),
        (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError)
          && e.message === 'NEO4J_X must be "false" or "true" (any case)', `${entry} ${String(value)}`);
    }
    for (const args of [[], [7, "x", "a", "b"], ["N", "x", 1, "b"], ["N", "x", "a", null]]) {
      assert.throws(() => switchSetting(...args),
        (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError)
          && /^switchSetting\(name, value, defaultValue, otherValue\): name, defaultValue and otherValue must be strings$/.test(e.message),
        `${entry} ${args.map(String).join(",")}`);
    }
    // The documented values still work, and a string value outside them names the setting only.
    assert.equal(switchSetting("NEO4J_X", undefined, "false", "true"), false);
    assert.equal(switchSetting("NEO4J_X", null, "false", "true"), false);
    assert.equal(switchSetting("NEO4J_X", " TRUE ", "false", "true"), true);
    assert.throws(() => switchSetting("NEO4J_X", "yes", "false", "true"), { message: 'NEO4J_X must be "false" or "true" (any case)' });
  }
});

test("close() lets the reads called before it finish, each statement of them; close(timeoutMs) cancels them with timeout:", async () => {
  // Found by a new user: close() refused every statement from the moment it was called, so a
  // verifyTrail under way resolved null ("closed") at its next statement, and a page called in
  // the same tick as close() resolved null with lastError undefined (close's flush cleared it).
  const trail = unique("closereads");
  const writer = new pkg.AuditLogger(config(trail));
  for (const n of [1, 2, 3]) assert.equal(await writer.logUserAction({ uid: "u1" }, "CLOSE_READS", null, { n }), true, writer.lastError);
  await writer.close();
  let closedAt = Infinity;
  let readsAfterClose = 0;
  let hang = false;
  // Each read statement answered 150 ms late (the writes at once); with `hang`, never.
  const slow = await proxyToNeo4j(async (body, res, forward) => {
    if (body.includes("UNWIND $events")) return false;
    if (Date.now() >= closedAt) readsAfterClose++;
    if (hang) return true;
    await new Promise((r) => setTimeout(r, 150));
    const { status, body: answer } = await forward();
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(answer);
    return true;
  });
  try {
    // A verifyTrail under way, close() 50 ms into its first statement: its later statements run.
    const l = new pkg.AuditLogger(config(trail, { url: slow.url }));
    const report = l.verifyTrail();
    await new Promise((r) => setTimeout(r, 50));
    closedAt = Date.now();
    assert.equal(await l.close(), true, l.lastError);
    const got = await report;
    assert.ok(got, `verifyTrail: ${l.lastError}`);
    assert.equal(got.ok, true);
    assert.equal(got.checked, 3);
    assert.ok(readsAfterClose >= 1, "the verification had statements left when close() was called");
    // A page and an event, then close() in the same tick: both are theirs, close waits for them.
    const m = new pkg.AuditLogger(config(trail, { url: slow.url }));
    const page = m.getAuditTrail({ limit: 2 });
    const write = m.logUserAction({ uid: "u1" }, "CLOSE_READS", null, { n: 4 });
    assert.equal(await m.close(), true, m.lastError);
    const p = await page;
    assert.ok(p, `getAuditTrail: ${m.lastError}`);
    assert.equal(p.events.length, 2);
    assert.equal(await write, true);
    // A call made after close() is refused, as before.
    assert.equal(await m.getAuditTrail(), null);
    assert.match(m.lastError, /^closed:/);
    // close(timeoutMs) with a read that gets no answer: cancelled at the bound, timeout:.
    hang = true;
    const h = new pkg.AuditLogger(config(trail, { url: slow.url }));
    const stuck = h.getAuditTrail();
    const t0 = Date.now();
    assert.equal(await h.close(300), false);
    assert.ok(Date.now() - t0 < 2000, `close(300) took ${Date.now() - t0} ms`);
    assert.equal(await stuck, null);
    assert.match(h.lastError, /^timeout: .*300 ms/);
  } finally {
    slow.close();
  }
  assert.deepEqual(await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN count(e)", { trail }), [[4]]);
});

test("a property or label added to an event is outside the chain (docs/tamper-evidence.md): ok, and the pages never show it", async () => {
  const trail = unique("read-added");
  const logger = new pkg.AuditLogger(config(trail));
  assert.equal(await logger.logUserAction({ uid: "alice" }, "ADDED", "C", { i: 1 }), true);
  await cypher("MATCH (:AuditTrail {name: $trail})-[h:HAS_EVENT]->(e) SET e.approvedBy = 'ceo', e:Approved, h.note = 'x'", { trail });
  const report = await logger.verifyTrail();
  assert.deepEqual([report.ok, report.checked, report.unchained], [true, 1, 0]);
  const [event] = (await logger.getAuditTrail()).events;
  assert.equal(event.actionType, "ADDED");
  assert.ok(!JSON.stringify(event).includes("approvedBy") && !JSON.stringify(event).includes("ceo"), JSON.stringify(event));
  await logger.close();
});
