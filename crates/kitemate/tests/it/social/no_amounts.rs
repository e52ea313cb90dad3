//! Nothing public shows an amount of anyone's while `hideAmounts` is on:
//! every widget source published, then every public response read (profile,
//! discovery in each order and filter, the feed, shared links and their
//! charts, embeds, notices, profile search) and searched for a rupee sign,
//! an amount or quantity field, and the owner's own figures.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::forks::{made, token_of};
use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::{TRADEBOOK, call, pro, starter};

/// `n` with Indian digit grouping (12,34,567).
fn indian(n: i64) -> String {
    let digits = n.abs().to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut groups: Vec<String> = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.insert(0, b.to_string());
        rest = a;
    }
    if !rest.is_empty() {
        groups.insert(0, rest.to_string());
    }
    format!("{},{tail}", groups.join(","))
}

/// Asha's figures as text a page could show them in: paise, whole rupees
/// (plain and grouped), of every amount of four digits or more.
fn secrets(summary: &Value, holdings: &Value) -> Vec<String> {
    let mut amounts: Vec<i64> = Vec::new();
    for key in [
        "investedPaise",
        "valuePaise",
        "realizedPaise",
        "unrealizedPaise",
    ] {
        amounts.extend(summary[key].as_i64());
    }
    for h in holdings["holdings"].as_array().into_iter().flatten() {
        for key in ["investedPaise", "valuePaise"] {
            amounts.extend(h[key].as_i64());
        }
    }
    let mut out = Vec::new();
    for paise in amounts.into_iter().filter(|p| p.abs() >= 100_000) {
        out.push(paise.to_string());
        out.push((paise / 100).to_string());
        out.push(indian(paise / 100));
    }
    out
}

async fn no_public_response_shows_an_amount(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |config| {
        config.rate_limit.per_ip_per_minute = 100_000;
        config.rate_limit.burst = 10_000;
    })
    .await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    pro(&app, "asha").await?;
    let sources = [
        (
            "metric",
            json!({ "type": "summary", "figures": ["value", "invested", "realized", "unrealized"] }),
        ),
        ("table", json!({ "type": "holdings" })),
        ("pie", json!({ "type": "allocation", "by": "stock" })),
        (
            "bar",
            json!({ "type": "movers", "direction": "gainers", "measure": "amount", "n": 5 }),
        ),
        ("metric", json!({ "type": "position", "symbol": "TCS" })),
        ("bar", json!({ "type": "realized", "byYear": true })),
        ("table", json!({ "type": "trades" })),
        ("line", json!({ "type": "history", "range": "max" })),
        ("pie", json!({ "type": "concentration", "top": 2 })),
        ("bar", json!({ "type": "xirr", "perHolding": true })),
    ];
    let mut widgets = Vec::new();
    for (i, (kind, source)) in sources.into_iter().enumerate() {
        let visibility = if i % 2 == 0 { "public" } else { "unlisted" };
        widgets.push(
            made(
                &app,
                &asha,
                json!({ "title": format!("Figures {i}"), "kind": kind, "source": source,
                    "visibility": visibility, "tags": ["figures"] }),
            )
            .await?,
        );
    }
    let ravi = app.signup("ravi").await?;
    call(&app, Method::PUT, "/profiles/asha/follow", None, &ravi).await?;
    let first = widgets[0]["id"].as_str().unwrap_or_default();
    call(
        &app,
        Method::PUT,
        &format!("/widgets/{first}/like"),
        None,
        &ravi,
    )
    .await?;
    call(
        &app,
        Method::POST,
        &format!("/widgets/{first}/fork"),
        None,
        &ravi,
    )
    .await?;

    let mut pages: Vec<(String, String)> = Vec::new();
    let mut read = |path: String, text: String| pages.push((path, text));
    for path in [
        "/profiles/asha?limit=50".to_string(),
        "/discover/widgets?sort=trending&limit=50".into(),
        "/discover/widgets?sort=new&limit=50".into(),
        "/discover/widgets?sort=top&limit=50".into(),
        "/discover/widgets?q=figures&limit=50".into(),
        "/discover/widgets?symbol=TCS".into(),
        "/discover/widgets?symbol=INFY".into(),
        "/discover/profiles?q=asha".into(),
    ] {
        let reply = app.get(&path, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        read(path, reply.text);
    }
    read(
        "/feed".into(),
        app.get("/feed?limit=50", Some(&ravi)).await?.text,
    );
    let notices = app.get("/notifications", Some(&asha)).await?;
    read("/notifications".into(), notices.text);
    for widget in &widgets {
        let shared = format!("/shared/widgets/{}", token_of(widget));
        for path in [shared.clone(), format!("{shared}/chart.svg")] {
            let reply = app.get(&path, None).await?;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            read(path, reply.text);
        }
        let id = widget["id"].as_str().unwrap_or_default();
        let embed = call(
            &app,
            Method::POST,
            &format!("/widgets/{id}/embed"),
            None,
            &asha,
        )
        .await?;
        let url = embed.json()["embedUrl"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let path = &url[url.find("/embed/").unwrap_or(0)..];
        let reply = app.get(path, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        read(path.to_string(), reply.text);
    }

    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    let holdings = app.get("/holdings", Some(&asha)).await?.json();
    let secrets = secrets(&summary, &holdings);
    assert!(secrets.len() >= 6, "asha's figures: {secrets:?}");
    // Asha sees her own amounts: the check would find them.
    let own = app
        .get(&format!("/widgets/{first}/data"), Some(&asha))
        .await?
        .text;
    assert!(secrets.iter().any(|s| own.contains(s.as_str())), "{own}");
    for (path, text) in &pages {
        for word in ["₹", "Paise", "\"quantity\"", "Quantity"] {
            assert!(!text.contains(word), "{path} shows {word}: {text}");
        }
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{path} shows {secret}: {text}"
            );
        }
    }
    app.stop().await
}

crate::both_backends!(no_public_response_shows_an_amount);
