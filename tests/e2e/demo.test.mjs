// The demo page end to end in real headless Chromium (playwright-core, Debian's /usr/bin/chromium)
// against the real Neo4j: clicks -> events in Neo4j (read back independently) -> rows in the
// timeline; filters; chain state; offline -> queue -> drain; tampering shows up. Screenshots go to
// test-artifacts/. Needs pkg/ (scripts/build) and Neo4j (scripts/neo4j start).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { ROOT, unique, cypher } from "../node/helpers.mjs";

const TRAIL = unique("e2e-demo");
const ARTIFACTS = `${ROOT}test-artifacts`;
let server, base, browser, page;
const consoleErrors = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = spawn(process.execPath, ["scripts/serve.mjs"], {
    cwd: ROOT, env: { ...process.env, DEMO_PORT: "0", DEMO_TRAIL: TRAIL }, stdio: ["ignore", "pipe", "inherit"],
  });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("demo server did not start")), 10_000);
    server.stdout.on("data", (d) => {
      const m = /demo: (http:\/\/\S+)/.exec(String(d));
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("exit", (code) => reject(new Error(`demo server exited ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 1020 } });
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
});

/** The events of the demo's trail, read straight from Neo4j, oldest first. */
async function stored() {
  const rows = await cypher(
    `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent)
     RETURN e.UID, e.eventType, e.eventCategory, e.userUID, e.details, e.seq, e.hash ORDER BY e.seq`,
    { trail: TRAIL },
  );
  return rows.map(([uid, type, category, user, details, seq, hash]) => ({ uid, type, category, user, details: JSON.parse(details ?? "null"), seq, hash }));
}

async function until(what, fn, timeout = 20_000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeout) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

const rowUids = () => page.$$eval("#timeline li.event", (lis) => lis.map((li) => li.dataset.uid));

test("the page loads with an empty console (no 404, not even the favicon's)", async () => {
  // Found by a new user: a fresh load showed "Failed to load resource: … 404 (Not Found)" in the
  // console, Chromium's request for /favicon.ico, which the later tests filter out with the
  // offline step's expected errors.
  assert.deepEqual(consoleErrors, []);
});

test("clicks become events in Neo4j and rows in the timeline", async () => {
  await page.click("[data-testid=act-view-doc-q3]");
  await page.click("[data-testid=act-edit-doc-acme]");
  await page.click("[data-testid=user-user-bob]"); // logs a LOGIN for Bob
  await page.click("[data-testid=act-share-doc-roadmap]");
  await page.click("[data-testid=act-delete-doc-q3]");

  const events = await until("5 events in Neo4j", async () => { const e = await stored(); return e.length === 5 && e; });
  assert.deepEqual(events.map((e) => [e.type, e.user]), [
    ["DOCUMENT_VIEWED", "user-ann"], ["DOCUMENT_EDITED", "user-ann"], ["LOGIN", "user-bob"],
    ["DOCUMENT_SHARED", "user-bob"], ["DOCUMENT_DELETED", "user-bob"],
  ]);
  assert.deepEqual(events.map((e) => e.seq), [0, 1, 2, 3, 4], "one stream, chained in click order");
  assert.equal(events[1].details.document_name, "ACME-contract.docx");
  assert.equal(events[2].details.password, "[REDACTED]", "redacted before leaving the page");
  assert.equal(events[3].details.accessToken, "[REDACTED]");

  // Every stored event shows up as a row, newest first.
  const uids = await until("5 rows", async () => { const u = await rowUids(); return u.length === 5 && u; });
  assert.deepEqual(uids, events.map((e) => e.uid).reverse());
  const first = await page.textContent("#timeline li.event:first-child .what");
  assert.match(first, /Bob Builder deleted Q3-report\.pdf/);
  assert.match(await page.textContent("#timeline li.event:first-child .seq"), new RegExp(`#4 · ${events[4].hash.slice(0, 8)}`));

  // The chain is verified from what Neo4j holds.
  await until("chain intact over all 5 events", () => page.$eval("#chain-status",
    (el) => el.dataset.state === "ok" && /5 events in 1 stream/.test(el.textContent)));
  await page.screenshot({ path: `${ARTIFACTS}/demo.png`, fullPage: true });
});

test("a document's history is read with getTargetActivity, from the ON edges", async () => {
  const edges = await cypher(
    `MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent)-[o:ON]->(d:Document) RETURN d.UID, e.eventType, o.role ORDER BY e.seq`,
    { trail: TRAIL });
  assert.deepEqual(edges, [["doc-q3", "DOCUMENT_VIEWED", "subject"], ["doc-acme", "DOCUMENT_EDITED", "subject"],
    ["doc-roadmap", "DOCUMENT_SHARED", "subject"], ["doc-q3", "DOCUMENT_DELETED", "subject"]]);
  await page.click("[data-testid=history-doc-q3]");
  const types = await until("doc-q3's two events", async () => {
    const t = await page.$$eval("[data-testid=history-list-doc-q3] li", (lis) => lis.map((li) => li.dataset.type));
    return t.length === 2 && t;
  });
  assert.deepEqual(types, ["DOCUMENT_DELETED", "DOCUMENT_VIEWED"], "newest first, only this document");
  await page.screenshot({ path: `${ARTIFACTS}/demo-history.png`, fullPage: true });
  await page.click("[data-testid=history-doc-q3]");
  assert.equal(await page.$("[data-testid=history-list-doc-q3]"), null);
});

test("filters by user and by category", async () => {
  await page.selectOption("#filter-user", "user-ann");
  await until("only Ann's rows", async () => {
    const users = await page.$$eval("#timeline li.event", (lis) => lis.map((li) => li.dataset.user));
    return users.length === 2 && users.every((u) => u === "user-ann");
  });
  await page.selectOption("#filter-user", "");
  await page.selectOption("#filter-category", "SECURITY");
  await until("only the LOGIN row", async () => {
    const types = await page.$$eval("#timeline li.event", (lis) => lis.map((li) => li.dataset.type));
    return types.length === 1 && types[0] === "LOGIN";
  });
  await page.selectOption("#filter-category", "");
  await until("all rows back", async () => (await rowUids()).length === 5);
});

test("offline: clicks wait in the queue, then drain into Neo4j when back online", async () => {
  await page.click("#offline-toggle + .track");
  await until("offline pill", () => page.$eval("#pill-net", (el) => el.dataset.state === "offline"));
  await page.click("[data-testid=act-view-doc-acme]");
  await page.click("[data-testid=act-edit-doc-roadmap]");
  await until("2 waiting", async () => (await page.textContent("#queue-waiting")) === "2");
  assert.equal(await page.isVisible("#pending-banner"), true);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await stored()).length, 5, "nothing reached Neo4j while offline");
  await page.screenshot({ path: `${ARTIFACTS}/demo-offline.png`, fullPage: true });

  await page.click("#offline-toggle + .track");
  const events = await until("7 events in Neo4j", async () => { const e = await stored(); return e.length === 7 && e; }, 30_000);
  assert.deepEqual(events.slice(5).map((e) => [e.type, e.seq]), [["DOCUMENT_VIEWED", 5], ["DOCUMENT_EDITED", 6]]);
  await until("queue drained", async () => (await page.textContent("#queue-waiting")) === "0");
  await until("7 rows", async () => (await rowUids()).length === 7);
  await until("chain still intact", () => page.$eval("#chain-status", (el) => el.dataset.state === "ok"));
});

test("tampering in Neo4j turns the chain red at that event", async () => {
  await page.click("#tamper");
  await until("chain broken", () => page.$eval("#chain-status", (el) => el.dataset.state === "broken"));
  const newest = (await stored()).at(-1);
  assert.match(await page.textContent("#chain-title"), /edited event at seq 6/);
  await until("row marked", () => page.$eval(`li.event[data-uid="${newest.uid}"]`, (li) => li.classList.contains("broken")));
  await page.screenshot({ path: `${ARTIFACTS}/demo-tampered.png`, fullPage: true });
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource|ERR_EMPTY_RESPONSE|ERR_CONNECTION/.test(e)), []);
});

test("a reload continues the tab's stream (state in sessionStorage)", async () => {
  const before_ = await stored();
  const streamId = (await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN DISTINCT e.streamId", { trail: TRAIL },
  )).map((r) => r[0]);
  assert.equal(streamId.length, 1);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  assert.match(await page.textContent("#chain-head"), new RegExp(`stream ${streamId[0].slice(0, 8)} · seq ${before_.length - 1}`));
  await page.click("[data-testid=act-view-doc-roadmap]");
  const rows = await until("event after reload", async () => {
    const r = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.streamId, e.seq, e.prevHash ORDER BY e.seq DESC LIMIT 1",
      { trail: TRAIL },
    );
    return r[0][1] === before_.length && r[0];
  });
  assert.deepEqual(rows.slice(0, 2), [streamId[0], before_.length]);
  assert.equal(rows[2], before_.at(-1).hash, "linked to the last event before the reload");
});

test("a reload during the simulated outage shows it still on; switching it off drains what waited, each event once", async () => {
  // Found by a new user: the outage is the demo server's (it keeps dropping connections to Neo4j
  // until told otherwise), but a reloaded page drew the switch off and the pill "Online", toasted
  // each click as done ("Ann viewed …") and only said "Neo4j unreachable"; switching the outage off
  // took two clicks (on, then off) that the page gave no reason for.
  const before_ = (await stored()).length;
  await page.click("#offline-toggle + .track");
  await until("offline pill", () => page.$eval("#pill-net", (el) => el.dataset.state === "offline"));
  await page.click("[data-testid=act-view-doc-acme]");
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  assert.equal(await page.isChecked("#offline-toggle"), true, "the switch shows the outage the server still simulates");
  assert.equal(await page.$eval("#pill-net", (el) => el.dataset.state), "offline");
  await page.click("[data-testid=act-edit-doc-acme]");
  assert.match(await page.textContent("#toast"), /queued while offline/);
  assert.equal((await stored()).length, before_, "nothing reached Neo4j while offline");
  await page.click("#offline-toggle + .track");
  const events = await until(`${before_ + 2} events in Neo4j`, async () => { const e = await stored(); return e.length === before_ + 2 && e; }, 30_000);
  assert.deepEqual(events.slice(before_).map((e) => e.type).sort(), ["DOCUMENT_EDITED", "DOCUMENT_VIEWED"]);
  assert.equal(new Set(events.map((e) => e.uid)).size, events.length, "no event twice");
  await until("queue drained", async () => (await page.textContent("#queue-waiting")) === "0");
  assert.equal(await page.$eval("#pill-net", (el) => el.dataset.state), "online");
});

test("a reload during the outage shows the events waiting in the stored queue at once, not \"Queue empty\" until the next 3 s redraw", async () => {
  // Found by a new user: after a reload during the outage the page said "waiting 0" and "Queue
  // empty" for up to 3 s while the logger had already loaded the waiting events from IndexedDB:
  // the counter was only redrawn by the 3 s timer.
  const before_ = (await stored()).length;
  await page.click("#offline-toggle + .track");
  await until("offline pill", () => page.$eval("#pill-net", (el) => el.dataset.state === "offline"));
  await page.click("[data-testid=act-view-doc-q3]");
  await page.click("[data-testid=act-share-doc-q3]");
  await until("2 waiting", async () => (await page.textContent("#queue-waiting")) === "2");
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  // Well within the 3 s timer's first tick after ready (polled every 200 ms up to 1.5 s).
  await until("2 waiting soon after the reload", async () =>
    (await page.textContent("#queue-waiting")) === "2" && (await page.textContent("#pill-queue b")) === "2 waiting", 1500);
  assert.equal(await page.isVisible("#pending-banner"), true);
  assert.match(await page.textContent("#pending-banner"), /^Offline: 2 events waiting/);
  assert.equal((await stored()).length, before_, "nothing reached Neo4j while offline");
  await page.click("#offline-toggle + .track");
  await until(`${before_ + 2} events in Neo4j`, async () => (await stored()).length === before_ + 2, 30_000);
  await until("queue drained", async () => (await page.textContent("#queue-waiting")) === "0");
});

test("\"Start a fresh trail\" starts an empty one; \"Tamper\" there says there is nothing to edit instead of claiming an edit", async () => {
  // Found by a new user: on a fresh (empty) trail the tamper button toasted "Edited the newest event
  // directly in Neo4j…" (Neo4j answered 200 with no row matched) while nothing was edited.
  await page.click("#fresh");
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  const fresh = await page.textContent("#trail-name");
  assert.notEqual(fresh, TRAIL);
  assert.match(fresh, new RegExp(`^${TRAIL}-`));
  assert.equal(await page.isVisible("#empty"), true);
  await page.click("#tamper");
  await until("tamper answered", async () => (await page.textContent("#toast")) !== "" && page.$eval("#toast", (el) => el.classList.contains("show")));
  assert.doesNotMatch(await page.textContent("#toast"), /Edited/);
  assert.match(await page.textContent("#toast"), /nothing to tamper with/i);
  assert.deepEqual(await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN count(e)", { trail: fresh }), [[0]]);
  await page.click("[data-testid=act-view-doc-q3]");
  await until("the first event of the fresh trail in Neo4j", async () => (await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN count(e)", { trail: fresh }))[0][0] === 1);
  await page.click("#tamper");
  await until("chain broken", () => page.$eval("#chain-status", (el) => el.dataset.state === "broken"));
  await page.evaluate(() => localStorage.removeItem("neo4j-audit-demo-trail"));
});
