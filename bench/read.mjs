// Read side and chain verification: writes N chained events into a fresh trail of the bench Neo4j,
// then times, K times each: getAuditTrail's first page (limit 50), a filtered page (category),
// a user's page (getUserActivity), a cursor walk over the first 10 000 events (pages of 500) and
// verifyTrail over all N. One JSON line per operation and repeat; asserts nothing about speed.
//   node bench/read.mjs [N=20000] [K=5]      (bench/run: the bench Neo4j; emptied first)
import { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";
import { config, emit, fresh, loadWasm } from "./common.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
const WALK = Math.min(N, 10000);
await loadWasm();
await fresh();
const logger = new AuditLogger(config({ trail: "bench-read", queue: { maxEvents: N, maxBytes: 1 << 30 } }));
const users = ["u-ann", "u-bob", "u-cid", "u-dee"];
const t0 = performance.now();
const oks = await Promise.all(Array.from({ length: N }, (_, j) => logger.logUserAction({ uid: users[j % 4], name: users[j % 4] },
  j % 5 ? "DOCUMENT_VIEWED" : "LOGIN", j % 5 ? "DOCUMENT_MANAGEMENT" : "SECURITY", { document_id: `doc-${j % 97}`, n: j })));
if (!oks.every((x) => x === true)) throw new Error(`writes failed: ${logger.lastError}`);
emit({ round: 0, contender: "write (batched)", n: N, ms: performance.now() - t0, eventsPerSec: N / ((performance.now() - t0) / 1000) });

const ops = {
  "first page (limit 50)": async () => { const p = await logger.getAuditTrail({ limit: 50 }); if (p?.events?.length !== 50) throw new Error(logger.lastError); return 50; },
  "category page (limit 50)": async () => { const p = await logger.getAuditTrail({ category: "SECURITY", limit: 50 }); if (p?.events?.length !== 50) throw new Error(logger.lastError); return 50; },
  "user page (limit 50)": async () => { const p = await logger.getUserActivity("u-bob", { limit: 50 }); if (p?.events?.length !== 50) throw new Error(logger.lastError); return 50; },
  [`cursor walk (${WALK} events, pages of 500)`]: async () => {
    let seen = 0, cursor;
    do {
      const p = await logger.getAuditTrail({ limit: 500, cursor });
      if (!p) throw new Error(logger.lastError);
      seen += p.events.length; cursor = p.nextCursor ?? undefined;
    } while (cursor && seen < WALK);
    if (seen < WALK) throw new Error(`walk saw ${seen}`);
    return seen;
  },
  [`verifyTrail (${N} events)`]: async () => {
    const r = await logger.verifyTrail();
    if (!r?.ok || r.checked !== N) throw new Error(`verify: ${JSON.stringify(r)?.slice(0, 300)} ${logger.lastError}`);
    return N;
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
    emit({ round, place: j, contender, n, ms, eventsPerSec: (n / ms) * 1000 });
  }
}
logger.free();
