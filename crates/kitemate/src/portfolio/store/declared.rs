//! Corporate actions users declared for their own portfolios.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

/// A declared action as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeclaredRow {
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
    pub note: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, key, symbol, kind, ex_date, allotted_on, ratio_new, ratio_old, \
                       into_isin, into_symbol, cost_share, note, created_at";

/// Every action the user declared, oldest ex-date first.
pub async fn declared(db: &Db, user_id: &str) -> Result<Vec<DeclaredRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM declared_actions WHERE user_id = $1 ORDER BY ex_date, id");
    with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await
    })
}

/// How many actions the user declared.
pub async fn count_declared(tx: &mut Tx, user_id: &str) -> Result<i64, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT COUNT(*) FROM declared_actions WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await
    })
}

/// Stores `row`; `false` when the user declared that action (security,
/// kind, ex-date) already.
pub async fn insert_declared(
    tx: &mut Tx,
    user_id: &str,
    row: &DeclaredRow,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO declared_actions (user_id, {COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (user_id, key, kind, ex_date) DO NOTHING"
    );
    with_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(user_id)
            .bind(&row.id)
            .bind(&row.key)
            .bind(&row.symbol)
            .bind(&row.kind)
            .bind(&row.ex_date)
            .bind(&row.allotted_on)
            .bind(row.ratio_new)
            .bind(row.ratio_old)
            .bind(&row.into_isin)
            .bind(&row.into_symbol)
            .bind(&row.cost_share)
            .bind(&row.note)
            .bind(row.created_at)
            .execute(conn)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}

/// Deletes one declared action; `false` when the user has none by that id.
pub async fn delete_declared(tx: &mut Tx, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM declared_actions WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}
