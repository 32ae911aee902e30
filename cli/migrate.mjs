// `neo4j-audit migrate`: the admin step after upgrading to the per-trail read index. Keys the
// HAS_EVENT links stored before it (trail name, event timestamp and UID on the link), in batches
// of their own transactions, then marks each trail whose links all carry the key, so its pages are
// read by the per-trail index. Idempotent and resumable: a second run keys only what the first
// did not reach. The statements are the library's (src/cypher.rs `migration_statements`; a Rust
// test checks that cli/migration.mjs holds them word for word). Events written by the Python
// log_user_action this library replaces (a LocalDateTime timestamp) are converted first (--zone).
import { CliError, DUPLICATE_TRAILS, EXIT, ENV_HELP, EXIT_HELP, openLogger, parseCount, plural, schemaFailure, usage, which, write } from "./common.mjs";
import { cypher } from "./schema.mjs";
import { CONVERT_TIMESTAMPS, KEY_LINKS, MARK_TRAILS, STATUS } from "./migration.mjs";

export const summary = "key events stored before the per-trail read index (idempotent, resumable)";

export const help = `Usage: neo4j-audit migrate [--status | --dry-run] [--zone ZONE] [--batch N] [--json]

Ensures the schema (as "neo4j-audit schema"), then keys every HAS_EVENT link stored before the
per-trail read index (sets the trail's name, the event's timestamp and UID on the link), in
batches of N links, each batch its own transaction, and marks every trail whose links all carry
the key ("indexed"). A marked trail's pages are read by its own index, so they cost the same
whatever other trails hold; until then they are read as before, complete at every moment.
Safe to interrupt and to run again: it resumes where it stopped, and does nothing when done.
Run it once every writer runs this version (a link an older version writes later has no key:
--status counts them; run migrate again).

Events written by the Python log_user_action that this library replaces have a timestamp
without a time zone (a LocalDateTime: the writing server's local time), or, in a copy that went
through another tool, ISO 8601 text ("2026-11-02T10:00:00.123456", "2026-11-02 10:00:00",
"2026-11-02T10:00:00+01:00"); the read side cannot page or order either beside the library's UTC
DateTimes. migrate converts them (timestamp and HAS_EVENT.created, the same instant as a UTC
DateTime): a text with an offset (Z, +01:00) is that instant; the others are read in --zone,
the zone that server's clock was in. While any of those are left and no --zone is given, it
changes nothing and exits 2. An unchained event whose timestamp is anything else (text that is
not ISO 8601, a number, none) cannot be converted, a trail without a name (the Python
log_user_action's own trail node) is read by no one, and trails that share a name (its racing
first calls) keep the schema's uniqueness constraint from being made: with any of them, it
changes nothing and exits 1, with the Cypher that lists them.

Options:
  --status           only report what a run would do: links without the key, trails not
                     marked, timestamps to convert (read-only, changes nothing)
  --dry-run          the same as --status
  --zone ZONE        the zone of timestamps stored without one (LocalDateTime, text without an
                     offset): an IANA name (Europe/Brussels, UTC) or an offset (+01:00)
  --batch N          links per transaction, 100..1000000 (default 10000)
  --json             print {converted, keyed, marked, unmarked} (--status: {unkeyed, unmarked,
                     unconverted, zoneless, unreadable, unnamed, duplicated}: timestamps to
                     convert, those of them that need --zone, those that cannot be converted,
                     trails without a name, names that more than one trail has)
  -h, --help         this help

${ENV_HELP}

${EXIT_HELP}`;

export const options = {
  status: { type: "boolean" }, "dry-run": { type: "boolean" }, zone: { type: "string" }, batch: { type: "string" }, json: { type: "boolean" },
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

/** What the migration's status statement counts (src/cypher.rs `migration_status_statement`). */
async function status(conn) {
  const r = await cypher(conn, STATUS, {});
  if (r.error) throw failed("status", conn, r);
  const [unkeyed, unmarked, unconverted, zoneless, unreadable, unnamed] = r.rows[0];
  const d = await cypher(conn, DUPLICATED, {});
  if (d.error) throw failed("status", conn, d);
  return { unkeyed, unmarked, unconverted, zoneless, unreadable, unnamed, duplicated: d.rows[0][0] };
}

/** Names that more than one trail has (the Python seed's racing first calls): while they exist
 * the uniqueness constraint on the name cannot be made (ensureSchema fails), and each new event is
 * linked to every trail of its name. Trails are few: a scan of them is cheap. */
/** Rows per request (at least --batch): see run. */
const PER_REQUEST = 200000;
const DUPLICATED = "MATCH (t:AuditTrail) WHERE t.name IS NOT NULL WITH t.name AS name, count(t) AS n WHERE n > 1 RETURN count(name)";
const DUPLICATES = (n) => `${plural(n, "trail name is", "trail names are")} shared by more than one trail (as the Python log_user_action's racing first calls made them): the uniqueness constraint on the name cannot be made while they exist; merge them (${DUPLICATE_TRAILS} lists them; docs/migrating.md in the package, One trail per name, has the Cypher that merges them), and run migrate again`;

/** Where an operator finds the timestamps migrate cannot convert. */
const UNREADABLE_QUERY = "MATCH (e:AuditEvent) WHERE e.hash IS NULL AND e.timestamp IS NOT :: ZONED DATETIME NOT NULL RETURN e.UID, e.timestamp";
/** Trails without a name (the Python seed's get_or_create_audit_trail_uid() node): the library
 * finds a trail by name only, so their events are read by no one and their links cannot be keyed.
 * When the library has written first, a trail of that name exists and the uniqueness constraint
 * refuses the name: the seed trail's links are moved into that trail instead (its `indexed` mark
 * removed until this command keys the moved links and marks it again). */
const UNNAMED = (n) => `${plural(n, "trail has", "trails have")} no name (as the Python log_user_action's get_or_create_audit_trail_uid() made it): the library finds a trail by its name only, so its events are never read and its links cannot be keyed; name it (MATCH (t:AuditTrail) WHERE t.name IS NULL RETURN t.UID, COUNT { (t)-[:HAS_EVENT]->() } lists them; MATCH (t:AuditTrail {UID: '…'}) SET t.name = 'default'), or, if a trail of that name exists already (the SET fails with ConstraintValidationFailed), move its links into that trail (${MOVE_LINKS}), and run migrate again`;
/** The Cypher that moves an unnamed trail's links into the trail of that name (docs/migrating.md). */
const MOVE_LINKS = "MATCH (old:AuditTrail {UID: '…'}), (keep:AuditTrail {name: 'default'}) REMOVE keep.indexed WITH old, keep CALL { WITH old, keep MATCH (old)-[r:HAS_EVENT]->(e) MERGE (keep)-[k:HAS_EVENT]->(e) ON CREATE SET k = properties(r) DELETE r } DETACH DELETE old";

export async function run(values, { conn, stdout, stderr = process.stderr }) {
  // Checked first, with --status too: "migrate --status --zone Mars/Olympus" reported as if the
  // zone were fine, and the run it advised then failed on it.
  const batch = values.batch === undefined ? 10000 : parseCount("batch", values.batch, 100, 1000000);
  const zone = parseZone(values.zone);
  if (values.status || values["dry-run"]) {
    const s = await status(conn);
    const todo = s.unnamed > 0 ? `: ${UNNAMED(s.unnamed)}`
      : s.duplicated > 0 ? `: ${DUPLICATES(s.duplicated)}`
      : s.unreadable > 0 ? `: ${s.unreadable} of them cannot be converted (not ISO 8601 text, or no timestamp); set them first, listed by ${UNREADABLE_QUERY}`
      : s.zoneless > 0 ? ": run neo4j-audit migrate --zone <their writer's zone>"
      : s.unkeyed === 0 && s.unmarked === 0 && s.unconverted === 0 ? ": nothing to do" : ": run neo4j-audit migrate";
    await write(stdout, values.json ? JSON.stringify(s) + "\n"
      : `migrate: ${plural(s.unkeyed, "link")} without the per-trail key, ${plural(s.unmarked, "trail")} not marked indexed, ${plural(s.unconverted + s.unreadable, "event")} whose timestamp is not a DateTime (${s.zoneless} without a time zone) at ${conn.url} (database ${conn.database})${todo}\n`);
    return EXIT.OK;
  }
  // Keying the links would copy a timestamp that is not a DateTime into them: refuse before
  // changing anything.
  const s = await status(conn);
  if (s.unnamed > 0) throw new CliError(`${UNNAMED(s.unnamed)}; nothing was changed`, EXIT.BROKEN);
  if (s.duplicated > 0) throw new CliError(`${DUPLICATES(s.duplicated)}; nothing was changed`, EXIT.BROKEN);
  if (s.unreadable > 0) {
    throw new CliError(`${plural(s.unreadable, "event has", "events have")} a timestamp that is neither a DateTime nor ISO 8601 text (or none), which the read side cannot order; nothing was changed: set ${which(s.unreadable, "it", "them")} with Cypher first (listed by ${UNREADABLE_QUERY})`, EXIT.BROKEN);
  }
  if (zone === undefined && s.zoneless > 0) {
    throw usage(`${plural(s.zoneless, "event has", "events have")} a timestamp without a time zone (LocalDateTime as the Python log_user_action wrote them, or text without an offset); nothing was changed: give --zone with the zone their server's clock was in (e.g. --zone Europe/Brussels, or --zone UTC)`);
  }
  const logger = openLogger(conn);
  if (!(await logger.ensureSchema())) throw schemaFailure(logger, conn);
  logger.free();
  const t0 = performance.now();
  // At most PER_REQUEST rows per request (at least one --batch): Node's fetch gives up on an
  // answer whose headers take over 300 s, so a request must end well within that on a slow or
  // busy server (~200 000 links took well under a minute here); each request resumes where the
  // last one stopped.
  const perRequest = Math.max(batch, PER_REQUEST);
  let converted = 0;
  // Without --zone only texts with their own offset are left to convert (the zone is not read).
  while (zone !== undefined || s.unconverted > 0) {
    const c = await cypher(conn, CONVERT_TIMESTAMPS, { zone: zone ?? "UTC", batch, max: perRequest }, null);
    if (c.error) throw failed("converting the timestamps", conn, c);
    converted += c.rows[0][0];
    if (c.rows[0][0] < perRequest) break;
    if (!values.json) await write(stderr, `migrate: ${plural(converted, "timestamp")} converted so far\n`);
  }
  let keyed = 0;
  for (;;) {
    const k = await cypher(conn, KEY_LINKS, { batch, max: perRequest }, null);
    if (k.error) throw failed("keying the links", conn, k);
    keyed += k.rows[0][0];
    if (k.rows[0][0] < perRequest) break;
    if (!values.json) await write(stderr, `migrate: ${plural(keyed, "link")} keyed so far\n`);
  }
  const m = await cypher(conn, MARK_TRAILS, {}, null);
  if (m.error) throw failed("marking the trails", conn, m);
  const [[marked, unmarked]] = m.rows;
  const seconds = (performance.now() - t0) / 1000;
  await write(stdout, values.json ? JSON.stringify({ converted, keyed, marked, unmarked, seconds }) + "\n"
    : `migrate: ${zone === undefined ? (converted ? `${plural(converted, "timestamp")} converted (text with an offset), ` : "") : `${plural(converted, "timestamp")} converted from ${zone}, `}${plural(keyed, "link")} keyed, ${plural(marked, "trail")} marked indexed, ${unmarked} not (links added meanwhile by an older writer: run it again) in ${seconds.toFixed(1)} s at ${conn.url} (database ${conn.database})\n`);
  return EXIT.OK;
}
