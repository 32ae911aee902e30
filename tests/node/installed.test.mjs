// The package as a user installs it: `npm pack` of pkg/, installed into a throwaway project,
// imported by name with no loader code — in Node (the "node" export condition instantiates the
// .wasm) and in a Worker run by workerd (`wrangler dev`, the "workerd" condition) — an event
// logged into the real Neo4j and read back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, cypher, unique } from "./helpers.mjs";
import { startWrangler } from "../support/wrangler.mjs";

let project;

before(() => {
  project = mkdtempSync(join(tmpdir(), "neo4j-audit-installed-"));
  const npm = (...args) => execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"],
    { cwd: project, stdio: ["ignore", "pipe", "inherit"] });
  npm("pack", join(ROOT, "pkg"), "--pack-destination", project);
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "try-neo4j-audit", private: true, type: "module" }));
  npm("install", `./${tarball}`);
});

after(() => { if (project) rmSync(project, { recursive: true, force: true }); });

/** Runs `source` as an ES module inside the throwaway project; its last stdout line is JSON. */
function run(source) {
  writeFileSync(join(project, "app.mjs"), source);
  const out = execFileSync(process.execPath, ["app.mjs"], { cwd: project, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop());
}

const config = (trail) => JSON.stringify({ url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail });

test("import { AuditLogger } from \"neo4j-audit\" works in Node with no init call", async () => {
  const trail = unique("installed");
  const got = run(`
    import { AuditLogger } from "neo4j-audit";
    const logger = new AuditLogger(${config(trail)});
    const ok = await logger.logUserAction({ uid: "u-installed" }, "INSTALLED_PACKAGE_WORKS", null, { via: "npm pack" });
    console.log(JSON.stringify({ ok, err: logger.lastError ?? null }));
  `);
  assert.deepEqual(got, { ok: true, err: null });
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID, e.details",
    { trail },
  );
  assert.deepEqual(rows, [["INSTALLED_PACKAGE_WORKS", "u-installed", JSON.stringify({ via: "npm pack" })]]);
});

test("the README's `await init()` form also works in Node (no fetch of a file: URL)", async () => {
  const trail = unique("installed-init");
  const got = run(`
    import init, { AuditLogger } from "neo4j-audit";
    await init();
    const logger = new AuditLogger(${config(trail)});
    console.log(JSON.stringify({ ok: await logger.logUserAction(null, "INIT_FORM"), err: logger.lastError ?? null }));
  `);
  assert.deepEqual(got, { ok: true, err: null });
  const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e) RETURN count(e)", { trail });
  assert.equal(rows[0][0], 1);
});

test("a Worker project imports it by name and logs from workerd (wrangler dev)", async () => {
  const trail = unique("installed-workerd");
  writeFileSync(join(project, "wrangler.toml"),
    'name = "try-neo4j-audit"\nmain = "worker.js"\ncompatibility_date = "2026-04-26"\n');
  writeFileSync(join(project, "worker.js"), `
    import { AuditLogger } from "neo4j-audit";
    export default {
      async fetch(request, env) {
        if (new URL(request.url).pathname !== "/log") return new Response("ready");
        const logger = new AuditLogger({ url: env.NEO4J_URL, username: env.NEO4J_USER,
          password: env.NEO4J_PASSWORD, trail: env.TRAIL });
        const ok = await logger.logUserAction({ uid: "u-workerd" }, "INSTALLED_IN_WORKERD");
        return Response.json({ ok, err: logger.lastError ?? null });
      },
    };
  `);
  const dev = await startWrangler({ cwd: project, readyPath: "/ping",
    env: { NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, TRAIL: trail } });
  try {
    const got = await (await fetch(`${dev.url}/log`)).json();
    assert.deepEqual(got, { ok: true, err: null }, dev.log());
  } finally {
    await dev.stop();
  }
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID", { trail });
  assert.deepEqual(rows, [["INSTALLED_IN_WORKERD", "u-workerd"]]);
});
