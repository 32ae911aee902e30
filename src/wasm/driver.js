// The JS driver of the delivery machine (src/machine.rs; docs/sansio.md step 3). The machine
// decides everything (batches, retries, backoff, the queue's records, dead letters); this only
// does the I/O it asks for and tells it what happened, through one function (`input`, a wasm
// closure the shell made: input(driver, kind, req, status, text, extra)):
//   1 answer (req, status, body, Retry-After)   2 failed (req, 1 = timeout | 0, reason)
//   3 timer   4 turn   5 stored (status 1 = ok, key)   6 loaded (keys, values)
//   7 online  8 pagehide
// The shell (src/wasm/mod.rs) calls the methods below, one per action, in the machine's order.
// Nothing here calls back into wasm synchronously: every input comes from a task or microtask.
//
// Calls, flushes and clears resolve only after the store writes issued before them finished
// (docs/sansio.md, difference 1): a failed call's event is stored before the call says false.

import { handle, put, del, delPrefix, commit, entries, settled } from "../queue/idb.js";
import { pageWindow } from "../queue/keepalive.js";
import { post } from "../transport/fetch.js";

/** Whether a durable store exists here (IndexedDB). */
export function hasStore() {
  return !!globalThis.indexedDB;
}

export class Driver {
  /** `input`: the machine's way in; `store`: the queue's database name when records are kept in
   *  IndexedDB (else null); `ms`: timeoutMs; `listen`: the logger has a queue (pagehide/online). */
  constructor(input, store, ms, listen) {
    this.input = input;
    this.h = store == null ? null : handle(store);
    this.ms = ms;
    this.waits = new Map();
    this.timer = undefined;
    this.loaded = null;
    this.onLoad = null;
    const w = listen ? pageWindow() : undefined;
    if (w) {
      this.w = w;
      this.hide = () => {
        this.input(this, 8, 0, 0);
        if (this.h) commit(this.h);
      };
      this.online = () => this.input(this, 7, 0, 0);
      w.addEventListener("pagehide", this.hide);
      w.addEventListener("online", this.online);
    }
  }

  /** A promise for call (or flush, clear) `id`, settled by `settle`; `last`: close()'s, after
   *  which the listeners go. */
  wait(id, last) {
    if (last) this.last = id;
    const p = new Promise((ok) => this.waits.set(id, ok));
    this.refs();
    return p;
  }

  /** Settles `id` with `v` once the store writes issued so far finished. */
  settle(id, v) {
    const ok = this.waits.get(id);
    if (!ok) return;
    this.waits.delete(id);
    if (this.h?.last) settled(this.h).then(() => ok(v));
    else ok(v);
    if (id === this.last) this.stop();
    this.refs();
  }

  send(req, url, headers, body) {
    post(url, headers, body, this.ms).then(
      (a) => this.input(this, 1, req, a[0], a[2], a[1] ?? undefined),
      (e) => this.input(this, 2, req, e === null ? 1 : 0, e ?? ""),
    );
  }

  keepalive(url, headers, body) {
    try {
      post(url, headers, body, this.ms, true).catch(() => {});
    } catch {}
  }

  put(key, record, ack) {
    const p = put(this.h, key, record);
    if (ack) p.then(() => this.input(this, 5, 0, 1, key), () => this.input(this, 5, 0, 0, key));
  }

  del(keys) {
    del(this.h, keys);
  }

  delPrefix(prefix) {
    delPrefix(this.h, prefix);
  }

  load() {
    this.loaded = entries(this.h, "").then(
      (r) => r,
      () => [[], []],
    ).then((r) => {
      this.input(this, 6, 0, 0, r[0], r[1]);
      this.loaded = true;
    });
  }

  /** Resolves once the store's records were read (at once without a store). */
  whenLoaded() {
    return this.loaded === null || this.loaded === true ? Promise.resolve() : this.loaded;
  }

  /** The one timer: `at` ms since the epoch, or -1 for none. */
  timeout(at) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (at < 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.input(this, 3, 0, 0);
    }, Math.max(0, at - Date.now()));
    this.refs();
  }

  turn() {
    queueMicrotask(() => this.input(this, 4, 0, 0));
  }

  /** In Node, the timer keeps the process alive only while a call, flush or clear waits: a
   *  script that is done can exit while the queue's background re-sends still wait. */
  refs() {
    const t = this.timer;
    if (t && typeof t === "object" && t.unref) this.waits.size ? t.ref() : t.unref();
  }

  /** Stops listening for pagehide and online (close). */
  stop() {
    if (this.w) {
      this.w.removeEventListener("pagehide", this.hide);
      this.w.removeEventListener("online", this.online);
      this.w = undefined;
    }
  }
}
