// Plumbing shared by the Node tests that drive the Worker for real (tests/worker/e2e/,
// tests/faults/worker-delivery.test.mjs): free ports, a static site serving pkg/ next to a page,
// headless Chromium, and `wrangler dev` (workerd + worker/index.js + pkg/) in its own process group.
// Reading Neo4j back independently is `cypher` in ../node/helpers.mjs.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { NEO4J_URL, ROOT } from "../node/helpers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A page that loads pkg/ as a module, exposes it as `window.audit` and then marks itself
 *  ready (body[data-ready=true]). */
export const auditPage = (title) => `<!doctype html><meta charset="utf-8"><title>${title}</title>
<script type="module">
  import init, * as audit from "/pkg/neo4j_audit.js";
  await init();
  window.audit = audit;
  document.body.dataset.ready = "true";
</script><body></body>`;

/** A static site on its own origin: the package's files under /pkg/ (neo4j_audit.js, the .wasm and
 *  the JS snippets under /pkg/snippets/) from pkg/ (not cached, so a reload loads them again),
 *  `pageHtml` for every other path. On `port` (default: a free one). `other(req, res)`, when
 *  given, may answer any other request itself first (returning true). */
export async function serveSite(pageHtml, port = 0, other = () => false) {
  const server = createServer(async (req, res) => {
    const m = /^\/pkg\/((?:snippets\/[\w.-]+\/(?:[\w-]+\/)*)?[\w-]+(?:\.js|_bg\.wasm))$/.exec(req.url);
    if (m && !m[1].includes("..")) {
      res.writeHead(200, { "Content-Type": m[1].endsWith(".js") ? "text/javascript" : "application/wasm", "Cache-Control": "no-store" });
      res.end(readFileSync(join(ROOT, "pkg", m[1])));
      return;
    }
    if (await other(req, res)) return;
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(pageHtml);
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Headless Chromium (the system's /usr/bin/chromium) through playwright-core. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", ...extraArgs],
  });
}

/** True while something answers HTTP at `url` (any status). */
async function answers(url, method = "GET") {
  try { await fetch(url, { method, signal: AbortSignal.timeout(2000) }); return true; } catch { return false; }
}

/** For the proxies in front of the real Neo4j: reads `req`'s body, sends the same request to
 *  NEO4J_URL and reads its whole answer: `{body, upstream, answer}` (Buffers, the fetch Response). */
export async function forwardToNeo4j(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const upstream = await fetch(`${NEO4J_URL}${req.url}`, { method: req.method,
    body: req.method === "POST" ? body : undefined,
    headers: { "content-type": "application/json", accept: "application/json", authorization: req.headers.authorization ?? "" } });
  return { body, upstream, answer: Buffer.from(await upstream.arrayBuffer()) };
}

/** `auditPage(title)` served by `serveSite` (on E2E_PORT when set) and opened in a new headless
 *  Chromium, ready: `{site, browser, page, close()}`. */
export async function openAuditPage(title) {
  const site = await serveSite(auditPage(title), Number(process.env.E2E_PORT ?? 0));
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(site.origin);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
  return { site, browser, page, close: async () => { await browser.close(); site.server.close(); } };
}

/**
 * Starts `wrangler dev --local` on 127.0.0.1:`port` (a free one by default), without its DevTools inspector
 * (tests/support/wrangler-dev.mjs; `inspector: true`: the `wrangler dev` CLI with it, on `inspectorPort`, a free one by default), with the Worker's
 * variables `env` ({NAME: value}, secrets included) written to an env file (mode 0600) in a private
 * temp dir: never on the command line. Resolves once `readyMethod readyPath` answers below 500
 * (60 s at most; on failure the log is printed, wrangler stopped and an error thrown).
 * Returns {url, stop(), log()}: stop() ends wrangler's whole process group and resolves once the
 * port no longer answers; log() is the tail of its output. `cwd`: the Worker project (default:
 * this repository's wrangler.toml); wrangler itself is always this repository's.
 */
export async function startWrangler(options) {
  // A port picked free can be taken before workerd binds it (workerd also binds ports of its own):
  // workerd then exits with "Address already in use" at once. That is the harness's race, not the
  // Worker's, so it is retried (with fresh ports unless one was given; twice at most); any
  // other failure is thrown as is.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, attempt < 3);
    } catch (e) {
      if (!(e instanceof PortTaken)) throw e;
      console.error(`wrangler dev: ${e.message}; retrying with other ports`);
    }
  }
}

class PortTaken extends Error {}

async function startOnce({ env, port, inspectorPort, inspector: withInspector = false, readyPath = "/v1/health", readyMethod = "GET", cwd = ROOT }, mayRetry) {
  port ??= await freePort();
  const inspector = withInspector ? inspectorPort ?? await freePort() : undefined;
  const url = `http://127.0.0.1:${port}`;
  const tmp = mkdtempSync(join(tmpdir(), "audit-wrangler-"));
  const envFile = join(tmp, "worker.env");
  writeFileSync(envFile, [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ""].join("\n"), { mode: 0o600 });
  // Without DevTools by default (tests/support/wrangler-dev.mjs says why); `inspector: true`: the CLI.
  const [cmd, args] = withInspector
    ? [join(ROOT, "node_modules/.bin/wrangler"), ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port),
      "--inspector-port", String(inspector), "--env-file", envFile, "--show-interactive-dev-session=false"]]
    : [process.execPath, [join(ROOT, "tests/support/wrangler-dev.mjs"), join(cwd, "wrangler.toml"), "127.0.0.1", String(port), envFile]];
  const dev = spawn(cmd, args, {
    cwd, detached: true, stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true",
      XDG_CONFIG_HOME: join(ROOT, ".cache/xdg"), WRANGLER_LOG_PATH: join(ROOT, ".cache/wrangler-logs") },
  });
  let output = "";
  const keep = (d) => { output = (output + d).slice(-20_000); };
  dev.stdout.on("data", keep);
  dev.stderr.on("data", keep);
  let exited = false;
  dev.on("exit", () => { exited = true; });
  dev.on("error", (e) => { exited = true; keep(`spawn failed: ${e}\n`); });

  let stopped;
  const stop = () => (stopped ??= (async () => {
    if (dev.pid) {
      const gone = () => { try { process.kill(-dev.pid, 0); return false; } catch { return true; } };
      try { process.kill(-dev.pid, "SIGTERM"); } catch {}
      for (let i = 0; i < 50 && !gone(); i++) await sleep(100);
      if (!gone()) { try { process.kill(-dev.pid, "SIGKILL"); } catch {} }
    }
    for (let i = 0; i < 50 && (await answers(url)); i++) await sleep(100);
    rmSync(tmp, { recursive: true, force: true });
  })());

  const end = Date.now() + 60_000;
  const taken = () => /Address already in use/.test(output);
  while (Date.now() < end && !exited && !taken()) {
    try {
      const r = await fetch(`${url}${readyPath}`, { method: readyMethod, signal: AbortSignal.timeout(5000) });
      if (r.status < 500) return { url, stop, log: () => output };
    } catch {}
    await sleep(250);
  }
  await stop();
  if (mayRetry && taken()) throw new PortTaken(`a port was taken before workerd bound it (${url})`);
  console.error(output);
  throw new Error(`wrangler dev did not start at ${url}`);
}
