//! Worked-out portfolios kept in memory while nothing of the user's changes.
//! Every write to a user's portfolio bumps their version in the same
//! transaction, so one small read tells whether a kept one still holds,
//! on every replica.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::calc::positions::{Security, xirr_of};
use super::report::Report;

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
}

impl Computed {
    pub fn new(securities: Vec<Security>) -> Self {
        Self {
            securities,
            xirr: Mutex::new(None),
            report: Mutex::new(None),
        }
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

#[derive(Debug, Clone, Default)]
pub struct Kept {
    kept: Arc<Mutex<HashMap<String, (i64, Securities)>>>,
}

impl Kept {
    /// What was worked out for `user_id` at `version`, if that is kept.
    pub fn get(&self, user_id: &str, version: i64) -> Option<Securities> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(user_id)
            .filter(|(at, _)| *at == version)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Keeps `securities`, worked out from data read after `version` was.
    pub fn put(&self, user_id: &str, version: i64, securities: Securities) {
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
