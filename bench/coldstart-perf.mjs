// Where a P5 cold start's CPU goes, by kind: reads the `perf record -g` profiles that
// bench/coldstart-v8.mjs leaves with P5_PERF=dir (one per start) and counts each sample once, in
// the first category that a frame of its stack matches, walking from the root (so the lazy
// compilation of a wasm function called from JS counts as compilation, not as JS running). Prints
// samples per start for two contenders and their difference; perf inflates every figure (about 2x
// at -F 20000), so use the shares, and bench/coldstart-v8.mjs's paired rounds for milliseconds.
//   P5_PERF=/tmp/perf node bench/coldstart-v8.mjs 5 baseline.js+default+none worker.js
//   node bench/coldstart-perf.mjs /tmp/perf baseline.js_default_none worker.js
// (the prefixes are the contender names with every character but [A-Za-z0-9.] made `_`).
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

// In order: the first that matches a frame (root first) names the sample.
const KINDS = [
  ["wasm: lazy compilation (Liftoff, first call of each function)", /WasmCompileLazy|wasm::CompileLazy/],
  ["wasm: module compiled at load (decode, validate)", /WasmModuleObject::Compile|WasmEngine::SyncCompile/],
  ["wasm: instantiation", /InstanceBuilder|WebAssemblyInstance/],
  ["JS: modules parsed and compiled at load", /ScriptCompiler::CompileModule/],
  ["JS: lazy compilation of functions", /Runtime_CompileLazy|Compiler::Compile\(/],
  ["capnp config (this tool's text config)", /capnp::compiler|capnp::SchemaLoader|capnp::_::BuilderArena/],
  ["TLS certificate store", /x509|OPENSSL|SSL_CTX|base64_decode/],
  ["dynamic linking", /_dl_relocate|dl_main|_dl_start/],
  ["V8 isolate and context set-up", /Genesis|Isolate::New|Deserializ/],
];
// Else, from the leaf: code running (its imports, API calls and microtasks included).
const RUNNING = [
  ["wasm running (and what it calls)", /JSToWasmWrapper/],
  ["JS running (API calls, microtasks)", /InterpreterEntryTrampoline|RunMicrotasks/],
];

function kinds(dir, prefix) {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith(".data"));
  const count = new Map();
  for (const f of files) {
    const text = execFileSync("perf", ["script", "-i", join(dir, f), "-F", "ip,sym"], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] }).toString();
    for (const sample of text.split(/\n\s*\n/)) {
      const frames = sample.split("\n").filter((l) => l.trim());
      if (!frames.length) continue;
      let kind = null;
      for (let i = frames.length - 1; i >= 0 && !kind; i--) kind = KINDS.find(([, re]) => re.test(frames[i]))?.[0];
      for (let i = 0; i < frames.length && !kind; i++) kind = RUNNING.find(([, re]) => re.test(frames[i]))?.[0];
      kind ??= "other (kernel page faults, workerd's own start-up, ...)";
      count.set(kind, (count.get(kind) ?? 0) + 1);
    }
  }
  return { n: files.length, count };
}

const [dir, a, b] = process.argv.slice(2);
if (!dir || !a || !b) throw new Error("usage: node bench/coldstart-perf.mjs <P5_PERF dir> <prefix A> <prefix B>");
const A = kinds(dir, a);
const B = kinds(dir, b);
const names = [...new Set([...KINDS.map(([k]) => k), ...RUNNING.map(([k]) => k), ...A.count.keys(), ...B.count.keys()])];
const per = (x, k) => (x.count.get(k) ?? 0) / x.n;
let total = 0;
console.log(`samples per start: ${a} (${A.n} starts), ${b} (${B.n} starts), difference`);
for (const k of names) {
  const d = per(B, k) - per(A, k);
  total += d;
  console.log(`${k.padEnd(66)} ${per(A, k).toFixed(1).padStart(7)} ${per(B, k).toFixed(1).padStart(7)} ${d.toFixed(1).padStart(7)}`);
}
console.log(`${"total".padEnd(82)} ${total.toFixed(1).padStart(7)}`);
