//! The social service's logic: profiles as anyone may see them, and
//! follows; notices, moderation and what others do with widgets are in
//! `notices`, `moderation` and `reach`.

use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;
use platform::objects::Bucket;
use platform::pubsub::{Fanout, Notice};
use platform::ratelimit::RateLimiter;
use tokio::sync::broadcast;

use super::config::SocialConfig;
use super::model::{Counts, MAX_BIO, MAX_DISPLAY_NAME, MAX_LINK, MAX_LINKS, Profile};
use super::moderation_store;
use super::notice_store::{self, NewNotice};
use super::store::{self, ProfileRow};
use crate::auth::{AuthService, User};
use crate::widgets::WidgetService;

/// The fanout channel that says "this user has a new notice".
pub(super) const NOTICES: &str = "notices";
/// A signal for every stream: notices may have been missed.
pub(super) const EVERYONE: &str = "*";

/// A change of one's profile: what is present changes.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub links: Option<Vec<String>>,
    pub private: Option<bool>,
}

/// What the social service is built from.
#[derive(Debug, Clone)]
pub struct SocialParts {
    pub config: SocialConfig,
    /// Per-user limit on forks, likes and follows.
    pub actions: RateLimiter,
    /// Per-user limit on reports.
    pub reports: RateLimiter,
    /// Tells other replicas of new notices; `None` on one process.
    pub fanout: Option<Fanout>,
    /// The `profile-pictures` bucket (public).
    pub pictures: Bucket,
    /// The `avatar-uploads` bucket (private).
    pub uploads: Bucket,
    /// Where the public pages everyone asks for alike are kept a moment.
    pub cache: platform::cache::Cache,
}

#[derive(Debug, Clone)]
pub struct SocialService {
    pub(super) db: Db,
    pub(super) clock: Clock,
    pub(super) auth: AuthService,
    pub(super) widgets: WidgetService,
    pub(super) parts: SocialParts,
    /// User ids with a new notice, for the streams open on this replica.
    pub(super) signals: broadcast::Sender<String>,
}

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("no such profile")
}

/// Text as it is kept: control characters (which no one types and which
/// can hide or reorder what others read) dropped; `keep_lines` keeps line
/// breaks, else they become spaces on one line.
fn plain(text: &str, keep_lines: bool) -> String {
    let kept: String = text
        .chars()
        .filter_map(|c| match c {
            '\n' if keep_lines => Some('\n'),
            '\n' | '\r' | '\t' => Some(' '),
            // Bidirectional overrides and isolates reorder what follows them.
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                None
            }
            c => Some(c),
        })
        .collect();
    if keep_lines {
        kept.trim().to_string()
    } else {
        kept.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn at_most(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

fn check_links(links: &[String]) -> Result<(), ApiError> {
    if links.len() > MAX_LINKS {
        return Err(ApiError::invalid_field(
            "links",
            format!("at most {MAX_LINKS} links"),
        ));
    }
    for (i, link) in links.iter().enumerate() {
        if link.len() > MAX_LINK || !is_web_address(link) {
            return Err(ApiError::invalid_field(
                &format!("links[{i}]"),
                format!(
                    "must be an https:// address with a host name (no port, no brackets) of at most {MAX_LINK} characters"
                ),
            ));
        }
    }
    Ok(())
}

/// `https://`, a host name of letters, digits, dots and hyphens, then
/// optionally a path, query or fragment of URL characters: the grammar of
/// `Link`'s schema pattern. No port and no brackets, so every reader parses it
/// the same way (a bracket is an IPv6 literal to a URL parser; a fuzzer once
/// crashed on one a profile gave back).
fn is_web_address(link: &str) -> bool {
    let Some(rest) = link.strip_prefix("https://") else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && tail.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'..=b'/' | b':' | b';' | b'=' | b'?' | b'@' | b'_' | b'~'
                )
        })
}

impl SocialService {
    pub fn new(
        db: Db,
        clock: Clock,
        auth: AuthService,
        widgets: WidgetService,
        parts: SocialParts,
    ) -> Self {
        let (signals, _) = broadcast::channel(1024);
        if let Some(fanout) = &parts.fanout {
            let local = signals.clone();
            fanout.listen(NOTICES, move |notice| {
                // No stream open is no error. After a gap every stream looks.
                let user = match notice {
                    Notice::Message(user) => String::from_utf8_lossy(user).into_owned(),
                    Notice::Gap => EVERYONE.to_string(),
                };
                let _ = local.send(user);
            });
        }
        Self {
            db,
            clock,
            auth,
            widgets,
            parts,
            signals,
        }
    }

    /// Spends one of `user`'s allowance of `action` (fork, like, follow,
    /// report), or says when to try again.
    pub(super) async fn allow(&self, action: &str, user: &User) -> Result<(), ApiError> {
        let limiter = if action == "report" {
            &self.parts.reports
        } else {
            &self.parts.actions
        };
        limiter
            .check(&format!("{action}:{}", user.id))
            .await
            .map_err(|wait| {
                ApiError::resource_exhausted(
                    format!("too many of this action ({action}); try again shortly"),
                    wait.as_secs_f64().ceil() as u64,
                )
            })
    }

    /// Tells every open stream of `user_id`'s, on any replica, to look for
    /// new notices.
    pub(super) async fn signal(&self, user_id: &str) {
        match &self.parts.fanout {
            Some(fanout) => fanout.publish(NOTICES, user_id.as_bytes()).await,
            None => {
                let _ = self.signals.send(user_id.to_string());
            }
        }
    }

    /// The user behind a username, when `viewer` may see their profile:
    /// not when it is private or hidden (unless it is theirs), nor when its
    /// owner blocked them.
    pub(super) async fn visible(
        &self,
        username: &str,
        viewer: Option<&User>,
    ) -> Result<(User, ProfileRow), ApiError> {
        let user = self
            .auth
            .user_by_username(username)
            .await?
            .ok_or_else(not_found)?;
        let row = store::profile(&self.db, &user.id)
            .await?
            .unwrap_or_else(ProfileRow::blank);
        let own = viewer.is_some_and(|v| v.id == user.id);
        if !own && (row.private || row.hidden) {
            // As if there were nobody by that name.
            return Err(not_found());
        }
        if let Some(viewer) = viewer
            && !own
            && moderation_store::blocks(&self.db, &user.id, &viewer.id).await?
        {
            return Err(not_found());
        }
        Ok((user, row))
    }

    /// A profile with a page of its public widgets, as `viewer` (signed in
    /// or not) may see it.
    pub async fn profile(
        &self,
        username: &str,
        viewer: Option<&User>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Profile, ApiError> {
        self.profile_with(username, viewer, (cursor, None), limit)
            .await
    }

    /// [`Self::profile`] with a cursor for its widgets and one for its
    /// dashboards.
    pub async fn profile_with(
        &self,
        username: &str,
        viewer: Option<&User>,
        (cursor, dashboards_cursor): (Option<&str>, Option<&str>),
        limit: i64,
    ) -> Result<Profile, ApiError> {
        let (user, row) = self.visible(username, viewer).await?;
        self.profile_of(user, row, viewer, (cursor, dashboards_cursor), limit)
            .await
    }

    /// The profile of a user already found and allowed to be seen.
    async fn profile_of(
        &self,
        user: User,
        row: ProfileRow,
        viewer: Option<&User>,
        (cursor, dashboards_cursor): (Option<&str>, Option<&str>),
        limit: i64,
    ) -> Result<Profile, ApiError> {
        let links: Vec<String> = serde_json::from_str(&row.links).map_err(|_| {
            ApiError::internal(anyhow::anyhow!(
                "stored links of {} cannot be read",
                user.id
            ))
        })?;
        let (followers, following) = store::counts(&self.db, &user.id).await?;
        let followed_by_you = match viewer {
            Some(v) if v.id != user.id => Some(store::follows(&self.db, &v.id, &user.id).await?),
            Some(_) => Some(false),
            None => None,
        };
        let (avatar_url, avatar_small_url) =
            super::picture::urls(&self.parts.pictures, row.avatar_key.as_deref());
        Ok(Profile {
            avatar_url,
            avatar_small_url,
            display_name: if row.display_name.is_empty() {
                user.username.clone()
            } else {
                row.display_name
            },
            bio: row.bio,
            links,
            private: row.private,
            joined_at: user.created_at,
            counts: Counts {
                public_widgets: self.widgets.public_count(&user.id).await?,
                followers,
                following,
                forks_received: self.widgets.forks_received(&user.id).await?,
            },
            followed_by_you,
            widgets: self
                .widgets
                .public_widgets(&user.id, &user.username, cursor, limit)
                .await?,
            dashboards: self
                .widgets
                .public_dashboards(&user.id, &user.username, dashboards_cursor, limit)
                .await?,
            username: user.username,
        })
    }

    /// Where the profile once at `username` is now, when its owner changed
    /// their username in the last 30 days and `viewer` may see it.
    pub async fn moved(
        &self,
        username: &str,
        viewer: Option<&User>,
    ) -> Result<Option<String>, ApiError> {
        let Some(now) = self.auth.renamed(username).await? else {
            return Ok(None);
        };
        Ok(self
            .visible(&now, viewer)
            .await
            .ok()
            .map(|(user, _)| user.username))
    }

    /// The caller's own profile, found by id: the username their session
    /// carries may have changed since, even while this request runs (so it
    /// is never looked up by name again).
    pub(super) async fn own_profile(&self, me: &User, limit: i64) -> Result<Profile, ApiError> {
        let now = self.auth.user(&me.id).await?;
        let row = store::profile(&self.db, &now.id)
            .await?
            .unwrap_or_else(ProfileRow::blank);
        self.profile_of(now.clone(), row, Some(&now), (None, None), limit)
            .await
    }

    /// Changes the caller's own profile.
    pub async fn change(&self, me: &User, change: ProfileChange) -> Result<Profile, ApiError> {
        let mut row = store::profile(&self.db, &me.id)
            .await?
            .unwrap_or_else(ProfileRow::blank);
        // Lengths are of what was sent, as the schema states them.
        if let Some(name) = change.display_name {
            at_most("displayName", &name, MAX_DISPLAY_NAME)?;
            row.display_name = plain(&name, false);
        }
        if let Some(bio) = change.bio {
            at_most("bio", &bio, MAX_BIO)?;
            row.bio = plain(&bio, true);
        }
        if let Some(links) = change.links {
            check_links(&links)?;
            row.links = serde_json::to_string(&links).map_err(ApiError::internal)?;
        }
        if let Some(private) = change.private {
            row.private = private;
        }
        let private = change.private.is_some();
        let mut tx = self.db.begin().await?;
        store::save_profile(&mut tx, &me.id, &row, self.clock.now().timestamp_millis()).await?;
        tx.commit().await?;
        if private {
            self.widgets
                .withdraw(&me.id, Some(row.private), None)
                .await?;
        }
        self.own_profile(me, 20).await
    }

    /// The caller follows `username` (again: no change); they hear of it.
    pub async fn follow(&self, me: &User, username: &str) -> Result<(), ApiError> {
        self.allow("follow", me).await?;
        let (them, _) = self.visible(username, Some(me)).await?;
        if them.id == me.id {
            return Err(ApiError::invalid_field(
                "username",
                "you cannot follow yourself",
            ));
        }
        if moderation_store::blocks(&self.db, &me.id, &them.id).await? {
            return Err(ApiError::failed_precondition(
                "you blocked them: unblock them first",
            ));
        }
        let (_, following) = store::counts(&self.db, &me.id).await?;
        let max = i64::from(self.parts.config.max_following);
        if following >= max {
            return Err(ApiError::failed_precondition(format!(
                "you follow {max} people, the most one may: unfollow someone first"
            )));
        }
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        let added = store::follow(&mut tx, &me.id, &them.id, now).await?;
        if added {
            let notice = NewNotice {
                user_id: &them.id,
                kind: "followed",
                actor_id: &me.id,
                widget_id: None,
                widget_title: None,
                fork_id: None,
                now,
            };
            notice_store::add(&mut tx, &notice).await?;
        }
        tx.commit().await?;
        if added {
            self.public_changed().await;
            self.signal(&them.id).await;
        }
        Ok(())
    }

    /// The caller stops following `username` (not following: no change).
    pub async fn unfollow(&self, me: &User, username: &str) -> Result<(), ApiError> {
        self.allow("follow", me).await?;
        let them = self
            .auth
            .user_by_username(username)
            .await?
            .ok_or_else(not_found)?;
        let mut tx = self.db.begin().await?;
        if store::unfollow(&mut tx, &me.id, &them.id).await? {
            tx.commit().await?;
            self.public_changed().await;
        }
        Ok(())
    }
}
