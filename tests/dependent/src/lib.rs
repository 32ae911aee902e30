//! A dependent's own wasm export: one action logged through `neo4j_audit::AuditLogger` (the
//! Rust API, driven by src/driver.rs on the host's event loop).

use neo4j_audit::{AuditLogger, User};
use wasm_bindgen::prelude::*;

/// Logs `LOGIN` for `uid` into the Neo4j at `url`; whether it was written.
#[wasm_bindgen(js_name = logOne)]
pub async fn log_one(url: String, uid: String) -> bool {
    let Ok(logger) = AuditLogger::builder(url).build() else { return false };
    logger.action("LOGIN").user(&User::new(uid)).await.is_ok()
}

/// What a program gets from its own serde_json when it depends on neo4j-audit: the behaviour of
/// serde_json without features. Cargo unifies a dependency's features across the build, and
/// neo4j-audit turned on `preserve_order` and `float_roundtrip`, which changed the program's own
/// JSON (its key order, `Map::remove`). Run natively by tests/dependent.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod native {
    use serde_json::{json, Value};

    #[test]
    fn the_programs_own_serde_json_is_unchanged() {
        // Without `preserve_order` a `Map` is sorted: what the program gets without neo4j-audit.
        assert_eq!(serde_json::to_string(&json!({"b": 1, "a": 2})).unwrap(), r#"{"a":2,"b":1}"#);
        let mut m: serde_json::Map<String, Value> = serde_json::from_str(r#"{"c":1,"a":2,"b":3}"#).unwrap();
        m.remove("a");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "c"]);
    }

    /// The read side's details need none of serde_json's features: each number the nearest
    /// double (serde_json's own reader refused this one without `float_roundtrip`, and the read
    /// API showed the details as a string).
    #[test]
    fn details_read_back_without_serde_json_features() {
        let text = r#"{"b":1,"a":179769313486231570000e288,"c":5631938436568231.7391e+290}"#;
        let e = neo4j_audit::AuditEvent::from_parts(None, "X", None, Some(text.into()), 65536).unwrap();
        assert_eq!(e.details.as_deref(), Some(text), "stored as given, in its order");
        let d = neo4j_audit::TrailEvent::from(e).details.unwrap();
        assert_eq!(d["b"], json!(1));
        assert_eq!(d["a"].as_f64(), Some(f64::MAX), "{d}");
        let nearest: f64 = "5631938436568231.7391e+290".parse().unwrap();
        assert_eq!(d["c"].as_f64().map(f64::to_bits), Some(nearest.to_bits()), "{d}");
    }
}
