// A request body as the library hands it to `fetch` (UTF-8 bytes, a Uint8Array; other clients and
// older builds: a string), for the bench scripts that stand in for `fetch`.

/** The body as something `includes`/`indexOf` search for text in, without decoding bytes: the
 *  string itself, or a Buffer over the same bytes. */
export function searchable(body) {
  return typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The body as text. */
export function bodyText(body) {
  return searchable(body).toString();
}

/** The events in a write request's body (its `"UID":` keys). */
export function uidCount(body) {
  const b = searchable(body);
  let n = 0;
  for (let i = b.indexOf('"UID":'); i >= 0; i = b.indexOf('"UID":', i + 6)) n++;
  return n;
}
