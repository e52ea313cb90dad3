//! Errors as Kite reports them: the `error_type` of its error envelope and the
//! HTTP status, with an expired session as a case of its own.

/// What went wrong with a Kite call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The access token expired (they die at 06:00 IST), was invalidated by
    /// a logout, or was never valid: the user must log in again.
    #[error("the Kite session has expired; log in again ({message})")]
    Token { message: String },
    /// Kite refused the call for another reason it named.
    #[error("Kite {kind} (HTTP {status}): {message}")]
    Api {
        status: u16,
        kind: ErrorKind,
        message: String,
    },
    /// Over the rate limit after every retry.
    #[error("Kite rate limit: too many requests")]
    RateLimited,
    /// No answer: connection refused, reset, or timed out.
    #[error("cannot reach Kite: {0}")]
    Network(#[source] reqwest::Error),
    /// An answer that is not what Kite documents.
    #[error("unexpected answer from Kite: {0}")]
    Decode(String),
    /// The caller asked for something the API cannot do.
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl Error {
    /// A failure to reach Kite, told without the request's URL: some Kite
    /// calls carry the access token in their query (`DELETE /session/token`),
    /// and an error's text ends up in logs.
    pub(crate) fn network(err: reqwest::Error) -> Self {
        Self::Network(err.without_url())
    }

    /// An answer that did not parse, told by where and how it broke, never
    /// by its content: a session answer holds the access token, and serde's
    /// messages quote the values they refuse.
    pub(crate) fn decode(err: &serde_json::Error, len: usize) -> Self {
        Self::Decode(format!(
            "{:?} error at line {} column {} of a {len}-byte answer",
            err.classify(),
            err.line(),
            err.column()
        ))
    }

    /// Whether trying the same call again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) | Self::RateLimited => true,
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Kite's `error_type` values; unknown names keep their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    Token,
    User,
    Order,
    Input,
    Margin,
    Holding,
    Network,
    Data,
    General,
    Permission,
    TwoFa,
    Other(String),
}

impl ErrorKind {
    pub fn from_name(name: &str) -> Self {
        match name {
            "TokenException" => Self::Token,
            "UserException" => Self::User,
            "OrderException" => Self::Order,
            "InputException" => Self::Input,
            "MarginException" => Self::Margin,
            "HoldingException" => Self::Holding,
            "NetworkException" => Self::Network,
            "DataException" => Self::Data,
            "GeneralException" => Self::General,
            "PermissionException" => Self::Permission,
            "TwoFAException" => Self::TwoFa,
            other => Self::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Token => "TokenException",
            Self::User => "UserException",
            Self::Order => "OrderException",
            Self::Input => "InputException",
            Self::Margin => "MarginException",
            Self::Holding => "HoldingException",
            Self::Network => "NetworkException",
            Self::Data => "DataException",
            Self::General => "GeneralException",
            Self::Permission => "PermissionException",
            Self::TwoFa => "TwoFAException",
            Self::Other(name) => name,
        };
        f.write_str(name)
    }
}

/// The error envelope: `{"status":"error","message":...,"error_type":...}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_type: String,
}

/// The error for an HTTP status and body that is not a success.
pub(crate) fn from_response(status: u16, body: &[u8]) -> Error {
    let envelope: Option<Envelope> = serde_json::from_slice(crate::strip_bom(body)).ok();
    let (message, kind) = match envelope {
        Some(e) => (e.message, ErrorKind::from_name(&e.error_type)),
        None => (
            String::from_utf8_lossy(body).chars().take(200).collect(),
            ErrorKind::General,
        ),
    };
    match (status, &kind) {
        (403, ErrorKind::Token) | (_, ErrorKind::Token) => Error::Token { message },
        (429, _) => Error::RateLimited,
        _ => Error::Api {
            status,
            kind,
            message,
        },
    }
}
