//! Webhook deliveries: verified over the raw bytes before anything reads
//! them, recorded by the provider's event id together with the outbox
//! message that carries them on (so a duplicate is answered and dropped),
//! and applied once by the `apply-payment-events` subscription.

use axum::http::HeaderMap;
use platform::ApiError;
use platform::db::Tx;
use sha2::{Digest as _, Sha256};

use super::deliveries::{self, Charge, Delivery, Dispute, Effect, News, Refund};
use super::lifecycle;
use super::model::Provider;
use super::service::{SubscriptionService, put_state, state_of};
use super::signature::{self, Refusal};
use super::store::{self, PaymentRow, SubRow};
use crate::audit::{Origin, Record};

/// What the provider is told.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub received: bool,
    /// This event id was delivered before; nothing more was done.
    pub duplicate: bool,
}

/// Counts of what the webhooks left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ledger {
    /// Deliveries recorded (each event id once).
    pub deliveries: i64,
    /// Of those, applied.
    pub handled: i64,
    pub payments: i64,
    pub invoices: i64,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refused(provider: Provider, why: Refusal, body_len: usize) -> ApiError {
    // Never the body, never a secret: what failed and how long the body was.
    tracing::warn!(provider = provider.as_str(), reason = %why, body_len, "webhook refused");
    ApiError::invalid_field("signature", why.to_string())
}

impl SubscriptionService {
    /// A delivery from `provider`: 200 when recorded (or recorded before),
    /// 400 when unsigned or unreadable, 503 when the provider is off here.
    pub async fn receive(
        &self,
        provider: Provider,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Received, ApiError> {
        let now = self.now();
        match provider {
            Provider::Razorpay => {
                let secrets = self.razorpay()?.webhook_secrets();
                signature::razorpay_webhook(secrets, header(headers, "x-razorpay-signature"), body)
                    .map_err(|why| refused(provider, why, body.len()))?;
            }
            Provider::Stripe => {
                let secrets = self.stripe()?.webhook_secrets();
                let tolerance = i64::try_from(self.config().stripe_tolerance_secs).ok();
                signature::stripe_webhook(
                    secrets,
                    header(headers, "stripe-signature"),
                    body,
                    now,
                    tolerance,
                )
                .map_err(|why| refused(provider, why, body.len()))?;
            }
        }
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::invalid_argument("the body is not JSON"))?;
        // Without an id of its own, a delivery is known by its bytes: a
        // retry of the same body is still a duplicate.
        let digest = platform::mac::hex(&Sha256::digest(body));
        let by_bytes = format!("sha256:{digest}");
        let delivery = match provider {
            Provider::Razorpay => {
                let id = header(headers, "x-razorpay-event-id")
                    .map(str::trim)
                    .filter(|id| !id.is_empty());
                let id = match id {
                    Some(id) if id.len() <= 100 && id.bytes().all(|b| b.is_ascii_graphic()) => id,
                    Some(_) => {
                        return Err(ApiError::invalid_field(
                            "x-razorpay-event-id",
                            "must be at most 100 printable characters",
                        ));
                    }
                    None => &by_bytes,
                };
                deliveries::razorpay(id, &json, now)
            }
            Provider::Stripe => deliveries::stripe(&json, &by_bytes, now),
        }
        .map_err(|why| ApiError::invalid_argument(why.to_string()))?;
        let mut tx = self.inner.parts.inbox.begin().await?;
        let new = store::record_delivery(
            &mut tx,
            provider.as_str(),
            &delivery.event_id,
            &delivery.kind,
            &digest,
            now,
        )
        .await?;
        if new {
            self.inner
                .deliveries
                .publish_in(&mut tx, &delivery)
                .await
                .map_err(ApiError::internal)?;
        }
        tx.commit().await?;
        Ok(Received {
            received: true,
            duplicate: !new,
        })
    }

    /// Applies a recorded delivery, once, in the subscription's transaction.
    pub(super) async fn on_delivery(&self, delivery: &Delivery, mut tx: Tx) -> anyhow::Result<Tx> {
        let now = self.now();
        let outcome = match &delivery.effect {
            Effect::Ignored => "ignored",
            Effect::Subscription(news) => self.apply_news(&mut tx, delivery, news, now).await?,
            Effect::Refund(refund) => self.apply_refund(&mut tx, delivery, refund).await?,
            Effect::Dispute(dispute) => self.note_dispute(&mut tx, delivery, dispute).await?,
        };
        store::finish_delivery(
            &mut tx,
            delivery.provider.as_str(),
            &delivery.event_id,
            outcome,
            now,
        )
        .await?;
        Ok(tx)
    }

    async fn apply_news(
        &self,
        tx: &mut Tx,
        delivery: &Delivery,
        news: &News,
        now: i64,
    ) -> Result<&'static str, ApiError> {
        let provider = delivery.provider.as_str();
        let mut found = match &news.subscription_id {
            Some(id) => store::by_provider_id(tx, provider, id).await?,
            None => None,
        };
        if let Some(checkout) = &news.checkout_id
            && let Some(started) = store::by_checkout(tx, checkout).await?
        {
            match &found {
                // The subscription was heard of first: the checkout row is done.
                Some(row) if row.id != started.id => store::delete(tx, &started.id).await?,
                Some(_) => {}
                None => found = Some(started),
            }
        }
        let mut row = match found {
            Some(row) => row,
            None => match self.first_heard(delivery.provider, news, now).await? {
                Some(row) => match store::insert_or_get(tx, &row).await? {
                    Some(row) => row,
                    None => return Ok("unknown_customer"),
                },
                None => return Ok("unknown_customer"),
            },
        };
        if row.provider_subscription_id.is_none() {
            row.provider_subscription_id
                .clone_from(&news.subscription_id);
        }
        // A plan changed after checkout (in Stripe's portal, say): the
        // newest event's plan stands, and the next invoice is for it.
        if news.at >= row.last_event_at
            && let Some(plan) = self.known_plan(delivery.provider, news.plan_ref.as_deref())
        {
            row.plan = plan.as_str().into();
        }
        let mut state = state_of(&row);
        lifecycle::apply(&mut state, &news.observation(), self.grace_secs());
        put_state(&mut row, state);
        if let Some(kept) = self.older_live(tx, &row, now).await? {
            // One user, one live subscription: a second that comes alive (a
            // stale Checkout page paid, say) is ended at its provider at
            // once and flagged for a refund; the older one stands.
            self.cancel_now_at_provider(&row).await?;
            row.status = match delivery.provider {
                Provider::Razorpay => "cancelled",
                Provider::Stripe => "canceled",
            }
            .into();
            tracing::warn!(
                user_id = row.user_id,
                provider,
                "a second live subscription cancelled"
            );
            self.audit_on_commit(
                tx,
                Record {
                    user_id: Some(row.user_id.clone()),
                    actor: "system".into(),
                    action: "subscription.duplicate",
                    detail: serde_json::json!({
                        "provider": provider,
                        "subscriptionId": row.provider_subscription_id,
                        "keptSubscriptionId": kept,
                        "refundDue": true,
                    }),
                    origin: Origin::default(),
                    key: Some(format!("duplicate:{}", row.id)),
                },
            );
        }
        row.updated_at = now;
        store::update(tx, &row).await?;
        if let Some(charge) = &news.charge {
            self.record_charge(tx, delivery.provider, &row, charge)
                .await?;
        }
        self.recompute(tx, &row.user_id, delivery.provider.as_str(), &delivery.kind)
            .await?;
        Ok("applied")
    }

    /// The provider id of an older subscription of the same user that is
    /// live (entitled, not ending) when `row` is live too.
    async fn older_live(
        &self,
        tx: &mut Tx,
        row: &SubRow,
        now: i64,
    ) -> Result<Option<String>, ApiError> {
        let live = |r: &SubRow| {
            r.provider_subscription_id.is_some()
                && !lifecycle::is_final(&r.status)
                && !r.cancel_at_period_end
                && lifecycle::entitlement(&state_of(r), now).is_some()
        };
        if !live(row) {
            return Ok(None);
        }
        let others = store::of_user_in(tx, &row.user_id).await?;
        Ok(others
            .into_iter()
            .filter(|o| o.id != row.id && live(o))
            .find(|o| (o.created_at, &o.id) < (row.created_at, &row.id))
            .and_then(|o| o.provider_subscription_id))
    }

    /// A subscription first heard of in an event: ours when it names a user
    /// we have (we put the id there), otherwise not ours to act on.
    async fn first_heard(
        &self,
        provider: Provider,
        news: &News,
        now: i64,
    ) -> Result<Option<SubRow>, ApiError> {
        let (Some(user_id), Some(id)) = (&news.user_hint, &news.subscription_id) else {
            return Ok(None);
        };
        // Not ours when no such user; any other failure is retried.
        match self.inner.auth.user(user_id).await {
            Ok(_) => {}
            Err(err) if err.code == platform::ErrCode::NotFound => return Ok(None),
            Err(err) => return Err(err),
        }
        Ok(Some(SubRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            provider: provider.as_str().into(),
            provider_subscription_id: Some(id.clone()),
            plan: self
                .plan_of(provider, news.plan_ref.as_deref())
                .as_str()
                .into(),
            status: "created".into(),
            created_at: now,
            updated_at: now,
            ..SubRow::default()
        }))
    }

    /// Records a charge; a new one gets its tax invoice in the same transaction.
    async fn record_charge(
        &self,
        tx: &mut Tx,
        provider: Provider,
        row: &SubRow,
        charge: &Charge,
    ) -> Result<(), ApiError> {
        let payment = PaymentRow {
            user_id: row.user_id.clone(),
            subscription_id: row.id.clone(),
            amount: charge.amount,
            refunded: 0,
        };
        let new = store::add_payment(
            tx,
            provider.as_str(),
            &charge.id,
            &payment,
            &charge.currency,
            charge.at,
        )
        .await?;
        if new && charge.amount > 0 {
            let number = self.issue_invoice(tx, provider, row, charge).await?;
            self.audit_on_commit(
                tx,
                Record {
                    user_id: Some(row.user_id.clone()),
                    actor: provider.as_str().into(),
                    action: "payment.charged",
                    detail: serde_json::json!({
                        "provider": provider, "paymentId": charge.id, "amountPaise": charge.amount,
                        "currency": charge.currency, "invoice": number,
                    }),
                    origin: Origin::default(),
                    key: Some(format!("charge:{}:{}", provider.as_str(), charge.id)),
                },
            );
        }
        Ok(())
    }

    async fn apply_refund(
        &self,
        tx: &mut Tx,
        delivery: &Delivery,
        refund: &Refund,
    ) -> Result<&'static str, ApiError> {
        let provider = delivery.provider.as_str();
        let paid_id = self
            .payment_key(
                delivery.provider,
                refund.payment_id.as_deref(),
                refund.payment_intent.as_deref(),
            )
            .await?;
        let paid = match &paid_id {
            Some(id) => store::payment(tx, provider, id)
                .await?
                .map(|p| (id.clone(), p)),
            None => None,
        };
        let (user_id, subscription_id, full) = match paid {
            Some((payment_id, payment)) => {
                let refunded = if refund.cumulative {
                    refund.amount
                } else {
                    payment.refunded.saturating_add(refund.amount)
                }
                .min(payment.amount);
                store::set_refunded(tx, provider, &payment_id, refunded).await?;
                let full = refund.full.unwrap_or(refunded >= payment.amount);
                (payment.user_id, payment.subscription_id, full)
            }
            None => {
                let Some(customer) = &refund.customer_id else {
                    return Ok("unknown_payment");
                };
                let Some((user_id, id)) = store::user_of_customer(tx, provider, customer).await?
                else {
                    return Ok("unknown_payment");
                };
                (user_id, id, refund.full.unwrap_or(false))
            }
        };
        tracing::info!(provider, user_id, full, "refund recorded");
        self.audit_on_commit(tx, Record {
            user_id: Some(user_id.clone()),
            actor: provider.into(),
            action: "payment.refunded",
            detail: serde_json::json!({ "paymentId": paid_id, "amountPaise": refund.amount, "full": full }),
            origin: Origin::default(),
            key: Some(format!("{provider}:{}:refund", delivery.event_id)),
        });
        if !full {
            return Ok("refund_partial");
        }
        if let Some(mut row) = store::by_id(tx, &subscription_id).await? {
            // A full refund ends what was paid for, and the subscription:
            // the provider would otherwise charge again at the period's end
            // for an account we have made Free.
            if !lifecycle::is_final(&row.status) {
                self.cancel_now_at_provider(&row).await?;
            }
            row.status = "refunded".into();
            row.updated_at = self.now();
            store::update(tx, &row).await?;
        }
        self.recompute(tx, &user_id, provider, &delivery.kind)
            .await?;
        Ok("refund_full")
    }

    async fn note_dispute(
        &self,
        tx: &mut Tx,
        delivery: &Delivery,
        dispute: &Dispute,
    ) -> Result<&'static str, ApiError> {
        let paid_id = self
            .payment_key(
                delivery.provider,
                dispute.payment_id.as_deref(),
                dispute.payment_intent.as_deref(),
            )
            .await?;
        let known = match &paid_id {
            Some(id) => store::payment(tx, delivery.provider.as_str(), id).await?,
            None => None,
        };
        tracing::warn!(
            provider = delivery.provider.as_str(),
            amount = dispute.amount,
            known = known.is_some(),
            "payment disputed"
        );
        self.audit_on_commit(
            tx,
            Record {
                user_id: known.map(|p| p.user_id),
                actor: delivery.provider.as_str().into(),
                action: "payment.disputed",
                detail: serde_json::json!({ "paymentId": paid_id, "amountPaise": dispute.amount }),
                origin: Origin::default(),
                key: Some(format!(
                    "{}:{}:dispute",
                    delivery.provider.as_str(),
                    delivery.event_id
                )),
            },
        );
        Ok("dispute")
    }

    /// Our key of a refunded or disputed payment: the one the event names,
    /// else (Stripe) the invoice its PaymentIntent paid, asked of Stripe.
    async fn payment_key(
        &self,
        provider: Provider,
        named: Option<&str>,
        payment_intent: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        match (named, payment_intent, provider) {
            (Some(id), _, _) => Ok(Some(id.to_string())),
            (None, Some(intent), Provider::Stripe) => {
                Ok(self.stripe()?.invoice_of_payment_intent(intent).await?)
            }
            _ => Ok(None),
        }
    }

    /// What the ledger holds, to count effects after a load (the benchmark,
    /// the tests, support).
    pub async fn ledger(&self) -> Result<Ledger, ApiError> {
        let deliveries = store::deliveries_count(&self.inner.parts.inbox).await?;
        let (handled, payments, invoices) = store::ledger_counts(&self.inner.db).await?;
        Ok(Ledger {
            deliveries,
            handled,
            payments,
            invoices,
        })
    }
}
