//! Base64 (RFC 4648): the standard alphabet with padding for `Authorization: Basic`, and the
//! URL-safe alphabet without padding for JWTs, cursors and signatures. Written here instead of
//! the `base64` crate because its general engine cost the browser `.wasm` about 5 KB of code for
//! these few lines (measured with `bench/size`); the tests check both against that crate.

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Standard alphabet, padded (`Basic` credentials).
pub(crate) fn encode(bytes: &[u8]) -> String {
    encode_with(bytes, STD, true)
}

/// URL-safe alphabet, no padding.
#[allow(dead_code)] // used by the read side and the Worker
pub(crate) fn encode_url(bytes: &[u8]) -> String {
    encode_with(bytes, URL, false)
}

/// Decodes URL-safe base64 without padding; `None` for any other character, a length no
/// encoding has, or leftover bits that are not zero (so each byte string has one encoding).
pub(crate) fn decode_url(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            n |= (v as u32) << (18 - 6 * i);
        }
        let bytes = chunk.len() * 6 / 8;
        // Bits below the last whole byte must be zero.
        if n & ((1u32 << (24 - 8 * bytes)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..1 + bytes]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    #[test]
    fn agrees_with_the_base64_crate() {
        let mut data = Vec::new();
        for len in 0..70usize {
            data.push((len * 37 % 256) as u8);
            let bytes = &data[..len];
            assert_eq!(encode(bytes), STANDARD.encode(bytes));
            assert_eq!(encode_url(bytes), URL_SAFE_NO_PAD.encode(bytes));
            assert_eq!(decode_url(&encode_url(bytes)).as_deref(), Some(bytes));
        }
        for all in [(0u8..=255).collect::<Vec<_>>(), b"neo4j:p\xc3\xa4ss w:rd".to_vec()] {
            assert_eq!(encode(&all), STANDARD.encode(&all));
            assert_eq!(decode_url(&URL_SAFE_NO_PAD.encode(&all)), Some(all));
        }
    }

    #[test]
    fn refuses_what_the_crate_refuses() {
        for bad in ["a", "abcde", "ab=c", "ab+c", "ab/c", "a b", "AB==", "ñ", "QR", "QUJ"] {
            assert_eq!(decode_url(bad).is_some(), URL_SAFE_NO_PAD.decode(bad).is_ok(), "{bad:?}");
        }
        assert_eq!(decode_url(""), Some(vec![]));
        assert_eq!(decode_url("QQ"), Some(b"A".to_vec()));
        assert_eq!(decode_url("QR"), None, "non-zero leftover bits");
    }
}
