//! The one error shape of every API: Encore's `{"code","message","details"}` wire format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Encore's error codes; each one fixes the HTTP status of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrCode {
    Canceled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

impl ErrCode {
    /// The status Encore sends for this code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Unknown | Self::Internal | Self::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidArgument | Self::FailedPrecondition | Self::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Self::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::Aborted => StatusCode::CONFLICT,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
            Self::InvalidArgument => "invalid_argument",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::PermissionDenied => "permission_denied",
            Self::ResourceExhausted => "resource_exhausted",
            Self::FailedPrecondition => "failed_precondition",
            Self::Aborted => "aborted",
            Self::OutOfRange => "out_of_range",
            Self::Unimplemented => "unimplemented",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::DataLoss => "data_loss",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}

/// An error as the client sees it, plus what only the logs may see.
///
/// Internal causes are kept in `source` and logged when the response is
/// built; the client only ever reads "internal error".
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrCode,
    pub message: String,
    pub details: Option<Value>,
    /// HTTP says more than Encore's table for a few transport errors
    /// (413 body too large, 415 wrong content type); the code stays Encore's.
    pub status: Option<StatusCode>,
    pub retry_after_secs: Option<u64>,
    source: Option<anyhow::Error>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable error code (Encore's).
    #[schema(example = "not_found")]
    pub code: ErrCode,
    /// Human-readable explanation.
    #[schema(example = "portfolio not found")]
    pub message: String,
    /// Structured detail, such as the offending field; null when there is none.
    pub details: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            status: None,
            retry_after_secs: None,
            source: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrCode::InvalidArgument, message)
    }

    /// A 400 naming the offending field, the shape every validation error takes.
    pub fn invalid_field(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::invalid_argument(format!("{field}: {reason}"))
            .with_details(serde_json::json!({ "field": field, "reason": reason }))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrCode::Unauthenticated, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrCode::PermissionDenied, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrCode::NotFound, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrCode::AlreadyExists, message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrCode::FailedPrecondition, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrCode::Unavailable, message)
    }

    /// 429 with the number of seconds the client should wait.
    pub fn resource_exhausted(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut err = Self::new(ErrCode::ResourceExhausted, message);
        err.retry_after_secs = Some(retry_after_secs.max(1));
        err
    }

    /// An unexpected failure: logged with its cause chain, shown as "internal error".
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(ErrCode::Internal, "internal error");
        err.source = Some(source.into());
        err
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.status())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// So the CLI and cron jobs keep an internal error's cause (`{err:#}` prints
/// the chain), where a response shows only "internal error".
impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| -> &(dyn std::error::Error + 'static) { source.as_ref() })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(err)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = format!("{source:#}"), "internal error");
        }
        let status = self.status();
        let retry_after = self.retry_after_secs;
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            details: self.details,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_encore_statuses() {
        assert_eq!(ErrCode::InvalidArgument.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ErrCode::Unauthenticated.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ErrCode::PermissionDenied.status(), StatusCode::FORBIDDEN);
        assert_eq!(ErrCode::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(ErrCode::AlreadyExists.status(), StatusCode::CONFLICT);
        assert_eq!(
            ErrCode::ResourceExhausted.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            ErrCode::Internal.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            ErrCode::Unavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn wire_names_match_serde() {
        let json = serde_json::to_value(ErrCode::FailedPrecondition).unwrap_or_default();
        assert_eq!(json, ErrCode::FailedPrecondition.as_str());
    }
}
