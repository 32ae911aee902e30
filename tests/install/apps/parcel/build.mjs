// `parcel build index.html`, as its getting-started page has it: no .parcelrc, no resolver setting.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/parcel/lib/bin.js", "build", "index.html", "--no-cache", "--log-level", "warn"],
  { stdio: ["ignore", "inherit", "inherit"] });
