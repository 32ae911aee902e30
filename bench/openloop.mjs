// Steady-rate (open-loop) workload: events arrive at a fixed rate, whatever the library's progress,
// at 50 % and 90 % of Neo4j's limit as this run measured it (the median over rounds of each
// round's best limit finalist, from bench/results/P1.jsonl). Each event's latency runs from its
// scheduled arrival to its logUserAction resolving (so a backlog shows up in full). K rounds, the
// two loads alternating in order; a fresh database and a fresh logger (library defaults) per load.
//   node bench/openloop.mjs [K] [SECONDS]       (BENCH_RUN_ID: which run's limit to use)
import { readFileSync } from "node:fs";
import { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";
import { census, config, emit, event, fresh, loadWasm } from "./common.mjs";
import { median, quantile } from "./stats.mjs";

const K = Number(process.argv[2] ?? 5);
const SECONDS = Number(process.argv[3] ?? 10);
const RUN = process.env.BENCH_RUN_ID;
const p1 = readFileSync(new URL("./results/P1.jsonl", import.meta.url), "utf8").split("\n").filter(Boolean)
  .map((l) => JSON.parse(l)).filter((r) => r.run === RUN && r.ok && r.contender?.startsWith("limit"));
const best = new Map();
for (const r of p1) best.set(r.round, Math.max(best.get(r.round) ?? 0, r.eventsPerSec));
const LIMIT = median([...best.values()]);
if (!Number.isFinite(LIMIT)) throw new Error(`no P1 limit samples for run ${RUN}`);
await loadWasm();

async function load(fraction, duration = SECONDS) {
  await fresh();
  const rate = fraction * LIMIT;
  const n = Math.round(rate * duration);
  const l = new AuditLogger(config({ queue: { maxEvents: n, maxBytes: 1 << 30 } }));
  if (!(await l.ensureSchema())) throw new Error(l.lastError);
  const lat = new Array(n);
  const calls = [];
  const t0 = performance.now();
  let i = 0;
  while (i < n) {
    const now = performance.now();
    for (; i < n && t0 + (i * 1000) / rate <= now; i++) {
      const due = t0 + (i * 1000) / rate;
      const e = event(i);
      const k = i;
      calls.push(l.logUserAction(e.user, e.actionType, e.category, e.details).then((ok) => {
        if (!ok) throw new Error(l.lastError);
        lat[k] = performance.now() - due;
      }));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(calls);
  const seconds = (performance.now() - t0) / 1000;
  const c = await census();
  l.free();
  return { fraction, limit: LIMIT, offeredPerSec: rate, n, seconds, achievedPerSec: n / seconds,
    p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat.reduce((a, b) => Math.max(a, b), -Infinity), ok: c.events === n };
}
await load(0.5, Math.min(2, SECONDS)); // warm-up (JIT, connections, plans), not recorded
for (let round = 1; round <= K; round++) {
  const order = round % 2 ? [0.5, 0.9] : [0.9, 0.5];
  for (const [place, fr] of order.entries()) emit({ round, place, contender: `${fr * 100} % of the limit`, ...(await load(fr)) });
}
