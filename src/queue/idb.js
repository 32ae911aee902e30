// The durable queue's IndexedDB I/O (the JS driver src/wasm/store.js calls it; the policy is the
// delivery machine's, src/machine.rs): one database per queue name, version 1, one object store "events" of string
// values under string keys. The same database, store and record shape as the web-sys version it
// replaces, so records an earlier version left are read and re-sent.
//
// Writes are grouped: a write goes into the queue's current read-write transaction while that
// still accepts requests (until control returns to the event loop), else into a new one, so the
// writes of one task share one transaction. Writes issued before the database is open wait in one
// list and go out in order once it is. Requests run in issue order: within a transaction by the
// spec, across transactions because read-write transactions on one store run in creation order.
//
// Once issued, nothing here refers to a write or its text (IndexedDB keeps its own serialized
// copy), and a write makes no promise of its own: it answers with the promise of its batch (its
// transaction, or the writes waiting for the opening), one object shared by every write of that
// batch. That matters while a large transaction commits (100 000 puts take seconds) and thousands
// of events wait: a promise chain per write, whose closures kept the write's key and text alive
// until the commit, cost about 900 bytes of the page's JS heap per waiting event
// (bench/memory_chromium.mjs). Batches settle with their outcome and reject with the host's text
// of a failure (`QuotaExceededError: ...`); nothing here throws.
//
// A failed request aborts its whole transaction: when the origin's quota is nearly spent, one
// large record refused for it also undid the small records of its batch, which fit (with Neo4j
// down their queued-delivery calls then said false, and a reload lost them). So a record larger than `ALONE`
// goes into a transaction of its own (and the writes after it into the next one), and fails alone.

const STORE = "events";
let made = 0;

/** Records larger than this (UTF-16 units) are written in a transaction of their own. An event of
 *  a few KB, the usual size, shares its task's transaction. */
const ALONE = 16384;

/** A queue handle (the database opens on first use), or null where there is no IndexedDB. */
export function handle(name) {
  return globalThis.indexedDB
    ? { name, db: null, opening: null, early: null, store: null, done: null, last: null, stuck: false, failed: null }
    : null;
}

const text = (e) => String(e);

const range = (prefix) => IDBKeyRange.bound(prefix, prefix + "\uffff");

/** How long an opening may wait (ms) before the queue goes on without the store (what a failed
 *  opening does): an open request waits, with no event, behind a `deleteDatabase()` that another
 *  page's (or library's) connection blocks. Until that request ends, later openings fail at once
 *  (not another wait each); if it then succeeds, its connection becomes the queue's. */
const OPEN_MS = 5000;

// The database, opened (and made, version 1) by the first caller; a failed opening is tried again
// by the next. The connection is closed when another page (or the app, at sign-out) deletes or
// upgrades the database (`versionchange`) or the browser closes it (site data cleared), and the
// next write opens (makes) it again: held open, it blocked that `deleteDatabase()` for as long as
// the page lived, and every later opening of the queue waited behind it, so the next logger's
// flush(), clearQueue() and deadLetters() never answered and, with `delivery: "queued"`, its
// events were never sent (redteam36).
function open(h) {
  if (h.opening) return h.opening;
  if (h.stuck) return Promise.reject("still opening");
  const p = (h.opening = new Promise((ok, bad) => {
    const r = indexedDB.open(h.name, 1);
    const late = setTimeout(() => {
      h.stuck = true;
      bad("timed out");
    }, OPEN_MS);
    const end = () => {
      clearTimeout(late);
      h.stuck = false;
    };
    r.onupgradeneeded = () => {
      if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
    };
    r.onsuccess = () => {
      end();
      const db = r.result;
      db.onversionchange = db.onclose = () => {
        db.close();
        if (h.db === db) h.db = h.opening = h.store = null;
      };
      if (h.opening === p) return ok(db);
      // Given up on (timed out): the queue's connection from now on, unless it has another.
      if (h.db || h.opening || h.early) db.close();
      else h.db = db;
    };
    r.onerror = () => (end(), bad(text(r.error)));
    r.onblocked = () => (end(), bad("blocked"));
  }).then(
    (db) => (h.db = db),
    (e) => {
      if (h.opening === p) h.opening = null;
      throw text(e);
    },
  ));
  return p;
}

// Issues a write in the current read-write transaction or a new one (one of its own for a large
// record, `f.alone`); that transaction's outcome. A failed transaction is told to `h.failed`.
// Throws when no transaction could be made (the database closed).
function write(h, f) {
  if (h.store && !f.alone) {
    try {
      f(h.store);
      return h.done;
    } catch {
      // TransactionInactiveError: it no longer takes requests.
    }
  }
  h.store = null;
  const tx = h.db.transaction(STORE, "readwrite");
  made++;
  const done = new Promise((ok, bad) => {
    // A finished transaction's store takes no more requests: let it go.
    const end = () => h.store === store && (h.store = null);
    tx.oncomplete = () => (end(), ok());
    tx.onerror = tx.onabort = (ev) => {
      end();
      const e = text(tx.error ?? "abort");
      // Told once, at the abort (a failed request's error comes first, without the reason).
      if (ev.type === "abort") h.failed?.(e);
      bad(e);
    };
  });
  done.catch(() => {});
  const store = tx.objectStore(STORE);
  h.store = f.alone ? null : store;
  h.done = done;
  f(store);
  return done;
}

// The writes issued before the database is open: one list of them, in order, and their promise,
// settled with the outcome of the transaction the last of them went into (the first failure
// otherwise). The list is let go once issued.
function early(h) {
  const list = [];
  const p = open(h).then(
    () => {
      h.early = null;
      let failed = null, last;
      for (const f of list) {
        try {
          last = write(h, f);
        } catch (e) {
          failed ??= text(e);
        }
      }
      list.length = 0;
      if (failed !== null) throw failed;
      return last;
    },
    (e) => {
      h.early = null;
      throw e;
    },
  );
  p.catch(() => {});
  h.early = { list, p };
  return h.early;
}

// Issues a write now when the database is open, else once it is (in issue order); the promise of
// its batch.
function issue(h, f) {
  let p;
  if (h.db && !h.early) {
    try {
      p = write(h, f);
    } catch (e) {
      p = Promise.reject(text(e));
      p.catch(() => {});
    }
  } else {
    const e = h.early ?? early(h);
    e.list.push(f);
    p = e.p;
  }
  return (h.last = p);
}

/** Stores `value` under `key`; the promise of its batch (see `issue`). */
export function put(h, key, value) {
  const f = (s) => s.put(value, key);
  if (value.length > ALONE) f.alone = true;
  return issue(h, f);
}

// Tests only (src/queue/idb.rs fail_deletes_for_tests): while set, every delete fails at once.
let failDel = false;

/** Tests only: makes every delete fail (as a storage error would) while `on`. */
export function failDeletes(on) {
  failDel = on;
}

function failed() {
  const p = Promise.reject("deletes fail (test hook)");
  p.catch(() => {});
  return p;
}

/** Deletes the records under `keys` (an array); the promise of its batch. */
export function del(h, keys) {
  if (failDel) return failed();
  return issue(h, (s) => {
    for (const k of keys) s.delete(k);
  });
}

/** Deletes every record whose key starts with `prefix`; the promise of its batch. */
export function delPrefix(h, prefix) {
  if (failDel) return failed();
  return issue(h, (s) => s.delete(range(prefix)));
}

/** Commits the current read-write transaction now, if any (where the host has `commit()`); later
 *  writes go into a new one. */
export function commit(h) {
  const s = h.store;
  h.store = null;
  try {
    s?.transaction.commit?.();
  } catch {
    // Finished already.
  }
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
 * At most `count` records whose keys start with `prefix` (`""`: all) and come after `after`
 * (`null`: from the first), keys ordered, read in one transaction: resolves `[keys, values]`.
 * The queue's reads go page by page (src/machine.rs `Machine::page`): a store of any size is
 * never read whole into memory.
 */
export function entries(h, prefix, after, count) {
  return open(h).then(
    (db) =>
      new Promise((ok, bad) => {
        const tx = db.transaction(STORE, "readonly");
        const s = tx.objectStore(STORE);
        const r = after == null ? range(prefix) : IDBKeyRange.bound(after, prefix + "\uffff", true, false);
        const keys = s.getAllKeys(r, count);
        const values = s.getAll(r, count);
        tx.oncomplete = () => ok([keys.result, values.result]);
        tx.onerror = tx.onabort = () => bad(text(tx.error ?? "abort"));
      }),
  ).catch((e) => Promise.reject(text(e)));
}

/** How many read-write transactions writes opened so far (the tests' count). */
export function transactions() {
  return made;
}
