//! Exports a chartered accountant can use: Schedule 112A's lines (one per
//! sale matched to a lot, with the 31 January 2018 value for grandfathered
//! lots) and a summary in Schedule CG's order.

use rust_decimal::Decimal;

use super::gains::Piece;
use super::model::CapitalGains;
use super::rules::{Category, GRANDFATHERED_BEFORE, Period};

/// A cell that a spreadsheet will not take for a formula (OWASP's CSV
/// injection advice): text starting `=`, `+`, `-`, `@` gets a quote first.
fn cell(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if safe.contains([',', '"', '\n']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

fn rupees(value: Decimal) -> String {
    format!("{:.2}", value.round_dp(2))
}

/// One scrip's long-term sales of a rate period, acquired on one side of
/// 1 February 2018, summed as Schedule 112A reports them.
#[derive(Default)]
struct Scrip {
    symbol: String,
    shares: Decimal,
    proceeds: Decimal,
    cost: Decimal,
    basis: Decimal,
    lower: Decimal,
    fmv_total: Decimal,
    /// The 31 January 2018 value per share, while every lot agrees on it.
    fmv: Option<Decimal>,
    mixed_fmv: bool,
}

/// Schedule 112A, scrip-wise as the return asks: the year's long-term
/// sales of equity (s.112A) summed per ISIN, rate period, and whether the
/// shares were acquired on or before 31 January 2018; amounts in rupees.
/// As many lines as scrips, however many sales.
pub fn schedule_112a(pieces: &[Piece<'_>]) -> String {
    let mut out = String::from(
        "Transferred,Share/Unit acquired,ISIN Code,Name of the Share/Unit,No. of Shares/Units,\
         Sale-price per Share/Unit,Full Value of Consideration,Cost of acquisition without indexation,\
         Cost of acquisition,Lower of Full Value of Consideration and Total Fair Market Value,\
         Fair Market Value per share/unit as on 31st January 2018,\
         Total Fair Market Value as per section 55(2)(ac),Expenditure in connection with transfer,\
         Total deductions,Balance\n",
    );
    // Shares acquired before 1 February 2018 are a line per lot sold: the
    // schedule's cost is max(cost, min(value, consideration)) on its line,
    // which a sum of lots would not keep. The rest are a line per scrip.
    let mut scrips: std::collections::BTreeMap<(Period, bool, &str, usize), Scrip> =
        Default::default();
    for (i, piece) in pieces.iter().enumerate() {
        if piece.treatment.category != Category::EquityLongTerm || piece.realized.quantity.is_zero()
        {
            continue;
        }
        let r = piece.realized;
        let before = r.bought_on < GRANDFATHERED_BEFORE;
        let proceeds = piece.proceeds();
        let fmv = r.fmv.filter(|_| before);
        let line = if before { i } else { usize::MAX };
        let scrip = scrips
            .entry((
                piece.treatment.period,
                !before,
                piece.security.isin.as_str(),
                line,
            ))
            .or_default();
        if scrip.shares.is_zero() {
            scrip.symbol.clone_from(&piece.security.symbol);
            scrip.fmv = fmv;
        } else if scrip.fmv != fmv {
            scrip.mixed_fmv = true;
        }
        scrip.shares += r.quantity;
        scrip.proceeds += proceeds;
        scrip.cost += r.quantity * r.buy_price;
        scrip.basis += piece.treatment.cost;
        if let Some(f) = fmv {
            scrip.fmv_total += f * r.quantity;
            scrip.lower += (f * r.quantity).min(proceeds);
        }
    }
    for ((period, after, isin, _), s) in &scrips {
        let grandfathered = !after && s.fmv_total > Decimal::ZERO;
        let fmv_per_share = if s.mixed_fmv {
            s.fmv_total / s.shares
        } else {
            s.fmv.unwrap_or_default()
        };
        let row = [
            match period {
                Period::Before => "Before 23 July 2024".to_string(),
                Period::From => "On or after 23 July 2024".to_string(),
            },
            if *after {
                "After 31st January 2018".into()
            } else {
                "On or before 31st January 2018".into()
            },
            cell(isin),
            cell(&s.symbol),
            s.shares.normalize().to_string(),
            rupees(s.proceeds / s.shares),
            rupees(s.proceeds),
            rupees(s.basis),
            rupees(s.cost),
            if grandfathered {
                rupees(s.lower)
            } else {
                String::new()
            },
            if grandfathered {
                rupees(fmv_per_share)
            } else {
                String::new()
            },
            if grandfathered {
                rupees(s.fmv_total)
            } else {
                String::new()
            },
            "0.00".into(),
            rupees(s.basis),
            rupees(s.proceeds - s.basis),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Schedule CG's summary, in its order: short-term (s.111A, others), long-term
/// (s.112A, others), set-off, the exemption, and tax at the listed rates.
pub fn schedule_cg(gains: &CapitalGains) -> String {
    let mut out = String::from("Row,Description,Amount (Rs)\n");
    let net = |category: &str, period: Option<&str>| -> Decimal {
        gains
            .totals
            .iter()
            .filter(|t| t.category == category && period.is_none_or(|p| t.period == p))
            .map(|t| t.net_paise.rupees())
            .sum()
    };
    let mut row = |id: &str, text: &str, amount: Decimal| {
        out.push_str(&format!("{id},{},{}\n", cell(text), rupees(amount)));
    };
    let (before, from) = (Some(Period::Before.as_str()), Some(Period::From.as_str()));
    row(
        "A2a",
        "Short-term gain on equity where STT paid, s.111A, transferred before 23 July 2024 (15%)",
        net("equity_stcg", before),
    );
    row(
        "A2b",
        "Short-term gain on equity where STT paid, s.111A, transferred on or after 23 July 2024 (20%)",
        net("equity_stcg", from),
    );
    row(
        "A5",
        "Short-term gain on other assets, at slab rates",
        net("other_stcg", None),
    );
    row(
        "B4a",
        "Long-term gain on equity, s.112A (Schedule 112A), transferred before 23 July 2024 (10%)",
        net("equity_ltcg", before),
    );
    row(
        "B4b",
        "Long-term gain on equity, s.112A (Schedule 112A), transferred on or after 23 July 2024 (12.5%)",
        net("equity_ltcg", from),
    );
    row(
        "B8",
        "Long-term gain on other assets, s.112 (12.5% without indexation)",
        net("other_ltcg", None),
    );
    row(
        "B-exempt",
        "Long-term gain on equity exempt under s.10(38) (sold before 1 April 2018)",
        net("equity_ltcg_exempt", None),
    );
    row(
        "CYLA-ST",
        "Short-term losses set off this year (s.70)",
        gains.set_off.short_term_losses_used_paise.rupees(),
    );
    row(
        "CYLA-LT",
        "Long-term losses set off this year (s.70)",
        gains.set_off.long_term_losses_used_paise.rupees(),
    );
    row(
        "CFL-ST",
        "Short-term loss to carry forward (s.74)",
        gains.set_off.short_term_carried_paise.rupees(),
    );
    row(
        "CFL-LT",
        "Long-term loss to carry forward (s.74)",
        gains.set_off.long_term_carried_paise.rupees(),
    );
    row(
        "112A-exempt",
        "Exemption under s.112A used",
        gains.exemption.used_paise.rupees(),
    );
    for due in &gains.tax {
        row(
            &format!("TAX-{}-{}", due.category, due.period),
            &format!(
                "Tax at {}% on {} ({}), before surcharge and cess",
                due.rate_percent, due.category, due.period
            ),
            due.tax_paise.rupees(),
        );
    }
    row(
        "TAX",
        "Tax at the listed rates (s.111A, s.112A, s.112), before surcharge and 4% cess",
        gains.tax_paise.rupees(),
    );
    row(
        "CHECK",
        "Other capital gains whose treatment needs your CA (see the lines)",
        net("check_with_ca", None),
    );
    row(
        "SPECULATIVE",
        "Not capital gains: intraday net, speculative business income (s.43(5))",
        gains.speculative_net_paise.rupees(),
    );
    out
}
