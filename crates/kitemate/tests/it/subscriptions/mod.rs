//! Subscriptions against fake Razorpay and Stripe servers: checkout, signed
//! webhooks in any order and more than once, tiers that follow at once,
//! GST invoices.

mod audit;
mod billing;
mod razorpay;
mod stripe;
mod webhooks;

use reqwest::Method;
use serde_json::Value;

use crate::support::fake_payments::{
    FakeProvider, RZP_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, razorpay_event, razorpay_signature,
    stripe_signature,
};
use crate::support::{Kind, Reply, TestApp, use_fake_payments};

/// An app whose Razorpay and Stripe are the fakes (either may be off).
pub async fn app_with(
    kind: Kind,
    razorpay: Option<&str>,
    stripe: Option<&str>,
) -> anyhow::Result<TestApp> {
    let (razorpay, stripe) = (razorpay.map(str::to_string), stripe.map(str::to_string));
    TestApp::spawn_with(kind, move |c| {
        use_fake_payments(c, razorpay.as_deref(), stripe.as_deref()).expect("payment settings");
        // The scenarios move the clock months ahead; sessions outlast them.
        c.auth.session_ttl_hours = 24 * 400;
    })
    .await
}

/// Checks the user out on Pro monthly through the fake Razorpay, which then
/// charges `payment` (₹299) now and says so by webhook: the subscription's id.
pub async fn razorpay_paid(
    app: &TestApp,
    fake: &FakeProvider,
    token: &str,
    payment: &str,
) -> anyhow::Result<String> {
    let body = serde_json::json!({ "plan": "pro_monthly", "provider": "razorpay" });
    let checkout = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(body),
            Some(token),
        )
        .await?;
    anyhow::ensure!(checkout.status == 200, "checkout: {checkout:?}");
    let sub = checkout.json()["subscriptionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let now = app.clock.now().timestamp();
    fake.change(&sub, |s| {
        s["status"] = serde_json::json!("active");
        s["current_start"] = serde_json::json!(now);
        s["current_end"] = serde_json::json!(now + 30 * 86_400);
    });
    let charged = razorpay_event(
        "subscription.charged",
        &fake.subscription(&sub),
        Some((payment, 29_900)),
        now,
    );
    razorpay_ok(app, &charged, &format!("evt_{payment}")).await?;
    Ok(sub)
}

/// Posts a Razorpay webhook signed with `secret`.
pub async fn razorpay_hook(
    app: &TestApp,
    body: &str,
    event_id: &str,
    secret: &str,
) -> anyhow::Result<Reply> {
    let res = app
        .client
        .post(app.url("/webhooks/razorpay"))
        .header("content-type", "application/json")
        .header("x-razorpay-signature", razorpay_signature(secret, body))
        .header("x-razorpay-event-id", event_id)
        .body(body.to_string())
        .send()
        .await?;
    TestApp::read(res).await
}

/// Posts a Razorpay webhook signed with the test webhook secret; it must be taken.
pub async fn razorpay_ok(app: &TestApp, body: &str, event_id: &str) -> anyhow::Result<Value> {
    let reply = razorpay_hook(app, body, event_id, RZP_WEBHOOK_SECRET).await?;
    anyhow::ensure!(reply.status == 200, "webhook refused: {reply:?}");
    Ok(reply.json())
}

/// Posts a Stripe webhook signed at the app's now.
pub async fn stripe_hook(app: &TestApp, body: &str, header: &str) -> anyhow::Result<Reply> {
    let res = app
        .client
        .post(app.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", header)
        .body(body.to_string())
        .send()
        .await?;
    TestApp::read(res).await
}

pub async fn stripe_ok(app: &TestApp, body: &str) -> anyhow::Result<Value> {
    let t = app.clock.now().timestamp();
    let reply = stripe_hook(app, body, &stripe_signature(STRIPE_WEBHOOK_SECRET, t, body)).await?;
    anyhow::ensure!(reply.status == 200, "webhook refused: {reply:?}");
    Ok(reply.json())
}

/// `GET /subscriptions/me`.
pub async fn me(app: &TestApp, token: &str) -> anyhow::Result<Value> {
    let reply = app.get("/subscriptions/me", Some(token)).await?;
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    Ok(reply.json())
}

/// Waits until `GET /subscriptions/me` satisfies `check`; answers it.
pub async fn me_until(
    app: &TestApp,
    token: &str,
    check: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let mut last = Value::Null;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        last = me(app, token).await?;
        if check(&last) {
            return Ok(last);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("subscription never became what was expected; last: {last}")
}

/// The tier `GET /auth/me` and the chat allowance show for `token`.
pub async fn tier_seen(app: &TestApp, token: &str) -> anyhow::Result<(String, Value)> {
    let me = app.get("/auth/me", Some(token)).await?;
    anyhow::ensure!(me.status == 200, "{me:?}");
    let usage = app
        .call(Method::GET, "/chat/usage", None, Some(token))
        .await?;
    anyhow::ensure!(usage.status == 200, "{usage:?}");
    Ok((
        me.json()["tier"].as_str().unwrap_or_default().to_string(),
        usage.json()["limit"].clone(),
    ))
}

/// Waits until auth (and so every request) carries `tier`.
pub async fn tier_becomes(app: &TestApp, token: &str, tier: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (seen, limit) = tier_seen(app, token).await?;
        if seen == tier && (limit.is_null() == (tier == "pro")) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let sub = me(app, token).await?;
            anyhow::bail!(
                "tier never became {tier}: auth says {seen}, chat limit {limit}, subscription {sub}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The caller's invoices, first page.
pub async fn invoices(app: &TestApp, token: &str) -> anyhow::Result<Vec<Value>> {
    let reply = app.get("/subscriptions/invoices", Some(token)).await?;
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    Ok(reply.json()["invoices"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}
