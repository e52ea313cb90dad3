//! SQL of a user's export and deletion, for the social service.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

/// One side of a follow or a block, as the export lists it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Tie {
    pub other_id: String,
    pub created_at: i64,
}

/// Whom the user follows (`followers` false) or who follows them (true),
/// after `after` in id order.
pub(super) async fn ties(
    db: &Db,
    user_id: &str,
    followers: bool,
    after: &str,
    limit: i64,
) -> Result<Vec<Tie>, sqlx::Error> {
    let sql = if followers {
        "SELECT follower_id AS other_id, created_at FROM follows \
         WHERE followee_id = $1 AND follower_id > $2 ORDER BY follower_id LIMIT $3"
    } else {
        "SELECT followee_id AS other_id, created_at FROM follows \
         WHERE follower_id = $1 AND followee_id > $2 ORDER BY followee_id LIMIT $3"
    };
    with_db!(db, |pool| {
        sqlx::query_as(sql)
            .bind(user_id)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

/// Whom the user blocks.
pub(super) async fn blocked(db: &Db, user_id: &str) -> Result<Vec<Tie>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT blocked_id AS other_id, created_at FROM blocks WHERE blocker_id = $1 \
             ORDER BY blocked_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// A report the user made, as the export lists it.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MadeReport {
    pub id: String,
    pub target_kind: String,
    pub target_id: String,
    pub reason: String,
    pub note: String,
    pub status: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

pub(super) async fn reports_by(db: &Db, user_id: &str) -> Result<Vec<MadeReport>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, target_kind, target_id, reason, note, status, created_at FROM reports \
             WHERE reporter_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Everyone the user follows and everyone following them, for the counts
/// a deletion gives back.
pub(super) async fn all_ties_in(
    tx: &mut Tx,
    user_id: &str,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    with_tx!(tx, |conn| {
        let following =
            sqlx::query_scalar("SELECT followee_id FROM follows WHERE follower_id = $1")
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await?;
        let followers =
            sqlx::query_scalar("SELECT follower_id FROM follows WHERE followee_id = $1")
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await?;
        Ok((following, followers))
    })
}

/// The picture the user shows, if any.
pub(super) async fn avatar_in(tx: &mut Tx, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT avatar_key FROM profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
        .map(Option::flatten)
    })
}

/// Deletes the rest of what social keeps about the user (follows are taken
/// back first, through their counts): profile, counts, notices to and
/// from them, blocks either way, the reports they made and those of their
/// profile.
pub(super) async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM profiles WHERE user_id = $1",
        "DELETE FROM follow_counts WHERE user_id = $1",
        "DELETE FROM notifications WHERE user_id = $1 OR actor_id = $1",
        "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
        "DELETE FROM reports WHERE reporter_id = $1 \
         OR (target_kind = 'profile' AND target_id = $1)",
    ] {
        with_tx!(tx, |conn| sqlx::query(sql)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}
