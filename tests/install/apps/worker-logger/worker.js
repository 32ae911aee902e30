import { AuditLogger } from "neo4j-audit";
import { AuditLogger as ReadingLogger } from "neo4j-audit/read";

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== "/log") return new Response("ready");
    const config = { url: env.NEO4J_URL, username: env.NEO4J_USER, password: env.NEO4J_PASSWORD, trail: env.TRAIL };
    const logger = new AuditLogger(config);
    const ok = await logger.logUserAction({ uid: "u-workerd" }, "INSTALLED_IN_WORKERD");
    const err = logger.lastError ?? null;
    const reader = new ReadingLogger(config);
    const page = await reader.getAuditTrail({});
    return Response.json({ ok, err, read: page ? page.events.map((e) => e.actionType) : reader.lastError });
  },
};
