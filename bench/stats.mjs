// Statistics for bench/report.mjs: medians, quantiles and a percentile bootstrap over paired
// rounds. Deterministic (seeded), so the same raw results always give the same report.

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function rng(seed = 12345) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0..1) of numbers, linear between order statistics (R's type 7). */
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

export const median = (xs) => quantile(xs, 0.5);

/**
 * Percentile bootstrap of `stat` over `items` (rounds are resampled whole, so pairs stay paired).
 * Returns the statistic on the data and its (1 - alpha) interval.
 */
export function bootstrap(items, stat, { resamples = 10000, alpha = 0.05, seed = 12345 } = {}) {
  const point = stat(items);
  if (items.length < 2) return { point, lo: point, hi: point, k: items.length };
  const r = rng(seed);
  const draws = new Array(resamples);
  const buf = new Array(items.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < items.length; i++) buf[i] = items[Math.floor(r() * items.length)];
    draws[b] = stat(buf);
  }
  return { point, lo: quantile(draws, alpha / 2), hi: quantile(draws, 1 - alpha / 2), k: items.length };
}

/** Median of the per-round ratios a/b, with its 95 % bootstrap interval. pairs: [{a, b}]. */
export function ratioCI(pairs) {
  const ok = pairs.filter((p) => p.a > 0 && p.b > 0 && Number.isFinite(p.a) && Number.isFinite(p.b));
  return bootstrap(ok, (xs) => median(xs.map((p) => p.a / p.b)));
}

/** Median of the per-round differences a - b, with its 95 % bootstrap interval. */
export function diffCI(pairs) {
  const ok = pairs.filter((p) => Number.isFinite(p.a) && Number.isFinite(p.b));
  return bootstrap(ok, (xs) => median(xs.map((p) => p.a - p.b)));
}

/** Median of single values, with its 95 % bootstrap interval. */
export function medianCI(xs) {
  return bootstrap(xs.filter(Number.isFinite), median);
}

/**
 * Verdict of a goal on an interval: "met" when the whole interval is on the goal's side, "not met"
 * when the whole interval is on the other side, else "not shown" (the interval contains the goal).
 */
export function verdict({ lo, hi }, op, goal) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return "no data";
  const good = (x) => (op === ">=" ? x >= goal : x <= goal);
  if (good(lo) && good(hi)) return "met";
  if (!good(lo) && !good(hi)) return "not met";
  return "not shown (interval contains the goal)";
}

/**
 * The q-quantile (type 7, as `quantile`) of several rounds' samples pooled, for an upper q such as
 * 0.99. `rounds`: arrays sorted descending (a round may appear more than once: a bootstrap draw).
 * Only the top of each round can hold the pooled upper quantile, so only that is merged.
 */
export function pooledUpperQuantile(rounds, q) {
  const n = rounds.reduce((s, r) => s + r.length, 0);
  if (!n) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const need = n - lo + 1; // descending positions n-1-lo and n-2-lo
  const top = rounds.flatMap((r) => r.slice(0, need)).sort((a, b) => b - a);
  const at = (asc) => top[n - 1 - asc];
  return at(lo) + (h - lo) * ((at(Math.min(lo + 1, n - 1)) ?? at(lo)) - at(lo));
}

/**
 * Ratio of two contenders' upper q-quantiles, each over all rounds' samples pooled, with a 95 %
 * bootstrap interval that resamples rounds whole (pairs stay paired). pairs: [{a, b}] of sample
 * arrays, one pair per round. A p99 of one round's few hundred samples rests on its largest few
 * (whichever calls a stall hit); pooled over k rounds it rests on k times as many.
 */
export function pooledRatioCI(pairs, q) {
  const desc = pairs.filter((p) => p.a?.length && p.b?.length)
    .map((p) => ({ a: [...p.a].sort((x, y) => y - x), b: [...p.b].sort((x, y) => y - x) }));
  return bootstrap(desc, (xs) => pooledUpperQuantile(xs.map((p) => p.a), q) / pooledUpperQuantile(xs.map((p) => p.b), q));
}
