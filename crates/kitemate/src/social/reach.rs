//! What people do with others' widgets, checked against blocks and the
//! per-user limits before the widgets service does it: forks, likes; and
//! what they find: discovery, the feed, profiles by name.

use std::collections::HashMap;

use platform::ApiError;

use super::model::{ProfileCard, ProfileList};
use super::moderation_store;
use super::service::SocialService;
use super::store;
use crate::auth::User;
use crate::widgets::Discover;
use crate::widgets::model::{Dashboard, PublicWidgetPage, Reactions, Widget};

/// Profiles a search lists.
const MAX_PROFILES: i64 = 20;

impl SocialService {
    /// A widget of `owner_id`'s may not be touched by `me` when either
    /// blocked the other: it is as if it did not exist.
    async fn not_blocked(&self, me: &User, owner_id: &str) -> Result<(), ApiError> {
        if owner_id != me.id
            && moderation_store::blocked_between(&self.db, &me.id, owner_id).await?
        {
            return Err(ApiError::not_found("no such shared widget"));
        }
        Ok(())
    }

    /// Forks a shared widget into the caller's account (their own, shared
    /// or not, is duplicated).
    pub async fn fork(&self, me: &User, id: &str, token: Option<&str>) -> Result<Widget, ApiError> {
        self.allow("fork", me).await?;
        let owner = self.widgets.owner_for_reach(id, token, me).await?;
        self.not_blocked(me, &owner).await?;
        self.widgets.fork(me, id, token).await
    }

    /// Forks a public dashboard (every shared widget on it) into the
    /// caller's account.
    pub async fn fork_dashboard(&self, me: &User, id: &str) -> Result<Dashboard, ApiError> {
        self.allow("fork", me).await?;
        let owner = self.widgets.owner_for_dashboard_fork(id, me).await?;
        if owner != me.id && moderation_store::blocked_between(&self.db, &me.id, &owner).await? {
            return Err(ApiError::not_found("no such dashboard"));
        }
        self.widgets.fork_dashboard(me, id).await
    }

    /// The caller likes a shared widget.
    pub async fn like(
        &self,
        me: &User,
        id: &str,
        token: Option<&str>,
    ) -> Result<Reactions, ApiError> {
        self.allow("like", me).await?;
        let owner = self.widgets.owner_for_reach(id, token, me).await?;
        self.not_blocked(me, &owner).await?;
        self.widgets.like(me, id, token).await
    }

    /// The caller takes a like back.
    pub async fn unlike(&self, me: &User, id: &str) -> Result<Reactions, ApiError> {
        self.allow("like", me).await?;
        self.widgets.unlike(me, id).await
    }

    /// Public widgets, for anyone.
    pub async fn discover(&self, ask: &Discover) -> Result<PublicWidgetPage, ApiError> {
        self.widgets.discover(ask).await
    }

    /// The public widgets of the people the caller follows, newest first.
    pub async fn feed(
        &self,
        me: &User,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<PublicWidgetPage, ApiError> {
        let following =
            store::following(&self.db, &me.id, i64::from(self.parts.config.max_following)).await?;
        self.widgets.feed(&following, cursor, limit).await
    }

    /// Public profiles whose username starts with, or display name holds,
    /// `q`: exact username first, then the most followed.
    pub async fn find_profiles(&self, q: &str) -> Result<ProfileList, ApiError> {
        let needle = q.trim().to_lowercase();
        if needle.is_empty() {
            return Err(ApiError::invalid_field("q", "must not be blank"));
        }
        let by_name = self.auth.find_usernames(&needle, MAX_PROFILES).await?;
        let by_display = store::search(&self.db, &needle, MAX_PROFILES).await?;
        let mut ids: Vec<&str> = by_name.iter().map(|(id, _)| id.as_str()).collect();
        for card in &by_display {
            if !ids.contains(&card.user_id.as_str()) {
                ids.push(&card.user_id);
            }
        }
        let cards: HashMap<String, store::CardRow> = store::cards(&self.db, &ids)
            .await?
            .into_iter()
            .map(|c| (c.user_id.clone(), c))
            .collect();
        let names = self.auth.usernames(&ids).await?;
        let mut profiles = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(username) = names.get(*id) else {
                continue;
            };
            let card = match cards.get(*id) {
                Some(c) if c.private || c.hidden => continue,
                Some(c) => ProfileCard {
                    username: username.clone(),
                    display_name: if c.display_name.is_empty() {
                        username.clone()
                    } else {
                        c.display_name.clone()
                    },
                    bio: c.bio.clone(),
                    avatar_url: super::picture::urls(&self.parts.pictures, c.avatar_key.as_deref())
                        .1,
                    followers: c.followers,
                },
                None => ProfileCard {
                    username: username.clone(),
                    display_name: username.clone(),
                    bio: String::new(),
                    avatar_url: None,
                    followers: store::counts(&self.db, id).await?.0,
                },
            };
            profiles.push(card);
        }
        profiles.sort_by(|a, b| {
            (b.username == needle)
                .cmp(&(a.username == needle))
                .then(b.followers.cmp(&a.followers))
                .then(a.username.cmp(&b.username))
        });
        profiles.truncate(MAX_PROFILES as usize);
        Ok(ProfileList { profiles })
    }
}
