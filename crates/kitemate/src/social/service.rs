//! The social service's logic: profiles as anyone may see them, and follows.

use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;

use super::model::{Counts, MAX_BIO, MAX_DISPLAY_NAME, MAX_LINK, MAX_LINKS, Profile};
use super::store::{self, ProfileRow};
use crate::auth::{AuthService, User};
use crate::widgets::WidgetService;

/// A change of one's profile: what is present changes.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub links: Option<Vec<String>>,
    pub private: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct SocialService {
    db: Db,
    clock: Clock,
    auth: AuthService,
    widgets: WidgetService,
}

fn not_found() -> ApiError {
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
        let ok = link.len() <= MAX_LINK
            && link.starts_with("https://")
            && link.len() > "https://".len()
            && link
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>' | b'\\'));
        if !ok {
            return Err(ApiError::invalid_field(
                &format!("links[{i}]"),
                format!("must be an https:// address of at most {MAX_LINK} characters"),
            ));
        }
    }
    Ok(())
}

impl SocialService {
    pub fn new(db: Db, clock: Clock, auth: AuthService, widgets: WidgetService) -> Self {
        Self {
            db,
            clock,
            auth,
            widgets,
        }
    }

    /// The user behind a username, when `viewer` may see their profile.
    async fn visible(
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
        if row.private && viewer.is_none_or(|v| v.id != user.id) {
            // Private: as if there were nobody by that name.
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
        let (user, row) = self.visible(username, viewer).await?;
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
        Ok(Profile {
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
            },
            followed_by_you,
            widgets: self
                .widgets
                .public_widgets(&user.id, &user.username, cursor, limit)
                .await?,
            username: user.username,
        })
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
        let mut tx = self.db.begin().await?;
        store::save_profile(&mut tx, &me.id, &row, self.clock.now().timestamp_millis()).await?;
        tx.commit().await?;
        self.profile(&me.username, Some(me), None, 20).await
    }

    /// The caller follows `username` (again: no change).
    pub async fn follow(&self, me: &User, username: &str) -> Result<(), ApiError> {
        let (them, _) = self.visible(username, Some(me)).await?;
        if them.id == me.id {
            return Err(ApiError::invalid_field(
                "username",
                "you cannot follow yourself",
            ));
        }
        let mut tx = self.db.begin().await?;
        store::follow(
            &mut tx,
            &me.id,
            &them.id,
            self.clock.now().timestamp_millis(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller stops following `username` (not following: no change).
    pub async fn unfollow(&self, me: &User, username: &str) -> Result<(), ApiError> {
        let them = self
            .auth
            .user_by_username(username)
            .await?
            .ok_or_else(not_found)?;
        let mut tx = self.db.begin().await?;
        store::unfollow(&mut tx, &me.id, &them.id).await?;
        tx.commit().await?;
        Ok(())
    }
}
