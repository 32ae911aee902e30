// The README's reference parts against the code they describe: the Layout block names every module
// of src/, each CLI command's synopsis names every option the command accepts, and the
// JavaScript blocks a user pastes first run against the real Neo4j.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { spawn, spawnSync } from "node:child_process";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, unique, cypher, readDocs, docChapters, brokenLinks, loadPkg, proxyToNeo4j } from "./helpers.mjs";

// README.md and the docs/ chapters it links, as one text (the blocks are found by their headings).
const README = readDocs();

test("README and docs/: every relative link leads to a file and heading that exist; the README stays within what the npm registry shows", () => {
  const chapters = docChapters();
  assert.ok(chapters.length >= 10, `the README's Documentation section links the chapters: ${chapters}`);
  const files = ["README.md", "BENCHMARKS.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  assert.deepEqual(brokenLinks(files.map((f) => join(ROOT, f))), []);
  // The registry keeps the first 65,536 characters of a package's README: a longer one is cut off
  // mid-sentence on npmjs.com (it was 258 KB, one file). The reference lives in the chapters.
  const length = [...readFileSync(join(ROOT, "README.md"), "utf8")].length;
  assert.ok(length <= 65536, `README.md is ${length} characters`);
});

test("README Layout names every file and folder of src/", () => {
  const layout = /^## Layout\n[^]*?\n```\n([^]*?)\n```/m.exec(README)?.[1];
  assert.ok(layout, "README has a Layout block");
  const named = new Set(layout.split("\n").map((l) => /^(src\/\S+)/.exec(l)?.[1]).filter(Boolean));
  const missing = readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .filter((e) => e.name !== "lib.rs")
    .map((e) => `src/${e.name}${e.isDirectory() ? "/" : ""}`)
    .filter((p) => !named.has(p) && !(p.endsWith("/") && named.has(`${p.slice(0, -1)}.rs`) && [...named].some((n) => n.startsWith(p))));
  assert.deepEqual(missing, [], "src/ entries the README Layout does not describe");
  // A folder's line names its files too (by path or by name: "mod.rs/idb.rs", "driver.js"), so a
  // reader following a pointer finds each one: src/wasm/workerd.js (the Workers build's driver)
  // and src/ingest/'s jwt.rs, body.rs and cors.rs were in no line.
  const files = (dir) => readdirSync(join(ROOT, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
  const words = new Set(layout.split(/[\s,;:()`/]+/).filter(Boolean));
  const unnamed = files("src").filter((p) => p.split("/").length > 2 && !layout.includes(p) && !words.has(p.split("/").pop()));
  assert.deepEqual(unnamed, [], "files in src/'s folders that no Layout line names");
});

test("README: each CLI command's synopsis lists every option the command takes", async () => {
  for (const name of ["verify", "export", "tail", "migrate"]) {
    const { options } = await import(join(ROOT, "cli", `${name}.mjs`));
    const synopsis = new RegExp(`^- \`${name} (\\[[^\`]*)\``, "m").exec(README)?.[1];
    assert.ok(synopsis, `README has a synopsis line for ${name}`);
    for (const [option, { short }] of Object.entries(options)) {
      assert.ok(synopsis.includes(`--${option}`) || (short && synopsis.includes(`-${short} `)), `${name}: --${option} missing from "${synopsis}"`);
    }
  }
});

/** The first ```js block after the line `marker` in the README. */
function block(marker) {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `README has "${marker}"`);
  const code = /```js\n([^]*?)```/.exec(README.slice(at))?.[1];
  assert.ok(code, `a js block follows "${marker}"`);
  return code;
}

test("README: the JavaScript quick start, Reading the trail and Verifying blocks run as written, in that order", async () => {
  // One module, as a user pastes them one after the other: the logger of the quick start (its URL
  // and password made this machine's, its trail this test's own) then reads and verifies.
  const trail = unique("readme");
  const quickStart = block("Then, in any of them:")
    .replace('url: "http://127.0.0.1:7474",', `url: ${JSON.stringify(NEO4J_URL)}, trail: ${JSON.stringify(trail)},`)
    .replace('username: "neo4j", password: "…",', `username: ${JSON.stringify(NEO4J_USER)}, password: ${JSON.stringify(NEO4J_PASSWORD)},`);
  assert.ok(quickStart.includes(trail) && quickStart.includes(JSON.stringify(NEO4J_PASSWORD)), "the quick start's url and password lines");
  // Two events the block's query finds (by another logger: the quick start's stays seq 0), read one
  // a page: the second page must be the query's too. The block once paged with the cursor alone,
  // which read the trail unfiltered from there (the quick start's DOCUMENT_MODIFIED included).
  const reading = block("# Reading the trail");
  assert.ok(reading.includes("limit: 50,"), "the Reading the trail block's limit line");
  const seed = `{ const seeder = new AuditLogger({ url: ${JSON.stringify(NEO4J_URL)}, trail: ${JSON.stringify(trail)},
      username: ${JSON.stringify(NEO4J_USER)}, password: ${JSON.stringify(NEO4J_PASSWORD)} });
    for (const n of [1, 2]) await seeder.logUserAction({ uid: "user-123" }, "DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", { n });
    await seeder.close(); }`;
  const source = [
    // The verify entry: the read entry plus verifyTrail, which the Verifying block calls.
    `import { AuditLogger } from ${JSON.stringify(pathToFileURL(join(ROOT, "pkg/verify/node.js")).href)};`,
    "const console = { log() {}, warn(...a) { globalThis.readmeWarned = a; } };",
    quickStart, seed, reading.replace("limit: 50,", "limit: 1,"), block("## Verifying"),
    "export default { ok, page, older, mine, onDoc, report, head, lastError: logger.lastError };",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "readme-"));
  try {
    writeFileSync(join(dir, "readme.mjs"), source);
    const got = (await import(pathToFileURL(join(dir, "readme.mjs")).href)).default;
    assert.equal(got.ok, true, got.lastError);
    for (const k of ["page", "older", "mine", "onDoc", "report"]) assert.ok(got[k], `${k}: ${got.lastError}`);
    assert.equal(got.report.ok, true);
    assert.equal(got.head.seq, 0);
    const viewed = (p) => p.events.map((e) => [e.actionType, e.category, e.userUid, e.details]);
    assert.deepEqual(viewed(got.page), [["DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", "user-123", { n: 2 }]]);
    assert.deepEqual(viewed(got.older), [["DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", "user-123", { n: 1 }]], "the older page keeps the query");
    const mine = got.mine.events.map((e) => [e.actionType, e.category, e.userUid, e.details]);
    assert.deepEqual(mine, [
      ["DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", "user-123", { n: 2 }],
      ["DOCUMENT_VIEWED", "DOCUMENT_MANAGEMENT", "user-123", { n: 1 }],
      ["DOCUMENT_MODIFIED", "DOCUMENT_MANAGEMENT", "user-123", { document_id: "doc-456", fields_changed: ["title", "content"] }],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: the activity panel block reads one user's events in pages of 20, newest first, as plain rows", async () => {
  // Found by a new user (an app developer with an activity panel): the entry table said
  // neo4j-audit/read was "for pages that show the trail", which in a browser app means Neo4j
  // credentials in the page; the README now reads on the server, and this runs its block.
  const code = block("**An activity panel in a browser app**")
    .replace('from "neo4j-audit/read";', `from ${JSON.stringify(pathToFileURL(join(ROOT, "pkg/read/node.js")).href)};`)
    // The block reads the server's environment; here the tests' settings (their defaults too: run
    // without NEO4J_USER set, the block sent no user name and got a 401).
    .replace(/process\.env\.(NEO4J_URL|NEO4J_USER|NEO4J_PASSWORD)\b/g, (_, k) => JSON.stringify({ NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD }[k]));
  assert.doesNotMatch(code, /process\.env/);
  assert.match(code, /export async function activityPanel\(uid, cursor = null\)/);
  const uid = unique("panel-user");
  const writer = new (await import(pathToFileURL(join(ROOT, "pkg/node.js")).href)).AuditLogger(
    { url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail: "default" });
  for (let i = 0; i < 25; i++) assert.equal(await writer.logUserAction({ uid }, "DOC_VIEWED", "DOCS", { n: i }), true, writer.lastError);
  assert.equal(await writer.logUserAction({ uid: `${uid}-other` }, "DOC_VIEWED", "DOCS", { n: -1 }), true);
  await writer.close();
  const dir = mkdtempSync(join(tmpdir(), "readme-panel-"));
  try {
    writeFileSync(join(dir, "panel.mjs"), code);
    const { activityPanel } = await import(pathToFileURL(join(dir, "panel.mjs")).href);
    const first = await activityPanel(uid);
    assert.deepEqual(first.rows.map((r) => r.details.n), Array.from({ length: 20 }, (_, i) => 24 - i));
    assert.deepEqual(Object.keys(first.rows[0]), ["when", "action", "category", "details"]);
    assert.match(first.rows[0].when, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual([first.rows[0].action, first.rows[0].category], ["DOC_VIEWED", "DOCS"]);
    const second = await activityPanel(uid, first.older);
    assert.deepEqual([second.rows.map((r) => r.details.n), second.older], [[4, 3, 2, 1, 0], null]);
    await assert.rejects(activityPanel(uid, "not-a-cursor"), /^Error: invalid input: cursor/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The README's Node server block ("In a Node server") as written, importing pkg/, logging into
 *  `trail` as NEO4J_USER, and listening on a free port it prints. */
function serverBlock(trail) {
  const code = block("## In a Node server")
    .replace('from "neo4j-audit";', `from ${JSON.stringify(pathToFileURL(join(ROOT, "pkg/node.js")).href)};`)
    .replace('username: "neo4j"', `username: ${JSON.stringify(NEO4J_USER)}`)
    .replace("password: process.env.NEO4J_PASSWORD }", `password: process.env.NEO4J_PASSWORD, trail: ${JSON.stringify(trail)} }`)
    .replace("server.listen(8000);", 'server.listen(0, "127.0.0.1", () => console.log("port", server.address().port));');
  assert.ok(code.includes(trail) && code.includes('console.log("port"'), "the block's config and listen lines");
  return code;
}

/** Runs `code` as dir/server.mjs against Neo4j at `url`: the child, its port, its output so far
 *  (`out()`), and its exit code or signal (`exited`). */
async function runServer(dir, code, url) {
  writeFileSync(join(dir, "server.mjs"), code);
  const env = { ...process.env, NEO4J_URL: url, NEO4J_PASSWORD };
  const child = spawn(process.execPath, [join(dir, "server.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stderr.on("data", (d) => (text += d));
  const exited = new Promise((r) => child.on("exit", (code, signal) => r(code ?? signal)));
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => { text += d; const m = /port (\d+)/.exec(text); if (m) resolve(m[1]); });
    child.on("exit", () => reject(new Error(text)));
  });
  return { child, port, exited, out: () => text };
}

test("README: the Node server block serves many users through one logger, each event its own user's, and delivers them all on SIGTERM", async () => {
  // Run as written, but on a free port and into this test's trail.
  const trail = unique("readme-server");
  const code = serverBlock(trail);
  const dir = mkdtempSync(join(tmpdir(), "readme-server-"));
  const users = Array.from({ length: 50 }, (_, i) => `${trail}-u${i}`);
  await cypher("UNWIND $users AS id MERGE (:User {UID: id})", { users });
  try {
    const { child, port, out, exited } = await runServer(dir, code, NEO4J_URL);
    const statuses = await Promise.all(users.map((u, i) =>
      fetch(`http://127.0.0.1:${port}/doc-${i}`, { headers: { "x-user-id": u } }).then((r) => r.status)));
    assert.deepEqual(statuses, users.map(() => 200), out());
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).json();
    assert.equal(metrics.committed, 50);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out());
    const rows = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e)-[:PERFORMED_BY]->(u:User) RETURN e.userUID, u.UID, e.details", { trail });
    assert.equal(rows.length, 50);
    for (const [userUID, by, details] of rows) {
      assert.equal(by, userUID);
      assert.equal(JSON.parse(details).path, `/doc-${userUID.split("-u").pop()}`, "each request's event carries its own user");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: the Node server block delivers the events still queued on Ctrl-C (SIGINT) too, not only on SIGTERM", async () => {
  // Found in review: the block handled SIGTERM only, and Node's default for SIGINT (Ctrl-C in a
  // terminal) ended the process at once, losing the events logged and not yet committed. Run as
  // written against a proxy that holds the writes until the signal was sent: a write whose client
  // went away (the process ended) is not passed on, as Neo4j never gets a request not yet sent.
  const trail = unique("readme-sigint");
  let release;
  const released = new Promise((r) => (release = r));
  const proxy = await proxyToNeo4j(async (body, res) => {
    if (!body.includes("UNWIND $events")) return false;
    let gone = false;
    res.once("close", () => (gone = true));
    await released;
    await new Promise((r) => setTimeout(r, 50));
    if (gone) res.destroy();
    return gone;
  });
  const code = serverBlock(trail);
  const dir = mkdtempSync(join(tmpdir(), "readme-sigint-"));
  try {
    const { child, port, out, exited } = await runServer(dir, code, proxy.url);
    for (let i = 0; i < 10; i++) fetch(`http://127.0.0.1:${port}/doc-${i}`, { headers: { "x-user-id": `u${i}` } }).catch(() => {});
    let metrics;
    for (let t = 0; t < 100 && !(metrics?.queued === 10); t++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).json();
    }
    assert.deepEqual([metrics.queued, metrics.committed], [10, 0], "ten events logged, none committed yet");
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    release();
    assert.equal(await exited, 0, out());
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.userUID ORDER BY e.userUID", { trail });
    assert.deepEqual(rows.map((r) => r[0]).sort(), Array.from({ length: 10 }, (_, i) => `u${i}`).sort(), out());
  } finally {
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: the Node server block's SIGTERM logs the actions of the requests under way, whose handlers do their work before logging", async () => {
  // Found by a backend developer: a real handler does its work (a database write) and then logs
  // it. The block closed the logger at the signal and then called process.exit(): a request under
  // way whose work was done got `closed:` for its event (503), or was cut by the exit before its
  // call, so the action happened and the trail lacks it (3–18 of ~70 actions per SIGTERM under
  // load in a trial). Run as written, with the handler's work (150 ms) before its call and
  // keep-alive clients: every request under way at the signal is answered 200 and in the trail.
  const trail = unique("readme-inflight");
  let code = serverBlock(trail);
  const handler = "const server = http.createServer(async (req, res) => {\n";
  assert.ok(code.includes(handler), "the block's handler line");
  code = code.replace(handler, `${handler}  if (req.url !== "/metrics") await new Promise((r) => setTimeout(r, 150)); // the request's own work\n`);
  const dir = mkdtempSync(join(tmpdir(), "readme-inflight-"));
  try {
    const { child, port, out, exited } = await runServer(dir, code, NEO4J_URL);
    const answers = Array.from({ length: 10 }, (_, i) =>
      fetch(`http://127.0.0.1:${port}/doc-${i}`, { headers: { "x-user-id": `u${i}` } }).then((r) => r.status, (e) => e.cause?.code ?? String(e)));
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(answers), Array(10).fill(200), out());
    assert.equal(await exited, 0, out());
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN e.userUID", { trail });
    assert.deepEqual(rows.map((r) => r[0]).sort(), Array.from({ length: 10 }, (_, i) => `u${i}`).sort(), out());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: the Node server block's SIGTERM exits 1 for events left undelivered, 0 when close() only cancelled a read", async () => {
  // Found by a review: close(timeoutMs) that cancels a read in flight (nothing logged is left)
  // resolves false with a `timeout:` reason, and the block printed "undelivered at exit" with
  // queued 0 and exited 1. Run as written against a Neo4j that accepts and never answers, from the
  // read entry with a route that reads the trail, and a shorter bound.
  const { createServer } = await import("node:net");
  const hung = createServer(() => {}).listen(0, "127.0.0.1");
  await new Promise((r) => hung.on("listening", r));
  const code = block("## In a Node server")
    .replace('from "neo4j-audit";', `from ${JSON.stringify(pathToFileURL(join(ROOT, "pkg/read/node.js")).href)};`)
    .replace('  if (req.url === "/metrics")', '  if (req.url === "/trail") return res.end(JSON.stringify(await logger.getAuditTrail()));\n  if (req.url === "/metrics")')
    .replace("logger.close(8000)", "logger.close(300)")
    .replace("setTimeout(resolve, 5000)", "setTimeout(resolve, 300)")
    .replace("server.listen(8000);", 'server.listen(0, "127.0.0.1", () => console.log("port", server.address().port));');
  assert.ok(code.includes('"/trail"') && code.includes("close(300)") && code.includes("resolve, 300)") && code.includes('console.log("port"'), "the block's lines");
  const dir = mkdtempSync(join(tmpdir(), "readme-sigterm-"));
  try {
    writeFileSync(join(dir, "server.mjs"), code);
    const run = async (path) => {
      const env = { ...process.env, NEO4J_URL: `http://127.0.0.1:${hung.address().port}`, NEO4J_PASSWORD: "x" };
      const child = spawn(process.execPath, [join(dir, "server.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "", err = "";
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise((r) => child.on("exit", r));
      const port = await new Promise((resolve, reject) => {
        child.stdout.on("data", (d) => { out += d; const m = /port (\d+)/.exec(out); if (m) resolve(m[1]); });
        child.on("exit", () => reject(new Error(out + err)));
      });
      fetch(`http://127.0.0.1:${port}${path}`, { headers: { "x-user-id": "u-1" } }).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      child.kill("SIGTERM");
      return { code: await exited, err };
    };
    const read = await run("/trail");
    assert.equal(read.code, 0, read.err);
    assert.doesNotMatch(read.err, /undelivered/);
    const write = await run("/doc-1");
    assert.equal(write.code, 1, write.err);
    assert.match(write.err, /^audit: 1 event\(s\) undelivered at exit: timeout: /m);
  } finally {
    hung.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: Local use's scripts/dev-token mints a token the Worker accepts, and a refused one's 401 names the setting", async () => {
  // An operator's first authenticated request: the token from scripts/dev-token (HS256 with
  // .dev.vars' AUDIT_JWT_SECRET), posted as the README's curl does, to the Worker's handleIngest.
  const { execFileSync } = await import("node:child_process");
  const { ingestServer } = await import("./helpers.mjs");
  const trail = unique("devtoken");
  const secret = (await import("node:crypto")).randomBytes(32).toString("base64url");
  const dir = mkdtempSync(join(tmpdir(), "devtoken-"));
  const worker = await ingestServer(trail, { AUDIT_JWT_SECRET: secret });
  try {
    writeFileSync(join(dir, ".dev.vars"), `AUDIT_JWT_SECRET="${secret}"\nNEO4J_URL="${NEO4J_URL}"\n`);
    const mint = (args, env = {}) =>
      execFileSync(join(ROOT, "scripts/dev-token"), args, { env: { ...process.env, DEV_VARS: join(dir, ".dev.vars"), ...env } }).toString().trim();
    const post = (token) => worker.handle(new Request("http://127.0.0.1/v1/events", {
      method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ actionType: "DOCUMENT_MODIFIED", details: { document_id: "doc-456" } }),
    }));
    const ok = await post(mint(["carol"]));
    assert.equal(ok.status, 201, await ok.clone().text());
    const [uid] = (await ok.json()).uids;
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent {UID: $uid}) RETURN e.userUID, e.source", { trail, uid });
    assert.deepEqual(rows, [["carol", "worker"]]);
    const other = await post(mint(["carol"], { JWT_AUDIENCE: "https://api.example.com" }));
    assert.equal(other.status, 401);
    assert.match((await other.json()).message, /JWT_AUDIENCE/);
  } finally {
    worker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scripts/dev-token refuses a token the Worker would refuse: an empty or padded sub, a lifetime past JWT_MAX_LIFETIME_SECS, TENANT_CLAIM without TENANT, extra arguments", async () => {
  // Before, `dev-token alice 604800` (a week, for convenience) printed a token that every request
  // then answered 401 "token lifetime … is longer than this endpoint's JWT_MAX_LIFETIME_SECS", and
  // `dev-token ""` one answered 401 "token has no usable sub claim".
  const { spawnSync } = await import("node:child_process");
  const dir = mkdtempSync(join(tmpdir(), "devtoken-"));
  try {
    writeFileSync(join(dir, ".dev.vars"), `AUDIT_JWT_SECRET="${"s".repeat(40)}"\n`);
    const run = (args, env = {}) => {
      const r = spawnSync(join(ROOT, "scripts/dev-token"), args, { env: { ...process.env, DEV_VARS: join(dir, ".dev.vars"), ...env } });
      return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    const claims = (r) => JSON.parse(Buffer.from(r.stdout.trim().split(".")[1], "base64url").toString());
    for (const [args, env, message] of [
      [["alice", "604800"], {}, 'dev-token: seconds must be at most 86400, the Worker\'s JWT_MAX_LIFETIME_SECS (its default; when the Worker\'s is set, set JWT_MAX_LIFETIME_SECS here too), not "604800"\n'],
      [["alice", "172801"], { JWT_MAX_LIFETIME_SECS: "172800" }, 'dev-token: seconds must be at most 172800, the Worker\'s JWT_MAX_LIFETIME_SECS (its default; when the Worker\'s is set, set JWT_MAX_LIFETIME_SECS here too), not "172801"\n'],
      [[""], {}, "dev-token: sub must not be empty or blank (the Worker refuses a token without a usable sub)\n"],
      [[" "], {}, "dev-token: sub must not be empty or blank (the Worker refuses a token without a usable sub)\n"],
      [["alice", "10", "extra"], {}, "usage: scripts/dev-token [sub] [seconds]\n"],
      // Both printed a token the Worker answers 401 (a sub with white space at an end; an empty
      // tenant claim when TENANT_CLAIM is set and TENANT is not).
      [[" alice"], {}, "dev-token: sub must not begin or end with white space (the Worker refuses it: token has no usable sub claim)\n"],
      [["alice"], { TENANT_CLAIM: "org", TENANT: "" }, "dev-token: TENANT_CLAIM is set (org): set TENANT to the tenant the token is for (the Worker refuses a token without it)\n"],
    ]) {
      const r = run(args, env);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", message], JSON.stringify(args));
    }
    const day = run(["alice", "86400"]);
    assert.equal(day.code, 0, day.stderr);
    assert.equal(claims(day).exp - claims(day).iat, 86400);
    const two = run(["bob", "172800"], { JWT_MAX_LIFETIME_SECS: "172800" });
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual([claims(two).sub, claims(two).exp - claims(two).iat], ["bob", 172800]);
    // The Worker's settings in .dev.vars (where `wrangler dev` gives them to the Worker, and
    // scripts/worker-dev-vars keeps them) count too: they were read from the environment only,
    // so a JWT_MAX_LIFETIME_SECS="3600" there still let a day's token through (then 401).
    writeFileSync(join(dir, ".dev.vars"), `AUDIT_JWT_SECRET="${"s".repeat(40)}"\nJWT_MAX_LIFETIME_SECS="3600"\nJWT_AUDIENCE=https://api.example.com\nJWT_ISSUER="https://idp.example"\n`);
    const long = run(["alice", "3601"]);
    assert.deepEqual([long.code, long.stdout], [1, ""], long.stderr);
    assert.match(long.stderr, /^dev-token: seconds must be at most 3600, /);
    const hour = run(["alice", "3600"]);
    assert.equal(hour.code, 0, hour.stderr);
    assert.deepEqual([claims(hour).aud, claims(hour).iss, claims(hour).exp - claims(hour).iat], ["https://api.example.com", "https://idp.example", 3600]);
    // The environment still wins.
    assert.equal(run(["alice", "7200"], { JWT_MAX_LIFETIME_SECS: "7200" }).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scripts/dev-token reads .dev.vars as wrangler does: spaces around =, export, single quotes, a comment after the value, the last of a repeated name", async () => {
  // wrangler dev reads .dev.vars with dotenv's rules, so `JWT_AUDIENCE = "https://api.example.com"`
  // (checked by hand against `wrangler dev` 4.86: its Worker then wants that audience) reached the
  // Worker; dev-token read only `NAME=value` / `NAME="value"` lines, minted the default audience,
  // and every request with its token was a 401 naming JWT_AUDIENCE.
  const { createHmac } = await import("node:crypto");
  const dir = mkdtempSync(join(tmpdir(), "devtoken-dotenv-"));
  try {
    const secret = "t".repeat(40);
    writeFileSync(join(dir, ".dev.vars"), [
      `AUDIT_JWT_SECRET="${"o".repeat(40)}"`,
      `export AUDIT_JWT_SECRET = '${secret}'`,
      `JWT_AUDIENCE = "https://api.example.com"`,
      "JWT_ISSUER=https://idp.example # the test identity provider",
      "   JWT_MAX_LIFETIME_SECS = 3600",
      "",
    ].join("\n"));
    const env = { ...process.env, DEV_VARS: join(dir, ".dev.vars") };
    for (const k of ["JWT_AUDIENCE", "JWT_ISSUER", "JWT_MAX_LIFETIME_SECS", "TENANT_CLAIM"]) delete env[k];
    const r = spawnSync(join(ROOT, "scripts/dev-token"), ["alice", "3600"], { env });
    assert.equal(r.status, 0, r.stderr.toString());
    const token = r.stdout.toString().trim();
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    assert.deepEqual([claims.sub, claims.aud, claims.iss, claims.exp - claims.iat], ["alice", "https://api.example.com", "https://idp.example", 3600]);
    assert.equal(s, createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url"), "signed with the last AUDIT_JWT_SECRET");
    const long = spawnSync(join(ROOT, "scripts/dev-token"), ["alice", "3601"], { env });
    assert.equal(long.status, 1);
    assert.match(long.stderr.toString(), /^dev-token: seconds must be at most 3600, /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scripts/worker-dev-vars run again keeps the secrets and every other line of .dev.vars, and takes the new NEO4J_* values", async () => {
  // Before, a second run (say, to point the Worker at another NEO4J_URL) rewrote the file with its
  // five lines only: a VERIFY_SUBJECTS or JWT_MAX_LIFETIME_SECS added by hand was gone, unsaid.
  const { spawnSync } = await import("node:child_process");
  const dir = mkdtempSync(join(tmpdir(), "devvars-"));
  try {
    const run = (env) => {
      const r = spawnSync(join(ROOT, "scripts/worker-dev-vars"), [dir], { env: { ...process.env, NEO4J_USER: "neo4j", NEO4J_PASSWORD: "pw", ...env } });
      assert.equal(r.status, 0, r.stderr.toString());
      return readFileSync(join(dir, ".dev.vars"), "utf8");
    };
    const first = run({ NEO4J_URL: "http://127.0.0.1:7474" });
    const value = (text, key) => new RegExp(`^${key}="([^"]*)"$`, "m").exec(text)?.[1];
    writeFileSync(join(dir, ".dev.vars"), `${first}# mine\nVERIFY_SUBJECTS="alice"\nJWT_MAX_LIFETIME_SECS=3600\n`);
    const second = run({ NEO4J_URL: "http://127.0.0.1:7700" });
    assert.equal(value(second, "AUDIT_JWT_SECRET"), value(first, "AUDIT_JWT_SECRET"));
    assert.equal(value(second, "AUDIT_SIGNING_KEY"), value(first, "AUDIT_SIGNING_KEY"));
    assert.equal(value(second, "NEO4J_URL"), "http://127.0.0.1:7700");
    assert.match(second, /^# mine\nVERIFY_SUBJECTS="alice"\nJWT_MAX_LIFETIME_SECS=3600$/m);
    assert.equal(second.match(/^NEO4J_URL=/gm).length, 1, second);
    assert.equal(run({ NEO4J_URL: "http://127.0.0.1:7700" }), second, "a third run changes nothing");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scripts/worker-dev-vars keeps an AUDIT_SIGNING_KEY in any form the Worker reads: hex, padded base64, base64url", async () => {
  // Before, only a 43-character base64url key was kept: a hex or padded base64 seed (both read by
  // the Worker) was replaced by a new random one, unsaid, and the published public key changed.
  const dir = mkdtempSync(join(tmpdir(), "devvars-key-"));
  try {
    const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1));
    const forms = [seed.toString("hex"), seed.toString("base64"), seed.toString("base64url"), seed.toString("hex").toUpperCase()];
    for (const key of forms) {
      writeFileSync(join(dir, ".dev.vars"), `AUDIT_JWT_SECRET="${"s".repeat(40)}"\nAUDIT_SIGNING_KEY="${key}"\n`);
      const r = spawnSync(join(ROOT, "scripts/worker-dev-vars"), [dir], { env: { ...process.env, NEO4J_USER: "neo4j", NEO4J_PASSWORD: "pw" } });
      assert.equal(r.status, 0, r.stderr.toString());
      const vars = readFileSync(join(dir, ".dev.vars"), "utf8");
      assert.equal(/^AUDIT_SIGNING_KEY="([^"]*)"$/m.exec(vars)?.[1], key, `kept ${key}`);
    }
    // A key the Worker cannot read (too short) is replaced by a fresh base64url one.
    writeFileSync(join(dir, ".dev.vars"), `AUDIT_SIGNING_KEY="abc"\n`);
    assert.equal(spawnSync(join(ROOT, "scripts/worker-dev-vars"), [dir]).status, 0);
    assert.match(readFileSync(join(dir, ".dev.vars"), "utf8"), /^AUDIT_SIGNING_KEY="[A-Za-z0-9_-]{43}"$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README: a Worker project of your own gets its .dev.vars and token from the block as written", async () => {
  // Found by a new user (a React SPA developer with the two-line ingest worker.js in a project of
  // their own): `../neo4j-audit/scripts/worker-dev-vars` wrote the checkout's .dev.vars and said
  // "wrote .dev.vars", so `wrangler dev` in their folder answered every request 500 misconfigured
  // (NEO4J_URL is not set). The block runs here as written, from a project folder beside a
  // checkout named neo4j-audit (a link to this one).
  const { execFileSync } = await import("node:child_process");
  const { mkdirSync, symlinkSync, existsSync, statSync } = await import("node:fs");
  const { ingestServer } = await import("./helpers.mjs");
  const at = README.indexOf("**A Worker project of your own**");
  assert.ok(at >= 0, "README has the paragraph \"A Worker project of your own\"");
  const block = /```sh\n([^]*?)```/.exec(README.slice(at))?.[1];
  assert.match(block ?? "", /^\.\.\/neo4j-audit\/scripts\/worker-dev-vars \./m);
  const parent = mkdtempSync(join(tmpdir(), "own-worker-"));
  const project = join(parent, "my-worker");
  mkdirSync(project);
  symlinkSync(ROOT, join(parent, "neo4j-audit"));
  const rootVars = join(ROOT, ".dev.vars");
  const before = existsSync(rootVars) ? readFileSync(rootVars, "utf8") + statSync(rootVars).mtimeMs : null;
  let worker;
  try {
    const out = execFileSync("bash", ["-euo", "pipefail", "-c", `${block}\nprintf '%s' "$TOKEN"`], {
      cwd: project, env: { ...process.env, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
    });
    const vars = readFileSync(join(project, ".dev.vars"), "utf8");
    const value = (name) => new RegExp(`^${name}="([^"\\n]*)"$`, "m").exec(vars)?.[1];
    assert.equal(value("NEO4J_URL"), NEO4J_URL);
    assert.equal(statSync(join(project, ".dev.vars")).mode & 0o777, 0o600);
    assert.equal(existsSync(rootVars) ? readFileSync(rootVars, "utf8") + statSync(rootVars).mtimeMs : null, before,
      "the checkout's own .dev.vars is left alone");
    // The token the block minted is signed with that file's secret: the Worker with that file's
    // settings stores the event under its subject.
    const trail = unique("own-worker");
    worker = await ingestServer(trail, { AUDIT_JWT_SECRET: value("AUDIT_JWT_SECRET"), AUDIT_SIGNING_KEY: value("AUDIT_SIGNING_KEY") });
    const r = await worker.handle(new Request("http://127.0.0.1/v1/events", {
      method: "POST", headers: { Authorization: `Bearer ${out.trim()}`, "Content-Type": "application/json" },
      body: JSON.stringify({ actionType: "OWN_WORKER_PROJECT" }),
    }));
    assert.equal(r.status, 201, await r.clone().text());
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.userUID, e.eventType", { trail });
    assert.deepEqual(rows, [["alice", "OWN_WORKER_PROJECT"]]);
    // The script says where it wrote; a second argument or a missing folder is refused.
    const run = (args) => spawnSyncText(join(ROOT, "scripts/worker-dev-vars"), args, project);
    assert.match(run(["."]).stderr, new RegExp(`wrote ${project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.dev\\.vars`));
    assert.equal(run([".", "x"]).status, 2);
    const missing = run(["no-such-dir"]);
    assert.deepEqual([missing.status, /no-such-dir is not a directory/.test(missing.stderr)], [2, true]);
  } finally {
    worker?.close();
    rmSync(parent, { recursive: true, force: true });
  }
});

/** Runs `cmd args` in `cwd`: {status, stderr}. */
function spawnSyncText(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NEO4J_URL } });
  return { status: r.status, stderr: r.stderr };
}

test("README Demo page: scripts/serve.mjs on a port in use says so in one line and names DEMO_PORT", async () => {
  // 8080 is often taken on a developer's machine: ./scripts/demo ended in Node's
  // "Unhandled 'error' event … EADDRINUSE" stack trace, after building everything.
  const { createServer } = await import("node:net");
  const busy = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => busy.once("listening", resolve));
  const port = busy.address().port;
  try {
    const child = spawn(process.execPath, [join(ROOT, "scripts", "serve.mjs")], {
      env: { ...process.env, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, DEMO_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 1, stderr);
    assert.equal(stderr, `demo: port ${port} on 127.0.0.1 is in use (another demo, or another server); pick a free one: DEMO_PORT=8090 ./scripts/demo\n`);
  } finally {
    busy.close();
  }
});

test("Delivery, Retries: retry is for writes; a read and ensureSchema() send one request and give up at its timeout, as the docs say", async () => {
  // A reader of "the same network/auth reasons as for writes" expected the reads to retry as the
  // writes do; they never did (a new user measured it), and the docs did not say so.
  const text = README.replace(/\s+/g, " ");
  assert.match(text, /`retry` is for writes only: a read \(`getAuditTrail` and the other page reads, `verifyTrail`\) and `ensureSchema\(\)` send each request once, bounded by `timeoutMs`/);
  assert.match(text, /after a single attempt: reads are not retried, whatever `retry` says/);
  const { AuditLogger } = await loadPkg("verify");
  // A server that takes each request and never answers (a hung Neo4j): every attempt is a timeout.
  const { createServer } = await import("node:http");
  let requests = 0;
  const server = createServer((req) => { requests++; req.resume(); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    const attempts = async (call) => {
      const logger = new AuditLogger({ url, username: "neo4j", password: "x", timeoutMs: 300,
        retry: { maxAttempts: 3, maxElapsedMs: 5000, baseDelayMs: 1, maxDelayMs: 5 }, queue: { enabled: false } });
      requests = 0;
      const result = await call(logger);
      const error = logger.lastError;
      await logger.close(100);
      logger.free();
      return { result, requests, error };
    };
    for (const [name, call, failed] of [
      ["getAuditTrail", (l) => l.getAuditTrail({ limit: 10 }), null],
      ["getUserActivity", (l) => l.getUserActivity("u1", { limit: 10 }), null],
      ["verifyTrail", (l) => l.verifyTrail(), null],
      ["ensureSchema", (l) => l.ensureSchema(), false],
    ]) {
      const r = await attempts(call);
      assert.equal(r.result, failed, name);
      assert.equal(r.requests, 1, `${name}: one attempt`);
      assert.match(r.error, /^timeout: no answer from Neo4j within 300 ms/, name);
    }
    // The same budget retries a write: the server and the budget allow more than one attempt.
    const write = await attempts((l) => l.logUserAction({ uid: "u1" }, "LOGIN", "SECURITY"));
    assert.equal(write.result, false);
    assert.equal(write.requests, 3, "a write is tried retry.maxAttempts times");
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("Delivery, Retries: the one Neo.ClientError retried is ConstraintValidationFailed, as the docs say; any other fails at once", async () => {
  // The docs said "every Neo.ClientError fail[s] at once", while a uniqueness constraint's
  // ConstraintValidationFailed (a concurrent MERGE's lost race) is retried: a new user saw six
  // attempts for an event that broke a constraint of their own and took the docs for wrong.
  const text = README.replace(/\s+/g, " ");
  assert.match(text, /retried, and so is one client error, a uniqueness constraint's `Neo\.ClientError\.Schema\.ConstraintValidationFailed`/);
  assert.match(text, /and every other `Neo\.ClientError` fail at once with their reason/);
  assert.doesNotMatch(text, /and every `Neo\.ClientError` fail at once/);
  const { createServer } = await import("node:http");
  let code = "";
  let writes = 0;
  // Neo4j's answer to a rolled-back statement: 200 with the error in the body, to the writes
  // once `code` is set (a logger's first write, which also checks the schema, passes to the real
  // Neo4j, as every other request does).
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (code && body.includes("UNWIND $events")) {
      writes++;
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ results: [], errors: [{ code, message: "refused by the test" }] }));
    }
    const upstream = await fetch(`${NEO4J_URL}${req.url}`, { method: req.method, body: req.method === "POST" ? body : undefined,
      headers: { "content-type": "application/json", accept: "application/json", authorization: req.headers.authorization ?? "" } });
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { AuditLogger } = await loadPkg();
  try {
    for (const [refusal, attempts] of [["Neo.ClientError.Schema.ConstraintValidationFailed", 3], ["Neo.ClientError.Statement.TypeError", 1]]) {
      code = "";
      const logger = new AuditLogger({ url: `http://127.0.0.1:${server.address().port}`, username: NEO4J_USER, password: NEO4J_PASSWORD,
        trail: unique("retry-client-error"), retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, queue: { enabled: false } });
      assert.equal(await logger.logUserAction({ uid: "u1" }, "FIRST"), true, logger.lastError);
      code = refusal;
      writes = 0;
      assert.equal(await logger.logUserAction({ uid: "u1" }, "REFUSED"), false);
      assert.match(logger.lastError, new RegExp(`^neo4j error ${refusal.replace(/\./g, "\\.")}`));
      assert.equal(writes, attempts, `${refusal}: ${attempts} attempt(s)`);
      await logger.close(100);
      logger.free();
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("wrangler.toml's comments point to sections that exist", () => {
  // They said "README, Cloudflare Worker → Decisions" and "README, Tamper evidence" after both
  // moved to docs/: a deployer reading wrangler.toml found neither.
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const pointers = [...toml.matchAll(/\((docs\/[\w-]+\.md), ([^):]+)\)/g)];
  assert.ok(pointers.length >= 2, "wrangler.toml points to its docs");
  for (const [, file, section] of pointers) {
    const text = readFileSync(join(ROOT, file), "utf8");
    assert.ok(text.includes(section), `${file} has "${section}"`);
  }
  assert.doesNotMatch(toml, /\(README,/);
});
