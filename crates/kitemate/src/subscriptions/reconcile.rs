//! Reconciliation: every subscription a provider may still change is read
//! back from the provider's API and its state applied as the newest word
//! (a missed webhook is repaired); each fix is logged. Daily by cron, or
//! `kitemate subscriptions reconcile`.

use platform::ApiError;
use serde::Serialize;

use super::lifecycle::{self, Observation};
use super::model::Provider;
use super::service::{SubscriptionService, put_state, state_of};
use super::store::{self, SubRow};
use crate::audit::{Origin, Record};

/// Subscriptions read back per page.
const PAGE: i64 = 200;

/// What a reconciliation did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Reconciled {
    pub checked: u64,
    /// Subscriptions whose state the provider's differed from.
    pub fixed: u64,
    /// Subscriptions the provider could not be asked about this time.
    pub failed: u64,
}

impl SubscriptionService {
    pub async fn reconcile(&self) -> Result<Reconciled, ApiError> {
        let mut done = Reconciled::default();
        let mut after = String::new();
        loop {
            let rows = store::open(&self.inner.db, &after, PAGE).await?;
            let Some(last) = rows.last() else {
                return Ok(done);
            };
            after.clone_from(&last.id);
            for row in &rows {
                done.checked += 1;
                match self.read_back(row).await {
                    Ok(seen) => {
                        if self.apply_read_back(&row.id, &seen).await? {
                            done.fixed += 1;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(subscription = %row.id, error = %err, "reconciliation could not ask the provider");
                        done.failed += 1;
                    }
                }
            }
        }
    }

    /// The provider's word on `row` now.
    async fn read_back(&self, row: &SubRow) -> Result<Observation, ApiError> {
        let id = row.provider_subscription_id.as_deref().unwrap_or_default();
        let at = self.now();
        Ok(match Provider::parse(&row.provider) {
            Some(Provider::Razorpay) => {
                let s = self.razorpay()?.subscription(id).await?;
                Observation {
                    at,
                    status: Some(s.status),
                    period_end: s.current_end,
                    next_charge_at: s.charge_at,
                    cancel_at_period_end: None,
                    customer_id: s.customer_id,
                }
            }
            _ => {
                let s = self.stripe()?.subscription(id).await?;
                Observation {
                    at,
                    period_end: s.period_end(),
                    status: Some(s.status),
                    next_charge_at: None,
                    cancel_at_period_end: Some(s.cancel_at_period_end),
                    customer_id: s.customer,
                }
            }
        })
    }

    /// Applies the provider's word; answers whether anything was off.
    async fn apply_read_back(&self, id: &str, seen: &Observation) -> Result<bool, ApiError> {
        let mut tx = self.inner.db.begin().await?;
        let Some(mut row) = store::by_id(&mut tx, id).await? else {
            return Ok(false);
        };
        let before = state_of(&row);
        let mut state = before.clone();
        lifecycle::apply(&mut state, seen, self.grace_secs());
        let drift = state.status != before.status
            || state.period_end != before.period_end
            || state.cancel_at_period_end != before.cancel_at_period_end;
        if drift {
            self.audit(Record {
                user_id: Some(row.user_id.clone()),
                actor: "system".into(),
                action: "subscription.reconciled",
                detail: serde_json::json!({
                    "provider": row.provider, "from": before.status, "to": state.status,
                    "periodEnd": state.period_end, "cancelAtPeriodEnd": state.cancel_at_period_end,
                }),
                origin: Origin::default(),
                key: None,
            })
            .await;
            tracing::info!(
                subscription = %row.id,
                user_id = %row.user_id,
                from = %before.status,
                to = %state.status,
                "reconciliation fixed a subscription"
            );
        }
        put_state(&mut row, state);
        row.updated_at = self.now();
        store::update(&mut tx, &row).await?;
        self.recompute(&mut tx, &row.user_id, "system", "reconciliation")
            .await?;
        tx.commit().await?;
        Ok(drift)
    }
}
