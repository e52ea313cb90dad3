//! Forks and likes through HTTP on both backends: a fork copies what a
//! widget shows and draws from the forker's own portfolio, records where it
//! came from, counts toward the Free plan, and tells the creator once;
//! likes are counted exactly under concurrency and gathered in one notice.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::chat::answers::with_trades;
use crate::support::{Kind, Reply, TestApp, TestResult, eventually};
use crate::widgets::crud::{TRADEBOOK, call, count, create, signed_up, starter};

/// One holding, in another sector than any of asha's.
pub const OTHER_BOOK: &str = "symbol,isin,trade_date,trade_type,quantity,price,trade_id
ITC,INE154A01025,2024-04-02,buy,100,420,9001
";

/// Makes a widget of `token`'s and answers its JSON.
pub async fn made(app: &TestApp, token: &str, body: Value) -> anyhow::Result<Value> {
    let reply = create(app, token, body).await?;
    anyhow::ensure!(reply.status == StatusCode::CREATED, "{reply:?}");
    Ok(reply.json())
}

/// The secret at the end of a share URL.
pub fn token_of(widget: &Value) -> String {
    widget["shareUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_string()
}

/// The caller's notices.
pub async fn notices(app: &TestApp, token: &str) -> anyhow::Result<Value> {
    let page = app.get("/notifications", Some(token)).await?;
    anyhow::ensure!(page.status == StatusCode::OK, "{page:?}");
    Ok(page.json())
}

async fn fork(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> anyhow::Result<Reply> {
    app.call(
        Method::POST,
        &format!("/widgets/{id}/fork"),
        body,
        Some(token),
    )
    .await
}

async fn forks_copy_the_definition_and_tell_the_creator_once(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let ravi = with_trades(&app, "ravi", OTHER_BOOK).await?;
    starter(&app, &ravi).await?;
    let original = made(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
            "description": "How my money divides", "tags": ["sectors"],
            "source": { "type": "allocation", "by": "stock" } }),
    )
    .await?;
    let id = original["id"].as_str().unwrap_or_default();

    let forked = fork(&app, &ravi, id, None).await?;
    assert_eq!(forked.status, StatusCode::CREATED, "{forked:?}");
    let copy = forked.json();
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(copy["title"], "Sectors");
    assert_eq!(copy["source"], original["source"], "the definition");
    assert_eq!(copy["visibility"], "private");
    assert_eq!(
        copy["forkedFrom"],
        json!({ "widgetId": id, "revision": 1, "ownerUsername": "asha" })
    );
    // The fork draws from ravi's portfolio, never asha's.
    let data = app
        .get(
            &format!("/widgets/{}/data", copy["id"].as_str().unwrap_or_default()),
            Some(&ravi),
        )
        .await?;
    assert_eq!(data.status, StatusCode::OK);
    assert!(data.text.contains("ITC"), "{}", data.text);
    for theirs in ["INFY", "TCS", "HDFCBANK"] {
        assert!(!data.text.contains(theirs), "{theirs} in {}", data.text);
    }

    // The creator hears of it exactly once, however long we wait.
    eventually(10, || async {
        Ok(notices(&app, &asha).await?["notifications"]
            .as_array()
            .is_some_and(|n| !n.is_empty()))
    })
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let page = notices(&app, &asha).await?;
    let list = page["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 1, "{page}");
    assert_eq!(list[0]["kind"], "forked");
    assert_eq!(list[0]["text"], "ravi forked “Sectors”");
    assert_eq!(list[0]["forkId"], copy["id"]);
    assert_eq!(page["unread"], 1);
    assert!(
        notices(&app, &ravi).await?["notifications"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    // Counted on the original and on asha's profile.
    let profile = app.get("/profiles/asha", None).await?.json();
    assert_eq!(profile["counts"]["forksReceived"], 1, "{profile}");
    assert_eq!(profile["widgets"]["widgets"][0]["reactions"]["forks"], 1);

    // Forking one's own is a duplicate: no lineage, no notice.
    let own = fork(&app, &asha, id, None).await?;
    assert_eq!(own.status, StatusCode::CREATED);
    assert!(own.json().get("forkedFrom").is_none());
    assert_eq!(
        app.get("/profiles/asha", None).await?.json()["counts"]["forksReceived"],
        1
    );
    app.stop().await
}

async fn only_shared_widgets_fork_and_forks_count_toward_the_plan(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let ravi = signed_up(&app, "ravi").await?;
    let private = made(
        &app,
        &asha,
        json!({ "title": "Mine", "kind": "table", "source": { "type": "holdings" } }),
    )
    .await?;
    let unlisted = made(
        &app,
        &asha,
        json!({ "title": "Big ones", "kind": "table", "visibility": "unlisted",
            "source": { "type": "holdings", "minWorthPaise": 1_000_000 } }),
    )
    .await?;
    let private_id = private["id"].as_str().unwrap_or_default();
    let unlisted_id = unlisted["id"].as_str().unwrap_or_default();
    assert_eq!(
        fork(&app, &ravi, private_id, None).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fork(&app, &ravi, unlisted_id, None).await?.status,
        StatusCode::NOT_FOUND,
        "unlisted needs its link"
    );
    // Her own private widget she may fork: a plain copy, without lineage.
    let copy = fork(&app, &asha, private_id, None).await?;
    assert_eq!(copy.status, StatusCode::CREATED, "{copy:?}");
    assert_eq!(copy.json()["title"], "Mine");
    assert!(
        copy.json().get("forkedFrom").is_none_or(Value::is_null),
        "{copy:?}"
    );
    let copy_id = copy.json()["id"].as_str().unwrap_or_default().to_string();
    let gone = app
        .call(
            Method::DELETE,
            &format!("/widgets/{copy_id}"),
            None,
            Some(&asha),
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    // She may like it too; no one else may.
    let liked = app
        .call(
            Method::PUT,
            &format!("/widgets/{private_id}/like"),
            None,
            Some(&asha),
        )
        .await?;
    assert_eq!(liked.status, StatusCode::OK, "{liked:?}");
    assert_eq!(liked.json()["likes"], 1);
    let not_his = app
        .call(
            Method::PUT,
            &format!("/widgets/{private_id}/like"),
            None,
            Some(&ravi),
        )
        .await?;
    assert_eq!(not_his.status, StatusCode::NOT_FOUND);
    let wrong = json!({ "shareToken": "x".repeat(43) });
    assert_eq!(
        fork(&app, &ravi, unlisted_id, Some(wrong)).await?.status,
        StatusCode::NOT_FOUND
    );
    let bad = fork(&app, &ravi, unlisted_id, Some(json!({ "shareToken": "" }))).await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let with_link = json!({ "shareToken": token_of(&unlisted) });
    let forked = fork(&app, &ravi, unlisted_id, Some(with_link.clone())).await?;
    assert_eq!(forked.status, StatusCode::CREATED, "{forked:?}");
    // Asha hides amounts: her rupee bound is not copied.
    assert_eq!(
        forked.json()["source"],
        json!({ "type": "holdings", "sort": "value" })
    );

    // Free: 10 widgets, the starter's 4 and the fork among them.
    let mut have = count(&app, &ravi).await?;
    assert_eq!(have, 5);
    while have < 10 {
        assert_eq!(
            fork(&app, &ravi, unlisted_id, Some(with_link.clone()))
                .await?
                .status,
            StatusCode::CREATED
        );
        have += 1;
    }
    let full = fork(&app, &ravi, unlisted_id, Some(with_link)).await?;
    assert_eq!(full.status, StatusCode::FORBIDDEN, "{full:?}");
    assert_eq!(full.json()["details"]["reason"], "widget_limit");
    assert_eq!(count(&app, &ravi).await?, 10);
    // Anonymous callers fork nothing.
    let anon = app
        .call(
            Method::POST,
            &format!("/widgets/{unlisted_id}/fork"),
            None,
            None,
        )
        .await?;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    app.stop().await
}

async fn likes_are_exact_under_concurrency_and_grouped(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let widget = made(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
            "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    let id = widget["id"].as_str().unwrap_or_default().to_string();
    let mut fans = Vec::new();
    for i in 0..8 {
        fans.push(app.signup(&format!("fan{i}")).await?);
    }
    let path = format!("/widgets/{id}/like");
    // Every fan likes twice, all at once.
    let likes = fans.iter().chain(fans.iter()).map(|fan| {
        let path = path.clone();
        let app = &app;
        async move { call(app, Method::PUT, &path, None, fan).await }
    });
    for reply in futures_util::future::join_all(likes).await {
        let reply = reply?;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }
    let profile = app.get("/profiles/asha", None).await?.json();
    assert_eq!(profile["widgets"]["widgets"][0]["reactions"]["likes"], 8);

    // Taken back, and liked again: counted, but no new notice.
    let back = call(&app, Method::DELETE, &path, None, &fans[0]).await?;
    assert_eq!(back.json()["likes"], 7);
    let again = call(&app, Method::DELETE, &path, None, &fans[0]).await?;
    assert_eq!(again.json()["likes"], 7, "idempotent");
    let relike = call(&app, Method::PUT, &path, None, &fans[0]).await?;
    assert_eq!(relike.json()["likes"], 8);

    eventually(10, || async {
        let page = notices(&app, &asha).await?;
        Ok(page["notifications"][0]["count"] == 8)
    })
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let page = notices(&app, &asha).await?;
    let list = page["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 1, "one notice for eight likes: {page}");
    assert_eq!(list[0]["kind"], "liked");
    assert_eq!(list[0]["text"], "8 people liked “Sectors”");

    // Read, a new like starts a new notice.
    let read = call(
        &app,
        Method::POST,
        "/notifications/read",
        Some(json!({})),
        &asha,
    )
    .await?;
    assert_eq!(read.json()["unread"], 0);
    let late = app.signup("late").await?;
    call(&app, Method::PUT, &path, None, &late).await?;
    eventually(10, || async {
        Ok(notices(&app, &asha).await?["notifications"]
            .as_array()
            .is_some_and(|n| n.len() == 2))
    })
    .await?;
    let page = notices(&app, &asha).await?;
    assert_eq!(page["notifications"][0]["text"], "late liked “Sectors”");
    assert_eq!(page["notifications"][0]["read"], false);
    assert_eq!(page["notifications"][1]["read"], true);
    assert_eq!(page["unread"], 1);

    // Private widgets cannot be liked.
    let private = made(
        &app,
        &asha,
        json!({ "title": "Mine", "kind": "table", "source": { "type": "holdings" } }),
    )
    .await?;
    let liked = call(
        &app,
        Method::PUT,
        &format!(
            "/widgets/{}/like",
            private["id"].as_str().unwrap_or_default()
        ),
        None,
        &late,
    )
    .await?;
    assert_eq!(liked.status, StatusCode::NOT_FOUND);
    app.stop().await
}

async fn public_dashboards_show_and_fork_their_shared_widgets(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let board = starter(&app, &asha).await?;
    crate::widgets::crud::pro(&app, "asha").await?;
    let public = made(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
            "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    let secret = made(
        &app,
        &asha,
        json!({ "title": "Secret", "kind": "table", "source": { "type": "holdings" } }),
    )
    .await?;
    let layout = json!([
        { "widgetId": public["id"], "x": 0, "y": 0, "w": 6, "h": 3 },
        { "widgetId": secret["id"], "x": 6, "y": 0, "w": 6, "h": 3 },
    ]);
    let changed = call(
        &app,
        Method::PATCH,
        &format!("/dashboards/{board}"),
        Some(json!({ "layout": layout, "visibility": "public", "title": "Mine" })),
        &asha,
    )
    .await?;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.json()["visibility"], "public");

    // The profile lists it with its public widget only.
    let profile = app.get("/profiles/asha", None).await?.json();
    let listed = &profile["dashboards"]["dashboards"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{profile}");
    assert_eq!(listed[0]["title"], "Mine");
    let on_it: Vec<&str> = listed[0]["widgets"]
        .as_array()
        .map(|ws| {
            ws.iter()
                .map(|w| w["widget"]["title"].as_str().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(on_it, ["Sectors"], "the private widget stays private");

    // Ravi forks the dashboard: a new one of his, the shared widget forked.
    let ravi = with_trades(&app, "ravi", OTHER_BOOK).await?;
    starter(&app, &ravi).await?;
    crate::widgets::crud::pro(&app, "ravi").await?;
    let forked = call(
        &app,
        Method::POST,
        &format!("/dashboards/{board}/fork"),
        None,
        &ravi,
    )
    .await?;
    assert_eq!(forked.status, StatusCode::CREATED, "{forked:?}");
    let copy = forked.json();
    assert_eq!(copy["title"], "Mine");
    assert_eq!(copy["visibility"], "private");
    let placed = copy["layout"].as_array().cloned().unwrap_or_default();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0]["x"], 0);
    let fork_id = placed[0]["widgetId"].as_str().unwrap_or_default();
    let fork = app
        .get(&format!("/widgets/{fork_id}"), Some(&ravi))
        .await?
        .json();
    assert_eq!(fork["forkedFrom"]["widgetId"], public["id"]);
    let view = app
        .get(
            &format!("/dashboards/{}", copy["id"].as_str().unwrap_or_default()),
            Some(&ravi),
        )
        .await?;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.json()["widgets"].as_array().map(Vec::len), Some(1));
    eventually(10, || async {
        Ok(notices(&app, &asha).await?["notifications"]
            .as_array()
            .is_some_and(|n| n.len() == 1))
    })
    .await?;
    // A private dashboard is not forked by others.
    call(
        &app,
        Method::PATCH,
        &format!("/dashboards/{board}"),
        Some(json!({ "visibility": "private" })),
        &asha,
    )
    .await?;
    let refused = call(
        &app,
        Method::POST,
        &format!("/dashboards/{board}/fork"),
        None,
        &ravi,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // Its owner may: a plain duplicate.
    let own = call(
        &app,
        Method::POST,
        &format!("/dashboards/{board}/fork"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(own.status, StatusCode::CREATED, "{own:?}");
    assert_ne!(own.json()["id"], json!(board));
    assert_eq!(
        app.get("/profiles/asha", None).await?.json()["dashboards"]["dashboards"],
        json!([])
    );
    app.stop().await
}

crate::both_backends!(
    public_dashboards_show_and_fork_their_shared_widgets,
    forks_copy_the_definition_and_tell_the_creator_once,
    only_shared_widgets_fork_and_forks_count_toward_the_plan,
    likes_are_exact_under_concurrency_and_grouped,
);
