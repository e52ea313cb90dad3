//! What the LLM path adds to the time to first token: a question streamed
//! through `POST /chat/query` (`Accept: text/event-stream`) against the fake
//! OpenAI-compatible server of the tests, which waits `DELAY_MS` (50) before
//! its first piece, paired with the same completion asked of the fake
//! server directly. Both are timed to their first piece of text.
//!
//! `cargo run --release -p kitemate --example llm_ttft` (SQLite in a
//! temporary folder); `RUNS` (300) pairs.

#[path = "../tests/it/support/fake_llm.rs"]
#[expect(dead_code, reason = "the tests use more of the fake than this does")]
mod fake_llm;

use std::time::{Duration, Instant};

use kitemate::{App, Config};
use platform::clock::Clock;
use serde_json::json;

use fake_llm::{FakeLlm, Step};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `req` and waits for the first body bytes holding `marker`.
async fn first_piece(req: reqwest::RequestBuilder, marker: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut res = req.send().await?;
    anyhow::ensure!(res.status().is_success(), "status {}", res.status());
    let mut seen = String::new();
    while let Some(chunk) = res.chunk().await? {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains(marker) {
            let at = started.elapsed();
            // Read the rest, so the next run starts clean.
            while res.chunk().await?.is_some() {}
            return Ok(at);
        }
    }
    anyhow::bail!("no {marker:?} in {seen:?}")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).copied().unwrap_or(f64::NAN)
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs = env("RUNS", 300) as usize;
    let delay = Duration::from_millis(env("DELAY_MS", 50));
    let fake = FakeLlm::start().await?;
    let dir = tempfile::tempdir()?;
    let secrets = dir.path().join("secrets.env");
    std::fs::write(&secrets, "LLM_API_KEY=sk-bench\n")?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        secrets_file: Some(secrets),
        ..Config::default()
    };
    config.log.level = "warn".into();
    config.rate_limit.enabled = false;
    config.listen = "127.0.0.1:0".parse()?;
    config.llm.base_url = fake.base_url();
    config.llm.model = "fake-model".into();
    let app = App::build(config, Clock::system()).await?;
    app.start_background();
    let listener = tokio::net::TcpListener::bind(app.config.listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = app.router()?;
    tokio::spawn(async move { axum::serve(listener, router).await });

    let http = reqwest::Client::new();
    let signup = http
        .post(format!("{base}/auth/signup"))
        .json(&json!({ "email": "bench@example.com", "password": "correct horse battery staple", "username": "bench" }))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let token = signup["token"].as_str().unwrap_or_default().to_string();
    app.subscriptions
        .grant("bench@example.com", kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;

    let pieces = || {
        vec![
            "Your portfolio ".to_string(),
            "is worth ₹1,000.".to_string(),
        ]
    };
    let mut direct = Vec::with_capacity(runs);
    let mut through = Vec::with_capacity(runs);
    for i in 0..runs + 20 {
        fake.then(Step::Slow(delay, pieces()));
        let alone = first_piece(
            http.post(format!("{}/chat/completions", fake.base_url()))
                .json(&json!({ "model": "fake-model", "messages": [], "stream": true })),
            "\"content\"",
        )
        .await?;
        fake.then(Step::Slow(delay, pieces()));
        let app_ttft = first_piece(
            http.post(format!("{base}/chat/query"))
                .bearer_auth(&token)
                .header("accept", "text/event-stream")
                .json(&json!({ "message": "what is my portfolio worth?" })),
            "event: delta",
        )
        .await?;
        // The first twenty warm up connections and caches.
        if i >= 20 {
            direct.push(alone.as_secs_f64() * 1000.0);
            through.push(app_ttft.as_secs_f64() * 1000.0);
        }
    }
    let mut added: Vec<f64> = through.iter().zip(&direct).map(|(t, d)| t - d).collect();
    for v in [&mut direct, &mut through, &mut added] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "## time to first token, fake server waiting {} ms, {runs} pairs",
        delay.as_millis()
    );
    println!();
    println!("| | p50 | p90 | p99 |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, v) in [
        ("fake server alone", &direct),
        ("through POST /chat/query (SSE)", &through),
        ("**added by KiteMate**", &added),
    ] {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
            percentile(v, 0.5),
            percentile(v, 0.9),
            percentile(v, 0.99)
        );
    }
    app.close().await;
    Ok(())
}
