// A server bundle for Node (platform node, the package's "node" entry): esbuild copies no .wasm,
// so `node build-server.mjs external` leaves the package out of the bundle, as the README says.
import { build } from "esbuild";

await build({
  entryPoints: ["src/server.js"], bundle: true, format: "esm", platform: "node", outfile: "dist-server/server.mjs",
  packages: process.argv[2] === "external" ? "external" : undefined, logLevel: "warning",
});
