//! Webhook deliveries: every signature vector of the official SDKs, our
//! own refusals, rotation, duplicates in parallel, events KiteMate has no
//! use for, a provider that is off; and nothing of a body or a secret in
//! the logs' reach (refusals name only what failed).

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};

use super::{app_with, invoices, razorpay_hook, razorpay_ok, stripe_hook, tier_becomes};
use crate::support::fake_payments::{
    RZP_WEBHOOK_SECRET, razorpay_event, start_razorpay, start_stripe,
};
use crate::support::{Kind, TestApp, TestResult, use_fake_payments};

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../data/payments/vectors.json")).expect("vectors.json")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// An app whose Razorpay webhook secrets are every secret the vectors use.
async fn app_with_secrets(
    kind: Kind,
    razorpay: &[&str],
    stripe: &[&str],
) -> anyhow::Result<(TestApp, String, String)> {
    let (rzp, st) = (start_razorpay().await?, start_stripe().await?);
    let (rzp_secrets, stripe_secrets) = (razorpay.join(","), stripe.join(","));
    let app = TestApp::spawn_with(kind, |c| {
        use_fake_payments(c, Some(&rzp.url), Some(&st.url)).expect("payments");
        let file = c.secrets_file.clone().expect("secrets file");
        let mut text = std::fs::read_to_string(&file).expect("secrets");
        text = text
            .lines()
            .map(|l| match l.split_once('=') {
                Some(("KITEMATE_RAZORPAY_WEBHOOK_SECRETS", _)) => {
                    format!("KITEMATE_RAZORPAY_WEBHOOK_SECRETS={rzp_secrets}")
                }
                Some(("KITEMATE_STRIPE_WEBHOOK_SECRETS", _)) => {
                    format!("KITEMATE_STRIPE_WEBHOOK_SECRETS={stripe_secrets}")
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&file, text).expect("secrets");
    })
    .await?;
    Ok((app, rzp.url, st.url))
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<crate::support::Reply> {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    TestApp::read(req.send().await?).await
}

/// Each official vector, sent to the running app: valid ones are taken
/// (recorded and answered 200, whatever the event), the rest refused 400.
async fn every_signature_vector_is_judged_as_the_sdks_judge_it(kind: Kind) -> TestResult {
    let all = vectors();
    let rzp = all["razorpay"]["webhook_signature"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut secrets: Vec<&str> = rzp.iter().map(|v| text(v, "secret")).collect();
    secrets.dedup();
    let stripe = all["stripe"]["webhook_signature"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stripe_secrets: Vec<&str> = stripe.iter().map(|v| text(v, "secret")).collect();
    let (app, _, _) = app_with_secrets(kind, &secrets, &stripe_secrets).await?;
    for (i, v) in rzp.iter().enumerate() {
        let id = format!("evt_vector_{i}");
        let reply = post_raw(
            &app,
            "/webhooks/razorpay",
            &[
                ("x-razorpay-signature", text(v, "signature")),
                ("x-razorpay-event-id", &id),
            ],
            text(v, "body"),
        )
        .await?;
        let expected = if v["valid"] == true { 200 } else { 400 };
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "vector {}: {reply:?}",
            v["id"]
        );
        if expected == 400 {
            assert_eq!(reply.json()["details"]["field"], "signature");
            assert!(
                !reply.text.contains(text(v, "secret")),
                "a refusal names no secret"
            );
        }
    }
    // Stripe's: judged at the time each was received (the clock is moved
    // there), with the 300 s tolerance the vectors state.
    let mut moved = 0i64;
    for v in stripe.iter().filter(|v| v["tolerance"] == 300) {
        let received = v["received_at"].as_i64().unwrap_or_default();
        let now = app.clock.now().timestamp();
        app.clock.advance(TimeDelta::seconds(received - now));
        moved += received - now;
        let reply = post_raw(
            &app,
            "/webhooks/stripe",
            &[("stripe-signature", text(v, "header"))],
            text(v, "body"),
        )
        .await?;
        let expected = if v["valid"] == true { 200 } else { 400 };
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "vector {}: {reply:?}",
            v["id"]
        );
    }
    app.clock.advance(TimeDelta::seconds(-moved));
    app.stop().await
}

/// Deliveries that are not the provider's are refused and change nothing;
/// rotation keeps old events; a provider that is off answers 503.
async fn only_signed_deliveries_change_anything(kind: Kind) -> TestResult {
    let (app, _, _) =
        app_with_secrets(kind, &["new-secret", RZP_WEBHOOK_SECRET], &["whsec_x"]).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let now = app.clock.now().timestamp();
    let sub = json!({ "id": "sub_W1", "status": "active", "notes": { "user_id": user },
        "current_end": now + 30 * 86_400, "plan_id": "plan_monthly_test" });
    let body = razorpay_event("subscription.charged", &sub, Some(("pay_W1", 29_900)), now);
    // Tampered, re-serialised, CRLF, the wrong secret, the key secret, no header.
    let tampered = body.replace("29900", "29901");
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body)?)?;
    let signature = crate::support::fake_payments::razorpay_signature(RZP_WEBHOOK_SECRET, &body);
    for (what, sent, sig) in [
        ("tampered", tampered.as_str(), signature.as_str()),
        ("re-serialised", pretty.as_str(), signature.as_str()),
        ("crlf", &body.replace(',', ",\r\n"), signature.as_str()),
    ] {
        let reply = post_raw(
            &app,
            "/webhooks/razorpay",
            &[
                ("x-razorpay-signature", sig),
                ("x-razorpay-event-id", "evt_bad"),
            ],
            sent,
        )
        .await?;
        assert_eq!(reply.status, 400, "{what}: {reply:?}");
    }
    let wrong = razorpay_hook(&app, &body, "evt_bad", "not-the-secret").await?;
    assert_eq!(wrong.status, 400);
    let keyed = razorpay_hook(
        &app,
        &body,
        "evt_bad",
        crate::support::fake_payments::RZP_KEY_SECRET,
    )
    .await?;
    assert_eq!(keyed.status, 400, "the key secret does not sign webhooks");
    let unsigned = post_raw(
        &app,
        "/webhooks/razorpay",
        &[("x-razorpay-event-id", "evt_bad")],
        &body,
    )
    .await?;
    assert_eq!(unsigned.status, 400);
    let not_json = razorpay_hook(&app, "not json", "evt_bad", RZP_WEBHOOK_SECRET).await?;
    assert_eq!(not_json.status, 400);
    let stripe_unsigned = stripe_hook(&app, "{}", "t=1,v1=00").await?;
    assert_eq!(stripe_unsigned.status, 400);
    assert!(invoices(&app, &asha).await?.is_empty());
    assert_eq!(super::me(&app, &asha).await?["tier"], "free");

    // Signed with the older secret of the two: still taken.
    razorpay_ok(&app, &body, "evt_good").await?;
    tier_becomes(&app, &asha, "pro").await?;

    // Signed, of no use to KiteMate, or for a customer it does not know: 200.
    let unknown_kind =
        json!({ "entity": "event", "event": "order.paid", "payload": {}, "created_at": now })
            .to_string();
    assert_eq!(
        razorpay_ok(&app, &unknown_kind, "evt_order").await?["received"],
        true
    );
    let stranger = json!({ "id": "sub_X", "status": "active", "notes": { "user_id": "nobody" } });
    razorpay_ok(
        &app,
        &razorpay_event("subscription.activated", &stranger, None, now),
        "evt_stranger",
    )
    .await?;
    crate::support::eventually(30, || async {
        let ledger = app
            .app
            .subscriptions
            .ledger()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(ledger.deliveries == 3 && ledger.handled == 3)
    })
    .await?;
    assert_eq!(invoices(&app, &asha).await?.len(), 1);
    app.stop().await?;

    // A provider whose secrets are missing is off.
    let off = TestApp::spawn(Kind::Sqlite).await?;
    let reply = razorpay_hook(&off, &body, "evt_1", RZP_WEBHOOK_SECRET).await?;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (503, "unavailable".into())
    );
    let stripe = stripe_hook(&off, "{}", "t=1,v1=00").await?;
    assert_eq!(stripe.status, 503);
    let token = off.signup("ravi").await?;
    let checkout = off
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "pro_yearly", "provider": "razorpay" })),
            Some(&token),
        )
        .await?;
    assert_eq!(
        (checkout.status.as_u16(), checkout.code()),
        (503, "unavailable".into())
    );
    off.stop().await
}

/// The same event delivered many times at once: one effect, one invoice.
async fn duplicates_at_once_apply_once(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let now = app.clock.now().timestamp();
    let sub = json!({ "id": "sub_D1", "status": "active", "notes": { "user_id": user },
        "current_start": now, "current_end": now + 30 * 86_400 });
    let body = razorpay_event("subscription.charged", &sub, Some(("pay_D1", 299_900)), now);
    let sends = (0..8).map(|_| razorpay_ok(&app, &body, "evt_same"));
    let replies = futures_util::future::try_join_all(sends).await?;
    let fresh = replies.iter().filter(|r| r["duplicate"] == false).count();
    assert_eq!(fresh, 1, "{replies:?}");
    // Cancelled before charged: the charge still makes its invoice, Pro
    // lasts to the paid period's end.
    let mut cancelled = sub.clone();
    cancelled["status"] = json!("cancelled");
    razorpay_ok(
        &app,
        &razorpay_event("subscription.cancelled", &cancelled, None, now + 20),
        "evt_c",
    )
    .await?;
    let mut second = sub.clone();
    second["current_end"] = json!(now + 60 * 86_400);
    razorpay_ok(
        &app,
        &razorpay_event(
            "subscription.charged",
            &second,
            Some(("pay_D2", 299_900)),
            now + 10,
        ),
        "evt_c2",
    )
    .await?;
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 2) })
        .await?;
    let m = super::me_until(&app, &asha, |m| m["status"] == "cancelled").await?;
    assert_eq!(m["tier"], "pro");
    assert!(m["proUntil"].as_str().is_some(), "{m}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(invoices(&app, &asha).await?.len(), 2);
    app.stop().await
}

/// A refund counts when Razorpay says the money went back
/// (`refund.processed`), by the payment's own total: a repeat changes
/// nothing, and a full one ends Pro.
/// One user, one live subscription: a second that comes alive is cancelled
/// at its provider at once and flagged for a refund; the first stands.
async fn a_second_live_subscription_is_cancelled_and_flagged(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let now = app.clock.now().timestamp();
    let sub = |id: &str| {
        json!({ "id": id, "status": "active", "notes": { "user_id": user },
            "current_start": now, "current_end": now + 30 * 86_400 })
    };
    for (n, id) in ["sub_D1", "sub_D2"].into_iter().enumerate() {
        fake.put_subscription(id, sub(id));
        let at = now + 10 * i64::try_from(n)?;
        let charged = razorpay_event(
            "subscription.charged",
            &sub(id),
            Some((&format!("pay_{id}"), 29_900)),
            at,
        );
        razorpay_ok(&app, &charged, &format!("evt_{id}")).await?;
        tier_becomes(&app, &asha, "pro").await?;
    }
    crate::support::eventually(30, || async {
        Ok(fake
            .calls()
            .contains(&"POST /subscriptions/sub_D2/cancel at_cycle_end=false".to_string()))
    })
    .await?;
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.starts_with("POST /subscriptions/sub_D1/cancel")),
        "the first stands: {:?}",
        fake.calls()
    );
    let m = super::me(&app, &asha).await?;
    assert_eq!(
        (m["tier"].as_str(), m["status"].as_str()),
        (Some("pro"), Some("active")),
        "{m}"
    );
    crate::support::eventually(30, || async {
        let activity = app.get("/auth/activity", Some(&asha)).await?.json();
        Ok(activity["entries"].as_array().is_some_and(|e| {
            e.iter().any(|x| {
                x["action"] == "subscription.duplicate"
                    && x["detail"]["subscriptionId"] == "sub_D2"
                    && x["detail"]["keptSubscriptionId"] == "sub_D1"
                    && x["detail"]["refundDue"] == true
            })
        }))
    })
    .await?;
    app.stop().await
}

async fn a_full_refund_ends_pro(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let now = app.clock.now().timestamp();
    let sub = json!({ "id": "sub_F1", "status": "active", "notes": { "user_id": user },
        "current_start": now, "current_end": now + 30 * 86_400 });
    fake.put_subscription("sub_F1", sub.clone());
    razorpay_ok(
        &app,
        &razorpay_event("subscription.charged", &sub, Some(("pay_F1", 29_900)), now),
        "evt_f1",
    )
    .await?;
    tier_becomes(&app, &asha, "pro").await?;
    let refund = |kind: &str, refunded: i64| {
        json!({ "entity": "event", "event": kind, "created_at": now + 60,
            "contains": ["refund", "payment"],
            "payload": {
                "refund": { "entity": { "id": "rfnd_1", "payment_id": "pay_F1", "amount": 29_900 } },
                "payment": { "entity": { "id": "pay_F1", "amount": 29_900, "amount_refunded": refunded } },
            } })
        .to_string()
    };
    // On its way: nothing yet.
    razorpay_ok(&app, &refund("refund.created", 0), "evt_f2").await?;
    crate::support::eventually(30, || async {
        let ledger = app
            .app
            .subscriptions
            .ledger()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(ledger.handled == 2)
    })
    .await?;
    assert_eq!(super::me(&app, &asha).await?["tier"], "pro");
    // Processed, twice under two ids: Free, once.
    razorpay_ok(&app, &refund("refund.processed", 29_900), "evt_f3").await?;
    razorpay_ok(&app, &refund("refund.processed", 29_900), "evt_f4").await?;
    tier_becomes(&app, &asha, "free").await?;
    let m = super::me(&app, &asha).await?;
    assert_eq!(m["status"], "refunded");
    // Razorpay is told to stop: it would otherwise charge her next month.
    let cancels: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("POST /subscriptions/sub_F1/cancel"))
        .collect();
    assert_eq!(
        cancels,
        ["POST /subscriptions/sub_F1/cancel at_cycle_end=false"]
    );
    assert_eq!(fake.subscription("sub_F1")["status"], "cancelled");
    app.stop().await
}

crate::both_backends!(
    a_full_refund_ends_pro,
    a_second_live_subscription_is_cancelled_and_flagged,
    every_signature_vector_is_judged_as_the_sdks_judge_it,
    only_signed_deliveries_change_anything,
    duplicates_at_once_apply_once
);
