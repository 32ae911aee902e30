//! Futures running side by side in one task, polled in turn: the few requests a batch leader has
//! in flight, or a queue's re-sends. Written here instead of `futures`' `FuturesUnordered` /
//! `join_all` because those cost the browser `.wasm` about 8 KB of code (measured with
//! `bench/size`) for sets this small; every wake polls each member, which is cheap for a handful
//! of requests and for re-sends that mostly wait on their batch's channel.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// A set of futures of one type, each boxed once.
pub(crate) struct Running<F> {
    futures: Vec<Pin<Box<F>>>,
}

impl<F: Future> Running<F> {
    pub(crate) fn new() -> Self {
        Running { futures: Vec::new() }
    }

    pub(crate) fn push(&mut self, f: F) {
        self.futures.push(Box::pin(f));
    }

    pub(crate) fn len(&self) -> usize {
        self.futures.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.futures.is_empty()
    }

    /// The output of the next member to finish; `None` when the set is empty.
    pub(crate) async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| {
            if self.futures.is_empty() {
                return Poll::Ready(None);
            }
            for i in 0..self.futures.len() {
                if let Poll::Ready(out) = self.futures[i].as_mut().poll(cx) {
                    drop(self.futures.swap_remove(i));
                    return Poll::Ready(Some(out));
                }
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ready after `n` polls, waking itself each time.
    async fn after(n: usize, v: u32) -> u32 {
        let mut left = n;
        poll_fn(|cx| {
            if left == 0 {
                return Poll::Ready(v);
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    #[test]
    fn yields_in_finishing_order() {
        futures::executor::block_on(async {
            let mut r = Running::new();
            for (n, v) in [(3, 30), (0, 0), (1, 10)] {
                r.push(after(n, v));
            }
            let mut seen = Vec::new();
            while let Some(v) = r.next().await {
                seen.push(v);
            }
            assert_eq!(seen, vec![0, 10, 30]);
            assert!(r.next().await.is_none());
        });
    }
}
