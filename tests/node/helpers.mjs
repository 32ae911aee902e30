// Shared by the Node tests: load pkg/ into Node and talk to the real Neo4j independently.
import { existsSync, readFileSync, statSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { signJwt } from "../worker/jwt.mjs";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NEO4J_URL = process.env.NEO4J_URL ?? "http://127.0.0.1:7474";
export const NEO4J_USER = process.env.NEO4J_USER ?? "neo4j";
export const NEO4J_PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";

/** The fault suites' own Neo4j (tests/faults/): instance "faults" on HTTP 7475 / Bolt 7688, or the
 *  ports in FAULTS_NEO4J_HTTP_PORT / FAULTS_NEO4J_BOLT_PORT (parallel checkouts on one machine).
 *  `env`: what scripts/neo4j needs to start or stop it. */
export const FAULTS_NEO4J = (() => {
  const http = process.env.FAULTS_NEO4J_HTTP_PORT || "7475";
  const bolt = process.env.FAULTS_NEO4J_BOLT_PORT || "7688";
  return {
    url: `http://127.0.0.1:${http}`,
    env: { ...process.env, NEO4J_INSTANCE: "faults", NEO4J_HTTP_PORT: http, NEO4J_BOLT_PORT: bolt, NEO4J_PASSWORD },
  };
})();

/** One entry of the built package (scripts/build), initialised synchronously from its .wasm bytes:
 *  "" the write path ("neo4j-audit"), "read" ("neo4j-audit/read"), "verify" ("neo4j-audit/verify"), "worker" ("neo4j-audit/worker"). */
export async function loadPkg(entry = "") {
  const dir = new URL(`../../pkg/${entry ? `${entry}/` : ""}`, import.meta.url);
  const pkg = await import(new URL("neo4j_audit.js", dir));
  pkg.initSync({ module: readFileSync(new URL("neo4j_audit_bg.wasm", dir)) });
  return pkg;
}

/** The chapters of docs/ the README's Documentation section links, in its order (file names). */
export function docChapters(readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")) {
  return [...new Set([...readme.matchAll(/\]\(docs\/([\w-]+\.md)\)/g)].map((m) => m[1]))];
}

/** The user documentation as one text, for the tests that run its blocks as written: README.md,
 *  then each chapter it links in docs/. */
export function readDocs() {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  return [readme, ...docChapters(readme).map((c) => readFileSync(new URL(`../../docs/${c}`, import.meta.url), "utf8"))].join("\n");
}

/** The relative links of the markdown files `paths` that lead nowhere: to no file, or to a heading
 *  the target file does not have (GitHub's anchors: lower case, punctuation dropped, spaces to
 *  hyphens, "-1", "-2" … for repeats). Code blocks and `code` spans are not links. */
export function brokenLinks(paths) {
  const anchors = new Map();
  const headings = (file) => {
    if (!anchors.has(file)) {
      const seen = new Map();
      const set = new Set();
      let fenced = false;
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        const h = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
        if (!h) continue;
        const slug = h[1].trim().toLowerCase().replace(/<[^>]+>/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
        const n = seen.get(slug) ?? 0;
        seen.set(slug, n + 1);
        set.add(n ? `${slug}-${n}` : slug);
      }
      anchors.set(file, set);
    }
    return anchors.get(file);
  };
  const broken = [];
  for (const file of paths) {
    let fenced = false;
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      if (line.startsWith("```")) fenced = !fenced;
      if (fenced) return;
      for (const [, target] of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split("#");
        const to = path ? fileURLToPath(new URL(path, pathToFileURL(file))) : file;
        if (!existsSync(to)) broken.push(`${file}:${i + 1}: ${target}: no such file`);
        else if (anchor !== undefined && (statSync(to).isDirectory() || !headings(to).has(anchor))) broken.push(`${file}:${i + 1}: ${target}: no such heading`);
      }
    });
  }
  return broken;
}

export const unique = (prefix) => `${prefix}-${randomUUID()}`;

export const config = (trail, extra = {}) => ({
  url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, ...extra,
});

/** Runs Cypher against the real Neo4j (at `url`, default NEO4J_URL), bypassing the library; returns rows. */
export async function cypher(statement, parameters = {}, url = NEO4J_URL) {
  const auth = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  const res = await fetch(`${url}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${auth}` },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
  });
  const body = await res.json();
  if (body.errors.length) throw new Error(`${statement}: ${JSON.stringify(body.errors)}`);
  return body.results[0].data.map((d) => d.row);
}

/** Events of `trail` as {uid, type, userUID, details}, oldest first. */
export async function trailEvents(trail) {
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.UID, e.eventType, e.userUID, e.details ORDER BY e.timestamp",
    { trail },
  );
  return rows.map(([uid, type, userUID, details]) => ({ uid, type, userUID, details }));
}

/** A port on 127.0.0.1 that nothing listens on (a server that is down). */
export const closedPort = () => new Promise((r) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => r(port)); });
});

/** A proxy to the real Neo4j: `intercept(body, res, forward)` sees each request's body first and
 *  answers it itself by returning true (it may also wait, and may call `forward()`, which sends the
 *  request on to Neo4j and resolves with Neo4j's answer `{status, body}` without relaying it), or
 *  lets it through to Neo4j by returning false. `writes` lists the audit writes (bodies with
 *  `UNWIND $events`) as they arrive: `{at, events}` (the number of events the request carries);
 *  `maxActive` is the most writes the proxy held open at one time. `cors`: it answers a page's
 *  requests too (the headers a browser needs, preflights answered by the proxy itself). */
export async function proxyToNeo4j(intercept = () => false, { cors = false } = {}) {
  const writes = [];
  let active = 0;
  const state = { writes, maxActive: 0 };
  const server = createServer(async (req, res) => {
    if (cors) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Expose-Headers", "Retry-After");
      if (req.method === "OPTIONS") {
        res.writeHead(204, { "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "*" });
        return res.end();
      }
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const isWrite = body.includes("UNWIND $events");
    if (isWrite) {
      const statements = JSON.parse(body).statements ?? [];
      const events = statements.map((s) => s.parameters?.events?.length ?? 0).reduce((a, b) => a + b, 0);
      writes.push({ at: Date.now(), events });
      state.maxActive = Math.max(state.maxActive, ++active);
      res.once("close", () => active--); // answered, or the client went away
    }
    const forward = async () => {
      const upstream = await fetch(`${NEO4J_URL}${req.url}`, {
        method: req.method, body: req.method === "POST" ? body : undefined,
        headers: { "content-type": "application/json", accept: "application/json", authorization: req.headers.authorization ?? "" },
      });
      return { status: upstream.status, body: Buffer.from(await upstream.arrayBuffer()) };
    };
    if (await intercept(body, res, forward)) return;
    const { status, body: answer } = await forward();
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(answer);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return Object.assign(state, { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() });
}

/** `proxyToNeo4j` for a test file: each proxy made by the function returned is closed after the
 *  file's tests (`after` is node:test's). */
export function proxiesClosedAfter(after) {
  const made = [];
  after(() => made.forEach((p) => p.close()));
  return async (intercept, options) => {
    const p = await proxyToNeo4j(intercept, options);
    made.push(p);
    return p;
  };
}

/** A proxy's own answer to a request: `status` with a JSON `body` (and `headers`); true, as an
 *  `intercept` that answered returns. */
export function answerJson(res, status, body = { error: "test" }, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
  return true;
}

/** The ingest Worker (pkg/worker's handleIngest) served from Node on 127.0.0.1, writing into the
 *  real Neo4j under `trail`; `env` adds Worker settings. `posts` lists each POST's event count and
 *  answer status; `handle(request)` is the Worker itself (no server between); `token` is alice's. */
export async function ingestServer(trail, env = {}) {
  const worker = await loadPkg("worker");
  const secret = randomBytes(32).toString("base64url");
  const fullEnv = {
    NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, AUDIT_JWT_SECRET: secret, AUDIT_TRAIL: trail,
    RATE_LIMITER: { limit: async () => ({ success: true }) }, ...env,
  };
  const handle = (request) => worker.handleIngest(request, fullEnv);
  const posts = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method, headers: req.headers, body: req.method === "POST" ? body : undefined,
    });
    const answer = await handle(request);
    if (req.method === "POST") posts.push({ events: JSON.parse(body).events.length, status: answer.status });
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(secret, { sub: "alice", aud: "neo4j-audit", iat: now, exp: now + 600 });
  return { endpoint: `http://127.0.0.1:${server.address().port}/v1/events`, token, posts, handle, close: () => server.close() };
}

/** Runs the CLI (cli/neo4j-audit.mjs) to completion with `env`: {code, stdout, stderr}. */
export function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}cli/neo4j-audit.mjs`, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
