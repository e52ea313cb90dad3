//! SQL of what a sync from Kite stores: the latest holdings, funds and
//! positions, the sync itself, and one value per IST day.

use chrono::{DateTime, NaiveDate, Utc};
use kite::money::Paise;
use platform::db::{Db, Tx};
use platform::{with_db, with_tx};
use rust_decimal::Decimal;

/// A stored holding from the last sync.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SyncedHolding {
    pub isin: String,
    pub symbol: String,
    pub quantity_milli: i64,
    pub average_price: String,
    pub last_price: String,
    pub close_price: String,
}

/// A stored position from the last sync.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SyncedPosition {
    pub symbol: String,
    pub exchange: String,
    pub product: String,
    pub quantity: i64,
    pub average_price: String,
    pub last_price: String,
    pub pnl: String,
}

/// What one sync stores.
#[derive(Debug)]
pub struct SyncRecord<'a> {
    pub holdings: &'a [kite::models::Holding],
    pub funds: &'a [kite::models::MfHolding],
    pub positions: &'a [kite::models::Position],
    pub equity_net: Option<Decimal>,
    pub equity_cash: Option<Decimal>,
    pub at: DateTime<Utc>,
    /// The IST day the value counts for.
    pub day: NaiveDate,
    pub value: Paise,
    pub invested: Paise,
}

/// Stored decimals are written by this code from exact decimals; one that
/// does not read back is corrupt data, and says so.
fn decimal(text: &str) -> Result<Decimal, sqlx::Error> {
    text.parse()
        .map_err(|err| sqlx::Error::Decode(format!("stored decimal {text:?}: {err}").into()))
}

/// Quantities in thousandths; Kite's fund units have three places.
fn milli(quantity: Decimal) -> i64 {
    kite::money::Quantity::rounded(quantity)
        .and_then(kite::money::Quantity::milli)
        .unwrap_or(i64::MAX)
}

async fn clear(tx: &mut Tx, table: &str, user_id: &str) -> Result<(), sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE user_id = $1");
    with_tx!(tx, |conn| sqlx::query(&sql)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ()))
}

/// Replaces the user's synced snapshot with `sync` and records the day's value.
pub async fn record_sync(
    tx: &mut Tx,
    user_id: &str,
    sync: &SyncRecord<'_>,
) -> Result<(), sqlx::Error> {
    for table in ["synced_holdings", "synced_funds", "synced_positions"] {
        clear(tx, table, user_id).await?;
    }
    for h in sync.holdings {
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO synced_holdings (user_id, isin, symbol, exchange, quantity_milli, average_price, last_price, close_price) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(&h.isin)
            .bind(&h.tradingsymbol)
            .bind(&h.exchange)
            .bind(h.total_quantity() * 1000)
            .bind(h.average_price.to_string())
            .bind(h.last_price.to_string())
            .bind(h.close_price.to_string())
            .execute(conn)
            .await
            .map(|_| ())
        })?;
    }
    for f in sync.funds {
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO synced_funds (user_id, isin, fund, quantity_milli, average_price, last_price) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(&f.tradingsymbol)
            .bind(&f.fund)
            .bind(milli(f.quantity))
            .bind(f.average_price.to_string())
            .bind(f.last_price.to_string())
            .execute(conn)
            .await
            .map(|_| ())
        })?;
    }
    for p in sync.positions {
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO synced_positions (user_id, symbol, exchange, product, quantity, average_price, last_price, pnl) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(&p.tradingsymbol)
            .bind(&p.exchange)
            .bind(&p.product)
            .bind(p.quantity)
            .bind(p.average_price.to_string())
            .bind(p.last_price.to_string())
            .bind(p.pnl.to_string())
            .execute(conn)
            .await
            .map(|_| ())
        })?;
    }
    let (net, cash) = (
        sync.equity_net.map(|d| d.to_string()),
        sync.equity_cash.map(|d| d.to_string()),
    );
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO syncs (user_id, synced_at, equity_net, equity_cash) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET synced_at = $2, equity_net = $3, equity_cash = $4",
        )
        .bind(user_id)
        .bind(sync.at.timestamp_millis())
        .bind(&net)
        .bind(&cash)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    with_tx!(tx, |conn| {
        sqlx::query(
            // The refresh's row, valued at the day's closes, stands.
            "INSERT INTO daily_snapshots (user_id, day, value_paise, invested_paise, pnl_paise) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, day) DO UPDATE SET value_paise = $3, invested_paise = $4, pnl_paise = $5 \
             WHERE daily_snapshots.source <> 'close'",
        )
        .bind(user_id)
        .bind(sync.day.to_string())
        .bind(sync.value.get())
        .bind(sync.invested.get())
        .bind((sync.value - sync.invested).get())
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

pub async fn synced_holdings(db: &Db, user_id: &str) -> Result<Vec<SyncedHolding>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT isin, symbol, quantity_milli, average_price, last_price, close_price \
             FROM synced_holdings WHERE user_id = $1 ORDER BY symbol",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

pub async fn synced_positions(db: &Db, user_id: &str) -> Result<Vec<SyncedPosition>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT symbol, exchange, product, quantity, average_price, last_price, pnl \
             FROM synced_positions WHERE user_id = $1 ORDER BY symbol",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// A stored day's end.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub day: String,
    pub value_paise: i64,
    pub invested_paise: i64,
    pub day_change_paise: Option<i64>,
    pub net_flow_paise: Option<i64>,
    pub nifty_close_e4: Option<i64>,
    pub source: String,
}

/// The recorded days between two IST days, oldest first.
pub async fn history(
    db: &Db,
    user_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<SnapshotRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT day, value_paise, invested_paise, day_change_paise, net_flow_paise, nifty_close_e4, source \
             FROM daily_snapshots WHERE user_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        )
        .bind(user_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    })
}

/// (isin, fund name, units, average, last NAV) of the funds at the last sync.
pub async fn synced_funds(
    db: &Db,
    user_id: &str,
) -> Result<Vec<(String, String, Decimal, Decimal, Decimal)>, sqlx::Error> {
    let rows: Vec<(String, String, i64, String, String)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT isin, fund, quantity_milli, average_price, last_price FROM synced_funds WHERE user_id = $1 ORDER BY fund",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter()
        .map(|(isin, fund, q, avg, last)| {
            Ok((
                isin,
                fund,
                Decimal::new(q, 3),
                decimal(&avg)?,
                decimal(&last)?,
            ))
        })
        .collect()
}

/// When the user last synced from Kite (Unix ms).
pub async fn synced_at(db: &Db, user_id: &str) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT synced_at FROM syncs WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })
}

/// A day's end as the daily refresh records it.
#[derive(Debug, Clone)]
pub struct CloseSnapshot {
    pub user_id: String,
    pub value: Paise,
    pub invested: Paise,
    pub day_change: Option<Paise>,
    pub net_flow: Paise,
}

/// Records the day's end of every user in `rows` (replacing a sync's row of
/// that day), with NIFTY 50's close.
pub async fn record_closes(
    tx: &mut Tx,
    day: NaiveDate,
    nifty_e4: Option<i64>,
    rows: &[CloseSnapshot],
) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    let day = day.to_string();
    for chunk in rows.chunks(500) {
        let values = platform::db::values_rows(sqlite, chunk.len(), 9);
        let sql = format!(
            "INSERT INTO daily_snapshots (user_id, day, value_paise, invested_paise, pnl_paise, \
             day_change_paise, net_flow_paise, nifty_close_e4, source) VALUES {values} \
             ON CONFLICT (user_id, day) DO UPDATE SET value_paise = excluded.value_paise, \
             invested_paise = excluded.invested_paise, pnl_paise = excluded.pnl_paise, \
             day_change_paise = excluded.day_change_paise, net_flow_paise = excluded.net_flow_paise, \
             nifty_close_e4 = excluded.nifty_close_e4, source = excluded.source"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(&row.user_id)
                    .bind(&day)
                    .bind(row.value.get())
                    .bind(row.invested.get())
                    .bind((row.value - row.invested).get())
                    .bind(row.day_change.map(Paise::get))
                    .bind(row.net_flow.get())
                    .bind(nifty_e4)
                    .bind("close");
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Users with a closing snapshot of `day` already.
pub async fn closed_users(db: &Db, day: NaiveDate) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT user_id FROM daily_snapshots WHERE day = $1 AND source = 'close'",
        )
        .bind(day.to_string())
        .fetch_all(pool)
        .await
    })
}

/// Users who synced at or after `since` (Unix ms).
pub async fn synced_since(db: &Db, since: i64) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT user_id FROM syncs WHERE synced_at >= $1")
            .bind(since)
            .fetch_all(pool)
            .await
    })
}

/// A page of the users with any portfolio data, by id after `after`.
pub async fn users_after(db: &Db, after: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT user_id FROM portfolio_versions WHERE user_id > $1 ORDER BY user_id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// The user's first recorded day.
pub async fn first_snapshot_day(db: &Db, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT MIN(day) FROM daily_snapshots WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await
    })
}

/// The instruments `users` held at their last syncs: (exchange, symbol, ISIN), once each.
pub async fn synced_instruments(
    db: &Db,
    users: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let mut out = std::collections::BTreeSet::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in users.chunks(500) {
        let list = platform::db::in_list(sqlite, chunk.len(), 1);
        let sql = format!(
            "SELECT DISTINCT exchange, symbol, isin FROM synced_holdings WHERE user_id IN ({list})"
        );
        let rows: Vec<(String, String, String)> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql);
            for user in chunk {
                query = query.bind(user);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out.into_iter().collect())
}
