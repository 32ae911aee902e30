//! Differential and property tests of the integrity path's text handling: the JSON parser and
//! writer (`src/json.rs`) against `serde_json` and against the generator's own trees, the hash
//! chain's canonical encoding (`src/chain.rs`) and redaction (`src/redact.rs`), on a large,
//! deterministic, seeded set of generated and mutated inputs.
//!
//! Deterministic: the seeds are fixed, so a failure names its case and reproduces. A longer run:
//! `PROPS_SCALE=20 cargo test --lib props::` (twenty times the cases); other cases:
//! `PROPS_SEED=<n>` (mixed into every test's seed).
//!
//! Where the project's rules intentionally differ from `serde_json` the documented rule is asserted
//! instead (each place says which): a member name given twice (kept here, refused by the ingest
//! and Rust-text rules; `serde_json` keeps the last value), the depth limits (127 as `serde_json`,
//! 16 for details), numbers (kept as their text; refused beyond 1.7976931348623157e308 on their
//! digits, where `serde_json` rounds a number just past it down to the largest double).

use std::cell::RefCell;

use serde_json::Value;

use crate::json::{parse, parse_compact, scan, Json, Json0, ParseError};

/// splitmix64: small, seedable, good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let extra = std::env::var("PROPS_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        Rng(seed ^ extra.wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct` %.
    fn pct(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// How many times the default number of cases (env `PROPS_SCALE`, default 1).
fn scale() -> usize {
    std::env::var("PROPS_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1)
}

// ---------------------------------------------------------------------------------------------
// Generators

const DIGITS: &[u8] = b"0123456789";

fn digits(r: &mut Rng, n: usize, first_nonzero: bool) -> String {
    (0..n)
        .map(|i| {
            let d = if i == 0 && first_nonzero { 1 + r.below(9) } else { r.below(10) };
            DIGITS[d] as char
        })
        .collect()
}

/// A JSON number text (always grammatical; sometimes beyond the largest double).
fn number(r: &mut Rng) -> String {
    const EDGES: &[&str] = &[
        "0",
        "-0",
        "-0.0",
        "0e0",
        "-0E-0",
        "1",
        "-1",
        "9007199254740991",
        "9007199254740993",
        "-9007199254740993",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623157000000001e308",
        "179769313486231570000e288",
        "0.17976931348623157e309",
        "1e308",
        "1e309",
        "-1e309",
        "1e-324",
        "2.4703282292062327e-324",
        "4.9e-324",
        "1e-400",
        "0e400",
        "0.0000e99999",
        "5e-1",
        "1E+2",
        "1.50",
        "2.2250738585072014e-308",
    ];
    if r.pct(20) {
        return (*r.pick(EDGES)).to_owned();
    }
    let mut s = String::new();
    if r.pct(30) {
        s.push('-');
    }
    if r.pct(25) {
        s.push('0');
    } else {
        let n = match r.below(10) {
            0 => 300 + r.below(20),
            1..=3 => 15 + r.below(10),
            _ => 1 + r.below(8),
        };
        s.push_str(&digits(r, n, true));
    }
    if r.pct(40) {
        s.push('.');
        let n = if r.pct(10) { 20 + r.below(340) } else { 1 + r.below(6) };
        if r.pct(20) {
            s.push_str(&"0".repeat(n));
            let k = 1 + r.below(3);
            s.push_str(&digits(r, k, false));
        } else {
            s.push_str(&digits(r, n, false));
        }
    }
    if r.pct(35) {
        s.push(*r.pick(&['e', 'E']));
        s.push_str(r.pick::<&str>(&["", "+", "-"]));
        let e = match r.below(6) {
            0 => (*r.pick(&["307", "308", "309", "310", "290", "292", "323", "324", "325", "340"])).to_owned(),
            1 => (*r.pick(&["0", "00", "0308", "99999", "1099511627776", "18446744073709551616"])).to_owned(),
            _ => {
                let k = 1 + r.below(3);
                digits(r, k, false)
            }
        };
        s.push_str(&e);
    }
    s
}

/// The characters strings are drawn from: every escape class (short escapes, other control
/// characters, quote, backslash, slash), ASCII, non-ASCII of 2, 3 and 4 bytes, and the code
/// points at the edges of the surrogate range, U+2028/9, U+FEFF, U+FFFF, U+10FFFF.
const CHARS: &[char] = &[
    'a',
    'b',
    'z',
    'A',
    'P',
    ' ',
    '0',
    '"',
    '\\',
    '/',
    '\n',
    '\r',
    '\t',
    '\u{8}',
    '\u{c}',
    '\u{0}',
    '\u{1}',
    '\u{1f}',
    '\u{b}',
    '\u{7f}',
    '\u{80}',
    'é',
    'ß',
    '\u{7ff}',
    '\u{800}',
    '\u{2028}',
    '\u{2029}',
    '\u{d7ff}',
    '\u{e000}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '😀',
    '\u{10000}',
    '\u{10ffff}',
    'Ｐ',
    ',',
    ':',
    '[',
    ']',
    '{',
    '}',
];

fn string(r: &mut Rng) -> String {
    let n = match r.below(8) {
        0 => 0,
        1 => 17 + r.below(20),
        _ => 1 + r.below(8),
    };
    let mut s = String::new();
    for _ in 0..n {
        if r.pct(50) {
            s.push((b'a' + r.below(26) as u8) as char);
        } else {
            s.push(*r.pick(CHARS));
        }
    }
    s
}

/// Member names: a small pool (so that names repeat) and random ones.
fn key(r: &mut Rng) -> String {
    if r.pct(60) {
        (*r.pick(&["a", "b", "id", "x", "", "n", "é", "a\"b", "\u{0}"])).to_owned()
    } else {
        string(r)
    }
}

/// A JSON tree at most `max_depth` deep (`{}` is depth 1).
fn tree(r: &mut Rng, max_depth: usize) -> Json {
    let container = max_depth > 0 && r.pct(if max_depth > 6 { 45 } else { 30 });
    if container {
        let n = if r.pct(15) { 0 } else { 1 + r.below(5) };
        if r.pct(50) {
            Json::Arr((0..n).map(|_| tree(r, max_depth - 1)).collect())
        } else {
            Json::Obj((0..n).map(|_| (key(r), tree(r, max_depth - 1))).collect())
        }
    } else {
        match r.below(10) {
            0 => Json::Null,
            1 => Json::Bool(r.pct(50)),
            2..=4 => Json::Num(number(r)),
            _ => Json::Str(string(r)),
        }
    }
}

/// Hex digits of `n` in 4 places, each letter upper or lower case at random.
fn hex4(r: &mut Rng, n: u32) -> String {
    (0..4)
        .rev()
        .map(|i| {
            let c = char::from_digit((n >> (i * 4)) & 15, 16).unwrap_or('0');
            if r.pct(50) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// `s` as a JSON string, each character written at random in one of the ways JSON allows: as
/// is (when allowed), as its short escape, as `\uXXXX` (a surrogate pair beyond the BMP), `/` as
/// `\/`.
fn write_loose_str(r: &mut Rng, s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            _ => None,
        };
        let must_escape = c < ' ' || c == '"' || c == '\\';
        let way = r.below(10);
        if !must_escape && way < 6 {
            out.push(c);
        } else if let (Some(e), true) = (short, way < 8) {
            out.push_str(e);
        } else if (c as u32) < 0x10000 {
            out.push_str("\\u");
            out.push_str(&hex4(r, c as u32));
        } else {
            let v = c as u32 - 0x10000;
            out.push_str("\\u");
            out.push_str(&hex4(r, 0xD800 + (v >> 10)));
            out.push_str("\\u");
            out.push_str(&hex4(r, 0xDC00 + (v & 0x3ff)));
        }
    }
    out.push('"');
}

/// Writes `v` as JSON with whitespace (JSON's four kinds) between tokens at random when `loose`,
/// strings escaped at random; returns whether any whitespace was written.
fn write_loose(r: &mut Rng, v: &Json, loose: bool, out: &mut String) -> bool {
    let mut any = false;
    let mut ws = |r: &mut Rng, out: &mut String| {
        if loose && r.pct(20) {
            for _ in 0..1 + r.below(2) {
                out.push(*r.pick(&[' ', '\t', '\n', '\r']));
            }
            any = true;
        }
    };
    ws(r, out);
    let mut inner = false;
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => out.push_str(n),
        Json::Str(s) => write_loose_str(r, s, out),
        Json::Arr(a) => {
            out.push('[');
            if a.is_empty() {
                ws(r, out);
            }
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                inner |= write_loose(r, x, loose, out);
            }
            out.push(']');
        }
        Json::Obj(m) => {
            out.push('{');
            if m.is_empty() {
                ws(r, out);
            }
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(r, out);
                write_loose_str(r, k, out);
                ws(r, out);
                out.push(':');
                inner |= write_loose(r, x, loose, out);
            }
            out.push('}');
        }
    }
    ws(r, out);
    any || inner
}

/// Bytes that make a text interesting where they land: JSON's punctuation, escapes' pieces, a
/// NUL, whitespace JSON does not allow (VT, FF, NBSP, U+2028, BOM), bytes that break UTF-8
/// (a lone continuation, a lead byte without its tail, 0xFF, an overlong `/`, a surrogate's
/// CESU-8 bytes).
const SPLICES: &[&[u8]] = &[
    b",",
    b":",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"u",
    b"0",
    b"00",
    b"-",
    b"+",
    b".",
    b"e",
    b"E+",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\0",
    b"\x0b",
    b"\x0c",
    b"\xc2\xa0",
    b"\xe2\x80\xa8",
    b"\xef\xbb\xbf",
    b"\x80",
    b"\xc3",
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"null",
    b"true",
    b"1e999",
    b"NaN",
    b"Infinity",
    b"'",
    b"/*x*/",
];

/// `text` changed in 1 to 3 random places (bytes deleted, inserted, replaced, spans doubled, the
/// text cut short).
fn mutate(r: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut b = text.to_vec();
    for _ in 0..1 + r.below(3) {
        let at = r.below(b.len() + 1);
        match r.below(7) {
            0 if !b.is_empty() => {
                let n = (1 + r.below(3)).min(b.len() - at.min(b.len() - 1));
                let at = at.min(b.len() - 1);
                b.drain(at..at + n.max(1).min(b.len() - at));
            }
            1 | 2 => {
                let s = r.pick(SPLICES);
                b.splice(at..at, s.iter().copied());
            }
            3 if at < b.len() => b[at] = *r.pick(b",:[]{}\"\\0-.eE \x00\x1f\x7f\x80\xff"),
            4 if at < b.len() => {
                let end = (at + 1 + r.below(8)).min(b.len());
                let span = b[at..end].to_vec();
                b.splice(at..at, span);
            }
            5 => b.truncate(at),
            _ => {
                let s = r.pick(SPLICES);
                b.splice(at..at, s.iter().copied());
            }
        }
    }
    b
}

/// Random tokens run together: mostly not JSON, but near it.
fn token_soup(r: &mut Rng) -> Vec<u8> {
    let mut b = Vec::new();
    for _ in 0..1 + r.below(12) {
        match r.below(4) {
            0 => b.extend_from_slice(number(r).as_bytes()),
            1 => {
                let mut s = String::new();
                let x = string(r);
                write_loose_str(r, &x, &mut s);
                b.extend_from_slice(s.as_bytes());
            }
            _ => b.extend_from_slice(r.pick::<&[u8]>(SPLICES)),
        }
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Oracles

/// Whether a JSON number text (grammatical) is beyond the largest double, by the documented rule:
/// its exact decimal value above 1.7976931348623157e308. Decided on normalised digits, as text
/// (an implementation independent of `json::beyond_f64`'s digit walk).
fn beyond_max_double(n: &str) -> bool {
    let n = n.trim_start_matches('-');
    let (mantissa, exp) = match n.find(['e', 'E']) {
        Some(i) => (&n[..i], &n[i + 1..]),
        None => (n, "0"),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let lead = all.len() - all.trim_start_matches('0').len();
    let sig = all.trim_matches('0');
    if sig.is_empty() {
        return false;
    }
    // Exponent, saturated (its digits can be as many as the text allows).
    let e_digits = exp.trim_start_matches(['+', '-']).trim_start_matches('0');
    let e_mag: i128 = if e_digits.len() > 20 { 1 << 80 } else { e_digits.parse().unwrap_or(0) };
    let e = if exp.starts_with('-') { -e_mag } else { e_mag };
    // Decimal exponent of the first significant digit.
    let point = int.len() as i128 - 1 - lead as i128 + e;
    if point != 308 {
        return point > 308;
    }
    const MAX: &str = "17976931348623157";
    let width = sig.len().max(MAX.len());
    format!("{sig:0<width$}") > format!("{MAX:0<width$}")
}

/// Whether our tree `j` is the value `serde_json` read, member names given twice taken as
/// `serde_json` takes them (the last value, at the first one's place), numbers compared by value.
fn same(j: &Json, v: &Value) -> Result<(), String> {
    match (j, v) {
        (Json::Null, Value::Null) => Ok(()),
        (Json::Bool(a), Value::Bool(b)) if a == b => Ok(()),
        (Json::Str(a), Value::String(b)) if a == b => Ok(()),
        (Json::Num(t), Value::Number(n)) => {
            let ok = if let Some(u) = n.as_u64() {
                j.as_u64() == Some(u)
            } else if let Some(i) = n.as_i64() {
                j.as_i64() == Some(i)
            } else {
                // The nearest double both ways (serde_json with `float_roundtrip`; without it, it
                // was off in the last digits for long mantissas).
                j.as_f64().zip(n.as_f64()).is_some_and(|(a, b)| a.to_bits() == b.to_bits())
            };
            if ok {
                Ok(())
            } else {
                Err(format!("number {t} vs {n}"))
            }
        }
        (Json::Arr(a), Value::Array(b)) if a.len() == b.len() => a.iter().zip(b).try_for_each(|(x, y)| same(x, y)),
        (Json::Obj(m), Value::Object(o)) => {
            let mut last: Vec<(&str, &Json)> = Vec::new();
            for (k, x) in m {
                match last.iter_mut().find(|(n, _)| n == k) {
                    Some(slot) => slot.1 = x,
                    None => last.push((k, x)),
                }
            }
            if last.len() != o.len() {
                return Err(format!("{} members vs {}", last.len(), o.len()));
            }
            // By name: a `Map`'s order is serde_json's own (sorted without its `preserve_order`,
            // which the crate does not turn on); the order our tree keeps is the text's.
            for (k, x) in &last {
                let y = o.get(*k).ok_or_else(|| format!("member {k:?} missing"))?;
                same(x, y).map_err(|e| format!("{k:?}: {e}"))?;
            }
            Ok(())
        }
        _ => Err(format!("{j:?} vs {v}")),
    }
}

/// Whether `text` (accepted JSON) has whitespace outside its strings.
/// Whether the parser calls `text` compact: no whitespace outside strings and, where details can
/// come from a Rust caller (every build but the JavaScript entries'), no `\/` or `\u` escape
/// (written otherwise by [`Json::write`]: such text is re-written, tests/differential.rs).
fn compact_text(text: &str) -> bool {
    let escapes_rewritten = cfg!(not(all(target_arch = "wasm32", feature = "js")));
    !has_ws_outside_strings(text) && (!escapes_rewritten || !has_rewritten_escape(text))
}

/// A `\/` or `\u` escape anywhere (in JSON a backslash is only ever inside a string).
fn has_rewritten_escape(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if matches!(b.get(i + 1), Some(b'/' | b'u')) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn has_ws_outside_strings(text: &str) -> bool {
    let (mut in_str, mut esc) = (false, false);
    for b in text.bytes() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else if b == b'"' {
            in_str = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return true;
        }
    }
    false
}

/// Every member name of `v`, in document order (depth first).
fn names(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Obj(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            names(x, out)
        }),
        Json::Arr(a) => a.iter().for_each(|x| names(x, out)),
        _ => {}
    }
}

/// The numbers of `v`, in document order.
fn numbers<'a>(v: &'a Json, out: &mut Vec<&'a str>) {
    match v {
        Json::Num(n) => out.push(n),
        Json::Obj(m) => m.iter().for_each(|(_, x)| numbers(x, out)),
        Json::Arr(a) => a.iter().for_each(|x| numbers(x, out)),
        _ => {}
    }
}

fn written(v: &Json) -> String {
    let mut out = String::new();
    v.write(&mut out);
    out
}

/// What the tally of [`check`] saw, so a test can assert its inputs reached every branch.
#[derive(Default, Debug)]
struct Tally {
    both_ok: usize,
    both_err: usize,
    band: usize,
    bad_utf8: usize,
}

/// The differential check of one input, taken as bytes (the JWT's parts are bytes, decoded as
/// UTF-8 and then parsed: `ingest::jwt::decode_json`, `identity::token_claims`), with the body
/// parser's depth limit (127, `serde_json`'s): ours and `serde_json` accept and refuse alike and
/// read the same value; `scan` agrees with `parse_compact`; what is accepted writes back to text
/// that reads as the same tree.
fn check(bytes: &[u8], tally: &mut Tally) {
    let what = || String::from_utf8_lossy(bytes).chars().take(300).collect::<String>();
    let theirs = serde_json::from_slice::<Value>(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        tally.bad_utf8 += 1;
        assert!(theirs.is_err(), "serde_json takes invalid UTF-8 {bytes:?}");
        return;
    };
    let ours = parse_compact(text, 127);
    // scan: the same verdict, error, shape, compactness and member names, without a tree.
    let asked = RefCell::new(Vec::new());
    let scanned = scan(text, 127, &|k| {
        asked.borrow_mut().push(k.to_owned());
        false
    });
    match (&ours, &scanned) {
        (Err(a), Err(b)) => assert_eq!(a, b, "scan's error: {:?}", what()),
        (Ok((v, compact)), Ok(s)) => {
            let shape = match v {
                Json::Null => Json0::Null,
                Json::Obj(_) => Json0::Obj,
                _ => Json0::Other,
            };
            assert_eq!((s.shape, s.compact), (shape, *compact), "scan's shape: {:?}", what());
            let mut want = Vec::new();
            names(v, &mut want);
            assert_eq!(*asked.borrow(), want, "scan's names: {:?}", what());
            assert_eq!(s.keys, want.len());
        }
        _ => panic!("parse {ours:?} but scan {scanned:?}: {:?}", what()),
    }
    match (theirs, ours) {
        (Ok(v), Ok((j, compact))) => {
            tally.both_ok += 1;
            if let Err(e) = same(&j, &v) {
                panic!("different values ({e}): {:?}", what());
            }
            assert_eq!(compact, compact_text(text), "compact: {:?}", what());
            let mut nums = Vec::new();
            numbers(&j, &mut nums);
            for n in nums {
                assert!(!beyond_max_double(n), "{n} accepted: {:?}", what());
                // Kept as the text sent: the number's text is in the input as is.
                assert!(text.contains(n), "{n}: {:?}", what());
            }
            // The writer: compact text that reads back as the very same tree (numbers' text
            // included), reads the same in serde_json, and writes itself again.
            let w = written(&j);
            // (Natively a control character's `\u` escape, which `write` writes, makes text loose.)
            assert_eq!(parse_compact(&w, 127), Ok((j.clone(), compact_text(&w))), "write(parse(x)): {:?}", what());
            assert_eq!(serde_json::from_str::<Value>(&w).ok(), Some(v), "serde_json of write(parse(x)): {:?}", what());
            assert_eq!(written(&parse(&w, 127).unwrap()), w);
        }
        (Err(_), Err(_)) => tally.both_err += 1,
        (Ok(v), Err(ParseError::OutOfRange(at))) => {
            // Documented: a number beyond 1.7976931348623157e308 on its digits is refused, where
            // serde_json rounds one in the band just past it down to the largest double.
            let rest = &text[at..];
            let end = rest.find(|c: char| !matches!(c, '0'..='9' | '-' | '+' | '.' | 'e' | 'E')).unwrap_or(rest.len());
            let n = &rest[..end];
            assert!(beyond_max_double(n), "{n} refused: {:?}", what());
            assert_eq!(n.parse::<f64>().map(f64::abs), Ok(f64::MAX), "{n} ({v})");
            tally.band += 1;
        }
        (Ok(v), Err(e)) => panic!("serde_json reads {v}, we refuse ({e:?}): {:?}", what()),
        // (Before serde_json's `float_roundtrip`, it refused some finite numbers at the largest
        // double's edge, `179769313486231570000e288`, which the write path stores.)
        (Err(e), Ok(_)) => panic!("we take what serde_json refuses ({e}): {:?}", what()),
    }
}

// ---------------------------------------------------------------------------------------------
// The parser and the writer

/// Trees from the generator, written with random escapes and whitespace: read back as exactly
/// the generated tree (numbers' text included), as `serde_json` reads them, compact exactly when
/// no whitespace was written; then mutated, and ours and `serde_json` still agree.
#[test]
fn parser_agrees_with_serde_json_on_generated_and_mutated_texts() {
    let mut r = Rng::new(0x5EED_0001);
    let mut tally = Tally::default();
    for case in 0..3000 * scale() {
        let d = 1 + r.below(8);
        let v = tree(&mut r, d);
        let mut text = String::new();
        let loose = r.pct(50);
        let any_ws = write_loose(&mut r, &v, loose, &mut text);
        let mut nums = Vec::new();
        numbers(&v, &mut nums);
        let out_of_range = nums.iter().any(|n| beyond_max_double(n));
        match parse_compact(&text, 127) {
            Ok((got, compact)) => {
                assert!(!out_of_range, "case {case}: {text:?}");
                assert_eq!(got, v, "case {case}: {text:?}");
                assert_eq!(compact, !any_ws && compact_text(&text), "case {case}: {text:?}");
            }
            Err(e) => {
                assert!(out_of_range, "case {case}: {e:?} {text:?}");
                assert!(matches!(e, ParseError::OutOfRange(_)), "case {case}: {e:?} {text:?}");
            }
        }
        check(text.as_bytes(), &mut tally);
        for _ in 0..4 {
            let m = mutate(&mut r, text.as_bytes());
            check(&m, &mut tally);
        }
    }
    for _ in 0..4000 * scale() {
        let soup = token_soup(&mut r);
        check(&soup, &mut tally);
    }
    // The inputs reached every branch.
    assert!(tally.both_ok > 3000 && tally.both_err > 8000 && tally.band > 0 && tally.bad_utf8 > 200, "{tally:?}");
}

/// Numbers alone, where most of the rules are: accept/refuse as `serde_json` (the band past the
/// largest double: the documented rule), the text kept as is, `as_f64` the exact reading.
#[test]
fn numbers_agree_with_serde_json_and_keep_their_text() {
    let mut r = Rng::new(0x5EED_0002);
    let mut tally = Tally::default();
    for _ in 0..20_000 * scale() {
        let n = number(&mut r);
        for t in [n.clone(), format!("[{n}]"), format!(" {n} ")] {
            check(t.as_bytes(), &mut tally);
        }
        match parse(&n, 1) {
            Ok(Json::Num(t)) => {
                assert_eq!(t, n);
                let f = n.parse::<f64>().unwrap();
                assert!(f.is_finite(), "{n}");
                assert_eq!(Json::Num(t).as_f64().map(f64::to_bits), Some(f.to_bits()), "{n}");
            }
            Ok(other) => panic!("{n}: {other:?}"),
            Err(e) => {
                assert_eq!(e, ParseError::OutOfRange(0), "{n}");
                assert!(beyond_max_double(&n), "{n}");
            }
        }
        // Not numbers in JSON: a leading zero, a plus, a bare point, a missing exponent.
        let leading_zero = format!("0{}", n.trim_start_matches('-'));
        for bad in [format!("+{n}"), format!("{n}."), format!(".{n}"), format!("{n}e"), leading_zero] {
            if serde_json::from_str::<Value>(&bad).is_err() {
                assert!(parse(&bad, 1).is_err(), "{bad}");
            } else {
                // `0` then a number starting `.`/`e` (e.g. `0` + `.5`) is a number indeed.
                assert!(parse(&bad, 1).is_ok(), "{bad}");
            }
        }
    }
    assert!(tally.both_ok > 40_000 && tally.both_err > 5000 && tally.band > 50, "{tally:?}");
}

/// Nesting around the limits: 127 levels as `serde_json` (the body, JWT parts), and the details'
/// 16 (documented rule: refused beyond `max_details_depth`, `TooDeep`), with arrays, objects and
/// both mixed, and what is inside the innermost level.
#[test]
fn depth_limits_are_where_documented() {
    let mut r = Rng::new(0x5EED_0003);
    let mut tally = Tally::default();
    for n in (1..20).chain(120..135) {
        for _ in 0..6 {
            let mut open = String::new();
            let mut close = String::new();
            for _ in 0..n {
                if r.pct(50) {
                    open.push('[');
                    close.insert(0, ']');
                } else {
                    open.push_str("{\"k\":");
                    close.insert(0, '}');
                }
            }
            // The innermost value replaces the last `{"k":` / `[`'s contents.
            let inner = *r.pick(&["1", "\"s\"", "null", "", "[]", "{}"]);
            let text = format!("{open}{inner}{close}");
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                // Only past serde_json's recursion limit (or an empty `{"k":}`).
                assert!(parse(&text, 127).is_err(), "{text}");
                continue;
            };
            check(text.as_bytes(), &mut tally);
            let depth = crate::rules::depth_of(&v);
            for max in [1, 2, 16, 127] {
                match parse(&text, max) {
                    Ok(j) => {
                        assert!(depth <= max, "{max}: {text}");
                        assert_eq!(j.depth(), depth);
                    }
                    Err(e) => {
                        assert!(depth > max, "{max}: {e:?} {text}");
                        assert_eq!(e, ParseError::TooDeep);
                    }
                }
            }
        }
    }
    // Deeper than anything: refused, no stack overflow.
    let deep = "[".repeat(100_000);
    assert_eq!(parse(&deep, 127), Err(ParseError::TooDeep));
    assert!(serde_json::from_str::<Value>(&deep).is_err());
}

/// Named texts at the edges of the grammar: BOM, NUL, whitespace JSON does not have, lone
/// surrogates, comments, trailing commas, literals' case, leading zeros, duplicate names.
#[test]
fn edge_texts_agree_with_serde_json() {
    let mut tally = Tally::default();
    let texts: &[&[u8]] = &[
        b"\xef\xbb\xbf{}",
        b"{}\xef\xbb\xbf",
        b"\"\xef\xbb\xbf\"",
        b"{\"a\":1}\0",
        b"\0",
        b"\"\0\"",
        b"\"\\u0000\"",
        b"[1,\x0b2]",
        b"[1,\x0c2]",
        b"[1,\xc2\xa02]",
        b"[1,\xe2\x80\xa82]",
        b"\"\xe2\x80\xa8\"",
        b"\"\\ud800\"",
        b"\"\\udbff\\udfff\"",
        b"\"\\ud800\\ud800\"",
        b"\"\\udc00\\ud800\"",
        b"\"\\ud800\\u\"",
        b"\"\\ud800\\uzzzz\"",
        b"\"\\ud800\\n\"",
        b"\"\\uD83D\\uDE00\"",
        b"\"\\U0041\"",
        b"\"\\u004\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xc0\xaf\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"\x7f\"",
        b"[1,]",
        b"{\"a\":1,}",
        b"[,1]",
        b"[1 2]",
        b"{\"a\" 1}",
        b"{\"a\":1 \"b\":2}",
        b"{a:1}",
        b"{'a':1}",
        b"[01]",
        b"[-01]",
        b"[00]",
        b"[1.e5]",
        b"[.5]",
        b"[-.5]",
        b"[1e]",
        b"[1e+]",
        b"[0x10]",
        b"[Infinity]",
        b"[-Infinity]",
        b"[NaN]",
        b"[True]",
        b"[nul]",
        b"[null",
        b"{\"a\":1,\"a\":2}",
        b"{\"a\":1,\"\\u0061\":2}",
        b"{\"a\":{\"b\":1,\"b\":[1,{\"b\":2,\"b\":3}]}}",
        b"/*c*/{}",
        b"{}//",
        b" \t\n\r{} \t\n\r",
        b"",
        b" ",
        b"\"abc",
        b"\"\\",
        b"\"\\\"",
        b"1 2",
        b"-",
        b"--1",
        b"-0",
        b"-0.0e-0",
        b"1E400",
        b"-1E400",
        b"1e-400",
        b"[\"\t\"]",
        b"[\"\\t\"]",
        b"{\"\":\"\"}",
    ];
    for t in texts {
        check(t, &mut tally);
    }
    assert!(tally.both_ok > 14 && tally.both_err > 40 && tally.bad_utf8 == 3, "{tally:?}");
}

/// The string writer escapes exactly as `serde_json` (and so `JSON.stringify`: README's canonical
/// encoding) on random strings of every escape class, and the parser reads each back.
#[test]
fn string_writer_agrees_with_serde_json() {
    let mut r = Rng::new(0x5EED_0004);
    for _ in 0..20_000 * scale() {
        let s = string(&mut r);
        let mut out = String::from("[");
        crate::json::write_str(&mut out, &s);
        assert_eq!(out[1..], serde_json::to_string(&s).unwrap(), "{s:?}");
        assert_eq!(parse(&out[1..], 1), Ok(Json::Str(s.clone())));
        // Loose escapes read back as the same string too.
        let mut loose = String::new();
        write_loose_str(&mut r, &s, &mut loose);
        assert_eq!(parse(&loose, 1), Ok(Json::Str(s.clone())), "{loose:?}");
        assert_eq!(serde_json::from_str::<String>(&loose).ok(), Some(s), "{loose:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers kept as stored, through both write paths

/// README: numbers in `details` are stored exactly as sent (an integer beyond 2^53, a 64-bit id,
/// `1.50`): through the client's `EventBuilder::build_json` (compact, loose, and with a key to
/// redact, which rewrites the text from its tree) and through the Worker's body parser.
#[test]
fn numbers_in_details_are_stored_as_sent() {
    let mut r = Rng::new(0x5EED_0005);
    let builder = crate::event::EventBuilder::new(crate::redact::Redactor::default(), crate::rules::Limits::default());
    for case in 0..3000 * scale() {
        let mut nums = Vec::new();
        while nums.len() < 1 + r.below(4) {
            let n = number(&mut r);
            if !beyond_max_double(&n) {
                nums.push(n);
            }
        }
        let mut members: Vec<(String, Json)> =
            nums.iter().enumerate().map(|(i, n)| (format!("n{i}"), Json::Num(n.clone()))).collect();
        members.push(("list".into(), Json::Arr(nums.iter().map(|n| Json::Num(n.clone())).collect())));
        let redact = r.pct(30);
        if redact {
            members.insert(r.below(members.len()), ("password".into(), Json::Str("p".into())));
        }
        let v = Json::Obj(members);
        let mut text = String::new();
        let loose = r.pct(50);
        write_loose(&mut r, &v, loose, &mut text);
        let e = builder.build_json(None, "X", None, Some(&text)).unwrap_or_else(|e| panic!("{case}: {e} {text}"));
        let stored = e.details.expect("details");
        let back = parse(&stored, 16).unwrap();
        let mut got = Vec::new();
        numbers(&back, &mut got);
        let want: Vec<&str> = nums.iter().chain(nums.iter()).map(String::as_str).collect();
        assert_eq!(got, want, "case {case}: {text} -> {stored}");
        if redact {
            assert_eq!(back.get("password"), Some(&Json::Str(crate::redact::REDACTED.into())));
        }
        // The Worker: the body's details, as the event builder will get them.
        let body = format!("{{\"actionType\":\"X\",\"details\":{text}}}");
        let ev = crate::ingest::body::parse_events(&body, &crate::ingest::body::BodyLimits::default())
            .unwrap_or_else(|e| panic!("{case}: {e} {body}"));
        let d = ev[0].details.as_deref().expect("details");
        let mut got = Vec::new();
        let back = parse(d, 16).unwrap();
        numbers(&back, &mut got);
        assert_eq!(got, want, "case {case}: {body} -> {d}");
    }
}

// ---------------------------------------------------------------------------------------------
// The canonical encoding (src/chain.rs)

/// Strings that sit next to a field boundary of the canonical array when written: separators,
/// quotes, brackets, what an adjacent field or `null` looks like inside the array.
fn tricky(r: &mut Rng) -> String {
    if r.pct(50) {
        return string(r);
    }
    (*r.pick(&[
        "",
        ",",
        "\",\"",
        "\"",
        "\\",
        "\\\"",
        "null",
        "\"null\"",
        "a\",\"b",
        "a\",null,\"b",
        "],[",
        "]",
        "[",
        "1,2",
        "a",
        "b",
        "\u{0}",
        "neo4j-audit/chain/v1",
        "{\"a\":1}",
    ]))
    .to_owned()
}

fn opt<T>(r: &mut Rng, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
    if r.pct(30) {
        None
    } else {
        Some(f(r))
    }
}

fn int(r: &mut Rng) -> i64 {
    match r.below(4) {
        0 => *r.pick(&[0, 1, -1, i64::MAX, i64::MIN, 1_700_000_000_000, 9_007_199_254_740_993]),
        1 => r.below(3) as i64,
        _ => r.next() as i64 >> r.below(64),
    }
}

fn event(r: &mut Rng) -> crate::event::AuditEvent {
    use crate::event::{AuditEvent, Source, Target};
    let n = if r.pct(50) { 0 } else { 1 + r.below(3) };
    AuditEvent {
        uid: tricky(r),
        action_type: tricky(r),
        category: tricky(r),
        ts: int(r),
        user_uid: opt(r, tricky),
        user_name: opt(r, tricky),
        details: opt(r, |r| if r.pct(50) { written(&tree(r, 3)) } else { tricky(r) }),
        stream_id: opt(r, tricky),
        seq: opt(r, |r| int(r) as u64),
        prev_hash: None,
        hash: None,
        source: if r.pct(50) { Source::Client } else { Source::Worker },
        occurred_at: opt(r, int),
        targets: (0..n).map(|_| Target { label: tricky(r), uid: tricky(r), role: opt(r, tricky) }).collect(),
    }
}

/// The canonical array, as README specifies it, built with `serde_json` (what `JSON.stringify`
/// gives for it, byte for byte).
fn spec(e: &crate::event::AuditEvent, v2: bool) -> Vec<u8> {
    use serde_json::json;
    let mut a = vec![
        json!(if v2 { "neo4j-audit/chain/v2" } else { "neo4j-audit/chain/v1" }),
        json!(e.stream_id),
        json!(e.seq),
        json!(e.uid),
        json!(e.action_type),
        json!(e.category),
        json!(e.ts),
        json!(e.user_uid),
        json!(e.user_name),
        json!(e.details),
    ];
    if v2 {
        a.push(json!(e.source));
        a.push(json!(e.occurred_at));
        if !e.targets.is_empty() {
            a.push(Value::Array(e.targets.iter().map(|t| json!([t.label, t.uid, t.role])).collect()));
        }
    }
    serde_json::to_vec(&Value::Array(a)).unwrap()
}

/// Every field can be read back from the canonical bytes (so two events that differ in any
/// hashed field never encode alike, whatever their strings hold), and the bytes are README's
/// `JSON.stringify` array exactly; over a pool of events that share most fields, no two with
/// different hashed fields share an encoding.
#[test]
fn canonical_encoding_is_the_specified_array_and_injective() {
    use crate::chain::{canonical, canonical_v2};
    use std::collections::HashMap;
    let mut r = Rng::new(0x5EED_0006);
    let mut seen_v1: HashMap<Vec<u8>, Value> = HashMap::new();
    let mut seen_v2: HashMap<Vec<u8>, Value> = HashMap::new();
    let base = event(&mut r);
    for case in 0..6000 * scale() {
        // Half the events are `base` with one to three fields replaced: near neighbours.
        let e = if r.pct(50) {
            let mut e = base.clone();
            let other = event(&mut r);
            for _ in 0..1 + r.below(3) {
                match r.below(12) {
                    0 => e.uid = other.uid.clone(),
                    1 => e.action_type = other.action_type.clone(),
                    2 => e.category = other.category.clone(),
                    3 => e.ts = other.ts,
                    4 => e.user_uid = other.user_uid.clone(),
                    5 => e.user_name = other.user_name.clone(),
                    6 => e.details = other.details.clone(),
                    7 => e.stream_id = other.stream_id.clone(),
                    8 => e.seq = other.seq,
                    9 => e.source = other.source,
                    10 => e.occurred_at = other.occurred_at,
                    _ => e.targets = other.targets.clone(),
                }
            }
            e
        } else {
            event(&mut r)
        };
        let (c1, c2) = (canonical(&e), canonical_v2(&e));
        assert_eq!(c1, spec(&e, false), "case {case}: v1 {e:?}");
        assert_eq!(c2, spec(&e, true), "case {case}: v2 {e:?}");
        // Read back by a JSON reader (ours too: the read side's), element by element.
        let a: Value = serde_json::from_slice(&c2).unwrap();
        let a = a.as_array().unwrap();
        assert_eq!(a.len(), if e.targets.is_empty() { 12 } else { 13 });
        assert_eq!(a[1].as_str(), e.stream_id.as_deref());
        assert_eq!(a[2].as_u64(), e.seq);
        assert_eq!(
            (a[3].as_str(), a[4].as_str(), a[5].as_str()),
            (Some(&*e.uid), Some(&*e.action_type), Some(&*e.category))
        );
        assert_eq!(a[6].as_i64(), Some(e.ts));
        assert_eq!(
            (a[7].as_str(), a[8].as_str(), a[9].as_str()),
            (e.user_uid.as_deref(), e.user_name.as_deref(), e.details.as_deref())
        );
        assert_eq!(a[11].as_i64(), e.occurred_at);
        let ours = parse(std::str::from_utf8(&c2).unwrap(), 4).unwrap();
        same(&ours, &Value::Array(a.clone())).unwrap();
        // No two different field sets share bytes (the decoded array is the field set).
        let v1_fields: Value = serde_json::from_slice(&c1).unwrap();
        if let Some(prev) = seen_v1.insert(c1, v1_fields.clone()) {
            assert_eq!(prev, v1_fields);
        }
        let v2_fields = Value::Array(a.clone());
        if let Some(prev) = seen_v2.insert(c2, v2_fields.clone()) {
            assert_eq!(prev, v2_fields);
        }
    }
    assert!(seen_v1.len() > 4000, "{}", seen_v1.len());
}

/// Details are hashed as their stored text (docs/tamper-evidence.md: "the text is hashed as
/// stored, not re-serialised"; details keep the order their keys were given in, not sorted): so
/// two orders of the same members are two encodings, while whitespace, which the event builder
/// drops before storing, changes nothing.
#[test]
fn details_key_order_is_hashed_as_given_whitespace_is_not() {
    let mut r = Rng::new(0x5EED_0007);
    let builder = crate::event::EventBuilder::new(crate::redact::Redactor::new([]), crate::rules::Limits::default());
    let mut swapped = 0;
    for case in 0..2000 * scale() {
        // An object with distinct member names (the Rust text path refuses a repeated one).
        let mut m: Vec<(String, Json)> = Vec::new();
        for i in 0..1 + r.below(5) {
            let k = format!("{}{i}", key(&mut r));
            let mut v = tree(&mut r, 3);
            let mut nums = Vec::new();
            numbers(&v, &mut nums);
            if nums.iter().any(|n| beyond_max_double(n)) || v.repeated_key_deep().is_some() {
                v = Json::Null;
            }
            m.push((k, v));
        }
        let compact = written(&Json::Obj(m.clone()));
        let mut loose = String::new();
        let mut in_str = false;
        let mut esc = false;
        for c in compact.chars() {
            loose.push(c);
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
            } else if c == '"' {
                in_str = true;
            } else if matches!(c, ',' | ':' | '[' | '{') {
                loose.push_str(r.pick::<&str>(&[" ", "\n", "\t ", "\r\n"]));
            }
        }
        let build = |t: &str| {
            let mut e = builder.build_json(None, "X", None, Some(t)).unwrap_or_else(|e| panic!("{case}: {e} {t}"));
            e.uid = "u".into();
            e.ts = 0;
            e
        };
        let (a, b) = (build(&compact), build(&loose));
        assert_eq!(a.details.as_deref(), Some(compact.as_str()), "{case}");
        assert_eq!(a.details, b.details, "{case}: {loose}");
        assert_eq!(crate::chain::canonical(&a), crate::chain::canonical(&b));
        if m.len() > 1 && m[0].1 != m[1].1 {
            m.swap(0, 1);
            let other = build(&written(&Json::Obj(m)));
            assert_ne!(crate::chain::canonical(&a), crate::chain::canonical(&other), "{case}: {compact}");
            swapped += 1;
        }
    }
    assert!(swapped > 500, "{swapped}");
}

// ---------------------------------------------------------------------------------------------
// Redaction (src/redact.rs)

/// Keys the default list redacts (words matching), and keys it must leave alone.
const LISTED: &[&str] = &[
    "password",
    "Password",
    "PASSWORD",
    "db_password",
    "newPassword",
    "x-api-key",
    "x-apikey",
    "apiKey",
    "APIKEY",
    "access_token",
    "Authorization",
    "set-cookie",
    "ｐａｓｓｗｏｒｄ",
    "SSN",
    "clientSecret",
    "pwd",
    "user.sessionId",
    "pass\u{200b}word",
];
const UNLISTED: &[&str] =
    &["keyboard", "tokens_used", "passwordless", "note", "a", "id", "apiary", "doc", "user", "p\u{430}ssword", ""];

/// A tree whose objects (distinct member names each) mix listed and unlisted keys, at any depth,
/// inside arrays too; and the tree redaction must give.
fn redaction_case(r: &mut Rng, depth: usize) -> (Json, Json) {
    if depth == 0 || r.pct(35) {
        let v = tree(r, 0);
        return (v.clone(), v);
    }
    if r.pct(30) {
        let items: Vec<(Json, Json)> = (0..r.below(4)).map(|_| redaction_case(r, depth - 1)).collect();
        return (
            Json::Arr(items.iter().map(|x| x.0.clone()).collect()),
            Json::Arr(items.into_iter().map(|x| x.1).collect()),
        );
    }
    let (mut given, mut want) = (Vec::new(), Vec::new());
    for _ in 0..1 + r.below(4) {
        let listed = r.pct(40);
        let k = (*r.pick(if listed { LISTED } else { UNLISTED })).to_owned();
        if given.iter().any(|(g, _): &(String, Json)| *g == k) {
            continue;
        }
        let (v, w) = redaction_case(r, depth - 1);
        given.push((k.clone(), v));
        want.push((k, if listed { Json::Str(crate::redact::REDACTED.into()) } else { w }));
    }
    (Json::Obj(given), Json::Obj(want))
}

/// A listed key is redacted at any depth, inside arrays, whatever escapes its JSON text uses
/// (`"pass\u0077ord"`), on every path that redacts (the client's text path, compact or not; the
/// native `serde_json::Value` path; the Worker's body path); nothing else changes (numbers keep
/// their text).
#[test]
fn redaction_redacts_listed_keys_everywhere_and_changes_nothing_else() {
    let mut r = Rng::new(0x5EED_0008);
    let red = crate::redact::Redactor::default();
    for k in LISTED {
        assert!(red.matches(k), "{k}");
    }
    for k in UNLISTED {
        assert!(!red.matches(k), "{k}");
    }
    let builder = crate::event::EventBuilder::new(red, crate::rules::Limits::default());
    let mut redacted = 0;
    for case in 0..3000 * scale() {
        let d = 1 + r.below(10);
        let (given, want) = redaction_case(&mut r, d);
        let (given, want) = match (given, want) {
            (g @ Json::Obj(_), w) => (g, w),
            (g, w) => (Json::Obj(vec![("v".into(), g)]), Json::Obj(vec![("v".into(), w)])),
        };
        let mut numbers_given = Vec::new();
        numbers(&given, &mut numbers_given);
        if numbers_given.iter().any(|n| beyond_max_double(n)) || given.depth() > 16 {
            continue;
        }
        let empty = matches!(&want, Json::Obj(m) if m.is_empty());
        let mut text = String::new();
        let loose = r.pct(40);
        write_loose(&mut r, &given, loose, &mut text);
        let check_stored = |path: &str, stored: Option<&str>| {
            if empty {
                assert_eq!(stored, None, "{path} {case}");
                return;
            }
            let back = parse(stored.unwrap_or_else(|| panic!("{path} {case}: no details")), 16).unwrap();
            assert_eq!(back, want, "{path} {case}: {text}");
        };
        let e = builder.build_json(None, "X", None, Some(&text)).unwrap_or_else(|e| panic!("{case}: {e} {text}"));
        check_stored("text", e.details.as_deref());
        redacted += usize::from(e.details.as_deref().is_some_and(|d| d.contains(crate::redact::REDACTED)));
        // Native: details as a serde_json::Value.
        let v: Value = serde_json::from_str(&text).unwrap();
        let e = builder.build(None, "X", None, Some(v)).unwrap();
        if empty {
            assert_eq!(e.details, None);
        } else {
            same(&want, &serde_json::from_str(e.details.as_deref().unwrap()).unwrap()).unwrap();
        }
        // The Worker: the body's parser, then the event builder.
        let body = format!("{{\"actionType\":\"X\",\"details\":{text}}}");
        let ev = crate::ingest::body::parse_events(&body, &crate::ingest::body::BodyLimits::default()).unwrap();
        let e = builder.build_json_names_checked(None, "X", None, ev[0].details.as_deref()).unwrap();
        check_stored("worker", e.details.as_deref());
    }
    assert!(redacted > 600, "{redacted}");
}

/// A logger's own secret in a details string value is stored as `"[REDACTED]"` however the
/// details' JSON text escapes it (`\/`, `\u0041`, a surrogate pair: what `json.dumps`'s
/// `ensure_ascii`, PHP's `json_encode` and others write), at any depth; and a member name
/// holding it is refused. What is not a secret is left as it was.
#[test]
fn secrets_in_details_are_scrubbed_whatever_their_escapes() {
    let mut r = Rng::new(0x5EED_0009);
    let limits = crate::rules::Limits::default();
    let secrets = ["s3cret/p@ss-wörd", "hunter2hunter2", "tok.en/😀+=="];
    let forms = crate::redact::secret_forms(secrets.iter().map(|s| s.to_string()));
    let holds = |s: &str| secrets.iter().any(|x| crate::error::holds_whole(s, x, false));
    fn strings<'a>(v: &'a Json, out: &mut Vec<&'a str>) {
        match v {
            Json::Str(s) => out.push(s),
            Json::Obj(m) => m.iter().for_each(|(_, x)| strings(x, out)),
            Json::Arr(a) => a.iter().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut scrubbed = 0;
    for case in 0..3000 * scale() {
        let secret = *r.pick(&secrets);
        let held = match r.below(3) {
            0 => secret.to_owned(),
            1 => format!("neo4j://neo4j:{secret}@host"),
            _ => format!("Bearer {secret}"),
        };
        let mut m: Vec<(String, Json)> = (0..r.below(3)).map(|i| (format!("k{i}"), tree(&mut r, 2))).collect();
        let at = r.below(m.len() + 1);
        let nested =
            if r.pct(50) { Json::Str(held) } else { Json::Arr(vec![Json::Obj(vec![("dsn".into(), Json::Str(held))])]) };
        m.insert(at, ("value".into(), nested));
        let given = Json::Obj(m);
        let mut nums = Vec::new();
        numbers(&given, &mut nums);
        if nums.iter().any(|n| beyond_max_double(n)) || given.repeated_key_deep().is_some() {
            // Details the rules refuse never reach the scrub.
            continue;
        }
        let mut text = String::new();
        write_loose(&mut r, &given, false, &mut text);
        let stored = match crate::redact::scrub_details(&text, &forms, &limits, "the secret") {
            Ok(Some(t)) => t,
            Ok(None) => text.clone(),
            Err(e) => panic!("{case}: {e} {text}"),
        };
        let back = parse(&stored, 16).unwrap();
        let mut all = Vec::new();
        strings(&back, &mut all);
        assert!(!all.iter().any(|s| holds(s)), "case {case}: the secret is stored: {text} -> {stored}");
        // Nothing but the strings holding it changed.
        let mut before = Vec::new();
        strings(&given, &mut before);
        assert_eq!(before.len(), all.len());
        for (b, a) in before.iter().zip(&all) {
            if holds(b) {
                assert_eq!(*a, crate::redact::REDACTED);
                scrubbed += 1;
            } else {
                assert_eq!(a, b, "{case}");
            }
        }
    }
    assert!(scrubbed > 2000, "{scrubbed}");
}
