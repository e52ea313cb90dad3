//! Connecting Zerodha against the fake Kite server: linking, signing in with
//! Zerodha, states that work once and for one user, tokens sealed at rest,
//! disconnecting.

use kite::fake::FakeKite;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Kind, Reply, TestApp, TestResult, use_fake_kite};

const KEY: &str = "kitemate_key";
const SECRET: &str = "kitemate_secret";

async fn app_with_kite(kind: Kind) -> anyhow::Result<(TestApp, FakeKite)> {
    let fake = FakeKite::start(KEY, SECRET).await?;
    let url = fake.url();
    let app = TestApp::spawn_with(kind, |c| {
        use_fake_kite(c, &url, KEY, SECRET).expect("kite settings");
    })
    .await?;
    Ok((app, fake))
}

async fn initiate(app: &TestApp, token: Option<&str>) -> anyhow::Result<String> {
    Ok(initiate_in_browser(app, token).await?.0)
}

/// Starts a login and returns its state and the browser's cookie (`name=value`).
async fn initiate_in_browser(
    app: &TestApp,
    token: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let reply = app.get("/auth/zerodha/initiate", token).await?;
    let set_cookie = reply.header("set-cookie").unwrap_or_default();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/auth/zerodha"] {
        anyhow::ensure!(set_cookie.contains(part), "{set_cookie} lacks {part}");
    }
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();
    anyhow::ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let body = reply.json();
    let url = body["authUrl"].as_str().unwrap_or_default();
    anyhow::ensure!(
        url.contains(&format!("api_key={KEY}")) && url.contains("redirect_params=state%3D"),
        "{url}"
    );
    Ok((
        body["state"].as_str().unwrap_or_default().to_string(),
        cookie,
    ))
}

/// A browser's GET: with its cookie, following no redirect.
async fn browser_get(app: &TestApp, path: &str, cookie: Option<&str>) -> anyhow::Result<Reply> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut req = client.get(app.url(path));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    TestApp::read(req.send().await?).await
}

fn redirect_path(request_token: &str, state: &str) -> String {
    format!(
        "/auth/zerodha/redirect?action=login&type=login&status=success&request_token={request_token}&state={state}"
    )
}

async fn callback(
    app: &TestApp,
    token: Option<&str>,
    request_token: &str,
    state: &str,
) -> anyhow::Result<Reply> {
    app.call(
        Method::POST,
        "/auth/zerodha/callback",
        Some(json!({ "requestToken": request_token, "state": state })),
        token,
    )
    .await
}

async fn a_signed_in_user_links_their_account(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let asha = app.signup("asha").await?;
    let state = initiate(&app, Some(&asha)).await?;
    let linked = callback(&app, Some(&asha), &fake.request_token(), &state).await?;
    assert_eq!(linked.status, StatusCode::OK, "{linked:?}");
    let body = linked.json();
    assert_eq!(
        (
            body["zerodha"]["userId"].as_str(),
            body["zerodha"]["status"].as_str()
        ),
        (Some("XX0000"), Some("connected"))
    );
    assert_eq!(
        (
            body["token"].clone(),
            body["created"].clone(),
            body["user"]["username"].clone()
        ),
        (Value::Null, json!(false), json!("asha"))
    );
    let status = app.get("/auth/zerodha", Some(&asha)).await?.json();
    assert_eq!(status["userId"], "XX0000");

    // A state works once.
    let again = callback(&app, Some(&asha), &fake.request_token(), &state).await?;
    assert_eq!(
        (again.status, again.json()["details"]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("state"))
    );
    // The access token never shows in an answer.
    let tokens = fake.access_tokens();
    assert_eq!(tokens.len(), 1);
    assert!(!linked.text.contains(&tokens[0]) && !status.to_string().contains(&tokens[0]));
    // Nor in the database, in any form it is stored.
    let stored: Vec<String> = platform::with_db!(app.app.databases()[0], |pool| {
        sqlx::query_scalar("SELECT access_token FROM zerodha_links")
            .fetch_all(pool)
            .await
    })?;
    assert!(stored[0].starts_with("v1:") && !stored[0].contains(&tokens[0]));
    if let Kind::Sqlite = app_kind(&app) {
        for file in ["auth.db", "auth.db-wal"] {
            let bytes = std::fs::read(app.dir.path().join(file)).unwrap_or_default();
            assert!(
                !bytes
                    .windows(tokens[0].len())
                    .any(|w| w == tokens[0].as_bytes()),
                "{file} holds the token in clear"
            );
        }
    }
    // Ravi has no connection of his own and cannot see Asha's.
    let ravi = app.signup("ravi").await?;
    assert_eq!(
        app.get("/auth/zerodha", Some(&ravi)).await?.status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        app.call(Method::DELETE, "/auth/zerodha", None, Some(&asha))
            .await?
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        fake.calls().contains(&"DELETE /session/token".to_string()),
        "the Kite session was ended"
    );
    assert!(fake.access_tokens().is_empty());
    assert_eq!(
        app.get("/auth/zerodha", Some(&asha)).await?.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::DELETE, "/auth/zerodha", None, Some(&asha))
            .await?
            .status,
        StatusCode::NOT_FOUND
    );
    app.stop().await
}

fn app_kind(app: &TestApp) -> Kind {
    if app.app.backend.kind() == "sqlite" {
        Kind::Sqlite
    } else {
        Kind::Postgres(String::new())
    }
}

async fn a_visitor_signs_in_with_zerodha(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let state = initiate(&app, None).await?;
    let first = callback(&app, None, &fake.request_token(), &state).await?;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let body = first.json();
    assert_eq!(body["created"], true);
    let session = body["token"].as_str().unwrap_or_default().to_string();
    let me = app.get("/auth/me", Some(&session)).await?.json();
    assert_eq!(me["username"], "z_xx0000");
    assert_eq!(
        me["email"], "xx0000@zerodha.invalid",
        "Kite masked the email"
    );

    // The next time is a sign-in to the same account.
    let state = initiate(&app, None).await?;
    let again = callback(&app, None, &fake.request_token(), &state)
        .await?
        .json();
    assert_eq!(
        (again["created"].clone(), again["user"]["id"].clone()),
        (json!(false), me["id"].clone())
    );
    // No password works for an account made this way.
    let login = app
        .post(
            "/auth/login",
            json!({ "email": "xx0000@zerodha.invalid", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    app.stop().await
}

async fn states_and_accounts_belong_to_one_user(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let ashas = initiate(&app, Some(&asha)).await?;
    let stolen = callback(&app, Some(&ravi), &fake.request_token(), &ashas).await?;
    assert_eq!(
        (stolen.status, stolen.code().as_str()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );

    let ravis = initiate(&app, Some(&ravi)).await?;
    assert_eq!(
        callback(&app, Some(&ravi), &fake.request_token(), &ravis)
            .await?
            .status,
        StatusCode::OK
    );
    let ashas = initiate(&app, Some(&asha)).await?;
    let taken = callback(&app, Some(&asha), &fake.request_token(), &ashas).await?;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "already_exists")
    );

    let ashas = initiate(&app, Some(&asha)).await?;
    let refused = callback(&app, Some(&asha), "abcdef123456", &ashas).await?;
    assert_eq!(
        (refused.status, refused.json()["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("requestToken"))
    );
    let bogus = callback(&app, Some(&asha), &fake.request_token(), "no-such-state").await?;
    assert_eq!(bogus.json()["details"]["field"], "state");
    app.stop().await
}

async fn the_browser_redirect_finishes_a_link(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let asha = app.signup("asha").await?;
    let (state, cookie) = initiate_in_browser(&app, Some(&asha)).await?;
    let url = redirect_path(&fake.request_token(), &state);
    let page = browser_get(&app, &url, Some(&cookie)).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(
        page.text
            .contains("Zerodha account XX0000 is now connected to asha"),
        "{}",
        page.text
    );
    assert!(
        page.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the login cookie is cleared"
    );
    assert_eq!(
        app.get("/auth/zerodha", Some(&asha)).await?.json()["status"],
        "connected"
    );
    let cancelled = app
        .get(
            "/auth/zerodha/redirect?status=cancelled&request_token=abc&state=def",
            None,
        )
        .await?;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert!(cancelled.text.contains("cancelled"));
    let bare = app
        .get("/auth/zerodha/redirect?status=success", None)
        .await?;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

/// The attack the review showed live: Ravi starts a link and sends Kite's
/// login URL to Asha; she logs in at Kite and her browser comes back to the
/// redirect. Her browser did not start that login, so nothing is connected,
/// and Ravi's own session cannot finish it with her request token either.
async fn a_login_link_sent_to_another_browser_connects_nothing(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let ravi = app.signup("ravi").await?;
    let (ravis_state, _ravis_cookie) = initiate_in_browser(&app, Some(&ravi)).await?;
    let ashas_request_token = fake.request_token();
    let url = redirect_path(&ashas_request_token, &ravis_state);
    // Asha's browser, with no login cookie and then with one of her own.
    let (_, ashas_cookie) = initiate_in_browser(&app, None).await?;
    for cookie in [
        None,
        Some(ashas_cookie.as_str()),
        Some("kitemate_zerodha=forged"),
    ] {
        let page = browser_get(&app, &url, cookie).await?;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
        assert!(page.text.contains("another browser"), "{}", page.text);
        assert!(!page.text.contains("connected to"), "{}", page.text);
    }
    assert!(
        fake.access_tokens().is_empty(),
        "the request token was never exchanged at Kite"
    );
    assert_eq!(
        app.get("/auth/zerodha", Some(&ravi)).await?.status,
        StatusCode::NOT_FOUND,
        "Ravi has no Zerodha account"
    );
    // A visitor's sign-in cannot be forced on a browser either (login CSRF).
    let (visitor_state, _) = initiate_in_browser(&app, None).await?;
    let page = browser_get(
        &app,
        &redirect_path(&fake.request_token(), &visitor_state),
        None,
    )
    .await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
    assert!(page.header("location").is_none());
    app.stop().await
}

/// Signing in with Zerodha from a browser: the redirect sends the browser
/// on to the app with a one-use code, which only that browser can exchange
/// for a session.
async fn a_visitor_signs_in_through_the_browser(kind: Kind) -> TestResult {
    let (app, fake) = app_with_kite(kind).await?;
    let (state, cookie) = initiate_in_browser(&app, None).await?;
    let back = browser_get(
        &app,
        &redirect_path(&fake.request_token(), &state),
        Some(&cookie),
    )
    .await?;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text);
    let location = back.header("location").unwrap_or_default();
    let code = location
        .strip_prefix("/#zerodha_code=")
        .unwrap_or_default()
        .to_string();
    assert!(code.len() >= 40, "{location}");
    assert!(!back.text.contains("kms_"), "no session in the redirect");

    let exchange = |cookie: Option<String>, code: String| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post(app.url("/auth/zerodha/exchange"))
                .json(&json!({ "code": code }));
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            TestApp::read(req.send().await?).await
        }
    };
    // Another browser (no cookie, or another login's) cannot use the code.
    let (_, other_cookie) = initiate_in_browser(&app, None).await?;
    for other in [None, Some(other_cookie)] {
        let refused = exchange(other, code.clone()).await?;
        assert_eq!(
            (refused.status, refused.json()["details"]["field"].as_str()),
            (StatusCode::NOT_FOUND, Some("code")),
            "{refused:?}"
        );
    }
    let signed_in = exchange(Some(cookie.clone()), code.clone()).await?;
    assert_eq!(signed_in.status, StatusCode::OK, "{signed_in:?}");
    let body = signed_in.json();
    assert_eq!(
        (body["created"].clone(), body["zerodha"]["userId"].clone()),
        (json!(true), json!("XX0000"))
    );
    let session = body["token"].as_str().unwrap_or_default();
    let me = app.get("/auth/me", Some(session)).await?;
    assert_eq!(me.json()["username"], "z_xx0000", "{me:?}");
    // The code works once.
    let again = exchange(Some(cookie), code).await?;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    app.stop().await
}

crate::both_backends!(
    a_signed_in_user_links_their_account,
    a_visitor_signs_in_with_zerodha,
    states_and_accounts_belong_to_one_user,
    the_browser_redirect_finishes_a_link,
    a_login_link_sent_to_another_browser_connects_nothing,
    a_visitor_signs_in_through_the_browser,
);

#[tokio::test]
async fn without_an_api_key_zerodha_is_off() -> TestResult {
    let app = TestApp::spawn(Kind::Sqlite).await?;
    let reply = app.get("/auth/zerodha/initiate", None).await?;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    app.stop().await
}

/// Keys rotate: tokens sealed under the old key open while it is listed as
/// old, `reseal_tokens` (what `kitemate keys rotate` runs) moves them to the
/// new key, and then the old key can go.
#[tokio::test]
async fn sealed_tokens_move_to_a_new_key() -> TestResult {
    use base64::Engine as _;
    let key = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let fake = FakeKite::start(KEY, SECRET).await?;
    let dir = tempfile::tempdir()?;
    let settings = |current: String, old: Option<String>| {
        let mut config = crate::support::test_config(&Kind::Sqlite, dir.path());
        use_fake_kite(&mut config, &fake.url(), KEY, SECRET).expect("kite settings");
        let mut secrets =
            format!("KITEMATE_KITE_API_SECRET={SECRET}\nKITEMATE_ENCRYPTION_KEY={current}\n");
        if let Some(old) = old {
            secrets.push_str(&format!("KITEMATE_ENCRYPTION_OLD_KEYS={old}\n"));
        }
        let path = dir.path().join("rotation.env");
        std::fs::write(&path, secrets).expect("secrets file");
        config.secrets_file = Some(path);
        config
    };
    let clock = platform::clock::Clock::system();

    let first = kitemate::App::build(settings(key(1), None), clock.clone()).await?;
    let state = first.auth.zerodha_initiate(None).await.map_err(api)?.state;
    let done = first
        .auth
        .zerodha_complete(
            kitemate::auth::zerodha::Proof::Bearer(None),
            &fake.request_token(),
            &state,
            kitemate::auth::Origin::default(),
        )
        .await
        .map_err(api)?;
    let user = done.user.id;
    first.close().await;

    let rotating = kitemate::App::build(settings(key(2), Some(key(1))), clock.clone()).await?;
    assert!(
        rotating
            .auth
            .kite_token(&user)
            .await
            .map_err(api)?
            .is_some(),
        "old key still opens"
    );
    assert_eq!(rotating.auth.reseal_tokens().await.map_err(api)?, 1);
    assert_eq!(
        rotating.auth.reseal_tokens().await.map_err(api)?,
        0,
        "nothing left to move"
    );
    rotating.close().await;

    let after = kitemate::App::build(settings(key(2), None), clock).await?;
    let token = after.auth.kite_token(&user).await.map_err(api)?;
    assert!(token.is_some_and(|t| {
        fake.access_tokens()
            .contains(&secrecy::ExposeSecret::expose_secret(&t).to_string())
    }));
    after.close().await;
    Ok(())
}

fn api(err: platform::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", err.code.as_str(), err.message)
}
