//! Native back end: timers from tokio (reqwest's native client runs on tokio too).

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await
}

/// Whether the caller is in a Tokio runtime with I/O and time enabled, as the transport needs:
/// reqwest connects through Tokio's I/O driver, and the bounds and the delivery's timers are
/// Tokio timers. In a runtime without either, Tokio panics in a request's first step.
///
/// Tokio has no way to ask that does not panic, so a runtime is probed once per thread: a
/// timer is made (tokio 1.54's `sleep` panics when made, not first when polled:
/// `Sleep::new_timeout`) and a loopback UDP socket is registered with the I/O driver, each
/// under `catch_unwind` (the panic hook still prints the first such panic of a runtime on each
/// thread). The answer is kept for the thread's last few runtimes by [`tokio::runtime::Id`]
/// (a process-wide counter in tokio 1.54), so a call costs a thread-local lookup. A probe that
/// cannot tell (no loopback socket to be had) says yes, and so does a build with
/// `panic = "abort"` (where `catch_unwind` catches nothing): a request fails as before then.
pub(crate) fn runtime_ready() -> bool {
    use std::cell::Cell;
    type Seen = [Option<(tokio::runtime::Id, bool)>; 4];
    thread_local! {
        static SEEN: Cell<Seen> = const { Cell::new([None; 4]) };
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return false };
    let id = handle.id();
    let mut seen = SEEN.get();
    if let Some((_, ready)) = seen.iter().flatten().find(|(i, _)| *i == id) {
        return *ready;
    }
    let ready = probe();
    seen.rotate_right(1);
    seen[0] = Some((id, ready));
    SEEN.set(seen);
    ready
}

/// Makes a Tokio timer and a Tokio socket in the current runtime: `false` when either panics.
fn probe() -> bool {
    if cfg!(not(panic = "unwind")) {
        return true;
    }
    let time = std::panic::catch_unwind(|| drop(tokio::time::sleep(std::time::Duration::ZERO)));
    let io = std::panic::catch_unwind(|| {
        let Ok(socket) = std::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0)) else { return };
        if socket.set_nonblocking(true).is_ok() {
            drop(tokio::net::UdpSocket::from_std(socket));
        }
    });
    time.is_ok() && io.is_ok()
}
