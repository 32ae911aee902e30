// Empties the function-table slots of wasm-bindgen closure shims that nothing can call, in a .wasm
// that wasm-bindgen just wrote (with its name section), before wasm-opt. Every import of js-sys /
// web-sys that takes a closure has a descriptor function taking the address of its closure shim
// (`wasm_bindgen::convert::closures::_::invoke::<...>`), which puts the shim in the table; the
// wasm-bindgen CLI runs and removes the descriptors and calls the shims the glue needs through
// exports of their own, but the table entries stay, and with them each shim and the conversions
// it calls (typed arrays and the like for closure types this package never makes). Rust code never
// calls a shim through the table (only the glue calls one, through its export), so each such slot
// gets one function that traps instead, and wasm-opt then drops the shims no export keeps.
// The output has no name section (wasm-opt, which runs next, drops it anyway) and no `producers`
// section (toolchain versions; bench/size's bare builds never had it).
//   node scripts/drop-closure-slots.mjs <in.wasm> [<out.wasm>]   (out defaults to in)
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";
import { reader } from "./wasm-bytes.mjs";

const [input, output = input] = process.argv.slice(2);
const m = binaryen.readBinary(readFileSync(input));
const F = binaryen.Features;
// The features of scripts/wasm-release-env's WASM_OPT_COMMON.
m.setFeatures(F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals | F.Multivalue | F.ReferenceTypes);
const SHIM = /^wasm_bindgen(\[[0-9a-f]+\])?::convert::closures::_::invoke::</;
const TRAP = "dropped_closure_slot";
const segments = [];
for (let i = 0; i < m.getNumElementSegments(); i++) segments.push(binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i)));
let dropped = 0;
for (const s of segments) {
  if (!s.data.some((f) => SHIM.test(f))) continue;
  const offset = binaryen.getExpressionInfo(s.offset);
  if (offset.id !== binaryen.ConstId) throw new Error(`drop-closure-slots: ${input}: element segment ${s.name} has no constant offset`);
  if (!m.getFunction(TRAP)) m.addFunction(TRAP, binaryen.none, binaryen.none, [], m.unreachable());
  const data = s.data.map((f) => (SHIM.test(f) ? (dropped++, TRAP) : f));
  m.removeElementSegment(s.name);
  m.addActiveElementSegment(s.table, s.name, data, m.i32.const(offset.value));
}
if (!m.validate()) throw new Error(`drop-closure-slots: ${input}: invalid module after the rewrite`);
writeFileSync(output, withoutCustom(m.emitBinary(), "producers"));
console.error(`drop-closure-slots: ${input}: ${dropped} closure shim slots emptied`);

// `wasm` without its custom sections called `name`.
function withoutCustom(wasm, name) {
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at];
    const sizeReader = reader(wasm.subarray(at + 1));
    const size = sizeReader.u32();
    const body = at + 1 + sizeReader.at;
    at = body + size;
    if (id === 0 && reader(wasm.subarray(body, at)).name() === name) continue;
    parts.push(wasm.subarray(start, at));
  }
  return Buffer.concat(parts);
}
