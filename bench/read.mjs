// Read side and chain verification with N chained events stored (bench/run: 1 000 000 in a Neo4j
// instance of its own, "benchread", so the other figures' emptied databases do not touch them).
//
// Load: the events are written through the library itself (logUserAction on fresh loggers, one
// logger — one chain stream — per CHUNK events, batches of 1000 events x 4 in flight). A marker
// node records what was loaded (N, chunk, a sha-256 of the loader and of the library's write-path sources,
// i.e. every source file but the read side's, and the load time);
// a later run whose marker matches (and whose trail still holds N events) reuses the data instead
// of loading again. Anything else empties the database and loads anew.
//
// Then times, K interleaved rounds (order rotated per round), after one unrecorded warm-up of each:
// getAuditTrail's first page (limit 50), a category page and a user page (limit 50), the same three
// at depth (a cursor 90 % of the way into the trail / into the category / into the user's events),
// a cursor walk over 10 000 events (pages of 500), verifyTrail over one chain stream (the window:
// CHUNK events; the whole trail when N <= CHUNK), and the one page of a second, 20-event trail
// (it reads to that trail's end: by the per-trail index when the trail is marked indexed, else
// past every newer event of the big trail in the shared (timestamp, UID) index; events stored by
// an older version need `neo4j-audit migrate`, bench/migrate.mjs). One JSON line per operation and repeat, plus one
// "stored" line (round 0) saying how many events were stored and whether they were loaded now.
//   node bench/read.mjs [N=20000] [K=5]
// Environment: BENCH_NEO4J_URL (default the bench Neo4j), BENCH_READ_CHUNK (100000),
//   BENCH_READ_FULL_VERIFY=1 (also one unrecorded verifyTrail over all N, printed to stderr),
//   BENCH_READ_REUSE=1 (reuse stored events whose marker names another write path, e.g. to time
//   the read side before and after `neo4j-audit migrate` on the same data; N and chunk must match).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";
import { config, cypher, emit, fresh, loadWasm } from "./common.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
const CHUNK = Math.min(N, Number(process.env.BENCH_READ_CHUNK ?? 100000));
const WALK = Math.min(N, 10000);
const TRAIL = "bench-read";
const LOADER = 2; // bump when the loaded events change shape
const users = ["u-ann", "u-bob", "u-cid", "u-dee"];
const log = (s) => process.stderr.write(`  read: ${s}\n`);

await loadWasm();
// What the stored events depend on: this loader and the library's write path, i.e. every source
// file but the read side's (a change to src/read.rs alone keeps the loaded events valid).
const root = fileURLToPath(new URL("..", import.meta.url));
const writePath = createHash("sha256");
for (const f of ["Cargo.toml", "Cargo.lock", ...readdirSync(`${root}src`, { recursive: true }).map((f) => `src/${f}`).sort()]) {
  if (!/\.(rs|js|toml|lock)$/.test(f) || /(^|\/)read\.rs$/.test(f)) continue;
  writePath.update(f).update(readFileSync(`${root}${f}`));
}
const version = `loader ${LOADER}; write-path sources sha256 ${writePath.digest("hex").slice(0, 16)}`;
const reader = new AuditLogger(config({ trail: TRAIL }));

/** Events of the trail (HAS_EVENT relationships: the trail node's degree, no event is read). */
async function stored(trail = TRAIL) {
  const rows = await cypher("MATCH (t:AuditTrail {name: $t}) RETURN COUNT { (t)-[:HAS_EVENT]->() }", { t: trail });
  return rows[0]?.[0] ?? 0;
}

const [marker] = await cypher(
  "OPTIONAL MATCH (m:BenchReadMarker {trail: $t}) RETURN m.n, m.chunk, m.version, m.loadMs, m.loadedAt", { t: TRAIL });
let loaded = false, loadMs = marker?.[3] ?? null, loadedAt = marker?.[4] ?? null;
const reuseAny = process.env.BENCH_READ_REUSE === "1";
if (marker?.[0] === N && marker?.[1] === CHUNK && (marker?.[2] === version || reuseAny) && (await stored()) === N) {
  log(`reusing the ${N} events loaded ${loadedAt} (${marker[2]}${marker[2] === version ? "" : `; this write path: ${version}`})`);
} else {
  log(`loading ${N} events (marker: ${JSON.stringify(marker)}; want ${N}, ${CHUNK}, ${version})`);
  await fresh();
  const t0 = performance.now();
  for (let base = 0; base < N; base += CHUNK) {
    const n = Math.min(CHUNK, N - base);
    const logger = new AuditLogger(config({
      trail: TRAIL,
      batch: { maxEvents: 1000, maxBytes: 4 << 20, maxInFlight: 4 },
      queue: { maxEvents: n, maxBytes: 1 << 30 },
    }));
    const oks = await Promise.all(Array.from({ length: n }, (_, i) => {
      const j = base + i;
      return logger.logUserAction({ uid: users[j % 4], name: users[j % 4] },
        j % 5 ? "DOCUMENT_VIEWED" : "LOGIN", j % 5 ? "DOCUMENT_MANAGEMENT" : "SECURITY", { document_id: `doc-${j % 97}`, n: j });
    }));
    if (!oks.every((x) => x === true)) throw new Error(`writes failed: ${logger.lastError}`);
    logger.free();
    log(`${base + n} / ${N} written, ${Math.round((base + n) / ((performance.now() - t0) / 1000))} events/s`);
  }
  loadMs = performance.now() - t0;
  loadedAt = new Date().toISOString();
  if ((await stored()) !== N) throw new Error(`after the load the trail holds ${await stored()} events, not ${N}`);
  await cypher("MERGE (m:BenchReadMarker {trail: $t}) SET m.n = $n, m.chunk = $chunk, m.version = $v, m.loadMs = $ms, m.loadedAt = $at",
    { t: TRAIL, n: N, chunk: CHUNK, v: version, ms: loadMs, at: loadedAt });
  loaded = true;
}
// A second, small trail beside it (SMALL events): a page that reaches its end shows what the big
// trail costs others (nothing by the per-trail index; its whole walk by the shared one).
const SMALL = 20, SMALL_TRAIL = "bench-read-small";
const smallReader = new AuditLogger(config({ trail: SMALL_TRAIL }));
if ((await stored(SMALL_TRAIL)) !== SMALL) {
  await cypher("MATCH (t:AuditTrail {name: $t}) OPTIONAL MATCH (t)-[:HAS_EVENT]->(ev) DETACH DELETE t, ev", { t: SMALL_TRAIL });
  for (let i = 0; i < SMALL; i++) {
    if (!(await smallReader.logUserAction({ uid: "u-small", name: "u-small" }, "LOGIN", "SECURITY", { n: i }))) throw new Error(smallReader.lastError);
  }
}
const count = await stored();
const streams = (await cypher(
  "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev.streamId, count(*) ORDER BY ev.streamId", { t: TRAIL }));
emit({ round: 0, contender: "stored", n: count, streams: streams.length, chunk: CHUNK, loaded, loadMs, loadedAt, version,
  loadEventsPerSec: loadMs ? (count / loadMs) * 1000 : null, how: "written through the library (logUserAction), one logger per chunk, batches of 1000 x 4 in flight" });
// The window verifyTrail reads: one stream (one logger's CHUNK events; the last by id).
const [window, windowN] = streams[streams.length - 1];

if (process.env.BENCH_READ_FULL_VERIFY === "1") {
  const t = performance.now();
  const r = await reader.verifyTrail();
  log(`full verifyTrail: ok ${r?.ok}, checked ${r?.checked} in ${Math.round(performance.now() - t)} ms ${r ? "" : reader.lastError}`);
}

// Cursors deep into the trail: the library's cursor (base64url of "epochMillis:UID", see
// read::encode_cursor) of the event at 90 % of the way, found once with the same index order.
const cursorAt = (ts, uid) => Buffer.from(`${ts}:${uid}`).toString("base64url");
async function deep(filter, prop, total) {
  const skip = Math.floor(total * 0.9);
  const hint = prop ? `USING INDEX ev:AuditEvent(${prop}, timestamp, UID)` : "USING INDEX ev:AuditEvent(timestamp, UID)";
  const [[ts, uid]] = await cypher(
    `MATCH (ev:AuditEvent) ${hint} WHERE ${prop ? `ev.${prop} = $v AND ` : ""}ev.timestamp IS NOT NULL AND ev.UID IS NOT NULL ` +
      `RETURN ev.timestamp.epochMillis, ev.UID ORDER BY ${prop ? `ev.${prop} DESC, ` : ""}ev.timestamp DESC, ev.UID DESC SKIP $skip LIMIT 1`,
    { v: filter, skip });
  return cursorAt(ts, uid);
}
const deepAll = await deep(null, null, count);
const deepCat = await deep("SECURITY", "eventCategory", Math.floor(count / 5));
const deepUser = await deep("u-bob", "userUID", Math.floor(count / 4));

const page = (q, what) => async () => {
  const p = await what(q);
  if (p?.events?.length !== 50) throw new Error(`${JSON.stringify(q)}: ${p?.events?.length} events; ${reader.lastError}`);
  return 50;
};
const trail = (q) => reader.getAuditTrail(q);
const user = (q) => reader.getUserActivity("u-bob", q);
const ops = {
  "first page (limit 50)": page({ limit: 50 }, trail),
  "category page (limit 50)": page({ category: "SECURITY", limit: 50 }, trail),
  "user page (limit 50)": page({ limit: 50 }, user),
  "page at 90 % depth (cursor, limit 50)": page({ limit: 50, cursor: deepAll }, trail),
  "category page at 90 % depth (cursor, limit 50)": page({ category: "SECURITY", limit: 50, cursor: deepCat }, trail),
  "user page at 90 % depth (cursor, limit 50)": page({ limit: 50, cursor: deepUser }, user),
  [`another trail's only page (its ${SMALL} events, limit 50)`]: async () => {
    const p = await smallReader.getAuditTrail({ limit: 50 });
    if (p?.events?.length !== SMALL) throw new Error(`small trail: ${p?.events?.length} events; ${smallReader.lastError}`);
    return SMALL;
  },
  [`cursor walk (${WALK} events, pages of 500)`]: async () => {
    let seen = 0, cursor;
    do {
      const p = await reader.getAuditTrail({ limit: 500, cursor });
      if (!p) throw new Error(reader.lastError);
      seen += p.events.length; cursor = p.nextCursor ?? undefined;
    } while (cursor && seen < WALK);
    if (seen < WALK) throw new Error(`walk saw ${seen}`);
    return seen;
  },
  [`verifyTrail (one stream: ${windowN} of ${count} events)`]: async () => {
    const r = await reader.verifyTrail({ streamId: window });
    if (!r?.ok || r.checked !== windowN) throw new Error(`verify: ${JSON.stringify(r)?.slice(0, 300)} ${reader.lastError}`);
    return windowN;
  },
};
for (const op of Object.values(ops)) await op(); // warm-up (plans, page cache), not recorded
for (let round = 1; round <= K; round++) {
  const names = Object.keys(ops);
  for (let j = 0; j < names.length; j++) {
    const contender = names[(j + round - 1) % names.length];
    const t = performance.now();
    const n = await ops[contender]();
    const ms = performance.now() - t;
    emit({ round, place: j, contender, n, stored: count, ms, eventsPerSec: (n / ms) * 1000 });
  }
}
reader.free();
smallReader.free();
