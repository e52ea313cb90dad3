//! The data a [`Source`] answers with, worked out from the portfolio's
//! report (and, for trades and history, the rows read for it). Widgets and
//! chat both draw their figures from here, so the same source gives the same
//! numbers wherever it is shown.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::model::{AllocationBy, Term, TradeInfo};
use super::model::{DayValue, HoldingInfo, HoldingSort, Order, Paise, Percent, Report, Slice};
use super::query::{
    Data, DataKind, Direction, Figure, Format, HoldingsSource, Measure, Source, SummarySource,
};

/// What a source needs besides the report: filled by the service for
/// `trades` and `history` sources.
#[derive(Debug, Default)]
pub struct Rows {
    /// Oldest first.
    pub trades: Vec<TradeInfo>,
    /// Oldest first.
    pub history: Vec<DayValue>,
}

fn pct(p: Option<Percent>) -> Value {
    p.map_or(Value::Null, |p| json!(p))
}

/// Holdings as a table: the columns every holdings answer has.
pub fn holdings_table(rows: &[&HoldingInfo]) -> Data {
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("symbol", "Symbol", Format::Text),
            ("quantity", "Quantity", Format::Quantity),
            ("investedPaise", "Invested", Format::Money),
            ("valuePaise", "Value", Format::Money),
            ("pnlPaise", "P&L", Format::Money),
            ("pnlPercent", "P&L %", Format::Percent),
            ("weightPercent", "Weight", Format::Percent),
        ],
    );
    for h in rows {
        data.push(vec![
            json!(h.symbol),
            json!(h.quantity),
            json!(h.invested_paise),
            json!(h.value_paise),
            json!(h.unrealized_paise),
            pct(h.unrealized_percent),
            pct(h.weight_percent),
        ]);
    }
    data
}

/// The holdings a holdings source selects, in its order.
pub fn select_holdings<'a>(report: &'a Report, source: &HoldingsSource) -> Vec<&'a HoldingInfo> {
    let mut rows: Vec<&HoldingInfo> = report
        .holdings
        .iter()
        .filter(|h| source.min_worth_paise.is_none_or(|min| h.worth() > min))
        .filter(|h| source.max_worth_paise.is_none_or(|max| h.worth() < max))
        .collect();
    let key = |h: &HoldingInfo| -> Decimal {
        match source.sort {
            HoldingSort::Value => h.worth().rupees(),
            HoldingSort::Invested => h.invested_paise.rupees(),
            HoldingSort::Pnl => h.unrealized_paise.unwrap_or_default().rupees(),
            HoldingSort::PnlPercent => h.unrealized_percent.map(Percent::get).unwrap_or_default(),
            HoldingSort::Quantity => h.quantity.decimal(),
            HoldingSort::Symbol => Decimal::ZERO,
        }
    };
    let by_symbol = source.sort == HoldingSort::Symbol;
    let ascending = source.order.map_or(by_symbol, |o| o == Order::Asc);
    rows.sort_by(|a, b| {
        let order = if by_symbol {
            a.symbol.cmp(&b.symbol)
        } else {
            key(a).cmp(&key(b)).then(a.symbol.cmp(&b.symbol))
        };
        if ascending { order } else { order.reverse() }
    });
    if let Some(n) = source.top {
        rows.truncate(usize::from(n));
    }
    rows
}

/// The holdings up (or down) the most; only those on the asked side.
pub fn movers(
    report: &Report,
    direction: Direction,
    measure: Measure,
    n: u16,
) -> Vec<&HoldingInfo> {
    let key = |h: &HoldingInfo| match measure {
        Measure::Percent => h.unrealized_percent.map(Percent::get).unwrap_or_default(),
        Measure::Amount => h.unrealized_paise.unwrap_or_default().rupees(),
    };
    let mut rows: Vec<&HoldingInfo> = report
        .holdings
        .iter()
        .filter(|h| h.unrealized_paise.is_some())
        .filter(|h| match direction {
            Direction::Gainers => key(h) > Decimal::ZERO,
            Direction::Losers => key(h) < Decimal::ZERO,
        })
        .collect();
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then(a.symbol.cmp(&b.symbol)));
    if direction == Direction::Losers {
        rows.reverse();
    }
    rows.truncate(usize::from(n));
    rows
}

fn slices(report: &Report, by: AllocationBy) -> &[Slice] {
    match by {
        AllocationBy::Stock => &report.by_stock,
        AllocationBy::Sector => &report.by_sector,
        AllocationBy::AssetClass => &report.by_asset_class,
    }
}

/// An allocation's slices, the largest `top` and the rest as "Others".
pub fn allocation_table(report: &Report, by: AllocationBy, top: Option<u16>) -> Data {
    let label = match by {
        AllocationBy::Stock => "Stock",
        AllocationBy::Sector => "Sector",
        AllocationBy::AssetClass => "Asset class",
    };
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("name", label, Format::Text),
            ("valuePaise", "Value", Format::Money),
            ("percent", "Share", Format::Percent),
        ],
    );
    let all = slices(report, by);
    let shown = top.map_or(all.len(), |n| usize::from(n).min(all.len()));
    for slice in &all[..shown] {
        data.push(vec![
            json!(slice.name),
            json!(slice.value_paise),
            json!(slice.percent),
        ]);
    }
    let rest = &all[shown..];
    if !rest.is_empty() {
        let value: Paise = rest.iter().map(|s| s.value_paise).sum();
        let percent: Decimal = rest.iter().map(|s| s.percent.get()).sum();
        data.push(vec![
            json!("Others"),
            json!(value),
            json!(percent.normalize().to_string()),
        ]);
    }
    data
}

fn summary(report: &Report, source: &SummarySource) -> Data {
    let s = &report.summary;
    let columns: Vec<(&str, &str, Format)> = source
        .figures
        .iter()
        .map(|f| match f {
            Figure::Value => ("valuePaise", "Value", Format::Money),
            Figure::Invested => ("investedPaise", "Invested", Format::Money),
            Figure::Unrealized => ("unrealizedPaise", "Unrealized", Format::Money),
            Figure::UnrealizedPercent => ("unrealizedPercent", "Unrealized %", Format::Percent),
            Figure::Realized => ("realizedPaise", "Realized", Format::Money),
            Figure::DayChange => ("dayChangePaise", "Today", Format::Money),
            Figure::Xirr => ("xirrPercent", "XIRR", Format::Percent),
            Figure::Holdings => ("holdings", "Holdings", Format::Number),
        })
        .collect();
    let values = source
        .figures
        .iter()
        .map(|f| match f {
            Figure::Value => json!(s.value_paise),
            Figure::Invested => json!(s.invested_paise),
            Figure::Unrealized => json!(s.unrealized_paise),
            Figure::UnrealizedPercent => pct(s.unrealized_percent),
            Figure::Realized => json!(s.realized_paise),
            Figure::DayChange => s.day_change_paise.map_or(Value::Null, |p| json!(p)),
            Figure::Xirr => pct(s.xirr_percent),
            Figure::Holdings => json!(s.holdings),
        })
        .collect();
    Data::new(DataKind::Figure, &columns).row(values)
}

/// Realized P&L of the sales in `fy` (every year when `None`).
pub fn realized_figure(report: &Report, fy: Option<&str>) -> Data {
    let mut short = Paise::ZERO;
    let mut long = Paise::ZERO;
    let mut sales = 0usize;
    for s in report
        .sales
        .iter()
        .filter(|s| fy.is_none_or(|f| s.financial_year == f))
    {
        sales += 1;
        match s.term {
            Term::ShortTerm => short += s.pnl_paise,
            Term::LongTerm => long += s.pnl_paise,
        }
    }
    Data::new(
        DataKind::Figure,
        &[
            ("shortTermPaise", "Short-term", Format::Money),
            ("longTermPaise", "Long-term", Format::Money),
            ("totalPaise", "Total", Format::Money),
            ("sales", "Sales", Format::Number),
        ],
    )
    .row(vec![
        json!(short),
        json!(long),
        json!(short + long),
        json!(sales),
    ])
}

fn realized_by_year(report: &Report) -> Data {
    let mut years: BTreeMap<&str, (Paise, Paise, usize)> = BTreeMap::new();
    for s in &report.sales {
        let year = years.entry(s.financial_year.as_str()).or_default();
        match s.term {
            Term::ShortTerm => year.0 += s.pnl_paise,
            Term::LongTerm => year.1 += s.pnl_paise,
        }
        year.2 += 1;
    }
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("fy", "Financial year", Format::Text),
            ("shortTermPaise", "Short-term", Format::Money),
            ("longTermPaise", "Long-term", Format::Money),
            ("totalPaise", "Total", Format::Money),
            ("sales", "Sales", Format::Number),
        ],
    );
    for (fy, (short, long, sales)) in years {
        data.push(vec![
            json!(fy),
            json!(short),
            json!(long),
            json!(short + long),
            json!(sales),
        ]);
    }
    data
}

/// Trades as a table, in the order given.
pub fn trades_table(trades: &[TradeInfo]) -> Data {
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("date", "Date", Format::Date),
            ("symbol", "Symbol", Format::Text),
            ("side", "Side", Format::Text),
            ("quantity", "Quantity", Format::Quantity),
            ("pricePaise", "Price", Format::Money),
            ("valuePaise", "Value", Format::Money),
        ],
    );
    for t in trades {
        data.push(vec![
            json!(t.trade_date),
            json!(t.symbol),
            json!(t.side),
            json!(t.quantity),
            json!(t.price_paise),
            json!(t.value_paise),
        ]);
    }
    data
}

/// The top `n` holdings by weight and their share.
pub fn concentration_table(report: &Report, n: u16) -> Data {
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("name", "Stock", Format::Text),
            ("percent", "Share", Format::Percent),
        ],
    );
    for s in report.by_stock.iter().take(usize::from(n)) {
        data.push(vec![json!(s.name), json!(s.percent)]);
    }
    data
}

fn history_series(days: &[DayValue]) -> Data {
    let mut data = Data::new(
        DataKind::Series,
        &[
            ("day", "Day", Format::Date),
            ("valuePaise", "Value", Format::Money),
            ("investedPaise", "Invested", Format::Money),
            ("returnPercent", "Return", Format::Percent),
        ],
    );
    for d in days {
        let gain = d.value_paise.rupees() - d.invested_paise.rupees();
        data.push(vec![
            json!(d.day),
            json!(d.value_paise),
            json!(d.invested_paise),
            pct(Percent::of(gain, d.invested_paise.rupees())),
        ]);
    }
    data
}

/// The data `source` answers with.
pub fn data(report: &Report, rows: &Rows, source: &Source) -> Data {
    match source {
        Source::Summary(s) => summary(report, s),
        Source::Holdings(h) => holdings_table(&select_holdings(report, h)),
        Source::Allocation(a) => allocation_table(report, a.by, a.top),
        Source::Movers(m) => holdings_table(&movers(report, m.direction, m.measure, m.n)),
        Source::Position(p) => {
            let held: Vec<&HoldingInfo> = report
                .holdings
                .iter()
                .filter(|h| h.symbol == p.symbol)
                .collect();
            holdings_table(&held)
        }
        Source::Realized(r) if r.by_year => realized_by_year(report),
        Source::Realized(r) => realized_figure(report, r.fy.as_deref()),
        Source::Xirr(x) if x.per_holding => {
            let mut data = Data::new(
                DataKind::Table,
                &[
                    ("symbol", "Symbol", Format::Text),
                    ("xirrPercent", "XIRR", Format::Percent),
                ],
            );
            for h in &report.holdings {
                data.push(vec![json!(h.symbol), pct(h.xirr_percent)]);
            }
            data
        }
        Source::Xirr(x) => match &x.symbol {
            Some(symbol) => Data::new(
                DataKind::Figure,
                &[
                    ("symbol", "Symbol", Format::Text),
                    ("xirrPercent", "XIRR", Format::Percent),
                ],
            )
            .row(vec![
                json!(symbol),
                pct(report
                    .holdings
                    .iter()
                    .find(|h| h.symbol == *symbol)
                    .and_then(|h| h.xirr_percent)),
            ]),
            None => Data::new(
                DataKind::Figure,
                &[("xirrPercent", "XIRR", Format::Percent)],
            )
            .row(vec![pct(report.summary.xirr_percent)]),
        },
        Source::Trades(_) => trades_table(&rows.trades),
        Source::History(_) => history_series(&rows.history),
        Source::Concentration(c) => concentration_table(report, c.top),
    }
}
