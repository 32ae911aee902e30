// The README's reference parts against the code they describe: the Layout block names every module
// of src/, and each CLI command's synopsis names every option the command accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers.mjs";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

test("README Layout names every file and folder of src/", () => {
  const layout = /^## Layout\n[^]*?\n```\n([^]*?)\n```/m.exec(README)?.[1];
  assert.ok(layout, "README has a Layout block");
  const named = new Set(layout.split("\n").map((l) => /^(src\/\S+)/.exec(l)?.[1]).filter(Boolean));
  const missing = readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .filter((e) => e.name !== "lib.rs")
    .map((e) => `src/${e.name}${e.isDirectory() ? "/" : ""}`)
    .filter((p) => !named.has(p) && !(p.endsWith("/") && named.has(`${p.slice(0, -1)}.rs`) && [...named].some((n) => n.startsWith(p))));
  assert.deepEqual(missing, [], "src/ entries the README Layout does not describe");
});

test("README: each CLI command's synopsis lists every option the command takes", async () => {
  for (const name of ["verify", "export", "tail", "migrate"]) {
    const { options } = await import(join(ROOT, "cli", `${name}.mjs`));
    const synopsis = new RegExp(`^- \`${name} (\\[[^\`]*)\``, "m").exec(README)?.[1];
    assert.ok(synopsis, `README has a synopsis line for ${name}`);
    for (const [option, { short }] of Object.entries(options)) {
      assert.ok(synopsis.includes(`--${option}`) || (short && synopsis.includes(`-${short} `)), `${name}: --${option} missing from "${synopsis}"`);
    }
  }
});
