//! Pub/sub through the real app: the outbox, retries, dead letters, the
//! admin API, exactly-once effects, and events that outlive a crash.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kitemate::App;
use kitemate::auth::{USER_SIGNED_UP, UserSignedUp};
use platform::clock::Clock;
use platform::pubsub::{Message, RetryPolicy, SubscriptionConfig, TopicDecl};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::support::{Kind, TestApp, TestResult, eventually, test_config};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Note {
    text: String,
}

static NOTES: TopicDecl<Note> = TopicDecl::new("test-notes");
static LEDGER: TopicDecl<Note> = TopicDecl::exactly_once("test-ledger");

type Seen<T> = Arc<Mutex<Vec<T>>>;

fn seen<T>() -> Seen<T> {
    Arc::new(Mutex::new(Vec::new()))
}

/// A handler that keeps every event it is given in `sink`.
fn record_into<T: Send + 'static>(
    sink: Seen<T>,
) -> impl Fn(Message<T>) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>
+ Send
+ Sync
+ 'static {
    move |msg| {
        let sink = Arc::clone(&sink);
        Box::pin(async move {
            sink.lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .push(msg.event);
            Ok(())
        })
    }
}

fn snapshot<T: Clone>(seen: &Seen<T>) -> Vec<T> {
    seen.lock().map(|v| v.clone()).unwrap_or_default()
}

fn quick_retries(max_attempts: u32) -> SubscriptionConfig {
    SubscriptionConfig {
        retry: RetryPolicy {
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            max_attempts,
        },
        ..SubscriptionConfig::default()
    }
}

async fn signup_publishes_user_signed_up(kind: Kind) -> TestResult {
    let transport = if matches!(kind, Kind::Nats { .. }) {
        "nats"
    } else {
        "embedded"
    };
    let got: Seen<UserSignedUp> = seen();
    let sink = Arc::clone(&got);
    let app = TestApp::spawn_custom(
        kind,
        |_| {},
        move |app| {
            app.pubsub.subscribe(
                &USER_SIGNED_UP,
                "test-welcome",
                SubscriptionConfig::default(),
                record_into(Arc::clone(&sink)),
            )
        },
    )
    .await?;
    app.signup("asha").await?;
    eventually(5, || async { Ok(!snapshot(&got).is_empty()) }).await?;
    let events = snapshot(&got);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].username, "asha");

    // A refused signup publishes nothing.
    app.post("/auth/signup", serde_json::json!({ "email": "asha@example.com", "password": "river otter lantern", "username": "asha2" })).await?;
    let admin = app.admin("root").await?;
    eventually(5, || async { Ok(snapshot(&got).len() == 2) }).await?;
    // Handled messages are acknowledged in batches a moment later.
    let settled = |o: &serde_json::Value| {
        o["subscriptions"].as_array().is_some_and(|subs| {
            subs.iter()
                .filter(|s| s["topic"] == "user-signed-up")
                .all(|s| s["backlog"] == 0 && s["delivered"] == 2)
        })
    };
    eventually(5, || async {
        Ok(settled(
            &app.get("/admin/pubsub", Some(&admin)).await?.json(),
        ))
    })
    .await?;
    let overview = app.get("/admin/pubsub", Some(&admin)).await?.json();
    assert_eq!(overview["transport"], transport);
    let names: Vec<_> = overview["subscriptions"]
        .as_array()
        .map(|subs| {
            subs.iter()
                .filter(|s| s["topic"] == "user-signed-up")
                .map(|s| s["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        ["admin-signups", "test-welcome", "widgets-starter"],
        "{overview}"
    );
    let sub = overview["subscriptions"]
        .as_array()
        .and_then(|subs| subs.iter().find(|s| s["name"] == "test-welcome"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(sub["topic"], "user-signed-up");
    assert_eq!(
        sub["delivered"], 2,
        "asha and root, not the refused asha2: {overview}"
    );
    let topics = overview["topics"].as_array().cloned().unwrap_or_default();
    let signed_up = topics
        .iter()
        .find(|t| t["name"] == "user-signed-up")
        .cloned()
        .unwrap_or_default();
    assert_eq!(signed_up["database"], "auth", "{overview}");

    // The app's own subscription counted both accounts for administrators.
    let stats = app.get("/admin/signups", Some(&admin)).await?.json();
    assert_eq!(stats["total"], 2, "{stats}");
    assert_eq!(stats["days"][0]["signups"], 2);
    let user = app.signup("ravi").await?;
    let denied = app.get("/admin/signups", Some(&user)).await?;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let bad = app.get("/admin/signups?days=0", Some(&admin)).await?;
    assert_eq!(bad.message(), "days: must be between 1 and 366");
    app.stop().await
}

async fn failures_retry_then_dead_letter_and_admins_redeliver(kind: Kind) -> TestResult {
    let broken = Arc::new(AtomicBool::new(true));
    let got: Seen<Note> = seen();
    let (flag, sink) = (Arc::clone(&broken), Arc::clone(&got));
    let app = TestApp::spawn_custom(
        kind,
        |_| {},
        move |app| {
            app.pubsub.topic(&NOTES, &app.databases()[0])?;
            app.pubsub
                .subscribe(&NOTES, "test-flaky", quick_retries(3), move |msg| {
                    let (flag, sink) = (Arc::clone(&flag), Arc::clone(&sink));
                    async move {
                        anyhow::ensure!(!flag.load(Ordering::SeqCst), "downstream is down");
                        sink.lock()
                            .map_err(|_| anyhow::anyhow!("poisoned"))?
                            .push(msg.event);
                        Ok(())
                    }
                })
        },
    )
    .await?;
    let admin = app.admin("root").await?;
    let user = app.signup("asha").await?;
    let topic = app.app.pubsub.topic(&NOTES, &app.app.databases()[0])?;
    topic
        .publish(&Note {
            text: "hello".into(),
        })
        .await?;

    let overview =
        || async { Ok::<_, anyhow::Error>(app.get("/admin/pubsub", Some(&admin)).await?.json()) };
    let find = |o: &serde_json::Value| {
        o["subscriptions"]
            .as_array()
            .and_then(|subs| subs.iter().find(|s| s["name"] == "test-flaky").cloned())
            .unwrap_or_default()
    };
    eventually(10, || async {
        Ok(find(&overview().await?)["deadLetters"] == 1)
    })
    .await?;
    let sub = find(&overview().await?);
    assert_eq!(sub["failed"], 3, "three attempts: {sub}");
    assert_eq!(sub["backlog"], 0);
    assert!(snapshot(&got).is_empty());

    let path = "/admin/pubsub/test-flaky/dead-letters";
    let letters = app.get(path, Some(&admin)).await?.json();
    assert_eq!(letters["deadLetters"][0]["attempts"], 3);
    assert_eq!(letters["deadLetters"][0]["lastError"], "downstream is down");
    assert_eq!(letters["deadLetters"][0]["event"]["text"], "hello");

    // Only administrators see or touch any of it.
    for (method, path) in [
        (Method::GET, "/admin/pubsub"),
        (Method::GET, path),
        (
            Method::POST,
            "/admin/pubsub/test-flaky/dead-letters/redeliver",
        ),
    ] {
        let reply = app.call(method.clone(), path, None, Some(&user)).await?;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(reply.code(), "permission_denied");
        assert_eq!(
            app.call(method, path, None, None).await?.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let missing = app
        .call(
            Method::POST,
            "/admin/pubsub/nope/dead-letters/redeliver",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    broken.store(false, Ordering::SeqCst);
    let again = app
        .call(
            Method::POST,
            "/admin/pubsub/test-flaky/dead-letters/redeliver",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(again.json()["redelivered"], 1);
    eventually(5, || async { Ok(snapshot(&got).len() == 1) }).await?;
    eventually(5, || async {
        Ok(find(&overview().await?)["delivered"] == 1)
    })
    .await?;
    let sub = find(&overview().await?);
    assert_eq!(
        (sub["deadLetters"].clone(), sub["delivered"].clone()),
        (0.into(), 1.into())
    );
    let metrics = app.metrics().await?;
    assert!(
        metrics.contains(r#"kitemate_pubsub_failed_total{subscription="test-flaky"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"kitemate_pubsub_dead_lettered_total{subscription="test-flaky"} 1"#)
    );
    assert!(metrics.contains(r#"kitemate_pubsub_published_total{topic="test-notes"} 1"#));
    app.stop().await
}

/// A publish whose transaction rolls back is never delivered; one that
/// committed is delivered even when the process died before delivering it.
async fn committed_events_survive_a_crash_and_rolled_back_ones_never_exist(
    kind: Kind,
) -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = test_config(&kind, dir.path());
    let subscribe = |app: &App, sink: Seen<Note>| -> anyhow::Result<()> {
        app.pubsub.topic(&NOTES, &app.databases()[0])?;
        app.pubsub.subscribe(
            &NOTES,
            "test-durable",
            SubscriptionConfig::default(),
            record_into(sink),
        )
    };

    // The first process publishes and "crashes" before its dispatchers ever run.
    let first_seen = seen();
    let first = App::build(config.clone(), Clock::system()).await?;
    subscribe(&first, Arc::clone(&first_seen))?;
    let topic = first.pubsub.topic(&NOTES, &first.databases()[0])?;
    let mut rolled_back = first.databases()[0].begin().await?;
    topic
        .publish_in(
            &mut rolled_back,
            &Note {
                text: "never".into(),
            },
        )
        .await?;
    drop(rolled_back);
    let mut tx = first.databases()[0].begin().await?;
    topic
        .publish_in(
            &mut tx,
            &Note {
                text: "kept".into(),
            },
        )
        .await?;
    tx.commit().await?;
    first.close().await;
    assert!(snapshot(&first_seen).is_empty());

    // The next process on the same databases delivers what committed.
    let second_seen: Seen<Note> = seen();
    let second = App::build(config, Clock::system()).await?;
    subscribe(&second, Arc::clone(&second_seen))?;
    second.start_background();
    eventually(5, || async { Ok(!snapshot(&second_seen).is_empty()) }).await?;
    second.pubsub.drained(Duration::from_secs(5)).await?;
    assert_eq!(
        snapshot(&second_seen),
        vec![Note {
            text: "kept".into()
        }]
    );
    second.close().await;
    second.pubsub.drop_streams().await?;
    second.backend.drop_all().await
}

/// A handler slower than its ack deadline gets the message twice: an
/// at-least-once handler sees both deliveries. An exactly-once handler whose
/// message comes again after its effects committed (a crash between commit
/// and acknowledgement) does not apply them again.
async fn exactly_once_effects_apply_once_when_a_message_comes_twice(kind: Kind) -> TestResult {
    let slow = SubscriptionConfig {
        ack_deadline: Duration::from_millis(150),
        ..quick_retries(5)
    };
    let plain_runs = Arc::new(AtomicU32::new(0));
    let once_runs = Arc::new(AtomicU32::new(0));
    let (plain, once) = (Arc::clone(&plain_runs), Arc::clone(&once_runs));
    let app = TestApp::spawn_custom(
        kind,
        |_| {},
        move |app| {
            let db = app.databases()[0].clone();
            app.pubsub.topic(&NOTES, &db)?;
            app.pubsub.topic(&LEDGER, &db)?;
            app.pubsub
                .subscribe(&NOTES, "test-slow-plain", slow, move |msg| {
                    let plain = Arc::clone(&plain);
                    async move {
                        plain.fetch_add(1, Ordering::SeqCst);
                        if msg.attempt == 1 {
                            tokio::time::sleep(Duration::from_millis(900)).await;
                        }
                        Ok(())
                    }
                })?;
            app.pubsub.subscribe_exactly_once(
                &LEDGER,
                "test-once",
                &db,
                SubscriptionConfig::default(),
                move |msg, mut tx| {
                    let once = Arc::clone(&once);
                    async move {
                        once.fetch_add(1, Ordering::SeqCst);
                        platform::with_tx!(tx, |conn| {
                            sqlx::query("INSERT INTO test_effects (message_id) VALUES ($1)")
                                .bind(&msg.id)
                                .execute(conn)
                                .await
                                .map(|r| r.rows_affected())
                        })?;
                        Ok(tx)
                    }
                },
            )
        },
    )
    .await?;
    let db = app.app.databases()[0].clone();
    let pubsub = &app.app.pubsub;
    pubsub
        .topic(&NOTES, &db)?
        .publish(&Note { text: "a".into() })
        .await?;
    pubsub.drained(Duration::from_secs(10)).await?;
    assert!(
        plain_runs.load(Ordering::SeqCst) >= 2,
        "the lease ran out, so the message came again"
    );

    platform::with_db!(db, |pool| {
        sqlx::query("CREATE TABLE test_effects (message_id TEXT NOT NULL)")
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    let id = pubsub
        .topic(&LEDGER, &db)?
        .publish(&Note { text: "b".into() })
        .await?;
    pubsub.drained(Duration::from_secs(10)).await?;
    assert_eq!(once_runs.load(Ordering::SeqCst), 1);
    // The acknowledgement is lost: the same message is offered again.
    platform::with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO platform_outbox (message_id, subscription, topic, payload, published_at, next_attempt_at) \
             VALUES ($1, 'test-once', 'test-ledger', '{\"text\":\"b\"}', 0, 0)",
        )
        .bind(&id)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    pubsub.drained(Duration::from_secs(10)).await?;
    let effects: i64 = platform::with_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM test_effects")
            .fetch_one(pool)
            .await
    })?;
    assert_eq!(effects, 1, "exactly-once: one effect");
    assert_eq!(
        once_runs.load(Ordering::SeqCst),
        1,
        "the second delivery found the dedupe record"
    );
    app.stop().await
}

/// An exactly-once subscription that applies messages in groups: a burst
/// is applied with every message's effect once, and a message whose handler
/// fails does not take the rest of its group with it (they run alone).
async fn grouped_messages_apply_once_and_a_bad_one_fails_alone(kind: Kind) -> TestResult {
    let grouped = SubscriptionConfig {
        group: 32,
        ..quick_retries(2)
    };
    let app = TestApp::spawn_custom(
        kind,
        |_| {},
        move |app| {
            let db = app.databases()[0].clone();
            app.pubsub.topic(&LEDGER, &db)?;
            app.pubsub.subscribe_exactly_once(
                &LEDGER,
                "test-grouped",
                &db,
                grouped,
                |msg, mut tx| async move {
                    anyhow::ensure!(msg.event.text != "bad", "a bad message");
                    platform::with_tx!(tx, |conn| {
                        sqlx::query("INSERT INTO test_grouped (text) VALUES ($1)")
                            .bind(&msg.event.text)
                            .execute(conn)
                            .await
                            .map(drop)
                    })?;
                    Ok(tx)
                },
            )
        },
    )
    .await?;
    let db = app.app.databases()[0].clone();
    platform::with_db!(db, |pool| {
        sqlx::query("CREATE TABLE test_grouped (text TEXT NOT NULL)")
            .execute(pool)
            .await
            .map(drop)
    })?;
    let topic = app.app.pubsub.topic(&LEDGER, &db)?;
    let sends = (0..300).map(|n| {
        let text = if n == 150 {
            "bad".to_string()
        } else {
            format!("n{n}")
        };
        let topic = topic.clone();
        async move { topic.publish(&Note { text }).await }
    });
    for sent in futures_util::future::join_all(sends).await {
        sent?;
    }
    let applied = || async {
        platform::with_db!(db, |pool| {
            sqlx::query_scalar::<_, String>("SELECT text FROM test_grouped ORDER BY text")
                .fetch_all(pool)
                .await
        })
    };
    // Settled: the bad one dead, the rest applied (through NATS they finish
    // in any order).
    eventually(60, || async {
        let dead = app.app.pubsub.dead_letters("test-grouped", 10).await?;
        Ok(dead.is_some_and(|d| d.len() == 1) && applied().await?.len() >= 299)
    })
    .await?;
    app.app.pubsub.drained(Duration::from_secs(10)).await?;
    let texts = applied().await?;
    let distinct: std::collections::BTreeSet<&String> = texts.iter().collect();
    assert_eq!(texts.len(), 299, "each good message once");
    assert_eq!(distinct.len(), 299);
    assert!(!texts.iter().any(|t| t == "bad"));
    app.stop().await
}

crate::all_transports!(
    grouped_messages_apply_once_and_a_bad_one_fails_alone,
    signup_publishes_user_signed_up,
    failures_retry_then_dead_letter_and_admins_redeliver,
    committed_events_survive_a_crash_and_rolled_back_ones_never_exist,
    exactly_once_effects_apply_once_when_a_message_comes_twice,
);
