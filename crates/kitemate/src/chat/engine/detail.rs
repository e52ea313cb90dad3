//! Answers the slots reach that whole-portfolio figures do not: how many
//! trades and when, the one holding first in an order, a group of holdings,
//! and plain refusals. Each first sentence answers exactly what was asked
//! (a count, a date, one name, one figure); the figures behind it follow.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Facts;
use super::intent::{Side, Sort};
use super::money::{inr, percent, signed_inr};
use super::period::Period;
use super::reply::{Answer, Widget, WidgetKind, answered, describe, fallback};
use super::slots::{Decline, Group, GroupKind, Pick, What};
use crate::portfolio::model::{HoldingSort, Order};
use crate::portfolio::query::{HoldingsSource, Source, TradesSource};
use crate::portfolio::tables::{self, holdings_table};
use crate::portfolio::{HoldingInfo, Paise, Percent, TradeInfo};

/// `2 Jan 2024`.
pub fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// `in March 2024`, `last month (October 2026)`, or nothing.
pub fn during(period: Option<&Period>) -> String {
    period.map_or(String::new(), |p| {
        let dated = p.label.starts_with("FY")
            || p.label
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c.is_uppercase());
        if dated {
            format!(" in {}", p.label)
        } else {
            format!(" {}", p.label)
        }
    })
}

pub fn trade_line(t: &TradeInfo) -> String {
    format!(
        "- {} {} {} × {} at {}\n",
        t.trade_date,
        t.side.as_str(),
        t.quantity,
        t.symbol,
        inr(t.price_paise)
    )
}

/// How many trades, or when: from the tally of every matching trade, with
/// the newest few listed.
pub fn tally(
    facts: &Facts,
    symbol: Option<&str>,
    side: Option<Side>,
    period: Option<&Period>,
    what: What,
    pick: Option<Pick>,
) -> Answer {
    let Some(t) = &facts.tally else {
        return fallback("I couldn't count your trades just now.");
    };
    let (one, many, verb) = match side {
        Some(Side::Buy) => ("buy", "buys", "bought"),
        Some(Side::Sell) => ("sale", "sales", "sold"),
        None => ("trade", "trades", "traded"),
    };
    let when = during(period);
    let of = symbol.map_or(String::new(), |s| format!(" {s}"));
    let data = tables::trades_table(&facts.trades);
    let widget = side.is_none().then(|| {
        Source::Trades(TradesSource {
            from: period.map(|p| p.from),
            to: period.map(|p| p.to),
            symbol: symbol.map(str::to_string),
            limit: None,
        })
    });
    let widget = widget.and_then(|source| {
        Widget::new(
            WidgetKind::Table,
            &format!(
                "Trades{}{when}",
                symbol.map_or(String::new(), |s| format!(" of {s}"))
            ),
            source,
        )
    });
    if t.count == 0 {
        let what = symbol.map_or(many.to_string(), |s| format!("{many} of {s}"));
        return answered(format!("You made **no {what}** (0){when}."), data, widget);
    }
    let times = match t.count {
        1 => "once".to_string(),
        2 => "twice (2 times)".to_string(),
        n => format!("{n} times"),
    };
    let mut text = match (what, pick) {
        (What::Date, Some(which @ (Pick::First | Pick::Last))) => {
            let (trade, word) = if which == Pick::First {
                (t.first.as_ref(), "first")
            } else {
                (t.last.as_ref(), "last")
            };
            let Some(trade) = trade else {
                return fallback("I couldn't find that trade.");
            };
            let action = match trade.side {
                crate::portfolio::Side::Buy => "bought",
                crate::portfolio::Side::Sell => "sold",
            };
            match (side, symbol) {
                (Some(_), Some(s)) => format!(
                    "You {word} {verb} {s} on **{}**: {} shares at {}.",
                    day(trade.trade_date),
                    trade.quantity,
                    inr(trade.price_paise)
                ),
                (Some(_), None) => format!(
                    "Your {word} {one}{when} was on **{}**: {action} {} {} at {}.",
                    day(trade.trade_date),
                    trade.quantity,
                    trade.symbol,
                    inr(trade.price_paise)
                ),
                (None, _) => format!(
                    "Your {word} trade{}{when} was on **{}**: {action} {} {} at {}.",
                    symbol.map_or(String::new(), |s| format!(" in {s}")),
                    day(trade.trade_date),
                    trade.quantity,
                    trade.symbol,
                    inr(trade.price_paise)
                ),
            }
        }
        (What::Date, _) => {
            // "When did I buy ITC": every date when there are few.
            let mut dates: Vec<NaiveDate> = facts.trades.iter().map(|t| t.trade_date).collect();
            dates.dedup();
            let listed = if t.count <= facts.trades.len() && dates.len() <= 5 {
                let names: Vec<String> = dates.iter().map(|d| format!("**{}**", day(*d))).collect();
                match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("on {} and {last}", rest.join(", "))
                    }
                    _ => format!("on {}", names.join("")),
                }
            } else {
                let first = t
                    .first
                    .as_ref()
                    .map(|f| day(f.trade_date))
                    .unwrap_or_default();
                let last = t
                    .last
                    .as_ref()
                    .map(|f| day(f.trade_date))
                    .unwrap_or_default();
                format!("between **{first}** and **{last}**")
            };
            let subject = if side.is_some() { "You" } else { "You traded" };
            let verb = if side.is_some() { verb } else { "" };
            let sum = if side.is_some() {
                format!(", {} in all", inr(t.value_paise))
            } else {
                String::new()
            };
            format!(
                "{subject} {verb}{of}{when} {listed} ({} {}{sum}).",
                t.count,
                if t.count == 1 { one } else { many },
            )
            .replace("  ", " ")
        }
        _ => match (side, symbol) {
            (Some(_), Some(s)) => format!(
                "You {verb} {s} **{times}**{when}: {} shares for {} in all ({} {}).",
                t.quantity,
                inr(t.value_paise),
                t.count,
                if t.count == 1 { one } else { many }
            ),
            (Some(_), None) => format!(
                "You made **{} {}**{when}, {} in all.",
                t.count,
                if t.count == 1 { one } else { many },
                inr(t.value_paise)
            ),
            // Buys and sales together add up to nothing worth stating.
            (None, _) => format!(
                "You made **{} {}**{}{when}.",
                t.count,
                if t.count == 1 { one } else { many },
                symbol.map_or(String::new(), |s| format!(" in {s}")),
            ),
        },
    };
    text.push('\n');
    // The newest ten, oldest first.
    let shown = &facts.trades[facts.trades.len().saturating_sub(10)..];
    for trade in shown {
        text.push_str(&trade_line(trade));
    }
    if t.count > shown.len() {
        text.push_str(&format!("- … and {} earlier\n", t.count - shown.len()));
    }
    answered(text, data, widget)
}

fn key(h: &HoldingInfo, sort: Sort) -> Option<Decimal> {
    match sort {
        Sort::Value => h.value_paise.map(|v| Decimal::from(v.get())),
        Sort::Invested => Some(Decimal::from(h.invested_paise.get())),
        Sort::Pnl => h.unrealized_paise.map(|v| Decimal::from(v.get())),
        Sort::PnlPercent => h.unrealized_percent.map(Percent::get),
        Sort::Quantity => Some(h.quantity.decimal()),
        Sort::Symbol => None,
    }
}

/// Whether `h` is one of `group`.
pub fn member(h: &HoldingInfo, group: &Group) -> bool {
    match &group.kind {
        GroupKind::Banks => super::names::is_bank(&h.isin, &h.symbol),
        GroupKind::Sector(sector) => h.sector == *sector,
        GroupKind::AssetClass(class) => h.asset_class.as_str() == *class,
    }
}

/// The one holding first in `sort` (last when `lowest`), of `group` if named.
pub fn which(facts: &Facts, sort: Sort, lowest: bool, group: Option<&Group>) -> Answer {
    let rows: Vec<(Decimal, &HoldingInfo)> = facts
        .report
        .holdings
        .iter()
        .filter(|h| group.is_none_or(|g| member(h, g)))
        .filter_map(|h| key(h, sort).map(|k| (k, h)))
        .collect();
    let best = rows
        .iter()
        .copied()
        .reduce(|a, b| {
            let better = if lowest { b.0 < a.0 } else { b.0 > a.0 };
            if better { b } else { a }
        })
        .map(|(_, h)| h);
    let Some(h) = best else {
        return fallback(&match group {
            Some(g) => format!("You hold no {}.", g.label),
            None => "None of your holdings has that figure yet (they need prices).".to_string(),
        });
    };
    let among = group.map_or(String::new(), |g| format!(" among your {}", g.label));
    let pnl = || {
        format!(
            "{}{}",
            h.unrealized_paise.map(signed_inr).unwrap_or_default(),
            h.unrealized_percent
                .map(|p| format!(" ({})", percent(p)))
                .unwrap_or_default()
        )
    };
    let s = &h.symbol;
    let text = match (sort, lowest) {
        (Sort::Invested, false) => format!(
            "You have invested the most{among} in **{s}**: {} of your {}.",
            inr(h.invested_paise),
            inr(facts.report.summary.invested_paise)
        ),
        (Sort::Invested, true) => format!(
            "You have invested the least{among} in **{s}**: {}.",
            inr(h.invested_paise)
        ),
        (Sort::Pnl, false) if h.unrealized_paise.is_some_and(|p| p.get() > 0) => {
            format!("**{s}** has made you the most{among}: {}.", pnl())
        }
        (Sort::Pnl, false) => format!(
            "None of your holdings{among} is in profit; **{s}** is down the least: {}.",
            pnl()
        ),
        (Sort::Pnl, true) if h.unrealized_paise.is_some_and(|p| p.get() < 0) => {
            format!("**{s}** has the biggest loss{among}: {}.", pnl())
        }
        (Sort::Pnl, true) => format!(
            "None of your holdings{among} is at a loss; **{s}** has gained the least: {}.",
            pnl()
        ),
        (Sort::PnlPercent, false) => format!(
            "**{s}** has the highest return{among}: {}.",
            h.unrealized_percent.map(percent).unwrap_or_default()
        ),
        (Sort::PnlPercent, true) => format!(
            "**{s}** has the lowest return{among}: {}.",
            h.unrealized_percent.map(percent).unwrap_or_default()
        ),
        (Sort::Quantity, false) => format!(
            "You hold the most shares{among} of **{s}**: {}.",
            h.quantity
        ),
        (Sort::Quantity, true) => format!(
            "You hold the fewest shares{among} of **{s}**: {}.",
            h.quantity
        ),
        (_, false) => format!(
            "**{s}** is your biggest holding{among}: worth {}{}.",
            h.value_paise.map(inr).unwrap_or_default(),
            h.weight_percent
                .map(|w| format!(", {} of the portfolio", percent(w)))
                .unwrap_or_default()
        ),
        (_, true) => format!(
            "**{s}** is your smallest holding{among}: worth {}{}.",
            h.value_paise.map(inr).unwrap_or_default(),
            h.weight_percent
                .map(|w| format!(", {} of the portfolio", percent(w)))
                .unwrap_or_default()
        ),
    };
    let source = HoldingsSource {
        sort: holding_sort(sort),
        order: Some(if lowest { Order::Asc } else { Order::Desc }),
        top: Some(1),
        min_worth_paise: None,
        max_worth_paise: None,
    };
    let title = format!(
        "{} by {}",
        if lowest { "Last" } else { "Top" },
        sort_name(sort)
    );
    answered(
        text,
        holdings_table(&[h]),
        // A group is not a widget source: the widget is for the whole portfolio.
        group
            .is_none()
            .then(|| Widget::new(WidgetKind::Table, &title, Source::Holdings(source)))
            .flatten(),
    )
}

pub fn holding_sort(sort: Sort) -> HoldingSort {
    match sort {
        Sort::Value => HoldingSort::Value,
        Sort::Invested => HoldingSort::Invested,
        Sort::Pnl => HoldingSort::Pnl,
        Sort::PnlPercent => HoldingSort::PnlPercent,
        Sort::Quantity => HoldingSort::Quantity,
        Sort::Symbol => HoldingSort::Symbol,
    }
}

pub fn sort_name(sort: Sort) -> &'static str {
    match sort {
        Sort::Value => "value",
        Sort::Invested => "amount invested",
        Sort::Pnl => "P&L",
        Sort::PnlPercent => "P&L %",
        Sort::Quantity => "quantity",
        Sort::Symbol => "symbol",
    }
}

/// A figure of a group of holdings, its members named.
pub fn group(facts: &Facts, what: What, group: &Group) -> Answer {
    let members: Vec<&HoldingInfo> = facts
        .report
        .holdings
        .iter()
        .filter(|h| member(h, group))
        .collect();
    let label = &group.label;
    if members.is_empty() {
        return answered(
            format!("You hold no {label}."),
            holdings_table(&members),
            None,
        );
    }
    let names: Vec<&str> = members.iter().map(|h| h.symbol.as_str()).collect();
    let names = names.join(", ");
    let sum = |f: fn(&HoldingInfo) -> Option<Paise>| -> Option<Paise> {
        members.iter().map(|h| f(h)).sum::<Option<Paise>>()
    };
    let invested = sum(|h| Some(h.invested_paise)).unwrap_or_default();
    let value = sum(|h| h.value_paise);
    let pnl = sum(|h| h.unrealized_paise);
    let total = facts.report.summary.value_paise;
    let share = value.and_then(|v| Percent::of(Decimal::from(v.get()), Decimal::from(total.get())));
    let unpriced = "some of them have no price yet";
    let text = match what {
        What::Invested => format!(
            "You have **{}** invested in your {label} ({names}).",
            inr(invested)
        ),
        What::Pnl | What::PnlPercent => match pnl {
            Some(p) => format!(
                "Your {label} ({names}) are at **{}**{} on {} invested.",
                signed_inr(p),
                Percent::of(Decimal::from(p.get()), Decimal::from(invested.get()))
                    .map(|p| format!(" ({})", percent(p)))
                    .unwrap_or_default(),
                inr(invested)
            ),
            None => format!("I can't give the P&L of your {label}: {unpriced}."),
        },
        What::Weight => match (share, value) {
            (Some(s), Some(v)) => format!(
                "Your {label} ({names}) are **{}** of your portfolio, worth {}.",
                percent(s),
                inr(v)
            ),
            _ => format!("I can't weigh your {label}: {unpriced}."),
        },
        What::Holdings => {
            let mut text = format!("You hold {} {label}:\n", members.len());
            for h in &members {
                text.push_str(&format!("- {}\n", describe(h)));
            }
            text
        }
        _ => match value {
            Some(v) => format!(
                "Your {label} ({names}) are worth **{}**{}.",
                inr(v),
                share
                    .map(|s| format!(", {} of your portfolio", percent(s)))
                    .unwrap_or_default()
            ),
            None => format!("I can't value your {label}: {unpriced}."),
        },
    };
    answered(text, holdings_table(&members), None)
}

/// What the app has no data for, or is not its to say, declined plainly.
pub fn decline(why: Decline) -> Answer {
    let text = match why {
        Decline::Dividends => {
            "I don't have your dividends: Zerodha's tradebook and holdings files, and what Kite Connect gives, leave them out, so I won't guess. Console's dividend statement lists them."
        }
        Decline::Charges => {
            "I don't have your brokerage, STT or other charges: the tradebook leaves them out, so every P&L I give is before charges. Console's P&L report and your contract notes have them."
        }
        Decline::TaxPaid => {
            "I don't know what tax you paid or owe: that depends on your whole income, which KiteMate doesn't have. I can give your realized capital gains, short- and long-term, by financial year."
        }
        Decline::Advice => {
            "I can't tell you what to buy or sell: I only report how your own holdings stand."
        }
        Decline::Forecast => {
            "I can't predict prices or markets: I only report how your own holdings have done."
        }
    };
    let mut answer = fallback(text);
    answer.answered = false;
    answer
}
