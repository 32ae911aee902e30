// The page hands each call to a dedicated Web Worker that logs (src/audit-worker.js).
const worker = new Worker(new URL("./audit-worker.js", import.meta.url), { type: "module" });
const waiting = [];
worker.onmessage = (e) => waiting.shift()(e.data);
worker.onerror = (e) => waiting.shift()({ ok: false, err: `worker error: ${e.message}` });
window.runInWorker = (config, actionType) => new Promise((resolve) => {
  waiting.push(resolve);
  worker.postMessage({ config, actionType });
});
document.body.dataset.ready = "true";
