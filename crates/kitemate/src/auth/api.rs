//! HTTP handlers of the auth service.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use platform::observe::RequestInfo;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::extract::Auth;
use super::model::{
    AuthResponse, ChangeAccount, DeleteAccount, LoginRequest, SessionList, SignupRequest, User,
};
use super::service::{AuthService, Origin};

const TAG: &str = "auth";

/// Where a request comes from, for the session it may create and the
/// audit log.
pub(crate) fn origin(info: RequestInfo, headers: &HeaderMap) -> Origin {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    Origin {
        ip: info.ip,
        user_agent,
        request_id: Some(info.request_id).filter(|id| !id.is_empty()),
    }
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/signup", tag = TAG,
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created; a session token for it", body = AuthResponse),
        (status = 400, description = "A field is missing or invalid (`invalid_argument`)", body = ErrorBody),
        (status = 409, description = "Email or username taken (`already_exists`)", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn signup(
    State(auth): State<AuthService>,
    info: RequestInfo,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignupRequest>,
) -> Result<(StatusCode, ApiJson<AuthResponse>), ApiError> {
    let response = auth.signup(req, origin(info, &headers)).await?;
    Ok((StatusCode::CREATED, ApiJson(response)))
}

/// Sign in with email and password.
///
/// The answer is the same whether the email is unknown or the password wrong.
/// Repeated failures for one account or from one address must wait longer each time.
#[utoipa::path(post, path = "/auth/login", tag = TAG,
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 401, description = "Wrong email or password (`unauthenticated`)", body = ErrorBody),
        (status = 429, description = "Too many failures; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn login(
    State(auth): State<AuthService>,
    info: RequestInfo,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<ApiJson<AuthResponse>, ApiError> {
    auth.login(&req.email, req.password, origin(info, &headers))
        .await
        .map(ApiJson)
}

/// Sign out: revoke the session whose token made this request.
#[utoipa::path(post, path = "/auth/logout", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn logout(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    info: RequestInfo,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    auth.revoke(&caller, &caller.session_id, &origin(info, &headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = User),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn me(Auth(caller): Auth) -> ApiJson<User> {
    // The session lookup read the account too: nothing more to ask.
    ApiJson(User::clone(&caller.user))
}

/// Change your account: for now, your username.
#[utoipa::path(patch, path = "/auth/me", tag = TAG,
    security(("bearer" = [])),
    request_body = ChangeAccount,
    responses(
        (status = 200, description = "The account as changed", body = User),
        (status = 400, description = "A field is invalid (`invalid_argument`)", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 409, description = "The username is taken (`already_exists`)", body = ErrorBody),
    ))]
pub async fn change_me(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ChangeAccount>,
) -> Result<ApiJson<User>, ApiError> {
    let user = match req.username {
        Some(username) => auth.change_username(&caller.user, &username).await?,
        None => User::clone(&caller.user),
    };
    Ok(ApiJson(user))
}

/// Delete your account and everything KiteMate keeps about you: your
/// portfolio, conversations, widgets, profile, follows and likes go; a
/// subscription is cancelled at its provider first (if the provider cannot
/// be reached, nothing is deleted and this answers 503). Invoices stay for
/// the years the GST law requires, without your name, email or address;
/// the audit log keeps only the fact of the deletion. Signing up again with
/// the same email starts a new, empty account.
#[utoipa::path(delete, path = "/auth/me", tag = TAG,
    security(("bearer" = [])),
    request_body = DeleteAccount,
    responses(
        (status = 204, description = "Deleted; every session has ended"),
        (status = 400, description = "A field is invalid (`invalid_argument`)", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The password is wrong, or it is needed: the session is not fresh (`permission_denied`, field `password`)", body = ErrorBody),
        (status = 429, description = "Too many attempts (`resource_exhausted`)", body = ErrorBody),
        (status = 503, description = "A subscription could not be cancelled at its provider (`unavailable`); nothing was deleted", body = ErrorBody),
    ))]
pub async fn delete_me(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    info: RequestInfo,
    headers: HeaderMap,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> Result<StatusCode, ApiError> {
    auth.delete_account(&caller, req.password, &origin(info, &headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything KiteMate keeps about you, as one ZIP archive: your account
/// and sessions, portfolio (trades, imports, holdings, daily history),
/// conversations, widgets and dashboards, profile, follows and notices,
/// subscription, payments and invoices (with their PDFs), and your audit
/// entries. JSON files (one document per line in `.jsonl`) in a folder per
/// part, with `README.txt` and `manifest.json`. It is written as it is
/// downloaded; a download that ends with an error is incomplete.
#[utoipa::path(get, path = "/auth/export", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 429, description = "Too many exports (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn export(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    info: RequestInfo,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    let (name, stream) = auth.export(&caller, &origin(info, &headers)).await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    axum::response::Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::from_stream(stream))
        .map_err(ApiError::internal)
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/auth/sessions", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed-in sessions", body = SessionList),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn list_sessions(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
) -> Result<ApiJson<SessionList>, ApiError> {
    let sessions = auth.sessions(&caller).await?;
    Ok(ApiJson(SessionList { sessions }))
}

/// Revoke one of the caller's sessions (sign out another device).
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "No such session of the caller's (`not_found`)", body = ErrorBody),
    ))]
pub async fn revoke_session(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    info: RequestInfo,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.revoke(&caller, &id, &origin(info, &headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// Entries per page, 1–100; 50 when left out.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// What the audit log holds about the caller's account: payments and plan
/// changes, Zerodha connections, sessions revoked, newest first.
#[utoipa::path(get, path = "/auth/activity", tag = TAG,
    security(("bearer" = [])),
    params(ActivityQuery),
    responses(
        (status = 200, description = "A page of the caller's audit entries", body = crate::audit::AuditPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn activity(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<ApiJson<crate::audit::AuditPage>, ApiError> {
    let page = auth
        .activity(&caller, query.cursor.as_deref(), query.limit.unwrap_or(50))
        .await?;
    Ok(ApiJson(page))
}
