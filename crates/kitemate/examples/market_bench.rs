//! Market data and the daily refresh, timed (issue 15's figures):
//!
//! 1. `load`: one day's full NSE bhavcopy (UDiFF, 3,000 instruments) loaded
//!    by `MarketService::load` (median of 5 days, each a new file).
//! 2. `backfill`: five years of closing prices for 500 instruments fetched
//!    from a local server in NSE's archive layout and loaded, as
//!    `kitemate prices backfill` does (the other feeds answer 404).
//! 3. `snapshots`: the daily refresh's snapshot step for 10,000 users, each
//!    with a small imported tradebook, valued at the day's closes.
//! 4. `pacer`: the refresh's sync step for 1,000 users with live Kite
//!    sessions against the fake Kite with Kite's limits enforced: the share
//!    of the allowed rate (10 calls a second) used, and any 429.
//!
//! `cargo run --release -p kitemate --example market_bench [load|backfill|snapshots|pacer]`
//! (all four when none is named) on SQLite in a temporary folder; `USERS`
//! changes the counts of 3 and 4.

use std::fmt::Write as _;
use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use kitemate::{App, Config};
use platform::clock::Clock;

const HEADER: &str = "TradDt,BizDt,Sgmt,Src,FinInstrmTp,FinInstrmId,ISIN,TckrSymb,SctySrs,XpryDt,FininstrmActlXpryDt,StrkPric,OptnTp,FinInstrmNm,OpnPric,HghPric,LwPric,ClsPric,LastPric,PrvsClsgPric,UndrlygPric,SttlmPric,OpnIntrst,ChngInOpnIntrst,TtlTradgVol,TtlTrfVal,TtlNbOfTxsExctd,SsnId,NewBrdLotQty,Rmks,Rsvd1,Rsvd2,Rsvd3,Rsvd4";

/// The ISIN of generated instrument `i` (shape-valid, not a real one).
fn isin(i: usize) -> String {
    format!("INE{i:06}A0{}", i % 10)
}

/// NSE's bhavcopy of `count` instruments for `day`, in the layout of its
/// date: UDiFF from 8 July 2024, the older one before.
fn nse_file(day: NaiveDate, count: usize) -> (String, Vec<u8>) {
    if day >= kitemate::market::UDIFF_SINCE {
        let name = format!("BhavCopy_NSE_CM_0_0_0_{}_F_0000.csv", day.format("%Y%m%d"));
        return (
            format!("/content/cm/{name}.zip"),
            zip(&name, &bhavcopy(day, count)),
        );
    }
    let stamp = day.format("%d-%b-%Y").to_string().to_uppercase();
    let mut out = String::from(
        "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n",
    );
    for i in 0..count {
        let close = 100 + (i * 37) % 5_000;
        let _ = writeln!(
            out,
            "SYM{i},EQ,{close},{close},{close},{close}.{:02},{close},{close},1000,100000,{stamp},10,{},",
            i % 100,
            isin(i)
        );
    }
    let month = stamp[3..6].to_string();
    let name = format!(
        "cm{:02}{month}{}bhav.csv",
        day.format("%d"),
        day.format("%Y")
    );
    (
        format!(
            "/content/historical/EQUITIES/{}/{month}/{name}.zip",
            day.format("%Y")
        ),
        zip(&name, out.as_bytes()),
    )
}

/// A UDiFF bhavcopy of `count` instruments for `day`.
fn bhavcopy(day: NaiveDate, count: usize) -> Vec<u8> {
    let mut out = String::with_capacity(count * 200);
    out.push_str(HEADER);
    out.push('\n');
    let salt = day.to_string().bytes().map(usize::from).sum::<usize>();
    for i in 0..count {
        let close = 100 + (i * 37 + salt) % 5_000;
        let _ = writeln!(
            out,
            "{day},{day},CM,NSE,STK,{},{},SYM{i},EQ,,,,,GENERATED {i} LTD,{close}.00,{close}.50,{close}.00,{close}.{:02},{close}.00,{close}.00,,{close}.00,,,1000,100000.00,10,F1,1,,,,,",
            10_000 + i,
            isin(i),
            i % 100
        );
    }
    out.into_bytes()
}

async fn app_at(dir: &std::path::Path, change: impl FnOnce(&mut Config)) -> anyhow::Result<App> {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.log.level = "warn".into();
    config.market.fetch = false;
    config.rate_limit.enabled = false;
    change(&mut config);
    App::build(config, Clock::system()).await
}

/// Sets `app`'s clock to 18:30 India time on `day`.
fn evening_of(app: &App, day: NaiveDate) {
    let at = day.and_hms_opt(13, 0, 0).unwrap_or_default().and_utc();
    app.clock.advance(at - app.clock.now());
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn load() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = app_at(dir.path(), |_| {}).await?;
    let first = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default();
    let mut times = Vec::new();
    for d in 0..6 {
        let day = first + TimeDelta::days(d);
        let file = bhavcopy(day, 3_000);
        let started = Instant::now();
        let report = app.market.load("bhavcopy.csv", file).await?;
        let took = started.elapsed().as_secs_f64() * 1e3;
        anyhow::ensure!(report.closes == 3_000, "{report:?}");
        // The first warms the caches and the file.
        if d > 0 {
            times.push(took);
        }
    }
    println!(
        "| one day's NSE bhavcopy, 3,000 instruments | ≤ 100 ms | **{:.1} ms** median of 5 (slowest {:.1} ms) |",
        median(times.clone()),
        times.iter().copied().fold(0.0, f64::max)
    );
    app.close().await;
    Ok(())
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn backfill() -> anyhow::Result<()> {
    let to = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    let from = to.checked_sub_months(chrono::Months::new(60)).unwrap_or(to);
    // NSE's archive, served from memory: one UDiFF file per trading day.
    let calendar = kitemate::market::Calendar::shipped();
    let days = calendar.trading_days(from, to);
    let files: std::collections::HashMap<String, Vec<u8>> =
        days.iter().map(|day| nse_file(*day, 500)).collect();
    let files = std::sync::Arc::new(files);
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let files = std::sync::Arc::clone(&files);
        async move {
            use axum::response::IntoResponse as _;
            match files.get(uri.path()) {
                Some(bytes) => bytes.clone().into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let dir = tempfile::tempdir()?;
    let app = app_at(dir.path(), |c| {
        c.market.fetch = true;
        c.market.nse_url = url.clone();
        c.market.bse_url = url.clone();
        c.market.amfi_url = url.clone();
        c.market.amfi_history_url = url.clone();
    })
    .await?;
    evening_of(&app, to);
    let started = Instant::now();
    let fetched = app.market.fetch_days(from, to, |_, _| {}).await?;
    let took = started.elapsed().as_secs_f64();
    let closes: usize = fetched.loaded.iter().map(|l| l.closes).sum();
    anyhow::ensure!(closes == days.len() * 500, "{closes} closes");
    println!(
        "| back-fill of five years ({} trading days) × 500 instruments, fetched and loaded | ≤ 10 s | **{took:.2} s** ({} closes; {} requests for the other feeds answered 404) |",
        days.len(),
        closes,
        fetched.failed.len()
    );
    app.close().await;
    Ok(())
}

fn zip(name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    let _ = writer.start_file(name, zip::write::SimpleFileOptions::default());
    let _ = writer.write_all(bytes);
    let _ = writer.finish();
    out.into_inner()
}

/// A small tradebook: five of the 3,000 instruments, bought over two years.
fn tradebook(user: usize) -> Vec<u8> {
    let mut out = String::from(
        "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n",
    );
    for k in 0..5 {
        let i = (user * 7 + k * 613) % 3_000;
        for (n, day) in ["2024-05-06", "2025-02-10"].iter().enumerate() {
            let _ = writeln!(
                out,
                "SYM{i},{},{day},NSE,EQ,EQ,buy,false,{}.000000,{}.000000,{}{k}{n},{}{k}{n},{day}T10:00:00",
                isin(i),
                1 + (user + k) % 20,
                100 + (i * 37) % 5_000,
                user,
                user
            );
        }
    }
    out.into_bytes()
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn snapshots(users: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = app_at(dir.path(), |_| {}).await?;
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    evening_of(&app, day);
    app.market
        .load("bhavcopy.csv", bhavcopy(day, 3_000))
        .await?;
    let seeding = Instant::now();
    for user in 0..users {
        let id = format!("user-{user:06}");
        app.portfolio
            .import(
                &id,
                None,
                Some("tradebook.csv".into()),
                bytes::Bytes::from(tradebook(user)),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    }
    let seeded = seeding.elapsed().as_secs_f64();
    // The whole refresh: prices are in, no Kite session is live, so its
    // time is the snapshot step's.
    let refresh = kitemate::jobs::Refresh {
        market: app.market.clone(),
        portfolio: app.portfolio.clone(),
        auth: app.auth.clone(),
        clock: app.clock.clone(),
    };
    let started = Instant::now();
    let outcome = refresh.run(&platform::cron::Progress::detached()).await?;
    let took = started.elapsed().as_secs_f64();
    anyhow::ensure!(outcome.snapshots == users, "{outcome:?}");
    println!(
        "| the daily refresh's snapshot step, {users} users on SQLite | ≤ 30 s | **{took:.2} s** ({:.0} users/s; seeding the imports took {seeded:.0} s) |",
        users as f64 / took
    );
    app.close().await;
    Ok(())
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn pacer(users: usize) -> anyhow::Result<()> {
    const KEY: &str = "bench_key";
    const SECRET: &str = "bench_secret";
    let fake = kite::fake::FakeKite::start(KEY, SECRET).await?;
    let dir = tempfile::tempdir()?;
    let secrets = dir.path().join("secrets.env");
    std::fs::write(&secrets, format!("KITEMATE_KITE_API_SECRET={SECRET}\n"))?;
    let app = app_at(dir.path(), |c| {
        c.secrets_file = Some(secrets.clone());
        c.kite.api_key = KEY.into();
        c.kite.api_root = fake.url();
    })
    .await?;
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    evening_of(&app, day);
    app.market.load("bhavcopy.csv", bhavcopy(day, 100)).await?;
    let router = app.router()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let linking = Instant::now();
    for user in 0..users {
        let token: serde_json::Value = http
            .post(format!("{base}/auth/signup"))
            .json(&serde_json::json!({
                "email": format!("u{user}@example.com"),
                "password": "a long enough password 1",
                "username": format!("user{user:05}"),
            }))
            .send()
            .await?
            .json()
            .await?;
        let token = token["token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("signup of user {user}: {token}"))?
            .to_string();
        let state: serde_json::Value = http
            .get(format!("{base}/auth/zerodha/initiate"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let linked = http
            .post(format!("{base}/auth/zerodha/callback"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "requestToken": fake.request_token_for(&format!("ZB{user:05}")),
                "state": state["state"],
            }))
            .send()
            .await?;
        anyhow::ensure!(
            linked.status().is_success(),
            "linking user {user}: {}",
            linked.text().await?
        );
    }
    let linked = linking.elapsed().as_secs_f64();
    let calls_before = fake.calls().len();
    let refresh = kitemate::jobs::Refresh {
        market: app.market.clone(),
        portfolio: app.portfolio.clone(),
        auth: app.auth.clone(),
        clock: app.clock.clone(),
    };
    let started = Instant::now();
    let outcome = refresh.run(&platform::cron::Progress::detached()).await?;
    let took = started.elapsed().as_secs_f64();
    let calls = fake.calls().len() - calls_before;
    let rate = calls as f64 / took;
    println!(
        "| the refresh's sync step, {users} live Kite sessions (fake Kite, limits on) | ≥ 90 % of 10 calls/s, no 429 | **{:.1} %** ({calls} calls in {took:.1} s = {rate:.2}/s; {} synced, {} failed; linking took {linked:.0} s) |",
        rate / 10.0 * 100.0,
        outcome.synced,
        outcome.sync_failed
    );
    app.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_default();
    let users = |default: usize| {
        std::env::var("USERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let all = which.is_empty();
    if all || which == "load" {
        load().await?;
    }
    if all || which == "backfill" {
        backfill().await?;
    }
    if all || which == "snapshots" {
        snapshots(users(10_000)).await?;
    }
    if all || which == "pacer" {
        pacer(users(1_000)).await?;
    }
    Ok(())
}
