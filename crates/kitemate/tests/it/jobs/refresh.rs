//! `daily-refresh` on a trading day (8 July 2024, 18:00 India time): the
//! day's files loaded, live Kite sessions synced, every user's day
//! recorded with NIFTY 50's close; nothing redone when run again or after a
//! stop part way; holidays skipped; missing prices failing the run before
//! snapshots. And `zerodha-reauth-sweep` the next morning.

use chrono::{DateTime, TimeDelta, Utc};
use kite::fake::FakeKite;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::market::{BSE_UDIFF, INDICES, NAV_ALL, NSE_UDIFF, fixture};
use crate::portfolio::imports::upload;
use crate::support::fake_market::{FakeMarket, use_fake_market, zipped};
use crate::support::{Kind, TestApp, TestResult, eventually, use_fake_kite};

const KEY: &str = "kitemate_key";
const SECRET: &str = "kitemate_secret";

/// 18:00 India time on Monday 8 July 2024.
fn refresh_time() -> DateTime<Utc> {
    "2024-07-08T12:30:00Z".parse().expect("a time")
}

struct World {
    app: TestApp,
    kite: FakeKite,
    market: FakeMarket,
}

/// The app at `at`, with the fake Kite and the fake market serving the
/// files of 8 July 2024 when `serve` says so.
async fn world(kind: Kind, at: DateTime<Utc>, serve: bool) -> anyhow::Result<World> {
    let kite = FakeKite::start(KEY, SECRET).await?;
    let market = FakeMarket::start().await?;
    if serve {
        serve_day(&market);
    }
    let (kite_url, fake) = (kite.url(), market.clone());
    let app = TestApp::spawn_with(kind, |c| {
        use_fake_kite(c, &kite_url, KEY, SECRET).expect("kite settings");
        use_fake_market(c, &fake);
    })
    .await?;
    app.clock.advance(at - app.clock.now());
    Ok(World { app, kite, market })
}

fn serve_day(market: &FakeMarket) {
    market.put(
        "/content/cm/BhavCopy_NSE_CM_0_0_0_20240708_F_0000.csv.zip",
        zipped(NSE_UDIFF, &fixture(NSE_UDIFF)),
    );
    market.put(
        "/download/BhavCopy/Equity/BhavCopy_BSE_CM_0_0_0_20240708_F_0000.CSV",
        fixture(BSE_UDIFF),
    );
    market.put(
        "/content/indices/ind_close_all_08072024.csv",
        fixture(INDICES),
    );
    market.put("/spages/NAVAll.txt", fixture(NAV_ALL));
    market.put(
        "/archives/equities/bhavcopy/pr/PR080724.zip",
        crate::market::fetch::market_archive(),
    );
}

/// A user linked to Zerodha as `client`.
async fn connected(world: &World, name: &str, client: &str) -> anyhow::Result<String> {
    let app = &world.app;
    let token = app.signup(name).await?;
    let state = app
        .get("/auth/zerodha/initiate", Some(&token))
        .await?
        .json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let linked = app
        .call(
            Method::POST,
            "/auth/zerodha/callback",
            Some(json!({ "requestToken": world.kite.request_token_for(client), "state": state })),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(linked.status == StatusCode::OK, "{linked:?}");
    Ok(token)
}

/// A user who imported RELIANCE (10 @ 2,900 in June) and ITC (100 @ 430 on the day).
async fn importer(app: &TestApp, name: &str) -> anyhow::Result<String> {
    let token = app.signup(name).await?;
    let book = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n\
                RELIANCE,INE002A01018,2024-06-03,NSE,EQ,EQ,buy,false,10,2900.00,801,901,2024-06-03T10:00:00\n\
                ITC,INE154A01025,2024-07-08,NSE,EQ,EQ,buy,false,100,430.00,802,902,2024-07-08T10:00:00\n";
    let imported = upload(
        app,
        &token,
        "?kind=tradebook",
        "text/csv",
        book.as_bytes().to_vec(),
    )
    .await?;
    anyhow::ensure!(imported.status == StatusCode::OK, "{imported:?}");
    Ok(token)
}

/// Runs `name` by hand and waits for it; answers its record.
async fn run_job(app: &TestApp, name: &str) -> anyhow::Result<platform::cron::RunInfo> {
    let (run, handle) = app
        .app
        .cron
        .run_now(name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no job {name}"))?;
    handle.await?;
    app.app
        .cron
        .run(&run.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the run vanished"))
}

async fn day_of(app: &TestApp, token: &str, day: &str) -> anyhow::Result<Value> {
    let history = app
        .get(
            &format!("/portfolio/history?from={day}&to={day}"),
            Some(token),
        )
        .await?;
    anyhow::ensure!(history.status == StatusCode::OK, "{history:?}");
    Ok(history.json()["days"][0].clone())
}

fn holdings_calls(kite: &FakeKite) -> usize {
    kite.calls()
        .iter()
        .filter(|c| c.as_str() == "GET /portfolio/holdings")
        .count()
}

async fn the_refresh_loads_prices_syncs_and_records_every_users_day(kind: Kind) -> TestResult {
    let world = world(kind, refresh_time(), true).await?;
    let asha = connected(&world, "asha", "AB0001").await?;
    let bala = importer(&world.app, "bala").await?;
    let app = &world.app;

    let run = run_job(app, "daily-refresh").await?;
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    let progress = run.progress.expect("the run reported its progress");
    assert_eq!(
        (progress.step.as_str(), progress.done, progress.total),
        ("snapshots", 2, 2)
    );
    assert_eq!(
        holdings_calls(&world.kite),
        1,
        "asha's live session was synced"
    );

    // Bala's day at the closes: RELIANCE 10 × 3,201.80, ITC 100 × 440.20;
    // the ITC bought that day is money put in.
    let day = day_of(app, &bala, "2024-07-08").await?;
    assert_eq!(day["source"], "close");
    assert_eq!(day["valuePaise"], 3_201_800 + 4_402_000);
    assert_eq!(day["investedPaise"], 2_900_000 + 4_300_000);
    assert_eq!(day["netFlowPaise"], 4_300_000);
    assert_eq!(day["nifty50"], "24320.55");
    let day = day_of(app, &asha, "2024-07-08").await?;
    assert_eq!(day["source"], "close");
    assert_eq!(day["nifty50"], "24320.55");
    let synced_value = day["valuePaise"].clone();
    assert!(synced_value.as_i64().unwrap_or_default() > 0, "{day}");

    // The admins' view shows the run and how far it came.
    let admin = app.admin("root").await?;
    let jobs = app.get("/admin/cron", Some(&admin)).await?.json();
    let job = jobs["jobs"]
        .as_array()
        .and_then(|all| all.iter().find(|j| j["name"] == "daily-refresh"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(job["lastRun"]["outcome"], "succeeded", "{job}");
    assert_eq!(job["lastRun"]["progress"]["step"], "snapshots");
    assert_eq!(job["schedule"], "cron 0 18 * * 1-5");
    let market = app.get("/admin/market", Some(&admin)).await?.json();
    assert_eq!(market["feeds"][0]["feed"], "nse-equity");
    assert_eq!(market["feeds"][0]["lastDay"], "2024-07-08");

    // Again: nothing is fetched, synced or recorded twice.
    let requests = world.market.requests().len();
    let again = run_job(app, "daily-refresh").await?;
    assert_eq!(again.outcome, "succeeded", "{again:?}");
    assert_eq!(holdings_calls(&world.kite), 1);
    assert_eq!(again.progress.map(|p| p.total), Some(0));
    let fetched_again: Vec<String> = world.market.requests()[requests..]
        .iter()
        .map(|(path, _)| path.clone())
        .filter(|path| {
            path.contains("20240708") || path.contains("08072024") || path.contains("NAVAll")
        })
        .collect();
    assert!(fetched_again.is_empty(), "{fetched_again:?}");
    world.app.stop().await
}

async fn a_refresh_stopped_part_way_does_not_redo_users(kind: Kind) -> TestResult {
    let world = world(kind, refresh_time(), true).await?;
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(connected(&world, &format!("user{i}"), &format!("AB{i:04}")).await?);
    }
    let app = &world.app;
    let refresh = kitemate::jobs::Refresh {
        market: app.app.market.clone(),
        portfolio: app.app.portfolio.clone(),
        auth: app.app.auth.clone(),
        clock: app.clock.clone(),
    };
    let close = kitemate::portfolio::at_close(refresh_time().date_naive());
    // Stopped once two users are synced (Kite's turns allow 2.5 syncs a second).
    let first = refresh.clone();
    let task = tokio::spawn(async move { first.run(&platform::cron::Progress::detached()).await });
    let portfolio = app.app.portfolio.clone();
    eventually(30, || {
        let portfolio = portfolio.clone();
        async move { Ok(portfolio.synced_since(close).await?.len() >= 2) }
    })
    .await?;
    task.abort();
    let _ = task.await;
    let before = synced_at(app).await?;
    assert!(before.len() >= 2 && before.len() < 8, "{before:?}");

    let outcome = refresh.run(&platform::cron::Progress::detached()).await?;
    let after = synced_at(app).await?;
    assert_eq!(after.len(), 8);
    for (user, at) in &before {
        assert_eq!(after.get(user), Some(at), "{user} was synced again");
    }
    assert_eq!(outcome.synced + before.len(), 8);
    assert_eq!(outcome.snapshots, 8);
    for token in &tokens {
        assert_eq!(day_of(app, token, "2024-07-08").await?["source"], "close");
    }
    world.app.stop().await
}

/// When each user last synced, from the portfolio's own table.
async fn synced_at(app: &TestApp) -> anyhow::Result<std::collections::HashMap<String, i64>> {
    let db = app
        .app
        .databases()
        .iter()
        .find(|db| db.name() == "portfolio")
        .cloned()
        .expect("the portfolio database");
    let rows: Vec<(String, i64)> = platform::with_db!(db, |pool| {
        sqlx::query_as("SELECT user_id, synced_at FROM syncs")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().collect())
}

async fn holidays_are_skipped(kind: Kind) -> TestResult {
    // Christmas 2025, a Thursday, at 18:00 India time.
    let world = world(kind, "2025-12-25T12:30:00Z".parse()?, true).await?;
    let bala = importer(&world.app, "bala").await?;
    let run = run_job(&world.app, "daily-refresh").await?;
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    assert!(world.market.requests().is_empty());
    let history = world
        .app
        .get(
            "/portfolio/history?from=2025-12-25&to=2025-12-25",
            Some(&bala),
        )
        .await?
        .json();
    assert_eq!(history["days"], json!([]));
    // Its next run is the next trading day's 18:00 India time.
    let jobs = world.app.app.cron.jobs();
    let job = jobs
        .iter()
        .find(|j| j.name == "daily-refresh")
        .expect("the job");
    assert_eq!(
        job.next_run_local.as_deref(),
        Some("2025-12-26T18:00:00+05:30")
    );
    world.app.stop().await
}

async fn missing_prices_fail_the_run_before_snapshots(kind: Kind) -> TestResult {
    let world = world(kind, refresh_time(), false).await?;
    let asha = connected(&world, "asha", "AB0001").await?;
    let bala = importer(&world.app, "bala").await?;
    let run = run_job(&world.app, "daily-refresh").await?;
    assert_eq!(run.outcome, "failed");
    let error = run.error.unwrap_or_default();
    assert!(error.contains("not all in"), "{error}");
    assert!(
        error.contains("nse-equity for 2024-07-08 is not published"),
        "{error}"
    );
    // The live session was still synced; no day was recorded at the close.
    assert_eq!(holdings_calls(&world.kite), 1);
    assert_ne!(
        day_of(&world.app, &bala, "2024-07-08").await?["source"],
        "close"
    );

    // Published later: the next run records the day without syncing again.
    serve_day(&world.market);
    let run = run_job(&world.app, "daily-refresh").await?;
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    assert_eq!(holdings_calls(&world.kite), 1);
    assert_eq!(
        day_of(&world.app, &bala, "2024-07-08").await?["source"],
        "close"
    );
    assert_eq!(
        day_of(&world.app, &asha, "2024-07-08").await?["source"],
        "close"
    );
    world.app.stop().await
}

async fn the_morning_sweep_asks_lapsed_users_to_log_in_again(kind: Kind) -> TestResult {
    let world = world(kind, refresh_time(), true).await?;
    let asha = connected(&world, "asha", "AB0001").await?;
    let app = &world.app;
    // 06:30 India time the next day: Kite ended the session at 06:00.
    app.clock.advance(TimeDelta::hours(12));
    let run = run_job(app, "zerodha-reauth-sweep").await?;
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    let status = app.get("/auth/zerodha", Some(&asha)).await?.json();
    assert_eq!(status["status"], "reauth_required");
    eventually(10, || async {
        let notices = app.get("/notifications", Some(&asha)).await?.json();
        Ok(notices["notifications"]
            .as_array()
            .is_some_and(|all| all.iter().any(|n| n["kind"] == "zerodha_reauth")))
    })
    .await?;
    // A sync now asks for the login, and a second sweep tells nobody twice.
    let sync = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(sync.status, StatusCode::CONFLICT, "{sync:?}");
    run_job(app, "zerodha-reauth-sweep").await?;
    let notices = app.get("/notifications", Some(&asha)).await?.json();
    let reauth = notices["notifications"].as_array().map_or(0, |all| {
        all.iter().filter(|n| n["kind"] == "zerodha_reauth").count()
    });
    assert_eq!(reauth, 1);
    world.app.stop().await
}

crate::both_backends!(
    the_refresh_loads_prices_syncs_and_records_every_users_day,
    a_refresh_stopped_part_way_does_not_redo_users,
    holidays_are_skipped,
    missing_prices_fail_the_run_before_snapshots,
    the_morning_sweep_asks_lapsed_users_to_log_in_again,
    live_prices_in_market_hours_value_holdings,
);

async fn live_prices_in_market_hours_value_holdings(kind: Kind) -> TestResult {
    // 11:00 India time on the trading day.
    let world = world(kind, "2024-07-08T05:30:00Z".parse()?, true).await?;
    let asha = connected(&world, "asha", "AB0001").await?;
    let app = &world.app;
    let synced = app
        .call(Method::POST, "/portfolio/sync", None, Some(&asha))
        .await?;
    assert_eq!(synced.status, StatusCode::OK, "{synced:?}");
    world.kite.set_price("BSE:SBIN", 800.5);
    app.clock.advance(TimeDelta::minutes(1));
    run_job(app, "live-prices").await?;
    let holdings = app.get("/holdings?sort=symbol", Some(&asha)).await?.json();
    let sbin = holdings["holdings"]
        .as_array()
        .and_then(|all| all.iter().find(|h| h["symbol"] == "SBIN"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(sbin["lastPricePaise"], 80_050, "{sbin}");
    assert_eq!(sbin["priceSource"], "kite");
    let as_of = sbin["priceAsOf"].as_str().unwrap_or_default();
    assert!(
        as_of.starts_with("2024-07-08T05:31:0"),
        "read a minute after the sync: {as_of}"
    );
    let quotes = world
        .kite
        .calls()
        .iter()
        .filter(|c| c.starts_with("GET /quote"))
        .count();
    assert_eq!(quotes, 1, "one call for every instrument");

    // After the close the job reads nothing.
    app.clock.advance(TimeDelta::hours(6));
    run_job(app, "live-prices").await?;
    let after = world
        .kite
        .calls()
        .iter()
        .filter(|c| c.starts_with("GET /quote"))
        .count();
    assert_eq!(after, 1);
    world.app.stop().await
}
