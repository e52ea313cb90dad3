//! From stored trades and the latest holdings export to what the user holds
//! and has realized: one FIFO book per security, priced where a price is known.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::actions::{Change, Known, replay_all};
use super::fifo::{Book, Fill};
use super::sectors;
use crate::portfolio::model::{AssetClass, Paise, PriceSource, Quantity, Side};

/// When a day's closing price holds: NSE's close at 15:30 India time (10:00 UTC).
pub fn at_close(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default())
        .and_utc()
}
use crate::portfolio::packed::{self, Block, HoldingSnapshot};

pub fn asset_class(isin: &str) -> AssetClass {
    if isin.starts_with("INF") {
        AssetClass::Etf
    } else {
        AssetClass::Equity
    }
}

/// A day and the XIRR worked out for it, shared by a security's clones.
pub type XirrMemo = std::sync::Arc<std::sync::Mutex<Option<(NaiveDate, Option<f64>)>>>;

/// One security's history and where it stands.
#[derive(Debug, Clone)]
pub struct Security {
    pub symbol: String,
    pub isin: String,
    pub book: Book,
    /// The newest of: the day's close, Kite's price at the last sync, the
    /// holdings export's, the last trade's.
    pub last_price: Option<Decimal>,
    /// When `last_price` was the price.
    pub price_as_of: Option<DateTime<Utc>>,
    pub price_source: Option<PriceSource>,
    /// Set when the holdings export states the position (it wins over trades).
    pub stated: Option<(Decimal, Decimal)>,
    /// The close before `last_price`'s day, when known (a sync from Kite,
    /// or the closes loaded).
    pub close_price: Option<Decimal>,
    pub asset_class: AssetClass,
    /// Money in (negative, buys) and out (positive, sales), by trade date.
    pub flows: Vec<(NaiveDate, Decimal)>,
    /// The XIRR of the day it was last worked out for: a page of holdings
    /// shows it without solving it again for every request.
    pub xirr_memo: XirrMemo,
    /// Splits and bonuses applied to the lots: (ex-date, shares after per
    /// share before). A price from before an ex-date is on the old shares.
    pub reshaped: Vec<(NaiveDate, Decimal)>,
}

impl Security {
    /// Quantity held: as the holdings export states it, else the open lots.
    pub fn quantity(&self) -> Decimal {
        self.stated.map_or_else(|| self.book.quantity(), |(q, _)| q)
    }

    /// `price`, quoted on `day`, on today's shares: divided by every split
    /// or bonus whose ex-date came after it.
    pub fn on_todays_shares(&self, price: Decimal, day: NaiveDate) -> Decimal {
        self.reshaped
            .iter()
            .filter(|(on, _)| *on > day)
            .fold(price, |p, (_, factor)| p / factor)
    }

    /// Whether any of it is still held.
    pub fn is_held(&self) -> bool {
        self.quantity() > Decimal::ZERO
    }

    /// Average cost: as stated, else of the open lots.
    pub fn average_price(&self) -> Option<Decimal> {
        match self.stated {
            Some((_, avg)) => Some(avg),
            None => self.book.average_price(),
        }
    }

    pub fn invested(&self) -> Decimal {
        self.average_price()
            .map_or(Decimal::ZERO, |a| a * self.quantity())
    }

    pub fn value(&self) -> Option<Decimal> {
        self.last_price.map(|p| p * self.quantity())
    }

    /// The annual return of this security's trades valued at `today`, as a
    /// fraction; `None` without trades or a price.
    pub fn xirr(&self, today: NaiveDate) -> Option<f64> {
        let mut memo = self
            .xirr_memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((day, rate)) = *memo
            && day == today
        {
            return rate;
        }
        let rate = xirr_of(self.flows.iter().copied(), self.value(), today);
        *memo = Some((today, rate));
        rate
    }

    /// Today's change in value: (last − previous close) × quantity.
    pub fn day_change(&self) -> Option<Decimal> {
        Some((self.last_price? - self.close_price.filter(|c| !c.is_zero())?) * self.quantity())
    }

    pub fn sector(&self) -> &'static str {
        sectors::sector(&self.isin, &self.symbol)
    }
}

/// The display symbol: NSE's series suffix (`HSCL-BE`) is not part of the name.
fn base_symbol(symbol: &str) -> &str {
    symbol
        .rsplit_once('-')
        .filter(|(_, s)| s.len() == 2)
        .map_or(symbol, |(base, _)| base)
}

fn milli(q: i64) -> Decimal {
    Quantity::from_milli(q).decimal()
}

fn paise(p: i64) -> Decimal {
    Paise::new(p).rupees()
}

/// XIRR of `flows` plus what is still held (`value`) at `today`.
pub fn xirr_of(
    flows: impl Iterator<Item = (NaiveDate, Decimal)>,
    value: Option<Decimal>,
    today: NaiveDate,
) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive as _;
    let mut all: Vec<(NaiveDate, f64)> =
        flows.map(|(d, a)| (d, a.to_f64().unwrap_or(0.0))).collect();
    if all.is_empty() {
        return None;
    }
    if let Some(value) = value.filter(|v| !v.is_zero()) {
        all.push((today, value.to_f64().unwrap_or(0.0)));
    }
    super::xirr::xirr(&all)
}

/// Mutual-fund units held in demat (Kite's Coin), added beside the rest,
/// priced as Kite said at `synced_at`.
pub fn add_funds(
    securities: &mut Vec<Security>,
    funds: &[(String, String, Decimal, Decimal, Decimal)],
    synced_at: Option<DateTime<Utc>>,
) {
    for (isin, name, quantity, average, last) in funds {
        securities.push(Security {
            symbol: name.clone(),
            isin: isin.clone(),
            book: Book::default(),
            last_price: Some(*last),
            price_as_of: synced_at,
            price_source: Some(PriceSource::Kite),
            stated: Some((*quantity, *average)),
            close_price: None,
            asset_class: AssetClass::MutualFund,
            flows: Vec::new(),
            xirr_memo: Default::default(),
            reshaped: Vec::new(),
        });
    }
}

/// A stored value that does not read back: the data is damaged, and a
/// figure worked out from it would be wrong, so nothing is.
#[derive(Debug, thiserror::Error)]
#[error("stored {what} {value:?} cannot be read")]
pub struct Unreadable {
    what: &'static str,
    value: String,
}

impl Unreadable {
    /// Names the value, shortened: it is damaged and may be long.
    fn new(what: &'static str, value: &str) -> Self {
        Self {
            what,
            value: value.chars().take(40).collect(),
        }
    }
}

fn read<T: std::str::FromStr>(what: &'static str, value: &str) -> Result<T, Unreadable> {
    value.parse().map_err(|_| Unreadable::new(what, value))
}

/// `read` for a value that may be missing.
fn read_some<T: std::str::FromStr>(
    what: &'static str,
    value: Option<&str>,
) -> Result<Option<T>, Unreadable> {
    value.map(|value| read(what, value)).transpose()
}

/// What corporate actions may be known by for the securities of `blocks`
/// and `holdings`: each ISIN, and each symbol as `symbol:X` (NSE's files
/// name securities by symbol only).
pub fn action_keys(blocks: &[Block], holdings: &[HoldingSnapshot]) -> Vec<String> {
    let mut keys: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for block in blocks {
        if !block.isin.is_empty() {
            keys.insert(block.isin.clone());
        }
        if let Some(line) = block.fills.lines().next().and_then(packed::Line::decode) {
            keys.insert(format!("symbol:{}", base_symbol(line.symbol)));
        }
    }
    for h in holdings {
        if !h.isin.is_empty() {
            keys.insert(h.isin.clone());
        }
        keys.insert(format!("symbol:{}", base_symbol(&h.symbol)));
    }
    keys.into_iter().collect()
}

/// Every security the user traded or holds, keyed by ISIN (or by symbol
/// when a file gave none), from the stored blocks of trades, with the
/// corporate actions `known` applied to the lots and lots held on
/// 31 January 2018 given that day's value from `fmv`.
pub fn securities(
    blocks: &[Block],
    holdings: &[HoldingSnapshot],
    holdings_priced: (PriceSource, Option<DateTime<Utc>>),
    known: &Known,
) -> Result<Vec<Security>, Unreadable> {
    // Per security: its display symbol and its fills, in any order yet.
    let mut grouped: BTreeMap<String, (String, Vec<packed::Line<'_>>)> = BTreeMap::new();
    let mut by_symbol: HashMap<&str, String> = HashMap::new();
    for block in blocks {
        let lines = block
            .fills
            .lines()
            .map(|line| packed::Line::decode(line).ok_or_else(|| Unreadable::new("trade", line)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut lines = lines.into_iter().peekable();
        let Some(first) = lines.peek().copied() else {
            continue;
        };
        let key = if block.isin.is_empty() {
            format!("symbol:{}", base_symbol(first.symbol))
        } else {
            block.isin.clone()
        };
        let entry = grouped
            .entry(key.clone())
            .or_insert_with(|| (base_symbol(first.symbol).to_string(), Vec::new()));
        for line in lines {
            let symbol = base_symbol(line.symbol);
            // The plain symbol names it rather than a series (`HSCL`, not `HSCL-BE`).
            if symbol < entry.0.as_str() {
                entry.0 = symbol.to_string();
            }
            if !by_symbol.contains_key(symbol) {
                by_symbol.insert(symbol, key.clone());
            }
            entry.1.push(line);
        }
    }
    let mut symbols: BTreeMap<String, String> = BTreeMap::new();
    let mut all_fills: HashMap<String, Vec<Fill>> = HashMap::new();
    for (key, (symbol, mut lines)) in grouped {
        // Blocks are sorted when written, so this mostly merges runs.
        lines.sort_by(|a, b| a.order().cmp(&b.order()));
        let fills = lines
            .iter()
            .map(|l| {
                Ok(Fill {
                    date: read("trade date", l.trade_date)?,
                    side: Side::parse(l.side).ok_or_else(|| Unreadable::new("side", l.side))?,
                    quantity: milli(l.quantity_milli),
                    price: paise(l.price_paise),
                })
            })
            .collect::<Result<Vec<Fill>, Unreadable>>()?;
        symbols.insert(key.clone(), symbol);
        all_fills.insert(key, fills);
    }
    let spans: HashMap<String, (NaiveDate, NaiveDate)> = all_fills
        .iter()
        .filter_map(|(key, f)| Some((key.clone(), (f.first()?.date, f.last()?.date))))
        .collect();
    let actions = known.for_keys(&symbols, &spans);
    let mut books = replay_all(&all_fills, &actions, &known.fmv);
    // Shares moved into a security the user never traded name it too.
    for action in &actions {
        if let (Some(into), Some(symbol)) = (action.target(), &action.into_symbol) {
            symbols
                .entry(into.to_string())
                .or_insert_with(|| symbol.clone());
        }
    }
    let mut flows: HashMap<String, Vec<(NaiveDate, Decimal)>> = all_fills
        .iter()
        .map(|(key, fills)| {
            let flows = fills
                .iter()
                .map(|f| {
                    let amount = f.quantity * f.price;
                    (f.date, if f.side == Side::Buy { -amount } else { amount })
                })
                .collect();
            (key.clone(), flows)
        })
        .collect();
    // What was paid for shares that became another's counts in its return.
    for action in &actions {
        if let (Some(into), Change::Merger { .. } | Change::Renamed { .. } | Change::Split { .. }) =
            (action.target(), &action.change)
        {
            let moved = flows.get(&action.key).cloned().unwrap_or_default();
            let target = flows.entry(into.to_string()).or_default();
            target.extend(moved);
            target.sort_by_key(|(day, _)| *day);
        }
    }
    let mut out: BTreeMap<String, Security> = BTreeMap::new();
    for (key, book) in books.drain() {
        let fills = all_fills.get(&key).map_or(&[][..], Vec::as_slice);
        let isin = if key.starts_with("symbol:") {
            String::new()
        } else {
            key.clone()
        };
        let symbol = symbols
            .get(&key)
            .cloned()
            .unwrap_or_else(|| key.trim_start_matches("symbol:").to_string());
        let reshaped = actions
            .iter()
            .filter(|a| a.key == key)
            .filter_map(|a| match &a.change {
                Change::Split {
                    new,
                    old,
                    into: None,
                } => Some((a.on, *new / *old)),
                Change::Bonus { new, held, .. } => Some((a.on, (*held + *new) / *held)),
                _ => None,
            })
            .collect();
        let mut security = Security {
            asset_class: asset_class(&isin),
            symbol,
            isin,
            book,
            last_price: None,
            price_as_of: fills.last().map(|f| at_close(f.date)),
            price_source: fills.last().map(|_| PriceSource::LastTrade),
            stated: None,
            close_price: None,
            flows: flows.remove(&key).unwrap_or_default(),
            xirr_memo: Default::default(),
            reshaped,
        };
        security.last_price = fills
            .last()
            .map(|f| security.on_todays_shares(f.price, f.date));
        out.insert(key, security);
    }
    let by_symbol: HashMap<String, String> = by_symbol
        .into_iter()
        .map(|(s, k)| (s.to_string(), k))
        .collect();
    if !holdings.is_empty() {
        // A holdings export states the position now; trades keep the history.
        for security in out.values_mut() {
            security.stated = Some((Decimal::ZERO, Decimal::ZERO));
        }
        for h in holdings {
            let symbol = base_symbol(&h.symbol).to_string();
            let key = if h.isin.is_empty() {
                by_symbol
                    .get(&symbol)
                    .cloned()
                    .unwrap_or_else(|| format!("symbol:{symbol}"))
            } else {
                h.isin.clone()
            };
            let average: Decimal = read("average price", &h.average_price)?;
            let last = read_some("last price", h.last_price.as_deref())?;
            let entry = out.entry(key.clone()).or_insert_with(|| Security {
                symbol: symbol.clone(),
                isin: if key.starts_with("symbol:") {
                    String::new()
                } else {
                    key.clone()
                },
                book: Book::default(),
                last_price: None,
                price_as_of: None,
                price_source: None,
                stated: None,
                close_price: None,
                asset_class: asset_class(&h.isin),
                flows: Vec::new(),
                xirr_memo: Default::default(),
                reshaped: Vec::new(),
            });
            entry.stated = Some((milli(h.quantity_milli), average));
            if last.is_some() {
                entry.last_price = last;
                (entry.price_source, entry.price_as_of) =
                    (Some(holdings_priced.0), holdings_priced.1);
            }
            entry.close_price = read_some("close price", h.close_price.as_deref())?;
        }
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod properties {
    use chrono::Datelike as _;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::securities;
    use crate::portfolio::calc::fifo::{Fill, replay};
    use crate::portfolio::model::Side;
    use crate::portfolio::packed::{Block, Line};

    /// Fills as Console lists them: fractional quantities (mutual-fund
    /// units, to the thousandth), several a day, times and trade ids.
    #[derive(Debug, Clone)]
    struct Raw {
        buy: bool,
        quantity_milli: i64,
        price_paise: i64,
        date: String,
        time: String,
        id: String,
    }

    fn raws() -> impl Strategy<Value = Vec<Raw>> {
        prop::collection::vec(
            (
                any::<bool>(),
                1i64..400_000,
                1i64..10_000_000,
                0i64..900,
                0u32..86_400,
            ),
            0..50,
        )
        .prop_map(|raw| {
            let start = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default();
            raw.into_iter()
                .enumerate()
                .map(|(i, (buy, quantity_milli, price_paise, day, second))| {
                    let date = start + chrono::TimeDelta::days(day);
                    Raw {
                        buy,
                        quantity_milli,
                        price_paise,
                        date: date.to_string(),
                        time: format!(
                            "{date}T{:02}:{:02}:{:02}",
                            second / 3600,
                            second / 60 % 60,
                            second % 60
                        ),
                        id: format!("{i:08}"),
                    }
                })
                .collect()
        })
    }

    /// The fills in a random order, stored in one to three blocks.
    fn stored() -> impl Strategy<Value = (Vec<Raw>, Vec<Raw>, Vec<usize>)> {
        raws().prop_flat_map(|raws| {
            let n = raws.len();
            (
                Just(raws.clone()),
                Just(raws).prop_shuffle(),
                prop::collection::vec(0..=n, 0..3),
            )
        })
    }

    fn blocks(shuffled: &[Raw], cuts: &[usize]) -> Vec<Block> {
        let mut cuts = cuts.to_vec();
        cuts.extend([0, shuffled.len()]);
        cuts.sort_unstable();
        cuts.windows(2)
            .map(|w| {
                let mut fills = String::new();
                for r in &shuffled[w[0]..w[1]] {
                    Line {
                        trade_id: &r.id,
                        exchange: "NSE",
                        segment: "EQ",
                        symbol: "INFY",
                        trade_date: &r.date,
                        executed_at: &r.time,
                        side: if r.buy { "buy" } else { "sell" },
                        quantity_milli: r.quantity_milli,
                        price_paise: r.price_paise,
                        order_id: "o",
                    }
                    .encode(&mut fills);
                }
                Block {
                    isin: "INE009A01021".into(),
                    fills,
                    month: String::new(),
                }
            })
            .collect()
    }

    /// The fills in the order they happened, worked out here on its own.
    fn in_time_order(raws: &[Raw]) -> Vec<Fill> {
        let mut sorted = raws.to_vec();
        sorted.sort_by(|a, b| (&a.date, &a.time, &a.id).cmp(&(&b.date, &b.time, &b.id)));
        sorted
            .iter()
            .map(|r| Fill {
                date: r.date.parse().unwrap_or_default(),
                side: if r.buy { Side::Buy } else { Side::Sell },
                quantity: Decimal::new(r.quantity_milli, 3),
                price: Decimal::new(r.price_paise, 2),
            })
            .collect()
    }

    proptest! {
        /// However the fills are stored and in whatever order, the book is
        /// the one of the fills in the order they happened.
        #[test]
        fn storage_order_does_not_matter((raws, shuffled, cuts) in stored()) {
            let found = securities(&blocks(&shuffled, &cuts), &[], (crate::portfolio::model::PriceSource::HoldingsFile, None), &Default::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected = replay(&in_time_order(&raws));
            match found.as_slice() {
                [] => prop_assert!(raws.is_empty()),
                [one] => {
                    prop_assert_eq!(&one.book.open, &expected.open);
                    prop_assert_eq!(&one.book.realized, &expected.realized);
                    prop_assert_eq!(one.book.unmatched_sold, expected.unmatched_sold);
                }
                more => prop_assert!(false, "one security expected, got {}", more.len()),
            }
        }

        /// First in, first out, and not any other order: sales consume buys
        /// in the order they were bought, and what stays open is the latest
        /// buys (the oldest of them perhaps in part). LIFO, HIFO or average
        /// cost would all fail one of these.
        #[test]
        fn the_oldest_shares_are_sold_first(raws in raws()) {
            // One side a day: a day with both is intraday, matched apart
            // (its own property in fifo.rs).
            let mut fills = in_time_order(&raws);
            for f in &mut fills {
                let day = f.date.num_days_from_ce();
                f.side = if day % 3 == 0 { Side::Sell } else { Side::Buy };
            }
            let buys: Vec<&Fill> = fills.iter().filter(|f| f.side == Side::Buy).collect();
            let book = replay(&fills);
            // Each matched part names a buy at or after the previous one's.
            let mut at = 0;
            for part in &book.realized {
                while at < buys.len()
                    && (buys[at].date, buys[at].price) != (part.bought_on, part.buy_price)
                {
                    at += 1;
                }
                prop_assert!(at < buys.len(), "{part:?} matched a buy out of order");
            }
            let open = book.open.len();
            if open > 0 {
                let first = buys.len() - open;
                for (lot, buy) in book.open.iter().zip(&buys[first..]).skip(1) {
                    prop_assert_eq!((lot.bought_on, lot.quantity, lot.price), (buy.date, buy.quantity, buy.price));
                }
                let oldest = &book.open[0];
                prop_assert_eq!((oldest.bought_on, oldest.price), (buys[first].date, buys[first].price));
                prop_assert!(oldest.quantity <= buys[first].quantity);
            }
        }
    }
}
