// The host's Unicode tables for src/unicode.rs (non-ASCII characters of keys): the same properties
// core's char methods use, so the .wasm need not carry its own copy.
const ALPHANUMERIC = /[\p{Alphabetic}\p{N}]/u;
const UPPER = /\p{Uppercase}/u;
const LOWER = /\p{Lowercase}/u;
const NUMERIC = /\p{N}/u;

/** Bits: 1 alphanumeric, 2 upper case, 4 lower case, 8 numeric. */
export function unicodeClass(codePoint) {
  const c = String.fromCodePoint(codePoint);
  return (ALPHANUMERIC.test(c) ? 1 : 0) | (UPPER.test(c) ? 2 : 0) | (LOWER.test(c) ? 4 : 0) | (NUMERIC.test(c) ? 8 : 0);
}

/** The character lower-cased on its own (no context, like Rust's char::to_lowercase). */
export function unicodeLower(codePoint) {
  return String.fromCodePoint(codePoint).toLowerCase();
}
