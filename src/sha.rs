//! SHA-256 for the crate (hash chain, stream bindings, identities, the Worker's stored UIDs and
//! HMAC): sha2's `Sha256` behind inherent methods, except in the Worker build, where it is a
//! front end of its own on sha2's block function (`compress256`): sha2's buffering and
//! finalisation come through the generic `digest` wrappers, ~0.7 KB of the Worker's .wasm
//! (size: the Worker's 100 KB budget). The browser entries keep sha2's whole (their per-event
//! hash is compiled for speed). The tests hold the front end to sha2 byte for byte.

/// A SHA-256 being computed.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[derive(Clone)]
pub(crate) struct Sha256(sha2::Sha256);

#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
impl Sha256 {
    /// An empty message.
    #[inline]
    pub(crate) fn new() -> Sha256 {
        Sha256(sha2::Digest::new())
    }

    /// A message that begins with `data`.
    #[cfg_attr(not(feature = "ingest"), allow(dead_code))]
    #[inline]
    pub(crate) fn new_with_prefix(data: impl AsRef<[u8]>) -> Sha256 {
        Sha256(sha2::Digest::new_with_prefix(data))
    }

    /// Appends `data` to the message.
    #[inline]
    pub(crate) fn update(&mut self, data: impl AsRef<[u8]>) {
        sha2::Digest::update(&mut self.0, data);
    }

    /// The hash of the message.
    #[inline]
    pub(crate) fn finalize(self) -> [u8; 32] {
        sha2::Digest::finalize(self.0).into()
    }

    /// The hash of `data`.
    #[inline]
    pub(crate) fn digest(data: impl AsRef<[u8]>) -> [u8; 32] {
        <sha2::Sha256 as sha2::Digest>::digest(data).into()
    }
}

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) use Compact as Sha256;

/// SHA-256 (FIPS 180-4) on sha2's block function: the state, the block being filled and the
/// message length in bytes.
#[cfg(any(test, all(target_arch = "wasm32", feature = "worker")))]
#[derive(Clone)]
pub(crate) struct Compact {
    state: [u32; 8],
    block: [u8; 64],
    len: u64,
}

#[cfg(any(test, all(target_arch = "wasm32", feature = "worker")))]
impl Compact {
    /// An empty message.
    pub(crate) fn new() -> Compact {
        Compact {
            state: [
                0x6a09_e667,
                0xbb67_ae85,
                0x3c6e_f372,
                0xa54f_f53a,
                0x510e_527f,
                0x9b05_688c,
                0x1f83_d9ab,
                0x5be0_cd19,
            ],
            block: [0; 64],
            len: 0,
        }
    }

    /// A message that begins with `data`.
    pub(crate) fn new_with_prefix(data: impl AsRef<[u8]>) -> Compact {
        let mut h = Compact::new();
        h.feed(data.as_ref());
        h
    }

    /// Appends `data` to the message.
    #[inline]
    pub(crate) fn update(&mut self, data: impl AsRef<[u8]>) {
        self.feed(data.as_ref());
    }

    /// The hash of `data`.
    pub(crate) fn digest(data: impl AsRef<[u8]>) -> [u8; 32] {
        Compact::new_with_prefix(data).finalize()
    }

    /// Each full block goes through the block function as it fills.
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let at = (self.len % 64) as usize;
            let n = (64 - at).min(data.len());
            self.block[at..at + n].copy_from_slice(&data[..n]);
            self.len += n as u64;
            data = &data[n..];
            if at + n == 64 {
                let block = sha2::digest::generic_array::GenericArray::from_slice(&self.block);
                sha2::compress256(&mut self.state, std::slice::from_ref(block));
            }
        }
    }

    /// The hash of the message: padded with a 1 bit, zeros up to 56 bytes of the last block,
    /// then the length in bits (big-endian).
    pub(crate) fn finalize(mut self) -> [u8; 32] {
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let n = (119 - (self.len % 64) as usize) % 64 + 1;
        pad[n..n + 8].copy_from_slice(&self.len.wrapping_mul(8).to_be_bytes());
        self.feed(&pad[..n + 8]);
        let mut out = [0u8; 32];
        for (i, w) in self.state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::Compact;

    #[test]
    fn the_compact_front_end_hashes_as_sha2_does() {
        let mut bytes = vec![0u8; 300];
        crate::random::fill(&mut bytes);
        // Every message length around one and two blocks and the 56-byte padding boundary, fed
        // whole and in uneven pieces.
        for len in (0..=130).chain([191, 192, 255, 256, 300]) {
            let msg = &bytes[..len];
            let want: [u8; 32] = sha2::Sha256::digest(msg).into();
            assert_eq!(Compact::digest(msg), want, "{len} bytes");
            let mut h = Compact::new_with_prefix(&msg[..len / 3]);
            for piece in msg[len / 3..].chunks(7) {
                h.update(piece);
            }
            assert_eq!(h.finalize(), want, "{len} bytes in pieces");
        }
        // FIPS 180-4's "abc".
        assert_eq!(
            crate::chain::hex(&Compact::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
