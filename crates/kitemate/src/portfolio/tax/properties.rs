//! A property of the tax report: with no corporate actions and no
//! grandfathering, every year's capital gains add up to the realized P&L
//! the portfolio reports. The hand-worked cases run through the API in the
//! integration tests (`tests/it/tax`).
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::gains::{capital_gains, fy_days, pieces};
use crate::portfolio::calc::positions::securities;
use crate::portfolio::computed::Computed;
use crate::portfolio::figures::{RealizedFilter, realized};
use crate::portfolio::model::{Paise, PriceSource};
use crate::portfolio::packed::{Block, Line};

/// Random trades in four securities (shares and funds), over nine years.
fn tradebook() -> impl Strategy<Value = Vec<(usize, bool, i64, i64, i64)>> {
    prop::collection::vec(
        (
            0usize..4,
            any::<bool>(),
            1i64..2_000,
            100i64..500_000,
            0i64..3_300,
        ),
        1..80,
    )
}

fn blocks(trades: &[(usize, bool, i64, i64, i64)]) -> Vec<Block> {
    const SECURITIES: [(&str, &str); 4] = [
        ("AAA", "INEPRP01A011"),
        ("BBB", "INEPRP01B011"),
        ("GOLDBEES", "INF204KB17I5"),
        ("NIFTYBEES", "INF204KB14I2"),
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default();
    let mut by: std::collections::BTreeMap<usize, String> = Default::default();
    for (i, &(which, buy, units, paise, day)) in trades.iter().enumerate() {
        let date = (start + chrono::TimeDelta::days(day)).to_string();
        let time = format!("{date}T10:{:02}:{:02}", i / 60, i % 60);
        let id = format!("{i:06}");
        Line {
            trade_id: &id,
            exchange: "NSE",
            segment: "EQ",
            symbol: SECURITIES[which].0,
            trade_date: &date,
            executed_at: &time,
            side: if buy { "buy" } else { "sell" },
            quantity_milli: units * 1000,
            price_paise: paise,
            order_id: &id,
        }
        .encode(by.entry(which).or_default());
    }
    by.into_iter()
        .map(|(which, fills)| Block {
            isin: SECURITIES[which].1.into(),
            fills,
            month: String::new(),
        })
        .collect()
}

proptest! {
    /// With no corporate actions and no grandfathering, every year's
    /// capital gains (all categories, intraday included) add up to the
    /// realized P&L the portfolio reports for that year.
    #[test]
    fn tax_totals_are_the_realized_pnl(trades in tradebook()) {
        let all = securities(&blocks(&trades), &[], (PriceSource::HoldingsFile, None), &Default::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let computed = Computed::new(all);
        let years = realized(&computed, RealizedFilter { limit: 1, ..Default::default() }).years;
        for year in years {
            let days = fy_days(&year.fy).ok_or_else(|| TestCaseError::fail("fy"))?;
            let gains = capital_gains(&computed, &year.fy, days, 0, 1);
            let exact: Decimal = pieces(&computed, days.0, days.1).iter().map(|p| p.gain()).sum();
            prop_assert_eq!(gains.realized_paise, year.total_paise);
            prop_assert_eq!(Paise::from_rupees(exact), year.total_paise);
            prop_assert_eq!(gains.total, year.sales);
            prop_assert!(gains.tax_paise >= Paise::ZERO);
            prop_assert!(gains.exemption.used_paise <= gains.exemption.limit_paise);
        }
    }
}
