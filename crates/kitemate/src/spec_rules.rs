//! Answers every operation can give because of the layers it passes, added
//! to the spec so that generated clients and validators expect them: 401
//! where a bearer token is required, 429 where a rate limit applies, 400,
//! 413 and 415 where a JSON body or query parameters are read.

use serde_json::{Map, Value, json};

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// Operations limited per user rather than per IP.
const PER_USER_LIMITS: &[(&str, &str)] = &[("post", "/chat/query"), ("post", "/portfolio/sync")];

/// Adds the answers the layers give to every operation of `spec` that does
/// not list them already.
pub fn complete(spec: &mut Value) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let security = operation.get("security").and_then(Value::as_array);
            let public = security.is_none_or(|s| s.is_empty() || s.iter().any(|r| r == &json!({})));
            let json_body = operation
                .pointer("/requestBody/content/application~1json")
                .is_some();
            let has_query = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let add = |status: &str, description: &str, responses: &mut Map<String, Value>| {
                responses
                    .entry(status)
                    .or_insert_with(|| error(description));
            };
            if !public {
                add(
                    "401",
                    "Not signed in: no valid bearer token (`unauthenticated`)",
                    responses,
                );
            }
            if public || PER_USER_LIMITS.contains(&(method.as_str(), path.as_str())) {
                add(
                    "429",
                    "Too many requests; `Retry-After` says when to try again (`resource_exhausted`)",
                    responses,
                );
            }
            if json_body {
                add(
                    "400",
                    "A field is missing or invalid, named in `details.field` (`invalid_argument`)",
                    responses,
                );
                add("413", "The body is larger than the server takes", responses);
                add(
                    "415",
                    "The body is not sent as `application/json`",
                    responses,
                );
            }
            if has_query {
                add(
                    "400",
                    "A parameter is invalid, named in `details.field` (`invalid_argument`)",
                    responses,
                );
            }
        }
    }
}
