//! Shared by the browser suites (tests/web*.rs): the real Neo4j's address (baked in at compile time
//! from NEO4J_URL / NEO4J_USER / NEO4J_PASSWORD) and independent Cypher over `fetch`.
#![allow(dead_code)]

use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

pub const URL: &str = match option_env!("NEO4J_URL") {
    Some(u) => u,
    None => "http://127.0.0.1:7474",
};
pub const USER: &str = match option_env!("NEO4J_USER") {
    Some(u) => u,
    None => "neo4j",
};
pub const PASSWORD: &str = match option_env!("NEO4J_PASSWORD") {
    Some(p) => p,
    None => "neo4j-audit-dev",
};

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", neo4j_audit::random::uuid_v4())
}

/// A JS value from JSON.
pub fn js(v: Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

/// Awaits a promise that the library promises never to reject.
pub async fn resolve(p: js_sys::Promise) -> JsValue {
    JsFuture::from(p).await.expect("promise must never reject")
}

/// Runs Cypher against the real Neo4j, bypassing the library; returns the rows.
pub async fn cypher(statement: &str, params: Value) -> Vec<Vec<Value>> {
    cypher_in("neo4j", statement, params).await
}

/// [`cypher`] on the database `db` (`"system"`: users).
pub async fn cypher_in(db: &str, statement: &str, params: Value) -> Vec<Vec<Value>> {
    let body = json!({"statements": [{"statement": statement, "parameters": params}]});
    let resp: Value = reqwest::Client::new()
        .post(format!("{URL}/db/{db}/tx/commit"))
        .basic_auth(USER, Some(PASSWORD))
        .header("X-Ajax-Browser-Auth", "true")
        .json(&body)
        .send()
        .await
        .expect("neo4j reachable")
        .json()
        .await
        .unwrap();
    assert_eq!(resp["errors"], json!([]), "{resp}");
    resp["results"][0]["data"].as_array().unwrap().iter().map(|d| d["row"].as_array().unwrap().clone()).collect()
}
