//! JS `details` → JSON text, refusing what JSON cannot carry faithfully instead of silently
//! dropping it (as `JSON.stringify` does with functions) or throwing (cycles, BigInt).

use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::AuditError;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// `None` for `null`/`undefined`/`{}`; the JSON text of a plain object otherwise.
pub fn to_json_text(details: &JsValue) -> Result<Option<String>, AuditError> {
    if details.is_undefined() || details.is_null() {
        return Ok(None);
    }
    if !details.is_object() || js_sys::Array::is_array(details) {
        return Err(bad("details must be an object"));
    }
    let mut stack = Vec::new();
    match convert(details, &mut stack)? {
        Value::Object(m) if m.is_empty() => Ok(None),
        v @ Value::Object(_) => serde_json::to_string(&v)
            .map(Some)
            .map_err(|e| bad(&format!("details: {e}"))),
        _ => Err(bad("details must be an object")),
    }
}

fn bad(m: &str) -> AuditError {
    AuditError::InvalidInput(m.to_owned())
}

fn convert(v: &JsValue, stack: &mut Vec<JsValue>) -> Result<Value, AuditError> {
    if v.is_null() || v.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return number(n);
    }
    if let Some(s) = v.as_string() {
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
    if stack.len() >= MAX_DEPTH {
        return Err(bad(&format!("details are nested deeper than {MAX_DEPTH} levels")));
    }
    if v.is_instance_of::<js_sys::Map>() || v.is_instance_of::<js_sys::Set>() {
        return Err(bad("details contain a Map or Set; convert it to an object or array"));
    }
    // Objects with toJSON (Date above all) serialise as JSON.stringify would.
    let to_json = js_sys::Reflect::get(v, &JsValue::from_str("toJSON")).unwrap_or(JsValue::UNDEFINED);
    if let Some(f) = to_json.dyn_ref::<js_sys::Function>() {
        let out = f.call0(v).map_err(|_| bad("details: toJSON() threw"))?;
        stack.push(v.clone());
        let r = convert(&out, stack);
        stack.pop();
        return r;
    }
    stack.push(v.clone());
    let r = if js_sys::Array::is_array(v) {
        let arr: &js_sys::Array = v.unchecked_ref();
        let mut out = Vec::with_capacity(arr.length() as usize);
        for item in arr.iter() {
            out.push(convert(&item, stack)?);
        }
        Ok(Value::Array(out))
    } else {
        let obj: &js_sys::Object = v.unchecked_ref();
        let mut out = Map::new();
        for key in js_sys::Object::keys(obj).iter() {
            let val = js_sys::Reflect::get(v, &key).map_err(|_| bad("details: a property getter threw"))?;
            if val.is_undefined() {
                continue; // as JSON.stringify: undefined members are omitted
            }
            out.insert(key.as_string().unwrap_or_default(), convert(&val, stack)?);
        }
        Ok(Value::Object(out))
    };
    stack.pop();
    r
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
