//! One audit event: validated input in, an [`AuditEvent`] with its UID and birth time out.

use crate::error::cat;
use serde::{Deserialize, Serialize};

use crate::error::AuditError;

/// The acting user, as the seed's `DocUser`: a UID and an optional display name. Built like a
/// [`Target`]: the required part in `new`, the optional one by a method.
///
/// ```
/// use neo4j_audit::User;
/// let john = User::new("user-123").name("John Doe");
/// assert_eq!((john.uid.as_str(), john.name.as_deref()), ("user-123", Some("John Doe")));
/// assert_eq!(User::new(String::from("service-7")).name, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's UID (also matched against the `UID` of an existing user node).
    pub uid: String,
    /// Display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl User {
    /// A user without a display name; nothing is checked here (the rules apply when an event is
    /// built).
    pub fn new(uid: impl Into<String>) -> Self {
        User { uid: uid.into(), name: None }
    }

    /// The same user with the display name `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Default `eventCategory`, as in the seed.
pub const DEFAULT_CATEGORY: &str = "USER_ACTION";

/// Who wrote an event into Neo4j (the node property `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A client library wrote it directly (also every event built before `source` existed, so a
    /// queued event from an older version reads back as what it was).
    #[default]
    Client,
    /// The ingest Worker wrote it on behalf of the token's user.
    Worker,
}
pub use crate::rules::{MAX_NAME_LEN, MAX_TARGETS, MAX_USER_FIELD_LEN};

/// What an action was performed on: a node of the application's graph, named by its label and
/// its `UID` property, with an optional role (`"subject"`, `"parent"`, …). Stored as
/// `(event)-[:ON {role, target, created, eventUID}]->(node)` when that node exists, and always as
/// `"Label:uid"` in the event's `targetKeys` (see README, "The graph").
///
/// ```
/// use neo4j_audit::Target;
/// let t = Target::new("Document", "doc-456").role("subject");
/// assert_eq!(t.key(), "Document:doc-456");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The node label, an identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters).
    pub label: String,
    /// The node's `UID` property (rules of `user.uid`).
    pub uid: String,
    /// What the node was to the action (rules of `actionType`), if said.
    #[serde(default)]
    pub role: Option<String>,
}

impl Target {
    /// A target without a role; nothing is checked here (the rules apply when an event is built).
    pub fn new(label: impl Into<String>, uid: impl Into<String>) -> Self {
        Target { label: label.into(), uid: uid.into(), role: None }
    }

    /// The same target with `role`.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// `Label:uid`, as stored in `targetKeys` and on the `ON` relationship's `target`.
    pub fn key(&self) -> String {
        cat(&[&self.label, ":", &self.uid])
    }

    /// `{"label", "uid", "role"?}` (no other key; `role` a string or `null`), as `Serialize`
    /// writes it. Not checked against the rules.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the browser's stores and options
    pub(crate) fn from_json(v: &crate::json::Json) -> Option<Target> {
        use crate::json::Json;
        let Json::Obj(m) = v else { return None };
        if m.iter().any(|(k, _)| !matches!(k.as_str(), "label" | "uid" | "role")) {
            return None;
        }
        Some(Target {
            label: v.get("label")?.as_str()?.to_owned(),
            uid: v.get("uid")?.as_str()?.to_owned(),
            role: match v.get("role") {
                None | Some(Json::Null) => None,
                Some(r) => Some(r.as_str()?.to_owned()),
            },
        })
    }
}

impl LogOptions {
    /// `logUserAction`'s options as JSON (`JSON.stringify` of the JS object): `{"targets"?: [...]}`,
    /// nothing else. The targets' rules are checked when the event is built.
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
    pub(crate) fn from_json(v: &crate::json::Json) -> Result<LogOptions, AuditError> {
        use crate::json::Json;
        let bad = |m: String| AuditError::InvalidInput(m);
        let Json::Obj(m) = v else { return Err(bad("options must be an object such as {targets: [...]}".into())) };
        if let Some((k, _)) = m.iter().find(|(k, _)| k != "targets") {
            return Err(bad(cat(&["unknown option `", k, "`; logUserAction's options are: targets"])));
        }
        let targets = match v.get("targets") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Arr(a)) => {
                let mut list = Vec::with_capacity(a.len());
                for (i, t) in a.iter().enumerate() {
                    list.push(Target::from_json(t).ok_or_else(|| {
                        let i = crate::error::num(i as u64);
                        bad(cat(&["targets[", &i, "] must be {label: string, uid: string, role?: string}"]))
                    })?);
                }
                list
            }
            Some(_) => return Err(bad("options.targets must be an array of {label, uid, role?}".into())),
        };
        Ok(LogOptions { targets })
    }
}

/// Options of one logged action (the last argument of `logUserAction`), all optional: start
/// from `LogOptions::default()` and add with its methods (more options may come in minor
/// releases, so it is not built as a struct literal). [`crate::Action`] takes the same options
/// directly (`.target(..)`).
///
/// ```
/// use neo4j_audit::{LogOptions, Target};
/// let opts = LogOptions::default()
///     .target(Target::new("Document", "doc-456").role("subject"))
///     .target(Target::new("Folder", "f-9"));
/// assert_eq!(opts.targets.len(), 2);
/// let same = LogOptions::default().targets([Target::new("Document", "doc-456").role("subject"), Target::new("Folder", "f-9")]);
/// assert_eq!(opts, same);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogOptions {
    /// What the action was performed on (at most [`MAX_TARGETS`], no (label, uid) twice).
    pub targets: Vec<Target>,
}

impl LogOptions {
    /// These options with one more target (what the action was performed on).
    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// These options with more targets, in order.
    pub fn targets(mut self, targets: impl IntoIterator<Item = Target>) -> Self {
        self.targets.extend(targets);
        self
    }
}

/// An event shared by the caller's future, the batch being sent and the durable queue: one copy
/// of its text however many places hold it. Batching itself is the delivery machine's
/// (src/machine.rs).
pub(crate) type SharedEvent = std::sync::Arc<AuditEvent>;

/// An event ready to be written. Field names are the keys of one element of the `$events`
/// parameter, so the same value serialises straight into the request (and into a durable queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// v4 UUID, drawn once when the event is born and kept through every retry.
    #[serde(rename = "UID")]
    pub uid: String,
    /// The action type (`actionType` in JavaScript, `action_type` in `TrailEvent`), stored as
    /// `eventType` (the seed's property name, kept in the graph and on the wire).
    #[serde(rename = "eventType")]
    pub action_type: String,
    /// The category, stored as `eventCategory`; [`DEFAULT_CATEGORY`] when none was given.
    #[serde(rename = "eventCategory")]
    pub category: String,
    /// Milliseconds since the Unix epoch (UTC); stored in Neo4j as the `DateTime` `timestamp`:
    /// when the writer (the client library, or the ingest Worker on receipt) recorded the event.
    /// This is the time the hash chain covers.
    pub ts: i64,
    /// The acting user's UID (`None` for an event without a user).
    #[serde(rename = "userUID")]
    pub user_uid: Option<String>,
    /// The acting user's display name, if given.
    pub user_name: Option<String>,
    /// JSON text of the details object; `None` when there were none.
    pub details: Option<String>,
    /// Tamper evidence (see [`crate::chain`]): the logger's stream, this event's position in it,
    /// the previous event's hash and this event's hash. Set by [`crate::chain::Chain::seal`] when
    /// the logger builds the event; `None` on an event that was never chained.
    #[serde(default)]
    pub stream_id: Option<String>,
    /// Position in the stream, from 0 (see `stream_id`).
    #[serde(default)]
    pub seq: Option<u64>,
    /// The previous event's `hash` (64 hex digits; [`crate::chain::GENESIS`] for `seq` 0).
    #[serde(default)]
    pub prev_hash: Option<String>,
    /// This event's chain hash, 64 hex digits (see [`crate::chain::event_hash`]).
    #[serde(default)]
    pub hash: Option<String>,
    /// Provenance (not part of the hash chain's canonical encoding): who wrote the event.
    #[serde(default)]
    pub source: Source,
    /// When the user acted, milliseconds since the Unix epoch (stored as the `DateTime`
    /// `occurredAt`). For a direct write it is the event's birth time (= `ts`); the Worker stores
    /// the client's value here and its own receive time in `ts`. `None` (an event queued by an
    /// older version) is stored as `ts`.
    #[serde(default)]
    pub occurred_at: Option<i64>,
    /// What the action was performed on ([`Target`]); empty for none (and then not serialised,
    /// so an event without targets is the same JSON as before targets existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
}

/// The rule table's bounds for the public Rust constructors: their size message names their own
/// `max_details_bytes` parameter.
fn rust_limits(max_details_bytes: usize) -> crate::rules::Limits {
    crate::rules::Limits { max_details_bytes, size_setting: "max_details_bytes", ..Default::default() }
}

impl AuditEvent {
    /// Validates the parts of an event and gives it a fresh UID and the current time.
    ///
    /// ```
    /// use neo4j_audit::{AuditEvent, User};
    /// let d = serde_json::json!({"document_id": "doc-456"});
    /// let e = AuditEvent::build(Some(&User::new("user-123").name("John Doe")), "LOGIN", None, Some(&d), 65536).unwrap();
    /// assert_eq!(e.category, "USER_ACTION");
    /// assert_eq!(e.details.as_deref(), Some(r#"{"document_id":"doc-456"}"#));
    /// assert!(AuditEvent::build(None, "", None, None, 65536).is_err());
    /// ```
    pub fn build(
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
        max_details_bytes: usize,
    ) -> Result<AuditEvent, AuditError> {
        let limits = rust_limits(max_details_bytes);
        let details = limits.details(details)?;
        Self::from_checked_parts(user, action_type, category, details, limits)
    }

    /// Like [`AuditEvent::build`], with `details` already serialised to JSON text (`None` for
    /// none): the text must pass the same rules (an object, at most the default depth, no lone
    /// surrogate, no member name twice in one object, at most `max_details_bytes`); it is kept
    /// as given. `null` and `{}` are no details. Nothing is redacted here: an
    /// [`EventBuilder`] redacts.
    ///
    /// ```
    /// use neo4j_audit::AuditEvent;
    /// let e = AuditEvent::from_parts(None, "LOGIN", None, Some(r#"{"n":1.50}"#.into()), 65536).unwrap();
    /// assert_eq!(e.details.as_deref(), Some(r#"{"n":1.50}"#));
    /// assert!(AuditEvent::from_parts(None, "LOGIN", None, Some("[1]".into()), 65536).is_err());
    /// assert!(AuditEvent::from_parts(None, "LOGIN", None, Some(r#"{"a":1,"a":2}"#.into()), 65536).is_err());
    /// ```
    pub fn from_parts(
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details_json: Option<String>,
        max_details_bytes: usize,
    ) -> Result<AuditEvent, AuditError> {
        let details_json = match details_json {
            None => None,
            Some(text) => {
                let limits = rust_limits(max_details_bytes);
                match limits.details_scan(&text, &|_| false)? {
                    None => None,
                    Some(_) => {
                        limits.details_names(&text)?;
                        Some(text)
                    }
                }
            }
        };
        Self::from_checked_parts(user, action_type, category, details_json, rust_limits(max_details_bytes))
    }

    /// [`AuditEvent::from_parts`] for details text an [`EventBuilder`] has already checked
    /// against every rule but the size one.
    fn from_checked_parts(
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details_json: Option<String>,
        limits: crate::rules::Limits,
    ) -> Result<AuditEvent, AuditError> {
        Self::from_owned_parts(user.cloned(), action_type.to_owned(), category.map(str::to_owned), details_json, limits)
    }

    /// [`AuditEvent::from_parts`] taking the parts it keeps, so nothing is copied (the
    /// JavaScript shell's per-event path: its strings are already owned).
    pub(crate) fn from_owned_parts(
        user: Option<User>,
        action_type: String,
        category: Option<String>,
        details_json: Option<String>,
        limits: crate::rules::Limits,
    ) -> Result<AuditEvent, AuditError> {
        use crate::rules;
        rules::check_name("actionType", &action_type)?;
        let category = match category {
            Some(c) => {
                rules::check_name("category", &c)?;
                c
            }
            None => DEFAULT_CATEGORY.to_owned(),
        };
        let (user_uid, user_name) = match user {
            None => (None, None),
            Some(u) => {
                rules::check_user(&u.uid, u.name.as_deref())?;
                (Some(u.uid), u.name)
            }
        };
        if let Some(d) = &details_json {
            limits.details_size(d.len())?;
        }
        let born = now_millis();
        Ok(AuditEvent {
            uid: crate::random::uuid_v4(),
            action_type,
            category,
            ts: born,
            user_uid,
            user_name,
            details: details_json,
            stream_id: None,
            seq: None,
            prev_hash: None,
            hash: None,
            source: Source::Client,
            occurred_at: Some(born),
            targets: Vec::new(),
        })
    }

    /// Sets the event's targets after checking them against the rule table
    /// (README, "The input rules": `targets[]`). Call before the event is chained (the hash covers them).
    /// Out of line in the Workers build: most events have no targets, and V8 compiles a wasm
    /// function whole on its first call (bench/coldstart-v8.mjs).
    #[cfg_attr(feature = "memory-queue", inline(never))]
    pub fn set_targets(&mut self, targets: Vec<Target>) -> Result<(), AuditError> {
        crate::rules::check_targets(&targets)?;
        self.targets = targets;
        Ok(())
    }
}

impl AuditEvent {
    /// The length of this event as JSON, closely estimated without serialising it (batch byte
    /// bounds are decided per event, on the hot path): the text fields plus the fixed keys.
    /// Meant to be at least the written length for usual events: a body or record sized by it
    /// that came out longer would double its buffer (a batch's request body is held while the
    /// request is in flight).
    #[doc(hidden)]
    pub fn json_len(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(4, |s| s.len() + 2);
        // Keys, quotes and separators: 155 bytes; `ts` and `occurredAt` 13 digits each (until
        // 2286), `seq` up to 10 digits. The details are a JSON string of JSON text: each quote
        // in it gains a backslash (about one byte in five of usual details; a quarter allowed).
        191 + self.uid.len()
            + self.action_type.len()
            + self.category.len()
            + opt(&self.user_uid)
            + opt(&self.user_name)
            + self.details.as_ref().map_or(4, |d| d.len() + d.len() / 4 + 2)
            + opt(&self.stream_id)
            + opt(&self.prev_hash)
            + opt(&self.hash)
            + self
                .targets
                .iter()
                .map(|t| 40 + t.label.len() + t.uid.len() + t.role.as_ref().map_or(0, String::len))
                .sum::<usize>()
            + if self.targets.is_empty() { 0 } else { 13 }
    }
}

impl AuditEvent {
    /// Appends this event as one JSON object: the keys and values its `Serialize` gives (an
    /// element of the write statement's `$events`, and a durable-queue record), written directly.
    pub(crate) fn write_json(&self, out: &mut String) {
        use crate::json::{write_int, write_opt_str, write_str, write_uint};
        out.push_str("{\"UID\":");
        write_str(out, &self.uid);
        out.push_str(",\"eventType\":");
        write_str(out, &self.action_type);
        out.push_str(",\"eventCategory\":");
        write_str(out, &self.category);
        out.push_str(",\"ts\":");
        write_int(out, self.ts);
        out.push_str(",\"userUID\":");
        write_opt_str(out, self.user_uid.as_deref());
        out.push_str(",\"userName\":");
        write_opt_str(out, self.user_name.as_deref());
        out.push_str(",\"details\":");
        write_opt_str(out, self.details.as_deref());
        out.push_str(",\"streamId\":");
        write_opt_str(out, self.stream_id.as_deref());
        out.push_str(",\"seq\":");
        match self.seq {
            Some(n) => write_uint(out, n),
            None => out.push_str("null"),
        }
        out.push_str(",\"prevHash\":");
        write_opt_str(out, self.prev_hash.as_deref());
        out.push_str(",\"hash\":");
        write_opt_str(out, self.hash.as_deref());
        out.push_str(match self.source {
            Source::Client => ",\"source\":\"client\"",
            Source::Worker => ",\"source\":\"worker\"",
        });
        out.push_str(",\"occurredAt\":");
        match self.occurred_at {
            Some(n) => write_int(out, n),
            None => out.push_str("null"),
        }
        write_targets(out, &self.targets);
        out.push('}');
    }

    /// The event [`AuditEvent::write_json`] wrote (also one written by an older version: the
    /// chain, `source` and `occurredAt` may be missing). `None` when required fields are missing.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the browser's stores
    pub(crate) fn from_json(v: &crate::json::Json) -> Option<AuditEvent> {
        use crate::json::Json;
        let s = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
        Some(AuditEvent {
            uid: s("UID")?,
            action_type: s("eventType")?,
            category: s("eventCategory")?,
            ts: v.get("ts")?.as_i64()?,
            user_uid: s("userUID"),
            user_name: s("userName"),
            details: s("details"),
            stream_id: s("streamId"),
            seq: v.get("seq").and_then(Json::as_u64),
            prev_hash: s("prevHash"),
            hash: s("hash"),
            source: match v.get("source").and_then(Json::as_str) {
                Some("worker") => Source::Worker,
                _ => Source::Client,
            },
            occurred_at: v.get("occurredAt").and_then(Json::as_i64),
            targets: match v.get("targets") {
                None | Some(Json::Null) => Vec::new(),
                Some(t) => {
                    let mut list = Vec::new();
                    for x in t.as_array()? {
                        list.push(Target::from_json(x)?);
                    }
                    list
                }
            },
        })
    }

    /// Checks a built event against the rule table again (an event stored by an older version,
    /// or under other limits, may no longer pass).
    #[doc(hidden)]
    pub fn check(&self, limits: &crate::rules::Limits) -> Result<(), crate::rules::Violation> {
        use crate::rules;
        rules::check_name("actionType", &self.action_type)?;
        rules::check_name("category", &self.category)?;
        if let Some(uid) = &self.user_uid {
            rules::check_user(uid, self.user_name.as_deref())?;
        }
        if let Some(d) = &self.details {
            limits.details_size(d.len())?;
        }
        rules::check_targets(&self.targets)?;
        Ok(())
    }
}

/// The one place events are born, for the client logger and the ingest Worker alike: the rule
/// table, redaction (on the value), the details serialised once, a fresh UID and the time. The
/// hash chain is the caller's last step (the Worker first gives events their stored UIDs).
///
/// ```
/// use neo4j_audit::event::EventBuilder;
/// use neo4j_audit::{redact::Redactor, rules::Limits, User};
/// let b = EventBuilder::new(Redactor::default(), Limits::default());
/// let d = serde_json::json!({"doc": "d-1", "newPassword": "hunter2"});
/// let e = b.build(Some(&User::new("u-1")), "PASSWORD_CHANGED", Some("SECURITY"), Some(d)).unwrap();
/// assert_eq!(e.details.as_deref(), Some(r#"{"doc":"d-1","newPassword":"[REDACTED]"}"#));
/// assert!(b.build(None, "Doc opened", None, None).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct EventBuilder {
    redactor: crate::redact::Redactor,
    limits: crate::rules::Limits,
}

impl EventBuilder {
    /// A builder that redacts with `redactor` and checks against `limits`.
    pub fn new(redactor: crate::redact::Redactor, limits: crate::rules::Limits) -> Self {
        EventBuilder { redactor, limits }
    }

    /// The bounds this builder applies.
    pub fn limits(&self) -> crate::rules::Limits {
        self.limits
    }

    /// Validates, redacts and stamps one event (not chained).
    pub fn build(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        mut details: Option<serde_json::Value>,
    ) -> Result<AuditEvent, AuditError> {
        if let Some(d) = details.as_mut() {
            // The depth first: redaction recurses into the value, and a value nested thousands of
            // levels deep overflowed the stack there (the process aborted) before the rule refused it.
            if d.is_object() {
                if let Err(e) = self.limits.details_depth(d) {
                    if let Some(d) = details {
                        crate::rules::drop_flat(d);
                    }
                    return Err(e.into());
                }
            }
            self.redactor.apply(d);
        }
        let text = self.limits.details(details.as_ref())?;
        AuditEvent::from_checked_parts(user, action_type, category, text, self.limits)
    }

    /// Like [`EventBuilder::build`], with `details` as JSON text (what JavaScript's
    /// `JSON.stringify` gives, or `serde_json::to_string` of anything serialisable): checked
    /// against the same rules, redacted, and kept as given (numbers exactly as written) unless
    /// redaction changed it.
    ///
    /// ```
    /// use neo4j_audit::event::EventBuilder;
    /// use neo4j_audit::{redact::Redactor, rules::Limits};
    /// let b = EventBuilder::new(Redactor::default(), Limits::default());
    /// let e = b.build_json(None, "LOGIN", None, Some(r#"{"n":1.50,"apiKey":"k"}"#)).unwrap();
    /// assert_eq!(e.details.as_deref(), Some(r#"{"n":1.50,"apiKey":"[REDACTED]"}"#));
    /// assert!(b.build_json(None, "LOGIN", None, Some("[1]")).is_err());
    /// ```
    pub fn build_json(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&str>,
    ) -> Result<AuditEvent, AuditError> {
        self.build_text(user, action_type, category, details.map(str::to_owned))
    }

    /// [`EventBuilder::build_json`] taking the text it keeps: [`crate::Action::details`]'s, the
    /// JSON its `Serialize` value was written as (its fields in the order the value gives them).
    pub(crate) fn build_text(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<String>,
    ) -> Result<AuditEvent, AuditError> {
        let text = self.details_text(details)?;
        let event = AuditEvent::from_checked_parts(user, action_type, category, text, self.limits)?;
        // Text from a Rust caller may give a member name twice (JSON.stringify never does; a
        // `Serialize` value can, e.g. a `#[serde(flatten)]` map holding a field's name);
        // checked once the other rules (the size bound first) have passed.
        if let Some(d) = &event.details {
            self.limits.details_names(d)?;
        }
        Ok(event)
    }

    /// [`EventBuilder::build_json`] for details whose member names were already checked (the
    /// Worker's body parser checks them on its tree, `rules::Limits::details_of`).
    #[cfg_attr(not(feature = "ingest"), allow(dead_code))]
    pub(crate) fn build_json_names_checked(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&str>,
    ) -> Result<AuditEvent, AuditError> {
        // One copy of the details when redaction changes nothing (as before), two otherwise.
        let text = self.details_text(details.map(str::to_owned))?;
        AuditEvent::from_checked_parts(user, action_type, category, text, self.limits)
    }

    /// [`EventBuilder::build_json`] taking the parts it keeps (no copies; the details text is
    /// kept as given unless redaction changed it). For the JavaScript shell only: its details
    /// text is `JSON.stringify`'s, which never gives a member name twice (an object's own keys
    /// are unique), so the rule table's repeated-name check would find nothing there.
    pub(crate) fn build_json_owned(
        &self,
        user: Option<User>,
        action_type: String,
        category: Option<String>,
        details: Option<String>,
    ) -> Result<AuditEvent, AuditError> {
        let text = self.details_text(details)?;
        AuditEvent::from_owned_parts(user, action_type, category, text, self.limits)
    }

    /// The details as stored: checked against the rules, redacted, and kept as given (numbers
    /// exactly as written) unless redaction changed it or it was not compact.
    fn details_text(&self, details: Option<String>) -> Result<Option<String>, AuditError> {
        let Some(text) = details else { return Ok(None) };
        // Most details have no key to redact and are compact: checked in one pass that builds
        // nothing, and kept as given.
        match self.limits.details_scan(&text, &|k| self.redactor.may_redact(k))? {
            None => return Ok(None),
            Some((true, false)) => return Ok(Some(text)),
            Some(_) => {}
        }
        Ok(Some(self.rewritten(text)))
    }

    /// A key to redact or whitespace to drop: the text is rewritten from its tree (which
    /// parses: [`EventBuilder::details_text`]'s scan accepted it). Out of line in the Workers
    /// build: most details take the scan's way, and V8 compiles a wasm function whole on its
    /// first call (inlined, a Worker's first event compiled the tree's writer and drops for
    /// nothing; bench/coldstart-v8.mjs).
    #[cfg_attr(feature = "memory-queue", inline(never))]
    fn rewritten(&self, text: String) -> String {
        let Ok((mut tree, _)) = crate::json::parse_compact(&text, self.limits.max_details_depth) else {
            return text;
        };
        self.redactor.apply_json(&mut tree);
        let mut out = String::with_capacity(text.len());
        tree.write(&mut out);
        out
    }
}

/// Milliseconds since the Unix epoch, from the platform clock.
pub fn now_millis() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

/// How many ms a driver waits for a timer the machine set for `at` (on [`steady_millis`]'s
/// clock), read at `now`: never less than the time left. Both readings dropped a fraction of a
/// millisecond, so the plain difference could fire up to 1 ms before the bound the machine meant
/// (`close_within(300 ms)` gave up after 299.9 ms: the machine's `now` read at x.99, the driver's
/// at (x+1).01); one more ms, unless the timer is already past.
pub(crate) fn millis_until(at: i64, now: i64) -> u64 {
    if at < now {
        0
    } else {
        at.abs_diff(now).saturating_add(1)
    }
}

/// The delivery's clock (src/machine.rs: batches, retries and their budget, the drain, ages in
/// the queue; src/schema.rs' waits): milliseconds since the epoch as the wall clock read at its
/// first use, advanced from there by a monotonic clock (`Instant`; `performance.now()` on wasm).
/// A wall clock set back (NTP, the user) held a retry back by as long (redteam15: an hour's
/// step, an hour's stall), and one set forward gave a retry budget up at once. Events keep their
/// wall-clock birth time ([`now_millis`], their `timestamp`).
pub(crate) fn steady_millis() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        #[wasm_bindgen::prelude::wasm_bindgen]
        extern "C" {
            // `catch` at the first use: a host without `performance` (none known) falls back to
            // the wall clock. Then without: the glue's exception wrapper cost more than the read.
            #[wasm_bindgen(catch, js_namespace = performance, js_name = now)]
            fn performance_now_first() -> Result<f64, wasm_bindgen::JsValue>;
            #[wasm_bindgen(js_namespace = performance, js_name = now)]
            fn performance_now() -> f64;
        }
        thread_local! {
            // The wall clock minus the monotonic one at the first use; NaN: no monotonic clock.
            static OFFSET: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
        }
        OFFSET.with(|o| match o.get() {
            Some(v) if v.is_nan() => js_sys::Date::now() as i64,
            Some(v) => (v + performance_now()) as i64,
            None => {
                let Ok(mono) = performance_now_first() else {
                    o.set(Some(f64::NAN));
                    return js_sys::Date::now() as i64;
                };
                let v = js_sys::Date::now() - mono;
                o.set(Some(v));
                (v + mono) as i64
            }
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static START: std::sync::OnceLock<(std::time::Instant, i64)> = std::sync::OnceLock::new();
        let (at, wall) = START.get_or_init(|| (std::time::Instant::now(), now_millis()));
        wall.saturating_add(at.elapsed().as_millis().min(i64::MAX as u128) as i64)
    }
}

/// `,"targets":[{"label":…,"uid":…,"role":…},…]`, or nothing when there are none (events without
/// targets keep their earlier shape): the stored event's and the read side's JSON.
pub(crate) fn write_targets(out: &mut String, targets: &[Target]) {
    use crate::json::{write_opt_str, write_str};
    if targets.is_empty() {
        return;
    }
    out.push_str(",\"targets\":[");
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"label\":");
        write_str(out, &t.label);
        out.push_str(",\"uid\":");
        write_str(out, &t.uid);
        out.push_str(",\"role\":");
        write_opt_str(out, t.role.as_deref());
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// CI failure (stop 47): `close_within(300 ms)` returned after 299.9 ms. A timer the machine
    /// set at 1000.99 ms (read 1000) for 300 ms and waited for from 1001.01 ms (read 1001) is
    /// meant for 1300.99; the driver's wait must not end before. (The plain difference, 299,
    /// ended at 1300.01.) Every real time in 0.01 ms steps across the boundary.
    #[test]
    fn a_timer_never_fires_before_its_bound() {
        for set in 0..100 {
            for waited in set..200 {
                let (set, waited) = (1000.0 + set as f64 / 100.0, 1000.0 + waited as f64 / 100.0);
                let at = set.floor() as i64 + 300;
                let fires = waited + millis_until(at, waited.floor() as i64) as f64;
                assert!(fires >= set + 300.0, "set at {set}, waited from {waited}: fires at {fires}");
                assert!(fires <= set + 302.0, "set at {set}, waited from {waited}: fires at {fires}");
            }
        }
        assert_eq!(millis_until(1000, 1001), 0, "already past");
    }

    #[test]
    fn builds_with_defaults() {
        let e = AuditEvent::build(None, "LOGIN", None, None, 100).unwrap();
        assert_eq!(e.category, DEFAULT_CATEGORY);
        assert!(e.user_uid.is_none() && e.user_name.is_none() && e.details.is_none());
        assert_eq!(uuid::Uuid::parse_str(&e.uid).unwrap().get_version_num(), 4);
        assert!(e.ts > 1_600_000_000_000);
    }

    #[test]
    fn from_parts_applies_every_details_rule() {
        // Before: only the size rule, so text that is not an object, too deep, with a lone
        // surrogate or a member name twice became an event (and `deliver`/`write` stored it).
        for bad in ["[1]", "1", "not json", r#"{"a":1,"a":2}"#, r#"{"a":{"b":1,"b":2}}"#, r#"{"s":"\ud800"}"#] {
            assert!(AuditEvent::from_parts(None, "X", None, Some(bad.into()), 100).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", r#"{"a":"#.repeat(40), "}".repeat(40));
        assert!(AuditEvent::from_parts(None, "X", None, Some(deep), 1000).is_err());
        assert!(
            AuditEvent::from_parts(None, "X", None, Some(format!(r#"{{"s":"{}"}}"#, "x".repeat(200))), 100).is_err()
        );
        let ok = AuditEvent::from_parts(None, "X", None, Some(r#"{"n": 1.50}"#.into()), 100).unwrap();
        assert_eq!(ok.details.as_deref(), Some(r#"{"n": 1.50}"#), "kept as given");
        for none in ["null", "{}"] {
            assert!(AuditEvent::from_parts(None, "X", None, Some(none.into()), 100).unwrap().details.is_none());
        }
    }

    #[test]
    fn empty_details_are_absent() {
        let e = AuditEvent::build(None, "X", None, Some(&json!({})), 100).unwrap();
        assert!(e.details.is_none());
    }

    #[test]
    fn rejects_bad_input() {
        let u = User::new("");
        assert!(AuditEvent::build(Some(&u), "X", None, None, 100).is_err());
        assert!(AuditEvent::build(None, "  ", None, None, 100).is_err());
        assert!(AuditEvent::build(None, "X", Some(""), None, 100).is_err());
        assert!(AuditEvent::build(None, "A\nB", None, None, 100).is_err());
        assert!(AuditEvent::build(None, &"x".repeat(300), None, None, 100).is_err());
        assert!(AuditEvent::build(None, "Doc opened", None, None, 100).is_err(), "the Worker's charset");
        assert!(AuditEvent::build(None, "X", None, Some(&json!([1])), 100).is_err());
        let big = json!({"k": "v".repeat(200)});
        let err = AuditEvent::build(None, "X", None, Some(&big), 100).unwrap_err();
        // The public Rust API names its own parameter, not the JavaScript key.
        assert!(err.to_string().contains("max_details_bytes"), "{err}");
        let err = AuditEvent::from_parts(None, "X", None, Some(big.to_string()), 100).unwrap_err();
        assert!(err.to_string().contains("max_details_bytes"), "{err}");
    }

    #[test]
    fn serialises_as_statement_parameter() {
        let u = User::new("u1").name("Ann");
        let e = AuditEvent::build(Some(&u), "LOGIN", Some("SECURITY"), Some(&json!({"a":1})), 100).unwrap();
        let v = serde_json::to_value(&e).unwrap();
        for k in ["UID", "eventType", "eventCategory", "ts", "userUID", "userName", "details"] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["details"], json!(r#"{"a":1}"#));
        assert_eq!((v["source"].clone(), v["occurredAt"].clone()), (json!("client"), json!(e.ts)));
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        // The direct writer gives the same JSON, and reads it back.
        let mut direct = String::new();
        e.write_json(&mut direct);
        assert_eq!(direct, serde_json::to_string(&e).unwrap());
        let mut w = e.clone();
        (w.source, w.occurred_at, w.seq, w.user_name) = (Source::Worker, None, Some(7), Some("Ann \"A\"\n".into()));
        let mut direct = String::new();
        w.write_json(&mut direct);
        assert_eq!(direct, serde_json::to_string(&w).unwrap());
        assert_eq!(AuditEvent::from_json(&crate::json::parse(&direct, 4).unwrap()), Some(w.clone()));
        // With targets: the same JSON as serde's, read back.
        w.set_targets(vec![Target::new("Document", "doc-\"1").role("subject"), Target::new("Folder", "f-1")]).unwrap();
        let mut direct = String::new();
        w.write_json(&mut direct);
        assert_eq!(direct, serde_json::to_string(&w).unwrap());
        assert!(direct.ends_with(r#""targets":[{"label":"Document","uid":"doc-\"1","role":"subject"},{"label":"Folder","uid":"f-1","role":null}]}"#), "{direct}");
        assert_eq!(AuditEvent::from_json(&crate::json::parse(&direct, 4).unwrap()), Some(w));
    }

    #[test]
    fn options_as_json() {
        let parse = |t: &str| LogOptions::from_json(&crate::json::parse(t, 4).unwrap());
        let o = parse(
            r#"{"targets":[{"label":"Document","uid":"d","role":"subject"},{"label":"F","uid":"f","role":null}]}"#,
        )
        .unwrap();
        assert_eq!(o.targets, vec![Target::new("Document", "d").role("subject"), Target::new("F", "f")]);
        assert_eq!(parse("{}").unwrap(), LogOptions::default());
        for (bad, says) in [
            ("[]", "object"),
            (r#"{"target":[]}"#, "unknown option `target`; logUserAction's options are: targets"),
            (r#"{"targets":"Document:d"}"#, "array"),
            (r#"{"targets":[{"label":"D"}]}"#, "targets[0]"),
            (r#"{"targets":[{"label":"D","uid":"d","x":1}]}"#, "targets[0]"),
            (r#"{"targets":[{"label":"D","uid":1}]}"#, "targets[0]"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_event_queued_before_provenance_still_reads() {
        let old = json!({"UID": "u", "eventType": "X", "eventCategory": "C", "ts": 5, "userUID": null,
            "userName": null, "details": null, "streamId": "s", "seq": 0, "prevHash": "0", "hash": "h"});
        let e: AuditEvent = serde_json::from_value(old.clone()).unwrap();
        assert_eq!((e.source, e.occurred_at), (Source::Client, None));
        let direct = AuditEvent::from_json(&crate::json::parse(&old.to_string(), 4).unwrap());
        assert_eq!(direct, Some(e));
    }

    #[test]
    fn uids_are_unique() {
        let a = AuditEvent::build(None, "X", None, None, 10).unwrap();
        let b = AuditEvent::build(None, "X", None, None, 10).unwrap();
        assert_ne!(a.uid, b.uid);
    }
}

#[cfg(test)]
mod deep_details_tests {
    use super::EventBuilder;
    use crate::redact::Redactor;
    use crate::rules::Limits;
    use serde_json::Value;

    /// A Rust caller's details nested far deeper than the rule allows (built in a loop, which
    /// serde_json's parser would have stopped at 128 levels) are refused as invalid input. They
    /// overflowed the stack instead (the process aborted): redaction recursed into them before
    /// the depth rule was checked, the depth was counted by recursion, and the refused value was
    /// dropped by recursion.
    #[test]
    fn details_nested_a_hundred_thousand_levels_are_refused_not_a_stack_overflow() {
        // On a thread with a small stack, so the test does not depend on the runner's.
        let err = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = (0..100_000).fold(Value::from(1), |acc, _| Value::Array(vec![acc]));
                let mut details = serde_json::Map::new();
                details.insert("d".into(), deep);
                let b = EventBuilder::new(Redactor::default(), Limits::default());
                b.build(None, "DEEP", None, Some(Value::Object(details))).unwrap_err()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(
            matches!(err, crate::AuditError::InvalidInput(ref m) if m.contains("details are nested 100001 levels deep, more than 16")),
            "{err:?}"
        );
    }
}
