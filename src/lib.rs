//! # neo4j-audit
//!
//! Writes audit events — who did what, when, with which details — into Neo4j over its HTTP API,
//! from native Rust or from WebAssembly (browsers, Cloudflare Workers, Node).
//!
//! ## Rust
//!
//! ```no_run
//! use std::time::Duration;
//! use neo4j_audit::{AuditLogger, User};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), neo4j_audit::AuditError> {
//!     let logger = AuditLogger::builder("http://127.0.0.1:7474")
//!         .basic_auth("neo4j", "neo4j-audit-dev")
//!         .trail("documents")
//!         .deadline(Duration::from_secs(5))
//!         .build()?;
//!     let user = User::new("user-123").name("John Doe");
//!     let event = logger
//!         .action("DOCUMENT_MODIFIED")
//!         .user(&user)
//!         .category("DOCUMENT_MANAGEMENT")
//!         .details(&serde_json::json!({"document_id": "doc-456"}))
//!         .await?;
//!     println!("committed {} (seq {:?})", event.uid, event.seq);
//!     Ok(())
//! }
//! ```
//!
//! - [`AuditLogger`] is `Send + Sync` and cheap to [`Clone`] (one shared connection pool,
//!   delivery and hash-chain stream): build it once, give a clone to each task or handler.
//!   Concurrent calls are grouped into batches (group commit); each call resolves with its own
//!   outcome: a [`Result`] with the written [`AuditEvent`] or an [`AuditError`].
//! - **Runtime**: natively the logger's futures must be awaited inside a
//!   [Tokio](https://tokio.rs) 1.x runtime with I/O and time enabled (`#[tokio::main]`,
//!   `#[tokio::test]`, or `tokio::runtime::Builder::enable_all`): the HTTP client is reqwest's,
//!   which runs on Tokio. Outside one, or in one built without I/O or time, calls fail with
//!   `AuditError::NoRuntime` (native builds) instead of panicking (a runtime without I/O or
//!   time is found by catching Tokio's panic, which a build with `panic = "abort"` cannot: there
//!   it aborts). On WebAssembly no runtime is needed (the host's event loop drives them; the delivery driver is a `spawn_local` task there).
//!   Delivery runs on one Tokio task per logger and runtime (the delivery driver), only while
//!   there is work: it ends when idle and the next call starts it again. One logger may be used
//!   from several runtimes at once (`block_on` on many threads, each call is served on its own
//!   runtime); `flush` waits for the deliveries on all of them, also when awaited outside any
//!   runtime (e.g. `futures::executor::block_on(logger.close())` in a synchronous shutdown path).
//! - **Cancellation**: natively a call hands its event to the driver in its first step: a call
//!   whose future is dropped after that still delivers its event, and so does a logger whose
//!   last handle is dropped with events waiting (the driver holds it until they are delivered);
//!   [`AuditLogger::flush`] / [`AuditLogger::close`] wait for them. Await `close` before the
//!   runtime shuts down (a server: after its graceful shutdown, as `examples/axum.rs` does; a
//!   `false` says why in [`AuditLogger::last_error`]): a shutdown drops the deliveries still
//!   under way on it (their calls count as `failed`; some of those events may still have been
//!   committed). An event
//!   whose call returned an error is not stored, yet took its `seq`: `verify_trail` reports it
//!   `deleted` (natively there is no durable queue to send it again).
//! - Reads (feature `read`): `AuditLogger::audit_trail(&query)`, `AuditLogger::user_activity(uid,
//!   &query)`, `AuditLogger::target_activity(label, uid, &query)` (one `TrailQuery` for the three:
//!   filters, `limit`, `cursor`), `AuditLogger::verify_trail`; the hash chain's encoding and verifier are in [`chain`].
//! - Values: the required part in `new`, the rest by methods: [`User::new`]`(uid)` /
//!   [`User::name`], [`Target::new`]`(label, uid)` / [`Target::role`],
//!   `LogOptions::default()` / [`LogOptions::target`] (`#[non_exhaustive]`).
//! - Errors: [`AuditError::InvalidConfig`] names the setting as the Rust API does (`timeout (ms)`,
//!   `retry.max_attempts`, `bearer token`, `allow_insecure_http(true)`; JavaScript callers read
//!   their keys, `timeoutMs`, for the same rules). Retried: network failures (not an `https://`
//!   URL answered in plain HTTP: that fails at once), timeouts, `Neo.TransientError`s, a
//!   concurrent `MERGE`'s `ConstraintValidationFailed` (a batch of several events so refused is
//!   split in halves at once instead, so an event that breaks a constraint of the operator's fails
//!   alone), and HTTP 408, 429, 500, 502, 503, 504 (and a CDN's 520-524), after a
//!   `Retry-After` if the server sent one; any other status fails at once
//!   ([`AuditError::is_retryable`]).
//! - Answers' size: every HTTP answer is read up to a bound (its Content-Length checked first,
//!   a chunked body counted as it arrives; past it the request is dropped, the rest unread, and
//!   the attempt is a retryable [`AuditError::Network`], "the server's answer is larger than N
//!   bytes, left unread"): 4 MiB for writes, the schema step and the ingest Worker's answers
//!   (`MAX_ANSWER_BYTES`, src/transport), 64 MiB + 2000 × `max_details_bytes` (at most 512 MiB)
//!   for reads' pages (`read_answer_bytes`, src/transport). A retried write that had committed is
//!   harmless: events are `MERGE`d by UID. (The Worker deployable's build bounds every answer of its
//!   own Neo4j at 32 MiB, `WORKER_MAX_ANSWER_BYTES`; docs/reading.md.)
//! - Examples: `examples/basic.rs`, `examples/read_verify.rs`, `examples/axum.rs` (an axum server
//!   logging from concurrent handlers through one shared logger, closing it on shutdown).
//!
//! One event's way (the README's Layout section follows it file by file and function by
//! function): the input rules → an [`AuditEvent`] (redacted, then chained) → the delivery
//! machine (synchronous, no I/O: batches with group commit and one outcome per event, retries,
//! the schema step, and on wasm the durable queue's policy) → its driver, which does the I/O the
//! machine asks for (for Rust callers a task: tokio natively, the host's event loop on wasm; for
//! the JavaScript entries a small JS module: `fetch`, one timer, IndexedDB) → one HTTP request, bounded in time, described by a *sink* chosen when the logger
//! is built (Neo4j's HTTP API, or the ingest Worker in client mode). On wasm a thin shell is the
//! JavaScript surface (feature `js`, which only the npm package's builds turn on); those modules,
//! and the internals the tests use, are hidden from these docs.
//!
//! ## Cargo features
//!
//! Each deployable is built from only what it needs:
//!
//! | feature | adds | used by |
//! |---|---|---|
//! | *(none)* | the write path: rules, events, redaction, hash chain, batching, retries, both sinks, and the delivery machine's durable-queue policy (the queue's IndexedDB store is the JS driver's, `js`: the Rust API has no durable queue, natively or on wasm) | every build |
//! | `js` | wasm: the JavaScript API of the npm package (the exported `AuditLogger` class, `logUserAction` and the other methods, their TypeScript declarations, the JS driver and its IndexedDB store, config from JS values, the read methods' JS side), shipped with its JS snippet files. A build setting, never for a Rust dependency: without it a wasm32 build has the Rust API only ([`AuditLogger`], driven on the host's event loop) and exports nothing to JavaScript (`tests/dependent.rs`). Its .wasm's allocator is rlsf's TLSF (talc's with `talc`) instead of std's dlmalloc (~1.8 KB smaller). Natively it changes nothing | every npm entry and the Worker (`scripts/build`), the benchmarks, this repository's tests |
//! | `read` | the read side: `getAuditTrail`, `getUserActivity`, `getTargetActivity`, `chainHead` in JavaScript (`AuditLogger::audit_trail`, `verify_trail` and friends in Rust) | the read entry (`neo4j-audit/read`, `pkg/read/`), Rust callers who read or verify |
//! | `verify` | `read` + the JavaScript `verifyTrail`. A build setting, never for a Rust dependency (the Rust API's `verify_trail` needs `read` only) | the verify entry (`neo4j-audit/verify`, `pkg/verify/`), this repository's tests |
//! | `ingest` | `read` + the Worker's ingest endpoint (`handleIngest`): JWT (HS256, or RS256 / ES256 from a JWK Set), CORS, body checks, Ed25519 signing of what it writes, `GET /v1/keys` and `GET /v1/verify` | the Worker entry (`neo4j-audit/worker`, `pkg/worker/`) only |
//! | `fetch` | wasm: the host's global `fetch` instead of reqwest (no reqwest, `url` or `idna` in the `.wasm`) | the npm package and the Worker |
//! | `worker` | `ingest` + `fetch` + `js` + `talc`, and on wasm the `.wasm` exports `handleIngest` only (no `AuditLogger` class, read methods or durable queue: a Worker never calls them) | the Worker entry's build only (`scripts/build`) |
//! | `talc` | wasm: the `.wasm`'s allocator is talc instead of rlsf (the other JS builds', see `js`) or std's dlmalloc (less code compiled at a Worker's cold start, ~1.8 KB smaller; ~5 % more CPU per call) | the Workers builds only (`worker`, and `pkg/workerd/`; `scripts/build`) |
//! | `memory-queue` | wasm: the durable queue in memory only, its IndexedDB storage, recovery and `pagehide`/`online` handling left out of the build (a Worker has none of them; takes nothing away there) | the Workers build of the write entry (`neo4j-audit` under the `workerd` condition, `pkg/workerd/`) only (`scripts/build`) |
//! | `bench` | `js` + wasm: `benchmarkRequestBody` for `bench/` | benchmarks only |
//! | `bench-alloc` | `bench` + a counting allocator (`benchmarkHeap`) | `bench/memory.mjs` only; never in a shipped build |
//! | `test-hooks` | fault hooks for the crate's own tests (e.g. failing IndexedDB deletes) | this repository's tests only (its dev-dependency on itself); never in a shipped build |

#![deny(missing_docs)]
// The Worker build (feature `worker`) leaves out the browser API, so the helpers only that API
// uses are unused there.
#![cfg_attr(feature = "worker", allow(dead_code))]

/// The Workers builds' allocator (feature `talc`; Cargo.toml has the measurements): talc instead of
/// std's dlmalloc. With `bench-alloc` the counting wrapper of src/wasm/bench.rs is the global
/// allocator and hands its calls to this one.
#[cfg(all(target_arch = "wasm32", feature = "talc"))]
#[cfg_attr(not(feature = "bench-alloc"), global_allocator)]
pub(crate) static HEAP: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The other JS entries' allocator (feature `js` without `talc`: the browser and Node entries, read
/// and verify; Cargo.toml has the measurements): rlsf's TLSF instead of std's dlmalloc, ~1.8 KB gz
/// smaller. Pools merged as the memory grows; no in-place realloc (less code, no CPU cost measured).
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "talc")))]
#[cfg_attr(not(feature = "bench-alloc"), global_allocator)]
pub(crate) static HEAP: rlsf::GlobalTlsf<HeapOptions> = rlsf::GlobalTlsf::new();

/// [`HEAP`]'s options: rlsf's defaults (pools coalesced) without its in-place reallocation.
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "talc")))]
pub(crate) struct HeapOptions;

#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "talc")))]
impl rlsf::GlobalTlsfOptions for HeapOptions {
    const ENABLE_REALLOCATION: bool = false;
}

mod b64;
mod builder;
pub mod chain;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod cypher;
mod driver;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod event;
#[doc(hidden)]
pub mod identity;
#[cfg(feature = "ingest")]
pub mod ingest;
mod json;
mod lite;
#[doc(hidden)]
pub mod logger;
mod machine;
#[doc(hidden)]
pub mod outcome;
// Differential and property tests of the JSON parser and writer, the canonical encoding and
// redaction (seeded, deterministic).
#[cfg(test)]
mod props;
#[doc(hidden)]
pub mod random;
#[cfg(feature = "read")]
#[doc(hidden)]
pub mod read;
#[doc(hidden)]
pub mod redact;
#[doc(hidden)]
pub mod retry;
#[doc(hidden)]
pub mod rules;
mod schema;
mod serdepth;
mod sha;
#[cfg(feature = "read")]
pub mod sign;
mod sink;
mod sort;
#[doc(hidden)]
pub mod stats;
#[doc(hidden)]
pub mod transport;
mod uidmap;
#[doc(hidden)]
pub mod unicode;
mod urlcheck;

// Not in the Worker entry, which has no durable queue: its .wasm would not call the queue's
// IndexedDB module (src/queue/idb.js), but wasm-bindgen would still ship that file beside it.
// Nor without `js`: only the JS driver (src/wasm/store.js) stores records.
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "worker")))]
#[doc(hidden)]
pub mod queue;
// The JavaScript API (feature `js`): a Rust program built for wasm32 that depends on this crate
// gets none of its exports, glue or snippet files.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
#[doc(hidden)]
pub mod wasm;

pub use builder::{Action, AuditLoggerBuilder, MAX_DEADLINE};
pub use chain::{Break, BreakKind, StreamReport, StreamState, StreamStore, VerifyReport};
pub use config::{Api, BatchConfig, Config, Labels, RetryConfig};
#[cfg(target_arch = "wasm32")]
pub use config::{Delivery, QueueConfig};
pub use error::AuditError;
pub use event::{AuditEvent, LogOptions, Source, Target, User, DEFAULT_CATEGORY};
pub use logger::AuditLogger;
#[cfg(all(feature = "read", not(all(target_arch = "wasm32", feature = "worker"))))]
pub use read::Anchor;
#[cfg(feature = "read")]
pub use read::{PublicKeys, TrailEvent, TrailPage, TrailQuery, VerifyProgress, VerifyQuery};
pub use redact::Match as RedactMatch;
pub use stats::StatsSnapshot;
