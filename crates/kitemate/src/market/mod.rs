//! Market data: one closing price per security per trading day, and the
//! closing values of NSE's indices, corporate actions and the grandfathering
//! values of 31 January 2018, from the files exchanges and AMFI
//! publish (fetched by the daily refresh, or loaded by hand with
//! `kitemate prices load`), and NSE's trading calendar.
//!
//! Its own service rather than part of portfolio: prices are the same for
//! every user, loaded once a day for all of them, and portfolio, jobs and
//! chat read them through [`MarketService`]; a user's data never mixes
//! with them, and an install can point it at other sources without
//! touching what users own.

mod api;
mod calendar;
mod config;
mod curated;
mod formats;
mod model;
mod service;
mod sources;
mod store;

use platform::db::DatabaseDecl;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use api::MarketState;
pub use calendar::Calendar;
pub use config::MarketConfig;
pub use curated::all as curated_actions;
pub use formats::actions::whole_ratio;
pub use formats::{Source, is_isin, scaled};
pub use model::{ActionKind, CorporateAction, MarketStatus};
pub use service::{
    ActionsReport, DayFetch, FMV_DAY, LoadError, LoadReport, MarketService, NIFTY_50, Price,
    read_actions_file,
};
pub use sources::{Feed, Sources, UDIFF_SINCE};

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "market",
    sqlite: sqlx::migrate!("src/market/migrations/sqlite"),
    postgres: sqlx::migrate!("src/market/migrations/postgres"),
};

pub static SERVICE: Declaration = Declaration {
    name: "market",
    description: "Closing prices and index values from NSE, BSE and AMFI",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &["market"],
    spec: || router_spec().into_openapi(),
};

/// Its one route is the administrators' view; the daily refresh and
/// `kitemate prices` drive it.
pub fn mount(state: MarketState) -> Mount {
    Mount::new(&SERVICE, router_spec().with_state(state))
}

fn router_spec() -> OpenApiRouter<MarketState> {
    OpenApiRouter::new().routes(routes!(api::market_status))
}
