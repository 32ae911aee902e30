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

    /// logUserAction's user, actionType, category and details read in one call: the packed
    /// texts, the number of the check that failed, or `{error}` (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = readCall)]
    fn read_call_js(user: &JsValue, action_type: &JsValue, category: &JsValue, details: &JsValue, max_depth: u32) -> JsValue;

    /// The own enumerable keys of an options object, `null` for an array, `undefined` when it
    /// cannot be read (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = optionKeys)]
    pub(super) fn option_keys(options: &JsValue) -> JsValue;

    /// The config as JSON text, or `{error}` naming a member JSON would drop or null
    /// (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = configToJson)]
    fn config_to_json(config: &JsValue) -> JsValue;
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

/// `logUserAction`'s arguments as read by src/wasm/details.js `readCall`: the user (uid, name),
/// actionType, category and the details as JSON text.
pub(super) type CallParts = (Option<crate::event::User>, String, Option<String>, Option<String>);

/// Reads `logUserAction`'s user, actionType, category and details (the details as JSON text:
/// checked for what JSON cannot carry, cycles and depth) in one call into JavaScript, where each
/// used to cross on its own (about twenty crossings per call: a type test, a property read, a
/// string copy each). The same checks in the same order, with the same reasons; the event
/// builder then checks the texts against the rule table, redacts the details and keeps them.
pub(super) fn read_call(user: &JsValue, action_type: &JsValue, category: &JsValue, details: &JsValue, max_depth: usize) -> Result<CallParts, AuditError> {
    let bad = |m: &str| AuditError::InvalidInput(m.to_owned());
    let out = read_call_js(user, action_type, category, details, max_depth.min(u32::MAX as usize) as u32);
    let Some(packed) = out.as_string() else {
        return Err(match out.as_f64() {
            Some(code) => match code as u32 {
                2 => rules::lone_surrogate("user.uid").into(),
                3 => bad("user.name must be a string when given"),
                4 => rules::lone_surrogate("user.name").into(),
                5 => bad("actionType must be a non-empty string"),
                6 => rules::lone_surrogate("actionType").into(),
                7 => bad("category must be a string"),
                8 => rules::lone_surrogate("category").into(),
                _ => bad("user must be null or an object with a string uid"),
            },
            None => AuditError::InvalidInput(
                js_sys::Reflect::get(&out, &JsValue::from_str("error"))
                    .ok()
                    .and_then(|e| e.as_string())
                    .unwrap_or_else(|| "details could not be read".into()),
            ),
        });
    };
    unpack(packed).ok_or_else(|| bad("arguments could not be read"))
}

/// Splits `readCall`'s packed string (see src/wasm/details.js).
fn unpack(packed: String) -> Option<CallParts> {
    let flags = packed.as_bytes().first()?.checked_sub(b'@')?;
    let (header, mut rest) = packed[1..].split_once(';')?;
    let mut lens = [0usize; 4];
    let mut fields = header.split(',');
    for l in &mut lens {
        *l = fields.next()?.parse().ok()?;
    }
    let mut next = |units: usize| -> Option<String> {
        let (text, tail) = split_utf16(rest, units)?;
        rest = tail;
        Some(text.to_owned())
    };
    let (uid, name, action_type, category) = (next(lens[0])?, next(lens[1])?, next(lens[2])?, next(lens[3])?);
    let details = (flags & 8 != 0).then(|| rest.to_owned());
    let user = (flags & 1 != 0).then(|| crate::event::User { uid, name: (flags & 2 != 0).then_some(name) });
    Some((user, action_type, (flags & 4 != 0).then_some(category), details))
}

/// `s` split after its first `units` UTF-16 code units (JavaScript's string length).
fn split_utf16(s: &str, units: usize) -> Option<(&str, &str)> {
    // ASCII (the common case): a unit is a byte.
    if s.len() >= units && s.as_bytes()[..units].is_ascii() {
        return Some(s.split_at(units));
    }
    let mut n = 0;
    for (i, c) in s.char_indices() {
        if n == units {
            return Some(s.split_at(i));
        }
        n += c.len_utf16();
    }
    (n == units).then_some((s, ""))
}
