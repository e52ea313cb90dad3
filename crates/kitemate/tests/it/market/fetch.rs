//! Fetching a day's files from the sources (the fake market): a browser's
//! headers, retries when a source fails, a missing or malformed file
//! reported while the rest load, and nothing fetched twice.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{BSE_UDIFF, INDICES, NSE_UDIFF, fixture};
use crate::support::fake_market::{FakeMarket, use_fake_market, zipped, zipped_many};
use crate::support::{Kind, TestApp, TestResult};
use kitemate::market::{Feed, Source};

const NSE_PATH: &str = "/content/cm/BhavCopy_NSE_CM_0_0_0_20240708_F_0000.csv.zip";
const BSE_PATH: &str = "/download/BhavCopy/Equity/BhavCopy_BSE_CM_0_0_0_20240708_F_0000.CSV";
const INDEX_PATH: &str = "/content/indices/ind_close_all_08072024.csv";
const AMFI_PATH: &str = "/DownloadNAVHistoryReport_Po.aspx?frmdt=08-Jul-2024&todt=08-Jul-2024";
const PR_PATH: &str = "/archives/equities/bhavcopy/pr/PR080724.zip";

/// NSE's daily archive: its corporate-actions file among others.
pub fn market_archive() -> Vec<u8> {
    let bc = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/market/corporate-actions/bc16122025.csv"),
    )
    .unwrap_or_default();
    zipped_many(&[
        ("Pd080724.csv", b"MKT,SERIES,SYMBOL\n".as_slice()),
        ("Bc080724.csv", &bc),
    ])
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 8).expect("a date")
}

async fn started(kind: Kind) -> anyhow::Result<(TestApp, FakeMarket)> {
    let fake = FakeMarket::start().await?;
    let app = TestApp::spawn_with(kind, |c| use_fake_market(c, &fake)).await?;
    Ok((app, fake))
}

fn serve_all(fake: &FakeMarket) {
    fake.put(NSE_PATH, zipped(NSE_UDIFF, &fixture(NSE_UDIFF)));
    fake.put(BSE_PATH, fixture(BSE_UDIFF));
    fake.put(INDEX_PATH, fixture(INDICES));
    fake.put(AMFI_PATH, fixture("NAVHistory_01-Jul-2024_08-Jul-2024.txt"));
    fake.put(PR_PATH, market_archive());
}

async fn a_day_is_fetched_like_a_browser_and_retried_when_a_source_fails(kind: Kind) -> TestResult {
    let (app, fake) = started(kind).await?;
    serve_all(&fake);
    fake.fail(NSE_PATH, &[503, 502]);
    let fetched = app.app.market.fetch_day(monday()).await?;
    assert!(fetched.failed.is_empty(), "{:?}", fetched.failed);
    assert!(fetched.complete());
    assert_eq!(fetched.loaded.len(), 4);
    // The archive's corporate actions: a bonus and two splits.
    assert_eq!(fetched.actions.len(), 1);
    assert_eq!(fetched.actions[0].actions, 3);
    let requests = fake.requests();
    let nse: Vec<_> = requests
        .iter()
        .filter(|(path, _)| path == NSE_PATH)
        .collect();
    assert_eq!(nse.len(), 3, "two failures, then the file");
    let headers = &nse[0].1;
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(user_agent.starts_with("Mozilla/5.0"), "{user_agent}");
    assert_eq!(
        headers.get("referer").and_then(|v| v.to_str().ok()),
        Some("https://www.nseindia.com/")
    );
    let latest = app
        .app
        .market
        .latest_with_previous(&["INE002A01018"])
        .await?;
    assert_eq!(latest["INE002A01018"].0.source, Source::Nse);

    // Everything of that day is loaded: nothing is asked for again.
    let again = app.app.market.fetch_day(monday()).await?;
    assert_eq!((again.loaded.len(), again.had), (0, 5));
    assert_eq!(fake.requests().len(), requests.len());
    app.stop().await
}

async fn a_missing_or_malformed_file_is_reported_and_the_rest_load(kind: Kind) -> TestResult {
    let (app, fake) = started(kind).await?;
    fake.put(BSE_PATH, fixture(BSE_UDIFF));
    fake.put(AMFI_PATH, fixture("NAVHistory_01-Jul-2024_08-Jul-2024.txt"));
    fake.put(PR_PATH, market_archive());
    let mut damaged = String::from_utf8(fixture(INDICES))?;
    damaged = damaged.replacen("24320.55", "243x0.55", 1);
    fake.put(INDEX_PATH, damaged);
    let fetched = app.app.market.fetch_day(monday()).await?;
    assert!(!fetched.complete());
    let failed: Vec<(Feed, &str)> = fetched
        .failed
        .iter()
        .map(|(feed, why)| (*feed, why.as_str()))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0].0, Feed::NseEquity);
    assert!(failed[0].1.contains("not published"), "{}", failed[0].1);
    assert_eq!(failed[1].0, Feed::NseIndices);
    assert!(failed[1].1.contains("malformed"), "{}", failed[1].1);
    // BSE's close stands in until NSE's comes; no index value landed.
    let market = &app.app.market;
    let reliance = market.latest_with_previous(&["INE002A01018"]).await?["INE002A01018"].0;
    assert_eq!(
        (reliance.source, reliance.close),
        (Source::Bse, "3201.45".parse::<Decimal>()?)
    );
    assert!(
        market
            .index("Nifty 50", monday(), monday())
            .await?
            .is_empty()
    );

    // Published later: the next run loads only what is missing, and NSE wins.
    serve_all(&fake);
    let later = market.fetch_day(monday()).await?;
    assert!(later.complete(), "{:?}", later.failed);
    assert_eq!((later.loaded.len(), later.had), (2, 3));
    let reliance = market.latest_with_previous(&["INE002A01018"]).await?["INE002A01018"].0;
    assert_eq!(
        (reliance.source, reliance.close),
        (Source::Nse, "3201.80".parse::<Decimal>()?)
    );
    app.stop().await
}

async fn a_source_failing_every_try_is_reported_with_the_tries(kind: Kind) -> TestResult {
    let (app, fake) = started(kind).await?;
    serve_all(&fake);
    fake.fail(INDEX_PATH, &[500; 10]);
    let fetched = app.app.market.fetch_day(monday()).await?;
    assert_eq!(fetched.failed.len(), 1);
    let (feed, why) = &fetched.failed[0];
    assert_eq!(*feed, Feed::NseIndices);
    assert!(why.contains("failed after 4 tries"), "{why}");
    assert!(why.contains("500"), "{why}");
    let tries = fake
        .requests()
        .iter()
        .filter(|(p, _)| p == INDEX_PATH)
        .count();
    assert_eq!(tries, 4);
    app.stop().await
}

crate::both_backends!(
    a_day_is_fetched_like_a_browser_and_retried_when_a_source_fails,
    a_missing_or_malformed_file_is_reported_and_the_rest_load,
    a_source_failing_every_try_is_reported_with_the_tries,
);
