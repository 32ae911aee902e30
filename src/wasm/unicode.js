// The host's Unicode tables for src/unicode.rs (non-ASCII characters of keys): the same properties
// core's char methods use, so the .wasm need not carry its own copy. Also the host's URL parser
// for src/urlcheck.rs (urlParts).
// Made on first use, from strings: V8 checks a regular expression *literal* when it parses the
// module, and for these property classes that took about 1 ms of CPU (node, importing a module
// with and without the four literals), paid at every import — a Worker's cold start included —
// although most applications never log a key with a non-ASCII character.
let classes;

/** Bits: 1 alphanumeric, 2 upper case, 4 lower case, 8 numeric, 16 default ignorable (invisible). */
export function unicodeClass(codePoint) {
  const c = String.fromCodePoint(codePoint);
  const [alphanumeric, upper, lower, numeric, ignorable] = (classes ??= ["[\\p{Alphabetic}\\p{N}]", "\\p{Uppercase}", "\\p{Lowercase}", "\\p{N}", "\\p{Default_Ignorable_Code_Point}"]
    .map((p) => new RegExp(p, "u")));
  return (alphanumeric.test(c) ? 1 : 0) | (upper.test(c) ? 2 : 0) | (lower.test(c) ? 4 : 0) | (numeric.test(c) ? 8 : 0) | (ignorable.test(c) ? 16 : 0);
}

/** The character lower-cased on its own (no context, like Rust's char::to_lowercase). */
export function unicodeLower(codePoint) {
  return String.fromCodePoint(codePoint).toLowerCase();
}

/** What configuration validation checks of a URL (src/urlcheck.rs), in one call instead of one
 *  per URL property (each its own glue function to compile on a Worker's first logger): `null`
 *  when `s` is no absolute URL, else "<credentials 0|1><query or fragment 0|1><scheme> <hostname> <port>" (the port as written, "" for
 *  none or the scheme's default). */
export function urlParts(s) {
  let u;
  try { u = new URL(s); } catch { return null; }
  // `search`/`hash` are "" both for none and for a bare "?"/"#": the raw text settles it.
  const qf = u.search !== "" || u.hash !== "" || s.includes("?") || s.includes("#");
  return `${u.username !== "" || u.password !== "" ? 1 : 0}${qf ? 1 : 0}${u.protocol.replace(/:$/, "")} ${u.hostname} ${u.port}`;
}
