// A copied tab (Chrome's "Duplicate tab", `window.open` to the same origin without `noopener`)
// gets a copy of the opener's sessionStorage, where the logger keeps its stream (id, next seq,
// head; src/wasm/stream.rs). Both tabs must not continue that stream (two events with one seq:
// verifyTrail reports "inserted" on an honest trail), while a reload must keep continuing it.
// Real headless Chromium (playwright-core, /usr/bin/chromium), real Neo4j (NEO4J_URL), the built
// package (scripts/build; PKG_DIR overrides it). TABS_PORT: the page server's port (default: any free).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { ROOT, cypher, config, unique } from "../node/helpers.mjs";

const PKG_DIR = process.env.PKG_DIR ?? `${ROOT}pkg`;

// `?refuse`: the page's localStorage refuses every read and write (as in some private modes).
const PAGE = `<!doctype html><meta charset="utf-8"><title>tab</title>
<script type="module">
  if (location.search.includes("refuse")) {
    const refuse = () => { throw new DOMException("refused", "SecurityError"); };
    for (const m of ["getItem", "setItem", "removeItem"]) {
      const real = Storage.prototype[m];
      Storage.prototype[m] = function (...a) { return this === window.localStorage ? refuse() : real.apply(this, a); };
    }
  }
  import("/pkg/neo4j_audit.js").then(async ({ default: init, AuditLogger }) => {
    await init();
    window.AuditLogger = AuditLogger;
    document.body.dataset.ready = "true";
  });
</script><body></body>`;

let server, base, browser, read;

before(async () => {
  server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html", "cache-control": "no-store" });
      return res.end(PAGE);
    }
    if (!/^\/pkg\/[\w./-]+$/.test(path) || path.includes("..")) { res.writeHead(404); return res.end(); }
    try {
      const body = await readFile(`${PKG_DIR}/${path.slice("/pkg/".length)}`);
      const type = path.endsWith(".wasm") ? "application/wasm" : "text/javascript";
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    } catch { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(Number(process.env.TABS_PORT ?? 0), "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", "--disable-popup-blocking"],
  });
  read = await import(`${PKG_DIR}/verify/neo4j_audit.js`);
  read.initSync({ module: readFileSync(`${PKG_DIR}/verify/neo4j_audit_bg.wasm`) });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const ready = (p) => p.waitForSelector("body[data-ready=true]", { state: "attached" });

/** Logs `types` in order on page `p` (one logger per call, as a page that makes one per click). */
const log = (p, trail, types) => p.evaluate(async ({ cfg, types }) => {
  const out = [];
  for (const t of types) {
    const l = new AuditLogger(cfg);
    out.push(await l.logUserAction({ uid: "tab-user" }, t, "TEST"));
    if (!out.at(-1)) out.push(l.lastError);
  }
  return out;
}, { cfg: config(trail), types });

/** The trail's events as [streamId, seq, actionType], by stream then seq. */
const events = (trail) => cypher(
  `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e)
   RETURN e.streamId, e.seq, e.eventType ORDER BY e.streamId, e.seq`, { trail });

async function verify(trail) {
  const l = new read.AuditLogger(config(trail));
  const report = await l.verifyTrail();
  return typeof report === "string" ? JSON.parse(report) : report;
}

/** A new browser context (its own storage) with one page at `base + search`, ready. */
async function freshPage(search = "") {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + search);
  await ready(page);
  return { context, page };
}

/** The trail's rows by action type: type → [streamId, seq]. */
const byTypeOf = (rows) => Object.fromEntries(rows.map(([s, q, t]) => [t, [s, q]]));

/** Opens a same-origin tab from `opener` the way a page does (window.open, no noopener). */
async function openCopy(opener, search = "") {
  const [child] = await Promise.all([
    opener.waitForEvent("popup"),
    opener.evaluate((url) => { window.open(url); }, base + search),
  ]);
  await ready(child);
  return child;
}

test("a tab opened with window.open (sessionStorage copied) starts a stream of its own", async () => {
  const trail = unique("tabcopy");
  const { context, page: opener } = await freshPage();
  assert.deepEqual(await log(opener, trail, ["A1", "A2"]), [true, true]);
  const child = await openCopy(opener);
  assert.ok(await child.evaluate(() => Object.keys(sessionStorage).some((k) => k.startsWith("neo4j-audit:stream:"))),
    "the copy has the opener's stream state (the case under test)");
  assert.deepEqual(await log(child, trail, ["B1", "B2"]), [true, true]);
  assert.deepEqual(await log(opener, trail, ["A3"]), [true]);
  assert.deepEqual(await log(child, trail, ["B3"]), [true]);
  await context.close();

  const report = await verify(trail); // before the fix: "inserted" (2 events claim seq 2)
  const rows = await events(trail);
  assert.equal(report.ok, true, `${JSON.stringify(report)} ${JSON.stringify(rows)}`);
  const streams = new Map();
  for (const [s, q, t] of rows) streams.set(s, [...(streams.get(s) ?? []), [q, t]]);
  assert.deepEqual([...streams.values()].map((v) => v.map(([, t]) => t)[0][0]).sort(), ["A", "B"],
    `two streams, one per tab: ${JSON.stringify(rows)}`);
  for (const v of streams.values()) {
    assert.deepEqual(v.map(([q]) => q), v.map((_, i) => i), `each stream's seqs are 0, 1, ...: ${JSON.stringify(rows)}`);
    assert.ok(v.every(([, t]) => t[0] === v[0][1][0]), `a stream is one tab's: ${JSON.stringify(rows)}`);
  }
});

test("a reload keeps continuing its stream, also after a copy was opened", async () => {
  const trail = unique("tabreload");
  const { context, page } = await freshPage();
  assert.deepEqual(await log(page, trail, ["R1"]), [true]);
  await page.reload();
  await ready(page);
  assert.deepEqual(await log(page, trail, ["R2"]), [true]);
  const child = await openCopy(page);
  assert.deepEqual(await log(child, trail, ["C1"]), [true]);
  await page.reload();
  await ready(page);
  await child.reload();
  await ready(child);
  assert.deepEqual(await log(page, trail, ["R3"]), [true]);
  assert.deepEqual(await log(child, trail, ["C2"]), [true]);
  await context.close();

  const rows = await events(trail);
  const byType = byTypeOf(rows);
  assert.equal(byType.R2[0], byType.R1[0], `the reload continued the stream: ${JSON.stringify(rows)}`);
  assert.equal(byType.R3[0], byType.R1[0], `the second reload too: ${JSON.stringify(rows)}`);
  assert.deepEqual([byType.R1[1], byType.R2[1], byType.R3[1]], [0, 1, 2]);
  assert.notEqual(byType.C1[0], byType.R1[0], `the copy started a stream of its own: ${JSON.stringify(rows)}`);
  assert.deepEqual(byType.C2, [byType.C1[0], 1], `the copy's reload continued the copy's stream: ${JSON.stringify(rows)}`);
  const report = await verify(trail);
  assert.equal(report.ok, true, JSON.stringify(report));
});

test("a copy that makes its first logger after its opener left does not fork the stream", async () => {
  // Found by redteam15: the copy's sessionStorage is the opener's as it was when copied; once the
  // opener navigated away (pagehide gave the lease back), a copy making its first logger then
  // resumed the stream from that older state and gave out the opener's later seqs again.
  const trail = unique("tablate");
  const { context, page: opener } = await freshPage();
  assert.deepEqual(await log(opener, trail, ["A1", "A2"]), [true, true]);
  const child = await openCopy(opener);
  assert.deepEqual(await log(opener, trail, ["A3", "A4"]), [true, true]);
  await opener.goto("about:blank");
  assert.deepEqual(await log(child, trail, ["B1", "B2"]), [true, true]);
  await child.reload();
  await ready(child);
  assert.deepEqual(await log(child, trail, ["B3"]), [true]);
  await context.close();

  const rows = await events(trail);
  const byType = byTypeOf(rows);
  assert.notEqual(byType.B1[0], byType.A1[0], `the copy started a stream of its own: ${JSON.stringify(rows)}`);
  assert.deepEqual([byType.B1, byType.B2, byType.B3].map(([s, q]) => [s === byType.B1[0], q]), [[true, 0], [true, 1], [true, 2]],
    `the copy's reload continued the copy's stream: ${JSON.stringify(rows)}`);
  const report = await verify(trail); // before the fix: "inserted" (B1 and A3 claimed seq 2)
  assert.equal(report.ok, true, `${JSON.stringify(report)} ${JSON.stringify(rows)}`);
});

test("where localStorage refuses, a copy never forks the stream (each page starts fresh)", async () => {
  const trail = unique("tabrefuse");
  const { context, page: opener } = await freshPage("?refuse");
  assert.deepEqual(await log(opener, trail, ["A1", "A2"]), [true, true]);
  const child = await openCopy(opener, "?refuse");
  assert.deepEqual(await log(child, trail, ["B1"]), [true]);
  assert.deepEqual(await log(opener, trail, ["A3"]), [true]);
  await opener.reload();
  await ready(opener);
  assert.deepEqual(await log(opener, trail, ["A4"]), [true]);
  await context.close();

  const rows = await events(trail);
  const dup = rows.filter(([s, q], i) => rows.findIndex(([s2, q2]) => s2 === s && q2 === q) !== i);
  assert.deepEqual(dup, [], `one seq of one stream given to two events: ${JSON.stringify(rows)}`);
  assert.equal(rows.length, 5);
  const report = await verify(trail);
  assert.equal(report.ok, true, JSON.stringify(report));
});

test("a same-origin frame (the tab's sessionStorage shared) never makes the page and a copy of the tab continue one stream", async () => {
  // Found by redteam32: a page's logger went on from whatever state the tab's sessionStorage held,
  // also a same-origin frame's (its own stream, which the frame's lease covered): the page then
  // continued the frame's stream without its lease. Once the frame went away (the lease given back
  // with that head), a copy of the tab resumed the stream too, and both gave out its next seq.
  const trail = unique("tabframe");
  const { context, page } = await freshPage();
  // One logger for the page's life (as an app keeps it), one made in the frame.
  const logKept = (types) => page.evaluate(async ({ cfg, types }) => {
    window.kept ??= new AuditLogger(cfg);
    const out = [];
    for (const t of types) out.push(await window.kept.logUserAction({ uid: "tab-user" }, t, "TEST"));
    return out;
  }, { cfg: config(trail), types });
  assert.deepEqual(await logKept(["A1", "A2"]), [true, true]);
  await page.evaluate((url) => new Promise((resolve) => {
    const f = document.createElement("iframe");
    f.src = url;
    document.body.append(f);
    const t = setInterval(() => f.contentDocument?.body?.dataset.ready === "true" && (clearInterval(t), resolve()), 20);
  }), base);
  assert.deepEqual(await page.evaluate(async (cfg) => {
    const l = new (document.querySelector("iframe").contentWindow.AuditLogger)(cfg);
    return [await l.logUserAction({ uid: "tab-user" }, "F1", "TEST")];
  }, config(trail)), [true]);
  assert.deepEqual(await logKept(["A3"]), [true]);
  await page.evaluate(() => document.querySelector("iframe").remove());
  const child = await openCopy(page);
  assert.deepEqual(await log(child, trail, ["C1"]), [true]);
  assert.deepEqual(await logKept(["A4"]), [true]);
  await context.close();

  const rows = await events(trail);
  const byType = byTypeOf(rows);
  const report = await verify(trail); // before the fix: "inserted" (A4 and C1 claimed seq 2 of the frame's stream)
  assert.equal(report.ok, true, `${JSON.stringify(report)} ${JSON.stringify(rows)}`);
  assert.deepEqual([byType.A1, byType.A2, byType.A3, byType.A4].map(([s, q]) => [s === byType.A1[0], q]),
    [[true, 0], [true, 1], [true, 2], [true, 3]], `the page went on with its own stream: ${JSON.stringify(rows)}`);
  assert.deepEqual(byType.F1[1], 0);
  assert.ok(byType.F1[0] !== byType.A1[0] && byType.C1[0] !== byType.A1[0], `the frame and the copy have streams of their own: ${JSON.stringify(rows)}`);
});

test("two copies of a tab that has gone (Duplicate tab twice, the original closed) making their loggers at once never both resume its stream", async () => {
  // Found by redteam36: a lease given back named only the head, which both copies held (copied
  // before the original closed, nothing logged since). Each copy is its own renderer process, and
  // localStorage is not atomic across processes: both read "given back" before the other's write
  // reached them, both resumed the stream and gave out its next seq (with the loggers made at
  // the same moment, about one run in three). Here copy C's view of localStorage stays as it was
  // when the original closed (its renderer has not yet seen B's write), which makes that race
  // happen on every run.
  const trail = unique("tabtwins");
  const context = await browser.newContext();
  const original = await context.newPage();
  await original.goto(base);
  await ready(original);
  assert.deepEqual(await log(original, trail, ["A1", "A2"]), [true, true]);
  // What Duplicate tab gives a copy: the tab's sessionStorage as it is now, in a page (and process) of its own.
  const saved = await original.evaluate(() => JSON.stringify(Object.entries(sessionStorage)));
  const duplicate = async () => {
    const p = await context.newPage();
    await p.addInitScript((s) => {
      if (sessionStorage.getItem("test:copied")) return;
      for (const [k, v] of JSON.parse(s)) sessionStorage.setItem(k, v);
      sessionStorage.setItem("test:copied", "1");
    }, saved);
    await p.goto(base);
    await ready(p);
    return p;
  };
  const [b, c] = [await duplicate(), await duplicate()];
  await original.close({ runBeforeUnload: true });
  // C's view of the leases as the original left them.
  await c.evaluate(() => {
    const stale = new Map(Object.entries(localStorage).filter(([k]) => k.startsWith("neo4j-audit:lease:")));
    const real = Storage.prototype.getItem;
    Storage.prototype.getItem = function (k) {
      return this === window.localStorage && stale.has(k) ? stale.get(k) : real.call(this, k);
    };
  });
  assert.deepEqual(await log(b, trail, ["B1"]), [true]);
  assert.deepEqual(await log(c, trail, ["C1"]), [true]);
  await context.close();

  const rows = await events(trail);
  const byType = byTypeOf(rows);
  const report = await verify(trail); // before the fix: "inserted" (B1 and C1 both claimed seq 2)
  assert.equal(report.ok, true, `${JSON.stringify(report)} ${JSON.stringify(rows)}`);
  assert.ok(byType.B1[0] !== byType.C1[0], `the copies have streams of their own: ${JSON.stringify(rows)}`);
});
