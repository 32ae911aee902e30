// AuditConfig values refused at construction with a reason that says exactly what is accepted
// (the built pkg/ in Node, and the CLI on it): a port fetch never connects to, and the numeric
// settings' values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPkg, config, unique, NEO4J_USER, NEO4J_PASSWORD, runCli } from "./helpers.mjs";

const entries = { "": await loadPkg(), read: await loadPkg("read"), verify: await loadPkg("verify") };

/** The constructor's refusal of `cfg` (it must throw). */
function refusal(pkg, cfg) {
  try {
    new pkg.AuditLogger(cfg).free();
  } catch (e) {
    return e.message;
  }
  assert.fail(`accepted: ${JSON.stringify(cfg)}`);
}

// Found by a user: http://127.0.0.1:6000 (X11's port) made every request fail at once in Node
// ("fetch failed: bad port") and browsers, which read as a passing network error, retried until
// the retry budget was spent, each call false only after seconds.
test("a url or endpoint on one of fetch's bad ports is refused at construction, naming the port and why", () => {
  for (const [name, pkg] of Object.entries(entries)) {
    for (const [url, port] of [["http://127.0.0.1:6000", 6000], ["http://[::1]:10080/db", 10080], ["https://neo4j.example:9", 9], ["http://localhost:25", 25]]) {
      const m = refusal(pkg, config("x", { url }));
      assert.equal(m, `invalid config: url: port ${port} is one of the fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#bad-port), `
        + "to which browsers and Node refuse every request; serve it on another port (Neo4j's HTTP default is 7474, HTTPS 7473)", `${name} ${url}`);
    }
    const m = refusal(pkg, { endpoint: "http://127.0.0.1:6667/v1/events", token: "t" });
    assert.match(m, /^invalid config: endpoint: port 6667 is one of the fetch standard's "bad ports"/, name);
    // Ports next to them, and the schemes' defaults, are fine.
    for (const url of ["http://127.0.0.1:2", "http://127.0.0.1:6001", "http://127.0.0.1:10081", "https://neo4j.example", "https://neo4j.example:443"]) {
      new pkg.AuditLogger(config("x", { url })).free();
    }
  }
});

// Before: http://127.0.0.1:0 was accepted, and every call failed as "connect ECONNREFUSED",
// a passing network error retried until the deadline (2 s for timeoutMs 3000).
test("a url or endpoint on port 0 is refused at construction", () => {
  for (const [name, pkg] of Object.entries(entries)) {
    for (const url of ["http://127.0.0.1:0", "https://neo4j.example:0/db", "http://[::1]:00"]) {
      assert.equal(refusal(pkg, config("x", { url })), "invalid config: url: port 0 is not a port a server listens on; "
        + "give the server's own (Neo4j's HTTP default is 7474, HTTPS 7473)", `${name} ${url}`);
    }
    assert.match(refusal(pkg, { endpoint: "http://127.0.0.1:0/v1/events", token: "t" }), /^invalid config: endpoint: port 0 is not a port/, name);
    new pkg.AuditLogger(config("x", { url: "http://127.0.0.1:1000" })).free();
  }
});

test("the CLI refuses a NEO4J_URL on a bad port as a usage error naming NEO4J_URL, before any request", async () => {
  const env = { ...process.env, NEO4J_URL: "http://127.0.0.1:6000", NEO4J_USER, NEO4J_PASSWORD };
  const started = Date.now();
  const r = await runCli(["schema"], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^neo4j-audit schema: invalid config: url: port 6000 is one of the fetch standard's "bad ports" .*\(check NEO4J_URL\)\n$/);
  assert.ok(Date.now() - started < 10_000);
});

// Before: -1 was "invalid type for `timeoutMs`, expected a non-negative integer" while 0 was
// refused too; NaN and Infinity "invalid value for `timeoutMs`: NaN"; 1e300 (a non-negative
// integer) "expected a non-negative integer"; "100" an "invalid type".
test("every value of timeoutMs that is refused is refused with the integers it accepts", () => {
  const pkg = entries[""];
  for (const timeoutMs of [-1, 0, -0, 0.5, 1.5, 600_001, 1e300, 2 ** 53, 2 ** 64, NaN, Infinity, -Infinity, 10n, "100", true, [], {}]) {
    assert.equal(refusal(pkg, config("x", { timeoutMs })), "invalid config: timeoutMs must be an integer between 1 and 600000", String(timeoutMs));
  }
  for (const timeoutMs of [1, 600_000, null, undefined]) new pkg.AuditLogger(config("x", { timeoutMs })).free();
  // The other numeric settings alike (their lower bound included when it is 0).
  assert.equal(refusal(pkg, config("x", { retry: { maxElapsedMs: -1 } })), "invalid config: retry.maxElapsedMs must be an integer between 0 and 86400000");
  assert.equal(refusal(pkg, config("x", { batch: { flushIntervalMs: NaN } })), "invalid config: batch.flushIntervalMs must be an integer between 0 and 60000");
  assert.equal(refusal(pkg, config("x", { maxDetailsBytes: 1.5 })), "invalid config: maxDetailsBytes must be an integer between 1 and 16777216");
  // A non-finite value of a setting that is not a number keeps its type's reason.
  assert.equal(refusal(pkg, config("x", { trail: NaN })), "invalid config: invalid type for `trail`, expected a string");
  // Options of a call still name the non-finite value (only the config's numbers are read this way).
  const l = new pkg.AuditLogger(config(unique("x")));
  return l.logUserAction(null, "X", "Y", {}, { role: NaN }).then((ok) => {
    assert.equal(ok, false);
    assert.match(l.lastError, /NaN/);
    l.free();
  });
});

