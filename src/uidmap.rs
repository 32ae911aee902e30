//! A word-wise multiply-rotate hash of a UID (the sink's table of distinct UIDs, src/sink/neo4j.rs).
//! The browser queue's table of pending events that also used it went with the queue's Rust side
//! (the delivery machine holds the queue: docs/sansio.md step 4).

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
