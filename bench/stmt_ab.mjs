// The write statement's cost in Neo4j alone, A/B: plain fetch of prepared bodies (the client costs
// ~nothing, as bench/throughput.mjs's `http` contender), K interleaved rounds (order rotated per
// round), each sample into a freshly emptied database; prints each contender's median events/s and
// the median per-round ratio to the first with its 95 % bootstrap interval (bench/stats.mjs).
//   node bench/stmt_ab.mjs K N S M name=TEXT ...
// N events per sample, S events per request, M requests in flight (c1: S = M = 1). TEXT: a file
// holding a statement, `-` for the library's own (the bench build's), or `@tx:` / `@query:` before
// either to pick the endpoint (default tx/commit). Every sample checks the graph (bench/common.mjs
// census: N events, N HAS_EVENT, N PERFORMED_BY, one trail) unless the name starts with `~` (a
// diagnostic floor, e.g. `RETURN size($events) AS written`). Env: BENCH_NEO4J_URL; BENCH_NEO4J_PID
// (that server's JVM on this machine): also its CPU per event while the sample ran (utime + stime
// from /proc, all its threads; on a loaded machine steadier than the wall-clock rate).
import { readFileSync } from "node:fs";
import { execSync } from "node:child_process";
import { AuditLogger, benchmarkRequestBody } from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, HTTP, census, config, event, fresh, loadWasm, pool } from "./common.mjs";
import { median, ratioCI } from "./stats.mjs";

const [kArg, nArg, sArg, mArg, ...specs] = process.argv.slice(2);
const [K, N, S, M] = [kArg, nArg, sArg, mArg].map(Number);
await loadWasm();
const lib = (() => {
  const l = new AuditLogger(config());
  const evs = Array.from({ length: N }, (_, i) => event(i));
  const st = JSON.parse(benchmarkRequestBody(l, evs)).statements[0];
  l.free();
  return st;
})();
const contenders = specs.map((s) => {
  const [name, rest] = [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)];
  const api = rest.startsWith("@query:") ? "query" : "tx";
  const src = rest.replace(/^@(tx|query):/, "");
  const text = src === "-" ? lib.statement : readFileSync(src, "utf8").trim();
  const bodies = [];
  for (let i = 0; i < N; i += S) {
    const parameters = { ...lib.parameters, events: lib.parameters.events.slice(i, i + S) };
    bodies.push(JSON.stringify(api === "tx" ? { statements: [{ statement: text, parameters }] } : { statement: text, parameters }));
  }
  return { name, api, bodies, rates: [], cpu: [] };
});
async function post(api, body) {
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(`${HTTP}/db/neo4j/${api === "tx" ? "tx/commit" : "query/v2"}`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: AUTH }, body,
    });
    const j = await r.json();
    if (!j.errors?.length) return;
    if (attempt >= 5 || !j.errors[0].code.startsWith("Neo.TransientError.")) throw new Error(`${j.errors[0].code}: ${j.errors[0].message}`);
  }
}
const PID = process.env.BENCH_NEO4J_PID;
const TICK = PID ? Number(execSync("getconf CLK_TCK")) : 0;
/** The JVM's CPU so far, ms (fields 14 and 15 of /proc/PID/stat, after the command's parentheses). */
const jvmMs = () => {
  if (!PID) return NaN;
  const f = readFileSync(`/proc/${PID}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
};
for (let round = 0; round < K; round++) {
  for (let i = 0; i < contenders.length; i++) {
    const c = contenders[(i + round) % contenders.length];
    await fresh();
    await post(c.api, c.bodies[0]); // the first request (plan cache, connection) outside the clock
    await fresh();
    const [t0, cpu0] = [performance.now(), jvmMs()];
    await pool(c.bodies.length, M, (j) => post(c.api, c.bodies[j]));
    const eps = N / ((performance.now() - t0) / 1000);
    c.cpu[round] = ((jvmMs() - cpu0) * 1000) / N; // µs per event
    const g = await census();
    if (!c.name.startsWith("~") && (g.events !== N || g.hasEvent !== N || g.performedBy !== N || g.trails !== 1)) throw new Error(`${c.name}: graph ${JSON.stringify(g)}`);
    c.rates[round] = eps;
    console.error(`round ${round + 1}/${K} ${c.name}: ${Math.round(eps)} events/s${PID ? `, Neo4j CPU ${Math.round(c.cpu[round])} µs/event` : ""}`);
  }
}
const first = contenders[0];
for (const c of contenders) {
  const line = { contender: c.name, api: c.api, n: N, perRequest: S, inFlight: M, medianEventsPerSec: Math.round(median(c.rates)), samples: c.rates.map(Math.round) };
  if (PID) Object.assign(line, { medianNeo4jCpuUsPerEvent: Math.round(median(c.cpu)), cpuSamples: c.cpu.map(Math.round) });
  if (c !== first) {
    line[`ratioTo_${first.name}`] = ratioCI(c.rates.map((x, i) => ({ a: x, b: first.rates[i] })));
    if (PID) line[`cpuRatioTo_${first.name}`] = ratioCI(c.cpu.map((x, i) => ({ a: x, b: first.cpu[i] })));
  }
  console.log(JSON.stringify(line));
}
