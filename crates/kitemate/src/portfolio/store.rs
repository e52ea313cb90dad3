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
    /// JSON array of `{line, reason}`: the first 100 lines skipped.
    pub skipped: String,
    /// Every line skipped.
    pub skipped_count: i64,
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

fn decode_holdings(lines: &str) -> Vec<HoldingSnapshot> {
    lines
        .lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
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
    Ok(lines.as_deref().map(decode_holdings).unwrap_or_default())
}
