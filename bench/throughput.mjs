// P1 throughput: N events into a freshly emptied database (schema kept, 100 :User nodes), one
// contender per process; prints one JSON line. bench/rounds.mjs runs the contenders interleaved.
//   node bench/throughput.mjs <contender> N [S] [M]
// Contenders:
//   a [API]    this library, batched: N concurrent logUserAction on one logger (library defaults:
//              maxEvents 1000, maxBytes 1 MiB, maxInFlight 4; BENCH_BATCH / BENCH_MAX_BYTES / BENCH_IN_FLIGHT / BENCH_API
//              override batch.maxEvents / batch.maxBytes / batch.maxInFlight / api; API
//              "tx" or "query")
//   a-chunk C  "a" with the calls made C at a time, an event-loop turn between chunks (diagnostic: the
//              most that overlapping the calls' synchronous work with Neo4j's could gain)
//   lib C      this library, C callers each awaiting its call before the next (one logger)
//   lib-prod C this library, one producer calling logUserAction N times without awaiting each
//              (the calls' promises are awaited together at the end), at most C requests in flight
//              (batch.maxInFlight = C): the same number of requests on the wire as C seed threads;
//              BENCH_BATCH / BENCH_MAX_BYTES override batch.maxEvents / batch.maxBytes
//   http S M   plain fetch to tx/commit of our UNWIND statement, S events per request, M requests in
//              flight, bodies serialised beforehand (the client costs ~nothing: the limit sweep, and
//              at 1000 x 4 the "plain-fetch batched" contender that separates HTTP from library cost)
//   d-tx S M   neo4j-driver (Bolt): our statement, S events per managed transaction (executeWrite),
//              M sessions in parallel
//   d-exec S M neo4j-driver: the same through driver.executeQuery (auto-retried, M calls at once)
//   seed-py C  the seed's pattern, Python driver (bench/seed_pattern.py), C threads
//   seed-js C  the seed's pattern with neo4j-driver in JS, C sessions in parallel
import { spawnSync } from "node:child_process";
import neo4j from "neo4j-driver";
import { AuditLogger, benchmarkRequestBody } from "../.cache/bench/pkg/neo4j_audit.js";
import { AUTH, BOLT, HTTP, PASSWORD, USER, census, config, emit, event, fresh, loadWasm, pool } from "./common.mjs";

const [which, nArg, sArg, mArg] = process.argv.slice(2);
const N = Number(nArg ?? 20000);
const S = Number(sArg ?? 100);
const M = Number(mArg ?? 4);
await loadWasm();
await fresh();
const freshAt = performance.now();
const cpu0 = process.cpuUsage();

/** Our statement and the parameters for events [from, to), built by the library itself. */
function params(from, to) {
  const l = new AuditLogger(config());
  const evs = [];
  for (let i = from; i < to; i++) evs.push(event(i));
  const body = JSON.parse(benchmarkRequestBody(l, evs));
  l.free();
  return body.statements[0];
}
/** Every contender's clock starts after the same pause once its own preparation is done
 * (BENCH_SETTLE_MS, default 500): Neo4j is still busy for up to ~0.5 s after fresh() emptied the
 * database (measured: 0-130 ms of its CPU in the first 600 ms, none after; /proc of the server,
 * 100 ms bins), and a contender that prepares little (the library: ensureSchema and the callers'
 * inputs, ~50-100 ms) would otherwise start on a busier Neo4j than one that prepares much (the
 * plain-fetch limit: 20,000 events built and serialised, ~300 ms). */
// prepMs (in the sample's line): the contender's own preparation, from fresh() to the pause.
const settle = () => {
  prepMs ??= Math.round(performance.now() - freshAt);
  return new Promise((r) => setTimeout(r, Number(process.env.BENCH_SETTLE_MS ?? 500)));
};
let prepMs;
const chunks = (xs, size) => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/** All N calls made at once on `l` (none awaited before the next), then awaited together: seconds. */
// `chunk` > 0: the calls are made `chunk` at a time with a turn of the event loop between chunks
// (a-chunk: how much overlapping the calls' synchronous work with Neo4j's could gain at most).
// The callers' inputs (user, names, details objects) exist before the clock starts, as the
// plain-fetch contenders' bodies do: the timed part is the library's work alone. `syncMs`: how
// long the N calls took to make (no request can leave before that in one JS thread).
let syncMs;
async function burst(l, chunk = 0) {
  if (!(await l.ensureSchema())) throw new Error(l.lastError);
  const inputs = Array.from({ length: N }, (_, i) => event(i));
  await settle();
  const t0 = performance.now();
  const calls = [];
  for (let i = 0; i < N; i++) {
    const e = inputs[i];
    calls.push(l.logUserAction(e.user, e.actionType, e.category, e.details));
    if (chunk > 0 && (i + 1) % chunk === 0) await new Promise(setImmediate);
  }
  syncMs = performance.now() - t0;
  const oks = await Promise.all(calls);
  const secs = (performance.now() - t0) / 1000;
  const bad = oks.filter((x) => x !== true).length;
  if (bad) throw new Error(`${which}: ${bad} calls resolved false; lastError ${l.lastError}`);
  return secs;
}

let seconds;
let label;
let extra = {};
if (which === "a") {
  const batch = process.env.BENCH_BATCH ? { maxEvents: Number(process.env.BENCH_BATCH) } : {};
  if (process.env.BENCH_MAX_BYTES) batch.maxBytes = Number(process.env.BENCH_MAX_BYTES);
  if (process.env.BENCH_IN_FLIGHT) batch.maxInFlight = Number(process.env.BENCH_IN_FLIGHT);
  const api = sArg ?? process.env.BENCH_API; // "tx" or "query" (Query API v2); default: the library's
  label = `this library, batched: ${N} concurrent logUserAction on one logger (batch ${JSON.stringify(batch)}, api ${api ?? "default"})`;
  // The queue's default bound (10 000 events, 8 MiB) would drop the rest of N callers fired at once.
  const l = new AuditLogger(config({ ...(api ? { api } : {}), batch, queue: { maxEvents: N, maxBytes: 1 << 30 } }));
  seconds = await burst(l);
} else if (which === "a-chunk") {
  const C = Number(sArg ?? 1000);
  label = `this library, batched (defaults): ${N} logUserAction on one logger, made ${C} at a time with an event-loop turn between`;
  extra = { chunk: C };
  const l = new AuditLogger(config({ queue: { maxEvents: N, maxBytes: 1 << 30 } }));
  seconds = await burst(l, C);
} else if (which === "lib") {
  const C = S === 100 && sArg === undefined ? 1 : S;
  label = `this library, ${C} caller(s) each awaiting logUserAction (one logger, defaults)`;
  extra = { concurrency: C };
  const l = new AuditLogger(config());
  if (!(await l.ensureSchema())) throw new Error(l.lastError);
  await settle();
  const t0 = performance.now();
  await pool(N, C, async (i) => {
    const e = event(i);
    if (!(await l.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(l.lastError);
  });
  seconds = (performance.now() - t0) / 1000;
} else if (which === "lib-prod") {
  const C = sArg === undefined ? 1 : S;
  label = `this library, one producer not awaiting each call, at most ${C} request(s) in flight (batch.maxInFlight ${C}; one logger)`;
  extra = { concurrency: C };
  // BENCH_BATCH / BENCH_MAX_BYTES: batch.maxEvents / batch.maxBytes (default: the library's), as for "a".
  const batch = { maxInFlight: C };
  if (process.env.BENCH_BATCH) batch.maxEvents = Number(process.env.BENCH_BATCH);
  if (process.env.BENCH_MAX_BYTES) batch.maxBytes = Number(process.env.BENCH_MAX_BYTES);
  if (batch.maxEvents || batch.maxBytes) label += ` (batch ${JSON.stringify(batch)})`;
  const l = new AuditLogger(config({ batch, queue: { maxEvents: N, maxBytes: 1 << 30 } }));
  seconds = await burst(l);
} else if (which === "http") {
  label = `plain fetch of our UNWIND statement to tx/commit, ${S} events per request, ${M} in flight, bodies prepared`;
  extra = { eventsPerRequest: S, inFlight: M };
  const st = params(0, N);
  const bodies = chunks(st.parameters.events, S).map((events) =>
    JSON.stringify({ statements: [{ statement: st.statement, parameters: { ...st.parameters, events } }] }));
  let retries = 0;
  const post = async (body) => {
    for (let attempt = 1; ; attempt++) {
      const r = await fetch(`${HTTP}/db/neo4j/tx/commit`, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: AUTH }, body,
      });
      const j = await r.json();
      if (!j.errors?.length) return;
      // A transient error (e.g. the transaction memory pool) is retried, as any client would.
      if (attempt >= 5 || !j.errors[0].code.startsWith("Neo.TransientError.")) throw new Error(`${j.errors[0].code}: ${j.errors[0].message}`);
      retries++;
    }
  };
  await settle();
  const t0 = performance.now();
  await pool(bodies.length, M, (i) => post(bodies[i]));
  seconds = (performance.now() - t0) / 1000;
  extra.retries = retries;
} else if (which === "d-tx" || which === "d-exec") {
  const st = params(0, N);
  // Bolt integers where Cypher needs them (JSON numbers arrive as floats).
  const toBolt = (e) => ({ ...e, ts: neo4j.int(e.ts), seq: neo4j.int(e.seq), occurredAt: e.occurredAt == null ? null : neo4j.int(e.occurredAt) });
  const batches = chunks(st.parameters.events.map(toBolt), S);
  const base = { trail: st.parameters.trail, trailUid: st.parameters.trailUid };
  const driver = neo4j.driver(BOLT, neo4j.auth.basic(USER, PASSWORD), { disableLosslessIntegers: true });
  await driver.verifyConnectivity();
  extra = { eventsPerRequest: S, inFlight: M };
  await settle();
  const t0 = performance.now();
  if (which === "d-tx") {
    label = `neo4j-driver (Bolt), our statement, ${S} events per managed transaction (executeWrite), ${M} sessions`;
    const sessions = Array.from({ length: M }, () => driver.session());
    let w = 0;
    await Promise.all(sessions.map(async (s) => {
      for (let i = w++; i < batches.length; i = w++) await s.executeWrite((tx) => tx.run(st.statement, { ...base, events: batches[i] }));
    }));
    await Promise.all(sessions.map((s) => s.close()));
  } else {
    label = `neo4j-driver (Bolt), our statement, ${S} events per driver.executeQuery, ${M} at once`;
    await pool(batches.length, M, (i) => driver.executeQuery(st.statement, { ...base, events: batches[i] }, { routing: neo4j.routing.WRITE }));
  }
  seconds = (performance.now() - t0) / 1000;
  await driver.close();
} else if (which === "seed-py") {
  const C = sArg === undefined ? 1 : S;
  await settle(); // (its clock starts in Python, after its own start-up)
  const r = spawnSync(".cache/bench/venv/bin/python", ["bench/seed_pattern.py", String(N), String(C)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`seed_pattern.py: ${r.stderr.slice(-500)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  ({ seconds, label } = out);
  extra = { concurrency: C };
} else if (which === "seed-js") {
  const C = sArg === undefined ? 1 : S;
  label = `the seed's pattern with neo4j-driver in JS: 4 auto-commit operations per event, ${C} session(s)`;
  extra = { concurrency: C };
  const driver = neo4j.driver(BOLT, neo4j.auth.basic(USER, PASSWORD));
  await driver.verifyConnectivity();
  // As seed_pattern.py: MATCH-then-CREATE of the trail, event node, HAS_EVENT, PERFORMED_BY.
  const trailUid = async (s) => {
    const r = await s.run("MATCH (t:AuditTrail {name: $name}) RETURN t.UID AS uid", { name: "bench" });
    if (r.records.length) return r.records[0].get("uid");
    const uid = crypto.randomUUID();
    await s.run("CREATE (t:AuditTrail {name: $name, UID: $uid})", { name: "bench", uid });
    return uid;
  };
  const logUserAction = async (s, user, actionType, category, details) => {
    const uid = crypto.randomUUID();
    const timestamp = neo4j.types.DateTime.fromStandardDate(new Date());
    await s.run("CREATE (e:AuditEvent) SET e = $props", { props: { UID: uid, eventType: actionType, eventCategory: category,
      timestamp, userUID: user?.uid ?? null, userName: user?.name ?? null, details: details ? JSON.stringify(details) : null } });
    const t = await trailUid(s);
    await s.run("MATCH (t:AuditTrail {UID: $from_uid}), (e:AuditEvent {UID: $to_uid}) CREATE (t)-[r:HAS_EVENT]->(e) SET r = $props",
      { from_uid: t, to_uid: uid, props: { created: timestamp } });
    if (user) await s.run("MATCH (e:AuditEvent {UID: $from_uid}), (u:User {UID: $to_uid}) CREATE (e)-[:PERFORMED_BY]->(u)", { from_uid: uid, to_uid: user.uid });
  };
  const s0 = driver.session();
  await trailUid(s0); // the trail exists before the clock starts (as in seed_pattern.py)
  await s0.close();
  const sessions = Array.from({ length: C }, () => driver.session());
  let w = 0;
  await settle();
  const t0 = performance.now();
  await Promise.all(sessions.map(async (s) => {
    for (let i = w++; i < N; i = w++) {
      const e = event(i);
      await logUserAction(s, e.user, e.actionType, e.category, e.details);
    }
  }));
  seconds = (performance.now() - t0) / 1000;
  await Promise.all(sessions.map((s) => s.close()));
  await driver.close();
} else {
  throw new Error(`unknown contender ${which}`);
}

// This process's CPU while it ran (the client's share of a 2-core machine it shares with Neo4j).
const cpu = process.cpuUsage(cpu0);
extra.clientCpuMs = Math.round((cpu.user + cpu.system) / 1000);
if (syncMs !== undefined) extra.syncMs = syncMs;
if (prepMs !== undefined) extra.prepMs = prepMs;
const c = await census();
const ok = c.events === N && c.hasEvent === N && c.performedBy === N && c.trails === 1;
emit({ figure: "P1", contender: process.argv.slice(2, 3).concat(process.argv.slice(4)).join(" "), label, n: N, seconds, eventsPerSec: N / seconds, census: c, ok, ...extra });
if (!ok) process.exitCode = 1;
