//! Import benchmark: a generated 1,000,000-row tradebook imported end to end
//! (parse, dedupe, store, then recompute holdings and realized P&L), and the
//! same file again (every row a duplicate).
//!
//! `cargo run --release -p kitemate --example import_bench` (SQLite in a
//! temporary folder), or with `BENCH_DATABASE_URL=postgres://...`. `ROWS`
//! changes the size. `KIND=holdings` times a 100,000-row holdings export
//! instead: imported, then re-imported with every row changed.
//!
//! `KIND=tax` times the tax P&L of the million-trade user instead, with
//! corporate actions and grandfathering values loaded.
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
    if std::env::var("KIND").is_ok_and(|k| k == "tax") {
        tax(&app, &served, rows, label).await?;
        served.server.abort();
        app.close().await;
        app.backend.drop_all().await?;
        return Ok(());
    }
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

/// `KIND=tax`: the million-trade user's capital gains, with corporate
/// actions on a fifth of the securities (50 splits from an NSE `Bc` file,
/// 50 bonuses) and every security's 31 January 2018 high loaded, so the
/// replay applies actions and grandfathers the lots held then.
#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn tax(app: &App, served: &Served, rows: usize, label: &str) -> anyhow::Result<()> {
    let user = served.user_id.as_str();
    app.portfolio
        .import(
            user,
            None,
            Some("bench.csv".into()),
            bytes::Bytes::from(tradebook(rows)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let mut bc = String::from(
        "SERIES,SYMBOL,SECURITY,RECORD_DT,BC_STRT_DT,BC_END_DT,EX_DT,ND_STRT_DT,ND_END_DT,PURPOSE\n",
    );
    for s in 0..50 {
        let _ = writeln!(
            bc,
            "EQ,SYM{s},Sym {s} Ltd,2019-01-15,,,2019-01-15,,,FVSPLT FRM RS 10 TO RS 2"
        );
        let b = s + 50;
        let _ = writeln!(
            bc,
            "EQ,SYM{b},Sym {b} Ltd,2021-06-15,,,2021-06-15,,,BONUS 1:1"
        );
    }
    app.market
        .load_actions("Bc-bench.csv", bc.into_bytes())
        .await?;
    let mut bhav = String::from(
        "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n",
    );
    for s in 0..500 {
        // Above most lots' cost, so that grandfathering raises it.
        let high = 700 + (s * 7) % 3000;
        let _ = writeln!(
            bhav,
            "SYM{s},EQ,{high},{high},{high},{high},{high},{high},10,10,31-JAN-2018,1,INE{s:05}A010,"
        );
    }
    app.market
        .load("cm31JAN2018bhav.csv", bhav.into_bytes())
        .await?;
    println!("## tax P&L of a {rows}-trade user on {label}");
    println!();
    let (cold, body) = served
        .get("/portfolio/tax/capital-gains?fy=2019-20&limit=100")
        .await?;
    let report: serde_json::Value = serde_json::from_slice(&body)?;
    println!(
        "first `GET /portfolio/tax/capital-gains?fy=2019-20` after the import and the loads \
         (every trade replayed with 100 actions and the 2018 values, then the year classified): \
         **{:.2} s**; {} sales that year, {} grandfathered lines on the first page",
        cold.as_secs_f64(),
        report["total"],
        report["lines"].as_array().map_or(0, |l| l
            .iter()
            .filter(|x| x["grandfathered"] == true)
            .count())
    );
    println!();
    served
        .table(&[
            "/portfolio/tax/capital-gains?fy=2019-20&limit=100",
            "/portfolio/tax/capital-gains?fy=2024-25&limit=500",
            "/portfolio/tax/capital-gains.csv?fy=2019-20",
            "/portfolio/tax/capital-gains.csv?fy=2019-20&schedule=cg",
            "/portfolio/tax/harvest",
        ])
        .await
}

/// The app serving HTTP, with a user signed up through it.
struct Served {
    addr: std::net::SocketAddr,
    token: String,
    user_id: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// One GET as the signed-up user, timed end to end: how long, and the body.
    async fn get(&self, path: &str) -> anyhow::Result<(std::time::Duration, bytes::Bytes)> {
        let started = Instant::now();
        let res = reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
        let body = res.bytes().await?;
        Ok((started.elapsed(), body))
    }

    /// Each of `paths` asked 20 times: a table of the median, the slowest
    /// and the answer's size.
    #[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
    async fn table(&self, paths: &[&str]) -> anyhow::Result<()> {
        println!("| request | median | slowest of 20 | answer size |");
        println!("| --- | ---: | ---: | ---: |");
        for path in paths {
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..20 {
                let (took, body) = self.get(path).await?;
                size = body.len();
                times.push(took);
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
    // The first request works the portfolio out (FIFO over every trade);
    // it is kept per version, so it is timed on its own.
    let (first, _) = served.get("/portfolio/summary").await?;
    println!();
    println!(
        "first request after the import (works out FIFO over every trade): {:.2} s",
        first.as_secs_f64()
    );
    println!();
    served
        .table(&[
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
        ])
        .await
}
