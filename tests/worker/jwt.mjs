// HS256 JWTs for the Worker tests, signed with WebCrypto (works in workerd, Node and browsers).
const enc = new TextEncoder();
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const part = (obj) => b64url(enc.encode(JSON.stringify(obj)));

/** Signs `claims` with `secret`; `header` overrides the JOSE header (e.g. {alg: "none"}). */
export async function signJwt(secret, claims, header = { alg: "HS256", typ: "JWT" }) {
  const input = `${part(header)}.${part(claims)}`;
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", key, enc.encode(input));
  return `${input}.${b64url(sig)}`;
}

/** An unsigned token with `alg: none` (must be refused). */
export function unsignedJwt(claims) {
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

export const nowSecs = () => Math.floor(Date.now() / 1000);
