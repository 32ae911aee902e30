//! The JSON the browser builds need (the write path and the read side) — parse, a small tree,
//! write — without `serde_json`.
//!
//! Why hand-written (measured with `bench/size` and `twiggy top`, 2026-11-28): in the browser
//! build `serde_json` with its float formatting and parsing, `serde`'s derive machinery and
//! `serde-wasm-bindgen` were the largest part of the `.wasm`; the write path only ever parses small
//! answers (Neo4j's result, a JWT payload, its own queue records, JS `details` already produced by
//! `JSON.stringify`) and writes strings and integers. Numbers are kept as their text, so nothing
//! here formats or parses a float, and a number in `details` is stored exactly as the caller wrote
//! it. Output is byte-for-byte what `serde_json` writes for the same strings and integers (the hash
//! chain's canonical encoding depends on that; see the tests). The read side builds its statements'
//! parameters and reads Neo4j's rows in this tree too (its JS results are JSON text for the host's
//! `JSON.parse`, `src/read/js.rs`). The Worker's ingest parses request bodies and JWTs here and
//! writes its answers and statement parameters with these writers too. `serde_json` stays in the
//! native API only.

#![allow(dead_code)] // Each build uses its own part (e.g. `to_serde` only with the read side).

/// A parsed JSON value. Objects keep their members in order (duplicates are kept too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// The number's text, exactly as it appeared (already checked against JSON's grammar).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not JSON (at this byte offset).
    Syntax(usize),
    /// Containers nested deeper than the limit.
    TooDeep,
    /// A `\uD800`–`\uDFFF` escape without its pair: not Unicode text.
    LoneSurrogate,
    /// A number (at this byte offset) beyond ±1.7976931348623157e308, the largest finite
    /// double: JavaScript would read it as ±Infinity, which `JSON.stringify` writes as `null`
    /// and the JavaScript client refuses; `serde_json` refuses it too.
    OutOfRange(usize),
}

/// Whether a JSON number (its integer digits, `.` and fraction digits, and exponent sign and
/// digits, all grammar-checked) is beyond the largest finite double, 1.7976931348623157e308.
/// Decided on the digits: a number between that and the next representable boundary, which a
/// float parser would round down to it, is refused too. No float is parsed.
fn beyond_f64(int: &[u8], frac: &[u8], (exp_neg, exp): (bool, &[u8])) -> bool {
    const MAX_DIGITS: &[u8] = b"17976931348623157";
    // Most numbers: no exponent and fewer than 309 integer digits (below 1e308).
    if exp.is_empty() && int.len() < 309 {
        return false;
    }
    // The exponent, saturated far beyond any that matters.
    let mut e: i64 = 0;
    for &d in exp {
        e = (e * 10 + i64::from(d - b'0')).min(1 << 40);
    }
    if exp_neg {
        e = -e;
    }
    // `point` = the decimal exponent of the first significant digit.
    let frac = frac.strip_prefix(b".").unwrap_or(frac);
    let point = if int != b"0" {
        int.len() as i64 - 1 + e
    } else {
        match frac.iter().position(|&d| d != b'0') {
            Some(k) => e - k as i64 - 1,
            None => return false, // zero
        }
    };
    if point != 308 {
        return point > 308;
    }
    // The significant digits against the largest double's, digit by digit (no allocation).
    // Index loops over `int` then `frac` (an iterator chain was ~0.3 KB of adapter code).
    let n = int.len() + frac.len();
    let digit = |i: usize| if i < int.len() { int[i] } else { frac[i - int.len()] };
    let mut i = 0;
    while i < n && digit(i) == b'0' {
        i += 1;
    }
    for &m in MAX_DIGITS {
        if i == n {
            return false;
        }
        let d = digit(i);
        if d != m {
            return d > m;
        }
        i += 1;
    }
    while i < n {
        if digit(i) != b'0' {
            return true;
        }
        i += 1;
    }
    false
}

impl Json {
    /// The member `key` of an object (the first, if repeated).
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => {
                for (k, v) in m {
                    if k == key {
                        return Some(v);
                    }
                }
                None
            }
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integral number (no fraction or exponent) that fits.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => digits_i64(n),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Num(n) => digits_u64(n),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// A number as the nearest `f64` (any JSON number; `None` for other values and for a
    /// number too large for `f64`, which `serde_json` refuses too).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => n.parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    /// An object's members, `None` for other values.
    pub(crate) fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(m) => Some(m),
            _ => None,
        }
    }

    /// The first member name an object repeats (`serde_json` would keep the last value of a
    /// repeated name; the ingest path refuses such objects instead). `None` for other values.
    pub(crate) fn repeated_key(&self) -> Option<&str> {
        let Json::Obj(m) = self else { return None };
        let mut keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        crate::sort::sort(&mut keys);
        keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }

    /// [`Json::repeated_key`] of this value and of every object inside it, at any depth: the
    /// first repeated member name found (depth first, in document order).
    pub(crate) fn repeated_key_deep(&self) -> Option<&str> {
        match self {
            Json::Obj(m) => self.repeated_key().or_else(|| m.iter().find_map(|(_, v)| v.repeated_key_deep())),
            Json::Arr(a) => a.iter().find_map(Json::repeated_key_deep),
            _ => None,
        }
    }

    /// Nesting depth: 0 for a scalar, 1 for `{}` / `[]`, one more per level inside.
    pub(crate) fn depth(&self) -> usize {
        match self {
            Json::Arr(a) => 1 + a.iter().map(Json::depth).max().unwrap_or(0),
            Json::Obj(m) => 1 + m.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Appends this value as compact JSON.
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(out, s),
            Json::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The same value as a `serde_json::Value` (for the read side and native callers): the value
    /// `serde_json` reads from this text with its `float_roundtrip` (an integer that fits as
    /// `u64`/`i64`, else the nearest double; `-0` as `-0.0`), without its reader, whose floats are
    /// the nearest double only with that feature, which the crate does not turn on. Members in
    /// the map's own order (sorted, unless the program turns on serde_json's `preserve_order`).
    pub(crate) fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Num(n) => match (digits_u64(n), digits_i64(n)) {
                (Some(u), _) => Value::from(u),
                (None, Some(i)) if i < 0 => Value::from(i),
                // A fraction or exponent, `-0`, or an integer beyond 64 bits. (Never out of range:
                // the parser refuses a number beyond the largest double.)
                _ => n.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number),
            },
            Json::Str(s) => Value::String(s.clone()),
            Json::Arr(a) => Value::Array(a.iter().map(Json::to_serde).collect()),
            Json::Obj(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect()),
        }
    }
}

// Values as parameters of a statement (the read side builds its statements with these).
impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_owned())
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Json {
        Json::Str(s.clone())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        let mut s = String::new();
        write_int(&mut s, n);
        Json::Num(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        let mut s = String::new();
        write_uint(&mut s, n);
        Json::Num(s)
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::from(u64::from(n))
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}

/// Appends `items` as a JSON array of strings ([`write_str`] each).
pub(crate) fn write_str_array(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

/// Appends `s` as a JSON string, escaped exactly as `serde_json` does (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx`; everything else as is).
pub(crate) fn write_str(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let n = bytes.len();
    // SAFETY: only whole UTF-8 sequences of `s` (runs cut next to ASCII bytes, see `push_run`)
    // and ASCII escapes are appended, so `out` stays valid UTF-8.
    let out = unsafe { out.as_mut_vec() };
    // Room for the quotes and the text as is; each escape below first makes room for the rest
    // of the text plus that escape, so the runs are copied with no capacity check of their own
    // (`extend_from_slice` per run, a call at the size-optimised level, was a third of this
    // function's time: details' JSON text has a quote every few bytes, written twice per event).
    out.reserve(n + 2);
    out.push(b'"');
    let (mut start, mut i) = (0, 0);
    while i < n {
        // Eight bytes at a time: a window with no byte to escape (most text: the statement,
        // names, values) is skipped whole; otherwise the first byte to escape is found from the
        // window's mask and escaped, and the scan goes on right after it.
        let hit = if i + 8 <= n {
            // SAFETY: bytes i..i + 8 are in `bytes` (checked just above). Read directly: the
            // `bytes[i..]` slicing stayed a call of its own (with its bounds check) at the
            // size-optimised level, once per window (bench/cpu_ab.mjs's profile).
            let w = unsafe { bytes.as_ptr().add(i).cast::<[u8; 8]>().read_unaligned() };
            let m = escape_mask(u64::from_le_bytes(w));
            if m == 0 {
                i += 8;
                continue;
            }
            i + (m.trailing_zeros() / 8) as usize
        } else {
            // The tail, under eight bytes.
            match bytes[i..].iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\') {
                Some(p) => i + p,
                None => break,
            }
        };
        // The rest of the text from `start`, one escape (at most 6 bytes) and the closing quote.
        let need = n - start + 7;
        if out.capacity() - out.len() < need {
            out.reserve(need + (n - start) / 4);
        }
        copy_short_run(out, bytes, start, hit);
        if matches!(bytes[hit], b'"' | b'\\') {
            // Its escape is a backslash before it: the byte itself starts the next run (one
            // append per quote instead of two).
            copy_run(out, b"\\");
            start = hit;
        } else {
            push_escape(out, bytes[hit]);
            start = hit + 1;
        }
        i = hit + 1;
    }
    out.reserve(n - start + 1);
    copy_run(out, &bytes[start..]);
    copy_run(out, b"\"");
}

/// Appends `bytes[start..end]` (a run of [`write_str`]'s text before a byte to escape) to `out`,
/// which has room for the rest of the text from `start` plus 7 bytes. A run of at most 16 bytes
/// with 16 bytes of text from `start` is copied as two 8-byte words (the bytes past the run land
/// in `out`'s spare room, overwritten next): `copy_run`'s `memory.copy` of a length known only at
/// run time is a call out of the compiled code in V8, and details' JSON text, escaped twice per
/// event (hash, request), has a quote every few bytes. `node bench/cpu_full_ab.mjs 20000 15`,
/// 2026-11-30: 0.987 (95 % CI 0.874-0.994) of main's CPU per call; +21 B gz of .wasm.
#[inline(always)]
fn copy_short_run(out: &mut Vec<u8>, bytes: &[u8], start: usize, end: usize) {
    let len = out.len();
    if end - start <= 16 && start + 16 <= bytes.len() {
        debug_assert!(out.capacity() - len >= 16);
        // SAFETY: 16 bytes of `bytes` from `start` exist (checked just above), and `out` has room
        // for 16 bytes: the caller made room for `bytes.len() - start + 7` (at least 23).
        unsafe {
            let from = bytes.as_ptr().add(start);
            let to = out.as_mut_ptr().add(len);
            to.cast::<u64>().write_unaligned(from.cast::<u64>().read_unaligned());
            to.add(8).cast::<u64>().write_unaligned(from.add(8).cast::<u64>().read_unaligned());
            out.set_len(len + (end - start));
        }
    } else {
        copy_run(out, &bytes[start..end]);
    }
}

/// Appends `run` to `out`, which has room for it (checked by the caller; a debug build asserts it).
#[inline(always)]
fn copy_run(out: &mut Vec<u8>, run: &[u8]) {
    let len = out.len();
    debug_assert!(out.capacity() - len >= run.len());
    // SAFETY: the caller made room for `run` (above), and `run` cannot overlap `out`'s spare room.
    unsafe {
        std::ptr::copy_nonoverlapping(run.as_ptr(), out.as_mut_ptr().add(len), run.len());
        out.set_len(len + run.len());
    }
}

/// The bytes of `w` (little-endian) that need escaping: below 0x20, `"` or `\\`, each marked by
/// its high bit. A mark may also be set on a byte that needs none, but only above (after) one
/// that does: the lowest mark is always exact, which is all [`write_str`] uses.
#[inline(always)]
fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Marks the bytes of `v` below `k` (k <= 0x80); a borrow can mark only bytes above a true one.
    let below = |v: u64, k: u64| v.wrapping_sub(ONES * k) & !v & HIGH;
    below(w, 0x20) | below(w ^ (ONES * b'"' as u64), 1) | below(w ^ (ONES * b'\\' as u64), 1)
}

/// Appends the escape of a byte that needs one (see [`write_str`]; room for it was made there).
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => copy_run(out, b"\\\""),
        b'\\' => copy_run(out, b"\\\\"),
        b'\n' => copy_run(out, b"\\n"),
        b'\r' => copy_run(out, b"\\r"),
        b'\t' => copy_run(out, b"\\t"),
        0x08 => copy_run(out, b"\\b"),
        0x0c => copy_run(out, b"\\f"),
        _ => copy_run(out, &[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
    }
}

/// Appends a run of `s`'s bytes cut at ASCII positions (so whole UTF-8 sequences): the hot
/// loops above cut text only before and after an ASCII byte, which the compiler cannot see, and
/// `&str` slicing would check every cut for a character boundary.
#[inline]
fn push_run(out: &mut String, run: &[u8]) {
    // SAFETY: every caller passes a sub-slice of a `str` whose ends are at offset 0, at the end,
    // or next to an ASCII byte, i.e. on character boundaries: the run is valid UTF-8.
    unsafe { out.as_mut_vec().extend_from_slice(run) }
}

/// Bytes its caller wrote as ASCII (hex digits, hyphens) as a `String`, without the UTF-8 check
/// of `String::from_utf8` (a call of its own per event for the UID and the hash, in profiles).
///
/// # Safety
/// `bytes` must be ASCII (checked in debug builds).
pub(crate) unsafe fn ascii_string(bytes: Vec<u8>) -> String {
    debug_assert!(bytes.is_ascii(), "ascii_string given non-ASCII bytes");
    // SAFETY: the caller's promise: ASCII is valid UTF-8.
    unsafe { String::from_utf8_unchecked(bytes) }
}

/// Appends an optional string (`null` for none).
pub(crate) fn write_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.push_str("null"),
    }
}

/// Appends an integer.
pub(crate) fn write_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    write_uint(out, n.unsigned_abs());
}

/// Appends an unsigned integer (no `core::fmt`).
pub(crate) fn write_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // SAFETY: only ASCII digits were written: `out` stays UTF-8 (no `str::from_utf8` check, a
    // call per number on every event's path).
    unsafe { out.as_mut_vec() }.extend_from_slice(&buf[i..]);
}

/// A non-empty run of ASCII digits as a `u64` (`None` for anything else, or on overflow): one body
/// for [`Json::as_u64`] and [`Json::as_i64`] instead of `str::parse`'s two (a JSON number never
/// starts with `+`, which `parse` would accept). The Worker reads its numeric settings and
/// headers with it too.
/// [`digits_u64`] with an optional leading `-`, within `i64`.
pub(crate) fn digits_i64(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        // Down to i64::MIN, whose magnitude is one more than i64::MAX.
        Some(m) => digits_u64(m).filter(|&v| v <= 1 << 63).map(|v| (v as i64).wrapping_neg()),
        None => digits_u64(s).and_then(|v| i64::try_from(v).ok()),
    }
}

pub(crate) fn digits_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses one JSON value (surrounded by optional whitespace) with containers nested at most
/// `max_depth` deep (`{}` is depth 1).
pub(crate) fn parse(text: &str, max_depth: usize) -> Result<Json, ParseError> {
    parse_compact(text, max_depth).map(|(v, _)| v)
}

/// [`parse`], and whether `text` was compact: no whitespace outside strings and, in the builds
/// whose details text can come from a Rust caller (all but the JavaScript entries), no `\/` or
/// `\u` string escape, so that [`Json::write`] of the tree gives it back there. (In the
/// JavaScript entries the text is `JSON.stringify`'s or the Worker's own writer's, whose `\u`
/// escapes `write` writes alike; src/props.rs and tests/differential.rs check both.)
pub(crate) fn parse_compact(text: &str, max_depth: usize) -> Result<(Json, bool), ParseError> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0, max_depth, loose: false };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(ParseError::Syntax(p.i));
    }
    Ok((v, !p.loose))
}

/// What [`scan`] learnt about a text it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The top-level value's shape, with its contents left out: `Json::Obj` and `Json::Arr` are
    /// always empty here, `Json::Str` and `Json::Num` hold no text.
    pub shape: Json0,
    /// No whitespace outside strings, no `\/` or `\u` escape (see [`parse_compact`]).
    pub compact: bool,
    /// Object member names met, at any depth.
    pub keys: usize,
    /// `key` answered `true` for some member name.
    pub hit: bool,
}

/// The kind of a JSON value, without its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Json0 {
    Null,
    Other,
    Obj,
}

/// Checks `text` exactly as [`parse_compact`] does (same errors) without building the tree: no
/// allocation but one buffer for member names. `key` is asked about each member name
/// (unescaped), at any depth, in order until it answers `true`. The write path's details take this path: redaction needs the tree
/// only when a key matches.
pub(crate) fn scan(text: &str, max_depth: usize, key: &dyn Fn(&str) -> bool) -> Result<Scan, ParseError> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0, max_depth, loose: false };
    let mut names = Names { key, name: String::new(), keys: 0, hit: false };
    let shape = p.scan_value(0, &mut names)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(ParseError::Syntax(p.i));
    }
    Ok(Scan { shape, compact: !p.loose, keys: names.keys, hit: names.hit })
}

/// [`scan`]'s member names: the question asked of each, the one being read, how many were met,
/// and whether one was answered `true`.
struct Names<'a> {
    key: &'a dyn Fn(&str) -> bool,
    name: String,
    keys: usize,
    hit: bool,
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    max_depth: usize,
    /// Whitespace was skipped somewhere, or a string holds a `\/` or `\u` escape (which
    /// [`write_str`] may write otherwise): the text may not be what [`Json::write`] gives back.
    loose: bool,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.s.get(self.i) {
            self.i += 1;
            self.loose = true;
        }
    }

    fn err<T>(&self) -> Result<T, ParseError> {
        Err(ParseError::Syntax(self.i))
    }

    /// Whether the next byte is `b` (a pattern, not `Option`'s `==`, which stayed a call of its
    /// own at the size-optimised level: bench/cpu_ab.mjs's profile, the details scan).
    #[inline(always)]
    fn at(&self, b: u8) -> bool {
        matches!(self.s.get(self.i), Some(&c) if c == b)
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.at(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                if depth >= self.max_depth {
                    return Err(ParseError::TooDeep);
                }
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    if !self.at(b'"') {
                        return self.err();
                    }
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return self.err();
                    }
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(Json::Obj(m));
                    }
                    return self.err();
                }
            }
            Some(b'[') => {
                if depth >= self.max_depth {
                    return Err(ParseError::TooDeep);
                }
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Arr(a));
                }
                loop {
                    let v = self.value(depth + 1)?;
                    a.push(v);
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Ok(Json::Arr(a));
                    }
                    return self.err();
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.number()?;
                Ok(Json::Num(self.text[start..self.i].to_owned()))
            }
            _ => self.err(),
        }
    }

    /// [`Parser::value`] for [`scan`]: the same grammar and errors, in the same order, with
    /// nothing built (no tree node returned per value, no scan-mode branches in `value`: the
    /// write path scans every event's details). The value's shape; each member name is asked
    /// about (unescaped), in order until one is answered `true`.
    fn scan_value(&mut self, depth: usize, names: &mut Names) -> Result<Json0, ParseError> {
        self.ws();
        let close = match self.s.get(self.i) {
            Some(b'{') => b'}',
            Some(b'[') => b']',
            Some(b'"') => return self.string_into(&mut String::new(), false).map(|_| Json0::Other),
            Some(b't') => return self.literal("true", Json0::Other),
            Some(b'f') => return self.literal("false", Json0::Other),
            Some(b'n') => return self.literal("null", Json0::Null),
            Some(b'-' | b'0'..=b'9') => return self.number().map(|_| Json0::Other),
            _ => return self.err(),
        };
        if depth >= self.max_depth {
            return Err(ParseError::TooDeep);
        }
        self.i += 1;
        let shape = if close == b'}' { Json0::Obj } else { Json0::Other };
        if self.eat(close) {
            return Ok(shape);
        }
        loop {
            if close == b'}' {
                self.ws();
                if !self.at(b'"') {
                    return self.err();
                }
                names.name.clear();
                self.string_into(&mut names.name, true)?;
                names.keys += 1;
                names.hit = names.hit || (names.key)(&names.name);
                if !self.eat(b':') {
                    return self.err();
                }
            }
            self.scan_value(depth + 1, names)?;
            if self.eat(b',') {
                continue;
            }
            if self.eat(close) {
                return Ok(shape);
            }
            return self.err();
        }
    }

    fn literal<T>(&mut self, word: &str, v: T) -> Result<T, ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err()
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// Checks the number at the cursor and moves past it; where it starts.
    fn number(&mut self) -> Result<usize, ParseError> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let int = self.i;
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err(),
        }
        let int_end = self.i;
        if self.at(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err();
            }
        }
        let mantissa_end = self.i;
        let mut exp = (false, &self.s[0..0]);
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            let neg = self.at(b'-');
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            let at = self.i;
            if self.digits() == 0 {
                return self.err();
            }
            exp = (neg, &self.s[at..self.i]);
        }
        if beyond_f64(&self.s[int..int_end], &self.s[int_end..mantissa_end], exp) {
            return Err(ParseError::OutOfRange(start));
        }
        Ok(start)
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.s.get(self.i..self.i + 4).ok_or(ParseError::Syntax(self.i))?;
        let mut n = 0;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err(),
            };
            n = n * 16 + d as u32;
        }
        self.i += 4;
        Ok(n)
    }

    /// At the opening quote; returns the unescaped text.
    fn string(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        self.string_into(&mut out, true)?;
        Ok(out)
    }

    /// At the opening quote; appends the unescaped text to `out` when `keep` (else only checks it).
    fn string_into(&mut self, out: &mut String, keep: bool) -> Result<(), ParseError> {
        self.i += 1;
        let mut start = self.i;
        loop {
            // Eight bytes at a time up to the next quote, backslash or control byte (the lowest
            // mark of the window's mask is exact); that byte is then looked at below.
            if let Some(w) = self.s.get(self.i..).and_then(|r| r.first_chunk::<8>()) {
                let m = escape_mask(u64::from_le_bytes(*w));
                if m == 0 {
                    self.i += 8;
                    continue;
                }
                self.i += (m.trailing_zeros() / 8) as usize;
            }
            let Some(&b) = self.s.get(self.i) else { return self.err() };
            match b {
                b'"' => {
                    if keep {
                        push_run(out, &self.s[start..self.i]);
                    }
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {
                    if keep {
                        push_run(out, &self.s[start..self.i]);
                    }
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else { return self.err() };
                    self.i += 1;
                    // `write_str` writes `\/` as `/`, and a `\u` escape as the character (or a
                    // short escape, or lower-case hex, only for a control character): such text is
                    // re-written, so the rule table's size bound and the stored text are the
                    // written text's, which the ingest Worker stores (it re-writes what it gets).
                    // Only a Rust caller's hand-written text has such escapes: the JavaScript
                    // entries' details are JSON.stringify's (and the Worker's its own writer's),
                    // which write `\u` for control characters alone and never `\/`, so those
                    // builds leave the check out (their .wasm stays as it was).
                    #[cfg(not(all(target_arch = "wasm32", feature = "js")))]
                    if matches!(e, b'/' | b'u') {
                        self.loose = true;
                    }
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = match hi {
                                0xD800..=0xDBFF => {
                                    if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                        return Err(ParseError::LoneSurrogate);
                                    }
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return Err(ParseError::LoneSurrogate);
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return Err(ParseError::LoneSurrogate),
                                c => c,
                            };
                            char::from_u32(c).ok_or(ParseError::LoneSurrogate)?
                        }
                        _ => return self.err(),
                    };
                    if keep {
                        out.push(ch);
                    }
                    start = self.i;
                }
                0..=0x1f => return self.err(),
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where this parser and `serde_json` (which the Worker used before) decide differently, and
    /// where they agree, side by side.
    #[test]
    fn against_serde_json_on_the_edges() {
        use serde_json::Value;
        let serde = |t: &str| serde_json::from_str::<Value>(t);
        // Repeated member names: serde_json keeps the last value (at the first one's place);
        // this parser keeps both, and `repeated_key` names the repeat (the Worker refuses it).
        let t = r#"{"a":1,"b":2,"a":3}"#;
        assert_eq!(serde(t).unwrap(), serde_json::json!({"a": 3, "b": 2}));
        let v = parse(t, 4).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 3);
        assert_eq!(v.repeated_key(), Some("a"));
        assert_eq!(parse(r#"{"a":1,"b":{"a":2}}"#, 4).unwrap().repeated_key(), None, "only the object's own members");
        // Nesting: serde_json's recursion limit lets 127 levels through and refuses 128; with
        // max_depth 127 this parser draws the same line.
        for (n, ok) in [(127, true), (128, false)] {
            let t = format!("{}{}", "[".repeat(n), "]".repeat(n));
            assert_eq!(serde(&t).is_ok(), ok, "serde_json, {n}");
            assert_eq!(parse(&t, 127).is_ok(), ok, "ours, {n}");
            if !ok {
                assert_eq!(parse(&t, 127), Err(ParseError::TooDeep));
            }
        }
        // Escapes and surrogates: both refuse the same texts.
        for t in [
            r#""\x""#,
            r#""\u12""#,
            r#""\u12G4""#,
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\ud800x""#,
            "\"a\u{0}\"",
        ] {
            assert!(serde(t).is_err(), "serde_json takes {t:?}");
            assert!(parse(t, 4).is_err(), "we take {t:?}");
        }
        for t in [r#""\ud83d\ude00""#, r#""\u00e9\/""#, r#""\uFFFF""#] {
            assert_eq!(parse(t, 4).unwrap().to_serde(), serde(t).unwrap(), "{t}");
        }
        // Numbers: serde_json turns an integer beyond u64 (and every fraction) into an f64;
        // this parser keeps the text, so it is written back exactly as sent.
        let t = r#"{"big":123456789012345678901234567890,"max":18446744073709551615,"f":1.50,"e":1E+2,"neg":-0}"#;
        let mut out = String::new();
        parse(t, 4).unwrap().write(&mut out);
        assert_eq!(out, t);
        // `to_serde` gives serde_json's value for each (member by member: a map's order is
        // serde_json's own, sorted unless a program turns on its `preserve_order`).
        let (theirs, ours) = (serde(t).unwrap(), parse(t, 4).unwrap().to_serde());
        for (k, want) in [
            ("big", "1.2345678901234568e+29"),
            ("max", "18446744073709551615"),
            ("f", "1.5"),
            ("e", "100.0"),
            ("neg", "-0.0"),
        ] {
            assert_eq!((theirs[k].to_string(), ours[k].to_string()), (want.to_owned(), want.to_owned()), "{k}");
        }
        assert_eq!(ours, theirs);
        // Beyond f64: both refuse the text.
        assert!(serde("1e400").is_err());
        assert_eq!(parse("1e400", 1), Err(ParseError::OutOfRange(0)));
        assert_eq!(parse("-1.5e3", 1).unwrap().as_f64(), Some(-1500.0));
        assert_eq!(parse("[]", 1).unwrap().as_f64(), None);
    }

    #[test]
    fn depth_counts_levels() {
        for (t, d) in [("1", 0), ("{}", 1), ("[[]]", 2), (r#"{"a":[1,{"b":{}}],"c":2}"#, 4)] {
            assert_eq!(parse(t, 8).unwrap().depth(), d, "{t}");
            assert_eq!(crate::rules::depth_of(&serde_json::from_str(t).unwrap()), d, "{t}");
        }
    }

    /// Text with a `\/` or `\u` escape is not compact (the client logger re-writes it, so it
    /// measures and stores what the ingest Worker does: tests/differential.rs, whose seeded cases
    /// found the client refusing details near the size bound that the Worker took); the short
    /// escapes JSON.stringify and serde_json write keep text compact (kept as given).
    #[test]
    fn escapes_written_otherwise_are_not_compact() {
        for t in
            [r#"{"k":"a\/b"}"#, r#"{"k":"\u00e9"}"#, r#"{"\u0041":1}"#, r#"{"k":"\ud83d\ude00"}"#, r#"{"k":"\u001F"}"#]
        {
            let (v, compact) = parse_compact(t, 4).unwrap();
            assert!(!compact, "{t}");
            assert!(!scan(t, 4, &|_| false).unwrap().compact, "{t}");
            let mut w = String::new();
            v.write(&mut w);
            assert!(w.len() <= t.len(), "{t} -> {w}");
        }
        for t in [r#"{"k":"a\"b\\c\n\t\r\b\f"}"#, r#"{"k":"é😀/"}"#] {
            assert!(parse_compact(t, 4).unwrap().1, "{t}");
        }
    }

    #[test]
    fn round_trips_compact_json() {
        for t in
            [r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"\\\n\u0001é😀"},"n":-1.5e+3}"#, "[]", "{}", r#""x""#, "0"]
        {
            let v = parse(t, 16).unwrap();
            let mut out = String::new();
            v.write(&mut out);
            assert_eq!(out, t);
            // The same tree as serde_json's.
            assert_eq!(v.to_serde(), serde_json::from_str::<serde_json::Value>(t).unwrap());
        }
    }

    #[test]
    fn escapes_as_serde_json_does() {
        let all: String = (0u32..0x80).filter_map(char::from_u32).chain("é\u{2028}😀".chars()).collect();
        let mut out = String::new();
        write_str(&mut out, &all);
        assert_eq!(out, serde_json::to_string(&all).unwrap());
        for n in [0i64, 7, -7, 1_700_000_000_000, i64::MAX, i64::MIN] {
            let mut s = String::new();
            write_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn escapes_each_byte_at_each_place_of_the_eight_byte_scan() {
        // write_str tests eight bytes at a time: every byte that needs an escape (and a few that
        // do not, next to them), at every offset of a string around one to three windows long.
        let mut specials: Vec<char> = (0u8..0x20).map(char::from).collect();
        specials.extend(['"', '\\', ' ', '!', '#', '[', ']', '\u{7f}', 'é', '😀', 'a']);
        for len in 0..26 {
            for &c in &specials {
                for at in 0..len.max(1) {
                    let s: String =
                        (0..len).map(|i| if i == at { c } else { (b'a' + (i % 26) as u8) as char }).collect();
                    for t in [s.clone(), format!("{s}{c}{c}"), format!("{c}{s}")] {
                        let mut out = String::from("x");
                        write_str(&mut out, &t);
                        assert_eq!(out[1..], serde_json::to_string(&t).unwrap(), "{t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn escapes_runs_of_every_length_between_escapes() {
        // write_str copies a run of up to 16 bytes before an escape as two 8-byte words when 16
        // bytes of text follow its start (copy_short_run): runs of 0 to 20 bytes (ASCII and not)
        // between two escapes, with 0 to 20 bytes after the second, into a buffer with no spare
        // room and into one with some.
        for run in 0..21 {
            for tail in 0..21 {
                for fill in ['a', 'é'] {
                    let body: String = std::iter::repeat_n(fill, run).collect();
                    let after: String = (0..tail).map(|i| (b'a' + i as u8) as char).collect();
                    let t = format!("\"{body}\n{after}\\");
                    for spare in [0, 40] {
                        let mut out = String::with_capacity(1 + spare);
                        out.push('x');
                        write_str(&mut out, &t);
                        assert_eq!(out[1..], serde_json::to_string(&t).unwrap(), "{t:?}");
                    }
                }
            }
        }
    }

    /// The string reader skips eight bytes at a time: an escape, a quote or a control byte at
    /// every place of the window reads as `serde_json` reads it (or is refused as there).
    #[test]
    fn reads_strings_with_each_special_byte_at_each_place_of_the_window() {
        for special in ["\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\u{1}", "\u{1f}", "é", "\u{7f}"] {
            for at in 0..20 {
                for len in [at, at + 1, at + 7, at + 8, at + 9, 24] {
                    let text = format!("\"{}{}{}\"", "a".repeat(at), special, "b".repeat(len - at));
                    let ours = parse(&text, 4).ok().map(|v| {
                        let mut o = String::new();
                        v.write(&mut o);
                        o
                    });
                    let theirs = serde_json::from_str::<serde_json::Value>(&text).ok().map(|v| v.to_string());
                    assert_eq!(ours, theirs, "{text:?}");
                    let obj = format!("{{{text}:1}}");
                    assert_eq!(scan(&obj, 4, &|_| false).is_ok(), theirs.is_some(), "{obj:?}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_json() {
        for t in ["", "{", "{\"a\"}", "[1,]", "01", "1.", "-", "tru", "\"\u{1}\"", "{} x", "'a'", "\"\\x\""] {
            assert!(matches!(parse(t, 16), Err(ParseError::Syntax(_))), "{t:?}");
        }
        assert_eq!(parse(r#""\ud800""#, 16), Err(ParseError::LoneSurrogate));
        assert_eq!(parse(r#""\udc00x""#, 16), Err(ParseError::LoneSurrogate));
        assert_eq!(parse(r#""\ud83d\ude00""#, 16).unwrap(), Json::Str("😀".into()));
        assert_eq!(parse("[[[]]]", 2), Err(ParseError::TooDeep));
        assert!(parse("[[[]]]", 3).is_ok());
    }

    #[test]
    fn parameters_from_rust_values() {
        let v = Json::Obj(vec![
            ("a".into(), Json::from("x\"")),
            ("b".into(), Json::from(-5i64)),
            ("c".into(), Json::from(u64::MAX)),
            ("d".into(), Json::from(7u32)),
            ("e".into(), Json::from(None::<i64>)),
            ("f".into(), Json::from(Some(String::from("y")))),
            ("g".into(), Json::from(&String::from("z"))),
        ]);
        let want = serde_json::json!({"a": "x\"", "b": -5, "c": u64::MAX, "d": 7, "e": null, "f": "y", "g": "z"});
        assert_eq!(v.to_serde(), want);
        let mut out = String::new();
        v.write(&mut out);
        assert_eq!(out, want.to_string());
    }

    #[test]
    fn reads_numbers_as_integers_only_when_integral() {
        let v = parse(r#"{"a":5,"b":5.0,"c":-3,"d":"5"}"#, 4).unwrap();
        assert_eq!(v.get("a").and_then(Json::as_u64), Some(5));
        assert_eq!(v.get("b").and_then(Json::as_u64), None);
        assert_eq!(v.get("c").and_then(Json::as_i64), Some(-3));
        assert_eq!(v.get("d").and_then(Json::as_u64), None);
    }

    /// `as_u64` / `as_i64` (one digit loop) answer as `str::parse` does for every number text,
    /// at the edges of both types too.
    #[test]
    fn integer_readers_agree_with_str_parse() {
        for t in [
            "0",
            "-0",
            "7",
            "-7",
            "00",
            "1e3",
            "1.0",
            "-",
            "",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551615",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999",
            "12a",
            "+5",
        ] {
            let n = Json::Num(t.to_owned());
            if t.starts_with('+') {
                // Never a JSON number; `parse` would take it, the readers refuse it.
                assert_eq!((n.as_u64(), n.as_i64()), (None, None));
                continue;
            }
            assert_eq!(n.as_u64(), t.parse::<u64>().ok(), "{t}");
            assert_eq!(n.as_i64(), t.parse::<i64>().ok(), "{t}");
        }
    }

    /// `scan` (the write path's details check without a tree) accepts and refuses exactly what
    /// `parse_compact` does, with the same error, shape and compactness, and asks about every
    /// member name, unescaped, at any depth.
    #[test]
    fn numbers_beyond_the_largest_double_are_refused() {
        // Found by a new user: the Worker stored {"n":1e99999}, which every JavaScript reader
        // sees as Infinity (and export printed as null), while the client refuses Infinity.
        let (big_out, big_in) =
            (format!("17976931348623159{}", "0".repeat(292)), format!("17976931348623157{}", "0".repeat(292)));
        for t in
            ["1e99999", "-1e309", "1.8e308", "17976931348623159e292", "0.18e310", "1e1099511627776", big_out.as_str()]
        {
            assert_eq!(parse(t, 4), Err(ParseError::OutOfRange(0)), "{t}");
            assert!(t.parse::<f64>().unwrap().is_infinite(), "{t}");
            let doc = format!("{{\"a\":[{t}]}}");
            assert_eq!(parse(&doc, 4), Err(ParseError::OutOfRange(6)), "{doc}");
            assert!(scan(&doc, 4, &|_| false).is_err(), "{doc}");
        }
        // Just past the largest double's digits: refused, although a float parser rounds it down.
        assert_eq!(parse("1.797693134862315700001e308", 1), Err(ParseError::OutOfRange(0)));
        // Finite, however close to the edge or however small (underflow reads as 0).
        for t in [
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "0.17976931348623157e309",
            "1e308",
            "9.99e307",
            "1e-99999",
            "0e99999",
            "0.0e1099511627776",
            "-0",
            "123.456e-7",
            "1.79769313486231570e308",
            "0.000179769313486231569e312",
            big_in.as_str(),
        ] {
            assert!(matches!(parse(t, 4), Ok(Json::Num(_))), "{t}");
            assert!(t.parse::<f64>().unwrap().is_finite(), "{t}");
        }
    }

    #[test]
    fn scan_agrees_with_parse() {
        use std::cell::RefCell;
        let texts = [
            "null",
            "{}",
            "[]",
            "1",
            "-0.5e3",
            "\"s\"",
            "true",
            "{\"a\":1}",
            " {\"a\":1}",
            "{\"a\" : 1}",
            "{\"a\":[1,{\"b\\u0041\":null}],\"c\":\"x\\\"y\"}",
            "{\"a\":{}}",
            "{\"a\":",
            "{\"a\":1,}",
            "{1:2}",
            "{\"a\":\"\\ud800\"}",
            "{\"\\udc00\":1}",
            "{\"a\":\"\\ud83d\\ude00\"}",
            "{\"a\":[[[[1]]]]}",
            "{\"a\":[[[1]]]}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":tru}",
            "{\"a\":1} x",
            "{\"é\":\"ü\",\"x\\/y\":\"\\n\"}",
            "[{\"a\":1}]",
            "{\"a\":1,\"a\":2}",
        ];
        for t in texts {
            let seen = RefCell::new(Vec::new());
            let scanned = scan(t, 4, &|k| {
                seen.borrow_mut().push(k.to_owned());
                k == "bA"
            });
            match parse_compact(t, 4) {
                Err(e) => assert_eq!(scanned, Err(e), "{t}"),
                Ok((v, compact)) => {
                    let s = scanned.unwrap_or_else(|e| panic!("{t}: {e:?}"));
                    let shape = match v {
                        Json::Null => Json0::Null,
                        Json::Obj(_) => Json0::Obj,
                        _ => Json0::Other,
                    };
                    assert_eq!((s.shape, s.compact), (shape, compact), "{t}");
                    fn names(v: &Json, out: &mut Vec<String>) {
                        match v {
                            Json::Obj(m) => m.iter().for_each(|(k, v)| {
                                out.push(k.clone());
                                names(v, out)
                            }),
                            Json::Arr(a) => a.iter().for_each(|v| names(v, out)),
                            _ => {}
                        }
                    }
                    let mut want = Vec::new();
                    names(&v, &mut want);
                    // Asked in order, until one answered `true`.
                    let asked = want.iter().position(|k| k == "bA").map_or(want.len(), |i| i + 1);
                    assert_eq!(*seen.borrow(), want[..asked], "{t}");
                    assert_eq!(s.keys, want.len(), "{t}");
                    assert_eq!(s.hit, want.iter().any(|k| k == "bA"), "{t}");
                }
            }
        }
    }
}
