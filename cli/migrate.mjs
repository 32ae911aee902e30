// `neo4j-audit migrate`: the admin step after upgrading to the per-trail read index. Keys the
// HAS_EVENT links stored before it (trail name, event timestamp and UID on the link), in batches
// of their own transactions, then marks each trail whose links all carry the key, so its pages are
// read by the per-trail index. Idempotent and resumable: a second run keys only what the first
// did not reach. The statements are the library's (src/cypher.rs `migration_statements`; a Rust
// test checks that cli/migration.mjs holds them word for word). Events written by the Python
// log_user_action this library replaces (a LocalDateTime timestamp) are converted first (--zone).
import { CliError, EXIT, ENV_HELP, EXIT_HELP, neo4jFailure, openLogger, parseCount, usage, write } from "./common.mjs";
import { cypher } from "./schema.mjs";
import { CONVERT_TIMESTAMPS, KEY_LINKS, MARK_TRAILS, STATUS } from "./migration.mjs";

export const summary = "key events stored before the per-trail read index (idempotent, resumable)";

export const help = `Usage: neo4j-audit migrate [--status] [--zone ZONE] [--batch N] [--json]

Ensures the schema (as "neo4j-audit schema"), then keys every HAS_EVENT link stored before the
per-trail read index (sets the trail's name, the event's timestamp and UID on the link), in
batches of N links, each batch its own transaction, and marks every trail whose links all carry
the key ("indexed"). A marked trail's pages are read by its own index, so they cost the same
whatever other trails hold; until then they are read as before, complete at every moment.
Safe to interrupt and to run again: it resumes where it stopped, and does nothing when done.
Run it once every writer runs this version (a link an older version writes later has no key:
--status counts them; run migrate again).

Events written by the Python log_user_action that this library replaces have a timestamp
without a time zone (a LocalDateTime: the writing server's local time), which the read side
cannot page or order beside the library's UTC DateTimes. migrate converts them (timestamp and
HAS_EVENT.created, the same instant as a UTC DateTime) when --zone names the zone that server's
clock was in; while any are left and no --zone is given, it changes nothing and exits 2.

Options:
  --status           only report: links without the key, trails not marked (read-only)
  --zone ZONE        the zone of LocalDateTime timestamps: an IANA name (Europe/Brussels, UTC)
                     or an offset (+01:00)
  --batch N          links per transaction, 100..1000000 (default 10000)
  --json             print {converted, keyed, marked, unmarked} (--status: {unkeyed, unmarked,
                     unconverted})
  -h, --help         this help

${ENV_HELP}

${EXIT_HELP}`;

export const options = {
  status: { type: "boolean" }, zone: { type: "string" }, batch: { type: "string" }, json: { type: "boolean" },
};

/** `--zone`: an IANA time zone name the host knows, or a fixed offset `±HH:MM`. */
function parseZone(text) {
  if (text === undefined) return undefined;
  if (/^[+-](0\d|1[0-4]):[0-5]\d$/.test(text)) return text;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: text }).resolvedOptions().timeZone && text;
  } catch {
    throw usage(`--zone: "${text}" is not a time zone (an IANA name such as Europe/Brussels or UTC, or an offset such as +01:00)`);
  }
}

function failed(step, conn, r) {
  return new CliError(`${step} failed on ${conn.url} (database ${conn.database}): ${r.error}`, EXIT.NEO4J);
}

export async function run(values, { conn, stdout, stderr = process.stderr }) {
  if (values.status) {
    const r = await cypher(conn, STATUS, {});
    if (r.error) throw failed("status", conn, r);
    const [unkeyed, unmarked, unconverted] = r.rows[0];
    await write(stdout, values.json ? JSON.stringify({ unkeyed, unmarked, unconverted }) + "\n"
      : `migrate: ${unkeyed} links without the per-trail key, ${unmarked} trails not marked indexed, ${unconverted} events with a LocalDateTime timestamp at ${conn.url} (database ${conn.database})${unkeyed === 0 && unmarked === 0 && unconverted === 0 ? ": nothing to do" : unconverted === 0 ? ": run neo4j-audit migrate" : ": run neo4j-audit migrate --zone <their writer's zone>"}\n`);
    return EXIT.OK;
  }
  const batch = values.batch === undefined ? 10000 : parseCount("batch", values.batch, 100, 1000000);
  const zone = parseZone(values.zone);
  if (zone === undefined) {
    // Keying the links would copy a LocalDateTime into them: refuse before changing anything.
    const r = await cypher(conn, STATUS, {});
    if (r.error) throw failed("status", conn, r);
    const unconverted = r.rows[0][2];
    if (unconverted > 0) {
      throw usage(`${unconverted} events have a timestamp without a time zone (LocalDateTime, as the Python log_user_action wrote them); nothing was changed: give --zone with the zone their server's clock was in (e.g. --zone Europe/Brussels, or --zone UTC)`);
    }
  }
  const logger = openLogger(conn);
  if (!(await logger.ensureSchema())) throw neo4jFailure("schema", logger, conn);
  logger.free();
  const t0 = performance.now();
  let converted = 0;
  while (zone !== undefined) {
    const c = await cypher(conn, CONVERT_TIMESTAMPS, { zone, batch, max: 1000000 }, null);
    if (c.error) throw failed("converting the timestamps", conn, c);
    converted += c.rows[0][0];
    if (c.rows[0][0] < 1000000) break;
    if (!values.json) await write(stderr, `migrate: ${converted} timestamps converted so far\n`);
  }
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
  await write(stdout, values.json ? JSON.stringify({ converted, keyed, marked, unmarked, seconds }) + "\n"
    : `migrate: ${zone === undefined ? "" : `${converted} timestamps converted from ${zone}, `}${keyed} links keyed, ${marked} trails marked indexed, ${unmarked} not (links added meanwhile by an older writer: run it again) in ${seconds.toFixed(1)} s at ${conn.url} (database ${conn.database})\n`);
  return EXIT.OK;
}
