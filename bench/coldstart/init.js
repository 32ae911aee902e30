// P5 split: the library instantiated at module load, nothing sent (instantiation alone).
import { initSync, AuditLogger } from "../../.cache/bench/pkg/neo4j_audit.js";
import wasm from "../../.cache/bench/pkg/neo4j_audit_bg.wasm";

initSync({ module: wasm });

export default {
  async fetch(request, env) {
    const l = new AuditLogger({ url: env.NEO4J_URL, username: "neo4j", password: env.NEO4J_PASSWORD, trail: "bench" });
    l.free();
    return new Response("ok");
  },
};
