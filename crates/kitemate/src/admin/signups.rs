//! Signups per day for administrators, kept by a subscription to
//! `user-signed-up` in the admin service's own database.

use axum::extract::State;
use chrono::TimeDelta;
use platform::clock::IST;
use platform::db::{DatabaseDecl, Db};
use platform::pubsub::{PubSub, SubscriptionConfig};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody, with_db, with_tx, with_write};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AdminState, TAG};
use crate::auth::{Admin, USER_SIGNED_UP};

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "admin",
    sqlite: sqlx::migrate!("src/admin/migrations/sqlite"),
    postgres: sqlx::migrate!("src/admin/migrations/postgres"),
};

/// Subscribes `admin-signups`, which records each new account once, and
/// `admin-forget`, which takes a deleted account out of the counts (they
/// count the accounts made each day that still exist).
pub fn subscribe(pubsub: &PubSub, db: &Db) -> anyhow::Result<()> {
    crate::auth::forget_deleted_users(pubsub, "admin-forget", db, |event, mut tx| async move {
        with_tx!(tx, |conn| {
            sqlx::query("DELETE FROM signups WHERE user_id = $1")
                .bind(&event.user_id)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        Ok(tx)
    })?;
    let db = db.clone();
    pubsub.subscribe(
        &USER_SIGNED_UP,
        "admin-signups",
        SubscriptionConfig::default(),
        move |msg| {
            let db = db.clone();
            async move {
                let day = msg
                    .published_at
                    .with_timezone(&IST)
                    .format("%Y-%m-%d")
                    .to_string();
                with_write!(db, |pool| {
                    sqlx::query(
                        "INSERT INTO signups (user_id, day, signed_up_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id) DO NOTHING",
                    )
                    .bind(&msg.event.user_id)
                    .bind(&day)
                    .bind(msg.published_at.timestamp_millis())
                    .execute(pool)
                    .await
                    .map(|_| ())
                })?;
                Ok(())
            }
        },
    )
}

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignupsQuery {
    /// Days back from today (India time), 1–366; 30 when left out.
    #[validate(range(min = 1, max = 366))]
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DaySignups {
    /// YYYY-MM-DD, India time.
    pub day: String,
    pub signups: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupStats {
    /// Accounts made in the period.
    pub total: i64,
    /// Days with at least one signup, oldest first.
    pub days: Vec<DaySignups>,
}

/// New accounts per day in India time.
#[utoipa::path(get, path = "/admin/signups", tag = TAG,
    security(("bearer" = [])),
    params(SignupsQuery),
    responses(
        (status = 200, description = "Signups per day", body = SignupStats),
        (status = 400, description = "days out of range", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ))]
pub async fn get_signups(
    State(state): State<AdminState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<SignupsQuery>,
) -> Result<ApiJson<SignupStats>, ApiError> {
    // 1–366, checked by `SignupsQuery`'s own rule.
    let days = query.days.unwrap_or(30);
    let today = state.clock.today_ist();
    let first = (today - TimeDelta::days(i64::from(days) - 1))
        .format("%Y-%m-%d")
        .to_string();
    let db = &state.db;
    let days: Vec<DaySignups> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT day, COUNT(*) AS signups FROM signups WHERE day >= $1 GROUP BY day ORDER BY day",
        )
        .bind(&first)
        .fetch_all(pool)
        .await
    })?;
    Ok(ApiJson(SignupStats {
        total: days.iter().map(|d| d.signups).sum(),
        days,
    }))
}
