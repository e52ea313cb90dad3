//! No Kite error tells a secret: every call made to an address where nothing
//! listens, and to a server that answers garbage holding the token, fails
//! with text (Display and Debug) that holds neither a token nor a query.

use std::time::Duration;

use chrono::NaiveDateTime;
use kite::{Config, Error, Interval, Kite};
use secrecy::SecretString;

const TOKEN: &str = "vic-access-token-SECRET-123";
const SECRET: &str = "api-secret-SECRET-456";
const REQUEST_TOKEN: &str = "reqTokenSECRET789";

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn client(root: String) -> Result<Kite, Error> {
    let mut config = Config::new("kitemate_key", SecretString::from(SECRET.to_string()));
    config.api_root = root;
    config.retries = 0;
    config.timeout = Duration::from_secs(2);
    Kite::new(config)
}

/// Every call the client makes, each with the secret token.
async fn every_call(kite: &Kite) -> Vec<(&'static str, Error)> {
    let user = kite.user(TOKEN);
    let day = NaiveDateTime::parse_from_str("2024-01-02 09:15:00", "%Y-%m-%d %H:%M:%S")
        .unwrap_or_default();
    let results: Vec<(&'static str, Result<(), Error>)> = vec![
        (
            "generate_session",
            kite.generate_session(REQUEST_TOKEN).await.map(drop),
        ),
        ("invalidate_session", kite.invalidate_session(TOKEN).await),
        ("profile", user.profile().await.map(drop)),
        ("margins", user.margins().await.map(drop)),
        ("holdings", user.holdings().await.map(drop)),
        ("positions", user.positions().await.map(drop)),
        ("mf_holdings", user.mf_holdings().await.map(drop)),
        ("quote", user.quote(&["NSE:INFY"]).await.map(drop)),
        ("ohlc", user.ohlc(&["NSE:INFY"]).await.map(drop)),
        ("ltp", user.ltp(&["NSE:INFY"]).await.map(drop)),
        ("instruments", user.instruments(Some("NSE")).await.map(drop)),
        (
            "historical",
            user.historical(408065, Interval::Day, day, day, false)
                .await
                .map(drop),
        ),
    ];
    results
        .into_iter()
        .filter_map(|(name, result)| result.err().map(|err| (name, err)))
        .collect()
}

fn assert_tells_no_secret(name: &str, err: &Error) {
    for text in [err.to_string(), format!("{err:?}")] {
        for secret in [TOKEN, SECRET, REQUEST_TOKEN, "access_token="] {
            assert!(!text.contains(secret), "{name}: {text:?} holds {secret}");
        }
    }
}

#[tokio::test]
async fn network_failures_name_no_token_and_no_url() -> TestResult {
    // A port that was just free: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let kite = client(format!("http://127.0.0.1:{port}"))?;
    let errors = every_call(&kite).await;
    assert_eq!(errors.len(), 12, "every call failed");
    for (name, err) in &errors {
        assert!(matches!(err, Error::Network(_)), "{name}: {err:?}");
        assert_tells_no_secret(name, err);
    }
    Ok(())
}

#[tokio::test]
async fn garbled_answers_are_not_quoted() -> TestResult {
    // A server that answers every request with 200 and a body that is not
    // Kite's shape but holds the token, as a broken proxy might.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let root = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async {
            format!("{{\"data\": {{\"access_token\": 12, \"user_id\": \"{TOKEN}\"}}, \"x\": \"{SECRET}\"")
        });
        axum::serve(listener, app).await
    });
    let kite = client(root)?;
    let errors = every_call(&kite).await;
    assert!(errors.len() >= 10, "{errors:?}");
    for (name, err) in &errors {
        assert_tells_no_secret(name, err);
    }
    server.abort();
    Ok(())
}
