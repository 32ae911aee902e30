// Shared by the Node tests: load pkg/ into Node and talk to the real Neo4j independently.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NEO4J_URL = process.env.NEO4J_URL ?? "http://127.0.0.1:7474";
export const NEO4J_USER = process.env.NEO4J_USER ?? "neo4j";
export const NEO4J_PASSWORD = process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev";

/** The fault suites' own Neo4j (tests/faults/): instance "faults" on HTTP 7475 / Bolt 7688, or the
 *  ports in FAULTS_NEO4J_HTTP_PORT / FAULTS_NEO4J_BOLT_PORT (parallel checkouts on one machine).
 *  `env`: what scripts/neo4j needs to start or stop it. */
export const FAULTS_NEO4J = (() => {
  const http = process.env.FAULTS_NEO4J_HTTP_PORT || "7475";
  const bolt = process.env.FAULTS_NEO4J_BOLT_PORT || "7688";
  return {
    url: `http://127.0.0.1:${http}`,
    env: { ...process.env, NEO4J_INSTANCE: "faults", NEO4J_HTTP_PORT: http, NEO4J_BOLT_PORT: bolt, NEO4J_PASSWORD },
  };
})();

/** One entry of the built package (scripts/build), initialised synchronously from its .wasm bytes:
 *  "" the write path ("neo4j-audit"), "read" ("neo4j-audit/read"), "worker" ("neo4j-audit/worker"). */
export async function loadPkg(entry = "") {
  const dir = new URL(`../../pkg/${entry ? `${entry}/` : ""}`, import.meta.url);
  const pkg = await import(new URL("neo4j_audit.js", dir));
  pkg.initSync({ module: readFileSync(new URL("neo4j_audit_bg.wasm", dir)) });
  return pkg;
}

export const unique = (prefix) => `${prefix}-${randomUUID()}`;

export const config = (trail, extra = {}) => ({
  url: NEO4J_URL, username: NEO4J_USER, password: NEO4J_PASSWORD, trail, ...extra,
});

/** Runs Cypher against the real Neo4j (at `url`, default NEO4J_URL), bypassing the library; returns rows. */
export async function cypher(statement, parameters = {}, url = NEO4J_URL) {
  const auth = Buffer.from(`${NEO4J_USER}:${NEO4J_PASSWORD}`).toString("base64");
  const res = await fetch(`${url}/db/neo4j/tx/commit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${auth}` },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
  });
  const body = await res.json();
  if (body.errors.length) throw new Error(`${statement}: ${JSON.stringify(body.errors)}`);
  return body.results[0].data.map((d) => d.row);
}
