//! The Unicode character classes and the lower-casing that key words need (redaction's
//! [`crate::redact::words`], the scrubbing of error texts). ASCII, nearly every key, is answered
//! here; another character is answered by core's tables in native builds and by the host's own
//! tables in wasm builds (`\p{…}` regular expressions and `String.prototype.toLowerCase`,
//! unicode.js beside `src/wasm/`), which keeps core's ~16 KB of case and property tables out of
//! the `.wasm` (8 KB of the gzipped write entry, measured with `bench/size fetch-writeonly`). The
//! classes are the same Unicode properties on both sides (`Alphabetic`, `N`, `Uppercase`,
//! `Lowercase`; the lower case of one character without context); a test in Chromium compares
//! the host's answers with core's over every script block a key is likely to use.

/// `char::is_alphanumeric`: `Alphabetic` or `N`.
pub fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        host::class(c) & ALNUM != 0
    }
}

/// `char::is_uppercase`: the `Uppercase` property.
pub fn is_uppercase(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_uppercase()
    } else {
        host::class(c) & UPPER != 0
    }
}

/// `char::is_lowercase`: the `Lowercase` property.
pub fn is_lowercase(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_lowercase()
    } else {
        host::class(c) & LOWER != 0
    }
}

/// `char::is_numeric`: general category `N` (`Nd`, `Nl`, `No`).
pub fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        host::class(c) & NUMERIC != 0
    }
}

/// Appends `c` lower-cased (`char::to_lowercase`: one or more characters, no context), and a
/// full-width form of ASCII (U+FF01–U+FF5E, what East Asian input methods type) as that ASCII
/// character, as NFKC has it: a key `ｐａｓｓｗｏｒｄ` has the word `password`. (Its classes are
/// those of the ASCII character already: full-width letters are letters, `＿` and `－` are not.)
/// Other look-alikes (a Cyrillic `а` in `pаssword`) are other letters: not folded
/// (docs/redaction.md).
pub fn push_lowercase(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        out.push(char::from((c as u32 - 0xFEE0) as u8).to_ascii_lowercase());
    } else {
        host::push_lowercase(out, c);
    }
}

/// `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, the same since Unicode 14), for a
/// character outside ASCII (none in ASCII is one): the rule is [`crate::rules::is_default_ignorable`].
pub fn is_default_ignorable(c: char) -> bool {
    host::class(c) & IGNORABLE != 0
}

const ALNUM: u32 = 1;
const UPPER: u32 = 2;
const LOWER: u32 = 4;
const NUMERIC: u32 = 8;
const IGNORABLE: u32 = 16;

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use super::*;

    pub(super) fn class(c: char) -> u32 {
        let bit = |b: bool, v: u32| if b { v } else { 0 };
        bit(c.is_alphanumeric(), ALNUM)
            | bit(c.is_uppercase(), UPPER)
            | bit(c.is_lowercase(), LOWER)
            | bit(c.is_numeric(), NUMERIC)
            | bit(default_ignorable(c), IGNORABLE)
    }

    // Core has no table of this property: its ranges (every code point of them is one).
    fn default_ignorable(c: char) -> bool {
        matches!(c, '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}'
            | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}'
            | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
    }

    pub(super) fn push_lowercase(out: &mut String, c: char) {
        out.extend(c.to_lowercase());
    }
}

#[cfg(target_arch = "wasm32")]
mod host {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/wasm/unicode.js")]
    extern "C" {
        /// The character's classes as bits (1 alphanumeric, 2 upper, 4 lower, 8 numeric,
        /// 16 default ignorable).
        #[wasm_bindgen(js_name = unicodeClass)]
        fn unicode_class(code_point: u32) -> u32;
        /// The character lower-cased.
        #[wasm_bindgen(js_name = unicodeLower)]
        fn unicode_lower(code_point: u32) -> String;
    }

    pub(super) fn class(c: char) -> u32 {
        unicode_class(c as u32)
    }

    pub(super) fn push_lowercase(out: &mut String, c: char) {
        out.push_str(&unicode_lower(c as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the key words rely on, on either back end (native: core's tables; the comparison of
    /// the host's tables with core's runs in Chromium, tests/web.rs).
    #[test]
    fn classes_and_lower_case() {
        assert!(is_alphanumeric('é') && is_alphanumeric('Ж') && is_alphanumeric('٣') && !is_alphanumeric('—'));
        assert!(is_uppercase('Ж') && !is_uppercase('ж') && is_lowercase('ж') && is_numeric('٣') && !is_numeric('x'));
        let mut s = String::new();
        for c in "PassWÖRT-Пароль-İ-Σ".chars() {
            push_lowercase(&mut s, c);
        }
        assert_eq!(s, "passwört-пароль-i\u{307}-σ");
    }
}
