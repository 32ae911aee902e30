// Ed25519 verification by the host's WebCrypto for src/sign/webcrypto.rs (PublicKey::load and
// PublicKey::verify): the import, its cache and the call in one place, so the .wasm carries no
// bindings, thread-locals or futures per WebCrypto call. The key bytes are checked in Rust first
// (a curve point; small-order and S < L checks before a verify).

/** Imported public keys by their bytes (a few per isolate: the current key and retired ones). */
const keys = new Map();

/** The imported key, or 1 (no crypto.subtle) or 2 (importKey refused the key). */
async function key(raw) {
  const id = raw.join();
  let k = keys.get(id);
  if (k) return k;
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return 1;
  try {
    k = await subtle.importKey("raw", raw, "Ed25519", false, ["verify"]);
  } catch {
    return 2;
  }
  if (keys.size >= 16) keys.delete(keys.keys().next().value);
  keys.set(id, k);
  return k;
}

/** Imports the 32-byte public key `raw` (cached): 0, or key's failure code. */
export async function ed25519Load(raw) {
  const k = await key(raw.slice());
  return typeof k === "number" ? k : 0;
}

/** Whether `sig` is a valid signature of `msg` by `raw`; false when the host refuses. */
export async function ed25519Verify(raw, sig, msg) {
  // Copied now: the views are into wasm memory, which may grow while this waits.
  sig = sig.slice();
  msg = msg.slice();
  const k = await key(raw.slice());
  if (typeof k === "number") return false;
  try {
    return (await globalThis.crypto.subtle.verify("Ed25519", k, sig, msg)) === true;
  } catch {
    return false;
  }
}
