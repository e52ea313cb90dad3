//! Syncing from Kite (the fake server): what is stored and shown, one
//! snapshot per IST day, expired sessions, Kite being down, the per-user limit.
//!
//! Expected values from the fixtures (`crates/kite/fixtures`), worked out by
//! hand: holdings AARON 1 @ last 352.95 (close 352.35, average 161) and SBIN
//! 16 @ 762.45 (close 766.40, average 801.78125); three funds. Equity value
//! 352.95 + 16 × 762.45 = ₹12,552.15; today's change 0.60 − 16 × 3.95 = −₹62.60.
//! With the funds the sync's total value is ₹73,782.97 and invested ₹75,486.64.

use kite::fake::FakeKite;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Kind, TestApp, TestResult, use_fake_kite};

const KEY: &str = "kitemate_key";
const SECRET: &str = "kitemate_secret";

async fn connected(kind: Kind) -> anyhow::Result<(TestApp, FakeKite, String)> {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let url = fake.url();
    let app = TestApp::spawn_with(kind, |c| {
        use_fake_kite(c, &url, KEY, SECRET).expect("kite settings")
    })
    .await?;
    let asha = app.signup("asha").await?;
    let state = app.get("/auth/zerodha/initiate", Some(&asha)).await?.json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let linked = app
        .call(
            Method::POST,
            "/auth/zerodha/callback",
            Some(json!({ "requestToken": fake.request_token(), "state": state })),
            Some(&asha),
        )
        .await?;
    anyhow::ensure!(linked.status == StatusCode::OK, "{linked:?}");
    Ok((app, fake, asha))
}

async fn a_sync_stores_the_portfolio_and_one_snapshot_a_day(kind: Kind) -> TestResult {
    let (app, _fake, asha) = connected(kind).await?;
    let sync = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(sync.status, StatusCode::OK, "{sync:?}");
    let report = sync.json();
    assert_eq!(
        (
            report["holdings"].as_i64(),
            report["positions"].as_i64(),
            report["mutualFunds"].as_i64()
        ),
        (Some(2), Some(3), Some(3))
    );
    assert_eq!(
        (
            report["valuePaise"].as_i64(),
            report["investedPaise"].as_i64()
        ),
        (Some(7_378_297), Some(7_548_664))
    );

    let holdings = app
        .get("/holdings?sort=symbol&limit=10", Some(&asha))
        .await?
        .json();
    assert_eq!(holdings["total"], 5, "two shares and three funds");
    assert_eq!(holdings["holdings"][0]["symbol"], "AARON");
    assert_eq!(holdings["holdings"][0]["valuePaise"], 35_295);
    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    assert_eq!(summary["dayChangePaise"], -6_260);
    assert_eq!(summary["valuePaise"], 7_378_297);
    let classes = app
        .get("/portfolio/allocation?by=asset_class", Some(&asha))
        .await?
        .json();
    let names: Vec<&str> = classes["slices"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["mutual_fund", "equity"]);
    let positions = app.get("/portfolio/positions", Some(&asha)).await?.json();
    assert_eq!(positions["positions"].as_array().map(Vec::len), Some(3));

    // A second sync the same day replaces that day's snapshot.
    assert_eq!(
        app.call(Method::POST, "/portfolio/sync", None, Some(&asha))
            .await?
            .status,
        StatusCode::OK
    );
    let history = app.get("/portfolio/history", Some(&asha)).await?.json();
    assert_eq!(history["days"].as_array().map(Vec::len), Some(1));
    assert_eq!(history["days"][0]["valuePaise"], 7_378_297);

    // Nobody else sees any of it.
    let ravi = app.signup("ravi").await?;
    assert_eq!(app.get("/holdings", Some(&ravi)).await?.json()["total"], 0);
    assert_eq!(
        app.get("/portfolio/positions", Some(&ravi)).await?.json()["positions"],
        json!([])
    );
    assert_eq!(
        app.get("/portfolio/history", Some(&ravi)).await?.json()["days"],
        json!([])
    );
    let not_connected = app
        .call(Method::POST, "/portfolio/sync", None, Some(&ravi))
        .await?;
    assert_eq!(
        (not_connected.status, not_connected.code().as_str()),
        (StatusCode::BAD_REQUEST, "failed_precondition")
    );

    // Three syncs a user may make at once; the fourth waits.
    assert_eq!(
        app.call(Method::POST, "/portfolio/sync", None, Some(&asha))
            .await?
            .status,
        StatusCode::OK
    );
    let limited = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await
}

/// Kite's holdings disagreeing with the imported trades by a clean ratio
/// (SBIN 16 held, 8 bought): the sync's report says which action would
/// explain it, ready to declare.
async fn a_sync_that_disagrees_with_the_trades_suggests_the_action(kind: Kind) -> TestResult {
    let (app, _fake, asha) = connected(kind).await?;
    let trades = ["2023-03-01 buy SBIN INE062A01020 8 700".to_string()];
    let book = crate::tax::cases::tradebook(5, &trades);
    let imported = super::imports::upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        book.into_bytes(),
    )
    .await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");
    assert_eq!(
        imported.json()["suggestedActions"],
        json!([]),
        "nothing stated yet"
    );
    let sync = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(sync.status, StatusCode::OK, "{sync:?}");
    let suggested = &sync.json()["suggestedActions"];
    assert_eq!(suggested.as_array().map(Vec::len), Some(1), "{suggested}");
    let s = &suggested[0];
    assert_eq!(
        (
            s["symbol"].as_str(),
            s["ratioNew"].as_u64(),
            s["ratioOld"].as_u64()
        ),
        (Some("SBIN"), Some(2), Some(1))
    );
    assert_eq!(
        (s["statedQuantity"].as_str(), s["fifoQuantity"].as_str()),
        (Some("16"), Some("8"))
    );
    assert_eq!(s["declare"][0]["kind"], "split");
    assert_eq!(s["declare"][1]["kind"], "bonus");
    assert_eq!(s["declare"][1]["ratioNew"], 1);
    app.stop().await
}

async fn an_expired_session_asks_for_a_new_login(kind: Kind) -> TestResult {
    let (app, fake, asha) = connected(kind).await?;
    fake.advance(chrono::TimeDelta::hours(25));
    let expired = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(
        (expired.status, expired.code().as_str()),
        (StatusCode::CONFLICT, "failed_precondition")
    );
    assert!(
        expired.message().contains("log in with Zerodha again"),
        "{}",
        expired.message()
    );
    assert_eq!(
        app.get("/auth/zerodha", Some(&asha)).await?.json()["status"],
        "reauth_required"
    );
    let before = fake.calls().len();
    let again = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        fake.calls().len(),
        before,
        "Kite is not asked again with a dead token"
    );
    app.stop().await
}

async fn kite_being_down_is_a_503(kind: Kind) -> TestResult {
    let (app, fake, asha) = connected(kind).await?;
    // Four calls, each tried four times.
    fake.fail_next(&[503; 16]);
    let down = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(
        (down.status, down.code().as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
    assert_eq!(
        app.get("/portfolio/history", Some(&asha)).await?.json()["days"],
        json!([]),
        "nothing half-stored"
    );
    app.stop().await
}

crate::both_backends!(
    a_sync_stores_the_portfolio_and_one_snapshot_a_day,
    a_sync_that_disagrees_with_the_trades_suggests_the_action,
    an_expired_session_asks_for_a_new_login,
    kite_being_down_is_a_503,
);
