//! Sync from Kite: holdings, positions, mutual funds and funds pulled with
//! the user's own session, stored as the latest snapshot, one daily value
//! recorded per IST day, and `portfolio-synced` published.

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Kolkata;
use platform::db::{Db, Tx};
use platform::pubsub::TopicDecl;
use platform::{ApiError, with_db, with_tx};
use rust_decimal::Decimal;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::PortfolioService;
use kite::money::paise;

/// A user's portfolio was refreshed from Kite. Published in the sync's transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioSynced {
    pub user_id: String,
    /// The IST day the snapshot counts for.
    pub day: String,
    pub value_paise: i64,
}

pub static PORTFOLIO_SYNCED: TopicDecl<PortfolioSynced> = TopicDecl::new("portfolio-synced");

/// What a sync found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub holdings: usize,
    pub positions: usize,
    pub mutual_funds: usize,
    pub value_paise: i64,
    pub invested_paise: i64,
    /// The IST day of the snapshot recorded.
    pub day: String,
    pub synced_at: DateTime<Utc>,
}

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

fn milli(quantity: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive as _;
    (quantity * Decimal::from(1000))
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

fn kite_failure(err: kite::Error) -> ApiError {
    if err.is_transient() {
        ApiError::unavailable(format!("Zerodha did not answer; try again shortly ({err})"))
    } else {
        ApiError::unavailable(format!("Zerodha refused the sync: {err}"))
    }
}

async fn clear(tx: &mut Tx, table: &str, user_id: &str) -> Result<(), sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE user_id = $1");
    with_tx!(tx, |conn| sqlx::query(&sql)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ()))
}

/// Keeps the rows of Kite's answer that can be real: symbols and codes as
/// exchanges write them, quantities and prices within the bounds an import
/// has, fund names without markup. Returns how many were left out.
fn keep_readable(
    holdings: &mut Vec<kite::models::Holding>,
    positions: &mut Vec<kite::models::Position>,
    funds: &mut Vec<kite::models::MfHolding>,
) -> usize {
    use super::import::fields;
    let before = holdings.len() + positions.len() + funds.len();
    holdings.retain(|h| {
        fields::symbol(&h.tradingsymbol).is_ok()
            && fields::isin(&h.isin).is_ok()
            && fields::code("exchange", &h.exchange).is_ok()
            && (0..=fields::QUANTITY_MAX).contains(&h.total_quantity())
            && fields::within_bounds(
                Decimal::from(h.total_quantity()),
                &[h.average_price, h.last_price, h.close_price],
            )
    });
    positions.retain(|p| {
        fields::symbol(&p.tradingsymbol).is_ok()
            && fields::code("exchange", &p.exchange).is_ok()
            && fields::code("product", &p.product).is_ok()
            && p.quantity.unsigned_abs() <= fields::QUANTITY_MAX.unsigned_abs()
            && fields::within_bounds(Decimal::from(p.quantity), &[p.average_price, p.last_price])
            && p.pnl.abs() <= Decimal::from(fields::VALUE_MAX)
    });
    funds.retain_mut(|f| {
        f.fund = fields::plain_name(&f.fund);
        fields::isin(&f.tradingsymbol).is_ok()
            && f.quantity >= Decimal::ZERO
            && fields::within_bounds(f.quantity, &[f.average_price, f.last_price])
    });
    before - holdings.len() - positions.len() - funds.len()
}

impl PortfolioService {
    /// Pulls the user's portfolio from Kite and stores it.
    pub async fn sync(&self, user_id: &str) -> Result<SyncReport, ApiError> {
        let kite = self.kite.as_ref().ok_or_else(|| {
            ApiError::not_found("syncing from Zerodha is not set up on this server (kite.api_key)")
        })?;
        let Some(token) = self.auth.kite_token(user_id).await? else {
            return Err(match self.auth.zerodha_status(user_id).await? {
                Some(_) => reauth(),
                None => ApiError::failed_precondition(
                    "connect Zerodha first (GET /auth/zerodha/initiate)",
                ),
            });
        };
        let user = kite.user(token.expose_secret());
        let fetched = tokio::try_join!(
            user.holdings(),
            user.positions(),
            user.mf_holdings(),
            user.margins()
        );
        let (mut holdings, mut positions, mut funds, margins) = match fetched {
            Ok(all) => all,
            Err(kite::Error::Token { .. }) => {
                self.auth.zerodha_expired(user_id).await?;
                return Err(reauth());
            }
            Err(err) => return Err(kite_failure(err)),
        };
        let dropped = keep_readable(&mut holdings, &mut positions.net, &mut funds);
        if dropped > 0 {
            tracing::warn!(
                user_id,
                dropped,
                "Kite answered rows that cannot be real; left out"
            );
        }
        let now = self.clock.now();
        let day = now.with_timezone(&Kolkata).format("%Y-%m-%d").to_string();
        let invested: Decimal = holdings
            .iter()
            .map(|h| h.average_price * Decimal::from(h.total_quantity()))
            .sum::<Decimal>()
            + funds
                .iter()
                .map(|f| f.average_price * f.quantity)
                .sum::<Decimal>();
        let value: Decimal = holdings
            .iter()
            .map(|h| h.last_price * Decimal::from(h.total_quantity()))
            .sum::<Decimal>()
            + funds
                .iter()
                .map(|f| f.last_price * f.quantity)
                .sum::<Decimal>();

        let mut tx = self.db.begin().await?;
        super::store::bump_version(&mut tx, user_id).await?;
        for table in ["synced_holdings", "synced_funds", "synced_positions"] {
            clear(&mut tx, table, user_id).await?;
        }
        for h in &holdings {
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
        for f in &funds {
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
        for p in &positions.net {
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
        let equity = margins.equity.as_ref();
        let (net, cash) = (
            equity.map(|e| e.net.to_string()),
            equity.map(|e| e.available.cash.to_string()),
        );
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO syncs (user_id, synced_at, equity_net, equity_cash) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET synced_at = $2, equity_net = $3, equity_cash = $4",
            )
            .bind(user_id)
            .bind(now.timestamp_millis())
            .bind(&net)
            .bind(&cash)
            .execute(conn)
            .await
            .map(|_| ())
        })?;
        let (value_paise, invested_paise) = (paise(value), paise(invested));
        with_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO daily_snapshots (user_id, day, value_paise, invested_paise, pnl_paise) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, day) DO UPDATE SET value_paise = $3, invested_paise = $4, pnl_paise = $5",
            )
            .bind(user_id)
            .bind(&day)
            .bind(value_paise)
            .bind(invested_paise)
            .bind(value_paise - invested_paise)
            .execute(conn)
            .await
            .map(|_| ())
        })?;
        let event = PortfolioSynced {
            user_id: user_id.to_string(),
            day: day.clone(),
            value_paise,
        };
        self.synced.publish_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(SyncReport {
            holdings: holdings.len(),
            positions: positions.net.len(),
            mutual_funds: funds.len(),
            value_paise,
            invested_paise,
            day,
            synced_at: now,
        })
    }
}

fn reauth() -> ApiError {
    ApiError::failed_precondition(
        "the Zerodha session has ended (sessions end at 06:00 IST); log in with Zerodha again",
    )
    .with_status(axum::http::StatusCode::CONFLICT)
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

/// (day, value, invested, pnl) between two IST days, oldest first.
pub async fn history(
    db: &Db,
    user_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64, i64, i64)>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT day, value_paise, invested_paise, pnl_paise FROM daily_snapshots \
             WHERE user_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
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
    Ok(rows
        .into_iter()
        .map(|(isin, fund, q, avg, last)| {
            (
                isin,
                fund,
                Decimal::new(q, 3),
                avg.parse().unwrap_or_default(),
                last.parse().unwrap_or_default(),
            )
        })
        .collect())
}
