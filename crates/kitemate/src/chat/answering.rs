//! How an answer is made: by the model with the engine's functions as its
//! tools when one is set up, else (or when it fails) by the built-in engine.

use chrono::NaiveDate;
use platform::ApiError;
use tokio::sync::mpsc;

use super::engine::{self, Facts, Intent};
use super::llm::{self, Llm, LlmError, Message};
use super::service::{ChatService, Question, StreamEvent};
use super::store;
use crate::portfolio::model::TradeFilter;

/// Rounds of tool calls a model may make for one answer.
const TOOL_ROUNDS: usize = 4;

/// Earlier messages a model is sent, in tokens.
const HISTORY_TOKENS: usize = 2_000;

/// Earlier messages (questions and answers) read for a follow-up's context,
/// and at most sent to a model before [`HISTORY_TOKENS`] trims them.
const CONTEXT_MESSAGES: i64 = 12;

/// Trades an answer lists (the newest); counts and sums cover them all.
const LISTED_TRADES: usize = 50;

impl ChatService {
    /// The answer, and how many bytes of its text were already streamed:
    /// the model's when one is set up, else (or when it fails) the engine's.
    pub(super) async fn compose(
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

    /// The built-in engine's answer to the question, read as the next of
    /// its conversation: the last few questions are read again, in order,
    /// so that a follow-up ("and TCS?") has the slots it leans on.
    async fn engine(
        &self,
        question: &Question,
        facts: &mut Facts,
        today: NaiveDate,
    ) -> Result<engine::Answer, ApiError> {
        let catalog = engine::names::catalog(&facts.own());
        let mut context = None;
        if let Some(conversation) = &question.existing {
            for (_, earlier) in store::recent_messages(&self.db, &conversation.id, CONTEXT_MESSAGES)
                .await?
                .into_iter()
                .filter(|(role, _)| role == "user")
            {
                context = engine::resolve(&earlier, context.as_ref(), &catalog, today).1;
            }
        }
        let (intent, _) = engine::resolve(&question.message, context.as_ref(), &catalog, today);
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
            let earlier = store::recent_messages(&self.db, &conversation.id, CONTEXT_MESSAGES * 4)
                .await
                .map_err(|err| LlmError::Network(err.to_string()))?;
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
            }
            | Intent::Tally {
                period,
                side,
                symbol,
                ..
            } => {
                let filter = TradeFilter {
                    symbol: symbol.clone(),
                    from: period.as_ref().map(|p| p.from),
                    to: period.as_ref().map(|p| p.to),
                };
                let wanted = side.map(|side| match side {
                    engine::intent::Side::Buy => crate::portfolio::Side::Buy,
                    engine::intent::Side::Sell => crate::portfolio::Side::Sell,
                });
                let tally = self.portfolio.trade_tally(user_id, &filter, wanted).await?;
                // The newest, oldest first; with a side, a page wide enough
                // to hold that many of it in most books.
                let page = if wanted.is_some() {
                    LISTED_TRADES * 4
                } else {
                    LISTED_TRADES
                };
                let mut trades = self
                    .portfolio
                    .trades(user_id, &filter, 0, page)
                    .await?
                    .trades;
                trades.retain(|t| wanted.is_none_or(|w| t.side == w));
                trades.truncate(LISTED_TRADES);
                trades.reverse();
                facts.trades = trades;
                facts.tally = Some(tally);
            }
            Intent::Positions => facts.positions = self.portfolio.positions(user_id).await?,
            Intent::Tax { ask, fy } => {
                let fy = fy.map(engine::period::fy_name);
                facts.gains = Some(
                    self.portfolio
                        .capital_gains(user_id, fy.as_deref(), 0, 0)
                        .await?,
                );
                if *ask == engine::tax::TaxAsk::LongTermLots {
                    facts.harvest = Some(self.portfolio.harvest(user_id, 0, 500).await?);
                }
            }
            Intent::Performance { period } => {
                let from = period.as_ref().map(|p| p.from);
                facts.performance = Some(self.portfolio.performance_since(user_id, from).await?);
            }
            _ => {}
        }
        Ok(engine::answer(intent, facts))
    }
}
