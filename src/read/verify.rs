//! verifyTrail's reading as a plain synchronous state machine ([`VerifyRun`]): it says which
//! statement to run next ([`Step::Run`]) or that the page's seals are to be checked
//! ([`Step::Seals`]), and takes Neo4j's rows back. The async driver
//! (`AuditLogger::verify_pages`) is then a small loop with one `run_json` and one seal check,
//! so the future held across its awaits is small and the verification logic is ordinary code
//! (the browser's read entry had it all inlined into one async state machine of ~17 KB).

use super::{
    add_stream, head_from_cells, row_edges_ok, row_event, row_fields_off, row_seal, take_str, unchained_query,
    verify_query, Query, VerifyProgress, VerifyQuery, VERIFY_PAGE,
};
use crate::chain::{Break, BreakKind, SealCheck, StoredSeal, StreamReport, Verifier, VerifyReport};
use crate::config::Config;
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::json::Json;
use crate::outcome::JsonRows;

/// What the driver does next.
pub(crate) enum Step {
    /// Run this statement and pass its rows to the next [`VerifyRun::step`].
    Run(Query),
    /// Check [`VerifyRun::seal_items`] (asynchronously), then call `step` again (rows unused).
    Seals,
    /// Finished: [`VerifyRun::finish`].
    Done,
}

/// Which answer the next [`VerifyRun::step`] takes.
#[derive(Clone, Copy)]
enum Phase {
    Begin,
    Head,
    /// A resumed walk's head read again ([`VerifyRun::newer_head`]).
    HeadAgain,
    Streams,
    Page,
    /// The event just before a `since` window's first one in its stream.
    Before,
    Seals,
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    Anchor(usize),
    Unchained,
    Done,
}

/// One verification (or one page of it, `PAGED`), from the start or resumed from a progress.
pub(crate) struct VerifyRun<'a, const PAGED: bool> {
    cfg: &'a Config,
    q: &'a VerifyQuery,
    seals: Option<&'a dyn SealCheck>,
    max_events: u64,
    phase: Phase,
    p: VerifyProgress,
    /// Resumed (the progress is the caller's): no head or stream list to read.
    resumed: bool,
    current: Option<Verifier<'a>>,
    /// The page read (each event with its edges check, [`super::row_edges_ok`], and its
    /// properties of another type, [`super::row_fields_off`]), until its seals are checked and
    /// it is pushed.
    page: Vec<(AuditEvent, Option<StoredSeal>, bool, Option<String>)>,
    /// That page was the stream's last (shorter than a full page).
    last_page: bool,
    /// Events per page: [`VERIFY_PAGE`], halved while a page's answer is over the reader's
    /// bound ([`Self::smaller_page`]; in the Worker's build, `GET /v1/verify`, its bound on every
    /// answer, `transport::WORKER_MAX_ANSWER_BYTES`); a paged walk carries it in its progress.
    page_limit: u32,
    /// The page starts with the event before the window (checked, not counted as read).
    before: bool,
    streams: Vec<StreamReport>,
    read: u64,
    /// Rows the pages returned: a paged call's budget (`read` counts each event once, and a page
    /// after a position returns the event read there again).
    rows: u64,
    unchained: u64,
    unchained_uids: Vec<String>,
}

/// Streams still to read that a paused walk's progress names; the others are read from Neo4j
/// again ([`VerifyProgress::rest_after`]).
const CURSOR_STREAMS: usize = 16;

impl<'a, const PAGED: bool> VerifyRun<'a, PAGED> {
    /// `seals`: the checked keys (signed mode). `progress` (only with `PAGED`): where to continue.
    /// `PAGED` false (verifyTrail: from the start, to the end) leaves the cursor's code (resume,
    /// pause) out of that instance, the only one in the browser's read entry.
    #[inline(never)]
    pub(crate) fn new(
        cfg: &'a Config,
        q: &'a VerifyQuery,
        seals: Option<&'a dyn SealCheck>,
        progress: Option<VerifyProgress>,
        max_events: u64,
    ) -> Self {
        let progress = progress.filter(|_| PAGED);
        let resumed = progress.is_some();
        let mut p = progress.unwrap_or(VerifyProgress {
            pending: Vec::new(),
            current: None,
            after: None,
            checked: 0,
            ok: true,
            head: None,
            page: None,
            rest_after: None,
        });
        let current = if PAGED { p.current.take().map(|st| Verifier::resume(st, seals)) } else { None };
        // A walk resumed with the smaller page an earlier call needed goes on with it (before,
        // each call of a cursor walk began at 1000 again and read over-large answers down again).
        let page_limit = p.page.take().filter(|_| PAGED).map_or(VERIFY_PAGE, |n| n.clamp(2, VERIFY_PAGE));
        VerifyRun {
            cfg,
            q,
            seals,
            max_events,
            phase: Phase::Begin,
            p,
            resumed,
            current,
            page: Vec::new(),
            last_page: false,
            page_limit,
            before: false,
            streams: Vec::new(),
            read: 0,
            rows: 0,
            unchained: 0,
            unchained_uids: Vec::new(),
        }
    }

    /// Takes the rows of the statement the last step asked for, and says what comes next.
    #[inline(never)]
    pub(crate) fn step(&mut self, mut rows: JsonRows) -> Result<Step, AuditError> {
        let q = self.q;
        match self.phase {
            // A resumed walk (signed mode) reads the trail's head again: the cursor holds the one
            // read on the walk's first page, and events written since would have an end no head
            // covers (a walk resumed after they were cut back to a request boundary ended `ok`).
            Phase::Begin if PAGED && self.resumed && self.seals.is_some() && self.p.head.is_some() => {
                self.phase = Phase::HeadAgain;
                return Ok(Step::Run(super::head_query(self.cfg)?));
            }
            Phase::Begin if self.resumed => return self.next_page(),
            Phase::HeadAgain => {
                // (`PAGED`: left out of verifyTrail's instance, the browser's read entry.)
                if PAGED {
                    self.newer_head(rows.first().and_then(|r| head_from_cells(r)));
                }
                return self.next_page();
            }
            Phase::Begin => {
                if self.seals.is_some() {
                    self.phase = Phase::Head;
                    return Ok(Step::Run(super::head_query(self.cfg)?));
                }
            }
            Phase::Head => {
                self.p.head = rows
                    .first()
                    .and_then(|r| head_from_cells(r))
                    .filter(|h| q.stream_id.as_ref().is_none_or(|s| *s == h.stream_id));
            }
            Phase::Streams => {
                // A batch of the stream list: the first, or the one after `rest_after`.
                let from = self.p.rest_after.take();
                let full = rows.len() >= super::STREAM_BATCH;
                for r in &mut rows {
                    if let Some(s) = take_str(r, 0) {
                        self.p.pending.push(s);
                    }
                }
                if full {
                    self.p.rest_after = self.p.pending.last().cloned();
                }
                return self.begin_streams(from);
            }
            Phase::Page => {
                // A window's start (one event, [`Self::next_page`]) is followed by pages read by `seq`.
                let start = q.since_ms().is_some() && self.p.after.is_none();
                self.last_page = if start { rows.is_empty() } else { rows.len() < self.page_size() as usize };
                self.page.reserve(rows.len());
                self.rows += rows.len() as u64;
                for r in &mut rows {
                    let (seal, edges, fields) = (row_seal(r), row_edges_ok(r), row_fields_off(r));
                    self.page.push((row_event(r)?, seal, edges, fields));
                }
                // A page after a position starts at it ([`verify_query`]'s `at`): the event read
                // there is dropped, a copy of it stays (to be `inserted`). A page of nothing but
                // that position made no progress: the stream's end (its break is reported).
                if let Some((_, seq, uid)) = &self.p.after {
                    let at = |e: &AuditEvent| e.seq.unwrap_or(0) == *seq && e.uid == *uid;
                    if self.page.first().is_some_and(|(e, ..)| at(e)) {
                        self.page.remove(0);
                    }
                    if self.page.last().is_some_and(|(e, ..)| at(e)) {
                        self.last_page = true;
                    }
                }
                // A window's first page: its check starts from the stream's event before it, so a
                // gap or an edit at the window's start is reported as from the stream's start.
                if let (Some(_), None, Some((first, ..))) = (q.since_ms(), &self.p.after, self.page.first()) {
                    match first.seq {
                        Some(seq) if seq > 0 => {
                            let one = VerifyQuery { stream_id: first.stream_id.clone(), ..Default::default() };
                            self.phase = Phase::Before;
                            return Ok(Step::Run(verify_query(
                                &self.cfg.labels,
                                &self.cfg.trail,
                                &one,
                                None,
                                false,
                                Some(seq),
                                false,
                            )?));
                        }
                        _ => self.nothing_before(),
                    }
                }
                return self.page_read();
            }
            Phase::Before => {
                match rows.first_mut() {
                    Some(r) => {
                        let (seal, edges, fields) = (row_seal(r), row_edges_ok(r), row_fields_off(r));
                        self.page.insert(0, (row_event(r)?, seal, edges, fields));
                        self.before = true;
                    }
                    None => self.nothing_before(),
                }
                return self.page_read();
            }
            Phase::Seals => {
                self.push_page();
                return self.next_page();
            }
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            Phase::Anchor(i) => {
                let Some(a) = self.anchor_at(i) else { return self.next_anchor(i + 1) };
                let a = &a;
                // The stream's first event at or after the anchored seq, read as the pages read
                // events (its fields' types and its edges too).
                let found = match rows.first_mut() {
                    Some(r) => {
                        let (edges, fields) = (row_edges_ok(r), row_fields_off(r));
                        Some((row_event(r)?, edges, fields))
                    }
                    None => None,
                };
                let s = crate::error::num(a.seq);
                match found {
                    // (Only where the stream was not read: a stream read intact up to the
                    // anchored seq holds it.)
                    Some((ev, ..)) if ev.seq == Some(a.seq) && ev.hash.as_deref() != Some(a.hash.as_str()) => {
                        let msg = crate::error::cat(&[
                            "seq ",
                            &s,
                            ": the event's hash is not the anchored one: the stream was rewritten up to the anchored head",
                        ]);
                        self.anchor_break(i, BreakKind::Forged, a.seq, None, msg);
                    }
                    // The anchored event itself is checked as the event before a window is: its
                    // stored fields must hash to its hash (before, only the hash was compared,
                    // and a quiet stream whose anchored event was edited was intact at its anchor).
                    Some((ev, edges, fields)) if ev.seq == Some(a.seq) => {
                        let what = match fields {
                            Some(f) => Some(crate::error::cat(&["stored ", &f, " is missing or of another type"])),
                            None if !crate::chain::verify_hash(&ev) => {
                                Some("its stored fields do not hash to its hash".into())
                            }
                            None if !edges => {
                                Some("an edge into the application's graph does not agree with it".into())
                            }
                            None => None,
                        };
                        if let Some(what) = what {
                            let msg = crate::error::cat(&["seq ", &s, ": the anchored event was edited: ", &what]);
                            self.anchor_break(i, BreakKind::Edited, a.seq, Some(ev.uid), msg);
                        }
                    }
                    _ => {
                        let msg = crate::error::cat(&[
                            "seq ",
                            &s,
                            " is missing: the event the anchored head names is not in the trail (cut off, or deleted)",
                        ]);
                        self.anchor_break(i, BreakKind::Deleted, a.seq, None, msg);
                    }
                }
                return self.next_anchor(i + 1);
            }
            Phase::Unchained => {
                self.unchained = rows.first().and_then(|r| r.first()).and_then(Json::as_u64).unwrap_or(0);
                for v in rows.first().and_then(|r| r.get(1)).and_then(Json::as_array).unwrap_or(&[]) {
                    if let Some(u) = v.as_str() {
                        self.unchained_uids.push(u.to_owned());
                    }
                }
                self.phase = Phase::Done;
                return Ok(Step::Done);
            }
            Phase::Done => return Ok(Step::Done),
        }
        // After the head (or without keys): the streams to read.
        match &q.stream_id {
            Some(s) => {
                self.p.pending = vec![s.clone()];
                self.begin_streams(None)
            }
            None => {
                self.phase = Phase::Streams;
                Ok(Step::Run(super::stream_ids_query(self.cfg, q, None)))
            }
        }
    }

    /// The head read again on a resumed page: taken when it names the walk's stream further on
    /// (the Worker wrote on), for the stream in progress too. A head now behind the walk's (rolled
    /// back) or naming another stream is not taken: the walk's head still says where the stream
    /// must end.
    fn newer_head(&mut self, now: Option<crate::chain::SignedHead>) {
        let Some(now) = now else { return };
        if !self.p.head.as_ref().is_some_and(|h| h.stream_id == now.stream_id && h.seq < now.seq) {
            return;
        }
        if let Some(v) = self.current.as_mut().filter(|v| v.stream_id() == now.stream_id) {
            v.newer_head(now.clone());
        }
        self.p.head = Some(now);
    }

    /// Nothing in the stream before the window: it must begin at the window's start.
    fn nothing_before(&mut self) {
        if let Some(v) = self.current.as_mut() {
            v.anchor_at_genesis();
        }
    }

    /// The page is read: its seals to check (signed mode), else into the verifier.
    fn page_read(&mut self) -> Result<Step, AuditError> {
        if self.seals.is_some() {
            self.phase = Phase::Seals;
            return Ok(Step::Seals);
        }
        self.push_page();
        self.next_page()
    }

    /// A batch of the stream list read (the streams after `from`, up to `rest_after` when more
    /// follow): add the head's and the anchored streams of that range, then the next page.
    fn begin_streams(&mut self, from: Option<String>) -> Result<Step, AuditError> {
        let (from, to) = (from.as_deref(), self.p.rest_after.clone());
        let in_range = |id: &str| from.is_none_or(|f| id > f) && to.as_deref().is_none_or(|t| id <= t);
        // The stream the trail's signed head names is checked even with no event left.
        if let Some(h) = self.p.head.as_ref().filter(|h| in_range(&h.stream_id)) {
            add_stream(&mut self.p.pending, &h.stream_id);
        }
        // So is an anchored one (all its events deleted is a cut tail too).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        for a in &self.q.anchors {
            if self.q.stream_id.as_ref().is_none_or(|s| *s == a.stream_id) && in_range(&a.stream_id) {
                add_stream(&mut self.p.pending, &a.stream_id);
            }
        }
        self.next_page()
    }

    /// The next page's statement: of the stream in progress, or of the next pending stream.
    fn next_page(&mut self) -> Result<Step, AuditError> {
        if self.current.is_none() {
            if self.p.pending.is_empty() {
                // The next batch of the stream list, when the last one was full.
                if let Some(after) = &self.p.rest_after {
                    self.phase = Phase::Streams;
                    return Ok(Step::Run(super::stream_ids_query(self.cfg, self.q, Some(after))));
                }
                return self.streams_done();
            }
            let sid = self.p.pending.remove(0);
            let v = Verifier::new(&sid, self.q.since_ms().is_none()).in_trail(&self.cfg.trail);
            self.current = Some(match self.seals {
                Some(k) => v.with_seals(k, self.p.head.clone().filter(|h| h.stream_id == sid)),
                None => v,
            });
            self.p.after = None;
        }
        if PAGED && self.rows >= self.max_events {
            return self.streams_done();
        }
        let sid = self.current.as_ref().map(|v| v.stream_id().to_owned());
        // A window picks where each stream's check starts by time (its first event at or after
        // `since`), then reads on by `seq` whatever the times: a writer's clock is not monotonic
        // (a client's set back; the Worker's stream, where a request that lost the race for the
        // head is chained after one received later), so a window filtered by time throughout
        // would skip honest events and report them `deleted` (tests/chain.rs
        // `a_since_window_does_not_depend_on_the_clock_running_forward`).
        let start = self.p.after.is_none().then_some(self.q.since_ms()).flatten();
        let one = VerifyQuery { stream_id: sid, since: start, ..Default::default() };
        self.phase = Phase::Page;
        let mut q =
            verify_query(&self.cfg.labels, &self.cfg.trail, &one, self.p.after.as_ref(), true, None, start.is_some())?;
        // A window's start is one event; the pages after it, `page_limit` (a smaller page).
        if start.is_none() && self.page_limit < VERIFY_PAGE {
            if let Json::Obj(params) = &mut q.params {
                for (_, v) in params.iter_mut().filter(|(k, _)| k == "limit") {
                    *v = Json::from(self.page_limit);
                }
            }
        }
        Ok(Step::Run(q))
    }

    /// Events a full page holds.
    fn page_size(&self) -> u32 {
        self.page_limit
    }

    /// The statement again for a page half as long (at least two events: a page after a position
    /// reads that position again), when the page's answer was over the reader's bound (`e`;
    /// [`crate::transport::read_answer_bytes`]: 1000 events written with larger details than
    /// the reader's `max_details_bytes` allows for, or than 512 MiB holds); `None` otherwise.
    /// Before, such a trail failed every verification with "the server's answer is larger than
    /// …", for good: `verifyTrail` has no page size to lower. The smaller page stays for the rest
    /// of the run, and of a paged walk ([`VerifyProgress::page`]: the Worker's `GET /v1/verify`
    /// cursors; its bound,
    /// `transport::WORKER_MAX_ANSWER_BYTES`, failed every call on a page of 1000 events whose
    /// details average above ~16 KB with 503, for good).
    pub(crate) fn smaller_page(&mut self, e: &AuditError) -> Option<Query> {
        let start = self.q.since_ms().is_some() && self.p.after.is_none();
        if !matches!(self.phase, Phase::Page)
            || start
            || self.page_limit <= 2
            || !crate::transport::is_answer_too_large(e)
        {
            return None;
        }
        self.page_limit = (self.page_limit / 2).max(2);
        match self.next_page() {
            Ok(Step::Run(q)) => Some(q),
            _ => None,
        }
    }

    /// What the verifier may ask about: the seals of the page read, of the events it holds
    /// back from the last page, and the trail's head seal.
    #[inline(never)]
    pub(crate) fn seal_items(&self) -> Vec<(bool, &StoredSeal, &str, u64, &str)> {
        let mut items = Vec::new();
        let Some(v) = &self.current else { return items };
        let sid = v.stream_id();
        if let Some(h) = self.p.head.as_ref().filter(|h| h.stream_id == sid) {
            if let Some(s) = &h.seal {
                items.push((true, s, h.stream_id.as_str(), h.seq, h.hash.as_str()));
            }
        }
        for (e, s) in v.pending_seals().chain(self.page.iter().filter_map(|(e, s, ..)| s.as_ref().map(|s| (e, s)))) {
            items.push((false, s, sid, e.seq.unwrap_or(0), e.hash.as_deref().unwrap_or("")));
        }
        items
    }

    /// The page read into the verifier; the stream finished when it was its last.
    fn push_page(&mut self) {
        let Some(v) = self.current.as_mut() else { return };
        if let Some((ev, ..)) = self.page.last() {
            self.p.after = Some((v.stream_id().to_owned(), ev.seq.unwrap_or(0), ev.uid.clone()));
        }
        let before = std::mem::take(&mut self.before);
        self.read += self.page.len() as u64 - u64::from(before);
        for (ev, seal, edges, fields) in self.page.drain(..) {
            if let Some(f) = fields {
                v.fields_off(&ev.uid, &f);
            }
            if !edges {
                v.edges_off(&ev.uid);
            }
            v.push_sealed(ev, seal);
        }
        // The event before a `since` window (none in the Worker's build): not one of the
        // stream's `checked` either (it was: "4 events" above "3 events checked").
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if before {
            v.uncount_before();
        }
        if self.last_page {
            if let Some(done) = self.current.take() {
                let r = self.allow(done.finish());
                self.streams.push(r);
            }
        }
    }

    /// A finished stream's report with the options applied: `allowUnsigned`, the trail binding,
    /// `requireBound`.
    fn allow(&self, mut r: StreamReport) -> StreamReport {
        let q = self.q;
        let never_signed =
            r.signed_seq.is_none() && r.first_break.as_ref().is_some_and(|b| b.kind == BreakKind::Unsigned);
        if self.seals.is_some()
            && q.allow_unsigned
            && never_signed
            && self.p.head.as_ref().is_none_or(|h| h.stream_id != r.stream_id)
        {
            r.first_break = None;
            r.ok = true;
        }
        // Set here, not only by `in_trail`: a verifier resumed from a cursor starts unbound.
        r.bound = crate::chain::stream_trail_binding(&r.stream_id, &self.cfg.trail) == Some(true);
        if q.require_bound && !r.bound && r.first_break.is_none() {
            let message = "the stream's id carries no trail binding, and bound streams are required";
            r.first_break = Some(Break { kind: BreakKind::Unbound, seq: 0, uid: None, message: message.into() });
            r.ok = false;
        }
        r
    }

    /// Every stream read (or the page's events): the anchors, then the unchained events.
    fn streams_done(&mut self) -> Result<Step, AuditError> {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        return self.next_anchor(0);
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        self.anchors_done()
    }

    /// [`VerifyQuery::anchors`] from `i` on: each finished stream without a break must still
    /// hold its anchored event, with the anchored hash.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn next_anchor(&mut self, mut i: usize) -> Result<Step, AuditError> {
        while let Some(a) = self.anchor_at(i) {
            if let Some(r) = self.streams.iter().find(|r| r.stream_id == a.stream_id && r.first_break.is_none()) {
                match r.head_seq {
                    // The trail's signed head is looked up only where its stream was not read.
                    Some(_) if i >= self.q.anchors.len() => {}
                    // Intact, so exactly one event holds that seq. With `since`, a stream none of
                    // whose events is in the window was not read at all: its anchored event is
                    // looked up by itself (a quiet stream was reported `deleted` from seq 0, a
                    // false alarm on every stream with no new events since the anchor was kept).
                    Some(h) if h >= a.seq => {
                        self.phase = Phase::Anchor(i);
                        return Ok(Step::Run(super::anchor_query(self.cfg, &a)?));
                    }
                    None if self.q.since_ms().is_some() => {
                        self.phase = Phase::Anchor(i);
                        return Ok(Step::Run(super::anchor_query(self.cfg, &a)?));
                    }
                    h => {
                        let from = h.map_or(0, |h| h + 1);
                        let s = crate::error::num(a.seq);
                        let msg = crate::error::cat(&[
                            "seq ",
                            &crate::error::num(from),
                            "..",
                            &s,
                            " are missing: cut off the end (the anchored head names seq ",
                            &s,
                            ")",
                        ]);
                        self.anchor_break(i, BreakKind::Deleted, from, None, msg);
                    }
                }
            }
            i += 1;
        }
        self.anchors_done()
    }

    /// Anchor `i`: [`VerifyQuery::anchors`], then, in a `since` window, the trail's signed head
    /// (its stream may have no event in the window: then its head event is looked up as an
    /// anchor's is, instead of the stream being taken for empty).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn anchor_at(&self, i: usize) -> Option<super::Anchor> {
        match self.q.anchors.get(i) {
            Some(a) => Some(a.clone()),
            None if i == self.q.anchors.len() && self.q.since_ms().is_some() => self
                .p
                .head
                .as_ref()
                .map(|h| super::Anchor { stream_id: h.stream_id.clone(), seq: h.seq, hash: h.hash.clone() }),
            None => None,
        }
    }

    /// Anchor `i`'s stream broken.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn anchor_break(&mut self, i: usize, kind: BreakKind, seq: u64, uid: Option<String>, message: String) {
        let Some(a) = self.anchor_at(i) else { return };
        if let Some(r) = self.streams.iter_mut().find(|r| r.stream_id == a.stream_id && r.first_break.is_none()) {
            r.first_break = Some(Break { kind, seq, uid, message });
            r.ok = false;
        }
    }

    /// The totals; a paused page ends here, else the unchained events are counted.
    fn anchors_done(&mut self) -> Result<Step, AuditError> {
        self.p.checked += self.read;
        self.p.ok &= self.streams.iter().all(|s| s.ok);
        if PAGED && self.current.is_some() {
            self.phase = Phase::Done;
            return Ok(Step::Done);
        }
        self.phase = Phase::Unchained;
        Ok(Step::Run(unchained_query(&self.cfg.labels, &self.cfg.trail, self.q)))
    }

    /// The report, and where to continue (a paused page).
    #[inline(never)]
    pub(crate) fn finish(mut self) -> (VerifyReport, Option<VerifyProgress>) {
        let head = self.p.head.clone();
        if let Some(v) = self.current.take().filter(|_| PAGED) {
            let state = v.state();
            // `ok` covers every page so far: the stream in progress too, once it has a break
            // (the progress's own `ok` stays the finished streams', its break counted there).
            let ok = self.p.ok && state.first_break.is_none();
            self.p.current = Some(state);
            self.p.page = (self.page_limit < VERIFY_PAGE).then_some(self.page_limit);
            // The cursor names a few streams still to read, and where the list goes on.
            if self.p.pending.len() > CURSOR_STREAMS {
                self.p.pending.truncate(CURSOR_STREAMS);
                self.p.rest_after = self.p.pending.last().cloned();
            }
            let report = VerifyReport {
                ok,
                checked: self.p.checked,
                streams: self.streams,
                unchained: 0,
                unchained_uids: Vec::new(),
                signed_head: head,
            };
            return (report, Some(self.p));
        }
        let report = VerifyReport {
            ok: self.p.ok && self.unchained == 0,
            checked: self.p.checked,
            streams: self.streams,
            unchained: self.unchained,
            unchained_uids: self.unchained_uids,
            signed_head: head,
        };
        (report, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(s: &Step) -> Option<u64> {
        let Step::Run(q) = s else { return None };
        let Json::Obj(params) = &q.params else { return None };
        params.iter().find(|(k, _)| k == "limit").and_then(|(_, v)| v.as_u64())
    }

    /// A page's rows as [`super::super::verify_query`] returns them (only what the reading needs).
    fn rows(stream: &str, seqs: std::ops::Range<u64>) -> JsonRows {
        seqs.map(|i| {
            let mut r = vec![Json::Null; 20];
            r[0] = Json::from(format!("u-{i}"));
            r[3] = Json::from(1_700_000_000_000i64 + i as i64);
            r[7] = Json::from(stream);
            r[8] = Json::from(i);
            r
        })
        .collect()
    }

    /// A paged walk whose page had to be read smaller goes on with that smaller page when it is
    /// resumed (the Worker's `GET /v1/verify` cursor): before, every call began at 1000 events
    /// again and read its over-large answers down again (up to 32 MiB each, nine times).
    #[test]
    fn a_resumed_walk_keeps_the_smaller_page() {
        let cfg = Config::new("http://127.0.0.1:7474");
        let q = VerifyQuery::default();
        let too_large = AuditError::Network("the server's answer is larger than 33554432 bytes, left unread".into());
        let mut run = VerifyRun::<true>::new(&cfg, &q, None, None, 1);
        // Without keys: the stream list first, then the stream's first page, of 1000.
        assert!(matches!(run.step(Vec::new()).unwrap(), Step::Run(_)));
        let first = run.step(vec![vec![Json::from("s-1")]]).unwrap();
        assert_eq!(limit(&first), Some(1000));
        let mut smaller = run.smaller_page(&too_large).map(Step::Run).unwrap();
        assert_eq!(limit(&smaller), Some(500));
        smaller = run.smaller_page(&too_large).map(Step::Run).unwrap();
        assert_eq!(limit(&smaller), Some(250));
        // A full page of 250: the budget (1 event) is spent, the walk pauses.
        assert!(matches!(run.step(rows("s-1", 0..250)).unwrap(), Step::Done));
        let (report, progress) = run.finish();
        assert_eq!(report.checked, 250);
        let progress = progress.expect("paused in the stream");
        // Resumed (as from a cursor, through its JSON): the next page is of 250, not 1000.
        let mut json = String::new();
        progress.write_json(&mut json);
        let progress = VerifyProgress::from_json(&crate::json::parse(&json, 16).unwrap()).unwrap();
        let mut run = VerifyRun::<true>::new(&cfg, &q, None, Some(progress), 10_000);
        let next = run.step(Vec::new()).unwrap();
        assert_eq!(limit(&next), Some(250), "{json}");
        // A progress without a smaller page (a cursor of before) reads pages of 1000.
        let json = json.replace(",\"page\":250", "");
        let progress = VerifyProgress::from_json(&crate::json::parse(&json, 16).unwrap()).unwrap();
        let mut run = VerifyRun::<true>::new(&cfg, &q, None, Some(progress), 10_000);
        assert_eq!(limit(&run.step(Vec::new()).unwrap()), Some(1000));
    }

    fn event_row(e: &AuditEvent) -> Vec<Json> {
        let s = |v: &Option<String>| v.as_deref().map_or(Json::Null, Json::from);
        let mut r = vec![Json::Null; 20];
        r[0] = Json::from(e.uid.as_str());
        r[1] = Json::from(e.action_type.as_str());
        r[2] = Json::from(e.category.as_str());
        r[3] = Json::from(e.ts);
        r[4] = s(&e.user_uid);
        r[5] = s(&e.user_name);
        r[6] = s(&e.details);
        r[7] = s(&e.stream_id);
        r[8] = e.seq.map_or(Json::Null, Json::from);
        r[9] = s(&e.prev_hash);
        r[10] = s(&e.hash);
        r[11] = Json::from("client");
        r[12] = e.occurred_at.map_or(Json::Null, Json::from);
        r
    }

    /// Pauses a walk (pages of 2) after the first two of three chained events with 60 KB of
    /// details each, resumes it from the progress's JSON (a `GET /v1/verify` cursor's), and
    /// reads it to the end; `edit` changes the held-back event's details first.
    fn walk_paused_on_large_details(edit: bool) -> (usize, VerifyReport) {
        let cfg = Config::new("http://127.0.0.1:7474");
        let q = VerifyQuery::default();
        let chain = crate::chain::Chain::new_stream();
        let details = serde_json::json!({"blob": "x".repeat(60_000)});
        let events: Vec<AuditEvent> = (0..3)
            .map(|_| {
                let mut e = AuditEvent::build(None, "EXPORT", None, Some(&details), 65_536).unwrap();
                chain.seal(&mut e);
                e
            })
            .collect();
        let sid = events[0].stream_id.clone().unwrap();
        let too_large = AuditError::Network("the server's answer is larger than 33554432 bytes, left unread".into());
        let mut run = VerifyRun::<true>::new(&cfg, &q, None, None, 2);
        run.step(Vec::new()).unwrap();
        run.step(vec![vec![Json::from(sid.as_str())]]).unwrap();
        while run.smaller_page(&too_large).is_some() {}
        let mut page: JsonRows = events[..2].iter().map(event_row).collect();
        if edit {
            page[1][6] = Json::from(r#"{"blob":"edited"}"#);
        }
        assert!(matches!(run.step(page).unwrap(), Step::Done));
        let (_, progress) = run.finish();
        let mut json = String::new();
        progress.unwrap().write_json(&mut json);
        let progress = VerifyProgress::from_json(&crate::json::parse(&json, 16).unwrap()).unwrap();
        let mut run = VerifyRun::<true>::new(&cfg, &q, None, Some(progress), 10_000);
        let mut pages = vec![events[1..].iter().map(event_row).collect::<JsonRows>(), vec![event_row(&events[2])]];
        if edit {
            pages[0][0][6] = Json::from(r#"{"blob":"edited"}"#);
        }
        let mut pages = pages.into_iter();
        let mut rows = Vec::new();
        while let Step::Run(_) = run.step(rows).unwrap() {
            rows = pages.next().unwrap_or_default();
        }
        (json.len(), run.finish().0)
    }

    /// A paused walk's progress named every stream still to read: on a trail of more than ~150
    /// streams a `GET /v1/verify` cursor was over the 16 KB a URL may have, and the walk could
    /// not go on. It now names at most [`CURSOR_STREAMS`] and where the list goes on, read from
    /// Neo4j again (a batch of ids at a time): 1 200 streams walked over many calls, each once.
    #[test]
    fn a_paused_walk_names_few_streams_and_reads_the_rest_again() {
        let cfg = Config::new("http://127.0.0.1:7474");
        let q = VerifyQuery::default();
        // Stream ids as long as real ones (a UUID and a hash: ~70 characters), in order.
        let all: Vec<String> = (0..1200).map(|i| format!("{i:05}.{}", "f".repeat(64))).collect();
        let param = |st: &Query, k: &str| {
            let Json::Obj(params) = &st.params else { return None };
            params.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let (mut walked, mut id_queries, mut calls) = (Vec::new(), 0, 0);
        let mut progress = None;
        let last = loop {
            calls += 1;
            let mut run = VerifyRun::<true>::new(&cfg, &q, None, progress.take(), 100);
            let mut answer = Vec::new();
            while let Step::Run(st) = run.step(answer).unwrap() {
                answer = if st.text.contains("RETURN DISTINCT ev.streamId") {
                    id_queries += 1;
                    let after = param(&st, "after");
                    let ids = all.iter().filter(|s| after.as_ref().is_none_or(|a| *s > a));
                    ids.take(1000).map(|s| vec![Json::from(s.as_str())]).collect()
                } else if let Some(sid) = param(&st, "streamId") {
                    rows(&sid, 0..1)
                } else {
                    Vec::new()
                };
            }
            let (report, next) = run.finish();
            walked.extend(report.streams.iter().map(|r| r.stream_id.clone()));
            let Some(p) = next else { break report };
            assert!(p.pending.len() <= CURSOR_STREAMS, "{} streams named", p.pending.len());
            let mut json = String::new();
            p.write_json(&mut json);
            // base64url of the JSON and a 43-character MAC: within 16 KB with room for the URL.
            assert!(json.len() * 4 / 3 + 44 < 8 * 1024, "call {calls}: the cursor's JSON is {} bytes", json.len());
            progress = Some(VerifyProgress::from_json(&crate::json::parse(&json, 16).unwrap()).unwrap());
        };
        assert_eq!(last.checked, 1200);
        let mut sorted = walked.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((walked.len(), sorted.len()), (1200, 1200), "each stream once");
        assert_eq!(sorted, all);
        assert!(calls > 10 && id_queries >= 2, "{calls} calls, {id_queries} reads of the stream list");
    }

    /// The event a paused walk holds back (to tell an inserted copy of it from the genuine one)
    /// went into the progress whole, details and all: a `GET /v1/verify` cursor after an event
    /// with more than ~11 KB of details was over the 16 KB that Cloudflare allows a URL, so such
    /// a walk could not go on. Its hash is checked when the walk pauses and its details left out.
    #[test]
    fn a_paused_walk_holds_back_no_details_it_already_checked() {
        let (len, report) = walk_paused_on_large_details(false);
        // base64url of the JSON and a 43-character MAC: within 16 KB with room for the URL.
        assert!(len * 4 / 3 + 44 < 12 * 1024, "the cursor's JSON is {len} bytes");
        assert!(report.ok, "{report:?}");
        assert_eq!((report.checked, report.streams.len()), (3, 1));
        // A held-back event whose hash fails keeps its details, and is reported where it was.
        let (len, report) = walk_paused_on_large_details(true);
        assert!(len < 12 * 1024, "{len}");
        let b = report.streams[0].first_break.as_ref().expect("a break");
        assert_eq!((b.kind, b.seq), (BreakKind::Edited, 1), "{b:?}");
        assert!(!report.ok);
    }
}
