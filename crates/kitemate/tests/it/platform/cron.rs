//! Cron through the real app: the product's jobs, the admin API and the
//! shell, one run per tick across replicas, no overlapping runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono_tz::Tz;
use kitemate::App;
use platform::clock::Clock;
use platform::cron::Schedule;
use reqwest::{Method, StatusCode};

use crate::support::{
    Kind, TestApp, TestResult, eventually, kitemate, same_databases, test_config,
};

#[test]
fn cron_list_shows_each_job_with_its_next_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = kitemate()
        .env("KITEMATE_DATA_DIR", dir.path())
        .args(["cron", "list"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let line = text
        .lines()
        .find(|l| l.starts_with("tidy-sessions"))
        .unwrap_or_default();
    assert!(line.contains("every 1h"), "{text}");
    assert!(line.contains("UTC"), "{text}");
    assert!(
        line.contains(":00:00"),
        "hourly ticks fall on the hour: {text}"
    );
    assert!(line.ends_with("never"), "no run yet: {text}");
    let refresh = text
        .lines()
        .find(|l| l.starts_with("daily-refresh"))
        .unwrap_or_default();
    assert!(refresh.contains("cron 0 18 * * 1-5"), "{text}");
    assert!(refresh.contains("Asia/Kolkata"), "{text}");
    assert!(refresh.contains("T18:00:00+05:30"), "{text}");
    Ok(())
}

async fn cron_run_from_the_shell(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd.args(["cron", "run", "tidy-sessions"]).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout)?.starts_with("tidy-sessions: succeeded"));
    // The list shows how the last run went.
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let list = String::from_utf8(cmd.args(["cron", "list"]).output()?.stdout)?;
    let line = list
        .lines()
        .find(|l| l.starts_with("tidy-sessions"))
        .unwrap_or_default();
    assert!(line.contains("succeeded at "), "{list}");
    let runs = app
        .app
        .cron
        .runs("tidy-sessions", 10)
        .await?
        .unwrap_or_default();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].manual);
    let mut cmd = kitemate();
    cmd.env("KITEMATE_DATA_DIR", app.dir.path());
    let out = cmd.args(["cron", "run", "nope"]).output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("no cron job named nope"));
    app.stop().await
}

async fn admins_list_run_and_inspect_jobs(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let admin = app.admin("root").await?;
    let user = app.signup("asha").await?;
    let jobs = app.get("/admin/cron", Some(&admin)).await?.json();
    let names: Vec<_> = jobs["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| j["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            "daily-refresh",
            "expire-import-files",
            "live-prices",
            "prune-notices",
            "prune-records",
            "reconcile-subscriptions",
            "subscription-lapses",
            "sweep-orphan-files",
            "tidy-logins",
            "tidy-mcp",
            "tidy-sessions",
            "zerodha-reauth-sweep",
        ]
    );
    let job = |name: &str| {
        jobs["jobs"]
            .as_array()
            .and_then(|all| all.iter().find(|j| j["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    let prune = job("prune-records");
    assert_eq!(prune["schedule"], "cron 30 3 * * *");
    assert_eq!(prune["timeZone"], "Asia/Kolkata");
    assert!(
        prune["nextRunLocal"]
            .as_str()
            .unwrap_or_default()
            .contains("T03:30:00+05:30")
    );
    assert_eq!(prune["lastRun"], serde_json::Value::Null, "never run yet");
    let tidy = job("tidy-sessions");
    assert_eq!(tidy["schedule"], "every 1h");
    assert_eq!(tidy["timeZone"], "UTC");

    let started = app
        .call(
            Method::POST,
            "/admin/cron/tidy-sessions/run",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    assert_eq!(started.json()["manual"], true);
    eventually(2, || async {
        let runs = app
            .get("/admin/cron/tidy-sessions/runs", Some(&admin))
            .await?
            .json();
        Ok(runs["runs"][0]["outcome"] != "running")
    })
    .await?;
    let runs = app
        .get("/admin/cron/tidy-sessions/runs", Some(&admin))
        .await?
        .json();
    assert_eq!(runs["runs"][0]["outcome"], "succeeded");

    for (method, path) in [
        (Method::GET, "/admin/cron"),
        (Method::POST, "/admin/cron/tidy-sessions/run"),
        (Method::GET, "/admin/cron/tidy-sessions/runs"),
    ] {
        let reply = app.call(method, path, None, Some(&user)).await?;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    let missing = app
        .call(Method::POST, "/admin/cron/nope/run", None, Some(&admin))
        .await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.stop().await
}

/// Two replicas on the same databases, the same job every second: each tick
/// runs once, whichever replica takes it.
async fn each_tick_runs_once_across_replicas(kind: Kind) -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = test_config(&kind, dir.path());
    let calls = Arc::new(AtomicU32::new(0));
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let app = App::build(config.clone(), Clock::system()).await?;
        let calls = Arc::clone(&calls);
        app.cron.add(
            "test-tick",
            "Counts",
            Schedule::every("1s")?,
            Tz::UTC,
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            },
        )?;
        app.start_background();
        replicas.push(app);
    }
    // However slow the machine: wait for three runs, stop, and wait for
    // the last run to be recorded as finished.
    let finished = || async {
        let runs = replicas[0]
            .cron
            .runs("test-tick", 100)
            .await?
            .unwrap_or_default();
        anyhow::Ok(runs.iter().filter(|r| r.finished_at.is_some()).count())
    };
    eventually(30, || async { Ok(finished().await? >= 3) }).await?;
    for app in &replicas {
        app.cron.stop();
    }
    eventually(10, || async {
        let runs = replicas[0]
            .cron
            .runs("test-tick", 100)
            .await?
            .unwrap_or_default();
        Ok(runs.iter().all(|r| r.finished_at.is_some())
            && calls.load(Ordering::SeqCst) as usize == runs.len())
    })
    .await?;
    let runs = replicas[0]
        .cron
        .runs("test-tick", 100)
        .await?
        .unwrap_or_default();
    let mut ticks: Vec<_> = runs.iter().map(|r| r.tick_at).collect();
    ticks.dedup();
    assert!(runs.len() >= 3, "about one run a second: {runs:?}");
    assert_eq!(ticks.len(), runs.len(), "no tick ran twice: {runs:?}");
    assert_eq!(calls.load(Ordering::SeqCst) as usize, runs.len());
    assert!(runs.iter().all(|r| r.outcome == "succeeded"));
    for app in &replicas {
        app.close().await;
    }
    replicas[0].backend.drop_all().await
}

/// A run longer than the interval is not joined by the next tick's run.
async fn a_long_run_is_not_started_twice(kind: Kind) -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = App::build(test_config(&kind, dir.path()), Clock::system()).await?;
    app.cron.add(
        "test-slow",
        "Sleeps",
        Schedule::every("1s")?,
        Tz::UTC,
        || async {
            tokio::time::sleep(Duration::from_millis(2200)).await;
            Ok(())
        },
    )?;
    app.start_background();
    // Two runs, however long the machine takes to get there.
    eventually(30, || async {
        Ok(app
            .cron
            .runs("test-slow", 100)
            .await?
            .unwrap_or_default()
            .len()
            >= 2)
    })
    .await?;
    app.cron.stop();
    let mut runs = app.cron.runs("test-slow", 100).await?.unwrap_or_default();
    runs.reverse();
    for pair in runs.windows(2) {
        let finished = pair[0].finished_at.unwrap_or(pair[0].started_at);
        assert!(pair[1].started_at >= finished, "runs overlapped: {runs:?}");
        // A run lasts 2.2 s: the two ticks during it were skipped, not
        // queued, so the next run's tick is at least two seconds later.
        assert!(
            (pair[1].tick_at - pair[0].tick_at).num_milliseconds() >= 2000,
            "ticks during a run are skipped: {runs:?}"
        );
    }
    app.close().await;
    app.backend.drop_all().await
}

/// A replica that dies in the middle of a run holds up at most one tick: once
/// its heartbeat is stale, the run is marked abandoned and another replica
/// takes the next tick.
async fn a_dead_replicas_ticks_are_taken_over(kind: Kind) -> TestResult {
    use platform::cron::Cron;
    let dir = tempfile::tempdir()?;
    let config = test_config(&kind, dir.path());
    let timing = (Duration::from_millis(100), Duration::from_millis(700));

    // Replica A runs in a runtime of its own, starts a run that never ends,
    // and dies with that runtime: its tasks, heartbeat included, just stop.
    let dying = config.clone();
    let first_tick =
        std::thread::spawn(move || -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let app = App::build(dying, Clock::system()).await?;
                let cron = Cron::with_timing(
                    app.databases()[1].clone(),
                    Clock::system(),
                    timing.0,
                    timing.1,
                );
                cron.add(
                    "test-handover",
                    "Never ends on A",
                    Schedule::every("1s")?,
                    Tz::UTC,
                    || async {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    },
                )?;
                cron.start();
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if let Some(run) = cron
                        .runs("test-handover", 1)
                        .await?
                        .unwrap_or_default()
                        .first()
                    {
                        return Ok(run.tick_at);
                    }
                }
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("replica A panicked"))??;

    // Replica B was never told; it just keeps to the schedule.
    let app = App::build(config, Clock::system()).await?;
    let cron = Cron::with_timing(
        app.databases()[1].clone(),
        Clock::system(),
        timing.0,
        timing.1,
    );
    cron.add(
        "test-handover",
        "Quick on B",
        Schedule::every("1s")?,
        Tz::UTC,
        || async { Ok(()) },
    )?;
    let b_started = chrono::Utc::now();
    cron.start();
    eventually(30, || async {
        let runs = cron.runs("test-handover", 100).await?.unwrap_or_default();
        Ok(runs.iter().any(|r| r.outcome == "succeeded"))
    })
    .await?;
    cron.stop();
    let mut runs = cron.runs("test-handover", 100).await?.unwrap_or_default();
    runs.reverse();
    assert_eq!(runs[0].tick_at, first_tick);
    assert_eq!(runs[0].outcome, "abandoned", "{runs:?}");
    let taken_over = runs
        .iter()
        .find(|r| r.outcome == "succeeded")
        .map(|r| r.tick_at);
    // Measured from when B could first have run (it may start late on a
    // busy machine): it takes the first tick or the one after.
    let from = first_tick.max(b_started);
    let gap = taken_over.map(|t| (t - from).num_milliseconds());
    assert!(
        gap.is_some_and(|ms| ms <= 2000),
        "B ran the next tick or the one after (at most one missed): {runs:?}"
    );
    app.close().await;
    app.backend.drop_all().await
}

/// The nightly job forgets old dedupe records and cron runs, and keeps recent ones.
async fn old_records_are_pruned(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    let auth_db = app.app.databases()[0].clone();
    let jobs_db = app.app.databases()[1].clone();
    for (id, age_days) in [("old", 8), ("recent", 1)] {
        platform::with_db!(auth_db, |pool| {
            sqlx::query("INSERT INTO platform_processed (subscription, message_id, processed_at) VALUES ('s', $1, $2)")
                .bind(id)
                .bind(now - age_days * day)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
    }
    for (id, age_days, outcome) in [("old-run", 31, "succeeded"), ("recent-run", 2, "failed")] {
        platform::with_db!(jobs_db, |pool| {
            sqlx::query(
                "INSERT INTO platform_cron_runs (id, job, tick_at, manual, runner, started_at, heartbeat_at, outcome) \
                 VALUES ($1, 'tidy-sessions', $2, TRUE, 'test', $2, $2, $3)",
            )
            .bind(id)
            .bind(now - age_days * day)
            .bind(outcome)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
    }
    let (_, handle) = app
        .app
        .cron
        .run_now("prune-records")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no job"))?;
    handle.await?;
    let processed: Vec<String> = platform::with_db!(auth_db, |pool| {
        sqlx::query_scalar("SELECT message_id FROM platform_processed")
            .fetch_all(pool)
            .await
    })?;
    assert_eq!(processed, ["recent"]);
    let runs = app
        .app
        .cron
        .runs("tidy-sessions", 10)
        .await?
        .unwrap_or_default();
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["recent-run"]
    );
    let prune = app
        .app
        .cron
        .runs("prune-records", 10)
        .await?
        .unwrap_or_default();
    assert_eq!(prune[0].outcome, "succeeded");
    app.stop().await
}

crate::both_backends!(
    old_records_are_pruned,
    a_dead_replicas_ticks_are_taken_over,
    cron_run_from_the_shell,
    admins_list_run_and_inspect_jobs,
    each_tick_runs_once_across_replicas,
    a_long_run_is_not_started_twice,
);
