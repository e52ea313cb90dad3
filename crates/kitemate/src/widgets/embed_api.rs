//! HTTP handlers of embeds: the owner asks for a signed link; anyone loads
//! the page (or its SVG) in an `<iframe>`, the only pages that may be framed.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use platform::observe::MayBeFramed;
use platform::{ApiError, ApiJson, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::WidgetsState;
use super::embed::EmbedLink;
use crate::auth::Auth;

const TAG: &str = "widgets";

/// Who may frame an embed, and what it may load: its own inline styles and
/// SVG, nothing else.
const EMBED_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors *";

/// How long an embed link works.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEmbed {
    /// 1 to 3650 days; for as long as the share link lives when left out.
    #[validate(range(min = 1, max = 3650))]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// A link that embeds one of your shared widgets in another site's
/// `<iframe>`: signed, with the expiry you choose (or none). Rotating or
/// revoking the widget's share link kills its embeds.
#[utoipa::path(post, path = "/widgets/{id}/embed", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    request_body(content = Option<NewEmbed>, description = "The expiry; none when left out"),
    responses(
        (status = 200, description = "The embed link", body = EmbedLink),
        (status = 400, description = "The widget is private (`failed_precondition`), or a field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn embed_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Option<ApiJson<NewEmbed>>,
) -> Result<ApiJson<EmbedLink>, ApiError> {
    let days = body.and_then(|b| b.0.expires_in_days);
    Ok(ApiJson(
        state.service.embed_link(&caller.user, &id, days).await?,
    ))
}

/// `body` as a page other sites may frame.
fn framed(content_type: &'static str, body: String) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, EMBED_CSP),
            // The token grants it to anyone; a minute of caching spares
            // a busy blog's readers the same drawing.
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        body,
    )
        .into_response();
    response.extensions_mut().insert(MayBeFramed);
    response
}

/// An embedded widget: an HTML page with its chart, for an `<iframe>`.
/// Amounts are left out unless the owner shows them.
#[utoipa::path(get, path = "/embed/widgets/{token}", tag = TAG,
    params(("token" = String, Path, description = "From `POST /widgets/{id}/embed`")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, description = "Expired, revoked, or never valid", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn embed_page(
    State(state): State<WidgetsState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let page = state.service.embed_page(&token).await?;
    Ok(framed("text/html; charset=utf-8", page))
}

/// An embedded widget's chart alone, as SVG.
#[utoipa::path(get, path = "/embed/widgets/{token}/chart.svg", tag = TAG,
    params(("token" = String, Path, description = "From `POST /widgets/{id}/embed`")),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Expired, revoked, or never valid", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn embed_chart(
    State(state): State<WidgetsState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let svg = state.service.embed_chart(&token).await?;
    Ok(framed("image/svg+xml; charset=utf-8", svg))
}
