//! The Neo4j sink: the `Authorization` header, the schema-once step, the one `UNWIND $events`
//! statement per batch and reading Neo4j's answer. Direct mode (`url` + credentials).

use crate::error::cat;
use std::borrow::Borrow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::config::{Api, Config, Labels};
use crate::cypher::{self, Statement};
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::json::{write_str, Json};
use crate::outcome::{self, JsonRows, Rows, FORBIDDEN};
use crate::transport::{HttpRequest, Transport};

/// Writes batches into Neo4j over its HTTP API.
#[derive(Debug)]
pub(crate) struct Neo4jSink {
    transport: Transport,
    /// The `Authorization` value, and what messages must never quote (the password or token).
    auth: super::Auth,
    base_url: String,
    /// The write statement's text as a JSON string, made and escaped once (labels are validated
    /// with the configuration; empty if they are not): every batch's body starts with it.
    write_text: String,
    api: Api,
    database: String,
    labels: Labels,
    trail: String,
    /// The UID `trail` gets if a write of this sink creates its node (`ON CREATE` only), drawn
    /// once: a UUID per request body was a per-event cost for unbatched calls.
    trail_uid: String,
    timeout_ms: u64,
    /// The schema step is done (or known to be needless): set by the delivery machine's schema
    /// step and by a first write whose guard found the schema in place
    /// ([`cypher::SCHEMA_GUARD`]). Read without waiting, so that concurrent first writes each
    /// carry the guard instead of queueing behind a separate check.
    schema_known: AtomicBool,
    schema_warning: Mutex<Option<String>>,
    /// The bound on a read's answer ([`crate::transport::read_answer_bytes`] of the config's
    /// `max_details_bytes`); every other answer's is [`crate::transport::MAX_ANSWER_BYTES`].
    #[cfg(any(feature = "read", feature = "ingest"))]
    read_max: crate::transport::Bound,
}

/// Extra runs of one schema statement that Neo4j refused with a transient error.
const SCHEMA_ATTEMPTS: u32 = 8;

/// How many distinct UIDs `events` hold (a batch holds each event once, but a re-sent event may
/// come twice): one pass over a set of indices by UID hash (open addressing, at most half
/// full). A sort of the UIDs (heapsort: std is built for size) was 2 % of a call's CPU in
/// bench/cpu_full.mjs at 1000 events per batch.
fn distinct_uids<E: Borrow<AuditEvent>>(events: &[E]) -> usize {
    let n = (events.len() * 2).next_power_of_two();
    let mask = n - 1;
    let mut slots = vec![usize::MAX; n];
    let mut count = 0;
    for (k, e) in events.iter().enumerate() {
        let uid = e.borrow().uid.as_str();
        let mut i = crate::uidmap::hash(uid) as usize & mask;
        loop {
            match slots[i] {
                usize::MAX => {
                    slots[i] = k;
                    count += 1;
                    break;
                }
                j if events[j].borrow().uid == uid => break,
                _ => i = (i + 1) & mask,
            }
        }
    }
    count
}

impl Neo4jSink {
    pub(crate) fn new(config: &Config, auth: super::Auth) -> Self {
        Neo4jSink {
            transport: Transport::for_url(config.base_url()),
            auth,
            base_url: config.base_url().to_owned(),
            write_text: cypher::write_events_text(&config.labels)
                .map(|t| cypher::json_string(&cypher::sent_write_text(&t, false)))
                .unwrap_or_default(),
            api: config.api,
            database: config.database.clone(),
            labels: config.labels.clone(),
            trail: config.trail.clone(),
            trail_uid: crate::random::uuid_v4(),
            timeout_ms: config.timeout_ms,
            schema_known: AtomicBool::new(false),
            schema_warning: Mutex::new(None),
            #[cfg(any(feature = "read", feature = "ingest"))]
            read_max: crate::transport::read_bound(config.max_details_bytes),
        }
    }

    /// Writes already-built events in one statement and one transaction into `trail` (the
    /// ingest Worker's per-tenant trails), with the schema check in the same transaction when
    /// `guard` ([`cypher::SCHEMA_GUARD`]; a write whose guard passes marks the schema known).
    /// Refused by the guard ([`guard_refused`]), nothing was written: the caller runs the schema step (the
    /// delivery machine's, [`crate::AuditLogger`]'s `write_once`) and the same write unguarded.
    /// Writing an event that is already stored (same UID) changes nothing, so a retry never
    /// duplicates.
    pub(crate) async fn write_to<E: Borrow<AuditEvent>>(
        &self,
        trail: &str,
        events: &[E],
        guard: bool,
    ) -> Result<(), AuditError> {
        let req = self
            .write_request_guarded(trail, events, guard)
            .ok_or_else(|| AuditError::InvalidConfig("labels are not identifiers".into()))?;
        let rows = self.post(req, crate::transport::WRITE_BOUND).await?;
        if guard {
            self.schema_known.store(true, Ordering::Relaxed);
        }
        write_outcome(&rows, events)
    }

    /// Runs one parameterised statement and returns its rows.
    pub(crate) async fn run(&self, st: &Statement) -> Result<Rows, AuditError> {
        let (path, body) = cypher::request_body(self.api, &self.database, st);
        self.post(self.request(&path, body.to_string()), crate::transport::WRITE_BOUND).await.map(outcome::to_rows)
    }

    /// Runs one statement with parameters in the crate's own JSON tree (an object) and returns
    /// its rows as such (the read side: no `serde_json` in the browser).
    #[cfg(feature = "read")]
    pub(crate) async fn run_json(&self, text: &str, params: &Json) -> Result<JsonRows, AuditError> {
        self.run_text(text, |o| params.write(o)).await
    }

    /// Runs a statement whose parameters `params` writes (the read side's and the Worker's), its
    /// answer bounded as a read's (`read_max`: pages of up to 1000 events).
    #[cfg(any(feature = "read", feature = "ingest"))]
    #[cfg_attr(all(target_arch = "wasm32", feature = "worker"), allow(clippy::unit_arg))]
    pub(crate) async fn run_text(&self, text: &str, params: impl FnOnce(&mut String)) -> Result<JsonRows, AuditError> {
        self.post(self.text_request(text, params), self.read_max).await
    }

    async fn post(&self, req: HttpRequest, max: crate::transport::Bound) -> Result<JsonRows, AuditError> {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        let resp = self.transport.post_within(&req, self.timeout_ms, max).await?;
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        let resp = {
            let () = max;
            self.transport.post(&req, self.timeout_ms).await?
        };
        self.answer(&resp)
    }

    /// Neo4j's answer to any request of this sink, as rows or the typed failure.
    pub(crate) fn answer(&self, resp: &crate::transport::HttpResponse) -> Result<JsonRows, AuditError> {
        // A path after the host (`https://proxy/neo4j`: a third '/' in the validated URL) is what
        // a 404 blames; without one, the server on that port. The Worker's build, at its size
        // budget, blames the path either way.
        #[cfg(not(all(feature = "worker", target_arch = "wasm32")))]
        let url_path = self.base_url.bytes().filter(|&b| b == b'/').count() > 2;
        #[cfg(all(feature = "worker", target_arch = "wasm32"))]
        let url_path = true;
        outcome::interpret_json(self.api, &self.database, resp, url_path)
    }

    /// The request running `text` with the parameters object `params` writes.
    pub(crate) fn text_request(&self, text: &str, params: impl FnOnce(&mut String)) -> HttpRequest {
        let body = cypher::statement_body(self.api, text, 64, params);
        self.request(&cypher::endpoint_path(self.api, &self.database), body)
    }

    /// With the transactional API and more than one schema text: the request creating every
    /// constraint and index in one transaction (all texts but the last, the wait for them to be
    /// online, which needs a request of its own); an answer Neo4j refuses ([`is_refusal`])
    /// means one statement at a time from the first, any other answer from the last.
    pub(crate) fn create_all_request(&self, texts: &[String]) -> Option<HttpRequest> {
        if self.api != Api::Tx || texts.len() < 2 {
            return None;
        }
        let (create, wait) = texts.split_at(texts.len() - 1);
        let mut body = String::from("{\"statements\":[");
        for (i, t) in create.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str("{\"statement\":");
            write_str(&mut body, t);
            body.push_str(",\"parameters\":{}}");
        }
        body.push_str("]}");
        debug_assert!(wait.iter().all(|t| t.starts_with(cypher::AWAIT_OWN)));
        Some(self.request(&cypher::endpoint_path(self.api, &self.database), body))
    }

    /// The request asking whether the schema is in place, and how many names it counts.
    pub(crate) fn schema_check_request(&self) -> Result<(HttpRequest, usize), AuditError> {
        let (text, names) = cypher::schema_check(&self.labels)?;
        let params = |o: &mut String| {
            o.push_str("{\"names\":");
            crate::json::write_str_array(o, &names);
            o.push('}');
        };
        Ok((self.text_request(text, params), names.len()))
    }

    /// The schema statements, in order ([`cypher::schema_texts`] for this sink's labels).
    pub(crate) fn schema_texts(&self) -> Result<Vec<String>, AuditError> {
        cypher::schema_texts(&self.labels)
    }

    pub(crate) fn warn_schema(&self, e: &AuditError) {
        let secrets = self.auth.secrets();
        let secrets = crate::error::refs(&secrets);
        // Stored data that breaks a uniqueness constraint is not a question of rights: two trail
        // nodes with one name (the Python log_user_action's racing first calls made them), whose
        // events the write then links to both.
        let dup =
            matches!(e, AuditError::Neo4j { code, .. } if code == "Neo.DatabaseError.Schema.ConstraintCreationFailed");
        let msg = cat(&[
            "schema not ensured (",
            &e.reason(&secrets),
            if dup {
                "); writes go on without the uniqueness constraints and indexes \
                 (stored nodes break one: merge the duplicates, see docs/migrating.md, then run ensureSchema)"
            } else if blocks_constraint(e) {
                "); writes go on without it (drop the plain index it names, then run ensureSchema)"
            } else {
                "); writes go on without the uniqueness constraints and indexes \
                 (run ensureSchema with a user that has schema rights, once)"
            },
        ]);
        #[cfg(target_arch = "wasm32")]
        web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(&cat(&["neo4j-audit: ", &msg])));
        if let Ok(mut g) = self.schema_warning.lock() {
            *g = Some(msg);
        }
    }

    pub(crate) fn schema_warning(&self) -> Option<String> {
        self.schema_warning.lock().ok().and_then(|g| g.clone())
    }

    fn request(&self, path: &str, body: String) -> HttpRequest {
        // X-Ajax-Browser-Auth stops browsers from showing a login dialog on 401.
        let url = cat(&[&self.base_url, path]);
        self.auth.with(|auth| super::json_post(url, Some(("X-Ajax-Browser-Auth", "true")), auth, body))
    }

    pub(crate) fn auth(&self) -> &super::Auth {
        &self.auth
    }

    /// The request that writes `events` (the same statement as [`Neo4jSink::write_to`]), for a
    /// fire-and-forget send such as `fetch(..., {keepalive: true})` on page hide.
    pub(crate) fn write_request<E: Borrow<AuditEvent>>(&self, events: &[E]) -> Option<HttpRequest> {
        self.write_request_to(&self.trail, events)
    }

    /// Whether the schema is known to be in place (writes then carry no guard).
    pub(crate) fn schema_is_known(&self) -> bool {
        self.schema_known.load(Ordering::Relaxed)
    }

    /// The schema is known to be in place from now on.
    pub(crate) fn set_schema_known(&self) {
        self.schema_known.store(true, Ordering::Relaxed);
    }

    /// This sink's HTTP client (the Rust API's driver and the schema step alone send with it).
    /// Sends with `t` instead (a client that trusts a private CA).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn set_transport(&mut self, t: Transport) {
        self.transport = t;
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The configured trail.
    pub(crate) fn trail(&self) -> &str {
        &self.trail
    }

    fn write_request_to<E: Borrow<AuditEvent>>(&self, trail: &str, events: &[E]) -> Option<HttpRequest> {
        self.write_request_guarded(trail, events, false)
    }

    /// [`Neo4jSink::write_request_to`], with `guard`: the statement starts with the schema check
    /// ([`cypher::SCHEMA_GUARD`]).
    pub(crate) fn write_request_guarded<E: Borrow<AuditEvent>>(
        &self,
        trail: &str,
        events: &[E],
        guard: bool,
    ) -> Option<HttpRequest> {
        let body = self.write_body_to(trail, events, guard)?;
        Some(self.request(&cypher::endpoint_path(self.api, &self.database), body))
    }

    /// The body of [`Neo4jSink::write_request`] alone (the benchmarks compare the body's cost
    /// with a JavaScript equivalent that forms no URL or headers per event).
    #[cfg(all(target_arch = "wasm32", feature = "bench", not(feature = "worker")))]
    pub(crate) fn write_body<E: Borrow<AuditEvent>>(&self, events: &[E]) -> Option<String> {
        self.write_body_to(&self.trail, events, false)
    }

    fn write_body_to<E: Borrow<AuditEvent>>(&self, trail: &str, events: &[E], guard: bool) -> Option<String> {
        if events.is_empty() || self.write_text.is_empty() {
            return None;
        }
        // A batch without targets (the usual case) uses the text made and escaped once.
        // Another trail (the ingest Worker's per-tenant trails) gets a UID of its own.
        let other;
        let trail_uid = if trail == self.trail {
            &self.trail_uid
        } else {
            other = crate::random::uuid_v4();
            &other
        };
        let labels = cypher::target_labels(events);
        if labels.is_empty() && !guard {
            return Some(cypher::write_body(self.api, &self.write_text, trail, trail_uid, &[], events));
        }
        // With targets the text gains one subquery per distinct target label of the batch; a
        // guarded first write puts the schema check in front.
        let text = cypher::write_events_text_with_targets(&self.labels, &labels).ok()?;
        let text = cypher::json_string(&cypher::sent_write_text(&text, guard));
        if guard {
            return Some(cypher::write_body(
                self.api,
                &text,
                trail,
                trail_uid,
                &cypher::schema_names(&self.labels),
                events,
            ));
        }
        Some(cypher::write_body(self.api, &text, trail, trail_uid, &[], events))
    }
}

/// Neo4j refused a statement (any of its errors, or a role that may not run it): the schema
/// step's transaction of every statement then goes one statement at a time, and the ingest
/// Worker's guarded chain read runs the schema step. Network failures, timeouts and credentials
/// Neo4j refuses are not.
pub(crate) fn is_refusal(e: &AuditError) -> bool {
    match e {
        AuditError::Neo4j { .. } => true,
        AuditError::Unauthorized { code: Some(c), .. } => c.starts_with(FORBIDDEN),
        _ => false,
    }
}

/// A guarded first write's failure that the schema step can explain, after which it runs and
/// the same write goes again without the guard: Neo4j refused the guard itself — an index
/// missing (`Neo.ClientError.Schema.IndexNotFound`), still populating
/// (`Neo.ClientError.Procedure.ProcedureTimedOut`) or failed
/// (`Neo.DatabaseError.Schema.IndexCreationFailed`), no such procedure — or the role may not run
/// the guard's procedure (`Forbidden`, "Executing procedure is not allowed ..."). Nothing else
/// runs the step: a role that may not write (`Forbidden` naming the write), a statement Neo4j
/// refuses (a syntax error), a transient error (a deadlock) or a uniqueness constraint's lost
/// race are the write's own failure, reported or retried as any write's, each attempt one
/// request (the step ran for every Neo4j error: 3 requests for one the step could not fix, and
/// a deadlock's re-send came on top of `maxAttempts`).
pub(crate) fn guard_refused(e: &AuditError) -> bool {
    match e {
        AuditError::Neo4j { code, .. } => {
            !e.is_retryable()
                && (code.starts_with("Neo.ClientError.Schema.")
                    || code.starts_with("Neo.ClientError.Procedure.")
                    || code.starts_with("Neo.DatabaseError.Schema."))
        }
        AuditError::Unauthorized { code: Some(c), .. } => procedure_forbidden(c),
        _ => false,
    }
}

/// Whether a `Security` error's text (`outcome::security`) is the refusal of a procedure
/// (the guard's `db.awaitIndex`) rather than of the write. The Worker's build keeps no message
/// (its size budget): there any `Forbidden` still runs the schema step, as before.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn procedure_forbidden(c: &str) -> bool {
    c.strip_prefix(FORBIDDEN).is_some_and(|m| m.starts_with(": Executing procedure"))
}
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
fn procedure_forbidden(c: &str) -> bool {
    c.starts_with(FORBIDDEN)
}

/// Neo4j's rows for a write of `events`: `Ok` when they count every distinct event written.
pub(crate) fn write_outcome<E: Borrow<AuditEvent>>(rows: &JsonRows, events: &[E]) -> Result<(), AuditError> {
    // One event is one UID (and distinct_uids, never called, is never compiled: a Worker's
    // first event is usually alone).
    let distinct = if events.len() == 1 { 1 } else { distinct_uids(events) };
    // `refused`: UIDs stored with other content, nothing of them linked (cypher::SAME_EVENT).
    if let Some(uids) = rows.first().and_then(|r| r.get(1)).and_then(Json::as_array).filter(|a| !a.is_empty()) {
        return Err(refused_uids(uids));
    }
    let written = first_count(rows);
    if written != Some(distinct as u64) {
        return Err(count_mismatch(distinct, written));
    }
    Ok(())
}

/// The answer to the schema check ([`Neo4jSink::schema_check_request`], `n` names): whether
/// every constraint and index is in place and ONLINE. A statement Neo4j refuses (no privilege
/// to list indexes, an old server) is "not known to be": creation decides. A failure that would
/// stop the write anyway (network, credentials) is returned as is.
pub(crate) fn in_place(res: Result<JsonRows, AuditError>, n: usize) -> Result<bool, AuditError> {
    match res {
        Ok(rows) => Ok(first_count(&rows) == Some(n as u64)),
        Err(AuditError::Neo4j { .. }) => Ok(false),
        Err(e @ AuditError::Unauthorized { .. }) if !matches!(&e, AuditError::Unauthorized { code: Some(c), .. } if c.starts_with(FORBIDDEN)) => {
            Err(e)
        }
        Err(AuditError::Unauthorized { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A schema statement's failure that counts as done: an equivalent index or a constraint the
/// application made on the same property. Not [`blocks_constraint`]'s.
pub(crate) fn schema_statement_done(e: &AuditError) -> bool {
    matches!(e, AuditError::Neo4j { code, .. } if code.starts_with("Neo.ClientError.Schema.")) && !blocks_constraint(e)
}

/// Neo4j's refusal of a uniqueness constraint beside a plain (non-unique) index on the same
/// property (one an operator or an older tool made): the constraint was not made, so there is no
/// uniqueness. It once counted as done, and writes went on without the constraint, unsaid.
pub(crate) fn blocks_constraint(e: &AuditError) -> bool {
    matches!(e, AuditError::Neo4j { code, .. } if code == INDEX_BLOCKS)
}

const INDEX_BLOCKS: &str = "Neo.ClientError.Schema.IndexAlreadyExists";

/// After `attempt` extra runs of a schema statement that failed with `e`: the pause before
/// running it again, or `None`. Processes creating the schema at once lock the same labels:
/// Neo4j answers one of them `DeadlockDetected` (transient). The statements are idempotent, so
/// the step runs this one again after a short random pause rather than failing.
pub(crate) fn schema_statement_failed(e: &AuditError, attempt: u32) -> Option<u64> {
    (matches!(e, AuditError::Neo4j { .. }) && e.is_retryable() && attempt < SCHEMA_ATTEMPTS)
        .then(|| 25 * u64::from(attempt + 1) + crate::retry::random_below(50))
}

/// A schema step failure that is not fatal: Neo4j refused the statements for good, or a role
/// without schema rights (authenticated, just not allowed to create indexes). Writes go on
/// without the constraints, with a warning.
pub(crate) fn schema_refused(e: &AuditError) -> bool {
    match e {
        AuditError::Neo4j { .. } => !e.is_retryable(),
        AuditError::Unauthorized { code: Some(c), .. } => c.starts_with(FORBIDDEN),
        _ => false,
    }
}

/// A write whose answer counts other than the events sent (out of line: the usual write never
/// runs it, and V8 compiles a wasm function whole on its first call).
#[cold]
#[inline(never)]
fn count_mismatch(distinct: usize, written: Option<u64>) -> AuditError {
    let (want, got) = (crate::error::num(distinct as u64), crate::error::count_text(written));
    AuditError::UnexpectedResponse(cat(&["expected ", &want, " events written, Neo4j reported ", &got]))
}

/// The write's refusal of events whose UIDs are stored with other content (out of line, as
/// [`count_mismatch`]): a rejection ([`AuditError::is_rejection`]), so a logger's batch is split
/// until each such event fails alone (and, with a durable queue, becomes a dead letter).
#[cold]
#[inline(never)]
fn refused_uids(uids: &[Json]) -> AuditError {
    let mut names = Vec::new();
    for u in uids.iter().take(3) {
        names.push(crate::error::quoted(u.as_str().unwrap_or("?")));
    }
    let more = if uids.len() > 3 {
        cat(&[" and ", &crate::error::num(uids.len() as u64 - 3), " more"])
    } else {
        String::new()
    };
    AuditError::InvalidInput(cat(&[
        "event UID ",
        &crate::error::join(&names, ", "),
        &more,
        " already stored with other content (another user, trail, hash or targets): not written, nothing linked",
    ]))
}

/// The first column of the first row as a count.
fn first_count(rows: &JsonRows) -> Option<u64> {
    rows.first().and_then(|r| r.first()).and_then(Json::as_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_uids_counts_each_uid_once() {
        let ev = |uid: &str| {
            let mut e = AuditEvent::build(None, "X", None, None, 1024).unwrap();
            e.uid = uid.to_owned();
            e
        };
        assert_eq!(distinct_uids::<AuditEvent>(&[]), 0);
        let uids: Vec<String> = (0..300).map(|i| format!("uid-{}", i % 170)).collect();
        let events: Vec<AuditEvent> = uids.iter().map(|u| ev(u)).collect();
        assert_eq!(distinct_uids(&events), 170);
        let fresh: Vec<AuditEvent> =
            (0..1000).map(|_| AuditEvent::build(None, "X", None, None, 1024).unwrap()).collect();
        assert_eq!(distinct_uids(&fresh), 1000);
        assert_eq!(distinct_uids(&[ev("a"), ev("a")]), 1);
    }

    /// The write's answer: `written` must count every distinct event, and any `refused` UID
    /// (stored with other content) fails the write as a rejection naming it.
    #[test]
    fn refused_uids_fail_the_write_as_a_rejection_naming_them() {
        let row = |t: &str| vec![crate::json::parse(t, 8).unwrap().as_array().unwrap().to_vec()];
        let e = AuditEvent::build(None, "X", None, None, 1024).unwrap();
        assert_eq!(write_outcome(&row("[1, []]"), &[&e]), Ok(()));
        assert_eq!(write_outcome(&row("[1]"), &[&e]), Ok(()), "an answer without the column");
        assert!(matches!(write_outcome(&row("[0, []]"), &[&e]), Err(AuditError::UnexpectedResponse(_))));
        let err = write_outcome(&row(r#"[0, ["u-1"]]"#), &[&e]).unwrap_err();
        assert!(err.is_rejection() && !err.is_retryable(), "{err:?}");
        assert!(err.to_string().contains("\"u-1\" already stored with other content"), "{err}");
        let many = write_outcome(&row(r#"[1, ["a", "b", "c", "d", "e"]]"#), &[&e]).unwrap_err().to_string();
        assert!(many.contains("\"c\" and 2 more already stored") && !many.contains("\"d\""), "{many}");
    }

    /// Every write the sink sends (the usual one, one with targets, a logger's guarded first
    /// write) asks Neo4j to keep its plan ([`cypher::PLAN_ONCE`], in front of the guard), so
    /// that statistics drifting as the trail grows never make an awaited call wait for a new
    /// plan; the text after it is the write statement itself (tests/plan.rs: what Neo4j plans).
    #[test]
    fn every_write_keeps_its_plan() {
        let cfg = Config { trail: "t".into(), ..Config::new("http://127.0.0.1:7474") };
        let sink = Neo4jSink::new(&cfg, super::super::Auth::new(None, Vec::new()));
        let plain = [AuditEvent::build(None, "X", None, None, 1024).unwrap()];
        let mut targeted = AuditEvent::build(None, "X", None, None, 1024).unwrap();
        targeted.set_targets(vec![crate::event::Target::new("Document", "d1")]).unwrap();
        let text = |events: &[AuditEvent], guard: bool| {
            let body: serde_json::Value =
                serde_json::from_str(&sink.write_body_to("t", events, guard).unwrap()).unwrap();
            body["statements"][0]["statement"].as_str().unwrap().to_owned()
        };
        let write = cypher::write_events_text(&cfg.labels).unwrap();
        assert_eq!(text(&plain, false), format!("{}{write}", cypher::PLAN_ONCE));
        assert_eq!(text(&plain, true), format!("{}{}{write}", cypher::PLAN_ONCE, cypher::SCHEMA_GUARD));
        let with_targets = cypher::write_events_text_with_targets(&cfg.labels, &["Document"]).unwrap();
        assert_eq!(text(std::slice::from_ref(&targeted), false), format!("{}{with_targets}", cypher::PLAN_ONCE));
        assert_eq!(cypher::PLAN_ONCE, "CYPHER replan=skip ");
    }

    /// The trail's UID (used only if a write creates the trail node) is drawn once per sink for
    /// its own trail; another trail (the Worker's tenants) never shares it.
    #[test]
    fn a_sink_offers_one_trail_uid_per_trail() {
        let cfg = Config { trail: "t".into(), ..Config::new("http://127.0.0.1:7474") };
        let sink = Neo4jSink::new(&cfg, super::super::Auth::new(None, Vec::new()));
        let e = [AuditEvent::build(None, "X", None, None, 1024).unwrap()];
        let uid = |trail: &str| {
            let body: serde_json::Value = serde_json::from_str(&sink.write_body_to(trail, &e, false).unwrap()).unwrap();
            body["statements"][0]["parameters"]["trailUid"].as_str().unwrap().to_owned()
        };
        let own = uid("t");
        assert!(crate::random::is_hyphenated(&own), "{own}");
        assert_eq!(uid("t"), own, "the same UID for every write of the sink's trail");
        let (a, b) = (uid("tenant-a"), uid("tenant-a"));
        assert!(a != own && b != own && crate::random::is_hyphenated(&a), "another trail gets a UID of its own");
        assert_ne!(
            Neo4jSink::new(&cfg, super::super::Auth::new(None, Vec::new())).trail_uid,
            own,
            "each sink draws its own"
        );
    }
}
