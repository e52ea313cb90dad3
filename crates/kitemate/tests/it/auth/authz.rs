//! The authorization matrix, driven by the API's own OpenAPI document:
//! every operation has an entry saying who may call it; anonymous callers
//! get 401 where the spec says bearer, another user gets 403 or 404 for
//! anything owned, a non-administrator gets 403 on admin routes, and each
//! of those answers is one the spec lists. A route added without an entry
//! fails here.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::platform::guards::concrete;
use crate::support::{Kind, TestApp, TestResult};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone; limited per IP (see `guards`).
    Public,
    /// A signed-in user, on their own data only.
    Signed,
    /// A signed-in user, on an object (in the path) that must be theirs.
    Owned,
    /// Administrators only.
    Admin,
}

use Access::{Admin, Owned, Public, Signed};

const MATRIX: &[(&str, &str, Access)] = &[
    ("GET", "/admin/cron", Admin),
    ("GET", "/admin/market", Admin),
    ("POST", "/admin/cron/{name}/run", Admin),
    ("GET", "/admin/cron/{name}/runs", Admin),
    ("GET", "/admin/pubsub", Admin),
    ("GET", "/admin/pubsub/{subscription}/dead-letters", Admin),
    (
        "POST",
        "/admin/pubsub/{subscription}/dead-letters/redeliver",
        Admin,
    ),
    ("GET", "/admin/signups", Admin),
    ("GET", "/admin/reports", Admin),
    ("POST", "/admin/reports/{id}/hide", Admin),
    ("POST", "/admin/reports/{id}/dismiss", Admin),
    ("POST", "/auth/login", Public),
    ("POST", "/auth/logout", Signed),
    ("GET", "/auth/me", Signed),
    ("PATCH", "/auth/me", Signed),
    ("DELETE", "/auth/me", Signed),
    ("GET", "/auth/export", Signed),
    ("GET", "/auth/sessions", Signed),
    ("DELETE", "/auth/sessions/{id}", Owned),
    ("POST", "/auth/signup", Public),
    ("GET", "/auth/zerodha", Signed),
    ("DELETE", "/auth/zerodha", Signed),
    ("POST", "/auth/zerodha/callback", Public),
    ("POST", "/auth/zerodha/exchange", Public),
    ("GET", "/auth/zerodha/initiate", Public),
    ("GET", "/auth/zerodha/redirect", Public),
    ("GET", "/chat/conversations", Signed),
    ("GET", "/chat/conversations/{id}", Owned),
    ("DELETE", "/chat/conversations/{id}", Owned),
    ("POST", "/chat/query", Signed),
    ("GET", "/chat/stream", Public),
    ("POST", "/chat/stream/ticket", Signed),
    ("GET", "/chat/usage", Signed),
    ("GET", "/healthz", Public),
    ("GET", "/holdings", Signed),
    ("GET", "/metrics", Public),
    ("GET", "/objects/{bucket}/{key}", Public),
    ("PUT", "/objects/{bucket}/{key}", Public),
    ("POST", "/ping", Public),
    ("GET", "/portfolio/allocation", Signed),
    ("GET", "/portfolio/history", Signed),
    ("GET", "/portfolio/performance", Signed),
    ("POST", "/portfolio/import", Signed),
    ("GET", "/portfolio/imports", Signed),
    ("GET", "/portfolio/imports/{id}", Owned),
    ("GET", "/portfolio/pnl/realized", Signed),
    ("GET", "/portfolio/corporate-actions", Signed),
    ("POST", "/portfolio/corporate-actions", Signed),
    ("DELETE", "/portfolio/corporate-actions/{id}", Signed),
    ("GET", "/portfolio/tax/capital-gains", Signed),
    ("GET", "/portfolio/tax/capital-gains.csv", Signed),
    ("GET", "/portfolio/tax/harvest", Signed),
    ("GET", "/portfolio/positions", Signed),
    ("GET", "/portfolio/summary", Signed),
    ("POST", "/portfolio/sync", Signed),
    ("GET", "/portfolio/trades", Signed),
    ("GET", "/portfolio/{userId}", Owned),
    ("GET", "/dashboards", Signed),
    ("POST", "/dashboards", Signed),
    ("GET", "/dashboards/{id}", Owned),
    ("PATCH", "/dashboards/{id}", Owned),
    ("DELETE", "/dashboards/{id}", Owned),
    ("POST", "/dashboards/{id}/duplicate", Owned),
    ("POST", "/dashboards/{id}/fork", Signed),
    ("GET", "/profiles/{username}", Public),
    ("GET", "/u/{username}", Public),
    ("PATCH", "/profiles/me", Signed),
    ("POST", "/profiles/me/avatar", Signed),
    ("DELETE", "/profiles/me/avatar", Signed),
    ("POST", "/profiles/me/avatar/{upload}", Signed),
    ("PUT", "/profiles/{username}/follow", Signed),
    ("DELETE", "/profiles/{username}/follow", Signed),
    ("PUT", "/profiles/{username}/block", Signed),
    ("DELETE", "/profiles/{username}/block", Signed),
    ("GET", "/discover/widgets", Public),
    ("GET", "/discover", Public),
    ("GET", "/discover/profiles", Public),
    ("GET", "/feed", Signed),
    ("GET", "/notifications", Signed),
    ("GET", "/.well-known/oauth-protected-resource/mcp", Public),
    ("GET", "/.well-known/oauth-authorization-server", Public),
    ("POST", "/oauth/register", Public),
    ("POST", "/oauth/token", Public),
    ("POST", "/oauth/revoke", Public),
    ("GET", "/connected-apps", Signed),
    ("DELETE", "/connected-apps/{id}", Owned),
    ("POST", "/notifications/read", Signed),
    ("GET", "/notifications/stream", Signed),
    ("POST", "/reports", Signed),
    ("POST", "/widgets/{id}/fork", Signed),
    ("POST", "/widgets/{id}/embed", Owned),
    ("GET", "/embed/widgets/{token}", Public),
    ("GET", "/embed/widgets/{token}/chart.svg", Public),
    ("PUT", "/widgets/{id}/like", Signed),
    ("DELETE", "/widgets/{id}/like", Signed),
    ("GET", "/readyz", Public),
    ("GET", "/shared/widgets/{token}", Public),
    ("GET", "/shared/widgets/{token}/card.png", Public),
    ("GET", "/shared/widgets/{token}/chart.svg", Public),
    ("GET", "/widgets", Signed),
    ("POST", "/widgets", Signed),
    ("GET", "/widgets/{id}", Owned),
    ("PATCH", "/widgets/{id}", Owned),
    ("DELETE", "/widgets/{id}", Owned),
    ("GET", "/widgets/{id}/data", Owned),
    ("GET", "/widgets/{id}/card.png", Owned),
    ("GET", "/widgets/{id}/chart.svg", Owned),
    ("GET", "/widgets/{id}/revisions", Owned),
    ("POST", "/widgets/{id}/revisions/{n}/restore", Owned),
    ("POST", "/widgets/{id}/share", Owned),
    ("DELETE", "/widgets/{id}/share", Owned),
    ("GET", "/subscriptions/plans", Public),
    ("GET", "/auth/activity", Signed),
    ("GET", "/admin/audit", Admin),
    ("POST", "/subscriptions/checkout", Signed),
    ("POST", "/subscriptions/razorpay/verify", Signed),
    ("GET", "/subscriptions/me", Signed),
    ("POST", "/subscriptions/cancel", Signed),
    ("POST", "/subscriptions/resume", Signed),
    ("POST", "/subscriptions/portal", Signed),
    ("GET", "/subscriptions/billing-details", Signed),
    ("PATCH", "/subscriptions/billing-details", Signed),
    ("GET", "/subscriptions/invoices", Signed),
    // Owned: another user's invoice is not found (subscriptions/billing.rs).
    ("GET", "/subscriptions/invoices/{invoiceId}", Signed),
    (
        "GET",
        "/subscriptions/invoices/{invoiceId}/invoice.pdf",
        Signed,
    ),
    ("POST", "/webhooks/razorpay", Public),
    ("POST", "/webhooks/stripe", Public),
];

fn spec() -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&kitemate::app::openapi_json())?)
}

/// Every operation of the spec, as `(METHOD, path)`.
fn operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                all.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    all
}

fn documented(spec: &Value, method: &str, path: &str, status: StatusCode) -> bool {
    spec["paths"][path][method.to_ascii_lowercase()]["responses"]
        .get(status.as_str())
        .is_some()
}

#[test]
fn every_operation_has_an_entry() -> TestResult {
    let spec = spec()?;
    let in_spec = operations(&spec);
    let in_matrix: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_string(), (*p).to_string()))
        .collect();
    let missing: Vec<_> = in_spec.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&in_spec).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations without an entry: {missing:?}; entries without an operation: {stale:?}"
    );
    // The spec's security agrees with the matrix.
    for (method, path, access) in MATRIX {
        let security = &spec["paths"][path][method.to_ascii_lowercase()]["security"];
        let open = security
            .as_array()
            .is_none_or(|s| s.is_empty() || s.iter().any(|r| r == &json!({})));
        assert_eq!(
            open,
            *access == Public,
            "{method} {path}: security {security}"
        );
    }
    Ok(())
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<StatusCode> {
    let mut req = app
        .client
        .request(Method::from_bytes(method.as_bytes())?, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req = req.json(&json!({}));
    }
    Ok(req.send().await?.status())
}

async fn the_matrix_holds(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let spec = spec()?;
    let asha = crate::chat::answers::with_trades(
        &app,
        "asha",
        "symbol,isin,trade_date,trade_type,quantity,price,trade_id\nINFY,INE009A01021,2024-05-02,buy,3,1500,1\n",
    )
    .await?;
    let ravi = app.signup("ravi").await?;
    let admin = app.admin("root").await?;
    // Asha's objects, one of each kind a path can name.
    let asha_id = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let session = app.get("/auth/sessions", Some(&asha)).await?.json()["sessions"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let import = app.get("/portfolio/imports", Some(&asha)).await?.json()["imports"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let conversation = app
        .call(
            Method::POST,
            "/chat/query",
            Some(json!({ "message": "what is my portfolio worth?" })),
            Some(&asha),
        )
        .await?
        .json()["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let widget = app
        .call(
            Method::POST,
            "/widgets",
            Some(
                json!({ "title": "Worth", "kind": "metric", "visibility": "unlisted",
                "source": { "type": "summary", "figures": ["value"] } }),
            ),
            Some(&asha),
        )
        .await?
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let dashboard = app.get("/dashboards", Some(&asha)).await?.json()["dashboards"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let owned = |path: &str| -> String {
        if let Some(rest) = path.strip_prefix("/dashboards/{id}") {
            return format!("/dashboards/{dashboard}{rest}");
        }
        if let Some(rest) = path.strip_prefix("/widgets/{id}") {
            return format!("/widgets/{widget}{}", rest.replace("{n}", "1"));
        }
        match path {
            "/auth/sessions/{id}" => format!("/auth/sessions/{session}"),
            "/chat/conversations/{id}" => format!("/chat/conversations/{conversation}"),
            "/portfolio/imports/{id}" => format!("/portfolio/imports/{import}"),
            "/portfolio/{userId}" => format!("/portfolio/{asha_id}"),
            other => concrete(other),
        }
    };
    let mut wrong = Vec::new();
    let check = |what: &str, method: &str, path: &str, got: StatusCode, allowed: &[StatusCode]| {
        if !allowed.contains(&got) {
            Some(format!(
                "{what}: {method} {path} answered {got}, not {allowed:?}"
            ))
        } else if !documented(&spec, method, path, got) {
            Some(format!(
                "{what}: {method} {path} answered {got}, which its spec does not list"
            ))
        } else {
            None
        }
    };
    for (method, path, access) in MATRIX {
        if *access == Public {
            continue;
        }
        let got = send(&app, method, &owned(path), None).await?;
        wrong.extend(check(
            "anonymous",
            method,
            path,
            got,
            &[StatusCode::UNAUTHORIZED],
        ));
        match access {
            Admin => {
                let got = send(&app, method, &concrete(path), Some(&ravi)).await?;
                wrong.extend(check("a user", method, path, got, &[StatusCode::FORBIDDEN]));
                let got = send(&app, method, &concrete(path), Some(&admin)).await?;
                if got == StatusCode::FORBIDDEN || got == StatusCode::UNAUTHORIZED {
                    wrong.push(format!("an administrator: {method} {path} answered {got}"));
                }
            }
            Owned => {
                let got = send(&app, method, &owned(path), Some(&ravi)).await?;
                wrong.extend(check(
                    "another user",
                    method,
                    path,
                    got,
                    &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND],
                ));
            }
            Signed | Public => {}
        }
    }
    // The owner still reaches what the other user could not (so the ids
    // above were real); deletions last.
    for (method, path) in [
        ("GET", "/chat/conversations/{id}"),
        ("GET", "/portfolio/imports/{id}"),
        ("GET", "/portfolio/{userId}"),
        ("GET", "/widgets/{id}"),
        ("GET", "/dashboards/{id}"),
        ("GET", "/widgets/{id}/data"),
        ("GET", "/widgets/{id}/chart.svg"),
        ("GET", "/widgets/{id}/revisions"),
        ("POST", "/widgets/{id}/share"),
        ("DELETE", "/chat/conversations/{id}"),
        ("DELETE", "/auth/sessions/{id}"),
    ] {
        let got = send(&app, method, &owned(path), Some(&asha)).await?;
        if !got.is_success() {
            wrong.push(format!("the owner: {method} {path} answered {got}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    app.stop().await
}

crate::both_backends!(the_matrix_holds);
