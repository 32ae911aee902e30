// Shortens the names the .wasm and its (minified) glue use to talk to each other, in place, after
// wasm-opt and scripts/minify-glue.mjs: the imports from wasm-bindgen's glue module
// (`__wbg_<method>_<16 hex digits>`, about 90 of them, and its `__wbindgen_*` ones) and the closure-invoke exports (mangled Rust
// paths of up to 330 characters). Each name is in both files and its hash does not compress, so
// both shrink. Nothing a user calls is renamed (a user calls the glue's class and functions; the
// free functions' exports keep their names, `memory` too; the snippets' imports keep theirs), and the glue module's own name ("./neo4j_audit_bg.js",
// in each import) becomes "a", the bundled snippets' module paths a0, a1, ... Each old name must occur in the glue as a key (imports) or property
// (exports) the expected number of times, else the script fails before writing anything. Measured
// on the write entry (bench/size fetch-writeonly, bare+wasm-opt, wasm + glue gz -9), 2026-11-29:
// 87,470 -> 84,489 B (the import and export names), then 83,711 -> 83,634 B (the module name);
// 2026-11-29, the bundled snippets' module paths: 81,722 -> 81,589 B. Also drops the
// `target_features` custom section, 2026-11-29 (bench/size, wasm gz -9): write 74,229 -> 74,127 B,
// read 106,781 -> 106,668, Worker 98,975 -> 98,859. wasm-bindgen's other internal exports (the class
// methods' entry points, the class's free, `__wbindgen_malloc`, ...; see INTERNAL_EXPORT), 2026-11-30,
// write entry (same cargo build, bare+wasm-opt): wasm gz 60,869 -> 60,716 B, glue gz 6,545 -> 6,482
// (wasm + glue 67,414 -> 67,198). The glue module's `__wbindgen_*` imports too (the closure
// wrappers `__wbindgen_generic_<16 digits>`, `__wbindgen_init_externref_table`), 2026-11-30,
// bench/size fetch-writeonly fetch worker (bare+wasm-opt, wasm + glue gz -9): write 64,923 ->
// 64,827 B, read 95,152 -> 95,057, Worker 97,104 -> 97,024.
//   node scripts/minify-wasm-names.mjs <dir> [<wasm>]   (dir holds neo4j_audit.js and, unless <wasm>
//   names another file, neo4j_audit_bg.wasm)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { leb, reader } from "./wasm-bytes.mjs";

const GLUE_MODULE = "./neo4j_audit_bg.js";
const SHORT_MODULE = "a";
const enc = new TextEncoder();

// wasm-bindgen's own exports besides the closure invokes: the class methods' and constructor's
// entry points (`auditlogger_logUserAction`, ...), the class's free, and its runtime's
// (`__wbindgen_malloc`, `__externref_table_alloc`, ...). Only the glue calls them (as properties of
// the instance's exports); a user calls the glue's class and functions. `memory` and the free
// functions' exports (`logUserAction`, `handleIngest`, ...) keep their names.
const INTERNAL_EXPORT = /^(?:[a-z]+_[A-Za-z]+$|__wbg_[a-z]+_free$|__wbindgen_|__externref_)/;

const nameBytes = (s) => [...leb(enc.encode(s).length), ...enc.encode(s)];

// Short identifiers: a..z, A..Z, then two letters.
function shortName(i) {
  const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return i < abc.length ? abc[i] : abc[Math.floor(i / abc.length) - 1] + abc[i % abc.length];
}

// Rewrites the import (2) and export (7) sections; returns [new bytes, Map old -> new per kind].
// `used(name)`: whether the glue reads export `name` (an internal export it never reads keeps its name).
function rewrite(wasm, used) {
  const imports = new Map();
  const exports = new Map();
  const modules = new Map();
  let stripped = false;
  const out = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const sizeReader = reader(wasm.subarray(at + 1));
    const size = sizeReader.u32();
    const start = at + 1 + sizeReader.at;
    const body = wasm.subarray(start, start + size);
    at = start + size;
    // The `target_features` custom section (which features rustc compiled for): read by tools
    // (wasm-bindgen, wasm-opt, which have run), never by an engine; ~100 B gzipped per entry.
    if (id === 0 && reader(body).name() === "target_features") {
      stripped = true;
      continue;
    }
    if (id !== 2 && id !== 7) {
      out.push(wasm.subarray(start - 1 - sizeReader.at, at));
      continue;
    }
    const r = reader(body);
    const count = r.u32();
    const bytes = [...leb(count)];
    for (let i = 0; i < count; i++) {
      if (id === 2) {
        const module = r.name();
        let field = r.name();
        const descStart = r.at;
        const kind = r.byte();
        if (kind === 0 || kind === 4) {
          if (kind === 4) r.byte();
          r.u32();
        } else if (kind === 1) {
          r.byte();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) {
          r.byte();
          r.byte();
        } else throw new Error(`unknown import kind ${kind}`);
        if (module === GLUE_MODULE && (field.startsWith("__wbg_") || field.startsWith("__wbindgen_"))) {
          const short = shortName(imports.size);
          imports.set(field, short);
          field = short;
        }
        // A snippet's module path (`./snippets/<crate>-<hash>/src/…/x.js`), which scripts/minify-glue.mjs
        // bundled into the glue: only a key of the imports object now, so a short one will do.
        let short = module === GLUE_MODULE ? SHORT_MODULE : module;
        if (module.startsWith("./snippets/")) {
          if (!modules.has(module)) modules.set(module, `${SHORT_MODULE}${modules.size}`);
          short = modules.get(module);
        }
        bytes.push(...nameBytes(short), ...nameBytes(field));
        bytes.push(...body.subarray(descStart, r.at));
      } else {
        let name = r.name();
        const descStart = r.at;
        r.byte();
        r.u32();
        if (name.includes("___convert__closures_____invoke") || (INTERNAL_EXPORT.test(name) && used(name))) {
          const short = `_${shortName(exports.size)}`;
          exports.set(name, short);
          name = short;
        }
        bytes.push(...nameBytes(name), ...body.subarray(descStart, r.at));
      }
    }
    if (r.at !== body.length) throw new Error(`section ${id}: ${body.length - r.at} bytes left unread`);
    out.push(Uint8Array.from([id, ...leb(bytes.length), ...bytes]));
  }
  return [Buffer.concat(out), imports, exports, modules, stripped];
}

const escape = (s) => s.replace(/[$]/g, "\\$");

{
  const [dir, wasmArg] = process.argv.slice(2);
  const wasmFile = wasmArg ?? join(dir, "neo4j_audit_bg.wasm");
  const glueFile = join(dir, "neo4j_audit.js");
  let glue = readFileSync(glueFile, "utf8");
  const used = (name) => new RegExp(`(?<=\\.)${escape(name)}\\b`).test(glue);
  const [wasm, imports, exports, modules, stripped] = rewrite(readFileSync(wasmFile), used);
  // Imports: one key each in the glue's imports object (`__wbg_x_0123456789abcdef:function…`).
  for (const [old, short] of imports) {
    const re = new RegExp(`(?<=[{,])${escape(old)}(?=:)`, "g");
    const n = (glue.match(re) ?? []).length;
    if (n !== 1 || glue.split(old).length !== 2) throw new Error(`${glueFile}: import ${old} found ${n} times`);
    glue = glue.replace(re, short);
  }
  // Closure-invoke exports: read as properties of the exports object (`x.<name>`).
  for (const [old, short] of exports) {
    const re = new RegExp(`(?<=\\.)${escape(old)}\\b`, "g");
    const n = (glue.match(re) ?? []).length;
    if (n < 1 || glue.split(old).length !== n + 1) throw new Error(`${glueFile}: export ${old} found ${n} times`);
    glue = glue.replace(re, short);
  }
  // The glue module's name, in every import: the key of the imports object.
  const key = `${JSON.stringify(GLUE_MODULE)}:{`;
  if (glue.split(key).length !== 2) throw new Error(`${glueFile}: imports object key ${key} not found once`);
  glue = glue.replace(key, `${SHORT_MODULE}:{`);
  // The snippets' module names: keys of the imports object (a snippet imported twice gives the
  // key twice), and nowhere else once the snippets are bundled in (no `import … from` left).
  for (const [old, short] of modules) {
    const k = `${JSON.stringify(old)}:`;
    const n = glue.split(k).length - 1;
    if (n < 1 || glue.split(old).length !== n + 1) throw new Error(`${glueFile}: module ${old} found ${n} times as a key`);
    glue = glue.split(k).join(`${short}:`);
  }
  // The checks above: no name is left anywhere (in a string, say) with its old spelling.
  new WebAssembly.Module(wasm); // still valid
  writeFileSync(wasmFile, wasm);
  // Lines of ~400 characters: Node prints the source line of an uncaught error, e.g. a
  // constructor's refusal, and that was the whole ~13 KB glue on one line before the message
  // (review6). esbuild's lineLimit also breaks string literals (a backslash, then a newline),
  // which bundlers' `new URL("….wasm", import.meta.url)` detection does not see through (Vite
  // emitted no .wasm for such an entry): that literal's continuations are joined again. Only that
  // one: joining every continuation left lines of 1,200 characters where a break fell inside the
  // long warning texts of the init code (the others are valid JavaScript as they are).
  const selfTypes = glue.match(/^\/\* @ts-self-types="[^"]*" \*\/\n/)?.[0] ?? "";
  glue = selfTypes + transformSync(glue.slice(selfTypes.length), { minifyWhitespace: true, lineLimit: 400 }).code
    .replace(/new URL\("[^"]*"/g, (url) => url.replace(/\\\n/g, ""));
  writeFileSync(glueFile, glue);
  // The types' InitOutput (what init() and initSync() return: the instance's exports) lists the
  // renamed exports by their new names too (it named exports the instance no longer has).
  const dtsFile = join(dir, "neo4j_audit.d.ts");
  if (existsSync(dtsFile)) {
    let dts = readFileSync(dtsFile, "utf8");
    for (const [old, short] of exports) {
      const member = `    readonly ${old}:`;
      if (dts.split(member).length !== 2) throw new Error(`${dtsFile}: InitOutput member ${old} not found once`);
      dts = dts.replace(member, `    readonly ${short}:`);
    }
    writeFileSync(dtsFile, dts);
  }
  console.error(`minify-wasm-names: ${dir}: ${imports.size} imports, ${exports.size} exports, ${modules.size} snippet modules renamed${stripped ? ", target_features dropped" : ""}`);
}
