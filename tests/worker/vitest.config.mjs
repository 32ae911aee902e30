// Runs tests/worker/*.test.mjs inside workerd (Workers Vitest integration) with the Worker from
// wrangler.toml. Secrets come from the environment (scripts/test exports the dev Neo4j's); the
// JWT secret is generated per run.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

// wrangler.toml as the tests read it: a copy in a folder of its own, `main` made absolute. Wrangler
// loads `.dev.vars` (or `.env`) from beside the config file, and the `.dev.vars` that
// scripts/worker-dev-vars writes for `wrangler dev` (docs/worker.md) would otherwise change the
// settings under test (its AUDIT_SIGNING_KEY adds a key to /v1/keys).
const configDir = `${root}/.cache/worker-vitest`;
mkdirSync(configDir, { recursive: true });
const toml = readFileSync(`${root}/wrangler.toml`, "utf8").replace(/^main = "([^"]+)"/m, (_, m) => `main = "${root}/${m}"`);
if (!toml.includes(`main = "${root}/`)) throw new Error("tests/worker/vitest.config.mjs: no `main = \"...\"` line in wrangler.toml");
writeFileSync(`${configDir}/wrangler.toml`, toml);

// Keys for the RS256 / ES256 tests (tests/worker/jwks.test.mjs, whose stub identity provider
// serves the public ones), made here in Node.
const jwk = (alg, kid, opts) => {
  const { publicKey, privateKey } = generateKeyPairSync(alg, opts);
  return { pub: { ...publicKey.export({ format: "jwk" }), kid, use: "sig" }, priv: privateKey.export({ format: "jwk" }),
    pem: publicKey.export({ format: "pem", type: "spki" }) };
};
const rsa = jwk("rsa", "rsa-1", { modulusLength: 2048 });
const ec = jwk("ec", "ec-1", { namedCurve: "P-256" });
const stranger = jwk("rsa", "rsa-1", { modulusLength: 2048 }); // same kid, not published
const jwksText = JSON.stringify({ keys: [{ ...rsa.pub, alg: "RS256" }, { ...ec.pub, alg: "ES256" }] });

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${configDir}/wrangler.toml` },
      miniflare: {
        bindings: {
          AUDIT_JWT_SECRET: randomBytes(32).toString("base64url"),
          NEO4J_URL: process.env.NEO4J_URL ?? "http://127.0.0.1:7474",
          NEO4J_USER: process.env.NEO4J_USER ?? "neo4j",
          NEO4J_PASSWORD: process.env.NEO4J_PASSWORD ?? "neo4j-audit-dev",
          ALLOWED_ORIGINS: "https://app.example,http://127.0.0.1:8080",
          JWT_AUDIENCE: "neo4j-audit",
          JWT_ISSUER: "https://idp.example",
          MAX_BODY_BYTES: "8192",
          MAX_BATCH: "10",
          MAX_DETAILS_BYTES: "2048",
          MAX_DETAILS_DEPTH: "4",
          NEO4J_TIMEOUT_MS: "4000",
          TEST_RS256_PRIVATE_JWK: JSON.stringify(rsa.priv),
          TEST_ES256_PRIVATE_JWK: JSON.stringify(ec.priv),
          TEST_STRANGER_PRIVATE_JWK: JSON.stringify(stranger.priv),
          TEST_RS256_PUBLIC_PEM: rsa.pem,
          TEST_JWKS: jwksText,
        },
        ratelimits: { RATE_LIMITER: { simple: { limit: 5, period: 60 } } },
      },
    }),
  ],
  test: {
    include: ["tests/worker/*.test.mjs"],
    testTimeout: 30_000,
  },
});
