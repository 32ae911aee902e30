//! JS `details` → JSON text in one pass of the host's `JSON.stringify` (details.js, beside this
//! file), refusing what JSON cannot carry faithfully instead of silently dropping it (as
//! `JSON.stringify` alone does with functions) or throwing (cycles, BigInt). Everything that can
//! run user code or throw (proxies, getters, `toJSON`) runs inside that function's `try`, so a
//! hostile or revoked `Proxy` gives `invalid input`, never an exception. One string crosses into
//! wasm, however many values the details hold.

use wasm_bindgen::prelude::*;

use crate::error::AuditError;
use crate::rules;

#[wasm_bindgen(module = "/src/wasm/details.js")]
extern "C" {
    /// `null`, the JSON text, or `{error}` (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = detailsToJson)]
    fn details_to_json(details: &JsValue, max_depth: u32) -> JsValue;

    /// A call's text as UTF-8 at `ptr` (`room` bytes): the bytes written, -1 (then
    /// `eventBack`), or -2 - the bytes needed (then `eventTextAgain`) (src/wasm/details.js).
    /// Never throws.
    #[wasm_bindgen(js_name = eventText)]
    fn event_text(
        user: &JsValue,
        action_type: &JsValue,
        category: &JsValue,
        details: &JsValue,
        max_depth: u32,
        ptr: u32,
        room: u32,
    ) -> f64;

    #[wasm_bindgen(js_name = eventTextAgain)]
    fn event_text_again(ptr: u32, room: u32) -> f64;

    #[wasm_bindgen(js_name = eventBack)]
    fn event_back() -> JsValue;

    #[wasm_bindgen(js_name = setMemory)]
    fn set_memory(memory: &JsValue);

    /// The own enumerable keys of an options object, `null` for an array, `undefined` when it
    /// cannot be read (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = optionKeys)]
    pub(super) fn option_keys(options: &JsValue) -> JsValue;

    /// The config as JSON text, or `{error}` naming a member JSON would drop or null
    /// (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = configToJson)]
    fn config_to_json(config: &JsValue) -> JsValue;

    /// Whether the string `s` has a lone UTF-16 surrogate (src/wasm/details.js): one regular
    /// expression test in the host instead of js-sys's `JsString::is_valid_utf16`, a loop over the
    /// code units with a call into JS per unit (about 0.5 KB of .wasm).
    #[wasm_bindgen(js_name = loneSurrogate)]
    fn lone_surrogate(s: &JsValue) -> bool;
}

/// The configuration object as JSON text, refusing members `JSON.stringify` would silently drop
/// or turn into `null` (NaN, Infinity, functions, Symbols; BigInt throws): read as "not given",
/// they would silently mean the default.
pub(super) fn config_json(config: &JsValue) -> Result<String, String> {
    let out = config_to_json(config);
    out.as_string().ok_or_else(|| {
        js_sys::Reflect::get(&out, &JsValue::from_str("error"))
            .ok()
            .and_then(|e| e.as_string())
            .unwrap_or_else(|| "config could not be read as JSON".into())
    })
}

/// `None` for `null`/`undefined`; otherwise the details as JSON text (an object, checked for
/// what JSON cannot carry, cycles and depth). The event builder then checks it against the rule
/// table, redacts it and keeps it as the stored text.
pub fn to_json(details: &JsValue, max_depth: usize) -> Result<Option<String>, AuditError> {
    let out = details_to_json(details, max_depth.min(u32::MAX as usize) as u32);
    if out.is_null() || out.is_undefined() {
        return Ok(None);
    }
    match out.as_string() {
        Some(text) => Ok(Some(text)),
        None => {
            let why = js_sys::Reflect::get(&out, &JsValue::from_str("error"))
                .ok()
                .and_then(|e| e.as_string())
                .unwrap_or_else(|| "details could not be read".into());
            Err(AuditError::InvalidInput(why))
        }
    }
}

/// A `logUserAction` call's strings: user (uid, name), action type, category, details JSON text.
pub type CallText = (Option<crate::event::User>, String, Option<String>, Option<String>);

/// A call's strings written by the host's UTF-8 encoder straight into a buffer of this module
/// (details.js `eventText`: one text with the fields' UTF-16 lengths at its end), instead of one
/// crossing per string, each copied by wasm-bindgen's glue a code unit at a time. `Err` is what
/// the host gave back instead when a value is not of the type the rules ask for, holds a lone
/// surrogate, or the details are refused (`[uid, name]`, `null` or `false`): the caller checks
/// those values itself and gives the refusal's reason.
pub fn call_text(
    user: &JsValue,
    action_type: &JsValue,
    category: &JsValue,
    details: &JsValue,
    max_depth: usize,
) -> Result<CallText, JsValue> {
    thread_local! {
        static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        static MEMORY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !MEMORY.replace(true) {
        set_memory(&wasm_bindgen::memory());
    }
    // Taken out while the host runs (a getter may log an event itself: that call gets its own).
    let mut buf = BUF.take();
    buf.clear();
    buf.reserve(1024);
    let room = |b: &mut Vec<u8>| (b.as_mut_ptr() as u32, b.capacity().min(u32::MAX as usize) as u32);
    let (ptr, cap) = room(&mut buf);
    let mut n = event_text(user, action_type, category, details, max_depth.min(u32::MAX as usize) as u32, ptr, cap);
    if n < -1.0 {
        buf.reserve((-2.0 - n) as usize);
        let (ptr, cap) = room(&mut buf);
        n = event_text_again(ptr, cap);
    }
    if !(0.0..=buf.capacity() as f64).contains(&n) {
        BUF.set(buf);
        return Err(event_back());
    }
    // SAFETY: the host's encoder wrote `n` bytes (at most the room given) at the buffer's start.
    unsafe { buf.set_len(n as usize) };
    let out = split(&buf);
    if buf.capacity() <= 1 << 16 {
        BUF.set(buf);
    }
    // Not what eventText writes (never expected): refused, never stored altered.
    out.ok_or(JsValue::FALSE)
}

/// [`call_text`]'s text cut into its fields; `None` if it is not what eventText writes.
fn split(bytes: &[u8]) -> Option<CallText> {
    let text = std::str::from_utf8(bytes).ok()?;
    // A byte search from the end (the lengths are a few bytes).
    let bar = bytes.iter().rposition(|&b| b == b'|')?;
    // Lengths in UTF-16 units (-1: absent) and where each field ends, in units then in bytes.
    let mut len = [-1i64; 5];
    for (l, n) in len.iter_mut().zip(bytes[bar + 1..].split(|&b| b == b',')) {
        // Decimal digits, or -1 (a digit loop: `str::parse` brought its own code along).
        *l = match n {
            b"-1" => -1,
            _ => n.iter().try_fold(0i64, |a, &d| d.is_ascii_digit().then(|| a * 10 + i64::from(d - b'0')))?,
        };
    }
    let mut ends = [0usize; 5];
    let mut total = 0usize;
    for (e, l) in ends.iter_mut().zip(len) {
        total += l.max(0) as usize;
        *e = total;
    }
    if total != bar {
        // Not all ASCII (only then is a field's UTF-8 longer than its UTF-16): walk the characters.
        let unit_ends = ends;
        let (mut units, mut k) = (0usize, 0usize);
        for (i, c) in text[..bar].char_indices() {
            while k < 5 && units == unit_ends[k] {
                ends[k] = i;
                k += 1;
            }
            units += c.len_utf16();
        }
        ends[k..].fill(bar);
    }
    let field = |k: usize| (len[k] >= 0).then(|| text.get(if k == 0 { 0 } else { ends[k - 1] }..ends[k]).map(str::to_owned)).flatten();
    let user = field(1).map(|uid| crate::event::User { uid, name: field(2) });
    Some((user, field(3)?, field(4), field(0)))
}

/// A JS string as Rust text, refusing a lone surrogate (which `as_string` would turn into U+FFFD
/// and so change what was logged). `None` when `v` is not a string.
pub fn js_text(v: &JsValue, what: &str) -> Result<Option<String>, AuditError> {
    let Some(s) = v.as_string() else { return Ok(None) };
    // Fast path: a string without U+FFFD after conversion had no lone surrogate. Its UTF-8 starts
    // with 0xEF, looked for first by core's memchr (the byte search alone is rarely true).
    if s.as_bytes().contains(&0xEF) && crate::error::find(&s, "\u{fffd}").is_some() && lone_surrogate(v) {
        return Err(rules::lone_surrogate(what).into());
    }
    Ok(Some(s))
}
