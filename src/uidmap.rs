//! The browser queue's pending events by UID: an open-addressing hash table (linear probing, deletion by
//! backward shift, a word-wise multiply-rotate hash of the UID kept per slot), written for this one key and value type instead of a
//! `BTreeMap` (about 11 KB of the write entry's `.wasm` before wasm-opt) or std's `HashMap`
//! (hashbrown's generic table, about 4.7 KB). Nothing there needs the UID order. The key is the
//! shared event itself (its UID is not copied), with one flag bit per member as its value; the
//! table is at most 4/5 full.

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

/// One member: the key's hash (kept, so that growing and removing never hash again) in the low
/// 31 bits of `meta`, the member's flag (the queue's "a send is in flight") in the top bit, and
/// the key. 8 bytes on wasm32, the same as a slot without the kept hash: the queue's pending map
/// holds every waiting event (bench/memory.mjs), and each one's size is the key's
/// `AuditEvent::json_len`, not stored.
struct Member {
    meta: u32,
    key: SharedEvent,
}

const FLAG: u32 = 1 << 31;

/// The hash as kept in a slot (its top bit is the flag's).
fn kept(uid: &str) -> u32 {
    hash(uid) & !FLAG
}

/// The table doubles before it would be more than LOAD_NUM/LOAD_DEN (4/5) full. With the kept
/// hash compared before the key, a longer probe run costs little, and at 100 000 waiting events
/// the table stays at 131 072 slots (1 MiB on wasm32) instead of doubling to 262 144 at half full.
const LOAD_NUM: usize = 4;
const LOAD_DEN: usize = 5;

pub(crate) struct UidMap {
    slots: Vec<Option<Member>>,
    len: usize,
}

impl Default for UidMap {
    fn default() -> Self {
        UidMap { slots: Vec::new(), len: 0 }
    }
}

/// A member's flag, settable in place (see [`UidMap::iter_mut`]).
pub(crate) struct Flag<'a>(&'a mut u32);

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the browser queue's
impl Flag<'_> {
    pub(crate) fn get(&self) -> bool {
        *self.0 & FLAG != 0
    }
    pub(crate) fn set(&mut self, on: bool) {
        *self.0 = (*self.0 & !FLAG) | if on { FLAG } else { 0 };
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the browser queue's
impl UidMap {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot holding `uid` (kept hash `h`), or the empty slot where it would go.
    fn find(&self, uid: &str, h: u32) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match &self.slots[i] {
                None => return (i, false),
                Some(m) if m.meta & !FLAG == h && m.key.uid == uid => return (i, true),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    fn slot_of(&self, uid: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        match self.find(uid, kept(uid)) {
            (i, true) => Some(i),
            _ => None,
        }
    }

    pub(crate) fn contains_key(&self, uid: &str) -> bool {
        self.slot_of(uid).is_some()
    }

    /// `uid`'s flag, or `None` when `uid` is not a member.
    #[cfg(test)]
    pub(crate) fn flag(&self, uid: &str) -> Option<bool> {
        self.slot_of(uid).and_then(|i| self.slots[i].as_ref()).map(|m| m.meta & FLAG != 0)
    }

    /// Sets `uid`'s flag; `false` when `uid` is not a member.
    pub(crate) fn set_flag(&mut self, uid: &str, on: bool) -> bool {
        match self.slot_of(uid).and_then(|i| self.slots[i].as_mut()) {
            Some(m) => {
                Flag(&mut m.meta).set(on);
                true
            }
            None => false,
        }
    }

    /// Adds `k` with `flag` (or sets the flag of an equal key, keeping that key); the replaced
    /// flag.
    pub(crate) fn insert(&mut self, k: SharedEvent, flag: bool) -> Option<bool> {
        self.insert_with(k, flag, false).map(|(_, f)| f)
    }

    /// Adds `k` with `flag`, or replaces an equal key *and* its flag (one probe where `remove`
    /// then `insert` took two); the replaced key (its size is the caller's to subtract).
    pub(crate) fn put(&mut self, k: SharedEvent, flag: bool) -> Option<SharedEvent> {
        self.insert_with(k, flag, true).map(|(k, _)| k)
    }

    /// The replaced key (`k` itself when the old key stays) and flag.
    fn insert_with(&mut self, k: SharedEvent, flag: bool, new_key: bool) -> Option<(SharedEvent, bool)> {
        if (self.len + 1) * LOAD_DEN > self.slots.len() * LOAD_NUM {
            self.grow();
        }
        let h = kept(&k.uid);
        let meta = h | if flag { FLAG } else { 0 };
        match self.find(&k.uid, h) {
            (i, true) => {
                let m = self.slots[i].as_mut()?;
                let old_flag = m.meta & FLAG != 0;
                m.meta = meta;
                let old_k = if new_key { std::mem::replace(&mut m.key, k) } else { k };
                Some((old_k, old_flag))
            }
            (i, false) => {
                self.slots[i] = Some(Member { meta, key: k });
                self.len += 1;
                None
            }
        }
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..n).map(|_| None).collect());
        let mask = n - 1;
        for m in old.into_iter().flatten() {
            // The keys are distinct: the first empty slot of the probe run.
            let mut i = (m.meta & !FLAG) as usize & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some(m);
        }
    }

    /// Removes `uid`; its key.
    pub(crate) fn remove(&mut self, uid: &str) -> Option<SharedEvent> {
        let mut hole = self.slot_of(uid)?;
        let gone = self.slots[hole].take().map(|m| m.key);
        self.len -= 1;
        // Backward shift: move later members of the probe run into the hole when their home
        // slot does not lie (cyclically) between the hole and where they are.
        let mask = self.slots.len() - 1;
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let home = match &self.slots[i] {
                None => break,
                Some(m) => (m.meta & !FLAG) as usize & mask,
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

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&SharedEvent, Flag<'_>)> {
        self.slots.iter_mut().flatten().map(|m| (&m.key, Flag(&mut m.meta)))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &SharedEvent> {
        self.slots.iter().flatten().map(|m| &m.key)
    }

    /// Each member's flag.
    pub(crate) fn flags(&self) -> impl Iterator<Item = bool> + '_ {
        self.slots.iter().flatten().map(|m| m.meta & FLAG != 0)
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
                let flag = (i as u32 + round) % 3 == 0;
                match (i as u32 + round) % 5 {
                    0 | 1 => assert_eq!(m.insert(ev(u), flag), model.insert(u.clone(), flag)),
                    4 => {
                        // `put` replaces the key too: the map then holds this very event, and
                        // gives the replaced one back.
                        let e = ev(u);
                        let old = m.put(e.clone(), flag);
                        assert_eq!(
                            old.as_ref().map(|k| k.uid.clone()),
                            model.insert(u.clone(), flag).map(|_| u.clone())
                        );
                        assert!(old.is_none_or(|k| !SharedEvent::ptr_eq(&k, &e)));
                        assert!(m.keys().any(|k| SharedEvent::ptr_eq(k, &e)));
                    }
                    2 => assert_eq!(m.remove(u).map(|k| k.uid.clone()), model.remove(u).map(|_| u.clone())),
                    _ => {
                        let found = m.set_flag(u, !flag);
                        assert_eq!(found, model.contains_key(u));
                        if let Some(v) = model.get_mut(u) {
                            *v = !flag;
                        }
                    }
                }
                assert_eq!(m.len(), model.len());
                assert!(m.len() * LOAD_DEN <= m.slots.len() * LOAD_NUM, "at most 4/5 full");
            }
            for u in &uids {
                assert_eq!(m.contains_key(u), model.contains_key(u));
                assert_eq!(m.flag(u), model.get(u).copied());
            }
            let mut keys: Vec<&str> = m.keys().map(|k| k.uid.as_str()).collect();
            keys.sort();
            let mut want: Vec<&str> = model.keys().map(|k| k.as_str()).collect();
            want.sort();
            assert_eq!(keys, want);
            assert_eq!(m.flags().filter(|&f| f).count(), model.values().filter(|&&f| f).count());
            for (k, mut f) in m.iter_mut() {
                assert_eq!(Some(f.get()), model.get(&k.uid).copied());
                // Flipped in place, the hash beside it untouched (the member is still found).
                f.set(!f.get());
                model.insert(k.uid.clone(), f.get());
            }
            for u in &uids {
                assert_eq!(m.flag(u), model.get(u).copied());
            }
        }
        // Removing everything leaves every probe run intact on the way.
        for u in &uids {
            assert_eq!(m.remove(u).is_some(), model.remove(u).is_some());
            for w in &uids {
                assert_eq!(m.contains_key(w), model.contains_key(w), "after removing {u}");
            }
        }
        assert!(m.is_empty());
        m.insert(ev("a"), true);
        m.clear();
        assert!(m.is_empty() && !m.contains_key("a") && m.remove("a").is_none() && m.flag("a").is_none());
    }

    /// A UID whose hash has the top bit set keeps its flag apart from its hash.
    #[test]
    fn the_flag_never_changes_where_a_key_lives() {
        let uids: Vec<String> = (0..2000u32).map(|i| format!("u{i}")).collect();
        assert!(uids.iter().any(|u| hash(u) & FLAG != 0), "some hash has the top bit");
        let mut m = UidMap::default();
        for (i, u) in uids.iter().enumerate() {
            m.insert(ev(u), i % 2 == 0);
        }
        for (i, u) in uids.iter().enumerate() {
            assert_eq!(m.flag(u), Some(i % 2 == 0), "{u}");
            assert!(m.set_flag(u, i % 2 == 1));
        }
        for (i, u) in uids.iter().enumerate().step_by(3) {
            assert_eq!(m.remove(u).map(|k| k.uid.clone()), Some(u.clone()), "{i}");
        }
        for (i, u) in uids.iter().enumerate() {
            assert_eq!(m.flag(u), (i % 3 != 0).then_some(i % 2 == 1), "{u}");
        }
    }
}

// A slot is a pointer and the kept hash with the flag: 8 bytes where pointers are 4 (wasm32).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(std::mem::size_of::<Option<Member>>() == 8);
