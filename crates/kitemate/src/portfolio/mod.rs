//! The portfolio service: holdings, trades and daily history from Kite and
//! from Console exports, and what is worked out from them.

//!
//! Layers, bottom up (a module uses only those before it):
//! `model` (plain types) → `import` (files into rows) and `packed` (how
//! trades are stored) → `calc` (FIFO, XIRR, positions) → `computed` (a
//! user's worked-out securities, kept per version) → `figures` (the model's
//! figures from them) → `store` (all SQL) → `events` → `service`, `sync`,
//! `reads`, `corporate` (what the service does and answers) → `api` (HTTP
//! handlers).

mod account;
mod api;
mod calc;
mod computed;
mod config;
mod corporate;
mod daily;
mod events;
mod figures;
mod housekeeping;
mod import;
mod live;
pub mod model;
mod packed;
pub mod query;
mod reads;
mod service;
mod store;
mod sync;
pub mod tables;
pub mod tax;
pub mod text;

use axum::extract::{DefaultBodyLimit, FromRef};
use platform::db::DatabaseDecl;
use platform::objects::BucketDecl;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use calc::positions::at_close;
pub use calc::sectors::companies;
pub use config::PortfolioConfig;
pub use events::{PORTFOLIO_SYNCED, PortfolioSynced};
pub use figures::RealizedFilter;
pub use model::{
    HoldingInfo, ImportReport, Paise, Percent, PositionInfo, Quantity, Report, Sale, Side, Slice,
    Summary, Term, TradeInfo, TradeTally,
};
pub use service::PortfolioService;

use crate::auth::AuthService;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "portfolio",
    sqlite: sqlx::migrate!("src/portfolio/migrations/sqlite"),
    postgres: sqlx::migrate!("src/portfolio/migrations/postgres"),
};

/// Console exports as users uploaded them, kept so an import can be re-run
/// or inspected. Private: read back only through signed URLs. HTTP uploads
/// stop at 20 MiB; `kitemate import` from the shell takes larger files.
pub static IMPORTS: BucketDecl = BucketDecl::private("imports")
    .max_size(512 << 20)
    .content_types(&["text/csv", "text/plain", "application/csv"]);

/// The portfolio service.
pub static SERVICE: Declaration = Declaration {
    name: "portfolio",
    description: "Holdings, trades and imports of the signed-in user",
    databases: &[&DATABASE],
    buckets: &[&IMPORTS],
    topics: &[PORTFOLIO_SYNCED.name],
    settings: &["portfolio"],
    spec: || router_spec().into_openapi(),
};

/// The service as the app mounts it, deleting what a deleted account kept
/// (`portfolio-forget`).
pub fn mount(state: PortfolioState, pubsub: &platform::pubsub::PubSub) -> anyhow::Result<Mount> {
    let service = state.service.clone();
    let db = service.db().clone();
    crate::auth::forget_deleted_users(pubsub, "portfolio-forget", &db, move |event, mut tx| {
        let service = service.clone();
        async move {
            service.forget_files(&event.user_id).await?;
            service.forget_user_in(&mut tx, &event.user_id).await?;
            Ok(tx)
        }
    })?;
    let limiter = state.sync_limiter.clone();
    Ok(Mount::new(&SERVICE, router(state)).with_limiter(limiter))
}

/// What the portfolio handlers need.
#[derive(Debug, Clone)]
pub struct PortfolioState {
    pub service: PortfolioService,
    pub auth: AuthService,
    /// Syncs per user: each one makes four calls against the app's Kite limits.
    pub sync_limiter: platform::ratelimit::RateLimiter,
}

impl FromRef<PortfolioState> for AuthService {
    fn from_ref(state: &PortfolioState) -> Self {
        state.auth.clone()
    }
}

pub fn router(state: PortfolioState) -> OpenApiRouter {
    router_spec().with_state(state)
}

/// The routes before they get their state, which is all the spec needs.
pub fn router_spec() -> OpenApiRouter<PortfolioState> {
    // Multipart framing needs a little room above the file's own limit.
    let uploads = OpenApiRouter::new()
        .routes(routes!(api::imports::import))
        .layer(DefaultBodyLimit::max(api::imports::MAX_IMPORT + 64 * 1024));
    OpenApiRouter::new()
        .routes(routes!(api::imports::list_imports))
        .routes(routes!(api::imports::import_detail))
        .routes(routes!(api::imports::list_trades))
        .routes(routes!(api::views::holdings))
        .routes(routes!(api::views::summary))
        .routes(routes!(api::views::allocation))
        .routes(routes!(api::views::realized))
        .routes(routes!(api::views::portfolio))
        .routes(routes!(api::sync::sync))
        .routes(routes!(api::sync::positions))
        .routes(routes!(api::history::history))
        .routes(routes!(api::history::performance))
        .routes(routes!(
            api::actions::list_actions,
            api::actions::declare_action
        ))
        .routes(routes!(api::actions::forget_action))
        .routes(routes!(api::tax::capital_gains))
        .routes(routes!(api::tax::capital_gains_csv))
        .routes(routes!(api::tax::harvest))
        .merge(uploads)
}
