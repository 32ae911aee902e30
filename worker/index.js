// Cloudflare Worker entry: all decisions live in the Rust core (src/ingest, src/wasm/worker.rs).
// It mounts the package's Worker entry exactly as a user's Worker project would; in this repository
// "neo4j-audit" is pkg/ (package.json: "neo4j-audit": "file:./pkg", built by scripts/build).
import { handleIngest } from "neo4j-audit/worker";

export default { fetch: (request, env) => handleIngest(request, env) };
