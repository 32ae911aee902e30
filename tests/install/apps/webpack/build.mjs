import { copyFileSync } from "node:fs";
import { resolve } from "node:path";
import webpack from "webpack";

const stats = await new Promise((ok, fail) => webpack({
  mode: "production",
  entry: "./src/main.js",
  output: { path: resolve("dist"), filename: "main.js", clean: true },
}, (err, stats) => (err ? fail(err) : ok(stats))));
if (stats.hasErrors()) throw new Error(stats.toString("errors-only"));
copyFileSync("index.html", "dist/index.html");
