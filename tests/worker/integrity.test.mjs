// The Worker's integrity rules inside workerd, against the real Neo4j (read back independently):
// duplicate UIDs, token rules, the streamed body limit, the null origin and page-URL entries of
// ALLOWED_ORIGINS, /v1/health (buckets, misconfiguration), rotating AUDIT_JWT_SECRET,
// provenance (source, occurredAt), ALLOWED_CATEGORIES and bidirectional controls in identifiers.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signJwt, nowSecs } from "./jwt.mjs";
import { call, clearOfAMinuteBoundary, cypher, post, streamBody, token, trailEvents, trailProvenance, unique } from "./helpers.mjs";

const enc = new TextEncoder();
const ip = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

describe("one request, one chain: duplicate UIDs", () => {
  it("refuses two events with the same UID (400, names the index) and writes nothing", async () => {
    const trail = unique("worker-dup");
    const UID = crypto.randomUUID();
    const r = await post({ events: [{ actionType: "A", UID }, { actionType: "B" }, { actionType: "C", UID: UID.toUpperCase() }] },
      { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(400);
    const j = await r.json();
    expect(j.error).toBe("bad_request");
    expect(j.message).toContain("events[2]");
    expect(j.message).toContain("events[0]");
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("answers accepted = the number of events stored, one unbroken chain", async () => {
    const trail = unique("worker-count");
    const events = ["A", "B", "C"].map((a) => ({ actionType: a, UID: crypto.randomUUID() }));
    const r = await post({ events }, { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(201);
    const j = await r.json();
    const stored = await cypher(
      "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.seq ORDER BY e.seq", { trail });
    expect(j.accepted).toBe(stored.length);
    expect(stored.map(([s]) => s)).toEqual([0, 1, 2]);
  });
});

describe("tokens, secure by default", () => {
  const secret = () => env.AUDIT_JWT_SECRET;
  const claims = (sub, extra = {}) => ({ sub, exp: nowSecs() + 300, ...extra });
  // The test config sets JWT_AUDIENCE and JWT_ISSUER; these overrides return to the defaults.
  const defaults = (trail, more = {}) => ({ AUDIT_TRAIL: trail, JWT_AUDIENCE: undefined, JWT_ISSUER: undefined, ...more });

  it("requires aud = neo4j-audit when JWT_AUDIENCE is unset; JWT_AUDIENCE_CHECK=off opts out", async () => {
    const trail = unique("worker-aud");
    const noAud = await signJwt(secret(), claims(unique("user")));
    const r = await post({ actionType: "NO_AUD" }, { tok: noAud, overrides: defaults(trail) });
    expect(r.status).toBe(401);
    expect((await r.json()).message).toMatch(/audience/);
    const wrong = await signJwt(secret(), claims(unique("user"), { aud: "another-service" }));
    expect((await post({ actionType: "WRONG_AUD" }, { tok: wrong, overrides: defaults(trail) })).status).toBe(401);
    const ours = await signJwt(secret(), claims(unique("user"), { aud: "neo4j-audit" }));
    expect((await post({ actionType: "OUR_AUD" }, { tok: ours, overrides: defaults(trail) })).status).toBe(201);
    const off = defaults(trail, { JWT_AUDIENCE_CHECK: "off" });
    expect((await post({ actionType: "OPTED_OUT" }, { tok: await signJwt(secret(), claims(unique("user"))), overrides: off })).status).toBe(201);
    expect((await trailEvents(trail)).map((e) => e.eventType).sort()).toEqual(["OPTED_OUT", "OUR_AUD"]);
  });

  it("caps the lifetime: exp - iat and exp - now over JWT_MAX_LIFETIME_SECS are refused", async () => {
    const trail = unique("worker-life");
    const aud = { aud: "neo4j-audit", iss: "https://idp.example" };
    const o = { AUDIT_TRAIL: trail };
    const tooLongByDefault = await signJwt(secret(), claims(unique("user"), { ...aud, exp: nowSecs() + 2 * 86400 }));
    const r = await post({ actionType: "LONG" }, { tok: tooLongByDefault, overrides: o });
    expect(r.status).toBe(401);
    expect((await r.json()).message).toMatch(/lifetime/);
    const hour = { ...o, JWT_MAX_LIFETIME_SECS: "3600" };
    const issuedLongAgo = await signJwt(secret(), claims(unique("user"), { ...aud, iat: nowSecs() - 3300, exp: nowSecs() + 600 }));
    expect((await post({ actionType: "OLD_IAT" }, { tok: issuedLongAgo, overrides: hour })).status).toBe(401);
    const fine = await signJwt(secret(), claims(unique("user"), { ...aud, iat: nowSecs() - 60, exp: nowSecs() + 600 }));
    expect((await post({ actionType: "FINE" }, { tok: fine, overrides: hour })).status).toBe(201);
    expect((await trailEvents(trail)).map((e) => e.eventType)).toEqual(["FINE"]);
  });

  it("accepts typ JWT / at+jwt / application/at+jwt (any case) and refuses other types", async () => {
    const trail = unique("worker-typ");
    const o = { AUDIT_TRAIL: trail };
    const c = (sub) => claims(sub, { aud: "neo4j-audit", iss: "https://idp.example" });
    for (const typ of ["JWT", "at+jwt", "application/AT+JWT"]) {
      const t = await signJwt(secret(), c(unique("user")), { alg: "HS256", typ });
      expect((await post({ actionType: "TYPED" }, { tok: t, overrides: o })).status, typ).toBe(201);
    }
    for (const typ of ["JWS", "dpop+jwt", "secevent+jwt"]) {
      const t = await signJwt(secret(), c(unique("user")), { alg: "HS256", typ });
      const r = await post({ actionType: "WRONG_TYPE" }, { tok: t, overrides: o });
      expect(r.status, typ).toBe(401);
      expect((await r.json()).message).toMatch(/typ/);
    }
    expect((await trailEvents(trail)).length).toBe(3);
  });

  it("takes the Bearer scheme case-insensitively", async () => {
    const trail = unique("worker-scheme");
    const o = { AUDIT_TRAIL: trail };
    for (const scheme of ["bearer", "BEARER"]) {
      const r = await call("/v1/events", { method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `${scheme} ${await token(unique("user"))}` },
        body: JSON.stringify({ actionType: "SCHEME" }) }, o);
      expect(r.status, scheme).toBe(201);
    }
    expect((await trailEvents(trail)).length).toBe(2);
  });
});

describe("body limit while reading (MAX_BODY_BYTES = 8192 in the tests)", () => {
  const postStream = async (stream, trail, tok) =>
    call("/v1/events", { method: "POST", body: stream, duplex: "half",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok}` } }, { AUDIT_TRAIL: trail });

  it("stops reading a body without Content-Length as soon as it passes the limit: 413", async () => {
    const trail = unique("worker-stream-big");
    const chunk = enc.encode(`{"actionType":"X","details":{"blob":"${"x".repeat(1000)}`);
    const { stream, stats } = streamBody(Array.from({ length: 512 }, () => chunk));
    const r = await postStream(stream, trail, await token(unique("user")));
    expect(r.status).toBe(413);
    expect((await r.json()).error).toBe("payload_too_large");
    // About 8 KiB were needed to know; the other ~500 KiB were never pulled.
    expect(stats.pulled).toBeLessThan(32);
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("still accepts a streamed body within the limit", async () => {
    const trail = unique("worker-stream-ok");
    const text = JSON.stringify({ actionType: "STREAMED", details: { note: "é ü ✓".repeat(50) } });
    const bytes = enc.encode(text);
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.slice(i, i + 7));
    const { stream } = streamBody(chunks);
    const r = await postStream(stream, trail, await token(unique("user")));
    expect(r.status).toBe(201);
    const [ev] = await trailEvents(trail);
    expect(ev.eventType).toBe("STREAMED");
    expect(JSON.parse(ev.details)).toEqual({ note: "é ü ✓".repeat(50) });
  });

  it("reads the body as UTF-8: a leading byte-order mark dropped, other bytes that are not UTF-8 refused (400)", async () => {
    const trail = unique("worker-stream-utf8");
    const tok = await token(unique("user"));
    const text = enc.encode(JSON.stringify({ actionType: "WITH_BOM", details: { note: "é" } }));
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...text]);
    // The mark split across chunks, as a stream may deliver it.
    const r = await postStream(streamBody([withBom.slice(0, 2), withBom.slice(2)]).stream, trail, tok);
    expect(r.status).toBe(201);
    const [ev] = await trailEvents(trail);
    expect(ev.eventType).toBe("WITH_BOM");
    expect(JSON.parse(ev.details)).toEqual({ note: "é" });
    const latin1 = enc.encode('{"actionType":"LATIN1","details":{"note":"x"}}').map((b) => (b === 0x78 ? 0xe9 : b));
    const bad = await postStream(streamBody([latin1]).stream, trail, tok);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "bad_request", message: "could not read the body: the body is not UTF-8 text" });
    expect((await trailEvents(trail)).map((e) => e.eventType)).toEqual(["WITH_BOM"]);
  });
});

describe("CORS never trusts the null origin", () => {
  it("ignores null in ALLOWED_ORIGINS: no preflight, 403, no CORS headers, nothing written", async () => {
    const trail = unique("worker-null-origin");
    const o = { AUDIT_TRAIL: trail, ALLOWED_ORIGINS: "null,https://app.example" };
    const pre = await call("/v1/events", { method: "OPTIONS", headers: {
      Origin: "null", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } }, o);
    expect(pre.status).toBe(403);
    const corsHeaders = (r) => [...r.headers.keys()].filter((k) => k.startsWith("access-control-"));
    expect(corsHeaders(pre)).toEqual([]);
    const r = await post({ actionType: "FROM_NULL" }, { tok: await token(unique("user")), headers: { Origin: "null" }, overrides: o });
    expect(r.status).toBe(403);
    expect(corsHeaders(r)).toEqual([]);
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("takes an entry written as the page's URL (an app under /app/) as its origin", async () => {
    const trail = unique("worker-page-url-origin");
    const o = { AUDIT_TRAIL: trail, ALLOWED_ORIGINS: "https://App.Example.com/app/, https://b.example:443" };
    for (const Origin of ["https://app.example.com", "https://b.example"]) {
      const pre = await call("/v1/events", { method: "OPTIONS", headers: {
        Origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" } }, o);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("Access-Control-Allow-Origin")).toBe(Origin);
      const r = await post({ actionType: "FROM_PAGE" }, { tok: await token(unique("user")), headers: { Origin }, overrides: o });
      expect(r.status).toBe(201);
      expect(r.headers.get("Access-Control-Allow-Origin")).toBe(Origin);
    }
    const other = await post({ actionType: "FROM_ELSEWHERE" }, { tok: await token(unique("user")), headers: { Origin: "https://app.example.com:8443" }, overrides: o });
    expect(other.status).toBe(403);
    expect((await trailEvents(trail)).map((e) => e.eventType)).toEqual(["FROM_PAGE", "FROM_PAGE"]);
  });
});

describe("/v1/health", () => {
  it("without a client address or token: liveness only, no Neo4j round trip", async () => {
    // Neo4j "down" shows that no round trip happens.
    const r = await call("/v1/health", {}, { NEO4J_URL: "http://127.0.0.1:9" });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok", neo4j: "unchecked" });
  });

  it("with a valid token and no address: checks Neo4j, rate-limited per subject", async () => {
    const greedy = await token(unique("health"));
    await clearOfAMinuteBoundary();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call("/v1/health", { headers: { Authorization: `Bearer ${greedy}` } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const other = await call("/v1/health", { headers: { Authorization: `Bearer ${await token(unique("health"))}` } });
    expect(await other.json()).toEqual({ status: "ok", neo4j: "ok" });
    // The health bucket is not the ingest bucket: the greedy subject can still post.
    expect((await post({ actionType: "AFTER_HEALTH" }, { tok: greedy, overrides: { AUDIT_TRAIL: unique("worker-hb") } })).status).toBe(201);
  });

  it("fails closed (503 + Retry-After, no Neo4j) when the rate limiter binding is missing", async () => {
    const r = await call("/v1/health", { headers: { "CF-Connecting-IP": ip() } }, { RATE_LIMITER: undefined });
    expect(r.status).toBe(503);
    expect(r.headers.get("Retry-After")).toBe("5");
    // The answer names the binding: a deploy without the [[ratelimits]] stanza answers every
    // request 503, and "unavailable; retry later" alone did not say why.
    const body = await r.json();
    expect(body.error).toBe("unavailable");
    expect(body.message).toBe("rate limiter unavailable (the RATE_LIMITER binding is missing); retry later");
    const broken = { limit: async () => { throw new Error("limiter down"); } };
    const b = await call("/v1/health", { headers: { "CF-Connecting-IP": ip() } }, { RATE_LIMITER: broken });
    expect(b.status).toBe(503);
    // A limiter that answers no promise, or no yes/no, fails closed as well.
    for (const limit of [() => true, async () => ({}), async () => ({ success: "yes" }), () => { throw new Error("x"); }]) {
      const c = await call("/v1/health", { headers: { "CF-Connecting-IP": ip() } }, { RATE_LIMITER: { limit } });
      expect(c.status).toBe(503);
    }
  });

  it("answers 500 misconfigured, as /v1/events does, when AUDIT_JWT_SECRET is missing or short", async () => {
    for (const AUDIT_JWT_SECRET of [undefined, "too-short"]) {
      for (const headers of [{}, { "CF-Connecting-IP": ip() }]) {
        const r = await call("/v1/health", { headers }, { AUDIT_JWT_SECRET });
        expect(r.status).toBe(500);
        expect(await r.json()).toEqual({ error: "misconfigured",
          message: "the audit endpoint is not configured: check AUDIT_JWT_SECRET (the Worker's log says why)" });
      }
    }
  });
});

describe("rotating AUDIT_JWT_SECRET", () => {
  it("accepts tokens of AUDIT_JWT_SECRET_PREVIOUS too, and no other key", async () => {
    const trail = unique("worker-rotate");
    const previous = env.AUDIT_JWT_SECRET;
    const next = `rotated-${crypto.randomUUID()}`;
    const [oldSub, newSub] = [unique("old"), unique("new")];
    const before = await token(oldSub, {}, previous);
    // Switched without the previous secret: the old key's token is refused.
    expect((await post({ actionType: "CUT" }, { tok: before, overrides: { AUDIT_TRAIL: trail, AUDIT_JWT_SECRET: next } })).status).toBe(401);
    const rotating = { AUDIT_TRAIL: trail, AUDIT_JWT_SECRET: next, AUDIT_JWT_SECRET_PREVIOUS: previous };
    expect((await post({ actionType: "OLD_KEY" }, { tok: before, overrides: rotating })).status).toBe(201);
    expect((await post({ actionType: "NEW_KEY" }, { tok: await token(newSub, {}, next), overrides: rotating })).status).toBe(201);
    const other = await token(unique("x"), {}, `another-${crypto.randomUUID()}`);
    expect((await post({ actionType: "OTHER_KEY" }, { tok: other, overrides: rotating })).status).toBe(401);
    // A previous secret too short to be a key: misconfigured (500), named in the log.
    const short = await post({ actionType: "SHORT" }, { tok: await token(newSub, {}, next), overrides: { ...rotating, AUDIT_JWT_SECRET_PREVIOUS: "short" } });
    expect(short.status).toBe(500);
    expect((await short.json()).error).toBe("misconfigured");
    const rows = await cypher("MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) RETURN e.eventType, e.userUID ORDER BY e.eventType", { trail });
    expect(rows).toEqual([["NEW_KEY", newSub], ["OLD_KEY", oldSub]]);
  });
});

describe("provenance: source and occurredAt", () => {
  it("stores source=worker, occurredAt = the client's time and timestamp = the receive time", async () => {
    const trail = unique("worker-prov");
    const hourAgo = Date.now() - 3_600_000;
    const before = Date.now();
    const r = await post({ events: [{ actionType: "A_QUEUED", occurredAt: hourAgo }, { actionType: "B_NOW" }] },
      { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(201);
    const after = Date.now();
    const [a, b] = await trailProvenance(trail);
    expect(a).toMatchObject({ eventType: "A_QUEUED", source: "worker", occurredAt: hourAgo, occurredType: "ZONED DATETIME NOT NULL" });
    expect(a.timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(a.timestamp).toBeLessThanOrEqual(after + 1000);
    expect(b).toMatchObject({ eventType: "B_NOW", source: "worker" });
    expect(b.occurredAt).toBe(b.timestamp);
  });

  it("refuses (400) an occurredAt too far ahead or too old, per OCCURRED_AT_MAX_*_SECS, and writes nothing", async () => {
    const trail = unique("worker-skew-occ");
    const o = { AUDIT_TRAIL: trail };
    const ahead = Date.now() + 10 * 60_000;
    const r = await post({ actionType: "FUTURE", occurredAt: ahead }, { tok: await token(unique("user")), overrides: o });
    expect(r.status).toBe(400);
    expect((await r.json()).message).toMatch(/occurredAt.*ahead/);
    const old = Date.now() - 9 * 86_400_000;
    expect((await post({ actionType: "ANCIENT", occurredAt: old }, { tok: await token(unique("user")), overrides: o })).status).toBe(400);
    expect((await post({ actionType: "TEXT", occurredAt: "yesterday" }, { tok: await token(unique("user")), overrides: o })).status).toBe(400);
    expect(await trailEvents(trail)).toEqual([]);
    const wide = { ...o, OCCURRED_AT_MAX_SKEW_SECS: "1200" };
    expect((await post({ actionType: "FUTURE", occurredAt: ahead }, { tok: await token(unique("user")), overrides: wide })).status).toBe(201);
    const [ev] = await trailProvenance(trail);
    expect(ev.occurredAt).toBe(ahead);
  });
});

describe("ALLOWED_CATEGORIES", () => {
  it("refuses (403 forbidden) a category not listed, including the default USER_ACTION", async () => {
    const trail = unique("worker-cats");
    const o = { AUDIT_TRAIL: trail, ALLOWED_CATEGORIES: "SECURITY, DOCUMENT_MANAGEMENT" };
    expect((await post({ actionType: "LOGIN", category: "SECURITY" }, { tok: await token(unique("user")), overrides: o })).status).toBe(201);
    for (const body of [{ actionType: "DEFAULTED" }, { actionType: "X", category: "BILLING" },
      { events: [{ actionType: "OK", category: "SECURITY" }, { actionType: "NO", category: "security" }] }]) {
      const r = await post(body, { tok: await token(unique("user")), overrides: o });
      expect(r.status, JSON.stringify(body)).toBe(403);
      const j = await r.json();
      expect(j.error).toBe("forbidden");
      expect(j.message).toMatch(/category/);
    }
    const withDefault = { ...o, ALLOWED_CATEGORIES: "SECURITY,USER_ACTION" };
    expect((await post({ actionType: "DEFAULTED" }, { tok: await token(unique("user")), overrides: withDefault })).status).toBe(201);
    expect((await trailEvents(trail)).map((e) => [e.eventType, e.eventCategory]).sort())
      .toEqual([["DEFAULTED", "USER_ACTION"], ["LOGIN", "SECURITY"]]);
  });
});

// Trojan Source (CVE-2021-42574): a bidirectional control (U+202E, U+2067, ...) reorders how the
// text around it is displayed, so that an audit trail shows a disguised name. The rule table
// (src/rules.rs) refuses them in uids, user names and trail names, at the client and here.
describe("bidirectional controls in identifiers", () => {
  it("refuses them in a target uid (400), the token's sub, name and tenant claims (401), writes nothing; details may hold them", async () => {
    const trail = unique("worker-bidi");
    const o = { AUDIT_TRAIL: trail, ALLOWED_TARGET_LABELS: "Document" };
    // (A uid refuses them as invisible characters; a name as bidirectional controls.)
    const rule = "must not hold invisible characters (Unicode Default_Ignorable_Code_Point, e.g. U+200B)";
    for (const c of ["\u202E", "\u2067", "\u200F"]) {
      const r = await post({ actionType: "BIDI", targets: [{ label: "Document", uid: `doc${c}-1` }] },
        { tok: await token(unique("user")), overrides: o });
      expect(r.status).toBe(400);
      const j = await r.json();
      expect(j.error).toBe("bad_request");
      expect(j.message).toContain(`targets[0].uid ${rule}`);
      const refused = [
        [await token(`adm${c}nimda`), o, "token has no usable sub claim"],
        [await token(unique("user"), { name: `Ann${c} (admin)` }), o,
          "token's name claim is not a string of at most 1024 bytes without control characters or bidirectional controls"],
        [await token(unique("user"), { org_id: `acme${c}` }), { ...o, TENANT_CLAIM: "org_id" },
          "token's tenant claim is not a trail name: 1-200 bytes, no control or invisible characters, no white space at either end"],
      ];
      for (const [tok, overrides, message] of refused) {
        const r = await post({ actionType: "BIDI" }, { tok, overrides });
        expect(r.status, message).toBe(401);
        expect(await r.json()).toEqual({ error: "unauthorized", message });
      }
    }
    expect(await trailEvents(trail)).toEqual([]);
    // Free text: details keep them, as sent; a right-to-left name without controls is a name.
    const name = "\u05D3\u05E0\u05D4";
    const r = await post({ actionType: "BIDI_OK", details: { note: "a\u202Eb" } }, { tok: await token(unique("user"), { name }), overrides: o });
    expect(r.status).toBe(201);
    expect((await trailEvents(trail)).map((e) => [e.eventType, e.userName, JSON.parse(e.details).note])).toEqual([["BIDI_OK", name, "a\u202Eb"]]);
  });
});

// Invisible characters (Unicode's Default_Ignorable_Code_Point: U+200B zero width space, U+FEFF,
// U+00AD soft hyphen, U+2060 word joiner, ...) and white space at either end of an identity: a
// token whose sub was "alice\u200B" wrote events that showed as alice's; a tenant claim " acme"
// (or "acme\u200B") was a trail of its own, "org: acme", that displays as acme's. The rule table
// (src/rules.rs) refuses them in uids, the tenant and trail names; a display name keeps its
// joiners (Persian, emoji sequences).
describe("invisible characters and white space at the ends of identities", () => {
  it("refuses them in a target uid (400), the token's sub and tenant claims (401), AUDIT_TRAIL (500: invisible ones; a setting's ends are trimmed); writes nothing", async () => {
    const trail = unique("worker-invisible");
    const acme = unique("acme");
    const o = { AUDIT_TRAIL: trail, ALLOWED_TARGET_LABELS: "Document" };
    const tenantRule = "token's tenant claim is not a trail name: 1-200 bytes, no control or invisible characters, " +
      "no white space at either end";
    for (const c of ["\u200B", "\uFEFF", "\u00AD", "\u2060", "\u3164"]) {
      const r = await post({ actionType: "INVISIBLE", targets: [{ label: "Document", uid: `doc${c}-1` }] },
        { tok: await token(unique("user")), overrides: o });
      expect(r.status).toBe(400);
      const j = await r.json();
      expect(j.error).toBe("bad_request");
      expect(j.message).toContain("targets[0].uid must not hold invisible characters (Unicode Default_Ignorable_Code_Point, e.g. U+200B)");
      const refused = [
        [await token(`alice${c}`), o, "token has no usable sub claim"],
        [await token(unique("user"), { org_id: `${acme}${c}` }), { ...o, TENANT_CLAIM: "org_id" }, tenantRule],
      ];
      for (const [tok, overrides, message] of refused) {
        const r = await post({ actionType: "INVISIBLE" }, { tok, overrides });
        expect(r.status, `${message} ${escape(c)}`).toBe(401);
        expect(await r.json()).toEqual({ error: "unauthorized", message });
      }
      const bad = await post({ actionType: "INVISIBLE" }, { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: `${trail}${c}` } });
      expect(bad.status).toBe(500);
      expect(await bad.json()).toEqual({ error: "misconfigured", message: expect.any(String) });
    }
    for (const t of [` ${acme}`, `${acme} `, `\u00A0${acme}`, `${acme}\u3000`]) {
      const r = await post({ actionType: "PADDED" }, { tok: await token(unique("user"), { org_id: t }), overrides: { ...o, TENANT_CLAIM: "org_id" } });
      expect(r.status, escape(t)).toBe(401);
      expect(await r.json()).toEqual({ error: "unauthorized", message: tenantRule });
    }
    expect(await trailEvents(trail)).toEqual([]);
    const tenants = await cypher("MATCH (t:AuditTrail) WHERE t.name CONTAINS $acme RETURN count(t)", { acme });
    expect(tenants).toEqual([[0]]);
    // A display name keeps its joiners and variation selectors: Persian with a zero width
    // non-joiner, an emoji sequence.
    const name = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 \u{1F469}\u200D\u{1F4BB} \u2764\uFE0F";
    const r = await post({ actionType: "INVISIBLE_OK", details: { note: "a\u200Bb" } }, { tok: await token("u-invisible", { name }), overrides: o });
    expect(r.status, await r.clone().text()).toBe(201);
    expect((await trailEvents(trail)).map((e) => [e.eventType, e.userUID, e.userName, JSON.parse(e.details).note]))
      .toEqual([["INVISIBLE_OK", "u-invisible", name, "a\u200Bb"]]);
  });
});
