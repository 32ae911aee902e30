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

const ALGS = {
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
};

/** Signs `claims` as an RS256 / ES256 JWS with a private JWK (WebCrypto's ECDSA gives r || s). */
export async function signJws(alg, privateJwk, claims, header = {}) {
  const input = `${part({ alg, typ: "JWT", ...header })}.${part(claims)}`;
  const [importAlg, signAlg] = ALGS[alg];
  const key = await crypto.subtle.importKey("jwk", privateJwk, importAlg, false, ["sign"]);
  return `${input}.${b64url(await crypto.subtle.sign(signAlg, key, enc.encode(input)))}`;
}
