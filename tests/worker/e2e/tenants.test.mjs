// Tenants' signed streams stay in their trails, all real: a `wrangler dev` Worker with TENANT_CLAIM
// writes two tenants' events (org:<A>, org:<B>) on their trails' signed streams; then, with Cypher
// (as anyone with write access to Neo4j could), one tenant's events are moved into the other's
// trail, and the two trails' names are swapped. The seals cover the stream id, and a Worker
// stream's id is bound to its trail's name, so neither verifies (before the binding, both did:
// the seals said nothing about the trail). Checked in Node (neo4j-audit/verify, public key only;
// with TENANT_CLAIM the Worker's GET /v1/verify is refused). Ports: E2E_WORKER_PORT / E2E_INSPECTOR_PORT (default free ones).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { cypher, config, loadPkg, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const SEED = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
const port = (v) => (v ? Number(v) : undefined);
let w;

after(async () => { await w?.stop(); });

test("a tenant's signed stream moved into another tenant's trail, or two trails' names swapped, no longer verify", async () => {
  const pkg = await loadPkg("verify");
  w = await startWrangler({
    port: port(process.env.E2E_WORKER_PORT), inspectorPort: port(process.env.E2E_INSPECTOR_PORT),
    env: {
      AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, TENANT_CLAIM: "org_id",
      AUDIT_TRAIL: `unused-${randomUUID()}`, AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "t1",
    },
  });
  const [a, b, c] = ["A", "B", "C"].map((x) => `${x}-${randomUUID()}`);
  const auth = async (org) => ({ Authorization: `Bearer ${await signJwt(SECRET, { sub: `user-${org}`, org_id: org, aud: "neo4j-audit", exp: nowSecs() + 600 })}` });
  for (const org of [a, b, c]) {
    for (const n of [2, 1]) {
      const events = Array.from({ length: n }, (_, i) => ({ actionType: "DOC_VIEWED", details: { org, i } }));
      const res = await fetch(`${w.url}/v1/events`, {
        method: "POST", headers: { "Content-Type": "application/json", ...(await auth(org)) }, body: JSON.stringify({ events }),
      });
      assert.equal(res.status, 201, await res.text());
    }
  }
  const keys = await (await fetch(`${w.url}/v1/keys`)).json();
  const verify = async (org) => {
    const logger = new pkg.AuditLogger(config(`org:${org}`));
    const report = await logger.verifyTrail({ publicKeys: keys });
    assert.ok(report, logger.lastError);
    return report;
  };
  for (const org of [a, b, c]) {
    const r = await verify(org);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.checked, 3);
    assert.match(r.signedHead.streamId, /^[0-9a-f-]{36}\.[0-9a-f]{32}$/);
  }
  // Tenant A's events moved into tenant B's trail: B's own stream intact, A's forged there.
  await cypher(`MATCH (:AuditTrail {name: $a})-[r:HAS_EVENT]->(e), (tb:AuditTrail {name: $b})
    DELETE r CREATE (tb)-[:HAS_EVENT]->(e)`, { a: `org:${a}`, b: `org:${b}` });
  for (const r of [await verify(b)]) {
    assert.equal(r.ok, false, JSON.stringify(r));
    const bad = r.streams.filter((s) => !s.ok);
    assert.deepEqual(bad.map((s) => [s.checked, s.firstBreak.kind]), [[3, "forged"]], JSON.stringify(r));
    assert.match(bad[0].firstBreak.message, /another trail/);
  }
  // Trails B and C swap names (each tenant's history now under the other's name).
  await cypher(`MATCH (tb:AuditTrail {name: $b}), (tc:AuditTrail {name: $c})
    SET tb.name = $tmp WITH tb, tc SET tc.name = $b WITH tb SET tb.name = $c`, { b: `org:${b}`, c: `org:${c}`, tmp: `tmp-${randomUUID()}` });
  for (const r of [await verify(c)]) {
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.ok(r.streams.every((s) => s.firstBreak?.kind === "forged"), JSON.stringify(r));
  }
  await w.stop();
});
