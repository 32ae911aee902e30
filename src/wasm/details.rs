//! JS `details` → JSON text, refusing what JSON cannot carry faithfully instead of silently
//! dropping it (as `JSON.stringify` does with functions) or throwing (cycles, BigInt). Every JS
//! operation that can run user code or throw (proxies, getters, `toJSON`) goes through a binding
//! that catches, so a hostile or revoked `Proxy` gives `invalid input`, never an exception.

use serde_json::{Map, Number, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::AuditError;
use crate::rules::{self, Limits};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn try_is_array(v: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn try_keys(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = getPrototypeOf)]
    fn try_prototype_of(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(thread_local_v2, js_namespace = Map, js_name = prototype)]
    static MAP_PROTOTYPE: JsValue;
    #[wasm_bindgen(thread_local_v2, js_namespace = Set, js_name = prototype)]
    static SET_PROTOTYPE: JsValue;
}

/// `None` for `null`/`undefined`/`{}`; the JSON text of a plain object otherwise, checked against
/// the rule table (depth, size).
pub fn to_json_text(details: &JsValue, limits: &Limits) -> Result<Option<String>, AuditError> {
    if details.is_undefined() || details.is_null() {
        return Ok(None);
    }
    if !details.is_object() || is_array(details)? {
        return Err(bad("details must be an object"));
    }
    let mut stack = Vec::new();
    match convert(details, &mut stack, limits.max_details_depth)? {
        Value::Object(m) if m.is_empty() => Ok(None),
        v @ Value::Object(_) => Ok(Some(limits.details_json(&v)?)),
        _ => Err(bad("details must be an object")),
    }
}

/// A JS string as Rust text, refusing a lone surrogate (which `as_string` would turn into U+FFFD
/// and so change what was logged). `None` when `v` is not a string.
pub fn js_text(v: &JsValue, what: &str) -> Result<Option<String>, AuditError> {
    let Some(s) = v.as_string() else { return Ok(None) };
    // Fast path: a string without U+FFFD after conversion had no lone surrogate.
    if s.contains('\u{fffd}') && !v.unchecked_ref::<js_sys::JsString>().is_valid_utf16() {
        return Err(rules::lone_surrogate(what).into());
    }
    Ok(Some(s))
}

fn is_array(v: &JsValue) -> Result<bool, AuditError> {
    try_is_array(v).map_err(|_| bad("details could not be read (a revoked Proxy?)"))
}

/// Whether `v` is a Map or Set (or a subclass), walking the prototype chain with catching calls.
fn is_map_or_set(v: &JsValue) -> Result<bool, AuditError> {
    let (map, set) = (MAP_PROTOTYPE.with(JsValue::clone), SET_PROTOTYPE.with(JsValue::clone));
    let mut cur = v.clone();
    for _ in 0..32 {
        cur = try_prototype_of(&cur).map_err(|_| bad("details could not be read (a Proxy trap threw)"))?;
        if cur.is_null() || cur.is_undefined() {
            return Ok(false);
        }
        if js_sys::Object::is(&cur, &map) || js_sys::Object::is(&cur, &set) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn bad(m: &str) -> AuditError {
    AuditError::InvalidInput(m.to_owned())
}

fn convert(v: &JsValue, stack: &mut Vec<JsValue>, max_depth: usize) -> Result<Value, AuditError> {
    if v.is_null() || v.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return number(n);
    }
    if let Some(s) = js_text(v, "details")? {
        return Ok(Value::String(s));
    }
    if v.is_bigint() {
        return Err(bad("details contain a BigInt, which JSON cannot represent"));
    }
    if v.is_function() {
        return Err(bad("details contain a function, which JSON cannot represent"));
    }
    if v.is_symbol() {
        return Err(bad("details contain a Symbol, which JSON cannot represent"));
    }
    if !v.is_object() {
        return Err(bad("details contain a value JSON cannot represent"));
    }
    if stack.iter().any(|a| js_sys::Object::is(a, v)) {
        return Err(bad("details contain a cycle"));
    }
    if stack.len() >= max_depth {
        return Err(bad(&format!("details are nested more than {max_depth} levels deep")));
    }
    if is_map_or_set(v)? {
        return Err(bad("details contain a Map or Set; convert it to an object or array"));
    }
    // Objects with toJSON (Date above all) serialise as JSON.stringify would.
    let to_json = js_sys::Reflect::get(v, &JsValue::from_str("toJSON")).unwrap_or(JsValue::UNDEFINED);
    if let Some(f) = to_json.dyn_ref::<js_sys::Function>() {
        let out = f.call0(v).map_err(|_| bad("details: toJSON() threw"))?;
        stack.push(v.clone());
        let r = convert(&out, stack, max_depth);
        stack.pop();
        return r;
    }
    stack.push(v.clone());
    let r = convert_container(v, stack, max_depth);
    stack.pop();
    r
}

fn convert_container(v: &JsValue, stack: &mut Vec<JsValue>, max_depth: usize) -> Result<Value, AuditError> {
    let getter = |_| bad("details: a property getter threw");
    if is_array(v)? {
        let len = js_sys::Reflect::get(v, &JsValue::from_str("length")).map_err(getter)?;
        let len = len.as_f64().filter(|n| *n >= 0.0 && *n <= u32::MAX as f64).unwrap_or(0.0) as u32;
        let mut out = Vec::with_capacity(len.min(1 << 16) as usize);
        for i in 0..len {
            let item = js_sys::Reflect::get_u32(v, i).map_err(getter)?;
            // As JSON.stringify: undefined in an array becomes null.
            out.push(convert(&item, stack, max_depth)?);
        }
        Ok(Value::Array(out))
    } else {
        let keys = try_keys(v).map_err(|_| bad("details could not be read (a Proxy trap threw)"))?;
        let mut out = Map::new();
        for key in keys.iter() {
            let val = js_sys::Reflect::get(v, &key).map_err(getter)?;
            if val.is_undefined() {
                continue; // as JSON.stringify: undefined members are omitted
            }
            let k = js_text(&key, "a details key")?.unwrap_or_default();
            out.insert(k, convert(&val, stack, max_depth)?);
        }
        Ok(Value::Object(out))
    }
}

fn number(n: f64) -> Result<Value, AuditError> {
    if !n.is_finite() {
        return Err(bad("details contain NaN or Infinity, which JSON cannot represent"));
    }
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
        return Ok(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number).ok_or_else(|| bad("details contain an invalid number"))
}
