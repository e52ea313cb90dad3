//! The public pages everyone asks for alike, served from a short cache:
//! the first pages of discovery (no words, stock or cursor) and profiles as
//! a signed-out visitor sees them. Keys carry the generation of what others
//! see, which every change to it (a widget, a like, a follow, a profile, a
//! hide) renews, so a cached page is never stale; on replicas sharing Redis
//! they share it too. Pages expire after a few seconds besides, so the cache
//! holds only what is asked for now. Everything else is worked out per request.

use std::time::Duration;

use platform::ApiError;

use super::service::SocialService;
use crate::auth::User;
use crate::widgets::Discover;

/// How long a cached page is kept.
const FRESH: Duration = Duration::from_secs(3);
/// The page size a profile shows unless asked otherwise.
pub const PROFILE_PAGE: i64 = 12;

impl SocialService {
    /// A discovery page as JSON.
    pub async fn discover_json(&self, ask: &Discover) -> Result<Vec<u8>, ApiError> {
        let shared = ask.q.is_none() && ask.symbol.is_none() && ask.cursor.is_none();
        let key = match shared {
            true => Some(format!(
                "social:discover:{}:{:?}:{}:{}",
                self.widgets.public_generation().await,
                ask.sort,
                ask.kind.map_or("", |k| k.as_str()),
                ask.limit
            )),
            false => None,
        };
        if let Some(key) = &key
            && let Some(page) = self.parts.cache.get(key).await
        {
            return Ok(page);
        }
        let page = serde_json::to_vec(&self.discover(ask).await?).map_err(ApiError::internal)?;
        if let Some(key) = &key {
            self.parts.cache.set(key, &page, FRESH).await;
        }
        Ok(page)
    }

    /// A profile as JSON, as `viewer` may see it.
    pub async fn profile_json(
        &self,
        username: &str,
        viewer: Option<&User>,
        cursors: (Option<&str>, Option<&str>),
        limit: i64,
    ) -> Result<Vec<u8>, ApiError> {
        let shared = viewer.is_none() && cursors == (None, None) && limit == PROFILE_PAGE;
        let key = match shared {
            true => Some(format!(
                "social:profile:{}:{}",
                self.widgets.public_generation().await,
                username.to_ascii_lowercase()
            )),
            false => None,
        };
        if let Some(key) = &key
            && let Some(page) = self.parts.cache.get(key).await
        {
            return Ok(page);
        }
        let profile = self.profile_with(username, viewer, cursors, limit).await?;
        let page = serde_json::to_vec(&profile).map_err(ApiError::internal)?;
        if let Some(key) = &key {
            self.parts.cache.set(key, &page, FRESH).await;
        }
        Ok(page)
    }

    /// Something others see changed: cached pages are stale.
    pub(super) async fn public_changed(&self) {
        self.widgets.public_changed().await;
    }
}
