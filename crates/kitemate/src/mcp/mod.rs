//! KiteMate as an MCP server (`/mcp`, Streamable HTTP, `rmcp`) and the
//! OAuth 2.1 authorization server that lets an assistant in: read-only
//! tools over the investor's own history, tax and widgets. See docs/mcp.md.

mod api;
mod config;
mod guard;
mod metadata;
pub mod model;
mod oauth;
mod page;
mod redirects;
mod schema;
pub mod scopes;
mod server;
mod service;
mod store;
mod tools;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::get;
use platform::db::DatabaseDecl;
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::McpConfig;
pub use oauth::McpCaller;
pub use server::MAX_RESULT_CHARS;
pub use service::{McpParts, McpService};

use crate::auth::AuthService;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "mcp",
    sqlite: sqlx::migrate!("src/mcp/migrations/sqlite"),
    postgres: sqlx::migrate!("src/mcp/migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct McpState {
    pub service: McpService,
    pub auth: AuthService,
}

impl FromRef<McpState> for AuthService {
    fn from_ref(state: &McpState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<McpState> for McpService {
    fn from_ref(state: &McpState) -> Self {
        state.service.clone()
    }
}

pub static SERVICE: Declaration = Declaration {
    name: "mcp",
    description: "The MCP server for AI assistants and its OAuth authorization server: connected apps",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &["mcp"],
    spec: || router_spec(Limits::off()).into_openapi(),
};

/// The limits on the public routes: every one per address, registration
/// and the authorize forms more tightly.
#[derive(Debug, Clone)]
pub struct Limits {
    pub public: RateLimiter,
    pub registrations: RateLimiter,
    pub authorize: RateLimiter,
}

impl Limits {
    fn off() -> Self {
        Self {
            public: RateLimiter::disabled(),
            registrations: RateLimiter::disabled(),
            authorize: RateLimiter::disabled(),
        }
    }
}

/// The hosts and origins `/mcp` answers: the public URL's, any configured,
/// and loopback (any port) outside production.
fn transport_config(service: &McpService) -> StreamableHttpServerConfig {
    let public = reqwest::Url::parse(&service.issuer()).ok();
    let mut hosts: Vec<String> = service.config().allowed_hosts.clone();
    let mut origins: Vec<String> = service.config().allowed_origins.clone();
    if let Some(url) = &public
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_string());
        origins.push(format!(
            "{}://{}:{}",
            url.scheme(),
            host,
            url.port_or_known_default().unwrap_or(443)
        ));
    }
    if !service.secure_cookies() {
        // Outside production, loopback on any port: a local client's page
        // is loopback too, and a rebinding attack's Host and Origin are not.
        hosts.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        origins.extend(
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"].map(String::from),
        );
    }
    StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
}

pub fn mount(
    state: McpState,
    limits: Limits,
    pubsub: &platform::pubsub::PubSub,
    cron: &platform::cron::Cron,
) -> anyhow::Result<Mount> {
    let service = state.service.clone();
    crate::auth::forget_deleted_users(
        pubsub,
        "mcp-forget",
        &service.db().clone(),
        move |event, mut tx| async move {
            store::forget_user(&mut tx, &event.user_id).await?;
            Ok(tx)
        },
    )?;
    cron.add(
        "tidy-mcp",
        "Delete expired MCP sign-ins, codes and tokens, and connections left with none",
        platform::cron::Schedule::every("1h")?,
        chrono_tz::Tz::UTC,
        move || {
            let service = service.clone();
            async move {
                let deleted = service.tidy().await?;
                tracing::info!(deleted, "MCP authorizations tidied");
                Ok(())
            }
        },
    )?;
    let for_mcp = state.service.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(server::Server::new(for_mcp.clone())),
        Arc::new(LocalSessionManager::default()),
        transport_config(&state.service),
    );
    let guarded =
        axum::Router::new()
            .nest_service("/mcp", mcp)
            .layer(axum::middleware::from_fn_with_state(
                state.service.clone(),
                guard::require_token,
            ));
    let tool_limiter = state.service.tool_limiter().clone();
    let routes = axum::Router::from(router_spec(limits.clone()).with_state(state.clone()));
    let well_known = axum::Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(api::resource_metadata),
        )
        .route_layer(limits.public.by_ip())
        .with_state(state.service);
    Ok(
        Mount::new(&SERVICE, routes.merge(well_known).merge(guarded))
            .with_limiter(limits.registrations)
            .with_limiter(limits.authorize)
            .with_limiter(tool_limiter),
    )
}

pub fn router_spec(limits: Limits) -> OpenApiRouter<McpState> {
    let public = OpenApiRouter::new()
        .routes(routes!(api::resource_metadata))
        .routes(routes!(api::server_metadata))
        .routes(routes!(api::token))
        .routes(routes!(api::revoke))
        .route_layer(limits.public.by_ip());
    let registration = OpenApiRouter::new()
        .routes(routes!(api::register))
        .route_layer(limits.registrations.by_ip());
    // The authorize page is HTML (not in the spec): its own limit, per address.
    let authorize = OpenApiRouter::new()
        .route(
            "/oauth/authorize",
            get(api::authorize).post(api::authorize_post),
        )
        .route_layer(limits.authorize.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::connected_apps))
        .routes(routes!(api::disconnect_app))
        .merge(public)
        .merge(registration)
        .merge(authorize)
}
