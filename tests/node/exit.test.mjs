// A Node process that closes its logger, or drops it, exits on its own: nothing of the library
// keeps the event loop alive once close() resolved (no request, socket or timer left), and a
// logger collected without close() holds the process for at most its one background attempt.
// Each case runs a child Node process (the package's Node entry, pkg/node.js) against a server of
// this process: one that accepts and never answers, or a proxy to Neo4j that answers late, and
// times the child's 'exit' from the moment close() resolved (or the logger was dropped).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { loadPkg, unique, config, trailEvents, proxyToNeo4j, ROOT, NEO4J_USER, NEO4J_PASSWORD } from "./helpers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Waits until `cond()` holds (at most `ms`). */
async function until(cond, ms) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await sleep(20);
}
const closers = [];
after(() => closers.forEach((c) => c()));

/** The slack for the child's exit after the moment that should end it (process teardown). */
const SLACK_MS = 1000;

/** A server that accepts every request and never answers (`mode.fail`: answers 503 at once). */
async function hung() {
  const sockets = new Set();
  const mode = { fail: false, requests: 0 };
  const server = createServer((req, res) => {
    mode.requests++;
    if (mode.fail) {
      res.writeHead(503, { "Content-Type": "application/json" });
      res.end("{}");
    }
  });
  server.on("connection", (s) => sockets.add(s));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  return Object.assign(mode, { url: `http://127.0.0.1:${server.address().port}` });
}

/** A proxy to Neo4j that forwards each request at once and holds Neo4j's answer `ms` more;
 *  `forwarded` resolves once Neo4j answered the first write (it committed or refused it). */
async function late(ms) {
  let done;
  const forwarded = new Promise((r) => (done = r));
  const p = await proxyToNeo4j(async (body, res, forward) => {
    const answer = await forward();
    if (body.includes("UNWIND $events")) done(answer.status);
    await sleep(ms);
    if (!res.destroyed) {
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(answer.body);
    }
    return true;
  });
  closers.push(() => p.close());
  return Object.assign(p, { forwarded });
}

// The child: makes a logger from argv[1] (JSON config) and logs three events; then, once told
// to on stdin: per argv[2], "close:<ms>" / "close" awaits close(ms) / close(); "drop" (after
// its calls resolved, which they do `false` here) drops the logger and collects it. Its lines
// (JSON): {logged} or {failed, queued}, then {closing}, {closed, ok, lastError, stats, calls} or {dropped},
// then {exit}, each with the time since it started.
const CHILD = `
const { AuditLogger } = await import(process.argv[1]);
const [cfg, how] = [JSON.parse(process.argv[2]), process.argv[3]];
const t0 = performance.now();
const say = (o) => process.stdout.write(JSON.stringify({ ...o, at: Math.round(performance.now() - t0) }) + "\\n");
const told = () => new Promise((r) => process.stdin.once("data", () => { process.stdin.destroy(); r(); }));
process.on("exit", () => say({ exit: true }));
let logger = new AuditLogger(cfg);
const calls = Promise.all(["u1", "u2", "u3"].map((uid) => logger.logUserAction({ uid }, "EXIT_TEST")));
if (how === "drop") {
  say({ failed: await calls, queued: logger.stats().queued });
  await told();
  logger = null;
  for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  say({ dropped: true });
} else {
  say({ logged: true });
  await told();
  const ms = how.startsWith("close:") ? Number(how.slice(6)) : undefined;
  say({ closing: true });
  const ok = await logger.close(ms);
  say({ closed: true, ok, lastError: logger.lastError ?? null, stats: logger.stats(), calls: await calls });
}
`;

/** Runs the child; resolves with its lines once it exited, or was killed after `limitMs`
 *  (`killed`: it did not exit on its own). Once it logged (close modes) or its calls resolved
 *  ("drop"), `ready()` is awaited (at most 10 s), then the child is told to go on. */
function child(cfg, how, limitMs, ready = async () => {}) {
  return runChild(["--expose-gc", "--input-type=module", "-e", CHILD, `${ROOT}pkg/node.js`], cfg, how, limitMs, ready);
}

/** `child`'s way of running a script: node `args` (the script and the entry it loads), then the
 *  config and `how`. */
function runChild(args, cfg, how, limitMs, ready) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...args, JSON.stringify(cfg), how], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = [];
    let buf = "";
    c.stdout.on("data", (d) => {
      buf += d;
      for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
        const line = JSON.parse(buf.slice(0, i));
        lines.push(line);
        if (line.logged || line.failed) {
          let t;
          Promise.race([ready(), new Promise((r) => (t = setTimeout(r, 10000)))]).then(() => {
            clearTimeout(t);
            c.stdin.end("go\n");
          });
        }
      }
    });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      c.kill("SIGKILL");
    }, limitMs);
    c.on("error", reject);
    c.on("close", () => {
      clearTimeout(timer);
      resolve({ lines, killed, get: (k) => lines.find((l) => k in l) });
    });
  });
}

/** The child's time from the line that has `key` to its exit (it must have exited on its own). */
function exitAfter(run, key) {
  assert.equal(run.killed, false, `the child did not exit on its own: ${JSON.stringify(run.lines)}`);
  const from = run.get(key), exit = run.get("exit");
  assert.ok(from && exit, JSON.stringify(run.lines));
  return exit.at - from.at;
}

const loggerConfig = (url, extra = {}) => ({
  url, username: NEO4J_USER, password: NEO4J_PASSWORD, trail: unique("exit"), timeoutMs: 20000, ...extra,
});

before(async () => {
  // The schema in place: a logger's first write is one request (no schema step before it).
  const pkg = await loadPkg();
  assert.equal(await new pkg.AuditLogger(config("exit-schema")).ensureSchema(), true);
});

test("close(timeoutMs) against a server that never answers: the process exits right after it resolves", async () => {
  const s = await hung();
  // Before: the abandoned request held its socket and its 20 s timeout; the process lived on.
  const run = await child(loggerConfig(s.url), "close:300", 12000, () => until(() => s.requests > 0, 5000));
  const closed = run.get("closed");
  assert.ok(closed, JSON.stringify(run.lines));
  assert.equal(s.requests, 1, "the request was in flight when close() began");
  assert.equal(closed.ok, false);
  assert.equal(closed.lastError, "timeout: no answer from Neo4j within 300 ms");
  assert.deepEqual(closed.calls, [false, false, false]);
  const took = closed.at - run.get("closing").at;
  assert.ok(took < 300 + SLACK_MS, `close(300) took ${took} ms`);
  const ms = exitAfter(run, "closed");
  assert.ok(ms < SLACK_MS, `exit ${ms} ms after close resolved`);
});

test("close(timeoutMs) cancels a request Neo4j answers late: the answer is never counted, the event's fate is false + timeout (it may be committed)", async () => {
  const p = await late(4000);
  const cfg = loggerConfig(p.url);
  // close() begins once Neo4j committed the write and its answer is held.
  const run = await child(cfg, "close:300", 12000, () => p.forwarded);
  const closed = run.get("closed");
  assert.ok(closed, JSON.stringify(run.lines));
  assert.equal(closed.ok, false);
  assert.equal(closed.lastError, "timeout: no answer from Neo4j within 300 ms");
  assert.deepEqual(closed.calls, [false, false, false]);
  // Given up on, not committed as far as the logger knows; with the queue on they stay queued,
  // in the child's memory: gone with the process.
  assert.equal(closed.stats.committed, 0);
  assert.equal(closed.stats.queued, 3);
  const ms = exitAfter(run, "closed");
  assert.ok(ms < SLACK_MS, `exit ${ms} ms after close resolved (the late answer was due ${4000 - 300} ms later)`);
  // The request had reached Neo4j before the bound: it committed the events all the same.
  assert.equal(await Promise.race([p.forwarded, sleep(0)]), 200, "Neo4j answered the write before close() began");
  assert.equal((await trailEvents(cfg.trail)).length, 3);
});

test("close() with no bound: the process exits right after it resolves (a server that never answers, one that answers slowly)", async () => {
  const s = await hung();
  const quick = { timeoutMs: 500, retry: { maxAttempts: 2, maxElapsedMs: 2000, baseDelayMs: 50, maxDelayMs: 100 } };
  const run = await child(loggerConfig(s.url, quick), "close", 12000);
  const closed = run.get("closed");
  assert.equal(closed?.ok, false, JSON.stringify(run.lines));
  assert.match(closed.lastError, /^timeout: /);
  assert.ok(exitAfter(run, "closed") < SLACK_MS);

  const p = await late(800);
  const cfg = loggerConfig(p.url);
  const slow = await child(cfg, "close", 12000);
  const done = slow.get("closed");
  assert.equal(done?.ok, true, JSON.stringify(slow.lines));
  assert.deepEqual(done.calls, [true, true, true]);
  assert.equal(done.stats.committed, 3);
  assert.ok(exitAfter(slow, "closed") < SLACK_MS);
  assert.equal((await trailEvents(cfg.trail)).length, 3);
});

test("a logger collected without close(): its background re-send holds the process one attempt at most, not its retries", async () => {
  const s = await hung();
  s.fail = true; // the calls fail at once (503, retried, then false): their events wait in the queue
  const timeoutMs = 400;
  const cfg = loggerConfig(s.url, { timeoutMs, retry: { maxAttempts: 5, maxElapsedMs: 10000, baseDelayMs: 50, maxDelayMs: 100 } });
  const run = await child(cfg, "drop", 15000, async () => {
    s.fail = false; // from now on it never answers
    s.requests = 0;
  });
  const failed = run.get("failed");
  assert.deepEqual(failed?.failed, [false, false, false], JSON.stringify(run.lines));
  assert.equal(failed.queued, 3);
  assert.ok(s.requests >= 1, "collected with events queued, the logger re-sends them once");
  // Before: the re-send was a flush that kept the process alive through its retries (5 × 400 ms).
  const ms = exitAfter(run, "dropped");
  assert.ok(ms < timeoutMs + SLACK_MS, `exit ${ms} ms after the logger was dropped`);
});

// The child of the reads' cases: a logger of neo4j-audit/verify (argv[1]) with config argv[2]
// starts a getAuditTrail() and a verifyTrail(), and once the server has both requests (told on
// stdin) awaits close(ms) per argv[3] ("close:<ms>" or "close"); its lines as CHILD's, `reads`
// being what the two reads had resolved when close() did ("pending" for one still waiting).
const READS_CHILD = `
const { AuditLogger } = await import(process.argv[1]);
const [cfg, how] = [JSON.parse(process.argv[2]), process.argv[3]];
const t0 = performance.now();
const say = (o) => process.stdout.write(JSON.stringify({ ...o, at: Math.round(performance.now() - t0) }) + "\\n");
process.on("exit", () => say({ exit: true }));
const logger = new AuditLogger(cfg);
const settled = [];
const reads = [logger.getAuditTrail(), logger.verifyTrail()].map((p, i) => p.then((v) => (settled[i] = v)));
say({ logged: true });
await new Promise((r) => process.stdin.once("data", () => { process.stdin.destroy(); r(); }));
const ms = how.startsWith("close:") ? Number(how.slice(6)) : undefined;
say({ closing: true });
const ok = await logger.close(ms);
say({ closed: true, ok, lastError: logger.lastError ?? null, reads: [0, 1].map((i) => (i in settled ? settled[i] : "pending")) });
await Promise.all(reads);
`;

/** READS_CHILD run as `child` runs CHILD. */
function readsChild(cfg, how, limitMs, ready) {
  return runChild(["--input-type=module", "-e", READS_CHILD, `${ROOT}pkg/verify/node.js`], cfg, how, limitMs, ready);
}

test("close(timeoutMs) with reads in flight (neo4j-audit/verify): they are cancelled at the bound, resolve null, and the process exits right after close resolves", async () => {
  const s = await hung();
  // Before: close(300) resolved true at once, the reads went on to their own 20 s timeout
  // (timeout: … within 20000 ms) and held the process that long.
  const run = await readsChild(loggerConfig(s.url), "close:300", 15000, () => until(() => s.requests >= 2, 5000));
  const closed = run.get("closed");
  assert.ok(closed, JSON.stringify(run.lines));
  assert.equal(s.requests, 2, "both reads were in flight when close() began");
  assert.equal(closed.ok, false, "close(300) gave up on requests of the logger: not a clean close");
  assert.equal(closed.lastError, "timeout: no answer from Neo4j within 300 ms");
  assert.deepEqual(closed.reads, [null, null]);
  const took = closed.at - run.get("closing").at;
  assert.ok(took < 300 + SLACK_MS, `close(300) took ${took} ms`);
  const ms = exitAfter(run, "closed");
  assert.ok(ms < SLACK_MS, `exit ${ms} ms after close resolved`);
});

test("close() with no bound waits for the reads in flight: once it resolved, nothing holds the process", async () => {
  const s = await hung();
  const timeoutMs = 2500;
  const run = await readsChild(loggerConfig(s.url, { timeoutMs }), "close", 15000, () => until(() => s.requests >= 2, 5000));
  const closed = run.get("closed");
  assert.ok(closed, JSON.stringify(run.lines));
  // Nothing of the delivery failed: the reads' own outcome is theirs (null, timeout), not close()'s.
  assert.equal(closed.ok, true);
  assert.deepEqual(closed.reads, [null, null], "close() resolved after the reads, not before");
  assert.ok(exitAfter(run, "closed") < SLACK_MS, "before: close() resolved at once and the reads held the process 2.5 s more");
});

// Every timer the package's glue sets (the driver's one machine timer, each request's timeout) is
// traced in-process: once close() resolved none is pending and none fires, whatever close() met: a
// committed event, a flush interval, retries pending against a refused port, a request that never
// gets an answer. Before, the last case left that request's timeout (timeoutMs, holding the event
// loop) armed when close() resolved: `stop()` aborted the request, and the timer went only once
// fetch's rejection came back, later (never, from a fetch that ignores its signal).
test("after close() no timer of the library is pending or fires", async () => {
  const pkg = await loadPkg();
  const { url: hungUrl } = await hung();
  const refused = await new Promise((r) => {
    const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => r(`http://127.0.0.1:${port}`)); });
  });
  const [set, clear] = [globalThis.setTimeout, globalThis.clearTimeout];
  const live = new Set();
  let fired = 0;
  globalThis.setTimeout = (f, ms, ...a) => {
    // Only the package's: undici's own (keep-alive sockets) are Node's business.
    const ours = /neo4j_audit\.js/.test(new Error().stack.split("\n").slice(2, 4).join(" "));
    const t = set(() => { live.delete(t); if (ours) fired++; f(...a); }, ms);
    if (ours) live.add(t);
    return t;
  };
  globalThis.clearTimeout = (t) => { live.delete(t); clear(t); };
  try {
    const retries = { maxAttempts: 100, maxElapsedMs: 600_000, baseDelayMs: 300, maxDelayMs: 2000 };
    for (const [name, extra, awaitCall] of [
      ["committed", {}, true],
      ["flush interval", { batch: { flushIntervalMs: 30_000 } }, false],
      ["retrying a refused port", { url: refused, retry: retries }, false],
      ["a request never answered", { url: hungUrl, timeoutMs: 600_000, retry: retries }, false],
    ]) {
      const logger = new pkg.AuditLogger(config(unique("timers"), extra));
      const call = logger.logUserAction({ uid: "alice" }, "TIMERS", "TEST", {});
      if (awaitCall) assert.equal(await call, true, logger.lastError);
      else await sleep(400);
      await logger.close(500);
      await call;
      const before = fired;
      assert.equal(live.size, 0, `${name}: a timer is pending after close()`);
      await sleep(2500);
      assert.equal(fired - before, 0, `${name}: a timer fired after close()`);
      assert.equal(live.size, 0, name);
      logger.free();
    }
  } finally {
    globalThis.setTimeout = set;
    globalThis.clearTimeout = clear;
  }
});
