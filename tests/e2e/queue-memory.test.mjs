// The durable queue's memory while its IndexedDB writes wait to commit, in real headless Chromium
// (playwright-core, Debian's /usr/bin/chromium). Regression: when the queue's IndexedDB I/O moved
// into src/queue/idb.js, every write's promise chain kept its closure, and so the event's key and
// JSON text, alive in the page's JS heap until its transaction committed; 100 000 puts take
// seconds to commit, and MEM in Chromium (bench/memory_chromium.mjs) went from 94 to ~994 bytes
// of JS heap per waiting event. Here the queue's transaction is held back deterministically: a
// read-write transaction of the test's own on the same store keeps itself alive, so the queue's
// writes are issued but cannot run; the page's JS heap (after gc) must then hold far less than the
// events' texts. Needs pkg/ (scripts/build); no Neo4j (the logger's URL accepts and never answers).
//   QUEUE_MEMORY_PKG=dir (default pkg), QUEUE_MEMORY_PORT (default 0: any free port)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttp } from "node:http";
import { createServer } from "node:net";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { ROOT } from "../node/helpers.mjs";

const PKG = process.env.QUEUE_MEMORY_PKG ?? "pkg";
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
let server, hole, browser, page;
const sockets = [];

before(async () => {
  server = createHttp(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path === "/") return res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>queue memory</title>");
    if (!path.startsWith(`/${PKG}/`)) return res.writeHead(404).end();
    try {
      res.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" }).end(await readFile(join(ROOT, path)));
    } catch {
      res.writeHead(404).end();
    }
  });
  const port = Number(process.env.QUEUE_MEMORY_PORT ?? 0);
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  hole = createServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise((r) => hole.listen(port && port + 1, "127.0.0.1", r));
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--js-flags=--expose-gc", "--enable-precise-memory-info"] });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
});

after(async () => {
  await browser?.close();
  for (const s of sockets) s.destroy();
  server?.close();
  hole?.close();
});

test("waiting IndexedDB writes keep no copy of the events' texts in the page's JS heap", async (t) => {
  const r = await page.evaluate(async ({ pkgDir, url, n }) => {
    const pkg = await import(`/${pkgDir}/neo4j_audit.js`);
    await pkg.default({ module_or_path: `/${pkgDir}/neo4j_audit_bg.wasm` });
    const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
    const gc = async () => {
      for (let i = 0; i < 3; i++) (globalThis.gc(), await sleep(20));
    };
    const name = `queue-memory-${Date.now()}`;
    const req = (r) => new Promise((ok, bad) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => bad(r.error))));
    // The queue's database as the queue makes it, and a read-write transaction on its store that
    // stays alive (one request after another) until released: the queue's transactions, on the
    // same store, wait behind it.
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore("events");
    const db = await req(open);
    let release = false;
    const hold = db.transaction("events", "readwrite");
    const held = new Promise((ok) => (hold.oncomplete = ok));
    const spin = () => (release ? null : (hold.objectStore("events").get("none").onsuccess = spin));
    spin();

    await gc();
    const before = performance.memory.usedJSHeapSize;
    const logger = new pkg.AuditLogger({ url, username: "neo4j", password: "x", trail: "queue-memory", timeoutMs: 600000,
      retry: { maxAttempts: 1 }, queue: { name, maxEvents: n, maxBytes: 1 << 30 } });
    const calls = [];
    for (let i = 0; i < n; i++) {
      // ~8 KB of text per event, made here and not kept by the test.
      const details = { i, text: `${i}:`.padEnd(8000, String.fromCharCode(97 + (i % 26))) };
      calls.push(logger.logUserAction({ uid: `user-${i}`, name: `User ${i}` }, "DOCUMENT_MODIFIED", "DOCUMENT_MANAGEMENT", details));
    }
    // The database opens and the writes are issued (into a transaction that cannot start yet).
    for (let i = 0; i < 500 && logger.stats().queued < n; i++) await sleep(10);
    await sleep(1000);
    await gc();
    const heapPerEvent = (performance.memory.usedJSHeapSize - before) / n;
    release = true;
    await held;
    // Once the queue's transaction ran, every event is stored.
    let stored = 0;
    for (let i = 0; i < 500 && stored < n; i++) {
      await sleep(20);
      stored = await req(db.transaction("events").objectStore("events").count());
    }
    db.close();
    return { heapPerEvent, queued: logger.stats().queued, stored, lastError: logger.lastError };
  }, { pkgDir: PKG, url: `http://127.0.0.1:${hole.address().port}`, n: 2000 });
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.queued, 2000, JSON.stringify(r));
  // The events' texts are ~8 KB each: kept alive they would be well over 8 000 bytes per event.
  // What a waiting call holds in JS (its promise, the logger's share) is a few hundred at most.
  assert.ok(r.heapPerEvent < 1000, `JS heap per waiting event ${r.heapPerEvent.toFixed(0)} B: ${JSON.stringify(r)}`);
  assert.equal(r.stored, 2000, `every event stored once the queue's transaction ran: ${JSON.stringify(r)}`);
});
