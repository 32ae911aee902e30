// The Worker's host calls for RS256 / ES256 tokens (src/ingest/host.rs): the key set's GET and
// the signature check by WebCrypto, each one promise that never rejects, so the .wasm carries no
// bindings or futures per fetch / WebCrypto call. What is accepted is decided in Rust
// (src/ingest/jwks.rs): the answer's final URL, the set's contents, which key checks which token.

/**
 * `GET url`, bounded to `ms`: [final URL, Cache-Control or null, body text] for a 200; else why
 * not (text).
 */
export async function jwksGet(url, ms) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
    if (r.status !== 200) return "HTTP status " + r.status;
    return [r.url, r.headers.get("Cache-Control"), await r.text()];
  } catch {
    return "no answer";
  }
}

/** Per JWS algorithm: the public key's JWK from its two numbers, importKey's and verify's parameters. */
const ALGS = {
  RS256: [(n, e) => ({ kty: "RSA", n, e }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  ES256: [(x, y) => ({ kty: "EC", crv: "P-256", x, y }), { name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
};

/**
 * Whether `sig` is `alg`'s signature of `data` by the public key whose base64url numbers are `a`
 * and `b` (RS256: n, e; ES256: x, y): true or false, or why the host could not tell (text
 * naming no key material).
 */
export async function jwsVerify(alg, a, b, data, sig) {
  // Copied now: the views are into wasm memory, which may grow while this waits.
  data = data.slice();
  sig = sig.slice();
  const params = ALGS[alg];
  if (!params) return alg + " is not checked with a public key";
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return "the host has no crypto.subtle";
  let key;
  try {
    key = await subtle.importKey("jwk", params[0](a, b), params[1], false, ["verify"]);
  } catch {
    return "WebCrypto refused the identity provider's key";
  }
  try {
    return (await subtle.verify(params[2], key, sig, data)) === true;
  } catch {
    return "WebCrypto could not check the signature";
  }
}
