// Memory: peak RSS of Node while N events wait in the library's queue. Neo4j is replaced by a
// local TCP server that accepts and never answers, so the first batch stays in flight and every
// other event waits in the batch buffer.
// Mode "queue" (default config: the durable queue, memory-only in Node, holds every event) or
// "buffer" (queue.enabled false: events wait in the batch buffer only).
//   node bench/memory.mjs [N] [queue|buffer]
import { createServer } from "node:net";
import { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";
import { emit, event, loadWasm } from "./common.mjs";

const N = Number(process.argv[2] ?? 100000);
const MODE = process.argv[3] ?? "queue";
const sockets = [];
const hole = createServer((s) => sockets.push(s)); // accepts, never answers
await new Promise((r) => hole.listen(0, "127.0.0.1", r));
await loadWasm();
globalThis.gc?.();
const before = process.memoryUsage();
let peak = before.rss;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const l = new AuditLogger({ url: `http://127.0.0.1:${hole.address().port}`, username: "neo4j", password: "x",
  trail: "bench", timeoutMs: 600000, retry: { maxAttempts: 1 }, queue: MODE === "queue" ? { maxEvents: N, maxBytes: 1 << 30 } : { enabled: false } });
const pending = [];
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const e = event(i);
  pending.push(l.logUserAction(e.user, e.actionType, e.category, e.details));
}
for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 10)); // let every call reach the buffer
const enqueueSeconds = (performance.now() - t0) / 1000;
const after = process.memoryUsage();
peak = Math.max(peak, after.rss);
clearInterval(sample);
emit({ figure: "MEM", id: MODE, n: N, rssBeforeMB: before.rss / 2 ** 20, rssPeakMB: peak / 2 ** 20,
  rssDeltaMB: (peak - before.rss) / 2 ** 20, bytesPerWaitingEvent: (peak - before.rss) / N, enqueueSeconds,
  heapUsedMB: after.heapUsed / 2 ** 20 });
process.exit(0); // the waiting calls would otherwise wait for the timeout
