// Concurrent requests into one `wrangler dev` isolate, all real: several clients post at once,
// round after round, to the Worker's signed write path (one signed stream per trail; concurrent
// writers race for the head on the trail node in Neo4j). Every request must be answered (no
// request may wait on another's I/O, which workerd would leave hanging), every event stored once,
// and the stream must verify with the Worker's public key, gap-free.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { config, cypher, loadPkg, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const SEED = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
const ROUNDS = 10;
const AT_ONCE = 4;
const workers = [];
after(async () => { for (const w of workers) await w.stop(); });

/** POSTs `events` to the Worker at `url` with `auth`: asserts 201 and answers the events' UIDs.
 *  Bounded per request, so that a hung request fails the test instead of the suite's timeout. */
async function postEvents(url, auth, events) {
  const res = await fetch(`${url}/v1/events`, { method: "POST", signal: AbortSignal.timeout(60_000),
    headers: { "Content-Type": "application/json", Authorization: auth }, body: JSON.stringify({ events }) });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.uids;
}

test(`${AT_ONCE} clients posting at once for ${ROUNDS} rounds: every request answered, one gap-free signed stream`, async () => {
  const trail = `concurrent-${randomUUID()}`;
  const w = await startWrangler({
    env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: trail,
      AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "k-conc", MAX_BATCH: "100" },
  });
  workers.push(w);
  const auth = `Bearer ${await signJwt(SECRET, { sub: "conc-user", aud: "neo4j-audit", exp: nowSecs() + 600 })}`;
  const post = (round, client) =>
    postEvents(w.url, auth, Array.from({ length: 5 }, (_, i) => ({ actionType: "CONC", details: { round, client, i } })));
  const uids = [];
  for (let round = 0; round < ROUNDS; round++) {
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, (_, c) => post(round, c)));
    uids.push(...answers.flat());
  }
  assert.equal(new Set(uids).size, ROUNDS * AT_ONCE * 5);
  const [[stored, streams, maxSeq]] = await cypher(
    "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e), count(DISTINCT e.streamId), max(e.seq)", { t: trail });
  assert.deepEqual([stored, streams, maxSeq], [uids.length, 1, uids.length - 1]);
  const keys = await (await fetch(`${w.url}/v1/keys`)).json();
  const pkg = await loadPkg("verify");
  const report = await new pkg.AuditLogger(config(trail)).verifyTrail({ publicKeys: keys });
  assert.ok(report && report.ok, JSON.stringify(report?.streams?.[0]?.firstBreak ?? report));
  assert.equal(report.checked, uids.length);
});

test("two Workers (two wrangler dev, each its own isolate and head cache) posting into one trail at once: one gap-free signed stream, intact in Node and at GET /v1/verify", async () => {
  // Ports: CONC_E2E_WORKER_PORT (and the three after it: inspector, second Worker, its inspector); default free ones.
  const base = process.env.CONC_E2E_WORKER_PORT ? Number(process.env.CONC_E2E_WORKER_PORT) : undefined;
  const at = (d) => (base ? base + d : undefined);
  const trail = `concurrent2-${randomUUID()}`;
  const env = { AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: trail,
    AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "k-conc", MAX_BATCH: "100", VERIFY_SUBJECTS: "auditor" };
  const a = await startWrangler({ env, port: at(0), inspectorPort: at(1) });
  workers.push(a);
  const b = await startWrangler({ env, port: at(2), inspectorPort: at(3) });
  workers.push(b);
  const auth = `Bearer ${await signJwt(SECRET, { sub: "conc-user", aud: "neo4j-audit", exp: nowSecs() + 600 })}`;
  const post = (w, round, client) =>
    postEvents(w.url, auth, Array.from({ length: 3 }, (_, i) => ({ actionType: "CONC2", details: { round, client, i } })));
  const uids = [];
  for (let round = 0; round < 6; round++) {
    const answers = await Promise.all(Array.from({ length: 4 }, (_, c) => post(c % 2 ? b : a, round, c)));
    uids.push(...answers.flat());
  }
  assert.equal(new Set(uids).size, 6 * 4 * 3);
  const [[stored, streams, maxSeq]] = await cypher(
    "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e), count(DISTINCT e.streamId), max(e.seq)", { t: trail });
  assert.deepEqual([stored, streams, maxSeq], [uids.length, 1, uids.length - 1]);
  const keys = await (await fetch(`${a.url}/v1/keys`)).json();
  const pkg = await loadPkg("verify");
  const report = await new pkg.AuditLogger(config(trail)).verifyTrail({ publicKeys: keys });
  assert.ok(report && report.ok, JSON.stringify(report?.streams?.[0]?.firstBreak ?? report));
  assert.equal(report.checked, uids.length);
  const verifyAuth = `Bearer ${await signJwt(SECRET, { sub: "auditor", aud: "neo4j-audit", exp: nowSecs() + 600 })}`;
  for (const w of [a, b]) {
    const page = await (await fetch(`${w.url}/v1/verify`, { headers: { Authorization: verifyAuth } })).json();
    assert.deepEqual([page.ok, page.checked, page.next], [true, uids.length, null], JSON.stringify(page));
  }
});
