//! SQL of the audit log: append and read, nothing else.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

use super::model::Record;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct EntryRow {
    pub id: String,
    pub at: i64,
    pub user_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

const APPEND: &str = "INSERT INTO audit_log \
    (id, at, user_id, actor, action, detail, request_id, ip, dedupe_key) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING";

/// Appends `record` (once per key, when it has one).
pub(super) async fn append(db: &Db, id: &str, at: i64, record: &Record) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append_in(&mut tx, id, at, record).await?;
    tx.commit().await
}

/// Appends `record` in `tx`.
pub(super) async fn append_in(
    tx: &mut Tx,
    id: &str,
    at: i64,
    record: &Record,
) -> Result<(), sqlx::Error> {
    let detail = record.detail.to_string();
    with_tx!(tx, |conn| {
        sqlx::query(APPEND)
            .bind(id)
            .bind(at)
            .bind(&record.user_id)
            .bind(&record.actor)
            .bind(record.action)
            .bind(&detail)
            .bind(&record.origin.request_id)
            .bind(&record.origin.ip)
            .bind(&record.key)
            .execute(conn)
            .await
            .map(|_| ())
    })
}

/// Deletes every entry about the user; answers how many.
pub(super) async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<u64, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM audit_log WHERE user_id = $1")
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })
}

/// What a page may be narrowed to.
#[derive(Debug, Default)]
pub(super) struct Filter<'a> {
    pub user_id: Option<&'a str>,
    /// An action, or a prefix of actions ending in `.` (`subscription.`).
    pub action: Option<&'a str>,
    pub before: Option<&'a str>,
}

/// A page of entries older than `before`, newest first, and whether more follow.
pub(super) async fn page(
    db: &Db,
    filter: &Filter<'_>,
    limit: i64,
) -> Result<(Vec<EntryRow>, bool), sqlx::Error> {
    let mut sql = String::from(
        "SELECT id, at, user_id, actor, action, detail, request_id, ip FROM audit_log WHERE 1 = 1",
    );
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if filter.user_id.is_some() {
        sql.push_str(&format!(" AND user_id = ${}", next()));
    }
    // A prefix is matched with LIKE (its own `%`, `_` and `\` escaped): a
    // range on the text would depend on the server's collation.
    let action = filter.action.map(|a| match a.strip_suffix('.') {
        Some(_) => {
            let escaped: String = a
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            (format!("{escaped}%"), true)
        }
        None => (a.to_string(), false),
    });
    if let Some((_, like)) = &action {
        let op = if *like { "LIKE" } else { "=" };
        let escape = if *like { " ESCAPE '\\'" } else { "" };
        sql.push_str(&format!(" AND action {op} ${}{escape}", next()));
    }
    if filter.before.is_some() {
        sql.push_str(&format!(" AND id < ${}", next()));
    }
    sql.push_str(" ORDER BY id DESC LIMIT $1");
    let rows: Vec<EntryRow> = with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, EntryRow>(&sql).bind(limit + 1);
        if let Some(user) = filter.user_id {
            query = query.bind(user);
        }
        if let Some((action, _)) = &action {
            query = query.bind(action);
        }
        if let Some(before) = filter.before {
            query = query.bind(before);
        }
        query.fetch_all(pool).await
    })?;
    Ok(platform::db::page_of(rows, limit))
}
