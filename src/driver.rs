//! The Rust API's driver of the delivery machine ([`crate::machine`], docs/sansio.md steps 2 and
//! 4): one task per logger and runtime while there is work, owning a [`Machine`]. Natively a
//! tokio task (one per Tokio runtime the logger is used on); on wasm (a Rust program compiled
//! to wasm, e.g. a workers-rs Worker; the JavaScript entries have their own JS driver,
//! src/wasm/drive.rs) a `spawn_local` task, the host's event loop being the one runtime. The
//! executor is chosen in one place ([`exec`]); the rest is the same code on both. Calls reach it over an
//! mpsc channel and wait on a oneshot; it performs the machine's actions (a POST per request on
//! a task of its own, whose outcome comes back over a second channel; one timer; a yield for the
//! first turn) and feeds their results back. It holds no policy.
//!
//! The task ends when the machine is idle and no call waits (checked under the lock calls send
//! under, so none is lost); the next call starts another. What must outlive it is kept
//! elsewhere: the counters in the logger, whether the schema is known in the sink. While it
//! runs it holds a clone of the logger, so a logger dropped with events on their way still
//! delivers them (as the detached tasks before it did).
// On wasm there is one runtime, so a runtime's id is `()`: comparing ids is then trivially true,
// which is right there; the same code serves both.
#![cfg_attr(target_arch = "wasm32", allow(clippy::unit_cmp, clippy::let_unit_value))]

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

/// The executor, chosen here once: natively the caller's Tokio runtime, on wasm the host's event
/// loop through `wasm_bindgen_futures` (single-threaded).
#[cfg(not(target_arch = "wasm32"))]
mod exec {
    /// Which runtime a driver serves.
    pub(super) type Id = tokio::runtime::Id;
    /// The runtime of the caller (who must be in one: `runtime_check`).
    pub(super) fn current() -> Id {
        tokio::runtime::Handle::current().id()
    }
    pub(super) fn spawn(fut: impl std::future::Future<Output = ()> + Send + 'static) {
        tokio::spawn(fut);
    }
    pub(super) async fn yield_now() {
        tokio::task::yield_now().await
    }
    /// A call whose driver went without answering: its runtime shut down.
    pub(super) fn lost() -> crate::AuditError {
        crate::AuditError::NoRuntime
    }
    /// Whether a request's panic is Tokio's in a runtime without I/O or time enabled.
    pub(super) fn runtime_panic(text: &str) -> bool {
        text.starts_with("A Tokio 1.x context was found, but")
    }
}

#[cfg(target_arch = "wasm32")]
mod exec {
    /// One event loop: one driver per logger.
    pub(super) type Id = ();
    pub(super) fn current() -> Id {}
    pub(super) fn spawn(fut: impl std::future::Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(fut);
    }
    pub(super) async fn yield_now() {
        crate::lite::yield_once().await
    }
    /// A call whose driver went without answering (the host's loop drops no task: a panic).
    pub(super) fn lost() -> crate::AuditError {
        crate::AuditError::UnexpectedResponse("the delivery driver stopped".into())
    }
    pub(super) fn runtime_panic(_: &str) -> bool {
        false
    }
}

use crate::error::AuditError;
use crate::event::SharedEvent;
use crate::event::{millis_until, steady_millis};
use crate::machine::{Action, Input, Machine};
use crate::AuditLogger;

/// What a call asks of the driver.
pub(crate) enum Cmd {
    /// Deliver one built event; the outcome on the channel.
    Log(SharedEvent, oneshot::Sender<Result<(), AuditError>>),
    /// Flush: `true` when no batch failed meanwhile; with a bound in ms, `close_within`'s
    /// (the machine's `close`).
    Flush(oneshot::Sender<bool>, Option<u64>),
}

/// A logger's ways to its running drivers: one per Tokio runtime the logger is used on, so a
/// call is served by a task of the runtime it waits on. (One driver for all made a call from a
/// second runtime wait on the first one, which may not be driven any more — a current-thread
/// runtime whose thread left `block_on` — or fail `NoRuntime` when it was dropped.)
///
/// The ways are kept as trait objects: every logger owns a slot, also those of the JavaScript
/// entries, which never start a driver; dropping a `Vec` of tokio senders would put tokio's
/// channel code into their .wasm (write entry, scripts/build: 65,279 B gz wasm with the senders,
/// 64,532 boxed), while a boxed way's drop is only behind a vtable that `send` alone makes.
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<Vec<(exec::Id, Box<dyn Way>)>>);

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(exec::Id, Box<dyn Way>)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running driver's channel of calls.
trait Way: std::fmt::Debug + Send + Sync {
    fn send(&self, cmd: Cmd) -> Result<(), Cmd>;
    fn is_closed(&self) -> bool;
}

impl Way for mpsc::UnboundedSender<Cmd> {
    fn send(&self, cmd: Cmd) -> Result<(), Cmd> {
        mpsc::UnboundedSender::send(self, cmd).map_err(|mpsc::error::SendError(cmd)| cmd)
    }
    fn is_closed(&self) -> bool {
        mpsc::UnboundedSender::is_closed(self)
    }
}

/// Hands `cmd` to `logger`'s driver on the current runtime, starting one if none runs there.
/// Natively, must be called inside a tokio runtime.
pub(crate) fn send(logger: &AuditLogger, slot: &Slot, cmd: Cmd) {
    let id = exec::current();
    let mut s = slot.lock();
    // Drivers whose runtime was dropped (their task with them) are forgotten.
    s.retain(|(_, tx)| !tx.is_closed());
    let cmd = match s.iter().find(|(i, _)| *i == id) {
        Some((_, tx)) => match tx.send(cmd) {
            Ok(()) => return,
            Err(cmd) => cmd,
        },
        None => cmd,
    };
    s.retain(|(i, _)| *i != id);
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = tx.send(cmd);
    s.push((id, Box::new(tx)));
    drop(s);
    // The inbox is made here, not in `run`: a task spawned while its runtime shuts down is
    // dropped without ever running, and the calls in its channel must count as failed then too.
    exec::spawn(run(id, Inbox { logger: logger.clone(), rx }));
}

/// The outcome of a call whose driver went without answering it.
pub(crate) fn lost() -> AuditError {
    exec::lost()
}

/// Natively `flush`: asks the driver on the current runtime (started if none runs, so the answer
/// and `lastError` come from a machine as always) and every other running one; `true` when each
/// says so. A driver whose runtime shuts down before answering lost what it held: `false`.
pub(crate) async fn flush(logger: &AuditLogger, slot: &Slot, within: Option<u64>) -> bool {
    let (tx, rx) = oneshot::channel();
    send(logger, slot, Cmd::Flush(tx, within));
    let id = exec::current();
    let others: Vec<_> = slot
        .lock()
        .iter()
        .filter(|(i, _)| *i != id)
        .filter_map(|(_, tx)| {
            let (reply, rx) = oneshot::channel();
            tx.send(Cmd::Flush(reply, within)).ok().map(|()| rx)
        })
        .collect();
    let mut ok = rx.await.unwrap_or(false);
    for rx in others {
        ok &= rx.await.unwrap_or(false);
    }
    if !ok {
        // One machine's success cleared `lastError` after another's failure set it.
        logger.flush_left_events(None);
    }
    ok
}

/// Natively `flush` awaited outside any runtime (a synchronous shutdown path's
/// `futures::executor::block_on`): no driver can start here, so it asks every running one, on
/// the runtimes the logger's calls were made on, and waits for their answers (oneshots, which
/// any executor can await). `None` when none runs: nothing is waiting anywhere.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn flush_elsewhere(logger: &AuditLogger, slot: &Slot, within: Option<u64>) -> Option<bool> {
    let waiting: Vec<_> = slot
        .lock()
        .iter()
        .filter_map(|(_, tx)| {
            let (reply, rx) = oneshot::channel();
            tx.send(Cmd::Flush(reply, within)).ok().map(|()| rx)
        })
        .collect();
    if waiting.is_empty() {
        return None;
    }
    let mut ok = true;
    for rx in waiting {
        ok &= rx.await.unwrap_or(false);
    }
    if !ok {
        logger.flush_left_events(None);
    }
    Some(ok)
}

/// The driver's state besides the machine.
struct Driver {
    logger: AuditLogger,
    m: Machine,
    calls: HashMap<u32, oneshot::Sender<Result<(), AuditError>>>,
    flushes: HashMap<u32, oneshot::Sender<bool>>,
    answers: mpsc::UnboundedSender<Input>,
    /// Each request's task watches it: a value sent cancels those still out.
    cancel: tokio::sync::watch::Sender<()>,
    timer: Option<i64>,
    turn: bool,
    /// This machine's part of the logger's `queued` counter, as last reported.
    queued: u64,
    /// The calls' way in.
    inbox: Inbox,
}

/// A driver's channel of calls. Dropped with calls not yet taken in (the runtime shut down,
/// perhaps before the driver's task ever ran), it counts them as failed: their callers, on the
/// same runtime, went with it.
struct Inbox {
    logger: AuditLogger,
    rx: mpsc::UnboundedReceiver<Cmd>,
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.rx.close();
        let mut unanswered = 0;
        while let Ok(cmd) = self.rx.try_recv() {
            unanswered += matches!(cmd, Cmd::Log(..)) as u64;
        }
        self.logger.counters().add_failed(unanswered);
    }
}

impl Drop for Driver {
    /// A driver dropped with events (its runtime shut down) takes its part of `queued` with it,
    /// and the calls it had not answered count as failed (their callers, on the same runtime,
    /// went with it; an event among them may still have been committed).
    fn drop(&mut self) {
        self.logger.counters().move_queued(self.queued, 0);
        // (Calls sent but not yet taken in: the inbox's drop counts them.)
        self.logger.counters().add_failed(self.calls.len() as u64);
    }
}

impl Driver {
    fn command(&mut self, cmd: Cmd) {
        let now = steady_millis();
        match cmd {
            Cmd::Log(ev, reply) => match self.m.log_shared(now, ev) {
                Ok(call) => {
                    self.calls.insert(call, reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Cmd::Flush(reply, within) => {
                let id = match within {
                    Some(ms) => self.m.close(now, Some(ms)),
                    None => self.m.flush(now),
                };
                self.flushes.insert(id, reply);
            }
        }
        self.perform();
    }

    fn input(&mut self, input: Input) {
        self.m.input(steady_millis(), input);
        self.perform();
    }

    /// Performs the machine's actions, in order.
    fn perform(&mut self) {
        let actions = self.m.actions();
        // The counters first: a caller woken below (a flush on another runtime's thread) reads
        // them at once (tests/rust_api.rs flush_on_one_runtime_waits_for_calls_on_another saw the
        // last round's `queued` in 5 of 8 runs).
        let queued = self.m.stats().queued;
        self.logger.counters().move_queued(self.queued, queued);
        self.queued = queued;
        for a in actions {
            match a {
                Action::Send { req, request } => {
                    let transport = self.logger.sink().transport().clone();
                    let timeout_ms = self.logger.config().timeout_ms;
                    let answers = self.answers.clone();
                    let mut cancelled = self.cancel.subscribe();
                    exec::spawn(async move {
                        use futures::FutureExt;
                        let post = std::panic::AssertUnwindSafe(transport.post(&request, timeout_ms));
                        let input = tokio::select! {
                            r = post.catch_unwind() => match r {
                                Ok(Ok(resp)) => Input::Answer { req, resp },
                                Ok(Err(error)) => Input::Failed { req, error },
                                Err(panic) => Input::Failed { req, error: panicked(panic) },
                            },
                            // Given up on: dropped (natively its connection with it), unreported.
                            _ = cancelled.changed() => return,
                        };
                        let _ = answers.send(input);
                    });
                }
                Action::Done { call, result } => {
                    // lastError was set by the machine (Machine::done): what a `false`
                    // flush/close says.
                    if let Some(reply) = self.calls.remove(&call) {
                        let _ = reply.send(result);
                    }
                }
                Action::Flushed { id, ok } => {
                    if let Some(reply) = self.flushes.remove(&id) {
                        let _ = reply.send(ok);
                    }
                }
                Action::Timer(at) => self.timer = at,
                Action::Turn => self.turn = true,
                // No durable queue natively (its actions come only with one), and no page.
                Action::Keepalive(_)
                | Action::Put { .. }
                | Action::Delete(_)
                | Action::DeletePrefix(_)
                | Action::Load { .. }
                | Action::Cleared { .. } => {}
            }
        }
        // An idle machine waits for no answer: every request still out is one it gave up on
        // (the builder's deadline, close_within's bound), cancelled now.
        if self.cancel.receiver_count() > 0 && self.m.is_idle() {
            self.cancel.send_replace(());
        }
    }

    fn is_done(&self) -> bool {
        self.calls.is_empty() && self.flushes.is_empty() && !self.turn && self.timer.is_none() && self.m.is_idle()
    }
}

/// A request that panicked: a runtime without I/O or time enabled makes Tokio panic in the
/// transport's first step; said as for no runtime at all (the contract: an error, never a
/// panic), and any other panic as the request's failure (the driver must still answer).
fn panicked(panic: Box<dyn std::any::Any + Send>) -> AuditError {
    let text = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied());
    match text {
        Some(t) if exec::runtime_panic(t) => exec::lost(),
        t => AuditError::Network(crate::error::cat(&["the request panicked: ", t.unwrap_or("?")])),
    }
}

async fn run(id: exec::Id, inbox: Inbox) {
    let (answers, mut answered) = mpsc::unbounded_channel();
    let (cancel, _) = tokio::sync::watch::channel(());
    let logger = inbox.logger.clone();
    let mut d = Driver {
        m: Machine::new(logger.clone(), None),
        logger,
        calls: HashMap::new(),
        flushes: HashMap::new(),
        answers,
        cancel,
        timer: None,
        turn: false,
        queued: 0,
        inbox,
    };
    let mut open = true;
    loop {
        if d.turn {
            // The first turn: calls made together (tasks already woken) join the first batch.
            exec::yield_now().await;
            while let Ok(cmd) = d.inbox.rx.try_recv() {
                d.command(cmd);
            }
            d.turn = false;
            d.input(Input::Turn);
            continue;
        }
        if d.is_done() && !open {
            return;
        }
        if d.is_done() {
            let slot = d.logger.driver_slot();
            let mut s = slot.lock();
            match d.inbox.rx.try_recv() {
                Ok(cmd) => {
                    drop(s);
                    d.command(cmd);
                    continue;
                }
                Err(_) => {
                    s.retain(|(i, _)| *i != id);
                    return;
                }
            }
        }
        let timer = d.timer;
        let sleep = async {
            match timer {
                Some(at) => crate::transport::sleep_ms(millis_until(at, steady_millis())).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            cmd = d.inbox.rx.recv(), if open => match cmd {
                Some(cmd) => d.command(cmd),
                // Every sender gone (the slot was replaced): finish what is under way.
                None => open = false,
            },
            Some(input) = answered.recv() => d.input(input),
            () = sleep => {
                d.timer = None;
                d.input(Input::Timer);
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::Config;

    /// Runtimes dropped while their driver had a request in flight leave no entry behind for
    /// long: the next call forgets them (a program making a runtime per job would otherwise
    /// grow the slot without bound).
    #[test]
    fn drivers_of_dropped_runtimes_are_forgotten() {
        // Accepts connections (the kernel's backlog) but never answers: requests hang.
        let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let logger = AuditLogger::new(Config::new(format!("http://{}", hung.local_addr().unwrap()))).unwrap();
        for _ in 0..20 {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let l = logger.clone();
            let _call = rt.spawn(async move { l.log_user_action(None, "HUNG", None, None).await });
            rt.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(20)).await });
            assert!(!logger.driver_slot().lock().is_empty(), "a driver runs, its request hung");
            drop(rt);
        }
        assert!(logger.driver_slot().lock().len() <= 1, "{}", logger.driver_slot().lock().len());
        assert_eq!(logger.stats().queued, 0);
        assert_eq!(logger.stats().failed, 20, "each dropped runtime's call counts as failed");
    }
}
