// A/B of two builds of the read entry on the same stored trail: getAuditTrail pages and
// verifyTrail timed with build A and build B in interleaved rounds (the order alternates per
// round), against the Neo4j at NEO4J_URL. For a change to the read side's JS edge (e.g. how
// results become JS objects): the same queries, the same answers, different code around them.
// Prints one JSON line per sample and, per operation, the median of the per-round ratios B/A of
// the times with its 95 % bootstrap interval (bench/stats.mjs): wall time, and the client's CPU
// time (process.cpuUsage: this process's user + system time, which excludes Neo4j's work and
// the wait for it, so it shows the client-side cost even on a loaded machine).
//   node bench/read_ab.mjs DIR_A DIR_B [N=5000] [K=7]
// DIR_*: a `wasm-bindgen --target web` output of the read or verify entry (neo4j_audit.js beside
// neo4j_audit_bg.wasm, or opt.wasm when present: bench/size's .cache/bench/size/fetch/bare/ or
// .cache/bench/size/verify/bare/); verifyTrail is timed when both have it.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ratioCI } from "./stats.mjs";

const [dirA, dirB] = process.argv.slice(2, 4).map((d) => resolve(d));
const N = Number(process.argv[4] ?? 5000);
const K = Number(process.argv[5] ?? 7);
const URL_ = process.env.NEO4J_URL ?? "http://127.0.0.1:7474";
const cfg = (trail) => ({ url: URL_, username: process.env.NEO4J_USER ?? "neo4j",
  password: process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev", trail, timeoutMs: 120000,
  queue: { enabled: false } });

async function load(dir) {
  const pkg = await import(pathToFileURL(`${dir}/neo4j_audit.js`).href);
  const wasm = existsSync(`${dir}/opt.wasm`) ? `${dir}/opt.wasm` : `${dir}/neo4j_audit_bg.wasm`;
  pkg.initSync({ module: readFileSync(wasm) });
  return pkg;
}
const A = await load(dirA);
const B = await load(dirB);
const trail = `read-ab-${Date.now()}`;
const writer = new A.AuditLogger(cfg(trail));
if (!(await writer.ensureSchema())) throw new Error(writer.lastError);
const users = ["u-ann", "u-bob", "u-cid", "u-dee"];
for (let j = 0; j < N; j += 500) {
  const oks = await Promise.all(Array.from({ length: Math.min(500, N - j) }, (_, i) => writer.logUserAction(
    { uid: users[(j + i) % 4], name: users[(j + i) % 4] }, (j + i) % 5 ? "DOCUMENT_VIEWED" : "LOGIN",
    (j + i) % 5 ? "DOCUMENT_MANAGEMENT" : "SECURITY", { document_id: `doc-${(j + i) % 97}`, n: j + i, tags: ["a", "b"], ok: true })));
  if (!oks.every((x) => x === true)) throw new Error(`writes failed: ${writer.lastError}`);
}
const loggers = { A: new A.AuditLogger(cfg(trail)), B: new B.AuditLogger(cfg(trail)) };
const ops = {
  "page (limit 500)": async (l) => { const p = await l.getAuditTrail({ limit: 500 }); if (p?.events?.length !== Math.min(500, N)) throw new Error(l.lastError); },
  "user page (limit 50)": async (l) => { const p = await l.getUserActivity("u-bob", { limit: 50 }); if (p?.events?.length !== 50) throw new Error(l.lastError); },
};
// verifyTrail when both builds have it (neo4j-audit/verify; neo4j-audit/read has no verifyTrail since
// it got an entry of its own: compare a read entry's pages with the other build's read or verify entry).
if ("verifyTrail" in loggers.A && "verifyTrail" in loggers.B) {
  ops[`verifyTrail (${N} events)`] = async (l) => { const r = await l.verifyTrail(); if (!r?.ok || r.checked !== N) throw new Error(l.lastError ?? JSON.stringify(r).slice(0, 200)); };
} else console.error("verifyTrail: not timed (a build without it: neo4j-audit/read)");
// Same answers from both builds.
const pa = await loggers.A.getAuditTrail({ limit: 20 }), pb = await loggers.B.getAuditTrail({ limit: 20 });
if (JSON.stringify(pa) !== JSON.stringify(pb)) throw new Error("the builds answer differently");
for (const l of Object.values(loggers)) for (const op of Object.values(ops)) await op(l); // warm-up
const times = {};
for (let round = 1; round <= K; round++) {
  for (const [name, op] of Object.entries(ops)) {
    const order = round % 2 ? ["A", "B"] : ["B", "A"];
    for (const who of order) {
      const c = process.cpuUsage();
      const t = performance.now();
      await op(loggers[who]);
      const ms = performance.now() - t;
      const { user, system } = process.cpuUsage(c);
      const cpuMs = (user + system) / 1000;
      ((times[name] ??= {})[who] ??= []).push({ ms, cpuMs });
      console.log(JSON.stringify({ round, op: name, build: who, ms, cpuMs }));
    }
  }
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const [name, t] of Object.entries(times)) {
  for (const m of ["ms", "cpuMs"]) {
    const a = t.A.map((s) => s[m]), b = t.B.map((s) => s[m]);
    const ci = ratioCI(a.map((x, i) => ({ a: b[i], b: x })));
    console.error(`${name} ${m === "ms" ? "wall" : "client CPU"}: A median ${med(a).toFixed(1)} ms, ` +
      `B median ${med(b).toFixed(1)} ms, B/A ${ci.point.toFixed(3)} [${ci.lo.toFixed(3)}, ${ci.hi.toFixed(3)}] (k=${ci.k})`);
  }
}
