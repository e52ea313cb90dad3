//! The auth handler: `Authorization: Bearer <token>` → [`AuthData`], as an extractor.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use platform::ApiError;

use super::AuthService;
use super::model::User;

/// Who is calling. Handlers that take [`Auth`] require a signed-in caller.
#[derive(Debug, Clone)]
pub struct AuthData {
    /// The account as it was when the session was looked up.
    pub user: Arc<User>,
    pub session_id: String,
}

/// Extractor: the authenticated caller, or 401 `unauthenticated`.
#[derive(Debug, Clone)]
pub struct Auth(pub AuthData);

impl<S> FromRequestParts<S> for Auth
where
    S: Send + Sync,
    AuthService: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(data) = parts.extensions.get::<AuthData>() {
            return Ok(Self(data.clone()));
        }
        let token = bearer_token(&parts.headers)?;
        let data = AuthService::from_ref(state).authenticate(token).await?;
        parts.extensions.insert(data.clone());
        Ok(Self(data))
    }
}

/// The token of an `Authorization: Bearer <token>` header, or why there is none.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthenticated("missing Authorization header; send `Bearer <token>`")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthenticated("Authorization header is not valid text"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthenticated("Authorization header must be `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated(
            "Authorization scheme must be Bearer",
        ));
    }
    Ok(token.trim())
}

/// Extractor: an authenticated administrator; others get 403 `permission_denied`.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthData);

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    AuthService: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Auth(data) = Auth::from_request_parts(parts, state).await?;
        if !data.user.is_admin {
            return Err(ApiError::permission_denied("administrators only"));
        }
        Ok(Self(data))
    }
}

/// Extractor: the caller when the request carries a token (which must then
/// be valid), `None` when it carries none.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<AuthData>);

impl<S> FromRequestParts<S> for MaybeAuth
where
    S: Send + Sync,
    AuthService: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(Self(None));
        }
        let Auth(data) = Auth::from_request_parts(parts, state).await?;
        Ok(Self(Some(data)))
    }
}

/// The answer wherever Pro is needed: 403 `permission_denied`
/// "pro subscription required" (the original spec's words).
pub fn pro_required() -> ApiError {
    ApiError::permission_denied("pro subscription required")
}

/// Extractor: an authenticated caller on Pro; others get [`pro_required`].
#[derive(Debug, Clone)]
pub struct RequirePro(pub AuthData);

impl<S> FromRequestParts<S> for RequirePro
where
    S: Send + Sync,
    AuthService: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Auth(data) = Auth::from_request_parts(parts, state).await?;
        if data.user.tier != super::model::Tier::Pro {
            return Err(pro_required());
        }
        Ok(Self(data))
    }
}
