//! Chat through a language model: any OpenAI-compatible endpoint, streamed,
//! with the built-in engine's query functions as its tools. The prompt holds
//! the rules, the caller's own conversation and tool results: no secrets and
//! nobody else's data.

pub mod client;
pub mod tools;

pub use client::{Llm, LlmConfig, LlmError, Message};

/// What the model is told before the conversation.
pub fn system_prompt(today: chrono::NaiveDate) -> String {
    format!(
        "You are KiteMate's assistant. You answer questions about the user's own Zerodha \
         portfolio. Today is {today} (India). Every number you state must come from a tool \
         result: call the tools for figures and never estimate, round differently or invent one. \
         Amounts are Indian rupees; write them like ₹1,23,456. Answer in at most a few short \
         sentences of markdown. If the tools cannot answer, say so. You do not place orders or \
         give investment advice."
    )
}

/// Earlier messages of the conversation, newest kept, within `budget`
/// tokens (counted as four characters each).
pub fn history(earlier: &[(String, String)], budget: usize) -> Vec<Message> {
    let mut left = budget.saturating_mul(4);
    let mut kept = Vec::new();
    for (role, content) in earlier.iter().rev() {
        let Some(rest) = left.checked_sub(content.len()) else {
            break;
        };
        left = rest;
        let role = if role == "assistant" {
            "assistant"
        } else {
            "user"
        };
        kept.push(Message::text(role, content.clone()));
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_within_the_budget() {
        let earlier: Vec<(String, String)> = (0..10)
            .map(|i| {
                (
                    "user".to_string(),
                    format!("question {i:02} {}", "x".repeat(28)),
                )
            })
            .collect();
        // Each message is 40 characters, 10 tokens: 25 tokens keep two.
        let kept = history(&earlier, 25);
        let texts: Vec<&str> = kept.iter().filter_map(|m| m.content.as_deref()).collect();
        assert_eq!(texts.len(), 2);
        assert!(texts[0].starts_with("question 08") && texts[1].starts_with("question 09"));
        assert!(history(&earlier, 0).is_empty());
    }
}
