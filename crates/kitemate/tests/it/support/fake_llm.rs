//! A fake OpenAI-compatible chat-completions server: it plays a script of
//! replies (streamed text, tool calls, errors, slowness, garbage) and keeps
//! every request it was sent, headers and body.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One reply of the script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Text in these pieces.
    Text(Vec<String>),
    /// A call of `name` with these arguments (sent in two pieces).
    Tool(String, String),
    /// An HTTP error.
    Status(u16),
    /// Text after a wait before the first piece.
    Slow(Duration, Vec<String>),
    /// A stream that is not JSON.
    Garbage,
    /// Text with a wait before every piece.
    Drip(Duration, Vec<String>),
}

#[derive(Debug, Default)]
struct Shared {
    script: VecDeque<Step>,
    requests: Vec<(HeaderMap, Value)>,
    /// Streams whose reader went away before the last piece.
    abandoned: usize,
}

/// Counts a stream as abandoned when it is dropped unfinished.
struct Unfinished {
    shared: Arc<Mutex<Shared>>,
    finished: bool,
}

impl Unfinished {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.finished {
            self.shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .abandoned += 1;
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeLlm {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn text_chunk(piece: &str) -> String {
    data(&json!({ "choices": [{ "index": 0, "delta": { "content": piece } }] }))
}

impl FakeLlm {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, shared })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn then(&self, step: Step) -> &Self {
        self.lock().script.push_back(step);
        self
    }

    /// Streamed answers the app stopped reading before their end.
    pub fn abandoned(&self) -> usize {
        self.lock().abandoned
    }

    pub fn requests(&self) -> Vec<(HeaderMap, Value)> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn complete(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let step = {
        let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared
            .requests
            .push((headers, serde_json::from_str(&body).unwrap_or(Value::Null)));
        shared
            .script
            .pop_front()
            .unwrap_or(Step::Text(vec!["(nothing scripted)".into()]))
    };
    let (wait, chunks): (Duration, Vec<String>) = match step {
        Step::Status(status) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (
                code,
                axum::Json(json!({ "error": { "message": "scripted failure" } })),
            )
                .into_response();
        }
        Step::Text(pieces) => (
            Duration::ZERO,
            pieces.iter().map(|p| text_chunk(p)).collect(),
        ),
        Step::Slow(wait, pieces) => (wait, pieces.iter().map(|p| text_chunk(p)).collect()),
        Step::Tool(name, arguments) => {
            let half = arguments.len() / 2;
            let (a, b) = arguments.split_at(half);
            (
                Duration::ZERO,
                vec![
                    data(
                        &json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [{ "index": 0, "id": "call_1", "type": "function", "function": { "name": name, "arguments": a } }] } }] }),
                    ),
                    data(
                        &json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [{ "index": 0, "function": { "arguments": b } }] } }] }),
                    ),
                    data(
                        &json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls" }] }),
                    ),
                ],
            )
        }
        Step::Garbage => (Duration::ZERO, vec!["data: {not json\n\n".to_string()]),
        Step::Drip(every, pieces) => {
            let chunks = pieces.iter().map(|p| text_chunk(p)).collect();
            return sse(&shared, every, every, chunks);
        }
    };
    sse(&shared, wait, Duration::ZERO, chunks)
}

/// The chunks as an SSE body, the first after `first`, each next after `every`.
fn sse(
    shared: &Arc<Mutex<Shared>>,
    first: Duration,
    every: Duration,
    mut chunks: Vec<String>,
) -> Response {
    chunks.push("data: [DONE]\n\n".to_string());
    let unfinished = Unfinished {
        shared: Arc::clone(shared),
        finished: false,
    };
    let stream = futures_util::stream::unfold(
        (first, chunks.into_iter(), unfinished),
        move |(wait, mut rest, mut unfinished)| async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let Some(next) = rest.next() else {
                unfinished.finish();
                return None;
            };
            Some((
                Ok::<_, std::convert::Infallible>(next),
                (every, rest, unfinished),
            ))
        },
    );
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}
