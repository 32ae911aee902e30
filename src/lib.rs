//! # neo4j-audit
//!
//! Writes audit events — who did what, when, with which details — into Neo4j over its HTTP API,
//! from native Rust or from WebAssembly (browsers, Cloudflare Workers, Node).
//!
//! The flow, one module each: [`event`] (validated input → [`AuditEvent`]) → [`cypher`] (one
//! parameterised statement) → [`transport`] (one HTTP request, bounded in time) → [`outcome`]
//! (committed, or a typed [`AuditError`]). [`AuditLogger`] ties them together; `wasm` is the thin
//! JavaScript surface over it.

pub mod batch;
pub mod chain;
pub mod config;
pub mod cypher;
pub mod error;
pub mod event;
pub mod identity;
pub mod ingest;
pub mod logger;
pub mod outcome;
pub mod read;
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
pub use event::{AuditEvent, User, DEFAULT_CATEGORY};
pub use logger::AuditLogger;
