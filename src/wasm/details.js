// JS details → JSON text in one JSON.stringify pass (the host's own serialiser: no call back into
// wasm per value), refusing what JSON cannot carry faithfully instead of dropping it silently as
// JSON.stringify alone would. Part of src/wasm/details.rs; the wording of each refusal is the
// library's `invalid input:` reason.
class Refusal {
  constructor(message) { this.message = message; }
}

// The replacer's state for the call under way: the ancestors of the value being visited
// (JSON.stringify calls the replacer with `this` bound to the value's holder, so everything above
// the holder has been left) and the depth bound. Module-level, with one replacer function for
// every call, instead of a closure and an array made per call (a logUserAction each); saved and
// restored around each call, since a getter or toJSON may log an event itself mid-way.
let stack = [];
let depthBound = 0;
// Array items and object members visited so far in the call under way, and the bound past which
// the details' JSON is surely over maxDetailsBytes (saved and restored with the rest). Counted as
// they are visited, before anything is copied or written: an array's `length` costs it nothing to
// claim (`a.length = 1e8`, or one array placed many times), and copying or writing those items
// first took 30 s and 4 GB for one call of 1e8 (a Node with a 512 MB heap died of it).
let members = 0;
let membersBound = 0;
// `copyOf`'s state for the call under way (saved and restored with the replacer's): the plain
// objects and arrays above the one being copied; whether the copy holds a value only the replacer
// can judge; and then each copy above such a value → its original (`null` until one is made),
// so that the replacer's ancestors are the details' own objects and a cycle is found as one.
let path = [];
let judge = false;
let origin = null;
const OBJECT = Object.prototype, ARRAY = Array.prototype;
const NOT_FINITE = "details contain NaN or Infinity, which JSON cannot represent";
const BIG_INT = "details contain a BigInt, which JSON cannot represent";
const SYMBOL = "details contain a Symbol, which JSON cannot represent";

function replacer(key, value) {
  switch (typeof value) {
    // The common case first, and without touching the ancestor stack.
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new Refusal(NOT_FINITE);
      return value;
    case "bigint": throw new Refusal(BIG_INT);
    case "function": throw new Refusal("details contain a function, which JSON cannot represent");
    case "symbol": throw new Refusal(SYMBOL);
    case "object":
      if (value === null) return value;
      // A boxed number or BigInt (`new Number(NaN)`, `Object(1n)`): JSON.stringify unboxes it
      // after this call, NaN and Infinity to `null` (silently: they were stored as `null`) and a
      // BigInt to a TypeError. Unboxed here (its valueOf read once) and judged as the primitive.
      if (value instanceof Number) {
        const n = Number(value);
        if (!Number.isFinite(n)) throw new Refusal(NOT_FINITE);
        return n;
      }
      if (value instanceof BigInt) throw new Refusal(BIG_INT);
      // A boxed Symbol (`Object(Symbol())`) has no own members: it was stored as `{}`.
      if (value instanceof Symbol) throw new Refusal(SYMBOL);
      if (value instanceof Map || value instanceof Set) {
        throw new Refusal("details contain a Map or Set; convert it to an object or array");
      }
      stack.length = stack.lastIndexOf(origin?.get(this) ?? this) + 1;
      const own = origin?.get(value) ?? value;
      if (stack.includes(own)) throw new Refusal("details contain a cycle");
      if (stack.length >= depthBound) throw new Refusal(`details are nested more than ${depthBound} levels deep`);
      stack.push(own);
      // Objects copyOf did not copy (a class instance's own members, what a toJSON returned).
      count(Array.isArray(value) ? value.length : 0);
      return value;
  }
  return value;
}

/** A copy of `v` (at nesting `level`) made of what JSON.stringify would read of it, each read
 *  once (a getter runs once per call): plain objects and arrays with no `toJSON` as new ones
 *  holding copies; strings, finite numbers, booleans, null and undefined as they are. Anything
 *  else (a class instance, Date, Map, a function, NaN, ...), an object `depthBound` levels deep
 *  and an object above (a cycle) are kept as they are, and `judge` set: the replacer then judges
 *  them, in the text's order, as it judged the details themselves before. Most details are plain
 *  data, which JSON.stringify writes with no replacer, i.e. without a call into JavaScript per
 *  value (those calls were ~5 % of a logUserAction's CPU in Node). Measured 2026-11-30 with
 *  json::write_str's short runs, `node bench/cpu_full_ab.mjs 20000 15` against main: 0.944 (95 %
 *  CI 0.843-0.979), the synchronous part 0.926 (0.912-0.949); glue +287 B gz. */
function copyOf(v, level) {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "undefined":
      return v;
    case "number":
      if (!Number.isFinite(v)) judge = true;
      return v;
    case "object": {
      if (v === null) return v;
      if (path.includes(v)) { judge = true; return v; }
      const proto = Object.getPrototypeOf(v);
      const array = proto === ARRAY && Array.isArray(v);
      if (level >= depthBound || !(array || proto === OBJECT) || typeof v.toJSON === "function") { judge = true; return v; }
      path.push(v);
      let copy;
      if (array) {
        copy = [];
        const n = v.length;
        count(n);
        for (let i = 0; i < n; i++) copy.push(copyOf(v[i], level + 1));
      } else {
        copy = {};
        const keys = Object.keys(v);
        count(keys.length);
        for (const k of keys) {
          const c = copyOf(v[k], level + 1);
          // `copy.__proto__ = c` would set the copy's prototype, not a member (enumerable: written).
          if (k === "__proto__") Object.defineProperty(copy, k, { value: c, enumerable: true });
          else copy[k] = c;
        }
      }
      path.pop();
      if (judge) (origin ??= new Map()).set(copy, v);
      return copy;
    }
  }
  judge = true;
  return v;
}

/** Counts `n` more array items or object members; refuses the details past the bound. Each member
 *  is at least one byte of the JSON text besides its separator (a comma, or the brackets of its
 *  array), so items and members counted at most twice each (by copyOf and by the replacer) past
 *  4 x maxBytes are more than 2 x maxBytes members: the text is over maxBytes, refused anyway. */
function count(n) {
  if ((members += n) > membersBound) {
    throw new Refusal(`details are more than maxDetailsBytes (${membersBound / 4}) bytes as JSON: they hold more than ${membersBound / 2} array items and object members`);
  }
}

/** `null` for no details; the JSON text; or `{error}` with why the details were refused. */
function detailsToJson(details, maxDepth, maxBytes) {
  if (details === null || details === undefined) return null;
  const outer = stack, outerBound = depthBound, outerPath = path, outerJudge = judge, outerOrigin = origin;
  const outerMembers = members, outerMembersBound = membersBound;
  try {
    if (typeof details !== "object" || Array.isArray(details)) return { error: "details must be an object" };
    // A Promise (a call without `await` on what gives the details) would be stored as its JSON,
    // {}: an event without its details. A thenable is refused alike (inside the try: a getter or
    // Proxy trap may throw).
    if (typeof details.then === "function") return { error: "details must be an object, not a Promise (await it first)" };
    stack = [];
    depthBound = maxDepth;
    members = 0;
    membersBound = 4 * maxBytes;
    path = [];
    judge = false;
    origin = null;
    const copy = copyOf(details, 0);
    const text = judge ? JSON.stringify(copy, replacer) : JSON.stringify(copy);
    // `undefined` (a toJSON that returns it) and `null` (an invalid Date, a toJSON that returns
    // null) are not an object either: refused as a Date's string is, never stored as no details.
    return text === undefined || text === "null" ? { error: "details must be an object" } : text;
  } catch (e) {
    if (e instanceof Refusal) return { error: e.message };
    // A getter, toJSON or Proxy trap that threw, or a revoked Proxy.
    return { error: `details could not be read (a getter, toJSON or Proxy threw: ${said(e)})` };
  } finally {
    stack = outer;
    depthBound = outerBound;
    path = outerPath;
    judge = outerJudge;
    origin = outerOrigin;
    members = outerMembers;
    membersBound = outerMembersBound;
  }
}

/** What a thrown value says, cut to 200 characters ("" when it cannot be printed). */
function said(e) {
  let why = "";
  try { why = String(e && e.message !== undefined ? e.message : e); } catch { /* unprintable */ }
  // On one line: V8 words a cycle over several ("Converting circular structure to JSON\n    -->
  // starting at …"), which spread lastError and every log line holding it.
  return why.replace(/\s*\n\s*/g, " ").slice(0, 200);
}

// eventText's state: the fields of a call not written yet, or the refusal's reason.
let pending = null;
let back;
const encoder = new TextEncoder();
const wellFormed = String.prototype.isWellFormed ? (s) => s.isWellFormed() : (s) => !loneSurrogate(s);
const USER = "user must be null or an object with a string uid";

/** A logUserAction call's strings, read once each, checked in the rules' order (types, lone
 *  surrogates, the details as JSON text) and written into `room` (a view of wasm memory) by the
 *  host's UTF-8 encoder, for src/wasm/details.rs `call_text`: the details' JSON text, user.uid,
 *  user.name, actionType, category, then their lengths in bytes (-1: absent) as five 32-bit
 *  little-endian integers. Returns the bytes written; -1 when refused (eventMore() then gives the
 *  reason, or the index of the field with a lone surrogate: 0 user.uid, 1 user.name, 2 actionType,
 *  3 category, or minus the details' size in bytes, past 4 × maxBytes); or -2 - (bytes needed at
 *  most) (eventMore then writes). Never throws. */
export function eventText(user, actionType, category, details, maxDepth, longest, maxBytes, room) {
  let uid = null, name = null;
  if (user !== null && user !== undefined) {
    if (typeof user !== "object") return refuse(USER);
    // A getter or Proxy trap that threw, or a revoked Proxy: said as that, not as a wrong type.
    try { uid = user.uid; name = user.name; } catch (e) { return refuse(`user could not be read (a getter or Proxy threw: ${said(e)})`); }
    if (typeof uid !== "string") return refuse(USER);
    if (name === undefined) name = null;
    else if (name !== null && typeof name !== "string") return refuse("user.name must be a string when given", uid);
  }
  if (typeof actionType !== "string") return refuse("actionType must be a non-empty string", uid, name);
  if (category === undefined) category = null;
  else if (category !== null && typeof category !== "string") return refuse("category must be a string", uid, name, actionType);
  // (A getter or toJSON may log an event itself here: module state is set only after this.)
  const json = detailsToJson(details, maxDepth, maxBytes);
  if (json !== null && typeof json !== "string") return refuse(json.error, uid, name, actionType, category);
  const fields = [json, cut(uid, longest), cut(name, longest), cut(actionType, longest), cut(category, longest)];
  let text;
  // Details alone as long as the host's longest string, and the other fields after them.
  try { text = fields.join(""); } catch { return refuse("the call's text is longer than the host's longest string"); }
  // A field ending in a high surrogate before one starting with a low surrogate joins two lone
  // surrogates into a pair: the joined text is well-formed, the fields are not (each was refused
  // as "the call's text could not be read", its parts re-encoded apart not fitting their lengths).
  if (!wellFormed(text) || fields.some(splitPair)) return refuse("", ...fields.slice(1));
  // Details past four times the size bound (in code units, each at least one byte of UTF-8):
  // refused as rules.rs refuses such text before parsing it (redaction could not bring it under),
  // their size in bytes counted here, never copied into wasm memory, which does not shrink.
  if (json !== null && json.length / 4 > maxBytes) return refuse(-utf8Length(json));
  pending = fields;
  return put(text, room);
}

// A field longer than `longest` code units (more than any rule of rules.rs allows the four short
// fields: user.uid and user.name at most 1024 bytes, actionType and category 64 characters), cut
// to it, a surrogate pair kept whole: the rules refuse it all the same. Whole, two such fields
// passed the host's longest string when joined (a RangeError thrown out of logUserAction) and one
// was copied into wasm memory, which never shrinks (a 2e8-character uid grew it by ~800 MB).
function cut(s, longest) {
  return s === null || s.length <= longest ? s : s.slice(0, longest - (s.charCodeAt(longest - 1) >> 10 === 0x36));
}

// Whether the field `s` begins with a low surrogate or ends with a high one (lone in the field).
function splitPair(s) {
  return s !== null && s !== "" && ((s.charCodeAt(0) >> 10) === 0x37 || (s.charCodeAt(s.length - 1) >> 10) === 0x36);
}

// The UTF-8 length of well-formed text (a surrogate pair: 4 bytes).
function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) n += c < 0x800 || c >> 11 === 0x1b ? 1 : 2;
  }
  return n;
}

// A refusal: `why`, unless a field checked before it (given in order) holds a lone surrogate.
function refuse(why, ...earlier) {
  const k = earlier.findIndex((s) => typeof s === "string" && !wellFormed(s));
  back = k < 0 ? why : k;
  return -1;
}

function put(text, room) {
  // Into the room itself, not a view of all but its last 20 bytes (one typed array less per
  // call): text that reaches into them does not fit.
  const { read, written } = encoder.encodeInto(text, room);
  if (read < text.length || written > room.length - 20) return -23 - 3 * text.length;
  const fields = pending;
  pending = null;
  for (let k = 0, p = 0; k < 5; k++) {
    const f = fields[k];
    // Not all ASCII: each field's bytes counted by encoding it again where it already is.
    const n = f === null ? -1 : written === text.length ? f.length : encoder.encodeInto(f, room.subarray(p)).written;
    if (n > 0) p += n;
    for (let b = 0; b < 4; b++) room[written + 4 * k + b] = n >> (8 * b);
  }
  return written + 20;
}

/** After eventText: the fields it could not write, written into `room`; or what it refused, once. */
export function eventMore(room) {
  if (pending === null) { const v = back; back = undefined; return v; }
  return put(pending.join(""), room);
}

/** A configuration object as JSON text, or `{error}` naming the first member that JSON would drop
 *  or turn into `null` (NaN, Infinity, a function, Symbol or BigInt): such a member must not
 *  silently mean "not given" (a default). Also refused, before JSON.stringify writes them out: a
 *  sparse array (a missing item; `a.length = 1e7` is a few bytes that JSON writes as 1e7 `null`s:
 *  as `targets` or `anchors` they grew wasm memory by ~900 MB for good), and more than
 *  `maxMembers` array items and object members in all (one array placed many times). Never throws. */
export function configToJson(config, maxMembers, nonFiniteAsMinusOne) {
  let members = 0;
  try {
    return JSON.stringify(config, function (key, value) {
      // A boxed number: JSON.stringify unboxes it after this replacer, a NaN or Infinity to `null`.
      if (value instanceof Number) value = Number(value);
      const t = typeof value;
      // The AuditConfig: -1 for NaN, ±Infinity and a BigInt, which its reader refuses by the
      // setting's own rule (src/wasm/config.rs: a numeric one names the integers it takes).
      if (nonFiniteAsMinusOne && (t === "bigint" || (t === "number" && !Number.isFinite(value)))) return -1;
      if (t === "number" && !Number.isFinite(value)) {
        throw new Refusal(`invalid value for \`${key}\`: ${value}`);
      }
      if (t === "function" || t === "symbol" || t === "bigint") throw new Refusal(`invalid type for \`${key}\`: a ${t}`);
      if (t === "undefined" && Array.isArray(this) && !Object.hasOwn(this, key)) throw new Refusal(`invalid value: a sparse array (its item ${key} is missing)`);
      // What JSON writes as `null` or leaves out though the member holds something (an invalid
      // Date, a toJSON that returns null or undefined) was read as "not given" too (a default;
      // options stored without their targets). A getter's value is not read again here.
      if ((value === null || value === undefined) && key !== "") {
        const held = Object.getOwnPropertyDescriptor(this, key)?.value;
        if (held !== null && held !== undefined) {
          const how = value === null ? "writes as null (an invalid Date, a toJSON that returns null)" : "leaves out (a toJSON that returns undefined)";
          throw new Refusal(`invalid value for \`${key}\`: a value JSON ${how}, which would read as not given`);
        }
      }
      // JSON.stringify escapes a lone surrogate, which the JSON reader then refused as "config
      // could not be read as JSON", naming neither the member nor why.
      if (!wellFormed(key)) throw new Refusal("invalid key: a member name holds a lone UTF-16 surrogate (not valid Unicode)");
      if ((t === "string" || value instanceof String) && !wellFormed(`${value}`)) throw new Refusal(`invalid value for \`${key}\`: a lone UTF-16 surrogate (not valid Unicode), which would be read altered`);
      if (t === "object" && value !== null) {
        // A Promise (options or a query from an async helper, passed without `await`) was read as
        // its JSON, {}: options without their targets, `true`.
        if (typeof value.then === "function") throw new Refusal(`invalid type${key ? ` for \`${key}\`` : ""}: a Promise (await it first)`);
        const array = Array.isArray(value);
        if ((members += array ? value.length : Object.keys(value).length) > maxMembers) {
          throw new Refusal(`invalid size${key ? ` of \`${key}\`` : ""}: more than ${maxMembers} array items and object members in all`);
        }
        // JSON.stringify writes an object's own enumerable members only: a Map or Set (whose
        // `size` is a getter of its class) and a class whose settings are getters were read as
        // `{}`, their settings as "not given" (`labels: new Map(…)`: the default labels; options
        // as a Map: the event stored without its targets).
        // (Up to the root of the chain, not this realm's Object.prototype: a plain object made in
        // another frame or vm context has its own, whose `__proto__` accessor is no setting.)
        for (let p = array ? null : Object.getPrototypeOf(value); p !== null && Object.getPrototypeOf(p) !== null; p = Object.getPrototypeOf(p)) {
          const getter = Object.getOwnPropertyNames(p).find((k) => Object.getOwnPropertyDescriptor(p, k).get);
          if (getter) throw new Refusal(`invalid type${key ? ` for \`${key}\`` : ""}: an instance of ${value.constructor?.name || "a class"}; JSON reads only an object's own members, not its getters (\`${getter}\`), entries or items: pass a plain object`);
        }
      }
      return value;
    });
  } catch (e) {
    // A getter, toJSON or Proxy trap that threw, or a cycle: its own words.
    return { error: e instanceof Refusal ? e.message : `could not be read as JSON (${said(e)})` };
  }
}

/** Whether the string `s` has a lone UTF-16 surrogate (src/wasm/details.rs, `js_text`). */
export function loneSurrogate(s) {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** `stats()`'s object from its counters, in this order (src/wasm/mod.rs). */
export function statsObject(sent, committed, failed, retried, queued, dropped, deadLettered, expired) {
  return { sent, committed, failed, retried, queued, dropped, deadLettered, expired };
}
