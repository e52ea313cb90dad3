//! Import benchmark: a generated 1,000,000-row tradebook imported end to end
//! (parse, dedupe, store, then recompute holdings and realized P&L), and the
//! same file again (every row a duplicate).
//!
//! `cargo run --release -p kitemate --example import_bench` (SQLite in a
//! temporary folder), or with `BENCH_DATABASE_URL=postgres://...`. `ROWS`
//! changes the size. `KIND=holdings` times a 100,000-row holdings export
//! instead: imported, then re-imported with every row changed.
//!
//! After the import, the app serves HTTP and pages of that user's trades
//! and sales are timed end to end (median of 20 requests each), with the
//! size of the largest answers.

use std::fmt::Write as _;
use std::time::Instant;

use kitemate::{App, Config};
use platform::clock::Clock;

/// A tradebook of `rows` fills over 500 securities and ten years, buys
/// ahead of sells so that no security is ever sold short.
fn tradebook(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 140);
    out.push_str("symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n");
    let start = chrono::NaiveDate::from_ymd_opt(2015, 4, 1).unwrap_or_default();
    for i in 0..rows {
        let security = i % 500;
        let day = start + chrono::TimeDelta::days((i * 3650 / rows) as i64);
        // Two buys of 3, then one sell of 4, per security in turn.
        let (side, quantity) = if (i / 500) % 3 == 2 {
            ("sell", 4)
        } else {
            ("buy", 3)
        };
        let price = 100 + (security * 7 + i / 997) % 3000;
        let _ = writeln!(
            out,
            "SYM{security},INE{security:05}A010,{day},NSE,EQ,EQ,{side},false,{quantity}.000000,{price}.{:02}0000,{},{},{day}T{:02}:{:02}:{:02}",
            i % 20 * 5,
            10_000_000 + i,
            1_200_000_000_000_000u64 + i as u64,
            9 + i % 6,
            i % 60,
            (i / 60) % 60
        );
    }
    out.into_bytes()
}

/// A holdings export of `rows` securities at prices around `price`.
fn holdings(rows: usize, price: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 40);
    out.push_str("Instrument,Qty.,Avg. cost,LTP\n");
    for i in 0..rows {
        let _ = writeln!(
            out,
            "SYM{i},{},{}.25,{}",
            1 + i % 90,
            price + i % 500,
            price + 1 + i % 500
        );
    }
    out.into_bytes()
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let holdings_kind = std::env::var("KIND").is_ok_and(|k| k == "holdings");
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if holdings_kind { 100_000 } else { 1_000_000 });
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.log.level = "warn".into();
    let label = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let server = url
                .rsplit_once('/')
                .map_or(url.as_str(), |(server, _)| server)
                .to_string();
            config.database_url = kitemate::config::DatabaseUrl::new(format!(
                "{server}/kmt_bench_{}",
                uuid::Uuid::now_v7().simple()
            ));
            "PostgreSQL"
        }
        _ => "SQLite",
    };
    let app = App::build(config, Clock::system()).await?;
    let served = Served::start(&app).await?;
    let user = served.user_id.as_str();
    if holdings_kind {
        println!("## import of a {rows}-row holdings export on {label}");
        println!();
        println!("| run | time | imported | unchanged |");
        println!("| --- | ---: | ---: | ---: |");
        for (run, price) in [
            ("first", 100),
            ("re-import, every row changed", 101),
            ("the same again", 101),
        ] {
            let file = bytes::Bytes::from(holdings(rows, price));
            let started = Instant::now();
            let report = app
                .portfolio
                .import(user, None, Some("holdings.csv".into()), file)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let took = started.elapsed();
            anyhow::ensure!(
                report.skipped_count == 0,
                "{} skipped",
                report.skipped_count
            );
            println!(
                "| {run} | **{:.3} s** | {} | {} |",
                took.as_secs_f64(),
                report.imported,
                report.duplicates
            );
        }
        app.close().await;
        app.backend.drop_all().await?;
        return Ok(());
    }
    let file = tradebook(rows);
    println!(
        "## import of a {rows}-row tradebook ({:.0} MB) on {label}",
        file.len() as f64 / 1e6
    );
    println!();
    println!(
        "| run | parse + dedupe + store | recompute (FIFO over every trade) | total | imported | duplicates |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for run in ["first", "again (all duplicates)"] {
        let started = Instant::now();
        let report = app
            .portfolio
            .import(
                user,
                None,
                Some("bench.csv".into()),
                bytes::Bytes::from(file.clone()),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let stored = started.elapsed();
        let securities = app
            .portfolio
            .securities(user)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let total = started.elapsed();
        let held: usize = securities
            .iter()
            .filter(|s| !s.quantity().is_zero())
            .count();
        anyhow::ensure!(
            held > 0 && report.skipped.is_empty(),
            "unexpected result: {held} held, {} skipped",
            report.skipped.len()
        );
        println!(
            "| {run} | {:.2} s | {:.2} s | **{:.2} s** | {} | {} |",
            stored.as_secs_f64(),
            (total - stored).as_secs_f64(),
            total.as_secs_f64(),
            report.imported,
            report.duplicates
        );
    }
    pages(&served).await?;
    served.server.abort();
    app.close().await;
    app.backend.drop_all().await?;
    Ok(())
}

/// The app serving HTTP, with a user signed up through it.
struct Served {
    addr: std::net::SocketAddr,
    token: String,
    user_id: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(app: &App) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = app.router()?;
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        let client = reqwest::Client::new();
        let signed_up: serde_json::Value = client
            .post(format!("http://{addr}/auth/signup"))
            .json(&serde_json::json!({
                "email": "bench@example.com",
                "password": "river otter lantern",
                "username": "bench"
            }))
            .send()
            .await?
            .json()
            .await?;
        let token = signed_up["token"].as_str().unwrap_or_default().to_string();
        let user_id = signed_up["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        anyhow::ensure!(!token.is_empty(), "signup failed: {signed_up}");
        Ok(Self {
            addr,
            token,
            user_id,
            server,
        })
    }
}

/// Times pages of the imported user's trades and sales through HTTP.
#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn pages(served: &Served) -> anyhow::Result<()> {
    let (addr, token) = (served.addr, &served.token);
    let client = reqwest::Client::new();
    // The first request works the portfolio out (FIFO over every trade);
    // it is kept per version, so it is timed on its own.
    let started = Instant::now();
    let first = client
        .get(format!("http://{addr}/portfolio/summary"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(first.status().is_success(), "{}", first.status());
    println!();
    println!(
        "first request after the import (works out FIFO over every trade): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| request | median | slowest of 20 | answer size |");
    println!("| --- | ---: | ---: | ---: |");
    for path in [
        "/portfolio/trades?limit=50",
        "/portfolio/trades?limit=50&offset=500000",
        "/portfolio/trades?limit=50&offset=999950",
        "/portfolio/trades?limit=50&symbol=SYM7&offset=1000",
        "/portfolio/trades?limit=50&from=2019-06-15&to=2019-07-15&offset=100",
        "/portfolio/pnl/realized?limit=50",
        "/portfolio/pnl/realized?limit=50&offset=300000",
        "/portfolio/pnl/realized?limit=50&fy=2020-21&offset=2000",
        "/portfolio/pnl/realized?limit=500&symbol=SYM7",
        "/holdings",
        "/portfolio/summary",
    ] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..20 {
            let started = Instant::now();
            let res = client
                .get(format!("http://{addr}{path}"))
                .bearer_auth(token)
                .send()
                .await?;
            anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
            size = res.bytes().await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "| `GET {path}` | **{:.1} ms** | {:.1} ms | {:.1} kB |",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            size as f64 / 1e3
        );
    }
    Ok(())
}
