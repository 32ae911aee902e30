#!/usr/bin/env node
// neo4j-audit: the audit trail from the command line (schema, verify, export, tail), on the same
// core as the library. `neo4j-audit --help`, `neo4j-audit <command> --help`.
import { parseArgs } from "node:util";
import { CliError, ENV_HELP, EXIT, EXIT_HELP, checkConnection, connection, escapeControl } from "./common.mjs";
import { version } from "./core.mjs";
import * as schema from "./schema.mjs";
import * as verify from "./verify.mjs";
import * as exportCommand from "./export.mjs";
import * as tail from "./tail.mjs";
import * as migrate from "./migrate.mjs";

const COMMANDS = { schema, migrate, verify, export: exportCommand, tail };

const HELP = `Usage: neo4j-audit <command> [options]

The audit trail that neo4j-audit writes into Neo4j, for operators and auditors.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join("\n")}
  help     help for a command: neo4j-audit help export

Options:
  -h, --help     this help (after a command: that command's)
  --version      the package version

${ENV_HELP}

${EXIT_HELP}`;

const { stdout, stderr } = process;
// A command's status once it is known and only its output is left to write (`verify`'s verdict).
const outcome = { code: undefined };
// The reader went away (e.g. `export | head`): stop quietly, with the status already known: a
// verdict is not changed by nobody reading it (`verify --trail t | true` exited 0, "intact", for a
// BROKEN trail or one with no events). Any other write error (ENOSPC: a full
// disk, EIO) ended with exit 4, "internal error", and not a word: say what failed.
stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(outcome.code ?? EXIT.OK);
  const command = Object.hasOwn(COMMANDS, process.argv[2] ?? "") ? ` ${process.argv[2]}` : "";
  stderr.write(`neo4j-audit${command}: cannot write to stdout (${e.message}); the output is INCOMPLETE\n`);
  process.exit(4);
});

/** parseArgs' message without its advice about positionals, e.g. "unknown option --x". */
function argError(e) {
  const unknown = /^Unknown option '([^']+)'/.exec(e.message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const positional = /^Unexpected argument '([^']*)'/.exec(e.message);
  if (positional) return `unexpected argument "${positional[1]}"`;
  // An option with a short alias is named "-n, --lines" there: name its long form.
  const missing = /^Option '(?:-\w, )?(\S+)(?: <value>)?' argument missing/.exec(e.message);
  if (missing) return `${missing[1]} needs a value`;
  const flag = /^Option '(?:-\w, )?(\S+)' does not take an argument/.exec(e.message);
  if (flag) return `${flag[1]} takes no value`;
  const ambiguous = /^Option '(\S+)' argument is ambiguous[^]*?use '(--[\w-]+)=/.exec(e.message);
  if (ambiguous) return `${ambiguous[1]} needs a value (one that starts with "-": ${ambiguous[2]}=VALUE)`;
  return e.message.split("\n")[0];
}

/** Whether a command's arguments ask for its help (-h or --help before any "--"). */
function asksHelp(args) {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "-h" || a === "--help") return true;
  }
  return false;
}

/** An option given twice with different values is a usage error: parseArgs keeps the last one,
 * so "--since 2026-01-01 --since 2026-02-01" silently read from February. The same value twice
 * (a script that appends its defaults) is fine. */
function repeated(tokens) {
  const seen = new Map();
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const value = t.value ?? true;
    if (seen.has(t.name) && seen.get(t.name) !== value) {
      throw new CliError(`--${t.name} is given twice with different values ("${escapeControl(String(seen.get(t.name)))}" and "${escapeControl(String(value))}"): give it once`, EXIT.USAGE);
    }
    seen.set(t.name, value);
  }
}

/** Help asked for a command that is not one (`exprot --help`, `help exprot`): the general help,
 * which lists the commands, on stdout, and the name not found on stderr; exit 0, as every line
 * that asks for help ("export --bogus --help" too). */
function unknownCommandHelp(name) {
  stdout.write(`${HELP}\n`);
  stderr.write(`neo4j-audit: unknown command "${escapeControl(name)}" (commands: ${Object.keys(COMMANDS).join(", ")}); the general help is printed instead\n`);
  return EXIT.OK;
}

async function main(argv) {
  const [first, ...rest] = argv;
  if (first === undefined) {
    stderr.write(`${HELP}\n`);
    return EXIT.USAGE;
  }
  if (first === "-h" || first === "--help") {
    stdout.write(`${HELP}\n`);
    return EXIT.OK;
  }
  if (first === "--version" || first === "-V") {
    stdout.write(`neo4j-audit ${version}\n`);
    return EXIT.OK;
  }
  // An option before any command: --help anywhere is answered ("--bogus --help" said "unknown
  // command"), any other is named as the option it is.
  if (first.startsWith("-") && first !== "-" && first !== "--") {
    if (asksHelp(argv)) {
      stdout.write(`${HELP}\n`);
      return EXIT.OK;
    }
    throw new CliError(`unknown option ${first.split("=")[0]} (options before a command: --help, --version; neo4j-audit --help)`, EXIT.USAGE);
  }
  if (first === "help") {
    const c = rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : null;
    if (rest[0] !== undefined && !c) return unknownCommandHelp(rest[0]);
    stdout.write(`${c ? c.help : HELP}\n`);
    return EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : null;
  if (!command) {
    // --help is answered here too ("exprot --help" was only a usage error).
    if (asksHelp(rest)) return unknownCommandHelp(first);
    throw new CliError(`unknown command "${escapeControl(first)}" (commands: ${Object.keys(COMMANDS).join(", ")}; neo4j-audit --help)`, EXIT.USAGE);
  }
  // --help is answered before anything is checked: "export --bogus --help" gave the usage error.
  if (asksHelp(rest)) {
    stdout.write(`${command.help}\n`);
    return EXIT.OK;
  }
  let values;
  try {
    let tokens;
    ({ values, tokens } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
      tokens: true,
    }));
    repeated(tokens);
  } catch (e) {
    if (e instanceof CliError) throw Object.assign(e, { message: `${e.message} (neo4j-audit ${first} --help)`, command: first });
    if (!e.code?.startsWith("ERR_PARSE_ARGS")) throw e;
    throw Object.assign(new CliError(`${argError(e)} (neo4j-audit ${first} --help)`, EXIT.USAGE), { command: first });
  }
  if (values.help) {
    stdout.write(`${command.help}\n`);
    return EXIT.OK;
  }

  // Ctrl-C / SIGTERM end `tail --follow` normally (exit 0); anything else stops at once (128 + signal),
  // after the command's own last word, if it has one (`interrupted.note`: export's incomplete output).
  const abort = new AbortController();
  const interrupted = { note: (_signal) => null };
  const onSignal = (sig) => {
    if (first === "tail" && values.follow) {
      abort.abort();
      // The loop ends at once unless it waits: for a reader that does not read (a stalled `| shipper`:
      // the process stayed alive until it read, for ever), or for a poll's answer (up to the
      // timeout). What it waits for is given a moment, then the process ends anyway, still 0.
      setTimeout(() => process.exit(EXIT.OK), 1000).unref();
      return;
    }
    const note = interrupted.note(sig);
    if (note) stderr.write(`neo4j-audit ${first}: ${note}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const conn = connection();
    checkConnection(conn);
    return await command.run(values, { conn, stdout, stderr, signal: abort.signal, interrupted, outcome });
  } catch (e) {
    if (e instanceof CliError) e.command = first;
    throw e;
  }
}

let code;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof CliError) {
    // One line, as the exit statuses promise: a server's message may hold line breaks (Neo4j's
    // SemanticError on the system database is two lines).
    // Control characters escaped: a message may quote a server's answer (another service's page).
    stderr.write(`neo4j-audit${e.command ? ` ${e.command}` : ""}: ${escapeControl(e.message.trim().replace(/\s*[\r\n]+\s*/g, " "))}\n`);
    code = e.code;
  } else {
    stderr.write(`neo4j-audit: internal error: ${e?.stack ?? e}\n`);
    code = 4;
  }
}
// exitCode, not exit(): stdout may still be draining into a pipe.
process.exitCode = code;
