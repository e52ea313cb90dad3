//! Pub/sub benchmark: throughput and publish→handler latency, and what
//! publishing inside a write transaction adds to that write.
//!
//! `cargo run --release -p platform --example pubsub_bench` (SQLite in a
//! temporary folder), or with `BENCH_DATABASE_URL=postgres://...` for
//! PostgreSQL; add `BENCH_NATS_URL=nats://127.0.0.1:4222` to carry the
//! events through NATS JetStream. `EVENTS` (default 100000) and
//! `PUBLISHERS` (default 4) tune it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use platform::clock::Clock;
use platform::db::{Backend, DatabaseDecl, Db};
use platform::metrics::Metrics;
use platform::pubsub::{PubSub, SubscriptionConfig, TopicDecl};
use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;

static DB: DatabaseDecl = DatabaseDecl {
    name: "bench",
    sqlite: Migrator::DEFAULT,
    postgres: Migrator::DEFAULT,
};

#[derive(Debug, Serialize, Deserialize)]
struct Event {
    sent_ns: u128,
}

static TOPIC: TopicDecl<Event> = TopicDecl::new("bench-events");
static QUIET: TopicDecl<Event> = TopicDecl::new("bench-quiet");

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct Phase {
    events: usize,
    elapsed: Duration,
    latencies: Vec<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn p(&self, p: f64) -> f64 {
        percentile(&self.latencies, p)
    }
}

/// Publishes `events` from `publishers` tasks, `batch` per transaction, and
/// waits until the handler has seen them all.
async fn throughput(
    topic: &platform::pubsub::Topic<Event>,
    latencies: &Arc<Mutex<Vec<f64>>>,
    events: usize,
    publishers: usize,
    batch: usize,
    pace: Option<Duration>,
) -> anyhow::Result<Phase> {
    if let Ok(mut l) = latencies.lock() {
        l.clear();
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let topic = topic.clone();
        let count = events / publishers + usize::from(p < events % publishers);
        tasks.push(tokio::spawn(async move {
            let mut left = count;
            // Paced: each publisher sends one batch per `pace`, so the
            // offered rate stays below capacity and latency is not queueing.
            let mut ticks = pace.map(tokio::time::interval);
            while left > 0 {
                if let Some(ticks) = ticks.as_mut() {
                    ticks.tick().await;
                }
                let n = left.min(batch);
                let group: Vec<Event> = (0..n).map(|_| Event { sent_ns: now_ns() }).collect();
                let mut tx = topic.database().begin().await?;
                topic.publish_all_in(&mut tx, &group).await?;
                tx.commit().await?;
                left -= n;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    loop {
        let done = latencies.lock().map(|l| l.len()).unwrap_or_default();
        if done >= events {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {done} of {events} handled"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort_by(f64::total_cmp);
    Ok(Phase {
        events,
        elapsed,
        latencies: lat,
    })
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Dispatcher warnings (failed acknowledgements, say) show on stderr.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let events = env_num("EVENTS", 100_000);
    let publishers = env_num("PUBLISHERS", 4).max(1);
    let dir = tempfile::tempdir()?;
    let (backend, label) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let base = url
                .rsplit_once('/')
                .map_or(url.as_str(), |(server, _)| server)
                .to_string();
            let prefix = format!("kmt_bench_{}", uuid::Uuid::now_v7().simple());
            (
                Backend::postgres(&format!("{base}/{prefix}"))?,
                "PostgreSQL",
            )
        }
        _ => (
            Backend::Sqlite {
                dir: dir.path().to_path_buf(),
            },
            "SQLite",
        ),
    };
    let db = backend.open(&DB).await?;
    platform::with_db!(db, |pool| {
        sqlx::query("CREATE TABLE bench_writes (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
            .execute(pool)
            .await
            .map(|_| ())
    })?;

    let pubsub = PubSub::new(Clock::system(), Metrics::new());
    let nats_url = std::env::var("BENCH_NATS_URL").unwrap_or_default();
    let transport = if nats_url.is_empty() {
        "embedded"
    } else {
        pubsub.use_nats(platform::pubsub::NatsSettings {
            url: nats_url,
            prefix: format!("kmt_bench_{}", uuid::Uuid::now_v7().simple()),
        })?;
        "NATS JetStream"
    };
    let topic = pubsub.topic(&TOPIC, &db)?;
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::with_capacity(events)));
    let sink = Arc::clone(&latencies);
    let config = SubscriptionConfig {
        max_concurrency: 512,
        ..SubscriptionConfig::default()
    };
    pubsub.subscribe(&TOPIC, "bench-sink", config, move |msg| {
        let ms = (now_ns().saturating_sub(msg.event.sent_ns)) as f64 / 1e6;
        if let Ok(mut l) = sink.lock() {
            l.push(ms);
        }
        async { Ok(()) }
    })?;
    pubsub.start();

    // Throughput: events published one per transaction, then in batches of
    // `BATCH` per transaction (as an import or a sync publishes), from several tasks.
    let single = throughput(&topic, &latencies, events / 5, publishers, 1, None).await?;
    let batch = env_num("BATCH", 50).max(1);
    let batched = throughput(&topic, &latencies, events, publishers, batch, None).await?;
    // Latency at a steady 10,000 events/s: batches of 10, each publisher
    // one every 4 ms.
    let paced_every = Duration::from_micros(4_000 * 4 / publishers as u64);
    let paced = throughput(
        &topic,
        &latencies,
        30_000,
        publishers,
        10,
        Some(paced_every),
    )
    .await?;
    pubsub.drained(Duration::from_secs(60)).await?;

    pubsub.stop();
    pubsub.drop_streams().await?;

    // The cost of publishing inside a write: the same write with and without
    // an event in it, alternating, so that drift on a shared machine hits both
    // alike. The subscriber is not running here: this is the publish itself,
    // not the delivery work it causes later (measured above).
    let quiet = PubSub::new(Clock::system(), Metrics::new());
    let quiet_topic = quiet.topic(&QUIET, &db)?;
    quiet.subscribe(
        &QUIET,
        "bench-quiet",
        SubscriptionConfig::default(),
        |_msg| async { Ok(()) },
    )?;
    let rounds = 3_000;
    let mut overhead = Vec::new();
    for rows in [1, 10] {
        let mut plain = Vec::with_capacity(rounds);
        let mut with_publish = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            plain.push(write_once(&db, rows, None).await?);
            with_publish.push(write_once(&db, rows, Some(&quiet_topic)).await?);
        }
        overhead.push((rows, summary(plain), summary(with_publish)));
    }

    println!("## pub/sub on {label}, {transport}, {publishers} publishers");
    println!();
    println!("| figure | one event per transaction | {batch} events per transaction |");
    println!("| --- | ---: | ---: |");
    println!("| events | {} | {} |", single.events, batched.events);
    println!(
        "| **throughput, published and handled** | **{:.0} events/s** | **{:.0} events/s** |",
        single.rate(),
        batched.rate()
    );
    println!(
        "| publish → handler p50 | {:.1} ms | {:.1} ms |",
        single.p(0.50),
        batched.p(0.50)
    );
    println!(
        "| publish → handler p99 | **{:.1} ms** | **{:.1} ms** |",
        single.p(0.99),
        batched.p(0.99)
    );
    println!(
        "| publish → handler max | {:.1} ms | {:.1} ms |",
        single.p(1.0),
        batched.p(1.0)
    );
    println!();
    println!(
        "steady {:.0} events/s offered (10 per transaction): publish → handler p50 {:.1} ms, **p99 {:.1} ms**, max {:.1} ms",
        paced.rate(),
        paced.p(0.50),
        paced.p(0.99),
        paced.p(1.0)
    );
    println!();
    println!(
        "| write transaction ({rounds} of each, alternating) | alone: median / mean | with an event published in it: median / mean | added (median) |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for (rows, (plain_median, plain_mean), (pub_median, pub_mean)) in overhead {
        println!(
            "| insert {rows} row(s) | {:.3} / {:.3} ms | {:.3} / {:.3} ms | **{:+.1}%** |",
            plain_median * 1e3,
            plain_mean * 1e3,
            pub_median * 1e3,
            pub_mean * 1e3,
            (pub_median / plain_median - 1.0) * 100.0
        );
    }
    db.close().await;
    if label == "PostgreSQL" {
        backend.drop_all().await?;
    }
    Ok(())
}

/// (median, mean) of durations in seconds.
fn summary(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    (percentile(&times, 0.5), mean)
}

/// Seconds one write transaction takes: insert `rows` rows, optionally publish
/// an event in the same transaction, commit.
async fn write_once(
    db: &Db,
    rows: usize,
    topic: Option<&platform::pubsub::Topic<Event>>,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tx = db.begin().await?;
    for _ in 0..rows {
        let id = uuid::Uuid::now_v7().to_string();
        platform::with_tx!(tx, |conn| {
            sqlx::query("INSERT INTO bench_writes (id, body) VALUES ($1, $2)")
                .bind(&id)
                .bind("a row of the size of a typical write, give or take")
                .execute(conn)
                .await
                .map(|_| ())
        })?;
    }
    if let Some(topic) = topic {
        topic
            .publish_in(&mut tx, &Event { sent_ns: now_ns() })
            .await?;
    }
    tx.commit().await?;
    Ok(started.elapsed().as_secs_f64())
}
