// Logs one event through the built package and prints how it came back from Neo4j.
import { loadPkg, config, cypher } from "../tests/node/helpers.mjs";

const pkg = await loadPkg();
const logger = new pkg.AuditLogger(config(process.env.DEMO_TRAIL ?? "demo-trail"));
await cypher("MERGE (u:User {UID: 'user-123'}) SET u.name = 'John Doe'");
const ok = await logger.logUserAction({ uid: "user-123", name: "John Doe" }, "DEMO_STARTED", "SYSTEM", { via: "scripts/demo" });
console.log(`demo: logUserAction -> ${ok}${ok ? "" : ` (${logger.lastError})`}`);
const rows = await cypher(
  `MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, e.eventType, toString(e.timestamp), e.userName
   ORDER BY e.timestamp DESC LIMIT 1`, { t: process.env.DEMO_TRAIL ?? "demo-trail" });
console.log("demo: newest event in Neo4j:", rows[0]);
if (!ok) process.exit(1);
