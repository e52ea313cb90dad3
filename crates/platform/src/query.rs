//! `ApiQuery<T>`: query-string parameters whose every rejection is a 400
//! naming the parameter, in the API's error shape.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;

/// Query parameters, deserialized (unknown ones refused) and validated by
/// the rules declared on `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Self)
    }
}

/// Deserializes and validates a query string as [`ApiQuery`] does; for
/// handlers that must read the body before judging the query.
pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(de).map_err(|err| {
            let field = err.path().to_string();
            let reason = err.into_inner().to_string();
            if let Some(unknown) = reason
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                return ApiError::invalid_field(unknown, "is not a parameter of this endpoint");
            }
            if let Some(missing) = reason
                .strip_prefix("missing field `")
                .and_then(|rest| rest.strip_suffix('`'))
            {
                return ApiError::invalid_field(missing, "is required");
            }
            if field == "." || field.is_empty() {
                ApiError::invalid_argument(format!("invalid query string: {reason}"))
            } else {
                ApiError::invalid_field(&field, reason)
            }
        })?;
        value.validate().map_err(crate::json::validation_error)?;
        Ok(value)
    }
}
