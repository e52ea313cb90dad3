//! Chat through a language model, against a fake OpenAI-compatible server:
//! streamed text, tool calls answered by the engine with the caller's own
//! figures, malformed tool arguments, and slow, failing or garbled replies,
//! which the built-in engine answers instead, saying so.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chat::answers::{ask, with_trades};
use crate::support::fake_llm::{FakeLlm, Step};
use crate::support::{Kind, TestApp, TestResult};

const KEY: &str = "sk-test-not-a-real-key-4242";

pub const ASHA: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,7,1400,1001,2001,2024-01-02T10:00:00
";

const RAVI: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
HDFCBANK,INE040A01034,2024-01-02,NSE,EQ,EQ,buy,false,3,1500,1001,2001,2024-01-02T10:00:00
";

async fn app_with(fake: &FakeLlm, timeout_ms: u64) -> anyhow::Result<TestApp> {
    model_app(fake, timeout_ms, |_| {}).await
}

/// An app whose chat goes to `fake`, with `change` made to its settings.
pub async fn model_app(
    fake: &FakeLlm,
    timeout_ms: u64,
    change: impl FnOnce(&mut kitemate::Config),
) -> anyhow::Result<TestApp> {
    let base_url = fake.base_url();
    TestApp::spawn_with(Kind::Sqlite, move |config| {
        change(config);
        let secrets = config.data_dir.join("llm-secrets.env");
        let _ = std::fs::create_dir_all(&config.data_dir);
        let _ = std::fs::write(&secrets, format!("LLM_API_KEY={KEY}\n"));
        config.secrets_file = Some(secrets);
        config.llm.base_url = base_url;
        config.llm.model = "fake-model".into();
        config.llm.timeout_ms = timeout_ms;
    })
    .await
}

fn words(pieces: &[&str]) -> Vec<String> {
    pieces.iter().map(|p| (*p).to_string()).collect()
}

/// The `role` messages of a request the fake was sent.
fn messages<'a>(body: &'a Value, role: &str) -> Vec<&'a Value> {
    body["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == role).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_model_answers_from_tool_results() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = app_with(&fake, 5_000).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    let ravi = with_trades(&app, "ravi", RAVI).await?;
    fake.then(Step::Tool(
        "security_position".into(),
        r#"{"symbol": "INFY"}"#.into(),
    ))
    .then(Step::Text(words(&["You hold ", "7 shares", " of INFY."])));

    let res = app
        .client
        .post(app.url("/chat/query"))
        .bearer_auth(&asha)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "How many Infosys shares do I have?" }))
        .send()
        .await?;
    let body = res.text().await?;
    let deltas: Vec<String> = body
        .split("\n\n")
        .filter(|b| b.contains("event: delta"))
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|d| d["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        deltas,
        ["You hold ", "7 shares", " of INFY."],
        "the model's pieces, as they came"
    );
    let done: Value = body
        .split("\n\n")
        .find(|b| b.contains("event: done"))
        .and_then(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(serde_json::from_str)
        .transpose()?
        .unwrap_or_default();
    assert_eq!(done["answer"], "You hold 7 shares of INFY.");
    assert_eq!(
        done["data"]["rows"][0]["symbol"], "INFY",
        "the tool's figures come along"
    );
    assert_eq!(done["usage"]["used"], 1);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "a tool call, then the answer");
    let (headers, first) = &requests[0];
    assert_eq!(headers["authorization"], format!("Bearer {KEY}").as_str());
    assert_eq!(
        (first["model"].as_str(), first["stream"].as_bool()),
        (Some("fake-model"), Some(true))
    );
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        tools.contains(&"security_position") && tools.contains(&"trades"),
        "{tools:?}"
    );
    let results = messages(&requests[1].1, "tool");
    let result = results
        .first()
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    assert!(
        result.contains("7 shares"),
        "the engine ran the tool: {result}"
    );
    // The prompt holds no secret and nothing of anyone else.
    for (_, body) in &requests {
        let text = body.to_string();
        for secret in [KEY, asha.as_str(), ravi.as_str(), "HDFCBANK"] {
            assert!(!text.contains(secret), "{secret} must not reach the model");
        }
    }

    // The next question in the conversation carries the earlier ones.
    fake.then(Step::Text(words(&["Still 7."])));
    let next = ask(
        &app,
        &asha,
        json!({ "message": "and now?", "conversationId": done["conversationId"] }),
    )
    .await?;
    assert_eq!(next.json()["answer"], "Still 7.");
    let last = fake.requests().pop().map(|(_, b)| b).unwrap_or_default();
    let earlier: Vec<&str> = messages(&last, "user")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(earlier, ["How many Infosys shares do I have?", "and now?"]);
    assert_eq!(
        messages(&last, "assistant")[0]["content"],
        "You hold 7 shares of INFY."
    );
    app.stop().await
}

#[tokio::test]
async fn malformed_tool_arguments_are_sent_back_to_the_model() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = app_with(&fake, 5_000).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    fake.then(Step::Tool(
        "security_position".into(),
        "{\"symbol\": INFY".into(),
    ))
    .then(Step::Tool(
        "allocation".into(),
        r#"{"by": "planet"}"#.into(),
    ))
    .then(Step::Tool(
        "security_position".into(),
        r#"{"symbol": "INFY"}"#.into(),
    ))
    .then(Step::Text(words(&["7 shares."])));
    let reply = ask(&app, &asha, json!({ "message": "how many infy" })).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["answer"], "7 shares.");
    let requests = fake.requests();
    let said = |i: usize| {
        messages(&requests[i].1, "tool")
            .last()
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        said(1).contains("invalid arguments for security_position"),
        "{}",
        said(1)
    );
    assert!(
        said(2).contains("`by` cannot be \\\"planet\\\""),
        "{}",
        said(2)
    );
    app.stop().await
}

#[tokio::test]
async fn failures_fall_back_to_the_engine_and_say_so() -> TestResult {
    let fake = FakeLlm::start().await?;
    // A timeout no loaded machine reaches by accident, and a model slower
    // than any timeout for the case that wants one.
    let app = app_with(&fake, 3_000).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    let cases = [
        (Step::Status(429), "busy (429)"),
        (Step::Status(500), "failed (500)"),
        (
            Step::Slow(Duration::from_secs(60), words(&["late"])),
            "did not answer in time",
        ),
        (Step::Garbage, "could not be read"),
    ];
    for (step, why) in cases {
        fake.then(step);
        let reply = ask(&app, &asha, json!({ "message": "how many INFY do I have" })).await?;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let answer = reply.json()["answer"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            answer.contains("The assistant is unavailable") && answer.contains(why),
            "{answer}"
        );
        assert!(
            answer.contains("7 shares"),
            "the built-in engine answered: {answer}"
        );
    }
    // Four answers were delivered, so four were counted.
    assert_eq!(app.get("/chat/usage", Some(&asha)).await?.json()["used"], 4);
    app.stop().await
}

/// A client that leaves in the middle of a streamed answer was not given
/// it: nothing is stored, but the question was spent (the model ran for it),
/// so it stays counted.
#[tokio::test]
async fn an_answer_left_half_way_is_counted_not_stored() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = app_with(&fake, 10_000).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    // Ten pieces a tenth of a second apart: the whole answer takes a second.
    let slow: Vec<String> = (0..10).map(|i| format!("piece {i} ")).collect();
    fake.then(Step::Drip(Duration::from_millis(100), slow));
    let mut res = app
        .client
        .post(app.url("/chat/query"))
        .bearer_auth(&asha)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "how many INFY do I have" }))
        .send()
        .await?;
    let first = res.chunk().await?.unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&first).contains("event: delta"),
        "{first:?}"
    );
    drop(res);
    // The positive signal first: the app stopped reading the model's
    // stream when its client left, so there is no answer to store.
    crate::support::eventually(10, || async { Ok(fake.abandoned() == 1) }).await?;
    let usage = app.get("/chat/usage", Some(&asha)).await?;
    assert_eq!(usage.status, StatusCode::OK, "{usage:?}");
    assert_eq!(usage.json()["used"], 1);
    assert_eq!(
        app.get("/chat/conversations", Some(&asha)).await?.json()["conversations"],
        json!([])
    );
    app.stop().await
}
