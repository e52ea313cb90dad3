//! HTTP handlers of the portfolio's figures: holdings, summary, allocation,
//! realized gains, the whole portfolio. Each checks its query and asks the service.

use axum::extract::{Path, State};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::super::PortfolioState;
use super::super::figures::RealizedFilter;
use super::super::model::{
    Allocation, AllocationBy, HoldingPage, HoldingSort, Order, Portfolio, RealizedPnl, Summary,
};
use super::TAG;
use crate::auth::Auth;

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HoldingsQuery {
    /// 0–100,000; 0 when left out.
    #[validate(range(max = 100_000))]
    #[param(minimum = 0, maximum = 100_000)]
    pub offset: Option<usize>,
    /// 1–500; 50 when left out.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// value (default), invested, pnl, pnl_percent or symbol.
    #[param(inline)]
    pub sort: Option<HoldingSort>,
    /// desc (default) or asc.
    #[param(inline)]
    pub order: Option<Order>,
}

/// The caller's holdings, sorted and paginated.
///
/// Where the caller imported a holdings export, it states what is held;
/// otherwise the open FIFO lots of the imported trades do.
#[utoipa::path(get, path = "/holdings", tag = TAG,
    security(("bearer" = [])),
    params(HoldingsQuery),
    responses(
        (status = 200, description = "A page of holdings", body = HoldingPage),
        (status = 400, description = "A parameter is invalid, named in the error", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn holdings(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<HoldingsQuery>,
) -> Result<ApiJson<HoldingPage>, ApiError> {
    let page = state
        .service
        .holdings(
            &caller.user.id,
            query.sort.unwrap_or_default(),
            query.order,
            query.offset.unwrap_or(0),
            query.limit.unwrap_or(50),
        )
        .await?;
    Ok(ApiJson(page))
}

/// Value, invested amount and P&L of the caller's portfolio.
#[utoipa::path(get, path = "/portfolio/summary", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Summary", body = Summary),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn summary(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
) -> Result<ApiJson<Summary>, ApiError> {
    state.service.summary(&caller.user.id).await.map(ApiJson)
}

/// A user's whole portfolio: summary and every holding. Only its owner may
/// read it.
#[utoipa::path(get, path = "/portfolio/{userId}", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user whose portfolio it is")),
    responses(
        (status = 200, description = "Summary and holdings", body = Portfolio),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Someone else's portfolio (`permission_denied`)", body = ErrorBody),
    ))]
pub async fn portfolio(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    Path(user_id): Path<String>,
) -> Result<ApiJson<Portfolio>, ApiError> {
    if user_id != caller.user.id {
        return Err(ApiError::permission_denied(
            "cannot access another user's portfolio",
        ));
    }
    state.service.portfolio(&user_id).await.map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    /// stock, sector or asset_class.
    pub by: AllocationBy,
}

/// How the caller's portfolio divides by stock, sector or asset class.
#[utoipa::path(get, path = "/portfolio/allocation", tag = TAG,
    security(("bearer" = [])),
    params(AllocationQuery),
    responses(
        (status = 200, description = "Allocation", body = Allocation),
        (status = 400, description = "`by` missing or unknown", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn allocation(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<AllocationQuery>,
) -> Result<ApiJson<Allocation>, ApiError> {
    state
        .service
        .allocation(&caller.user.id, query.by)
        .await
        .map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RealizedQuery {
    /// A financial year like `2024-25` (the second year follows the first);
    /// every year when left out.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    pub fy: Option<String>,
    /// One security, by symbol or ISIN.
    #[validate(length(max = 40))]
    #[param(max_length = 40)]
    pub symbol: Option<String>,
    /// 0–10,000,000; 0 when left out.
    #[validate(range(min = 0, max = 10_000_000))]
    #[param(minimum = 0, maximum = 10_000_000)]
    pub offset: Option<i64>,
    /// 1–500; 100 when left out.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Realized gains (FIFO), short- and long-term: the sums per financial year,
/// and the sales a page at a time, for a year or a security if asked.
#[utoipa::path(get, path = "/portfolio/pnl/realized", tag = TAG,
    security(("bearer" = [])),
    params(RealizedQuery),
    responses(
        (status = 200, description = "Realized P&L", body = RealizedPnl),
        (status = 400, description = "`fy` is not like 2024-25, or a page parameter is out of range", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn realized(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<RealizedQuery>,
) -> Result<ApiJson<RealizedPnl>, ApiError> {
    if let Some(fy) = &query.fy {
        let valid = fy.len() == 7
            && fy.split_once('-').is_some_and(|(a, b)| {
                a.parse::<i32>()
                    .ok()
                    .zip(b.parse::<i32>().ok())
                    .is_some_and(|(a, b)| (a + 1) % 100 == b)
            });
        if !valid {
            return Err(ApiError::invalid_field(
                "fy",
                "must be a financial year like 2024-25",
            ));
        }
    }
    let filter = RealizedFilter {
        fy: query.fy,
        symbol: query.symbol.map(|s| s.trim().to_ascii_uppercase()),
        offset: usize::try_from(query.offset.unwrap_or(0)).unwrap_or(0),
        limit: usize::try_from(query.limit.unwrap_or(100)).unwrap_or(100),
    };
    state
        .service
        .realized(&caller.user.id, filter)
        .await
        .map(ApiJson)
}
