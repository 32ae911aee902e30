// P5 split: instantiation + the library's schema step alone (ensureSchema), no event.
import { initSync, AuditLogger } from "../../.cache/bench/pkg/neo4j_audit.js";
import wasm from "../../.cache/bench/pkg/neo4j_audit_bg.wasm";

initSync({ module: wasm });

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    const ok = await l.ensureSchema();
    return new Response(ok ? "ok" : `failed: ${l.lastError}`, { status: ok ? 200 : 500 });
  },
};
