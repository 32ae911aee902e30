// Delivery of today's JS/wasm package, pinned before its delivery code is replaced (branch
// `sansio`: a synchronous state machine plus a JS driver). Each test puts a proxy (helpers.mjs
// proxyToNeo4j) between a Node logger and the real Neo4j, counts what goes over the wire, and
// reads the graph back: batching bounds, each call's own outcome, retries and their budget,
// exactly-once after a timed-out request that committed, the memory queue's flush/drain/clear,
// and concurrent first writes that must create the schema first.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { loadPkg, unique, config, cypher, trailEvents, proxiesClosedAfter, answerJson as answer, closedPort, ingestServer as ingestServerAt, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "./helpers.mjs";
import { randomBytes } from "node:crypto";
import { signJwt } from "../worker/jwt.mjs";

const pkg = await loadPkg();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A proxy to Neo4j, closed after the file's tests. */
const proxy = proxiesClosedAfter(after);

/** Waits until `cond()` holds (at most `ms`); whether it did. */
async function until(cond, ms) {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(20);
  return cond();
}

/** A logger on `p` (a proxy) writing into a fresh trail; `extra` as AuditConfig. */
function loggerVia(p, prefix, extra = {}) {
  const trail = unique(prefix);
  return { trail, logger: new pkg.AuditLogger({ ...config(trail), url: p.url, ...extra }) };
}

/** The counters that these tests pin (stats() without the queue-only ones that stay 0). */
const counters = (l) => {
  const { sent, committed, failed, retried, queued } = l.stats();
  return { sent, committed, failed, retried, queued };
};

before(async () => {
  // The audit schema in place, so that each logger's first write is one request.
  assert.equal(await new pkg.AuditLogger(config("guard-schema")).ensureSchema(), true);
});

test("a lone call goes at once and alone; calls made together share one request", async () => {
  const p = await proxy();
  const { trail, logger } = loggerVia(p, "together");
  assert.equal(await logger.logUserAction({ uid: "u1" }, "LONE"), true, logger.lastError);
  assert.deepEqual(p.writes.map((w) => w.events), [1]);
  const calls = [0, 1, 2, 3, 4].map((i) => logger.logUserAction({ uid: `u${i}` }, `TOGETHER_${i}`));
  assert.deepEqual(await Promise.all(calls), [true, true, true, true, true]);
  assert.deepEqual(p.writes.map((w) => w.events), [1, 5], "the five calls of one turn: one request");
  assert.deepEqual(counters(logger), { sent: 6, committed: 6, failed: 0, retried: 0, queued: 0 });
  assert.equal((await trailEvents(trail)).length, 6);
});

test("batch.maxEvents bounds each request; with maxInFlight 1 the batches go one after another, in call order", async () => {
  const p = await proxy();
  const { trail, logger } = loggerVia(p, "max-events", { batch: { maxEvents: 4, maxInFlight: 1 } });
  const calls = Array.from({ length: 10 }, (_, i) => logger.logUserAction({ uid: `u${i}` }, `E_${i}`));
  assert.deepEqual(await Promise.all(calls), Array(10).fill(true));
  assert.deepEqual(p.writes.map((w) => w.events), [4, 4, 2]);
  assert.equal(p.maxActive, 1);
  assert.deepEqual(counters(logger), { sent: 10, committed: 10, failed: 0, retried: 0, queued: 0 });
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type).sort(), Array.from({ length: 10 }, (_, i) => `E_${i}`).sort());
});

test("batch.maxBytes bounds each request's event JSON; an event larger than it goes alone and commits", async () => {
  const p = await proxy((body) => {
    p.writes.at(-1).big = body.includes("OVERSIZE");
    return false;
  });
  const { trail, logger } = loggerVia(p, "max-bytes", { batch: { maxBytes: 4096, maxInFlight: 1 } });
  const pad = (n) => ({ pad: "x".repeat(n) });
  // ~1.5 KB of event JSON each (the bound counts details with room for escaping): two fit in
  // 4 KiB, three do not.
  const small = Array.from({ length: 6 }, (_, i) => logger.logUserAction({ uid: `u${i}` }, `B_${i}`, null, pad(1200)));
  assert.deepEqual(await Promise.all(small), Array(6).fill(true), logger.lastError);
  assert.deepEqual(p.writes.map((w) => w.events), [2, 2, 2]);
  const mixed = [
    logger.logUserAction({ uid: "a" }, "BEFORE", null, pad(100)),
    logger.logUserAction({ uid: "b" }, "OVERSIZE", null, pad(10000)),
    logger.logUserAction({ uid: "c" }, "AFTER", null, pad(100)),
  ];
  assert.deepEqual(await Promise.all(mixed), [true, true, true], logger.lastError);
  const big = p.writes.filter((w) => w.big);
  assert.deepEqual(big.map((w) => w.events), [1], "the over-size event: one request of its own");
  assert.equal(p.writes.slice(3).reduce((n, w) => n + w.events, 0), 3);
  assert.equal((await trailEvents(trail)).length, 9);
  assert.equal(logger.stats().committed, 9);
});

test("batch.maxInFlight bounds the requests open at once, and is reached", async () => {
  for (const maxInFlight of [2, 4]) {
    const p = await proxy(async () => { await sleep(150); return false; });
    const { trail, logger } = loggerVia(p, "in-flight", { batch: { maxEvents: 1, maxInFlight } });
    const calls = Array.from({ length: 8 }, (_, i) => logger.logUserAction({ uid: `u${i}` }, `F_${i}`));
    assert.deepEqual(await Promise.all(calls), Array(8).fill(true), logger.lastError);
    assert.equal(p.writes.length, 8);
    assert.equal(p.maxActive, maxInFlight, `maxInFlight ${maxInFlight}`);
    assert.equal((await trailEvents(trail)).length, 8);
  }
});

test("group commit: calls made while every slot is busy form the next batch together", async () => {
  const p = await proxy(async () => { await sleep(200); return false; });
  const { trail, logger } = loggerVia(p, "group", { batch: { maxInFlight: 1 } });
  const first = logger.logUserAction({ uid: "u0" }, "G_FIRST");
  await sleep(50); // the first request is out and held
  const later = [];
  for (let i = 0; i < 6; i++) {
    later.push(logger.logUserAction({ uid: `u${i}` }, `G_${i}`));
    await sleep(10);
  }
  assert.deepEqual(await Promise.all([first, ...later]), Array(7).fill(true));
  assert.deepEqual(p.writes.map((w) => w.events), [1, 6]);
  assert.equal((await trailEvents(trail)).length, 7);
});

test("flushIntervalMs makes a batch's first event wait that long for company", async () => {
  const p = await proxy();
  const { trail, logger } = loggerVia(p, "interval", { batch: { flushIntervalMs: 400 } });
  const t0 = Date.now();
  const a = logger.logUserAction({ uid: "a" }, "I_A");
  await sleep(100);
  const b = logger.logUserAction({ uid: "b" }, "I_B");
  await sleep(100);
  assert.equal(p.writes.length, 0, "nothing sent inside the interval");
  assert.deepEqual(await Promise.all([a, b]), [true, true]);
  assert.deepEqual(p.writes.map((w) => w.events), [2]);
  assert.ok(p.writes[0].at - t0 >= 380, `sent after ${p.writes[0].at - t0} ms`);
  // flush() sends what waits at once.
  const t1 = Date.now();
  const c = logger.logUserAction({ uid: "c" }, "I_C");
  assert.equal(await logger.flush(), true);
  assert.equal(await c, true);
  assert.ok(p.writes[1].at - t1 < 300, `flush() sent at once, not after the interval (${p.writes[1].at - t1} ms)`);
  assert.equal((await trailEvents(trail)).length, 3);
});

test("a 5xx fails every call of its batch and only those; they wait in the queue and flush() delivers them", async () => {
  let refuse = true;
  const p = await proxy((body, res) => refuse && body.includes("SINKS_BATCH") && answer(res, 500));
  const { trail, logger } = loggerVia(p, "own-outcome", {
    batch: { maxEvents: 3, maxInFlight: 1 }, retry: { maxAttempts: 1 },
  });
  const calls = Array.from({ length: 9 }, (_, i) => logger.logUserAction({ uid: `u${i}` }, i === 4 ? "SINKS_BATCH" : `O_${i}`));
  assert.deepEqual(await Promise.all(calls), [true, true, true, false, false, false, true, true, true]);
  assert.deepEqual(p.writes.map((w) => w.events), [3, 3, 3]);
  assert.deepEqual(counters(logger), { sent: 9, committed: 6, failed: 3, retried: 0, queued: 3 });
  assert.equal((await trailEvents(trail)).length, 6);
  // Still refused: flush() re-sends them, fails, says why, keeps them.
  assert.equal(await logger.flush(), false);
  assert.match(logger.lastError, /HTTP 500/);
  assert.equal(logger.stats().queued, 3);
  refuse = false;
  assert.equal(await logger.flush(), true, logger.lastError);
  assert.equal(logger.lastError, undefined);
  assert.equal(logger.stats().queued, 0);
  assert.equal(logger.stats().committed, 9);
  const events = await trailEvents(trail);
  assert.equal(events.length, 9);
  assert.equal(new Set(events.map((e) => e.uid)).size, 9);
});

test("retries: 5xx and Neo4j transient errors are retried up to maxAttempts, client errors never", async () => {
  const fast = { baseDelayMs: 10, maxDelayMs: 20 };
  // Two 503s, then through: three requests, true.
  let n = 0;
  let p = await proxy((body, res) => ++n <= 2 && answer(res, 503));
  let { trail, logger } = loggerVia(p, "retry", { retry: { ...fast, maxAttempts: 3 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "RETRIED_TWICE"), true, logger.lastError);
  assert.equal(p.writes.length, 3);
  assert.deepEqual(counters(logger), { sent: 3, committed: 1, failed: 0, retried: 2, queued: 0 });
  assert.equal((await trailEvents(trail)).length, 1);
  // Always 503: exactly maxAttempts requests, then false with the last reason.
  p = await proxy((body, res) => answer(res, 503));
  ({ trail, logger } = loggerVia(p, "retry-out", { retry: { ...fast, maxAttempts: 2 }, queue: { enabled: false } }));
  assert.equal(await logger.logUserAction({ uid: "u" }, "NEVER"), false);
  assert.equal(p.writes.length, 2);
  assert.match(logger.lastError, /HTTP 503/);
  assert.deepEqual(counters(logger), { sent: 2, committed: 0, failed: 1, retried: 1, queued: 0 });
  // A 501 (a gateway that does not pass the request on) never succeeds on a retry: one request,
  // false at once with its reason (it was retried like every 5xx; the table: src/error.rs).
  p = await proxy((body, res) => answer(res, 501));
  ({ trail, logger } = loggerVia(p, "retry-501", { retry: { ...fast, maxAttempts: 5 }, queue: { enabled: false } }));
  assert.equal(await logger.logUserAction({ uid: "u" }, "NOT_IMPLEMENTED"), false);
  assert.equal(p.writes.length, 1);
  assert.match(logger.lastError, /^HTTP 501/);
  assert.deepEqual(counters(logger), { sent: 1, committed: 0, failed: 1, retried: 0, queued: 0 });
  // A transient Neo4j error in a 200 answer is retried ...
  n = 0;
  p = await proxy((body, res) => ++n === 1 && answer(res, 200, {
    results: [], errors: [{ code: "Neo.TransientError.General.MemoryPoolOutOfMemoryError", message: "pool full" }],
  }));
  ({ trail, logger } = loggerVia(p, "transient", { retry: fast }));
  assert.equal(await logger.logUserAction({ uid: "u" }, "TRANSIENT_ONCE"), true, logger.lastError);
  assert.equal(p.writes.length, 2);
  assert.equal((await trailEvents(trail)).length, 1);
  // ... a client error (and a 400) is not: one request each (on a logger whose schema is known,
  // and on a fresh one: see "a fresh logger's first write refused by Neo4j").
  for (const refuse of [
    (res) => answer(res, 200, { results: [], errors: [{ code: "Neo.ClientError.Statement.SyntaxError", message: "bad" }] }),
    (res) => answer(res, 400, { errors: [{ code: "Neo.ClientError.Request.Invalid", message: "bad request" }] }),
  ]) {
    p = await proxy((body, res) => body.includes("UNWIND $events") && refuse(res));
    ({ trail, logger } = loggerVia(p, "client-error", { retry: fast }));
    assert.equal(await logger.ensureSchema(), true);
    assert.equal(await logger.logUserAction({ uid: "u" }, "CLIENT_ERROR"), false);
    assert.equal(p.writes.length, 1, logger.lastError);
    assert.equal(logger.stats().retried, 0);
  }
});

test("retries: a Retry-After is waited for; maxElapsedMs ends the retrying in time", async () => {
  let n = 0;
  let p = await proxy((body, res) => ++n === 1 && answer(res, 503, {}, { "Retry-After": "1" }));
  let { trail, logger } = loggerVia(p, "retry-after", { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "AFTER_RETRY_AFTER"), true, logger.lastError);
  assert.equal(p.writes.length, 2);
  const gap = p.writes[1].at - p.writes[0].at;
  assert.ok(gap >= 950, `re-sent ${gap} ms later, before the Retry-After of 1 s`);
  assert.equal((await trailEvents(trail)).length, 1);
  p = await proxy((body, res) => answer(res, 503));
  ({ logger } = loggerVia(p, "elapsed", {
    retry: { maxAttempts: 100, baseDelayMs: 100, maxDelayMs: 100, maxElapsedMs: 400 }, queue: { enabled: false },
  }));
  const t0 = Date.now();
  assert.equal(await logger.logUserAction({ uid: "u" }, "BUDGET"), false);
  const took = Date.now() - t0;
  assert.ok(took < 2000, `gave up after ${took} ms`);
  assert.ok(p.writes.length >= 2, `${p.writes.length} requests`);
  const span = p.writes.at(-1).at - p.writes[0].at;
  assert.ok(span <= 900, `no attempt starts past maxElapsedMs (the last ${span} ms after the first)`);
  assert.match(logger.lastError, /HTTP 503/);
});

test("a batch waiting out its retry backoff holds its request slot (maxInFlight 1): a later call waits for it", async () => {
  let n = 0;
  const p = await proxy((body, res) => ++n === 1 && answer(res, 503, {}, { "Retry-After": "1" }));
  const { trail, logger } = loggerVia(p, "backoff-slot", { batch: { maxInFlight: 1 }, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const first = logger.logUserAction({ uid: "u" }, "SLOT_FIRST");
  await sleep(200); // refused, waiting out its Retry-After
  const second = logger.logUserAction({ uid: "u" }, "SLOT_SECOND");
  assert.deepEqual(await Promise.all([first, second]), [true, true], logger.lastError);
  assert.deepEqual(p.writes.map((w) => w.events), [1, 1, 1], "the retry, then the later call: no batch joined mid-retry");
  assert.ok(p.writes[1].at - p.writes[0].at >= 950, "nothing sent during the backoff");
  assert.ok(p.writes[2].at >= p.writes[1].at);
  assert.deepEqual(counters(logger), { sent: 3, committed: 2, failed: 0, retried: 1, queued: 0 });
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["SLOT_FIRST", "SLOT_SECOND"]);
});

test("a request that committed but timed out is retried and the event is stored exactly once (MERGE on its UID)", async () => {
  let n = 0;
  const p = await proxy(async (body, res, forward) => {
    if (++n > 1) return false;
    await forward(); // Neo4j commits; the client never hears it
    await sleep(700);
    res.destroy();
    return true;
  });
  const { trail, logger } = loggerVia(p, "timeout-commit", { timeoutMs: 400, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "COMMITTED_UNHEARD"), true, logger.lastError);
  assert.equal(p.writes.length, 2);
  assert.deepEqual(counters(logger), { sent: 2, committed: 1, failed: 0, retried: 1, queued: 0 });
  const events = await trailEvents(trail);
  assert.equal(events.length, 1);
  const [[edges]] = await cypher("MATCH (:AuditTrail {name: $trail})-[r:HAS_EVENT]->() RETURN count(r)", { trail });
  assert.equal(edges, 1);
});

test("flush() waits for the requests in flight and answers with their outcome", async () => {
  const p = await proxy(async () => { await sleep(300); return false; });
  const { trail, logger } = loggerVia(p, "flush-flight");
  const calls = [logger.logUserAction({ uid: "u" }, "FL_1"), logger.logUserAction({ uid: "u" }, "FL_2")];
  await sleep(50);
  assert.equal(await logger.flush(), true);
  assert.equal((await trailEvents(trail)).length, 2, "committed before flush() resolved");
  assert.deepEqual(await Promise.all(calls), [true, true]);
});

test("a fresh logger's first write refused by Neo4j for what the schema cannot fix: one request, false, no schema step", async () => {
  // The first write carries the schema guard. Only the guard's own refusal (an index missing or
  // not online, its procedure not allowed) runs the schema step and sends the write again; a
  // statement Neo4j refuses, or a role that may not write (Forbidden, as a 403 or in a 200), is
  // the write's own failure: one request, no retry, no schema warning. (Every Neo4j error ran the
  // step's check and sent the write again: 2 writes, 3 requests.)
  const forbidden = {
    code: "Neo.ClientError.Security.Forbidden",
    message: "Create node with labels 'AuditEvent' on database 'neo4j' is not allowed for user 'a' with roles [reader].",
  };
  for (const [status, error, reason] of [
    [200, { code: "Neo.ClientError.Statement.SemanticError", message: "refused by the test" }, /Neo\.ClientError\.Statement\.SemanticError/],
    [200, forbidden, /^authentication failed: HTTP 200 \(Neo\.ClientError\.Security\.Forbidden: Create node/],
    [403, forbidden, /^authentication failed: HTTP 403 \(Neo\.ClientError\.Security\.Forbidden: Create node/],
  ]) {
    let requests = 0;
    const p = await proxy((body, res) => {
      requests++;
      return body.includes("UNWIND $events") && answer(res, status, { results: [], errors: [error] });
    });
    const { logger } = loggerVia(p, "first-refused", { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    assert.equal(await logger.logUserAction({ uid: "u" }, "FIRST_REFUSED"), false);
    assert.match(logger.lastError, reason);
    assert.equal(p.writes.length, 1, logger.lastError);
    assert.equal(requests, 1, "no schema check either");
    assert.equal(logger.schemaWarning, undefined);
    assert.equal(logger.stats().retried, 0);
    // The next write carries the guard again (the schema is still unknown): one request.
    assert.equal(await logger.logUserAction({ uid: "u" }, "SECOND_REFUSED"), false);
    assert.equal(p.writes.length, 2);
    assert.equal(requests, 2);
  }
});

test("the memory queue's bounds: an event past queue.maxBytes is refused at once (queue full), counted in dropped and failed", async () => {
  const down = `http://127.0.0.1:${await closedPort()}`;
  const logger = new pkg.AuditLogger({
    ...config(unique("qbytes")), url: down, retry: { maxAttempts: 1 }, queue: { maxBytes: 4500 }, // two events of ~2 KB (as the queue counts them)
  });
  const pad = { pad: "x".repeat(1200) };
  assert.equal(await logger.logUserAction({ uid: "u" }, "QB_1", null, pad), false);
  assert.match(logger.lastError, /^network error: /);
  assert.equal(await logger.logUserAction({ uid: "u" }, "QB_2", null, pad), false);
  assert.match(logger.lastError, /^network error: /);
  assert.equal(await logger.logUserAction({ uid: "u" }, "QB_3", null, pad), false);
  // Why the two wait is named too: a reader of lastError saw the bound alone, not the server down.
  assert.match(logger.lastError, /^queue full: 2 events \/ [\d,]+ bytes pending \(.*\); the last attempt to deliver them failed: network error: /);
  const { queued, dropped, failed, sent } = logger.stats();
  assert.deepEqual({ queued, dropped, failed, sent }, { queued: 2, dropped: 1, failed: 3, sent: 2 });
  assert.equal(await logger.clearQueue(), 2);
});

test("an event larger than queue.maxBytes on its own is refused with a reason that says so, not as a full queue with nothing in it", async () => {
  // A healthy Neo4j and an empty queue: maxDetailsBytes (here the default 65 536) allows details
  // that the queue's own bound (here 4 KiB) can never take. The reason said "queue full: 0 events
  // / 0 bytes pending", which names no cause a user could act on.
  const trail = unique("qbig");
  const logger = new pkg.AuditLogger({ ...config(trail), queue: { maxBytes: 4096 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "QBIG_OK", null, { pad: "x".repeat(100) }), true, logger.lastError);
  assert.equal(await logger.logUserAction({ uid: "u" }, "QBIG", null, { pad: "x".repeat(5000) }), false);
  const reason = logger.lastError;
  assert.match(reason, /^queue full: /, "the same kind of refusal as before (dropped, never sent)");
  assert.doesNotMatch(reason, /^queue full: 0 events \/ 0 bytes pending/);
  const size = Number(/this event alone is (\d+) bytes/.exec(reason)?.[1]);
  assert.ok(size > 5000 && size < 8000, reason); // the event as the queue counts it: details and the rest
  assert.match(reason, /more than queue\.maxBytes \(4096\)/);
  assert.match(reason, /raise queue\.maxBytes/);
  const { dropped, failed, queued } = logger.stats();
  assert.deepEqual({ dropped, failed, queued }, { dropped: 1, failed: 1, queued: 0 });
  // The logger goes on: a later event that fits is written; the big one never is.
  assert.equal(await logger.logUserAction({ uid: "u" }, "QBIG_AFTER", null, {}), true, logger.lastError);
  assert.equal(await logger.close(), true);
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type).sort(), ["QBIG_AFTER", "QBIG_OK"]);
});

test("the memory queue's background drain re-sends a failed event without flush() (backoff, no Retry-After)", async () => {
  let refuse = true;
  const p = await proxy((body, res) => refuse && answer(res, 503));
  const { trail, logger } = loggerVia(p, "drain", { retry: { maxAttempts: 1 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "DRAINED"), false);
  assert.deepEqual(counters(logger), { sent: 1, committed: 0, failed: 1, retried: 0, queued: 1 });
  refuse = false;
  assert.ok(await until(() => logger.stats().queued === 0, 6000), JSON.stringify(logger.stats()));
  assert.equal(p.writes.length, 2);
  const events = await trailEvents(trail);
  assert.deepEqual(events.map((e) => e.type), ["DRAINED"]);
  const s = logger.stats();
  assert.equal(s.committed, 1);
  assert.equal(s.queued, 0);
  await logger.close();
});

test("a call after a failure sends the waiting event along with its own", async () => {
  let refuse = true;
  const p = await proxy((body, res) => refuse && answer(res, 503));
  const { trail, logger } = loggerVia(p, "along", { retry: { maxAttempts: 1 } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "WAITED"), false);
  refuse = false;
  await sleep(1100); // the drain's first backoff (1 s) may have passed: either way the waiting event is delivered
  assert.equal(await logger.logUserAction({ uid: "u" }, "NEXT"), true, logger.lastError);
  assert.ok(await until(() => logger.stats().queued === 0, 3000), JSON.stringify(logger.stats()));
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type).sort(), ["NEXT", "WAITED"]);
  await logger.close();
});

test("clearQueue() while a call is in flight: the call still resolves with its commit, nothing is re-sent", async () => {
  const p = await proxy(async () => { await sleep(300); return false; });
  const { trail, logger } = loggerVia(p, "clear-flight");
  const call = logger.logUserAction({ uid: "u" }, "IN_FLIGHT");
  await sleep(50);
  // The event in flight is not recalled, so not removed: before, clearQueue() answered 1 and
  // stats().dropped counted it although it then committed (counted twice).
  assert.equal(await logger.clearQueue(), 0);
  assert.equal(await call, true, logger.lastError);
  assert.equal(await logger.flush(), true);
  await sleep(1200); // past the drain's first backoff
  assert.equal(p.writes.length, 1);
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["IN_FLIGHT"]);
  const { sent, committed, failed, queued, dropped } = logger.stats();
  assert.deepEqual({ sent, committed, failed, queued, dropped }, { sent: 1, committed: 1, failed: 0, queued: 0, dropped: 0 });
});

test("clearQueue() while a call is in flight that then fails: counted once (failed), not queued again, not re-sent", async () => {
  const p = await proxy(async (body, res) => { await sleep(300); return answer(res, 503); });
  const { trail, logger } = loggerVia(p, "clear-flight-fail", { retry: { maxAttempts: 1 } });
  const call = logger.logUserAction({ uid: "u" }, "IN_FLIGHT_FAILS");
  await sleep(50);
  assert.equal(await logger.clearQueue(), 0);
  assert.equal(await call, false);
  assert.match(logger.lastError, /503/);
  assert.equal(await logger.flush(), true, "nothing waits");
  await sleep(1200); // past the drain's first backoff
  assert.equal(p.writes.length, 1, "not re-sent");
  assert.deepEqual(await trailEvents(trail), []);
  const { sent, committed, failed, queued, dropped } = logger.stats();
  assert.deepEqual({ sent, committed, failed, queued, dropped }, { sent: 1, committed: 0, failed: 1, queued: 0, dropped: 0 });
});

test("clearQueue() on sign-out removes every event not on the wire (batch buffer, retry backoff); the one in flight is written once; flush() answers at once", async () => {
  let first = true;
  const p = await proxy(async (body, res) => {
    if (body.includes("BACKING_OFF") && first) {
      first = false;
      return answer(res, 503, { error: "busy" }, { "Retry-After": "2" }); // its retry waits >= 2 s
    }
    if (body.includes("IN_FLIGHT")) await sleep(400);
    return false;
  });
  const { trail, logger } = loggerVia(p, "clear-signout", { batch: { maxInFlight: 2 } });
  const backingOff = logger.logUserAction({ uid: "u" }, "BACKING_OFF");
  assert.ok(await until(() => logger.stats().retried === 1, 3000), JSON.stringify(logger.stats()));
  const inFlight = logger.logUserAction({ uid: "u" }, "IN_FLIGHT");
  assert.ok(await until(() => p.writes.length === 2, 3000));
  // Both slots busy (one backing off, one in flight): these two wait in the batch buffer.
  const buffered = [logger.logUserAction({ uid: "u" }, "BUFFERED_1"), logger.logUserAction({ uid: "u" }, "BUFFERED_2")];
  await sleep(20);
  // Before: 0 (only events waiting for a re-send were removed), and all three were written later.
  assert.equal(await logger.clearQueue(), 3);
  assert.deepEqual(await Promise.all([backingOff, ...buffered]), [false, false, false]);
  assert.match(logger.lastError, /removed by clearQueue\(\)/);
  assert.equal(await inFlight, true, "the request in flight finishes its delivery");
  const t = Date.now();
  assert.equal(await logger.flush(), true);
  assert.ok(Date.now() - t < 1000, `flush() took ${Date.now() - t} ms`);
  await sleep(2500); // past the Retry-After and the drain's first backoff
  assert.equal(p.writes.length, 2, "nothing sent after the clear");
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["IN_FLIGHT"]);
  const { sent, committed, failed, retried, queued, dropped } = logger.stats();
  assert.deepEqual({ sent, committed, failed, retried, queued, dropped }, { sent: 2, committed: 1, failed: 3, retried: 1, queued: 0, dropped: 3 });
  await logger.close();
});

test("clearQueue() removes what a failure left waiting: counted in dropped, never sent again", async () => {
  const p = await proxy((body, res) => answer(res, 503));
  const { logger } = loggerVia(p, "clear-waiting", { retry: { maxAttempts: 1 } });
  const calls = [logger.logUserAction({ uid: "u" }, "W_1"), logger.logUserAction({ uid: "u" }, "W_2")];
  assert.deepEqual(await Promise.all(calls), [false, false]);
  assert.equal(logger.stats().queued, 2);
  assert.equal(await logger.clearQueue(), 2);
  const s = logger.stats();
  assert.equal(s.queued, 0);
  assert.equal(s.dropped, 2);
  const before = p.writes.length;
  assert.equal(await logger.flush(), true, "nothing left to deliver");
  await sleep(1200); // past the drain's first backoff
  assert.equal(p.writes.length, before, "nothing re-sent");
});

test('delivery "queued" in Node (memory queue): true once committed; with the server down false and kept', async () => {
  const p = await proxy();
  const { trail, logger } = loggerVia(p, "queued", { delivery: "queued" });
  assert.equal(await logger.logUserAction({ uid: "u" }, "QUEUED_OK"), true, logger.lastError);
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["QUEUED_OK"]);
  const down = new pkg.AuditLogger({ ...config(unique("queued-down")), url: `http://127.0.0.1:${await closedPort()}`, delivery: "queued", retry: { maxAttempts: 1 } });
  assert.equal(await down.logUserAction({ uid: "u" }, "QUEUED_DOWN"), false);
  assert.match(down.lastError, /^network error: /);
  assert.equal(down.stats().queued, 1);
  assert.equal(await down.clearQueue(), 1);
});

test("concurrent first writes on labels with no schema yet: the schema is made first, one trail, every event once", async () => {
  const id = unique("g").replace(/-/g, "").slice(0, 20);
  const labels = { event: `GuardEvent${id}`, trail: `GuardTrail${id}`, user: `GuardUser${id}` };
  const trail = "guard-first-write";
  const cfg = { ...config(trail), labels };
  try {
    // Two loggers (two processes' first use) and 12 calls each, all at once.
    const loggers = [new pkg.AuditLogger(cfg), new pkg.AuditLogger(cfg)];
    const calls = loggers.flatMap((l, j) => Array.from({ length: 12 }, (_, i) => l.logUserAction({ uid: `u${i}` }, `FIRST_${j}_${i}`)));
    assert.deepEqual(await Promise.all(calls), Array(24).fill(true), loggers.map((l) => l.lastError).join(" | "));
    const [[trails]] = await cypher(`MATCH (t:${labels.trail} {name: $trail}) RETURN count(t)`, { trail });
    assert.equal(trails, 1, "one trail node");
    const [[events, uids]] = await cypher(
      `MATCH (:${labels.trail} {name: $trail})-[:HAS_EVENT]->(e:${labels.event}) RETURN count(e), count(DISTINCT e.UID)`, { trail });
    assert.deepEqual([events, uids], [24, 24]);
    const constraints = await cypher("SHOW CONSTRAINTS YIELD labelsOrTypes, properties WHERE $l IN labelsOrTypes RETURN properties", { l: labels.event });
    assert.ok(constraints.some(([props]) => props.includes("UID")), "the uniqueness constraint on the event UID exists");
    for (const l of loggers) assert.equal(l.schemaWarning, undefined);
  } finally {
    await cypher(`MATCH (n) WHERE n:${labels.event} OR n:${labels.trail} OR n:${labels.user} DETACH DELETE n`);
    for (const kind of ["CONSTRAINTS", "INDEXES"]) {
      const rows = await cypher(`SHOW ${kind} YIELD name, labelsOrTypes WHERE any(l IN labelsOrTypes WHERE l ENDS WITH $id) RETURN name`, { id });
      for (const [name] of rows) await cypher(`DROP ${kind === "INDEXES" ? "INDEX" : "CONSTRAINT"} \`${name}\` IF EXISTS`);
    }
  }
});

/** helpers.mjs ingestServer, closed after the file's tests. */
const ingests = [];
after(() => ingests.forEach((i) => i.close()));
async function ingestServer(trail, env = {}) {
  const ingest = await ingestServerAt(trail, env);
  ingests.push(ingest);
  return ingest;
}

test("client mode: a batch the endpoint rejects is split until the bad event stands alone; the others commit, it becomes one dead letter", async () => {
  const trail = unique("split");
  const ingest = await ingestServer(trail, { ALLOWED_CATEGORIES: "GOOD" });
  const logger = new pkg.AuditLogger({ endpoint: ingest.endpoint, token: ingest.token, queue: { name: unique("q") } });
  const calls = Array.from({ length: 8 }, (_, i) => logger.logUserAction(null, `S_${i}`, i === 5 ? "BAD" : "GOOD"));
  assert.deepEqual(await Promise.all(calls), [true, true, true, true, true, false, true, true]);
  // 8 → 4 + 4 → the bad half 2 + 2 → 1 + 1, first halves first: one request per part, never a
  // retry of a rejection.
  assert.deepEqual(ingest.posts.map((p) => [p.events, p.status]), [[8, 403], [4, 201], [4, 403], [2, 403], [1, 201], [1, 403], [2, 201]]);
  const { sent, committed, failed, retried, queued, deadLettered } = logger.stats();
  assert.deepEqual({ sent, committed, failed, retried, queued, deadLettered }, { sent: 22, committed: 7, failed: 1, retried: 0, queued: 0, deadLettered: 1 });
  const dead = await logger.deadLetters();
  assert.deepEqual(dead.map((d) => d.event.eventType), ["S_5"]);
  assert.match(dead[0].reason, /^rejected by the endpoint/);
  const stored = (await trailEvents(trail)).map((e) => e.type).sort();
  assert.deepEqual(stored, ["S_0", "S_1", "S_2", "S_3", "S_4", "S_6", "S_7"]);
  assert.equal(await logger.flush(), true, "a dead letter is not left undelivered");
  assert.equal(ingest.posts.length, 7, "and never re-sent");
});

/**
 * A server in front of the ingest Worker (helpers.mjs ingestServer's `handle`), as nginx stands
 * in front of one: `refuse(req, body)` answers for it ({status, html}), or null to pass the request
 * on to the Worker. `posts` lists each POST's event count and answer status.
 */
async function frontOfWorker(ingest, refuse) {
  const { createServer } = await import("node:http");
  const posts = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const events = JSON.parse(body).events.length;
    const own = refuse(req, body);
    if (own) {
      posts.push([events, own.status]);
      res.writeHead(own.status, { "Content-Type": "text/html" });
      return res.end(own.html);
    }
    const answer = await ingest.handle(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body }));
    posts.push([events, answer.status]);
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  ingests.push({ close: () => server.close() });
  return { endpoint: `http://127.0.0.1:${server.address().port}/v1/events`, posts };
}

/** nginx's page for a request whose header line is over `large_client_header_buffers` (8k by default). */
const NGINX_400 = "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
/** nginx's page for a body over `client_max_body_size`. */
const NGINX_413 = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

test("client mode: a proxy's 400 in front of the Worker (a token over nginx's header limit) dead-letters nothing: the events stay queued and go once it passes", async () => {
  // Found in use: nginx refused a user's large Entra ID JWT with this HTML 400, taken for the
  // Worker's refusal of the events: each of that user's events was sent alone and moved to the
  // dead letters (at most 1000, the oldest dropped), though the Worker never saw one of them.
  const trail = unique("proxy-400");
  const secret = randomBytes(32).toString("base64url");
  const ingest = await ingestServer(trail, { AUDIT_JWT_SECRET: secret });
  const now = Math.floor(Date.now() / 1000);
  // An Entra ID token of a user in many groups: ~10 KB.
  const groups = Array.from({ length: 200 }, (_, i) => `0000${i}`.slice(-4) + "a1b2-c3d4-e5f6-a7b8-c9d0e1f2a3b4");
  const token = await signJwt(secret, { sub: "alice", aud: "neo4j-audit", iat: now, exp: now + 600, groups });
  let headerLimit = 8192;
  const front = await frontOfWorker(ingest, (req) => (req.headers.authorization.length > headerLimit ? { status: 400, html: NGINX_400 } : null));
  const logger = new pkg.AuditLogger({ endpoint: front.endpoint, token, queue: { name: unique("q") } });
  const calls = [0, 1, 2].map((i) => logger.logUserAction(null, `P_${i}`));
  assert.deepEqual(await Promise.all(calls), [false, false, false]);
  assert.match(logger.lastError, /^HTTP 400: <html> {2}<head><title>400 Request Header Or Cookie Too Large<\/title>.* \(not an answer of the ingest Worker: a server in front of it refused the request, e\.g\. a proxy's header size limit and a large token; or endpoint is not the Worker's POST \/v1\/events URL\)$/);
  assert.deepEqual(await logger.deadLetters(), [], "no event is dead-lettered");
  const { queued, deadLettered, failed, retried } = logger.stats();
  assert.deepEqual({ queued, deadLettered, failed, retried }, { queued: 3, deadLettered: 0, failed: 3, retried: 0 });
  assert.deepEqual(front.posts, [[3, 400]], "one request: not retried, not split");
  // The operator raises the proxy's limit: the events kept go, with the next flush.
  headerLimit = 16384;
  assert.equal(await logger.flush(), true, logger.lastError);
  assert.deepEqual(front.posts, [[3, 400], [3, 201]]);
  assert.equal(logger.stats().queued, 0);
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type).sort(), ["P_0", "P_1", "P_2"]);
});

test("client mode: a proxy's 413 in front of the Worker splits the batch; an event too large alone for it is a dead letter naming the limit", async () => {
  // A 413 is the body's size: halves pass where the whole did not, and an event the proxy refuses
  // alone can never pass it. Kept in the queue, it was sent again, split out of its batch-mates
  // and refused, in every re-send round.
  const trail = unique("proxy-413");
  const ingest = await ingestServer(trail);
  const front = await frontOfWorker(ingest, (_, body) => (body.length > 2000 ? { status: 413, html: NGINX_413 } : null));
  const logger = new pkg.AuditLogger({ endpoint: front.endpoint, token: ingest.token, queue: { name: unique("q") } });
  const calls = [
    logger.logUserAction(null, "SMALL_0"),
    logger.logUserAction(null, "BIG", null, { pad: "p".repeat(3000) }),
    logger.logUserAction(null, "SMALL_1"),
  ];
  assert.deepEqual(await Promise.all(calls), [true, false, true]);
  assert.deepEqual(front.posts, [[3, 413], [1, 201], [2, 413], [1, 413], [1, 201]]);
  const dead = await logger.deadLetters();
  assert.deepEqual(dead.map((d) => d.event.eventType), ["BIG"]);
  assert.match(dead[0].reason, /^rejected by the endpoint \(HTTP 413\): <html> {2}<head><title>413 Request Entity Too Large<\/title>.* \(not an answer of the ingest Worker: a server in front of it limits the body's size, e\.g\. nginx's client_max_body_size: allow the Worker's MAX_BODY_BYTES, 256 KiB by default\)$/);
  assert.equal(await logger.flush(), true, "the dead letter is not waiting to be sent again");
  assert.equal(front.posts.length, 5, "and is not sent again");
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type).sort(), ["SMALL_0", "SMALL_1"]);
});

test("lastError: a batch-mate's success does not clear the reason of a call that failed beside it", async () => {
  // README: `if (!ok) console.warn(logger.lastError)`. The rejected event's call and its
  // batch-mates settle close together (after a split); a success of a call made BEFORE the failure
  // was recorded must not wipe the failed caller's reason (it did: lastError was undefined).
  const trail = unique("mate");
  const ingest = await ingestServer(trail, { ALLOWED_CATEGORIES: "GOOD" });
  const logger = new pkg.AuditLogger({ endpoint: ingest.endpoint, token: ingest.token, queue: { name: unique("q") } });
  let seen;
  const calls = Array.from({ length: 8 }, (_, i) => logger.logUserAction(null, `M_${i}`, i === 2 ? "BAD" : "GOOD")
    .then((ok) => { if (!ok) seen = logger.lastError; return ok; }));
  assert.deepEqual(await Promise.all(calls), [true, true, false, true, true, true, true, true]);
  assert.match(seen ?? "", /rejected by the endpoint/, "the failed call's reason, read in its own then");
  assert.match(logger.lastError ?? "", /rejected by the endpoint/, "still the most recent false's reason");
  // A call made after the failure clears it.
  assert.equal(await logger.logUserAction(null, "M_AFTER", "GOOD"), true);
  assert.equal(logger.lastError, undefined);
});

test("lastError: a call refused at once (invalid input) keeps its reason when calls made before it then commit", async () => {
  // The refusal was recorded beside the machine's rule: the commit of a call made before it
  // cleared lastError (undefined after the burst, with a false among its answers).
  const p = await proxy(async () => { await sleep(200); return false; });
  const { logger } = loggerVia(p, "refused");
  const earlier = [logger.logUserAction({ uid: "u" }, "R_1"), logger.logUserAction({ uid: "u" }, "R_2")];
  assert.equal(await logger.logUserAction({ uid: 7 }, "X"), false);
  const why = logger.lastError;
  assert.match(why ?? "", /^invalid input: /);
  assert.deepEqual(await Promise.all(earlier), [true, true]);
  assert.equal(logger.lastError, why, "still the most recent false's reason");
  // A call made after the refusal clears it.
  assert.equal(await logger.logUserAction({ uid: "u" }, "R_AFTER"), true);
  assert.equal(logger.lastError, undefined);
});

test("client mode: a request carries at most 100 events (the Worker's bound), whatever batch.maxEvents says", async () => {
  const trail = unique("client-bound");
  const ingest = await ingestServer(trail);
  const logger = new pkg.AuditLogger({ endpoint: ingest.endpoint, token: ingest.token, queue: { name: unique("q") }, batch: { maxInFlight: 1 } });
  const calls = Array.from({ length: 150 }, (_, i) => logger.logUserAction(null, `C_${i}`));
  assert.deepEqual(await Promise.all(calls), Array(150).fill(true), logger.lastError);
  assert.deepEqual(ingest.posts.map((p) => [p.events, p.status]), [[100, 201], [50, 201]]);
  assert.equal((await trailEvents(trail)).length, 150);
  assert.deepEqual(counters(logger), { sent: 150, committed: 150, failed: 0, retried: 0, queued: 0 });
});
