// The CLI's word on a connection that fails before any data: a refused password with white space
// around it. As a user runs it (a child process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "./helpers.mjs";

const CLI = join(ROOT, "cli", "neo4j-audit.mjs");
const ENV = { ...process.env, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD };

/** Runs the CLI to completion: {code, stdout, stderr}. */
function cli(args, env = ENV) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("a refused login whose password has leading or trailing white space says so, never the password", async () => {
  // A user that does not exist: a wrong login that cannot lock the shared `neo4j` user out.
  const secret = "not-the-password-5d2a";
  // verify and export read through the library (its lastError), schema through the CLI's own request.
  for (const [cmd, password] of [["verify", `${secret}\n`], ["export", ` ${secret}`], ["schema", `${secret}\r\n`]]) {
    const r = await cli([cmd], { ...ENV, NEO4J_USER: "cli-test-no-such-user", NEO4J_PASSWORD: password });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`^neo4j-audit ${cmd}: Neo4j at \\S+ refused the credentials of user "cli-test-no-such-user" \\(NEO4J_USER / NEO4J_PASSWORD\\): authentication failed: HTTP 401 \\(Neo\\.ClientError\\.Security\\.Unauthorized\\); NEO4J_PASSWORD has leading or trailing white space \\(a line break read with it from a file\\?\\)\\n$`));
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), r.stderr);
  }
  // White space inside a password is no hint.
  const inside = await cli(["verify"], { ...ENV, NEO4J_USER: "cli-test-no-such-user", NEO4J_PASSWORD: "not the password" });
  assert.equal(inside.code, 3, inside.stderr);
  assert.doesNotMatch(inside.stderr, /white space/);
});
