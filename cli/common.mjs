// What the subcommands share: the connection from the environment, exit codes and one-line errors,
// time arguments, the read loop (keyset pages), output with backpressure, event formats.
import { AuditLogger, switchSetting } from "./core.mjs";

/** Exit statuses (also listed by `neo4j-audit --help`). */
export const EXIT = {
  OK: 0,
  /** verify: a broken chain, events without chain fields, or no events found (without --allow-empty);
   * migrate: a timestamp it cannot convert, a trail without a name, trails that share a name. */
  BROKEN: 1,
  /** Bad command line or configuration (unknown command or option, bad value, an invalid NEO4J_* setting). */
  USAGE: 2,
  /** Neo4j unreachable, credentials refused, or a query failed. */
  NEO4J: 3,
};

export const EXIT_HELP = `Exit status:
  0  success (verify: every stream intact, no unchained events)
  1  verify: a broken chain, events without chain fields, or no events found at all
     (nothing verified: a mistyped --trail; --allow-empty accepts it); migrate: a timestamp
     it cannot convert, a trail without a name or trails that share one (nothing changed)
  2  usage: unknown command or option, bad value, an invalid NEO4J_* setting
  3  Neo4j: not reachable, credentials refused, or a query failed
  4  internal error (a bug; please report it), or stdout (export --output: its file) could not
     be written (a full disk)
  130/143  interrupted by SIGINT/SIGTERM (tail --follow: 0)`;

export const ENV_HELP = `Environment:
  NEO4J_URL        Neo4j HTTP base URL (default http://127.0.0.1:7474)
  NEO4J_USER       user name (default neo4j)
  NEO4J_PASSWORD   password (default neo4j-audit-dev, the local server of scripts/neo4j, for a
                   loopback NEO4J_URL only: another host without it is a usage error;
                   set but empty, a usage error too)
  NEO4J_TOKEN      bearer token instead of user and password (SSO / Aura); NEO4J_PASSWORD
                   must then be unset (both set is a usage error)
  NEO4J_DATABASE   database (default neo4j)
                   NEO4J_URL, NEO4J_USER or NEO4J_DATABASE set but empty is a usage error
  NEO4J_ALLOW_INSECURE_HTTP  "true": accept a plain http:// NEO4J_URL to a host that is not
                   loopback (refused by default: the password or token would cross the network
                   unencrypted); only for a trusted private network, prefer https://.
                   "false" (the default) or "true", any case; any other value is a usage error`;

/** An error the CLI reports as one line, with an exit status. */
export class CliError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}
export const usage = (message) => new CliError(message, EXIT.USAGE);

/** Whether `url` names this machine (localhost, 127.0.0.0/8, [::1]); an invalid URL, or one the
 * library refuses for its scheme (a driver's bolt:// or neo4j+s:// URI), counts as local here,
 * for the library to refuse with its own message (which names the HTTP URL to give instead; such
 * a URL has no origin either: "not to null" was all this said of it), before any request. */
function loopback(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return true;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return true;
  const host = u.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `url`'s origin (never its user:password@ or path), or "NEO4J_URL" when it is not a URL. */
function origin(url) {
  try {
    return new URL(url).origin;
  } catch {
    return "NEO4J_URL";
  }
}

/** The connection settings from the environment; never printed with the secret. A usage error
 * (exit 2) for a NEO4J_ALLOW_INSECURE_HTTP that is neither "false" nor "true" (any case): the
 * Worker's rule for its var, from the library (src/rules.rs), so "yes" or "1" is never silently
 * false here while the Worker refuses it; for a NEO4J_PASSWORD or NEO4J_TOKEN set but empty, and
 * for both set. */
export function connection(env = process.env) {
  let allowInsecureHttp;
  try {
    allowInsecureHttp = switchSetting("NEO4J_ALLOW_INSECURE_HTTP", env.NEO4J_ALLOW_INSECURE_HTTP, "false", "true");
  } catch (e) {
    throw usage(e.message);
  }
  // Set but empty is an unset variable substituted (`NEO4J_PASSWORD=$DB_PASS` in a CI job, a .env
  // line never filled in), not "unset": read as unset, the local server's default password went
  // out instead, and a local server took it. The library refuses an empty password or token alike.
  if (env.NEO4J_PASSWORD === "") {
    throw usage("NEO4J_PASSWORD is set but empty (an unset environment variable?): give the password, or unset NEO4J_PASSWORD for the local server's default (a loopback NEO4J_URL only)");
  }
  if (env.NEO4J_TOKEN === "") {
    throw usage("NEO4J_TOKEN is set but empty (an unset environment variable?): give the token, or unset NEO4J_TOKEN to log in with NEO4J_USER and NEO4J_PASSWORD");
  }
  // The others alike: `NEO4J_URL=` or `NEO4J_DATABASE=` fell back to the default server or
  // database without a word.
  for (const name of ["NEO4J_URL", "NEO4J_USER", "NEO4J_DATABASE"]) {
    if (env[name] === "") throw usage(`${name} is set but empty (an unset environment variable?): give it a value, or unset ${name} for its default`);
  }
  const token = env.NEO4J_TOKEN;
  // Both credentials: which one to use is the operator's to say. The library refuses the pair
  // ("token is exclusive with username/password"); the CLI used the token without a word.
  if (token && env.NEO4J_PASSWORD) {
    throw usage("NEO4J_TOKEN and NEO4J_PASSWORD are both set: the CLI logs in with one of them, not both; unset NEO4J_PASSWORD to use the token, or NEO4J_TOKEN to log in as NEO4J_USER with the password");
  }
  const url = env.NEO4J_URL || "http://127.0.0.1:7474";
  // The local server's password is a default for a local server only: sent to another machine
  // (production's Neo4j, NEO4J_PASSWORD forgotten) it is a failed login that counts towards
  // Neo4j's lock-out of that user, and a password no one meant to send there.
  if (!token && !env.NEO4J_PASSWORD && !loopback(url)) {
    throw usage(`NEO4J_PASSWORD (or NEO4J_TOKEN) is not set; its default, the local server's password, is only sent to a loopback NEO4J_URL, not to ${origin(url)}`);
  }
  return {
    url,
    database: env.NEO4J_DATABASE || "neo4j",
    username: token ? undefined : env.NEO4J_USER || "neo4j",
    password: token ? undefined : env.NEO4J_PASSWORD || "neo4j-audit-dev",
    // The local server's password stood in for an unset NEO4J_PASSWORD: a refused login says so.
    defaultPassword: !token && !env.NEO4J_PASSWORD,
    token,
    allowInsecureHttp,
  };
}

/** Where each config key `openLogger` passes comes from. */
const CONFIG_SOURCE = {
  url: "NEO4J_URL", username: "NEO4J_USER", password: "NEO4J_PASSWORD", token: "NEO4J_TOKEN",
  database: "NEO4J_DATABASE", trail: "--trail",
};

/** A logger of `trail` on the environment's Neo4j (only its read side and ensureSchema are used). */
export function openLogger(conn, trail) {
  const { url, database, username, password, token, allowInsecureHttp } = conn;
  const config = token ? { url, database, token } : { url, database, username, password };
  if (trail !== undefined) config.trail = trail;
  if (allowInsecureHttp) config.allowInsecureHttp = true;
  try {
    return new AuditLogger(config);
  } catch (e) {
    // The library's message never holds the password or token; its opt-out is the config key,
    // which is an environment variable here.
    const message = e.message.replace("allowInsecureHttp: true", "NEO4J_ALLOW_INSECURE_HTTP=true");
    // The message starts with the config key at fault: name the setting it came from.
    const key = /^invalid config: (\w+)/.exec(message)?.[1];
    throw usage(`${message} (check ${CONFIG_SOURCE[key] ?? "NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, NEO4J_TOKEN, NEO4J_DATABASE and --trail"})`);
  }
}

/** The library's checks of the connection (URL, credentials, plain http to a remote host), before
 * any request: some commands send their own statements (`cypher` in schema.mjs) first. */
export function checkConnection(conn) {
  openLogger(conn).free();
}

/** A library call resolved false/null: its `lastError` as one actionable line. */
export function neo4jFailure(what, logger, conn) {
  return failure(what, logger.lastError ?? "unknown failure", conn);
}

/** Where an operator finds trails that share a name (docs/migrating.md). */
export const DUPLICATE_TRAILS = "MATCH (t:AuditTrail) WHERE t.name IS NOT NULL WITH t.name AS name, collect(t) AS ts WHERE size(ts) > 1 RETURN name, size(ts)";

/**
 * ensureSchema() refused (`schema`, `migrate`): as {@link neo4jFailure}, and when stored nodes break
 * a uniqueness constraint (two AuditTrail nodes with one name, made by the Python log_user_action's
 * racing first calls) what to do, as the library's schemaWarning says: Neo4j's error alone left
 * the operator with exit 3 and no next step, after `migrate --status` had said "run migrate".
 */
export function schemaFailure(logger, conn) {
  const e = neo4jFailure("ensuring the schema", logger, conn);
  if (/Neo\.DatabaseError\.Schema\.ConstraintCreationFailed/.test(logger.lastError ?? "")) {
    e.message = e.message.replace(/\.?$/, "") + `; stored nodes break that uniqueness constraint: merge the duplicates first (trails that share a name, as the Python log_user_action's racing first calls made them, are listed by ${DUPLICATE_TRAILS}; docs/migrating.md in the package, One trail per name, has the Cypher that merges them), then run this command again`;
  }
  return e;
}

/** Node's codes for a server certificate it cannot trust: self-signed, or from a CA it does not
 * know (a private CA), or a chain the server sent incomplete. */
const UNTRUSTED_CERT = /\b(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_UNTRUSTED)\b/;

/** The advice for an untrusted certificate: what it is, and how to trust its CA (not "is it
 * running?": the server answered the handshake). */
function untrustedCert(why) {
  const code = UNTRUSTED_CERT.exec(why)[1];
  const what = code === "DEPTH_ZERO_SELF_SIGNED_CERT" ? "it is self-signed"
    : code === "SELF_SIGNED_CERT_IN_CHAIN" ? "its root CA is a private one" : "its CA is not one Node knows";
  return ` (Node does not trust the server's TLS certificate: ${what}; trust the CA, or that certificate, with NODE_EXTRA_CA_CERTS=/path/ca.pem in the CLI's environment)`;
}

/** The library's word on a refused password with white space around it (src/error.rs), inside
 * the reason's parentheses: "authentication failed: HTTP 401 (<code>; <this>)". */
const PASSWORD_WHITE_SPACE = "the password has leading or trailing white space: a line break read with it from a file?";
/** The CLI's, naming the variable. */
const NEO4J_PASSWORD_WHITE_SPACE = "NEO4J_PASSWORD has leading or trailing white space: a line break read with it from a file?";

/** As {@link neo4jFailure}, for a reason worded as the library's `lastError` (cli/schema.mjs's own requests). */
export function failure(what, reason, conn) {
  let msg, refused = false;
  if (/^(network error|timeout)/.test(reason)) {
    // The library's network error ends with the server's origin ("… (http://host:7474)", for a
    // program with several loggers); this line names the URL first, so once is enough.
    let origin = "";
    try {
      origin = new URL(conn.url).origin;
    } catch {}
    const why = origin && reason.endsWith(` (${origin})`) ? reason.slice(0, -origin.length - 3)
      // A diagnosed failure puts its advice after the origin ("… (https://host:7474): the server
      // answered the TLS handshake in plain HTTP (…)"): the origin once there too.
      : origin ? reason.replace(` (${origin}): `, ": ") : reason;
    // That advice names the fix; "is it running?" would send the reader after a server that
    // answered (it is running, on another scheme). So would it for a server that took the
    // connection and closed it without an HTTP answer: typically Neo4j's Bolt port in NEO4J_URL.
    // Once this URL has answered (an export's first pages, tail's first read), a connection closed
    // without an answer is Neo4j stopping or restarting, not a Bolt port in NEO4J_URL.
    const closed = /other side closed|ECONNRESET|socket hang up/.test(why);
    // An answer past its bound (docs/reading.md) came from a server that answered, so
    // neither "cannot reach" nor "is it running?" fits; the reads already went down to one event
    // a page (pages(), verifyTrail), and Neo4j's answer to that is far below the bound.
    // On port 7687 the library's reason names Bolt's port itself.
    const advice = /^network error: the server's answer is larger than /.test(why) ? null
      : /the server answered the TLS handshake in plain HTTP|is Neo4j's Bolt port/.test(why) ? " (NEO4J_URL)"
      : UNTRUSTED_CERT.test(why) ? untrustedCert(why)
      : closed && conn.answered
        ? " (it answered at NEO4J_URL before, then closed the connection without an HTTP answer: did Neo4j stop or restart?)"
      : closed
        ? " (the server closed the connection without an HTTP answer: is NEO4J_URL Neo4j's HTTP port, 7474 by default, not its Bolt port, 7687?)"
        : " (is it running? NEO4J_URL)";
    msg = advice === null
      ? `${conn.url} answered with more than the CLI reads of an answer: ${why} (Neo4j's answers are far smaller: is NEO4J_URL Neo4j's HTTP port, 7474 by default? a proxy or another service on that port answers so)`
      : `cannot reach Neo4j at ${conn.url}: ${why}${advice}`;
  } else if (/^authentication failed/.test(reason)) {
    refused = REFUSED_LOGIN.test(reason);
    const who = conn.token ? "the token (NEO4J_TOKEN)" : `user "${conn.username}" (NEO4J_USER / NEO4J_PASSWORD)`;
    msg = `Neo4j at ${conn.url} refused the credentials of ${who}: ${reason}`;
    if (/AuthenticationRateLimit/.test(reason)) msg += "; too many failed logins, Neo4j blocks this user for a while";
    // Set NEO4J_USER and forgot NEO4J_PASSWORD: "refused the credentials" of a password never given.
    else if (conn.defaultPassword) msg += "; NEO4J_PASSWORD is not set, so the local server's default password was sent";
    // The library says so of its own requests (lastError); cli/schema.mjs's requests say it here.
    else if (/^authentication failed: HTTP 401\b/.test(reason) && conn.password !== undefined && conn.password.trim() !== conn.password) {
      msg = msg.includes(PASSWORD_WHITE_SPACE) ? msg.replace(PASSWORD_WHITE_SPACE, NEO4J_PASSWORD_WHITE_SPACE)
        : msg.endsWith(")") ? `${msg.slice(0, -1)}; ${NEO4J_PASSWORD_WHITE_SPACE})` : `${msg} (${NEO4J_PASSWORD_WHITE_SPACE})`;
    }
  } else if (/^invalid input:/.test(reason)) {
    // The library refused an argument, e.g. a filter no event can have (`--action "Doc opened"`,
    // `--user ""`): a usage error, named by its option, not a Neo4j failure or an empty result.
    const field = /^invalid input: (?:options: )?(\w+)/.exec(reason)?.[1];
    const option = { userUid: "--user: ", actionType: "--action: ", category: "--category: ", target: "--target: " }[field] ?? "";
    return usage(`${option}${reason.replace(/^invalid input: (options: )?/, "")}`);
  } else if (/^HTTP 404\b/.test(reason)) {
    let path = "";
    try {
      path = new URL(conn.url).pathname.replace(/\/+$/, "");
    } catch {}
    if (path) {
      // The library's hint names its `url`: here that is NEO4J_URL, named with its value.
      msg = `Neo4j at ${conn.url} answered ${reason.replace("(url must", "(NEO4J_URL must").replace("this url's path", "this NEO4J_URL's path")}`;
    } else {
      // No path to blame: Neo4j serves /db/<database>/… at its base URL, so the server there is
      // not Neo4j's HTTP API (another service on that port). The library's hint (for NEO4J_URL
      // written as `url`) is replaced by one that names the setting.
      const answer = reason.replace(/ \((?:url must|the url has no path)[^]*$/, "").replace(/:\s*$/, "");
      msg = `${conn.url} is not Neo4j's HTTP API: it answered ${answer} for /db/${conn.database}/tx/commit (is NEO4J_URL Neo4j's HTTP port, 7474 by default?)`;
    }
  } else if (/^(unexpected response: )?HTTP \d{3}\b/.test(reason)) {
    // An answer with neither Neo4j's `errors` nor its `results` (those were worded above, or are a
    // statement's error): another service on that port, or a proxy's error page (its Neo4j down).
    // Said as the 404 without a path is; export, verify and tail said "reading the trail: HTTP 501:
    // <!DOCTYPE HTML> …" and schema and migrate "unexpected answer from …: HTTP 501", no hint.
    msg = `${conn.url} did not answer as Neo4j does: it answered ${reason.replace(/^unexpected response: /, "").trimEnd()} for /db/${conn.database}/tx/commit (another service on that port, or a proxy's error page: is NEO4J_URL Neo4j's HTTP port, 7474 by default, and Neo4j running behind the proxy?)`;
  } else if (/^database not found/.test(reason)) {
    msg = `${reason} at ${conn.url} (NEO4J_DATABASE)`;
  } else {
    msg = what ? `${what}: ${reason}` : reason;
  }
  return Object.assign(new CliError(msg, EXIT.NEO4J), { refusedLogin: refused });
}

/** A refused login, as the library words it (`authentication failed: HTTP 401 (…)`; Neo4j's
 * `Unauthorized`, or `AuthenticationRateLimit` while it locks the user out after failed logins):
 * the same credentials fail again, and each attempt is one more failed login for that user (not
 * `Security.Forbidden`: the login worked, a role may not read). */
const REFUSED_LOGIN = /^authentication failed: HTTP 401\b|Neo\.ClientError\.Security\.(?:Unauthorized|AuthenticationRateLimit)\b/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A time argument as epoch milliseconds: ISO 8601 (`2026-01-01`, `2026-01-01T12:00:00Z`; without an
 * offset, local time), epoch milliseconds, or an age before `now` (`90s`, `15m`, `2h`, `7d`, `1w`).
 */
export function parseInstant(option, text, now = Date.now()) {
  if (text === undefined) return undefined;
  const s = text.trim();
  // `--since " 7d"` (a quoting slip) was read as 7d, where any other stray character is refused.
  if (s !== text) throw usage(`--${option}: "${text}" is not a time (white space around it; TIME is ${TIME_FORMS})`);
  if (/^\d+$/.test(s)) {
    // Digits are epoch milliseconds, and 8 to 10 of them a time in January 1970: what was meant
    // is a date without dashes (20261205) or epoch seconds (`date +%s`). Not guessed: said.
    if (s.length >= 8 && s.length <= 10) {
      const dashed = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}`;
      let date = false;
      try {
        date = s.length === 8 && parseInstant(option, dashed, now) !== undefined;
      } catch {}
      const meant = date ? `a date? write ${dashed}` : `epoch seconds? write milliseconds, ${s}000`;
      throw usage(`--${option}: "${text}" reads as epoch milliseconds, ${new Date(Number(s)).toISOString()} (${meant}; TIME is ${TIME_FORMS})`);
    }
    // And 14 digits or more a time after the year 2286: what was meant is epoch microseconds
    // (16 digits) or nanoseconds (19, `date +%s%N`), which read as a time no event has, and the
    // export was empty (exit 0) without a word on the unit; beyond 8.64e15 not even a JavaScript
    // date. Not guessed: said.
    if (s.replace(/^0+/, "").length >= 14) {
      const digits = s.replace(/^0+/, "");
      const meant = digits.length >= 19 ? `epoch nanoseconds? write milliseconds, ${digits.slice(0, -6)}`
        : digits.length >= 16 ? `epoch microseconds? write milliseconds, ${digits.slice(0, -3)}` : "a digit too many?";
      throw usage(`--${option}: "${text}" reads as epoch milliseconds after the year 2286 (${meant}; TIME is ${TIME_FORMS})`);
    }
    return Number(s);
  }
  const age = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(s);
  if (age) return now - Math.round(Number(age[1]) * UNIT_MS[age[2]]);
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  // Only days of the calendar: V8's Date.parse rolls "2026-02-30" over to March 2.
  if (ymd && ymd[2] >= 1 && ymd[2] <= 12 && ymd[3] >= 1 && ymd[3] <= new Date(Date.UTC(ymd[1], ymd[2], 0)).getUTCDate()) {
    // Date.parse reads a date alone as UTC but a date and time without an offset as local time;
    // the help promises local time for both.
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00` : s);
    if (!Number.isNaN(t)) return t;
  }
  throw usage(`--${option}: "${text}" is not a time (${TIME_FORMS})`);
}

/** The forms of TIME (TIME_HELP), for a usage error. */
const TIME_FORMS = "ISO 8601 like 2026-01-01 or 2026-01-01T00:00:00Z, epoch milliseconds like 1767225600000, or an age like 15m, 2h, 7d";

/** A positive integer option within [min, max]. */
export function parseCount(option, text, min, max) {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw usage(`--${option}: "${text}" must be an integer from ${min} to ${max}`);
  }
  return Number(text);
}

/** The end of the "no events found" line of export and tail. With --target: an event whose
 * `targets` name a node that did not exist when it was written has no ON link to it, so the filter
 * cannot find it, while export shows that target in the event's `targets` (a puzzle without this). */
export const noEventsAdvice = (values, unnamed = "") => "(check --trail and NEO4J_DATABASE" + unnamed + (values.target === undefined ? ")"
  : `; --target finds an event only through its ON link, made when the event was written if the node ${values.target} existed then)`);

/**
 * How many HAS_EVENT links of a trail marked `indexed` carry no per-trail key, when `query` is
 * read by that key (no --user, --action, --category or --target: src/read.rs
 * `trail_statement_indexed`): links added after `neo4j-audit migrate` marked the trail, by a
 * writer other than this library (the Python log_user_action still running during the move).
 * Such a read leaves their events out; export and tail did so without a word (exit 0), while
 * `export --user` listed them. 0 when the read is filtered, the trail unmarked, or the count
 * fails (the read itself reports a failure; a count past cypher()'s 10 s bound is 0 too). A scan
 * of the trail's links (50 to 120 ms for 200 000 here), after the read.
 */
export async function unkeyedLinks(conn, trail, query) {
  if (["userUid", "actionType", "category", "target"].some((k) => query[k] !== undefined)) return 0;
  try {
    const { cypher } = await import("./schema.mjs");
    const r = await cypher(conn, "MATCH (t:AuditTrail {name: $trail}) WHERE t.indexed = true RETURN COUNT { (t)-[r:HAS_EVENT]->() WHERE r.trail IS NULL }", { trail });
    return r.error ? 0 : r.rows[0]?.[0] ?? 0;
  } catch {
    return 0;
  }
}

/** The stderr line of {@link unkeyedLinks}'s count `n` (export, tail). */
/**
 * A count and the noun (or noun and verb) it counts, singular for exactly 1: `plural(1, "event")` is
 * "1 event", `plural(0, "event")` "0 events", `plural(2, "event has", "events have")` "2 events have".
 * `which(n, "it", "them")` is the word alone, for a pronoun or verb later in the same message.
 */
export const which = (n, one, many) => (n === 1 ? one : many);
export const plural = (n, one, many = `${one}s`) => `${n} ${which(n, one, many)}`;

export const unkeyedNote = (command, n, trail) => `${command}: ${plural(n, "event")} of trail "${escapeId(trail)}" ${which(n, "is", "are")} not read here: ${which(n, "its HAS_EVENT link carries", "their HAS_EVENT links carry")} no per-trail key (added after neo4j-audit migrate marked the trail, by a writer other than this library: the Python log_user_action still running?); run neo4j-audit migrate again (--zone for local times) to key ${which(n, "it", "them")}; meanwhile --user, --action, --category or --target find ${which(n, "it", "them")}\n`;

/**
 * For a read that found no events: "; N trails without a name hold events (…)" when such trails
 * exist (the Python log_user_action's get_or_create_audit_trail_uid() node), else "". The library
 * finds a trail by name only: a migrating user's first export read "no events found in trail
 * "default" (check --trail and NEO4J_DATABASE)", both right, with the events in that node. Trails
 * are few: a scan of them. "" when the count fails (the read before it succeeded).
 */
export async function unnamedTrails(conn) {
  try {
    const { cypher } = await import("./schema.mjs");
    const r = await cypher(conn, "MATCH (t:AuditTrail) WHERE t.name IS NULL AND EXISTS { (t)-[:HAS_EVENT]->() } RETURN count(t)", {});
    const n = r.error ? 0 : r.rows[0]?.[0] ?? 0;
    return n === 0 ? "" : `; ${plural(n, "trail without a name holds", "trails without a name hold")} events (as the Python log_user_action's get_or_create_audit_trail_uid() made it), which no trail name reads: neo4j-audit migrate --status says how to name it`;
  } catch {
    return "";
  }
}

/** The filters that `export` and `tail` share, as an AuditTrailQuery (without limit/cursor). */
export function trailQuery(v, now = Date.now()) {
  const q = {};
  const since = parseInstant("since", v.since, now);
  const until = parseInstant("until", v.until, now);
  if (since !== undefined) q.since = since;
  if (until !== undefined) q.until = until;
  if (since !== undefined && until !== undefined && until <= since) {
    throw usage("--until must be later than --since");
  }
  if (v.user !== undefined) q.userUid = v.user;
  if (v.action !== undefined) q.actionType = v.action;
  if (v.category !== undefined) q.category = v.category;
  if (v.target !== undefined) q.target = v.target;
  return q;
}

export const FILTER_OPTIONS = {
  trail: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  user: { type: "string" },
  action: { type: "string" },
  category: { type: "string" },
  target: { type: "string" },
};

export const FILTER_HELP = `  --trail NAME       the trail (default "default")
  --since TIME       events at or after TIME
  --until TIME       events before TIME
  --user UID         only this user's events
  --action TYPE      only this action type (eventType)
  --category CAT     only this category
  --target LABEL:UID only events performed on this node (a target given when logging, e.g.
                     Document:doc-456; the node must have existed when the event was written)`;

export const TIME_HELP = `TIME is ISO 8601 (2026-01-01, 2026-01-01T12:00:00Z; without an offset, local time), epoch
milliseconds (1767225600000; not seconds), or an age: 90s, 15m, 2h, 7d, 1w.`;

/**
 * The trail's events, newest first, one page at a time (keyset pagination: the library's cursor
 * names the last event of a page, so pages never overlap or skip an event). A page whose answer
 * is over the library's bound on a read (docs/reading.md: 1000 events written with larger
 * details than the CLI's maxDetailsBytes, the default, allows for) is read again half as long,
 * down to one event: export and tail failed on such a trail for good, with no page size to lower.
 */
export async function* pages(logger, conn, query, pageSize = 1000) {
  let cursor = null;
  for (;;) {
    const page = await logger.getAuditTrail(cursor ? { ...query, limit: pageSize, cursor } : { ...query, limit: pageSize });
    if (!page) {
      if (pageSize > 1 && /^network error: the server's answer is larger than /.test(logger.lastError ?? "")) {
        pageSize = Math.ceil(pageSize / 2);
        continue;
      }
      throw neo4jFailure("reading the trail", logger, conn);
    }
    conn.answered = true;
    await keepExactNumbers(page.events, conn);
    yield page.events;
    cursor = page.nextCursor;
    if (!cursor) return;
  }
}

/** The stored `details` text of an event whose parsed details lost digits (see keepExactNumbers). */
const EXACT_DETAILS = Symbol("exact details");

/** Whether a parsed JSON value holds an integer beyond 2^53, which JavaScript numbers round. */
const hasUnsafeInteger = (v) => typeof v === "number" ? Number.isInteger(v) && !Number.isSafeInteger(v)
  : v !== null && typeof v === "object" && Object.values(v).some(hasUnsafeInteger);

/** JSON text without the whitespace outside its strings (Python's json.dumps spacing). */
function compactJson(text) {
  let out = "", inString = false, escaped = false;
  for (const c of text) {
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/**
 * Details may hold integers a JavaScript number cannot (a 64-bit id logged from Rust, the Worker's
 * body): the read API's parsed `details` rounds 9007199254740993 to 9007199254740992, and an export
 * would hand the auditor a different number than the one stored (and chained). For the events of a
 * page whose details hold such a number, the stored text is read back (one indexed statement per
 * such page) and kept for the output (jsonLine, csvLine, textLine), exactly as stored.
 */
async function keepExactNumbers(events, conn) {
  const lossy = events.filter((e) => hasUnsafeInteger(e.details));
  if (lossy.length === 0) return;
  const { cypher } = await import("./schema.mjs");
  const r = await cypher(conn, "MATCH (e:AuditEvent) WHERE e.UID IN $uids RETURN e.UID, e.details", { uids: lossy.map((e) => e.uid) });
  if (r.error) throw new CliError(`reading the exact details of ${plural(lossy.length, "event")} on ${conn.url}: ${r.error}`, EXIT.NEO4J);
  const stored = new Map(r.rows);
  for (const e of lossy) {
    const text = stored.get(e.uid);
    // Only the text the parsed details came from (the same value once rounded).
    if (typeof text === "string" && JSON.stringify(JSON.parse(text)) === JSON.stringify(e.details)) e[EXACT_DETAILS] = compactJson(text);
  }
}

/** An event's details as JSON text: the stored text when a number in it needs more than a
 * JavaScript number holds, else the parsed value's. */
const detailsJson = (e) => e[EXACT_DETAILS] ?? JSON.stringify(e.details);

/** Writes to a stream, waiting for 'drain' when its buffer is full (constant memory). */
export async function write(stream, text) {
  if (!stream.write(text)) await new Promise((resolve) => stream.once("drain", resolve));
}

// C0 and C1 control characters (ESC, CSI, ...), the line/paragraph separators and the bidirectional
// controls (U+202E RIGHT-TO-LEFT OVERRIDE and kin, which reorder what the operator sees): what must
// not reach an operator's terminal from stored data (tail's lines, and every stored value verify
// prints: a stream id, an event UID, a break's message).
/** One character as its `\uXXXX` escape (the same value in JSON, inert on a terminal). */
const uEscape = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
export const escapeControl = (s) => s.replace(CONTROL, uEscape);

// The characters invisible by default (Unicode's Default_Ignorable_Code_Point: U+200B ZERO WIDTH
// SPACE, U+FEFF, U+00AD, U+2060, the joiners, variation selectors and tags, the bidirectional
// controls among them): in an identifier — a uid, a trail, a stream id — they make one show as
// another ("alice\u200b" as alice). The library refuses them there (src/rules.rs), but data stored
// before that rule or by another writer may hold them: escaped in identifiers (each UTF-16 unit,
// as JSON writes it). Names and details are free text, where the joiners are part of emoji and
// scripts (Persian, Indic): only their controls are escaped.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const unitsEscape = (c) => Array.from({ length: c.length }, (_, i) => uEscape(c[i])).join("");
/** An identifier (uid, trail, stream id) for a terminal or a spreadsheet: controls and invisible
 * characters as \u escapes. */
export const escapeId = (s) => escapeControl(s).replace(INVISIBLE, unitsEscape);

/** One event as a readable line (tail): time, action, category, user, what it was performed on
 * (targets), when the user acted if that is not when it was recorded, details; controls escaped. */
export function textLine(e) {
  const user = e.userUid == null ? "-" : e.userName == null ? escapeId(e.userUid) : `${escapeId(e.userUid)} (${e.userName})`;
  const on = e.targets?.length ? `  on ${e.targets.map((t) => `${t.label}:${escapeId(t.uid)}${t.role ? ` (${t.role})` : ""}`).join(", ")}` : "";
  const occurred = e.occurredAt != null && e.occurredAt !== e.timestamp ? `  occurred ${e.occurredAt}` : "";
  const details = e.details == null ? "" : `  ${detailsJson(e)}`;
  // An event changed by hand reads its edited properties as absent (a user id replaced by a list
  // is no user, "-"): said at the end of its line, after the details' JSON value, so stored data
  // cannot imitate it, as the JSON lines' `invalid` and the CSV's column say it.
  const invalid = e.invalid?.length ? `  INVALID: ${e.invalid.join(", ")} (changed outside the library: neo4j-audit verify)` : "";
  return escapeControl(`${e.timestamp}  ${e.actionType}  ${e.category}  ${user}${on}${occurred}${details}${invalid}`) + "\n";
}

// What JSON.stringify leaves raw that a terminal acts on or reorders: DEL, the C1 controls (U+009B
// is CSI, ESC's 8-bit twin), the bidirectional controls and the line/paragraph separators. In a
// JSON text they can only stand inside strings, where \uXXXX is the same value: escaped, a JSON
// line read by a program is unchanged, and one shown on a terminal cannot drive it.
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const escapeJsonRaw = (text) => text.replace(JSON_RAW, uEscape);
/** JSON.stringify(v), with the characters of JSON_RAW written as \u escapes. */
export const jsonText = (v) => escapeJsonRaw(JSON.stringify(v));

/** One event as a JSON line: the library's event object as is (its details' numbers as stored). */
export const jsonLine = (e) => (e[EXACT_DETAILS] === undefined ? jsonText(e)
  // `"details":null` is only ever the key: in a string value its quotes would be escaped.
  : jsonText({ ...e, details: null }).replace('"details":null', () => `"details":${escapeJsonRaw(e[EXACT_DETAILS])}`)) + "\n";

/** CSV columns: the read API's fields in its order (an event's keys, as the JSON lines carry them;
 * docs/reading.md), every one of them, since a CSV row has all columns; `details`, `targets`
 * (`[{label, uid, role}]`, empty when the event has none) and `invalid` (the read API's list of
 * the properties changed by hand, empty on a well-formed event: without it such an event's
 * edited cells read as genuinely empty) are their JSON text. */
export const CSV_COLUMNS = ["uid", "actionType", "category", "timestamp", "ts", "userUid", "userName",
  "details", "streamId", "seq", "prevHash", "hash", "source", "occurredAt", "targets", "invalid"];

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled; null is an empty field.
// A text cell a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a CR, also
// after white space: the user's name, an action type, details) gets a leading apostrophe, which spreadsheets show as text
// (OWASP's CSV-injection advice); numbers stay numbers. Bidirectional controls (U+202A..U+202E,
// U+2066..U+2069, U+200E, U+200F, U+061C), which reorder what a spreadsheet shows (a name that reads
// "alice" and is not, a cell whose "=" is hidden behind an override), are written as the six
// characters \u202e, in any cell: in the JSON of details and targets that is the same JSON value,
// elsewhere visible text. So are, in a text cell, the controls the JSON cells have escaped: C0 but
// TAB, CR and LF (CSV's own data, quoted), DEL, C1 and U+2028/U+2029 (an ESC sequence in a stored
// value drove the terminal a CSV was shown on). `raw` (export --csv-raw) writes values as stored.
// Also behind leading white space or invisible characters (a space, NBSP, U+3000, a zero-width space,
// a BOM: a user name may start with them), which a spreadsheet may trim before it reads the cell.
const FORMULA_START = /^[\s\p{Default_Ignorable_Code_Point}]*[=+\-@\t\r]/u;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;
// The identifier columns (and targets, whose JSON holds uids) also get the invisible characters
// escaped (escapeId).
const ID_COLUMNS = new Set(["uid", "userUid", "streamId", "targets"]);
function csvField(v, raw, text = typeof v === "string", id = false) {
  if (v == null) return "";
  let s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  if (!raw) {
    // A JSON cell (details, targets) also gets the C1 controls and separators escaped (jsonText).
    s = text ? s.replace(TEXT_CONTROL, uEscape) : escapeJsonRaw(s);
    s = s.replace(BIDI, uEscape);
    if (id) s = s.replace(INVISIBLE, unitsEscape);
    if (text && FORMULA_START.test(s)) s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
export const csvHeader = () => CSV_COLUMNS.join(",") + "\r\n";
export const csvLine = (e, raw = false) =>
  CSV_COLUMNS.map((c) => (c === "details" && e.details != null ? csvField(detailsJson(e), raw, false) : csvField(e[c], raw, typeof e[c] === "string", ID_COLUMNS.has(c)))).join(",") + "\r\n";

/**
 * A spinner with the elapsed time on stderr, only when stderr is a terminal. `label` is a string or a
 * function called at each frame. Returns stop(), which clears the line.
 */
export function progress(label, stream = process.stderr) {
  if (!stream.isTTY) return () => {};
  const frames = "|/-\\";
  const t0 = Date.now();
  let i = 0;
  const draw = () => stream.write(`\r${frames[i++ % frames.length]} ${typeof label === "function" ? label() : label} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  draw();
  const timer = setInterval(draw, 100);
  return () => {
    clearInterval(timer);
    stream.write("\r\x1b[2K");
  };
}
