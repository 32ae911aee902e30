// P1 throughput: N events into a freshly emptied database, one contender per run.
//   node bench/throughput.mjs <contender> [N]
// Contenders: a (this library, batched: N concurrent logUserAction on one logger, maxEvents from
// BENCH_BATCH, default the library's 100), c (the seed's pattern: bench/seed_pattern.py), b (this library unbatched: 8 loggers with maxEvents 1,
// concurrency 8), d-event / d-batch (official neo4j-driver over Bolt running our statement per
// event at concurrency 8 / per BENCH_BATCH events sequentially), e (the limit: all N events in one
// UNWIND of our statement, one request posted by curl). Prints one JSON line.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import neo4j from "neo4j-driver";
import { AuditLogger, benchmarkRequestBody } from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, BOLT, HTTP, PASSWORD, USER, census, config, emit, event, fresh, loadWasm, pool } from "./common.mjs";

const which = process.argv[2];
const N = Number(process.argv[3] ?? 20000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
await loadWasm();
await fresh();

/** Our statement and the parameters for events [from, to), built by the library itself. */
function params(from, to) {
  const l = new AuditLogger(config());
  const evs = [];
  for (let i = from; i < to; i++) evs.push(event(i));
  const body = JSON.parse(benchmarkRequestBody(l, evs));
  l.free();
  return body.statements[0];
}

let seconds;
let label;
if (which === "a") {
  label = `this library, batched (Node, wasm; ${N} concurrent logUserAction, maxEvents ${BATCH}, queue bound raised to N)`;
  // The queue's default bound (10 000 events, 8 MiB) would drop the rest of N callers fired at once.
  const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 4);
  const api = process.env.BENCH_API ?? "tx";
  label += `, maxInFlight ${inFlight}, api ${api}`;
  const l = new AuditLogger(config({ api, batch: { maxEvents: BATCH, maxInFlight: inFlight }, queue: { maxEvents: N, maxBytes: 1 << 30 } }));
  if (!(await l.ensureSchema())) throw new Error(l.lastError);
  const t0 = performance.now();
  const oks = await Promise.all(Array.from({ length: N }, (_, i) => {
    const e = event(i);
    return l.logUserAction(e.user, e.actionType, e.category, e.details);
  }));
  seconds = (performance.now() - t0) / 1000;
  const bad = oks.flatMap((x, i) => (x === true ? [] : [i]));
  if (bad.length) console.error(`a: ${bad.length} calls resolved false (first indexes ${bad.slice(0, 5)}); lastError ${l.lastError}`);
} else if (which === "b") {
  label = "this library, unbatched (Node, wasm; 8 loggers, maxEvents 1, concurrency 8)";
  const ls = Array.from({ length: 8 }, () => new AuditLogger(config({ batch: { maxEvents: 1 } })));
  for (const l of ls) if (!(await l.ensureSchema())) throw new Error(l.lastError);
  let w = 0;
  const t0 = performance.now();
  await Promise.all(ls.map(async (l) => {
    for (let i = w++; i < N; i = w++) {
      const e = event(i);
      if (!(await l.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(l.lastError);
    }
  }));
  seconds = (performance.now() - t0) / 1000;
} else if (which === "d-event" || which === "d-batch") {
  const st = params(0, N);
  // Bolt integers where Cypher needs them (JSON numbers arrive as floats).
  const toBolt = (e) => ({ ...e, ts: neo4j.int(e.ts), seq: neo4j.int(e.seq), occurredAt: e.occurredAt == null ? null : neo4j.int(e.occurredAt) });
  const events = st.parameters.events.map(toBolt);
  const base = { trail: st.parameters.trail, trailUid: st.parameters.trailUid };
  const driver = neo4j.driver(BOLT, neo4j.auth.basic(USER, PASSWORD), { disableLosslessIntegers: true });
  await driver.verifyConnectivity();
  const write = (session, evs) =>
    session.executeWrite((tx) => tx.run(st.statement, { ...base, events: evs }));
  const t0 = performance.now();
  if (which === "d-event") {
    label = "official neo4j-driver (Bolt), our statement per event, concurrency 8";
    const sessions = Array.from({ length: 8 }, () => driver.session());
    let w = 0;
    await Promise.all(sessions.map(async (s) => {
      for (let i = w++; i < N; i = w++) await write(s, [events[i]]);
    }));
    await Promise.all(sessions.map((s) => s.close()));
  } else {
    label = `official neo4j-driver (Bolt), our statement per ${BATCH} events, sequential`;
    const s = driver.session();
    for (let i = 0; i < N; i += BATCH) await write(s, events.slice(i, i + BATCH));
    await s.close();
  }
  seconds = (performance.now() - t0) / 1000;
  await driver.close();
} else if (which === "c") {
  // The seed's pattern, in Python with the official driver (bench/seed_pattern.py times itself).
  const r = spawnSync(".cache/bench/venv/bin/python", ["bench/seed_pattern.py", String(N)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`seed_pattern.py: ${r.stderr.slice(-500)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  ({ seconds, label } = out);
} else if (which === "e") {
  label = `the limit: all ${N} events in one UNWIND of our statement, one request (curl)`;
  const st = params(0, N);
  mkdirSync(".cache/bench", { recursive: true });
  const file = ".cache/bench/unwind-body.json";
  writeFileSync(file, JSON.stringify({ statements: [st] }));
  // tx/commit answers 200 even when the statement failed: the body's `errors` decides. A transient
  // error (e.g. the transaction memory pool of this small-heap server) is retried, up to 3 tries.
  for (let attempt = 1; ; attempt++) {
    await fresh();
    const r = spawnSync("curl", ["-sS", "-o", ".cache/bench/unwind-out.json", "-w", "%{http_code} %{time_total}",
      "-H", "Content-Type: application/json", "-H", "Accept: application/json", "-H", `Authorization: ${AUTH}`,
      "--data-binary", `@${file}`, `${HTTP}/db/neo4j/tx/commit`], { encoding: "utf8" });
    const [code, total] = r.stdout.trim().split(" ");
    if (code !== "200" && code !== "201") throw new Error(`curl: HTTP ${code} ${r.stderr}`);
    const errors = JSON.parse(readFileSync(".cache/bench/unwind-out.json", "utf8")).errors ?? [];
    if (errors.length === 0) {
      seconds = Number(total);
      if (attempt > 1) label += ` (try ${attempt}; earlier tries hit a transient error)`;
      break;
    }
    if (attempt >= 3 || !errors[0].code.startsWith("Neo.TransientError.")) throw new Error(`${errors[0].code}: ${errors[0].message}`);
  }
} else {
  throw new Error(`unknown contender ${which}`);
}

const c = await census();
const ok = c.events === N && c.hasEvent === N && c.performedBy === N && c.trails === 1;
emit({ figure: "P1", id: which, label, n: N, seconds, eventsPerSec: N / seconds, census: c, ok });
if (!ok) process.exitCode = 1;
