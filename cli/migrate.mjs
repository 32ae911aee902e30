// `neo4j-audit migrate`: the admin step after upgrading to the per-trail read index. Keys the
// HAS_EVENT links stored before it (trail name, event timestamp and UID on the link), in batches
// of their own transactions, then marks each trail whose links all carry the key, so its pages are
// read by the per-trail index. Idempotent and resumable: a second run keys only what the first
// did not reach. The statements are the library's (src/cypher.rs `migration_statements`; a Rust
// test checks that cli/migration.mjs holds them word for word).
import { CliError, EXIT, ENV_HELP, EXIT_HELP, neo4jFailure, openLogger, parseCount, write } from "./common.mjs";
import { cypher } from "./schema.mjs";
import { KEY_LINKS, MARK_TRAILS, STATUS } from "./migration.mjs";

export const summary = "key events stored before the per-trail read index (idempotent, resumable)";

export const help = `Usage: neo4j-audit migrate [--status] [--batch N] [--json]

Ensures the schema (as "neo4j-audit schema"), then keys every HAS_EVENT link stored before the
per-trail read index (sets the trail's name, the event's timestamp and UID on the link), in
batches of N links, each batch its own transaction, and marks every trail whose links all carry
the key ("indexed"). A marked trail's pages are read by its own index, so they cost the same
whatever other trails hold; until then they are read as before, complete at every moment.
Safe to interrupt and to run again: it resumes where it stopped, and does nothing when done.
Run it once every writer runs this version (a link an older version writes later has no key:
--status counts them; run migrate again).

Options:
  --status           only report: links without the key, trails not marked (read-only)
  --batch N          links per transaction, 100..1000000 (default 10000)
  --json             print {keyed, marked, unmarked} (--status: {unkeyed, unmarked})
  -h, --help         this help

${ENV_HELP}

${EXIT_HELP}`;

export const options = { status: { type: "boolean" }, batch: { type: "string" }, json: { type: "boolean" } };

function failed(step, conn, r) {
  return new CliError(`${step} failed on ${conn.url} (database ${conn.database}): ${r.error}`, EXIT.NEO4J);
}

export async function run(values, { conn, stdout, stderr = process.stderr }) {
  if (values.status) {
    const r = await cypher(conn, STATUS, {});
    if (r.error) throw failed("status", conn, r);
    const [unkeyed, unmarked] = r.rows[0];
    await write(stdout, values.json ? JSON.stringify({ unkeyed, unmarked }) + "\n"
      : `migrate: ${unkeyed} links without the per-trail key, ${unmarked} trails not marked indexed at ${conn.url} (database ${conn.database})${unkeyed === 0 && unmarked === 0 ? ": nothing to do" : ": run neo4j-audit migrate"}\n`);
    return EXIT.OK;
  }
  const batch = values.batch === undefined ? 10000 : parseCount("batch", values.batch, 100, 1000000);
  const logger = openLogger(conn);
  if (!(await logger.ensureSchema())) throw neo4jFailure("schema", logger, conn);
  logger.free();
  const t0 = performance.now();
  // At most 1 000 000 links per request (one request stays well within HTTP timeouts); each
  // request resumes where the last one stopped.
  let keyed = 0;
  for (;;) {
    const k = await cypher(conn, KEY_LINKS, { batch, max: 1000000 }, null);
    if (k.error) throw failed("keying the links", conn, k);
    keyed += k.rows[0][0];
    if (k.rows[0][0] < 1000000) break;
    if (!values.json) await write(stderr, `migrate: ${keyed} links keyed so far\n`);
  }
  const m = await cypher(conn, MARK_TRAILS, {}, null);
  if (m.error) throw failed("marking the trails", conn, m);
  const [[marked, unmarked]] = m.rows;
  const seconds = (performance.now() - t0) / 1000;
  await write(stdout, values.json ? JSON.stringify({ keyed, marked, unmarked, seconds }) + "\n"
    : `migrate: ${keyed} links keyed, ${marked} trails marked indexed, ${unmarked} not (links added meanwhile by an older writer: run it again) in ${seconds.toFixed(1)} s at ${conn.url} (database ${conn.database})\n`);
  return EXIT.OK;
}
