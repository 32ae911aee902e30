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

/// Makes sure random bytes can be drawn here: refills the pool now if it holds less than a
/// logger's first draws, and gives the platform's refusal back instead of trapping at the next
/// [`fill`]. Cloudflare Workers refuse `crypto.getRandomValues` outside the handling of a request
/// (a logger made at a module's top level), and the JavaScript constructor of the Workers build
/// says so (src/wasm/mod.rs).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "memory-queue")), allow(dead_code))]
pub(crate) fn ready() -> Result<(), getrandom::Error> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.pos + 256 > BLOCK {
            getrandom::fill(&mut p.buf[..])?;
            p.pos = 0;
        }
        Ok(())
    })
}

/// A random (version 4) UUID, hyphenated, lower case.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    hyphenated(&b)
}

/// The 16 bytes of a UUID in its hyphenated lower-case form (`8-4-4-4-12` hex digits), written
/// here rather than by the `uuid` crate (whose formatting brought `core::fmt` code along).
pub(crate) fn hyphenated(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Bytes written by index, then one String (a `String::push` per character, with its UTF-8
    // step and capacity check, showed in profiles: one UID per event).
    let mut s = vec![b'-'; 36];
    let mut at = 0;
    for (i, &x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1; // the hyphen already there
        }
        s[at] = HEX[(x >> 4) as usize];
        s[at + 1] = HEX[(x & 15) as usize];
        at += 2;
    }
    // SAFETY: only hyphens and digits of HEX were written: ASCII only.
    unsafe { crate::json::ascii_string(s) }
}

/// Whether `s` is a UUID in the hyphenated form (`8-4-4-4-12` hex digits, either case): what
/// `uuid::Uuid::parse_str` accepts among 36-character strings.
#[cfg_attr(not(feature = "ingest"), allow(dead_code))]
pub(crate) fn is_hyphenated(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// 64 random bits.
pub(crate) fn u64() -> u64 {
    let mut b = [0u8; 8];
    fill(&mut b);
    u64::from_le_bytes(b)
}

/// A seeded, repeatable xorshift generator for the tests' generated cases: each call gives a
/// number below its argument (the same cases on every run, unlike [`u64`]).
#[cfg(test)]
pub(crate) fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |below| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    }
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

    #[test]
    fn hyphenated_form_is_the_uuid_crates() {
        for _ in 0..200 {
            let mut b = [0u8; 16];
            super::fill(&mut b);
            let want = uuid::Builder::from_random_bytes(b).into_uuid();
            let mut v4 = b;
            v4[6] = (v4[6] & 0x0f) | 0x40;
            v4[8] = (v4[8] & 0x3f) | 0x80;
            assert_eq!(super::hyphenated(&v4), want.hyphenated().to_string());
            assert_eq!(super::hyphenated(&b), uuid::Uuid::from_bytes(b).to_string());
        }
        let good = "0b5e7f33-5C1E-4f0a-9a0e-3c0e8d1b2a11";
        let mut cases = vec![
            good.to_owned(),
            good.to_uppercase(),
            "0b5e7f335c1e4f0a9a0e3c0e8d1b2a11".into(),
            format!("{{{good}}}"),
        ];
        for i in 0..36 {
            for c in ['-', 'g', '0', ' ', 'é'] {
                let mut t: Vec<char> = good.chars().collect();
                t[i] = c;
                cases.push(t.into_iter().collect());
            }
        }
        cases.push(format!("urn:uuid:{good}"));
        cases.push("0b5e7f33-5c1e-4f0a-9a0e+3c0e8d1b2a11".into());
        for t in cases {
            let crate_says = t.len() == 36 && uuid::Uuid::parse_str(&t).is_ok();
            assert_eq!(super::is_hyphenated(&t), crate_says, "{t}");
        }
    }
}
