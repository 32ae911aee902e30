// P2 latency of one unbatched event in Node: logUserAction awaited alone (its batch holds just it),
// with the durable queue on (the default; memory-only in Node) and off, against a plain fetch of
// the same statement and body (built by the library beforehand, not timed): bench/p2_page.mjs's
// contenders and rounds (K rounds of M iterations, each contender once per iteration in a shuffled
// order, so each sees the same machine; 30 warm-up iterations dropped). Per round: p50 / p99 of each,
// and its samples (ms, to 1 µs), which bench/report.mjs pools over rounds for the p99 ratio.
//   node bench/latency.mjs [K] [M]     prints one JSON line per round and contender
import * as pkg from "../.cache/bench/pkg/neo4j_audit.js";
import { HTTP, PASSWORD, USER, config, emit, fresh, loadWasm } from "./common.mjs";
import { contenders, elapsed, rounds, us } from "./p2_page.mjs";
import { quantile } from "./stats.mjs";

const K = Number(process.argv[2] ?? 5);
const M = Number(process.argv[3] ?? 200);
await loadWasm();
await fresh();
const queued = new pkg.AuditLogger(config());
const direct = new pkg.AuditLogger(config({ queue: { enabled: false } }));
const builder = new pkg.AuditLogger(config());
for (const l of [queued, direct]) if (!(await l.ensureSchema())) throw new Error(l.lastError);
const recs = await rounds({ pkg, builder, contenders: contenders({ url: HTTP, user: USER, password: PASSWORD, queued, direct }), k: K, m: M, measure: elapsed });
recs.forEach((rec, i) => Object.entries(rec).forEach(([contender, ms], place) => emit({ round: i + 1, place, contender, n: ms.length,
  p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), mean: ms.reduce((s, x) => s + x, 0) / ms.length, samples: ms.map(us) })));
