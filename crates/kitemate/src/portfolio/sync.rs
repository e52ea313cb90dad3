//! Sync from Kite: holdings, positions, mutual funds and funds pulled with
//! the user's own session, stored as the latest snapshot, one daily value
//! recorded per IST day, and `portfolio-synced` published.

use platform::ApiError;
use rust_decimal::Decimal;
use secrecy::ExposeSecret as _;

use super::events::PortfolioSynced;
use super::model::{Paise, SyncReport};
use super::service::PortfolioService;
use super::store;

fn kite_failure(err: kite::Error) -> ApiError {
    if err.is_transient() {
        ApiError::unavailable(format!("Zerodha did not answer; try again shortly ({err})"))
    } else {
        ApiError::unavailable(format!("Zerodha refused the sync: {err}"))
    }
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
        let day = self.clock.today_ist();
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

        let (value_paise, invested_paise) =
            (Paise::from_rupees(value), Paise::from_rupees(invested));
        let equity = margins.equity.as_ref();
        let record = store::SyncRecord {
            holdings: &holdings,
            funds: &funds,
            positions: &positions.net,
            equity_net: equity.map(|e| e.net),
            equity_cash: equity.map(|e| e.available.cash),
            at: now,
            day,
            value: value_paise,
            invested: invested_paise,
        };
        let mut tx = self.db.begin().await?;
        store::bump_version(&mut tx, user_id).await?;
        store::record_sync(&mut tx, user_id, &record).await?;
        let event = PortfolioSynced {
            user_id: user_id.to_string(),
            day: day.to_string(),
            value_paise: value_paise.get(),
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
            suggested_actions: self.suggested_actions(user_id).await?,
        })
    }
}

fn reauth() -> ApiError {
    ApiError::failed_precondition(
        "the Zerodha session has ended (sessions end at 06:00 IST); log in with Zerodha again",
    )
    .with_status(axum::http::StatusCode::CONFLICT)
}
