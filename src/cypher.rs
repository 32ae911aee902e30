//! Cypher text and request bodies. Statement text is constant except for the configured labels,
//! which [`crate::Config::validate`] has proved to be plain identifiers; every value travels as a
//! `$parameter`.

use crate::error::cat;
use serde_json::{json, Value};

use std::borrow::Borrow;

use crate::config::{Api, Labels};
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::json::write_str;

/// One statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The Cypher text; values appear only as `$name` placeholders.
    pub text: String,
    /// The parameters, a JSON object keyed by placeholder name.
    pub parameters: Value,
}

/// The trail node's property that says every `HAS_EVENT` link of the trail carries the per-trail
/// read key (`trail`, `created`, `eventUID`): set when a trail is created by this version's
/// write, or by the migration once no link of the trail lacks the key. The read side drives a
/// trail's pages by the per-trail index only when it is `true` (`src/read.rs`).
pub const TRAIL_INDEXED: &str = "indexed";

/// Where [`write_events_text`] decides, per event, whether the event it MERGEd on its UID is the
/// incoming one (`ok`): the stored `userUID`, `hash` (chained events; it covers their content)
/// and `targetKeys` (`[]` when none) equal the incoming ones, and no other trail links it. Only
/// then are its `HAS_EVENT`, `PERFORMED_BY` and `ON` links MERGEd. A new event always is (its
/// properties were just set from the same values).
pub(crate) const SAME_EVENT: &str = " WITH t, e, ev, ";

/// How [`write_events_text`] ends: the distinct events stored as sent, and the UIDs refused as
/// another event's ([`SAME_EVENT`]).
pub(crate) const WRITE_RETURN: &str = " RETURN count(DISTINCT CASE WHEN ok THEN ev END) AS written, \
     collect(DISTINCT CASE WHEN ok THEN null ELSE e.UID END) AS refused";

/// The write statement for any number of events (one `UNWIND`): gets or creates the trail, MERGEs
/// each event on its UID (so a retried event is written once), links `HAS_EVENT {created, trail,
/// eventUID}` (the trail's name and the event's `timestamp` and `UID` on the relationship: the
/// per-trail read index, [`schema_statements`]) and, when the user node exists, `PERFORMED_BY`.
/// A trail created here is marked `indexed` (all its links carry the key; older trails get the
/// mark from [`migration_statements`]). All of it is one transaction. Provenance is stored
/// beside the event: `source` (`"client"` / `"worker"`) and `occurredAt` (when the user acted; an
/// event without it, queued by an older version, gets its `timestamp`).
///
/// An event whose UID is already stored is linked only if it is that event (`SAME_EVENT` below: the
/// stored `userUID`, `hash` and `targetKeys` equal the incoming ones and no other trail holds
/// it): a retry of the same event MERGEs the links it already has (exactly once), and adds the
/// `PERFORMED_BY` that was missing when the user node did not exist yet (the user the stored
/// event names). Another event under a stored UID (a writer choosing UIDs: the Rust
/// [`crate::AuditLogger`]'s hidden `write`, a queued record, any holder of Neo4j credentials)
/// changes nothing and links nothing: before, it left the stored properties as they were but
/// linked the event to a second trail, a second user and other targets.
///
/// Returns one row: `written`, the number of distinct events now stored as sent (new, or
/// already there), and `refused`, the UIDs of those refused as another event's (a logger makes
/// that an [`AuditError::InvalidInput`] naming them: a rejection, so a logger's batch is split
/// until that event fails alone). Refuses labels that are not identifiers ([`Labels::validate`]).
///
/// Its cost in Neo4j 5.26 (bench/stmt_ab.mjs, PROFILE; 2026-11-30): ~22-25 db hits per event
/// (2026-12-03, with the `SAME_EVENT` check: 27 per new event in batches of 100 and 1000, 24
/// before; 19 per already-stored event, 13 before: three property reads and the expand of the
/// event's `HAS_EVENT` links; tests/rust_api.rs `the_write_statements_db_hits_per_event`),
/// every node found by an index seek (the two unique constraints, `User(UID)`), two `Eager`s (~2.3 KB of
/// buffered row per event; three since the `SAME_EVENT` check, buffer not measured again); the text is one plan-cache entry whatever the batch size (planning
/// it took ~0.15 s on a loaded machine, paid on a miss; a logger sends it behind [`PLAN_ONCE`], so
/// statistics drifting as the trail grows no longer make Neo4j plan it again). Variants with
/// the same graph (no `timestamp` Eager, the user looked up first, a `CALL` instead of
/// `FOREACH`, `CREATE` of the links of new events) showed no difference in Neo4j's CPU per
/// event in batches of 1000: the cost is the transaction, the stored properties and the
/// indexes, not this text's shape. One event into a trail of 10 000 (PROFILE, 2026-11-30): 23 db
/// hits, 4 of them the `HAS_EVENT` MERGE's `Expand(Into)` (from the new event's side): nothing
/// in the plan grows with the trail.
pub fn write_events_text(labels: &Labels) -> Result<String, AuditError> {
    labels.validate()?;
    let Labels { event, trail, user } = labels;
    // `cat`, not `format!` (no core::fmt in the write entry: crate::error::num).
    Ok(cat(&[
        "MERGE (t:",
        trail,
        " {name: $trail}) ON CREATE SET t.UID = $trailUid, t.",
        TRAIL_INDEXED,
        " = true WITH t UNWIND $events AS e MERGE (ev:",
        event,
        " {UID: e.UID}) \
         ON CREATE SET ev.eventType = e.eventType, ev.eventCategory = e.eventCategory, \
         ev.timestamp = datetime({epochMillis: e.ts}), ev.userUID = e.userUID, \
         ev.userName = e.userName, ev.details = e.details, \
         ev.streamId = e.streamId, ev.seq = e.seq, ev.prevHash = e.prevHash, ev.hash = e.hash, \
         ev.source = e.source, ev.occurredAt = datetime({epochMillis: coalesce(e.occurredAt, e.ts)})",
        SAME_EVENT,
        "coalesce(ev.userUID, '') = coalesce(e.userUID, '') AND coalesce(ev.hash, '') = coalesce(e.hash, '') \
         AND coalesce(ev.targetKeys, []) = [x IN coalesce(e.targets, []) | x.label + ':' + x.uid] \
         AND NOT EXISTS { (ev)<-[:HAS_EVENT]-(o) WHERE o <> t } AS ok \
         FOREACH (_ IN CASE WHEN ok THEN [1] ELSE [] END | MERGE (t)-[r:HAS_EVENT]->(ev) \
         ON CREATE SET r.created = ev.timestamp, r.trail = $trail, r.eventUID = ev.UID) \
         WITH ev, e, ok \
         OPTIONAL MATCH (u:",
        user,
        " {UID: e.userUID}) \
         FOREACH (_ IN CASE WHEN ok AND u IS NOT NULL THEN [1] ELSE [] END | MERGE (ev)-[:PERFORMED_BY]->(u))",
        WRITE_RETURN,
    ]))
}

/// The write statement for a batch whose events name targets of `target_labels` (each an
/// identifier, checked here): [`write_events_text`], and in the same statement and transaction
/// `ev.targetKeys` (`["Label:uid", …]`, always, so a target whose node does not exist is still
/// recorded) and `ev.targetRoles` (the roles in the same order, `""` for none), then one unit
/// subquery per label that links `(ev)-[:ON {role, target, created, eventUID}]->(x)` to each
/// existing `(x:Label {UID: uid})`. Labels cannot be parameters without a scan of every node, so
/// they enter the text, but only as validated identifiers. The library never creates the target
/// nodes. With no labels this is exactly [`write_events_text`].
pub fn write_events_text_with_targets<S: AsRef<str>>(
    labels: &Labels,
    target_labels: &[S],
) -> Result<String, AuditError> {
    let base = write_events_text(labels)?;
    if target_labels.is_empty() {
        return Ok(base);
    }
    with_target_subqueries(&base, target_labels)
}

/// [`write_events_text_with_targets`]' part for a batch with targets, out of line: a batch
/// without (a Worker's usual first event, whose guarded write comes this way) never runs it, and
/// V8 compiles a wasm function whole on its first call (bench/coldstart-v8.mjs).
#[inline(never)]
fn with_target_subqueries<S: AsRef<str>>(base: &str, target_labels: &[S]) -> Result<String, AuditError> {
    for l in target_labels {
        crate::rules::check_targets(&[crate::event::Target::new(l.as_ref(), "x")]).map_err(|_| {
            AuditError::InvalidInput(cat(&[
                "target label ",
                &crate::error::quoted(l.as_ref()),
                " is not an identifier",
            ]))
        })?;
    }
    // `str::split_once` without core's substring searcher (~1.6 KB of .wasm).
    use crate::error::split_once as split;
    let shape = || AuditError::InvalidConfig("write statement shape".into());
    let (head, tail) = split(base, SAME_EVENT).ok_or_else(shape)?;
    let (middle, ret) = split(tail, WRITE_RETURN).ok_or_else(shape)?;
    let mut out = String::with_capacity(base.len() + 400 * target_labels.len());
    out.push_str(head);
    out.push_str(
        ", ev.targetKeys = [x IN e.targets | x.label + ':' + x.uid], \
         ev.targetRoles = [x IN e.targets | coalesce(x.role, '')]",
    );
    out.push_str(SAME_EVENT);
    out.push_str(middle);
    out.push_str(" WITH ev, e, ok");
    for l in target_labels {
        let l = l.as_ref();
        for part in [
            // An event refused as another's UID ([`SAME_EVENT`]) links no target.
            " CALL { WITH ev, e, ok UNWIND CASE WHEN ok THEN e.targets ELSE [] END AS x WITH ev, x WHERE x.label = '",
            l,
            "' MATCH (n:",
            l,
            // Keyed by `target`: a node under two labels named as two targets gets an edge for
            // each (one MERGE per node left the second label's target without its edge, so
            // that label's activity missed the event).
            " {UID: x.uid}) MERGE (ev)-[o:ON {target: x.label + ':' + x.uid}]->(n) \
             ON CREATE SET o.role = x.role, o.created = ev.timestamp, o.eventUID = ev.UID }",
        ] {
            out.push_str(part);
        }
    }
    out.push_str(WRITE_RETURN);
    out.push_str(ret);
    Ok(out)
}

/// The distinct target labels of `events`, sorted (the statement text depends only on these).
/// Each label put in its place as it comes (few labels): one small loop instead of the collect,
/// sort and dedup instances, which a Worker's first event compiled even when it has no target
/// (V8 compiles a wasm function whole on its first call; see bench/coldstart-v8.mjs).
pub(crate) fn target_labels<E: Borrow<AuditEvent>>(events: &[E]) -> Vec<&str> {
    let mut v: Vec<&str> = Vec::new();
    for t in events.iter().flat_map(|e| &e.borrow().targets) {
        if let Err(i) = v.binary_search(&t.label.as_str()) {
            v.insert(i, &t.label);
        }
    }
    v
}

/// The write statement with its parameters.
pub fn write_events<E: serde::Serialize + Borrow<AuditEvent>>(
    labels: &Labels,
    trail: &str,
    events: &[E],
) -> Result<Statement, AuditError> {
    Ok(Statement {
        text: write_events_text_with_targets(labels, &target_labels(events))?,
        parameters: json!({
            "trail": trail,
            "trailUid": crate::random::uuid_v4(),
            "events": events,
        }),
    })
}

/// Schema statements, each idempotent: unique event UID and trail name (which also make
/// concurrent MERGEs safe), and range indexes for the read side.
pub fn schema_statements(labels: &Labels) -> Result<Vec<Statement>, AuditError> {
    Ok(schema_texts(labels)?.into_iter().map(|text| Statement { text, parameters: json!({}) }).collect())
}

/// The text of each [`schema_statements`] statement (none takes parameters).
pub(crate) fn schema_texts(labels: &Labels) -> Result<Vec<String>, AuditError> {
    labels.validate()?;
    let Labels { event, trail, user } = labels;
    let lower = |s: &str| s.to_ascii_lowercase();
    let (le, lt, lu) = (lower(event), lower(trail), lower(user));
    // `cat`, not `format!` (no core::fmt in the write entry: crate::error::num).
    let (c, i, ne) = ("CREATE CONSTRAINT ", "CREATE INDEX ", " IF NOT EXISTS FOR (e:");
    Ok(vec![
        cat(&[c, &le, "_uid_unique", ne, event, ") REQUIRE e.UID IS UNIQUE"]),
        cat(&[c, &lt, "_name_unique IF NOT EXISTS FOR (t:", trail, ") REQUIRE t.name IS UNIQUE"]),
        cat(&[i, &le, "_timestamp", ne, event, ") ON (e.timestamp, e.UID)"]),
        // Read side (src/read.rs): equality filter, then (timestamp, UID), so that a filtered page
        // is read in index order and stops after `limit` rows.
        cat(&[i, &le, "_user_ts_uid", ne, event, ") ON (e.userUID, e.timestamp, e.UID)"]),
        cat(&[i, &le, "_type_ts_uid", ne, event, ") ON (e.eventType, e.timestamp, e.UID)"]),
        cat(&[i, &le, "_category_ts_uid", ne, event, ") ON (e.eventCategory, e.timestamp, e.UID)"]),
        cat(&[i, &lu, "_uid IF NOT EXISTS FOR (u:", user, ") ON (u.UID)"]),
        cat(&[i, &le, "_stream_seq", ne, event, ") ON (e.streamId, e.seq)"]),
        // getTargetActivity: the events on one object, newest first, read in index order from the
        // `ON` relationships (whatever the target's label).
        // The relationship types are fixed, so these two indexes are named the same whatever the
        // labels (with other labels a second, equivalent index would be refused and its name would
        // never exist, so the one-read check below would never find the schema in place).
        "CREATE INDEX auditevent_on_target_created_uid IF NOT EXISTS FOR ()-[r:ON]-() ON (r.target, r.created, r.eventUID)".to_owned(),
        // A trail's pages, newest first, read in index order from its own `HAS_EVENT` links: what
        // a page costs depends on its trail only, not on other trails in the database.
        "CREATE INDEX auditevent_has_event_trail_created_uid IF NOT EXISTS FOR ()-[r:HAS_EVENT]-() ON (r.trail, r.created, r.eventUID)".to_owned(),
        // New indexes populate in the background; the read side's index hints need them online.
        // Only this schema's own names are waited for (`db.awaitIndexes` would wait for every
        // index of the database: another application's index populating a large label, or one
        // that another process drops meanwhile, held a new logger's schema step past its
        // request timeout). Names are lower-cased identifiers ([A-Za-z_][A-Za-z0-9_]*), so they
        // go in quotes as they are.
        cat(&[AWAIT_OWN, &crate::error::join(&schema_names(labels), "','"), "'] AS n CALL db.awaitIndex(n, 60) RETURN count(*) AS online"]),
    ])
}

/// How [`schema_texts`]'s last statement (the wait for the schema's own indexes) starts.
pub(crate) const AWAIT_OWN: &str = "UNWIND ['";

/// One read that tells whether the whole schema is in place: how many of the constraints' and
/// indexes' names (those [`schema_statements`] create) exist and are ONLINE. When all are, a
/// logger's schema step is this one round trip instead of one request per statement.
pub fn schema_check_statement(labels: &Labels) -> Result<(Statement, usize), AuditError> {
    let (text, names) = schema_check(labels)?;
    let n = names.len();
    Ok((Statement { text: text.to_owned(), parameters: json!({ "names": names }) }, n))
}

/// [`schema_check_statement`]'s text and the names it counts.
pub(crate) fn schema_check(labels: &Labels) -> Result<(&'static str, Vec<String>), AuditError> {
    labels.validate()?;
    Ok((
        "SHOW INDEXES YIELD name, state WHERE name IN $names AND state = 'ONLINE' RETURN count(*) AS online",
        schema_names(labels),
    ))
}

/// The names of the constraints and indexes [`schema_texts`] creates on the audit labels, in its
/// order, made without the statements (a new logger's first write needs only the names:
/// [`SCHEMA_GUARD`]). A uniqueness constraint's index has the constraint's name. Labels are
/// validated by the caller.
///
/// Not the index on the user label's `UID` ([`schema_texts`] still creates it): that label is
/// the application's, and an application that keeps its users unique has a uniqueness constraint
/// there, beside which Neo4j refuses a second index on the same property, so that name never
/// exists. Guarded by it, every new logger's first write was refused and ran the whole schema
/// step (5 requests instead of 1), and the wait below stopped at it, never waiting for the
/// indexes after it.
pub(crate) fn schema_names(labels: &Labels) -> Vec<String> {
    // (label: 0 event, 1 trail; suffix), in the order of `schema_texts`: one loop over a table
    // instead of ten calls inlined (a Worker's first write compiles this function).
    const OWN: [(usize, &str); 7] = [
        (0, "_uid_unique"),
        (1, "_name_unique"),
        (0, "_timestamp"),
        (0, "_user_ts_uid"),
        (0, "_type_ts_uid"),
        (0, "_category_ts_uid"),
        (0, "_stream_seq"),
    ];
    let lower = [&labels.event, &labels.trail];
    let mut v = Vec::with_capacity(OWN.len() + 2);
    for (l, suffix) in OWN {
        let mut name = lower[l].to_ascii_lowercase();
        name.push_str(suffix);
        v.push(name);
    }
    v.push("auditevent_on_target_created_uid".to_owned());
    v.push("auditevent_has_event_trail_created_uid".to_owned());
    v
}

/// Put in front of a logger's first write statement (parameter `$schema`: [`schema_names`]): the
/// schema check in the write's own transaction. `db.awaitIndex(name, 0)` returns at once for an
/// index (or a constraint's index) that exists and is ONLINE, and fails otherwise (no such index:
/// `Neo.ClientError.Schema.IndexNotFound`; still populating: a timeout), which rolls the whole
/// transaction back, so nothing is written unless the uniqueness constraints that make the
/// `MERGE`s safe are in place. The usual first write is then one round trip, the check included;
/// on a refusal the logger runs the full schema step and writes without this prefix.
pub(crate) const SCHEMA_GUARD: &str = "UNWIND $schema AS s CALL db.awaitIndex(s, 0) WITH count(*) AS schemaOnline ";

/// Put in front of every write statement a logger sends (before the schema guard of a first write too): Neo4j
/// plans the text once and keeps that plan while it stays in its query cache, instead of
/// planning it again each time its statistics (label and relationship counts) have drifted from
/// those it was planned with. Every lookup of the write is an index seek whatever the counts
/// (the two uniqueness constraints, `User(UID)`, `Expand(Into)` between two bound nodes:
/// tests/plan.rs checks the plan made on empty labels), so a new plan is the same plan, and
/// planning it cost one awaited call ~60-500 ms (bench/c1_trace.mjs: the first write after the
/// counts changed, and again a few writes later; in a one-caller loop over a freshly emptied
/// database, twice per sample). A schema change (a new index or constraint) still clears Neo4j's
/// cache, so a plan never outlives the indexes it was made with.
pub const PLAN_ONCE: &str = "CYPHER replan=skip ";

/// A write statement as a logger sends it: [`PLAN_ONCE`], the [`SCHEMA_GUARD`] when `guard`,
/// then `text` ([`write_events_text_with_targets`]).
pub(crate) fn sent_write_text(text: &str, guard: bool) -> String {
    cat(&[PLAN_ONCE, if guard { SCHEMA_GUARD } else { "" }, text])
}

/// Rows per inner transaction of the migration's first statement.
pub const MIGRATION_BATCH: u32 = 10_000;
/// Links the migration's first statement keys at most per run (one request stays well within
/// an HTTP client's timeouts, e.g. Node's 300 s wait for an answer's headers, on a slow or busy
/// server; run it again until it keys fewer).
pub const MIGRATION_MAX: u32 = 200_000;

/// The migration of events stored before the per-trail read index (`neo4j-audit migrate`), two
/// statements, each idempotent and safe to re-run or to interrupt (a later run resumes where
/// the last one stopped):
/// 1. keys up to `$max` `HAS_EVENT` links that lack it (`trail` = the trail's name, `created` =
///    the event's `timestamp`, `eventUID` = its `UID`), in batches of `$batch` links, each batch
///    its own transaction (`CALL { } IN TRANSACTIONS`, so it needs an implicit transaction:
///    Neo4j's `tx/commit` with one statement, or the Query API). Returns the number of links
///    keyed; run it again while that is `$max`. A trail without a `name` is skipped (its links
///    could carry no key; [`migration_status_statement`] counts such trails).
/// 2. marks every trail none of whose links lacks the key ([`TRAIL_INDEXED`]); from then on that
///    trail's pages are read by the per-trail index. Returns the trails marked now and the
///    trails still unmarked.
///
/// Until a trail is marked its pages are read as before (the shared indexes), so a read never
/// misses an event during the migration. Run it once every writer runs this version: a link an
/// older writer adds later carries no key (run the migration again; `status` counts such links).
pub fn migration_statements(labels: &Labels) -> Result<Vec<Statement>, AuditError> {
    Ok(migration_texts(labels)?
        .into_iter()
        .map(|text| Statement { text, parameters: json!({ "batch": MIGRATION_BATCH, "max": MIGRATION_MAX }) })
        .collect())
}

/// The texts of [`migration_statements`].
pub(crate) fn migration_texts(labels: &Labels) -> Result<Vec<String>, AuditError> {
    labels.validate()?;
    let t = &labels.trail;
    Ok(vec![
        format!(
            "MATCH (t:{t})-[r:HAS_EVENT]->(ev) WHERE r.trail IS NULL AND t.name IS NOT NULL \
             WITH t, r, ev LIMIT $max \
             CALL {{ WITH t, r, ev SET r.trail = t.name, r.created = ev.timestamp, r.eventUID = ev.UID }} \
             IN TRANSACTIONS OF $batch ROWS \
             RETURN count(*) AS keyed"
        ),
        format!(
            "OPTIONAL MATCH (t:{t}) WHERE t.{TRAIL_INDEXED} IS NULL \
             AND NOT EXISTS {{ MATCH (t)-[r:HAS_EVENT]->() WHERE r.trail IS NULL }} \
             SET t.{TRAIL_INDEXED} = true \
             WITH count(t) AS marked \
             OPTIONAL MATCH (u:{t}) WHERE u.{TRAIL_INDEXED} IS NULL \
             RETURN marked, count(u) AS unmarked"
        ),
    ])
}

/// A `timestamp` stored as ISO 8601 text (a copy of the Python seed's graph written through a
/// driver or tool that turned `datetime.now()` into a string: `isoformat()`'s
/// `2026-11-02T10:00:00.123456`, `str()`'s `2026-11-02 10:00:00.123456`, with or without an offset):
/// the texts [`timestamp_migration_statement`] converts. A Cypher regular expression (full match),
/// written without backslashes so that cli/migration.mjs holds it word for word.
const ISO_TEXT: &str =
    "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?";
/// An [`ISO_TEXT`] that names its own offset (read as that instant; the others need a zone).
const ZONED_TEXT: &str = ".*(Z|[+-][0-9]{2}(:?[0-9]{2})?)";

/// The conversion of events the Python `log_user_action` this library replaces wrote (`neo4j-audit
/// migrate --zone`): it stored `timestamp` and `HAS_EVENT.created` as the server's local
/// `datetime.now()`, which Neo4j's Python driver writes as a `LocalDateTime` (no zone); a copy
/// that went through another tool may hold ISO 8601 text instead (matched by this module's
/// `ISO_TEXT`). The read side
/// needs a `DateTime` (`timestamp.epochMillis`: Neo4j answers a `LocalDateTime` with "Epoch not
/// supported" and text with "Type mismatch", failing every page that holds one), and `ORDER BY`
/// sorts the types apart. This sets both to the same instant as a UTC `DateTime`: a text with an
/// offset (`Z`, `+01:00`) is that instant; a `LocalDateTime` or a text without one is read in
/// `$zone` (the IANA zone of the seed's server, e.g. `Europe/Brussels`; a local time that a
/// daylight-saving change made ambiguous or skipped is resolved as Neo4j's `datetime({datetime,
/// timezone})` does). A `HAS_EVENT.created` that is not a `DateTime` gets the same value. Only
/// unchained events (`hash` null): the library never writes anything but a `DateTime`. Other
/// values (text that is not ISO 8601, a number, none) are left alone:
/// [`migration_status_statement`] counts them as `unreadable`. Up to `$max` events per run,
/// `$batch` per transaction, like [`migration_statements`]' first one (run it before that one: it
/// keys `created` from the converted `timestamp`); returns `converted`, and run it again while
/// that is `$max`.
pub fn timestamp_migration_statement(labels: &Labels, zone: &str) -> Result<Statement, AuditError> {
    labels.validate()?;
    Ok(Statement {
        text: timestamp_migration_text(labels),
        parameters: json!({ "zone": zone, "batch": MIGRATION_BATCH, "max": MIGRATION_MAX }),
    })
}

/// The text of [`timestamp_migration_statement`] (labels validated by the caller).
fn timestamp_migration_text(labels: &Labels) -> String {
    let t = &labels.trail;
    format!(
        "MATCH (:{t})-[r:HAS_EVENT]->(ev) WHERE ev.hash IS NULL \
         AND (ev.timestamp IS :: LOCAL DATETIME NOT NULL OR ev.timestamp IS :: STRING NOT NULL AND ev.timestamp =~ '{ISO_TEXT}') \
         WITH r, ev LIMIT $max \
         CALL {{ WITH r, ev \
         WITH r, ev, CASE WHEN ev.timestamp IS :: STRING THEN left(ev.timestamp, 10) + 'T' + substring(ev.timestamp, 11) END AS text \
         WITH r, ev, datetime({{datetime: CASE WHEN text IS NULL THEN datetime({{datetime: ev.timestamp, timezone: $zone}}) \
         WHEN text =~ '{ZONED_TEXT}' THEN datetime(text) \
         ELSE datetime({{datetime: localdatetime(text), timezone: $zone}}) END, timezone: 'UTC'}}) AS ts \
         SET ev.timestamp = ts, r.created = CASE WHEN r.created IS :: ZONED DATETIME NOT NULL THEN r.created ELSE ts END }} \
         IN TRANSACTIONS OF $batch ROWS \
         RETURN count(*) AS converted"
    )
}

/// The migration's status, one read-only statement: how many `HAS_EVENT` links lack the
/// per-trail key, how many trails are not marked [`TRAIL_INDEXED`], how many unchained events
/// [`timestamp_migration_statement`] would convert (`unconverted`), how many of those need its
/// `$zone` (`zoneless`: a `LocalDateTime`, or text without an offset), and how many unchained
/// events have a timestamp it cannot convert (`unreadable`: none, a number, text that is not ISO
/// 8601), which the read side cannot page either, and how many trails have no `name` (`unnamed`:
/// the Python seed's `get_or_create_audit_trail_uid()` node, which the library never reads and
/// [`migration_statements`] do not key: name it first).
pub fn migration_status_statement(labels: &Labels) -> Result<Statement, AuditError> {
    labels.validate()?;
    let t = &labels.trail;
    Ok(Statement {
        text: format!(
            "OPTIONAL MATCH (:{t})-[r:HAS_EVENT]->() WHERE r.trail IS NULL \
             WITH count(r) AS unkeyed \
             OPTIONAL MATCH (u:{t}) WHERE u.{TRAIL_INDEXED} IS NULL \
             WITH unkeyed, count(u) AS unmarked \
             OPTIONAL MATCH (:{t})-[:HAS_EVENT]->(l) WHERE l.hash IS NULL AND l.timestamp IS NOT :: ZONED DATETIME NOT NULL \
             WITH unkeyed, unmarked, l, l.timestamp IS :: LOCAL DATETIME NOT NULL AS local, \
             l.timestamp IS :: STRING NOT NULL AND l.timestamp =~ '{ISO_TEXT}' AS text \
             WITH unkeyed, unmarked, count(DISTINCT CASE WHEN local OR text THEN l END) AS unconverted, \
             count(DISTINCT CASE WHEN local OR text AND NOT l.timestamp =~ '{ZONED_TEXT}' THEN l END) AS zoneless, \
             count(DISTINCT CASE WHEN NOT (local OR text) THEN l END) AS unreadable \
             OPTIONAL MATCH (n:{t}) WHERE n.name IS NULL \
             RETURN unkeyed, unmarked, unconverted, zoneless, unreadable, count(n) AS unnamed"
        ),
        parameters: json!({}),
    })
}

/// The URL path and JSON body for one statement on the chosen endpoint.
pub fn request_body(api: Api, database: &str, st: &Statement) -> (String, Value) {
    match api {
        Api::Tx => (
            format!("/db/{database}/tx/commit"),
            json!({ "statements": [{ "statement": st.text, "parameters": st.parameters }] }),
        ),
        Api::Query => {
            (format!("/db/{database}/query/v2"), json!({ "statement": st.text, "parameters": st.parameters }))
        }
    }
}

/// The request body of one statement whose parameters are written by `params` (a JSON object),
/// on the chosen endpoint: the same JSON as [`request_body`], written directly.
pub(crate) fn statement_body(api: Api, text: &str, capacity: usize, params: impl FnOnce(&mut String)) -> String {
    body_of(api, text.len() + capacity, |out| write_str(out, text), params)
}

/// [`statement_body`] with the statement written by `statement` (as a JSON string).
fn body_of(api: Api, capacity: usize, statement: impl FnOnce(&mut String), params: impl FnOnce(&mut String)) -> String {
    let mut out = String::with_capacity(capacity + 48);
    out.push_str(if api == Api::Tx { "{\"statements\":[{\"statement\":" } else { "{\"statement\":" });
    statement(&mut out);
    out.push_str(",\"parameters\":");
    params(&mut out);
    out.push_str(if api == Api::Tx { "}]}" } else { "}" });
    out
}

/// The write statement's request body, written straight from the events (no intermediate JSON
/// tree). The same JSON as [`request_body`] of [`write_events`]. `text_json` is
/// [`write_events_text`] of validated labels as a JSON string ([`json_string`]: a logger escapes
/// its statement once, not once per request).
/// `schema`: the `$schema` parameter of a text that starts with [`SCHEMA_GUARD`] (else empty: no
/// such parameter). `trail_uid`: the UID the trail gets if this write creates it.
pub(crate) fn write_body<E: Borrow<AuditEvent>>(
    api: Api,
    text_json: &str,
    trail: &str,
    trail_uid: &str,
    schema: &[String],
    events: &[E],
) -> String {
    let capacity = events.iter().map(|e| e.borrow().json_len()).sum::<usize>() + text_json.len() + trail.len() + 80;
    body_of(
        api,
        capacity,
        |out| out.push_str(text_json),
        |out| {
            out.push_str("{\"trail\":");
            write_str(out, trail);
            if !schema.is_empty() {
                out.push_str(",\"schema\":");
                crate::json::write_str_array(out, schema);
            }
            out.push_str(",\"trailUid\":");
            write_str(out, trail_uid);
            out.push_str(",\"events\":[");
            for (i, e) in events.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                e.borrow().write_json(out);
            }
            out.push_str("]}");
        },
    )
}

/// `text` as a JSON string (quotes included): what [`write_body`] takes.
pub(crate) fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    write_str(&mut out, text);
    out
}

/// The URL path of the chosen endpoint.
pub(crate) fn endpoint_path(api: Api, database: &str) -> String {
    match api {
        Api::Tx => cat(&["/db/", database, "/tx/commit"]),
        Api::Query => cat(&["/db/", database, "/query/v2"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AuditEvent, User};

    #[test]
    fn values_never_enter_the_text() {
        let evil = "x'}) DETACH DELETE n //";
        let u = User::new(evil).name(evil);
        let d = json!({ "q": evil });
        // actionType/category cannot carry such text (rule table); set them past the builder.
        let mut e = AuditEvent::build(Some(&u), "X", None, Some(&d), 1000).unwrap();
        e.action_type = evil.into();
        let st = write_events(&Labels::default(), evil, &[e]).unwrap();
        assert!(!st.text.contains(evil));
        assert!(!st.text.contains("DETACH"));
        assert_eq!(st.parameters["trail"], json!(evil));
        assert_eq!(st.parameters["events"][0]["eventType"], json!(evil));
    }

    #[test]
    fn labels_appear_where_expected() {
        let labels = Labels { event: "Ev".into(), trail: "Tr".into(), user: "Person".into() };
        let t = write_events_text(&labels).unwrap();
        assert!(t.contains("(t:Tr {name: $trail})"));
        assert!(t.contains("(ev:Ev {UID: e.UID})"));
        assert!(t.contains("(u:Person {UID: e.userUID})"));
        assert!(t.contains("ev.source = e.source") && t.contains("ev.occurredAt = datetime("));
        assert!(!t.contains("AuditEvent"));
        let s = schema_statements(&labels).unwrap();
        assert!(s[0].text.contains("ev_uid_unique") && s[0].text.contains("(e:Ev)"));
    }

    /// The first write's guard names exactly what the schema step creates (with any labels):
    /// a name missing there would make every new logger's first write fall back to the full
    /// step; a name the step never creates would make it fail for good.
    #[test]
    fn schema_names_are_those_the_schema_statements_create() {
        for labels in [Labels::default(), Labels { event: "Ev".into(), trail: "Tr".into(), user: "Person".into() }] {
            let user_index = format!("{}_uid", labels.user.to_ascii_lowercase());
            let from_texts: Vec<String> = schema_texts(&labels)
                .unwrap()
                .iter()
                .filter_map(|t| {
                    let rest = t.strip_prefix("CREATE CONSTRAINT ").or_else(|| t.strip_prefix("CREATE INDEX "))?;
                    Some(rest[..rest.find(' ').unwrap()].to_owned())
                })
                .filter(|name| *name != user_index) // created, not required: see schema_names
                .collect();
            assert_eq!(from_texts.len(), 9);
            assert!(schema_texts(&labels)
                .unwrap()
                .iter()
                .any(|t| t.contains(&format!("INDEX {user_index} IF NOT EXISTS"))));
            assert_eq!(schema_names(&labels), from_texts);
            assert_eq!(schema_check(&labels).unwrap().1, from_texts);
            // The wait covers exactly these names, not every index of the database (it used to
            // be `CALL db.awaitIndexes(60)`: clean-clone CI on 02e0f11 timed out two loggers'
            // schema steps while another test's indexes were being made and dropped).
            let wait = schema_texts(&labels).unwrap().pop().unwrap();
            assert!(wait.starts_with(AWAIT_OWN) && !wait.contains("awaitIndexes"), "{wait}");
            let quoted: Vec<String> = from_texts.iter().map(|n| format!("'{n}'")).collect();
            assert_eq!(
                wait,
                format!("UNWIND [{}] AS n CALL db.awaitIndex(n, 60) RETURN count(*) AS online", quoted.join(","))
            );
        }
        assert!(SCHEMA_GUARD.ends_with(' ') && !SCHEMA_GUARD.contains("awaitIndexes"));
    }

    #[test]
    fn public_builders_refuse_labels_that_are_not_identifiers() {
        let evil = Labels { user: "User) DETACH DELETE (x".into(), ..Labels::default() };
        assert!(write_events_text(&evil).is_err());
        assert!(write_events::<AuditEvent>(&evil, "t", &[]).is_err());
        assert!(schema_statements(&evil).is_err());
    }

    #[test]
    fn the_fast_write_body_is_the_statement_body() {
        let e = AuditEvent::build(None, "X", None, Some(&json!({"a": "\"q\""})), 1000).unwrap();
        for api in [Api::Tx, Api::Query] {
            let labels = Labels::default();
            let st = write_events(&labels, "t", std::slice::from_ref(&e)).unwrap();
            let mut slow = request_body(api, "neo4j", &st).1;
            let mut fast: Value = serde_json::from_str(&write_body(
                api,
                &json_string(&write_events_text(&labels).unwrap()),
                "t",
                "u",
                &[],
                std::slice::from_ref(&e),
            ))
            .unwrap();
            // trailUid: the caller's (here "u"); write_events makes a fresh one.
            for v in [&mut slow, &mut fast] {
                let p = if api == Api::Tx { &mut v["statements"][0]["parameters"] } else { &mut v["parameters"] };
                p["trailUid"] = json!("x");
            }
            assert_eq!(fast, slow);
            assert_eq!(endpoint_path(api, "neo4j"), request_body(api, "neo4j", &st).0);
        }
    }

    #[test]
    fn schema_check_names_every_constraint_and_index() {
        let (st, n) = schema_check_statement(&Labels::default()).unwrap();
        assert_eq!(n, 9);
        let names = st.parameters["names"].as_array().unwrap();
        // Not the user label's index: an application's uniqueness constraint on User.UID makes
        // Neo4j refuse it, and the check would then never pass (see schema_names).
        assert!(names.contains(&json!("auditevent_uid_unique")) && !names.contains(&json!("user_uid")));
        assert!(names.contains(&json!("auditevent_has_event_trail_created_uid")));
        // The relationship indexes are one per database whatever the labels: the same names, so
        // that the check finds them in place for a logger with other labels too.
        let custom = Labels { event: "Evt".into(), trail: "Trl".into(), user: "Person".into() };
        let (st, _) = schema_check_statement(&custom).unwrap();
        let names = st.parameters["names"].as_array().unwrap();
        assert!(names.contains(&json!("evt_uid_unique")));
        assert!(names.contains(&json!("auditevent_on_target_created_uid")));
        assert!(names.contains(&json!("auditevent_has_event_trail_created_uid")));
    }

    #[test]
    fn targets_add_one_subquery_per_label_and_nothing_without_them() {
        let labels = Labels::default();
        let plain = write_events_text(&labels).unwrap();
        assert_eq!(write_events_text_with_targets::<&str>(&labels, &[]).unwrap(), plain);
        let t = write_events_text_with_targets(&labels, &["Document", "Folder"]).unwrap();
        assert!(t.contains("ev.targetKeys = [x IN e.targets | x.label + ':' + x.uid]"), "{t}");
        assert!(t.contains("MATCH (n:Document {UID: x.uid})") && t.contains("MATCH (n:Folder {UID: x.uid})"));
        assert_eq!(t.matches("CALL {").count(), 2);
        assert!(t.ends_with(WRITE_RETURN) && t.matches(SAME_EVENT).count() == 1, "{t}");
        assert!(t.contains("CALL { WITH ev, e, ok UNWIND CASE WHEN ok THEN e.targets ELSE [] END AS x"), "{t}");
        assert!(write_events_text_with_targets(&labels, &["Doc') DETACH DELETE (n"]).is_err());
        let mut e = AuditEvent::build(None, "X", None, None, 1000).unwrap();
        e.set_targets(vec![crate::event::Target::new("Folder", "f"), crate::event::Target::new("Document", "d")])
            .unwrap();
        assert_eq!(target_labels(&[e.clone(), e]), ["Document", "Folder"]);
    }

    #[test]
    fn the_cli_runs_the_library_migration_word_for_word() {
        // cli/migration.mjs holds the statements for the default labels as "..." + "..." strings.
        let js = include_str!("../cli/migration.mjs").replace("\" +\n  \"", "");
        let labels = Labels::default();
        for st in migration_statements(&labels).unwrap() {
            assert!(js.contains(&format!("\"{}\"", st.text)), "cli/migration.mjs lacks: {}", st.text);
        }
        let convert = timestamp_migration_statement(&labels, "UTC").unwrap();
        assert!(js.contains(&format!("\"{}\"", convert.text)), "cli/migration.mjs lacks: {}", convert.text);
        let status = migration_status_statement(&labels).unwrap();
        assert!(js.contains(&format!("\"{}\"", status.text)), "cli/migration.mjs lacks: {}", status.text);
        let cli = include_str!("../cli/migrate.mjs");
        assert!(cli.contains("10000") && MIGRATION_BATCH == 10_000);
        assert!(cli.contains("const PER_REQUEST = 200000;") && MIGRATION_MAX == 200_000);
        let custom = Labels { trail: "Tr".into(), ..Labels::default() };
        assert!(migration_statements(&custom).unwrap()[0].text.starts_with("MATCH (t:Tr)-[r:HAS_EVENT]->(ev)"));
    }

    #[test]
    fn the_write_keys_each_link_and_marks_a_new_trail() {
        let t = write_events_text(&Labels::default()).unwrap();
        assert!(t.contains("ON CREATE SET t.UID = $trailUid, t.indexed = true"), "{t}");
        assert!(t.contains("ON CREATE SET r.created = ev.timestamp, r.trail = $trail, r.eventUID = ev.UID"), "{t}");
    }

    #[test]
    fn bodies_per_api() {
        let st = Statement { text: "RETURN 1".into(), parameters: json!({"a": 1}) };
        let (p, b) = request_body(Api::Tx, "neo4j", &st);
        assert_eq!(p, "/db/neo4j/tx/commit");
        assert_eq!(b["statements"][0]["statement"], "RETURN 1");
        assert_eq!(b["statements"][0]["parameters"]["a"], 1);
        let (p, b) = request_body(Api::Query, "db2", &st);
        assert_eq!(p, "/db/db2/query/v2");
        assert_eq!(b["statement"], "RETURN 1");
        assert_eq!(b["parameters"]["a"], 1);
    }
}
