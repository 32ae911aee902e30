// Static server for the demo: www/ at /, the built package at /pkg/, and /config.json with the
// local Neo4j's address (local development only; production browsers go through the Worker).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PORT = Number(process.env.DEMO_PORT ?? 8080);
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml", ".ts": "text/plain" };

const config = {
  url: process.env.NEO4J_URL ?? "http://127.0.0.1:7474",
  username: process.env.NEO4J_USER ?? "neo4j",
  password: process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev",
  trail: process.env.DEMO_TRAIL ?? "demo",
};

createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  if (path === "/config.json") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    return res.end(JSON.stringify(config));
  }
  const rel = normalize(path === "/" ? "/index.html" : path);
  const base = rel.startsWith("/pkg/") ? ROOT : join(ROOT, "www");
  const file = join(base, rel);
  if (!file.startsWith(ROOT) || rel.includes("..")) { res.writeHead(403); return res.end(); }
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }
}).listen(PORT, "127.0.0.1", () => console.log(`demo: http://127.0.0.1:${PORT}/`));
