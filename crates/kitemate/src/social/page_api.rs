//! HTTP handlers for the public pages at the URLs people share: a profile
//! at `/u/{username}` and discovery at `/discover`. A browser gets the page
//! (server-written HTML with OpenGraph tags); an API client gets JSON.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::query::parse_query;
use platform::{ApiError, ErrorBody};

use super::SocialState;
use super::api::json_bytes;
use super::model::Profile;
use super::pages::PROFILE_PAGE;
use super::reach_api::DiscoverQuery;
use crate::auth::MaybeAuth;
use crate::web::html::page_or_error;
use crate::web::{vary_accept, wants_html};
use crate::widgets::model::PublicWidgetPage;

const TAG: &str = "social";

/// A profile at the address people share. A browser gets a page with the
/// profile's public widgets; an API client gets the profile as
/// `GET /profiles/{username}` gives it.
#[utoipa::path(get, path = "/u/{username}", tag = TAG,
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 200, description = "The profile: JSON, or an HTML page for a browser", content(
            (Profile = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, description = "No such profile, or a private one", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn profile_at(
    State(state): State<SocialState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if wants_html(&headers) {
        return Ok(page_or_error(
            state.service.profile_page(&username).await,
            state.service.widgets.public_url(),
        ));
    }
    let viewer = viewer.as_ref().map(|v| v.user.as_ref());
    let profile = state
        .service
        .profile_json(&username, viewer, (None, None), PROFILE_PAGE)
        .await?;
    Ok(vary_accept(json_bytes(profile)))
}

/// Discovery at the address people share: public widgets, trending or
/// found by words. A browser gets a page; an API client gets the widgets
/// as `GET /discover/widgets` gives them.
#[utoipa::path(get, path = "/discover", tag = TAG,
    params(DiscoverQuery),
    responses(
        (status = 200, description = "A page of public widgets: JSON, or an HTML page for a browser", content(
            (PublicWidgetPage = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn discover_at(
    State(state): State<SocialState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    if wants_html(&headers) {
        // A person's link: an empty search box or a tracker's parameter
        // (`fbclid`, `utm_*`) is not an error worth a page of its own.
        let kept: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(raw.as_bytes())
                    .filter(|(k, v)| DISCOVER_PARAMS.contains(&k.as_ref()) && !v.trim().is_empty()),
            )
            .finish();
        let page = match parse_query::<DiscoverQuery>(&kept).and_then(DiscoverQuery::ask) {
            Ok(ask) => state.service.discover_page(&ask).await,
            Err(err) => Err(err),
        };
        return Ok(page_or_error(page, state.service.widgets.public_url()));
    }
    let ask = parse_query::<DiscoverQuery>(&raw)?.ask()?;
    Ok(vary_accept(json_bytes(
        state.service.discover_json(&ask).await?,
    )))
}

/// The parameters `/discover` reads (a page keeps only these).
const DISCOVER_PARAMS: &[&str] = &["sort", "kind", "q", "symbol", "cursor", "limit"];
