//! Profiles and follows through HTTP on both backends: public without
//! sign-in, no email and no amounts, private ones not found, follows
//! counted exactly under concurrency.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::{TRADEBOOK, call, create, starter};

async fn profiles_show_what_is_public_and_no_amounts(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let public = create(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "visibility": "public",
            "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    assert_eq!(public.status, StatusCode::CREATED);
    let unlisted = create(
        &app,
        &asha,
        json!({ "title": "Worth", "kind": "metric", "visibility": "unlisted",
            "source": { "type": "summary", "figures": ["value"] } }),
    )
    .await?;
    assert_eq!(unlisted.status, StatusCode::CREATED);
    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();

    let seen = app.get("/profiles/ASHA", None).await?;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    let profile = seen.json();
    assert_eq!(profile["username"], "asha");
    assert_eq!(profile["displayName"], "asha");
    assert_eq!(
        profile["counts"]["publicWidgets"], 1,
        "only public widgets count"
    );
    assert_eq!(profile["counts"]["followers"], 0);
    assert!(profile.get("followedByYou").is_none(), "signed out");
    let widgets = profile["widgets"]["widgets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(widgets.len(), 1);
    assert_eq!(widgets[0]["title"], "Sectors");
    assert_eq!(widgets[0]["shareUrl"], public.json()["shareUrl"]);
    assert!(widgets[0].get("data").is_none(), "lists carry no data");
    // Its link shows the weights, still without amounts.
    let link = widgets[0]["shareUrl"].as_str().unwrap_or_default();
    let path = link.find("/shared/").map(|at| &link[at..]).unwrap_or(link);
    let opened = app.get(path, None).await?;
    assert_eq!(opened.status, StatusCode::OK, "{opened:?}");
    assert!(
        !opened.json()["data"]["data"]["rows"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "weights still show: {}",
        opened.text
    );
    assert!(
        !opened.text.contains("Paise"),
        "no amounts: {}",
        opened.text
    );
    let text = &seen.text;
    assert!(!text.contains("asha@example.com"), "no email: {text}");
    assert!(!text.contains("Paise"), "no amounts: {text}");
    let value = summary["valuePaise"].to_string();
    assert!(!text.contains(&value), "no portfolio value {value}: {text}");
    assert_eq!(
        app.get("/profiles/nobody", None).await?.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await
}

async fn profiles_change_within_bounds(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let cases = [
        (json!({ "bio": "b".repeat(301) }), "bio"),
        (json!({ "displayName": "n".repeat(61) }), "displayName"),
        (json!({ "links": ["http://example.com"] }), "links[0]"),
        (
            json!({ "links": ["https://a.example", "javascript:alert(1)"] }),
            "links[1]",
        ),
        (json!({ "links": ["https://[::1"] }), "links[0]"),
        (json!({ "links": ["https://a.example:8443/x"] }), "links[0]"),
        (json!({ "links": ["https://a.example/x y"] }), "links[0]"),
        (json!({ "links": vec!["https://a.example"; 6] }), "links"),
        (json!({ "website": "https://a.example" }), "website"),
    ];
    for (body, field) in cases {
        let reply = call(
            &app,
            Method::PATCH,
            "/profiles/me",
            Some(body.clone()),
            &asha,
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert!(
            reply.message().contains(field),
            "{body}: {}",
            reply.message()
        );
    }
    let changed = call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(
            json!({ "displayName": " Asha\n\u{202e}Rao\u{7} ", "bio": "Index funds, mostly.\nSome <b>IT</b>.\u{0}",
            "links": ["https://asha.example/blog"] }),
        ),
        &asha,
    )
    .await?;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let seen = app.get("/profiles/asha", None).await?.json();
    assert_eq!(seen["displayName"], "Asha Rao");
    assert_eq!(
        seen["bio"], "Index funds, mostly.\nSome <b>IT</b>.",
        "kept as plain text"
    );
    assert_eq!(seen["links"], json!(["https://asha.example/blog"]));
    app.stop().await
}

async fn private_profiles_are_not_found_by_anyone_else(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let hidden = call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": true })),
        &asha,
    )
    .await?;
    assert_eq!(hidden.status, StatusCode::OK);
    assert_eq!(
        app.get("/profiles/asha", None).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/profiles/asha", Some(&ravi)).await?.status,
        StatusCode::NOT_FOUND
    );
    let own = app.get("/profiles/asha", Some(&asha)).await?;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json()["private"], true);
    let follow = call(&app, Method::PUT, "/profiles/asha/follow", None, &ravi).await?;
    assert_eq!(
        follow.status,
        StatusCode::NOT_FOUND,
        "a private profile cannot be followed"
    );
    app.stop().await
}

async fn follows_are_counted_exactly_under_concurrency(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let mut fans = Vec::new();
    for n in 0..8 {
        fans.push(app.signup(&format!("fan{n}")).await?);
    }
    // Every fan follows three times at once, all fans together.
    let app_ref = &app;
    let follows = fans.iter().flat_map(|fan| {
        (0..3).map(move |_| call(app_ref, Method::PUT, "/profiles/asha/follow", None, fan))
    });
    for reply in futures_util::future::join_all(follows).await {
        assert_eq!(reply?.status, StatusCode::NO_CONTENT);
    }
    let seen = app.get("/profiles/asha", Some(&fans[0])).await?.json();
    assert_eq!(seen["counts"]["followers"], 8);
    assert_eq!(seen["followedByYou"], true);
    assert_eq!(
        app.get("/profiles/fan1", None).await?.json()["counts"]["following"],
        1
    );

    let unfollows = (0..3).map(|_| {
        call(
            &app,
            Method::DELETE,
            "/profiles/asha/follow",
            None,
            &fans[0],
        )
    });
    for reply in futures_util::future::join_all(unfollows).await {
        assert_eq!(reply?.status, StatusCode::NO_CONTENT);
    }
    let seen = app.get("/profiles/asha", Some(&fans[0])).await?.json();
    assert_eq!(seen["counts"]["followers"], 7);
    assert_eq!(seen["followedByYou"], false);
    assert_eq!(
        app.get("/profiles/fan0", None).await?.json()["counts"]["following"],
        0
    );
    let own = call(&app, Method::PUT, "/profiles/asha/follow", None, &asha).await?;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

async fn renamed_profiles_redirect_for_thirty_days(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let rename = |name: &str, token: &str| {
        let body = json!({ "username": name });
        let (app, token) = (&app, token.to_string());
        async move { call(app, Method::PATCH, "/auth/me", Some(body), &token).await }
    };
    let renamed = rename("Asha_Invests", &asha).await?;
    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    assert_eq!(renamed.json()["username"], "asha_invests");
    assert_eq!(
        app.get("/auth/me", Some(&asha)).await?.json()["username"],
        "asha_invests",
        "the session sees the new name at once"
    );
    let old = no_follow
        .get(app.url("/profiles/ASHA?limit=5"))
        .send()
        .await?;
    assert_eq!(old.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        old.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/profiles/asha_invests?limit=5")
    );
    assert_eq!(
        app.get("/profiles/asha_invests", None).await?.json()["username"],
        "asha_invests"
    );
    // No one else takes the old name meanwhile.
    let ravi = app.signup("ravi").await?;
    let taken = rename("asha", &ravi).await?;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{taken:?}");
    let signup = app
        .post(
            "/auth/signup",
            json!({ "email": "other@example.com", "password": "river otter lantern", "username": "asha" }),
        )
        .await?;
    assert_eq!(signup.status, StatusCode::CONFLICT);
    for (bad, why) in [("admin", "reserved"), ("a-b", "letters"), ("ab", "3")] {
        let reply = rename(bad, &ravi).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.message().contains(why), "{bad}: {}", reply.message());
    }
    // A private profile's old address does not say where it went.
    call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": true })),
        &asha,
    )
    .await?;
    assert_eq!(
        no_follow
            .get(app.url("/profiles/asha"))
            .send()
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "private": false })),
        &asha,
    )
    .await?;
    // Thirty days on, the old address is no one's and the name is free.
    app.clock.advance(chrono::TimeDelta::days(31));
    assert_eq!(
        no_follow
            .get(app.url("/profiles/asha"))
            .send()
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    let late = app.signup("late").await?;
    let free = rename("asha", &late).await?;
    assert_eq!(free.status, StatusCode::OK, "{free:?}");
    app.stop().await
}

crate::both_backends!(
    renamed_profiles_redirect_for_thirty_days,
    profiles_show_what_is_public_and_no_amounts,
    profiles_change_within_bounds,
    private_profiles_are_not_found_by_anyone_else,
    follows_are_counted_exactly_under_concurrency,
);
