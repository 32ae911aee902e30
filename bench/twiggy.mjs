// The items of `twiggy top --format csv` (a .wasm that still has its name section): each item's
// symbol and shallow bytes, the name section's own subsections ("function names", "data names")
// left out. Shared by bench/crates.mjs (by crate, for bench/size) and bench/modules.mjs (by module).
import { readFileSync } from "node:fs";

export function twiggyItems(file) {
  const lines = readFileSync(file, "utf8").trim().split("\n");
  const header = lines.shift().split(",");
  const iName = header.indexOf("Name");
  const iSize = header.indexOf("ShallowSize");
  const items = [];
  for (const line of lines) {
    // Names may contain commas inside quotes; the size columns follow the name.
    const m = line.match(/^("(?:[^"]|"")*"|[^,]*),(.*)$/);
    const cols = [m[1].replace(/^"|"$/g, "").replace(/""/g, '"'), ...m[2].split(",")];
    const name = cols[iName];
    const bytes = Number(cols[iSize]);
    if (name.includes("function names") || name.includes("data names") || !Number.isFinite(bytes)) continue;
    items.push({ name, bytes });
  }
  return items;
}
