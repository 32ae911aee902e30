// A request body as the library hands it to `fetch` (text since 8e018f6; a Blob of the UTF-8
// bytes from 3e72b1f to then, a Uint8Array before; other clients: a string), for
// the bench scripts that stand in for `fetch`. A Blob is read with `await bytes(body)` first (as
// fetch itself must read it); the other forms are searched as they are.

/** The body's bytes, whatever its form, as `fetch` would send them: a Blob read in full, a string
 *  encoded as UTF-8 (each a copy, so a stub costs the same for either form), bytes as they are. */
export async function bytes(body) {
  if (typeof Blob !== "undefined" && body instanceof Blob) return Buffer.from(await body.arrayBuffer());
  if (typeof body === "string") return Buffer.from(body);
  return searchable(body);
}

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
