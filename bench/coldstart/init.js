// P5 split: the published Workers entry imported (it instantiates the .wasm at import), one
// AuditLogger constructed and freed, nothing sent (instantiation alone).
import { AuditLogger } from "../../pkg/workerd.js";

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    l.free();
    return new Response("ok");
  },
};
