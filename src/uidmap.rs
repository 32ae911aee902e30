//! The browser queue's pending events by UID: an open-addressing hash table (linear probing, deletion by
//! backward shift, a word-wise multiply-rotate hash of the UID kept per slot), written for this one key and value type instead of a
//! `BTreeMap` (about 11 KB of the write entry's `.wasm` before wasm-opt) or std's `HashMap`
//! (hashbrown's generic table, about 4.7 KB). Nothing there needs the UID order. The key is the
//! shared event itself (its UID is not copied); the table is at most half full.

use crate::batch::SharedEvent;

pub(crate) fn hash(uid: &str) -> u32 {
    // Eight bytes at a time (a UID is 36): multiply-rotate over the words, then the top half of
    // one last product, whose bits all depend on every input bit (the table takes the low bits).
    // Byte-wise FNV-1a over the UID, and hashing it again for every probe run moved by a removal
    // or a growth, showed in the profile of bench/cpu_full.mjs.
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = uid.as_bytes();
    let mut h: u64 = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    h = (h.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    (h >> 32) as u32
}

/// One member: the key's hash (kept, so that growing and removing never hash again), the key
/// and the value.
type Slot<V> = Option<(u32, SharedEvent, V)>;

pub(crate) struct UidMap<V> {
    slots: Vec<Slot<V>>,
    len: usize,
}

impl<V> Default for UidMap<V> {
    fn default() -> Self {
        UidMap { slots: Vec::new(), len: 0 }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the browser queue's
impl<V> UidMap<V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot holding `uid` (hashed to `h`), or the empty slot where it would go.
    fn find(&self, uid: &str, h: u32) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match &self.slots[i] {
                None => return (i, false),
                Some((kh, k, _)) if *kh == h && k.uid == uid => return (i, true),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    pub(crate) fn contains_key(&self, uid: &str) -> bool {
        !self.slots.is_empty() && self.find(uid, hash(uid)).1
    }

    pub(crate) fn get_mut(&mut self, uid: &str) -> Option<&mut V> {
        if self.slots.is_empty() {
            return None;
        }
        match self.find(uid, hash(uid)) {
            (i, true) => self.slots[i].as_mut().map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// Adds `k` (or replaces the value of an equal key, keeping that key); the replaced value.
    pub(crate) fn insert(&mut self, k: SharedEvent, v: V) -> Option<V> {
        self.insert_with(k, v, false)
    }

    /// Adds `k`, or replaces an equal key *and* its value (one probe where `remove` then
    /// `insert` took two); the replaced value.
    pub(crate) fn put(&mut self, k: SharedEvent, v: V) -> Option<V> {
        self.insert_with(k, v, true)
    }

    fn insert_with(&mut self, k: SharedEvent, v: V, new_key: bool) -> Option<V> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = hash(&k.uid);
        match self.find(&k.uid, h) {
            (i, true) => {
                let (_, old_k, old_v) = self.slots[i].as_mut()?;
                if new_key {
                    *old_k = k;
                }
                Some(std::mem::replace(old_v, v))
            }
            (i, false) => {
                self.slots[i] = Some((h, k, v));
                self.len += 1;
                None
            }
        }
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..n).map(|_| None).collect());
        let mask = n - 1;
        for slot in old.into_iter().flatten() {
            // The keys are distinct: the first empty slot of the probe run.
            let mut i = slot.0 as usize & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some(slot);
        }
    }

    pub(crate) fn remove(&mut self, uid: &str) -> Option<V> {
        if self.slots.is_empty() {
            return None;
        }
        let (mut hole, found) = self.find(uid, hash(uid));
        if !found {
            return None;
        }
        let gone = self.slots[hole].take().map(|(_, _, v)| v);
        self.len -= 1;
        // Backward shift: move later members of the probe run into the hole when their home
        // slot does not lie (cyclically) between the hole and where they are.
        let mask = self.slots.len() - 1;
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let home = match &self.slots[i] {
                None => break,
                Some((h, _, _)) => *h as usize & mask,
            };
            let stays = if hole <= i { hole < home && home <= i } else { hole < home || home <= i };
            if !stays {
                self.slots[hole] = self.slots[i].take();
                hole = i;
            }
        }
        gone
    }

    pub(crate) fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&SharedEvent, &mut V)> {
        self.slots.iter_mut().flatten().map(|(_, k, v)| (&*k, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &SharedEvent> {
        self.slots.iter().flatten().map(|(_, k, _)| k)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().flatten().map(|(_, _, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AuditEvent;

    fn ev(uid: &str) -> SharedEvent {
        let mut e = AuditEvent::from_json(&crate::json::parse(
            r#"{"UID":"x","eventType":"t","eventCategory":"c","ts":1,"userUID":null,"userName":null,"details":null}"#,
            2,
        ).unwrap())
        .unwrap();
        e.uid = uid.to_owned();
        SharedEvent::new(e)
    }

    /// Against std's HashMap, through growth, replacement, removal (backward shift) and clear.
    #[test]
    fn behaves_as_a_map() {
        let mut m = UidMap::default();
        let mut model = std::collections::HashMap::new();
        let uids: Vec<String> = (0..300u32).map(|i| format!("{:08x}-uid-{i}", i.wrapping_mul(2654435761u32))).collect();
        for round in 0..3u32 {
            for (i, u) in uids.iter().enumerate() {
                match (i as u32 + round) % 5 {
                    0 | 1 => assert_eq!(m.insert(ev(u), i as u32 + round), model.insert(u.clone(), i as u32 + round)),
                    4 => {
                        // `put` replaces the key too: the map then holds this very event.
                        let e = ev(u);
                        assert_eq!(m.put(e.clone(), i as u32 + round), model.insert(u.clone(), i as u32 + round));
                        assert!(m.keys().any(|k| SharedEvent::ptr_eq(k, &e)));
                    }
                    2 => assert_eq!(m.remove(u), model.remove(u)),
                    _ => {
                        if let Some(v) = m.get_mut(u) {
                            *v += 1;
                        }
                        if let Some(v) = model.get_mut(u) {
                            *v += 1;
                        }
                    }
                }
                assert_eq!(m.len(), model.len());
            }
            for u in &uids {
                assert_eq!(m.contains_key(u), model.contains_key(u));
                assert_eq!(m.get_mut(u).copied(), model.get(u).copied());
            }
            let mut keys: Vec<&str> = m.keys().map(|k| k.uid.as_str()).collect();
            keys.sort();
            let mut want: Vec<&str> = model.keys().map(|k| k.as_str()).collect();
            want.sort();
            assert_eq!(keys, want);
            assert_eq!(m.values().count(), model.len());
            for (k, v) in m.iter_mut() {
                assert_eq!(Some(&*v), model.get(&k.uid));
            }
        }
        // Removing everything leaves every probe run intact on the way.
        for u in &uids {
            assert_eq!(m.remove(u), model.remove(u));
            for w in &uids {
                assert_eq!(m.contains_key(w), model.contains_key(w), "after removing {u}");
            }
        }
        assert!(m.is_empty());
        m.insert(ev("a"), 1);
        m.clear();
        assert!(m.is_empty() && !m.contains_key("a") && m.remove("a").is_none());
    }
}
