//! Widgets through HTTP on both backends: chat's suggestions saved as they
//! come with the same figures, sources checked field by field, revisions,
//! the Free plan's allowance under concurrency, and owners alone.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::chat::answers::{ask, with_trades};
use crate::support::{Kind, Reply, TestApp, TestResult, eventually};

/// Widgets of the starter dashboard every new user gets.
pub const STARTER_WIDGETS: usize = 4;

/// Waits until `token`'s starter dashboard is made (it follows the signup
/// through pub/sub); returns its id.
pub async fn starter(app: &TestApp, token: &str) -> anyhow::Result<String> {
    let first = || async {
        let page = app.get("/dashboards", Some(token)).await?;
        anyhow::ensure!(page.status == StatusCode::OK, "{page:?}");
        Ok(page.json()["dashboards"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    };
    eventually(10, || async { Ok(!first().await?.is_empty()) }).await?;
    first().await
}

/// Signs `name` up and waits for their starter dashboard.
pub async fn signed_up(app: &TestApp, name: &str) -> anyhow::Result<String> {
    let token = app.signup(name).await?;
    starter(app, &token).await?;
    Ok(token)
}

/// How many widgets `token` has (fewer than 100).
pub async fn count(app: &TestApp, token: &str) -> anyhow::Result<usize> {
    let page = app.get("/widgets?limit=100", Some(token)).await?;
    anyhow::ensure!(page.status == StatusCode::OK, "{page:?}");
    Ok(page.json()["widgets"].as_array().map_or(0, Vec::len))
}

/// Three holdings across two sectors, a sale in FY 2024-25, a loser (WIPRO).
pub const TRADEBOOK: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,10.000000,1400.000000,1001,2001,2024-01-02T10:00:00
INFY,INE009A01021,2024-06-03,NSE,EQ,EQ,buy,false,5.000000,1500.000000,1002,2002,2024-06-03T10:00:00
INFY,INE009A01021,2024-09-02,NSE,EQ,EQ,sell,false,8.000000,1600.000000,1003,2003,2024-09-02T10:00:00
TCS,INE467B01029,2025-01-10,NSE,EQ,EQ,buy,false,20.000000,3500.000000,1004,2004,2025-01-10T10:00:00
HDFCBANK,INE040A01034,2025-02-03,NSE,EQ,EQ,buy,false,30.000000,1700.000000,1005,2005,2025-02-03T10:00:00
HDFCBANK,INE040A01034,2025-03-03,NSE,EQ,EQ,buy,false,10.000000,1650.000000,1006,2006,2025-03-03T10:00:00
";

pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: &str,
) -> anyhow::Result<Reply> {
    app.call(method, path, body, Some(token)).await
}

pub async fn create(app: &TestApp, token: &str, body: Value) -> anyhow::Result<Reply> {
    call(app, Method::POST, "/widgets", Some(body), token).await
}

/// Puts `name` on the Pro plan.
pub async fn pro(app: &TestApp, name: &str) -> anyhow::Result<()> {
    app.app
        .subscriptions
        .grant(&format!("{name}@example.com"), kitemate::auth::Tier::Pro)
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn metric() -> Value {
    json!({ "title": "Worth", "kind": "metric", "source": { "type": "summary", "figures": ["value"] } })
}

async fn chat_suggestions_save_as_they_come_with_the_same_figures(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    pro(&app, "asha").await?;
    let questions = [
        "What is my portfolio worth?",
        "How much have I invested?",
        "How much have I made overall?",
        "Show my holdings by value",
        "my 2 biggest holdings",
        "Top 3 losers by %",
        "Allocation by sector",
        "How much are my top 2 holdings?",
        "Realized P&L for FY 2024-25",
        "What is my XIRR?",
        "How is my INFY position?",
        "What did I buy in 2025?",
    ];
    let mut saved = 0;
    for question in questions {
        let reply = ask(&app, &asha, json!({ "message": question })).await?;
        assert_eq!(reply.status, StatusCode::OK, "{question}: {reply:?}");
        let answer = reply.json();
        let Some(widget) = answer.get("widget").filter(|w| !w.is_null()) else {
            continue;
        };
        let made = create(&app, &asha, widget.clone()).await?;
        assert_eq!(made.status, StatusCode::CREATED, "{question}: {made:?}");
        let id = made.json()["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(made.json()["source"], widget["source"], "{question}");
        let data = app.get(&format!("/widgets/{id}/data"), Some(&asha)).await?;
        assert_eq!(data.status, StatusCode::OK, "{question}: {data:?}");
        assert_eq!(
            data.json()["data"],
            answer["data"],
            "{question}: the widget shows the answer's figures"
        );
        saved += 1;
    }
    assert!(saved >= 10, "only {saved} answers suggested a widget");
    app.stop().await
}

async fn sources_that_make_no_sense_are_refused_by_field(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = signed_up(&app, "asha").await?;
    let cases = [
        (
            json!({ "title": "Pie", "kind": "pie", "source": { "type": "summary", "figures": ["value"] } }),
            "kind",
        ),
        (json!({ "title": "No source", "kind": "bar" }), "source"),
        (
            json!({ "title": "Line", "kind": "line", "source": { "type": "allocation", "by": "sector" } }),
            "kind",
        ),
        (
            json!({ "title": "N", "kind": "bar", "source": { "type": "movers", "direction": "gainers", "measure": "percent", "n": 0 } }),
            "source.n",
        ),
        (
            json!({ "title": "FY", "kind": "metric", "source": { "type": "realized", "fy": "2024-26" } }),
            "source.fy",
        ),
        (
            json!({ "title": "Twice", "kind": "metric", "source": { "type": "summary", "figures": ["value", "value"] } }),
            "source.figures",
        ),
        (json!({ "title": "Note", "kind": "note" }), "options.text"),
        (
            json!({ "title": "Note", "kind": "note", "options": { "text": "hi" }, "source": { "type": "summary", "figures": ["value"] } }),
            "source",
        ),
        (
            json!({ "title": "  ", "kind": "metric", "source": { "type": "summary", "figures": ["value"] } }),
            "title",
        ),
        (
            json!({ "title": "Sym", "kind": "metric", "source": { "type": "position", "symbol": "infy<script>" } }),
            "source.symbol",
        ),
        (
            json!({ "title": "Worth", "kind": "metric", "source": { "type": "summary", "figures": ["value"], "extra": 1 } }),
            "source",
        ),
        (
            json!({ "title": "Kind", "kind": "gauge", "source": { "type": "summary", "figures": ["value"] } }),
            "kind",
        ),
    ];
    for (body, field) in cases {
        let reply = create(&app, &asha, body.clone()).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert_eq!(reply.code(), "invalid_argument", "{body}");
        assert!(
            reply.message().contains(field),
            "{body}: {} does not name {field}",
            reply.message()
        );
    }
    assert_eq!(
        count(&app, &asha).await?,
        STARTER_WIDGETS,
        "nothing half-written"
    );
    let note = create(
        &app,
        &asha,
        json!({ "title": "Plan", "kind": "note", "options": { "text": "**Buy** on dips" } }),
    )
    .await?;
    assert_eq!(note.status, StatusCode::CREATED, "{note:?}");
    let id = note.json()["id"].as_str().unwrap_or_default().to_string();
    let data = app.get(&format!("/widgets/{id}/data"), Some(&asha)).await?;
    assert_eq!(data.status, StatusCode::OK);
    assert!(data.json().get("data").is_none(), "a note has no data");
    app.stop().await
}

async fn revisions_keep_the_last_twenty_and_restore(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let made = create(&app, &asha, metric()).await?;
    assert_eq!(made.status, StatusCode::CREATED);
    let id = made.json()["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/widgets/{id}");
    for n in 2..=25 {
        let changed = call(
            &app,
            Method::PATCH,
            &path,
            Some(json!({ "title": format!("Worth {n}") })),
            &asha,
        )
        .await?;
        assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
        assert_eq!(changed.json()["revision"], n);
    }
    // Sharing is not a revision of what the widget shows.
    let shared = call(
        &app,
        Method::PATCH,
        &path,
        Some(json!({ "visibility": "unlisted" })),
        &asha,
    )
    .await?;
    assert_eq!(shared.json()["revision"], 25);
    let revisions = app.get(&format!("{path}/revisions"), Some(&asha)).await?;
    assert_eq!(revisions.status, StatusCode::OK);
    let kept: Vec<i64> = revisions.json()["revisions"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["revision"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(kept, (6..=25).rev().collect::<Vec<_>>());
    let gone = call(
        &app,
        Method::POST,
        &format!("{path}/revisions/5/restore"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{gone:?}");
    let restored = call(
        &app,
        Method::POST,
        &format!("{path}/revisions/7/restore"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(restored.status, StatusCode::OK, "{restored:?}");
    assert_eq!(restored.json()["title"], "Worth 7");
    assert_eq!(restored.json()["revision"], 26);
    assert_eq!(
        restored.json()["visibility"],
        "unlisted",
        "restoring does not change sharing"
    );
    app.stop().await
}

async fn the_free_plan_keeps_ten_widgets_even_when_asked_at_once(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = signed_up(&app, "asha").await?;
    let attempts =
        futures_util::future::join_all((0..14).map(|_| create(&app, &asha, metric()))).await;
    let mut made = 0;
    for attempt in attempts {
        let reply = attempt?;
        match reply.status {
            StatusCode::CREATED => made += 1,
            StatusCode::FORBIDDEN => {
                assert_eq!(reply.code(), "permission_denied");
                assert_eq!(reply.message(), "pro subscription required");
            }
            other => anyhow::bail!("unexpected {other}: {reply:?}"),
        }
    }
    assert_eq!(made, 10 - STARTER_WIDGETS);
    let page = app.get("/widgets?limit=100", Some(&asha)).await?;
    let ids: Vec<String> = page.json()["widgets"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|w| w["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids.len(), 10);
    let deleted = call(
        &app,
        Method::DELETE,
        &format!("/widgets/{}", ids[0]),
        None,
        &asha,
    )
    .await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        create(&app, &asha, metric()).await?.status,
        StatusCode::CREATED
    );
    assert_eq!(
        create(&app, &asha, metric()).await?.status,
        StatusCode::FORBIDDEN
    );
    pro(&app, "asha").await?;
    assert_eq!(
        create(&app, &asha, metric()).await?.status,
        StatusCode::CREATED
    );
    app.stop().await
}

async fn widgets_are_their_owners_and_pages_are_bounded(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| c.widgets.free_widgets = 30).await?;
    let asha = signed_up(&app, "asha").await?;
    let ravi = signed_up(&app, "ravi").await?;
    let mut made = Vec::new();
    for n in 0..25 {
        let reply = create(&app, &asha, json!({ "title": format!("W{n}"), "kind": "metric", "source": { "type": "summary", "figures": ["value"] } })).await?;
        assert_eq!(reply.status, StatusCode::CREATED);
        made.push(reply.json()["id"].as_str().unwrap_or_default().to_string());
    }
    let id = &made[0];
    for (method, path) in [
        (Method::GET, format!("/widgets/{id}")),
        (Method::PATCH, format!("/widgets/{id}")),
        (Method::DELETE, format!("/widgets/{id}")),
        (Method::GET, format!("/widgets/{id}/data")),
        (Method::GET, format!("/widgets/{id}/revisions")),
        (Method::POST, format!("/widgets/{id}/revisions/1/restore")),
        (Method::POST, format!("/widgets/{id}/share")),
        (Method::DELETE, format!("/widgets/{id}/share")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({ "title": "mine now" }));
        let reply = call(&app, method.clone(), &path, body, &ravi).await?;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {reply:?}"
        );
        let anonymous = app.call(method.clone(), &path, None, None).await?;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    assert_eq!(count(&app, &ravi).await?, STARTER_WIDGETS, "only their own");
    // Pages of 10, newest first, every widget once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/widgets?limit=10&cursor={c}"),
            None => "/widgets?limit=10".to_string(),
        };
        let page = app.get(&path, Some(&asha)).await?;
        assert_eq!(page.status, StatusCode::OK);
        let body = page.json();
        let widgets = body["widgets"].as_array().cloned().unwrap_or_default();
        assert!(widgets.len() <= 10);
        seen.extend(
            widgets
                .iter()
                .filter_map(|w| w["id"].as_str().map(str::to_string)),
        );
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen.len(), made.len() + STARTER_WIDGETS);
    assert_eq!(seen[..made.len()], made[..], "newest first, each once");
    let too_many = app.get("/widgets?limit=101", Some(&asha)).await?;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

crate::both_backends!(
    chat_suggestions_save_as_they_come_with_the_same_figures,
    sources_that_make_no_sense_are_refused_by_field,
    revisions_keep_the_last_twenty_and_restore,
    the_free_plan_keeps_ten_widgets_even_when_asked_at_once,
    widgets_are_their_owners_and_pages_are_bounded,
);
