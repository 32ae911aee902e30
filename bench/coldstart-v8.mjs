// P5 without Miniflare (BENCHMARKS.md's figure P5direct, with P5_EMIT=1; also a diagnostic): the P5 Workers in workerd run directly, without
// Miniflare, so that V8 flags can be set (workerd's config `v8Flags`; Miniflare has no option for
// them) and so that a start carries less than Miniflare's own work. CPU from spawn to the first
// answer, summed over the process's threads from /proc/<pid>/task/*/schedstat, as in
// bench/coldstart.mjs; contenders run in an order rotated per round; prints the median of each and
// the median of its per-round difference to the first contender.
//   node bench/coldstart-v8.mjs [rounds] [contender ...]
// A contender is `worker[+flags[+dir]]`: a Worker of bench/coldstart/ (empty.js, import.js,
// init.js, worker.js, ...), a flag set below (default: none; `flags=--a,--b` for any V8 flags), and the directory of the write entry
// it imports instead of pkg/ (a wasm-pack --target web output with a workerd.js beside it), or
// `none`: the Worker without the library's modules (else every Worker here, empty.js included,
// carries the .wasm and compiles it at load; see capnp below).
//   node bench/coldstart-v8.mjs 20 baseline.js+default+none empty.js baseline.js import.js init.js worker.js
//     (the whole P5 split without Miniflare: compile = baseline − baseline+default+none)
//   node bench/coldstart-v8.mjs 20 empty.js init.js worker.js worker.js+eager worker.js+notier
//   node bench/coldstart-v8.mjs 1 init.js+liftoff worker.js+liftoff worker.js+liftoff+<dir>
//     (what the first logger / first event make V8 compile: functions, body and code bytes)
// Neo4j: BENCH_NEO4J_URL (default the bench instance); raw samples: $OUT (JSON), if set; P5_EMIT=1:
// a JSON line per start (how bench/run records the figure P5direct).
// P5_COMPAT_FLAGS=nodejs_compat: the Workers with those compatibility flags (as many Workers ship).
// P5_PORT: the port workerd listens on; P5_STDOUT: file for workerd's stdout (V8 --trace-*);
// P5_PERF=dir: a `perf record -g` profile per start (workerd ships its symbols).
//
// Where the library's extra CPU went (2026-11-28, write entry after the one-caller inlining
// limit; worker.js − baseline.js ≈ 11.3 ms here; shares from perf profiles of 6 starts each,
// attributed by the outermost matching frame):
//   ~54 %  V8's lazy Liftoff compilation of the wasm functions the first logger and event run
//          (429 functions, 101 KB of body → 527 KB of machine code; ~2/3 of it Liftoff itself,
//          the rest page faults on new code space, workerd's JIT code events, publishing);
//   ~16 %  lazy compilation of the wasm-bindgen JS glue (≈ 80 functions, init + first event);
//   ~15 %  JS imports run from wasm (fetch ×2 incl. the schema check, Headers, URL, crypto, …);
//   the rest microtasks, JS→wasm calls, instantiation. TurboFan plays no part (`notier` and
//   `--liftoff-only` change nothing); eager compilation (`eager`) costs more, as does compiling
//   the glue eagerly (`//# allFunctionsCalledOnLoad`). The compiled body is what to cut:
//   ≈ 60 µs of CPU per KB of wasm body a cold start runs.
// 2026-11-29 (the schema check rides in the first write's transaction, so one fetch fewer; the
// schema step and the error classification of an answer in functions of their own; the default
// redaction list written out), `node bench/coldstart-v8.mjs 1 init.js+liftoff worker.js+liftoff`:
// worker.js 400 -> 371 functions, 98.4 -> 91.2 KB of body; init.js 199 -> 179, 36.7 -> 33.8 KB (main 5872511).
// 2026-11-29 (cold2: code a direct-mode start compiles but never runs moved out of line or not
// called: client mode's sink and config check, the options reader, the deadline retry variant,
// error messages, Result::clone and distinct_uids for a lone successful event; urlcheck in one JS
// call; unicode.js's regular expressions made on first use instead of as literals, which V8
// checked when parsing the module), `... 1 init.js+liftoff worker.js+liftoff` (old build +dir):
// init.js 188 -> 189 functions, 35,584 -> 33,489 B of body; worker.js 379 -> 378, 86,416 -> 80,028 B
// (machine code 428,680 -> 397,396 B). `... 30 empty.js import.js+default+<old> import.js
// init.js+default+<old> init.js worker.js+default+<old> worker.js`, paired new - old (median
// [95 % bootstrap]), load average ~10 on 2 cores: import -0.96 ms [-1.66, -0.31], init -0.28
// [-1.31, 0.48], worker -0.98 [-2.74, 0.24]; 40 rounds of worker alone: -1.05 [-2.30, 0.54].
// Rebased on main 319bf03, against that main: Liftoff body init 36,022 -> 33,927 B, worker 86,464
// -> 80,076 B; 30 rounds paired: import -0.98 ms [-1.89, -0.59], init -0.85 [-2.06, -0.03],
// worker -1.25 [-2.07, -0.66] (worker - empty 11.85 -> 10.85 ms).
// 2026-11-29 (p5), the whole split without Miniflare, main ad1c9c6, `... 15 baseline.js+default+none
// empty.js baseline.js import.js init.js worker.js second.js`, paired medians [95 % bootstrap], load ~9
// on 2 cores: .wasm compiled at load (baseline - baseline+none) 2.32 [1.66, 2.45] ms; instantiation +
// glue (import - empty) 0.47 [-0.14, 1.14]; first AuditLogger (init - import) 2.98 [2.52, 3.76]; first
// logUserAction (worker - init, its request included; a plain request is ~0.85) 3.66 [3.05, 4.52];
// P5 (worker - baseline+none) 8.73 [7.90, 9.38] ms, against Miniflare's 25.7 [12.4, 43.7] in the
// bench run (whose empty Worker alone is ~116 ms of CPU). Some starts of any Worker, the floor
// included, spend 20-33 % of their samples in the kernel clearing transparent huge pages
// (clear_page_erms under tcmalloc's huge-page allocator and capnp's arena memset; perf, P5_PERF):
// run under prctl(PR_SET_THP_DISABLE), which children inherit, the outliers went (10 rounds:
// empty max 31.7 -> 19.8 ms) and the medians stayed. Liftoff's "took" per function: ~2 us for a
// body < 50 B (160 of the first event's 434 functions), 44 us median above 800 B. The p5 branch
// (identity's token branch out of line, queue::window in JS; first event's Liftoff body 78,452 ->
// 77,222 B, i.e. ~0.07 ms at ~60 us/KB) against main, 20 rounds paired with `+dir`: worker.js 0.01
// [-0.96, 1.45] ms, init.js -0.19 [-1.49, 0.43]: below what this tool resolves on this machine.
// 2026-11-29 (workerp5: target_labels, Config::secrets, schema_names and the sink's scrub list
// without map/collect/sort/dedup instances; error::join), write entry against main cb79543 (A tree,
// `+dir`), `... 1 init.js+liftoff worker.js+liftoff`: init.js 226 -> 220 functions, 35,177 -> 34,628
// B of body; worker.js 433 -> 422, 77,401 -> 76,068 B. `... 20 baseline.js+default+none
// init.js+default+<A> init.js worker.js+default+<A> worker.js`, paired, load ~7-11: init +0.08 ms
// [-0.00, 0.29], worker -0.37 [-0.78, -0.18]; P5 (worker - baseline+none) 8.78 -> 8.30 ms; with the
// last change, a second such run: init -0.08 [-0.44, 0.24], worker -0.30 [-0.92, 0.57]. Per first
// event the Liftoff body by part (names from a wasm-opt -g build): the batch leader's future 3.2 KB,
// logUserAction's entry 2.8, Sink::write 1.8, the durable queue (Durable::open/listen/admit/settle/
// forget, uidmap; it runs in a Worker too, memory only) ~6.5, config reading + validation ~6.
// P5_TRACE=dir keeps each such trace; with a build whose .wasm has its name section (wasm-opt -g)
// the `#index` of each line names the function.
// 2026-11-29 (workerp5b: cargo feature memory-queue, "neo4j-audit" under the workerd condition built
// without the browser queue's IndexedDB/recovery/pagehide code, pkg/workerd/), against main c5e5e81 (A
// tree, +dir): .wasm 163,291 -> 145,303 B (gz 71,754 -> 63,991), glue 13,920 -> 10,676 B; `... 1
// init.js+liftoff worker.js+liftoff`: init 222 -> 209 functions, 35,922 -> 34,815 B of body; worker 416
// -> 403, 76,935 -> 76,466 B (the first event barely ran that code in a Worker: the gain is the smaller
// module and glue). Paired B - A, median [95 % bootstrap], 30 rounds, two runs: import -0.28 [-0.67,
// -0.02] ms; init -0.73 [-1.18, -0.38] and -0.20 [-0.77, 0.28]; worker -0.30 [-0.85, 0.15] and -0.53
// [-1.04, 0.06]; P5 (worker - baseline+none) 8.84 [8.37, 9.59] -> 8.71 [7.89, 9.03].
// 2026-11-29 (p5ctor: a committed send settles without an async step, Durable::committed; the
// write statement's target subqueries and the token's config checks out of line; the config's
// string members stored by one call per kind), against main d0e9c50 (A tree, +dir; module paths
// must stay inside the repository, so a copy under .cache/): `... 1 init.js+liftoff
// worker.js+liftoff`: init 207 -> 207 functions, 34,794 -> 34,307 B of body; worker 402 -> 402,
// 76,582 -> 73,085 B (code 382,528 -> 365,020 B), i.e. ~0.2 ms at ~60 us/KB. What the first logger
// compiles (a wasm-opt -g build, init.js, 34.7 KB): ~12 KB is its own (config reading ~3.5,
// validation ~4.7, logger/sink/redactor set-up ~3.3, the queue's open ~0.9); the rest is code the
// first event runs anyway (the JSON parser, which reads Neo4j's answer too, ~5.7; dlmalloc and
// Vec growth ~5.9; SHA-256, hex and the random pool for the stream id ~3.7; glue ~1.5) and, in
// init.js only, the free() path (~2.2): deferring it would move, not cut, the P5 total. 30 rounds
// paired, load 10-22: init +0.00 ms [-0.38, 0.24], worker +0.01 [-0.39, 0.11] (P5 8.89 -> 8.92);
// Miniflare (bench/coldstart.mjs, P5_ALT, 20 rounds): init -0.16 [-1.48, 1.28], library +0.25
// [-1.47, 1.48]: below what either tool resolves on this machine.
// 2026-11-30 (p5first: the queue's key scope made only with a store, so the Workers build, which
// never has one, drops the scope and identity code), against main c8a797a (A tree, +dir):
// pkg/workerd .wasm 146,837 -> 143,282 B (gz 64,952 -> 63,227); `... 1 init.js+liftoff
// worker.js+liftoff`: init 208 -> 200 functions, 34,523 -> 32,787 B of body; worker 397 -> 392,
// 73,504 -> 72,596 B. 30 rounds paired (load 8-20, test suites running): init +0.12 ms [-0.38,
// 0.48], worker +0.38 [-0.34, 0.97]; Miniflare 20 rounds: below what either tool resolves.
// What the first event compiles, by part (wasm-opt -g build, names from its name section; the
// name section only survives with CARGO_PROFILE_RELEASE_STRIP=false and without
// scripts/drop-closure-slots.mjs; names matched: json::/outcome::, config, dlmalloc, sha2/chain,
// js_sys/wasm_bindgen, queue/uidmap): JSON parser + writer + reading Neo4j's answer 8.5 KB (the
// parser also reads the config in the constructor), config reading + validation 5.1, dlmalloc
// 4.1, SHA-256 + chain 3.9, wasm-bindgen/js-sys futures and shims 5.9, the memory queue 5.9
// (admit, uidmap, settle, its future), batch leader ~6.5, logUserAction's entry 3.5. Tried, no gain in compiled bytes (same
// cargo output, `... 1 worker.js+liftoff`): wasm-opt --one-caller-inline-max-function-size 0 / 15
// / 100 73,696 / 73,168 / 76,381 B, -Os 73,473, --no-inline=* 89,779, the Worker entry's size
// passes 76,440 (main 73,504); sha2 at opt-level "z" 73,044 (-460 B). Not done: a queue that
// admits an event only when its send failed (~2.8 KB fewer on a first event) would seal events
// it may then drop for a full queue (a hole in the chain, which admission before sealing avoids);
// a smaller allocator than dlmalloc for Workers (~3 KB) trades fragmentation in a long-lived
// isolate. Quiet machine (load ~4), this branch, paired medians [95 % bootstrap]: `... 60
// baseline.js+default+none baseline.js+default+<A> baseline.js init.js+default+<A> init.js
// worker.js+default+<A> worker.js`: .wasm compiled at load -0.05 ms [-0.14, 0.06], init -0.09
// [-0.21, 0.10], worker +0.13 [-0.17, 0.25] (P5 direct 8.10 -> 8.14): not resolved. The split,
// `... 30 baseline.js+default+none empty.js+default+none empty.js baseline.js import.js init.js
// worker.js second.js`: .wasm compiled at load (empty - empty+none) 1.95 [1.71, 2.22]; instantiation +
// glue 0.70 [0.37, 0.81]; first logger 2.43 [2.21, 2.65]; first event 4.17 [3.83, 4.40] (a plain
// request, baseline+none - empty+none, 0.85); a second call 0.87; P5 direct 8.31 [8.03, 8.52]. So
// ~5.7 ms is code run for the first time (~75 us per KB of Liftoff body, glue included) and the
// goal (<= 5 ms) needs about half of the first logger's and event's compiled code gone, not trims.
// `--wasm-lazy-validation` (workerd's config, not a library's): `... 40 baseline.js+default+none
// baseline.js baseline.js+flags=--wasm-lazy-validation worker.js worker.js+flags=...`: the module's
// up-front validation is 0.64 ms [0.51, 0.81] of its 1.95 ms compile (143 KB, ~4.5 us/KB), but
// worker.js saves only 0.20 [-0.04, 0.42] (what runs is validated when compiled anyway): code
// that never runs costs ~5 us/KB, code that runs ~75.
// 2026-11-30 (p5cold: the machine's input handlers a first event never runs — timer, stored,
// loaded, page_hide, clear_now — and the schema step's answer handlers out of line in the Workers
// build (cfg_attr memory-queue: they had been merged into the driver's input closure, 7.4 KB, and
// into Machine::answered, 2.2 KB); QueuePolicy::stores() false at compile time there, so the record
// paths drop out; the record key scope made only with a store; the store's records and a refused
// call's reason read out of line), against main e87b330 (A tree, +dir): `... 1 init.js+liftoff
// worker.js+liftoff`: init 196 -> 188 functions, 35,194 -> 33,363 B of body; worker 309 -> 303,
// 69,471 -> 59,949 B (code 339,124 -> 294,556 B). Paired new - main, three runs (40, 40, 30 rounds,
// load 9-12): worker -0.54 ms [-1.04, -0.35], -0.58 [-1.02, -0.19], -0.41 [-0.66, -0.03]; init
// -0.12 [-0.54, 0.10], -0.36 [-0.70, -0.02]. Miniflare (P5_ALT, 20 rounds): within its ±2 ms noise.
// The split of the 30-round run (this branch): .wasm compiled at load 2.24 [1.50, 2.39]; import
// 0.70; first logger 3.07 [2.21, 3.65]; first event 3.77 [3.49, 4.29] (a plain request 0.88); a
// second call 0.89; P5 direct 8.72 [8.32, 9.17] (main in the same rounds 9.27 [8.81, 9.68]).
// perf (P5_PERF, 5 starts of worker.js): of the lazy wasm compilation, 73 % is
// ExecuteLiftoffCompilation and most of that its per-instruction decoder loop (WasmFullDecoder);
// code publishing ~10 %, workerd's code logging ~7 %: the cost follows the instructions compiled,
// not the number of functions. Accordingly wasm-opt -aimfs 6 / 8 / 12 on this entry (267 / 255 /
// 237 functions for 60.5 / 61.7 / 62.4 KB of body, against 303 for 59.9 KB) gave -0.60 [-0.76,
// -0.05] ms in one 40-round run and +0.24 [-0.22, 0.61] in the next (-aimfs 6): not taken; -O2,
// -O3, -Os: +25 % of body. JS (V8's --log-function-events through `flags=`): the glue's
// functions compiled lazily are 12 at import, 58 with the first logger, 103 with the first event
// (the imports object, 3.2 KB of source, the largest); by perf the JS compilation is ~20 % of the
// library's extra CPU and the wasm compilation ~50 %.
// 2026-11-30 (p5cold14), main aae6d01, load 12-20 on 2 cores: where the library's extra CPU goes.
// perf (P5_PERF, 5 starts of baseline.js+default+none against 6 of worker.js; samples by the
// outermost matching frame; perf itself about doubles every figure): lazy wasm compilation
// (Liftoff) +5.7 ms, lazy compilation of the glue's JS +3.3, the .wasm compiled at load +0.75,
// instantiation +0.33, the rest spread (JS and wasm running, page faults of workerd's start-up
// that vary by start): JS compilation is ~60 % of the wasm compilation, not a side issue.
// `flags=--log-function-events,--logfile=F,--no-logfile-per-isolate` (V8's own timings, logging
// included): the glue's text parsed at load 0.75 ms (12.4 KB), then 57 of its functions compiled
// lazily by the first event, 1.37 ms in all: 5-10 us for each small one (the imports' shims),
// 30-50 us for the large (the imports object 2.2 KB, details.js's eventText and replacer, the
// fetch, configToJson). `... 1 init.js+liftoff worker.js+liftoff`: init 121 functions / 29,811 B
// of body, worker 221 / 58,152 B; the largest (a -g build, P5_TRACE): log_user_action 6.9 KB,
// logger_from_js 5.2, Machine::answered 3.3 (with client mode's answer reading inlined, which
// direct mode never runs), json::Parser::value 3.0, Config::validate_as 2.5, dlmalloc's malloc
// 2.2; Liftoff's "took" 39 us/KB over all, 25-35 for the large bodies, 43-52 for answered and
// Parser::value. At load (empty.js with the modules swapped, k = 20 paired): a 39-B .wasm +0.29 ms
// over none; the real .wasm (120 KB) +0.91 [0.41, 1.29] over the 39-B one; the real glue over a
// 29-B one +0.40 [-0.02, 0.88] and, a second run, +0.97 [0.35, 1.45]; a comment-only glue of the
// same size +0.52 [0.12, 0.96] (capnp lexing this tool's text config, where the modules are
// string literals, plus V8's scan; Miniflare and Cloudflare hand workerd a binary config, so part
// of the glue's figure here is this tool's); with the modules `embed`ded instead, comment-only
// +0.37 [-0.43, 0.58]: no difference resolved, so the tool was left as it is.
// Tried on the Workers entry (paired worker.js, `+dir`): -Cllvm-args=-hot-cold-split=true: no
// change in the compiled body (58,159 B); sha2 at opt-level "z": .wasm -461 B, -0.11 ms [-0.54,
// 0.77] (k = 20); `//# allFunctionsCalledOnLoad` on the glue: -0.19 [-0.71, 0.29] (k = 60; no
// longer the loss it was); the glue without wasm-bindgen's asynchronous loader (kept:
// scripts/minify-glue.mjs --workers, 12,357 -> 10,964 B): -0.10 [-0.48, 0.34] (k = 60). Kept
// too (out of line: client mode's answer reading, the details scan's refusal messages, and in the
// Workers build the schema step's answer handler): worker.js's Liftoff body 58,152 -> 56,211 B,
// init.js unchanged. Both together against main, `... 60 baseline.js+default+none
// worker.js+default+<A> worker.js+default+<B> init.js+default+<A> init.js+default+<B>`, load
// 12-15: worker +0.03 ms [-0.47, 0.49], init +0.18 [-0.11, 0.29]; P5 direct (worker -
// baseline+none) 7.88 [7.57, 8.09] -> 7.90 [7.49, 8.22]. None resolved: at this load 60 rounds
// resolve ~0.4 ms, i.e. ~6 KB of wasm body run or ~5 KB of glue, and the goal (<= 5 ms) needs
// ~20 KB of the first logger's and event's wasm body, or the glue's compilation halved, gone.
// 2026-11-30 (cold18: scripts/minify-glue.mjs; the .wasm unchanged byte for byte). V8's own log
// (`worker.js+flags=--log-function-events,--logfile=F,--no-logfile-per-isolate`) showed, besides the
// glue functions the first event needs, esbuild's namespace helper and one getter per export of the
// two snippets wasm-bindgen imports whole (details.js, hash.js) compiled at instantiation only to
// hand over the functions; and every function a cold start runs compiled lazily, i.e. its text
// scanned at load and parsed again at its first call. Now the snippets go in as plain objects,
// and wasm-bindgen's helpers a start runs (the imports object, initSync, the string and memory
// helpers, handleError, the closure wrapper and invoke) and the snippets' (eventText and the
// details copy, configToJson, urlParts, hostHash, post, the driver's promise executor) are
// parenthesised function expressions, which V8 compiles with the module's text (Workers build
// only). Lazily compiled glue functions in worker.js 65 -> 47. Paired against main's pkg/workerd
// (A tree, +dir), k = 100, load 13-20: namespaces alone worker -0.26 ms [-0.45, 0.00]; + eager
// helpers -0.83 [-0.99, -0.33] and, a second run, -0.28 [-0.48, -0.10]; + eager snippet functions
// worker -0.47 [-0.71, -0.33], init +0.02 [-0.44, 0.15] (`... 100 init.js+default+<A>
// init.js+default+<C> init.js+default+<D> worker.js+default+<A> worker.js+default+<C> worker.js+default+<D>`).
// Then the imports object's shims parenthesised too: against the step before, worker -0.24 ms
// [-0.38, -0.03], init -0.17 [-0.30, 0.01] (two runs pooled, k = 180). All against main, `... 40
// empty.js+default+none compile.js import.js+default+<A> import.js init.js+default+<A> init.js
// worker.js+default+<A> worker.js` (load 9-14): import +0.13 [-0.01, 0.48], init +0.12 [-0.21, 0.30]
// (compilation moved to load), worker -0.53 [-0.77, -0.26]. The split of that run (this branch):
// .wasm compiled at load (compile - empty+none) 2.76 [2.23, 2.86]; instantiation + glue 0.24; first
// logger 2.62 [2.35, 3.06] (122 wasm functions, 27.9 KB of Liftoff body); first event 3.50 [3.01,
// 3.82] (a plain request ~0.85 of it; 108 more functions, 28.8 KB): the rest is wasm compilation.
// 2026-11-30 (cold19): four cold paths that were inlined into logUserAction out of line in the
// Workers build (cfg_attr memory-queue: the details rewrite, the scrub of a held secret,
// set_targets, queue_full), `... 1 init.js+liftoff worker.js+liftoff` (names build): worker.js 229
// functions, 56,647 -> 55,940 B of body; init.js 121 / 27,780 B unchanged. `... 40
// baseline.js+default+none init.js+default+<A> init.js+default+<B> worker.js+default+<A>
// worker.js+default+<B>`, paired B - A, load ~15: init -0.09 ms [-0.36, 0.18], worker +0.13 [-0.40,
// 0.61]; again with 60 rounds, load ~7: init +0.06 [-0.11, 0.35], worker -0.21 [-0.44, -0.01]; both
// pooled (k = 100): init +0.02 [-0.13, 0.27], worker -0.15 [-0.36, 0.13] (~0.05 expected from the
// body); P5 direct (worker - baseline+none) 8.65 [8.40, 9.00] -> 8.50 [8.26, 8.83] (k = 60). What the
// rest is, this main: Liftoff's own "took" sums to 1.19 ms (first logger) + 1.25 ms (first event);
// minor page faults of workerd (/proc/<pid>/stat, 5 rounds, median difference to
// baseline+none): the .wasm compiled at load +255 over empty+none, init +358, worker +470; perf
// self samples by kind (4-5 starts each, perf-inflated), worker - baseline+none: V8's wasm
// decoder/Liftoff/validation +4.3 ms, kernel (page faults, code space) +3.2, JS parse/compile +1.9,
// allocator +1.1; V8's log: the glue's parse-script 0.89 ms for 12.7 KB. The log call's own
// 7.2 KB of body is now nearly all code a first event runs (read_room, the details scan, the
// event's checks, the chain seal, Machine::log_shared): trims of cold paths are exhausted at
// ~1 % of the compiled body each.
// 2026-12-03 (coldstart35), main 7e31edb. Under nodejs_compat (P5_COMPAT_FLAGS=nodejs_compat; the
// P5 figures run without it) workerd has process.getBuiltinModule, and src/wasm/hash.js loaded
// its node:crypto when the Workers entry was imported (a Worker asking node:crypto for one hash:
// +6.98 ms [6.74, 7.26] over empty, k = 60). The Workers build (memory-queue) now hashes with the
// wasm's own SHA-256 and ships no hash.js (.wasm 123,202 -> 122,956 B, glue 14,815 -> 14,421 B).
// Paired new - main (A tree, +dir), nodejs_compat: import -6.92 ms [-7.46, -6.39], init -7.18
// [-7.40, -6.35], worker -6.66 [-7.23, -5.95] (k = 40); again, load higher: worker -7.17 [-8.61,
// -6.33], second -8.55 [-8.98, -7.63] (k = 40); P5 direct (worker - baseline+none) 14.91 -> 8.22 ms.
// Without the flag, unchanged (k = 60): import +0.09 [-0.32, 0.31], init -0.08 [-0.48, 0.15],
// worker +0.13 [-0.16, 0.54]. Nor is it a loss for a busy isolate: a Worker logging 300 events
// in one request (nodejs_compat, k = 20) used 11.74 ms [8.74, 12.25] less CPU than with the host's
// hash (workerd's node:crypto hash costs more per event than the wasm's SHA-256). Ruled out the same day: crypto.getRandomValues' first call in
// workerd (4 KB, the random pool's seeding: +0.06 ms [-0.21, 0.32] over empty, k = 60); wasm-opt
// -aimfs 4 / 8 / 16 on this entry (worker.js 238 -> 230 / 209 / 170 functions for 58.7 / 60.0 /
// 62.8 KB of Liftoff body; paired, k = 100: worker +0.31 [-0.22, 0.97], +0.58 [0.26, 1.34], +0.45
// [0.12, 0.89]: no gain from fewer functions). Liftoff's "took" in a clean start: 1.97 ms for the
// first logger's 126 functions / 27.4 KB, ~2.9 ms for worker.js's 239 / 58.7 KB; by V8's function
// log the first logger's JS compilation is ~0.3 ms (9 functions parsed, 70 to bytecode).
// 2026-12-06 (p5), main 58d042d, quiet machine (load 1-2). The split, `... 30 baseline.js+default+none
// empty.js+default+none compile.js empty.js import.js init.js worker.js second.js`, paired medians [95 %
// bootstrap]: modules at load (empty - empty+none) 3.29 [2.47, 4.53]; instantiation + glue 0.49 [-0.45,
// 1.08]; first logger 3.80 [3.19, 4.87]; first event 5.06 [4.12, 6.24] (a plain request 1.09); a second
// call 1.35; P5 direct 11.61 [10.12, 12.83] (a 20-round run the same hour: 10.88 [9.95, 11.39]). At load,
// `... 30 empty.js+default+none empty.js empty.js+default+<W> empty.js+default+<J>` (W: the real .wasm
// with a one-line glue; J: the real glue with an 8-byte .wasm): the .wasm 1.60 [1.04, 3.50], the glue
// 2.71 [1.36, 3.98] (its parse and eager compilation, plus this tool's capnp text). By kind
// (bench/coldstart-perf.mjs over P5_PERF profiles, 10 starts of baseline.js+default+none against 12 of
// worker.js; samples per start of the difference, 435 in all): wasm lazy compilation 192 (44 %), the
// glue parsed and compiled at load 55 (13 %), JS running (imports, API calls, microtasks) 55 (13 %),
// JS lazy compilation 40 (9 %), this tool's capnp text config 32 (7 %), wasm running 18, the .wasm
// compiled at load 18, instantiation 10, the rest 33 (page faults, noise). In the first event's
// Liftoff trace (worker.js+liftoff, 229 functions, 60.4 KB of body, "took" 3.7 ms): 129 functions
// under 100 B make 9 % of the body and 22 % of the time (~6 us each, mostly drop_in_place, RawVec,
// Vec and Option instances and wasm-bindgen shims); functions over 1 KB run at ~48 us/KB. Tried:
// the crate at opt-level "s" for this entry (the same wasm-opt): 141 functions but 76.6 KB of body,
// worker.js +0.99 ms [-0.50, 2.50] (k = 20): not taken. Workers refuse `new WebAssembly.Module`,
// `WebAssembly.compile` ("Wasm code generation disallowed by embedder") and have no
// `compileStreaming`: the module workerd compiles at load is the only way in, so how the library
// compiles its .wasm is not a lever there.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { HTTP, PASSWORD, config as benchConfig, event, loadWasm } from "./common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
// P5_COMPAT_FLAGS (comma-separated): workerd compatibility flags for every Worker, e.g. nodejs_compat.
const COMPAT = process.env.P5_COMPAT_FLAGS
  ? `\n  compatibilityFlags = [${process.env.P5_COMPAT_FLAGS.split(",").map((f) => JSON.stringify(f)).join(", ")}],`
  : "";
const FLAGS = {
  default: [],
  eager: ["--no-wasm-lazy-compilation"], // every function compiled (Liftoff) when the module is
  notier: ["--wasm-tiering-budget=1000000000"], // no TurboFan tier-up within a start
  // What V8 compiled lazily (Liftoff) in the start: the line of this contender also gives the
  // wasm functions compiled, their body bytes and machine-code bytes (deterministic, unlike the
  // CPU figures, which this tracing inflates).
  liftoff: ["--trace-wasm-compilation-times"],
};
/** Contender → [functions, body bytes, code bytes] of its last start (flag set `liftoff`). */
const liftoff = {};
const rounds = Number(process.argv[2] ?? 10);
const names = process.argv.length > 3 ? process.argv.slice(3) : ["empty.js", "init.js", "worker.js"];
const bin = join(ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd");
const scratch = mkdtempSync(join(tmpdir(), "p5-v8-"));

await loadWasm();
const builder = new AuditLogger(benchConfig());
const ev = event(3e6);
const body = benchmarkRequestBodyOne(builder, ev.user, ev.actionType, ev.category, ev.details);
const q = (s) => JSON.stringify(s);

/** The capnp config of one start: the Worker, the write entry's modules, its bindings. With dir
 * `none` the Worker alone (empty.js, baseline.js): no library module, so no .wasm compiled at load
 * (as bench/coldstart.mjs's empty and baseline Workers); a Worker of this tool otherwise always
 * carries the .wasm, whose compilation is then in every contender, the floor included. */
function capnp(port, worker, flags, dir) {
  const text = (f) => readFileSync(join(ROOT, f), "utf8");
  const own = [`bench/coldstart/${worker}`, text(`bench/coldstart/${worker}`).replace("../../pkg/workerd.js", `../../${dir}/workerd.js`)];
  // The glue and .wasm workerd.js loads: beside it, or in workerd/ (pkg/: the root entry's Workers
  // build, cargo feature memory-queue, scripts/build).
  const lib = dir !== "none" && /from "\.\/workerd\//.test(text(`${dir}/workerd.js`)) ? `${dir}/workerd` : dir;
  const mods = dir === "none" ? [own] : [
    own,
    [`${dir}/workerd.js`, text(`${dir}/workerd.js`)],
    [`${lib}/neo4j_audit.js`, text(`${lib}/neo4j_audit.js`)],
    // A release build has its snippets bundled into neo4j_audit.js (scripts/minify-glue.mjs).
    ...(existsSync(join(ROOT, lib, "snippets")) ? readdirSync(join(ROOT, lib, "snippets"), { recursive: true }) : []).filter((f) => f.endsWith(".js"))
      .map((f) => `${lib}/snippets/${f}`).map((f) => [f, text(f)]),
  ];
  const wasmFile = `${lib.replace(/[^A-Za-z0-9]/g, "_")}.wasm`; // capnp embeds relative to the config
  if (dir !== "none") writeFileSync(join(scratch, wasmFile), readFileSync(join(ROOT, lib, "neo4j_audit_bg.wasm")));
  const wasmModule = dir === "none" ? "" : `,
    (name = ${q(`${lib}/neo4j_audit_bg.wasm`)}, wasm = embed ${q(wasmFile)})`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .w), (name = "net", network = (allow = ["public", "private", "local"]))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
  v8Flags = [${flags.map(q).join(", ")}],
);
const w :Workerd.Worker = (
  modules = [${mods.map(([n, t]) => `(name = ${q(n)}, esModule = ${q(t)})`).join(",\n    ")}${wasmModule}],
  compatibilityDate = "2026-04-26",${COMPAT}
  globalOutbound = "net",
  bindings = [(name = "NEO4J_URL", text = ${q(HTTP)}), (name = "NEO4J_PASSWORD", text = ${q(PASSWORD)}),
    (name = "EVENT", json = ${q(JSON.stringify(ev))}), (name = "BODY", text = ${q(body)})],
);`;
}

// P5_PORT: the port workerd listens on (default: a free one the system picks).
const freePort = () => process.env.P5_PORT ? Promise.resolve(Number(process.env.P5_PORT)) : new Promise((r) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => r(port)); }); });
const cpuMs = (pid) => readdirSync(`/proc/${pid}/task`).reduce((ns, t) => ns + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]), 0) / 1e6;

async function once(spec) {
  const [worker, set = "default", dir = "pkg"] = spec.split("+");
  // `+flags=--a,--b` gives the flags themselves.
  if (set.startsWith("flags=")) FLAGS[set] = set.slice(6).split(",");
  if (!FLAGS[set]) throw new Error(`no flag set ${set} (${Object.keys(FLAGS).join(", ")})`);
  const port = await freePort();
  const file = join(scratch, `c${port}.capnp`);
  writeFileSync(file, capnp(port, worker, FLAGS[set], dir));
  // P5_PERF=dir: each start under `perf record` (a profile per start in dir; the CPU figures
  // then include perf's own and mean nothing).
  const perf = process.env.P5_PERF;
  const argv = ["serve", "--experimental", file];
  // P5_STDOUT=file: workerd's standard output appended there (what V8's --trace-* flags print).
  const traced = set === "liftoff" ? join(scratch, `trace${port}.txt`) : null;
  const out = traced ? openSync(traced, "w") : process.env.P5_STDOUT ? openSync(process.env.P5_STDOUT, "a") : "ignore";
  const p = perf
    ? spawn("perf", ["record", "-q", "-F", "20000", "-g", "-o", join(perf, `${spec.replace(/[^A-Za-z0-9.]/g, "_")}-${Date.now()}.data`), "--", bin, ...argv], { stdio: ["ignore", out, "pipe"], detached: true })
    : spawn(bin, argv, { stdio: ["ignore", out, "pipe"], detached: true });
  let err = "";
  p.stderr.on("data", (d) => (err += d));
  try {
    let res;
    for (let i = 0; i < 500 && !res && p.exitCode === null; i++) {
      res = await fetch(`http://127.0.0.1:${port}/`).catch(() => new Promise((r) => setTimeout(r, 10)));
    }
    const text = res ? await res.text() : `no answer: ${err.slice(0, 600)}`;
    const cpu = res ? cpuMs(p.pid) : NaN;
    if (text !== "ok") throw new Error(`${spec}: ${text.slice(0, 300)}`);
    if (traced) {
      const fns = [...readFileSync(traced, "utf8").matchAll(/using Liftoff.* bodysize (\d+) codesize (\d+)/g)];
      liftoff[spec] = [fns.length, fns.reduce((a, m) => a + Number(m[1]), 0), fns.reduce((a, m) => a + Number(m[2]), 0)];
      // P5_TRACE=dir: the trace kept (which functions; a build with a name section names them).
      if (process.env.P5_TRACE) writeFileSync(join(process.env.P5_TRACE, `${spec.replace(/[^A-Za-z0-9.]/g, "_")}.txt`), readFileSync(traced));
    }
    return cpu;
  } finally {
    try { process.kill(perf ? p.pid : -p.pid, perf ? "SIGINT" : "SIGKILL"); } catch {}
    // Gone before the next start may take the same port (P5_PORT).
    if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once("exit", r));
  }
}

const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
try {
  await once(names.at(-1)); // warm-up: page cache, Neo4j's plan cache
  const res = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(j + r) % names.length];
      res[n].push(await once(n));
      // P5_EMIT=1: also one JSON line per start (bench/run's figure P5direct, via rounds.mjs tag).
      if (process.env.P5_EMIT === "1") console.log(JSON.stringify({ round: r + 1, place: j, contender: n, cpuMs: res[n].at(-1) }));
    }
  }
  for (const n of names) {
    console.log(`${n.padEnd(36)} median ${med(res[n]).toFixed(2)} ms; median per-round difference to ${names[0]} ${med(res[n].map((v, i) => v - res[names[0]][i])).toFixed(2)} ms` +
      (liftoff[n] ? `; Liftoff-compiled: ${liftoff[n][0]} functions, ${liftoff[n][1]} B of body, ${liftoff[n][2]} B of code` : ""));
  }
  if (process.env.OUT) writeFileSync(process.env.OUT, JSON.stringify({ rounds, res }));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
