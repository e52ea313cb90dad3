//! SQL of the widgets service, written once for SQLite and PostgreSQL.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

/// The revisions kept of each widget.
pub(super) const KEPT_REVISIONS: i64 = 20;

const COLUMNS: &str = "id, user_id, content, visibility, hide_amounts, share_token, revision, \
     created_at, updated_at, forked_from, hidden, likes, forks";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct WidgetRow {
    pub id: String,
    pub user_id: String,
    pub content: String,
    pub visibility: String,
    pub hide_amounts: bool,
    pub share_token: Option<String>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// JSON lineage of a fork.
    pub forked_from: Option<String>,
    /// Hidden by an administrator.
    pub hidden: bool,
    pub likes: i64,
    pub forks: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RevisionRow {
    pub revision: i64,
    pub content: String,
    pub created_at: i64,
}

/// What an owner's allowance counts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Counted {
    Widgets,
    Dashboards,
}

impl Counted {
    fn column(self) -> &'static str {
        match self {
            Self::Widgets => "widgets",
            Self::Dashboards => "dashboards",
        }
    }
}

/// Takes one place of the owner's allowance of `limit`; false when none is
/// left. Atomic in both engines: the row is locked (or the database
/// written) by the conditional update.
pub(super) async fn take_place(
    tx: &mut Tx,
    user_id: &str,
    counted: Counted,
    limit: i64,
) -> Result<bool, sqlx::Error> {
    let column = counted.column();
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO widget_owners (user_id, widgets) VALUES ($1, 0) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(&format!(
            "UPDATE widget_owners SET {column} = {column} + 1 WHERE user_id = $1 AND {column} < $2"
        ))
        .bind(user_id)
        .bind(limit)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Gives a place back.
async fn free_place(tx: &mut Tx, user_id: &str, counted: Counted) -> Result<(), sqlx::Error> {
    let column = counted.column();
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "UPDATE widget_owners SET {column} = {column} - 1 WHERE user_id = $1 AND {column} > 0"
        ))
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// A page of the user's rows of `table` that also meet `also` (an SQL
/// condition, or empty), older than `before` (all when `None`), newest
/// first: at most `limit` rows, and whether more follow.
async fn page_of<R>(
    db: &Db,
    table: &str,
    columns: &str,
    also: &str,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<R>, bool), sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let (after, limit_at) = if before.is_some() {
        ("AND id < $2 ", "$3")
    } else {
        ("", "$2")
    };
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE user_id = $1 {also} {after}\
         ORDER BY id DESC LIMIT {limit_at}"
    );
    // One row past the page says whether another follows.
    let rows: Vec<R> = with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, R>(&sql).bind(user_id);
        if let Some(before) = before {
            query = query.bind(before);
        }
        query.bind(limit + 1).fetch_all(pool).await
    })?;
    Ok(platform::db::page_of(rows, limit))
}

/// Stores a new widget; `search` is what search reads, `trend` its
/// starting trending score.
pub(super) async fn insert(
    tx: &mut Tx,
    row: &WidgetRow,
    search: &str,
    trend: f64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "INSERT INTO widgets ({COLUMNS}, points, views, search, trend) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, 0, 0, $12, $13)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.content)
        .bind(&row.visibility)
        .bind(row.hide_amounts)
        .bind(&row.share_token)
        .bind(row.revision)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.forked_from)
        .bind(row.hidden)
        .bind(search)
        .bind(trend)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO widget_revisions (widget_id, revision, content, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&row.id)
        .bind(row.revision)
        .bind(&row.content)
        .bind(row.updated_at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The widget, if it is the user's; locked for the rest of the transaction.
pub(super) async fn owned_for_update(
    tx: &mut Tx,
    user_id: &str,
    id: &str,
) -> Result<Option<WidgetRow>, sqlx::Error> {
    let sqlite = tx.is_sqlite();
    // SQLite's transactions take the write lock at BEGIN IMMEDIATE.
    let lock = if sqlite { "" } else { " FOR UPDATE" };
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, WidgetRow>(&format!(
            "SELECT {COLUMNS} FROM widgets WHERE id = $1 AND user_id = $2{lock}"
        ))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// Writes a changed widget; a new revision of its content, read by search
/// as `search`, when `revised` is `Some`, dropping those past the last
/// [`KEPT_REVISIONS`].
pub(super) async fn update(
    tx: &mut Tx,
    row: &WidgetRow,
    revised: Option<&str>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE widgets SET content = $1, visibility = $2, hide_amounts = $3, \
             share_token = $4, revision = $5, updated_at = $6, \
             search = COALESCE($8, search) WHERE id = $7",
        )
        .bind(&row.content)
        .bind(&row.visibility)
        .bind(row.hide_amounts)
        .bind(&row.share_token)
        .bind(row.revision)
        .bind(row.updated_at)
        .bind(&row.id)
        .bind(revised)
        .execute(&mut *conn)
        .await?;
        if revised.is_some() {
            sqlx::query(
                "INSERT INTO widget_revisions (widget_id, revision, content, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&row.id)
            .bind(row.revision)
            .bind(&row.content)
            .bind(row.updated_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM widget_revisions WHERE widget_id = $1 AND revision <= $2")
                .bind(&row.id)
                .bind(row.revision - KEPT_REVISIONS)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    })
}

/// Deletes the widget, if it is the user's, and frees its place.
pub(super) async fn delete(tx: &mut Tx, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let deleted = with_tx!(tx, |conn| {
        let deleted = sqlx::query("DELETE FROM widgets WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
        if deleted {
            for table in ["widget_revisions", "widget_likes", "widget_symbols"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE widget_id = $1"))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok::<_, sqlx::Error>(deleted)
    })?;
    if deleted {
        free_place(tx, user_id, Counted::Widgets).await?;
    }
    Ok(deleted)
}

pub(super) async fn owned(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<WidgetRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, WidgetRow>(&format!(
            "SELECT {COLUMNS} FROM widgets WHERE id = $1 AND user_id = $2"
        ))
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn by_share_token(db: &Db, token: &str) -> Result<Option<WidgetRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, WidgetRow>(&format!(
            "SELECT {COLUMNS} FROM widgets w WHERE share_token = $1 AND visibility <> 'private' \
             AND NOT hidden AND NOT EXISTS (SELECT 1 FROM withdrawn_owners o \
             WHERE o.user_id = w.user_id AND o.hidden)"
        ))
        .bind(token)
        .fetch_optional(pool)
        .await
    })
}

/// A page of the user's widgets older than `before`, newest first, and
/// whether more follow.
pub(super) async fn page(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<WidgetRow>, bool), sqlx::Error> {
    page_of(db, "widgets", COLUMNS, "", user_id, before, limit).await
}

/// A page of the user's public widgets older than `before`, newest first,
/// and whether more follow.
pub(super) async fn public_page(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<WidgetRow>, bool), sqlx::Error> {
    let public = "AND visibility = 'public' AND NOT hidden";
    page_of(db, "widgets", COLUMNS, public, user_id, before, limit).await
}

/// How many public widgets the user has.
pub(super) async fn public_count(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM widgets WHERE user_id = $1 AND visibility = 'public' \
             AND NOT hidden",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await
    })
}

/// The kept revisions of a widget, newest first.
pub(super) async fn revisions(db: &Db, widget_id: &str) -> Result<Vec<RevisionRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, RevisionRow>(
            "SELECT revision, content, created_at FROM widget_revisions \
             WHERE widget_id = $1 ORDER BY revision DESC LIMIT $2",
        )
        .bind(widget_id)
        .bind(KEPT_REVISIONS)
        .fetch_all(pool)
        .await
    })
}

pub(super) async fn revision(
    tx: &mut Tx,
    widget_id: &str,
    revision: i64,
) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, String>(
            "SELECT content FROM widget_revisions WHERE widget_id = $1 AND revision = $2",
        )
        .bind(widget_id)
        .bind(revision)
        .fetch_optional(&mut *conn)
        .await
    })
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct DashboardRow {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub layout: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// private or public
    pub visibility: String,
}

const DASHBOARD_COLUMNS: &str = "id, user_id, title, layout, created_at, updated_at, visibility";

pub(super) async fn insert_dashboard(tx: &mut Tx, row: &DashboardRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "INSERT INTO dashboards ({DASHBOARD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.title)
        .bind(&row.layout)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.visibility)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

pub(super) async fn update_dashboard(tx: &mut Tx, row: &DashboardRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE dashboards SET title = $1, layout = $2, updated_at = $3, visibility = $6 \
             WHERE id = $4 AND user_id = $5",
        )
        .bind(&row.title)
        .bind(&row.layout)
        .bind(row.updated_at)
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.visibility)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Deletes the dashboard, if it is the user's, and frees its place.
pub(super) async fn delete_dashboard(
    tx: &mut Tx,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        let deleted = sqlx::query("DELETE FROM dashboards WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
        if deleted {
            sqlx::query(
                "UPDATE widget_owners SET dashboards = dashboards - 1 \
                 WHERE user_id = $1 AND dashboards > 0",
            )
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        }
        Ok(deleted)
    })
}

pub(super) async fn dashboard(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<DashboardRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, DashboardRow>(&format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE id = $1 AND user_id = $2"
        ))
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// A page of the user's dashboards older than `before`, newest first, and
/// whether more follow.
pub(super) async fn dashboards(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<DashboardRow>, bool), sqlx::Error> {
    page_of(
        db,
        "dashboards",
        DASHBOARD_COLUMNS,
        "",
        user_id,
        before,
        limit,
    )
    .await
}

/// Which of `ids` are the user's widgets.
pub(super) async fn owned_ids(
    db: &Db,
    user_id: &str,
    ids: &[String],
) -> Result<Vec<WidgetRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sqlite = matches!(db.pool(), platform::db::Pool::Sqlite(_));
    let marks: Vec<String> = (0..ids.len())
        .map(|i| {
            if sqlite {
                "?".to_string()
            } else {
                format!("${}", i + 2)
            }
        })
        .collect();
    let first = if sqlite { "?" } else { "$1" };
    let sql = format!(
        "SELECT {COLUMNS} FROM widgets WHERE user_id = {first} AND id IN ({})",
        marks.join(", ")
    );
    with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, WidgetRow>(&sql).bind(user_id);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })
}

/// Marks the user's starter dashboard as made; false when it was already.
pub(super) async fn mark_starter(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO starters (user_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// A dashboard others may see, whoever owns it: public (or unlisted), its
/// owner not withdrawn.
pub(super) async fn shared_dashboard(
    db: &Db,
    id: &str,
) -> Result<Option<DashboardRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, DashboardRow>(&format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboards d WHERE id = $1 \
             AND visibility <> 'private' AND NOT EXISTS \
             (SELECT 1 FROM withdrawn_owners o WHERE o.user_id = d.user_id)"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// A page of the user's public dashboards, newest first, and whether more
/// follow.
pub(super) async fn public_dashboards(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<DashboardRow>, bool), sqlx::Error> {
    let public = "AND visibility = 'public'";
    page_of(
        db,
        "dashboards",
        DASHBOARD_COLUMNS,
        public,
        user_id,
        before,
        limit,
    )
    .await
}

/// The shared, visible widgets among `ids` of `user_id`'s.
pub(super) async fn shared_ids(
    db: &Db,
    user_id: &str,
    ids: &[String],
) -> Result<Vec<WidgetRow>, sqlx::Error> {
    Ok(owned_ids(db, user_id, ids)
        .await?
        .into_iter()
        .filter(|row| row.visibility != "private" && !row.hidden)
        .collect())
}

/// The ids of every widget the user owns.
pub(super) async fn ids_of_in(
    tx: &mut Tx,
    user_id: &str,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let ids: Vec<String> = with_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT id FROM widgets WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await
    })?;
    Ok(ids.into_iter().collect())
}
