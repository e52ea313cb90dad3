//! Who may call `/mcp` and how much: one user's token never reaches
//! another's data, tokens of another audience and the API's own session
//! tokens are refused, a missing scope is a step-up 403, wrong origins and
//! protocol versions are refused, and tool calls count against the Free
//! allowance and a per-user rate.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{call, connect, mcp, raw};
use crate::chat::answers::{use_questions, with_trades};
use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::starter;

const TRADEBOOK: &str =
    include_str!("../../data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");

const MODERN: &str = "2026-07-28";

/// A request of the 2026-07-28 revision: the method and name in headers
/// as well as the body, and the client's metadata in `_meta`.
async fn modern(
    app: &TestApp,
    token: &str,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    extra: &[(&str, &str)],
) -> anyhow::Result<crate::support::Reply> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": { "name": "raw-test", "version": "1.0.0" },
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let body = json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
    let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(name) = name {
        headers.push(("mcp-name", name));
    }
    headers.extend_from_slice(extra);
    raw(app, Some(token), &body, &headers).await
}

/// The result of a JSON-RPC reply (a JSON body: the server answers JSON).
fn result(reply: &crate::support::Reply) -> Value {
    reply.json()["result"].clone()
}

async fn one_users_token_never_reaches_anothers_data(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let ravi = app.signup("ravi").await?;
    starter(&app, &ravi).await?;
    let asha_widget = app.get("/widgets", Some(&asha)).await?.json()["widgets"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let theirs = connect(&app, "ravi", "portfolio:read widgets:read").await?;
    let client = mcp(&app, &theirs.access, true).await?;

    let summary = call(&client, "portfolio_summary", json!({}))
        .await?
        .map_err(anyhow::Error::msg)?;
    assert_eq!(
        summary["summary"],
        app.get("/portfolio/summary", Some(&ravi)).await?.json()
    );
    assert_eq!(summary["summary"]["holdings"], 0, "ravi imported nothing");
    let trades = call(&client, "search_trades", json!({}))
        .await?
        .map_err(anyhow::Error::msg)?;
    assert_eq!(trades["total"], 0);
    let widget = call(&client, "widget_data", json!({ "id": asha_widget })).await?;
    assert!(
        widget.is_err(),
        "asha's widget is not ravi's to read: {widget:?}"
    );
    let read = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(format!(
            "kitemate://widgets/{asha_widget}"
        )))
        .await;
    assert!(read.is_err(), "{read:?}");
    let listed = client.list_all_resources().await?;
    assert!(listed.iter().all(|r| !r.uri.contains(&asha_widget)));
    client.cancel().await?;
    app.stop().await
}

async fn tokens_not_made_for_this_endpoint_are_refused(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let tokens = connect(&app, "asha", "portfolio:read").await?;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    let version = [("mcp-protocol-version", "2025-11-25")];
    assert_eq!(
        raw(&app, Some(&tokens.access), &ping, &version)
            .await?
            .status,
        StatusCode::OK
    );

    // The API's session token, a refresh token and junk are not access tokens.
    for token in [
        asha.as_str(),
        tokens.refresh.as_str(),
        "kma_forged",
        "x".repeat(5000).as_str(),
    ] {
        let reply = raw(&app, Some(token), &ping, &version).await?;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            &token[..token.len().min(20)]
        );
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert_eq!(reply.code(), "unauthenticated");
    }

    // The same database behind another public URL is another resource: a
    // token minted for this one is refused there (no confused deputy). The
    // second app shares the first's data folder (SQLite) or URL (PostgreSQL).
    let here = app.app.config.database_url.clone();
    let dir = app.dir.path().to_path_buf();
    let other = TestApp::spawn_with(Kind::Sqlite, |c| {
        c.data_dir = dir;
        c.database_url = here;
        c.objects.public_url = "https://kitemate.example".into();
    })
    .await?;
    let elsewhere = raw(&other, Some(&tokens.access), &ping, &version).await?;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED, "{elsewhere:?}");
    assert!(elsewhere.message().contains("audience"), "{elsewhere:?}");
    assert_eq!(
        raw(&app, Some(&tokens.access), &ping, &version)
            .await?
            .status,
        StatusCode::OK
    );
    other.stop().await?;
    app.stop().await
}

async fn a_missing_scope_asks_for_a_step_up(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    starter(&app, &asha).await?;
    let widgets_only = connect(&app, "asha", "widgets:read").await?;
    let denied = modern(
        &app,
        &widgets_only.access,
        "tools/call",
        Some("holdings"),
        json!({ "name": "holdings", "arguments": {} }),
        &[],
    )
    .await?;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{denied:?}");
    let challenge = denied.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("portfolio:read")
            && challenge.contains("widgets:read"),
        "{challenge}"
    );
    let resource = modern(
        &app,
        &widgets_only.access,
        "resources/read",
        None,
        json!({ "uri": "kitemate://portfolio/summary" }),
        &[],
    )
    .await?;
    assert_eq!(resource.status, StatusCode::FORBIDDEN, "{resource:?}");
    let allowed = modern(
        &app,
        &widgets_only.access,
        "tools/call",
        Some("list_widgets"),
        json!({ "name": "list_widgets", "arguments": {} }),
        &[],
    )
    .await?;
    assert_eq!(allowed.status, StatusCode::OK, "{allowed:?}");
    assert_eq!(result(&allowed)["isError"], json!(false), "{allowed:?}");
    // Listing shows what the grant allows: no portfolio resources.
    let listed = modern(
        &app,
        &widgets_only.access,
        "resources/list",
        None,
        json!({}),
        &[],
    )
    .await?;
    let uris = result(&listed)["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !uris.is_empty()
            && uris.iter().all(|r| r["uri"]
                .as_str()
                .unwrap_or_default()
                .starts_with("kitemate://widgets/")),
        "{listed:?}"
    );
    app.stop().await
}

async fn origins_hosts_and_versions_are_checked(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.signup("asha").await?;
    let tokens = connect(&app, "asha", "portfolio:read").await?;
    let token = tokens.access.as_str();
    let list = json!({});

    let ok = modern(&app, token, "tools/list", None, list.clone(), &[]).await?;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(
        ok.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    assert!(
        ok.header("mcp-session-id").is_none(),
        "stateless: no session"
    );
    assert_eq!(result(&ok)["tools"].as_array().map(Vec::len), Some(12));

    // A page in some other site's tab (DNS rebinding, CSRF) is refused.
    let evil = modern(
        &app,
        token,
        "tools/list",
        None,
        list.clone(),
        &[("origin", "https://evil.example")],
    )
    .await?;
    assert_eq!(evil.status, StatusCode::FORBIDDEN, "{evil:?}");
    let own = app.url("");
    let same = modern(
        &app,
        token,
        "tools/list",
        None,
        list.clone(),
        &[("origin", own.as_str())],
    )
    .await?;
    assert_eq!(same.status, StatusCode::OK, "{same:?}");

    // Headers that contradict the body, and versions nobody speaks.
    let lying = modern(
        &app,
        token,
        "tools/call",
        Some("data_status"),
        json!({ "name": "holdings", "arguments": {} }),
        &[],
    )
    .await?;
    assert_eq!(lying.status, StatusCode::BAD_REQUEST, "{lying:?}");
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    let unknown = raw(
        &app,
        Some(token),
        &ping,
        &[("mcp-protocol-version", "1999-01-01")],
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{unknown:?}");

    // Too large a message is refused before anything reads it.
    let huge = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping", "params": { "pad": "x".repeat(300 * 1024) } });
    let big = raw(
        &app,
        Some(token),
        &huge,
        &[("mcp-protocol-version", "2025-11-25")],
    )
    .await?;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{big:?}");
    app.stop().await
}

async fn free_calls_count_against_the_allowance(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let tokens = connect(&app, "asha", "portfolio:read widgets:read").await?;
    let client = mcp(&app, &tokens.access, true).await?;
    let used = || async {
        Ok::<_, anyhow::Error>(
            app.get("/chat/usage", Some(&asha)).await?.json()["used"]
                .as_i64()
                .unwrap_or(-1),
        )
    };

    // Each answered call is one use; a refused one (bad input) is none,
    // and resources and listings are free.
    call(&client, "portfolio_summary", json!({}))
        .await?
        .map_err(anyhow::Error::msg)?;
    call(&client, "allocation", json!({ "by": "sector" }))
        .await?
        .map_err(anyhow::Error::msg)?;
    assert!(
        call(&client, "capital_gains", json!({ "fy": "1999-2000" }))
            .await?
            .is_err()
    );
    client.list_all_tools().await?;
    client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "kitemate://portfolio/summary",
        ))
        .await?;
    assert_eq!(used().await?, 2);

    // When the month's allowance is gone, calls say so; Pro has none.
    use_questions(&app, &asha, kitemate::chat::FREE_QUESTIONS - 2).await?;
    let spent = call(&client, "portfolio_summary", json!({})).await?;
    assert!(
        spent
            .as_ref()
            .is_err_and(|e| e.contains("counts as a chat question") && e.contains("Pro")),
        "{spent:?}"
    );
    crate::widgets::crud::pro(&app, "asha").await?;
    assert!(call(&client, "portfolio_summary", json!({})).await?.is_ok());
    client.cancel().await?;
    app.stop().await
}

async fn tool_calls_are_rate_limited_per_user(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.mcp.tool_calls_per_minute = 1;
        c.mcp.tool_call_burst = 3;
    })
    .await?;
    app.signup("asha").await?;
    app.signup("ravi").await?;
    let asha = mcp(
        &app,
        &connect(&app, "asha", "portfolio:read").await?.access,
        true,
    )
    .await?;
    let ravi = mcp(
        &app,
        &connect(&app, "ravi", "portfolio:read").await?.access,
        true,
    )
    .await?;
    for _ in 0..3 {
        assert!(call(&asha, "data_status", json!({})).await?.is_ok());
    }
    let limited = call(&asha, "data_status", json!({})).await?;
    assert!(
        limited.as_ref().is_err_and(|e| e.contains("rate limited")),
        "{limited:?}"
    );
    // Reading a resource is free of the allowance, not of the rate.
    let read = asha
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "kitemate://portfolio/summary",
        ))
        .await;
    assert!(
        read.as_ref()
            .is_err_and(|e| e.to_string().contains("rate limited")),
        "{read:?}"
    );
    // Another user's calls are theirs to make.
    assert!(call(&ravi, "data_status", json!({})).await?.is_ok());
    asha.cancel().await?;
    ravi.cancel().await?;
    app.stop().await
}

crate::both_backends!(
    one_users_token_never_reaches_anothers_data,
    tokens_not_made_for_this_endpoint_are_refused,
    a_missing_scope_asks_for_a_step_up,
    origins_hosts_and_versions_are_checked,
    free_calls_count_against_the_allowance,
    tool_calls_are_rate_limited_per_user,
);
