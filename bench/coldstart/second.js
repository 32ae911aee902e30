// P5 split: as worker.js, then a second logUserAction on the same logger in the same request, so
// second − library is what a warm event costs and (library − schema) − (second − library) is what
// only the first event pays (code compiled on first use, first-call set-up).
import { AuditLogger } from "../../pkg/workerd.js";

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    const e = env.EVENT;
    let ok = await l.logUserAction(e.user, e.actionType, e.category, e.details);
    ok = ok && (await l.logUserAction(e.user, e.actionType, e.category, e.details));
    return new Response(ok ? "ok" : `failed: ${l.lastError}`, { status: ok ? 200 : 500 });
  },
};
