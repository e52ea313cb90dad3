//! HTTP handlers for connecting Zerodha.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use platform::observe::RequestInfo;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{Proof, ZerodhaConnected, ZerodhaStatus};
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

/// The cookie that binds a login to the browser that started it.
const COOKIE: &str = "kitemate_zerodha";

/// The nonce of the login cookie, when the request carries one.
fn browser_nonce(headers: &HeaderMap) -> Option<&str> {
    crate::web::cookie(headers, COOKIE)
}

/// `Set-Cookie` for the login cookie: HttpOnly so no script reads it,
/// SameSite=Lax so it rides on Kite's top-level redirect back, only on
/// `/auth/zerodha`, Secure in production. An empty value clears it.
fn login_cookie(auth: &AuthService, value: &str) -> [(HeaderName, String); 1] {
    let max_age = if value.is_empty() {
        0
    } else {
        super::STATE_TTL_MINUTES * 60
    };
    let secure = if auth.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    [(
        header::SET_COOKIE,
        format!(
            "{COOKIE}={value}; Path=/auth/zerodha; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        ),
    )]
}

/// Start a Zerodha login. Signed in: links the account to the caller.
/// Not signed in: the login signs up or signs in with Zerodha. The answer
/// sets an HttpOnly cookie: the browser redirect from Kite is accepted only
/// from the browser that holds it.
#[utoipa::path(get, path = "/auth/zerodha/initiate", tag = TAG,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Where to send the browser", body = Initiated,
            headers(("set-cookie" = String, description = "`kitemate_zerodha`: binds the login to this browser for 10 minutes"))),
        (status = 401, description = "A bearer token was sent and is not valid", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
        (status = 404, description = "Zerodha is not set up on this server", body = ErrorBody),
    ))]
pub async fn initiate(
    State(auth): State<AuthService>,
    MaybeAuth(caller): MaybeAuth,
) -> Result<Response, ApiError> {
    let started = auth
        .zerodha_initiate(caller.as_ref().map(|c| c.user.id.as_str()))
        .await?;
    let cookie = login_cookie(&auth, &started.browser);
    let body = Initiated {
        auth_url: started.auth_url,
        state: started.state,
    };
    Ok((cookie, ApiJson(body)).into_response())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackRequest {
    /// From the Kite redirect: letters and digits.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9]+$")]
    pub request_token: String,
    /// From the Kite redirect: the state `initiate` gave.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub state: String,
}

/// Finish a Zerodha login with the request token and state of the redirect.
#[utoipa::path(post, path = "/auth/zerodha/callback", tag = TAG,
    security((), ("bearer" = [])),
    request_body = CallbackRequest,
    responses(
        (status = 200, description = "Connected; a session when a visitor signed in", body = ZerodhaConnected),
        (status = 400, description = "A request token Kite refused", body = ErrorBody),
        (status = 401, description = "A bearer token was sent and is not valid", body = ErrorBody),
        (status = 403, description = "The login was started by another user", body = ErrorBody),
        (status = 404, description = "No such login (unknown, used or expired state), or Zerodha is not set up on this server", body = ErrorBody),
        (status = 409, description = "That Zerodha account is linked to another KiteMate account", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
        (status = 503, description = "Zerodha did not answer", body = ErrorBody),
    ))]
pub async fn callback(
    State(auth): State<AuthService>,
    MaybeAuth(caller): MaybeAuth,
    info: RequestInfo,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CallbackRequest>,
) -> Result<ApiJson<ZerodhaConnected>, ApiError> {
    let caller = caller.as_ref().map(|c| c.user.id.as_str());
    auth.zerodha_complete(
        Proof::Bearer(caller),
        &req.request_token,
        &req.state,
        origin(info, &headers),
    )
    .await
    .map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedirectQuery {
    /// Kite's one-use token: letters and digits.
    #[param(
        required = true,
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9]+$"
    )]
    pub request_token: Option<String>,
    /// The state `initiate` gave.
    #[param(required = true, min_length = 1, max_length = 128)]
    pub state: Option<String>,
    /// `success` when the user logged in; anything else shows that the
    /// login was not completed.
    #[param(required = true, max_length = 32)]
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
/// with your Kite Connect app). It finishes only a login this browser started
/// (the `kitemate_zerodha` cookie from `initiate`). A link shows a page
/// saying so; a visitor's sign-in sends the browser on to the app
/// (`auth.zerodha_return_url`) with a one-use `#zerodha_code=` that the app
/// exchanges at `POST /auth/zerodha/exchange` from this same browser.
#[utoipa::path(get, path = "/auth/zerodha/redirect", tag = TAG,
    params(RedirectQuery),
    responses(
        (status = 200, description = "An HTML page saying the account is connected, or that the login was cancelled", content_type = "text/html"),
        (status = 303, description = "Signed in: on to the app with a one-use code in the fragment"),
        (status = 400, description = "An HTML page: the redirect lacks its parameters, or Kite refused the token", content_type = "text/html"),
        (status = 404, description = "An HTML page: no such login (unknown, used or expired state), or Zerodha is not set up here", content_type = "text/html"),
        (status = 403, description = "An HTML page: this browser did not start the login", content_type = "text/html"),
        (status = 409, description = "An HTML page: the Zerodha account belongs to another user", content_type = "text/html"),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
        (status = 503, description = "An HTML page: Zerodha did not answer", content_type = "text/html"),
    ))]
pub async fn redirect(
    State(auth): State<AuthService>,
    info: RequestInfo,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RedirectQuery>,
) -> Response {
    let (Some(token), Some(state), Some(status)) = (query.request_token, query.state, query.status)
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "Zerodha login not completed",
            "The redirect carried no request token, state or status.",
        );
    };
    let well_formed = (1..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric())
        && (1..=128).contains(&state.chars().count())
        && status.chars().count() <= 32;
    if !well_formed {
        return page(
            StatusCode::BAD_REQUEST,
            "Zerodha login not completed",
            "The redirect's request token, state or status is not what Kite sends.",
        );
    }
    if status != "success" {
        // A page saying how the login ended, for the person who ended it.
        return page(
            StatusCode::OK,
            "Zerodha login not completed",
            "The login at Zerodha was cancelled or failed. Start again from KiteMate.",
        );
    }
    let proof = Proof::Browser(browser_nonce(&headers));
    match auth
        .zerodha_complete(proof, &token, &state, origin(info, &headers))
        .await
    {
        Ok(ZerodhaConnected {
            handoff: Some(code),
            ..
        }) => {
            let to = format!("{}#zerodha_code={code}", auth.zerodha_return_url());
            // The cookie stays: the exchange checks it.
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, to),
                    (header::CACHE_CONTROL, "no-store".into()),
                ],
            )
                .into_response()
        }
        Ok(done) => (
            login_cookie(&auth, ""),
            page(
                StatusCode::OK,
                "Zerodha connected",
                &format!(
                    "Zerodha account {} is now connected to {}. You can close this window.",
                    done.zerodha.user_id, done.user.username
                ),
            ),
        )
            .into_response(),
        Err(err) => page(err.status(), "Zerodha login not completed", &err.message),
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The `zerodha_code` the redirect put in the app's URL fragment.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

/// Finish a browser sign-in with Zerodha: the one-use code from the redirect,
/// sent from the same browser (its `kitemate_zerodha` cookie), becomes a session.
#[utoipa::path(post, path = "/auth/zerodha/exchange", tag = TAG,
    request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Signed in: the session", body = ZerodhaConnected),
        (status = 404, description = "No such code: unknown, expired, used, or from another browser", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn exchange(
    State(auth): State<AuthService>,
    info: RequestInfo,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ExchangeRequest>,
) -> Result<Response, ApiError> {
    let done = auth
        .zerodha_exchange(&req.code, browser_nonce(&headers), origin(info, &headers))
        .await?;
    Ok((login_cookie(&auth, ""), ApiJson(done)).into_response())
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
    auth.zerodha_status(&caller.user.id)
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
    info: RequestInfo,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    auth.zerodha_disconnect(&caller.user.id, &origin(info, &headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
