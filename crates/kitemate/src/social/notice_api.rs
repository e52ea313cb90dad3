//! HTTP handlers of notifications: a page, marking read, and a stream of
//! new ones (Server-Sent Events).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use validator::Validate;

use super::SocialState;
use super::model::NotificationPage;
use super::service::EVERYONE;
use crate::auth::{Auth, AuthData};

const TAG: &str = "social";
/// How often an open stream checks its session and looks for notices it
/// may have missed.
const CHECK_EVERY: Duration = Duration::from_secs(20);
/// How soon a stream looks again when a signal found nothing yet (the
/// notice's transaction was still committing).
const LOOK_AGAIN: [Duration; 2] = [Duration::from_millis(200), Duration::from_secs(1)];

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// 1–50; 20 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Your notices, newest first: forks and likes of your widgets (likes of
/// one widget gathered while unread) and new followers.
#[utoipa::path(get, path = "/notifications", tag = TAG,
    security(("bearer" = [])),
    params(NoticeQuery),
    responses(
        (status = 200, description = "A page of notices and the unread count", body = NotificationPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_notifications(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<NoticeQuery>,
) -> Result<ApiJson<NotificationPage>, ApiError> {
    let page = state
        .service
        .notifications(
            &caller.user,
            query.cursor.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(ApiJson(page))
}

/// Which notices to mark read.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkRead {
    /// Every notice up to and including this id; every notice when left out.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub up_to: Option<String>,
}

/// An event of the notification stream, as `text/event-stream` carries it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeEvent {
    /// `unread`, `notification` or `end`.
    pub event: String,
    /// `{"unread": n}`, a `Notification`, or why the stream ended (JSON text).
    pub data: String,
    /// A notification's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unread {
    /// Unread notices left, counted up to 100.
    pub unread: i64,
}

/// Mark notices read: up to an id, or all (`{}`).
#[utoipa::path(post, path = "/notifications/read", tag = TAG,
    security(("bearer" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "What is still unread", body = Unread),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn read_notifications(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<MarkRead>,
) -> Result<ApiJson<Unread>, ApiError> {
    let unread = state
        .service
        .mark_read(&caller.user, req.up_to.as_deref())
        .await?;
    Ok(ApiJson(Unread { unread }))
}

/// New notices as they come, as Server-Sent Events.
///
/// First an `unread` event (`{"unread": n}`), then a `notification` event
/// (a `Notification`, with its id as the event id) for each new notice,
/// each followed by a fresh `unread`. Comments keep the connection alive;
/// the stream ends when the session does.
#[utoipa::path(get, path = "/notifications/stream", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = NoticeEvent),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn notification_stream(
    State(state): State<SocialState>,
    Auth(caller): Auth,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let signals = state.service.signals.subscribe();
    let last = state.service.newest_notice(&caller.user).await?;
    let unread = state.service.unread(&caller.user).await?;
    let first = unread_event(unread);
    let watch = Watch {
        state,
        caller,
        signals,
        last,
        retries: Vec::new(),
        ended: false,
    };
    let rest = futures_util::stream::unfold(watch, |mut watch| async move {
        let events = watch.next().await?;
        Some((futures_util::stream::iter(events), watch))
    });
    let stream = futures_util::StreamExt::flatten(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { futures_util::stream::iter(vec![first]) }),
        rest,
    ));
    Ok(Sse::new(futures_util::StreamExt::map(stream, Ok)).keep_alive(KeepAlive::default()))
}

fn unread_event(unread: i64) -> Event {
    Event::default()
        .event("unread")
        .data(serde_json::json!({ "unread": unread }).to_string())
}

/// One open stream: who, what it has sent, and when to look again.
struct Watch {
    state: SocialState,
    caller: AuthData,
    signals: tokio::sync::broadcast::Receiver<String>,
    last: Option<String>,
    /// Times to look again after a signal that found nothing.
    retries: Vec<Duration>,
    ended: bool,
}

impl Watch {
    /// The next events to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Vec<Event>> {
        if self.ended {
            return None;
        }
        loop {
            let wait = self.retries.first().copied().unwrap_or(CHECK_EVERY);
            let signalled = tokio::select! {
                signal = self.signals.recv() => match signal {
                    Ok(user) if user == self.caller.user.id || user == EVERYONE => true,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(wait) => {
                    if self.retries.is_empty() {
                        // The periodic look: is the session still alive?
                        if self.state.auth.session(&self.caller.session_id).await.is_err() {
                            self.ended = true;
                            return Some(vec![Event::default().event("end").data("\"the session has ended\"")]);
                        }
                    } else {
                        self.retries.remove(0);
                    }
                    false
                }
            };
            let Ok(new) = self
                .state
                .service
                .since(&self.caller.user, self.last.as_deref())
                .await
            else {
                continue;
            };
            if new.is_empty() {
                if signalled {
                    self.retries = LOOK_AGAIN.to_vec();
                }
                continue;
            }
            self.retries.clear();
            let mut events = Vec::with_capacity(new.len() + 1);
            for notice in &new {
                let Ok(data) = serde_json::to_string(notice) else {
                    continue;
                };
                events.push(
                    Event::default()
                        .event("notification")
                        .id(notice.id.clone())
                        .data(data),
                );
            }
            self.last = new.last().map(|n| n.id.clone());
            let unread = self
                .state
                .service
                .unread(&self.caller.user)
                .await
                .unwrap_or(0);
            events.push(unread_event(unread));
            return Some(events);
        }
    }
}
