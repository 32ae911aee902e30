//! Browsers: the logger's stream state (id, next seq, head hash) kept in `sessionStorage`, so a
//! reload of the tab continues the same hash chain. `sessionStorage` is synchronous, so the state
//! is saved before the event leaves `logUserAction` (no window in which an event is chained but
//! its state is not saved); it is per tab, so two tabs never fork one stream. Where there is no
//! `sessionStorage` (Workers, Node), a logger is a new stream, kept in memory.

use crate::error::cat;
use crate::chain::{StreamState, StreamStore};
use crate::AuditLogger;

/// Storage key prefix; the rest is `url|database|trail|identity` (a user signing in on the same
/// tab starts a stream of their own).
const PREFIX: &str = "neo4j-audit:stream:";

struct SessionStore {
    storage: web_sys::Storage,
    key: String,
}

impl StreamStore for SessionStore {
    fn load(&self) -> Option<StreamState> {
        let raw = self.storage.get_item(&self.key).ok()??;
        StreamState::from_json(&raw)
    }

    fn save(&self, state: &StreamState) {
        // A full or disabled storage only costs continuity after a reload.
        let _ = self.storage.set_item(&self.key, &state.to_json());
    }
}

/// Makes `logger` continue the tab's saved stream for its (url, database, trail), if the host has
/// `sessionStorage`.
pub fn attach(logger: &mut AuditLogger) {
    let Some(storage) = crate::queue::window().and_then(|w| w.session_storage().ok().flatten()) else {
        return;
    };
    let c = logger.config();
    let key = cat(&[PREFIX, &c.base_url(), "|", &c.database, "|", &c.trail, "|", &logger.identity()]);
    let store = SessionStore { storage, key };
    let state = store.load().unwrap_or_else(StreamState::fresh);
    store.save(&state);
    logger.resume_stream(state, Some(Box::new(store)));
}
