// Reads the JSON lines of one bench/run, prints the tables and writes BENCHMARKS.md.
//   node bench/report.mjs results.jsonl "command" > table
import { execSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const [file, command = "bench/run"] = process.argv.slice(2);
const rows = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const by = (fig) => rows.filter((r) => r.figure === fig);
const get = (fig, id) => rows.find((r) => r.figure === fig && r.id === id);
const f = (x, d = 0) => (x == null || Number.isNaN(x) ? "—" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const ratio = (a, b) => (a && b ? `${f(a / b, 2)}×` : "—");
const sh = (c) => { try { return execSync(c, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return "?"; } };
const table = (head, body) => [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");

const out = [];
const P1 = ["a", "b", "c", "d-event", "d-batch", "e"].map((id) => get("P1", id)).filter(Boolean);
const eps = (id) => get("P1", id)?.eventsPerSec;
out.push("## P1 throughput (events into a freshly emptied database, same schema)");
out.push(table(["", "contender", "events", "seconds", "events/s", "graph check"],
  P1.map((r) => [r.id, r.label, f(r.n), f(r.seconds, 2), f(r.eventsPerSec), r.ok ? "ok" : `FAILED ${JSON.stringify(r.census ?? r.error)}`])));
for (const r of by("P1").filter((r) => r.error)) out.push(`- ${r.id} failed: ${r.error}`);
out.push("");
out.push(`Ratios of events/s: **a/e = ${ratio(eps("a"), eps("e"))}** (share of Neo4j's own limit), ` +
  `**a/c = ${ratio(eps("a"), eps("c"))}** (vs the seed's pattern), **a/d = ${ratio(eps("a"), eps("d-batch"))}** ` +
  `(vs neo4j-driver batched), a/d-event = ${ratio(eps("a"), eps("d-event"))}, b/c = ${ratio(eps("b"), eps("c"))}, ` +
  `b/d-event = ${ratio(eps("b"), eps("d-event"))}.`);

const lib = get("P2", "library"), pf = get("P2", "plain-fetch");
out.push("", "## P2 latency of one unbatched event (ms, Node, sequential, interleaved)");
out.push(table(["", "n", "p50", "p99", "mean"], [lib, pf].filter(Boolean).map((r) => [r.id, f(r.n), f(r.p50, 2), f(r.p99, 2), f(r.mean, 2)])));
if (lib && pf) out.push("", `Library / plain fetch: p50 ${ratio(lib.p50, pf.p50)}, p99 ${ratio(lib.p99, pf.p99)}.`);

const js = get("P3", "js-node");
out.push("", "## P3 CPU per event in the core (validate + build + hash chain + serialise; no network)");
out.push(table(["implementation", "events", "µs/event", "vs JS in Node", "body bytes"],
  by("P3").map((r) => [r.id, f(r.n), f(r.usPerEvent, 1), ratio(r.usPerEvent, js?.usPerEvent), f(r.avgBodyBytes)])));

out.push("", "## P4 size (release; gzip -9)");
out.push(table(["transport", "stage", ".wasm raw", ".wasm gz", "JS glue gz", "wasm + glue gz"],
  by("P4").map((r) => [r.transport, r.stage, f(r.wasmRaw), f(r.wasmGz), f(r.glueGz), `**${f(r.wasmGz + r.glueGz)}**`])));
const shipped = by("P4").find((r) => r.transport === "fetch" && r.stage === "bare+wasm-opt-Oz");
if (shipped) out.push("", `Shipped (fetch, wasm-opt -Oz): ${f((shipped.wasmGz + shipped.glueGz) / 1024, 1)} KB gzipped wasm + glue; target ≤ 45 KB.`);

const p5 = by("P5")[0];
out.push("", "## P5 cold start in workerd (Miniflare, local)");
out.push(p5 ? table(["", "workerd CPU ms (spawn → first answer, median)", "wall ms"], [
  ["with the library (instantiate + first event incl. its schema check)", f(p5.cpuMsWithLibrary), f(p5.wallMsWithLibrary)],
  ["baseline Worker, no wasm, one hand-built POST", f(p5.cpuMsBaseline), f(p5.wallMsBaseline)],
  ["**library's cost**", `**${f(p5.cpuMsLibraryCost)}**`, f(p5.wallMsWithLibrary - p5.wallMsBaseline)],
]) + `\n\nMedian of ${p5.rounds} starts each; /proc CPU ticks are ${p5.tickMs} ms.` : "not measured");

const mem = by("MEM").filter((m) => m.n);
out.push("", "## Memory: Node RSS while events wait (Neo4j replaced by a server that never answers)");
out.push(mem.length ? table(["where they wait", "events waiting", "RSS before MB", "peak RSS MB", "delta MB", "bytes per waiting event", "time to submit them all s"],
  mem.map((m) => [m.id === "buffer" ? "batch buffer (queue.enabled false)" : "durable queue (default; memory-only in Node)",
    f(m.n), f(m.rssBeforeMB, 1), f(m.rssPeakMB, 1), f(m.rssDeltaMB, 1), f(m.bytesPerWaitingEvent), f(m.enqueueSeconds, 1)])) : "not measured");
for (const r of rows.filter((r) => r.error && r.figure !== "P1")) out.push(`- ${r.figure} ${r.id ?? ""} failed: ${r.error}`);
const tables = out.join("\n");
console.log(tables);

const machine = [
  `- date: ${statSync(file).mtime.toISOString()} (end of the run)`,
  `- commit: ${sh("git rev-parse --short HEAD")}${sh("git status --porcelain --untracked-files=no") ? " (work tree has uncommitted changes)" : ""}`,
  `- CPU: ${cpus()[0]?.model ?? "?"} × ${cpus().length}; RAM ${f(totalmem() / 2 ** 30, 1)} GiB (shared with other work on the machine)`,
  `- Node ${process.version}; ${sh("rustc --version")}; ${sh(".cache/bench/venv/bin/python --version")} with neo4j ${sh(".cache/bench/venv/bin/python -c 'import neo4j; print(neo4j.__version__)'")}; neo4j-driver ${JSON.parse(readFileSync("node_modules/neo4j-driver/package.json", "utf8")).version}; ${sh("/usr/bin/chromium --version")}`,
  `- Neo4j 5.26 (scripts/neo4j, harness launcher; heap 2 GB, transaction memory 1 GB so the limit's single 20 000-event transaction fits) on loopback, its own instance (NEO4J_INSTANCE=bench, HTTP 7476, Bolt 7689)`,
].join("\n");
const md = `# Benchmarks

Produced by \`${command}\` (one command: installs what it needs, starts its own Neo4j, runs every
figure side by side, prints these tables and rewrites this file). Numbers from one run on a noisy,
shared 2-core machine: compare the ratios within a run, not absolute values across runs. Nothing
here is asserted by a test.

${machine}

${tables}

## Method

- **P1**: before each contender the database is emptied (schema kept: the library's constraints and
  indexes) and 100 \`:User\` nodes are created, so every contender writes the same graph: 1 trail,
  one \`:AuditEvent\` per event, \`HAS_EVENT\` and \`PERFORMED_BY\` each; the graph is counted after
  each run ("graph check"). **a**: one logger, all calls fired at once, batches formed by the
  library (group commit, \`maxEvents\` 100). **b**: eight loggers with \`maxEvents: 1\`, eight
  sequential callers. **c**: \`bench/seed_pattern.py\`, the seed's \`log_user_action\` with the
  official Python driver: four auto-commit operations per event (create event, get-or-create
  trail, HAS_EVENT, PERFORMED_BY), sequential; its matches use labels (the seed's generic helpers
  may not, which would be slower). **d**: the official \`neo4j-driver\` over Bolt running the
  library's statement with the library's parameters (built beforehand, not timed): per event at
  concurrency 8 (\`d-event\`) and per 100 events sequentially (\`d-batch\`). **e**: every event in
  one \`UNWIND\` of the same statement, one HTTP request by curl (time = curl's \`time_total\`).
  The per-event contenders (b, c, d-event) run fewer events (\`BENCH_N_SLOW\`) to keep one run near
  10 minutes; their rate is steady-state.
- **P2**: \`logUserAction\` awaited alone (a batch of one) vs \`fetch\` of the same statement and
  body built by the library beforehand; interleaved, 30 warm-up rounds dropped.
- **P3**: \`benchmarkRequestBodyOne\` (cargo feature \`bench\`, not in the npm package) runs what
  \`logUserAction\` runs before sending: JS → Rust conversion of details, validation, redaction, UID,
  time, SHA-256 hash chain, statement, serialised body. The JS equivalent
  (\`bench/js_equivalent.mjs\`) does the same and produces bodies of the same size; its SHA-256 is
  the platform's (\`node:crypto\`; in Chromium only the async \`crypto.subtle\` exists). Native:
  \`cargo bench --bench core\` (same release profile: opt-level "z").
- **P4**: \`bench/size\`: cargo release build → wasm-bindgen \`--target web\` (with, then without
  the name section) → npm binaryen 132 \`wasm-opt -Oz\`. The shipped package is the last \`fetch\` row.
- **P5**: Miniflare's workerd, CPU of the workerd process from spawn to the first answer, minus a
  baseline Worker without wasm; the library's first event also runs its schema statements.
- **Memory**: the logger points at a TCP server that accepts and never answers; all events are
  submitted at once (queue bound raised to N) and RSS is sampled every 5 ms.
`;
writeFileSync("BENCHMARKS.md", md);
