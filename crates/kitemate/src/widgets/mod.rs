//! The widgets service: answers saved as widgets (a kind and a typed
//! portfolio source), their revisions, share links, and their data as each
//! viewer may see it; dashboards that place widgets on a grid, and the
//! starter dashboard every new user gets.

mod account;
mod api;
pub mod card;
pub mod chart;
mod config;
mod dashboard_api;
mod dashboards;
mod embed;
mod embed_api;
mod events;
pub mod model;
mod page;
mod reach;
mod reach_store;
mod service;
mod shared_dashboards;
mod store;
mod trend;
mod views;

use axum::extract::FromRef;
use platform::db::DatabaseDecl;
use platform::pubsub::{PubSub, SubscriptionConfig};
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::WidgetsConfig;
pub use events::{WIDGET_FORKS, WIDGET_LIKES, WidgetForked, WidgetLiked};
pub use reach::{Discover, MAX_WORDS, Sort};
pub use service::{Sharing, WidgetService};

use crate::auth::{AuthService, USER_SIGNED_UP};
use crate::portfolio::PORTFOLIO_SYNCED;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "widgets",
    sqlite: sqlx::migrate!("src/widgets/migrations/sqlite"),
    postgres: sqlx::migrate!("src/widgets/migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct WidgetsState {
    pub service: WidgetService,
    pub auth: AuthService,
}

impl FromRef<WidgetsState> for AuthService {
    fn from_ref(state: &WidgetsState) -> Self {
        state.auth.clone()
    }
}

/// The widgets service.
pub static SERVICE: Declaration = Declaration {
    name: "widgets",
    description: "Widgets: saved portfolio figures, drawn and shared",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[WIDGET_FORKS.name, WIDGET_LIKES.name],
    settings: &["widgets"],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it, subscribed to signups for the starter
/// dashboard, to syncs for the stocks public widgets concern and to deleted
/// accounts (`widgets-forget`); `limiter` is the shared per-IP one.
pub fn mount(state: WidgetsState, limiter: RateLimiter, pubsub: &PubSub) -> anyhow::Result<Mount> {
    let service = state.service.clone();
    pubsub.subscribe(
        &USER_SIGNED_UP,
        "widgets-starter",
        SubscriptionConfig::default(),
        move |msg| {
            let service = service.clone();
            async move {
                service
                    .make_starter(&msg.event.user_id)
                    .await
                    .map_err(anyhow::Error::from)
            }
        },
    )?;
    let service = state.service.clone();
    let db = service.db().clone();
    crate::auth::forget_deleted_users(pubsub, "widgets-forget", &db, move |event, mut tx| {
        let service = service.clone();
        async move {
            service.forget_user_in(&mut tx, &event).await?;
            // Discovery is read again from now (a cached page may have
            // been made in the moment before the commit: it lives seconds).
            service.public_changed().await;
            Ok(tx)
        }
    })?;
    let service = state.service.clone();
    pubsub.subscribe(
        &PORTFOLIO_SYNCED,
        "widgets-symbols",
        SubscriptionConfig::default(),
        move |msg| {
            let service = service.clone();
            async move {
                service
                    .refresh_owner_symbols(&msg.event.user_id)
                    .await
                    .map_err(anyhow::Error::from)
            }
        },
    )?;
    Ok(Mount::new(&SERVICE, router_spec(limiter).with_state(state)))
}

/// `limiter` guards the one route open without signing in: a shared widget.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<WidgetsState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::shared_widget))
        .routes(routes!(api::shared_widget_chart))
        .routes(routes!(api::shared_widget_card))
        .routes(routes!(embed_api::embed_page))
        .routes(routes!(embed_api::embed_chart))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::create_widget, api::list_widgets))
        .routes(routes!(
            api::get_widget,
            api::change_widget,
            api::delete_widget
        ))
        .routes(routes!(api::widget_revisions))
        .routes(routes!(api::restore_widget))
        .routes(routes!(api::widget_data))
        .routes(routes!(api::widget_chart))
        .routes(routes!(api::widget_card))
        .routes(routes!(api::rotate_widget_link, api::revoke_widget_link))
        .routes(routes!(embed_api::embed_widget))
        .routes(routes!(
            dashboard_api::create_dashboard,
            dashboard_api::list_dashboards
        ))
        .routes(routes!(
            dashboard_api::get_dashboard,
            dashboard_api::change_dashboard,
            dashboard_api::delete_dashboard
        ))
        .routes(routes!(dashboard_api::duplicate_dashboard))
        .merge(public)
}
