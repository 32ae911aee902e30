// The JS driver of the Workers build (`memory-queue`, the "workerd" condition of "neo4j-audit"):
// src/wasm/driver.js's, with one more rule. workerd ties each `fetch` and timer to the Worker
// request whose code started it, and cancels them once that request has answered. A logger kept
// in module scope serves many requests, so the driver's one timer may belong to a request that
// has answered, and so may a re-send that carries another request's event. The machine sends each
// call's batch in the call's own turn, and a batch waiting out a backoff is sent again only by a
// tick of one of its own calls (Machine::send_each_call_at_once): here each waiting call ticks
// the machine from its own request while it waits. A tick also reports as timed out a request
// whose own timeout was cancelled with the Worker request that sent it (re-sent as any timeout).

import { Driver as Memory } from "./driver.js";

/** How often a waiting call ticks (ms): the latest a re-send starts after it is due. */
const TICK_MS = 100;

export class Driver extends Memory {
  wait(id, how) {
    const p = super.wait(id, how);
    if (p) {
      const tick = setInterval(() => {
        try {
          this.expire();
          this.input(this, 11, id, 0);
        } catch {
          clearInterval(tick); // the logger was freed
        }
      }, TICK_MS);
      p.then(() => clearInterval(tick));
    }
    return p;
  }

  send(req, url, headers, body) {
    super.send(req, url, headers, body);
    (this.sent ??= new Map()).set(req, Date.now());
  }

  /** Reports as timed out each request out longer than its timeout (and a tick). */
  expire() {
    if (!this.sent) return;
    const now = Date.now();
    for (const [req, at] of this.sent) {
      if (!this.out.has(req)) this.sent.delete(req);
      else if (now - at > this.ms + TICK_MS) {
        this.sent.delete(req);
        try {
          this.out.get(req).abort();
        } catch {}
        this.out.delete(req);
        this.input(this, 2, req, 1, "");
      }
    }
  }
}
