// The delivery claims of docs/delivery.md (and README's flush/close rows) tried against the real
// Neo4j, with a proxy (helpers.mjs proxyToNeo4j) that delays, fails or cuts requests; every test
// reads the graph back.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { loadPkg, unique, config, cypher, proxyToNeo4j } from "./helpers.mjs";

const pkg = await loadPkg();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const proxies = [];
after(() => proxies.forEach((p) => p.close()));

async function proxy(intercept) {
  const p = await proxyToNeo4j(intercept);
  proxies.push(p);
  return p;
}

function answer(res, status, body = { error: "test" }, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
  return true;
}

/** The trail's events: how many nodes, distinct UIDs, HAS_EVENT links, PERFORMED_BY and ON links. */
async function graph(trail) {
  const [[nodes, uids, links, by, on]] = await cypher(
    `MATCH (t:AuditTrail {name: $trail})-[h:HAS_EVENT]->(e)
     RETURN count(e), count(DISTINCT e.UID), count(h),
            sum(COUNT { (e)-[:PERFORMED_BY]->() }), sum(COUNT { (e)-[:ON]->() })`,
    { trail },
  );
  return { nodes, uids, links, by, on };
}

before(async () => {
  assert.equal(await new pkg.AuditLogger(config("claims-schema")).ensureSchema(), true);
});

for (const queue of [true, false]) {
  test(`flush() under steady load answers once the events logged before it have their outcome (queue ${queue ? "on" : "off"})`, async () => {
    // A server whose logger is never idle (a call every few ms, each request ~60 ms): before, a
    // flush answered only once nothing at all was under way, so here never while the load went
    // on (a health check's or a periodic `await logger.flush()` hung as long as the traffic).
    const p = await proxy(async (body) => { if (body.includes("UNWIND $events")) await sleep(60); return false; });
    const trail = unique("claims-flush-load");
    const logger = new pkg.AuditLogger({ ...config(trail), url: p.url, queue: { enabled: queue } });
    assert.equal(await logger.logUserAction({ uid: "u" }, "WARM"), true, logger.lastError);
    let stop = false;
    const calls = [];
    const load = (async () => {
      while (!stop) {
        calls.push(logger.logUserAction({ uid: "u" }, "LOAD"));
        await sleep(5);
      }
    })();
    await sleep(150);
    const before = calls.length + 1; // with WARM
    const t = Date.now();
    let flushed;
    const f = logger.flush().then((ok) => (flushed = { ok, ms: Date.now() - t, logged: calls.length }));
    try {
      const deadline = Date.now() + 3000;
      while (flushed === undefined && Date.now() < deadline) await sleep(10);
      assert.ok(flushed, "flush() answered while calls kept coming");
      assert.equal(flushed.ok, true, logger.lastError);
      assert.ok(flushed.logged > before, "the load went on while it waited");
      // Everything logged before the flush is in the graph when it answers.
      assert.ok((await graph(trail)).nodes >= before);
    } finally {
      stop = true;
      await load;
    }
    assert.ok((await Promise.all(calls)).every(Boolean), logger.lastError);
    await f;
    assert.equal(await logger.close(), true);
    const g = await graph(trail);
    assert.equal(g.nodes, calls.length + 1);
    assert.equal(g.uids, g.nodes);
    assert.equal(g.links, g.nodes);
  });
}

test("flush() under load answers false when an event logged before it failed, whatever the later calls do", async () => {
  let failing = true;
  const p = await proxy(async (body, res) => {
    if (!body.includes("UNWIND $events")) return false;
    if (failing && body.includes("DOOMED")) return answer(res, 400, { error: "refused by the test" });
    await sleep(40);
    return false;
  });
  const trail = unique("claims-flush-fail");
  const logger = new pkg.AuditLogger({ ...config(trail), url: p.url, queue: { enabled: false } });
  assert.equal(await logger.logUserAction({ uid: "u" }, "WARM"), true, logger.lastError);
  let stop = false;
  const calls = [];
  const load = (async () => {
    while (!stop) {
      calls.push(logger.logUserAction({ uid: "u" }, "LOAD"));
      await sleep(5);
    }
  })();
  await sleep(100);
  const doomed = logger.logUserAction({ uid: "u" }, "DOOMED");
  const ok = await Promise.race([logger.flush(), sleep(3000).then(() => "hung")]);
  stop = true;
  await load;
  assert.equal(ok, false);
  assert.equal(await doomed, false);
  // The doomed event's batch-mates fail with it (one refused request); every other call commits.
  const results = await Promise.all(calls);
  assert.ok(results.filter((r) => !r).length < 20, `${results.filter((r) => !r).length} failed`);
  assert.equal((await graph(trail)).nodes, results.filter(Boolean).length + 1, "every other event stored");
  await logger.close();
});
