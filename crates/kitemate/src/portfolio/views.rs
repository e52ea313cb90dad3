//! Holdings, summary, allocation and realized gains as the API shows them:
//! money in whole paise, percentages and quantities as decimal strings.

use std::collections::BTreeMap;

use axum::extract::State;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use kite::money::paise;

use super::PortfolioState;
use super::calc::fifo::{Term, financial_year};
use super::calc::positions::{AssetClass, Security};
use super::computed::Computed;
use crate::auth::Auth;

const TAG: &str = "portfolio";

fn percent(part: Decimal, whole: Decimal) -> Option<String> {
    (!whole.is_zero()).then(|| {
        (part * Decimal::ONE_HUNDRED / whole)
            .round_dp(2)
            .normalize()
            .to_string()
    })
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldingInfo {
    pub symbol: String,
    pub isin: String,
    /// Decimal string.
    pub quantity: String,
    /// Decimal string; averages carry more places than paise.
    pub average_price: Option<String>,
    pub invested_paise: i64,
    pub last_price_paise: Option<i64>,
    pub value_paise: Option<i64>,
    pub unrealized_paise: Option<i64>,
    /// Of what was invested, as a decimal string.
    pub unrealized_percent: Option<String>,
    /// Share of the portfolio's value (of what was invested when unpriced).
    pub weight_percent: Option<String>,
    pub sector: String,
    pub asset_class: AssetClass,
    /// Annual return of this security's imported trades, valued today (XIRR),
    /// as a percentage; absent without trades or a price.
    pub xirr_percent: Option<String>,
}

fn held(securities: &[Security]) -> Vec<&Security> {
    securities.iter().filter(|s| s.is_held()).collect()
}

/// Weighted by value where every holding is priced, else by what was invested.
fn weights(holdings: &[&Security]) -> (Decimal, bool) {
    let priced = holdings.iter().all(|h| h.last_price.is_some());
    let total = holdings
        .iter()
        .map(|h| {
            if priced {
                h.value().unwrap_or_default()
            } else {
                h.invested()
            }
        })
        .sum();
    (total, priced)
}

fn rate_percent(rate: Option<f64>) -> Option<String> {
    rate.and_then(|r| Decimal::from_f64_retain(r * 100.0))
        .map(|p| p.round_dp(2).normalize().to_string())
}

pub(crate) fn today(state: &PortfolioState) -> chrono::NaiveDate {
    state
        .service
        .clock
        .now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive()
}

fn info(h: &Security, total: Decimal, priced: bool, today: chrono::NaiveDate) -> HoldingInfo {
    let invested = h.invested();
    let value = h.value();
    let unrealized = value.map(|v| v - invested);
    let basis = if priced {
        value.unwrap_or_default()
    } else {
        invested
    };
    HoldingInfo {
        symbol: h.symbol.clone(),
        isin: h.isin.clone(),
        quantity: h.quantity().normalize().to_string(),
        average_price: h
            .average_price()
            .map(|a| a.round_dp(4).normalize().to_string()),
        invested_paise: paise(invested),
        last_price_paise: h.last_price.map(paise),
        value_paise: value.map(paise),
        unrealized_paise: unrealized.map(paise),
        unrealized_percent: unrealized.and_then(|u| percent(u, invested)),
        weight_percent: percent(basis, total),
        sector: h.sector().to_string(),
        asset_class: h.asset_class,
        xirr_percent: rate_percent(h.xirr(today)),
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldingSort {
    #[default]
    Value,
    Invested,
    Pnl,
    PnlPercent,
    Symbol,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldingPage {
    pub holdings: Vec<HoldingInfo>,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
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
    let securities = state.service.securities(&caller.user.id).await?;
    let holdings = held(&securities);
    let (total, priced) = weights(&holdings);
    let day = today(&state);
    let mut rows: Vec<(Decimal, &Security)> = holdings
        .iter()
        .map(|h| {
            let key = match query.sort.unwrap_or_default() {
                HoldingSort::Value => h.value().unwrap_or_else(|| h.invested()),
                HoldingSort::Invested => h.invested(),
                HoldingSort::Pnl => h.value().map_or(Decimal::ZERO, |v| v - h.invested()),
                HoldingSort::PnlPercent => h
                    .value()
                    .filter(|_| !h.invested().is_zero())
                    .map_or(Decimal::ZERO, |v| (v - h.invested()) / h.invested()),
                HoldingSort::Symbol => Decimal::ZERO,
            };
            (key, *h)
        })
        .collect();
    let by_symbol = matches!(query.sort, Some(HoldingSort::Symbol));
    rows.sort_by(|a, b| {
        let ordering = if by_symbol {
            a.1.symbol.cmp(&b.1.symbol)
        } else {
            a.0.cmp(&b.0).then(a.1.symbol.cmp(&b.1.symbol))
        };
        match (query.order, by_symbol) {
            (Some(Order::Asc), _) | (None, true) => ordering,
            _ => ordering.reverse(),
        }
    });
    let (offset, limit) = (query.offset.unwrap_or(0), query.limit.unwrap_or(50));
    let count = rows.len();
    let holdings = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, h)| info(h, total, priced, day))
        .collect();
    Ok(ApiJson(HoldingPage {
        holdings,
        total: count,
        offset,
        limit,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub holdings: usize,
    pub invested_paise: i64,
    /// Of the holdings with a known price.
    pub value_paise: i64,
    pub unrealized_paise: i64,
    pub unrealized_percent: Option<String>,
    /// Every sale matched to a known buy, all years.
    pub realized_paise: i64,
    /// Holdings without any price yet (not in `value`).
    pub unpriced: usize,
    /// Today's change in value, from the last sync's prices and previous
    /// closes; absent without a sync.
    pub day_change_paise: Option<i64>,
    /// Annual return of the imported trades with what they still hold,
    /// valued today (XIRR), as a percentage; absent without trades.
    pub xirr_percent: Option<String>,
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
    let securities = state.service.securities(&caller.user.id).await?;
    Ok(ApiJson(summarize(&securities, today(&state))))
}

/// The summary of `securities`.
pub(crate) fn summarize(securities: &Computed, today: chrono::NaiveDate) -> Summary {
    let realized = securities.realized();
    let holdings = held(securities);
    let priced: Vec<&&Security> = holdings.iter().filter(|h| h.last_price.is_some()).collect();
    let invested_priced: Decimal = priced.iter().map(|h| h.invested()).sum();
    let value: Decimal = priced.iter().filter_map(|h| h.value()).sum();
    Summary {
        holdings: holdings.len(),
        invested_paise: paise(holdings.iter().map(|h| h.invested()).sum()),
        value_paise: paise(value),
        unrealized_paise: paise(value - invested_priced),
        unrealized_percent: percent(value - invested_priced, invested_priced),
        realized_paise: paise(realized),
        unpriced: holdings.len() - priced.len(),
        day_change_paise: holdings
            .iter()
            .filter_map(|h| h.day_change())
            .reduce(|a, b| a + b)
            .map(paise),
        xirr_percent: rate_percent(securities.xirr(today)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Portfolio {
    pub user_id: String,
    pub summary: Summary,
    /// Largest value first.
    pub holdings: Vec<HoldingInfo>,
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
    axum::extract::Path(user_id): axum::extract::Path<String>,
) -> Result<ApiJson<Portfolio>, ApiError> {
    if user_id != caller.user.id {
        return Err(ApiError::permission_denied(
            "cannot access another user's portfolio",
        ));
    }
    let securities = state.service.securities(&user_id).await?;
    let day = today(&state);
    let summary = summarize(&securities, day);
    let holdings = holding_infos(&securities, day);
    Ok(ApiJson(Portfolio {
        user_id,
        summary,
        holdings,
    }))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllocationBy {
    Stock,
    Sector,
    AssetClass,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    /// stock, sector or asset_class.
    pub by: AllocationBy,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    pub name: String,
    pub value_paise: i64,
    pub percent: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub by: AllocationBy,
    /// `value` when every holding has a price, else `invested`.
    pub basis: &'static str,
    pub total_paise: i64,
    /// Largest first.
    pub slices: Vec<Slice>,
}

/// The slices of `securities` by stock, sector or asset class, largest
/// first; the total; and whether it is of values (every holding priced)
/// rather than of amounts invested.
pub(crate) fn allocation_of(
    securities: &[Security],
    by: AllocationBy,
) -> (Vec<Slice>, Decimal, bool) {
    let holdings = held(securities);
    let (total, priced) = weights(&holdings);
    let mut groups: BTreeMap<String, Decimal> = BTreeMap::new();
    for h in &holdings {
        let name = match by {
            AllocationBy::Stock => h.symbol.clone(),
            AllocationBy::Sector => h.sector().to_string(),
            AllocationBy::AssetClass => serde_json::to_value(h.asset_class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        };
        *groups.entry(name).or_default() += if priced {
            h.value().unwrap_or_default()
        } else {
            h.invested()
        };
    }
    let mut slices: Vec<Slice> = groups
        .into_iter()
        .map(|(name, amount)| Slice {
            name,
            value_paise: paise(amount),
            percent: percent(amount, total).unwrap_or_else(|| "0".into()),
        })
        .collect();
    slices.sort_by(|a, b| b.value_paise.cmp(&a.value_paise).then(a.name.cmp(&b.name)));
    (slices, total, priced)
}

/// Every holding as the API describes it, largest value first.
pub(crate) fn holding_infos(securities: &[Security], day: chrono::NaiveDate) -> Vec<HoldingInfo> {
    let held = held(securities);
    let (total, priced) = weights(&held);
    let mut holdings: Vec<HoldingInfo> = held.iter().map(|h| info(h, total, priced, day)).collect();
    holdings.sort_by(|a, b| {
        b.value_paise
            .unwrap_or(b.invested_paise)
            .cmp(&a.value_paise.unwrap_or(a.invested_paise))
            .then(a.symbol.cmp(&b.symbol))
    });
    holdings
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
    let securities = state.service.securities(&caller.user.id).await?;
    let (slices, total, priced) = allocation_of(&securities, query.by);
    Ok(ApiJson(Allocation {
        by: query.by,
        basis: if priced { "value" } else { "invested" },
        total_paise: paise(total),
        slices,
    }))
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

/// Realized gains of one financial year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct YearPnl {
    pub fy: String,
    pub short_term_paise: i64,
    pub long_term_paise: i64,
    pub total_paise: i64,
    /// Sales (pieces of a sale matched to one buy) in the year.
    pub sales: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sale {
    pub symbol: String,
    pub isin: String,
    pub sold_on: String,
    pub bought_on: String,
    pub quantity: String,
    pub buy_price_paise: i64,
    pub sell_price_paise: i64,
    pub pnl_paise: i64,
    pub holding_days: i64,
    pub term: Term,
    pub financial_year: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unmatched {
    pub symbol: String,
    pub isin: String,
    /// Sold without a known buy (bought before the imported history).
    pub quantity: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RealizedPnl {
    pub fy: Option<String>,
    pub symbol: Option<String>,
    /// Sums over every sale the filter matches, not just this page.
    pub short_term_paise: i64,
    pub long_term_paise: i64,
    pub total_paise: i64,
    /// Each financial year's sums (of the security, when one is asked for).
    pub years: Vec<YearPnl>,
    /// One page of the sales, oldest first.
    pub sales: Vec<Sale>,
    /// Sales the filter matches, on every page.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub unmatched: Vec<Unmatched>,
}

fn sale(securities: &[Security], r: &super::computed::SaleRef) -> Sale {
    let s = &securities[r.security as usize];
    let piece = &s.book.realized[r.piece as usize];
    Sale {
        symbol: s.symbol.clone(),
        isin: s.isin.clone(),
        sold_on: piece.sold_on.to_string(),
        bought_on: piece.bought_on.to_string(),
        quantity: piece.quantity.normalize().to_string(),
        buy_price_paise: paise(piece.buy_price),
        sell_price_paise: paise(piece.sell_price),
        pnl_paise: paise(piece.pnl),
        holding_days: piece.holding_days,
        term: piece.term,
        financial_year: financial_year(piece.sold_on),
    }
}

/// Every sale of `securities`, oldest first, from their index.
pub(crate) fn all_sales(securities: &Computed) -> Vec<Sale> {
    securities
        .sales()
        .all
        .iter()
        .map(|r| sale(securities, r))
        .collect()
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
    let securities = state.service.securities(&caller.user.id).await?;
    let symbol = query.symbol.map(|s| s.trim().to_ascii_uppercase());
    let is_it = |s: &Security| {
        symbol
            .as_ref()
            .is_none_or(|want| s.symbol == *want || s.isin == *want)
    };
    // Every sale is indexed once per version; one security's are few.
    let own;
    let sales: &super::computed::Sales = match &symbol {
        None => securities.sales(),
        Some(_) => {
            own = super::computed::index_sales(
                &securities,
                super::computed::sale_refs(&securities, is_it),
            );
            &own
        }
    };
    let in_year = |fy: &str| query.fy.as_ref().is_none_or(|want| want == fy);
    // Sales are oldest first, so a year's sales are one run of them.
    let mut start = 0;
    let mut chosen: &[super::computed::SaleRef] = &sales.all;
    if query.fy.is_some() {
        let mut end = 0;
        for year in &sales.years {
            if in_year(&year.fy) {
                end = start + year.sales;
                break;
            }
            start += year.sales;
        }
        chosen = sales.all.get(start..end.max(start)).unwrap_or_default();
    }
    let (short, long) = sales
        .years
        .iter()
        .filter(|y| in_year(&y.fy))
        .fold((Decimal::ZERO, Decimal::ZERO), |(s, l), y| {
            (s + y.short_term, l + y.long_term)
        });
    let (offset, limit) = (query.offset.unwrap_or(0), query.limit.unwrap_or(100));
    let page = chosen
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|r| sale(&securities, r))
        .collect();
    let unmatched = securities
        .iter()
        .filter(|s| is_it(s) && s.book.unmatched_sold > Decimal::ZERO)
        .map(|s| Unmatched {
            symbol: s.symbol.clone(),
            isin: s.isin.clone(),
            quantity: s.book.unmatched_sold.normalize().to_string(),
        })
        .collect();
    Ok(ApiJson(RealizedPnl {
        fy: query.fy,
        symbol,
        short_term_paise: paise(short),
        long_term_paise: paise(long),
        total_paise: paise(short + long),
        years: sales
            .years
            .iter()
            .map(|y| YearPnl {
                fy: y.fy.clone(),
                short_term_paise: paise(y.short_term),
                long_term_paise: paise(y.long_term),
                total_paise: paise(y.short_term + y.long_term),
                sales: y.sales as i64,
            })
            .collect(),
        sales: page,
        total: chosen.len() as i64,
        offset,
        limit,
        unmatched,
    }))
}
