//! The bearer check in front of `/mcp`: a valid access token of this
//! server, for this audience, or 401 with the `WWW-Authenticate` challenge
//! that tells a client where to get one (RFC 9728). Session tokens of the
//! API and Kite's tokens are never accepted here.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::oauth::{BearerFailure, McpCaller};
use super::scopes::ALL;
use super::service::McpService;

/// An error in the API's shape, not to be cached, with the
/// `WWW-Authenticate` challenge a client acts on.
fn refused(err: platform::ApiError, challenge: &str) -> Response {
    let mut res = err.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(challenge) {
        headers.insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// The 401 a client reads to find the authorization server.
pub fn challenge(service: &McpService, failure: &BearerFailure) -> Response {
    let mut value = format!(
        "Bearer resource_metadata=\"{}\", scope=\"{}\"",
        service.resource_metadata_url(),
        ALL.join(" ")
    );
    if let BearerFailure::Invalid(why) = failure {
        value.push_str(&format!(
            ", error=\"invalid_token\", error_description=\"{why}\""
        ));
    }
    let message = match failure {
        BearerFailure::Missing => "an access token is required: connect the app to KiteMate first",
        BearerFailure::Invalid(why) => why,
    };
    refused(platform::ApiError::unauthenticated(message), &value)
}

/// The largest JSON-RPC message `/mcp` reads (a tool call's arguments are
/// a few hundred bytes).
const MAX_BODY: usize = 256 * 1024;

/// The 403 a client reads to ask the user for more (step-up): the scopes
/// it holds and the one it needs.
fn insufficient(service: &McpService, caller: &McpCaller, needed: &str) -> Response {
    let scopes = format!("{} {needed}", caller.scopes);
    let value = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\", error_description=\"this needs {needed}\"",
        scopes.trim_start(),
        service.resource_metadata_url()
    );
    refused(
        platform::ApiError::permission_denied(format!(
            "this connection was not granted `{needed}`; reconnect the app to allow it"
        )),
        &value,
    )
}

/// The request with its body read (to see which scope it needs) and put
/// back, or the answer to give instead.
async fn check_scope(
    service: &McpService,
    caller: &McpCaller,
    req: Request,
) -> Result<Request, Response> {
    if req.method() != axum::http::Method::POST {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(platform::ApiError::invalid_argument(format!(
            "an MCP message is at most {MAX_BODY} bytes"
        ))
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        .into_response());
    };
    if let Ok(message) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(needed) = super::server::scope_needed(&message)
        && !caller.scopes.has(needed)
    {
        return Err(insufficient(service, caller, needed));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Puts the caller in the request for the tools, or answers 401.
pub async fn require_token(
    State(service): State<McpService>,
    mut req: Request,
    next: Next,
) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    let Some(bearer) = bearer else {
        return challenge(&service, &BearerFailure::Missing);
    };
    match service.verify(&bearer).await {
        Ok(caller) => {
            req = match check_scope(&service, &caller, req).await {
                Ok(req) => req,
                Err(res) => return res,
            };
            req.extensions_mut().insert(caller);
            let mut res = next.run(req).await;
            // Every answer is this user's: no shared cache may keep it.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            res
        }
        Err(failure) => challenge(&service, &failure),
    }
}
