// Publicly verifiable integrity, all real: events posted to `wrangler dev` (workerd running
// worker/index.js + the package's Worker entry) are written into Neo4j on the trail's one signed stream; then the
// database is tampered with directly (Cypher, as anyone with write access could) and the trail is
// verified with ONLY the Worker's public key (fetched from GET /v1/keys) by neo4j-audit/verify in Node — the same
// core verifier the Worker's GET /v1/verify runs. Every tampering kind is caught and named.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cypher, config, loadPkg, ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { launchChromium, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const KID = "e2e-2026";
// The Worker's Ed25519 key: AUDIT_SIGNING_KEY is the 32-byte seed (JWK `d`), base64url.
const workerKey = generateKeyPairSync("ed25519");
const SEED = workerKey.privateKey.export({ format: "jwk" }).d;
const BIG = Number(process.env.SIGNED_E2E_EVENTS ?? 10_000);

let pkg;
const workers = [];

before(async () => {
  pkg = await loadPkg("verify");
});

after(async () => {
  for (const w of workers) await w.stop();
});

async function startTrail(prefix, ports = {}) {
  const trail = `${prefix}-${randomUUID()}`;
  const w = await startWrangler({
    ...ports,
    env: {
      AUDIT_JWT_SECRET: SECRET, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: trail,
      AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: KID, MAX_BATCH: "100", VERIFY_SUBJECTS: "auditor",
    },
  });
  workers.push(w);
  return { trail, url: w.url, stop: w.stop, log: w.log };
}

const token = (sub) => signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 600 });

/**
 * POSTs one ingest body to the Worker and returns its 201 answer. Every event carries its own UID,
 * so a request whose answer was lost can be sent again: the Worker stores a re-sent UID once
 * (what the browser queue relies on). `wrangler dev` on a loaded CI machine now and then answers
 * an empty body (no status the Worker writes: its own answers are always JSON); that answer is
 * printed, with the dev server's log, and the request sent once more. Any JSON answer other than
 * 201 fails the test as it is.
 */
async function postOnce(w, auth, body) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${w.url}/v1/events`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: auth }, body: JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch {}
    if (json === undefined && attempt === 1) {
      console.error(`POST /v1/events answered ${res.status} ${JSON.stringify(text.slice(0, 200))}, not JSON; sending it again.` +
        ` wrangler dev's log:\n${w.log?.().slice(-4000) ?? ""}`);
      continue;
    }
    assert.equal(res.status, 201, text.slice(0, 500));
    return json;
  }
}

/** Posts requests of the given sizes (one request after the other); returns their UIDs. */
async function post(w, sizes, sub = `signer-${randomUUID()}`) {
  const auth = `Bearer ${await token(sub)}`;
  const requests = [];
  for (const [r, n] of sizes.entries()) {
    const events = Array.from({ length: n }, (_, i) => ({ UID: randomUUID(), actionType: "DOC_VIEWED", details: { r, i } }));
    requests.push((await postOnce(w, auth, { events })).uids);
  }
  return requests;
}

const publicKeys = async (url) => (await fetch(`${url}/v1/keys`)).json();

async function verify(trail, options) {
  const logger = new pkg.AuditLogger(config(trail));
  const report = await logger.verifyTrail(options);
  assert.ok(report, logger.lastError);
  return report;
}

/** The one stream's first break as [kind, seq, uid] (uid null when the damage names no event). */
function firstBreak(report) {
  assert.equal(report.streams.length, 1, JSON.stringify(report));
  const b = report.streams[0].firstBreak;
  assert.equal(report.ok, b === null);
  return b && [b.kind, b.seq, b.uid];
}

const EVENTS = `MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(ev) RETURN ev {.UID, .eventType, .eventCategory,
  .userUID, .userName, .details, .streamId, .seq, .prevHash, .hash, .source, .sig, .sigKid, .sigAt,
  ts: ev.timestamp.epochMillis, occurredAt: ev.occurredAt.epochMillis} ORDER BY ev.seq`;
const events = async (trail) => (await cypher(EVENTS, { t: trail })).map((r) => r[0]);
const setProps = (uid, props) => cypher("MATCH (ev:AuditEvent {UID: $uid}) SET ev += $props", { uid, props });

// Canonical encoding v2 (docs/tamper-evidence.md), as an attacker without the key would compute it.
const hashV2 = (e, prevHash) => createHash("sha256").update(JSON.stringify(["neo4j-audit/chain/v2", e.streamId, e.seq,
  e.UID, e.eventType, e.eventCategory, e.ts, e.userUID ?? null, e.userName ?? null, e.details ?? null, e.source,
  e.occurredAt ?? null])).update(prevHash).digest("hex");
const sealWith = (key, purpose, kid, stream, seq, hash, at) => sign(null, Buffer.from(JSON.stringify([
  purpose === "head" ? "neo4j-audit/head/v1" : "neo4j-audit/sig/v1", kid, stream, seq, hash, at])), key).toString("base64url");

test(`an untouched trail of ${BIG} Worker-written events verifies with only the public key, in Node and at GET /v1/verify`, async () => {
  const w = await startTrail("signed-intact");
  const sizes = Array.from({ length: Math.ceil(BIG / 100) }, (_, i) => Math.min(100, BIG - i * 100));
  // Two subjects posting at once, racing for the stream's head through the real Worker (also
  // covered natively in tests/chain.rs).
  const half = Math.ceil(sizes.length / 2);
  await Promise.all([post(w, sizes.slice(0, half)), post(w, sizes.slice(half))]);
  const keys = await publicKeys(w.url);
  assert.deepEqual(keys.keys.map((k) => [k.kid, k.kty, k.crv, k.alg]), [[KID, "OKP", "Ed25519", "EdDSA"]]);
  assert.equal(keys.keys[0].x, workerKey.publicKey.export({ format: "jwk" }).x);
  const report = await verify(w.trail, { publicKeys: keys });
  assert.equal(firstBreak(report), null);
  assert.equal(report.checked, BIG);
  assert.equal(report.streams[0].signedSeq, BIG - 1);
  assert.equal(report.signedHead.seq, BIG - 1);
  assert.equal(report.signedHead.seal.kid, KID);
  // The Worker's own verification: authenticated, same verifier, same answer.
  const anon = await fetch(`${w.url}/v1/verify`);
  assert.equal(anon.status, 401);
  // Paginated: `limit` events per call, the verifier's progress in the cursor.
  const auth = { Authorization: `Bearer ${await token("auditor")}` };
  let page = { next: null }, pages = 0, streams = [];
  do {
    const q = page.next ? `?limit=2000&cursor=${page.next}` : "?limit=2000";
    const res = await fetch(`${w.url}/v1/verify${q}`, { headers: auth });
    page = await res.json();
    assert.equal(res.status, 200, JSON.stringify(page));
    assert.equal(page.ok, true, JSON.stringify(page));
    streams.push(...page.streams);
    pages++;
  } while (page.next);
  assert.equal(page.checked, BIG);
  assert.ok(pages >= Math.floor(BIG / 2000), `${pages} pages`);
  assert.deepEqual(streams.map((s) => [s.ok, s.checked, s.signedSeq]), [[true, BIG, BIG - 1]]);
  const forged = await fetch(`${w.url}/v1/verify?cursor=${page.next ?? "e30"}.AAAA`, { headers: auth });
  assert.equal(forged.status, 400);
  // A verifier pinning another key trusts nothing here.
  const stranger = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  const r = await verify(w.trail, { publicKey: { ...stranger, kid: KID } });
  assert.deepEqual(firstBreak(r).slice(0, 1), ["forged"]);
  await w.stop();
});

test("edit, insert, reorder, an appended event and a re-signed stream are each caught and named; then a deleted event", async () => {
  const w = await startTrail("signed-tamper");
  await post(w, [4, 3, 5, 2, 4]);
  const publicKey = (await publicKeys(w.url)).keys;
  const opts = { publicKeys: publicKey };
  const evs = await events(w.trail);
  assert.equal(evs.length, 18);
  assert.deepEqual(evs.map((e) => e.seq), [...Array(18).keys()]);
  assert.deepEqual(evs.filter((e) => e.sig).map((e) => e.seq), [3, 6, 11, 13, 17], "one seal per request, on its last event");
  assert.equal(firstBreak(await verify(w.trail, opts)), null);

  // Edit one field of seq 5.
  await setProps(evs[5].UID, { details: '{"i":99,"r":1}' });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["edited", 5, evs[5].UID]);
  // Provenance is covered too (canonical v2): occurredAt moved by one millisecond.
  await setProps(evs[5].UID, { details: evs[5].details });
  await cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.occurredAt = ev.occurredAt + duration({milliseconds: 1})", { u: evs[8].UID });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["edited", 8, evs[8].UID]);
  await cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.occurredAt = ev.occurredAt - duration({milliseconds: 1})", { u: evs[8].UID });
  assert.equal(firstBreak(await verify(w.trail, opts)), null, "restored");

  // Insert: a forged event claiming seq 9, self-consistent (valid hash, links to seq 8).
  const intruder = { ...evs[9], UID: randomUUID(), details: '{"forged":true}' };
  intruder.hash = hashV2(intruder, intruder.prevHash);
  await cypher(`MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT]->(ev:AuditEvent)
    SET ev = $e, ev.timestamp = datetime({epochMillis: $e.ts}), ev.occurredAt = datetime({epochMillis: $e.occurredAt})
    REMOVE ev.ts`, { t: w.trail, e: intruder });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["inserted", 9, intruder.UID]);
  await cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", { u: intruder.UID });

  // Reorder: seq 9 and 10 swap places, each re-hashed so it is self-consistent.
  const swapped = [{ ...evs[10], seq: 9 }, { ...evs[9], seq: 10 }];
  for (const e of swapped) await setProps(e.UID, { seq: e.seq, hash: hashV2(e, e.prevHash) });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["reordered", 9, evs[10].UID]);
  for (const e of [evs[9], evs[10]]) await setProps(e.UID, { seq: e.seq, hash: e.hash });

  // Append: an event after the last signed point, correctly chained but without the key.
  const tail = { ...evs[17], UID: randomUUID(), seq: 18, prevHash: evs[17].hash, sig: null, sigKid: null, sigAt: null };
  tail.hash = hashV2(tail, tail.prevHash);
  await cypher(`MATCH (t:AuditTrail {name: $t}) CREATE (t)-[:HAS_EVENT]->(ev:AuditEvent)
    SET ev = $e, ev.timestamp = datetime({epochMillis: $e.ts}), ev.occurredAt = datetime({epochMillis: $e.occurredAt})
    REMOVE ev.ts`, { t: w.trail, e: tail });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["unsigned", 18, tail.UID]);
  await cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", { u: tail.UID });
  assert.equal(firstBreak(await verify(w.trail, opts)), null, "restored");

  // Replace the signing key: edit seq 7, re-hash everything after it, re-sign every later seal
  // and the trail's head with the attacker's own key under the Worker's key id.
  const attacker = generateKeyPairSync("ed25519");
  const forged = evs.map((e) => ({ ...e }));
  forged[7].details = '{"i":0,"r":9}';
  for (let i = 7; i < forged.length; i++) {
    if (i > 7) forged[i].prevHash = forged[i - 1].hash;
    forged[i].hash = hashV2(forged[i], forged[i].prevHash);
    if (forged[i].sig) forged[i].sig = sealWith(attacker.privateKey, "event", KID, forged[i].streamId, i, forged[i].hash, forged[i].sigAt);
  }
  const head = (await cypher("MATCH (t:AuditTrail {name: $t}) RETURN t {.*}", { t: w.trail }))[0][0];
  for (const e of forged.slice(7)) await setProps(e.UID, { details: e.details, prevHash: e.prevHash, hash: e.hash, sig: e.sig });
  const last = forged[17];
  await cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainHash = $h, t.chainSig = $s", {
    t: w.trail, h: last.hash, s: sealWith(attacker.privateKey, "head", KID, last.streamId, 17, last.hash, head.chainSignedAt),
  });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["forged", 11, evs[11].UID], "the first re-signed seal");
  // Re-signing the earlier seals too (the whole stream now under the attacker's key): the
  // Worker's key refuses the first seal; the attacker's own public key would accept everything,
  // which is why a verifier pins the Worker's keys instead of taking them from the database.
  for (const e of forged.slice(0, 7).filter((e) => e.sig)) {
    await setProps(e.UID, { sig: sealWith(attacker.privateKey, "event", KID, e.streamId, e.seq, e.hash, e.sigAt) });
  }
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["forged", 3, evs[3].UID]);
  const theirs = { ...attacker.publicKey.export({ format: "jwk" }), kid: KID };
  assert.equal(firstBreak(await verify(w.trail, { publicKey: theirs })), null);
  for (const e of evs) await setProps(e.UID, { details: e.details, prevHash: e.prevHash, hash: e.hash, sig: e.sig });
  await cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainHash = $h, t.chainSig = $s", { t: w.trail, h: head.chainHash, s: head.chainSig });
  assert.equal(firstBreak(await verify(w.trail, opts)), null, "restored");

  // A HAS_EVENT link re-timed by hand (the trail's pages are read by the link's copied keys): the
  // event would be shown elsewhere in time than verification reads it, so it is unchained — in
  // Node and at GET /v1/verify (the Worker's statement left the links out before: ok there).
  const retime = (by) => cypher(`MATCH (:AuditTrail {name: $t})-[r:HAS_EVENT]->(:AuditEvent {UID: $u})
    SET r.created = r.created + duration({milliseconds: $by})`, { t: w.trail, u: evs[4].UID, by });
  await retime(1000);
  const moved = await verify(w.trail, opts);
  assert.equal(moved.ok, false);
  assert.deepEqual([moved.unchained, moved.unchainedUids], [1, [evs[4].UID]]);
  const atWorker = await (await fetch(`${w.url}/v1/verify`, { headers: { Authorization: `Bearer ${await token("auditor")}` } })).json();
  assert.equal(atWorker.ok, false, JSON.stringify(atWorker));
  assert.equal(atWorker.unchained, 1, JSON.stringify(atWorker));
  await retime(-1000);
  assert.equal(firstBreak(await verify(w.trail, opts)), null, "restored");

  // Without keys, a rewritten-and-rehashed stream would pass the keyless chain: the seals are what catch it.
  // Delete one event (for real).
  await cypher("MATCH (ev:AuditEvent {UID: $u}) DETACH DELETE ev", { u: evs[12].UID });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["deleted", 12, evs[13].UID]);
  await w.stop();
});

// The wasm builds verify with the host's WebCrypto (neo4j-audit/verify in Node, the Worker in
// workerd); these seals must be refused exactly as ed25519-dalek's verify_strict refuses them.
const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");
/** The same signature with S + L for S (little-endian): the same point equation, a non-canonical scalar. */
function plusL(sig) {
  const b = Buffer.from(sig, "base64url");
  let c = 0;
  for (let i = 0; i < 32; i++) {
    const v = b[32 + i] + L[i] + c;
    b[32 + i] = v & 255;
    c = v >> 8;
  }
  return b.toString("base64url");
}
const flipBit = (sig, i) => { const b = Buffer.from(sig, "base64url"); b[i] ^= 1; return b.toString("base64url"); };

test("a tampered or non-canonical signature, and any seal under a small-order key, are refused in Node and at GET /v1/verify", async () => {
  const w = await startTrail("signed-strict");
  await post(w, [2, 3]);
  const opts = { publicKeys: await publicKeys(w.url) };
  const evs = await events(w.trail);
  assert.deepEqual(evs.filter((e) => e.sig).map((e) => e.seq), [1, 4]);
  const auth = { Authorization: `Bearer ${await token("auditor")}` };
  const atWorker = async () => {
    const res = await fetch(`${w.url}/v1/verify`, { headers: auth });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return firstBreak(body);
  };
  assert.equal(firstBreak(await verify(w.trail, opts)), null);
  assert.equal(await atWorker(), null);
  for (const [what, sig] of [["a bit of R", flipBit(evs[1].sig, 3)], ["a bit of S", flipBit(evs[1].sig, 40)], ["S + L", plusL(evs[1].sig)]]) {
    await setProps(evs[1].UID, { sig });
    assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["forged", 1, evs[1].UID], what);
    assert.deepEqual(await atWorker(), ["forged", 1, evs[1].UID], what);
  }
  await setProps(evs[1].UID, { sig: evs[1].sig });
  const head = (await cypher("MATCH (t:AuditTrail {name: $t}) RETURN t {.*}", { t: w.trail }))[0][0];
  await cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainSig = $s", { t: w.trail, s: plusL(head.chainSig) });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["forged", 4, null], "head seal with S + L");
  assert.deepEqual(await atWorker(), ["forged", 4, null], "head seal with S + L");
  // A small-order public key (here the identity point) with R = identity and S = 0: WebCrypto's
  // plain equation check accepts that signature for every message; the strict check does not.
  const identity = Buffer.alloc(32);
  identity[0] = 1;
  const universal = Buffer.concat([identity, Buffer.alloc(32)]).toString("base64url");
  for (const e of evs.filter((e) => e.sig)) await setProps(e.UID, { sig: universal });
  await cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainSig = $s", { t: w.trail, s: universal });
  const weak = { kty: "OKP", crv: "Ed25519", kid: KID, x: identity.toString("base64url") };
  assert.deepEqual(firstBreak(await verify(w.trail, { publicKey: weak })), ["forged", 1, evs[1].UID]);
  for (const e of evs.filter((e) => e.sig)) await setProps(e.UID, { sig: e.sig });
  await cypher("MATCH (t:AuditTrail {name: $t}) SET t.chainSig = $s", { t: w.trail, s: head.chainSig });
  assert.equal(firstBreak(await verify(w.trail, opts)), null, "restored");
  assert.equal(await atWorker(), null, "restored");
  await w.stop();
});

/** A server of the verify entry's files from pkg/verify/; every other path is an empty page (the
 *  page's origin). Listening on a free port of 127.0.0.1. */
async function serveReadEntry() {
  const server = createServer((req, res) => {
    const m = /^\/pkg\/verify\/((?:snippets\/[\w.-]+\/(?:[\w-]+\/)*)?[\w-]+(?:\.js|_bg\.wasm))$/.exec(req.url);
    if (!m) {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<!doctype html><title>read</title>");
      return;
    }
    res.writeHead(200, { "Content-Type": m[1].endsWith(".js") ? "text/javascript" : "application/wasm" });
    res.end(readFileSync(join(ROOT, "pkg", "verify", m[1])));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

test("neo4j-audit/verify in Chromium verifies with the browser's WebCrypto: intact, then S + L and a small-order key refused", async () => {
  const w = await startTrail("signed-chromium");
  await post(w, [2, 3]);
  const keys = await publicKeys(w.url);
  const evs = await events(w.trail);
  const server = await serveReadEntry();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const run = (opts) => page.evaluate(async ({ cfg, opts }) => {
      const m = await import("/pkg/verify/neo4j_audit.js");
      await m.default();
      const logger = new m.AuditLogger(cfg);
      const r = await logger.verifyTrail(opts);
      if (!r) return { error: logger.lastError };
      const b = r.streams[0].firstBreak;
      return { ok: r.ok, firstBreak: b && [b.kind, b.seq], signedSeq: r.streams[0].signedSeq ?? null };
    }, { cfg: config(w.trail), opts });
    assert.deepEqual(await run({ publicKeys: keys }), { ok: true, firstBreak: null, signedSeq: 4 });
    await setProps(evs[1].UID, { sig: plusL(evs[1].sig) });
    assert.deepEqual(await run({ publicKeys: keys }), { ok: false, firstBreak: ["forged", 1], signedSeq: null });
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    const universal = Buffer.concat([identity, Buffer.alloc(32)]).toString("base64url");
    for (const e of evs.filter((e) => e.sig)) await setProps(e.UID, { sig: universal });
    const weak = { kty: "OKP", crv: "Ed25519", kid: KID, x: identity.toString("base64url") };
    assert.deepEqual(await run({ publicKey: weak }), { ok: false, firstBreak: ["forged", 1], signedSeq: null });
    // Not a curve point: refused when the key set is built, as natively.
    const notAPoint = await run({ publicKey: { ...weak, x: Buffer.alloc(32, 7).toString("base64url") } });
    assert.match(notAPoint.error, /not a valid Ed25519 public key/);
  } finally {
    await browser.close();
    server.close();
    await w.stop();
  }
});

test("neo4j-audit/verify in a page that is not a secure context (no crypto.subtle): verifyTrail with keys resolves null and says why", async () => {
  // A page on plain http under a name other than localhost (here a test name mapped to
  // 127.0.0.1, so the browser itself decides) has crypto.getRandomValues but no crypto.subtle:
  // it can log and read, but not check Ed25519 seals. That must be a readable refusal, never a
  // rejected promise, an exception, or every seal reported forged.
  const trail = `insecure-${randomUUID()}`;
  const { x } = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  const server = await serveReadEntry();
  const browser = await launchChromium(["--host-resolver-rules=MAP insecure-page.test 127.0.0.1"]);
  try {
    const page = await browser.newPage();
    await page.goto(`http://insecure-page.test:${server.address().port}/`);
    const out = await page.evaluate(async ({ cfg, jwk }) => {
      const facts = { secure: window.isSecureContext, subtle: typeof crypto.subtle };
      const m = await import("/pkg/verify/neo4j_audit.js");
      await m.default();
      const logger = new m.AuditLogger(cfg);
      const logged = await logger.logUserAction({ uid: "u-1" }, "DOC_VIEWED", undefined, { n: 1 });
      const calls = {};
      for (const [name, opts] of [["publicKey", { publicKey: jwk }], ["publicKeys", { publicKeys: { keys: [jwk] } }]]) {
        try {
          const r = await logger.verifyTrail(opts);
          calls[name] = { result: r, lastError: logger.lastError };
        } catch (e) {
          calls[name] = { threw: String(e) };
        }
      }
      // Without keys the hash chain alone is checked (SHA-256 in Rust): that still works.
      const plain = await logger.verifyTrail();
      return { facts, logged, calls, plain: plain && { ok: plain.ok, checked: plain.checked } };
    }, { cfg: config(trail), jwk: { kty: "OKP", crv: "Ed25519", kid: "k1", x } });
    assert.deepEqual(out.facts, { secure: false, subtle: "undefined" }, "the page must really lack crypto.subtle");
    assert.equal(out.logged, true, "logging needs no crypto.subtle");
    for (const name of ["publicKey", "publicKeys"]) {
      const c = out.calls[name];
      assert.equal(c.threw, undefined, `${name}: ${c.threw}`);
      assert.equal(c.result, null, `${name}: ${JSON.stringify(c.result)}`);
      assert.match(c.lastError, /no WebCrypto \(crypto\.subtle; a browser gives it to https and localhost pages only\)/, name);
    }
    assert.deepEqual(out.plain, { ok: true, checked: 1 });
  } finally {
    await browser.close();
    server.close();
  }
});

test("cutting the tail, rolling the head back, and deleting a whole request are each caught", async () => {
  const w = await startTrail("signed-cut");
  const [r0, r1, r2, r3] = await post(w, [3, 4, 2, 3]);
  const opts = { publicKeys: await publicKeys(w.url) };
  assert.equal(firstBreak(await verify(w.trail, opts)), null);
  // Cut the tail: the last request's events (seq 9..11) go; what is left is a signed, intact prefix.
  await cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", { u: r3 });
  const cut = await verify(w.trail, opts);
  assert.deepEqual(firstBreak(cut), ["deleted", 9, null]);
  assert.match(cut.streams[0].firstBreak.message, /cut off the end/);
  // Roll the trail's head back to the surviving last event by copying that event's seal: an
  // event seal is not a head seal, so this is forged.
  const [last] = (await events(w.trail)).slice(-1);
  await cypher(`MATCH (t:AuditTrail {name: $t}) SET t.chainSeq = $e.seq, t.chainHash = $e.hash,
    t.chainSig = $e.sig, t.chainKid = $e.sigKid, t.chainSignedAt = $e.sigAt`, { t: w.trail, e: last });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["forged", 8, null]);
  // Delete a whole request in the middle (seq 3..6): the gap is named at its first seq.
  await cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", { u: r1 });
  assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["deleted", 3, r2[0]]);
  assert.equal(r0.length, 3);
  await w.stop();
});

test("GET /v1/verify?requireBound=true: a client stream with a plain-UUID id (begun before stream ids were bound) fails as unbound; by default it is reported bound: false", async () => {
  // Ports: SIGNED_E2E_WORKER_PORT / SIGNED_E2E_INSPECTOR_PORT (default free ones).
  const port = (v) => (v ? Number(v) : undefined);
  const w = await startTrail("signed-unbound", {
    port: port(process.env.SIGNED_E2E_WORKER_PORT), inspectorPort: port(process.env.SIGNED_E2E_INSPECTOR_PORT),
  });
  try {
    await post(w, [2]);
    // A client's direct write into the same trail, re-keyed to a plain UUID as an older version wrote it.
    const client = new pkg.AuditLogger(config(w.trail));
    assert.equal(await client.logUserAction({ uid: "u-1" }, "LOGIN"), true, client.lastError);
    const legacy = randomUUID();
    const [[ev]] = await cypher("MATCH (e:AuditEvent {streamId: $s}) RETURN e {.*, ts: e.timestamp.epochMillis}", { s: client.chainHead().streamId });
    const hash = createHash("sha256").update(JSON.stringify(["neo4j-audit/chain/v1", legacy, 0, ev.UID, ev.eventType,
      ev.eventCategory, ev.ts, ev.userUID ?? null, ev.userName ?? null, ev.details ?? null])).update("0".repeat(64)).digest("hex");
    await setProps(ev.UID, { streamId: legacy, hash });
    const auth = { Authorization: `Bearer ${await token("auditor")}` };
    const get = async (q) => {
      const res = await fetch(`${w.url}/v1/verify${q}`, { headers: auth });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      return body;
    };
    const lax = await get("?allowUnsigned=true");
    assert.equal(lax.ok, true, JSON.stringify(lax));
    assert.deepEqual(lax.streams.map((s) => [s.streamId === legacy, s.bound]).sort(), [[false, true], [true, false]]);
    const strict = await get("?allowUnsigned=true&requireBound=true");
    assert.equal(strict.ok, false, JSON.stringify(strict));
    const b = strict.streams.find((s) => s.streamId === legacy).firstBreak;
    assert.deepEqual([b.kind, b.seq, b.uid], ["unbound", 0, null]);
    assert.equal(strict.streams.find((s) => s.streamId !== legacy).ok, true);
  } finally {
    await w.stop();
  }
});

test("a tail cut behind a removed trail head is unsigned, in Node and at GET /v1/verify (it verified ok before)", async () => {
  // Ports: SIGNED_E2E_WORKER_PORT / SIGNED_E2E_INSPECTOR_PORT (default free ones).
  const port = (v) => (v ? Number(v) : undefined);
  const w = await startTrail("signed-headless", {
    port: port(process.env.SIGNED_E2E_WORKER_PORT), inspectorPort: port(process.env.SIGNED_E2E_INSPECTOR_PORT),
  });
  try {
    const [r0, r1] = await post(w, [3, 2]);
    const opts = { publicKeys: await publicKeys(w.url) };
    assert.equal(firstBreak(await verify(w.trail, opts)), null);
    // The last request (seq 3, 4) cut off, and the head that would name seq 4 removed: what is
    // left ends on a valid event seal.
    await cypher("MATCH (ev:AuditEvent) WHERE ev.UID IN $u DETACH DELETE ev", { u: r1 });
    await cypher(`MATCH (t:AuditTrail {name: $t})
      REMOVE t.chainStream, t.chainSeq, t.chainHash, t.chainKid, t.chainSig, t.chainSignedAt`, { t: w.trail });
    assert.deepEqual(firstBreak(await verify(w.trail, opts)), ["unsigned", 3, null]);
    const res = await fetch(`${w.url}/v1/verify`, { headers: { Authorization: `Bearer ${await token("auditor")}` } });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(firstBreak(body), ["unsigned", 3, null]);
    assert.equal(body.streams[0].firstBreak.message, "no signed trail head names this stream");
    // The event seals stripped too: no longer a signed stream, but its events say the Worker
    // wrote them, so allowUnsigned does not tolerate it (it verified ok: true before).
    await cypher("MATCH (ev:AuditEvent {streamId: $s}) REMOVE ev.sig, ev.sigKid, ev.sigAt", { s: body.streams[0].streamId });
    assert.deepEqual(firstBreak(await verify(w.trail, { ...opts, allowUnsigned: true })), ["forged", 0, r0[0]]);
    const lax = await (await fetch(`${w.url}/v1/verify?allowUnsigned=true`, { headers: { Authorization: `Bearer ${await token("auditor")}` } })).json();
    assert.equal(lax.ok, false, JSON.stringify(lax));
    assert.deepEqual(firstBreak(lax).slice(0, 2), ["forged", 0]);
  } finally {
    await w.stop();
  }
});

test("a timestamp made text is edited at its event in Node and at GET /v1/verify (a 500 store error before); a cursor of another trail's Worker with the same key is refused (it resumed that walk and answered ok)", async () => {
  // Ports: SIGNED_E2E_WORKER_PORT / SIGNED_E2E_INSPECTOR_PORT and the two after them (default free ones).
  const port = (v, d = 0) => (v ? Number(v) + d : undefined);
  const { SIGNED_E2E_WORKER_PORT: wp, SIGNED_E2E_INSPECTOR_PORT: ip } = process.env;
  const a = await startTrail("signed-cursor-a", { port: port(wp), inspectorPort: port(ip) });
  const b = await startTrail("signed-cursor-b", { port: port(wp, 2), inspectorPort: port(ip, 2) });
  try {
    await post(a, Array(10).fill(100));
    const [uidsB] = await post(b, [3]);
    const auth = { Authorization: `Bearer ${await token("auditor")}` };
    const get = async (w, q) => {
      const res = await fetch(`${w.url}/v1/verify${q}`, { headers: auth });
      return [res.status, await res.json()];
    };
    const [status, pageA] = await get(a, "?limit=1000");
    assert.equal(status, 200, JSON.stringify(pageA));
    assert.equal(pageA.ok, true);
    assert.ok(pageA.next, "a cursor after 1000 events");
    await cypher("MATCH (ev:AuditEvent {UID: $u}) SET ev.timestamp = toString(ev.timestamp)", { u: uidsB[1] });
    const report = await verify(b.trail, { publicKeys: await publicKeys(b.url) });
    assert.deepEqual(firstBreak(report), ["edited", 1, uidsB[1]]);
    assert.match(report.streams[0].firstBreak.message, /stored timestamp:/);
    const [s, own] = await get(b, "");
    assert.equal(s, 200, JSON.stringify(own));
    assert.deepEqual(firstBreak(own), ["edited", 1, uidsB[1]]);
    const [s2, resumed] = await get(b, `?limit=1000&cursor=${pageA.next}`);
    assert.equal(s2, 400, JSON.stringify(resumed));
    assert.match(resumed.message, /this trail/);
    const [s3, rest] = await get(a, `?limit=1000&cursor=${pageA.next}`);
    assert.equal(s3, 200, JSON.stringify(rest));
    assert.deepEqual([rest.ok, rest.checked, rest.next], [true, 1000, null]);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test("GET /v1/verify: a walk paused on an event with 60 KB of details gives a cursor that fits in a URL (Cloudflare: 16 KB), and goes on to ok", async () => {
  // Ports: SIGNED_E2E_WORKER_PORT / SIGNED_E2E_INSPECTOR_PORT (default free ones).
  const port = (v) => (v ? Number(v) : undefined);
  const w = await startTrail("signed-big-cursor", {
    port: port(process.env.SIGNED_E2E_WORKER_PORT), inspectorPort: port(process.env.SIGNED_E2E_INSPECTOR_PORT),
  });
  try {
    // seq 0..998 small, seq 999 (the last event of a walk's first 1000) with 60 KB of details, then two more.
    const sub = `signer-${randomUUID()}`;
    await post(w, [...Array(9).fill(100), 99], sub);
    const auth = `Bearer ${await token(sub)}`;
    const big = { UID: randomUUID(), actionType: "EXPORT", details: { blob: "x".repeat(60_000) } };
    await postOnce(w, auth, big);
    await post(w, [2], sub);
    const get = async (q) => {
      const r = await fetch(`${w.url}/v1/verify${q}`, { headers: { Authorization: `Bearer ${await token("auditor")}` } });
      const body = await r.text();
      assert.equal(r.status, 200, body.slice(0, 300));
      return JSON.parse(body);
    };
    const first = await get("?limit=1000");
    assert.equal(first.ok, true, JSON.stringify(first).slice(0, 300));
    assert.ok(first.next, "a cursor after 1000 events");
    // The held-back event went into the cursor whole before: ~81 KB, over the URL bound.
    assert.ok(first.next.length < 12 * 1024, `the cursor is ${first.next.length} characters`);
    const rest = await get(`?limit=1000&cursor=${first.next}`);
    assert.deepEqual([rest.ok, rest.checked, rest.next], [true, 1002, null], JSON.stringify(rest).slice(0, 300));
  } finally {
    await w.stop();
  }
});
