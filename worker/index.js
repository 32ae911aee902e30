// Cloudflare Worker entry: all decisions live in the Rust core (src/ingest, src/wasm/worker.rs).
import { initSync, handleIngest } from "../pkg-worker/neo4j_audit.js";
import wasm from "../pkg-worker/neo4j_audit_bg.wasm";

initSync({ module: wasm });

export default { fetch: (request, env) => handleIngest(request, env) };
