import init, { AuditLogger } from "neo4j-audit";
import { AuditLogger as ReadingLogger } from "neo4j-audit/read";

// A logger made at the module's top level, where workerd refuses random numbers: the constructor
// says so (it trapped with "unreachable").
let topLevel;
try {
  new AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x" });
  topLevel = "made";
} catch (e) {
  topLevel = `${e?.constructor?.name}: ${e?.message}`;
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/down") {
      // Neo4j unreachable: the event stays queued (with a background drain planned), then the
      // logger is closed before the response, as a Worker does at the end of its request.
      const logger = new ReadingLogger({ url: "http://127.0.0.1:2", retry: { maxAttempts: 1 }, trail: env.TRAIL });
      const ok = await logger.logUserAction({ uid: "u-workerd" }, "NEVER_STORED");
      const err = logger.lastError ?? null;
      return Response.json({ ok, err, closed: await logger.close() });
    }
    if (path === "/memory-queue") {
      // The write entry's Workers build (cargo feature memory-queue): the durable queue in memory.
      // Neo4j unreachable: the call fails, its event waits in the queue (stats), and clearQueue
      // removes it.
      const logger = new AuditLogger({ url: "http://127.0.0.1:2", retry: { maxAttempts: 1 }, trail: env.TRAIL });
      const ok = await logger.logUserAction({ uid: "u-workerd" }, "WAITS_IN_MEMORY");
      const { queued, failed } = logger.stats();
      const cleared = await logger.clearQueue();
      return Response.json({ ok, queued, failed, cleared, after: logger.stats().queued, dead: await logger.deadLetters() });
    }
    if (path === "/top-level") return Response.json({ topLevel });
    if (path === "/init") {
      // The default export (wasm-bindgen's init) in the Workers build, whose glue has no loader
      // (scripts/minify-glue.mjs --workers): it resolves to the exports workerd.js instantiated.
      const a = await init();
      const b = await init({ module_or_path: "ignored.wasm" });
      return Response.json({ memory: a.memory instanceof WebAssembly.Memory, same: a === b });
    }
    if (path === "/garbage") {
      // Allocations enough for the garbage collector to run (and release the loggers of
      // earlier requests).
      let n = 0;
      for (let i = 0; i < 200; i++) n += new Array(100_000).fill(i).length;
      return new Response(String(n));
    }
    if (path !== "/log") return new Response("ready");
    const config = { url: env.NEO4J_URL, username: env.NEO4J_USER, password: env.NEO4J_PASSWORD, trail: env.TRAIL };
    const logger = new AuditLogger(config);
    const ok = await logger.logUserAction({ uid: "u-workerd" }, "INSTALLED_IN_WORKERD");
    const err = logger.lastError ?? null;
    const reader = new ReadingLogger(config);
    const page = await reader.getAuditTrail({});
    return Response.json({ ok, err, read: page ? page.events.map((e) => e.actionType) : reader.lastError });
  },
};
