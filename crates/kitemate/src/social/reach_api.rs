//! HTTP handlers for what people do with others' widgets (fork, like) and
//! what they find (discovery, the feed, profiles by name).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::SocialState;
use super::api::json_bytes;
use super::model::ProfileList;
use crate::auth::Auth;
use crate::widgets::model::{Dashboard, PublicWidgetPage, Reactions, Widget, WidgetKind};
use crate::widgets::{Discover, Sort};
use axum::response::Response;

const TAG: &str = "social";

/// How an unlisted widget is reached: the secret of its share link (the
/// last part of its `shareUrl`). Public widgets need none.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reach {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub share_token: Option<String>,
}

/// Fork a public widget (or an unlisted one, with its link's secret) into
/// your account.
///
/// Copies what it shows, never its data: the fork draws from your own
/// portfolio. It is private, counts toward the Free plan's 10 widgets, and
/// records `forkedFrom`; the creator is told. Forking your own (a private one too)
/// duplicates it.
#[utoipa::path(post, path = "/widgets/{id}/fork", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Option<Reach>, description = "Only for an unlisted widget"),
    responses(
        (status = 201, description = "The fork, yours", body = Widget),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The Free plan's widgets are used up", body = ErrorBody),
        (status = 404, description = "No such widget of yours, nor one shared with you (or its link's secret is wrong)", body = ErrorBody),
        (status = 429, description = "Too many forks; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn fork_widget(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Option<ApiJson<Reach>>,
) -> Result<(StatusCode, ApiJson<Widget>), ApiError> {
    let reach = body.map(|b| b.0).unwrap_or_default();
    let fork = state
        .service
        .fork(&caller.user, &id, reach.share_token.as_deref())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(fork)))
}

/// Fork a public dashboard into your account: a new private dashboard
/// holding a fork of each public or unlisted widget on it, where it sat
/// (private widgets on it are not copied); each creator is told. It takes a
/// dashboard place and a widget place per fork of your plan; all or nothing.
/// Forking your own (a private one too) duplicates it.
#[utoipa::path(post, path = "/dashboards/{id}/fork", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 201, description = "The new dashboard, yours", body = Dashboard),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The Free plan's dashboards or widgets are used up", body = ErrorBody),
        (status = 404, description = "No such dashboard of yours, nor a public one", body = ErrorBody),
        (status = 429, description = "Too many forks; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn fork_dashboard(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<Dashboard>), ApiError> {
    let fork = state.service.fork_dashboard(&caller.user, &id).await?;
    Ok((StatusCode::CREATED, ApiJson(fork)))
}

/// Like a public widget (or an unlisted one, with its link's secret), or
/// one of your own whatever its visibility; liking again changes nothing.
#[utoipa::path(put, path = "/widgets/{id}/like", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Option<Reach>, description = "Only for an unlisted widget"),
    responses(
        (status = 200, description = "Its likes and forks now", body = Reactions),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such public widget", body = ErrorBody),
        (status = 429, description = "Too many likes; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn like_widget(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Option<ApiJson<Reach>>,
) -> Result<ApiJson<Reactions>, ApiError> {
    let reach = body.map(|b| b.0).unwrap_or_default();
    let reactions = state
        .service
        .like(&caller.user, &id, reach.share_token.as_deref())
        .await?;
    Ok(ApiJson(reactions))
}

/// Take a like back; not liking it already changes nothing.
#[utoipa::path(delete, path = "/widgets/{id}/like", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Its likes and forks now", body = Reactions),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget", body = ErrorBody),
        (status = 429, description = "Too many likes; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn unlike_widget(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Reactions>, ApiError> {
    Ok(ApiJson(state.service.unlike(&caller.user, &id).await?))
}

/// The order of a discovery page.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscoverSort {
    /// Forks, likes and views, each worth half as much a day later.
    #[default]
    Trending,
    /// Newest first.
    New,
    /// Most likes and forks of all time.
    Top,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiscoverQuery {
    /// `trending` when left out.
    #[param(inline)]
    pub sort: Option<DiscoverSort>,
    /// Only widgets drawn as this kind.
    pub kind: Option<WidgetKind>,
    /// Words found in the title, description or tags (all of them); up to
    /// 100 characters, of which the first 8 words count.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Only widgets about this stock (its source names it, or its data
    /// lists it).
    #[validate(length(min = 1, max = 40))]
    #[param(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9&._-]{1,40}$")]
    pub symbol: Option<String>,
    /// `nextCursor` of the previous page (of the same order).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub cursor: Option<String>,
    /// 1–50; 20 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Public widgets: trending, new or top, by kind, words or stock. No
/// sign-in needed; no one's amounts.
#[utoipa::path(get, path = "/discover/widgets", tag = TAG,
    params(DiscoverQuery),
    responses(
        (status = 200, description = "A page of public widgets", body = PublicWidgetPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn discover_widgets(
    State(state): State<SocialState>,
    ApiQuery(query): ApiQuery<DiscoverQuery>,
) -> Result<Response, ApiError> {
    let ask = query.ask()?;
    Ok(json_bytes(state.service.discover_json(&ask).await?))
}

impl DiscoverQuery {
    /// The question the query asks, its symbol checked.
    pub fn ask(self) -> Result<Discover, ApiError> {
        let symbol = match self.symbol {
            Some(s)
                if s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"&._-".contains(&b)) =>
            {
                Some(s.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "symbol",
                    "must be a trading symbol of A-Z 0-9 & . _ -",
                ));
            }
            None => None,
        };
        Ok(Discover {
            sort: match self.sort.unwrap_or_default() {
                DiscoverSort::Trending => Sort::Trending,
                DiscoverSort::New => Sort::New,
                DiscoverSort::Top => Sort::Top,
            },
            kind: self.kind,
            q: self.q,
            symbol,
            cursor: self.cursor,
            limit: self.limit.unwrap_or(20),
        })
    }
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindProfiles {
    /// The start of a username, or part of a display name (not only spaces).
    #[validate(length(min = 1, max = 60))]
    #[param(min_length = 1, max_length = 60, pattern = "\\S")]
    pub q: String,
}

/// Public profiles by username or display name: up to 20, an exact
/// username first, then the most followed.
#[utoipa::path(get, path = "/discover/profiles", tag = TAG,
    params(FindProfiles),
    responses(
        (status = 200, description = "Matching profiles", body = ProfileList),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn discover_profiles(
    State(state): State<SocialState>,
    ApiQuery(query): ApiQuery<FindProfiles>,
) -> Result<ApiJson<ProfileList>, ApiError> {
    Ok(ApiJson(state.service.find_profiles(&query.q).await?))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub cursor: Option<String>,
    /// 1–50; 20 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// The public widgets of the people you follow, newest first.
#[utoipa::path(get, path = "/feed", tag = TAG,
    security(("bearer" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of widgets", body = PublicWidgetPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn feed(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<ApiJson<PublicWidgetPage>, ApiError> {
    let page = state
        .service
        .feed(
            &caller.user,
            query.cursor.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(ApiJson(page))
}
