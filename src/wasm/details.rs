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
