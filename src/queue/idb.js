// The durable queue's IndexedDB I/O (src/queue/idb.rs binds it; the policy stays in
// src/queue/mod.rs): one database per queue name, version 1, one object store "events" of string
// values under string keys. The same database, store and record shape as the web-sys version it
// replaces, so records an earlier version left are read and re-sent.
//
// Writes are grouped: a write goes into the queue's current read-write transaction while that
// still accepts requests (until control returns to the event loop), else into a new one, so the
// writes of one task share one transaction. Requests run in issue order: within a transaction by
// the spec, across transactions because read-write transactions on one store run in creation
// order. Every function here answers with a promise or a plain value and never throws: a failure
// rejects with the host's text of it (`QuotaExceededError: ...`).

const STORE = "events";
let made = 0;

/** A queue handle (the database opens on first use), or null where there is no IndexedDB. */
export function handle(name) {
  return globalThis.indexedDB ? { name, db: null, opening: null, tx: null, done: null, last: null } : null;
}

const text = (e) => String(e);

// The database, opened (and made, version 1) by the first caller; a failed opening is tried again
// by the next. `h.db` is set by the first reaction to the opening, so the writes that waited for it
// (reactions registered later) go out before any write issued once it is set.
function open(h) {
  return (h.opening ??= new Promise((ok, bad) => {
    const r = indexedDB.open(h.name, 1);
    r.onupgradeneeded = () => {
      if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
    };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(text(r.error));
    r.onblocked = () => bad("blocked");
  }).then(
    (db) => (h.db = db),
    (e) => {
      h.opening = null;
      throw text(e);
    },
  ));
}

// `f(store)` issued in the current read-write transaction or a new one; that transaction's
// outcome.
function write(h, f) {
  if (h.tx) {
    try {
      f(h.store);
      return h.done;
    } catch {
      // TransactionInactiveError: it no longer takes requests.
    }
  }
  const tx = h.db.transaction(STORE, "readwrite");
  made++;
  h.tx = tx;
  h.store = tx.objectStore(STORE);
  h.done = new Promise((ok, bad) => {
    tx.oncomplete = () => ok();
    tx.onerror = tx.onabort = () => bad(text(tx.error ?? "abort"));
  });
  h.done.catch(() => {});
  f(h.store);
  return h.done;
}

// Issues `f` now when the database is open, else once it is (writes issued before then go out in
// order, together); the outcome of the transaction it went into.
function issue(h, f) {
  let p;
  try {
    p = h.db ? write(h, f) : open(h).then(() => write(h, f));
  } catch (e) {
    p = Promise.reject(text(e));
  }
  p.catch(() => {});
  return (h.last = p);
}

/** Stores `value` under `key`; resolves once its transaction committed. */
export function put(h, key, value) {
  return issue(h, (s) => s.put(value, key));
}

/** Deletes the records under `keys` (an array); resolves once done. */
export function del(h, keys) {
  return issue(h, (s) => {
    for (const k of keys) s.delete(k);
  });
}

const range = (prefix) => IDBKeyRange.bound(prefix, prefix + "\uffff");

/** Deletes every record whose key starts with `prefix`; resolves once done. */
export function delPrefix(h, prefix) {
  return issue(h, (s) => s.delete(range(prefix)));
}

/** Resolves once every write issued so far finished (committed or failed). */
export async function settled(h) {
  for (;;) {
    const p = h.last;
    if (!p) return;
    await p.catch(() => {});
    if (p === h.last) return;
  }
}

/**
 * Every record whose key starts with `prefix` (`""`: all), keys ordered, read in one transaction:
 * resolves `[keys, values]`.
 */
export function entries(h, prefix) {
  return open(h).then(
    (db) =>
      new Promise((ok, bad) => {
        const tx = db.transaction(STORE, "readonly");
        const s = tx.objectStore(STORE);
        const r = range(prefix);
        const keys = s.getAllKeys(r);
        const values = s.getAll(r);
        tx.oncomplete = () => ok([keys.result, values.result]);
        tx.onerror = tx.onabort = () => bad(text(tx.error ?? "abort"));
      }),
  ).catch((e) => Promise.reject(text(e)));
}

/** How many read-write transactions writes opened so far (the tests' count). */
export function transactions() {
  return made;
}
