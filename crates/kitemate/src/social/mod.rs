//! The social service: public profiles, follows and blocks; forks and
//! likes of others' widgets with the notices they bring (exactly once, on
//! the widgets service's `widget-forks` and `widget-likes` topics);
//! discovery, the feed, and reports that administrators act on.

mod account;
mod account_store;
mod api;
mod avatar_api;
mod avatars;
mod config;
mod html_pages;
pub mod model;
mod moderation;
mod moderation_api;
mod moderation_store;
mod notice_api;
mod notice_store;
mod notices;
mod page_api;
mod pages;
mod picture;
mod reach;
mod reach_api;
mod service;
mod store;

use axum::extract::FromRef;
use platform::db::DatabaseDecl;
use platform::pubsub::{PubSub, SubscriptionConfig};
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use avatars::{PICTURES, UPLOADS};
pub use config::SocialConfig;
pub use service::{SocialParts, SocialService};

use crate::auth::AuthService;
use crate::widgets::{WIDGET_FORKS, WIDGET_LIKES};

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
    description: "Public profiles, follows, forks, likes, notifications, discovery and reports",
    databases: &[&DATABASE],
    buckets: &[&PICTURES, &UPLOADS],
    topics: &[],
    settings: &["social"],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it, subscribed to forks (`notify-creator`),
/// likes (`notify-likes`) and deleted accounts (`social-forget`); `limiter`
/// is the shared per-IP one.
pub fn mount(state: SocialState, limiter: RateLimiter, pubsub: &PubSub) -> anyhow::Result<Mount> {
    let db = state.service.db.clone();
    let service = state.service.clone();
    pubsub.subscribe_exactly_once(
        &WIDGET_FORKS,
        "notify-creator",
        &db,
        SubscriptionConfig::default(),
        move |msg, tx| {
            let service = service.clone();
            async move { service.on_fork(&msg.event, tx).await }
        },
    )?;
    let service = state.service.clone();
    pubsub.subscribe_exactly_once(
        &WIDGET_LIKES,
        "notify-likes",
        &db,
        SubscriptionConfig::default(),
        move |msg, tx| {
            let service = service.clone();
            async move { service.on_like(&msg.event, tx).await }
        },
    )?;
    let service = state.service.clone();
    pubsub.subscribe_exactly_once(
        &crate::auth::ZERODHA_REAUTH_REQUIRED,
        "notify-zerodha-reauth",
        &db,
        SubscriptionConfig::default(),
        move |msg, tx| {
            let service = service.clone();
            async move { service.on_zerodha_reauth(&msg.event, tx).await }
        },
    )?;
    let service = state.service.clone();
    crate::auth::forget_deleted_users(pubsub, "social-forget", &db, move |event, mut tx| {
        let service = service.clone();
        async move {
            service.forget_user_in(&mut tx, &event.user_id).await?;
            service.public_changed().await;
            Ok(tx)
        }
    })?;
    let limiters = [
        state.service.parts.actions.clone(),
        state.service.parts.reports.clone(),
    ];
    let mut mount = Mount::new(&SERVICE, router_spec(limiter).with_state(state));
    for limiter in limiters {
        mount = mount.with_limiter(limiter);
    }
    Ok(mount)
}

/// What anyone may read without signing in is limited per client IP; what
/// a signed-in user does to others is limited per user in the service.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<SocialState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::get_profile))
        .routes(routes!(reach_api::discover_widgets))
        .routes(routes!(reach_api::discover_profiles))
        .routes(routes!(page_api::profile_at))
        .routes(routes!(page_api::discover_at))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::change_profile))
        .routes(routes!(
            avatar_api::avatar_upload,
            avatar_api::delete_avatar
        ))
        .routes(routes!(avatar_api::use_avatar))
        .routes(routes!(api::follow_profile, api::unfollow_profile))
        .routes(routes!(
            moderation_api::block_profile,
            moderation_api::unblock_profile
        ))
        .routes(routes!(reach_api::fork_widget))
        .routes(routes!(reach_api::fork_dashboard))
        .routes(routes!(reach_api::like_widget, reach_api::unlike_widget))
        .routes(routes!(reach_api::feed))
        .routes(routes!(notice_api::list_notifications))
        .routes(routes!(notice_api::read_notifications))
        .routes(routes!(notice_api::notification_stream))
        .routes(routes!(moderation_api::file_report))
        .routes(routes!(moderation_api::list_reports))
        .routes(routes!(moderation_api::hide_reported))
        .routes(routes!(moderation_api::dismiss_report))
        .merge(public)
}
