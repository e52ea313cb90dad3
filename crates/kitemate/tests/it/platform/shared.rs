//! Limits and caches shared between replicas through Redis, and their
//! in-memory defaults.

use std::time::Duration;

use kitemate::config::DatabaseUrl;
use platform::cache::Cache;
use platform::kv::Redis;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Kind, TestApp, TestResult, redis_url};

fn fresh_prefix() -> String {
    format!("kmt-{}", uuid::Uuid::now_v7().simple())
}

/// Two replicas on one Redis: requests through either spend one allowance.
#[tokio::test]
async fn rate_limits_hold_across_replicas() -> TestResult {
    let Some(url) = redis_url() else {
        return Ok(());
    };
    let prefix = fresh_prefix();
    let shared = |c: &mut kitemate::Config| {
        c.redis_url = DatabaseUrl::new(url.clone());
        c.redis_prefix = prefix.clone();
        c.rate_limit.per_ip_per_minute = 2;
        c.rate_limit.burst = 3;
    };
    let first = TestApp::spawn_with(Kind::Sqlite, shared).await?;
    let second = TestApp::spawn_with(Kind::Sqlite, shared).await?;
    let ping = json!({ "name": "x" });
    for app in [&first, &second, &first] {
        assert_eq!(
            app.post("/ping", ping.clone()).await?.status,
            StatusCode::OK
        );
    }
    let refused = second.post("/ping", ping.clone()).await?;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "resource_exhausted");
    let wait: u64 = refused.header("retry-after").unwrap_or_default().parse()?;
    assert!((1..=30).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        first.post("/ping", ping).await?.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    first.stop().await?;
    second.stop().await
}

/// A password guesser gains nothing by spreading guesses over replicas:
/// both count the account's failures in Redis.
#[tokio::test]
async fn failed_logins_are_counted_across_replicas() -> TestResult {
    let Some(url) = redis_url() else {
        return Ok(());
    };
    let prefix = fresh_prefix();
    let shared = |c: &mut kitemate::Config| {
        c.redis_url = DatabaseUrl::new(url.clone());
        c.redis_prefix = prefix.clone();
        c.auth.account_free_failures = 2;
        c.auth.ip_free_failures = 100;
    };
    let first = TestApp::spawn_with(Kind::Sqlite, shared).await?;
    let second = TestApp::spawn_with(Kind::Sqlite, shared).await?;
    let guess = json!({ "email": "asha@example.com", "password": "wrong guess 1" });
    // Two free failures and a third that starts the wait, spread over both.
    for app in [&first, &second, &first] {
        let reply = app.post("/auth/login", guess.clone()).await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let refused = second.post("/auth/login", guess.clone()).await?;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "resource_exhausted")
    );
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    // Another account is not affected.
    let other = json!({ "email": "ravi@example.com", "password": "wrong guess 1" });
    assert_eq!(
        first.post("/auth/login", other).await?.status,
        StatusCode::UNAUTHORIZED
    );
    first.stop().await?;
    second.stop().await
}

/// With Redis unreachable, requests pass rather than fail.
#[tokio::test]
async fn an_unreachable_redis_does_not_take_the_api_down() -> TestResult {
    let app = TestApp::spawn_with(Kind::Sqlite, |c| {
        c.redis_url = DatabaseUrl::new("redis://127.0.0.1:1");
        c.rate_limit.per_ip_per_minute = 1;
        c.rate_limit.burst = 1;
    })
    .await?;
    for _ in 0..3 {
        assert_eq!(
            app.post("/ping", json!({ "name": "x" })).await?.status,
            StatusCode::OK
        );
    }
    // Failed logins are still throttled, by this replica's own counts.
    let guess = json!({ "email": "asha@example.com", "password": "wrong guess 1" });
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            app.post("/auth/login", guess.clone())
                .await?
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429]);
    app.stop().await
}

async fn cache_round_trip(cache: &Cache) -> TestResult {
    assert_eq!(cache.get("quote:INFY").await, None);
    cache
        .set("quote:INFY", b"1520.35", Duration::from_secs(60))
        .await;
    assert_eq!(
        cache.get("quote:INFY").await.as_deref(),
        Some(&b"1520.35"[..])
    );
    cache
        .set("quote:TCS", b"3890", Duration::from_secs(60))
        .await;
    cache.delete("quote:TCS").await;
    assert_eq!(cache.get("quote:TCS").await, None);
    // A short-lived entry goes by itself (polled: a slow machine may read
    // it after it expired, never before it was set).
    cache
        .set("quote:OLD", b"1", Duration::from_millis(200))
        .await;
    crate::support::eventually(10, || async { Ok(cache.get("quote:OLD").await.is_none()) }).await?;
    assert_eq!(
        cache.get("quote:INFY").await.as_deref(),
        Some(&b"1520.35"[..]),
        "the long-lived entry stays"
    );
    Ok(())
}

#[tokio::test]
async fn the_cache_expires_and_forgets_in_memory() -> TestResult {
    cache_round_trip(&Cache::default()).await
}

#[tokio::test]
async fn the_cache_expires_and_forgets_in_redis_and_replicas_share_it() -> TestResult {
    let Some(url) = redis_url() else {
        return Ok(());
    };
    let prefix = fresh_prefix();
    let one = Cache::Redis(Redis::new(&url, &prefix)?);
    cache_round_trip(&one).await?;
    let two = Cache::Redis(Redis::new(&url, &prefix)?);
    one.set("shared", b"yes", Duration::from_secs(5)).await;
    assert_eq!(two.get("shared").await.as_deref(), Some(&b"yes"[..]));
    let other_app = Cache::Redis(Redis::new(&url, &fresh_prefix())?);
    assert_eq!(
        other_app.get("shared").await,
        None,
        "prefixes keep apps apart"
    );
    Ok(())
}

/// Two quote calls, one after the other.
async fn twice(
    kite: &kite::Kite,
    token: &str,
) -> Result<std::collections::HashMap<String, kite::models::Ltp>, kite::Error> {
    let user = kite.user(token);
    user.ltp(&["NSE:INFY"]).await?;
    user.ltp(&["NSE:INFY"]).await
}

/// Kite allows one quote call a second per API key, however many replicas
/// make them: two clients pacing through one Redis are never refused, and
/// two pacing alone are.
#[tokio::test]
async fn kite_calls_take_turns_across_replicas() -> TestResult {
    use kite::fake::FakeKite;
    use kitemate::kite_turns::SharedTurns;
    use platform::pace::Pacer;
    use secrecy::SecretString;

    let Some(url) = redis_url() else {
        return Ok(());
    };
    let fake = FakeKite::start("turns_key", "turns_secret").await?;
    let client = |limiter: Option<Pacer>| -> anyhow::Result<kite::Kite> {
        let mut config = kite::Config::new("turns_key", SecretString::from("turns_secret"));
        config.api_root = fake.url();
        // A refusal shows as an error instead of being retried away.
        config.retries = 0;
        let kite = kite::Kite::new(config)?;
        Ok(match limiter {
            Some(pacer) => {
                kite.with_limiter(std::sync::Arc::new(SharedTurns::new(pacer, "turns_key")))
            }
            None => kite,
        })
    };
    let token = client(None)?
        .generate_session(&fake.request_token())
        .await?
        .access_token;
    let prefix = fresh_prefix();
    let replica =
        || -> anyhow::Result<kite::Kite> { client(Some(Pacer::redis(Redis::new(&url, &prefix)?))) };
    let (a, b) = (replica()?, replica()?);
    let started = std::time::Instant::now();
    let (from_a, from_b) = tokio::join!(twice(&a, &token), twice(&b, &token));
    assert!(from_a.is_ok() && from_b.is_ok(), "{from_a:?} {from_b:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(2900),
        "four quote calls take three seconds: {:?}",
        started.elapsed()
    );

    // Each pacing only itself, the same calls collect a 429.
    let (a, b) = (client(None)?, client(None)?);
    let (from_a, from_b) = tokio::join!(twice(&a, &token), twice(&b, &token));
    assert!(
        matches!(from_a, Err(kite::Error::RateLimited))
            || matches!(from_b, Err(kite::Error::RateLimited)),
        "{from_a:?} {from_b:?}"
    );
    Ok(())
}

/// Questions in flight are counted across replicas: two processes on one
/// Redis hold at most the cap between them, a place given back is free at
/// once, and one whose process died is free after its lease.
#[tokio::test]
async fn questions_in_flight_are_counted_across_replicas() -> TestResult {
    use platform::inflight::InFlight;
    let Some(url) = redis_url() else {
        return Ok(());
    };
    let prefix = fresh_prefix();
    let lease = Duration::from_millis(1_500);
    let first = InFlight::redis(Redis::new(&url, &prefix)?, lease);
    let second = InFlight::redis(Redis::new(&url, &prefix)?, lease);
    let a = first.enter("chat:asha", 2).await;
    let b = second.enter("chat:asha", 2).await;
    assert!(a.is_some() && b.is_some());
    assert!(first.enter("chat:asha", 2).await.is_none());
    assert!(second.enter("chat:asha", 2).await.is_none());
    assert!(second.enter("chat:ravi", 2).await.is_some(), "per user");
    drop(a);
    crate::support::eventually(5, || async {
        Ok(second.enter("chat:asha", 2).await.is_some())
    })
    .await?;
    // A process that dies keeps its place only until the lease runs out.
    std::mem::forget(b);
    let mut c = None;
    for _ in 0..250 {
        c = first.enter("chat:asha", 2).await;
        if c.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(c.is_some());
    assert!(
        first.enter("chat:asha", 2).await.is_none(),
        "the dead process's place is still held"
    );
    crate::support::eventually(5, || async {
        Ok(first.enter("chat:asha", 2).await.is_some())
    })
    .await?;
    Ok(())
}
