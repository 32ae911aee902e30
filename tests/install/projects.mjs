// Throwaway projects that install the package the way a user does: `npm pack` of pkg/, the tarball
// installed with `npm install` next to the project's own tools (Vite, esbuild, webpack, TypeScript)
// from the npm registry. Projects live under .cache/install/<name>/ and keep their node_modules:
// a project is reinstalled only when its package.json changes, which includes the tarball's hash,
// so a warm run with an unchanged package installs nothing (and needs no network).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../node/helpers.mjs";

export const CACHE = join(ROOT, ".cache/install");
/** The app sources of each project (copied over the project on every run). */
export const APPS = join(ROOT, "tests/install/apps");

/** Exact versions, all working on Node 20. */
export const TOOLS = {
  vite: { vite: "5.4.21" },
  vite8: { vite: "8.4.0" },
  parcel: { parcel: "2.16.4" },
  esbuild: { esbuild: "0.25.12" },
  webpack: { webpack: "5.103.0" },
  rollup: { rollup: "4.68.8", "@rollup/plugin-node-resolve": "16.0.3", "@web/rollup-plugin-import-meta-assets": "2.3.3" },
  // @types/node: a Node-only project's types (tsconfig.nodeonly.json: no DOM lib).
  types: { typescript: "5.9.3", "@types/node": "20.19.25" },
  // The npm package `bun` brings Bun's binary from the npm registry (@oven/bun-linux-x64).
  bun: { bun: "1.4.5" },
};

const npm = (cwd, ...args) => execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error",
  "--cache", join(ROOT, ".cache/npm")], { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

/** Packs pkg/ once per run; returns the tarball's file name in CACHE (named by its content hash). */
export function packOnce() {
  mkdirSync(CACHE, { recursive: true });
  const tmp = join(CACHE, "pack-tmp");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  npm(ROOT, "pack", join(ROOT, "pkg"), "--pack-destination", tmp);
  const [packed] = readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
  const hash = createHash("sha256").update(readFileSync(join(tmp, packed))).digest("hex").slice(0, 16);
  const name = `neo4j-audit-${hash}.tgz`;
  for (const f of readdirSync(CACHE)) if (/^neo4j-audit-.*\.tgz$/.test(f) && f !== name) rmSync(join(CACHE, f));
  renameSync(join(tmp, packed), join(CACHE, name));
  rmSync(tmp, { recursive: true, force: true });
  return name;
}

/**
 * The project `name` (.cache/install/<name>/) with the tarball and `devDependencies` installed and
 * the files of tests/install/apps/<name>/ copied in (when that folder exists). Returns its path.
 */
export function project(name, tarball, devDependencies = {}) {
  const dir = join(CACHE, name);
  mkdirSync(dir, { recursive: true });
  const manifest = JSON.stringify({
    name: `try-neo4j-audit-${name}`, private: true, type: "module",
    dependencies: { "neo4j-audit": `file:../${tarball}` }, devDependencies,
  }, null, 2) + "\n";
  const stamp = join(dir, "node_modules/.installed-manifest");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== manifest) {
    writeFileSync(join(dir, "package.json"), manifest);
    npm(dir, "install", "--prefer-offline");
    writeFileSync(stamp, manifest);
  }
  if (existsSync(join(APPS, name))) cpSync(join(APPS, name), dir, { recursive: true });
  return dir;
}

/** Runs a command in `cwd`; returns stdout (stderr is shown on failure through the thrown error). */
export function run(cwd, cmd, args, env = {}) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}
