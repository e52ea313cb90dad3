//! SQL of the social service, written once for SQLite and PostgreSQL.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ProfileRow {
    pub display_name: String,
    pub bio: String,
    pub links: String,
    pub private: bool,
    /// Hidden by an administrator.
    pub hidden: bool,
    /// The avatar's key stem in the profile-pictures bucket.
    pub avatar_key: Option<String>,
}

impl ProfileRow {
    /// The profile of someone who has not written one.
    pub(super) fn blank() -> Self {
        Self {
            display_name: String::new(),
            bio: String::new(),
            links: "[]".into(),
            private: false,
            hidden: false,
            avatar_key: None,
        }
    }
}

pub(super) async fn profile(db: &Db, user_id: &str) -> Result<Option<ProfileRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, ProfileRow>(
            "SELECT display_name, bio, links, private, hidden, avatar_key FROM profiles \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn save_profile(
    tx: &mut Tx,
    user_id: &str,
    row: &ProfileRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO profiles (user_id, display_name, bio, links, private, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, \
             bio = excluded.bio, links = excluded.links, private = excluded.private, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(&row.display_name)
        .bind(&row.bio)
        .bind(&row.links)
        .bind(row.private)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// (followers, following) of a user.
pub(super) async fn counts(db: &Db, user_id: &str) -> Result<(i64, i64), sqlx::Error> {
    let row: Option<(i64, i64)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT followers, following FROM follow_counts WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.unwrap_or((0, 0)))
}

pub(super) async fn follows(db: &Db, follower: &str, followee: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
        )
        .bind(follower)
        .bind(followee)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Adds `by` to both users' counts.
async fn count(tx: &mut Tx, follower: &str, followee: &str, by: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        for user in [follower, followee] {
            sqlx::query(
                "INSERT INTO follow_counts (user_id, followers, following) VALUES ($1, 0, 0) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("UPDATE follow_counts SET following = following + $1 WHERE user_id = $2")
            .bind(by)
            .bind(follower)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE follow_counts SET followers = followers + $1 WHERE user_id = $2")
            .bind(by)
            .bind(followee)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

/// Records that `follower` follows `followee`; false when they did already.
/// The counts change only with a row, so repeats and races keep them exact.
pub(super) async fn follow(
    tx: &mut Tx,
    follower: &str,
    followee: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let added = with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (follower_id, followee_id) DO NOTHING",
        )
        .bind(follower)
        .bind(followee)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })?;
    if added {
        count(tx, follower, followee, 1).await?;
    }
    Ok(added)
}

/// Removes the follow; false when there was none.
pub(super) async fn unfollow(
    tx: &mut Tx,
    follower: &str,
    followee: &str,
) -> Result<bool, sqlx::Error> {
    let removed = with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
            .bind(follower)
            .bind(followee)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected() == 1)
    })?;
    if removed {
        count(tx, follower, followee, -1).await?;
    }
    Ok(removed)
}

/// Hides (or shows again) a profile, whether or not its owner wrote one.
pub(super) async fn set_hidden(
    tx: &mut Tx,
    user_id: &str,
    hidden: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO profiles (user_id, display_name, bio, links, private, updated_at, hidden) \
             VALUES ($1, '', '', '[]', FALSE, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET hidden = excluded.hidden",
        )
        .bind(user_id)
        .bind(now)
        .bind(hidden)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Sets (or clears) the user's avatar; the stem it replaces.
pub(super) async fn set_avatar(
    tx: &mut Tx,
    user_id: &str,
    stem: Option<&str>,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let lock = if tx.is_sqlite() { "" } else { " FOR UPDATE" };
    with_tx!(tx, |conn| {
        let old: Option<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT avatar_key FROM profiles WHERE user_id = $1{lock}"
        ))
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO profiles (user_id, display_name, bio, links, private, updated_at, hidden, \
             avatar_key) VALUES ($1, '', '', '[]', FALSE, $2, FALSE, $3) \
             ON CONFLICT (user_id) DO UPDATE SET avatar_key = excluded.avatar_key, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(now)
        .bind(stem)
        .execute(&mut *conn)
        .await?;
        Ok(old.flatten())
    })
}

/// Whom the user follows: at most `limit`, most recent first.
pub(super) async fn following(
    db: &Db,
    user_id: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT followee_id FROM follows WHERE follower_id = $1 \
             ORDER BY created_at DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// A profile as lists show it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct CardRow {
    pub user_id: String,
    pub display_name: String,
    pub bio: String,
    pub private: bool,
    pub hidden: bool,
    pub avatar_key: Option<String>,
    pub followers: i64,
}

const CARD: &str = "SELECT p.user_id, p.display_name, p.bio, p.private, p.hidden, p.avatar_key, \
     COALESCE(c.followers, 0) AS followers \
     FROM profiles p LEFT JOIN follow_counts c ON c.user_id = p.user_id";

/// Public profiles whose display name contains `needle` (lower case, with
/// LIKE's wildcards escaped), most followed first.
pub(super) async fn search(db: &Db, needle: &str, limit: i64) -> Result<Vec<CardRow>, sqlx::Error> {
    let pattern = format!(
        "%{}%",
        needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    with_db!(db, |pool| {
        sqlx::query_as::<_, CardRow>(&format!(
            "{CARD} WHERE NOT p.private AND NOT p.hidden \
             AND lower(p.display_name) LIKE $1 ESCAPE '\\' \
             ORDER BY followers DESC, p.user_id LIMIT $2"
        ))
        .bind(&pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// The profiles of `ids` that have a row.
pub(super) async fn cards(db: &Db, ids: &[&str]) -> Result<Vec<CardRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("{CARD} WHERE p.user_id IN ({})", marks.join(", "));
    with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, CardRow>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}
