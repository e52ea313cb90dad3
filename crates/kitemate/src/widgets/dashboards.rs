//! Dashboards: widgets placed on a grid, read with their data in one go,
//! duplicated with their widgets, and the starter every new user gets.

use chrono::{DateTime, Utc};
use platform::ApiError;

use super::model::{
    Content, Dashboard, DashboardPage, DashboardView, MAX_TITLE, PlacedWidget, Placement,
    Visibility, WidgetKind, WidgetOptions, check_layout,
};
use super::service::{MAX_PAGE, NewRow, WidgetService, check};
use super::store::{self, Counted, DashboardRow};
use crate::auth::{Tier, User};
use crate::portfolio::model::AllocationBy;
use crate::portfolio::query::{
    AllocationSource, Direction, Figure, Measure, MoversSource, Source, SummarySource,
};

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("no such dashboard of yours")
}

fn corrupt(id: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "stored layout of dashboard {id} cannot be read"
    ))
}

fn at(millis: i64, id: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(id))
}

fn check_title(title: &str) -> Result<(), ApiError> {
    let n = title.chars().count();
    if n == 0 || n > MAX_TITLE || title.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "title",
            format!("must be 1 to {MAX_TITLE} characters, without control characters"),
        ));
    }
    Ok(())
}

pub(super) fn dashboard(row: DashboardRow) -> Result<Dashboard, ApiError> {
    let layout: Vec<Placement> = serde_json::from_str(&row.layout).map_err(|_| corrupt(&row.id))?;
    Ok(Dashboard {
        visibility: Visibility::parse(&row.visibility).ok_or_else(|| corrupt(&row.id))?,
        created_at: at(row.created_at, &row.id)?,
        updated_at: at(row.updated_at, &row.id)?,
        id: row.id,
        title: row.title,
        layout,
    })
}

/// The starter dashboard's widgets and where they sit.
fn starter() -> Vec<(Content, Placement)> {
    let content = |title: &str, kind: WidgetKind, source: Source| Content {
        tags: Vec::new(),
        title: title.into(),
        description: String::new(),
        kind,
        source: Some(source),
        options: WidgetOptions::default(),
    };
    let place = |x, y, w, h| Placement {
        widget_id: String::new(),
        x,
        y,
        w,
        h,
    };
    let summary = |figures: &[Figure]| {
        Source::Summary(SummarySource {
            figures: figures.to_vec(),
        })
    };
    vec![
        (
            content(
                "Portfolio value",
                WidgetKind::Metric,
                summary(&[Figure::Value, Figure::Unrealized, Figure::UnrealizedPercent]),
            ),
            place(0, 0, 6, 2),
        ),
        (
            content("Today", WidgetKind::Metric, summary(&[Figure::DayChange])),
            place(6, 0, 6, 2),
        ),
        (
            content(
                "Allocation by sector",
                WidgetKind::Donut,
                Source::Allocation(AllocationSource {
                    by: AllocationBy::Sector,
                    top: Some(6),
                }),
            ),
            place(0, 2, 6, 4),
        ),
        (
            content(
                "Top movers",
                WidgetKind::Bar,
                Source::Movers(MoversSource {
                    direction: Direction::Gainers,
                    measure: Measure::Percent,
                    n: 5,
                }),
            ),
            place(6, 2, 6, 4),
        ),
    ]
}

impl WidgetService {
    pub(super) fn dashboard_limit(&self, owner: &User) -> i64 {
        match owner.tier {
            Tier::Pro => i64::MAX,
            Tier::Free => i64::from(self.config.free_dashboards),
        }
    }

    pub(super) fn no_dashboard_place(&self) -> ApiError {
        crate::auth::pro_required().with_details(serde_json::json!({
            "reason": "dashboard_limit",
            "limit": self.config.free_dashboards,
        }))
    }

    /// Checks a layout and that every widget on it is the owner's.
    async fn check_placements(&self, owner_id: &str, layout: &[Placement]) -> Result<(), ApiError> {
        check_layout(layout)?;
        let ids: Vec<String> = layout.iter().map(|p| p.widget_id.clone()).collect();
        let found = store::owned_ids(&self.db, owner_id, &ids).await?;
        if let Some((i, _)) = layout
            .iter()
            .enumerate()
            .find(|(_, p)| !found.iter().any(|w| w.id == p.widget_id))
        {
            return Err(ApiError::invalid_field(
                &format!("layout[{i}].widgetId"),
                "is not a widget of yours",
            ));
        }
        Ok(())
    }

    pub async fn create_dashboard(
        &self,
        owner: &User,
        title: &str,
        layout: Vec<Placement>,
    ) -> Result<Dashboard, ApiError> {
        let title = title.trim();
        check_title(title)?;
        self.check_placements(&owner.id, &layout).await?;
        let now = self.clock.now().timestamp_millis();
        let row = DashboardRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: owner.id.clone(),
            title: title.to_string(),
            layout: serde_json::to_string(&layout).map_err(ApiError::internal)?,
            created_at: now,
            updated_at: now,
            visibility: Visibility::Private.as_str().into(),
        };
        let mut tx = self.db.begin().await?;
        if !store::take_place(
            &mut tx,
            &owner.id,
            Counted::Dashboards,
            self.dashboard_limit(owner),
        )
        .await?
        {
            return Err(self.no_dashboard_place());
        }
        store::insert_dashboard(&mut tx, &row).await?;
        tx.commit().await?;
        dashboard(row)
    }

    pub async fn dashboards(
        &self,
        owner: &User,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<DashboardPage, ApiError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = store::dashboards(&self.db, &owner.id, cursor, limit).await?;
        let dashboards = rows
            .into_iter()
            .map(dashboard)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DashboardPage {
            next_cursor: more
                .then(|| dashboards.last().map(|d| d.id.clone()))
                .flatten(),
            dashboards,
        })
    }

    /// One of the caller's dashboards with its widgets and their data;
    /// widgets deleted since are left out.
    pub async fn dashboard(&self, owner: &User, id: &str) -> Result<DashboardView, ApiError> {
        let found = dashboard(
            store::dashboard(&self.db, &owner.id, id)
                .await?
                .ok_or_else(not_found)?,
        )?;
        let ids: Vec<String> = found.layout.iter().map(|p| p.widget_id.clone()).collect();
        let mut rows = store::owned_ids(&self.db, &owner.id, &ids).await?;
        let mut widgets = Vec::with_capacity(found.layout.len());
        for placement in found.layout {
            let Some(at) = rows.iter().position(|w| w.id == placement.widget_id) else {
                continue;
            };
            let widget = self.widget(rows.swap_remove(at))?;
            let data = self.data_of(&widget, &owner.id, true).await?;
            widgets.push(PlacedWidget {
                placement,
                widget,
                data,
            });
        }
        Ok(DashboardView {
            id: found.id,
            title: found.title,
            widgets,
            created_at: found.created_at,
            updated_at: found.updated_at,
        })
    }

    pub async fn change_dashboard(
        &self,
        owner: &User,
        id: &str,
        title: Option<String>,
        layout: Option<Vec<Placement>>,
        visibility: Option<Visibility>,
    ) -> Result<Dashboard, ApiError> {
        let mut row = store::dashboard(&self.db, &owner.id, id)
            .await?
            .ok_or_else(not_found)?;
        if let Some(title) = title {
            let title = title.trim();
            check_title(title)?;
            row.title = title.to_string();
        }
        if let Some(layout) = layout {
            self.check_placements(&owner.id, &layout).await?;
            row.layout = serde_json::to_string(&layout).map_err(ApiError::internal)?;
        }
        if let Some(visibility) = visibility {
            row.visibility = visibility.as_str().into();
        }
        row.updated_at = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        if !store::update_dashboard(&mut tx, &row).await? {
            return Err(not_found());
        }
        tx.commit().await?;
        self.public_changed().await;
        dashboard(row)
    }

    pub async fn delete_dashboard(&self, owner: &User, id: &str) -> Result<(), ApiError> {
        let mut tx = self.db.begin().await?;
        let deleted = store::delete_dashboard(&mut tx, &owner.id, id).await?;
        tx.commit().await?;
        if !deleted {
            return Err(not_found());
        }
        self.public_changed().await;
        Ok(())
    }

    /// A copy of the dashboard and of every widget on it (private, at
    /// revision 1), within the owner's allowances; all or nothing.
    pub async fn duplicate_dashboard(&self, owner: &User, id: &str) -> Result<Dashboard, ApiError> {
        let view = self.dashboard(owner, id).await?;
        let widget_limit = self.widget_limit(owner);
        let mut tx = self.db.begin().await?;
        if !store::take_place(
            &mut tx,
            &owner.id,
            Counted::Dashboards,
            self.dashboard_limit(owner),
        )
        .await?
        {
            return Err(self.no_dashboard_place());
        }
        let mut layout = Vec::with_capacity(view.widgets.len());
        for placed in &view.widgets {
            let copy = self
                .insert_widget(
                    &mut tx,
                    &owner.id,
                    NewRow {
                        content: &placed.widget.content,
                        visibility: Visibility::Private,
                        hide_amounts: placed.widget.hide_amounts,
                        forked_from: None,
                    },
                    widget_limit,
                )
                .await?;
            layout.push(Placement {
                widget_id: copy.id,
                ..placed.placement.clone()
            });
        }
        let title: String = format!("{} (copy)", view.title)
            .chars()
            .take(MAX_TITLE)
            .collect();
        let now = self.clock.now().timestamp_millis();
        let row = DashboardRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: owner.id.clone(),
            title,
            layout: serde_json::to_string(&layout).map_err(ApiError::internal)?,
            created_at: now,
            updated_at: now,
            visibility: Visibility::Private.as_str().into(),
        };
        store::insert_dashboard(&mut tx, &row).await?;
        tx.commit().await?;
        dashboard(row)
    }

    /// Makes a new user's starter dashboard (value, today's change,
    /// allocation by sector, top movers), once however often the signup
    /// is delivered.
    pub async fn make_starter(&self, user_id: &str) -> Result<(), ApiError> {
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        if !store::mark_starter(&mut tx, user_id, now).await? {
            return Ok(());
        }
        let mut layout = Vec::new();
        for (content, placement) in starter() {
            check(&content)?;
            let row = self
                .insert_widget(
                    &mut tx,
                    user_id,
                    NewRow {
                        content: &content,
                        visibility: Visibility::Private,
                        hide_amounts: true,
                        forked_from: None,
                    },
                    i64::MAX,
                )
                .await?;
            layout.push(Placement {
                widget_id: row.id,
                ..placement
            });
        }
        if !store::take_place(&mut tx, user_id, Counted::Dashboards, i64::MAX).await? {
            return Err(ApiError::internal(anyhow::anyhow!(
                "no dashboard place for a new user"
            )));
        }
        store::insert_dashboard(
            &mut tx,
            &DashboardRow {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user_id.to_string(),
                title: "My portfolio".into(),
                layout: serde_json::to_string(&layout).map_err(ApiError::internal)?,
                created_at: now,
                updated_at: now,
                visibility: Visibility::Private.as_str().into(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
