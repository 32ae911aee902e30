// bun build, like esbuild, does not follow `new URL(…, import.meta.url)`: the app imports each .wasm's URL (the
// `file` loader copies it into the output) and hands it to init(), as the README's esbuild block does.
import writeWasm from "neo4j-audit/neo4j_audit_bg.wasm";
import readWasm from "neo4j-audit/read/neo4j_audit_bg.wasm";
import { mount } from "./app.js";
mount("bun", { write: { module_or_path: writeWasm }, read: { module_or_path: readWasm } });
