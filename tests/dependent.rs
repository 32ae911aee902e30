#![cfg(not(target_arch = "wasm32"))]
//! A Rust program of its own built for wasm32 (tests/dependent/: one `#[wasm_bindgen]` function
//! calling `neo4j_audit::AuditLogger`) gets the Rust API only: without the cargo feature `js`,
//! wasm-bindgen finds none of the npm package's JavaScript API in its .wasm — no `AuditLogger`
//! class or `logUserAction` in its glue and TypeScript declarations, no snippet files of the
//! crate's (src/wasm/*.js, src/queue/*.js) beside it — while the same program with `js` on gets
//! them, so the check can fail. Needs the wasm32 target and `wasm-bindgen` (scripts/setup).

mod common;

use std::path::{Path, PathBuf};

/// Builds tests/dependent (debug, wasm32) with `features` and runs wasm-bindgen on it; returns
/// the output folder.
fn bindgen(features: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/dependent");
    // The library's own lock file: the same dependency versions, so the same wasm-bindgen as the
    // CLI (cargo drops what the dependent does not use and adds the dependent itself).
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock copied");
    let target = root.join("target/dependent");
    let out = common::cargo()
        .args(["build", "--quiet", "--lib", "--target", "wasm32-unknown-unknown", "--features", features])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build (tests/dependent): {}", String::from_utf8_lossy(&out.stderr));
    let wasm = target.join("wasm32-unknown-unknown/debug/neo4j_audit_dependent.wasm");
    let glue = target.join(format!("bindgen-{}", if features.is_empty() { "plain" } else { features }));
    let _ = std::fs::remove_dir_all(&glue);
    let out = std::process::Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(&glue)
        .arg(&wasm)
        .output()
        .expect("wasm-bindgen runs (scripts/setup installs it)");
    assert!(out.status.success(), "wasm-bindgen: {}", String::from_utf8_lossy(&out.stderr));
    glue
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The snippet files wasm-bindgen put beside the glue (every `module = "/src/..."` import).
fn snippets(dir: &Path) -> Vec<String> {
    fn walk(d: &Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), found);
            } else {
                found.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    let mut found = Vec::new();
    walk(&dir.join("snippets"), &mut found);
    found.sort();
    found
}

#[test]
fn a_wasm_dependent_gets_the_rust_api_only_unless_js_is_on() {
    // One test: both builds share tests/dependent's lock file and target folder.
    let plain = bindgen("");
    let dts = read(&plain, "neo4j_audit_dependent.d.ts");
    let js = read(&plain, "neo4j_audit_dependent.js");
    assert!(dts.contains("logOne"), "the dependent's own export: {dts}");
    for name in ["AuditLogger", "logUserAction", "AuditConfig", "getAuditTrail", "handleIngest"] {
        assert!(!dts.contains(name), "{name} in the dependent's .d.ts:\n{dts}");
        assert!(!js.contains(name), "{name} in the dependent's glue");
    }
    // The Rust API on wasm still calls the host's fetch and Unicode tables through snippets of
    // its own (src/transport/fetch.js, src/wasm/unicode.js); none of the JS API's.
    let files = snippets(&plain);
    for shell in ["driver.js", "store.js", "settle.js", "details.js", "lease.js", "idb.js", "keepalive.js"] {
        assert!(!files.iter().any(|f| f.ends_with(&format!("/{shell}"))), "{shell} shipped: {files:?}");
    }

    let with_js = bindgen("js");
    let dts = read(&with_js, "neo4j_audit_dependent.d.ts");
    assert!(dts.contains("export class AuditLogger"), "with `js` the class is exported:\n{dts}");
    let files = snippets(&with_js);
    assert!(files.iter().any(|f| f.ends_with("/driver.js")), "with `js` the JS driver ships: {files:?}");
}
