// Demo page shell: everything audit-related goes through the wasm package.
import init, { AuditLogger } from "/pkg/neo4j_audit.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("/config.json")).json();
await init();
const logger = new AuditLogger(config);
const status = (text, cls) => { $("status").textContent = text; $("status").className = cls ?? ""; };

// Reading back is the demo's own Cypher for now (local development, local Neo4j).
async function refresh() {
  const res = await fetch(`${config.url}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-ajax-browser-auth": "true",
      authorization: "Basic " + btoa(`${config.username}:${config.password}`) },
    body: JSON.stringify({ statements: [{ statement:
      `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent)
       RETURN toString(e.timestamp), coalesce(e.userName, '—'), e.eventType, e.eventCategory, e.details
       ORDER BY e.timestamp DESC LIMIT 20`, parameters: { trail: config.trail } }] }),
  });
  const body = await res.json();
  const rows = body.results?.[0]?.data ?? [];
  $("events").replaceChildren(...rows.map(({ row }) => {
    const tr = document.createElement("tr");
    for (const v of row) { const td = document.createElement("td"); td.textContent = v ?? ""; tr.append(td); }
    return tr;
  }));
}

$("log").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const [uid, name] = $("user").value.split("|");
  let details = null;
  try { details = $("details").value.trim() ? JSON.parse($("details").value) : null; }
  catch { return status("details are not valid JSON", "err"); }
  const ok = await logger.logUserAction(uid ? { uid, name } : null, $("action").value, $("category").value || undefined, details);
  status(ok ? "logged ✓ (committed in Neo4j)" : `not logged: ${logger.lastError}`, ok ? "ok" : "err");
  await refresh();
});

status("ready", "ok");
await refresh();
