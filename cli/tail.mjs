// `neo4j-audit tail`: the newest events, oldest of them first; with --follow, polls for new ones
// until interrupted.
import { noEventsAdvice, unnamedTrails, ENV_HELP, EXIT, EXIT_HELP, jsonLine, openLogger, pages, parseCount, textLine, trailQuery, unkeyedLinks, unkeyedNote, usage, write }
  from "./common.mjs";

export const summary = "the newest events; --follow polls for new ones";

/** How far behind the newest event seen --follow looks for late arrivals (batched or retried writes). */
export const LOOKBACK_MS = 10_000;

export const help = `Usage: neo4j-audit tail [--trail NAME] [-n N] [--follow] [--interval SECONDS]
                        [--user UID] [--action TYPE] [--category CAT] [--target LABEL:UID]
                        [--format text|jsonl]

Prints the trail's newest N events, oldest of them first. With --follow, keeps polling and prints
each new event once, until interrupted (Ctrl-C, SIGTERM: exit status 0): each poll's new events
in time order, and between polls in the order they arrive (an event committed after a newer one
was printed, by a writer's batch or retry, comes after it); a poll
that fails after the first read (Neo4j restarting) is reported once on stderr ("…; retrying")
and tried again at the next interval, so --follow does not exit on it (the first read's failure
exits 3); the first poll that answers again says "Neo4j answered again; following". Refused
credentials (a password changed meanwhile, an expired NEO4J_TOKEN, Neo4j's lock-out after failed
logins) end --follow with exit 3 and no further request: polling on with them would keep Neo4j
locking the user out.
An event committed with a timestamp more than ${LOOKBACK_MS / 1000} s older than the newest event seen (e.g.
delivered by a writer's retries more than that after it happened, while Neo4j was unreachable or
busy, or re-sent from a browser's durable queue long after) is not shown by --follow; export
--since finds it. "Newest" goes no further than this machine's clock: an event dated in the
future is shown once and hides nothing written after it.

Options:
  --trail NAME          the trail (default "default")
  -n, --lines N         how many events, 0..10000 (default 10)
  -f, --follow          keep polling for new events
  --interval SECONDS    time between polls with --follow (default 2; only with --follow)
  --user UID            only this user's events
  --action TYPE         only this action type (eventType)
  --category CAT        only this category
  --target LABEL:UID    only events performed on this node (e.g. Document:doc-456)
  --format FORMAT       text (default): time (recorded), action, category, user (name), "on" the
                        targets (Label:uid (role)), "occurred" when the user acted if that differs
                        (a Worker-written event that waited in a queue), details as JSON, then
                        "INVALID: <properties>" for an event changed by hand (they read as
                        absent), with control characters escaped; jsonl: one JSON object per
                        line, as export
  -h, --help            this help

${ENV_HELP}

${EXIT_HELP}`;

export const options = {
  trail: { type: "string" },
  lines: { type: "string", short: "n" },
  follow: { type: "boolean", short: "f" },
  interval: { type: "string" },
  user: { type: "string" },
  action: { type: "string" },
  category: { type: "string" },
  target: { type: "string" },
  format: { type: "string" },
};

/** Why --follow ends at refused credentials instead of polling on. */
const REFUSED_AGAIN = "each poll would send these credentials again, one more failed login every interval, which keeps Neo4j locking the user out (its other clients too); run tail again with the current ones";

/** Ascending (ts, uid): the order in which events are printed. */
const byTime = (a, b) => a.ts - b.ts || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);

export async function run(values, { conn, stdout, stderr, signal }) {
  const n = parseCount("lines", values.lines, 0, 10_000) ?? 10;
  const format = values.format ?? "text";
  if (format !== "text" && format !== "jsonl") throw usage(`--format: "${format}" must be text or jsonl`);
  let intervalMs = 2000;
  if (values.interval !== undefined) {
    const s = Number(values.interval);
    if (!(s >= 0.1 && s <= 3600) || values.interval.trim() !== values.interval) throw usage(`--interval: "${values.interval}" must be a number of seconds from 0.1 to 3600`);
    intervalMs = Math.round(s * 1000);
    // Without --follow it did nothing, and a missing -f went unnoticed.
    if (!values.follow) throw usage("--interval is the time between --follow's polls: give -f / --follow too, or leave --interval out");
  }
  const filters = trailQuery(values);
  const logger = openLogger(conn, values.trail);
  const line = format === "jsonl" ? jsonLine : textLine;

  // With --follow, what is already in the look-back window counts as seen before the first poll.
  // After each poll it holds what that window found: an event is forgotten only once the window
  // (which only moves forward) no longer finds it. Forgetting by the event's ts printed an event
  // again at every poll while a trail's window still found it by its link's written time: one
  // whose timestamp was changed by hand (ts 0, invalid: ["timestamp"]), or whose link's time was
  // moved ahead (for as long as it was ahead).
  const seen = new Set();
  // The newest time seen, never ahead of this machine's clock: an event dated in the future (a
  // client's clock ahead, or a hand-made timestamp) is printed once and must not move the window
  // past every event written after it. It starts at the newest event's time, not at this
  // machine's clock: a writer whose clock is behind it (or was set back) dates its events before
  // "now", and a window 10 s behind "now" skipped every event it wrote until the clocks met.
  // None yet (no event matches): the window has no lower bound until one is seen. Events whose
  // time is not a DateTime (ts 0, read first: the Python writer's, or changed by hand) say
  // nothing of the time; a first page of nothing else falls back to this machine's clock.
  let highWater = -Infinity;
  const advance = (ts) => {
    if (ts > highWater) highWater = Math.max(highWater, Math.min(ts, Date.now()));
  };
  const readWindow = async () => {
    const got = [];
    const window = highWater === -Infinity ? filters : { ...filters, since: highWater - LOOKBACK_MS };
    for await (const events of pages(logger, conn, window)) got.push(...events);
    return got;
  };
  if (values.follow) {
    for await (const events of pages(logger, conn, filters, 100)) {
      const dated = events.find((e) => !e.invalid?.includes("timestamp"));
      advance(dated ? dated.ts : events.length ? Date.now() : -Infinity);
      break;
    }
    for (const e of await readWindow()) seen.add(e.uid);
  }

  // -n 0 still reads one page (of one event, printed by no one): a wrong NEO4J_URL, password or
  // database fails here (exit 3) instead of passing unnoticed.
  const newest = [];
  for await (const events of pages(logger, conn, filters, Math.max(1, Math.min(n, 1000)))) {
    newest.push(...events.slice(0, n - newest.length));
    if (newest.length >= n) break;
  }
  newest.reverse();
  if (newest.length) await write(stdout, newest.map(line).join(""));
  else if (n > 0) {
    // As export: a mistyped --trail or database must not look like a quiet trail.
    stderr.write(`tail: no events found in trail "${values.trail ?? "default"}" at ${conn.url} (database ${conn.database})${Object.keys(filters).length ? " with these filters" : ""} ${noEventsAdvice(values, await unnamedTrails(conn))}${values.follow ? "; following" : ""}\n`);
  }
  // Links these reads cannot see (a marked trail's links without the key, added by another
  // writer; --follow does not see those it adds later either).
  const missed = await unkeyedLinks(conn, values.trail ?? "default", filters);
  if (missed > 0) stderr.write(unkeyedNote("tail", missed, values.trail ?? "default"));
  if (!values.follow) return EXIT.OK;

  for (const e of newest) {
    seen.add(e.uid);
    advance(e.ts);
  }
  signal = stopWhenNpxIsGone(signal);
  let lastWarning = null;
  while (!signal.aborted) {
    await sleep(intervalMs, signal);
    if (signal.aborted) break;
    let got;
    try {
      got = await readWindow();
      // After "…; retrying", say that it recovered: that line last on stderr read as still failing.
      if (lastWarning !== null) stderr.write("neo4j-audit tail: Neo4j answered again; following\n");
      lastWarning = null;
    } catch (e) {
      // Refused credentials (a password rotated while tail runs, a token expired) end it, with no
      // further request: each poll sent them again, one failed login every interval, and Neo4j
      // locks a user out after a few (3 failures: 5 s), so the lock never ended and every
      // application logger of that user failed with HTTP 429 AuthenticationRateLimit.
      if (e.refusedLogin) {
        e.message += `; --follow stops: ${REFUSED_AGAIN}`;
        throw e;
      }
      // A poll that fails (Neo4j restarting, network) is reported once and retried at the next one;
      // again only when the failure changes kind (a dropped connection's wording varies with the
      // moment it dropped: "other side closed", "ECONNRESET", … is one outage, said once).
      const kind = e.message.replace(/: network error: [\s\S]*$/, ": network error");
      if (kind !== lastWarning) stderr.write(`neo4j-audit tail: ${e.message}; retrying\n`);
      lastWarning = kind;
      continue;
    }
    const fresh = got.filter((e) => !seen.has(e.uid)).sort(byTime);
    for (const e of got) advance(e.ts);
    seen.clear();
    for (const e of got) seen.add(e.uid);
    if (fresh.length) await write(stdout, fresh.map(line).join(""));
  }
  return EXIT.OK;
}

/**
 * Under `npx` (npm exec sets npm_command=exec) a SIGTERM sent to npx's process alone ends npx and
 * is not passed on: --follow went on polling as an orphan for ever. Its parent gone, it stops as
 * if interrupted. Run directly (not under npx), a changed parent is left alone (`nohup … &`).
 */
function stopWhenNpxIsGone(signal) {
  if (process.env.npm_command !== "exec" || !AbortSignal.any) return signal;
  const parent = process.ppid;
  const stop = new AbortController();
  const check = setInterval(() => {
    if (process.ppid !== parent) stop.abort();
  }, 500);
  check.unref();
  const both = AbortSignal.any([signal, stop.signal]);
  both.addEventListener("abort", () => clearInterval(check), { once: true });
  return both;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
