//! All SQL of market data, written once for SQLite and PostgreSQL.

use chrono::NaiveDate;
use platform::db::{Db, Tx, in_list};
use platform::{with_db, with_tx};

use super::formats::{Close, IndexClose};

/// Rows a statement: 6 values each stays far under both engines' limits.
const CHUNK: usize = 1_000;

/// A stored close.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredClose {
    pub isin: String,
    pub day: String,
    pub close_e4: i64,
    pub source: String,
}

/// A security's newest close and the one before it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LatestClose {
    pub isin: String,
    pub day: String,
    pub close_e4: i64,
    pub source: String,
    pub previous_e4: Option<i64>,
}

/// Adds `closes`, keeping per ISIN and day the best-ranked source's.
pub async fn put_closes(tx: &mut Tx, closes: &[&Close]) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in closes.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 5);
        let sql = format!(
            "INSERT INTO closes (isin, day, close_e4, source, rank) VALUES {rows} \
             ON CONFLICT (isin, day) DO UPDATE SET close_e4 = excluded.close_e4, \
             source = excluded.source, rank = excluded.rank WHERE excluded.rank <= closes.rank"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for c in chunk {
                query = query
                    .bind(&c.isin)
                    .bind(c.day.to_string())
                    .bind(c.close)
                    .bind(c.source.as_str())
                    .bind(c.source.rank());
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Moves each security's newest close forward to what `closes` holds, if
/// newer (or the same day from a better-ranked source).
pub async fn put_latest(tx: &mut Tx, closes: &[&Close]) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in closes.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 5);
        // The same day replaces only when the stored close is that day's
        // winner in `closes` (which the caller wrote first).
        let sql = format!(
            "INSERT INTO latest_closes (isin, day, close_e4, source, symbol) VALUES {rows} \
             ON CONFLICT (isin) DO UPDATE SET day = excluded.day, close_e4 = excluded.close_e4, \
             source = excluded.source, symbol = excluded.symbol \
             WHERE excluded.day > latest_closes.day OR (excluded.day = latest_closes.day \
             AND excluded.source = (SELECT source FROM closes c WHERE c.isin = excluded.isin AND c.day = excluded.day))"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for c in chunk {
                query = query
                    .bind(&c.isin)
                    .bind(c.day.to_string())
                    .bind(c.close)
                    .bind(c.source.as_str())
                    .bind(&c.symbol);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

pub async fn put_indices(tx: &mut Tx, indices: &[IndexClose]) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in indices.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 3);
        let sql = format!(
            "INSERT INTO index_closes (name, day, close_e4) VALUES {rows} \
             ON CONFLICT (name, day) DO UPDATE SET close_e4 = excluded.close_e4"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for i in chunk {
                query = query.bind(&i.name).bind(i.day.to_string()).bind(i.close);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A file as recorded once loaded.
pub struct NewLoad<'a> {
    pub id: &'a str,
    pub layout: &'a str,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub days: &'a [NaiveDate],
    /// The (feed, day) pairs the file counts as loaded.
    pub feed_days: &'a [(&'static str, NaiveDate)],
    pub closes: i64,
    pub indices: i64,
    pub skipped: i64,
    pub at: i64,
}

pub async fn record_load(tx: &mut Tx, load: &NewLoad<'_>) -> Result<(), sqlx::Error> {
    let (first, last) = (
        load.days.first().map(ToString::to_string),
        load.days.last().map(ToString::to_string),
    );
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO loads (id, layout, file_name, sha256, first_day, last_day, closes, indices, skipped, loaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(load.id)
        .bind(load.layout)
        .bind(load.file_name)
        .bind(load.sha256)
        .bind(first)
        .bind(last)
        .bind(load.closes)
        .bind(load.indices)
        .bind(load.skipped)
        .bind(load.at)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    let sqlite = tx.is_sqlite();
    for chunk in load.feed_days.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 2);
        let sql = format!(
            "INSERT INTO loaded_days (feed, day) VALUES {rows} ON CONFLICT (feed, day) DO NOTHING"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for (feed, day) in chunk {
                query = query.bind(*feed).bind(day.to_string());
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE price_generation SET generation = generation + 1 WHERE id = 1")
            .execute(conn)
            .await
            .map(|_| ())
    })
}

/// Whether a file with this SHA-256 was loaded before.
pub async fn has_load(db: &Db, sha256: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>("SELECT id FROM loads WHERE sha256 = $1 LIMIT 1")
            .bind(sha256)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some())
    })
}

/// The counter every load bumps.
pub async fn generation(db: &Db) -> Result<i64, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT generation FROM price_generation WHERE id = 1")
            .fetch_optional(pool)
            .await
            .map(Option::unwrap_or_default)
    })
}

/// The newest close of each of `isins` that has one, with the close before it.
pub async fn latest(db: &Db, isins: &[&str]) -> Result<Vec<LatestClose>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in isins.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 1);
        let sql = format!(
            "SELECT l.isin, l.day, l.close_e4, l.source, \
             (SELECT p.close_e4 FROM closes p WHERE p.isin = l.isin AND p.day < l.day \
              ORDER BY p.day DESC LIMIT 1) AS previous_e4 \
             FROM latest_closes l WHERE l.isin IN ({list})"
        );
        let rows: Vec<LatestClose> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql);
            for isin in chunk {
                query = query.bind(*isin);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Every close of `isins` from `from` to `to`, by ISIN then day.
pub async fn closes_between(
    db: &Db,
    isins: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StoredClose>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in isins.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 3);
        let (from_mark, to_mark) = if sqlite { ("?", "?") } else { ("$1", "$2") };
        let sql = format!(
            "SELECT isin, day, close_e4, source FROM closes \
             WHERE day >= {from_mark} AND day <= {to_mark} AND isin IN ({list}) ORDER BY isin, day"
        );
        let rows: Vec<StoredClose> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql)
                .bind(from.to_string())
                .bind(to.to_string());
            for isin in chunk {
                query = query.bind(*isin);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// The closes of `isins` on the last day with one on or before `day`, for
/// a value at a day's start.
pub async fn closes_on_or_before(
    db: &Db,
    isins: &[&str],
    day: NaiveDate,
) -> Result<Vec<StoredClose>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in isins.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 2);
        let mark = if sqlite { "?" } else { "$1" };
        // Each ISIN's newest day on or before `day`, found in the (isin, day)
        // key; the day comes first in the text, so both engines bind it first.
        let sql = format!(
            "SELECT c.isin, c.day, c.close_e4, c.source FROM closes c \
             WHERE c.day = (SELECT MAX(p.day) FROM closes p WHERE p.isin = c.isin AND p.day <= {mark}) \
             AND c.isin IN ({list})"
        );
        let rows: Vec<StoredClose> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql).bind(day.to_string());
            for isin in chunk {
                query = query.bind(*isin);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// An index's closes from `from` to `to`, oldest first.
pub async fn index_between(
    db: &Db,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT day, close_e4 FROM index_closes WHERE name = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        )
        .bind(name)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(pool)
        .await
    })
}

/// Days of `feed` loaded from `from` to `to`.
pub async fn loaded_days(
    db: &Db,
    feed: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT day FROM loaded_days WHERE feed = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        )
        .bind(feed)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(pool)
        .await
    })
}

/// The newest day of `feed` loaded.
pub async fn last_loaded_day(db: &Db, feed: &str) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT MAX(day) FROM loaded_days WHERE feed = $1")
            .bind(feed)
            .fetch_one(pool)
            .await
    })
}

/// The newest loads, newest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoadRow {
    pub id: String,
    pub layout: String,
    pub file_name: String,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub closes: i64,
    pub indices: i64,
    pub skipped: i64,
    pub loaded_at: i64,
}

pub async fn recent_loads(db: &Db, limit: i64) -> Result<Vec<LoadRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, layout, file_name, first_day, last_day, closes, indices, skipped, loaded_at \
             FROM loads ORDER BY loaded_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Keeps live prices read at `at` (Unix ms), and moves the generation.
pub async fn put_live(tx: &mut Tx, prices: &[(String, i64)], at: i64) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in prices.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 3);
        let sql = format!(
            "INSERT INTO live_prices (isin, price_e4, read_at) VALUES {rows} \
             ON CONFLICT (isin) DO UPDATE SET price_e4 = excluded.price_e4, read_at = excluded.read_at"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for (isin, price) in chunk {
                query = query.bind(isin).bind(*price).bind(at);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE price_generation SET generation = generation + 1 WHERE id = 1")
            .execute(conn)
            .await
            .map(|_| ())
    })
}

/// The live prices of `isins` read at or after `since` (Unix ms): (isin, price × 10⁴, read at).
pub async fn live(
    db: &Db,
    isins: &[&str],
    since: i64,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in isins.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 2);
        let sql = format!(
            "SELECT isin, price_e4, read_at FROM live_prices WHERE read_at >= {} AND isin IN ({list})",
            if sqlite { "?" } else { "$1" }
        );
        let rows: Vec<(String, i64, i64)> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql).bind(since);
            for isin in chunk {
                query = query.bind(*isin);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// A corporate action as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub id: String,
    pub key: String,
    pub symbol: String,
    pub kind: String,
    pub ex_date: String,
    pub allotted_on: Option<String>,
    pub ratio_new: i64,
    pub ratio_old: i64,
    pub into_isin: Option<String>,
    pub into_symbol: Option<String>,
    pub cost_share: Option<String>,
    pub source: String,
    pub note: String,
}

/// Adds `rows`, replacing the terms of one already known (same security,
/// kind and ex-date): a later file corrects an earlier one.
pub async fn put_actions(tx: &mut Tx, rows: &[ActionRow], at: i64) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in rows.chunks(CHUNK / 2) {
        let values = platform::db::values_rows(sqlite, chunk.len(), 14);
        let sql = format!(
            "INSERT INTO corporate_actions (id, key, symbol, kind, ex_date, allotted_on, ratio_new, \
             ratio_old, into_isin, into_symbol, cost_share, source, note, loaded_at) VALUES {values} \
             ON CONFLICT (key, kind, ex_date) DO UPDATE SET allotted_on = excluded.allotted_on, \
             ratio_new = excluded.ratio_new, ratio_old = excluded.ratio_old, \
             into_isin = excluded.into_isin, into_symbol = excluded.into_symbol, \
             cost_share = excluded.cost_share, source = excluded.source, note = excluded.note, \
             loaded_at = excluded.loaded_at"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query
                    .bind(&r.id)
                    .bind(&r.key)
                    .bind(&r.symbol)
                    .bind(&r.kind)
                    .bind(&r.ex_date)
                    .bind(&r.allotted_on)
                    .bind(r.ratio_new)
                    .bind(r.ratio_old)
                    .bind(&r.into_isin)
                    .bind(&r.into_symbol)
                    .bind(&r.cost_share)
                    .bind(&r.source)
                    .bind(&r.note)
                    .bind(at);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE price_generation SET generation = generation + 1 WHERE id = 1")
            .execute(conn)
            .await
            .map(|_| ())
    })
}

/// Counts `feed` as loaded for `day`.
pub async fn mark_loaded(tx: &mut Tx, feed: &str, day: NaiveDate) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("INSERT INTO loaded_days (feed, day) VALUES ($1, $2) ON CONFLICT (feed, day) DO NOTHING")
            .bind(feed)
            .bind(day.to_string())
            .execute(conn)
            .await
            .map(|_| ())
    })
}

/// The corporate actions of the securities `keys` names (ISINs and
/// `symbol:X` keys), oldest first.
pub async fn actions_for(db: &Db, keys: &[&str]) -> Result<Vec<ActionRow>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in keys.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 1);
        let sql = format!(
            "SELECT id, key, symbol, kind, ex_date, allotted_on, ratio_new, ratio_old, into_isin, \
             into_symbol, cost_share, source, note FROM corporate_actions WHERE key IN ({list}) \
             ORDER BY ex_date, id"
        );
        let rows: Vec<ActionRow> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Records the highs of 31 January 2018, keeping the higher of two exchanges'.
pub async fn put_fmv(tx: &mut Tx, highs: &[(&str, i64, &str)]) -> Result<(), sqlx::Error> {
    let sqlite = tx.is_sqlite();
    for chunk in highs.chunks(CHUNK) {
        let rows = platform::db::values_rows(sqlite, chunk.len(), 3);
        let sql = format!(
            "INSERT INTO fmv_2018 (isin, high_e4, source) VALUES {rows} \
             ON CONFLICT (isin) DO UPDATE SET high_e4 = excluded.high_e4, source = excluded.source \
             WHERE excluded.high_e4 > fmv_2018.high_e4"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for (isin, high, source) in chunk {
                query = query.bind(*isin).bind(*high).bind(*source);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The fair market values of 31 January 2018 of those of `isins` that have one.
pub async fn fmv(db: &Db, isins: &[&str]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut out = Vec::new();
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    for chunk in isins.chunks(CHUNK) {
        let list = in_list(sqlite, chunk.len(), 1);
        let sql = format!("SELECT isin, high_e4 FROM fmv_2018 WHERE isin IN ({list})");
        let rows: Vec<(String, i64)> = with_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql);
            for isin in chunk {
                query = query.bind(*isin);
            }
            query.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
