// Runs bench/faults (the large fault run: its own Neo4j instance "faults", restarted mid-run, 10 %
// of requests faulted by a proxy) and prints its outcome as one JSON line for bench/results/.
//   node bench/faults_summary.mjs        (knobs: FAULTS_EVENTS, FAULTS_RESTARTS, FAULTS_PER_MILLE)
import { spawnSync } from "node:child_process";

const t0 = performance.now();
const r = spawnSync("bench/faults", [], { encoding: "utf8", maxBuffer: 64 << 20 });
const out = `${r.stdout}\n${r.stderr}`;
process.stderr.write(out.trim().split("\n").slice(-12).join("\n") + "\n");
const num = (label) => Number(out.match(new RegExp(`^${label}:\\s+(\\d+)`, "m"))?.[1] ?? NaN);
console.log(JSON.stringify({
  contender: "bench/faults", passed: r.status === 0,
  events: Number(process.env.FAULTS_EVENTS ?? 10000), restarts: Number(process.env.FAULTS_RESTARTS ?? 2),
  committed: num("committed"), inDatabase: num("in-database"), duplicates: num("duplicates"), lost: num("lost"),
  wallSeconds: (performance.now() - t0) / 1000,
  summary: out.split("\n").filter((l) => /^(bench\/faults|proxy|sent|committed|in-database|duplicates|lost):/.test(l)),
}));
process.exitCode = r.status ?? 1;
