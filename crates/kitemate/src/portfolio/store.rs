//! SQL of the portfolio service, written once for SQLite and PostgreSQL.

use platform::db::{Db, Tx};
use rust_decimal::Decimal;

use super::packed;
use platform::{with_db, with_tx};

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

impl StoredTrade {
    pub fn quantity(&self) -> Decimal {
        Decimal::new(self.quantity_milli, 3).normalize()
    }

    /// Quantity × price, in whole paise.
    pub fn value_paise(&self) -> i64 {
        (self.quantity() * Decimal::from(self.price_paise))
            .round()
            .try_into()
            .unwrap_or(i64::MAX)
    }
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
    /// JSON array of `{line, reason}`.
    pub skipped: String,
    pub created_at: i64,
}

/// The fills of one security from one import, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Block {
    pub isin: String,
    /// Lines in the format of [`packed`].
    pub fills: String,
}

/// A block about to be stored.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// The ISIN, or `symbol:` and the symbol when the file gave none.
    pub security: String,
    pub isin: String,
    pub fills: String,
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

pub async fn insert_blocks(
    tx: &mut Tx,
    user_id: &str,
    import_id: &str,
    blocks: &[NewBlock],
) -> Result<(), sqlx::Error> {
    for block in blocks {
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO trade_blocks (user_id, security, import_id, isin, fills) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user_id)
            .bind(&block.security)
            .bind(import_id)
            .bind(&block.isin)
            .bind(&block.fills)
            .execute(conn)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}

/// Replaces the user's holdings snapshot with `rows`; returns how many of
/// them were already there unchanged.
pub async fn replace_holdings(
    tx: &mut Tx,
    user_id: &str,
    import_id: &str,
    rows: &[HoldingSnapshot],
) -> Result<u64, sqlx::Error> {
    let before: Vec<HoldingSnapshot> = with_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT symbol, isin, quantity_milli, average_price, last_price FROM imported_holdings \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(conn)
        .await
    })?;
    let unchanged = rows
        .iter()
        .filter(|r| {
            before.iter().any(|b| {
                b.symbol == r.symbol
                    && b.quantity_milli == r.quantity_milli
                    && b.average_price == r.average_price
            })
        })
        .count() as u64;
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM imported_holdings WHERE user_id = $1")
            .bind(user_id)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    for row in rows {
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO imported_holdings (user_id, symbol, isin, quantity_milli, average_price, last_price, import_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (user_id, symbol) DO UPDATE SET quantity_milli = imported_holdings.quantity_milli + excluded.quantity_milli",
            )
            .bind(user_id)
            .bind(&row.symbol)
            .bind(&row.isin)
            .bind(row.quantity_milli)
            .bind(&row.average_price)
            .bind(&row.last_price)
            .bind(import_id)
            .execute(conn)
            .await
            .map(|_| ())
        })?;
    }
    Ok(unchanged)
}

pub async fn insert_import(
    tx: &mut Tx,
    user_id: &str,
    record: &ImportRecord,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO imports (id, user_id, kind, file_name, object_key, rows_read, imported, duplicates, skipped, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        .bind(record.created_at)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

pub async fn list_imports(
    db: &Db,
    user_id: &str,
    limit: i64,
) -> Result<Vec<ImportRecord>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, kind, file_name, object_key, rows_read, imported, duplicates, skipped, created_at \
             FROM imports WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Which trades to list.
#[derive(Debug, Default)]
pub struct TradeFilter {
    pub symbol: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One page of the user's trades, newest first, and how many match in all.
pub async fn list_trades(
    db: &Db,
    user_id: &str,
    filter: &TradeFilter,
    offset: usize,
    limit: usize,
) -> Result<(Vec<StoredTrade>, usize), sqlx::Error> {
    let blocks = blocks(db, user_id).await?;
    let (from, to) = (filter.from.as_deref(), filter.to.as_deref());
    let mut matching: Vec<(&str, packed::Line<'_>)> = blocks
        .iter()
        .flat_map(|b| packed::lines(&b.fills).map(|line| (b.isin.as_str(), line)))
        .filter(|(isin, line)| {
            filter
                .symbol
                .as_deref()
                .is_none_or(|s| line.symbol == s || *isin == s)
                && from.is_none_or(|from| line.trade_date >= from)
                && to.is_none_or(|to| line.trade_date <= to)
        })
        .collect();
    let total = matching.len();
    matching.sort_unstable_by(|a, b| b.1.order().cmp(&a.1.order()));
    let page = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(isin, line)| StoredTrade {
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
        })
        .collect();
    Ok((page, total))
}

/// The user's latest holdings export.
pub async fn holdings_snapshot(
    db: &Db,
    user_id: &str,
) -> Result<Vec<HoldingSnapshot>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT symbol, isin, quantity_milli, average_price, last_price FROM imported_holdings \
             WHERE user_id = $1 ORDER BY symbol",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}
