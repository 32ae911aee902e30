//! Batching without a background task: the first caller that finds no batch in progress becomes
//! the *leader*, sends batches until the buffer is empty, and completes every waiting caller's
//! future with its batch's outcome. Works the same on tokio, in browsers, Workers and Node (no
//! spawn needed). While a request is in flight, newcomers gather into the next batch ("group
//! commit"); `flushIntervalMs` > 0 also makes the first event of a batch wait for company.
//!
//! A batch takes everything that waits, up to `maxEvents`/`maxBytes`: its size follows the backlog.
//! A lone event goes alone and at once (one turn of the executor, in which calls made together
//! join it: a burst's first requests leave full); under load batches grow to the bound
//! (default 1000 events / 1 MiB), so the per-request cost on both sides (an HTTP exchange, a
//! transaction in Neo4j, the client's `fetch` machinery) is paid once per many events, and they
//! shrink again when the load does.
//!
//! ```
//! # futures::executor::block_on(async {
//! use neo4j_audit::batch::Batcher;
//! use neo4j_audit::config::BatchConfig;
//! use neo4j_audit::AuditEvent;
//! let b = Batcher::new(BatchConfig::default());
//! let ev = std::sync::Arc::new(AuditEvent::build(None, "LOGIN", None, None, 1024).unwrap());
//! let mut sizes = Vec::new();
//! let res = b.deliver(ev, |batch| { sizes.push(batch.len()); async move { vec![Ok(()); batch.len()] } }).await;
//! assert!(res.is_ok());
//! assert_eq!(sizes, vec![1]);
//! # });
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;

use crate::lite::oneshot;
use crate::lite::{select, Either};

use crate::config::BatchConfig;
use crate::error::AuditError;
use crate::event::AuditEvent;

/// An event shared by the caller's future, the batch buffer and the durable queue: one copy of
/// its text however many places hold it.
pub type SharedEvent = std::sync::Arc<AuditEvent>;
use crate::event::now_millis;
use crate::transport::sleep_ms;

type Outcome = Result<(), AuditError>;

/// 16 bytes on wasm32 (the JSON size is recomputed when a batch is cut, rather than kept for
/// every waiting event).
struct Item {
    event: SharedEvent,
    /// The error boxed: the channel's shared cell, alive while the caller waits, stays small.
    done: oneshot::Sender<Result<(), Box<AuditError>>>,
}

#[derive(Default)]
struct State {
    /// Two pointers per waiting event (8 bytes on wasm32): every call waits here once.
    pending: VecDeque<Item>,
    /// When each event of `pending` joined the buffer (ms since the epoch), in the same order;
    /// kept only with a flush interval (`flushIntervalMs` > 0), the only reader, so that the
    /// default configuration keeps no clock per waiting event.
    arrivals: VecDeque<i64>,
    pending_bytes: usize,
    /// Events in requests now in flight.
    in_flight: usize,
    /// Requests now in flight (at most `maxInFlight`).
    batches_in_flight: usize,
    /// Calls that will join the buffer but have not yet ([`Batcher::reserve`]): natively, the
    /// tasks spawned for calls whose first step has not run. `flush` waits for them too.
    reserved: usize,
    leading: bool,
    flush_now: bool,
    wake: Option<oneshot::Sender<()>>,
    idle_waiters: Vec<oneshot::Sender<()>>,
}

/// The batch buffer of one logger.
pub struct Batcher {
    cfg: BatchConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("cfg", &self.cfg).field("backlog", &self.backlog()).finish()
    }
}

/// Resets leadership if the leader's future is dropped mid-way: waiting callers see their
/// channel cancelled and resubmit (a resubmitted event keeps its UID, so nothing duplicates).
struct LeaderGuard<'a> {
    b: &'a Batcher,
    armed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut st = self.b.lock();
            st.leading = false;
            st.in_flight = 0;
            st.batches_in_flight = 0;
            st.pending.clear(); // drops the senders: their owners resubmit
            st.arrivals.clear();
            st.pending_bytes = 0;
            st.wake = None;
            for w in std::mem::take(&mut st.idle_waiters) {
                let _ = w.send(());
            }
        }
    }
}

impl Batcher {
    /// An empty buffer with these bounds.
    pub fn new(cfg: BatchConfig) -> Self {
        Batcher { cfg, state: Mutex::new(State::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bounds batches are cut by.
    pub(crate) fn config(&self) -> &BatchConfig {
        &self.cfg
    }

    /// The most events one batch may hold.
    pub fn max_events(&self) -> usize {
        self.cfg.max_events
    }

    /// Events waiting or in flight.
    pub fn backlog(&self) -> usize {
        let st = self.lock();
        st.pending.len() + st.in_flight + st.reserved
    }

    /// Holds a place for an event that a call will submit a moment later (natively, from a task
    /// spawned for the call): [`Batcher::flush`] waits for it as for one already waiting. Each
    /// reservation ends exactly once: with the first step of [`Batcher::deliver_reserved`] given
    /// a `held` flag that is still set, or with [`Batcher::unreserve`].
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn reserve(&self) {
        self.lock().reserved += 1;
    }

    /// Ends a reservation whose event will never be submitted (its task was dropped unrun).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn unreserve(&self) {
        let mut st = self.lock();
        st.reserved -= 1;
        if !st.leading && st.pending.is_empty() && st.reserved == 0 {
            for w in std::mem::take(&mut st.idle_waiters) {
                let _ = w.send(());
            }
        }
    }

    fn is_full(&self, st: &State) -> bool {
        st.pending.len() >= self.cfg.max_events || st.pending_bytes >= self.cfg.max_bytes
    }

    /// Delivers `event` in some batch; `send` delivers one batch (it is called only while this
    /// caller leads) and gives one outcome per event, in order. Resolves with this event's.
    ///
    /// An `async` block, not an `async fn` (which keeps its arguments twice for its whole life):
    /// every waiting call holds this future, and thousands may wait at once.
    pub fn deliver<'a, F, Fut>(&'a self, event: SharedEvent, send: F) -> impl Future<Output = Outcome> + 'a
    where
        F: FnMut(Vec<SharedEvent>) -> Fut + 'a,
        Fut: Future<Output = Vec<Outcome>> + 'a,
    {
        self.deliver_reserved(event, None, send)
    }

    /// [`Batcher::deliver`] for a call that holds a reservation ([`Batcher::reserve`]): `held`
    /// set means it is still held, and the event's joining the buffer ends it (under the same
    /// lock, so a `flush` never sees neither); the flag is cleared then, so whoever owns it can
    /// tell whether [`Batcher::unreserve`] is still due. (The body of `deliver`: an `async`
    /// block for the reason given there.)
    pub(crate) fn deliver_reserved<'a, F, Fut>(
        &'a self,
        event: SharedEvent,
        mut held: Option<&'a std::sync::atomic::AtomicBool>,
        mut send: F,
    ) -> impl Future<Output = Outcome> + 'a
    where
        F: FnMut(Vec<SharedEvent>) -> Fut + 'a,
        Fut: Future<Output = Vec<Outcome>> + 'a,
    {
        async move {
            loop {
                let (tx, rx) = oneshot::channel();
                let lead = {
                    let mut st = self.lock();
                    if let Some(h) = held.take() {
                        if h.swap(false, std::sync::atomic::Ordering::Relaxed) {
                            st.reserved -= 1;
                        }
                    }
                    st.pending_bytes += event.json_len();
                    // The arrival time only matters to a flush interval (a clock read is a call into
                    // JavaScript in wasm, once per event).
                    if self.cfg.flush_interval_ms > 0 {
                        st.arrivals.push_back(now_millis());
                    }
                    st.pending.push_back(Item { event: event.clone(), done: tx });
                    // The leader sends more at once if a request slot is free (or the batch is full).
                    if st.leading && (st.batches_in_flight < self.max_in_flight() || self.is_full(&st)) {
                        if let Some(w) = st.wake.take() {
                            let _ = w.send(());
                        }
                    }
                    !std::mem::replace(&mut st.leading, true)
                };
                if lead {
                    // Boxed: only the leader needs the sending state machine; every waiting call's
                    // future stays small (thousands of calls can wait at once).
                    Box::pin(self.lead(&mut send)).await;
                }
                match rx.await {
                    Ok(res) => return res.map_err(|e| *e),
                    Err(oneshot::Canceled) => continue,
                }
            }
        }
    }

    /// Waits until every event submitted so far has had its outcome; sends at once instead of
    /// waiting for the flush interval.
    pub async fn flush(&self) {
        let mut first = true;
        loop {
            let rx = {
                let mut st = self.lock();
                // Woken when the leader went idle: done unless a reserved call has yet to submit
                // its event (it leads then, and wakes this again when idle).
                if st.reserved == 0 && (!first || (!st.leading && st.pending.is_empty())) {
                    return;
                }
                first = false;
                st.flush_now = true;
                if let Some(w) = st.wake.take() {
                    let _ = w.send(());
                }
                let (tx, rx) = oneshot::channel();
                st.idle_waiters.push(tx);
                rx
            };
            let _ = rx.await;
        }
    }

    fn max_in_flight(&self) -> usize {
        self.cfg.max_in_flight.max(1)
    }

    /// The next batch to send now, or why not: `Err(None)` nothing waits; `Err(Some(ms))` the
    /// oldest event may still wait that long for company (`flushIntervalMs`).
    fn take_batch(&self) -> Result<Vec<Item>, Option<u64>> {
        let mut st = self.lock();
        if st.pending.is_empty() {
            return Err(None);
        }
        if self.cfg.flush_interval_ms > 0 && !st.flush_now && !self.is_full(&st) {
            let due = st.arrivals.front().copied().unwrap_or(0) + self.cfg.flush_interval_ms as i64;
            let now = now_millis();
            if now < due {
                return Err(Some((due - now) as u64));
            }
        }
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(it) = st.pending.front() {
            let size = it.event.json_len();
            if !batch.is_empty() && (batch.len() >= self.cfg.max_events || bytes + size > self.cfg.max_bytes) {
                break;
            }
            bytes += size;
            batch.push(st.pending.pop_front().expect("front exists"));
            st.arrivals.pop_front();
        }
        st.pending_bytes -= bytes;
        st.in_flight += batch.len();
        st.batches_in_flight += 1;
        Ok(batch)
    }

    /// Sends batches until nothing waits or is in flight: up to `maxInFlight` requests at once
    /// (pipelining), each new batch formed from what gathered meanwhile (group commit), so batches
    /// grow with the backlog up to `maxEvents`/`maxBytes`. Each event is resolved with the outcome
    /// of the batch that carried it.
    async fn lead<F, Fut>(&self, send: &mut F)
    where
        F: FnMut(Vec<SharedEvent>) -> Fut,
        Fut: Future<Output = Vec<Outcome>>,
    {
        let mut guard = LeaderGuard { b: self, armed: true };
        // Nothing is in flight when a leader starts: before cutting the first batch, let the calls
        // already queued on the executor join it (a burst's calls each wait for their first poll,
        // after the one that leads). Without this turn a burst sent its leader alone and the next
        // batches only after every other call's first poll; with it the first requests leave full.
        crate::lite::yield_once().await;
        let mut running = crate::running::Running::new();
        loop {
            // Fill the free request slots.
            let mut wait_ms = None;
            while running.len() < self.max_in_flight() {
                match self.take_batch() {
                    Ok(batch) => {
                        let mut events: Vec<SharedEvent> = Vec::with_capacity(batch.len());
                        for i in batch.iter() {
                            events.push(i.event.clone());
                        }
                        let request = send(events);
                        running.push(async move { (batch, request.await) });
                    }
                    Err(w) => {
                        wait_ms = w;
                        break;
                    }
                }
            }
            // Done when nothing waits and nothing is in flight (checked under the lock that
            // `deliver` pushes under, so no event is left behind).
            let wake = {
                let mut st = self.lock();
                if running.is_empty() && st.pending.is_empty() {
                    st.leading = false;
                    st.flush_now = false;
                    for w in std::mem::take(&mut st.idle_waiters) {
                        let _ = w.send(());
                    }
                    guard.armed = false;
                    return;
                }
                let (tx, rx) = oneshot::channel();
                st.wake = Some(tx);
                rx
            };
            // Wait for a request to finish, an arrival or flush(), or the flush interval.
            let finished = async {
                match running.next().await {
                    Some(done) => done,
                    None => std::future::pending().await,
                }
            };
            let timer = async {
                match wait_ms {
                    Some(ms) => sleep_ms(ms).await,
                    None => std::future::pending().await,
                }
            };
            let woke = select(Box::pin(wake), Box::pin(timer));
            let done = match select(Box::pin(finished), woke).await {
                Either::Left((done, _)) => Some(done),
                Either::Right(_) => None,
            };
            self.lock().wake = None;
            if let Some((batch, mut res)) = done {
                let n = batch.len();
                // A sender that answers for fewer events fails the rest rather than leave them hanging.
                // (Not `resize`, whose clone loop is code of its own for this one cold case.)
                res.truncate(n);
                while res.len() < n {
                    res.push(Err(AuditError::UnexpectedResponse("no outcome for this event".into())));
                }
                {
                    let mut st = self.lock();
                    st.in_flight -= n;
                    st.batches_in_flight -= 1;
                }
                for (it, r) in batch.into_iter().zip(res) {
                    let _ = it.done.send(r.map_err(Box::new));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;

    /// `flush` waits for a call that holds a reservation but has not submitted yet (natively, a
    /// task spawned for a call whose future the caller dropped), and for nothing once a
    /// reservation ends unused.
    #[test]
    fn flush_waits_for_a_reserved_call_and_an_unused_reservation_ends() {
        use std::sync::atomic::{AtomicBool, Ordering};
        futures::executor::block_on(async {
            let b = Batcher::new(BatchConfig::default());
            b.reserve();
            assert_eq!(b.backlog(), 1);
            let mut flush = Box::pin(b.flush());
            assert!(futures::poll!(flush.as_mut()).is_pending(), "waits for the reserved call");
            let held = AtomicBool::new(true);
            let ev = std::sync::Arc::new(AuditEvent::build(None, "LOGIN", None, None, 1024).unwrap());
            let res = b.deliver_reserved(ev, Some(&held), |batch| async move { vec![Ok(()); batch.len()] }).await;
            assert!(res.is_ok() && !held.load(Ordering::Relaxed));
            flush.await;
            assert_eq!(b.backlog(), 0);
            b.reserve();
            let mut flush = Box::pin(b.flush());
            assert!(futures::poll!(flush.as_mut()).is_pending());
            b.unreserve();
            flush.await;
            assert_eq!(b.backlog(), 0);
        });
    }

    // Pending once, then ready: lets the other callers run while a "request" is in flight.
    use crate::lite::yield_once as in_flight;

    fn ev() -> SharedEvent {
        std::sync::Arc::new(AuditEvent::build(None, "X", None, None, 1024).unwrap())
    }

    /// `n` concurrent calls through `b` whose requests all succeed (each in flight for a turn);
    /// asserts every call got `Ok`, gives the batch sizes in sending order.
    async fn batch_sizes(b: &Batcher, n: usize) -> Vec<usize> {
        let sizes = std::cell::RefCell::new(Vec::new());
        let send = |batch: Vec<SharedEvent>| {
            sizes.borrow_mut().push(batch.len());
            async move {
                in_flight().await;
                vec![Ok(()); batch.len()]
            }
        };
        let res = join_all((0..n).map(|_| b.deliver(ev(), send))).await;
        assert!(res.iter().all(Result::is_ok), "{res:?}");
        sizes.into_inner()
    }

    #[test]
    fn concurrent_callers_share_batches_and_each_gets_its_outcome() {
        futures::executor::block_on(async {
            let b = Batcher::new(BatchConfig { max_events: 4, ..BatchConfig::default() });
            let sizes = batch_sizes(&b, 10).await;
            // The first caller leads and waits one turn for the calls already made: the first
            // requests leave full (before, the leader went alone and the nine others 4+4+1).
            assert_eq!(sizes, vec![4, 4, 2]);
            assert_eq!(b.backlog(), 0);
        });
    }

    #[test]
    fn up_to_max_in_flight_requests_at_once_each_event_with_its_batch() {
        futures::executor::block_on(async {
            let b = Batcher::new(BatchConfig { max_events: 2, max_in_flight: 3, ..BatchConfig::default() });
            let (now, peak, sends) = (std::cell::Cell::new(0), std::cell::Cell::new(0), std::cell::Cell::new(0));
            let calls = (0..12).map(|_| {
                b.deliver(ev(), |batch| {
                    sends.set(sends.get() + 1);
                    let (n, fail) = (batch.len(), sends.get() == 3);
                    let (now, peak) = (&now, &peak);
                    async move {
                        now.set(now.get() + 1);
                        peak.set(peak.get().max(now.get()));
                        in_flight().await;
                        in_flight().await;
                        now.set(now.get() - 1);
                        vec![
                            if fail { Err(AuditError::Timeout(std::time::Duration::from_millis(1))) } else { Ok(()) };
                            n
                        ]
                    }
                })
            });
            let res = join_all(calls).await;
            assert_eq!(peak.get(), 3, "three requests in flight at once, never more");
            // The third request (two events) failed; only its events see the failure.
            assert_eq!(res.iter().filter(|r| r.is_err()).count(), 2, "{res:?}");
            assert_eq!(b.backlog(), 0);
        });
    }

    /// With the defaults: a lone event goes alone, a burst's batches grow to `maxEvents` (never
    /// beyond), and the next lone event goes alone again.
    #[test]
    fn batches_follow_the_backlog_up_to_the_default_bound() {
        futures::executor::block_on(async {
            let cfg = BatchConfig { max_in_flight: 1, ..BatchConfig::default() };
            let bound = cfg.max_events;
            assert!(bound >= 500, "the default bound is large: {bound}");
            let b = Batcher::new(cfg);
            assert_eq!(batch_sizes(&b, 1).await, vec![1], "a lone event goes alone, at once");
            // The first caller leads, and the calls made with it join its batch.
            assert_eq!(batch_sizes(&b, 2 * bound + 7).await, vec![bound, bound, 7]);
            assert_eq!(batch_sizes(&b, 1).await, vec![1], "after the burst a lone event goes alone again");
            assert_eq!(b.backlog(), 0);
        });
    }

    /// `maxBytes` bounds a batch before `maxEvents` does (an event larger than it goes alone).
    #[test]
    fn max_bytes_bounds_a_batch() {
        futures::executor::block_on(async {
            let size = ev().json_len();
            let b = Batcher::new(BatchConfig {
                max_bytes: 10 * size + size / 2,
                max_in_flight: 1,
                ..BatchConfig::default()
            });
            assert_eq!(batch_sizes(&b, 36).await, vec![10, 10, 10, 6]);
            let big = Batcher::new(BatchConfig { max_bytes: size / 2, ..BatchConfig::default() });
            assert_eq!(batch_sizes(&big, 3).await, vec![1, 1, 1], "each event larger than maxBytes goes alone");
        });
    }

    #[test]
    fn a_failed_batch_fails_only_its_events() {
        futures::executor::block_on(async {
            let b = Batcher::new(BatchConfig { max_events: 2, ..BatchConfig::default() });
            let n = std::cell::Cell::new(0);
            let calls = (0..3).map(|_| {
                b.deliver(ev(), |batch| {
                    n.set(n.get() + 1);
                    let fail = n.get() == 1;
                    async move {
                        in_flight().await;
                        vec![
                            if fail { Err(AuditError::Timeout(std::time::Duration::from_millis(1))) } else { Ok(()) };
                            batch.len()
                        ]
                    }
                })
            });
            let res = join_all(calls).await;
            // The first batch (the leader and the next call) failed, the second did not.
            assert!(res[0].is_err() && res[1].is_err() && res[2].is_ok(), "{res:?}");
        });
    }
}
