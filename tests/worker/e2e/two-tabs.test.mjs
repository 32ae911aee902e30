// Two tabs of one origin sharing one IndexedDB queue, each signed in as another user, all real:
// headless Chromium (one browser context: one IndexedDB, one localStorage) → `wrangler dev` →
// Neo4j, read back independently. One tab loses the Worker, logs on, and is reloaded while its
// requests are in flight; the other logs at the same time, then is closed mid-delivery and its
// user comes back in a third tab. Each event must be stored exactly once, under the token it was
// logged with, and the Worker's signed stream must verify.
// Ports: TWO_TABS_PORT (default 0: free ones) for the Worker, the next one for the site.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { config, cypher, loadPkg, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { auditPage, launchChromium, serveSite, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const SEED = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
const RUN = randomUUID().slice(0, 8);
const TRAIL = `two-tabs-${RUN}`;
const QUEUE = `neo4j-audit-two-tabs-${RUN}`;
const BASE = Number(process.env.TWO_TABS_PORT ?? 0) || undefined;

let worker, browser, site;

const token = (sub) => signJwt(SECRET, { sub, aud: "neo4j-audit", iat: nowSecs(), exp: nowSecs() + 600 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  site = await serveSite(auditPage("two tabs"), BASE ? BASE + 1 : 0);
  worker = await startWrangler({ port: BASE, env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD,
    AUDIT_TRAIL: TRAIL, ALLOWED_ORIGINS: site.origin, AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "k-tabs",
    VERIFY_SUBJECTS: "auditor", RETRY_AFTER_SECS: "1" } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  site?.server.close();
});

async function open(ctx) {
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e));
  await page.goto(site.origin);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  return page;
}

/** `window.logger` in `page` for `tok`, its queue loaded. */
async function logger(page, tok, extra = {}) {
  await page.evaluate(async ([cfg]) => {
    window.logger = new window.audit.AuditLogger(cfg);
    await new Promise((r) => setTimeout(r, 400));
  }, [{ endpoint: `${worker.url}/v1/events`, token: tok, queue: { name: QUEUE },
    retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 }, ...extra }]);
}

/** Logs events `from`..`to` of `who` in `page` without awaiting their outcome. */
function logMany(page, who, from, to) {
  return page.evaluate(([who, from, to]) => {
    window.calls = [];
    for (let n = from; n < to; n++) window.calls.push(window.logger.logUserAction(null, "TAB_EVENT", "TEST", { who, n }));
    return true;
  }, [who, from, to]);
}

test("two users in two tabs of one origin, one tab offline then reloaded mid-delivery, the other closed mid-delivery: every event once, under its own user", async () => {
  const [alice, bob] = [`alice-${RUN}`, `bob-${RUN}`];
  const [aliceTok, bobTok] = [await token(alice), await token(bob)];
  await cypher("UNWIND $s AS s MERGE (:User {UID: s})", { s: [alice, bob] });
  const ctx = await browser.newContext();
  const a = await open(ctx);
  const b = await open(ctx);

  // Tab A cannot reach the Worker: alice's events wait in IndexedDB ("queued": true once stored).
  await a.route(`${worker.url}/**`, (r) => r.abort("internetdisconnected"));
  await logger(a, aliceTok, { delivery: "queued" });
  await logger(b, bobTok);
  await Promise.all([logMany(a, "alice", 0, 20), logMany(b, "bob", 0, 20)]);
  const [aRes, bRes] = await Promise.all([a, b].map((p) => p.evaluate(async () => {
    const r = await Promise.all(window.calls);
    return { ok: r.filter(Boolean).length, err: window.logger.lastError ?? null };
  })));
  assert.equal(aRes.ok, 20, aRes.err);
  assert.equal(bRes.ok, 20, bRes.err);

  // Bob's logger of a new page (the same IndexedDB) never takes alice's events.
  const b2 = await open(ctx);
  await logger(b2, bobTok);
  assert.equal(await b2.evaluate(() => window.logger.stats().queued), 0);
  await b2.close();

  // Tab A is back online, logs more, and is reloaded while its requests are held in flight.
  await a.unroute(`${worker.url}/**`);
  await a.route(`${worker.url}/**`, async (r) => { await sleep(300); await r.continue().catch(() => {}); });
  await a.evaluate(() => window.logger.flush() && true);
  await logMany(a, "alice", 20, 30);
  // Meanwhile bob logs on in tab B, and tab B is closed mid-delivery (committed delivery: what
  // is not committed by then is stored at pagehide).
  await b.route(`${worker.url}/**`, async (r) => { await sleep(300); await r.continue().catch(() => {}); });
  await logMany(b, "bob", 20, 30);
  await sleep(100);
  await Promise.all([a.reload(), b.close({ runBeforeUnload: true })]);
  await a.waitForSelector("body[data-ready=true]", { state: "attached" });
  await a.unroute(`${worker.url}/**`);

  // Alice's next logger (the reloaded tab) and bob's (a third tab) deliver what waits.
  const c = await open(ctx);
  await Promise.all([logger(a, aliceTok), logger(c, bobTok)]);
  for (const p of [a, c]) {
    const r = await p.evaluate(async () => ({ flushed: await window.logger.flush(), stats: window.logger.stats(), err: window.logger.lastError ?? null }));
    assert.equal(r.flushed, true, r.err);
    assert.equal(r.stats.queued, 0);
  }

  // Neo4j: each event once, under the user whose token logged it, one HAS_EVENT, one PERFORMED_BY.
  const rows = await cypher(
    `MATCH (t:AuditTrail {name: $t})-[:HAS_EVENT]->(e)
     RETURN e.UID, e.userUID, e.details, COUNT { (t)-[:HAS_EVENT]->(e) }, [(e)-[:PERFORMED_BY]->(u) | u.UID]`, { t: TRAIL });
  const seen = new Map();
  for (const [uid, user, details, links, by] of rows) {
    const d = JSON.parse(details);
    const sub = d.who === "alice" ? alice : bob;
    assert.equal(user, sub, `${d.who}'s event ${d.n} stored as ${user}'s`);
    assert.deepEqual([links, by], [1, [sub]], `event ${uid}`);
    const k = `${d.who}/${d.n}`;
    assert.ok(!seen.has(k), `${k} stored twice`);
    seen.set(k, uid);
  }
  const missing = [];
  for (const who of ["alice", "bob"]) for (let n = 0; n < 30; n++) if (!seen.has(`${who}/${n}`)) missing.push(`${who}/${n}`);
  // Bob's tab was closed with his requests in flight: an event whose request was lost there
  // and that was not stored in time is the documented crash window; every other one is here.
  assert.deepEqual(missing.filter((k) => k.startsWith("alice") || Number(k.split("/")[1]) < 20), [], `missing: ${missing}`);
  if (missing.length) console.log(`bob's events lost with the closed tab (documented window): ${missing}`);

  const jwks = await (await fetch(`${worker.url}/v1/keys`)).json();
  const pkg = await loadPkg("verify");
  const report = await new pkg.AuditLogger(config(TRAIL)).verifyTrail({ publicKeys: jwks });
  assert.ok(report?.ok, JSON.stringify(report?.streams?.[0]?.firstBreak ?? report));
  assert.equal(report.checked, rows.length);
  const auditor = `Bearer ${await token("auditor")}`;
  const page = await (await fetch(`${worker.url}/v1/verify`, { headers: { Authorization: auditor } })).json();
  assert.deepEqual([page.ok, page.checked, page.next], [true, rows.length, null], JSON.stringify(page));
  await ctx.close();
});
