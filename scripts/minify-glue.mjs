// Minifies the JavaScript that wasm-bindgen wrote into a package directory (its glue
// neo4j_audit.js and the snippets under snippets/, i.e. src/wasm/*.js) with esbuild, in place,
// bundled into neo4j_audit.js (snippets/ is then removed). Bundling, measured on the write entry
// (bench/size fetch-writeonly, glue + snippets gz -9), 2026-11-29: 5,780 -> 5,100 B (wasm + glue 82,402 -> 81,722).
// The types stay in neo4j_audit.d.ts (the glue's JSDoc repeats them), so users lose nothing but
// readable stack frames inside the glue. Measured on the write entry (bench/size fetch-writeonly,
// gzip -9), 2026-11-28: glue + snippets 8,664 -> 5,732 B (JSDoc and whitespace out, local names shortened).
//   node scripts/minify-glue.mjs [--workers | --no-loader] <dir>...
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";

// Code of wasm-bindgen 0.2.130's glue that never runs here, cut before minifying; each must be
// found exactly once (a wasm-bindgen upgrade that changes it fails the build here, not silently).
// Measured on the write entry (bench/size fetch-writeonly, glue gz -9), 2026-11-29: 5,017 -> 4,938 B.
const DEAD = [
  // TextEncoder.encodeInto polyfill: every engine with the wasm features the build needs
  // (reference types, bulk memory) has encodeInto (Chrome 74, Firefox 66, Safari 14.1, Node 12).
  [/\nif \(!\('encodeInto' in cachedTextEncoder\)\) \{\n    cachedTextEncoder\.encodeInto = function \(arg, view\) \{\n[^]*?\n    \};\n\}\n/, "\n"],
  // passStringToWasm0 without `realloc`: every call passes wasm.__wbindgen_realloc (checked below).
  [/(function passStringToWasm0\(arg, malloc, realloc\) \{\n)    if \(realloc === undefined\) \{\n[^]*?\n    \}\n/, "$1"],
];

// `--workers` (the Workers build, pkg/workerd/): the asynchronous loader too. workerd.js instantiates
// the module with initSync before any user code runs, so the default export (`await init()`)
// only ever finds the module ready; its fetch/instantiateStreaming loader is text a Worker's
// cold start parses for nothing (V8 parses all of a module's text at load, ~1.3 KB minified here).
const WORKERS_DEAD = [
  [/\nasync function __wbg_load\(module, imports\) \{\n[^]*?\n\}\n/, "\n"],
  [/\nlet __wbg_init_promise;\nasync function __wbg_init\(module_or_path\) \{\n[^]*?\n\}\n\nasync function __wbg_init_once\(module_or_path\) \{\n[^]*?\n\}\n/,
    "\n// Workers: initialised by workerd.js (scripts/minify-glue.mjs --workers or --no-loader).\nasync function __wbg_init() {\n    return wasm;\n}\n"],
  // initSync's check for the deprecated argument (bytes or a Module in place of `{ module }`):
  // only workerd.js gets past its first line (the module is instantiated by then), with `{ module }`.
  [/(\nfunction initSync\(module\) \{\n    if \(wasm !== undefined\) return wasm;\n)\n*    if \(module !== undefined\) \{\n[^]*?\n    \}\n/,
    "$1    ({ module } = module);\n"],
  // decodeText's fresh TextDecoder every 2 GB decoded: for Safari's decoder, which gives up after
  // that much; workerd's (V8) does not.
  [/\nconst MAX_SAFARI_DECODE_BYTES = \d+;\nlet numBytesDecoded = 0;\nfunction decodeText\(bytes\) \{\n[^]*?\n\}\n/,
    "\nfunction decodeText(bytes) {\n    return cachedTextDecoder.decode(bytes);\n}\n"],
];

// `--workers`: the functions that every cold start runs (instantiation, the first logger, the
// first event: wasm-bindgen's and the snippets', found with V8's --log-function-events, see
// bench/coldstart-v8.mjs), written as parenthesised function expressions, which V8 compiles with
// the module's text instead of lazily (a lazy function's text is scanned when the module loads
// and parsed again on its first call). esbuild keeps the parentheses. None runs while its module
// is evaluated (workerd.js calls initSync after the glue ran; the snippets' run from wasm), so a
// `const` in place of the hoisted declaration changes nothing else. The class methods (the
// driver's, AuditLogger's) stay lazy: a method cannot be marked so.
const EAGER = ["__wbg_get_imports", "__wbg_finalize_init", "initSync", "getStringFromWasm0", "decodeText",
  "passStringToWasm0", "handleError", "isLikeNone", "makeMutClosure", "getDataViewMemory0", "getUint8ArrayMemory0",
  "getUint32ArrayMemory0", "getArrayU8FromWasm0", "getArrayU32FromWasm0"];
// Per snippet (src/…/x.js → its functions a first logger and event run).
const EAGER_SNIPPETS = {
  "src/wasm/details.js": ["eventText", "detailsToJson", "copyOf", "put", "configToJson"],
  "src/wasm/unicode.js": ["urlParts"],
  "src/transport/fetch.js": ["post"],
  "src/wasm/driver.js": ["keep"],
};
function eager(f, src, names) {
  for (const name of names) {
    const re = new RegExp(`^(export )?function ${name}\\((.*)\\) \\{\\n([^]*?)\\n\\}\\n`, "m");
    if (!re.test(src)) throw new Error(`minify-glue: ${f}: function ${name} not found (EAGER)`);
    src = src.replace(re, `$1const ${name} = (function ${name}($2) {\n$3\n});\n`);
    if (re.test(src)) throw new Error(`minify-glue: ${f}: function ${name} found more than once`);
  }
  return src;
}
function eagerGlue(f, src, dir_) {
  // The closure invoke (the driver's input function): wasm-bindgen names it after the Rust path.
  const invoke = src.match(/^function (wasm_bindgen_[0-9a-f]+___convert__closures\w*)\(/m)?.[1];
  src = eager(f, src, invoke ? [...EAGER, invoke] : EAGER);
  // The imports object's shims (most of which the first logger and event call) too.
  const shim = /^( {8}\w+): function\(([^)]*)\) \{\n([^]*?)\n {8}\},\n/gm;
  if (!shim.test(src)) throw new Error(`minify-glue: ${f}: no import shims found (EAGER)`);
  src = src.replace(shim, "$1: (function($2) {\n$3\n        }),\n");
  // The snippets (wasm-bindgen copied them to snippets/<crate>-<hash>/src/…).
  for (const rel of readdirSync(join(dir_, "snippets"), { recursive: true })) {
    const p = String(rel).replace(/^[^/]+\//, "");
    if (!EAGER_SNIPPETS[p]) continue;
    const file = join(dir_, "snippets", String(rel));
    writeFileSync(file, eager(file, readFileSync(file, "utf8"), EAGER_SNIPPETS[p]));
  }
  return src;
}

// The snippet functions the .wasm imports itself (no glue shim: `hasStore`, `configToJson`, ...)
// reach it through wasm-bindgen's `import * as importN from "./snippets/…/x.js"` and the imports
// object's `"./snippets/…/x.js": importN`. A namespace import keeps every export of that module in
// the bundle (esbuild cannot tell which the .wasm reads) and costs a namespace object with a
// getter per export. Named imports of just the functions the .wasm's import section names, in an
// object literal, instead. Measured (bench/size fetch-writeonly fetch worker, bare+wasm-opt, glue
// gz -9), 2026-11-30, write entry (same cargo build): glue 7,644 -> 7,462 B.
function namedSnippetImports(src, wasmFile, f) {
  const wanted = new Map();
  for (const i of WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmFile)))) {
    if (!i.module.startsWith("./snippets/")) continue;
    if (!wanted.has(i.module)) wanted.set(i.module, new Set());
    wanted.get(i.module).add(i.name);
  }
  const names = new Map();
  src = src.replace(/^import \* as (import\d+) from "(\.\/snippets\/[^"]+)";?$/gm, (_, ns, mod) => {
    const fns = [...(wanted.get(mod) ?? [])];
    if (fns.some((n) => !/^[A-Za-z_$][\w$]*$/.test(n))) throw new Error(`minify-glue: ${f}: an import of ${mod} is not a name`);
    names.set(ns, fns);
    return `import { ${fns.map((n) => `${n} as ${ns}_${n}`).join(", ")} } from "${mod}";`;
  });
  let used = 0;
  src = src.replace(/^(\s*"\.\/snippets\/[^"]+": )(import\d+),$/gm, (all, key, ns) => {
    if (!names.has(ns)) return all;
    used++;
    return `${key}{ ${names.get(ns).map((n) => `${n}: ${ns}_${n}`).join(", ")} },`;
  });
  // Each namespace used once, as a value of the imports object, and nowhere else.
  if (used !== names.size || [...names.keys()].some((ns) => new RegExp(`\\b${ns}\\b(?!_)`).test(src))) {
    throw new Error(`minify-glue: ${f}: a snippet namespace import is used other than in the imports object`);
  }
  return src;
}

// `--no-loader`: the asynchronous loader left out as with `--workers`, the functions kept lazy. For
// the Worker entry's glue under the "workerd" condition (pkg/worker/workerd/neo4j_audit.js, beside
// the full one that the `default` and `node` conditions load; scripts/build): workerd.js
// instantiates the .wasm with initSync, so a deployed Worker never runs the loader it shipped.
// Measured (bench/size worker, bare+wasm-opt, same .wasm), 2026-12-07: glue gz -9 4,715 -> 4,273 B,
// wasm + glue 102,342 -> 101,900 B.
const args = process.argv.slice(2);
const workers = args[0] === "--workers";
const noLoader = args[0] === "--no-loader";
for (const dir of workers || noLoader ? args.slice(1) : args) {
  const f = join(dir, "neo4j_audit.js");
  let src = readFileSync(f, "utf8");
  for (const [re, by] of workers || noLoader ? [...DEAD, ...WORKERS_DEAD] : DEAD) {
    // The realloc branch only where the glue passes strings into wasm at all.
    if (re.source.includes("passStringToWasm0") && !src.includes("function passStringToWasm0(")) continue;
    if (!re.test(src)) throw new Error(`minify-glue: ${f}: ${re} not found`);
    src = src.replace(re, by);
    if (re.test(src)) throw new Error(`minify-glue: ${f}: ${re} found more than once`);
  }
  // Before `await init()` (browsers and bundlers; the Node and Workers entries instantiate at
  // import) the glue's `wasm` is undefined: `new AuditLogger()` threw "Cannot read properties of
  // undefined (reading 'auditlogger_new')" and the one-shot logUserAction threw too. The
  // constructor (the one place that throws) now names the fix; the one-shot resolves false, as
  // for an invalid config. Only entries with the class (the Worker entry has handleIngest only).
  // It names its entry: "neo4j-audit/read" (and "/verify") has an init() of its own, which an app that called
  // "neo4j-audit"'s may not know it still needs.
  if (src.includes("\nexport class AuditLogger {")) {
    // (The read entry's verifyTrail is a stub naming the verify entry, the same in the JS: the
    // types tell them apart, the verify entry's report type being in its .d.ts only.)
    const verify = readFileSync(join(dir, "neo4j_audit.d.ts"), "utf8").includes("AuditVerifyReport");
    const entry = verify ? "neo4j-audit/verify" : src.includes("getAuditTrail(") ? "neo4j-audit/read" : "neo4j-audit";
    const its = entry === "neo4j-audit" ? "the" : "its";
    for (const [re, by] of [
      [/(\n    constructor\(config\) \{\n)/, `$1        if (wasm === undefined) throw new Error("${entry} is not initialised: \`await init()\` (${its} default export) before \`new AuditLogger()\`; Node and Workers need no init");\n`],
      [/(\nexport function logUserAction\([^)]*\) \{\n)/, "$1    if (wasm === undefined) return Promise.resolve(false);\n"],
    ]) {
      if ((src.match(new RegExp(re.source, "g")) ?? []).length !== 1) throw new Error(`minify-glue: ${f}: ${re} not found exactly once`);
      src = src.replace(re, by);
    }
  }
  const calls = src.match(/passStringToWasm0\([^)]*\)/g) ?? [];
  if (calls.some((c) => !c.startsWith("passStringToWasm0(arg,") && !c.endsWith("wasm.__wbindgen_realloc)"))) {
    throw new Error(`minify-glue: ${f}: a passStringToWasm0 call without realloc`);
  }
  src = namedSnippetImports(src, join(dir, "neo4j_audit_bg.wasm"), f);
  if (workers) src = eagerGlue(f, src, dir);
  writeFileSync(f, src);
  // One file: the glue with the snippets it imports bundled in (renamed together, one gzip
  // stream instead of one per file). wasm-bindgen imports the same snippet twice at times, which
  // gives a repeated key in the imports object (harmless: both name the same module).
  const { outputFiles } = buildSync({
    entryPoints: [f],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "neutral",
    legalComments: "none",
    logOverride: { "duplicate-object-key": "silent" },
  });
  let code = outputFiles[0].text;
  // Exported classes keep their `name` (AuditLogger in logs and stack traces), which the
  // renaming would make a letter; cheaper than esbuild's keepNames (about 1 KB gz of helpers).
  const exports = code.match(/export\{([^}]*)\}/);
  const renamed = (exports ? exports[1].split(",") : [])
    .map((e) => e.split(" as "))
    // esbuild writes a class as `class q{` or, minified, `var q=class{` (which the first test
    // missed: console.log(logger) showed `q { __wbg_ptr: … }`).
    .filter(([local, name]) => {
      const id = local.replaceAll("$", "\\$"); // identifiers may hold a $
      return name && local !== name && new RegExp(`(?:class ${id}|(?<![\\w$])${id}=class)(?![\\w$])`).test(code);
    });
  for (const [local, name] of renamed) code += `Object.defineProperty(${local},"name",{value:"${name}"});\n`;
  // Deno and TypeScript find the types through this first-line comment; esbuild drops comments.
  const selfTypes = src.match(/^\/\* @ts-self-types="[^"]*" \*\/\n/);
  if (selfTypes) code = selfTypes[0] + code;
  writeFileSync(f, code);
  // Bundled in: the package no longer ships them.
  rmSync(join(dir, "snippets"), { recursive: true, force: true });
}
