//! The subscriptions service: Pro sold through Razorpay and Stripe,
//! webhooks verified over their raw bytes and applied exactly once through
//! the outbox, the tier published on `subscription-changed` for auth to
//! apply, GST invoices, reconciliation with the providers.

mod account;
mod api;
mod config;
mod deliveries;
mod events;
mod gst;
mod invoice_pdf;
mod invoices;
mod lifecycle;
pub mod model;
mod provider_error;
mod razorpay;
mod reconcile;
mod service;
pub mod signature;
mod store;
mod stripe;
mod tiers;
mod webhook_api;
mod webhooks;

use axum::extract::FromRef;
use platform::cron::{Cron, Schedule};
use platform::db::DatabaseDecl;
use platform::pubsub::{PubSub, SubscriptionConfig};
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{
    Providers, RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRETS, SECRET_NAMES,
    STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRETS, SubscriptionsConfig,
};
pub use events::{SUBSCRIPTION_CHANGED, SubscriptionChanged};
pub use reconcile::Reconciled;
pub use service::{SubscriptionParts, SubscriptionService};
pub use webhooks::Ledger;

use crate::auth::{AuthService, Tier};
use events::PAYMENT_DELIVERIES;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "subscriptions",
    sqlite: sqlx::migrate!("src/subscriptions/migrations/sqlite"),
    postgres: sqlx::migrate!("src/subscriptions/migrations/postgres"),
};

/// Webhook deliveries as they arrive (see `inbox_migrations`): their own
/// database, so a request records one without waiting for the writer that
/// applies earlier ones to the subscriptions database.
pub static INBOX: DatabaseDecl = DatabaseDecl {
    name: "payment_inbox",
    sqlite: sqlx::migrate!("src/subscriptions/inbox_migrations/sqlite"),
    postgres: sqlx::migrate!("src/subscriptions/inbox_migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct SubscriptionsState {
    pub service: SubscriptionService,
    pub auth: AuthService,
}

impl FromRef<SubscriptionsState> for AuthService {
    fn from_ref(state: &SubscriptionsState) -> Self {
        state.auth.clone()
    }
}

pub static SERVICE: Declaration = Declaration {
    name: "subscriptions",
    description: "Pro through Razorpay and Stripe: checkout, webhooks, the caller's plan, GST invoices",
    databases: &[&DATABASE, &INBOX],
    buckets: &[],
    topics: &[SUBSCRIPTION_CHANGED.name, PAYMENT_DELIVERIES.name],
    settings: &["subscriptions"],
    spec: || router_spec(RateLimiter::disabled(), RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it: deliveries applied exactly once
/// (`apply-payment-events`), tiers carried to auth (`set-tier`, auth's
/// side of `subscription-changed`), lapses swept each minute and the
/// providers reconciled daily.
/// `limiter` is the shared per-IP one; `webhooks` the webhooks' own.
pub fn mount(
    state: SubscriptionsState,
    (limiter, webhooks): (RateLimiter, RateLimiter),
    pubsub: &PubSub,
    cron: &Cron,
) -> anyhow::Result<Mount> {
    let service = state.service.clone();
    // Deliveries due together are applied in one transaction (a turn of
    // SQLite's one writer for many): what sustains a burst of webhooks.
    let grouped = SubscriptionConfig {
        group: 64,
        ..SubscriptionConfig::default()
    };
    pubsub.subscribe_exactly_once(
        &PAYMENT_DELIVERIES,
        "apply-payment-events",
        state.service.db(),
        grouped,
        move |msg, tx| {
            let service = service.clone();
            async move { service.on_delivery(&msg.event, tx).await }
        },
    )?;
    let auth = state.auth.clone();
    pubsub.subscribe(
        &SUBSCRIPTION_CHANGED,
        "set-tier",
        SubscriptionConfig::default(),
        move |msg| {
            let auth = auth.clone();
            async move {
                let e = msg.event;
                auth.apply_tier(&e.user_id, Tier::parse(&e.tier), e.version)
                    .await
                    .map_err(|err| anyhow::anyhow!("{err}"))?;
                Ok(())
            }
        },
    )?;
    let service = state.service.clone();
    let db = service.db().clone();
    crate::auth::forget_deleted_users(
        pubsub,
        "subscriptions-forget",
        &db,
        move |event, mut tx| {
            let service = service.clone();
            async move {
                service.forget_user_in(&mut tx, &event.user_id).await?;
                Ok(tx)
            }
        },
    )?;
    let sweep = state.service.clone();
    cron.add(
        "subscription-lapses",
        "Move users whose paid period or grace ended to Free",
        Schedule::every("1m")?,
        chrono_tz::Tz::UTC,
        move || {
            let service = sweep.clone();
            async move {
                let moved = service
                    .sweep_lapsed()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tracing::info!(moved, "subscription lapses swept");
                Ok(())
            }
        },
    )?;
    let reconcile = state.service.clone();
    cron.add(
        "reconcile-subscriptions",
        "Compare every open subscription with its provider and fix drift",
        Schedule::cron("30 3 * * *")?,
        chrono_tz::Asia::Kolkata,
        move || {
            let service = reconcile.clone();
            async move {
                let done = service
                    .reconcile()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tracing::info!(
                    checked = done.checked,
                    fixed = done.fixed,
                    failed = done.failed,
                    "subscriptions reconciled"
                );
                Ok(())
            }
        },
    )?;
    let routes = router_spec(limiter, webhooks.clone()).with_state(state);
    Ok(Mount::new(&SERVICE, routes).with_limiter(webhooks))
}

/// The plans are public (limited per IP); the webhooks are public, answer
/// only to a provider's signature, and have a per-IP limit of their own.
pub fn router_spec(
    limiter: RateLimiter,
    webhooks: RateLimiter,
) -> OpenApiRouter<SubscriptionsState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::list_plans))
        .route_layer(limiter.by_ip());
    let hooks = OpenApiRouter::new()
        .routes(routes!(webhook_api::razorpay_webhook))
        .routes(routes!(webhook_api::stripe_webhook))
        .route_layer(webhooks.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::checkout))
        .routes(routes!(api::verify_razorpay))
        .routes(routes!(api::my_subscription))
        .routes(routes!(api::cancel))
        .routes(routes!(api::resume))
        .routes(routes!(api::portal))
        .routes(routes!(api::billing_details, api::change_billing_details))
        .routes(routes!(api::list_invoices))
        .routes(routes!(api::get_invoice))
        .routes(routes!(api::invoice_pdf))
        .merge(public)
        .merge(hooks)
}
