// A url that redirects to another origin: fetch follows the redirect but sends that origin no
// Authorization header (the fetch standard; undici in Node alike), so the real Neo4j behind it
// answers 401. The reason says so and names the final origin, instead of reading as a wrong
// password. The front here is a small redirecting server; the database is the real Neo4j.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { loadPkg, config, unique, trailEvents, NEO4J_URL, NEO4J_PASSWORD } from "./helpers.mjs";

const pkg = await loadPkg();

/** A server on 127.0.0.1 that answers every request with a 307 to `to` + its path (a POST stays a POST). */
async function redirecting(to) {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(307, { location: `${to}${req.url}` }).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, hits: () => hits, close: () => new Promise((r) => server.close(r)) };
}

test("a 401 after a redirect to another origin says so and names that origin, not a wrong password", async () => {
  // Neo4j under another name for this machine: another origin than the front's 127.0.0.1:<port>.
  const neo4j = new URL(NEO4J_URL);
  const final = `http://localhost:${neo4j.port}`;
  const front = await redirecting(final);
  try {
    const trail = unique("redirect");
    const logger = new pkg.AuditLogger(config(trail, { url: front.url, retry: { maxAttempts: 1 } }));
    assert.equal(await logger.logUserAction({ uid: "alice" }, "REDIRECTED", "TEST", {}), false);
    assert.equal(logger.lastError,
      "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized; the request was redirected to another origin, "
      + `${final}, which is sent no credentials (no Authorization header): configure the final URL as url)`);
    assert.ok(!logger.lastError.includes(NEO4J_PASSWORD));
    assert.ok(front.hits() >= 1);
    await logger.close();
    logger.free();
    assert.deepEqual(await trailEvents(trail), []);

    // The final URL, as the reason advises: the event is in Neo4j.
    const direct = new pkg.AuditLogger(config(trail, { url: final }));
    assert.equal(await direct.logUserAction({ uid: "alice" }, "REDIRECTED", "TEST", {}), true, direct.lastError);
    await direct.close();
    direct.free();
    assert.deepEqual((await trailEvents(trail)).map((e) => [e.type, e.userUID]), [["REDIRECTED", "alice"]]);
  } finally {
    await front.close();
  }
});

test("a wrong password without a redirect reads as before", async () => {
  const logger = new pkg.AuditLogger(config(unique("redirect"), { username: "redirect-test-no-such-user", password: "wrong-pw-1", retry: { maxAttempts: 1 } }));
  assert.equal(await logger.logUserAction(null, "X", "Y", {}), false);
  assert.equal(logger.lastError, "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized)");
  await logger.close();
  logger.free();
});

// Client mode alike: an endpoint redirected to another origin (e.g. a front that moved the ingest
// Worker) loses the user's JWT on the way, and the Worker answers "send Authorization: Bearer
// <JWT>" as if the app sent none. The reason names the origin and `endpoint`. The endpoint here is
// a stub of the ingest Worker's answers (the Worker itself: scripts/test-worker e2e).
test("client mode: a 401 after a redirect to another origin says so and names endpoint", async () => {
  const seen = [];
  const stub = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push(req.headers.authorization ?? null);
      if (!req.headers.authorization) {
        res.writeHead(401, { "content-type": "application/json" })
          .end(JSON.stringify({ error: "unauthorized", message: "send Authorization: Bearer <JWT>" }));
        return;
      }
      const events = JSON.parse(body).events;
      res.writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ accepted: events.length, uids: events.map((e) => e.UID) }));
    });
  });
  await new Promise((r) => stub.listen(0, "127.0.0.1", r));
  const final = `http://localhost:${stub.address().port}`;
  const front = await redirecting(final);
  try {
    const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
    const logger = new pkg.AuditLogger({ endpoint: `${front.url}/v1/events`, token, retry: { maxAttempts: 1 }, queue: { enabled: false } });
    assert.equal(await logger.logUserAction({ uid: "alice" }, "REDIRECTED", "TEST", {}), false);
    assert.equal(logger.lastError,
      "authentication failed: HTTP 401 (unauthorized: send Authorization: Bearer <JWT>; the request was redirected to another origin, "
      + `${final}, which is sent no credentials (no Authorization header): configure the final URL as endpoint)`);
    assert.ok(!logger.lastError.includes(token));
    assert.deepEqual(seen, [null]);
    await logger.close();
    logger.free();

    // The final URL, as the reason advises: the token arrives.
    const direct = new pkg.AuditLogger({ endpoint: `${final}/v1/events`, token, queue: { enabled: false } });
    assert.equal(await direct.logUserAction({ uid: "alice" }, "REDIRECTED", "TEST", {}), true, direct.lastError);
    await direct.close();
    direct.free();
    assert.deepEqual(seen, [null, `Bearer ${token}`]);
  } finally {
    await front.close();
    await new Promise((r) => stub.close(r));
  }
});
