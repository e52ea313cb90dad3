//! Dashboards through HTTP on both backends: the starter made once per
//! signup, layouts checked on the grid, one request for a whole dashboard,
//! deep copies within the plan, owners alone.

use kitemate::auth::{USER_SIGNED_UP, UserSignedUp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::crud::{STARTER_WIDGETS, TRADEBOOK, call, count, create, pro, starter};
use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult, eventually};

fn ids(view: &Value) -> Vec<String> {
    view["widgets"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|p| p["widget"]["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn every_new_user_gets_one_starter_dashboard(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let id = starter(&app, &asha).await?;
    let view = app.get(&format!("/dashboards/{id}"), Some(&asha)).await?;
    assert_eq!(view.status, StatusCode::OK, "{view:?}");
    let view = view.json();
    assert_eq!(view["title"], "My portfolio");
    let titles: Vec<&str> = view["widgets"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|p| p["widget"]["title"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        titles,
        [
            "Portfolio value",
            "Today",
            "Allocation by sector",
            "Top movers"
        ]
    );
    // Its figures are the portfolio's.
    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    assert_eq!(
        view["widgets"][0]["data"]["data"]["rows"][0]["valuePaise"],
        summary["valuePaise"]
    );
    assert!(
        !view["widgets"][2]["data"]["data"]["rows"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{view}"
    );

    // The signup delivered again (a redelivery after a crash) makes nothing more.
    let admin = app.admin("root").await?;
    let delivered = || async {
        let overview = app.get("/admin/pubsub", Some(&admin)).await?.json();
        Ok::<_, anyhow::Error>(
            overview["subscriptions"]
                .as_array()
                .and_then(|subs| subs.iter().find(|s| s["name"] == "widgets-starter"))
                .and_then(|s| s["delivered"].as_i64())
                .unwrap_or(0),
        )
    };
    eventually(10, || async { Ok(delivered().await? == 2) }).await?;
    let me = app.get("/auth/me", Some(&asha)).await?.json();
    let topic = app.app.pubsub.topic(&USER_SIGNED_UP, app.app.auth.db())?;
    topic
        .publish(&UserSignedUp {
            user_id: me["id"].as_str().unwrap_or_default().to_string(),
            username: "asha".into(),
        })
        .await?;
    eventually(10, || async { Ok(delivered().await? == 3) }).await?;
    let page = app.get("/dashboards", Some(&asha)).await?.json();
    assert_eq!(page["dashboards"].as_array().map(Vec::len), Some(1));
    assert_eq!(count(&app, &asha).await?, STARTER_WIDGETS);
    app.stop().await
}

async fn layouts_stay_on_the_grid_and_on_the_owners_widgets(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let ravi = app.signup("ravi").await?;
    let id = starter(&app, &asha).await?;
    starter(&app, &ravi).await?;
    let mine = ids(&app
        .get(&format!("/dashboards/{id}"), Some(&asha))
        .await?
        .json());
    let theirs = app.get("/widgets", Some(&ravi)).await?.json()["widgets"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let at = |widget: &str, x: u16, y: u16, w: u16, h: u16| json!({ "widgetId": widget, "x": x, "y": y, "w": w, "h": h });
    let cases = [
        (
            json!([at(&mine[0], 0, 0, 6, 2), at(&mine[1], 5, 1, 6, 2)]),
            "layout[1].x",
        ),
        (json!([at(&mine[0], 8, 0, 6, 2)]), "layout[0].w"),
        (json!([at(&mine[0], 0, 0, 0, 2)]), "layout[0].w"),
        (json!([at(&mine[0], 0, 199, 6, 2)]), "layout[0].h"),
        (
            json!([at(&mine[0], 0, 0, 6, 2), at(&mine[0], 6, 0, 6, 2)]),
            "layout[1].widgetId",
        ),
        (json!([at(&theirs, 0, 0, 6, 2)]), "layout[0].widgetId"),
        (json!([at("nope", 0, 0, 6, 2)]), "layout[0].widgetId"),
    ];
    let path = format!("/dashboards/{id}");
    for (layout, field) in cases {
        let reply = call(
            &app,
            Method::PATCH,
            &path,
            Some(json!({ "layout": layout })),
            &asha,
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{layout}: {reply:?}");
        assert!(
            reply.message().contains(field),
            "{layout}: {}",
            reply.message()
        );
    }
    // Unchanged by the refusals.
    assert_eq!(ids(&app.get(&path, Some(&asha)).await?.json()), mine);
    let moved = call(
        &app,
        Method::PATCH,
        &path,
        Some(json!({ "title": "Mine", "layout": [at(&mine[1], 0, 0, 12, 3), at(&mine[0], 0, 3, 4, 2)] })),
        &asha,
    )
    .await?;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.json()["title"], "Mine");
    // A deleted widget leaves its dashboard.
    let gone = call(
        &app,
        Method::DELETE,
        &format!("/widgets/{}", mine[1]),
        None,
        &asha,
    )
    .await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(&app.get(&path, Some(&asha)).await?.json()),
        [mine[0].clone()]
    );
    for (method, p) in [
        (Method::GET, path.clone()),
        (Method::PATCH, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::POST, format!("{path}/duplicate")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({ "title": "theirs" }));
        let reply = call(&app, method.clone(), &p, body, &ravi).await?;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {p}");
    }
    app.stop().await
}

async fn dashboards_copy_deeply_within_the_plan(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let id = starter(&app, &asha).await?;
    let path = format!("/dashboards/{id}");

    let refused = call(
        &app,
        Method::POST,
        &format!("{path}/duplicate"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(refused.message(), "pro subscription required");
    let more = call(
        &app,
        Method::POST,
        "/dashboards",
        Some(json!({ "title": "Second" })),
        &asha,
    )
    .await?;
    assert_eq!(more.status, StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, &asha).await?,
        STARTER_WIDGETS,
        "nothing half-written"
    );

    pro(&app, "asha").await?;
    let copy = call(
        &app,
        Method::POST,
        &format!("{path}/duplicate"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(copy.status, StatusCode::CREATED, "{copy:?}");
    let copy_id = copy.json()["id"].as_str().unwrap_or_default().to_string();
    let original = app.get(&path, Some(&asha)).await?.json();
    let copied = app
        .get(&format!("/dashboards/{copy_id}"), Some(&asha))
        .await?
        .json();
    assert_eq!(copied["title"], "My portfolio (copy)");
    let (a, b) = (ids(&original), ids(&copied));
    assert_eq!(a.len(), b.len());
    assert!(
        a.iter().all(|id| !b.contains(id)),
        "the copy has widgets of its own"
    );
    for (x, y) in original["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(copied["widgets"].as_array().into_iter().flatten())
    {
        assert_eq!(x["data"]["data"], y["data"]["data"]);
        assert_eq!(x["placement"]["x"], y["placement"]["x"]);
        assert_eq!(x["widget"]["source"], y["widget"]["source"]);
    }
    // Changing the copy leaves the original alone.
    let renamed = call(
        &app,
        Method::PATCH,
        &format!("/widgets/{}", b[0]),
        Some(json!({ "title": "Copy" })),
        &asha,
    )
    .await?;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/widgets/{}", a[0]), Some(&asha))
            .await?
            .json()["title"],
        "Portfolio value"
    );

    // Eight widgets in one request, with their data.
    let mut layout = Vec::new();
    for n in 0..8u16 {
        let made = create(
            &app,
            &asha,
            json!({ "title": format!("W{n}"), "kind": "table", "source": { "type": "holdings", "top": n + 1 } }),
        )
        .await?;
        assert_eq!(made.status, StatusCode::CREATED);
        layout.push(json!({ "widgetId": made.json()["id"], "x": (n % 2) * 6, "y": (n / 2) * 3, "w": 6, "h": 3 }));
    }
    let board = call(
        &app,
        Method::POST,
        "/dashboards",
        Some(json!({ "title": "Eight", "layout": layout })),
        &asha,
    )
    .await?;
    assert_eq!(board.status, StatusCode::CREATED, "{board:?}");
    let view = app
        .get(
            &format!(
                "/dashboards/{}",
                board.json()["id"].as_str().unwrap_or_default()
            ),
            Some(&asha),
        )
        .await?
        .json();
    let rows: Vec<usize> = view["widgets"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|p| p["data"]["data"]["rows"].as_array().map_or(0, Vec::len))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rows,
        [1, 2, 3, 3, 3, 3, 3, 3],
        "the top N of three holdings"
    );
    app.stop().await
}

crate::both_backends!(
    every_new_user_gets_one_starter_dashboard,
    layouts_stay_on_the_grid_and_on_the_owners_widgets,
    dashboards_copy_deeply_within_the_plan,
);
