// AuditConfig values refused at construction with a reason that says exactly what is accepted
// (the built pkg/ in Node, and the CLI on it): a port fetch never connects to, and the numeric
// settings' values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPkg, config, unique, cypher, NEO4J_USER, NEO4J_PASSWORD, runCli } from "./helpers.mjs";

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


// Found by a new user (round 48): JSON.stringify reads an object's own enumerable members only,
// so a Map, a Set or a class whose settings are getters was read as `{}`: `labels: new Map(…)`
// built a logger that wrote under the default labels, `retry: new Map([["maxAttempts", 0]])` was
// not refused, a config class with `get url()` was refused as "url is missing", and options given
// as a Map or as a class with `get targets()` resolved `true` with the event stored without its
// targets.
test("a Map, Set or class instance with getters as the config, a section of it or options is refused, not read as empty", async () => {
  const pkg = entries[""];
  const base = config(unique("oddcfg"));
  const map = /^invalid config: invalid type for `labels`: an instance of Map; JSON reads only an object's own members/;
  assert.match(refusal(pkg, { ...base, labels: new Map([["event", "E"]]) }), map);
  assert.match(refusal(pkg, { ...base, retry: new Map([["maxAttempts", 0]]) }), /^invalid config: invalid type for `retry`: an instance of Map;/);
  assert.match(refusal(pkg, { ...base, queue: new Set() }), /^invalid config: invalid type for `queue`: an instance of Set;/);
  assert.match(refusal(pkg, new Map(Object.entries(base))), /^invalid config: invalid type: an instance of Map;/);
  class Settings { get url() { return base.url; } get password() { return base.password; } }
  assert.match(refusal(pkg, new Settings()), /^invalid config: invalid type: an instance of Settings; JSON reads only an object's own members, not its getters \(`url`\)/);
  for (const e of ["read", "verify"]) assert.match(refusal(entries[e], { ...base, labels: new Map() }), map, e);
  // What JSON reads whole is still taken: a class instance's own members, a null prototype, a Proxy.
  class Own { constructor() { Object.assign(this, base); } method() {} }
  for (const cfg of [new Own(), Object.assign(Object.create(null), base), new Proxy({ ...base }, {})]) new pkg.AuditLogger(cfg).free();
  // The one-shot form refuses it too (false, nothing written).
  assert.equal(await pkg.logUserAction({ ...base, labels: new Map([["event", "E"]]) }, null, "ONESHOT_MAP"), false);

  const logger = new pkg.AuditLogger(base);
  const targets = [{ label: "Document", uid: "d1" }];
  class Opts { get targets() { return targets; } }
  for (const [options, why] of [
    [new Map([["targets", targets]]), /^invalid input: options: invalid type: an instance of Map;/],
    [new Opts(), /^invalid input: options: invalid type: an instance of Opts; .*getters \(`targets`\)/],
    [{ targets: [new Map([["label", "Document"], ["uid", "d1"]])] }, /^invalid input: options: invalid type for `0`: an instance of Map;/],
  ]) {
    assert.equal(await logger.logUserAction(null, "ODD_OPTIONS", null, null, options), false, why.source);
    assert.match(logger.lastError, why);
  }
  // Own members of a class instance still count.
  class OwnOpts { constructor() { this.targets = targets; } }
  assert.equal(await logger.logUserAction(null, "OWN_OPTIONS", null, null, new OwnOpts()), true, logger.lastError);
  assert.equal(await logger.close(5000), true, logger.lastError);
  const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType, e.targetKeys", { trail: base.trail });
  assert.deepEqual(rows, [["OWN_OPTIONS", ["Document:d1"]]]);
});

test("a Promise as logUserAction's options or a read's query (a missing await) is refused, not read as empty", async () => {
  // Found by a new front-end developer: options from an async helper passed without `await` were
  // read as {} (a Promise's JSON), and the call resolved true with the event stored without its targets.
  const base = config(unique("promiseopts"));
  const logger = new entries[""].AuditLogger(base);
  const targets = [{ label: "Document", uid: "d1" }];
  assert.equal(await logger.logUserAction(null, "PROMISE_OPTIONS", null, null, Promise.resolve({ targets })), false);
  assert.equal(logger.lastError, "invalid input: options: invalid type: a Promise (await it first)");
  assert.equal(await logger.logUserAction(null, "THENABLE_OPTIONS", null, null, { targets, then() {} }), false);
  assert.equal(logger.lastError, "invalid input: options: invalid type: a Promise (await it first)");
  assert.equal(await logger.close(5000), true, logger.lastError);
  assert.deepEqual(await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN count(e)", { trail: base.trail }), [[0]]);
  assert.match(refusal(entries[""], Promise.resolve(base)), /^invalid config: invalid type: a Promise \(await it first\)/);
  const reader = new entries.read.AuditLogger(base);
  assert.equal(await reader.getAuditTrail(Promise.resolve({ limit: 1 })), null);
  assert.match(reader.lastError, /^invalid input: .*a Promise \(await it first\)/);
  await reader.close();
});

// Found by the session-53 fuzzer (rv-fuzz): what JSON.stringify writes as `null` or leaves out
// though the member holds something (a boxed NaN, an invalid Date, a toJSON that returns null or
// undefined) was read as "not given": `timeoutMs: new Number(NaN)` built a logger with the
// default 10000, `redact: new Date(NaN)` one with the default list, and options
// `{targets: new Date(NaN)}` or a target's `role: new Number(NaN)` resolved `true` with the event
// stored without its targets or role (a NaN `role` itself is refused).
test("a member JSON would write as null or leave out (boxed NaN, invalid Date, toJSON null/undefined) is refused, not read as not given", async () => {
  const pkg = entries[""];
  const base = config(unique("nullish"));
  for (const timeoutMs of [new Number(NaN), new Number(Infinity)]) {
    assert.equal(refusal(pkg, { ...base, timeoutMs }), "invalid config: timeoutMs must be an integer between 1 and 600000", String(timeoutMs));
  }
  for (const [cfg, key] of [[{ timeoutMs: new Date(NaN) }, "timeoutMs"], [{ redact: new Date(NaN) }, "redact"], [{ retry: { toJSON: () => null } }, "retry"],
    [{ queue: { enabled: { toJSON: () => undefined } } }, "enabled"], [{ labels: { event: { toJSON: () => null } } }, "event"]]) {
    assert.match(refusal(pkg, { ...base, ...cfg }), new RegExp(`^invalid config: invalid value for \`${key}\`: .*would read as not given`), key);
  }
  // Still taken: null, undefined, a boxed finite number.
  new pkg.AuditLogger({ ...base, timeoutMs: new Number(5000), retry: null, redact: undefined }).free();
  const logger = new pkg.AuditLogger(base);
  for (const options of [{ targets: new Date(NaN) }, { targets: new Number(NaN) }, { targets: { toJSON: () => null } }, { targets: { toJSON: () => undefined } },
    { targets: [{ label: "Document", uid: "d1", role: new Number(NaN) }] }, { targets: [{ label: "Document", uid: "d1", role: new Date(NaN) }] }]) {
    assert.equal(await logger.logUserAction(null, "NULLISH", null, null, options), false, JSON.stringify(options));
    assert.match(logger.lastError, /^invalid input: options: invalid value for `(targets|role)`: /);
  }
  // An explicit null role or targets is still "none".
  assert.equal(await logger.logUserAction(null, "NULL_ROLE", null, null, { targets: [{ label: "Document", uid: "d1", role: null }] }), true, logger.lastError);
  assert.equal(await logger.logUserAction(null, "NULL_TARGETS", null, null, { targets: null }), true, logger.lastError);
  assert.equal(await logger.close(5000), true, logger.lastError);
  const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType ORDER BY e.eventType", { trail: base.trail });
  assert.deepEqual(rows, [["NULL_ROLE"], ["NULL_TARGETS"]]);
});

// Found by the session-53 fuzzer (rv-fuzz): the constructor's refusal quotes the value or key it
// refuses, so a password or token given in another member too (swapped environment variables:
// `api: process.env.NEO4J_PASSWORD`) was thrown, and so printed, whole.
test("the constructor's refusal never quotes the config's password or token, whichever member holds it", () => {
  const pw = "S3cret-pw-4711";
  const token = "tok-secret-0815";
  const base = { url: "http://127.0.0.1:7474", username: "neo4j", password: pw };
  for (const pkg of Object.values(entries)) {
    for (const cfg of [{ api: pw }, { delivery: pw }, { redactMatch: pw }, { [pw]: 1 }, { labels: { event: pw } }, { labels: { [pw]: "A" } }, { retry: { [pw]: 1 } },
      { url: `http://${pw}/` }, { url: `http://${pw}.example/` }, { username: undefined, password: undefined, token, api: token }, { username: undefined, password: undefined, token, labels: { user: token } }]) {
      const m = refusal(pkg, { ...base, ...cfg });
      assert.ok(!m.includes(pw) && !m.includes(token), m);
      assert.match(m, /^invalid config: .*\*\*\*/, m);
    }
    // What is not a secret is still quoted.
    assert.equal(refusal(pkg, { ...base, api: "bolt" }), "invalid config: unknown variant `bolt` of api, expected `tx` or `query`");
  }
});

// Found by a new user (round 48): a lone surrogate in a config string (a password or trail cut
// mid-pair) was refused as "config could not be read as JSON", naming neither the member nor why.
test("a lone UTF-16 surrogate in a config or options string is refused naming the member, never the value", async () => {
  const pkg = entries[""];
  const base = config(unique("oddsurrogate"));
  assert.equal(refusal(pkg, { ...base, password: "pw\uD800" }),
    "invalid config: invalid value for `password`: a lone UTF-16 surrogate (not valid Unicode), which would be read altered");
  assert.match(refusal(pkg, { ...base, trail: "t\uDC00" }), /^invalid config: invalid value for `trail`: a lone UTF-16 surrogate/);
  assert.match(refusal(pkg, { ...base, labels: { event: "E\uD800" } }), /^invalid config: invalid value for `event`: a lone UTF-16 surrogate/);
  assert.match(refusal(pkg, { ...base, ["x\uD800"]: 1 }), /^invalid config: invalid key: a member name holds a lone UTF-16 surrogate/);
  assert.match(refusal(entries.read, { ...base, password: "\uDBFF" }), /^invalid config: invalid value for `password`: a lone UTF-16 surrogate/);
  const logger = new pkg.AuditLogger(base);
  assert.equal(await logger.logUserAction(null, "ODD_SURROGATE", null, null, { targets: [{ label: "D", uid: "d\uD800" }] }), false);
  assert.match(logger.lastError, /^invalid input: options: invalid value for `uid`: a lone UTF-16 surrogate/);
  await logger.close(5000);
  assert.deepEqual(await cypher("MATCH (t:AuditTrail {name: $trail}) RETURN count(t)", { trail: base.trail }), [[0]]);
});

test("a cycle in the config or in options is refused with its reason on one line", async () => {
  // Found by a new user: V8's "Converting circular structure to JSON" came through with its line
  // breaks ("\n    --> starting at object …"), spreading lastError and the log lines holding it.
  const pkg = entries[""];
  const base = config(unique("cycle"));
  const cyclic = { ...base, retry: {} };
  cyclic.retry.back = cyclic;
  const m = refusal(pkg, cyclic);
  assert.match(m, /^invalid config: config could not be read as JSON \(.*circular.*\)$/i);
  assert.doesNotMatch(m, /\n/);
  const logger = new pkg.AuditLogger(base);
  const options = { targets: [] };
  options.self = options;
  assert.equal(await logger.logUserAction(null, "CYCLIC_OPTIONS", null, null, options), false);
  assert.match(logger.lastError, /^invalid input: options could not be read as JSON \(.*circular.*\)$/i);
  assert.doesNotMatch(logger.lastError, /\n/);
  assert.equal(await logger.close(5000), true, logger.lastError);
  assert.deepEqual(await cypher("MATCH (t:AuditTrail {name: $trail}) RETURN count(t)", { trail: base.trail }), [[0]]);
});

test("a plain config or options object made in another realm (a frame, a vm context) is read; a Map from there is still refused", async () => {
  // Found by the demo's e2e test (a same-origin frame): the getter check walked up to the other
  // realm's Object.prototype, found its `__proto__` accessor and refused a plain object
  // ("invalid type: an instance of Object; … not its getters (`__proto__`)").
  const { runInNewContext } = await import("node:vm");
  const pkg = entries[""];
  const base = config(unique("realm"));
  const foreign = runInNewContext("JSON.parse(text)", { text: JSON.stringify(base) });
  assert.notEqual(Object.getPrototypeOf(foreign), Object.prototype, "made in another realm");
  const logger = new pkg.AuditLogger(foreign);
  const options = runInNewContext('({ targets: [{ label: "Document", uid: "d-realm" }] })');
  assert.equal(await logger.logUserAction(null, "OTHER_REALM", null, null, options), true, logger.lastError);
  assert.match(refusal(pkg, { ...base, labels: runInNewContext('new Map([["event", "E"]])') }), /^invalid config: invalid type for `labels`: an instance of Map;/);
  assert.equal(await logger.close(5000), true, logger.lastError);
  assert.deepEqual(await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType, e.targetKeys", { trail: base.trail }),
    [["OTHER_REALM", ["Document:d-realm"]]]);
});

test("a refusal quotes at most 100 characters of a key or value it refuses, then … and its length; a password cut there leaves none of it", async () => {
  // Found in review: a config key or value of 1 MB (an object spread by mistake, a file's text)
  // made an exception message and a lastError of 1 MB, logged whole. The cut is scrubbed: a
  // password in the key, cut after its first characters, does not show them.
  const K = "k".repeat(1_000_000);
  const cut = `${"k".repeat(100)}… (1000000 bytes)`;
  const password = "Zq9s3cr3t-pass-word";
  for (const [name, pkg] of Object.entries(entries)) {
    for (const [cfg, want] of [
      [{ [K]: 1 }, `invalid config: unknown field \`${cut}\` in config, expected one of \``],
      [{ retry: { [K]: 1 } }, `invalid config: unknown field \`${cut}\` in retry, expected one of \``],
      [{ api: K }, `invalid config: unknown variant \`${cut}\` of api, expected `],
      [{ database: K }, `invalid config: database "${cut}" `],
      [{ labels: { event: K } }, `invalid config: labels.event "${cut}" `],
    ]) {
      const m = refusal(pkg, config("x", cfg));
      assert.ok(m.startsWith(want), `${name}: ${m.slice(0, 300)}`);
      assert.ok(m.length < 700, `${name}: ${m.length} characters`);
    }
    // A key holding the password, cut 3 and 1 characters into it: those go too (*** before the cut).
    for (const pad of [97, 99]) {
      const m = refusal(pkg, config("x", { password, [`${"k".repeat(pad - 1)} ${password} ${"x".repeat(100)}`]: 1 }));
      assert.ok(m.startsWith(`invalid config: unknown field \`${"k".repeat(pad - 1)} ***… (`), `${name}: ${m.slice(0, 200)}`);
      assert.ok(!m.includes("Zq9") && !m.includes(" Z…"), m);
    }
    // Whole within the first 100 characters: scrubbed as before.
    const m = refusal(pkg, config("x", { password, [`a ${password} ${"x".repeat(100)}`]: 1 }));
    assert.ok(m.startsWith("invalid config: unknown field `a *** xxx"), m.slice(0, 200));
    assert.ok(!m.includes("Zq9"), m);
  }
  const { AuditLogger } = entries.verify;
  const logger = new AuditLogger(config(unique("config-rules-long-key")));
  for (const [call, want] of [
    [() => logger.getAuditTrail({ [K]: 1 }), `invalid input: options: unknown field \`${cut}\`, expected one of `],
    [() => logger.getAuditTrail({ [K]: () => 1 }), `invalid input: ${cut} must be a string or a number`],
    [() => logger.getAuditTrail({ [K]: {} }), `invalid input: options: unknown field \`${cut}\``],
    [() => logger.getUserActivity("u1", { [K]: 1 }), `invalid input: getUserActivity options are since, until, actionType, category, limit and cursor; got \`${cut}\``],
    [() => logger.verifyTrail({ anchors: [{ streamId: K, seq: 1, hash: "x" }] }), `invalid input: anchors: the anchor of stream ${cut} at seq 1: its hash`],
    [() => logger.verifyTrail({ publicKey: { kid: K, x: "short" } }), `invalid input: publicKeys: key "${cut}"`],
  ]) {
    assert.equal(await call(), null);
    assert.ok(logger.lastError.startsWith(want), logger.lastError.slice(0, 300));
    assert.ok(logger.lastError.length < 700, `${logger.lastError.length} characters`);
  }
  await logger.close();
});
