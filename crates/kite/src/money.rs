//! Kite sends prices as JSON floats (`99725.05000000002` appears). They are
//! read into exact decimals through their shortest decimal form, never kept
//! as binary floats, so that sums of money are exact downstream.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// A JSON number (or numeric string) as the decimal it was written as.
pub fn decimal<'de, D: Deserializer<'de>>(de: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Raw::deserialize(de)? {
        Raw::Int(i) => Ok(Decimal::from(i)),
        // `Display` for f64 prints the shortest text that reads back as the
        // same float: what Kite wrote, not the binary approximation.
        Raw::Float(f) => f.to_string().parse().map_err(serde::de::Error::custom),
        Raw::Text(t) if t.trim().is_empty() => Ok(Decimal::ZERO),
        Raw::Text(t) => t.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// [`decimal`] for fields that may be `null` or missing.
pub fn decimal_opt<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "decimal")] Decimal);
    Ok(Option::<Wrap>::deserialize(de)?.map(|w| w.0))
}

/// Rupees to whole paise, rounding half away from zero (prices carry at most
/// two decimals; averages more). Amounts beyond 64 bits of paise (far past
/// any account; imports bound every row) saturate rather than panic.
pub fn paise(rupees: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive as _;
    let saturated = if rupees.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    };
    rupees
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|p| {
            p.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
        })
        .unwrap_or(saturated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        #[serde(deserialize_with = "decimal")]
        v: Decimal,
    }

    fn read(json: &str) -> Decimal {
        serde_json::from_str::<P>(json)
            .map(|p| p.v)
            .unwrap_or(Decimal::MAX)
    }

    #[test]
    fn floats_read_as_written() {
        assert_eq!(read(r#"{"v": 352.95}"#).to_string(), "352.95");
        assert_eq!(read(r#"{"v": 0.1}"#).to_string(), "0.1");
        assert_eq!(
            read(r#"{"v": 99725.05000000002}"#).to_string(),
            "99725.05000000002"
        );
        assert_eq!(read(r#"{"v": 161}"#).to_string(), "161");
        assert_eq!(read(r#"{"v": "1520.35"}"#).to_string(), "1520.35");
        assert_eq!(read(r#"{"v": -5.9}"#).to_string(), "-5.9");
    }

    #[test]
    fn paise_saturate_instead_of_panicking() {
        assert_eq!(paise(Decimal::MAX), i64::MAX);
        assert_eq!(paise(Decimal::MIN), i64::MIN);
        assert_eq!(paise(Decimal::from(i64::MAX)), i64::MAX);
    }

    #[test]
    fn paise_round_half_away_from_zero() {
        assert_eq!(paise(read(r#"{"v": 801.78125}"#)), 80178);
        assert_eq!(paise(read(r#"{"v": 0.005}"#)), 1);
        assert_eq!(paise(read(r#"{"v": -0.005}"#)), -1);
        assert_eq!(paise(read(r#"{"v": 99725.05000000002}"#)), 9_972_505);
    }
}
