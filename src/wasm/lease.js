// The lease of a hash-chain stream (src/wasm/stream.rs, module docs): a localStorage key per
// stream naming the page that continues it, by an id kept in this module only (a copied tab,
// whose sessionStorage is a copy of its opener's, gets another id). Host code instead of web-sys
// calls: smaller in the browser .wasm (bench/size fetch-writeonly).

const PREFIX = "neo4j-audit:lease:";
/** This page's id (set with the first lease) and the lease keys it holds. */
let page;
const held = [];

/**
 * Whether this page holds the lease of stream `id` now: taken when free or its own already.
 * `false` when another page holds it or the storage refuses (private mode, full, none).
 */
export function lease(id) {
  const key = PREFIX + id;
  if (held.includes(key)) return true;
  try {
    if (page === undefined) {
      // getRandomValues, not randomUUID: the latter exists only in secure contexts.
      page = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join("-");
      addEventListener("pagehide", release);
    }
    const holder = localStorage.getItem(key);
    if (holder !== null && holder !== page) return false;
    localStorage.setItem(key, page);
    held.push(key);
    return true;
  } catch {
    return false;
  }
}

/** On pagehide the page gives back the leases it still holds, unless it goes into the bfcache. */
function release(e) {
  if (e.persisted) return;
  for (const key of held.splice(0)) {
    try {
      if (localStorage.getItem(key) === page) localStorage.removeItem(key);
    } catch {}
  }
}
