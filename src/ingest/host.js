// The Worker's host calls (src/ingest/host.rs): the request body's read, the rate limiter, the
// key set's GET and the RS256 / ES256 signature check by WebCrypto, each one promise that never
// rejects, so the .wasm carries no bindings or futures per call. What is accepted is decided in
// Rust (src/ingest/: the body's limit and text, the answer's final URL, the set's contents, which
// key checks which token).

/**
 * The bytes of `stream`, read chunk by chunk and refused as soon as more than `limit` came (the
 * rest cancelled, so a chunked or endless body is never buffered beyond it), or once `signal`
 * aborts: the bytes, or 1 (too large), 2 (unreadable, aborted), 3 (not a byte stream).
 */
async function bytesOf(stream, limit, signal) {
  const reader = stream.getReader();
  const stop = () => reader.cancel().catch(() => {});
  const onAbort = () => void stop();
  signal?.addEventListener("abort", onAbort);
  const chunks = [];
  let n = 0;
  try {
    for (;;) {
      const step = await reader.read();
      // A cancel by the signal ends the stream early: never taken as the whole answer.
      if (signal?.aborted) return 2;
      if (step.done === true) break;
      let c = step.value;
      if (c instanceof ArrayBuffer) c = new Uint8Array(c);
      else if (!(c instanceof Uint8Array)) return 3;
      n += c.length;
      if (n > limit) {
        // Whatever the cancel answers, the body is refused; awaited so a rejection is not unhandled.
        await stop();
        return 1;
      }
      chunks.push(c);
    }
  } finally {
    // Read or refused: the timer no longer touches this stream.
    signal?.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(n);
  n = 0;
  for (const c of chunks) {
    bytes.set(c, n);
    n += c.length;
  }
  return bytes;
}

/**
 * `stream` (null: empty) as UTF-8 text (a leading byte-order mark dropped) by [`bytesOf`]: the
 * text, or 1 (too large), 2 (unreadable), 3 (not a byte stream), 4 (not UTF-8).
 */
async function textOfStream(stream, limit, signal) {
  let b;
  try {
    if (stream == null) return "";
    b = await bytesOf(stream, limit, signal);
  } catch {
    return 2;
  }
  if (typeof b === "number") return b;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return 4;
  }
}

/** The body of `request` by [`textOfStream`]. */
export async function readBody(request, limit) {
  try {
    return await textOfStream(request.body, limit);
  } catch {
    return 2;
  }
}

/**
 * `env[name].limit({ key })` (Cloudflare's rate-limiting binding): whether `key` may proceed, or
 * why the limiter gave no answer.
 */
export async function rateLimit(env, name, key) {
  const b = env[name];
  if (typeof b !== "object" || b === null || typeof b.limit !== "function") return "the " + name + " binding is missing";
  let p;
  try {
    p = b.limit({ key });
  } catch {}
  if (!(p instanceof Promise)) return "limit() did not return a promise";
  let o;
  try {
    o = await p;
  } catch {
    return "limit() rejected";
  }
  return typeof o?.success === "boolean" ? o.success : "limit() answered without success";
}

/**
 * `GET url`, bounded to `ms` and its body to `limit` bytes (read as [`textOfStream`] does), no
 * redirect followed (a 3xx is an answer that is not 200: any hop, over http or to another host,
 * could hand over another key set): [Cache-Control or null, body text] for a 200; else why not
 * (text).
 */
export async function jwksGet(url, ms, limit) {
  try {
    const signal = AbortSignal.timeout(ms);
    const r = await fetch(url, { signal, redirect: "manual" });
    if (r.status !== 200) return "HTTP status " + r.status;
    const t = await textOfStream(r.body, limit, signal);
    if (typeof t === "string") return [r.headers.get("Cache-Control"), t];
    return t === 1 ? "the answer is over " + limit + " bytes" : "the answer could not be read";
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

/**
 * `o[k]` as a setting's text (`o` may be anything; a throwing getter counts as unset): a string as
 * is; with `vars`, a `[vars]` value wrangler passes as a JSON boolean or number (`MAX_BATCH = 50`)
 * as the text it was written as (a number that is not a whole count: text no setting accepts; no
 * float formatting in the .wasm), a TOML array of strings (`ALLOWED_ORIGINS = ["https://a",
 * "https://b"]`) as its items joined by commas, the lists' own form, and any other array or table
 * (`JWT_PUBLIC_KEYS = { keys = [ … ] }`) as its JSON text; else undefined. (An array or table
 * read as unset made the Worker say "ALLOWED_ORIGINS is not set" while wrangler listed it.)
 */
export function textOf(o, k, vars) {
  // The empty name (never a setting's): the first key of `o` named like a setting of the Worker
  // (AUDIT_, JWT_, NEO4J_, MAX_, ALLOWED_, TENANT_, VERIFY_, REDACT_, OCCURRED_, RETRY_,
  // RATE_LIMIT_) that it never read in this isolate, a misspelled one (`TENANT_CLAIMS`).
  if (!k) return Object.keys(o).find((n) => !read.has(n) && /^(AUDIT|JWT|NEO4J|MAX|ALLOWED|TENANT|VERIFY|REDACT|OCCURRED|RETRY|RATE_LIMIT)_/.test(n));
  if (vars) read.add(k);
  let v;
  try {
    v = o?.[k];
  } catch {}
  if (typeof v === "string") return v;
  if (!vars) return undefined;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? String(v) : "not a whole number";
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(",");
  if (typeof v === "object" && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {}
  }
}

/** The names textOf read as settings. */
const read = new Set();

/** The request header `name`, or undefined. */
export function header(request, name) {
  return request.headers.get(name) ?? undefined;
}
