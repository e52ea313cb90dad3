//! The OAuth flow as an MCP client drives it: discovery from the 401,
//! registration, PKCE, sign-in and consent in the browser that started it,
//! tokens, refresh rotation, revocation, and the connected-apps list.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    Authorization, REDIRECT, Tokens, connect, param, post_form, post_oauth, raw, register, token,
};
use crate::support::{Kind, TestApp, TestResult};

fn ping() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" })
}

/// Whether `/mcp` takes `access` (a ping answered) or refuses it (401).
async fn works(app: &TestApp, access: &str) -> anyhow::Result<bool> {
    let reply = raw(
        app,
        Some(access),
        &ping(),
        &[("mcp-protocol-version", "2025-11-25")],
    )
    .await?;
    match reply.status {
        StatusCode::OK => Ok(true),
        StatusCode::UNAUTHORIZED => Ok(false),
        other => anyhow::bail!("{other}: {reply:?}"),
    }
}

async fn refresh(app: &TestApp, tokens: &Tokens) -> anyhow::Result<crate::support::Reply> {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh),
            ("client_id", &tokens.client_id),
        ],
    )
    .await
}

async fn audit_actions(app: &TestApp, admin: &str, user_id: &str) -> anyhow::Result<Vec<String>> {
    let reply = app
        .get(&format!("/admin/audit?userId={user_id}"), Some(admin))
        .await?;
    anyhow::ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect())
}

async fn a_client_finds_its_way_from_the_401_to_a_token(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;

    // The 401 names the resource metadata, which names the server.
    let denied = raw(&app, None, &ping(), &[]).await?;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let challenge = denied.header("www-authenticate").unwrap_or_default();
    let metadata_url = app.url("/.well-known/oauth-protected-resource/mcp");
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains(&format!("resource_metadata=\"{metadata_url}\""))
            && challenge.contains("scope=\"portfolio:read"),
        "{challenge}"
    );
    let resource = app
        .client
        .get(&metadata_url)
        .send()
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(resource["resource"], app.url("/mcp"));
    let issuer = resource["authorization_servers"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(issuer, app.url(""));
    // The root form answers the same (clients try both).
    let root = app
        .get("/.well-known/oauth-protected-resource", None)
        .await?;
    assert_eq!(root.json()["resource"], app.url("/mcp"));

    let server = app
        .get("/.well-known/oauth-authorization-server", None)
        .await?
        .json();
    assert_eq!(server["issuer"], issuer, "the issuer matches exactly");
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        server["authorization_response_iss_parameter_supported"],
        true
    );
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    ] {
        assert!(
            server[endpoint]
                .as_str()
                .unwrap_or_default()
                .starts_with(&issuer),
            "{endpoint}"
        );
    }

    // Registration, then the browser's part.
    let client_id = register(&app, REDIRECT).await?;
    let auth = Authorization::new(&client_id, "portfolio:read widgets:read");
    let back = auth.approve(&app, "asha@example.com", "allow").await?;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "state"), Some(auth.state.clone()));
    assert_eq!(param(&back, "iss"), Some(issuer.clone()));
    let code = param(&back, "code").unwrap_or_default();
    assert!(!code.is_empty());

    let tokens = auth.exchange(&app, &back).await?;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    assert_eq!(tokens.header("cache-control").as_deref(), Some("no-store"));
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "portfolio:read widgets:read");
    let first = Tokens {
        access: body["access_token"].as_str().unwrap_or_default().into(),
        refresh: body["refresh_token"].as_str().unwrap_or_default().into(),
        client_id: client_id.clone(),
    };
    assert!(works(&app, &first.access).await?);
    // Not a session token of the API: the access token opens /mcp only.
    assert_eq!(
        app.get("/auth/me", Some(&first.access)).await?.status,
        StatusCode::UNAUTHORIZED
    );

    // Refresh rotates both tokens; the old refresh token is spent.
    let rotated = refresh(&app, &first).await?;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let second = Tokens {
        access: rotated.json()["access_token"]
            .as_str()
            .unwrap_or_default()
            .into(),
        refresh: rotated.json()["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .into(),
        client_id: client_id.clone(),
    };
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    assert!(works(&app, &second.access).await?);

    // A public client names itself on every refresh.
    let anonymous = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second.refresh),
        ],
    )
    .await?;
    assert_eq!(anonymous.json()["error"], "invalid_request");
    assert!(
        anonymous.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("client_id")
    );

    // A spent refresh token used again means it leaked: the whole
    // connection ends, the thief's and the owner's tokens alike.
    let reuse = refresh(&app, &first).await?;
    assert_eq!(
        (reuse.status, reuse.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(!works(&app, &second.access).await?);
    assert_eq!(
        refresh(&app, &second).await?.json()["error"],
        "invalid_grant"
    );
    app.stop().await
}

async fn a_code_works_once_and_only_with_its_verifier(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;
    let client_id = register(&app, REDIRECT).await?;
    let other_client = register(&app, "http://127.0.0.1:40001/cb").await?;
    let auth = Authorization::new(&client_id, "portfolio:read");
    let back = auth.approve(&app, "asha@example.com", "allow").await?;
    let code = param(&back, "code").unwrap_or_default();
    let resource = app.url("/mcp");
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", auth.verifier.as_str()),
        ("resource", resource.as_str()),
    ];
    let with = |name: &str, value: &'static str| {
        base.iter()
            .map(|(k, v)| if *k == name { (*k, value) } else { (*k, *v) })
            .collect::<Vec<_>>()
    };
    // Each wrong field is refused, naming it; the code survives them.
    for (fields, error, names) in [
        (
            with(
                "code_verifier",
                "x-wrong-verifier-of-the-right-length-0123456789",
            ),
            "invalid_grant",
            "code_verifier",
        ),
        (
            with("redirect_uri", "http://127.0.0.1:33418/other"),
            "invalid_grant",
            "redirect_uri",
        ),
        (
            with("resource", "https://elsewhere.example/mcp"),
            "invalid_target",
            "resource",
        ),
        (
            with("grant_type", "password"),
            "unsupported_grant_type",
            "grant_type",
        ),
    ] {
        let reply = token(&app, &fields).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert_eq!(reply.json()["error"], error, "{reply:?}");
        assert!(
            reply.json()["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains(names),
            "{reply:?}"
        );
    }
    let stolen = base
        .iter()
        .map(|(k, v)| {
            if *k == "client_id" {
                (*k, other_client.as_str())
            } else {
                (*k, *v)
            }
        })
        .collect::<Vec<_>>();
    assert_eq!(token(&app, &stolen).await?.json()["error"], "invalid_grant");
    let twice = format!("{}&code=again", super::form(&base));
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(twice)
        .send()
        .await?;
    let reply = TestApp::read(res).await?;
    assert_eq!(
        reply.json()["error"],
        "invalid_request",
        "a field twice: {reply:?}"
    );
    // A parameter the server does not know is ignored, even twice.
    let extra = format!("{}&x-extra=1&x-extra=2", super::form(&base));
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(extra)
        .send()
        .await?;
    let reply = TestApp::read(res).await?;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "unknown parameters are ignored: {reply:?}"
    );
    let access = reply.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    assert!(works(&app, &access).await?);
    // Someone who only saw the used code (a log, a Referer) can do nothing
    // with it, not even end the connection.
    let seen = token(
        &app,
        &with(
            "code_verifier",
            "x-wrong-verifier-of-the-right-length-0123456789",
        ),
    )
    .await?;
    assert_eq!(seen.json()["error"], "invalid_grant");
    assert!(works(&app, &access).await?);
    // The client itself presenting it again means it leaked: refused, and
    // what it gave is revoked.
    let replay = token(&app, &base).await?;
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert!(!works(&app, &access).await?);
    app.stop().await
}

async fn the_browser_that_started_it_must_finish_it(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;
    let client_id = register(&app, REDIRECT).await?;
    let auth = Authorization::new(&client_id, "portfolio:read");
    let (page, cookie) = auth.open(&app).await?;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = cookie.unwrap_or_default();
    let set = page.header("set-cookie").unwrap_or_default();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Path=/oauth/authorize"),
        "{set}"
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        page.text.contains("Test Assistant") && page.text.contains(REDIRECT),
        "the page names the app"
    );
    let request = super::hidden(&page.text, "request").unwrap_or_default();
    let csrf = super::hidden(&page.text, "csrf").unwrap_or_default();
    let sign_in = |csrf: &str| {
        vec![
            ("request", request.clone()),
            ("csrf", csrf.to_string()),
            ("step", "sign_in".to_string()),
            ("email", "asha@example.com".to_string()),
            ("password", super::PASSWORD.to_string()),
        ]
    };

    // Someone else's browser (a link sent to the victim) gets nowhere.
    let (_, attacker) = auth.open(&app).await?;
    let fields = sign_in(&csrf);
    let foreign = post_form(&app, &attacker.unwrap_or_default(), &pairs_of(&fields)).await?;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{foreign:?}");
    let no_cookie = post_form(&app, "other=1", &pairs_of(&fields)).await?;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let forged = sign_in("forged-csrf");
    assert_eq!(
        post_form(&app, &cookie, &pairs_of(&forged)).await?.status,
        StatusCode::FORBIDDEN
    );

    // A wrong password shows the form again, saying so.
    let wrong = post_form(
        &app,
        &cookie,
        &[
            ("request", &request),
            ("csrf", &csrf),
            ("step", "sign_in"),
            ("email", "asha@example.com"),
            ("password", "not her password"),
        ],
    )
    .await?;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text.contains("do not match") && !wrong.text.contains("name=\"decision\""));

    // Signed in: consent, with a new CSRF token; declining sends the
    // client access_denied with its state, and the request is spent.
    let consent = post_form(&app, &cookie, &pairs_of(&fields)).await?;
    assert!(consent.text.contains("name=\"decision\""), "{consent:?}");
    // Browsers hold the form's redirect to form-action: the app's origin is named.
    let policy = consent
        .header("content-security-policy")
        .unwrap_or_default();
    assert!(
        policy.contains("form-action 'self' http://127.0.0.1:33418;"),
        "{policy}"
    );
    let csrf2 = super::hidden(&consent.text, "csrf").unwrap_or_default();
    assert_ne!(csrf2, csrf);
    let decline = [
        ("request", request.as_str()),
        ("csrf", csrf2.as_str()),
        ("step", "consent"),
        ("decision", "deny"),
    ];
    let denied = post_form(&app, &cookie, &decline).await?;
    let to = reqwest::Url::parse(&denied.header("location").unwrap_or_default())?;
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state"), Some(auth.state.clone()));
    assert_eq!(param(&to, "code"), None);
    let again = post_form(
        &app,
        &cookie,
        &[
            ("request", request.as_str()),
            ("csrf", csrf2.as_str()),
            ("step", "consent"),
            ("decision", "allow"),
        ],
    )
    .await?;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "single use: {again:?}"
    );
    app.stop().await
}

fn pairs_of<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn authorize_refuses_what_it_cannot_trust(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let client_id = register(&app, REDIRECT).await?;
    let open = |change: Box<dyn Fn(&mut Authorization)>| {
        let mut auth = Authorization::new(&client_id, "portfolio:read");
        change(&mut auth);
        auth
    };
    // Nothing is sent to a redirect URI that is not the client's own.
    for auth in [
        open(Box::new(|a| a.client_id = "no-such-client".into())),
        open(Box::new(|a| {
            a.redirect = "http://127.0.0.1:33418/callback/../evil".into()
        })),
        open(Box::new(|a| {
            a.redirect = "https://attacker.example/callback".into()
        })),
    ] {
        let (page, cookie) = auth.open(&app).await?;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", auth.redirect);
        assert!(page.header("location").is_none() && cookie.is_none());
    }
    // The rest is the client's to hear, named, with its state and our iss:
    // the page says what went wrong and links back (never a redirect by
    // itself: anyone may register a client and its redirect URI).
    for (auth, error) in [
        (
            open(Box::new(|a| a.challenge = "short".into())),
            "invalid_request",
        ),
        (
            open(Box::new(|a| a.scope = "orders:write".into())),
            "invalid_scope",
        ),
    ] {
        let res = super::browser()?
            .get(app.url(&format!("/oauth/authorize?{}", auth.query(&app))))
            .send()
            .await?;
        let to = link_back(TestApp::read(res).await?)?;
        assert_eq!(param(&to, "error").as_deref(), Some(error));
        assert_eq!(param(&to, "state"), Some(auth.state.clone()));
        assert_eq!(param(&to, "iss"), Some(app.url("")));
    }
    let auth = Authorization::new(&client_id, "portfolio:read");
    for (from, to, error) in [
        (
            "code_challenge_method=S256",
            "code_challenge_method=plain",
            "invalid_request",
        ),
        (
            "response_type=code",
            "response_type=token",
            "unsupported_response_type",
        ),
        (
            "resource=http",
            "resource=https%3A%2F%2Fother.example%2Fmcp&x=http",
            "invalid_target",
        ),
    ] {
        let query = auth.query(&app).replacen(from, to, 1);
        let res = super::browser()?
            .get(app.url(&format!("/oauth/authorize?{query}")))
            .send()
            .await?;
        let to = link_back(TestApp::read(res).await?)?;
        assert_eq!(param(&to, "error").as_deref(), Some(error), "{query}");
    }
    app.stop().await
}

/// The link back to the app on a 400 page (and no redirect).
fn link_back(page: crate::support::Reply) -> anyhow::Result<reqwest::Url> {
    anyhow::ensure!(page.status == StatusCode::BAD_REQUEST, "{page:?}");
    anyhow::ensure!(page.header("location").is_none(), "a redirect: {page:?}");
    let at = page
        .text
        .find("<a href=\"")
        .ok_or_else(|| anyhow::anyhow!("no link in {}", page.text))?;
    let rest = &page.text[at + 9..];
    let href = rest[..rest.find('"').unwrap_or(0)].replace("&amp;", "&");
    anyhow::ensure!(href.starts_with(REDIRECT), "{href}");
    Ok(reqwest::Url::parse(&href)?)
}

async fn revocation_and_connected_apps_end_a_connection(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let admin = app.admin("root").await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let asha_id = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Revoking the refresh token ends the connection it belongs to.
    let one = connect(&app, "asha", "portfolio:read").await?;
    let revoked = post_oauth(
        &app,
        "/oauth/revoke",
        &[("token", &one.refresh), ("client_id", &one.client_id)],
    )
    .await?;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(!works(&app, &one.access).await?);
    // An unknown token is "revoked" too, saying nothing about it.
    let unknown = post_oauth(&app, "/oauth/revoke", &[("token", "kmr_nothing")]).await?;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        post_oauth(&app, "/oauth/revoke", &[]).await?.json()["error"],
        "invalid_request"
    );

    // The user sees the apps they connected and disconnects one.
    let two = connect(&app, "asha", "portfolio:read widgets:read").await?;
    let listed = app.get("/connected-apps", Some(&asha)).await?;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    let apps = listed.json()["apps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        apps.len(),
        1,
        "revoked connections are not listed: {apps:?}"
    );
    assert_eq!(apps[0]["name"], "Test Assistant");
    assert_eq!(apps[0]["redirectUri"], REDIRECT);
    assert_eq!(apps[0]["scopes"], json!(["portfolio:read", "widgets:read"]));
    let id = apps[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(works(&app, &two.access).await?);
    assert_eq!(
        app.get("/connected-apps", Some(&ravi)).await?.json()["apps"],
        json!([])
    );
    let theirs = app
        .call(
            Method::DELETE,
            &format!("/connected-apps/{id}"),
            None,
            Some(&ravi),
        )
        .await?;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "not ravi's to end");
    assert!(works(&app, &two.access).await?);
    let gone = app
        .call(
            Method::DELETE,
            &format!("/connected-apps/{id}"),
            None,
            Some(&asha),
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(!works(&app, &two.access).await?);
    assert_eq!(refresh(&app, &two).await?.json()["error"], "invalid_grant");
    assert_eq!(
        app.get("/connected-apps", Some(&asha)).await?.json()["apps"],
        json!([])
    );
    let bad = app.get("/connected-apps?limit=0", Some(&asha)).await?;
    assert_eq!(
        (bad.status, bad.json()["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );

    // Every grant and every revocation is in the audit log.
    let actions = audit_actions(&app, &admin, &asha_id).await?;
    assert_eq!(
        actions.iter().filter(|a| *a == "mcp.granted").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "mcp.revoked").count(),
        2,
        "{actions:?}"
    );
    app.stop().await
}

async fn tokens_last_their_time_and_then_go(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let tokens = connect(&app, "asha", "portfolio:read").await?;
    // A code not exchanged within two minutes is dead.
    let client_id = register(&app, REDIRECT).await?;
    let late = Authorization::new(&client_id, "portfolio:read");
    let back = late.approve(&app, "asha@example.com", "allow").await?;
    app.clock.advance(chrono::TimeDelta::minutes(3));
    assert_eq!(
        late.exchange(&app, &back).await?.json()["error"],
        "invalid_grant"
    );

    // An hour on, the access token has expired; the refresh token gives a new one.
    app.clock.advance(chrono::TimeDelta::minutes(58));
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    let expired = raw(
        &app,
        Some(&tokens.access),
        &ping,
        &[("mcp-protocol-version", "2025-11-25")],
    )
    .await?;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.message().contains("expired"), "{expired:?}");
    let renewed = refresh(&app, &tokens).await?;
    assert_eq!(renewed.status, StatusCode::OK, "{renewed:?}");
    let access = renewed.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(works(&app, &access).await?);
    let listed = app.get("/connected-apps", Some(&asha)).await?.json();
    assert_eq!(listed["apps"].as_array().map(Vec::len), Some(2));
    assert!(
        listed["apps"][0]["lastUsedAt"].is_string() || listed["apps"][1]["lastUsedAt"].is_string()
    );

    // Unused for the refresh token's 30 days, the connection lapses, and
    // the hourly tidy removes what is left of it.
    app.clock.advance(chrono::TimeDelta::days(31));
    let tokens = Tokens {
        refresh: renewed.json()["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .into(),
        ..tokens
    };
    assert_eq!(
        refresh(&app, &tokens).await?.json()["error"],
        "invalid_grant"
    );
    let (run, handle) = app.app.cron.run_now("tidy-mcp").await?.expect("the job");
    handle.await?;
    let run = app.app.cron.run(&run.id).await?.expect("the run");
    assert_eq!(run.outcome, "succeeded", "{run:?}");
    // (Her session lapsed too: she signs in again.)
    let login = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": super::PASSWORD }),
        )
        .await?;
    let asha = login.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        app.get("/connected-apps", Some(&asha)).await?.json()["apps"],
        json!([])
    );
    app.stop().await
}

crate::both_backends!(
    tokens_last_their_time_and_then_go,
    a_client_finds_its_way_from_the_401_to_a_token,
    a_code_works_once_and_only_with_its_verifier,
    the_browser_that_started_it_must_finish_it,
    authorize_refuses_what_it_cannot_trust,
    revocation_and_connected_apps_end_a_connection,
);
