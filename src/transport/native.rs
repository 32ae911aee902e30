//! Native back end: timers from tokio (reqwest's native client runs on tokio too).

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await
}
