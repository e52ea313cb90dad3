//! Wiring: builds every service from the configuration and mounts their routers
//! behind the platform middleware.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use platform::cache::Cache;
use platform::clock::Clock;
use platform::cron::Cron;
use platform::db::{Backend, Check, Db};
use platform::metrics::Metrics;
use platform::objects::Objects;
use platform::observe::ObserveState;
use platform::pace::Pacer;
use platform::pubsub::{Fanout, NatsSettings, PubSub};
use platform::ratelimit::RateLimiter;
use platform::service::{Databases, Declaration, Mount};
use platform::{ApiError, docs};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::{Modify, OpenApi as _};

use crate::audit::{self, AuditService};
use crate::auth::{self, AuthService};
use crate::chat::{self, ChatService};
use crate::config::{Config, Mode, Resolved};
use crate::kite_turns::SharedTurns;
use crate::market::{self, MarketService};
use crate::mcp::{self, McpService};
use crate::portfolio::{self, PortfolioService};
use crate::social::{self, SocialService};
use crate::subscriptions::{self, SubscriptionService};
use crate::widgets::{self, WidgetService};
use crate::{admin, hello, jobs, objects, ops};

/// Every service, in the order their databases open and their tags show.
/// A new service adds its `SERVICE` here and its `mount` in [`App::new`].
pub static SERVICES: &[&Declaration] = &[
    &hello::SERVICE,
    &auth::SERVICE,
    &ops::SERVICE,
    &jobs::SERVICE,
    &admin::SERVICE,
    &market::SERVICE,
    &portfolio::SERVICE,
    &chat::SERVICE,
    &widgets::SERVICE,
    &social::SERVICE,
    &subscriptions::SERVICE,
    &mcp::SERVICE,
    &audit::SERVICE,
    &objects::SERVICE,
];

/// The running application: every service, built and connected.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    pub clock: Clock,
    pub backend: Backend,
    pub auth: AuthService,
    pub pubsub: PubSub,
    /// Notices to every process (caches forgetting), when they can reach them.
    pub fanout: Option<Fanout>,
    pub cron: Cron,
    /// Shared by replicas through Redis when one is configured.
    pub cache: Cache,
    /// Uploaded files, in `data_dir/objects` or S3.
    pub objects: Objects,
    pub market: MarketService,
    pub portfolio: PortfolioService,
    pub chat: ChatService,
    pub subscriptions: SubscriptionService,
    databases: Databases,
    metrics: Arc<Metrics>,
    /// The per-IP limit every public route shares.
    limiter: RateLimiter,
    /// Each service's routes, in [`SERVICES`] order.
    mounts: Arc<Vec<Mount>>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "KiteMate API",
        description = "A portfolio companion for Zerodha investors. Errors always have the shape \
                       `{\"code\", \"message\", \"details\"}` with Encore's codes.",
        license(name = "MIT")
    ),
    modifiers(&BearerAuth)
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

/// The OpenAPI spec of the whole API: each service's routes under its tag.
pub fn openapi() -> OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut tags = Vec::new();
    for service in SERVICES {
        let spec = (service.spec)();
        if !spec.paths.paths.is_empty() {
            tags.push(
                TagBuilder::new()
                    .name(service.name)
                    .description(Some(service.description))
                    .build(),
            );
        }
        doc.merge(spec);
    }
    doc.tags = Some(tags);
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
    /// [`App::prepare`] before serving. No I/O but reading the secrets and
    /// creating the data folder.
    pub fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let resolved = config.resolve()?;
        Self::with(config, resolved, clock)
    }

    /// [`App::new`] on settings already resolved (`kitemate` resolves them
    /// first, so a bad secret is a settings error like any other).
    pub fn with(config: Config, resolved: Resolved, clock: Clock) -> anyhow::Result<Self> {
        let Resolved {
            backend,
            redis,
            nats,
            cron_schedules,
            kite,
            llm,
            objects: objects_backend,
            signer,
            keyring,
            metrics_token,
            payments,
            calendar,
            sources,
        } = resolved;
        let metrics = Metrics::new();
        let pubsub = PubSub::new(clock.clone(), Arc::clone(&metrics));
        if let Some(nats) = &nats {
            pubsub.use_nats(nats.clone())?;
        }
        let fanout = fanout(nats, &backend)?;
        let databases = Databases::lazy(&backend, SERVICES)?;
        let objects = Objects::new(
            &objects_backend,
            &platform::service::buckets(SERVICES),
            signer.clone(),
            &config.public_url(),
            clock.clone(),
        )?;
        let cron = Cron::new(databases.get(&jobs::DATABASE)?, clock.clone());
        cron.override_schedules(cron_schedules);
        let (limiter, cache) = match &redis {
            Some(redis) => (
                RateLimiter::redis(&config.rate_limit, redis.clone()),
                Cache::Redis(redis.clone()),
            ),
            None => (RateLimiter::new(&config.rate_limit), Cache::default()),
        };
        // Kite counts calls per API key: replicas sharing Redis share turns.
        let kite = kite.map(|kite| match &redis {
            Some(redis) => kite.with_limiter(Arc::new(SharedTurns::new(
                Pacer::redis(redis.clone()),
                &config.kite.api_key,
            ))),
            None => kite,
        });
        let production = config.mode == Mode::Production;

        let audit = AuditService::new(databases.get(&audit::DATABASE)?, clock.clone());
        let auth = AuthService::new(
            databases.get(&auth::DATABASE)?,
            clock.clone(),
            config.auth.clone(),
            &pubsub,
            redis.as_ref(),
            fanout.as_ref(),
            auth::AuthParts {
                kite: kite.clone(),
                keyring: Arc::new(keyring),
                secure_cookies: production,
                audit: audit.clone(),
                account_limiter: RateLimiter::on(
                    &config.auth.account_limit(config.rate_limit.enabled),
                    redis.as_ref(),
                ),
            },
        )?;
        let market = MarketService::new(
            databases.get(&market::DATABASE)?,
            clock.clone(),
            calendar,
            sources,
        );
        let portfolio = PortfolioService::new(
            databases.get(&portfolio::DATABASE)?,
            objects.require(portfolio::IMPORTS.name)?.clone(),
            clock.clone(),
            kite,
            auth.clone(),
            market.clone(),
            &pubsub,
        )?;
        let enabled = config.rate_limit.enabled;
        // Off with the other limits (`rate_limit.enabled`), as for a load test.
        let questions = config.chat.question_limit(enabled);
        // A place in flight outlives any answer (four model rounds of at
        // most `llm.timeout_ms` each, then storing); a replica that dies
        // mid-answer frees it then.
        let lease = Duration::from_millis(config.llm.timeout_ms.saturating_mul(5))
            .max(Duration::from_secs(60));
        let in_flight = match &redis {
            Some(redis) => platform::inflight::InFlight::redis(redis.clone(), lease),
            None => platform::inflight::InFlight::local(),
        };
        let chat = ChatService::new(
            databases.get(&chat::DATABASE)?,
            portfolio.clone(),
            clock.clone(),
            llm,
            config.chat.clone(),
            RateLimiter::on(&questions, redis.as_ref()),
            in_flight,
        );
        let widgets = WidgetService::new(
            databases.get(&widgets::DATABASE)?,
            clock.clone(),
            config.widgets.clone(),
            portfolio.clone(),
            auth.clone(),
            widgets::Sharing {
                public_url: config.public_url(),
                signer,
                cache: cache.clone(),
            },
            &pubsub,
        )?;
        let subscriptions = SubscriptionService::new(
            databases.get(&subscriptions::DATABASE)?,
            clock.clone(),
            auth.clone(),
            chat.clone(),
            subscriptions::SubscriptionParts {
                config: config.subscriptions.clone(),
                providers: payments,
                public_url: config.public_url(),
                free_widgets: config.widgets.free_widgets,
                free_dashboards: config.widgets.free_dashboards,
                audit: audit.clone(),
                inbox: databases.get(&subscriptions::INBOX)?,
            },
            &pubsub,
        )?;
        let social = SocialService::new(
            databases.get(&social::DATABASE)?,
            clock.clone(),
            auth.clone(),
            widgets.clone(),
            social::SocialParts {
                config: config.social.clone(),
                actions: RateLimiter::on(&config.social.action_limit(enabled), redis.as_ref()),
                reports: RateLimiter::on(&config.social.report_limit(enabled), redis.as_ref()),
                fanout: fanout.clone(),
                pictures: objects.require(social::PICTURES.name)?.clone(),
                uploads: objects.require(social::UPLOADS.name)?.clone(),
                cache: cache.clone(),
            },
        );
        let mcp = McpService::new(
            databases.get(&mcp::DATABASE)?,
            clock.clone(),
            mcp::McpParts {
                config: config.mcp.clone(),
                public_url: config.public_url(),
                auth: auth.clone(),
                audit: audit.clone(),
                portfolio: portfolio.clone(),
                widgets: widgets.clone(),
                chat: chat.clone(),
                tool_limiter: RateLimiter::on(&config.mcp.tool_limit(enabled), redis.as_ref()),
                production,
            },
        );
        // Each service's part of an export, in the archive's order, and of
        // a deletion (subscriptions cancels at its provider first).
        auth.add_account_parts(vec![
            Arc::new(portfolio.clone()),
            Arc::new(chat.clone()),
            Arc::new(widgets.clone()),
            Arc::new(social.clone()),
            Arc::new(subscriptions.clone()),
        ])?;

        let mounts = vec![
            hello::mount(limiter.clone()),
            auth::mount(&auth, limiter.clone(), &cron, &pubsub)?,
            ops::mount(
                ops::OpsState {
                    databases: databases.shared(),
                    metrics: Arc::clone(&metrics),
                    metrics_token,
                },
                limiter.clone(),
            ),
            jobs::mount(
                &cron,
                databases.shared(),
                clock.clone(),
                jobs::Refresh {
                    market: market.clone(),
                    portfolio: portfolio.clone(),
                    auth: auth.clone(),
                    clock: clock.clone(),
                },
                jobs::Housekeeping {
                    auth: auth.clone(),
                    chat: chat.clone(),
                    portfolio: portfolio.clone(),
                    social: social.clone(),
                    clock: clock.clone(),
                    keep_import_files_days: config.portfolio.keep_import_files_days,
                },
            )?,
            admin::mount(admin::AdminState {
                auth: auth.clone(),
                db: databases.get(&admin::DATABASE)?,
                clock: clock.clone(),
                pubsub: pubsub.clone(),
                cron: cron.clone(),
                audit,
            })?,
            market::mount(market::MarketState {
                service: market.clone(),
                auth: auth.clone(),
            }),
            portfolio::mount(
                portfolio::PortfolioState {
                    service: portfolio.clone(),
                    auth: auth.clone(),
                    sync_limiter: RateLimiter::on(
                        &config.portfolio.sync_limit(enabled),
                        redis.as_ref(),
                    ),
                },
                &pubsub,
            )?,
            chat::mount(
                chat::ChatState {
                    service: chat.clone(),
                    auth: auth.clone(),
                },
                limiter.clone(),
                &pubsub,
            )?,
            widgets::mount(
                widgets::WidgetsState {
                    service: widgets,
                    auth: auth.clone(),
                },
                limiter.clone(),
                &pubsub,
            )?,
            social::mount(
                social::SocialState {
                    service: social,
                    auth: auth.clone(),
                },
                limiter.clone(),
                &pubsub,
            )?,
            subscriptions::mount(
                subscriptions::SubscriptionsState {
                    service: subscriptions.clone(),
                    auth: auth.clone(),
                },
                (
                    limiter.clone(),
                    RateLimiter::on(&config.subscriptions.webhook_limit(enabled), redis.as_ref()),
                ),
                &pubsub,
                &cron,
            )?,
            mcp::mount(
                mcp::McpState {
                    service: mcp,
                    auth: auth.clone(),
                },
                mcp::Limits {
                    public: limiter.clone(),
                    registrations: RateLimiter::on(
                        &config.mcp.registration_limit(enabled),
                        redis.as_ref(),
                    ),
                    authorize: RateLimiter::on(
                        &config.mcp.authorize_limit(enabled),
                        redis.as_ref(),
                    ),
                },
                &pubsub,
                &cron,
            )?,
            audit::mount(),
            objects::mount(objects.clone(), limiter.clone()),
        ];
        platform::service::check_mounts(SERVICES, &mounts)?;
        platform::service::check_topics(
            SERVICES,
            pubsub.topics().into_iter().map(|(name, _)| name),
        )?;
        cron.check_overrides()
            .map_err(|err| anyhow::anyhow!("`cron.schedules`: {err}"))?;
        Ok(Self {
            fanout,
            limiter,
            cache,
            market,
            portfolio,
            chat,
            subscriptions,
            objects,
            metrics,
            pubsub,
            cron,
            databases,
            mounts: Arc::new(mounts),
            backend,
            clock,
            auth,
            config,
        })
    }

    /// Opens every service's database at once (creating it when missing) and
    /// applies its migrations.
    pub async fn prepare(&self, check: Check) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for db in self.databases.all() {
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
        self.databases.all()
    }

    /// The whole HTTP surface.
    pub fn router(&self) -> anyhow::Result<Router> {
        let http = &self.config.http;
        let observe_state = ObserveState {
            metrics: Arc::clone(&self.metrics),
            timeout: Duration::from_secs(http.timeout_secs),
            trust_forwarded_for: http.trust_forwarded_for,
            hsts: self.config.mode == Mode::Production,
        };
        let api = self
            .mounts
            .iter()
            .fold(Router::new(), |api, mount| api.merge(mount.routes.clone()));
        // The docs are public too: limited per IP like the services' public routes.
        let limited = self.limiter.by_ip();
        let app = api
            .merge(docs::router(openapi_json).route_layer(limited))
            .merge(crate::web::assets::router(&self.config.public_url()))
            .fallback(|| async { ApiError::not_found("no such endpoint") })
            .method_not_allowed_fallback(|| async {
                ApiError::new(
                    platform::ErrCode::Unimplemented,
                    "method not allowed on this endpoint",
                )
                .with_status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
            });
        Ok(platform::middleware::around(
            app,
            observe_state,
            http.body_limit,
            platform::middleware::cors(http)?,
        ))
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
        let limiters: Vec<RateLimiter> = std::iter::once(self.limiter.clone())
            .chain(self.mounts.iter().flat_map(|m| m.limiters.iter().cloned()))
            .collect();
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
        for db in self.databases.all() {
            db.close().await;
        }
    }
}
