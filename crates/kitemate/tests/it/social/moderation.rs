//! Blocks, reports and per-user limits through HTTP on both backends, and
//! notifications read a page at a time and as a stream.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::forks::{made, notices};
use crate::support::{Kind, TestApp, TestResult, eventually};
use crate::widgets::crud::call;

fn pie(title: &str) -> Value {
    json!({ "title": title, "kind": "pie", "visibility": "public",
        "source": { "type": "allocation", "by": "sector" } })
}

async fn blocked_people_cannot_follow_fork_like_or_see(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let troll = app.signup("troll").await?;
    let widget = made(&app, &asha, pie("Sectors")).await?;
    let id = widget["id"].as_str().unwrap_or_default();
    let follow = call(&app, Method::PUT, "/profiles/asha/follow", None, &troll).await?;
    assert_eq!(follow.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/profiles/asha", None).await?.json()["counts"]["followers"],
        1
    );

    let block = call(&app, Method::PUT, "/profiles/TROLL/block", None, &asha).await?;
    assert_eq!(block.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/profiles/asha", None).await?.json()["counts"]["followers"],
        0,
        "the follow went with the block"
    );
    assert_eq!(
        app.get("/profiles/asha", Some(&troll)).await?.status,
        StatusCode::NOT_FOUND
    );
    for (method, path) in [
        (Method::PUT, "/profiles/asha/follow".to_string()),
        (Method::POST, format!("/widgets/{id}/fork")),
        (Method::PUT, format!("/widgets/{id}/like")),
    ] {
        let reply = call(&app, method.clone(), &path, None, &troll).await?;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Others still see all of it, and so does anyone signed out.
    assert_eq!(
        app.get("/profiles/asha", None).await?.status,
        StatusCode::OK
    );
    // Asha cannot follow whom she blocked until she unblocks them.
    let back = call(&app, Method::PUT, "/profiles/troll/follow", None, &asha).await?;
    assert_eq!(back.status, StatusCode::BAD_REQUEST, "{back:?}");
    assert_eq!(back.code(), "failed_precondition");
    let unblock = call(&app, Method::DELETE, "/profiles/troll/block", None, &asha).await?;
    assert_eq!(unblock.status, StatusCode::NO_CONTENT);
    let like = call(
        &app,
        Method::PUT,
        &format!("/widgets/{id}/like"),
        None,
        &troll,
    )
    .await?;
    assert_eq!(like.status, StatusCode::OK);
    let own = call(&app, Method::PUT, "/profiles/asha/block", None, &asha).await?;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

async fn administrators_hide_what_is_reported(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let spam = app.signup("spammer").await?;
    let reader = app.signup("reader").await?;
    let admin = app.admin("root").await?;
    made(&app, &asha, pie("Honest")).await?;
    let bad = made(&app, &spam, pie("Buy my course")).await?;
    let bad_id = bad["id"].as_str().unwrap_or_default();
    let link = bad["shareUrl"].as_str().unwrap_or_default();
    let shared = &link[link.find("/shared/").unwrap_or(0)..];
    assert_eq!(app.get(shared, None).await?.status, StatusCode::OK);

    let report = json!({ "target": "widget", "id": bad_id, "reason": "spam", "note": "ads" });
    let filed = call(
        &app,
        Method::POST,
        "/reports",
        Some(report.clone()),
        &reader,
    )
    .await?;
    assert_eq!(filed.status, StatusCode::CREATED, "{filed:?}");
    let again = call(&app, Method::POST, "/reports", Some(report), &reader).await?;
    assert_eq!(
        again.json()["id"],
        filed.json()["id"],
        "one open report each"
    );
    let missing = json!({ "target": "widget", "id": "no-such-widget", "reason": "spam" });
    assert_eq!(
        call(&app, Method::POST, "/reports", Some(missing), &reader)
            .await?
            .status,
        StatusCode::NOT_FOUND
    );
    let profile = json!({ "target": "profile", "id": "spammer", "reason": "abuse" });
    let filed_profile = call(&app, Method::POST, "/reports", Some(profile), &asha).await?;
    assert_eq!(filed_profile.status, StatusCode::CREATED);

    assert_eq!(
        app.get("/admin/reports", Some(&reader)).await?.status,
        StatusCode::FORBIDDEN
    );
    let open = app.get("/admin/reports", Some(&admin)).await?.json();
    let reports = open["reports"].as_array().cloned().unwrap_or_default();
    assert_eq!(reports.len(), 2, "{open}");
    assert_eq!(reports[0]["targetTitle"], "Buy my course");
    assert_eq!(reports[0]["reporter"], "reader");
    assert_eq!(reports[1]["targetId"], "spammer");

    let hide = call(
        &app,
        Method::POST,
        &format!(
            "/admin/reports/{}/hide",
            reports[0]["id"].as_str().unwrap_or_default()
        ),
        None,
        &admin,
    )
    .await?;
    assert_eq!(hide.status, StatusCode::OK);
    assert_eq!(hide.json()["status"], "hidden");
    let listed = app.get("/discover/widgets?sort=new", None).await?.json();
    assert_eq!(
        listed["widgets"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(listed["widgets"][0]["title"], "Honest");
    assert_eq!(app.get(shared, None).await?.status, StatusCode::NOT_FOUND);
    let page = app.get("/profiles/spammer", None).await?.json();
    assert_eq!(page["counts"]["publicWidgets"], 0);
    let fork = call(
        &app,
        Method::POST,
        &format!("/widgets/{bad_id}/fork"),
        None,
        &reader,
    )
    .await?;
    assert_eq!(fork.status, StatusCode::NOT_FOUND);

    // Hiding the profile: not found by anyone but its owner.
    let dismissed = call(
        &app,
        Method::POST,
        &format!(
            "/admin/reports/{}/hide",
            reports[1]["id"].as_str().unwrap_or_default()
        ),
        None,
        &admin,
    )
    .await?;
    assert_eq!(dismissed.status, StatusCode::OK);
    assert_eq!(
        app.get("/profiles/spammer", None).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/profiles/spammer", Some(&spam)).await?.status,
        StatusCode::OK
    );
    let closed = app.get("/admin/reports", Some(&admin)).await?.json();
    assert_eq!(closed["reports"], json!([]));
    let hidden = app
        .get("/admin/reports?status=hidden", Some(&admin))
        .await?
        .json();
    assert_eq!(hidden["reports"].as_array().map(Vec::len), Some(2));
    app.stop().await
}

async fn social_actions_are_limited_per_user(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |config| {
        config.social.actions_per_minute = 2;
        config.social.action_burst = 2;
        config.social.reports_per_minute = 1;
        config.social.action_burst = 2;
    })
    .await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let mia = app.signup("mia").await?;
    let widget = made(&app, &asha, pie("Sectors")).await?;
    let like = format!(
        "/widgets/{}/like",
        widget["id"].as_str().unwrap_or_default()
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(call(&app, Method::PUT, &like, None, &ravi).await?.status);
    }
    assert_eq!(&statuses[..2], [StatusCode::OK, StatusCode::OK]);
    let limited = call(&app, Method::PUT, &like, None, &ravi).await?;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    // Another user, and another action, have their own allowance.
    assert_eq!(
        call(&app, Method::PUT, &like, None, &mia).await?.status,
        StatusCode::OK
    );
    let follow = call(&app, Method::PUT, "/profiles/asha/follow", None, &ravi).await?;
    assert_eq!(follow.status, StatusCode::NO_CONTENT);
    let report = json!({ "target": "profile", "id": "asha", "reason": "other" });
    let first = call(&app, Method::POST, "/reports", Some(report.clone()), &ravi).await?;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = call(&app, Method::POST, "/reports", Some(report), &ravi).await?;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await
}

async fn notices_page_mark_read_and_stream(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    // A stream open before anything happens hears each new notice.
    let res = app
        .client
        .get(app.url("/notifications/stream"))
        .bearer_auth(&asha)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = res.bytes_stream();
    let mut fans = Vec::new();
    for i in 0..5 {
        let fan = app.signup(&format!("fan{i}")).await?;
        let r = call(&app, Method::PUT, "/profiles/asha/follow", None, &fan).await?;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        fans.push(fan);
    }
    let mut text = String::new();
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        while !text.contains("\"unread\":5") {
            let Some(chunk) = body.next().await else {
                break;
            };
            text.push_str(&String::from_utf8_lossy(&chunk?));
        }
        anyhow::Ok(())
    })
    .await;
    assert!(
        matches!(heard, Ok(Ok(()))),
        "notices streamed until five are unread: {heard:?} {text}"
    );
    assert!(
        text.starts_with("event: unread\ndata: {\"unread\":0}"),
        "{text}"
    );
    assert_eq!(text.matches("event: notification").count(), 5, "{text}");
    assert!(text.contains("fan4 followed you"), "{text}");
    drop(body);

    // Pages, newest first, with a cursor.
    let first = app.get("/notifications?limit=2", Some(&asha)).await?.json();
    let list = first["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["text"], "fan4 followed you");
    assert_eq!(first["unread"], 5);
    let cursor = first["nextCursor"].as_str().unwrap_or_default();
    let rest = app
        .get(
            &format!("/notifications?limit=10&cursor={cursor}"),
            Some(&asha),
        )
        .await?
        .json();
    assert_eq!(rest["notifications"].as_array().map(Vec::len), Some(3));
    assert!(rest.get("nextCursor").is_none());
    assert_eq!(rest["notifications"][2]["text"], "fan0 followed you");

    // Read up to the third newest: two stay unread.
    let third = rest["notifications"][0]["id"].clone();
    let read = call(
        &app,
        Method::POST,
        "/notifications/read",
        Some(json!({ "upTo": third })),
        &asha,
    )
    .await?;
    assert_eq!(read.json()["unread"], 2);
    let page = notices(&app, &asha).await?;
    let flags: Vec<bool> = page["notifications"]
        .as_array()
        .map(|n| n.iter().map(|x| x["read"] == true).collect())
        .unwrap_or_default();
    assert_eq!(flags, [false, false, true, true, true]);
    // Nobody else sees them.
    eventually(1, || async {
        Ok(notices(&app, &fans[0]).await?["notifications"] == json!([]))
    })
    .await?;
    app.stop().await
}

crate::both_backends!(
    blocked_people_cannot_follow_fork_like_or_see,
    administrators_hide_what_is_reported,
    social_actions_are_limited_per_user,
    notices_page_mark_read_and_stream,
);
