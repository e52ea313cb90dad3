//! Tax-loss and exemption harvesting for the current financial year:
//! every open lot valued now, and which sales (of the oldest shares
//! first, as FIFO sells them) would book long-term gains within the
//! s.112A exemption left, or losses against the year's short-term gains.
//! Information, not advice.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

use super::super::calc::fifo::{Lot, Term, term};
use super::super::calc::positions::Security;
use super::super::computed::Computed;
use super::super::model::{Paise, Quantity};
use super::model::{CapitalGains, Exemption, Harvest, HarvestIdea, OpenLot};
use super::rules::{Asset, Category, GRANDFATHERED_BEFORE, asset, treat};

pub const NOTICE: &str = "Information, not advice: what selling would book at today's prices \
under FIFO (a sale takes the oldest shares first). Prices move, charges apply, and your other \
income and losses change the tax; decide with your CA.";

/// Ideas listed at most per kind.
const IDEAS: usize = 20;

/// What a lot would count as cost if sold at `price` per share today.
fn basis(lot: &Lot, price: Decimal) -> Decimal {
    let cost = lot.quantity * lot.price;
    match lot.fmv {
        Some(fmv) if lot.bought_on < GRANDFATHERED_BEFORE => {
            cost.max((lot.quantity * fmv).min(lot.quantity * price))
        }
        _ => cost,
    }
}

fn quantity(q: Decimal) -> Quantity {
    Quantity::rounded(q).unwrap_or(Quantity::ZERO)
}

/// The oldest `n` shares' worth of `lots`: (shares, gain, long-term part,
/// short-term part) when sold at `price` on `today`, taking shares while
/// `keep(cumulative gain, gain per share of the next)` says how many more.
fn walk(
    lots: &[Lot],
    price: Decimal,
    today: NaiveDate,
    mut more: impl FnMut(Decimal, &Lot, Decimal, Term) -> Decimal,
) -> (Decimal, Decimal, Decimal, Decimal) {
    let (mut shares, mut gain) = (Decimal::ZERO, Decimal::ZERO);
    let (mut long, mut short) = (Decimal::ZERO, Decimal::ZERO);
    for lot in lots {
        let per_share = (lot.quantity * price - basis(lot, price)) / lot.quantity;
        let lot_term = term(lot.bought_on, today);
        let take = more(gain, lot, per_share, lot_term)
            .min(lot.quantity)
            .max(Decimal::ZERO);
        if take.is_zero() {
            break;
        }
        let g = take * per_share;
        shares += take;
        gain += g;
        match lot_term {
            Term::LongTerm => long += g,
            Term::ShortTerm => short += g,
        }
        if take < lot.quantity {
            break;
        }
    }
    (shares, gain, long, short)
}

/// Whether selling `lot` today would be long-term, by the rules of its kind
/// of security (a debt fund's units bought since April 2023 never are).
fn long_term_today(kind: Asset, lot: &Lot, price: Option<Decimal>, today: NaiveDate) -> bool {
    let piece = super::super::calc::fifo::Realized {
        sold_on: today,
        bought_on: lot.bought_on,
        quantity: lot.quantity,
        buy_price: lot.price,
        sell_price: price.unwrap_or(lot.price),
        pnl: Decimal::ZERO,
        holding_days: (today - lot.bought_on).num_days(),
        term: term(lot.bought_on, today),
        intraday: false,
        fmv: lot.fmv,
        via: lot.via,
    };
    matches!(
        treat(kind, &piece).category,
        Category::EquityLongTerm | Category::EquityLongTermExempt | Category::OtherLongTerm
    )
}

/// The harvest report of `today` from `securities` and this year's `gains`.
pub fn harvest(
    securities: &Computed,
    gains: &CapitalGains,
    today: NaiveDate,
    offset: usize,
    limit: usize,
) -> Harvest {
    let mut held: Vec<(&Security, Asset)> = securities
        .iter()
        .filter(|s| !s.book.open.is_empty())
        .map(|s| (s, asset(&s.isin, &s.symbol)))
        .collect();
    held.sort_by(|a, b| a.0.symbol.cmp(&b.0.symbol));
    let total: usize = held.iter().map(|(s, _)| s.book.open.len()).sum();
    let lots: Vec<OpenLot> = held
        .iter()
        .flat_map(|(s, kind)| s.book.open.iter().map(move |lot| (s, kind, lot)))
        .skip(offset)
        .take(limit)
        .map(|(s, kind, lot)| {
            let value = s.last_price.map(|p| p * lot.quantity);
            let basis = s
                .last_price
                .map_or(lot.quantity * lot.price, |p| basis(lot, p));
            OpenLot {
                symbol: s.symbol.clone(),
                isin: s.isin.clone(),
                quantity: quantity(lot.quantity),
                acquired_on: lot.bought_on,
                via: lot.via.as_str().into(),
                asset: kind.as_str().into(),
                cost_paise: Paise::from_rupees(lot.quantity * lot.price),
                cost_basis_paise: Paise::from_rupees(basis),
                value_paise: value.map(Paise::from_rupees),
                unrealized_paise: value.map(|v| Paise::from_rupees(v - basis)),
                long_term: long_term_today(*kind, lot, s.last_price, today),
                long_term_from: lot
                    .bought_on
                    .checked_add_months(Months::new(12))
                    .and_then(|d| d.succ_opt())
                    .unwrap_or(lot.bought_on),
            }
        })
        .collect();
    let equity: Vec<(&Security, Decimal, Vec<Lot>)> = held
        .iter()
        .filter(|(_, kind)| kind.is_equity())
        .filter_map(|(s, _)| Some((*s, s.last_price?, s.book.open.iter().cloned().collect())))
        .collect();
    // Long-term gains that fit the exemption left, and this year's losses
    // not yet set off (they would absorb new gains first), largest first.
    let mut left = gains.exemption.left_paise.rupees()
        + gains.set_off.short_term_carried_paise.rupees()
        + gains.set_off.long_term_carried_paise.rupees();
    let mut ranked: Vec<(&Security, Decimal, &Vec<Lot>, Decimal)> = equity
        .iter()
        .map(|(s, price, lots)| {
            let (_, gain, _, _) = walk(lots, *price, today, |_, lot, per_share, t| {
                if t == Term::LongTerm && per_share > Decimal::ZERO {
                    lot.quantity
                } else {
                    Decimal::ZERO
                }
            });
            (*s, *price, lots, gain)
        })
        .filter(|(_, _, _, gain)| *gain > Decimal::ZERO)
        .collect();
    ranked.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.symbol.cmp(&b.0.symbol)));
    let mut within = Vec::new();
    for (s, price, lots, _) in ranked {
        if within.len() == IDEAS || left <= Decimal::ZERO {
            break;
        }
        let room = left;
        let (shares, gain, long, short) = walk(lots, price, today, |so_far, lot, per_share, t| {
            if t != Term::LongTerm || per_share <= Decimal::ZERO {
                return Decimal::ZERO;
            }
            ((room - so_far) / per_share).floor().min(lot.quantity)
        });
        if shares.is_zero() {
            continue;
        }
        left -= gain;
        within.push(HarvestIdea {
            symbol: s.symbol.clone(),
            isin: s.isin.clone(),
            quantity: quantity(shares),
            gain_paise: Paise::from_rupees(gain),
            long_term_paise: Paise::from_rupees(long),
            short_term_paise: Paise::from_rupees(short),
            why: "long-term gain within this year's s.112A exemption: no tax on it".into(),
        });
    }
    // Losses against the year's short-term gains, largest first.
    let short_booked: Decimal = gains
        .tax
        .iter()
        .filter(|t| t.category == "equity_stcg")
        .map(|t| t.taxable_paise.rupees())
        .sum();
    let mut losses = Vec::new();
    if short_booked > Decimal::ZERO {
        let mut found: Vec<HarvestIdea> = equity
            .iter()
            .filter_map(|(s, price, lots)| {
                // The prefix of lots whose sale books the largest short-term
                // loss: a long-term loss cannot set off a short-term gain.
                let (mut best, mut best_shares, mut at) =
                    (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
                let mut cumulative = Decimal::ZERO;
                for lot in lots {
                    if term(lot.bought_on, today) == Term::ShortTerm {
                        cumulative += lot.quantity * *price - basis(lot, *price);
                    }
                    at += lot.quantity;
                    if cumulative < best {
                        (best, best_shares) = (cumulative, at);
                    }
                }
                if best_shares.is_zero() {
                    return None;
                }
                let mut taken = Decimal::ZERO;
                let (_, gain, long, short) = walk(lots, *price, today, |_, lot, _, _| {
                    let take = (best_shares - taken).min(lot.quantity);
                    taken += take;
                    take
                });
                if short >= Decimal::ZERO {
                    return None;
                }
                Some(HarvestIdea {
                    symbol: s.symbol.clone(),
                    isin: s.isin.clone(),
                    quantity: quantity(best_shares),
                    gain_paise: Paise::from_rupees(gain),
                    long_term_paise: Paise::from_rupees(long),
                    short_term_paise: Paise::from_rupees(short),
                    why: "a loss to set off this year's short-term gains (s.70); a long-term loss \
                          sets off long-term gains only"
                        .into(),
                })
            })
            .collect();
        found.sort_by(|a, b| {
            a.short_term_paise
                .cmp(&b.short_term_paise)
                .then(a.symbol.cmp(&b.symbol))
        });
        let mut covered = Decimal::ZERO;
        for idea in found {
            if losses.len() == IDEAS || covered >= short_booked {
                break;
            }
            covered -= idea.short_term_paise.rupees();
            losses.push(idea);
        }
    }
    Harvest {
        fy: gains.fy.clone(),
        as_of: today,
        notice: NOTICE.into(),
        exemption: Exemption {
            limit_paise: gains.exemption.limit_paise,
            used_paise: gains.exemption.used_paise,
            left_paise: gains.exemption.left_paise,
        },
        short_term_booked_paise: Paise::from_rupees(short_booked),
        lots,
        total,
        offset,
        limit,
        within_exemption: within,
        losses_against_short_term: losses,
    }
}
