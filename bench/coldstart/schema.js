// P5 split: instantiation + the library's schema step alone (ensureSchema), no event.
import { AuditLogger } from "../../pkg/workerd.js";

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    const ok = await l.ensureSchema();
    return new Response(ok ? "ok" : `failed: ${l.lastError}`, { status: ok ? 200 : 500 });
  },
};
