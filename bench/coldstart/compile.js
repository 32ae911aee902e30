// P5 split: the write entry's .wasm for Workers (pkg/workerd/, what pkg/workerd.js loads) as a module of the Worker (workerd compiles it when the script
// loads), not instantiated and no library JS: compile = this − empty; the rest of init − empty is
// instantiation and the JS glue.
import wasm from "../../pkg/workerd/neo4j_audit_bg.wasm";

export default {
  async fetch() {
    return new Response(wasm instanceof WebAssembly.Module ? "ok" : "no module", { status: wasm instanceof WebAssembly.Module ? 200 : 500 });
  },
};
