// P5 cold start in workerd (Miniflare, local). Per round, each Worker starts in a fresh workerd
// (order rotated per round), answers one request and stops; the CPU the workerd process used
// from spawn to that answer is read from /proc/<pid>/task/*/schedstat (nanoseconds):
//   empty     no wasm, no request to Neo4j (workerd's own start-up)
//   baseline  no wasm, one fetch of the identical body the library sends for the same event
//   compile   the write entry's .wasm as a module of the Worker, never instantiated (compile at load)
//   import    the package's Workers entry imported (instantiates at import), nothing else
//   init      import + one AuditLogger made (and freed)
//   schema    init + ensureSchema()
//   library   init + one logUserAction (as an application's first request does)
//   second    library + a second logUserAction on the same logger (what a warm event costs)
// The Workers import what users ship: pkg/workerd.js, the file the published package's "workerd"
// condition of its root entry ("neo4j-audit", the write path: features fetch) resolves to —
// checked below against pkg/package.json — with pkg/ as scripts/build makes it.
// Requests reach Neo4j through a counting proxy, so each start's round trips are counted too.
// The library's extra CPU = library - baseline; split: compile = compile - empty, instantiation
// = import - empty, first AuditLogger = init - import, schema = schema - init, first event =
// library - init (schema step included), warm event = second - library.
//   node bench/coldstart.mjs [rounds]    prints one JSON line per round and Worker
// P5_PORT: the port of workerd's entry socket (default: one the system picks).
// Neo4j: BENCH_NEO4J_URL (default the bench instance, http://127.0.0.1:7476). P5_CONTENDERS
// (comma-separated) runs a subset, e.g. when looking at one part.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Miniflare } from "miniflare";
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { HTTP, PASSWORD, config, emit, event, loadWasm } from "./common.mjs";

const ROUNDS = Number(process.argv[2] ?? 20);
const ALL = { empty: "empty.js", baseline: "baseline.js", compile: "compile.js", import: "import.js", init: "init.js", schema: "schema.js", library: "worker.js", second: "second.js" };
const VARIANTS = process.env.P5_CONTENDERS
  ? Object.fromEntries(process.env.P5_CONTENDERS.split(",").map((c) => [c, ALL[c] ?? (() => { throw new Error(`P5: no contender ${c}`); })()]))
  : { ...ALL };

// P5_ALT="name=dir,...": the init and library Workers once more per round for each other build of
// the write entry in dir (a wasm-pack --target web output with a workerd.js beside it), as
// contenders init@name and library@name, paired with the shipped ones in the same rounds (for
// comparing a change before it goes into pkg/).
for (const spec of (process.env.P5_ALT ?? "").split(",").filter(Boolean)) {
  const [name, dir] = spec.split("=");
  const out = new URL("../.cache/bench/coldstart-alt/", import.meta.url);
  mkdirSync(out, { recursive: true });
  for (const [c, file] of [["init", "init.js"], ["library", "worker.js"]]) {
    const text = readFileSync(new URL(`./coldstart/${file}`, import.meta.url), "utf8")
      .replace("../../pkg/workerd.js", `../../../${dir.replace(/^\.\//, "")}/workerd.js`);
    writeFileSync(new URL(`${c}@${name}.js`, out), text);
    VARIANTS[`${c}@${name}`] = `../../.cache/bench/coldstart-alt/${c}@${name}.js`;
  }
}

// The Workers import pkg/workerd.js: it must be what the package's root entry gives workerd.
{
  const root = new URL("../pkg/", import.meta.url);
  const exp = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).exports?.["."];
  if (exp?.workerd !== "./workerd.js" || !readFileSync(new URL("workerd.js", root), "utf8").includes("initSync")) {
    throw new Error(`P5: pkg/package.json exports["."].workerd is ${JSON.stringify(exp?.workerd)}, not ./workerd.js (run scripts/build)`);
  }
}

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
// P5_PROXY_PORT: the counting proxy's port (default: one the system picks).
await new Promise((r) => proxy.listen(Number(process.env.P5_PROXY_PORT ?? 0), "127.0.0.1", r));
const URL_ = `http://127.0.0.1:${proxy.address().port}`;

await loadWasm();
const builder = new AuditLogger(config());
let bodies = 0;
/** The next event and the body the library sends for it: the library Workers log the event
 * (env.EVENT), the baseline posts the body (env.BODY); every Worker gets both bindings. */
function next() {
  const e = event(2e6 + bodies++);
  return { EVENT: e, BODY: benchmarkRequestBodyOne(builder, e.user, e.actionType, e.category, e.details) };
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
    // P5_PORT: workerd's entry socket on a fixed port (default: one the system picks).
    ...(process.env.P5_PORT ? { port: Number(process.env.P5_PORT) } : {}),
    bindings: { NEO4J_URL: URL_, NEO4J_PASSWORD: PASSWORD, ...next() },
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
