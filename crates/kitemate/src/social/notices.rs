//! Notices: made from fork and like events (exactly once each) and from
//! follows, read a page at a time, marked read, and pushed to open streams.

use chrono::DateTime;
use platform::ApiError;
use platform::db::Tx;

use super::model::{NoticeKind, NoticeWidget, Notification, NotificationPage};
use super::notice_store::{self, NewNotice, NoticeRow};
use super::service::SocialService;
use crate::auth::{User, ZerodhaReauthRequired};
use crate::widgets::{WidgetForked, WidgetLiked};

/// The most notices a page lists.
pub const MAX_NOTICES: i64 = 50;
/// Read notices are kept this long.
const KEEP_READ_DAYS: i64 = 90;
/// Any notice is kept this long.
const KEEP_DAYS: i64 = 365;

/// A notice in words: who did what to which widget.
fn text(kind: NoticeKind, actor: &str, count: i64, title: Option<&str>) -> String {
    let title = title.unwrap_or("your widget");
    match kind {
        NoticeKind::Forked => format!("{actor} forked “{title}”"),
        NoticeKind::Liked if count > 1 => format!("{count} people liked “{title}”"),
        NoticeKind::Liked => format!("{actor} liked “{title}”"),
        NoticeKind::Followed => format!("{actor} followed you"),
        NoticeKind::ZerodhaReauth => {
            "Your Zerodha session has ended (Kite ends them at 6 am): log in with Zerodha again to keep your portfolio fresh".to_string()
        }
    }
}

impl SocialService {
    /// Writes the notice of a fork in the subscriber's transaction `tx`.
    pub(super) async fn on_fork(&self, event: &WidgetForked, mut tx: Tx) -> anyhow::Result<Tx> {
        // Reads of other services come before the first write (see
        // `subscribe_exactly_once`).
        let title = self.widgets.title_of(&event.widget_id).await?.map(|t| t.0);
        let notice = NewNotice {
            user_id: &event.original_user_id,
            kind: NoticeKind::Forked.as_str(),
            actor_id: &event.forking_user_id,
            widget_id: Some(&event.widget_id),
            widget_title: title.as_deref(),
            fork_id: Some(&event.fork_id),
            now: self.clock.now().timestamp_millis(),
        };
        notice_store::add(&mut tx, &notice).await?;
        self.signal_after(&mut tx, &event.original_user_id);
        Ok(tx)
    }

    /// Writes (or adds to) the notice of a like in `tx`.
    pub(super) async fn on_like(&self, event: &WidgetLiked, mut tx: Tx) -> anyhow::Result<Tx> {
        let title = self.widgets.title_of(&event.widget_id).await?.map(|t| t.0);
        let notice = NewNotice {
            user_id: &event.owner_user_id,
            kind: NoticeKind::Liked.as_str(),
            actor_id: &event.liking_user_id,
            widget_id: Some(&event.widget_id),
            widget_title: title.as_deref(),
            fork_id: None,
            now: self.clock.now().timestamp_millis(),
        };
        notice_store::add(&mut tx, &notice).await?;
        self.signal_after(&mut tx, &event.owner_user_id);
        Ok(tx)
    }

    /// Writes the notice that the user's Zerodha session ended, in `tx`.
    pub(super) async fn on_zerodha_reauth(
        &self,
        event: &ZerodhaReauthRequired,
        mut tx: Tx,
    ) -> anyhow::Result<Tx> {
        let notice = NewNotice {
            user_id: &event.user_id,
            kind: NoticeKind::ZerodhaReauth.as_str(),
            actor_id: &event.user_id,
            widget_id: None,
            widget_title: None,
            fork_id: None,
            now: self.clock.now().timestamp_millis(),
        };
        notice_store::add(&mut tx, &notice).await?;
        self.signal_after(&mut tx, &event.user_id);
        Ok(tx)
    }

    /// Deletes read notices after 90 days and any after a year; answers how many.
    pub async fn prune_notices(&self) -> Result<u64, ApiError> {
        let now = self.clock.now();
        let ms = |days| (now - chrono::TimeDelta::days(days)).timestamp_millis();
        Ok(notice_store::prune(&self.db, ms(KEEP_READ_DAYS), ms(KEEP_DAYS)).await?)
    }

    /// Signals `user_id`'s streams once `tx` has committed (the handler
    /// hands it back uncommitted), so they find the notice when they look.
    fn signal_after(&self, tx: &mut Tx, user_id: &str) {
        let service = self.clone();
        let user_id = user_id.to_string();
        tx.after_commit(move || {
            tokio::spawn(async move { service.signal(&user_id).await });
        });
    }

    /// Notices as the user reads them, with their actors' usernames.
    pub(super) async fn notices(
        &self,
        rows: Vec<NoticeRow>,
    ) -> Result<Vec<Notification>, ApiError> {
        let actors: Vec<&str> = rows.iter().map(|r| r.actor_id.as_str()).collect();
        let names = self.auth.usernames(&actors).await?;
        rows.into_iter()
            .map(|row| {
                let kind = NoticeKind::parse(&row.kind).ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("notice {} has kind {}", row.id, row.kind))
                })?;
                let actor = names
                    .get(&row.actor_id)
                    .cloned()
                    .unwrap_or_else(|| "someone".into());
                Ok(Notification {
                    text: text(kind, &actor, row.count, row.widget_title.as_deref()),
                    kind,
                    actor,
                    count: row.count,
                    widget: row.widget_id.map(|id| NoticeWidget {
                        id,
                        title: row.widget_title.unwrap_or_default(),
                    }),
                    fork_id: row.fork_id,
                    read: row.read,
                    created_at: DateTime::from_timestamp_millis(row.created_at).unwrap_or_default(),
                    id: row.id,
                })
            })
            .collect()
    }

    /// A page of the caller's notices, newest first, with the unread count.
    pub async fn notifications(
        &self,
        me: &User,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<NotificationPage, ApiError> {
        let limit = limit.clamp(1, MAX_NOTICES);
        let (rows, more) = notice_store::page(&self.db, &me.id, cursor, limit).await?;
        let notifications = self.notices(rows).await?;
        Ok(NotificationPage {
            unread: notice_store::unread(&self.db, &me.id).await?,
            next_cursor: more
                .then(|| notifications.last().map(|n| n.id.clone()))
                .flatten(),
            notifications,
        })
    }

    /// Marks the caller's notices read up to `up_to` (all when `None`);
    /// answers how many are still unread.
    pub async fn mark_read(&self, me: &User, up_to: Option<&str>) -> Result<i64, ApiError> {
        notice_store::mark_read(&self.db, &me.id, up_to).await?;
        Ok(notice_store::unread(&self.db, &me.id).await?)
    }

    /// The caller's notices newer than `after` (all when `None`), oldest
    /// first, at most 50.
    pub(super) async fn since(
        &self,
        me: &User,
        after: Option<&str>,
    ) -> Result<Vec<Notification>, ApiError> {
        // Every id sorts after the empty string, in any collation.
        let after = after.unwrap_or("");
        let rows = notice_store::newer(&self.db, &me.id, after, MAX_NOTICES).await?;
        self.notices(rows).await
    }

    /// The id of the caller's newest notice.
    pub(super) async fn newest_notice(&self, me: &User) -> Result<Option<String>, ApiError> {
        Ok(notice_store::newest(&self.db, &me.id).await?)
    }

    /// Unread notices, counted up to 100.
    pub(super) async fn unread(&self, me: &User) -> Result<i64, ApiError> {
        Ok(notice_store::unread(&self.db, &me.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_as_sentences() {
        assert_eq!(
            text(NoticeKind::Forked, "asha", 1, Some("Allocation")),
            "asha forked “Allocation”"
        );
        assert_eq!(
            text(NoticeKind::Liked, "ravi", 3, Some("Allocation")),
            "3 people liked “Allocation”"
        );
        assert_eq!(
            text(NoticeKind::Liked, "ravi", 1, None),
            "ravi liked “your widget”"
        );
        assert_eq!(
            text(NoticeKind::Followed, "mia", 1, None),
            "mia followed you"
        );
    }
}
