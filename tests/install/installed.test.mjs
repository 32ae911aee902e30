// The package as users install it: `npm pack` of pkg/, the tarball installed into throwaway projects
// (tests/install/projects.mjs, cached under .cache/install/) that import it by name with no loader
// code — plain Node, Bun, Vite 5 and 8, Parcel 2, esbuild, a page with no bundler (an import map), webpack 5, Rollup, server bundles for Node (webpack, esbuild),
// three wrangler Workers (one the README's own Worker block) and a strict TypeScript project. Each is built as its user would; the browser apps run in headless Chromium and the
// Workers in workerd (`wrangler dev`), every event is written to the real Neo4j and read back from
// it independently.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, cpSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { extname, join, normalize } from "node:path";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, cypher, unique, readDocs, docChapters, brokenLinks } from "../node/helpers.mjs";
import { freePort, launchChromium, startWrangler } from "../support/wrangler.mjs";
import { signJwt, nowSecs } from "../worker/jwt.mjs";
import { APPS, TOOLS, packOnce, project, run } from "./projects.mjs";

const config = (trail) => ({ url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail });
const events = (trail) => cypher(
  "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, e.details ORDER BY e.eventType",
  { trail });

/** The first ```lang block of README.md's section `heading` (up to the next heading of its level
 *  or above), which must begin with `first`: the README's examples are run as written. */
function readmeBlock(heading, lang, first) {
  const lines = readDocs().split("\n");
  const at = lines.indexOf(heading);
  assert.ok(at >= 0, `README has the section "${heading}"`);
  // Up to the next heading of its level or above, outside code blocks (a toml comment is "# …").
  const level = heading.indexOf(" ");
  let fenced = false;
  let end = at + 1;
  for (; end < lines.length; end++) {
    if (lines[end].startsWith("```")) fenced = !fenced;
    else if (!fenced && new RegExp(`^#{1,${level}} `).test(lines[end])) break;
  }
  const section = lines.slice(at, end).join("\n");
  const code = new RegExp("```" + lang + "\\n([^]*?)```").exec(section)?.[1] ?? "";
  assert.ok(code.startsWith(first), `the section "${heading}" has a ${lang} block beginning ${JSON.stringify(first)}`);
  return code;
}

let tarball, browser;
before(() => { tarball = packOnce(); });
after(async () => { await browser?.close(); });

test("the tarball holds the four entries, each with its runtime files and types", async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "pkg/package.json"), "utf8"));
  assert.equal(pkg.name, "neo4j-audit");
  assert.deepEqual(pkg.engines, { node: ">=20" }, "the Node versions the package is tested on");
  for (const [sub, dir] of [[".", ""], ["./read", "read/"], ["./verify", "verify/"], ["./worker", "worker/"]]) {
    assert.deepEqual(pkg.exports[sub], {
      workerd: `./${dir}workerd.js`, node: { types: `./${dir}node.d.ts`, default: `./${dir}node.js` },
      types: `./${dir}neo4j_audit.d.ts`, default: `./${dir}neo4j_audit.js`,
    });
    // `node` before `types`: TypeScript takes the first of its conditions in key order.
    assert.deepEqual(Object.keys(pkg.exports[sub]), ["workerd", "node", "types", "default"]);
  }
  const listed = JSON.parse(run(join(ROOT, "pkg"), "npm", ["pack", "--dry-run", "--json", "--loglevel=error"]))[0].files.map((f) => f.path);
  for (const dir of ["", "read/", "verify/", "worker/"]) {
    for (const f of ["neo4j_audit.js", "neo4j_audit_bg.wasm", "neo4j_audit.d.ts", "node.js", "node.d.ts", "workerd.js"]) {
      assert.ok(listed.includes(`${dir}${f}`), `${dir}${f} not in the tarball`);
    }
  }
  for (const f of ["README.md", "LICENSE"]) assert.ok(listed.includes(f), `${f} not in the tarball`);
  // The whole documentation ships: the README and each chapter it links, every link of them leading
  // somewhere inside the package (the README linked BENCHMARKS.md, which is not in it).
  const docs = ["README.md", ...docChapters().map((c) => `docs/${c}`)];
  for (const f of docs) assert.ok(listed.includes(f), `${f} not in the tarball`);
  assert.deepEqual(brokenLinks(docs.map((f) => join(ROOT, "pkg", f))), []);
  // `files` and `sideEffects` name only what is there (a new user found wasm-pack's "snippets"
  // listed in both after the glue had taken the snippets in).
  for (const f of pkg.files) assert.ok(existsSync(join(ROOT, "pkg", f)), `files names ${f}, which pkg/ does not hold`);
  for (const f of pkg.sideEffects) assert.ok(existsSync(join(ROOT, "pkg", f.replace(/\/\*$/, ""))), `sideEffects names ${f}, which pkg/ does not hold`);
  // Each .wasm's own subpath (the README's esbuild block imports its URL), typed as a string URL.
  for (const dir of ["", "read/", "verify/", "worker/"]) {
    assert.deepEqual(pkg.exports[`./${dir}neo4j_audit_bg.wasm`], { types: `./${dir}wasm-url.d.ts`, default: `./${dir}neo4j_audit_bg.wasm` });
    assert.ok(listed.includes(`${dir}wasm-url.d.ts`), `${dir}wasm-url.d.ts not in the tarball`);
    assert.deepEqual(pkg.typesVersions["*"][`${dir}neo4j_audit_bg.wasm`], [`./${dir}wasm-url.d.ts`], "for TypeScript's node10");
  }
  // read/, verify/ and worker/ carry a package.json for resolvers that ignore `exports` (Parcel): module
  // type kept (Node reads the nearest package.json), `main` the browser module.
  for (const sub of ["read", "verify", "worker"]) {
    assert.ok(listed.includes(`${sub}/package.json`), `${sub}/package.json not in the tarball`);
    assert.deepEqual(JSON.parse(readFileSync(join(ROOT, "pkg", sub, "package.json"), "utf8")),
      { type: "module", main: "neo4j_audit.js", types: "neo4j_audit.d.ts", sideEffects: ["./node.js", "./workerd.js"] });
  }
  // The write entry is the write path only; the Worker handler is only in the Worker entry.
  const dts = (dir) => readFileSync(join(ROOT, "pkg", dir, "neo4j_audit.d.ts"), "utf8");
  assert.doesNotMatch(dts(""), /getAuditTrail|verifyTrail|handleIngest/);
  assert.match(dts("read"), /getAuditTrail\(/);
  // Found by a new user (an activity panel): getTargetActivity listed nothing for targets whose
  // node did not exist, and its type's doc did not say why (the README and the Rust doc did).
  for (const dir of ["read", "verify"]) {
    assert.match(/\/\*\*((?:(?!\*\/)[^])*)\*\/\s*getTargetActivity\(/.exec(dts(dir))?.[1] ?? "", /node did not exist when it was written/);
  }
  assert.doesNotMatch(dts("read"), /handleIngest/);
  // verifyTrail and its types are in the verify entry only (the read entry plus verifyTrail).
  assert.doesNotMatch(dts("read"), /AuditVerifyReport/);
  // The read entry's verifyTrail only names the verify entry (resolves null).
  assert.match(dts("read"), /verifyTrail\([^)]*\): Promise<null>/);
  assert.match(dts("verify"), /verifyTrail\(/);
  assert.match(dts("verify"), /getAuditTrail\(/);
  assert.doesNotMatch(dts("verify"), /handleIngest/);
  assert.match(dts("worker"), /export function handleIngest\(/);
  // The Worker entry is the ingest endpoint only (cargo feature `worker`; GET /v1/verify runs
  // inside handleIngest): no logger class, no read methods in its .wasm or its types.
  assert.doesNotMatch(dts("worker"), /class AuditLogger|getAuditTrail|verifyTrail\(|logUserAction/);
  // Under the "workerd" condition "neo4j-audit" is its Workers build (pkg/workerd/, cargo feature
  // memory-queue): the same exports, without the browser queue's IndexedDB and keepalive code.
  const text = (f) => readFileSync(join(ROOT, "pkg", f), "utf8");
  assert.match(text("workerd.js"), /from "\.\/workerd\/neo4j_audit_bg\.wasm"/);
  assert.ok(listed.includes("workerd/neo4j_audit_bg.wasm") && listed.includes("workerd/neo4j_audit.js"));
  const imports = (f) => WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(join(ROOT, "pkg", f)))).length;
  assert.ok(imports("workerd/neo4j_audit_bg.wasm") < imports("neo4j_audit_bg.wasm"));
  assert.match(text("neo4j_audit.js"), /keepalive/);
  assert.doesNotMatch(text("workerd/neo4j_audit.js"), /keepalive/);
  const api = async (f) => Object.keys(await import(join(ROOT, "pkg", f))).sort();
  assert.deepEqual(await api("workerd/neo4j_audit.js"), await api("neo4j_audit.js"));
});

test("plain Node: all four entries by name, no init call; events read back", async () => {
  const dir = project("node", tarball);
  const trail = unique("install-node");
  const jwtSecret = randomBytes(32).toString("base64url");
  const jwt = await signJwt(jwtSecret, { sub: "u-node-worker", aud: "neo4j-audit", exp: nowSecs() + 300 });
  const app = JSON.stringify({ config: config(trail), actionType: "NODE", jwt, jwtSecret });
  const got = JSON.parse(run(dir, process.execPath, ["app.mjs"], { AUDIT_APP: app }).trim().split("\n").pop());
  assert.deepEqual({ ...got, resolved: undefined }, {
    ok: true, err: null, readOk: true, ingestStatus: 201, ingestError: null, verified: true, writeEntryHasRead: false, readVerify: true, resolved: undefined,
    read: ["NODE_READ_ENTRY", "NODE_WORKER_ENTRY", "NODE_WRITE"],
  });
  // Resolved from the project's own install, through the "node" condition.
  assert.deepEqual(got.resolved.map((u) => u.slice(u.indexOf("/node_modules/"))),
    ["/node_modules/neo4j-audit/node.js", "/node_modules/neo4j-audit/read/node.js", "/node_modules/neo4j-audit/verify/node.js", "/node_modules/neo4j-audit/worker/node.js"]);
  assert.ok(got.resolved.every((u) => u.includes("/.cache/install/node/node_modules/")), got.resolved.join(" "));
  assert.deepEqual((await events(trail)).map(([type, user]) => [type, user]),
    [["NODE_READ_ENTRY", "u-node"], ["NODE_WORKER_ENTRY", "u-node-worker"], ["NODE_WRITE", "u-node"]]);

  const trail2 = unique("install-node-init");
  const got2 = JSON.parse(run(dir, process.execPath, ["init-form.mjs"], { AUDIT_APP: JSON.stringify({ config: config(trail2) }) }).trim());
  assert.deepEqual(got2, { ok: true, err: null });
  assert.deepEqual((await events(trail2)).map(([type]) => type), ["INIT_FORM"]);
});

test("README: the Quick start block runs as written in Node: prints logged, the event is in Neo4j; a wrong password prints the reason", async () => {
  const code = readmeBlock("## Quick start (Node)", "js", "// quickstart.mjs\n");
  const dir = project("node", tarball);
  writeFileSync(join(dir, "quickstart.mjs"), code);
  const since = Date.now();
  assert.equal(run(dir, process.execPath, ["quickstart.mjs"], { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD }), "logged\n");
  const rows = await cypher("MATCH (:AuditTrail {name: 'default'})-[:HAS_EVENT]->(e:AuditEvent {eventType: 'DOCUMENT_VIEWED', userUID: 'user-123'}) " +
    "WHERE e.timestamp >= datetime({epochMillis: $since}) RETURN e.eventCategory, e.userName, e.details", { since: since - 1000 });
  assert.ok(rows.length >= 1, "the event is in Neo4j");
  assert.deepEqual([rows[0][0], rows[0][1], JSON.parse(rows[0][2])], ["DOCUMENT", "Alice", { documentId: "doc-456" }]);
  const wrong = run(dir, process.execPath, ["quickstart.mjs"], { NEO4J_URL, NEO4J_USER: "quickstart-no-such-user", NEO4J_PASSWORD: "wrong" });
  assert.match(wrong, /^not logged: authentication failed: HTTP 401/);
});

/** Serves the built app in `dir` on its own origin, each answer with `headers`. */
async function serveDist(dir, headers = {}) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(dir, rel === "/" ? "index.html" : rel);
    if (rel.includes("..") || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream", ...headers });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Opens `origin` in Chromium, logs through the app's window.runAudit and reads Neo4j back. */
async function runPage(name, origin, bundler = name) {
  browser ??= await launchChromium();
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  try {
    await page.goto(`${origin}/`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 }).catch(() => {
      throw new Error(`${name} page not ready: ${errors.join("; ")}`);
    });
    const trail = unique(`install-${name}`);
    const actionType = `BUNDLED_BY_${name.toUpperCase().replace(/\W/g, "_")}`;
    const got = await page.evaluate(({ config, actionType }) => window.runAudit(config, actionType), { config: config(trail), actionType })
      .catch((e) => { throw new Error(`${e}\n${errors.join("\n")}`); });
    assert.deepEqual(got, { ok: true, err: null, read: [[actionType, "u-bundled", { bundler }]], writeEntryHasRead: false });
    assert.deepEqual(await events(trail), [[actionType, "u-bundled", JSON.stringify({ bundler })]]);
  } finally {
    await page.close();
  }
}

/** Serves `dir`, whose page exposes window.AuditLogger once ready; logs one event, reads it from Neo4j. */
async function loggedFrom(name, dir) {
  const site = await serveDist(dir);
  browser ??= await launchChromium();
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(`${site.origin}/`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 }).catch(() => {
      throw new Error(`${name} page not ready: ${errors.join("; ")}`);
    });
    const trail = unique(`install-${name}`);
    const got = await page.evaluate(async (config) => {
      const logger = new window.AuditLogger(config);
      const ok = await logger.logUserAction({ uid: "u-bundled" }, "BUNDLED_BY_README", null, { bundler: "readme" });
      const err = logger.lastError ?? null;
      await logger.close();
      return { ok, err };
    }, config(trail));
    assert.deepEqual(got, { ok: true, err: null });
    assert.deepEqual(await events(trail), [["BUNDLED_BY_README", "u-bundled", JSON.stringify({ bundler: "readme" })]]);
  } finally {
    await page.close();
    site.server.close();
  }
}

/** Builds the bundler project `name` with `build` (args to node), serves its output, runs the page. */
async function bundledApp(name, build, distDir = "dist") {
  const dir = project(name, tarball, TOOLS[name]);
  cpSync(join(APPS, "browser/app.js"), join(dir, "src/app.js"));
  run(dir, process.execPath, build);
  const dist = join(dir, distDir);
  const wasm = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 2, `${name} should emit both entries' .wasm: ${wasm}`);
  const site = await serveDist(dist);
  try {
    await runPage(name, site.origin);
  } finally {
    site.server.close();
  }
}

test("Vite 5: `vite build` emits the .wasm of each entry; the page logs and reads back in Chromium", () =>
  bundledApp("vite", ["node_modules/vite/bin/vite.js", "build", "--logLevel", "warn"]));

/** Runs `vite <args>` (its dev server, or `preview`) in project `name` and the page against it. */
async function viteServer(name, args, page) {
  const dir = project(name, tarball, TOOLS[name]);
  cpSync(join(APPS, "browser/app.js"), join(dir, "src/app.js"));
  const port = await freePort();
  const dev = spawn(process.execPath, ["node_modules/vite/bin/vite.js", ...args, "--port", String(port), "--strictPort",
    "--host", "127.0.0.1", "--logLevel", "warn"], { cwd: dir, detached: true, stdio: ["ignore", "ignore", "inherit"] });
  try {
    const origin = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 120; i++) {
      if (await fetch(origin).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await runPage(page, origin, name);
  } finally {
    try { process.kill(-dev.pid, "SIGTERM"); } catch {}
  }
}

test("Vite 5 dev server (optimizeDeps.exclude, as the README says): the page logs and reads back in Chromium", () =>
  viteServer("vite", [], "vite-dev"));

test("Vite 8 with no vite.config.js: `vite build` emits each .wasm, `vite preview` and the dev server serve a page that logs and reads back", async () => {
  await bundledApp("vite8", ["node_modules/vite/bin/vite.js", "build", "--logLevel", "warn"]);
  await viteServer("vite8", ["preview"], "vite8-preview");
  await viteServer("vite8", [], "vite8-dev");
});

test("Vite 8 dev server: editing the logger's module (a hot update) keeps one logger, which sends the queue once", async () => {
  // Found by a new user: a hot update evaluates the module that makes the logger again, and each
  // edit left one more logger alive (its listeners, IndexedDB connection and background re-sends),
  // each sending the events the queue holds.
  const dir = project("vite8", tarball, TOOLS.vite8);
  cpSync(join(APPS, "browser/app.js"), join(dir, "src/app.js"));
  // The README's block as written (its audit-config.js is the test's: tests/install/apps/vite8/src).
  const block = /```js\n(\/\/ src\/audit\.js: [^]*?)```/.exec(readDocs())?.[1];
  assert.ok(block, "README has the src/audit.js block");
  writeFileSync(join(dir, "src/audit.js"), block);
  const port = await freePort();
  const dev = spawn(process.execPath, ["node_modules/vite/bin/vite.js", "--port", String(port), "--strictPort",
    "--host", "127.0.0.1", "--logLevel", "warn"], { cwd: dir, detached: true, stdio: ["ignore", "ignore", "inherit"] });
  browser ??= await launchChromium();
  const page = await browser.newPage();
  try {
    const origin = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 120 && !(await fetch(origin).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 250));
    const trail = unique("install-vite8-hmr");
    await page.addInitScript((c) => { window.auditConfig = c; }, { ...config(trail), retry: { maxAttempts: 1 } });
    let down = true;
    await page.route("**/tx/commit", (r) => (down ? r.abort("connectionrefused") : r.continue()));
    await page.goto(`${origin}/hmr.html`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    assert.deepEqual(await page.evaluate(() => Promise.all([window.hmr.log("HMR_1"), window.hmr.log("HMR_2")])), [false, false]);
    assert.equal(await page.evaluate(() => window.hmr.stats().queued), 2);
    const source = readFileSync(join(dir, "src/audit.js"), "utf8");
    writeFileSync(join(dir, "src/audit.js"), `${source}// edited\n`);
    await page.waitForFunction(() => window.hmrEvaluations === 2, null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.hmrLoggers.size), 1, "one logger after the hot update");
    down = false;
    assert.equal(await page.evaluate(() => window.hmr.flush()), true);
    const stats = await page.evaluate(() => window.hmr.stats());
    assert.deepEqual([stats.committed, stats.queued, stats.lastError], [2, 0, null]);
    assert.deepEqual(await events(trail), [["HMR_1", "u-hmr", null], ["HMR_2", "u-hmr", null]]);
  } finally {
    await page.close();
    try { process.kill(-dev.pid, "SIGTERM"); } catch {}
  }
});

test("a built page served with the README's Content-Security-Policy logs and reads back; without 'wasm-unsafe-eval' init() says why", async () => {
  // Found by a new user: nothing said what a page's CSP must allow, and a production header
  // (script-src 'self') made init() reject; a connect-src without the Neo4j or Worker origin makes
  // every call false with a network error.
  const csp = /^Content-Security-Policy: (.+)$/m.exec(readDocs())?.[1];
  assert.ok(csp, "README has the Content-Security-Policy line");
  const policy = csp.replace("https://neo4j-audit-ingest.example.workers.dev", new URL(NEO4J_URL).origin);
  assert.notEqual(policy, csp, "the README's policy names the Worker's example origin");
  const dir = project("vite8", tarball, TOOLS.vite8);
  cpSync(join(APPS, "browser/app.js"), join(dir, "src/app.js"));
  run(dir, process.execPath, ["node_modules/vite/bin/vite.js", "build", "--logLevel", "warn"]);
  const site = await serveDist(join(dir, "dist"), { "Content-Security-Policy": policy });
  try {
    await runPage("vite8", site.origin);
  } finally {
    site.server.close();
  }
  const bare = await serveDist(join(dir, "dist"), { "Content-Security-Policy": policy.replace(" 'wasm-unsafe-eval'", "") });
  browser ??= await launchChromium();
  const page = await browser.newPage();
  try {
    await page.goto(`${bare.origin}/`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    const err = await page.evaluate(() => window.runAudit({}, "NEVER").then(() => "resolved", (e) => `${e.name}: ${e.message}`));
    assert.match(err, /^CompileError: WebAssembly\.instantiateStreaming\(\): Compiling or instantiating WebAssembly module violates the following Content Security policy directive because 'unsafe-eval' is not an allowed source of script/);
  } finally {
    await page.close();
    bare.server.close();
  }
});

test("Vite 8: a dedicated Web Worker logs through the package; `vite build` with the README's worker format", async () => {
  // Found by a new user: a Web Worker that initialises the package at its top failed `vite build`:
  // "[INVALID_TLA_FORMAT] Module format "iife" does not support top-level await".
  assert.match(readDocs(), /set `worker: \{ format: "es" \}` in `vite\.config\.js`/);
  const dir = project("vite8", tarball, TOOLS.vite8);
  cpSync(join(APPS, "browser/app.js"), join(dir, "src/app.js"));
  run(dir, process.execPath, ["node_modules/vite/bin/vite.js", "build", "--config", "vite.worker.config.js", "--logLevel", "warn"]);
  const dist = join(dir, "dist-worker");
  assert.equal(readdirSync(dist, { recursive: true }).filter((f) => f.endsWith(".wasm")).length, 1, "the worker's .wasm is emitted");
  const site = await serveDist(dist);
  browser ??= await launchChromium();
  const page = await browser.newPage();
  try {
    await page.goto(`${site.origin}/worker.html`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
    const trail = unique("install-vite8-worker");
    const got = await page.evaluate(({ config }) => window.runInWorker(config, "LOGGED_IN_A_WEB_WORKER"), { config: config(trail) });
    assert.deepEqual(got, { ok: true, err: null, queued: 0 });
    assert.deepEqual(await events(trail), [["LOGGED_IN_A_WEB_WORKER", "u-worker", JSON.stringify({ in: "worker" })]]);
  } finally {
    await page.close();
    site.server.close();
  }
});

test("Parcel 2 with no configuration: `parcel build` emits each .wasm and resolves neo4j-audit/read; the page logs and reads back", () =>
  // Found by a new user: Parcel ignores `exports` by default, and `parcel build` failed with
  // "Failed to resolve 'neo4j-audit/read' … Cannot load file './read' from module 'neo4j-audit'".
  bundledApp("parcel", ["build.mjs"]));

test("esbuild: the file loader emits each .wasm for init(); the page logs and reads back in Chromium", () =>
  bundledApp("esbuild", ["build.mjs"]));

test("esbuild: the README's block, built with its flags, logs from a page outside the output folder", async () => {
  // Found by a new user: `init({ module_or_path: wasmUrl })` fetched the file loader's
  // "./neo4j_audit_bg-HASH.wasm" relative to the page, so index.html loading dist/main.js got
  // "failed to fetch Wasm: 404 Not Found" (the bundle's own folder holds the .wasm).
  const readme = readDocs();
  const block = /```js\n(\/\/ esbuild [^]*?)```/.exec(readme)?.[1];
  assert.ok(block, "README has the esbuild block");
  const flags = /^\/\/ (--bundle [^(\n]*?)\s*\(/m.exec(block)?.[1].split(/\s+/);
  assert.deepEqual(flags, ["--bundle", "--format=esm", "--loader:.wasm=file"]);
  const dir = project("esbuild", tarball, TOOLS.esbuild);
  const site = join(dir, "site-readme");
  rmSync(site, { recursive: true, force: true });
  mkdirSync(site);
  writeFileSync(join(dir, "src/readme.js"), `${block}window.AuditLogger = AuditLogger;\ndocument.body.dataset.ready = "true";\n`);
  run(dir, join(dir, "node_modules/.bin/esbuild"), ["src/readme.js", ...flags, "--outdir=site-readme/dist", "--log-level=warning"]);
  writeFileSync(join(site, "index.html"), '<!doctype html>\n<body><script type="module" src="./dist/readme.js"></script></body>\n');
  await loggedFrom("esbuild-readme", site);
});

test("a page without a bundler: the README's import map over node_modules/ logs and reads back in Chromium", async () => {
  // Found by a new user: the README said plain <script type="module"> works "next to the files",
  // and `import … from "neo4j-audit"` there fails: "Failed to resolve module specifier".
  const readme = readDocs();
  const page = /```html\n(<!-- index\.html[^]*?)```/.exec(readme)?.[1];
  assert.ok(page, "README has the plain page's index.html block");
  const dir = project("node", tarball);
  cpSync(join(APPS, "browser/app.js"), join(dir, "app.js"));
  // The README's page as written, then the shared app (bare imports of both entries, through its map).
  writeFileSync(join(dir, "index.html"), `${page}<script type="module">import { mount } from "./app.js"; mount("plain");</script>\n`);
  const site = await serveDist(dir);
  try {
    await runPage("plain", site.origin);
  } finally {
    site.server.close();
  }
});

test("Bun: its runtime imports the four entries by name (the \"node\" condition, no init); `bun build` emits each .wasm only with the esbuild block", async () => {
  // Tried by a new user (a Bun user); the README said nothing about Bun.
  const dir = project("bun", tarball, TOOLS.bun);
  const bun = join(dir, "node_modules/.bin/bun");
  cpSync(join(APPS, "node/app.mjs"), join(dir, "app.mjs"));
  const trail = unique("install-bun");
  const jwtSecret = randomBytes(32).toString("base64url");
  const jwt = await signJwt(jwtSecret, { sub: "u-node-worker", aud: "neo4j-audit", exp: nowSecs() + 300 });
  const app = JSON.stringify({ config: config(trail), actionType: "BUN", jwt, jwtSecret });
  const got = JSON.parse(run(dir, bun, ["app.mjs"], { AUDIT_APP: app }).trim().split("\n").pop());
  assert.deepEqual({ ...got, resolved: undefined }, {
    ok: true, err: null, readOk: true, ingestStatus: 201, ingestError: null, verified: true, writeEntryHasRead: false, readVerify: true, resolved: undefined,
    read: ["BUN_READ_ENTRY", "BUN_WORKER_ENTRY", "BUN_WRITE"],
  });
  assert.deepEqual(got.resolved.map((u) => u.slice(u.indexOf("/node_modules/"))),
    ["/node_modules/neo4j-audit/node.js", "/node_modules/neo4j-audit/read/node.js", "/node_modules/neo4j-audit/verify/node.js", "/node_modules/neo4j-audit/worker/node.js"]);
  assert.deepEqual((await events(trail)).map(([type, user]) => [type, user]),
    [["BUN_READ_ENTRY", "u-node"], ["BUN_WORKER_ENTRY", "u-node-worker"], ["BUN_WRITE", "u-node"]]);
  // `bun test` (its own runner) imports the package as the runtime does.
  writeFileSync(join(dir, "audit.test.mjs"), `import { test, expect } from "bun:test";
import { AuditLogger } from "neo4j-audit/verify";
test("logs, reads back and verifies", async () => {
  const logger = new AuditLogger(JSON.parse(process.env.AUDIT_CONFIG));
  expect(await logger.logUserAction({ uid: "u-bun-test" }, "BUN_TEST")).toBe(true);
  expect((await logger.getAuditTrail({ actionType: "BUN_TEST" }))?.events.map((e) => e.userUid)).toEqual(["u-bun-test"]);
  expect((await logger.verifyTrail())?.ok).toBe(true);
  expect(await logger.close()).toBe(true);
});
`);
  const testTrail = unique("install-bun-test");
  run(dir, bun, ["test", "./audit.test.mjs"], { AUDIT_CONFIG: JSON.stringify(config(testTrail)) });
  assert.deepEqual((await events(testTrail)).map(([type, user]) => [type, user]), [["BUN_TEST", "u-bun-test"]]);
  // `bun build` of a plain `await init()` leaves new URL(…, import.meta.url) alone: no .wasm in
  // its output (the README sends Bun users to the esbuild block).
  writeFileSync(join(dir, "plain.js"), 'import init from "neo4j-audit";\nawait init();\n');
  run(dir, bun, ["build", "plain.js", "--outdir", "dist-plain", "--target", "browser"]);
  assert.deepEqual(readdirSync(join(dir, "dist-plain")).filter((f) => f.endsWith(".wasm")), []);
  await bundledApp("bun", ["build.mjs"]);
  // A server bundle (`bun build --target bun`): with --packages external it imports the package
  // from node_modules and logs; bundled in, moved away from its .wasm, the error names the fix.
  cpSync(join(APPS, "server/server.js"), join(dir, "server.js"));
  const serverTrail = unique("install-bun-server");
  const serverApp = JSON.stringify({ config: config(serverTrail), actionType: "BUNDLED_FOR_NODE", bundler: "bun" });
  run(dir, bun, ["build", "server.js", "--target", "bun", "--outdir", "dist-server", "--packages", "external"]);
  assert.deepEqual(JSON.parse(run(dir, bun, ["dist-server/server.js"], { AUDIT_APP: serverApp }).trim().split("\n").pop()),
    { ok: true, err: null, read: [["BUNDLED_FOR_NODE", "u-server"]] });
  assert.deepEqual(await events(serverTrail), [["BUNDLED_FOR_NODE", "u-server", JSON.stringify({ bundler: "bun" })]]);
  run(dir, bun, ["build", "server.js", "--target", "bun", "--outdir", "dist-server-in"]);
  assert.throws(() => run(dir, bun, ["dist-server-in/server.js"], { AUDIT_APP: serverApp }),
    /neo4j-audit: cannot read its \.wasm at file:\/\/\/[^\n]*dist-server-in\/neo4j_audit_bg\.wasm \(ENOENT\)[^\n]*--packages=external/);
});

test("webpack 5: asset modules emit each .wasm; the page logs and reads back in Chromium", () =>
  bundledApp("webpack", ["build.mjs"]));

/** Builds the server bundle of project `name` (build-server.mjs `args`) and runs `bundle` in Node. */
function serverBundle(name, bundle, args = []) {
  const dir = project(name, tarball, TOOLS[name]);
  cpSync(join(APPS, "server/server.js"), join(dir, "src/server.js"));
  run(dir, process.execPath, ["build-server.mjs", ...args]);
  const trail = unique(`install-${name}-server`);
  const app = JSON.stringify({ config: config(trail), actionType: "BUNDLED_FOR_NODE", bundler: name });
  return { trail, run: () => JSON.parse(run(dir, process.execPath, [bundle], { AUDIT_APP: app }).trim().split("\n").pop()) };
}

/** Runs a server bundle made by serverBundle(…) and reads its event back from Neo4j. */
async function serverLogs({ trail, run: start }, bundler) {
  assert.deepEqual(start(), { ok: true, err: null, read: [["BUNDLED_FOR_NODE", "u-server"]] });
  assert.deepEqual(await events(trail), [["BUNDLED_FOR_NODE", "u-server", JSON.stringify({ bundler })]]);
}

test("webpack 5 with experiments.asyncWebAssembly on: still emits each .wasm as an asset; the page logs and reads back in Chromium", () =>
  bundledApp("webpack", ["build.mjs", "async"], "dist-async"));

test("webpack 5 server bundle (target node, url: \"relative\" as Next.js builds a route handler): logs and reads back in Node", () =>
  // Found by a new user: Next.js (webpack and Turbopack) turned node.js's `new URL("…_bg.wasm",
  // import.meta.url)` into "/_next/static/media/…", and `next build` failed on readFileSync's
  // ERR_INVALID_ARG_TYPE ("Received an instance of URL") in any route handler or server action.
  serverLogs(serverBundle("webpack", "dist-server/server.cjs"), "webpack"));

test("esbuild server bundle (platform node): the package left out of it as the README says logs; bundled in, the error says so", async () => {
  // Found by a new user: bundled in, the import failed with a bare ENOENT for dist-server/neo4j_audit_bg.wasm.
  const bundled = serverBundle("esbuild", "dist-server/server.mjs");
  assert.throws(bundled.run, /neo4j-audit: cannot read its \.wasm at file:.*dist-server\/neo4j_audit_bg\.wasm \(ENOENT\): a bundle for Node moved this module away from it; leave the package out of the bundle, for Node to import from node_modules \(esbuild: --packages=external;/);
  await serverLogs(serverBundle("esbuild", "dist-server/server.mjs", ["external"]), "esbuild");
});

test("Rollup with the README's rollup.config.js: emits each .wasm; the page logs and reads back in Chromium", () => {
  const readme = readDocs();
  const config = /```js\n\/\/ rollup\.config\.js\n([^]*?)```/.exec(readme)?.[1];
  assert.ok(config, "README has a rollup.config.js block");
  writeFileSync(join(project("rollup", tarball, TOOLS.rollup), "rollup.config.js"), config);
  return bundledApp("rollup", ["build.mjs"]);
});

test("a Worker project mounts \"neo4j-audit/worker\" (handleIngest) and ingests in workerd", async () => {
  const dir = project("worker-ingest", tarball);
  const trail = unique("install-ingest");
  const secret = randomBytes(32).toString("base64url");
  const dev = await startWrangler({ cwd: dir, inspector: true,
    env: { AUDIT_JWT_SECRET: secret, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_TRAIL: trail } });
  try {
    const token = await signJwt(secret, { sub: "u-ingest", aud: "neo4j-audit", exp: nowSecs() + 300 });
    const r = await fetch(`${dev.url}/v1/events`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ actionType: "INGESTED_BY_INSTALLED_WORKER", details: { via: "neo4j-audit/worker" } }),
    });
    assert.equal(r.status, 201, `${await r.text()}\n${dev.log()}`);
  } finally {
    await dev.stop();
  }
  const rows = await events(trail);
  assert.deepEqual(rows.map(([type, user]) => [type, user]), [["INGESTED_BY_INSTALLED_WORKER", "u-ingest"]]);
});

test("a Worker project imports \"neo4j-audit\" and \"neo4j-audit/read\" by name and logs from workerd", async () => {
  const dir = project("worker-logger", tarball);
  const trail = unique("install-workerd");
  const dev = await startWrangler({ cwd: dir, inspector: true, readyPath: "/ping",
    port: Number(process.env.INSTALL_WORKER_PORT) || undefined,
    inspectorPort: Number(process.env.INSTALL_WORKER_INSPECTOR_PORT) || undefined,
    env: { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, TRAIL: trail } });
  try {
    const got = await (await fetch(`${dev.url}/log`)).json();
    assert.deepEqual(got, { ok: true, err: null, read: ["INSTALLED_IN_WORKERD"] }, dev.log());
    // `await init()` (the default export) in a Worker: the module workerd.js made ready.
    assert.deepEqual(await (await fetch(`${dev.url}/init`)).json(), { memory: true, same: true }, dev.log());
    // A logger made at the module's top level, where workerd refuses random numbers: an Error
    // that says what to do (found by the lead: it was a wasm trap, "RuntimeError: unreachable").
    const { topLevel } = await (await fetch(`${dev.url}/top-level`)).json();
    assert.match(topLevel, /^Error: no random numbers here \(crypto\.getRandomValues refused\): in a Cloudflare Worker, make the AuditLogger while handling a request/);
  } finally {
    await dev.stop();
  }
  assert.deepEqual((await events(trail)).map(([type, user]) => [type, user]), [["INSTALLED_IN_WORKERD", "u-workerd"]]);
});

test("README: the block \"In a Cloudflare Worker of your own\" runs as written in workerd, 30 requests at once", async () => {
  // Found by a new user (a Workers developer): a logger kept in module scope, one per isolate as the
  // Node section advises for a server, hung 26 of 30 concurrent requests (workerd cancels a fetch
  // when the request that started it has answered, and another request's events rode on it). The
  // README's block makes one logger per request; here it is the whole worker.js, as written.
  const code = readmeBlock("## In a Cloudflare Worker of your own", "js", "// worker.js\n");
  const dir = project("worker-readme", tarball);
  writeFileSync(join(dir, "worker.js"), code);
  // Its wrangler.toml, as written too (found by a new user: the section said only "a
  // compatibility_date", and the day's date stopped `wrangler dev`: workerd 1.20260426 takes
  // dates up to 2026-05-03).
  const toml = readmeBlock("## In a Cloudflare Worker of your own", "toml", "# wrangler.toml\n");
  writeFileSync(join(dir, "wrangler.toml"), toml);
  const dev = await startWrangler({ cwd: dir, inspector: true, readyPath: "/ping",
    port: Number(process.env.INSTALL_WORKER_PORT) || undefined,
    inspectorPort: Number(process.env.INSTALL_WORKER_INSPECTOR_PORT) || undefined,
    env: { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD } });
  const run = unique("readme-worker");
  const users = Array.from({ length: 30 }, (_, i) => `${run}-${i}`);
  try {
    const answers = await Promise.all(users.map(async (uid) => {
      const res = await fetch(`${dev.url}/doc/${uid}`, { headers: { "x-user-id": uid } });
      return [res.status, await res.text()];
    }));
    for (const [status, body] of answers) assert.deepEqual([status, body], [200, JSON.stringify({ ok: true })], dev.log());
    // No user header: the block's own guard answers 401 before any logger is made.
    const none = await fetch(`${dev.url}/doc/none`);
    assert.deepEqual([none.status, await none.text()], [401, "unauthenticated"]);
  } finally {
    await dev.stop();
  }
  const stored = await cypher("MATCH (:AuditTrail {name: 'default'})-[:HAS_EVENT]->(e:AuditEvent) WHERE e.userUID STARTS WITH $run " +
    "RETURN e.userUID, e.eventType, e.details ORDER BY e.userUID", { run });
  assert.deepEqual(stored.map(([u]) => u), [...users].sort());
  for (const [uid, type, details] of stored) assert.deepEqual([type, JSON.parse(details)], ["DOC_VIEWED", { path: `/doc/${uid}` }]);
});

for (const entry of ["neo4j-audit", "neo4j-audit/read", "neo4j-audit/verify"]) test(`a logger of ${entry} kept in module scope serves 30 concurrent requests in workerd, each re-send from its own request`, async () => {
  // Found by a new user (a Workers developer): one logger for the isolate, as for a Node server,
  // hung 26 of 30 concurrent requests with workerd's 500 "code had hung". workerd cancels a fetch
  // (and a timer) once the request that started it has answered: calls beyond maxInFlight waited
  // for a slot and rode on another request's fetch, and a re-send after a backoff went out on the
  // one timer, which another request had set. Neo4j is behind a proxy that answers 503 to the
  // first 20 writes, so that most calls also wait out a backoff. Found again by a new user for the
  // read and verify entries (4-6 of 10 requests hung): their "workerd" condition loaded the
  // browser build; each entry now has a Workers build of its own (scripts/build).
  const dir = project("worker-readme", tarball);
  writeFileSync(join(dir, "worker.js"), `import { AuditLogger } from "${entry}";
let logger;
export default {
  async fetch(request, env) {
    logger ??= new AuditLogger({ url: env.NEO4J_URL, username: env.NEO4J_USER, password: env.NEO4J_PASSWORD, trail: env.TRAIL });
    const uid = request.headers.get("x-user-id");
    if (!uid) return new Response("ready");
    const ok = await logger.logUserAction({ uid }, "MODULE_SCOPE", "DOCS", { path: new URL(request.url).pathname });
    return Response.json({ ok, lastError: ok ? null : logger.lastError });
  },
};
`);
  const neo4j = new URL(NEO4J_URL);
  let refused = 0;
  const proxy = createServer((req, res) => {
    const body = [];
    req.on("data", (c) => body.push(c));
    req.on("end", () => {
      if (req.method === "POST" && refused < 20) {
        refused++;
        res.writeHead(503, { "content-type": "text/plain" }).end("busy");
        return;
      }
      const up = httpRequest({ host: neo4j.hostname, port: neo4j.port, path: req.url, method: req.method, headers: req.headers }, (a) => {
        res.writeHead(a.statusCode, a.headers);
        a.pipe(res);
      });
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(body));
    });
  });
  const proxyPort = Number(process.env.INSTALL_PROXY_PORT) || await freePort();
  await new Promise((ok) => proxy.listen(proxyPort, "127.0.0.1", ok));
  const trail = unique(`install-module-scope-${entry.replace(/\W/g, "-")}`);
  const dev = await startWrangler({ cwd: dir, inspector: true, readyPath: "/ping",
    port: Number(process.env.INSTALL_WORKER_PORT) || undefined,
    inspectorPort: Number(process.env.INSTALL_WORKER_INSPECTOR_PORT) || undefined,
    env: { NEO4J_URL: `http://127.0.0.1:${proxyPort}`, NEO4J_USER, NEO4J_PASSWORD, TRAIL: trail } });
  const users = Array.from({ length: 30 }, (_, i) => `${trail}-u${String(i).padStart(2, "0")}`);
  try {
    const answers = await Promise.all(users.map(async (uid) => {
      const res = await fetch(`${dev.url}/doc/${uid}`, { headers: { "x-user-id": uid } });
      return [res.status, await res.text()];
    }));
    for (const [status, body] of answers) assert.deepEqual([status, body], [200, JSON.stringify({ ok: true, lastError: null })], dev.log());
    assert.equal(refused, 20, "the proxy refused 20 writes");
  } finally {
    await dev.stop();
    proxy.close();
  }
  const stored = await events(trail);
  assert.deepEqual(stored.map(([type, uid]) => [type, uid]).sort(), users.map((uid) => ["MODULE_SCOPE", uid]));
  for (const [, uid, details] of stored) assert.deepEqual(JSON.parse(details), { path: `/doc/${uid}` });
});

test("a Worker's logger closed with an event still queued raises no uncaught error in workerd afterwards", async () => {
  // Found by a new user: after a request whose logger ended closed with an undeliverable event,
  // workerd logged "Uncaught Error: Disallowed operation called within global scope": a timer of
  // that logger was cleared after the request had ended (clearTimeout throws outside a request in
  // workerd), and the throw unwound through wasm.
  const dir = project("worker-logger", tarball);
  const dev = await startWrangler({ cwd: dir, inspector: true, readyPath: "/ping",
    port: Number(process.env.INSTALL_WORKER_PORT) || undefined,
    inspectorPort: Number(process.env.INSTALL_WORKER_INSPECTOR_PORT) || undefined,
    env: { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, TRAIL: unique("install-workerd-down") } });
  try {
    const got = await (await fetch(`${dev.url}/down`)).json();
    assert.equal(got.ok, false);
    assert.match(got.err, /^network error:/);
    assert.equal(got.closed, false);
    // Later requests let the isolate run what the first one left (its drain's timer, the
    // garbage collector's release of the logger).
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await (await fetch(`${dev.url}/garbage`)).text(), "20000000");
    }
    assert.doesNotMatch(dev.log(), /Uncaught|Disallowed operation/, dev.log());
    // "neo4j-audit" in workerd (its memory-queue build): a failed event waits in the memory queue.
    assert.deepEqual(await (await fetch(`${dev.url}/memory-queue`)).json(),
      { ok: false, queued: 1, failed: 1, cleared: 1, after: 0, dead: [] });
  } finally {
    await dev.stop();
  }
});

test("TypeScript: tsc --noEmit --strict over code using every export of the four entries", () => {
  const dir = project("types", tarball, TOOLS.types);
  const source = readFileSync(join(dir, "app.ts"), "utf8");
  for (const [entry, sub] of [["neo4j-audit", ""], ["neo4j-audit/read", "read"], ["neo4j-audit/verify", "verify"], ["neo4j-audit/worker", "worker"]]) {
    const dts = readFileSync(join(dir, "node_modules/neo4j-audit", sub, "neo4j_audit.d.ts"), "utf8");
    const names = [...dts.matchAll(/^export (?:declare )?(?:class|function|interface|type|const|enum) (\w+)/gm)].map((m) => m[1]);
    const imported = new RegExp(`import \\w+, \\{([^}]*)\\} from "${entry}";`).exec(source)?.[1] ?? "";
    for (const name of names) assert.match(imported, new RegExp(`\\b${name}\\b`), `app.ts does not import ${name} from ${entry}`);
  }
  // tsconfig.commonjs.json: `module: "commonjs"` (moduleResolution node10, which ignores `exports`)
  // finds the subpaths' types through package.json `typesVersions`.
  for (const tsconfig of ["tsconfig.json", "tsconfig.node.json", "tsconfig.commonjs.json", "tsconfig.nodeonly.json"]) {
    run(dir, process.execPath, ["node_modules/typescript/bin/tsc", "-p", tsconfig, "--noEmit", "--strict"]);
  }
});
