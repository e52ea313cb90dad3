//! Returns over a run of days: time-weighted (each day's change with money
//! in and out taken away, chained) and money-weighted (XIRR of the start
//! value, the flows and the end value). Money flows count at the day's
//! close, as the daily snapshots record them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

/// One day's end: what the portfolio was worth, and the money put in
/// (positive) or taken out (negative) that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub day: NaiveDate,
    pub value: Decimal,
    pub net_flow: Decimal,
}

/// The time-weighted return over `days` (the first is the starting point;
/// its own flow is not counted), as a fraction. A day that starts from
/// nothing (the first buy) counts its new money as put in at its start:
/// value ÷ money in − 1. `None` when nothing was held.
pub fn time_weighted(days: &[Day]) -> Option<Decimal> {
    let mut growth = Decimal::ONE;
    let mut counted = false;
    for pair in days.windows(2) {
        let (before, day) = (pair[0], pair[1]);
        let factor = if before.value > Decimal::ZERO {
            (day.value - day.net_flow).checked_div(before.value)?
        } else if day.net_flow > Decimal::ZERO {
            day.value.checked_div(day.net_flow)?
        } else {
            continue;
        };
        growth = growth.checked_mul(factor)?;
        counted = true;
    }
    (counted || days.first().is_some_and(|d| d.value > Decimal::ZERO) && days.len() > 1)
        .then_some(growth - Decimal::ONE)
}

/// The money-weighted return (XIRR) over `days`: the first day's value as
/// money put in then, each later day's flow, and the last day's value as
/// money taken out. A yearly rate.
pub fn money_weighted(days: &[Day]) -> Option<f64> {
    let (first, last) = (days.first()?, days.last()?);
    if days.len() < 2 {
        return None;
    }
    let mut flows = Vec::with_capacity(days.len() + 1);
    if first.value > Decimal::ZERO {
        flows.push((first.day, -first.value.to_f64()?));
    }
    for day in &days[1..] {
        if !day.net_flow.is_zero() {
            flows.push((day.day, -day.net_flow.to_f64()?));
        }
    }
    flows.push((last.day, last.value.to_f64()?));
    super::xirr::xirr(&flows)
}

/// A return over `days` calendar days as a yearly rate; `None` under a year.
pub fn annualized(total: Decimal, days: i64) -> Option<f64> {
    if days < 365 {
        return None;
    }
    let growth = (Decimal::ONE + total).to_f64()?;
    (growth > 0.0).then(|| growth.powf(365.0 / days as f64) - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn d(s: &str, value: i64, flow: i64) -> Day {
        Day {
            day: day(s),
            value: Decimal::from(value),
            net_flow: Decimal::from(flow),
        }
    }

    #[test]
    fn a_hand_worked_example() {
        // Start at 1,000. Day 2 grows 10 % to 1,100. Day 3: 500 put in at the
        // close, the holdings flat: 1,600. Day 4: everything falls 5 %: 1,520.
        let days = [
            d("2025-01-01", 1_000, 0),
            d("2025-01-02", 1_100, 0),
            d("2025-01-03", 1_600, 500),
            d("2025-01-06", 1_520, 0),
        ];
        // 1.10 × 1.00 × 0.95 − 1 = 4.5 %, whatever the 500 did.
        assert_eq!(time_weighted(&days), Some("0.045".parse().unwrap()));
        // The money-weighted rate is per year and sees the 500 lose 5 %:
        // 1,000 at day 0 and 500 at day 2 grow to 1,520 at day 5.
        let rate = money_weighted(&days).unwrap();
        let fv = 1000.0 * (1.0 + rate).powf(5.0 / 365.0) + 500.0 * (1.0 + rate).powf(3.0 / 365.0);
        assert!((fv - 1520.0).abs() < 1e-6, "{rate} → {fv}");
    }

    #[test]
    fn the_first_buy_counts_from_its_price() {
        // Nothing held; 1,000 put in at the close of a day the shares closed at 1,050.
        let days = [
            d("2025-01-01", 0, 0),
            d("2025-01-02", 1_050, 1_000),
            d("2025-01-03", 1_155, 0),
        ];
        assert_eq!(time_weighted(&days), Some("0.155".parse().unwrap()));
    }

    #[test]
    fn annualizing_waits_for_a_year() {
        assert_eq!(annualized("0.21".parse().unwrap(), 200), None);
        let two_years = annualized("0.21".parse().unwrap(), 730).unwrap();
        assert!((two_years - 0.1).abs() < 1e-3, "{two_years}");
    }

    proptest! {
        /// Without flows every return is the end value over the start's;
        /// with flows, the time-weighted return is the product of each
        /// day's own growth, however much money came and went.
        #[test]
        fn returns_match_an_independent_computation(
            growths in proptest::collection::vec(-300i64..=300, 1..40),
            flows in proptest::collection::vec(-50_000i64..=50_000, 1..40),
        ) {
            let mut value = Decimal::from(100_000);
            let mut days = vec![Day { day: day("2024-01-01"), value, net_flow: Decimal::ZERO }];
            let mut expected = Decimal::ONE;
            let mut plain = vec![days[0]];
            let mut plain_value = value;
            for (i, g) in growths.iter().enumerate() {
                let factor = Decimal::ONE + Decimal::new(*g, 4);
                let flow = Decimal::from(flows[i % flows.len()]).max(-value * factor / Decimal::TWO);
                value = value * factor + flow;
                plain_value *= factor;
                expected *= factor;
                let at = day("2024-01-01") + chrono::TimeDelta::days(i as i64 + 1);
                days.push(Day { day: at, value, net_flow: flow });
                plain.push(Day { day: at, value: plain_value, net_flow: Decimal::ZERO });
            }
            let twr = time_weighted(&days).unwrap();
            prop_assert!((twr - (expected - Decimal::ONE)).abs() < Decimal::new(1, 9), "{twr} vs {expected}");
            let simple = time_weighted(&plain).unwrap();
            let ratio = plain_value / Decimal::from(100_000) - Decimal::ONE;
            prop_assert!((simple - ratio).abs() < Decimal::new(1, 9));
            // Without flows, XIRR over n days is the ratio compounded to a year.
            if let Some(rate) = money_weighted(&plain) {
                let n = (plain.len() - 1) as f64;
                let implied = (1.0 + rate).powf(n / 365.0) - 1.0;
                let want = ratio.to_f64().unwrap();
                prop_assert!((implied - want).abs() <= 1e-6 * want.abs().max(1.0), "{implied} vs {ratio}");
            }
        }
    }
}
