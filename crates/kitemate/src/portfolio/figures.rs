//! The figures of a worked-out portfolio, as the model states them:
//! holdings valued and weighed, the summary, allocation, realized gains, and
//! the report other services read. Depends on the calculations and the
//! model only; no I/O.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::calc::fifo::financial_year;
use super::calc::positions::Security;
use super::computed::{self, Computed, SaleRef};
use super::model::{
    Allocation, AllocationBy, HoldingInfo, HoldingPage, HoldingSort, Order, Paise, Percent,
    PriceSource, Quantity, RealizedPnl, Report, Sale, Slice, Summary, Unmatched, YearPnl,
};

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

/// Stored quantities are bounded far below what a decimal can scale.
fn quantity(q: Decimal) -> Quantity {
    Quantity::rounded(q).unwrap_or(Quantity::ZERO)
}

fn info(h: &Security, total: Decimal, priced: bool, today: NaiveDate) -> HoldingInfo {
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
        quantity: quantity(h.quantity()),
        average_price: h.average_price().map(|a| a.round_dp(4).normalize()),
        invested_paise: Paise::from_rupees(invested),
        last_price_paise: h.last_price.map(Paise::from_rupees),
        value_paise: value.map(Paise::from_rupees),
        unrealized_paise: unrealized.map(Paise::from_rupees),
        unrealized_percent: unrealized.and_then(|u| Percent::of(u, invested)),
        weight_percent: Percent::of(basis, total),
        sector: h.sector().to_string(),
        asset_class: h.asset_class,
        xirr_percent: h.xirr(today).and_then(Percent::from_rate),
        price_as_of: h.last_price.and(h.price_as_of),
        price_source: h.last_price.and(h.price_source),
    }
}

/// A page of holdings sorted by `sort` in `order` (symbols A to Z by
/// default, everything else largest first).
pub fn holdings_page(
    securities: &[Security],
    sort: HoldingSort,
    order: Option<Order>,
    offset: usize,
    limit: usize,
    today: NaiveDate,
) -> HoldingPage {
    let holdings = held(securities);
    let (total, priced) = weights(&holdings);
    let mut rows: Vec<(Decimal, &Security)> = holdings
        .iter()
        .map(|h| {
            let key = match sort {
                HoldingSort::Value => h.value().unwrap_or_else(|| h.invested()),
                HoldingSort::Invested => h.invested(),
                HoldingSort::Pnl => h.value().map_or(Decimal::ZERO, |v| v - h.invested()),
                HoldingSort::PnlPercent => h
                    .value()
                    .filter(|_| !h.invested().is_zero())
                    .map_or(Decimal::ZERO, |v| (v - h.invested()) / h.invested()),
                HoldingSort::Quantity => h.quantity(),
                HoldingSort::Symbol => Decimal::ZERO,
            };
            (key, *h)
        })
        .collect();
    let by_symbol = sort == HoldingSort::Symbol;
    rows.sort_by(|a, b| {
        let ordering = if by_symbol {
            a.1.symbol.cmp(&b.1.symbol)
        } else {
            a.0.cmp(&b.0).then(a.1.symbol.cmp(&b.1.symbol))
        };
        match (order, by_symbol) {
            (Some(Order::Asc), _) | (None, true) => ordering,
            _ => ordering.reverse(),
        }
    });
    let count = rows.len();
    let holdings = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, h)| info(h, total, priced, today))
        .collect();
    HoldingPage {
        holdings,
        total: count,
        offset,
        limit,
    }
}

/// The summary of `securities`.
pub fn summarize(securities: &Computed, today: NaiveDate) -> Summary {
    let realized = securities.realized();
    let holdings = held(securities);
    let priced: Vec<&&Security> = holdings.iter().filter(|h| h.last_price.is_some()).collect();
    let invested_priced: Decimal = priced.iter().map(|h| h.invested()).sum();
    let value: Decimal = priced.iter().filter_map(|h| h.value()).sum();
    Summary {
        holdings: holdings.len(),
        invested_paise: Paise::from_rupees(holdings.iter().map(|h| h.invested()).sum()),
        value_paise: Paise::from_rupees(value),
        unrealized_paise: Paise::from_rupees(value - invested_priced),
        unrealized_percent: Percent::of(value - invested_priced, invested_priced),
        realized_paise: Paise::from_rupees(realized),
        unpriced: holdings.len() - priced.len(),
        day_change_paise: holdings
            .iter()
            .filter_map(|h| h.day_change())
            .reduce(|a, b| a + b)
            .map(Paise::from_rupees),
        xirr_percent: securities.xirr(today).and_then(Percent::from_rate),
        price_as_of: priced.iter().filter_map(|h| h.price_as_of).min(),
        price_source: priced
            .iter()
            .filter_map(|h| h.price_source)
            .reduce(|a, b| if a == b { a } else { PriceSource::Mixed }),
    }
}

/// How `securities` divide by stock, sector or asset class, largest first.
pub fn allocation(securities: &[Security], by: AllocationBy) -> Allocation {
    let holdings = held(securities);
    let (total, priced) = weights(&holdings);
    let mut groups: BTreeMap<&str, Decimal> = BTreeMap::new();
    for h in &holdings {
        let name = match by {
            AllocationBy::Stock => h.symbol.as_str(),
            AllocationBy::Sector => h.sector(),
            AllocationBy::AssetClass => h.asset_class.as_str(),
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
            name: name.to_string(),
            value_paise: Paise::from_rupees(amount),
            percent: Percent::of(amount, total).unwrap_or(Percent::ZERO),
        })
        .collect();
    slices.sort_by(|a, b| b.value_paise.cmp(&a.value_paise).then(a.name.cmp(&b.name)));
    Allocation {
        by,
        basis: if priced { "value" } else { "invested" },
        total_paise: Paise::from_rupees(total),
        slices,
    }
}

/// Every holding, largest value first.
pub fn holding_infos(securities: &[Security], today: NaiveDate) -> Vec<HoldingInfo> {
    let held = held(securities);
    let (total, priced) = weights(&held);
    let mut holdings: Vec<HoldingInfo> =
        held.iter().map(|h| info(h, total, priced, today)).collect();
    holdings.sort_by(|a, b| b.worth().cmp(&a.worth()).then(a.symbol.cmp(&b.symbol)));
    holdings
}

fn sale(securities: &[Security], r: &SaleRef) -> Sale {
    let s = &securities[r.security as usize];
    let piece = &s.book.realized[r.piece as usize];
    Sale {
        symbol: s.symbol.clone(),
        isin: s.isin.clone(),
        sold_on: piece.sold_on,
        bought_on: piece.bought_on,
        quantity: quantity(piece.quantity),
        buy_price_paise: Paise::from_rupees(piece.buy_price),
        sell_price_paise: Paise::from_rupees(piece.sell_price),
        pnl_paise: Paise::from_rupees(piece.pnl),
        holding_days: piece.holding_days,
        term: piece.term,
        financial_year: financial_year(piece.sold_on),
    }
}

/// Which realized gains to show: a year, a security, a page.
#[derive(Debug, Clone, Default)]
pub struct RealizedFilter {
    /// A financial year like `2024-25`.
    pub fy: Option<String>,
    /// A symbol or an ISIN, upper case.
    pub symbol: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// Realized gains (FIFO), short- and long-term: the sums per financial year
/// and one page of the sales the filter keeps.
pub fn realized(securities: &Computed, filter: RealizedFilter) -> RealizedPnl {
    let is_it = |s: &Security| {
        filter
            .symbol
            .as_ref()
            .is_none_or(|want| s.symbol == *want || s.isin == *want)
    };
    // Every sale is indexed once per version; one security's are few.
    let own;
    let sales: &computed::Sales = match &filter.symbol {
        None => securities.sales(),
        Some(_) => {
            own = computed::index_sales(securities, computed::sale_refs(securities, is_it));
            &own
        }
    };
    let in_year = |fy: &str| filter.fy.as_ref().is_none_or(|want| want == fy);
    // Sales are oldest first, so a year's sales are one run of them.
    let mut chosen: &[SaleRef] = &sales.all;
    if filter.fy.is_some() {
        let (mut start, mut end) = (0, 0);
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
    let page = chosen
        .iter()
        .skip(filter.offset)
        .take(filter.limit)
        .map(|r| sale(securities, r))
        .collect();
    let unmatched = securities
        .iter()
        .filter(|s| is_it(s) && s.book.unmatched_sold > Decimal::ZERO)
        .map(|s| Unmatched {
            symbol: s.symbol.clone(),
            isin: s.isin.clone(),
            quantity: quantity(s.book.unmatched_sold),
        })
        .collect();
    RealizedPnl {
        short_term_paise: Paise::from_rupees(short),
        long_term_paise: Paise::from_rupees(long),
        total_paise: Paise::from_rupees(short + long),
        years: sales
            .years
            .iter()
            .map(|y| YearPnl {
                fy: y.fy.clone(),
                short_term_paise: Paise::from_rupees(y.short_term),
                long_term_paise: Paise::from_rupees(y.long_term),
                total_paise: Paise::from_rupees(y.short_term + y.long_term),
                sales: y.sales,
            })
            .collect(),
        sales: page,
        total: chosen.len(),
        offset: filter.offset,
        limit: filter.limit,
        unmatched,
        fy: filter.fy,
        symbol: filter.symbol,
    }
}

/// The report of `securities` on `today`: everything other services read.
pub fn report(securities: &Computed, today: NaiveDate) -> Report {
    let slices = |by| allocation(securities, by).slices;
    Report {
        today,
        summary: summarize(securities, today),
        holdings: holding_infos(securities, today),
        sales: securities
            .sales()
            .all
            .iter()
            .map(|r| sale(securities, r))
            .collect(),
        by_stock: slices(AllocationBy::Stock),
        by_sector: slices(AllocationBy::Sector),
        by_asset_class: slices(AllocationBy::AssetClass),
    }
}
