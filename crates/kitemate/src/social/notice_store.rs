//! SQL of notifications.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx, with_write};

/// Unread notices are counted up to this many.
pub(super) const UNREAD_CAP: i64 = 100;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub actor_id: String,
    pub widget_id: Option<String>,
    pub widget_title: Option<String>,
    pub fork_id: Option<String>,
    pub count: i64,
    pub read: bool,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, kind, actor_id, widget_id, widget_title, fork_id, count, read, created_at";

/// A new notice, to be written.
#[derive(Debug)]
pub(super) struct NewNotice<'a> {
    pub user_id: &'a str,
    pub kind: &'a str,
    pub actor_id: &'a str,
    pub widget_id: Option<&'a str>,
    pub widget_title: Option<&'a str>,
    pub fork_id: Option<&'a str>,
    pub now: i64,
}

/// Writes a notice. A like joins the unread like notice of the same widget
/// when there is one: it counts one more, names the latest liker and takes
/// a new id, so it is newest again.
pub(super) async fn add(tx: &mut Tx, notice: &NewNotice<'_>) -> Result<(), sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let grouped = notice.kind == "liked";
    let conflict = if grouped {
        "ON CONFLICT (user_id, widget_id) WHERE kind = 'liked' AND NOT read DO UPDATE SET \
         id = excluded.id, actor_id = excluded.actor_id, count = notifications.count + 1, \
         created_at = excluded.created_at"
    } else {
        ""
    };
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "INSERT INTO notifications (user_id, {COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, FALSE, $8) {conflict}"
        ))
        .bind(notice.user_id)
        .bind(&id)
        .bind(notice.kind)
        .bind(notice.actor_id)
        .bind(notice.widget_id)
        .bind(notice.widget_title)
        .bind(notice.fork_id)
        .bind(notice.now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// A page of the user's notices older than `before`, newest first, and
/// whether more follow.
pub(super) async fn page(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<NoticeRow>, bool), sqlx::Error> {
    let (after, limit_at) = if before.is_some() {
        ("AND id < $3 ", "$2")
    } else {
        ("", "$2")
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 {after}\
         ORDER BY id DESC LIMIT {limit_at}"
    );
    let rows: Vec<NoticeRow> = with_db!(db, |pool| {
        let query = sqlx::query_as::<_, NoticeRow>(&sql)
            .bind(user_id)
            .bind(limit + 1);
        match before {
            Some(before) => query.bind(before),
            None => query,
        }
        .fetch_all(pool)
        .await
    })?;
    Ok(platform::db::page_of(rows, limit))
}

/// The user's notices newer than `after`, oldest first, at most `limit`.
pub(super) async fn newer(
    db: &Db,
    user_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, NoticeRow>(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// The newest notice's id, if any.
pub(super) async fn newest(db: &Db, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Unread notices, counted up to [`UNREAD_CAP`]: a page never counts more.
pub(super) async fn unread(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM notifications \
             WHERE user_id = $1 AND NOT read LIMIT $2) unread",
        )
        .bind(user_id)
        .bind(UNREAD_CAP)
        .fetch_one(pool)
        .await
    })
}

/// Marks read the user's notices up to and including `up_to` (all when
/// `None`); how many changed.
pub(super) async fn mark_read(
    db: &Db,
    user_id: &str,
    up_to: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let sql = if up_to.is_some() {
        "UPDATE notifications SET read = TRUE WHERE user_id = $1 AND NOT read AND id <= $2"
    } else {
        "UPDATE notifications SET read = TRUE WHERE user_id = $1 AND NOT read"
    };
    with_write!(db, |pool| {
        let query = sqlx::query(sql).bind(user_id);
        match up_to {
            Some(up_to) => query.bind(up_to),
            None => query,
        }
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Deletes read notices made before `read_before` and any made before `any_before` (Unix ms).
pub(super) async fn prune(db: &Db, read_before: i64, any_before: i64) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM notifications WHERE (read AND created_at < $1) OR created_at < $2")
            .bind(read_before)
            .bind(any_before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
