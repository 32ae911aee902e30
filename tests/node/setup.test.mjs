// scripts/setup on a machine that lacks part of what README's Set-up assumes: it names what is
// missing before doing anything else, instead of failing minutes later deep inside a step
// (`mvn: command not found` after the Rust and npm steps; without curl, scripts/neo4j waited
// 180 s and reported "not answering" for a Neo4j that was up).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ROOT } from "./helpers.mjs";

/** A PATH of one folder holding every command of this PATH but `leave`, plus `extra` scripts. */
function path(leave, extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), "neo4j-audit-setup-"));
  for (const [name, body] of Object.entries(extra)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    let names = [];
    try { names = readdirSync(d); } catch { continue; }
    for (const n of names) {
      if (leave.includes(n) || existsSync(join(dir, n))) continue;
      try { symlinkSync(join(d, n), join(dir, n)); } catch {}
    }
  }
  return dir;
}

function setup(dir) {
  // HOME elsewhere: setup puts $HOME/.cargo/bin first on PATH.
  const home = mkdtempSync(join(tmpdir(), "neo4j-audit-home-"));
  try {
    return spawnSync("bash", [join(ROOT, "scripts", "setup")], { env: { PATH: dir, HOME: home }, encoding: "utf8" });
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

test("scripts/setup names the missing tools first (here mvn and curl) and changes nothing", () => {
  const r = setup(path(["mvn", "curl"]));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^setup: missing: mvn curl\. /);
  assert.match(r.stderr, /apt-get install/);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
});

test("scripts/setup refuses a Java older than 17 (Neo4j 5.26 needs it), naming the version", () => {
  const java = `#!/bin/sh\necho '    java.specification.version = 11' >&2\necho 'openjdk version "11.0.2"' >&2\n`;
  const r = setup(path(["java"], { java }));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^setup: Java 11 is too old: Neo4j 5\.26 needs Java 17 or 21/);
});

// scripts/neo4j read only NEO4J_HTTP_PORT: `NEO4J_URL=http://127.0.0.1:7480 ./scripts/test`
// started (or found) Neo4j on 7474 while every suite talked to 7480 and failed on a refused
// connection. A loopback NEO4J_URL with a port now gives the port when NEO4J_HTTP_PORT is unset.
function neo4jStatus(env) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^NEO4J_(HTTP_PORT|BOLT_PORT|INSTANCE|URL)$/.test(k)));
  return spawnSync("bash", [join(ROOT, "scripts", "neo4j"), "status"], { env: { ...clean, ...env }, encoding: "utf8" });
}

test("scripts/neo4j takes its port from a loopback NEO4J_URL when NEO4J_HTTP_PORT is unset", () => {
  // A port nothing listens on: status names it, not 7474.
  for (const url of ["http://127.0.0.1:7599", "http://localhost:7599/"]) {
    const r = neo4jStatus({ NEO4J_URL: url });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /not running at http:\/\/127\.0\.0\.1:7599\b/);
  }
  // NEO4J_HTTP_PORT, when set, wins; a URL elsewhere (not this machine's launcher) leaves 7474.
  assert.match(neo4jStatus({ NEO4J_URL: "http://127.0.0.1:7599", NEO4J_HTTP_PORT: "7598" }).stdout, /at http:\/\/127\.0\.0\.1:7598\b/);
  assert.match(neo4jStatus({ NEO4J_URL: "https://neo4j.example.com:7599" }).stdout, /at http:\/\/127\.0\.0\.1:7474\b/);
  // The Neo4j the tests run against (scripts/test starts it at NEO4J_URL): found by its URL alone.
  const url = process.env.NEO4J_URL ?? "http://127.0.0.1:7474";
  if (/^http:\/\/(127\.0\.0\.1|localhost):\d+\/?$/.test(url)) {
    const r = neo4jStatus({ NEO4J_URL: url });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /running at/);
  }
});
