//! KiteMate as an MCP server: the OAuth flow a client drives by hand
//! (discovery, registration, PKCE, sign-in and consent in a browser's
//! shoes, tokens), then every tool, resource and prompt through `rmcp`'s
//! own client, with the figures checked against the portfolio endpoints.

mod clients;
mod flow;
mod guard;
mod tools;

use base64::Engine;
use reqwest::StatusCode;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::Value;
use sha2::Digest;

use crate::support::{Reply, TestApp};

/// Where the test "client" says it listens for the code (loopback, which
/// native apps use; nothing listens: the test reads the redirect).
pub const REDIRECT: &str = "http://127.0.0.1:33418/callback";

pub const PASSWORD: &str = "river otter lantern";

/// A client that sees every redirect instead of following it.
pub fn browser() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
pub fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Registers a public client with `redirect` by dynamic registration.
pub async fn register(app: &TestApp, redirect: &str) -> anyhow::Result<String> {
    let reply = app
        .post(
            "/oauth/register",
            serde_json::json!({ "client_name": "Test Assistant", "redirect_uris": [redirect] }),
        )
        .await?;
    anyhow::ensure!(reply.status == StatusCode::CREATED, "{reply:?}");
    Ok(reply.json()["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// A hidden field's value in a form of the authorize page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// One authorization in a browser: the page, sign-in and the decision.
pub struct Authorization {
    pub client_id: String,
    pub redirect: String,
    pub scope: String,
    pub state: String,
    pub verifier: String,
    pub challenge: String,
}

impl Authorization {
    pub fn new(client_id: &str, scope: &str) -> Self {
        let (verifier, challenge) = pkce();
        Self {
            client_id: client_id.to_string(),
            redirect: REDIRECT.to_string(),
            scope: scope.to_string(),
            state: uuid::Uuid::new_v4().simple().to_string(),
            verifier,
            challenge,
        }
    }

    /// The authorize URL's query.
    pub fn query(&self, app: &TestApp) -> String {
        form(&[
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect),
            ("code_challenge", &self.challenge),
            ("code_challenge_method", "S256"),
            ("state", &self.state),
            ("scope", &self.scope),
            ("resource", &app.url("/mcp")),
        ])
    }

    /// Opens the authorize page; returns the page and the browser's cookie.
    pub async fn open(&self, app: &TestApp) -> anyhow::Result<(Reply, Option<String>)> {
        let res = browser()?
            .get(app.url(&format!("/oauth/authorize?{}", self.query(app))))
            .send()
            .await?;
        let reply = TestApp::read(res).await?;
        let cookie = reply
            .header("set-cookie")
            .map(|c| c.split(';').next().unwrap_or_default().trim().to_string());
        Ok((reply, cookie))
    }

    /// Signs in as `email` and answers the consent page with `decision`;
    /// returns where the browser is sent (the client's redirect URI).
    pub async fn approve(
        &self,
        app: &TestApp,
        email: &str,
        decision: &str,
    ) -> anyhow::Result<reqwest::Url> {
        let (page, cookie) = self.open(app).await?;
        anyhow::ensure!(page.status == StatusCode::OK, "{page:?}");
        let cookie = cookie.ok_or_else(|| anyhow::anyhow!("no cookie was set"))?;
        let consent = post_form(
            app,
            &cookie,
            &[
                ("request", &field(&page.text, "request")?),
                ("csrf", &field(&page.text, "csrf")?),
                ("step", "sign_in"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await?;
        anyhow::ensure!(consent.status == StatusCode::OK, "{consent:?}");
        anyhow::ensure!(
            consent.text.contains("name=\"decision\""),
            "no consent form: {}",
            consent.text
        );
        let done = post_form(
            app,
            &cookie,
            &[
                ("request", &field(&consent.text, "request")?),
                ("csrf", &field(&consent.text, "csrf")?),
                ("step", "consent"),
                ("decision", decision),
            ],
        )
        .await?;
        anyhow::ensure!(done.status.is_redirection(), "{done:?}");
        let to = done
            .header("location")
            .ok_or_else(|| anyhow::anyhow!("no location"))?;
        Ok(reqwest::Url::parse(&to)?)
    }

    /// Exchanges the code in `redirected_to` for tokens.
    pub async fn exchange(
        &self,
        app: &TestApp,
        redirected_to: &reqwest::Url,
    ) -> anyhow::Result<Reply> {
        let code = param(redirected_to, "code").unwrap_or_default();
        token(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &self.redirect),
                ("client_id", &self.client_id),
                ("code_verifier", &self.verifier),
                ("resource", &app.url("/mcp")),
            ],
        )
        .await
    }
}

fn field(html: &str, name: &str) -> anyhow::Result<String> {
    hidden(html, name).ok_or_else(|| anyhow::anyhow!("no {name} field in {html}"))
}

/// A form body.
pub fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A query parameter of a URL.
pub fn param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Posts the authorize page's form as the browser holding `cookie`.
pub async fn post_form(
    app: &TestApp,
    cookie: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<Reply> {
    let res = browser()?
        .post(app.url("/oauth/authorize"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await?;
    TestApp::read(res).await
}

/// Posts a form to the token endpoint.
pub async fn token(app: &TestApp, fields: &[(&str, &str)]) -> anyhow::Result<Reply> {
    post_oauth(app, "/oauth/token", fields).await
}

pub async fn post_oauth(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<Reply> {
    let res = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await?;
    TestApp::read(res).await
}

/// Tokens a client holds after connecting.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub client_id: String,
}

/// The whole flow for `name` (signed up as `name@example.com`), granting
/// `scope`: what a client does before its first call.
pub async fn connect(app: &TestApp, name: &str, scope: &str) -> anyhow::Result<Tokens> {
    let client_id = register(app, REDIRECT).await?;
    let auth = Authorization::new(&client_id, scope);
    let to = auth
        .approve(app, &format!("{name}@example.com"), "allow")
        .await?;
    let reply = auth.exchange(app, &to).await?;
    anyhow::ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let body = reply.json();
    Ok(Tokens {
        access: body["access_token"].as_str().unwrap_or_default().into(),
        refresh: body["refresh_token"].as_str().unwrap_or_default().into(),
        client_id,
    })
}

/// An MCP client on `/mcp` with `token`, speaking the current stateless
/// revision (`server/discover`) or the 2025 `initialize` handshake.
pub async fn mcp(
    app: &TestApp,
    token: &str,
    modern: bool,
) -> anyhow::Result<RunningService<RoleClient, Quiet>> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(app.url("/mcp")).auth_header(token),
    );
    let client = if modern {
        Quiet
            .serve_with_lifecycle(
                transport,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
                },
            )
            .await?
    } else {
        Quiet.serve(transport).await?
    };
    Ok(client)
}

/// A client that asks nothing of the server's user.
#[derive(Debug, Clone, Default)]
pub struct Quiet;

impl ClientHandler for Quiet {}

/// Calls `tool` with `args` and returns its structured content, or the
/// text of its error.
pub async fn call(
    client: &RunningService<RoleClient, Quiet>,
    tool: &str,
    args: Value,
) -> anyhow::Result<Result<Value, String>> {
    let mut params = rmcp::model::CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result = client.call_tool(params).await?;
    if result.is_error == Some(true) {
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join(" ");
        return Ok(Err(text));
    }
    Ok(Ok(result.structured_content.unwrap_or(Value::Null)))
}

/// Raw JSON-RPC over `/mcp` (the 2026-07-28 revision's headers), for the
/// checks a well-behaved client never provokes.
pub async fn raw(
    app: &TestApp,
    token: Option<&str>,
    body: &Value,
    extra: &[(&str, &str)],
) -> anyhow::Result<Reply> {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(body);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    TestApp::read(req.send().await?).await
}
