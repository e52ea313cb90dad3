//! Chat through HTTP on both backends: answers from the caller's own
//! portfolio, conversations only their owner sees, and the Free plan's
//! monthly allowance counted exactly under concurrency.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Kind, Reply, TestApp, TestResult};

/// The hand-worked tradebook of the portfolio tests: INFY 7 held for
/// ₹10,300 (last price ₹1,600, value ₹11,200), TCS 20 for ₹70,000, and a
/// sale of 8 INFY that realized ₹1,600 short-term in FY 2024-25.
const TRADEBOOK: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,10.000000,1400.000000,1001,2001,2024-01-02T10:00:00
INFY,INE009A01021,2024-06-03,NSE,EQ,EQ,buy,false,5.000000,1500.000000,1002,2002,2024-06-03T10:00:00
INFY,INE009A01021,2024-09-02,NSE,EQ,EQ,sell,false,8.000000,1600.000000,1003,2003,2024-09-02T10:00:00
TCS,INE467B01029,2025-01-10,NSE,EQ,EQ,buy,false,20.000000,3500.000000,1004,2004,2025-01-10T10:00:00
";

pub async fn with_trades(app: &TestApp, name: &str, tradebook: &str) -> anyhow::Result<String> {
    let token = app.signup(name).await?;
    let res = app
        .client
        .post(app.url("/portfolio/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(tradebook.to_string())
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::OK,
        "import failed: {:?}",
        res.text().await
    );
    Ok(token)
}

pub async fn ask(app: &TestApp, token: &str, body: Value) -> anyhow::Result<Reply> {
    app.call(Method::POST, "/chat/query", Some(body), Some(token))
        .await
}

async fn answers_come_from_the_portfolio(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;

    let worth = ask(
        &app,
        &asha,
        json!({ "message": "What is my portfolio worth?" }),
    )
    .await?;
    assert_eq!(worth.status, StatusCode::OK, "{worth:?}");
    let reply = worth.json();
    assert!(
        reply["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("₹81,200"),
        "{reply}"
    );
    assert_eq!(reply["data"]["rows"][0]["valuePaise"], 8_120_000);
    assert_eq!(reply["answered"], true);
    assert_eq!(reply["widget"]["kind"], "metric");
    assert_eq!(
        (
            reply["usage"]["used"].as_i64(),
            reply["usage"]["limit"].as_i64()
        ),
        (Some(1), Some(50))
    );
    let conversation = reply["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let infy = ask(
        &app,
        &asha,
        json!({ "message": "how many infosys shares do i have", "conversationId": conversation }),
    )
    .await?
    .json();
    assert_eq!(infy["conversationId"], conversation.as_str());
    assert!(
        infy["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("7 shares"),
        "{infy}"
    );

    let paid = ask(&app, &asha, json!({ "message": "what did I pay for TCS?" }))
        .await?
        .json();
    assert!(
        paid["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("₹3,500"),
        "{paid}"
    );

    let realized = ask(&app, &asha, json!({ "message": "realised p&l fy 2024-25" }))
        .await?
        .json();
    assert_eq!(realized["data"]["rows"][0]["shortTermPaise"], 160_000);

    let unknown = ask(&app, &asha, json!({ "message": "will it rain tomorrow?" }))
        .await?
        .json();
    assert_eq!(unknown["answered"], false);
    assert!(
        unknown["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("You could ask")
    );
    assert_eq!(
        unknown["usage"]["used"], 4,
        "an unanswered question is not counted"
    );
    assert_eq!(app.get("/chat/usage", Some(&asha)).await?.json()["used"], 4);

    let empty = ask(&app, &asha, json!({ "message": "   " })).await?;
    assert_eq!(
        (empty.status, empty.json()["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("message"))
    );
    let long = ask(&app, &asha, json!({ "message": "x".repeat(1001) })).await?;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

async fn conversations_are_their_owners_alone(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let ravi = app.signup("ravi").await?;
    let first = ask(&app, &asha, json!({ "message": "show my holdings" }))
        .await?
        .json();
    let id = first["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ask(
        &app,
        &asha,
        json!({ "message": "and my xirr?", "conversationId": id }),
    )
    .await?;

    let list = app.get("/chat/conversations", Some(&asha)).await?.json();
    assert_eq!(list["conversations"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["conversations"][0]["title"], "show my holdings");
    let whole = app
        .get(&format!("/chat/conversations/{id}"), Some(&asha))
        .await?
        .json();
    let roles: Vec<&str> = whole["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(whole["messages"][1]["data"]["kind"], "table");

    // Ravi sees nothing of it, and cannot add to it or delete it.
    assert_eq!(
        app.get("/chat/conversations", Some(&ravi)).await?.json()["conversations"],
        json!([])
    );
    let peek = app
        .get(&format!("/chat/conversations/{id}"), Some(&ravi))
        .await?;
    assert_eq!(
        (peek.status, peek.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let join = ask(
        &app,
        &ravi,
        json!({ "message": "holdings", "conversationId": id }),
    )
    .await?;
    assert_eq!(join.status, StatusCode::NOT_FOUND);
    assert_eq!(join.json()["details"]["field"], "conversationId");
    let delete = app
        .call(
            Method::DELETE,
            &format!("/chat/conversations/{id}"),
            None,
            Some(&ravi),
        )
        .await?;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    // Ravi's own portfolio is empty: Asha's numbers never reach him.
    let his = ask(
        &app,
        &ravi,
        json!({ "message": "what is my portfolio worth" }),
    )
    .await?
    .json();
    assert!(
        !his["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("81,200"),
        "{his}"
    );

    let gone = app
        .call(
            Method::DELETE,
            &format!("/chat/conversations/{id}"),
            None,
            Some(&asha),
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/chat/conversations/{id}"), Some(&asha))
            .await?
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(app.get("/chat/usage", None).await?.status == StatusCode::UNAUTHORIZED);
    app.stop().await
}

/// With 49 of 50 questions used, 20 asked at once get exactly one answer;
/// the other 19 are refused with 429 naming the day the count starts again.
async fn the_last_free_question_is_answered_once(kind: Kind) -> TestResult {
    // Room for all twenty at once, so that the allowance alone decides.
    let app = TestApp::spawn_with(kind, |c| c.chat.in_flight = 20).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    use_questions(&app, &asha, 49).await?;
    assert_eq!(
        app.get("/chat/usage", Some(&asha)).await?.json()["used"],
        49
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let req = app
            .client
            .post(app.url("/chat/query"))
            .bearer_auth(&asha)
            .json(&json!({ "message": "what have I invested?" }))
            .send();
        tasks.push(tokio::spawn(req));
    }
    let mut statuses = Vec::new();
    let mut refusal = String::new();
    for task in tasks {
        let res = task.await??;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refusal = res.text().await?;
        }
    }
    let answered = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((answered, refused), (1, 19), "{statuses:?}");
    let refusal: Value = serde_json::from_str(&refusal)?;
    assert_eq!(refusal["code"], "resource_exhausted");
    let usage = app.get("/chat/usage", Some(&asha)).await?.json();
    assert_eq!(usage["used"], 50);
    let resets =
        chrono::DateTime::parse_from_rfc3339(usage["resetsAt"].as_str().unwrap_or_default())?
            .with_timezone(&chrono_tz::Asia::Kolkata);
    let named = resets.format("%-d %B %Y").to_string();
    assert!(
        refusal["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&named),
        "{refusal} names {named}"
    );

    // On Pro there is no limit.
    app.app
        .subscriptions
        .grant("asha@example.com", kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let pro = ask(&app, &asha, json!({ "message": "what have I invested?" })).await?;
    assert_eq!(pro.status, StatusCode::OK, "{pro:?}");
    assert_eq!(pro.json()["usage"]["limit"], Value::Null);
    app.stop().await
}

/// Asks `n` answerable questions as the Free user with `token`, in-process
/// (quicker than through HTTP).
pub async fn use_questions(app: &TestApp, token: &str, n: i64) -> anyhow::Result<()> {
    let caller = app
        .app
        .auth
        .authenticate(token)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for _ in 0..n {
        app.app
            .chat
            .ask(&caller, "what is my portfolio worth", None)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    }
    Ok(())
}

crate::both_backends!(
    answers_come_from_the_portfolio,
    conversations_are_their_owners_alone,
    the_last_free_question_is_answered_once,
);
