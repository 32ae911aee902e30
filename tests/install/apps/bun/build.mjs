// `bun build` for the browser, as the README says: it leaves `new URL(…, import.meta.url)` alone
// (no .wasm in its output), so the app is esbuild's (src/main.js: each .wasm imported as a URL,
// which bun's file loader copies into dist/) and hands that URL to init().
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
execFileSync("node_modules/.bin/bun", ["build", "src/main.js", "--outdir", "dist", "--target", "browser", "--minify"], { stdio: "inherit" });
copyFileSync("index.html", "dist/index.html");
