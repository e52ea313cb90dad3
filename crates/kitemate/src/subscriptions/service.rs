//! `SubscriptionService`: plans, checkout through either provider, the
//! caller's subscription (cancel, resume, portal) and billing details. The
//! webhooks, tiers, invoices and reconciliation are its other files.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::clock::Clock;
use platform::db::{Db, Tx};
use platform::pubsub::{PubSub, Topic};

use super::config::{PaidPlanConfig, Providers, SubscriptionsConfig};
use super::deliveries::Delivery;
use super::events::{PAYMENT_DELIVERIES, SUBSCRIPTION_CHANGED, SubscriptionChanged};
use super::gst;
use super::lifecycle::{self, State};
use super::model::{
    Allowance, BillingDetails, Checkout, MySubscription, PaidPlan, Plan, PlanInfo, PlanList,
    Provider,
};
use super::provider_error::ProviderError;
use super::razorpay::Razorpay;
use super::store::{self, DetailsRow, SubRow};
use super::stripe::{CheckoutRequest, Stripe};
use crate::audit::{AuditService, Origin, Record};
use crate::auth::{AuthData, AuthService};
use crate::chat::{ChatService, FREE_QUESTIONS};

/// How long a verified Razorpay Checkout callback shows Pro before the
/// webhook says so.
const HINT_SECS: i64 = 3600;
/// How long a Razorpay subscription waits to be authorised.
const AUTHORISE_SECS: i64 = 86_400;
/// How long one checkout may take to reach the provider.
const HOLD_SECS: i64 = 30;

/// What the service is built from besides its database.
#[derive(Debug, Clone)]
pub struct SubscriptionParts {
    pub config: SubscriptionsConfig,
    pub providers: Providers,
    /// The app's public URL, where providers send the browser back.
    pub public_url: String,
    /// The Free plan's widgets and dashboards.
    pub free_widgets: u32,
    pub free_dashboards: u32,
    /// Payments, tier changes and the rest go here.
    pub audit: AuditService,
    /// The `payment_inbox` database, where webhook deliveries are recorded.
    pub inbox: Db,
}

#[derive(Debug, Clone)]
pub struct SubscriptionService {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub db: Db,
    pub clock: Clock,
    pub parts: SubscriptionParts,
    pub auth: AuthService,
    pub chat: ChatService,
    pub changed: Topic<SubscriptionChanged>,
    pub deliveries: Topic<Delivery>,
}

/// A change of billing details: what is present changes; an empty `gstin` clears it.
#[derive(Debug, Default)]
pub struct DetailsChange {
    pub name: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<String>,
    pub gstin: Option<String>,
}

impl SubscriptionService {
    pub fn new(
        db: Db,
        clock: Clock,
        auth: AuthService,
        chat: ChatService,
        parts: SubscriptionParts,
        pubsub: &PubSub,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                changed: pubsub.topic(&SUBSCRIPTION_CHANGED, &db)?,
                deliveries: pubsub.topic(&PAYMENT_DELIVERIES, &parts.inbox)?,
                db,
                clock,
                parts,
                auth,
                chat,
            }),
        })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(super) fn config(&self) -> &SubscriptionsConfig {
        &self.inner.parts.config
    }

    pub(super) fn now(&self) -> i64 {
        self.inner.clock.now().timestamp()
    }

    pub(super) fn grace_secs(&self) -> i64 {
        i64::from(self.config().grace_days) * 86_400
    }

    pub(super) fn plan_config(&self, plan: PaidPlan) -> &PaidPlanConfig {
        match plan {
            PaidPlan::ProMonthly => &self.config().plans.pro_monthly,
            PaidPlan::ProYearly => &self.config().plans.pro_yearly,
        }
    }

    /// The paid plan a provider's plan or price id stands for.
    pub(super) fn plan_of(&self, provider: Provider, plan_ref: Option<&str>) -> PaidPlan {
        self.known_plan(provider, plan_ref)
            .unwrap_or(PaidPlan::ProMonthly)
    }

    /// The plan whose provider id (Razorpay plan, Stripe price) is
    /// `plan_ref`, if it is one of ours.
    pub(super) fn known_plan(
        &self,
        provider: Provider,
        plan_ref: Option<&str>,
    ) -> Option<PaidPlan> {
        let plan_ref = plan_ref?;
        [PaidPlan::ProMonthly, PaidPlan::ProYearly]
            .into_iter()
            .find(|plan| {
                let config = self.plan_config(*plan);
                let id = match provider {
                    Provider::Razorpay => &config.razorpay_plan_id,
                    Provider::Stripe => &config.stripe_price_id,
                };
                !id.is_empty() && plan_ref == id
            })
    }

    /// Ends `row`'s subscription at its provider now (not at the period's
    /// end). One the provider has already ended is fine; one it cannot be
    /// asked about (unreachable, refusing) is an error to try again.
    pub(super) async fn cancel_now_at_provider(&self, row: &SubRow) -> Result<(), ApiError> {
        let Some(id) = row.provider_subscription_id.as_deref() else {
            return Ok(());
        };
        let ended = match Provider::parse(&row.provider) {
            Some(Provider::Razorpay) => {
                let razorpay = self.razorpay()?;
                match razorpay.cancel(id, false).await {
                    Err(ProviderError::Refused(..)) => {
                        // Refused because it is over already? Ask.
                        let now = razorpay.subscription(id).await?;
                        ["cancelled", "completed", "expired"].contains(&now.status.as_str())
                    }
                    other => other.map(|_| true)?,
                }
            }
            _ => {
                let stripe = self.stripe()?;
                match stripe.cancel_now(id).await {
                    Err(ProviderError::Refused(..)) => {
                        let now = stripe.subscription(id).await?;
                        ["canceled", "incomplete_expired"].contains(&now.status.as_str())
                    }
                    other => other.map(|_| true)?,
                }
            }
        };
        if ended {
            Ok(())
        } else {
            Err(ApiError::unavailable(format!(
                "{} would not cancel the subscription; try again later",
                row.provider
            )))
        }
    }

    pub(super) fn razorpay(&self) -> Result<&Razorpay, ApiError> {
        self.inner
            .parts
            .providers
            .razorpay
            .as_ref()
            .ok_or_else(|| ApiError::unavailable("payments through Razorpay are not set up here"))
    }

    pub(super) fn stripe(&self) -> Result<&Stripe, ApiError> {
        self.inner
            .parts
            .providers
            .stripe
            .as_ref()
            .ok_or_else(|| ApiError::unavailable("payments through Stripe are not set up here"))
    }

    fn sells(&self, plan: PaidPlan, provider: Provider) -> bool {
        let config = self.plan_config(plan);
        match provider {
            Provider::Razorpay => {
                self.inner.parts.providers.razorpay.is_some() && !config.razorpay_plan_id.is_empty()
            }
            Provider::Stripe => {
                self.inner.parts.providers.stripe.is_some() && !config.stripe_price_id.is_empty()
            }
        }
    }

    /// The plans on sale, with what each includes.
    pub fn plans(&self) -> PlanList {
        let parts = &self.inner.parts;
        let free = PlanInfo {
            id: Plan::Free,
            name: "Free".into(),
            price_paise: 0,
            period: None,
            includes: Allowance {
                questions_per_month: Some(FREE_QUESTIONS),
                widgets: Some(i64::from(parts.free_widgets)),
                dashboards: Some(i64::from(parts.free_dashboards)),
            },
            providers: Vec::new(),
        };
        let paid = [PaidPlan::ProMonthly, PaidPlan::ProYearly].map(|plan| PlanInfo {
            id: plan.plan(),
            name: plan.name().into(),
            price_paise: self.plan_config(plan).price_paise,
            period: Some(
                match plan {
                    PaidPlan::ProMonthly => "month",
                    PaidPlan::ProYearly => "year",
                }
                .into(),
            ),
            includes: Allowance {
                questions_per_month: None,
                widgets: None,
                dashboards: None,
            },
            providers: [Provider::Razorpay, Provider::Stripe]
                .into_iter()
                .filter(|p| self.sells(plan, *p))
                .collect(),
        });
        PlanList {
            plans: std::iter::once(free).chain(paid).collect(),
        }
    }

    /// Starts paying for `plan` through `provider`.
    pub async fn checkout(
        &self,
        caller: &AuthData,
        plan: PaidPlan,
        provider: Provider,
        origin: &Origin,
    ) -> Result<Checkout, ApiError> {
        // A provider that is off answers 503 before anything else is looked at.
        match provider {
            Provider::Razorpay => {
                self.razorpay()?;
            }
            Provider::Stripe => {
                self.stripe()?;
            }
        }
        let made = self.checkout_held(caller, plan, provider).await?;
        let detail = serde_json::json!({ "provider": provider, "plan": plan, "subscriptionId": made.subscription_id });
        self.audit(Record::by_user(
            &caller.user.id,
            "checkout.started",
            detail,
            origin.clone(),
        ))
        .await;
        Ok(made)
    }

    pub(super) async fn audit(&self, record: Record) {
        self.inner.parts.audit.record(record).await;
    }

    /// Writes `record` to the audit log once `tx` commits: never for a
    /// change rolled back, and not while `tx` holds the database's writer.
    pub(super) fn audit_on_commit(&self, tx: &mut Tx, record: Record) {
        let audit = self.inner.parts.audit.clone();
        tx.after_commit(move || {
            tokio::spawn(async move { audit.record(record).await });
        });
    }

    async fn checkout_held(
        &self,
        caller: &AuthData,
        plan: PaidPlan,
        provider: Provider,
    ) -> Result<Checkout, ApiError> {
        if !self.sells(plan, provider) {
            return Err(ApiError::unavailable(format!(
                "{} is not sold through {} here",
                plan.name(),
                provider.name()
            )));
        }
        let user_id = &caller.user.id;
        let now = self.now();
        let rows = store::of_user(&self.inner.db, user_id).await?;
        if let Some(live) = rows.iter().find(|row| is_live(row, now)) {
            return Err(ApiError::already_exists(format!(
                "you already have a {} subscription ({}); cancel it, or wait for it to end",
                Provider::parse(&live.provider).map_or("", Provider::name),
                live.status
            )));
        }
        // Reserve before spending: one checkout reaches a provider at a time.
        if !store::hold_checkout(&self.inner.db, user_id, now, now + HOLD_SECS).await? {
            return Err(ApiError::already_exists(
                "a checkout of yours is already under way; try again in a moment",
            ));
        }
        let made = match provider {
            Provider::Razorpay => self.razorpay_checkout(caller, plan, &rows, now).await,
            Provider::Stripe => self.stripe_checkout(caller, plan, &rows, now).await,
        };
        store::release_checkout(&self.inner.db, user_id).await?;
        made
    }

    async fn razorpay_checkout(
        &self,
        caller: &AuthData,
        plan: PaidPlan,
        rows: &[SubRow],
        now: i64,
    ) -> Result<Checkout, ApiError> {
        let razorpay = self.razorpay()?;
        // Another click on "Upgrade" reuses the subscription not yet authorised.
        let reusable = rows.iter().find(|row| {
            row.provider == Provider::Razorpay.as_str()
                && row.status == "created"
                && row.plan == plan.as_str()
                && row.expire_by.is_some_and(|by| by > now + 600)
        });
        let row = match reusable {
            Some(row) => row.clone(),
            None => {
                let total_count = match plan {
                    PaidPlan::ProMonthly => 120,
                    PaidPlan::ProYearly => 10,
                };
                let expire_by = now + AUTHORISE_SECS;
                let made = razorpay
                    .create_subscription(
                        &self.plan_config(plan).razorpay_plan_id,
                        total_count,
                        &caller.user.id,
                        expire_by,
                    )
                    .await?;
                let row = SubRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    user_id: caller.user.id.clone(),
                    provider: Provider::Razorpay.as_str().into(),
                    provider_subscription_id: Some(made.id),
                    checkout_url: made.short_url,
                    plan: plan.as_str().into(),
                    status: "created".into(),
                    expire_by: Some(expire_by),
                    created_at: now,
                    updated_at: now,
                    ..SubRow::default()
                };
                store::insert_alone(&self.inner.db, &row).await?;
                row
            }
        };
        Ok(Checkout {
            provider: Provider::Razorpay,
            plan,
            subscription_id: row.provider_subscription_id,
            key_id: Some(razorpay.key_id().to_string()),
            checkout_url: row.checkout_url,
        })
    }

    async fn stripe_checkout(
        &self,
        caller: &AuthData,
        plan: PaidPlan,
        rows: &[SubRow],
        now: i64,
    ) -> Result<Checkout, ApiError> {
        let stripe = self.stripe()?;
        let id = uuid::Uuid::now_v7().to_string();
        let customer = rows
            .iter()
            .filter(|row| row.provider == Provider::Stripe.as_str())
            .find_map(|row| row.customer_id.clone());
        let back = self.return_url();
        let success =
            format!("{back}/app/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}");
        let cancel = format!("{back}/app/billing?checkout=cancelled");
        let key = format!("checkout:{}:{id}", caller.user.id);
        let session = stripe
            .create_checkout(&CheckoutRequest {
                price_id: &self.plan_config(plan).stripe_price_id,
                user_id: &caller.user.id,
                email: &caller.user.email,
                customer: customer.as_deref(),
                success_url: &success,
                cancel_url: &cancel,
                idempotency_key: &key,
            })
            .await?;
        let row = SubRow {
            id,
            user_id: caller.user.id.clone(),
            provider: Provider::Stripe.as_str().into(),
            checkout_id: Some(session.id),
            checkout_url: session.url.clone(),
            plan: plan.as_str().into(),
            status: "checkout".into(),
            customer_id: customer,
            created_at: now,
            updated_at: now,
            ..SubRow::default()
        };
        store::insert_alone(&self.inner.db, &row).await?;
        Ok(Checkout {
            provider: Provider::Stripe,
            plan,
            subscription_id: None,
            key_id: None,
            checkout_url: session.url,
        })
    }

    fn return_url(&self) -> String {
        let configured = &self.config().return_url;
        let url = if configured.is_empty() {
            &self.inner.parts.public_url
        } else {
            configured
        };
        url.trim_end_matches('/').to_string()
    }

    /// Razorpay Checkout's callback: a valid signature over the payment and
    /// the caller's own subscription shows Pro at once, for a while.
    pub async fn verify_razorpay(
        &self,
        caller: &AuthData,
        payment_id: &str,
        subscription_id: &str,
        signature: &str,
    ) -> Result<MySubscription, ApiError> {
        let razorpay = self.razorpay()?;
        let mut tx = self.inner.db.begin().await?;
        let row = store::by_provider_id(&mut tx, Provider::Razorpay.as_str(), subscription_id)
            .await?
            .filter(|row| row.user_id == caller.user.id)
            .ok_or_else(|| ApiError::not_found("no such subscription of yours"))?;
        let stored = row.provider_subscription_id.as_deref().unwrap_or_default();
        if !super::signature::razorpay_checkout(
            razorpay.key_secret(),
            payment_id,
            stored,
            signature,
        ) {
            return Err(ApiError::invalid_field(
                "razorpaySignature",
                "does not match this payment and subscription",
            ));
        }
        let now = self.now();
        // Once: a replayed callback does not lengthen the hint.
        if matches!(row.status.as_str(), "created" | "authenticated") && row.hint_until.is_none() {
            let mut row = row;
            row.hint_until = Some(now + HINT_SECS);
            row.updated_at = now;
            store::update(&mut tx, &row).await?;
            self.recompute(&mut tx, &row.user_id, "user", "checkout verified")
                .await?;
        }
        tx.commit().await?;
        self.me(caller).await
    }

    /// The caller's plan, subscription and what is left of the month.
    pub async fn me(&self, caller: &AuthData) -> Result<MySubscription, ApiError> {
        let now = self.now();
        let rows = store::of_user(&self.inner.db, &caller.user.id).await?;
        let tier = store::tier_of(&self.inner.db, &caller.user.id).await?;
        let pro = tier
            .as_ref()
            .map_or(caller.user.tier == crate::auth::Tier::Pro, |t| {
                t.tier == "pro"
            });
        // The one that goes on, before one that is ending (a cancelled
        // duplicate keeps what was paid for, but it is not the plan).
        let current = rows
            .iter()
            .find(|row| is_live(row, now) && !lifecycle::is_final(&row.status))
            .or_else(|| rows.iter().find(|row| is_live(row, now)))
            .or_else(|| rows.iter().find(|row| row.status != "checkout"))
            .or(rows.first());
        let usage = self.inner.chat.usage(caller).await?;
        let plan = match current.and_then(|row| PaidPlan::parse(&row.plan)) {
            Some(plan) if pro => plan.plan(),
            None if pro => Plan::ProMonthly,
            _ => Plan::Free,
        };
        let at = |secs: Option<i64>| secs.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
        let charging = current.filter(|row| {
            !row.cancel_at_period_end
                && matches!(
                    row.status.as_str(),
                    "active" | "trialing" | "pending" | "past_due"
                )
        });
        Ok(MySubscription {
            tier: if pro { "pro" } else { "free" }.into(),
            plan,
            status: current.map(|row| row.status.clone()),
            provider: current.and_then(|row| Provider::parse(&row.provider)),
            current_period_end: at(current.and_then(|row| row.period_end)),
            next_charge_at: at(charging.and_then(|row| row.next_charge_at.or(row.period_end))),
            next_charge_paise: charging
                .and_then(|row| PaidPlan::parse(&row.plan))
                .map(|plan| self.plan_config(plan).price_paise),
            cancel_at_period_end: current.is_some_and(|row| row.cancel_at_period_end),
            grace_until: at(current
                .filter(|row| matches!(row.status.as_str(), "pending" | "past_due"))
                .and_then(|row| row.grace_until)),
            pro_until: at(tier.and_then(|t| t.pro_until).filter(|_| pro)),
            questions_left: (!pro).then(|| (FREE_QUESTIONS - usage.used).max(0)),
            questions_reset_at: usage.resets_at,
        })
    }

    /// The subscription cancel and resume act on: paid for, and not ended.
    async fn current(&self, caller: &AuthData) -> Result<Option<SubRow>, ApiError> {
        let now = self.now();
        let rows = store::of_user(&self.inner.db, &caller.user.id).await?;
        Ok(rows.into_iter().find(|row| {
            row.provider_subscription_id.is_some()
                && !lifecycle::is_final(&row.status)
                && is_live(row, now)
        }))
    }

    /// Cancels the caller's subscription at the end of the paid period,
    /// through the provider; Pro lasts until then.
    pub async fn cancel(
        &self,
        caller: &AuthData,
        origin: &Origin,
    ) -> Result<MySubscription, ApiError> {
        let Some(row) = self.current(caller).await? else {
            return Err(ApiError::failed_precondition(
                "you have no subscription to cancel",
            ));
        };
        if !row.cancel_at_period_end {
            let id = row.provider_subscription_id.clone().unwrap_or_default();
            match Provider::parse(&row.provider) {
                Some(Provider::Razorpay) => {
                    self.razorpay()?.cancel(&id, true).await?;
                }
                _ => {
                    self.stripe()?.cancel_at_period_end(&id, true).await?;
                }
            }
            self.set_cancel(&row.id, true, "cancel requested").await?;
            let detail =
                serde_json::json!({ "provider": row.provider, "periodEnd": row.period_end });
            self.audit(Record::by_user(
                &caller.user.id,
                "subscription.cancel_requested",
                detail,
                origin.clone(),
            ))
            .await;
        }
        self.me(caller).await
    }

    /// Takes back a cancellation before the period ends (Stripe; Razorpay
    /// cannot take one back).
    pub async fn resume(
        &self,
        caller: &AuthData,
        origin: &Origin,
    ) -> Result<MySubscription, ApiError> {
        let row = self
            .current(caller)
            .await?
            .filter(|row| row.cancel_at_period_end)
            .ok_or_else(|| {
                ApiError::failed_precondition("you have no cancelled subscription to resume")
            })?;
        if Provider::parse(&row.provider) == Some(Provider::Razorpay) {
            let end = row
                .period_end
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
                .map_or_else(
                    || "its period ends".to_string(),
                    |d| d.format("%-d %B %Y").to_string(),
                );
            return Err(ApiError::failed_precondition(format!(
                "Razorpay cannot take a cancellation back; Pro lasts until {end}, then subscribe again"
            )));
        }
        let id = row.provider_subscription_id.clone().unwrap_or_default();
        self.stripe()?.cancel_at_period_end(&id, false).await?;
        self.set_cancel(&row.id, false, "cancellation taken back")
            .await?;
        let detail = serde_json::json!({ "provider": row.provider });
        let record = Record::by_user(
            &caller.user.id,
            "subscription.resumed",
            detail,
            origin.clone(),
        );
        self.audit(record).await;
        self.me(caller).await
    }

    async fn set_cancel(&self, id: &str, cancel: bool, reason: &str) -> Result<(), ApiError> {
        let mut tx = self.inner.db.begin().await?;
        if let Some(mut row) = store::by_id(&mut tx, id).await? {
            row.cancel_at_period_end = cancel;
            row.updated_at = self.now();
            store::update(&mut tx, &row).await?;
            self.recompute(&mut tx, &row.user_id, "user", reason)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A Stripe Customer Portal page for the caller.
    pub async fn portal(&self, caller: &AuthData) -> Result<String, ApiError> {
        let rows = store::of_user(&self.inner.db, &caller.user.id).await?;
        let customer = rows
            .iter()
            .filter(|row| row.provider == Provider::Stripe.as_str())
            .find_map(|row| row.customer_id.clone())
            .ok_or_else(|| {
                ApiError::failed_precondition(
                    "the billing portal is for subscriptions paid through Stripe; you have none",
                )
            })?;
        let back = format!("{}/app/billing", self.return_url());
        Ok(self.stripe()?.portal(&customer, &back).await?)
    }

    pub async fn billing_details(
        &self,
        caller: &AuthData,
    ) -> Result<Option<BillingDetails>, ApiError> {
        Ok(store::details(&self.inner.db, &caller.user.id)
            .await?
            .map(details_model))
    }

    /// Changes the caller's billing details; the first change must name,
    /// address and place them.
    pub async fn change_billing_details(
        &self,
        caller: &AuthData,
        change: DetailsChange,
        origin: &Origin,
    ) -> Result<BillingDetails, ApiError> {
        let mut tx = self.inner.db.begin().await?;
        let old = store::details_in(&mut tx, &caller.user.id).await?;
        let pick = |new: Option<String>, old: Option<String>, field: &str| {
            new.or(old)
                .ok_or_else(|| ApiError::invalid_field(field, "is required the first time"))
        };
        let row = DetailsRow {
            name: pick(change.name, old.as_ref().map(|o| o.name.clone()), "name")?,
            address: pick(
                change.address,
                old.as_ref().map(|o| o.address.clone()),
                "address",
            )?,
            state_code: pick(
                change.state_code,
                old.as_ref().map(|o| o.state_code.clone()),
                "stateCode",
            )?,
            gstin: match change.gstin {
                Some(g) if g.is_empty() => None,
                Some(g) => Some(g),
                None => old.and_then(|o| o.gstin),
            },
        };
        if !gst::is_state_code(&row.state_code) {
            return Err(ApiError::invalid_field(
                "stateCode",
                "is not a GST state code (01–38 or 97)",
            ));
        }
        if let Some(gstin) = &row.gstin {
            if !gst::is_gstin(gstin) {
                return Err(ApiError::invalid_field(
                    "gstin",
                    "is not a valid GSTIN (its check character does not match)",
                ));
            }
            if gstin[..2] != row.state_code {
                return Err(ApiError::invalid_field(
                    "gstin",
                    "is registered in another state than stateCode",
                ));
            }
        }
        store::put_details(&mut tx, &caller.user.id, &row, self.now()).await?;
        tx.commit().await?;
        let detail =
            serde_json::json!({ "stateCode": row.state_code, "gstin": row.gstin.is_some() });
        self.audit(Record::by_user(
            &caller.user.id,
            "billing.details_changed",
            detail,
            origin.clone(),
        ))
        .await;
        Ok(details_model(row))
    }
}

pub(super) fn details_model(row: DetailsRow) -> BillingDetails {
    BillingDetails {
        name: row.name,
        address: row.address,
        state_code: row.state_code,
        gstin: row.gstin,
    }
}

/// Whether a subscription holds its user: Pro now, charging, or retrying a charge.
pub(super) fn is_live(row: &SubRow, now: i64) -> bool {
    lifecycle::entitlement(&state_of(row), now).is_some()
        || matches!(
            row.status.as_str(),
            "authenticated" | "active" | "trialing" | "pending" | "past_due"
        )
}

pub(super) fn state_of(row: &SubRow) -> State {
    State {
        status: row.status.clone(),
        period_end: row.period_end,
        next_charge_at: row.next_charge_at,
        cancel_at_period_end: row.cancel_at_period_end,
        grace_until: row.grace_until,
        hint_until: row.hint_until,
        last_event_at: row.last_event_at,
        customer_id: row.customer_id.clone(),
    }
}

pub(super) fn put_state(row: &mut SubRow, state: State) {
    row.status = state.status;
    row.period_end = state.period_end;
    row.next_charge_at = state.next_charge_at;
    row.cancel_at_period_end = state.cancel_at_period_end;
    row.grace_until = state.grace_until;
    row.hint_until = state.hint_until;
    row.last_event_at = state.last_event_at;
    row.customer_id = state.customer_id;
}
