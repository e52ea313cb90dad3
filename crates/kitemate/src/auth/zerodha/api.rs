//! HTTP handlers for connecting Zerodha.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use platform::middleware::ClientIp;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{ZerodhaConnected, ZerodhaStatus};
use crate::auth::api::origin;
use crate::auth::extract::{Auth, MaybeAuth};
use crate::auth::service::AuthService;

const TAG: &str = "auth";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Initiated {
    /// Send the browser here to log in at Zerodha.
    pub auth_url: String,
    /// Comes back on the redirect; valid for 10 minutes, once.
    pub state: String,
}

/// Start a Zerodha login. Signed in: links the account to the caller.
/// Not signed in: the login signs up or signs in with Zerodha.
#[utoipa::path(get, path = "/auth/zerodha/initiate", tag = TAG,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Where to send the browser", body = Initiated),
        (status = 400, description = "Zerodha is not configured on this server (`failed_precondition`)", body = ErrorBody),
    ))]
pub async fn initiate(
    State(auth): State<AuthService>,
    MaybeAuth(caller): MaybeAuth,
) -> Result<ApiJson<Initiated>, ApiError> {
    let (auth_url, state) = auth
        .zerodha_initiate(caller.as_ref().map(|c| c.user_id.as_str()))
        .await?;
    Ok(ApiJson(Initiated { auth_url, state }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackRequest {
    /// From the Kite redirect.
    #[validate(length(min = 1, max = 64))]
    pub request_token: String,
    /// From the Kite redirect: the state `initiate` gave.
    #[validate(length(min = 1, max = 128))]
    pub state: String,
}

/// Finish a Zerodha login with the request token and state of the redirect.
#[utoipa::path(post, path = "/auth/zerodha/callback", tag = TAG,
    security((), ("bearer" = [])),
    request_body = CallbackRequest,
    responses(
        (status = 200, description = "Connected; a session when a visitor signed in", body = ZerodhaConnected),
        (status = 400, description = "Unknown or expired state, or a request token Kite refused", body = ErrorBody),
        (status = 403, description = "The login was started by another user", body = ErrorBody),
        (status = 409, description = "That Zerodha account is linked to another KiteMate account", body = ErrorBody),
        (status = 503, description = "Zerodha did not answer", body = ErrorBody),
    ))]
pub async fn callback(
    State(auth): State<AuthService>,
    MaybeAuth(caller): MaybeAuth,
    ip: ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CallbackRequest>,
) -> Result<ApiJson<ZerodhaConnected>, ApiError> {
    let caller = caller.as_ref().map(|c| c.user_id.as_str());
    auth.zerodha_complete(
        caller,
        false,
        &req.request_token,
        &req.state,
        origin(ip, &headers),
    )
    .await
    .map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedirectQuery {
    pub request_token: Option<String>,
    pub state: Option<String>,
    /// `success` when the user logged in.
    pub status: Option<String>,
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>{0}</title><h1>{0}</h1><p>{1}</p>",
        escape(title),
        escape(text)
    );
    (status, Html(body)).into_response()
}

/// The page Kite redirects the browser to after a login (register this URL
/// with your Kite Connect app). It finishes linking the account of the user
/// who started the login; visitors finish through `POST /auth/zerodha/callback`.
#[utoipa::path(get, path = "/auth/zerodha/redirect", tag = TAG,
    params(RedirectQuery),
    responses(
        (status = 200, description = "An HTML page saying the account is connected", content_type = "text/html"),
        (status = 400, description = "An HTML page saying why not", content_type = "text/html"),
    ))]
pub async fn redirect(
    State(auth): State<AuthService>,
    ip: ClientIp,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RedirectQuery>,
) -> Response {
    if query.status.as_deref() != Some("success") {
        return page(
            StatusCode::BAD_REQUEST,
            "Zerodha login not completed",
            "The login at Zerodha was cancelled or failed. Start again from KiteMate.",
        );
    }
    let (Some(token), Some(state)) = (query.request_token, query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Zerodha login not completed",
            "The redirect carried no request token or state.",
        );
    };
    match auth
        .zerodha_complete(None, true, &token, &state, origin(ip, &headers))
        .await
    {
        Ok(done) if done.token.is_none() => page(
            StatusCode::OK,
            "Zerodha connected",
            &format!(
                "Zerodha account {} is now connected to {}. You can close this window.",
                done.zerodha.user_id, done.user.username
            ),
        ),
        Ok(_) => page(
            StatusCode::OK,
            "Signed in with Zerodha",
            "Return to the KiteMate app to continue.",
        ),
        Err(err) => page(
            err.status(),
            "Zerodha login not completed",
            &err.to_string(),
        ),
    }
}

/// The caller's Zerodha connection.
#[utoipa::path(get, path = "/auth/zerodha", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Connected account and its state", body = ZerodhaStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No Zerodha account is connected", body = ErrorBody),
    ))]
pub async fn status(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
) -> Result<ApiJson<ZerodhaStatus>, ApiError> {
    auth.zerodha_status(&caller.user_id)
        .await?
        .map(ApiJson)
        .ok_or_else(|| ApiError::not_found("no Zerodha account is connected"))
}

/// Disconnect Zerodha: the session at Kite is ended and the token forgotten.
#[utoipa::path(delete, path = "/auth/zerodha", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No Zerodha account is connected", body = ErrorBody),
    ))]
pub async fn disconnect(
    State(auth): State<AuthService>,
    Auth(caller): Auth,
) -> Result<StatusCode, ApiError> {
    auth.zerodha_disconnect(&caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
