// Events that wait in the IndexedDB queue across a change of configuration between page loads, in
// real headless Chromium against the real Neo4j (read back independently): a queued event is sent
// only by a logger configured for the place it was logged for. The page is served by a small
// server on one origin that also forwards /db/... to Neo4j, or answers 503 while "down", so the
// logger's `url` (part of the queue's scope) stays the same while Neo4j is unreachable for it.
// Needs pkg/ (scripts/build) and Neo4j (scripts/neo4j start). E2E_PORT picks the server's port
// (default: a free one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, loadPkg, unique, cypher } from "../node/helpers.mjs";
import { auditPage, launchChromium, serveSite } from "../support/wrangler.mjs";

const PAGE = auditPage("queue config e2e");
const state = { up: false };
let server, origin, browser, context, page;

before(async () => {
  // /db/...: forwarded to Neo4j while up, 503 while down.
  const site = await serveSite(PAGE, Number(process.env.E2E_PORT ?? 0), async (req, res) => {
    if (!req.url.startsWith("/db/")) return false;
    // Down or up as the request arrives: decided after its body was read, a request sent while
    // down but read on a loaded machine after the test had put Neo4j back up was forwarded, and
    // delivered the queued events before the other configurations were tried (seen once in CI).
    const up = state.up;
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (!up) {
      res.writeHead(503, { "Content-Type": "text/plain" });
      res.end("down");
      return true;
    }
    const upstream = await fetch(`${NEO4J_URL}${req.url}`, {
      method: req.method, body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
      headers: { "content-type": "application/json", accept: "application/json", authorization: req.headers.authorization ?? "" },
    });
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
    return true;
  });
  ({ server, origin } = site);
  // No back/forward cache: a page left for about:blank is then gone, not kept frozen. Now and then
  // (3 runs in 20 with two runs at once) an event logged by the left page was sent once Neo4j was
  // back up, while the next page loaded. The cause was the library's: a logger whose close() had
  // answered false sent what it left once more when the garbage collector freed it (fixed in
  // src/wasm/mod.rs Drop; tests/node/integrity.test.mjs "after close(), nothing more is sent").
  browser = await launchChromium(["--disable-features=BackForwardCache"]);
  context = await browser.newContext();
  page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** A fresh page load (the old page's loggers are gone with it). */
async function load() {
  await page.goto(origin);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
}

/** In the page: a logger of `cfg` logs `types` as `user` or, with none, sends what it finds
 *  queued, and is closed; answers the calls, close(), stats() and lastError. */
const inPage = (cfg, user, types = []) =>
  page.evaluate(async ({ cfg, user, types }) => {
    const logger = new window.audit.AuditLogger(cfg);
    const calls = await Promise.all(types.map((t) => logger.logUserAction({ uid: user }, t)));
    const closed = await logger.close();
    return { calls, closed, stats: logger.stats(), lastError: logger.lastError ?? null };
  }, { cfg, user, types });

const base = (trail, queue) => ({
  url: origin, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, queue: { name: queue }, timeoutMs: 2000,
  retry: { maxAttempts: 2, maxElapsedMs: 300, baseDelayMs: 10, maxDelayMs: 50 },
});

/** Every link of the events of `trail` (any trail label): [trail label, eventType, user labels]. */
const links = async (trail) =>
  (await cypher(
    `MATCH (t {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) OPTIONAL MATCH (e)-[:PERFORMED_BY]->(u)
     RETURN labels(t)[0], e.eventType, labels(u)[0] ORDER BY e.eventType, labels(t)[0]`,
    { trail },
  ));

test("a queued event is sent only by a logger with the trail and user labels it was logged for", async () => {
  // Found by redteam16: the queue's scope held the URL, database, event label, trail name and
  // identity, but not the trail and user labels, so a page whose next version changed
  // `labels.trail` / `labels.user` sent the events the previous version queued into another trail
  // node (and another user label) than the one they were logged for.
  const trail = unique("e2e-qcfg-labels");
  const queue = unique("q");
  const alice = unique("alice");
  // Alice exists under both user labels, so PERFORMED_BY shows which one an event was written for.
  await cypher("CREATE (:User {UID: $u}), (:Person16 {UID: $u})", { u: alice });
  state.up = false;
  await load();
  const logged = await inPage(base(trail, queue), alice, ["WAITED_A", "WAITED_B"]);
  assert.deepEqual(logged.calls, [false, false], JSON.stringify(logged));
  assert.equal(logged.stats.queued, 2, JSON.stringify(logged));
  // Away from the page while still down (its pagehide keepalive meets the 503), then back up.
  await page.goto("about:blank");
  await new Promise((r) => setTimeout(r, 500));
  state.up = true;
  await load();
  // Other labels (the bug), and the other parts of the target (held before): none sends them.
  const others = [{ labels: { trail: "Ledger16", user: "Person16" } }, { labels: { trail: "Ledger16" } },
    { labels: { user: "Person16" } }, { trail: `${trail}-v2` }, { database: "other16" }];
  for (const change of others) {
    const other = await inPage({ ...base(trail, queue), ...change }, alice);
    assert.equal(other.stats.sent, 0, `${JSON.stringify(change)}: ${JSON.stringify(other)}`);
  }
  assert.deepEqual(await links(trail), []);
  // The configuration they were logged for sends them, once, where they belong.
  const same = await inPage(base(trail, queue), alice);
  assert.equal(same.closed, true, JSON.stringify(same));
  assert.equal(same.stats.committed, 2, JSON.stringify(same));
  assert.deepEqual(await links(trail), [["AuditTrail", "WAITED_A", "User"], ["AuditTrail", "WAITED_B", "User"]]);
});

test("a queued record edited in IndexedDB is delivered as edited (or unchained) and verifyTrail names it; a broken one is removed unsent", async () => {
  // redteam16: a queued event's hash was made when it was logged, so an event changed in storage
  // (another userUID, other details) no longer hashes to it; a record that is no event at all is
  // removed and counted in `expired`, never sent.
  const trail = unique("e2e-qcfg-edited");
  const queue = unique("q");
  state.up = false;
  await load();
  const logged = await inPage(base(trail, queue), "alice", ["E1", "E2", "E3", "E4"]);
  assert.equal(logged.stats.queued, 4, JSON.stringify(logged));
  const edited = await page.evaluate(async (name) => {
    const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
    const store = () => db.transaction("events", "readwrite").objectStore("events");
    const [keys, values] = await Promise.all(["getAllKeys", "getAll"].map((m) => new Promise((ok) => { const r = store()[m](); r.onsuccess = () => ok(r.result); })));
    const byType = Object.fromEntries(values.map((v, i) => [JSON.parse(v).eventType, [keys[i], JSON.parse(v)]]));
    const [k2, e2] = byType.E2;
    Object.assign(e2, { userUID: "mallory", details: '{"changed":true}' });
    const tx = db.transaction("events", "readwrite");
    tx.objectStore("events").put(JSON.stringify(e2), k2);
    tx.objectStore("events").put("{not an event", byType.E3[0]);
    // E4 with its chain fields taken away, as a bare event.
    const [k4, e4] = byType.E4;
    tx.objectStore("events").put(JSON.stringify({ ...e4, streamId: null, seq: null, prevHash: null, hash: null }), k4);
    await new Promise((ok) => (tx.oncomplete = ok));
    db.close();
    return { uid: e2.UID, bare: e4.UID };
  }, queue);
  await page.goto("about:blank");
  await new Promise((r) => setTimeout(r, 500));
  state.up = true;
  await load();
  const sent = await inPage(base(trail, queue), "alice");
  assert.equal(sent.closed, true, JSON.stringify(sent));
  assert.deepEqual([sent.stats.committed, sent.stats.expired, sent.stats.queued], [3, 1, 0], JSON.stringify(sent));
  const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType, e.userUID ORDER BY e.eventType", { trail });
  assert.deepEqual(rows, [["E1", "alice"], ["E2", "mallory"], ["E4", "alice"]]);
  const { AuditLogger } = await loadPkg("verify");
  const reader = new AuditLogger({ url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail });
  const report = await reader.verifyTrail();
  assert.equal(report.ok, false, JSON.stringify(report));
  assert.equal(report.streams.length, 1, JSON.stringify(report));
  assert.deepEqual([report.streams[0].firstBreak.kind, report.streams[0].firstBreak.uid], ["edited", edited.uid], JSON.stringify(report));
  assert.deepEqual([report.unchained, report.unchainedUids], [1, [edited.bare]], JSON.stringify(report));
});

/** Two tabs of alice (one browser context, so one IndexedDB) with a logger each while Neo4j is
 *  unreachable: the first logs two events, the second's logger loads them from the queue; then
 *  `clearIn` ("first" or "both") call clearQueue(), Neo4j comes back and the second tab flushes.
 *  Answers the trail's events and the second logger's stats. */
async function clearAcrossTabs(clearIn) {
  const trail = unique("e2e-qcfg-clear");
  const cfg = base(trail, unique("q"));
  state.up = false;
  await load();
  const other = await context.newPage();
  try {
    await other.goto(origin);
    await other.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    const logged = await page.evaluate(async (cfg) => {
      window.l1 = new window.audit.AuditLogger(cfg);
      return Promise.all(["C1", "C2"].map((t) => window.l1.logUserAction({ uid: "alice" }, t)));
    }, cfg);
    assert.deepEqual(logged, [false, false]);
    const loaded = await other.evaluate(async (cfg) => {
      window.l2 = new window.audit.AuditLogger(cfg);
      await window.l2.flush();
      return window.l2.stats();
    }, cfg);
    assert.equal(loaded.queued, 2, JSON.stringify(loaded));
    assert.equal(await page.evaluate(() => window.l1.clearQueue()), 2);
    if (clearIn === "both") await other.evaluate(() => window.l2.clearQueue());
    // The other tab hears of the clear a moment later (it waits at most 3 s for its queue to empty).
    await other.evaluate(async () => {
      for (let i = 0; i < 60 && window.l2.stats().queued > 0; i++) await new Promise((r) => setTimeout(r, 50));
    });
    state.up = true;
    const stats = await other.evaluate(async () => (await window.l2.flush(), window.l2.stats()));
    const rows = (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType", { trail })).map((r) => r[0]);
    return { rows, stats };
  } finally {
    await other.close();
  }
}

test("clearQueue() in one tab also clears what another tab's logger of the same identity loaded", async () => {
  // Found by redteam16: clearQueue() removed the stored records and this logger's events, but a
  // logger of the same identity in another tab kept what it had loaded and sent it (C1, C2 were
  // written). The clear is now told to the queue's other loggers (BroadcastChannel).
  const { rows, stats } = await clearAcrossTabs("first");
  assert.deepEqual(rows, []);
  assert.deepEqual([stats.queued, stats.dropped], [0, 2], JSON.stringify(stats));
});

test("sign-out in two tabs, clearQueue() in each: nothing of what waited is sent", async () => {
  assert.deepEqual((await clearAcrossTabs("both")).rows, []);
});
