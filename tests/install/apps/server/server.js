// A route handler's code as a server bundler builds it (each project's build-server.mjs; the test
// copies this file to <project>/src/server.js): the write and read entries by name, no loader code;
// prints one JSON line.
import { AuditLogger } from "neo4j-audit";
import { AuditLogger as ReadingLogger } from "neo4j-audit/read";

const { config, actionType, bundler } = JSON.parse(process.env.AUDIT_APP);
const logger = new AuditLogger(config);
const ok = await logger.logUserAction({ uid: "u-server" }, actionType, null, { bundler });
const err = logger.lastError ?? null;
await logger.close();
const reader = new ReadingLogger(config);
const page = await reader.getAuditTrail({ actionType });
console.log(JSON.stringify({ ok, err, read: page ? page.events.map((e) => [e.actionType, e.userUid]) : reader.lastError }));
