// A server bundle of "neo4j-audit" for Node (its "node" entry), with the javascript parser's
// `url: "relative"` that Next.js sets for its server builds (webpack and, alike, Turbopack): the
// entry's `new URL("…_bg.wasm", import.meta.url)` becomes a URL with no file behind it.
import { resolve } from "node:path";
import webpack from "webpack";

const stats = await new Promise((ok, fail) => webpack({
  mode: "production", target: "node", entry: "./src/server.js",
  module: { parser: { javascript: { url: "relative" } } },
  output: { path: resolve("dist-server"), filename: "server.cjs", clean: true },
}, (err, stats) => (err ? fail(err) : ok(stats))));
if (stats.hasErrors()) throw new Error(stats.toString("errors-only"));
