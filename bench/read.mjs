// Read side and chain verification, measured: writes N chained events into a fresh trail of the
// local Neo4j (pkg/read/, "neo4j-audit/read", in Node), then times getAuditTrail (first page, filtered page, a full walk by
// cursor) and verifyTrail. Prints figures; asserts nothing about speed.
//   node bench/read.mjs [N=5000]     (needs scripts/build and scripts/neo4j start; removes its trail)
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";

const N = Number(process.argv[2] ?? 5000);
const pkg = await import(new URL("../pkg/read/neo4j_audit.js", import.meta.url));
pkg.initSync({ module: readFileSync(new URL("../pkg/read/neo4j_audit_bg.wasm", import.meta.url)) });
const trail = `bench-read-${randomUUID()}`;
const logger = new pkg.AuditLogger({
  url: process.env.NEO4J_URL ?? "http://127.0.0.1:7474",
  username: process.env.NEO4J_USER ?? "neo4j",
  password: process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev",
  trail, timeoutMs: 60000, queue: { enabled: false },
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) { const t0 = performance.now(); const r = await fn(); return [performance.now() - t0, r]; }

// Write: concurrent calls are batched by the library; the chain is built in call order.
let t0 = performance.now();
const users = ["u-ann", "u-bob", "u-cid", "u-dee"];
const oks = [];
for (let i = 0; i < N; i += 500) {
  const calls = [];
  for (let j = i; j < Math.min(N, i + 500); j++) {
    calls.push(logger.logUserAction({ uid: users[j % 4], name: users[j % 4] },
      j % 5 ? "DOCUMENT_VIEWED" : "LOGIN", j % 5 ? "DOCUMENT_MANAGEMENT" : "SECURITY",
      { document_id: `doc-${j % 97}`, n: j, token: "t" }));
  }
  oks.push(...(await Promise.all(calls)));
}
const writeMs = performance.now() - t0;
if (!oks.every(Boolean)) throw new Error(`writes failed: ${logger.lastError}`);
console.log(`write        ${N} chained events in ${writeMs.toFixed(0)} ms (${(N / writeMs * 1000).toFixed(0)} events/s, batched)`);

const firstPage = [];
for (let i = 0; i < 20; i++) firstPage.push((await time(() => logger.getAuditTrail({ limit: 50 })))[0]);
console.log(`first page   limit 50: median ${median(firstPage).toFixed(1)} ms over 20 calls`);

const userPage = [];
for (let i = 0; i < 20; i++) userPage.push((await time(() => logger.getUserActivity("u-bob", { limit: 50 })))[0]);
console.log(`user page    getUserActivity limit 50: median ${median(userPage).toFixed(1)} ms over 20 calls`);

const catPage = [];
for (let i = 0; i < 20; i++) catPage.push((await time(() => logger.getAuditTrail({ category: "SECURITY", limit: 50 })))[0]);
console.log(`category     limit 50: median ${median(catPage).toFixed(1)} ms over 20 calls`);

let pages = 0, seen = 0, cursor;
const [walkMs] = await time(async () => {
  do {
    const p = await logger.getAuditTrail({ limit: 500, cursor });
    pages++; seen += p.events.length; cursor = p.nextCursor ?? undefined;
  } while (cursor);
});
if (seen !== N) throw new Error(`walk saw ${seen} of ${N}`);
console.log(`walk         ${seen} events in ${pages} pages of 500: ${walkMs.toFixed(0)} ms (${(seen / walkMs * 1000).toFixed(0)} events/s)`);

const [verifyMs, report] = await time(() => logger.verifyTrail());
if (!report?.ok || report.checked !== N) throw new Error(`verify: ${JSON.stringify(report)?.slice(0, 300)} ${logger.lastError}`);
console.log(`verifyTrail  ${report.checked} events, ${report.streams.length} stream: ${verifyMs.toFixed(0)} ms (${(N / verifyMs * 1000).toFixed(0)} events/s)`);

// Remove this run's own trail (never anything else).
const auth = "Basic " + Buffer.from(`${process.env.NEO4J_USER ?? "neo4j"}:${process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev"}`).toString("base64");
await fetch(`${process.env.NEO4J_URL ?? "http://127.0.0.1:7474"}/db/neo4j/tx/commit`, {
  method: "POST", headers: { "content-type": "application/json", authorization: auth },
  body: JSON.stringify({ statements: [{ statement:
    "MATCH (t:AuditTrail {name: $trail}) OPTIONAL MATCH (t)-[:HAS_EVENT]->(e) DETACH DELETE e, t", parameters: { trail } }] }),
});
