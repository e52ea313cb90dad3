//! Answers worked out from the portfolio service's own figures: every
//! number in a reply is one the portfolio endpoints would give.

use rust_decimal::Decimal;
use serde_json::json;

use super::Facts;
use super::intent::{Aspect, By, Intent, Side};
use super::money::{inr, percent, signed_inr};
use super::period::fy_name;
use super::reply::{
    Answer, Data, DataKind, Format, Widget, WidgetKind, answered, describe, fallback,
};
use crate::portfolio::model::{AllocationBy, Order};
use crate::portfolio::query::{
    AllocationSource, ConcentrationSource, Direction, Figure, HoldingsSource, Measure,
    MoversSource, PositionSource, RealizedSource, Source, SummarySource, TradesSource, XirrSource,
};
use crate::portfolio::tables::{self, Rows};
use crate::portfolio::{HoldingInfo, Paise};

fn nothing_held(facts: &Facts) -> Option<Answer> {
    (facts.report.holdings.is_empty() && facts.report.sales.is_empty()).then(|| {
        fallback("Your portfolio is empty: import a Console tradebook or holdings file, or connect Zerodha, and ask again.")
    })
}

use tables::holdings_table;

/// The data of `source` from the facts' report, as a widget of it shows it.
fn source_data(facts: &Facts, source: &Source) -> Data {
    tables::data(&facts.report, &Rows::default(), source)
}

fn summary(figures: &[Figure]) -> Source {
    Source::Summary(SummarySource {
        figures: figures.to_vec(),
    })
}

/// A count a question asked for, within what a widget's source allows.
fn clamp(n: usize, max: u16) -> u16 {
    u16::try_from(n).unwrap_or(max).clamp(1, max)
}

fn find<'a>(facts: &'a Facts, symbol: &str) -> Option<&'a HoldingInfo> {
    facts.report.holdings.iter().find(|h| h.symbol == symbol)
}

pub fn answer(intent: &Intent, facts: &Facts) -> Answer {
    let s = &facts.report.summary;
    match intent {
        Intent::Unknown => fallback("I can't answer that from your portfolio yet."),
        Intent::NotHeld { symbol } => fallback(&format!(
            "You don't hold or trade **{symbol}** in the portfolio I have."
        )),
        Intent::Value => nothing_held(facts).unwrap_or_else(|| {
            let mut text = format!(
                "Your portfolio is worth **{}** across {} holdings.",
                inr(s.value_paise),
                s.holdings
            );
            if s.unpriced > 0 {
                text.push_str(&format!(
                    " {} of them have no price yet and are not counted.",
                    s.unpriced
                ));
            }
            let source = summary(&[Figure::Value, Figure::Holdings]);
            answered(
                text,
                source_data(facts, &source),
                Widget::new(WidgetKind::Metric, "Portfolio value", source),
            )
        }),
        Intent::Invested => nothing_held(facts).unwrap_or_else(|| {
            let text = format!(
                "You have **{}** invested in {} holdings (at their average cost).",
                inr(s.invested_paise),
                s.holdings
            );
            let source = summary(&[Figure::Invested]);
            answered(
                text,
                source_data(facts, &source),
                Widget::new(WidgetKind::Metric, "Invested", source),
            )
        }),
        Intent::Pnl => nothing_held(facts).unwrap_or_else(|| {
            let mut text = format!("Unrealized P&L: **{}**", signed_inr(s.unrealized_paise));
            if let Some(p) = &s.unrealized_percent {
                text.push_str(&format!(" ({})", percent(*p)));
            }
            text.push_str(&format!(
                " on {} invested; realized so far: {}.",
                inr(s.invested_paise),
                signed_inr(s.realized_paise)
            ));
            let source = summary(&[
                Figure::Unrealized,
                Figure::UnrealizedPercent,
                Figure::Realized,
            ]);
            answered(
                text,
                source_data(facts, &source),
                Widget::new(WidgetKind::Metric, "P&L", source),
            )
        }),
        Intent::DayChange => match s.day_change_paise {
            Some(change) => {
                let text = format!(
                    "Today your holdings moved **{}** (from the last sync's prices against the previous close).",
                    signed_inr(change)
                );
                let source = summary(&[Figure::DayChange]);
                answered(
                    text,
                    source_data(facts, &source),
                    Widget::new(WidgetKind::Metric, "Today", source),
                )
            }
            None => fallback(
                "I don't know today's change: it needs prices from Zerodha. Connect Zerodha and sync, then ask again.",
            ),
        },
        Intent::Holdings {
            sort,
            ascending,
            limit,
            worth,
        } => nothing_held(facts).unwrap_or_else(|| {
            let source = HoldingsSource {
                sort: super::detail::holding_sort(*sort),
                order: Some(if *ascending { Order::Asc } else { Order::Desc }),
                top: limit.map(|n| clamp(n, 500)),
                min_worth_paise: worth.filter(|(more, _)| *more).map(|(_, b)| Paise::new(b)),
                max_worth_paise: worth.filter(|(more, _)| !*more).map(|(_, b)| Paise::new(b)),
            };
            let rows = tables::select_holdings(&facts.report, &source);
            let by = super::detail::sort_name(*sort);
            let which = match worth {
                Some((true, bound)) => format!(" worth more than {}", inr(Paise::new(*bound))),
                Some((false, bound)) => format!(" worth less than {}", inr(Paise::new(*bound))),
                None => String::new(),
            };
            let noun = if rows.len() == 1 {
                "holding"
            } else {
                "holdings"
            };
            let mut text = format!("Your {} {noun}{which} by {by}:\n", rows.len());
            for h in &rows {
                text.push_str(&format!("- {}\n", describe(h)));
            }
            answered(
                text,
                holdings_table(&rows),
                Widget::new(
                    WidgetKind::Table,
                    &format!("Holdings by {by}"),
                    Source::Holdings(source),
                ),
            )
        }),
        Intent::Movers {
            gainers,
            by_percent,
            n,
        } => nothing_held(facts).unwrap_or_else(|| {
            let source = MoversSource {
                direction: if *gainers {
                    Direction::Gainers
                } else {
                    Direction::Losers
                },
                measure: if *by_percent {
                    Measure::Percent
                } else {
                    Measure::Amount
                },
                n: clamp(*n, 50),
            };
            let rows = tables::movers(&facts.report, source.direction, source.measure, source.n);
            let (word, how) = (
                if *gainers { "gainers" } else { "losers" },
                if *by_percent { "by %" } else { "by ₹" },
            );
            if rows.is_empty() {
                return answered(
                    format!(
                        "None of your priced holdings is {}.",
                        if *gainers { "up" } else { "down" }
                    ),
                    holdings_table(&rows),
                    None,
                );
            }
            let mut text = format!("Top {} {word} {how}:\n", rows.len());
            for h in &rows {
                text.push_str(&format!(
                    "- **{}** {} ({})\n",
                    h.symbol,
                    signed_inr(h.unrealized_paise.unwrap_or_default()),
                    h.unrealized_percent.map(percent).unwrap_or_default()
                ));
            }
            answered(
                text,
                holdings_table(&rows),
                Widget::new(
                    WidgetKind::Bar,
                    &format!("Top {word} {how}"),
                    Source::Movers(source),
                ),
            )
        }),
        Intent::Position { symbol, aspect } => match find(facts, symbol) {
            None => {
                let realized: Paise = facts
                    .report
                    .sales
                    .iter()
                    .filter(|s| s.symbol == *symbol)
                    .map(|s| s.pnl_paise)
                    .sum::<Paise>();
                let sold = facts.report.sales.iter().any(|s| s.symbol == *symbol);
                if sold {
                    let data = Data::new(
                        DataKind::Figure,
                        &[
                            ("symbol", "Symbol", Format::Text),
                            ("realizedPaise", "Realized", Format::Money),
                        ],
                    )
                    .row(vec![json!(symbol), json!(realized)]);
                    answered(
                        format!(
                            "You no longer hold **{symbol}**; selling it realized {}.",
                            signed_inr(realized)
                        ),
                        data,
                        None,
                    )
                } else {
                    fallback(&format!("You don't hold **{symbol}**."))
                }
            }
            Some(h) => {
                let text = match aspect {
                    Aspect::Quantity => {
                        format!("You hold **{} shares** of {}.", h.quantity, h.symbol)
                    }
                    Aspect::AveragePrice => match &h.average_price {
                        Some(avg) => format!(
                            "You paid **{}** a share on average for your {} {} shares ({} in all).",
                            inr(Paise::from_rupees(*avg)),
                            h.quantity,
                            h.symbol,
                            inr(h.invested_paise)
                        ),
                        None => format!("I don't know what you paid for {}.", h.symbol),
                    },
                    Aspect::Pnl => match h.unrealized_paise {
                        Some(pnl) => format!(
                            "{}: **{}**{} on {} invested.",
                            h.symbol,
                            signed_inr(pnl),
                            h.unrealized_percent
                                .map(|p| format!(" ({})", percent(p)))
                                .unwrap_or_default(),
                            inr(h.invested_paise)
                        ),
                        None => format!("{} has no price yet, so its P&L is not known.", h.symbol),
                    },
                    Aspect::Invested => format!(
                        "You have **{}** invested in {} ({} shares at an average of {}).",
                        inr(h.invested_paise),
                        h.symbol,
                        h.quantity,
                        h.average_price
                            .map(|a| inr(Paise::from_rupees(a)))
                            .unwrap_or_default()
                    ),
                    Aspect::PnlPercent => match h.unrealized_percent {
                        Some(p) => format!(
                            "{} is **{}** on what you paid ({} on {} invested).",
                            h.symbol,
                            percent(p),
                            h.unrealized_paise.map(signed_inr).unwrap_or_default(),
                            inr(h.invested_paise)
                        ),
                        None => {
                            format!("{} has no price yet, so its return is not known.", h.symbol)
                        }
                    },
                    Aspect::Weight => match &h.weight_percent {
                        Some(w) => {
                            format!("{} is **{}** of your portfolio.", h.symbol, percent(*w))
                        }
                        None => format!("I can't weigh {} without a portfolio value.", h.symbol),
                    },
                    Aspect::Value => match h.value_paise {
                        Some(v) => format!(
                            "Your {} shares of {} are worth **{}**.",
                            h.quantity,
                            h.symbol,
                            inr(v)
                        ),
                        None => format!("{} has no price yet.", h.symbol),
                    },
                    Aspect::Everything => describe(h),
                };
                answered(
                    text,
                    holdings_table(&[h]),
                    Widget::new(
                        WidgetKind::Metric,
                        &h.symbol,
                        Source::Position(PositionSource {
                            symbol: h.symbol.clone(),
                        }),
                    ),
                )
            }
        },
        Intent::Compare { symbols } => {
            let rows: Vec<&HoldingInfo> = symbols.iter().filter_map(|s| find(facts, s)).collect();
            let missing: Vec<&String> = symbols
                .iter()
                .filter(|s| find(facts, s).is_none())
                .collect();
            if rows.len() < 2 {
                return fallback(&format!(
                    "To compare I need two holdings; you don't hold {}.",
                    missing
                        .iter()
                        .map(|s| format!("**{s}**"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
            let mut text = String::new();
            for h in &rows {
                text.push_str(&format!("- {}\n", describe(h)));
            }
            // Two holdings side by side are no one source: not a widget.
            answered(text, holdings_table(&rows), None)
        }
        Intent::Allocation { by } => nothing_held(facts).unwrap_or_else(|| {
            let name = match by {
                By::Stock => "stock",
                By::Sector => "sector",
                By::AssetClass => "asset class",
            };
            let source = AllocationSource {
                by: match by {
                    By::Stock => AllocationBy::Stock,
                    By::Sector => AllocationBy::Sector,
                    By::AssetClass => AllocationBy::AssetClass,
                },
                top: None,
            };
            let data = tables::allocation_table(&facts.report, source.by, source.top);
            let mut text = format!("Allocation by {name}:\n");
            for slice in facts.allocation(*by) {
                text.push_str(&format!(
                    "- {}: {} ({})\n",
                    slice.name,
                    inr(slice.value_paise),
                    percent(slice.percent)
                ));
            }
            answered(
                text,
                data,
                Widget::new(
                    WidgetKind::Pie,
                    &format!("Allocation by {name}"),
                    Source::Allocation(source),
                ),
            )
        }),
        Intent::Concentration { n } => nothing_held(facts).unwrap_or_else(|| {
            let slices = facts.allocation(By::Stock);
            let top: Vec<_> = slices.iter().take(*n).collect();
            let share: Decimal = top.iter().map(|s| s.percent.get()).sum();
            let names: Vec<&str> = top.iter().map(|s| s.name.as_str()).collect();
            let text = format!(
                "Your top {} holdings ({}) are **{}%** of the portfolio.",
                top.len(),
                names.join(", "),
                share.normalize()
            );
            let source = ConcentrationSource { top: clamp(*n, 50) };
            answered(
                text,
                tables::concentration_table(&facts.report, source.top),
                Widget::new(
                    WidgetKind::Pie,
                    &format!("Top {} holdings", source.top),
                    Source::Concentration(source),
                ),
            )
        }),
        Intent::Realized { fy } => {
            let name = fy.map(fy_name);
            let sales: Vec<_> = facts
                .report
                .sales
                .iter()
                .filter(|s| name.as_ref().is_none_or(|f| s.financial_year == *f))
                .collect();
            let short: Paise = sales
                .iter()
                .filter(|s| matches!(s.term, crate::portfolio::Term::ShortTerm))
                .map(|s| s.pnl_paise)
                .sum::<Paise>();
            let long: Paise = sales
                .iter()
                .filter(|s| matches!(s.term, crate::portfolio::Term::LongTerm))
                .map(|s| s.pnl_paise)
                .sum::<Paise>();
            let when = name
                .as_ref()
                .map_or("in all".to_string(), |f| format!("in FY {f}"));
            let text = if sales.is_empty() {
                format!("You realized nothing {when}: no sales.")
            } else {
                format!(
                    "Realized P&L {when}: **{}** from {} sales: short-term {}, long-term {}.",
                    signed_inr(short + long),
                    sales.len(),
                    signed_inr(short),
                    signed_inr(long)
                )
            };
            let title = name.as_ref().map_or("Realized P&L".to_string(), |f| {
                format!("Realized P&L, FY {f}")
            });
            let source = Source::Realized(RealizedSource {
                fy: name,
                by_year: false,
            });
            answered(
                text,
                source_data(facts, &source),
                Widget::new(WidgetKind::Metric, &title, source),
            )
        }
        Intent::Xirr { symbol } => match symbol {
            Some(symbol) => match find(facts, symbol).and_then(|h| h.xirr_percent) {
                Some(x) => {
                    let source = Source::Xirr(XirrSource {
                        symbol: Some(symbol.clone()),
                        per_holding: false,
                    });
                    answered(
                        format!(
                            "XIRR of your {symbol} trades, valued today: **{}** a year.",
                            percent(x)
                        ),
                        source_data(facts, &source),
                        Widget::new(WidgetKind::Metric, &format!("XIRR of {symbol}"), source),
                    )
                }
                None => fallback(&format!(
                    "I can't work out an XIRR for {symbol}: it needs its trades and a price."
                )),
            },
            None => match &s.xirr_percent {
                Some(x) => {
                    let source = Source::Xirr(XirrSource {
                        symbol: None,
                        per_holding: false,
                    });
                    answered(
                        format!(
                            "Your portfolio's XIRR, from your trades with what you still hold valued today: **{}** a year.",
                            percent(*x)
                        ),
                        source_data(facts, &source),
                        Widget::new(WidgetKind::Metric, "XIRR", source),
                    )
                }
                None => fallback("I can't work out an XIRR: it needs imported trades and prices."),
            },
        },
        Intent::Trades {
            period,
            side,
            symbol,
        } => {
            let trades = &facts.trades;
            let count = facts.tally.as_ref().map_or(trades.len(), |t| t.count);
            let what = match (side, count) {
                (Some(Side::Buy), 1) => "buy",
                (Some(Side::Buy), _) => "buys",
                (Some(Side::Sell), 1) => "sale",
                (Some(Side::Sell), _) => "sales",
                (None, 1) => "trade",
                (None, _) => "trades",
            };
            let when = super::detail::during(period.as_ref());
            let of = symbol
                .as_ref()
                .map_or(String::new(), |s| format!(" of {s}"));
            let data = tables::trades_table(trades);
            let total: Paise = facts.tally.as_ref().map_or_else(
                || trades.iter().map(|t| t.value_paise).sum::<Paise>(),
                |t| t.value_paise,
            );
            let mut text = format!("**{count} {what}**{of}{when}");
            if trades.is_empty() {
                text.push('.');
            } else {
                text.push_str(&format!(", {} in all.", inr(total)));
                {
                    text.push('\n');
                    // The newest ten, oldest first.
                    for t in &trades[trades.len().saturating_sub(10)..] {
                        text.push_str(&super::detail::trade_line(t));
                    }
                    let shown = trades.len().min(10);
                    if count > shown {
                        text.push_str(&format!("- … and {} earlier\n", count - shown));
                    }
                }
            }
            // A side (buys or sales alone) is not a widget source.
            let widget = side.is_none().then(|| {
                Source::Trades(TradesSource {
                    from: period.as_ref().map(|p| p.from),
                    to: period.as_ref().map(|p| p.to),
                    symbol: symbol.clone(),
                    limit: None,
                })
            });
            let title = format!("Trades{of}{when}");
            answered(
                text,
                data,
                widget.and_then(|source| Widget::new(WidgetKind::Table, &title, source)),
            )
        }
        Intent::Positions => {
            if facts.positions.is_empty() {
                return answered(
                    "You have no open positions today (as of the last sync).".into(),
                    Data::new(DataKind::Table, &[]),
                    None,
                );
            }
            let mut data = Data::new(
                DataKind::Table,
                &[
                    ("symbol", "Symbol", Format::Text),
                    ("product", "Product", Format::Text),
                    ("quantity", "Quantity", Format::Number),
                    ("pnlPaise", "P&L", Format::Money),
                ],
            );
            let mut text = format!("{} positions today:\n", facts.positions.len());
            let mut total = Paise::ZERO;
            for p in &facts.positions {
                total += p.pnl_paise;
                text.push_str(&format!(
                    "- **{}** ({}) {} : {}\n",
                    p.symbol,
                    p.product,
                    p.quantity,
                    signed_inr(p.pnl_paise)
                ));
                data.push(vec![
                    json!(p.symbol),
                    json!(p.product),
                    json!(p.quantity),
                    json!(p.pnl_paise),
                ]);
            }
            text.push_str(&format!("Total: {}", signed_inr(total)));
            // Today's intraday positions are not a widget source.
            answered(text, data, None)
        }
        Intent::Performance { period } => performance(facts, period.as_ref()),
        Intent::Tally {
            symbol,
            side,
            period,
            what,
            pick,
        } => super::detail::tally(
            facts,
            symbol.as_deref(),
            *side,
            period.as_ref(),
            *what,
            *pick,
        ),
        Intent::Which {
            sort,
            lowest,
            group,
        } => nothing_held(facts)
            .unwrap_or_else(|| super::detail::which(facts, *sort, *lowest, group.as_ref())),
        Intent::Group { what, group } => {
            nothing_held(facts).unwrap_or_else(|| super::detail::group(facts, *what, group))
        }
        Intent::Decline { why } => super::detail::decline(*why),
        Intent::Tax { ask, .. } => super::tax::answer(*ask, facts),
    }
}

/// How the portfolio did over a period, the direct answer first: its
/// time-weighted return (comparable with an index), then NIFTY 50's and
/// the difference, then the money-weighted one, each named for what it is.
fn performance(facts: &Facts, period: Option<&super::period::Period>) -> Answer {
    if let Some(empty) = nothing_held(facts) {
        return empty;
    }
    let Some(p) = &facts.performance else {
        return fallback("I couldn't work out your returns just now.");
    };
    let (Some(from), Some(to), Some(twr)) = (p.from, p.to, p.time_weighted.percent) else {
        return fallback(
            "I don't have a daily history to work returns out from yet: it comes from the daily refresh, or from imported trades once closing prices are loaded.",
        );
    };
    let span = period.map_or_else(|| "since your first trade".to_string(), |p| p.label.clone());
    let mut text = format!(
        "Your holdings returned **{}** {span} ({from} to {to}; time-weighted: the money you put in or took out does not count).",
        percent(twr)
    );
    if let (Some(nifty), Some(excess)) = (p.nifty50.percent, p.excess_percent) {
        let verdict = if excess.get().is_sign_negative() {
            format!("you trailed it by **{}** points", percent_points(excess))
        } else {
            format!("you beat it by **{}** points", percent_points(excess))
        };
        text.push_str(&format!(
            " NIFTY 50 returned **{}** over the same days: {verdict}.",
            percent(nifty)
        ));
    } else {
        text.push_str(" NIFTY 50's closes for those days are not loaded, so I can't compare.");
    }
    if let Some(mwr) = p.money_weighted.annualized_percent {
        text.push_str(&format!(
            " Your money-weighted return (XIRR, which counts when you bought and sold) was **{}** a year.",
            percent(mwr)
        ));
    }
    let data = Data::new(
        DataKind::Table,
        &[
            ("measure", "Measure", Format::Text),
            ("percent", "Return", Format::Percent),
        ],
    )
    .row(vec![json!("Time-weighted return"), json!(twr)])
    .row(vec![json!("NIFTY 50"), json!(p.nifty50.percent)])
    .row(vec![json!("Difference (points)"), json!(p.excess_percent)])
    .row(vec![
        json!("Money-weighted (XIRR, a year)"),
        json!(p.money_weighted.annualized_percent),
    ]);
    answered(text, data, None)
}

/// A difference of percentages, without its sign (the sentence says which way).
fn percent_points(p: crate::portfolio::Percent) -> String {
    p.get().abs().normalize().to_string()
}
