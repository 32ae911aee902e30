// End to end, all real: a page in headless Chromium (served from its own origin) → `wrangler dev`
// (workerd running worker/index.js + pkg/) → the real Neo4j, read back independently.
// Run by scripts/test-worker with `node --test`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { cypher, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { launchChromium, serveSite, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const TRAIL = `worker-e2e-${randomUUID()}`;
const PAGE = "<!doctype html><title>audit e2e</title><p>page</p>";

let worker, browser, allowedPage, otherPage, workerUrl;

before(async () => {
  allowedPage = await serveSite(PAGE);
  otherPage = await serveSite(PAGE);
  worker = await startWrangler({
    env: {
      AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: TRAIL,
      ALLOWED_ORIGINS: allowedPage.origin,
    },
  });
  workerUrl = worker.url;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  allowedPage?.server.close();
  otherPage?.server.close();
});

/** fetch() from a page on `origin`; returns {status, body} or {error}. */
async function postFromPage(origin, token, body) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(async ({ url, token, body }) => {
      try {
        const r = await fetch(`${url}/v1/events`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        return { status: r.status, body: await r.json() };
      } catch (e) {
        return { error: String(e) };
      }
    }, { url: workerUrl, token, body });
  } finally {
    await page.close();
  }
}

test("a page on an allowed origin posts through the Worker; Neo4j holds the event with the token's user", async () => {
  const sub = `e2e-user-${randomUUID()}`;
  const token = await signJwt(SECRET, { sub, name: "Browser User", aud: "neo4j-audit", exp: nowSecs() + 300 });
  const r = await postFromPage(allowedPage.origin, token, { actionType: "E2E_CLICK", details: { button: "save" } });
  assert.equal(r.status, 201, JSON.stringify(r));
  // Reading the answer at all proves the preflight and the CORS headers were right (scripts
  // cannot see Access-Control-Allow-Origin itself; the other-origin test shows the failure).
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent {UID: $uid}) RETURN e.eventType, e.userUID, e.userName, e.details",
    { trail: TRAIL, uid: r.body.uids[0] },
  );
  assert.deepEqual(rows, [["E2E_CLICK", sub, "Browser User", JSON.stringify({ button: "save" })]]);
});

test("a page on another origin is stopped by CORS and nothing is written", async () => {
  const sub = `e2e-other-${randomUUID()}`;
  const token = await signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 300 });
  const r = await postFromPage(otherPage.origin, token, { actionType: "E2E_FOREIGN" });
  assert.ok(r.error, `expected a CORS failure, got ${JSON.stringify(r)}`);
  const rows = await cypher("MATCH (e:AuditEvent {userUID: $sub}) RETURN count(e)", { sub });
  assert.deepEqual(rows, [[0]]);
});

test("a forged user in the body is refused from the browser too", async () => {
  const sub = `e2e-forger-${randomUUID()}`;
  const token = await signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 300 });
  const r = await postFromPage(allowedPage.origin, token, { actionType: "E2E_FORGED", user: { uid: "admin" } });
  assert.equal(r.status, 403);
  assert.equal(r.body.error, "forbidden");
  const rows = await cypher("MATCH (e:AuditEvent) WHERE e.userUID IN [$sub, 'admin'] AND e.eventType = 'E2E_FORGED' RETURN count(e)", { sub });
  assert.deepEqual(rows, [[0]]);
});

test("client mode in the browser: AuditLogger({endpoint, token}) → Worker → Neo4j, user from the token", async () => {
  const sub = `e2e-client-${randomUUID()}`;
  const token = await signJwt(SECRET, { sub, name: "Client Mode", aud: "neo4j-audit", exp: nowSecs() + 300 });
  const page = await browser.newPage();
  try {
    await page.goto(`${allowedPage.origin}/`);
    const out = await page.evaluate(async ({ endpoint, token }) => {
      const pkg = await import("/pkg/neo4j_audit.js");
      await pkg.default();
      const logger = new pkg.AuditLogger({ endpoint, token, trail: "ignored-by-the-worker" });
      // The user argument is not sent: the Worker takes the user from the token.
      const ok1 = await logger.logUserAction({ uid: "someone-else" }, "CLIENT_MODE_A", "E2E", { n: 1 });
      const ok2 = await logger.logUserAction(null, "CLIENT_MODE_B", null, null);
      const schema = await logger.ensureSchema();
      return { ok1, ok2, schema, lastError: logger.lastError };
    }, { endpoint: `${workerUrl}/v1/events`, token });
    assert.equal(out.ok1, true, JSON.stringify(out));
    assert.equal(out.ok2, true, JSON.stringify(out));
    assert.equal(out.schema, false, "client mode runs no Cypher");
    assert.match(out.lastError, /client mode/);
  } finally {
    await page.close();
  }
  const rows = await cypher(
    "MATCH (t:AuditTrail)-[:HAS_EVENT]->(e:AuditEvent {userUID: $sub}) RETURN t.name, e.eventType, e.eventCategory, e.userName, e.details ORDER BY e.eventType",
    { sub },
  );
  assert.deepEqual(rows, [
    [TRAIL, "CLIENT_MODE_A", "E2E", "Client Mode", JSON.stringify({ n: 1 })],
    [TRAIL, "CLIENT_MODE_B", "USER_ACTION", "Client Mode", null],
  ]);
  // Provenance: written by the Worker; occurredAt is the browser's birth time of the event, which
  // is never after the Worker's receive time (same machine, same clock here).
  const prov = await cypher(
    "MATCH (e:AuditEvent {userUID: $sub}) RETURN e.source, e.occurredAt.epochMillis <= e.timestamp.epochMillis, " +
      "e.timestamp.epochMillis - e.occurredAt.epochMillis < 60000 ORDER BY e.eventType",
    { sub },
  );
  assert.deepEqual(prov, [["worker", true, true], ["worker", true, true]]);
  const forged = await cypher("MATCH (e:AuditEvent {userUID: 'someone-else'}) WHERE e.eventType STARTS WITH 'CLIENT_MODE' RETURN count(e)");
  assert.deepEqual(forged, [[0]]);
});
