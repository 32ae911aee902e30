#![cfg(not(target_arch = "wasm32"))]
//! The runnable examples (`examples/*.rs`), built and run as a user would, against the real
//! Neo4j, each with a trail of its own; the graph is read back with independent Cypher.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

/// Builds example `name` as a user would (`cargo build --examples`, a no-op when this
/// `cargo test` already built them) and returns its binary.
fn example(name: &str) -> PathBuf {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = cargo()
        .args(["build", "--quiet", "--features", "read,ingest", "--examples"])
        .current_dir(&root)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build --examples: {}", String::from_utf8_lossy(&out.stderr));
    // This test runs from target/<profile>/deps/; the examples are in target/<profile>/examples/.
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    assert!(bin.exists(), "{} not built", bin.display());
    bin
}

fn command(name: &str, trail: &str) -> Command {
    let mut c = Command::new(example(name));
    c.env("NEO4J_URL", neo4j_url())
        .env("NEO4J_USER", neo4j_user())
        .env("NEO4J_PASSWORD", neo4j_password())
        .env("AUDIT_TRAIL", trail);
    c
}

fn run(name: &str, trail: &str) -> (Output, String) {
    let out = command(name, trail).output().expect("example runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (out, stdout)
}

async fn trail_events(trail: &str) -> Vec<Vec<Value>> {
    cypher(
        "MATCH (:AuditTrail {name: $t})-[:HAS_EVENT]->(e:AuditEvent) \
         RETURN e.UID, e.eventType, e.userUID, e.details, e.seq ORDER BY e.seq",
        json!({"t": trail}),
    )
    .await
}

#[tokio::test]
async fn basic_logs_its_events() {
    let trail = unique("ex-basic");
    let (_, stdout) = tokio::task::spawn_blocking({
        let trail = trail.clone();
        move || run("basic", &trail)
    })
    .await
    .unwrap();
    let rows = trail_events(&trail).await;
    assert_eq!(rows.len(), 2, "{rows:?}\n{stdout}");
    assert_eq!((rows[0][1].as_str(), rows[1][1].as_str()), (Some("DOCUMENT_MODIFIED"), Some("DOCUMENT_SHARED")));
    for r in &rows {
        assert!(stdout.contains(&format!("logged {}", r[0].as_str().unwrap())), "{stdout}");
        assert_eq!(r[2], "user-123");
    }
    let shared: Value = serde_json::from_str(rows[1][3].as_str().unwrap()).unwrap();
    assert_eq!(shared, json!({"document_id": "doc-456", "with": ["user-789"]}));
    assert!(stdout.contains("refused: invalid input: actionType"), "{stdout}");
}

/// docs/rust.md's synchronous program: one current-thread runtime, every call `block_on`, an
/// action through `.log()`, `close_within` before the runtime goes; both events stored.
#[tokio::test]
async fn sync_logs_from_a_program_without_an_async_main() {
    let trail = unique("ex-sync");
    let (_, stdout) = tokio::task::spawn_blocking({
        let trail = trail.clone();
        move || run("sync", &trail)
    })
    .await
    .unwrap();
    let rows = trail_events(&trail).await;
    assert_eq!(rows.len(), 2, "{rows:?}\n{stdout}");
    assert_eq!((rows[0][1].as_str(), rows[1][1].as_str()), (Some("EXPORT_RUN"), Some("EXPORT_DONE")));
    for r in &rows {
        assert!(stdout.contains(&format!("logged {}", r[0].as_str().unwrap())), "{stdout}");
        assert_eq!(r[2], "cli-user");
    }
    assert!(stdout.contains("closed: true"), "{stdout}");
}

#[tokio::test]
async fn read_verify_pages_and_verifies() {
    let trail = unique("ex-read");
    let (_, stdout) = tokio::task::spawn_blocking({
        let trail = trail.clone();
        move || run("read_verify", &trail)
    })
    .await
    .unwrap();
    assert_eq!(trail_events(&trail).await.len(), 4);
    // Four events, two per page, newest first.
    assert_eq!(stdout.matches("page 1: ").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("page 2: ").count(), 2, "{stdout}");
    assert!(!stdout.contains("page 3: "), "{stdout}");
    let first = stdout.lines().find(|l| l.starts_with("page 1: ")).unwrap();
    assert!(first.contains("alice LOGOUT seq Some(3)"), "{stdout}");
    assert!(stdout.contains("views: 2") && stdout.contains("alice: 4 events"), "{stdout}");
    assert!(stdout.contains("verify: ok=true checked=4 streams=1 unchained=0"), "{stdout}");
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The axum example started on a free port, its stdout piped.
async fn spawn_axum(trail: &str) -> std::process::Child {
    let trail = trail.to_owned();
    let mut cmd = tokio::task::spawn_blocking(move || command("axum", &trail)).await.unwrap();
    cmd.env("BIND", "127.0.0.1:0").stdout(Stdio::piped()).spawn().expect("server starts")
}

/// The axum example serving `trail`, once it listens: the server (killed when dropped) and its
/// base URL.
async fn serve_axum(trail: &str) -> (Server, String) {
    let mut child = spawn_axum(trail).await;
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    (server, listening_base(stdout).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_logs_fifty_concurrent_requests_through_one_logger() {
    let trail = unique("ex-axum");
    let (server, base) = serve_axum(&trail).await;

    let client = reqwest::Client::new();
    let calls = (0..50).map(|i| {
        let req = client.get(format!("{base}/documents/doc-{i}")).header("x-user", format!("user-{}", i % 7));
        async move {
            let resp = req.send().await.expect("server answers");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    });
    let answers = futures::future::join_all(calls).await;
    drop(server);
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");

    let rows = trail_events(&trail).await;
    assert_eq!(rows.len(), 50);
    let answered: std::collections::BTreeSet<&str> = answers.iter().map(|(_, b)| b["uid"].as_str().unwrap()).collect();
    let stored: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(answered, stored, "each request's event, once");
    let docs: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r[3].as_str().unwrap()).unwrap()["document_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(docs, (0..50).map(|i| format!("doc-{i}")).collect());
    // One logger: one stream, seq 0..49.
    let seqs: Vec<i64> = rows.iter().map(|r| r[4].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r[1] == "DOCUMENT_VIEWED"));
}

/// The server a user copies must not lose events when it is stopped: on SIGTERM it drains the
/// requests under way and awaits `logger.close()` before its runtime ends. Requests whose
/// client went away early (their handlers cancelled) still deliver the events they handed over:
/// every `seq` the stream gave out is stored (no `deleted` gap) and the count the server prints
/// is what the trail holds. Before, SIGTERM killed the process (no exit status, no line).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_stopped_by_sigterm_closes_the_logger_and_loses_nothing() {
    let trail = unique("ex-axum-stop");
    let mut child = spawn_axum(&trail).await;
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let pid = child.id();
    let server = Server(child);
    let (line, mut stdout) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        (line, stdout)
    })
    .await
    .unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_owned();

    let client = reqwest::Client::new();
    let finished = (0..10).map(|i| client.get(format!("{base}/documents/done-{i}")).header("x-user", "alice").send());
    let answers = futures::future::join_all(finished).await;
    assert!(answers.iter().all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)), "{answers:?}");
    // Clients that give up at once: their handlers are cancelled wherever they are.
    let abandoned = (0..10).map(|i| {
        let req = client.get(format!("{base}/documents/gone-{i}")).header("x-user", "bob");
        tokio::time::timeout(std::time::Duration::from_millis(2), req.send())
    });
    let _ = futures::future::join_all(abandoned).await;

    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs");
    assert!(status.success());
    let (status, rest) = tokio::task::spawn_blocking(move || {
        let mut server = server;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            match server.0.try_wait().unwrap() {
                Some(s) => break s,
                None if std::time::Instant::now() > deadline => panic!("server still running 30 s after SIGTERM"),
                None => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        };
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        (status, rest)
    })
    .await
    .unwrap();
    assert!(status.success(), "exit {status:?}; stdout after the first line: {rest:?}");

    let rows = trail_events(&trail).await;
    assert!(rows.len() >= 10, "{rows:?}");
    assert!(
        rest.contains(&format!("closed: nothing left to deliver ({} committed, 0 failed)", rows.len())),
        "{rest:?} vs {rows:?}"
    );
    let seqs: Vec<i64> = rows.iter().map(|r| r[4].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..rows.len() as i64).collect::<Vec<_>>(), "every seq given out is stored");
}

/// The axum example answers a request whose input the library refused with 400 and the reason
/// (the client can fix it), and one it could not store (Neo4j down: here a proxy in front of it
/// that stops forwarding) with 503 and a generic text that names nothing internal (Neo4j's URL,
/// the transport's error); that reason is on the server's stderr. Before, both were 503 with the
/// library's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_answers_refused_input_400_and_a_store_down_503_without_details() {
    use std::sync::atomic::Ordering::Relaxed;
    let trail = unique("ex-axum-fail");
    let plan = proxy::Plan::passing();
    let proxy = proxy::FaultProxy::start(&neo4j_url(), plan, 11).await;
    let mut cmd = {
        let trail = trail.clone();
        tokio::task::spawn_blocking(move || command("axum", &trail)).await.unwrap()
    };
    let mut child = cmd
        .env("BIND", "127.0.0.1:0")
        .env("NEO4J_URL", &proxy.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let base = listening_base(stdout).await;
    let client = reqwest::Client::new();

    let long = "u".repeat(1025);
    let resp = client.get(format!("{base}/documents/doc-1")).header("x-user", &long).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body = resp.text().await.unwrap();
    assert!(body.starts_with("invalid input: ") && body.contains("user.uid"), "{body}");
    let ok = client.get(format!("{base}/documents/doc-2")).header("x-user", "alice").send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);

    // Neo4j "down": the proxy answers every request 503 itself (as a load balancer in front of a
    // Neo4j that is down), retried until the example's 10 s deadline.
    proxy.plan.lock().unwrap().answer = Some(503);
    let resp = client.get(format!("{base}/documents/doc-3")).header("x-user", "alice").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let body = resp.text().await.unwrap();
    assert_eq!(body, "the audit log is unavailable; try again later");
    assert!(proxy.counts.answered.load(Relaxed) > 0);
    drop(server);
    let log = tokio::task::spawn_blocking(move || {
        let mut log = String::new();
        std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut log).unwrap();
        log
    })
    .await
    .unwrap();
    assert!(log.contains("audit log unavailable: "), "the reason is logged: {log:?}");
    let rows = trail_events(&trail).await;
    assert_eq!(rows.len(), 1, "only the accepted event: {rows:?}");
}

/// The axum example reads the `x-user` header as UTF-8 (its raw bytes), so a user id outside
/// visible ASCII is logged as sent; a header that is not UTF-8 is answered 400 with a reason the
/// client can read, and nothing is logged for it. Before, `HeaderValue::to_str` (visible ASCII
/// only) failed on both, and both requests were logged as `anonymous`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_reads_x_user_as_utf8_and_refuses_other_bytes_with_400() {
    let trail = unique("ex-axum-utf8");
    let (server, base) = serve_axum(&trail).await;
    let client = reqwest::Client::new();

    let uid = "Jos\u{e9}-M\u{fc}ller-\u{65e5}\u{672c}";
    let value = reqwest::header::HeaderValue::from_bytes(uid.as_bytes()).unwrap();
    let resp = client.get(format!("{base}/documents/doc-utf8")).header("x-user", value).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);

    let latin1 = reqwest::header::HeaderValue::from_bytes(b"M\xfcller").unwrap();
    let resp = client.get(format!("{base}/documents/doc-latin1")).header("x-user", latin1).send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, "invalid input: the x-user header is not valid UTF-8");
    drop(server);

    let rows = trail_events(&trail).await;
    assert_eq!(rows.len(), 1, "only the UTF-8 request's event: {rows:?}");
    assert_eq!(rows[0][2], uid);
}

/// A loopback `url` is never sent through a proxy from the environment (`HTTP_PROXY`,
/// `HTTPS_PROXY`, `ALL_PROXY`, which reqwest honours by default): the basic example, with all
/// three naming a stub proxy that answers 502 and counts its connections, logs its events into
/// the local Neo4j, for `127.0.0.1` and for `localhost`, and the stub is never contacted. Before,
/// each request went to the proxy and every call failed (`HTTP 502`).
#[tokio::test]
async fn a_loopback_url_is_never_sent_through_an_environment_proxy() {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let contacted = Arc::new(AtomicUsize::new(0));
    let stub = tokio::spawn({
        let contacted = contacted.clone();
        async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                contacted.fetch_add(1, Relaxed);
                let _ =
                    conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            }
        }
    });
    let port = neo4j_url().trim_end_matches('/').rsplit(':').next().unwrap().to_owned();
    for host in ["127.0.0.1", "localhost"] {
        let trail = unique("ex-proxy");
        let url = format!("http://{host}:{port}");
        let out = tokio::task::spawn_blocking({
            let (trail, proxy) = (trail.clone(), proxy.clone());
            move || {
                let mut c = command("basic", &trail);
                c.env("NEO4J_URL", &url);
                for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
                    c.env(name, &proxy);
                }
                c.env_remove("NO_PROXY").env_remove("no_proxy");
                c.output().expect("example runs")
            }
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{host}: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        assert_eq!(trail_events(&trail).await.len(), 2, "{host}: {stdout}");
    }
    assert_eq!(contacted.load(Relaxed), 0, "the proxy was contacted");
    stub.abort();
}

/// The library as a path dependency builds without warnings for the feature sets the README
/// gives a Rust caller (none, `read`): cargo shows a path dependency's warnings in the user's
/// own build. (A guard held only for its drop, as a tuple field, warned "field `0` is never
/// read" in every build but the test builds, where clippy's `--all-targets` run did not see it.)
#[test]
fn the_library_builds_without_warnings_for_a_rust_dependent() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for features in ["", "read"] {
        let out = cargo()
            .args(["check", "--lib", "--message-format=short", "--features", features])
            .current_dir(&root)
            .output()
            .expect("cargo runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "cargo check --features {features:?}: {stderr}");
        // The library's own (`src/…: warning: …`, "`neo4j-audit` (lib) generated …"), not a
        // dependency's future-incompatibility note, which a toolchain update may bring.
        let ours = |l: &&str| l.contains("warning") && (l.starts_with("src/") || l.contains("`neo4j-audit`"));
        let warnings: Vec<&str> = stderr.lines().filter(ours).collect();
        assert!(warnings.is_empty(), "cargo check --lib --features {features:?}: {warnings:#?}");
    }
}

/// The crate as packaged (`cargo package`: what a publish uploads, and what a user or packager
/// who runs `cargo test` / `cargo build --examples` on it gets) compiles its examples as they
/// are. Cargo drops the repository's dev-dependency on the crate itself, which is what turned
/// `read` on for `examples/read_verify.rs` here: from the package it failed to compile
/// (`no TrailQuery in the root`) until the example declared `required-features = ["read"]`.
/// Checked with and without `read` (the example is skipped without it), in this target dir.
#[test]
fn the_packaged_crate_compiles_its_examples() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let work = target.join("packaged-examples-test");
    let _ = std::fs::remove_dir_all(&work);
    let out = cargo()
        .args(["package", "--no-verify", "--allow-dirty", "--offline", "--quiet", "--target-dir"])
        .arg(&work)
        .current_dir(&root)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo package: {}", String::from_utf8_lossy(&out.stderr));
    let name = format!("neo4j-audit-{}", env!("CARGO_PKG_VERSION"));
    let crate_file = work.join("package").join(format!("{name}.crate"));
    let out = Command::new("tar").arg("xzf").arg(&crate_file).arg("-C").arg(&work).output().expect("tar runs");
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    for features in ["", "read"] {
        let out = cargo()
            .args(["check", "--offline", "--examples", "--message-format=short", "--features", features])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(work.join(&name))
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo check --examples --features {features:?} of the packaged crate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The base URL the example server prints first ("listening on http://…").
async fn listening_base(stdout: std::process::ChildStdout) -> String {
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_owned()
}
