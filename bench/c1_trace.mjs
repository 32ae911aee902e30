// The "lib c1" sample of bench/throughput.mjs (fresh database, one logger with defaults, settle,
// N calls each awaited) with each call's time kept: where the sample's seconds go. Contender
// "plain": the same N events as bodies the library built before the clock (its first body the
// guarded one, as a logger's first write is), each POSTed with fetch and awaited.
//   node bench/c1_trace.mjs lib|plain [N]   prints one JSON line (ms): the total, the first call,
//   calls 1-9, the rest's p50 and mean, the 5 slowest (index, ms), and the process's CPU
import * as pkg from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, HTTP, config, emit, event, fresh, loadWasm } from "./common.mjs";
import { quantile } from "./stats.mjs";

const which = process.argv[2] ?? "lib";
const N = Number(process.argv[3] ?? 300);
const cpu0 = process.cpuUsage();
await loadWasm();
await fresh();
const l = new pkg.AuditLogger(config());
if (!(await l.ensureSchema())) throw new Error(l.lastError);
let call;
if (which === "lib") {
  call = async (i) => {
    const e = event(i);
    if (!(await l.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(l.lastError);
  };
} else {
  // Bodies as the library would send them: the first through a new logger's guarded write.
  const bodies = [];
  const real = globalThis.fetch;
  const b = new pkg.AuditLogger(config());
  globalThis.fetch = async (_url, init) => {
    bodies.push(new TextDecoder().decode(init.body));
    throw new Error("kept");
  };
  const e0 = event(0);
  await b.logUserAction(e0.user, e0.actionType, e0.category, e0.details);
  globalThis.fetch = real;
  await b.close(0);
  for (let i = 1; i < N; i++) {
    const e = event(i);
    bodies.push(pkg.benchmarkRequestBodyOne(l, e.user, e.actionType, e.category, e.details));
  }
  // C1_PREFIX: put before each statement's text (e.g. "CYPHER replan=skip ").
  const prefix = process.env.C1_PREFIX ?? "";
  if (prefix) bodies.forEach((b, i) => (bodies[i] = b.replace('"statement":"', `"statement":"${prefix}`)));
  call = async (i) => {
    const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, { method: "POST", body: bodies[i],
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: AUTH } });
    const j = await r.json();
    if (j.errors.length || j.results[0].data[0].row[0] !== 1) throw new Error(JSON.stringify(j.errors));
  };
}
await new Promise((r) => setTimeout(r, Number(process.env.BENCH_SETTLE_MS ?? 500)));
const cpu1 = process.cpuUsage();
const ms = [];
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const t = performance.now();
  await call(i);
  ms.push(performance.now() - t);
}
const total = performance.now() - t0;
const cpu = process.cpuUsage(cpu1);
const rest = ms.slice(10);
const r1 = (x) => Math.round(x * 100) / 100;
const slow = ms.map((x, i) => [i, r1(x)]).sort((a, b) => b[1] - a[1]).slice(0, 5);
emit({ which, prefix: process.env.C1_PREFIX, n: N, totalMs: r1(total), first: r1(ms[0]), next9: r1(ms.slice(1, 10).reduce((s, x) => s + x, 0)),
  restP50: r1(quantile(rest, 0.5)), restMean: r1(rest.reduce((s, x) => s + x, 0) / rest.length), slow,
  loopCpuMs: r1((cpu.user + cpu.system) / 1000), procCpuMs: r1((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000) });
