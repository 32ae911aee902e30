// P5: the library in workerd as an application uses it — instantiate at module load, then one
// logUserAction on a new isolate's first request (which includes whatever schema step it takes).
import { initSync, AuditLogger } from "../../.cache/bench/pkg/neo4j_audit.js";
import wasm from "../../.cache/bench/pkg/neo4j_audit_bg.wasm";

initSync({ module: wasm });

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    const ok = await l.logUserAction({ uid: "user-1", name: "User 1" }, "DOCUMENT_MODIFIED", "DOCUMENT_MANAGEMENT",
      { document_id: "doc-1", field: "title", old: "Draft", new: "Release 1", ip: "10.0.0.7" });
    return new Response(ok ? "ok" : `failed: ${l.lastError}`, { status: ok ? 200 : 500 });
  },
};
