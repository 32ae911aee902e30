// P5 baseline: the same request with no wasm — plain fetch of a hand-built body (same statement
// shape), so workerd's own start-up cost can be subtracted.
export default {
  async fetch(request, env) {
    const ev = { UID: crypto.randomUUID(), eventType: "DOCUMENT_MODIFIED", eventCategory: "DOCUMENT_MANAGEMENT",
      ts: Date.now(), userUID: "user-1", userName: "User 1",
      details: JSON.stringify({ document_id: "doc-1", field: "title", old: "Draft", new: "Release 1", ip: "10.0.0.7" }) };
    const statement = "MERGE (t:AuditTrail {name: $trail}) WITH t UNWIND $events AS e MERGE (ev:AuditEvent {UID: e.UID}) " +
      "ON CREATE SET ev += e MERGE (t)-[:HAS_EVENT]->(ev) RETURN count(ev)";
    const r = await fetch(`${env.NEO4J_URL}/db/neo4j/tx/commit`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Basic " + btoa(`neo4j:${env.NEO4J_PASSWORD}`) },
      body: JSON.stringify({ statements: [{ statement, parameters: { trail: "bench-baseline", events: [ev] } }] }),
    });
    const j = await r.json();
    return new Response(j.errors?.length ? "failed" : "ok", { status: j.errors?.length ? 500 : 200 });
  },
};
