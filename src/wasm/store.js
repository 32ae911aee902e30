// The browser's durable queue for the JS driver (src/wasm/driver.js): records in IndexedDB
// (src/queue/idb.js), the pagehide keepalive send, the pagehide/online listeners and
// `navigator.onLine` (a failed send while offline is reported as such). The machine
// (src/machine.rs) decides what is stored, deleted and re-sent; this only does it.
//
// Calls, flushes and clears resolve only after the store writes issued before them finished
// (docs/sansio.md, difference 1): a failed call's event is stored before the call says false.

import { handle, put, del, delPrefix, commit, entries, settled } from "../queue/idb.js";
import { pageWindow, keepalive } from "../queue/keepalive.js";
import { Driver as Memory } from "./driver.js";

/** Whether a durable store exists here (IndexedDB). Firefox throws a SecurityError from the
 *  `indexedDB` getter itself where storage is denied (a third-party frame with cookies blocked):
 *  no store, as where there is none (it threw out of the constructor before). */
export function hasStore() {
  try {
    return !!globalThis.indexedDB;
  } catch {
    return false;
  }
}

export class Driver extends Memory {
  /** `store`: the queue's database name when records are kept in IndexedDB (else null);
   *  `listen`: the logger has a queue (pagehide/online, in a window). */
  constructor(input, store, ms, listen) {
    super(input, store, ms);
    this.h = store == null ? null : handle(store);
    // A write IndexedDB refused (the origin's quota spent, a storage error): its events are kept
    // in memory only, so they are lost if the page goes before they are delivered. Said once.
    if (this.h)
      this.h.failed = (e) => {
        this.h.failed = null;
        console.warn(`neo4j-audit: IndexedDB refused a write to queue "${store}" (${e}): its events are held in memory only until delivered, lost if the page goes first`);
      };
    this.loaded = null;
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
    // clearQueue() (sign-out) removes the stored records, but a logger of the same identity in
    // another tab (or on this page) keeps in memory what it already loaded and would still send
    // it: each clear is told to the loggers of this queue, and a logger of that scope clears too.
    // What a remote clear deletes again is not told again (no echo).
    if (this.h && globalThis.BroadcastChannel) {
      this.ch = new BroadcastChannel("neo4j-audit:" + store);
      this.ch.onmessage = (e) => {
        this.remote = true;
        try {
          this.input(this, 10, 0, 0, String(e.data));
        } finally {
          this.remote = false;
        }
      };
    }
  }

  resolve(ok, v) {
    if (this.h?.last) settled(this.h).then(() => ok(v));
    else ok(v);
  }

  offline() {
    return !!this.w && globalThis.navigator?.onLine === false;
  }

  keepalive(url, headers, body) {
    keepalive(url, headers, body);
  }

  put(key, record, ack) {
    const p = put(this.h, key, record);
    // A put refused because the database could not be opened (a sandboxed frame: open() throws
    // SecurityError; a failed or stuck opening) is said as a refused write is (once): nothing
    // else told the page that a false call's event was then held in memory only.
    p.catch((e) => this.h.failed?.(e));
    if (ack) p.then(() => this.input(this, 5, 0, 1, key), () => this.input(this, 5, 0, 0, key));
  }

  del(keys) {
    del(this.h, keys);
  }

  delPrefix(prefix) {
    delPrefix(this.h, prefix);
    if (!this.remote) this.ch?.postMessage(prefix);
  }

  /** One page of read `scan` (src/queue/idb.js `entries`): input 6 with the keys and values,
   *  status 1 when the page is full (the machine asks for the next). A failed read is an empty
   *  last page. The logger's first read (prefix "") ends with its last page: `whenLoaded`. */
  load(scan, prefix, after, count) {
    const first = prefix === "";
    if (first && !this.loaded) this.loaded = new Promise((ok) => (this.firstRead = ok));
    entries(this.h, prefix, after ?? null, count)
      .catch(() => [[], []])
      .then((r) => {
        const more = r[0].length === count;
        this.input(this, 6, scan, more ? 1 : 0, r[0], r[1]);
        if (first && !more) {
          this.firstRead?.();
          this.firstRead = undefined;
          this.loaded = null;
        }
      });
  }

  whenLoaded() {
    return this.loaded ?? Promise.resolve();
  }

  stop() {
    super.stop();
    this.ch?.close();
    this.ch = undefined;
    if (this.w) {
      this.w.removeEventListener("pagehide", this.hide);
      this.w.removeEventListener("online", this.online);
      this.w = undefined;
    }
  }
}
