//! Blocks between users, and reports that administrators act on by hiding
//! what was reported (from discovery, profiles, feeds, links and embeds).

use chrono::DateTime;
use platform::ApiError;

use super::model::{Report, ReportPage, ReportReason, ReportReceipt, ReportStatus, ReportTarget};
use super::moderation_store::{self, ReportRow};
use super::service::{SocialService, not_found};
use super::store;
use crate::auth::User;

/// The longest note a report carries.
pub const MAX_NOTE: usize = 500;
/// Reports a page lists.
pub const MAX_REPORTS: i64 = 50;

impl SocialService {
    /// The caller blocks `username`: neither follows the other any more,
    /// and they cannot follow the caller, see their profile, or fork or
    /// like their widgets.
    pub async fn block(&self, me: &User, username: &str) -> Result<(), ApiError> {
        let them = self
            .auth
            .user_by_username(username)
            .await?
            .ok_or_else(not_found)?;
        if them.id == me.id {
            return Err(ApiError::invalid_field(
                "username",
                "you cannot block yourself",
            ));
        }
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        moderation_store::block(&mut tx, &me.id, &them.id, now).await?;
        store::unfollow(&mut tx, &me.id, &them.id).await?;
        store::unfollow(&mut tx, &them.id, &me.id).await?;
        tx.commit().await?;
        self.public_changed().await;
        Ok(())
    }

    /// The caller unblocks `username` (not blocked: no change).
    pub async fn unblock(&self, me: &User, username: &str) -> Result<(), ApiError> {
        let them = self
            .auth
            .user_by_username(username)
            .await?
            .ok_or_else(not_found)?;
        let mut tx = self.db.begin().await?;
        moderation_store::unblock(&mut tx, &me.id, &them.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Files a report of a public widget (by id) or profile (by username);
    /// reporting the same thing again while it is open changes nothing.
    pub async fn report(
        &self,
        me: &User,
        target: ReportTarget,
        id: &str,
        reason: ReportReason,
        note: &str,
    ) -> Result<ReportReceipt, ApiError> {
        self.allow("report", me).await?;
        if note.chars().count() > MAX_NOTE {
            return Err(ApiError::invalid_field(
                "note",
                format!("must be at most {MAX_NOTE} characters"),
            ));
        }
        let target_id = match target {
            ReportTarget::Widget => {
                self.widgets
                    .owner_of_shared(id, None, me)
                    .await
                    .map_err(|_| ApiError::not_found("no such public widget"))?;
                id.to_string()
            }
            ReportTarget::Profile => self.visible(id, Some(me)).await?.0.id,
        };
        let row = ReportRow {
            id: uuid::Uuid::now_v7().to_string(),
            reporter_id: me.id.clone(),
            target_kind: target.as_str().into(),
            target_id,
            reason: reason.as_str().into(),
            note: note
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect(),
            status: ReportStatus::Open.as_str().into(),
            created_at: self.clock.now().timestamp_millis(),
        };
        let mut tx = self.db.begin().await?;
        let id = moderation_store::report(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(ReportReceipt {
            id,
            status: ReportStatus::Open,
        })
    }

    /// A page of reports in `status`, oldest first.
    pub async fn reports(
        &self,
        status: ReportStatus,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<ReportPage, ApiError> {
        let limit = limit.clamp(1, MAX_REPORTS);
        let (rows, more) =
            moderation_store::reports(&self.db, status.as_str(), cursor, limit).await?;
        let mut people: Vec<&str> = rows.iter().map(|r| r.reporter_id.as_str()).collect();
        people.extend(
            rows.iter()
                .filter(|r| r.target_kind == ReportTarget::Profile.as_str())
                .map(|r| r.target_id.as_str()),
        );
        let names = self.auth.usernames(&people).await?;
        let mut reports = Vec::with_capacity(rows.len());
        for row in rows {
            let corrupt =
                || ApiError::internal(anyhow::anyhow!("report {} cannot be read", row.id));
            let target = ReportTarget::parse(&row.target_kind).ok_or_else(corrupt)?;
            let (target_id, target_title) = match target {
                ReportTarget::Widget => {
                    let title = self.widgets.title_of(&row.target_id).await?.map(|t| t.0);
                    (row.target_id.clone(), title)
                }
                ReportTarget::Profile => {
                    let name = names.get(&row.target_id).cloned().unwrap_or_default();
                    let shown = store::profile(&self.db, &row.target_id)
                        .await?
                        .map(|p| p.display_name)
                        .filter(|d| !d.is_empty())
                        .or_else(|| Some(name.clone()));
                    (name, shown)
                }
            };
            reports.push(Report {
                target,
                target_id,
                target_title,
                reason: ReportReason::parse(&row.reason).ok_or_else(corrupt)?,
                note: row.note.clone(),
                reporter: names.get(&row.reporter_id).cloned().unwrap_or_default(),
                status: ReportStatus::parse(&row.status).ok_or_else(corrupt)?,
                created_at: DateTime::from_timestamp_millis(row.created_at).unwrap_or_default(),
                id: row.id,
            });
        }
        Ok(ReportPage {
            next_cursor: more.then(|| reports.last().map(|r| r.id.clone())).flatten(),
            reports,
        })
    }

    /// Acts on a report: `hide` hides what it reports everywhere others
    /// see it; otherwise it is dismissed. Every open report of the same
    /// thing is closed with it.
    pub async fn resolve_report(
        &self,
        admin: &User,
        id: &str,
        hide: bool,
    ) -> Result<ReportStatus, ApiError> {
        let now = self.clock.now().timestamp_millis();
        let row = {
            let mut tx = self.db.begin().await?;
            let row = moderation_store::report_by_id(&mut tx, id).await?;
            tx.commit().await?;
            row.ok_or_else(|| ApiError::not_found("no such report"))?
        };
        let target = ReportTarget::parse(&row.target_kind)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("report {id} cannot be read")))?;
        let status = if hide {
            ReportStatus::Hidden
        } else {
            ReportStatus::Dismissed
        };
        // The widgets service's database first: should closing the report
        // then fail, doing it again hides nothing twice.
        if hide {
            match target {
                ReportTarget::Widget => {
                    self.widgets.set_hidden(&row.target_id, true).await?;
                }
                ReportTarget::Profile => {
                    self.widgets
                        .withdraw(&row.target_id, None, Some(true))
                        .await?;
                }
            }
        }
        let mut tx = self.db.begin().await?;
        if hide && target == ReportTarget::Profile {
            store::set_hidden(&mut tx, &row.target_id, true, now).await?;
        }
        moderation_store::resolve(
            &mut tx,
            &row.target_kind,
            &row.target_id,
            status.as_str(),
            &admin.id,
            now,
        )
        .await?;
        tx.commit().await?;
        self.public_changed().await;
        Ok(status)
    }
}
