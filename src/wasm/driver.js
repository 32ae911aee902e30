// The JS driver of the delivery machine (src/machine.rs; docs/sansio.md step 3). The machine
// decides everything (batches, retries, backoff, the queue's records, dead letters); this only
// does the I/O it asks for and tells it what happened, through one function (`input`, a wasm
// closure the shell made: input(driver, kind, req, status, text, extra)):
//   1 answer (req, status, body, the answer: [status, Retry-After, body, origin redirected to])   2 failed (req, 1 = timeout | 2 = offline | 0, reason)
//   3 timer   4 turn   5 stored (status 1 = ok, key)   6 loaded (req: the read, status 1 = more pages, keys, values)
//   7 online  8 pagehide  (9: not an input; deadLetters() asks the shell for the dead letters)
//   10 cleared (key prefix: another logger's clearQueue(), src/wasm/store.js)
//   11 tick (call: a waiting call's, from its own Worker request, src/wasm/workerd.js)
// The shell (src/wasm/mod.rs) calls the methods below, one per action, in the machine's order.
// Nothing here calls back into wasm synchronously: every input comes from a task or microtask.
//
// This class is the whole driver where events are kept in memory only (Node, and the Workers
// build, whose glue must carry no IndexedDB or keepalive code); src/wasm/store.js extends it with
// the browser's durable queue.

import { post } from "../transport/fetch.js";

// wait()'s promise executor and what it files the resolve function under.
let waiting, waitId;
function keep(ok) {
  waiting.keep(waitId, ok);
}

export class Driver {
  /** `input`: the machine's way in; `ms`: timeoutMs. */
  constructor(input, _store, ms) {
    this.input = input;
    this.ms = ms;
    // The resolve functions of the waiting calls (ids rise by one per call, flush and clear):
    // call `id`'s at `waits[id - base]`, a window from the oldest that waited when it began (an
    // array: a Map's set and delete per call cost 4 % of a logUserAction's CPU in Node), and
    // those that waited when the window grew sparse, in `far`. `count`: how many wait.
    this.waits = [];
    this.base = 0;
    this.far = null;
    this.count = 0;
    this.timer = undefined;
    /** The requests out: req -> its AbortController. */
    this.out = new Map();
  }

  /** A promise for call (or flush, clear) `id`, settled by `settle`; `how`: 1 close()'s, after
   *  which the listeners go; 2 none (a flush nothing waits for: its timer keeps Node alive no
   *  more than a background re-send's). */
  wait(id, how) {
    if (how > 1) return;
    if (how) this.last = id;
    // One executor for every call (no closure made per call).
    waiting = this;
    waitId = id;
    const p = new Promise(keep);
    this.refs();
    return p;
  }

  keep(id, ok) {
    if (this.count++ === 0) {
      this.waits.length = 0;
      this.base = id;
    }
    const w = this.waits;
    w[id - this.base] = ok;
    // Mostly settled (a call that waits long among many that did not): the waiting ones move to
    // `far`, and the window starts again after `id`.
    if (w.length > 4096 && w.length > 4 * this.count) {
      this.far ??= new Map();
      for (let k = 0; k < w.length; k++) if (w[k]) this.far.set(this.base + k, w[k]);
      w.length = 0;
      this.base = id + 1;
    }
  }

  /** Settles `id` with `v`. */
  settle(id, v) {
    const k = id - this.base;
    let ok;
    if (k >= 0 && k < this.waits.length) {
      ok = this.waits[k];
      this.waits[k] = undefined;
    } else if (this.far) {
      ok = this.far.get(id);
      this.far.delete(id);
    }
    if (!ok) return;
    this.count--;
    this.resolve(ok, v);
    if (id === this.last) this.stop();
    this.refs();
  }

  /** Settles each of `ids` (a view of wasm memory, read here before anything runs in wasm) with
   *  the boolean `v`, in order. */
  settleAll(ids, v) {
    for (let i = 0; i < ids.length; i++) this.settle(ids[i], v);
  }

  resolve(ok, v) {
    ok(v);
  }

  /** A request, reported unless `stop` cancelled it first (then it is not reported at all). */
  send(req, url, headers, body) {
    const abort = new AbortController();
    this.out.set(req, abort);
    post(url, headers, body, this.ms, abort).then(
      // `extra`: the answer itself, whose Retry-After and redirect origin the shell reads (src/wasm/drive.rs).
      (a) => this.out.delete(req) && this.input(this, 1, req, a[0], a[2], a),
      // offline(): the host says it is offline (browsers only: src/wasm/store.js).
      (e) => this.out.delete(req) && this.input(this, 2, req, e === null ? 1 : this.offline?.() ? 2 : 0, e ?? ""),
    );
  }

  /** Resolves once the store's records were read (at once without a store). */
  whenLoaded() {
    return Promise.resolve();
  }

  /** deadLetters(): once the store's records were read, the dead letters (the shell hands their
   *  JSON text to `letters` when asked with kind 9), parsed. Never rejects. */
  deadLetters() {
    return this.whenLoaded().then(() => {
      try {
        this.input(this, 9, 0, 0);
        return JSON.parse(this.text);
      } catch {
        return [];
      } finally {
        this.text = undefined;
      }
    });
  }

  letters(text) {
    this.text = text;
  }

  /** The one timer: due in `ms` (the machine's clock is monotonic, not Date.now), or -1 for none. */
  timeout(ms) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (ms < 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.input(this, 3, 0, 0);
    }, ms);
    this.refs();
  }

  turn() {
    queueMicrotask(() => this.input(this, 4, 0, 0));
  }

  /** In Node, the timer keeps the process alive only while a call, flush or clear waits: a
   *  script that is done can exit while the queue's background re-sends still wait. */
  refs() {
    const t = this.timer;
    if (t && typeof t === "object" && t.unref) this.count ? t.ref() : t.unref();
  }

  /** close() answered: the machine is idle, so every request still out is one that
   *  close(timeoutMs)'s bound gave up on. Each is cancelled and its answer never reported: in
   *  Node its socket and its timeout no longer keep the process alive. */
  stop() {
    for (const a of this.out.values()) a.abort();
    this.out.clear();
  }
}
