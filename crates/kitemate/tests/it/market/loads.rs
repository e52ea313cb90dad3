//! Loading files by hand (`MarketService::load`, `kitemate prices load`):
//! each layout's closes kept, NSE's close winning over BSE's, a file loaded
//! twice changing nothing, a malformed one loading nothing; holdings valued
//! at the newest close and saying so.

use chrono::NaiveDate;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{BSE_UDIFF, INDICES, NAV_ALL, NSE_LEGACY, NSE_UDIFF, fixture};
use crate::portfolio::imports::upload;
use crate::support::{Kind, TestApp, TestResult, kitemate, same_databases};
use kitemate::market::{NIFTY_50, Source};

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn rupees(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

async fn every_layout_loads_and_nse_wins_over_bse(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let market = &app.app.market;
    // BSE first: NSE's close of the same day must still win.
    for name in [BSE_UDIFF, NSE_LEGACY, NSE_UDIFF, INDICES, NAV_ALL] {
        let report = market.load(name, fixture(name)).await?;
        assert!(!report.already_loaded, "{name}");
        assert!(report.closes + report.indices > 0, "{name}: {report:?}");
    }
    let latest = market
        .latest_with_previous(&[
            "INE002A01018",
            "INE154A01025",
            "INF204KB14I2",
            "INF200K01T51",
            "INE000000000",
        ])
        .await?;
    let (reliance, previous) = latest["INE002A01018"];
    assert_eq!(
        (reliance.close, reliance.day, reliance.source),
        (rupees("3201.80"), day("2024-07-08"), Source::Nse)
    );
    // The close before it, from the older NSE layout.
    assert_eq!(previous, Some(rupees("3177.2")));
    assert_eq!(latest["INE154A01025"].0.close, rupees("440.20"));
    // A fund's NAV, four places kept.
    let fund = latest["INF200K01T51"].0;
    assert_eq!(
        (fund.close, fund.source),
        (rupees("457.2146"), Source::Amfi)
    );
    assert!(!latest.contains_key("INE000000000"));

    let nifty = market
        .index(NIFTY_50, day("2024-07-01"), day("2024-07-31"))
        .await?;
    assert_eq!(nifty, vec![(day("2024-07-08"), rupees("24320.55"))]);
    assert_eq!(
        market
            .priced_days(day("2024-07-01"), day("2024-07-31"))
            .await?,
        vec![day("2024-07-05"), day("2024-07-08")]
    );

    // The same file again changes nothing.
    let generation = market.generation().await?;
    let again = market.load(NSE_UDIFF, fixture(NSE_UDIFF)).await?;
    assert!(again.already_loaded);
    assert_eq!(market.generation().await?, generation);
    app.stop().await
}

async fn a_malformed_file_loads_nothing(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let market = &app.app.market;
    let text = String::from_utf8(fixture(NSE_UDIFF))?;
    // The last row's close is damaged: the rows before it must not land either.
    let last = text.lines().last().unwrap_or_default().to_string();
    let mut cells: Vec<&str> = last.split(',').collect();
    cells[17] = "12O.5";
    let damaged = text.replace(&last, &cells.join(","));
    let err = market
        .load("damaged.csv", damaged.into_bytes())
        .await
        .expect_err("a malformed file is refused");
    let message = err.to_string();
    let lines = text.lines().count();
    assert!(message.contains(&format!("line {lines}")), "{message}");
    assert!(message.contains("ClsPric"), "{message}");
    assert!(
        market
            .latest_with_previous(&["INE002A01018"])
            .await?
            .is_empty()
    );
    assert_eq!(market.generation().await?, 0);
    assert!(
        market
            .priced_days(day("2024-07-01"), day("2024-07-31"))
            .await?
            .is_empty()
    );
    app.stop().await
}

/// A Console tradebook of `rows`: (symbol, isin, date, side, quantity, price).
fn tradebook(rows: &[(&str, &str, &str, &str, u32, &str)]) -> Vec<u8> {
    let mut out = String::from(
        "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n",
    );
    for (i, (symbol, isin, date, side, quantity, price)) in rows.iter().enumerate() {
        out.push_str(&format!(
            "{symbol},{isin},{date},NSE,EQ,EQ,{side},false,{quantity},{price},{},{},{date}T10:00:00\n",
            9000 + i,
            7000 + i
        ));
    }
    out.into_bytes()
}

async fn holdings_are_valued_at_the_newest_close_and_say_so(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let book = tradebook(&[
        (
            "RELIANCE",
            "INE002A01018",
            "2024-06-03",
            "buy",
            10,
            "2900.00",
        ),
        ("ITC", "INE154A01025", "2024-06-04", "buy", 100, "430.00"),
        (
            "NIFTYBEES",
            "INF204KB14I2",
            "2024-06-05",
            "buy",
            50,
            "250.00",
        ),
    ]);
    let imported = upload(&app, &asha, "?kind=tradebook", "text/csv", book).await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");

    let before = app.get("/holdings?sort=symbol", Some(&asha)).await?.json();
    let first = &before["holdings"][0];
    assert_eq!(first["symbol"], "ITC");
    assert_eq!(first["priceSource"], "last_trade");
    assert_eq!(first["priceAsOf"], "2024-06-04T10:00:00Z");
    assert_eq!(first["lastPricePaise"], 43_000);

    app.app.market.load(NSE_LEGACY, fixture(NSE_LEGACY)).await?;
    app.app.market.load(NSE_UDIFF, fixture(NSE_UDIFF)).await?;
    let after = app.get("/holdings?sort=symbol", Some(&asha)).await?.json();
    let by_symbol = |symbol: &str| -> Value {
        after["holdings"]
            .as_array()
            .and_then(|all| all.iter().find(|h| h["symbol"] == symbol))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let itc = by_symbol("ITC");
    assert_eq!(itc["lastPricePaise"], 44_020);
    assert_eq!(itc["valuePaise"], 4_402_000);
    assert_eq!(itc["priceSource"], "nse_close");
    // 15:30 India time on the close's day.
    assert_eq!(itc["priceAsOf"], "2024-07-08T10:00:00Z");
    assert_eq!(by_symbol("RELIANCE")["valuePaise"], 3_201_800);
    assert_eq!(by_symbol("NIFTYBEES")["lastPricePaise"], 26_905);

    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    assert_eq!(summary["priceSource"], "nse_close");
    assert_eq!(summary["priceAsOf"], "2024-07-08T10:00:00Z");
    assert_eq!(summary["valuePaise"], 3_201_800 + 4_402_000 + 50 * 26_905);
    // The day's change from the previous close (5 July, older layout):
    // RELIANCE 10 × (3201.80 − 3177.20), ITC 100 × (440.20 − 436.45),
    // NIFTYBEES 50 × (269.05 − 269.12).
    assert_eq!(summary["dayChangePaise"], 24_600 + 37_500 - 350);
    app.stop().await
}

async fn kitemate_prices_load_reports_each_file_and_fails_on_a_bad_one(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let dir = tempfile::tempdir()?;
    let mut paths = Vec::new();
    for name in [NSE_UDIFF, INDICES] {
        let path = dir.path().join(name);
        std::fs::write(&path, fixture(name))?;
        paths.push(path);
    }
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd.arg("prices").arg("load").args(&paths).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "{NSE_UDIFF}: udiff-bhavcopy (2024-07-08): 8 closes"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("2 of 2 files loaded"), "{stdout}");

    let bad = dir.path().join("not-a-bhavcopy.csv");
    std::fs::write(&bad, "a,b\n1,2\n")?;
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd.arg("prices").arg("load").arg(&bad).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("not-a-bhavcopy.csv: not loaded"),
        "{stdout}"
    );
    assert!(stdout.contains("0 of 1 files loaded"), "{stdout}");
    let nifty = app
        .app
        .market
        .index(NIFTY_50, day("2024-07-08"), day("2024-07-08"))
        .await?;
    assert_eq!(
        nifty.len(),
        1,
        "what the command loaded is what the app reads"
    );
    app.stop().await
}

crate::both_backends!(
    every_layout_loads_and_nse_wins_over_bse,
    a_malformed_file_loads_nothing,
    holdings_are_valued_at_the_newest_close_and_say_so,
    kitemate_prices_load_reports_each_file_and_fails_on_a_bad_one,
);
