// One user in two tenants, all real: headless Chromium (IndexedDB, a reload) → `wrangler dev` with
// TENANT_CLAIM (each token's org_id picks its trail, org:<id>) → the real Neo4j. An event queued
// under the org A token is never sent with the org B token of the same `sub` (that would write it
// into org B's trail); it waits for an org A logger. Before, the client's identity was the `sub`
// alone, so both tokens shared one queue. Ports: E2E_SITE_PORT, E2E_WORKER_PORT,
// E2E_INSPECTOR_PORT (default free ones).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { cypher, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { auditPage, freePort, launchChromium, serveSite, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const QUEUE = `neo4j-audit-e2e-${randomUUID()}`;
const [ORG_A, ORG_B] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
const port = (v) => (v ? Number(v) : undefined);
let worker, browser, site, workerUrl, workerPort;

const events = async (org) => (await cypher(
  "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID ORDER BY e.eventType",
  { t: `org:${org}` })).map(([type, user]) => ({ type, user }));

const token = (org) => signJwt(SECRET, { sub: "ann", org_id: org, aud: "neo4j-audit", iat: nowSecs(), exp: nowSecs() + 600 });

async function newLogger(page, tok, extra = {}) {
  await page.evaluate(async (cfg) => {
    window.logger = new window.audit.AuditLogger(cfg);
    await new Promise((r) => setTimeout(r, 400)); // recovery reads IndexedDB in the background
  }, { endpoint: `${workerUrl}/v1/events`, token: tok, queue: { name: QUEUE }, retry: { maxAttempts: 1 }, ...extra });
}

/** The Worker, on the fixed port, with TENANT_CLAIM `claim`. */
const startWorker = (claim) => startWrangler({
  port: workerPort, inspectorPort: port(process.env.E2E_INSPECTOR_PORT),
  env: {
    AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, TENANT_CLAIM: claim,
    AUDIT_TRAIL: `unused-${randomUUID()}`, ALLOWED_ORIGINS: site.origin,
  },
  readyPath: "/v1/events", readyMethod: "OPTIONS",
});

before(async () => {
  site = await serveSite(auditPage("tenant queue e2e"), port(process.env.E2E_SITE_PORT) ?? 0);
  workerPort = port(process.env.E2E_WORKER_PORT) ?? await freePort();
  workerUrl = `http://127.0.0.1:${workerPort}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  site?.server.close();
});

test("an event queued under one tenant's token is never sent with another tenant's token of the same user", async () => {
  const [tokA, tokB] = [await token(ORG_A), await token(ORG_B)];
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e));
  const ready = async () => page.waitForSelector("body[data-ready=true]", { state: "attached" });
  await page.goto(site.origin);
  await ready();
  // The Worker is down: the org A event waits in IndexedDB.
  await newLogger(page, tokA, { delivery: "queued" });
  const stored = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "ORG_A_ACTION");
    await new Promise((r) => setTimeout(r, 300));
    return { ok, queued: window.logger.stats().queued, identity: window.logger.identity ?? null };
  });
  assert.equal(stored.ok, true);
  assert.equal(stored.queued, 1);
  // Reload, the Worker comes up, ann switches to org B in the same page.
  await page.reload();
  await ready();
  worker = await startWorker("org_id");
  await newLogger(page, tokB);
  const b = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "ORG_B_ACTION");
    const flushed = await window.logger.flush();
    return { ok, flushed, queued: window.logger.stats().queued, err: window.logger.lastError ?? null };
  });
  assert.equal(b.ok, true, b.err);
  assert.equal(b.flushed, true);
  assert.equal(b.queued, 0, "the org A event is not the org B logger's to send");
  assert.deepEqual(await events(ORG_B), [{ type: "ORG_B_ACTION", user: "ann" }], "nothing of org A's in org B's trail");
  assert.deepEqual(await events(ORG_A), []);
  // Back in org A: its event goes out, into org A's trail.
  await page.reload();
  await ready();
  await newLogger(page, tokA);
  const a = await page.evaluate(async () => ({ flushed: await window.logger.flush(), queued: window.logger.stats().queued }));
  assert.deepEqual(a, { flushed: true, queued: 0 });
  assert.deepEqual(await events(ORG_A), [{ type: "ORG_A_ACTION", user: "ann" }]);
  assert.deepEqual(await events(ORG_B), [{ type: "ORG_B_ACTION", user: "ann" }]);
  await page.close();
});

// With TENANT_CLAIM naming a claim that src/identity.rs leaves out of the queue's identity (azp,
// client_id, email, ...), ann's tokens for two tenants were ONE identity in the browser: her org A
// event, queued while the Worker was down, was recovered by her org B logger and sent with the org B
// token, and the Worker wrote it into org B's trail (found by review sec7: ORG_A_ACTION in org:B).
// Such a TENANT_CLAIM is refused now (500 misconfigured): nothing reaches either trail.
test("a TENANT_CLAIM the queue's identity leaves out (azp) is refused: no tenant's queued event goes out with another's token", async () => {
  const tok = (org) => signJwt(SECRET, { sub: "ann", azp: org, aud: "neo4j-audit", iat: nowSecs(), exp: nowSecs() + 600 });
  const [orgA, orgB] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
  const [tokA, tokB] = [await tok(orgA), await tok(orgB)];
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e));
  const ready = async () => page.waitForSelector("body[data-ready=true]", { state: "attached" });
  await page.goto(site.origin);
  await ready();
  await worker?.stop();
  worker = undefined;
  // The Worker is down: the org A event waits in IndexedDB.
  await newLogger(page, tokA, { delivery: "queued", queue: { name: `${QUEUE}-azp` } });
  const stored = await page.evaluate(async () => {
    const ok = await window.logger.logUserAction(null, "ORG_A_ACTION");
    await new Promise((r) => setTimeout(r, 300));
    return { ok, queued: window.logger.stats().queued };
  });
  assert.deepEqual(stored, { ok: true, queued: 1 });
  await page.reload();
  await ready();
  worker = await startWorker("azp");
  // ann switches to org B in the same page.
  await newLogger(page, tokB, { queue: { name: `${QUEUE}-azp` } });
  await page.evaluate(async () => { await window.logger.logUserAction(null, "ORG_B_ACTION"); await window.logger.flush(); });
  assert.deepEqual(await events(orgB), [], "org A's queued event went out with org B's token, into org B's trail");
  assert.deepEqual(await events(orgA), []);
  const r = await fetch(`${workerUrl}/v1/events`, {
    method: "POST", headers: { authorization: `Bearer ${tokB}`, "content-type": "application/json" },
    body: JSON.stringify({ actionType: "DIRECT" }),
  });
  const body = await r.json();
  assert.equal(r.status, 500, JSON.stringify(body));
  assert.equal(body.error, "misconfigured");
  assert.deepEqual(await events(orgB), []);
  await page.close();
});
