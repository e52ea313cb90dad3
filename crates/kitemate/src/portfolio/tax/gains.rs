//! A financial year's capital gains worked out from the user's FIFO books:
//! each matched piece classified, summed per category and rate period,
//! losses set off (s.70), the s.112A exemption used, and the tax at the
//! listed rates.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::super::calc::positions::Security;
use super::super::computed::Computed;
use super::super::model::{Paise, Percent, Quantity, Unmatched};
use super::model::{CapitalGains, CategoryTotal, Exemption, GainLine, SetOff, TaxDue};
use super::rules::{Asset, Category, Period, Treatment, asset, exemption, treat};

/// What every report of gains says of itself.
pub const NOTICE: &str = "Information, not tax advice. Tax is worked out at the listed rates of \
s.111A, s.112A and s.112, before surcharge and the 4% health and education cess, and before brokerage \
and other charges (a tradebook does not carry them; they are deductible from the gain, STT is \
not). Intraday (speculative) and other slab-rate income is listed but not taxed here. Losses are \
set off where they save the most tax, as s.70 allows.";

/// The first and last day of `fy` (`2024-25`), or `None` when malformed.
pub fn fy_days(fy: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (start, end) = fy.split_once('-')?;
    let (start, end): (i32, i32) = (start.parse().ok()?, end.parse().ok()?);
    if start.to_string().len() != 4 || !(0..100).contains(&end) || (start + 1) % 100 != end {
        return None;
    }
    Some((
        NaiveDate::from_ymd_opt(start, 4, 1)?,
        NaiveDate::from_ymd_opt(start + 1, 3, 31)?,
    ))
}

fn quantity(q: Decimal) -> Quantity {
    Quantity::rounded(q).unwrap_or(Quantity::ZERO)
}

/// One piece of a sale and how it is taxed.
#[derive(Debug)]
pub struct Piece<'s> {
    pub security: &'s Security,
    pub asset: Asset,
    pub realized: &'s super::super::calc::fifo::Realized,
    pub treatment: Treatment,
}

impl Piece<'_> {
    pub fn proceeds(&self) -> Decimal {
        self.realized.quantity * self.realized.sell_price
    }

    pub fn gain(&self) -> Decimal {
        self.proceeds() - self.treatment.cost
    }

    pub fn line(&self) -> GainLine {
        let r = self.realized;
        let t = &self.treatment;
        GainLine {
            symbol: self.security.symbol.clone(),
            isin: self.security.isin.clone(),
            quantity: quantity(r.quantity),
            acquired_on: r.bought_on,
            sold_on: r.sold_on,
            holding_days: r.holding_days,
            term: r.term,
            via: r.via.as_str().into(),
            asset: self.asset.as_str().into(),
            cost_paise: Paise::from_rupees(r.quantity * r.buy_price),
            fmv_per_share: r.fmv.map(|f| f.round_dp(4).normalize()),
            cost_basis_paise: Paise::from_rupees(t.cost),
            proceeds_paise: Paise::from_rupees(self.proceeds()),
            gain_paise: Paise::from_rupees(self.gain()),
            category: t.category.as_str().into(),
            section: t.category.section().into(),
            rate_percent: t.rate.map(Percent::exact),
            period: t.period.as_str().into(),
            grandfathered: t.grandfathered,
            check_with_ca: t.check_with_ca,
            rule: t.rule.clone(),
        }
    }
}

/// Every piece of every sale in `from..=to`, in sale order.
pub fn pieces(securities: &Computed, from: NaiveDate, to: NaiveDate) -> Vec<Piece<'_>> {
    let sales = &securities.sales().all;
    // Sales are oldest first: the year is one run of them.
    let start = sales.partition_point(|s| s.sold_on < from);
    let end = sales.partition_point(|s| s.sold_on <= to);
    let mut kinds: Vec<Option<Asset>> = vec![None; securities.len()];
    sales[start..end]
        .iter()
        .map(|s| {
            let security = &securities[s.security as usize];
            let kind = *kinds[s.security as usize]
                .get_or_insert_with(|| asset(&security.isin, &security.symbol));
            let realized = &security.book.realized[s.piece as usize];
            Piece {
                security,
                asset: kind,
                realized,
                treatment: treat(kind, realized),
            }
        })
        .collect()
}

/// Sums of one category and period.
#[derive(Default, Clone)]
struct Sum {
    gains: Decimal,
    losses: Decimal,
    proceeds: Decimal,
    lines: usize,
    rate: Option<Decimal>,
}

/// Sets `pool` off against `nets` (rate, category, net): the highest rate
/// first, and at one rate gains the s.112A exemption would not cover
/// before those it would. What was used.
fn set_off(pool: &mut Decimal, nets: &mut [(Decimal, Category, &mut Decimal)]) -> Decimal {
    nets.sort_by_key(|(rate, category, _)| {
        std::cmp::Reverse((*rate, *category != Category::EquityLongTerm))
    });
    let mut used = Decimal::ZERO;
    for (_, _, net) in nets.iter_mut() {
        let take = (*pool).min(**net).max(Decimal::ZERO);
        **net -= take;
        *pool -= take;
        used += take;
    }
    used
}

/// The capital gains of `fy` from `securities`: one page of lines
/// (`offset`, `limit`), and the year's totals, set-off, exemption and tax.
pub fn capital_gains(
    securities: &Computed,
    fy: &str,
    (from, to): (NaiveDate, NaiveDate),
    offset: usize,
    limit: usize,
) -> CapitalGains {
    let pieces = pieces(securities, from, to);
    let mut sums: BTreeMap<(Category, Period), Sum> = BTreeMap::new();
    let mut realized = Decimal::ZERO;
    let mut speculative = Decimal::ZERO;
    let mut check_with_ca = 0;
    for piece in &pieces {
        let t = &piece.treatment;
        let gain = piece.gain();
        realized += piece.realized.pnl;
        if t.category == Category::Speculative {
            speculative += gain;
        }
        if t.check_with_ca {
            check_with_ca += 1;
        }
        let sum = sums.entry((t.category, t.period)).or_default();
        if gain.is_sign_negative() {
            sum.losses -= gain;
        } else {
            sum.gains += gain;
        }
        sum.proceeds += piece.proceeds();
        sum.lines += 1;
        sum.rate = sum.rate.or(t.rate);
    }
    // Net equity gains per rate, then losses set off, then the exemption.
    let net = |category, period| {
        sums.get(&(category, period))
            .map_or(Decimal::ZERO, |s| s.gains - s.losses)
    };
    let rate = |category, period| {
        sums.get(&(category, period))
            .and_then(|s| s.rate)
            .unwrap_or_default()
    };
    // Each bucket of gains: (rate, net, period, category). Long-term gains
    // on other assets at a listed rate (s.112) take losses too, but not the
    // s.112A exemption.
    type Bucket = (Decimal, Decimal, Period, Category);
    let bucket = |category, period| {
        (
            rate(category, period),
            net(category, period),
            period,
            category,
        )
    };
    let periods = [Period::Before, Period::From];
    let mut st: Vec<Bucket> = periods
        .iter()
        .map(|&p| bucket(Category::EquityShortTerm, p))
        .collect();
    let mut lt: Vec<Bucket> = periods
        .iter()
        .map(|&p| bucket(Category::EquityLongTerm, p))
        .chain(periods.iter().map(|&p| bucket(Category::OtherLongTerm, p)))
        .collect();
    // A short-term loss on other assets (a debt fund's, at the slab rate)
    // sets off these gains too; slab-rate gains are not set off against
    // here, their rate being the investor's.
    let mut st_pool: Decimal = periods
        .iter()
        .map(|&p| net(Category::OtherShortTerm, p))
        .filter(|n| n.is_sign_negative())
        .map(|n| -n)
        .sum();
    for (_, n, _, _) in st.iter_mut() {
        if n.is_sign_negative() {
            st_pool -= *n;
            *n = Decimal::ZERO;
        }
    }
    let mut lt_pool = Decimal::ZERO;
    for (_, n, _, _) in lt.iter_mut() {
        if n.is_sign_negative() {
            lt_pool -= *n;
            *n = Decimal::ZERO;
        }
    }
    // Long-term losses go against long-term gains only (s.70(3)); short-term
    // losses against short-term gains, then long-term (s.70(2)).
    let lt_used = set_off(
        &mut lt_pool,
        &mut lt
            .iter_mut()
            .map(|(r, n, _, c)| (*r, *c, n))
            .collect::<Vec<_>>(),
    );
    let mut st_used = set_off(
        &mut st_pool,
        &mut st
            .iter_mut()
            .map(|(r, n, _, c)| (*r, *c, n))
            .collect::<Vec<_>>(),
    );
    st_used += set_off(
        &mut st_pool,
        &mut lt
            .iter_mut()
            .map(|(r, n, _, c)| (*r, *c, n))
            .collect::<Vec<_>>(),
    );
    let start_year = from.format("%Y").to_string().parse().unwrap_or(2000);
    let limit_exempt = exemption(start_year);
    let mut exempt_left = limit_exempt;
    let mut exempt: Vec<(Period, Decimal)> = Vec::new();
    let mut by_rate: Vec<&Bucket> = lt
        .iter()
        .filter(|b| b.3 == Category::EquityLongTerm)
        .collect();
    by_rate.sort_by_key(|b| std::cmp::Reverse(b.0));
    for (_, n, p, _) in by_rate {
        let take = exempt_left.min(*n);
        exempt_left -= take;
        exempt.push((*p, take));
    }
    let exempted = |p: Period| {
        exempt
            .iter()
            .find(|(q, _)| *q == p)
            .map_or(Decimal::ZERO, |(_, e)| *e)
    };
    let mut tax = Vec::new();
    let mut tax_total = Decimal::ZERO;
    for (rate, n, p, category) in st.iter().chain(lt.iter()) {
        if !sums.contains_key(&(*category, *p)) {
            continue;
        }
        let taxable = if *category == Category::EquityLongTerm {
            *n - exempted(*p)
        } else {
            *n
        };
        let due = taxable * *rate / Decimal::ONE_HUNDRED;
        tax_total += due;
        tax.push(TaxDue {
            category: category.as_str().into(),
            period: p.as_str().into(),
            rate_percent: Percent::exact(*rate),
            taxable_paise: Paise::from_rupees(taxable),
            tax_paise: Paise::from_rupees(due),
        });
    }
    let used = limit_exempt - exempt_left;
    let totals = sums
        .iter()
        .map(|((category, period), s)| CategoryTotal {
            category: category.as_str().into(),
            section: category.section().into(),
            period: period.as_str().into(),
            rate_percent: s.rate.map(Percent::exact),
            gains_paise: Paise::from_rupees(s.gains),
            losses_paise: Paise::from_rupees(s.losses),
            net_paise: Paise::from_rupees(s.gains - s.losses),
            proceeds_paise: Paise::from_rupees(s.proceeds),
            lines: s.lines,
        })
        .collect();
    let unmatched = securities
        .iter()
        .filter_map(|s| {
            let sold: Decimal = s
                .book
                .unmatched_sales
                .iter()
                .filter(|(day, _)| (from..=to).contains(day))
                .map(|(_, q)| *q)
                .sum();
            (sold > Decimal::ZERO).then(|| Unmatched {
                symbol: s.symbol.clone(),
                isin: s.isin.clone(),
                quantity: quantity(sold),
            })
        })
        .collect();
    CapitalGains {
        fy: fy.to_string(),
        notice: NOTICE.into(),
        lines: pieces
            .iter()
            .skip(offset)
            .take(limit)
            .map(Piece::line)
            .collect(),
        total: pieces.len(),
        offset,
        limit,
        totals,
        set_off: SetOff {
            short_term_losses_used_paise: Paise::from_rupees(st_used),
            long_term_losses_used_paise: Paise::from_rupees(lt_used),
            short_term_carried_paise: Paise::from_rupees(st_pool),
            long_term_carried_paise: Paise::from_rupees(lt_pool),
        },
        exemption: Exemption {
            limit_paise: Paise::from_rupees(limit_exempt),
            used_paise: Paise::from_rupees(used),
            left_paise: Paise::from_rupees(exempt_left),
        },
        tax,
        tax_paise: Paise::from_rupees(tax_total),
        realized_paise: Paise::from_rupees(realized),
        speculative_net_paise: Paise::from_rupees(speculative),
        check_with_ca,
        unmatched,
    }
}
