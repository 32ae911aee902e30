// Where the bytes of a shipped .wasm are, by module: `twiggy top --format csv` of a build that
// still has its names *after* wasm-opt (bench/crates.mjs counts the build before wasm-opt, whose
// inlining and dead-code removal move a lot), each item's shallow bytes summed under the first
// `depth` path segments of its symbol (`neo4j_audit::queue`, `core::ptr`, ...; generic instances
// under the module that defines the function, like bench/crates.mjs; data segments as "data").
// A working tool for finding what is left to shrink; bench/run does not call it.
//   . scripts/wasm-release-env   # WASM_OPT_FLAGS, after bench/size fetch-writeonly
//   node_modules/.bin/wasm-opt -g "${WASM_OPT_FLAGS[@]}" .cache/bench/size/fetch-writeonly/named/neo4j_audit_bg.wasm -o /tmp/named-opt.wasm
//   twiggy top -n 1000000 --format csv /tmp/named-opt.wasm > /tmp/named-opt.csv
//   node bench/modules.mjs /tmp/named-opt.csv [depth=2] [min bytes=500]
import { twiggyItems } from "./twiggy.mjs";

const [file, depthArg, minArg] = process.argv.slice(2);
const depth = Number(depthArg ?? 2);
const min = Number(minArg ?? 500);
const sum = new Map();
for (const { name, bytes } of twiggyItems(file)) {
  let key;
  if (name.startsWith("data segment")) key = "data (constants, strings)";
  else {
    // Crate disambiguators ([0123abcd]) dropped, then the leading path segments.
    const path = name.replace(/\[[0-9a-f]+\]/g, "").replace(/^[<&(]+|^dyn /g, "").match(/^[a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*/);
    key = path ? path[0].split("::").slice(0, depth).join("::") : "other (glue shims, tables, unnamed)";
  }
  sum.set(key, (sum.get(key) ?? 0) + bytes);
}
const total = [...sum.values()].reduce((a, b) => a + b, 0);
let rest = 0;
for (const [key, bytes] of [...sum].sort((a, b) => b[1] - a[1])) {
  if (bytes >= min) console.log(`${String(bytes).padStart(8)}  ${key}`);
  else rest += bytes;
}
console.log(`${String(rest).padStart(8)}  (modules under ${min} B)`);
console.log(`${String(total).padStart(8)}  all code and data (names excluded)`);
