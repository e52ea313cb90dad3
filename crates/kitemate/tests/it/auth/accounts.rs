//! Accounts and sessions: signup, login, logout, me, session lists, throttling.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Kind, TestApp, TestResult};

async fn signup_then_me_shows_the_account(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let reply = app
        .post(
            "/auth/signup",
            json!({ "email": "  Asha.Rao@Example.COM ", "password": "river otter lantern", "username": "Asha_R" }),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    let token = body["token"].as_str().unwrap_or_default();
    assert!(token.starts_with("kms_"));
    assert_eq!(body["user"]["email"], "asha.rao@example.com");
    assert_eq!(body["user"]["username"], "asha_r");
    assert_eq!(body["user"]["tier"], "free");
    assert!(body["user"].get("passwordHash").is_none());

    let me = app.get("/auth/me", Some(token)).await?;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json(), body["user"]);
    app.stop().await
}

async fn signup_rejects_bad_fields_by_name(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let ok =
        json!({ "email": "a@example.com", "password": "river otter lantern", "username": "asha" });
    let cases = [
        (
            "email",
            json!("not-an-email"),
            "email: must be a valid email address",
        ),
        (
            "password",
            json!("short"),
            "password: must be 8 to 128 characters long",
        ),
        (
            "password",
            json!("x".repeat(129)),
            "password: must be 8 to 128 characters long",
        ),
        (
            "password",
            json!("Password123"),
            "password: is one of the most common passwords; choose another",
        ),
        (
            "password",
            json!("a@example.com"),
            "password: must not be your email or username",
        ),
        (
            "username",
            json!("ab"),
            "username: must be 3 to 30 characters long",
        ),
        (
            "username",
            json!("a".repeat(31)),
            "username: must be 3 to 30 characters long",
        ),
        (
            "username",
            json!("asha rao"),
            "username: may contain only letters a-z, digits and _",
        ),
        (
            "username",
            json!("āsha"),
            "username: may contain only letters a-z, digits and _",
        ),
        (
            "username",
            json!("Admin"),
            "username: is reserved: choose another",
        ),
        (
            "username",
            json!("kitemate"),
            "username: is reserved: choose another",
        ),
        (
            "username",
            json!("SUPPORT"),
            "username: is reserved: choose another",
        ),
    ];
    for (field, value, message) in cases {
        let mut body = ok.clone();
        body[field] = value;
        let reply = app.post("/auth/signup", body).await?;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_argument");
        assert_eq!(reply.message(), message);
        assert_eq!(reply.json()["details"]["field"], field);
    }
    let mut missing = ok.clone();
    missing.as_object_mut().map(|o| o.remove("username"));
    let reply = app.post("/auth/signup", missing).await?;
    assert_eq!(reply.message(), "username: is required");
    // Nothing was written by any of the refused requests.
    assert_eq!(
        app.post("/auth/signup", ok).await?.status,
        StatusCode::CREATED
    );
    app.stop().await
}

async fn duplicate_signup_is_409_and_writes_nothing(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;
    let again = app
        .post("/auth/signup", json!({ "email": "ASHA@example.com", "password": "river otter lantern", "username": "other" }))
        .await?;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_exists");
    assert_eq!(again.json()["details"]["field"], "email");

    let same_name = app
        .post("/auth/signup", json!({ "email": "new@example.com", "password": "river otter lantern", "username": "ASHA" }))
        .await?;
    assert_eq!(same_name.status, StatusCode::CONFLICT);
    assert_eq!(same_name.json()["details"]["field"], "username");
    // The refused signup left no account behind: its email cannot log in.
    let login = app
        .post(
            "/auth/login",
            json!({ "email": "new@example.com", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    app.stop().await
}

async fn concurrent_duplicate_signups_create_one_account(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let body = json!({ "email": "race@example.com", "password": "river otter lantern", "username": "racer" });
    let replies = futures_join(&app, &body, 6).await?;
    let created = replies
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = replies
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 5), "{replies:?}");
    app.stop().await
}

async fn futures_join(
    app: &TestApp,
    body: &serde_json::Value,
    n: usize,
) -> anyhow::Result<Vec<StatusCode>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let req = app.client.post(app.url("/auth/signup")).json(body).send();
        tasks.push(tokio::spawn(req));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await??.status());
    }
    Ok(statuses)
}

async fn login_works_and_never_says_which_part_was_wrong(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;
    let ok = app
        .post(
            "/auth/login",
            json!({ "email": " ASHA@example.com", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(ok.status, StatusCode::OK);
    let token = ok.json()["token"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        app.get("/auth/me", Some(&token)).await?.json()["username"],
        "asha"
    );

    let wrong_password = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": "river otter lanterns" }),
        )
        .await?;
    let unknown_email = app
        .post(
            "/auth/login",
            json!({ "email": "nobody@example.com", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.code(), "unauthenticated");
    assert_eq!(wrong_password.text, unknown_email.text);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    app.stop().await
}

async fn repeated_login_failures_are_slowed(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.auth.account_free_failures = 3;
        c.rate_limit.enabled = false;
    })
    .await?;
    app.signup("asha").await?;
    let attempt = |password: &'static str, email: &'static str| {
        app.post(
            "/auth/login",
            json!({ "email": email, "password": password }),
        )
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("wrong password!", "asha@example.com").await?.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The fourth failure starts the wait; the next try, even with the right password, must wait.
    assert_eq!(
        attempt("wrong password!", "asha@example.com").await?.status,
        StatusCode::UNAUTHORIZED
    );
    let blocked = attempt("river otter lantern", "asha@example.com").await?;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(blocked.code(), "resource_exhausted");
    assert!(blocked.header("retry-after").is_some());

    // An unknown email is throttled the same way, so throttling reveals nothing.
    for _ in 0..4 {
        attempt("wrong password!", "ghost@example.com").await?;
    }
    let ghost = attempt("wrong password!", "ghost@example.com").await?;
    assert_eq!(ghost.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ghost.message(), blocked.message());

    // Once the wait is over, the right password works again.
    app.clock.advance(TimeDelta::seconds(2));
    assert_eq!(
        attempt("river otter lantern", "asha@example.com")
            .await?
            .status,
        StatusCode::OK
    );
    app.stop().await
}

async fn logout_revokes_the_session(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let token = app.signup("asha").await?;
    let other = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": "river otter lantern" }),
        )
        .await?
        .json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = app
        .call(Method::POST, "/auth/logout", None, Some(&token))
        .await?;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/auth/me", Some(&token)).await?;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.code(), "unauthenticated");
    // The other session of the same user lives on.
    assert_eq!(
        app.get("/auth/me", Some(&other)).await?.status,
        StatusCode::OK
    );
    app.stop().await
}

async fn expired_sessions_are_refused(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| c.auth.session_ttl_hours = 2).await?;
    let token = app.signup("asha").await?;
    app.clock.advance(TimeDelta::minutes(119));
    assert_eq!(
        app.get("/auth/me", Some(&token)).await?.status,
        StatusCode::OK
    );
    app.clock.advance(TimeDelta::minutes(2));
    let me = app.get("/auth/me", Some(&token)).await?;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.message(), "invalid or expired session; log in again");
    app.stop().await
}

async fn missing_or_bad_credentials_are_401(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let token = app.signup("asha").await?;
    let none = app.get("/auth/me", None).await?;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "unauthenticated");
    for header in [
        "Basic abc",
        "Bearer",
        "Bearer kms_nope",
        &format!("Token {token}"),
        &format!("Bearer {token}x"),
    ] {
        let res = app
            .client
            .get(app.url("/auth/me"))
            .header("authorization", header)
            .send()
            .await?;
        let reply = TestApp::read(res).await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(reply.code(), "unauthenticated");
    }
    app.stop().await
}

async fn users_see_only_their_own_sessions(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let asha_sessions = app.get("/auth/sessions", Some(&asha)).await?.json();
    let ravi_sessions = app.get("/auth/sessions", Some(&ravi)).await?.json();
    assert_eq!(asha_sessions["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(asha_sessions["sessions"][0]["current"], true);
    let ashas_id = asha_sessions["sessions"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(ravi_sessions["sessions"].as_array().map(Vec::len), Some(1));
    assert!(!ashas_id.is_empty());
    assert_ne!(ravi_sessions["sessions"][0]["id"], ashas_id.as_str());

    // Ravi cannot revoke Asha's session: to him it does not exist.
    let path = format!("/auth/sessions/{ashas_id}");
    let steal = app.call(Method::DELETE, &path, None, Some(&ravi)).await?;
    assert_eq!(steal.status, StatusCode::NOT_FOUND);
    assert_eq!(steal.code(), "not_found");
    assert_eq!(
        app.get("/auth/me", Some(&asha)).await?.json()["username"],
        "asha"
    );
    assert_eq!(
        app.get("/auth/me", Some(&ravi)).await?.json()["username"],
        "ravi"
    );

    let own = app.call(Method::DELETE, &path, None, Some(&asha)).await?;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/auth/me", Some(&asha)).await?.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await
}

async fn granted_admins_are_admins(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let token = app.signup("asha").await?;
    assert_eq!(
        app.get("/auth/me", Some(&token)).await?.json()["isAdmin"],
        false
    );
    app.app
        .auth
        .grant_admin("ASHA@example.com")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        app.get("/auth/me", Some(&token)).await?.json()["isAdmin"],
        true
    );
    let missing = app.app.auth.grant_admin("nobody@example.com").await;
    assert!(missing.is_err());
    app.stop().await
}

/// Guesses sent all at once are throttled like guesses sent one by one.
async fn concurrent_guesses_are_throttled_too(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.auth.account_free_failures = 3;
        c.rate_limit.enabled = false;
    })
    .await?;
    app.signup("asha").await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let req = app
            .client
            .post(app.url("/auth/login"))
            .json(&json!({ "email": "asha@example.com", "password": "wrong password!" }))
            .send();
        tasks.push(tokio::spawn(req));
    }
    let mut checked = 0;
    for task in tasks {
        if task.await??.status() == StatusCode::UNAUTHORIZED {
            checked += 1;
        }
    }
    assert_eq!(
        checked, 4,
        "three free failures and the one that starts the wait"
    );
    app.stop().await
}

/// One address failing against many accounts is slowed as well.
async fn failures_from_one_address_are_slowed(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.auth.ip_free_failures = 4;
        c.rate_limit.enabled = false;
    })
    .await?;
    app.signup("asha").await?;
    for n in 0..5 {
        let email = format!("someone{n}@example.com");
        let reply = app
            .post(
                "/auth/login",
                json!({ "email": email, "password": "wrong password!" }),
            )
            .await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.code(), "resource_exhausted");
    // Successful logins from a shared address do not use its allowance up.
    app.clock.advance(TimeDelta::hours(1));
    for _ in 0..10 {
        let ok = app
            .post(
                "/auth/login",
                json!({ "email": "asha@example.com", "password": "river otter lantern" }),
            )
            .await?;
        assert_eq!(ok.status, StatusCode::OK);
    }
    app.stop().await
}

crate::both_backends!(
    concurrent_guesses_are_throttled_too,
    failures_from_one_address_are_slowed,
    signup_then_me_shows_the_account,
    signup_rejects_bad_fields_by_name,
    duplicate_signup_is_409_and_writes_nothing,
    concurrent_duplicate_signups_create_one_account,
    login_works_and_never_says_which_part_was_wrong,
    repeated_login_failures_are_slowed,
    logout_revokes_the_session,
    expired_sessions_are_refused,
    missing_or_bad_credentials_are_401,
    users_see_only_their_own_sessions,
    granted_admins_are_admins,
);
