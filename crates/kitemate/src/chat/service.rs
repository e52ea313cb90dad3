//! The chat service: a question in, an answer out, counted against the
//! caller's monthly allowance and kept in a conversation.

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Asia::Kolkata;
use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::engine::{self, Data, Facts, Intent, Widget};
use super::llm::{self, Llm, LlmError, Message};
use super::recorder::Recorder;
use super::store::{self, Record};
use crate::auth::{AuthData, Tier};
use crate::portfolio::PortfolioService;

/// Answered questions a month on the Free plan.
pub const FREE_QUESTIONS: i64 = 50;

/// The longest question, in characters.
pub const MAX_MESSAGE: usize = 1000;

/// Rounds of tool calls a model may make for one answer.
const TOOL_ROUNDS: usize = 4;

/// Earlier messages a model is sent, in tokens.
const HISTORY_TOKENS: usize = 2_000;

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
struct Question {
    user_id: String,
    message: String,
    existing: Option<store::ConversationRow>,
    month: String,
    /// Before this question; counted when its answer is stored.
    usage: Usage,
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
    db: Db,
    portfolio: PortfolioService,
    clock: Clock,
    /// The model, when one is set up; else the built-in engine answers.
    llm: Option<Llm>,
    recorder: Recorder,
}

/// The month questions count in, and when the next one starts.
fn month(now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let local = now.with_timezone(&Kolkata);
    let (year, month) = (local.year(), local.month());
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let next = NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| Kolkata.from_local_datetime(&t).single())
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
    pub fn new(db: Db, portfolio: PortfolioService, clock: Clock, llm: Option<Llm>) -> Self {
        Self {
            recorder: Recorder::new(db.clone()),
            db,
            portfolio,
            clock,
            llm,
        }
    }

    /// A ticket that opens `/chat/stream` once, within a minute, as `caller`.
    pub async fn issue_ticket(&self, caller: &AuthData) -> Result<Ticket, ApiError> {
        let ticket = crate::auth::token::generate_state();
        let now = self.clock.now();
        let expires_at = now + chrono::TimeDelta::seconds(TICKET_SECONDS);
        store::put_ticket(
            &self.db,
            &crate::auth::token::digest(&ticket),
            &caller.user_id,
            caller.tier.as_str(),
            now.timestamp_millis(),
            expires_at.timestamp_millis(),
        )
        .await?;
        Ok(Ticket { ticket, expires_at })
    }

    /// The caller a ticket was issued to, using it up; `None` when it is
    /// unknown, used or expired.
    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Option<AuthData>, ApiError> {
        let now = self.clock.now().timestamp_millis();
        Ok(
            store::take_ticket(&self.db, &crate::auth::token::digest(ticket), now)
                .await?
                .map(|(user_id, tier)| AuthData {
                    user_id,
                    tier: if tier == "pro" { Tier::Pro } else { Tier::Free },
                    is_admin: false,
                    session_id: String::new(),
                }),
        )
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn usage(&self, caller: &AuthData) -> Result<Usage, ApiError> {
        let (month, resets_at) = month(self.clock.now());
        Ok(Usage {
            used: store::used(&self.db, &caller.user_id, &month).await?,
            limit: limit(caller.tier),
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
                store::conversation(&self.db, &caller.user_id, id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::invalid_field("conversationId", "no such conversation of yours")
                    })?,
            ),
            None => None,
        };
        let (month, resets_at) = month(self.clock.now());
        let limit = limit(caller.tier);
        // A first look, so that a refusal comes before any answer is worked
        // out or streamed; the count itself is taken when the answer is
        // stored, in one conditional statement.
        // On Pro there is nothing to refuse: the count comes back when the
        // answer is stored.
        let used = match limit {
            Some(limit) => {
                let used = store::used(&self.db, &caller.user_id, &month).await?;
                if used >= limit {
                    return Err(self.exhausted(resets_at));
                }
                used
            }
            None => 0,
        };
        Ok(Question {
            user_id: caller.user_id.clone(),
            message: message.to_string(),
            existing,
            month,
            usage: Usage {
                used,
                limit,
                resets_at,
            },
        })
    }

    fn exhausted(&self, resets_at: DateTime<Utc>) -> ApiError {
        ApiError::resource_exhausted(
            format!(
                "you have asked your {} questions for this month on the Free plan; they start again on {} (or upgrade to Pro)",
                FREE_QUESTIONS,
                resets_at.with_timezone(&Kolkata).format("%-d %B %Y")
            ),
            u64::try_from((resets_at - self.clock.now()).num_seconds()).unwrap_or(0),
        )
    }

    /// Answers a question, sending the answer's pieces to `deltas` as they
    /// come, and stores it, counting it if it was answered.
    async fn finish(
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
        let stored = self
            .recorder
            .record(Record {
                user_id: question.user_id.clone(),
                conversation_id: conversation_id.clone(),
                title: question.existing.is_none().then_some(title),
                now: self.clock.now().timestamp_millis(),
                count: answer
                    .answered
                    .then(|| (question.month.clone(), usage.limit.unwrap_or(i64::MAX))),
                question_id,
                question: question.message.clone(),
                answer_id: message_id.clone(),
                answer: answer.text.clone(),
                data: json(answer.data.as_ref()),
                widget: json(answer.widget.as_ref()),
            })
            .await?;
        match stored {
            // Others took the last questions while this one was answered.
            None => return Err(self.exhausted(usage.resets_at)),
            Some(used) if answer.answered => usage.used = used,
            // Unanswered on Pro: the count was not read before.
            Some(_) if usage.limit.is_none() => {
                usage.used = store::used(&self.db, &question.user_id, &question.month).await?;
            }
            Some(_) => {}
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

    /// The answer, and how many bytes of its text were already streamed:
    /// the model's when one is set up, else (or when it fails) the engine's.
    async fn compose(
        &self,
        question: &Question,
        deltas: Option<&mpsc::UnboundedSender<StreamEvent>>,
    ) -> Result<(engine::Answer, usize), ApiError> {
        let report = self.portfolio.report(&question.user_id).await?;
        let today = report.today;
        let mut facts = Facts::new(report);
        let Some(llm) = &self.llm else {
            return Ok((self.engine(question, &mut facts, today).await?, 0));
        };
        let mut streamed = String::new();
        match self
            .ask_model(llm, question, &mut facts, today, deltas, &mut streamed)
            .await
        {
            Ok(answer) => Ok((answer, streamed.len())),
            // Nobody is listening any more: nothing to fall back for.
            Err(_) if deltas.is_some_and(mpsc::UnboundedSender::is_closed) => {
                Err(ApiError::unavailable("the client went away"))
            }
            Err(err) => {
                tracing::warn!(error = %err, "the model failed; the built-in engine answers");
                let mut answer = self.engine(question, &mut facts, today).await?;
                let lead = if streamed.is_empty() { "" } else { "\n\n" };
                answer.text = format!(
                    "{streamed}{lead}_The assistant is unavailable ({err}); KiteMate's built-in engine answers:_\n\n{}",
                    answer.text
                );
                Ok((answer, streamed.len()))
            }
        }
    }

    /// The built-in engine's answer to the question.
    async fn engine(
        &self,
        question: &Question,
        facts: &mut Facts,
        today: NaiveDate,
    ) -> Result<engine::Answer, ApiError> {
        let catalog = engine::names::catalog(&facts.own());
        let intent = engine::understand(&question.message, &catalog, today);
        self.answer_intent(&question.user_id, &intent, facts).await
    }

    /// The model's answer: it calls the engine's functions as tools, at most
    /// [`TOOL_ROUNDS`] times, and its text streams to `deltas` as it comes.
    async fn ask_model(
        &self,
        llm: &Llm,
        question: &Question,
        facts: &mut Facts,
        today: NaiveDate,
        deltas: Option<&mpsc::UnboundedSender<StreamEvent>>,
        streamed: &mut String,
    ) -> Result<engine::Answer, LlmError> {
        let mut messages = vec![Message::text("system", llm::system_prompt(today))];
        if let Some(conversation) = &question.existing {
            let earlier: Vec<(String, String)> = store::messages(&self.db, &conversation.id)
                .await
                .map_err(|err| LlmError::Network(err.to_string()))?
                .into_iter()
                .map(|m| (m.role, m.content))
                .collect();
            messages.extend(llm::history(&earlier, HISTORY_TOKENS));
        }
        messages.push(Message::text("user", question.message.clone()));
        let tools = llm::tools::definitions();
        let mut used: Option<engine::Answer> = None;
        for _ in 0..TOOL_ROUNDS {
            let mut on_text = |piece: &str| {
                streamed.push_str(piece);
                deltas.is_none_or(|tx| tx.send(StreamEvent::Delta(piece.to_string())).is_ok())
            };
            let completion = llm.complete(&messages, &tools, &mut on_text).await?;
            if completion.tool_calls.is_empty() {
                let text = completion.text;
                let (data, widget) = used.map_or((None, None), |a| (a.data, a.widget));
                return Ok(engine::Answer {
                    answered: !text.trim().is_empty(),
                    text,
                    data,
                    widget,
                });
            }
            messages.push(Message {
                role: "assistant",
                content: (!completion.text.is_empty()).then_some(completion.text),
                tool_calls: completion.tool_calls.clone(),
                tool_call_id: None,
            });
            for call in completion.tool_calls {
                let result = match llm::tools::intent(
                    &call.function.name,
                    &call.function.arguments,
                    today,
                ) {
                    Ok(intent) => {
                        let answer = self
                            .answer_intent(&question.user_id, &intent, facts)
                            .await
                            .map_err(|err| LlmError::Network(err.message))?;
                        let result =
                            serde_json::json!({ "text": answer.text, "data": answer.data });
                        if answer.answered {
                            used = Some(answer);
                        }
                        result
                    }
                    Err(reason) => serde_json::json!({ "error": reason }),
                };
                messages.push(Message {
                    role: "tool",
                    content: Some(result.to_string()),
                    tool_calls: Vec::new(),
                    tool_call_id: Some(call.id),
                });
            }
        }
        Err(LlmError::Malformed(format!(
            "no answer after {TOOL_ROUNDS} rounds of tool calls"
        )))
    }

    /// The engine's answer to `intent`, fetching the trades or positions
    /// it needs.
    async fn answer_intent(
        &self,
        user_id: &str,
        intent: &Intent,
        facts: &mut Facts,
    ) -> Result<engine::Answer, ApiError> {
        match intent {
            Intent::Trades {
                period,
                side,
                symbol,
            } => {
                let mut trades = self
                    .portfolio
                    .trades_between(
                        user_id,
                        symbol.as_deref(),
                        period.as_ref().map(|p| p.from),
                        period.as_ref().map(|p| p.to),
                    )
                    .await?;
                if let Some(side) = side {
                    let wanted = match side {
                        engine::intent::Side::Buy => "buy",
                        engine::intent::Side::Sell => "sell",
                    };
                    trades.retain(|t| t.side == wanted);
                }
                facts.trades = trades;
            }
            Intent::Positions => facts.positions = self.portfolio.positions(user_id).await?,
            _ => {}
        }
        Ok(engine::answer(intent, facts))
    }
}
