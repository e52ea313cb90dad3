//! The audit log: payments, tier changes, sessions, support and
//! administrators' actions, each once, with the request it came from; users
//! read their own, administrators all of it; no secret anywhere.

use reqwest::Method;
use serde_json::{Value, json};

use super::{app_with, razorpay_ok, tier_becomes};
use crate::support::fake_payments::{
    RZP_KEY_SECRET, RZP_WEBHOOK_SECRET, razorpay_event, start_razorpay,
};
use crate::support::{Kind, TestApp, TestResult};

async fn entries(app: &TestApp, path: &str, token: &str) -> anyhow::Result<Vec<Value>> {
    let reply = app.get(path, Some(token)).await?;
    anyhow::ensure!(reply.status == 200, "{path}: {reply:?}");
    Ok(reply.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn actions(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

async fn sensitive_actions_are_recorded_once(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let root = app.admin("root").await?;
    let asha_id = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Checkout, from a request whose id the entry keeps.
    let checkout = app
        .client
        .post(app.url("/subscriptions/checkout"))
        .bearer_auth(&asha)
        .header("x-request-id", "req-checkout-1")
        .json(&json!({ "plan": "pro_monthly", "provider": "razorpay" }))
        .send()
        .await?;
    let checkout = TestApp::read(checkout).await?;
    assert_eq!(checkout.status, 200, "{checkout:?}");
    let sub = checkout.json()["subscriptionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let now = app.clock.now().timestamp();
    fake.change(&sub, |s| {
        s["status"] = json!("active");
        s["current_end"] = json!(now + 30 * 86_400);
    });
    let charged = razorpay_event(
        "subscription.charged",
        &fake.subscription(&sub),
        Some(("pay_A1", 29_900)),
        now,
    );
    razorpay_ok(&app, &charged, "evt_a1").await?;
    razorpay_ok(&app, &charged, "evt_a1").await?;
    tier_becomes(&app, &asha, "pro").await?;

    // A second session of hers, revoked.
    let login = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": "river otter lantern" }),
        )
        .await?;
    let other = app.get("/auth/sessions", Some(&asha)).await?.json()["sessions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert_eq!(login.status, 200);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{other}"),
            None,
            Some(&asha),
        )
        .await?;
    assert_eq!(revoked.status, 204);

    // Her own activity: each action once, newest first.
    crate::support::eventually(30, || async {
        let list = entries(&app, "/auth/activity", &asha).await?;
        Ok(actions(&list).contains(&"payment.charged".to_string()))
    })
    .await?;
    let mine = entries(&app, "/auth/activity", &asha).await?;
    let names = actions(&mine);
    for expected in [
        "checkout.started",
        "payment.charged",
        "tier.changed",
        "session.revoked",
    ] {
        assert_eq!(
            names.iter().filter(|a| *a == expected).count(),
            1,
            "{expected} in {names:?}"
        );
    }
    let started = mine
        .iter()
        .find(|e| e["action"] == "checkout.started")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (started["requestId"].as_str(), started["actor"].as_str()),
        (Some("req-checkout-1"), Some("user"))
    );
    assert_eq!(started["ip"], "127.0.0.1");
    let paid = mine
        .iter()
        .find(|e| e["action"] == "payment.charged")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            paid["actor"].as_str(),
            paid["detail"]["amountPaise"].as_i64()
        ),
        (Some("razorpay"), Some(29_900))
    );
    assert!(
        paid["detail"]["invoice"]
            .as_str()
            .is_some_and(|n| n.starts_with("KM/"))
    );
    let changed = mine
        .iter()
        .find(|e| e["action"] == "tier.changed")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            changed["detail"]["from"].as_str(),
            changed["detail"]["to"].as_str()
        ),
        (Some("free"), Some("pro"))
    );
    let text = serde_json::to_string(&mine)?;
    for secret in [RZP_KEY_SECRET, RZP_WEBHOOK_SECRET, asha.as_str()] {
        assert!(!text.contains(secret), "an audit entry holds a secret");
    }
    // Ravi sees none of hers.
    assert!(
        entries(&app, "/auth/activity", &ravi)
            .await?
            .iter()
            .all(|e| e["userId"] != asha_id.as_str())
    );

    // Support's grant and an administrator's action.
    app.app
        .subscriptions
        .grant("ravi@example.com", kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = app
        .call(
            Method::POST,
            "/admin/cron/tidy-sessions/run",
            None,
            Some(&root),
        )
        .await?;
    assert_eq!(run.status, 202);

    // Administrators read it all, narrowed and a page at a time.
    assert_eq!(app.get("/admin/audit", Some(&ravi)).await?.status, 403);
    let hers = entries(&app, &format!("/admin/audit?userId={asha_id}"), &root).await?;
    assert_eq!(actions(&hers), names);
    let tiers = entries(&app, "/admin/audit?action=tier.changed", &root).await?;
    assert_eq!(tiers.len(), 2, "asha's payment and ravi's grant: {tiers:?}");
    assert!(tiers.iter().any(|e| e["actor"] == "support"));
    let payments = entries(&app, "/admin/audit?action=payment.", &root).await?;
    assert_eq!(actions(&payments), ["payment.charged"]);
    let admin = entries(&app, "/admin/audit?action=admin.", &root).await?;
    let job = admin
        .iter()
        .find(|e| e["action"] == "admin.job_run")
        .cloned()
        .unwrap_or_default();
    assert!(
        job["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("admin:")),
        "{job}"
    );
    let first = app.get("/admin/audit?limit=1", Some(&root)).await?.json();
    let next = first["nextCursor"].as_str().unwrap_or_default();
    let second = entries(&app, &format!("/admin/audit?limit=1&cursor={next}"), &root).await?;
    assert_ne!(first["entries"][0]["id"], second[0]["id"]);
    let bad = app.get("/admin/audit?limit=1000", Some(&root)).await?;
    assert_eq!(bad.status, 400);
    app.stop().await
}

crate::both_backends!(sensitive_actions_are_recorded_once);
