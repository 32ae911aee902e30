// The lease of a hash-chain stream (src/wasm/stream.rs, module docs): a localStorage key per
// stream naming the page that continues it, by an id kept in this module only (a copied tab,
// whose sessionStorage is a copy of its opener's, gets another id). A lease given back keeps the
// head its holder left (`~<ms>~<head>`), so that only a page whose saved state has that head
// resumes the stream: a copied tab that makes its logger after its opener went away holds an
// older state, and resuming from it would give out again the seqs given out since (a fork).
// A lease given back also names a random token (`~<ms>~<head>~<token>`) that the giving page
// writes into its own sessionStorage only, at that pagehide: the same tab's next document (a
// reload, a navigation within the tab) has it, a copy made before then does not (one made after,
// before the tab's next logger used the token, has it too: README, "Two writers"). With the head
// alone, two copies of a tab that has gone (Duplicate tab twice, then the original closed; or tabs
// restored together) both held that head, and both resumed the stream when they made their
// loggers at once: localStorage is not atomic across renderer processes (each read its cached
// "given back" before the other's write reached it), and both gave out its next seq (redteam36).
// Host code instead of web-sys calls: smaller in the browser .wasm (bench/size fetch-writeonly).

const PREFIX = "neo4j-audit:lease:";
/** sessionStorage key prefix of the token a lease was given back with (by this tab). */
const TOKEN = "neo4j-audit:resume:";
/** How long a given-back lease keeps its head; older ones are removed by the next page's first lease. */
const KEEP_MS = 30 * 86400000;
/** This page's id (set with the first lease) and the lease keys it holds. */
let page;
const held = [];

/**
 * Whether this page holds the lease of stream `id` now: taken when free, given back with `head`
 * (the head of the state the page resumes from), or its own already. `false` when another page
 * holds it, when it was given back with another head, or when the storage refuses (private mode,
 * full, none).
 */
export function lease(id, head) {
  const key = PREFIX + id;
  if (held.includes(key)) return true;
  try {
    if (page === undefined) {
      // getRandomValues, not randomUUID: the latter exists only in secure contexts.
      page = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join("-");
      addEventListener("pagehide", release);
      sweep();
    }
    const holder = localStorage.getItem(key);
    const token = TOKEN + id;
    if (holder !== null && holder !== page && !(holder[0] === "~" && holder.slice(holder.indexOf("~", 1) + 1) === head + "~" + session(token))) {
      return false;
    }
    localStorage.setItem(key, page);
    held.push(key);
    // Used once: a copy of this tab made from now on has no token to resume with.
    try {
      sessionStorage.removeItem(token);
    } catch {}
    return true;
  } catch {
    return false;
  }
}

/** The tab's token under `key` (never a given-back lease's when there is none). */
function session(key) {
  try {
    return sessionStorage.getItem(key) ?? "\0";
  } catch {
    return "\0";
  }
}

/** Removes the given-back leases older than KEEP_MS. */
function sweep() {
  const now = Date.now();
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    const v = k?.startsWith(PREFIX) ? localStorage.getItem(k) : null;
    if (v?.[0] === "~" && !(now - parseInt(v.slice(1), 10) <= KEEP_MS)) localStorage.removeItem(k);
  }
}

/**
 * On pagehide the page gives back the leases it still holds, each with the head of the state this
 * page saved last for its stream (none saved: with no head, so no page resumes it) and a new
 * token, written into this tab's sessionStorage (refused there: no page resumes it), unless it
 * goes into the bfcache.
 */
function release(e) {
  if (e.persisted) return;
  const heads = new Map();
  for (const json of [...mine.values(), ...refused.values(), ...due.values()]) {
    try {
      const s = JSON.parse(json);
      heads.set(PREFIX + s.streamId, s.head);
    } catch {}
  }
  for (const key of held.splice(0)) {
    try {
      if (localStorage.getItem(key) !== page) continue;
      const token = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join("");
      try {
        sessionStorage.setItem(TOKEN + key.slice(PREFIX.length), token);
      } catch {}
      localStorage.setItem(key, "~" + Date.now() + "~" + (heads.get(key) ?? "") + "~" + token);
    } catch {}
  }
}

// The stream states (src/wasm/stream.rs): sessionStorage, written one microtask tick after the
// call that chained the event (the latest per key), and the states of this page, kept in memory.
/** States saved but not written yet, key -> JSON, the latest per key. */
const due = new Map();
/** States the storage refused (full), until a later one is written. */
const refused = new Map();
/** The state this page wrote last per key (`streamOwn`). */
const mine = new Map();

/** Whether this page has a sessionStorage it may use. */
export function hasSession() {
  try {
    return sessionStorage != null;
  } catch {
    return false;
  }
}

/** The state saved under `key`: due, refused (in memory), or stored; `undefined` if none. What a
 *  new logger resumes from (a reload, a copied tab: their lease decides). */
export function streamLoad(key) {
  let v = due.get(key) ?? refused.get(key);
  if (v === undefined) {
    try {
      v = sessionStorage.getItem(key) ?? undefined;
    } catch {}
  }
  return v;
}

/**
 * The state a logger goes on from at each event: due, refused, the one this page wrote last, or
 * (none written here) stored. Not the stored one over this page's own: a same-origin frame shares
 * the tab's sessionStorage, and a page that went on from the frame's state continued the frame's
 * stream without holding its lease, so that a copy of the tab, which the frame gave the stream
 * back to when it went away, continued it too (a fork).
 */
export function streamOwn(key) {
  return due.get(key) ?? refused.get(key) ?? mine.get(key) ?? streamLoad(key);
}

/** Saves `json` under `key`, written with the others due two microtask ticks later: after the
 *  microtasks queued in the same task as the save, among them the delivery machine's turn
 *  (src/wasm/driver.js `turn`), whose `fetch()` a lone call's request leaves by. Queued once,
 *  the write would run before that turn, and a lone call would pay `setItem` (tens of µs in
 *  Chromium, more on a loaded machine) before its request starts. Still in the same task. */
export function streamSave(key, json) {
  if (due.size === 0) queueMicrotask(() => queueMicrotask(write));
  due.set(key, json);
}

/** Removes the stored state of `key`. Never throws. */
export function streamForget(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {}
}

function write() {
  for (const [key, json] of due) {
    // A full or disabled storage only costs continuity after a reload: a state it refuses takes
    // the stale one with it, so a reload starts a new stream instead of giving out again the
    // seqs given out since (a fork). Until then, the tab's loggers share it in memory.
    refused.delete(key);
    mine.delete(key);
    try {
      sessionStorage.setItem(key, json);
      mine.set(key, json);
    } catch {
      streamForget(key);
      refused.set(key, json);
    }
  }
  due.clear();
}
