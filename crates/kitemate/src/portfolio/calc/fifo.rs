//! FIFO lots: buys open lots, sells close the oldest first. Each closed
//! piece is a realized gain with its holding period, short- or long-term
//! by Indian rules, in the financial year (April–March) of the sale.

use std::collections::VecDeque;

use chrono::{Datelike as _, Months, NaiveDate};
use rust_decimal::Decimal;

use crate::portfolio::model::Side;
pub use crate::portfolio::model::Term;

/// A trade as the calculation needs it, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub date: NaiveDate,
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
}

/// Shares still held from one buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub bought_on: NaiveDate,
    pub quantity: Decimal,
    pub price: Decimal,
}

/// Part of a sale matched to part of a buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realized {
    pub sold_on: NaiveDate,
    pub bought_on: NaiveDate,
    pub quantity: Decimal,
    pub buy_price: Decimal,
    pub sell_price: Decimal,
    pub pnl: Decimal,
    pub holding_days: i64,
    pub term: Term,
}

/// Lots left open, gains realized, and shares sold that no known buy
/// covers (bought before the imported history began). Those are reported,
/// never given a made-up cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    pub open: VecDeque<Lot>,
    pub realized: Vec<Realized>,
    pub unmatched_sold: Decimal,
    /// Shares in the open lots and what they cost, summed once by
    /// [`replay`]: pages read them many times.
    held: Decimal,
    open_cost: Decimal,
}

impl Book {
    /// Shares held.
    pub fn quantity(&self) -> Decimal {
        self.held
    }

    /// What the open lots cost.
    pub fn cost(&self) -> Decimal {
        self.open_cost
    }

    /// The average cost of the open lots.
    pub fn average_price(&self) -> Option<Decimal> {
        let quantity = self.quantity();
        (!quantity.is_zero()).then(|| self.cost() / quantity)
    }
}

/// Listed equity held for more than twelve months is long-term.
pub fn term(bought_on: NaiveDate, sold_on: NaiveDate) -> Term {
    match bought_on.checked_add_months(Months::new(12)) {
        Some(year_later) if sold_on > year_later => Term::LongTerm,
        _ => Term::ShortTerm,
    }
}

/// `2024-25` for any day from 1 April 2024 to 31 March 2025.
pub fn financial_year(day: NaiveDate) -> String {
    let start = if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    };
    format!("{start}-{:02}", (start + 1) % 100)
}

/// Replays `fills` (already in the order they happened) into a book.
pub fn replay(fills: &[Fill]) -> Book {
    let mut book = Book::default();
    for fill in fills {
        match fill.side {
            Side::Buy => book.open.push_back(Lot {
                bought_on: fill.date,
                quantity: fill.quantity,
                price: fill.price,
            }),
            Side::Sell => {
                let mut left = fill.quantity;
                while left > Decimal::ZERO {
                    let Some(lot) = book.open.front_mut() else {
                        book.unmatched_sold += left;
                        break;
                    };
                    let taken = left.min(lot.quantity);
                    book.realized.push(Realized {
                        sold_on: fill.date,
                        bought_on: lot.bought_on,
                        quantity: taken,
                        buy_price: lot.price,
                        sell_price: fill.price,
                        pnl: taken * (fill.price - lot.price),
                        holding_days: (fill.date - lot.bought_on).num_days(),
                        term: term(lot.bought_on, fill.date),
                    });
                    lot.quantity -= taken;
                    left -= taken;
                    if lot.quantity.is_zero() {
                        book.open.pop_front();
                    }
                }
            }
        }
    }
    book.held = book.open.iter().map(|l| l.quantity).sum();
    book.open_cost = book.open.iter().map(|l| l.quantity * l.price).sum();
    book
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or(Decimal::MAX)
    }

    fn fill(date: &str, side: Side, quantity: &str, price: &str) -> Fill {
        Fill {
            date: day(date),
            side,
            quantity: d(quantity),
            price: d(price),
        }
    }

    #[test]
    fn sells_close_the_oldest_lots_first() {
        let book = replay(&[
            fill("2023-01-10", Side::Buy, "10", "100"),
            fill("2023-06-01", Side::Buy, "5", "120"),
            fill("2024-03-01", Side::Sell, "12", "150"),
        ]);
        assert_eq!(book.realized.len(), 2);
        assert_eq!(
            (
                book.realized[0].quantity,
                book.realized[0].pnl,
                book.realized[0].term
            ),
            (d("10"), d("500"), Term::LongTerm)
        );
        assert_eq!(
            (
                book.realized[1].quantity,
                book.realized[1].pnl,
                book.realized[1].term
            ),
            (d("2"), d("60"), Term::ShortTerm)
        );
        assert_eq!((book.quantity(), book.cost()), (d("3"), d("360")));
        assert_eq!(book.average_price(), Some(d("120")));
        assert_eq!(book.unmatched_sold, Decimal::ZERO);
    }

    #[test]
    fn twelve_months_exactly_is_still_short_term() {
        assert_eq!(term(day("2023-04-01"), day("2024-04-01")), Term::ShortTerm);
        assert_eq!(term(day("2023-04-01"), day("2024-04-02")), Term::LongTerm);
        // A leap day: twelve months after 2024-02-29 is 2025-02-28.
        assert_eq!(term(day("2024-02-29"), day("2025-03-01")), Term::LongTerm);
    }

    #[test]
    fn financial_years_run_april_to_march() {
        assert_eq!(financial_year(day("2024-04-01")), "2024-25");
        assert_eq!(financial_year(day("2025-03-31")), "2024-25");
        assert_eq!(financial_year(day("2025-04-01")), "2025-26");
        assert_eq!(financial_year(day("1999-12-31")), "1999-00");
    }

    #[test]
    fn sales_beyond_known_buys_are_reported_not_priced() {
        let book = replay(&[
            fill("2024-05-01", Side::Buy, "2", "10"),
            fill("2024-06-01", Side::Sell, "5", "12"),
        ]);
        assert_eq!(book.realized.len(), 1);
        assert_eq!(book.realized[0].pnl, d("4"));
        assert_eq!(book.unmatched_sold, d("3"));
        assert_eq!(book.quantity(), Decimal::ZERO);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn fills() -> impl Strategy<Value = Vec<Fill>> {
        // Quantities to the thousandth: mutual-fund units are fractional.
        prop::collection::vec(
            (any::<bool>(), 1i64..500_000, 1u32..100_000, 0i64..4000),
            0..60,
        )
        .prop_map(|raw| {
            let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
            let mut day = 0;
            raw.into_iter()
                .map(|(buy, quantity, paise, gap)| {
                    day += gap % 40;
                    Fill {
                        date: start + chrono::TimeDelta::days(day),
                        side: if buy { Side::Buy } else { Side::Sell },
                        quantity: Decimal::new(quantity, 3),
                        price: Decimal::new(i64::from(paise), 2),
                    }
                })
                .collect()
        })
    }

    proptest! {
        /// No lot goes negative, and every share is accounted for: bought =
        /// still open + sold against a buy; sold = matched + unmatched.
        #[test]
        fn shares_are_conserved(fills in fills()) {
            let book = replay(&fills);
            prop_assert!(book.open.iter().all(|l| l.quantity > Decimal::ZERO));
            let bought: Decimal = fills.iter().filter(|f| f.side == Side::Buy).map(|f| f.quantity).sum();
            let sold: Decimal = fills.iter().filter(|f| f.side == Side::Sell).map(|f| f.quantity).sum();
            let matched: Decimal = book.realized.iter().map(|r| r.quantity).sum();
            prop_assert_eq!(bought, book.quantity() + matched);
            prop_assert_eq!(sold, matched + book.unmatched_sold);
        }

        /// Money adds up: what was paid = cost of open lots + cost of what was
        /// sold; realized P&L = sale proceeds of matched shares − their cost.
        #[test]
        fn money_is_conserved(fills in fills()) {
            let book = replay(&fills);
            let paid: Decimal = fills.iter().filter(|f| f.side == Side::Buy).map(|f| f.quantity * f.price).sum();
            let sold_cost: Decimal = book.realized.iter().map(|r| r.quantity * r.buy_price).sum();
            let proceeds: Decimal = book.realized.iter().map(|r| r.quantity * r.sell_price).sum();
            let pnl: Decimal = book.realized.iter().map(|r| r.pnl).sum();
            prop_assert_eq!(paid, book.cost() + sold_cost);
            prop_assert_eq!(pnl, proceeds - sold_cost);
            prop_assert!(book.realized.iter().all(|r| r.holding_days >= 0));
        }
    }
}
