//! JS `details` → JSON text in one pass of the host's `JSON.stringify` (details.js, beside this
//! file), refusing what JSON cannot carry faithfully instead of silently dropping it (as
//! `JSON.stringify` alone does with functions) or throwing (cycles, BigInt). Everything that can
//! run user code or throw (proxies, getters, `toJSON`) runs inside that function's `try`, so a
//! hostile or revoked `Proxy` gives `invalid input`, never an exception. One string crosses into
//! wasm, however many values the details hold.

use wasm_bindgen::prelude::*;

use crate::error::AuditError;
use crate::rules;

#[wasm_bindgen(module = "/src/wasm/details.js")]
extern "C" {
    /// A call's fields as UTF-8 into `room`, their lengths after them: the bytes written, -1
    /// (refused: `eventMore` has the reason), or -2 - the bytes needed (then `eventMore` writes
    /// them) (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = eventText)]
    fn event_text(
        user: &JsValue,
        action_type: &JsValue,
        category: &JsValue,
        details: &JsValue,
        max_depth: u32,
        longest: u32,
        max_bytes: u32,
        room: &mut [u8],
    ) -> f64;

    /// After `eventText`: the text it could not write, written into `room` (the bytes written),
    /// or the refusal (a reason, the index of the field with a lone surrogate, or minus the size
    /// of details far over the bound). Never throws.
    #[wasm_bindgen(js_name = eventMore)]
    fn event_more(room: &mut [u8]) -> JsValue;

    /// The config as JSON text, or `{error}` naming a member JSON would drop or null
    /// (src/wasm/details.js). Never throws.
    #[wasm_bindgen(js_name = configToJson)]
    fn config_to_json(config: &JsValue, max_members: f64, numbers_as_minus_one: bool) -> JsValue;

    /// Whether the string `s` has a lone UTF-16 surrogate (src/wasm/details.js): one regular
    /// expression test in the host instead of js-sys's `JsString::is_valid_utf16`, a loop over the
    /// code units with a call into JS per unit (about 0.5 KB of .wasm).
    #[cfg(feature = "read")]
    #[wasm_bindgen(js_name = loneSurrogate)]
    fn lone_surrogate(s: &JsValue) -> bool;

    /// `stats()`'s object, made by the host from the counters (src/wasm/details.js): eight
    /// numbers cross instead of a JSON text written here and parsed there.
    #[cfg(not(feature = "worker"))]
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = statsObject)]
    pub(super) fn stats_object(
        sent: f64,
        committed: f64,
        failed: f64,
        retried: f64,
        queued: f64,
        dropped: f64,
        dead_lettered: f64,
        expired: f64,
    ) -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    /// `configToJson`'s answer when it is not text: `{error}` (a plain object; no class imported).
    type ConfigRefusal;
    /// Why `configToJson` refused the config.
    #[wasm_bindgen(method, getter)]
    fn error(this: &ConfigRefusal) -> Option<String>;
}

/// Array items and object members a configuration or `logUserAction`'s options may hold in all
/// ([`config_json`]): far more than any holds (16 targets, a redact list), few enough that the
/// JSON text stays small.
pub(super) const CONFIG_MEMBERS: f64 = 10_000.0;

/// The configuration object as JSON text, refusing members `JSON.stringify` would silently drop
/// or turn into `null` (NaN, Infinity, functions, Symbols; BigInt throws): read as "not given",
/// they would silently mean the default. Also refused: a sparse array, and more than
/// `max_members` array items and object members in all (details.js `configToJson`). With
/// `non_finite_as_minus_one` (the AuditConfig's reading), NaN and ±Infinity are written as `-1`
/// instead, which the config's reader refuses with the setting's own rule (its accepted integers,
/// or its type). Any other failure is `could not be read as JSON (<what was thrown>)`, for the
/// caller to name what could not be read.
pub(super) fn config_json(config: &JsValue, max_members: f64, non_finite_as_minus_one: bool) -> Result<String, String> {
    let out = config_to_json(config, max_members, non_finite_as_minus_one);
    out.as_string().ok_or_else(|| {
        // `undefined` (JSON.stringify's answer for `undefined` or a function) has no members.
        (out.is_object().then(|| out.unchecked_ref::<ConfigRefusal>().error()).flatten())
            .unwrap_or_else(|| "could not be read as JSON".into())
    })
}

/// A `logUserAction` call's strings: user (uid, name), action type, category, details JSON text.
pub type CallText = (Option<crate::event::User>, String, Option<String>, Option<String>);

/// A call's strings, read and checked by details.js `eventText` (types, lone surrogates, the
/// details as JSON text: `detailsToJson`) and written by the host's UTF-8 encoder straight into
/// a room of wasm memory with their lengths in bytes after them: one crossing, instead of one per string
/// each copied by wasm-bindgen's glue a code unit at a time. A refusal comes back as its reason.
pub fn call_text(
    user: &JsValue,
    action_type: &JsValue,
    category: &JsValue,
    details: &JsValue,
    limits: &rules::Limits,
) -> Result<CallText, AuditError> {
    thread_local! {
        // The room, kept for the next call, the details copied out of it, instead of a new
        // zeroed 512-byte room per call cut and shrunk to the details: `node
        // bench/cpu_full_ab.mjs 20000 15 <main> <this>`, 2026-11-30: 0.886 (95 % CI 0.822-0.955)
        // of main's CPU per call, the synchronous part 0.906 (0.892-0.937); +8 B gz of .wasm.
        // Taken while in use: a getter that logs an event itself while the host runs gets a room
        // of its own.
        static ROOM: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut buf = ROOM.with(std::cell::Cell::take);
    if buf.len() < 512 {
        buf.resize(512, 0);
    }
    let out = read_room(&mut buf, user, action_type, category, details, limits);
    // A room grown for large details is not kept.
    if buf.len() <= 4096 {
        ROOM.with(|r| r.set(buf));
    }
    out
}

/// Where details.js cuts a user field, the action type or the category longer than that (in
/// UTF-16 code units; one less to keep a surrogate pair whole): past what [`rules`] allows
/// (`MAX_USER_FIELD_LEN` bytes, each code unit at least one byte), so such a field is refused
/// by its rule, cut or not.
const LONGEST: u32 = rules::MAX_USER_FIELD_LEN as u32 + 2;

fn read_room(
    buf: &mut Vec<u8>,
    user: &JsValue,
    action_type: &JsValue,
    category: &JsValue,
    details: &JsValue,
    limits: &rules::Limits,
) -> Result<CallText, AuditError> {
    let bound = |n: usize| n.min(u32::MAX as usize) as u32;
    let (depth, max_bytes) = (bound(limits.max_details_depth), bound(limits.max_details_bytes));
    let mut n = event_text(user, action_type, category, details, depth, LONGEST, max_bytes, buf);
    if n < -1.0 {
        buf.resize((-2.0 - n) as usize, 0);
        n = event_more(buf).as_f64().unwrap_or(-1.0);
    }
    if n == -1.0 {
        return Err(refusal(limits));
    }
    let bad = || AuditError::InvalidInput("the call's text could not be read".into());
    if !(20.0..=buf.len() as f64).contains(&n) {
        return Err(bad());
    }
    let (text, lens) = buf[..n as usize].split_at(n as usize - 20);
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    // Details, uid, name, action type, category; -1: absent.
    let mut out: [Option<&str>; 5] = Default::default();
    let mut at = 0;
    for (o, l) in out.iter_mut().zip(lens.chunks_exact(4)) {
        let l = i32::from_le_bytes([l[0], l[1], l[2], l[3]]);
        if l >= 0 {
            let end = at + l as usize;
            *o = Some(text.get(at..end).ok_or_else(bad)?);
            at = end;
        }
    }
    let [details, uid, name, action_type, category] = out;
    let own = |s: Option<&str>| s.map(str::to_owned);
    let (uid, name, action_type, category) =
        (own(uid), own(name), action_type.ok_or_else(bad)?.to_owned(), own(category));
    Ok((uid.map(|uid| crate::event::User { uid, name }), action_type, category, own(details)))
}

/// Why details.js refused a call. Out of line in the Workers build: V8 compiles a wasm function
/// whole on its first call, and a Worker's first event is rarely a refused one.
#[cfg_attr(feature = "memory-queue", inline(never))]
fn refusal(limits: &rules::Limits) -> AuditError {
    let why = event_more(&mut []);
    match why.as_f64() {
        // The size rule's own message (details.js counted the bytes).
        Some(k) if k < 0.0 => match limits.details_size(-k as usize) {
            Err(v) => v.into(),
            Ok(()) => AuditError::InvalidInput("the call's text could not be read".into()),
        },
        Some(k) => rules::lone_surrogate(["user.uid", "user.name", "actionType", "category"][k as usize & 3]).into(),
        None => AuditError::InvalidInput(why.as_string().unwrap_or_default()),
    }
}

/// A JS string as Rust text, refusing a lone surrogate (which `as_string` would turn into U+FFFD
/// and so change what was logged). `None` when `v` is not a string.
#[cfg(feature = "read")]
pub fn js_text(v: &JsValue, what: &str) -> Result<Option<String>, AuditError> {
    let Some(s) = v.as_string() else { return Ok(None) };
    // Fast path: a string without U+FFFD after conversion had no lone surrogate. Its UTF-8 starts
    // with 0xEF, looked for first by core's memchr (the byte search alone is rarely true).
    if s.as_bytes().contains(&0xEF) && crate::error::find(&s, "\u{fffd}").is_some() && lone_surrogate(v) {
        return Err(rules::lone_surrogate(what).into());
    }
    Ok(Some(s))
}
