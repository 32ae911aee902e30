//! The Worker's signed stream: one hash chain per trail for everything the Worker writes, its
//! head kept on the trail node and advanced in the same transaction as the events, each write
//! sealed with Ed25519 (see [`crate::sign`]).
//!
//! **Ordering without gaps.** The head (`chainStream`, `chainSeq`, `chainHash` on the trail node)
//! is the single source of truth and lives in Neo4j, next to the events it describes. A write
//! locks the trail node, checks that the head is still the one the Worker chained from (and that
//! none of the batch's UIDs is already stored), and only then advances the head and writes the
//! events and both seals — all one statement, one transaction. If the head moved (another
//! isolate wrote first), nothing is written and the Worker re-reads the head, re-chains and
//! tries again. So there is no crash window: a write is committed with its seals or not at all.
//!
//! Each isolate caches the head it last wrote, so the usual write is one round trip; a cold
//! isolate or a conflict costs one extra read.

use std::sync::Mutex;

use crate::chain::{SignedHead, StoredSeal, GENESIS};
use crate::config::Labels;
use crate::error::{cat, AuditError};
use crate::event::AuditEvent;
use crate::json::{write_int, write_opt_str, write_str, write_uint};
use crate::sign::{Purpose, SigningKey};

/// How often a write is re-chained after the head moved under it, before answering 503.
pub const MAX_ATTEMPTS: usize = 32;

/// How often a write Neo4j refused with a transient error (`Neo.TransientError.*`: a deadlock, a
/// lock timeout) is tried again before [`append`] gives up with it (the Worker's 503 `unavailable`
/// with `Retry-After`, so the client's queue sends it later): before, up to [`MAX_ATTEMPTS`] tries
/// held the request while Neo4j stayed so.
pub const MAX_TRANSIENT_RETRIES: usize = 3;

/// The stored head and which of a batch's UIDs are already stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainState {
    /// The trail's head, `None` before the Worker's first write to it.
    pub head: Option<SignedHead>,
    /// UIDs of the batch that are already stored (a re-sent event): not written again.
    pub existing: Vec<String>,
}

/// One conditional write: `events` chained after `expect`, and the new head with its seals.
#[derive(Debug)]
pub struct ChainedWrite<'a> {
    /// The head the events were chained from (`None`: the trail has no Worker stream yet).
    pub expect: Option<&'a SignedHead>,
    /// The chained events, in `seq` order.
    pub events: &'a [AuditEvent],
    /// The new head (the last event's stream, seq and hash), with its head seal.
    pub head: &'a SignedHead,
    /// The event seal for the last event.
    pub event_seal: Option<&'a StoredSeal>,
}

/// [`state_query`]'s text with the schema check in front ([`crate::cypher::SCHEMA_GUARD`], as a
/// logger's first write): what the Worker's first read of a process sends. [`crate::cypher::PLAN_ONCE`]
/// stays first: Neo4j takes a `CYPHER` option only at a statement's start (after the guard it
/// was a syntax error, which the Worker took for a refused guard and ran the schema step).
pub(crate) fn guarded_state_text(text: &str) -> String {
    let body = text.strip_prefix(crate::cypher::PLAN_ONCE).unwrap_or(text);
    crate::cypher::sent_write_text(body, true)
}

/// The statement that reads the head and the already stored UIDs of a batch.
pub fn state_statement(labels: &Labels, trail: &str, uids: &[&str]) -> Result<crate::cypher::Statement, AuditError> {
    let (text, params) = state_query(labels, trail, uids)?;
    Ok(crate::cypher::Statement { text, parameters: parameters(&params) })
}

/// [`state_statement`]'s text and its parameters as JSON text (what the Worker sends).
pub(crate) fn state_query(labels: &Labels, trail: &str, uids: &[&str]) -> Result<(String, String), AuditError> {
    labels.validate()?;
    let text = cat(&[
        crate::cypher::PLAN_ONCE,
        "OPTIONAL MATCH (h:",
        &labels.trail,
        " {name: $trail}) \
         RETURN h.chainStream, h.chainSeq, h.chainHash, h.chainKid, h.chainSig, h.chainSignedAt, \
         [x IN $uids WHERE EXISTS { MATCH (y:",
        &labels.event,
        " {UID: x}) }]",
    ]);
    let mut p = String::with_capacity(trail.len() + 40 * uids.len() + 24);
    p.push_str("{\"trail\":");
    write_str(&mut p, trail);
    p.push_str(",\"uids\":");
    write_strs(&mut p, uids.iter().copied());
    p.push('}');
    Ok((text, p))
}

/// Parameters written as text, as a `serde_json` value (the public `Statement` API).
fn parameters(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the parameters are written as JSON")
}

fn write_strs<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    out.push('[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

pub use crate::read::head_from_row;

/// The conditional write: the standard event write
/// (`cypher::write_events_text_with_targets`, src/cypher.rs, as a subquery), run only when the trail's head is still `expect` and no UID of the batch exists.
/// One row `written` when it ran; no row when the head moved.
pub fn write_statement(
    labels: &Labels,
    trail: &str,
    w: &ChainedWrite<'_>,
) -> Result<crate::cypher::Statement, AuditError> {
    let (text, params) = write_query(labels, trail, w)?;
    Ok(crate::cypher::Statement { text, parameters: parameters(&params) })
}

/// [`write_statement`]'s text and its parameters as JSON text (what the Worker sends).
pub(crate) fn write_query(labels: &Labels, trail: &str, w: &ChainedWrite<'_>) -> Result<(String, String), AuditError> {
    // With targets, the event write links them too (one subquery per target label).
    let inner = crate::cypher::write_events_text_with_targets(labels, &crate::cypher::target_labels(w.events))?;
    let (t, e) = (labels.trail.as_str(), labels.event.as_str());
    // Kept plans, as a logger's writes ([`crate::cypher::PLAN_ONCE`]): a re-plan when Neo4j's
    // counts drift cost ~0.1 s of one request (bench/replan_cost.mjs).
    let text = cat(&[
        crate::cypher::PLAN_ONCE,
        "MERGE (h:",
        t,
        " {name: $trail}) ON CREATE SET h.UID = $trailUid, h.",
        crate::cypher::TRAIL_INDEXED,
        " = true \
         SET h._chainLock = true REMOVE h._chainLock \
         WITH h WHERE coalesce(h.chainStream, '') = $expectStream AND coalesce(h.chainSeq, -1) = $expectSeq \
         AND coalesce(h.chainHash, '') = $expectHash \
         AND NOT EXISTS { MATCH (x:",
        e,
        ") WHERE x.UID IN $uids } \
         SET h.chainStream = $stream, h.chainSeq = $headSeq, h.chainHash = $headHash, \
         h.chainKid = $headKid, h.chainSig = $headSig, h.chainSignedAt = $headAt \
         WITH h CALL { ",
        &inner,
        " } \
         WITH written OPTIONAL MATCH (s:",
        e,
        " {UID: $lastUid}) \
         SET s.sigKid = $kid, s.sig = $sig, s.sigAt = $sigAt \
         RETURN written",
    ]);
    let capacity = w.events.iter().map(AuditEvent::json_len).sum::<usize>() + 60 * w.events.len() + 800;
    let mut p = String::with_capacity(capacity);
    let mut key = |p: &mut String, k: &str| {
        p.push(if p.is_empty() { '{' } else { ',' });
        write_str(p, k);
        p.push(':');
    };
    let seal = |p: &mut String, prefix: [&str; 3], s: Option<&StoredSeal>, key: &mut dyn FnMut(&mut String, &str)| {
        key(p, prefix[0]);
        write_opt_str(p, s.map(|s| s.kid.as_str()));
        key(p, prefix[1]);
        write_opt_str(p, s.map(|s| s.sig.as_str()));
        key(p, prefix[2]);
        match s {
            Some(s) => write_int(p, s.signed_at),
            None => p.push_str("null"),
        }
    };
    key(&mut p, "trail");
    write_str(&mut p, trail);
    key(&mut p, "trailUid");
    write_str(&mut p, &crate::random::uuid_v4());
    key(&mut p, "events");
    p.push('[');
    for (i, e) in w.events.iter().enumerate() {
        if i > 0 {
            p.push(',');
        }
        e.write_json(&mut p);
    }
    p.push(']');
    key(&mut p, "uids");
    write_strs(&mut p, w.events.iter().map(|e| e.uid.as_str()));
    key(&mut p, "expectStream");
    write_str(&mut p, w.expect.map_or("", |h| h.stream_id.as_str()));
    key(&mut p, "expectSeq");
    write_int(&mut p, w.expect.map_or(-1, |h| h.seq as i64));
    key(&mut p, "expectHash");
    write_str(&mut p, w.expect.map_or("", |h| h.hash.as_str()));
    key(&mut p, "stream");
    write_str(&mut p, &w.head.stream_id);
    key(&mut p, "headSeq");
    write_uint(&mut p, w.head.seq);
    key(&mut p, "headHash");
    write_str(&mut p, &w.head.hash);
    seal(&mut p, ["headKid", "headSig", "headAt"], w.head.seal.as_ref(), &mut key);
    key(&mut p, "lastUid");
    write_opt_str(&mut p, w.events.last().map(|e| e.uid.as_str()));
    seal(&mut p, ["kid", "sig", "sigAt"], w.event_seal, &mut key);
    p.push('}');
    Ok((text, p))
}

/// Heads this process wrote last, per store ([`super::Store::chain_key`]).
static HEADS: Mutex<Vec<(String, SignedHead)>> = Mutex::new(Vec::new());

fn cached(key: &str) -> Option<SignedHead> {
    let heads = HEADS.lock().unwrap_or_else(|p| p.into_inner());
    heads.iter().find(|(k, _)| k == key).map(|(_, h)| h.clone())
}

fn remember(key: &str, head: Option<SignedHead>) {
    let mut heads = HEADS.lock().unwrap_or_else(|p| p.into_inner());
    heads.retain(|(k, _)| k != key);
    if let Some(h) = head {
        heads.push((key.to_owned(), h));
    }
}

/// What [`append`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    /// Events this write stored.
    pub written: usize,
    /// Events of the batch that were already stored (re-sent), left as they are.
    pub existing: usize,
    /// The trail's head after the write.
    pub head: Option<SignedHead>,
}

/// Why [`append`] failed.
#[derive(Debug)]
pub enum AppendError {
    /// The store failed (the caller maps it to 503 / 500).
    Store(AuditError),
    /// The store reported a count other than the batch's.
    Short {
        /// Stored.
        written: usize,
        /// Sent.
        sent: usize,
    },
    /// The head kept moving for [`MAX_ATTEMPTS`] tries.
    Contended,
    /// The signing key could not sign (the host's WebCrypto refused it); nothing was written.
    Sign(String),
}

/// Chains `events` after the trail's head, seals the write with `signer` (when configured) at
/// `now_ms`, and writes it conditionally; re-chains after a conflict. With `keys` (the Worker's
/// public keys, retired ones too), a head read from Neo4j whose seal they do not verify (none, or
/// one made for other values: the head pointed by hand at events appended or cut there) is not
/// continued: the write begins a new stream, and the old one, named by no signed head, fails
/// verification (before, the next write's seal covered whatever the head was pointed at).
pub async fn append<S: super::Store>(
    store: &S,
    trail: Option<&str>,
    signer: Option<&SigningKey>,
    keys: Option<&crate::sign::KeySet>,
    mut events: Vec<AuditEvent>,
    now_ms: i64,
) -> Result<Appended, AppendError> {
    // No lock across requests here: workerd cancels a request that waits on a promise only
    // another request's I/O would resolve ("hung"). Concurrent writers race for the head in
    // Neo4j instead; the trail node's lock serialises them and each loser re-chains.
    let key = store.chain_key(trail);
    let mut existing = 0;
    let mut head = cached(&key);
    let mut fresh = head.is_none();
    // Whether the head may be continued (one this isolate wrote, or one its keys verify).
    let mut sealed = true;
    // Retries after a transient error, and after a constraint's refusal.
    let (mut transient, mut constraint) = (0, 0);
    for _ in 0..MAX_ATTEMPTS {
        if fresh {
            let mut uids: Vec<&str> = Vec::with_capacity(events.len());
            for e in events.iter() {
                uids.push(e.uid.as_str());
            }
            let st = store.chain_state(trail, &uids).await.map_err(AppendError::Store)?;
            if !st.existing.is_empty() {
                existing += st.existing.len();
                events.retain(|e| !st.existing.contains(&e.uid));
            }
            head = st.head;
            sealed = match (keys, &head) {
                (Some(k), Some(h)) => match &h.seal {
                    Some(s) => k.verify(Purpose::Head, s, &h.stream_id, h.seq, &h.hash).await.is_ok(),
                    None => false,
                },
                _ => true,
            };
        }
        if events.is_empty() {
            return Ok(Appended { written: 0, existing, head });
        }
        let (stream, mut seq, mut prev) = match head.as_ref().filter(|_| sealed) {
            Some(h) => (h.stream_id.clone(), h.seq + 1, h.hash.clone()),
            None => (crate::chain::trail_stream_id(&store.trail_name(trail)), 0, GENESIS.to_owned()),
        };
        for e in &mut events {
            prev = crate::chain::seal_v2(e, &stream, seq, &prev);
            seq += 1;
        }
        let last = seq - 1;
        let (head_seal, event_seal) = match signer {
            Some(k) => {
                let h = k.sign(Purpose::Head, &stream, last, &prev, now_ms).await.map_err(AppendError::Sign)?;
                let e = k.sign(Purpose::Event, &stream, last, &prev, now_ms).await.map_err(AppendError::Sign)?;
                (Some(h), Some(e))
            }
            None => (None, None),
        };
        let new_head = SignedHead { stream_id: stream.clone(), seq: last, hash: prev.clone(), seal: head_seal };
        let w =
            ChainedWrite { expect: head.as_ref(), events: &events, head: &new_head, event_seal: event_seal.as_ref() };
        let written = store.write_chained(trail, &w).await;
        // The cache holds only the head of a whole write: after anything else the head is read
        // again (the answer of a failure may be lost after a commit).
        remember(&key, None);
        match written {
            Ok(Some(n)) if n == events.len() => {
                remember(&key, Some(new_head.clone()));
                return Ok(Appended { written: n, existing, head: Some(new_head) });
            }
            Ok(Some(n)) => return Err(AppendError::Short { written: n, sent: events.len() }),
            // The head moved (or a UID appeared): read it again and re-chain.
            Ok(None) => fresh = true,
            // Neo4j refused the transaction with a transient error (e.g. `DeadlockDetected`
            // between concurrent writers of one trail) or a constraint's refusal: it was rolled
            // back, nothing was written; read the head again and re-chain, as after a conflict,
            // at most MAX_TRANSIENT_RETRIES times. A constraint's refusal once only: a concurrent
            // MERGE's lost race passes then; an operator's constraint the events break never
            // does (before, 32 tries and a 503 "busy"; the Worker answers it 422).
            Err(e @ AuditError::Neo4j { .. }) if e.is_retryable() => {
                let (n, max) =
                    if e.splits_batch() { (&mut constraint, 1) } else { (&mut transient, MAX_TRANSIENT_RETRIES) };
                *n += 1;
                if *n > max {
                    return Err(AppendError::Store(e));
                }
                fresh = true;
            }
            Err(e) => return Err(AppendError::Store(e)),
        }
    }
    Err(AppendError::Contended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The Worker's two statements keep their plans as a logger's writes do (a re-plan when
    /// Neo4j's counts drift held one request ~0.1 s).
    #[test]
    fn both_statements_keep_their_plans() {
        let labels = Labels::default();
        let (state, _) = state_query(&labels, "t", &["a"]).unwrap();
        assert!(state.starts_with(crate::cypher::PLAN_ONCE), "{state}");
        let e = AuditEvent::build(None, "LOGIN", None, None, 100).unwrap();
        let head = SignedHead { stream_id: "s".into(), seq: 0, hash: "h".into(), seal: None };
        let w = ChainedWrite { expect: None, events: std::slice::from_ref(&e), head: &head, event_seal: None };
        let (write, _) = write_query(&labels, "t", &w).unwrap();
        assert!(write.starts_with(crate::cypher::PLAN_ONCE), "{write}");
    }

    /// The guarded first read keeps `CYPHER replan=skip` in front: Neo4j takes a `CYPHER`
    /// option only at a statement's start, so the guard put before it made the read a syntax
    /// error, every process's first read failed, and the full schema step ran instead.
    #[test]
    fn the_guarded_state_read_keeps_its_plan_option_first() {
        let (state, _) = state_query(&Labels::default(), "t", &["a"]).unwrap();
        let guarded = guarded_state_text(&state);
        let rest = guarded.strip_prefix(crate::cypher::PLAN_ONCE).unwrap_or_else(|| panic!("{guarded}"));
        assert!(rest.starts_with(crate::cypher::SCHEMA_GUARD), "{guarded}");
        assert_eq!(guarded.matches("CYPHER").count(), 1, "{guarded}");
        assert_eq!(&rest[crate::cypher::SCHEMA_GUARD.len()..], &state[crate::cypher::PLAN_ONCE.len()..]);
    }

    /// The parameters written as text are the ones the `json!` form built before (every value
    /// but the fresh `trailUid`).
    #[test]
    fn parameters_are_what_serde_json_wrote() {
        let labels = Labels::default();
        let (text, p) = state_query(&labels, "t\"1", &["a", "b"]).unwrap();
        assert_eq!(p, json!({"trail": "t\"1", "uids": ["a", "b"]}).to_string());
        assert_eq!(
            state_statement(&labels, "t\"1", &["a", "b"]).unwrap(),
            crate::cypher::Statement { text, parameters: json!({"trail": "t\"1", "uids": ["a", "b"]}) }
        );

        let mut e = AuditEvent::build(None, "LOGIN", None, None, 100).unwrap();
        e.details = Some(r#"{"n":1}"#.into());
        e.targets = vec![crate::event::Target::new("Doc", "d")];
        let events = vec![e.clone(), AuditEvent { uid: "u-2".into(), ..e }];
        let seal = StoredSeal { kid: "k".into(), sig: "s".into(), signed_at: 7 };
        let expect = SignedHead { stream_id: "s".into(), seq: 4, hash: "h".into(), seal: None };
        let head = SignedHead { stream_id: "s".into(), seq: 6, hash: "h2".into(), seal: Some(seal.clone()) };
        for (expect, event_seal) in [(None, None), (Some(&expect), Some(&seal))] {
            let w = ChainedWrite { expect, events: &events, head: &head, event_seal };
            let (_, p) = write_query(&labels, "t", &w).unwrap();
            let mut ours: serde_json::Value = serde_json::from_str(&p).unwrap();
            assert!(ours["trailUid"].as_str().is_some_and(|u| u.len() == 36));
            ours["trailUid"] = json!("x");
            let uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
            let (k, s, a) = match event_seal {
                Some(s) => (Some(s.kid.as_str()), Some(s.sig.as_str()), Some(s.signed_at)),
                None => (None, None, None),
            };
            let want = json!({
                "trail": "t", "trailUid": "x", "events": events, "uids": uids,
                "expectStream": expect.map_or("", |h| h.stream_id.as_str()),
                "expectSeq": expect.map_or(-1, |h| h.seq as i64),
                "expectHash": expect.map_or("", |h| h.hash.as_str()),
                "stream": head.stream_id, "headSeq": head.seq, "headHash": head.hash,
                "headKid": "k", "headSig": "s", "headAt": 7,
                "lastUid": "u-2", "kid": k, "sig": s, "sigAt": a,
            });
            assert_eq!(ours.to_string(), want.to_string());
        }
    }
}
