// Where the memory of `neo4j-audit export` goes: runs the CLI's own export command (cli/export.mjs)
// in this process, writing to /dev/null, and every 250 ms forces a GC and records the live JS heap
// (heapUsed), the wasm linear memory and RSS. Constant memory: the live heap and the wasm memory at
// the end of the export are what they were at its start. One JSON line on stdout.
//   node --expose-gc bench/export-heap.mjs <trail> <events in it>     (bench/export.mjs runs it)
import { createWriteStream, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { initSync } from "../pkg/verify/neo4j_audit.js";
import { connection } from "../cli/common.mjs";
import { run } from "../cli/export.mjs";

if (!globalThis.gc) throw new Error("run with node --expose-gc");
const [trail, n] = [process.argv[2], Number(process.argv[3])];
// The package is instantiated already (cli/core.mjs imports pkg/verify/node.js): this returns its exports.
const wasm = initSync({ module: readFileSync(new URL("../pkg/verify/neo4j_audit_bg.wasm", import.meta.url)) });
const MiB = 2 ** 20;
const samples = [];
const sample = () => {
  globalThis.gc();
  const m = process.memoryUsage();
  samples.push({ t: performance.now(), heapUsedMB: m.heapUsed / MiB, wasmMB: wasm.memory.buffer.byteLength / MiB, rssMB: m.rss / MiB });
};
sample();
const timer = setInterval(sample, 250);
const stdout = createWriteStream("/dev/null");
const t0 = performance.now();
const code = await run({ trail }, { conn: connection(), stdout, stderr: { isTTY: false, write() {} } });
clearInterval(timer);
await new Promise((resolve) => stdout.end(resolve));
sample();
if (code !== 0) throw new Error(`export exited ${code}`);
const quarter = Math.max(1, Math.floor(samples.length / 4));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = samples.slice(0, quarter), last = samples.slice(-quarter);
console.log(JSON.stringify({
  figure: "EXPORT-HEAP", n, seconds: (performance.now() - t0) / 1000, samples: samples.length,
  heapUsedFirstQuarterMB: median(first.map((s) => s.heapUsedMB)), heapUsedLastQuarterMB: median(last.map((s) => s.heapUsedMB)),
  heapUsedMaxMB: Math.max(...samples.map((s) => s.heapUsedMB)),
  wasmFirstMB: samples[0].wasmMB, wasmMaxMB: Math.max(...samples.map((s) => s.wasmMB)),
  rssFirstQuarterMB: median(first.map((s) => s.rssMB)), rssLastQuarterMB: median(last.map((s) => s.rssMB)),
}));
