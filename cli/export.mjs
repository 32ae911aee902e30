// `neo4j-audit export`: a trail streamed to stdout for a SIEM or an auditor — page by page through
// the library's keyset cursor, each page written before the next is read and stdout's backpressure
// respected, so memory stays flat however long the trail.
import { closeSync, fchmodSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { noEventsAdvice, plural, unnamedTrails, CSV_COLUMNS, CliError, ENV_HELP, EXIT, EXIT_HELP, FILTER_HELP, FILTER_OPTIONS, TIME_HELP, csvHeader, csvLine, jsonLine,
  openLogger, pages, parseCount, progress, trailQuery, unkeyedLinks, unkeyedNote, usage } from "./common.mjs";

export const summary = "stream a trail to stdout as JSON lines or CSV";

export const help = `Usage: neo4j-audit export [--trail NAME] [--since TIME] [--until TIME] [--user UID]
                          [--action TYPE] [--category CAT] [--target LABEL:UID] [--format jsonl|csv] [--csv-raw] [--bom]
                          [--page-size N] [--output FILE]

Writes the trail's events to stdout, newest first (the index order of the read side), read in
keyset-paginated pages: pages never overlap or skip an event, even while events are being written,
and memory stays constant however many events there are.

Options:
${FILTER_HELP}
  --format FORMAT    jsonl (default): one JSON object per line, the fields of the read API
                     (uid, actionType, category, timestamp, ts, userUid, userName, details,
                     streamId, seq, prevHash, hash, source, occurredAt, and targets and invalid
                     when the event has them); csv: RFC 4180 with a header row, every one of
                     those fields a column, in the same order:
                     ${CSV_COLUMNS.join(",")}
                     (details and targets as JSON text, an absent value as an empty field; invalid:
                     the properties of an event changed by hand, as JSON text, empty when none). A text cell
                     that starts with =, +, -, @, a tab or a CR (which a spreadsheet would run
                     as a formula) is written with a leading ' so it opens as text; a
                     bidirectional control (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F,
                     U+061C) is written as the text \\u202e (the same value in the JSON columns),
                     as is any other control character but tab, CR and LF (ESC: \\u001b)
  --csv-raw          csv: write every value exactly as stored, without these changes (for a
                     program that reads the CSV, not a spreadsheet)
  --bom              csv: start with a UTF-8 byte order mark, for Excel, which reads a CSV
                     without one in the system's code page ("Ü" shows as "Ãœ"); without it (the
                     default) the output is plain UTF-8, as RFC 4180 readers expect
  --page-size N      events per read, 1..1000 (default 1000)
  -o, --output FILE  write to FILE instead of stdout: to FILE.partial while exporting, renamed
                     to FILE (replacing it) once the export is complete; cut short (Neo4j down,
                     Ctrl-C) what was written stays in FILE.partial, named on stderr, and FILE is
                     not written, so a file that looks complete is complete (with "> FILE" it
                     ends at a whole row: only the exit status and stderr say it is not)
  -h, --help         this help

${TIME_HELP}

${ENV_HELP}

${EXIT_HELP}`;

export const options = { ...FILTER_OPTIONS, format: { type: "string" }, "csv-raw": { type: "boolean" }, bom: { type: "boolean" },
  "page-size": { type: "string" }, output: { type: "string", short: "o" } };

export async function run(values, { conn, stdout, stderr, interrupted = {} }) {
  const format = values.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw usage(`--format: "${format}" must be jsonl or csv`);
  const pageSize = parseCount("page-size", values["page-size"], 1, 1000) ?? 1000;
  const query = trailQuery(values);
  const logger = openLogger(conn, values.trail);
  if (values["csv-raw"] && format !== "csv") throw usage("--csv-raw: only with --format csv");
  if (values.bom && format !== "csv") throw usage("--bom: only with --format csv");
  const raw = values["csv-raw"] === true;
  const line = format === "csv" ? (e) => csvLine(e, raw) : jsonLine;
  // --output: the export goes to FILE.partial, renamed to FILE once complete.
  const file = values.output === undefined ? null : outputFile(values.output);
  if (file) stdout = file.stream;
  // What a cut-short export's message adds: where its output is (nothing written: no file).
  const kept = () => (file ? `, kept in ${file.partial} (${file.target} was not written)` : "");

  let n = 0;
  let done = 0; // events whose page was written
  let invalid = 0;
  const stop = stdout.isTTY ? () => {} : progress(() => `exporting: ${plural(n, "event")}`, stderr);
  // The CSV header goes out with the first page read, so a failure before it (Neo4j down, wrong
  // password) writes nothing at all; a failure after some pages says the output is incomplete.
  const header = format === "csv" ? (values.bom ? "\ufeff" : "") + csvHeader() : "";
  let pagesRead = 0;
  // Stopped by Ctrl-C or SIGTERM (`timeout 600 neo4j-audit export > jan.csv`) once something was
  // written: the file ends early, as after a failure, and says so where the operator looks. The
  // count is of the events the output holds whole: a page handed to a pipe (`| gzip`) is partly
  // still queued in this process, lost at exit, and the pipe may end inside an event's line (it
  // said "150 events were written" of 134 lines and a cut one).
  const sent = reached(stdout);
  interrupted.note = (signal) => {
    const { whole, cut } = sent.count();
    if (whole === 0 && !cut) {
      file?.discard();
      return null;
    }
    return `interrupted by ${signal}; the output is INCOMPLETE: ${plural(whole, "event was", "events were")} written before it${cut ? " (and the start of the next one: its last line is cut off)" : ""}${kept()}`;
  };
  try {
    for await (const events of pages(logger, conn, query, pageSize)) {
      let chunk = pagesRead++ === 0 ? header : "";
      sent.add(chunk);
      for (const e of events) {
        const l = line(e);
        chunk += l;
        sent.add(l, true);
        if (e.invalid) invalid++;
      }
      n += events.length;
      // Each page waits for its write to finish (the bytes handed on, not only under the stream's
      // high-water mark), so no page waits in the stream's own buffer behind it: what has not left
      // is in the handle's queue, which `sent` reads.
      if (chunk) await new Promise((resolve) => stdout.write(chunk, () => resolve()));
      done = n;
      sent.count();
    }
  } catch (e) {
    if (e instanceof CliError && pagesRead > 0) {
      e.message += `; the output is INCOMPLETE: ${plural(done, "event was", "events were")} written before the failure${kept()}`;
    } else if (pagesRead === 0) file?.discard();
    throw e;
  } finally {
    stop();
  }
  file?.complete();
  if (n === 0) {
    // An empty export is a success (an empty window), but a mistyped --trail or database gives
    // one too: say so where the operator sees it, not in the file.
    stderr.write(`export: no events found in trail "${values.trail ?? "default"}" at ${conn.url} (database ${conn.database})${Object.keys(query).length ? " with these filters" : ""} ${noEventsAdvice(values, await unnamedTrails(conn))}\n`);
  } else if (stderr.isTTY && !stdout.isTTY) stderr.write(`export: ${plural(n, "event")}\n`);
  // Events changed by hand or stored by an older writer are exported as stored, marked
  // (`invalid`, docs/reading.md); say so where the operator sees it.
  if (invalid > 0) {
    stderr.write(`export: ${plural(invalid, "event has", "events have")} properties missing or of another type than the library writes (listed in each one's "invalid"): a timestamp without a time zone or stored as text is converted by \`neo4j-audit migrate\` (--zone for local times); \`neo4j-audit verify\` reports the others\n`);
  }
  // Links this read cannot see (a marked trail's links without the key, added by another writer).
  const missed = await unkeyedLinks(conn, values.trail ?? "default", query);
  if (missed > 0) stderr.write(unkeyedNote("export", missed, values.trail ?? "default"));
  return EXIT.OK;
}

/**
 * `--output FILE`: a stream that writes to FILE.partial synchronously (each page waits for its
 * write, as on stdout: memory stays flat), `complete()` renaming it to FILE, `discard()` removing
 * it while nothing was written. A failure to write (a full disk) is exit 4, as stdout's is.
 */
function outputFile(target) {
  if (target === "") throw usage("--output: give a file name");
  let existing = null;
  try {
    existing = statSync(target);
  } catch {}
  if (existing?.isDirectory()) throw usage(`--output: "${target}" is a directory; give a file name`);
  const partial = `${target}.partial`;
  let fd;
  try {
    // The permissions of the FILE it replaces, as `>` keeps them (a private export, mode 600,
    // came back with the umask's 644); a new FILE gets the umask's, as with `>`.
    fd = existing ? openSync(partial, "w", 0o600) : openSync(partial, "w");
    if (existing) fchmodSync(fd, existing.mode & 0o7777);
  } catch (e) {
    throw usage(`--output: cannot create ${partial} (${e.message})`);
  }
  let written = 0;
  const stream = {
    isTTY: false,
    writableLength: 0,
    write(text, callback) {
      // writeSync may write less than it is given (a disk filling up): the rest, until it throws.
      const bytes = Buffer.from(text);
      try {
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      } catch (e) {
        throw new CliError(`cannot write to ${partial} (${e.message})`, 4);
      }
      written += bytes.length;
      callback?.();
      return true;
    },
  };
  return {
    stream,
    partial,
    target,
    complete() {
      closeSync(fd);
      try {
        renameSync(partial, target);
      } catch (e) {
        throw new CliError(`cannot rename ${partial} to ${target} (${e.message}); the export is complete in ${partial}`, 4);
      }
    },
    discard() {
      if (written > 0) return;
      try {
        closeSync(fd);
      } catch {}
      try {
        unlinkSync(partial);
      } catch {}
    },
  };
}

/** How much of what was handed to `stream` has left this process: the bytes still queued (a pipe's
 * reader behind, libuv's write queue; a file or a terminal written synchronously queues none) are
 * lost if the process exits now. `add(text, isEvent)` as text is handed over; `count()`: the events
 * whose whole line has left (`whole`) and whether the output ends inside the next one (`cut`). */
function reached(stream) {
  let handed = 0; // bytes handed to the stream
  let left = 0; // bytes known to have left, at a line's end
  let whole = 0;
  const ends = []; // [end offset, isEvent] of the lines not yet known to have left
  return {
    add(text, isEvent = false) {
      if (!text) return;
      handed += Buffer.byteLength(text);
      ends.push([handed, isEvent]);
    },
    count() {
      // libuv's queue, exact to the byte; writableLength (a fallback) counts a write in progress
      // whole, so it can only undercount what left.
      const queued = stream._handle?.writeQueueSize ?? stream.writableLength ?? 0;
      const out = handed - queued;
      let i = 0;
      for (; i < ends.length && ends[i][0] <= out; i++) {
        left = ends[i][0];
        if (ends[i][1]) whole++;
      }
      ends.splice(0, i);
      return { whole, cut: out > left && ends[0]?.[1] === true };
    },
  };
}
