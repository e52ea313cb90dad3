//! Kite sends prices as JSON floats (`99725.05000000002` appears). They are
//! read into exact decimals through their shortest decimal form, never kept
//! as binary floats, so that sums of money are exact downstream.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

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

/// An amount of money in whole paise (₹1 = 100 paise): how every amount is
/// stored, compared and sent. Sums saturate at the bounds of `i64` (no
/// account comes near; imports bound every row), so an absurd figure shows
/// as a bound rather than as a wrapped sign.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Paise(i64);

impl Paise {
    pub const ZERO: Self = Self(0);

    pub const fn new(paise: i64) -> Self {
        Self(paise)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Rupees rounded to whole paise, half away from zero (averages carry
    /// more places than paise); saturating beyond 64 bits.
    pub fn from_rupees(rupees: Decimal) -> Self {
        use rust_decimal::prelude::ToPrimitive as _;
        let saturated = if rupees.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        };
        Self(
            rupees
                .checked_mul(Decimal::ONE_HUNDRED)
                .and_then(|p| {
                    p.round_dp_with_strategy(
                        0,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    )
                    .to_i64()
                })
                .unwrap_or(saturated),
        )
    }

    /// Rupees that are whole paise exactly (a price as an exchange states
    /// it), or `None`: more than two decimals, or beyond 64 bits.
    pub fn exact(rupees: Decimal) -> Option<Self> {
        use rust_decimal::prelude::ToPrimitive as _;
        let scaled = rupees.checked_mul(Decimal::ONE_HUNDRED)?;
        if scaled.fract().is_zero() {
            scaled.to_i64().map(Self)
        } else {
            None
        }
    }

    /// The amount in rupees, exactly.
    pub fn rupees(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

impl std::ops::Add for Paise {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Paise {
    fn add_assign(&mut self, other: Self) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Paise {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Neg for Paise {
    type Output = Self;
    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl std::iter::Sum for Paise {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, |a, b| a + b)
    }
}

/// A number of shares or units, exact to thousandths (fund units come with
/// three places); sent as a decimal string such as `"12.5"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(Decimal);

impl Quantity {
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A quantity stored in thousandths.
    pub fn from_milli(milli: i64) -> Self {
        Self(Decimal::new(milli, 3))
    }

    /// `quantity`, when it has at most three decimals, else `None`.
    pub fn exact(quantity: Decimal) -> Option<Self> {
        let scaled = quantity.checked_mul(Decimal::ONE_THOUSAND)?;
        scaled.fract().is_zero().then_some(Self(quantity))
    }

    /// `quantity` to the nearest thousandth (sums of stored quantities are
    /// exact already; Kite's fund units may carry more places); `None`
    /// beyond what a decimal can scale.
    pub fn rounded(quantity: Decimal) -> Option<Self> {
        Self::exact(quantity.round_dp(3))
    }

    /// The quantity in thousandths, as it is stored; `None` beyond 64 bits.
    pub fn milli(self) -> Option<i64> {
        use rust_decimal::prelude::ToPrimitive as _;
        self.0.checked_mul(Decimal::ONE_THOUSAND)?.trunc().to_i64()
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.normalize().fmt(f)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "schema")]
mod schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{RefOr, Schema};

    impl utoipa::PartialSchema for super::Paise {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some("Whole paise (₹1 = 100 paise)"))
                .into()
        }
    }

    impl utoipa::ToSchema for super::Paise {}

    impl utoipa::PartialSchema for super::Quantity {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "A decimal number of shares or units, at most three places",
                ))
                .examples([serde_json::json!("12.5")])
                .into()
        }
    }

    impl utoipa::ToSchema for super::Quantity {}
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

    fn paise(rupees: Decimal) -> i64 {
        Paise::from_rupees(rupees).get()
    }

    #[test]
    fn paise_saturate_instead_of_panicking() {
        assert_eq!(paise(Decimal::MAX), i64::MAX);
        assert_eq!(paise(Decimal::MIN), i64::MIN);
        assert_eq!(paise(Decimal::from(i64::MAX)), i64::MAX);
        assert_eq!(Paise::new(i64::MAX) + Paise::new(1), Paise::new(i64::MAX));
        assert_eq!(-Paise::new(i64::MIN), Paise::new(i64::MAX));
    }

    #[test]
    fn paise_round_half_away_from_zero() {
        assert_eq!(paise(read(r#"{"v": 801.78125}"#)), 80178);
        assert_eq!(paise(read(r#"{"v": 0.005}"#)), 1);
        assert_eq!(paise(read(r#"{"v": -0.005}"#)), -1);
        assert_eq!(paise(read(r#"{"v": 99725.05000000002}"#)), 9_972_505);
    }

    #[test]
    fn exact_amounts_are_exact_or_refused() {
        assert_eq!(
            Paise::exact(read(r#"{"v": "1520.35"}"#)),
            Some(Paise::new(152_035))
        );
        assert_eq!(Paise::exact(read(r#"{"v": "1520.355"}"#)), None);
        assert_eq!(Paise::new(152_035).rupees().to_string(), "1520.35");
        assert_eq!(Paise::exact(Decimal::MAX), None);
        let q = Quantity::exact(read(r#"{"v": "12.125"}"#));
        assert_eq!(q.and_then(Quantity::milli), Some(12_125));
        assert_eq!(Quantity::exact(read(r#"{"v": "0.0001"}"#)), None);
        assert_eq!(Quantity::from_milli(12_500).to_string(), "12.5");
        assert_eq!(
            serde_json::to_string(&Quantity::from_milli(3_000))
                .ok()
                .as_deref(),
            Some("\"3\"")
        );
        assert_eq!(
            serde_json::to_string(&Paise::new(-5)).ok().as_deref(),
            Some("-5")
        );
    }
}
