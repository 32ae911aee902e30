// Reads one run's raw samples from bench/results/*.jsonl and writes, from them alone:
// BENCHMARKS.md (verdicts, tables, versions, method), bench/charts/*.svg and the README's block
// between <!-- bench:begin --> and <!-- bench:end -->. Prints the verdict table.
//   node bench/report.mjs [RUN_ID]        (default: the newest run in bench/results/)
// Every ratio is the median over rounds of the per-round ratio (contenders of a round ran side by
// side), with a 95 % percentile-bootstrap interval over rounds (bench/stats.mjs).
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { diffCI, median, medianCI, pooledRatioCI, ratioCI, verdict } from "./stats.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const RESULTS = `${ROOT}bench/results/`;
const CHARTS = `${ROOT}bench/charts/`;
const all = readdirSync(RESULTS).filter((f) => f.endsWith(".jsonl")).flatMap((f) =>
  readFileSync(RESULTS + f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((r) => r.v === 2));
const RUN = process.argv[2] ?? all.map((r) => r.run).sort((p, q) => (allAt(p) < allAt(q) ? -1 : 1)).pop();
function allAt(run) { return all.filter((r) => r.run === run).map((r) => r.at).sort().pop(); }
if (!RUN) throw new Error("no results of the new format in bench/results/");
const rows = all.filter((r) => r.run === RUN);
const ok = (fig) => rows.filter((r) => r.figure === fig && !r.error && r.ok !== false);
const errors = rows.filter((r) => r.error);
const notes = rows.filter((r) => r.figure === "note");
const V = rows.find((r) => r.figure === "versions") ?? {};
const QUICK = rows.some((r) => r.quick);

// ---- formatting
const f = (x, d = 0) => (x == null || !Number.isFinite(x) ? "—" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const sig = (x) => (!Number.isFinite(x) ? "—" : Math.abs(x) >= 100 ? f(x, 0) : Math.abs(x) >= 10 ? f(x, 1) : f(x, 2));
const table = (head, body) => [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const ci = (c, unit = "") => `${sig(c.point)}${unit} [${sig(c.lo)}, ${sig(c.hi)}]`;

// ---- per-round values
/** Map round -> value of `key` for one contender of a figure (value: a function of the row). */
function perRound(fig, contender, val) {
  const m = new Map();
  for (const r of ok(fig)) if ((typeof contender === "function" ? contender(r.contender) : r.contender === contender)) {
    const v = val(r);
    if (Number.isFinite(v)) m.set(r.round, Math.max(m.get(r.round) ?? -Infinity, v)); // several (limit finalists): the best
  }
  return m;
}
const pair = (ma, mb) => [...ma.keys()].filter((k) => mb.has(k)).map((k) => ({ a: ma.get(k), b: mb.get(k) }));
const eps = (r) => r.eventsPerSec;
const contendersOf = (fig) => [...new Set(ok(fig).map((r) => r.contender))];

// ---- verdicts
const verdicts = [];
const infos = [];
function goal(id, what, pairs, op, target, kind = "ratio", unit = "×") {
  const c = kind === "ratio" ? ratioCI(pairs) : diffCI(pairs);
  verdicts.push({ id, what, c, op, target, unit, v: verdict(c, op, target) });
  return c;
}
function info(id, what, pairs, unit = "×") {
  infos.push({ id, what, c: ratioCI(pairs), unit });
}

// P1
// Every plain-fetch configuration run in a round is a point of the sweep (the two finalists, and
// 1000 × 4 and 100 × 4): a round's limit is the best of them, so a finalist picked by one noisy
// sweep sample cannot understate it.
// Two contenders of one configuration (a finalist that is also 1000 × 4) are two samples of the
// same point: their mean is that point's value in the round (the better of two samples of one
// point would overstate it).
const isLimit = (c) => c.startsWith("limit") || c.startsWith("fetch-");
const a = perRound("P1", "a", eps);
function limitPerRound() {
  const points = new Map(); // round -> "events x inFlight" -> [events/s]
  for (const r of ok("P1")) {
    if (!isLimit(r.contender) || !Number.isFinite(r.eventsPerSec)) continue;
    const key = `${r.eventsPerRequest ?? r.contender}x${r.inFlight ?? ""}`;
    const byPoint = points.get(r.round) ?? new Map();
    points.set(r.round, byPoint.set(key, [...(byPoint.get(key) ?? []), r.eventsPerSec]));
  }
  const m = new Map();
  for (const [round, byPoint] of points) m.set(round, Math.max(...[...byPoint.values()].map((v) => v.reduce((x, y) => x + y, 0) / v.length)));
  return m;
}
const limit = limitPerRound();
goal("P1", "this library batched / Neo4j's limit (best plain-fetch configuration of each round)", pair(a, limit), ">=", 0.9);
goal("P1", "this library batched / neo4j-driver, managed transactions (100 per tx, 4 sessions)", pair(a, perRound("P1", "d-tx", eps)), ">=", 1.0);
goal("P1", "this library batched / neo4j-driver, executeQuery (100 per call, 4 at once)", pair(a, perRound("P1", "d-exec", eps)), ">=", 1.0);
for (const c of [1, 8]) {
  const lib = perRound("P1seed", `lib c${c}`, eps);
  goal("P1", `this library / the seed's pattern (Python driver), both at concurrency ${c}`, pair(lib, perRound("P1seed", `seed-py c${c}`, eps)), ">=", 50);
  goal("P1", `this library / the seed's pattern (neo4j-driver in JS), both at concurrency ${c}`, pair(lib, perRound("P1seed", `seed-js c${c}`, eps)), ">=", 50);
}
for (const c of [1, 8]) {
  const prod = perRound("P1seed", `lib-prod c${c}`, eps);
  goal("P1", `this library, one producer not awaiting each call, ${c} request(s) in flight / the seed's pattern (Python driver), ${c} thread(s)`, pair(prod, perRound("P1seed", `seed-py c${c}`, eps)), ">=", 50);
  goal("P1", `this library, one producer not awaiting each call, ${c} request(s) in flight / the seed's pattern (neo4j-driver in JS), ${c} session(s)`, pair(prod, perRound("P1seed", `seed-js c${c}`, eps)), ">=", 50);
}
info("P1", "this library batched / plain fetch, the library's batch bound (1000 × 4 in flight): the library's own cost over HTTP", pair(a, perRound("P1", "fetch-1000x4", eps)));
info("P1", "this library batched / plain fetch, 100 × 4 in flight", pair(a, perRound("P1", "fetch-100x4", eps)));
// Where the rest of the gap to the limit is: the N calls are made in one synchronous JS loop, and
// no request can leave before it ends (one thread), while the limit's bodies were prepared before
// its clock started. Only samples that recorded it (syncMs, from 2026-11-30 on).
const syncShare = perRound("P1", "a", (r) => (r.syncMs != null ? r.syncMs / 1000 : NaN));
if (syncShare.size) {
  info("P1", "this library batched: time to make the N calls (synchronous; no request leaves before) / the sample's whole time", pair(syncShare, perRound("P1", "a", (r) => (r.syncMs != null ? r.seconds : NaN))));
  info("P1", "diagnostic: this library batched, its clock started after the last call was made / Neo4j's limit", pair(perRound("P1", "a", (r) => (r.syncMs != null ? r.n / (r.seconds - r.syncMs / 1000) : NaN)), limit));
}
info("P1", "plain fetch 100 × 4 / Neo4j's limit", pair(perRound("P1", "fetch-100x4", eps), limit));
info("P1", "neo4j-driver managed tx / Neo4j's limit (over HTTP)", pair(perRound("P1", "d-tx", eps), limit));
// The ceiling of the seed rows: what the goal of 50x would ask of Neo4j itself (the limit's rounds
// and the seed's rounds are two figures of one run, paired by round number, not side by side).
for (const c of [1, 8]) for (const [who, name] of [["seed-py", "Python driver"], ["seed-js", "neo4j-driver in JS"]])
  info("P1", `Neo4j's limit / the seed's pattern (${name}) at concurrency ${c}: the most any client can reach (P1 and P1seed rounds paired by number)`, pair(limit, perRound("P1seed", `${who} c${c}`, eps)));
// At each size, each round's limit is its best limit contender ("limit n=N" in runs before
// 2026-12-06, one sweep point; since, "limit1 n=N" … : the sweep's two best points and 1000 x 4).
function scaleLimitPerRound(n) {
  const m = new Map();
  for (const r of ok("P1scale")) {
    if (!new RegExp(`^limit\\d* n=${n}$`).test(r.contender) || !Number.isFinite(r.eventsPerSec)) continue;
    m.set(r.round, Math.max(m.get(r.round) ?? 0, r.eventsPerSec));
  }
  return m;
}
for (const n of [...new Set(ok("P1scale").map((r) => r.n))].sort((p, q) => p - q)) {
  goal("P1", `this library batched / Neo4j's limit at ${n} events (best configuration of each round)`, pair(perRound("P1scale", `a n=${n}`, eps), scaleLimitPerRound(n)), ">=", 0.9);
}
info("P1", "this library batched with the Query API v2 (api \"query\") / with tx/commit (the default)", pair(perRound("P1", "a-query", eps), a));
info("P1", "neo4j-driver executeQuery / managed transactions", pair(perRound("P1", "d-exec", eps), perRound("P1", "d-tx", eps)));

// P2. p50: the median over rounds of the per-round ratio, like every figure. p99: each contender's
// samples pooled over the rounds (a round's p99 of a few hundred samples rests on its largest few),
// the interval by resampling rounds whole; runs recorded before the samples were kept: per round.
const samplesOf = (fig, contender) => perRound(fig, contender, (r) => (r.samples ? 1 : NaN)).size
  ? new Map(ok(fig).filter((r) => r.contender === contender && r.samples).map((r) => [r.round, r.samples])) : null;
function p2(id, fig, what, lib, base, p, goalAt) {
  const sa = p === "p99" && samplesOf(fig, lib), sb = p === "p99" && samplesOf(fig, base);
  const pairs = sa && sb ? pair(sa, sb) : pair(perRound(fig, lib, (r) => r[p]), perRound(fig, base, (r) => r[p]));
  const label = sa && sb ? `${what}, p99 of all rounds' samples pooled` : `${what}, ${p}`;
  if (!pairs.length) return;
  if (goalAt == null) { infos.push({ id, what: label, c: sa && sb ? pooledRatioCI(pairs, 0.99) : ratioCI(pairs), unit: "×" }); return; }
  const c = sa && sb ? pooledRatioCI(pairs, 0.99) : ratioCI(pairs);
  verdicts.push({ id, what: label, c, op: "<=", target: goalAt, unit: "×", v: verdict(c, "<=", goalAt) });
}
for (const [fig, where] of [["P2", "Node"], ["P2chromium", "Chromium"]]) for (const q of ["on", "off"]) for (const p of ["p50", "p99"]) {
  p2("P2", fig, `one unbatched event, ${where}, queue ${q}: library / plain fetch`, `library (queue ${q})`, "plain fetch", p, 1.1);
}
// The A/A control (bench/p2_page.mjs): two identical plain fetches, the resolution of the method.
for (const [fig, where] of [["P2", "Node"], ["P2chromium", "Chromium"]]) for (const p of ["p50", "p99"]) {
  p2("P2", fig, `A/A control, ${where}: plain fetch / the same plain fetch (what the method shows for no difference)`, "plain fetch (A/A)", "plain fetch", p, null);
}

// P3: issue 10's goal, the wasm core no slower than a hand-written JS logger (ratio per runtime)
goal("P3", "CPU per event, wasm / JS equivalent, Node (process CPU time)", pair(perRound("P3", "wasm-node", (r) => r.cpuUsPerEvent), perRound("P3", "js-node", (r) => r.cpuUsPerEvent)), "<=", 1);
goal("P3", "CPU per full logUserAction call (queue, batching, body, fetch stub, answer), wasm / hand-written JS logger, Node", pair(perRound("P3full", "wasm-full-node", (r) => r.cpuUsPerEvent), perRound("P3full", "js-full-node", (r) => r.cpuUsPerEvent)), "<=", 1);
goal("P3", "time per event, wasm / JS equivalent, Chromium (JS hashes with async crypto.subtle; the library's sessionStorage stream store off, as in Node)", pair(perRound("P3", "wasm-chromium", (r) => r.usPerEvent), perRound("P3", "js-chromium", (r) => r.usPerEvent)), "<=", 1);
info("P3", "time per event in a page with the library's stream state kept in sessionStorage (as users get it), wasm / JS equivalent (which keeps none)", pair(perRound("P3", "wasm-store", (r) => r.usPerEvent), perRound("P3", "js-chromium", (r) => r.usPerEvent)));

// P5
const cpu5 = (c) => perRound("P5", c, (r) => r.cpuMs);
goal("P5", "Worker cold start: the library's extra CPU over a Worker sending the identical request without wasm (ms)", pair(cpu5("library"), cpu5("baseline")), "<=", 5, "diff", " ms");
const cpu5d = (c) => perRound("P5direct", c, (r) => r.cpuMs);
goal("P5", "Worker cold start, workerd run directly (no Miniflare): the library's extra CPU over the same Worker without wasm (ms)", pair(cpu5d("worker.js"), cpu5d("baseline.js+default+none")), "<=", 5, "diff", " ms");
const req5 = (c) => perRound("P5", c, (r) => r.requests);
goal("P5", "round trips of a new isolate's first event beyond the event's own request (schema step)", pair(req5("library"), req5("baseline")), "<=", 1, "diff", "");

// MEM: memory per waiting event (JS heap + wasm linear memory, after GC) / the event's JSON
const memRatio = (c) => perRound("MEM", c, (r) => r.ratio);
const memOne = (c) => [...memRatio(c)].map(([, v]) => ({ a: v, b: 1 }));
for (const [c, where] of [["queue", "Node, durable queue (default)"], ["queue-chromium", "Chromium, durable queue (default; IndexedDB)"]]) {
  const n = median(ok("MEM").filter((r) => r.contender === c).map((r) => r.n));
  if (memRatio(c).size) goal("MEM", `memory per waiting event / its JSON payload, ${where}: JS heap + wasm memory, ${f(n)} waiting`, memOne(c), "<=", 2);
}

// P4 (deterministic: one build)
// One goal per entry of the package (issue 10): the write path, with the read side, the Worker.
for (const [transport, what, target] of [
  ["fetch-writeonly", "size of pkg/ (entry neo4j-audit: the write path, features fetch)", 45],
  ["fetch", "size of pkg/read/ (entry neo4j-audit/read: features fetch, read)", 60],
  // verifyTrail moved out of neo4j-audit/read into an entry of its own: held to the read side's
  // goal too, which was set when the read entry carried it.
  ["verify", "size of pkg/verify/ (entry neo4j-audit/verify: features fetch, verify)", 60],
  ["worker", "size of pkg/worker/ (entry neo4j-audit/worker: features fetch, ingest)", 100],
]) {
  const b = ok("P4").find((r) => r.transport === transport && (r.stage === "bare+wasm-opt" || r.stage === "bare+wasm-opt-Oz"));
  if (!b) continue;
  const kb = (b.wasmGz + b.glueGz) / 1024;
  verdicts.push({ id: "P4", what: `${what}, wasm-opt${transport === "worker" ? "" : " -Oz"}, wasm + JS glue, gzip -9 (KB; one deterministic build)`, c: { point: kb, lo: kb, hi: kb, k: 1 }, op: "<=", target, unit: " KB", v: verdict({ lo: kb, hi: kb }, "<=", target) });
}

const verdictTable = table(["figure", "what", "median [95 % interval]", "goal", "verdict", "k"],
  verdicts.map((x) => [x.id, x.what, ci(x.c, x.unit), `${x.op === ">=" ? "≥" : "≤"} ${x.target}${x.unit}`, x.v === "met" ? "**met**" : x.v, x.c.k]));
const infoTable = table(["figure", "ratio", "median [95 % interval]", "k"], infos.map((x) => [x.id, x.what, ci(x.c, x.unit), x.c.k]));

// ---- figure tables: each contender's median and interval over rounds, and its samples
function contenderTable(fig, val, unit, digits = 0) {
  return table(["contender", "k", `median ${unit} [95 % interval]`, "samples (round order)", "what"],
    contendersOf(fig).map((c) => {
      const rs = ok(fig).filter((r) => r.contender === c).sort((p, q) => p.round - q.round);
      const m = medianCI(rs.map(val));
      return [c, rs.length, `${f(m.point, digits)} [${f(m.lo, digits)}, ${f(m.hi, digits)}]`, rs.map((r) => f(val(r), digits)).join(", "), rs[0]?.label ?? rs[0]?.note ?? ""];
    }));
}
const sweep = ok("P1sweep").sort((p, q) => q.eventsPerSec - p.eventsPerSec);
const sweepTable = table(["events per request", "in flight", "events", "events/s", "retried requests"],
  sweep.map((r, i) => [f(r.eventsPerRequest), r.inFlight, f(r.n), `${f(r.eventsPerSec)}${i < 2 ? " (finalist)" : ""}`, r.retries ?? 0]));

const p5split = (() => {
  const row = (what, ma, mb) => { const c = diffCI(pair(ma, mb)); return [what, `${sig(c.point)} [${sig(c.lo)}, ${sig(c.hi)}]`, c.k]; };
  return table(["part (workerd CPU, ms)", "median [95 % interval]", "k"], [
    row("workerd start-up alone (empty Worker)", cpu5("empty"), new Map([...cpu5("empty").keys()].map((k) => [k, 0]))),
    row("a plain request without wasm (baseline − empty)", cpu5("baseline"), cpu5("empty")),
    row("instantiation and the first AuditLogger (init − empty)", cpu5("init"), cpu5("empty")),
    ...(cpu5("compile").size ? [row("… the .wasm as a module, not instantiated (compile − empty)", cpu5("compile"), cpu5("empty"))] : []),
    ...(cpu5("import").size ? [row("… importing the Workers entry: instantiation + JS glue (import − empty)", cpu5("import"), cpu5("empty")),
      row("… the first new AuditLogger (init − import)", cpu5("init"), cpu5("import"))] : []),
    row("first logUserAction incl. its schema step (library − init)", cpu5("library"), cpu5("init")),
    ...(cpu5("second").size ? [row("a second logUserAction, same logger and request (second − library)", cpu5("second"), cpu5("library"))] : []),
    row("an explicit ensureSchema() (schema − init)", cpu5("schema"), cpu5("init")),
    row("**library's extra CPU (library − baseline)**", cpu5("library"), cpu5("baseline")),
  ]);
})();
const p5req = table(["Worker", "requests to Neo4j per cold start (median)"], contendersOf("P5").map((c) => [c, f(median(ok("P5").filter((r) => r.contender === c).map((r) => r.requests)))]));

const mem = ok("MEM").filter((m) => m.n && Number.isFinite(m.heapPerEvent));
const MEM_WHERE = {
  buffer: "Node, batch buffer (queue.enabled false)", queue: "Node, durable queue (default; memory-only in Node)",
  "buffer-chromium": "Chromium, batch buffer (queue.enabled false)", "queue-chromium": "Chromium, durable queue (default; IndexedDB)",
};
const memTable = table(["where they wait", "k", "events waiting", "payload B", "JS heap B/event", "wasm memory B/event", "of which live allocations B (count)",
  "heap + wasm B/event", "RSS after GC B/event", "peak RSS B/event", "(heap + wasm) / payload [95 % interval]", "goal ≤ 2×"],
  contendersOf("MEM").filter((c) => mem.some((m) => m.contender === c)).map((c) => {
    const rs = mem.filter((m) => m.contender === c);
    const md = (k) => median(rs.map((r) => r[k]).filter(Number.isFinite));
    const r = medianCI(rs.map((x) => x.ratio));
    return [MEM_WHERE[c] ?? c, rs.length, f(md("n")), f(md("payloadBytes")), f(md("heapPerEvent")), f(md("wasmPerEvent")),
      Number.isFinite(md("liveBytesPerEvent")) ? `${f(md("liveBytesPerEvent"))} (${f(md("allocsPerEvent"), 1)})` : "—",
      f(md("heapWasmPerEvent")), f(md("rssPerEvent")), f(md("rssPeakPerEvent")), ci(r, "×"), verdict(r, "<=", 2)];
  }));
const sizeTable = table(["transport", "stage", ".wasm raw", ".wasm gz", "JS glue gz (wasm-bindgen JS + snippets)", "wasm + glue gz"],
  ok("P4").filter((r) => r.stage !== "crates").map((r) => [r.transport, r.stage, f(r.wasmRaw), f(r.wasmGz), f(r.glueGz), `**${f(r.wasmGz + r.glueGz)}**`]));
// Top contributors by crate (bench/crates.mjs over twiggy, raw bytes before wasm-opt).
const crateRows = ok("P4").filter((r) => r.stage === "crates");
const crateVariants = ["fetch-writeonly-prebuilt-std", "fetch-writeonly", "fetch", "verify", "worker"].filter((v) => crateRows.some((r) => r.transport === v));
const crateNames = [...new Set(crateVariants.flatMap((v) => crateRows.filter((r) => r.transport === v).sort((a, b) => b.bytes - a.bytes).slice(0, 12).map((r) => r.crate)))];
const crateBytes = (v, c) => crateRows.find((r) => r.transport === v && r.crate === c)?.bytes;
const crateKey = crateVariants.includes("fetch-writeonly") ? "fetch-writeonly" : crateVariants[0];
crateNames.sort((a, b) => (crateBytes(crateKey, b) ?? 0) - (crateBytes(crateKey, a) ?? 0));
const crateLabel = { "fetch-writeonly-prebuilt-std": "write entry, prebuilt std (before)", "fetch-writeonly": "write entry (neo4j-audit)", fetch: "read entry (neo4j-audit/read)", verify: "verify entry (neo4j-audit/verify)", worker: "Worker entry (neo4j-audit/worker)" };
const crateTable = crateVariants.length === 0 ? "not measured in this run" : table(["crate", ...crateVariants.map((v) => `${crateLabel[v]}, KB`)],
  [...crateNames.map((c) => [c, ...crateVariants.map((v) => f((crateBytes(v, c) ?? 0) / 1024, 1))]),
    ["**all code and data** (names excluded)", ...crateVariants.map((v) => `**${f((crateRows.find((r) => r.transport === v)?.total ?? 0) / 1024, 1)}**`)]]);
const memScale = ok("MEMscale");
const memScaleTable = table(["where they wait", "events waiting", "k", "heap + wasm B per waiting event, median [95 % interval]", "(heap + wasm) / payload, median [95 % interval]", "RSS after GC B per event (median)"],
  contendersOf("MEMscale").map((c) => memScale.find((r) => r.contender === c))
    .sort((p, q) => String(p.args?.[1]).localeCompare(String(q.args?.[1])) || p.args?.[0] - q.args?.[0]).map(({ contender: c }) => {
      const rs = memScale.filter((r) => r.contender === c && Number.isFinite(r.heapWasmPerEvent));
      const mode = rs[0]?.args?.[1];
      return [mode === "buffer" ? "batch buffer (queue.enabled false)" : "durable queue (default; memory-only in Node)", f(rs[0]?.args?.[0]), rs.length,
        ci(medianCI(rs.map((r) => r.heapWasmPerEvent))), ci(medianCI(rs.map((r) => r.ratio)), "×"), f(median(rs.map((r) => r.rssPerEvent)))];
    }));
const readRows = ok("READ");
// The stored events: the "stored" line (round 0; older runs: the "write (batched)" line).
const readStored = readRows.find((r) => r.contender === "stored") ?? readRows.find((r) => r.round === 0);
const readOps = readRows.filter((r) => r.round > 0);
const readLoad = (() => {
  const s = readStored;
  if (!s || s.contender !== "stored") return "";
  const how = `${f(s.n)} chained events in ${f(s.streams)} chain stream(s) of up to ${f(s.chunk)} events, ${s.how}`;
  const rate = `${sig(s.loadMs / 60000)} min, ${f(s.loadEventsPerSec)} events/s`;
  return `Stored: ${how}. ${s.loaded ? `Loaded by this run (${rate}).` : `Reused: loaded by an earlier run at ${s.loadedAt} (${rate}); its marker (${s.version}) and the trail's count still matched, so this run did not load again.`}\n\n`;
})();
const readTable = table(["operation", "k", "median ms [95 % interval]", "events/s (median)"],
  [...new Set(readOps.map((r) => r.contender))].map((c) => {
    const rs = readOps.filter((r) => r.contender === c);
    const m = medianCI(rs.map((r) => r.ms));
    return [c, rs.length, `${sig(m.point)} [${sig(m.lo)}, ${sig(m.hi)}]`, f(median(rs.map((r) => r.eventsPerSec)))];
  }));
const faults = rows.filter((r) => r.figure === "FAULTS" && r.contender);
const open = ok("OPEN");
const openTable = table(["load", "k", "offered events/s", "achieved events/s (median)", "p50 ms [95 % interval]", "p99 ms [95 % interval]"],
  [...new Set(open.map((r) => r.contender))].map((c) => {
    const rs = open.filter((r) => r.contender === c);
    const p50 = medianCI(rs.map((r) => r.p50)), p99 = medianCI(rs.map((r) => r.p99));
    return [c, rs.length, f(median(rs.map((r) => r.offeredPerSec))), f(median(rs.map((r) => r.achievedPerSec))),
      `${sig(p50.point)} [${sig(p50.lo)}, ${sig(p50.hi)}]`, `${sig(p99.point)} [${sig(p99.lo)}, ${sig(p99.hi)}]`];
  }));

// ---- charts (hand-written SVG)
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
function svg(w, h, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">\n<rect width="${w}" height="${h}" fill="white"/>\n${body}\n</svg>\n`;
}
/** Forest plot of the verdict rows on a log axis: interval, median, goal. */
function forest(items) {
  const L = 430, W = 880, R = 30, rowH = 26, top = 30;
  const vals = items.flatMap((x) => [x.c.lo, x.c.hi, x.target]).filter((x) => x > 0);
  const lo = Math.log10(Math.min(...vals) / 1.5), hi = Math.log10(Math.max(...vals) * 1.5);
  const X = (v) => L + ((Math.log10(Math.max(v, 1e-9)) - lo) / (hi - lo)) * (W - L - R);
  let b = `<text x="10" y="18" font-weight="bold">Ratios and goals (log scale): dot = median, bar = 95 % interval, | = goal</text>\n`;
  items.forEach((x, i) => {
    const y = top + i * rowH + 13;
    const col = x.v === "met" ? "#1a7f37" : x.v === "not met" ? "#cf222e" : "#9a6700";
    const lab = `${x.id}${x.unit.trim() && x.unit !== "×" ? ` [${x.unit.trim()}]` : ""}: ${x.what}`;
    b += `<text x="10" y="${y + 4}"><title>${esc(x.what)}</title>${esc(lab.length > 68 ? lab.slice(0, 67) + "…" : lab)}</text>`;
    b += `<line x1="${X(x.c.lo)}" x2="${X(x.c.hi)}" y1="${y}" y2="${y}" stroke="${col}" stroke-width="3"/>`;
    b += `<circle cx="${X(x.c.point)}" cy="${y}" r="4" fill="${col}"/>`;
    b += `<line x1="${X(x.target)}" x2="${X(x.target)}" y1="${y - 9}" y2="${y + 9}" stroke="black"/>\n`;
  });
  const yA = top + items.length * rowH + 8;
  for (let e = Math.ceil(lo); e <= hi; e++) for (const m of [1, 2, 5]) {
    const v = m * 10 ** e;
    if (Math.log10(v) < lo || Math.log10(v) > hi) continue;
    b += `<line x1="${X(v)}" x2="${X(v)}" y1="${top}" y2="${yA}" stroke="#ddd"/><text x="${X(v)}" y="${yA + 14}" text-anchor="middle">${v}</text>`;
  }
  return svg(W, yA + 24, b);
}
/** Dot plot: one row per contender, a dot per sample, a bar at the median (linear axis from 0). */
function dots(title, unit, groups) {
  const L = 330, W = 880, R = 30, rowH = 22, top = 30;
  const max = Math.max(...groups.flatMap((g) => g.values), 1e-9) * 1.05;
  const X = (v) => L + (v / max) * (W - L - R);
  let b = `<text x="10" y="18" font-weight="bold">${esc(title)}</text>\n`;
  groups.forEach((g, i) => {
    const y = top + i * rowH + 11;
    b += `<text x="10" y="${y + 4}">${esc(g.label.slice(0, 48))}</text>`;
    for (const v of g.values) b += `<circle cx="${X(v)}" cy="${y}" r="3" fill="#0969da" fill-opacity="0.6"/>`;
    const m = median(g.values);
    b += `<line x1="${X(m)}" x2="${X(m)}" y1="${y - 8}" y2="${y + 8}" stroke="black" stroke-width="2"/><text x="${X(m) + 6}" y="${y - 4}" font-size="10">${sig(m)}</text>\n`;
  });
  const yA = top + groups.length * rowH + 6;
  for (let t = 0; t <= 4; t++) { const v = (max / 4) * t; b += `<line x1="${X(v)}" x2="${X(v)}" y1="${top}" y2="${yA}" stroke="#ddd"/><text x="${X(v)}" y="${yA + 14}" text-anchor="middle">${sig(v)} ${esc(unit)}</text>`; }
  return svg(W, yA + 24, b);
}
mkdirSync(CHARTS, { recursive: true });
const charts = [];
const chart = (name, text, alt) => { writeFileSync(CHARTS + name, text); charts.push(`[${alt}](bench/charts/${name})`); return `![${alt}](bench/charts/${name})`; };
const group = (fig, val, filter = () => true) => contendersOf(fig).filter(filter).map((c) => ({ label: c, values: ok(fig).filter((r) => r.contender === c).map(val) }));
const gVerdict = verdicts.length ? chart("verdicts.svg", forest(verdicts.filter((x) => x.c.point > 0)), "verdicts: ratios with intervals and goals") : "";
const gP1 = ok("P1").length ? chart("p1.svg", dots("P1 throughput per round (events/s)", "ev/s", group("P1", eps)), "P1 throughput") : "";
const gSeed = ok("P1seed").length ? chart("p1seed.svg", dots("P1 the seed's pattern vs the library at equal concurrency (events/s)", "ev/s", group("P1seed", eps)), "P1 seed comparison") : "";
const gP2 = ok("P2").length ? chart("p2.svg", dots("P2 one unbatched event: p50 and p99 per round (ms)", "ms",
  ["P2", "P2chromium"].flatMap((fig) => ["p50", "p99"].flatMap((p) => group(fig, (r) => r[p]).map((g) => ({ ...g, label: `${fig === "P2" ? "Node" : "Chromium"} ${p} ${g.label}` }))))), "P2 latency") : "";
const gP5 = ok("P5").length ? chart("p5.svg", dots("P5 workerd CPU from spawn to the first answer (ms)", "ms", group("P5", (r) => r.cpuMs)), "P5 cold start") : "";

// ---- BENCHMARKS.md
const n1 = ok("P1")[0]?.n, nSeed = ok("P1seed").find((r) => !r.contender.startsWith("lib-prod"))?.n, nProd = ok("P1seed").find((r) => r.contender.startsWith("lib-prod"))?.n;
const versions = [
  `- run: \`${RUN}\`${QUICK ? " — **quick mode** (BENCH_QUICK=1: small sizes, for checking the pipeline; not the reference figures)" : ""}; k = ${V.k ?? "?"} rounds per figure (P2, P3: ${V.kFast ?? V.k ?? "?"}; P5: ${Math.max(0, ...ok("P5").map((r) => r.round ?? 0))} paired rounds)`,
  `- commit: ${V.commit ?? "?"}${V.dirty ? " (src/ had uncommitted changes)" : ""}; CPU: ${V.cpu ?? "?"}; RAM ${V.ramGiB ?? "?"} GiB, shared with other work (load at start: ${V.loadavg ?? "?"})`,
  `- Neo4j: ${V.neo4j ?? "?"} (\`CALL dbms.components()\`), own instance (HTTP 7476, Bolt 7689, heap 2 GB, transaction memory 1 GB) on loopback; Java: ${V.java ?? "?"}`,
  `- Node ${V.node ?? "?"}; ${V.rustc ?? "?"}; ${V.wasmBindgen ?? "?"} (locked ${V.wasmBindgenLocked ?? "?"}); binaryen ${V.binaryen ?? "?"}`,
  `- ${V.workerd ?? "workerd ?"} (npm workerd ${V.workerdNpm ?? "?"}), miniflare ${V.miniflare ?? "?"}, wrangler ${V.wrangler ?? "?"}; ${V.chromium ?? "Chromium ?"}`,
  `- neo4j-driver (JS) ${V.neo4jDriverJs ?? "?"}; ${V.python ?? "?"} with neo4j (Python driver) ${V.neo4jDriverPy ?? "?"}`,
].join("\n");

// Signing (issue 11): bench/signing.mjs is run on its own (two wrangler dev Workers); its last
// summary line, with the interleaved rounds behind it, is reported here beside the write rate.
const signingMd = (() => {
  const f = `${RESULTS}signing.jsonl`;
  if (!existsSync(f)) return "";
  const lines = readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const sum = lines.filter((l) => l.kind === "summary").pop();
  if (!sum) return "";
  const rounds = lines.filter((l) => l.date === sum.date && l.round !== undefined);
  const rng = (x) => `${x.median.toFixed(0)} [${x.min.toFixed(0)}, ${x.max.toFixed(0)}]`;
  const us = (x) => (1e6 / x.median).toFixed(1);
  return `## Signing: the Worker's signed stream (issue 11)

\`node bench/signing.mjs ${sum.events} ${sum.k}\` (not in \`bench/run\`: it starts two \`wrangler dev\` Workers on the dev Neo4j), run ${sum.date}, ${sum.label}; k = ${sum.k} interleaved rounds (${rounds.length} samples), median [min, max]; raw in \`bench/results/signing.jsonl\`.

| | with a signing key | without (same chained write, no signatures) |
|---|---|---|
| writes through the Worker, events/s | ${rng(sum.writeEventsPerSec.signed)} | ${rng(sum.writeEventsPerSec.chained)} |
| write cost per event, µs (wall) | ${sum.writeUsPerEvent.signed.toFixed(0)} | ${sum.writeUsPerEvent.chained.toFixed(0)} |
| \`verifyTrail\` of ${sum.verifiedEvents} events, events/s (µs per event) | ${rng(sum.verifyEventsPerSec.withKeys)} (${us(sum.verifyEventsPerSec.withKeys)}) — with public keys | ${rng(sum.verifyEventsPerSec.withoutKeys)} (${us(sum.verifyEventsPerSec.withoutKeys)}) — without |

`;
})();

const md = `# Benchmarks

Generated by \`bench/report.mjs\` from the raw samples of one \`bench/run\` in
\`bench/results/*.jsonl\` (one line per sample: run id, round, contender); nothing here is typed by
hand. The machine is shared (2 cores, other agents compiling), so absolute figures move between
runs; the ratios are taken within each round, where the contenders ran side by side.

${versions}

## Verdicts

Each ratio is the median over rounds of the per-round ratio, with a 95 % percentile-bootstrap
interval (10 000 resamples of whole rounds). **met** = the whole interval is on the goal's side;
**not met** = the whole interval is on the other side; **not shown** = the interval contains the goal.

${verdictTable}

${gVerdict}

Other ratios (no goal of their own):

${infoTable}

## P1 throughput

${f(n1)} events into a freshly emptied database per sample (schema kept, 100 \`:User\` nodes).

### Neo4j's limit: the sweep (one sample per point; the two best go into the rounds)

${sweepTable}

### Rounds (contenders interleaved, order rotated per round)

${contenderTable("P1", eps, "events/s")}

${gP1}

### Other sizes (P1scale; \`BENCH_SCALE=0\` skips them)

${ok("P1scale").length ? contenderTable("P1scale", eps, "events/s") : "not measured in this run"}

### The seed's pattern at equal concurrency (${f(nSeed)} events per sample; the producer contender ${f(nProd)})

${contenderTable("P1seed", eps, "events/s")}

${gSeed}

### Steady rate (open loop) at 50 % and 90 % of the limit

Events arrive at a fixed rate (the run's median limit × the fraction) for a fixed time, each
latency from its scheduled arrival to its call resolving (library defaults, one logger).

${open.length ? openTable : "not measured in this run"}

## P2 latency of one unbatched event (ms)

${contenderTable("P2", (r) => r.p50, "p50 ms", 2)}

${contenderTable("P2", (r) => r.p99, "p99 ms", 2)}

Chromium (the library straight to Neo4j; queue on = IndexedDB):

${ok("P2chromium").length ? contenderTable("P2chromium", (r) => r.p50, "p50 ms", 2) + "\n\n" + contenderTable("P2chromium", (r) => r.p99, "p99 ms", 2) : "not measured in this run."}

${gP2}

## P3 CPU per event

### The full call (Node, \`fetch\` stubbed)

\`node bench/cpu_full.mjs\`: each sample a fresh logger and N calls submitted at once, all awaited; from
the call to its resolved \`true\`: validation, redaction, UID, time, hash chain, the durable queue
(memory in Node), batching and pipelining (the defaults: up to 1000 events per request, 4 in flight; the JS logger the same), the body, \`fetch\`
(a stub answering like Neo4j, the same for both), the answer read. The shipped package (\`pkg/\`)
against a hand-written JS logger doing the same (\`makeJsLogger\` in \`bench/js_equivalent.mjs\`).

${ok("P3full").length ? contenderTable("P3full", (r) => r.cpuUsPerEvent, "process CPU µs/call", 1) : "not measured in this run"}

### The core alone (no batching, no queue, no network)

${contenderTable("P3", (r) => r.cpuUsPerEvent ?? r.usPerEvent, "µs/event (Node: process CPU; Chromium: wall)", 1)}

Native (\`cargo bench --bench core\`, one process per repeat):

${contenderTable("P3native", (r) => r.usPerEvent, "µs/event", 1)}

## P4 size (release; gzip -9)

${sizeTable}

Top contributors by crate: raw bytes of each build's code and data before wasm-opt (\`twiggy top\`
summed per crate by \`bench/crates.mjs\`; generic code is counted under the crate that defines it, so
\`core\`/\`alloc\` include their instances for this crate's types). "Before" is the same write entry
compiled against the prebuilt std; the others rebuild std for size (\`scripts/wasm-release-env\`).

${crateTable}

## P5 cold start in workerd

CPU of the workerd process from spawn to the first answer, summed over its threads from
\`/proc/<pid>/task/*/schedstat\` (nanoseconds); the Workers start in rotated order each round. The
library Workers import the published package's Workers entry (\`pkg/workerd.js\`, what
\`import … from "neo4j-audit"\` resolves to under the \`workerd\` condition: the write path).

${p5split}

${contenderTable("P5", (r) => r.cpuMs, "workerd CPU ms", 2)}

The same Workers in workerd run directly (\`bench/coldstart-v8.mjs\`, figure P5direct: no Miniflare,
whose own start-up is most of the CPU above; \`+default+none\`: the Worker without any module of
the library, so no .wasm compiled at load):

${contenderTable("P5direct", (r) => r.cpuMs, "workerd CPU ms", 2)}

${p5req}

${gP5}

${signingMd}## Memory per waiting event (Neo4j replaced by a server that never answers)

\`bench/memory.mjs\` (Node, \`--expose-gc\`, a fresh process per sample) and \`bench/memory_chromium.mjs\` (a fresh
headless Chromium per sample, page cross-origin isolated): N calls of \`logUserAction\` wait at once; medians over
k interleaved rounds. JS heap: V8's used heap after a full GC (Node \`heapUsed\`, Chromium
\`performance.memory.usedJSHeapSize\` with --enable-precise-memory-info); wasm memory: growth of the module's linear
memory (it never shrinks: the allocator's peak); payload: the event's JSON as queued and sent. In Chromium the
queue's copy of each event is in IndexedDB (the browser's storage), not in the page.

${mem.length ? memTable : "not measured in this run"}

### Other sizes (MEMscale; \`BENCH_SCALE=0\` skips them; k rounds, sizes and places rotated per round)

${memScale.length ? memScaleTable : "not measured in this run"}

## Read side (${f(readStored?.n)} chained events stored)

${readLoad}${readOps.length ? readTable : "not measured in this run"}

## Fault run (\`bench/faults\`: real Neo4j restarted mid-run, proxy faults)

${faults.length ? faults.map((r) => `- ${r.passed ? "**passed**" : "**FAILED**"}: ${r.events} events, ${r.restarts} restart(s)\n${(r.summary ?? []).map((l) => `  - \`${l.trim()}\``).join("\n")}`).join("\n") : "not run in this run (BENCH_FAULTS=0)"}

${errors.length ? `## Errors in this run\n\n${errors.map((e) => `- ${e.figure} ${e.contender ?? ""}: ${e.error}`).join("\n")}\n` : ""}${notes.length ? `\nNotes on this run (bench/results/notes.jsonl):\n\n${notes.map((n) => `- ${n.text}`).join("\n")}\n` : ""}
## Method

- **Rounds.** Every figure is k ≥ 5 rounds (P2 and P3, which take seconds per round, k = 15 by default:
  their per-round spread on 2 shared cores is wider than the differences they judge; the k column says); in each round every contender runs once, in an order
  rotated by one place per round (bench/rounds.mjs; P2/P3/P5/read rotate within their own script).
  Every sample is one line in \`bench/results/<figure>.jsonl\`; this file, the charts and the README
  block are generated from those lines by \`bench/report.mjs\`, which can be re-run on any past run id.
- **P1.** Each sample is its own Node process and starts from an emptied database (schema kept: the
  library's constraints and indexes) with 100 \`:User\` nodes; the graph is counted after each sample
  (events, HAS_EVENT, PERFORMED_BY, one trail) and a sample with a wrong count is an error. Every
  contender's clock starts the same pause (500 ms) after its own preparation, so that each meets a
  Neo4j done with emptying the database (from the runs after 2026-11-30T17:52:26Z; earlier runs had none).
  *Neo4j's limit*: plain \`fetch\` of our own \`UNWIND\` statement with bodies serialised beforehand,
  swept over events per request × requests in flight (500 … 50 000 × 1, 2 or 4 in the full run); the two
  best points run in every round, and a round's limit is the best of every plain-fetch configuration
  run in it (the two finalists, 1000 × 4 and 100 × 4; two contenders of one configuration, such as a
  finalist that is 1000 × 4, count as two samples of that point: their mean). *a*: the library,
  all calls fired at once on one logger, its default batching (maxEvents 1000, maxBytes 1 MiB, maxInFlight 4),
  the callers' inputs (user, names, details objects) made before the clock starts as the limit's bodies are;
  *a-query*: the same with \`api: "query"\` (Query API v2).
  *fetch-100x4*: plain fetch, 100 events per request, 4 in flight (the drivers' batch shape);
  *fetch-1000x4*: the same with the library's default batch bound (HTTP without the library). *d-tx* / *d-exec*: neo4j-driver over Bolt running our statement with our parameters,
  100 events per managed transaction (\`executeWrite\`, 4 sessions) / per \`driver.executeQuery\`
  (4 at once). *Seed*: the seed's \`log_user_action\` (four auto-commit operations per event:
  create the event, get-or-create the trail, HAS_EVENT, PERFORMED_BY) with the Python driver
  (\`bench/seed_pattern.py\`, threads) and with neo4j-driver in JS, against the library two ways at
  equal concurrency c (1 and 8): *lib c*: c callers each awaiting its call before the next (the
  same callers as the seed's threads; no batching possible beyond c); *lib-prod c*: one producer
  calling \`logUserAction\` without awaiting each (all promises awaited at the end, the usual way to
  log from async code) with \`batch.maxInFlight = c\`, so the same number of requests is on the wire
  as the seed's c threads; the library's gain is the batching. Its samples are larger
  (BENCH_N_PROD events) because a batch's rate needs more events to be steady.
- **P2.** Per iteration the library with the queue on (default), with it off, and a plain \`fetch\`
  of the same statement and a body of the same kind (built by the library beforehand, not timed), and
  that plain \`fetch\` once more (an A/A control: its ratio is the method's resolution) each send one
  new event (each plain \`fetch\` its own body: the statement MERGEs on the UID), in an order
  shuffled per iteration (seeded; with a rotation each contender followed the same neighbour); Chromium's
  page is cross-origin isolated, so its clock has 5 µs steps, not 0.1 ms; per round p50 and p99 of each (${ok("P2")[0]?.n ?? "?"} iterations per round in Node, ${ok("P2chromium")[0]?.n ?? "?"} in Chromium); 30 warm-up iterations dropped.
  The p50 ratio is the median of the per-round ratios, as everywhere; the p99 ratio is each contender's p99
  over all its rounds' samples pooled (a round's p99 of a few hundred samples rests on its largest
  few: identical contenders gave per-round p99 ratios of 0.66–3.05 here), its interval by resampling
  rounds whole (\`pooledRatioCI\` in bench/stats.mjs); the A/A rows show what the method gives for no difference.
- **P3.** \`benchmarkRequestBodyOne\` (cargo feature \`bench\`) runs what \`logUserAction\` runs before
  sending; the hand-written JS equivalent (\`bench/js_equivalent.mjs\`) does the same with the
  platform's SHA-256. Node: process CPU time per event; Chromium: wall time.
- **P4.** \`bench/size\`: cargo release → wasm-bindgen \`--target web\` → npm binaryen \`wasm-opt\` (\`-Oz\`; the Worker entry: the size passes of scripts/wasm-release-env, smaller after gzip).
- **P5.** Miniflare's workerd; see the table for the Workers. The baseline sends the very body
  the library builds for the same event (made in Node by \`benchmarkRequestBodyOne\`). A counting
  proxy in front of Neo4j counts each start's requests. The Workers run what users ship: the
  package's Workers entry \`pkg/workerd.js\` of the root entry \`neo4j-audit\` (write path,
  features fetch), as \`scripts/build\` makes it (only the baseline's body comes from the bench build).
  P5direct runs the same Worker scripts in the npm package's workerd binary directly (a capnp
  config per start, \`bench/coldstart-v8.mjs\`), so that Miniflare's own start-up (many times the library's CPU,
  most of P5's spread) is not in every sample; its baseline has no module of the library at all.
- **Read side.** \`bench/read.mjs\` against a Neo4j instance of its own in the full run (\`benchread\`,
  same settings as the bench one; the other figures empty theirs): the events are written through the
  library (\`logUserAction\`, one logger and so one chain stream per 100 000 events, batches of 1000 × 4
  in flight, 4 users, every fifth event \`SECURITY\`), and a marker node (count, loader and a hash of the
  library's write-path sources) lets a later run reuse them. Each round runs every operation once,
  rotated: the first page, a category page and a user page (limit 50); the same three from a cursor
  90 % of the way into the trail / the category / the user's events (the library's cursor format,
  made once per run from the event found at that depth with the same index order); a cursor walk over
  10 000 events (pages of 500); \`verifyTrail\` of one chain stream (the window: the 100 000
  events written by one logger; the whole trail when it holds fewer) — the events/s column is its rate;
  and the one page of a second trail of 20 events stored beside them (that page reads to its trail's
  end, so it shows what the big trail costs a small trail: nothing by the per-trail index on the
  \`HAS_EVENT\` links, its whole walk by the shared \`(timestamp, UID)\` index of events stored by an
  older version and not migrated; \`bench/migrate.mjs\` times \`neo4j-audit migrate\` on such data).

Charts: ${charts.join(", ")}.
`;
writeFileSync(`${ROOT}BENCHMARKS.md`, md);

// ---- the README's block
const pick = (re) => verdicts.find((x) => re.test(x.what));
const headline = [
  ["P4 size of the write-path package (neo4j-audit), gzip", pick(/^size of pkg\/ /)],
  ["P4 size with the read side (neo4j-audit/read), gzip", pick(/^size of pkg\/read/)],
  ["P4 size with verification (neo4j-audit/verify), gzip", pick(/^size of pkg\/verify/)],
  ["P4 size of the Worker entry (neo4j-audit/worker), gzip", pick(/^size of pkg\/worker/)],
  ["P1 library / Neo4j's limit", pick(/batched \/ Neo4j's limit/)],
  ["P1 library / neo4j-driver (managed tx)", pick(/managed transactions/)],
  ["P1 library / neo4j-driver (executeQuery)", pick(/executeQuery/)],
  ["P1 library / seed's pattern (Python), c = 1", pick(/Python driver\), both at concurrency 1$/)],
  ["P1 library / seed's pattern (Python), c = 8", pick(/Python driver\), both at concurrency 8$/)],
  ["P1 library (one producer) / seed's pattern (Python), 1 in flight", pick(/one producer .*, 1 request\(s\) in flight \/ the seed's pattern \(Python/)],
  ["P1 library (one producer) / seed's pattern (Python), 8 in flight", pick(/one producer .*, 8 request\(s\) in flight \/ the seed's pattern \(Python/)],
  ["P2 one event / plain fetch, p50 (Node, queue on)", pick(/Node, queue on: .* p50/)],
  ["P2 one event / plain fetch, p99 (Node, queue on)", pick(/Node, queue on: .* p99/)],
  ["P5 Worker cold start, library's extra CPU (Miniflare)", pick(/^Worker cold start: the library's extra CPU/)],
  ["P5 Worker cold start, library's extra CPU (workerd run directly)", pick(/workerd run directly/)],
  ["MEM memory per waiting event / its JSON (Node, default queue)", pick(/^memory per waiting event .*Node, durable queue/)],
].filter(([, x]) => x).map(([label, x]) => [label, ci(x.c, x.unit), `${x.op === ">=" ? "≥" : "≤"} ${x.target}${x.unit}`, x.v === "met" ? "met" : x.v]);
for (const [label, re] of [["P3 CPU per full call, wasm / JS logger (Node)", /full logUserAction call/], ["P3 CPU per event, wasm / JS (Node)", /Node \(process CPU/], ["P3 time per event, wasm / JS (Chromium)", /Chromium \(JS hashes/]]) {
  const x = verdicts.find((v) => re.test(v.what));
  if (x) headline.splice(3, 0, [label, ci(x.c, x.unit), `≤ ${x.target}${x.unit}`, x.v === "met" ? "met" : x.v]);
}
const block = `<!-- bench:begin (generated by bench/report.mjs from bench/results/; do not edit) -->
Run \`${RUN}\`${QUICK ? " (quick mode)" : ""}, commit ${V.commit ?? "?"}: median [95 % interval] over k rounds; all figures and the method in [BENCHMARKS.md](BENCHMARKS.md).

${table(["figure", "median [95 % interval]", "goal", "verdict"], headline)}
<!-- bench:end -->`;
const readme = `${ROOT}README.md`;
if (existsSync(readme)) {
  const text = readFileSync(readme, "utf8");
  const re = /<!-- bench:begin[^>]*-->[\s\S]*?<!-- bench:end -->/;
  if (re.test(text)) writeFileSync(readme, text.replace(re, () => block));
  else console.error("report: README.md has no <!-- bench:begin --> … <!-- bench:end --> block; not updated");
}

console.log(`run ${RUN}\n\n${verdictTable}\n\n${infoTable}`);
if (errors.length) console.log(`\n${errors.length} error(s): see BENCHMARKS.md`);
