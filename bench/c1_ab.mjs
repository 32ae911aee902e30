// A/B of the "lib c1" sample between two trees (each holding bench/ and .cache/bench/pkg), as
// P1seed's rounds see it: before each arm's sample a batched run of the same tree
// (throughput.mjs lib-prod 3000 1) changed the counts its plans were made with, then > 10 s
// (Neo4j's minimum replan interval, dbms.cypher.min_replan_interval) pass; then
// bench/c1_trace.mjs lib 300 (the first call, calls 1-9, the rest). Order alternates per round.
// Prints each measure's median with its 95 % bootstrap interval, and the median ratio B/A.
//   node bench/c1_ab.mjs K TREE_A TREE_B      (env: BENCH_NEO4J_URL, BENCH_NEO4J_BOLT)
import { spawnSync } from "node:child_process";
import { ratioCI, medianCI } from "./stats.mjs";
const [K, A, B] = [Number(process.argv[2] ?? 6), process.argv[3], process.argv[4]];
const res = { A: [], B: [] };
const dir = (w) => (w === "A" ? A : B);
for (let k = 0; k < K; k++) {
  const order = k % 2 ? ["B", "A"] : ["A", "B"];
  for (const w of order) spawnSync("node", [`${dir(w)}/bench/throughput.mjs`, "lib-prod", "3000", "1"], { encoding: "utf8" });
  spawnSync("sleep", ["8"]);
  for (const w of order) {
    const r = spawnSync("node", [`${dir(w)}/bench/c1_trace.mjs`, "lib", "300"], { encoding: "utf8" });
    const j = JSON.parse(r.stdout.trim().split("\n").pop());
    res[w].push(j);
    console.error(w, j.totalMs, j.first, j.next9, j.restP50, j.restMean, JSON.stringify(j.slow.slice(0, 3)));
  }
}
const f = (x) => `${x.point.toFixed(2)} [${x.lo.toFixed(2)}, ${x.hi.toFixed(2)}]`;
for (const key of ["totalMs", "first", "next9", "restP50", "restMean", "loopCpuMs"]) {
  const pairs = res.A.map((a, i) => ({ a: res.B[i][key], b: a[key] }));
  console.log(key, "A", f(medianCI(res.A.map((x) => x[key]))), "B", f(medianCI(res.B.map((x) => x[key]))), "B/A", f(ratioCI(pairs)));
}
console.log("rate (300 / total s): A", f(medianCI(res.A.map((x) => 300000 / x.totalMs))), "B", f(medianCI(res.B.map((x) => 300000 / x.totalMs))));
