//! Discovery and the feed through HTTP on both backends: public widgets
//! only, in the three orders, found by words (the same on SQLite's FTS5
//! and PostgreSQL's full-text search), by stock and by kind, a page at a
//! time with cursors that hold while new widgets arrive.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::forks::made;
use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::{TRADEBOOK, call, pro, starter};

/// An app whose per-address limit does not get in a test's way.
async fn app(kind: Kind) -> anyhow::Result<TestApp> {
    TestApp::spawn_with(kind, |config| {
        config.rate_limit.per_ip_per_minute = 100_000;
        config.rate_limit.burst = 10_000;
    })
    .await
}

fn titles(page: &Value) -> Vec<String> {
    page["widgets"]
        .as_array()
        .map(|ws| {
            ws.iter()
                .map(|w| w["title"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn discover(app: &TestApp, query: &str) -> anyhow::Result<Value> {
    let page = app.get(&format!("/discover/widgets?{query}"), None).await?;
    anyhow::ensure!(page.status == StatusCode::OK, "{query}: {page:?}");
    Ok(page.json())
}

/// Every title through the pages of `query`, `limit` at a time.
async fn all_pages(app: &TestApp, query: &str, limit: usize) -> anyhow::Result<Vec<String>> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let q = match &cursor {
            Some(c) => format!("{query}&limit={limit}&cursor={c}"),
            None => format!("{query}&limit={limit}"),
        };
        let page = discover(app, &q).await?;
        let got = titles(&page);
        anyhow::ensure!(got.len() <= limit, "a page of at most {limit}: {page}");
        seen.extend(got);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(seen),
        }
    }
    anyhow::bail!("pages without end")
}

fn pie(title: &str, description: &str, tags: &[&str]) -> Value {
    json!({ "title": title, "description": description, "tags": tags, "kind": "pie",
        "visibility": "public", "source": { "type": "allocation", "by": "sector" } })
}

async fn discovery_lists_public_widgets_in_each_order(kind: Kind) -> TestResult {
    let app = app(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let ravi = app.signup("ravi").await?;
    let mut made_ids = Vec::new();
    for (who, body) in [
        (
            &asha,
            pie("Dividend payers", "Steady income stocks", &["income"]),
        ),
        (
            &asha,
            pie("Banks I hold", "Private sector lenders", &["banking"]),
        ),
        (
            &ravi,
            pie(
                "IT heavy",
                "Mostly software exporters",
                &["tech", "dividend"],
            ),
        ),
        (&ravi, pie("Mid-cap bets", "Small and mid cap ideas", &[])),
    ] {
        made_ids.push(
            made(&app, who, body).await?["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // Neither private nor unlisted widgets are listed.
    made(
        &app,
        &asha,
        json!({ "title": "Secret dividend plan", "kind": "table",
        "source": { "type": "holdings" } }),
    )
    .await?;
    made(
        &app,
        &asha,
        json!({ "title": "Unlisted dividend plan", "kind": "table",
        "visibility": "unlisted", "source": { "type": "holdings" } }),
    )
    .await?;

    let new = titles(&discover(&app, "sort=new").await?);
    assert_eq!(
        new,
        [
            "Mid-cap bets",
            "IT heavy",
            "Banks I hold",
            "Dividend payers"
        ],
        "newest first, public only"
    );

    // Likes and a fork push one up; trending and top agree here.
    let banks = &made_ids[1];
    for name in ["fan1", "fan2", "fan3"] {
        let fan = app.signup(name).await?;
        let liked = call(
            &app,
            Method::PUT,
            &format!("/widgets/{banks}/like"),
            None,
            &fan,
        )
        .await?;
        assert_eq!(liked.status, StatusCode::OK, "{liked:?}");
    }
    let fan = app.signup("fan4").await?;
    let forked = call(
        &app,
        Method::POST,
        &format!("/widgets/{}/fork", made_ids[2]),
        None,
        &fan,
    )
    .await?;
    assert_eq!(forked.status, StatusCode::CREATED);
    let trending = titles(&discover(&app, "sort=trending").await?);
    assert_eq!(trending[0], "Banks I hold", "{trending:?}");
    assert_eq!(trending[1], "IT heavy", "{trending:?}");
    let top = discover(&app, "sort=top").await?;
    assert_eq!(titles(&top)[..2], ["Banks I hold", "IT heavy"]);
    assert_eq!(
        top["widgets"][0]["reactions"],
        json!({ "likes": 3, "forks": 0 })
    );
    assert_eq!(top["widgets"][0]["owner"], "asha");
    assert_eq!(
        titles(&discover(&app, "").await?),
        trending,
        "trending when no order is given"
    );

    // Words in titles, descriptions or tags; all of them must be found.
    let found = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let mut t = titles(&discover(app, &format!("q={q}")).await?);
            t.sort();
            anyhow::Ok(t)
        }
    };
    assert_eq!(found("dividend").await?, ["Dividend payers", "IT heavy"]);
    assert_eq!(found("DIVIDEND%20steady").await?, ["Dividend payers"]);
    assert_eq!(found("mid").await?, ["Mid-cap bets"]);
    assert_eq!(found("lenders").await?, ["Banks I hold"]);
    assert!(found("nothing-like-this").await?.is_empty());
    let blank = app.get("/discover/widgets?q=%2A%2A", None).await?;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    assert_eq!(blank.json()["details"]["field"], "q");

    // By kind.
    made(
        &app,
        &ravi,
        json!({ "title": "My note", "kind": "note", "visibility": "public",
        "options": { "text": "hello" } }),
    )
    .await?;
    assert_eq!(titles(&discover(&app, "kind=note").await?), ["My note"]);
    app.stop().await
}

async fn cursors_hold_while_new_widgets_arrive(kind: Kind) -> TestResult {
    let app = app(kind).await?;
    let asha = app.signup("asha").await?;
    pro(&app, "asha").await?;
    for i in 0..7 {
        made(&app, &asha, pie(&format!("w{i}"), "", &[])).await?;
    }
    for sort in ["new", "trending", "top"] {
        let all = all_pages(&app, &format!("sort={sort}"), 3).await?;
        let distinct: BTreeSet<&String> = all.iter().collect();
        assert_eq!(all.len(), 7, "{sort}: {all:?}");
        assert_eq!(distinct.len(), 7, "{sort}: no repeats");
    }
    // A first page, then new widgets, then the rest: nothing repeats or
    // goes missing of what was there.
    let first = discover(&app, "sort=new&limit=3").await?;
    for i in 7..10 {
        made(&app, &asha, pie(&format!("w{i}"), "", &[])).await?;
    }
    let cursor = first["nextCursor"].as_str().unwrap_or_default();
    let mut seen = titles(&first);
    let mut next = discover(&app, &format!("sort=new&limit=3&cursor={cursor}")).await?;
    loop {
        seen.extend(titles(&next));
        let Some(c) = next["nextCursor"].as_str().map(str::to_string) else {
            break;
        };
        next = discover(&app, &format!("sort=new&limit=3&cursor={c}")).await?;
    }
    assert_eq!(seen, ["w6", "w5", "w4", "w3", "w2", "w1", "w0"]);

    // A cursor of another order, or none at all, is refused by name.
    let trending = discover(&app, "sort=trending&limit=2").await?;
    let c = trending["nextCursor"].as_str().unwrap_or_default();
    for bad in [
        format!("sort=new&cursor={c}"),
        "cursor=nonsense".to_string(),
    ] {
        let reply = app.get(&format!("/discover/widgets?{bad}"), None).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.json()["details"]["field"], "cursor");
    }
    app.stop().await
}

async fn widgets_are_found_by_the_stocks_they_concern(kind: Kind) -> TestResult {
    let app = app(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    made(
        &app,
        &asha,
        json!({ "title": "TCS alone", "kind": "metric", "visibility": "public",
        "source": { "type": "position", "symbol": "TCS" } }),
    )
    .await?;
    made(
        &app,
        &asha,
        json!({ "title": "Everything", "kind": "table", "visibility": "public",
        "source": { "type": "holdings" } }),
    )
    .await?;
    made(
        &app,
        &asha,
        json!({ "title": "By sector", "kind": "pie", "visibility": "public",
        "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    let mut tcs = titles(&discover(&app, "symbol=tcs").await?);
    tcs.sort();
    assert_eq!(tcs, ["Everything", "TCS alone"]);
    assert_eq!(
        titles(&discover(&app, "symbol=INFY").await?),
        ["Everything"]
    );
    assert!(titles(&discover(&app, "symbol=WIPRO").await?).is_empty());
    let page = app.get("/discover/widgets?symbol=TCS", None).await?;
    assert!(
        !page.text.contains("Paise") && !page.text.contains("quantity"),
        "{}",
        page.text
    );
    app.stop().await
}

async fn the_feed_and_profile_search_show_what_is_public(kind: Kind) -> TestResult {
    let app = app(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let mia = app.signup("mia").await?;
    made(&app, &asha, pie("Asha's", "", &[])).await?;
    made(&app, &ravi, pie("Ravi's", "", &[])).await?;
    made(&app, &mia, pie("Mia's", "", &[])).await?;
    let reader = app.signup("reader").await?;
    assert!(titles(&app.get("/feed", Some(&reader)).await?.json()).is_empty());
    for who in ["asha", "mia"] {
        let r = call(
            &app,
            Method::PUT,
            &format!("/profiles/{who}/follow"),
            None,
            &reader,
        )
        .await?;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let feed = app.get("/feed", Some(&reader)).await?;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(titles(&feed.json()), ["Mia's", "Asha's"]);
    // Mia goes private: gone from the feed and from discovery.
    let private = call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": true })),
        &mia,
    )
    .await?;
    assert_eq!(private.status, StatusCode::OK);
    assert_eq!(
        titles(&app.get("/feed", Some(&reader)).await?.json()),
        ["Asha's"]
    );
    assert_eq!(
        titles(&discover(&app, "sort=new").await?),
        ["Ravi's", "Asha's"]
    );
    let back = call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": false })),
        &mia,
    )
    .await?;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(titles(&discover(&app, "sort=new").await?).len(), 3);

    // Profiles by username start or display name.
    call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "displayName": "Ravi Kumar" })),
        &ravi,
    )
    .await?;
    call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "displayName": "Asha Ravindran" })),
        &asha,
    )
    .await?;
    let found = app.get("/discover/profiles?q=ravi", None).await?;
    assert_eq!(found.status, StatusCode::OK);
    let names: Vec<String> = found.json()["profiles"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p["username"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["ravi", "asha"], "the exact username first");
    assert_eq!(found.json()["profiles"][0]["displayName"], "Ravi Kumar");
    assert!(!found.text.contains("@example.com"));
    call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": true })),
        &ravi,
    )
    .await?;
    let found = app.get("/discover/profiles?q=ravi", None).await?.json();
    assert_eq!(
        found["profiles"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    let percent = app.get("/discover/profiles?q=%25", None).await?;
    assert_eq!(percent.status, StatusCode::OK);
    assert_eq!(
        percent.json()["profiles"],
        json!([]),
        "% is a character, not a wildcard"
    );
    assert_eq!(
        app.get("/discover/profiles", None).await?.status,
        StatusCode::BAD_REQUEST
    );
    app.stop().await
}

crate::both_backends!(
    discovery_lists_public_widgets_in_each_order,
    cursors_hold_while_new_widgets_arrive,
    widgets_are_found_by_the_stocks_they_concern,
    the_feed_and_profile_search_show_what_is_public,
);
