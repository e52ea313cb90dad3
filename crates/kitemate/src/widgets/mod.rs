//! The widgets service: answers saved as widgets (a kind and a typed
//! portfolio source), their revisions, share links, and their data as each
//! viewer may see it; dashboards that place widgets on a grid, and the
//! starter dashboard every new user gets.

mod api;
pub mod card;
pub mod chart;
mod config;
mod dashboard_api;
mod dashboards;
pub mod model;
mod service;
mod store;

use axum::extract::FromRef;
use platform::db::DatabaseDecl;
use platform::pubsub::{PubSub, SubscriptionConfig};
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::WidgetsConfig;
pub use service::WidgetService;

use crate::auth::{AuthService, USER_SIGNED_UP};

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
    topics: &[],
    settings: &["widgets"],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it, subscribed to signups for the starter
/// dashboard; `limiter` is the shared per-IP one.
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
    Ok(Mount::new(&SERVICE, router_spec(limiter).with_state(state)))
}

/// `limiter` guards the one route open without signing in: a shared widget.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<WidgetsState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::shared))
        .routes(routes!(api::shared_chart))
        .routes(routes!(api::shared_card))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::create, api::list))
        .routes(routes!(api::get, api::change, api::delete))
        .routes(routes!(api::revisions))
        .routes(routes!(api::restore))
        .routes(routes!(api::data))
        .routes(routes!(api::chart))
        .routes(routes!(api::card))
        .routes(routes!(api::rotate_link, api::revoke_link))
        .routes(routes!(dashboard_api::create, dashboard_api::list))
        .routes(routes!(
            dashboard_api::get,
            dashboard_api::change,
            dashboard_api::delete
        ))
        .routes(routes!(dashboard_api::duplicate))
        .merge(public)
}
