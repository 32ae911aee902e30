//! HMAC-SHA256 (RFC 2104) on sha2's SHA-256, for the Worker's HS256 tokens and its verification
//! cursors. In place of the `hmac` crate, whose generic `digest` layers over SHA-256 were about
//! 1.3 KB of the Worker's .wasm (size: the Worker's 100 KB budget); the tests compare it with
//! that crate (RFC 4231's vectors and random keys and messages).

use crate::sha::Sha256;

/// SHA-256's block size: a longer key is hashed first, a shorter one padded with zeros.
const BLOCK: usize = 64;

/// An HMAC-SHA256 being computed: the inner hash, fed the key's inner pad and then the
/// message, and the outer hash, fed the outer pad. `Debug` is not derived (key material).
#[derive(Clone)]
pub(crate) struct HmacSha256 {
    inner: Sha256,
    outer: Sha256,
}

impl HmacSha256 {
    /// A MAC under `key` (any length).
    pub(crate) fn new(key: &[u8]) -> HmacSha256 {
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let padded = |x: u8| Sha256::new_with_prefix(k.map(|b| b ^ x));
        HmacSha256 { inner: padded(0x36), outer: padded(0x5c) }
    }

    /// Feeds `data` to the message.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The 32-byte MAC.
    pub(crate) fn finalize(self) -> [u8; 32] {
        let mut outer = self.outer;
        outer.update(self.inner.finalize());
        outer.finalize()
    }

    /// Whether the MAC is `tag` (32 bytes), compared in constant time: every byte is looked at
    /// whatever the first difference.
    pub(crate) fn verify(self, tag: &[u8]) -> bool {
        let mac = self.finalize();
        tag.len() == mac.len() && mac.iter().zip(tag).fold(0u8, |d, (a, b)| std::hint::black_box(d | (a ^ b))) == 0
    }
}

#[cfg(test)]
mod tests {
    use hmac::Mac;

    use super::HmacSha256;

    fn reference(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    fn ours(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut m = HmacSha256::new(key);
        m.update(msg);
        m.finalize()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc_4231_vectors() {
        // Test cases 1, 2, 6 (a 131-byte key, hashed first) and 7.
        let long_key = [0xaa; 131];
        for (key, msg, mac) in [
            (&[0x0b; 20][..], &b"Hi There"[..], "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (&long_key, b"Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (
                &long_key,
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ] {
            assert_eq!(ours(key, msg).to_vec(), hex(mac));
        }
    }

    #[test]
    fn matches_the_hmac_crate_and_verifies_only_its_own_tag() {
        let mut bytes = [0u8; 300];
        crate::random::fill(&mut bytes);
        // Keys of every length around the block size, messages split across updates.
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 128, 200] {
            let (key, msg) = (&bytes[..len], &bytes[len..len + 99]);
            let mut m = HmacSha256::new(key);
            m.update(&msg[..40]);
            m.update(&msg[40..]);
            let tag = reference(key, msg);
            assert_eq!(m.clone().finalize(), tag, "key of {len} bytes");
            assert!(m.clone().verify(&tag));
            for i in [0, 17, 31] {
                let mut bad = tag;
                bad[i] ^= 1;
                assert!(!m.clone().verify(&bad));
            }
            assert!(!m.clone().verify(&tag[..31]));
            assert!(!m.verify(&[tag.as_slice(), &[0]].concat()));
        }
    }
}
