//! HTTP handlers of the social service.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::SocialState;
use super::model::Profile;
use super::pages::PROFILE_PAGE;
use super::service::ProfileChange;
use crate::auth::{Auth, MaybeAuth};

const TAG: &str = "social";

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    /// `widgets.nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// `dashboards.nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub dashboards_cursor: Option<String>,
    /// Widgets (and dashboards) per page, 1–50; 12 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// An `https://` address of at most 200 characters: a host name (letters,
/// digits, dots, hyphens; no port), then optionally a path, query or fragment
/// of URL characters (no quotes, angle brackets, backslashes or brackets).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Link(pub String);

impl utoipa::PartialSchema for Link {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(200))
            .pattern(Some("^https://[A-Za-z0-9.-]+(?:[/?#][!#-;=?-Z_a-z~]*)?$"))
            .examples([serde_json::json!("https://asha.example/blog")])
            .into()
    }
}

impl ToSchema for Link {}

/// A change of one's profile: what is present changes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeProfile {
    /// Up to 60 characters, kept on one line (line breaks become spaces,
    /// control characters are dropped); the username shows when it is empty.
    #[schema(max_length = 60)]
    pub display_name: Option<String>,
    /// Plain text, up to 300 characters (control characters other than line
    /// breaks are dropped).
    #[schema(max_length = 300)]
    pub bio: Option<String>,
    /// Up to 5 `https://` addresses of at most 200 characters.
    #[schema(max_items = 5)]
    pub links: Option<Vec<Link>>,
    /// A private profile, and everything on it, is not found by anyone else.
    pub private: Option<bool>,
}

/// A public profile and a page of its public widgets; no sign-in needed.
/// Amounts and quantities show only where the owner shows them.
#[utoipa::path(get, path = "/profiles/{username}", tag = TAG,
    params(("username" = String, Path, description = "Any case"), ProfileQuery),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 308, description = "Its owner changed their username in the last 30 days: `Location` is the profile now",
            headers(("Location" = String, description = "`/profiles/{username}` with the same query"))),
        (status = 404, description = "No such profile, or a private one", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn get_profile(
    State(state): State<SocialState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(username): Path<String>,
    RawQuery(raw): RawQuery,
    ApiQuery(query): ApiQuery<ProfileQuery>,
) -> Result<Response, ApiError> {
    let viewer = viewer.as_ref().map(|v| v.user.as_ref());
    let found = state
        .service
        .profile_json(
            &username,
            viewer,
            (query.cursor.as_deref(), query.dashboards_cursor.as_deref()),
            query.limit.unwrap_or(PROFILE_PAGE),
        )
        .await;
    match found {
        Ok(profile) => Ok(json_bytes(profile)),
        Err(err) if err.status() == StatusCode::NOT_FOUND => {
            match state.service.moved(&username, viewer).await? {
                // Usernames are a-z, 0-9 and _: nothing to escape.
                Some(now) => {
                    let query = raw.map(|q| format!("?{q}")).unwrap_or_default();
                    Ok(Redirect::permanent(&format!("/profiles/{now}{query}")).into_response())
                }
                None => Err(err),
            }
        }
        Err(err) => Err(err),
    }
}

/// A JSON body already serialized.
pub fn json_bytes(bytes: Vec<u8>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// Change one's own profile.
#[utoipa::path(patch, path = "/profiles/me", tag = TAG,
    security(("bearer" = [])),
    request_body = ChangeProfile,
    responses(
        (status = 200, description = "The profile as changed", body = Profile),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn change_profile(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<ChangeProfile>,
) -> Result<ApiJson<Profile>, ApiError> {
    let profile = state
        .service
        .change(
            &caller.user,
            ProfileChange {
                display_name: req.display_name,
                bio: req.bio,
                links: req
                    .links
                    .map(|links| links.into_iter().map(|l| l.0).collect()),
                private: req.private,
            },
        )
        .await?;
    Ok(ApiJson(profile))
}

/// Follow someone; following again changes nothing.
#[utoipa::path(put, path = "/profiles/{username}/follow", tag = TAG,
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 204, description = "Following"),
        (status = 400, description = "That is you, or you blocked them (`failed_precondition`), or you follow the most one may", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such profile, or a private one", body = ErrorBody),
    ))]
pub async fn follow_profile(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.follow(&caller.user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following someone; not following already changes nothing.
#[utoipa::path(delete, path = "/profiles/{username}/follow", tag = TAG,
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 204, description = "Not following"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
    ))]
pub async fn unfollow_profile(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.unfollow(&caller.user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
