//! Capital gains and tax as the API sends them: money in whole paise,
//! quantities and rates as decimal strings.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::model::{Paise, Percent, Quantity, Term, Unmatched};

/// One sale matched to one lot, as the return reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GainLine {
    pub symbol: String,
    pub isin: String,
    pub quantity: Quantity,
    pub acquired_on: NaiveDate,
    pub sold_on: NaiveDate,
    pub holding_days: i64,
    pub term: Term,
    /// `bought`, `bonus` (nil cost, acquired on allotment), `merger` or
    /// `demerger` (cost and date carried from the shares given up).
    pub via: String,
    /// `equity_share`, `equity_fund`, `other_fund`, `debt_fund` or `unknown`.
    pub asset: String,
    /// What the lot cost.
    pub cost_paise: Paise,
    /// Per share on 31 January 2018, for a lot held then (grandfathering).
    #[schema(value_type = Option<String>)]
    pub fmv_per_share: Option<rust_decimal::Decimal>,
    /// The cost the gain is worked out from: `costPaise`, or the
    /// grandfathered cost where that is higher.
    pub cost_basis_paise: Paise,
    pub proceeds_paise: Paise,
    pub gain_paise: Paise,
    /// `equity_stcg` (s.111A), `equity_ltcg` (s.112A), `equity_ltcg_exempt`
    /// (s.10(38)), `other_stcg` (slab), `other_ltcg` (s.112), `speculative`
    /// (intraday, s.43(5)) or `check_with_ca`.
    pub category: String,
    pub section: String,
    /// The listed rate; none at the slab rate or where it is not known.
    pub rate_percent: Option<Percent>,
    /// `before_2024_07_23` or `from_2024_07_23`.
    pub period: String,
    pub grandfathered: bool,
    pub check_with_ca: bool,
    /// The rule that applies, in words.
    pub rule: String,
}

/// The sales of one category and rate period, summed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryTotal {
    pub category: String,
    pub section: String,
    pub period: String,
    pub rate_percent: Option<Percent>,
    pub gains_paise: Paise,
    pub losses_paise: Paise,
    pub net_paise: Paise,
    pub proceeds_paise: Paise,
    pub lines: usize,
}

/// Tax on one category and period after set-off and the exemption.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxDue {
    pub category: String,
    pub period: String,
    pub rate_percent: Percent,
    pub taxable_paise: Paise,
    pub tax_paise: Paise,
}

/// The yearly exemption of s.112A.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exemption {
    /// ₹1 lakh to FY 2023-24, ₹1.25 lakh from FY 2024-25; none before FY 2018-19.
    pub limit_paise: Paise,
    pub used_paise: Paise,
    pub left_paise: Paise,
}

/// Losses set off against gains of the year, and what is left to carry forward.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetOff {
    /// Short-term equity losses set off against short-term gains, then long-term (s.70(2)).
    pub short_term_losses_used_paise: Paise,
    /// Long-term equity losses set off against long-term gains only (s.70(3)).
    pub long_term_losses_used_paise: Paise,
    /// Left to carry forward eight years if the return is filed in time (s.74).
    pub short_term_carried_paise: Paise,
    pub long_term_carried_paise: Paise,
}

/// A financial year's capital gains, the way the return is filed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapitalGains {
    /// Like `2024-25`: 1 April 2024 to 31 March 2025.
    pub fy: String,
    pub notice: String,
    /// One page of the year's sales matched to lots, in sale order.
    pub lines: Vec<GainLine>,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub totals: Vec<CategoryTotal>,
    pub set_off: SetOff,
    pub exemption: Exemption,
    pub tax: Vec<TaxDue>,
    /// Tax on listed equity at the listed rates, before surcharge and the
    /// 4 % health and education cess; slab-rate income is not included.
    pub tax_paise: Paise,
    /// Every matched sale's gain (the year's realized P&L, at actual cost).
    pub realized_paise: Paise,
    /// Intraday: what was sold (turnover of a kind) and the net.
    pub speculative_net_paise: Paise,
    /// Lines whose treatment depends on facts KiteMate does not have.
    pub check_with_ca: usize,
    /// Shares sold this year that no known buy covers: their gain is not
    /// in these figures (import the older tradebooks).
    pub unmatched: Vec<Unmatched>,
}

/// One open lot, valued now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenLot {
    pub symbol: String,
    pub isin: String,
    pub quantity: Quantity,
    pub acquired_on: NaiveDate,
    pub via: String,
    pub asset: String,
    pub cost_paise: Paise,
    /// The cost a sale today would count (grandfathered where that is higher).
    pub cost_basis_paise: Paise,
    pub value_paise: Option<Paise>,
    pub unrealized_paise: Option<Paise>,
    /// Whether a sale today would be long-term.
    pub long_term: bool,
    /// The first day a sale is long-term.
    pub long_term_from: NaiveDate,
}

/// Selling the oldest shares of one security: FIFO decides which lots go.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarvestIdea {
    pub symbol: String,
    pub isin: String,
    pub quantity: Quantity,
    /// The gain (or loss, negative) selling them today would book.
    pub gain_paise: Paise,
    pub long_term_paise: Paise,
    pub short_term_paise: Paise,
    pub why: String,
}

/// Unrealized gains per lot, the exemption left, and which sales would
/// use it or book losses: information, not advice.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Harvest {
    pub fy: String,
    pub as_of: NaiveDate,
    pub notice: String,
    pub exemption: Exemption,
    /// Net short-term equity gains booked this year (after short-term losses).
    pub short_term_booked_paise: Paise,
    /// One page of open lots, oldest first per security.
    pub lots: Vec<OpenLot>,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// Long-term gains that fit in the exemption left; at most 20.
    pub within_exemption: Vec<HarvestIdea>,
    /// Losses that would set off this year's short-term gains; at most 20.
    pub losses_against_short_term: Vec<HarvestIdea>,
}
