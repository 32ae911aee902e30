//! Randomness from the platform through `getrandom` (the OS natively, `crypto.getRandomValues` on
//! wasm), drawn in blocks: one host call serves 256 UUIDs. In Node a `getRandomValues` call costs
//! about as much as the whole rest of an event's work inside the core, so drawing per UUID made
//! randomness a fifth of the CPU time of `logUserAction` (measured with `node --cpu-prof` on
//! `bench/cpu.mjs`). The bytes are the platform CSPRNG's either way; each is used once.
//!
//! ```
//! let a = neo4j_audit::random::uuid_v4();
//! let b = neo4j_audit::random::uuid_v4();
//! assert_ne!(a, b);
//! assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
//! ```

use std::cell::RefCell;

const BLOCK: usize = 4096;

struct Pool {
    buf: Box<[u8; BLOCK]>,
    pos: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool { buf: Box::new([0; BLOCK]), pos: BLOCK });
}

/// Fills `out` (at most a block) with random bytes.
pub(crate) fn fill(out: &mut [u8]) {
    let n = out.len();
    assert!(n <= BLOCK);
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.pos + n > BLOCK {
            getrandom::fill(&mut p.buf[..]).expect("the platform's random number generator failed");
            p.pos = 0;
        }
        let start = p.pos;
        out.copy_from_slice(&p.buf[start..start + n]);
        p.buf[start..start + n].fill(0); // never handed out twice
        p.pos += n;
    });
}

/// A random (version 4) UUID, hyphenated, lower case.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().hyphenated().to_string()
}

/// 64 random bits.
pub(crate) fn u64() -> u64 {
    let mut b = [0u8; 8];
    fill(&mut b);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_v4_and_distinct_across_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let u = super::uuid_v4();
            let p = uuid::Uuid::parse_str(&u).unwrap();
            assert_eq!(p.get_version_num(), 4);
            assert!(seen.insert(u));
        }
    }
}
