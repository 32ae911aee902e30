// A hot-update boundary (as a framework's component is): editing src/audit.js, which it imports,
// makes Vite evaluate both modules again in the same page.
import { logger } from "./audit.js";
(window.hmrLoggers ??= new Set()).add(logger);
window.hmrEvaluations = (window.hmrEvaluations ?? 0) + 1;
window.hmr = {
  log: (actionType) => logger.logUserAction({ uid: "u-hmr" }, actionType),
  flush: () => logger.flush(),
  stats: () => ({ ...logger.stats(), lastError: logger.lastError ?? null }),
};
document.body.dataset.ready = "true";
if (import.meta.hot) import.meta.hot.accept();
