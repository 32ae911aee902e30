// Helpers for the in-workerd tests: the Worker's fetch with a per-test environment, tokens, and
// an independent read-back from the real Neo4j.
import { env } from "cloudflare:test";
import worker from "../../worker/index.js";
import { signJwt, nowSecs } from "./jwt.mjs";

export const BASE = "https://audit.example";

export const unique = (p) => `${p}-${crypto.randomUUID()}`;

/** Calls the Worker with `env` plus `overrides` (e.g. a unique AUDIT_TRAIL). */
export function call(path, init = {}, overrides = {}) {
  return worker.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides });
}

/** A valid token for `sub` (claims may override anything). */
export function token(sub, claims = {}, secret = env.AUDIT_JWT_SECRET) {
  return signJwt(secret, {
    sub, name: `Name of ${sub}`, aud: "neo4j-audit", iss: "https://idp.example", exp: nowSecs() + 300, ...claims,
  });
}

/** A JSON POST to /v1/events. */
export async function post(body, { tok, headers = {}, overrides = {} } = {}) {
  const h = { "Content-Type": "application/json", ...headers };
  if (tok) h.Authorization = `Bearer ${tok}`;
  return call("/v1/events", { method: "POST", headers: h, body: typeof body === "string" ? body : JSON.stringify(body) }, overrides);
}

/** Runs Cypher on the real Neo4j, independently of the Worker; returns rows. */
export async function cypher(statement, parameters = {}) {
  const r = await fetch(`${env.NEO4J_URL}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Basic ${btoa(`${env.NEO4J_USER}:${env.NEO4J_PASSWORD}`)}`,
    },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
  });
  const j = await r.json();
  if (j.errors?.length) throw new Error(`cypher failed: ${JSON.stringify(j.errors)}`);
  return j.results[0].data.map((d) => d.row);
}

/** Every event of `trail`, oldest first, as objects. */
export async function trailEvents(trail) {
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) " +
      "RETURN e.UID, e.eventType, e.eventCategory, e.userUID, e.userName, e.details ORDER BY e.timestamp, e.UID",
    { trail },
  );
  return rows.map(([uid, eventType, eventCategory, userUID, userName, details]) =>
    ({ uid, eventType, eventCategory, userUID, userName, details }));
}

/** Provenance of every event of `trail`: source, occurredAt and timestamp as epoch ms. */
export async function trailProvenance(trail) {
  const rows = await cypher(
    "MATCH (:AuditTrail {name: $trail})-[:HAS_EVENT]->(e:AuditEvent) " +
      "RETURN e.UID, e.eventType, e.source, e.occurredAt.epochMillis, e.timestamp.epochMillis, " +
      "valueType(e.occurredAt) ORDER BY e.eventType",
    { trail },
  );
  return rows.map(([uid, eventType, source, occurredAt, timestamp, occurredType]) =>
    ({ uid, eventType, source, occurredAt, timestamp, occurredType }));
}

/** A ReadableStream body (no Content-Length) of `chunks` (Uint8Array), counting what is pulled. */
export function streamBody(chunks) {
  const stats = { pulled: 0, cancelled: false };
  let i = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (i >= chunks.length) { controller.close(); return; }
      stats.pulled++;
      controller.enqueue(chunks[i++]);
    },
    cancel() { stats.cancelled = true; },
  }, { highWaterMark: 0 });
  return { stream, stats };
}

/**
 * Waits, when needed, until a run of rate-limited requests cannot straddle a minute boundary:
 * Miniflare's ratelimit binding counts in windows aligned to the clock (`floor(now / period)`) and
 * clears every count when one begins, so a run crossing it is counted afresh from there (a test
 * expecting the 6th request refused then saw it accepted: CI, 2026-11-30). `needMs`: how long the
 * run may take.
 */
export async function clearOfAMinuteBoundary(needMs = 5000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}
