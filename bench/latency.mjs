// P2 latency of one unbatched event in Node: logUserAction awaited alone (its batch holds just it),
// with the durable queue on (the default; memory-only in Node) and off, against a plain fetch of
// the same statement and body (built by the library beforehand, not timed). K rounds of M
// iterations; in each iteration all three run once, in an order rotated per iteration, so each
// sees the same machine. Per round: p50 / p99 of each. 30 warm-up iterations are dropped.
//   node bench/latency.mjs [K] [M]     prints one JSON line per round and contender
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, HTTP, config, emit, event, fresh, loadWasm } from "./common.mjs";
import { quantile } from "./stats.mjs";

const K = Number(process.argv[2] ?? 5);
const M = Number(process.argv[3] ?? 200);
await loadWasm();
await fresh();
const queued = new AuditLogger(config());
const direct = new AuditLogger(config({ queue: { enabled: false } }));
const builder = new AuditLogger(config());
for (const l of [queued, direct]) if (!(await l.ensureSchema())) throw new Error(l.lastError);

let k = 0;
const contenders = {
  "library (queue on)": async () => {
    const e = event(k++);
    if (!(await queued.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(queued.lastError);
  },
  "library (queue off)": async () => {
    const e = event(k++);
    if (!(await direct.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(direct.lastError);
  },
  "plain fetch": async (body) => {
    const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: AUTH },
      body,
    });
    const j = await r.json();
    if (j.errors.length || j.results[0].data[0].row[0] !== 1) throw new Error(JSON.stringify(j.errors));
  },
};
const names = Object.keys(contenders);
const iteration = async (i, record) => {
  const f = event(1e6 + i);
  const body = benchmarkRequestBodyOne(builder, f.user, f.actionType, f.category, f.details);
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length];
    const t = performance.now();
    await contenders[name](body);
    record?.[name].push(performance.now() - t);
  }
};
for (let i = 0; i < 30; i++) await iteration(i);
for (let round = 1; round <= K; round++) {
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < M; i++) await iteration(round * M + i, ms);
  names.forEach((contender, place) => emit({ round, place, contender, n: M, p50: quantile(ms[contender], 0.5),
    p99: quantile(ms[contender], 0.99), mean: ms[contender].reduce((s, x) => s + x, 0) / M }));
}
