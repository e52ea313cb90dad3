//! Guards that keep the next route from reopening the holes of the review:
//! every public route is rate limited per client IP, listed from the API's
//! own OpenAPI document, so a new one without a limit fails here.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{Kind, TestApp, TestResult};

/// `(method, path)` of every operation a caller without a bearer token can
/// reach, from the spec the routers generate, and the routes beside it.
pub fn public_operations() -> anyhow::Result<Vec<(Method, String)>> {
    let spec: Value = serde_json::from_str(&kitemate::app::openapi_json())?;
    let mut public = vec![
        (Method::GET, "/docs".to_string()),
        (Method::GET, "/openapi.json".to_string()),
    ];
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            let security = operation["security"].as_array();
            let open = security.is_none_or(|s| {
                s.is_empty() || s.iter().any(|r| r == &Value::Object(Default::default()))
            });
            if open {
                public.push((method, path.clone()));
            }
        }
    }
    Ok(public)
}

/// A path with its `{parameters}` filled in.
pub fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('x');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The review's probe: 40 anonymous calls of `initiate` made 40 rows and no
/// 429. Each public route, from an address of its own, is refused once the
/// address has spent its burst.
#[tokio::test]
async fn every_public_route_is_rate_limited() -> TestResult {
    let app = TestApp::spawn_with(Kind::Sqlite, |c| {
        c.rate_limit.per_ip_per_minute = 1;
        c.rate_limit.burst = 2;
        // Routes with a limit of their own.
        c.subscriptions.webhooks_per_minute = 1;
        c.subscriptions.webhook_burst = 2;
        c.mcp.registrations_per_minute = 1;
        c.mcp.registration_burst = 2;
        c.http.trust_forwarded_for = true;
    })
    .await?;
    let public = public_operations()?;
    assert!(public.len() >= 12, "{public:?}");
    let mut unlimited = Vec::new();
    for (i, (method, path)) in public.iter().enumerate() {
        let address = format!("10.{}.{}.1", i / 250, i % 250);
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let res = app
                .client
                .request(method.clone(), app.url(&concrete(path)))
                .header("x-forwarded-for", &address)
                .send()
                .await?;
            statuses.push(res.status());
        }
        if statuses[2] != StatusCode::TOO_MANY_REQUESTS {
            unlimited.push(format!("{method} {path}: {statuses:?}"));
        }
    }
    assert!(
        unlimited.is_empty(),
        "public routes without a limit: {unlimited:#?}"
    );
    app.stop().await
}
