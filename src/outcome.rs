//! Reading Neo4j's answer: a committed result (its rows) or a typed [`AuditError`].
//!
//! Neo4j's transactional endpoint answers 200/201 even when the statement failed: the failure is
//! in the body's `errors` array and the transaction was rolled back. So "2xx" alone never means
//! committed; only a 2xx whose body parses and has no errors does.

use crate::error::cat;
use serde_json::Value;

use crate::config::Api;
use crate::error::AuditError;
use crate::json::{self, Json};
use crate::transport::{parse_retry_after, HttpResponse};

/// The rows of the (single) statement's result.
pub type Rows = Vec<Vec<Value>>;

/// [`Rows`] as the write path reads them (no `serde_json` in the browser build).
pub(crate) type JsonRows = Vec<Vec<Json>>;

/// Nesting accepted in an answer (rows of maps of lists...).
const MAX_ANSWER_DEPTH: usize = 128;

/// Turns an HTTP answer into rows or an error.
pub fn interpret(api: Api, database: &str, resp: &HttpResponse) -> Result<Rows, AuditError> {
    interpret_json(api, database, resp, true).map(to_rows)
}

/// The rows as `serde_json` values.
pub(crate) fn to_rows(rows: JsonRows) -> Rows {
    rows.iter().map(|r| r.iter().map(Json::to_serde).collect()).collect()
}

/// [`interpret`], keeping the write path's own JSON tree; `url_path`: whether the configured
/// `url` has a path (what a 404 blames).
pub(crate) fn interpret_json(
    api: Api,
    database: &str,
    resp: &HttpResponse,
    url_path: bool,
) -> Result<JsonRows, AuditError> {
    let body = json::parse(&resp.body, MAX_ANSWER_DEPTH).ok();
    // The usual answer (2xx, JSON, no errors, a result) here; every other in `failure`, a
    // function of its own: a Worker's first event runs only this part, and V8 compiles a wasm
    // function whole on its first call (bench/coldstart.mjs).
    match body {
        Some(b) if (200..300).contains(&resp.status) && !has_errors(&b) => match rows(api, b) {
            Some(rows) => Ok(rows),
            None => Err(failure(api, database, resp, None, true, url_path)),
        },
        body => Err(failure(api, database, resp, body, false, url_path)),
    }
}

/// The setting that holds Neo4j's URL, as the 404 hints below name it: the logger's `url`, and in
/// the Worker deployable's build the Worker's `NEO4J_URL` (its log lines name its settings, never
/// the library's fields: the operator has no setting called `url`).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
macro_rules! url_setting {
    () => {
        "url"
    };
}
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
macro_rules! url_setting {
    () => {
        "NEO4J_URL"
    };
}

/// Added to a 404 from Neo4j's endpoint: Neo4j (`Request.Invalid` "Not Found") or a server in
/// front of it serves no such path, so the `url`'s path is wrong (Neo4j's own paths, `/db/…`,
/// are the library's to add; a path is kept as the prefix a reverse proxy serves Neo4j under).
const WRONG_PATH: &str = concat!(
    " (",
    url_setting!(),
    " must be Neo4j's base URL: scheme, host and port, and a path only if a reverse proxy \
     serves Neo4j under that prefix; this ",
    url_setting!(),
    "'s path is likely wrong)"
);

/// Added to a 404 when the `url` has no path: Neo4j serves `/db/…` at its base URL, so what
/// answered is another service on that port (blaming a path sent readers after one the URL
/// does not have).
const NOT_NEO4J: &str = concat!(
    " (the ",
    url_setting!(),
    " has no path, and Neo4j serves /db/… at its base URL: the server on this port is \
     not Neo4j's HTTP API; check the host and port, Neo4j's HTTP port is 7474 by default)"
);

/// With `api: "query"`, a 404 may as well be a server without the Query API.
const NO_QUERY_API: &str = "; or this Neo4j has no Query API (5.25+): api \"tx\" uses tx/commit";

/// The 404 hint for `api` and a `url` with a path (`url_path`) or without.
fn wrong_path(api: Api, url_path: bool) -> String {
    let hint = if url_path { WRONG_PATH } else { NOT_NEO4J };
    match api {
        Api::Tx => hint.into(),
        Api::Query => cat(&[&hint[..hint.len() - 1], NO_QUERY_API, ")"]),
    }
}

/// Whether the answer's `errors` array has an entry.
fn has_errors(body: &Json) -> bool {
    body.get("errors").and_then(Json::as_array).is_some_and(|e| !e.is_empty())
}

/// The error of an answer that is not the usual one: `body` as parsed (`None`: not JSON, or
/// `without_result`: a 2xx JSON answer without errors whose result is missing).
#[inline(never)]
fn failure(
    api: Api,
    database: &str,
    resp: &HttpResponse,
    body: Option<Json>,
    without_result: bool,
    url_path: bool,
) -> AuditError {
    let status = || crate::error::num(u64::from(resp.status));
    if without_result {
        return AuditError::UnexpectedResponse(cat(&["HTTP ", &status(), " without a result: ", &snippet(&resp.body)]));
    }
    let first_error = body.as_ref().and_then(first_neo4j_error);

    if resp.status == 401 || resp.status == 403 {
        let e = AuditError::Unauthorized { status: resp.status, code: first_error.map(security) };
        // A redirect to another origin: fetch (and reqwest) sent it no Authorization header, so
        // the refusal says nothing of the credentials (it read as a wrong password). (Not in the
        // Worker's build, at its size budget: its NEO4J_URL's 401 reads as before.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        return redirected(e, resp, "url");
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        return e;
    }
    if let Some((code, message)) = first_error {
        // Neo4j answers a path it does not serve (a `url` with a path, e.g. ".../db" or
        // ".../browser") with 404 `Request.Invalid` "Not Found": the URL's fault, not a
        // statement's, and not a reason to blame schema rights.
        if resp.status == 404 && code == "Neo.ClientError.Request.Invalid" {
            return AuditError::Http {
                status: 404,
                snippet: cat(&["Not Found", &wrong_path(api, url_path)]),
                retry_after_ms: None,
            };
        }
        if code == "Neo.ClientError.Database.DatabaseNotFound" {
            return AuditError::DatabaseNotFound(database.to_owned());
        }
        if code.starts_with("Neo.ClientError.Security.") {
            return AuditError::Unauthorized { status: resp.status, code: Some(security((code, message))) };
        }
        return AuditError::Neo4j { code, message };
    }
    if !(200..300).contains(&resp.status) {
        // A 404 without Neo4j's errors: what stands in front of it (a reverse proxy) serves no such
        // path, so the url's prefix is wrong (a 404 is not retried: it fails at once).
        let mut snippet = snippet(&resp.body);
        if resp.status == 404 {
            snippet.push_str(&wrong_path(api, url_path));
        }
        return AuditError::Http {
            status: resp.status,
            snippet,
            retry_after_ms: resp.retry_after.as_deref().and_then(parse_retry_after),
        };
    }
    // 2xx without errors: the body was not JSON (a JSON one is the usual answer or `without_result`).
    AuditError::UnexpectedResponse(cat(&["HTTP ", &status(), " with a body that is not JSON: ", &snippet(&resp.body)]))
}

/// A `Security` error's text in [`AuditError::Unauthorized`]: its code, for `Forbidden` Neo4j's
/// message too, and for `CredentialsExpired` what to do. The login worked but a role may not run the statement, and the message says which
/// privilege is missing ("Create node with labels 'AuditEvent' on database 'neo4j' is not allowed
/// for user 'audit' with roles [PUBLIC, reader]."); the code alone read as a refused password.
/// (Not in the Worker's build, at its size budget: its own Neo4j user's refusal names the code.)
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[inline(never)]
fn security((code, message): (String, String)) -> String {
    if code == FORBIDDEN && !message.is_empty() {
        cat(&[&code, ": ", &message])
    } else if code == "Neo.ClientError.Security.CredentialsExpired" {
        // A user made without `CHANGE NOT REQUIRED` (Neo4j's default): the password is right,
        // and the code alone read as a wrong one.
        cat(&[&code, ": the password is right, but Neo4j requires this user to change it first (ALTER CURRENT USER SET PASSWORD FROM '…' TO '…', or CREATE USER … CHANGE NOT REQUIRED)"])
    } else {
        code
    }
}
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
fn security((code, _): (String, String)) -> String {
    code
}

/// Neo4j's code for a statement the user's roles do not allow (the login itself worked).
pub(crate) const FORBIDDEN: &str = "Neo.ClientError.Security.Forbidden";

/// `(code, message)` of the first entry of a non-empty `errors` array; the message on one line
/// (Neo4j's own can break one, e.g. `ConstraintCreationFailed`'s "…):\nBoth Node(0) and …"), so
/// `Display`, `lastError`, `schemaWarning` and the console line built from it are one line each.
fn first_neo4j_error(body: &Json) -> Option<(String, String)> {
    let e = body.get("errors")?.as_array()?.first()?;
    let code = e.get("code").and_then(Json::as_str).unwrap_or("Neo.Unknown").to_owned();
    let message = one_line(e.get("message").and_then(Json::as_str).unwrap_or(""));
    Some((code, message))
}

/// Takes the rows out of the answer (no copy of their values).
fn rows(api: Api, body: Json) -> Option<JsonRows> {
    fn take(v: Json, key: &str) -> Option<Json> {
        match v {
            Json::Obj(m) => {
                for (k, v) in m {
                    if k == key {
                        return Some(v);
                    }
                }
                None
            }
            _ => None,
        }
    }
    fn arr(v: Json) -> Option<Vec<Json>> {
        match v {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }
    let list = match api {
        Api::Tx => {
            let first = arr(take(body, "results")?)?.into_iter().next()?;
            arr(take(first, "data")?)?
        }
        Api::Query => arr(take(take(body, "data")?, "values")?)?,
    };
    // A loop rather than `collect()` into `Option<Vec<_>>`: each such chain was its own
    // in-place-collect instance in the .wasm (about 0.5 KB for these two).
    let mut rows = Vec::with_capacity(list.len());
    for d in list {
        rows.push(arr(if api == Api::Tx { take(d, "row")? } else { d })?);
    }
    Some(rows)
}

/// A 401/403 answered after a redirect to another origin (`resp.moved_to`): fetch (and reqwest)
/// sent that origin no Authorization header, so the refusal says nothing of the credentials (it
/// read as a wrong password or token). The hint names the origin and the setting (`field`: `url`,
/// or `endpoint` in client mode) to give the final URL in. Any other answer's error as it is.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) fn redirected(e: AuditError, resp: &HttpResponse, field: &str) -> AuditError {
    match &resp.moved_to {
        Some(at) => e.with_hint(&cat(&[
            "the request was redirected to another origin, ",
            at,
            ", which is sent no credentials (no Authorization header): configure the final URL as ",
            field,
        ])),
        None => e,
    }
}

/// The start of a body for an error text: at most 200 characters, on one line (an HTML error
/// page's line breaks spread `Display` and every log line holding it over many lines).
pub(crate) fn snippet(body: &str) -> String {
    let head = first_chars(body, 200);
    let mut s = one_line(head);
    if head.len() < body.len() {
        s.push('…');
    }
    s
}

/// `text` with each line break and tab as a space (one for one: [`crate::error::scrub`] finds
/// a secret in it the same way).
pub(crate) fn one_line(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        s.push(if matches!(c, '\r' | '\n' | '\t') { ' ' } else { c });
    }
    s
}

/// The first `n` characters of `text` (a loop over its char indices: collecting
/// `chars().take(n)` into a `String` was an instance of its own in the .wasm).
pub(crate) fn first_chars(text: &str, n: usize) -> &str {
    for (count, (i, _)) in text.char_indices().enumerate() {
        if count == n {
            return &text[..i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, body: Value) -> HttpResponse {
        HttpResponse { moved_to: None, status, retry_after: None, body: body.to_string() }
    }

    #[test]
    fn a_body_in_an_error_text_is_one_line() {
        // A server that is not Neo4j (a proxy, another service on the port) answers a page of HTML.
        let page = "<!DOCTYPE HTML>\n<html lang=\"en\">\r\n\t<head>\n<title>Error response</title>";
        let r = HttpResponse { moved_to: None, status: 501, retry_after: None, body: page.into() };
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string();
        assert_eq!(e, "HTTP 501: <!DOCTYPE HTML> <html lang=\"en\">   <head> <title>Error response</title>");
        let long = format!("{}\n{}", "a".repeat(150), "b".repeat(100));
        let r = HttpResponse { moved_to: None, status: 200, retry_after: None, body: long };
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string();
        assert!(!e.contains('\n') && e.ends_with("bbb…"), "{e}");
    }

    #[test]
    fn a_neo4j_message_in_an_error_text_is_one_line() {
        // What Neo4j 5.26 answers CREATE CONSTRAINT … REQUIRE t.name IS UNIQUE over two AuditTrail
        // nodes of one name (the Python log_user_action's racing first calls): a line break inside.
        let message = "Unable to create Constraint( name='audittrail_name_unique', type='UNIQUENESS', schema=(:AuditTrail {name}) ):\n\
                       Both Node(0) and Node(1) have the label `AuditTrail` and property `name` = 'default'.";
        let r = resp(
            200,
            json!({"results":[],"errors":[{"code":"Neo.DatabaseError.Schema.ConstraintCreationFailed","message":message}]}),
        );
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string();
        assert_eq!(
            e,
            "neo4j error Neo.DatabaseError.Schema.ConstraintCreationFailed: Unable to create Constraint( \
             name='audittrail_name_unique', type='UNIQUENESS', schema=(:AuditTrail {name}) ): Both Node(0) and Node(1) \
             have the label `AuditTrail` and property `name` = 'default'."
        );
    }

    #[test]
    fn tx_success_rows() {
        let r = resp(200, json!({"results":[{"columns":["written"],"data":[{"row":[3],"meta":[null]}]}],"errors":[]}));
        assert_eq!(interpret(Api::Tx, "neo4j", &r).unwrap(), vec![vec![json!(3)]]);
    }

    #[test]
    fn query_success_rows() {
        let r = resp(202, json!({"data":{"fields":["written"],"values":[[1]]},"bookmarks":[]}));
        assert_eq!(interpret(Api::Query, "neo4j", &r).unwrap(), vec![vec![json!(1)]]);
    }

    #[test]
    fn ok_status_with_errors_is_a_failure() {
        let r = resp(
            200,
            json!({"results":[],"errors":[{"code":"Neo.ClientError.Statement.SyntaxError","message":"bad"}]}),
        );
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err();
        assert_eq!(
            e,
            AuditError::Neo4j { code: "Neo.ClientError.Statement.SyntaxError".into(), message: "bad".into() }
        );
    }

    #[test]
    fn auth_and_database() {
        let r = resp(401, json!({"errors":[{"code":"Neo.ClientError.Security.Unauthorized","message":"x"}]}));
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::Unauthorized { status: 401, .. })));
        let r = resp(404, json!({"errors":[{"code":"Neo.ClientError.Database.DatabaseNotFound","message":"x"}]}));
        assert_eq!(interpret(Api::Query, "nope", &r), Err(AuditError::DatabaseNotFound("nope".into())));
    }

    /// A statement the user's roles do not allow (Enterprise, Aura: a `reader` role) keeps
    /// Neo4j's message, which names the missing privilege: the code alone read as a refused
    /// password. Both forms: inside a 200 (tx/commit) and as a 403 (the Query API).
    #[test]
    fn a_forbidden_statement_keeps_neo4js_message() {
        let m = "Create node with labels 'AuditEvent' on database 'neo4j' is not allowed for user 'audit' with roles [PUBLIC, reader].";
        let body = json!({"results": [], "errors": [{"code": "Neo.ClientError.Security.Forbidden", "message": m}]});
        for (api, status) in [(Api::Tx, 200), (Api::Query, 403)] {
            let e = interpret(api, "neo4j", &resp(status, body.clone())).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("authentication failed: HTTP {status} (Neo.ClientError.Security.Forbidden: {m})")
            );
            assert!(!e.is_retryable());
        }
        // The login's own refusal is the code alone, as before.
        let r = resp(
            401,
            json!({"errors":[{"code":"Neo.ClientError.Security.Unauthorized","message":"The client is unauthorized due to authentication failure."}]}),
        );
        assert_eq!(
            interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string(),
            "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized)"
        );
    }

    /// A 401 from another origin than the URL's, after a redirect (which sends it no
    /// Authorization header), says so instead of reading as a wrong password.
    #[test]
    fn a_refusal_after_a_redirect_to_another_origin_names_it() {
        let mut r = resp(401, json!({"errors":[{"code":"Neo.ClientError.Security.Unauthorized","message":"x"}]}));
        r.moved_to = Some("http://127.0.0.1:7474".into());
        assert_eq!(
            interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string(),
            "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized; the request was redirected to \
             another origin, http://127.0.0.1:7474, which is sent no credentials (no Authorization header): configure \
             the final URL as url)"
        );
        r.body = String::new();
        assert!(interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string().starts_with(
            "authentication failed: HTTP 401 (the request was redirected to another origin, http://127.0.0.1:7474,"
        ));
    }

    #[test]
    fn not_found_path_is_the_urls_fault() {
        // What Neo4j 5.26 answers a POST to http://host:7474/db/db/neo4j/tx/commit (url ".../db").
        let r = resp(404, json!({"errors":[{"code":"Neo.ClientError.Request.Invalid","message":"Not Found"}]}));
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err();
        assert!(matches!(e, AuditError::Http { status: 404, .. }), "{e:?}");
        assert!(!e.is_retryable());
        assert!(e.to_string().starts_with("HTTP 404: Not Found (url must be Neo4j's base URL"), "{e}");
        assert!(e.to_string().ends_with("this url's path is likely wrong)"), "{e}");
        // A server in front of Neo4j (a reverse proxy with another prefix): its page, and the same hint.
        let r =
            HttpResponse { moved_to: None, status: 404, retry_after: None, body: "<html>404 Not Found</html>".into() };
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err();
        assert!(!e.is_retryable());
        assert!(e.to_string().starts_with("HTTP 404: <html>404 Not Found</html> (url must be Neo4j's base URL"), "{e}");
        // With the Query API, the 404 may also be a Neo4j without it (before 5.25): said too.
        let r = resp(404, json!({"errors":[{"code":"Neo.ClientError.Request.Invalid","message":"Not Found"}]}));
        let e = interpret(Api::Query, "neo4j", &r).unwrap_err().to_string();
        assert!(e.ends_with("likely wrong; or this Neo4j has no Query API (5.25+): api \"tx\" uses tx/commit)"), "{e}");
        // A url without a path has none to blame: what answered is not Neo4j's HTTP API.
        let r = HttpResponse {
            moved_to: None,
            status: 404,
            retry_after: None,
            body: "Cannot POST /db/neo4j/tx/commit".into(),
        };
        let e = interpret_json(Api::Tx, "neo4j", &r, false).unwrap_err().to_string();
        assert_eq!(
            e,
            "HTTP 404: Cannot POST /db/neo4j/tx/commit (the url has no path, and Neo4j serves /db/… at its base URL: \
             the server on this port is not Neo4j's HTTP API; check the host and port, Neo4j's HTTP port is 7474 by default)"
        );
        assert!(!e.contains("path is likely wrong"), "{e}");
        let e = interpret_json(Api::Query, "neo4j", &r, false).unwrap_err().to_string();
        assert!(
            e.ends_with("7474 by default; or this Neo4j has no Query API (5.25+): api \"tx\" uses tx/commit)"),
            "{e}"
        );
        // Other statuses keep their body alone.
        let r = HttpResponse { moved_to: None, status: 418, retry_after: None, body: "teapot".into() };
        assert_eq!(interpret(Api::Tx, "neo4j", &r).unwrap_err().to_string(), "HTTP 418: teapot");
    }

    #[test]
    fn non_json_and_5xx() {
        let r = HttpResponse { moved_to: None, status: 503, retry_after: Some("3".into()), body: "busy".into() };
        assert!(matches!(
            interpret(Api::Tx, "neo4j", &r),
            Err(AuditError::Http { status: 503, retry_after_ms: Some(3000), .. })
        ));
        let r = HttpResponse { moved_to: None, status: 200, retry_after: None, body: "<html>".into() };
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::UnexpectedResponse(_))));
        let r = resp(200, json!({"results":[],"errors":[]}));
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::UnexpectedResponse(_))));
    }
}
