//! Capital-gains tax questions: what this year's sales owe at the listed
//! rates, how much of the s.112A exemption is left, and which lots are
//! long-term now. The figures are the portfolio's own tax report
//! (`GET /portfolio/tax/capital-gains`, `…/harvest`).

use serde_json::json;

use super::Facts;
pub use super::kinds::TaxAsk;
use super::kinds::{any, phrase};
use super::money::inr;
use super::reply::{Answer, Data, DataKind, Format, answered};
use crate::portfolio::Paise;

/// The tax question in `w` (normalized words), if it is one the portfolio
/// answers: capital-gains tax, not the whole return's (TDS, income tax
/// paid), which stays declined.
pub fn ask(w: &[&str]) -> Option<TaxAsk> {
    // What was paid, or the whole return's tax: KiteMate cannot know it.
    let whole_return = any(w, &["tds", "deducted", "refund", "itr", "did"])
        || phrase(w, "income tax")
        || (any(w, &["paid"]) && !any(w, &["ltcg", "stcg"]));
    let exemption = any(w, &["exemption", "exempt", "exempted", "allowance"])
        || phrase(w, "tax free")
        || (any(w, &["limit"]) && any(w, &["ltcg", "tax", "gains", "112a"]));
    let long_term = any(w, &["ltcg", "112a"]) || phrase(w, "long term") || phrase(w, "long-term");
    let lots = any(
        w,
        &[
            "lot", "lots", "shares", "holdings", "stocks", "which", "what", "qualify", "eligible",
        ],
    );
    let tax = any(w, &["tax", "taxes", "taxed", "ltcg", "stcg"]);
    if exemption && !whole_return {
        return Some(TaxAsk::Exemption);
    }
    if long_term
        && lots
        && !any(
            w,
            &[
                "tax", "taxes", "pay", "owe", "much", "sold", "sell", "booked", "realized",
                "realised",
            ],
        )
    {
        return Some(TaxAsk::LongTermLots);
    }
    let due = any(
        w,
        &[
            "pay",
            "owe",
            "payable",
            "liability",
            "due",
            "will",
            "much",
            "estimate",
            "bill",
        ],
    ) || phrase(w, "capital gains tax")
        || phrase(w, "ltcg tax")
        || phrase(w, "stcg tax");
    if tax && due && !whole_return {
        return Some(TaxAsk::Due);
    }
    None
}

/// The answer to `ask` from the facts (the year's gains, or the lots).
pub fn answer(ask: TaxAsk, facts: &Facts) -> Answer {
    let Some(gains) = &facts.gains else {
        return super::reply::fallback("I couldn't work out your capital gains just now.");
    };
    let caveat =
        "At the listed rates, before surcharge, 4% cess and charges; information, not tax advice.";
    match ask {
        TaxAsk::Due => {
            let mut data = Data::new(
                DataKind::Table,
                &[
                    ("category", "Category", Format::Text),
                    ("period", "Sold", Format::Text),
                    ("ratePercent", "Rate %", Format::Number),
                    ("taxablePaise", "Taxable", Format::Money),
                    ("taxPaise", "Tax", Format::Money),
                ],
            );
            for due in &gains.tax {
                data.push(vec![
                    json!(label(&due.category)),
                    json!(period(&due.period)),
                    json!(due.rate_percent.to_string()),
                    json!(due.taxable_paise),
                    json!(due.tax_paise),
                ]);
            }
            let net = |category: &str| -> Paise {
                gains
                    .totals
                    .iter()
                    .filter(|t| t.category == category)
                    .map(|t| t.net_paise)
                    .sum()
            };
            let text = if gains.total == 0 {
                format!(
                    "You have sold nothing in FY {}, so no capital-gains tax so far. The LTCG exemption of {} is unused.",
                    gains.fy,
                    inr(gains.exemption.limit_paise)
                )
            } else {
                let mut text = format!(
                    "Capital-gains tax for FY {}: about **{}**. Short-term gains on shares {} (s.111A), long-term {} (s.112A) with {} of the {} exemption used.",
                    gains.fy,
                    inr(gains.tax_paise),
                    inr(net("equity_stcg")),
                    inr(net("equity_ltcg")),
                    inr(gains.exemption.used_paise),
                    inr(gains.exemption.limit_paise),
                );
                if gains.speculative_net_paise != Paise::ZERO {
                    text.push_str(&format!(
                        " Intraday {} is business income at your slab rate, not in this.",
                        inr(gains.speculative_net_paise)
                    ));
                }
                if gains.check_with_ca > 0 {
                    text.push_str(&format!(
                        " {} sales need your CA's look (see the tax report).",
                        gains.check_with_ca
                    ));
                }
                text.push(' ');
                text.push_str(caveat);
                text
            };
            answered(text, data, None)
        }
        TaxAsk::Exemption => {
            let e = &gains.exemption;
            let text = if e.limit_paise == Paise::ZERO {
                format!(
                    "There is no LTCG exemption for FY {}: long-term gains on shares were exempt then.",
                    gains.fy
                )
            } else {
                format!(
                    "**{}** of the {} LTCG exemption for FY {} is left: {} used so far on long-term gains from shares and equity funds (s.112A).",
                    inr(e.left_paise),
                    inr(e.limit_paise),
                    gains.fy,
                    inr(e.used_paise)
                )
            };
            let mut data = Data::new(
                DataKind::Table,
                &[
                    ("limitPaise", "Exemption", Format::Money),
                    ("usedPaise", "Used", Format::Money),
                    ("leftPaise", "Left", Format::Money),
                ],
            );
            data.push(vec![
                json!(e.limit_paise),
                json!(e.used_paise),
                json!(e.left_paise),
            ]);
            answered(text, data, None)
        }
        TaxAsk::LongTermLots => {
            let Some(harvest) = &facts.harvest else {
                return super::reply::fallback("I couldn't read your lots just now.");
            };
            let long: Vec<_> = harvest.lots.iter().filter(|l| l.long_term).collect();
            let mut data = Data::new(
                DataKind::Table,
                &[
                    ("symbol", "Symbol", Format::Text),
                    ("quantity", "Quantity", Format::Number),
                    ("acquiredOn", "Acquired", Format::Text),
                    ("unrealizedPaise", "Unrealized", Format::Money),
                ],
            );
            for lot in &long {
                data.push(vec![
                    json!(lot.symbol),
                    json!(lot.quantity),
                    json!(lot.acquired_on),
                    json!(lot.unrealized_paise),
                ]);
            }
            let soon = harvest
                .lots
                .iter()
                .filter(|l| !l.long_term)
                .min_by_key(|l| l.long_term_from);
            let mut text = if long.is_empty() {
                "None of your lots is long-term yet (held more than 12 months).".to_string()
            } else {
                // Only figures the lots table shows: how many of them are
                // long-term is the table's length.
                let mut text = format!(
                    "Of your {} lots, these are long-term (held more than 12 months): ",
                    harvest.total
                );
                let named: Vec<String> = long
                    .iter()
                    .take(8)
                    .map(|l| format!("**{}** {} from {}", l.symbol, l.quantity, l.acquired_on))
                    .collect();
                text.push_str(&named.join(", "));
                if long.len() > 8 {
                    text.push_str(" and the others in the table");
                }
                text.push('.');
                text
            };
            if let Some(next) = soon {
                text.push_str(&format!(
                    " Next to turn long-term: {} {} on {}.",
                    next.symbol, next.quantity, next.long_term_from
                ));
            }
            answered(text, data, None)
        }
    }
}

fn label(category: &str) -> &str {
    match category {
        "equity_stcg" => "Short-term, shares (s.111A)",
        "equity_ltcg" => "Long-term, shares (s.112A)",
        "other_ltcg" => "Long-term, other funds (s.112)",
        other => other,
    }
}

fn period(period: &str) -> &str {
    if period == "before_2024_07_23" {
        "before 23 Jul 2024"
    } else {
        "from 23 Jul 2024"
    }
}
