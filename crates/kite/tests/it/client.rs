//! The client against the fake Kite server: login, every portfolio call,
//! expired sessions, retries, rate limits, batching and range splitting.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use kite::fake::FakeKite;
use kite::{Class, Config, Error, Interval, Kite, Limiter};
use rust_decimal::Decimal;
use secrecy::SecretString;

const KEY: &str = "kitemate_key";
const SECRET: &str = "kitemate_secret";

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn client(fake: &FakeKite, secret: &str) -> Result<Kite, Error> {
    let mut config = Config::new(KEY, SecretString::from(secret.to_string()));
    config.api_root = fake.url();
    Kite::new(config)
}

async fn logged_in(fake: &FakeKite) -> Result<(Kite, String), Error> {
    let kite = client(fake, SECRET)?;
    let session = kite.generate_session(&fake.request_token()).await?;
    Ok((kite, session.access_token))
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
}

#[tokio::test]
async fn login_then_every_portfolio_call() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let kite = client(&fake, SECRET)?;
    let token = fake.request_token();
    let session = kite.generate_session(&token).await?;
    assert_eq!(session.user_id, "XX0000");
    assert!(
        !format!("{session:?}").contains(&session.access_token),
        "Debug hides the token"
    );
    // A request token is good once.
    assert!(matches!(
        kite.generate_session(&token).await,
        Err(Error::Token { .. })
    ));

    let user = kite.user(&session.access_token);
    let profile = user.profile().await?;
    assert_eq!(profile.user_id, "AB1234");
    let margins = user.margins().await?;
    let equity = margins.equity.ok_or("equity margins")?;
    assert_eq!(
        equity.net.to_string(),
        "99725.05000000002",
        "exact, as Kite wrote it"
    );
    let holdings = user.holdings().await?;
    assert_eq!(holdings[0].tradingsymbol, "AARON");
    assert_eq!(
        (holdings[0].average_price, holdings[0].last_price),
        (Decimal::from(161), "352.95".parse()?)
    );
    assert_eq!(holdings[1].isin, "INE062A01020");
    assert_eq!(holdings[1].average_price.to_string(), "801.78125");
    let positions = user.positions().await?;
    assert!(!positions.net.is_empty() && !positions.day.is_empty());
    let funds = user.mf_holdings().await?;
    assert_eq!(funds[0].fund, "INVESCO INDIA TAX PLAN - DIRECT PLAN");
    assert_eq!(funds[0].last_price_date, None, "an empty date is no date");
    let quotes = user.quote(&["NSE:INFY", "NSE:NOPE"]).await?;
    assert_eq!(
        quotes.len(),
        1,
        "unknown instruments are absent, not errors"
    );
    assert_eq!(quotes["NSE:INFY"].ohlc.close.to_string(), "1389.65");

    kite.invalidate_session(&session.access_token).await?;
    assert!(matches!(user.profile().await, Err(Error::Token { .. })));
    Ok(())
}

#[tokio::test]
async fn a_wrong_secret_or_key_is_refused() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let wrong = client(&fake, "not the secret")?;
    let refused = wrong.generate_session(&fake.request_token()).await;
    assert!(
        matches!(&refused, Err(Error::Token { message }) if message == "Invalid `checksum`."),
        "{refused:?}"
    );
    assert!(matches!(
        wrong.generate_session("not a token!").await,
        Err(Error::Invalid(_))
    ));
    // A token from another app's key does not open this one.
    let (kite, token) = logged_in(&fake).await?;
    let mut other = Config::new("another_key", SecretString::from(SECRET.to_string()));
    other.api_root = fake.url();
    let other = Kite::new(other)?;
    assert!(matches!(
        other.user(&token).holdings().await,
        Err(Error::Token { .. })
    ));
    assert!(kite.user(&token).holdings().await.is_ok());
    Ok(())
}

#[tokio::test]
async fn sessions_die_at_six_in_the_morning_india_time() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let (kite, token) = logged_in(&fake).await?;
    assert!(kite.user(&token).holdings().await.is_ok());
    fake.advance(TimeDelta::hours(25));
    let expired = kite.user(&token).holdings().await;
    assert!(
        matches!(&expired, Err(Error::Token { message }) if message == "Token is invalid or has expired."),
        "{expired:?}"
    );
    Ok(())
}

#[test]
fn the_expiry_is_the_next_six_am_ist() {
    use chrono::{TimeZone as _, Utc};
    let utc = |s: &str| Utc.from_utc_datetime(&at(s));
    // 10:00 IST on the 5th → 06:00 IST on the 6th (00:30 UTC).
    assert_eq!(
        kite::fake::session_expiry(utc("2024-03-05 04:30:00")),
        utc("2024-03-06 00:30:00")
    );
    // 05:00 IST on the 5th → 06:00 IST the same day.
    assert_eq!(
        kite::fake::session_expiry(utc("2024-03-04 23:30:00")),
        utc("2024-03-05 00:30:00")
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_others_are_not() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let (kite, token) = logged_in(&fake).await?;
    let user = kite.user(&token);
    let before = fake.calls().len();
    fake.fail_next(&[503, 502, 429]);
    assert_eq!(
        user.holdings().await?.len(),
        2,
        "the fourth attempt succeeds"
    );
    assert_eq!(fake.calls().len() - before, 4);

    fake.fail_next(&[500, 500, 500, 500, 500]);
    let failed = user.holdings().await;
    assert!(
        matches!(failed, Err(Error::Api { status: 500, .. })),
        "{failed:?}"
    );
    fake.fail_next(&[]);
    let _ = user.holdings().await; // drains the fifth injected failure

    let before = fake.calls().len();
    fake.fail_next(&[400]);
    assert!(matches!(
        user.holdings().await,
        Err(Error::Api { status: 400, .. })
    ));
    assert_eq!(fake.calls().len() - before, 1, "a 400 is not tried again");
    Ok(())
}

/// Lets every call through at once, to show what the fake does to a client
/// that ignores the limits.
#[derive(Debug)]
struct NoLimits;

impl Limiter for NoLimits {
    fn acquire(&self, _: Class) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

#[tokio::test]
async fn quotes_keep_to_one_call_a_second() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let (kite, token) = logged_in(&fake).await?;
    let started = std::time::Instant::now();
    for _ in 0..3 {
        kite.user(&token).ltp(&["NSE:INFY"]).await?;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "three calls span two seconds"
    );

    let mut config = Config::new(KEY, SecretString::from(SECRET.to_string()));
    config.api_root = fake.url();
    config.retries = 0;
    let reckless = Kite::new(config)?.with_limiter(Arc::new(NoLimits));
    let user = reckless.user(&token);
    let results = futures_join(user.ltp(&["NSE:INFY"]), user.ltp(&["NSE:INFY"])).await;
    assert!(
        results.iter().any(|r| matches!(r, Err(Error::RateLimited))),
        "two quote calls in one second: one is refused with 429"
    );
    Ok(())
}

async fn futures_join<A, B, T>(a: A, b: B) -> Vec<Result<T, Error>>
where
    A: Future<Output = Result<T, Error>>,
    B: Future<Output = Result<T, Error>>,
{
    let (a, b) = tokio::join!(a, b);
    vec![a, b]
}

#[tokio::test]
async fn large_quote_requests_are_batched() -> TestResult {
    let fake = FakeKite::start_with(KEY, SECRET, false).await?;
    let (kite, token) = logged_in(&fake).await?;
    let names: Vec<String> = (0..1200).map(|i| format!("NSE:S{i}")).collect();
    for name in names.iter().step_by(100) {
        fake.set_price(name, 100.5);
    }
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let before = fake.calls().len();
    let prices = kite.user(&token).ltp(&wanted).await?;
    assert_eq!(prices.len(), 12);
    assert_eq!(prices["NSE:S100"].last_price.to_string(), "100.5");
    let calls = &fake.calls()[before..];
    assert_eq!(
        calls,
        [
            "GET /quote (1000 instruments)",
            "GET /quote (200 instruments)"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn long_historical_ranges_are_split_and_joined() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let (kite, token) = logged_in(&fake).await?;
    let before = fake.calls().len();
    let candles = kite
        .user(&token)
        .historical(
            408065,
            Interval::Minute,
            at("2017-11-01 00:00:00"),
            at("2018-01-31 23:59:59"),
            false,
        )
        .await?;
    assert_eq!(
        fake.calls().len() - before,
        2,
        "92 days of minutes: two calls"
    );
    assert_eq!(candles.len(), 6);
    assert_eq!(candles[0].time.to_rfc3339(), "2017-12-15T09:15:00+05:30");
    assert_eq!(
        (candles[0].open, candles[0].volume, candles[0].oi),
        ("1704.5".parse()?, 2499, None)
    );
    let with_oi = kite
        .user(&token)
        .historical(
            12517890,
            Interval::Minute,
            at("2017-12-15 09:15:00"),
            at("2017-12-15 09:20:00"),
            true,
        )
        .await?;
    assert!(with_oi.iter().all(|c| c.oi.is_some()), "{with_oi:?}");
    let backwards = kite
        .user(&token)
        .historical(
            1,
            Interval::Day,
            at("2018-01-02 00:00:00"),
            at("2018-01-01 00:00:00"),
            false,
        )
        .await;
    assert!(matches!(backwards, Err(Error::Invalid(_))));
    Ok(())
}

#[tokio::test]
async fn the_instruments_dump_reads_whole() -> TestResult {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let (kite, token) = logged_in(&fake).await?;
    let nse = kite.user(&token).instruments(Some("NSE")).await?;
    assert_eq!(nse.len(), 99);
    assert!(
        nse.iter()
            .all(|i| i.exchange_token == i.instrument_token >> 8)
    );
    let all = kite.user(&token).instruments(None).await?;
    assert_eq!(all.len(), 99);
    Ok(())
}

#[test]
fn older_answers_and_byte_order_marks_decode() -> TestResult {
    #[derive(serde::Deserialize)]
    struct Envelope<T> {
        data: T,
    }
    let read = |name: &str| -> Vec<u8> {
        let bytes = std::fs::read(format!(
            "{}/fixtures/dotnet/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_default();
        bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .map(<[u8]>::to_vec)
            .unwrap_or(bytes)
    };
    let margins: Envelope<kite::models::Margins> =
        serde_json::from_slice(&read("margins_noturnover.json"))?;
    assert_eq!(margins.data.equity.ok_or("equity")?.utilised.turnover, None);
    let holdings: Envelope<Vec<kite::models::Holding>> =
        serde_json::from_slice(&read("holdings.json"))?;
    assert!(!holdings.data.is_empty());
    let ltp: Envelope<std::collections::HashMap<String, kite::models::Ltp>> =
        serde_json::from_slice(&read("ltp.json"))?;
    assert!(!ltp.data.is_empty());
    Ok(())
}
