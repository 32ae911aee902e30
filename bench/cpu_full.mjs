// P3 "full call" in Node: process CPU per logUserAction call, from the call to its resolved
// `true` — validation, redaction, UID, time, hash chain, the durable queue (the default: memory
// in Node), batching and pipelining (library defaults: up to 1000 events per request, 4 in flight; the JS logger the same), the
// request body, `fetch`, reading the answer — with `fetch` replaced by a stub that answers
// success like Neo4j (no network, no server). Contenders: the shipped package (pkg/, entry
// `neo4j-audit` for Node) and a hand-written JS logger doing the same (bench/js_equivalent.mjs
// makeJsLogger, SHA-256 by node:crypto). Each sample: a fresh logger, N calls submitted at once,
// all awaited; the stub is the same function for both and costs the same per request.
//   node bench/cpu_full.mjs [N] [K]     K rounds, order alternated; one JSON line per round and contender
import { createHash } from "node:crypto";
import { emit } from "./common.mjs";
import { bytes, uidCount } from "./body.mjs";
import { event } from "./events.mjs";
import { makeJsLogger } from "./js_equivalent.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
const URL_ = "http://127.0.0.1:2/db/neo4j/tx/commit";
let requests = 0;
// Neo4j's answers: the schema check counts its 9 names online; a write reports how many events it
// wrote (counted in the body by their UID keys, the same way for both contenders).
const stub = async (_url, init) => {
  requests++;
  const body = await bytes(init.body);
  const n = body.includes("SHOW INDEXES") ? 9 : uidCount(body);
  return new Response(`{"results":[{"columns":["n"],"data":[{"row":[${n}],"meta":[null]}]}],"errors":[]}`, {
    status: 200, headers: { "Content-Type": "application/json" },
  });
};
globalThis.fetch = stub;
const { AuditLogger } = await import("../pkg/node.js");

const auth = "Basic " + Buffer.from("neo4j:x").toString("base64");
let statement;
{
  const l = new AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
  globalThis.fetch = async (u, init) => {
    const st = JSON.parse((await bytes(init.body)).toString()).statements?.[0]?.statement;
    if (st && !st.includes("SHOW INDEXES")) statement ??= st;
    return stub(u, init);
  };
  if (!(await l.logUserAction(event(0).user, "X", "Y", { a: 1 }))) throw new Error(`warm-up: ${l.lastError}`);
  await l.close?.();
  globalThis.fetch = stub;
}
const events = Array.from({ length: N }, (_, i) => event(i));
const contenders = {
  "wasm-full-node": () => {
    // Defaults, except that the queue may hold all N at once (its default bounds are 10 000 events and 8 MiB).
    const l = new AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench", queue: { maxEvents: Math.max(10000, N), maxBytes: Math.max(8 << 20, N * 1024) } });
    return { call: (e) => l.logUserAction(e.user, e.actionType, e.category, e.details), end: () => l.close?.(), error: () => l.lastError };
  },
  "js-full-node": () => {
    const log = makeJsLogger({ url: URL_, statement, authorization: auth, fetch: stub, sha256hex: (s) => createHash("sha256").update(s).digest("hex") });
    return { call: (e) => log(e.user, e.actionType, e.category, e.details), end: () => {}, error: () => "" };
  },
};
async function sample(name) {
  const c = contenders[name]();
  const r0 = requests;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(events.map(c.call));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const failed = results.filter((x) => x !== true).length;
  if (failed) throw new Error(`${name}: ${failed} calls failed: ${c.error()}`);
  await c.end();
  return { n: N, cpuUsPerEvent: (cpu.user + cpu.system) / N, usPerEvent: (wall * 1000) / N, requests: requests - r0 };
}
for (const name of Object.keys(contenders)) await sample(name); // warm-up (JIT, tier-up), not recorded
for (let round = 1; round <= K; round++) {
  const names = Object.keys(contenders);
  if (round % 2 === 0) names.reverse();
  for (const [place, contender] of names.entries()) emit({ round, place, contender, ...(await sample(contender)) });
}
