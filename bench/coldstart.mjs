// P5 cold start in workerd (Miniflare, local): CPU time of the workerd process from spawn to the
// answer of the first request (module load = wasm instantiate, then one logUserAction into the
// bench Neo4j), minus the same for a baseline Worker with no wasm that posts one event by hand.
// workerd freezes its clocks inside a request, so CPU is read from /proc (utime+stime).
//   node bench/coldstart.mjs [rounds]
import { readFileSync, readdirSync } from "node:fs";
import { Miniflare } from "miniflare";
import { HTTP, PASSWORD, emit, quantile } from "./common.mjs";

const ROUNDS = Number(process.argv[2] ?? 5);
const TICK = 100; // USER_HZ on Linux

function workerdCpuMs() {
  let ms = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      if (comm.startsWith("workerd") && Number(f[1]) === process.pid) ms += ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
    } catch {}
  }
  return ms;
}

async function once(script) {
  const t0 = performance.now();
  const mf = new Miniflare({
    scriptPath: new URL(`./coldstart/${script}`, import.meta.url).pathname,
    modules: true,
    modulesRoot: new URL("..", import.meta.url).pathname,
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-26",
    bindings: { NEO4J_URL: HTTP, NEO4J_PASSWORD: PASSWORD },
  });
  try {
    const res = await mf.dispatchFetch("http://localhost/");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${script}: ${text}`);
    return { cpu: workerdCpuMs(), wall: performance.now() - t0 };
  } finally {
    await mf.dispose();
  }
}

const rows = { wasm: [], base: [] };
for (let i = 0; i < ROUNDS; i++) {
  rows.base.push(await once("baseline.js"));
  rows.wasm.push(await once("worker.js"));
}
const med = (xs, k) => quantile(xs.map((x) => x[k]).sort((a, b) => a - b), 0.5);
emit({
  figure: "P5", rounds: ROUNDS,
  cpuMsWithLibrary: med(rows.wasm, "cpu"), cpuMsBaseline: med(rows.base, "cpu"),
  cpuMsLibraryCost: med(rows.wasm, "cpu") - med(rows.base, "cpu"),
  wallMsWithLibrary: med(rows.wasm, "wall"), wallMsBaseline: med(rows.base, "wall"),
  tickMs: 1000 / TICK,
});
