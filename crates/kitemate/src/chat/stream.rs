//! Answers as they are written, as Encore's `streamOut`: a WebSocket at
//! `/chat/stream`, and Server-Sent Events from `POST /chat/query` with
//! `Accept: text/event-stream`. Both carry `{type: "delta", content}`
//! pieces and end with `{type: "done", …the reply}`.

use std::convert::Infallible;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::ToSchema;
use validator::Validate;

use super::ChatState;
use super::service::{ChatReply, StreamEvent, Ticket};
use crate::auth::{Auth, AuthData};

const TAG: &str = "chat";

/// The subprotocol the server speaks; a browser offers it together with its
/// session token: `new WebSocket(url, ["kitemate", token])`.
pub const PROTOCOL: &str = "kitemate";

/// A piece of a streamed answer, as the stream sends it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Piece {
    Delta {
        content: String,
    },
    Done(Box<ChatReply>),
    /// Something went wrong; the question was not counted.
    Error {
        code: String,
        message: String,
    },
}

impl From<StreamEvent> for Piece {
    fn from(event: StreamEvent) -> Self {
        match event {
            StreamEvent::Delta(content) => Self::Delta { content },
            StreamEvent::Done(reply) => Self::Done(reply),
            StreamEvent::Failed(err) => err.into(),
        }
    }
}

impl From<ApiError> for Piece {
    fn from(err: ApiError) -> Self {
        Self::Error {
            code: err.code.as_str().to_string(),
            message: err.message,
        }
    }
}

/// The SSE form of a stream: `event: delta|done|error`, `data: {json}`.
pub fn sse(
    rx: mpsc::UnboundedReceiver<StreamEvent>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let piece = Piece::from(rx.recv().await?);
        let name = match &piece {
            Piece::Delta { .. } => "delta",
            Piece::Done(_) => "done",
            Piece::Error { .. } => "error",
        };
        let event = Event::default()
            .event(name)
            .json_data(&piece)
            .unwrap_or_else(|_| Event::default().event("error"));
        Some((Ok(event), rx))
    });
    Sse::new(events)
}

/// A ticket for `/chat/stream`, for browsers: valid once, for a minute.
#[utoipa::path(post, path = "/chat/stream/ticket", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket", body = Ticket),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn ticket(
    State(state): State<ChatState>,
    Auth(caller): Auth,
) -> Result<ApiJson<Ticket>, ApiError> {
    state.service.issue_ticket(&caller).await.map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// From `POST /chat/stream/ticket`, when the session token cannot be sent.
    pub ticket: Option<String>,
}

/// A question sent over the WebSocket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamQuestion {
    pub message: String,
    pub conversation_id: Option<String>,
}

/// Who is opening the stream: a bearer token, a session token offered as a
/// subprotocol, or a ticket.
async fn caller(
    state: &ChatState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<(AuthData, bool), ApiError> {
    let bearer = crate::auth::bearer_token(headers).ok().map(str::to_string);
    let offered: Vec<String> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    let speaks = offered.iter().any(|p| p == PROTOCOL);
    let in_protocol = offered
        .iter()
        .find(|p| crate::auth::token::looks_valid(p))
        .cloned();
    if let Some(token) = bearer.or(in_protocol) {
        return Ok((state.auth.authenticate(&token).await?, speaks));
    }
    match ticket {
        Some(ticket) => {
            let session = state.service.redeem_ticket(ticket).await?.ok_or_else(|| {
                ApiError::unauthenticated("the ticket is unknown, used or expired")
            })?;
            Ok((state.auth.session(&session).await?, speaks))
        }
        None => Err(ApiError::unauthenticated(
            "send `Authorization: Bearer <token>`, offer the token as a subprotocol \
             (`kitemate`, `<token>`), or use `?ticket=` from POST /chat/stream/ticket",
        )),
    }
}

/// Questions and streamed answers over a WebSocket. Send
/// `{message, conversationId?}`; receive `{type: "delta", content}` pieces and
/// then `{type: "done", …}` with the same fields as `POST /chat/query`, or
/// `{type: "error", code, message}`. Several questions may follow on one
/// connection.
#[utoipa::path(get, path = "/chat/stream", tag = TAG,
    security((), ("bearer" = [])),
    params(StreamQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; messages are `Piece`s", body = Piece),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
        (status = 401, description = "No valid token or ticket", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn websocket(
    State(state): State<ChatState>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let (caller, speaks) = match caller(&state, &headers, query.ticket.as_deref()).await {
        Ok(found) => found,
        Err(err) => return err.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::invalid_argument(format!("not a WebSocket handshake: {rejection}"))
                .into_response();
        }
    };
    let upgrade = if speaks {
        upgrade.protocols([PROTOCOL])
    } else {
        upgrade
    };
    upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| converse(socket, state, caller))
}

/// The largest message the socket reads: a question is at most 1,000
/// characters, so 16 KiB is room enough; larger ones close the socket.
pub const MAX_MESSAGE: usize = 16 * 1024;

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = axum::extract::ws::CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn send(socket: &mut WebSocket, piece: &Piece) -> bool {
    let text = serde_json::to_string(piece).unwrap_or_default();
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn converse(mut socket: WebSocket, state: ChatState, caller: AuthData) {
    let idle = state.service.socket_idle();
    loop {
        let message = match tokio::time::timeout(idle, socket.recv()).await {
            Err(_) => return close(&mut socket, 1000, "idle for too long").await,
            Ok(None) => return,
            // Too large (past `MAX_MESSAGE`) or broken: 1009 says which.
            Ok(Some(Err(err))) => {
                let too_big =
                    err.to_string().contains("too long") || err.to_string().contains("too big");
                return if too_big {
                    close(&mut socket, 1009, "messages are at most 16 KiB").await
                } else {
                    close(&mut socket, 1002, "unreadable message").await
                };
            }
            Ok(Some(Ok(message))) => message,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return,
            _ => continue,
        };
        let question: StreamQuestion = match serde_json::from_str(&text) {
            Ok(q) => q,
            Err(err) => {
                let refusal = ApiError::invalid_argument(format!(
                    "send {{\"message\": \"…\", \"conversationId\": \"…\"}}: {err}"
                ));
                if !send(&mut socket, &refusal.into()).await {
                    return;
                }
                continue;
            }
        };
        // The session is checked again for every question: a logout or a
        // revoked session ends what a socket opened with it may ask.
        let caller = match state.auth.session(&caller.session_id).await {
            Ok(now) => now,
            Err(err) => {
                let _ = send(&mut socket, &err.into()).await;
                return close(&mut socket, 1008, "the session has ended").await;
            }
        };
        let stream = state
            .service
            .ask_stream(
                &caller,
                &question.message,
                question.conversation_id.as_deref(),
            )
            .await;
        let mut rx = match stream {
            Ok(rx) => rx,
            Err(err) => {
                if !send(&mut socket, &err.into()).await {
                    return;
                }
                continue;
            }
        };
        while let Some(event) = rx.recv().await {
            // A closed socket drops `rx`: the answer is then not counted.
            if !send(&mut socket, &event.into()).await {
                return;
            }
        }
    }
}
