//! The chat service: a question in, an answer out, counted against the
//! caller's monthly allowance and kept in a conversation.

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Utc};
use platform::ApiError;
use platform::clock::Clock;
use platform::clock::IST;
use platform::db::Db;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use platform::inflight::{InFlight, Place};
use platform::ratelimit::RateLimiter;

use super::config::ChatConfig;
use super::engine::{Data, Widget};
use super::llm::Llm;
use super::recorder::Recorder;
use super::store::{self, Record};
use crate::auth::{AuthData, Tier};
use crate::portfolio::PortfolioService;

/// Answered questions a month on the Free plan.
pub const FREE_QUESTIONS: i64 = 50;

/// The longest question, in characters.
pub const MAX_MESSAGE: usize = 1000;

/// How long a stream ticket lasts.
const TICKET_SECONDS: i64 = 60;

/// Opens `/chat/stream` once: `?ticket=…`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// A piece of a streamed answer.
#[derive(Debug)]
pub enum StreamEvent {
    /// More of the answer's text.
    Delta(String),
    /// The whole answer, as `POST /chat/query` gives it.
    Done(Box<ChatReply>),
    /// The answer failed after it started; the question was not counted.
    Failed(ApiError),
}

/// A question taken from the allowance, not yet answered.
#[derive(Debug)]
pub(super) struct Question {
    pub(super) user_id: String,
    pub(super) message: String,
    pub(super) existing: Option<store::ConversationRow>,
    month: String,
    /// On Free, with this question reserved; on Pro, before it (counted
    /// when its answer is stored).
    usage: Usage,
    /// Whether a question was taken from the allowance for this one, to
    /// give back if the server or the model fails.
    reserved: bool,
    /// Holds one of the user's places in flight until the answer ends.
    _in_flight: Place,
}

/// One use of the allowance taken by [`ChatService::spend_one`].
#[derive(Debug)]
pub struct Spent {
    user_id: String,
    month: String,
    reserved: bool,
}

/// The caller's allowance this month.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub used: i64,
    /// `null` on Pro: no limit.
    pub limit: Option<i64>,
    /// When the count starts again: the first of next month, midnight IST.
    pub resets_at: DateTime<Utc>,
}

/// An answer, as `POST /chat/query` returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatReply {
    pub conversation_id: String,
    pub message_id: String,
    /// Short markdown.
    pub answer: String,
    /// The figures behind the answer, when there are any.
    pub data: Option<Data>,
    /// A widget that would show this answer.
    pub widget: Option<Widget>,
    /// False when the question could not be answered; it is not counted.
    pub answered: bool,
    pub usage: Usage,
}

#[derive(Debug, Clone)]
pub struct ChatService {
    pub(super) db: Db,
    pub(super) portfolio: PortfolioService,
    clock: Clock,
    /// The model, when one is set up; else the built-in engine answers.
    pub(super) llm: Option<Llm>,
    recorder: Recorder,
    config: ChatConfig,
    /// Questions per user and minute, on every plan.
    limiter: RateLimiter,
    /// Questions being answered per user (across replicas with Redis).
    in_flight: InFlight,
}

/// The month questions count in, and when the next one starts.
fn month(now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let local = now.with_timezone(&IST);
    let (year, month) = (local.year(), local.month());
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let next = NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| IST.from_local_datetime(&t).single())
        .map_or(now, |t| t.with_timezone(&Utc));
    (format!("{year}-{month:02}"), next)
}

fn json<T: Serialize>(value: Option<&T>) -> Option<String> {
    value.and_then(|v| serde_json::to_string(v).ok())
}

fn limit(tier: Tier) -> Option<i64> {
    match tier {
        Tier::Free => Some(FREE_QUESTIONS),
        Tier::Pro => None,
    }
}

impl ChatService {
    /// `limiter` counts questions per user and minute and `in_flight`
    /// those being answered (both in Redis when replicas share one).
    pub fn new(
        db: Db,
        portfolio: PortfolioService,
        clock: Clock,
        llm: Option<Llm>,
        config: ChatConfig,
        limiter: RateLimiter,
        in_flight: InFlight,
    ) -> Self {
        Self {
            recorder: Recorder::new(db.clone()),
            db,
            portfolio,
            clock,
            llm,
            config,
            limiter,
            in_flight,
        }
    }

    /// The per-user question limiter, for upkeep.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// How long a chat WebSocket may stay silent.
    pub fn socket_idle(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.socket_idle_secs)
    }

    /// A ticket that opens `/chat/stream` once, within a minute, as `caller`.
    pub async fn issue_ticket(&self, caller: &AuthData) -> Result<Ticket, ApiError> {
        let ticket = crate::auth::token::generate_state();
        let now = self.clock.now();
        let expires_at = now + chrono::TimeDelta::seconds(TICKET_SECONDS);
        store::put_ticket(
            &self.db,
            &crate::auth::token::digest(&ticket),
            &caller.session_id,
            now.timestamp_millis(),
            expires_at.timestamp_millis(),
        )
        .await?;
        Ok(Ticket { ticket, expires_at })
    }

    /// Deletes expired stream tickets (unused ones would stay otherwise);
    /// answers how many.
    pub async fn tidy_tickets(&self) -> Result<u64, ApiError> {
        Ok(store::delete_expired_tickets(&self.db, self.clock.now().timestamp_millis()).await?)
    }

    /// The session a ticket was issued to, using it up; `None` when it is
    /// unknown, used or expired.
    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Option<String>, ApiError> {
        let now = self.clock.now().timestamp_millis();
        Ok(store::take_ticket(&self.db, &crate::auth::token::digest(ticket), now).await?)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn usage(&self, caller: &AuthData) -> Result<Usage, ApiError> {
        let (month, resets_at) = month(self.clock.now());
        Ok(Usage {
            used: store::used(&self.db, &caller.user.id, &month).await?,
            limit: limit(caller.user.tier),
            resets_at,
        })
    }

    /// Answers `message` for the caller, in `conversation_id` or a new
    /// conversation. The question is counted only if it is answered.
    pub async fn ask(
        &self,
        caller: &AuthData,
        message: &str,
        conversation_id: Option<&str>,
    ) -> Result<ChatReply, ApiError> {
        let question = self.take(caller, message, conversation_id).await?;
        self.finish(&question, None).await
    }

    /// As [`ChatService::ask`], streamed: refusals (a bad message, no
    /// questions left) come back at once; then the answer comes in pieces
    /// and ends with [`StreamEvent::Done`]. If the receiver goes away
    /// before the end, the answer is not delivered and not counted.
    pub async fn ask_stream(
        &self,
        caller: &AuthData,
        message: &str,
        conversation_id: Option<&str>,
    ) -> Result<mpsc::UnboundedReceiver<StreamEvent>, ApiError> {
        let question = self.take(caller, message, conversation_id).await?;
        // Unbounded: a model's pieces are sent as they arrive, without
        // waiting; an answer is a few kilobytes at most.
        let (tx, rx) = mpsc::unbounded_channel();
        let service = self.clone();
        tokio::spawn(async move {
            let end = match service.finish(&question, Some(&tx)).await {
                Ok(reply) => StreamEvent::Done(Box::new(reply)),
                Err(err) => StreamEvent::Failed(err),
            };
            let _ = tx.send(end);
        });
        Ok(rx)
    }

    /// Checks the question and takes it from the caller's allowance.
    async fn take(
        &self,
        caller: &AuthData,
        message: &str,
        conversation_id: Option<&str>,
    ) -> Result<Question, ApiError> {
        let message = message.trim();
        if message.is_empty() {
            return Err(ApiError::invalid_field("message", "must not be empty"));
        }
        if message.chars().count() > MAX_MESSAGE {
            return Err(ApiError::invalid_field(
                "message",
                format!("must be at most {MAX_MESSAGE} characters"),
            ));
        }
        let existing = match conversation_id {
            Some(id) => Some(
                store::conversation(&self.db, &caller.user.id, id)
                    .await?
                    .ok_or_else(|| {
                        let reason = "no such conversation of yours";
                        ApiError::not_found(format!("conversationId: {reason}")).with_details(
                            serde_json::json!({ "field": "conversationId", "reason": reason }),
                        )
                    })?,
            ),
            None => None,
        };
        let key = format!("chat:{}", caller.user.id);
        if let Err(wait) = self.limiter.check(&key).await {
            return Err(ApiError::resource_exhausted(
                format!(
                    "at most {} questions a minute; ask again in a moment",
                    self.config.questions_per_minute
                ),
                wait.as_secs_f64().ceil() as u64,
            ));
        }
        let in_flight = self
            .in_flight
            .enter(&key, self.config.in_flight)
            .await
            .ok_or_else(|| {
                ApiError::resource_exhausted(
                    format!(
                        "{} of your questions are being answered; ask when one is done",
                        self.config.in_flight
                    ),
                    1,
                )
            })?;
        let (month, resets_at) = month(self.clock.now());
        let limit = limit(caller.user.tier);
        // Reserved before anything is spent on it (a model's completion, a
        // stream): concurrent questions cannot take the same last one, and a
        // client that leaves has still used it. On Pro there is nothing to
        // refuse: the count comes when the answer is stored.
        let (used, reserved) = match limit {
            Some(limit) => {
                let used = self
                    .recorder
                    .reserve(&caller.user.id, &month, limit)
                    .await?
                    .ok_or_else(|| self.exhausted(resets_at))?;
                (used, true)
            }
            None => (0, false),
        };
        Ok(Question {
            user_id: caller.user.id.clone(),
            message: message.to_string(),
            existing,
            month,
            usage: Usage {
                used,
                limit,
                resets_at,
            },
            reserved,
            _in_flight: in_flight,
        })
    }

    /// Takes one use from `user`'s monthly allowance for something that
    /// is not a chat question but counts as one (an MCP tool call), before
    /// it runs; on Pro there is nothing to take. Give it back with
    /// [`ChatService::give_back`] when the server fails it.
    pub async fn spend_one(&self, user: &crate::auth::User) -> Result<Spent, ApiError> {
        let (month, resets_at) = month(self.clock.now());
        let reserved = match limit(user.tier) {
            Some(limit) => {
                self.recorder
                    .reserve(&user.id, &month, limit)
                    .await?
                    .ok_or_else(|| self.exhausted(resets_at))?;
                true
            }
            None => false,
        };
        Ok(Spent {
            user_id: user.id.clone(),
            month,
            reserved,
        })
    }

    /// Gives back what [`ChatService::spend_one`] took.
    pub async fn give_back(&self, spent: Spent) {
        if spent.reserved
            && let Err(err) = self.recorder.refund(&spent.user_id, &spent.month).await
        {
            tracing::error!(error = %err, user_id = spent.user_id, "a reserved use was not given back");
        }
    }

    /// Gives back the question's reservation: the server or the model
    /// failed, or it could not be answered (which is never counted).
    async fn refund(&self, question: &Question) {
        if !question.reserved {
            return;
        }
        if let Err(err) = self
            .recorder
            .refund(&question.user_id, &question.month)
            .await
        {
            tracing::error!(error = %err, user_id = question.user_id, "a reserved question was not given back");
        }
    }

    fn exhausted(&self, resets_at: DateTime<Utc>) -> ApiError {
        ApiError::resource_exhausted(
            format!(
                "you have asked your {} questions for this month on the Free plan; they start again on {} (or upgrade to Pro)",
                FREE_QUESTIONS,
                resets_at.with_timezone(&IST).format("%-d %B %Y")
            ),
            u64::try_from((resets_at - self.clock.now()).num_seconds()).unwrap_or(0),
        )
    }

    /// Answers a question, sending the answer's pieces to `deltas` as they
    /// come, and stores it. A reserved question is given back when the
    /// server or the model failed, or it could not be answered; not when
    /// the client left (what was spent on it was spent).
    async fn finish(
        &self,
        question: &Question,
        deltas: Option<&mpsc::UnboundedSender<StreamEvent>>,
    ) -> Result<ChatReply, ApiError> {
        let left = || deltas.is_some_and(mpsc::UnboundedSender::is_closed);
        match self.answer_and_store(question, deltas).await {
            Ok(reply) => {
                if !reply.answered {
                    self.refund(question).await;
                }
                Ok(reply)
            }
            Err(err) => {
                if !left() {
                    self.refund(question).await;
                }
                Err(err)
            }
        }
    }

    async fn answer_and_store(
        &self,
        question: &Question,
        deltas: Option<&mpsc::UnboundedSender<StreamEvent>>,
    ) -> Result<ChatReply, ApiError> {
        let (answer, streamed) = self.compose(question, deltas).await?;
        if let Some(tx) = deltas {
            for piece in answer.text[streamed..].split_inclusive('\n') {
                tx.send(StreamEvent::Delta(piece.to_string()))
                    .map_err(|_| ApiError::unavailable("the client went away"))?;
            }
        }
        let mut usage = question.usage.clone();
        let conversation_id = question
            .existing
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |c| c.id.clone());
        let question_id = uuid::Uuid::now_v7().to_string();
        let message_id = uuid::Uuid::now_v7().to_string();
        let title: String = question.message.chars().take(80).collect();
        let counted = self
            .recorder
            .record(Record {
                user_id: question.user_id.clone(),
                conversation_id: conversation_id.clone(),
                title: question.existing.is_none().then_some(title),
                now: self.clock.now().timestamp_millis(),
                // Free questions were counted when reserved; Pro ones now.
                count: (answer.answered && !question.reserved).then(|| question.month.clone()),
                question_id,
                question: question.message.clone(),
                answer_id: message_id.clone(),
                answer: answer.text.clone(),
                data: json(answer.data.as_ref()),
                widget: json(answer.widget.as_ref()),
            })
            .await?;
        if !question.reserved {
            usage.used = if answer.answered {
                counted
            } else {
                // Unanswered on Pro: the count was not read before.
                store::used(&self.db, &question.user_id, &question.month).await?
            };
        } else if !answer.answered {
            // Unanswered on Free: its reservation is given back.
            usage.used -= 1;
        }
        Ok(ChatReply {
            conversation_id,
            message_id,
            answer: answer.text,
            data: answer.data,
            widget: answer.widget,
            answered: answer.answered,
            usage,
        })
    }
}
