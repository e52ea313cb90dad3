//! Prices during market hours from Kite's quote API: the last traded price
//! of every instrument held by users whose Kite session is alive, read with
//! one of their tokens, at most 1,000 instruments a call and within Kite's
//! quote limit (one call a second for the app, the shared pacer's turn).
//! Kept by market data for every user; a day's close, once loaded, is newer.

use platform::ApiError;
use rust_decimal::Decimal;
use secrecy::ExposeSecret as _;

use super::service::PortfolioService;
use super::store;

/// Instruments in one quote call (Kite's limit for `/quote/ltp`).
const PER_CALL: usize = 1_000;

impl PortfolioService {
    /// Reads the last price of every instrument `users` (with live Kite
    /// sessions) hold; answers how many prices were kept.
    pub async fn refresh_live_prices(&self, users: &[String]) -> Result<usize, ApiError> {
        let Some(kite) = &self.kite else {
            return Ok(0);
        };
        let held = store::synced_instruments(&self.db, users).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let names: Vec<String> = held.iter().map(|(x, s, _)| format!("{x}:{s}")).collect();
        let isin_of: std::collections::HashMap<&str, &str> = names
            .iter()
            .map(String::as_str)
            .zip(held.iter().map(|(_, _, isin)| isin.as_str()))
            .collect();
        // Any live session may read quotes; one that Kite refuses is marked
        // ended and the next is tried.
        for user_id in users {
            let Some(token) = self.auth.kite_token(user_id).await? else {
                continue;
            };
            let client = kite.user(token.expose_secret());
            let mut prices: Vec<(String, Decimal)> = Vec::with_capacity(names.len());
            let mut refused = false;
            for chunk in names.chunks(PER_CALL) {
                let wanted: Vec<&str> = chunk.iter().map(String::as_str).collect();
                match client.ltp(&wanted).await {
                    Ok(quotes) => prices.extend(quotes.into_iter().filter_map(|(name, q)| {
                        Some(((*isin_of.get(name.as_str())?).to_string(), q.last_price))
                    })),
                    Err(kite::Error::Token { .. }) => {
                        self.auth.zerodha_expired(user_id).await?;
                        refused = true;
                        break;
                    }
                    Err(err) => {
                        return Err(ApiError::unavailable(format!(
                            "Kite's quotes did not answer: {err}"
                        )));
                    }
                }
            }
            if !refused {
                return self.market.put_live(&prices).await;
            }
        }
        Ok(0)
    }
}
