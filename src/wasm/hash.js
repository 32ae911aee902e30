// SHA-256 by the host, where it has a synchronous one: Node's crypto.hash (Node >= 20.12), reached
// through process.getBuiltinModule (Node >= 20.16) so that this module imports nothing a browser
// or bundler would have to resolve. For src/chain.rs `host::sha256_hex`; elsewhere the wasm's own.
// Not in the Workers builds (src/chain.rs `host`): workerd under nodejs_compat has
// process.getBuiltinModule too, and loading its node:crypto here cost a cold start ~7 ms of CPU.
// Measured 2026-11-30 (node --cpu-prof over bench/cpu_full.mjs's loop): sha2's compression was
// 16.6 % of a logUserAction's samples in Node, this call 9.5 % (crypto.hash ~0.4 us for an
// event's ~420 bytes). With the rest of that change (src/wasm/driver.js settleAll and its waits
// window), `node bench/cpu_full_ab.mjs 20000 21 <main> <this>`: 0.903 (95 % CI 0.874-0.928) of
// main's CPU per call, the synchronous part 0.845 (0.829-0.859); write entry +704 B gz.
let hash;
try {
  const c = globalThis.process?.getBuiltinModule?.("node:crypto");
  if (typeof c?.hash === "function" && c.hash("sha256", "abc", "hex") === "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") hash = c.hash;
} catch { /* none */ }
const encoder = new TextEncoder();

/** Whether sha256Hex hashes here. */
export function hostHash() {
  return hash !== undefined;
}

/** SHA-256 of `data` (a view of wasm memory, at least 64 bytes) as 64 lowercase hex digits,
 *  written over its first 64 bytes (left as it was if the host failed: the wasm then hashes
 *  itself). Never throws. */
export function sha256Hex(data) {
  try { encoder.encodeInto(hash("sha256", data, "hex"), data); } catch { /* the wasm's own */ }
}
