//! Public dashboards: listed on their owner's profile with the shared
//! widgets on them, and forked whole (every shared widget on it, each with
//! its lineage and its creator told, and the layout) in one transaction.

use platform::ApiError;

use super::dashboards::{dashboard, not_found};
use super::model::{
    Dashboard, Placement, PublicDashboard, PublicDashboardPage, PublicPlacement, Visibility,
};
use super::service::{MAX_PAGE, WidgetService};
use super::store::{self, Counted, DashboardRow};
use crate::auth::User;

impl WidgetService {
    /// The owner of a dashboard `viewer` may fork: their own, whatever its
    /// visibility, or a public one (for checks before acting).
    pub async fn owner_for_dashboard_fork(
        &self,
        id: &str,
        viewer: &User,
    ) -> Result<String, ApiError> {
        if store::dashboard(&self.db, &viewer.id, id).await?.is_some() {
            return Ok(viewer.id.clone());
        }
        Ok(store::shared_dashboard(&self.db, id)
            .await?
            .ok_or_else(not_found)?
            .user_id)
    }

    /// A page of `owner`'s public dashboards, each with the shared widgets
    /// on it, as anyone sees them.
    pub async fn public_dashboards(
        &self,
        owner_id: &str,
        owner_username: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<PublicDashboardPage, ApiError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = store::public_dashboards(&self.db, owner_id, cursor, limit).await?;
        let mut dashboards = Vec::with_capacity(rows.len());
        for row in rows {
            let found = dashboard(row)?;
            let ids: Vec<String> = found.layout.iter().map(|p| p.widget_id.clone()).collect();
            let mut shared = store::shared_ids(&self.db, owner_id, &ids).await?;
            let mut widgets = Vec::new();
            for placement in found.layout {
                let Some(at) = shared.iter().position(|w| w.id == placement.widget_id) else {
                    continue;
                };
                let widget = self.widget(shared.swap_remove(at))?;
                if widget.visibility != Visibility::Public {
                    continue;
                }
                widgets.push(PublicPlacement {
                    placement,
                    widget: self.public_of(widget, owner_username.to_string()),
                });
            }
            dashboards.push(PublicDashboard {
                id: found.id,
                title: found.title,
                owner: owner_username.to_string(),
                widgets,
                updated_at: found.updated_at,
            });
        }
        Ok(PublicDashboardPage {
            next_cursor: more
                .then(|| dashboards.last().map(|d| d.id.clone()))
                .flatten(),
            dashboards,
        })
    }

    /// Forks a public dashboard into the caller's account: a new private
    /// dashboard (within their plan) holding a fork of every shared widget
    /// on it where it sat; private widgets on it are not copied. All or
    /// nothing. Forking one's own (a private one too) duplicates it.
    pub async fn fork_dashboard(&self, me: &User, id: &str) -> Result<Dashboard, ApiError> {
        if store::dashboard(&self.db, &me.id, id).await?.is_some() {
            return self.duplicate_dashboard(me, id).await;
        }
        let original = store::shared_dashboard(&self.db, id)
            .await?
            .ok_or_else(not_found)?;
        if original.user_id == me.id {
            return self.duplicate_dashboard(me, id).await;
        }
        let owner = self.auth.user(&original.user_id).await?;
        let found = dashboard(original)?;
        let ids: Vec<String> = found.layout.iter().map(|p| p.widget_id.clone()).collect();
        let mut shared = store::shared_ids(&self.db, &owner.id, &ids).await?;
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        if !store::take_place(
            &mut tx,
            &me.id,
            Counted::Dashboards,
            self.dashboard_limit(me),
        )
        .await?
        {
            return Err(self.no_dashboard_place());
        }
        let mut layout = Vec::with_capacity(shared.len());
        for placement in found.layout {
            let Some(at) = shared.iter().position(|w| w.id == placement.widget_id) else {
                continue;
            };
            let widget = self.widget(shared.swap_remove(at))?;
            let fork = self
                .fork_in(&mut tx, me, &widget, Some(&owner), now)
                .await?;
            layout.push(Placement {
                widget_id: fork.id,
                ..placement
            });
        }
        let row = DashboardRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: me.id.clone(),
            title: found.title,
            layout: serde_json::to_string(&layout).map_err(ApiError::internal)?,
            created_at: now,
            updated_at: now,
            visibility: Visibility::Private.as_str().into(),
        };
        store::insert_dashboard(&mut tx, &row).await?;
        tx.commit().await?;
        self.public_changed().await;
        dashboard(row)
    }
}
