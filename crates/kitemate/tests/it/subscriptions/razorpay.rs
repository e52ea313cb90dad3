//! A Razorpay subscription from checkout to its end: the callback's hint,
//! webhooks out of order and twice, a failed renewal and its recovery,
//! cancellation at the cycle's end and the drop to Free after it; the
//! tier, the chat allowance and the invoices checked at each step.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::json;

use super::{
    app_with, invoices, me, me_until, razorpay_ok, razorpay_paid, tier_becomes, tier_seen,
};
use crate::support::fake_payments::{
    RZP_KEY_ID, RZP_KEY_SECRET, razorpay_event, razorpay_signature, start_razorpay,
};
use crate::support::{Kind, TestResult};

const DAY: i64 = 86_400;

async fn a_razorpay_subscription_from_checkout_to_its_end(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let asha_id = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let ravi = app.signup("ravi").await?;

    let m = me(&app, &asha).await?;
    assert_eq!(
        (m["tier"].as_str(), m["plan"].as_str()),
        (Some("free"), Some("free"))
    );
    assert_eq!(m["questionsLeft"], 50);
    assert_eq!(tier_seen(&app, &asha).await?, ("free".into(), json!(50)));

    // Checkout: a subscription made for her, what Checkout needs back.
    let body = json!({ "plan": "pro_monthly", "provider": "razorpay" });
    let checkout = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(body.clone()),
            Some(&asha),
        )
        .await?;
    assert_eq!(checkout.status, 200, "{checkout:?}");
    let sub = checkout.json()["subscriptionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(checkout.json()["keyId"], RZP_KEY_ID);
    assert!(
        checkout.json()["checkoutUrl"]
            .as_str()
            .is_some_and(|u| u.contains(&sub))
    );
    assert_eq!(fake.subscription(&sub)["notes"]["user_id"], asha_id);
    // Another click reuses it; Stripe is off here.
    let again = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(body),
            Some(&asha),
        )
        .await?;
    assert_eq!(again.json()["subscriptionId"], sub.as_str());
    assert_eq!(
        fake.calls()
            .iter()
            .filter(|c| *c == "POST /subscriptions")
            .count(),
        1
    );
    let stripe = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "pro_monthly", "provider": "stripe" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(
        (stripe.status.as_u16(), stripe.code()),
        (503, "unavailable".into())
    );

    // The Checkout callback: signed with the key secret over her payment and
    // her own subscription, else refused.
    let verify = |payment: &str, subscription: &str, signature: String| json!({ "razorpayPaymentId": payment, "razorpaySubscriptionId": subscription, "razorpaySignature": signature });
    let good = razorpay_signature(RZP_KEY_SECRET, &format!("pay_First|{sub}"));
    let forged = app
        .call(
            Method::POST,
            "/subscriptions/razorpay/verify",
            Some(verify("pay_Other", &sub, good.clone())),
            Some(&asha),
        )
        .await?;
    assert_eq!(forged.status, 400);
    assert_eq!(forged.json()["details"]["field"], "razorpaySignature");
    let not_his = app
        .call(
            Method::POST,
            "/subscriptions/razorpay/verify",
            Some(verify("pay_First", &sub, good.clone())),
            Some(&ravi),
        )
        .await?;
    assert_eq!(not_his.status, 404);
    let hinted = app
        .call(
            Method::POST,
            "/subscriptions/razorpay/verify",
            Some(verify("pay_First", &sub, good)),
            Some(&asha),
        )
        .await?;
    assert_eq!(hinted.status, 200, "{hinted:?}");
    assert_eq!(hinted.json()["tier"], "pro");
    tier_becomes(&app, &asha, "pro").await?;

    // The webhooks: charged before activated, each twice, authenticated last.
    let t0 = app.clock.now().timestamp();
    let end1 = t0 + 30 * DAY;
    fake.change(&sub, |s| {
        s["status"] = json!("active");
        s["customer_id"] = json!("cust_Asha");
        s["current_start"] = json!(t0);
        s["current_end"] = json!(end1);
        s["charge_at"] = json!(end1);
    });
    let active = fake.subscription(&sub);
    let mut authorised = active.clone();
    authorised["status"] = json!("authenticated");
    let charged = razorpay_event(
        "subscription.charged",
        &active,
        Some(("pay_First", 29_900)),
        t0 + 2,
    );
    assert_eq!(
        razorpay_ok(&app, &charged, "evt_charged_1").await?["duplicate"],
        false
    );
    assert_eq!(
        razorpay_ok(&app, &charged, "evt_charged_1").await?["duplicate"],
        true
    );
    let activated = razorpay_event("subscription.activated", &active, None, t0 + 1);
    razorpay_ok(&app, &activated, "evt_activated_1").await?;
    razorpay_ok(&app, &activated, "evt_activated_1").await?;
    let authenticated = razorpay_event("subscription.authenticated", &authorised, None, t0);
    razorpay_ok(&app, &authenticated, "evt_authenticated_1").await?;
    let m = me_until(&app, &asha, |m| {
        m["status"] == "active" && m["currentPeriodEnd"].is_string()
    })
    .await?;
    assert_eq!(
        (m["tier"].as_str(), m["plan"].as_str()),
        (Some("pro"), Some("pro_monthly"))
    );
    assert_eq!(m["nextChargePaise"], 29_900);
    assert_eq!(m["provider"], "razorpay");
    assert!(m.get("questionsLeft").is_none(), "unlimited on Pro: {m}");
    tier_becomes(&app, &asha, "pro").await?;
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 1) })
        .await?;
    let first = invoices(&app, &asha).await?.remove(0);
    assert!(
        first["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("KM/") && n.ends_with("/000001")),
        "{first}"
    );
    assert_eq!(
        (
            &first["totalPaise"],
            &first["taxablePaise"],
            &first["cgstPaise"],
            &first["sgstPaise"],
            &first["igstPaise"]
        ),
        (
            &json!(29_900),
            &json!(25_338),
            &json!(2_281),
            &json!(2_281),
            &json!(0)
        )
    );

    // A month on, the renewal fails: Pro through the grace, then it recovers.
    app.clock.advance(TimeDelta::days(30));
    let t1 = app.clock.now().timestamp();
    fake.change(&sub, |s| s["status"] = json!("pending"));
    let pending = razorpay_event("subscription.pending", &fake.subscription(&sub), None, t1);
    razorpay_ok(&app, &pending, "evt_pending_1").await?;
    let m = me_until(&app, &asha, |m| m["status"] == "pending").await?;
    assert!(m["graceUntil"].is_string(), "{m}");
    assert_eq!(m["tier"], "pro");
    // An old delivery again changes nothing.
    assert_eq!(
        razorpay_ok(&app, &charged, "evt_charged_1").await?["duplicate"],
        true
    );
    let end2 = end1 + 30 * DAY;
    fake.change(&sub, |s| {
        s["status"] = json!("active");
        s["current_start"] = json!(end1);
        s["current_end"] = json!(end2);
        s["charge_at"] = json!(end2);
    });
    let renewed = razorpay_event(
        "subscription.charged",
        &fake.subscription(&sub),
        Some(("pay_Second", 29_900)),
        t1 + 3600,
    );
    razorpay_ok(&app, &renewed, "evt_charged_2").await?;
    let m = me_until(&app, &asha, |m| {
        m["status"] == "active" && m["graceUntil"].is_null()
    })
    .await?;
    assert_eq!(m["tier"], "pro");
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 2) })
        .await?;
    assert!(
        invoices(&app, &asha).await?[0]["number"]
            .as_str()
            .is_some_and(|n| n.ends_with("/000002"))
    );

    // Cancelled at the cycle's end, through Razorpay; Pro until then.
    let cancelled = app
        .call(Method::POST, "/subscriptions/cancel", None, Some(&asha))
        .await?;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.json()["cancelAtPeriodEnd"], true);
    assert!(cancelled.json()["proUntil"].is_string());
    assert!(cancelled.json().get("nextChargeAt").is_none());
    app.call(Method::POST, "/subscriptions/cancel", None, Some(&asha))
        .await?;
    let cancels = fake
        .calls()
        .iter()
        .filter(|c| c.contains("/cancel at_cycle_end=true"))
        .count();
    assert_eq!(cancels, 1, "{:?}", fake.calls());
    let resume = app
        .call(Method::POST, "/subscriptions/resume", None, Some(&asha))
        .await?;
    assert_eq!(
        (resume.status.as_u16(), resume.code()),
        (400, "failed_precondition".into())
    );
    assert!(resume.message().contains("Razorpay"), "{resume:?}");
    let another = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "pro_monthly", "provider": "razorpay" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(another.status, 409);
    fake.change(&sub, |s| s["status"] = json!("cancelled"));
    let ended = razorpay_event(
        "subscription.cancelled",
        &fake.subscription(&sub),
        None,
        end2,
    );
    razorpay_ok(&app, &ended, "evt_cancelled_1").await?;
    me_until(&app, &asha, |m| {
        m["status"] == "cancelled" && m["tier"] == "pro"
    })
    .await?;
    tier_becomes(&app, &asha, "pro").await?;

    // Past the period's end the sweep moves her to Free.
    app.clock.advance(TimeDelta::days(31));
    assert_eq!(
        app.app
            .subscriptions
            .sweep_lapsed()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        1
    );
    tier_becomes(&app, &asha, "free").await?;
    let m = me(&app, &asha).await?;
    assert_eq!(
        (m["plan"].as_str(), m["questionsLeft"].as_i64()),
        (Some("free"), Some(50))
    );
    app.stop().await
}

/// A renewal that never recovers: Pro through the grace, then Free; halted
/// stays Free; paying again brings Pro back.
async fn a_failed_charge_past_its_grace_is_free(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    // `activated` is lost: `charged` alone makes her Pro.
    let sub = razorpay_paid(&app, &fake, &asha, "pay_1").await?;
    tier_becomes(&app, &asha, "pro").await?;
    app.clock.advance(TimeDelta::days(30));
    fake.change(&sub, |s| s["status"] = json!("pending"));
    let failed = razorpay_event(
        "subscription.pending",
        &fake.subscription(&sub),
        None,
        app.clock.now().timestamp(),
    );
    razorpay_ok(&app, &failed, "evt_2").await?;
    me_until(&app, &asha, |m| {
        m["status"] == "pending" && m["tier"] == "pro"
    })
    .await?;
    // Seven days of grace, then Free with no further event.
    app.clock.advance(TimeDelta::days(6));
    app.app
        .subscriptions
        .sweep_lapsed()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tier_becomes(&app, &asha, "pro").await?;
    app.clock.advance(TimeDelta::days(2));
    app.app
        .subscriptions
        .sweep_lapsed()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tier_becomes(&app, &asha, "free").await?;
    fake.change(&sub, |s| s["status"] = json!("halted"));
    let halted = razorpay_event(
        "subscription.halted",
        &fake.subscription(&sub),
        None,
        app.clock.now().timestamp(),
    );
    razorpay_ok(&app, &halted, "evt_3").await?;
    me_until(&app, &asha, |m| {
        m["status"] == "halted" && m["tier"] == "free"
    })
    .await?;
    // A day later she pays: charged brings Pro back.
    app.clock.advance(TimeDelta::days(1));
    let now = app.clock.now().timestamp();
    fake.change(&sub, |s| {
        s["status"] = json!("active");
        s["current_end"] = json!(now + 30 * DAY);
    });
    let back = razorpay_event(
        "subscription.charged",
        &fake.subscription(&sub),
        Some(("pay_2", 29_900)),
        now,
    );
    razorpay_ok(&app, &back, "evt_4").await?;
    tier_becomes(&app, &asha, "pro").await?;
    app.stop().await
}

crate::both_backends!(
    a_razorpay_subscription_from_checkout_to_its_end,
    a_failed_charge_past_its_grace_is_free
);
