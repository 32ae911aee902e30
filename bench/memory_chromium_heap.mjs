// Diagnostic for MEM in Chromium (not a figure): what the page's JS heap holds per waiting event.
// The same page and logger set-up as bench/memory_chromium.mjs (queue mode by default: the durable
// queue, IndexedDB); after the events wait and the heap settled, a heap snapshot is taken through
// the DevTools protocol (HeapProfiler) and its objects are summed by type and constructor/name.
// Prints the largest groups as JSON lines ({type, name, count, selfBytes, perEvent}), and for the
// largest few the most common retainer (edge name, holder's type and name).
//   node bench/memory_chromium_heap.mjs [N] [mode] [pkgDir]     N = 20000, mode = queue, pkgDir = .cache/bench/pkg
import { chromium } from "playwright-core";
import { serveIsolatedPage } from "./isolated-page.mjs";

const N = Number(process.argv[2] ?? 20000);
const MODE = process.argv[3] ?? "queue";
const DIR = process.argv[4] ?? ".cache/bench/pkg";
const { origin, holeUrl, close } = await serveIsolatedPage("heap");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--js-flags=--expose-gc", "--enable-precise-memory-info"],
});
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  const figures = await page.evaluate(async ({ n, mode, dir, url, wait }) => {
    const pkg = await import(`/${dir}/neo4j_audit.js`);
    const wasm = await pkg.default();
    const { event } = await import("/bench/events.mjs");
    const config = { url, username: "neo4j", password: "x", trail: "bench", timeoutMs: 600000, retry: { maxAttempts: 1 },
      queue: mode === "queue" ? { maxEvents: n, maxBytes: 1 << 30, name: "heap-diag" } : { enabled: false } };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 3; i++) (globalThis.gc(), await sleep(20));
    const before = performance.memory.usedJSHeapSize;
    const l = new pkg.AuditLogger(config);
    globalThis.keep = { l, pending: new Array(n) };
    for (let i = 0; i < n; i++) {
      const e = event(i);
      globalThis.keep.pending[i] = l.logUserAction(e.user, e.actionType, e.category, e.details);
    }
    for (let i = 0; i < 6000 && l.stats().queued < n; i++) await sleep(10);
    for (let i = 0, last = 0, still = 0; i < 360 && still < 4; i++) {
      await sleep(250);
      globalThis.gc();
      const h = performance.memory.usedJSHeapSize;
      still = Math.abs(h - last) < 0.002 * h ? still + 1 : 0;
      last = h;
    }
    const settledAt = performance.now();
    await sleep(wait * 1000); // DIAG_WAIT_S: an extra wait before measuring
    for (let i = 0; i < 3; i++) (globalThis.gc(), await sleep(20));
    // A build instrumented by hand may leave its counters in globalThis.__idb.
    const diag = globalThis.__idb && JSON.parse(JSON.stringify({ ...globalThis.__idb, log: globalThis.__idb.log?.slice(0, 40) }));
    return { heapPerEvent: (performance.memory.usedJSHeapSize - before) / n, wasmMB: wasm.memory.buffer.byteLength / 2 ** 20, settledAt, diag };
  }, { n: N, mode: MODE, dir: DIR, wait: Number(process.env.DIAG_WAIT_S ?? 0), url: holeUrl });
  console.log(JSON.stringify({ n: N, mode: MODE, dir: DIR, ...figures }));
  if (process.env.SNAPSHOT !== "0") await snapshot(page);
} finally {
  await browser.close();
  close();
}

async function snapshot(page) {
  const cdp = await page.context().newCDPSession(page);
  const chunks = [];
  cdp.on("HeapProfiler.addHeapSnapshotChunk", (m) => chunks.push(m.chunk));
  await cdp.send("HeapProfiler.enable");
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  summarise(JSON.parse(chunks.join("")));
}

function summarise(snap) {
  const m = snap.snapshot.meta;
  const nf = m.node_fields.length, ef = m.edge_fields.length;
  const [T, NAME, SIZE, EC] = ["type", "name", "self_size", "edge_count"].map((f) => m.node_fields.indexOf(f));
  const [ET, EN, TO] = ["type", "name_or_index", "to_node"].map((f) => m.edge_fields.indexOf(f));
  const ntypes = m.node_types[0], etypes = m.edge_types[0];
  const { nodes, edges, strings } = snap;
  const count = nodes.length / nf;
  const key = (i) => {
    const t = ntypes[nodes[i * nf + T]];
    const name = t === "string" || t === "concatenated string" || t === "sliced string" ? "" : strings[nodes[i * nf + NAME]].slice(0, 80);
    return `${t}\t${name}`;
  };
  const groups = new Map();
  for (let i = 0; i < count; i++) {
    const k = key(i);
    const g = groups.get(k) ?? groups.set(k, { count: 0, bytes: 0, retainers: new Map() }).get(k);
    g.count++;
    g.bytes += nodes[i * nf + SIZE];
  }
  const top = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 30);
  const watched = new Map(top.slice(0, 12).map(([k, g]) => [k, g]));
  // Retainers of the largest groups: for each edge into a node of such a group, count
  // (edge type:name, holder type+name).
  for (let i = 0, e = 0; i < count; i++) {
    const holder = key(i);
    for (let j = 0; j < nodes[i * nf + EC]; j++, e += ef) {
      const to = edges[e + TO] / nf;
      const g = watched.get(key(to));
      if (!g) continue;
      const et = etypes[edges[e + ET]];
      if (et === "weak") continue;
      const en = et === "element" || et === "hidden" ? "[]" : strings[edges[e + EN]];
      const r = `${et}:${String(en).slice(0, 40)} <- ${holder}`;
      g.retainers.set(r, (g.retainers.get(r) ?? 0) + 1);
    }
  }
  for (const [k, g] of top) {
    const [type, name] = k.split("\t");
    const retainers = [...g.retainers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(JSON.stringify({ type, name, count: g.count, selfBytes: g.bytes, perEvent: +(g.bytes / N).toFixed(1), ...(retainers.length ? { retainers } : {}) }));
  }
}
