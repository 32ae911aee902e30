// The browser form (`await init()` first) also works in Node: init() resolves, nothing is fetched.
import init, { AuditLogger } from "neo4j-audit";
await init();
const logger = new AuditLogger(JSON.parse(process.env.AUDIT_APP).config);
console.log(JSON.stringify({ ok: await logger.logUserAction(null, "INIT_FORM"), err: logger.lastError ?? null }));
