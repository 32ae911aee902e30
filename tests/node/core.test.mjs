// The npm package (pkg/, --target web) in Node 20 against the real Neo4j.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadPkg, unique, config, cypher, closedPort, ROOT, NEO4J_URL } from "./helpers.mjs";
import { post } from "../../src/transport/fetch.js";

const pkg = await loadPkg();

test("logs an event from Node and reads every property back", async () => {
  const trail = unique("node");
  const uid = unique("nodeuser");
  await cypher("CREATE (:User {UID: $uid, name: 'Node User'})", { uid });
  const logger = new pkg.AuditLogger(config(trail));
  const details = { document_id: "doc-456", ip_address: "192.168.1.1", fields_changed: ["title", "content"], at: new Date(0) };
  const ok = await logger.logUserAction({ uid, name: "Node User" }, "DOCUMENT_MODIFIED", "DOCUMENT_MANAGEMENT", details);
  assert.equal(ok, true, logger.lastError);
  assert.equal(logger.lastError, undefined);
  const rows = await cypher(
    `MATCH (t:AuditTrail {name: $trail})-[r:HAS_EVENT]->(e:AuditEvent)-[:PERFORMED_BY]->(u:User)
     RETURN e.UID, e.eventType, e.eventCategory, e.userUID, e.userName, e.details,
            e.timestamp.timezone, r.created = e.timestamp, u.UID, abs(e.timestamp.epochMillis - timestamp()) < 60000`,
    { trail },
  );
  assert.equal(rows.length, 1);
  const [euid, type, cat, userUID, userName, det, tz, createdEq, performer, recent] = rows[0];
  assert.match(euid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(type, "DOCUMENT_MODIFIED");
  assert.equal(cat, "DOCUMENT_MANAGEMENT");
  assert.equal(userUID, uid);
  assert.equal(userName, "Node User");
  assert.deepEqual(JSON.parse(det), JSON.parse(JSON.stringify(details)));
  assert.equal(tz, "Z");
  assert.equal(createdEq, true);
  assert.equal(performer, uid);
  assert.equal(recent, true);
});

test("the Query API path writes the same graph", async () => {
  const trail = unique("nodeq");
  const logger = new pkg.AuditLogger(config(trail, { api: "query" }));
  assert.equal(await logger.logUserAction(null, "LOGIN", "SECURITY"), true, logger.lastError);
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.eventCategory, keys(e)",
    { trail },
  );
  assert.deepEqual(rows.map((r) => r.slice(0, 2)), [["LOGIN", "SECURITY"]]);
  for (const absent of ["userUID", "userName", "details"]) assert.ok(!rows[0][2].includes(absent));
});

test("junk calls resolve false, never reject, never throw", async () => {
  const trail = unique("nodejunk");
  const logger = new pkg.AuditLogger(config(trail));
  const cyclic = {}; cyclic.self = cyclic;
  const calls = [
    () => logger.logUserAction(),
    () => logger.logUserAction(null),
    () => logger.logUserAction(null, 42),
    () => logger.logUserAction({ name: "x" }, "X"),
    () => logger.logUserAction(null, "X", null, cyclic),
    () => logger.logUserAction(null, "X", null, { n: 10n }),
    () => logger.logUserAction(null, "X", null, { f() {} }),
    () => logger.logUserAction(null, "X", null, { m: new Map() }),
    () => logger.logUserAction(null, "X", null, { x: NaN }),
    () => logger.logUserAction(Symbol("u"), "X"),
    () => pkg.logUserAction(),
    () => pkg.logUserAction({ url: "nope" }, null, "X"),
  ];
  for (const call of calls) {
    const p = call();
    assert.ok(p instanceof Promise);
    assert.equal(await p, false);
  }
  assert.match(logger.lastError, /^invalid input/);
  const n = await cypher("MATCH (t:AuditTrail {name: $trail}) RETURN count(t)", { trail });
  assert.equal(n[0][0], 0, "nothing may be written for invalid input");
  // stats().failed counts every call that resolved false: those refused on their JS types or
  // details (read before the rule table) as well as those the rule table refuses. It counted
  // only the latter (a new user's finding: 53 false calls, failed 17).
  assert.equal(logger.stats().failed, 10, "the ten logger calls above (the two one-shot calls have their own logger)");
  assert.equal(await logger.logUserAction(null, "has space"), false);
  assert.equal(logger.stats().failed, 11);
  // stats()'s object (made by src/wasm/details.js statsObject): its members, in this order, numbers.
  const stats = logger.stats();
  assert.deepEqual(Object.keys(stats), ["sent", "committed", "failed", "retried", "queued", "dropped", "deadLettered", "expired"]);
  assert.deepEqual(stats, { sent: 0, committed: 0, failed: 11, retried: 0, queued: 0, dropped: 0, deadLettered: 0, expired: 0 });
});

test("details read by a getter that logs an event itself: each call's details checked on their own", async () => {
  // The details' replacer keeps its state per call (src/wasm/details.js); a nested call made by
  // a getter mid-way must neither lose the outer call's cycle and depth checks nor be refused
  // for the outer call's state.
  const logger = new pkg.AuditLogger(config(unique("nodenested")));
  let inner;
  const cyclic = { k: { get v() { inner = logger.logUserAction(null, "INNER", null, { a: { b: 1 } }); return cyclic; } } };
  assert.equal(await logger.logUserAction(null, "OUTER", null, cyclic), false);
  assert.match(logger.lastError, /details contain a cycle/);
  assert.equal(await inner, true, logger.lastError);
  // The other way round: the nested call's details are refused, the outer call's are not.
  const loop = {}; loop.self = loop;
  const outer = { a: { get b() { inner = logger.logUserAction(null, "INNER", null, loop); return { c: [1, { d: 2 }] }; } } };
  assert.equal(await logger.logUserAction(null, "OUTER", null, outer), true, logger.lastError);
  assert.equal(await inner, false);
  await logger.close();
});

test("constructor throws descriptive errors for bad config", () => {
  assert.throws(() => new pkg.AuditLogger({ url: "http://x", labels: { user: "User) DETACH DELETE (n" } }), /labels\.user/);
  assert.throws(() => new pkg.AuditLogger({ url: "ftp://x" }), /http or https/);
  assert.throws(() => new pkg.AuditLogger({ url: "http://x", api: "bolt" }), /invalid config/);
  assert.throws(() => new pkg.AuditLogger(), /invalid config/);
  // One label for two roles: `trail: "User"` made ensureSchema() put a uniqueness constraint on
  // the application's User(name).
  assert.throws(() => new pkg.AuditLogger({ url: "http://x", labels: { trail: "User" } }), /must differ/);
  assert.throws(() => new pkg.AuditLogger({ url: "http://x", labels: { event: "A", trail: "A" } }), /must differ/);
  // A forgotten url says so (it said "url is not a valid URL (invalid URL)").
  assert.throws(() => new pkg.AuditLogger({ username: "neo4j", password: "x" }), /url is missing/);
  // A trail name with a control character was accepted ("a\u0000b" made a trail node).
  assert.throws(() => new pkg.AuditLogger({ url: "http://x", trail: "a\u0000b" }), /control characters/);
  // A token of whitespace alone (an empty file read with its newline) was accepted and sent as
  // `Bearer ` with nothing after it: every call then failed as "Invalid authentication header",
  // with a schemaWarning blaming schema rights (client mode already refused it).
  for (const token of [" ", "\n", " \t\r\n"]) {
    assert.throws(() => new pkg.AuditLogger({ url: "http://127.0.0.1:7474", token }), /invalid config: token is empty/);
    assert.throws(() => new pkg.AuditLogger({ endpoint: "http://127.0.0.1:8787/v1/events", token }), /invalid config: endpoint \(client mode\) needs a token/);
  }
});

test("a method taken off its logger throws as README says; bound, it resolves", async () => {
  const logger = new pkg.AuditLogger(config(unique("detached")));
  const log = logger.logUserAction;
  assert.throws(() => log(null, "DETACHED"), /^TypeError: Cannot read properties of undefined \(reading '__wbg_ptr'\)/);
  const bound = logger.logUserAction.bind(logger);
  assert.equal(await bound(null, "BOUND"), true, logger.lastError);
  await logger.close();
});

test("the system database is refused at construction, in any case, naming a user database", () => {
  // Found by a new user: `database: "system"` was accepted and every event then failed at Neo4j.
  for (const database of ["system", "SYSTEM"]) {
    assert.throws(() => new pkg.AuditLogger({ url: "http://127.0.0.1:7474", username: "neo4j", password: "pw", database }),
      /^Error: invalid config: database "(system|SYSTEM)" is Neo4j's system database.*"neo4j"/);
  }
  // Client mode sends no database: not refused there.
  assert.doesNotThrow(() => new pkg.AuditLogger({ endpoint: "http://127.0.0.1:8787/v1/events", token: "a.b.c", database: "system" }).free());
});

test("the logger's own password as actionType or category is refused, not stored (redteam38)", async () => {
  const password = "Sesame_open-2024";
  const logger = new pkg.AuditLogger({ url: NEO4J_URL, username: "neo4j", password });
  assert.equal(await logger.logUserAction(null, password), false);
  assert.equal(logger.lastError, "invalid input: actionType holds this logger's password or token");
  assert.equal(await logger.logUserAction(null, "LOGIN", password), false);
  assert.equal(logger.lastError, "invalid input: category holds this logger's password or token");
  assert.equal(logger.stats().sent, 0);
  logger.free();
});

test("client-mode set-up mistakes of a page say what to give (found by a new user, a React SPA developer)", () => {
  // `endpoint: import.meta.env.VITE_AUDIT_ENDPOINT` with the variable unset: JSON.stringify drops
  // the undefined member, and the message named only url, Neo4j's base URL (steering a page
  // towards holding Neo4j credentials). It names client mode's endpoint too.
  assert.throws(() => new pkg.AuditLogger({ endpoint: undefined, token: "a.b.c" }),
    (e) => /^invalid config: url is missing \(Neo4j's HTTP base URL, e\.g\. http:\/\/127\.0\.0\.1:7474; client mode: endpoint, the ingest Worker's \/v1\/events URL\)$/.test(e.message));
  // A path on the page's own server (a dev-server proxy to the Worker): said only "must be an
  // http or https URL".
  assert.throws(() => new pkg.AuditLogger({ endpoint: "/v1/events", token: "a.b.c" }),
    (e) => e.message === "invalid config: endpoint must be an absolute http or https URL (in a page: new URL(path, location.href).href)");
});

test("the browser module used before init(): the constructor names the fix, the one-shot resolves false", async () => {
  // Found by a new user: forgetting `await init()` in a bundled app threw "Cannot read properties
  // of undefined (reading 'auditlogger_new')", and the one-shot logUserAction threw as well.
  // The read entry's names it (found by a new user who had awaited "neo4j-audit"'s init() only).
  for (const [entry, message] of [["", /^neo4j-audit is not initialised: `await init\(\)` \(the default export\)/],
    ["read/", /^neo4j-audit\/read is not initialised: `await init\(\)` \(its default export\)/]]) {
    // A module instance of its own (the query string), never initialised.
    const pkg = await import(new URL(`../../pkg/${entry}neo4j_audit.js?uninitialised`, import.meta.url).href);
    assert.throws(() => new pkg.AuditLogger(config("never")), { message });
    assert.equal(await pkg.logUserAction(config("never"), null, "NEVER"), false);
  }
});

test("an uncaught constructor refusal prints a short source line, then the message", () => {
  // Node prints the source line of an uncaught error: the glue was minified onto one ~13 KB line,
  // which came before the message (review6). Every entry's glue now has lines of ≤ ~400 chars.
  for (const entry of ["", "read/", "worker/"]) {
    const glue = readFileSync(new URL(`../../pkg/${entry}neo4j_audit.js`, import.meta.url), "utf8");
    const longest = Math.max(...glue.split("\n").map((l) => l.length));
    assert.ok(longest < 1000, `pkg/${entry}neo4j_audit.js has a ${longest}-character line`);
  }
  const run = spawnSync(process.execPath, ["--input-type=module", "-e",
    `import { AuditLogger } from ${JSON.stringify(new URL("../../pkg/node.js", import.meta.url).href)}; new AuditLogger({ url: "ftp://x" });`]);
  assert.notEqual(run.status, 0);
  const err = run.stderr.toString();
  const at = err.indexOf("invalid config");
  assert.ok(at >= 0 && at < 1500, `the message comes after ${at} characters of stderr: ${err.slice(0, 300)}`);
});

test("the url checks on wasm (the host's URL, read in one call): each refusal says why, good urls pass", () => {
  const make = (url) => () => new pkg.AuditLogger({ url, username: "neo4j", password: "x" });
  assert.throws(make("not a url"), /url is not a valid URL \(invalid URL\)/);
  assert.throws(make("ftp://h:21"), /url must be http or https, not "ftp"/);
  assert.throws(make("http://u:p@h:7474"), /url must not carry credentials/);
  assert.throws(make("http://u@h:7474"), /url must not carry credentials/);
  assert.throws(make("http://h:7474/?a=1"), /url must not have a query or fragment/);
  // A bare "?" or "#" leaves URL's search and hash empty: the raw text settles it.
  assert.throws(make("http://h:7474/?"), /url must not have a query or fragment/);
  assert.throws(make("http://h:7474#"), /url must not have a query or fragment/);
  assert.throws(make("file:///tmp/x"), /url must be http or https, not "file"$/);
  // A driver's Bolt URI (found by a new user): the message says which URL to give instead.
  for (const url of ["bolt://127.0.0.1:7687", "neo4j://127.0.0.1:7687", "neo4j+s://abc123.databases.neo4j.io"]) {
    assert.throws(make(url), /url must be http or https, not "(bolt|neo4j|neo4j\+s)"; a driver's Bolt URI: give Neo4j's HTTP URL instead, e\.g\. http:\/\/127\.0\.0\.1:7474 \(Aura: https:\/\/<id>\.databases\.neo4j\.io\)$/);
  }
  for (const url of ["https://127.0.0.1:7473/", "http://[::1]:7474", "https://Example.COM:7473", "https://h.example/base/"]) {
    make(url)().free();
  }
  // Plain http to another machine is refused by default (next test); with the opt-out, the
  // syntax checks alone decide.
  const insecure = (url) => () => new pkg.AuditLogger({ url, username: "neo4j", password: "x", allowInsecureHttp: true });
  for (const url of ["HTTP://Example.COM:7474", "http://h.example/base/"]) {
    insecure(url)().free();
  }
  assert.throws(insecure("http://u:p@h.example:7474"), /url must not carry credentials/);
});

test("plain http to a host that is not loopback is refused unless allowInsecureHttp: the password, token or events would travel in cleartext", () => {
  const secret = "SECRET-pw-4711";
  const fix = /; use https:\/\/, or set allowInsecureHttp: true for a trusted private network$/;
  for (const [url, host] of [["HTTP://Example.COM:7474", "example.com"], ["http://10.1.2.3:7474", "10.1.2.3"], ["http://127.evil.example", "127.evil.example"], ["http://[::2]:7474", "[::2]"],
    // Not loopback outside a browser: Node resolves *.localhost through DNS and the hosts file.
    ["http://audit.localhost:7474", "audit.localhost"]]) {
    const cases = [
      [{ url, username: "neo4j", password: secret }, `url: http:// would send the password unencrypted to "${host}"`],
      [{ url, token: secret }, `url: http:// would send the token unencrypted to "${host}"`],
      [{ endpoint: `${url.toLowerCase()}/v1/events`, token: secret }, `endpoint: http:// would send the token unencrypted to "${host}"`],
      // No credentials: refused too (an audit trail written over cleartext can be forged in transit).
      [{ url }, `url: http:// would send the audit events unencrypted and unauthenticated (open to forgery in transit) to "${host}"`],
    ];
    for (const [cfg, start] of cases) {
      let error;
      assert.throws(() => new pkg.AuditLogger(cfg), (e) => ((error = e), true));
      assert.ok(error.message.startsWith(`invalid config: ${start}`), error.message);
      assert.match(error.message, fix);
      assert.ok(!error.message.includes(secret), error.message);
      new pkg.AuditLogger({ ...cfg, allowInsecureHttp: true }).free();
      assert.throws(() => new pkg.AuditLogger({ ...cfg, allowInsecureHttp: false }), /would send/);
    }
  }
  for (const url of ["http://localhost:7474", "http://127.0.0.1:7474", "http://127.9.8.7", "http://[::1]:7474", "https://neo4j.internal:7473"]) {
    new pkg.AuditLogger({ url, username: "neo4j", password: secret }).free();
    new pkg.AuditLogger({ endpoint: `${url}/v1/events`, token: secret }).free();
  }
  assert.throws(() => new pkg.AuditLogger({ url: "http://h.example", allowInsecureHttp: "yes" }), /invalid type for `allowInsecureHttp`, expected a boolean/);
});

test("wrong password: false, reason without the secret", async () => {
  const logger = new pkg.AuditLogger(config(unique("nodeauth"), { username: "audit-test-wrong-login", password: "not-the-pass-123" }));
  assert.equal(await logger.logUserAction(null, "LOGIN"), false);
  assert.match(logger.lastError, /401/);
  assert.ok(!logger.lastError.includes("not-the-pass-123"));
});

test("an https url pointed at Neo4j's plain-http port: one readable line, not OpenSSL's multi-line internals", async () => {
  // Found by a new user (and the CLI): lastError was "network error: fetch failed: 805C...:error:
  // 0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/
  // ssl3_record.c:350:\n".
  // Then it was retried like an unreachable server until the retry policy gave up; now it fails
  // at once (the same handshake can only fail the same way) and says what to change.
  const logger = new pkg.AuditLogger(config(unique("nodetls"), { url: NEO4J_URL.replace(/^http:/, "https:"), retry: { maxAttempts: 1000, maxElapsedMs: 60000 }, queue: { enabled: false } }));
  const t0 = Date.now();
  assert.equal(await logger.logUserAction(null, "TLS"), false);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.equal(logger.lastError, `network error: fetch failed: TLS error (SSL routines: wrong version number) (${new URL(NEO4J_URL.replace(/^http:/, "https:")).origin}): the server answered the TLS handshake in plain HTTP (the URL says https:// but that port serves plain http://: use http://, or the server's TLS port)`);
  assert.ok(!/[\n\r]|ssl3_record\.c|0A00010B/.test(logger.lastError), logger.lastError);
});

test("Neo4j down (a closed port): lastError names where it went (the origin) and the cause's code, never the path, password or token", async () => {
  // Found by a new user: a wrong port gave "network error: Failed to fetch" (browsers) or "fetch
  // failed" (Node), naming no server: with several loggers or an ingest endpoint, which one failed?
  const port = await closedPort();
  const origin = `http://127.0.0.1:${port}`;
  const password = "pw-not-in-errors-4711";
  const token = "tok-not-in-errors-4711";
  for (const cfg of [
    { url: origin, username: "neo4j", password, trail: unique("nodedown") },
    { endpoint: `${origin}/hidden-path/v1/events`, token },
  ]) {
    const logger = new pkg.AuditLogger({ ...cfg, retry: { maxAttempts: 1 }, queue: { enabled: false } });
    assert.equal(await logger.logUserAction(null, "DOWN"), false);
    const why = logger.lastError;
    assert.equal(why, `network error: fetch failed: connect ECONNREFUSED 127.0.0.1:${port} (${origin})`);
    for (const secret of [password, token, "hidden-path", "/db/", "Basic", "Bearer"]) assert.ok(!why.includes(secret), why);
    logger.free();
  }
});

test("a network failure's text (src/transport/fetch.js): a URL's user:password@ and path never in it; a cause's code added when its message lacks it", async () => {
  const port = await closedPort();
  const headers = "Authorization\nBasic YWxpY2U6czNjcmV0\n";
  const fails = (url) => post(url, headers, new Uint8Array(2), 5000).then(() => assert.fail("answered"), (e) => e);
  // Node's own message quotes the whole URL ("... includes credentials: http://alice:s3cret@..."):
  // quoted as its origin.
  const why = await fails(`http://alice:s3cret@127.0.0.1:${port}/secret-path`);
  assert.match(why, new RegExp(` \\(http://127\\.0\\.0\\.1:${port}\\)$`));
  for (const secret of ["alice", "s3cret", "secret-path", "YWxpY2U6czNjcmV0", "Basic"]) assert.ok(!why.includes(secret), why);
  // Causes whose message does not name their code: a certificate error, and the empty
  // AggregateError Node gives when every address of "localhost" refused.
  const real = globalThis.fetch;
  try {
    for (const [cause, text] of [
      [Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "self-signed certificate [DEPTH_ZERO_SELF_SIGNED_CERT]"],
      [Object.assign(new AggregateError([], ""), { code: "ECONNREFUSED" }), "ECONNREFUSED"],
    ]) {
      globalThis.fetch = () => Promise.reject(new TypeError("fetch failed", { cause }));
      assert.equal(await fails("https://neo4j.example:7473/db/neo4j/tx/commit"), `fetch failed: ${text} (https://neo4j.example:7473)`);
    }
    // A browser's bare "Failed to fetch" (no cause, no code) names the origin too.
    globalThis.fetch = () => Promise.reject(new TypeError("Failed to fetch"));
    assert.equal(await fails("http://127.0.0.1:7475/db/neo4j/query/v2"), "Failed to fetch (http://127.0.0.1:7475)");
  } finally {
    globalThis.fetch = real;
  }
});

test("a global fetch that throws or answers no promise (a test's mock, a patch) fails the call, never the process; the event is sent once fetch works again", async () => {
  // Found by a backend developer: with `globalThis.fetch = jest.fn()` (answers undefined) or a
  // patched fetch that throws at once, the throw came out of the logger's own microtask as an
  // uncaught exception ("TypeError: Cannot read properties of undefined (reading 'then')" from
  // src/transport/fetch.js) and ended the Node process, instead of a `false` call.
  const trail = unique("fetchmock");
  const logger = new pkg.AuditLogger({ ...config(trail), retry: { maxAttempts: 2, baseDelayMs: 1 } });
  const real = globalThis.fetch;
  try {
    for (const [mock, why] of [
      [() => { throw new TypeError("fetch is mocked"); }, /^network error: fetch is mocked \(http:/],
      [() => undefined, /^network error: .*undefined/],
    ]) {
      globalThis.fetch = mock;
      assert.equal(await logger.logUserAction({ uid: "u-1" }, "MOCKED", "T", { why: String(why) }), false);
      assert.match(logger.lastError, why);
    }
  } finally {
    globalThis.fetch = real;
  }
  assert.equal(await logger.flush(), true, logger.lastError);
  const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType", { trail });
  assert.deepEqual(rows, [["MOCKED"], ["MOCKED"]]);
  await logger.close();
});

test("a url with a path: false with an HTTP 404 reason naming the url, no schema-rights warning", async () => {
  // Found by a new user: url "http://host:7474/db" gave "neo4j error Neo.ClientError.Request.Invalid:
  // Not Found" and a schemaWarning telling them to run ensureSchema with schema rights.
  const logger = new pkg.AuditLogger(config(unique("nodepath"), { url: `${NEO4J_URL}/db`, queue: { enabled: false } }));
  assert.equal(await logger.logUserAction(null, "PATH"), false);
  assert.match(logger.lastError, /^HTTP 404: Not Found \(url must be Neo4j's base URL/);
  assert.equal(logger.schemaWarning, undefined);
});

test("client mode with endpoint set to Neo4j's own write URL: the 401 reason says it is not the ingest Worker, with Neo4j's text", async () => {
  // Found by a new user: endpoint `${NEO4J_URL}/db/neo4j/tx/commit` (or /query/v2) answered a bare
  // "authentication failed: HTTP 401", which sent them after their token rather than the URL.
  for (const path of ["/db/neo4j/tx/commit", "/db/neo4j/query/v2"]) {
    const logger = new pkg.AuditLogger({ endpoint: `${NEO4J_URL}${path}`, token: "a.b.c", queue: { enabled: false } });
    assert.equal(await logger.logUserAction(null, "NOT_THE_WORKER"), false);
    assert.match(logger.lastError, /^authentication failed: HTTP 401 \(\{"errors":\[\{"code":"Neo\.ClientError\.Security\.Unauthorized"/);
    assert.ok(logger.lastError.endsWith(" (not an answer of the ingest Worker: endpoint must be its POST /v1/events URL; " +
      "Neo4j itself is given as url, with username and password))"), logger.lastError);
    assert.ok(!logger.lastError.includes("a.b.c"), "never the token");
    await logger.close();
  }
});

test("a url without a path whose server answers 404: the reason says that port is not Neo4j's HTTP API, blames no path", async () => {
  // Found by a new user: a dev server on the port (404 to every path) gave "… this url's path is
  // likely wrong" for "http://127.0.0.1:PORT", which has no path (the CLI already said "not Neo4j").
  const { createServer } = await import("node:http");
  const other = createServer((req, res) => req.resume().on("end", () => res.writeHead(404).end("nf")));
  await new Promise((r) => other.listen(0, "127.0.0.1", r));
  try {
    for (const url of [`http://127.0.0.1:${other.address().port}`, `http://127.0.0.1:${other.address().port}/`]) {
      const logger = new pkg.AuditLogger(config(unique("nodeother"), { url, queue: { enabled: false } }));
      assert.equal(await logger.logUserAction(null, "OTHER"), false);
      assert.equal(logger.lastError, "HTTP 404: nf (the url has no path, and Neo4j serves /db/… at its base URL: the server " +
        "on this port is not Neo4j's HTTP API; check the host and port, Neo4j's HTTP port is 7474 by default)");
      await logger.close();
    }
  } finally {
    other.close();
  }
});

test("a url with surrounding whitespace (a padded environment value) is written to; a url without a scheme says to add one", async () => {
  // Found by a new user: " http://…:7474 " passed the constructor, then every call failed with
  // "network error: Failed to parse URL from  http://…:7474 /db/neo4j/tx/commit".
  const trail = unique("nodepadded");
  const logger = new pkg.AuditLogger(config(trail, { url: ` ${NEO4J_URL} \n` }));
  assert.equal(await logger.logUserAction(null, "PADDED"), true, logger.lastError);
  assert.deepEqual(await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.eventType", { trail }), [["PADDED"]]);
  for (const url of ["localhost:7474", "127.0.0.1:7474"]) {
    assert.throws(() => new pkg.AuditLogger(config(trail, { url })),
      /^Error: invalid config: url must start with http:\/\/ or https:\/\/, e\.g\. http:\/\/127\.0\.0\.1:7474$/);
  }
});

test("ensureSchema resolves true and is idempotent", async () => {
  const logger = new pkg.AuditLogger(config(unique("nodeschema")));
  assert.equal(await logger.ensureSchema(), true, logger.lastError);
  assert.equal(await logger.ensureSchema(), true, logger.lastError);
});

test("the package ships TypeScript types for the whole surface", () => {
  const dts = readFileSync(`${ROOT}/pkg/neo4j_audit.d.ts`, "utf8");
  for (const needle of [
    "export interface AuditConfig", "logUserAction(user: AuditUser | null | undefined, actionType: string, category?: string | null, details?: AuditDetails | null, options?: AuditLogOptions | null): Promise<boolean>",
    "export interface AuditTarget",
    "Promise<boolean>", "ensureSchema(): Promise<boolean>", "readonly lastError: string | undefined",
    "export function logUserAction(config: AuditConfig",
  ]) assert.ok(dts.includes(needle), `missing in .d.ts: ${needle}`);
  const read = readFileSync(`${ROOT}/pkg/read/neo4j_audit.d.ts`, "utf8");
  assert.ok(read.includes("getTargetActivity(label: string, uid: string"), "neo4j-audit/read types getTargetActivity");
  // Parameter names are what an editor shows: the README's `options`, not a Rust ident's `options_`.
  assert.ok(read.includes("getUserActivity(uid: string, options?: {"), "getUserActivity(uid, options?)");
  assert.ok(read.includes("getTargetActivity(label: string, uid: string, options?: {"), "getTargetActivity(…, options?)");
  assert.doesNotMatch(read, /\w_\??:/, "a parameter named with a trailing underscore");
});

test("InitOutput in each entry's types names only exports that init() returns", async () => {
  // The release build renames the closure-invoke exports (scripts/minify-wasm-names.mjs); the
  // types listed the old names, which the instance does not have.
  for (const entry of ["", "read/", "worker/"]) {
    const dts = readFileSync(`${ROOT}/pkg/${entry}neo4j_audit.d.ts`, "utf8");
    const members = [.../export interface InitOutput \{([^}]*)\}/.exec(dts)[1].matchAll(/readonly (\w+):/g)].map((m) => m[1]);
    const pkg = await import(new URL(`../../pkg/${entry}neo4j_audit.js?initoutput`, import.meta.url).href);
    const out = pkg.initSync({ module: readFileSync(new URL(`../../pkg/${entry}neo4j_audit_bg.wasm`, import.meta.url)) });
    assert.deepEqual(members.filter((m) => !(m in out)), [], `${entry || "root"}: InitOutput members init() does not return`);
  }
});

test("every config member is read, and each section refuses unknown keys and wrong values", () => {
  // The less common members are parsed by functions of their own (src/wasm/config.rs, for the
  // Workers cold start): each still takes its values and still names what is wrong.
  const full = {
    url: "http://127.0.0.1:7474", database: "neo4j", username: "neo4j", password: "pw", api: "query", trail: "t",
    timeoutMs: 5000, maxDetailsBytes: 4096, labels: { event: "E", trail: "T", user: "U" },
    retry: { maxAttempts: 2, maxElapsedMs: 1000, baseDelayMs: 10, maxDelayMs: 100 },
    batch: { maxEvents: 10, maxBytes: 10000, flushIntervalMs: 0, maxInFlight: 2 },
    queue: { enabled: false, maxEvents: 10, maxBytes: 10000, maxAgeMs: 1000, name: "q" },
    delivery: "committed", redact: ["secret"], redactMatch: "exact", allowInsecureHttp: false,
  };
  new pkg.AuditLogger(full).free();
  const bad = (patch, re) => assert.throws(() => new pkg.AuditLogger({ ...full, ...patch }), re);
  bad({ api: "bolt" }, /unknown variant `bolt` of api, expected `tx` or `query`/);
  bad({ labels: { evnt: "E" } }, /unknown field `evnt` in labels, expected one of `event`, `trail`, `user`$/);
  bad(
    { pasword: "pw" },
    new RegExp(
      "unknown field `pasword` in config, expected one of `url`, `endpoint`, `database`, `username`, `password`, " +
        "`token`, `api`, `trail`, `timeoutMs`, `maxDetailsBytes`, `labels`, `retry`, `batch`, `queue`, `delivery`, " +
        "`redact`, `redactMatch`, `allowInsecureHttp`$",
    ),
  );
  bad({ queue: { nam: "q" } }, /in queue, expected one of `enabled`, `maxEvents`, `maxBytes`, `maxAgeMs`, `name`$/);
  bad({ labels: { event: 3 } }, /invalid type for `labels\.event`, expected a string$/);
  bad({ labels: "E" }, /invalid type for `labels`, expected an object/);
  bad({ retry: { maxAttempt: 2 } }, /unknown field `maxAttempt` in retry/);
  bad({ retry: { maxAttempts: -1 } }, /invalid config: retry\.maxAttempts must be an integer between 1 and 1000$/);
  bad({ batch: { maxEvent: 2 } }, /unknown field `maxEvent` in batch/);
  bad({ batch: { maxInFlight: "4" } }, /invalid config: batch\.maxInFlight must be an integer between 1 and 16$/);
  // A nested member is named by its path: batch and queue both have maxEvents and maxBytes.
  bad({ batch: { maxEvents: -1 } }, /invalid config: batch\.maxEvents must be an integer between 1 and 10000$/);
  bad({ queue: { maxBytes: "1e6" } }, /invalid config: queue\.maxBytes must be an integer between 1024 and 1073741824$/);
  bad({ queue: { name: 3 } }, /invalid type for `queue\.name`, expected a string$/);
  bad({ queue: { enable: true } }, /unknown field `enable` in queue/);
  bad({ queue: { enabled: "yes" } }, /invalid type for `queue\.enabled`, expected a boolean$/);
  bad({ delivery: "later" }, /unknown variant `later` of delivery, expected `committed` or `queued`/);
  bad({ redact: "secret" }, /invalid type for `redact`, expected an array of strings/);
  bad({ redact: ["a", 1] }, /invalid type for `redact`, expected an array of strings/);
  bad({ redactMatch: "fuzzy" }, /unknown variant `fuzzy` of redactMatch, expected `words` or `exact`/);
  // Found by a new user: `redact: [""]` (an unset variable) replaced the default list with one
  // that matches nothing, so passwords were stored as given.
  bad({ redact: [""] }, /invalid config: redact\[0\] "" names no key \(it has no letter or digit\); \[\] turns redaction off$/);
  bad({ redact: ["ssn", " - "], redactMatch: "exact" }, /invalid config: redact\[1\] " - " names no key/);
  bad({ timeoutMs: "5" }, /invalid config: timeoutMs must be an integer between 1 and 600000$/);
  bad({ pasword: "x" }, /unknown field `pasword` in config/);
  // The rules are the Rust API's too (src/config.rs), which names its own settings (`timeout
  // (ms)`, `retry.max_attempts`): JavaScript is told its keys.
  bad({ timeoutMs: 0 }, /invalid config: timeoutMs must be an integer between 1 and 600000$/);
  bad({ retry: { maxAttempts: 0 } }, /invalid config: retry\.maxAttempts must be an integer between 1 and 1000$/);
  bad({ retry: { baseDelayMs: 500, maxDelayMs: 100 } }, /invalid config: retry\.maxDelayMs must be an integer between retry\.baseDelayMs and 3600000$/);
  bad({ batch: { flushIntervalMs: 60001 } }, /invalid config: batch\.flushIntervalMs must be an integer between 0 and 60000$/);
  bad({ token: "t" }, /invalid config: token is exclusive with username\/password$/);
  // A number past 2^32 is refused by its name, not wrapped by the 32-bit wasm (before:
  // `batch.maxEvents: 2 ** 32 + 2` was taken as 2, `maxInFlight: 2 ** 32 + 1` as 1).
  const big = 2 ** 32;
  bad({ maxDetailsBytes: big + 1024 }, /invalid config: maxDetailsBytes must be an integer between 1 and \d+$/);
  bad({ batch: { maxEvents: big + 2 } }, /invalid config: batch\.maxEvents must be an integer between 1 and 10000$/);
  bad({ batch: { maxBytes: big + 4096 } }, /invalid config: batch\.maxBytes must be an integer between 1024 and 67108864$/);
  bad({ batch: { maxInFlight: big + 1 } }, /invalid config: batch\.maxInFlight must be an integer between 1 and 16$/);
  bad({ queue: { maxEvents: big + 10 } }, /invalid config: queue\.maxEvents must be an integer between 1 and 1000000$/);
  bad({ queue: { maxBytes: big + 4096 } }, /invalid config: queue\.maxBytes must be an integer between 1024 and 1073741824$/);
  bad({ retry: { maxAttempts: big + 1 } }, /invalid config: retry\.maxAttempts must be an integer between 1 and 1000$/);
});

test("the Worker entry's handleIngest answers a non-Request with a 500 JSON body instead of throwing", async () => {
  // Found by a new user: handleIngest(null, {}) threw a TypeError out of the first poll (an
  // uncaught exception in Node) instead of resolving.
  const worker = await loadPkg("worker");
  for (const bad of [null, undefined, "https://x/v1/events"]) {
    const resp = await worker.handleIngest(bad, {});
    assert.equal(resp.status, 500);
    const body = await resp.json();
    assert.equal(body.error, "misconfigured");
    assert.match(body.message, /request must be the fetch handler's Request/);
  }
  // Found by review4: an object that is not a Request ({}, a number as url, a Proxy that throws)
  // threw "Cannot read properties of undefined" out of wasm, uncaught, instead of resolving.
  const hostile = new Proxy({}, { get() { throw new Error("boom"); } });
  for (const bad of [{}, { url: 5, method: "POST" }, { url: "https://x/v1/events" }, hostile]) {
    const resp = await worker.handleIngest(bad, {});
    assert.equal(resp.status, 500);
    assert.match((await resp.json()).message, /request must be the fetch handler's Request/);
  }
  // A real Request still reaches the handler (no configuration: its own 500).
  const ok = await worker.handleIngest(new Request("https://audit.example/v1/health"), {});
  assert.notEqual((await ok.json()).message, undefined);
});

test("an application's uniqueness constraint on its user label's UID leaves a new logger's first write one request", async () => {
  // Found by a new user migrating from the Python log_user_action: its application keeps users
  // unique (a constraint on User.UID), beside which Neo4j refuses the library's user_uid index. The
  // first write's schema check required that name, so every new logger (each process, each Worker
  // isolate) was refused, ran the whole schema step and wrote again: 5 requests instead of 1.
  const user = `AppUser${randomUUID().replace(/-/g, "")}`;
  const name = `${user.toLowerCase()}_app_unique`;
  await cypher(`CREATE CONSTRAINT ${name} FOR (u:${user}) REQUIRE u.UID IS UNIQUE`);
  const real = globalThis.fetch;
  try {
    await cypher(`CREATE (:${user} {UID: 'app-user-1', name: 'John Doe'})`);
    const cfg = config(unique("node-app-user"), { labels: { user } });
    const first = new pkg.AuditLogger(cfg);
    assert.equal(await first.ensureSchema(), true, first.lastError);
    assert.equal(first.schemaWarning, undefined);
    await first.close();
    const bodies = [];
    globalThis.fetch = (url, init) => { bodies.push(String(init?.body ?? "")); return real(url, init); };
    const second = new pkg.AuditLogger(cfg);
    assert.equal(await second.logUserAction({ uid: "app-user-1", name: "John Doe" }, "LOGIN", "SECURITY"), true, second.lastError);
    globalThis.fetch = real;
    // Every request is the write (its schema check inside): no SHOW INDEXES, no CREATE. Not
    // "exactly one request": CI on 2026-12-06 saw 2 here (passing alone, twice, on a fresh Neo4j),
    // most likely a retry of the write after a transient error, as when another test file (the
    // suite's files run at once) changes the schema during this write's transaction.
    assert.ok(bodies.length >= 1);
    assert.deepEqual(bodies.filter((b) => !b.includes("UNWIND $events") || /SHOW INDEXES|CREATE (CONSTRAINT|INDEX)/.test(b)), [],
      "the schema check rides in the first write");
    await second.close();
    // The event is linked to the application's user node all the same.
    const rows = await cypher(`MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e)-[:PERFORMED_BY]->(:${user} {UID: 'app-user-1'}) RETURN count(e)`,
      { t: cfg.trail });
    assert.deepEqual(rows, [[1]]);
  } finally {
    globalThis.fetch = real;
    await cypher(`DROP CONSTRAINT ${name} IF EXISTS`);
  }
});

test("the application's constraint on its user label's UID, made after the library's schema step: refused beside <label>_uid until the documented remedy", async () => {
  // The other order of the test above, found racing writers on an empty database: the
  // application and its audit loggers start at the same moment, a logger's first write (or
  // ensureSchema(), `neo4j-audit schema`) makes the plain index <user label>_uid, and the
  // application's migration that then makes its uniqueness constraint on User.UID is refused by
  // Neo4j (IndexAlreadyExists: "A constraint cannot be created until the index has been
  // dropped"). The README said the library made no index on the application's labels, and no
  // page said what to do; docs/troubleshooting.md now does.
  const user = `AppUser${randomUUID().replace(/-/g, "")}`;
  const index = `${user.toLowerCase()}_uid`;
  const name = `${user.toLowerCase()}_app_unique`;
  const row = readFileSync(`${ROOT}docs/troubleshooting.md`, "utf8").split("\n")
    .find((l) => l.startsWith("| ") && l.includes("A constraint cannot be created until the index has been dropped"));
  assert.ok(row, "docs/troubleshooting.md has a row for Neo4j's refusal of the application's constraint");
  // The remedy as the row gives it: the index to drop, `user_uid` for the default labels.
  const drop = /`(DROP INDEX user_uid)`/.exec(row)?.[1];
  assert.ok(drop, `the row names the statement to run: ${row}`);
  assert.match(row, /`labels`/, "the row says what the index is called with other labels");
  try {
    await cypher(`CREATE (:${user} {UID: 'app-user-1', name: 'John Doe'})`);
    const cfg = config(unique("node-app-user-late"), { labels: { user } });
    // A logger's first write on an empty database runs the schema step; here the audit schema is
    // in place, so ensureSchema() (what a deploy step or start-up runs) makes the user index.
    const first = new pkg.AuditLogger(cfg);
    assert.equal(await first.ensureSchema(), true, first.lastError);
    assert.equal(await first.logUserAction({ uid: "app-user-1" }, "LOGIN", "SECURITY"), true, first.lastError);
    await first.close();
    const refused = await cypher(`CREATE CONSTRAINT ${name} FOR (u:${user}) REQUIRE u.UID IS UNIQUE`).then(() => null, (e) => e.message);
    assert.match(refused ?? "", /IndexAlreadyExists/, "Neo4j refuses the constraint beside the library's index");
    await cypher(drop.replace("user_uid", index));
    await cypher(`CREATE CONSTRAINT ${name} FOR (u:${user}) REQUIRE u.UID IS UNIQUE`);
    // Later loggers do not make the index again, and their events are linked to the user.
    const second = new pkg.AuditLogger(cfg);
    assert.equal(await second.logUserAction({ uid: "app-user-1" }, "LOGOUT", "SECURITY"), true, second.lastError);
    assert.equal(await second.ensureSchema(), true, second.lastError);
    assert.equal(second.schemaWarning, undefined);
    await second.close();
    const rows = await cypher(`MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e)-[:PERFORMED_BY]->(:${user} {UID: 'app-user-1'}) RETURN count(e)`,
      { t: cfg.trail });
    assert.deepEqual(rows, [[2]]);
    const kinds = await cypher(`SHOW INDEXES YIELD name, labelsOrTypes, owningConstraint WHERE $l IN labelsOrTypes RETURN name, owningConstraint`, { l: user });
    assert.deepEqual(kinds, [[name, name]]);
  } finally {
    await cypher(`DROP CONSTRAINT ${name} IF EXISTS`);
    await cypher(`DROP INDEX ${index} IF EXISTS`);
  }
});

test("two trail nodes with one name (the Python seed's race) make a schemaWarning that says so, not 'schema rights'", async () => {
  // Found by a new user migrating from the Python log_user_action: its racing first calls left two
  // AuditTrail nodes with one name; the uniqueness constraint could not be created and the warning
  // told them to run ensureSchema "with a user that has schema rights", which they had.
  const trailLabel = `SeedTrail${randomUUID().replace(/-/g, "")}`;
  await cypher(`CREATE (:${trailLabel} {name: 'default', UID: randomUUID()}), (:${trailLabel} {name: 'default', UID: randomUUID()})`);
  const logger = new pkg.AuditLogger(config("default", { labels: { trail: trailLabel } }));
  const warned = [];
  const warn = console.warn;
  console.warn = (...a) => warned.push(a.join(" "));
  try {
    assert.equal(await logger.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY"), true, logger.lastError);
  } finally {
    console.warn = warn;
  }
  assert.match(logger.schemaWarning ?? "", /ConstraintCreationFailed.*stored nodes break one: merge the duplicates, see docs\/migrating\.md, then run ensureSchema/s);
  assert.doesNotMatch(logger.schemaWarning, /schema rights/);
  // Neo4j's message breaks its line ("…):\nBoth Node(…) and Node(…) have the label"): the warning,
  // its console line and lastError are one line each, as every other error text is.
  assert.match(logger.schemaWarning, /\): Both Node\(\d+\) and Node\(\d+\) have the label/);
  assert.doesNotMatch(logger.schemaWarning, /[\r\n]/);
  assert.deepEqual(warned.filter((w) => /ConstraintCreationFailed/.test(w)), [`neo4j-audit: ${logger.schemaWarning}`]);
  assert.equal(await logger.ensureSchema(), false);
  assert.match(logger.lastError ?? "", /^neo4j error Neo\.DatabaseError\.Schema\.ConstraintCreationFailed: [^\r\n]*Both Node/);
  assert.doesNotMatch(logger.lastError, /[\r\n]/);
  await logger.close();
  await cypher(`MATCH (t:${trailLabel}) DETACH DELETE t`);
});

test("a plain index that blocks the UID uniqueness constraint makes a schemaWarning naming it, and ensureSchema false", async () => {
  // Red team 25: Neo4j refuses the constraint beside a plain index on the same property
  // (IndexAlreadyExists); that counted as "an equivalent constraint exists" and writes went on
  // with no uniqueness on UID, unsaid.
  const eventLabel = `PlainIdxEv${randomUUID().replace(/-/g, "")}`;
  const plain = `${eventLabel.toLowerCase()}_plain_uid`;
  await cypher(`CREATE INDEX ${plain} FOR (e:${eventLabel}) ON (e.UID)`);
  const trail = unique("node-plain-index");
  const logger = new pkg.AuditLogger(config(trail, { labels: { event: eventLabel } }));
  try {
    assert.equal(await logger.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY"), true, logger.lastError);
    assert.match(logger.schemaWarning ?? "", /IndexAlreadyExists.*drop the plain index/s);
    const rows = await cypher(`MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:${eventLabel}) RETURN count(e)`, { t: trail });
    assert.equal(rows[0][0], 1);
    assert.equal(await logger.ensureSchema(), false);
    assert.match(logger.lastError ?? "", /IndexAlreadyExists/);
  } finally {
    await logger.close();
    await cypher(`DROP INDEX ${plain} IF EXISTS`);
    await cypher(`MATCH (e:${eventLabel}) DETACH DELETE e`);
  }
});

test("an awaited call waits on no timer: its request leaves before any macrotask, and it resolves in the answer's own turn", async () => {
  // A one-caller loop (bench P1seed "lib c1") pays whatever sits between the call and fetch, and
  // between Neo4j's answer and the promise: a timer there (setTimeout is clamped to >= 1 ms in
  // Node, 4 ms in browsers once nested) would add that to every awaited call.
  const logger = new pkg.AuditLogger(config(unique("node-turns")));
  assert.equal(await logger.ensureSchema(), true, logger.lastError);
  const real = globalThis.fetch;
  const realSetTimeout = globalThis.setTimeout;
  let fired = 0;
  let made = 0;
  let seen;
  globalThis.setTimeout = (f, ms, ...args) => {
    // The library's own (undici makes one of its own per request: its headers timeout).
    if (new Error().stack.includes("neo4j_audit")) made++;
    return realSetTimeout(() => { fired++; f(...args); }, ms);
  };
  try {
    for (let i = 0; i < 3; i++) {
      let macrotask = false;
      let late = false;
      seen = undefined;
      globalThis.fetch = (url, init) => {
        seen = { fired, macrotask };
        // The body is text (src/transport/fetch.js: a typed array could not be sent again after a redirect).
        Promise.resolve(typeof init.body === "string" ? init.body : init.body.text()).then((t) => (seen.statement = JSON.parse(t).statements[0].statement));
        return real(url, init).then((r) => {
          const text = r.text.bind(r);
          r.text = () => text().then((t) => { setImmediate(() => (late = true)); return t; });
          return r;
        });
      };
      const [f0, m0] = [fired, made];
      const p = logger.logUserAction({ uid: `turns-${i}` }, "TURN_CHECK");
      setImmediate(() => (macrotask = true));
      assert.equal(await p, true, logger.lastError);
      assert.ok(seen, "the call sent a request");
      assert.equal(seen.macrotask, false, "the request left before any macrotask ran");
      assert.equal(seen.fired, f0, "no timer fired between the call and its request");
      assert.equal(late, false, "the call resolved in the answer's own turn (no macrotask in between)");
      assert.equal(fired, f0, "no timer fired while the call waited");
      assert.ok(made - m0 <= 1, `at most one timer made by the library per call (the request's timeout): ${made - m0}`);
      // Neo4j keeps the write's plan (src/cypher.rs PLAN_ONCE): no replanning as the trail grows.
      assert.match(seen.statement, /^CYPHER replan=skip MERGE \(t:AuditTrail /);
    }
  } finally {
    globalThis.fetch = real;
    globalThis.setTimeout = realSetTimeout;
    await logger.close();
  }
});

test("an empty password (an unset environment variable) is refused by the constructor, as an empty username is", async () => {
  // `password: process.env.NEO4J_PASSWORD` with `NEO4J_PASSWORD=` in a .env file was accepted, and
  // every call then failed as "authentication failed: HTTP 401" (each a failed login towards
  // Neo4j's lock-out of the user).
  assert.throws(() => new pkg.AuditLogger({ url: NEO4J_URL, username: "neo4j", password: "" }),
    { message: "invalid config: password is empty (an unset environment variable?)" });
  assert.equal(await pkg.logUserAction({ url: NEO4J_URL, username: "neo4j", password: "" }, null, "A"), false);
});

test("the Node entry's error for a .wasm it cannot read blames a bundle only when the file is missing", async () => {
  // Found by a new user (Deno 2, which takes the "node" condition): without --allow-read the
  // import failed with "… (NotCapable: Requires read access …): a bundle for Node moved this
  // module away from it; leave the package out of the bundle …", advice for another cause. Here
  // the .wasm's path is a folder (EISDIR, the same kind of refusal in Node); a missing file keeps
  // the bundle advice (tests/install checks it on real bundles).
  const { cpSync, mkdirSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "node-entry-"));
  try {
    cpSync(join(ROOT, "pkg"), dir, { recursive: true });
    const load = () => spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(join(dir, "node.js"))})`],
      { encoding: "utf8" }).stderr;
    rmSync(join(dir, "neo4j_audit_bg.wasm"));
    mkdirSync(join(dir, "neo4j_audit_bg.wasm"));
    const unreadable = load();
    assert.match(unreadable, /Error: neo4j-audit: cannot read its \.wasm at file:\/\/\/[^\n]*\/neo4j_audit_bg\.wasm \(Error: EISDIR: illegal operation on a directory, read\)\n/);
    assert.doesNotMatch(unreadable, /a bundle for Node moved/);
    rmSync(join(dir, "neo4j_audit_bg.wasm"), { recursive: true });
    assert.match(load(), /cannot read its \.wasm at [^\n]* \(ENOENT\): a bundle for Node moved this module away from it; leave the package out of the bundle/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every Node entry bundled into a CommonJS bundle (esbuild --platform=node, its default format) says to leave the package out", async () => {
  // Found by a new user: `esbuild server.cjs --bundle --platform=node` (format cjs, where esbuild
  // replaces import.meta with {}) gave `TypeError: Invalid URL` (input './neo4j_audit_bg.wasm') at
  // start-up, not the advice the ESM bundle's ENOENT gets (README: "an import error that says so").
  const { build } = await import("esbuild");
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "cjs-bundle-"));
  try {
    for (const sub of ["", "read", "verify", "worker"]) {
      const entry = join(dir, "server.cjs");
      writeFileSync(entry, `require(${JSON.stringify(join(ROOT, "pkg", sub, "node.js"))});\n`);
      await build({ entryPoints: [entry], bundle: true, platform: "node", outfile: join(dir, "out.cjs"), logLevel: "silent" });
      const run = spawnSync(process.execPath, [join(dir, "out.cjs")], { encoding: "utf8" });
      assert.notEqual(run.status, 0);
      const name = `neo4j-audit${sub ? `/${sub}` : ""}`;
      assert.ok(run.stderr.includes(`Error: ${name}: cannot find its .wasm: import.meta.url is undefined, as in a CommonJS bundle ` +
        "for Node that took this module in; leave the package out of the bundle, for Node to import from node_modules " +
        "(esbuild: --packages=external;"), run.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("client mode: a bad endpoint is refused naming endpoint, not url", () => {
  // Found by a new user: `{ endpoint: "https://u:pw@w.example/v1/events", token }` threw "url must
  // not carry credentials; use username/password or token", for a config with no url, where
  // username/password are refused.
  const make = (endpoint) => () => new pkg.AuditLogger({ endpoint, token: "t" });
  assert.throws(make("https://u:pw@w.example/v1/events"), /^Error: invalid config: endpoint must not carry credentials; the user's JWT goes in token$/);
  assert.throws(make("https://w.example/v1/events?x=1"), /^Error: invalid config: endpoint must not have a query or fragment$/);
  assert.throws(make("http://w.example/v1/events"), /^Error: invalid config: (?!url)/);
});

test("a logger shows as AuditLogger in logs and the inspector, each entry", async () => {
  // Found by a new user: console.log(logger) printed `q { __wbg_ptr: … }` (the minified glue's name).
  const { inspect } = await import("node:util");
  for (const entry of ["", "read", "verify"]) {
    const { AuditLogger } = await loadPkg(entry);
    assert.equal(AuditLogger.name, "AuditLogger", entry);
    const l = new AuditLogger({ url: "http://127.0.0.1:7474", username: "neo4j", password: "a-password" });
    assert.match(inspect(l), /^AuditLogger \{/);
    l.free();
  }
});
