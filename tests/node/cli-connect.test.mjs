// The CLI's word on a connection that fails before any data: a refused password with white space
// around it, a server certificate Node does not trust. As a user runs it (a child process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD, runCli, readDocs } from "./helpers.mjs";

const CLI = join(ROOT, "cli", "neo4j-audit.mjs");
const ENV = { ...process.env, NEO4J_URL, NEO4J_USER, NEO4J_PASSWORD };
delete ENV.NODE_EXTRA_CA_CERTS;

/** Runs the CLI to completion: {code, stdout, stderr}. */
const cli = (args, env = ENV) => runCli(args, env);

test("a refused login whose password has leading or trailing white space says so, never the password", async () => {
  // A user that does not exist: a wrong login that cannot lock the shared `neo4j` user out.
  const secret = "not-the-password-5d2a";
  // verify and export read through the library (its lastError), schema through the CLI's own request.
  for (const [cmd, password] of [["verify", `${secret}\n`], ["export", ` ${secret}`], ["schema", `${secret}\r\n`]]) {
    const r = await cli([cmd], { ...ENV, NEO4J_USER: "cli-test-no-such-user", NEO4J_PASSWORD: password });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`^neo4j-audit ${cmd}: Neo4j at \\S+ refused the credentials of user "cli-test-no-such-user" \\(NEO4J_USER / NEO4J_PASSWORD\\): authentication failed: HTTP 401 \\(Neo\\.ClientError\\.Security\\.Unauthorized; NEO4J_PASSWORD has leading or trailing white space: a line break read with it from a file\\?\\)\\n$`));
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), r.stderr);
  }
  // White space inside a password is no hint.
  const inside = await cli(["verify"], { ...ENV, NEO4J_USER: "cli-test-no-such-user", NEO4J_PASSWORD: "not the password" });
  assert.equal(inside.code, 3, inside.stderr);
  assert.doesNotMatch(inside.stderr, /white space/);
});

const openssl = spawnSync("openssl", ["version"]).status === 0;

test("an https NEO4J_URL whose certificate Node does not trust names the cause and NODE_EXTRA_CA_CERTS", { skip: !openssl && "openssl not found" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-tls-"));
  const ssl = (...args) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  };
  const { createServer } = await import("node:https");
  const servers = [];
  try {
    // A self-signed server certificate; a private CA and a certificate it signed.
    const san = ["-addext", "subjectAltName=IP:127.0.0.1"];
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem", "-days", "1", "-subj", "/CN=127.0.0.1", ...san);
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=cli-test private CA");
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
    writeFileSync(join(dir, "leaf.ext"), "subjectAltName=IP:127.0.0.1\n");
    ssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "1", "-extfile", "leaf.ext");
    const file = (f) => readFileSync(join(dir, f), "utf8");
    // Answers every request as Neo4j answers a wrong login: reaching it means TLS was trusted.
    const serve = async (key, cert) => {
      const s = createServer({ key, cert }, (req, res) => req.resume().on("end", () => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "Neo.ClientError.Security.Unauthorized", message: "no" }] }));
      }));
      await new Promise((r) => s.listen(0, "127.0.0.1", r));
      servers.push(s);
      return `https://127.0.0.1:${s.address().port}`;
    };
    for (const [key, cert, ca, code, what] of [
      ["self.key", file("self.pem"), "self.pem", "DEPTH_ZERO_SELF_SIGNED_CERT", "it is self-signed"],
      ["leaf.key", file("leaf.pem"), "ca.pem", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "its CA is not one Node knows"],
      ["leaf.key", file("leaf.pem") + file("ca.pem"), "ca.pem", "SELF_SIGNED_CERT_IN_CHAIN", "its root CA is a private one"],
    ]) {
      const url = await serve(file(key), cert);
      // verify reads through the library, schema through the CLI's own request: worded alike.
      for (const cmd of ["verify", "schema"]) {
        const r = await cli([cmd], { ...ENV, NEO4J_URL: url });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, new RegExp(`^neo4j-audit ${cmd}: cannot reach Neo4j at ${url}: network error: .*${code}.* \\(Node does not trust the server's TLS certificate: ${what}; trust the CA, or that certificate, with NODE_EXTRA_CA_CERTS=/path/ca\\.pem in the CLI's environment\\)\\n$`));
        assert.doesNotMatch(r.stderr, /is it running/);
      }
      // The advice works: with the CA trusted, the request reaches the server (which refuses the login).
      const trusted = await cli(["verify"], { ...ENV, NEO4J_URL: url, NODE_EXTRA_CA_CERTS: join(dir, ca) });
      assert.equal(trusted.code, 3, trusted.stderr);
      assert.match(trusted.stderr, /refused the credentials/);
    }
  } finally {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A stand-in for Neo4j that refuses every login (401, as Neo4j answers a wrong one) and keeps
 * each request's Authorization header: whether anything reached it, and with what credentials. */
async function loginRecorder() {
  const { createServer } = await import("node:http");
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? null);
    req.resume().on("end", () => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "Neo.ClientError.Security.Unauthorized", message: "no" }] }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() };
}

const COMMANDS = [["schema"], ["tail"], ["verify"], ["export"], ["migrate", "--status"]];

test("NEO4J_TOKEN and NEO4J_PASSWORD both set is a usage error naming both, before any request (the token was used silently)", async () => {
  // The library refuses the pair ("token is exclusive with username/password"); the CLI dropped
  // the password without a word, so an operator could not tell which credential was used.
  const server = await loginRecorder();
  const token = "tok-secret-4e7a", password = "pw-secret-4e7a";
  try {
    for (const cmd of COMMANDS) {
      const r = await cli(cmd, { ...ENV, NEO4J_URL: server.url, NEO4J_TOKEN: token, NEO4J_PASSWORD: password });
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.equal(r.stderr, `neo4j-audit ${cmd[0]}: NEO4J_TOKEN and NEO4J_PASSWORD are both set: the CLI logs in with one of them, not both; unset NEO4J_PASSWORD to use the token, or NEO4J_TOKEN to log in as NEO4J_USER with the password\n`);
      assert.equal(r.stdout, "");
    }
    assert.deepEqual(server.seen, [], "no request was sent");
    // Either one alone is sent as given (the stand-in refuses it: exit 3).
    const { NEO4J_PASSWORD: _, ...noPassword } = ENV;
    const withToken = await cli(["tail"], { ...noPassword, NEO4J_URL: server.url, NEO4J_TOKEN: token });
    assert.equal(withToken.code, 3, withToken.stderr);
    assert.match(withToken.stderr, /refused the credentials of the token \(NEO4J_TOKEN\)/);
    assert.equal(server.seen.at(-1), `Bearer ${token}`);
    const withPassword = await cli(["tail"], { ...ENV, NEO4J_URL: server.url, NEO4J_USER: "u1", NEO4J_PASSWORD: password });
    assert.equal(withPassword.code, 3, withPassword.stderr);
    assert.equal(server.seen.at(-1), `Basic ${Buffer.from(`u1:${password}`).toString("base64")}`);
  } finally {
    server.close();
  }
  // The help says so.
  assert.match((await cli(["--help"])).stdout, /NEO4J_TOKEN {6}bearer token instead of user and password \(SSO \/ Aura\); NEO4J_PASSWORD\n\s+must then be unset/);
});

test("NEO4J_PASSWORD or NEO4J_TOKEN set but empty is a usage error before any request; NEO4J_PASSWORD unset sends the local default to a loopback URL", async () => {
  // `NEO4J_PASSWORD=` (a .env line whose value was never filled in, `$DB_PASS` unset in a CI job)
  // was read as unset: the local server's default password was sent and, on a local server, the
  // command succeeded. The library refuses an empty password ("password is empty (an unset
  // environment variable?)") and an empty token.
  const server = await loginRecorder();
  const { NEO4J_PASSWORD: _, ...unset } = ENV;
  const EMPTY_PASSWORD = "NEO4J_PASSWORD is set but empty (an unset environment variable?): give the password, or unset NEO4J_PASSWORD for the local server's default (a loopback NEO4J_URL only)";
  const EMPTY_TOKEN = "NEO4J_TOKEN is set but empty (an unset environment variable?): give the token, or unset NEO4J_TOKEN to log in with NEO4J_USER and NEO4J_PASSWORD";
  try {
    for (const [env, message] of [
      [{ NEO4J_PASSWORD: "" }, EMPTY_PASSWORD],
      [{ NEO4J_PASSWORD: "", NEO4J_TOKEN: "tok-5b1c" }, EMPTY_PASSWORD],
      [{ NEO4J_TOKEN: "" }, EMPTY_TOKEN],
      [{ NEO4J_TOKEN: "", NEO4J_PASSWORD: "pw-5b1c" }, EMPTY_TOKEN],
    ]) {
      for (const cmd of COMMANDS) {
        const r = await cli(cmd, { ...unset, NEO4J_URL: server.url, ...env });
        assert.equal(r.code, 2, `${JSON.stringify(env)} ${cmd}: ${r.stderr}`);
        assert.equal(r.stderr, `neo4j-audit ${cmd[0]}: ${message}\n`);
        assert.equal(r.stdout, "");
      }
    }
    assert.deepEqual(server.seen, [], "no request was sent");
    // Unset, as docs/cli.md promises: user neo4j (NEO4J_USER unset too) with the local server's
    // password, and a refused login says that default was sent.
    const { NEO4J_USER: __, ...neither } = unset;
    const r = await cli(["tail"], { ...neither, NEO4J_URL: server.url });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(server.seen.at(-1), `Basic ${Buffer.from("neo4j:neo4j-audit-dev").toString("base64")}`);
    assert.match(r.stderr, /; NEO4J_PASSWORD is not set, so the local server's default password was sent\n$/);
  } finally {
    server.close();
  }
  assert.match((await cli(["--help"])).stdout, /loopback NEO4J_URL only: another host without it is a usage error;\n\s+set but empty, a usage error too\)/);
});

test("NEO4J_URL, NEO4J_USER or NEO4J_DATABASE set but empty is a usage error naming it, before any request, as NEO4J_PASSWORD is", async () => {
  // `NEO4J_URL=` or `NEO4J_DATABASE=` (a .env line never filled in) fell back to the default
  // (http://127.0.0.1:7474, database neo4j) without a word, unlike `NEO4J_PASSWORD=`.
  const server = await loginRecorder();
  try {
    for (const name of ["NEO4J_URL", "NEO4J_USER", "NEO4J_DATABASE"]) {
      // (The URL's case with read-only commands: before the fix they reached the default server.)
      for (const cmd of name === "NEO4J_URL" ? COMMANDS.filter((c) => c[0] !== "schema") : COMMANDS) {
        const r = await cli(cmd, { ...ENV, NEO4J_URL: server.url, NEO4J_PASSWORD: "pw-empty", [name]: "" });
        assert.equal(r.code, 2, `${name} ${cmd}: ${r.stderr}`);
        assert.equal(r.stderr, `neo4j-audit ${cmd[0]}: ${name} is set but empty (an unset environment variable?): give it a value, or unset ${name} for its default\n`);
        assert.equal(r.stdout, "");
      }
    }
    assert.deepEqual(server.seen, [], "no request was sent");
  } finally {
    server.close();
  }
});

test("a server that does not answer as Neo4j (another service on the port, a proxy's error page) is named so by every command, exit 3, never an internal error", async () => {
  // Found by a new user whose NEO4J_URL reached another service: schema and migrate said
  // "unexpected answer from …: HTTP 501" (the page not shown, no hint), export, verify and tail
  // "reading the trail: HTTP 501: <!DOCTYPE HTML> …" (no hint either), and a JSON answer without
  // Neo4j's `results` (`{}`, another API's error object) crashed schema and migrate: "internal
  // error: TypeError: Cannot read properties of undefined", a stack trace, exit 4.
  const { createServer } = await import("node:http");
  const answers = {
    html501: [501, "text/html", "<!DOCTYPE HTML>\n<html><head><title>Error response</title></head><body><p>Error code: 501</p>\x1b[2J</body></html>\n"],
    proxy502: [502, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>\r\n"],
    json500: [500, "application/json", '{"error":"internal","message":"boom"}'],
    html200: [200, "text/html", "<html><body>Welcome to nginx!</body></html>"],
    json200: [200, "application/json", "{}"],
  };
  let mode = "html501";
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const [status, type, body] = answers[mode];
      res.writeHead(status, { "content-type": type }).end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    for (mode of Object.keys(answers)) {
      const [status, , body] = answers[mode];
      const shown = mode === "html200" ? "HTTP 200 with a body that is not JSON: "
        : mode === "json200" ? "HTTP 200 without a result: " : `HTTP ${status}: `;
      for (const cmd of [["schema"], ["migrate", "--status"], ["export"], ["verify"], ["tail"]]) {
        const r = await cli(cmd, { ...ENV, NEO4J_URL: url });
        assert.equal(r.code, 3, `${mode} ${cmd}: ${r.stderr}`);
        assert.equal(r.stdout, "");
        const expected = `neo4j-audit ${cmd[0]}: ${url} did not answer as Neo4j does: it answered ${shown}`;
        assert.ok(r.stderr.startsWith(expected), `${mode} ${cmd}:\n${r.stderr}\nexpected to start with\n${expected}`);
        assert.ok(r.stderr.endsWith(" for /db/neo4j/tx/commit (another service on that port, or a proxy's error page: is NEO4J_URL Neo4j's HTTP port, 7474 by default, and Neo4j running behind the proxy?)\n"), `${mode} ${cmd}: ${r.stderr}`);
        assert.ok(r.stderr.includes(body.trim().split("\n")[0].replaceAll("\r", "").trim()), `${mode} ${cmd}: the answer is shown: ${r.stderr}`);
        // One line, and the server's text cannot drive the terminal.
        assert.equal(r.stderr.split("\n").length, 2, r.stderr);
        assert.ok(!r.stderr.includes("\x1b"), r.stderr);
        assert.ok(!r.stderr.includes(ENV.NEO4J_PASSWORD), r.stderr);
      }
    }
  } finally {
    server.close();
  }
  // docs/cli.md and docs/troubleshooting.md quote it as printed.
  const docs = readDocs().replace(/\s+/g, " ");
  assert.ok(docs.includes("`<NEO4J_URL> did not answer as Neo4j does: it answered HTTP 501: … for /db/neo4j/tx/commit (another service on that port, or a proxy's error page: is NEO4J_URL Neo4j's HTTP port, 7474 by default, and Neo4j running behind the proxy?)`"), "docs/cli.md");
  assert.ok(docs.includes("CLI: `<NEO4J_URL> did not answer as Neo4j does: it answered HTTP 501: <!DOCTYPE HTML> … (another service on that port, or a proxy's error page: …)`"), "docs/troubleshooting.md");
});
