// P2 in headless Chromium (Debian's, driven by playwright-core): one unbatched event by the
// library with the durable queue on (IndexedDB, the default) and off, against a plain fetch of the
// same statement and body (built by the library beforehand, not timed), straight to the bench
// Neo4j (CORS allows any origin), in a cross-origin isolated page (bench/page.mjs: performance.now()
// to 5 µs, not 0.1 ms). As bench/latency.mjs: bench/p2_page.mjs's K rounds of M iterations, the
// three in an order shuffled per iteration, 30 warm-up iterations dropped; per round p50 / p99 of each.
//   node bench/latency_chromium.mjs [K] [M]
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, emit, fresh, loadWasm } from "./common.mjs";
import { quantile } from "./stats.mjs";
import { us } from "./p2_page.mjs";

const K = Number(process.argv[2] ?? 5);
const M = Number(process.argv[3] ?? 200);
await loadWasm();
await fresh();
const { page, close } = await benchPage();
try {
  const samples = await page.evaluate(async ({ url, user, password, k, m }) => {
    const pkg = await import("/.cache/bench/pkg/neo4j_audit.js");
    await pkg.default();
    const { contenders, elapsed, rounds } = await import("/bench/p2_page.mjs");
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    const queued = new pkg.AuditLogger(cfg);
    const direct = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    const builder = new pkg.AuditLogger(cfg);
    for (const l of [queued, direct]) if (!(await l.ensureSchema())) throw new Error(l.lastError);
    const recs = await rounds({ pkg, builder, contenders: contenders({ url, user, password, queued, direct }), k, m, measure: elapsed });
    const out = recs.map((rec, i) => ({ round: i + 1, rec }));
    return out;
  }, { url: HTTP, user: USER, password: PASSWORD, k: K, m: M });
  for (const { round, rec } of samples) {
    Object.entries(rec).forEach(([contender, ms], place) => emit({ round, place, contender, n: ms.length, p50: quantile(ms, 0.5),
      p99: quantile(ms, 0.99), mean: ms.reduce((s, x) => s + x, 0) / ms.length, samples: ms.map(us), browser: "chromium" }));
  }
} finally {
  await close();
}
