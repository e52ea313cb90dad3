//! What a question may cost: the allowance is reserved before the model
//! runs (and given back only when we failed), at most a few questions of
//! one user are in flight, and every plan has a rate.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::chat::answers::{ask, use_questions, with_trades};
use crate::chat::llm::{ASHA, model_app};
use crate::support::TestResult;
use crate::support::fake_llm::{FakeLlm, Step};

fn drip() -> Step {
    Step::Drip(
        Duration::from_millis(100),
        (0..5).map(|i| format!("piece {i} ")).collect(),
    )
}

/// `n` questions of `token`'s sent `gap` apart, each without waiting for
/// the others' answers; their responses, in the order sent.
async fn at_once(
    app: &crate::support::TestApp,
    token: &str,
    n: usize,
    gap: Duration,
) -> anyhow::Result<Vec<reqwest::Response>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let req = app
            .client
            .post(app.url("/chat/query"))
            .bearer_auth(token)
            .json(&json!({ "message": "how many INFY do I have" }))
            .send();
        tasks.push(tokio::spawn(req));
        tokio::time::sleep(gap).await;
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await??);
    }
    Ok(answers)
}

/// The review's probe: with one question left, six at once cost twelve
/// model completions. Now the last question is reserved before the model is
/// called: one completion, one answer, five refusals.
#[tokio::test]
async fn the_last_question_is_reserved_before_the_model_runs() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = model_app(&fake, 10_000, |c| c.chat.in_flight = 10).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    use_questions(&app, &asha, 49).await?;
    let before = fake.requests().len();
    for _ in 0..6 {
        fake.then(drip());
    }
    let mut statuses = Vec::new();
    for res in at_once(&app, &asha, 6, Duration::ZERO).await? {
        statuses.push(res.status());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(fake.requests().len() - before, 1, "one model completion");
    assert_eq!(
        app.get("/chat/usage", Some(&asha)).await?.json()["used"],
        50
    );
    app.stop().await
}

/// A question that was not answered (the model failed, and the built-in
/// engine cannot answer it either) is given back.
#[tokio::test]
async fn a_question_we_fail_is_given_back() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = model_app(&fake, 10_000, |_| {}).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    fake.then(Step::Status(500));
    let reply = ask(
        &app,
        &asha,
        json!({ "message": "what is the meaning of life" }),
    )
    .await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json()["answered"], false, "{}", reply.text);
    assert_eq!(reply.json()["usage"]["used"], 0);
    assert_eq!(app.get("/chat/usage", Some(&asha)).await?.json()["used"], 0);
    app.stop().await
}

/// At most two questions of one user are answered at once, on every plan.
#[tokio::test]
async fn at_most_two_questions_are_in_flight() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = model_app(&fake, 10_000, |_| {}).await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    app.app
        .subscriptions
        .grant("asha@example.com", kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for _ in 0..3 {
        fake.then(drip());
    }
    let mut refusals = Vec::new();
    let mut answered = 0;
    for res in at_once(&app, &asha, 3, Duration::from_millis(50)).await? {
        match res.status() {
            StatusCode::OK => answered += 1,
            status => refusals.push((status, res.text().await?)),
        }
    }
    assert_eq!(answered, 2, "{refusals:?}");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].0, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refusals[0].1.contains("being answered"),
        "{}",
        refusals[0].1
    );
    // Once they are done, the next one is answered.
    fake.then(Step::Text(vec!["7 shares".into()]));
    let next = ask(&app, &asha, json!({ "message": "how many INFY do I have" })).await?;
    assert_eq!(next.status, StatusCode::OK);
    app.stop().await
}

/// Every plan has a rate of questions a minute, Pro included.
#[tokio::test]
async fn pro_questions_have_a_rate_too() -> TestResult {
    let fake = FakeLlm::start().await?;
    let app = model_app(&fake, 10_000, |c| {
        c.chat.questions_per_minute = 2;
        c.chat.burst = 2;
    })
    .await?;
    let asha = with_trades(&app, "asha", ASHA).await?;
    app.app
        .subscriptions
        .grant("asha@example.com", kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for _ in 0..2 {
        fake.then(Step::Text(vec!["7 shares".into()]));
        let reply = ask(&app, &asha, json!({ "message": "how many INFY do I have" })).await?;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let third = ask(&app, &asha, json!({ "message": "how many INFY do I have" })).await?;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.code(), "resource_exhausted");
    let wait: u64 = third.header("retry-after").unwrap_or_default().parse()?;
    assert!((1..=30).contains(&wait), "{wait}");
    // Another user has an allowance of their own.
    let ravi = with_trades(&app, "ravi", ASHA).await?;
    fake.then(Step::Text(vec!["7 shares".into()]));
    let reply = ask(&app, &ravi, json!({ "message": "how many INFY do I have" })).await?;
    assert_eq!(reply.status, StatusCode::OK);
    app.stop().await
}
