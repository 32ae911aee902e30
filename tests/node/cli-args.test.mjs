// The CLI's command line (cli/neo4j-audit.mjs, cli/common.mjs, cli/migrate.mjs): what it refuses
// before any request, as a user runs it (a child process). Every case here is a usage error
// (exit 2, one line) or --help, so it needs a built pkg/ but no data in Neo4j.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, runCli, readDocs } from "./helpers.mjs";

const CLI = join(ROOT, "cli", "neo4j-audit.mjs");
const ENV = { ...process.env, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD };

/** Runs the CLI to completion: {code, stdout, stderr}. */
const cli = (args, env = ENV) => runCli(args, env);

/** A usage error: exit 2, one line on stderr matching `reason`, nothing on stdout. */
async function refused(args, reason) {
  const r = await cli(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  assert.match(r.stderr, reason, args.join(" "));
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(r.stdout, "");
  return r;
}

test("an option given twice with different values is a usage error naming both; the same value twice is not", async () => {
  // parseArgs kept the last one: this read from February without a word.
  await refused(["export", "--since", "2026-01-01", "--since", "2026-02-01"],
    /^neo4j-audit export: --since is given twice with different values \("2026-01-01" and "2026-02-01"\): give it once \(neo4j-audit export --help\)\n$/);
  await refused(["tail", "-n", "5", "--lines=6"], /^neo4j-audit tail: --lines is given twice with different values \("5" and "6"\)/);
  await refused(["verify", "--trail", "a", "--trail=b"], /--trail is given twice with different values \("a" and "b"\)/);
  await refused(["migrate", "--status", "--zone", "UTC", "--zone", "Europe/Brussels"], /--zone is given twice with different values \("UTC" and "Europe\/Brussels"\)/);
  // A value is shown with its control characters escaped (a one-line message, an inert terminal).
  await refused(["export", "--user", "a\x1b[2J", "--user", "b"], /--user is given twice with different values \("a\\u001b\[2J" and "b"\)/);
  // The same value twice, and a flag twice, are what was meant: no error (a usage error would be
  // exit 2; these reach the trail, which is empty).
  for (const args of [["export", "--trail", "no-such-trail-cli-args", "--trail", "no-such-trail-cli-args", "--since", "1d", "--since", "1d"],
    ["verify", "--trail", "no-such-trail-cli-args", "--allow-empty", "--allow-empty", "--json", "--json"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
});

test("--help is answered first, whatever else the line holds", async () => {
  for (const args of [
    ["export", "--bogus", "--help"],
    ["export", "--since", "2026-01-01", "--since", "2026-02-01", "--help"],
    ["tail", "-h", "--lines", "x"],
    ["verify", "stray", "--help"],
    ["migrate", "--help", "--batch", "1"],
    ["export", "--format", "--help"],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: neo4j-audit ${args[0]} `), args.join(" "));
    assert.equal(r.stderr, "");
  }
  // After "--" it is an argument, not a request for help.
  await refused(["export", "--", "--help"], /unexpected argument "--help"/);
});

// Before: "neo4j-audit: unknown command "--bogus" (commands: ...)", for a line that asked for help.
test("an option before any command: --help anywhere prints the help, any other option is named as an option", async () => {
  for (const args of [["--bogus", "--help"], ["--bogus", "-h"], ["-x", "export", "--help"], ["--bogus=1", "--help"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: neo4j-audit <command> \[options\]\n/, args.join(" "));
    assert.equal(r.stderr, "");
  }
  await refused(["--bogus"], /^neo4j-audit: unknown option --bogus \(options before a command: --help, --version; neo4j-audit --help\)\n$/);
  await refused(["--bogus=1", "export"], /^neo4j-audit: unknown option --bogus \(/);
  await refused(["-x", "export"], /^neo4j-audit: unknown option -x \(/);
  // After "--" --help is no request for help.
  await refused(["--bogus", "--", "--help"], /^neo4j-audit: unknown option --bogus \(/);
});

// Before: "neo4j-audit bogus --help" exited 2 with only "unknown command", while docs/cli.md says
// --help is answered whatever else the line holds (and "export --bogus --help" is answered).
test("an unknown command with --help, or help with one, prints the general help, exit 0, and names the command on stderr", async () => {
  for (const [args, name] of [[["bogus", "--help"], "bogus"], [["exprot", "-h"], "exprot"], [["exprot", "--since", "x", "--help"], "exprot"],
    [["help", "exprot"], "exprot"], [["bo\x1bgus", "--help"], "bo\\u001bgus"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: neo4j-audit <command> \[options\]\n[^]*\nCommands:\n  schema /, args.join(" "));
    assert.equal(r.stderr, `neo4j-audit: unknown command "${name}" (commands: schema, migrate, verify, export, tail); the general help is printed instead\n`);
  }
  // Without --help (or after "--") it stays a usage error.
  await refused(["bogus"], /^neo4j-audit: unknown command "bogus" \(commands: schema, migrate, verify, export, tail; neo4j-audit --help\)\n$/);
  await refused(["bogus", "--", "--help"], /^neo4j-audit: unknown command "bogus" \(/);
  // docs/cli.md says so.
  assert.match(readDocs().replace(/\s+/g, " "), /`--help` is answered whatever else the line holds, exit 0; after a command that is not one, `neo4j-audit exprot --help` as `neo4j-audit help exprot`, with the general help/);
});

test("a time of 8 to 10 digits (a date without dashes, epoch seconds) is a usage error naming the forms TIME takes", async () => {
  // As epoch milliseconds both are January 1970: an export of everything since then, silently.
  const forms = /; TIME is ISO 8601 like 2026-01-01 or 2026-01-01T00:00:00Z, epoch milliseconds like 1767225600000, or an age like 15m, 2h, 7d\)\n$/;
  const seconds = await refused(["export", "--since", "1733390000"],
    /^neo4j-audit export: --since: "1733390000" reads as epoch milliseconds, 1970-01-21T01:29:50\.000Z \(epoch seconds\? write milliseconds, 1733390000000; /);
  assert.match(seconds.stderr, forms);
  const date = await refused(["verify", "--since", "20261205"],
    /^neo4j-audit verify: --since: "20261205" reads as epoch milliseconds, 1970-01-01T05:37:41\.205Z \(a date\? write 2026-12-05; /);
  assert.match(date.stderr, forms);
  await refused(["export", "--until", "999999999"], /--until: "999999999" reads as epoch milliseconds, .*epoch seconds\? write milliseconds, 999999999000;/);
  // 8 digits that are no date: the seconds hint cannot fit either; the forms are named.
  await refused(["export", "--since", "20261399"], /--since: "20261399" reads as epoch milliseconds, .*\(epoch seconds\? write milliseconds, 20261399000; TIME is ISO 8601 like/);
  await refused(["export", "--since", "yesterday"], /--since: "yesterday" is not a time \(ISO 8601 like 2026-01-01 or 2026-01-01T00:00:00Z, epoch milliseconds like 1767225600000, or an age like 15m, 2h, 7d\)\n$/);
  // Epoch milliseconds (13 digits) and small numbers are read as before.
  for (const since of ["1733390000000", "0"]) {
    const r = await cli(["export", "--trail", "no-such-trail-cli-args", "--since", since]);
    assert.equal(r.code, 0, `${since}: ${r.stderr}`);
  }
  // The help says milliseconds, not seconds.
  assert.match((await cli(["export", "--help"])).stdout, /epoch\nmilliseconds \(1767225600000; not seconds\)/);
});

test("a time of 14 digits or more (epoch microseconds, nanoseconds) is a usage error saying which unit it looks like", async () => {
  // Found in review: `export --since 1796604173109000` (microseconds) or `$(date +%s%N)`
  // (nanoseconds) read as milliseconds thousands or millions of years ahead: an empty export,
  // exit 0, the unit never named.
  await refused(["export", "--since", "1796604173109000"],
    /^neo4j-audit export: --since: "1796604173109000" reads as epoch milliseconds after the year 2286 \(epoch microseconds\? write milliseconds, 1796604173109; TIME is ISO 8601 like/);
  await refused(["export", "--until", "1796604173109000000"],
    /--until: "1796604173109000000" reads as epoch milliseconds after the year 2286 \(epoch nanoseconds\? write milliseconds, 1796604173109; /);
  await refused(["verify", "--since", "99999999999999999999"], /--since: "99999999999999999999" reads as epoch milliseconds after the year 2286 \(epoch nanoseconds\?/);
  await refused(["export", "--since", "17966041731090"], /--since: "17966041731090" reads as epoch milliseconds after the year 2286 \(a digit too many\?; TIME is/);
  // 13 digits (until 2286) and leading zeros are epoch milliseconds as before.
  for (const since of ["9999999999999", "00000000000000001"]) {
    const r = await cli(["export", "--trail", "no-such-trail-cli-args", "--since", since]);
    assert.equal(r.code, 0, `${since}: ${r.stderr}`);
  }
});

test("the CLI's TIME digits and the library's since/until numbers are refused alike (the library's rule: src/read.rs check_epoch_millis)", async () => {
  // The CLI reads the text (and says so before connecting, exit 2, with the dashed date for 8
  // digits); the library refuses the same numbers, so a program given the CLI's forms does too.
  const { parseInstant } = await import(join(ROOT, "cli", "common.mjs"));
  const { loadPkg, config, unique } = await import("./helpers.mjs");
  const pkg = await loadPkg("verify");
  const logger = new pkg.AuditLogger(config(unique("cli-args-digits")));
  for (const n of [0, 1, 9_999_999, 10_000_000, 20_261_205, 1_733_390_000, 9_999_999_999, 10_000_000_000,
    1_796_604_173_109, 9_999_999_999_999, 10_000_000_000_000, 1_796_604_173_109_000]) {
    let cliTakes = true;
    try { parseInstant("since", String(n)); } catch { cliTakes = false; }
    const page = await logger.getAuditTrail({ since: n, limit: 1 });
    assert.equal(page !== null, cliTakes, `${n}: ${logger.lastError}`);
    if (!cliTakes) assert.match(logger.lastError, new RegExp(`^invalid input: since ${n} reads as epoch milliseconds`));
  }
  await logger.close();
});

test("verify --stream \"\" (an unset variable) is a usage error, not a verified stream \"\" of nothing", async () => {
  // Found in review: it printed NOTHING VERIFIED for a stream "" (exit 1), the report `ok` with
  // that stream listed; no stream has an empty id.
  await refused(["verify", "--trail", "no-such-trail-cli-args", "--stream", ""],
    /^neo4j-audit verify: --stream: streamId must be a non-empty string of at most 1024 bytes without control characters \(a stream's id, as chainHead\(\) gives it\)\n$/);
  // Nor a blank one, or one with white space at an end (a quoting slip): no stream has such an id.
  await refused(["verify", "--trail", "no-such-trail-cli-args", "--stream", " "], /^neo4j-audit verify: --stream: streamId must be a non-empty string/);
  await refused(["verify", "--trail", "no-such-trail-cli-args", "--stream", "s.0123456789abcdef0123456789abcdef "],
    /^neo4j-audit verify: --stream: streamId must not begin or end with white space \(a stream's id, as chainHead\(\) gives it\)\n$/);
});

test("migrate --status checks --zone and --batch as migrate does (it ignored a bad value)", async () => {
  await refused(["migrate", "--status", "--zone", "Mars/Olympus"], /^neo4j-audit migrate: --zone: "Mars\/Olympus" is not a time zone/);
  await refused(["migrate", "--dry-run", "--batch", "5"], /^neo4j-audit migrate: --batch: "5" must be an integer from 100 to 1000000\n$/);
  await refused(["migrate", "--status", "--batch", "x", "--json"], /--batch: "x" must be an integer/);
  const ok = await cli(["migrate", "--status", "--zone", "Europe/Brussels", "--batch", "500", "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(typeof JSON.parse(ok.stdout).unkeyed, "number");
});

test("tail --interval without --follow is a usage error, not silently unused", async () => {
  // It was accepted and did nothing: `tail --interval 5` printed the newest events and exited, as
  // if it had been `tail`, so the missing -f went unnoticed.
  await refused(["tail", "--interval", "5"], /^neo4j-audit tail: --interval is the time between --follow's polls: give -f \/ --follow too, or leave --interval out\n$/);
});

test("a count or a time with white space around it is a usage error, as other malformed values are", async () => {
  // `tail -n " 5"` and `export --since " 7d"` (a quoting slip) were read as 5 and 7d, where any other
  // stray character is refused.
  await refused(["tail", "-n", " 5"], /^neo4j-audit tail: --lines: " 5" must be an integer from 0 to 10000/);
  await refused(["export", "--page-size", "5 "], /^neo4j-audit export: --page-size: "5 " must be an integer from 1 to 1000/);
  await refused(["migrate", "--status", "--batch", " 1000"], /^neo4j-audit migrate: --batch: " 1000" must be an integer from 100 to 1000000/);
  for (const [cmd, option, value] of [["export", "--since", " 7d"], ["export", "--until", "2026-01-01 "], ["verify", "--since", " 1767225600000"]]) {
    const r = await refused([cmd, option, value], /is not a time/);
    assert.ok(r.stderr.startsWith(`neo4j-audit ${cmd}: ${option}: "${value}" is not a time (white space around it; TIME is ISO 8601 `), r.stderr);
  }
  await refused(["tail", "-f", "--interval", " 2"], /^neo4j-audit tail: --interval: " 2" must be a number of seconds from 0.1 to 3600/);
});
