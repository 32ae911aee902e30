// RS256 / ES256 tokens verified against an identity provider's key set (JWT_JWKS_URL, fetched
// from the stub provider below; JWT_PUBLIC_KEYS), inside workerd, writing to the real Neo4j.
// Each test names its own key-set URL, so the isolate's cache starts empty for it.
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nowSecs, signJwt, signJws } from "./jwt.mjs";
import { call, cypher, post, unique } from "./helpers.mjs";

const RSA = JSON.parse(env.TEST_RS256_PRIVATE_JWK);
const EC = JSON.parse(env.TEST_ES256_PRIVATE_JWK);
const STRANGER = JSON.parse(env.TEST_STRANGER_PRIVATE_JWK);

const claims = (sub, more = {}) =>
  ({ sub, aud: "neo4j-audit", iss: "https://idp.example", exp: nowSecs() + 300, ...more });
// The stub identity provider: the Worker's `fetch` (the isolate's global, which the .wasm calls)
// answers https://idp.test/<case>/jwks.json with the public keys made in vitest.config.mjs (a
// case named "down..." answers 503) and counts the fetches per case; every other request (Neo4j)
// goes out unchanged.
const fetches = new Map();
const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== "idp.test") return realFetch(input, init);
    const name = url.pathname.split("/")[1];
    fetches.set(name, (fetches.get(name) ?? 0) + 1);
    if (name.startsWith("down")) return new Response("unavailable", { status: 503 });
    return new Response(env.TEST_JWKS, { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=600" } });
  };
});
afterAll(() => { globalThis.fetch = realFetch; });

/** A per-test key-set URL of the stub provider, and the Worker's settings using it. */
function provider(name = unique("idp")) {
  const url = `https://idp.test/${name}/jwks.json`;
  return {
    overrides: (more = {}) => ({ JWT_JWKS_URL: url, AUDIT_TRAIL: unique("jwks"), ...more }),
    fetches: async () => fetches.get(name) ?? 0,
  };
}
const event = { actionType: "DOCUMENT_VIEWED" };

describe("RS256 / ES256 tokens with the provider's JWKS", () => {
  it("accepts an RS256 token and writes the event PERFORMED_BY the token's sub", async () => {
    const idp = provider();
    const sub = unique("rs-user");
    await cypher("MERGE (:User {UID: $sub})", { sub });
    const o = idp.overrides();
    const tok = await signJws("RS256", RSA, claims(sub, { name: "Ann RS" }), { kid: "rsa-1" });
    const r = await post(event, { tok, overrides: o });
    expect(r.status).toBe(201);
    const { uids } = await r.json();
    const rows = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent {UID: $uid})-[:PERFORMED_BY]->(u:User) " +
        "RETURN u.UID, e.userName, e.eventType",
      { trail: o.AUDIT_TRAIL, uid: uids[0] },
    );
    expect(rows).toEqual([[sub, "Ann RS", "DOCUMENT_VIEWED"]]);
    // A second token within the cache's lifetime: no second fetch.
    const again = await post(event, { tok: await signJws("RS256", RSA, claims(sub), { kid: "rsa-1" }), overrides: o });
    expect(again.status).toBe(201);
    expect(await idp.fetches()).toBe(1);
  });

  it("accepts an ES256 token (r || s signature)", async () => {
    const idp = provider();
    const o = idp.overrides();
    const r = await post(event, { tok: await signJws("ES256", EC, claims(unique("es-user")), { kid: "ec-1" }), overrides: o });
    expect(r.status).toBe(201);
    const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
    expect(rows).toEqual([[1]]);
  });

  it("refuses a token signed by another key, a tampered payload and a key of the wrong kind (401)", async () => {
    const o = provider().overrides();
    const sub = unique("u");
    const other = await signJws("RS256", STRANGER, claims(sub), { kid: "rsa-1" });
    const good = await signJws("RS256", RSA, claims(sub), { kid: "rsa-1" });
    const [h, , s] = good.split(".");
    const forged = `${h}.${btoa(JSON.stringify(claims("admin"))).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.${s}`;
    // ES256 claiming the RSA key's kid: the key decides the algorithm.
    const wrongKind = await signJws("ES256", EC, claims(sub), { kid: "rsa-1" });
    for (const [tok, msg] of [[other, "signature is invalid"], [forged, "signature is invalid"],
      [wrongKind, "does not match the key"]]) {
      const r = await post(event, { tok, overrides: o });
      expect(r.status).toBe(401);
      expect((await r.json()).message).toContain(msg);
    }
    // Several keys in the set: a token without kid is refused.
    const noKid = await post(event, { tok: await signJws("RS256", RSA, claims(sub)), overrides: o });
    expect(noKid.status).toBe(401);
    expect((await noKid.json()).message).toContain("no kid");
    const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
    expect(rows).toEqual([[0]]);
  });

  it("never takes the RSA public key as an HS256 secret (algorithm confusion), nor alg none", async () => {
    const sub = unique("u");
    const o = provider().overrides();
    const confused = await signJwt(env.TEST_RS256_PUBLIC_PEM, claims(sub), { alg: "HS256", typ: "JWT", kid: "rsa-1" });
    const r = await post(event, { tok: confused, overrides: o });
    expect(r.status).toBe(401);
    expect((await r.json()).message).toContain('"HS256" is not accepted');
    // HS256 allowed beside the key set: it is checked with AUDIT_JWT_SECRET only.
    const both = { ...o, JWT_ALGORITHMS: "HS256,RS256" };
    const r2 = await post(event, { tok: confused, overrides: both });
    expect(r2.status).toBe(401);
    expect((await r2.json()).message).toContain("signature is invalid");
    const hs = await signJwt(env.AUDIT_JWT_SECRET, claims(sub));
    expect((await post(event, { tok: hs, overrides: both })).status).toBe(201);
    const none = `${btoa('{"alg":"none","kid":"rsa-1"}').replace(/=+$/, "")}.${btoa(JSON.stringify(claims(sub))).replace(/=+$/, "")}.`;
    expect((await post(event, { tok: none, overrides: o })).status).toBe(401);
  });

  it("refetches once for an unknown kid, then refuses (401) without fetching again", async () => {
    const idp = provider();
    const o = idp.overrides();
    const sub = unique("u");
    expect((await post(event, { tok: await signJws("RS256", RSA, claims(sub), { kid: "rsa-1" }), overrides: o })).status).toBe(201);
    expect(await idp.fetches()).toBe(1);
    // The refetch happens no sooner than the next second after the first fetch.
    await new Promise((res) => setTimeout(res, 1100));
    for (const kid of ["forged-1", "forged-2", "forged-3"]) {
      const r = await post(event, { tok: await signJws("RS256", RSA, claims(sub), { kid }), overrides: o });
      expect(r.status).toBe(401);
      expect((await r.json()).message).toContain("kid names no key");
    }
    expect(await idp.fetches()).toBe(2);
    // Known keys keep working from the cache.
    expect((await post(event, { tok: await signJws("ES256", EC, claims(sub), { kid: "ec-1" }), overrides: o })).status).toBe(201);
    expect(await idp.fetches()).toBe(2);
  });

  it("answers 503 with Retry-After when the key set cannot be fetched, never accepting", async () => {
    const idp = provider(unique("down"));
    const o = idp.overrides();
    const tok = await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" });
    for (let i = 0; i < 3; i++) {
      const r = await post(event, { tok, overrides: o });
      expect(r.status).toBe(503);
      expect(r.headers.get("Retry-After")).toBe("5");
      expect((await r.json()).error).toBe("unavailable");
    }
    // One try, then a pause before the next one (the provider is not hammered).
    expect(await idp.fetches()).toBe(1);
    const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
    expect(rows).toEqual([[0]]);
  });

  it("verifies against a static JWT_PUBLIC_KEYS set without fetching", async () => {
    const o = { JWT_PUBLIC_KEYS: env.TEST_JWKS, AUDIT_TRAIL: unique("jwks-static") };
    const r = await post(event, { tok: await signJws("ES256", EC, claims(unique("u")), { kid: "ec-1" }), overrides: o });
    expect(r.status).toBe(201);
  });

  it("reads JWT_PUBLIC_KEYS written as a TOML table (an object in env) as its JSON text", async () => {
    // `JWT_PUBLIC_KEYS = { keys = [ … ] }` in wrangler.toml was read as unset: ES256 tokens were
    // refused with "token algorithm \"ES256\" is not accepted (JWT_ALGORITHMS)".
    const o = { JWT_PUBLIC_KEYS: JSON.parse(env.TEST_JWKS), AUDIT_TRAIL: unique("jwks-table") };
    const r = await post(event, { tok: await signJws("ES256", EC, claims(unique("u")), { kid: "ec-1" }), overrides: o });
    expect(r.status, await r.clone().text()).toBe(201);
  });

  it("refuses a key-set configuration that is not secure (500 misconfigured)", async () => {
    for (const more of [{ JWT_JWKS_URL: "http://idp.test/x/jwks.json" }, { JWT_ALGORITHMS: "RS256,none" },
      { JWT_PUBLIC_KEYS: JSON.stringify({ keys: [JSON.parse(env.TEST_RS256_PRIVATE_JWK)] }) }]) {
      const tok = await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" });
      const r = await post(event, { tok, overrides: { JWT_JWKS_URL: "https://idp.test/cfg/jwks.json", ...more } });
      expect(r.status, JSON.stringify(more)).toBe(500);
      expect((await r.json()).error).toBe("misconfigured");
    }
  });

  it("refuses JWT_AUDIENCE_CHECK = off with a key set unless JWT_ISSUER is set (500 misconfigured)", async () => {
    // A key set is the provider's, which signs tokens for every app it serves (Firebase's signs
    // them for every project, whose owner may mint one for any uid). With the audience check off
    // and no issuer, such a token for another app named our user and was stored under them (201).
    const victim = unique("victim");
    const foreign = await signJws("RS256", RSA,
      claims(victim, { aud: "another-app", iss: "https://securetoken.example/another-app" }), { kid: "rsa-1" });
    const open = provider().overrides({ JWT_AUDIENCE_CHECK: "off", JWT_ISSUER: "" });
    const r = await post(event, { tok: foreign, overrides: open });
    expect(r.status, await r.clone().text()).toBe(500);
    const body = await r.json();
    expect(body.error).toBe("misconfigured");
    expect(body.message).toContain("JWT_AUDIENCE_CHECK");
    // With JWT_ISSUER the opt-out works: the app's own token passes whatever its aud, the other
    // app's is refused for its issuer.
    const pinned = provider().overrides({ JWT_AUDIENCE_CHECK: "off", JWT_ISSUER: "https://idp.example" });
    const refused = await post(event, { tok: foreign, overrides: pinned });
    expect(refused.status).toBe(401);
    expect((await refused.json()).message).toContain("JWT_ISSUER");
    const own = await signJws("RS256", RSA, claims(unique("u"), { aud: "any-audience" }), { kid: "rsa-1" });
    expect((await post(event, { tok: own, overrides: pinned })).status).toBe(201);
    // Nothing was ever stored under the victim, in either trail.
    const rows = await cypher(
      "MATCH (t:AuditTrail)-[:HAS_EVENT]->(e:AuditEvent {userUID: $victim}) WHERE t.name IN $trails RETURN count(e)",
      { victim, trails: [open.AUDIT_TRAIL, pinned.AUDIT_TRAIL] },
    );
    expect(rows).toEqual([[0]]);
    const stored = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: pinned.AUDIT_TRAIL });
    expect(stored).toEqual([[1]]);
  });
});

describe("the key set's answer is read within its bound", () => {
  /** One event posted with an RS256 token to a Worker whose JWT_JWKS_URL answers 200 with
   *  `body()`: the Worker's answer, its time and the trail. */
  async function postWithKeySet(name, body) {
    const url = `https://${name}.test/${unique(name)}/jwks.json`;
    const before = globalThis.fetch;
    globalThis.fetch = async (input, init) =>
      String(input instanceof Request ? input.url : input) === url ? new Response(body(), { status: 200 }) : before(input, init);
    try {
      const o = { JWT_JWKS_URL: url, AUDIT_TRAIL: unique(`jwks-${name}`) };
      const tok = await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" });
      const t0 = Date.now();
      const r = await post(event, { tok, overrides: o });
      return { r, ms: Date.now() - t0, trail: o.AUDIT_TRAIL };
    } finally {
      globalThis.fetch = before;
    }
  }

  it("stops reading an endless key-set answer at 64 KiB and answers 503, never accepting", async () => {
    // Before, jwksGet read the whole answer (r.text()) and only then checked its size: an endless
    // body was read until the isolate's memory or the request's time ran out.
    const stats = { pulled: 0, cancelled: false };
    const chunk = new TextEncoder().encode(`{"keys":[${" ".repeat(16 * 1024 - 9)}`);
    const { r, ms, trail } = await postWithKeySet("endless", () => new ReadableStream({
      pull(c) { stats.pulled++; c.enqueue(chunk); },
      cancel() { stats.cancelled = true; },
    }, { highWaterMark: 0 }));
    expect(r.status).toBe(503);
    expect(r.headers.get("Retry-After")).toBe("5");
    expect((await r.json()).error).toBe("unavailable");
    expect(ms).toBeLessThan(5000);
    // 64 KiB is four chunks: the fifth passes the bound, the rest is cancelled, never pulled.
    expect(stats.pulled).toBeLessThanOrEqual(6);
    expect(stats.cancelled).toBe(true);
    const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: trail });
    expect(rows).toEqual([[0]]);
  });

  it("gives up on a key-set answer that trickles in for longer than the fetch's 5 s (503)", async () => {
    // One byte every 100 ms, forever: under the size bound for minutes. Before, r.text() waited
    // for its end (the stub, like a slow provider's body, does not end when the fetch is aborted).
    let cancelled = false;
    const { r, ms } = await postWithKeySet("slow", () => new ReadableStream({
      async pull(c) { await new Promise((res) => setTimeout(res, 100)); c.enqueue(new Uint8Array([32])); },
      cancel() { cancelled = true; },
    }, { highWaterMark: 0 }));
    expect(r.status).toBe(503);
    expect(ms).toBeLessThan(9000);
    expect(cancelled).toBe(true);
  });

  it("takes a key set just under the bound, refuses one just over it (Content-Length or not)", async () => {
    const pad = (n) => {
      const t = env.TEST_JWKS;
      return `${t.slice(0, -1)},"pad":"${"x".repeat(n - t.length - 9)}"}`;
    };
    for (const [size, length, status] of [[64 * 1024, true, 201], [64 * 1024 + 1, true, 503], [64 * 1024 + 1, false, 503]]) {
      const text = pad(size);
      expect(new TextEncoder().encode(text).length).toBe(size);
      const { r } = await postWithKeySet("sized",
        () => (length ? text : new Blob([text]).stream().pipeThrough(new TransformStream())));
      expect(r.status, `${size} ${length}`).toBe(status);
    }
  });
});

describe("the key set is fetched from JWT_JWKS_URL itself, never through a redirect", () => {
  /** A stub web of `hops` (URL -> [status, Location]) in front of the stub key set at `final`,
   *  which follows redirects as fetch does unless the request says `redirect: "manual"`; every URL
   *  requested is recorded, the ones the Worker asked for and the ones fetch followed. */
  function redirecting(hops, final) {
    const seen = [];
    const before = globalThis.fetch;
    const answer = (url) => {
      seen.push(url);
      if (url === final) return new Response(env.TEST_JWKS, { status: 200 });
      const [status, location] = hops[url];
      return new Response(null, { status, headers: { Location: location } });
    };
    globalThis.fetch = async (input, init) => {
      let url = String(input instanceof Request ? input.url : input);
      if (!(url in hops) && url !== final) return before(input, init);
      let r = answer(url);
      if ((init?.redirect ?? "follow") === "follow") {
        for (let n = 0; r.status >= 300 && r.status < 400 && n < 20; n++) {
          url = r.headers.get("Location");
          r = answer(url);
        }
        // What fetch reports as the answer's URL: the last one.
        Object.defineProperty(r, "url", { value: url });
      }
      return r;
    };
    return { seen, restore: () => { globalThis.fetch = before; } };
  }

  it("refuses a key set reached through https -> http -> https redirects (503), never requesting the http hop", async () => {
    // Before, fetch followed every redirect and only the final URL was checked for https: a hop
    // over plain http, which anyone on the path can answer, chose the key set the Worker trusted.
    const id = unique("hop");
    const start = `https://idp.test/${id}/jwks.json`;
    const plain = `http://cdn.test/${id}/jwks.json`;
    const final = `https://cdn.test/${id}/keys.json`;
    const web = redirecting({ [start]: [302, plain], [plain]: [301, final] }, final);
    try {
      const o = { JWT_JWKS_URL: start, AUDIT_TRAIL: unique("jwks-redirect") };
      const tok = await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" });
      const r = await post(event, { tok, overrides: o });
      expect(r.status, await r.clone().text()).toBe(503);
      expect((await r.json()).error).toBe("unavailable");
      expect(web.seen).toEqual([start]);
      const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
      expect(rows).toEqual([[0]]);
    } finally {
      web.restore();
    }
  });

  it("refuses an https -> https redirect too (503): the key set must answer at JWT_JWKS_URL", async () => {
    // An open redirect on the provider's host would otherwise hand the Worker anyone's key set.
    const id = unique("hop");
    const start = `https://idp.test/${id}/jwks.json`;
    const final = `https://elsewhere.test/${id}/jwks.json`;
    const web = redirecting({ [start]: [307, final] }, final);
    try {
      const o = { JWT_JWKS_URL: start, AUDIT_TRAIL: unique("jwks-redirect") };
      const r = await post(event, { tok: await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" }), overrides: o });
      expect(r.status).toBe(503);
      expect(web.seen).toEqual([start]);
      // The key set's own URL works.
      const direct = { JWT_JWKS_URL: final, AUDIT_TRAIL: o.AUDIT_TRAIL };
      const ok = await post(event, { tok: await signJws("RS256", RSA, claims(unique("u")), { kid: "rsa-1" }), overrides: direct });
      expect(ok.status, await ok.clone().text()).toBe(201);
      const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
      expect(rows).toEqual([[1]]);
    } finally {
      web.restore();
    }
  });
});

describe("GET /v1/verify with RS256 / ES256 tokens only (no AUDIT_JWT_SECRET)", () => {
  it("walks the trail page by page; its cursors are sealed with a key derived from AUDIT_SIGNING_KEY", async () => {
    // Before, the cursors were sealed with a key derived from AUDIT_JWT_SECRET, so a deployment
    // whose tokens are checked only against a key set answered 500 misconfigured here.
    const seed = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const o = {
      AUDIT_JWT_SECRET: undefined, JWT_PUBLIC_KEYS: env.TEST_JWKS, AUDIT_TRAIL: unique("rs-verify"),
      AUDIT_SIGNING_KEY: seed, AUDIT_SIGNING_KEY_ID: "rs-k1", VERIFY_SUBJECTS: "rs-auditor",
      MAX_BATCH: "100", MAX_BODY_BYTES: "65536",
    };
    // 1001 events (100 per request; the test limiter allows 5 requests per subject and minute).
    let written = 0;
    for (let i = 0; written < 1001; i++) {
      const n = Math.min(100, 1001 - written);
      const tok = await signJws("RS256", RSA, claims(`rs-writer-${i % 3}-${o.AUDIT_TRAIL}`), { kid: "rsa-1" });
      const r = await post({ events: Array.from({ length: n }, (_, j) => ({ actionType: "DOC_VIEWED", details: { i, j } })) },
        { tok, overrides: o });
      expect(r.status, await r.clone().text()).toBe(201);
      written += n;
    }
    const auth = { Authorization: `Bearer ${await signJws("ES256", EC, claims("rs-auditor"), { kid: "ec-1" })}` };
    const verify = (q, more = {}) => call(`/v1/verify${q}`, { headers: auth }, { ...o, ...more });
    const first = await verify("?limit=1000");
    const page1 = await first.json();
    expect(first.status, JSON.stringify(page1)).toBe(200);
    expect(page1.ok).toBe(true);
    expect(typeof page1.next).toBe("string");
    const second = await verify(`?limit=1000&cursor=${page1.next}`);
    const page2 = await second.json();
    expect(second.status, JSON.stringify(page2)).toBe(200);
    expect([page2.ok, page2.checked, page2.next]).toEqual([true, 1001, null]);
    const rows = await cypher("MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e) RETURN count(e)", { t: o.AUDIT_TRAIL });
    expect(rows).toEqual([[1001]]);
    // A cursor does not open under another signing key (a rotated key: start the walk again).
    const other = await verify(`?limit=1000&cursor=${page1.next}`, { AUDIT_SIGNING_KEY: "ab".repeat(32) });
    expect(other.status).toBe(400);
    expect((await other.json()).message).toContain("start the walk again");
    // Without a signing key there is nothing to verify with nor seal with: 500 naming the setting.
    const none = await verify("?limit=1000", { AUDIT_SIGNING_KEY: undefined });
    expect(none.status).toBe(500);
    expect(await none.json()).toEqual({ error: "misconfigured", message: expect.stringContaining("AUDIT_SIGNING_KEY") });
  });
});
