//! Where events wait, chosen once when the JavaScript logger is built: the durable queue
//! (`queue.enabled`, the default) or nowhere (the one-shot function, `queue: {enabled: false}`).
//! The wasm shell calls these methods and never asks which one it has.

use std::rc::Rc;

use super::Durable;
use crate::batch::SharedEvent;
use crate::error::AuditError;
use crate::AuditLogger;

/// A logger's spool.
#[derive(Clone)]
pub enum Spool {
    /// Stored before sending, re-sent until committed (see [`Durable`]).
    Queue(Rc<Durable>),
    /// Straight to the logger's batches; nothing survives a failure.
    Direct(Rc<AuditLogger>),
}

impl Spool {
    /// The spool `logger`'s configuration asks for.
    pub fn for_logger(logger: Rc<AuditLogger>) -> Spool {
        if logger.config().queue.enabled {
            Spool::Queue(Durable::open(logger))
        } else {
            Spool::Direct(logger)
        }
    }

    /// Takes one built event into the queue, now, in the call that built it (nothing to do
    /// without a queue); a refusal (the queue full) is the call's outcome, and the caller takes
    /// the event's seal back ([`crate::AuditLogger::unseal`]). Before [`Spool::log`].
    pub fn admit(&self, event: &SharedEvent) -> Result<(), AuditError> {
        match self {
            Spool::Queue(d) => d.admit(event),
            Spool::Direct(_) => Ok(()),
        }
    }

    /// Delivers one built event, admitted ([`Spool::admit`]) (stored first, with the queue). Shared, not by value: a waiting
    /// call's future then holds a pointer, not the event.
    /// Takes the spool by value (a clone is two pointers) so that the caller can map the
    /// returned future without an `async` block around it. Not an `async fn`: the future is the
    /// chosen path's own (an `async fn` would keep the spool and the event next to it).
    pub fn log(self, event: SharedEvent) -> impl std::future::Future<Output = Result<(), AuditError>> {
        use futures::future::Either;
        match self {
            Spool::Queue(d) => Either::Left(d.log(event)),
            Spool::Direct(l) => Either::Right(async move { l.deliver_shared(event).await }),
        }
    }

    /// Sends what waits; `true` when nothing is left undelivered.
    pub async fn flush(&self) -> bool {
        match self {
            Spool::Queue(d) => d.flush().await,
            Spool::Direct(l) => l.flush().await,
        }
    }

    /// Flushes, then refuses further events.
    pub async fn close(&self) -> bool {
        match self {
            Spool::Queue(d) => d.close().await,
            Spool::Direct(l) => l.close().await,
        }
    }

    /// Removes this identity's waiting events and dead letters; how many events.
    pub async fn clear(&self) -> usize {
        match self {
            Spool::Queue(d) => d.clear().await,
            Spool::Direct(_) => 0,
        }
    }

    /// Events the endpoint rejected for good, as a JSON array ([`super::Durable::dead_letters_json`]).
    pub async fn dead_letters_json(&self) -> String {
        match self {
            Spool::Queue(d) => d.dead_letters_json().await,
            Spool::Direct(_) => "[]".into(),
        }
    }
}
