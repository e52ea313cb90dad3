//! Avatars: a signed upload into the private `avatar-uploads` bucket, then
//! the upload checked and re-encoded (see `picture`) into the public
//! `profile-pictures` bucket; the original is always deleted, and a bad
//! upload leaves the old picture in place.

use std::time::Duration;

use chrono::TimeDelta;
use platform::ApiError;
use platform::objects::{BucketDecl, ObjectError};

use super::model::{AvatarUpload, Profile};
use super::picture;
use super::service::SocialService;
use super::store;
use crate::auth::User;

/// Pictures as profiles show them: anyone may read them.
pub static PICTURES: BucketDecl = BucketDecl::public("profile-pictures")
    .max_size(256 << 10)
    .content_types(&["image/png"]);

/// Uploads waiting to be checked: private, deleted once read.
pub static UPLOADS: BucketDecl = BucketDecl::private("avatar-uploads")
    .max_size(picture::MAX_BYTES as u64)
    .content_types(&["image/png", "image/jpeg", "image/webp"]);

/// How long an upload URL works.
const UPLOAD_TTL: Duration = Duration::from_secs(600);

/// The types an avatar may be uploaded as.
pub const TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

fn store_error(err: ObjectError) -> ApiError {
    ApiError::internal(anyhow::anyhow!("avatar storage: {err}"))
}

impl SocialService {
    /// Where the caller may upload a new picture of `content_type`.
    pub async fn avatar_upload(
        &self,
        me: &User,
        content_type: &str,
    ) -> Result<AvatarUpload, ApiError> {
        self.allow("avatar", me).await?;
        if !TYPES.contains(&content_type) {
            return Err(ApiError::invalid_field(
                "contentType",
                "must be image/png, image/jpeg or image/webp",
            ));
        }
        let upload_id = uuid::Uuid::now_v7().simple().to_string();
        let upload_url = self
            .parts
            .uploads
            .signed_upload_url(
                &format!("{}/{upload_id}", me.id),
                UPLOAD_TTL,
                Some(content_type),
            )
            .map_err(store_error)?;
        let ttl = TimeDelta::from_std(UPLOAD_TTL).unwrap_or_default();
        Ok(AvatarUpload {
            upload_id,
            upload_url,
            expires_at: self.clock.now() + ttl,
        })
    }

    /// Makes the upload `upload_id` the caller's picture, or says why not.
    pub async fn use_avatar(&self, me: &User, upload_id: &str) -> Result<Profile, ApiError> {
        if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::not_found("no such upload"));
        }
        let key = format!("{}/{upload_id}", me.id);
        let original = match self.parts.uploads.download(&key).await {
            Ok(object) => object.bytes,
            Err(ObjectError::NotFound) => {
                return Err(ApiError::not_found(
                    "nothing was uploaded for this id (or it was used already)",
                ));
            }
            Err(err) => return Err(store_error(err)),
        };
        // Checked and re-encoded off the async threads: a 4096² image takes
        // a good fraction of a second.
        let made = tokio::task::spawn_blocking(move || picture::avatars(&original))
            .await
            .map_err(ApiError::internal)?;
        // The original goes whatever the outcome: it was only to be read.
        self.parts.uploads.delete(&key).await.map_err(store_error)?;
        let [big, small] = made.map_err(|why| ApiError::invalid_field("upload", why))?;
        let stem = format!("{}/{upload_id}", me.id);
        for (side, png) in picture::SIDES.iter().zip([big, small]) {
            self.parts
                .pictures
                .upload(&format!("{stem}-{side}.png"), png, Some("image/png"))
                .await
                .map_err(store_error)?;
        }
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        let old = store::set_avatar(&mut tx, &me.id, Some(&stem), now).await?;
        tx.commit().await?;
        self.remove_pictures(old.as_deref()).await;
        self.public_changed().await;
        self.own_profile(me, 12).await
    }

    /// Takes the caller's picture away.
    pub async fn delete_avatar(&self, me: &User) -> Result<(), ApiError> {
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        let old = store::set_avatar(&mut tx, &me.id, None, now).await?;
        tx.commit().await?;
        self.remove_pictures(old.as_deref()).await;
        self.public_changed().await;
        Ok(())
    }

    /// Deletes the files of a picture no longer used; a failure leaves an
    /// orphan file, logged, and no one pointing at it.
    pub(super) async fn remove_pictures(&self, stem: Option<&str>) {
        let Some(stem) = stem else { return };
        for side in picture::SIDES {
            let key = format!("{stem}-{side}.png");
            if let Err(err) = self.parts.pictures.delete(&key).await {
                tracing::warn!(key, error = %err, "old avatar not deleted");
            }
        }
    }
}
