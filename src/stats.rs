//! Delivery counters, readable at any time (`logger.stats()` in JavaScript).
//!
//! ```
//! use neo4j_audit::stats::Stats;
//! let s = Stats::default();
//! s.add_sent(3);
//! s.add_committed(3);
//! assert_eq!(s.snapshot().committed, 3);
//! ```

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Counters of one logger. All are cumulative except `queued`, which is the current backlog.
#[derive(Debug, Default)]
pub struct Stats {
    sent: AtomicU64,
    committed: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    queued: AtomicU64,
    dropped: AtomicU64,
    dead_lettered: AtomicU64,
    expired: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StatsSnapshot {
    /// Events put on the wire, counting every attempt.
    pub sent: u64,
    /// Events Neo4j confirmed as committed.
    pub committed: u64,
    /// Events whose logging call ended `false` (invalid input, non-retryable error, or retries used up).
    pub failed: u64,
    /// Events given another attempt after a retryable failure, counted when the failure schedules
    /// it (so during the backoff, and for a retry given up on before it is sent, ahead of `sent`).
    pub retried: u64,
    /// Events waiting for delivery now (in the batch buffer or the durable queue).
    pub queued: u64,
    /// Events refused because the durable queue was full, or removed by `clearQueue()`.
    pub dropped: u64,
    /// Events the endpoint rejected for good, moved out of the queue into the dead letters.
    pub dead_lettered: u64,
    /// Queued events (of any identity) removed because they waited longer than `queue.maxAgeMs`.
    pub expired: u64,
}

impl Stats {
    /// Adds `n` to `sent`.
    pub fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `committed`.
    pub fn add_committed(&self, n: u64) {
        self.committed.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `failed`.
    pub fn add_failed(&self, n: u64) {
        self.failed.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `retried`.
    pub fn add_retried(&self, n: u64) {
        self.retried.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `dropped`.
    pub fn add_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `dead_lettered`.
    pub fn add_dead_lettered(&self, n: u64) {
        self.dead_lettered.fetch_add(n, Relaxed);
    }
    /// Adds `n` to `expired`.
    pub fn add_expired(&self, n: u64) {
        self.expired.fetch_add(n, Relaxed);
    }
    /// Sets the current backlog.
    pub fn set_queued(&self, n: u64) {
        self.queued.store(n, Relaxed);
    }
    /// Moves the current backlog by one part's change, `from` → `to` (each runtime's driver
    /// reports its own part: src/driver.rs).
    pub(crate) fn move_queued(&self, from: u64, to: u64) {
        if to >= from {
            self.queued.fetch_add(to - from, Relaxed);
        } else {
            self.queued.fetch_sub(from - to, Relaxed);
        }
    }
    /// The current counters (each read on its own, relaxed: not one atomic snapshot).
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            sent: self.sent.load(Relaxed),
            committed: self.committed.load(Relaxed),
            failed: self.failed.load(Relaxed),
            retried: self.retried.load(Relaxed),
            queued: self.queued.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            expired: self.expired.load(Relaxed),
        }
    }
}
