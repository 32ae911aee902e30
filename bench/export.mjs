// `neo4j-audit export` in constant memory: seeds two trails of the local Neo4j with the library
// (10 000 and 100 000 events, bench/events.mjs), then runs the CLI (cli/neo4j-audit.mjs, pkg/) on
// each, k rounds interleaved, and records the CLI process's peak RSS: getrusage's maxrss (written
// at exit by a preload) and VmRSS sampled from /proc every 10 ms. Two readers of its stdout:
//   devnull  stdout is /dev/null (never blocks);
//   paused   a pipe whose reader stops for 2 s after the first MiB: a CLI that ignored
//            backpressure would keep reading pages into memory meanwhile.
// The baseline is the same process doing `tail -n 1` (the library loaded, one read). Memory that
// grew with the events read would also show as a higher sampled peak in the second half of a run
// than in the first.
// Constant memory shows as the same peak for 10 000 and 100 000 events. Asserts nothing; appends one
// JSON line per run to bench/results/export.jsonl and prints medians with min–max.
//   node bench/export.mjs [k=5]     (needs scripts/build and the local Neo4j; removes its trails)
import { spawn } from "node:child_process";
import { appendFileSync, openSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { event } from "./events.mjs";

const K = Number(process.argv[2] ?? 5);
const SIZES = (process.env.BENCH_EXPORT_SIZES ?? "10000,100000").split(",").map(Number); // a quick try: 500,5000
const MODES = ["devnull", "paused"];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "cli", "neo4j-audit.mjs");
const RESULTS = join(ROOT, "bench", "results", "export.jsonl");
const URL_ = process.env.NEO4J_URL ?? "http://127.0.0.1:7474";
const USER = process.env.NEO4J_USER ?? "neo4j";
const PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";
const ENV = { ...process.env, NEO4J_URL: URL_, NEO4J_USER: USER, NEO4J_PASSWORD: PASSWORD };
const { AuditLogger } = await import(new URL("../pkg/node.js", import.meta.url));

async function cypher(statement, parameters = {}) {
  const res = await fetch(`${URL_}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Basic " + Buffer.from(`${USER}:${PASSWORD}`).toString("base64") },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`${body.errors[0].code}: ${body.errors[0].message}`);
  return body.results[0].data.map((d) => d.row);
}

async function seed(trail, n) {
  const logger = new AuditLogger({ url: URL_, username: USER, password: PASSWORD, trail, timeoutMs: 120_000,
    queue: { enabled: false }, batch: { maxEvents: 500, maxInFlight: 4 } });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 2000) {
    const calls = [];
    for (let j = i; j < Math.min(n, i + 2000); j++) {
      const e = event(j);
      calls.push(logger.logUserAction(e.user, e.actionType, e.category, e.details));
    }
    if (!(await Promise.all(calls)).every(Boolean)) throw new Error(`seeding ${trail}: ${logger.lastError}`);
  }
  console.error(`seeded ${n} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function drop(trail) {
  for (;;) {
    const [[n]] = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) WITH e LIMIT 10000 DETACH DELETE e RETURN count(*)", { trail });
    if (n === 0) break;
  }
  await cypher("MATCH (t:AuditTrail {name: $trail}) DETACH DELETE t", { trail });
}

const dir = mkdtempSync(join(tmpdir(), "bench-export-"));
const preload = join(dir, "maxrss.cjs");
// At exit, the process's peak RSS (getrusage ru_maxrss, KiB on Linux) into the file named by the env.
writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(process.env.BENCH_MAXRSS_FILE, String(process.resourceUsage().maxRSS)));\n`);

/** One export: {seconds, bytes, maxRssMB, sampledPeakRssMB, events}. */
async function exportOnce(trail, mode) {
  const rssFile = join(dir, `rss-${randomUUID()}`);
  const out = mode === "paused" ? "pipe" : openSync("/dev/null", "w");
  const args = mode === "baseline" ? ["tail", "-n", "1", "--trail", trail] : ["export", "--trail", trail];
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--require", preload, CLI, ...args],
    { env: { ...ENV, BENCH_MAXRSS_FILE: rssFile }, stdio: ["ignore", out, "inherit"] });
  const samples = []; // [ms since start, VmRSS KiB]
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
      if (kb) samples.push([performance.now() - t0, kb]);
    } catch { /* exited */ }
  }, 10);
  let bytes = 0, lines = 0;
  if (mode === "paused") {
    let paused = false;
    child.stdout.on("data", (d) => {
      bytes += d.length;
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
      if (!paused && bytes > 1 << 20) {
        paused = true;
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 2000);
      }
    });
  }
  const code = await new Promise((resolve) => child.on("close", resolve));
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`export ${trail} exited ${code}`);
  const maxRssKB = Number(readFileSync(rssFile, "utf8"));
  // Memory that grows with the events read shows as a higher peak in the second half of the run.
  const peak = (xs) => Math.max(0, ...xs.map(([, kb]) => kb)) / 1024;
  const half = (seconds * 1000) / 2;
  return { seconds, bytes: mode === "paused" ? bytes : null, events: mode === "paused" ? lines : null,
    maxRssMB: maxRssKB / 1024, sampledPeakRssMB: peak(samples),
    sampledPeakFirstHalfMB: peak(samples.filter(([t]) => t < half)),
    sampledPeakSecondHalfMB: peak(samples.filter(([t]) => t >= half)), samples: samples.length };
}

const trails = Object.fromEntries(SIZES.map((n) => [n, `bench-export-${n}-${randomUUID()}`]));
const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}`;
const runs = [];
// Interrupted: remove the seeded trails all the same.
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, async () => {
    for (const t of Object.values(trails)) await drop(t).catch(() => {});
    process.exit(130);
  });
}
const heap = [];
try {
  for (const n of SIZES) await seed(trails[n], n);
  // Round 0 is a warm-up (page cache, JIT): recorded with warmup: true, left out of the medians.
  for (let round = 0; round <= K; round++) {
    const order = round % 2 ? [...SIZES].reverse() : SIZES;
    {
      const r = await exportOnce(trails[SIZES[0]], "baseline");
      const row = { figure: "EXPORT", n: 1, mode: "baseline", round, warmup: round === 0, ...r, eventsPerSec: null, date, machine };
      appendFileSync(RESULTS, JSON.stringify(row) + "\n");
      runs.push(row);
      console.error(`round ${round} baseline (tail -n 1): ${r.seconds.toFixed(1)} s, maxrss ${r.maxRssMB.toFixed(1)} MiB, sampled ${r.sampledPeakRssMB.toFixed(1)} MiB`);
    }
    for (const mode of MODES) {
      for (const n of order) {
        const r = await exportOnce(trails[n], mode);
        if (r.events !== null && r.events !== n) throw new Error(`export saw ${r.events} of ${n} events`);
        const row = { figure: "EXPORT", n, mode, round, warmup: round === 0, ...r, eventsPerSec: n / r.seconds, date, machine };
        appendFileSync(RESULTS, JSON.stringify(row) + "\n");
        runs.push(row);
        console.error(`round ${round} ${mode.padEnd(7)} ${String(n).padStart(6)}: ${r.seconds.toFixed(1)} s, maxrss ${r.maxRssMB.toFixed(1)} MiB, sampled ${r.sampledPeakRssMB.toFixed(1)} MiB`);
      }
    }
  }
  // Where the memory goes (bench/export-heap.mjs): the live heap and wasm memory, start vs end.
  for (const n of SIZES) {
    const r = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--expose-gc", join(ROOT, "bench", "export-heap.mjs"), trails[n], String(n)],
        { env: ENV, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`export-heap exited ${code}`))));
    });
    const row = { ...r, date, machine };
    appendFileSync(RESULTS, JSON.stringify(row) + "\n");
    heap.push(row);
  }
} finally {
  for (const t of Object.values(trails)) await drop(t).catch((e) => console.error(`cleanup ${t}: ${e.message}`));
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const span = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`export, k=${K} (median, min–max), peak RSS of the CLI process in MiB, ${machine}`);
console.log("| reader | events | maxrss | sampled peak | peak, 1st half of the run | peak, 2nd half | seconds | events/s |");
console.log("|---|---|---|---|---|---|---|---|");
for (const [mode, sizes] of [["baseline", [1]], ...MODES.map((m) => [m, SIZES])]) {
  for (const n of sizes) {
    const rs = runs.filter((r) => !r.warmup && r.mode === mode && r.n === n);
    console.log(`| ${mode} | ${n} | ${span(rs.map((r) => r.maxRssMB))} | ${span(rs.map((r) => r.sampledPeakRssMB))} | ${span(rs.map((r) => r.sampledPeakFirstHalfMB))} | ${span(rs.map((r) => r.sampledPeakSecondHalfMB))} | ${span(rs.map((r) => r.seconds))} | ${mode === "baseline" ? "–" : median(rs.map((r) => r.eventsPerSec)).toFixed(0)} |`);
  }
}
console.log("\nIn process, GC forced every 250 ms (bench/export-heap.mjs), MiB:");
console.log("| events | live heap, 1st quarter | live heap, last quarter | wasm memory start → max | RSS 1st → last quarter |");
console.log("|---|---|---|---|---|");
for (const h of heap) {
  console.log(`| ${h.n} | ${h.heapUsedFirstQuarterMB.toFixed(1)} | ${h.heapUsedLastQuarterMB.toFixed(1)} | ${h.wasmFirstMB.toFixed(1)} → ${h.wasmMaxMB.toFixed(1)} | ${h.rssFirstQuarterMB.toFixed(1)} → ${h.rssLastQuarterMB.toFixed(1)} |`);
}
