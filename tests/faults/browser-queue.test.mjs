// The durable browser queue, end to end in real headless Chromium (playwright-core, Debian's
// /usr/bin/chromium) against a REAL Neo4j that is stopped and started: events are logged while
// Neo4j is down (delivery "queued": stored in IndexedDB), the page is reloaded, Neo4j is started,
// and a new logger on the reloaded page delivers every event exactly once, with the UIDs and
// timestamps the events were born with. Uses its own Neo4j instance (faults, HTTP 7475 unless FAULTS_NEO4J_HTTP_PORT), never
// the main one. Needs pkg/ (scripts/build).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequestTo } from "node:http";
import { readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { cypher as cypherAt, FAULTS_NEO4J } from "../node/helpers.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const USER = process.env.NEO4J_USER ?? "neo4j";
const PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";
const NEO4J = FAULTS_NEO4J.url;
const TRAIL = `bqueue-${randomUUID()}`;
const QUEUE_NAME = `neo4j-audit-test-${randomUUID()}`;
const N = 30;
// The built package (scripts/build); PKG_DIR overrides it (e.g. a private build while iterating).
const PKG_DIR = process.env.PKG_DIR ?? `${ROOT}pkg`;

const run = (cmd) => execFileSync(`${ROOT}scripts/neo4j`, [cmd], {
  env: FAULTS_NEO4J.env,
  stdio: ["ignore", "inherit", "inherit"],
});

/** Starts are tried three times, with a stop in between: on a loaded 2-core machine a start can
 *  fail (scripts/neo4j prints why), e.g. while a previous server still holds the store. */
function neo4j(cmd, tries = cmd === "start" ? 3 : 1) {
  for (let i = 1; ; i++) {
    try {
      return run(cmd);
    } catch (e) {
      if (i >= tries) throw e;
      console.error(`scripts/neo4j ${cmd} failed (attempt ${i}); stopping and retrying`);
      run("stop");
      execFileSync("sleep", ["3"]);
    }
  }
}

const cypher = (statement, parameters = {}) => cypherAt(statement, parameters, NEO4J);

const PAGE = `<!doctype html><meta charset="utf-8"><title>queue</title>
<script type="module">
  import init, { AuditLogger } from "/pkg/neo4j_audit.js";
  await init();
  window.AuditLogger = AuditLogger;
  document.body.dataset.ready = "true";
</script><body></body>`;

let server, base, browser, page;

before(async () => {
  neo4j("stop"); // Neo4j is down while the events are logged
  server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE);
    }
    if (!/^\/pkg\/[\w./-]+$/.test(path) || path.includes("..")) { res.writeHead(404); return res.end(); }
    try {
      const body = await readFile(`${PKG_DIR}/${path.slice("/pkg/".length)}`);
      const type = path.endsWith(".wasm") ? "application/wasm" : "text/javascript";
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    } catch { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
});

after(async () => {
  await browser?.close();
  server?.close();
  neo4j("stop");
});

const cfg = { url: NEO4J, username: USER, password: PASSWORD, trail: TRAIL, timeoutMs: 1000,
  delivery: "queued", queue: { name: QUEUE_NAME },
  retry: { maxAttempts: 3, maxElapsedMs: 2000, baseDelayMs: 50, maxDelayMs: 200 } };

/** The records of an IndexedDB queue (the test's unless `name` says), read straight from IndexedDB in `p`. */
async function storedInBrowser(p = page, name = QUEUE_NAME) {
  return p.evaluate(async (name) => {
    const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
    if (!db.objectStoreNames.contains("events")) { db.close(); return []; }
    const all = await new Promise((ok, bad) => {
      const r = db.transaction("events").objectStore("events").getAll();
      r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error);
    });
    db.close();
    return all.map((s) => JSON.parse(s));
  }, name);
}

test("events logged while Neo4j is down survive a reload and are delivered once when it is back", async () => {
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  const before = await page.evaluate(async ({ cfg, n }) => {
    const logger = new AuditLogger(cfg);
    const results = await Promise.all(Array.from({ length: n }, (_, i) =>
      logger.logUserAction({ uid: "queue-user" }, "QUEUED_WHILE_DOWN", "TEST", { i })));
    // Neo4j is down: delivery fails in the background and the events stay queued.
    await new Promise((r) => setTimeout(r, 3000));
    return { results, stats: logger.stats(), flushed: await logger.flush() };
  }, { cfg, n: N });
  assert.deepEqual(before.results, Array(N).fill(true), "queued mode resolves true once stored");
  assert.equal(before.flushed, false, "flush cannot deliver while Neo4j is down");
  assert.equal(before.stats.queued, N, JSON.stringify(before.stats));
  assert.equal(before.stats.committed, 0);
  assert.ok(before.stats.failed >= N, JSON.stringify(before.stats));
  const queued = await storedInBrowser();
  assert.equal(queued.length, N, "all events are in IndexedDB");

  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  assert.equal((await storedInBrowser()).length, N, "still queued after the reload");
  // The new page's logger starts re-sending at once (Neo4j still down), then Neo4j comes up.
  await page.evaluate((cfg) => { window.logger = new AuditLogger(cfg); }, cfg);
  neo4j("start");
  const after = await page.evaluate(async () => {
    const deadline = Date.now() + 60_000;
    let flushed = false;
    while (!flushed && Date.now() < deadline) flushed = await window.logger.flush();
    return { flushed, stats: window.logger.stats() };
  });
  assert.equal(after.flushed, true, JSON.stringify(after.stats));
  assert.equal(after.stats.committed, N, JSON.stringify(after.stats));
  assert.equal(after.stats.queued, 0);
  assert.equal((await storedInBrowser()).length, 0, "the queue is empty once committed");

  const rows = await cypher(
    `MATCH (:AuditTrail {name: $trail})-[r:HAS_EVENT]->(e:AuditEvent)
     RETURN e.UID, e.timestamp.epochMillis, count(r)`, { trail: TRAIL });
  assert.equal(rows.length, N, "one node per event");
  assert.ok(rows.every((r) => r[2] === 1), "one HAS_EVENT per event");
  const stored = new Map(rows.map((r) => [r[0], r[1]]));
  for (const ev of queued) {
    assert.equal(stored.get(ev.UID), ev.ts, `event ${ev.UID} stored with its original UID and timestamp`);
  }
  const dup = await cypher("UNWIND $uids AS u MATCH (e:AuditEvent {UID: u}) RETURN count(e)", { uids: queued.map((e) => e.UID) });
  assert.equal(dup[0][0], N, "no duplicate nodes");
});

test("on pagehide, pending events go out with fetch keepalive", async () => {
  // Neo4j is up now (previous test). Events wait in the batch buffer (a 60 s flush interval) and in
  // IndexedDB; leaving the page fires pagehide, which sends them with keepalive.
  const trail = `bkeepalive-${randomUUID()}`;
  const kcfg = { ...cfg, trail, queue: { name: `${QUEUE_NAME}-k` }, batch: { flushIntervalMs: 60_000 } };
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  const res = await page.evaluate(async (kcfg) => {
    const logger = new AuditLogger(kcfg);
    await logger.ensureSchema();
    const r = await Promise.all([1, 2, 3, 4, 5].map((i) => logger.logUserAction(null, "BEFORE_UNLOAD", "TEST", { i })));
    return { r, stats: logger.stats() };
  }, kcfg);
  assert.deepEqual(res.r, [true, true, true, true, true]);
  assert.equal(res.stats.committed, 0, "nothing sent yet: " + JSON.stringify(res.stats));
  await page.goto("about:blank");
  let n = 0;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    n = (await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN count(e)", { trail }))[0][0];
    if (n === 5) break;
  }
  assert.equal(n, 5, "the keepalive request delivered the pending events");
});

test("a committed call still unanswered after STORE_AFTER_MS is stored, and survives a renderer crash", async () => {
  // Committed delivery stores an event only when it must (src/queue/mod.rs, STORE_AFTER_MS = 250):
  // here its answer is held back by a proxy, the tab then crashes (no pagehide, the request never
  // reaches Neo4j), and the next page's logger must deliver the stored event exactly once.
  const trail = `bcrash-${randomUUID()}`;
  const qname = `${QUEUE_NAME}-crash`;
  let hold = false;
  const held = [];
  const proxy = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const forward = () => {
        const up = new URL(req.url, NEO4J);
        const out = httpRequestTo(up, { method: req.method, headers: { ...req.headers, host: up.host } }, (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        });
        out.on("error", () => res.destroy());
        out.end(Buffer.concat(chunks));
      };
      if (hold && req.method === "POST") held.push(req); // never forwarded: lost with the tab
      else forward();
    });
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  const ccfg = { ...cfg, url: proxyUrl, trail, delivery: "committed", queue: { name: qname } };
  let context;
  try {
    // One context for the crashed page and the next one (they share IndexedDB); a page of the
    // context's own, since crashing a renderer takes every page it serves with it.
    context = await browser.newContext();
    const crashPage = await context.newPage();
    await crashPage.goto(base);
    await crashPage.waitForSelector("body[data-ready=true]", { state: "attached" });
    assert.equal(await crashPage.evaluate(async (ccfg) => {
      window.logger = new AuditLogger(ccfg);
      return window.logger.ensureSchema();
    }, ccfg), true);
    hold = true;
    await crashPage.evaluate(() => { window.logger.logUserAction({ uid: "crash-user" }, "BEFORE_CRASH", "TEST", { i: 1 }); });
    // Wait (well past STORE_AFTER_MS) until the held request arrived and the event is in IndexedDB.
    let stored = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      stored = await storedInBrowser(crashPage, qname);
      if (stored.length === 1 && held.length === 1) break;
    }
    assert.equal(held.length, 1, "the event's request reached the proxy and is held");
    assert.equal(stored.length, 1, "an unanswered committed call is stored in IndexedDB");
    const cdp = await crashPage.context().newCDPSession(crashPage);
    // The renderer dies (no pagehide, no keepalive); Page.crash itself never answers.
    const crashed = new Promise((r) => crashPage.once("crash", r));
    cdp.send("Page.crash").catch(() => {});
    await crashed;
    await crashPage.close().catch(() => {});
    for (const req of held) req.socket.destroy();
    hold = false;

    // The next page: a logger on the same queue delivers the stored event, once.
    const next = await context.newPage();
    await next.goto(base);
    await next.waitForSelector("body[data-ready=true]", { state: "attached" });
    const after = await next.evaluate(async (ccfg) => {
      const logger = new AuditLogger(ccfg);
      const deadline = Date.now() + 30_000;
      let flushed = false;
      while (!flushed && Date.now() < deadline) flushed = await logger.flush();
      return { flushed, stats: logger.stats() };
    }, ccfg); // the same target (the proxy, now forwarding): the queue is per target and identity
    assert.equal(after.flushed, true, JSON.stringify(after.stats));
    const rows = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, e.eventType", { trail });
    assert.equal(rows.length, 1, "delivered exactly once");
    assert.deepEqual(rows[0], [stored[0].UID, "BEFORE_CRASH"], "the stored event, with its UID");
  } finally {
    await context?.close();
    proxy.closeAllConnections();
    proxy.close();
  }
});
