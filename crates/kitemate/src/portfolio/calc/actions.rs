//! Corporate actions applied to a user's lots before FIFO: splits and
//! consolidations, bonuses, mergers, demergers, ISIN and symbol changes.
//! Every security an action links is replayed together, day by day, with
//! the actions of a day applied before its trades (it is their ex-date).
//! The rules (cost and date carried, bonus at nil cost) are in `docs/tax.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::fifo::{Book, Fill, Lot, Via, by_day};

/// The last day whose prices grandfather a lot (s.55(2)(ac)).
pub const GRANDFATHERED_ON: NaiveDate = match NaiveDate::from_ymd_opt(2018, 1, 31) {
    Some(day) => day,
    None => panic!("a real date"),
};

/// What happened to a security on its ex-date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Every `old` shares became `new` (a split when new > old). Cost and
    /// acquisition date carry over; `into` when the ISIN changed with it.
    Split {
        new: Decimal,
        old: Decimal,
        into: Option<String>,
    },
    /// `new` bonus shares for every `held`, allotted on `allotted`.
    Bonus {
        new: Decimal,
        held: Decimal,
        allotted: NaiveDate,
    },
    /// Amalgamated into `into`: `new` of its shares for every `old` held.
    Merger {
        into: String,
        new: Decimal,
        old: Decimal,
    },
    /// `new` shares of `into` for every `held`, carrying `cost_share` (a
    /// fraction) of the parent's cost; the parent keeps the rest.
    Demerger {
        into: String,
        new: Decimal,
        held: Decimal,
        cost_share: Decimal,
    },
    /// The ISIN (and perhaps the symbol) changed; nothing else did.
    Renamed { into: String },
}

/// One corporate action on one security, as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The security's key: its ISIN (or `symbol:X` for a file without ISINs).
    pub key: String,
    pub on: NaiveDate,
    pub change: Change,
    /// The symbol of `into`, for a security the user never traded.
    pub into_symbol: Option<String>,
}

impl Action {
    /// The security the action moves shares into, if any.
    pub fn target(&self) -> Option<&str> {
        match &self.change {
            Change::Split { into, .. } => into.as_deref(),
            Change::Merger { into, .. }
            | Change::Demerger { into, .. }
            | Change::Renamed { into } => Some(into),
            Change::Bonus { .. } => None,
        }
    }
}

/// The corporate actions and 31 January 2018 values that may touch a
/// user's securities, as the market data and the user's declarations hold them.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Keyed by ISIN, or by `symbol:X` where the source named no ISIN.
    pub actions: Vec<Action>,
    /// Fair market value per share on 31 January 2018, by ISIN.
    pub fmv: HashMap<String, Decimal>,
}

impl Known {
    /// The actions that apply to the securities `symbols` names (key →
    /// symbol) or to those actions move shares into, keyed as the user's
    /// securities are. A split NSE announced without the new ISIN moves
    /// the shares to the user's other ISIN of that symbol, when that one
    /// was first traded on or after the ex-date and the old one last
    /// traded before it (the exchange re-lists a split share under a new ISIN).
    pub fn for_keys(
        &self,
        symbols: &BTreeMap<String, String>,
        spans: &HashMap<String, (NaiveDate, NaiveDate)>,
    ) -> Vec<Action> {
        let mut by_symbol: HashMap<&str, Vec<&str>> = HashMap::new();
        for (key, symbol) in symbols {
            by_symbol
                .entry(symbol.as_str())
                .or_default()
                .push(key.as_str());
        }
        // A symbol-named action is the one of the user's securities of that
        // symbol held before the ex-date (another may be its new ISIN).
        let resolve = |key: &str, on: NaiveDate| -> Option<String> {
            if symbols.contains_key(key) {
                return Some(key.to_string());
            }
            let keys = by_symbol.get(key.strip_prefix("symbol:")?)?;
            let first = |k: &&str| spans.get(*k).map(|(first, _)| *first);
            keys.iter()
                .filter(|k| first(k).is_some_and(|f| f < on))
                .min_by_key(|k| first(k))
                .or(keys.first())
                .map(|k| (*k).to_string())
        };
        let mut reached: BTreeSet<String> = symbols.keys().cloned().collect();
        let mut out: Vec<Action> = Vec::new();
        let mut taken = vec![false; self.actions.len()];
        // One action per security, kind and day: a declaration or the
        // curated table wins over a file's copy of the same action.
        let mut applied: BTreeSet<(String, String, NaiveDate)> = BTreeSet::new();
        // Chains (a merger, then a split of the merged company) take a few rounds.
        for _ in 0..4 {
            let mut grew = false;
            for (i, action) in self.actions.iter().enumerate() {
                if taken[i] {
                    continue;
                }
                let key = if reached.contains(&action.key) {
                    Some(action.key.clone())
                } else {
                    resolve(&action.key, action.on)
                };
                let Some(key) = key else { continue };
                let mut action = Action {
                    key: key.clone(),
                    ..action.clone()
                };
                if let Change::Split {
                    into: into @ None, ..
                } = &mut action.change
                {
                    let symbol = symbols.get(&key);
                    *into = symbols
                        .iter()
                        .filter(|(other, s)| *other != &key && Some(*s) == symbol)
                        .find(|(other, _)| {
                            let before = spans.get(&key).is_none_or(|(_, last)| *last < action.on);
                            let after = spans
                                .get(*other)
                                .is_some_and(|(first, _)| *first >= action.on);
                            before && after
                        })
                        .map(|(other, _)| other.clone());
                }
                taken[i] = true;
                let kind = format!(
                    "{:?} {}",
                    std::mem::discriminant(&action.change),
                    action.target().unwrap_or("")
                );
                if !applied.insert((action.key.clone(), kind, action.on)) {
                    continue;
                }
                if let Some(into) = action.target() {
                    grew |= reached.insert(into.to_string());
                }
                out.push(action);
            }
            if !grew {
                break;
            }
        }
        // Stable: on one day, actions stay in the order they were known.
        out.sort_by_key(|a| a.on);
        out
    }
}

/// Whole shares only: fractional entitlements are paid in cash by the
/// company, so the fraction leaves from the newest lot. Division leaves
/// residues (three thirds are 0.999…), so the total is first taken to four
/// places: three lots of a third are one share, not none.
fn whole_shares(lots: &mut [Lot]) {
    let total: Decimal = lots.iter().map(|l| l.quantity).sum();
    let mut diff = total.round_dp(4).floor() - total;
    if diff > Decimal::ZERO {
        if let Some(last) = lots.last_mut() {
            last.quantity += diff;
        }
        return;
    }
    for lot in lots.iter_mut().rev() {
        let cut = (-diff).min(lot.quantity);
        lot.quantity -= cut;
        diff += cut;
        if diff.is_zero() {
            break;
        }
    }
}

/// Scales `lots` by `new / old` shares, keeping each lot's total cost;
/// `false` (and nothing changed) where the numbers would overflow.
fn scale(lots: &mut [Lot], new: Decimal, old: Decimal) -> bool {
    let scaled: Option<Vec<(Decimal, Decimal, Option<Decimal>)>> = lots
        .iter()
        .map(|l| {
            let quantity = l.quantity.checked_mul(new)?.checked_div(old)?;
            let price = l.price.checked_mul(old)?.checked_div(new)?;
            let fmv = match l.fmv {
                Some(f) => Some(f.checked_mul(old)?.checked_div(new)?),
                None => None,
            };
            Some((quantity, price, fmv))
        })
        .collect();
    let Some(scaled) = scaled else {
        return false;
    };
    for (lot, (quantity, price, fmv)) in lots.iter_mut().zip(scaled) {
        (lot.quantity, lot.price, lot.fmv) = (quantity, price, fmv);
    }
    if lots.iter().any(|l| !l.quantity.fract().is_zero()) {
        whole_shares(lots);
    }
    true
}

/// Applies `action` to the books.
fn apply(books: &mut HashMap<String, Book>, action: &Action) {
    let Some(book) = books.get_mut(&action.key) else {
        return;
    };
    match &action.change {
        Change::Split { new, old, into } => {
            let mut lots: Vec<Lot> = book.open.iter().cloned().collect();
            if !scale(&mut lots, *new, *old) {
                return;
            }
            book.open.clear();
            let target = into.as_deref().map_or(action.key.as_str(), |i| i);
            let to = books.entry(target.to_string()).or_default();
            for lot in lots {
                to.add(lot);
            }
        }
        Change::Bonus {
            new,
            held,
            allotted,
        } => {
            let owned: Decimal = book.open.iter().map(|l| l.quantity).sum();
            let Some(quantity) = owned.checked_mul(*new).and_then(|q| q.checked_div(*held)) else {
                return;
            };
            let quantity = quantity.round_dp(4).floor();
            if quantity > Decimal::ZERO {
                book.add(Lot {
                    bought_on: *allotted,
                    quantity,
                    price: Decimal::ZERO,
                    // Bonus shares held on 31 January 2018 were allotted by then.
                    fmv: None,
                    via: Via::Bonus,
                });
            }
        }
        Change::Merger { into, new, old } => {
            let mut lots: Vec<Lot> = book.open.iter().cloned().collect();
            if !scale(&mut lots, *new, *old) {
                return;
            }
            book.open.clear();
            let to = books.entry(into.clone()).or_default();
            for mut lot in lots {
                lot.via = Via::Merger;
                to.add(lot);
            }
        }
        Change::Demerger {
            into,
            new,
            held,
            cost_share,
        } => {
            let keep = Decimal::ONE - cost_share;
            let mut spun: Vec<Lot> = Vec::new();
            for lot in book.open.iter_mut() {
                let Some(quantity) = lot
                    .quantity
                    .checked_mul(*new)
                    .and_then(|q| q.checked_div(*held))
                else {
                    continue;
                };
                if quantity > Decimal::ZERO {
                    let cost = lot.quantity * lot.price * cost_share;
                    spun.push(Lot {
                        bought_on: lot.bought_on,
                        quantity,
                        price: cost / quantity,
                        fmv: lot.fmv.map(|f| f * lot.quantity * cost_share / quantity),
                        via: Via::Demerger,
                    });
                }
                lot.price *= keep;
                lot.fmv = lot.fmv.map(|f| f * keep);
            }
            if spun.iter().any(|l| !l.quantity.fract().is_zero()) {
                whole_shares(&mut spun);
            }
            let to = books.entry(into.clone()).or_default();
            for lot in spun.into_iter().filter(|l| l.quantity > Decimal::ZERO) {
                to.add(lot);
            }
        }
        Change::Renamed { into } => {
            let lots: Vec<Lot> = book.open.drain(..).collect();
            let to = books.entry(into.clone()).or_default();
            for lot in lots {
                to.add(lot);
            }
        }
    }
}

/// Gives every lot held at the close of 31 January 2018 its fair market
/// value that day, per share, where one is known.
fn grandfather(books: &mut HashMap<String, Book>, fmv: &HashMap<String, Decimal>) {
    for (key, book) in books.iter_mut() {
        let Some(value) = fmv.get(key) else { continue };
        for lot in book.open.iter_mut() {
            if lot.fmv.is_none() && lot.bought_on <= GRANDFATHERED_ON {
                lot.fmv = Some(*value);
            }
        }
    }
}

/// Replays every security's fills (each in the order they happened) with
/// `actions` and the grandfathering values `fmv`, into one book per key.
/// A security an action moves shares into gets a book even if never traded.
pub fn replay_all(
    fills: &HashMap<String, Vec<Fill>>,
    actions: &[Action],
    fmv: &HashMap<String, Decimal>,
) -> HashMap<String, Book> {
    // Days with something to do, in order; actions before trades on a day.
    let mut days: BTreeSet<NaiveDate> = actions.iter().map(|a| a.on).collect();
    let mut books: HashMap<String, Book> = HashMap::new();
    let mut todo: Vec<(&String, &[Fill])> = Vec::new();
    for (key, fills) in fills {
        books.insert(key.clone(), Book::default());
        if actions.is_empty() && fmv.is_empty() {
            // Nothing links securities: each replays on its own.
            if let Some(book) = books.get_mut(key) {
                by_day(fills, |day| book.day(day));
            }
        } else {
            todo.push((key, fills));
        }
    }
    if !todo.is_empty() {
        let mut by_date: BTreeMap<NaiveDate, Vec<(&String, &[Fill])>> = BTreeMap::new();
        for (key, fills) in todo {
            by_day(fills, |day| {
                days.insert(day[0].date);
                by_date.entry(day[0].date).or_default().push((key, day));
            });
        }
        let mut marked = false;
        let mut actions: Vec<&Action> = actions.iter().collect();
        actions.sort_by_key(|a| a.on);
        let mut next = 0;
        for day in days {
            if !marked && day > GRANDFATHERED_ON {
                grandfather(&mut books, fmv);
                marked = true;
            }
            while let Some(action) = actions.get(next).filter(|a| a.on <= day) {
                apply(&mut books, action);
                next += 1;
            }
            for (key, fills) in by_date.remove(&day).unwrap_or_default() {
                if let Some(book) = books.get_mut(key) {
                    book.day(fills);
                }
            }
        }
        if !marked {
            grandfather(&mut books, fmv);
        }
    }
    for book in books.values_mut() {
        book.settle();
    }
    books
}

/// A corporate action as market data or a declaration states it, in the
/// terms the replay applies; `None` when its terms are incomplete (a
/// merger without the company it went into).
pub fn from_corporate(a: &crate::market::CorporateAction) -> Option<Action> {
    use crate::market::ActionKind;
    let key = a
        .isin
        .clone()
        .unwrap_or_else(|| format!("symbol:{}", a.symbol));
    let (new, old) = (Decimal::from(a.ratio_new), Decimal::from(a.ratio_old));
    if new.is_zero() || old.is_zero() {
        return None;
    }
    let change = match a.kind {
        ActionKind::Split | ActionKind::Consolidation => Change::Split {
            new,
            old,
            into: a.into_isin.clone(),
        },
        ActionKind::Bonus => Change::Bonus {
            new,
            held: old,
            allotted: a.allotted_on.unwrap_or(a.ex_date),
        },
        ActionKind::Merger => Change::Merger {
            into: a.into_isin.clone()?,
            new,
            old,
        },
        ActionKind::Demerger => Change::Demerger {
            into: a.into_isin.clone()?,
            new,
            held: old,
            cost_share: a.cost_share_percent? / Decimal::ONE_HUNDRED,
        },
        ActionKind::IsinChange => Change::Renamed {
            into: a.into_isin.clone()?,
        },
    };
    Some(Action {
        key,
        on: a.ex_date,
        change,
        into_symbol: a.into_symbol.clone(),
    })
}
