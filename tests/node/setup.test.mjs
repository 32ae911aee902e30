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
