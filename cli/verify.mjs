// `neo4j-audit verify`: hash-chain verification of a trail (the library's verifyTrail), modelled on
// `aws cloudtrail validate-logs`: a result per stream, the first break named, non-zero exit on any.
import { readFileSync } from "node:fs";
import { EXIT, ENV_HELP, EXIT_HELP, TIME_HELP, escapeId, jsonText, neo4jFailure, openLogger, unnamedTrails, parseInstant, plural, progress, usage, write } from "./common.mjs";
import { version } from "./core.mjs";

export const summary = "verify the trail's hash chains; exit 1 on any break";

export const help = `Usage: neo4j-audit verify [--trail NAME] [--since TIME] [--stream ID] [--public-key KEY [--allow-unsigned]] [--require-bound] [--anchor HEAD] [--allow-empty] [--json]

Reads the trail's events back and checks every stream's hash chain (see docs/tamper-evidence.md in the package).
Prints one line per stream — intact, with its head seq and hash (anchor the head elsewhere to
detect a rewritten or truncated stream), or the first break: edited, deleted, inserted or
reordered (forged: moved in from another trail), with the seq and the event's UID — and the
events that carry no chain fields. A stream whose id is a plain UUID (begun before stream ids
were bound to their trail) verifies but is marked "not bound to the trail": it could have been
moved here from another trail unseen.
Finding no events at all (a mistyped --trail, a --since or --stream that matches nothing) is
not a verified trail: it exits 1 ("nothing verified") unless --allow-empty; a stream with no
event in the --since window found intact at its --anchor was read there. A trail that is not
intact ends with what to do about it.
On a terminal, stderr shows a spinner while it reads.

Options:
  --trail NAME       the trail (default "default")
  --since TIME       only events at or after TIME (each stream checked from its event before)
  --stream ID        only this stream (streamId); a stream id bound to another trail: exit 2
  --public-key KEY   trust these Ed25519 keys and check the Worker's signatures: KEY is a file
                     (or inline JSON) holding what the Worker's GET /v1/keys answers (a JWK Set),
                     a list of JWKs or one JWK. With keys, every stream must be signed (a break
                     "forged" or "unsigned" otherwise) and the trail's signed head must match
  --allow-unsigned   with --public-key: streams without any signature (direct client writes)
                     do not fail the check
  --require-bound    strict: a stream not bound to the trail (plain-UUID id) fails as "unbound"
  --anchor HEAD      heads kept outside the database, as a file or inline JSON: {streamId, seq,
                     hash} (the library's chainHead()) or a list of them, or an earlier --json
                     report of this command for this --trail (its intact streams' headSeq
                     and headHash; another trail's report or heads: exit 2). Each
                     stream must still hold that seq with that hash: "deleted" when its
                     newest events were cut off before it, "forged" when it was rewritten up to it
                     (the only check that catches a consistently re-hashed unsigned stream)
  --allow-empty      exit 0 when no events are found (an empty trail or window passes)
  --json             print the report as JSON: {trail, ok, checked, streams: [{streamId, ok,
                     bound, checked, headSeq, headHash, firstBreak: {kind, seq, uid, message}}],
                     unchained, unchainedUids}; ok is this command's verdict (false
                     when nothing was found, unless --allow-empty). A BROKEN stream also
                     carries "anchor": {seq, hash}, the newest head --anchor gave for it, which
                     a later --anchor run checks again (its own head is the damaged one); a
                     --since run anchored on a report that found a stream BROKEN reports it
                     BROKEN again ("carriedBreak": true) unless it finds a break itself
  -h, --help         this help

${TIME_HELP}

${ENV_HELP}

${EXIT_HELP}`;

export const options = {
  trail: { type: "string" },
  since: { type: "string" },
  stream: { type: "string" },
  "public-key": { type: "string" },
  "allow-unsigned": { type: "boolean" },
  "require-bound": { type: "boolean" },
  anchor: { type: "string" },
  "allow-empty": { type: "boolean" },
  json: { type: "boolean" },
};


export async function run(values, { conn, stdout, stderr, outcome = {} }) {
  const query = {};
  const since = parseInstant("since", values.since);
  if (since !== undefined) query.since = since;
  if (values.stream !== undefined) query.streamId = values.stream;
  if (values["public-key"] !== undefined) query.publicKeys = readKeys(values["public-key"]);
  if (values["allow-unsigned"]) {
    if (query.publicKeys === undefined) throw usage("--allow-unsigned needs --public-key");
    query.allowUnsigned = true;
  }
  if (values["require-bound"]) query.requireBound = true;
  // Streams the --anchor report found BROKEN: see carryBroken.
  let broken = [];
  const trail = values.trail ?? "default";
  if (values.anchor !== undefined) ({ anchors: query.anchors, broken } = readAnchors(values.anchor, trail));
  const logger = openLogger(conn, values.trail);

  const stop = progress(`verifying trail "${trail}"`, stderr);
  let report;
  try {
    report = await logger.verifyTrail(query);
  } finally {
    stop();
  }
  if (!report) {
    if (query.publicKeys !== undefined && /^invalid input: (options|publicKeys)/.test(logger.lastError ?? "")) {
      throw usage(`--public-key: ${logger.lastError.replace(/^invalid input: (options: )?/, "")}`);
    }
    if (query.streamId !== undefined && /^invalid input: (options: )?streamId/.test(logger.lastError ?? "")) {
      throw usage(`--stream: ${logger.lastError.replace(/^invalid input: (options: )?(streamId: )?/, "")}`);
    }
    if (query.anchors !== undefined && /^invalid input: (options: )?anchors/.test(logger.lastError ?? "")) {
      throw usage(`--anchor: ${logger.lastError.replace(/^invalid input: (options: )?(anchors: )?/, "")}`);
    }
    throw neo4jFailure("verifying the trail", logger, conn);
  }

  // A stream with no event in a --since window that passed its --anchor check (its anchored
  // event still there, with that hash) keeps that anchor as its head: a report passed to the
  // next run's --anchor carries it forward. Without it, one quiet day dropped the stream from a
  // nightly "--since 1d --anchor yesterday.json" rotation for good, and a later cut went unseen.
  let atAnchor = 0;
  for (const s of report.streams) {
    if (!s.ok || s.headSeq != null || !query.anchors) continue;
    const mine = query.anchors.filter((a) => a && a.streamId === s.streamId && Number.isSafeInteger(a.seq));
    const newest = mine.reduce((m, a) => (m === undefined || a.seq > m.seq ? a : m), undefined);
    if (newest) {
      Object.assign(s, { headSeq: newest.seq, headHash: newest.hash });
      atAnchor++;
    }
  }
  carryBroken(report, query, broken);
  // Nothing read is nothing verified: `--trail typo` must not pass as intact.
  // (--stream ID of no stored stream is reported as a stream of 0 events: empty too.) A stream
  // intact at its anchor was read: its anchored event is in this trail, with that hash (an anchor
  // not found there is a break), so a quiet night of a one-stream trail is not "nothing verified".
  const empty = report.checked === 0 && report.unchained === 0 && atAnchor === 0;
  const ok = report.ok && (!empty || values["allow-empty"] === true);
  // The verdict is the status even if the report cannot be written (its reader gone).
  outcome.code = ok ? EXIT.OK : EXIT.BROKEN;
  if (values.json) {
    await write(stdout, jsonText({ trail, ...report, ok }) + "\n");
    return ok ? EXIT.OK : EXIT.BROKEN;
  }

  // Stream ids, event UIDs and break messages are stored data (any writer of the database, or a
  // direct client, chooses them): printed raw, an ESC sequence in a stream id could hide the
  // verdict line or draw a fake "intact" one on the auditor's terminal. Escaped as tail escapes
  // (the trail and stream given are too: a script may take them from the database).
  const shown = (v) => escapeId(String(v));
  const scope = [since !== undefined && `since ${new Date(since).toISOString()}`,
    query.streamId !== undefined && `stream ${shown(query.streamId)}`].filter(Boolean);
  let out = `verify: trail "${shown(trail)}" at ${conn.url} (database ${conn.database})${scope.length ? `, ${scope.join(", ")}` : ""}\n`;
  for (const s of report.streams) {
    const id = shown(s.streamId);
    if (s.ok && s.checked === 0 && s.headSeq != null) {
      out += `  stream ${id}  no events in the window; intact at its anchor, seq ${s.headSeq} hash ${s.headHash}\n`;
    } else if (s.ok && s.checked === 0) {
      out += `  stream ${id}  no events found\n`;
    } else if (s.ok) {
      const unbound = s.bound ? "" : " (not bound to the trail: a plain-UUID stream id; --require-bound refuses it)";
      // With keys, say what vouches for the stream: its signature, or nothing (--allow-unsigned).
      const signed = query.publicKeys === undefined ? ""
        : s.signedSeq != null ? `, signed up to seq ${s.signedSeq}`
        : ", UNSIGNED (tolerated by --allow-unsigned: no signature vouches for it)";
      out += `  stream ${id}  intact  ${plural(s.checked, "event")}, head seq ${s.headSeq} hash ${s.headHash}${signed}${unbound}\n`;
    } else {
      const b = s.firstBreak;
      const carried = s.carriedBreak ? " (found BROKEN by the --anchor report; this run did not read the stream from its start)" : "";
      out += `  stream ${id}  BROKEN  ${b.kind} at seq ${b.seq}${b.uid ? `, event ${shown(b.uid)}` : ""}: ${shown(b.message)}${carried}\n`;
    }
  }
  if (report.unchained > 0) {
    const listed = report.unchainedUids.slice(0, 10).map(shown);
    const more = report.unchained > listed.length ? `, … (${report.unchained - listed.length} more)` : "";
    out += `  ${plural(report.unchained, "event")} without chain fields or not linked as written (inserted, written before chaining, or its trail link edited): ${listed.join(", ")}${more}\n`;
  }
  const brokenNow = report.streams.filter((s) => !s.ok).length;
  const counts = `${plural(report.streams.length, "stream")}, ${plural(report.checked, "event")} checked`;
  if (report.ok && !ok) {
    out += `verify: ${counts}: NOTHING VERIFIED: no events found in trail "${shown(trail)}" (check --trail / --since / --stream and NEO4J_DATABASE; --allow-empty accepts an empty result${await unnamedTrails(conn)})\n`;
  } else if (report.ok) {
    const unsigned = query.publicKeys === undefined ? 0 : report.streams.filter((s) => s.checked > 0 && s.signedSeq == null).length;
    const note = unsigned ? ` (${plural(unsigned, "stream")} UNSIGNED, tolerated by --allow-unsigned)` : "";
    const anchored = report.checked === 0 && atAnchor > 0 ? (atAnchor > 1 ? " at their anchors" : " at its anchor") : "";
    out += `verify: ${counts}: intact${anchored}${empty ? " (no events found; --allow-empty)" : ""}${note}\n`;
    // What "intact" covers when nothing outside the database vouches for the heads (README, What
    // a chain does not protect against): an auditor reads it as proof of more than it is.
    // An --anchor without a head (`[]`, a report whose streams gave none) vouches for nothing.
    if (!empty && query.publicKeys === undefined && !query.anchors?.length) {
      out += "note: the events agree with their hash chains; whoever can write to this database could still rewrite a whole stream and re-hash it: to rule that out, check the Worker's signatures (--public-key) or heads kept outside the database (--anchor, e.g. an earlier --json report)\n";
    }
  } else {
    const what = [brokenNow && `${plural(brokenNow, "stream")} broken`, report.unchained && `${plural(report.unchained, "unchained event")}`].filter(Boolean);
    out += `verify: ${counts}: NOT intact (${what.join(", ")})\n`;
    // What the reader of the report does next, in words that need no knowledge of the chain.
    if (brokenNow) {
      // A signature that does not verify is also what a wrong or outdated --public-key gives.
      const keyFirst = query.publicKeys !== undefined && report.streams.some((s) => !s.ok && /signature/.test(s.firstBreak?.message ?? ""))
        ? "first make sure --public-key holds the Worker's keys (its GET /v1/keys, every key it signed with): a wrong key fails every signature; then " : "";
      out += `what to do: ${keyFirst}do not rely on a BROKEN stream's events from its break on (they were edited, deleted, inserted or moved after they were written); compare them with an export or backup kept outside this database, check who could write to it, and keep this report (--json) as evidence\n`;
      // A stream without any signature from its first event on: a client's direct writes, which
      // --allow-unsigned is for (the advice above names only a wrong key).
      if (query.publicKeys !== undefined && !query.allowUnsigned
        && report.streams.some((s) => !s.ok && s.firstBreak?.kind === "unsigned" && s.firstBreak.seq === 0)) {
        out += "what to do: a stream UNSIGNED from its first event (seq 0) has no valid signature at all: a stream a client wrote directly, not through the Worker, is never signed, and --allow-unsigned lets such streams pass (the Worker's own stream must still be signed); one the Worker wrote points at the key (above)\n";
      }
      if (report.streams.some((s) => s.carriedBreak)) {
        out += "what to do: a stream the --anchor report found BROKEN stays BROKEN in every --since run anchored on it (the window no longer reads the break); a run without --since that reads the stream intact from its start, at its anchor too, clears it\n";
      }
    }
    // An event listed unchained that is also a BROKEN stream's edited event is a chained event
    // changed by hand (its timestamp made text, its trail link moved): not one from before
    // chaining, and --since is no remedy for it (a timestamp that is not a DateTime puts it in
    // every window: docs/tamper-evidence.md). The advice offered --since for it.
    const editedUids = new Set(report.streams.filter((s) => !s.ok && s.firstBreak?.kind === "edited" && s.firstBreak.uid).map((s) => s.firstBreak.uid));
    const edited = report.unchainedUids.filter((u) => editedUids.has(u));
    if (edited.length > 0) {
      out += `what to do: ${edited.map(shown).join(", ")} (listed unchained, and as a BROKEN stream's edited event above) was changed outside the library after it was written: treat it as that stream's break; --since does not leave it out (an event whose timestamp is not a DateTime is in every --since window)\n`;
    }
    if (report.unchained > edited.length && since !== undefined) {
      out += "what to do: the events listed are in this --since window (their timestamp or trail link's time is in it, or is not a DateTime, which puts an event in every --since window: changed by hand, or the Python log_user_action's not converted by neo4j-audit migrate), so a later --since is no remedy: look each up by its UID (one listed as elementId:ID, whose UID is not a string, with MATCH (ev) WHERE elementId(ev) = 'ID' RETURN ev) and compare it with an export or backup kept outside this database\n";
    } else if (report.unchained > edited.length) {
      out += "what to do: events written before chaining (by the Python log_user_action, or an older version) can never be verified: verify from the cut-over on (--since TIME) once neo4j-audit migrate has converted their times (an event whose timestamp is not a DateTime is in every --since window); any other event listed was added, or its trail link changed, outside the library: look it up by its UID (one listed as elementId:ID, whose UID is not a string, with MATCH (ev) WHERE elementId(ev) = 'ID' RETURN ev)\n";
    }
  }
  await write(stdout, out);
  return ok ? EXIT.OK : EXIT.BROKEN;
}

/** The JSON of option `flag`: `arg` itself when it starts like JSON, else the file it names. */
function readJsonArg(flag, arg, expected) {
  let text = arg;
  if (!arg.trimStart().startsWith("{") && !arg.trimStart().startsWith("[")) {
    try {
      text = readFileSync(arg, "utf8");
    } catch (e) {
      // A URL is not fetched: what is trusted is the copy the auditor saved (and pinned), as the
      // README's `curl https://…/v1/keys > keys.json` does; say so rather than ENOENT.
      const url = /^https?:\/\//i.test(arg.trim()) ? `; a URL is not fetched: save it first (curl -s ${arg.trim()} > ${flag === "--public-key" ? "keys" : "anchor"}.json) and give the file` : "";
      throw usage(`${flag}: ${arg} is neither JSON nor a readable file (${e.code ?? e.message})${url}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw usage(`${flag}: not JSON (expected ${expected})`);
  }
}

/** The heads of --anchor: a file or inline JSON holding one {streamId, seq, hash}, a list of them,
 *  or an earlier --json report (the head of each intact stream in it, and each BROKEN stream's
 *  carried `anchor`). `broken`: the report's BROKEN streams (see carryBroken). */
function readAnchors(arg, trail) {
  const heads = readJsonArg("--anchor", arg, "{streamId, seq, hash} or a list of them");
  if (heads && Array.isArray(heads.streams)) {
    // Another trail's report: its streams are not this trail's, so each would be "cut off".
    if (typeof heads.trail === "string" && heads.trail !== trail) {
      throw usage(`--anchor: the report is of trail ${JSON.stringify(heads.trail)}, not ${JSON.stringify(trail)} (--trail)`);
    }
    const anchors = [];
    const broken = [];
    for (const s of heads.streams) {
      if (s && s.ok && s.headSeq != null) anchors.push({ streamId: s.streamId, seq: s.headSeq, hash: s.headHash });
      if (s && s.ok === false && typeof s.streamId === "string" && s.firstBreak) {
        broken.push(s);
        if (s.anchor) anchors.push({ streamId: s.streamId, seq: s.anchor.seq, hash: s.anchor.hash });
      }
    }
    return { anchors, broken, trail: heads.trail };
  }
  return { anchors: Array.isArray(heads) ? heads : [heads], broken: [] };
}

/** A stream that the --anchor report found BROKEN is not carried forward as an intact one:
 *  - it keeps its last good anchor (`anchor`: the newest head it was given for it, which the report
 *    passed to the next --anchor checks again), so a later cut of it is still seen: a broken
 *    stream's own head is the damaged one and is never taken as an anchor;
 *  - a run that did not read it from its start (--since) reports it BROKEN again, with the earlier
 *    break (`carriedBreak: true`), when it found nothing itself: a nightly `--since 1d` run
 *    no longer reads the break, and the stream passed (or, quiet, was not listed) from the next
 *    night on. A run without --since reads the whole stream: its verdict stands. */
function carryBroken(report, query, broken) {
  const newestAnchor = (id) => (query.anchors ?? []).filter((a) => a && a.streamId === id && Number.isSafeInteger(a.seq))
    .reduce((m, a) => (m === undefined || a.seq > m.seq ? a : m), undefined);
  for (const s of report.streams) {
    if (s.ok) continue;
    const a = newestAnchor(s.streamId);
    if (a) s.anchor = { seq: a.seq, hash: a.hash };
  }
  if (query.since === undefined) return;
  for (const b of broken) {
    if (query.streamId !== undefined && query.streamId !== b.streamId) continue;
    let s = report.streams.find((x) => x.streamId === b.streamId);
    if (s && !s.ok) continue;
    if (!s) {
      s = { streamId: b.streamId, ok: true, bound: b.bound === true, checked: 0, headSeq: null, headHash: null, firstBreak: null };
      const at = report.streams.findIndex((x) => x.streamId > b.streamId);
      report.streams.splice(at < 0 ? report.streams.length : at, 0, s);
    }
    const { kind, seq, uid, message } = b.firstBreak;
    Object.assign(s, { ok: false, firstBreak: { kind, seq, uid: uid ?? null, message }, carriedBreak: true });
    const a = b.anchor ?? newestAnchor(b.streamId);
    if (a) s.anchor = { seq: a.seq, hash: a.hash };
    report.ok = false;
  }
}

/** The trusted keys of --public-key: a file or inline JSON holding a JWK Set, a list of JWKs or
 *  one JWK (what the Worker's GET /v1/keys publishes). */
function readKeys(arg) {
  const keys = readJsonArg("--public-key", arg, "a JWK Set, a list of JWKs or one JWK");
  if (Array.isArray(keys) || (keys && Array.isArray(keys.keys))) return keys;
  if (keys && typeof keys === "object" && "keys" in keys) {
    throw usage('--public-key: expected a JWK Set, a list of JWKs or one JWK ("keys" must be a list of JWKs)');
  }
  if (keys && typeof keys === "object") return [keys];
  throw usage("--public-key: expected a JWK Set, a list of JWKs or one JWK");
}
