// The Chromium benches' page: bench/ and the benchmark build (.cache/bench/pkg/) served from the
// repository by a throwaway local HTTP server, and Debian's Chromium (playwright-core) with a page
// opened on it. One place for what bench/cpu_chromium.mjs, bench/cpu_chromium_diag.mjs and
// bench/latency_chromium*.mjs share. The page is cross-origin isolated (COOP + COEP): without that
// Chromium coarsens performance.now() to 0.1 ms (a 3 % step on P2's ~3.6 ms round trip, and ties
// at the tail), with it to 5 µs. Requests to Neo4j are CORS requests, which COEP lets through.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { ISOLATED } from "./isolated-page.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

/**
 * Serves the benchmark files, launches Chromium (`args` added to --no-sandbox; $CHROMIUM names the
 * binary) and opens a page at `path` (cross-origin isolated, or it throws). Returns {page, origin, close()}; close() ends both.
 */
export async function benchPage({ path = "/bench/events.mjs", args = [] } = {}) {
  const server = createServer(async (req, res) => {
    const file = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (!file.startsWith("/bench/") && !file.startsWith("/.cache/bench/pkg/")) return res.writeHead(404).end();
    try {
      const body = await readFile(join(ROOT, file));
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", ...ISOLATED }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", ...args] });
    const page = await browser.newPage();
    await page.goto(`${origin}${path}`);
    if (!(await page.evaluate(() => globalThis.crossOriginIsolated))) throw new Error("bench page: not cross-origin isolated");
    return { page, origin, close: async () => { await browser.close(); server.close(); } };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
