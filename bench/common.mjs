// Shared by the bench/*.mjs scripts: where the bench Neo4j is, the events, wiping and checking.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import init, { AuditLogger } from "../.cache/bench/pkg/neo4j_audit.js";

export const HTTP = process.env.BENCH_NEO4J_URL ?? "http://127.0.0.1:7476";
export const BOLT = process.env.BENCH_NEO4J_BOLT ?? "bolt://127.0.0.1:7689";
export const USER = "neo4j";
export const PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";
export const AUTH = "Basic " + Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
export { USERS, event } from "./events.mjs";
import { USERS } from "./events.mjs";

let ready;
/** Instantiates the bench build of the package (shipped code + benchmarkRequestBody). */
export function loadWasm() {
  ready ??= init({
    module_or_path: readFileSync(fileURLToPath(new URL("../.cache/bench/pkg/neo4j_audit_bg.wasm", import.meta.url))),
  });
  return ready;
}

export function config(extra = {}) {
  return { url: HTTP, username: USER, password: PASSWORD, trail: "bench", timeoutMs: 120000, ...extra };
}

/** One Cypher statement over HTTP (tx/commit); throws on any error. */
export async function cypher(statement, parameters = {}, retried = false) {
  let r;
  try {
    r = await fetch(`${HTTP}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: AUTH },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
    });
  } catch (e) {
    // A kept-alive connection the server closed while idle: once more on a new one.
    if (retried) throw e;
    return cypher(statement, parameters, true);
  }
  const j = await r.json();
  if (j.errors?.length) throw new Error(`${j.errors[0].code}: ${j.errors[0].message}`);
  return j.results[0].data.map((d) => d.row);
}

/** Empties the database (keeps the schema: the library's, made here if missing), then creates
 * the acting users. */
export async function fresh() {
  await ensureSchema();
  // Relationships first, in bounded transactions: a trail node holds every event's HAS_EVENT link,
  // and DETACH DELETE of it would drop them all in one transaction (1 000 000 links: Neo4j's
  // memory pool refuses it).
  for (const text of ["MATCH ()-[r]->() WITH r LIMIT 50000 DELETE r RETURN count(*)",
    "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*)"]) {
    for (;;) {
      const [[n]] = await cypher(text);
      if (n === 0) break;
    }
  }
  await cypher("UNWIND range(0, $n - 1) AS i CREATE (:User {UID: 'user-' + i, name: 'User ' + i})", { n: USERS });
}

/** The schema every contender runs against: the library's own (constraints + indexes). */
export async function ensureSchema() {
  await loadWasm();
  const l = new AuditLogger(config());
  if (!(await l.ensureSchema())) throw new Error(`ensureSchema: ${l.lastError}`);
  l.free();
}

/** What is in the graph: events, HAS_EVENT and PERFORMED_BY relationships, trails. */
export async function census() {
  const [[events, hasEvent, performedBy, trails]] = await cypher(
    "CALL { MATCH (e:AuditEvent) RETURN count(e) AS a } " +
      "CALL { MATCH (:AuditTrail)-[r:HAS_EVENT]->() RETURN count(r) AS b } " +
      "CALL { MATCH (:AuditEvent)-[r:PERFORMED_BY]->() RETURN count(r) AS c } " +
      "CALL { MATCH (t:AuditTrail) RETURN count(t) AS d } RETURN a, b, c, d",
  );
  return { events, hasEvent, performedBy, trails };
}

/** Runs `fn` with `concurrency` workers pulling indexes 0..n-1. */
export async function pool(n, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One JSON line for bench/run to collect. */
export function emit(obj) {
  console.log(JSON.stringify(obj));
}
