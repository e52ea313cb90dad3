//! Starts the real app on port 0 with fresh databases: SQLite in a temporary
//! folder, or PostgreSQL databases with a random prefix when
//! `KITEMATE_TEST_DATABASE_URL` is set (dropped when the test ends).

pub mod fake_llm;
pub mod fake_market;
pub mod fake_payments;

use std::net::SocketAddr;
use std::time::Duration;

use kitemate::{App, Config};
use platform::clock::Clock;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub type TestResult = anyhow::Result<()>;

/// Which database backend a test runs on.
#[derive(Debug, Clone)]
pub enum Kind {
    Sqlite,
    Postgres(String),
    /// PostgreSQL databases with pub/sub through NATS JetStream: production.
    Nats {
        database: String,
        nats: String,
    },
}

impl Kind {
    /// PostgreSQL and NATS, if both are configured (in CI they must be).
    pub fn nats() -> Option<Self> {
        let database = test_server("KITEMATE_TEST_DATABASE_URL", "PostgreSQL")?;
        let nats = test_server("KITEMATE_TEST_NATS_URL", "NATS")?;
        Some(Self::Nats { database, nats })
    }

    /// The PostgreSQL server to test on, if there is one. In CI one must be
    /// configured: a missing URL fails instead of skipping in silence.
    pub fn postgres() -> Option<Self> {
        test_server("KITEMATE_TEST_DATABASE_URL", "PostgreSQL").map(Self::Postgres)
    }
}

/// The Redis server to test against, if there is one; in CI there must be.
pub fn redis_url() -> Option<String> {
    test_server("KITEMATE_TEST_REDIS_URL", "Redis")
}

/// The S3 server to test against, as `http://KEY:SECRET@host:port/bucket`
/// (the bucket must exist); in CI there must be one.
pub fn s3_url() -> Option<String> {
    test_server("KITEMATE_TEST_S3", "S3")
}

/// Keeps `config`'s objects in the S3 server at `url`, under a fresh prefix,
/// with its credentials and a signing key in a secrets file inside `dir`.
pub fn use_s3(config: &mut Config, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("no scheme in {url}"))?;
    let (credentials, rest) = rest
        .split_once('@')
        .ok_or_else(|| anyhow::anyhow!("no KEY:SECRET@ in the S3 URL"))?;
    let (key, secret) = credentials
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("no KEY:SECRET in the S3 URL"))?;
    let (host, bucket) = rest
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("no /bucket in the S3 URL"))?;
    let secrets = dir.join("s3-secrets.env");
    std::fs::write(
        &secrets,
        format!(
            "KITEMATE_S3_ACCESS_KEY_ID={key}\nKITEMATE_S3_SECRET_ACCESS_KEY={secret}\n\
             KITEMATE_OBJECT_SIGNING_KEY=test-signing-key-shared-by-every-replica\n"
        ),
    )?;
    config.secrets_file = Some(secrets);
    config.objects.s3_bucket = bucket.trim_end_matches('/').to_string();
    config.objects.s3_endpoint = format!("{scheme}://{host}");
    config.objects.s3_prefix = format!("kmt_{}", uuid::Uuid::now_v7().simple());
    Ok(())
}

/// Points `config` at a fake Kite server for the app `api_key`/`api_secret`.
pub fn use_fake_kite(
    config: &mut Config,
    url: &str,
    api_key: &str,
    api_secret: &str,
) -> anyhow::Result<()> {
    let secrets = config.data_dir.join("kite-secrets.env");
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::write(&secrets, format!("KITEMATE_KITE_API_SECRET={api_secret}\n"))?;
    config.secrets_file = Some(secrets);
    config.kite.api_key = api_key.to_string();
    config.kite.api_root = url.to_string();
    Ok(())
}

/// Points `config` at fake payment providers (either may be left off).
pub fn use_fake_payments(
    config: &mut Config,
    razorpay: Option<&str>,
    stripe: Option<&str>,
) -> anyhow::Result<()> {
    use fake_payments::*;
    let mut lines = String::new();
    if let Some(url) = razorpay {
        lines.push_str(&format!(
            "KITEMATE_RAZORPAY_KEY_ID={RZP_KEY_ID}\nKITEMATE_RAZORPAY_KEY_SECRET={RZP_KEY_SECRET}\n\
             KITEMATE_RAZORPAY_WEBHOOK_SECRETS={RZP_WEBHOOK_SECRET}\n"
        ));
        config.subscriptions.razorpay.api_root = url.to_string();
        config.subscriptions.plans.pro_monthly.razorpay_plan_id = RZP_PLAN_MONTHLY.into();
    }
    if let Some(url) = stripe {
        lines.push_str(&format!(
            "KITEMATE_STRIPE_SECRET_KEY={STRIPE_KEY}\nKITEMATE_STRIPE_WEBHOOK_SECRETS={STRIPE_WEBHOOK_SECRET}\n"
        ));
        config.subscriptions.stripe.api_root = url.to_string();
        config.subscriptions.plans.pro_monthly.stripe_price_id = STRIPE_PRICE_MONTHLY.into();
        config.subscriptions.plans.pro_yearly.stripe_price_id = STRIPE_PRICE_YEARLY.into();
    }
    let secrets = config.data_dir.join("payment-secrets.env");
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::write(&secrets, lines)?;
    config.secrets_file = Some(secrets);
    Ok(())
}

/// The URL in `var`, if set. In CI it must be: a missing server fails the
/// run instead of skipping its tests in silence.
fn test_server(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set {var} so that {what} tests run"
            );
            eprintln!("SKIPPED on {what}: set {var} to run it");
            None
        }
    }
}

/// The `kitemate` binary, reading no config file and no database URL of the
/// caller's: tests say what they want.
pub fn kitemate() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kitemate"));
    cmd.env("KITEMATE_CONFIG", "/nonexistent/kitemate.toml")
        .env("KITEMATE_LOG__LEVEL", "warn")
        .env_remove("KITEMATE_DATABASE_URL");
    cmd
}

/// Points a `kitemate` process at the same databases as the test app.
pub fn same_databases(cmd: &mut std::process::Command, app: &TestApp) {
    cmd.env("KITEMATE_DATA_DIR", app.dir.path());
    if !app.app.config.database_url.is_empty() {
        cmd.env(
            "KITEMATE_DATABASE_URL",
            app.app.config.database_url.expose(),
        );
    }
}

/// Polls `check` every 20 ms until it holds or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await? {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(Kind) -> TestResult`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> $crate::support::TestResult {
                    super::$name($crate::support::Kind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> $crate::support::TestResult {
                    match $crate::support::Kind::postgres() {
                        Some(kind) => super::$name(kind).await,
                        None => Ok(()),
                    }
                }
            )*
        }
    };
}

/// Like [`both_backends!`], plus a third run on PostgreSQL with pub/sub
/// through NATS JetStream, for tests of what travels between replicas.
#[macro_export]
macro_rules! all_transports {
    ($($name:ident),* $(,)?) => {
        $crate::both_backends!($($name),*);
        mod nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> $crate::support::TestResult {
                    match $crate::support::Kind::nats() {
                        Some(kind) => super::$name(kind).await,
                        None => Ok(()),
                    }
                }
            )*
        }
    };
}

/// A database URL on the test server whose database name is a fresh prefix.
pub fn fresh_postgres_url(base: &str) -> String {
    let base = base.split('?').next().unwrap_or(base);
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let server = rest.split_once('/').map_or(rest, |(server, _)| server);
    let prefix = format!("kmt_{}", uuid::Uuid::now_v7().simple());
    format!("{scheme}://{server}/{prefix}")
}

/// The settings a test app starts from; tests change what they need.
pub fn test_config(kind: &Kind, dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.log.level = "warn".into();
    config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    // Tests ask many questions quickly; the limits' own tests set them.
    config.chat.questions_per_minute = 100_000;
    config.chat.burst = 10_000;
    config.social.actions_per_minute = 100_000;
    config.social.action_burst = 10_000;
    config.mcp.tool_calls_per_minute = 100_000;
    config.mcp.tool_call_burst = 10_000;
    config.mcp.registrations_per_minute = 100_000;
    config.mcp.registration_burst = 10_000;
    config.mcp.authorize_posts_per_minute = 100_000;
    // No test reaches the exchanges; those that fetch use the fake market.
    config.market.fetch = false;
    match kind {
        Kind::Sqlite => {}
        Kind::Postgres(base) => {
            config.database_url = kitemate::config::DatabaseUrl::new(fresh_postgres_url(base));
        }
        Kind::Nats { database, nats } => {
            config.database_url = kitemate::config::DatabaseUrl::new(fresh_postgres_url(database));
            config.nats_url = kitemate::config::DatabaseUrl::new(nats.clone());
            config.nats_prefix = format!("kmt_{}", uuid::Uuid::now_v7().simple());
        }
    }
    config
}

/// Serves `router` in the background until the returned sender fires.
pub fn serve_until_told(
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform::server::serve(
        listener,
        router,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    (tx, server)
}

/// A running app and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub clock: Clock,
    /// Where `metrics_listen` serves `/metrics`, when it is set.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The error code of an Encore-shaped error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl TestApp {
    pub async fn spawn(kind: Kind) -> anyhow::Result<Self> {
        Self::spawn_with(kind, |_| {}).await
    }

    pub async fn spawn_with(kind: Kind, change: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        Self::spawn_custom(kind, change, |_| Ok(())).await
    }

    /// Like [`TestApp::spawn_with`], running `before_start` (to add a test
    /// subscription, say) after the app is built and before it starts.
    pub async fn spawn_custom(
        kind: Kind,
        change: impl FnOnce(&mut Config),
        before_start: impl FnOnce(&App) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = test_config(&kind, dir.path());
        change(&mut config);
        // Bound before the app is built, so the URLs it hands out (objects,
        // share links, the MCP audience) carry the port it really serves on.
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        config.listen = addr;
        let clock = Clock::system();
        let app = App::build(config, clock.clone()).await?;
        before_start(&app)?;
        app.start_background();
        let router = app.router()?;
        let (tx, server) = serve_until_told(listener, router);
        let metrics_addr = match app.config.metrics_listen {
            Some(at) => {
                let listener = tokio::net::TcpListener::bind(at).await?;
                let metrics_addr = listener.local_addr()?;
                let router = app.metrics_router();
                tokio::spawn(async move { axum::serve(listener, router).await });
                Some(metrics_addr)
            }
            None => None,
        };
        Ok(Self {
            addr,
            metrics_addr,
            app,
            clock,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            dir,
            shutdown: Some(tx),
            server: Some(server),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An object URL the app handed out, pointed at this test server (the app
    /// was configured before its port was known).
    pub fn object_url(&self, url: &str) -> String {
        let path = url.find("/objects/").map_or(url, |at| &url[at..]);
        self.url(path)
    }

    /// Sends a request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        Self::read(req.send().await?).await
    }

    pub async fn read(res: reqwest::Response) -> anyhow::Result<Reply> {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await?;
        Ok(Reply {
            status,
            headers,
            text,
        })
    }

    /// The metrics text, from the private metrics listener.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        let addr = self
            .metrics_addr
            .ok_or_else(|| anyhow::anyhow!("metrics_listen is off"))?;
        let res = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "{}", res.status());
        Ok(res.text().await?)
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        self.call(Method::POST, path, Some(body), None).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Reply> {
        self.call(Method::GET, path, None, token).await
    }

    /// Signs up `name` and makes them an administrator; returns their token.
    pub async fn admin(&self, name: &str) -> anyhow::Result<String> {
        let token = self.signup(name).await?;
        self.app
            .auth
            .grant_admin(&format!("{name}@example.com"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(token)
    }

    /// Signs up `name` (email `name@example.com`) and returns the session token.
    pub async fn signup(&self, name: &str) -> anyhow::Result<String> {
        let reply = self
            .post(
                "/auth/signup",
                json!({ "email": format!("{name}@example.com"), "password": "river otter lantern", "username": name }),
            )
            .await?;
        anyhow::ensure!(
            reply.status == StatusCode::CREATED,
            "signup failed: {reply:?}"
        );
        Ok(reply.json()["token"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Stops the server, closes the databases and drops PostgreSQL test databases.
    pub async fn stop(mut self) -> TestResult {
        self.stop_server().await;
        self.app.close().await;
        self.app.pubsub.drop_streams().await?;
        self.app.backend.drop_all().await
    }

    async fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    /// A test that fails before `stop` still must not leave databases behind.
    fn drop(&mut self) {
        if self.server.is_none() {
            return;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let backend = self.app.backend.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(backend.drop_all());
            }
        })
        .join();
    }
}
