// The start shared by the P2 Chromium diagnostics (bench/latency_chromium_diag.mjs,
// bench/p2_fetch_shapes.mjs): `[K] [M] [DIR]` from the command line (DIR under .cache/bench/pkg/,
// default the bench build), the bench database emptied, the bench page open.
import { benchPage } from "./page.mjs";
import { fresh, loadWasm } from "./common.mjs";

/** Returns {K, M, DIR, page, close}. */
export async function diagnosticPage(argv = process.argv.slice(2)) {
  const K = Number(argv[0] ?? 5);
  const M = Number(argv[1] ?? 100);
  const DIR = argv[2] ? `/.cache/bench/pkg/${argv[2]}` : "/.cache/bench/pkg";
  await loadWasm();
  await fresh();
  return { K, M, DIR, ...(await benchPage()) };
}
