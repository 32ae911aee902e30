// `wrangler dev --local` without its DevTools inspector, for the test harness (tests/support/wrangler.mjs
// spawns this in a process group of its own, as it spawned the wrangler CLI).
//   node tests/support/wrangler-dev.mjs <wrangler.toml> <ip> <port> <env file>
// Why not the CLI: `wrangler dev` (4.86) always attaches its inspector proxy to workerd, turns on
// the DevTools Network domain and posts every message it gets — each chunk of every subrequest's
// answer, with the whole body once more at its end — to wrangler's Node process, one HTTP request
// each. A GET /v1/verify page reads about 0.5 MB from Neo4j, which is thousands of such posts; on
// a loaded machine they fail ("FAILED TO SEND PROXY CONTROLLER REQUEST: Network connection lost"
// in .cache/wrangler-logs) and now and then the next request to the Worker was never handed to it
// (the Worker's own first line never ran; the client waited for undici's 300 s bound: CI's
// "fetch failed" in tests/worker/e2e/signed.test.mjs). The CLI has no flag to leave the inspector
// out; wrangler's `unstable_startWorker` takes `dev.inspector: false`. Same wrangler.toml, same
// bundling, same ProxyWorker and workerd as `wrangler dev --local`.
import { unstable_startWorker } from "wrangler";

const [config, hostname, port, envFile] = process.argv.slice(2);
const worker = await unstable_startWorker({
  config,
  envFiles: [envFile],
  dev: { remote: false, inspector: false, watch: false, liveReload: false, server: { hostname, port: Number(port) }, logLevel: "info" },
});
await worker.ready;
console.log(`[wrangler:info] Ready on ${(await worker.url).origin}`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  try { await worker.dispose(); } finally { process.exit(0); }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
