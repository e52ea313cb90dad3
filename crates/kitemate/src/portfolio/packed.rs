//! Trades as they are stored: one row per user, security and import, holding
//! that import's fills of the security as lines of tab-separated fields.
//!
//! A row per fill cost SQLite more than five seconds for a million trades
//! (three B-trees keyed by text), before any parsing. Packed, a million
//! trades are five hundred rows; duplicates are found in memory against
//! the keys of the user's stored fills, under a per-user lock.

use std::collections::HashMap;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One stored fill, borrowed from its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub trade_id: &'a str,
    pub exchange: &'a str,
    pub segment: &'a str,
    pub symbol: &'a str,
    /// `YYYY-MM-DD`, IST.
    pub trade_date: &'a str,
    /// `YYYY-MM-DDTHH:MM:SS`, or empty when the file had no time.
    pub executed_at: &'a str,
    /// `buy` or `sell`.
    pub side: &'a str,
    pub quantity_milli: i64,
    pub price_paise: i64,
    pub order_id: &'a str,
}

impl<'a> Line<'a> {
    /// The order fills happened in: by day, then time, then trade id.
    pub fn order(&self) -> (&'a str, &'a str, &'a str) {
        (self.trade_date, self.executed_at, self.trade_id)
    }

    /// Appends this fill as one line. The importer lets no tab or line
    /// break into a text field; should one come anyway, it is written as a
    /// space, so no content can add a field or a fill.
    pub fn encode(&self, out: &mut String) {
        // By hand rather than `write!`: a million lines a second matter here.
        let mut number = itoa::Buffer::new();
        for field in [
            self.trade_id,
            self.exchange,
            self.segment,
            self.symbol,
            self.trade_date,
            self.executed_at,
            self.side,
        ] {
            push_field(out, field);
            out.push('\t');
        }
        out.push_str(number.format(self.quantity_milli));
        out.push('\t');
        out.push_str(number.format(self.price_paise));
        out.push('\t');
        push_field(out, self.order_id);
        out.push('\n');
    }

    pub fn decode(line: &'a str) -> Option<Self> {
        let mut f = line.split('\t');
        Some(Self {
            trade_id: f.next()?,
            exchange: f.next()?,
            segment: f.next()?,
            symbol: f.next()?,
            trade_date: f.next()?,
            executed_at: f.next()?,
            side: f.next()?,
            quantity_milli: f.next()?.parse().ok()?,
            price_paise: f.next()?.parse().ok()?,
            order_id: f.next()?,
        })
    }
}

/// Characters that would end a field or a line (`str::lines` also ends one
/// at a carriage return before a line feed).
fn is_separator(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
}

fn push_field(out: &mut String, field: &str) {
    if field.contains(is_separator) {
        out.extend(field.chars().map(|c| if is_separator(c) { ' ' } else { c }));
    } else {
        out.push_str(field);
    }
}

/// The fills of one block. A line that does not decode (which only a
/// hand-edited database could hold) is left out rather than guessed at.
pub fn lines(block: &str) -> impl Iterator<Item = Line<'_>> {
    block.lines().filter_map(Line::decode)
}

/// New trades, encoded as they are read into one buffer of lines rather
/// than strings per trade, so that finding duplicates among a million and
/// grouping them reads memory in order.
#[derive(Debug, Default)]
pub struct Batch {
    text: String,
    /// Where each line ends in `text`, and its security's index.
    lines: Vec<(usize, usize)>,
    /// `(by symbol, ISIN or symbol)`: a file without ISINs groups by symbol.
    securities: Vec<(bool, String)>,
    by_isin: FastMap<String, usize>,
    by_symbol: FastMap<String, usize>,
}

impl Batch {
    /// A batch for about `bytes` of encoded lines (a tradebook's lines
    /// encode smaller than they are in the file, so its size will do): the
    /// buffer is not grown by doubling past what it needs.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            lines: Vec::with_capacity(bytes / 100),
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn push(&mut self, line: &Line<'_>, isin: &str) {
        let (map, name, by_symbol) = if isin.is_empty() {
            (&mut self.by_symbol, line.symbol, true)
        } else {
            (&mut self.by_isin, isin, false)
        };
        let security = match map.get(name) {
            Some(&i) => i,
            None => {
                let i = self.securities.len();
                self.securities.push((by_symbol, name.to_string()));
                map.insert(name.to_string(), i);
                i
            }
        };
        line.encode(&mut self.text);
        self.lines.push((self.text.len(), security));
    }

    /// The `i`th line, without its line break (as `str::lines` gives stored ones).
    fn line(&self, i: usize) -> &str {
        let start = i.checked_sub(1).map_or(0, |before| self.lines[before].0);
        &self.text[start..self.lines[i].0 - 1]
    }

    /// Drops the trades already in `stored` (or earlier in the batch) and
    /// groups the rest by security, as line numbers: the blocks are made a
    /// few securities at a time by [`NewTrades::next_blocks`], so the batch
    /// is never held twice over.
    pub fn dedupe(self, stored: &[Block]) -> NewTrades {
        let mut by_security: Vec<Vec<u32>> = vec![Vec::new(); self.securities.len()];
        let mut duplicates = 0;
        {
            // The keys seen so far, as numbers: below `stored_keys.len()` a
            // stored fill's, above it a line of this batch. Four bytes an
            // entry rather than three string slices (a million trades:
            // 10 MB instead of 100).
            let stored_keys: Vec<&str> = stored
                .iter()
                .flat_map(|b| b.fills.lines().map(key_text))
                .collect();
            let first_new = stored_keys.len();
            let key = |n: u32| -> &str {
                let n = n as usize;
                match n.checked_sub(first_new) {
                    None => stored_keys[n],
                    Some(i) => key_text(self.line(i)),
                }
            };
            use std::hash::BuildHasher as _;
            let state = foldhash::fast::RandomState::default();
            let mut seen: hashbrown::HashTable<u32> =
                hashbrown::HashTable::with_capacity(first_new + self.len());
            for (n, stored_key) in stored_keys.iter().enumerate() {
                let hash = state.hash_one(stored_key);
                if seen.find(hash, |&m| key(m) == *stored_key).is_none() {
                    seen.insert_unique(hash, n as u32, |&m| state.hash_one(key(m)));
                }
            }
            for (i, &(_, security)) in self.lines.iter().enumerate() {
                let line = self.line(i);
                let text = key_text(line);
                let hash = state.hash_one(text);
                if seen.find(hash, |&m| key(m) == text).is_some() {
                    duplicates += 1;
                    continue;
                }
                // A batch holds at most ROWS_MAX (5,000,000) lines, and a
                // user's stored fills are imports of such batches.
                let n = u32::try_from(first_new + i).unwrap_or(u32::MAX);
                seen.insert_unique(hash, n, |&m| state.hash_one(key(m)));
                by_security[security].push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        // Stored in order of security, as the blocks were before.
        let keys: Vec<(String, String)> = self
            .securities
            .iter()
            .map(|(by_symbol, name)| {
                if *by_symbol {
                    (format!("symbol:{name}"), String::new())
                } else {
                    (name.clone(), name.clone())
                }
            })
            .collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0));
        order.reverse();
        NewTrades {
            batch: self,
            by_security,
            keys,
            order,
            duplicates,
        }
    }
}

/// A batch's new trades by security, made into blocks on demand.
#[derive(Debug)]
pub struct NewTrades {
    batch: Batch,
    by_security: Vec<Vec<u32>>,
    /// Each security's `(security, isin)` as stored.
    keys: Vec<(String, String)>,
    /// Securities still to make blocks of, the next one last.
    order: Vec<usize>,
    /// Trades that were already stored, or repeated in the batch.
    pub duplicates: u64,
}

impl NewTrades {
    /// The next whole securities' blocks, sorted, at least `at_least` of
    /// them unless fewer are left; empty when every one has been made.
    pub fn next_blocks(&mut self, at_least: usize) -> Vec<NewBlock> {
        let mut blocks = Vec::new();
        while blocks.len() < at_least {
            let Some(security) = self.order.pop() else {
                break;
            };
            let numbers = std::mem::take(&mut self.by_security[security]);
            let mut lines: Vec<Line<'_>> = numbers
                .iter()
                .filter_map(|&i| Line::decode(self.batch.line(i as usize)))
                .collect();
            let (key, isin) = &self.keys[security];
            blocks.extend(split(key, isin, &mut lines));
        }
        blocks
    }
}

/// What makes two fills the same fill: Console's trade id on its exchange
/// and segment, which are a stored line's first three fields (no field
/// holds a tab), taken as they stand.
fn key_text(line: &str) -> &str {
    let mut tabs = line.match_indices('\t').map(|(at, _)| at);
    match tabs.nth(2) {
        Some(end) => &line[..end],
        None => line,
    }
}

/// The `YYYY-MM` of a `YYYY-MM-DD` day.
pub fn month(day: &str) -> &str {
    day.get(..7).unwrap_or(day)
}

/// The `YYYY-MM` a fill belongs to.
pub fn month_of<'a>(line: &Line<'a>) -> &'a str {
    month(line.trade_date)
}

/// One security's fills as blocks: sorted, then one block per month and
/// symbol, so that a page of trades reads only the months it shows.
pub fn split(security: &str, isin: &str, lines: &mut [Line<'_>]) -> Vec<NewBlock> {
    lines.sort_by(|a, b| {
        (month_of(a), a.symbol, a.order()).cmp(&(month_of(b), b.symbol, b.order()))
    });
    let mut blocks: Vec<NewBlock> = Vec::new();
    for line in lines.iter() {
        let same = blocks
            .last()
            .is_some_and(|b| b.month == month_of(line) && b.symbol == line.symbol);
        if !same {
            blocks.push(NewBlock {
                security: security.to_string(),
                isin: isin.to_string(),
                month: month_of(line).to_string(),
                symbol: line.symbol.to_string(),
                n: 0,
                fills: String::new(),
            });
        }
        if let Some(block) = blocks.last_mut() {
            line.encode(&mut block.fills);
            block.n += 1;
        }
    }
    blocks
}

/// A row of `imported_holdings`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HoldingSnapshot {
    pub symbol: String,
    pub isin: String,
    pub quantity_milli: i64,
    pub average_price: String,
    pub last_price: Option<String>,
    /// The previous close, which only a sync from Kite knows.
    #[sqlx(default)]
    pub close_price: Option<String>,
}

/// The fills of one security from one import in one month, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Block {
    pub isin: String,
    /// Lines in the format of [`packed`].
    pub fills: String,
    /// `YYYY-MM`, when the query asked for it.
    #[sqlx(default)]
    pub month: String,
}

/// A block about to be stored: one import's fills of one security, under
/// one symbol, in one month.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// The ISIN, or `symbol:` and the symbol when the file gave none.
    pub security: String,
    pub isin: String,
    /// `YYYY-MM`.
    pub month: String,
    pub symbol: String,
    /// Fills in the block.
    pub n: i64,
    pub fills: String,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever a field holds, a fill is one line that reads back as
        /// itself, with separators as spaces: no cell can forge a fill.
        #[test]
        fn no_field_content_forges_a_fill(
            fields in prop::collection::vec(any::<String>(), 8),
            quantity_milli in any::<i64>(),
            price_paise in any::<i64>(),
        ) {
            let fill = Line {
                trade_id: &fields[0],
                exchange: &fields[1],
                segment: &fields[2],
                symbol: &fields[3],
                trade_date: &fields[4],
                executed_at: &fields[5],
                side: &fields[6],
                quantity_milli,
                price_paise,
                order_id: &fields[7],
            };
            let mut block = String::new();
            fill.encode(&mut block);
            fill.encode(&mut block);
            let read: Vec<Line<'_>> = lines(&block).collect();
            prop_assert_eq!(read.len(), 2);
            let clean: Vec<String> = fields
                .iter()
                .map(|f| f.chars().map(|c| if is_separator(c) { ' ' } else { c }).collect())
                .collect();
            let got = read[0];
            prop_assert_eq!(
                [got.trade_id, got.exchange, got.segment, got.symbol, got.trade_date, got.executed_at, got.side, got.order_id],
                [&*clean[0], &*clean[1], &*clean[2], &*clean[3], &*clean[4], &*clean[5], &*clean[6], &*clean[7]]
            );
            prop_assert_eq!((got.quantity_milli, got.price_paise), (quantity_milli, price_paise));
        }
    }

    #[test]
    fn a_line_reads_back_as_written() {
        let fill = Line {
            trade_id: "41795167",
            exchange: "NSE",
            segment: "EQ",
            symbol: "JUNIORBEES",
            trade_date: "2024-04-01",
            executed_at: "",
            side: "sell",
            quantity_milli: 2000,
            price_paise: 65229,
            order_id: "1200000009438445",
        };
        let mut block = String::new();
        fill.encode(&mut block);
        fill.encode(&mut block);
        block.push_str("not\ta\tfill\n");
        let read: Vec<Line<'_>> = lines(&block).collect();
        assert_eq!(read, vec![fill, fill]);
        let first = block.lines().next().unwrap_or_default();
        assert_eq!(key_text(first), "41795167\tNSE\tEQ");
    }
}
