// Redaction as a user relies on it, in Node against the real Neo4j: what is stored under keys a
// form or an API names the usual way, and the logger's own token kept out of events and errors
// however it was read. Each event is read back from the graph.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { loadPkg, unique, config, trailEvents, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "./helpers.mjs";

const pkg = await loadPkg();
const servers = [];
after(() => servers.forEach((s) => s.close()));

/** A server on 127.0.0.1 answering each request with `handler(req, body, res)`. */
async function serve(handler) {
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    await handler(req, Buffer.concat(chunks), res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

// A number glued to a listed name made one word of them (`password2`), which the name did not
// match: Django's `password1` / `password2`, a card's `cvv2` and `apiKey2` were stored as sent.
test("a number glued to a listed name does not hide it", async () => {
  const trail = unique("redact-digits");
  const logger = new pkg.AuditLogger(config(trail));
  const details = {
    password1: "hunter2", password2: "hunter2", cvv2: "123", apiKey2: "k-2", token1: "t-1",
    form: [{ db_password2: "x", newPassword2: "y" }], keep: "k", tokens_used: 3, sha256: "abc",
  };
  assert.equal(await logger.logUserAction({ uid: "u-digits" }, "SIGNUP", "auth", details), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  const R = "[REDACTED]";
  assert.deepEqual(JSON.parse(ev.details), {
    password1: R, password2: R, cvv2: R, apiKey2: R, token1: R,
    form: [{ db_password2: R, newPassword2: R }], keep: "k", tokens_used: 3, sha256: "abc",
  });
});

// Stripe names the card code `cvc` (`card_cvc`), which the default list did not hold: a payment
// form's details stored it as sent.
test("the card code is redacted under Stripe's name, cvc, too", async () => {
  const trail = unique("redact-cvc");
  const logger = new pkg.AuditLogger(config(trail));
  const details = { card_cvc: "123", cvc: "456", payment: { cardCvc: "789", cvc_check: "pass" }, cvcs: 2 };
  assert.equal(await logger.logUserAction({ uid: "u-cvc" }, "PAY", "billing", details), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  const R = "[REDACTED]";
  assert.deepEqual(JSON.parse(ev.details), { card_cvc: R, cvc: R, payment: { cardCvc: R, cvc_check: R }, cvcs: 2 });
});

// The token is sent trimmed (`Authorization: Bearer <token>`), but it was looked for as given:
// one read from a file or a secret store with its line break was neither scrubbed from an echo
// of the header in lastError nor kept out of details.
test("a token read with its line break is kept out of events and lastError all the same", async () => {
  const tok = "tok-padded-Secret-4711";
  const basic = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  // Neo4j behind a gateway that takes the bearer token and signs in with Basic credentials.
  const gateway = await serve(async (req, body, res) => {
    assert.equal(req.headers.authorization, `Bearer ${tok}`);
    const upstream = await fetch(`${NEO4J_URL}${req.url}`, {
      method: req.method, body: req.method === "POST" ? body : undefined,
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Basic ${basic}` },
    });
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  const trail = unique("redact-token");
  for (const padded of [`${tok}\n`, ` ${tok}\r\n`, `\t${tok} `]) {
    const logger = new pkg.AuditLogger({ url: gateway, token: padded, trail });
    assert.equal(await logger.logUserAction({ uid: "u-tok" }, "SIGN_IN", "auth",
      { jwt: tok, header: `Bearer ${tok}`, keep: "k" }), true, logger.lastError);
    assert.equal(await logger.logUserAction({ uid: tok }, "SIGN_IN"), false);
    assert.match(logger.lastError, /user holds this logger's password or token/);
    assert.equal(await logger.close(), true, logger.lastError);
  }
  const events = await trailEvents(trail);
  assert.equal(events.length, 3);
  for (const ev of events) {
    assert.deepEqual(JSON.parse(ev.details), { jwt: "[REDACTED]", header: "[REDACTED]", keep: "k" });
  }
  // A server that echoes the request's Authorization header in its error.
  const echo = await serve((req, body, res) => {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(`echo: authorization: ${req.headers.authorization}`);
  });
  const logger = new pkg.AuditLogger({ url: echo, token: `${tok}\n`, trail, retry: { maxAttempts: 1 } });
  assert.equal(await logger.logUserAction({ uid: "u-tok" }, "SIGN_IN"), false);
  assert.match(logger.lastError, /HTTP 500/);
  assert.ok(!logger.lastError.includes(tok), logger.lastError);
  assert.match(logger.lastError, /Bearer \*\*\*/);
  await logger.close();
});

/** Neo4j behind a gateway with credentials of its own, so a logger of it may log in with any
 *  user and password (one holding `+`, `/`, quotes, …): the gateway's URL. */
async function neo4jGateway() {
  const realBasic = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  return serve(async (req, body, res) => {
    const upstream = await fetch(`${NEO4J_URL}${req.url}`, {
      method: req.method, body: req.method === "POST" ? body : undefined,
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Basic ${realBasic}` },
    });
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
}

// docs/redaction.md: the logger's credentials, "each also percent-encoded as encodeURIComponent
// writes it". The Basic credential was looked for only as base64 has it, so a query string's
// `auth=<base64>%3D` (base64's `+`, `/` and `=` encoded) was stored.
test("the Basic credential percent-encoded is kept out of details too", async () => {
  const gateway = await neo4jGateway();
  const trail = unique("redact-basic");
  const [user, password] = ["auditor", "Pw/x+Secret1"];
  const basic = Buffer.from(`${user}:${password}`).toString("base64");
  assert.notEqual(encodeURIComponent(basic), basic);
  const logger = new pkg.AuditLogger({ url: gateway, username: user, password, trail });
  const details = {
    encoded: encodeURIComponent(basic),
    link: `https://x.example/cb?auth=${encodeURIComponent(basic)}&n=1`,
    plain: basic, pw: encodeURIComponent(password), keep: "k",
  };
  assert.equal(await logger.logUserAction({ uid: "u-basic" }, "EXPORT", "data", details), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  const R = "[REDACTED]";
  assert.deepEqual(JSON.parse(ev.details), { encoded: R, link: R, plain: R, pw: R, keep: "k" });
});

// A docs review: the password was looked for as typed, encodeURIComponent'd, lower-cased and
// JSON-escaped as JSON.stringify writes it, so other encoders' echoes showed it whole in lastError
// and were stored in details: Python's quote (keeps `/`), quote_plus and URLSearchParams (`+` for
// a space), lower-case hex (.NET), PHP's json_encode (`\/`), Gson's `\u0027`, HTML entities.
test("the password in other encoders' forms is kept out of lastError and details", async () => {
  const [user, password] = ["auditor", "it's pa/ss w0rd&<1>"];
  const forms = [
    "it%27s%20pa/ss%20w0rd%26%3C1%3E",
    new URLSearchParams({ p: password }).toString().slice(2),
    "it%27s+pa%2fss+w0rd%26%3c1%3e",
    "it's pa\\/ss w0rd&<1>",
    "it\\u0027s pa/ss w0rd\\u0026\\u003c1\\u003e",
    "it&#39;s pa/ss w0rd&amp;&lt;1&gt;",
  ];
  for (const echoed of forms) {
    const echo = await serve((req, body, res) => {
      res.writeHead(400, { "Content-Type": "text/html" });
      res.end(`<p>bad credential ${echoed}</p>`);
    });
    const logger = new pkg.AuditLogger({ url: echo, username: user, password, trail: "t", retry: { maxAttempts: 1 } });
    assert.equal(await logger.logUserAction({ uid: "u-enc" }, "SIGN_IN"), false);
    assert.match(logger.lastError, /HTTP 400/);
    assert.ok(logger.lastError.includes("bad credential ***"), `${echoed}: ${logger.lastError}`);
    assert.ok(!logger.lastError.includes(echoed), logger.lastError);
    await logger.close();
  }
  const gateway = await neo4jGateway();
  const trail = unique("redact-encoders");
  const logger = new pkg.AuditLogger({ url: gateway, username: user, password, trail });
  const details = Object.fromEntries(forms.map((f, i) => [`f${i}`, `x=${f}`]));
  assert.equal(await logger.logUserAction({ uid: "u-enc" }, "EXPORT", "data", { ...details, keep: "k" }), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  const R = "[REDACTED]";
  assert.deepEqual(JSON.parse(ev.details), { ...Object.fromEntries(forms.map((_, i) => [`f${i}`, R])), keep: "k" });
});

// Redaction read keys only, so a secret whose name is a sibling's value was stored as sent: HAR
// headers and cookies ({name: "Authorization", value: "Bearer …"}), form fields ({name:
// "password", value}), Kubernetes' env ({name: "DB_PASSWORD", value}), AWS tags ({Key, Value}).
// The name is matched as a key would be; other pairs, and the name itself, are kept.
test("a name/value pair whose name is a listed key has its value redacted", async () => {
  const trail = unique("redact-pairs");
  const logger = new pkg.AuditLogger(config(trail));
  const details = {
    request: {
      url: "https://api.example/v1/x",
      headers: [{ name: "Authorization", value: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig" },
        { name: "Accept", value: "application/json" }, { name: "X-Api-Key", value: "k-123" }],
      cookies: [{ name: "sessionid", value: "s-1", httpOnly: true }],
    },
    form: [{ field: "password", value: "hunter2" }, { field: "email", value: "ann@example.com" }],
    env: [{ name: "DB_PASSWORD", value: "p-env" }, { name: "DB_HOST", value: "db" }],
    tags: [{ Key: "api_key", Value: { v: 1 } }, { key: "token count", value: 3 }, { key: "tokens_used", value: 4 }],
    note: { name: "password", size: 2 },
  };
  assert.equal(await logger.logUserAction({ uid: "u-pairs" }, "HTTP_CALL", "api", details), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  const R = "[REDACTED]";
  assert.deepEqual(JSON.parse(ev.details), {
    request: {
      url: "https://api.example/v1/x",
      headers: [{ name: "Authorization", value: R }, { name: "Accept", value: "application/json" },
        { name: "X-Api-Key", value: R }],
      cookies: [{ name: "sessionid", value: R, httpOnly: true }],
    },
    form: [{ field: "password", value: R }, { field: "email", value: "ann@example.com" }],
    env: [{ name: "DB_PASSWORD", value: R }, { name: "DB_HOST", value: "db" }],
    tags: [{ Key: "api_key", Value: R }, { key: "token count", value: R }, { key: "tokens_used", value: 4 }],
    note: { name: "password", size: 2 },
  });
});

// The logger's own credential right after a percent escape (`auth=Basic%20<base64>`,
// `%3A<password>` in an encoded DSN) was part of a longer word by the whole-word rule (the
// escape's hex digits before it), and was stored as sent.
test("the logger's credential after a percent escape is kept out of details", async () => {
  const trail = unique("redact-pct");
  const logger = new pkg.AuditLogger(config(trail));
  const basic = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  const details = {
    cb: `https://app.example/cb?auth=Basic%20${encodeURIComponent(basic)}&n=1`,
    dsn: encodeURIComponent(`neo4j://ops:${NEO4J_PASSWORD}@db`), keep: "a%20b",
  };
  assert.equal(await logger.logUserAction({ uid: "u-pct" }, "EXPORT", "data", details), true, logger.lastError);
  assert.equal(await logger.close(), true);
  const [ev] = await trailEvents(trail);
  assert.deepEqual(JSON.parse(ev.details), { cb: "[REDACTED]", dsn: "[REDACTED]", keep: "a%20b" });
});
