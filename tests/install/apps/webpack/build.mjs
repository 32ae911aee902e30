import { copyFileSync } from "node:fs";
import { resolve } from "node:path";
import webpack from "webpack";

// `node build.mjs async`: with experiments.asyncWebAssembly on (a project that imports .wasm
// modules of its own), into dist-async/; the package's .wasm must still be emitted as an asset.
const async = process.argv[2] === "async";
const out = async ? "dist-async" : "dist";
const stats = await new Promise((ok, fail) => webpack({
  mode: "production",
  entry: "./src/main.js",
  experiments: { asyncWebAssembly: async },
  output: { path: resolve(out), filename: "main.js", clean: true },
}, (err, stats) => (err ? fail(err) : ok(stats))));
if (stats.hasErrors()) throw new Error(stats.toString("errors-only"));
copyFileSync("index.html", `${out}/index.html`);
