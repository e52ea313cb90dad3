//! The upkeep jobs, each by its effect: expired Zerodha login states and
//! chat stream tickets deleted, uploaded files past their retention or
//! pointed at by nothing deleted (the imports stay), old notices pruned.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};

use crate::portfolio::imports::upload;
use crate::support::{Kind, TestApp, TestResult, use_fake_kite};

async fn run(app: &TestApp, name: &str) -> anyhow::Result<()> {
    let (run, handle) = app.app.cron.run_now(name).await?.expect("the job");
    handle.await?;
    let run = app.app.cron.run(&run.id).await?.expect("the run");
    anyhow::ensure!(run.outcome == "succeeded", "{run:?}");
    Ok(())
}

async fn count(app: &TestApp, database: &str, table: &str) -> anyhow::Result<i64> {
    let db = app
        .app
        .databases()
        .iter()
        .find(|db| db.name() == database)
        .cloned()
        .expect("the database");
    let sql = format!("SELECT COUNT(*) FROM {table}");
    Ok(platform::with_db!(db, |pool| sqlx::query_scalar(&sql)
        .fetch_one(pool)
        .await)?)
}

async fn expired_logins_and_tickets_are_deleted(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        use_fake_kite(c, "http://127.0.0.1:9", "key", "secret").expect("kite settings")
    })
    .await?;
    let asha = app.signup("asha").await?;
    let initiated = app.get("/auth/zerodha/initiate", Some(&asha)).await?;
    assert_eq!(initiated.status, StatusCode::OK, "{initiated:?}");
    let ticket = app
        .call(Method::POST, "/chat/stream/ticket", None, Some(&asha))
        .await?;
    assert_eq!(ticket.status, StatusCode::OK, "{ticket:?}");
    assert_eq!(count(&app, "auth", "zerodha_states").await?, 1);
    assert_eq!(count(&app, "chat", "stream_tickets").await?, 1);

    run(&app, "tidy-logins").await?;
    assert_eq!(
        count(&app, "auth", "zerodha_states").await?,
        1,
        "not expired yet"
    );
    assert_eq!(
        count(&app, "chat", "stream_tickets").await?,
        1,
        "not expired yet"
    );
    app.clock.advance(TimeDelta::minutes(11));
    run(&app, "tidy-logins").await?;
    assert_eq!(count(&app, "auth", "zerodha_states").await?, 0);
    assert_eq!(count(&app, "chat", "stream_tickets").await?, 0);
    app.stop().await
}

const BOOK: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n\
                    ITC,INE154A01025,2024-07-08,NSE,EQ,EQ,buy,false,100,430.00,802,902,2024-07-08T10:00:00\n";

async fn old_and_orphan_files_are_deleted_and_imports_stay(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let imported = upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        BOOK.as_bytes().to_vec(),
    )
    .await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");
    let bucket = app.app.objects.require("imports")?;
    let kept: Vec<String> = bucket.list("").await?.into_iter().map(|e| e.key).collect();
    assert_eq!(kept.len(), 1);
    // A file whose import never committed.
    bucket
        .upload(
            "stray/01.csv",
            bytes::Bytes::from_static(b"a,b\n"),
            Some("text/csv"),
        )
        .await?;

    // A day on: the stray goes, the import's file stays.
    app.clock.advance(TimeDelta::hours(25));
    run(&app, "sweep-orphan-files").await?;
    run(&app, "expire-import-files").await?;
    let left: Vec<String> = bucket.list("").await?.into_iter().map(|e| e.key).collect();
    assert_eq!(left, kept);

    // Past the retention (365 days): the file goes, the import and its trades stay.
    app.clock.advance(TimeDelta::days(365));
    run(&app, "expire-import-files").await?;
    assert!(bucket.list("").await?.is_empty());
    // (Asha's session has long expired: the tables tell.)
    assert_eq!(count(&app, "portfolio", "imports").await?, 1);
    assert_eq!(count(&app, "portfolio", "trade_blocks").await?, 1);
    app.stop().await
}

async fn old_notices_are_pruned(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let bala = app.signup("bala").await?;
    let followed = app
        .call(Method::PUT, "/profiles/asha/follow", None, Some(&bala))
        .await?;
    assert!(followed.status.is_success(), "{followed:?}");
    let page = app.get("/notifications", Some(&asha)).await?.json();
    assert_eq!(
        page["notifications"].as_array().map(Vec::len),
        Some(1),
        "{page}"
    );
    // (Sessions expire long before notices: the table tells.)
    app.clock.advance(TimeDelta::days(100));
    run(&app, "prune-notices").await?;
    assert_eq!(
        count(&app, "social", "notifications").await?,
        1,
        "unread notices are kept a year"
    );
    app.clock.advance(TimeDelta::days(300));
    run(&app, "prune-notices").await?;
    assert_eq!(count(&app, "social", "notifications").await?, 0);
    app.stop().await
}

crate::both_backends!(
    expired_logins_and_tickets_are_deleted,
    old_and_orphan_files_are_deleted_and_imports_stay,
    old_notices_are_pruned,
);
