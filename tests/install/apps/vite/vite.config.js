// The dev server pre-bundles dependencies into node_modules/.vite/, away from the package's .wasm
// files: leave neo4j-audit out of that (`vite build` emits the .wasm either way).
export default { optimizeDeps: { exclude: ["neo4j-audit"] } };
