// P2 latency of one unbatched event: logUserAction awaited alone (so its batch holds just it)
// against a plain JS fetch of the same statement and body (built by the library beforehand, not
// timed), interleaved so both see the same machine. N >= 500 each, after 30 warm-up rounds.
//   node bench/latency.mjs [N]
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, HTTP, config, emit, event, fresh, loadWasm, quantile } from "./common.mjs";

const N = Number(process.argv[2] ?? 500);
await loadWasm();
await fresh();
const lib = new AuditLogger(config());
const builder = new AuditLogger(config());
if (!(await lib.ensureSchema())) throw new Error(lib.lastError);
const libMs = [];
const fetchMs = [];
for (let i = 0; i < N + 30; i++) {
  const e = event(i);
  let t = performance.now();
  if (!(await lib.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(lib.lastError);
  const a = performance.now() - t;
  const f = event(100000 + i);
  const body = benchmarkRequestBodyOne(builder, f.user, f.actionType, f.category, f.details);
  t = performance.now();
  const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: AUTH },
    body,
  });
  const j = await r.json();
  const b = performance.now() - t;
  if (j.errors.length || j.results[0].data[0].row[0] !== 1) throw new Error(JSON.stringify(j.errors));
  if (i >= 30) {
    libMs.push(a);
    fetchMs.push(b);
  }
}
for (const [id, xs] of [["library", libMs], ["plain-fetch", fetchMs]]) {
  xs.sort((p, q) => p - q);
  emit({ figure: "P2", id, n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), mean: xs.reduce((s, x) => s + x, 0) / xs.length });
}
