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

// The tab's stream states (src/wasm/stream.rs, module docs): `sessionStorage`, read and written
// here (host code: smaller in the browser .wasm than web-sys calls, thread-locals and a spawned
// task). States saved in one task are written once, the latest per key, after two microtask
// ticks (the call's own request goes out on the first: the machine's first turn); until then a
// logger made meanwhile reads the due state. States the storage refused (full) are held here,
// the latest per key, until a later one is written.
const due = new Map();
const refused = new Map();

/** Whether the page has a `sessionStorage` (access may throw: sandboxed frames, settings). */
export function hasSession() {
  try {
    return !!sessionStorage;
  } catch {
    return false;
  }
}

/** The state saved for `key`: due, refused (held), or stored; `undefined` for none. Never throws. */
export function streamLoad(key) {
  const v = due.get(key) ?? refused.get(key);
  if (v !== undefined) return v;
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Saves `json` under `key` (written two microtask ticks later). */
export function streamSave(key, json) {
  const first = due.size === 0;
  due.set(key, json);
  if (first) queueMicrotask(() => queueMicrotask(writeDue));
}

function writeDue() {
  for (const [key, json] of due) {
    // A full or disabled storage only costs continuity after a reload: a state it refuses takes
    // the stale one with it, so a reload starts a new stream instead of giving out again the
    // seqs given out since (a fork). Until then, the tab's loggers share it here.
    try {
      sessionStorage.setItem(key, json);
      refused.delete(key);
    } catch {
      streamForget(key);
      refused.set(key, json);
    }
  }
  due.clear();
}

/** Removes the state stored under `key`. Never throws. */
export function streamForget(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {}
}
