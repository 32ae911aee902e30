// Targets through the JavaScript surface (pkg/ in Node 20) against the real Neo4j: the options
// argument of logUserAction, the ON edges, getTargetActivity, and the chain's version 2 encoding
// re-computed here independently from the README.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { loadPkg, unique, config, cypher, NEO4J_PASSWORD } from "./helpers.mjs";

const pkg = await loadPkg("verify"); // getTargetActivity is in neo4j-audit/read, verifyTrail in neo4j-audit/verify (read + verifyTrail)
const write = await loadPkg(); // the write-path entry takes the targets option too
const label = (p) => `${p}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

/** docs/tamper-evidence.md, version 2: v1's fields, source, occurredAt, [[label, uid, role]]. */
function readmeHashV2(ev) {
  const canonical = JSON.stringify([
    "neo4j-audit/chain/v2", ev.streamId, ev.seq, ev.uid, ev.eventType, ev.eventCategory, ev.ts,
    ev.userUID ?? null, ev.userName ?? null, ev.details ?? null, ev.source, ev.occurredAt ?? null,
    ev.targets.map((t) => [t.label, t.uid, t.role ?? null]),
  ]);
  return createHash("sha256").update(canonical, "utf8").update(ev.prevHash, "ascii").digest("hex");
}

test("logUserAction with targets: edges to existing nodes, keys for all, read back by target", async () => {
  const doc = label("N14Doc");
  await cypher(`CREATE (:${doc} {UID: 'doc-456'})`);
  const logger = new pkg.AuditLogger(config(unique("node-targets")));
  const user = { uid: "user-123", name: "John Doe" };
  const targets = [{ label: doc, uid: "doc-456", role: "subject" }, { label: doc, uid: "doc-gone" }];
  assert.equal(await logger.logUserAction(user, "DOCUMENT_MODIFIED", "DOCUMENT_MANAGEMENT", { v: 2 }, { targets }), true, logger.lastError);
  assert.equal(await logger.logUserAction(user, "DOCUMENT_VIEWED", undefined, undefined, { targets: [targets[0]] }), true, logger.lastError);
  assert.equal(await logger.logUserAction(user, "LOGIN", "SECURITY"), true, logger.lastError);

  const page = await logger.getTargetActivity(doc, "doc-456", { limit: 1 });
  assert.ok(page, logger.lastError);
  assert.deepEqual(page.events.map((e) => e.actionType), ["DOCUMENT_VIEWED"]);
  assert.deepEqual(page.events[0].targets, [{ label: doc, uid: "doc-456", role: "subject" }]);
  assert.ok(page.nextCursor);
  const next = await logger.getTargetActivity(doc, "doc-456", { limit: 1, cursor: page.nextCursor });
  assert.deepEqual(next.events.map((e) => e.actionType), ["DOCUMENT_MODIFIED"]);
  assert.deepEqual(next.events[0].targets, [{ label: doc, uid: "doc-456", role: "subject" }, { label: doc, uid: "doc-gone", role: null }]);
  assert.equal(next.nextCursor, null);
  const filtered = await logger.getTargetActivity(doc, "doc-456", { actionType: "DOCUMENT_MODIFIED" });
  assert.equal(filtered.events.length, 1);
  assert.equal((await logger.getTargetActivity(doc, "doc-gone")).events.length, 0, "no node, no edge");
  const viaTrail = await logger.getAuditTrail({ target: `${doc}:doc-456` });
  assert.equal(viaTrail.events.length, 2);

  // Stored as the README says, and hashed in version 2 (the LOGIN event stays version 1).
  const uid = next.events[0].uid;
  const [[keys, roles, nOn]] = await cypher(
    "MATCH (ev:AuditEvent {UID: $uid}) RETURN ev.targetKeys, ev.targetRoles, count { (ev)-[:ON]->() }", { uid });
  assert.deepEqual([keys, roles, nOn], [[`${doc}:doc-456`, `${doc}:doc-gone`], ["subject", ""], 1]);
  const [row] = await cypher(
    `MATCH (ev:AuditEvent {UID: $uid}) RETURN ev.UID, ev.eventType, ev.eventCategory, ev.timestamp.epochMillis,
       ev.userUID, ev.userName, ev.details, ev.streamId, ev.seq, ev.prevHash, ev.hash, ev.source, ev.occurredAt.epochMillis`, { uid });
  const [u, eventType, eventCategory, ts, userUID, userName, details, streamId, seq, prevHash, hash, source, occurredAt] = row;
  const ev = { uid: u, eventType, eventCategory, ts, userUID, userName, details, streamId, seq, prevHash, source, occurredAt,
    targets: next.events[0].targets };
  assert.equal(readmeHashV2(ev), hash);
  const report = await logger.verifyTrail();
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.checked, 3);
});

test("bad targets and options are refused with a reason, nothing is written", async () => {
  const logger = new write.AuditLogger(config(unique("node-targets-bad")));
  const many = Array.from({ length: 17 }, (_, i) => ({ label: "Document", uid: `d${i}` }));
  for (const [opts, says] of [
    [{ targets: [{ label: "Not a label", uid: "d" }] }, "label"],
    [{ targets: many }, "16"],
    [{ targets: [{ label: "Document" }] }, "targets\\[0\\]"],
    [{ targets: "Document:d" }, "array"],
    [{ target: [] }, "unknown option `target`; logUserAction's options are: targets"],  // the key named
    [{ targets: [{ label: "Document", uid: "d\ud800" }] }, "surrogate"],
    [[], "object"],
    // What JSON.stringify drops or turns into null is refused, not read as "not given": these
    // were stored (`true`) without their targets or role.
    [{ targets: NaN }, "^invalid input: options: invalid value for `targets`: NaN$"],
    [{ targets() { return []; } }, "^invalid input: options: invalid type for `targets`: a function$"],
    [{ targets: [{ label: "Document", uid: "d", role: NaN }] }, "invalid value for `role`: NaN"],
    [{ targets: [{ label: "Document", uid: "d", role: Symbol("r") }] }, "invalid type for `role`: a symbol"],
    // The logger's own password in a target's uid (stored as text: targetKeys, the ON edge) is
    // refused as in user.uid, without quoting it (redteam28: it was stored as given).
    [{ targets: [{ label: "Document", uid: "d" }, { label: "Document", uid: `neo4j:${NEO4J_PASSWORD}` }] },
      "^invalid input: a target holds this logger's password or token$"],
  ]) {
    assert.equal(await logger.logUserAction(null, "X", null, null, opts), false);
    assert.match(logger.lastError, new RegExp(says), JSON.stringify(opts).slice(0, 60));
  }
  assert.equal(logger.stats().committed, 0);
  const reader = new pkg.AuditLogger(config(unique("node-targets-bad")));
  assert.equal(await reader.getTargetActivity("Not a label", "d"), null);
  assert.match(reader.lastError, /label/);
  assert.equal(await reader.getTargetActivity("Document", "d", { category: "X" }), null);
  assert.match(reader.lastError, /getTargetActivity options are since, until, actionType, limit and cursor/);
  // A misspelt key named getAuditTrail's fields (category, userUid, target), refused here anyway.
  assert.equal(await reader.getTargetActivity("Document", "d", { limt: 5 }), null);
  assert.match(reader.lastError, /getTargetActivity options are since, until, actionType, limit and cursor/);
  assert.equal(await reader.getUserActivity("u", { limt: 5 }), null);
  assert.match(reader.lastError, /getUserActivity options are since, until, actionType, category, limit and cursor/);
  // The message names the key it refused, as getAuditTrail's does: a user with a typo sees which.
  for (const [call, key] of [
    [() => reader.getUserActivity("u", { limt: 5 }), "limt"],
    [() => reader.getUserActivity("u", { userUid: "v" }), "userUid"],
    [() => reader.getUserActivity("u", { target: "Document:d" }), "target"],
    [() => reader.getTargetActivity("Document", "d", { limt: 5 }), "limt"],
    [() => reader.getTargetActivity("Document", "d", { category: "X" }), "category"],
    [() => reader.getTargetActivity("Document", "d", { userUid: "v" }), "userUid"],
  ]) {
    assert.equal(await call(), null, key);
    assert.match(reader.lastError, new RegExp(`options are since, until, .*; got \`${key}\`$`), key);
  }
  // getAuditTrail's `target` filter follows the same rules: a malformed key is invalid input
  // (it was sent to Neo4j and answered with an empty page).
  for (const target of ["nolabel", ":x", "Document:", "Not a label:d"]) {
    assert.equal(await reader.getAuditTrail({ target }), null, target);
    assert.match(reader.lastError, /^invalid input: target must be "Label:uid"/, target);
  }
  assert.ok(await reader.getAuditTrail({ target: "Document:d:1" }), reader.lastError);
  // One-shot form takes the options too.
  assert.equal(await write.logUserAction(config(unique("node-targets-once")), null, "X", null, null, { targets: [{ label: "Document", uid: "d" }] }), true);
});
