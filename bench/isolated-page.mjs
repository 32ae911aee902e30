// What the Chromium memory benchmarks serve: an empty page and this repository's /bench/ and
// /.cache/bench/ files, cross-origin isolated (COOP + COEP, for precise memory figures), and a
// "hole": a TCP server that accepts and never answers, so every event the page logs keeps waiting.
// Shared by bench/memory_chromium.mjs (the MEM figure) and bench/memory_chromium_heap.mjs.
import { createServer as createHttp } from "node:http";
import { createServer } from "node:net";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
/** The headers that make a page cross-origin isolated (also bench/page.mjs's). */
export const ISOLATED = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/// Starts both servers on 127.0.0.1 (free ports): { origin, holeUrl, sockets (the hole's, to destroy
/// between samples), close() }.
export async function serveIsolatedPage(title) {
  const server = createHttp(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path === "/") return res.writeHead(200, { "Content-Type": "text/html", ...ISOLATED }).end(`<!doctype html><title>${title}</title>`);
    if (!path.startsWith("/bench/") && !path.startsWith("/.cache/bench/")) return res.writeHead(404).end();
    try {
      const body = await readFile(join(ROOT, path));
      res.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream", ...ISOLATED }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const sockets = [];
  const hole = createServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise((r) => hole.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    holeUrl: `http://127.0.0.1:${hole.address().port}`,
    sockets,
    close() {
      for (const s of sockets.splice(0)) s.destroy();
      server.close();
      hole.close();
    },
  };
}
