// The promises of src/wasm/mod.rs `resolving`: each made here with one executor shared by all
// (no closure per call) and its resolve function kept in a slot the Rust side names; the outcome
// comes back as (slot, value). Through js-sys `Promise::new` a call cost a closure and its state
// made by the glue, a call back into wasm from the executor, the resolve and reject functions
// held in wasm's externref table, and a `resolve.call` wrapped in the glue's exception handler.

const resolvers = [];
let slot = 0;

function keep(resolve) {
  resolvers[slot] = resolve;
}

/** A new pending promise whose resolve function slot `k` keeps until `settle(k, …)`. */
export function promiseAt(k) {
  slot = k;
  return new Promise(keep);
}

/** Resolves the promise of slot `k` with `value` and empties the slot. Never throws. */
export function settle(k, value) {
  const resolve = resolvers[k];
  resolvers[k] = undefined;
  resolve(value);
}
