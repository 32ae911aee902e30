// The Worker's bound on its own Neo4j's answers (src/transport/mod.rs WORKER_MAX_ANSWER_BYTES,
// 32 MiB; src/transport/fetch.js `post`), all real: `wrangler dev` → a fault proxy of this test →
// the real Neo4j. The proxy forwards every request and, for the one kind this test picks, answers
// with Neo4j's own answer followed by 48 MiB of JSON whitespace (still a valid answer, with a
// Content-Length or chunked). Before the bound the Worker read such an answer whole (and, here, took
// it: 201); a misbehaving or hostile upstream or proxy could make it hold any amount. Now: 503
// `unavailable` with Retry-After, the reason in the Worker's log, the request to Neo4j aborted
// (the proxy sees the connection go before the padding is out), and nothing half-written: a
// retry through a well-behaved proxy stores each event once, one unbroken chain.
// GET /v1/verify's pages: one over the bound is read again half as long (src/read/verify.rs
// `smaller_page`, the same rule as verifyTrail's), so such a trail verifies (503 every time before).
// Ports: ANSWER_BOUND_PORT (default 0: free ones) for the Worker, the next one for the proxy; the
// verify test's Worker and proxy on the two after.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { cypher, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { forwardToNeo4j, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const BASE = Number(process.env.ANSWER_BOUND_PORT ?? 0) || undefined;
const MiB = 1 << 20;
const PADDING = 48 * MiB;
const BOUND = 32 * MiB;
const workers = [];
const servers = [];
after(async () => {
  for (const w of workers) await w.stop();
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

/** A proxy to the real Neo4j. While `mode.inflate(body)` picks a request, its answer is Neo4j's
 *  followed by PADDING bytes of spaces, with a Content-Length unless `mode.chunked`; `stats`
 *  counts the inflated answers and the bytes of the last one written before its client left. */
async function inflatingProxy(port, mode) {
  const stats = { inflated: 0, lastSent: 0, lastTotal: 0 };
  const server = createServer(async (req, res) => {
    const { body, upstream, answer } = await forwardToNeo4j(req);
    if (!mode.inflate?.(body.toString())) {
      res.writeHead(upstream.status, { "Content-Type": "application/json" });
      res.end(answer);
      return;
    }
    stats.inflated++;
    const total = answer.length + PADDING;
    stats.lastTotal = total;
    res.writeHead(upstream.status, { "Content-Type": "application/json", ...(mode.chunked ? {} : { "Content-Length": total }) });
    let gone = false;
    let wake;
    res.on("close", () => ((gone = true), wake?.()));
    let sent = 0;
    const write = async (b) => {
      if (gone) return;
      sent += b.length;
      stats.lastSent = sent;
      if (!res.write(b)) await new Promise((r) => ((wake = r), res.once("drain", r)));
    };
    await write(answer);
    const block = Buffer.alloc(MiB, 0x20);
    for (let n = 0; n < PADDING && !gone; n += MiB) await write(block);
    if (!gone) res.end();
  });
  servers.push(server);
  await new Promise((r) => server.listen(port ?? 0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, stats };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every event of `trail`: UID, seq and how many HAS_EVENT edges lead to it. */
async function stored(trail) {
  return cypher(
    `MATCH (t:AuditTrail {name: $t})-[:HAS_EVENT]->(e)
     RETURN e.UID, e.seq, COUNT { (:AuditTrail)-[:HAS_EVENT]->(e) } ORDER BY e.seq`, { t: trail });
}

test("an answer of the Worker's Neo4j over 32 MiB (the head's read, the write; Content-Length or chunked): 503 unavailable, the rest left unread, nothing half-written", async () => {
  const run = randomUUID().slice(0, 8);
  const mode = {};
  const proxy = await inflatingProxy(BASE && BASE + 1, mode);
  // A long NEO4J_TIMEOUT_MS: without the bound, the inflated answer is read whole, not timed out.
  // One tenant (trail `org:<tenant>`) per case: a trail this Worker wrote last has its head in
  // memory, and its next request reads no head.
  const w = await startWrangler({ port: BASE, env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL: proxy.url, NEO4J_USER, NEO4J_PASSWORD,
    TENANT_CLAIM: "org_id", NEO4J_TIMEOUT_MS: "60000", RETRY_AFTER_SECS: "1" } });
  workers.push(w);
  const sub = `answer-bound-${run}-u`;
  await cypher("MERGE (:User {UID: $s})", { s: sub });
  const send = async (tenant, events) => fetch(`${w.url}/v1/events`, { method: "POST", signal: AbortSignal.timeout(90_000),
    headers: { "Content-Type": "application/json",
      Authorization: `Bearer ${await signJwt(SECRET, { sub, org_id: tenant, aud: "neo4j-audit", exp: nowSecs() + 600 })}` },
    body: JSON.stringify({ events }) });
  const events = (tag) => [0, 1, 2].map((i) => ({ UID: randomUUID(), actionType: "ANSWER_BOUND", details: { tag, i } }));

  const cases = [
    // The chain head's read (the first statement of every request): nothing is written.
    { what: "head read, Content-Length", chunked: false, inflate: (b) => b.includes("OPTIONAL MATCH (h:"), committed: false },
    { what: "head read, chunked", chunked: true, inflate: (b) => b.includes("OPTIONAL MATCH (h:"), committed: false },
    // The conditional write: Neo4j committed it, its answer is lost; the retry stores nothing twice.
    { what: "write, Content-Length", chunked: false, inflate: (b) => b.includes("_chainLock"), committed: true },
    { what: "write, chunked", chunked: true, inflate: (b) => b.includes("_chainLock"), committed: true },
  ];
  for (const [k, c] of cases.entries()) {
    const tenant = `answer-bound-${run}-${k}`;
    const trail = `org:${tenant}`;
    const evs = events(c.what);
    Object.assign(mode, { inflate: c.inflate, chunked: c.chunked });
    const before = proxy.stats.inflated;
    const t0 = Date.now();
    const r = await send(tenant, evs);
    const answer = await r.json();
    assert.equal(proxy.stats.inflated, before + 1, `${c.what}: the proxy inflated one answer`);
    assert.deepEqual([r.status, answer, r.headers.get("retry-after")],
      [503, { error: "unavailable", message: "the audit store is unavailable; retry later" }, "1"], c.what);
    // The Worker stopped reading: the proxy could not write the padding out (what it wrote is at
    // most the bound plus what the sockets buffer).
    for (let i = 0; i < 50 && proxy.stats.lastSent === proxy.stats.lastTotal; i++) await sleep(100);
    assert.ok(proxy.stats.lastSent < proxy.stats.lastTotal, `${c.what}: ${proxy.stats.lastSent} of ${proxy.stats.lastTotal} bytes written`);
    if (!c.chunked) assert.ok(proxy.stats.lastSent < BOUND, `${c.what}: Content-Length over the bound, yet ${proxy.stats.lastSent} bytes taken`);
    assert.ok(Date.now() - t0 < 30_000, `${c.what}: ${Date.now() - t0} ms`);
    const rows = await stored(trail);
    assert.equal(rows.length, c.committed ? evs.length : 0, `${c.what}: stored ${rows.length}`);
    // The same body again through a well-behaved proxy: 201, each event once, one chain.
    mode.inflate = undefined;
    const again = await send(tenant, evs);
    assert.equal(again.status, 201, `${c.what}: ${JSON.stringify(await again.clone().json())}`);
    assert.deepEqual((await again.json()).uids.length, evs.length);
    const after = await stored(trail);
    assert.equal(after.length, evs.length, `${c.what}: ${JSON.stringify(after)}`);
    assert.deepEqual(after.map((x) => x[1]), [0, 1, 2], `${c.what}: one unbroken chain`);
    assert.ok(after.every((x) => x[2] === 1), `${c.what}: an event linked twice`);
  }
  assert.match(w.log(), /the server's answer is larger than 33554432 bytes, left unread/);
});

test("GET /v1/verify over a trail whose pages are over 32 MiB: the Worker reads each page again half as long, down to two events, and the walk completes (503 on every call before)", async () => {
  const run = randomUUID().slice(0, 8);
  const trail = `answer-bound-verify-${run}`;
  // The proxy inflates every verify page (a statement with a `streamId` and a `limit`) of more
  // than SMALL events, as a page of events with large details is: 1000 of them averaging above
  // ~16 KB are over the bound, SMALL of them are not.
  const SMALL = 16;
  const pages = [];
  const mode = {
    chunked: false,
    inflate: (b) => {
      const st = JSON.parse(b).statements ?? [];
      const page = st.find((s) => s.parameters?.streamId !== undefined && typeof s.parameters?.limit === "number"
        && s.parameters?.trail === trail);
      if (page) pages.push(page.parameters.limit);
      return page !== undefined && page.parameters.limit > SMALL;
    },
  };
  const proxy = await inflatingProxy(BASE && BASE + 3, mode);
  const seed = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
  const w = await startWrangler({ port: BASE && BASE + 2, env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL: proxy.url, NEO4J_USER,
    NEO4J_PASSWORD, AUDIT_TRAIL: trail, AUDIT_SIGNING_KEY: seed, AUDIT_SIGNING_KEY_ID: "answer-bound", VERIFY_SUBJECTS: "auditor",
    NEO4J_TIMEOUT_MS: "60000", RETRY_AFTER_SECS: "1" } });
  workers.push(w);
  const token = async (sub) => `Bearer ${await signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 600 })}`;
  const N = 40;
  for (let r = 0; r < 2; r++) {
    const events = Array.from({ length: N / 2 }, (_, i) => ({ actionType: "ANSWER_BOUND_VERIFY", details: { r, i } }));
    const res = await fetch(`${w.url}/v1/events`, { method: "POST", body: JSON.stringify({ events }),
      headers: { "Content-Type": "application/json", Authorization: await token(`answer-bound-${run}-u`) } });
    assert.equal(res.status, 201, JSON.stringify(await res.json()));
  }
  const before = proxy.stats.inflated;
  const res = await fetch(`${w.url}/v1/verify`, { headers: { Authorization: await token("auditor") }, signal: AbortSignal.timeout(120_000) });
  const report = await res.json();
  assert.equal(res.status, 200, JSON.stringify(report));
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.checked, N, JSON.stringify(report));
  assert.equal(report.next ?? null, null, JSON.stringify(report));
  assert.deepEqual(report.streams.map((s) => [s.ok, s.checked, s.signedSeq]), [[true, N, N - 1]]);
  // Each page over SMALL events was refused once and read again half as long: 1000, 500, …, 15.
  assert.ok(proxy.stats.inflated - before >= 6, `${proxy.stats.inflated - before} pages inflated`);
  assert.ok(pages.some((l) => l > 1 && l <= SMALL), `pages asked: ${pages}`);
  // The same again through a cursor (`limit` events per call): each call halves its own pages.
  let page = { next: null }, checked = 0, calls = 0;
  do {
    const q = page.next ? `?limit=1000&cursor=${page.next}` : "?limit=1000";
    const r = await fetch(`${w.url}/v1/verify${q}`, { headers: { Authorization: await token("auditor") } });
    page = await r.json();
    assert.equal(r.status, 200, JSON.stringify(page));
    assert.equal(page.ok, true, JSON.stringify(page));
    checked = page.checked;
    calls++;
  } while (page.next && calls < 10);
  assert.equal(checked, N);
  // The events themselves, read back from Neo4j: one unbroken chain of N.
  const rows = await cypher(`MATCH (t:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN e.seq ORDER BY e.seq`, { t: trail });
  assert.deepEqual(rows.map((x) => x[0]), Array.from({ length: N }, (_, i) => i));
});

test("GET /v1/verify through a cursor: the smaller page one call needed is carried in the cursor, so the next call reads no over-large page again (each call began at 1000 and halved again before)", async () => {
  const run = randomUUID().slice(0, 8);
  const trail = `answer-bound-cursor-${run}`;
  // As above: every verify page of more than SMALL events is inflated over the bound.
  const SMALL = 16;
  const pages = [];
  const mode = {
    chunked: false,
    inflate: (b) => {
      const st = JSON.parse(b).statements ?? [];
      const page = st.find((s) => s.parameters?.streamId !== undefined && typeof s.parameters?.limit === "number"
        && s.parameters?.trail === trail);
      if (page) pages.push(page.parameters.limit);
      return page !== undefined && page.parameters.limit > SMALL;
    },
  };
  const proxy = await inflatingProxy(BASE && BASE + 5, mode);
  const seed = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
  const w = await startWrangler({ port: BASE && BASE + 4, env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL: proxy.url, NEO4J_USER,
    NEO4J_PASSWORD, AUDIT_TRAIL: trail, AUDIT_SIGNING_KEY: seed, AUDIT_SIGNING_KEY_ID: "answer-bound", VERIFY_SUBJECTS: "auditor",
    NEO4J_TIMEOUT_MS: "60000", RETRY_AFTER_SECS: "1" } });
  workers.push(w);
  const token = async (sub) => `Bearer ${await signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 600 })}`;
  // More than one call's 1000 events.
  const N = 1020;
  for (let r = 0; r * 100 < N; r++) {
    const events = Array.from({ length: Math.min(100, N - r * 100) }, (_, i) => ({ actionType: "ANSWER_BOUND_CURSOR", details: { r, i } }));
    const res = await fetch(`${w.url}/v1/events`, { method: "POST", body: JSON.stringify({ events }),
      headers: { "Content-Type": "application/json", Authorization: await token(`answer-bound-${run}-u`) } });
    assert.equal(res.status, 201, JSON.stringify(await res.json()));
  }
  const get = async (q) => {
    const r = await fetch(`${w.url}/v1/verify${q}`, { headers: { Authorization: await token("auditor") }, signal: AbortSignal.timeout(300_000) });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.ok, true, JSON.stringify(body));
    return body;
  };
  const first = await get("?limit=1000");
  assert.ok(first.next, "a cursor after the first call's 1000 events");
  assert.ok(proxy.stats.inflated >= 6, `${proxy.stats.inflated} pages inflated`);
  const inflated = proxy.stats.inflated;
  pages.length = 0;
  const rest = await get(`?limit=1000&cursor=${first.next}`);
  assert.deepEqual([rest.checked, rest.next], [N, null], JSON.stringify(rest));
  assert.equal(proxy.stats.inflated, inflated, `the second call asked for pages of ${pages}`);
  assert.ok(pages.length > 0 && pages.every((l) => l <= SMALL), `pages asked: ${pages}`);
});
