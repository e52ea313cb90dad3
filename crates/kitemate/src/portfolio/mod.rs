//! The portfolio service: holdings, trades and daily history from Kite and
//! from Console exports, and what is worked out from them.

mod api;
pub mod calc;
mod computed;
pub mod import;
mod packed;
mod report;
mod service;
mod store;
mod sync;
mod sync_api;
mod views;

use axum::extract::{DefaultBodyLimit, FromRef};
use platform::db::DatabaseDecl;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use report::{Report, TradeLine};
pub use service::{ImportReport, PortfolioService};
pub use sync::{PORTFOLIO_SYNCED, PortfolioSynced};
pub use sync_api::PositionInfo;
pub use views::{HoldingInfo, Sale, Slice, Summary};

use crate::auth::AuthService;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "portfolio",
    sqlite: sqlx::migrate!("src/portfolio/migrations/sqlite"),
    postgres: sqlx::migrate!("src/portfolio/migrations/postgres"),
};

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
        .routes(routes!(api::import))
        .layer(DefaultBodyLimit::max(api::MAX_IMPORT + 64 * 1024));
    OpenApiRouter::new()
        .routes(routes!(api::list_imports))
        .routes(routes!(api::import_detail))
        .routes(routes!(api::list_trades))
        .routes(routes!(views::holdings))
        .routes(routes!(views::summary))
        .routes(routes!(views::allocation))
        .routes(routes!(views::realized))
        .routes(routes!(views::portfolio))
        .routes(routes!(sync_api::sync))
        .routes(routes!(sync_api::positions))
        .routes(routes!(sync_api::history))
        .merge(uploads)
}
