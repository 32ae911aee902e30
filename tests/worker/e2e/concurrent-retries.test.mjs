// Concurrency and lost answers on the Worker's signed write path, all real: `wrangler dev` →
// (a proxy of this test) → Neo4j.
//   (a) a burst of requests at once from several subjects, each request body posted three times
//       at once (a client's retries racing its first attempt): every request 201 with the same
//       UIDs for the same body, every event stored once under its own subject, one signed
//       stream, no seq taken twice, intact in Node, at GET /v1/verify and for the CLI;
//   (b) a proxy between the Worker and Neo4j that cuts the connection right after Neo4j answered
//       (committed) one conditional write in three: the client's retries of those requests store
//       nothing twice (no event, HAS_EVENT or PERFORMED_BY twice) and do not fork the stream.
// Ports: CONC_RETRY_PORT (default 0: free ones) for the Worker, the next one for the proxy.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { config, cypher, loadPkg, ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } from "../../node/helpers.mjs";
import { forwardToNeo4j, startWrangler } from "../../support/wrangler.mjs";
import { signJwt, nowSecs } from "../jwt.mjs";

const SECRET = randomBytes(32).toString("base64url");
const SEED = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }).d;
const BASE = Number(process.env.CONC_RETRY_PORT ?? 0) || undefined;
const workers = [];
const servers = [];
after(async () => {
  for (const w of workers) await w.stop();
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = (sub) => signJwt(SECRET, { sub, aud: "neo4j-audit", exp: nowSecs() + 600 });

/** POSTs `events` until the Worker answers 201 (a client's retries: after a 503 or a lost
 *  answer, the same body again); answers the 201's body and the number of attempts. */
async function postUntilStored(url, auth, events) {
  const body = JSON.stringify({ events });
  for (let attempt = 1; attempt <= 40; attempt++) {
    let res;
    try {
      res = await fetch(`${url}/v1/events`, { method: "POST", signal: AbortSignal.timeout(60_000),
        headers: { "Content-Type": "application/json", Authorization: auth }, body });
    } catch {
      await sleep(50 + Math.random() * 200);
      continue;
    }
    const answer = await res.json();
    if (res.status === 201) return { answer, attempt };
    assert.ok(res.status >= 500, `${res.status} ${JSON.stringify(answer)}`);
    await sleep(50 + Math.random() * 200);
  }
  throw new Error("never stored");
}

/** A proxy to Neo4j that forwards every request and, for the Worker's conditional writes that
 *  `cut()` picks, closes the connection once Neo4j has answered instead of relaying the answer. */
async function cuttingProxy(port, cut) {
  const counts = { writes: 0, cut: 0, cutCommitted: 0 };
  const server = createServer(async (req, res) => {
    const { body, upstream, answer } = await forwardToNeo4j(req);
    if (body.includes("_chainLock")) {
      counts.writes++;
      if (cut(counts.writes)) {
        counts.cut++;
        // Committed: the write's one row (`written`), no error.
        const a = JSON.parse(answer);
        if (!a.errors?.length && a.results?.[0]?.data?.length) counts.cutCommitted++;
        req.socket.destroy();
        return;
      }
    }
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(answer);
  });
  servers.push(server);
  await new Promise((r) => server.listen(port ?? 0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, counts };
}

function runCli(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "cli/neo4j-audit.mjs"), ...args], { env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

/** Everything a trail holds, checked against `want` (client-side: subject → body → events):
 *  each event once, under its subject, with one HAS_EVENT and one PERFORMED_BY; one signed
 *  stream, seq 0..n-1 each once; intact in Node, at GET /v1/verify and for the CLI. */
async function checkTrail(w, trail, subjects, n) {
  const rows = await cypher(
    `MATCH (t:AuditTrail {name: $t})-[:HAS_EVENT]->(e)
     RETURN e.UID, e.userUID, e.details, e.streamId, e.seq,
       COUNT { (t)-[:HAS_EVENT]->(e) }, COUNT { (:AuditTrail)-[:HAS_EVENT]->(e) },
       [(e)-[:PERFORMED_BY]->(u) | u.UID]`, { t: trail });
  assert.equal(rows.length, n, `stored ${rows.length} of ${n} events`);
  assert.equal(new Set(rows.map((r) => r[0])).size, n, "an event stored twice");
  const keys = new Set();
  for (const [uid, user, details, , , links, allLinks, performers] of rows) {
    const d = JSON.parse(details);
    assert.equal(user, d.sub, `event ${uid} of ${d.sub} stored as ${user}'s`);
    assert.deepEqual([links, allLinks, performers], [1, 1, [d.sub]], `event ${uid}'s relationships`);
    keys.add(`${d.sub}/${d.body}/${d.i}`);
  }
  assert.equal(keys.size, n, "one client event stored as two");
  assert.equal(new Set(rows.map((r) => r[3])).size, 1, "the signed stream forked");
  const seqs = rows.map((r) => r[4]).sort((a, b) => a - b);
  assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i), "a seq taken twice, or a gap");
  const jwks = await (await fetch(`${w.url}/v1/keys`)).json();
  const pkg = await loadPkg("verify");
  const report = await new pkg.AuditLogger(config(trail)).verifyTrail({ publicKeys: jwks });
  assert.ok(report?.ok, JSON.stringify(report?.streams?.[0]?.firstBreak ?? report));
  assert.equal(report.checked, n);
  const auditor = `Bearer ${await token("auditor")}`;
  const page = await (await fetch(`${w.url}/v1/verify`, { headers: { Authorization: auditor } })).json();
  assert.deepEqual([page.ok, page.checked, page.next], [true, n, null], JSON.stringify(page));
  const dir = mkdtempSync(join(tmpdir(), "audit-conc-"));
  writeFileSync(join(dir, "keys.json"), JSON.stringify(jwks));
  const cli = await runCli(["verify", "--trail", trail, "--public-key", join(dir, "keys.json")],
    { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD });
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.ok(subjects.length > 0);
}

/** Starts a Worker for `trail` writing to `neo4jUrl`. */
async function worker(trail, neo4jUrl, port) {
  const w = await startWrangler({ port, env: { AUDIT_JWT_SECRET: SECRET, NEO4J_URL: neo4jUrl, NEO4J_USER, NEO4J_PASSWORD,
    AUDIT_TRAIL: trail, AUDIT_SIGNING_KEY: SEED, AUDIT_SIGNING_KEY_ID: "k-retry", MAX_BATCH: "100",
    VERIFY_SUBJECTS: "auditor", RETRY_AFTER_SECS: "1" } });
  workers.push(w);
  return w;
}

/** `subjects` × `bodies` request bodies of `per` events each, every body with client UIDs. */
function bodies(run, subjects, count, per) {
  return subjects.flatMap((sub) => Array.from({ length: count }, (_, body) => ({ sub, body,
    events: Array.from({ length: per }, (_, i) => ({ UID: randomUUID(), actionType: "CONC_RETRY",
      details: { run, sub, body, i } })) })));
}

async function users(subjects) {
  await cypher("UNWIND $s AS s MERGE (:User {UID: s})", { s: subjects });
}

test("a burst of 60 requests at once (20 bodies from 4 subjects, each posted 3 times at once): each event once under its subject, one signed stream, no seq twice", async () => {
  const run = randomUUID().slice(0, 8);
  const trail = `conc-retry-${run}`;
  const w = await worker(trail, NEO4J_URL, BASE);
  const subjects = [0, 1, 2, 3].map((i) => `conc-retry-${run}-u${i}`);
  await users(subjects);
  const auth = Object.fromEntries(await Promise.all(subjects.map(async (s) => [s, `Bearer ${await token(s)}`])));
  const all = bodies(run, subjects, 5, 3);
  const answers = await Promise.all(all.flatMap((b) => [0, 1, 2].map(() => postUntilStored(w.url, auth[b.sub], b.events))));
  for (let i = 0; i < all.length; i++) {
    const three = answers.slice(3 * i, 3 * i + 3).map((a) => JSON.stringify(a.answer));
    assert.equal(new Set(three).size, 1, `one body, three answers: ${three.join(" ")}`);
  }
  await checkTrail(w, trail, subjects, all.length * 3);
});

test("a proxy cutting one Worker write in three after Neo4j committed it: the retries store nothing twice and the stream does not fork", async () => {
  const run = randomUUID().slice(0, 8);
  const trail = `conc-cut-${run}`;
  const proxy = await cuttingProxy(BASE && BASE + 1, (k) => k % 3 === 1);
  const w = await worker(trail, proxy.url, BASE && BASE + 2);
  const subjects = [0, 1, 2].map((i) => `conc-cut-${run}-u${i}`);
  await users(subjects);
  const auth = Object.fromEntries(await Promise.all(subjects.map(async (s) => [s, `Bearer ${await token(s)}`])));
  const all = bodies(run, subjects, 6, 2);
  // Sequentially first (each cut is a lost answer after a commit, alone), then all at once.
  const half = all.length / 2;
  for (const b of all.slice(0, half)) await postUntilStored(w.url, auth[b.sub], b.events);
  await Promise.all(all.slice(half).map((b) => postUntilStored(w.url, auth[b.sub], b.events)));
  assert.ok(proxy.counts.cutCommitted >= 3, JSON.stringify(proxy.counts));
  await checkTrail(w, trail, subjects, all.length * 2);
});
