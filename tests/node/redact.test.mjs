// Redaction as a user relies on it, in Node against the real Neo4j: what is stored under keys a
// form or an API names the usual way, and the logger's own token kept out of events and errors
// however it was read. Each event is read back from the graph.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { loadPkg, unique, config, trailEvents } from "./helpers.mjs";

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
