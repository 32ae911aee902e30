// Reads the versions of everything a run measured from the live systems and prints one JSON line
// (bench/run files it with the run's results, so BENCHMARKS.md never states a version from memory).
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { cypher, emit } from "./common.mjs";

const sh = (c) => { try { return execSync(c, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim(); } catch (e) { return `? (${String(e.stderr ?? e.message).trim().split("\n")[0]})`; } };
const pkgVersion = (name) => { try { return JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")).version; } catch { return "?"; } };
let neo4jComponents = "?";
try {
  neo4jComponents = (await cypher("CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"))
    .map(([n, v, e]) => `${n} ${v.join(", ")} ${e}`).join("; ");
} catch (e) { neo4jComponents = `? (${e.message})`; }
emit({
  id: "versions",
  k: Number(process.env.BENCH_K ?? 5),
  kFast: Number(process.env.BENCH_K_FAST ?? process.env.BENCH_K ?? 5),
  neo4j: neo4jComponents,
  java: sh("java -version 2>&1 | head -1"),
  node: process.version,
  rustc: sh("rustc --version"),
  wasmBindgen: sh("wasm-bindgen --version"),
  wasmBindgenLocked: sh("cargo pkgid wasm-bindgen").replace(/.*[@#]/, ""),
  workerd: sh("node_modules/.bin/workerd --version"),
  workerdNpm: pkgVersion("workerd"),
  miniflare: pkgVersion("miniflare"),
  wrangler: pkgVersion("wrangler"),
  neo4jDriverJs: pkgVersion("neo4j-driver"),
  python: sh(".cache/bench/venv/bin/python --version"),
  neo4jDriverPy: sh(".cache/bench/venv/bin/python -c 'import neo4j; print(neo4j.__version__)'"),
  chromium: sh("/usr/bin/chromium --version 2>/dev/null"),
  binaryen: pkgVersion("binaryen"),
  commit: sh("git rev-parse --short HEAD"),
  dirty: sh("git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock") !== "",
  cpu: `${cpus()[0]?.model ?? "?"} x ${cpus().length}`,
  ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  loadavg: sh("cat /proc/loadavg"),
});
