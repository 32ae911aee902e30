//! The few pieces of `futures` the library uses, written small: a one-shot channel, `select` of
//! two futures and `map`.
//! `futures`' own (`futures-channel`'s oneshot, `futures-util`'s `select`, `Map` and
//! `lock::Mutex` with its `slab` of waiters) were about 13 KB of the browser `.wasm` before
//! `wasm-opt` (twiggy on bench/size's named build). These
//! keep the same shapes (`channel`, `Sender::send`, `Canceled`, `select` → `Either` with the
//! other future) so the call sites read as before. They are `Send`/`Sync` like those: native
//! callers share a logger across threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) mod oneshot {
    use super::*;

    /// The sender went away without sending.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Canceled;

    struct Slot<T> {
        value: Option<T>,
        /// The sender sent or was dropped: no value comes after this.
        done: bool,
        waker: Option<Waker>,
    }

    pub(crate) struct Sender<T>(Arc<Mutex<Slot<T>>>);
    pub(crate) struct Receiver<T>(Arc<Mutex<Slot<T>>>);

    pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new(Slot { value: None, done: false, waker: None }));
        (Sender(slot.clone()), Receiver(slot))
    }

    impl<T> Sender<T> {
        /// Hands `v` to the receiver (dropped with the channel if the receiver is gone).
        pub(crate) fn send(self, v: T) -> Result<(), T> {
            lock(&self.0).value = Some(v);
            Ok(())
            // Drop marks the slot done and wakes the receiver.
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let waker = {
                let mut s = lock(&self.0);
                s.done = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = Result<T, Canceled>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let mut s = lock(&self.0);
            if let Some(v) = s.value.take() {
                return Poll::Ready(Ok(v));
            }
            if s.done {
                return Poll::Ready(Err(Canceled));
            }
            park(&mut s.waker, cx);
            Poll::Pending
        }
    }

    /// Keeps `cx`'s waker in `slot` (one body for every `Receiver<T>`).
    #[inline(never)]
    fn park(slot: &mut Option<Waker>, cx: &Context<'_>) {
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
    }
}

/// Pending once (waking itself at once), then ready: lets the tasks already queued on the executor
/// run before the caller goes on (`tokio::task::yield_now`, for any executor).
pub(crate) async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Which of two futures finished first, with the other one.
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for the first of `a` and `b` (polled in that order).
pub(crate) fn select<A, B>(a: A, b: B) -> Select<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    Select(Some((a, b)))
}

pub(crate) struct Select<A, B>(Option<(A, B)>);

impl<A: Future + Unpin, B: Future + Unpin> Future for Select<A, B> {
    type Output = Either<(A::Output, B), (B::Output, A)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some((a, b)) = self.0.as_mut() else { return Poll::Pending };
        if let Poll::Ready(v) = Pin::new(a).poll(cx) {
            let (_, b) = self.0.take().expect("polled after completion");
            return Poll::Ready(Either::Left((v, b)));
        }
        if let Poll::Ready(v) = Pin::new(b).poll(cx) {
            let (a, _) = self.0.take().expect("polled after completion");
            return Poll::Ready(Either::Right((v, a)));
        }
        Poll::Pending
    }
}

/// `fut`'s output passed through `f` (`FutureExt::map`).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn map<F: Future, T, G: FnOnce(F::Output) -> T>(fut: F, f: G) -> Map<F, G> {
    Map { fut, f: Some(f) }
}

pub(crate) struct Map<F, G> {
    fut: F,
    f: Option<G>,
}

impl<F: Future, T, G: FnOnce(F::Output) -> T> Future for Map<F, G> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: `fut` is structurally pinned (never moved out of `self`); `f` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        match fut.poll(cx) {
            Poll::Ready(v) => Poll::Ready((this.f.take().expect("polled after completion"))(v)),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn oneshot_delivers_or_cancels() {
        let (tx, rx) = oneshot::channel::<u32>();
        let _ = tx.send(7);
        assert_eq!(block_on(rx), Ok(7));
        let (tx, rx) = oneshot::channel::<u32>();
        drop(tx);
        assert_eq!(block_on(rx), Err(oneshot::Canceled));
        // Across threads, the receiver waiting first.
        let (tx, rx) = oneshot::channel::<u32>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let _ = tx.send(9);
        });
        assert_eq!(block_on(rx), Ok(9));
        t.join().unwrap();
    }

    #[test]
    fn select_takes_the_first_ready() {
        let (tx, rx) = oneshot::channel::<u32>();
        let never = Box::pin(std::future::pending::<u32>());
        let _ = tx.send(1);
        match block_on(select(never, rx)) {
            Either::Right((Ok(1), _)) => {}
            _ => panic!("the ready one wins"),
        }
        let a = Box::pin(async { 2 });
        let b = Box::pin(async { 3 });
        assert!(matches!(block_on(select(a, b)), Either::Left((2, _))));
        assert_eq!(block_on(map(async { 4 }, |v| v + 1)), 5);
    }
}
