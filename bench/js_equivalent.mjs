// P3's hand-written JavaScript equivalent of the core's per-event work: validate, redact the
// default keys, UID + timestamp, hash chain (SHA-256 over the canonical array), the write
// statement and its serialised tx/commit body. Runs in Node and in the browser; `sha256hex` is
// the platform's (node:crypto, or crypto.subtle in a page, which is async only).
const STATEMENT_TEXT = null; // filled from the library's own body, so both send the same text
const REDACT = new Set(["password", "passwd", "pwd", "secret", "clientsecret", "token", "accesstoken",
  "refreshtoken", "idtoken", "authorization", "cookie", "setcookie", "apikey", "privatekey", "sessionid",
  "creditcard", "cardnumber", "cvv", "cvc", "ssn"]);
const norm = (k) => k.replace(/[_-]/g, "").toLowerCase();
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkName(what, v) {
  if (typeof v !== "string" || v.trim() === "") throw new Error(`invalid input: ${what} must be a non-empty string`);
  if (new TextEncoder().encode(v).length > 256) throw new Error(`invalid input: ${what} is too long`);
  if (CONTROL.test(v)) throw new Error(`invalid input: ${what} contains control characters`);
  return v;
}

/** Returns an event maker: make(user, actionType, category, details) -> the event object with its
 * chain fields, or a Promise of it when `sha256hex` is async. Throws on invalid input. */
export function makeEvents({ trail = "bench", maxDetailsBytes = 65536, sha256hex }) {
  // The library's stream id: `<uuid>.<tag>`, the tag (32 hex of SHA-256 over the domain, the
  // trail and the uuid) binding the stream to its trail (src/chain.rs trail_stream_id), so both
  // hash and send ids of the same length.
  const nonce = crypto.randomUUID();
  const tagged = (t) => `${nonce}.${t.slice(0, 32)}`;
  const tag = sha256hex(`neo4j-audit/stream/v1\u0000${trail}\u0000${nonce}`);
  let streamId = tag instanceof Promise ? null : tagged(tag);
  const idReady = tag instanceof Promise ? tag.then((t) => { streamId = tagged(t); }) : null;
  let seq = 0;
  let head = "0".repeat(64);
  const seal = (ev, hash) => {
    ev.hash = hash;
    head = hash;
    return ev;
  };
  return function make(user, actionType, category, details) {
    if (streamId === null) return idReady.then(() => make(user, actionType, category, details));
    const eventType = checkName("actionType", actionType);
    const eventCategory = checkName("category", category ?? "USER_ACTION");
    if (user != null && (typeof user.uid !== "string" || user.uid.trim() === "")) throw new Error("invalid input: user.uid");
    let d = null;
    if (details != null) {
      if (typeof details !== "object" || Array.isArray(details)) throw new Error("invalid input: details must be an object");
      const text = JSON.stringify(details, (k, v) => (k !== "" && REDACT.has(norm(k)) ? "[REDACTED]" : v));
      if (text !== "{}") d = text;
      if (d && d.length > maxDetailsBytes) throw new Error("invalid input: details too large");
    }
    const ev = {
      UID: crypto.randomUUID(), eventType, eventCategory, ts: Date.now(),
      userUID: user?.uid ?? null, userName: user?.name ?? null, details: d,
      streamId, seq: seq++, prevHash: head, hash: null,
    };
    const canonical = JSON.stringify(["neo4j-audit/chain/v1", ev.streamId, ev.seq, ev.UID, ev.eventType,
      ev.eventCategory, ev.ts, ev.userUID, ev.userName, ev.details]);
    const h = sha256hex(canonical + ev.prevHash);
    return h instanceof Promise ? h.then((x) => seal(ev, x)) : seal(ev, h);
  };
}

/** Returns a builder: build(user, actionType, category, details) -> body text (Promise if async hash). */
export function makeBuilder({ statement, trail = "bench", maxDetailsBytes = 65536, sha256hex }) {
  const make = makeEvents({ trail, maxDetailsBytes, sha256hex });
  // One trailUid per builder, as the library draws one per logger (and makeJsLogger below).
  const trailUid = crypto.randomUUID();
  const body = (ev) => JSON.stringify({ statements: [{ statement, parameters: { trail, trailUid, events: [ev] } }] });
  return function build(user, actionType, category, details) {
    const ev = make(user, actionType, category, details);
    return ev instanceof Promise ? ev.then(body) : body(ev);
  };
}

/**
 * P3 "full call": a hand-written JS logger doing what one `logUserAction` call does, to the HTTP
 * request and back: the event (above), a memory queue holding it until it is committed, group
 * commit (the first caller leads; up to `maxInFlight` requests at once of up to `maxEvents`
 * events, each formed from what gathered meanwhile), the tx/commit body, `fetch`, the answer read
 * (errors array, the written count checked), each call resolved with its batch's outcome
 * (true/false, never a throw). The library's defaults: up to 1000 events per request, 4 in flight.
 */
export function makeJsLogger({ url, statement, trail = "bench", sha256hex, fetch: send = globalThis.fetch, maxEvents = 1000, maxInFlight = 4, authorization }) {
  const make = makeEvents({ trail, sha256hex });
  const trailUid = crypto.randomUUID();
  const queue = new Map(); // UID -> event, until committed
  const pending = []; // { ev, done }
  let inFlight = 0;
  const headers = { "Content-Type": "application/json", Accept: "application/json", Authorization: authorization };
  const pump = () => {
    while (inFlight < maxInFlight && pending.length > 0) {
      const batch = pending.splice(0, maxEvents);
      inFlight++;
      const body = JSON.stringify({ statements: [{ statement, parameters: { trail, trailUid, events: batch.map((b) => b.ev) } }] });
      send(url, { method: "POST", headers, body })
        .then(async (res) => {
          const answer = await res.json();
          const written = answer.results?.[0]?.data?.[0]?.row?.[0];
          return res.ok && answer.errors.length === 0 && written === batch.length;
        })
        .catch(() => false)
        .then((ok) => {
          inFlight--;
          for (const b of batch) {
            if (ok) queue.delete(b.ev.UID);
            b.done(ok);
          }
          pump();
        });
    }
  };
  return async function logUserAction(user, actionType, category, details) {
    let ev;
    try {
      ev = make(user, actionType, category, details);
      if (ev instanceof Promise) ev = await ev;
    } catch {
      return false;
    }
    queue.set(ev.UID, ev);
    return new Promise((done) => {
      pending.push({ ev, done });
      pump();
    });
  };
}
export { STATEMENT_TEXT };
