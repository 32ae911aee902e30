// P2's workload, shared by bench/latency.mjs (Node), bench/latency_chromium.mjs (the page, served
// under /bench/ like events.mjs) and bench/latency_chromium_diag.mjs (where the time goes): the
// three contenders — the library with the durable queue on and off, and a plain fetch of the same
// body (built by the library beforehand, not timed) — and the rounds: K rounds of M iterations,
// each contender once per iteration in an order shuffled per iteration (seeded), 30 warm-up
// iterations dropped. Shuffled, not rotated: with a rotation of three each contender nearly always
// runs right after the same other one, so whatever one leaves behind (a timer, garbage, the
// connection's state) lands on the same neighbour every time.
import { event } from "./events.mjs";
import { rng } from "./stats.mjs";

/** The contenders, each `(body) => Promise` resolving when its event is written (throws if not).
 *  "plain fetch (A/A)" is the plain fetch once more, a control: its ratio to "plain fetch" is what
 *  the method shows for two identical contenders (bench/report.mjs prints it beside the goals). A
 *  p99 of a few hundred samples rests on the largest few, and on a shared machine those are
 *  whichever calls a stall of another process hit: an A/A interval wider than the goal's 10 % says
 *  that a "not shown" at p99 is the method's resolution, not the library. */
export function contenders({ url, user, password, queued, direct }) {
  const auth = "Basic " + btoa(`${user}:${password}`);
  let n = 0;
  const viaLibrary = (logger) => async () => {
    const e = event(n++);
    if (!(await logger.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(logger.lastError);
  };
  const plain = async (body) => {
    const r = await fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", body,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth } });
    const j = await r.json();
    if (j.errors.length || j.results[0].data[0].row[0] !== 1) throw new Error(JSON.stringify(j.errors));
  };
  return {
    "library (queue on)": viaLibrary(queued),
    "library (queue off)": viaLibrary(direct),
    "plain fetch": plain,
    "plain fetch (A/A)": plain,
  };
}

/** Runs the rounds; `measure(name, run)` awaits `run()` and returns its sample. Returns one
 *  `{contender: [samples]}` per round. */
export async function rounds({ pkg, builder, contenders, k, m, measure }) {
  const names = Object.keys(contenders);
  const rand = rng(2);
  const iteration = async (i, rec) => {
    const f = event(1e6 + i);
    const order = [...names];
    for (let j = order.length - 1; j > 0; j--) {
      const r = Math.floor(rand() * (j + 1));
      [order[j], order[r]] = [order[r], order[j]];
    }
    // A body of its own for each (a new event, a new UID): the statement MERGEs on the UID, so a
    // body sent twice is a write that finds its event and writes nothing, ~1 ms faster here. All
    // made before the first call: made right before each, the library's own event building would
    // run warm after the builder's (its sync part measured 0.03-0.05 ms instead of 0.10-0.12).
    const bodies = order.map(() => pkg.benchmarkRequestBodyOne(builder, f.user, f.actionType, f.category, f.details));
    for (const [j, name] of order.entries()) {
      const body = bodies[j];
      const sample = await measure(name, () => contenders[name](body));
      rec?.[name].push(sample);
    }
  };
  for (let i = 0; i < 30; i++) await iteration(i);
  const out = [];
  for (let round = 1; round <= k; round++) {
    const rec = Object.fromEntries(names.map((x) => [x, []]));
    for (let i = 0; i < m; i++) await iteration(round * m + i, rec);
    out.push(rec);
  }
  return out;
}

/** Times `run()` (awaited) in ms: the scripts' `measure`. */
export async function elapsed(_name, run) {
  const t = performance.now();
  await run();
  return performance.now() - t;
}

/** A sample as recorded with the round (bench/results): ms to 1 µs. */
export const us = (ms) => Math.round(ms * 1000) / 1000;
