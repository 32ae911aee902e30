// P1 diagnostic (not a figure): one sample of a P1 contender with every request traced — when
// it started and ended (ms from the first call), its body bytes and events, the requests in
// flight over time, the gaps with fewer than the bound in flight, and the process CPU. Answers
// "where does the library's batched throughput go against plain fetch" with measurements.
//   node bench/p1_trace.mjs a N [maxEvents] [maxInFlight]    this library (bench/throughput.mjs "a")
//   node bench/p1_trace.mjs lib-prod N C [maxEvents]         one producer, C in flight
//   node bench/p1_trace.mjs http N S M                       plain fetch, S per request, M in flight
// Env: BENCH_NEO4J_URL (the Neo4j to use), TRACE_LIST=1 (print every request), TRACE_QUEUE=0
// (the library's durable queue off), TRACE_SERVER_PID (the Neo4j server's process id, on Linux: its
// CPU during the sample, per event, and its share of the sample's time: how busy Neo4j was).
import { readFileSync } from "node:fs";
import { AuditLogger, benchmarkRequestBody } from "../.cache/bench/pkg/neo4j_audit.js";
import { bytes, uidCount } from "./body.mjs";
import { AUTH, HTTP, config, event, fresh, loadWasm, pool } from "./common.mjs";

const [which, nArg, sArg, mArg] = process.argv.slice(2);
const N = Number(nArg ?? 20000);
await loadWasm();
await fresh();

const reqs = [];
let T0 = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const body = await bytes(init?.body ?? "");
  const r = { url: String(url).replace(/^https?:\/\/[^/]+/, ""), start: performance.now() - T0, bytes: body.length,
    events: uidCount(body) };
  reqs.push(r);
  const resp = await realFetch(url, init);
  const text = await resp.text();
  r.end = performance.now() - T0;
  r.status = resp.status;
  r.respBytes = text.length;
  r.errors = text.includes('"errors":[]') ? 0 : 1;
  return new Response(text, { status: resp.status, headers: resp.headers });
};

let bound = 4;
let syncMs = 0;
let syncCpu;
/** The server's CPU (user + system) so far in ms, from /proc (TRACE_SERVER_PID), or NaN. */
const serverCpuMs = () => {
  const pid = process.env.TRACE_SERVER_PID;
  if (!pid) return NaN;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
};
let run;
if (which === "a" || which === "lib-prod") {
  const batch = {};
  if (which === "a") {
    if (sArg) batch.maxEvents = Number(sArg);
    if (mArg) batch.maxInFlight = Number(mArg);
  } else {
    batch.maxInFlight = Number(sArg ?? 1);
    if (mArg) batch.maxEvents = Number(mArg);
  }
  bound = batch.maxInFlight ?? 4;
  // TRACE_QUEUE=0: the durable queue off (to see its per-event cost).
  const l = new AuditLogger(config({ batch, queue: { maxEvents: N, maxBytes: 1 << 30, ...(process.env.TRACE_QUEUE === "0" ? { enabled: false } : {}) } }));
  if (!(await l.ensureSchema())) throw new Error(l.lastError);
  reqs.length = 0;
  run = async () => {
    const calls = Array.from({ length: N }, (_, i) => {
      const e = event(i);
      return l.logUserAction(e.user, e.actionType, e.category, e.details);
    });
    syncMs = performance.now() - T0;
    syncCpu = process.cpuUsage(cpu0);
    const oks = await Promise.all(calls);
    if (oks.some((x) => x !== true)) throw new Error(l.lastError);
  };
} else if (which === "http") {
  const S = Number(sArg ?? 1000), M = Number(mArg ?? 4);
  bound = M;
  const l = new AuditLogger(config());
  const evs = Array.from({ length: N }, (_, i) => event(i));
  const st = JSON.parse(benchmarkRequestBody(l, evs)).statements[0];
  const bodies = [];
  for (let i = 0; i < N; i += S) bodies.push(JSON.stringify({ statements: [{ statement: st.statement, parameters: { ...st.parameters, events: st.parameters.events.slice(i, i + S) } }] }));
  run = () => pool(bodies.length, M, async (i) => {
    const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: AUTH }, body: bodies[i] });
    const j = await r.json();
    if (j.errors?.length) throw new Error(j.errors[0].code);
  });
} else throw new Error("usage: p1_trace.mjs a|lib-prod|http N ...");

const cpu0 = process.cpuUsage();
const server0 = serverCpuMs();
T0 = performance.now();
await run();
const total = performance.now() - T0;
const cpu = process.cpuUsage(cpu0);
const serverMs = serverCpuMs() - server0;
// In flight over time: time with k requests in flight, k = 0..bound.
const edges = reqs.flatMap((r) => [[r.start, 1], [r.end, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const at = new Array(bound + 2).fill(0);
let k = 0, t = 0;
for (const [x, d] of edges) { at[Math.min(k, bound + 1)] += x - t; t = x; k += d; }
at[0] += total - t;
const ev = reqs.reduce((s, r) => s + r.events, 0);
const out = {
  contender: which, args: process.argv.slice(3), N, ms: +total.toFixed(1), eventsPerSec: Math.round(N / total * 1000),
  cpuMsPerKEvent: +((cpu.user + cpu.system) / 1000 / N * 1000).toFixed(1), cpuShare: +((cpu.user + cpu.system) / 1000 / total).toFixed(2),
  requests: reqs.length, eventsSent: ev, retriesOrErrors: reqs.filter((r) => r.errors || r.status !== 200).length,
  syncMs: +syncMs.toFixed(1),
  // The client's CPU after the last call was made (the part that competes with Neo4j's).
  cpuMsAfterCalls: +((cpu.user + cpu.system - (syncCpu ? syncCpu.user + syncCpu.system : 0)) / 1000).toFixed(1),
  serverCpuUsPerEvent: Number.isNaN(serverMs) ? undefined : +(serverMs / N * 1000).toFixed(1),
  serverCores: Number.isNaN(serverMs) ? undefined : +(serverMs / total).toFixed(2),
  firstRequestAtMs: +(reqs[0]?.start ?? 0).toFixed(1),
  first8Batches: reqs.slice(0, 8).map((r) => r.events),
  bytesPerEvent: +(reqs.reduce((s, r) => s + r.bytes, 0) / Math.max(ev, 1)).toFixed(1),
  respBytesPerRequest: Math.round(reqs.reduce((s, r) => s + r.respBytes, 0) / Math.max(reqs.length, 1)),
  msWithKInFlight: at.map((x) => +x.toFixed(1)),
  meanRequestMs: +(reqs.reduce((s, r) => s + r.end - r.start, 0) / Math.max(reqs.length, 1)).toFixed(1),
  lastEndMs: +(Math.max(...reqs.map((r) => r.end))).toFixed(1),
};
console.log(JSON.stringify(out));
if (process.env.TRACE_LIST === "1") for (const r of reqs) console.log(JSON.stringify(r));
