// `vite build --config vite.worker.config.js`: the Web Worker page (worker.html), as the README says.
export default {
  worker: { format: "es" },
  build: { outDir: "dist-worker", rollupOptions: { input: "worker.html" } },
};
