// The Worker inside workerd, against the real Neo4j: every test writes to its own trail and
// reads the graph back independently.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { unsignedJwt, nowSecs } from "./jwt.mjs";
import { call, clearOfAMinuteBoundary, cypher, post, token, trailEvents, unique } from "./helpers.mjs";

const ORIGIN = "https://app.example";
const EVIL = "https://evil.example";

describe("POST /v1/events", () => {
  it("writes the event with the token's user and answers 201 after commit", async () => {
    const trail = unique("worker-ok");
    const sub = unique("user");
    const r = await post(
      { actionType: "DOCUMENT_MODIFIED", category: "DOCUMENT_MANAGEMENT", details: { document_id: "doc-456" } },
      { tok: await token(sub, { name: "John Doe" }), overrides: { AUDIT_TRAIL: trail } },
    );
    expect(r.status).toBe(201);
    const body = await r.json();
    expect(body.accepted).toBe(1);
    const got = await trailEvents(trail);
    expect(got).toEqual([{
      uid: body.uids[0], eventType: "DOCUMENT_MODIFIED", eventCategory: "DOCUMENT_MANAGEMENT",
      userUID: sub, userName: "John Doe", details: JSON.stringify({ document_id: "doc-456" }),
    }]);
  });

  it("redacts sensitive detail keys before storing (REDACT_KEYS, default list)", async () => {
    const trail = unique("worker-redact");
    // (A number glued to a name, `password2`, `cvv2`: stored as sent before.)
    const r = await post({ actionType: "LOGIN", details: { doc: "d1", password: "hunter2", nested: { api_key: "k-123", "x-apikey": "k-456" }, form: [{ password2: "hunter2", cvv2: "123" }] } },
      { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(201);
    const [ev] = await trailEvents(trail);
    expect(JSON.parse(ev.details)).toEqual({ doc: "d1", password: "[REDACTED]", nested: { api_key: "[REDACTED]", "x-apikey": "[REDACTED]" }, form: [{ password2: "[REDACTED]", cvv2: "[REDACTED]" }] });
    const custom = await post({ actionType: "LOGIN", details: { doc: "d2", password: "kept" } },
      { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail, REDACT_KEYS: "doc" } });
    expect(custom.status).toBe(201);
    const all = await trailEvents(trail);
    expect(all.map((e) => JSON.parse(e.details)).find((d) => d.password === "kept")).toEqual({ doc: "[REDACTED]", password: "kept" });
  });

  it("writes a batch in one request", async () => {
    const trail = unique("worker-batch");
    const sub = unique("user");
    const events = ["A", "B", "C"].map((a) => ({ actionType: `STEP_${a}` }));
    const r = await post({ events }, { tok: await token(sub), overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(201);
    const got = await trailEvents(trail);
    expect(got.map((e) => e.eventType).sort()).toEqual(["STEP_A", "STEP_B", "STEP_C"]);
    expect(new Set(got.map((e) => e.userUID))).toEqual(new Set([sub]));
    expect(got.every((e) => e.eventCategory === "USER_ACTION")).toBe(true);
  });

  it("makes a retried event (same client UID, same subject) land once; another subject cannot reach it", async () => {
    const trail = unique("worker-idem");
    const alice = unique("alice");
    const UID = crypto.randomUUID();
    const o = { AUDIT_TRAIL: trail };
    const first = await post({ actionType: "PAY", UID }, { tok: await token(alice), overrides: o });
    const again = await post({ actionType: "PAY", UID }, { tok: await token(alice), overrides: o });
    expect([first.status, again.status]).toEqual([201, 201]);
    const [u1, u2] = [(await first.json()).uids[0], (await again.json()).uids[0]];
    expect(u1).toBe(u2);
    expect(u1).not.toBe(UID);
    const mallory = unique("mallory");
    const other = await post({ actionType: "PAY", UID }, { tok: await token(mallory), overrides: o });
    expect(other.status).toBe(201);
    expect((await other.json()).uids[0]).not.toBe(u1);
    const got = await trailEvents(trail);
    expect(got.map((e) => [e.uid, e.userUID]).sort()).toEqual([[u1, alice], [(await trailEvents(trail)).find((e) => e.userUID === mallory).uid, mallory]].sort());
    expect(got.length).toBe(2);
  });

  it("refuses a body that names a user (403) and writes nothing", async () => {
    const trail = unique("worker-forged");
    const tok = await token(unique("user"));
    for (const body of [
      { actionType: "X", user: { uid: "admin", name: "Admin" } },
      { actionType: "X", userUID: "admin" },
      { events: [{ actionType: "X" }, { actionType: "Y", userName: "Admin" }] },
    ]) {
      const r = await post(body, { tok, overrides: { AUDIT_TRAIL: trail } });
      expect(r.status).toBe(403);
      const j = await r.json();
      expect(j.error).toBe("forbidden");
      expect(j.message).toMatch(/token/);
    }
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("refuses missing, expired, not-yet-valid, forged, alg:none and wrong-audience tokens (401)", async () => {
    const trail = unique("worker-tokens");
    const sub = unique("user");
    const cases = {
      missing: undefined,
      expired: await token(sub, { exp: nowSecs() - 120 }),
      notYet: await token(sub, { nbf: nowSecs() + 600 }),
      // Issued ten minutes from now (a clock running fast, or a token minted ahead).
      issuedLater: await token(sub, { iat: nowSecs() + 600, exp: nowSecs() + 900 }),
      otherKey: await token(sub, {}, "a-different-secret-a-different-secret!"),
      algNone: unsignedJwt({ sub, exp: nowSecs() + 300, aud: "neo4j-audit", iss: "https://idp.example" }),
      audience: await token(sub, { aud: "someone-else" }),
      issuer: await token(sub, { iss: "https://evil.example" }),
      noExp: await token(sub, { exp: undefined }),
      garbage: "not.a.jwt",
    };
    for (const [name, tok] of Object.entries(cases)) {
      const r = await post({ actionType: "X" }, { tok, overrides: { AUDIT_TRAIL: trail } });
      expect(r.status, name).toBe(401);
      expect(r.headers.get("WWW-Authenticate"), name).toMatch(/^Bearer/);
      const j = await r.json();
      expect(j.error, name).toBe("unauthorized");
      if (tok) expect(j.message, name).not.toContain(tok);
    }
    // A signature check that is not just "any signature": flip one payload character.
    const good = await token(sub);
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${p.slice(0, -2)}${p.at(-2) === "A" ? "B" : "A"}${p.at(-1)}.${s}`;
    expect((await post({ actionType: "X" }, { tok: tampered, overrides: { AUDIT_TRAIL: trail } })).status).toBe(401);
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("accepts a token of an identity provider's largest size (200 group ids: ~11 KB), refuses one over 16 KiB", async () => {
    // Microsoft Entra ID puts up to 200 group object ids into a JWT before it switches to its
    // overage claim; such a token is ~11 KB. The Worker refused every token over 8192 bytes as
    // "token is not a well-formed JWS compact serialisation" (401), so a user in many groups
    // could log nothing, and the reason pointed at the token's encoding.
    const trail = unique("worker-big-token");
    const sub = unique("user");
    const groups = Array.from({ length: 200 }, () => crypto.randomUUID());
    const big = await token(sub, { groups, roles: ["Audit.Write"], tid: crypto.randomUUID() });
    expect(big.length).toBeGreaterThan(10_000);
    const r = await post({ actionType: "BIG_TOKEN" }, { tok: big, overrides: { AUDIT_TRAIL: trail } });
    expect(r.status, await r.clone().text()).toBe(201);
    const events = await trailEvents(trail);
    expect(events.map((e) => [e.eventType, e.userUID])).toEqual([["BIG_TOKEN", sub]]);
    // Over the bound (MAX_TOKEN_LEN, 16384 bytes): still a 401.
    const huge = await token(sub, { groups: [...groups, ...groups] });
    expect(huge.length).toBeGreaterThan(16_384);
    const h = await post({ actionType: "BIG_TOKEN" }, { tok: huge, overrides: { AUDIT_TRAIL: trail } });
    expect(h.status).toBe(401);
    expect((await h.json()).message).toBe("token is not a well-formed JWS compact serialisation");
    expect((await trailEvents(trail)).length).toBe(1);
  });

  it("accepts a token expired within the configured clock skew, and not beyond it", async () => {
    const trail = unique("worker-skew");
    const sub = unique("user");
    const tok = await token(sub, { exp: nowSecs() - 20 });
    expect((await post({ actionType: "X" }, { tok, overrides: { AUDIT_TRAIL: trail } })).status).toBe(201);
    const strict = { AUDIT_TRAIL: trail, JWT_CLOCK_SKEW_SECS: "5" };
    expect((await post({ actionType: "X" }, { tok, overrides: strict })).status).toBe(401);
    expect((await trailEvents(trail)).length).toBe(1);
  });

  it("answers 413 for oversized bodies, batches and details", async () => {
    const trail = unique("worker-big");
    const tok = await token(unique("user"));
    const o = { AUDIT_TRAIL: trail };
    const big = JSON.stringify({ actionType: "X", details: { blob: "x".repeat(9000) } });
    const r1 = await post(big, { tok, overrides: o });
    expect(r1.status).toBe(413);
    // Each 413 names the var that bounds it (the body's and the batch's named none before).
    expect(await r1.json()).toEqual({ error: "payload_too_large", message: "the body is larger than MAX_BODY_BYTES (8192 bytes)" });
    const many = { events: Array.from({ length: 11 }, () => ({ actionType: "X" })) };
    const r2 = await post(many, { tok, overrides: o });
    expect(r2.status).toBe(413);
    expect((await r2.json()).message).toBe("11 events in one request, more than MAX_BATCH (10)");
    const fat = { actionType: "X", details: { blob: "y".repeat(3000) } };
    const r3 = await post(fat, { tok, overrides: o });
    expect(r3.status).toBe(413);
    expect((await r3.json()).message).toMatch(/^events\[0\]: details are \d+ bytes as JSON, more than MAX_DETAILS_BYTES \(2048\)$/);
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("answers 415 for a non-JSON content type and 400 for bad JSON or fields", async () => {
    const trail = unique("worker-shape");
    const tok = await token(unique("user"));
    const o = { AUDIT_TRAIL: trail };
    const r = await post(JSON.stringify({ actionType: "X" }), { tok, headers: { "Content-Type": "text/plain" }, overrides: o });
    expect(r.status).toBe(415);
    expect(await r.json()).toMatchObject({ error: "unsupported_media_type" });
    for (const body of ["{", "[]", { actionType: "has space" }, { actionType: "X", extra: 1 },
      { actionType: "X", details: [1] }, { actionType: "X", details: { a: { b: { c: { d: { e: 1 } } } } } }, { events: [] }]) {
      // A fresh subject each time, so the per-subject rate limit (5 in the tests) stays out of it.
      const b = await post(body, { tok: await token(unique("user")), overrides: o });
      expect(b.status, JSON.stringify(body)).toBe(400);
      expect((await b.json()).error).toBe("bad_request");
    }
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("answers 415 naming Content-Encoding for a compressed body (it was a 400 about UTF-8 or JSON)", async () => {
    const trail = unique("worker-gzip");
    const o = { AUDIT_TRAIL: trail };
    const json = JSON.stringify({ actionType: "COMPRESSED" });
    const gz = new Uint8Array(await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    for (const [encoding, body] of [["gzip", gz], ["br", json], ["GZIP, identity", gz]]) {
      const r = await call("/v1/events", { method: "POST", body,
        headers: { "Content-Type": "application/json", "Content-Encoding": encoding, Authorization: `Bearer ${await token(unique("user"))}` } }, o);
      expect(r.status, encoding).toBe(415);
      expect(await r.json(), encoding).toEqual({ error: "unsupported_media_type",
        message: "Content-Encoding must be identity (or absent): send the JSON uncompressed" });
    }
    expect(await trailEvents(trail)).toEqual([]);
    // "identity" (any case) is no encoding: the event is written.
    const ok = await call("/v1/events", { method: "POST", body: json,
      headers: { "Content-Type": "application/json", "Content-Encoding": " Identity ", Authorization: `Bearer ${await token(unique("user"))}` } }, o);
    expect(ok.status).toBe(201);
    expect((await trailEvents(trail)).map((e) => e.eventType)).toEqual(["COMPRESSED"]);
  });

  it("answers 405 for other methods and 404 for other paths", async () => {
    const r = await call("/v1/events", { method: "GET" });
    expect(r.status).toBe(405);
    expect(r.headers.get("Allow")).toContain("POST");
    expect((await call("/v1/health", { method: "POST" })).status).toBe(405);
    expect((await call("/admin")).status).toBe(404);
  });

  it("answers HEAD on /v1/health like GET, without a body (it was 405)", async () => {
    const r = await call("/v1/health", { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toContain("application/json");
    expect(await r.text()).toBe("");
    expect((await call("/v1/health", { method: "PUT" })).headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin", async () => {
    const r = await call("/v1/events", { method: "OPTIONS", headers: {
      Origin: ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" } });
    expect(r.status).toBe(204);
    expect(r.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(r.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(r.headers.get("Access-Control-Allow-Headers").toLowerCase()).toContain("authorization");
  });

  it("reads ALLOWED_ORIGINS (and the other lists) written as a TOML array as its items, not as unset", async () => {
    // `ALLOWED_ORIGINS = ["http://localhost:5173"]` in wrangler.toml reaches the Worker as an
    // array: it was read as unset, every preflight was a 403 and the log said "ALLOWED_ORIGINS is
    // not set" while wrangler listed it (found setting up a Worker from the README).
    const pre = (origin, overrides) => call("/v1/events", { method: "OPTIONS", headers: {
      Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } }, overrides);
    const list = { ALLOWED_ORIGINS: ["http://localhost:5173", ORIGIN] };
    expect((await pre(ORIGIN, list)).status).toBe(204);
    expect((await pre("http://localhost:5173", list)).status).toBe(204);
    expect((await pre(EVIL, list)).status).toBe(403);
    // Another list: ALLOWED_TARGET_LABELS as an array lets its labels through.
    const trail = unique("worker-toml-array");
    const targets = [{ label: "Document", uid: unique("doc") }];
    const refused = await post({ actionType: "X", targets }, { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail } });
    expect(refused.status).toBe(403);
    const ok = await post({ actionType: "X", targets },
      { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail, ALLOWED_TARGET_LABELS: ["Folder", "Document"] } });
    expect(ok.status).toBe(201);
  });

  it("gives no CORS headers to other origins, on preflight or request, and writes nothing", async () => {
    const trail = unique("worker-cors");
    const pre = await call("/v1/events", { method: "OPTIONS", headers: {
      Origin: EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } });
    expect(pre.status).toBe(403);
    const corsHeaders = (r) => [...r.headers.keys()].filter((k) => k.startsWith("access-control-"));
    expect(corsHeaders(pre)).toEqual([]);
    const r = await post({ actionType: "X" }, { tok: await token(unique("user")), headers: { Origin: EVIL }, overrides: { AUDIT_TRAIL: trail } });
    expect(r.status).toBe(403);
    expect(corsHeaders(r)).toEqual([]);
    expect(await trailEvents(trail)).toEqual([]);
    // An allowed origin gets its CORS headers on the real answer too.
    const ok = await post({ actionType: "X" }, { tok: await token(unique("user")), headers: { Origin: ORIGIN }, overrides: { AUDIT_TRAIL: trail } });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
  });
});

describe("rate limiting (workerd's ratelimit binding, 5 per 60 s per subject)", () => {
  it("answers 429 with Retry-After once a subject is over its limit; other subjects go on", async () => {
    const trail = unique("worker-rate");
    const o = { AUDIT_TRAIL: trail };
    const greedy = await token(unique("greedy"));
    await clearOfAMinuteBoundary();
    const statuses = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await post({ actionType: `N${i}` }, { tok: greedy, overrides: o })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await post({ actionType: "LATE" }, { tok: greedy, overrides: o });
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect((await limited.json()).error).toBe("rate_limited");
    expect((await post({ actionType: "OTHER" }, { tok: await token(unique("calm")), overrides: o })).status).toBe(201);
    const got = await trailEvents(trail);
    expect(got.map((e) => e.eventType).sort()).toEqual(["N0", "N1", "N2", "N3", "N4", "OTHER"]);
  });
});

describe("Neo4j", () => {
  it("GET /v1/health checks Neo4j (for a caller with an address)", async () => {
    const r = await call("/v1/health", { headers: { "CF-Connecting-IP": "192.0.2.77" } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok", neo4j: "ok" });
  });

  it("rate-limits /v1/health per client address", async () => {
    const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
    await clearOfAMinuteBoundary();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call("/v1/health", { headers: { "CF-Connecting-IP": ip } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await call("/v1/health", { headers: { "CF-Connecting-IP": `${ip}1` } })).status).toBe(200);
  });

  it("rate-limits /v1/health per IPv6 /64, not per address: one host's addresses share a bucket", async () => {
    // Anyone with an IPv6 connection holds a /64 (2^64 addresses): keyed by the whole address, a
    // fresh address per request was a fresh bucket, and every unauthenticated check reached Neo4j.
    const r = () => Math.floor(Math.random() * 0xffff).toString(16);
    const net = `2001:db8:${r()}:${r()}`;
    await clearOfAMinuteBoundary();
    const statuses = [];
    for (const host of ["::1", "::2", ":a:b:c:d", "::ffff:c000:201", "::5"]) {
      statuses.push((await call("/v1/health", { headers: { "CF-Connecting-IP": net + host } })).status);
    }
    // The same /64 written out in full, with leading zeros and in upper case: one bucket too.
    const full = net.split(":").map((g) => g.padStart(4, "0").toUpperCase()).join(":");
    statuses.push((await call("/v1/health", { headers: { "CF-Connecting-IP": `${full}:0:0:0:9` } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // The next /64 is another subscriber's: a bucket of its own.
    const other = `2001:db8:${r()}:${r()}::1`;
    expect((await call("/v1/health", { headers: { "CF-Connecting-IP": other } })).status).toBe(200);
  });

  it("answers 503 + Retry-After when Neo4j is unreachable, leaks no secret, and writes nothing", async () => {
    // workerd words the refused connection as "Network connection lost." and logs it itself
    // ("uncaught exception; source = Uncaught (in promise) ... Network connection lost.") although
    // src/transport/fetch.js handles the rejection: see the note at `reason` there.
    const trail = unique("worker-down");
    const down = { AUDIT_TRAIL: trail, NEO4J_URL: "http://127.0.0.1:9" };
    const r = await post({ events: [{ actionType: "A" }, { actionType: "B" }] }, { tok: await token(unique("user")), overrides: down });
    expect(r.status).toBe(503);
    expect(r.headers.get("Retry-After")).toBe("5");
    const text = await r.text();
    expect(JSON.parse(text).error).toBe("unavailable");
    for (const secret of [env.NEO4J_PASSWORD, env.AUDIT_JWT_SECRET, "127.0.0.1:9"]) expect(text).not.toContain(secret);
    const h = await call("/v1/health", { headers: { "CF-Connecting-IP": "192.0.2.78" } }, down);
    expect(h.status).toBe(503);
    expect(h.headers.get("Retry-After")).toBe("5");
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("answers 500 (not 503) when Neo4j refuses the Worker's credentials, without echoing them", async () => {
    const trail = unique("worker-badcreds");
    const r = await post({ actionType: "X" }, { tok: await token(unique("user")), overrides: { AUDIT_TRAIL: trail, NEO4J_PASSWORD: "wrong-password-xyz" } });
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain("wrong-password-xyz");
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("refuses a plain http NEO4J_URL to a host that is not loopback (500 misconfigured, nothing sent) unless NEO4J_ALLOW_INSECURE_HTTP is true", async () => {
    // It would send the Worker's Neo4j password in cleartext.
    const trail = unique("worker-cleartext");
    const remote = { AUDIT_TRAIL: trail, NEO4J_URL: "http://neo4j-audit-worker.invalid:7474" };
    for (const overrides of [remote, { ...remote, NEO4J_ALLOW_INSECURE_HTTP: "yes" }]) {
      const r = await post({ actionType: "X" }, { tok: await token(unique("user")), overrides });
      expect(r.status).toBe(500);
      const t = await r.text();
      expect(JSON.parse(t).error).toBe("misconfigured");
      expect(t).not.toContain(env.NEO4J_PASSWORD);
    }
    // The opt-out: the Worker then tries that host (which does not resolve: 503, retry later).
    const r = await post({ actionType: "X" }, { tok: await token(unique("user")), overrides: { ...remote, NEO4J_ALLOW_INSECURE_HTTP: "true" } });
    expect(r.status).toBe(503);
    expect(JSON.parse(await r.text()).error).toBe("unavailable");
    expect(await trailEvents(trail)).toEqual([]);
  });

  it("reads a var written without quotes (a number, a boolean) as its text, never silently the default", async () => {
    // wrangler passes `MAX_BATCH = 2` as the number 2; it used to be ignored (default 100).
    const trail = unique("worker-numeric-var");
    const tok = await token(unique("user"));
    const three = { events: [{ actionType: "A" }, { actionType: "B" }, { actionType: "C" }] };
    const r = await post(three, { tok, overrides: { AUDIT_TRAIL: trail, MAX_BATCH: 2 } });
    expect(r.status).toBe(413);
    expect(await trailEvents(trail)).toEqual([]);
    const two = await post({ events: three.events.slice(0, 2) }, { tok, overrides: { AUDIT_TRAIL: trail, MAX_BATCH: 2 } });
    expect(two.status).toBe(201);
    expect((await trailEvents(trail)).length).toBe(2);
    // A number that is not a whole count is refused like the text "2.5".
    const frac = await post({ actionType: "X" }, { tok, overrides: { AUDIT_TRAIL: trail, MAX_BATCH: 2.5 } });
    expect(frac.status).toBe(500);
    expect(JSON.parse(await frac.text()).error).toBe("misconfigured");
    // A boolean opt-out: `NEO4J_ALLOW_INSECURE_HTTP = true` (the host does not resolve: 503, not 500).
    const remote = { AUDIT_TRAIL: trail, NEO4J_URL: "http://neo4j-audit-worker.invalid:7474", NEO4J_ALLOW_INSECURE_HTTP: true };
    const insecure = await post({ actionType: "X" }, { tok, overrides: remote });
    expect(insecure.status).toBe(503);
    expect((await trailEvents(trail)).length).toBe(2);
  });

  it("answers 500 misconfigured when the JWT secret is too short", async () => {
    const r = await post({ actionType: "X" }, { tok: await token("u", {}, "short"), overrides: { AUDIT_JWT_SECRET: "short" } });
    expect(r.status).toBe(500);
    const t = await r.text();
    expect(JSON.parse(t).error).toBe("misconfigured");
    expect(t).not.toContain("short");
  });
});
