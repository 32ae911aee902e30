// Minifies the JavaScript that wasm-bindgen wrote into a package directory (its glue
// neo4j_audit.js and the snippets under snippets/, i.e. src/wasm/*.js) with esbuild, in place.
// The types stay in neo4j_audit.d.ts (the glue's JSDoc repeats them), so users lose nothing but
// readable stack frames inside the glue. Measured on the write entry (bench/size fetch-writeonly,
// gzip -9), 2026-11-28: glue + snippets 8,664 -> 5,732 B (JSDoc and whitespace out, local names shortened).
//   node scripts/minify-glue.mjs <dir>...
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";

function jsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsFiles(p));
    else if (name.endsWith(".js")) out.push(p);
  }
  return out;
}

for (const dir of process.argv.slice(2)) {
  const files = [join(dir, "neo4j_audit.js")];
  try {
    files.push(...jsFiles(join(dir, "snippets")));
  } catch {
    // no snippets
  }
  for (const f of files) {
    const src = readFileSync(f, "utf8");
    let { code } = transformSync(src, { minify: true, format: "esm", legalComments: "none" });
    // Exported classes keep their `name` (AuditLogger in logs and stack traces), which the
    // renaming would make a letter; cheaper than esbuild's keepNames (about 1 KB gz of helpers).
    const exports = code.match(/export\{([^}]*)\}/);
    const renamed = (exports ? exports[1].split(",") : [])
      .map((e) => e.split(" as "))
      .filter(([local, name]) => name && local !== name && new RegExp(`class ${local}\\b`).test(code));
    for (const [local, name] of renamed) code += `Object.defineProperty(${local},"name",{value:"${name}"});\n`;
    // Deno and TypeScript find the types through this first-line comment; esbuild drops comments.
    const selfTypes = src.match(/^\/\* @ts-self-types="[^"]*" \*\/\n/);
    if (selfTypes) code = selfTypes[0] + code;
    writeFileSync(f, code);
  }
}
