//! Wiring: builds every service from the configuration and mounts their routers
//! behind the platform middleware.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use platform::cache::Cache;
use platform::clock::Clock;
use platform::cron::Cron;
use platform::db::{Backend, Check, Db};
use platform::metrics::Metrics;
use platform::middleware::{ObserveState, observe};
use platform::objects::Objects;
use platform::pace::Pacer;
use platform::pubsub::{Fanout, NatsSettings, PubSub};
use platform::ratelimit::{RateLimiter, limit_by_ip};
use platform::secrets::Secrets;
use platform::{ApiError, docs};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{self, AuthService};
use crate::chat::{self, ChatService};
use crate::config::Config;
use crate::kite_turns::SharedTurns;
use crate::portfolio::{self, PortfolioService};
use crate::{admin, buckets, hello, jobs, ops};

/// The running application: every service, built and connected.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    pub clock: Clock,
    pub backend: Backend,
    pub secrets: Arc<Secrets>,
    pub auth: AuthService,
    pub pubsub: PubSub,
    /// Notices to every process (caches forgetting), when they can reach them.
    pub fanout: Option<Fanout>,
    pub cron: Cron,
    /// Shared by replicas through Redis when one is configured.
    pub cache: Cache,
    /// Uploaded files, in `data_dir/objects` or S3.
    pub objects: Objects,
    pub portfolio: PortfolioService,
    pub chat: ChatService,
    databases: Arc<Vec<Db>>,
    admin_db: Db,
    metrics: Arc<Metrics>,
    limiter: RateLimiter,
    sync_limiter: RateLimiter,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "KiteMate API",
        description = "A portfolio companion for Zerodha investors. Errors always have the shape \
                       `{\"code\", \"message\", \"details\"}` with Encore's codes.",
        license(name = "MIT")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "hello", description = "Hello world"),
        (name = "auth", description = "Accounts and sessions"),
        (name = "ops", description = "Health and metrics"),
        (name = "admin", description = "Administrators only: pub/sub, cron and signups"),
        (name = "portfolio", description = "Holdings, trades and imports of the signed-in user"),
        (name = "chat", description = "Questions about the signed-in user's portfolio, answered"),
        (name = "objects", description = "Stored files: public ones for anyone, private ones through signed URLs"),
    ),
    paths(platform::objects::http::download, platform::objects::http::upload)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from /auth/signup or /auth/login"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI spec of the whole API, built from the handlers' annotations.
pub fn openapi() -> OpenApi {
    let disabled = RateLimiter::new(&platform::config::RateLimitConfig {
        enabled: false,
        ..Default::default()
    });
    let mut doc = ApiDoc::openapi();
    doc.merge(hello::router(disabled.clone()).into_openapi());
    doc.merge(auth::router_spec(disabled.clone()).into_openapi());
    doc.merge(ops::router_spec(disabled.clone()).into_openapi());
    doc.merge(admin::router_spec().into_openapi());
    doc.merge(portfolio::router_spec().into_openapi());
    doc.merge(chat::router_spec(disabled).into_openapi());
    doc
}

/// The spec as committed in `openapi.json` and served at `/openapi.json`.
/// The layers' answers are added to it (see [`crate::spec_rules`]).
pub fn openapi_json() -> String {
    let mut spec = serde_json::to_value(openapi()).unwrap_or_default();
    crate::spec_rules::complete(&mut spec);
    let mut json = serde_json::to_string_pretty(&spec).unwrap_or_default();
    json.push('\n');
    json
}

/// The bus that tells every process serving these databases to forget:
/// NATS when configured; otherwise, on SQLite, the processes sharing the
/// data folder (a stamp file in it). PostgreSQL without NATS may have
/// replicas that nothing reaches: no bus, so nothing is cached.
fn fanout(nats: Option<NatsSettings>, backend: &Backend) -> anyhow::Result<Option<Fanout>> {
    let fanout = match nats {
        Some(nats) => Fanout::nats(nats),
        None if matches!(backend, Backend::Sqlite { .. }) => Fanout::local(),
        None => return Ok(None),
    };
    Ok(Some(match backend {
        Backend::Sqlite { dir } => {
            platform::db::create_private_dir(dir)?;
            fanout.with_stamp(&dir.join("fanout.stamp"))?
        }
        Backend::Postgres { .. } => fanout,
    }))
}

impl App {
    /// Builds every service on databases that are not opened yet; call
    /// [`App::prepare`] before serving. No I/O but creating the data folder.
    pub fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let backend = config.backend()?;
        let secrets = Arc::new(config.secrets()?);
        let metrics = Metrics::new();
        let pubsub = PubSub::new(clock.clone(), Arc::clone(&metrics));
        let nats = config.nats()?;
        if let Some(nats) = &nats {
            pubsub.use_nats(nats.clone())?;
        }
        let fanout = fanout(nats, &backend)?;
        let redis = config.redis()?;
        // Kite counts calls per API key: replicas sharing Redis share turns.
        let kite = config.kite()?.map(|kite| match &redis {
            Some(redis) => kite.with_limiter(Arc::new(SharedTurns::new(
                Pacer::redis(redis.clone()),
                &config.kite.api_key,
            ))),
            None => kite,
        });
        let auth_db = backend.lazy(&auth::DATABASE)?;
        let auth = AuthService::new(
            auth_db.clone(),
            clock.clone(),
            config.auth.clone(),
            &pubsub,
            redis.as_ref(),
            fanout.as_ref(),
            auth::ZerodhaParts {
                kite: kite.clone(),
                keyring: Arc::new(config.keyring()?),
                secure_cookies: config.mode == crate::config::Mode::Production,
            },
        )?;
        let jobs_db = backend.lazy(&jobs::DATABASE)?;
        let cron = Cron::new(jobs_db.clone(), clock.clone());
        let admin_db = backend.lazy(&admin::DATABASE)?;
        admin::subscribe(&pubsub, &admin_db)?;
        let portfolio_db = backend.lazy(&portfolio::DATABASE)?;
        let chat_db = backend.lazy(&chat::DATABASE)?;
        let databases = Arc::new(vec![
            auth_db,
            jobs_db,
            admin_db.clone(),
            portfolio_db.clone(),
            chat_db.clone(),
        ]);
        cron.override_schedules(config.cron_schedules()?);
        jobs::register(&cron, &auth, &databases, clock.clone())?;
        cron.check_overrides()
            .map_err(|err| anyhow::anyhow!("`cron.schedules`: {err}"))?;
        let redis_for_limits = redis.clone();
        let (limiter, cache) = match redis {
            Some(redis) => (
                RateLimiter::redis(&config.rate_limit, redis.clone()),
                Cache::Redis(redis),
            ),
            None => (RateLimiter::new(&config.rate_limit), Cache::default()),
        };
        let (objects_backend, signer) = config.objects()?;
        let objects = Objects::new(
            &objects_backend,
            buckets::ALL,
            signer,
            &config.public_url(),
            clock.clone(),
        )?;
        let portfolio = PortfolioService::new(
            portfolio_db,
            objects.require(buckets::IMPORTS.name)?.clone(),
            clock.clone(),
            kite,
            auth.clone(),
            &pubsub,
        )?;
        // Off with the other limits (`rate_limit.enabled`), as for a load test.
        let chat_rule = platform::config::RateLimitConfig {
            enabled: config.rate_limit.enabled,
            per_ip_per_minute: config.chat.questions_per_minute,
            burst: config.chat.burst,
        };
        let chat_limiter = RateLimiter::on(&chat_rule, redis_for_limits.as_ref());
        // A place in flight outlives any answer (four model rounds of at
        // most `llm.timeout_ms` each, then storing); a replica that dies
        // mid-answer frees it then.
        let lease = Duration::from_millis(config.llm.timeout_ms.saturating_mul(5))
            .max(Duration::from_secs(60));
        let in_flight = match &redis_for_limits {
            Some(redis) => platform::inflight::InFlight::redis(redis.clone(), lease),
            None => platform::inflight::InFlight::local(),
        };
        let chat = ChatService::new(
            chat_db,
            portfolio.clone(),
            clock.clone(),
            config.llm()?,
            config.chat.clone(),
            chat_limiter,
            in_flight,
        );
        let sync_rule = platform::config::RateLimitConfig {
            enabled: config.rate_limit.enabled,
            per_ip_per_minute: 6,
            burst: 3,
        };
        let sync_limiter = RateLimiter::on(&sync_rule, redis_for_limits.as_ref());
        Ok(Self {
            fanout,
            sync_limiter,
            limiter,
            cache,
            portfolio,
            chat,
            objects,
            metrics,
            pubsub,
            cron,
            databases,
            admin_db,
            backend,
            secrets,
            clock,
            auth,
            config,
        })
    }

    /// Opens every service's database at once (creating it when missing) and
    /// applies its migrations.
    pub async fn prepare(&self, check: Check) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for db in self.databases.iter() {
            let (db, backend) = (db.clone(), self.backend.clone());
            tasks.spawn(async move { db.prepare(&backend, check).await });
        }
        while let Some(result) = tasks.join_next().await {
            result??;
        }
        self.portfolio
            .upgrade_storage()
            .await
            .map_err(|err| anyhow::anyhow!("upgrading stored trades: {err}"))?;
        Ok(())
    }

    /// [`App::new`] and [`App::prepare`]: an app ready to serve.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let app = Self::new(config, clock)?;
        app.prepare(Check::Full).await?;
        Ok(app)
    }

    /// Every service's database, for readiness checks and tests.
    pub fn databases(&self) -> &[Db] {
        &self.databases
    }

    /// The whole HTTP surface.
    pub fn router(&self) -> anyhow::Result<Router> {
        let http = &self.config.http;
        let ops_state = ops::OpsState {
            databases: Arc::clone(&self.databases),
            metrics: Arc::clone(&self.metrics),
            metrics_token: self.config.metrics_token()?,
        };
        let (api, _) = OpenApiRouter::new()
            .merge(hello::router(self.limiter.clone()))
            .merge(auth::router(self.auth.clone(), self.limiter.clone()))
            .merge(ops::router(ops_state, self.limiter.clone()))
            .merge(portfolio::router(portfolio::PortfolioState {
                service: self.portfolio.clone(),
                auth: self.auth.clone(),
                sync_limiter: self.sync_limiter.clone(),
            }))
            .merge(chat::router(
                chat::ChatState {
                    service: self.chat.clone(),
                    auth: self.auth.clone(),
                },
                self.limiter.clone(),
            ))
            .merge(admin::router(admin::AdminState {
                auth: self.auth.clone(),
                db: self.admin_db.clone(),
                clock: self.clock.clone(),
                pubsub: self.pubsub.clone(),
                cron: self.cron.clone(),
            }))
            .split_for_parts();
        let observe_state = ObserveState {
            metrics: Arc::clone(&self.metrics),
            timeout: Duration::from_secs(http.timeout_secs),
            trust_forwarded_for: http.trust_forwarded_for,
            hsts: self.config.mode == crate::config::Mode::Production,
        };
        // Routes outside the spec's routers, public too: limited per IP.
        let limited = axum::middleware::from_fn_with_state(self.limiter.clone(), limit_by_ip);
        Ok(api
            .merge(docs::router(openapi_json).route_layer(limited.clone()))
            .merge(platform::objects::http::router(self.objects.clone()).route_layer(limited))
            .fallback(|| async { ApiError::not_found("no such endpoint") })
            .method_not_allowed_fallback(|| async {
                ApiError::new(
                    platform::ErrCode::Unimplemented,
                    "method not allowed on this endpoint",
                )
                .with_status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
            })
            .layer(DefaultBodyLimit::max(http.body_limit))
            .layer(platform::middleware::catch_panic())
            .layer(axum::middleware::from_fn_with_state(observe_state, observe))
            .layer(platform::middleware::cors(http)?))
    }

    /// `GET /metrics` alone, without a token, for `metrics_listen`.
    pub fn metrics_router(&self) -> Router {
        ops::metrics_only(Arc::clone(&self.metrics))
    }

    /// Starts what runs beside the HTTP server: pub/sub dispatchers and upkeep.
    pub fn start_background(&self) {
        self.pubsub.start();
        if let Some(fanout) = self.fanout.clone() {
            tokio::spawn(async move {
                // Until it listens, caches fed by it stay off; keep trying.
                let mut wait = Duration::from_millis(250);
                while let Err(err) = fanout.start().await {
                    tracing::warn!(error = %err, "fan-out bus unreachable; session cache off until it is");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            });
        }
        self.cron.start();
        let limiters = [
            self.limiter.clone(),
            self.sync_limiter.clone(),
            self.chat.limiter().clone(),
        ];
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                for limiter in &limiters {
                    limiter.forget_idle();
                }
            }
        });
    }

    pub async fn close(&self) {
        self.cron.stop();
        // Handlers finish and acknowledge before their databases close.
        self.pubsub.drain(Duration::from_secs(10)).await;
        for db in self.databases.iter() {
            db.close().await;
        }
    }
}
