// The bound on an HTTP answer's size (src/transport/fetch.js `post`, src/transport/mod.rs
// MAX_ANSWER_BYTES / read_answer_bytes). Found by a red team: a server (a wrong URL, a proxy, a
// compromised host) answering one logUserAction with 600 MB pushed Node to 1.35 GB and then
// failed with "Cannot create a string longer than 0x1fffffe8"; 100 MB took 512 MB, and the text
// was copied into the .wasm's memory, which never shrinks. The answers here come from a stub
// server (fault injection, never the database); the exactly-once case writes to the real Neo4j.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { loadPkg, unique, config, trailEvents, proxyToNeo4j } from "./helpers.mjs";
import { post } from "../../src/transport/fetch.js";

const pkg = await loadPkg();
const MiB = 1 << 20;

/** A server answering every POST with 200 and `size` bytes (`[` then spaces), 1 MiB at a time as
 *  the client takes them: with a Content-Length, or chunked (`chunked`). Stops when the client
 *  goes away. `body` instead: that exact text, in chunks of `split` bytes. */
async function stub({ size = 0, chunked = false, body, split = MiB } = {}) {
  const server = createServer(async (req, res) => {
    for await (const _ of req);
    const bytes = body === undefined ? null : Buffer.from(body);
    const total = bytes ? bytes.length : size;
    res.writeHead(200, { "Content-Type": "application/json", ...(chunked ? {} : { "Content-Length": total }) });
    const block = Buffer.alloc(MiB, 0x20);
    block[0] = 0x5b;
    let gone = false;
    let wake;
    res.on("close", () => ((gone = true), wake?.()));
    for (let sent = 0; sent < total && !gone; ) {
      const n = Math.min(bytes ? split : MiB, total - sent);
      const part = bytes ? bytes.subarray(sent, sent + n) : block.subarray(0, n);
      if (!res.write(Buffer.from(part))) await new Promise((r) => ((wake = r), res.once("drain", r)));
      block[0] = 0x20;
      sent += n;
    }
    res.end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return Object.assign(server, { url: `http://127.0.0.1:${server.address().port}` });
}

const wasmBytes = () => pkg.initSync({ module: new Uint8Array() }).memory.buffer.byteLength;

test("an answer larger than 4 MiB to a write: false, the reason in lastError, neither the process nor the .wasm's memory grows by it", async () => {
  for (const chunked of [false, true]) {
    const server = await stub({ size: 250 * MiB, chunked });
    try {
      const logger = new pkg.AuditLogger(config(unique("huge"), { url: server.url, retry: { maxAttempts: 1 }, queue: { enabled: false } }));
      const [rss, wasm, t0] = [process.resourceUsage().maxRSS * 1024, wasmBytes(), Date.now()];
      assert.equal(await logger.logUserAction(null, "HUGE"), false);
      assert.equal(logger.lastError, `network error: the server's answer is larger than 4194304 bytes, left unread (${server.url})`);
      const grown = { rss: process.resourceUsage().maxRSS * 1024 - rss, wasm: wasmBytes() - wasm };
      assert.ok(grown.rss < 100 * MiB && grown.wasm < 16 * MiB, `chunked ${chunked}: grew ${JSON.stringify(grown)}`);
      assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
      logger.free();
    } finally {
      server.close();
      server.closeAllConnections();
    }
  }
});

test("fetch.js post: an answer of exactly `max` bytes is read whole (UTF-8 split across chunks decoded), one byte more is refused", async () => {
  const text = `{"é":"${"ü€".repeat(100)}"}`;
  const size = Buffer.byteLength(text);
  for (const chunked of [false, true]) {
    const server = await stub({ body: text, chunked, split: 7 });
    try {
      const [status, , got] = await post(server.url, "", new Uint8Array(2), 5000, undefined, size);
      assert.equal(status, 200);
      assert.equal(got, text);
      await assert.rejects(post(server.url, "", new Uint8Array(2), 5000, undefined, size - 1), (e) => {
        assert.equal(e, `the server's answer is larger than ${size - 1} bytes, left unread (${server.url})`);
        return true;
      });
    } finally {
      server.close();
      server.closeAllConnections();
    }
  }
});

test("a write whose 200 answer is too large has committed: the retry writes nothing twice (MERGE by UID)", async () => {
  // The schema in place first (a fresh database's first guarded write is refused, then re-sent).
  const warm = new pkg.AuditLogger(config(unique("huge-warm")));
  assert.equal(await warm.logUserAction(null, "WARM"), true, warm.lastError);
  warm.free();
  const trail = unique("huge-commit");
  let first = true;
  let committed;
  const proxy = await proxyToNeo4j(async (body, res, forward) => {
    if (!body.includes("UNWIND $events") || !first) return false;
    first = false;
    // Committed in Neo4j, then an answer past the bound.
    const answer = await forward();
    committed = answer.status === 200 && JSON.parse(answer.body).errors.length === 0;
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 64 * MiB });
    res.end(Buffer.alloc(64 * MiB, 0x20));
    return true;
  });
  try {
    const logger = new pkg.AuditLogger(config(trail, { url: proxy.url, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 }, queue: { enabled: false } }));
    assert.equal(await logger.logUserAction(null, "ONCE"), true, logger.lastError);
    assert.equal(committed, true);
    assert.equal(proxy.writes.length, 2);
    assert.deepEqual((await trailEvents(trail)).map((e) => e.type), ["ONCE"]);
    logger.free();
  } finally {
    proxy.close();
  }
});

test("a read's answer has a bound of its own (64 MiB + 2000 × maxDetailsBytes): null, the reason in lastError", async () => {
  const read = await loadPkg("read");
  const server = await stub({ size: 80 * MiB, chunked: true });
  try {
    const logger = new read.AuditLogger(config(unique("huge-read"), { url: server.url, maxDetailsBytes: 1, retry: { maxAttempts: 1 }, queue: { enabled: false } }));
    const wasm = read.initSync({ module: new Uint8Array() }).memory.buffer.byteLength;
    assert.equal(await logger.getAuditTrail({ limit: 10 }), null);
    assert.equal(logger.lastError, `network error: the server's answer is larger than ${64 * MiB + 2000} bytes, left unread (${server.url})`);
    const grown = read.initSync({ module: new Uint8Array() }).memory.buffer.byteLength - wasm;
    assert.ok(grown < 16 * MiB, `the .wasm grew by ${grown}`);
    logger.free();
  } finally {
    server.close();
    server.closeAllConnections();
  }
});
