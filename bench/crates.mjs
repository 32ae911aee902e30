// Top contributors of a .wasm by crate: `twiggy top --format csv` of a build that still has its
// name section, each item's shallow bytes summed under the crate its symbol names (generic
// instances under the crate that defines the function; data segments as "data"; the name
// section itself left out). Prints one JSON line per crate for bench/size.
//   node bench/crates.mjs <twiggy.csv> <variant>
import { twiggyItems } from "./twiggy.mjs";

const [file, variant] = process.argv.slice(2);
const sum = new Map();
for (const { name, bytes } of twiggyItems(file)) {
  let crate;
  if (name.startsWith("data segment")) crate = "data (constants, strings)";
  else {
    const c = name.replace(/^[<&(]+|^dyn /g, "").match(/^([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
    crate = c ? c[1] : "other (glue shims, tables, unnamed)";
    if (crate === "neo4j_audit") crate = "neo4j_audit (this crate)";
  }
  sum.set(crate, (sum.get(crate) ?? 0) + bytes);
}
const total = [...sum.values()].reduce((a, b) => a + b, 0);
for (const [crate, bytes] of [...sum].sort((a, b) => b[1] - a[1])) {
  console.log(JSON.stringify({ figure: "P4", transport: variant, stage: "crates", crate, bytes, total }));
}
