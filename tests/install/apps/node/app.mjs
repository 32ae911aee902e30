// Plain Node, no loader code: each entry's "node" condition instantiates its .wasm at import.
// Writes one event per entry (the Worker entry's handler is called directly, with a rate limiter of
// its own), reads them back through "neo4j-audit/read", verifies the trail through
// "neo4j-audit/verify", prints one JSON line.
import { AuditLogger } from "neo4j-audit";
import { AuditLogger as ReadingLogger } from "neo4j-audit/read";
import { AuditLogger as VerifyingLogger } from "neo4j-audit/verify";
import { handleIngest } from "neo4j-audit/worker";

const { config, actionType, jwt, jwtSecret } = JSON.parse(process.env.AUDIT_APP);

const logger = new AuditLogger(config);
const ok = await logger.logUserAction({ uid: "u-node" }, `${actionType}_WRITE`, null, { via: "neo4j-audit" });
const err = logger.lastError ?? null;
await logger.close();

const reader = new ReadingLogger(config);
const readOk = await reader.logUserAction({ uid: "u-node" }, `${actionType}_READ_ENTRY`);

const env = {
  AUDIT_JWT_SECRET: jwtSecret, NEO4J_URL: config.url, NEO4J_USER: config.username,
  NEO4J_PASSWORD: config.password, AUDIT_TRAIL: config.trail,
  RATE_LIMITER: { limit: async () => ({ success: true }) },
};
const res = await handleIngest(new Request("http://127.0.0.1/v1/events", {
  method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${jwt}` },
  body: JSON.stringify({ actionType: `${actionType}_WORKER_ENTRY` }),
}), env);

const page = await reader.getAuditTrail({});
const verifier = new VerifyingLogger(config);
const report = await verifier.verifyTrail();
// The read entry's verifyTrail (for code written when it had one): null, naming the verify entry.
const readVerify = (await reader.verifyTrail()) === null && /neo4j-audit\/verify/.test(reader.lastError);
console.log(JSON.stringify({
  ok, err, readOk, ingestStatus: res.status, ingestError: res.status === 201 ? null : await res.text(),
  read: page ? page.events.map((e) => e.actionType).sort() : reader.lastError,
  verified: report ? report.ok : verifier.lastError,
  writeEntryHasRead: "getAuditTrail" in AuditLogger.prototype,
  readVerify,
  resolved: ["neo4j-audit", "neo4j-audit/read", "neo4j-audit/verify", "neo4j-audit/worker"].map((s) => import.meta.resolve(s)),
}));
