// The durable queue in client mode, all real: headless Chromium (IndexedDB, page reloads) →
// `wrangler dev` (workerd + worker/index.js + pkg/) → the real Neo4j, read back independently.
//   - an event queued by alice is never delivered with bob's token (it waits for alice);
//   - a token refresh: a new logger with the new token sends what the expired one could not;
//   - an event the Worker rejects for good goes to the dead letters and holds back nothing;
//   - queued events older than queue.maxAgeMs are removed, whoever owns them;
//   - clearQueue() removes the signed-out user's waiting events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { cypher, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { auditPage, freePort, launchChromium, serveSite, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const TRAIL = `queue-e2e-${randomUUID()}`;
const QUEUE = `neo4j-audit-e2e-${randomUUID()}`;
// The Worker here is stricter than the client's rule table (version skew / operator config).
const WORKER_MAX_DETAILS = 300;

let worker, browser, site, workerPort, workerUrl, downUrl;

async function trailEvents() {
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID ORDER BY e.eventType",
    { trail: TRAIL },
  );
  return rows.map(([type, user]) => ({ type, user }));
}

/** Starts the Worker on workerPort (the loggers already point there); it stays up for the
 *  following tests. */
async function startWorker() {
  worker = await startWrangler({
    port: workerPort,
    env: {
      AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: TRAIL,
      ALLOWED_ORIGINS: site.origin, MAX_DETAILS_BYTES: WORKER_MAX_DETAILS,
    },
    readyPath: "/v1/events", readyMethod: "OPTIONS",
  });
}

const token = (sub) => signJwt(SECRET, {
  sub, name: `Name of ${sub}`, aud: "neo4j-audit", iat: nowSecs(), exp: nowSecs() + 600,
});

async function openPage() {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e));
  await page.goto(site.origin);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  return page;
}

async function reload(page) {
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
}

/** Makes `window.logger` in `page` with `cfg` (client mode by default) and waits for the queue
 *  to have loaded what is stored. */
async function newLogger(page, cfg) {
  await page.evaluate(async (cfg) => {
    window.logger = new window.audit.AuditLogger(cfg);
    await new Promise((r) => setTimeout(r, 400)); // recovery reads IndexedDB in the background
  }, cfg);
}

const client = (tok, extra = {}) => ({
  endpoint: `${workerUrl}/v1/events`, token: tok, queue: { name: QUEUE }, retry: { maxAttempts: 1 }, ...extra,
});

before(async () => {
  site = await serveSite(auditPage("queue e2e"));
  workerPort = await freePort();
  workerUrl = `http://127.0.0.1:${workerPort}`;
  downUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  site?.server.close();
});

test("an event queued by alice is never sent with bob's token; it waits for alice", async () => {
  const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
  const [aliceTok, bobTok] = [await token(alice), await token(bob)];
  const page = await openPage();
  // The Worker is down: alice's event waits in IndexedDB.
  await newLogger(page, client(aliceTok, { delivery: "queued" }));
  const stored = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "ALICE_SECRET_ACTION", "SECURITY", { doc: "d-1" });
    await new Promise((r) => setTimeout(r, 300));
    return { ok, queued: window.logger.stats().queued };
  });
  assert.deepEqual(stored, { ok: true, queued: 1 });

  // The page reloads (alice's logger is gone, her event stays in IndexedDB), the Worker comes back,
  // and bob signs in: his logger sends his own events only.
  await reload(page);
  await startWorker();
  await newLogger(page, client(bobTok));
  const bobRun = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "BOB_ACTION");
    const flushed = await window.logger.flush();
    return { ok, flushed, stats: window.logger.stats(), err: window.logger.lastError ?? null };
  });
  assert.equal(bobRun.ok, true, bobRun.err);
  assert.equal(bobRun.flushed, true);
  assert.equal(bobRun.stats.queued, 0, "alice's event is not bob's to send");
  assert.deepEqual(await trailEvents(), [{ type: "BOB_ACTION", user: bob }]);

  // Alice comes back: her event is delivered, under her name.
  await reload(page);
  await newLogger(page, client(aliceTok));
  const aliceRun = await page.evaluate(async () => ({ flushed: await window.logger.flush(), stats: window.logger.stats() }));
  assert.equal(aliceRun.flushed, true);
  assert.equal(aliceRun.stats.queued, 0);
  assert.deepEqual(await trailEvents(), [{ type: "ALICE_SECRET_ACTION", user: alice }, { type: "BOB_ACTION", user: bob }]);
  await page.close();
});

test("a token refresh in the same tab: what the expired token's logger could not send goes out with the new logger", async () => {
  // (Runs after the first test: the Worker is up.) The README's recipe: a logger keeps its token,
  // so on a refresh the app closes it and makes a new one; same identity, so it re-sends.
  const carol = `carol-${randomUUID()}`;
  const expired = await signJwt(SECRET, {
    sub: carol, name: `Name of ${carol}`, aud: "neo4j-audit", iat: nowSecs() - 900, exp: nowSecs() - 300,
  });
  const page = await openPage();
  await newLogger(page, client(expired));
  const stale = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "CAROL_BEFORE_REFRESH", "SECURITY");
    const err = window.logger.lastError;
    const closed = await window.logger.close();
    return { ok, err, closed, queued: window.logger.stats().queued };
  });
  assert.equal(stale.ok, false);
  assert.match(stale.err, /^authentication failed: HTTP 401 \(unauthorized: token has expired\)/);
  assert.deepEqual([stale.closed, stale.queued], [false, 1]);
  await newLogger(page, client(await token(carol)));
  const fresh = await page.evaluate(async () => ({ flushed: await window.logger.flush(), stats: window.logger.stats() }));
  assert.equal(fresh.flushed, true);
  assert.equal(fresh.stats.queued, 0);
  assert.deepEqual((await trailEvents()).filter((e) => e.user === carol), [{ type: "CAROL_BEFORE_REFRESH", user: carol }]);
  await page.close();
});

test("an event the Worker rejects goes to the dead letters and holds back nothing", async () => {
  assert.ok(worker, "the Worker runs (previous test)");
  const carol = `carol-${randomUUID()}`;
  const page = await openPage();
  await newLogger(page, client(await token(carol), { batch: { flushIntervalMs: 300 } }));
  const run = await page.evaluate(async (bigLen) => {
    const l = window.logger;
    // One batch of three; the middle one passes the client's rules but not this Worker's limit.
    const results = await Promise.all([
      l.logUserAction(null, "CAROL_BEFORE"),
      l.logUserAction(null, "CAROL_TOO_BIG", null, { blob: "x".repeat(bigLen) }),
      l.logUserAction(null, "CAROL_AFTER"),
    ]);
    await l.flush();
    return { results, stats: l.stats(), dead: await l.deadLetters() };
  }, 2 * WORKER_MAX_DETAILS);
  assert.deepEqual(run.results, [true, false, true]);
  assert.equal(run.stats.deadLettered, 1);
  assert.equal(run.stats.queued, 0, "the rejected event left the queue");
  assert.equal(run.dead.length, 1);
  assert.equal(run.dead[0].event.eventType, "CAROL_TOO_BIG");
  assert.match(run.dead[0].reason, /rejected by the endpoint \(HTTP 413\)/);
  // After a reload: not re-sent, still readable as a dead letter.
  await reload(page);
  await newLogger(page, client(await token(carol)));
  const again = await page.evaluate(async () => ({
    flushed: await window.logger.flush(), stats: window.logger.stats(), dead: await window.logger.deadLetters(),
  }));
  assert.equal(again.flushed, true);
  assert.equal(again.stats.sent, 0, "nothing re-sent");
  assert.deepEqual(again.dead.map((d) => d.event.eventType), ["CAROL_TOO_BIG"]);
  const mine = (await trailEvents()).filter((e) => e.user === carol).map((e) => e.type);
  assert.deepEqual(mine, ["CAROL_AFTER", "CAROL_BEFORE"]);
  await page.close();
});

test("events older than queue.maxAgeMs are removed whoever owns them; clearQueue() empties a user's queue", async () => {
  const [dave, erin] = [`dave-${randomUUID()}`, `erin-${randomUUID()}`];
  const page = await openPage();
  const down = (tok, extra) => ({ ...client(tok, extra), endpoint: `${downUrl}/v1/events` });
  // dave's event waits (endpoint down) ...
  await newLogger(page, down(await token(dave), { delivery: "queued" }));
  assert.equal(await page.evaluate(() => window.logger.logUserAction(null, "DAVE_OLD")), true);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 1500)));
  // ... longer than erin's logger allows: it is removed when erin's logger opens the store.
  await reload(page);
  await newLogger(page, down(await token(erin), { queue: { name: QUEUE, maxAgeMs: 1000 } }));
  assert.equal(await page.evaluate(() => window.logger.stats().expired), 1);
  await reload(page);
  await newLogger(page, down(await token(dave)));
  assert.equal(await page.evaluate(() => window.logger.stats().queued), 0, "dave's expired event is gone");

  // clearQueue (sign-out): erin's two waiting events are removed, in storage too.
  await newLogger(page, down(await token(erin), { delivery: "queued" }));
  const cleared = await page.evaluate(async () => {
    const l = window.logger;
    await l.logUserAction(null, "ERIN_1");
    await l.logUserAction(null, "ERIN_2");
    await new Promise((r) => setTimeout(r, 300));
    const before = l.stats().queued;
    const n = await l.clearQueue();
    return { before, n, after: l.stats() };
  });
  assert.deepEqual([cleared.before, cleared.n, cleared.after.queued, cleared.after.dropped], [2, 2, 0, 2]);
  await reload(page);
  await newLogger(page, down(await token(erin)));
  assert.equal(await page.evaluate(() => window.logger.stats().queued), 0, "cleared in IndexedDB too");
  await page.close();
});

test("after an outage, the browser's `online` event sends what waits at once, not at the next backoff", async () => {
  assert.ok(workerUrl, "the Worker runs (first test)");
  const frank = `frank-${randomUUID()}`;
  const page = await openPage();
  await newLogger(page, client(await token(frank), { delivery: "queued" }));
  await page.context().setOffline(true);
  assert.equal(await page.evaluate(() => window.logger.logUserAction(null, "LOGGED_OFFLINE")), true);
  // Offline long enough for the background drain's backoff to reach several seconds
  // (1, 1, 2, 4 s, jittered): its next attempt is then seconds away.
  await new Promise((r) => setTimeout(r, 9000));
  assert.equal(await page.evaluate(() => window.logger.stats().queued), 1);
  await page.context().setOffline(false);
  const delivered = await page.evaluate(async () => {
    const t0 = Date.now();
    while (Date.now() - t0 < 3000 && window.logger.stats().queued > 0) await new Promise((r) => setTimeout(r, 50));
    return { queued: window.logger.stats().queued, ms: Date.now() - t0 };
  });
  assert.equal(delivered.queued, 0, `still queued ${delivered.ms} ms after 'online'`);
  const mine = (await trailEvents()).filter((e) => e.user === frank).map((e) => e.type);
  assert.deepEqual(mine, ["LOGGED_OFFLINE"]);
  await page.close();
});
