//! The event as the delivery shares it. Batching itself is the delivery machine's (src/machine.rs,
//! docs/sansio.md): every entry — the JavaScript ones through their JS driver, the Rust API
//! natively and on wasm through src/driver.rs — cuts batches there.

use crate::event::AuditEvent;

/// An event shared by the caller's future, the batch being sent and the durable queue: one copy
/// of its text however many places hold it.
pub type SharedEvent = std::sync::Arc<AuditEvent>;
