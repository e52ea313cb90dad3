//! A Stripe subscription: Checkout Session, events out of order (the
//! basil shapes: item periods, invoice parents), a failed renewal,
//! cancelling and taking it back, the end; and reconciliation repairing
//! what a lost webhook left wrong.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};

use super::{app_with, invoices, me_until, stripe_hook, stripe_ok, tier_becomes};
use crate::support::fake_payments::{
    STRIPE_PRICE_MONTHLY, STRIPE_PRICE_YEARLY, STRIPE_WEBHOOK_SECRET, start_stripe, stripe_event,
    stripe_invoice, stripe_signature, stripe_subscription,
};
use crate::support::{Kind, TestResult};

const DAY: i64 = 86_400;

async fn a_stripe_subscription_from_checkout_to_its_end(kind: Kind) -> TestResult {
    let fake = start_stripe().await?;
    let app = app_with(kind, None, Some(&fake.url)).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let body = json!({ "plan": "pro_monthly", "provider": "stripe" });
    let checkout = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(body),
            Some(&asha),
        )
        .await?;
    assert_eq!(checkout.status, 200, "{checkout:?}");
    let url = checkout.json()["checkoutUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("https://checkout.stripe.test/"), "{url}");
    let sessions = fake.sessions();
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert_eq!(
        (
            &session["mode"],
            &session["client_reference_id"],
            &session["price"],
            &session["customer_email"]
        ),
        (
            &json!("subscription"),
            &json!(user),
            &json!(STRIPE_PRICE_MONTHLY),
            &json!("asha@example.com")
        )
    );
    assert_eq!(
        session["subscription_data"]["metadata"]["user_id"],
        user.as_str()
    );
    let razorpay = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "pro_monthly", "provider": "razorpay" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(razorpay.status, 503);

    // Stripe's events, the invoice first.
    let t0 = app.clock.now().timestamp();
    let sub = stripe_subscription("sub_S1", &user, "cus_A", "active", t0 + 30 * DAY);
    fake.put_subscription("sub_S1", sub.clone());
    let completed = json!({
        "id": session["id"], "object": "checkout.session", "mode": "subscription",
        "client_reference_id": user, "customer": "cus_A", "subscription": "sub_S1",
        "payment_status": "paid", "status": "complete",
    });
    let paid = stripe_invoice("in_1", "sub_S1", &user, "cus_A", 29_900, t0, t0 + 30 * DAY);
    let invoice_paid = stripe_event("evt_in_1", "invoice.paid", &paid, t0 + 2);
    stripe_ok(&app, &invoice_paid).await?;
    stripe_ok(
        &app,
        &stripe_event("evt_cs_1", "checkout.session.completed", &completed, t0 + 1),
    )
    .await?;
    stripe_ok(
        &app,
        &stripe_event("evt_sub_1", "customer.subscription.created", &sub, t0),
    )
    .await?;
    // A retry of the invoice, signed afresh: a duplicate.
    assert_eq!(stripe_ok(&app, &invoice_paid).await?["duplicate"], true);
    let m = me_until(&app, &asha, |m| {
        m["status"] == "active" && m["tier"] == "pro"
    })
    .await?;
    assert_eq!(m["provider"], "stripe");
    tier_becomes(&app, &asha, "pro").await?;
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 1) })
        .await?;
    // One row for the subscription, not one per way of hearing of it.
    let portal = app
        .call(Method::POST, "/subscriptions/portal", None, Some(&asha))
        .await?;
    assert_eq!(portal.status, 200, "{portal:?}");
    assert!(
        portal.json()["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("cus_A"))
    );

    // She moves to the yearly price in Stripe's portal: the plan follows;
    // an older event naming the monthly price, delivered late, does not undo it.
    let mut yearly = sub.clone();
    yearly["items"]["data"][0]["price"]["id"] = json!(STRIPE_PRICE_YEARLY);
    let moved = stripe_event(
        "evt_sub_yearly",
        "customer.subscription.updated",
        &yearly,
        t0 + 5,
    );
    stripe_ok(&app, &moved).await?;
    let late = stripe_event(
        "evt_sub_late",
        "customer.subscription.updated",
        &sub,
        t0 + 3,
    );
    stripe_ok(&app, &late).await?;
    me_until(&app, &asha, |m| m["plan"] == "pro_yearly").await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(me_until(&app, &asha, |_| true).await?["plan"], "pro_yearly");
    let mut monthly = yearly.clone();
    monthly["items"]["data"][0]["price"]["id"] = json!(STRIPE_PRICE_MONTHLY);
    let back = stripe_event(
        "evt_sub_back",
        "customer.subscription.updated",
        &monthly,
        t0 + 6,
    );
    stripe_ok(&app, &back).await?;
    me_until(&app, &asha, |m| m["plan"] == "pro_monthly").await?;

    // The renewal fails, then is paid.
    app.clock.advance(TimeDelta::days(30));
    let t1 = app.clock.now().timestamp();
    let mut past_due = sub.clone();
    past_due["status"] = json!("past_due");
    let failed = json!({ "id": "in_2", "object": "invoice", "customer": "cus_A", "amount_paid": 0,
        "parent": { "subscription_details": { "subscription": "sub_S1" } } });
    stripe_ok(
        &app,
        &stripe_event("evt_in_2_failed", "invoice.payment_failed", &failed, t1),
    )
    .await?;
    stripe_ok(
        &app,
        &stripe_event("evt_sub_2", "customer.subscription.updated", &past_due, t1),
    )
    .await?;
    let m = me_until(&app, &asha, |m| m["status"] == "past_due").await?;
    assert!(m["graceUntil"].is_string());
    assert_eq!(m["tier"], "pro");
    let renewed = stripe_invoice(
        "in_2",
        "sub_S1",
        &user,
        "cus_A",
        29_900,
        t0 + 30 * DAY,
        t0 + 60 * DAY,
    );
    stripe_ok(
        &app,
        &stripe_event("evt_in_2", "invoice.paid", &renewed, t1 + 60),
    )
    .await?;
    me_until(&app, &asha, |m| {
        m["status"] == "active" && m["graceUntil"].is_null()
    })
    .await?;
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 2) })
        .await?;

    // Cancel at the period's end, take it back, cancel again.
    let cancelled = app
        .call(Method::POST, "/subscriptions/cancel", None, Some(&asha))
        .await?;
    assert_eq!(cancelled.json()["cancelAtPeriodEnd"], true, "{cancelled:?}");
    let resumed = app
        .call(Method::POST, "/subscriptions/resume", None, Some(&asha))
        .await?;
    assert_eq!(resumed.status, 200, "{resumed:?}");
    assert_eq!(resumed.json()["cancelAtPeriodEnd"], false);
    app.call(Method::POST, "/subscriptions/cancel", None, Some(&asha))
        .await?;
    let calls = fake.calls();
    let marks: Vec<&String> = calls
        .iter()
        .filter(|c| c.contains("cancel_at_period_end="))
        .collect();
    assert_eq!(marks.len(), 3, "{calls:?}");
    assert!(marks[1].ends_with("=false"));
    // Stripe ends it at the period's end: Free at once.
    let mut deleted = sub.clone();
    deleted["status"] = json!("canceled");
    stripe_ok(
        &app,
        &stripe_event(
            "evt_sub_3",
            "customer.subscription.deleted",
            &deleted,
            t0 + 60 * DAY,
        ),
    )
    .await?;
    me_until(&app, &asha, |m| {
        m["status"] == "canceled" && m["tier"] == "free"
    })
    .await?;
    tier_becomes(&app, &asha, "free").await?;
    // A late `updated` (active) does not bring an ended subscription back.
    stripe_ok(
        &app,
        &stripe_event(
            "evt_sub_late",
            "customer.subscription.updated",
            &sub,
            t1 + 30,
        ),
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(super::me(&app, &asha).await?["tier"], "free");
    app.stop().await
}

/// Every webhook about a change is lost; the daily reconciliation reads the
/// subscription back and fixes it.
async fn reconciliation_repairs_a_missed_webhook(kind: Kind) -> TestResult {
    let fake = start_stripe().await?;
    let app = app_with(kind, None, Some(&fake.url)).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let t0 = app.clock.now().timestamp();
    let sub = stripe_subscription("sub_R1", &user, "cus_R", "active", t0 + 30 * DAY);
    fake.put_subscription("sub_R1", sub.clone());
    stripe_ok(
        &app,
        &stripe_event("evt_r1", "customer.subscription.created", &sub, t0),
    )
    .await?;
    tier_becomes(&app, &asha, "pro").await?;
    // Stripe gives up on the card; its webhooks never arrive.
    fake.change("sub_R1", |s: &mut Value| s["status"] = json!("unpaid"));
    let done = app
        .app
        .subscriptions
        .reconcile()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!((done.checked, done.fixed, done.failed), (1, 1, 0));
    tier_becomes(&app, &asha, "free").await?;
    // Nothing to fix the second time; an outage is counted, not fatal.
    let again = app
        .app
        .subscriptions
        .reconcile()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!((again.checked, again.fixed), (1, 0));
    fake.fail_with(Some(503));
    let down = app
        .app
        .subscriptions
        .reconcile()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!((down.checked, down.failed), (1, 1));
    // A stale or unsigned delivery is refused and changes nothing.
    let body = stripe_event("evt_r2", "customer.subscription.updated", &sub, t0);
    let stale = stripe_signature(STRIPE_WEBHOOK_SECRET, t0 - 301, &body);
    assert_eq!(stripe_hook(&app, &body, &stale).await?.status, 400);
    app.stop().await
}

/// A subscription whose first invoice fails was never paid: it is
/// `incomplete`, with no grace and no Pro (a failed renewal has both).
async fn a_first_invoice_that_fails_gives_no_grace(kind: Kind) -> TestResult {
    let fake = start_stripe().await?;
    let app = app_with(kind, None, Some(&fake.url)).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let now = app.clock.now().timestamp();
    let mut first = stripe_invoice("in_F1", "sub_F", &user, "cus_F", 0, now, now + 30 * 86_400);
    first["status"] = json!("open");
    first["billing_reason"] = json!("subscription_create");
    stripe_ok(
        &app,
        &stripe_event("evt_f1", "invoice.payment_failed", &first, now),
    )
    .await?;
    let m = me_until(&app, &asha, |m| m["status"] == "incomplete").await?;
    assert_eq!(m["tier"], "free", "{m}");
    assert!(m.get("graceUntil").is_none_or(Value::is_null), "{m}");
    tier_becomes(&app, &asha, "free").await?;
    app.stop().await
}

/// From API version `2025-03-31.basil` a charge and a dispute name their
/// PaymentIntent, not the invoice: the invoice is asked of Stripe. A full
/// refund ends Pro and the subscription at Stripe, so it charges no more.
async fn refunds_and_disputes_find_their_invoice_through_the_payment_intent(
    kind: Kind,
) -> TestResult {
    let fake = start_stripe().await?;
    let app = app_with(kind, None, Some(&fake.url)).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let t0 = app.clock.now().timestamp();
    let sub = stripe_subscription("sub_R", &user, "cus_R", "active", t0 + 30 * DAY);
    fake.put_subscription("sub_R", sub.clone());
    let created = stripe_event("evt_r_sub", "customer.subscription.created", &sub, t0);
    stripe_ok(&app, &created).await?;
    let paid = stripe_invoice("in_R1", "sub_R", &user, "cus_R", 29_900, t0, t0 + 30 * DAY);
    stripe_ok(
        &app,
        &stripe_event("evt_r_paid", "invoice.paid", &paid, t0 + 1),
    )
    .await?;
    tier_becomes(&app, &asha, "pro").await?;
    fake.put_invoice_payment("pi_R1", "in_R1");

    let dispute = json!({ "id": "dp_1", "object": "dispute", "charge": "ch_R1",
        "payment_intent": "pi_R1", "amount": 29_900, "status": "needs_response" });
    stripe_ok(
        &app,
        &stripe_event("evt_r_dp", "charge.dispute.created", &dispute, t0 + 2),
    )
    .await?;
    let charge = |refunded: i64, full: bool| {
        json!({ "id": "ch_R1", "object": "charge", "customer": "cus_R", "amount": 29_900,
            "amount_refunded": refunded, "refunded": full, "payment_intent": "pi_R1" })
    };
    let partial = stripe_event(
        "evt_r_part",
        "charge.refunded",
        &charge(10_000, false),
        t0 + 3,
    );
    stripe_ok(&app, &partial).await?;
    crate::support::eventually(30, || async {
        let activity = app.get("/auth/activity", Some(&asha)).await?.json();
        let named: Vec<&Value> = activity["entries"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter(|x| x["detail"]["paymentId"] == "in_R1")
                    .collect()
            })
            .unwrap_or_default();
        Ok(named.len() >= 3)
    })
    .await?;
    let m = me_until(&app, &asha, |m| m["tier"] == "pro").await?;
    assert_eq!(m["status"], "active", "a partial refund leaves Pro: {m}");
    assert!(
        !fake
            .calls()
            .contains(&"DELETE /v1/subscriptions/sub_R".to_string())
    );

    let full = stripe_event(
        "evt_r_full",
        "charge.refunded",
        &charge(29_900, true),
        t0 + 4,
    );
    stripe_ok(&app, &full).await?;
    tier_becomes(&app, &asha, "free").await?;
    assert!(
        fake.calls()
            .contains(&"DELETE /v1/subscriptions/sub_R".to_string()),
        "{:?}",
        fake.calls()
    );
    assert_eq!(fake.subscription("sub_R")["status"], "canceled");
    assert!(
        fake.calls()
            .contains(&"GET /v1/invoice_payments pi_R1".to_string())
    );
    app.stop().await
}

crate::both_backends!(
    refunds_and_disputes_find_their_invoice_through_the_payment_intent,
    a_first_invoice_that_fails_gives_no_grace,
    a_stripe_subscription_from_checkout_to_its_end,
    reconciliation_repairs_a_missed_webhook
);
