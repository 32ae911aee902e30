// A dedicated Web Worker that logs: the browser module, initialised at the top (a top-level await,
// which Vite's default worker format, iife, refuses: vite.worker.config.js sets "es").
import init, { AuditLogger } from "neo4j-audit";
await init();
let logger;
self.onmessage = async ({ data: { config, actionType } }) => {
  logger ??= new AuditLogger(config);
  const ok = await logger.logUserAction({ uid: "u-worker" }, actionType, null, { in: "worker" });
  self.postMessage({ ok, err: logger.lastError ?? null, queued: logger.stats().queued });
};
