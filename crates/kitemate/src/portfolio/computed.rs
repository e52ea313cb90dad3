//! Worked-out portfolios kept in memory while nothing of the user's changes.
//! Every write to a user's portfolio bumps their version in the same
//! transaction, so one small read tells whether a kept one still holds,
//! on every replica.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::calc::positions::{Security, xirr_of};
use super::model::{Report, Term};

/// Users whose portfolios are kept; past it, an arbitrary one is dropped.
const USERS: usize = 1_024;

/// A user's securities as of one version of their data.
pub type Securities = Arc<Computed>;

/// Every security of a user, and the portfolio's return, worked out once a day.
#[derive(Debug)]
pub struct Computed {
    securities: Vec<Security>,
    xirr: Mutex<Option<(NaiveDate, Option<f64>)>>,
    report: Mutex<Option<(NaiveDate, Arc<Report>)>>,
    sales: OnceLock<Sales>,
    realized: OnceLock<Decimal>,
}

/// One realized sale: a piece of `securities[security].book.realized`.
#[derive(Debug, Clone, Copy)]
pub struct SaleRef {
    pub sold_on: NaiveDate,
    pub security: u32,
    pub piece: u32,
}

/// Every sale, oldest first (then by symbol), and the sums per financial
/// year: a page of sales is a slice of it, not a walk over every trade.
#[derive(Debug, Default)]
pub struct Sales {
    pub all: Vec<SaleRef>,
    pub years: Vec<YearSums>,
}

/// Realized gains of one financial year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSums {
    pub fy: String,
    pub short_term: Decimal,
    pub long_term: Decimal,
    pub sales: usize,
}

/// Sorts `refs` oldest first, then by symbol, and sums them per year.
pub fn index_sales(securities: &[Security], mut refs: Vec<SaleRef>) -> Sales {
    refs.sort_by(|a, b| {
        (a.sold_on, &securities[a.security as usize].symbol)
            .cmp(&(b.sold_on, &securities[b.security as usize].symbol))
    });
    let mut years: Vec<YearSums> = Vec::new();
    for r in &refs {
        let piece = &securities[r.security as usize].book.realized[r.piece as usize];
        let fy = super::calc::fifo::financial_year(r.sold_on);
        if years.last().is_none_or(|y| y.fy != fy) {
            years.push(YearSums {
                fy,
                short_term: Decimal::ZERO,
                long_term: Decimal::ZERO,
                sales: 0,
            });
        }
        if let Some(year) = years.last_mut() {
            match piece.term {
                Term::ShortTerm => year.short_term += piece.pnl,
                Term::LongTerm => year.long_term += piece.pnl,
            }
            year.sales += 1;
        }
    }
    Sales { all: refs, years }
}

/// Every realized piece of `securities` that `keep` keeps.
pub fn sale_refs(securities: &[Security], keep: impl Fn(&Security) -> bool) -> Vec<SaleRef> {
    securities
        .iter()
        .enumerate()
        .filter(|(_, s)| keep(s))
        .flat_map(|(i, s)| {
            s.book
                .realized
                .iter()
                .enumerate()
                .map(move |(j, r)| SaleRef {
                    sold_on: r.sold_on,
                    security: i as u32,
                    piece: j as u32,
                })
        })
        .collect()
}

impl Computed {
    pub fn new(securities: Vec<Security>) -> Self {
        Self {
            securities,
            xirr: Mutex::new(None),
            report: Mutex::new(None),
            sales: OnceLock::new(),
            realized: OnceLock::new(),
        }
    }

    /// Every sale's gain, summed once per version.
    pub fn realized(&self) -> Decimal {
        *self.realized.get_or_init(|| {
            self.securities
                .iter()
                .flat_map(|s| &s.book.realized)
                .map(|r| r.pnl)
                .sum()
        })
    }

    /// Every sale of every security, indexed once per version.
    pub fn sales(&self) -> &Sales {
        self.sales
            .get_or_init(|| index_sales(&self.securities, sale_refs(&self.securities, |_| true)))
    }

    /// The report of `today`, worked out by `make` the first time it is asked for.
    pub fn report(&self, today: NaiveDate, make: impl FnOnce(&Self) -> Report) -> Arc<Report> {
        let mut memo = self.report.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((day, report)) = &*memo
            && *day == today
        {
            return Arc::clone(report);
        }
        let report = Arc::new(make(self));
        *memo = Some((today, Arc::clone(&report)));
        report
    }

    /// The annual return of every trade, with what is still held valued at
    /// `today`, as a fraction; `None` without trades or prices.
    pub fn xirr(&self, today: NaiveDate) -> Option<f64> {
        let mut memo = self.xirr.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((day, rate)) = *memo
            && day == today
        {
            return rate;
        }
        let traded: Vec<&Security> = self.iter().filter(|s| !s.flows.is_empty()).collect();
        let value = traded.iter().filter_map(|s| s.value()).sum::<Decimal>();
        let rate = xirr_of(
            traded.iter().flat_map(|s| s.flows.iter().copied()),
            Some(value),
            today,
        );
        *memo = Some((today, rate));
        rate
    }
}

impl Deref for Computed {
    type Target = [Security];

    fn deref(&self) -> &[Security] {
        &self.securities
    }
}

/// A user's data version, the closing prices' generation, and the day
/// (corporate actions apply from their ex-date).
pub type Version = (i64, i64, NaiveDate);

#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Per user: the version of their data and of the prices it was worked out at.
    kept: Arc<Mutex<HashMap<String, (Version, Securities)>>>,
}

impl Kept {
    /// What was worked out for `user_id` at `version`, if that is kept.
    pub fn get(&self, user_id: &str, version: Version) -> Option<Securities> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(user_id)
            .filter(|(at, _)| *at == version)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Keeps `securities`, worked out from data read after `version` was.
    pub fn put(&self, user_id: &str, version: Version, securities: Securities) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= USERS
            && !kept.contains_key(user_id)
            && let Some(any) = kept.keys().next().cloned()
        {
            kept.remove(&any);
        }
        kept.insert(user_id.to_string(), (version, securities));
    }
}
