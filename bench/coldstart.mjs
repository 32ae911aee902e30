// P5 cold start in workerd (Miniflare, local). Per round, five Workers start in a fresh workerd
// each (order rotated per round), answer one request and stop; the CPU the workerd process used
// from spawn to that answer is read from /proc/<pid>/task/*/schedstat (nanoseconds):
//   empty     no wasm, no request to Neo4j (workerd's own start-up)
//   baseline  no wasm, one fetch of the identical body the library sends for the same event
//   init      the library instantiated at module load, nothing sent
//   schema    init + ensureSchema()
//   library   init + one logUserAction (as an application's first request does)
// Requests reach Neo4j through a counting proxy, so each start's round trips are counted too.
// The library's extra CPU = library - baseline; split: instantiation = init - empty,
// schema = schema - init, first event = library - schema.
//   node bench/coldstart.mjs [rounds]    prints one JSON line per round and Worker
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import { Miniflare } from "miniflare";
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { HTTP, PASSWORD, config, emit, event, loadWasm } from "./common.mjs";

const ROUNDS = Number(process.argv[2] ?? 20);
const VARIANTS = { empty: "empty.js", baseline: "baseline.js", init: "init.js", schema: "schema.js", library: "worker.js" };

/** CPU of this process's workerd children: sum over their threads, ns (schedstat) and ms (stat ticks). */
function workerdCpu() {
  let ns = 0;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      if (!comm.startsWith("workerd") || Number(f[1]) !== process.pid) continue;
      ticks += Number(f[11]) + Number(f[12]);
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
      }
    } catch {}
  }
  return { cpuMs: ns / 1e6, tickMs: ticks * 10 };
}

// The counting proxy in front of the bench Neo4j.
let requests = 0;
const proxy = createServer(async (req, res) => {
  requests++;
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const headers = { ...req.headers };
  delete headers.host;
  delete headers["content-length"];
  const r = await fetch(`${HTTP}${req.url}`, { method: req.method, headers, body: req.method === "GET" ? undefined : Buffer.concat(chunks) });
  const body = Buffer.from(await r.arrayBuffer());
  res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" }).end(body);
});
await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
const URL_ = `http://127.0.0.1:${proxy.address().port}`;

await loadWasm();
const builder = new AuditLogger(config());
let bodies = 0;
function body() {
  const e = event(2e6 + bodies++);
  return benchmarkRequestBodyOne(builder, { uid: "user-1", name: "User 1" }, e.actionType, e.category, e.details);
}

async function once(script) {
  requests = 0;
  const t0 = performance.now();
  const mf = new Miniflare({
    scriptPath: new URL(`./coldstart/${script}`, import.meta.url).pathname,
    modules: true,
    modulesRoot: new URL("..", import.meta.url).pathname,
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-26",
    bindings: { NEO4J_URL: URL_, NEO4J_PASSWORD: PASSWORD, BODY: body() },
  });
  try {
    const res = await mf.dispatchFetch("http://localhost/");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${script}: ${text}`);
    return { ...workerdCpu(), wallMs: performance.now() - t0, requests };
  } finally {
    await mf.dispose();
  }
}

await once("worker.js"); // warm-up: page cache, Neo4j's plan cache; not recorded
const names = Object.keys(VARIANTS);
for (let round = 1; round <= ROUNDS; round++) {
  for (let j = 0; j < names.length; j++) {
    const contender = names[(j + round - 1) % names.length];
    emit({ round, place: j, contender, ...(await once(VARIANTS[contender])) });
  }
}
proxy.close();
