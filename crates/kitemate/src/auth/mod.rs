//! The auth service: users, passwords, sessions, and the auth handler that
//! turns a request into [`AuthData`]. Other services use [`Auth`] and
//! [`AuthService`]; everything else here is private.

mod account;
mod api;
mod cache;
mod config;
mod events;
mod extract;
mod model;
mod parts;
mod password;
mod service;
mod store;
pub(crate) mod token;
pub mod zerodha;

use platform::cron::{Cron, Schedule};
use platform::db::DatabaseDecl;
use platform::pubsub::PubSub;
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use api::origin as request_origin;
pub use config::AuthConfig;
pub use events::{
    USER_DELETED, USER_SIGNED_UP, UserDeleted, UserSignedUp, ZERODHA_REAUTH_REQUIRED,
    ZerodhaReauthRequired,
};
pub(crate) use extract::bearer_token;
pub use extract::{Admin, Auth, AuthData, MaybeAuth, RequirePro, pro_required};
pub use model::{Tier, User};
pub use parts::{AccountData, AccountPart, forget_deleted_users};
pub use service::{AuthParts, AuthService, Origin};

/// The auth service's database.
pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "auth",
    sqlite: sqlx::migrate!("src/auth/migrations/sqlite"),
    postgres: sqlx::migrate!("src/auth/migrations/postgres"),
};

/// The auth service: accounts, sessions and the Zerodha connection.
pub static SERVICE: Declaration = Declaration {
    name: "auth",
    description: "Accounts and sessions",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[
        USER_SIGNED_UP.name,
        USER_DELETED.name,
        ZERODHA_REAUTH_REQUIRED.name,
    ],
    settings: &["auth", "kite"],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it, with its upkeep job on `cron`, and the
/// audit log's part in a deletion (`audit-forget`: audit depends on nothing,
/// so auth, which publishes `user-deleted`, subscribes for it).
pub fn mount(
    service: &AuthService,
    limiter: RateLimiter,
    cron: &Cron,
    pubsub: &PubSub,
) -> anyhow::Result<Mount> {
    let audit = service.audit_log().clone();
    forget_deleted_users(
        pubsub,
        "audit-forget",
        &audit.db().clone(),
        move |event, mut tx| {
            let audit = audit.clone();
            async move {
                audit
                    .forget_user_in(&mut tx, &event.user_id, event.deleted_at, event.request_id)
                    .await?;
                Ok(tx)
            }
        },
    )?;
    let tidy = service.clone();
    cron.add(
        "tidy-sessions",
        "Delete sessions that expired or were revoked over a day ago",
        Schedule::every("1h")?,
        chrono_tz::Tz::UTC,
        move || {
            let auth = tidy.clone();
            async move {
                let deleted = auth.tidy().await?;
                tracing::info!(deleted, "sessions tidied");
                Ok(())
            }
        },
    )?;
    Ok(Mount::new(&SERVICE, router(service.clone(), limiter)))
}

/// Routes of the auth service; the public ones are rate limited per client IP.
pub fn router(service: AuthService, limiter: RateLimiter) -> OpenApiRouter {
    router_spec(limiter).with_state(service)
}

/// The routes before they get their state, which is all the spec needs.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<AuthService> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::signup))
        .routes(routes!(api::login))
        .routes(routes!(zerodha::api::initiate))
        .routes(routes!(zerodha::api::callback))
        .routes(routes!(zerodha::api::redirect))
        .routes(routes!(zerodha::api::exchange))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::logout))
        .routes(routes!(api::me, api::change_me, api::delete_me))
        .routes(routes!(api::export))
        .routes(routes!(api::list_sessions))
        .routes(routes!(api::revoke_session))
        .routes(routes!(api::activity))
        .routes(routes!(zerodha::api::status, zerodha::api::disconnect))
        .merge(public)
}
