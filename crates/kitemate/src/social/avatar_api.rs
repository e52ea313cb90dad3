//! HTTP handlers of avatars: ask where to upload, use the upload, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::SocialState;
use super::model::{AvatarUpload, Profile};
use crate::auth::Auth;

const TAG: &str = "social";

/// The type of the picture about to be uploaded.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAvatar {
    /// `image/png`, `image/jpeg` or `image/webp`.
    #[schema(pattern = "^image/(png|jpeg|webp)$")]
    pub content_type: String,
}

/// Start a new picture: answers a signed URL to `PUT` the image to (10
/// minutes, this content type only, at most 2 MiB); then call
/// `POST /profiles/me/avatar/{upload}`.
#[utoipa::path(post, path = "/profiles/me/avatar", tag = TAG,
    security(("bearer" = [])),
    request_body = NewAvatar,
    responses(
        (status = 200, description = "Where to upload", body = AvatarUpload),
        (status = 400, description = "Not a type taken", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Too many; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn avatar_upload(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<NewAvatar>,
) -> Result<ApiJson<AvatarUpload>, ApiError> {
    let upload = state
        .service
        .avatar_upload(&caller.user, &req.content_type)
        .await?;
    Ok(ApiJson(upload))
}

/// Use an uploaded picture: checked from its bytes (PNG, JPEG or WebP, at
/// most 2 MiB and 4096×4096 pixels), cropped square and re-encoded at 256
/// and 64 pixels without its metadata. The upload itself is deleted; a
/// refused one leaves the old picture in place and says why (`upload`).
#[utoipa::path(post, path = "/profiles/me/avatar/{upload}", tag = TAG,
    security(("bearer" = [])),
    params(("upload" = String, Path, description = "The `uploadId` from `POST /profiles/me/avatar`")),
    responses(
        (status = 200, description = "The profile with its new picture", body = Profile),
        (status = 400, description = "The upload is not a picture taken (`upload` says why)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "Nothing was uploaded for this id", body = ErrorBody),
    ))]
pub async fn use_avatar(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(upload_id): Path<String>,
) -> Result<ApiJson<Profile>, ApiError> {
    Ok(ApiJson(
        state.service.use_avatar(&caller.user, &upload_id).await?,
    ))
}

/// Remove your picture.
#[utoipa::path(delete, path = "/profiles/me/avatar", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No picture"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn delete_avatar(
    State(state): State<SocialState>,
    Auth(caller): Auth,
) -> Result<StatusCode, ApiError> {
    state.service.delete_avatar(&caller.user).await?;
    Ok(StatusCode::NO_CONTENT)
}
