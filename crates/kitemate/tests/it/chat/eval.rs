//! The chat engine's evaluation set (`tests/data/chat/eval.toml`): every
//! question asked through `POST /chat/query` over its fixed portfolio, on a
//! clock set to 2026-11-26 IST. Prints the accuracy and each miss; the
//! target is every one right.

use chrono::TimeZone as _;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::answers::{ask, with_trades};
use crate::support::{Kind, TestApp, TestResult};

const EVAL: &str = include_str!("../../data/chat/eval.toml");

#[derive(Debug, Deserialize)]
struct Eval {
    portfolio: Vec<Portfolio>,
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Portfolio {
    name: String,
    tradebook: String,
}

#[derive(Debug, Deserialize)]
struct Case {
    portfolio: String,
    question: String,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    unanswered: bool,
    /// The holdings the answer lists, in this order, and no other of the
    /// portfolio's (a "top 3" lists exactly three, sorted).
    listed: Option<Vec<String>>,
    /// An endpoint and the field of its reply the answer must state.
    api: Option<String>,
    field: Option<String>,
}

/// `holdings.INFY.xirrPercent`: through objects by key and arrays by symbol.
fn pick<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |node, part| match node {
        Value::Array(items) => items.iter().find(|i| i["symbol"] == part),
        _ => node.get(part),
    })
}

/// The symbols of `tradebook` (its first column), each once.
fn symbols(tradebook: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in tradebook.trim().lines().skip(1) {
        let symbol = line.split(',').next().unwrap_or_default().to_string();
        if !out.contains(&symbol) {
            out.push(symbol);
        }
    }
    out
}

/// Which of `symbols` `answer` names, in the order it first names them; a
/// symbol counts only as a whole word.
fn named_in_order(answer: &str, symbols: &[String]) -> Vec<String> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '&');
    let mut found: Vec<(usize, String)> = symbols
        .iter()
        .filter_map(|symbol| {
            answer
                .match_indices(symbol.as_str())
                .find(|(at, _)| {
                    !word(answer[..*at].chars().next_back())
                        && !word(answer[at + symbol.len()..].chars().next())
                })
                .map(|(at, _)| (at, symbol.clone()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, symbol)| symbol).collect()
}

/// What is wrong with `reply` as the answer to `case`, if anything.
async fn check(
    app: &TestApp,
    token: &str,
    case: &Case,
    reply: &Value,
    held: &[String],
) -> anyhow::Result<Option<String>> {
    let answer = reply["answer"].as_str().unwrap_or_default();
    let answered = reply["answered"].as_bool().unwrap_or(false);
    if case.unanswered {
        return Ok(answered.then(|| format!("answered what it should not: {answer:?}")));
    }
    if !answered {
        return Ok(Some(format!("not answered: {answer:?}")));
    }
    let mut wanted = case.expect.clone();
    if let (Some(api), Some(field)) = (&case.api, &case.field) {
        let from_api = app.get(api, Some(token)).await?.json();
        match pick(&from_api, field).and_then(Value::as_str) {
            Some(figure) => wanted.push(format!("{figure}%")),
            None => return Ok(Some(format!("{api} has no {field}"))),
        }
    }
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !answer.contains(w.as_str()))
        .collect();
    if !missing.is_empty() {
        return Ok(Some(format!("{answer:?} lacks {missing:?}")));
    }
    if let Some(listed) = &case.listed {
        let named = named_in_order(answer, held);
        if &named != listed {
            return Ok(Some(format!(
                "{answer:?} lists {named:?}, not exactly {listed:?} in that order"
            )));
        }
    }
    Ok(None)
}

/// An app on SQLite whose clock reads noon IST on 2026-11-26, the day the
/// evaluation sets are written for.
pub async fn noon_app() -> anyhow::Result<TestApp> {
    let app = TestApp::spawn(Kind::Sqlite).await?;
    set_noon(&app)?;
    Ok(app)
}

/// Sets `app`'s clock to noon IST on 2026-11-26.
pub fn set_noon(app: &TestApp) -> anyhow::Result<()> {
    let noon = chrono_tz::Asia::Kolkata
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("no such time"))?;
    app.clock
        .advance(noon.with_timezone(&chrono::Utc) - app.clock.now());
    Ok(())
}

/// A Pro user `name` (no monthly limit) with `tradebook` imported; their token.
pub async fn pro_with_trades(app: &TestApp, name: &str, tradebook: &str) -> anyhow::Result<String> {
    let token = with_trades(app, name, tradebook.trim_start()).await?;
    app.app
        .subscriptions
        .grant(&format!("{name}@example.com"), kitemate::auth::Tier::Pro)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(token)
}

#[tokio::test]
#[expect(
    clippy::print_stdout,
    reason = "the accuracy report is for whoever runs the test"
)]
async fn chat_eval() -> TestResult {
    let eval: Eval = toml::from_str(EVAL)?;
    let app = noon_app().await?;
    let mut tokens = std::collections::HashMap::new();
    let mut held = std::collections::HashMap::new();
    for p in &eval.portfolio {
        held.insert(p.name.clone(), symbols(&p.tradebook));
        tokens.insert(
            p.name.clone(),
            pro_with_trades(&app, &p.name, &p.tradebook).await?,
        );
    }
    let mut misses = Vec::new();
    for case in &eval.case {
        let token = tokens
            .get(&case.portfolio)
            .ok_or_else(|| anyhow::anyhow!("no portfolio {}", case.portfolio))?;
        let reply = ask(&app, token, json!({ "message": case.question })).await?;
        anyhow::ensure!(
            reply.status == StatusCode::OK,
            "{}: {reply:?}",
            case.question
        );
        let symbols = held.get(&case.portfolio).map_or(&[][..], Vec::as_slice);
        if let Some(miss) = check(&app, token, case, &reply.json(), symbols).await? {
            misses.push(format!("[{}] {:?}: {miss}", case.portfolio, case.question));
        }
    }
    let total = eval.case.len();
    println!(
        "chat eval: {}/{total} right ({:.1}%)",
        total - misses.len(),
        100.0 * (total - misses.len()) as f64 / total as f64
    );
    for miss in &misses {
        println!("  miss {miss}");
    }
    assert!(total >= 150, "the set has {total} questions");
    assert!(
        misses.is_empty(),
        "{} of {total} missed:\n{}",
        misses.len(),
        misses.join("\n")
    );
    app.stop().await
}
