// `neo4j-audit schema`: the deploy-time step. Runs the library's ensureSchema() (uniqueness
// constraints and indexes, idempotent, waits until the indexes are online) and lists what is in
// place on the audit labels, marking what this run created.
import { CliError, EXIT, ENV_HELP, EXIT_HELP, escapeControl, failure, openLogger, plural, schemaFailure, write } from "./common.mjs";

export const summary = "create the constraints and indexes (idempotent) and list them";

export const help = `Usage: neo4j-audit schema [--json]

Creates the uniqueness constraints and indexes the library needs (ensureSchema: IF NOT EXISTS,
then waits until the indexes are online) and lists those in place on the labels AuditEvent,
AuditTrail and User and on the relationships HAS_EVENT and ON (the per-trail and per-target read
indexes), each marked "created" (by this run) or "present" (already there).
Run it once at deploy time, e.g. with a role that has schema rights; loggers then skip the step.

Options:
  --json             print {ensured: true, created, present, items: [{name, kind, on, state,
                     created}]} instead ({ensured: true, listError} when listing was refused)
  -h, --help         this help

${ENV_HELP}

${EXIT_HELP}`;

export const options = { json: { type: "boolean" } };

const LABELS = ["AuditEvent", "AuditTrail", "User"];
/** The relationship types of the read side's indexes (src/cypher.rs schema_statements). */
const TYPES = ["HAS_EVENT", "ON"];

/** One statement through Neo4j's HTTP transaction endpoint (one request: an implicit
 * transaction, so `CALL { } IN TRANSACTIONS` works); rows as arrays. `timeoutMs` null: none. */
export async function cypher(conn, statement, parameters, timeoutMs = 10_000) {
  const authorization = conn.token
    ? `Bearer ${conn.token}`
    : `Basic ${Buffer.from(`${conn.username}:${conn.password}`).toString("base64")}`;
  // The bound on the request and its answer, on a timer that keeps Node alive. AbortSignal.timeout's
  // does not, and Node 20's fetch leaves its promise unsettled when the server closes the
  // connection before reading anything (a port forward whose far end is down): the process then
  // ended at once with exit status 13 and no message.
  const abort = new AbortController();
  const timer = timeoutMs == null ? undefined
    : setTimeout(() => abort.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  let res;
  try {
    res = await fetch(new URL(`db/${encodeURIComponent(conn.database)}/tx/commit`, conn.url.replace(/\/?$/, "/")), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization },
      body: JSON.stringify({ statements: [{ statement, parameters }] }),
      signal: abort.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    if (e?.name === "TimeoutError") throw failure("", `timeout: no answer from Neo4j within ${timeoutMs} ms`, conn);
    // Worded by the library, as every other command's: its reading of Node's error (one line per
    // cause, OpenSSL's text as "TLS error (…)") and its diagnosis (an https:// URL to a plain-HTTP
    // port). The same request through it fails the same way; this printed OpenSSL's raw,
    // two-line text and "is it running?" for a server that had answered.
    const probe = openLogger(conn);
    const page = await probe.getAuditTrail({ limit: 1 });
    const reason = page === null ? probe.lastError : undefined;
    probe.free();
    throw failure("", reason ?? `network error: ${String(e.cause?.message ?? e.message).split("\n")[0]}`, conn);
  }
  const text = await res.text().catch(() => "");
  clearTimeout(timer);
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {}
  const code = body?.errors?.[0]?.code;
  // As the library words them (src/outcome.rs): refused credentials, a NEO4J_URL with a wrong
  // path, a missing database; then as every other command (cli/common.mjs, failure).
  if (res.status === 401 || res.status === 403 || code === "Neo.ClientError.Security.AuthenticationRateLimit") {
    throw failure("", `authentication failed: HTTP ${res.status}${code ? ` (${code})` : ""}`, conn);
  }
  if (res.status === 404 && (!body || code === "Neo.ClientError.Request.Invalid")) {
    throw failure("", "HTTP 404: Not Found (url must be Neo4j's base URL: scheme, host and port, and a path only if a reverse proxy serves Neo4j under that prefix; this url's path is likely wrong)", conn);
  }
  // Neither Neo4j's errors nor its results (another service on that port, a proxy's error page):
  // worded as the library words it for the other commands (src/outcome.rs failure). A JSON answer
  // without `results` crashed here ("internal error: TypeError", exit 4).
  if (!body?.errors?.length && !Array.isArray(body?.results)) {
    throw failure("", !res.ok ? `HTTP ${res.status}: ${snippet(text)}`
      : `unexpected response: HTTP ${res.status} ${body ? "without a result" : "with a body that is not JSON"}: ${snippet(text)}`, conn);
  }
  if (body.errors?.length) {
    const [e] = body.errors;
    if (e.code === "Neo.ClientError.Database.DatabaseNotFound") {
      throw new CliError(`database not found: ${conn.database} at ${conn.url} (NEO4J_DATABASE)`, EXIT.NEO4J);
    }
    return { error: `${e.code}: ${e.message}` };
  }
  return { rows: body.results[0].data.map((d) => d.row) };
}

/** An answer's first 200 characters on one line, "…" when cut (the library's `snippet`). */
function snippet(text) {
  const chars = [...text];
  return chars.slice(0, 200).join("").replace(/[\r\n\t]/g, " ") + (chars.length > 200 ? "…" : "");
}

/** Constraints and (non-constraint) indexes on the audit labels, by name. */
async function listSchema(conn) {
  // Node schema on the audit labels, relationship schema on the read side's types.
  const where = "WHERE any(l IN labelsOrTypes WHERE CASE entityType WHEN 'NODE' THEN l IN $labels ELSE l IN $types END)";
  const params = { labels: LABELS, types: TYPES };
  const c = await cypher(conn, `SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties ${where} RETURN name, type, entityType, labelsOrTypes, properties`, params);
  if (c.error) return c;
  const i = await cypher(conn, `SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, state, owningConstraint ${where} AND owningConstraint IS NULL RETURN name, type, entityType, labelsOrTypes, properties, state`, params);
  if (i.error) return i;
  // A node label as `AuditEvent(UID)`, a relationship type as `[:HAS_EVENT](trail, …)`.
  const on = (type, entity, labels, props) =>
    `${entity === "RELATIONSHIP" ? `[:${labels.join("|")}]` : labels.join("|")}(${props.join(", ")}) ${type}`;
  const items = new Map();
  for (const [name, type, entity, labels, props] of c.rows) {
    items.set(name, { name, kind: "constraint", on: on(type, entity, labels, props), state: null });
  }
  for (const [name, type, entity, labels, props, state] of i.rows) {
    items.set(name, { name, kind: "index", on: on(type, entity, labels, props), state });
  }
  return { items };
}

export async function run(values, { conn, stdout }) {
  const before = await listSchema(conn);
  const logger = openLogger(conn);
  if (!(await logger.ensureSchema())) throw schemaFailure(logger, conn);
  const after = await listSchema(conn);
  if (after.error) {
    // ensureSchema succeeded, but this role may not list the schema.
    const text = `schema: ensured on ${conn.url} (database ${conn.database}); listing it was refused: ${after.error}\n`;
    await write(stdout, values.json ? JSON.stringify({ ensured: true, listError: after.error }) + "\n" : text);
    return EXIT.OK;
  }
  const items = [...after.items.values()]
    .map((it) => ({ ...it, created: !before.error && !before.items.has(it.name) }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const created = items.filter((it) => it.created).map((it) => it.name);
  const present = items.filter((it) => !it.created).map((it) => it.name);
  if (values.json) {
    await write(stdout, JSON.stringify({ ensured: true, created, present, items }) + "\n");
    return EXIT.OK;
  }
  // Names and property keys are the database's (anyone with schema rights names an index on the
  // audit labels): escaped as tail escapes stored text, so they cannot drive the terminal.
  const shown = items.map((it) => ({ ...it, name: escapeControl(it.name), on: escapeControl(it.on) }));
  const w = (k) => Math.max(...shown.map((it) => String(it[k] ?? "").length), 0);
  const [wn, wo] = [w("name"), w("on")];
  let out = "";
  for (const it of shown) {
    out += `  ${it.created ? "created" : "present"}  ${it.kind.padEnd(10)}  ${it.name.padEnd(wn)}  ${it.on.padEnd(wo)}  ${it.state ?? ""}`.trimEnd() + "\n";
  }
  const n = (kind) => items.filter((it) => it.kind === kind).length;
  out += `schema: ${plural(n("constraint"), "constraint")} and ${plural(n("index"), "index", "indexes")} on ${LABELS.join(", ")}, ${TYPES.join(", ")} at ${conn.url} (database ${conn.database}): ${created.length} created, ${present.length} already present\n`;
  await write(stdout, out);
  return EXIT.OK;
}
