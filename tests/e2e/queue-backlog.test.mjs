// A durable queue (IndexedDB) holding more events than the logger's queue.maxEvents, through the
// built package in real headless Chromium against the real Neo4j: the next logger reads it page by
// page, keeps at most a queue's worth in memory, refuses new calls while the backlog fills its
// bound, and delivers every stored event once, oldest first, its hash chain intact.
// Needs pkg/ (scripts/build) and Neo4j (scripts/neo4j start). E2E_PORT picks the page server's port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, unique, cypher, loadPkg, config, proxyToNeo4j } from "../node/helpers.mjs";
import { openAuditPage } from "../support/wrangler.mjs";

let opened, site, browser, page;
before(async () => {
  opened = await openAuditPage("queue backlog e2e");
  ({ site, browser, page } = opened);
});
after(() => opened?.close());

/** A CORS proxy to Neo4j, listening: while `state.down`, every write gets a 503 with a long
 *  Retry-After (so the events stay stored); else forwarded, the UIDs of each write noted in
 *  arrival order (`state.order`, `state.writes`). */
function neo4jProxy(state) {
  return proxyToNeo4j((body, res) => {
    if (state.down) {
      res.writeHead(503, { "Retry-After": "3600" });
      res.end("down");
      return true;
    }
    try {
      const st = JSON.parse(body).statements ?? [];
      for (const s of st) for (const e of s.parameters?.events ?? []) state.order.push([e.UID, e.timestamp]);
      state.writes++;
    } catch {}
    return false;
  }, { cors: true });
}

/** The number of records in IndexedDB database `name` of the page. */
function stored(name) {
  return page.evaluate((name) => new Promise((ok) => {
    const r = indexedDB.open(name, 1);
    r.onsuccess = () => {
      const q = r.result.transaction("events").objectStore("events").count();
      q.onsuccess = () => (r.result.close(), ok(q.result));
    };
  }), name);
}

test("a stored backlog larger than queue.maxEvents is read in pages and delivered over time, oldest first, each event once, nothing dropped", async () => {
  const state = { down: true, order: [], writes: 0 };
  const proxy = await neo4jProxy(state);
  try {
    const N = 1500, MAX = 200;
    const trail = unique("e2e-backlog");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery: "queued",
      queue: { name: `q-${trail}`, maxEvents: N + 100 }, retry: { maxAttempts: 1 } };
    // The schema first, straight to Neo4j (same trail and labels: one scope of records differs by url only).
    assert.equal(await page.evaluate((c) => new window.audit.AuditLogger(c).ensureSchema(), { ...cfg, url: NEO4J_URL }), true);
    // An earlier version of the app (a larger queue.maxEvents) left N events stored: Neo4j "down".
    const left = await page.evaluate(async ({ cfg, N }) => {
      const logger = new window.audit.AuditLogger(cfg);
      const calls = [];
      for (let i = 0; i < N; i++) calls.push(logger.logUserAction({ uid: "u-backlog" }, `BACKLOG_${String(i).padStart(5, "0")}`));
      const ok = (await Promise.all(calls)).filter(Boolean).length;
      await logger.close(0);
      return { ok, stats: logger.stats() };
    }, { cfg, N });
    assert.equal(left.ok, N, JSON.stringify(left));
    assert.equal(await stored(cfg.queue.name), N);
    state.down = false;
    // The next version: queue.maxEvents 200. Every read of the store is noted (its size).
    const got = await page.evaluate(async ({ cfg, MAX }) => {
      const reads = [];
      const getAll = IDBObjectStore.prototype.getAll;
      IDBObjectStore.prototype.getAll = function (...a) {
        const r = getAll.apply(this, a);
        r.addEventListener("success", () => reads.push(r.result.length));
        return r;
      };
      try {
        const logger = new window.audit.AuditLogger({ ...cfg, queue: { ...cfg.queue, maxEvents: MAX } });
        await logger.deadLetters(); // the first read done
        const atStart = logger.stats();
        // While the stored backlog fills the bound, a new call is refused (queue full), not queued over it.
        const extra = await logger.logUserAction({ uid: "u-backlog" }, "NEW_WHILE_FULL");
        const extraError = logger.lastError ?? null;
        const flushed = await logger.flush();
        const after = await logger.logUserAction({ uid: "u-backlog" }, "NEW_AFTER");
        return { atStart, extra, extraError, flushed, after, closed: await logger.close(), stats: logger.stats(), reads, err: logger.lastError ?? null };
      } finally {
        IDBObjectStore.prototype.getAll = getAll;
      }
    }, { cfg, MAX });
    assert.equal(got.atStart.queued, N, JSON.stringify(got.atStart));
    assert.deepEqual([got.extra, /^queue full: /.test(got.extraError ?? "")], [false, true], JSON.stringify(got));
    assert.deepEqual([got.flushed, got.after, got.closed], [true, true, true], JSON.stringify(got));
    assert.equal(got.stats.queued, 0);
    // Bounded reads: never the whole store at once (before: one read of all N records).
    assert.ok(got.reads.length > 1 && Math.max(...got.reads) <= 256, JSON.stringify(got.reads));
    assert.equal(await stored(cfg.queue.name), 0);
    // Each stored event once, in the graph; delivered oldest first (first arrival order by timestamp).
    const rows = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType AS t, count(*) AS n, count(DISTINCT e.UID) AS u ORDER BY t", { trail });
    const backlog = rows.filter((r) => r[0].startsWith("BACKLOG_"));
    assert.equal(backlog.length, N);
    assert.ok(backlog.every((r) => r[1] === 1 && r[2] === 1));
    assert.deepEqual(rows.filter((r) => !r[0].startsWith("BACKLOG_")).map((r) => r[0]), ["NEW_AFTER"]);
    const seen = new Set();
    const first = state.order.filter(([uid]) => !seen.has(uid) && seen.add(uid));
    const backlogTimes = first.slice(0, N).map(([, ts]) => ts);
    assert.deepEqual(backlogTimes, [...backlogTimes].sort(), "oldest first");
    assert.ok(state.writes >= N / MAX, `written a queue's worth at a time: ${state.writes} writes`);
    // The hash chain: every seq once, and the trail verifies.
    const seqs = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN count(DISTINCT [e.streamId, e.seq]), count(*)", { trail });
    assert.equal(seqs[0][0], seqs[0][1]);
    const verify = await loadPkg("verify");
    const report = await new verify.AuditLogger(config(trail)).verifyTrail();
    assert.equal(report.ok, true, JSON.stringify(report));
  } finally {
    proxy.close();
  }
});

test("close(timeoutMs) keeps its bound while the first read of a stored queue is under way, and a closed logger does not send what that read finds", async () => {
  // Before: close(300) waited for the read to end (a large or slow IndexedDB held it past its
  // bound), and a read ending after the bound re-sent the stored events from the closed logger.
  const state = { down: true, order: [], writes: 0 };
  const proxy = await neo4jProxy(state);
  try {
    const trail = unique("e2e-closeread");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery: "queued",
      queue: { name: `q-${trail}` }, retry: { maxAttempts: 1 } };
    assert.equal(await page.evaluate((c) => new window.audit.AuditLogger(c).ensureSchema(), { ...cfg, url: NEO4J_URL }), true);
    // An earlier logger left three events stored (Neo4j "down").
    const left = await page.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      const ok = await Promise.all([0, 1, 2].map((i) => logger.logUserAction({ uid: "u-left" }, `LEFT_${i}`)));
      await logger.close(0);
      return ok;
    }, cfg);
    assert.deepEqual(left, [true, true, true]);
    assert.equal(await stored(cfg.queue.name), 3);
    state.down = false;
    // The next logger's first read is held (its readonly transaction completes only when let go).
    const got = await page.evaluate(async (cfg) => {
      const tx0 = IDBDatabase.prototype.transaction;
      let release;
      const gate = new Promise((r) => (release = r));
      IDBDatabase.prototype.transaction = function (names, mode, ...rest) {
        const tx = tx0.call(this, names, mode, ...rest);
        if (mode === "readonly") {
          Object.defineProperty(tx, "oncomplete", { configurable: true, set(f) { tx.addEventListener("complete", (e) => gate.then(() => f.call(tx, e))); } });
        }
        return tx;
      };
      try {
        // (delivery "committed": NEW's call resolves once Neo4j committed it, so only the read is
        // left when close() begins; the read holds no write back.)
        const logger = new window.audit.AuditLogger({ ...cfg, delivery: "committed" });
        const logged = await logger.logUserAction({ uid: "u-new" }, "NEW");
        const t0 = performance.now();
        const closed = await Promise.race([logger.close(300), new Promise((r) => setTimeout(() => r("still waiting after 5 s"), 5000))]);
        const ms = performance.now() - t0;
        const err = logger.lastError ?? null;
        release();
        const dead = await logger.deadLetters(); // resolves once the held read has ended
        await new Promise((r) => setTimeout(r, 500));
        return { logged, closed, ms, err, dead, stats: logger.stats() };
      } finally {
        IDBDatabase.prototype.transaction = tx0;
      }
    }, cfg);
    assert.equal(got.logged, true, JSON.stringify(got));
    assert.equal(got.closed, false, JSON.stringify(got));
    assert.ok(got.ms >= 299, `not before its bound: ${got.ms} ms`);
    assert.match(got.err, /^timeout: the queue's stored events were still being read at close\(\)'s bound \(300 ms\)/);
    assert.deepEqual(got.dead, []);
    // The stored events were not sent by the closed logger: only NEW went out; they stay stored.
    const sent = new Set(state.order.map(([uid]) => uid));
    assert.equal(sent.size, 1, JSON.stringify(state.order));
    assert.equal(got.stats.queued, 3, JSON.stringify(got.stats));
    assert.equal(await stored(cfg.queue.name), 3);
    // The next logger delivers them, once.
    const next = await page.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      return [await logger.flush(), await logger.close()];
    }, cfg);
    assert.deepEqual(next, [true, true]);
    assert.equal(await stored(cfg.queue.name), 0);
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType, count(*) ORDER BY e.eventType", { trail });
    assert.deepEqual(rows, [["LEFT_0", 1], ["LEFT_1", 1], ["LEFT_2", 1], ["NEW", 1]]);
  } finally {
    proxy.close();
  }
});
