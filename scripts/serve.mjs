// Demo server (local development only): www/ at /, the built package at /pkg/, /config.json for
// the page, and /neo4j/* proxied to the local Neo4j so that the page can simulate a network
// outage: POST /demo/network {"offline": true} makes the proxy drop every connection (the browser
// sees a network error, exactly as when the line is down) until {"offline": false}.
//
//   DEMO_PORT (default 8080; 0 picks a free port)   DEMO_TRAIL (default "demo-trail")
//   NEO4J_URL / NEO4J_USER / NEO4J_PASSWORD
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PORT = Number(process.env.DEMO_PORT ?? 8080);
const NEO4J = (process.env.NEO4J_URL ?? "http://127.0.0.1:7474").replace(/\/$/, "");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml", ".ts": "text/plain" };
const FORWARD = ["content-type", "accept", "authorization", "x-ajax-browser-auth"];

let offline = false;

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function proxy(req, res, path) {
  if (offline) {
    req.socket.destroy(); // as a dead line: no HTTP answer at all
    return;
  }
  const headers = Object.fromEntries(FORWARD.filter((h) => req.headers[h]).map((h) => [h, req.headers[h]]));
  try {
    const upstream = await fetch(NEO4J + path, {
      method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? undefined : await body(req),
    });
    const out = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/json",
      "cache-control": "no-store",
    });
    res.end(out);
  } catch {
    res.writeHead(502, { "content-type": "text/plain" });
    res.end("neo4j unreachable");
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const path = decodeURIComponent(url.pathname);
  if (path.startsWith("/neo4j/")) return proxy(req, res, url.pathname.slice("/neo4j".length) + url.search);
  if (path === "/demo/network") {
    if (req.method === "POST") {
      try { offline = Boolean(JSON.parse((await body(req)).toString() || "{}").offline); } catch { /* keep */ }
    }
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    return res.end(JSON.stringify({ offline }));
  }
  if (path === "/config.json") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    return res.end(JSON.stringify({
      url: `http://${req.headers.host}/neo4j`,
      username: process.env.NEO4J_USER ?? "neo4j",
      password: process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev",
      trail: process.env.DEMO_TRAIL ?? "demo-trail",
    }));
  }
  const rel = normalize(path === "/" ? "/index.html" : path);
  const base = rel.startsWith("/pkg/") ? ROOT : join(ROOT, "www");
  const file = join(base, rel);
  if (!file.startsWith(ROOT) || rel.includes("..")) { res.writeHead(403); return res.end(); }
  try {
    const data = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(data);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }
});
// The demo application's own nodes: the documents the page acts on (events link to them with
// `ON`; the library never creates application nodes), with the index an application would keep.
async function seedDocuments() {
  const auth = Buffer.from(`${process.env.NEO4J_USER ?? "neo4j"}:${process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev"}`).toString("base64");
  const docs = [["doc-q3", "Q3-report.pdf"], ["doc-acme", "ACME-contract.docx"], ["doc-roadmap", "Roadmap-2027.md"]];
  const statements = [
    { statement: "CREATE INDEX document_uid IF NOT EXISTS FOR (d:Document) ON (d.UID)" },
    { statement: "UNWIND $docs AS d MERGE (x:Document {UID: d[0]}) SET x.name = d[1]", parameters: { docs } },
  ];
  for (const st of statements) {
    const r = await fetch(`${NEO4J}/db/neo4j/tx/commit`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Basic ${auth}` },
      body: JSON.stringify({ statements: [st] }),
    }).then((r) => r.json()).catch((e) => ({ errors: [String(e)] }));
    if (r.errors?.length) console.warn("demo: could not seed the Document nodes:", JSON.stringify(r.errors).slice(0, 200));
  }
}
await seedDocuments();
server.once("error", (e) => {
  // One line an operator can act on, not Node's "Unhandled 'error' event" stack trace.
  if (e.code !== "EADDRINUSE") throw e;
  process.stderr.write(`demo: port ${PORT} on 127.0.0.1 is in use (another demo, or another server); pick a free one: DEMO_PORT=8090 ./scripts/demo\n`);
  process.exit(1);
});
server.listen(PORT, "127.0.0.1", () => console.log(`demo: http://127.0.0.1:${server.address().port}/`));
