// What a Neo4j (re)plan of the write statement costs one awaited call: the library's own body
// (benchmarkRequestBodyOne) POSTed as it is, with `CYPHER replan=force` (planned every time)
// and with `CYPHER replan=skip` (src/cypher.rs PLAN_ONCE: the cached plan kept), interleaved,
// M iterations; prints each variant's p10 / p50 in ms.
//   node bench/replan_cost.mjs [M]      (env: BENCH_NEO4J_URL)
import * as pkg from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, HTTP, config, event, loadWasm } from "./common.mjs";
import { quantile } from "./stats.mjs";

const M = Number(process.argv[2] ?? 60);
await loadWasm();
const l = new pkg.AuditLogger(config());
const post = async (body) => {
  const t = performance.now();
  const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, { method: "POST", body, headers: { "Content-Type": "application/json", Authorization: AUTH } });
  const j = await r.json();
  if (j.errors.length) throw new Error(JSON.stringify(j.errors));
  return performance.now() - t;
};
const res = { asSent: [], force: [], skip: [] };
for (let i = 0; i < M; i++) {
  for (const k of Object.keys(res)) {
    const e = event(i);
    let body = pkg.benchmarkRequestBodyOne(l, e.user, e.actionType, e.category, e.details);
    if (k !== "asSent") body = body.replace(/"statement":"(CYPHER replan=skip )?/, `"statement":"CYPHER replan=${k} `);
    res[k].push(await post(body));
  }
}
for (const [k, v] of Object.entries(res)) console.log(JSON.stringify({ variant: k, m: M, p10: quantile(v, 0.1), p50: quantile(v, 0.5) }));
