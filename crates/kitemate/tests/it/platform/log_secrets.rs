//! A dedicated run of the real binary at debug level, driven through every
//! flow that handles a secret (passwords, sessions, tickets, Zerodha's
//! request and access tokens, the browser's login cookie, the model's key,
//! the keys in the secrets file, the metrics token), including Kite being
//! unreachable when a session is ended. Every line it logged is then
//! searched for each of those secrets; none may appear.

use std::process::{Child, Stdio};
use std::time::Duration;

use kite::fake::FakeKite;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::fake_llm::{FakeLlm, Step};
use crate::support::{TestResult, kitemate};

const KITE_KEY: &str = "kitemate_key";
const KITE_SECRET: &str = "kite-api-secret-SECRET-1";
const LLM_KEY: &str = "llm-api-key-SECRET-2";
const METRICS_TOKEN: &str = "metrics-token-SECRET-3";
const PASSWORD: &str = "river otter lantern SECRET";

struct Server {
    child: Child,
    url: String,
    /// Everything the server writes, read as it comes (a full pipe would
    /// stop a server that logs at debug level).
    readers: Vec<std::thread::JoinHandle<String>>,
}

fn drain(mut from: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts `kitemate serve` on `dir` with Kite at `kite_root`, logging
/// everything at debug level to a pipe.
async fn serve(dir: &std::path::Path, kite_root: &str, llm: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let secrets = dir.join("secrets.env");
    let mut child = kitemate()
        .env("KITEMATE_DATA_DIR", dir)
        .env("KITEMATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("KITEMATE_LOG__LEVEL", "debug")
        .env("KITEMATE_SECRETS_FILE", &secrets)
        .env("KITEMATE_KITE__API_KEY", KITE_KEY)
        .env("KITEMATE_KITE__API_ROOT", kite_root)
        .env("KITEMATE_LLM__BASE_URL", llm)
        .env("KITEMATE_LLM__MODEL", "fake-model")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(drain(out));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(drain(err));
    }
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            return Ok(Server {
                child,
                url,
                readers,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    anyhow::bail!("kitemate did not start")
}

/// Stops the server and returns everything it wrote.
fn stop(mut server: Server) -> anyhow::Result<String> {
    std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()?;
    server.child.wait()?;
    let mut all = String::new();
    for reader in server.readers {
        all.push_str(&reader.join().unwrap_or_default());
    }
    Ok(all)
}

/// The `name=value` of the cookie an answer sets.
fn login_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_string()
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log() -> TestResult {
    use base64::Engine as _;
    let dir = tempfile::tempdir()?;
    let encryption_key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let signing_key = "object-signing-key-SECRET-4-of-32-bytes-or-more";
    std::fs::write(
        dir.path().join("secrets.env"),
        format!(
            "KITEMATE_KITE_API_SECRET={KITE_SECRET}\nLLM_API_KEY={LLM_KEY}\n\
             KITEMATE_METRICS_TOKEN={METRICS_TOKEN}\nKITEMATE_ENCRYPTION_KEY={encryption_key}\n\
             KITEMATE_OBJECT_SIGNING_KEY={signing_key}\n"
        ),
    )?;
    let fake = FakeKite::start(KITE_KEY, KITE_SECRET).await?;
    let llm = FakeLlm::start().await?;
    let mut secrets: Vec<String> = vec![
        KITE_SECRET.into(),
        LLM_KEY.into(),
        METRICS_TOKEN.into(),
        PASSWORD.into(),
        encryption_key.clone(),
        signing_key.into(),
    ];

    let server = serve(dir.path(), &fake.url(), &llm.base_url()).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let url = server.url.clone();
    let signed_up: Value = client
        .post(format!("{url}/auth/signup"))
        .json(&json!({ "email": "asha@example.com", "password": PASSWORD, "username": "asha" }))
        .send()
        .await?
        .json()
        .await?;
    let token = text(&signed_up, "/token");
    assert!(token.starts_with("kms_"), "{signed_up}");
    secrets.push(token.clone());
    // A failed login and a forged session are logged without their values.
    client
        .post(format!("{url}/auth/login"))
        .json(&json!({ "email": "asha@example.com", "password": format!("{PASSWORD}-wrong") }))
        .send()
        .await?;
    let login: Value = client
        .post(format!("{url}/auth/login"))
        .json(&json!({ "email": "asha@example.com", "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    secrets.push(text(&login, "/token"));
    let forged = format!("kms_{}", "A".repeat(43));
    client
        .get(format!("{url}/auth/me"))
        .bearer_auth(&forged)
        .send()
        .await?;

    // Linking Zerodha through the browser: state, cookie, request token,
    // and the access token Kite hands back.
    let started = client
        .get(format!("{url}/auth/zerodha/initiate"))
        .bearer_auth(&token)
        .send()
        .await?;
    let cookie = login_cookie(&started);
    let state = text(&started.json::<Value>().await?, "/state");
    let request_token = fake.request_token();
    secrets.extend([
        cookie.trim_start_matches("kitemate_zerodha=").to_string(),
        request_token.clone(),
    ]);
    let page = client
        .get(format!(
            "{url}/auth/zerodha/redirect?status=success&request_token={request_token}&state={state}"
        ))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    secrets.extend(fake.access_tokens());
    let synced = client
        .post(format!("{url}/portfolio/sync"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(synced.status(), StatusCode::OK);
    // A visitor signing in through the browser gets a one-use code.
    let visitor = client
        .get(format!("{url}/auth/zerodha/initiate"))
        .send()
        .await?;
    let visitor_cookie = login_cookie(&visitor);
    let visitor_state = text(&visitor.json::<Value>().await?, "/state");
    // Kite's client ids differ per login in the fake; a new account or the
    // same one, either way a code comes back.
    let back = client
        .get(format!(
            "{url}/auth/zerodha/redirect?status=success&request_token={}&state={visitor_state}",
            fake.request_token()
        ))
        .header("cookie", &visitor_cookie)
        .send()
        .await?;
    let location = back
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if let Some(code) = location.split("zerodha_code=").nth(1) {
        secrets.push(code.to_string());
        let exchanged: Value = client
            .post(format!("{url}/auth/zerodha/exchange"))
            .header("cookie", &visitor_cookie)
            .json(&json!({ "code": code }))
            .send()
            .await?
            .json()
            .await?;
        secrets.push(text(&exchanged, "/token"));
    }
    secrets.push(
        visitor_cookie
            .trim_start_matches("kitemate_zerodha=")
            .to_string(),
    );
    secrets.extend(fake.access_tokens());

    // The model is called with its key; a ticket opens a stream.
    llm.then(Step::Text(vec!["You hold nothing yet.".into()]));
    let answer = client
        .post(format!("{url}/chat/query"))
        .bearer_auth(&token)
        .json(&json!({ "message": "what do I hold?" }))
        .send()
        .await?;
    assert_eq!(answer.status(), StatusCode::OK);
    let ticket: Value = client
        .post(format!("{url}/chat/stream/ticket"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    secrets.push(text(&ticket, "/ticket"));
    let metrics = client
        .get(format!("{url}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await?;
    assert_eq!(metrics.status(), StatusCode::OK);
    let mut logs = stop(server)?;

    // Kite unreachable: ending the Kite session fails at the network level.
    let closed = format!("http://127.0.0.1:{}", free_port()?);
    let server = serve(dir.path(), &closed, &llm.base_url()).await?;
    let url = server.url.clone();
    let gone = client
        .delete(format!("{url}/auth/zerodha"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    client
        .post(format!("{url}/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await?;
    let second = stop(server)?;
    assert!(
        second.contains("Kite session not invalidated"),
        "the failure was logged: {second}"
    );
    logs.push_str(&second);

    assert!(logs.lines().count() > 50, "debug logging ran: {logs}");
    secrets.retain(|s| s.len() >= 8);
    assert!(secrets.len() >= 14, "{} secrets", secrets.len());
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| logs.contains(s.as_str()))
        .collect();
    assert!(leaked.is_empty(), "secrets in the log: {leaked:?}");
    Ok(())
}
