// P3's hand-written JavaScript equivalent of the core's per-event work: validate, redact the
// default keys, UID + timestamp, hash chain (SHA-256 over the canonical array), the write
// statement and its serialised tx/commit body. Runs in Node and in the browser; `sha256hex` is
// the platform's (node:crypto, or crypto.subtle in a page, which is async only).
const STATEMENT_TEXT = null; // filled from the library's own body, so both send the same text
const REDACT = new Set(["password", "passwd", "pwd", "secret", "clientsecret", "token", "accesstoken",
  "refreshtoken", "idtoken", "authorization", "cookie", "setcookie", "apikey", "privatekey", "sessionid",
  "creditcard", "cardnumber", "cvv", "ssn"]);
const norm = (k) => k.replace(/[_-]/g, "").toLowerCase();
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkName(what, v) {
  if (typeof v !== "string" || v.trim() === "") throw new Error(`invalid input: ${what} must be a non-empty string`);
  if (new TextEncoder().encode(v).length > 256) throw new Error(`invalid input: ${what} is too long`);
  if (CONTROL.test(v)) throw new Error(`invalid input: ${what} contains control characters`);
  return v;
}

/** Returns a builder: build(user, actionType, category, details) -> body text (Promise if async hash). */
export function makeBuilder({ statement, trail = "bench", maxDetailsBytes = 65536, sha256hex }) {
  const streamId = crypto.randomUUID();
  let seq = 0;
  let head = "0".repeat(64);
  const finish = (ev, hash) => {
    ev.hash = hash;
    head = hash;
    return JSON.stringify({ statements: [{ statement, parameters: { trail, trailUid: crypto.randomUUID(), events: [ev] } }] });
  };
  return function build(user, actionType, category, details) {
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
    return h instanceof Promise ? h.then((x) => finish(ev, x)) : finish(ev, h);
  };
}
export { STATEMENT_TEXT };
