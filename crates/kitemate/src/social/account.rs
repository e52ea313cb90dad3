//! The social service's part in a user's export and deletion: the profile
//! and its picture, follows both ways, notices, blocks and reports. A
//! deletion takes the user's follows back from others' counts.

use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::Tx;
use serde::Serialize;

use super::account_store::{self, Tie};
use super::notices::MAX_NOTICES;
use super::service::SocialService;
use super::{picture, store};
use crate::auth::AccountPart;

/// Follows read per page of the export.
const PAGE: i64 = 1_000;

/// Someone on the other side of a follow or a block.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Other {
    /// `null` when their account is gone.
    username: Option<String>,
    since: chrono::DateTime<chrono::Utc>,
}

impl AccountPart for SocialService {
    async fn export(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        let me = self.auth.user(user_id).await?;
        let profile = self.own_profile(&me, 1).await?;
        archive.json("social/profile.json", &profile).await?;
        for (followers, name) in [(false, "following"), (true, "followers")] {
            archive.file(&format!("social/{name}.jsonl")).await?;
            let mut after = String::new();
            loop {
                let page = account_store::ties(&self.db, user_id, followers, &after, PAGE).await?;
                archive.lines(&self.others(&page).await?).await?;
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => after.clone_from(&last.other_id),
                    _ => break,
                }
            }
        }
        archive.file("social/notifications.jsonl").await?;
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .notifications(&me, cursor.as_deref(), MAX_NOTICES)
                .await?;
            archive.lines(&page.notifications).await?;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let blocked = account_store::blocked(&self.db, user_id).await?;
        archive.file("social/blocked.jsonl").await?;
        archive.lines(&self.others(&blocked).await?).await?;
        let reports = account_store::reports_by(&self.db, user_id).await?;
        archive.file("social/reports.jsonl").await?;
        archive.lines(&reports).await?;
        if let Some(stem) = store::profile(&self.db, user_id)
            .await?
            .and_then(|p| p.avatar_key)
        {
            let side = picture::SIDES[0];
            match self
                .parts
                .pictures
                .download(&format!("{stem}-{side}.png"))
                .await
            {
                Ok(object) => {
                    archive.file(&format!("social/avatar-{side}.png")).await?;
                    archive.write(&object.bytes).await?;
                }
                Err(platform::objects::ObjectError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }
}

impl SocialService {
    async fn others(&self, ties: &[Tie]) -> Result<Vec<Other>, ApiError> {
        let ids: Vec<&str> = ties.iter().map(|t| t.other_id.as_str()).collect();
        let names = self.auth.usernames(&ids).await?;
        Ok(ties
            .iter()
            .map(|t| Other {
                username: names.get(&t.other_id).cloned(),
                since: chrono::DateTime::from_timestamp_millis(t.created_at).unwrap_or_default(),
            })
            .collect())
    }

    /// Deletes what social keeps about a deleted account, in `tx`: its
    /// pictures and pending uploads first (again harmlessly on a retry),
    /// its follows through the counts they changed, then the rest.
    pub async fn forget_user_in(&self, tx: &mut Tx, user_id: &str) -> Result<(), ApiError> {
        let avatar = account_store::avatar_in(tx, user_id).await?;
        self.remove_pictures(avatar.as_deref()).await;
        for upload in self.parts.uploads.list(&format!("{user_id}/")).await? {
            self.parts.uploads.delete(&upload.key).await?;
        }
        let (following, followers) = account_store::all_ties_in(tx, user_id).await?;
        for followee in &following {
            store::unfollow(tx, user_id, followee).await?;
        }
        for follower in &followers {
            store::unfollow(tx, follower, user_id).await?;
        }
        account_store::delete_user(tx, user_id).await?;
        Ok(())
    }
}
