//! The chat endpoints.

use axum::extract::{Path, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use platform::{ApiError, ApiJson, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::engine::{Data, Widget};
use super::service::{ChatReply, Usage};
use super::store::{at, parse};
use super::stream::{self, Piece};
use super::{ChatState, store};
use crate::auth::Auth;

const TAG: &str = "chat";

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryRequest {
    /// The question, in plain words (not only spaces).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub message: String,
    /// A conversation of the caller's to continue; a new one when left out.
    pub conversation_id: Option<String>,
}

/// Asks a question about the caller's portfolio. With `Accept:
/// text/event-stream` the answer comes as Server-Sent Events: `delta`
/// events with pieces of the text, then one `done` event with the reply.
#[utoipa::path(post, path = "/chat/query", tag = TAG,
    security(("bearer" = [])),
    request_body = QueryRequest,
    responses(
        (status = 200, description = "The answer (JSON), or its stream (`text/event-stream` of `Piece`s)", content(
            (ChatReply = "application/json"),
            (Piece = "text/event-stream"),
        )),
        (status = 400, description = "`message` empty or too long", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "`conversationId` is not a conversation of the caller's", body = ErrorBody),
        (status = 429, description = "The Free plan's questions for this month are used up (naming the reset date), two questions are being answered already, or too many a minute (`resource_exhausted`)", body = ErrorBody),
    ))]
pub async fn query(
    State(state): State<ChatState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    ApiJson(req): ApiJson<QueryRequest>,
) -> Result<Response, ApiError> {
    let streamed = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let conversation = req.conversation_id.as_deref();
    if streamed {
        let rx = state
            .service
            .ask_stream(&caller, &req.message, conversation)
            .await?;
        return Ok(stream::sse(rx).into_response());
    }
    let reply = state
        .service
        .ask(&caller, &req.message, conversation)
        .await?;
    Ok(ApiJson(reply).into_response())
}

/// The caller's questions this month.
#[utoipa::path(get, path = "/chat/usage", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Used, limit and reset", body = Usage),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn usage(
    State(state): State<ChatState>,
    Auth(caller): Auth,
) -> Result<ApiJson<Usage>, ApiError> {
    state.service.usage(&caller).await.map(ApiJson)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationInfo {
    pub id: String,
    /// The first question, shortened.
    pub title: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationList {
    /// Most recent first, at most 100.
    pub conversations: Vec<ConversationInfo>,
}

/// The caller's conversations.
#[utoipa::path(get, path = "/chat/conversations", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Conversations", body = ConversationList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn conversations(
    State(state): State<ChatState>,
    Auth(caller): Auth,
) -> Result<ApiJson<ConversationList>, ApiError> {
    let rows = store::conversations(state.service.db(), &caller.user.id, 100).await?;
    Ok(ApiJson(ConversationList {
        conversations: rows
            .into_iter()
            .map(|c| ConversationInfo {
                id: c.id,
                title: c.title,
                created_at: at(c.created_at),
                updated_at: at(c.updated_at),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageInfo {
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    pub data: Option<Data>,
    pub widget: Option<Widget>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Oldest first.
    pub messages: Vec<MessageInfo>,
}

fn not_found() -> ApiError {
    ApiError::not_found("no such conversation")
}

/// One of the caller's conversations with its messages. Another user's is
/// not found, as if it did not exist.
#[utoipa::path(get, path = "/chat/conversations/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation of the caller's", body = ErrorBody),
    ))]
pub async fn conversation(
    State(state): State<ChatState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Conversation>, ApiError> {
    let db = state.service.db();
    let found = store::conversation(db, &caller.user.id, &id)
        .await?
        .ok_or_else(not_found)?;
    let messages = store::messages(db, &found.id).await?;
    Ok(ApiJson(Conversation {
        id: found.id,
        title: found.title,
        created_at: at(found.created_at),
        messages: messages
            .into_iter()
            .map(|m| MessageInfo {
                id: m.id,
                role: m.role,
                content: m.content,
                data: parse(m.data.as_deref()),
                widget: parse(m.widget.as_deref()),
                created_at: at(m.created_at),
            })
            .collect(),
    }))
}

/// Deletes one of the caller's conversations with its messages.
#[utoipa::path(delete, path = "/chat/conversations/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The conversation")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation of the caller's", body = ErrorBody),
    ))]
pub async fn delete_conversation(
    State(state): State<ChatState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_conversation(state.service.db(), &caller.user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
