//! A client for any OpenAI-compatible chat-completions endpoint, streaming:
//! text pieces as they come, and tool calls put together from their pieces.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the model is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Up to and without `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: SecretString,
    /// For the whole of one completion.
    pub timeout: Duration,
}

/// A message of the conversation sent to the model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Message {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn text(role: &'static str, content: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A call the model asks for.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text, as the model wrote it (it may not parse).
    pub arguments: String,
}

/// Why the model gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer in time")]
    Timeout,
    #[error("the model's service is busy (429)")]
    RateLimited,
    #[error("the model's service failed ({0})")]
    Status(u16),
    #[error("cannot reach the model's service: {0}")]
    Network(String),
    #[error("the model's reply could not be read: {0}")]
    Malformed(String),
}

/// What one completion came to.
#[derive(Debug, Default)]
pub struct Completion {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolDelta {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Llm {
    config: LlmConfig,
    http: reqwest::Client,
}

impl Llm {
    pub fn new(config: LlmConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self { config, http })
    }

    /// Streams one completion: `on_text` gets each piece of text as it
    /// arrives; tool calls are returned whole.
    pub async fn complete(
        &self,
        messages: &[Message],
        tools: &Value,
        on_text: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Completion, LlmError> {
        tokio::time::timeout(self.config.timeout, self.stream(messages, tools, on_text))
            .await
            .map_err(|_| LlmError::Timeout)?
    }

    async fn stream(
        &self,
        messages: &[Message],
        tools: &Value,
        on_text: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Completion, LlmError> {
        let body = serde_json::json!({
            "model": self.config.model,
            "messages": messages,
            "tools": tools,
            "stream": true,
        });
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut res = self
            .http
            .post(url)
            .bearer_auth(self.config.api_key.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|err| LlmError::Network(err.without_url().to_string()))?;
        match res.status().as_u16() {
            200..=299 => {}
            429 => return Err(LlmError::RateLimited),
            status => return Err(LlmError::Status(status)),
        }
        let mut completion = Completion::default();
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let chunk = res
                .chunk()
                .await
                .map_err(|err| LlmError::Network(err.without_url().to_string()))?;
            let Some(chunk) = chunk else {
                return Err(LlmError::Malformed(
                    "the stream ended without [DONE]".into(),
                ));
            };
            let chunk: bytes::Bytes = chunk;
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else {
                    continue;
                };
                if data == "[DONE]" {
                    return Ok(completion);
                }
                let chunk: Chunk = serde_json::from_str(data)
                    .map_err(|err| LlmError::Malformed(err.to_string()))?;
                for choice in chunk.choices {
                    if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                        completion.text.push_str(&text);
                        if !on_text(&text) {
                            return Err(LlmError::Network("the client went away".into()));
                        }
                    }
                    for part in choice.delta.tool_calls {
                        while completion.tool_calls.len() <= part.index {
                            completion.tool_calls.push(ToolCall {
                                kind: "function",
                                ..ToolCall::default()
                            });
                        }
                        let call = &mut completion.tool_calls[part.index];
                        if let Some(id) = part.id {
                            call.id = id;
                        }
                        if let Some(f) = part.function {
                            call.function.name.push_str(&f.name.unwrap_or_default());
                            call.function
                                .arguments
                                .push_str(&f.arguments.unwrap_or_default());
                        }
                    }
                }
            }
        }
    }
}
