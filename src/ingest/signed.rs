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

use serde_json::json;

use crate::chain::{SignedHead, StoredSeal, GENESIS};
use crate::config::Labels;
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::sign::{Purpose, SigningKey};

/// How often a write is re-chained after the head moved under it, before answering 503.
pub const MAX_ATTEMPTS: usize = 32;

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

/// The statement that reads the head and the already stored UIDs of a batch.
pub fn state_statement(labels: &Labels, trail: &str, uids: &[&str]) -> Result<crate::cypher::Statement, AuditError> {
    labels.validate()?;
    Ok(crate::cypher::Statement {
        text: format!(
            "OPTIONAL MATCH (h:{t} {{name: $trail}}) \
             RETURN h.chainStream, h.chainSeq, h.chainHash, h.chainKid, h.chainSig, h.chainSignedAt, \
             [x IN $uids WHERE EXISTS {{ MATCH (y:{e} {{UID: x}}) }}]",
            t = labels.trail,
            e = labels.event
        ),
        parameters: json!({ "trail": trail, "uids": uids }),
    })
}

pub use crate::read::head_from_row;

/// The conditional write: the standard event write
/// ([`crate::cypher::write_events_text_with_targets`], as a subquery), run only when the trail's head is still `expect` and no UID of the batch exists.
/// One row `written` when it ran; no row when the head moved.
pub fn write_statement(labels: &Labels, trail: &str, w: &ChainedWrite<'_>) -> Result<crate::cypher::Statement, AuditError> {
    // With targets, the event write links them too (one subquery per target label).
    let inner = crate::cypher::write_events_text_with_targets(labels, &crate::cypher::target_labels(w.events))?;
    let text = format!(
        "MERGE (h:{t} {{name: $trail}}) ON CREATE SET h.UID = $trailUid, h.{indexed} = true \
         SET h._chainLock = true REMOVE h._chainLock \
         WITH h WHERE coalesce(h.chainStream, '') = $expectStream AND coalesce(h.chainSeq, -1) = $expectSeq \
         AND coalesce(h.chainHash, '') = $expectHash \
         AND NOT EXISTS {{ MATCH (x:{e}) WHERE x.UID IN $uids }} \
         SET h.chainStream = $stream, h.chainSeq = $headSeq, h.chainHash = $headHash, \
         h.chainKid = $headKid, h.chainSig = $headSig, h.chainSignedAt = $headAt \
         WITH h CALL {{ {inner} }} \
         WITH written OPTIONAL MATCH (s:{e} {{UID: $lastUid}}) \
         SET s.sigKid = $kid, s.sig = $sig, s.sigAt = $sigAt \
         RETURN written",
        t = labels.trail,
        e = labels.event,
        indexed = crate::cypher::TRAIL_INDEXED
    );
    let uids: Vec<&str> = w.events.iter().map(|e| e.uid.as_str()).collect();
    let (hk, hs, ha) = match &w.head.seal {
        Some(s) => (Some(s.kid.as_str()), Some(s.sig.as_str()), Some(s.signed_at)),
        None => (None, None, None),
    };
    let (k, s, a) = match w.event_seal {
        Some(s) => (Some(s.kid.as_str()), Some(s.sig.as_str()), Some(s.signed_at)),
        None => (None, None, None),
    };
    Ok(crate::cypher::Statement {
        text,
        parameters: json!({
            "trail": trail,
            "trailUid": crate::random::uuid_v4(),
            "events": w.events,
            "uids": uids,
            "expectStream": w.expect.map_or("", |h| h.stream_id.as_str()),
            "expectSeq": w.expect.map_or(-1, |h| h.seq as i64),
            "expectHash": w.expect.map_or("", |h| h.hash.as_str()),
            "stream": w.head.stream_id,
            "headSeq": w.head.seq,
            "headHash": w.head.hash,
            "headKid": hk, "headSig": hs, "headAt": ha,
            "lastUid": w.events.last().map(|e| e.uid.as_str()),
            "kid": k, "sig": s, "sigAt": a,
        }),
    })
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
}

/// Chains `events` after the trail's head, seals the write with `signer` (when configured) at
/// `now_ms`, and writes it conditionally; re-chains after a conflict.
pub async fn append<S: super::Store>(
    store: &S,
    trail: Option<&str>,
    signer: Option<&SigningKey>,
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
    for _ in 0..MAX_ATTEMPTS {
        if fresh {
            let uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
            let st = store.chain_state(trail, &uids).await.map_err(AppendError::Store)?;
            if !st.existing.is_empty() {
                existing += st.existing.len();
                events.retain(|e| !st.existing.contains(&e.uid));
            }
            head = st.head;
        }
        if events.is_empty() {
            return Ok(Appended { written: 0, existing, head });
        }
        let (stream, mut seq, mut prev) = match &head {
            Some(h) => (h.stream_id.clone(), h.seq + 1, h.hash.clone()),
            None => (crate::random::uuid_v4(), 0, GENESIS.to_owned()),
        };
        for e in &mut events {
            prev = crate::chain::seal_v2(e, &stream, seq, &prev);
            seq += 1;
        }
        let last = seq - 1;
        let seal = |p| signer.map(|k| k.seal(p, &stream, last, &prev, now_ms));
        let new_head = SignedHead { stream_id: stream.clone(), seq: last, hash: prev.clone(), seal: seal(Purpose::Head) };
        let event_seal = seal(Purpose::Event);
        let w = ChainedWrite { expect: head.as_ref(), events: &events, head: &new_head, event_seal: event_seal.as_ref() };
        match store.write_chained(trail, &w).await {
            Ok(Some(n)) if n == events.len() => {
                remember(&key, Some(new_head.clone()));
                return Ok(Appended { written: n, existing, head: Some(new_head) });
            }
            Ok(Some(n)) => {
                remember(&key, None);
                return Err(AppendError::Short { written: n, sent: events.len() });
            }
            Ok(None) => {
                // The head moved (or a UID appeared): read it again and re-chain.
                remember(&key, None);
                fresh = true;
            }
            Err(e) => {
                // The answer may be lost after a commit: never trust the cache after a failure.
                remember(&key, None);
                return Err(AppendError::Store(e));
            }
        }
    }
    Err(AppendError::Contended)
}
