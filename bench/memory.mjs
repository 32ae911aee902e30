// MEM: memory held per waiting event in Node, split into the JS heap (V8, after a full GC), the
// wasm linear memory (the module's `memory` export; it only grows, so its growth is the peak the
// allocator reached) and the process's RSS (after GC, and the peak while submitting). Neo4j is
// replaced by a local TCP server that accepts and never answers, so the first batch stays in flight
// and every other event waits. The payload is the event's JSON as it is queued and sent (one
// element of the request's `$events`, taken from `benchmarkRequestBodyOne`).
// Modes: "queue" (default config: the durable queue, memory-only in Node, holds every event) and
// "buffer" (queue.enabled false: events wait in the batch buffer only).
//   node bench/memory.mjs [N] [K] [modes...]   K interleaved rounds, each sample a fresh
//                                              `node --expose-gc` process; one JSON line per sample
//   node --expose-gc bench/memory.mjs --one N MODE [PKG_DIR]   one sample (what the rounds run)
// BENCH_MEM_PKGS="label=dir ..." adds other builds of the bench package as contenders
// (e.g. base=.cache/bench/pkg-base for a before/after in one run); contender "MODE@label". A build
// with cargo feature bench-alloc also reports the live allocations (bytes, count) in the wasm heap.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { event } from "./events.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const emit = (o) => console.log(JSON.stringify(o));

if (process.argv[2] === "--one") {
  const [, , , n, mode, dir = ".cache/bench/pkg"] = process.argv;
  emit(await one(Number(n), mode, dir));
  process.exit(0); // the waiting calls would otherwise wait for the timeout
}

const N = Number(process.argv[2] ?? 100000);
const K = Number(process.argv[3] ?? process.env.BENCH_K ?? 5);
const MODES = process.argv.length > 4 ? process.argv.slice(4) : ["buffer", "queue"];
const pkgs = [["", ".cache/bench/pkg"], ...(process.env.BENCH_MEM_PKGS ?? "").split(/\s+/).filter(Boolean).map((p) => p.split("="))];
const contenders = pkgs.flatMap(([label, dir]) => MODES.map((mode) => ({ id: label ? `${mode}@${label}` : mode, mode, dir })));
let failed = false;
for (let round = 1; round <= K; round++) {
  const order = round % 2 ? contenders : [...contenders].reverse();
  for (const [place, c] of order.entries()) {
    const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--one", String(N), c.mode, c.dir],
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 10 * 60 * 1000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    if (r.status !== 0 || !line) {
      failed = true;
      emit({ round, place, contender: c.id, error: `exit ${r.status ?? r.signal}` });
      continue;
    }
    emit({ round, place, contender: c.id, id: c.mode, ...JSON.parse(line) });
  }
}
process.exit(failed ? 1 : 0);

async function one(n, mode, dir) {
  const base = pathToFileURL(`${ROOT}/${dir}/`);
  const pkg = await import(new URL("neo4j_audit.js", base));
  const wasm = await pkg.default({ module_or_path: readFileSync(new URL("neo4j_audit_bg.wasm", base)) });
  const sockets = [];
  const hole = createServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise((r) => hole.listen(0, "127.0.0.1", r));
  const config = { url: `http://127.0.0.1:${hole.address().port}`, username: "neo4j", password: "x", trail: "bench",
    timeoutMs: 600000, retry: { maxAttempts: 1 }, queue: mode === "queue" ? { maxEvents: n, maxBytes: 1 << 30 } : { enabled: false } };
  // The payload: one event as JSON, as it would be queued and sent.
  const probe = new pkg.AuditLogger(config);
  const payloads = [0, 1, 2].map((i) => {
    const e = event(i);
    const body = JSON.parse(pkg.benchmarkRequestBodyOne(probe, e.user, e.actionType, e.category, e.details));
    return Buffer.byteLength(JSON.stringify(body.statements[0].parameters.events[0]));
  });
  probe.free();
  const gc = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // With a build of feature bench-alloc: the live allocations' bytes and count in the wasm heap.
  const live = () => pkg.benchmarkHeap?.() ?? [NaN, NaN];
  const snap = () => { const [liveBytes, allocs] = live(); return { ...process.memoryUsage(), wasm: wasm.memory.buffer.byteLength, liveBytes, allocs }; };
  await gc();
  const before = snap();
  let peak = before.rss;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const l = new pkg.AuditLogger(config);
  const pending = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const e = event(i);
    pending[i] = l.logUserAction(e.user, e.actionType, e.category, e.details);
  }
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 10)); // let every call reach the buffer
  const enqueueSeconds = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(sample);
  await gc();
  const after = snap();
  const waiting = l.stats().queued; // 0 in buffer mode (no queue): the calls wait in the batch buffer
  const per = (k) => (after[k] - before[k]) / n;
  const payloadBytes = payloads.reduce((a, b) => a + b) / payloads.length;
  const heap = per("heapUsed"), wasmPer = per("wasm");
  return { figure: "MEM", n, mode, payloadBytes, queued: waiting,
    heapPerEvent: heap, wasmPerEvent: wasmPer, heapWasmPerEvent: heap + wasmPer, ratio: (heap + wasmPer) / payloadBytes,
    sizes: pkg.benchmarkSizes ? Object.fromEntries(["auditEvent", "outcome", "callFuture", "spoolLogFuture", "deliverFuture"].map((k, i) => [k, pkg.benchmarkSizes()[i]])) : undefined,
    liveBytesPerEvent: per("liveBytes"), allocsPerEvent: per("allocs"), allocatorOverheadPerEvent: wasmPer - per("liveBytes"),
    rssPerEvent: per("rss"), rssPeakPerEvent: (peak - before.rss) / n, externalPerEvent: per("external"),
    rssBeforeMB: before.rss / 2 ** 20, rssPeakMB: peak / 2 ** 20, wasmBeforeMB: before.wasm / 2 ** 20, wasmAfterMB: after.wasm / 2 ** 20,
    heapBeforeMB: before.heapUsed / 2 ** 20, heapAfterMB: after.heapUsed / 2 ** 20, enqueueSeconds,
    // The figure before this split (peak RSS delta per event), kept for comparison with older runs.
    bytesPerWaitingEvent: (peak - before.rss) / n, rssDeltaMB: (peak - before.rss) / 2 ** 20 };
}
