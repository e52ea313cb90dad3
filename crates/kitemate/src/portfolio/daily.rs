//! The portfolio day by day: the daily refresh's closing snapshot of each
//! user, the history (snapshots, and for imported trades the days before
//! them worked out from the trades and the closes loaded), and returns
//! over a period against NIFTY 50.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, TimeDelta};
use platform::ApiError;
use rust_decimal::Decimal;

use super::calc::history;
use super::calc::returns::{self, Day};
use super::model::{DaySource, DayValue, Paise, Percent, Performance, Period, Return};
use super::query::Range;
use super::service::PortfolioService;
use super::store::{self, CloseSnapshot};
use crate::market::NIFTY_50;

/// Days read before a range, so its first day has a day before it (for
/// its change) and prices carried into it.
const LEAD_DAYS: i64 = 15;
/// Users' closing snapshots worked out at once (each reads their data).
const CLOSES_AT_ONCE: usize = 8;

fn percent(fraction: Decimal) -> Option<Percent> {
    Percent::of(fraction, Decimal::ONE)
}

/// A period's reach, as a widget's history range has it (`all` is its `max`).
fn range_of(period: Period) -> Range {
    match period {
        Period::OneMonth => Range::OneMonth,
        Period::ThreeMonths => Range::ThreeMonths,
        Period::SixMonths => Range::SixMonths,
        Period::OneYear => Range::OneYear,
        Period::ThreeYears => Range::ThreeYears,
        Period::FiveYears => Range::FiveYears,
        Period::All => Range::Max,
    }
}

impl PortfolioService {
    /// Records `day`'s end for each of `users` with holdings, valued at the
    /// newest closes, with NIFTY 50's close; one transaction for them all.
    /// Returns how many were recorded.
    pub async fn record_closes(
        &self,
        users: &[String],
        day: NaiveDate,
        nifty: Option<Decimal>,
    ) -> Result<usize, ApiError> {
        use futures_util::StreamExt as _;
        // Worked out a few at a time (reads), written in one transaction.
        let this = self.clone();
        let rows: Vec<Option<CloseSnapshot>> = futures_util::stream::iter(users.to_vec())
            .map(move |user_id| {
                let this = this.clone();
                async move { this.close_row(&user_id, day).await }
            })
            .buffer_unordered(CLOSES_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let rows: Vec<CloseSnapshot> = rows.into_iter().flatten().collect();
        let mut tx = self.db.begin().await?;
        store::record_closes(&mut tx, day, nifty.and_then(crate::market::scaled), &rows).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The user's end of `day`, if they hold anything.
    async fn close_row(
        &self,
        user_id: &str,
        day: NaiveDate,
    ) -> Result<Option<CloseSnapshot>, ApiError> {
        let securities = self.securities(user_id).await?;
        let held: Vec<_> = securities.iter().filter(|s| s.is_held()).collect();
        if held.is_empty() {
            return Ok(None);
        }
        let value: Decimal = held
            .iter()
            .map(|s| s.value().unwrap_or_else(|| s.invested()))
            .sum();
        let invested: Decimal = held.iter().map(|s| s.invested()).sum();
        let day_change = held
            .iter()
            .filter_map(|s| s.day_change())
            .reduce(|a, b| a + b);
        let net_flow: Decimal = securities
            .iter()
            .flat_map(|s| s.flows.iter())
            .filter(|(d, _)| *d == day)
            .map(|(_, amount)| -amount)
            .sum();
        Ok(Some(CloseSnapshot {
            user_id: user_id.to_string(),
            value: Paise::from_rupees(value),
            invested: Paise::from_rupees(invested),
            day_change: day_change.map(Paise::from_rupees),
            net_flow: Paise::from_rupees(net_flow),
        }))
    }

    /// Users whose end of `day` is recorded already.
    pub async fn closed_users(&self, day: NaiveDate) -> Result<HashSet<String>, ApiError> {
        Ok(store::closed_users(&self.db, day)
            .await?
            .into_iter()
            .collect())
    }

    /// Users who synced from Kite at or after `since`.
    pub async fn synced_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<HashSet<String>, ApiError> {
        Ok(store::synced_since(&self.db, since.timestamp_millis())
            .await?
            .into_iter()
            .collect())
    }

    /// A page of the users with portfolio data, by id, after `after`.
    pub async fn users_after(&self, after: &str, limit: i64) -> Result<Vec<String>, ApiError> {
        Ok(store::users_after(&self.db, after, limit).await?)
    }

    /// The portfolio at each trading day's end from `from` to `to`, oldest
    /// first: the recorded days, and before them (or between them) the days
    /// worked out from imported trades and the closes loaded.
    pub async fn history(
        &self,
        user_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayValue>, ApiError> {
        // A range from the beginning of time (a widget's `max`) starts there.
        let lead = from
            .checked_sub_signed(TimeDelta::days(LEAD_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let mut days: BTreeMap<NaiveDate, DayValue> = BTreeMap::new();
        let securities = self.securities(user_id).await?;
        let traded: Vec<&str> = securities
            .iter()
            .filter(|s| !s.isin.is_empty() && !s.flows.is_empty())
            .map(|s| s.isin.as_str())
            .collect();
        if securities.iter().any(|s| !s.flows.is_empty()) {
            let priced = self.market.priced_days(lead, to).await?;
            let mut closes = self.market.closes(&traded, lead, to).await?;
            // The last close before the range carries into its first days.
            for (isin, price) in self.market.closes_at(&traded, lead).await? {
                closes
                    .entry(isin)
                    .or_default()
                    .insert(0, (price.day, price.close));
            }
            for point in history::daily(&securities, &priced, &closes) {
                days.insert(
                    point.day,
                    DayValue {
                        day: point.day,
                        value_paise: Paise::from_rupees(point.value),
                        invested_paise: Paise::from_rupees(point.invested),
                        pnl_paise: Paise::from_rupees(point.value - point.invested),
                        day_change_paise: None,
                        net_flow_paise: Some(Paise::from_rupees(point.net_flow)),
                        nifty50: None,
                        source: DaySource::Trades,
                    },
                );
            }
        }
        // What was recorded wins over what is worked out.
        for row in store::history(&self.db, user_id, &lead.to_string(), &to.to_string()).await? {
            let day: NaiveDate = row
                .day
                .parse()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("stored day {:?}", row.day)))?;
            let worked_out_flow = days.get(&day).and_then(|d| d.net_flow_paise);
            days.insert(
                day,
                DayValue {
                    day,
                    value_paise: Paise::new(row.value_paise),
                    invested_paise: Paise::new(row.invested_paise),
                    pnl_paise: Paise::new(row.value_paise - row.invested_paise),
                    day_change_paise: row.day_change_paise.map(Paise::new),
                    net_flow_paise: row.net_flow_paise.map(Paise::new).or(worked_out_flow),
                    nifty50: row.nifty_close_e4.map(|v| Decimal::new(v, 4).normalize()),
                    source: if row.source == "close" {
                        DaySource::Close
                    } else {
                        DaySource::Sync
                    },
                },
            );
        }
        let nifty: HashMap<NaiveDate, Decimal> = self
            .market
            .index(NIFTY_50, lead, to)
            .await?
            .into_iter()
            .collect();
        let mut before: Option<Paise> = None;
        let mut out = Vec::with_capacity(days.len());
        for (day, mut value) in days {
            if value.nifty50.is_none() {
                value.nifty50 = nifty.get(&day).copied();
            }
            // From the day before where there is one; else as recorded.
            if let Some(b) = before {
                value.day_change_paise =
                    Some(value.value_paise - b - value.net_flow_paise.unwrap_or(Paise::ZERO));
            }
            before = Some(value.value_paise);
            if day >= from {
                out.push(value);
            }
        }
        Ok(out)
    }

    /// Returns over `period` up to the last recorded day: time-weighted and
    /// money-weighted, with NIFTY 50's over the same days.
    pub async fn performance(
        &self,
        user_id: &str,
        period: Period,
    ) -> Result<Performance, ApiError> {
        let start = match period {
            Period::All => None,
            _ => Some(range_of(period).start(self.clock.today_ist())),
        };
        self.returns_from(user_id, start, period).await
    }

    /// [`Self::performance`] from the day's end before `from` (from the
    /// first trade when `None`), as chat asks: "my returns since 2022".
    pub async fn performance_since(
        &self,
        user_id: &str,
        from: Option<NaiveDate>,
    ) -> Result<Performance, ApiError> {
        self.returns_from(user_id, from, Period::All).await
    }

    async fn returns_from(
        &self,
        user_id: &str,
        from: Option<NaiveDate>,
        period: Period,
    ) -> Result<Performance, ApiError> {
        let today = self.clock.today_ist();
        let start = match from {
            Some(from) => from,
            None => self.first_day(user_id).await?.unwrap_or(today),
        };
        let from_nothing = from.is_none();
        // The period is measured from the last day's end before it starts.
        let lead = start
            .checked_sub_signed(TimeDelta::days(LEAD_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let series = self.history(user_id, lead, today).await?;
        // No day's end before the period: the portfolio began inside it.
        let base = series.iter().rposition(|d| d.day <= start);
        let from_nothing = from_nothing || base.is_none();
        let base = base.unwrap_or(0);
        let series = &series[base.min(series.len())..];
        let mut days: Vec<Day> = series
            .iter()
            .map(|d| Day {
                day: d.day,
                value: d.value_paise.rupees(),
                net_flow: d.net_flow_paise.unwrap_or(Paise::ZERO).rupees(),
            })
            .collect();
        // All of it starts from nothing: the first day's buys are money put
        // in, and their first close already a return.
        if from_nothing
            && let Some(first) = days.first().copied()
            && first.value > Decimal::ZERO
        {
            days.insert(
                0,
                Day {
                    day: first.day - TimeDelta::days(1),
                    value: Decimal::ZERO,
                    net_flow: Decimal::ZERO,
                },
            );
        }
        let (from, to) = (series.first().map(|d| d.day), series.last().map(|d| d.day));
        let span = match (from, to) {
            (Some(from), Some(to)) => (to - from).num_days(),
            _ => 0,
        };
        let twr = returns::time_weighted(&days);
        let mwr = returns::money_weighted(&days);
        let nifty = match (
            series.first().and_then(|d| d.nifty50),
            series.last().and_then(|d| d.nifty50),
        ) {
            (Some(first), Some(last)) if !first.is_zero() && series.len() > 1 => {
                Some(last / first - Decimal::ONE)
            }
            _ => None,
        };
        let annual = |total: Option<Decimal>| {
            total
                .and_then(|t| returns::annualized(t, span))
                .and_then(Percent::from_rate)
        };
        Ok(Performance {
            period,
            from,
            to,
            days: series.len(),
            start_value_paise: days
                .first()
                .map_or(Paise::ZERO, |d| Paise::from_rupees(d.value)),
            end_value_paise: series.last().map_or(Paise::ZERO, |d| d.value_paise),
            net_flow_paise: Paise::from_rupees(days.iter().skip(1).map(|d| d.net_flow).sum()),
            time_weighted: Return {
                label: "Time-weighted return: how your holdings did, with the money you put in or took out taken away; compare this one with NIFTY 50",
                percent: twr.and_then(percent),
                annualized_percent: annual(twr),
            },
            money_weighted: Return {
                label: "Money-weighted return (XIRR): what you earned per year on your money, the timing of your buys and sells included",
                percent: None,
                annualized_percent: mwr.and_then(Percent::from_rate),
            },
            nifty50: Return {
                label: "NIFTY 50's price return over the same days (dividends not included)",
                percent: nifty.and_then(percent),
                annualized_percent: annual(nifty),
            },
            excess_percent: match (twr, nifty) {
                (Some(twr), Some(nifty)) => percent(twr - nifty),
                _ => None,
            },
        })
    }

    /// The first day the user held or traded anything.
    async fn first_day(&self, user_id: &str) -> Result<Option<NaiveDate>, ApiError> {
        let securities = self.securities(user_id).await?;
        let traded = securities
            .iter()
            .flat_map(|s| s.flows.iter())
            .map(|f| f.0)
            .min();
        let recorded = store::first_snapshot_day(&self.db, user_id)
            .await?
            .and_then(|d| d.parse().ok());
        Ok(traded.into_iter().chain(recorded).min())
    }
}
