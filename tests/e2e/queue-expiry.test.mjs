// The durable queue's later reads (the refill once the events in memory are half delivered) and
// queue.maxAgeMs, through the built package in real headless Chromium against the real Neo4j: a
// read that meets the records of events still in memory (in flight) leaves them; it expires only
// the stored events it would otherwise take in, so each event is counted once (committed or
// expired), and what commits is in the graph. Found by redteam38: the in-flight events' records
// were deleted and counted in stats().expired, and then committed too.
// Also: clearQueue() with such a backlog counts the stored events it removes (redteam38).
// Needs pkg/ (scripts/build) and Neo4j (scripts/neo4j start). E2E_PORT picks the page server's port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, unique, cypher } from "../node/helpers.mjs";
import { openAuditPage } from "../support/wrangler.mjs";

let opened, page;
before(async () => {
  opened = await openAuditPage("queue expiry e2e");
  ({ page } = opened);
});
after(() => opened?.close());

test("a later read of the queue does not expire the events still in flight: each event counted once", async () => {
  // A CORS proxy to Neo4j: while `down`, a 503 (the events stay stored); else each write is
  // answered `delayMs` late (forwarded at once), so the events in flight age past maxAgeMs.
  // Whether it is down is decided when a request arrives (before its body is read), and the
  // switch waits until the proxy is quiet: no request open, none for a second, and a second since
  // the first logger's close(0) resolved. A write the first logger had put on the wire before
  // close(0) could otherwise reach a loaded machine's proxy after the switch and commit 4 events
  // no logger counted (seen in CI): bytes already sent cannot be recalled. A closed logger that
  // sent a request later than that would still be caught.
  const state = { down: true, delayMs: 0, uids: [], open: 0, last: 0 };
  const proxy = createServer(async (req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    const down = state.down;
    state.open++;
    state.last = Date.now();
    res.on("close", () => { state.open--; state.last = Date.now(); });
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "*" });
      return res.end();
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (down) {
      res.writeHead(503, { "Retry-After": "3600" });
      return res.end("down");
    }
    try {
      for (const s of JSON.parse(body).statements ?? []) for (const e of s.parameters?.events ?? []) state.uids.push(e.UID);
    } catch {}
    const upstream = await fetch(`${NEO4J_URL}${req.url}`, {
      method: "POST", body,
      headers: { "content-type": "application/json", accept: "application/json", authorization: req.headers.authorization ?? "" },
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    await new Promise((r) => setTimeout(r, state.delayMs));
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(answer);
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  try {
    const N = 8, MAX = 4, AGE = 3000;
    const trail = unique("e2e-expiry");
    const cfg = { url: `http://127.0.0.1:${proxy.address().port}`, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery: "queued",
      queue: { name: `q-${trail}`, maxEvents: N, maxAgeMs: AGE }, retry: { maxAttempts: 1 } };
    assert.equal(await page.evaluate((c) => new window.audit.AuditLogger(c).ensureSchema(), { ...cfg, url: NEO4J_URL }), true);
    // N events stored while Neo4j is "down".
    const left = await page.evaluate(async ({ cfg, N }) => {
      const logger = new window.audit.AuditLogger(cfg);
      const calls = [];
      for (let i = 0; i < N; i++) calls.push(logger.logUserAction({ uid: "u-expiry" }, `EXPIRY_${i}`));
      const ok = (await Promise.all(calls)).filter(Boolean).length;
      await logger.close(0);
      return ok;
    }, { cfg, N });
    assert.equal(left, N);
    const closedAt = Date.now();
    while (state.open > 0 || Date.now() - Math.max(state.last, closedAt) < 1000) await new Promise((r) => setTimeout(r, 50));
    // Neo4j back, its answers AGE + 1.5 s late: the next logger (queue.maxEvents MAX, batches
    // of 2) takes the MAX oldest and sends them at once, while they are fresh; when the first
    // answer comes, the events still in flight are older than maxAgeMs.
    state.down = false;
    state.delayMs = AGE + 1500;
    const got = await page.evaluate(async ({ cfg, MAX }) => {
      const logger = new window.audit.AuditLogger({ ...cfg, queue: { ...cfg.queue, maxEvents: MAX }, batch: { maxEvents: 2 } });
      await logger.deadLetters(); // the first read done
      const flushed = await logger.flush();
      return { flushed, closed: await logger.close(), stats: logger.stats() };
    }, { cfg, MAX });
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN count(DISTINCT e.UID)", { trail });
    const inGraph = rows[0][0];
    const { committed, expired, queued } = got.stats;
    assert.equal(queued, 0, JSON.stringify(got));
    assert.ok(inGraph >= MAX, `the ${MAX} taken in first committed: ${inGraph} in the graph; ${JSON.stringify(got)}`);
    // Each stored event counted once: committed (and in the graph) or expired (never sent).
    assert.equal(committed, inGraph, `${JSON.stringify(got)}; ${state.uids.length} events sent while up`);
    assert.equal(committed + expired, N, `each event once: ${JSON.stringify(got)}; ${inGraph} in the graph`);
  } finally {
    proxy.close();
  }
});

test("clearQueue() with a stored backlog larger than queue.maxEvents answers every event it removed, the stored ones too", async () => {
  const proxy = createServer(async (req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "*" });
      return res.end();
    }
    for await (const _ of req);
    res.writeHead(503, { "Retry-After": "3600" });
    res.end("down");
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  try {
    const N = 350, MAX = 60;
    const trail = unique("e2e-clear-backlog");
    const cfg = { url: `http://127.0.0.1:${proxy.address().port}`, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery: "queued",
      queue: { name: `q-${trail}`, maxEvents: N }, retry: { maxAttempts: 1 } };
    const got = await page.evaluate(async ({ cfg, N, MAX }) => {
      const first = new window.audit.AuditLogger(cfg);
      const calls = [];
      for (let i = 0; i < N; i++) calls.push(first.logUserAction({ uid: "u-clear" }, `CLEAR_${i}`));
      const ok = (await Promise.all(calls)).filter(Boolean).length;
      await first.close(0);
      const logger = new window.audit.AuditLogger({ ...cfg, queue: { ...cfg.queue, maxEvents: MAX } });
      await logger.deadLetters(); // the first read done: MAX in memory, the rest stored
      const before = logger.stats();
      await logger.flush(); // Neo4j down: nothing in flight once it answers
      const removed = await logger.clearQueue();
      const stats = logger.stats();
      await logger.close(0);
      const left = await new Promise((done) => {
        const r = indexedDB.open(cfg.queue.name, 1);
        r.onsuccess = () => {
          const q = r.result.transaction("events").objectStore("events").count();
          q.onsuccess = () => (r.result.close(), done(q.result));
        };
      });
      return { ok, before, removed, stats, left };
    }, { cfg, N, MAX });
    assert.equal(got.ok, N);
    assert.equal(got.before.queued, N, JSON.stringify(got));
    // Before: 60 (those in memory), while all 350 were removed and `queued` went from 350 to 0.
    assert.deepEqual([got.removed, got.stats.dropped, got.stats.queued, got.left], [N, N, 0, 0], JSON.stringify(got));
  } finally {
    proxy.close();
  }
});
