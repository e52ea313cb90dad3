//! FIFO lots: buys open lots, sells close the oldest first. Each closed
//! piece is a realized gain with its holding period, short- or long-term
//! by Indian rules, in the financial year (April–March) of the sale.
//! Shares bought and sold on the same day are intraday: matched to each
//! other first, as brokers and the Income-tax Act see them, never to lots.

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

/// How a lot's shares came to be held: the tax rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Via {
    /// Bought on the exchange.
    #[default]
    Bought,
    /// Allotted as bonus shares: cost nil, acquired on the allotment date.
    Bonus,
    /// Received for shares of an amalgamated company: their cost and date.
    Merger,
    /// Received in a demerger: part of the parent's cost, its date.
    Demerger,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bought => "bought",
            Self::Bonus => "bonus",
            Self::Merger => "merger",
            Self::Demerger => "demerger",
        }
    }
}

/// Shares still held from one acquisition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub bought_on: NaiveDate,
    pub quantity: Decimal,
    /// Cost per share.
    pub price: Decimal,
    /// The fair market value per share on 31 January 2018, for lots held
    /// then (grandfathering, s.55(2)(ac)); adjusted by later splits.
    pub fmv: Option<Decimal>,
    pub via: Via,
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
    /// Bought and sold the same day: speculative business income, not a
    /// capital gain.
    pub intraday: bool,
    pub fmv: Option<Decimal>,
    pub via: Via,
}

/// Lots left open, gains realized, and shares sold that no known buy
/// covers (bought before the imported history began). Those are reported,
/// never given a made-up cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    pub open: VecDeque<Lot>,
    pub realized: Vec<Realized>,
    pub unmatched_sold: Decimal,
    /// When those shares were sold, and how many each time.
    pub unmatched_sales: Vec<(NaiveDate, Decimal)>,
    /// Shares in the open lots and what they cost, summed once by
    /// [`Book::settle`]: pages read them many times.
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

    /// Adds a lot in order of acquisition: a buy between a bonus's ex-date
    /// and its allotment was acquired before the bonus shares.
    pub fn add(&mut self, lot: Lot) {
        if lot.quantity <= Decimal::ZERO {
            return;
        }
        let at = self
            .open
            .iter()
            .rposition(|l| l.bought_on <= lot.bought_on)
            .map_or(0, |i| i + 1);
        self.open.insert(at, lot);
    }

    /// Sells `quantity` at `price` on `date` from the oldest lots.
    fn sell(&mut self, date: NaiveDate, quantity: Decimal, price: Decimal) {
        let mut left = quantity;
        while left > Decimal::ZERO {
            let Some(lot) = self.open.front_mut() else {
                self.unmatched_sold += left;
                self.unmatched_sales.push((date, left));
                break;
            };
            if lot.quantity <= Decimal::ZERO {
                self.open.pop_front();
                continue;
            }
            let taken = left.min(lot.quantity);
            self.realized.push(Realized {
                sold_on: date,
                bought_on: lot.bought_on,
                quantity: taken,
                buy_price: lot.price,
                sell_price: price,
                pnl: taken * (price - lot.price),
                holding_days: (date - lot.bought_on).num_days(),
                term: term(lot.bought_on, date),
                intraday: false,
                fmv: lot.fmv,
                via: lot.via,
            });
            lot.quantity -= taken;
            left -= taken;
            if lot.quantity.is_zero() {
                self.open.pop_front();
            }
        }
    }

    /// One day's fills of this security. What was both bought and sold
    /// that day is intraday, matched buy to sell in time order and kept
    /// out of the lots; the rest (all buys or all sells) goes to FIFO.
    pub fn day(&mut self, fills: &[Fill]) {
        let bought: Decimal = fills
            .iter()
            .filter(|f| f.side == Side::Buy)
            .map(|f| f.quantity)
            .sum();
        let sold: Decimal = fills
            .iter()
            .filter(|f| f.side == Side::Sell)
            .map(|f| f.quantity)
            .sum();
        let mut intraday = bought.min(sold);
        let mut buys: VecDeque<(Decimal, Decimal)> = VecDeque::new();
        let mut sells: VecDeque<(Decimal, Decimal)> = VecDeque::new();
        for f in fills {
            match f.side {
                Side::Buy => buys.push_back((f.quantity, f.price)),
                Side::Sell => sells.push_back((f.quantity, f.price)),
            }
        }
        while intraday > Decimal::ZERO {
            let (Some(buy), Some(sell)) = (buys.front_mut(), sells.front_mut()) else {
                break;
            };
            let taken = intraday.min(buy.0).min(sell.0);
            let date = fills[0].date;
            self.realized.push(Realized {
                sold_on: date,
                bought_on: date,
                quantity: taken,
                buy_price: buy.1,
                sell_price: sell.1,
                pnl: taken * (sell.1 - buy.1),
                holding_days: 0,
                term: Term::ShortTerm,
                intraday: true,
                fmv: None,
                via: Via::Bought,
            });
            buy.0 -= taken;
            sell.0 -= taken;
            intraday -= taken;
            if buy.0.is_zero() {
                buys.pop_front();
            }
            if sell.0.is_zero() {
                sells.pop_front();
            }
        }
        let Some(first) = fills.first() else { return };
        for (quantity, price) in buys {
            self.add(Lot {
                bought_on: first.date,
                quantity,
                price,
                fmv: None,
                via: Via::Bought,
            });
        }
        for (quantity, price) in sells {
            self.sell(first.date, quantity, price);
        }
    }

    /// Sums the open lots once, after the last change.
    pub fn settle(&mut self) {
        self.open.retain(|l| l.quantity > Decimal::ZERO);
        self.held = self.open.iter().map(|l| l.quantity).sum();
        self.open_cost = self.open.iter().map(|l| l.quantity * l.price).sum();
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

/// Calls `each` with every run of `fills` that share a day.
pub fn by_day<'f>(fills: &'f [Fill], mut each: impl FnMut(&'f [Fill])) {
    let mut start = 0;
    for i in 1..=fills.len() {
        if i == fills.len() || fills[i].date != fills[start].date {
            each(&fills[start..i]);
            start = i;
        }
    }
}

/// Replays `fills` (already in the order they happened) into a book.
#[cfg(test)]
pub fn replay(fills: &[Fill]) -> Book {
    let mut book = Book::default();
    by_day(fills, |day| book.day(day));
    book.settle();
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
    fn a_buy_and_a_sale_the_same_day_are_intraday_not_the_old_lot() {
        let book = replay(&[
            fill("2024-01-10", Side::Buy, "10", "100"),
            fill("2024-06-03", Side::Buy, "5", "200"),
            fill("2024-06-03", Side::Sell, "5", "210"),
            // A sale first and a buy back later the same day is intraday too.
            fill("2024-06-04", Side::Sell, "3", "220"),
            fill("2024-06-04", Side::Buy, "4", "215"),
        ]);
        let intraday: Vec<_> = book.realized.iter().filter(|r| r.intraday).collect();
        assert_eq!(intraday.len(), 2);
        assert_eq!((intraday[0].quantity, intraday[0].pnl), (d("5"), d("50")));
        assert_eq!((intraday[1].quantity, intraday[1].pnl), (d("3"), d("15")));
        assert!(
            intraday
                .iter()
                .all(|r| r.holding_days == 0 && r.term == Term::ShortTerm)
        );
        // The old lot is untouched; the day's extra share bought is a new lot.
        assert_eq!(book.open.len(), 2);
        assert_eq!(
            (book.open[0].quantity, book.open[0].price),
            (d("10"), d("100"))
        );
        assert_eq!(
            (book.open[1].quantity, book.open[1].price),
            (d("1"), d("215"))
        );
        assert!(book.realized.iter().all(|r| r.intraday));
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

        /// Each day, what was both bought and sold is intraday: exactly the
        /// smaller of the day's buys and sales, never matched to older lots.
        #[test]
        fn intraday_is_the_days_overlap(fills in fills()) {
            let book = replay(&fills);
            let mut days: std::collections::BTreeMap<NaiveDate, (Decimal, Decimal)> = Default::default();
            for f in &fills {
                let day = days.entry(f.date).or_default();
                match f.side {
                    Side::Buy => day.0 += f.quantity,
                    Side::Sell => day.1 += f.quantity,
                }
            }
            for (date, (bought, sold)) in days {
                let intraday: Decimal = book.realized.iter().filter(|r| r.intraday && r.sold_on == date).map(|r| r.quantity).sum();
                prop_assert_eq!(intraday, bought.min(sold));
            }
            prop_assert!(book.realized.iter().filter(|r| !r.intraday).all(|r| r.bought_on < r.sold_on));
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
