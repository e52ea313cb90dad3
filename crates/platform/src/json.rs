//! `ApiJson<T>`: the JSON body extractor whose every rejection is a 400 naming the field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::ApiError;

/// A JSON request body, deserialized and then validated by the rules declared
/// on `T` with `#[validate(...)]`. As a response it serializes `T` as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(ApiError::invalid_argument(
                "request body must be JSON: send Content-Type: application/json",
            )
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        let value = parse_json::<T>(&bytes)?;
        value.validate().map_err(validation_error)?;
        Ok(Self(value))
    }
}

/// An optional body: none when the request has no body, or the body
/// `null`; otherwise read as [`ApiJson`] reads it.
impl<T, S> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let typed = is_json(&req);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        let text = bytes.trim_ascii();
        // No body is none, and so is blank text not declared JSON; blank
        // text declared JSON is not JSON, and is refused as such below.
        if bytes.is_empty() || (!typed && text.is_empty()) || (typed && text == b"null") {
            return Ok(None);
        }
        if !typed {
            return Err(ApiError::invalid_argument(
                "request body must be JSON: send Content-Type: application/json",
            )
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let value = parse_json::<T>(&bytes)?;
        value.validate().map_err(validation_error)?;
        Ok(Some(Self(value)))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::invalid_argument("request body is too large").with_status(status)
    } else {
        ApiError::invalid_argument(format!("could not read request body: {rejection}"))
    }
}

/// Deserializes `bytes`, turning serde's error into one that names the field.
/// A body is an object: serde would read a struct from an array of its
/// fields' values too (`[null, null]`), which no client means and no schema
/// allows.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::invalid_argument(
            "request body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|err| json_error(".", &err))?;
    Ok(value)
}

fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    let full = err.to_string();
    // serde_json appends the position; the field path says more to a client.
    let reason = full
        .rfind(" at line ")
        .map_or(full.as_str(), |idx| &full[..idx])
        .to_string();
    if err.is_syntax() || err.is_eof() {
        return ApiError::invalid_argument(format!("malformed JSON: {full}"));
    }
    let mut field = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    if let Some(missing) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(missing);
        return ApiError::invalid_field(&field, "is required");
    }
    if let Some(unknown) = reason
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        if !field.is_empty() && !field.ends_with(unknown) {
            field.push('.');
            field.push_str(unknown);
        } else if field.is_empty() {
            field.push_str(unknown);
        }
        return ApiError::invalid_field(&field, reason);
    }
    if field.is_empty() {
        return ApiError::invalid_argument(format!("invalid request body: {reason}"));
    }
    ApiError::invalid_field(&field, reason)
}

/// Every failed rule, as `(field, reason)` pairs with wire (camelCase) names, sorted.
fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<(String, String)>) {
    for (field, kind) in errors.errors() {
        let name = camel_case(field);
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.push((path.clone(), reason(error)));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

pub(crate) fn validation_error(errors: ValidationErrors) -> ApiError {
    let mut all = Vec::new();
    collect(&errors, "", &mut all);
    all.sort();
    let Some((field, why)) = all.first().cloned() else {
        return ApiError::invalid_argument("invalid request");
    };
    let list: Vec<_> = all
        .iter()
        .map(|(f, r)| serde_json::json!({ "field": f, "reason": r }))
        .collect();
    ApiError::invalid_argument(format!("{field}: {why}"))
        .with_details(serde_json::json!({ "field": field, "reason": why, "errors": list }))
}

fn reason(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(ToString::to_string);
    match error.code.as_ref() {
        "email" => "must be a valid email address".into(),
        "url" => "must be a valid URL".into(),
        "length" => match (param("min"), param("max"), param("equal")) {
            (_, _, Some(n)) => format!("must be exactly {n} characters long"),
            (Some(min), Some(max), _) => format!("must be {min} to {max} characters long"),
            (Some(min), None, _) => format!("must be at least {min} characters long"),
            (None, Some(max), _) => format!("must be at most {max} characters long"),
            _ => "has an invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        other => format!("failed the `{other}` rule"),
    }
}

/// Validator reports Rust field names; our wire format is camelCase.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for ch in name.chars() {
        if ch == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Body {
        #[validate(length(min = 3, max = 5))]
        user_name: String,
        #[validate(range(min = 1, max = 10))]
        count: u32,
        #[expect(dead_code, reason = "only its deserialization is under test")]
        kind: Kind,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Tradebook,
    }

    fn reject(body: &str) -> ApiError {
        match parse_json::<Body>(body.as_bytes()) {
            Ok(v) => v
                .validate()
                .map_err(validation_error)
                .err()
                .unwrap_or_else(|| ApiError::internal(anyhow::anyhow!("accepted {v:?}"))),
            Err(e) => e,
        }
    }

    #[test]
    fn names_the_field_for_each_kind_of_mistake() {
        let e = reject(r#"{"userName":"abc","count":"x","kind":"tradebook"}"#);
        assert!(
            e.message.starts_with("count: invalid type"),
            "{}",
            e.message
        );
        let e = reject(r#"{"count":1,"kind":"tradebook"}"#);
        assert_eq!(e.message, "userName: is required");
        let e = reject(r#"{"userName":"abc","count":1,"kind":"holdings"}"#);
        assert!(
            e.message.starts_with("kind: unknown variant `holdings`"),
            "{}",
            e.message
        );
        let e = reject(r#"{"userName":"ab","count":1,"kind":"tradebook"}"#);
        assert_eq!(e.message, "userName: must be 3 to 5 characters long");
        let e = reject(r#"{"userName":"abc","count":11,"kind":"tradebook"}"#);
        assert_eq!(e.message, "count: must be between 1 and 10");
        let e = reject(r#"{"userName":"abc","#);
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        let e = reject(r#"{"userName":"abc","count":1,"kind":"tradebook","x":1}"#);
        assert!(e.message.contains("unknown field `x`"), "{}", e.message);
    }

    #[test]
    fn camel_cases_rust_names() {
        assert_eq!(camel_case("user_name"), "userName");
        assert_eq!(camel_case("email"), "email");
    }

    #[derive(Debug, Deserialize, Validate)]
    struct Optional {
        #[expect(dead_code, reason = "only whether a body is taken is under test")]
        share_token: Option<String>,
    }

    async fn optional(body: &str, json: bool) -> Result<bool, ApiError> {
        let mut req = Request::builder().method("PUT").uri("/");
        if json {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(axum::body::Body::from(body.to_string()))
            .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        let taken =
            <ApiJson<Optional> as axum::extract::OptionalFromRequest<()>>::from_request(req, &())
                .await?;
        Ok(taken.is_some())
    }

    #[tokio::test]
    async fn an_optional_body_is_none_only_when_absent_or_null() {
        assert!(matches!(optional("", true).await, Ok(false)));
        assert!(matches!(optional("null", true).await, Ok(false)));
        assert!(matches!(optional("\n", false).await, Ok(false)));
        assert!(matches!(optional("{}", true).await, Ok(true)));
        let blank = optional("\n", true).await;
        assert!(
            blank
                .as_ref()
                .is_err_and(|e| e.message.starts_with("malformed JSON")),
            "blank text declared JSON is not JSON: {:?}",
            blank.map_err(|e| e.message)
        );
    }
}
