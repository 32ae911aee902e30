//! THE input rules, in one table: what an `actionType`, a `category`, a user and `details` may be.
//! The client logger (Rust and JavaScript, before anything is queued or sent) and the ingest
//! Worker (on every body it receives) both check events here, so an event the client accepts is
//! one the Worker, with its default settings, accepts too.
//!
//! | input | rule |
//! |---|---|
//! | `actionType`, `category` | 1–[`MAX_NAME_LEN`] characters of `A-Z a-z 0-9 _ . : -` |
//! | `user.uid` | 1–[`MAX_USER_FIELD_LEN`] bytes, not blank, no control characters, an identifier's text ([`check_identifier_text`]: no white space at either end, no invisible characters, [`is_default_ignorable`]) |
//! | `user.name` | at most [`MAX_USER_FIELD_LEN`] bytes, no control characters, no bidirectional controls ([`is_bidi_control`]; free text: joiners and variation selectors allowed) |
//! | trail names (`trail`, the Worker's `AUDIT_TRAIL` and tenant claim) | their own length bounds, not blank, no control characters, an identifier's text |
//! | `details` | a JSON object, at most [`DEFAULT_MAX_DETAILS_BYTES`] bytes as JSON (configurable) and [`DEFAULT_MAX_DETAILS_DEPTH`] levels deep (the object itself is level 1), no member name twice in one object at any depth ([`Limits::details_names`]) |
//! | `targets` | at most [`MAX_TARGETS`] per event, no (`label`, `uid`) twice |
//! | `targets[].label` | an identifier `[A-Za-z_][A-Za-z0-9_]*`, 1–[`MAX_NAME_LEN`] characters (it becomes a label in the statement text); at the Worker also in `ALLOWED_TARGET_LABELS` |
//! | `targets[].uid` | as `user.uid` |
//! | `verifyTrail`'s `streamId` (Rust `stream_id`) | as `user.uid` (no stream the library writes has another id) |
//! | read filters (`userUid`, `getUserActivity`'s uid, a `target`'s uid) | as `user.uid`, invisible characters and white space at the ends allowed ([`check_uid_filter`]: they find data stored before those rules) |
//! | `targets[].role` | optional; as `actionType` |
//! | a request to the Worker | at most [`DEFAULT_MAX_BATCH`] events (the Worker's `MAX_BATCH`) and [`DEFAULT_MAX_BODY_BYTES`] bytes (its `MAX_BODY_BYTES`); a client logger sends no more per request |
//! | any text | well-formed Unicode: a lone UTF-16 surrogate (possible in JavaScript strings) is refused, never replaced |
//!
//! ```
//! use neo4j_audit::rules::{check_name, Limits};
//! assert!(check_name("actionType", "DOCUMENT_MODIFIED").is_ok());
//! assert!(check_name("actionType", "Doc opened").is_err()); // a space
//! let d = serde_json::json!({"a": {"b": 1}});
//! assert_eq!(Limits::default().details_json(&d).unwrap(), r#"{"a":{"b":1}}"#);
//! ```

use crate::error::cat;
use crate::error::num;
use serde_json::Value;

/// Longest `actionType` / `category`, in characters (all ASCII).
pub const MAX_NAME_LEN: usize = 64;
/// Most targets one event may name.
pub const MAX_TARGETS: usize = 16;
/// Longest user uid / name, in bytes.
pub const MAX_USER_FIELD_LEN: usize = 1024;
/// Default bound on the serialised `details`, in bytes (client `maxDetailsBytes`, Worker
/// `MAX_DETAILS_BYTES`).
pub const DEFAULT_MAX_DETAILS_BYTES: usize = 64 * 1024;
/// Default bound on the nesting of `details` (client and Worker `MAX_DETAILS_DEPTH`).
pub const DEFAULT_MAX_DETAILS_DEPTH: usize = 16;
/// Largest `maxDetailsBytes` a configuration may set.
pub const MAX_DETAILS_LIMIT: usize = 16 * 1024 * 1024;
/// Most events in one request to the ingest Worker: its default `MAX_BATCH`, and what a client
/// logger (`endpoint`) sends at most per request (a larger batch goes in several).
pub const DEFAULT_MAX_BATCH: usize = 100;
/// Largest request body the ingest Worker takes: its default `MAX_BODY_BYTES`. A client logger
/// (`endpoint`) keeps each request within it, as it keeps to [`DEFAULT_MAX_BATCH`]: a batch of
/// 100 events with a few KB of details each was a body every default Worker refused (413), sent
/// in full before the client split it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// Why an input breaks a rule. `TooLarge` is a size bound (the Worker answers 413 for it),
/// `Invalid` anything else (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Any other broken rule; the message names the input and the rule.
    Invalid(String),
    /// A size bound is exceeded (today: the details' JSON is over `max_details_bytes`).
    TooLarge(String),
}

// Written out (not thiserror's `#[error("{0}")]`): no core::fmt machinery in the .wasm (see
// crate::error::num).
impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (Violation::Invalid(m) | Violation::TooLarge(m)) = self;
        f.write_str(m)
    }
}

impl From<Violation> for crate::AuditError {
    fn from(v: Violation) -> Self {
        let (Violation::Invalid(m) | Violation::TooLarge(m)) = v;
        crate::AuditError::InvalidInput(m)
    }
}

fn invalid(m: String) -> Violation {
    Violation::Invalid(m)
}

/// Whether `c` may appear in an `actionType` / `category`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// `actionType` / `category`: 1–[`MAX_NAME_LEN`] characters of `A-Z a-z 0-9 _ . : -`.
pub fn check_name(what: &str, s: &str) -> Result<(), Violation> {
    // By bytes: every allowed character is ASCII, and a non-ASCII character's bytes are refused
    // as it is (no UTF-8 decoding per character).
    if s.is_empty() || s.len() > MAX_NAME_LEN || !s.bytes().all(|b| is_name_char(b as char)) {
        return Err(invalid(cat(&[
            what,
            " must be 1-",
            &num(MAX_NAME_LEN as u64),
            " characters of A-Z a-z 0-9 _ . : -",
        ])));
    }
    Ok(())
}

/// Whether `s` holds a control character (`char::is_control`: C0, DEL, C1). ASCII text is
/// checked by bytes (a C1 control is never ASCII); other text by characters.
fn has_control(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        s.chars().any(char::is_control)
    }
}

/// Whether `c` is one of Unicode's bidirectional controls (the `Bidi_Control` property: U+061C,
/// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): invisible characters that change the order in
/// which the text around them is displayed, so that a name shows as another one ("Trojan Source",
/// CVE-2021-42574). Refused in user names ([`check_user_name`]; identifiers refuse them as
/// [`is_default_ignorable`] characters), never in `details`, free text where a right-to-left
/// language may need them and which is shown as JSON.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` is invisible by default: Unicode's `Default_Ignorable_Code_Point` property
/// (DerivedCoreProperties.txt, the same since Unicode 14): the zero width space, joiners and
/// non-joiners, the soft hyphen, the word joiner and invisible operators, U+FEFF, the variation
/// selectors, the Hangul fillers, the tag characters, the bidirectional controls
/// ([`is_bidi_control`]) and the code points Unicode keeps for more of them. A text holding one
/// displays as the text without it: `"alice\u{200B}"` shows as `alice`. Refused in identifiers
/// ([`check_identifier_text`]), never in user names or `details`, free text in which the joiners
/// (Persian, Indic scripts) and the variation selectors and joiners of emoji sequences are part of
/// the text.
pub fn is_default_ignorable(c: char) -> bool {
    // Every one is outside ASCII; the table is src/unicode.rs's (the host's in wasm builds).
    !c.is_ascii() && crate::unicode::is_default_ignorable(c)
}

/// `s` (named `what`) must not hold a character `refused` says yes to, all of them outside ASCII
/// (ASCII text is not decoded); the message names the `rule`.
fn refuse_chars(what: &str, s: &str, refused: fn(char) -> bool, rule: &str) -> Result<(), Violation> {
    if !s.is_ascii() && s.chars().any(refused) {
        return Err(invalid(cat(&[what, " must not hold ", rule])));
    }
    Ok(())
}

/// An identifier's text (`s`, named `what`): a written uid, a trail name, a tenant. No white space
/// at either end (`" acme"` was a trail of its own that displays as `acme`; a uid `" a "` never
/// matched the app's `User {UID: "a"}`; trimming would store another name than the caller gave)
/// and no invisible characters ([`is_default_ignorable`]: `"alice\u{200B}"` was a second user who
/// displays as alice).
// (Not inlined: it is called from several places, and one copy is smaller in the .wasm.)
#[inline(never)]
pub fn check_identifier_text(what: &str, s: &str) -> Result<(), Violation> {
    if s.trim() != s {
        return Err(invalid(cat(&[what, " must not begin or end with white space"])));
    }
    let rule = "invisible characters (Unicode Default_Ignorable_Code_Point, e.g. U+200B)";
    refuse_chars(what, s, is_default_ignorable, rule)
}

/// The acting user's uid and optional display name.
pub fn check_user(uid: &str, name: Option<&str>) -> Result<(), Violation> {
    check_uid("user.uid", uid)?;
    if let Some(n) = name {
        check_user_name(n)?;
    }
    Ok(())
}

/// A uid written (`user.uid`, a target's `uid`, named `what`): [`check_uid_filter`], and an
/// identifier's text ([`check_identifier_text`]: no white space at either end, no invisible
/// characters).
pub fn check_uid(what: &str, uid: &str) -> Result<(), Violation> {
    check_uid_filter(what, uid)?;
    check_identifier_text(what, uid)
}

/// A uid the read side filters by (`userUid`, `getUserActivity`'s uid, a `target`'s uid, named
/// `what`): 1–[`MAX_USER_FIELD_LEN`] bytes, not blank, no control characters. White space at the
/// ends and invisible characters (bidirectional controls among them) are not refused here: a
/// filter writes and shows nothing, and a uid stored with them before [`check_uid`] refused them
/// (an earlier release, a write behind the library's back) is found through the API, not only
/// with Cypher.
pub fn check_uid_filter(what: &str, uid: &str) -> Result<(), Violation> {
    if uid.trim().is_empty() || uid.len() > MAX_USER_FIELD_LEN || has_control(uid) {
        let rule = " must be a non-empty string of at most ";
        return Err(invalid(cat(&[what, rule, &num(MAX_USER_FIELD_LEN as u64), " bytes without control characters"])));
    }
    Ok(())
}

/// The acting user's display name alone (also the Worker's rule for a token's `name` claim).
pub fn check_user_name(name: &str) -> Result<(), Violation> {
    if name.len() > MAX_USER_FIELD_LEN || has_control(name) {
        return Err(invalid(cat(&[
            "user.name must be at most ",
            &num(MAX_USER_FIELD_LEN as u64),
            " bytes without control characters",
        ])));
    }
    let rule = "bidirectional controls (Unicode Bidi_Control, e.g. U+202E)";
    refuse_chars("user.name", name, is_bidi_control, rule)
}

/// An event's targets: at most [`MAX_TARGETS`], each label an identifier of at most
/// [`MAX_NAME_LEN`] characters, each uid as `user.uid`, each role as `actionType`, no
/// (label, uid) twice.
pub fn check_targets(targets: &[crate::event::Target]) -> Result<(), Violation> {
    if targets.len() > MAX_TARGETS {
        return Err(invalid(cat(&[
            &num(targets.len() as u64),
            " targets, more than ",
            &num(MAX_TARGETS as u64),
            " per event",
        ])));
    }
    for (i, t) in targets.iter().enumerate() {
        let at = || cat(&["targets[", &num(i as u64), "]"]);
        check_target_key(&at(), &t.label, &t.uid)?;
        check_identifier_text(&cat(&[&at(), ".uid"]), &t.uid)?;
        if let Some(r) = &t.role {
            check_name(&cat(&[&at(), ".role"]), r)?;
        }
        if let Some(j) = targets[..i].iter().position(|o| o.label == t.label && o.uid == t.uid) {
            let j = num(j as u64);
            return Err(invalid(cat(&[&at(), " repeats targets[", &j, "] (", &t.label, ":", &t.uid, ")"])));
        }
    }
    Ok(())
}

/// A target's label and uid (the target at `at`), as a read filter takes them: the uid by
/// [`check_uid_filter`] ([`check_targets`] adds an identifier's rule, [`check_identifier_text`],
/// for a write).
pub fn check_target_key(at: &str, label: &str, uid: &str) -> Result<(), Violation> {
    if label.len() > MAX_NAME_LEN || !crate::config::is_identifier(label) {
        let rule = ".label must be an identifier ([A-Za-z_][A-Za-z0-9_]*) of at most ";
        return Err(invalid(cat(&[at, rule, &num(MAX_NAME_LEN as u64), " characters"])));
    }
    check_uid_filter(&cat(&[at, ".uid"]), uid)
}

/// The bounds on `details`; the defaults are the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Serialised `details`, in bytes.
    pub max_details_bytes: usize,
    /// Nesting of `details` (the object itself is level 1).
    pub max_details_depth: usize,
    /// The name of the setting that holds `max_details_bytes`, as the caller wrote it (the size
    /// rule's message names it): `maxDetailsBytes` for JavaScript (the default),
    /// `max_details_bytes` for Rust, `MAX_DETAILS_BYTES` for the Worker.
    pub size_setting: &'static str,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_details_bytes: DEFAULT_MAX_DETAILS_BYTES,
            max_details_depth: DEFAULT_MAX_DETAILS_DEPTH,
            size_setting: "maxDetailsBytes",
        }
    }
}

impl Limits {
    /// Checks `details` (an object; `null` and `{}` are "none") and returns its JSON text, or
    /// `None` when there are none.
    pub fn details(&self, details: Option<&Value>) -> Result<Option<String>, Violation> {
        match details {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) if m.is_empty() => Ok(None),
            Some(v @ Value::Object(_)) => self.details_json(v).map(Some),
            Some(_) => Err(invalid("details must be an object".into())),
        }
    }

    /// [`Limits::details`] for a value of the crate's own JSON tree (the Worker's body parser):
    /// the same rules and messages; the text is the compact JSON of the members as sent, in
    /// their order, numbers exactly as written.
    #[cfg_attr(not(feature = "ingest"), allow(dead_code))]
    pub(crate) fn details_of(&self, details: Option<&crate::json::Json>) -> Result<Option<String>, Violation> {
        use crate::json::Json;
        match details {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Obj(m)) if m.is_empty() => Ok(None),
            Some(v @ Json::Obj(_)) => {
                let depth = v.depth();
                if depth > self.max_details_depth {
                    return Err(self.too_deep(depth));
                }
                if let Some(k) = v.repeated_key_deep() {
                    return Err(repeated_name(k));
                }
                let mut text = String::new();
                v.write(&mut text);
                // Named by the Worker's variable: an operator reading the 413 (or a client its
                // `rejected by the endpoint`) must not look for the client's `maxDetailsBytes`.
                self.size_named(text.len(), "MAX_DETAILS_BYTES")?;
                Ok(Some(text))
            }
            Some(_) => Err(invalid("details must be an object".into())),
        }
    }

    /// Checks a details value's depth alone (before anything recurses into it).
    pub fn details_depth(&self, v: &Value) -> Result<(), Violation> {
        let depth = depth_of(v);
        if depth > self.max_details_depth {
            return Err(self.too_deep(depth));
        }
        Ok(())
    }

    /// Checks a details object's depth and size; its JSON text.
    pub fn details_json(&self, v: &Value) -> Result<String, Violation> {
        if !v.is_object() {
            return Err(invalid("details must be an object".into()));
        }
        self.details_depth(v)?;
        let text = serde_json::to_string(v).map_err(|e| invalid(format!("details: {e}")))?;
        self.details_size(text.len())?;
        Ok(text)
    }

    /// Checks details given as JSON text (from JavaScript's `JSON.stringify`, or serialised by a
    /// Rust caller): well-formed, an object, at most `max_details_depth` deep, no lone surrogate.
    /// `None` for `null` and `{}`; else whether the text is compact and whether `key` answered
    /// `true` for a member name (at any depth). Builds no tree: the write path parses one only
    /// when it must rewrite the text (a key to redact, or whitespace to drop). The size rule
    /// applies to the text finally stored ([`Limits::details_size`]).
    pub(crate) fn details_scan(
        &self,
        text: &str,
        key: &dyn Fn(&str) -> bool,
    ) -> Result<Option<(bool, bool)>, Violation> {
        use crate::json::{scan, Json0};
        // Far over the bound (redaction could not bring it under): refused before parsing.
        if text.len() / 4 > self.max_details_bytes {
            self.details_size(text.trim().len())?;
        }
        match scan(text, self.max_details_depth, key) {
            Ok(s) if s.shape == Json0::Null => Ok(None),
            // An object with no member names anywhere is `{}`.
            Ok(s) if s.shape == Json0::Obj && s.keys == 0 => Ok(None),
            Ok(s) if s.shape == Json0::Obj => Ok(Some((s.compact, s.hit))),
            Ok(_) => Err(invalid("details must be an object".into())),
            Err(e) => Err(self.scan_refusal(e)),
        }
    }

    /// Why [`Limits::details_scan`] refused the text. Out of line: only a refused call runs it,
    /// and V8 compiles a wasm function whole on its first call (inlined, a Worker's first event
    /// compiled these messages for nothing).
    #[inline(never)]
    fn scan_refusal(&self, e: crate::json::ParseError) -> Violation {
        use crate::json::ParseError;
        match e {
            ParseError::TooDeep => {
                invalid(cat(&["details are nested more than ", &num(self.max_details_depth as u64), " levels deep"]))
            }
            ParseError::LoneSurrogate => lone_surrogate("details"),
            ParseError::Syntax(at) => invalid(cat(&["details are not JSON (at byte ", &num(at as u64), ")"])),
            ParseError::OutOfRange(at) => invalid(cat(&[
                "details hold a number beyond ±1.7976931348623157e308 (at byte ",
                &num(at as u64),
                "): not a finite number",
            ])),
        }
    }

    /// The rule against a member name given twice in one object of `details` (at any depth),
    /// for details given as JSON text by a Rust caller: JSON readers keep only one of the values
    /// (`JSON.parse` and `serde_json` the last), so an auditor reading the event would not see
    /// what was stored and hashed (RFC 8259 §4; I-JSON, RFC 7493, forbids it). The ingest
    /// Worker checks the same on its body's tree ([`Limits::details_of`]); JavaScript's
    /// `JSON.stringify` and a `serde_json::Value` never repeat a name, a `Serialize` value that
    /// [`crate::Action::details`] writes can (a `#[serde(flatten)]` map holding a field's name).
    /// Text that is not JSON passes here: the other rules refuse it.
    pub fn details_names(&self, text: &str) -> Result<(), Violation> {
        match crate::json::parse(text, self.max_details_depth) {
            Ok(v) => v.repeated_key_deep().map_or(Ok(()), |k| Err(repeated_name(k))),
            Err(_) => Ok(()),
        }
    }

    /// The size rule alone, for JSON text made elsewhere.
    pub fn details_size(&self, bytes: usize) -> Result<(), Violation> {
        self.size_named(bytes, self.size_setting)
    }

    /// The size rule, its message naming the setting that holds the bound.
    fn size_named(&self, bytes: usize, setting: &str) -> Result<(), Violation> {
        if bytes > self.max_details_bytes {
            let (bytes, max) = (num(bytes as u64), num(self.max_details_bytes as u64));
            return Err(Violation::TooLarge(cat(&[
                "details are ",
                &bytes,
                " bytes as JSON, more than ",
                setting,
                " (",
                &max,
                ")",
            ])));
        }
        Ok(())
    }

    fn too_deep(&self, depth: usize) -> Violation {
        let (depth, max) = (num(depth as u64), num(self.max_details_depth as u64));
        invalid(cat(&["details are nested ", &depth, " levels deep, more than ", &max]))
    }
}

/// Nesting depth: a scalar is 0, an object or array one more than its deepest member.
/// Counted with a stack of its own, not by recursion: a Rust caller can build a `Value` nested
/// deeper than any thread's stack allows recursing into (serde_json's parser stops at 128
/// levels, `Value::Array(vec![..])` in a loop does not), and this check is what refuses it.
pub fn depth_of(v: &Value) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(v, 0usize)];
    while let Some((v, at)) = todo.pop() {
        match v {
            Value::Object(m) => {
                deepest = deepest.max(at + 1);
                todo.extend(m.values().map(|x| (x, at + 1)));
            }
            Value::Array(a) => {
                deepest = deepest.max(at + 1);
                todo.extend(a.iter().map(|x| (x, at + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Drops `v` level by level instead of by the recursive drop glue, which recurses as deep as the
/// value is nested: a refused value nested thousands of levels deep must not overflow the stack
/// on its way out.
pub(crate) fn drop_flat(v: Value) {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Array(a) => todo.extend(a),
            Value::Object(m) => todo.extend(m.into_iter().map(|(_, x)| x)),
            _ => {}
        }
    }
}

/// The message for a member name given twice in one object of `details`.
fn repeated_name(name: &str) -> Violation {
    let mut shown = String::new();
    let cut: String = name.chars().take(40).collect();
    crate::json::write_str(&mut shown, &cut);
    invalid(cat(&[
        "details give the member name ",
        &shown,
        " twice in one object; JSON readers would keep only one of the values",
    ]))
}

/// The message for a string that is not well-formed UTF-16 (a lone surrogate).
pub fn lone_surrogate(what: &str) -> Violation {
    invalid(cat(&[what, " contains a lone UTF-16 surrogate (not valid Unicode); it would be stored altered"]))
}

/// A URL setting (named `what`: `url`, `endpoint`) whose explicit port is 0: no server listens
/// there, and every request failed as "connection refused", which read as a passing network error
/// and was retried until the deadline. Checked by every build that reads the port (not the
/// Workers-only builds, whose URL check leaves it out for size).
pub fn check_port(what: &str, port: u16) -> Result<(), Violation> {
    if port == 0 {
        return Err(invalid(cat(&[
            what,
            ": port 0 is not a port a server listens on; give the server's own (Neo4j's HTTP default is 7474, HTTPS 7473)",
        ])));
    }
    Ok(())
}

/// The fetch standard's "bad ports" (<https://fetch.spec.whatwg.org/#bad-port>; exactly the ports
/// Node 20's fetch refuses, 1-65535 tried): ports of other protocols (SMTP, SSH, X11, IRC, ...) to
/// which every `fetch` fails at once in browsers and Node (undici: "bad port"), before any
/// connection is made. (workerd connects to them.)
pub const FETCH_BAD_PORTS: [u16; 82] = [
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
    111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
    540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
    6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
];

/// A URL setting (named `what`: `url`, `endpoint`) of a build that sends with `fetch` in browsers
/// or Node (the npm package's wasm builds; reqwest on wasm calls `fetch` too): its explicit `port`
/// must not be one of [`FETCH_BAD_PORTS`]. Such a URL failed every request at once, which read as
/// a passing network error and was retried until the deadline. Not checked by the native build
/// (reqwest connects to any port) nor the Workers-only builds (workerd does too).
pub fn check_fetch_port(what: &str, port: u16) -> Result<(), Violation> {
    if FETCH_BAD_PORTS.contains(&port) {
        return Err(invalid(cat(&[
            what,
            ": port ",
            &num(port.into()),
            " is one of the fetch standard's \"bad ports\" (https://fetch.spec.whatwg.org/#bad-port), to which \
             browsers and Node refuse every request; serve it on another port (Neo4j's HTTP \
             default is 7474, HTTPS 7473)",
        ])));
    }
    Ok(())
}

/// A setting of two values (the Worker's `JWT_AUDIENCE_CHECK`, `REDACT_MATCH` and
/// `NEO4J_ALLOW_INSECURE_HTTP`, the CLI's `NEO4J_ALLOW_INSECURE_HTTP`): whether `value` is
/// `other`. Any case, surrounding white space ignored; unset or empty is `default`; anything else
/// is an `Err` naming the setting and its two values, never quoting the value (a mistake must not
/// silently be the default: `"yes"` is not `true`, `"false"` is not `off`).
pub fn switch(name: &str, value: Option<&str>, default: &str, other: &str) -> Result<bool, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) if v.eq_ignore_ascii_case(other) => Ok(true),
        Some(v) if !v.eq_ignore_ascii_case(default) => Err(switch_error(name, default, other)),
        _ => Ok(false),
    }
}

/// [`switch`]'s refusal: the setting and its two values, never the value given.
pub fn switch_error(name: &str, default: &str, other: &str) -> String {
    cat(&[name, " must be \"", default, "\" or \"", other, "\" (any case)"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_uid_with_white_space_at_either_end_is_refused_for_writes_not_for_filters() {
        for uid in [" a", "a ", "\u{a0}a", "a\u{2003}"] {
            assert!(
                matches!(check_uid("user.uid", uid), Err(Violation::Invalid(m)) if m == "user.uid must not begin or end with white space"),
                "{uid:?}"
            );
            assert!(check_uid_filter("userUid", uid).is_ok(), "{uid:?}: a filter finds what was stored before");
        }
        assert!(check_uid("user.uid", "a b").is_ok());
        let t = |uid: &str| vec![crate::event::Target { label: "Document".into(), uid: uid.into(), role: None }];
        assert!(
            matches!(check_targets(&t("d-1 ")), Err(Violation::Invalid(m)) if m == "targets[0].uid must not begin or end with white space")
        );
        assert!(check_targets(&t("d 1")).is_ok());
    }

    #[test]
    fn bad_ports_of_fetch() {
        for p in [1, 9, 6000, 10080, 6697] {
            let m = check_fetch_port("url", p).unwrap_err().to_string();
            assert!(
                m.starts_with(&cat(&["url: port ", &num(p.into()), " is one of the fetch standard's \"bad ports\""])),
                "{m}"
            );
        }
        for p in [0, 2, 80, 443, 7473, 7474, 8080, 10081, 65535] {
            assert!(check_fetch_port("url", p).is_ok(), "{p}");
        }
        assert!(FETCH_BAD_PORTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn port_zero() {
        assert!(check_port("endpoint", 0).unwrap_err().to_string().starts_with("endpoint: port 0 is not a port"));
        for p in [1, 80, 7474, 65535] {
            assert!(check_port("url", p).is_ok(), "{p}");
        }
    }

    #[test]
    fn switches() {
        let sw = |v: Option<&str>| switch("NEO4J_ALLOW_INSECURE_HTTP", v, "false", "true");
        for (v, on) in [(None, false), (Some(""), false), (Some("  "), false), (Some("false"), false)] {
            assert_eq!(sw(v), Ok(on), "{v:?}");
        }
        for v in ["FALSE", " False "] {
            assert_eq!(sw(Some(v)), Ok(false), "{v:?}");
        }
        for v in ["true", "TRUE", " True\n"] {
            assert_eq!(sw(Some(v)), Ok(true), "{v:?}");
        }
        for v in ["yes", "1", "on", "0", "no", "truee", "t"] {
            let e = sw(Some(v)).unwrap_err();
            assert_eq!(e, "NEO4J_ALLOW_INSECURE_HTTP must be \"false\" or \"true\" (any case)", "{v:?}");
        }
    }

    #[test]
    fn names() {
        for ok in ["A", "DOC_OPENED", "auth.login:v2-x", &"x".repeat(MAX_NAME_LEN)] {
            assert!(check_name("actionType", ok).is_ok(), "{ok}");
        }
        for bad in ["", " ", "Doc opened", "a\nb", "é", "a/b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(check_name("actionType", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn users() {
        assert!(check_user("u-1", Some("Ann")).is_ok());
        assert!(check_user(" ", None).is_err());
        assert!(check_user("a\u{0}b", None).is_err());
        assert!(check_user("u", Some("a\nb")).is_err());
        // Every control character, ASCII or not (C0, DEL, C1), in uid and name; other
        // non-ASCII text passes.
        for c in (0u32..0x20).chain([0x7f]).chain(0x80..0xa0).filter_map(char::from_u32) {
            assert!(check_user(&format!("u{c}"), None).is_err(), "{c:?}");
            assert!(check_user(&format!("é{c}"), None).is_err(), "{c:?}");
            assert!(check_user("u", Some(&format!("n{c}é"))).is_err(), "{c:?}");
        }
        assert!(check_user("é-\u{a0}-\u{10348}", Some("Zoë")).is_ok());
        assert!(check_user(&"u".repeat(MAX_USER_FIELD_LEN + 1), None).is_err());
    }

    /// Trojan Source: a uid, user name, target uid or trail name holding a bidirectional control
    /// (every `Bidi_Control` character, at the start, inside, at the end) is refused with a reason
    /// that says why; their neighbours (ZWJ, ZWNJ, the Arabic and Hebrew letters a right-to-left
    /// name is written in) and `details` pass.
    #[test]
    fn bidirectional_controls_are_refused_in_identifiers() {
        let bidi: Vec<char> = [0x61c, 0x200e, 0x200f]
            .into_iter()
            .chain(0x202a..=0x202e)
            .chain(0x2066..=0x2069)
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(bidi.len(), 12);
        // Exactly these in the blocks they are in (U+202F, U+2065, U+206A and the other format
        // characters around them are not Bidi_Control).
        for c in (0x600..0x700).chain(0x2000..0x2100).filter_map(char::from_u32) {
            assert_eq!(is_bidi_control(c), bidi.contains(&c), "U+{:04X}", c as u32);
        }
        for c in &bidi {
            for text in [format!("{c}admin"), format!("ad{c}min"), format!("admin{c}"), format!("\u{5d0}{c}")] {
                // In identifiers, as invisible characters (below).
                let e = check_uid("user.uid", &text).unwrap_err().to_string();
                assert!(e.starts_with("user.uid must not hold invisible characters"), "{e}");
                let e = check_user("u", Some(&text)).unwrap_err().to_string();
                assert!(e.starts_with("user.name must not hold bidirectional controls (Unicode Bidi_Control"), "{e}");
                let t = [crate::event::Target::new("Document", text.clone())];
                let e = check_targets(&t).unwrap_err().to_string();
                assert!(e.starts_with("targets[0].uid must not hold invisible characters"), "{e}");
                assert!(check_identifier_text("trail", &text).is_err());
                // A read filter may name such a uid (stored before the rule): it writes nothing.
                assert!(check_uid_filter("userUid", &text).is_ok());
                assert!(check_target_key("target", "Document", &text).is_ok());
                // Free text: details may hold them.
                let d = json!({ "note": text });
                assert!(Limits::default().details(Some(&d)).is_ok());
            }
        }
        // Right-to-left names without controls pass; so do the joiners in a name (free text).
        for ok in ["\u{5d3}\u{5e0}\u{5d4}", "\u{645}\u{62d}\u{645}\u{62f}"] {
            assert!(check_user(ok, Some(ok)).is_ok(), "{ok:?}");
            assert!(check_identifier_text("trail", ok).is_ok(), "{ok:?}");
        }
        for ok in ["a\u{200c}b\u{200d}c", "\u{2065}\u{206a}x"] {
            assert!(check_user("u", Some(ok)).is_ok(), "{ok:?}");
        }
    }

    /// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 14-16), as
    /// ranges: exactly these code points, 4,174 of them (written out again: the test does not
    /// read the table it checks).
    const UNICODE_DEFAULT_IGNORABLE: [(u32, u32); 17] = [
        (0xad, 0xad),
        (0x34f, 0x34f),
        (0x61c, 0x61c),
        (0x115f, 0x1160),
        (0x17b4, 0x17b5),
        (0x180b, 0x180f),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x206f),
        (0x3164, 0x3164),
        (0xfe00, 0xfe0f),
        (0xfeff, 0xfeff),
        (0xffa0, 0xffa0),
        (0xfff0, 0xfff8),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0000, 0xe0fff),
    ];

    #[test]
    fn default_ignorable_is_unicodes_property() {
        let listed = |c: char| UNICODE_DEFAULT_IGNORABLE.iter().any(|&(a, b)| (a..=b).contains(&(c as u32)));
        let mut n = 0;
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(is_default_ignorable(c), listed(c), "U+{:04X}", c as u32);
            n += usize::from(listed(c));
            // Every bidirectional control is one; no white space, no ASCII is.
            if is_bidi_control(c) {
                assert!(is_default_ignorable(c), "U+{:04X}", c as u32);
            }
            if c.is_whitespace() || c.is_ascii() {
                assert!(!is_default_ignorable(c), "U+{:04X}", c as u32);
            }
        }
        assert_eq!(n, 4174);
    }

    /// "alice\u{200B}" showed as "alice": a written uid, a target's uid, a trail or tenant name
    /// holding an invisible character (at the start, inside, at the end) is refused with a reason
    /// that says why; a read filter finds one stored before the rule; a user name and details
    /// (free text) keep them.
    #[test]
    fn invisible_characters_are_refused_in_identifiers() {
        for &(a, b) in &UNICODE_DEFAULT_IGNORABLE {
            // Each range's ends and middle.
            for c in [a, b, a + (b - a) / 2].into_iter().filter_map(char::from_u32) {
                for text in [format!("{c}alice"), format!("al{c}ice"), format!("alice{c}")] {
                    let e = check_uid("user.uid", &text).unwrap_err().to_string();
                    assert_eq!(
                        e,
                        "user.uid must not hold invisible characters (Unicode Default_Ignorable_Code_Point, e.g. U+200B)"
                    );
                    let t = [crate::event::Target::new("Document", text.clone())];
                    let e = check_targets(&t).unwrap_err().to_string();
                    assert!(e.starts_with("targets[0].uid must not hold invisible characters"), "{e}");
                    let e = check_identifier_text("trail", &text).unwrap_err().to_string();
                    assert!(e.starts_with("trail must not hold invisible characters"), "{e}");
                    assert!(check_uid_filter("userUid", &text).is_ok());
                    assert!(check_target_key("target", "Document", &text).is_ok());
                    assert!(Limits::default().details(Some(&json!({ "note": text }))).is_ok());
                    if !is_bidi_control(c) {
                        assert!(check_user("u", Some(&text)).is_ok(), "U+{:04X}", c as u32);
                    }
                }
            }
        }
        // White space at either end of a trail or tenant name, as of a written uid.
        for padded in [" acme", "acme ", "\u{a0}acme", "acme\u{3000}", "\u{2003}"] {
            let e = check_identifier_text("tenant", padded).unwrap_err().to_string();
            assert_eq!(e, "tenant must not begin or end with white space", "{padded:?}");
        }
        // Visible text passes: other scripts, the neighbours of the ranges, inner spaces.
        for ok in
            ["acme corp", "\u{5d0}\u{5d1}", "\u{ac}\u{ae}\u{34e}\u{350}\u{180a}\u{205e}\u{2070}\u{fe10}\u{fefe}", "Zoë"]
        {
            assert!(check_identifier_text("trail", ok).is_ok(), "{ok:?}");
            assert!(check_uid("user.uid", ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn targets() {
        use crate::event::Target;
        assert!(check_targets(&[Target::new("Document", "doc-1").role("subject"), Target::new("_F1", "x y")]).is_ok());
        for bad in [
            vec![Target::new("Doc ument", "d")],
            vec![Target::new("Doc`) DETACH DELETE (x", "d")],
            vec![Target::new("1Doc", "d")],
            vec![Target::new("x".repeat(MAX_NAME_LEN + 1), "d")],
            vec![Target::new("Doc", " ")],
            vec![Target::new("Doc", "a\nb")],
            vec![Target::new("Doc", "d").role("a b")],
            vec![Target::new("Doc", "d"), Target::new("Doc", "d").role("other")],
            (0..=MAX_TARGETS).map(|i| Target::new("Doc", format!("d{i}"))).collect(),
        ] {
            assert!(check_targets(&bad).is_err(), "{bad:?}");
        }
        assert!(
            check_targets(&(0..MAX_TARGETS).map(|i| Target::new("Doc", format!("d{i}"))).collect::<Vec<_>>()).is_ok()
        );
    }

    #[test]
    fn details_depth_and_size() {
        let lim = Limits { max_details_bytes: 30, max_details_depth: 2, ..Default::default() };
        assert_eq!(lim.details(Some(&json!({}))).unwrap(), None);
        assert_eq!(lim.details(Some(&json!({"a": [1]}))).unwrap().as_deref(), Some(r#"{"a":[1]}"#));
        assert!(
            matches!(lim.details(Some(&json!({"a": {"b": {}}}))), Err(Violation::Invalid(m)) if m.contains("deep"))
        );
        assert!(matches!(lim.details(Some(&json!({"a": "x".repeat(40)}))), Err(Violation::TooLarge(_))));
        assert!(lim.details(Some(&json!([1]))).is_err());
    }

    #[test]
    fn details_as_text_follow_the_same_rules() {
        let lim = Limits { max_details_bytes: 30, max_details_depth: 2, ..Default::default() };
        let scan = |lim: &Limits, t: &str| lim.details_scan(t, &|_| false);
        assert_eq!(scan(&lim, "{}").unwrap(), None);
        assert_eq!(scan(&lim, "null").unwrap(), None);
        assert_eq!(scan(&lim, r#"{"a":[1]}"#).unwrap(), Some((true, false)));
        assert_eq!(scan(&lim, r#"{"a": [1]}"#).unwrap(), Some((false, false)), "not compact");
        assert_eq!(lim.details_scan(r#"{"a":{"b":1}}"#, &|k| k == "b").unwrap(), Some((true, true)), "a key to redact");
        assert!(matches!(scan(&lim, r#"{"a":{"b":{}}}"#), Err(Violation::Invalid(m)) if m.contains("deep")));
        // Far over the bound: refused before parsing (the builder checks the final text's size).
        assert!(matches!(scan(&lim, &format!(r#"{{"a":"{}"}}"#, "x".repeat(200))), Err(Violation::TooLarge(_))));
        assert!(scan(&lim, "[1]").is_err());
        assert!(matches!(scan(&lim, r#"{"a":"\ud800"}"#), Err(Violation::Invalid(m)) if m.contains("surrogate")));
    }
}
