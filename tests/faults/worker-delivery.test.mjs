// Delivery through the Worker, proven like the direct path (tests/faults.rs, bench/faults):
// client-mode loggers → a fault-injecting proxy (./fault-proxy.mjs: drop, delay past the timeout,
// 503, 429 + Retry-After, cut after forwarding) → `wrangler dev` (workerd + worker/index.js +
// pkg/) → a REAL Neo4j of its own (instance "faults", HTTP 7475 / Bolt 7688 unless FAULTS_NEO4J_HTTP_PORT / _BOLT_PORT, never the main one)
// that is stopped and restarted mid-run.
//   (a) Node: several loggers, each with its own user token, log FAULTS_EVENTS events concurrently
//       while Neo4j is restarted FAULTS_RESTARTS times; then flush until every queue is empty.
//   (b) Chromium (IndexedDB queue, delivery "queued"): a page logs part of the events, Neo4j is
//       stopped, the page is reloaded while events are still queued, a new logger with the same
//       token logs the rest and Neo4j comes back; the queue drains.
// Both read Neo4j back directly: every event exactly once (matched by eventType + details.n, as
// the Worker derives the stored UID from sub + client UID), under the token's subject, one
// HAS_EVENT from the Worker's trail, nothing left queued.
// Knobs: FAULTS_EVENTS (600), FAULTS_RESTARTS (1), FAULTS_PER_MILLE (100), FAULTS_BROWSER_EVENTS
// (max(60, events/10)), FAULTS_USERS (max(4, events/150)), FAULTS_SEED, FAULTS_RESULT_FILE (append
// one JSON line with the counts; bench/faults-worker sets it). Needs pkg/ (scripts/build).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { cypher as cypherAt, FAULTS_NEO4J, loadPkg, ROOT } from "../node/helpers.mjs";
import { auditPage, launchChromium, serveSite, startWrangler } from "../support/wrangler.mjs";
import { signJwt, nowSecs } from "../worker/jwt.mjs";
import { startFaultProxy } from "./fault-proxy.mjs";

const int = (name, dflt) => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number.parseInt(v, 10);
};
const EVENTS = int("FAULTS_EVENTS", 600);
const RESTARTS = int("FAULTS_RESTARTS", 1);
const PER_MILLE = int("FAULTS_PER_MILLE", 100);
const BROWSER_EVENTS = int("FAULTS_BROWSER_EVENTS", Math.max(60, Math.round(EVENTS / 10)));
const USERS = int("FAULTS_USERS", Math.max(4, Math.ceil(EVENTS / 150)));
const SEED = int("FAULTS_SEED", 0x5eed);
const RESULT_FILE = process.env.FAULTS_RESULT_FILE;
const LARGE = EVENTS > 2000;

const USER = process.env.NEO4J_USER ?? "neo4j";
const PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";
const NEO4J = FAULTS_NEO4J.url;
const SECRET = randomBytes(32).toString("base64url");
const RUN = randomUUID().slice(0, 8);
const TRAIL = `wfaults-${RUN}`;
const NODE_TYPE = `WF_NODE_${RUN}`;
const BROWSER_TYPE = `WF_BROWSER_${RUN}`;
const QUEUE = `neo4j-audit-wfaults-${RUN}`;
// The client gives up on a request after CLIENT_TIMEOUT_MS; the proxy's "delay" fault forwards
// after PROXY_DELAY_MS, i.e. after the client stopped listening (the Worker still writes).
const CLIENT_TIMEOUT_MS = 2500;
const PROXY_DELAY_MS = 3500;
const RETRY = { maxAttempts: 1000, maxElapsedMs: 90_000, baseDelayMs: 50, maxDelayMs: 1000 };
const BATCH = { maxEvents: 50 };
const DRAIN_MS = LARGE ? 600_000 : 120_000;

let worker, browser, site, proxy;
const t0 = Date.now();
const results = {};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cypher = async (statement, parameters = {}) => {
  // Right after a restart Neo4j may close a connection mid-answer: retry a few times.
  for (let i = 1; ; i++) {
    try { return await cypherAt(statement, parameters, NEO4J); } catch (e) {
      if (i >= 5) throw e;
      await sleep(500);
    }
  }
};

/** scripts/neo4j on the faults instance, asynchronously: the loggers and the proxy live in this
 *  process and must keep running while Neo4j stops and starts. */
function neo4jOnce(cmd) {
  return new Promise((resolve) => {
    const p = spawn(`${ROOT}scripts/neo4j`, [cmd], {
      env: FAULTS_NEO4J.env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    p.on("exit", (code) => resolve(code === 0));
    p.on("error", () => resolve(false));
  });
}

/** Starts are tried three times, with a stop in between (as in browser-queue.test.mjs): on a
 *  loaded 2-core machine a start can fail, e.g. while a previous server still holds the store. */
async function neo4j(cmd) {
  const tries = cmd === "start" ? 3 : 1;
  for (let i = 1; ; i++) {
    if (await neo4jOnce(cmd)) return;
    if (i >= tries) throw new Error(`scripts/neo4j ${cmd} (faults instance) failed`);
    console.error(`scripts/neo4j ${cmd} failed (attempt ${i}); stopping and retrying`);
    await neo4jOnce("stop");
    await sleep(3000);
  }
}

async function restartNeo4j(label) {
  const t = Date.now();
  console.error(`worker-delivery: stopping Neo4j (${label})`);
  await neo4j("stop");
  await sleep(1000);
  await neo4j("start");
  console.error(`worker-delivery: Neo4j back after ${((Date.now() - t) / 1000).toFixed(1)} s (${label})`);
}

const token = (sub) => signJwt(SECRET, {
  sub, name: `Name of ${sub}`, aud: "neo4j-audit", iat: nowSecs(), exp: nowSecs() + 3600,
});

const clientConfig = (tok, extra = {}) => ({
  endpoint: `${proxy.url}/v1/events`, token: tok, timeoutMs: CLIENT_TIMEOUT_MS, retry: RETRY, batch: BATCH, ...extra,
});

/** Reads back every event of `type` (whatever trail) and checks it against `expectedSub(n)` for
 *  n in 0..count-1. Returns the counts; asserts nothing. */
async function census(type, count, expectedSub) {
  const rows = await cypher(
    `MATCH (e:AuditEvent {eventType: $type})
     OPTIONAL MATCH (t:AuditTrail)-[r:HAS_EVENT]->(e)
     RETURN e.UID, e.userUID, e.details, e.source, collect(t.name), count(r)`, { type });
  const byN = new Map();
  let badDetails = 0, wrongAuthor = 0, wrongLinks = 0, wrongSource = 0;
  for (const [uid, userUID, details, source, trails, links] of rows) {
    let n;
    try { n = JSON.parse(details).n; } catch {}
    if (!Number.isInteger(n) || n < 0 || n >= count) { badDetails++; continue; }
    if (!byN.has(n)) byN.set(n, []);
    byN.get(n).push(uid);
    if (userUID !== expectedSub(n)) wrongAuthor++;
    if (links !== 1 || trails.length !== 1 || trails[0] !== TRAIL) wrongLinks++;
    if (source !== "worker") wrongSource++;
  }
  let duplicates = 0;
  for (const uids of byN.values()) duplicates += uids.length - 1;
  const uids = new Set(rows.map((r) => r[0]));
  return {
    events: count, stored: rows.length, distinctEvents: byN.size, distinctUids: uids.size,
    duplicates, lost: count - byN.size, wrongAuthor, wrongLinks, wrongSource, badDetails,
  };
}

function assertExactlyOnce(c) {
  const msg = JSON.stringify(c);
  assert.equal(c.lost, 0, `lost events: ${msg}`);
  assert.equal(c.duplicates, 0, `duplicated events: ${msg}`);
  assert.equal(c.stored, c.events, `one node per event: ${msg}`);
  assert.equal(c.distinctUids, c.events, `distinct UIDs: ${msg}`);
  assert.equal(c.wrongAuthor, 0, `events under the wrong user: ${msg}`);
  assert.equal(c.wrongLinks, 0, `one HAS_EVENT from the Worker's trail: ${msg}`);
  assert.equal(c.wrongSource, 0, `written by the Worker: ${msg}`);
  assert.equal(c.badDetails, 0, `details intact: ${msg}`);
}

before(async () => {
  await neo4j("start");
  site = await serveSite(auditPage("worker faults"));
  worker = await startWrangler({
    env: {
      AUDIT_JWT_SECRET: SECRET, NEO4J_URL: NEO4J, NEO4J_USER: USER, NEO4J_PASSWORD: PASSWORD, AUDIT_TRAIL: TRAIL,
      ALLOWED_ORIGINS: site.origin,
      // A short Retry-After on the Worker's 503 (Neo4j down) keeps the test short.
      RETRY_AFTER_SECS: 1,
    },
  });
  proxy = await startFaultProxy(worker.url, { perMille: PER_MILLE, seed: SEED, delayMs: PROXY_DELAY_MS, retryAfterS: 1 });
  browser = await launchChromium();
});

after(async () => {
  // Everything started here is stopped, each step independently of the others.
  const steps = [
    () => browser?.close(),
    () => worker?.stop(),
    () => proxy?.close(),
    () => new Promise((r) => (site ? site.server.close(() => r()) : r())),
    () => neo4j("stop"),
  ];
  for (const s of steps) { try { await s(); } catch (e) { console.error("cleanup:", e); } }
  const total = (k) => (results.node?.[k] ?? 0) + (results.browser?.[k] ?? 0);
  const line = {
    date: new Date().toISOString(), cores: cpus().length, events: EVENTS, browserEvents: BROWSER_EVENTS,
    users: USERS, restarts: RESTARTS, perMille: PER_MILLE, seed: SEED,
    passed: { node: results.nodePassed === true, browser: results.browserPassed === true },
    duplicates: total("duplicates"), lost: total("lost"), wrongAuthor: total("wrongAuthor"),
    queuedAtEnd: (results.node?.queued ?? 0) + (results.browser?.statsAfterReload?.queued ?? 0),
    ...results, proxy: proxy?.counts, proxyFaults: proxy?.faults(), wallSecs: (Date.now() - t0) / 1000,
  };
  console.error(`worker-delivery: ${JSON.stringify(line)}`);
  if (RESULT_FILE) {
    mkdirSync(dirname(RESULT_FILE), { recursive: true });
    appendFileSync(RESULT_FILE, `${JSON.stringify(line)}\n`);
  }
});

test(`Node, client mode: ${EVENTS} events from ${USERS} users, ${PER_MILLE}/1000 proxy faults, ${RESTARTS} Neo4j restart(s): each exactly once under its author`, async () => {
  const start = Date.now();
  const pkg = await loadPkg();
  const subs = Array.from({ length: USERS }, (_, u) => `wf-node-${u}-${RUN}`);
  const loggers = await Promise.all(subs.map(async (s) => new pkg.AuditLogger(clientConfig(await token(s)))));
  const subOf = (n) => subs[n % USERS];
  const committed = () => loggers.reduce((k, l) => k + l.stats().committed, 0);

  // Producers: the events go in slices over a few seconds, so some are logged while Neo4j is down.
  const produceMs = Math.max(6000, EVENTS * 2);
  const slices = Math.max(1, Math.min(60, Math.ceil(EVENTS / 10)));
  const calls = [];
  let produced = false;
  const producer = (async () => {
    for (let s = 0; s < slices; s++) {
      for (let n = Math.floor((s * EVENTS) / slices); n < Math.floor(((s + 1) * EVENTS) / slices); n++) {
        calls.push(loggers[n % USERS].logUserAction(null, NODE_TYPE, "FAULTS", { n }));
      }
      await sleep(produceMs / slices);
    }
    produced = true;
  })();
  // Restarts, spread over the run: the k-th once k/(R+1) of the events are committed.
  const restarter = (async () => {
    for (let k = 1; k <= RESTARTS; k++) {
      const target = Math.floor((k * EVENTS) / (RESTARTS + 1));
      while (committed() < target) await sleep(100);
      await restartNeo4j(`Node run, restart ${k} of ${RESTARTS}, ${committed()} committed, ${produced ? "all" : "not all"} logged`);
    }
  })();
  await producer;
  const outcomes = await Promise.all(calls);
  await restarter;
  const okCalls = outcomes.filter(Boolean).length;

  // Drain: flush every logger until nothing waits (bounded).
  const deadline = Date.now() + DRAIN_MS;
  let pending = loggers.slice();
  while (pending.length && Date.now() < deadline) {
    const done = await Promise.all(pending.map((l) => l.flush()));
    pending = pending.filter((l, i) => !(done[i] && l.stats().queued === 0));
  }
  const stats = loggers.map((l) => l.stats());
  const sum = (k) => stats.reduce((a, s) => a + (s[k] ?? 0), 0);
  const c = await census(NODE_TYPE, EVENTS, subOf);
  results.node = {
    ...c, okCalls, sent: sum("sent"), committed: sum("committed"), retried: sum("retried"), failed: sum("failed"),
    queued: sum("queued"), dropped: sum("dropped"), deadLettered: sum("deadLettered"),
    secs: (Date.now() - start) / 1000, proxyAfterNode: { ...proxy.counts },
  };
  console.error(`worker-delivery (Node): ${JSON.stringify(results.node)}`);
  console.error(`worker-delivery proxy: ${proxy.summary()}`);
  assert.ok(proxy.faults() > 0, "the proxy faulted some requests");
  assertExactlyOnce(c);
  assert.equal(pending.length, 0, `every logger drained: ${JSON.stringify(stats)}`);
  stats.forEach((s, i) => {
    assert.equal(s.queued, 0, `${subs[i]} has nothing queued: ${JSON.stringify(s)}`);
    assert.equal(s.dropped, 0, `${subs[i]}: ${JSON.stringify(s)}`);
    assert.equal(s.deadLettered ?? 0, 0, `${subs[i]}: ${JSON.stringify(s)}`);
  });
  assert.equal(sum("committed"), EVENTS, "each event counted committed once");
  results.nodePassed = true;
});

test(`Chromium, client mode, IndexedDB queue: ${BROWSER_EVENTS} events, Neo4j stopped and the page reloaded mid-run: each exactly once under its author`, async () => {
  const start = Date.now();
  const sub = `wf-browser-${RUN}`;
  const tok = await token(sub);
  const cfg = clientConfig(tok, { delivery: "queued", queue: { name: QUEUE } });
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e));
  const ready = () => page.waitForSelector("body[data-ready=true]", { state: "attached" });
  const stored = () => page.evaluate(async (name) => {
    const db = await new Promise((ok, bad) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
    if (!db.objectStoreNames.contains("events")) { db.close(); return 0; }
    const n = await new Promise((ok, bad) => {
      const r = db.transaction("events").objectStore("events").count();
      r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error);
    });
    db.close();
    return n;
  }, QUEUE);
  /** Logs events [from, to) in the page, a few at a time; resolves the calls' results. */
  const logRange = (from, to) => page.evaluate(async ({ from, to, type }) => {
    const out = [];
    for (let n = from; n < to; n += 10) {
      const batch = [];
      for (let k = n; k < Math.min(to, n + 10); k++) batch.push(window.logger.logUserAction(null, type, "FAULTS", { n: k }));
      out.push(...(await Promise.all(batch)));
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }, { from, to, type: BROWSER_TYPE });

  const third = Math.floor(BROWSER_EVENTS / 3);
  await page.goto(site.origin);
  await ready();
  // The proxy's own 503/429 answers are readable from the page (CORS headers, Retry-After exposed),
  // as the Worker's are: otherwise the browser would see them as network errors.
  const saved = { ...proxy.plan };
  for (const kind of ["429", "503"]) {
    Object.assign(proxy.plan, { perMille: 1000, faults: [kind] });
    const seen = await page.evaluate(async ({ url, tok }) => {
      try {
        const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok}` },
          body: JSON.stringify({ events: [] }) });
        return { status: r.status, retryAfter: r.headers.get("Retry-After") };
      } catch (e) { return { error: String(e) }; }
    }, { url: `${proxy.url}/v1/events`, tok });
    assert.deepEqual(seen, { status: Number(kind), retryAfter: "1" }, `the proxy's ${kind} as the page sees it`);
  }
  Object.assign(proxy.plan, saved);
  await page.evaluate((cfg) => { window.logger = new window.audit.AuditLogger(cfg); }, cfg);
  // 1. Neo4j up: the first third.
  const r1 = await logRange(0, third);
  const deliveredBefore = await page.evaluate(async (want) => {
    const end = Date.now() + 30_000;
    while (window.logger.stats().committed < want && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    return window.logger.stats();
  }, Math.floor(third / 2));
  // 2. Neo4j down: the second third waits in IndexedDB; the page is reloaded while it waits.
  await neo4j("stop");
  const r2 = await logRange(third, 2 * third);
  await sleep(1000);
  const statsBeforeReload = await page.evaluate(() => window.logger.stats());
  const storedBeforeReload = await stored();
  assert.ok(storedBeforeReload > 0, `events are still queued at the reload: ${JSON.stringify(statsBeforeReload)}`);
  await page.reload();
  await ready();
  const storedAfterReload = await stored();
  assert.ok(storedAfterReload >= storedBeforeReload, `the queue survives the reload (${storedAfterReload} of ${storedBeforeReload})`);
  // 3. The reloaded page: a new logger with the same token re-sends what is stored and logs the
  //    rest; Neo4j comes back meanwhile.
  await page.evaluate((cfg) => { window.logger = new window.audit.AuditLogger(cfg); }, cfg);
  const starting = neo4j("start");
  const r3 = await logRange(2 * third, BROWSER_EVENTS);
  await starting;
  const drained = await page.evaluate(async (ms) => {
    const end = Date.now() + ms;
    let flushed = false;
    while (!(flushed && window.logger.stats().queued === 0) && Date.now() < end) flushed = await window.logger.flush();
    return { flushed, stats: window.logger.stats() };
  }, DRAIN_MS);
  const storedAtEnd = await stored();
  await page.close();

  const results_ = [...r1, ...r2, ...r3];
  const c = await census(BROWSER_TYPE, BROWSER_EVENTS, () => sub);
  results.browser = {
    ...c, storedAfterFirst: deliveredBefore.committed, queuedAtReload: storedBeforeReload,
    statsAfterReload: drained.stats, storedAtEnd, secs: (Date.now() - start) / 1000,
  };
  console.error(`worker-delivery (Chromium): ${JSON.stringify(results.browser)}`);
  console.error(`worker-delivery proxy: ${proxy.summary()}`);
  assert.deepEqual(results_, Array(BROWSER_EVENTS).fill(true), "queued mode resolves true once stored");
  assertExactlyOnce(c);
  assert.equal(drained.flushed, true, JSON.stringify(drained.stats));
  assert.equal(drained.stats.queued, 0, JSON.stringify(drained.stats));
  assert.equal(drained.stats.dropped, 0, JSON.stringify(drained.stats));
  assert.equal(drained.stats.deadLettered ?? 0, 0, JSON.stringify(drained.stats));
  assert.equal(storedAtEnd, 0, "IndexedDB is empty at the end");
  results.browserPassed = true;
});
