// The one-time migration to the per-trail read index (`neo4j-audit migrate`) on what the Neo4j at
// BENCH_NEO4J_URL holds (e.g. bench/read.mjs's 1 000 000 events stored by a version before it):
// ensureSchema through the library (creates the HAS_EVENT index), then the two statements of
// cli/migration.mjs, each timed. One JSON line per step and one with the status after. A second
// run is the idempotence check (it keys nothing). With --undo it first removes the keys and marks
// (restores the shape stored before the index), so the migration can be timed again.
//   node bench/migrate.mjs [--undo] [BATCH=10000]
import { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";
import { KEY_LINKS, MARK_TRAILS, STATUS } from "../cli/migration.mjs";
import { config, cypher, emit, loadWasm } from "./common.mjs";

const undo = process.argv.includes("--undo");
const BATCH = Number(process.argv.filter((a) => !a.startsWith("--"))[2] ?? 10000);
const log = (s) => process.stderr.write(`  migrate: ${s}\n`);

await loadWasm();
async function step(name, fn) {
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  emit({ contender: `migrate: ${name}`, ms, out });
  log(`${name}: ${(ms / 1000).toFixed(1)} s ${JSON.stringify(out)}`);
  return out;
}
if (undo) {
  await step("undo (remove keys and marks)", () => cypher(
    "MATCH (t:AuditTrail)-[r:HAS_EVENT]->() CALL { WITH t, r REMOVE t.indexed, r.trail, r.eventUID } IN TRANSACTIONS OF 10000 ROWS RETURN count(*)"));
}
await step("status before", () => cypher(STATUS));
const logger = new AuditLogger(config({ trail: "bench-migrate" }));
await step("ensureSchema", async () => {
  if (!(await logger.ensureSchema())) throw new Error(logger.lastError);
  return true;
});
logger.free();
await step(`key links (batches of ${BATCH})`, async () => {
  let keyed = 0;
  for (;;) {
    const [[n]] = await cypher(KEY_LINKS, { batch: BATCH, max: 1000000 });
    keyed += n;
    if (n < 1000000) return keyed;
  }
});
await step("mark trails", () => cypher(MARK_TRAILS));
await step("status after", () => cypher(STATUS));
