import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true }); // esbuild never removes older hashed assets
await build({
  entryPoints: ["src/main.js"], bundle: true, format: "esm", platform: "browser", minify: true,
  outdir: "dist", loader: { ".wasm": "file" }, assetNames: "[name]-[hash]", logLevel: "warning",
});
mkdirSync("dist", { recursive: true });
copyFileSync("index.html", "dist/index.html");
