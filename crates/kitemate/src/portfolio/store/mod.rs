//! SQL of the portfolio service, written once for SQLite and PostgreSQL.

use std::collections::BTreeMap;

use platform::db::{Db, Tx};

use super::model::TradeFilter;
use super::packed;
pub use super::packed::{Block, HoldingSnapshot, NewBlock};

mod declared;
mod synced;
pub use declared::*;
use platform::{with_db, with_tx, with_write};
pub use synced::*;

/// A stored trade as the API lists it.
#[derive(Debug, Clone)]
pub struct StoredTrade {
    pub trade_id: String,
    pub exchange: String,
    pub segment: String,
    pub symbol: String,
    pub isin: String,
    pub trade_date: String,
    pub executed_at: Option<String>,
    pub side: String,
    pub quantity_milli: i64,
    pub price_paise: i64,
    pub order_id: String,
}

/// A row of `imports`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: String,
    pub kind: String,
    pub file_name: Option<String>,
    pub object_key: String,
    pub rows_read: i64,
    pub imported: i64,
    pub duplicates: i64,
    /// JSON array of `{line, reason}`: the first 100 lines skipped.
    pub skipped: String,
    /// Every line skipped.
    pub skipped_count: i64,
    pub created_at: i64,
}

/// Marks the user's portfolio changed by this transaction. On PostgreSQL
/// the row stays locked until it ends, so another import of the same
/// user's trades waits and its duplicates found in memory stay duplicates;
/// SQLite's writes already queue on one connection.
pub async fn bump_version(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO portfolio_versions (user_id, version) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET version = portfolio_versions.version + 1",
        )
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

/// The version of the user's portfolio: 0 before anything was stored.
pub async fn version(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    let version: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT version FROM portfolio_versions WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(version.unwrap_or(0))
}

const BLOCKS: &str = "SELECT isin, fills FROM trade_blocks WHERE user_id = $1";

/// Every block of the user's trades, inside a transaction.
pub async fn blocks_in(tx: &mut Tx, user_id: &str) -> Result<Vec<Block>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as(BLOCKS).bind(user_id).fetch_all(conn).await
    })
}

/// Every block of the user's trades.
pub async fn blocks(db: &Db, user_id: &str) -> Result<Vec<Block>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(BLOCKS).bind(user_id).fetch_all(pool).await
    })
}

/// Stores `blocks`, many rows a statement; [`count_months`] adds their
/// fills to the user's count per month.
pub async fn insert_blocks(
    tx: &mut Tx,
    user_id: &str,
    import_id: &str,
    blocks: &[NewBlock],
) -> Result<(), sqlx::Error> {
    // Many rows a statement: fewer PostgreSQL round trips. SQLite gets
    // anonymous `?` parameters, as a numbered one's name is found by
    // walking them all (quadratic in a large statement).
    let sqlite = tx.is_sqlite();
    for chunk in blocks.chunks(500) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 8);
        let sql = format!(
            "INSERT INTO trade_blocks (user_id, security, import_id, month, symbol, isin, n, fills) VALUES {rows}"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for block in chunk {
                query = query
                    .bind(user_id)
                    .bind(&block.security)
                    .bind(import_id)
                    .bind(&block.month)
                    .bind(&block.symbol)
                    .bind(&block.isin)
                    .bind(block.n)
                    .bind(&block.fills);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Adds `blocks`' fills to `months` (fills per `YYYY-MM`), for [`count_months`].
pub fn tally_months(blocks: &[NewBlock], months: &mut BTreeMap<String, i64>) {
    for block in blocks {
        match months.get_mut(&block.month) {
            Some(n) => *n += block.n,
            None => {
                months.insert(block.month.clone(), block.n);
            }
        }
    }
}

/// Adds fills per month to the user's counts (a page of trades finds its
/// months from them).
pub async fn count_months(
    tx: &mut Tx,
    user_id: &str,
    months: &BTreeMap<String, i64>,
) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    let months: Vec<(&String, &i64)> = months.iter().collect();
    for chunk in months.chunks(1_000) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 3);
        let sql = format!(
            "INSERT INTO trade_months (user_id, month, n) VALUES {rows} \
             ON CONFLICT (user_id, month) DO UPDATE SET n = trade_months.n + excluded.n"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for (month, n) in chunk {
                query = query.bind(user_id).bind(month.as_str()).bind(**n);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Encodes a holdings snapshot as stored: a line per holding, fields
/// separated by tabs. Symbols and ISINs were checked at import (no tabs or
/// line breaks); prices are decimal text.
pub fn encode_holdings(rows: &[HoldingSnapshot]) -> String {
    let mut out = String::with_capacity(rows.len() * 48);
    for row in rows {
        for field in [
            row.symbol.as_str(),
            row.isin.as_str(),
            itoa::Buffer::new().format(row.quantity_milli),
            row.average_price.as_str(),
            row.last_price.as_deref().unwrap_or(""),
        ] {
            out.push_str(field);
            out.push('\t');
        }
        out.pop();
        out.push('\n');
    }
    out
}

/// The stored snapshot; a line that does not read back is an error, not a
/// holding silently left out.
fn decode_holdings(lines: &str) -> Result<Vec<HoldingSnapshot>, sqlx::Error> {
    lines
        .lines()
        .map(|line| {
            let mut f = line.split('\t');
            let mut snapshot = || {
                Some(HoldingSnapshot {
                    symbol: f.next()?.to_string(),
                    isin: f.next()?.to_string(),
                    quantity_milli: f.next()?.parse().ok()?,
                    average_price: f.next()?.to_string(),
                    last_price: Some(f.next()?)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                    close_price: None,
                })
            };
            snapshot().ok_or_else(|| {
                sqlx::Error::Decode(
                    format!(
                        "stored holding {:?} cannot be read",
                        line.chars().take(40).collect::<String>()
                    )
                    .into(),
                )
            })
        })
        .collect()
}

/// Replaces the user's holdings snapshot with `lines` ([`encode_holdings`]):
/// one row, however many holdings, so the write is brief.
pub async fn replace_holdings(
    tx: &mut Tx,
    user_id: &str,
    import_id: &str,
    lines: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO holdings_sets (user_id, import_id, lines) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET import_id = excluded.import_id, lines = excluded.lines",
        )
        .bind(user_id)
        .bind(import_id)
        .bind(lines)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

pub async fn insert_import(
    tx: &mut Tx,
    user_id: &str,
    record: &ImportRecord,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO imports (id, user_id, kind, file_name, object_key, rows_read, imported, duplicates, skipped, skipped_count, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&record.id)
        .bind(user_id)
        .bind(&record.kind)
        .bind(&record.file_name)
        .bind(&record.object_key)
        .bind(record.rows_read)
        .bind(record.imported)
        .bind(record.duplicates)
        .bind(&record.skipped)
        .bind(record.skipped_count)
        .bind(record.created_at)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

const IMPORT_COLUMNS: &str =
    "id, kind, file_name, object_key, rows_read, imported, duplicates, skipped_count, created_at";

/// One page of the user's imports, newest first, without their skipped
/// lines; and how many imports there are.
pub async fn list_imports(
    db: &Db,
    user_id: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ImportRecord>, i64), sqlx::Error> {
    let page = format!(
        "SELECT {IMPORT_COLUMNS}, '' AS skipped FROM imports WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let (rows, total) = with_db!(db, |pool| async {
        let rows = sqlx::query_as(&page)
            .bind(user_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imports WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    }
    .await)?;
    Ok((rows, total))
}

/// One of the user's imports, with its skipped lines.
pub async fn import_of(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<ImportRecord>, sqlx::Error> {
    let one =
        format!("SELECT {IMPORT_COLUMNS}, skipped FROM imports WHERE user_id = $1 AND id = $2");
    with_db!(db, |pool| {
        sqlx::query_as(&one)
            .bind(user_id)
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// Fills in the user's months, newest first: from the running counts, or
/// for one symbol or ISIN from its blocks' counts.
async fn month_counts(
    db: &Db,
    user_id: &str,
    symbol: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_db!(db, |pool| match symbol {
        None => {
            sqlx::query_as(
                "SELECT month, n FROM trade_months WHERE user_id = $1 ORDER BY month DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        }
        Some(symbol) => {
            // A union, so that each half reads its own index, not every block.
            sqlx::query_as(
                "SELECT month, CAST(SUM(n) AS BIGINT) FROM ( \
                 SELECT security, import_id, month, symbol, n FROM trade_blocks WHERE user_id = $1 AND security = $2 \
                 UNION SELECT security, import_id, month, symbol, n FROM trade_blocks WHERE user_id = $1 AND symbol = $2 \
                 ) AS matching GROUP BY month ORDER BY month DESC",
            )
            .bind(user_id)
            .bind(symbol)
            .fetch_all(pool)
            .await
        }
    })
}

/// The user's blocks of `months` (of one symbol or ISIN, if given).
async fn blocks_in_months(
    db: &Db,
    user_id: &str,
    months: &[String],
    symbol: Option<&str>,
) -> Result<Vec<Block>, sqlx::Error> {
    if months.is_empty() {
        return Ok(Vec::new());
    }
    let list = (0..months.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = if symbol.is_some() {
        // Each half reads its own index (see `month_counts`).
        format!(
            "SELECT isin, fills, month FROM trade_blocks WHERE user_id = $1 AND security = $2 AND month IN ({list}) \
             UNION ALL SELECT isin, fills, month FROM trade_blocks WHERE user_id = $1 AND symbol = $2 \
             AND security <> $2 AND month IN ({list})"
        )
    } else {
        format!(
            "SELECT isin, fills, month FROM trade_blocks WHERE user_id = $1 AND $2 = '' AND month IN ({list})"
        )
    };
    with_db!(db, |pool| {
        let mut query = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(symbol.unwrap_or(""));
        for month in months {
            query = query.bind(month);
        }
        query.fetch_all(pool).await
    })
}

/// The months holding trades of `filter`'s symbol within its dates, with
/// how many trades each holds in all.
async fn months_within(
    db: &Db,
    user_id: &str,
    filter: &TradeFilter,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let month = |day: chrono::NaiveDate| packed::month(&day.to_string()).to_string();
    let (from, to) = (filter.from.map(month), filter.to.map(month));
    Ok(month_counts(db, user_id, filter.symbol.as_deref())
        .await?
        .into_iter()
        .filter(|(m, _)| from.as_ref().is_none_or(|f| m >= f) && to.as_ref().is_none_or(|t| m <= t))
        .collect())
}

/// A [`TradeFilter`] as packed lines are checked against it: its dates as
/// the `YYYY-MM-DD` text lines carry.
struct LineFilter<'a> {
    symbol: Option<&'a str>,
    from: Option<String>,
    to: Option<String>,
}

impl<'a> LineFilter<'a> {
    fn of(filter: &'a TradeFilter) -> Self {
        Self {
            symbol: filter.symbol.as_deref(),
            from: filter.from.map(|d| d.to_string()),
            to: filter.to.map(|d| d.to_string()),
        }
    }

    /// Whether the fill `line` of the security `isin` is one the filter asks for.
    fn admits(&self, isin: &str, line: &packed::Line<'_>) -> bool {
        self.symbol.is_none_or(|s| line.symbol == s || isin == s)
            && self
                .from
                .as_deref()
                .is_none_or(|from| line.trade_date >= from)
            && self.to.as_deref().is_none_or(|to| line.trade_date <= to)
    }
}

/// What a set of trades adds up to: how many, how much, the first and last.
#[derive(Debug, Default)]
pub struct StoredTally {
    pub count: usize,
    pub quantity_milli: i64,
    /// Sum of quantity × price, in paise.
    pub value_paise: i128,
    pub first: Option<StoredTrade>,
    pub last: Option<StoredTrade>,
}

fn stored(isin: &str, line: &packed::Line<'_>) -> StoredTrade {
    StoredTrade {
        trade_id: line.trade_id.to_string(),
        exchange: line.exchange.to_string(),
        segment: line.segment.to_string(),
        symbol: line.symbol.to_string(),
        isin: isin.to_string(),
        trade_date: line.trade_date.to_string(),
        executed_at: (!line.executed_at.is_empty()).then(|| line.executed_at.to_string()),
        side: line.side.to_string(),
        quantity_milli: line.quantity_milli,
        price_paise: line.price_paise,
        order_id: line.order_id.to_string(),
    }
}

/// Months of blocks read at a time while tallying, so that a long history
/// is never all in memory.
const TALLY_MONTHS: usize = 12;

/// The user's trades matching `filter` (and `side`, `buy` or `sell`) added
/// up, reading only the months the filter spans, a year of them at a time.
pub async fn tally_trades(
    db: &Db,
    user_id: &str,
    filter: &TradeFilter,
    side: Option<&str>,
) -> Result<StoredTally, sqlx::Error> {
    let lines = LineFilter::of(filter);
    let symbol = filter.symbol.as_deref();
    let mut months: Vec<String> = months_within(db, user_id, filter)
        .await?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    months.sort();
    let mut tally = StoredTally::default();
    for chunk in months.chunks(TALLY_MONTHS) {
        let blocks = blocks_in_months(db, user_id, chunk, symbol).await?;
        let mut first: Option<(&str, packed::Line<'_>)> = None;
        let mut last: Option<(&str, packed::Line<'_>)> = None;
        for (isin, line) in blocks
            .iter()
            .flat_map(|b| packed::lines(&b.fills).map(move |l| (b.isin.as_str(), l)))
        {
            let wanted = lines.admits(isin, &line) && side.is_none_or(|side| line.side == side);
            if !wanted {
                continue;
            }
            tally.count += 1;
            tally.quantity_milli = tally.quantity_milli.saturating_add(line.quantity_milli);
            tally.value_paise +=
                i128::from(line.quantity_milli) * i128::from(line.price_paise) / 1000;
            if first.as_ref().is_none_or(|(_, f)| line.order() < f.order()) {
                first = Some((isin, line));
            }
            if last.as_ref().is_none_or(|(_, l)| line.order() > l.order()) {
                last = Some((isin, line));
            }
        }
        // Chunks go oldest first: the first found stays, the last moves on.
        if tally.first.is_none() {
            tally.first = first.map(|(isin, l)| stored(isin, &l));
        }
        if let Some((isin, l)) = last {
            tally.last = Some(stored(isin, &l));
        }
    }
    Ok(tally)
}

/// One page of the user's trades, newest first, and how many match in all.
/// It reads the months the page spans (and, with a date range, the months
/// the range cuts, to count them exactly), never the whole history.
pub async fn list_trades(
    db: &Db,
    user_id: &str,
    filter: &TradeFilter,
    offset: usize,
    limit: usize,
) -> Result<(Vec<StoredTrade>, usize), sqlx::Error> {
    let lines = LineFilter::of(filter);
    let (from, to) = (lines.from.as_deref(), lines.to.as_deref());
    let symbol = filter.symbol.as_deref();
    let month = |day: &str| packed::month(day).to_string();
    let (from_month, to_month) = (from.map(month), to.map(month));
    let mut months: Vec<(String, usize)> = months_within(db, user_id, filter)
        .await?
        .into_iter()
        .map(|(m, n)| (m, usize::try_from(n).unwrap_or(0)))
        .collect();
    let matches = |isin: &str, line: &packed::Line<'_>| lines.admits(isin, line);
    let count = |blocks: &[Block], m: &str| {
        blocks
            .iter()
            .filter(|b| b.month == m)
            .flat_map(|b| packed::lines(&b.fills).map(move |l| (b.isin.as_str(), l)))
            .filter(|(isin, l)| matches(isin, l))
            .count()
    };
    // Months the range cuts are counted line by line.
    let edges: Vec<String> = months
        .iter()
        .map(|(m, _)| m)
        .filter(|m| {
            (from.is_some() && from_month.as_ref() == Some(*m))
                || (to.is_some() && to_month.as_ref() == Some(*m))
        })
        .cloned()
        .collect();
    let mut loaded = blocks_in_months(db, user_id, &edges, symbol).await?;
    for (m, n) in &mut months {
        if edges.contains(m) {
            *n = count(&loaded, m);
        }
    }
    let total = months.iter().map(|(_, n)| n).sum();
    // The months the page spans, and how many fills come before the first.
    let end = offset.saturating_add(limit);
    let (mut seen, mut before) = (0usize, None);
    let mut wanted: Vec<String> = Vec::new();
    for (m, n) in &months {
        if seen >= end {
            break;
        }
        if seen + n > offset {
            before.get_or_insert(seen);
            wanted.push(m.clone());
        }
        seen += n;
    }
    let missing: Vec<String> = wanted
        .iter()
        .filter(|m| !edges.contains(m))
        .cloned()
        .collect();
    loaded.extend(blocks_in_months(db, user_id, &missing, symbol).await?);
    let mut lines: Vec<(&str, packed::Line<'_>)> = loaded
        .iter()
        .filter(|b| wanted.contains(&b.month))
        .flat_map(|b| packed::lines(&b.fills).map(|line| (b.isin.as_str(), line)))
        .filter(|(isin, line)| matches(isin, line))
        .collect();
    lines.sort_unstable_by(|a, b| b.1.order().cmp(&a.1.order()));
    let page = lines
        .into_iter()
        .skip(offset - before.unwrap_or(offset))
        .take(limit)
        .map(|(isin, line)| stored(isin, &line))
        .collect();
    Ok((page, total))
}

/// Splits blocks stored before trades were packed by month (their month is
/// empty) into blocks by month, user by user, each in one transaction;
/// returns how many users were moved. Runs when the app starts.
pub async fn split_unmonthed_blocks(db: &Db) -> Result<u64, sqlx::Error> {
    let users: Vec<String> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT DISTINCT user_id FROM trade_blocks WHERE month = ''")
            .fetch_all(pool)
            .await
    })?;
    for user_id in &users {
        let mut tx = db.begin().await?;
        bump_version(&mut tx, user_id).await?;
        let old: Vec<(String, String, String, String)> = with_tx!(tx, |conn| {
            sqlx::query_as(
                "SELECT security, import_id, isin, fills FROM trade_blocks WHERE user_id = $1 AND month = ''",
            )
            .bind(user_id)
            .fetch_all(conn)
            .await
        })?;
        with_tx!(tx, |conn| {
            sqlx::query("DELETE FROM trade_blocks WHERE user_id = $1 AND month = ''")
                .bind(user_id)
                .execute(conn)
                .await
                .map(|_| ())
        })?;
        for (security, import_id, isin, fills) in &old {
            let mut lines: Vec<packed::Line<'_>> = packed::lines(fills).collect();
            let blocks = packed::split(security, isin, &mut lines);
            insert_blocks(&mut tx, user_id, import_id, &blocks).await?;
            let mut months = BTreeMap::new();
            tally_months(&blocks, &mut months);
            count_months(&mut tx, user_id, &months).await?;
        }
        tx.commit().await?;
    }
    Ok(users.len() as u64)
}

/// The user's latest holdings export, by symbol.
pub async fn holdings_snapshot(
    db: &Db,
    user_id: &str,
) -> Result<Vec<HoldingSnapshot>, sqlx::Error> {
    let lines: Option<String> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT lines FROM holdings_sets WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    lines
        .as_deref()
        .map_or_else(|| Ok(Vec::new()), decode_holdings)
}

/// When the user's latest holdings export was imported (Unix ms).
pub async fn holdings_imported_at(db: &Db, user_id: &str) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT i.created_at FROM holdings_sets h JOIN imports i ON i.id = h.import_id WHERE h.user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Deletes every row of the user's, in every table the portfolio keeps.
pub async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    let tables = [
        "trade_blocks",
        "trade_months",
        "holdings_sets",
        "portfolio_versions",
        "imports",
        "synced_holdings",
        "synced_funds",
        "synced_positions",
        "syncs",
        "daily_snapshots",
        "declared_actions",
    ];
    tx.delete_where(&tables, "user_id", user_id).await.map(drop)
}

/// Up to `limit` imports made before `before` (Unix ms) whose file is still kept: (id, key).
pub async fn imports_with_files_before(
    db: &Db,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, object_key FROM imports WHERE created_at < $1 AND object_key <> '' \
             ORDER BY created_at LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Records that an import's file is no longer kept.
pub async fn forget_file(db: &Db, import_id: &str) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("UPDATE imports SET object_key = '' WHERE id = $1")
            .bind(import_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Which of `keys` an import points at.
pub async fn referenced_keys(db: &Db, keys: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in keys.chunks(500) {
        let list = platform::db::in_list(sqlite, chunk.len(), 1);
        let sql = format!("SELECT object_key FROM imports WHERE object_key IN ({list})");
        let found: Vec<String> = with_db!(db, |pool| {
            let mut query = sqlx::query_scalar(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(found);
    }
    Ok(out)
}
