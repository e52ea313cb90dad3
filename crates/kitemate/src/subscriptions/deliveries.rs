//! Provider webhook bodies read into what KiteMate does with them: news of
//! a subscription (its state, maybe a charge), a refund, a dispute, or
//! nothing. Pure: the bytes were verified before this reads them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lifecycle::Observation;
use super::model::Provider;
use super::stripe::period_end_of;

/// A verified delivery, as the handler hands it on through the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub provider: Provider,
    pub event_id: String,
    /// The provider's event type (`subscription.charged`, `invoice.paid`, …).
    pub kind: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Effect {
    Subscription(Box<News>),
    Refund(Refund),
    Dispute(Dispute),
    /// Signed and recorded, of no use to KiteMate.
    Ignored,
}

/// What an event says about one subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct News {
    pub subscription_id: Option<String>,
    /// Stripe's Checkout Session that made it.
    pub checkout_id: Option<String>,
    /// Our user id as we gave it to the provider (`notes.user_id`,
    /// `client_reference_id`, `metadata.user_id`).
    pub user_hint: Option<String>,
    /// Razorpay's plan id or Stripe's price id, to know the plan of a
    /// subscription first heard of here.
    pub plan_ref: Option<String>,
    pub at: i64,
    pub status: Option<String>,
    pub period_end: Option<i64>,
    pub next_charge_at: Option<i64>,
    pub cancel_at_period_end: Option<bool>,
    pub customer_id: Option<String>,
    /// A failed charge (starts a grace).
    pub failed_charge: bool,
    pub charge: Option<Charge>,
}

impl News {
    pub fn observation(&self) -> Observation {
        Observation {
            at: self.at,
            status: self.status.clone(),
            period_end: self.period_end,
            next_charge_at: self.next_charge_at,
            cancel_at_period_end: self.cancel_at_period_end,
            customer_id: self.customer_id.clone(),
        }
    }
}

/// A successful charge: what an invoice is made for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// Razorpay's payment id, Stripe's invoice id.
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub at: i64,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Our key of the payment: Razorpay's payment id, Stripe's invoice id
    /// (older Stripe API versions name it on the charge).
    pub payment_id: Option<String>,
    /// Stripe's PaymentIntent, which leads to the invoice when the charge
    /// does not name it (API `2025-03-31.basil` on).
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub customer_id: Option<String>,
    /// This refund's amount (Razorpay) or all refunded so far (Stripe).
    pub amount: i64,
    /// Whether the provider says the whole payment is refunded.
    pub full: Option<bool>,
    pub cumulative: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispute {
    pub payment_id: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub amount: i64,
}

/// Why a signed body cannot be used: it is not a JSON object.
#[derive(Debug, thiserror::Error)]
#[error("the body is not a JSON object")]
pub struct Unreadable;

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .map(str::to_string)
}

/// Amounts are whole paise, never negative, bounded (₹10 crore).
fn amount(v: &Value) -> Option<i64> {
    v.as_i64().filter(|a| (0..=1_000_000_000).contains(a))
}

/// A Razorpay webhook body; its event id comes from `X-Razorpay-Event-Id`.
/// A signed event this cannot use is `Ignored` (and answered 200), with
/// `now` for a missing time.
pub fn razorpay(event_id: &str, body: &Value, now: i64) -> Result<Delivery, Unreadable> {
    if !body.is_object() {
        return Err(Unreadable);
    }
    let kind = text(&body["event"]).unwrap_or_else(|| "unknown".into());
    let at = body["created_at"].as_i64().unwrap_or(now);
    let payload = &body["payload"];
    let subscription_id = text(&payload["subscription"]["entity"]["id"]);
    let effect = if let (true, Some(id)) = (kind.starts_with("subscription."), subscription_id) {
        let s = &payload["subscription"]["entity"];
        let payment = &payload["payment"]["entity"];
        let charge = (kind == "subscription.charged"
            && payment["status"].as_str() == Some("captured"))
        .then(|| {
            Some(Charge {
                id: text(&payment["id"])?,
                amount: amount(&payment["amount"])?,
                currency: text(&payment["currency"]).unwrap_or_else(|| "INR".into()),
                at: payment["created_at"].as_i64().unwrap_or(at),
                period_start: s["current_start"].as_i64(),
                period_end: s["current_end"].as_i64(),
            })
        })
        .flatten();
        Effect::Subscription(Box::new(News {
            subscription_id: Some(id),
            checkout_id: None,
            user_hint: text(&s["notes"]["user_id"]),
            plan_ref: text(&s["plan_id"]),
            at,
            status: text(&s["status"]),
            period_end: s["current_end"].as_i64(),
            next_charge_at: s["charge_at"].as_i64(),
            cancel_at_period_end: None,
            customer_id: text(&s["customer_id"]),
            failed_charge: kind == "subscription.pending",
            charge,
        }))
    } else if kind == "refund.processed" {
        // Only money that went back counts (`refund.created` and
        // `refund.failed` are the same refund on its way); the payment's own
        // total refunded makes a repeat harmless.
        let r = &payload["refund"]["entity"];
        let p = &payload["payment"]["entity"];
        let total = amount(&p["amount_refunded"]);
        let full = match (amount(&p["amount"]), total) {
            (Some(paid), Some(refunded)) => Some(refunded >= paid),
            _ => None,
        };
        Effect::Refund(Refund {
            payment_id: text(&r["payment_id"]),
            payment_intent: None,
            customer_id: None,
            amount: total.or_else(|| amount(&r["amount"])).unwrap_or(0),
            full,
            cumulative: total.is_some(),
        })
    } else if kind.starts_with("payment.dispute.") {
        let d = &payload["dispute"]["entity"];
        Effect::Dispute(Dispute {
            payment_id: text(&d["payment_id"]),
            payment_intent: None,
            amount: amount(&d["amount"]).unwrap_or(0),
        })
    } else {
        Effect::Ignored
    };
    Ok(Delivery {
        provider: Provider::Razorpay,
        event_id: event_id.to_string(),
        kind,
        effect,
    })
}

/// A Stripe event body (snapshot events; the id is the body's, or
/// `fallback_id` when it has none).
pub fn stripe(body: &Value, fallback_id: &str, now: i64) -> Result<Delivery, Unreadable> {
    if !body.is_object() {
        return Err(Unreadable);
    }
    let event_id = text(&body["id"]).unwrap_or_else(|| fallback_id.to_string());
    let kind = text(&body["type"]).unwrap_or_else(|| "unknown".into());
    let at = body["created"].as_i64().unwrap_or(now);
    let o = &body["data"]["object"];
    let effect = match kind.as_str() {
        "checkout.session.completed" => Effect::Subscription(Box::new(News {
            subscription_id: text(&o["subscription"]),
            checkout_id: text(&o["id"]),
            user_hint: text(&o["client_reference_id"]).or_else(|| text(&o["metadata"]["user_id"])),
            at,
            status: (o["payment_status"].as_str() == Some("paid")).then(|| "active".to_string()),
            customer_id: text(&o["customer"]),
            ..News::default()
        })),
        k if k.starts_with("customer.subscription.") => Effect::Subscription(Box::new(News {
            subscription_id: text(&o["id"]),
            user_hint: text(&o["metadata"]["user_id"]),
            plan_ref: text(&o["items"]["data"][0]["price"]["id"]),
            at,
            status: text(&o["status"]),
            period_end: period_end_of(o),
            cancel_at_period_end: o["cancel_at_period_end"].as_bool(),
            customer_id: text(&o["customer"]),
            failed_charge: o["status"].as_str() == Some("past_due"),
            ..News::default()
        })),
        "invoice.paid" | "invoice.payment_failed" => {
            let details = &o["parent"]["subscription_details"];
            let subscription = text(&details["subscription"]).or_else(|| text(&o["subscription"]));
            let lines = o["lines"]["data"].as_array().cloned().unwrap_or_default();
            let period_start = lines
                .iter()
                .filter_map(|l| l["period"]["start"].as_i64())
                .min();
            let period_end = lines
                .iter()
                .filter_map(|l| l["period"]["end"].as_i64())
                .max();
            let paid = kind == "invoice.paid";
            // A subscription's first invoice failing leaves it `incomplete`
            // (as Stripe itself says): never paid, so no grace. Only a
            // renewal that fails is dunning, with Pro for the grace.
            let first = o["billing_reason"].as_str() == Some("subscription_create");
            let unpaid = if first { "incomplete" } else { "past_due" };
            let charge = paid
                .then(|| {
                    Some(Charge {
                        id: text(&o["id"])?,
                        amount: amount(&o["amount_paid"])?,
                        currency: text(&o["currency"])
                            .map_or_else(|| "INR".into(), |c| c.to_uppercase()),
                        at: o["status_transitions"]["paid_at"].as_i64().unwrap_or(at),
                        period_start,
                        period_end,
                    })
                })
                .flatten()
                .filter(|c| c.amount > 0);
            Effect::Subscription(Box::new(
                News {
                    subscription_id: subscription,
                    user_hint: text(&details["metadata"]["user_id"]),
                    plan_ref:
                        text(
                            &lines.first().cloned().unwrap_or_default()["pricing"]["price_details"]
                                ["price"],
                        )
                        .or_else(|| {
                            text(&lines.first().cloned().unwrap_or_default()["price"]["id"])
                        }),
                    at,
                    status: Some(if paid { "active" } else { unpaid }.to_string()),
                    period_end: if paid { period_end } else { None },
                    customer_id: text(&o["customer"]),
                    failed_charge: !paid && !first,
                    charge,
                    ..News::default()
                },
            ))
        }
        "charge.refunded" => Effect::Refund(Refund {
            payment_id: text(&o["invoice"]),
            payment_intent: text(&o["payment_intent"]),
            customer_id: text(&o["customer"]),
            amount: amount(&o["amount_refunded"]).unwrap_or(0),
            full: o["refunded"].as_bool(),
            cumulative: true,
        }),
        k if k.starts_with("charge.dispute.") => Effect::Dispute(Dispute {
            // A dispute names its charge and PaymentIntent; the invoice is
            // found through the PaymentIntent.
            payment_id: None,
            payment_intent: text(&o["payment_intent"]),
            amount: amount(&o["amount"]).unwrap_or(0),
        }),
        _ => Effect::Ignored,
    };
    Ok(Delivery {
        provider: Provider::Stripe,
        event_id,
        kind,
        effect,
    })
}
