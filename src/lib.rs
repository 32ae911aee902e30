//! # neo4j-audit
//!
//! Writes audit events — who did what, when, with which details — into Neo4j over its HTTP API,
//! from native Rust or from WebAssembly (browsers, Cloudflare Workers, Node).
//!
//! One event's way, one module each: [`rules`] (the one table of input rules, shared with the
//! Worker) → [`event`] (validated input → [`AuditEvent`], redacted and chained by the logger) →
//! [`batch`] (group commit, one outcome per event) → a *sink* chosen when the logger is built
//! (Neo4j's HTTP API: [`cypher`] statement, [`outcome`] of Neo4j's answer; or the ingest Worker in
//! client mode) → [`transport`] (one HTTP request, bounded in time). [`AuditLogger`] ties them
//! together; on wasm a durable queue (`queue`) sits in front of it and `wasm` is the thin
//! JavaScript surface.
//!
//! ## Cargo features
//!
//! Each deployable is built from only what it needs:
//!
//! | feature | adds | used by |
//! |---|---|---|
//! | *(none)* | the write path: rules, events, redaction, hash chain, batching, retries, both sinks, the durable queue on wasm | every build |
//! | `read` | the read side: `getAuditTrail`, `getUserActivity`, `verifyTrail` ([`read`] in Rust) | the npm package (`pkg/`), Rust callers who read |
//! | `ingest` | the Worker's ingest endpoint: JWT (HS256), CORS, body checks, `handleIngest` | the Worker build (`pkg-worker/`) only |
//! | `fetch` | wasm: the host's global `fetch` instead of reqwest (no reqwest, `url` or `idna` in the `.wasm`) | the npm package and the Worker |
//! | `bench` | wasm: `benchmarkRequestBody` for `bench/` | benchmarks only |

#![deny(missing_docs)]

pub mod batch;
pub mod chain;
pub mod config;
pub mod cypher;
pub mod error;
pub mod event;
pub mod identity;
#[cfg(feature = "ingest")]
pub mod ingest;
pub mod logger;
mod json;
pub mod outcome;
#[cfg(feature = "read")]
pub mod read;
pub mod random;
pub mod redact;
pub mod retry;
pub mod rules;
mod sink;
pub mod stats;
pub mod transport;
mod urlcheck;

#[cfg(target_arch = "wasm32")]
pub mod queue;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use config::{Api, Config, Labels};
pub use error::AuditError;
pub use event::{AuditEvent, LogOptions, Target, User, DEFAULT_CATEGORY};
pub use logger::AuditLogger;
