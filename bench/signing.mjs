// What signing and signature verification cost per event (issue 11), beside the write throughput.
//
//   node bench/signing.mjs [events per round, default 2000] [rounds k, default 5]
//
// Needs pkg/ with its read and worker entries (scripts/build) and a Neo4j (NEO4J_URL, default the dev one on :7474;
// every run writes its own trails). Two `wrangler dev` Workers run side by side, identical but
// for AUDIT_SIGNING_KEY: "signed" seals every write (two Ed25519 signatures per request, canonical
// v2 hashing), "chained" has no key (the same per-trail chain and conditional write, no
// signatures). Rounds are interleaved (signed, chained, signed, ...), each posting `events` events
// in requests of 100 with 4 in flight. Then the signed trail is verified k times with the public
// keys and k times without (interleaved) by neo4j-audit/verify in Node: the difference is the signature checks.
// Prints medians with [min, max] over the k rounds and appends the raw rounds and the summary to
// bench/results/signing.jsonl (BENCH_LABEL names the build measured; default "shipped").
import { appendFileSync } from "node:fs";
import { cpus } from "node:os";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { loadPkg, config, cypher } from "../tests/node/helpers.mjs";
import { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../tests/node/helpers.mjs";
import { startWrangler } from "../tests/support/wrangler.mjs";
import { signJwt, nowSecs } from "../tests/worker/jwt.mjs";

const EVENTS = Number(process.argv[2] ?? 2000);
const K = Number(process.argv[3] ?? 5);
const BATCH = 100;
const IN_FLIGHT = 4;
const SECRET = randomBytes(32).toString("base64url");
const SEED = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
const OUT = new URL("./results/signing.jsonl", import.meta.url);
const date = new Date().toISOString();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const LABEL = process.env.BENCH_LABEL ?? "shipped";
const record = (o) => appendFileSync(OUT, JSON.stringify({ date, bench: "signing", label: LABEL, cores: cpus().length, ...o }) + "\n");

async function start(variant) {
  const trail = `bench-signing-${variant}-${randomUUID()}`;
  const env = { AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: trail, MAX_BATCH: String(BATCH) };
  if (variant === "signed") Object.assign(env, { AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "bench" });
  return { variant, trail, ...(await startWrangler({ env })) };
}

/** Posts `EVENTS` events in requests of BATCH, IN_FLIGHT at once; resolves the seconds taken. */
async function round(w, r) {
  const requests = Math.ceil(EVENTS / BATCH);
  // One subject per request keeps the Worker's per-subject rate limit (120/min) out of the way.
  const tokens = await Promise.all(Array.from({ length: requests }, (_, i) =>
    signJwt(SECRET, { sub: `bench-${r}-${i}`, aud: "neo4j-audit", exp: nowSecs() + 3600 })));
  const bodies = Array.from({ length: requests }, (_, i) => JSON.stringify({
    events: Array.from({ length: Math.min(BATCH, EVENTS - i * BATCH) }, (_, j) => ({
      actionType: "DOCUMENT_VIEWED", category: "DOCUMENT_MANAGEMENT", details: { document_id: `doc-${i}-${j}`, round: r },
    })),
  }));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    for (let i = next++; i < requests; i = next++) {
      const res = await fetch(`${w.url}/v1/events`, {
        method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${tokens[i]}` }, body: bodies[i],
      });
      if (res.status !== 201) throw new Error(`${w.variant}: HTTP ${res.status} ${await res.text()}`);
    }
  }));
  return (performance.now() - t0) / 1000;
}

const pkg = await loadPkg("verify");
const workers = [await start("signed"), await start("chained")];
try {
  await round(workers[0], -1); // warm-up: isolate start, schema check, first head read
  await round(workers[1], -1);
  const secs = { signed: [], chained: [] };
  for (let r = 0; r < K; r++) {
    for (const w of workers) {
      const s = await round(w, r);
      secs[w.variant].push(s);
      record({ kind: "write", variant: w.variant, round: r, events: EVENTS, batch: BATCH, inFlight: IN_FLIGHT, secs: s, eventsPerSec: EVENTS / s });
    }
  }
  const signed = workers[0];
  const keys = await (await fetch(`${signed.url}/v1/keys`)).json();
  const [[stored]] = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: signed.trail });
  const vsecs = { withKeys: [], withoutKeys: [] };
  for (let r = 0; r < K; r++) {
    for (const [variant, opts] of [["withKeys", { publicKeys: keys }], ["withoutKeys", {}]]) {
      const logger = new pkg.AuditLogger(config(signed.trail, { timeoutMs: 120000 }));
      const t0 = performance.now();
      const report = await logger.verifyTrail(opts);
      const s = (performance.now() - t0) / 1000;
      if (!report?.ok || report.checked !== stored) throw new Error(`verify ${variant}: ${JSON.stringify(report) ?? logger.lastError}`);
      vsecs[variant].push(s);
      record({ kind: "verify", variant, round: r, events: stored, secs: s, eventsPerSec: stored / s });
      logger.free();
    }
  }
  const perEventUs = (xs, n) => (median(xs) / n) * 1e6;
  const result = {
    kind: "summary", events: EVENTS, k: K, verifiedEvents: stored,
    writeEventsPerSec: { signed: summary(secs.signed.map((s) => EVENTS / s)), chained: summary(secs.chained.map((s) => EVENTS / s)) },
    writeUsPerEvent: { signed: perEventUs(secs.signed, EVENTS), chained: perEventUs(secs.chained, EVENTS) },
    verifyEventsPerSec: { withKeys: summary(vsecs.withKeys.map((s) => stored / s)), withoutKeys: summary(vsecs.withoutKeys.map((s) => stored / s)) },
    verifyUsPerEvent: { withKeys: perEventUs(vsecs.withKeys, stored), withoutKeys: perEventUs(vsecs.withoutKeys, stored) },
  };
  record(result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const w of workers) await w.stop();
}
