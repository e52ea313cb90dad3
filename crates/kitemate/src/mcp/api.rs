//! HTTP handlers of the authorization server, its metadata, and the
//! connected apps a user sees.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::ApiError;
use platform::error::ErrorBody;
use platform::json::ApiJson;
use platform::observe::RequestInfo;
use serde::Deserialize;

use super::model::{
    ConnectedApps, OAuthError, Registration, RegistrationRequest, ResourceMetadata, RevokeRequest,
    ServerMetadata, TokenRequest, TokenResponse,
};
use super::oauth::{AuthorizeFailure, AuthorizeQuery, OAuthFailure};
use super::page;
use super::scopes::ALL;
use super::service::McpService;
use crate::auth::{Auth, Origin};

pub const TAG: &str = "mcp";

/// The cookie that binds an authorization to the browser that started it.
const COOKIE: &str = "kitemate_oauth";

fn origin(info: RequestInfo, headers: &HeaderMap) -> Origin {
    crate::auth::request_origin(info, headers)
}

fn oauth_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn failure(f: OAuthFailure) -> Response {
    oauth_json(
        StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_REQUEST),
        &f.body,
    )
}

/// A form body (`application/x-www-form-urlencoded`) read into `T`, from
/// the `known` fields only: RFC 6749 §3.1 has a server ignore parameters it
/// does not know and refuse one it knows given twice.
fn form<T: serde::de::DeserializeOwned>(body: &[u8], known: &[&str]) -> Result<T, OAuthFailure> {
    let mut fields = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        if !known.contains(&k.as_ref()) {
            continue;
        }
        if fields
            .insert(k.to_string(), v.into_owned().into())
            .is_some()
        {
            return Err(OAuthFailure::new(
                "invalid_request",
                format!("{k}: given more than once"),
            ));
        }
    }
    serde_json::from_value(fields.into())
        .map_err(|_| OAuthFailure::new("invalid_request", "the form is not readable"))
}

/// The fields of each form.
const AUTHORIZE_FIELDS: &[&str] = &["request", "csrf", "step", "email", "password", "decision"];
const TOKEN_FIELDS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "code_verifier",
    "refresh_token",
    "resource",
    "scope",
];
const REVOKE_FIELDS: &[&str] = &["token", "token_type_hint", "client_id"];

/// RFC 9728: where to get a token for `/mcp`.
#[utoipa::path(get, path = "/.well-known/oauth-protected-resource/mcp", tag = TAG,
    responses((status = 200, description = "The protected resource's metadata", body = ResourceMetadata)))]
pub async fn resource_metadata(State(service): State<McpService>) -> ApiJson<ResourceMetadata> {
    ApiJson(ResourceMetadata {
        resource: service.resource(),
        authorization_servers: vec![service.issuer()],
        scopes_supported: ALL.iter().map(|s| (*s).to_string()).collect(),
        bearer_methods_supported: vec!["header".into()],
        resource_name: "KiteMate".into(),
        resource_documentation: format!("{}/docs", service.issuer()),
    })
}

/// RFC 8414: the authorization server's metadata.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = TAG,
    responses((status = 200, description = "The authorization server's metadata", body = ServerMetadata)))]
pub async fn server_metadata(State(service): State<McpService>) -> ApiJson<ServerMetadata> {
    let issuer = service.issuer();
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    ApiJson(ServerMetadata {
        authorization_endpoint: format!("{issuer}/oauth/authorize"),
        token_endpoint: format!("{issuer}/oauth/token"),
        registration_endpoint: format!("{issuer}/oauth/register"),
        revocation_endpoint: format!("{issuer}/oauth/revoke"),
        issuer,
        scopes_supported: strings(ALL),
        response_types_supported: strings(&["code"]),
        response_modes_supported: strings(&["query"]),
        grant_types_supported: strings(&["authorization_code", "refresh_token"]),
        token_endpoint_auth_methods_supported: strings(&["none"]),
        revocation_endpoint_auth_methods_supported: strings(&["none"]),
        code_challenge_methods_supported: strings(&["S256"]),
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
    })
}

/// Register a public client (RFC 7591): no secret; PKCE proves it.
#[utoipa::path(post, path = "/oauth/register", tag = TAG,
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "Registered", body = Registration),
        (status = 400, description = "`invalid_redirect_uri` or `invalid_client_metadata`, naming the field", body = OAuthError),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
    ))]
pub async fn register(
    State(service): State<McpService>,
    body: Result<ApiJson<RegistrationRequest>, ApiError>,
) -> Response {
    let req = match body {
        Ok(ApiJson(req)) => req,
        // RFC 7591 §3.2.2: a body that is not client metadata is
        // `invalid_client_metadata`; a wrong type or size keeps its status.
        Err(err) if err.status() == StatusCode::BAD_REQUEST => {
            return failure(OAuthFailure::new("invalid_client_metadata", &err.message));
        }
        Err(err) => return err.into_response(),
    };
    match service.register(req).await {
        Ok(reg) => oauth_json(StatusCode::CREATED, &reg),
        Err(f) => failure(f),
    }
}

/// The authorization page: checks the request, binds it to this browser
/// with an HttpOnly cookie, and asks the user to sign in.
pub async fn authorize(
    State(service): State<McpService>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let nonce = crate::auth::token::generate_state();
    let browser = crate::auth::token::digest(&nonce);
    match service.begin(&q, &browser).await {
        Ok(pending) => {
            let secure = if service.secure_cookies() {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={nonce}; Path=/oauth/authorize; Max-Age=600; HttpOnly; SameSite=Lax{secure}"
            );
            page::sign_in(&pending, None, Some(cookie))
        }
        Err(AuthorizeFailure::Page(message)) => page::failure(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeFailure::ToClient { to, description }) => page::back_to_app(&to, &description),
    }
}

/// The sign-in and consent forms' answers.
pub async fn authorize_post(
    State(service): State<McpService>,
    info: RequestInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(fields) = form::<HashMap<String, String>>(&body, AUTHORIZE_FIELDS) else {
        return page::failure(StatusCode::BAD_REQUEST, "The form was not readable.");
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let Some(nonce) = crate::web::cookie(&headers, COOKIE) else {
        return page::failure(
            StatusCode::FORBIDDEN,
            "This browser did not start this connection (its cookie is missing).",
        );
    };
    let browser = crate::auth::token::digest(nonce);
    let bound = (field("request"), browser.as_str(), field("csrf"));
    let origin = origin(info, &headers);
    match field("step") {
        "sign_in" => match service
            .sign_in(
                bound,
                field("email"),
                field("password").to_string(),
                &origin,
            )
            .await
        {
            Ok(pending) => page::consent(&pending),
            Err(err) if err.status() == StatusCode::UNAUTHORIZED => {
                // Wrong email or password: the same request, a fresh form.
                match service.restart_form(bound).await {
                    Ok(pending) => page::sign_in(
                        &pending,
                        Some("That email and password do not match an account."),
                        None,
                    ),
                    Err(err) => page::failure(err.status(), &err.message),
                }
            }
            Err(err) => page::failure(err.status(), &err.message),
        },
        "consent" => match service
            .decide(bound, field("decision") == "allow", &origin)
            .await
        {
            Ok(to) => Redirect::to(&to).into_response(),
            Err(err) => page::failure(err.status(), &err.message),
        },
        _ => page::failure(
            StatusCode::BAD_REQUEST,
            "The form was not one of this page's.",
        ),
    }
}

/// Exchange a code (with its PKCE verifier) or a refresh token for tokens.
#[utoipa::path(post, path = "/oauth/token", tag = TAG,
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "New tokens (the refresh token replaces the one used)", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `invalid_target`, `invalid_scope` or `unsupported_grant_type`, naming the field", body = OAuthError),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn token(
    State(service): State<McpService>,
    info: RequestInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: TokenRequest = match form(&body, TOKEN_FIELDS) {
        Ok(req) => req,
        Err(f) => return failure(f),
    };
    match service.token(req, &origin(info, &headers)).await {
        Ok(tokens) => oauth_json(StatusCode::OK, &tokens),
        Err(f) => failure(f),
    }
}

/// Revoke a token (RFC 7009): a refresh token ends its connection.
#[utoipa::path(post, path = "/oauth/revoke", tag = TAG,
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or was not a token (nothing is said about which)"),
        (status = 400, description = "`invalid_request`: no token", body = OAuthError),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn revoke(
    State(service): State<McpService>,
    info: RequestInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: RevokeRequest = match form(&body, REVOKE_FIELDS) {
        Ok(req) => req,
        Err(f) => return failure(f),
    };
    match service.revoke(req, &origin(info, &headers)).await {
        Ok(()) => oauth_json(StatusCode::OK, &serde_json::json!({})),
        Err(f) => failure(f),
    }
}

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppsQuery {
    /// From the previous page's `nextCursor` (any other is refused).
    #[param(min_length = 1, max_length = 200)]
    pub cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The apps (MCP clients) connected to the caller's KiteMate, newest first.
#[utoipa::path(get, path = "/connected-apps", tag = TAG,
    security(("bearer" = [])),
    params(AppsQuery),
    responses(
        (status = 200, description = "A page of connected apps", body = ConnectedApps),
        (status = 400, description = "A bad cursor or limit", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn connected_apps(
    State(service): State<McpService>,
    Auth(caller): Auth,
    platform::query::ApiQuery(q): platform::query::ApiQuery<AppsQuery>,
) -> Result<ApiJson<ConnectedApps>, ApiError> {
    if q.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        return Err(ApiError::invalid_field("limit", "must be 1 to 100"));
    }
    Ok(ApiJson(
        service
            .apps(&caller.user, q.cursor.as_deref(), q.limit.unwrap_or(50))
            .await?,
    ))
}

/// Disconnect an app: its tokens stop working at once.
#[utoipa::path(delete, path = "/connected-apps/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The connected app's `id`")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such connected app of yours", body = ErrorBody),
    ))]
pub async fn disconnect_app(
    State(service): State<McpService>,
    Auth(caller): Auth,
    info: RequestInfo,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service
        .disconnect(&caller.user, &id, &origin(info, &headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
