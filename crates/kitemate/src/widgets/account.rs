//! The widgets service's part in a user's export and deletion: widgets with
//! their revisions, dashboards, and the likes they gave. A deletion also
//! takes the user's likes and forks back from others' counts, and leaves the
//! forks others made of their widgets without a name that could later
//! belong to someone else.

use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::Tx;

use super::model::ForkedFrom;
use super::reach_store::{self, Bump};
use super::service::WidgetService;
use super::store;
use crate::auth::{AccountPart, UserDeleted};

/// Widgets, dashboards and likes read per page of the export.
const PAGE: i64 = 100;

impl AccountPart for WidgetService {
    async fn export(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        let owner = self.auth.user(user_id).await?;
        archive.file("widgets/widgets.jsonl").await?;
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list(&owner, cursor.as_deref(), PAGE).await?;
            for widget in &page.widgets {
                let revisions = self.revisions(&owner, &widget.id).await?;
                let line =
                    serde_json::json!({ "widget": widget, "revisions": revisions.revisions });
                archive.lines(&[line]).await?;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        archive.file("widgets/dashboards.jsonl").await?;
        let mut cursor: Option<String> = None;
        loop {
            let page = self.dashboards(&owner, cursor.as_deref(), PAGE).await?;
            archive.lines(&page.dashboards).await?;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        archive.file("widgets/likes.jsonl").await?;
        let mut after = String::new();
        loop {
            let page = reach_store::likes_given(&self.db, user_id, &after, PAGE * 10).await?;
            archive.lines(&page).await?;
            match page.last() {
                Some(last) if page.len() as i64 == PAGE * 10 => after.clone_from(&last.widget_id),
                _ => return Ok(()),
            }
        }
    }
}

impl WidgetService {
    /// Deletes what widgets keeps about a deleted account, in `tx`: its likes
    /// and forks leave others' counts, forks of its widgets keep their
    /// lineage without its name, then its rows go.
    pub async fn forget_user_in(&self, tx: &mut Tx, gone: &UserDeleted) -> Result<(), ApiError> {
        let user_id = gone.user_id.as_str();
        let (liked, forked) = reach_store::reach_of(tx, user_id).await?;
        for widget_id in liked {
            let bump = Bump {
                likes: -1,
                ..Bump::default()
            };
            reach_store::bump(tx, &widget_id, bump).await?;
        }
        for lineage in forked {
            let Ok(from) = serde_json::from_str::<ForkedFrom>(&lineage) else {
                continue;
            };
            match reach_store::owner_in(tx, &from.widget_id).await? {
                Some(owner) if owner != user_id => {
                    let bump = Bump {
                        forks: -1,
                        ..Bump::default()
                    };
                    reach_store::bump(tx, &from.widget_id, bump).await?;
                    reach_store::fork_withdrawn(tx, &owner).await?;
                }
                _ => {}
            }
        }
        let mine = store::ids_of_in(tx, user_id).await?;
        for (id, lineage) in reach_store::forks_of_in(tx, &gone.username).await? {
            let Ok(mut from) = serde_json::from_str::<ForkedFrom>(&lineage) else {
                continue;
            };
            if mine.contains(&from.widget_id) {
                from.owner_username = None;
                let lineage = serde_json::to_string(&from).map_err(ApiError::internal)?;
                reach_store::set_lineage(tx, &id, &lineage).await?;
            }
        }
        reach_store::delete_user(tx, user_id).await?;
        Ok(())
    }
}
