// Turns the wasm-bindgen builds (--target web) in <pkg dir> into one npm package with an entry
// per feature set and, inside each, a file per runtime, declared in package.json `exports`:
//   "neo4j-audit"         <pkg>/          the write path (AuditLogger, logUserAction)
//   "neo4j-audit/read"    <pkg>/read/     the same plus the trail reads (getAuditTrail, getUserActivity …)
//   "neo4j-audit/verify"  <pkg>/verify/   the read entry plus verifyTrail (hash chain, signatures)
//   "neo4j-audit/worker"  <pkg>/worker/   the Cloudflare Worker ingest (handleIngest)
// and for each entry:
//   types    → neo4j_audit.d.ts (node.d.ts under `node`: the loader typed without DOM names)
//   workerd  → workerd.js:     imports the .wasm as a WebAssembly.Module (wrangler's CompiledWasm rule);
//                              the entry's Workers build in <entry>/workerd/ where scripts/build made
//                              one (cargo feature memory-queue: each call sent from its own request,
//                              no IndexedDB machinery in a Worker's cold start)
//   node     → node.js:        instantiates the .wasm from the package directory at import time
//   default  → neo4j_audit.js  (browsers, bundlers): `await init()` loads the .wasm beside it through
//                              `new URL("neo4j_audit_bg.wasm", import.meta.url)`, which Vite and
//                              webpack 5 emit as an asset.
// In Node and Workers, `init()` still resolves (the module is already instantiated).
// Fields this script does not own (e.g. `bin`) are kept as they are. Without a package.json it
// first writes the one wasm-pack wrote (the crate's name, description, version, license,
// repository and keywords from `cargo metadata`, in wasm-pack's order) and copies the crate's README.
//   node scripts/package-entries.mjs <pkg dir>
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "pkg";
/** Subdirectory (no trailing slash, "" for the root) → export subpath. */
const ENTRIES = [["", "."], ["read", "./read"], ["verify", "./verify"], ["worker", "./worker"]];

const reexport = `export * from "./neo4j_audit.js";\nexport { default } from "./neo4j_audit.js";\n`;
/** The end of each entry's node.d.ts, in place of wasm-bindgen's loader types (see below). */
const NODE_LOADER = `/** In Node this entry instantiates its .wasm when it is imported: \`init()\` and \`initSync()\`
 *  need no argument and do nothing more (they are here for code shared with browsers). Typed
 *  without the DOM's names, which a Node project need not have. */
export type InitInput = unknown;
export type SyncInitInput = unknown;
export interface InitOutput {
    readonly memory: unknown;
}
export function initSync(module?: { module: SyncInitInput } | SyncInitInput): InitOutput;
export default function __wbg_init(module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
`;
/** The import specifier of the entry in subdirectory `sub`. */
const name = (sub) => `neo4j-audit${sub ? `/${sub}` : ""}`;
const rel = (sub, file) => `./${sub ? `${sub}/` : ""}${file}`;

const pkgPath = join(dir, "package.json");
if (!existsSync(pkgPath)) {
  const root = new URL("..", import.meta.url);
  const meta = JSON.parse(execFileSync("cargo", ["metadata", "--no-deps", "--format-version", "1"], { cwd: root, encoding: "utf8" }));
  const crate = meta.packages.find((p) => p.name === "neo4j-audit");
  // "snippets" as wasm-pack listed it (the crate's JS modules; scripts/minify-glue.mjs may have
  // folded them into the glue since).
  const files = ["neo4j_audit_bg.wasm", "neo4j_audit.js", "neo4j_audit.d.ts", "snippets"];
  const base = {
    name: crate.name,
    type: "module",
    description: crate.description,
    version: crate.version,
    license: crate.license,
    // Only a real address: none is published yet (a placeholder would send users nowhere).
    ...(crate.repository ? { repository: { type: "git", url: crate.repository } } : {}),
    files,
    main: "neo4j_audit.js",
    types: "neo4j_audit.d.ts",
    sideEffects: ["./snippets/*"],
    keywords: crate.keywords,
  };
  writeFileSync(pkgPath, JSON.stringify(base, null, 2) + "\n");
}
// The licence text travels with the package (npm packs a LICENSE whatever `files` says).
copyFileSync(new URL("../LICENSE", import.meta.url), join(dir, "LICENSE"));
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
const files = new Set(pkg.files ?? []);
const sideEffects = new Set(pkg.sideEffects ?? []);
const exports = {};
for (const [sub, subpath] of ENTRIES) {
  const at = join(dir, sub);
  if (!existsSync(join(at, "neo4j_audit.js"))) throw new Error(`package-entries: ${at}/neo4j_audit.js missing`);
  writeFileSync(join(at, "node.js"), `// Node entry (package.json exports, "node" condition): the .wasm is read and instantiated here.
// A server bundler may rewrite this URL: to its own copy of the .wasm (a file: URL, read that), or,
// as Next.js does, to a URL for browsers ("/_next/static/media/…") that no file: read can follow;
// then the file beside this module is read (a pattern bundlers leave alone). A bundler that copies
// no .wasm (esbuild) leaves none beside its bundle: the error says how to keep the package out of it
// (only for a missing file: a refused read, e.g. Deno without --allow-read, says the host's reason).
// A CommonJS bundle (esbuild's default format for --platform=node) has no import.meta.url: it says so.
import { readFileSync } from "node:fs";
import { initSync } from "./neo4j_audit.js";
const out = 'leave the package out of the bundle, for Node to import from node_modules (esbuild: --packages=external; Next.js: serverExternalPackages: ["neo4j-audit"]; webpack: externals; Vite SSR: ssr.external)';
if (typeof import.meta.url !== "string") throw new Error(\`${name(sub)}: cannot find its .wasm: import.meta.url is undefined, as in a CommonJS bundle for Node that took this module in; \${out}\`);
let wasm = new URL("./neo4j_audit_bg.wasm", import.meta.url);
if (wasm.protocol !== "file:") wasm = new URL(import.meta.url.replace(/[^/]*$/, "neo4j_audit_bg.wasm"));
try {
  wasm = readFileSync(wasm);
} catch (e) {
  if (e.code !== "ENOENT") throw new Error(\`${name(sub)}: cannot read its .wasm at \${wasm} (\${e})\`, { cause: e });
  throw new Error(\`${name(sub)}: cannot read its .wasm at \${wasm} (ENOENT): a bundle for Node moved this module away from it; \${out}\`, { cause: e });
}
initSync({ module: wasm });
${reexport}`);
  // The entry's Workers build, if made (scripts/build): its own .wasm and glue, same exports.
  const w = existsSync(join(at, "workerd", "neo4j_audit.js")) ? "./workerd/" : "./";
  // The Worker entry's workerd/ holds a glue only (without the asynchronous loader), for the
  // entry's own .wasm.
  const ww = existsSync(join(at, "workerd", "neo4j_audit_bg.wasm")) ? w : "./";
  writeFileSync(join(at, "workerd.js"), `// Cloudflare Workers entry ("workerd" condition): the bundler hands the .wasm over as a module.
import wasm from "${ww}neo4j_audit_bg.wasm";
import { initSync } from "${w}neo4j_audit.js";
initSync({ module: wasm });
${reexport.replaceAll("./", w)}`);
  if (w !== "./") {
    rmSync(join(at, "workerd", "neo4j_audit.d.ts"), { force: true }); // the root's types describe it
    rmSync(join(at, "workerd", "neo4j_audit_bg.wasm.d.ts"), { force: true });
    if (!sub) files.add("workerd"); // a subpath's folder is in `files` whole
    if (existsSync(join(at, "workerd", "snippets"))) sideEffects.add(rel(sub, "workerd/snippets/*"));
  }
  // wasm-bindgen's classes declare `[Symbol.dispose]()`: name the lib that types it, so the
  // declarations compile under any `lib` setting (TypeScript >= 5.2), with skipLibCheck off too.
  const dts = join(at, "neo4j_audit.d.ts");
  const types = readFileSync(dts, "utf8");
  const ref = '/// <reference lib="esnext.disposable" />\n';
  if (types.includes("Symbol.dispose") && !types.startsWith(ref)) writeFileSync(dts, ref + types);
  // Node's types (the `node` condition): the same declarations, wasm-bindgen's loader typed without
  // DOM names. Its `InitInput` names `RequestInfo`, `Response`, `BufferSource` and `WebAssembly`,
  // which a Node project (`lib: ["es2022"]`, `types: ["node"]`, skipLibCheck off) does not have:
  // tsc failed on the package's own .d.ts (TS2304/TS2503, found by a new user). In Node the
  // entry's .wasm is instantiated on import, so init() and initSync() take nothing they need.
  const declared = readFileSync(dts, "utf8");
  const loader = declared.indexOf("\nexport type InitInput");
  writeFileSync(join(at, "node.d.ts"), (loader < 0 ? declared : declared.slice(0, loader + 1)) + NODE_LOADER);
  if (sub) files.add(sub);
  else for (const f of ["neo4j_audit_bg.wasm", "neo4j_audit.js", "neo4j_audit.d.ts", "node.js", "node.d.ts", "workerd.js"]) files.add(f);
  if (existsSync(join(at, "snippets"))) {
    if (!sub) files.add("snippets");
    sideEffects.add(rel(sub, "snippets/*"));
  }
  // They instantiate the .wasm when imported: a bundler must never skip them.
  sideEffects.add(rel(sub, "node.js"));
  sideEffects.add(rel(sub, "workerd.js"));
  // `node` before `types`: TypeScript takes the first key of its conditions (types, node, import
  // under nodenext) in this order, so a Node project gets node.d.ts; `bundler` resolution (no
  // `node` condition) and browsers' bundlers go on to `types` and `default`.
  exports[subpath] = {
    workerd: rel(sub, "workerd.js"),
    node: { types: rel(sub, "node.d.ts"), default: rel(sub, "node.js") },
    types: rel(sub, "neo4j_audit.d.ts"),
    default: rel(sub, "neo4j_audit.js"),
  };
  // For bundlers without `new URL(…, import.meta.url)` support (esbuild): import the .wasm's URL
  // and pass it to init(). Its types say it is that URL, a string (without them `tsc` answers
  // TS2307 "Cannot find module 'neo4j-audit/neo4j_audit_bg.wasm'" for the README's esbuild block).
  writeFileSync(join(at, "wasm-url.d.ts"), `// \`import url from "neo4j-audit${sub ? `/${sub}` : ""}/neo4j_audit_bg.wasm"\`: the URL of this entry's .wasm as a
// bundler's file loader gives it (esbuild --loader:.wasm=file, Bun), relative to the bundle; for
// \`init({ module_or_path: new URL(url, import.meta.url) })\`.
declare const url: string;
export default url;
`);
  if (!sub) files.add("wasm-url.d.ts");
  exports[rel(sub, "neo4j_audit_bg.wasm")] = { types: rel(sub, "wasm-url.d.ts"), default: rel(sub, "neo4j_audit_bg.wasm") };
  // A subpath's folder has a package.json of its own for resolvers that ignore `exports` and
  // resolve `neo4j-audit/read` as the folder read/ (Parcel 2 by default: "Cannot load file
  // './read' from module 'neo4j-audit'"; webpack 4): its `main` is the browser module, as the
  // root's is. "type" must stay "module" (Node takes a file's module type from the nearest
  // package.json) and `sideEffects` repeats the root's for this folder (bundlers read the nearest
  // one). No `name`: it is no package of its own, and `exports` resolution never reads it.
  if (sub) {
    const own = [...sideEffects].filter((s) => s.startsWith(`./${sub}/`)).map((s) => `./${s.slice(sub.length + 3)}`);
    writeFileSync(join(at, "package.json"), JSON.stringify({
      type: "module", main: "neo4j_audit.js", types: "neo4j_audit.d.ts", sideEffects: own,
    }, null, 2) + "\n");
  }
}
exports["./package.json"] = "./package.json";
// The root's wasm exports' types, as each subpath's folder carries its own.
if (existsSync(join(dir, "neo4j_audit_bg.wasm.d.ts"))) files.add("neo4j_audit_bg.wasm.d.ts");
// The documentation: README.md and the docs/ chapters its Documentation section links, so that
// node_modules/neo4j-audit/ holds the whole of it (the registry shows at most 65,536 characters of a
// README: the reference is in the chapters). A link to a file the package does not ship (BENCHMARKS.md,
// src/, bench/) keeps its text and loses its target, which would lead nowhere from the package.
{
  const { mkdirSync } = await import("node:fs");
  const { dirname, posix } = await import("node:path");
  const root = new URL("..", import.meta.url);
  const readme = readFileSync(new URL("README.md", root), "utf8");
  const chapters = [...new Set([...readme.matchAll(/\]\(docs\/([\w-]+\.md)\)/g)].map((m) => m[1]))];
  const docs = ["README.md", ...chapters.map((c) => `docs/${c}`)];
  rmSync(join(dir, "docs"), { recursive: true, force: true });
  mkdirSync(join(dir, "docs"));
  for (const doc of docs) {
    let fenced = false;
    const text = readFileSync(new URL(doc, root), "utf8").split("\n").map((line) => {
      if (line.startsWith("```")) fenced = !fenced;
      if (fenced) return line;
      return line.replace(/\[([^\]]*)\]\(([^)\s#]+)(#[^)\s]*)?\)/g, (link, text, target) => {
        if (/^[a-z]+:/.test(target)) return link;
        const path = posix.normalize(posix.join(dirname(doc), target)).replace(/\/$/, "");
        return docs.includes(path) || path === "docs" ? link : text;
      });
    }).join("\n");
    writeFileSync(join(dir, doc), text);
  }
  files.add("docs");
}
// Only what is there: wasm-pack's "snippets" stays listed after scripts/minify-glue.mjs folded the
// snippets into the glue (a new user found `files` and `sideEffects` naming a missing folder).
pkg.files = [...files].filter((f) => existsSync(join(dir, f)));
pkg.sideEffects = [...sideEffects].filter((s) => !s.endsWith("/snippets/*") || existsSync(join(dir, s.slice(2, -2))));
pkg.exports = exports;
// TypeScript's `moduleResolution: "node10"` (what `module: "commonjs"` implies up to TypeScript 5)
// ignores `exports`: it finds the root's types through `types`, and the subpaths' only through
// this map (without it, `import … from "neo4j-audit/read"` is TS2307 there). TypeScript's other
// resolutions read `exports` and never this.
// The Node versions the package is tested on (CI: Node 20; it needs global fetch and WebAssembly).
// npm only warns on another version (unless engine-strict); browsers, bundlers and Workers ignore it.
pkg.engines = { node: ">=20" };
pkg.typesVersions = { "*": Object.fromEntries(ENTRIES.flatMap(([sub]) => [
  ...(sub ? [[sub, [rel(sub, "neo4j_audit.d.ts")]]] : []),
  [`${sub ? `${sub}/` : ""}neo4j_audit_bg.wasm`, [rel(sub, "wasm-url.d.ts")]],
])) };
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + "\n");
console.error(`package-entries: ${ENTRIES.map(([s]) => `${join(dir, s)}/{node,workerd}.js`).join(", ")}; exports in ${pkgPath}`);

// The audit CLI (`npx neo4j-audit …`, cli/): its modules go into <pkg>/cli/ as they are, except
// cli/core.mjs — the one module that imports the library — which is written here to import the
// package's own verify entry for Node (verify/node.js) instead of the repository's ../pkg/verify/.
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

export { AuditLogger, switchSetting } from "../verify/node.js";
export const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
`);
  const pkgJson = JSON.parse(readFileSync(pkgPath, "utf8"));
  pkgJson.bin = { "neo4j-audit": "cli/neo4j-audit.mjs" };
  pkgJson.files = [...new Set([...(pkgJson.files ?? []), "cli"])];
  writeFileSync(pkgPath, JSON.stringify(pkgJson, null, 2) + "\n");
  console.error(`package-entries: ${out}/ (bin neo4j-audit)`);
}
