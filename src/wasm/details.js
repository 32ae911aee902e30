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

function replacer(key, value) {
  switch (typeof value) {
    // The common case first, and without touching the ancestor stack.
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new Refusal("details contain NaN or Infinity, which JSON cannot represent");
      return value;
    case "bigint": throw new Refusal("details contain a BigInt, which JSON cannot represent");
    case "function": throw new Refusal("details contain a function, which JSON cannot represent");
    case "symbol": throw new Refusal("details contain a Symbol, which JSON cannot represent");
    case "object":
      if (value === null) return value;
      if (value instanceof Map || value instanceof Set) {
        throw new Refusal("details contain a Map or Set; convert it to an object or array");
      }
      stack.length = stack.lastIndexOf(this) + 1;
      if (stack.includes(value)) throw new Refusal("details contain a cycle");
      if (stack.length >= depthBound) throw new Refusal(`details are nested more than ${depthBound} levels deep`);
      stack.push(value);
      return value;
  }
  return value;
}

/** `null` for no details; the JSON text; or `{error}` with why the details were refused. */
export function detailsToJson(details, maxDepth) {
  if (details === null || details === undefined) return null;
  const outer = stack, outerBound = depthBound;
  try {
    if (typeof details !== "object" || Array.isArray(details)) return { error: "details must be an object" };
    stack = [];
    depthBound = maxDepth;
    const text = JSON.stringify(details, replacer);
    return text === undefined ? { error: "details must be an object" } : text;
  } catch (e) {
    if (e instanceof Refusal) return { error: e.message };
    // A getter, toJSON or Proxy trap that threw, or a revoked Proxy.
    let why = "";
    try { why = String(e && e.message !== undefined ? e.message : e); } catch { /* unprintable */ }
    return { error: `details could not be read (a getter, toJSON or Proxy threw: ${why.slice(0, 200)})` };
  } finally {
    stack = outer;
    depthBound = outerBound;
  }
}

// eventText's state: the wasm memory (given once by the Rust side) and a byte view on it,
// renewed when the memory has grown; a text that did not fit the room given, until
// eventTextAgain writes it; the values handed back by eventBack.
let memory = null;
let bytes = new Uint8Array(0);
let pending = "";
let back;
const encoder = new TextEncoder();
const wellFormed = String.prototype.isWellFormed ? (s) => s.isWellFormed() : (s) => !loneSurrogate(s);

/** The wasm module's memory, for eventText to write into. */
export function setMemory(m) { memory = m; }

function put(text, ptr, room) {
  if (bytes.buffer !== memory.buffer) bytes = new Uint8Array(memory.buffer);
  const { read, written } = encoder.encodeInto(text, bytes.subarray(ptr, ptr + room));
  if (read === text.length) { pending = ""; return written; }
  pending = text;
  return -2 - text.length * 3;
}

/** A logUserAction call's text written straight into wasm memory at `ptr` (`room` bytes) as UTF-8
 *  by the host's encoder (src/wasm/details.rs, `call_text`): when user, actionType and category
 *  have the types the rules ask for, hold no lone surrogate, and the details are JSON, one text:
 *  the details' JSON text, user.uid, user.name, actionType, category, then `|` and their lengths
 *  in UTF-16 units, -1 for absent. Returns the bytes written; or -2 - (bytes needed at most) when
 *  the room was too small (then eventTextAgain); or -1: eventBack() has what the Rust side checks
 *  itself, with the values read here (no getter runs twice on the way to a refusal's reason):
 *  `[uid, name]`, `null` (no user), or `false` (a user that is not an object or cannot be read).
 *  Never throws. */
export function eventText(user, actionType, category, details, maxDepth, ptr, room) {
  let uid = "", name = null, ul = -1, nl = -1, read = null;
  if (user !== null && user !== undefined) {
    if (typeof user !== "object") return refuse(false);
    try { uid = user.uid; name = user.name; } catch { return refuse(false); }
    read = [uid, name];
    if (typeof uid !== "string") return refuse(read);
    ul = uid.length;
    if (typeof name === "string") nl = name.length;
    else if (name !== null && name !== undefined) return refuse(read);
  }
  let cl = -1;
  if (typeof category === "string") cl = category.length;
  else if (category !== null && category !== undefined) return refuse(read);
  if (typeof actionType !== "string") return refuse(read);
  // (A getter or toJSON may log an event itself here: module state is set only after this.)
  const json = detailsToJson(details, maxDepth);
  if (json !== null && typeof json !== "string") return refuse(read);
  const text = `${json ?? ""}${uid}${nl < 0 ? "" : name}${actionType}${cl < 0 ? "" : category}|${json === null ? -1 : json.length},${ul},${nl},${actionType.length},${cl}`;
  if (!wellFormed(text)) return refuse(read);
  return put(text, ptr, room);
}

function refuse(read) {
  back = read;
  return -1;
}

/** The text eventText could not fit, written at `ptr` (`room` bytes). */
export function eventTextAgain(ptr, room) { return put(pending, ptr, room); }

/** What eventText handed back (see there), once. */
export function eventBack() { const v = back; back = undefined; return v; }

/** The own enumerable keys of an options object; `null` for an array; `undefined` when it cannot
 *  be read (a revoked Proxy, a throwing `ownKeys` trap). Never throws. */
export function optionKeys(v) {
  try { return Array.isArray(v) ? null : Object.keys(v); } catch { return undefined; }
}

/** A configuration object as JSON text, or `{error}` naming the first member that JSON would drop
 *  or turn into `null` (NaN, Infinity, a function, Symbol or BigInt): such a member must not
 *  silently mean "not given" (a default). Never throws. */
export function configToJson(config) {
  try {
    return JSON.stringify(config, function (key, value) {
      const t = typeof value;
      if (t === "number" && !Number.isFinite(value)) throw new Refusal(`invalid value for \`${key}\`: ${value}`);
      if (t === "function" || t === "symbol" || t === "bigint") throw new Refusal(`invalid type for \`${key}\`: a ${t}`);
      return value;
    });
  } catch (e) {
    return { error: e instanceof Refusal ? e.message : "config could not be read as JSON" };
  }
}

/** Whether the string `s` has a lone UTF-16 surrogate (src/wasm/details.rs, `js_text`). */
export function loneSurrogate(s) {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
