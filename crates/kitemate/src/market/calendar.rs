//! NSE's trading calendar: weekdays that are not exchange holidays. The app
//! ships NSE's published list (`data/nse-holidays.csv`, its source in
//! `data/SOURCES.md`); `market.holidays_file` replaces it with the
//! operator's own file in the same layout.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{Datelike as _, NaiveDate, Weekday};

/// The calendar the app ships.
const SHIPPED: &str = include_str!("../../data/nse-holidays.csv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    /// The years the list covers; outside them only weekends are closed.
    years: Option<(i32, i32)>,
}

impl Calendar {
    /// The shipped calendar.
    pub fn shipped() -> Self {
        // Checked by a test: the shipped file always reads.
        Self::parse(SHIPPED).unwrap_or(Self {
            holidays: BTreeSet::new(),
            years: None,
        })
    }

    /// `path` when given, else the shipped calendar.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::shipped()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| {
                    anyhow::anyhow!("`market.holidays_file` {}: {err}", path.display())
                })?;
                Self::parse(&text).map_err(|err| {
                    anyhow::anyhow!("`market.holidays_file` {}: {err}", path.display())
                })
            }
        }
    }

    /// `date,description` lines under that header, dates as YYYY-MM-DD.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        match lines.next() {
            Some((_, header)) if header.trim().to_ascii_lowercase().starts_with("date") => {}
            _ => return Err("line 1: the header `date,description` is missing".into()),
        }
        let mut holidays = BTreeSet::new();
        for (index, line) in lines {
            let first = line.split(',').next().unwrap_or("").trim();
            let day = NaiveDate::parse_from_str(first, "%Y-%m-%d")
                .map_err(|_| format!("line {}: {first:?} is not a YYYY-MM-DD date", index + 1))?;
            holidays.insert(day);
        }
        let years = match (holidays.first(), holidays.last()) {
            (Some(first), Some(last)) => Some((first.year(), last.year())),
            _ => None,
        };
        Ok(Self { holidays, years })
    }

    /// Whether NSE trades on `day`.
    pub fn is_trading_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// Whether the list covers `day`'s year (outside it, every weekday counts).
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.years
            .is_some_and(|(first, last)| (first..=last).contains(&day.year()))
    }

    /// The trading days from `from` to `to`, both included.
    pub fn trading_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter(|d| self.is_trading_day(*d))
            .collect()
    }

    /// The last trading day on or before `day`.
    pub fn last_trading_day(&self, day: NaiveDate) -> NaiveDate {
        let mut day = day;
        while !self.is_trading_day(day) {
            match day.pred_opt() {
                Some(before) => day = before,
                None => break,
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_shipped_calendar_reads_and_covers_2025_to_2027() {
        let calendar = Calendar::parse(SHIPPED).expect("the shipped calendar reads");
        for year in [2025, 2026, 2027] {
            assert!(calendar.covers(day(&format!("{year}-06-01"))), "{year}");
        }
        // Republic Day 2026 is a Monday and a holiday; the next day trades.
        assert!(!calendar.is_trading_day(day("2026-01-26")));
        assert!(calendar.is_trading_day(day("2026-01-27")));
        // Christmas.
        assert!(!calendar.is_trading_day(day("2025-12-25")));
        assert!(!calendar.is_trading_day(day("2026-11-28")), "a Saturday");
    }

    #[test]
    fn trading_days_skip_weekends_and_holidays() {
        let calendar = Calendar::parse("date,description\n2025-12-25,Christmas\n").unwrap();
        let days = calendar.trading_days(day("2025-12-22"), day("2025-12-29"));
        let expected: Vec<NaiveDate> = [
            "2025-12-22",
            "2025-12-23",
            "2025-12-24",
            "2025-12-26",
            "2025-12-29",
        ]
        .into_iter()
        .map(day)
        .collect();
        assert_eq!(days, expected);
        assert_eq!(
            calendar.last_trading_day(day("2025-12-28")),
            day("2025-12-26")
        );
        assert_eq!(
            calendar.last_trading_day(day("2025-12-26")),
            day("2025-12-26")
        );
    }

    #[test]
    fn a_bad_calendar_says_where() {
        let err = Calendar::parse("date,description\n2025-02-30,nope\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(Calendar::parse("when,what\n").is_err());
    }
}
