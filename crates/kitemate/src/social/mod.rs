//! The social service: public profiles and follows (forks, likes,
//! notifications and discovery follow, on the widgets service).

mod api;
pub mod model;
mod service;
mod store;

use axum::extract::FromRef;
use platform::db::DatabaseDecl;
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use service::SocialService;

use crate::auth::AuthService;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "social",
    sqlite: sqlx::migrate!("src/social/migrations/sqlite"),
    postgres: sqlx::migrate!("src/social/migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct SocialState {
    pub service: SocialService,
    pub auth: AuthService,
}

impl FromRef<SocialState> for AuthService {
    fn from_ref(state: &SocialState) -> Self {
        state.auth.clone()
    }
}

/// The social service.
pub static SERVICE: Declaration = Declaration {
    name: "social",
    description: "Public profiles and follows",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &[],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it; `limiter` is the shared per-IP one.
pub fn mount(state: SocialState, limiter: RateLimiter) -> Mount {
    Mount::new(&SERVICE, router_spec(limiter).with_state(state))
}

/// Profiles are public, so reading one is limited per client IP.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<SocialState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::get_profile))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::change_profile))
        .routes(routes!(api::follow_profile, api::unfollow_profile))
        .merge(public)
}
