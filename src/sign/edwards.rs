//! The two checks on Ed25519 encodings that `ed25519-dalek`'s `verify_strict` makes and WebCrypto
//! does not: that 32 bytes encode a point of the curve (a public key that does not is refused
//! when the key set is built, as `VerifyingKey::from_bytes` refuses it), and that the point is
//! not of small order (a small-order public key, or a signature's `R` of small order, is refused:
//! with such a key WebCrypto accepts the all-zero signature for every message). Plus the bound
//! `S < L` on a signature's scalar. Field arithmetic modulo p = 2^255 - 19 with four 64-bit
//! limbs, written for size, not speed: it runs once per key and once per signature.
//!
//! The tests compare every function with curve25519-dalek on random and edge-case input.

/// An integer below 2^256 (little-endian limbs), taken modulo p.
type Fe = [u64; 4];

const P: Fe = [0xffff_ffff_ffff_ffed, u64::MAX, u64::MAX, 0x7fff_ffff_ffff_ffff];
/// The curve constant d = -121665/121666.
const D: Fe = [0x75eb_4dca_1359_78a3, 0x0070_0a4d_4141_d8ab, 0x8cc7_4079_7779_e898, 0x5203_6cee_2b6f_fe73];
/// The `y` of the points of order 8 (each shared by two points, `x` and `-x`).
const Y8: [Fe; 2] = [
    [0xb027_b2c2_8f95_e826, 0xf098_eff2_89f4_c345, 0x3933_c6d3_05ac_dfd5, 0x05fc_536d_8802_38b1],
    [0x4fd8_4d3d_706a_17c7, 0x0f67_100d_760b_3cba, 0xc6cc_392c_fa53_202a, 0x7a03_ac92_77fd_c74e],
];
/// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian bytes.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `a + b * 38` folded below 2^256 (2^256 = 38 mod p).
fn fold(lo: &[u64], hi: &[u64]) -> Fe {
    let mut r = [0u64; 4];
    let mut c: u128 = 0;
    for i in 0..4 {
        let v = lo[i] as u128 + hi[i] as u128 * 38 + c;
        r[i] = v as u64;
        c = v >> 64;
    }
    while c != 0 {
        let mut k = c * 38;
        for limb in r.iter_mut() {
            let v = *limb as u128 + k;
            *limb = v as u64;
            k = v >> 64;
            if k == 0 {
                break;
            }
        }
        c = k;
    }
    r
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut c: u128 = 0;
        for j in 0..4 {
            let v = t[i + j] as u128 + a[i] as u128 * b[j] as u128 + c;
            t[i + j] = v as u64;
            c = v >> 64;
        }
        t[i + 4] = c as u64;
    }
    fold(&t[..4], &t[4..])
}

fn add(a: &Fe, b: &Fe) -> Fe {
    let mut r = [0u64; 4];
    let mut c = 0u128;
    for i in 0..4 {
        let v = a[i] as u128 + b[i] as u128 + c;
        r[i] = v as u64;
        c = v >> 64;
    }
    fold(&r, &[c as u64, 0, 0, 0])
}

/// The representative below p.
fn canon(mut a: Fe) -> Fe {
    // a < 2^256 < 3p: subtract p at most twice.
    for _ in 0..2 {
        let mut r = [0u64; 4];
        let mut borrow = 0i128;
        for i in 0..4 {
            let v = a[i] as i128 - P[i] as i128 + borrow;
            r[i] = v as u64;
            borrow = v >> 64;
        }
        if borrow == 0 {
            a = r;
        }
    }
    a
}

/// `a^((p-1)/2)` below p: 0, 1 (a square) or p - 1.
fn legendre(a: &Fe) -> Fe {
    // (p - 1) / 2 = 2^254 - 10: bits 253..4 set, then 0110.
    let mut r: Fe = [1, 0, 0, 0];
    for bit in (0..254).rev() {
        r = mul(&r, &r);
        if bit >= 4 || bit == 1 || bit == 2 {
            r = mul(&r, a);
        }
    }
    canon(r)
}

fn y_of(bytes: &[u8; 32]) -> Fe {
    let mut y = [0u64; 4];
    for (i, limb) in y.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(b);
    }
    y[3] &= 0x7fff_ffff_ffff_ffff;
    y
}

/// Whether `bytes` decode to a point of the curve (as curve25519-dalek's `decompress` decides:
/// `y` taken modulo p, `x^2 = (y^2 - 1) / (d y^2 + 1)` must have a root).
pub(crate) fn is_point(bytes: &[u8; 32]) -> bool {
    let y = y_of(bytes);
    let y2 = mul(&y, &y);
    // u = y^2 - 1 = y^2 + (p - 1); v = d y^2 + 1. A root exists iff u v is a square or zero.
    let u = add(&y2, &[P[0] - 1, P[1], P[2], P[3]]);
    let v = add(&mul(&D, &y2), &[1, 0, 0, 0]);
    legendre(&mul(&u, &v)) != [P[0] - 1, P[1], P[2], P[3]]
}

/// Whether a point's encoding (already known to decode) names a point of small order: its `y`
/// is that of one of the eight torsion points (0, 1, -1 or the two order-8 values).
pub(crate) fn is_small_order(bytes: &[u8; 32]) -> bool {
    let y = canon(y_of(bytes));
    y == [0; 4] || y == [1, 0, 0, 0] || y == [P[0] - 1, P[1], P[2], P[3]] || Y8.contains(&y)
}

/// Whether a signature's scalar `S` (its second half) is below L.
pub(crate) fn s_is_canonical(sig: &[u8; 64]) -> bool {
    for i in (0..32).rev() {
        if sig[32 + i] != L[i] {
            return sig[32 + i] < L[i];
        }
    }
    false
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    fn bytes(seed: u64) -> [u8; 32] {
        // splitmix64, 4 words.
        let mut s = seed;
        let mut out = [0u8; 32];
        for c in out.chunks_mut(8) {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            c.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out
    }

    #[test]
    fn point_checks_agree_with_dalek() {
        let mut cases: Vec<[u8; 32]> = (0..3000).map(bytes).collect();
        for t in curve25519_dalek::constants::EIGHT_TORSION {
            let b = t.compress().to_bytes();
            cases.push(b);
            let mut neg = b;
            neg[31] ^= 0x80;
            cases.push(neg);
        }
        // Non-canonical encodings (y >= p) and edge values.
        for low in [0xedu8, 0xee, 0xef, 0xff, 0, 1, 7] {
            let mut b = [0xff; 32];
            b[0] = low;
            b[31] = 0x7f;
            cases.push(b);
            b[31] = 0xff;
            cases.push(b);
        }
        cases.push([7; 32]);
        let base = curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
        for k in 1u64..200 {
            let pt = base * curve25519_dalek::Scalar::from(k);
            cases.push(pt.compress().to_bytes());
            cases.push((pt + curve25519_dalek::constants::EIGHT_TORSION[1]).compress().to_bytes());
        }
        let (mut points, mut small) = (0, 0);
        for b in cases {
            let dalek = CompressedEdwardsY(b).decompress();
            assert_eq!(is_point(&b), dalek.is_some(), "{b:02x?}");
            if let Some(pt) = dalek {
                points += 1;
                assert_eq!(is_small_order(&b), pt.is_small_order(), "{b:02x?}");
                small += pt.is_small_order() as u32;
            }
        }
        assert!(points > 1000 && small >= 16, "{points} {small}");
    }

    #[test]
    fn s_bound_is_l() {
        let mut sig = [0u8; 64];
        sig[32..].copy_from_slice(&L);
        assert!(!s_is_canonical(&sig));
        sig[32] -= 1;
        assert!(s_is_canonical(&sig));
        sig[63] = 0xff;
        assert!(!s_is_canonical(&sig));
        assert!(s_is_canonical(&[0; 64]));
    }
}
