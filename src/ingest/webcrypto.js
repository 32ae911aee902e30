// RS256 / ES256 signature checks by the host's WebCrypto for src/ingest/webcrypto.rs: the key's
// import and the check in one promise, so the .wasm carries no bindings or futures per WebCrypto
// call. Which key may check which token is decided in Rust first (src/ingest/jwks.rs, Jwk::agrees).

/** Per JWS algorithm: importKey's and verify's parameters. */
const ALGS = {
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
};

/**
 * Whether `sig` is `alg`'s signature of `data` by the public JWK `jwk` (its JSON text): true or
 * false, or why the host could not tell (text naming no key material). Never rejects.
 */
export async function jwsVerify(alg, jwk, data, sig) {
  // Copied now: the views are into wasm memory, which may grow while this waits.
  data = data.slice();
  sig = sig.slice();
  const params = ALGS[alg];
  if (!params) return alg + " is not checked with a public key";
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return "the host has no crypto.subtle";
  let key;
  try {
    key = await subtle.importKey("jwk", JSON.parse(jwk), params[0], false, ["verify"]);
  } catch {
    return "WebCrypto refused the identity provider's key";
  }
  try {
    return (await subtle.verify(params[1], key, sig, data)) === true;
  } catch {
    return "WebCrypto could not check the signature";
  }
}
