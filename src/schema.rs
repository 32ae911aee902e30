//! The schema step, sans-IO (docs/sansio.md): the requests that make the constraints and indexes
//! the trail queries use, and how each answer is read. It does no I/O and reads no clock: each
//! answer goes in, the next request (or a pause, or the end) comes out.
//!
//! Two ways in: a write whose schema guard Neo4j refused ([`crate::cypher::SCHEMA_GUARD`]: the
//! check first; a refusal for good only warns and writes go on without the schema), and an
//! explicit `ensureSchema()` (every statement, no check; a refusal is its failure). The delivery
//! machine runs it for its writes and for the JavaScript `ensureSchema()`;
//! [`crate::AuditLogger`] drives it alone for the Rust API's `ensure_schema` (and the Worker's
//! first read) and for its one-request writes: there it is all the machinery that runs, so a
//! build that needs only the schema step (the Worker entry) carries no delivery machine.

use crate::error::AuditError;
use crate::outcome::JsonRows;
use crate::sink::{
    blocks_constraint, in_place, is_refusal, schema_refused, schema_statement_done, schema_statement_failed, Neo4jSink,
};
use crate::transport::HttpRequest;

/// A request of the step; its answer goes to [`Step::answered`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Req {
    /// The check (`n` names).
    Check { n: usize },
    /// Every constraint and index in one transaction.
    CreateAll,
    /// Statement `idx`, after `attempt` extra runs.
    One { idx: usize, attempt: u32 },
}

/// What the step needs next.
#[derive(Debug)]
pub(crate) enum Next {
    /// Send this request (bounded by `timeoutMs`).
    Send(HttpRequest, Req),
    /// Wait until this time (ms since the epoch), then [`Step::again`]: a deadlocked statement
    /// runs again after a short pause.
    Wait(i64),
    /// The step ended: `Ok` when the schema is in place (or, in a write's step, Neo4j refused it
    /// for good: writes go on without it, and the sink's warning says why); the sink knows it.
    Done(Result<(), AuditError>),
}

/// One run of the schema step.
#[derive(Debug)]
pub(crate) struct Step {
    explicit: bool,
    texts: Vec<String>,
    /// The statement a [`Next::Wait`] runs again, and its extra runs.
    again: (usize, u32),
    /// A uniqueness constraint Neo4j refused beside a plain index ([`blocks_constraint`]): the
    /// other statements still run (the read side needs its indexes), then the step ends with it.
    /// (Boxed: the step is held in the machine's schema state, whose size it sets.)
    blocked: Option<Box<AuditError>>,
}

impl Step {
    /// Starts the step (`explicit`: `ensureSchema()`'s) and gives its first request.
    pub(crate) fn start(sink: &Neo4jSink, explicit: bool) -> (Step, Next) {
        let mut step = Step { explicit, texts: Vec::new(), again: (0, 0), blocked: None };
        // No check in `ensureSchema()`: every statement runs (they are idempotent).
        let next = if explicit { step.create(sink) } else { check(sink) };
        (step, next)
    }

    /// Whether this is `ensureSchema()`'s step.
    pub(crate) fn explicit(&self) -> bool {
        self.explicit
    }

    /// The answer to `req`: Neo4j's rows, or why there are none; `now` times a pause. Out of line
    /// in the Workers build (memory-queue): inlined into the machine's answer handler, which every
    /// write's answer runs, a Worker's first event compiled it although its schema check rides in
    /// the write (V8 compiles a wasm function whole on its first call).
    #[cfg_attr(feature = "memory-queue", inline(never))]
    pub(crate) fn answered(&mut self, sink: &Neo4jSink, now: i64, req: Req, res: Result<JsonRows, AuditError>) -> Next {
        match req {
            // Everything may be in place (a guarded write refused for another reason, a role
            // that may not run db.awaitIndex): one read says so.
            Req::Check { n } => match in_place(res, n) {
                Ok(true) => done(sink),
                Ok(false) => self.create(sink),
                Err(e) => Next::Done(Err(e)),
            },
            // An answer Neo4j refuses: one statement at a time from the first (which tells an
            // equivalent index someone else made from a missing right); any other answer, from
            // the last (the wait for them to be online, a request of its own).
            Req::CreateAll => match res {
                Ok(_) => self.statement(sink, self.texts.len() - 1, 0),
                Err(e) if is_refusal(&e) => self.statement(sink, 0, 0),
                Err(e) => self.end(sink, e),
            },
            Req::One { idx, attempt } => match res {
                Ok(_) => self.after(sink, idx),
                Err(e) => match schema_statement_failed(&e, attempt) {
                    Some(pause) => {
                        self.again = (idx, attempt + 1);
                        Next::Wait(now + pause as i64)
                    }
                    None if schema_statement_done(&e) => self.after(sink, idx),
                    None if blocks_constraint(&e) => {
                        self.blocked.get_or_insert(Box::new(e));
                        self.after(sink, idx)
                    }
                    None => self.end(sink, e),
                },
            },
        }
    }

    /// `req` once more, as it was: its answer was a login refused to credentials replaced since
    /// it left (`setCredentials`), so it goes again with the new ones.
    pub(crate) fn resend(&self, sink: &Neo4jSink, req: Req) -> Next {
        match req {
            Req::Check { .. } => check(sink),
            Req::CreateAll => self.create_all(sink),
            Req::One { idx, attempt } => self.statement(sink, idx, attempt),
        }
    }

    /// The pause of a [`Next::Wait`] is over: the statement runs again.
    pub(crate) fn again(&mut self, sink: &Neo4jSink) -> Next {
        let (idx, attempt) = self.again;
        self.statement(sink, idx, attempt)
    }

    /// The statements: every constraint and index in one transaction where the API allows
    /// (then the wait), else one at a time.
    fn create(&mut self, sink: &Neo4jSink) -> Next {
        self.texts = match sink.schema_texts() {
            Ok(t) => t,
            Err(e) => return self.end(sink, e),
        };
        self.create_all(sink)
    }

    fn create_all(&self, sink: &Neo4jSink) -> Next {
        match sink.create_all_request(&self.texts) {
            Some(request) => Next::Send(request, Req::CreateAll),
            None => self.statement(sink, 0, 0),
        }
    }

    fn statement(&self, sink: &Neo4jSink, idx: usize, attempt: u32) -> Next {
        Next::Send(sink.text_request(&self.texts[idx], |o| o.push_str("{}")), Req::One { idx, attempt })
    }

    fn after(&mut self, sink: &Neo4jSink, idx: usize) -> Next {
        if idx + 1 < self.texts.len() {
            self.statement(sink, idx + 1, 0)
        } else if let Some(e) = self.blocked.take() {
            self.end(sink, *e)
        } else {
            done(sink)
        }
    }

    /// The step failed with `e`: in a write's step a refusal for good only warns (writes go
    /// on without the schema); anything else, and any failure of `ensureSchema()`, is the end.
    fn end(&self, sink: &Neo4jSink, e: AuditError) -> Next {
        if schema_refused(&e) && !self.explicit {
            sink.warn_schema(&e);
            return done(sink);
        }
        Next::Done(Err(e))
    }
}

/// The check: one read of whether every constraint and index is in place.
fn check(sink: &Neo4jSink) -> Next {
    match sink.schema_check_request() {
        Ok((request, n)) => Next::Send(request, Req::Check { n }),
        Err(e) => Next::Done(Err(e)),
    }
}

/// The schema is in place (or known to be needless): said to the sink, which every later write
/// of the logger reads.
fn done(sink: &Neo4jSink) -> Next {
    sink.set_schema_known();
    Next::Done(Ok(()))
}
