//! Reading Neo4j's answer: a committed result (its rows) or a typed [`AuditError`].
//!
//! Neo4j's transactional endpoint answers 200/201 even when the statement failed: the failure is
//! in the body's `errors` array and the transaction was rolled back. So "2xx" alone never means
//! committed; only a 2xx whose body parses and has no errors does.

use serde_json::Value;

use crate::config::Api;
use crate::error::AuditError;
use crate::transport::{parse_retry_after, HttpResponse};

/// The rows of the (single) statement's result.
pub type Rows = Vec<Vec<Value>>;

/// Turns an HTTP answer into rows or an error.
pub fn interpret(api: Api, database: &str, resp: &HttpResponse) -> Result<Rows, AuditError> {
    let body: Option<Value> = serde_json::from_str(&resp.body).ok();
    let first_error = body.as_ref().and_then(first_neo4j_error);

    if resp.status == 401 || resp.status == 403 {
        return Err(AuditError::Unauthorized { status: resp.status, code: first_error.map(|e| e.0) });
    }
    if let Some((code, message)) = first_error {
        if code == "Neo.ClientError.Database.DatabaseNotFound" {
            return Err(AuditError::DatabaseNotFound(database.to_owned()));
        }
        if code.starts_with("Neo.ClientError.Security.") {
            return Err(AuditError::Unauthorized { status: resp.status, code: Some(code) });
        }
        return Err(AuditError::Neo4j { code, message });
    }
    if !(200..300).contains(&resp.status) {
        return Err(AuditError::Http {
            status: resp.status,
            snippet: snippet(&resp.body),
            retry_after_ms: resp.retry_after.as_deref().and_then(parse_retry_after),
        });
    }
    let body = body.ok_or_else(|| {
        AuditError::UnexpectedResponse(format!(
            "HTTP {} with a body that is not JSON: {}",
            resp.status,
            snippet(&resp.body)
        ))
    })?;
    rows(api, &body).ok_or_else(|| {
        AuditError::UnexpectedResponse(format!(
            "HTTP {} without a result: {}",
            resp.status,
            snippet(&resp.body)
        ))
    })
}

/// `(code, message)` of the first entry of a non-empty `errors` array.
fn first_neo4j_error(body: &Value) -> Option<(String, String)> {
    let e = body.get("errors")?.as_array()?.first()?;
    let code = e.get("code").and_then(Value::as_str).unwrap_or("Neo.Unknown").to_owned();
    let message = e.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
    Some((code, message))
}

fn rows(api: Api, body: &Value) -> Option<Rows> {
    let as_rows = |v: &Value| -> Option<Rows> {
        v.as_array()?.iter().map(|r| r.as_array().cloned()).collect()
    };
    match api {
        Api::Tx => {
            let data = body.get("results")?.as_array()?.first()?.get("data")?.as_array()?;
            data.iter().map(|d| d.get("row")?.as_array().cloned()).collect()
        }
        Api::Query => as_rows(body.get("data")?.get("values")?),
    }
}

fn snippet(body: &str) -> String {
    let mut s: String = body.chars().take(200).collect();
    if body.chars().count() > 200 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, body: Value) -> HttpResponse {
        HttpResponse { status, retry_after: None, body: body.to_string() }
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
        let r = resp(200, json!({"results":[],"errors":[{"code":"Neo.ClientError.Statement.SyntaxError","message":"bad"}]}));
        let e = interpret(Api::Tx, "neo4j", &r).unwrap_err();
        assert_eq!(e, AuditError::Neo4j { code: "Neo.ClientError.Statement.SyntaxError".into(), message: "bad".into() });
    }

    #[test]
    fn auth_and_database() {
        let r = resp(401, json!({"errors":[{"code":"Neo.ClientError.Security.Unauthorized","message":"x"}]}));
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::Unauthorized { status: 401, .. })));
        let r = resp(404, json!({"errors":[{"code":"Neo.ClientError.Database.DatabaseNotFound","message":"x"}]}));
        assert_eq!(interpret(Api::Query, "nope", &r), Err(AuditError::DatabaseNotFound("nope".into())));
    }

    #[test]
    fn non_json_and_5xx() {
        let r = HttpResponse { status: 503, retry_after: Some("3".into()), body: "busy".into() };
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::Http { status: 503, retry_after_ms: Some(3000), .. })));
        let r = HttpResponse { status: 200, retry_after: None, body: "<html>".into() };
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::UnexpectedResponse(_))));
        let r = resp(200, json!({"results":[],"errors":[]}));
        assert!(matches!(interpret(Api::Tx, "neo4j", &r), Err(AuditError::UnexpectedResponse(_))));
    }
}
