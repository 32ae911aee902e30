import { copyFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.js"], bundle: true, format: "esm", platform: "browser", minify: true,
  outdir: "dist", loader: { ".wasm": "file" }, assetNames: "[name]-[hash]", logLevel: "warning",
});
mkdirSync("dist", { recursive: true });
copyFileSync("index.html", "dist/index.html");
