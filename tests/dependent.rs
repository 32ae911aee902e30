#![cfg(not(target_arch = "wasm32"))]
//! A Rust program of its own built for wasm32 (tests/dependent/: one `#[wasm_bindgen]` function
//! calling `neo4j_audit::AuditLogger`) gets the Rust API only: without the cargo feature `js`,
//! wasm-bindgen finds none of the npm package's JavaScript API in its .wasm — no `AuditLogger`
//! class or `logUserAction` in its glue and TypeScript declarations, no snippet files of the
//! crate's (src/wasm/*.js, src/queue/*.js) beside it — while the same program with `js` on gets
//! them, so the check can fail. Needs the wasm32 target and `wasm-bindgen` (scripts/setup).
//! Natively it runs the dependent's own unit tests: its serde_json behaves as without
//! neo4j-audit (Cargo unifies features: the crate turned on serde_json's `preserve_order` for
//! every program depending on it).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The builds share tests/dependent's lock file and target folder: one at a time.
static BUILDS: Mutex<()> = Mutex::new(());

/// tests/dependent with the library's own lock file (the same dependency versions, so the same
/// wasm-bindgen as the CLI; cargo drops what the dependent does not use and adds the dependent
/// itself), and the target folder its builds share.
fn dependent() -> (PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/dependent");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock copied");
    (dir, root.join("target/dependent"))
}

/// Builds tests/dependent (debug, wasm32) with `features` and runs wasm-bindgen on it; returns
/// the output folder.
fn bindgen(features: &str) -> PathBuf {
    let (dir, target) = dependent();
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
    let _one = BUILDS.lock().unwrap_or_else(|p| p.into_inner());
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

/// Found by review (a native Rust user, session 57): the crate turned on serde_json's
/// `preserve_order` and `float_roundtrip`, and Cargo unifies features, so in a program that
/// depended on neo4j-audit its own `serde_json::to_string(&json!({"b":1,"a":2}))` was
/// `{"b":1,"a":2}` instead of `{"a":2,"b":1}` (and `Map::remove` a `swap_remove`): snapshot tests,
/// and signatures or cache keys over serde_json text, changed with neo4j-audit in the build. The
/// dependent's native unit tests (tests/dependent/src/lib.rs) check its serde_json, and that the
/// read side's details need none of those features.
#[test]
fn a_native_dependents_serde_json_is_its_own() {
    let _one = BUILDS.lock().unwrap_or_else(|p| p.into_inner());
    let (dir, target) = dependent();
    let out = common::cargo()
        .args(["test", "--quiet", "--lib", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cargo test (tests/dependent):\n{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "both of the dependent's tests ran:\n{stdout}");
}
