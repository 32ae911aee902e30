// The read side's inputs as a demanding user gives them (pkg/verify in Node 20), against the real
// Neo4j through a proxy that counts the requests: what is refused locally resolves null with
// `invalid input: …` and sends nothing; pages read back what Neo4j holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPkg, unique, config, cypher, proxyToNeo4j } from "./helpers.mjs";

const pkg = await loadPkg("verify");
const b64 = (text) => Buffer.from(text).toString("base64url");
const REFUSED = "invalid input: cursor is not one this library returned";

/** Each `call()` resolves `null` with a `lastError` matching its `reason`, and sends nothing. */
async function refusedLocally(logger, sent, cases) {
  for (const [call, reason] of cases) {
    const before = sent();
    assert.equal(await call(), null, String(reason));
    assert.match(logger.lastError, reason);
    assert.equal(sent(), before, "nothing sent");
  }
}

/** A logger reading `trail` through a proxy to Neo4j; `sent()` counts the requests so far. */
async function counted(trail) {
  let n = 0;
  const proxy = await proxyToNeo4j(() => { n++; return false; });
  return { logger: new pkg.AuditLogger({ ...config(trail), url: proxy.url }), sent: () => n, close: proxy.close };
}

/** Every page of `read({limit, cursor})` by pages of `limit`: the events in order. */
async function walk(read, limit) {
  const events = [];
  let cursor = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await read({ limit, cursor });
    assert.ok(page, "a page resolved null");
    events.push(...page.events);
    if (!(cursor = page.nextCursor)) return events;
  }
  assert.fail("the pages never ended");
}

test("a crafted cursor with a time zone Neo4j cannot read is `invalid input`, never Neo4j's error; a zone of no zone's form sends nothing", async () => {
  // Found in review: a cursor with a bogus zone (`ms[+99:00]:UID`, base64url) went out, and
  // Neo4j's "neo4j error Neo.ClientError.Statement.SyntaxError: Invalid value for TimeZone: Text
  // '+99:00' could not be parsed …" became the reason, where any other cursor the library did
  // not return is refused before a request, in its own words.
  const trail = unique("node-read-zone-cursor");
  const { logger, sent, close } = await counted(trail);
  const calls = (cursor) => [
    () => logger.getAuditTrail({ cursor }),
    () => logger.getAuditTrail({ cursor, category: "SECURITY" }),
    () => logger.getUserActivity("u1", { cursor }),
    () => logger.getTargetActivity("Document", "d1", { cursor }),
  ];
  try {
    for (const zone of ["+99:00", "+25:00", "+18:01", "+1:00", "+0200", ".", "-", "GMT+1", "UTC+1", "a b", "Europe/Berlin "]) {
      for (const call of calls(b64(`1767225600000[${zone}]:x`))) {
        const before = sent();
        assert.equal(await call(), null, zone);
        assert.equal(logger.lastError, REFUSED, zone);
        assert.equal(sent(), before, `${zone}: nothing sent`);
      }
    }
    // A zone's form, but no zone Neo4j knows: only Neo4j can tell, and its refusal is the cursor's.
    for (const zone of ["Mars/Olympus", "Europe/Nowhere"]) {
      for (const call of calls(b64(`1767225600000[${zone}]:x`))) {
        assert.equal(await call(), null, zone);
        assert.ok(logger.lastError.startsWith(REFUSED), logger.lastError);
        assert.doesNotMatch(logger.lastError, /Neo\.ClientError|TimeZone/);
      }
    }
  } finally {
    close();
  }
});

test("events stored at one instant in region zones page by one through their cursors, none skipped or repeated", async () => {
  const trail = unique("node-read-zone-pages");
  const doc = unique("doc");
  await cypher("CREATE (:Document {UID: $doc})", { doc });
  const logger = new pkg.AuditLogger(config(trail));
  for (let i = 0; i < 7; i++) {
    assert.equal(await logger.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY", { i }, { targets: [{ label: "Document", uid: doc }] }), true, logger.lastError);
  }
  // One instant for every event, link and target link; a zone each (Neo4j's region names, an
  // offset with seconds, UTC), so every page of one ends on a cursor naming a zone.
  await cypher(`MATCH (:AuditTrail {name: $trail})-[r:HAS_EVENT]->(ev) OPTIONAL MATCH (ev)-[o:ON]->()
    WITH r, ev, o, datetime({epochMillis: 1767225600000, timezone: $zones[ev.seq]}) AS t
    SET ev.timestamp = t, r.created = t, o.created = t`,
  { trail, zones: ["Europe/Berlin", "Etc/GMT+5", "+02:00:30", "UTC", "Europe/Berlin", "Z", "America/Argentina/Buenos_Aires"] });
  for (const [what, read] of [
    ["trail", (q) => logger.getAuditTrail(q)],
    ["user", (q) => logger.getUserActivity("u1", q)],
    ["target", (q) => logger.getTargetActivity("Document", doc, q)],
    ["category", (q) => logger.getAuditTrail({ ...q, category: "SECURITY", since: 1767225600000, until: 1767225600001 })],
  ]) {
    for (const limit of [1, 2, 3]) {
      const seqs = (await walk(read, limit)).map((e) => e.seq);
      assert.deepEqual([...seqs].sort(), [0, 1, 2, 3, 4, 5, 6], `${what} by ${limit}: ${seqs}`);
    }
  }
});

test("a number no option takes is named by the option's own rule; a mistyped option is named unknown, whatever its value", async () => {
  // Found in review: {limit: -1}, {limit: 1.5} and {limit: NaN} read "limit must be a
  // non-negative integer" (then {limit: 0}: "between 1 and 1000"), and a mistyped {lmit: -1}
  // "lmit must be a non-negative integer", where {lmit: 5} is "unknown field `lmit`".
  const { logger, sent, close } = await counted(unique("node-read-numbers"));
  try {
    const limitRule = "invalid input: options: invalid type: a number for `limit`, expected a whole number, 1 to 1000";
    const outOfRange = "is out of range: epoch milliseconds must fit in a 64-bit integer (about 292 million years either side of 1970)";
    for (const [query, reason] of [
      [{ limit: -1 }, limitRule], [{ limit: 1.5 }, limitRule], [{ limit: NaN }, limitRule], [{ limit: Infinity }, limitRule],
      [{ limit: -Infinity }, limitRule], [{ limit: 1e12 }, limitRule], [{ limit: 2 ** 53 }, limitRule],
      [{ limit: 0 }, "invalid input: limit must be between 1 and 1000"],
      [{ limit: 1001 }, "invalid input: limit must be between 1 and 1000"],
      [{ limit: "10" }, "invalid input: options: invalid type: a string for `limit`, expected a whole number, 1 to 1000"],
      [{ lmit: -1 }, /^invalid input: options: unknown field `lmit`, expected one of `since`/],
      [{ lmit: 0.5 }, /^invalid input: options: unknown field `lmit`/],
      [{ since: 1.5 }, "invalid input: since must be epoch milliseconds, an ISO 8601 string or a Date"],
      [{ since: NaN }, "invalid input: since must be epoch milliseconds, an ISO 8601 string or a Date"],
      // Beyond a 64-bit count of milliseconds: read as i64::MAX, "since 9223372036854775807 reads
      // as epoch milliseconds after the year 2286 (epoch nanoseconds? ...", a number never given.
      [{ since: 1e300 }, `invalid input: since ${outOfRange}`],
      [{ until: -1e300 }, `invalid input: until ${outOfRange}`],
      [{ since: 2 ** 63 }, `invalid input: since ${outOfRange}`],
      [{ until: new Date(NaN) }, /^invalid input: until is an Invalid Date/],
      [{ since: "2026-01-01T00:00:00Z", until: new Date("2025-12-31T00:00:00Z") }, /^invalid input: until must be later than since/],
    ]) {
      const before = sent();
      assert.equal(await logger.getAuditTrail(query), null, JSON.stringify(query));
      if (typeof reason === "string") assert.equal(logger.lastError, reason, String(query.limit ?? JSON.stringify(query)));
      else assert.match(logger.lastError, reason);
      assert.equal(sent(), before, "nothing sent");
    }
    await refusedLocally(logger, sent, [
      [() => logger.getUserActivity("u1", { limit: -5 }), /^invalid input: options: invalid type: a number for `limit`/],
      [() => logger.getUserActivity("u1", { lmit: -5 }), /^invalid input: getUserActivity options are since, until, actionType, category, limit and cursor; got `lmit`$/],
      [() => logger.getTargetActivity("Document", "d1", { limit: 0.5 }), /^invalid input: options: invalid type: a number for `limit`/],
      [() => logger.verifyTrail({ allowUnsigned: -1 }), /^invalid input: options: invalid type: a number for `allowUnsigned`, expected a boolean$/],
      [() => logger.verifyTrail({ streamId: -1 }), /^invalid input: options: invalid type: a number for `streamId`, expected a string$/],
      [() => logger.verifyTrail({ since: 1e300 }), /^invalid input: since is out of range: epoch milliseconds must fit in a 64-bit integer/],
      // A key declared for encryption or another algorithm (RFC 7517 use / alg), and an anchor
      // naming a stream id no stream has (src/read.rs tests saw both taken before).
      [() => logger.verifyTrail({ publicKeys: [{ kid: "k1", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", use: "enc" }] }),
        /^invalid input: publicKeys: key "k1": its "use" is "enc", not "sig"/],
      [() => logger.verifyTrail({ publicKey: { kid: "k1", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", alg: "RS256" } }),
        /^invalid input: publicKeys: key "k1": its "alg" is "RS256", not EdDSA/],
      [() => logger.verifyTrail({ anchors: [{ streamId: "a", seq: 1, hash: "0".repeat(64) }] }),
        /^invalid input: anchors: the anchor of stream a at seq 1: its stream id is not one this library gives a stream/],
    ]);
  } finally {
    close();
  }
});

test("JavaScript's refusals keep its option names (the Rust API's name its fields: tests/read.rs)", async () => {
  const { logger, sent, close } = await counted(unique("node-read-names"));
  try {
    await refusedLocally(logger, sent, [
      [() => logger.getAuditTrail({ userUid: "" }), /^invalid input: userUid must be a non-empty string/],
      [() => logger.getAuditTrail({ actionType: "a b" }), /^invalid input: actionType must be 1-64 characters/],
      [() => logger.getTargetActivity("Document", "d1", { actionType: "" }), /^invalid input: actionType must be/],
      [() => logger.verifyTrail({ publicKeys: [] }), /^invalid input: publicKeys is empty$/],
      [() => logger.verifyTrail({ publicKey: { kid: "k", x: "short" } }), /^invalid input: publicKeys: key "k"/],
      // No stream has an empty id: it was `ok: true` with a stream "" of nothing checked.
      [() => logger.verifyTrail({ streamId: "" }), /^invalid input: streamId must be a non-empty string of at most 1024 bytes without control characters \(a stream's id, as chainHead\(\) gives it\)$/],
      [() => logger.verifyTrail({ streamId: `s.${"0".repeat(32)}` }), /^invalid input: streamId: stream s\.0+'s id does not bind it to trail/],
    ]);
  } finally {
    close();
  }
});

test("a walk of pages while events are written: every event stored before it once, none repeated (docs/reading.md)", async () => {
  const trail = unique("node-read-walk-writes");
  const writer = new pkg.AuditLogger(config(trail));
  const reader = new pkg.AuditLogger(config(trail));
  for (let i = 0; i < 7; i++) assert.equal(await writer.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY", { i }), true, writer.lastError);
  const before = (await walk((q) => reader.getAuditTrail(q), 1000)).map((e) => e.uid);
  let n = 0;
  for (const [what, read] of [
    ["trail", (q) => reader.getAuditTrail(q)],
    ["user", (q) => reader.getUserActivity("u1", q)],
    ["category", (q) => reader.getAuditTrail({ ...q, category: "SECURITY" })],
  ]) {
    const stored = (await walk((q) => reader.getAuditTrail(q), 1000)).map((e) => e.uid);
    const seen = [];
    let cursor = null;
    do {
      const page = await read({ limit: 2, cursor });
      assert.ok(page, reader.lastError);
      seen.push(...page.events.map((e) => e.uid));
      cursor = page.nextCursor;
      // A newer event between the pages: at a place the walk has passed, so on none of its pages.
      assert.equal(await writer.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY", { during: n++ }), true, writer.lastError);
    } while (cursor);
    assert.deepEqual(seen, stored, `${what}: the events stored before the walk, each once, in order`);
    assert.ok(before.every((u) => seen.includes(u)));
  }
});

test("a since or until in epoch seconds (or micro-, nanoseconds) is refused naming the unit, not read as January 1970; a Date, an ISO string or milliseconds read as before", async () => {
  // Found in review: getAuditTrail({since: Math.floor(Date.now() / 1000)}) read the window from
  // January 1970 (every event), `until` so none, and a microseconds count a window after the year
  // 2286, with no word; the CLI refused such a --since. The Rust API refuses them alike (tests/read.rs).
  const trail = unique("node-read-since-unit");
  const writer = new pkg.AuditLogger(config(trail));
  for (const uid of ["u1", "u2", "u3"]) assert.equal(await writer.logUserAction({ uid }, "LOGIN", "SECURITY", {}), true);
  assert.equal(await writer.close(), true);
  const { logger, sent, close } = await counted(trail);
  const ms = Date.now();
  const secs = Math.floor(ms / 1000);
  const seconds = (what) => new RegExp(`^invalid input: ${what} ${secs} reads as epoch milliseconds, 1970-\\S+ \\(epoch seconds\\? give milliseconds, ${secs}000; an instant is epoch milliseconds like 1767225600000, an ISO 8601 string or a Date\\)$`);
  try {
    await refusedLocally(logger, sent, [
      [() => logger.getAuditTrail({ since: secs }), seconds("since")],
      [() => logger.getAuditTrail({ until: secs }), seconds("until")],
      [() => logger.getAuditTrail({ since: 20261205 }), /^invalid input: since 20261205 reads as epoch milliseconds, 1970-01-01T05:37:41\.205Z \(epoch seconds\? give milliseconds, 20261205000; a date\? give it with dashes, as ISO 8601;/],
      [() => logger.getAuditTrail({ since: ms * 1000 }), new RegExp(`^invalid input: since ${ms * 1000} reads as epoch milliseconds after the year 2286 \\(epoch microseconds\\? give milliseconds, ${ms};`)],
      [() => logger.getUserActivity("u1", { since: secs }), seconds("since")],
      [() => logger.getTargetActivity("Document", "d1", { until: secs }), seconds("until")],
      [() => logger.verifyTrail({ since: secs }), seconds("since")],
    ]);
    // A Date or an ISO string is the instant it names (also in 1970), and milliseconds, instants
    // before 1970 and up to 7 digits are read as given: the events read back.
    for (const [since, n] of [[ms - 3_600_000, 3], [-86_400_000, 3], [0, 3], [9_999_999, 3], [new Date(secs), 3],
      ["1970-01-21T00:00:00Z", 3], [new Date(ms - 3_600_000), 3], [ms + 3_600_000, 0]]) {
      const page = await logger.getAuditTrail({ since });
      assert.ok(page, `${since}: ${logger.lastError}`);
      assert.equal(page.events.length, n, String(since));
    }
    const report = await logger.verifyTrail({ since: ms - 3_600_000 });
    assert.ok(report?.ok && report.checked === 3, JSON.stringify(report ?? logger.lastError));
  } finally {
    close();
  }
});

test("a since or until string with white space around it is refused, not read by Date.parse as local time", async () => {
  // Found in review: V8's Date.parse reads "2026-01-01" as UTC midnight (docs/reading.md) but
  // " 2026-01-01" or "2026-01-01\n" (a form field's or a file's stray space or line break) as the
  // host's local midnight: the window moved by the host's offset (5 h in New York) without a word.
  // The CLI refuses such a --since alike. The events read back without it.
  const trail = unique("node-read-since-space");
  const writer = new pkg.AuditLogger(config(trail));
  assert.equal(await writer.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY", {}), true, writer.lastError);
  assert.equal(await writer.close(), true);
  const { logger, sent, close } = await counted(trail);
  const day = new Date().toISOString().slice(0, 10);
  const spaced = (what, text) => new RegExp(`^invalid input: ${what} ${JSON.stringify(text).replace(/[\\[\]().+?*]/g, "\\$&")} has white space around it`);
  try {
    await refusedLocally(logger, sent, [
      [() => logger.getAuditTrail({ since: ` ${day}` }), spaced("since", ` ${day}`)],
      [() => logger.getAuditTrail({ until: `${day}T23:59:59Z\n` }), spaced("until", `${day}T23:59:59Z\n`)],
      [() => logger.getUserActivity("u1", { since: `\t${day}` }), spaced("since", `\t${day}`)],
      [() => logger.getTargetActivity("Document", "d1", { since: ` ${day}` }), spaced("since", ` ${day}`)],
      [() => logger.verifyTrail({ since: `${day} ` }), spaced("since", `${day} `)],
    ]);
    const page = await logger.getAuditTrail({ since: day });
    assert.equal(page?.events.length, 1, logger.lastError);
  } finally {
    close();
  }
});

test("verifyTrail refuses a blank stream id, or one with white space or a line break at an end, not `ok` with nothing checked", async () => {
  // Found in review: verifyTrail({streamId: " "}) (and an id read from a file with its "\n", or
  // pasted with a space) answered {ok: true, checked: 0}, which the docs tell an auditor to trust.
  const trail = unique("node-read-blank-stream");
  const writer = new pkg.AuditLogger(config(trail));
  assert.equal(await writer.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY", {}), true);
  const id = writer.chainHead().streamId;
  assert.equal(await writer.close(), true);
  const { logger, sent, close } = await counted(trail);
  const it = " \\(a stream's id, as chainHead\\(\\) gives it\\)$";
  try {
    await refusedLocally(logger, sent, [
      [() => logger.verifyTrail({ streamId: " " }), new RegExp(`^invalid input: streamId must be a non-empty string of at most 1024 bytes without control characters${it}`)],
      [() => logger.verifyTrail({ streamId: "\t\u3000" }), new RegExp(`^invalid input: streamId must be a non-empty string${".*"}${it}`)],
      [() => logger.verifyTrail({ streamId: `${id}\n` }), new RegExp(`^invalid input: streamId must be a non-empty string of at most 1024 bytes without control characters${it}`)],
      [() => logger.verifyTrail({ streamId: `${id} ` }), new RegExp(`^invalid input: streamId must not begin or end with white space${it}`)],
      [() => logger.verifyTrail({ streamId: `\u00a0${id}` }), new RegExp(`^invalid input: streamId must not begin or end with white space${it}`)],
    ]);
    const report = await logger.verifyTrail({ streamId: id });
    assert.ok(report?.ok && report.checked === 1, JSON.stringify(report ?? logger.lastError));
  } finally {
    close();
  }
});
