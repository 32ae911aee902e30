// MEM in headless Chromium (Debian's, driven by playwright-core): memory held per waiting event in
// a page, split like bench/memory.mjs into the JS heap and the wasm linear memory. The page is
// served cross-origin isolated (COOP + COEP headers), so `performance.measureUserAgentSpecificMemory()`
// works (with --enable-blink-features=ForceEagerMeasureMemory it answers at once); it is reported as
// `uaMemoryPerEvent` (the page's JS heap and DOM as Chromium attributes them; the wasm memory's
// backing store may or may not be in it, so the wasm memory is reported apart). The JS heap figure is
// `performance.memory.usedJSHeapSize` (precise with --enable-precise-memory-info), after `gc()`
// (--js-flags=--expose-gc). The logger's URL is a local TCP server that accepts and never answers
// (the cross-origin preflight never completes), so every event waits. In the browser the durable
// queue is IndexedDB: its copy of each event lives in the browser's storage, outside the page.
//   node bench/memory_chromium.mjs [N] [K] [modes...]   K interleaved rounds, a fresh browser per sample
// BENCH_MEM_PKGS="label=dir ..." as in bench/memory.mjs (dirs under .cache/bench/).
import { chromium } from "playwright-core";
import { serveIsolatedPage } from "./isolated-page.mjs";

const N = Number(process.argv[2] ?? 100000);
const K = Number(process.argv[3] ?? process.env.BENCH_K ?? 5);
const MODES = process.argv.length > 4 ? process.argv.slice(4) : ["buffer", "queue"];
const emit = (o) => console.log(JSON.stringify(o));
const pkgs = [["", ".cache/bench/pkg"], ...(process.env.BENCH_MEM_PKGS ?? "").split(/\s+/).filter(Boolean).map((p) => p.split("="))];
const contenders = pkgs.flatMap(([label, dir]) => MODES.map((mode) => ({ id: label ? `${mode}@${label}-chromium` : `${mode}-chromium`, mode, dir })));

const { origin, holeUrl, sockets, close } = await serveIsolatedPage("mem");

let failed = false;
try {
  for (let round = 1; round <= K; round++) {
    const order = round % 2 ? contenders : [...contenders].reverse();
    for (const [place, c] of order.entries()) {
      try {
        emit({ figure: "MEM", round, place, contender: c.id, id: `${c.mode}-chromium`, ...(await one(c)) });
      } catch (e) {
        failed = true;
        emit({ figure: "MEM", round, place, contender: c.id, error: String(e?.message ?? e).slice(0, 300) });
      }
      for (const s of sockets.splice(0)) s.destroy();
    }
  }
} finally {
  close();
}
process.exit(failed ? 1 : 0);

async function one(c) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--js-flags=--expose-gc", "--enable-precise-memory-info", "--enable-blink-features=ForceEagerMeasureMemory"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return await page.evaluate(async ({ n, mode, dir, url }) => {
      if (!crossOriginIsolated) throw new Error("the page is not cross-origin isolated");
      const pkg = await import(`/${dir}/neo4j_audit.js`);
      const wasm = await pkg.default();
      const { event } = await import("/bench/events.mjs");
      const config = { url, username: "neo4j", password: "x", trail: "bench", timeoutMs: 600000, retry: { maxAttempts: 1 },
        queue: mode === "queue" ? { maxEvents: n, maxBytes: 1 << 30, name: "mem-bench" } : { enabled: false } };
      const probe = new pkg.AuditLogger({ ...config, queue: { enabled: false } });
      const payloads = [0, 1, 2].map((i) => {
        const e = event(i);
        const body = JSON.parse(pkg.benchmarkRequestBodyOne(probe, e.user, e.actionType, e.category, e.details));
        return new TextEncoder().encode(JSON.stringify(body.statements[0].parameters.events[0])).length;
      });
      probe.free();
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const gc = async () => {
        for (let i = 0; i < 3; i++) {
          globalThis.gc();
          await sleep(20);
        }
      };
      const snap = async () => {
        const ua = await performance.measureUserAgentSpecificMemory();
        const [liveBytes, allocs] = pkg.benchmarkHeap?.() ?? [NaN, NaN];
        return { heap: performance.memory.usedJSHeapSize, wasm: wasm.memory.buffer.byteLength, ua: ua.bytes, liveBytes, allocs };
      };
      await gc();
      const before = await snap();
      const l = new pkg.AuditLogger(config);
      const pending = new Array(n);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const e = event(i);
        pending[i] = l.logUserAction(e.user, e.actionType, e.category, e.details);
      }
      // Every call reaches the queue and the batch buffer; the IndexedDB writes (concurrent calls
      // share a transaction) finish: settled when the JS heap after GC stops changing (at most 3 minutes).
      for (let i = 0; i < 6000 && l.stats().queued < n; i++) await sleep(10);
      for (let i = 0, last = 0, still = 0; i < 360 && still < 4; i++) {
        await sleep(250);
        globalThis.gc();
        const h = performance.memory.usedJSHeapSize;
        still = Math.abs(h - last) < 0.002 * h ? still + 1 : 0;
        last = h;
      }
      const enqueueSeconds = (performance.now() - t0) / 1000;
      await gc();
      const after = await snap();
      const per = (k) => (after[k] - before[k]) / n;
      const payloadBytes = payloads.reduce((a, b) => a + b) / payloads.length;
      const heap = per("heap"), wasmPer = per("wasm");
      return { n, mode, payloadBytes, queued: l.stats().queued, heapPerEvent: heap, wasmPerEvent: wasmPer,
        heapWasmPerEvent: heap + wasmPer, ratio: (heap + wasmPer) / payloadBytes, uaMemoryPerEvent: per("ua"),
        liveBytesPerEvent: per("liveBytes"), allocsPerEvent: per("allocs"), allocatorOverheadPerEvent: wasmPer - per("liveBytes"),
        heapBeforeMB: before.heap / 2 ** 20, heapAfterMB: after.heap / 2 ** 20, wasmBeforeMB: before.wasm / 2 ** 20,
        wasmAfterMB: after.wasm / 2 ** 20, enqueueSeconds,
        note: "JS heap: performance.memory.usedJSHeapSize (--enable-precise-memory-info) after gc(); uaMemory: measureUserAgentSpecificMemory (cross-origin isolated)" };
    }, { n: c.n ?? N, mode: c.mode, dir: c.dir, url: holeUrl });
  } finally {
    await browser.close();
  }
}
