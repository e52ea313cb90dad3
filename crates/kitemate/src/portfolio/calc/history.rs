//! A portfolio's value day by day from its trades and the closing prices
//! loaded: what was held at each day's end (the FIFO lots open then), what
//! it cost, what it was worth at that day's close, and the money put in
//! or taken out that day. Pure; the reads module brings the prices.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::positions::Security;

/// One day's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub day: NaiveDate,
    /// Each holding at the day's close (or its last trade's price before a
    /// close is known).
    pub value: Decimal,
    /// What the open lots cost.
    pub invested: Decimal,
    /// Money in (buys) minus money out (sells) since the day before.
    pub net_flow: Decimal,
}

/// A security's history as changes: (day, shares, cost) at each buy and sale.
fn changes(security: &Security) -> Vec<(NaiveDate, Decimal, Decimal)> {
    let book = &security.book;
    let mut out = Vec::with_capacity(book.open.len() + 2 * book.realized.len());
    for lot in &book.open {
        out.push((lot.bought_on, lot.quantity, lot.quantity * lot.price));
    }
    for piece in &book.realized {
        let cost = piece.quantity * piece.buy_price;
        out.push((piece.bought_on, piece.quantity, cost));
        out.push((piece.sold_on, -piece.quantity, -cost));
    }
    out.sort_by_key(|c| c.0);
    out
}

/// The prices a security traded at, by day: its value before any close is loaded.
fn trade_prices(security: &Security) -> Vec<(NaiveDate, Decimal)> {
    let book = &security.book;
    let mut out: Vec<(NaiveDate, Decimal)> = book
        .open
        .iter()
        .map(|l| (l.bought_on, l.price))
        .chain(
            book.realized
                .iter()
                .flat_map(|r| [(r.bought_on, r.buy_price), (r.sold_on, r.sell_price)]),
        )
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

/// The last price on or before `day` in `prices` (sorted), moving `at` forward.
fn price_at(prices: &[(NaiveDate, Decimal)], at: &mut usize, day: NaiveDate) -> Option<Decimal> {
    while *at < prices.len() && prices[*at].0 <= day {
        *at += 1;
    }
    (*at > 0).then(|| prices[*at - 1].1)
}

/// The portfolio at the end of each of `days` (sorted, trading days) on
/// which anything was held or traded, from the securities' trades and
/// `closes` (per ISIN, oldest first; a close before the first day may lead
/// them, to carry into it).
pub fn daily(
    securities: &[Security],
    days: &[NaiveDate],
    closes: &HashMap<String, Vec<(NaiveDate, Decimal)>>,
) -> Vec<Point> {
    struct Walk<'a> {
        changes: Vec<(NaiveDate, Decimal, Decimal)>,
        next_change: usize,
        shares: Decimal,
        cost: Decimal,
        closes: &'a [(NaiveDate, Decimal)],
        next_close: usize,
        trades: Vec<(NaiveDate, Decimal)>,
        next_trade: usize,
    }
    let mut walks: Vec<Walk<'_>> = securities
        .iter()
        .filter(|s| !s.book.open.is_empty() || !s.book.realized.is_empty())
        .map(|s| Walk {
            changes: changes(s),
            next_change: 0,
            shares: Decimal::ZERO,
            cost: Decimal::ZERO,
            closes: closes.get(&s.isin).map_or(&[][..], Vec::as_slice),
            next_close: 0,
            trades: trade_prices(s),
            next_trade: 0,
        })
        .collect();
    let mut flows: Vec<(NaiveDate, Decimal)> = securities
        .iter()
        .flat_map(|s| s.flows.iter().copied())
        .collect();
    flows.sort_by_key(|f| f.0);
    let Some(first) = walks
        .iter()
        .filter_map(|w| w.changes.first())
        .map(|c| c.0)
        .min()
    else {
        return Vec::new();
    };
    let mut next_flow = 0;
    let mut out = Vec::new();
    for &day in days {
        let mut net_flow = Decimal::ZERO;
        while next_flow < flows.len() && flows[next_flow].0 <= day {
            // A buy is money out of the investor's pocket: into the portfolio.
            net_flow -= flows[next_flow].1;
            next_flow += 1;
        }
        if day < first {
            continue;
        }
        let (mut value, mut invested) = (Decimal::ZERO, Decimal::ZERO);
        for walk in &mut walks {
            while walk.next_change < walk.changes.len() && walk.changes[walk.next_change].0 <= day {
                let (_, shares, cost) = walk.changes[walk.next_change];
                walk.shares += shares;
                walk.cost += cost;
                walk.next_change += 1;
            }
            let close = price_at(walk.closes, &mut walk.next_close, day);
            let traded = price_at(&walk.trades, &mut walk.next_trade, day);
            if walk.shares.is_zero() {
                continue;
            }
            invested += walk.cost;
            value += walk.shares * close.or(traded).unwrap_or_default();
        }
        out.push(Point {
            day,
            value,
            invested,
            net_flow,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portfolio::calc::fifo::{Fill, replay};
    use crate::portfolio::model::{AssetClass, Side};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn security(isin: &str, fills: &[(&str, Side, &str, &str)]) -> Security {
        let fills: Vec<Fill> = fills
            .iter()
            .map(|(d, side, q, p)| Fill {
                date: day(d),
                side: *side,
                quantity: dec(q),
                price: dec(p),
            })
            .collect();
        Security {
            symbol: isin.into(),
            isin: isin.into(),
            book: replay(&fills),
            last_price: None,
            price_as_of: None,
            price_source: None,
            stated: None,
            close_price: None,
            asset_class: AssetClass::Equity,
            flows: fills
                .iter()
                .map(|f| {
                    let amount = f.quantity * f.price;
                    (f.date, if f.side == Side::Buy { -amount } else { amount })
                })
                .collect(),
            xirr_memo: Default::default(),
            reshaped: Vec::new(),
        }
    }

    #[test]
    fn a_hand_worked_week() {
        // Mon: buy 10 @ 100. Tue: buy 5 @ 110. Wed: nothing. Thu: sell 8 @ 120.
        let a = security(
            "INE000000001",
            &[
                ("2024-07-08", Side::Buy, "10", "100"),
                ("2024-07-09", Side::Buy, "5", "110"),
                ("2024-07-11", Side::Sell, "8", "120"),
            ],
        );
        let closes = HashMap::from([(
            "INE000000001".to_string(),
            vec![
                (day("2024-07-08"), dec("101")),
                (day("2024-07-09"), dec("108")),
                // No close on Wednesday (not traded): Tuesday's carries.
                (day("2024-07-11"), dec("121")),
            ],
        )]);
        let days: Vec<NaiveDate> = [
            "2024-07-05",
            "2024-07-08",
            "2024-07-09",
            "2024-07-10",
            "2024-07-11",
        ]
        .into_iter()
        .map(day)
        .collect();
        let points = daily(&[a], &days, &closes);
        let got: Vec<(String, Decimal, Decimal, Decimal)> = points
            .iter()
            .map(|p| (p.day.to_string(), p.value, p.invested, p.net_flow))
            .collect();
        let want = vec![
            (
                "2024-07-08".to_string(),
                dec("1010"),
                dec("1000"),
                dec("1000"),
            ),
            (
                "2024-07-09".to_string(),
                dec("1620"),
                dec("1550"),
                dec("550"),
            ),
            ("2024-07-10".to_string(), dec("1620"), dec("1550"), dec("0")),
            // 8 sold FIFO from the 100 lot: 2 @ 100 and 5 @ 110 left = 750.
            (
                "2024-07-11".to_string(),
                dec("847"),
                dec("750"),
                dec("-960"),
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn without_a_close_the_last_trade_prices_it() {
        let a = security("INE000000002", &[("2024-07-08", Side::Buy, "3", "50")]);
        let points = daily(&[a], &[day("2024-07-09")], &HashMap::new());
        assert_eq!(points[0].value, dec("150"));
        // The buy on Monday counts on the first day shown.
        assert_eq!(points[0].net_flow, dec("150"));
    }
}
