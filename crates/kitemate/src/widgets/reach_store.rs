//! SQL of what others do with widgets: likes, forks and views with the
//! trending score kept beside them, the stocks a widget concerns, owners
//! withdrawn from view, and the discovery and feed pages.

use platform::db::{Db, Pool, Tx};
use platform::{with_db, with_tx, with_write};

use super::store::WidgetRow;

/// The columns of a widget row, for queries that name the table `w`.
const W_COLUMNS: &str = "w.id, w.user_id, w.content, w.visibility, w.hide_amounts, \
     w.share_token, w.revision, w.created_at, w.updated_at, w.forked_from, w.hidden, \
     w.likes, w.forks";

/// Listed anywhere public: public, not hidden, its owner not withdrawn.
const LISTED: &str = "w.visibility = 'public' AND NOT w.hidden \
     AND NOT EXISTS (SELECT 1 FROM withdrawn_owners o WHERE o.user_id = w.user_id)";

/// What a like did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Liked {
    /// The first like of this user on this widget.
    New,
    /// Liked again after taking it back.
    Again,
    /// It was liked already.
    Already,
}

/// Records `user_id`'s like of `widget_id`.
pub(super) async fn like(
    tx: &mut Tx,
    widget_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Liked, sqlx::Error> {
    with_tx!(tx, |conn| {
        let new = sqlx::query(
            "INSERT INTO widget_likes (widget_id, user_id, active, created_at) \
             VALUES ($1, $2, TRUE, $3) ON CONFLICT (widget_id, user_id) DO NOTHING",
        )
        .bind(widget_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if new {
            return Ok(Liked::New);
        }
        let again = sqlx::query(
            "UPDATE widget_likes SET active = TRUE \
             WHERE widget_id = $1 AND user_id = $2 AND NOT active",
        )
        .bind(widget_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        Ok(if again { Liked::Again } else { Liked::Already })
    })
}

/// Takes the like back; false when there was none.
pub(super) async fn unlike(
    tx: &mut Tx,
    widget_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE widget_likes SET active = FALSE \
             WHERE widget_id = $1 AND user_id = $2 AND active",
        )
        .bind(widget_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Whether `user_id` likes `widget_id` now.
pub(super) async fn likes(db: &Db, widget_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM widget_likes WHERE widget_id = $1 AND user_id = $2 AND active",
        )
        .bind(widget_id)
        .bind(user_id)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Changes to a widget's counts, and the log-score of an event to add to
/// its trend.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Bump {
    pub likes: i64,
    pub forks: i64,
    pub views: i64,
    pub event: Option<f64>,
}

/// Applies `bump` to the widget: its row is locked while the new trend is
/// worked out from the old, so events at once all count. The lock is
/// `NO KEY UPDATE`, which the key-share lock a like's foreign key took on
/// the same row does not block (`FOR UPDATE` would deadlock two likes).
pub(super) async fn bump(tx: &mut Tx, widget_id: &str, bump: Bump) -> Result<(), sqlx::Error> {
    let lock = if tx.is_sqlite() {
        ""
    } else {
        " FOR NO KEY UPDATE"
    };
    with_tx!(tx, |conn| {
        let Some(trend) =
            sqlx::query_scalar::<_, f64>(&format!("SELECT trend FROM widgets WHERE id = $1{lock}"))
                .bind(widget_id)
                .fetch_optional(&mut *conn)
                .await?
        else {
            return Ok(());
        };
        let trend = bump
            .event
            .map_or(trend, |event| super::trend::add(trend, event));
        sqlx::query(
            "UPDATE widgets SET likes = likes + $1, forks = forks + $2, views = views + $3, \
             points = points + $1 + $2, trend = $4 WHERE id = $5",
        )
        .bind(bump.likes)
        .bind(bump.forks)
        .bind(bump.views)
        .bind(trend)
        .bind(widget_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Counts a fork of one of `owner_id`'s widgets.
pub(super) async fn fork_received(tx: &mut Tx, owner_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO widget_owners (user_id, widgets, forks_received) VALUES ($1, 0, 1) \
             ON CONFLICT (user_id) DO UPDATE \
             SET forks_received = widget_owners.forks_received + 1",
        )
        .bind(owner_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Forks others made of the owner's widgets.
pub(super) async fn forks_received(db: &Db, owner_id: &str) -> Result<i64, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT forks_received FROM widget_owners WHERE user_id = $1")
            .bind(owner_id)
            .fetch_optional(pool)
            .await
            .map(Option::unwrap_or_default)
    })
}

/// Any widget by id.
pub(super) async fn any(db: &Db, id: &str) -> Result<Option<WidgetRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, WidgetRow>(&format!(
            "SELECT {W_COLUMNS} FROM widgets w WHERE w.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// A widget `viewer` may reach by id: shared, not hidden, and its owner's
/// profile neither private nor hidden (unless it is the viewer's own).
pub(super) async fn reachable(
    db: &Db,
    id: &str,
    viewer: &str,
) -> Result<Option<WidgetRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, WidgetRow>(&format!(
            "SELECT {W_COLUMNS} FROM widgets w \
             WHERE w.id = $1 AND w.visibility <> 'private' AND NOT w.hidden \
             AND (w.user_id = $2 OR NOT EXISTS \
                 (SELECT 1 FROM withdrawn_owners o WHERE o.user_id = w.user_id))"
        ))
        .bind(id)
        .bind(viewer)
        .fetch_optional(pool)
        .await
    })
}

/// Replaces the stocks `widget_id` concerns.
pub(super) async fn set_symbols(
    tx: &mut Tx,
    widget_id: &str,
    symbols: &[String],
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM widget_symbols WHERE widget_id = $1")
            .bind(widget_id)
            .execute(&mut *conn)
            .await?;
        for symbol in symbols {
            sqlx::query(
                "INSERT INTO widget_symbols (symbol, widget_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(symbol)
            .bind(widget_id)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    })
}

/// The user's public widgets: whose symbols follow their holdings.
pub(super) async fn public_ids(db: &Db, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM widgets WHERE user_id = $1 AND visibility = 'public' LIMIT 1000",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Adds `views` views at once to each widget (a batch counted in memory).
pub(super) async fn add_views(db: &Db, views: &[(String, i64, f64)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for (id, n, event) in views {
        bump(
            &mut tx,
            id,
            Bump {
                views: *n,
                event: Some(*event),
                ..Bump::default()
            },
        )
        .await?;
    }
    tx.commit().await
}

/// Withdraws the user's widgets from public lists (or puts them back):
/// `private` for their own choice, `hidden` for an administrator's;
/// `None` leaves that reason as it is.
pub(super) async fn withdraw(
    db: &Db,
    user_id: &str,
    private: Option<bool>,
    hidden: Option<bool>,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO withdrawn_owners (user_id, private, hidden) \
             VALUES ($1, COALESCE($2, FALSE), COALESCE($3, FALSE)) \
             ON CONFLICT (user_id) DO UPDATE SET \
             private = COALESCE($2, withdrawn_owners.private), \
             hidden = COALESCE($3, withdrawn_owners.hidden)",
        )
        .bind(user_id)
        .bind(private)
        .bind(hidden)
        .execute(pool)
        .await?;
        sqlx::query(
            "DELETE FROM withdrawn_owners WHERE user_id = $1 AND NOT private AND NOT hidden",
        )
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Hides (or shows again) a widget everywhere others see it.
pub(super) async fn set_hidden(db: &Db, id: &str, hidden: bool) -> Result<bool, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("UPDATE widgets SET hidden = $1 WHERE id = $2")
            .bind(hidden)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// The order of a discovery page, with where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Order {
    /// Highest trending score first; after (score, id).
    Trending(Option<(f64, String)>),
    /// Most likes and forks first; after (points, id).
    Top(Option<(i64, String)>),
    /// Newest first; after id.
    New(Option<String>),
}

/// What a discovery page is filtered by.
#[derive(Debug, Clone, Default)]
pub(super) struct Filter<'a> {
    pub kind: Option<&'a str>,
    /// Lower-case words, all of which must be found.
    pub words: &'a [String],
    pub symbol: Option<&'a str>,
    /// Only these owners (the feed), when present.
    pub owners: Option<&'a [String]>,
}

/// A bound value of a query built at run time.
enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A row of a discovery page: the widget with the keys its cursor needs.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ListedRow {
    #[sqlx(flatten)]
    pub widget: WidgetRow,
    pub trend: f64,
    pub points: i64,
}

/// A page of listed widgets in `order`, filtered by `filter`: at most
/// `limit` and whether more follow. Each order reads its own index.
pub(super) async fn listed(
    db: &Db,
    order: &Order,
    filter: &Filter<'_>,
    limit: i64,
) -> Result<(Vec<ListedRow>, bool), sqlx::Error> {
    let sqlite = matches!(db.pool(), Pool::Sqlite(_));
    let mut binds: Vec<Bind> = Vec::new();
    let mark = |binds: &mut Vec<Bind>, value: Bind| {
        binds.push(value);
        format!("${}", binds.len())
    };
    let mut sql = format!("SELECT {W_COLUMNS}, w.trend, w.points FROM widgets w WHERE {LISTED}");
    if let Some(kind) = filter.kind {
        let m = mark(&mut binds, Bind::Text(kind.into()));
        let kind_of = if sqlite {
            "json_extract(w.content, '$.kind')"
        } else {
            "(w.content::json ->> 'kind')"
        };
        sql.push_str(&format!(" AND {kind_of} = {m}"));
    }
    if !filter.words.is_empty() {
        if sqlite {
            let phrase = filter
                .words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ");
            let m = mark(&mut binds, Bind::Text(phrase));
            sql.push_str(&format!(
                " AND w.rowid IN (SELECT rowid FROM widget_search WHERE widget_search MATCH {m})"
            ));
        } else {
            let m = mark(&mut binds, Bind::Text(filter.words.join(" & ")));
            sql.push_str(&format!(
                " AND to_tsvector('simple', w.search) @@ to_tsquery('simple', {m})"
            ));
        }
    }
    if let Some(symbol) = filter.symbol {
        let m = mark(&mut binds, Bind::Text(symbol.into()));
        sql.push_str(&format!(
            " AND w.id IN (SELECT widget_id FROM widget_symbols WHERE symbol = {m})"
        ));
    }
    if let Some(owners) = filter.owners {
        if owners.is_empty() {
            return Ok((Vec::new(), false));
        }
        let marks: Vec<String> = owners
            .iter()
            .map(|o| mark(&mut binds, Bind::Text(o.clone())))
            .collect();
        sql.push_str(&format!(" AND w.user_id IN ({})", marks.join(", ")));
    }
    let order_by = match order {
        Order::Trending(after) => {
            if let Some((score, id)) = after {
                let (a, b) = (
                    mark(&mut binds, Bind::Float(*score)),
                    mark(&mut binds, Bind::Text(id.clone())),
                );
                sql.push_str(&format!(" AND (w.trend, w.id) < ({a}, {b})"));
            }
            "w.trend DESC, w.id DESC"
        }
        Order::Top(after) => {
            if let Some((points, id)) = after {
                let (a, b) = (
                    mark(&mut binds, Bind::Int(*points)),
                    mark(&mut binds, Bind::Text(id.clone())),
                );
                sql.push_str(&format!(" AND (w.points, w.id) < ({a}, {b})"));
            }
            "w.points DESC, w.id DESC"
        }
        Order::New(after) => {
            if let Some(id) = after {
                let a = mark(&mut binds, Bind::Text(id.clone()));
                sql.push_str(&format!(" AND w.id < {a}"));
            }
            "w.id DESC"
        }
    };
    let m = mark(&mut binds, Bind::Int(limit + 1));
    sql.push_str(&format!(" ORDER BY {order_by} LIMIT {m}"));
    let rows: Vec<ListedRow> = with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, ListedRow>(&sql);
        for bind in &binds {
            query = match bind {
                Bind::Text(t) => query.bind(t.as_str()),
                Bind::Int(n) => query.bind(*n),
                Bind::Float(f) => query.bind(*f),
            };
        }
        query.fetch_all(pool).await
    })?;
    Ok(platform::db::page_of(rows, limit))
}

/// A like as its giver exports it.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GivenLike {
    pub widget_id: String,
    pub active: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// The likes `user_id` gave, in widget order after `after`.
pub(super) async fn likes_given(
    db: &Db,
    user_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<GivenLike>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT widget_id, active, created_at FROM widget_likes \
             WHERE user_id = $1 AND widget_id > $2 ORDER BY widget_id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Others' widgets `user_id` likes now, and the lineage of every fork they
/// made: what a deleted account takes back from others' counts.
pub(super) async fn reach_of(
    tx: &mut Tx,
    user_id: &str,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    with_tx!(tx, |conn| {
        let liked = sqlx::query_scalar(
            "SELECT l.widget_id FROM widget_likes l JOIN widgets w ON w.id = l.widget_id \
             WHERE l.user_id = $1 AND l.active AND w.user_id <> $1",
        )
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        let forked = sqlx::query_scalar(
            "SELECT forked_from FROM widgets WHERE user_id = $1 AND forked_from IS NOT NULL",
        )
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        Ok((liked, forked))
    })
}

/// Takes back one fork of `owner_id`'s widgets (its forker left).
pub(super) async fn fork_withdrawn(tx: &mut Tx, owner_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE widget_owners SET forks_received = forks_received - 1 \
             WHERE user_id = $1 AND forks_received > 0",
        )
        .bind(owner_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The owner of a widget, if it exists.
pub(super) async fn owner_in(tx: &mut Tx, widget_id: &str) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT user_id FROM widgets WHERE id = $1")
            .bind(widget_id)
            .fetch_optional(&mut *conn)
            .await
    })
}

/// Deletes every row of the user's: likes given, widgets (with their
/// revisions, the likes and symbols on them), dashboards and counts.
pub(super) async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    let mine = "SELECT id FROM widgets WHERE user_id = $1";
    for sql in [
        "DELETE FROM widget_likes WHERE user_id = $1".to_owned(),
        format!("DELETE FROM widget_likes WHERE widget_id IN ({mine})"),
        format!("DELETE FROM widget_revisions WHERE widget_id IN ({mine})"),
        format!("DELETE FROM widget_symbols WHERE widget_id IN ({mine})"),
        "DELETE FROM widgets WHERE user_id = $1".to_owned(),
        "DELETE FROM dashboards WHERE user_id = $1".to_owned(),
        "DELETE FROM widget_owners WHERE user_id = $1".to_owned(),
        "DELETE FROM starters WHERE user_id = $1".to_owned(),
        "DELETE FROM withdrawn_owners WHERE user_id = $1".to_owned(),
    ] {
        with_tx!(tx, |conn| sqlx::query(&sql)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Forks of `widget_ids` (a deleted account's), by anyone: their lineage.
pub(super) async fn forks_of_in(
    tx: &mut Tx,
    owner_username: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    // The lineage is JSON text; its owner's name narrows the rows read, and
    // the caller checks each one's widget id.
    let pattern = format!("%\"ownerUsername\":\"{owner_username}\"%");
    with_tx!(tx, |conn| {
        sqlx::query_as("SELECT id, forked_from FROM widgets WHERE forked_from LIKE $1")
            .bind(&pattern)
            .fetch_all(&mut *conn)
            .await
    })
}

/// Sets a widget's lineage.
pub(super) async fn set_lineage(tx: &mut Tx, id: &str, lineage: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE widgets SET forked_from = $1 WHERE id = $2")
            .bind(lineage)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}
