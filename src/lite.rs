//! The few pieces of `futures` the library uses, written small: `select` of two futures, `map`
//! and a yield. `futures`' own (`futures-util`'s `select` and `Map`, with the oneshot channel and
//! async lock the library no longer uses) were about 13 KB of the browser `.wasm` before
//! `wasm-opt` (twiggy on bench/size's named build). These keep the same shapes (`select` →
//! `Either` with the other future) so the call sites read as before.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Pending once (waking itself at once), then ready: lets the tasks already queued on the executor
/// run before the caller goes on (`tokio::task::yield_now`, for any executor: the Rust API's
/// driver on wasm).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "fetch"), allow(dead_code))] // the reqwest transport's
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for the first of `a` and `b` (polled in that order).
#[cfg_attr(all(target_arch = "wasm32", feature = "fetch"), allow(dead_code))] // the reqwest transport's
pub(crate) fn select<A, B>(a: A, b: B) -> Select<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    Select(Some((a, b)))
}

#[cfg_attr(all(target_arch = "wasm32", feature = "fetch"), allow(dead_code))] // the reqwest transport's
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
// Used by the read methods' promises on wasm only (the JavaScript API, feature `js`).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "read", feature = "js")), allow(dead_code))]
pub(crate) fn map<F: Future, T, G: FnOnce(F::Output) -> T>(fut: F, f: G) -> Map<F, G> {
    Map { fut, f: Some(f) }
}

#[cfg_attr(not(all(target_arch = "wasm32", feature = "read", feature = "js")), allow(dead_code))]
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
    fn select_takes_the_first_ready() {
        let never = Box::pin(std::future::pending::<u32>());
        match block_on(select(never, Box::pin(async { 1u32 }))) {
            Either::Right((1, _)) => {}
            _ => panic!("the ready one wins"),
        }
        let a = Box::pin(async { 2 });
        let b = Box::pin(async { 3 });
        assert!(matches!(block_on(select(a, b)), Either::Left((2, _))));
        assert_eq!(block_on(map(async { 4 }, |v| v + 1)), 5);
    }
}
