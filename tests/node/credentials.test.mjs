// setCredentials on a live logger (docs/javascript.md, "Credentials that change"), against the
// real Neo4j: a Neo4j user made for the test whose password is rotated, and the ingest Worker
// (pkg/worker's handleIngest, served from Node) refusing an expired JWT. Before the setter, the
// events such a logger held (Node's queue is its memory) were lost with it: a new logger never
// sees them. Every test reads the graph back.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import {
  loadPkg, unique, config, cypher, trailEvents, proxiesClosedAfter, ingestServer,
  NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD,
} from "./helpers.mjs";
import { signJwt, nowSecs } from "../worker/jwt.mjs";

const pkg = await loadPkg();
const proxy = proxiesClosedAfter(after);

/** A statement on Neo4j's system database, as the admin user (CREATE/ALTER/DROP USER). */
async function system(statement) {
  const auth = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  const res = await fetch(`${NEO4J_URL}/db/system/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${auth}` },
    body: JSON.stringify({ statements: [{ statement }] }),
  });
  const body = await res.json();
  if (body.errors.length) throw new Error(`${statement}: ${JSON.stringify(body.errors)}`);
}

/** A Neo4j user of its own for a test, dropped after the file's tests. */
const users = [];
after(async () => {
  for (const u of users) await system(`DROP USER ${u} IF EXISTS`);
});
async function neo4jUser(password) {
  const name = `cred_${randomUUID().replaceAll("-", "")}`;
  await system(`CREATE USER ${name} SET PASSWORD '${password}' CHANGE NOT REQUIRED`);
  users.push(name);
  return name;
}

/** The UIDs of the events in an audit write's body. */
const uidsOf = (body) => JSON.parse(body).statements.flatMap((s) => s.parameters?.events ?? []).map((e) => e.UID);

test("a rotated Neo4j password: the events its 401s left waiting go out after setCredentials, with their UIDs", async () => {
  const [pw1, pw2] = [`pw1-${randomUUID()}`, `pw2-${randomUUID()}`];
  const user = await neo4jUser(pw1);
  const refusedUids = [];
  // Records the UIDs of each write Neo4j refused the login of (passed through, never altered).
  const p = await proxy(async (body, res, forward) => {
    if (!body.includes("UNWIND $events")) return false;
    const { status, body: answer } = await forward();
    if (status === 401) refusedUids.push(...uidsOf(body));
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(answer);
    return true;
  });
  const trail = unique("cred-rotated");
  const logger = new pkg.AuditLogger({ url: p.url, username: user, password: pw1, trail });
  assert.equal(await logger.logUserAction({ uid: "u1" }, "BEFORE_ROTATION"), true, logger.lastError);
  await system(`ALTER USER ${user} SET PASSWORD '${pw2}'`);

  // Calls made together: one request, one failed login (Neo4j locks a user after 3).
  const held = await Promise.all(["HELD_1", "HELD_2", "HELD_3"].map((t) => logger.logUserAction({ uid: "u1" }, t)));
  assert.deepEqual(held, [false, false, false]);
  assert.match(logger.lastError, /^authentication failed: HTTP 401/);
  assert.equal(logger.stats().queued, 3);
  assert.equal(refusedUids.length, 3);
  // What the setter replaces: a new logger (the one way before it) does not see those events.
  const fresh = new pkg.AuditLogger({ url: p.url, username: user, password: pw2, trail });
  assert.equal(await fresh.flush(), true);
  assert.equal(fresh.stats().queued, 0);
  assert.equal((await trailEvents(trail)).length, 1, "only the event before the rotation is stored");
  await fresh.close();

  // Another user's credentials (the admin's: valid, but another identity) are refused: nothing
  // is sent with them, nothing changes.
  const writes = p.writes.length;
  assert.equal(logger.setCredentials({ username: NEO4J_USER, password: NEO4J_PASSWORD }), false);
  assert.match(logger.lastError, /^invalid config: these credentials are another identity's, not this logger's \(user:cred_\w+\): events are only ever sent under the identity they were logged with; make a new logger for them; nothing was changed$/);
  assert.ok(!logger.lastError.includes(NEO4J_PASSWORD));
  // Another kind, and the constructor's own checks: refused the same way.
  assert.equal(logger.setCredentials({ token: "a-token" }), false);
  assert.match(logger.lastError, /this logger was made with username\/password, so new credentials must be username\/password too/);
  assert.equal(logger.setCredentials({ username: user, password: "" }), false);
  assert.equal(logger.lastError, "invalid config: password is empty (an unset environment variable?)");
  assert.equal(logger.setCredentials({ username: user }), false);
  assert.equal(logger.lastError, "invalid config: username given without password");
  assert.equal(logger.setCredentials({ username: user, password: pw2, url: NEO4J_URL }), false);
  assert.match(logger.lastError, /^invalid config: unknown field `url` in credentials, expected one of `username`, `password`, `token`$/);
  assert.equal(logger.setCredentials("pw"), false);
  assert.equal(logger.setCredentials(null), false);
  assert.equal(logger.stats().queued, 3);
  assert.equal(p.writes.length, writes, "nothing sent after a refused setCredentials");

  // The new password of the same user: taken; the held events go out (flush waits for them).
  assert.equal(logger.setCredentials({ username: user, password: pw2 }), true);
  assert.equal(await logger.flush(), true, logger.lastError);
  assert.equal(logger.lastError, undefined);
  assert.equal(logger.stats().queued, 0);
  assert.equal(await logger.logUserAction({ uid: "u1" }, "AFTER_ROTATION"), true, logger.lastError);
  assert.equal(await logger.close(), true, logger.lastError);
  const stored = await trailEvents(trail);
  assert.deepEqual(stored.map((e) => e.type).sort(), ["AFTER_ROTATION", "BEFORE_ROTATION", "HELD_1", "HELD_2", "HELD_3"]);
  const heldUids = stored.filter((e) => e.type.startsWith("HELD_")).map((e) => e.uid);
  assert.deepEqual(heldUids.sort(), [...refusedUids].sort(), "stored with the UIDs they were first sent with");
});

test("a request in flight keeps its old header; its refused login is sent again with the new credentials", async () => {
  const [pw1, pw2] = [`pw1-${randomUUID()}`, `pw2-${randomUUID()}`];
  const user = await neo4jUser(pw1);
  let release;
  const gate = new Promise((r) => (release = r));
  let arrived;
  const inFlight = new Promise((r) => (arrived = r));
  const statuses = [];
  const p = await proxy(async (body, res, forward) => {
    if (!body.includes("UNWIND $events")) return false;
    if (statuses.length === 0) {
      arrived();
      await gate; // held while the password is rotated and the logger given the new one
    }
    const { status, body: answer } = await forward();
    statuses.push(status);
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(answer);
    return true;
  });
  const trail = unique("cred-in-flight");
  const logger = new pkg.AuditLogger({ url: p.url, username: user, password: pw1, trail, queue: { enabled: false } });
  const call = logger.logUserAction({ uid: "u1" }, "IN_FLIGHT");
  await inFlight;
  await system(`ALTER USER ${user} SET PASSWORD '${pw2}'`);
  assert.equal(logger.setCredentials({ username: user, password: pw2 }), true);
  release();
  assert.equal(await call, true, logger.lastError);
  assert.deepEqual(statuses, [401, 200], "the old header's 401, then the same write with the new one");
  assert.equal(logger.stats().sent, 1, "one attempt");
  assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["IN_FLIGHT"]);
  await logger.close();
});

test("client mode: an expired JWT's events go out with a fresh token of the same user; another user's token is refused", async () => {
  const secret = randomBytes(32).toString("base64url");
  const trail = unique("cred-client");
  const worker = await ingestServer(trail, { AUDIT_JWT_SECRET: secret });
  after(() => worker.close());
  const token = (sub, exp, extra = {}) => signJwt(secret, { sub, aud: "neo4j-audit", iat: nowSecs() - 900, exp, ...extra });
  const alice = `alice-${randomUUID()}`;
  const expired = await token(alice, nowSecs() - 300); // past the Worker's clock-skew leeway
  const logger = new pkg.AuditLogger({ endpoint: worker.endpoint, token: expired });
  const loggedAt = Date.now();
  const held = await Promise.all(["C_HELD_1", "C_HELD_2"].map((t) => logger.logUserAction(null, t)));
  assert.deepEqual(held, [false, false]);
  assert.equal(logger.lastError, "authentication failed: HTTP 401 (unauthorized: token has expired)");
  assert.equal(logger.stats().queued, 2);
  const posts = worker.posts.length;

  // Another user's valid token, and alice's in another tenant (a lasting claim): refused.
  assert.equal(logger.setCredentials({ token: await token(`bob-${randomUUID()}`, nowSecs() + 600) }), false);
  assert.match(logger.lastError, /^invalid config: these credentials are another identity's, not this logger's \(sub:alice-[^|]+\|h:\w+\)/);
  assert.ok(!logger.lastError.includes("bob"), logger.lastError);
  assert.equal(logger.setCredentials({ token: await token(alice, nowSecs() + 600, { org_id: "B" }) }), false);
  assert.match(logger.lastError, /another identity's, not this logger's/);
  assert.equal(logger.setCredentials({ username: "neo4j", password: "pw" }), false);
  assert.equal(logger.lastError, "invalid config: endpoint (client mode) takes a token, not username/password");
  assert.equal(worker.posts.length, posts, "nothing sent with a refused token");
  assert.equal(logger.stats().queued, 2);

  // A fresh token of alice (another exp, iat and jti): the same identity, taken.
  assert.equal(logger.setCredentials({ token: await token(alice, nowSecs() + 600, { jti: randomUUID() }) }), true);
  assert.equal(await logger.flush(), true, logger.lastError);
  assert.equal(logger.stats().queued, 0);
  assert.equal(await logger.close(), true, logger.lastError);
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, e.occurredAt ORDER BY e.eventType",
    { trail },
  );
  assert.deepEqual(rows.map((r) => [r[0], r[1]]), [["C_HELD_1", alice], ["C_HELD_2", alice]]);
  for (const [, , occurredAt] of rows) {
    const t = typeof occurredAt === "string" ? Date.parse(occurredAt) : occurredAt;
    assert.ok(t <= loggedAt + 1000, `stored with the time it was logged at (${occurredAt})`);
  }
  assert.deepEqual(worker.posts.slice(posts).map((p) => p.status), [201]);
});
