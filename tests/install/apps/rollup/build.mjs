// Builds with the README's rollup.config.js, which the test writes from the README's code block.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/rollup/dist/bin/rollup", "-c", "--silent"], { stdio: "inherit" });
copyFileSync("index.html", "dist/index.html");
