//! Who is Pro: worked out from a user's subscriptions (and support's
//! grant) whenever one changes, stored with a version, and published on
//! `subscription-changed` in the same transaction when the tier moves;
//! auth applies the newest version. A sweep catches Pro that runs out
//! with no event (a grace, a cancelled period).

use platform::ApiError;
use platform::db::Tx;

use super::events::SubscriptionChanged;
use super::lifecycle;
use super::service::{SubscriptionService, state_of};
use super::store::{self, TierRow};
use crate::audit::{Origin, Record};

use crate::auth::Tier;

/// Users the lapse sweep looks at per round.
const SWEEP_BATCH: i64 = 500;

impl SubscriptionService {
    /// Works the user's tier out again in `tx`; publishes the change when
    /// it moved, and answers it.
    pub(super) async fn recompute(
        &self,
        tx: &mut Tx,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<Option<SubscriptionChanged>, ApiError> {
        let now = self.now();
        let old = store::tier(tx, user_id, now).await?;
        let rows = store::of_user_in(tx, user_id).await?;
        let granted = old.granted;
        let mut pro = granted;
        let mut until: Option<Option<i64>> = granted.then_some(None);
        for row in &rows {
            if let Some(end) = lifecycle::entitlement(&state_of(row), now) {
                pro = true;
                until = Some(match until {
                    None => end,
                    Some(have) => lifecycle::later(have, end),
                });
            }
        }
        let tier = if pro { "pro" } else { "free" };
        let moved = old.tier != tier;
        let version = old.version + i64::from(moved);
        let row = TierRow {
            tier: tier.into(),
            version,
            pro_until: until.flatten(),
            granted,
        };
        store::put_tier(tx, user_id, &row, now).await?;
        if !moved {
            return Ok(None);
        }
        let event = SubscriptionChanged {
            user_id: user_id.to_string(),
            tier: tier.into(),
            version,
            reason: reason.to_string(),
        };
        self.inner
            .changed
            .publish_in(tx, &event)
            .await
            .map_err(ApiError::internal)?;
        tracing::info!(user_id, tier, version, reason, "tier changed");
        // Keyed by the version: a retried handler records the change once.
        self.audit_on_commit(tx, Record {
            user_id: Some(user_id.to_string()),
            actor: actor.to_string(),
            action: "tier.changed",
            detail: serde_json::json!({ "from": old.tier, "to": tier, "version": version, "reason": reason }),
            origin: Origin::default(),
            key: Some(format!("tier:{user_id}:{version}")),
        });
        Ok(Some(event))
    }

    /// Support's grant (`kitemate users set-tier`): Pro on top of any
    /// subscription, or taken away (a paid subscription still counts).
    /// Applied to auth at once too, so it holds with no server running.
    pub async fn grant(&self, email: &str, tier: Tier) -> Result<Tier, ApiError> {
        let user_id = self
            .inner
            .auth
            .user_id_by_email(email)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no user with email {}", email.trim())))?;
        let mut tx = self.inner.db.begin().await?;
        let mut row = store::tier(&mut tx, &user_id, self.now()).await?;
        row.granted = tier == Tier::Pro;
        store::put_tier(&mut tx, &user_id, &row, self.now()).await?;
        let moved = self
            .recompute(&mut tx, &user_id, "support", "support")
            .await?;
        let mut now_row = store::tier(&mut tx, &user_id, self.now()).await?;
        if moved.is_none() {
            // A new version all the same, so auth applies it even where its
            // tier was set before this service kept versions.
            now_row.version += 1;
            store::put_tier(&mut tx, &user_id, &now_row, self.now()).await?;
        }
        tx.commit().await?;
        let (now_tier, version) = (Tier::parse(&now_row.tier), now_row.version);
        self.audit(Record {
            user_id: Some(user_id.clone()),
            actor: "support".into(),
            action: "tier.granted",
            detail: serde_json::json!({ "granted": tier == Tier::Pro }),
            origin: Origin::default(),
            key: None,
        })
        .await;
        let tier = now_tier;
        self.inner.auth.apply_tier(&user_id, tier, version).await?;
        Ok(tier)
    }

    /// Moves users whose Pro ran out with no event to Free; answers how many.
    pub async fn sweep_lapsed(&self) -> Result<u64, ApiError> {
        let mut moved = 0;
        loop {
            let due = store::lapsed(&self.inner.db, self.now(), SWEEP_BATCH).await?;
            let round = due.len();
            for user_id in due {
                let mut tx = self.inner.db.begin().await?;
                if self
                    .recompute(&mut tx, &user_id, "system", "paid period or grace ended")
                    .await?
                    .is_some()
                {
                    moved += 1;
                }
                tx.commit().await?;
            }
            if round < SWEEP_BATCH as usize {
                return Ok(moved);
            }
        }
    }
}
