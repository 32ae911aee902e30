// P5: the library in workerd as an application ships it — the package's Workers entry
// (`import { AuditLogger } from "neo4j-audit"` resolves to pkg/workerd.js under the "workerd"
// condition; bench/coldstart.mjs checks that), which instantiates the .wasm at import; then one
// logUserAction on a new isolate's first request (which includes whatever schema step it takes).
// The event is the one the baseline's body was made from (env.EVENT).
import { AuditLogger } from "../../pkg/workerd.js";

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    const e = env.EVENT;
    const ok = await l.logUserAction(e.user, e.actionType, e.category, e.details);
    return new Response(ok ? "ok" : `failed: ${l.lastError}`, { status: ok ? 200 : 500 });
  },
};
