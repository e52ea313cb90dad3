//! XIRR: the annual rate at which the dated cash flows' present value is
//! zero (Excel's definition: actual days / 365).

use chrono::NaiveDate;

/// The rate for `flows` (negative = money put in), or `None` when the
/// flows do not have both signs or no rate solves them.
pub fn xirr(flows: &[(NaiveDate, f64)]) -> Option<f64> {
    let first = flows.iter().map(|(d, _)| *d).min()?;
    let has_in = flows.iter().any(|(_, a)| *a < 0.0);
    let has_out = flows.iter().any(|(_, a)| *a > 0.0);
    if !has_in || !has_out {
        return None;
    }
    let years: Vec<(f64, f64)> = flows
        .iter()
        .map(|(d, a)| ((*d - first).num_days() as f64 / 365.0, *a))
        .collect();
    let npv = |r: f64| {
        years
            .iter()
            .map(|(t, a)| a / (1.0 + r).powf(*t))
            .sum::<f64>()
    };
    let slope = |r: f64| {
        years
            .iter()
            .map(|(t, a)| -t * a / (1.0 + r).powf(t + 1.0))
            .sum::<f64>()
    };
    // Newton from 10%, which converges in a handful of steps for ordinary
    // portfolios; bisection over (-99.99%, 1,000,000%) when it does not.
    let mut rate = 0.1;
    for _ in 0..50 {
        let (value, d) = (npv(rate), slope(rate));
        if value.abs() < 1e-9 {
            return Some(rate);
        }
        if d == 0.0 || !d.is_finite() {
            break;
        }
        let next = rate - value / d;
        if !next.is_finite() || next <= -1.0 {
            break;
        }
        if (next - rate).abs() < 1e-12 {
            return Some(next);
        }
        rate = next;
    }
    let (mut lo, mut hi) = (-0.9999, 10_000.0);
    let (mut f_lo, f_hi) = (npv(lo), npv(hi));
    if f_lo.signum() == f_hi.signum() {
        return None;
    }
    for _ in 0..300 {
        let mid = (lo + hi) / 2.0;
        let f_mid = npv(mid);
        if f_mid.abs() < 1e-9 || (hi - lo) < 1e-12 {
            return Some(mid);
        }
        if f_mid.signum() == f_lo.signum() {
            lo = mid;
            f_lo = f_mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    /// Microsoft's documented XIRR example: 0.373362535 (37.34%).
    #[test]
    fn matches_excels_documented_example() {
        let flows = [
            (day(2008, 1, 1), -10_000.0),
            (day(2008, 3, 1), 2_750.0),
            (day(2008, 10, 30), 4_250.0),
            (day(2009, 2, 15), 3_250.0),
            (day(2009, 4, 1), 2_750.0),
        ];
        let rate = xirr(&flows).unwrap_or(f64::NAN);
        assert!((rate - 0.373_362_535).abs() < 1e-8, "{rate}");
    }

    #[test]
    fn a_year_at_ten_percent_and_losses() {
        let up = [(day(2023, 1, 1), -100.0), (day(2024, 1, 1), 110.0)];
        assert!((xirr(&up).unwrap_or(f64::NAN) - 0.1).abs() < 1e-9);
        let down = [(day(2023, 1, 1), -100.0), (day(2024, 1, 1), 50.0)];
        assert!((xirr(&down).unwrap_or(f64::NAN) + 0.5).abs() < 1e-9);
        assert_eq!(
            xirr(&[(day(2023, 1, 1), -100.0)]),
            None,
            "no money came back"
        );
        assert_eq!(xirr(&[]), None);
    }
}
