// Adds the per-runtime entries to a package built by wasm-pack (--target web) and declares them in
// its package.json `exports`, so `import { AuditLogger } from "neo4j-audit"` works as is:
//   node     → node.js:    instantiates the .wasm from the package directory at import time
//   workerd  → workerd.js: imports the .wasm as a WebAssembly.Module (wrangler's CompiledWasm rule)
//   default  → neo4j_audit.js (browsers, bundlers): `await init()` loads the .wasm beside it
// In Node and Workers, `init()` still resolves (the module is already instantiated).
//   node scripts/package-entries.mjs <pkg dir>
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "pkg";
const reexport = `export * from "./neo4j_audit.js";\nexport { default } from "./neo4j_audit.js";\n`;
writeFileSync(join(dir, "node.js"), `// Node entry (package.json exports, "node" condition): the .wasm is read and instantiated here.
import { readFileSync } from "node:fs";
import { initSync } from "./neo4j_audit.js";
initSync({ module: readFileSync(new URL("./neo4j_audit_bg.wasm", import.meta.url)) });
${reexport}`);
writeFileSync(join(dir, "workerd.js"), `// Cloudflare Workers entry ("workerd" condition): the bundler hands the .wasm over as a module.
import wasm from "./neo4j_audit_bg.wasm";
import { initSync } from "./neo4j_audit.js";
initSync({ module: wasm });
${reexport}`);
const pkgPath = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
pkg.files = [...new Set([...(pkg.files ?? []), "node.js", "workerd.js"])];
// They instantiate the .wasm when imported: a bundler must never skip them.
pkg.sideEffects = [...new Set([...(pkg.sideEffects ?? []), "./node.js", "./workerd.js"])];
pkg.exports = {
  ".": {
    types: "./neo4j_audit.d.ts",
    workerd: "./workerd.js",
    node: "./node.js",
    default: "./neo4j_audit.js",
  },
  "./neo4j_audit_bg.wasm": "./neo4j_audit_bg.wasm",
  "./package.json": "./package.json",
};
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + "\n");
console.error(`package-entries: ${dir}/node.js, ${dir}/workerd.js, exports in ${pkgPath}`);

// The audit CLI (`npx neo4j-audit …`, cli/): its modules go into <pkg>/cli/ as they are, except
// cli/core.mjs — the one module that imports the library — which is written here to import the
// package's own Node entry instead of the repository's ../pkg/.
{
  const { copyFileSync, mkdirSync, readdirSync, chmodSync, rmSync } = await import("node:fs");
  const src = new URL("../cli/", import.meta.url);
  const out = join(dir, "cli");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  for (const f of readdirSync(src)) {
    if (f.endsWith(".mjs") && f !== "core.mjs") copyFileSync(new URL(f, src), join(out, f));
  }
  chmodSync(join(out, "neo4j-audit.mjs"), 0o755);
  writeFileSync(join(out, "core.mjs"), `// The CLI's one import of the library (written by scripts/package-entries.mjs): the package's Node entry.
import { readFileSync } from "node:fs";

export { AuditLogger } from "../node.js";
export const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
`);
  const pkgJson = JSON.parse(readFileSync(pkgPath, "utf8"));
  pkgJson.bin = { "neo4j-audit": "cli/neo4j-audit.mjs" };
  pkgJson.files = [...new Set([...(pkgJson.files ?? []), "cli"])];
  writeFileSync(pkgPath, JSON.stringify(pkgJson, null, 2) + "\n");
  console.error(`package-entries: ${out}/ (bin neo4j-audit)`);
}
