//! SQL of the portfolio service, written once for SQLite and PostgreSQL
//! (bulk inserts differ: multi-row VALUES on SQLite, UNNEST on PostgreSQL).

use platform::db::{Db, Tx, TxConn};
use platform::{with_db, with_tx};

/// A trade ready to store: money in paise, quantities in thousandths.
#[derive(Debug, Clone)]
pub struct TradeRow {
    pub trade_id: String,
    pub exchange: String,
    pub segment: String,
    pub symbol: String,
    pub isin: String,
    pub trade_date: String,
    pub executed_at: Option<String>,
    pub side: &'static str,
    pub quantity_milli: i64,
    pub price_paise: i64,
    pub order_id: String,
}

/// A stored trade as the API lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
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

const TRADE_COLUMNS: &str = "user_id, trade_id, exchange, segment, symbol, isin, trade_date, \
                             executed_at, side, quantity_milli, price_paise, order_id, import_id";

/// SQLite takes at most 32,766 bound values per statement; 13 per row.
const SQLITE_ROWS: usize = 2_500;
/// Rows per UNNEST statement on PostgreSQL.
const POSTGRES_ROWS: usize = 50_000;

/// Stores `trades`, skipping any already stored; returns how many were new.
pub async fn insert_trades(
    tx: &mut Tx,
    user_id: &str,
    import_id: &str,
    trades: &[TradeRow],
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    match tx.conn() {
        TxConn::Sqlite(conn) => {
            for chunk in trades.chunks(SQLITE_ROWS) {
                // Anonymous `?` parameters: SQLite looks up a numbered
                // parameter's name by walking all of them, which makes
                // 32,500 `$N` parameters quadratic (a minute per 100,000 rows).
                let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
                let sql = format!(
                    "INSERT INTO trades ({TRADE_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING",
                    vec![row; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for t in chunk {
                    query = query
                        .bind(user_id)
                        .bind(&t.trade_id)
                        .bind(&t.exchange)
                        .bind(&t.segment)
                        .bind(&t.symbol)
                        .bind(&t.isin)
                        .bind(&t.trade_date)
                        .bind(&t.executed_at)
                        .bind(t.side)
                        .bind(t.quantity_milli)
                        .bind(t.price_paise)
                        .bind(&t.order_id)
                        .bind(import_id);
                }
                inserted += query.execute(&mut **conn).await?.rows_affected();
            }
        }
        TxConn::Postgres(conn) => {
            for chunk in trades.chunks(POSTGRES_ROWS) {
                let column = |f: fn(&TradeRow) -> String| chunk.iter().map(f).collect::<Vec<_>>();
                let executed: Vec<Option<String>> =
                    chunk.iter().map(|t| t.executed_at.clone()).collect();
                let sides: Vec<&str> = chunk.iter().map(|t| t.side).collect();
                let quantities: Vec<i64> = chunk.iter().map(|t| t.quantity_milli).collect();
                let prices: Vec<i64> = chunk.iter().map(|t| t.price_paise).collect();
                let result = sqlx::query(&format!(
                    "INSERT INTO trades ({TRADE_COLUMNS}) \
                     SELECT $1, t.*, $13 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], \
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
                     $12::text[]) AS t ON CONFLICT DO NOTHING"
                ))
                .bind(user_id)
                .bind(column(|t| t.trade_id.clone()))
                .bind(column(|t| t.exchange.clone()))
                .bind(column(|t| t.segment.clone()))
                .bind(column(|t| t.symbol.clone()))
                .bind(column(|t| t.isin.clone()))
                .bind(column(|t| t.trade_date.clone()))
                .bind(executed)
                .bind(sides)
                .bind(quantities)
                .bind(prices)
                .bind(column(|t| t.order_id.clone()))
                .bind(import_id)
                .execute(&mut **conn)
                .await?;
                inserted += result.rows_affected();
            }
        }
    }
    Ok(inserted)
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
    offset: i64,
    limit: i64,
) -> Result<(Vec<StoredTrade>, i64), sqlx::Error> {
    let condition = "user_id = $1 AND ($2 IS NULL OR symbol = $2 OR isin = $2) \
                     AND ($3 IS NULL OR trade_date >= $3) AND ($4 IS NULL OR trade_date <= $4)";
    let page_sql = format!(
        "SELECT trade_id, exchange, segment, symbol, isin, trade_date, executed_at, side, quantity_milli, \
         price_paise, order_id FROM trades WHERE {condition} \
         ORDER BY trade_date DESC, executed_at DESC, trade_id DESC LIMIT $5 OFFSET $6"
    );
    let count_sql = format!("SELECT COUNT(*) FROM trades WHERE {condition}");
    let page = with_db!(db, |pool| {
        sqlx::query_as(&page_sql)
            .bind(user_id)
            .bind(&filter.symbol)
            .bind(&filter.from)
            .bind(&filter.to)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
    })?;
    let total: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(&count_sql)
            .bind(user_id)
            .bind(&filter.symbol)
            .bind(&filter.from)
            .bind(&filter.to)
            .fetch_one(pool)
            .await
    })?;
    Ok((page, total))
}

/// Every trade of the user in the order they happened, with the fields
/// the calculations read.
///
/// The database packs each security's trades into one string: SQLite hands
/// rows over from its worker thread one at a time, so a million rows cost
/// twelve seconds as rows and about one as five hundred strings.
pub async fn all_trades(db: &Db, user_id: &str) -> Result<Vec<StoredTrade>, sqlx::Error> {
    let groups: Vec<(String, String, String)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT isin, MIN(symbol), string_agg(trade_date || ',' || side || ',' || CAST(quantity_milli AS TEXT) \
             || ',' || CAST(price_paise AS TEXT), ';' ORDER BY trade_date, COALESCE(executed_at, ''), trade_id) \
             FROM trades WHERE user_id = $1 \
             GROUP BY isin, CASE WHEN isin = '' THEN symbol ELSE '' END",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    let mut trades = Vec::new();
    for (isin, symbol, packed) in groups {
        for fill in packed.split(';') {
            let mut parts = fill.split(',');
            let (Some(date), Some(side), Some(quantity), Some(price)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            trades.push(StoredTrade {
                trade_id: String::new(),
                exchange: String::new(),
                segment: String::new(),
                symbol: symbol.clone(),
                isin: isin.clone(),
                trade_date: date.to_string(),
                executed_at: None,
                side: side.to_string(),
                quantity_milli: quantity.parse().unwrap_or_default(),
                price_paise: price.parse().unwrap_or_default(),
                order_id: String::new(),
            });
        }
    }
    Ok(trades)
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
