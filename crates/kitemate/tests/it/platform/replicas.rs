//! Two `kitemate serve` processes on PostgreSQL, NATS, Redis and S3, as
//! production runs them: each cron tick runs once, each event is handled
//! once per subscription, rate limits are shared, and an object written
//! through one replica is read through the other.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kitemate::Config;
use kitemate::config::DatabaseUrl;
use platform::clock::Clock;
use platform::objects::Objects;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    Kind, TestResult, eventually, fresh_postgres_url, kitemate, redis_url, s3_url, use_s3,
};

struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(config: &Path, data: &Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = kitemate()
            .env("KITEMATE_CONFIG", config)
            .env("KITEMATE_DATA_DIR", data)
            .env("KITEMATE_LISTEN", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    async fn ready(&self, client: &reqwest::Client) -> TestResult {
        eventually(20, || async {
            Ok(client
                .get(self.url("/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()))
        })
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, and a clean exit after draining.
    fn stop(mut self) -> TestResult {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(term.success(), "kill failed");
        let status = self.child.wait()?;
        anyhow::ensure!(status.success(), "replica exited with {status}");
        Ok(())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(req: reqwest::RequestBuilder) -> anyhow::Result<(StatusCode, Value)> {
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_cron_events_limits_and_objects() -> TestResult {
    let (Some(Kind::Nats { database, nats }), Some(redis), Some(s3)) =
        (Kind::nats(), redis_url(), s3_url())
    else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    // One settings file for both, as a deployment would have.
    let mut config = production(&database, &nats, dir.path());
    config.redis_url = DatabaseUrl::new(redis);
    config.redis_prefix = format!("kmt-{}", uuid::Uuid::now_v7().simple());
    use_s3(&mut config, &s3, dir.path())?;
    config.rate_limit.per_ip_per_minute = 60;
    config.rate_limit.burst = 10;
    config
        .cron
        .schedules
        .insert("tidy-sessions".into(), "every 1s".into());
    let toml_path = write_settings(&config, dir.path())?;

    let (a, b) = (
        Replica::start(&toml_path, &dir.path().join("a"))?,
        Replica::start(&toml_path, &dir.path().join("b"))?,
    );
    let client = reqwest::Client::new();
    for replica in [&a, &b] {
        replica.ready(&client).await?;
    }
    let result = exercise(&client, &a, &b, &toml_path).await;
    a.stop()?;
    b.stop()?;
    clean_up(&toml_path).await?;
    result
}

/// Settings on PostgreSQL and NATS, with fresh databases and streams; any
/// local file (a key, say) goes under `dir`.
fn production(database: &str, nats: &str, dir: &Path) -> Config {
    let mut config = Config {
        data_dir: dir.join("shared"),
        database_url: DatabaseUrl::new(fresh_postgres_url(database)),
        nats_url: DatabaseUrl::new(nats),
        nats_prefix: format!("kmt_{}", uuid::Uuid::now_v7().simple()),
        ..Config::default()
    };
    config.log.level = "warn".into();
    config
}

/// `config` as `dir/kitemate.toml`. Each replica gets its own folder and
/// port from the environment, which wins over the file.
fn write_settings(config: &Config, dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("kitemate.toml");
    std::fs::write(&path, toml::to_string(config)?)?;
    Ok(path)
}

/// Drops what replicas on these settings made on the shared servers.
async fn clean_up(settings: &Path) -> TestResult {
    let app = kitemate::App::new(Config::load(settings)?, Clock::system())?;
    app.pubsub.drop_streams().await?;
    app.backend.drop_all().await
}

/// An event whose transaction committed is handled even when the process
/// that published it is killed (SIGKILL) before it could deliver it: here
/// NATS was unreachable, so the event waited in the outbox, and the next
/// process forwards it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_before_a_kill_is_handled_after_restart() -> TestResult {
    let Some(Kind::Nats { database, nats }) = Kind::nats() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let mut config = production(&database, &nats, dir.path());
    config.nats_url = DatabaseUrl::new("nats://127.0.0.1:1");
    let settings = write_settings(&config, dir.path())?;
    let client = reqwest::Client::new();

    let mut first = Replica::start(&settings, &dir.path().join("a"))?;
    first.ready(&client).await?;
    let signup = |replica: &Replica, name: &str| {
        client.post(replica.url("/auth/signup")).json(&json!({
            "email": format!("{name}@example.com"), "password": "river otter lantern", "username": name
        }))
    };
    assert_eq!(call(signup(&first, "asha")).await?.0, StatusCode::CREATED);
    // Long enough for the failed forward to be recorded, releasing the
    // message at once instead of when its lease would run out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.child.kill()?;
    first.child.wait()?;

    config.nats_url = DatabaseUrl::new(nats);
    let settings = write_settings(&config, dir.path())?;
    let second = Replica::start(&settings, &dir.path().join("b"))?;
    second.ready(&client).await?;
    assert_eq!(call(signup(&second, "root")).await?.0, StatusCode::CREATED);
    let grant = kitemate()
        .env("KITEMATE_CONFIG", &settings)
        .args(["users", "grant-admin", "root@example.com"])
        .output()?;
    assert!(
        grant.status.success(),
        "{}",
        String::from_utf8_lossy(&grant.stderr)
    );
    let login = client
        .post(second.url("/auth/login"))
        .json(&json!({ "email": "root@example.com", "password": "river otter lantern" }));
    let admin = call(login).await?.1["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let result = eventually(20, || async {
        let stats = call(client.get(second.url("/admin/signups")).bearer_auth(&admin))
            .await?
            .1;
        Ok(stats["total"] == 2)
    })
    .await;
    second.stop()?;
    clean_up(&settings).await?;
    result
}

async fn exercise(
    client: &reqwest::Client,
    a: &Replica,
    b: &Replica,
    toml_path: &Path,
) -> TestResult {
    // Accounts made through either replica land in one database.
    let signup = |replica: &Replica, name: &str| {
        client.post(replica.url("/auth/signup")).json(&json!({
            "email": format!("{name}@example.com"), "password": "river otter lantern", "username": name
        }))
    };
    let (status, _) = call(signup(a, "root")).await?;
    assert_eq!(status, StatusCode::CREATED);
    let grant = kitemate()
        .env("KITEMATE_CONFIG", toml_path)
        .args(["users", "grant-admin", "root@example.com"])
        .output()?;
    assert!(
        grant.status.success(),
        "{}",
        String::from_utf8_lossy(&grant.stderr)
    );
    let login = client
        .post(b.url("/auth/login"))
        .json(&json!({ "email": "root@example.com", "password": "river otter lantern" }));
    let (status, body) = call(login).await?;
    assert_eq!(status, StatusCode::OK, "a session made on b: {body}");
    let admin = body["token"].as_str().unwrap_or_default().to_string();
    for (replica, name) in [(a, "asha"), (b, "ravi"), (a, "mia")] {
        assert_eq!(call(signup(replica, name)).await?.0, StatusCode::CREATED);
    }

    // Each event is handled once by admin-signups, by one replica or the other.
    let overview = |replica: &Replica| {
        let req = client.get(replica.url("/admin/pubsub")).bearer_auth(&admin);
        async move { call(req).await.map(|(_, body)| body) }
    };
    let delivered = |o: &Value| {
        o["subscriptions"]
            .as_array()
            .and_then(|subs| subs.iter().find(|s| s["name"] == "admin-signups"))
            .map_or(0, |s| s["delivered"].as_i64().unwrap_or(0))
    };
    eventually(15, || async {
        let (oa, ob) = (overview(a).await?, overview(b).await?);
        Ok(delivered(&oa) + delivered(&ob) >= 4)
    })
    .await?;
    let stats = call(client.get(b.url("/admin/signups")).bearer_auth(&admin))
        .await?
        .1;
    assert_eq!(stats["total"], 4, "{stats}");
    // A moment for any duplicate delivery to show itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (oa, ob) = (overview(a).await?, overview(b).await?);
    assert_eq!(delivered(&oa) + delivered(&ob), 4, "once each: {oa} {ob}");
    assert_eq!(
        (oa["transport"].as_str(), ob["transport"].as_str()),
        (Some("nats"), Some("nats"))
    );

    // Each tick of a every-1s job runs on one replica only.
    let runs_of = |replica: &Replica| {
        let req = client
            .get(replica.url("/admin/cron/tidy-sessions/runs"))
            .bearer_auth(&admin);
        async move { call(req).await.map(|(_, body)| body) }
    };
    eventually(30, || async {
        let body = runs_of(a).await?;
        let scheduled = body["runs"].as_array().map_or(0, |runs| {
            runs.iter().filter(|r| r["manual"] == false).count()
        });
        Ok(scheduled >= 2)
    })
    .await?;
    let (ra, rb) = (runs_of(a).await?, runs_of(b).await?);
    let runs = ra["runs"].as_array().cloned().unwrap_or_default();
    let ticks: Vec<String> = runs
        .iter()
        .filter(|r| r["manual"] == false)
        .map(|r| r["tickAt"].as_str().unwrap_or_default().to_string())
        .collect();
    let distinct: HashSet<&String> = ticks.iter().collect();
    assert!(ticks.len() >= 2, "ticks ran: {ra}");
    assert_eq!(distinct.len(), ticks.len(), "no tick ran twice: {ra}");
    assert_eq!(
        rb["runs"].as_array().map(Vec::len),
        Some(runs.len()),
        "both replicas see one record"
    );

    // An object written through a is read through b.
    let mut config = Config::load(toml_path)?;
    config.data_dir = toml_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let resolved = config.resolve()?;
    let (backend, signer) = (resolved.objects, resolved.signer);
    let buckets = platform::service::buckets(kitemate::app::SERVICES);
    let via = |replica: &Replica| {
        Objects::new(
            &backend,
            &buckets,
            signer.clone(),
            &replica.base,
            Clock::system(),
        )
    };
    let ttl = Duration::from_secs(60);
    let upload = via(a)?.require("imports")?.signed_upload_url(
        "root/tradebook.csv",
        ttl,
        Some("text/csv"),
    )?;
    let csv = "symbol,isin,trade_date,trade_type,quantity,price\nINFY,INE009A01021,2024-04-01,buy,10,1500.5\n";
    let put = client
        .put(upload)
        .header("content-type", "text/csv")
        .body(csv);
    let (status, attrs) = call(put).await?;
    assert_eq!(status, StatusCode::CREATED, "{attrs}");
    let download = via(b)?
        .require("imports")?
        .signed_download_url("root/tradebook.csv", ttl)?;
    let res = client.get(download).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await?, csv);

    // Each replica remembers the sessions it served; a plan changed from
    // the shell and a logout on one replica reach the other within one
    // delivery on the bus, though both answered from memory a moment ago.
    let login = client
        .post(a.url("/auth/login"))
        .json(&json!({ "email": "asha@example.com", "password": "river otter lantern" }));
    let (status, body) = call(login).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let asha = body["token"].as_str().unwrap_or_default().to_string();
    let me = |replica: &Replica| {
        let req = client.get(replica.url("/auth/me")).bearer_auth(&asha);
        async move { call(req).await }
    };
    for replica in [a, b, a, b] {
        let (status, body) = me(replica).await?;
        assert_eq!(
            (status, body["tier"].as_str()),
            (StatusCode::OK, Some("free")),
            "{body}"
        );
    }
    let pro = kitemate()
        .env("KITEMATE_CONFIG", toml_path)
        .args(["users", "set-tier", "asha@example.com", "pro"])
        .output()?;
    assert!(
        pro.status.success(),
        "{}",
        String::from_utf8_lossy(&pro.stderr)
    );
    for replica in [a, b] {
        eventually(2, || async {
            let (status, body) = me(replica).await?;
            anyhow::ensure!(status == StatusCode::OK, "{status} {body}");
            Ok(body["tier"] == "pro")
        })
        .await?;
    }
    let logout = client.post(a.url("/auth/logout")).bearer_auth(&asha);
    assert_eq!(call(logout).await?.0, StatusCode::NO_CONTENT);
    assert_eq!(
        me(a).await?.0,
        StatusCode::UNAUTHORIZED,
        "at once where it happened"
    );
    eventually(2, || async {
        Ok(me(b).await?.0 == StatusCode::UNAUTHORIZED)
    })
    .await?;

    // One allowance per client address, spent through both replicas.
    let mut ok = 0;
    let mut refused = HashSet::new();
    for i in 0..24 {
        let replica = if i % 2 == 0 { a } else { b };
        let (status, _) = call(
            client
                .post(replica.url("/ping"))
                .json(&json!({ "name": "x" })),
        )
        .await?;
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused.insert(replica.base.clone());
            }
            other => anyhow::bail!("ping answered {other}"),
        }
    }
    assert!(
        ok <= 12,
        "one burst of 10 (plus refills), not one per replica: {ok} passed"
    );
    assert_eq!(refused.len(), 2, "both replicas refuse once it is spent");
    Ok(())
}

/// A fork through one replica tells the creator exactly once, though two
/// replicas run the `notify-creator` subscription, and reaches the
/// creator's notification stream open on the other replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_tells_its_creator_once_across_replicas() -> TestResult {
    with_two_replicas(|client, a, b| Box::pin(fork_across(client, a, b))).await
}

/// Runs `test` against two replicas on fresh PostgreSQL databases and NATS
/// streams, then stops them and drops what they made.
async fn with_two_replicas(
    test: impl for<'a> FnOnce(
        &'a reqwest::Client,
        &'a Replica,
        &'a Replica,
    ) -> futures_util::future::BoxFuture<'a, TestResult>,
) -> TestResult {
    let Some(Kind::Nats { database, nats }) = Kind::nats() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let config = production(&database, &nats, dir.path());
    let settings = write_settings(&config, dir.path())?;
    let (a, b) = (
        Replica::start(&settings, &dir.path().join("a"))?,
        Replica::start(&settings, &dir.path().join("b"))?,
    );
    let client = reqwest::Client::new();
    for replica in [&a, &b] {
        replica.ready(&client).await?;
    }
    let result = test(&client, &a, &b).await;
    a.stop()?;
    b.stop()?;
    clean_up(&settings).await?;
    result
}

async fn fork_across(client: &reqwest::Client, a: &Replica, b: &Replica) -> TestResult {
    let signup = |replica: &Replica, name: &str| {
        client.post(replica.url("/auth/signup")).json(&json!({
            "email": format!("{name}@example.com"), "password": "river otter lantern", "username": name
        }))
    };
    let (_, asha) = call(signup(a, "asha")).await?;
    let (_, ravi) = call(signup(b, "ravi")).await?;
    let token = |v: &Value| v["token"].as_str().unwrap_or_default().to_string();
    let (asha, ravi) = (token(&asha), token(&ravi));
    let (status, widget) = call(client.post(a.url("/widgets")).bearer_auth(&asha).json(
        &json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
                "source": { "type": "allocation", "by": "sector" } }),
    ))
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{widget}");
    let id = widget["id"].as_str().unwrap_or_default();

    // Asha listens on a; ravi forks through b.
    let stream = client
        .get(a.url("/notifications/stream"))
        .bearer_auth(&asha)
        .send()
        .await?;
    assert_eq!(stream.status(), StatusCode::OK);
    let (status, fork) = call(
        client
            .post(b.url(&format!("/widgets/{id}/fork")))
            .bearer_auth(&ravi),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{fork}");
    let mut body = stream.bytes_stream();
    let mut text = String::new();
    let heard = tokio::time::timeout(Duration::from_secs(15), async {
        while !text.contains("ravi forked") {
            let Some(chunk) = futures_util::StreamExt::next(&mut body).await else {
                break;
            };
            text.push_str(&String::from_utf8_lossy(&chunk?));
        }
        anyhow::Ok(())
    })
    .await;
    assert!(matches!(heard, Ok(Ok(()))), "{heard:?}: {text}");

    // Both replicas deliver; the notice is there once, whatever the wait.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for replica in [a, b] {
        let (status, page) =
            call(client.get(replica.url("/notifications")).bearer_auth(&asha)).await?;
        assert_eq!(status, StatusCode::OK);
        let forks: Vec<&Value> = page["notifications"]
            .as_array()
            .map(|n| n.iter().filter(|x| x["kind"] == "forked").collect())
            .unwrap_or_default();
        assert_eq!(forks.len(), 1, "exactly one: {page}");
        assert_eq!(forks[0]["forkId"], fork["id"]);
        assert_eq!(forks[0]["text"], "ravi forked “Sectors”");
    }
    Ok(())
}

/// An account deleted through one replica: its session ends on the other
/// at once (the other had it cached), and though both replicas run every
/// `*-forget` subscription, what it gave others is taken back once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_deleted_on_one_replica_is_gone_from_both() -> TestResult {
    with_two_replicas(|client, a, b| Box::pin(delete_across(client, a, b))).await
}

async fn delete_across(client: &reqwest::Client, a: &Replica, b: &Replica) -> TestResult {
    let signup = |replica: &Replica, name: &str| {
        client.post(replica.url("/auth/signup")).json(&json!({
            "email": format!("{name}@example.com"), "password": "river otter lantern", "username": name
        }))
    };
    let token = |v: &Value| v["token"].as_str().unwrap_or_default().to_string();
    let asha = token(&call(signup(a, "asha")).await?.1);
    let ravi = token(&call(signup(b, "ravi")).await?.1);
    let kiran = token(&call(signup(b, "kiran")).await?.1);
    let (status, widget) = call(client.post(b.url("/widgets")).bearer_auth(&ravi).json(
        &json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
                "source": { "type": "allocation", "by": "sector" } }),
    ))
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{widget}");
    let id = widget["id"].as_str().unwrap_or_default().to_string();
    for (replica, who) in [(a, &asha), (b, &kiran)] {
        let liked = client
            .put(replica.url(&format!("/widgets/{id}/like")))
            .bearer_auth(who);
        assert_eq!(call(liked).await?.0, StatusCode::OK);
        let follow = client
            .put(replica.url("/profiles/ravi/follow"))
            .bearer_auth(who);
        assert!(call(follow).await?.0.is_success());
    }
    // b has her session in its cache.
    assert_eq!(
        call(client.get(b.url("/auth/me")).bearer_auth(&asha))
            .await?
            .0,
        StatusCode::OK
    );

    let deleted = client
        .delete(a.url("/auth/me"))
        .bearer_auth(&asha)
        .json(&json!({}));
    assert_eq!(call(deleted).await?.0, StatusCode::NO_CONTENT);
    eventually(5, || async {
        Ok(call(client.get(b.url("/auth/me")).bearer_auth(&asha))
            .await?
            .0
            == StatusCode::UNAUTHORIZED)
    })
    .await?;
    for replica in [a, b] {
        eventually(20, || async {
            let (_, profile) = call(client.get(replica.url("/profiles/ravi"))).await?;
            Ok(profile["counts"]["followers"] == 1)
        })
        .await?;
    }
    // Settled: once, not twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for replica in [a, b] {
        let (_, profile) = call(client.get(replica.url("/profiles/ravi"))).await?;
        assert_eq!(profile["counts"]["followers"], 1, "{profile}");
        let (_, mine) = call(
            client
                .get(replica.url(&format!("/widgets/{id}")))
                .bearer_auth(&ravi),
        )
        .await?;
        assert_eq!(mine["reactions"]["likes"], 1, "{mine}");
        assert_eq!(
            call(client.get(replica.url("/profiles/asha"))).await?.0,
            StatusCode::NOT_FOUND
        );
    }
    Ok(())
}
