// What the operator who deploys the Worker sees when a setting is wrong: every misconfiguration is
// a 500 JSON naming the setting (never its value) at /v1/events and /v1/health alike, the log line
// says why in the Worker's own words (its setting names, not the library's fields), and nothing
// is written. A Neo4j that refuses the password or is down is a 500 / 503 JSON.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call, cypher, post, token, trailEvents, unique } from "./helpers.mjs";

/** What `f` returns, with the Worker's log lines (console.error) while it ran. */
async function withLogs(f) {
  const logs = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a) => { logs.push(a.join(" ")); });
  try {
    return { ...(await f()), logs };
  } finally {
    spy.mockRestore();
  }
}

/** `overrides` for one request to /v1/events and one to /v1/health; their answers and log lines. */
const both = (overrides) => withLogs(async () => {
  const o = { AUDIT_TRAIL: unique("operator"), ...overrides };
  const r = await post({ actionType: "OP_CHECK" }, { tok: await token(unique("op")), overrides: o });
  const h = await call("/v1/health", { headers: { "CF-Connecting-IP": unique("ip") } }, o);
  return { events: [r.status, await r.json()], health: [h.status, await h.json()], trail: o.AUDIT_TRAIL };
});

// A retired public key (wrangler.toml's example) and AUDIT_PUBLIC_KEYS lists that are not
// usable: [list, what the log says]. The log names the entry and a well-formed id, never the key.
const OLD_KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const OLDER_KEY = "PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"; // RFC 8032's test vector 2
const PUBLIC_KEYS_CASES = [
  [`k0:${OLD_KEY}, junk`, "AUDIT_PUBLIC_KEYS entry 2: an entry is not kid:key"],
  [`k0:${OLD_KEY.slice(1)}`, "AUDIT_PUBLIC_KEYS entry 1: key \"k0\": x must be base64url of 32 bytes"],
  [`k0:${OLD_KEY.slice(0, -1)}+`, "AUDIT_PUBLIC_KEYS entry 1: key \"k0\": x must be base64url of 32 bytes"],
  [`k 0:${OLD_KEY}`, "AUDIT_PUBLIC_KEYS entry 1: a key id is not 1-64 characters of A-Z a-z 0-9 _ . : -"],
  [`k0:${OLD_KEY},k0:${OLD_KEY}`, "AUDIT_PUBLIC_KEYS entry 2: key id \"k0\" is listed twice"],
];

describe("a misconfigured Worker names the setting", () => {
  // [overrides, the setting the answer names, what the log line says]
  const cases = [
    [{ NEO4J_URL: "not a url" }, "NEO4J_URL", "NEO4J_URL is not a valid URL"],
    [{ NEO4J_URL: "ftp://neo4j.example" }, "NEO4J_URL", "NEO4J_URL must be http or https"],
    [{ NEO4J_URL: undefined }, "NEO4J_URL", "NEO4J_URL is not set"],
    [{ NEO4J_USER: undefined }, "NEO4J_USER", "NEO4J_USER is not set"],
    [{ NEO4J_PASSWORD: undefined }, "NEO4J_PASSWORD", "NEO4J_PASSWORD is not set"],
    [{ NEO4J_USER: "a:b" }, "NEO4J_USER", "NEO4J_USER must not contain ':'"],
    [{ NEO4J_DATABASE: "bad db!" }, "NEO4J_DATABASE", "NEO4J_DATABASE \"bad db!\" is not a valid"],
    [{ AUDIT_TRAIL: "t".repeat(300) }, "AUDIT_TRAIL", "AUDIT_TRAIL must be a non-empty string"],
    [{ NEO4J_TIMEOUT_MS: "0" }, "NEO4J_TIMEOUT_MS", "NEO4J_TIMEOUT_MS must be an integer between 1 and 600000"],
    [{ MAX_DETAILS_BYTES: "99999999999" }, "MAX_DETAILS_BYTES", "MAX_DETAILS_BYTES must be an integer between 1 and"],
    [{ MAX_BATCH: "0" }, "MAX_BATCH", "MAX_BATCH must be at least 1"],
    [{ MAX_BODY_BYTES: "0" }, "MAX_BODY_BYTES", "MAX_BODY_BYTES must be at least 1"],
    [{ MAX_DETAILS_BYTES: "0" }, "MAX_DETAILS_BYTES", "MAX_DETAILS_BYTES must be at least 1"],
    [{ ALLOWED_ORIGINS: "https://app.example, app.example.com" }, "ALLOWED_ORIGINS", "ALLOWED_ORIGINS lists \"app.example.com\", which matches nothing: list exact values (an origin: scheme://host[:port])"],
    // Before: a list entry no request can match (a wildcard, two values separated by a space
    // instead of a comma) refused every page, event or target that it was meant to allow, while
    // /v1/health said ok and the log said nothing.
    [{ ALLOWED_ORIGINS: "https://*.example.com" }, "ALLOWED_ORIGINS", "ALLOWED_ORIGINS lists \"https://*.example.com\", which matches nothing: list exact values (an origin: scheme://host[:port])"],
    [{ ALLOWED_ORIGINS: "https://a.example https://b.example" }, "ALLOWED_ORIGINS", "ALLOWED_ORIGINS lists \"https://a.example https://b.example\", which matches nothing"],
    [{ ALLOWED_CATEGORIES: "USER_ACTION SECURITY" }, "ALLOWED_CATEGORIES", "ALLOWED_CATEGORIES lists \"USER_ACTION SECURITY\", which matches nothing"],
    [{ ALLOWED_TARGET_LABELS: "Document Folder" }, "ALLOWED_TARGET_LABELS", "ALLOWED_TARGET_LABELS lists \"Document Folder\", which matches nothing"],
    [{ ALLOWED_CATEGORIES: "SECURITY,DOC_*" }, "ALLOWED_CATEGORIES", "ALLOWED_CATEGORIES lists \"DOC_*\", which matches nothing: list exact values (an origin: scheme://host[:port]), comma separated"],
    // Before: a misspelled setting was silently no setting at all: with TENANT_CLAIMS every
    // tenant's events went into AUDIT_TRAIL, with JWT_ISSUERS no issuer was checked.
    [{ TENANT_CLAIMS: "org_id" }, "TENANT_CLAIMS", "TENANT_CLAIMS is not a setting (a typo?)"],
    [{ JWT_ISSUERS: "https://idp.example" }, "JWT_ISSUERS", "JWT_ISSUERS is not a setting (a typo?)"],
    [{ ALLOWED_TARGET_LABEL: "Document" }, "ALLOWED_TARGET_LABEL", "ALLOWED_TARGET_LABEL is not a setting (a typo?)"],
    // Before: MAX_DETAILS_DEPTH = 0 refused every event with details (400) while /v1/health said ok.
    [{ MAX_DETAILS_DEPTH: "0" }, "MAX_DETAILS_DEPTH", "MAX_DETAILS_DEPTH must be at least 1"],
    [{ AUDIT_JWT_SECRET: undefined }, "AUDIT_JWT_SECRET", "AUDIT_JWT_SECRET is missing or shorter than 32 bytes"],
    [{ AUDIT_JWT_SECRET: "short" }, "AUDIT_JWT_SECRET", "AUDIT_JWT_SECRET is missing or shorter than 32 bytes"],
    [{ AUDIT_JWT_SECRET_PREVIOUS: "short" }, "AUDIT_JWT_SECRET_PREVIOUS", "AUDIT_JWT_SECRET_PREVIOUS is shorter than 32 bytes"],
    [{ JWT_ALGORITHMS: "HS512" }, "JWT_ALGORITHMS", "JWT_ALGORITHMS names \"HS512\""],
    [{ JWT_ALGORITHMS: "RS256" }, "JWT_ALGORITHMS", "JWT_ALGORITHMS lists RS256 but JWT_JWKS_URL or JWT_PUBLIC_KEYS is not set"],
    [{ JWT_JWKS_URL: "idp.example/jwks.json" }, "JWT_JWKS_URL", "JWT_JWKS_URL must be an https:// URL"],
    [{ JWT_PUBLIC_KEYS: "{" }, "JWT_PUBLIC_KEYS", "JWT_PUBLIC_KEYS: the JWK Set is not JSON"],
    // Before: accepted, and with it a token the identity provider signed for any other app
    // (another aud and iss) wrote as whichever user it named (tests/worker/jwks.test.mjs).
    [{ JWT_AUDIENCE_CHECK: "off", JWT_ISSUER: "", JWT_PUBLIC_KEYS: env.TEST_JWKS }, "JWT_AUDIENCE_CHECK",
      "JWT_AUDIENCE_CHECK = off with a key set needs JWT_ISSUER"],
    [{ AUDIT_SIGNING_KEY: "short" }, "AUDIT_SIGNING_KEY", "AUDIT_SIGNING_KEY must be the 32-byte Ed25519 seed"],
    [{ RETRY_AFTER_SECS: "5s" }, "RETRY_AFTER_SECS", "RETRY_AFTER_SECS must be a whole number"],
    // Before: a REDACT_MATCH typo was silently the default mode, and the bounded numeric vars were
    // silently clamped (a 2 h JWT_CLOCK_SKEW_SECS became 1 h, a 90-day JWT_MAX_LIFETIME_SECS 30 days).
    [{ REDACT_MATCH: "exactly" }, "REDACT_MATCH", "REDACT_MATCH must be \"words\" or \"exact\" (any case)"],
    [{ REDACT_MATCH: "word" }, "REDACT_MATCH", "REDACT_MATCH must be \"words\" or \"exact\" (any case)"],
    [{ JWT_CLOCK_SKEW_SECS: "7200" }, "JWT_CLOCK_SKEW_SECS", "JWT_CLOCK_SKEW_SECS must be between 0 and 3600"],
    [{ JWT_CLOCK_SKEW_SECS: "1m" }, "JWT_CLOCK_SKEW_SECS", "JWT_CLOCK_SKEW_SECS must be a whole number"],
    [{ JWT_MAX_LIFETIME_SECS: "7776000" }, "JWT_MAX_LIFETIME_SECS", "JWT_MAX_LIFETIME_SECS must be between 60 and 2592000"],
    [{ JWT_MAX_LIFETIME_SECS: "30" }, "JWT_MAX_LIFETIME_SECS", "JWT_MAX_LIFETIME_SECS must be between 60 and 2592000"],
    [{ RETRY_AFTER_SECS: "0" }, "RETRY_AFTER_SECS", "RETRY_AFTER_SECS must be between 1 and 3600"],
    [{ RATE_LIMIT_PERIOD_SECS: "86400" }, "RATE_LIMIT_PERIOD_SECS", "RATE_LIMIT_PERIOD_SECS must be between 1 and 3600"],
    [{ OCCURRED_AT_MAX_SKEW_SECS: "99999999999" }, "OCCURRED_AT_MAX_SKEW_SECS", "OCCURRED_AT_MAX_SKEW_SECS must be between 0 and 31536000"],
    [{ OCCURRED_AT_MAX_AGE_SECS: "99999999999" }, "OCCURRED_AT_MAX_AGE_SECS", "OCCURRED_AT_MAX_AGE_SECS must be between 0 and 315360000"],
    // Before: JWT_AUDIENCE_CHECK = "false" silently kept the check (every token without the
    // audience a 401 that never named the var); NEO4J_ALLOW_INSECURE_HTTP = "yes" silently meant false.
    [{ JWT_AUDIENCE_CHECK: "false" }, "JWT_AUDIENCE_CHECK", "JWT_AUDIENCE_CHECK must be \"on\" or \"off\" (any case)"],
    [{ NEO4J_ALLOW_INSECURE_HTTP: "yes" }, "NEO4J_ALLOW_INSECURE_HTTP", "NEO4J_ALLOW_INSECURE_HTTP must be \"false\" or \"true\" (any case)"],
    // Before: a malformed retired key was skipped silently (GET /v1/keys published the rest, so a
    // verifier that pinned that set saw the streams signed with the missing key as forged).
    ...PUBLIC_KEYS_CASES.map(([list, why]) => [{ AUDIT_PUBLIC_KEYS: list }, "AUDIT_PUBLIC_KEYS", why]),
  ];
  for (const [overrides, setting, why] of cases) {
    it(`${JSON.stringify(overrides).slice(0, 60)}: 500 naming ${setting}, the log says why`, async () => {
      const { events, health, logs, trail } = await both(overrides);
      const answer = [500, { error: "misconfigured",
        message: `the audit endpoint is not configured: check ${setting} (the Worker's log says why)` }];
      // Before: the log named the library's field ("url is not a valid URL", "timeoutMs ...", three
      // settings for one missing secret), the answer no setting, and MAX_BATCH / MAX_BODY_BYTES /
      // MAX_DETAILS_BYTES = 0 or a non-origin ALLOWED_ORIGINS entry left /v1/health green while
      // every event was refused.
      expect(events).toEqual(answer);
      expect(health).toEqual(answer);
      expect(logs.length).toBeGreaterThan(0);
      for (const l of logs) {
        expect(l).toContain(`audit-ingest: misconfigured: ${why}`);
        for (const secret of [env.AUDIT_JWT_SECRET, env.NEO4J_PASSWORD]) expect(l).not.toContain(secret);
      }
      expect(await cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", { t: trail })).toEqual([[0]]);
    });
  }

  it("GET /v1/keys answers 500 for an unusable AUDIT_PUBLIC_KEYS (it published an incomplete set), never quoting a key", async () => {
    for (const [list, why] of PUBLIC_KEYS_CASES) {
      const { status, body, logs } = await withLogs(async () => {
        const r = await call("/v1/keys", {}, { AUDIT_PUBLIC_KEYS: list });
        return { status: r.status, body: await r.json() };
      });
      expect([list, status, body]).toEqual([list, 500, { error: "misconfigured",
        message: "the audit endpoint is not configured: check AUDIT_PUBLIC_KEYS (the Worker's log says why)" }]);
      expect(logs.join("\n")).toContain(`audit-ingest: misconfigured: ${why}`);
      expect(logs.join("\n")).not.toContain(OLD_KEY.slice(1, -1));
    }
    // A usable list is published as before.
    const r = await call("/v1/keys", {}, { AUDIT_PUBLIC_KEYS: ` k0:${OLD_KEY} , 2026:q1:${OLDER_KEY}` });
    expect(r.status).toBe(200);
    expect((await r.json()).keys.map((k) => [k.kid, k.x])).toEqual([["k0", OLD_KEY], ["2026:q1", OLDER_KEY]]);
  });

  it("logs that a list of only \"*\" allows no page (it said ALLOWED_ORIGINS was not set)", async () => {
    const { status, logs } = await withLogs(async () => ({ status: (await post({ actionType: "OP_CHECK" },
      { tok: await token(unique("op")), headers: { Origin: "https://app.example" }, overrides: { ALLOWED_ORIGINS: "*" } })).status }));
    expect(status).toBe(403);
    expect(logs.join("\n")).toContain("ALLOWED_ORIGINS is not set (or only \"*\" / \"null\")");
  });
});

describe("the documented values are accepted", () => {
  it("REDACT_MATCH words / exact in any case, applied as documented (read back from Neo4j)", async () => {
    const details = { newPassword: "n1", password: "p1" };
    for (const [mode, stored] of [["Words", { newPassword: "[REDACTED]", password: "[REDACTED]" }],
      ["EXACT", { newPassword: "n1", password: "[REDACTED]" }], [" exact ", { newPassword: "n1", password: "[REDACTED]" }]]) {
      const trail = unique("redact");
      const r = await post({ actionType: "OP_REDACT", details }, { tok: await token(unique("op")),
        overrides: { AUDIT_TRAIL: trail, REDACT_MATCH: mode } });
      expect([mode, r.status]).toEqual([mode, 201]);
      const [e] = await trailEvents(trail);
      expect([mode, JSON.parse(e.details)]).toEqual([mode, stored]);
    }
  });

  it("the bounds themselves, and the documented words of the two-valued vars (any case, with or without quotes)", async () => {
    for (const o of [{ JWT_CLOCK_SKEW_SECS: "0" }, { JWT_CLOCK_SKEW_SECS: 3600 }, { JWT_MAX_LIFETIME_SECS: "60" },
      { JWT_MAX_LIFETIME_SECS: "2592000" }, { RETRY_AFTER_SECS: "1" }, { RATE_LIMIT_PERIOD_SECS: "3600" },
      { JWT_AUDIENCE_CHECK: "On" }, { NEO4J_ALLOW_INSECURE_HTTP: false }, { NEO4J_ALLOW_INSECURE_HTTP: "TRUE" }]) {
      const h = await call("/v1/health", { headers: { "CF-Connecting-IP": unique("ip") } }, o);
      expect([o, h.status]).toEqual([o, 200]);
    }
  });
});

describe("a Neo4j the Worker cannot use", () => {
  it("refusing the password: 500 store_error at /v1/events and /v1/health, the password never shown", async () => {
    const { events, health, logs } = await both({ NEO4J_PASSWORD: "not-the-password-4711" });
    expect(events[0]).toBe(500);
    expect(events[1].error).toBe("store_error");
    expect(health[0]).toBe(500);
    expect(logs.join("\n")).toContain("authentication failed");
    expect(JSON.stringify([events, health, logs])).not.toContain("not-the-password-4711");
  });

  it("a NEO4J_URL with a path Neo4j does not serve: the log's hint names NEO4J_URL, not the library's url", async () => {
    // Before: "HTTP 404: Not Found (url must be Neo4j's base URL …; this url's path is likely
    // wrong)", a setting the Worker does not have.
    const { events, health, logs, trail } = await both({ NEO4J_URL: `${env.NEO4J_URL}/browser` });
    expect([events[0], events[1].error, health[0]]).toEqual([500, "store_error", 500]);
    const log = logs.join("\n");
    expect(log).toContain("HTTP 404: Not Found (NEO4J_URL must be Neo4j's base URL: scheme, host and port, and a path only " +
      "if a reverse proxy serves Neo4j under that prefix; this NEO4J_URL's path is likely wrong)");
    expect(log).not.toMatch(/\burl\b/);
    expect(await cypher("MATCH (t:AuditTrail {name: $t}) RETURN count(t)", { t: trail })).toEqual([[0]]);
  });

  it("down: 503 with Retry-After", async () => {
    const { events, health } = await both({ NEO4J_URL: "http://127.0.0.1:9" });
    expect([events[0], events[1].error, health[0]]).toEqual([503, "unavailable", 503]);
  });
});
