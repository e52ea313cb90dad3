//! The chat service: questions about the caller's own portfolio answered in
//! plain words, with the figures behind them; conversations; the monthly
//! allowance of the Free plan.

mod account;
mod answering;
mod api;
mod config;
pub mod engine;
pub mod llm;
mod recorder;
mod service;
mod store;
pub mod stream;

use axum::extract::FromRef;
use platform::db::DatabaseDecl;
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{ChatConfig, LLM_API_KEY, LlmSettings};
pub use service::{ChatReply, ChatService, FREE_QUESTIONS, Spent, StreamEvent, Ticket, Usage};

use crate::auth::AuthService;

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "chat",
    sqlite: sqlx::migrate!("src/chat/migrations/sqlite"),
    postgres: sqlx::migrate!("src/chat/migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct ChatState {
    pub service: ChatService,
    pub auth: AuthService,
}

impl FromRef<ChatState> for AuthService {
    fn from_ref(state: &ChatState) -> Self {
        state.auth.clone()
    }
}

/// The chat service.
pub static SERVICE: Declaration = Declaration {
    name: "chat",
    description: "Questions about the signed-in user's portfolio, answered",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &["chat", "llm"],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it; `limiter` is the shared per-IP one.
pub fn mount(
    state: ChatState,
    limiter: RateLimiter,
    pubsub: &platform::pubsub::PubSub,
) -> anyhow::Result<Mount> {
    let service = state.service.clone();
    let db = service.db().clone();
    crate::auth::forget_deleted_users(pubsub, "chat-forget", &db, move |event, mut tx| {
        let service = service.clone();
        async move {
            service.forget_user_in(&mut tx, &event.user_id).await?;
            Ok(tx)
        }
    })?;
    let questions = state.service.limiter().clone();
    Ok(Mount::new(&SERVICE, router(state, limiter)).with_limiter(questions))
}

/// `limiter` guards the one route open without a bearer header: the
/// WebSocket, which takes a ticket or a token offered as a subprotocol.
pub fn router(state: ChatState, limiter: RateLimiter) -> OpenApiRouter {
    router_spec(limiter).with_state(state)
}

pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<ChatState> {
    let public = OpenApiRouter::new()
        .routes(routes!(stream::websocket))
        .route_layer(limiter.by_ip());
    OpenApiRouter::new()
        .routes(routes!(api::query))
        .routes(routes!(api::usage))
        .routes(routes!(stream::ticket))
        .routes(routes!(api::conversations))
        .routes(routes!(api::conversation, api::delete_conversation))
        .merge(public)
}
