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

/// Internally tagged enums of structs (`#[serde(tag = "type")]` over
/// newtype variants) come out of utoipa as `allOf: [$ref Variant, {type}]`.
/// When the variant denies unknown fields (`additionalProperties: false`),
/// no object can match that: the tag is unknown to the variant. Each such
/// variant is written out in place instead: its properties and the tag, its
/// required fields and the tag, nothing else allowed.
fn inline_tagged_variants(spec: &mut Value) {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let Some(targets) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in targets.values_mut() {
        let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        for variant in variants.iter_mut() {
            let Some([reference, tag]) = variant
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|parts| <&[Value; 2]>::try_from(parts.as_slice()).ok())
            else {
                continue;
            };
            let Some(name) = reference["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                continue;
            };
            let Some(target) = schemas.get(name) else {
                continue;
            };
            if target["additionalProperties"] != json!(false) {
                continue;
            }
            let mut merged = target.clone();
            if let (Some(properties), Some(tags)) = (
                merged["properties"].as_object_mut(),
                tag["properties"].as_object(),
            ) {
                properties.extend(tags.clone());
            } else {
                merged["properties"] = tag["properties"].clone();
            }
            let mut required: Vec<Value> =
                merged["required"].as_array().cloned().unwrap_or_default();
            required.extend(tag["required"].as_array().cloned().unwrap_or_default());
            merged["required"] = Value::Array(required);
            *variant = merged;
        }
    }
}

/// Adds the answers the layers give to every operation of `spec` that does
/// not list them already, and writes out tagged variants (see
/// [`inline_tagged_variants`]).
pub fn complete(spec: &mut Value) {
    inline_tagged_variants(spec);
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
