// P1 side by side, for a change's A/B (not a figure: nothing is appended to bench/results/): K
// interleaved rounds (order rotated per round) of bench/throughput.mjs contenders, each "name[,ENV=V...]:args",
// one process per sample; prints each contender's median events/s and, per contender, the median
// per-round ratio to the first with its 95 % bootstrap interval (bench/stats.mjs).
//   node bench/p1_ab.mjs K "a:a 20000" "fetch:http 20000 1000 4" "b5000,BENCH_BATCH=5000:lib-prod 10000 1" ...
// CWD=dir among a contender's ENV runs it in another tree (its bench/ and .cache/bench/pkg: a
// build before/after a change). Env: BENCH_NEO4J_URL / BENCH_NEO4J_BOLT (the Neo4j to use).
import { spawnSync } from "node:child_process";
import { median, ratioCI } from "./stats.mjs";

const [kArg, ...specs] = process.argv.slice(2);
const K = Number(kArg);
const contenders = specs.map((s) => {
  const [head, args] = [s.slice(0, s.indexOf(":")), s.slice(s.indexOf(":") + 1).split(/\s+/).filter(Boolean)];
  const [name, ...envs] = head.split(",");
  const env = Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return { name, env, args };
});
const rates = Object.fromEntries(contenders.map((c) => [c.name, []]));
for (let round = 0; round < K; round++) {
  for (let i = 0; i < contenders.length; i++) {
    const c = contenders[(i + round) % contenders.length];
    const { CWD: cwd, ...env } = c.env;
    const r = spawnSync("node", ["bench/throughput.mjs", ...c.args], { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 15 * 60 * 1000 });
    const line = r.stdout.split("\n").filter((l) => l.startsWith("{")).pop();
    // A failed sample is reported and left out (with its round's ratios); the run goes on.
    const eps = r.status === 0 && line ? JSON.parse(line).eventsPerSec : NaN;
    rates[c.name][round] = eps;
    console.error(`round ${round + 1}/${K} ${c.name}: ${Number.isNaN(eps) ? `ERROR ${(r.stderr || "").trim().split("\n").filter((l) => !l.startsWith("    at")).slice(-3).join(" / ")}` : `${Math.round(eps)} events/s`}`);
  }
}
const first = contenders[0].name;
for (const c of contenders) {
  const xs = rates[c.name];
  const line = { contender: c.name, args: c.args.join(" "), env: c.env, medianEventsPerSec: Math.round(median(xs.filter((x) => !Number.isNaN(x)))), samples: xs.map(Math.round) };
  if (c.name !== first) {
    const ci = ratioCI(xs.map((x, i) => ({ a: x, b: rates[first][i] })));
    line[`ratioTo_${first}`] = ci;
  }
  console.log(JSON.stringify(line));
}
