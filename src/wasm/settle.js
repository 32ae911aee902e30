// The promises of src/wasm/mod.rs `resolving`: each made here with one executor shared by all
// (no closure per call) and its resolve function kept in a slot the Rust side names; the outcome
// comes back as (slot, value). Through js-sys `Promise::new` a call cost a closure and its state
// made by the glue, a call back into wasm from the executor, the resolve and reject functions
// held in wasm's externref table, and a `resolve.call` wrapped in the glue's exception handler.
// Also the read methods' one other host call: their options' members (src/wasm/read.rs `options`).

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

/** The own enumerable members of an options object as [key, value, key, value, ...], each read
 *  once; `null` for an array; `false` for a Promise (any thenable); what was thrown, as a string, when it cannot be read (a revoked
 *  Proxy, a throwing `ownKeys` trap or getter: refused, not read as an option left out). Never
 *  throws. */
export function optionMembers(v) {
  try {
    if (Array.isArray(v)) return null;
    // A Promise (a query from an async helper, passed without `await`): read as {}, it was the
    // unfiltered first page.
    if (typeof v.then === "function") return false;
    const out = [];
    for (const k of Object.keys(v)) out.push(k, v[k]);
    return out;
  } catch (e) {
    // What was thrown, as a string (cut to 200 characters; "" when it cannot be printed).
    try { return String(e && e.message !== undefined ? e.message : e).slice(0, 200); } catch { return ""; }
  }
}

/** A Date's time in ms (`Date.prototype.getTime` on `v`, a Date of another realm too), Infinity
 *  for an Invalid Date (its time is NaN), NaN for anything else. Never throws: `v.getTime()` threw
 *  out of the read methods for a Proxy of a Date ("this is not a Date object") or a Date whose own
 *  getTime throws. */
export function dateTime(v) {
  try { const t = Date.prototype.getTime.call(v); return t === t ? t : Infinity; } catch { return NaN; }
}

/** A promise resolved after `ms` milliseconds. */
export function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether every promise of `ps` (none rejects) settles within `ms` (-1: no bound: then always
 *  `true`, once they have). The timer is cleared as soon as they have: it keeps no process alive. */
export function within(ps, ms) {
  const all = Promise.all(ps).then(() => true);
  if (ms < 0) return all;
  let t;
  return Promise.race([all, new Promise((r) => (t = setTimeout(r, ms, false)))]).finally(() => clearTimeout(t));
}
