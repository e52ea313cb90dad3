//! HTTP handlers of the widgets service: extract and validate, call the
//! service, answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use validator::Validate;

use super::WidgetsState;
use super::model::{
    RevisionList, SharedWidget, Tag, Visibility, Widget, WidgetData, WidgetKind, WidgetOptions,
    WidgetPage,
};
use super::service::{NewWidget, WidgetChange};
use crate::auth::Auth;
use crate::portfolio::query::Source;

const TAG: &str = "widgets";

/// A new widget. Chat's `widget` suggestion (`{kind, title, source}`) is
/// one as it comes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWidget {
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    /// Up to 500 characters.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub kind: WidgetKind,
    /// What it shows; required for every kind but `note`, which has none.
    /// Each kind draws only the sources it makes sense for (`pie`: allocation,
    /// holdings, concentration; `line`: history; `metric`: summary, position,
    /// one realized total, one XIRR; `bar`: lists and per-year figures;
    /// `table`: any).
    pub source: Option<Source>,
    pub options: Option<WidgetOptions>,
    /// Up to 10 words it is found by in discovery, each 1 to 30 of a-z,
    /// 0-9 and `-`.
    #[schema(max_items = 10)]
    pub tags: Option<Vec<Tag>>,
    /// `private` when left out.
    pub visibility: Option<Visibility>,
    /// Whether other viewers see no amounts and quantities; `true` when left out.
    pub hide_amounts: Option<bool>,
}

/// Present only to distinguish `"source": null` (remove) from absent (keep).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(de: D) -> Result<Option<T>, D::Error> {
    T::deserialize(de).map(Some)
}

/// A change: the fields present change, the others stay.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeWidget {
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub kind: Option<WidgetKind>,
    /// `null` removes the source (for a widget becoming a note).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Source>, nullable)]
    pub source: Option<Option<Source>>,
    pub options: Option<WidgetOptions>,
    /// Replaces its tags.
    #[schema(max_items = 10)]
    pub tags: Option<Vec<Tag>>,
    /// Unlisted or public gives it a share link; private kills the link.
    pub visibility: Option<Visibility>,
    pub hide_amounts: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// 1–100; 20 when left out.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Make a widget.
///
/// Free accounts keep up to 10 widgets (a setting); past that the answer
/// is 403 `permission_denied` "pro subscription required".
#[utoipa::path(post, path = "/widgets", tag = TAG,
    security(("bearer" = [])),
    request_body = CreateWidget,
    responses(
        (status = 201, description = "The widget", body = Widget),
        (status = 400, description = "A field is invalid, or the kind cannot draw the source", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The Free plan's widgets are used up", body = ErrorBody),
    ))]
pub async fn create_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateWidget>,
) -> Result<(StatusCode, ApiJson<Widget>), ApiError> {
    let widget = state
        .service
        .create(
            &caller.user,
            NewWidget {
                title: req.title,
                description: req.description,
                kind: req.kind,
                source: req.source,
                options: req.options,
                tags: req.tags,
                visibility: req.visibility,
                hide_amounts: req.hide_amounts,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(widget)))
}

/// The caller's widgets, newest first, a page at a time.
#[utoipa::path(get, path = "/widgets", tag = TAG,
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of widgets", body = WidgetPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_widgets(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<WidgetPage>, ApiError> {
    let page = state
        .service
        .list(
            &caller.user,
            query.cursor.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(ApiJson(page))
}

/// One of the caller's widgets; another user's is not found.
#[utoipa::path(get, path = "/widgets/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "The widget", body = Widget),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn get_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Widget>, ApiError> {
    Ok(ApiJson(state.service.get(&caller.user, &id).await?))
}

/// Change a widget; a change of what it shows is a new revision.
#[utoipa::path(patch, path = "/widgets/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    request_body = ChangeWidget,
    responses(
        (status = 200, description = "The widget as changed", body = Widget),
        (status = 400, description = "A field is invalid, or the kind cannot draw the source", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn change_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ChangeWidget>,
) -> Result<ApiJson<Widget>, ApiError> {
    let widget = state
        .service
        .update(
            &caller.user,
            &id,
            WidgetChange {
                title: req.title,
                description: req.description,
                kind: req.kind,
                source: req.source,
                options: req.options,
                tags: req.tags,
                visibility: req.visibility,
                hide_amounts: req.hide_amounts,
            },
        )
        .await?;
    Ok(ApiJson(widget))
}

/// Delete a widget with its revisions.
#[utoipa::path(delete, path = "/widgets/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn delete_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete(&caller.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A widget's kept revisions (the last 20), newest first.
#[utoipa::path(get, path = "/widgets/{id}/revisions", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "Its revisions", body = RevisionList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn widget_revisions(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<RevisionList>, ApiError> {
    Ok(ApiJson(state.service.revisions(&caller.user, &id).await?))
}

/// Make an earlier revision current again (as a new revision).
#[utoipa::path(post, path = "/widgets/{id}/revisions/{n}/restore", tag = TAG,
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The widget"),
        ("n" = i64, Path, description = "The revision to restore", minimum = 1),
    ),
    responses(
        (status = 200, description = "The widget as restored", body = Widget),
        (status = 400, description = "`n` is not a number of a revision", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's, or that revision is not kept", body = ErrorBody),
    ))]
pub async fn restore_widget(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path((id, n)): Path<(String, String)>,
) -> Result<ApiJson<Widget>, ApiError> {
    // Read here, not by the extractor, so a bad number is a 400 in the error shape.
    let n = n
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::invalid_field("n", "must be a revision number, from 1"))?;
    Ok(ApiJson(state.service.restore(&caller.user, &id, n).await?))
}

/// What a widget shows: the same figures the portfolio endpoints and chat give.
#[utoipa::path(get, path = "/widgets/{id}/data", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "Its data", body = WidgetData),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn widget_data(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<WidgetData>, ApiError> {
    Ok(ApiJson(state.service.data(&caller.user, &id).await?))
}

/// Give a shared widget a new link; the old one stops working at once.
#[utoipa::path(post, path = "/widgets/{id}/share", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "The widget with its new `shareUrl`", body = Widget),
        (status = 400, description = "The widget is private (`failed_precondition`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn rotate_widget_link(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Widget>, ApiError> {
    Ok(ApiJson(state.service.rotate_link(&caller.user, &id).await?))
}

/// Stop sharing a widget: it becomes private and its link stops working.
#[utoipa::path(delete, path = "/widgets/{id}/share", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "The widget, private", body = Widget),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn revoke_widget_link(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Widget>, ApiError> {
    Ok(ApiJson(state.service.revoke_link(&caller.user, &id).await?))
}

/// A shared widget and its data, for anyone with the link; no sign-in.
/// Amounts and quantities are left out unless the owner shows them. A
/// browser (`Accept: text/html` first) gets the same as a web page, with
/// OpenGraph tags for link previews.
#[utoipa::path(get, path = "/shared/widgets/{token}", tag = TAG,
    params(("token" = String, Path, description = "The secret part of the share link")),
    responses(
        (status = 200, description = "The widget as others see it: JSON, or an HTML page for a browser", content(
            (SharedWidget = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, description = "Nothing is shared at this link (never was, rotated, or revoked)", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn shared_widget(
    State(state): State<WidgetsState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    if crate::web::wants_html(&headers) {
        return Ok(crate::web::html::page_or_error(
            state.service.shared_page(&token).await,
            state.service.public_url(),
        ));
    }
    Ok(crate::web::vary_accept(
        ApiJson(state.service.shared(&token).await?).into_response(),
    ))
}

/// An SVG document: what the chart routes answer.
pub struct Svg(pub String);

impl axum::response::IntoResponse for Svg {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "image/svg+xml; charset=utf-8",
            )],
            self.0,
        )
            .into_response()
    }
}

/// A widget drawn as SVG: title, axes and legend where the kind has them,
/// Indian number formatting, a colour-blind-safe palette.
#[utoipa::path(get, path = "/widgets/{id}/chart.svg", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn widget_chart(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Svg, ApiError> {
    Ok(Svg(state.service.chart(&caller.user, &id).await?))
}

/// A shared widget drawn as SVG, for anyone with the link; amounts left
/// out unless the owner shows them.
#[utoipa::path(get, path = "/shared/widgets/{token}/chart.svg", tag = TAG,
    params(("token" = String, Path, description = "The secret part of the share link")),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Nothing is shared at this link", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn shared_widget_chart(
    State(state): State<WidgetsState>,
    Path(token): Path<String>,
) -> Result<Svg, ApiError> {
    Ok(Svg(state.service.shared_chart(&token).await?))
}

/// A PNG image: what the card routes answer.
pub struct Png(pub bytes::Bytes);

impl axum::response::IntoResponse for Png {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "image/png")], self.0).into_response()
    }
}

/// A widget as a 1200×630 PNG card, for link previews.
#[utoipa::path(get, path = "/widgets/{id}/card.png", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The widget")),
    responses(
        (status = 200, description = "The card", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such widget of the caller's", body = ErrorBody),
    ))]
pub async fn widget_card(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Png, ApiError> {
    Ok(Png(state.service.card(&caller.user, &id).await?))
}

/// A shared widget as a 1200×630 PNG card, for anyone with the link (link
/// previews); amounts left out unless the owner shows them.
#[utoipa::path(get, path = "/shared/widgets/{token}/card.png", tag = TAG,
    params(("token" = String, Path, description = "The secret part of the share link")),
    responses(
        (status = 200, description = "The card", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "Nothing is shared at this link", body = ErrorBody),
        (status = 429, description = "Too many requests (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn shared_widget_card(
    State(state): State<WidgetsState>,
    Path(token): Path<String>,
) -> Result<Png, ApiError> {
    Ok(Png(state.service.shared_card(&token).await?))
}
