//! Webhooks under load, on SQLite: signed `subscription.charged` deliveries
//! to `POST /webhooks/razorpay` of the real app (in this process, on
//! loopback), each for one of `USERS` customers with its own payment.
//!
//! 1. Latency: `LATENCY_REQUESTS` (5000) deliveries, `LATENCY_CONCURRENCY`
//!    (4) at a time: each is verified, recorded and handed to the outbox
//!    before its 200; p50 / p99 / max.
//! 2. Sustained: `RATE` (1000) deliveries a second for `SECONDS` (30), open
//!    loop (sent on the clock whatever the answers do), every 20th a repeat
//!    of an earlier event; then waits for the outbox to apply them all and
//!    counts: every distinct event recorded once and applied, one payment
//!    and one invoice per distinct charge, every repeat answered
//!    `duplicate`.
//!
//! `cargo run --release -p kitemate --example webhooks_load`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kitemate::{App, Config};
use platform::clock::Clock;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const SECRET: &str = "bench-webhook-secret";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `subscription.charged` event for `user` with payment `n`.
fn charged(user: &str, n: u64, now: i64) -> String {
    json!({
        "entity": "event", "account_id": "acc_Bench", "event": "subscription.charged",
        "contains": ["subscription", "payment"], "created_at": now,
        "payload": {
            "subscription": { "entity": {
                "id": format!("sub_bench_{user}"), "entity": "subscription", "status": "active",
                "plan_id": "plan_bench", "notes": { "user_id": user },
                "current_start": now, "current_end": now + 30 * 86_400, "charge_at": now + 30 * 86_400,
            }},
            "payment": { "entity": {
                "id": format!("pay_bench_{n}"), "entity": "payment", "amount": 29_900,
                "currency": "INR", "status": "captured", "created_at": now,
            }},
        },
    })
    .to_string()
}

struct Sender {
    client: reqwest::Client,
    url: String,
}

impl Sender {
    /// Sends one delivery; answers whether it was a duplicate, and how long it took.
    async fn send(&self, body: &str, event_id: &str) -> anyhow::Result<(bool, Duration)> {
        let signature = platform::mac::hmac_sha256_hex(SECRET.as_bytes(), &[body.as_bytes()]);
        let started = Instant::now();
        let res = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-razorpay-signature", signature)
            .header("x-razorpay-event-id", event_id)
            .body(body.to_string())
            .send()
            .await?;
        let status = res.status();
        let reply: Value = res.json().await?;
        let took = started.elapsed();
        anyhow::ensure!(status == 200, "{status}: {reply}");
        Ok((reply["duplicate"] == true, took))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn main() -> anyhow::Result<()> {
    let users = env("USERS", 200);
    let latency_requests = env("LATENCY_REQUESTS", 5000);
    let latency_concurrency = env("LATENCY_CONCURRENCY", 4) as usize;
    let rate = env("RATE", 1000);
    let seconds = env("SECONDS", 30);

    let dir = tempfile::tempdir()?;
    let secrets = dir.path().join("secrets.env");
    std::fs::write(
        &secrets,
        format!(
            "KITEMATE_RAZORPAY_KEY_ID=rzp_test_bench\nKITEMATE_RAZORPAY_KEY_SECRET=bench\n\
             KITEMATE_RAZORPAY_WEBHOOK_SECRETS={SECRET}\n"
        ),
    )?;
    let mut config = Config {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".parse()?,
        secrets_file: Some(secrets),
        ..Config::default()
    };
    config.log.level = "warn".into();
    config.rate_limit.enabled = false;
    let app = App::build(config, Clock::system()).await?;
    app.start_background();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = app.router()?;
    tokio::spawn(async move { axum::serve(listener, router).await });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let mut ids = Vec::new();
    for i in 0..users {
        let reply: Value = client
            .post(format!("{base}/auth/signup"))
            .json(&json!({ "email": format!("bench{i}@example.com"), "password": "river otter lantern", "username": format!("bench{i}") }))
            .send()
            .await?
            .json()
            .await?;
        ids.push(reply["user"]["id"].as_str().unwrap_or_default().to_string());
    }
    let ids = Arc::new(ids);
    let sender = Arc::new(Sender {
        client,
        url: format!("{base}/webhooks/razorpay"),
    });
    let next = Arc::new(AtomicU64::new(0));
    let now = chrono::Utc::now().timestamp();

    // 1. Latency.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..latency_concurrency {
        let (sender, ids, next) = (Arc::clone(&sender), Arc::clone(&ids), Arc::clone(&next));
        let each = latency_requests / latency_concurrency as u64;
        tasks.spawn(async move {
            let mut took = Vec::new();
            for _ in 0..each {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let user = &ids[(n % ids.len() as u64) as usize];
                let (_, t) = sender
                    .send(&charged(user, n, now), &format!("evt_bench_{n}"))
                    .await?;
                took.push(t);
            }
            anyhow::Ok(took)
        });
    }
    let mut took = Vec::new();
    while let Some(done) = tasks.join_next().await {
        took.extend(done??);
    }
    took.sort();
    println!(
        "latency: {} deliveries, {latency_concurrency} at a time: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        took.len(),
        percentile(&took, 0.50),
        percentile(&took, 0.99),
        percentile(&took, 1.0)
    );

    // 2. Sustained, open loop.
    let in_flight = Arc::new(Semaphore::new(512));
    let duplicates = Arc::new(AtomicU64::new(0));
    let repeats_sent = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let total = rate * seconds;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sends = tokio::task::JoinSet::new();
    let mut lag = Duration::ZERO;
    for k in 0..total {
        tick.tick().await;
        let due = Duration::from_micros(k * 1_000_000 / rate);
        lag = lag.max(started.elapsed().saturating_sub(due));
        let permit = Arc::clone(&in_flight).acquire_owned().await?;
        let (sender, ids, next) = (Arc::clone(&sender), Arc::clone(&ids), Arc::clone(&next));
        let (duplicates, repeats_sent, failures) = (
            Arc::clone(&duplicates),
            Arc::clone(&repeats_sent),
            Arc::clone(&failures),
        );
        sends.spawn(async move {
            let repeat = k % 20 == 19;
            let n = if repeat {
                repeats_sent.fetch_add(1, Ordering::Relaxed);
                next.load(Ordering::Relaxed).saturating_sub(7)
            } else {
                next.fetch_add(1, Ordering::Relaxed)
            };
            let user = &ids[(n % ids.len() as u64) as usize];
            match sender
                .send(&charged(user, n, now), &format!("evt_bench_{n}"))
                .await
            {
                Ok((true, _)) => {
                    duplicates.fetch_add(1, Ordering::Relaxed);
                }
                Ok((false, _)) => {}
                Err(_) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(permit);
        });
        while sends.try_join_next().is_some() {}
    }
    while sends.join_next().await.is_some() {}
    let sent_for = started.elapsed();
    let distinct = next.load(Ordering::Relaxed);
    // Wait for the outbox to apply everything.
    let drain = Instant::now();
    let ledger = loop {
        let ledger = app
            .subscriptions
            .ledger()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if ledger.handled >= ledger.deliveries || drain.elapsed() > Duration::from_secs(600) {
            break ledger;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let applied_at = started.elapsed();
    println!(
        "sustained: {total} deliveries in {:.1} s ({:.0}/s offered, sender lag at most {:.0} ms), {} repeats; \
         all applied {:.1} s after the first ({:.0}/s end to end)",
        sent_for.as_secs_f64(),
        total as f64 / sent_for.as_secs_f64(),
        lag.as_secs_f64() * 1000.0,
        repeats_sent.load(Ordering::Relaxed),
        applied_at.as_secs_f64(),
        total as f64 / applied_at.as_secs_f64(),
    );
    let dup = duplicates.load(Ordering::Relaxed);
    let failed = failures.load(Ordering::Relaxed);
    println!(
        "counted: {distinct} distinct events sent, {} recorded, {} applied, {} payments, {} invoices; \
         {dup} answered duplicate, {failed} failed",
        ledger.deliveries, ledger.handled, ledger.payments, ledger.invoices
    );
    let ok = ledger.deliveries as u64 == distinct
        && ledger.handled == ledger.deliveries
        && ledger.payments as u64 == distinct
        && ledger.invoices as u64 == distinct
        && dup == repeats_sent.load(Ordering::Relaxed)
        && failed == 0;
    println!(
        "{}",
        if ok {
            "no loss, no duplicate effect"
        } else {
            "MISMATCH"
        }
    );
    app.close().await;
    anyhow::ensure!(ok, "the counts do not match");
    Ok(())
}
