// Targets and tenants at the Worker, inside workerd, against the real Neo4j: the operator's
// ALLOWED_TARGET_LABELS decides which labels an event may link to, and with TENANT_CLAIM the
// verified token's tenant decides the trail.
import { describe, expect, it } from "vitest";
import { cypher, post, token, unique } from "./helpers.mjs";

const label = (p) => `${p}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

describe("targets", () => {
  it("links only to allowed labels: any other label is 403 naming it, and nothing is written", async () => {
    const [doc, secret] = [label("W14Doc"), label("W14Secret")];
    await cypher(`CREATE (:${doc} {UID: 'd-1'}), (:${secret} {UID: 's-1'})`);
    const trail = unique("worker-targets");
    const sub = unique("user");
    const o = { AUDIT_TRAIL: trail, ALLOWED_TARGET_LABELS: `Folder, ${doc}` };
    const bad = await post({ events: [
      { actionType: "DOCUMENT_VIEWED", targets: [{ label: doc, uid: "d-1" }] },
      { actionType: "DOCUMENT_VIEWED", targets: [{ label: secret, uid: "s-1" }] },
    ] }, { tok: await token(sub), overrides: o });
    expect(bad.status).toBe(403);
    const b = await bad.json();
    expect(b.error).toBe("forbidden");
    expect(b.message).toContain(secret);
    // Unset: no label at all.
    const unset = await post({ actionType: "X", targets: [{ label: doc, uid: "d-1" }] },
      { tok: await token(sub), overrides: { AUDIT_TRAIL: trail } });
    expect(unset.status).toBe(403);
    expect((await cypher("MATCH (t:AuditTrail {name: $trail}) RETURN count(t)", { trail }))[0][0]).toBe(0);

    const ok = await post({ actionType: "DOCUMENT_VIEWED", targets: [{ label: doc, uid: "d-1", role: "subject" }, { label: doc, uid: "d-none" }] },
      { tok: await token(sub), overrides: o });
    expect(ok.status).toBe(201);
    const rows = await cypher(
      `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(ev)-[o:ON]->(n:${doc}) RETURN n.UID, o.role, ev.targetKeys, ev.source`,
      { trail });
    expect(rows).toEqual([["d-1", "subject", [`${doc}:d-1`, `${doc}:d-none`], "worker"]]);
    expect((await cypher(`MATCH (n:${secret})<-[:ON]-() RETURN count(n)`))[0][0]).toBe(0);
  });
});

describe("tenants (TENANT_CLAIM)", () => {
  it("writes each token into its own tenant's trail; a token without the claim is 403", async () => {
    const [a, b] = [unique("acme"), unique("globex")];
    const o = { TENANT_CLAIM: "org_id", AUDIT_TRAIL: unique("worker-not-used") };
    const sub = unique("user"); // the same subject in both tenants
    const UID = crypto.randomUUID(); // and the same client UID
    for (const org of [a, b]) {
      const r = await post({ actionType: "REPORT_EXPORTED", UID, details: { org } },
        { tok: await token(sub, { org_id: org }), overrides: o });
      expect(r.status).toBe(201);
    }
    const none = await post({ actionType: "REPORT_EXPORTED" }, { tok: await token(sub), overrides: o });
    expect(none.status).toBe(403);
    expect((await none.json()).message).toContain("org_id");
    for (const org of [a, b]) {
      const rows = await cypher(
        "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(ev) RETURN ev.details, ev.userUID", { trail: `org:${org}` });
      expect(rows).toEqual([[JSON.stringify({ org }), sub]]);
    }
    const uids = await cypher(
      "MATCH (t:AuditTrail)-[:HAS_EVENT]->(ev) WHERE t.name IN $names RETURN count(DISTINCT ev)", { names: [`org:${a}`, `org:${b}`] });
    expect(uids[0][0]).toBe(2);
    expect((await cypher("MATCH (t:AuditTrail {name: $n}) RETURN count(t)", { n: o.AUDIT_TRAIL }))[0][0]).toBe(0);
  });
});
