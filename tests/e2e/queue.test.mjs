// The durable queue (IndexedDB) through the built package in real headless Chromium against the real
// Neo4j: what flush() and close() wait for. Needs pkg/ (scripts/build) and Neo4j (scripts/neo4j start).
// E2E_PORT picks the page server's port (default: a free one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, unique, cypher, proxyToNeo4j } from "../node/helpers.mjs";
import { openAuditPage } from "../support/wrangler.mjs";

let opened, site, browser, page;
before(async () => {
  opened = await openAuditPage("queue e2e");
  ({ site, browser, page } = opened);
});
after(() => opened?.close());

const count = async (trail) =>
  (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN count(e)", { trail }))[0][0];

/** A proxy in front of Neo4j (CORS on for the test site) that answers every request 503 while
 *  `state.down`: an outage switched on and off by the test. */
async function outage(down) {
  const state = { down };
  const proxy = await proxyToNeo4j((_body, res) => {
    if (!state.down) return false;
    res.writeHead(503, { "Content-Type": "text/plain" });
    res.end("down for maintenance");
    return true;
  }, { cors: true });
  return { state, proxy };
}

/** Runs `fn` with an outage proxy (see `outage`) and a fresh browser context, closing both after. */
async function inOutage(down, fn) {
  const { state, proxy } = await outage(down);
  const ctx = await browser.newContext();
  try {
    return await fn({ state, proxy, ctx });
  } finally {
    await ctx.close();
    proxy.close();
  }
}

/** A new page of `ctx` on the test site, once the package is loaded there. */
async function ready(ctx) {
  const p = await ctx.newPage();
  await p.goto(site.origin);
  await p.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
  return p;
}

test('delivery "queued": close() right after logging delivers what was logged (true), nothing left stored', async () => {
  // Found by a new user: the calls resolve true once their event is in IndexedDB and their sends are
  // started after that; close() called before those sends reached the batches took the queue for
  // settled, resolved false with lastError undefined, and closed the logger, so every such send was
  // then refused ("closed") and the events stayed stored for the next page.
  const trail = unique("e2e-queued-close");
  const got = await page.evaluate(async ({ url, username, password, trail }) => {
    const { AuditLogger } = window.audit;
    const logger = new AuditLogger({ url, username, password, trail, delivery: "queued", queue: { name: `q-${trail}` } });
    await logger.ensureSchema();
    const calls = Array.from({ length: 20 }, (_, i) => logger.logUserAction({ uid: "u" }, `QUEUED_${i}`));
    const closed = await logger.close();
    const flushedAgain = await logger.flush();
    return { closed, flushedAgain, calls: await Promise.all(calls), lastError: logger.lastError ?? null, stats: logger.stats() };
  }, { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail });
  assert.deepEqual(got.calls, Array(20).fill(true));
  assert.equal(got.closed, true, JSON.stringify(got));
  assert.equal(got.flushedAgain, true, JSON.stringify(got));
  assert.deepEqual([got.stats.committed, got.stats.queued, got.stats.failed], [20, 0, 0], JSON.stringify(got.stats));
  assert.equal(await count(trail), 20);
});

test("close() refuses calls made while it flushes, with the IndexedDB queue, in either delivery mode", async () => {
  for (const delivery of ["committed", "queued"]) {
    const trail = unique(`e2e-close-${delivery}`);
    const got = await page.evaluate(async ({ url, username, password, trail, delivery }) => {
      const { AuditLogger } = window.audit;
      const logger = new AuditLogger({ url, username, password, trail, delivery, queue: { name: `q-${trail}` } });
      await logger.ensureSchema();
      const before = Array.from({ length: 20 }, (_, i) => logger.logUserAction({ uid: "u" }, `BEFORE_${i}`));
      const closing = logger.close();
      const late = [logger.logUserAction({ uid: "u" }, "LATE_SYNC")];
      const lateError = logger.lastError ?? null;
      await new Promise((r) => setTimeout(r, 0));
      late.push(logger.logUserAction({ uid: "u" }, "LATE_TICK"));
      return { closed: await closing, before: await Promise.all(before), late: await Promise.all(late), lateError };
    }, { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery });
    assert.equal(got.closed, true, JSON.stringify(got));
    assert.deepEqual(got.before, Array(20).fill(true));
    assert.deepEqual(got.late, [false, false], delivery);
    assert.match(got.lateError ?? "", /^closed/);
    const types = (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType", { trail })).map((r) => r[0]);
    assert.equal(types.length, 20, delivery);
    assert.ok(types.every((t) => t.startsWith("BEFORE_")), delivery);
  }
});

test("close(timeoutMs) in a browser: the request it gave up on is cancelled, its events stay in IndexedDB and the next logger delivers each once", async () => {
  // A CORS proxy to Neo4j that, while `hang`, holds each write unanswered and notes when the page
  // closed its connection (the request cancelled).
  const state = { hang: false, held: 0, cancelled: 0 };
  const proxy = await proxyToNeo4j((_body, res) => {
    if (!state.hang) return false;
    state.held++;
    res.once("close", () => state.cancelled++);
    return true;
  }, { cors: true });
  try {
    const trail = unique("e2e-close-bound");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, queue: { name: `q-${trail}` } };
    assert.equal(await page.evaluate((cfg) => new window.audit.AuditLogger(cfg).ensureSchema(), cfg), true);
    state.hang = true;
    const got = await page.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      const calls = ["A", "B", "C"].map((t) => logger.logUserAction({ uid: "u" }, `BOUND_${t}`));
      await new Promise((r) => setTimeout(r, 200)); // the write is on its way
      const closed = await logger.close(300);
      return { closed, calls: await Promise.all(calls), lastError: logger.lastError ?? null, stats: logger.stats() };
    }, cfg);
    assert.equal(got.closed, false, JSON.stringify(got));
    assert.deepEqual(got.calls, [false, false, false]);
    assert.equal(got.lastError, "timeout: no answer from Neo4j within 300 ms");
    assert.deepEqual([got.stats.committed, got.stats.queued], [0, 3], JSON.stringify(got.stats));
    for (let i = 0; i < 50 && state.cancelled < state.held; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(state.held >= 1 && state.cancelled === state.held, JSON.stringify(state));
    state.hang = false;
    const next = await page.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      const flushed = await logger.flush();
      return { flushed, stats: logger.stats() };
    }, cfg);
    assert.equal(next.flushed, true, JSON.stringify(next));
    assert.equal(next.stats.queued, 0);
    assert.equal(await count(trail), 3);
  } finally {
    proxy.close();
  }
});

test("the app deletes the queue's database at sign-out (deleteDatabase) while loggers of this and another tab hold it: the delete completes and the next logger delivers, in either delivery mode", async () => {
  // Two tabs of one origin (one context: one IndexedDB).
  const ctx = await browser.newContext();
  try {
    const [page, other] = [await ctx.newPage(), await ctx.newPage()];
    for (const p of [page, other]) {
      await p.goto(site.origin);
      await p.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    }
    for (const delivery of ["committed", "queued"]) {
      const trail = unique(`e2e-deleted-db-${delivery}`);
      const cfg = { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery, timeoutMs: 5000,
        queue: { name: unique("e2e-deleted-db") } };
      // Another tab's logger of the queue, still open.
      assert.equal(await other.evaluate(async (cfg) => {
        window.kept = new window.audit.AuditLogger(cfg);
        return window.kept.logUserAction({ uid: "alice" }, "OTHER_TAB");
      }, cfg), true);
      const r = await page.evaluate(async (cfg) => {
        const within = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r("no answer"), ms))]);
        const alice = new window.audit.AuditLogger(cfg);
        const before = await alice.logUserAction({ uid: "alice" }, "BEFORE");
        await alice.close();
        // Sign-out: the app wipes the queue's database.
        const deleted = new Promise((ok) => {
          const r = indexedDB.deleteDatabase(cfg.queue.name);
          r.onsuccess = () => ok("deleted");
          r.onerror = () => ok(String(r.error));
        });
        const bob = new window.audit.AuditLogger(cfg);
        const calls = await within(Promise.all([0, 1, 2].map((n) => bob.logUserAction({ uid: "bob" }, `AFTER_${n}`))), 8000);
        const flushed = await within(bob.flush(), 8000);
        const cleared = await within(bob.clearQueue(), 8000);
        return { before, deleted: await within(deleted, 8000), calls, flushed, cleared, stats: bob.stats(), err: bob.lastError ?? null };
      }, cfg);
      assert.deepEqual([r.before, r.deleted, r.calls, r.flushed, r.cleared], [true, "deleted", [true, true, true], true, 0], JSON.stringify(r));
      const types = (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType ORDER BY e.eventType", { trail })).map((x) => x[0]);
      assert.deepEqual(types, ["AFTER_0", "AFTER_1", "AFTER_2", "BEFORE", "OTHER_TAB"]);
      // The other tab's logger goes on (its database made again).
      assert.equal(await other.evaluate(async () => (await window.kept.logUserAction({ uid: "alice" }, "OTHER_TAB_AGAIN")) && window.kept.flush()), true);
    }
  } finally {
    await ctx.close();
  }
});

test("a queue database that another connection keeps from opening (it ignores a pending deleteDatabase): the logger goes on without the store and delivers", async () => {
  const trail = unique("e2e-open-hangs");
  const cfg = { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery: "queued", timeoutMs: 5000,
    queue: { name: unique("e2e-open-hangs") } };
  const r = await page.evaluate(async (cfg) => {
    const within = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r("no answer"), ms))]);
    // A connection of the page's own code that does not close on versionchange, and a delete it blocks.
    const held = await new Promise((ok) => { const r = indexedDB.open(cfg.queue.name, 1); r.onsuccess = () => ok(r.result); });
    indexedDB.deleteDatabase(cfg.queue.name);
    const logger = new window.audit.AuditLogger(cfg);
    const calls = await within(Promise.all([0, 1].map((n) => logger.logUserAction({ uid: "carol" }, `HUNG_${n}`))), 15000);
    const flushed = await within(logger.flush(), 15000);
    // Given up on once: no further wait of 5 s for each later step while that opening is pending.
    const cleared = await within(logger.clearQueue(), 2000);
    const letters = await within(logger.deadLetters(), 2000);
    held.close();
    return { calls, flushed, cleared, letters, stats: logger.stats(), err: logger.lastError ?? null };
  }, cfg);
  assert.deepEqual([r.calls, r.flushed, r.cleared, r.letters, r.stats.queued], [[true, true], true, 0, [], 0], JSON.stringify(r));
  assert.equal(await count(trail), 2);
});

test("an event with targets waits in IndexedDB while Neo4j answers 503 and the next logger delivers it, targets and all (it was deleted as unreadable)", async () => {
  // Found by an integrity review: a stored record was read back with a nesting bound of 2 (the
  // record, its targets array), so every event with targets was unreadable on the next page: its
  // record deleted, counted as expired, the event never sent (src/machine.rs RECORD_DEPTH).
  const state = { down: true, refused: 0 };
  const proxy = await proxyToNeo4j((_body, res) => {
    if (!state.down) return false;
    state.refused++;
    res.writeHead(503, { "Content-Type": "text/plain" });
    res.end("down for maintenance");
    return true;
  }, { cors: true });
  try {
    const trail = unique("e2e-queued-targets");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail,
      delivery: "queued", queue: { name: `q-${trail}` } };
    const targets = [{ label: "Document", uid: "doc-456", role: "subject" }, { label: "Folder", uid: "f-1" }];
    const first = await page.evaluate(async ({ cfg, targets }) => {
      const logger = new window.audit.AuditLogger(cfg);
      const call = await logger.logUserAction({ uid: "u-targets" }, "DOCUMENT_MOVED", "DOCUMENT", { to: "f-1" }, { targets });
      const closed = await logger.close(300);
      return { call, closed, stats: logger.stats() };
    }, { cfg, targets });
    assert.equal(first.call, true, JSON.stringify(first));
    assert.equal(first.closed, false, JSON.stringify(first));
    assert.ok(state.refused >= 1, JSON.stringify(state));
    assert.equal(first.stats.queued, 1, JSON.stringify(first.stats));
    state.down = false;
    const next = await page.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      const flushed = await logger.flush();
      return { flushed, stats: logger.stats(), lastError: logger.lastError ?? null };
    }, cfg);
    assert.equal(next.flushed, true, JSON.stringify(next));
    assert.deepEqual([next.stats.committed, next.stats.expired, next.stats.queued], [1, 0, 0], JSON.stringify(next.stats));
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, e.targetKeys, e.details",
      { trail });
    assert.deepEqual(rows, [["DOCUMENT_MOVED", "u-targets", ["Document:doc-456", "Folder:f-1"], '{"to":"f-1"}']]);
  } finally {
    proxy.close();
  }
});

test("a page whose indexedDB getter throws (Firefox: a third-party frame with cookies blocked): the logger is made, goes on without the store and delivers", async () => {
  // Found by a new user building a widget: Firefox throws `SecurityError: The operation is
  // insecure.` from the `indexedDB` getter itself (not from `open()`) in a third-party frame when
  // third-party cookies are blocked, or everywhere with cookies disabled. The constructor read it
  // to tell whether there is a store and threw that SecurityError at the page, which the README
  // says happens only for an invalid config. Chromium has no such context: the getter is made to
  // throw as Firefox's does.
  const ctx = await browser.newContext();
  try {
    await ctx.addInitScript(() => {
      Object.defineProperty(window, "indexedDB", { configurable: true,
        get() { throw new DOMException("The operation is insecure.", "SecurityError"); } });
    });
    const p = await ready(ctx);
    for (const delivery of ["committed", "queued"]) {
      const trail = unique(`e2e-idb-getter-${delivery}`);
      const cfg = { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, delivery, queue: { name: `q-${trail}` } };
      const r = await p.evaluate(async (cfg) => {
        const within = (q, ms) => Promise.race([q, new Promise((res) => setTimeout(() => res("no answer"), ms))]);
        let logger;
        try {
          logger = new window.audit.AuditLogger(cfg);
        } catch (e) {
          return { threw: String(e) };
        }
        const calls = await within(Promise.all([0, 1].map((n) => logger.logUserAction({ uid: "dana" }, `NO_IDB_${n}`))), 15000);
        return { calls, flushed: await within(logger.flush(), 15000), cleared: await within(logger.clearQueue(), 5000),
          letters: await within(logger.deadLetters(), 5000), closed: await within(logger.close(), 15000),
          stats: logger.stats(), err: logger.lastError ?? null };
      }, cfg);
      assert.equal(r.threw, undefined, `${delivery}: the constructor threw`);
      assert.deepEqual([r.calls, r.flushed, r.cleared, r.letters, r.closed, r.stats.committed, r.stats.queued],
        [[true, true], true, 0, [], true, 2, 0], JSON.stringify(r));
      const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID ORDER BY e.eventType", { trail });
      assert.deepEqual(rows, [["NO_IDB_0", "dana"], ["NO_IDB_1", "dana"]], delivery);
    }
  } finally {
    await ctx.close();
  }
});

test("events a closed tab left in the queue: a logger already open in another tab delivers them at its flush(), each once, under their own user; the next logger finds nothing", async () => {
  // Found by a new user with two tabs: tab A logged while Neo4j was down and was closed; tab B's
  // logger, made before, went on for minutes and its flush() answered true, and A's events stayed
  // stored (README: flush() "re-sends what the queue holds"): a logger read the store only when it
  // started (and again only for its own backlog past its bounds), so they waited for the next
  // logger made. flush() now reads the logger's scope (target and identity) in the store again and
  // delivers what another tab left there before it answers.
  await inOutage(false, async ({ state, proxy, ctx }) => {
    const trail = unique("e2e-closed-tab");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, queue: { name: `q-${trail}` },
      retry: { maxAttempts: 2, maxElapsedMs: 500, baseDelayMs: 50, maxDelayMs: 100 } };
    const open = () => ready(ctx);
    const tabB = await open();
    assert.equal(await tabB.evaluate(async (cfg) => {
      window.logger = new window.audit.AuditLogger(cfg);
      return window.logger.logUserAction({ uid: "bea" }, "B_BEFORE");
    }, cfg), true);
    state.down = true;
    const tabA = await open();
    const a = await tabA.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      const calls = await Promise.all([1, 2].map((i) => logger.logUserAction({ uid: "ann" }, `A_${i}`)));
      return { calls, queued: logger.stats().queued };
    }, cfg);
    assert.deepEqual(a, { calls: [false, false], queued: 2 });
    await tabA.close({ runBeforeUnload: true });
    await new Promise((r) => setTimeout(r, 1000)); // its pagehide keepalive send meets Neo4j down too
    state.down = false;
    const b = await tabB.evaluate(async () => {
      const call = await window.logger.logUserAction({ uid: "bea" }, "B_AFTER");
      const flushed = await window.logger.flush();
      const { queued, committed } = window.logger.stats();
      return { call, flushed, queued, committed };
    });
    assert.deepEqual(b, { call: true, flushed: true, queued: 0, committed: 4 }, JSON.stringify(b));
    const rows = async () => (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, count(*) ORDER BY e.eventType", { trail }));
    assert.deepEqual(await rows(), [["A_1", "ann", 1], ["A_2", "ann", 1], ["B_AFTER", "bea", 1], ["B_BEFORE", "bea", 1]]);
    // Nothing is left stored: the next logger made finds nothing to send.
    const next = await tabB.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      return { flushed: await logger.flush(), closed: await logger.close(), stats: logger.stats() };
    }, cfg);
    assert.deepEqual([next.flushed, next.closed, next.stats.committed, next.stats.queued], [true, true, 0, 0], JSON.stringify(next));
    assert.equal((await rows()).length, 4);
  });
});

test("events a closed tab left in the queue: a logger whose own events waited through the outage delivers them in the background once Neo4j is back, without flush()", async () => {
  // The background re-send: a drain round that delivered what it re-sent (the server is back)
  // reads the scope again and sends what another tab left meanwhile.
  await inOutage(false, async ({ state, proxy, ctx }) => {
    const trail = unique("e2e-closed-tab-drain");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, queue: { name: `q-${trail}` },
      retry: { maxAttempts: 1 } };
    const open = () => ready(ctx);
    const tabB = await open();
    state.down = true;
    assert.equal(await tabB.evaluate(async (cfg) => {
      window.logger = new window.audit.AuditLogger(cfg);
      return window.logger.logUserAction({ uid: "bea" }, "B_DOWN");
    }, cfg), false);
    const tabA = await open();
    assert.deepEqual(await tabA.evaluate(async (cfg) => {
      const logger = new window.audit.AuditLogger(cfg);
      return Promise.all([1, 2].map((i) => logger.logUserAction({ uid: "ann" }, `A_${i}`)));
    }, cfg), [false, false]);
    await tabA.close({ runBeforeUnload: true });
    await new Promise((r) => setTimeout(r, 1000));
    state.down = false;
    const rows = async () => (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, count(*) ORDER BY e.eventType", { trail }));
    const until = Date.now() + 30_000;
    while ((await rows()).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(await rows(), [["A_1", "ann", 1], ["A_2", "ann", 1], ["B_DOWN", "bea", 1]]);
    const b = await tabB.evaluate(async () => {
      const { queued, committed } = window.logger.stats();
      return { queued, committed };
    });
    assert.deepEqual(b, { queued: 0, committed: 3 }, JSON.stringify(b));
  });
});

test("a queue database that cannot be opened (a sandboxed frame: open() throws SecurityError), Neo4j down: the console says the events are held in memory only; they are delivered from memory once it is back", async () => {
  // Found by a new user embedding the page in a sandboxed iframe (Chromium throws SecurityError from
  // indexedDB.open() there): the calls said false with a network error only, which the README's
  // table reads as "still stored, re-sent by the next logger", but nothing was stored, and unlike a
  // write refused for quota nothing said so: a reload lost them silently.
  await inOutage(true, async ({ state, proxy, ctx }) => {
    await ctx.addInitScript(() => {
      IDBFactory.prototype.open = function () {
        throw new DOMException("Failed to execute 'open' on 'IDBFactory': access to the Indexed Database API is denied in this context.", "SecurityError");
      };
    });
    const p = await ctx.newPage();
    const warnings = [];
    p.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
    await p.goto(site.origin);
    await p.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    const trail = unique("e2e-idb-denied");
    const cfg = { url: proxy.url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, queue: { name: `q-${trail}` },
      retry: { maxAttempts: 2, maxElapsedMs: 500, baseDelayMs: 50, maxDelayMs: 100 } };
    const down = await p.evaluate(async (cfg) => {
      window.logger = new window.audit.AuditLogger(cfg);
      const calls = await Promise.all([1, 2].map((i) => window.logger.logUserAction({ uid: "erin" }, `DENIED_${i}`)));
      return { calls, queued: window.logger.stats().queued };
    }, cfg);
    assert.deepEqual(down, { calls: [false, false], queued: 2 });
    const said = warnings.filter((w) => w.startsWith("neo4j-audit: IndexedDB"));
    assert.equal(said.length, 1, JSON.stringify(warnings));
    assert.match(said[0], /queue "q-e2e-idb-denied-[^"]+" \(SecurityError: .*denied in this context\.\): its events are held in memory only/);
    state.down = false;
    const up = await p.evaluate(async () => ({ flushed: await window.logger.flush(), stats: window.logger.stats() }));
    assert.deepEqual([up.flushed, up.stats.queued], [true, 0], JSON.stringify(up));
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID ORDER BY e.eventType", { trail });
    assert.deepEqual(rows, [["DENIED_1", "erin"], ["DENIED_2", "erin"]]);
  });
});
